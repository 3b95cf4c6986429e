//! IAM users and their inline policies through the lab control API (`/_lab/iam/...`): what
//! `ecr-lab iam ...` calls. Errors carry IAM's code and text (`MalformedPolicyDocument: ...`).

use axum::Json;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde::{Deserialize, Serialize};

use crate::Lab;
use crate::control::{JsonBody, KeyOut, NoArguments, error};
use crate::state::iam::UserSummary;
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
    let account = account(request.account_id.as_deref()).map_err(bad)?;
    lab.write(|s| s.put_user_policy(account, &name, &request.policy_name, &request.policy_document))
        .await
        .map_err(IntoResponse::into_response)?;
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
    Path((name, policy)): Path<(String, String)>,
    Query(query): Query<AccountQuery>,
    JsonBody(NoArguments {}): JsonBody<NoArguments>,
) -> Result<StatusCode, Response> {
    let account = account(query.account_id.as_deref()).map_err(bad)?;
    lab.write(|s| s.delete_user_policy(account, &name, &policy)).await.map_err(IntoResponse::into_response)?;
    Ok(StatusCode::NO_CONTENT)
}
