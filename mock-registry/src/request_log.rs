//! The request log lessons assert on ("the learner hit the 401, then logged in"): the last
//! requests in memory, each with the API it called and the status it got.

use std::collections::VecDeque;
use std::sync::Mutex;

use serde::Serialize;

/// How many requests are kept.
const CAPACITY: usize = 10_000;

/// The most bytes of a logged path (and of any other logged text). A longer one is cut at a
/// character boundary and ends in `…`, so the whole log stays within a few tens of MB however
/// long the paths clients send.
pub const MAX_LOGGED_TEXT: usize = 1024;

/// `text` cut to [`MAX_LOGGED_TEXT`] bytes (at a character boundary, then `…`).
fn bounded(text: String) -> String {
    if text.len() <= MAX_LOGGED_TEXT {
        return text;
    }
    let mut end = MAX_LOGGED_TEXT - '…'.len_utf8();
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    // A new string: truncating would keep the long one's whole allocation.
    format!("{}…", &text[..end])
}

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
        entry.method = bounded(entry.method);
        entry.path = bounded(entry.path);
        entry.api = bounded(entry.api);
        if inner.1.len() == CAPACITY {
            inner.1.pop_front();
        }
        inner.1.push_back(entry);
    }

    /// Requests after `since` (0 for all that are kept).
    pub fn since(&self, since: u64) -> Vec<LoggedRequest> {
        let inner = self.inner.lock().unwrap_or_else(|e| e.into_inner());
        // Entries are in `seq` order: skip the older ones without looking at each.
        let first = inner.1.partition_point(|r| r.seq <= since);
        inner.1.range(first..).cloned().collect()
    }
}
