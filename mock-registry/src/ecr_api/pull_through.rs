//! Pull-through cache rules: Create, Describe, Update, Delete and ValidatePullThroughCacheRule.
//! The rules are `state::pull_through`; pulls through a rule are `crate::pull_through`.

use axum::response::Response;
use serde::{Deserialize, Serialize};

use super::operations::{invalid, registry, required};
use super::{EcrError, json};
use crate::Lab;
use crate::state::pull_through::{self as rules, NewRule, PullThroughRule, UpstreamKind};
use crate::state::{Caller, RegistryKey};

/// Every member any of the five requests has.
#[derive(Deserialize, Default)]
#[serde(rename_all = "camelCase")]
pub(super) struct RuleRequest {
    registry_id: Option<String>,
    ecr_repository_prefix: Option<String>,
    upstream_registry_url: Option<String>,
    upstream_registry: Option<String>,
    credential_arn: Option<String>,
    custom_role_arn: Option<String>,
    upstream_repository_prefix: Option<String>,
    /// DescribePullThroughCacheRules.
    ecr_repository_prefixes: Option<Vec<String>>,
    next_token: Option<String>,
    max_results: Option<i64>,
}

/// A rule on the wire; each response carries the members its shape has.
#[derive(Serialize, Default)]
#[serde(rename_all = "camelCase")]
struct RuleOut {
    ecr_repository_prefix: String,
    registry_id: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    upstream_registry_url: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    created_at: Option<f64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    updated_at: Option<f64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    upstream_registry: Option<&'static str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    credential_arn: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    custom_role_arn: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    upstream_repository_prefix: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    is_valid: Option<bool>,
    #[serde(skip_serializing_if = "Option::is_none")]
    failure: Option<String>,
}

impl RuleOut {
    fn of(registry: &RegistryKey, rule: &PullThroughRule) -> Self {
        Self {
            ecr_repository_prefix: rule.prefix.clone(),
            registry_id: registry.account.to_string(),
            upstream_registry_url: Some(rule.upstream_url.clone()),
            credential_arn: rule.credential_arn.clone(),
            custom_role_arn: rule.custom_role_arn.clone(),
            upstream_repository_prefix: rule.upstream_prefix.clone(),
            ..Self::default()
        }
    }
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct DescribeOut {
    pull_through_cache_rules: Vec<RuleOut>,
    #[serde(skip_serializing_if = "Option::is_none")]
    next_token: Option<String>,
}

fn prefix(value: Option<String>) -> Result<String, EcrError> {
    Ok(rules::parse_prefix(&required(value, "ecrRepositoryPrefix")?, "ecrRepositoryPrefix")?)
}

fn arns(request: &RuleRequest) -> Result<(), EcrError> {
    if let Some(arn) = &request.credential_arn {
        rules::check_credential_arn(arn)?;
    }
    if request.custom_role_arn.as_ref().is_some_and(|arn| arn.len() > 2048) {
        return Err(invalid("customRoleArn", "Member must have length less than or equal to 2048"));
    }
    Ok(())
}

pub(super) async fn create(lab: &Lab, caller: &Caller, request: RuleRequest) -> Result<Response, EcrError> {
    let registry = registry(caller, request.registry_id.clone())?;
    let prefix = prefix(request.ecr_repository_prefix.clone())?;
    arns(&request)?;
    let kind = match &request.upstream_registry {
        None => None,
        Some(text) => Some(UpstreamKind::from_wire(text).ok_or_else(|| {
            invalid("upstreamRegistry", &format!("Member must satisfy enum value set: {}", UpstreamKind::value_set()))
        })?),
    };
    let upstream_prefix = match request.upstream_repository_prefix {
        Some(p) => Some(rules::parse_prefix(&p, "upstreamRepositoryPrefix")?),
        None => None,
    };
    let new = NewRule {
        prefix,
        upstream_url: required(request.upstream_registry_url, "upstreamRegistryUrl")?,
        kind,
        credential_arn: request.credential_arn,
        custom_role_arn: request.custom_role_arn,
        upstream_prefix,
    };
    let rule = lab.write(|s| s.create_pull_through_rule(&registry, new)).await?;
    Ok(json(RuleOut {
        created_at: Some(rule.created_at.epoch_seconds()),
        upstream_registry: Some(rule.kind.wire()),
        ..RuleOut::of(&registry, &rule)
    }))
}

pub(super) fn describe(lab: &Lab, caller: &Caller, request: RuleRequest) -> Result<Response, EcrError> {
    let registry = registry(caller, request.registry_id)?;
    let prefixes = match request.ecr_repository_prefixes {
        Some(list) if list.is_empty() || list.len() > 100 => {
            return Err(invalid("ecrRepositoryPrefixes", "Member must have length between 1 and 100"));
        }
        Some(list) => list.into_iter().map(|p| prefix(Some(p))).collect::<Result<Vec<_>, _>>()?,
        None => Vec::new(),
    };
    let page = match request.max_results {
        None => 100,
        Some(n @ 1..=1000) => n as usize,
        Some(_) => return Err(invalid("maxResults", "Member must have value between 1 and 1000")),
    };
    let all = lab.read(|s| s.pull_through_rules(&registry, &prefixes))?;
    let start = match request.next_token {
        None => 0,
        Some(token) => all
            .iter()
            .position(|r| r.prefix == token)
            .ok_or_else(|| invalid("nextToken", "The nextToken is not from an earlier call"))?,
    };
    let next_token = all.get(start + page).map(|r| r.prefix.clone());
    let rules = all[start..].iter().take(page).map(|rule| RuleOut {
        created_at: Some(rule.created_at.epoch_seconds()),
        updated_at: Some(rule.updated_at.epoch_seconds()),
        upstream_registry: Some(rule.kind.wire()),
        ..RuleOut::of(&registry, rule)
    });
    Ok(json(DescribeOut { pull_through_cache_rules: rules.collect(), next_token }))
}

pub(super) async fn update(lab: &Lab, caller: &Caller, request: RuleRequest) -> Result<Response, EcrError> {
    let registry = registry(caller, request.registry_id.clone())?;
    let prefix = prefix(request.ecr_repository_prefix.clone())?;
    arns(&request)?;
    let (credential, role) = (request.credential_arn, request.custom_role_arn);
    let rule = lab.write(|s| s.update_pull_through_rule(&registry, &prefix, credential, role)).await?;
    Ok(json(RuleOut {
        upstream_registry_url: None,
        updated_at: Some(rule.updated_at.epoch_seconds()),
        ..RuleOut::of(&registry, &rule)
    }))
}

pub(super) async fn delete(lab: &Lab, caller: &Caller, request: RuleRequest) -> Result<Response, EcrError> {
    let registry = registry(caller, request.registry_id)?;
    let prefix = prefix(request.ecr_repository_prefix)?;
    let rule = lab.write(|s| s.delete_pull_through_rule(&registry, &prefix)).await?;
    Ok(json(RuleOut { created_at: Some(rule.created_at.epoch_seconds()), ..RuleOut::of(&registry, &rule) }))
}

/// ValidatePullThroughCacheRule: the lab's upstream is always reachable, and a well-formed secret
/// counts as working credentials (the lab cannot read Secrets Manager). An ECR upstream is
/// valid when its registry is one of this lab's.
pub(super) fn validate(lab: &Lab, caller: &Caller, request: RuleRequest) -> Result<Response, EcrError> {
    let registry = registry(caller, request.registry_id)?;
    let prefix = prefix(request.ecr_repository_prefix)?;
    let rule = lab.read(|s| s.pull_through_rule(&registry, &prefix).cloned())?;
    let failure = crate::pull_through::reachable(lab, &rule).err();
    Ok(json(RuleOut { is_valid: Some(failure.is_none()), failure, ..RuleOut::of(&registry, &rule) }))
}
