//! Lifecycle policies: put, get, delete, and their previews.

use serde_json::{Value, json};

use super::shared_flags::*;
use super::{Call, Command, command};
use crate::shell::aws::failure::Outcome;
use crate::shell::aws::params::{self, repository_name};
use crate::shell::aws_json as out;

pub const PUT_LIFECYCLE_POLICY: Command =
    command!(PutLifecyclePolicy, [REGISTRY_ID, REPOSITORY_NAME, LIFECYCLE_POLICY_TEXT.required()], put);

async fn put(call: Call<'_>) -> Outcome {
    let result = call
        .ecr
        .put_lifecycle_policy()
        .set_registry_id(call.flags.one("--registry-id"))
        .set_repository_name(repository_name(&call.flags)?)
        .set_lifecycle_policy_text(params::text_flag(&call.flags, "--lifecycle-policy-text")?)
        .send()
        .await
        .map_err(|e| call.failed(e))?;
    Ok(Some(out::object([
        ("registryId", result.registry_id().map(Value::from)),
        ("repositoryName", result.repository_name().map(Value::from)),
        ("lifecyclePolicyText", result.lifecycle_policy_text().map(Value::from)),
    ])))
}

pub const GET_LIFECYCLE_POLICY: Command = command!(GetLifecyclePolicy, [REGISTRY_ID, REPOSITORY_NAME], get);

async fn get(call: Call<'_>) -> Outcome {
    let result = call
        .ecr
        .get_lifecycle_policy()
        .set_registry_id(call.flags.one("--registry-id"))
        .set_repository_name(repository_name(&call.flags)?)
        .send()
        .await
        .map_err(|e| call.failed(e))?;
    Ok(Some(out::object([
        ("registryId", result.registry_id().map(Value::from)),
        ("repositoryName", result.repository_name().map(Value::from)),
        ("lifecyclePolicyText", result.lifecycle_policy_text().map(Value::from)),
        ("lastEvaluatedAt", out::time(result.last_evaluated_at())),
    ])))
}

pub const DELETE_LIFECYCLE_POLICY: Command = command!(DeleteLifecyclePolicy, [REGISTRY_ID, REPOSITORY_NAME], delete);

async fn delete(call: Call<'_>) -> Outcome {
    let result = call
        .ecr
        .delete_lifecycle_policy()
        .set_registry_id(call.flags.one("--registry-id"))
        .set_repository_name(repository_name(&call.flags)?)
        .send()
        .await
        .map_err(|e| call.failed(e))?;
    Ok(Some(out::object([
        ("registryId", result.registry_id().map(Value::from)),
        ("repositoryName", result.repository_name().map(Value::from)),
        ("lifecyclePolicyText", result.lifecycle_policy_text().map(Value::from)),
        ("lastEvaluatedAt", out::time(result.last_evaluated_at())),
    ])))
}

pub const START_LIFECYCLE_POLICY_PREVIEW: Command =
    command!(StartLifecyclePolicyPreview, [REGISTRY_ID, REPOSITORY_NAME, LIFECYCLE_POLICY_TEXT], start_preview);

async fn start_preview(call: Call<'_>) -> Outcome {
    let result = call
        .ecr
        .start_lifecycle_policy_preview()
        .set_registry_id(call.flags.one("--registry-id"))
        .set_repository_name(repository_name(&call.flags)?)
        .set_lifecycle_policy_text(params::text_flag(&call.flags, "--lifecycle-policy-text")?)
        .send()
        .await
        .map_err(|e| call.failed(e))?;
    Ok(Some(out::object([
        ("registryId", result.registry_id().map(Value::from)),
        ("repositoryName", result.repository_name().map(Value::from)),
        ("lifecyclePolicyText", result.lifecycle_policy_text().map(Value::from)),
        ("status", result.status().map(|s| Value::from(s.as_str()))),
    ])))
}

pub const GET_LIFECYCLE_POLICY_PREVIEW: Command =
    command!(GetLifecyclePolicyPreview, [REGISTRY_ID, REPOSITORY_NAME, IMAGE_IDS], get_preview);

async fn get_preview(call: Call<'_>) -> Outcome {
    let pages = call
        .ecr
        .get_lifecycle_policy_preview()
        .set_registry_id(call.flags.one("--registry-id"))
        .set_repository_name(repository_name(&call.flags)?)
        .set_image_ids(params::image_ids(&call.flags)?)
        .into_paginator()
        .send()
        .collect::<Vec<_>>()
        .await;
    let mut first = None;
    let mut results = Vec::new();
    for page in pages {
        let page = page.map_err(|e| call.failed(e))?;
        results.extend(page.preview_results().iter().map(out::preview_result));
        first.get_or_insert(page);
    }
    let first = first.unwrap_or_else(|| {
        aws_sdk_ecr::operation::get_lifecycle_policy_preview::GetLifecyclePolicyPreviewOutput::builder().build()
    });
    // The CLI's paginator puts the merged result key first, then the other members.
    Ok(Some(out::object([
        ("previewResults", Some(Value::Array(results))),
        ("registryId", first.registry_id().map(Value::from)),
        ("repositoryName", first.repository_name().map(Value::from)),
        ("lifecyclePolicyText", first.lifecycle_policy_text().map(Value::from)),
        ("status", first.status().map(|s| Value::from(s.as_str()))),
        ("summary", first.summary().map(|s| json!({ "expiringImageTotalCount": s.expiring_image_total_count() }))),
    ])))
}
