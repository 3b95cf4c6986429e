//! Repository creation templates: `aws ecr create- | describe- | update- | delete-repository-creation-template(s)`.

use aws_sdk_ecr::types as t;
use serde_json::{Value, json};

use super::shared_flags::*;
use super::{Call, Command, command};
use crate::shell::aws::failure::{Failure, Outcome};
use crate::shell::aws::flags::Flag;
use crate::shell::aws::params::{self, Members, shorthand_flag, shorthand_list, str_member};
use crate::shell::aws_json as out;

const PREFIX: Flag = Flag::one("--prefix").required();
const DESCRIPTION: Flag = Flag::one("--description");
const ENCRYPTION: Flag = Flag::one("--encryption-configuration");
const RESOURCE_TAGS: Flag = Flag::many("--resource-tags");
const REPOSITORY_POLICY: Flag = Flag::one("--repository-policy");
const LIFECYCLE_POLICY: Flag = Flag::one("--lifecycle-policy");
const APPLIED_FOR: Flag = Flag::many("--applied-for");
const CUSTOM_ROLE_ARN: Flag = Flag::one("--custom-role-arn");

/// The members create and update share, read from the flags.
struct TemplateMembers {
    encryption: Option<t::EncryptionConfigurationForRepositoryCreationTemplate>,
    tags: Option<Vec<t::Tag>>,
    applied_for: Option<Vec<t::RctAppliedFor>>,
    repository_policy: Option<String>,
    lifecycle_policy: Option<String>,
}

fn encryption(map: &Members) -> Result<t::EncryptionConfigurationForRepositoryCreationTemplate, Failure> {
    t::EncryptionConfigurationForRepositoryCreationTemplate::builder()
        .set_encryption_type(str_member(map, "encryptionType").map(|e| t::EncryptionType::from(e.as_str())))
        .set_kms_key(str_member(map, "kmsKey"))
        .build()
        .map_err(|_| {
            Failure::Validation("Missing required parameter in encryptionConfiguration: \"encryptionType\"".into())
        })
}

fn members(call: &Call<'_>) -> Result<TemplateMembers, Failure> {
    let flags = &call.flags;
    let tags = shorthand_list(flags, "--resource-tags", |map| {
        t::Tag::builder()
            .set_key(str_member(map, "Key"))
            .set_value(str_member(map, "Value"))
            .build()
            .map_err(|_| Failure::Validation("Missing required parameter in resourceTags[0]: \"Key\"".into()))
    })?;
    Ok(TemplateMembers {
        encryption: shorthand_flag(flags, "--encryption-configuration", encryption)?,
        tags,
        applied_for: flags
            .many("--applied-for")
            .map(|v| v.iter().map(|a| t::RctAppliedFor::from(a.as_str())).collect()),
        repository_policy: params::text_flag(flags, "--repository-policy")?,
        lifecycle_policy: params::text_flag(flags, "--lifecycle-policy")?,
    })
}

pub const CREATE_REPOSITORY_CREATION_TEMPLATE: Command = command!(
    CreateRepositoryCreationTemplate,
    [
        PREFIX,
        DESCRIPTION,
        ENCRYPTION,
        RESOURCE_TAGS,
        IMAGE_TAG_MUTABILITY,
        EXCLUSION_FILTERS,
        REPOSITORY_POLICY,
        LIFECYCLE_POLICY,
        APPLIED_FOR.required(),
        CUSTOM_ROLE_ARN
    ],
    create
);

async fn create(call: Call<'_>) -> Outcome {
    let m = members(&call)?;
    let flags = &call.flags;
    let result = call
        .ecr
        .create_repository_creation_template()
        .set_prefix(flags.one("--prefix"))
        .set_description(flags.one("--description"))
        .set_encryption_configuration(m.encryption)
        .set_resource_tags(m.tags)
        .set_image_tag_mutability(params::tag_mutability(flags))
        .set_image_tag_mutability_exclusion_filters(params::exclusion_filters(flags)?)
        .set_repository_policy(m.repository_policy)
        .set_lifecycle_policy(m.lifecycle_policy)
        .set_applied_for(m.applied_for)
        .set_custom_role_arn(flags.one("--custom-role-arn"))
        .send()
        .await
        .map_err(|e| call.failed(e))?;
    Ok(Some(answer(result.registry_id(), result.repository_creation_template())))
}

pub const UPDATE_REPOSITORY_CREATION_TEMPLATE: Command = command!(
    UpdateRepositoryCreationTemplate,
    [
        PREFIX,
        DESCRIPTION,
        ENCRYPTION,
        RESOURCE_TAGS,
        IMAGE_TAG_MUTABILITY,
        EXCLUSION_FILTERS,
        REPOSITORY_POLICY,
        LIFECYCLE_POLICY,
        APPLIED_FOR,
        CUSTOM_ROLE_ARN
    ],
    update
);

async fn update(call: Call<'_>) -> Outcome {
    let m = members(&call)?;
    let flags = &call.flags;
    let result = call
        .ecr
        .update_repository_creation_template()
        .set_prefix(flags.one("--prefix"))
        .set_description(flags.one("--description"))
        .set_encryption_configuration(m.encryption)
        .set_resource_tags(m.tags)
        .set_image_tag_mutability(params::tag_mutability(flags))
        .set_image_tag_mutability_exclusion_filters(params::exclusion_filters(flags)?)
        .set_repository_policy(m.repository_policy)
        .set_lifecycle_policy(m.lifecycle_policy)
        .set_applied_for(m.applied_for)
        .set_custom_role_arn(flags.one("--custom-role-arn"))
        .send()
        .await
        .map_err(|e| call.failed(e))?;
    Ok(Some(answer(result.registry_id(), result.repository_creation_template())))
}

pub const DELETE_REPOSITORY_CREATION_TEMPLATE: Command = command!(DeleteRepositoryCreationTemplate, [PREFIX], delete);

async fn delete(call: Call<'_>) -> Outcome {
    let result = call
        .ecr
        .delete_repository_creation_template()
        .set_prefix(call.flags.one("--prefix"))
        .send()
        .await
        .map_err(|e| call.failed(e))?;
    Ok(Some(answer(result.registry_id(), result.repository_creation_template())))
}

pub const DESCRIBE_REPOSITORY_CREATION_TEMPLATES: Command =
    command!(DescribeRepositoryCreationTemplates, [Flag::many("--prefixes"), Flag::one("--max-results")], describe);

/// Every page, as the CLI's auto-pagination prints it.
async fn describe(call: Call<'_>) -> Outcome {
    let max_results = params::integer(&call.flags, "--max-results")?.map(|n| n as i32);
    let mut templates = Vec::new();
    let mut registry_id = None;
    let mut next_token = None;
    loop {
        let result = call
            .ecr
            .describe_repository_creation_templates()
            .set_prefixes(call.flags.many("--prefixes"))
            .set_max_results(max_results)
            .set_next_token(next_token)
            .send()
            .await
            .map_err(|e| call.failed(e))?;
        registry_id = registry_id.or_else(|| result.registry_id().map(str::to_owned));
        templates.extend(result.repository_creation_templates().iter().map(template));
        next_token = result.next_token().map(str::to_owned);
        if next_token.is_none() {
            break;
        }
    }
    // The CLI's paginator puts the result key before the other members.
    Ok(Some(out::object([
        ("repositoryCreationTemplates", Some(Value::Array(templates))),
        ("registryId", registry_id.map(Value::from)),
    ])))
}

fn answer(registry_id: Option<&str>, template_out: Option<&t::RepositoryCreationTemplate>) -> Value {
    out::object([
        ("registryId", registry_id.map(Value::from)),
        ("repositoryCreationTemplate", template_out.map(template)),
    ])
}

/// One template, members in the model's order.
fn template(t: &t::RepositoryCreationTemplate) -> Value {
    let text = |v: Option<&str>| v.map(Value::from);
    out::object([
        ("prefix", text(t.prefix())),
        ("description", text(t.description())),
        (
            "encryptionConfiguration",
            t.encryption_configuration().map(|e| {
                out::object([
                    ("encryptionType", Some(Value::from(e.encryption_type().as_str()))),
                    ("kmsKey", text(e.kms_key())),
                ])
            }),
        ),
        ("resourceTags", Some(json!(t.resource_tags().iter().map(out::tag).collect::<Vec<_>>()))),
        ("imageTagMutability", t.image_tag_mutability().map(|m| Value::from(m.as_str()))),
        (
            "imageTagMutabilityExclusionFilters",
            out::non_empty(t.image_tag_mutability_exclusion_filters().iter().map(out::exclusion_filter).collect()),
        ),
        ("repositoryPolicy", text(t.repository_policy())),
        ("lifecyclePolicy", text(t.lifecycle_policy())),
        ("appliedFor", Some(json!(t.applied_for().iter().map(|a| a.as_str()).collect::<Vec<_>>()))),
        ("customRoleArn", text(t.custom_role_arn())),
        ("createdAt", out::time(t.created_at())),
        ("updatedAt", out::time(t.updated_at())),
    ])
}
