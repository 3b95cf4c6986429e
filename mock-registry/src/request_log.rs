//! The request log lessons assert on ("the learner hit the 401, then logged in"): the last
//! requests in memory, each with the API it called and the status it got.

use std::collections::VecDeque;
use std::sync::Mutex;

use serde::Serialize;

/// How many requests are kept.
const CAPACITY: usize = 10_000;

#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct LoggedRequest {
    /// Increases by one per request; ask for `since` the last one you saw.
    pub seq: u64,
    /// Lab-clock time, epoch seconds.
    pub at: f64,
    pub method: String,
    pub path: String,
    /// `ecr:<Operation>`, `sts:<Action>`, `registry` or `other`.
    pub api: String,
    pub status: u16,
}

#[derive(Default)]
pub struct RequestLog {
    inner: Mutex<(u64, VecDeque<LoggedRequest>)>,
}

impl RequestLog {
    pub fn record(&self, mut entry: LoggedRequest) {
        let mut inner = self.inner.lock().unwrap_or_else(|e| e.into_inner());
        inner.0 += 1;
        entry.seq = inner.0;
        if inner.1.len() == CAPACITY {
            inner.1.pop_front();
        }
        inner.1.push_back(entry);
    }

    /// Requests after `since` (0 for all that are kept).
    pub fn since(&self, since: u64) -> Vec<LoggedRequest> {
        let inner = self.inner.lock().unwrap_or_else(|e| e.into_inner());
        inner.1.iter().filter(|r| r.seq > since).cloned().collect()
    }
}
