//! Replication: `aws ecr put-replication-configuration | describe-image-replication-status` (and the
//! configuration `describe-registry` prints).

use aws_sdk_ecr::types as t;
use serde_json::{Value, json};

use super::shared_flags::{IMAGE_ID, REGISTRY_ID, REPOSITORY_NAME};
use super::{Call, Command, command};
use crate::shell::aws::failure::{Failure, Outcome};
use crate::shell::aws::flags::Flag;
use crate::shell::aws::params::{self, repository_name};
use crate::shell::aws_json as out;

pub const PUT_REPLICATION_CONFIGURATION: Command =
    command!(PutReplicationConfiguration, [Flag::one("--replication-configuration").required()], put);

async fn put(call: Call<'_>) -> Outcome {
    let configuration = match call.flags.one("--replication-configuration") {
        Some(value) => Some(parse_configuration(&value)?),
        None => None,
    };
    let r = call
        .ecr
        .put_replication_configuration()
        .set_replication_configuration(configuration)
        .send()
        .await
        .map_err(|e| call.failed(e))?;
    Ok(Some(out::object([("replicationConfiguration", r.replication_configuration().map(configuration_json))])))
}

/// `--replication-configuration` as JSON (`file://` allowed):
/// `{"rules":[{"destinations":[{"region":"us-west-2","registryId":"920736617090"}]}]}`.
fn parse_configuration(value: &str) -> Result<t::ReplicationConfiguration, Failure> {
    let text = params::text_value(value)?;
    let parsed: Value = serde_json::from_str(&text).map_err(|e| {
        Failure::Other(format!(
            "Error parsing parameter 'replication-configuration': Invalid JSON: {e}\nJSON received: {text}\n\
             (the lab's aws takes --replication-configuration as JSON, not shorthand)"
        ))
    })?;
    let missing =
        |what: &str| Failure::Other(format!("Parameter validation failed:\nMissing required parameter in {what}"));
    let rules = parsed["rules"].as_array().ok_or_else(|| missing("ReplicationConfiguration: \"rules\""))?;
    let mut built = Vec::new();
    for (n, rule) in rules.iter().enumerate() {
        let mut destinations = Vec::new();
        for d in rule["destinations"].as_array().into_iter().flatten() {
            let destination = t::ReplicationDestination::builder()
                .set_region(d["region"].as_str().map(str::to_owned))
                .set_registry_id(d["registryId"].as_str().map(str::to_owned))
                .build()
                .map_err(|_| {
                    missing(&format!("ReplicationConfiguration.rules[{n}].destinations: \"region\" or \"registryId\""))
                })?;
            destinations.push(destination);
        }
        let filters = rule["repositoryFilters"].as_array().map(|filters| {
            filters
                .iter()
                .filter_map(|f| {
                    t::RepositoryFilter::builder()
                        .set_filter(f["filter"].as_str().map(str::to_owned))
                        .set_filter_type(f["filterType"].as_str().map(t::RepositoryFilterType::from))
                        .build()
                        .ok()
                })
                .collect()
        });
        let rule = t::ReplicationRule::builder().set_destinations(Some(destinations)).set_repository_filters(filters);
        built.push(
            rule.build().map_err(|_| missing(&format!("ReplicationConfiguration.rules[{n}]: \"destinations\"")))?,
        );
    }
    t::ReplicationConfiguration::builder()
        .set_rules(Some(built))
        .build()
        .map_err(|_| missing("ReplicationConfiguration: \"rules\""))
}

/// A replication configuration as the CLI prints it.
pub fn configuration_json(c: &t::ReplicationConfiguration) -> Value {
    let rules: Vec<Value> = c
        .rules()
        .iter()
        .map(|rule| {
            let destinations: Vec<Value> = rule
                .destinations()
                .iter()
                .map(|d| json!({ "region": d.region(), "registryId": d.registry_id() }))
                .collect();
            let filters: Vec<Value> = rule
                .repository_filters()
                .iter()
                .map(|f| json!({ "filter": f.filter(), "filterType": f.filter_type().as_str() }))
                .collect();
            out::object([
                ("destinations", Some(Value::Array(destinations))),
                ("repositoryFilters", out::non_empty(filters)),
            ])
        })
        .collect();
    json!({ "rules": rules })
}

pub const DESCRIBE_IMAGE_REPLICATION_STATUS: Command =
    command!(DescribeImageReplicationStatus, [REPOSITORY_NAME, IMAGE_ID, REGISTRY_ID], status);

async fn status(call: Call<'_>) -> Outcome {
    let r = call
        .ecr
        .describe_image_replication_status()
        .set_repository_name(repository_name(&call.flags)?)
        .set_image_id(params::image_id(&call.flags)?)
        .set_registry_id(call.flags.one("--registry-id"))
        .send()
        .await
        .map_err(|e| call.failed(e))?;
    let statuses: Vec<Value> = r
        .replication_statuses()
        .iter()
        .map(|s| {
            out::object([
                ("region", s.region().map(Value::from)),
                ("registryId", s.registry_id().map(Value::from)),
                ("status", s.status().map(|v| Value::from(v.as_str()))),
                ("failureCode", s.failure_code().map(Value::from)),
            ])
        })
        .collect();
    Ok(Some(out::object([
        ("repositoryName", r.repository_name().map(Value::from)),
        ("imageId", r.image_id().map(out::image_id)),
        ("replicationStatuses", Some(Value::Array(statuses))),
    ])))
}
