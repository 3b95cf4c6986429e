//! Registry settings: `aws ecr put-registry-policy | get-registry-policy | delete-registry-policy`,
//! `get-account-setting | put-account-setting`, and the pull-time update exclusions
//! (`register- | deregister-pull-time-update-exclusion`, `list-pull-time-update-exclusions`).

use serde_json::{Value, json};

use super::{Call, Command, command};
use crate::shell::aws::failure::Outcome;
use crate::shell::aws::flags::Flag;
use crate::shell::aws::params;
use crate::shell::aws_json as out;

pub const PUT_REGISTRY_POLICY: Command =
    command!(PutRegistryPolicy, [Flag::one("--policy-text").required()], put_registry_policy);

async fn put_registry_policy(call: Call<'_>) -> Outcome {
    let result = call
        .ecr
        .put_registry_policy()
        .set_policy_text(params::text_flag(&call.flags, "--policy-text")?)
        .send()
        .await
        .map_err(|e| call.failed(e))?;
    Ok(Some(policy(result.registry_id(), result.policy_text())))
}

pub const GET_REGISTRY_POLICY: Command = command!(GetRegistryPolicy, [], get_registry_policy);

async fn get_registry_policy(call: Call<'_>) -> Outcome {
    let result = call.ecr.get_registry_policy().send().await.map_err(|e| call.failed(e))?;
    Ok(Some(policy(result.registry_id(), result.policy_text())))
}

pub const DELETE_REGISTRY_POLICY: Command = command!(DeleteRegistryPolicy, [], delete_registry_policy);

async fn delete_registry_policy(call: Call<'_>) -> Outcome {
    let result = call.ecr.delete_registry_policy().send().await.map_err(|e| call.failed(e))?;
    Ok(Some(policy(result.registry_id(), result.policy_text())))
}

/// What the three registry-policy commands print.
fn policy(registry_id: Option<&str>, policy_text: Option<&str>) -> Value {
    out::object([("registryId", registry_id.map(Value::from)), ("policyText", policy_text.map(Value::from))])
}

pub const GET_ACCOUNT_SETTING: Command =
    command!(GetAccountSetting, [Flag::one("--name").required()], get_account_setting);

async fn get_account_setting(call: Call<'_>) -> Outcome {
    let result =
        call.ecr.get_account_setting().set_name(call.flags.one("--name")).send().await.map_err(|e| call.failed(e))?;
    Ok(Some(setting(result.name(), result.value())))
}

pub const PUT_ACCOUNT_SETTING: Command =
    command!(PutAccountSetting, [Flag::one("--name").required(), Flag::one("--value").required()], put_account_setting);

async fn put_account_setting(call: Call<'_>) -> Outcome {
    let result = call
        .ecr
        .put_account_setting()
        .set_name(call.flags.one("--name"))
        .set_value(call.flags.one("--value"))
        .send()
        .await
        .map_err(|e| call.failed(e))?;
    Ok(Some(setting(result.name(), result.value())))
}

fn setting(name: Option<&str>, value: Option<&str>) -> Value {
    out::object([("name", name.map(Value::from)), ("value", value.map(Value::from))])
}

const PRINCIPAL_ARN: Flag = Flag::one("--principal-arn").required();

pub const REGISTER_PULL_TIME_UPDATE_EXCLUSION: Command =
    command!(RegisterPullTimeUpdateExclusion, [PRINCIPAL_ARN], register_exclusion);

async fn register_exclusion(call: Call<'_>) -> Outcome {
    let result = call
        .ecr
        .register_pull_time_update_exclusion()
        .set_principal_arn(call.flags.one("--principal-arn"))
        .send()
        .await
        .map_err(|e| call.failed(e))?;
    Ok(Some(out::object([
        ("principalArn", result.principal_arn().map(Value::from)),
        ("createdAt", out::time(result.created_at())),
    ])))
}

pub const DEREGISTER_PULL_TIME_UPDATE_EXCLUSION: Command =
    command!(DeregisterPullTimeUpdateExclusion, [PRINCIPAL_ARN], deregister_exclusion);

async fn deregister_exclusion(call: Call<'_>) -> Outcome {
    let result = call
        .ecr
        .deregister_pull_time_update_exclusion()
        .set_principal_arn(call.flags.one("--principal-arn"))
        .send()
        .await
        .map_err(|e| call.failed(e))?;
    Ok(Some(out::object([("principalArn", result.principal_arn().map(Value::from))])))
}

pub const LIST_PULL_TIME_UPDATE_EXCLUSIONS: Command =
    command!(ListPullTimeUpdateExclusions, [Flag::one("--max-results")], list_exclusions);

/// Every page, as the CLI's auto-pagination prints it.
async fn list_exclusions(call: Call<'_>) -> Outcome {
    let max_results = params::integer(&call.flags, "--max-results")?.map(|n| n as i32);
    let mut arns: Vec<Value> = Vec::new();
    let mut next_token = None;
    loop {
        let result = call
            .ecr
            .list_pull_time_update_exclusions()
            .set_max_results(max_results)
            .set_next_token(next_token)
            .send()
            .await
            .map_err(|e| call.failed(e))?;
        arns.extend(result.pull_time_update_exclusions().iter().map(|a| Value::from(a.as_str())));
        next_token = result.next_token().map(str::to_owned);
        if next_token.is_none() {
            break;
        }
    }
    Ok(Some(json!({ "pullTimeUpdateExclusions": arns })))
}
