//! Pull through cache rules: `aws ecr create-pull-through-cache-rule | describe-pull-through-cache-rules |
//! update-pull-through-cache-rule | delete-pull-through-cache-rule | validate-pull-through-cache-rule`.

use aws_sdk_ecr::types as t;
use serde_json::Value;

use super::shared_flags::REGISTRY_ID;
use super::{Call, Command, command};
use crate::shell::aws::failure::Outcome;
use crate::shell::aws::flags::Flag;
use crate::shell::aws::params;
use crate::shell::aws_json as out;

const PREFIX: Flag = Flag::one("--ecr-repository-prefix").required();
const CREDENTIAL_ARN: Flag = Flag::one("--credential-arn");
const CUSTOM_ROLE_ARN: Flag = Flag::one("--custom-role-arn");

pub const CREATE_PULL_THROUGH_CACHE_RULE: Command = command!(
    CreatePullThroughCacheRule,
    [
        PREFIX,
        Flag::one("--upstream-registry-url").required(),
        REGISTRY_ID,
        Flag::one("--upstream-registry"),
        CREDENTIAL_ARN,
        CUSTOM_ROLE_ARN,
        Flag::one("--upstream-repository-prefix"),
    ],
    create
);

async fn create(call: Call<'_>) -> Outcome {
    let f = &call.flags;
    let r = call
        .ecr
        .create_pull_through_cache_rule()
        .set_ecr_repository_prefix(f.one("--ecr-repository-prefix"))
        .set_upstream_registry_url(f.one("--upstream-registry-url"))
        .set_registry_id(f.one("--registry-id"))
        .set_upstream_registry(f.one("--upstream-registry").map(|v| t::UpstreamRegistry::from(v.as_str())))
        .set_credential_arn(f.one("--credential-arn"))
        .set_custom_role_arn(f.one("--custom-role-arn"))
        .set_upstream_repository_prefix(f.one("--upstream-repository-prefix"))
        .send()
        .await
        .map_err(|e| call.failed(e))?;
    Ok(Some(out::object([
        ("ecrRepositoryPrefix", r.ecr_repository_prefix().map(Value::from)),
        ("upstreamRegistryUrl", r.upstream_registry_url().map(Value::from)),
        ("createdAt", out::time(r.created_at())),
        ("registryId", r.registry_id().map(Value::from)),
        ("upstreamRegistry", r.upstream_registry().map(|u| Value::from(u.as_str()))),
        ("credentialArn", r.credential_arn().map(Value::from)),
        ("customRoleArn", r.custom_role_arn().map(Value::from)),
        ("upstreamRepositoryPrefix", r.upstream_repository_prefix().map(Value::from)),
    ])))
}

pub const DESCRIBE_PULL_THROUGH_CACHE_RULES: Command = command!(
    DescribePullThroughCacheRules,
    [REGISTRY_ID, Flag::many("--ecr-repository-prefixes"), Flag::one("--max-results"), Flag::one("--starting-token")],
    describe
);

async fn describe(call: Call<'_>) -> Outcome {
    let f = &call.flags;
    let request = call
        .ecr
        .describe_pull_through_cache_rules()
        .set_registry_id(f.one("--registry-id"))
        .set_ecr_repository_prefixes(f.many("--ecr-repository-prefixes"))
        .set_next_token(f.one("--starting-token"))
        .set_max_results(params::integer(f, "--max-results")?.map(|n| n as i32));
    let r = request.send().await.map_err(|e| call.failed(e))?;
    let rules: Vec<Value> = r.pull_through_cache_rules().iter().map(rule).collect();
    Ok(Some(out::object([
        ("pullThroughCacheRules", Some(Value::Array(rules))),
        ("nextToken", r.next_token().map(Value::from)),
    ])))
}

fn rule(r: &t::PullThroughCacheRule) -> Value {
    out::object([
        ("ecrRepositoryPrefix", r.ecr_repository_prefix().map(Value::from)),
        ("upstreamRegistryUrl", r.upstream_registry_url().map(Value::from)),
        ("createdAt", out::time(r.created_at())),
        ("registryId", r.registry_id().map(Value::from)),
        ("credentialArn", r.credential_arn().map(Value::from)),
        ("customRoleArn", r.custom_role_arn().map(Value::from)),
        ("upstreamRepositoryPrefix", r.upstream_repository_prefix().map(Value::from)),
        ("upstreamRegistry", r.upstream_registry().map(|u| Value::from(u.as_str()))),
        ("updatedAt", out::time(r.updated_at())),
    ])
}

pub const UPDATE_PULL_THROUGH_CACHE_RULE: Command =
    command!(UpdatePullThroughCacheRule, [REGISTRY_ID, PREFIX, CREDENTIAL_ARN, CUSTOM_ROLE_ARN], update);

async fn update(call: Call<'_>) -> Outcome {
    let f = &call.flags;
    let r = call
        .ecr
        .update_pull_through_cache_rule()
        .set_registry_id(f.one("--registry-id"))
        .set_ecr_repository_prefix(f.one("--ecr-repository-prefix"))
        .set_credential_arn(f.one("--credential-arn"))
        .set_custom_role_arn(f.one("--custom-role-arn"))
        .send()
        .await
        .map_err(|e| call.failed(e))?;
    Ok(Some(out::object([
        ("ecrRepositoryPrefix", r.ecr_repository_prefix().map(Value::from)),
        ("registryId", r.registry_id().map(Value::from)),
        ("updatedAt", out::time(r.updated_at())),
        ("credentialArn", r.credential_arn().map(Value::from)),
        ("customRoleArn", r.custom_role_arn().map(Value::from)),
        ("upstreamRepositoryPrefix", r.upstream_repository_prefix().map(Value::from)),
    ])))
}

pub const DELETE_PULL_THROUGH_CACHE_RULE: Command = command!(DeletePullThroughCacheRule, [PREFIX, REGISTRY_ID], delete);

async fn delete(call: Call<'_>) -> Outcome {
    let f = &call.flags;
    let r = call
        .ecr
        .delete_pull_through_cache_rule()
        .set_ecr_repository_prefix(f.one("--ecr-repository-prefix"))
        .set_registry_id(f.one("--registry-id"))
        .send()
        .await
        .map_err(|e| call.failed(e))?;
    Ok(Some(out::object([
        ("ecrRepositoryPrefix", r.ecr_repository_prefix().map(Value::from)),
        ("upstreamRegistryUrl", r.upstream_registry_url().map(Value::from)),
        ("createdAt", out::time(r.created_at())),
        ("registryId", r.registry_id().map(Value::from)),
        ("credentialArn", r.credential_arn().map(Value::from)),
        ("customRoleArn", r.custom_role_arn().map(Value::from)),
        ("upstreamRepositoryPrefix", r.upstream_repository_prefix().map(Value::from)),
    ])))
}

pub const VALIDATE_PULL_THROUGH_CACHE_RULE: Command =
    command!(ValidatePullThroughCacheRule, [PREFIX, REGISTRY_ID], validate);

async fn validate(call: Call<'_>) -> Outcome {
    let f = &call.flags;
    let r = call
        .ecr
        .validate_pull_through_cache_rule()
        .set_ecr_repository_prefix(f.one("--ecr-repository-prefix"))
        .set_registry_id(f.one("--registry-id"))
        .send()
        .await
        .map_err(|e| call.failed(e))?;
    Ok(Some(out::object([
        ("ecrRepositoryPrefix", r.ecr_repository_prefix().map(Value::from)),
        ("registryId", r.registry_id().map(Value::from)),
        ("upstreamRegistryUrl", r.upstream_registry_url().map(Value::from)),
        ("credentialArn", r.credential_arn().map(Value::from)),
        ("customRoleArn", r.custom_role_arn().map(Value::from)),
        ("upstreamRepositoryPrefix", r.upstream_repository_prefix().map(Value::from)),
        ("isValid", Some(Value::from(r.is_valid()))),
        ("failure", r.failure().map(Value::from)),
    ])))
}
