//! Keeps a keep-alive connection usable after a handler answers without reading the whole request
//! body (a 401 before an upload, a refused route, a size limit). hyper reads once more after such a
//! response and, when the rest of the body has not arrived yet, closes the connection without saying
//! so; a client that already pooled the connection then sends its authenticated retry into a closed
//! socket. Here the rest of the body is drained (bounded in size and time) before the response goes
//! out, or, when it is too large or too slow, the response says `Connection: close`, which every
//! HTTP/1.1 client honours by opening a new connection. Never changes a status or a body.

use std::pin::Pin;
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll};
use std::time::Duration;

use axum::body::Body;
use axum::extract::Request;
use axum::http::{HeaderMap, HeaderValue, header};
use axum::middleware::Next;
use axum::response::Response;
use bytes::Bytes;
use http_body::{Body as _, Frame, SizeHint};
use http_body_util::BodyExt as _;

/// The most body bytes read and thrown away to keep a connection. Above this, closing the
/// connection is cheaper than reading what nobody will use.
pub const MAX_DRAIN_BYTES: u64 = 1024 * 1024;

/// How long a client may take to send the rest of an unread body before the connection is closed.
pub const DRAIN_TIMEOUT: Duration = Duration::from_secs(5);

/// Set to `1` to turn the drain off (the middleware passes requests straight through), for
/// `scripts/bench-registry --drain-off`, which measures what the drain costs. Read once per process.
pub const BENCH_NO_DRAIN_ENV: &str = "ECR_LAB_BENCH_NO_DRAIN";

fn drain_disabled() -> bool {
    static OFF: std::sync::OnceLock<bool> = std::sync::OnceLock::new();
    *OFF.get_or_init(|| std::env::var(BENCH_NO_DRAIN_ENV).is_ok_and(|v| v == "1"))
}

/// axum middleware: see the module docs.
pub async fn keep_connection_usable(request: Request, next: Next) -> Response {
    if drain_disabled() {
        return next.run(request).await;
    }
    let (parts, body) = request.into_parts();
    if body.is_end_stream() {
        return next.run(Request::from_parts(parts, body)).await;
    }
    let expects_continue = expects_100_continue(&parts.headers);
    let declared = declared_length(&parts.headers);
    let shared = SharedBody::new(body);
    let state = shared.state.clone();
    let mut response = next.run(Request::from_parts(parts, Body::new(shared))).await;

    let (rest, ended, polled) = {
        let mut state = state.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
        (state.body.take(), state.ended, state.polled)
    };
    let Some(rest) = rest else { return response };
    if ended || rest.is_end_stream() {
        return response;
    }
    // A client waiting for `100 Continue` that was never sent has not sent its body: draining would
    // first invite it to. A body declared too large is not worth reading.
    let keep = (!expects_continue || polled) && declared.is_none_or(|n| n <= MAX_DRAIN_BYTES) && drain(rest).await;
    if !keep {
        response.headers_mut().insert(header::CONNECTION, HeaderValue::from_static("close"));
    }
    response
}

/// Reads and discards the rest of `body`; true when it ended within the byte and time bounds.
async fn drain(mut body: Body) -> bool {
    let reading = async {
        let mut seen: u64 = 0;
        while let Some(frame) = body.frame().await {
            let Ok(frame) = frame else { return false };
            if let Some(data) = frame.data_ref() {
                seen += data.len() as u64;
                if seen > MAX_DRAIN_BYTES {
                    return false;
                }
            }
        }
        true
    };
    tokio::time::timeout(DRAIN_TIMEOUT, reading).await.unwrap_or(false)
}

fn expects_100_continue(headers: &HeaderMap) -> bool {
    headers
        .get(header::EXPECT)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.trim().eq_ignore_ascii_case("100-continue"))
}

fn declared_length(headers: &HeaderMap) -> Option<u64> {
    headers.get(header::CONTENT_LENGTH).and_then(|v| v.to_str().ok()).and_then(|v| v.trim().parse().ok())
}

struct Shared {
    body: Option<Body>,
    /// The body reported its end to the handler.
    ended: bool,
    /// The handler asked for body data at least once (hyper then sent any `100 Continue`).
    polled: bool,
}

/// The handler's view of the request body. The real body stays in `state`, so that what the
/// handler leaves unread can still be drained after the handler dropped its view.
struct SharedBody {
    state: Arc<Mutex<Shared>>,
}

impl SharedBody {
    fn new(body: Body) -> Self {
        Self { state: Arc::new(Mutex::new(Shared { body: Some(body), ended: false, polled: false })) }
    }
}

impl http_body::Body for SharedBody {
    type Data = Bytes;
    type Error = axum::Error;

    fn poll_frame(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Result<Frame<Bytes>, axum::Error>>> {
        let mut state = self.state.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
        state.polled = true;
        let Some(body) = state.body.as_mut() else { return Poll::Ready(None) };
        let polled = Pin::new(body).poll_frame(cx);
        if matches!(polled, Poll::Ready(None)) {
            state.ended = true;
        }
        polled
    }

    fn is_end_stream(&self) -> bool {
        let state = self.state.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
        state.ended || state.body.as_ref().is_none_or(|b| b.is_end_stream())
    }

    fn size_hint(&self) -> SizeHint {
        let state = self.state.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
        state.body.as_ref().map(|b| b.size_hint()).unwrap_or_else(|| SizeHint::with_exact(0))
    }
}
