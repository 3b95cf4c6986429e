//! What the rules can refuse, in protocol-neutral terms. `ecr_api::error` (and later the registry)
//! map each variant to their own code, status and wording, once.

use crate::types::{AccountId, Digest, ImageTag, RepositoryName};

use super::repository::ImageRef;

#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum StateError {
    #[error("repository {name} does not exist in registry {registry}")]
    RepositoryNotFound { name: RepositoryName, registry: AccountId },
    #[error("repository {name} already exists in registry {registry}")]
    RepositoryAlreadyExists { name: RepositoryName, registry: AccountId },
    #[error("repository {name} in registry {registry} still contains images")]
    RepositoryNotEmpty { name: RepositoryName, registry: AccountId },
    #[error("image {image:?} does not exist in {name}")]
    ImageNotFound { image: ImageRef, name: RepositoryName, registry: AccountId },
    #[error("image {digest} with tag {tag:?} already exists in {name}")]
    ImageAlreadyExists { digest: Digest, tag: Option<ImageTag>, name: RepositoryName, registry: AccountId },
    #[error("tag {tag} is immutable in {name}")]
    ImageTagAlreadyExists { tag: ImageTag, name: RepositoryName, registry: AccountId },
    #[error("the manifest digest is {computed}, not {given}")]
    ImageDigestDoesNotMatch { given: String, computed: Digest },
    /// A member failed a constraint: `member` is the wire name, `constraint` the service's text.
    #[error("invalid {member}: {constraint}")]
    InvalidArgument { member: &'static str, constraint: String },
    #[error("invalid tag: {0}")]
    InvalidTagParameter(String),
    #[error("too many tags: {0}")]
    TooManyTags(String),
    #[error("limit exceeded: {what}")]
    LimitExceeded { what: String },
    /// A manifest names blobs (or, for an index, images) the repository does not hold.
    #[error("{kind:?} not in {name}: {digests:?}")]
    ReferencesNotFound { kind: Referenced, digests: Vec<Digest>, name: RepositoryName, registry: AccountId },
    #[error("blob {digest} is {actual} bytes, not {declared}")]
    BlobSizeMismatch { digest: Digest, declared: u64, actual: u64 },
    #[error("repository {name} in registry {registry} has no lifecycle policy")]
    LifecyclePolicyNotFound { name: RepositoryName, registry: AccountId },
    #[error("repository {name} in registry {registry} has no lifecycle policy preview")]
    LifecyclePreviewNotFound { name: RepositoryName, registry: AccountId },
    #[error("blob {digest} is not in {name}")]
    BlobNotFound { digest: Digest, name: RepositoryName, registry: AccountId },
    /// StartImageScan on an image index or an artifact.
    #[error("images of type {media_type} cannot be scanned")]
    UnsupportedImageType { media_type: String },
    /// A second scan of an image within 24 hours.
    #[error("the image was scanned less than 24 hours ago")]
    ScanQuotaExceeded,
    /// IAM refused or rejected something: `code` is IAM's error code, `message` its text.
    #[error("{code}: {message}")]
    Iam { code: &'static str, message: String },
    #[error("repository {name} in registry {registry} has no repository policy")]
    RepositoryPolicyNotFound { name: RepositoryName, registry: AccountId },
    #[error("no pull through cache rule with prefix {prefix} in registry {registry}")]
    PullThroughRuleNotFound { prefix: String, registry: AccountId },
    #[error("a pull through cache rule with prefix {prefix} exists in registry {registry}")]
    PullThroughRuleExists { prefix: String, registry: AccountId },
    /// CreatePullThroughCacheRule: an upstream ECR cannot use as given; the whole text for the client.
    #[error("{0}")]
    UnsupportedUpstream(String),
    #[error("image {image:?} in {name} has not been scanned")]
    ScanNotFound { image: ImageRef, name: RepositoryName, registry: AccountId },
    /// A registry setting (policy, template, exclusion, signing, storage class) refused.
    #[error("{error:?} in registry {registry}")]
    Settings { error: super::registry_settings::SettingsError, registry: AccountId },
}

/// What a manifest references.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Referenced {
    Layers,
    Images,
}
