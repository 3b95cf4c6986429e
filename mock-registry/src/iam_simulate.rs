//! `POST /_lab/iam/simulate`: may IAM user NAME perform these actions on a repository (or `*`)?
//! The lab's `iam.user` check asks this (as `aws iam simulate-principal-policy` would on AWS), so a
//! lesson proves a fixed policy allows what the job needs and still refuses what it must not do,
//! without making the calls. Decisions are the mock's own evaluation, the same that answers the
//! user's real calls.

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::Response;
use serde::{Deserialize, Serialize};

use crate::Lab;
use crate::control::{JsonBody, error};
use crate::state::RegistryKey;
use crate::types::{AccountId, Region};

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct SimulateIn {
    user_name: String,
    account_id: Option<String>,
    region: Option<String>,
    /// The repository's name; none: registry-wide (`*`).
    repository: Option<String>,
    actions: Vec<String>,
}

#[derive(Serialize, Debug, PartialEq, Eq)]
#[serde(rename_all = "camelCase")]
pub(crate) struct Decision {
    action: String,
    allowed: bool,
    /// AWS's denial text when denied.
    #[serde(skip_serializing_if = "Option::is_none")]
    message: Option<String>,
}

pub(crate) async fn simulate(
    State(lab): State<Lab>,
    JsonBody(request): JsonBody<SimulateIn>,
) -> Result<Json<Vec<Decision>>, Response> {
    let bad = |message: String| error(StatusCode::BAD_REQUEST, message);
    let account = AccountId::parse(request.account_id.as_deref().unwrap_or(crate::state::DEFAULT_ACCOUNT))
        .map_err(|e| bad(e.0))?;
    let region =
        Region::parse(request.region.as_deref().unwrap_or(crate::state::DEFAULT_REGION)).map_err(|e| bad(e.0))?;
    let registry = RegistryKey::new(account.clone(), region);
    let decisions = lab.read(|state| {
        let user = state.users(&account).into_iter().find(|u| u.user_name == request.user_name)?;
        let key = user.access_key_ids.first()?.clone();
        Some(
            request
                .actions
                .iter()
                .map(|action| {
                    let result = state.authorize(&key, action, &registry, request.repository.as_deref());
                    Decision { action: action.clone(), allowed: result.is_ok(), message: result.err() }
                })
                .collect::<Vec<_>>(),
        )
    });
    decisions.map(Json).ok_or_else(|| {
        error(StatusCode::NOT_FOUND, format!("NoSuchEntity: The user with name {} cannot be found.", request.user_name))
    })
}
