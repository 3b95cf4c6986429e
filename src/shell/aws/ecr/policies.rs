//! Repository policies: `aws ecr set-repository-policy | get-repository-policy | delete-repository-policy`.

use serde_json::Value;

use super::shared_flags::*;
use super::{Call, Command, command};
use crate::shell::aws::failure::Outcome;
use crate::shell::aws::flags::Flag;
use crate::shell::aws::params::{self, repository_name};
use crate::shell::aws_json as out;

pub const SET_REPOSITORY_POLICY: Command = command!(
    SetRepositoryPolicy,
    [REGISTRY_ID, REPOSITORY_NAME, Flag::one("--policy-text").required(), Flag::switch("--force")],
    set
);

async fn set(call: Call<'_>) -> Outcome {
    let result = call
        .ecr
        .set_repository_policy()
        .set_registry_id(call.flags.one("--registry-id"))
        .set_repository_name(repository_name(&call.flags)?)
        .set_policy_text(params::text_flag(&call.flags, "--policy-text")?)
        .set_force(call.flags.switch("--force"))
        .send()
        .await
        .map_err(|e| call.failed(e))?;
    Ok(Some(answer(result.registry_id(), result.repository_name(), result.policy_text())))
}

pub const GET_REPOSITORY_POLICY: Command = command!(GetRepositoryPolicy, [REGISTRY_ID, REPOSITORY_NAME], get);

async fn get(call: Call<'_>) -> Outcome {
    let result = call
        .ecr
        .get_repository_policy()
        .set_registry_id(call.flags.one("--registry-id"))
        .set_repository_name(repository_name(&call.flags)?)
        .send()
        .await
        .map_err(|e| call.failed(e))?;
    Ok(Some(answer(result.registry_id(), result.repository_name(), result.policy_text())))
}

pub const DELETE_REPOSITORY_POLICY: Command = command!(DeleteRepositoryPolicy, [REGISTRY_ID, REPOSITORY_NAME], delete);

async fn delete(call: Call<'_>) -> Outcome {
    let result = call
        .ecr
        .delete_repository_policy()
        .set_registry_id(call.flags.one("--registry-id"))
        .set_repository_name(repository_name(&call.flags)?)
        .send()
        .await
        .map_err(|e| call.failed(e))?;
    Ok(Some(answer(result.registry_id(), result.repository_name(), result.policy_text())))
}

/// What all three commands print: the repository and its policy text (the one set, read or deleted).
fn answer(registry_id: Option<&str>, repository_name: Option<&str>, policy_text: Option<&str>) -> Value {
    out::object([
        ("registryId", registry_id.map(Value::from)),
        ("repositoryName", repository_name.map(Value::from)),
        ("policyText", policy_text.map(Value::from)),
    ])
}
