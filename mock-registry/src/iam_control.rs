//! IAM users, roles and their inline policies through the lab control API (`/_lab/iam/...`), and
//! the lab's OIDC issuer (`/_lab/oidc/token`, `/.well-known/...`): what `ecr-lab iam ...` and
//! `ecr-lab oidc token` call. Errors carry IAM's code and text (`MalformedPolicyDocument: ...`).

use axum::Json;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde::{Deserialize, Serialize};

use crate::Lab;
use crate::control::{JsonBody, KeyOut, NoArguments, error};
use crate::oidc;
use crate::state::iam::UserSummary;
use crate::state::role::RoleSummary;
use crate::state::{State as LabState, StateError};
use crate::types::AccountId;

#[derive(Deserialize, Default)]
#[serde(rename_all = "camelCase")]
pub(crate) struct AccountQuery {
    account_id: Option<String>,
}

/// The account named (the lab's default when none is); a bad id is the control API's 400.
fn account(id: Option<&str>) -> Result<AccountId, String> {
    AccountId::parse(id.unwrap_or(crate::state::DEFAULT_ACCOUNT)).map_err(|e| e.0)
}

type PutPolicy = fn(&mut LabState, AccountId, &str, &str, &str) -> Result<(), StateError>;
type DeletePolicy = fn(&mut LabState, AccountId, &str, &str) -> Result<(), StateError>;

fn bad(message: String) -> Response {
    error(StatusCode::BAD_REQUEST, message)
}

pub(crate) async fn list_users(
    State(lab): State<Lab>,
    Query(query): Query<AccountQuery>,
) -> Result<Json<Vec<UserSummary>>, Response> {
    let account = account(query.account_id.as_deref()).map_err(bad)?;
    Ok(Json(lab.read(|s| s.users(&account))))
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct CreateUserIn {
    user_name: String,
    account_id: Option<String>,
    policy_name: Option<String>,
    policy_document: Option<String>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct CreateUserOut {
    user_name: String,
    #[serde(flatten)]
    key: KeyOut,
}

pub(crate) async fn create_user(
    State(lab): State<Lab>,
    JsonBody(request): JsonBody<CreateUserIn>,
) -> Result<Json<CreateUserOut>, Response> {
    let account = account(request.account_id.as_deref()).map_err(bad)?;
    let policy_name = request.policy_name.unwrap_or_else(|| format!("{}-policy", request.user_name));
    let policy = request.policy_document.as_deref().map(|text| (policy_name.as_str(), text));
    let key =
        lab.write(|s| s.create_user(account, &request.user_name, policy)).await.map_err(IntoResponse::into_response)?;
    Ok(Json(CreateUserOut { user_name: request.user_name, key: KeyOut::from(&key) }))
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct PutPolicyIn {
    account_id: Option<String>,
    policy_name: String,
    policy_document: String,
}

pub(crate) async fn put_user_policy(
    State(lab): State<Lab>,
    Path(name): Path<String>,
    JsonBody(request): JsonBody<PutPolicyIn>,
) -> Result<StatusCode, Response> {
    put_policy(&lab, &name, request, LabState::put_user_policy).await
}

/// `put-user-policy` and `put-role-policy`: one inline policy onto a user or a role.
async fn put_policy(lab: &Lab, name: &str, request: PutPolicyIn, put: PutPolicy) -> Result<StatusCode, Response> {
    let account = account(request.account_id.as_deref()).map_err(bad)?;
    lab.write(|s| put(s, account, name, &request.policy_name, &request.policy_document))
        .await
        .map_err(IntoResponse::into_response)?;
    Ok(StatusCode::NO_CONTENT)
}

/// `delete-user-policy` and `delete-role-policy`.
async fn delete_policy(
    lab: &Lab,
    (name, policy): (String, String),
    query: AccountQuery,
    delete: DeletePolicy,
) -> Result<StatusCode, Response> {
    let account = account(query.account_id.as_deref()).map_err(bad)?;
    lab.write(|s| delete(s, account, &name, &policy)).await.map_err(IntoResponse::into_response)?;
    Ok(StatusCode::NO_CONTENT)
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct PolicyOut {
    user_name: String,
    policy_name: String,
    policy_document: String,
}

pub(crate) async fn get_user_policy(
    State(lab): State<Lab>,
    Path((name, policy)): Path<(String, String)>,
    Query(query): Query<AccountQuery>,
) -> Result<Json<PolicyOut>, Response> {
    let account = account(query.account_id.as_deref()).map_err(bad)?;
    let text = lab
        .read(|s| s.user_policy(&account, &name, &policy).map(str::to_owned))
        .map_err(|e| crate::lab::LabError::State(e).into_response())?;
    Ok(Json(PolicyOut { user_name: name, policy_name: policy, policy_document: text }))
}

pub(crate) async fn delete_user_policy(
    State(lab): State<Lab>,
    Path(names): Path<(String, String)>,
    Query(query): Query<AccountQuery>,
    JsonBody(NoArguments {}): JsonBody<NoArguments>,
) -> Result<StatusCode, Response> {
    delete_policy(&lab, names, query, LabState::delete_user_policy).await
}

// ---- roles ----

pub(crate) async fn list_roles(
    State(lab): State<Lab>,
    Query(query): Query<AccountQuery>,
) -> Result<Json<Vec<RoleSummary>>, Response> {
    let account = account(query.account_id.as_deref()).map_err(bad)?;
    Ok(Json(lab.read(|s| s.roles(&account))))
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct CreateRoleIn {
    role_name: String,
    account_id: Option<String>,
    assume_role_policy_document: String,
    policy_name: Option<String>,
    policy_document: Option<String>,
    max_session_duration: Option<i64>,
}

pub(crate) async fn create_role(
    State(lab): State<Lab>,
    JsonBody(request): JsonBody<CreateRoleIn>,
) -> Result<Json<RoleSummary>, Response> {
    let account = account(request.account_id.as_deref()).map_err(bad)?;
    let policy_name = request.policy_name.unwrap_or_else(|| format!("{}-policy", request.role_name));
    let policy = request.policy_document.as_deref().map(|text| (policy_name.as_str(), text));
    let trust = &request.assume_role_policy_document;
    let role = lab
        .write(|s| s.create_role(account, &request.role_name, trust, policy, request.max_session_duration))
        .await
        .map_err(IntoResponse::into_response)?;
    Ok(Json(role))
}

pub(crate) async fn put_role_policy(
    State(lab): State<Lab>,
    Path(name): Path<String>,
    JsonBody(request): JsonBody<PutPolicyIn>,
) -> Result<StatusCode, Response> {
    put_policy(&lab, &name, request, LabState::put_role_policy).await
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct TrustIn {
    account_id: Option<String>,
    policy_document: String,
}

pub(crate) async fn update_trust_policy(
    State(lab): State<Lab>,
    Path(name): Path<String>,
    JsonBody(request): JsonBody<TrustIn>,
) -> Result<StatusCode, Response> {
    let account = account(request.account_id.as_deref()).map_err(bad)?;
    lab.write(|s| s.update_trust_policy(account, &name, &request.policy_document))
        .await
        .map_err(IntoResponse::into_response)?;
    Ok(StatusCode::NO_CONTENT)
}

pub(crate) async fn delete_role_policy(
    State(lab): State<Lab>,
    Path(names): Path<(String, String)>,
    Query(query): Query<AccountQuery>,
    JsonBody(NoArguments {}): JsonBody<NoArguments>,
) -> Result<StatusCode, Response> {
    delete_policy(&lab, names, query, LabState::delete_role_policy).await
}

pub(crate) async fn delete_role(
    State(lab): State<Lab>,
    Path(name): Path<String>,
    Query(query): Query<AccountQuery>,
    JsonBody(NoArguments {}): JsonBody<NoArguments>,
) -> Result<StatusCode, Response> {
    let account = account(query.account_id.as_deref()).map_err(bad)?;
    lab.write(|s| s.delete_role(account, &name)).await.map_err(IntoResponse::into_response)?;
    Ok(StatusCode::NO_CONTENT)
}

// ---- the lab's OIDC issuer ----

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct TokenIn {
    sub: String,
    aud: Option<String>,
    /// Seconds the token lasts [default: 3600].
    expires_in: Option<i64>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct TokenOut {
    token: String,
    issuer: &'static str,
    provider: &'static str,
    /// Epoch seconds (lab clock).
    expires_at: i64,
}

/// Mints a token as the CI provider would hand one to a job (`ecr-lab oidc token`).
pub(crate) async fn oidc_token(
    State(lab): State<Lab>,
    JsonBody(request): JsonBody<TokenIn>,
) -> Result<Json<TokenOut>, Response> {
    let lifetime = request.expires_in.unwrap_or(oidc::DEFAULT_LIFETIME_SECONDS);
    if !(1..=7 * 24 * 3600).contains(&lifetime) {
        return Err(bad(format!("expiresIn must be 1 to 604800 seconds, not {lifetime}")));
    }
    if request.sub.is_empty() {
        return Err(bad("sub must name the job's subject, e.g. repo:org/app:ref:refs/heads/main".into()));
    }
    let aud = request.aud.unwrap_or_else(|| oidc::AUDIENCE.into());
    let (token, claims) = lab.read(|s| oidc::mint(s.token_secret(), &request.sub, &aud, s.now(), lifetime));
    Ok(Json(TokenOut { token, issuer: oidc::ISSUER, provider: oidc::PROVIDER, expires_at: claims.exp }))
}

/// `/.well-known/openid-configuration`: the issuer's discovery document.
pub(crate) async fn openid_configuration(headers: axum::http::HeaderMap) -> Json<serde_json::Value> {
    let host = headers.get(axum::http::header::HOST).and_then(|h| h.to_str().ok()).unwrap_or("127.0.0.1");
    Json(oidc::discovery(&format!("http://{host}")))
}

/// `/.well-known/jwks.json`: the issuer's public key.
pub(crate) async fn jwks(State(lab): State<Lab>) -> Json<serde_json::Value> {
    Json(lab.read(|s| oidc::jwks(s.token_secret())))
}
