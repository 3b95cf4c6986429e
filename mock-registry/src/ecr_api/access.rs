//! IAM for the JSON API: each operation is the action `ecr:OPERATION` on the repository its body
//! names (or `*` for registry-wide operations), in the registry of `registryId` (the caller's own
//! by default). Keys of users created through IAM are evaluated; others have full access in their
//! own account, and in another account's registry only what its repository policy allows.

use serde_json::Value;

use super::{EcrError, EcrErrorCode, Operation};
use crate::Lab;
use crate::state::{Caller, RegistryKey};
use crate::types::AccountId;

/// AWS's AccessDeniedException for a call its caller's policies do not allow; `None` to go on.
pub(crate) fn check(lab: &Lab, caller: &Caller, operation: Operation, body: &[u8]) -> Option<EcrError> {
    // The learner's everyday call (own registry, no IAM user, no repository policy anywhere) costs
    // two lookups and no parsing.
    let names_a_registry = |member: &[u8]| body.windows(member.len()).any(|w| w == member);
    let other = names_a_registry(b"\"registryId\"") || names_a_registry(b"\"resourceArn\"");
    if !other && !lab.read(|s| s.restricted(&caller.access_key_id) || s.any_repository_policy()) {
        return None;
    }
    let value: Value = serde_json::from_slice(body).unwrap_or(Value::Null);
    let (account, repository) = target(caller, operation, &value);
    if !lab.read(|s| s.evaluated(&caller.access_key_id, &account)) {
        return None;
    }
    let registry = RegistryKey::new(account, caller.region.clone());
    let action = format!("ecr:{}", operation.name());
    lab.read(|s| s.authorize(&caller.access_key_id, &action, &registry, repository.as_deref()))
        .err()
        .map(|message| EcrError::new(EcrErrorCode::AccessDeniedException, message))
}

/// The account and repository a call acts on.
fn target(caller: &Caller, operation: Operation, value: &Value) -> (AccountId, Option<String>) {
    let text = |member: &str| value.get(member).and_then(Value::as_str);
    if let Some(arn) = text("resourceArn") {
        let account = arn.split(':').nth(4).and_then(|a| AccountId::parse(a).ok());
        let name = arn.split_once(":repository/").map(|(_, name)| name.to_owned());
        return (account.unwrap_or_else(|| caller.account.clone()), name);
    }
    let account = text("registryId").and_then(|a| AccountId::parse(a).ok()).unwrap_or_else(|| caller.account.clone());
    let first_listed = || {
        value
            .get("repositoryNames")
            .and_then(Value::as_array)
            .and_then(|names| names.first()?.as_str().map(str::to_owned))
    };
    let repository = match operation {
        Operation::GetAuthorizationToken
        | Operation::DescribeRegistry
        | Operation::GetRegistryScanningConfiguration
        | Operation::PutRegistryScanningConfiguration => None,
        Operation::DescribeRepositories | Operation::BatchGetRepositoryScanningConfiguration => {
            Some(first_listed().unwrap_or_else(|| "*".to_owned()))
        }
        _ => text("repositoryName").map(str::to_owned),
    };
    (account, repository)
}
