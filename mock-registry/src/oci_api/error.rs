//! The only place that knows the registry's error codes (distribution's errcode table), their HTTP
//! statuses, and ECR's wording for them (reference/ecr-facts.md §3d, §4).

use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};

use crate::ecr_api::error::references_not_found;
use crate::lab::{CommitError, LabError};
use crate::state::{Referenced, RegistryKey, StateError};
use crate::store::StoreError;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OciCode {
    BlobUnknown,
    BlobUploadInvalid,
    BlobUploadUnknown,
    DigestInvalid,
    ManifestBlobUnknown,
    ManifestInvalid,
    ManifestUnknown,
    NameInvalid,
    NameUnknown,
    SizeInvalid,
    TagInvalid,
    Denied,
    Unsupported,
    RangeInvalid,
    PaginationNumberInvalid,
    Unknown,
}

impl OciCode {
    pub fn name(self) -> &'static str {
        use OciCode::*;
        match self {
            BlobUnknown => "BLOB_UNKNOWN",
            BlobUploadInvalid => "BLOB_UPLOAD_INVALID",
            BlobUploadUnknown => "BLOB_UPLOAD_UNKNOWN",
            DigestInvalid => "DIGEST_INVALID",
            ManifestBlobUnknown => "MANIFEST_BLOB_UNKNOWN",
            ManifestInvalid => "MANIFEST_INVALID",
            ManifestUnknown => "MANIFEST_UNKNOWN",
            NameInvalid => "NAME_INVALID",
            NameUnknown => "NAME_UNKNOWN",
            SizeInvalid => "SIZE_INVALID",
            TagInvalid => "TAG_INVALID",
            Denied => "DENIED",
            Unsupported => "UNSUPPORTED",
            RangeInvalid => "RANGE_INVALID",
            PaginationNumberInvalid => "PAGINATION_NUMBER_INVALID",
            Unknown => "UNKNOWN",
        }
    }

    pub fn status(self) -> StatusCode {
        use OciCode::*;
        match self {
            BlobUnknown | BlobUploadUnknown | ManifestUnknown | NameUnknown => StatusCode::NOT_FOUND,
            Denied => StatusCode::FORBIDDEN,
            Unsupported => StatusCode::METHOD_NOT_ALLOWED,
            RangeInvalid => StatusCode::RANGE_NOT_SATISFIABLE,
            Unknown => StatusCode::INTERNAL_SERVER_ERROR,
            _ => StatusCode::BAD_REQUEST,
        }
    }
}

/// A registry error: `{"errors":[{"code","message"}]}`, or one of ECR's bare answers.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum OciError {
    Coded {
        code: OciCode,
        message: String,
    },
    /// No credentials: 401 with ECR's Basic challenge for this registry, body `Not Authorized`.
    Challenge {
        realm: String,
    },
    /// Credentials that are not a token for this registry (garbled, another region): ECR answers 400.
    BadCredentials,
}

impl OciError {
    pub fn new(code: OciCode, message: impl Into<String>) -> Self {
        Self::Coded { code, message: message.into() }
    }

    pub fn challenge(registry: &RegistryKey) -> Self {
        Self::Challenge { realm: format!("https://{}/", registry.host()) }
    }

    pub fn expired() -> Self {
        Self::new(OciCode::Denied, "Your authorization token has expired. Reauthenticate and try again.")
    }

    pub fn manifest_unknown() -> Self {
        Self::new(OciCode::ManifestUnknown, "Requested image not found")
    }
}

impl From<StateError> for OciError {
    fn from(error: StateError) -> Self {
        use OciCode as C;
        match error {
            StateError::RepositoryNotFound { name, registry } => Self::new(
                C::NameUnknown,
                format!("The repository with name '{name}' does not exist in the registry with id '{registry}'"),
            ),
            StateError::ImageTagAlreadyExists { tag, name, .. } => Self::new(
                C::TagInvalid,
                format!(
                    "The image tag '{tag}' already exists in the '{name}' repository and cannot be overwritten because the repository is immutable."
                ),
            ),
            StateError::ReferencesNotFound { kind, digests, name, registry } => {
                let what = match kind {
                    Referenced::Layers => "Layers",
                    Referenced::Images => "Images",
                };
                Self::new(C::ManifestBlobUnknown, references_not_found(what, &digests, &name, &registry))
            }
            StateError::BlobSizeMismatch { digest, declared, actual } => Self::new(
                C::SizeInvalid,
                format!("The manifest says blob '{digest}' has {declared} bytes, but it has {actual}"),
            ),
            StateError::BlobNotFound { digest, .. } => {
                Self::new(C::BlobUnknown, format!("blob unknown to registry: {digest}"))
            }
            StateError::ImageNotFound { .. } => Self::manifest_unknown(),
            StateError::ImageDigestDoesNotMatch { given, computed } => Self::new(
                C::DigestInvalid,
                format!("The manifest's digest is {computed}, not {given} as the request says"),
            ),
            StateError::InvalidArgument { member, constraint } => {
                let code = if member.eq_ignore_ascii_case("imageManifest") || member == "imageManifestMediaType" {
                    C::ManifestInvalid
                } else {
                    C::Unknown
                };
                Self::new(code, constraint)
            }
            other @ (StateError::RepositoryAlreadyExists { .. }
            | StateError::RepositoryNotEmpty { .. }
            | StateError::ImageAlreadyExists { .. }
            | StateError::InvalidTagParameter(_)
            | StateError::TooManyTags(_)
            | StateError::LimitExceeded { .. }
            | StateError::LifecyclePolicyNotFound { .. }
            | StateError::LifecyclePreviewNotFound { .. }
            | StateError::UnsupportedImageType { .. }
            | StateError::Settings { .. }
            | StateError::ScanQuotaExceeded
            | StateError::RepositoryPolicyNotFound { .. }
            | StateError::ScanNotFound { .. }
            | StateError::PullThroughRuleNotFound { .. }
            | StateError::PullThroughRuleExists { .. }
            | StateError::UnsupportedUpstream(_)) => Self::new(C::Denied, other.to_string()),
            StateError::Iam { message, .. } => Self::new(C::Denied, message),
        }
    }
}

impl From<LabError> for OciError {
    fn from(error: LabError) -> Self {
        match error {
            LabError::State(e) => e.into(),
            LabError::Storage(message) => Self::new(OciCode::Unknown, message),
        }
    }
}

impl From<CommitError> for OciError {
    fn from(error: CommitError) -> Self {
        match error {
            CommitError::Store(e) => e.into(),
            CommitError::Lab(e) => e.into(),
        }
    }
}

impl From<StoreError> for OciError {
    fn from(error: StoreError) -> Self {
        use OciCode as C;
        match error {
            StoreError::UploadUnknown(_) => Self::new(C::BlobUploadUnknown, "blob upload unknown to registry"),
            StoreError::UploadBusy(_) => Self::new(C::BlobUploadInvalid, error.to_string()),
            StoreError::RangeInvalid { .. } | StoreError::PartInvalid { .. } => {
                Self::new(C::RangeInvalid, error.to_string())
            }
            StoreError::DigestMismatch { .. } | StoreError::UnsupportedDigest(_) => {
                Self::new(C::DigestInvalid, error.to_string())
            }
            StoreError::Truncated(_) => Self::new(C::BlobUploadInvalid, error.to_string()),
            StoreError::Io(_) => Self::new(C::Unknown, error.to_string()),
        }
    }
}

impl IntoResponse for OciError {
    fn into_response(self) -> Response {
        match self {
            OciError::Coded { code, message } => {
                let body = serde_json::json!({ "errors": [{ "code": code.name(), "message": message }] });
                let mut response =
                    (code.status(), [(header::CONTENT_TYPE, "application/json; charset=utf-8")], body.to_string())
                        .into_response();
                crate::request_log::note_error(&mut response, code.name(), &message);
                response
            }
            OciError::Challenge { realm } => {
                let challenge = format!("Basic realm=\"{realm}\",service=\"ecr.amazonaws.com\"");
                let mut response = (StatusCode::UNAUTHORIZED, "Not Authorized\n").into_response();
                if let Ok(value) = HeaderValue::from_str(&challenge) {
                    response.headers_mut().insert(header::WWW_AUTHENTICATE, value);
                }
                response
            }
            OciError::BadCredentials => (StatusCode::BAD_REQUEST, "Bad Request\n").into_response(),
        }
    }
}
