//! Repository policies: SetRepositoryPolicy, GetRepositoryPolicy, DeleteRepositoryPolicy. The text
//! is validated as an IAM resource-based policy and evaluated with every call on the repository.

use axum::response::Response;
use serde::{Deserialize, Serialize};

use super::operations::{registry, repository_name, required};
use super::{EcrError, json};
use crate::Lab;
use crate::state::Caller;

#[derive(Deserialize, Default)]
#[serde(rename_all = "camelCase")]
pub(super) struct RepositoryPolicyRequest {
    registry_id: Option<String>,
    repository_name: Option<String>,
    /// SetRepositoryPolicy.
    policy_text: Option<String>,
    /// SetRepositoryPolicy: accepted; the lab has no lock-out check to skip.
    #[allow(dead_code)]
    force: Option<bool>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct RepositoryPolicyResponse {
    registry_id: String,
    repository_name: String,
    policy_text: String,
}

pub(super) async fn set(lab: &Lab, caller: &Caller, request: RepositoryPolicyRequest) -> Result<Response, EcrError> {
    let registry = registry(caller, request.registry_id)?;
    let name = repository_name(request.repository_name)?;
    let text = required(request.policy_text, "policyText")?;
    lab.write(|state| state.set_repository_policy(&registry, &name, &text).map(|_| ())).await?;
    Ok(json(RepositoryPolicyResponse {
        registry_id: registry.account.to_string(),
        repository_name: name.to_string(),
        policy_text: text,
    }))
}

pub(super) fn get(lab: &Lab, caller: &Caller, request: RepositoryPolicyRequest) -> Result<Response, EcrError> {
    let registry = registry(caller, request.registry_id)?;
    let name = repository_name(request.repository_name)?;
    let text = lab.read(|state| state.repository_policy(&registry, &name).map(str::to_owned))?;
    Ok(json(RepositoryPolicyResponse {
        registry_id: registry.account.to_string(),
        repository_name: name.to_string(),
        policy_text: text,
    }))
}

pub(super) async fn delete(lab: &Lab, caller: &Caller, request: RepositoryPolicyRequest) -> Result<Response, EcrError> {
    let registry = registry(caller, request.registry_id)?;
    let name = repository_name(request.repository_name)?;
    let text = lab.write(|state| state.delete_repository_policy(&registry, &name)).await?;
    Ok(json(RepositoryPolicyResponse {
        registry_id: registry.account.to_string(),
        repository_name: name.to_string(),
        policy_text: text,
    }))
}
