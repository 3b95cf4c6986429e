//! The lab control API under `/_lab/`: what an instructor or a lesson does to the world that no AWS
//! call can (move the lab clock, add or revoke access keys). Loopback callers only.

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

pub fn router() -> Router<Lab> {
    Router::new()
        .route("/clock", get(clock))
        .route("/clock/advance", post(advance_clock))
        .route("/keys", get(list_keys).post(add_key))
        .route("/keys/{id}/revoke", post(revoke_key))
        .route("/requests", get(requests))
        .layer(middleware::from_fn(loopback_only))
}

/// Without a socket (router tests) there is no peer, which counts as local.
async fn loopback_only(request: Request, next: Next) -> Response {
    let peer = request.extensions().get::<ConnectInfo<SocketAddr>>().map(|c| c.0.ip());
    if peer.is_some_and(|ip| !ip.is_loopback()) {
        return error(StatusCode::FORBIDDEN, "the lab control API answers loopback callers only".into());
    }
    next.run(request).await
}

fn error(status: StatusCode, message: String) -> Response {
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

async fn advance_clock(State(lab): State<Lab>, Json(request): Json<AdvanceIn>) -> Result<Json<ClockOut>, Response> {
    let seconds = parse_duration(&request.by).map_err(|e| error(StatusCode::BAD_REQUEST, e))?;
    lab.write(|s| s.advance_clock(seconds)).await.map_err(IntoResponse::into_response)?;
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
struct KeyOut {
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

async fn add_key(State(lab): State<Lab>, Json(request): Json<AddKeyIn>) -> Result<Json<KeyOut>, Response> {
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

async fn revoke_key(State(lab): State<Lab>, Path(id): Path<String>) -> Result<StatusCode, Response> {
    lab.write(|s| s.revoke_key(&id)).await.map_err(IntoResponse::into_response)?;
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

/// `30d`, `12h`, `90m`, `45s`, `1h30m`, or a plain number of seconds.
pub fn parse_duration(text: &str) -> Result<i64, String> {
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
