//! The JSON shapes of the ECR API (service model `ecr/2015-09-21`), exactly as they travel.
//! Requests keep every member optional so a missing one becomes ECR's error, not serde's.

use serde::{Deserialize, Serialize};

use crate::state::{Image, ImageId, RegistryKey, Repository, ResourceTag};
use crate::types::WireEnum;

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

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
pub struct DescribeRegistryResponse {
    pub registry_id: String,
    pub replication_configuration: ReplicationConfiguration,
}

#[derive(Serialize)]
pub struct ReplicationConfiguration {
    pub rules: Vec<serde_json::Value>,
}

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
