//! Image scanning: start a scan, read its findings, and the repository and registry scanning
//! configurations.

use aws_sdk_ecr::types as t;
use serde_json::Value;

use super::shared_flags::*;
use super::{Call, Command, command};
use crate::shell::aws::failure::{Failure, Outcome};
use crate::shell::aws::flags::Flag;
use crate::shell::aws::params::{self, repository_name};
use crate::shell::aws_json as out;

pub const START_IMAGE_SCAN: Command = command!(StartImageScan, [REGISTRY_ID, REPOSITORY_NAME, IMAGE_ID], start);

async fn start(call: Call<'_>) -> Outcome {
    let result = call
        .ecr
        .start_image_scan()
        .set_registry_id(call.flags.one("--registry-id"))
        .set_repository_name(repository_name(&call.flags)?)
        .set_image_id(params::image_id(&call.flags)?)
        .send()
        .await
        .map_err(|e| call.failed(e))?;
    Ok(Some(out::object([
        ("registryId", result.registry_id().map(Value::from)),
        ("repositoryName", result.repository_name().map(Value::from)),
        ("imageId", result.image_id().map(out::image_id)),
        ("imageScanStatus", result.image_scan_status().map(out::scan_status)),
    ])))
}

pub const DESCRIBE_IMAGE_SCAN_FINDINGS: Command =
    command!(DescribeImageScanFindings, [REGISTRY_ID, REPOSITORY_NAME, IMAGE_ID], findings);

async fn findings(call: Call<'_>) -> Outcome {
    let pages = call
        .ecr
        .describe_image_scan_findings()
        .set_registry_id(call.flags.one("--registry-id"))
        .set_repository_name(repository_name(&call.flags)?)
        .set_image_id(params::image_id(&call.flags)?)
        .into_paginator()
        .send()
        .collect::<Vec<_>>()
        .await;
    let mut first = None;
    let mut findings = Vec::new();
    for page in pages {
        let page = page.map_err(|e| call.failed(e))?;
        if let Some(f) = page.image_scan_findings() {
            findings.extend(f.findings().iter().map(out::finding));
        }
        first.get_or_insert(page);
    }
    let first = first.unwrap_or_else(|| {
        aws_sdk_ecr::operation::describe_image_scan_findings::DescribeImageScanFindingsOutput::builder().build()
    });
    Ok(Some(out::object([
        ("registryId", first.registry_id().map(Value::from)),
        ("repositoryName", first.repository_name().map(Value::from)),
        ("imageId", first.image_id().map(out::image_id)),
        ("imageScanStatus", first.image_scan_status().map(out::scan_status)),
        ("imageScanFindings", first.image_scan_findings().map(|f| out::scan_findings(f, findings))),
    ])))
}

pub const PUT_IMAGE_SCANNING_CONFIGURATION: Command = command!(
    PutImageScanningConfiguration,
    [REGISTRY_ID, REPOSITORY_NAME, IMAGE_SCANNING_CONFIGURATION.required()],
    put_repository_configuration
);

async fn put_repository_configuration(call: Call<'_>) -> Outcome {
    let result = call
        .ecr
        .put_image_scanning_configuration()
        .set_registry_id(call.flags.one("--registry-id"))
        .set_repository_name(repository_name(&call.flags)?)
        .set_image_scanning_configuration(params::scanning(&call.flags)?)
        .send()
        .await
        .map_err(|e| call.failed(e))?;
    Ok(Some(out::object([
        ("registryId", result.registry_id().map(Value::from)),
        ("repositoryName", result.repository_name().map(Value::from)),
        ("imageScanningConfiguration", result.image_scanning_configuration().map(out::scanning)),
    ])))
}

pub const BATCH_GET_REPOSITORY_SCANNING_CONFIGURATION: Command =
    command!(BatchGetRepositoryScanningConfiguration, [REPOSITORY_NAMES.required()], get_repository_configurations);

async fn get_repository_configurations(call: Call<'_>) -> Outcome {
    let result = call
        .ecr
        .batch_get_repository_scanning_configuration()
        .set_repository_names(call.flags.many("--repository-names"))
        .send()
        .await
        .map_err(|e| call.failed(e))?;
    let failure = |f: &t::RepositoryScanningConfigurationFailure| {
        out::object([
            ("repositoryName", f.repository_name().map(Value::from)),
            ("failureCode", f.failure_code().map(|c| Value::from(c.as_str()))),
            ("failureReason", f.failure_reason().map(Value::from)),
        ])
    };
    Ok(Some(out::object([
        (
            "scanningConfigurations",
            Some(Value::Array(result.scanning_configurations().iter().map(out::repository_scanning).collect())),
        ),
        ("failures", Some(Value::Array(result.failures().iter().map(failure).collect()))),
    ])))
}

pub const GET_REGISTRY_SCANNING_CONFIGURATION: Command =
    command!(GetRegistryScanningConfiguration, [], get_registry_configuration);

async fn get_registry_configuration(call: Call<'_>) -> Outcome {
    let result = call.ecr.get_registry_scanning_configuration().send().await.map_err(|e| call.failed(e))?;
    Ok(Some(out::object([
        ("registryId", result.registry_id().map(Value::from)),
        ("scanningConfiguration", result.scanning_configuration().map(out::registry_scanning)),
    ])))
}

pub const PUT_REGISTRY_SCANNING_CONFIGURATION: Command = command!(
    PutRegistryScanningConfiguration,
    [Flag::one("--scan-type"), Flag::one("--rules")],
    put_registry_configuration
);

async fn put_registry_configuration(call: Call<'_>) -> Outcome {
    let result = call
        .ecr
        .put_registry_scanning_configuration()
        .set_scan_type(call.flags.one("--scan-type").map(|t| t::ScanType::from(t.as_str())))
        .set_rules(call.flags.one("--rules").map(|v| scanning_rules(&v)).transpose()?)
        .send()
        .await
        .map_err(|e| call.failed(e))?;
    Ok(Some(out::object([(
        "registryScanningConfiguration",
        result.registry_scanning_configuration().map(out::registry_scanning),
    )])))
}

/// `--rules` of put-registry-scanning-configuration: the CLI's JSON form,
/// `[{"scanFrequency":"SCAN_ON_PUSH","repositoryFilters":[{"filter":"prod-*","filterType":"WILDCARD"}]}]`.
fn scanning_rules(value: &str) -> Result<Vec<t::RegistryScanningRule>, Failure> {
    let text = params::text_value(value)?;
    let parsed: Vec<Value> = serde_json::from_str(&text).map_err(|e| {
        Failure::Other(format!(
            "Error parsing parameter 'rules': Invalid JSON: {e}\nJSON received: {text}\n(the lab's aws takes --rules as JSON)"
        ))
    })?;
    parsed.iter().enumerate().map(|(n, rule)| scanning_rule(n, rule)).collect()
}

fn scanning_rule(n: usize, rule: &Value) -> Result<t::RegistryScanningRule, Failure> {
    let filters = rule["repositoryFilters"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|f| {
            t::ScanningRepositoryFilter::builder()
                .set_filter(f["filter"].as_str().map(str::to_owned))
                .set_filter_type(f["filterType"].as_str().map(t::ScanningRepositoryFilterType::from))
                .build()
                .map_err(|_| {
                    Failure::Validation(format!(
                        "Missing required parameter in rules[{n}].repositoryFilters: \"filter\" or \"filterType\""
                    ))
                })
        })
        .collect::<Result<Vec<_>, _>>()?;
    t::RegistryScanningRule::builder()
        .set_scan_frequency(rule["scanFrequency"].as_str().map(t::ScanFrequency::from))
        .set_repository_filters(Some(filters))
        .build()
        .map_err(|_| Failure::Validation(format!("Missing required parameter in rules[{n}]: \"scanFrequency\"")))
}
