//! Repository creation templates: Create/Describe/Update/DeleteRepositoryCreationTemplate.
//! Rules (and `apply_creation_template`, the hook repository creation on your behalf calls)
//! live in `state::templates`.

use axum::response::Response;
use serde::{Deserialize, Serialize};

use super::operations::{encryption, invalid, page, registry, required, resource_tags, tag_mutability};
use super::wire::{EncryptionConfigurationRequest, ExclusionFilter, Tag};
use super::{EcrError, json};
use crate::Lab;
use crate::state::templates::{AppliedFor, CreationTemplate, ROOT, normalize_prefix};
use crate::state::{Caller, RegistryKey};
use crate::types::{Millis, RepositoryName, WireEnum};

#[derive(Deserialize, Default)]
#[serde(rename_all = "camelCase")]
pub(super) struct TemplateRequest {
    prefix: Option<String>,
    description: Option<String>,
    encryption_configuration: Option<EncryptionConfigurationRequest>,
    resource_tags: Option<Vec<Tag>>,
    image_tag_mutability: Option<String>,
    image_tag_mutability_exclusion_filters: Option<Vec<ExclusionFilter>>,
    repository_policy: Option<String>,
    lifecycle_policy: Option<String>,
    applied_for: Option<Vec<String>>,
    custom_role_arn: Option<String>,
    // DescribeRepositoryCreationTemplates
    prefixes: Option<Vec<String>>,
    max_results: Option<i64>,
    next_token: Option<String>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct EncryptionOut {
    encryption_type: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    kms_key: Option<String>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct TemplateOut {
    prefix: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    description: Option<String>,
    encryption_configuration: EncryptionOut,
    resource_tags: Vec<Tag>,
    image_tag_mutability: &'static str,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    image_tag_mutability_exclusion_filters: Vec<ExclusionFilter>,
    #[serde(skip_serializing_if = "Option::is_none")]
    repository_policy: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    lifecycle_policy: Option<String>,
    applied_for: Vec<&'static str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    custom_role_arn: Option<String>,
    created_at: f64,
    updated_at: f64,
}

impl From<&CreationTemplate> for TemplateOut {
    fn from(t: &CreationTemplate) -> Self {
        Self {
            prefix: t.prefix.clone(),
            description: t.description.clone(),
            encryption_configuration: EncryptionOut {
                encryption_type: t.encryption.kind.wire(),
                kms_key: t.encryption.kms_key.clone(),
            },
            resource_tags: t.resource_tags.iter().map(Tag::from).collect(),
            image_tag_mutability: t.tag_mutability.mode.wire(),
            image_tag_mutability_exclusion_filters: t
                .tag_mutability
                .filters
                .iter()
                .map(|f| ExclusionFilter { filter_type: Some("WILDCARD".into()), filter: Some(f.as_str().to_owned()) })
                .collect(),
            repository_policy: t.repository_policy.clone(),
            lifecycle_policy: t.lifecycle_policy.clone(),
            applied_for: t.applied_for.iter().map(|a| a.wire()).collect(),
            custom_role_arn: t.custom_role_arn.clone(),
            created_at: t.created_at.epoch_seconds(),
            updated_at: t.updated_at.epoch_seconds(),
        }
    }
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct TemplateResponse {
    registry_id: String,
    repository_creation_template: TemplateOut,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct DescribeTemplatesResponse {
    registry_id: String,
    repository_creation_templates: Vec<TemplateOut>,
    #[serde(skip_serializing_if = "Option::is_none")]
    next_token: Option<String>,
}

const PREFIX_PATTERN: &str = r"^([a-z0-9]+((\.|_|__|-+)[a-z0-9]+)*(\/[a-z0-9]+((\.|_|__|-+)[a-z0-9]+)*)*\/?|ROOT)$";

/// `prefix`: `ROOT`, or a repository namespace (the trailing `/` ECR assumes is dropped).
fn prefix(value: Option<String>) -> Result<String, EcrError> {
    let value = required(value, "prefix")?;
    if value == ROOT {
        return Ok(value);
    }
    let normalized = normalize_prefix(&value);
    let single = normalized.len() == 1 && normalized.chars().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit());
    if value.len() > 256 || !(single || RepositoryName::parse(&normalized).is_ok()) {
        let constraint = format!("Member must satisfy regular expression pattern: {PREFIX_PATTERN}");
        return Err(super::registry::validation("prefix", &value, &constraint));
    }
    Ok(normalized)
}

fn applied_for(values: Vec<String>) -> Result<Vec<AppliedFor>, EcrError> {
    let mut out = Vec::new();
    for value in values {
        let kind = AppliedFor::from_wire(&value).ok_or_else(|| {
            invalid(
                "appliedFor",
                "Member must satisfy enum value set: [REPLICATION, PULL_THROUGH_CACHE, CREATE_ON_PUSH]",
            )
        })?;
        if !out.contains(&kind) {
            out.push(kind);
        }
    }
    Ok(out)
}

fn text_within(value: Option<String>, member: &str, max: usize) -> Result<Option<String>, EcrError> {
    match value {
        Some(text) if text.chars().count() > max => {
            Err(invalid(member, &format!("Member must have length less than or equal to {max}")))
        }
        other => Ok(other),
    }
}

/// The members of a create (all) or an update (those given) applied to `template`.
fn merge(caller: &Caller, template: &mut CreationTemplate, request: TemplateRequest) -> Result<(), EcrError> {
    if let Some(d) = text_within(request.description, "description", 256)? {
        template.description = Some(d);
    }
    if request.encryption_configuration.is_some() {
        template.encryption = encryption(caller, request.encryption_configuration)?;
    }
    if let Some(tags) = request.resource_tags {
        template.resource_tags = resource_tags(tags)?;
    }
    if request.image_tag_mutability.is_some() || request.image_tag_mutability_exclusion_filters.is_some() {
        template.tag_mutability =
            tag_mutability(request.image_tag_mutability, request.image_tag_mutability_exclusion_filters)?;
    }
    if let Some(p) = text_within(request.repository_policy, "repositoryPolicy", 10240)? {
        template.repository_policy = Some(p);
    }
    if let Some(p) = text_within(request.lifecycle_policy, "lifecyclePolicy", 30720)? {
        template.lifecycle_policy = Some(p);
    }
    if let Some(values) = request.applied_for {
        template.applied_for = applied_for(values)?;
    }
    if let Some(arn) = text_within(request.custom_role_arn, "customRoleArn", 2048)? {
        template.custom_role_arn = Some(arn);
    }
    Ok(())
}

fn answer(registry: &RegistryKey, template: &CreationTemplate) -> Response {
    json(TemplateResponse { registry_id: registry.account.to_string(), repository_creation_template: template.into() })
}

pub(super) async fn create(lab: &Lab, caller: &Caller, request: TemplateRequest) -> Result<Response, EcrError> {
    let registry = registry(caller, None)?;
    let prefix = prefix(request.prefix.clone())?;
    required(request.applied_for.as_ref(), "appliedFor")?;
    let mut template = CreationTemplate {
        prefix,
        description: None,
        encryption: encryption(caller, None)?,
        resource_tags: Vec::new(),
        tag_mutability: crate::state::TagMutabilitySetting::mutable(),
        repository_policy: None,
        lifecycle_policy: None,
        applied_for: Vec::new(),
        custom_role_arn: None,
        created_at: Millis(0),
        updated_at: Millis(0),
    };
    merge(caller, &mut template, request)?;
    let created = lab.write(|state| state.create_creation_template(&registry, template)).await?;
    Ok(answer(&registry, &created))
}

pub(super) async fn update(lab: &Lab, caller: &Caller, request: TemplateRequest) -> Result<Response, EcrError> {
    let registry = registry(caller, None)?;
    let prefix = prefix(request.prefix.clone())?;
    // Parse every member before taking the lock: a bad member changes nothing.
    let mut edits = lab.read(|state| state.creation_template(&registry, &prefix))?;
    merge(caller, &mut edits, request)?;
    let updated = lab.write(|state| state.update_creation_template(&registry, &prefix, |t| *t = edits)).await?;
    Ok(answer(&registry, &updated))
}

pub(super) async fn delete(lab: &Lab, caller: &Caller, request: TemplateRequest) -> Result<Response, EcrError> {
    let registry = registry(caller, None)?;
    let prefix = prefix(request.prefix)?;
    let deleted = lab.write(|state| state.delete_creation_template(&registry, &prefix)).await?;
    Ok(answer(&registry, &deleted))
}

pub(super) fn describe(lab: &Lab, caller: &Caller, request: TemplateRequest) -> Result<Response, EcrError> {
    let registry = registry(caller, None)?;
    let wanted =
        request.prefixes.map(|p| p.into_iter().map(|p| prefix(Some(p))).collect::<Result<Vec<_>, _>>()).transpose()?;
    let page = page(lab, request.max_results, request.next_token)?;
    let templates = lab.read(|state| state.creation_templates(&registry));
    let selected = templates.iter().filter(|t| wanted.as_ref().is_none_or(|w| w.contains(&t.prefix)));
    let (rows, next_token) = page.take(selected, |t| t.prefix.clone());
    Ok(json(DescribeTemplatesResponse {
        registry_id: registry.account.to_string(),
        repository_creation_templates: rows.into_iter().map(TemplateOut::from).collect(),
        next_token,
    }))
}
