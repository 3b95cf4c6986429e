//! Repositories: create, describe, delete, and their tag mutability.

use aws_sdk_ecr::types as t;
use serde_json::{Value, json};

use super::shared_flags::*;
use super::{Call, Command, command};
use crate::backend::cleanup;
use crate::shell::Session;
use crate::shell::aws::failure::{Failure, Outcome};
use crate::shell::aws::flags::Flag;
use crate::shell::aws::params::{self, repository_name, shorthand_flag, str_member};
use crate::shell::aws_json as out;

pub const CREATE_REPOSITORY: Command = command!(
    CreateRepository,
    [
        REGISTRY_ID,
        REPOSITORY_NAME,
        TAGS,
        IMAGE_TAG_MUTABILITY,
        EXCLUSION_FILTERS,
        IMAGE_SCANNING_CONFIGURATION,
        Flag::one("--encryption-configuration"),
    ],
    create
);

async fn create(call: Call<'_>) -> Outcome {
    let flags = &call.flags;
    let mut tags = params::resource_tags(flags)?;
    if let (Some(created), Some(repository)) = (&call.session.created, repository_name(flags)?) {
        tags.get_or_insert_with(Vec::new)
            .push(t::Tag::builder().key(cleanup::TAG_KEY).value(&created.run).build().expect("key and value set"));
        record_for_cleanup(call.session, &call.region, repository)?;
    }
    let result = call
        .ecr
        .create_repository()
        .set_registry_id(flags.one("--registry-id"))
        .set_repository_name(repository_name(flags)?)
        .set_tags(tags)
        .set_image_tag_mutability(params::tag_mutability(flags))
        .set_image_tag_mutability_exclusion_filters(params::exclusion_filters(flags)?)
        .set_image_scanning_configuration(params::scanning(flags)?)
        .set_encryption_configuration(shorthand_flag(flags, "--encryption-configuration", encryption)?)
        .send()
        .await
        .map_err(|e| call.failed(e))?;
    Ok(Some(json!({ "repository": result.repository().map(out::repository) })))
}

/// On real AWS, written before the call: if the lab dies now, `ecr-lab cleanup` still knows where to look.
fn record_for_cleanup(session: &Session, region: &str, repository: String) -> Result<(), Failure> {
    let Some(created) = &session.created else { return Ok(()) };
    let record = cleanup::Record {
        run: created.run.clone(),
        account: session.backend.account.clone(),
        region: region.to_owned(),
        repository,
        at: mock_registry::clock::unix_seconds() as u64,
    };
    cleanup::record(&created.records, &record).map_err(|e| {
        Failure::Other(format!(
            "ecr-lab: not creating the repository: cannot record it in {} for cleanup ({e})",
            created.records.display()
        ))
    })
}

/// `--encryption-configuration encryptionType=KMS,kmsKey=...`.
fn encryption(map: &params::Members) -> Result<t::EncryptionConfiguration, Failure> {
    t::EncryptionConfiguration::builder()
        .set_encryption_type(str_member(map, "encryptionType").map(|e| t::EncryptionType::from(e.as_str())))
        .set_kms_key(str_member(map, "kmsKey"))
        .build()
        .map_err(|_| {
            Failure::Validation("Missing required parameter in encryptionConfiguration: \"encryptionType\"".into())
        })
}

pub const DESCRIBE_REPOSITORIES: Command = command!(DescribeRepositories, [REGISTRY_ID, REPOSITORY_NAMES], describe);

async fn describe(call: Call<'_>) -> Outcome {
    let pages = call
        .ecr
        .describe_repositories()
        .set_registry_id(call.flags.one("--registry-id"))
        .set_repository_names(call.flags.many("--repository-names"))
        .into_paginator()
        .send()
        .collect::<Vec<_>>()
        .await;
    let mut repositories = Vec::new();
    for page in pages {
        repositories.extend(page.map_err(|e| call.failed(e))?.repositories().iter().map(out::repository));
    }
    Ok(Some(json!({ "repositories": repositories })))
}

pub const DELETE_REPOSITORY: Command =
    command!(DeleteRepository, [REGISTRY_ID, REPOSITORY_NAME, Flag::switch("--force")], delete);

async fn delete(call: Call<'_>) -> Outcome {
    let result = call
        .ecr
        .delete_repository()
        .set_registry_id(call.flags.one("--registry-id"))
        .set_repository_name(repository_name(&call.flags)?)
        .set_force(call.flags.switch("--force"))
        .send()
        .await
        .map_err(|e| call.failed(e))?;
    Ok(Some(json!({ "repository": result.repository().map(out::repository) })))
}

pub const PUT_IMAGE_TAG_MUTABILITY: Command = command!(
    PutImageTagMutability,
    [REGISTRY_ID, REPOSITORY_NAME, IMAGE_TAG_MUTABILITY.required(), EXCLUSION_FILTERS],
    put_tag_mutability
);

async fn put_tag_mutability(call: Call<'_>) -> Outcome {
    let flags = &call.flags;
    let result = call
        .ecr
        .put_image_tag_mutability()
        .set_registry_id(flags.one("--registry-id"))
        .set_repository_name(repository_name(flags)?)
        .set_image_tag_mutability(params::tag_mutability(flags))
        .set_image_tag_mutability_exclusion_filters(params::exclusion_filters(flags)?)
        .send()
        .await
        .map_err(|e| call.failed(e))?;
    Ok(Some(out::object([
        ("registryId", result.registry_id().map(Value::from)),
        ("repositoryName", result.repository_name().map(Value::from)),
        ("imageTagMutability", result.image_tag_mutability().map(|m| Value::from(m.as_str()))),
        (
            "imageTagMutabilityExclusionFilters",
            out::non_empty(result.image_tag_mutability_exclusion_filters().iter().map(out::exclusion_filter).collect()),
        ),
    ])))
}
