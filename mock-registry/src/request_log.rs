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
    /// `ecr:<Operation>`, `sts:<Action>`, `registry`, `other`, or for the web console
    /// `console:<page>` (`console:repository`, `console:push-commands`, ...: see [`console_page`]).
    pub api: String,
    pub status: u16,
    /// The caller's account (the key's, or the registry's), when known.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub account: Option<String>,
    /// For an error answer: the ECR or registry error code sent (`RepositoryNotFoundException`,
    /// `NAME_UNKNOWN`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub code: Option<String>,
    /// For an error answer: the error text sent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub message: Option<String>,
    /// A console action: the IAM user the console acted as (who).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub user: Option<String>,
    /// A console action: the repository the page or form was about (what).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub repository: Option<String>,
}

/// The console page a path names, and the repository it is about: `/console/repositories` is
/// `repositories`, `/console/repositories/NAME` is `repository` (its Images tab),
/// `/console/repositories/NAME/_/push-commands` is `push-commands`, `.../_/image/DIGEST` is `image`,
/// `.../_/image/DIGEST/findings` is `findings`, any other `.../_/SUB` is `SUB`. `None` for what is no
/// learner's action: the scripts and styles, the live pages' JSON polls, the bare `/console` redirect.
pub fn console_page(path: &str) -> Option<(String, Option<String>)> {
    let rest = path.strip_prefix("/console/")?.trim_end_matches('/');
    if rest.is_empty() || rest.starts_with("assets/") || rest.ends_with(".json") {
        return None;
    }
    let Some(repository) = rest.strip_prefix("repositories/") else {
        return Some((bounded(rest.to_owned()), None));
    };
    let (name, page) = match repository.split_once("/_/") {
        None => (repository, "repository".to_owned()),
        Some((name, sub)) => match sub.strip_prefix("image/") {
            Some(image) if image.ends_with("/findings") => (name, "findings".to_owned()),
            Some(_) => (name, "image".to_owned()),
            None => (name, sub.split('/').next().unwrap_or_default().to_owned()),
        },
    };
    Some((bounded(page), Some(bounded(name.to_owned()))))
}

/// What a handler tells the log about its answer, as a response extension: the account it acted
/// in, and the error code and text it sent. Merged, so the error and the account can come from
/// different layers.
#[derive(Debug, Clone, Default)]
pub(crate) struct LogNote {
    pub account: Option<String>,
    pub code: Option<String>,
    pub message: Option<String>,
}

/// Notes the account `response` was about.
pub(crate) fn note_account(response: &mut axum::response::Response, account: &str) {
    let note = response.extensions_mut().get_or_insert_default::<LogNote>();
    note.account.get_or_insert_with(|| account.to_owned());
}

/// Notes the error code and text `response` carries.
pub(crate) fn note_error(response: &mut axum::response::Response, code: &str, message: &str) {
    let note = response.extensions_mut().get_or_insert_default::<LogNote>();
    note.code = Some(code.to_owned());
    note.message = Some(message.to_owned());
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
        entry.message = entry.message.map(bounded);
        entry.user = entry.user.map(bounded);
        entry.repository = entry.repository.map(bounded);
        if inner.1.len() == CAPACITY {
            inner.1.pop_front();
        }
        inner.1.push_back(entry);
    }

    /// Requests of `account` after `since`, oldest first.
    pub fn of_account(&self, account: &str, since: u64) -> Vec<LoggedRequest> {
        let inner = self.inner.lock().unwrap_or_else(|e| e.into_inner());
        let first = inner.1.partition_point(|r| r.seq <= since);
        inner.1.range(first..).filter(|r| r.account.as_deref() == Some(account)).cloned().collect()
    }

    /// The last `n` requests of `account`, newest first.
    pub fn last_of_account(&self, account: &str, n: usize) -> Vec<LoggedRequest> {
        let inner = self.inner.lock().unwrap_or_else(|e| e.into_inner());
        inner.1.iter().rev().filter(|r| r.account.as_deref() == Some(account)).take(n).cloned().collect()
    }

    /// The newest request that carried an error code, of every account that has one.
    pub fn last_errors(&self) -> std::collections::HashMap<String, LoggedRequest> {
        let inner = self.inner.lock().unwrap_or_else(|e| e.into_inner());
        let mut last = std::collections::HashMap::new();
        for entry in inner.1.iter().filter(|r| r.code.is_some()) {
            if let Some(account) = &entry.account {
                last.insert(account.clone(), entry.clone());
            }
        }
        last
    }

    /// The newest request of `account` that carried an error code.
    pub fn last_error_of(&self, account: &str) -> Option<LoggedRequest> {
        let inner = self.inner.lock().unwrap_or_else(|e| e.into_inner());
        inner.1.iter().rev().find(|r| r.code.is_some() && r.account.as_deref() == Some(account)).cloned()
    }

    /// Requests after `since` (0 for all that are kept).
    pub fn since(&self, since: u64) -> Vec<LoggedRequest> {
        let inner = self.inner.lock().unwrap_or_else(|e| e.into_inner());
        // Entries are in `seq` order: skip the older ones without looking at each.
        let first = inner.1.partition_point(|r| r.seq <= since);
        inner.1.range(first..).cloned().collect()
    }
}

#[cfg(test)]
mod tests {
    use super::console_page;

    #[test]
    fn console_paths_name_their_page_and_repository() {
        let page = |path| console_page(path).map(|(page, repo)| (page, repo.unwrap_or_default()));
        let named = |page: &str, repo: &str| Some((page.to_owned(), repo.to_owned()));
        assert_eq!(page("/console/repositories"), named("repositories", ""));
        assert_eq!(page("/console/create-repository"), named("create-repository", ""));
        assert_eq!(page("/console/repositories/team/web"), named("repository", "team/web"));
        assert_eq!(page("/console/repositories/test/"), named("repository", "test"));
        assert_eq!(page("/console/repositories/test/_/push-commands"), named("push-commands", "test"));
        assert_eq!(page("/console/repositories/test/_/image/sha256:ab"), named("image", "test"));
        assert_eq!(page("/console/repositories/test/_/image/sha256:ab/findings"), named("findings", "test"));
        assert_eq!(page("/console/repositories/test/_/permissions"), named("permissions", "test"));
        for quiet in ["/console", "/console/", "/console/assets/console.js", "/console/repositories.json"] {
            assert_eq!(page(quiet), None, "{quiet}");
        }
        assert_eq!(page("/console/repositories/test/_/images.json"), None);
        assert_eq!(page("/v2/test/manifests/v1"), None);
    }
}
