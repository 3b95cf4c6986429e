//! The HTTP front: one port, one router. `POST /` is the AWS APIs (ECR by `X-Amz-Target`, STS by
//! `Action=`), `/v2/` the registry, `/_lab/` the lab's control API. The router is testable without a socket.

use std::future::Future;
use std::net::SocketAddr;
use std::time::{SystemTime, UNIX_EPOCH};

use axum::Router;
use axum::body::Body;
use axum::extract::{Request, State};
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode, Uri};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use tokio::net::TcpListener;

use crate::ecr_api::{self, EcrError, EcrErrorCode, Target};
use crate::request_log::LoggedRequest;
use crate::sigv4::{self, SignedRequest};
use crate::state::Caller;
use crate::{Lab, console, control, oci_api, sts_api};

/// The largest API request body accepted. ECR's largest member is a 20 MiB layer part (base64).
pub const MAX_API_BODY: usize = 32 * 1024 * 1024;

pub fn router(lab: Lab) -> Router {
    Router::new()
        .route("/", post(aws_api).get(index))
        .merge(oci_api::router())
        .nest("/_lab", control::router())
        .merge(console::router())
        .fallback(not_found)
        .layer(middleware::from_fn_with_state(lab.clone(), log_request))
        .with_state(lab)
}

/// Records each request in the lab's request log, but the control API's own and the web console's
/// (its live pages poll every 2 s, which would bury the requests lessons look for).
async fn log_request(State(lab): State<Lab>, request: Request, next: Next) -> Response {
    let path = request.uri().path().to_owned();
    if path.starts_with("/_lab") || path.starts_with("/console") {
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
    lab.log().record(LoggedRequest { seq: 0, at, method, path, api, status: response.status().as_u16() });
    response
}

/// Serves `lab` on `listener` until `shutdown` resolves, then finishes in-flight requests.
pub async fn serve(
    listener: TcpListener,
    lab: Lab,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    serve_app(listener, router(lab), shutdown).await
}

/// [`serve`] for [`router`] with more routes merged in by the program that embeds the mock (the
/// lab's slides). Routes merged after [`router`] stay out of the request log.
pub async fn serve_app(
    listener: TcpListener,
    app: Router,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    use axum::serve::ListenerExt as _;
    let app = app.into_make_service_with_connect_info::<SocketAddr>();
    // Registry clients send many small requests; answer each without waiting on Nagle.
    let listener = listener.tap_io(|tcp| {
        let _ = tcp.set_nodelay(true);
    });
    axum::serve(listener, app).with_graceful_shutdown(shutdown).await
}

async fn index() -> &'static str {
    "ecr-lab mock of Amazon ECR: the ECR API and STS on POST /, the registry under /v2/, the lab control API under /_lab/\n"
}

async fn not_found(uri: Uri) -> Response {
    (StatusCode::NOT_FOUND, format!("ecr-lab mock: nothing is served at {}\n", uri.path())).into_response()
}

fn wall_seconds() -> i64 {
    SystemTime::now().duration_since(UNIX_EPOCH).map(|d| d.as_secs() as i64).unwrap_or(0)
}

async fn aws_api(State(lab): State<Lab>, method: Method, uri: Uri, headers: HeaderMap, body: Body) -> Response {
    let mut response = match axum::body::to_bytes(body, MAX_API_BODY).await {
        Ok(body) => aws_call(&lab, &method, &uri, &headers, &body).await,
        Err(_) => EcrError::serialization(format!(
            "The request body is larger than the {MAX_API_BODY} bytes the service accepts, or it was cut off"
        ))
        .into_response(),
    };
    let request_id = uuid::Uuid::new_v4().to_string();
    response.headers_mut().insert("x-amzn-requestid", HeaderValue::from_str(&request_id).expect("uuid is ascii"));
    response
}

async fn aws_call(lab: &Lab, method: &Method, uri: &Uri, headers: &HeaderMap, body: &[u8]) -> Response {
    let request = SignedRequest { method, path: uri.path(), query: uri.query().unwrap_or(""), headers, body };
    if let Some(target) = Target::from_headers(headers) {
        let caller = match authenticate(lab, &request, "ecr") {
            Ok(caller) => caller,
            Err(error) => return EcrError::from(error).into_response(),
        };
        return match target {
            Target::Supported(operation) => {
                let host = headers.get(axum::http::header::HOST).and_then(|h| h.to_str().ok()).unwrap_or("127.0.0.1");
                ecr_api::handle(lab, &caller, operation, body, host).await
            }
            other => other.refusal().expect("only supported targets run").into_response(),
        };
    }
    if let Some(action) = sts_api::action(body) {
        return match authenticate(lab, &request, "sts") {
            Ok(caller) => sts_api::handle(&caller, &action),
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
