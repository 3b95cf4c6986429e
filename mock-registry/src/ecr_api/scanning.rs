//! The scanning operations: StartImageScan, DescribeImageScanFindings, the registry scanning
//! configuration (get/put) and BatchGetRepositoryScanningConfiguration. The scan itself runs on
//! the lab's scanner thread (`crate::scan`); these only start it and report what it found.

use axum::response::Response;

use super::operations::{invalid, page, registry, repository_name, required};
use super::wire::*;
use super::{EcrError, json};
use crate::Lab;
use crate::state::scan::{RegistryScanning, ScanFrequency, ScanType, ScanningRule};
use crate::state::{Caller, ImageRef};
use crate::types::ScanStatus;

/// `imageId`: a digest, a tag or both.
fn image_id(id: Option<ImageIdentifier>) -> Result<ImageRef, EcrError> {
    let id = required(id, "imageId")?;
    if id.image_digest.is_none() && id.image_tag.is_none() {
        return Err(invalid("imageId", "Invalid request parameters: both tag and digest cannot be null"));
    }
    Ok(ImageRef { digest: id.image_digest, tag: id.image_tag })
}

pub(super) async fn start_image_scan(
    lab: &Lab,
    caller: &Caller,
    request: ImageScanRequest,
) -> Result<Response, EcrError> {
    let registry = registry(caller, request.registry_id)?;
    let name = repository_name(request.repository_name)?;
    let id = image_id(request.image_id)?;
    let archived = lab.read(|state| {
        let repository = state.repository(&registry, &name).ok()?;
        let image = repository.find(&id).ok()?;
        state.is_archived(&registry, &name, &image.digest).then(|| image.digest.clone())
    });
    if let Some(digest) = archived {
        return Err(EcrError::new(
            super::EcrErrorCode::ImageArchivedException,
            format!("The image with digest '{digest}' is archived and cannot be scanned. Restore it first."),
        ));
    }
    let image = lab.write(|state| state.start_image_scan(&registry, &name, &id)).await?;
    Ok(json(StartImageScanResponse {
        registry_id: registry.account.to_string(),
        repository_name: name.to_string(),
        image_id: ImageIdentifier { image_digest: Some(image.digest.to_string()), image_tag: id.tag },
        // The scan runs after the answer, as on ECR.
        image_scan_status: ScanStatusOut { status: ScanStatus::InProgress.wire(), description: None },
    }))
}

pub(super) fn describe_image_scan_findings(
    lab: &Lab,
    caller: &Caller,
    request: ImageScanRequest,
) -> Result<Response, EcrError> {
    let registry = registry(caller, request.registry_id)?;
    let name = repository_name(request.repository_name)?;
    let id = image_id(request.image_id)?;
    let page = page(lab, request.max_results, request.next_token)?;
    lab.read(|state| {
        let (image, scan) = state.image_scan(&registry, &name, &id)?;
        let (findings, next_token) = match scan.result.as_ref().filter(|r| r.status == ScanStatus::Complete) {
            Some(result) => {
                // Findings keep their order (most severe first), so the page key is the position.
                let (rows, next) = page.take(result.findings.iter().enumerate(), |(i, _)| format!("{i:08}"));
                let rows = rows.into_iter().map(|(_, f)| FindingOut::from(f)).collect();
                (Some(ImageScanFindingsOut::new(scan, rows)), next)
            }
            None => (None, None),
        };
        Ok(json(DescribeImageScanFindingsResponse {
            registry_id: registry.account.to_string(),
            repository_name: name.to_string(),
            image_id: ImageIdentifier { image_digest: Some(image.digest.to_string()), image_tag: id.tag.clone() },
            image_scan_status: ScanStatusOut::from(scan),
            image_scan_findings: findings,
            next_token,
        }))
    })
}

fn scan_type(value: Option<&str>) -> Result<ScanType, EcrError> {
    match value {
        None | Some("BASIC") => Ok(ScanType::Basic),
        Some("ENHANCED") => Ok(ScanType::Enhanced),
        Some(_) => Err(invalid("scanType", "Member must satisfy enum value set: [BASIC, ENHANCED]")),
    }
}

fn frequency(value: Option<String>) -> Result<ScanFrequency, EcrError> {
    match required(value, "rules.scanFrequency")?.as_str() {
        "SCAN_ON_PUSH" => Ok(ScanFrequency::ScanOnPush),
        "CONTINUOUS_SCAN" => Ok(ScanFrequency::ContinuousScan),
        "MANUAL" => Ok(ScanFrequency::Manual),
        _ => Err(invalid(
            "rules.scanFrequency",
            "Member must satisfy enum value set: [SCAN_ON_PUSH, CONTINUOUS_SCAN, MANUAL]",
        )),
    }
}

pub(super) async fn put_registry_scanning_configuration(
    lab: &Lab,
    caller: &Caller,
    request: RegistryScanningRequest,
) -> Result<Response, EcrError> {
    let registry = registry(caller, None)?;
    let scan_type = scan_type(request.scan_type.as_deref())?;
    let rules = request
        .rules
        .unwrap_or_default()
        .into_iter()
        .map(|rule| {
            let frequency = frequency(rule.scan_frequency)?;
            let filters = required(rule.repository_filters, "rules.repositoryFilters")?
                .into_iter()
                .map(|f| {
                    let filter_type = required(f.filter_type, "repositoryFilters.filterType")?;
                    if filter_type != "WILDCARD" {
                        return Err(invalid(
                            "repositoryFilters.filterType",
                            "Member must satisfy enum value set: [WILDCARD]",
                        ));
                    }
                    required(f.filter, "repositoryFilters.filter")
                })
                .collect::<Result<Vec<_>, _>>()?;
            Ok(ScanningRule { frequency, filters })
        })
        .collect::<Result<Vec<_>, EcrError>>()?;
    let configuration = RegistryScanning::new(scan_type, rules)?;
    let stored = lab.write(|state| state.put_registry_scanning(&registry, configuration)).await?;
    Ok(json(PutRegistryScanningResponse { registry_scanning_configuration: RegistryScanningOut::from(&stored) }))
}

pub(super) fn get_registry_scanning_configuration(lab: &Lab, caller: &Caller) -> Result<Response, EcrError> {
    let registry = registry(caller, None)?;
    let configuration = lab.read(|state| state.registry_scanning(&registry));
    Ok(json(GetRegistryScanningResponse {
        registry_id: registry.account.to_string(),
        scanning_configuration: RegistryScanningOut::from(&configuration),
    }))
}

pub(super) fn batch_get_repository_scanning_configuration(
    lab: &Lab,
    caller: &Caller,
    request: RegistryScanningRequest,
) -> Result<Response, EcrError> {
    let registry = registry(caller, None)?;
    let names = required(request.repository_names, "repositoryNames")?;
    if names.is_empty() || names.len() > 25 {
        return Err(invalid("repositoryNames", "Member must have length between 1 and 25"));
    }
    let names = names.into_iter().map(|n| repository_name(Some(n))).collect::<Result<Vec<_>, _>>()?;
    let (found, missing) = lab.read(|state| state.repository_scanning(&registry, &names));
    Ok(json(BatchGetRepositoryScanningResponse {
        scanning_configurations: found.iter().map(|s| RepositoryScanningOut::new(&registry, s)).collect(),
        // moto's wording; AWS's reason text was not captured.
        failures: missing
            .into_iter()
            .map(|n| RepositoryScanningFailure {
                repository_name: n.to_string(),
                failure_code: "REPOSITORY_NOT_FOUND",
                failure_reason: "REPOSITORY_NOT_FOUND",
            })
            .collect(),
    }))
}
