//! The HTTP front: one port, one router. `POST /` is the AWS APIs (ECR by `X-Amz-Target`, STS by
//! `Action=`), `/v2/` the registry, `/_lab/` the lab's control API, `/console` the web console. The
//! router is testable without a socket; [`serve`] runs it on a listener and [`spawn`] on a free
//! local port in this process (the lab's doctor, its shell and the tests start the mock that way).

use std::future::Future;
use std::io;
use std::net::SocketAddr;
use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::task::{Context, Poll};
use std::time::Duration;

use axum::Router;
use axum::body::Body;
use axum::extract::{Request, State};
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode, Uri};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::{TcpListener, TcpStream};
use tokio::time::{Instant, Sleep};

use crate::ecr_api::{self, EcrError, EcrErrorCode, Target};
use crate::request_log::{LogNote, LoggedRequest, note_account};
use crate::sigv4::{self, SignedRequest};
use crate::state::Caller;
use crate::{Lab, console, control, oci_api, sts_api};

pub use crate::lab::IDLE_TIMEOUT;

/// Above this many open connections the server is under pressure (a class at once, or someone
/// opening sockets to starve it): connections then get [`BUSY_IDLE_TIMEOUT`] between requests,
/// so idle sockets are let go before the process runs out of file descriptors.
pub const BUSY_CONNECTIONS: usize = 256;

/// The wait for a next request while more than [`BUSY_CONNECTIONS`] connections are open.
pub const BUSY_IDLE_TIMEOUT: Duration = Duration::from_secs(2);

/// How long a connection may stay silent in the middle of a request (a header or a body sent
/// a byte now and then, or not at all) before it is closed.
pub const STALL_TIMEOUT: Duration = Duration::from_secs(5 * 60);

/// The largest API request body accepted. ECR's largest member is a 20 MiB layer part (base64).
pub const MAX_API_BODY: usize = 32 * 1024 * 1024;

pub fn router(lab: Lab) -> Router {
    Router::new()
        .route("/", post(aws_api).get(index))
        .route("/.well-known/openid-configuration", axum::routing::get(crate::iam_control::openid_configuration))
        .route("/.well-known/jwks.json", axum::routing::get(crate::iam_control::jwks))
        .merge(oci_api::router())
        .nest("/_lab", control::router(lab.clone()))
        .merge(console::router(lab.clone()))
        .merge(crate::class::router(lab.clone()))
        .fallback(not_found)
        .layer(middleware::from_fn(crate::other_services::refuse))
        .layer(middleware::from_fn_with_state(lab.clone(), log_request))
        .layer(middleware::from_fn(crate::guard::allowed_host))
        .with_state(lab)
}

/// Records each request in the lab's request log, but the control API's own, the web console's and
/// the class's (their live pages poll every 2 s, which would bury the requests lessons look for).
/// The console records its own pages and forms, the learner's actions, without the polls
/// (`console::log`).
async fn log_request(State(lab): State<Lab>, request: Request, next: Next) -> Response {
    let path = request.uri().path().to_owned();
    if path.starts_with("/_lab") || path.starts_with("/console") || path.starts_with("/class") {
        return next.run(request).await;
    }
    let method = request.method().to_string();
    let api = match request.headers().get("x-amz-target").and_then(|v| v.to_str().ok()) {
        Some(target) => format!("ecr:{}", target.strip_prefix(ecr_api::TARGET_PREFIX).unwrap_or(target)),
        None if path == "/" => "sts".to_owned(),
        None if path.starts_with("/v2") => "registry".to_owned(),
        None => "other".to_owned(),
    };
    let response = next.run(request).await;
    let at = lab.read(|s| s.now()).epoch_seconds();
    let note = response.extensions().get::<LogNote>().cloned().unwrap_or_default();
    let status = response.status().as_u16();
    let (code, message) = if status >= 400 { (note.code, note.message) } else { (None, None) };
    lab.log().record(LoggedRequest {
        seq: 0,
        at,
        method,
        path,
        api,
        status,
        account: note.account,
        code,
        message,
        user: None,
        repository: None,
    });
    response
}

/// Serves `lab` on `listener` until `shutdown` resolves, then finishes in-flight requests.
pub async fn serve(
    listener: TcpListener,
    lab: Lab,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    let idle = lab.idle_timeout();
    serve_with(listener, router(lab), idle, shutdown).await
}

/// [`serve`] for [`router`] with more routes merged in by the program that embeds the mock (the
/// lab's slides). Routes merged after [`router`] stay out of the request log.
pub async fn serve_app(
    listener: TcpListener,
    app: Router,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    serve_with(listener, app, IDLE_TIMEOUT, shutdown).await
}

async fn serve_with(
    listener: TcpListener,
    app: Router,
    idle: Duration,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    use axum::serve::ListenerExt as _;
    let app = app
        .layer(middleware::from_fn(crate::keep_alive::keep_connection_usable))
        .into_make_service_with_connect_info::<SocketAddr>();
    // (`tap_io` is what lets the handlers see the peer's address through this listener.)
    let listener = IdleListener { inner: listener, idle, open: Arc::default() }.tap_io(|_| {});
    axum::serve(listener, app).with_graceful_shutdown(shutdown).await
}

/// Accepts TCP connections that close themselves when idle (see [`IdleIo`]).
struct IdleListener {
    inner: TcpListener,
    idle: Duration,
    /// Connections open now (each [`IdleIo`] counts itself until dropped).
    open: Arc<AtomicUsize>,
}

impl axum::serve::Listener for IdleListener {
    type Io = IdleIo;
    type Addr = SocketAddr;

    async fn accept(&mut self) -> (IdleIo, SocketAddr) {
        let (tcp, addr) = axum::serve::Listener::accept(&mut self.inner).await;
        // Registry clients send many small requests; answer each without waiting on Nagle.
        let _ = tcp.set_nodelay(true);
        (IdleIo::new(tcp, self.idle, self.open.clone()), addr)
    }

    fn local_addr(&self) -> io::Result<SocketAddr> {
        self.inner.local_addr()
    }
}

/// A connection with a deadline. After the server wrote (a response is out) or before the first
/// byte, the client has `idle` to send its next bytes; once a request is arriving, each read
/// leaves [`STALL_TIMEOUT`] for the next. Past the deadline, the next read fails and the server
/// drops the connection. Bytes moving either way push the deadline back, so a long upload or
/// download is never cut while it moves.
pub(crate) struct IdleIo {
    tcp: TcpStream,
    idle: Duration,
    deadline: Pin<Box<Sleep>>,
    open: Arc<AtomicUsize>,
}

impl IdleIo {
    pub(crate) fn new(tcp: TcpStream, idle: Duration, open: Arc<AtomicUsize>) -> Self {
        open.fetch_add(1, Ordering::Relaxed);
        let mut io = Self { tcp, idle, deadline: Box::pin(tokio::time::sleep(idle)), open };
        let idle = io.idle_now();
        io.push_back(idle);
        io
    }

    /// The wait for the next request: shorter while the server is under pressure.
    fn idle_now(&self) -> Duration {
        if self.open.load(Ordering::Relaxed) > BUSY_CONNECTIONS { self.idle.min(BUSY_IDLE_TIMEOUT) } else { self.idle }
    }

    fn push_back(&mut self, by: Duration) {
        self.deadline.as_mut().reset(Instant::now() + by);
    }
}

impl Drop for IdleIo {
    fn drop(&mut self) {
        self.open.fetch_sub(1, Ordering::Relaxed);
    }
}

impl AsyncRead for IdleIo {
    fn poll_read(self: Pin<&mut Self>, cx: &mut Context<'_>, buf: &mut ReadBuf<'_>) -> Poll<io::Result<()>> {
        let this = self.get_mut();
        let before = buf.filled().len();
        match Pin::new(&mut this.tcp).poll_read(cx, buf) {
            Poll::Ready(Ok(())) if buf.filled().len() > before => {
                this.push_back(STALL_TIMEOUT.max(this.idle));
                Poll::Ready(Ok(()))
            }
            Poll::Pending if this.deadline.as_mut().poll(cx).is_ready() => Poll::Ready(Err(io::Error::new(
                io::ErrorKind::TimedOut,
                "the client sent nothing for too long; the connection is closed",
            ))),
            other => other,
        }
    }
}

impl AsyncWrite for IdleIo {
    fn poll_write(self: Pin<&mut Self>, cx: &mut Context<'_>, buf: &[u8]) -> Poll<io::Result<usize>> {
        let this = self.get_mut();
        let written = Pin::new(&mut this.tcp).poll_write(cx, buf);
        if matches!(written, Poll::Ready(Ok(n)) if n > 0) {
            let idle = this.idle_now();
            this.push_back(idle);
        }
        written
    }

    fn poll_write_vectored(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        let this = self.get_mut();
        let written = Pin::new(&mut this.tcp).poll_write_vectored(cx, bufs);
        if matches!(written, Poll::Ready(Ok(n)) if n > 0) {
            let idle = this.idle_now();
            this.push_back(idle);
        }
        written
    }

    fn is_write_vectored(&self) -> bool {
        self.tcp.is_write_vectored()
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.get_mut().tcp).poll_flush(cx)
    }

    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.get_mut().tcp).poll_shutdown(cx)
    }
}

/// A mock served by this process (see [`spawn`]). Dropping it stops the server without waiting.
pub struct Running {
    /// `http://127.0.0.1:PORT`.
    pub url: String,
    stop: Option<tokio::sync::oneshot::Sender<()>>,
    served: Option<tokio::task::JoinHandle<std::io::Result<()>>>,
    closing: crate::lab::Closing,
}

/// How long [`Running::close`] waits for the lab to close after the server stopped.
const CLOSE_TIMEOUT: Duration = Duration::from_secs(10);

impl Running {
    /// Stops serving and waits for the requests in flight to finish.
    pub async fn stop(mut self) -> std::io::Result<()> {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        match self.served.take() {
            Some(served) => served.await.map_err(std::io::Error::other)?,
            None => Ok(()),
        }
    }

    /// [`Running::stop`], then waits for the lab to close: its journal cut to its records and
    /// unlocked, so the same directory can be opened again. For a caller that kept no clone of the
    /// lab it served (one kept would hold the lab open: this waits [`CLOSE_TIMEOUT`], then fails).
    pub async fn close(self) -> std::io::Result<()> {
        let closing = crate::lab::Closing::clone(&self.closing);
        self.stop().await?;
        // The last connection's task may drop its clone of the lab just after the server returned.
        let deadline = tokio::time::Instant::now() + CLOSE_TIMEOUT;
        while !closing.is_closed() {
            if tokio::time::Instant::now() >= deadline {
                return Err(std::io::Error::other(format!(
                    "the lab was still open {} s after its server stopped",
                    CLOSE_TIMEOUT.as_secs()
                )));
            }
            tokio::time::sleep(Duration::from_millis(1)).await;
        }
        Ok(())
    }
}

impl Drop for Running {
    fn drop(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
    }
}

/// Serves `lab` on `127.0.0.1` on a free port, on the current tokio runtime, until
/// [`Running::stop`] or the [`Running`] is dropped.
pub async fn spawn(lab: Lab) -> std::io::Result<Running> {
    let listener = TcpListener::bind("127.0.0.1:0").await?;
    let url = format!("http://{}", listener.local_addr()?);
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let closing = lab.closing();
    let served = tokio::spawn(serve(listener, lab, async {
        let _ = stopped.await;
    }));
    Ok(Running { url, stop: Some(stop), served: Some(served), closing })
}

async fn index() -> &'static str {
    "ecr-lab mock of Amazon ECR: the ECR API and STS on POST /, the registry under /v2/, the lab control API under /_lab/\n"
}

async fn not_found(uri: Uri) -> Response {
    (StatusCode::NOT_FOUND, format!("ecr-lab mock: nothing is served at {}\n", uri.path())).into_response()
}

fn wall_seconds() -> i64 {
    crate::clock::unix_seconds()
}

/// The largest body of a `POST /` without `X-Amz-Target` (STS's query protocol: a few form fields).
pub const MAX_STS_BODY: usize = 64 * 1024;

async fn aws_api(State(lab): State<Lab>, method: Method, uri: Uri, headers: HeaderMap, body: Body) -> Response {
    let mut response = match refuse_before_body(&lab, &method, &uri, &headers) {
        Some(refusal) => refusal,
        None => {
            let limit = if Target::from_headers(&headers).is_some() { MAX_API_BODY } else { MAX_STS_BODY };
            match axum::body::to_bytes(body, limit).await {
                Ok(body) => aws_call(&lab, &method, &uri, &headers, &body).await,
                Err(_) => too_large(limit),
            }
        }
    };
    let request_id = uuid::Uuid::new_v4().to_string();
    response.headers_mut().insert("x-amzn-requestid", HeaderValue::from_str(&request_id).expect("uuid is ascii"));
    response
}

fn too_large(limit: usize) -> Response {
    EcrError::serialization(format!(
        "The request body is larger than the {limit} bytes the service accepts, or it was cut off"
    ))
    .into_response()
}

/// The answer to an ECR call that can be given from its headers alone, before its body is read: a
/// body declared larger than the service accepts, or an `Authorization` header that is missing,
/// unreadable or names a key the lab does not know. These are the errors the call would get after
/// its body anyway (the signature itself covers the body, so it is checked later), so a stranger
/// cannot make the lab buffer 32 MiB.
fn refuse_before_body(lab: &Lab, method: &Method, uri: &Uri, headers: &HeaderMap) -> Option<Response> {
    let declared = headers.get(axum::http::header::CONTENT_LENGTH).and_then(|v| v.to_str().ok());
    let target = Target::from_headers(headers);
    let limit = if target.is_some() { MAX_API_BODY } else { MAX_STS_BODY };
    if declared.and_then(|v| v.trim().parse::<u64>().ok()).is_some_and(|n| n > limit as u64) {
        return Some(too_large(limit));
    }
    target.as_ref()?;
    let request = SignedRequest { method, path: uri.path(), query: uri.query().unwrap_or(""), headers, body: &[] };
    match authenticate(lab, &request, "ecr") {
        Err(error @ (sigv4::AuthError::Missing | sigv4::AuthError::Malformed(_) | sigv4::AuthError::UnknownKey)) => {
            Some(EcrError::from(error).into_response())
        }
        _ => None,
    }
}

async fn aws_call(lab: &Lab, method: &Method, uri: &Uri, headers: &HeaderMap, body: &[u8]) -> Response {
    let request = SignedRequest { method, path: uri.path(), query: uri.query().unwrap_or(""), headers, body };
    if let Some(target) = Target::from_headers(headers) {
        let caller = match authenticate(lab, &request, "ecr") {
            Ok(caller) => caller,
            Err(error) => return EcrError::from(error).into_response(),
        };
        let mut response = match target {
            Target::Supported(operation) => {
                let host = headers.get(axum::http::header::HOST).and_then(|h| h.to_str().ok()).unwrap_or("127.0.0.1");
                ecr_api::handle(lab, &caller, operation, body, host).await
            }
            other => other.refusal().expect("only supported targets run").into_response(),
        };
        note_account(&mut response, caller.account.as_str());
        return response;
    }
    if let Some(action) = sts_api::action(body) {
        if sts_api::unsigned(&action) {
            return sts_api::handle(lab, None, &action, body).await;
        }
        return match authenticate(lab, &request, "sts") {
            Ok(caller) => {
                let mut response = sts_api::handle(lab, Some(&caller), &action, body).await;
                note_account(&mut response, caller.account.as_str());
                response
            }
            Err(error) => sts_api::StsError::from(error).into_response(),
        };
    }
    EcrError::new(
        EcrErrorCode::UnknownOperationException,
        "The request has neither an X-Amz-Target header (ECR) nor an Action parameter (STS)",
    )
    .into_response()
}

fn authenticate(lab: &Lab, request: &SignedRequest<'_>, service: &'static str) -> Result<Caller, sigv4::AuthError> {
    lab.read(|state| sigv4::authenticate(request, service, |id| state.key(id), state.now(), wall_seconds()))
}
