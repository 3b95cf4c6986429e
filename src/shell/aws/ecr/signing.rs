//! Signing and referrers: `aws ecr put- | get- | delete-signing-configuration`,
//! `describe-image-signing-status`, `list-image-referrers`, and `update-image-storage-class`
//! (archive and restore).

use aws_sdk_ecr::types as t;
use serde_json::{Value, json};

use super::shared_flags::*;
use super::{Call, Command, command};
use crate::shell::aws::failure::{Failure, Outcome};
use crate::shell::aws::flags::Flag;
use crate::shell::aws::params::{self, Members, repository_name, shorthand_flag, str_member};
use crate::shell::aws_json as out;

pub const PUT_SIGNING_CONFIGURATION: Command =
    command!(PutSigningConfiguration, [Flag::one("--signing-configuration").required()], put);

/// `--signing-configuration '{"rules":[{"signingProfileArn":"...","repositoryFilters":[...]}]}'`.
fn signing_configuration(map: &Members) -> Result<t::SigningConfiguration, Failure> {
    let missing = |what: &str| Failure::Validation(format!("Missing required parameter in {what}"));
    let rules = map.get("rules").and_then(Value::as_array).ok_or_else(|| missing("signingConfiguration: \"rules\""))?;
    let rules = rules
        .iter()
        .map(|rule| {
            let filters = rule["repositoryFilters"].as_array().map(|filters| {
                filters
                    .iter()
                    .map(|f| {
                        t::SigningRepositoryFilter::builder()
                            .set_filter(f["filter"].as_str().map(str::to_owned))
                            .set_filter_type(f["filterType"].as_str().map(t::SigningRepositoryFilterType::from))
                            .build()
                            .map_err(|_| missing("repositoryFilters: \"filter\", \"filterType\""))
                    })
                    .collect::<Result<Vec<_>, _>>()
            });
            t::SigningRule::builder()
                .set_signing_profile_arn(rule["signingProfileArn"].as_str().map(str::to_owned))
                .set_repository_filters(filters.transpose()?)
                .build()
                .map_err(|_| missing("rules: \"signingProfileArn\""))
        })
        .collect::<Result<Vec<_>, _>>()?;
    t::SigningConfiguration::builder().set_rules(Some(rules)).build().map_err(|_| missing("signingConfiguration"))
}

async fn put(call: Call<'_>) -> Outcome {
    let configuration = shorthand_flag(&call.flags, "--signing-configuration", signing_configuration)?;
    let result = call
        .ecr
        .put_signing_configuration()
        .set_signing_configuration(configuration)
        .send()
        .await
        .map_err(|e| call.failed(e))?;
    Ok(Some(out::object([("signingConfiguration", result.signing_configuration().map(configuration_json))])))
}

pub const GET_SIGNING_CONFIGURATION: Command = command!(GetSigningConfiguration, [], get);

async fn get(call: Call<'_>) -> Outcome {
    let result = call.ecr.get_signing_configuration().send().await.map_err(|e| call.failed(e))?;
    Ok(Some(out::object([
        ("registryId", result.registry_id().map(Value::from)),
        ("signingConfiguration", result.signing_configuration().map(configuration_json)),
    ])))
}

pub const DELETE_SIGNING_CONFIGURATION: Command = command!(DeleteSigningConfiguration, [], delete);

async fn delete(call: Call<'_>) -> Outcome {
    let result = call.ecr.delete_signing_configuration().send().await.map_err(|e| call.failed(e))?;
    Ok(Some(out::object([
        ("registryId", result.registry_id().map(Value::from)),
        ("signingConfiguration", result.signing_configuration().map(configuration_json)),
    ])))
}

fn configuration_json(c: &t::SigningConfiguration) -> Value {
    let rules: Vec<Value> = c
        .rules()
        .iter()
        .map(|rule| {
            let filters: Vec<Value> = rule
                .repository_filters()
                .iter()
                .map(|f| json!({ "filter": f.filter(), "filterType": f.filter_type().as_str() }))
                .collect();
            out::object([
                ("signingProfileArn", Some(Value::from(rule.signing_profile_arn()))),
                ("repositoryFilters", out::non_empty(filters)),
            ])
        })
        .collect();
    json!({ "rules": rules })
}

pub const DESCRIBE_IMAGE_SIGNING_STATUS: Command =
    command!(DescribeImageSigningStatus, [REPOSITORY_NAME, IMAGE_ID, REGISTRY_ID], signing_status);

async fn signing_status(call: Call<'_>) -> Outcome {
    let flags = &call.flags;
    let result = call
        .ecr
        .describe_image_signing_status()
        .set_repository_name(repository_name(flags)?)
        .set_image_id(params::image_id(flags)?)
        .set_registry_id(flags.one("--registry-id"))
        .send()
        .await
        .map_err(|e| call.failed(e))?;
    let statuses: Vec<Value> = result
        .signing_statuses()
        .iter()
        .map(|s| {
            out::object([
                ("signingProfileArn", s.signing_profile_arn().map(Value::from)),
                ("failureCode", s.failure_code().map(Value::from)),
                ("failureReason", s.failure_reason().map(Value::from)),
                ("status", s.status().map(|s| Value::from(s.as_str()))),
            ])
        })
        .collect();
    Ok(Some(out::object([
        ("repositoryName", result.repository_name().map(Value::from)),
        ("imageId", result.image_id().map(out::image_id)),
        ("registryId", result.registry_id().map(Value::from)),
        ("signingStatuses", Some(Value::Array(statuses))),
    ])))
}

pub const LIST_IMAGE_REFERRERS: Command = command!(
    ListImageReferrers,
    [REGISTRY_ID, REPOSITORY_NAME, Flag::one("--subject-id").required(), FILTER, Flag::one("--max-results")],
    referrers
);

/// Every page of the image's referrers, as the CLI's auto-pagination prints them.
async fn referrers(call: Call<'_>) -> Outcome {
    let flags = &call.flags;
    let subject = shorthand_flag(flags, "--subject-id", |map| {
        t::SubjectIdentifier::builder()
            .set_image_digest(str_member(map, "imageDigest"))
            .build()
            .map_err(|_| Failure::Validation("Missing required parameter in subjectId: \"imageDigest\"".into()))
    })?;
    let filter = shorthand_flag(flags, "--filter", |map| {
        let types = map.get("artifactTypes").map(|v| match v {
            Value::Array(items) => items.iter().filter_map(Value::as_str).map(str::to_owned).collect(),
            other => vec![other.as_str().map(str::to_owned).unwrap_or_else(|| other.to_string())],
        });
        Ok(t::ListImageReferrersFilter::builder()
            .set_artifact_types(types)
            .set_artifact_status(str_member(map, "artifactStatus").map(|s| t::ArtifactStatusFilter::from(s.as_str())))
            .build())
    })?;
    let max_results = params::integer(flags, "--max-results")?.map(|n| n as i32);
    let mut referrers = Vec::new();
    let mut next_token = None;
    loop {
        let result = call
            .ecr
            .list_image_referrers()
            .set_registry_id(flags.one("--registry-id"))
            .set_repository_name(repository_name(flags)?)
            .set_subject_id(subject.clone())
            .set_filter(filter.clone())
            .set_max_results(max_results)
            .set_next_token(next_token)
            .send()
            .await
            .map_err(|e| call.failed(e))?;
        referrers.extend(result.referrers().iter().map(referrer));
        next_token = result.next_token().map(str::to_owned);
        if next_token.is_none() {
            break;
        }
    }
    Ok(Some(json!({ "referrers": referrers })))
}

fn referrer(r: &t::ImageReferrer) -> Value {
    out::object([
        ("digest", Some(Value::from(r.digest()))),
        ("mediaType", Some(Value::from(r.media_type()))),
        ("artifactType", r.artifact_type().map(Value::from)),
        ("size", Some(Value::from(r.size()))),
        ("annotations", r.annotations().filter(|a| !a.is_empty()).map(|a| json!(a))),
        ("artifactStatus", r.artifact_status().map(|s| Value::from(s.as_str()))),
    ])
}

pub const UPDATE_IMAGE_STORAGE_CLASS: Command = command!(
    UpdateImageStorageClass,
    [REGISTRY_ID, REPOSITORY_NAME, IMAGE_ID, Flag::one("--target-storage-class").required()],
    storage_class
);

async fn storage_class(call: Call<'_>) -> Outcome {
    let flags = &call.flags;
    let result = call
        .ecr
        .update_image_storage_class()
        .set_registry_id(flags.one("--registry-id"))
        .set_repository_name(repository_name(flags)?)
        .set_image_id(params::image_id(flags)?)
        .set_target_storage_class(flags.one("--target-storage-class").map(|c| t::TargetStorageClass::from(c.as_str())))
        .send()
        .await
        .map_err(|e| call.failed(e))?;
    Ok(Some(out::object([
        ("registryId", result.registry_id().map(Value::from)),
        ("repositoryName", result.repository_name().map(Value::from)),
        ("imageId", result.image_id().map(out::image_id)),
        ("imageStatus", result.image_status().map(|s| Value::from(s.as_str()))),
    ])))
}
