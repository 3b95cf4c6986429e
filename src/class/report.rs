//! Progress reported to the class server while a joined student plays a lesson: stage started,
//! check passed or failed, hint, solution, lesson finished. Events go in order through one background
//! task with a short timeout each; when the server is away they are dropped, never retried and never
//! in the learner's way. Only these events are sent: nothing the student types, no secret.

use std::sync::OnceLock;
use std::time::Duration;

use tokio::sync::{mpsc, oneshot};

/// How long one report may take before it is dropped.
const TIMEOUT: Duration = Duration::from_secs(2);
/// `detail` is at most this many characters (the contract's limit).
const MAX_DETAIL: usize = 200;

/// What happened, as the class server names it (`stage-started`, `check-passed`, ...).
pub use mock_registry::ProgressKind as Event;

enum Message {
    Post(serde_json::Value),
    Flush(oneshot::Sender<()>),
}

static SENDER: OnceLock<mpsc::UnboundedSender<Message>> = OnceLock::new();

/// The worker posting events in order (started on first use, on the current runtime).
fn sender() -> Option<&'static mpsc::UnboundedSender<Message>> {
    let joined = super::active()?;
    tokio::runtime::Handle::try_current().ok()?;
    Some(SENDER.get_or_init(|| {
        let (tx, mut rx) = mpsc::unbounded_channel::<Message>();
        let url = format!("{}/class/api/me/progress", joined.endpoint);
        let secret = joined.student_secret.clone();
        tokio::spawn(async move {
            while let Some(message) = rx.recv().await {
                match message {
                    Message::Post(body) => {
                        let auth = crate::control_client::Auth::Student(secret.clone());
                        let call = crate::control_client::call_as(hyper::Method::POST, url.clone(), Some(body), auth);
                        match tokio::time::timeout(TIMEOUT, call).await {
                            Ok(Ok(_)) => {}
                            Ok(Err(e)) => tracing::debug!("progress not reported: {e:#}"),
                            Err(_) => tracing::debug!("progress not reported: the class server did not answer in time"),
                        }
                    }
                    Message::Flush(done) => {
                        let _ = done.send(());
                    }
                }
            }
        });
        tx
    }))
}

/// The JSON body of one event (`stage` is the 0-based index into the lesson's stages).
pub fn body(lesson: &str, stage: usize, event: Event, detail: Option<&str>) -> serde_json::Value {
    let mut body = serde_json::json!({ "lesson": lesson, "stage": stage, "event": event });
    if let Some(detail) = detail.map(str::trim).filter(|d| !d.is_empty()) {
        // A check's words may quote a command; the student's secrets never leave the machine.
        let mut detail = detail.to_owned();
        if let Some(joined) = super::active() {
            for secret in [&joined.secret_access_key, &joined.student_secret] {
                if !secret.is_empty() {
                    detail = detail.replace(secret.as_str(), "****");
                }
            }
        }
        body["detail"] = serde_json::Value::String(detail.chars().take(MAX_DETAIL).collect());
    }
    body
}

/// Queues one event for the class server, when this process is a joined student; returns at once.
pub fn report(lesson: &str, stage: usize, event: Event, detail: Option<&str>) {
    if let Some(sender) = sender() {
        let _ = sender.send(Message::Post(body(lesson, stage, event, detail)));
    }
}

/// Waits (a few seconds at most) until the events queued so far are sent or dropped: before the
/// process ends, so the last stage reaches the dashboard.
pub async fn flush() {
    let Some(sender) = SENDER.get() else { return };
    let (done, wait) = oneshot::channel();
    if sender.send(Message::Flush(done)).is_ok() {
        let _ = tokio::time::timeout(TIMEOUT * 3, wait).await;
    }
}

/// Where the learner is: a lesson and a stage (0-based), for the runner's events.
pub struct At {
    pub lesson: String,
    pub stage: usize,
}

impl At {
    pub fn send(&self, event: Event, detail: Option<&str>) {
        report(&self.lesson, self.stage, event, detail);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_event_is_lesson_stage_event_and_a_short_detail() {
        let long = "x".repeat(500);
        let body = body("push-first-image", 2, Event::CheckFailed, Some(&long));
        assert_eq!(body["lesson"], "push-first-image");
        assert_eq!(body["stage"], 2);
        assert_eq!(body["event"], "check-failed");
        assert_eq!(body["detail"].as_str().unwrap().chars().count(), MAX_DETAIL);
        assert!(super::body("l", 0, Event::Hint, Some("  ")).get("detail").is_none());
    }
}
