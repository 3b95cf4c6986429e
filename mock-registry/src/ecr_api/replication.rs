//! Replication: PutReplicationConfiguration, DescribeRegistry (which shows the configuration) and
//! DescribeImageReplicationStatus. The rules and the copies are `state::replication`.

use axum::response::Response;
use serde::{Deserialize, Serialize};

use super::operations::{invalid, registry, repository_name, required};
use super::wire::ImageIdentifier;
use super::{EcrError, json};
use crate::Lab;
use crate::state::replication::{self as rules, ReplicationConfiguration, ReplicationRule};
use crate::state::{Caller, ImageRef, StateError};
use crate::types::{Digest, ImageTag};

#[derive(Deserialize, Serialize, Default, Clone)]
#[serde(rename_all = "camelCase")]
pub(super) struct ConfigurationWire {
    rules: Option<Vec<RuleWire>>,
}

#[derive(Deserialize, Serialize, Default, Clone)]
#[serde(rename_all = "camelCase")]
struct RuleWire {
    destinations: Option<Vec<DestinationWire>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    repository_filters: Option<Vec<FilterWire>>,
}

#[derive(Deserialize, Serialize, Default, Clone)]
#[serde(rename_all = "camelCase")]
struct DestinationWire {
    region: Option<String>,
    registry_id: Option<String>,
}

#[derive(Deserialize, Serialize, Default, Clone)]
#[serde(rename_all = "camelCase")]
struct FilterWire {
    filter: Option<String>,
    filter_type: Option<String>,
}

#[derive(Deserialize, Default)]
#[serde(rename_all = "camelCase")]
pub(super) struct PutRequest {
    replication_configuration: Option<ConfigurationWire>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct PutResponse {
    replication_configuration: ConfigurationWire,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct DescribeRegistryResponse {
    registry_id: String,
    replication_configuration: ConfigurationWire,
}

#[derive(Deserialize, Default)]
#[serde(rename_all = "camelCase")]
pub(super) struct StatusRequest {
    registry_id: Option<String>,
    repository_name: Option<String>,
    image_id: Option<ImageIdentifier>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct StatusResponse {
    repository_name: String,
    image_id: ImageIdentifier,
    replication_statuses: Vec<StatusOut>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct StatusOut {
    region: String,
    registry_id: String,
    status: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    failure_code: Option<String>,
}

/// The wire configuration, checked against the model, as the state's rules.
fn configuration(wire: ConfigurationWire) -> Result<ReplicationConfiguration, EcrError> {
    let wire_rules = required(wire.rules, "replicationConfiguration.rules")?;
    if wire_rules.len() > rules::MAX_RULES {
        let bound = format!("Member must have length less than or equal to {}", rules::MAX_RULES);
        return Err(invalid("replicationConfiguration.rules", &bound));
    }
    let mut out = Vec::new();
    for rule in wire_rules {
        let destinations = required(rule.destinations, "replicationConfiguration.rules.destinations")?;
        if destinations.len() > rules::MAX_DESTINATIONS_PER_RULE {
            let bound = format!("Member must have length less than or equal to {}", rules::MAX_DESTINATIONS_PER_RULE);
            return Err(invalid("replicationConfiguration.rules.destinations", &bound));
        }
        let destinations = destinations
            .into_iter()
            .map(|d| {
                let region = required(d.region, "replicationConfiguration.rules.destinations.region")?;
                let id = required(d.registry_id, "replicationConfiguration.rules.destinations.registryId")?;
                Ok(rules::destination(&region, &id)?)
            })
            .collect::<Result<Vec<_>, EcrError>>()?;
        let prefixes = match rule.repository_filters {
            None => Vec::new(),
            Some(filters) if filters.is_empty() || filters.len() > rules::MAX_FILTERS => {
                let bound = format!("Member must have length between 1 and {}", rules::MAX_FILTERS);
                return Err(invalid("replicationConfiguration.rules.repositoryFilters", &bound));
            }
            Some(filters) => filters.into_iter().map(prefix_filter).collect::<Result<Vec<_>, _>>()?,
        };
        out.push(ReplicationRule { destinations, prefixes });
    }
    Ok(ReplicationConfiguration { rules: out })
}

fn prefix_filter(filter: FilterWire) -> Result<String, EcrError> {
    let kind = required(filter.filter_type, "replicationConfiguration.rules.repositoryFilters.filterType")?;
    if kind != "PREFIX_MATCH" {
        return Err(invalid(
            "replicationConfiguration.rules.repositoryFilters.filterType",
            "Member must satisfy enum value set: [PREFIX_MATCH]",
        ));
    }
    let value = required(filter.filter, "replicationConfiguration.rules.repositoryFilters.filter")?;
    rules::check_filter(&value)?;
    Ok(value)
}

/// The state's configuration as the wire shows it.
fn wire(configuration: &ReplicationConfiguration) -> ConfigurationWire {
    let rules = configuration.rules.iter().map(|rule| RuleWire {
        destinations: Some(
            rule.destinations
                .iter()
                .map(|d| DestinationWire {
                    region: Some(d.region.to_string()),
                    registry_id: Some(d.account.to_string()),
                })
                .collect(),
        ),
        repository_filters: (!rule.prefixes.is_empty()).then(|| {
            rule.prefixes
                .iter()
                .map(|p| FilterWire { filter: Some(p.clone()), filter_type: Some("PREFIX_MATCH".into()) })
                .collect()
        }),
    });
    ConfigurationWire { rules: Some(rules.collect()) }
}

pub(super) async fn put(lab: &Lab, caller: &Caller, request: PutRequest) -> Result<Response, EcrError> {
    let registry = registry(caller, None)?;
    let configuration = configuration(required(request.replication_configuration, "replicationConfiguration")?)?;
    let stored = lab.write(|s| s.put_replication(&registry, configuration)).await?;
    Ok(json(PutResponse { replication_configuration: wire(&stored) }))
}

pub(super) fn describe_registry(lab: &Lab, caller: &Caller) -> Result<Response, EcrError> {
    let registry = registry(caller, None)?;
    let configuration = lab.read(|s| s.replication(&registry));
    Ok(json(DescribeRegistryResponse {
        registry_id: registry.account.to_string(),
        replication_configuration: wire(&configuration),
    }))
}

pub(super) fn image_status(lab: &Lab, caller: &Caller, request: StatusRequest) -> Result<Response, EcrError> {
    let registry = registry(caller, request.registry_id)?;
    let name = repository_name(request.repository_name)?;
    let id = required(request.image_id, "imageId")?;
    let reference = ImageRef { digest: id.image_digest.clone(), tag: id.image_tag.clone() };
    let (digest, tag, statuses) = lab.read(|s| -> Result<_, StateError> {
        let repository = s.repository(&registry, &name)?;
        let by_digest =
            id.image_digest.as_deref().and_then(|d| Digest::parse(d).ok()).and_then(|d| repository.images.get(&d));
        let by_tag =
            id.image_tag.as_deref().and_then(|t| ImageTag::parse(t).ok()).and_then(|t| repository.image_by_tag(&t));
        let image = match (&id.image_digest, &id.image_tag) {
            (Some(_), Some(_)) => by_digest.filter(|i| by_tag.is_some_and(|t| t.digest == i.digest)),
            (Some(_), None) => by_digest,
            _ => by_tag,
        };
        let not_found = || StateError::ImageNotFound {
            image: reference.clone(),
            name: name.clone(),
            registry: registry.account.clone(),
        };
        let image = image.ok_or_else(not_found)?;
        let tag = id.image_tag.clone().or_else(|| image.tags.first().map(|t| t.to_string()));
        Ok((image.digest.clone(), tag, s.replication_statuses(&registry, &name, &image.digest)))
    })?;
    let replication_statuses = statuses
        .into_iter()
        .map(|s| StatusOut {
            region: s.destination.region.to_string(),
            registry_id: s.destination.account.to_string(),
            status: s.status.wire(),
            failure_code: s.failure,
        })
        .collect();
    Ok(json(StatusResponse {
        repository_name: name.to_string(),
        image_id: ImageIdentifier { image_digest: Some(digest.to_string()), image_tag: tag },
        replication_statuses,
    }))
}
