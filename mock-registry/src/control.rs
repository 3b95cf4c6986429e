//! The lab control API under `/_lab/`: what an instructor or a lesson does to the world that no AWS
//! call can (move the lab clock, add, revoke or restore access keys). Loopback callers as they are
//! (an IPv4-mapped `::ffff:127.0.0.1` on a dual-stack bind counts as loopback); others only with
//! the instructor token ([`Lab::instructor_token`], printed by `ecr-lab serve`) as
//! `Authorization: Bearer TOKEN`. Every write needs `Content-Type: application/json` and a JSON
//! body, which an HTML form on another site cannot send.

use std::net::SocketAddr;

use axum::Json;
use axum::Router;
use axum::extract::{ConnectInfo, Path, Request, State};
use axum::http::StatusCode;
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use serde::{Deserialize, Serialize};

use crate::Lab;
use crate::lab::LabError;
use crate::state::AccessKey;
use crate::types::{AccountId, Millis};

pub fn router(lab: Lab) -> Router<Lab> {
    Router::new()
        .route("/clock", get(clock))
        .route("/clock/advance", post(advance_clock))
        .route("/keys", get(list_keys).post(add_key))
        .route("/keys/{id}/revoke", post(revoke_key))
        .route("/keys/{id}/restore", post(restore_key))
        .route("/requests", get(requests))
        .route("/iam/users", get(crate::iam_control::list_users).post(crate::iam_control::create_user))
        .route("/iam/users/{name}/policies", post(crate::iam_control::put_user_policy))
        .route("/iam/users/{name}/policies/{policy}", get(crate::iam_control::get_user_policy))
        .route("/iam/users/{name}/policies/{policy}/delete", post(crate::iam_control::delete_user_policy))
        .route("/iam/simulate", post(crate::iam_simulate::simulate))
        .route("/iam/roles", get(crate::iam_control::list_roles).post(crate::iam_control::create_role))
        .route("/iam/roles/{name}/policies", post(crate::iam_control::put_role_policy))
        .route("/iam/roles/{name}/policies/{policy}/delete", post(crate::iam_control::delete_role_policy))
        .route("/iam/roles/{name}/trust", post(crate::iam_control::update_trust_policy))
        .route("/iam/roles/{name}/delete", post(crate::iam_control::delete_role))
        .route("/oidc/token", post(crate::iam_control::oidc_token))
        .layer(middleware::from_fn(json_writes))
        .layer(middleware::from_fn_with_state(lab, loopback_only))
}

/// The most the lab clock moves, or a temporary key lives, at once: ten years.
const MAX_DURATION_SECONDS: i64 = 3650 * 86_400;
/// The latest time the lab clock may reach: 9999-12-31T23:59:59Z.
const LATEST_MILLIS: i64 = 253_402_300_799_000;

impl Lab {
    /// The instructor token: what a caller off loopback shows the control API
    /// (`Authorization: Bearer TOKEN`). Derived from the lab's token secret, so a durable lab keeps
    /// it across restarts (in its journal) and an ephemeral one holds it in memory.
    pub fn instructor_token(&self) -> String {
        self.read(|state| instructor_token(state.token_secret()))
    }
}

fn instructor_token(secret: &[u8]) -> String {
    use hmac::{KeyInit, Mac};
    let mut mac = <hmac::Hmac<sha2::Sha256> as KeyInit>::new_from_slice(secret).expect("HMAC takes any key");
    mac.update(b"ecr-lab instructor token");
    format!("ecrlab-{}", &hex::encode(mac.finalize().into_bytes())[..40])
}

/// Loopback callers as they are; others with the instructor token. Without a socket (router
/// tests) there is no peer, which counts as local. In class mode every caller shows the token.
async fn loopback_only(State(lab): State<Lab>, request: Request, next: Next) -> Response {
    let peer = request.extensions().get::<ConnectInfo<SocketAddr>>().map(|c| c.0.ip());
    let shows_token = crate::class::auth::bearer(request.headers())
        .is_some_and(|shown| crate::class::auth::same(shown, &lab.instructor_token()));
    if lab.class().is_some() && !shows_token {
        return error(
            StatusCode::FORBIDDEN,
            "this lab runs a class: the lab control API answers only callers that send the instructor token \
             (Authorization: Bearer TOKEN; `ecr-lab class serve` printed it and wrote it to the class data dir), \
             loopback included; nothing was read or changed"
                .into(),
        );
    }
    if peer.is_some_and(|ip| !is_loopback(ip)) && !shows_token {
        return error(
            StatusCode::FORBIDDEN,
            "the lab control API answers loopback callers, and others that send the instructor token \
                 (Authorization: Bearer TOKEN; `ecr-lab serve` prints it); nothing was read or changed"
                .into(),
        );
    }
    next.run(request).await
}

/// Loopback, an IPv4-mapped IPv6 address (`::ffff:127.0.0.1`, a dual-stack bind) included.
pub(crate) fn is_loopback(ip: std::net::IpAddr) -> bool {
    ip.to_canonical().is_loopback()
}

/// A write (anything but GET/HEAD) must say `Content-Type: application/json`: a cross-site HTML
/// form can only send `application/x-www-form-urlencoded`, `multipart/form-data` or `text/plain`.
async fn json_writes(request: Request, next: Next) -> Response {
    let method = request.method();
    if method == axum::http::Method::GET || method == axum::http::Method::HEAD {
        return next.run(request).await;
    }
    let json = request
        .headers()
        .get(axum::http::header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.split(';').next())
        .is_some_and(|v| v.trim().eq_ignore_ascii_case("application/json"));
    if !json {
        return error(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "refused: the lab control API takes writes as Content-Type: application/json with a JSON body \
             (send {} when there is nothing to say); nothing was changed"
                .into(),
        );
    }
    next.run(request).await
}

/// A JSON body, or the control API's own 400 (not axum's text).
pub(crate) struct JsonBody<T>(pub(crate) T);

impl<T: serde::de::DeserializeOwned, S: Send + Sync> axum::extract::FromRequest<S> for JsonBody<T> {
    type Rejection = Response;

    async fn from_request(request: Request, state: &S) -> Result<Self, Self::Rejection> {
        match Json::<T>::from_request(request, state).await {
            Ok(Json(value)) => Ok(Self(value)),
            Err(rejection) => Err(error(
                StatusCode::BAD_REQUEST,
                format!(
                    "refused: the body is not the JSON this call takes ({}); nothing was changed",
                    rejection.body_text()
                ),
            )),
        }
    }
}

/// The body of a call that takes no arguments: `{}`.
#[derive(Deserialize)]
pub(crate) struct NoArguments {}

pub(crate) fn error(status: StatusCode, message: String) -> Response {
    (status, Json(serde_json::json!({ "error": message }))).into_response()
}

impl IntoResponse for LabError {
    fn into_response(self) -> Response {
        let status = match self {
            LabError::State(_) => StatusCode::BAD_REQUEST,
            LabError::Storage(_) => StatusCode::INTERNAL_SERVER_ERROR,
        };
        error(status, self.to_string())
    }
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct ClockOut {
    /// The lab clock, epoch seconds.
    now: f64,
    offset_seconds: i64,
}

async fn clock(State(lab): State<Lab>) -> Json<ClockOut> {
    Json(lab.read(|s| ClockOut { now: s.now().epoch_seconds(), offset_seconds: s.clock_offset_seconds() }))
}

#[derive(Deserialize)]
struct AdvanceIn {
    /// `30d`, `12h`, `90m`, `45s`, or plain seconds.
    by: String,
}

async fn advance_clock(
    State(lab): State<Lab>,
    JsonBody(request): JsonBody<AdvanceIn>,
) -> Result<Json<ClockOut>, Response> {
    let seconds = parse_duration(&request.by).map_err(|e| error(StatusCode::BAD_REQUEST, e))?;
    lab.write(|s| {
        let to = s.now().0.checked_add(seconds.saturating_mul(1000));
        if to.is_none_or(|to| to > LATEST_MILLIS) {
            return Err(crate::state::StateError::InvalidArgument {
                member: "by",
                constraint: format!(
                    "the lab clock would pass the year 9999; it stays where it is (offset {}s)",
                    s.clock_offset_seconds()
                ),
            });
        }
        s.advance_clock(seconds)
    })
    .await
    .map_err(IntoResponse::into_response)?;
    Ok(clock(State(lab)).await)
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct AddKeyIn {
    account_id: Option<String>,
    user_name: Option<String>,
    /// Temporary credentials (with a session token) that expire this long from now on the lab clock.
    expires_in: Option<String>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct KeyOut {
    access_key_id: String,
    secret_access_key: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    session_token: Option<String>,
    account_id: String,
    arn: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    expires_at: Option<f64>,
    revoked: bool,
}

impl From<&AccessKey> for KeyOut {
    fn from(key: &AccessKey) -> Self {
        Self {
            access_key_id: key.access_key_id.clone(),
            secret_access_key: key.secret_access_key.clone(),
            session_token: key.session_token.clone(),
            account_id: key.account.to_string(),
            arn: key.arn(),
            expires_at: key.expires_at.map(Millis::epoch_seconds),
            revoked: key.revoked,
        }
    }
}

async fn list_keys(State(lab): State<Lab>) -> Json<Vec<KeyOut>> {
    Json(lab.read(|s| s.keys().map(KeyOut::from).collect()))
}

async fn add_key(State(lab): State<Lab>, JsonBody(request): JsonBody<AddKeyIn>) -> Result<Json<KeyOut>, Response> {
    let bad = |e: String| error(StatusCode::BAD_REQUEST, e);
    let account = AccountId::parse(request.account_id.as_deref().unwrap_or(crate::state::DEFAULT_ACCOUNT))
        .map_err(|e| bad(e.0))?;
    let lifetime = request.expires_in.as_deref().map(parse_duration).transpose().map_err(bad)?;
    let user_name = request.user_name.unwrap_or_else(|| "lab-user".into());
    let key = lab
        .write(|s| {
            let expires_at = lifetime.map(|seconds| s.now().plus_seconds(seconds));
            s.add_key(AccessKey::generate(account, user_name, expires_at))
        })
        .await
        .map_err(IntoResponse::into_response)?;
    Ok(Json(KeyOut::from(&key)))
}

async fn revoke_key(
    State(lab): State<Lab>,
    Path(id): Path<String>,
    JsonBody(NoArguments {}): JsonBody<NoArguments>,
) -> Result<StatusCode, Response> {
    lab.write(|s| s.revoke_key(&id)).await.map_err(IntoResponse::into_response)?;
    Ok(StatusCode::NO_CONTENT)
}

/// Undoes a revoke: the key signs requests again.
async fn restore_key(
    State(lab): State<Lab>,
    Path(id): Path<String>,
    JsonBody(NoArguments {}): JsonBody<NoArguments>,
) -> Result<StatusCode, Response> {
    lab.write(|s| s.restore_key(&id)).await.map_err(IntoResponse::into_response)?;
    Ok(StatusCode::NO_CONTENT)
}

#[derive(Deserialize)]
struct RequestsQuery {
    since: Option<u64>,
}

/// The request log, after `?since=SEQ`.
async fn requests(
    State(lab): State<Lab>,
    axum::extract::Query(query): axum::extract::Query<RequestsQuery>,
) -> Json<Vec<crate::request_log::LoggedRequest>> {
    Json(lab.log().since(query.since.unwrap_or(0)))
}

/// `30d`, `12h`, `90m`, `45s`, `1h30m`, or a plain number of seconds; at most ten years.
pub fn parse_duration(text: &str) -> Result<i64, String> {
    let seconds = parse_any_duration(text)?;
    if seconds > MAX_DURATION_SECONDS {
        return Err(format!(
            "'{}' is more than the lab clock moves at once: give at most 3650d (ten years)",
            text.trim()
        ));
    }
    Ok(seconds)
}

fn parse_any_duration(text: &str) -> Result<i64, String> {
    let bad = || format!("'{text}' is not a duration: write it like 30d, 12h, 90m, 45s or 1h30m");
    let text = text.trim();
    if let Ok(seconds) = text.parse::<i64>() {
        return if seconds > 0 { Ok(seconds) } else { Err(bad()) };
    }
    let mut total: i64 = 0;
    let mut number = String::new();
    for c in text.chars() {
        if c.is_ascii_digit() {
            number.push(c);
            continue;
        }
        let unit = match c {
            'd' => 86_400,
            'h' => 3_600,
            'm' => 60,
            's' => 1,
            _ => return Err(bad()),
        };
        let n: i64 = number.parse().map_err(|_| bad())?;
        total = n.checked_mul(unit).and_then(|v| total.checked_add(v)).ok_or_else(bad)?;
        number.clear();
    }
    if !number.is_empty() || total <= 0 { Err(bad()) } else { Ok(total) }
}

#[cfg(test)]
mod tests {
    use super::parse_duration;

    #[test]
    fn durations() {
        assert_eq!(parse_duration("30d"), Ok(30 * 86_400));
        assert_eq!(parse_duration("12h"), Ok(43_200));
        assert_eq!(parse_duration("1h30m"), Ok(5_400));
        assert_eq!(parse_duration("45"), Ok(45));
        assert!(parse_duration("soon").is_err());
        assert!(parse_duration("0s").is_err());
        assert!(parse_duration("5").is_ok());
        assert!(parse_duration("5x").is_err());
    }
}
