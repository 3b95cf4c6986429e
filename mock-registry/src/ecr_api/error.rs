//! The only place that knows ECR's error codes, HTTP statuses and wording (reference/ecr-facts.md §3).

use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};

use super::CONTENT_TYPE;
use crate::clock::{format_amz_date, parse_amz_date};
use crate::lab::LabError;
use crate::sigv4::AuthError;
use crate::state::ImageRef;
use crate::state::{Referenced, StateError};
use crate::types::{AccountId, Digest, RepositoryName};

/// ECR's error codes (the `__type` of the error body), plus the generic ones of awsJson services.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EcrErrorCode {
    RepositoryNotFoundException,
    RepositoryAlreadyExistsException,
    RepositoryNotEmptyException,
    ImageNotFoundException,
    ImageAlreadyExistsException,
    ImageTagAlreadyExistsException,
    ImageDigestDoesNotMatchException,
    LayersNotFoundException,
    ReferencedImagesNotFoundException,
    UploadNotFoundException,
    InvalidLayerPartException,
    InvalidLayerException,
    LayerAlreadyExistsException,
    EmptyUploadException,
    InvalidParameterException,
    InvalidTagParameterException,
    TooManyTagsException,
    LimitExceededException,
    LifecyclePolicyNotFoundException,
    LifecyclePolicyPreviewNotFoundException,
    ScanNotFoundException,
    RepositoryPolicyNotFoundException,
    UnsupportedImageTypeException,
    ServerException,
    SerializationException,
    UnknownOperationException,
    UnsupportedOperationException,
    UnrecognizedClientException,
    InvalidSignatureException,
    IncompleteSignatureException,
    MissingAuthenticationTokenException,
    ExpiredTokenException,
    /// IAM refused: in class mode, a key reaching for another account's registry.
    AccessDeniedException,
    RegistryPolicyNotFoundException,
    TemplateNotFoundException,
    TemplateAlreadyExistsException,
    SigningConfigurationNotFoundException,
    ExclusionAlreadyExistsException,
    ExclusionNotFoundException,
    ImageStorageClassUpdateNotSupportedException,
    ValidationException,
    ImageArchivedException,
    PullThroughCacheRuleAlreadyExistsException,
    PullThroughCacheRuleNotFoundException,
    UnsupportedUpstreamRegistryException,
    ReplicationBackfillNotFoundException,
    ReplicationBackfillInvalidStatusException,
}

impl EcrErrorCode {
    pub fn name(self) -> &'static str {
        use EcrErrorCode::*;
        match self {
            RepositoryNotFoundException => "RepositoryNotFoundException",
            RepositoryAlreadyExistsException => "RepositoryAlreadyExistsException",
            RepositoryNotEmptyException => "RepositoryNotEmptyException",
            ImageNotFoundException => "ImageNotFoundException",
            ImageAlreadyExistsException => "ImageAlreadyExistsException",
            ImageTagAlreadyExistsException => "ImageTagAlreadyExistsException",
            ImageDigestDoesNotMatchException => "ImageDigestDoesNotMatchException",
            LayersNotFoundException => "LayersNotFoundException",
            ReferencedImagesNotFoundException => "ReferencedImagesNotFoundException",
            UploadNotFoundException => "UploadNotFoundException",
            InvalidLayerPartException => "InvalidLayerPartException",
            InvalidLayerException => "InvalidLayerException",
            LayerAlreadyExistsException => "LayerAlreadyExistsException",
            EmptyUploadException => "EmptyUploadException",
            InvalidParameterException => "InvalidParameterException",
            InvalidTagParameterException => "InvalidTagParameterException",
            TooManyTagsException => "TooManyTagsException",
            LimitExceededException => "LimitExceededException",
            LifecyclePolicyNotFoundException => "LifecyclePolicyNotFoundException",
            LifecyclePolicyPreviewNotFoundException => "LifecyclePolicyPreviewNotFoundException",
            ScanNotFoundException => "ScanNotFoundException",
            RepositoryPolicyNotFoundException => "RepositoryPolicyNotFoundException",
            UnsupportedImageTypeException => "UnsupportedImageTypeException",
            ServerException => "ServerException",
            SerializationException => "SerializationException",
            UnknownOperationException => "UnknownOperationException",
            UnsupportedOperationException => "UnsupportedOperationException",
            UnrecognizedClientException => "UnrecognizedClientException",
            InvalidSignatureException => "InvalidSignatureException",
            IncompleteSignatureException => "IncompleteSignatureException",
            MissingAuthenticationTokenException => "MissingAuthenticationTokenException",
            ExpiredTokenException => "ExpiredTokenException",
            AccessDeniedException => "AccessDeniedException",
            RegistryPolicyNotFoundException => "RegistryPolicyNotFoundException",
            TemplateNotFoundException => "TemplateNotFoundException",
            TemplateAlreadyExistsException => "TemplateAlreadyExistsException",
            SigningConfigurationNotFoundException => "SigningConfigurationNotFoundException",
            ExclusionAlreadyExistsException => "ExclusionAlreadyExistsException",
            ExclusionNotFoundException => "ExclusionNotFoundException",
            ImageStorageClassUpdateNotSupportedException => "ImageStorageClassUpdateNotSupportedException",
            ValidationException => "ValidationException",
            ImageArchivedException => "ImageArchivedException",
            PullThroughCacheRuleAlreadyExistsException => "PullThroughCacheRuleAlreadyExistsException",
            PullThroughCacheRuleNotFoundException => "PullThroughCacheRuleNotFoundException",
            UnsupportedUpstreamRegistryException => "UnsupportedUpstreamRegistryException",
            ReplicationBackfillNotFoundException => "ReplicationBackfillNotFoundException",
            ReplicationBackfillInvalidStatusException => "ReplicationBackfillInvalidStatusException",
        }
    }

    pub fn status(self) -> StatusCode {
        use EcrErrorCode::*;
        match self {
            ServerException => StatusCode::INTERNAL_SERVER_ERROR,
            InvalidSignatureException | ExpiredTokenException | MissingAuthenticationTokenException => {
                StatusCode::FORBIDDEN
            }
            _ => StatusCode::BAD_REQUEST,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EcrError {
    pub code: EcrErrorCode,
    pub message: String,
    /// Members the model adds to this exception besides `message` (e.g. `uploadId`).
    pub fields: Vec<(&'static str, serde_json::Value)>,
}

impl EcrError {
    pub fn new(code: EcrErrorCode, message: impl Into<String>) -> Self {
        Self { code, message: message.into(), fields: Vec::new() }
    }

    /// The same error with one more member in its body, as the model's exception shape has it.
    pub fn with_field(mut self, name: &'static str, value: impl Into<serde_json::Value>) -> Self {
        self.fields.push((name, value.into()));
        self
    }

    /// `Invalid parameter at 'MEMBER' failed to satisfy constraint: 'CONSTRAINT'`.
    pub fn invalid_parameter(member: &str, constraint: &str) -> Self {
        Self::new(
            EcrErrorCode::InvalidParameterException,
            format!("Invalid parameter at '{member}' failed to satisfy constraint: '{constraint}'"),
        )
    }

    pub fn serialization(message: impl Into<String>) -> Self {
        Self::new(EcrErrorCode::SerializationException, message)
    }
}

impl From<StateError> for EcrError {
    fn from(error: StateError) -> Self {
        use EcrErrorCode as C;
        match error {
            StateError::RepositoryNotFound { name, registry } => Self::new(
                C::RepositoryNotFoundException,
                format!("The repository with name '{name}' does not exist in the registry with id '{registry}'"),
            ),
            StateError::RepositoryAlreadyExists { name, registry } => Self::new(
                C::RepositoryAlreadyExistsException,
                format!("The repository with name '{name}' already exists in the registry with id '{registry}'"),
            ),
            StateError::RepositoryNotEmpty { name, registry } => Self::new(
                C::RepositoryNotEmptyException,
                format!(
                    "The repository with name '{name}' in registry with id '{registry}' cannot be deleted because it still contains images"
                ),
            ),
            StateError::ImageNotFound { image, name, registry } => Self::new(
                C::ImageNotFoundException,
                format!(
                    "The image with imageId {} does not exist within the repository with name '{name}' in the registry with id '{registry}'",
                    image_id_text(&image)
                ),
            ),
            StateError::ImageAlreadyExists { digest, tag, name, registry } => Self::new(
                C::ImageAlreadyExistsException,
                format!(
                    "Image with digest '{digest}' and tag '{}' already exists in the repository with name '{name}' in registry with id '{registry}'",
                    tag.as_ref().map(|t| t.as_str()).unwrap_or("null")
                ),
            ),
            StateError::ImageTagAlreadyExists { tag, name, .. } => Self::new(
                C::ImageTagAlreadyExistsException,
                format!(
                    "The image tag '{tag}' already exists in the '{name}' repository and cannot be overwritten because the repository is immutable."
                ),
            ),
            StateError::ImageDigestDoesNotMatch { given, computed } => Self::new(
                C::ImageDigestDoesNotMatchException,
                format!(
                    "The provided image digest '{given}' does not match the digest '{computed}' of the image manifest"
                ),
            ),
            StateError::InvalidArgument { member, constraint } => Self::invalid_parameter(member, &constraint),
            StateError::InvalidTagParameter(message) => Self::new(C::InvalidTagParameterException, message),
            StateError::TooManyTags(message) => Self::new(C::TooManyTagsException, message),
            StateError::ReferencesNotFound { kind, digests, name, registry } => {
                let (code, what) = match kind {
                    Referenced::Layers => (C::LayersNotFoundException, "Layers"),
                    Referenced::Images => (C::ReferencedImagesNotFoundException, "Images"),
                };
                Self::new(code, references_not_found(what, &digests, &name, &registry))
            }
            StateError::BlobSizeMismatch { digest, declared, actual } => Self::invalid_parameter(
                "imageManifest",
                &format!("The manifest says layer '{digest}' has {declared} bytes, but it has {actual}"),
            ),
            StateError::BlobNotFound { digest, name, registry } => Self::new(
                C::LayersNotFoundException,
                format!(
                    "The layer with digest '{digest}' does not exist in the repository with name '{name}' in the registry with id '{registry}'"
                ),
            ),
            StateError::LifecyclePolicyNotFound { name, registry } => Self::new(
                C::LifecyclePolicyNotFoundException,
                format!(
                    "Lifecycle policy does not exist for the repository with name '{name}' in the registry with id '{registry}'"
                ),
            ),
            // Not captured from AWS: worded like the policy's own NotFound.
            StateError::LifecyclePreviewNotFound { name, registry } => Self::new(
                C::LifecyclePolicyPreviewNotFoundException,
                format!(
                    "There is no lifecycle policy preview for the repository with name '{name}' in the registry with id '{registry}'"
                ),
            ),
            StateError::ScanNotFound { image, name, registry } => Self::new(
                C::ScanNotFoundException,
                format!(
                    "Image scan does not exist for the image with '{}' in the repository with name '{name}' in the registry with id '{registry}'",
                    image_id_text(&image)
                ),
            ),
            StateError::Iam { code: "AccessDenied", message } => Self::new(C::AccessDeniedException, message),
            StateError::Iam { message, .. } => Self::invalid_parameter("policyText", &message),
            StateError::RepositoryPolicyNotFound { name, registry } => Self::new(
                C::RepositoryPolicyNotFoundException,
                format!(
                    "Repository policy does not exist for the repository with name '{name}' in the registry with id '{registry}'"
                ),
            ),
            StateError::ScanQuotaExceeded => {
                Self::new(C::LimitExceededException, "The scan quota per image has been exceeded. Wait and try again.")
            }
            // Not captured from AWS: the model names the code; the wording is the lab's.
            StateError::UnsupportedImageType { media_type } => Self::new(
                C::UnsupportedImageTypeException,
                format!("The image's media type '{media_type}' cannot be scanned: basic scanning scans single images"),
            ),
            StateError::Settings { error, registry } => super::registry::settings_error(error, &registry),
            e @ (StateError::PullThroughRuleNotFound { .. }
            | StateError::PullThroughRuleExists { .. }
            | StateError::UnsupportedUpstream(_)) => Self::pull_through(e),
            StateError::LimitExceeded { what } => Self::new(
                C::LimitExceededException,
                format!("The operation did not succeed because it would exceed {what}."),
            ),
        }
    }
}

impl EcrError {
    /// The pull through cache rules' refusals. Not captured from AWS except the upstream texts (in
    /// `state::pull_through`): the model names the codes; worded like ECR's other NotFound texts.
    fn pull_through(error: StateError) -> Self {
        use EcrErrorCode as C;
        match error {
            StateError::PullThroughRuleNotFound { prefix, registry } => Self::new(
                C::PullThroughCacheRuleNotFoundException,
                format!(
                    "The pull through cache rule with prefix '{prefix}' does not exist in the registry with id '{registry}'"
                ),
            ),
            StateError::PullThroughRuleExists { prefix, registry } => Self::new(
                C::PullThroughCacheRuleAlreadyExistsException,
                format!(
                    "A pull through cache rule with prefix '{prefix}' already exists in the registry with id '{registry}'"
                ),
            ),
            StateError::UnsupportedUpstream(message) => Self::new(C::UnsupportedUpstreamRegistryException, message),
            other => Self::new(C::ServerException, other.to_string()),
        }
    }
}

impl From<LabError> for EcrError {
    fn from(error: LabError) -> Self {
        match error {
            LabError::State(e) => e.into(),
            LabError::Storage(message) => Self::new(EcrErrorCode::ServerException, message),
        }
    }
}

impl From<AuthError> for EcrError {
    fn from(error: AuthError) -> Self {
        use EcrErrorCode as C;
        match error {
            AuthError::Missing => Self::new(C::MissingAuthenticationTokenException, "Missing Authentication Token"),
            AuthError::Malformed(detail) => Self::new(C::IncompleteSignatureException, detail),
            AuthError::UnknownKey => {
                Self::new(C::UnrecognizedClientException, "The security token included in the request is invalid.")
            }
            AuthError::SignatureMismatch => Self::new(C::InvalidSignatureException, SIGNATURE_MISMATCH),
            AuthError::WrongService { expected } => Self::new(
                C::InvalidSignatureException,
                format!("Credential should be scoped to correct service: '{expected}'. "),
            ),
            AuthError::Skewed { request, server } => {
                Self::new(C::InvalidSignatureException, skew_message(&request, &server))
            }
            AuthError::ExpiredToken => {
                Self::new(C::ExpiredTokenException, "The security token included in the request is expired")
            }
        }
    }
}

pub const SIGNATURE_MISMATCH: &str = "The request signature we calculated does not match the signature you provided. Check your AWS Secret Access Key and signing method. Consult the service documentation for details.";

/// ECR's text when a pushed manifest names what the repository lacks; `what` is `Layers` or `Images`.
/// The registry's MANIFEST_BLOB_UNKNOWN carries the same text.
pub fn references_not_found(what: &str, digests: &[Digest], name: &RepositoryName, registry: &AccountId) -> String {
    let list: Vec<&str> = digests.iter().map(Digest::as_str).collect();
    format!(
        "{what} with digests '[{}]' required for pushing image into repository with name '{name}' in the registry with id '{registry}' do not exist",
        list.join(", ")
    )
}

/// `{imageDigest:'sha256:…', imageTag:'v1'}`, with `'null'` for a missing part, as ECR prints it.
fn image_id_text(image: &ImageRef) -> String {
    let part = |v: &Option<String>| v.clone().unwrap_or_else(|| "null".into());
    format!("{{imageDigest:'{}', imageTag:'{}'}}", part(&image.digest), part(&image.tag))
}

/// AWS's text for a request dated too far from the server's clock.
pub fn skew_message(request: &str, server: &str) -> String {
    let (Some(r), Some(s)) = (parse_amz_date(request), parse_amz_date(server)) else {
        return format!("Signature expired: {request}");
    };
    if r < s {
        format!(
            "Signature expired: {request} is now earlier than {} ({server} - 15 min.)",
            format_amz_date(s - 15 * 60)
        )
    } else {
        format!(
            "Signature not yet current: {request} is still later than {} ({server} + 15 min.)",
            format_amz_date(s + 15 * 60)
        )
    }
}

impl IntoResponse for EcrError {
    fn into_response(self) -> Response {
        let mut body = serde_json::json!({ "__type": self.code.name(), "message": self.message });
        if let Some(members) = body.as_object_mut() {
            members.extend(self.fields.into_iter().map(|(name, value)| (name.to_owned(), value)));
        }
        let mut response = (
            self.code.status(),
            [
                (axum::http::header::CONTENT_TYPE, CONTENT_TYPE),
                (axum::http::HeaderName::from_static("x-amzn-errortype"), self.code.name()),
            ],
            body.to_string(),
        )
            .into_response();
        crate::request_log::note_error(&mut response, self.code.name(), &self.message);
        response
    }
}
