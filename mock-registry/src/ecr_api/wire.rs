//! The JSON shapes of the ECR API (service model `ecr/2015-09-21`), exactly as they travel.
//! Requests keep every member optional so a missing one becomes ECR's error, not serde's.

use serde::{Deserialize, Serialize};

use crate::state::scan::{Finding, ImageScan, RegistryScanning, RepositoryScanning};
use crate::state::{Image, ImageId, RegistryKey, Repository, ResourceTag};
use crate::types::ScanStatus;
use crate::types::{Millis, WireEnum};

#[derive(Deserialize, Default)]
#[serde(rename_all = "camelCase")]
pub struct CreateRepositoryRequest {
    pub registry_id: Option<String>,
    pub repository_name: Option<String>,
    pub tags: Option<Vec<Tag>>,
    pub image_tag_mutability: Option<String>,
    pub image_tag_mutability_exclusion_filters: Option<Vec<ExclusionFilter>>,
    pub image_scanning_configuration: Option<ScanningConfiguration>,
    pub encryption_configuration: Option<EncryptionConfigurationRequest>,
}

#[derive(Deserialize, Default)]
#[serde(rename_all = "camelCase")]
pub struct DescribeRepositoriesRequest {
    pub registry_id: Option<String>,
    pub repository_names: Option<Vec<String>>,
    pub next_token: Option<String>,
    pub max_results: Option<i64>,
}

/// The requests that name one repository and little else.
#[derive(Deserialize, Default)]
#[serde(rename_all = "camelCase")]
pub struct RepositoryRequest {
    pub registry_id: Option<String>,
    pub repository_name: Option<String>,
    /// DeleteRepository.
    pub force: Option<bool>,
    /// PutImageTagMutability.
    pub image_tag_mutability: Option<String>,
    pub image_tag_mutability_exclusion_filters: Option<Vec<ExclusionFilter>>,
    /// PutImageScanningConfiguration.
    pub image_scanning_configuration: Option<ScanningConfiguration>,
}

#[derive(Deserialize, Default)]
#[serde(rename_all = "camelCase")]
pub struct GetAuthorizationTokenRequest {
    pub registry_ids: Option<Vec<String>>,
}

#[derive(Deserialize, Default)]
#[serde(rename_all = "camelCase")]
pub struct ImagesRequest {
    pub registry_id: Option<String>,
    pub repository_name: Option<String>,
    pub image_ids: Option<Vec<ImageIdentifier>>,
    pub next_token: Option<String>,
    pub max_results: Option<i64>,
    pub filter: Option<ImageFilter>,
    /// BatchGetImage.
    pub accepted_media_types: Option<Vec<String>>,
}

#[derive(Deserialize, Default)]
#[serde(rename_all = "camelCase")]
pub struct ImageFilter {
    pub tag_status: Option<String>,
    pub image_status: Option<String>,
}

#[derive(Deserialize, Default)]
#[serde(rename_all = "camelCase")]
pub struct PutImageRequest {
    pub registry_id: Option<String>,
    pub repository_name: Option<String>,
    pub image_manifest: Option<String>,
    pub image_manifest_media_type: Option<String>,
    pub image_tag: Option<String>,
    pub image_digest: Option<String>,
}

#[derive(Deserialize, Default)]
#[serde(rename_all = "camelCase")]
pub struct ResourceRequest {
    pub resource_arn: Option<String>,
    pub tags: Option<Vec<Tag>>,
    pub tag_keys: Option<Vec<String>>,
}

#[derive(Deserialize, Serialize, Clone, Default)]
#[serde(rename_all = "camelCase")]
pub struct ImageIdentifier {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub image_digest: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub image_tag: Option<String>,
}

impl From<&ImageId> for ImageIdentifier {
    fn from(id: &ImageId) -> Self {
        Self { image_digest: Some(id.digest.to_string()), image_tag: id.tag.as_ref().map(|t| t.to_string()) }
    }
}

/// ECR's resource tags are the one place with capitalised member names.
#[derive(Deserialize, Serialize, Clone)]
pub struct Tag {
    #[serde(rename = "Key")]
    pub key: Option<String>,
    #[serde(rename = "Value")]
    pub value: Option<String>,
}

impl From<&ResourceTag> for Tag {
    fn from(tag: &ResourceTag) -> Self {
        Self { key: Some(tag.key.clone()), value: Some(tag.value.clone()) }
    }
}

#[derive(Deserialize, Serialize, Clone)]
#[serde(rename_all = "camelCase")]
pub struct ExclusionFilter {
    pub filter_type: Option<String>,
    pub filter: Option<String>,
}

#[derive(Deserialize, Serialize, Clone, Default)]
#[serde(rename_all = "camelCase")]
pub struct ScanningConfiguration {
    pub scan_on_push: Option<bool>,
}

#[derive(Deserialize, Default)]
#[serde(rename_all = "camelCase")]
pub struct EncryptionConfigurationRequest {
    pub encryption_type: Option<String>,
    pub kms_key: Option<String>,
}

// ---- responses ----

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
pub struct RepositoryOut {
    pub repository_arn: String,
    pub registry_id: String,
    pub repository_name: String,
    pub repository_uri: String,
    pub created_at: f64,
    pub image_tag_mutability: &'static str,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub image_tag_mutability_exclusion_filters: Vec<ExclusionFilter>,
    pub image_scanning_configuration: ScanningOut,
    pub encryption_configuration: EncryptionOut,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ScanningOut {
    pub scan_on_push: bool,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
pub struct EncryptionOut {
    pub encryption_type: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub kms_key: Option<String>,
}

pub fn exclusion_filters(repository: &Repository) -> Vec<ExclusionFilter> {
    repository
        .tag_mutability
        .filters
        .iter()
        .map(|f| ExclusionFilter { filter_type: Some("WILDCARD".into()), filter: Some(f.as_str().to_owned()) })
        .collect()
}

impl RepositoryOut {
    pub fn new(registry: &RegistryKey, repository: &Repository) -> Self {
        Self {
            repository_arn: repository.arn(registry),
            registry_id: registry.account.to_string(),
            repository_name: repository.name.to_string(),
            repository_uri: repository.uri(registry),
            created_at: repository.created_at.epoch_seconds(),
            image_tag_mutability: repository.tag_mutability.mode.wire(),
            image_tag_mutability_exclusion_filters: exclusion_filters(repository),
            image_scanning_configuration: ScanningOut { scan_on_push: repository.scan_on_push },
            encryption_configuration: EncryptionOut {
                encryption_type: repository.encryption.kind.wire(),
                kms_key: repository.encryption.kms_key.clone(),
            },
        }
    }
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
pub struct RepositoryResponse {
    pub repository: RepositoryOut,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
pub struct DescribeRepositoriesResponse {
    pub repositories: Vec<RepositoryOut>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub next_token: Option<String>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
pub struct AuthorizationData {
    pub authorization_token: String,
    pub expires_at: f64,
    pub proxy_endpoint: String,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
pub struct GetAuthorizationTokenResponse {
    pub authorization_data: Vec<AuthorizationData>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ImageDetail {
    pub registry_id: String,
    pub repository_name: String,
    pub image_digest: String,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub image_tags: Vec<String>,
    pub image_size_in_bytes: u64,
    pub image_pushed_at: f64,
    pub image_manifest_media_type: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub artifact_media_type: Option<String>,
    pub image_status: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub image_scan_status: Option<ScanStatusOut>,
    /// When UpdateImageStorageClass archived the image (ARCHIVED images only).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub last_archived_at: Option<f64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub image_scan_findings_summary: Option<FindingsSummary>,
}

impl ImageDetail {
    pub fn new(registry: &RegistryKey, repository: &Repository, image: &Image) -> Self {
        Self {
            registry_id: registry.account.to_string(),
            repository_name: repository.name.to_string(),
            image_digest: image.digest.to_string(),
            image_tags: image.tags.iter().map(|t| t.to_string()).collect(),
            image_size_in_bytes: image.size,
            image_pushed_at: image.pushed_at.epoch_seconds(),
            image_manifest_media_type: image.media_type.clone(),
            artifact_media_type: image.artifact_media_type.clone(),
            image_status: "ACTIVE",
            image_scan_status: repository.scans.get(&image.digest).map(ScanStatusOut::from),
            last_archived_at: None,
            image_scan_findings_summary: repository
                .scans
                .get(&image.digest)
                .filter(|s| s.status() == ScanStatus::Complete)
                .map(FindingsSummary::from),
        }
    }
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
pub struct DescribeImagesResponse {
    pub image_details: Vec<ImageDetail>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub next_token: Option<String>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ListImagesResponse {
    pub image_ids: Vec<ImageIdentifier>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub next_token: Option<String>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ImageOut {
    pub registry_id: String,
    pub repository_name: String,
    pub image_id: ImageIdentifier,
    pub image_manifest: String,
    pub image_manifest_media_type: String,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ImageFailureOut {
    pub image_id: ImageIdentifier,
    pub failure_code: &'static str,
    pub failure_reason: String,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
pub struct BatchGetImageResponse {
    pub images: Vec<ImageOut>,
    pub failures: Vec<ImageFailureOut>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
pub struct BatchDeleteImageResponse {
    pub image_ids: Vec<ImageIdentifier>,
    pub failures: Vec<ImageFailureOut>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
pub struct PutImageResponse {
    pub image: ImageOut,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
pub struct PutImageTagMutabilityResponse {
    pub registry_id: String,
    pub repository_name: String,
    pub image_tag_mutability: &'static str,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub image_tag_mutability_exclusion_filters: Vec<ExclusionFilter>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
pub struct PutImageScanningConfigurationResponse {
    pub registry_id: String,
    pub repository_name: String,
    pub image_scanning_configuration: ScanningOut,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ListTagsForResourceResponse {
    pub tags: Vec<Tag>,
}

#[derive(Serialize)]
pub struct Empty {}

// ---- lifecycle policies ----

#[derive(Deserialize, Default)]
#[serde(rename_all = "camelCase")]
pub struct LifecyclePolicyRequest {
    pub registry_id: Option<String>,
    pub repository_name: Option<String>,
    /// PutLifecyclePolicy, StartLifecyclePolicyPreview.
    pub lifecycle_policy_text: Option<String>,
    /// GetLifecyclePolicyPreview.
    pub image_ids: Option<Vec<ImageIdentifier>>,
    pub next_token: Option<String>,
    pub max_results: Option<i64>,
    pub filter: Option<ImageFilter>,
}

/// PutLifecyclePolicy, GetLifecyclePolicy, DeleteLifecyclePolicy and StartLifecyclePolicyPreview
/// (the last three add `lastEvaluatedAt` or `status`).
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
pub struct LifecyclePolicyResponse {
    pub registry_id: String,
    pub repository_name: String,
    pub lifecycle_policy_text: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub last_evaluated_at: Option<f64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub status: Option<&'static str>,
}

impl LifecyclePolicyResponse {
    /// The policy of `name` in `registry` as Get/DeleteLifecyclePolicy give it: `lastEvaluatedAt`
    /// is always there, `0.0` before the policy first ran (as in the aws CLI's own example).
    pub fn new(registry: &RegistryKey, name: &str, text: String, evaluated: Option<Millis>) -> Self {
        Self {
            last_evaluated_at: Some(evaluated.map_or(0.0, Millis::epoch_seconds)),
            ..Self::policy_only(registry, name, text)
        }
    }

    /// PutLifecyclePolicy's and StartLifecyclePolicyPreview's shape: the model has no
    /// `lastEvaluatedAt` there.
    pub fn policy_only(registry: &RegistryKey, name: &str, text: String) -> Self {
        Self {
            registry_id: registry.account.to_string(),
            repository_name: name.to_owned(),
            lifecycle_policy_text: text,
            last_evaluated_at: None,
            status: None,
        }
    }
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
pub struct GetLifecyclePolicyPreviewResponse {
    pub registry_id: String,
    pub repository_name: String,
    pub lifecycle_policy_text: String,
    pub status: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub next_token: Option<String>,
    pub preview_results: Vec<PreviewResultOut>,
    pub summary: PreviewSummary,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
pub struct PreviewResultOut {
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub image_tags: Vec<String>,
    pub image_digest: String,
    pub image_pushed_at: f64,
    pub action: PreviewAction,
    pub applied_rule_priority: u32,
}

#[derive(Serialize)]
pub struct PreviewAction {
    #[serde(rename = "type")]
    pub kind: &'static str,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
pub struct PreviewSummary {
    pub expiring_image_total_count: usize,
}

// ---- scanning ----

#[derive(Deserialize, Default)]
#[serde(rename_all = "camelCase")]
pub struct ImageScanRequest {
    pub registry_id: Option<String>,
    pub repository_name: Option<String>,
    pub image_id: Option<ImageIdentifier>,
    /// DescribeImageScanFindings.
    pub next_token: Option<String>,
    pub max_results: Option<i64>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ScanStatusOut {
    pub status: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
}

impl From<&ImageScan> for ScanStatusOut {
    fn from(scan: &ImageScan) -> Self {
        Self { status: scan.status().wire(), description: scan.result.as_ref().map(|r| r.description.clone()) }
    }
}

/// `findingSeverityCounts`: severity name → count, only severities that occur.
fn severity_counts(scan: &ImageScan) -> serde_json::Map<String, serde_json::Value> {
    scan.severity_counts().into_iter().map(|(s, n)| (s.wire().to_owned(), serde_json::Value::from(n))).collect()
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
pub struct FindingsSummary {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub image_scan_completed_at: Option<f64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub vulnerability_source_updated_at: Option<f64>,
    pub finding_severity_counts: serde_json::Map<String, serde_json::Value>,
}

impl From<&ImageScan> for FindingsSummary {
    fn from(scan: &ImageScan) -> Self {
        Self {
            image_scan_completed_at: scan.completed_at.map(|t| t.epoch_seconds()),
            vulnerability_source_updated_at: scan
                .result
                .as_ref()
                .and_then(|r| r.source_updated_at)
                .map(|t| t.epoch_seconds()),
            finding_severity_counts: severity_counts(scan),
        }
    }
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
pub struct StartImageScanResponse {
    pub registry_id: String,
    pub repository_name: String,
    pub image_id: ImageIdentifier,
    pub image_scan_status: ScanStatusOut,
}

#[derive(Serialize)]
pub struct AttributeOut {
    pub key: String,
    pub value: String,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
pub struct FindingOut {
    pub name: String,
    pub description: String,
    pub uri: String,
    pub severity: &'static str,
    pub attributes: Vec<AttributeOut>,
}

impl From<&Finding> for FindingOut {
    fn from(finding: &Finding) -> Self {
        Self {
            name: finding.name.clone(),
            description: finding.description.clone(),
            uri: finding.uri.clone(),
            severity: finding.severity.wire(),
            attributes: finding
                .attributes
                .iter()
                .map(|(key, value)| AttributeOut { key: key.clone(), value: value.clone() })
                .collect(),
        }
    }
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ImageScanFindingsOut {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub image_scan_completed_at: Option<f64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub vulnerability_source_updated_at: Option<f64>,
    #[serde(skip_serializing_if = "serde_json::Map::is_empty")]
    pub finding_severity_counts: serde_json::Map<String, serde_json::Value>,
    pub findings: Vec<FindingOut>,
}

impl ImageScanFindingsOut {
    /// The scan's summary with one page of its findings.
    pub fn new(scan: &ImageScan, findings: Vec<FindingOut>) -> Self {
        let summary = FindingsSummary::from(scan);
        Self {
            image_scan_completed_at: summary.image_scan_completed_at,
            vulnerability_source_updated_at: summary.vulnerability_source_updated_at,
            finding_severity_counts: summary.finding_severity_counts,
            findings,
        }
    }
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
pub struct DescribeImageScanFindingsResponse {
    pub registry_id: String,
    pub repository_name: String,
    pub image_id: ImageIdentifier,
    pub image_scan_status: ScanStatusOut,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub image_scan_findings: Option<ImageScanFindingsOut>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub next_token: Option<String>,
}

#[derive(Deserialize, Serialize, Default, Clone)]
#[serde(rename_all = "camelCase")]
pub struct ScanningFilter {
    pub filter: Option<String>,
    pub filter_type: Option<String>,
}

#[derive(Deserialize, Serialize, Default)]
#[serde(rename_all = "camelCase")]
pub struct ScanningRuleWire {
    pub scan_frequency: Option<String>,
    pub repository_filters: Option<Vec<ScanningFilter>>,
}

#[derive(Deserialize, Default)]
#[serde(rename_all = "camelCase")]
pub struct RegistryScanningRequest {
    pub scan_type: Option<String>,
    pub rules: Option<Vec<ScanningRuleWire>>,
    /// BatchGetRepositoryScanningConfiguration.
    pub repository_names: Option<Vec<String>>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
pub struct RegistryScanningOut {
    pub scan_type: &'static str,
    pub rules: Vec<ScanningRuleWire>,
}

fn filters_out(filters: &[String]) -> Vec<ScanningFilter> {
    filters.iter().map(|f| ScanningFilter { filter: Some(f.clone()), filter_type: Some("WILDCARD".into()) }).collect()
}

impl From<&RegistryScanning> for RegistryScanningOut {
    fn from(configuration: &RegistryScanning) -> Self {
        Self {
            scan_type: match configuration.scan_type {
                crate::state::scan::ScanType::Basic => "BASIC",
                crate::state::scan::ScanType::Enhanced => "ENHANCED",
            },
            rules: configuration
                .rules
                .iter()
                .map(|r| ScanningRuleWire {
                    scan_frequency: Some(r.frequency.wire().to_owned()),
                    repository_filters: Some(filters_out(&r.filters)),
                })
                .collect(),
        }
    }
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
pub struct PutRegistryScanningResponse {
    pub registry_scanning_configuration: RegistryScanningOut,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
pub struct GetRegistryScanningResponse {
    pub registry_id: String,
    pub scanning_configuration: RegistryScanningOut,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
pub struct RepositoryScanningOut {
    pub repository_arn: String,
    pub repository_name: String,
    pub scan_on_push: bool,
    pub scan_frequency: &'static str,
    pub applied_scan_filters: Vec<ScanningFilter>,
}

impl RepositoryScanningOut {
    pub fn new(registry: &RegistryKey, scanning: &RepositoryScanning) -> Self {
        Self {
            repository_arn: format!(
                "arn:aws:ecr:{}:{}:repository/{}",
                registry.region, registry.account, scanning.name
            ),
            repository_name: scanning.name.to_string(),
            scan_on_push: scanning.scan_on_push,
            scan_frequency: scanning.frequency.wire(),
            applied_scan_filters: filters_out(&scanning.filters),
        }
    }
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
pub struct RepositoryScanningFailure {
    pub repository_name: String,
    pub failure_code: &'static str,
    pub failure_reason: &'static str,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
pub struct BatchGetRepositoryScanningResponse {
    pub scanning_configurations: Vec<RepositoryScanningOut>,
    pub failures: Vec<RepositoryScanningFailure>,
}
