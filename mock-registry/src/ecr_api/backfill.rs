//! Replication backfill: StartReplicationBackfill, StopReplicationBackfill, ListReplicationBackfills
//! and DescribeReplicationBackfillResults. Shapes, bounds and error codes are the service model's
//! (aws-sdk-ecr 1.138: the four operations' input/output modules, `types::ReplicationBackfill*`;
//! the API reference's `replicationBackfillId` pattern). The rules and the copies are
//! `state::backfill`; the lab's backfills have finished by the time Start answers.

use axum::response::Response;
use serde::{Deserialize, Serialize};

use super::operations::{invalid, page, registry, required};
use super::wire::ImageIdentifier;
use super::{EcrError, EcrErrorCode, json};
use crate::Lab;
use crate::state::backfill::{BackfillStatus, ReplicationBackfill};
use crate::state::{Caller, RegistryKey};
use crate::types::{AccountId, Region};

/// ListReplicationBackfills: "This value can be between 1 and 50 ... returns up to 25 results".
const LIST_MAX: i64 = 50;
const LIST_DEFAULT: i64 = 25;

/// The model's pattern for `replicationBackfillId` (API reference, StopReplicationBackfill).
const ID_PATTERN: &str = "[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}";

#[derive(Deserialize, Serialize, Default, Clone)]
#[serde(rename_all = "camelCase")]
pub(super) struct DestinationWire {
    region: Option<String>,
    registry_id: Option<String>,
}

impl DestinationWire {
    fn of(destination: &RegistryKey) -> Self {
        Self { region: Some(destination.region.to_string()), registry_id: Some(destination.account.to_string()) }
    }
}

#[derive(Deserialize, Default)]
#[serde(rename_all = "camelCase")]
pub(super) struct StartRequest {
    registry_id: Option<String>,
    destination: Option<DestinationWire>,
}

#[derive(Deserialize, Default)]
#[serde(rename_all = "camelCase")]
pub(super) struct StopRequest {
    registry_id: Option<String>,
    replication_backfill_id: Option<String>,
}

#[derive(Deserialize, Default)]
#[serde(rename_all = "camelCase")]
pub(super) struct ListRequest {
    registry_id: Option<String>,
    max_results: Option<i64>,
    next_token: Option<String>,
}

#[derive(Deserialize, Default)]
#[serde(rename_all = "camelCase")]
pub(super) struct ResultsRequest {
    registry_id: Option<String>,
    replication_backfill_id: Option<String>,
    result_status_filter: Option<String>,
    max_results: Option<i64>,
    next_token: Option<String>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct StartResponse {
    replication_backfill_id: String,
    registry_id: String,
    destination: DestinationWire,
    status: &'static str,
    started_at: f64,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct ProgressOut {
    total_replication_count: usize,
    completed_replication_count: usize,
    failed_replication_count: usize,
    failure_codes: Vec<String>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct SummaryOut {
    replication_backfill_id: String,
    destination: DestinationWire,
    status: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    failure_code: Option<String>,
    progress: ProgressOut,
    started_at: f64,
    ended_at: f64,
}

impl SummaryOut {
    fn of(backfill: &ReplicationBackfill) -> Self {
        let progress = backfill.progress();
        Self {
            replication_backfill_id: backfill.id.clone(),
            destination: DestinationWire::of(&backfill.destination),
            status: backfill.status.wire(),
            failure_code: backfill.failure.clone(),
            progress: ProgressOut {
                total_replication_count: progress.total,
                completed_replication_count: progress.completed,
                failed_replication_count: progress.failed,
                failure_codes: progress.failure_codes,
            },
            started_at: backfill.started_at.epoch_seconds(),
            ended_at: backfill.ended_at.epoch_seconds(),
        }
    }
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct ListResponse {
    registry_id: String,
    backfills: Vec<SummaryOut>,
    #[serde(skip_serializing_if = "Option::is_none")]
    next_token: Option<String>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct ResultOut {
    repository_name: String,
    image_id: ImageIdentifier,
    status: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    failure_code: Option<String>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct ResultsResponse {
    registry_id: String,
    #[serde(flatten)]
    summary: SummaryOut,
    results: Vec<ResultOut>,
    #[serde(skip_serializing_if = "Option::is_none")]
    next_token: Option<String>,
}

/// `destination` checked against the model: both members required, a region and a 12-digit id.
fn destination(wire: Option<DestinationWire>) -> Result<RegistryKey, EcrError> {
    let wire = required(wire, "destination")?;
    let region = required(wire.region, "destination.region")?;
    let region = Region::parse(&region).map_err(|e| invalid("destination.region", &e.0))?;
    let account = required(wire.registry_id, "destination.registryId")?;
    let account = AccountId::parse(&account).map_err(|e| invalid("destination.registryId", &e.0))?;
    Ok(RegistryKey::new(account, region))
}

/// `replicationBackfillId`: required, and a UUID as the model's pattern has it.
fn backfill_id(id: Option<String>) -> Result<String, EcrError> {
    let id = required(id, "replicationBackfillId")?;
    let groups: Vec<&str> = id.split('-').collect();
    let shaped = groups.iter().map(|g| g.len()).eq([8, 4, 4, 4, 12])
        && groups.iter().all(|g| g.bytes().all(|b| b.is_ascii_hexdigit()));
    if !shaped {
        let constraint = format!("Member must satisfy regular expression pattern: {ID_PATTERN}");
        return Err(invalid("replicationBackfillId", &constraint));
    }
    Ok(id)
}

/// Not captured from AWS: the model names the code; worded like ECR's other NotFound texts.
fn not_found(id: &str, registry: &RegistryKey) -> EcrError {
    EcrError::new(
        EcrErrorCode::ReplicationBackfillNotFoundException,
        format!(
            "The replication backfill with ID '{id}' does not exist in the registry with id '{}' in {}. \
             ListReplicationBackfills shows the backfills of the last 90 days",
            registry.account, registry.region
        ),
    )
}

pub(super) async fn start(lab: &Lab, caller: &Caller, request: StartRequest) -> Result<Response, EcrError> {
    let registry = registry(caller, request.registry_id)?;
    let destination = destination(request.destination)?;
    let backfill = lab.write(|s| s.start_backfill(&registry, &destination)).await?;
    Ok(json(StartResponse {
        replication_backfill_id: backfill.id,
        registry_id: registry.account.to_string(),
        destination: DestinationWire::of(&backfill.destination),
        // "A newly started replication backfill is returned with a status of PREPARING" (the
        // model); the lab's has finished already, as DescribeReplicationBackfillResults shows.
        status: "PREPARING",
        started_at: backfill.started_at.epoch_seconds(),
    }))
}

/// StopReplicationBackfill: only a PREPARING or IN_PROGRESS backfill can be stopped (ECR user
/// guide, "Replication backfill lifecycle"); the lab's have always finished, so a known one is
/// refused with ReplicationBackfillInvalidStatusException, as ECR refuses a finished one.
pub(super) fn stop(lab: &Lab, caller: &Caller, request: StopRequest) -> Result<Response, EcrError> {
    let registry = registry(caller, request.registry_id)?;
    let id = backfill_id(request.replication_backfill_id)?;
    let status = lab.read(|s| s.backfill(&registry, &id).map(|b| b.status));
    let status = status.ok_or_else(|| not_found(&id, &registry))?;
    // Not captured from AWS: the model names the code; the wording is the lab's.
    Err(EcrError::new(
        EcrErrorCode::ReplicationBackfillInvalidStatusException,
        format!(
            "The replication backfill with ID '{id}' has status {} and cannot be stopped: only a backfill in \
             PREPARING or IN_PROGRESS status can be stopped. DescribeReplicationBackfillResults shows its results",
            status.wire()
        ),
    ))
}

pub(super) fn list(lab: &Lab, caller: &Caller, request: ListRequest) -> Result<Response, EcrError> {
    let registry = registry(caller, request.registry_id)?;
    let size = request.max_results.unwrap_or(LIST_DEFAULT);
    if size > LIST_MAX {
        let constraint = format!("Member must have value less than or equal to {LIST_MAX}");
        return Err(invalid("maxResults", &constraint));
    }
    let page = page(lab, Some(size), request.next_token)?;
    lab.read(|s| {
        let (rows, next_token) = page.take(s.backfills(&registry), |(i, _)| format!("{i:08}"));
        Ok(json(ListResponse {
            registry_id: registry.account.to_string(),
            backfills: rows.into_iter().map(|(_, b)| SummaryOut::of(b)).collect(),
            next_token,
        }))
    })
}

pub(super) fn describe_results(lab: &Lab, caller: &Caller, request: ResultsRequest) -> Result<Response, EcrError> {
    let registry = registry(caller, request.registry_id)?;
    let id = backfill_id(request.replication_backfill_id)?;
    let wanted = match request.result_status_filter.as_deref() {
        None => None,
        Some("COMPLETE") => Some(true),
        Some("FAILED") => Some(false),
        Some(_) => {
            return Err(invalid("resultStatusFilter", "Member must satisfy enum value set: [COMPLETE, FAILED]"));
        }
    };
    let page = page(lab, request.max_results, request.next_token)?;
    lab.read(|s| {
        let backfill = s.backfill(&registry, &id).ok_or_else(|| not_found(&id, &registry))?;
        let selected = backfill
            .results
            .iter()
            .enumerate()
            .filter(|(_, r)| wanted.is_none_or(|complete| r.failure.is_none() == complete));
        // Results keep the order the copies ran in, so the page key is the position.
        let (rows, next_token) = page.take(selected, |(i, _)| format!("{i:08}"));
        let results = rows
            .into_iter()
            .map(|(_, r)| ResultOut {
                repository_name: r.name.to_string(),
                image_id: ImageIdentifier {
                    image_digest: Some(r.digest.to_string()),
                    image_tag: r.tag.as_ref().map(|t| t.to_string()),
                },
                status: if r.failure.is_none() { BackfillStatus::Complete } else { BackfillStatus::Failed }.wire(),
                failure_code: r.failure.clone(),
            })
            .collect();
        Ok(json(ResultsResponse {
            registry_id: registry.account.to_string(),
            summary: SummaryOut::of(backfill),
            results,
            next_token,
        }))
    })
}
