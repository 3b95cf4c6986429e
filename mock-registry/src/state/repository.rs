//! A repository and its images: tag mutability (with exclusion filters), re-pointed tags leaving the
//! old image untagged, batch deletes with per-image failures, resource tags, scanning and encryption.

use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;

use serde::{Deserialize, Serialize};

use super::lifecycle::{Candidate, LifecyclePolicy, evaluate};
use super::policy::{PolicyDocument, PolicyKind};
use super::{Referenced, RegistryKey, RepositoryUpdate, StateError};
use crate::types::{
    Digest, EncryptionType, ExclusionFilter, ImageTag, Millis, RepositoryName, TagMutability, WireEnum,
};

/// The service quota on repositories per registry (per account and region).
pub const MAX_REPOSITORIES_PER_REGISTRY: usize = 100_000;
/// The service quota on images per repository.
pub const MAX_IMAGES_PER_REPOSITORY: usize = 100_000;
/// At most this many resource tags on one repository.
pub const MAX_RESOURCE_TAGS: usize = 50;

/// `imageTagMutability` plus `imageTagMutabilityExclusionFilters`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TagMutabilitySetting {
    pub mode: TagMutability,
    pub filters: Vec<ExclusionFilter>,
}

impl TagMutabilitySetting {
    /// Filters are required with the `*_WITH_EXCLUSION` modes and refused without them; 1 to 5 of them.
    pub fn new(mode: TagMutability, filters: Vec<ExclusionFilter>) -> Result<Self, StateError> {
        let with_exclusion =
            matches!(mode, TagMutability::ImmutableWithExclusion | TagMutability::MutableWithExclusion);
        let constraint = if with_exclusion && filters.is_empty() {
            Some(format!(
                "ImageTagMutabilityExclusionFilters can't be null when imageTagMutability is set as {}",
                mode.wire()
            ))
        } else if !with_exclusion && !filters.is_empty() {
            Some(format!(
                "ImageTagMutabilityExclusionFilters can only be set when imageTagMutability is set as {} or {}",
                TagMutability::ImmutableWithExclusion.wire(),
                TagMutability::MutableWithExclusion.wire()
            ))
        } else if filters.len() > 5 {
            Some("Member must have length less than or equal to 5".to_owned())
        } else {
            None
        };
        match constraint {
            Some(constraint) => {
                Err(StateError::InvalidArgument { member: "imageTagMutabilityExclusionFilters", constraint })
            }
            None => Ok(Self { mode, filters }),
        }
    }

    pub fn mutable() -> Self {
        Self { mode: TagMutability::Mutable, filters: Vec::new() }
    }

    fn is_mutable(&self) -> bool {
        self.mode == TagMutability::Mutable && self.filters.is_empty()
    }

    /// Whether an existing `tag` may not be moved to another image.
    pub fn is_immutable(&self, tag: &ImageTag) -> bool {
        let excluded = || self.filters.iter().any(|f| f.matches(tag));
        match self.mode {
            TagMutability::Mutable => false,
            TagMutability::Immutable => true,
            TagMutability::ImmutableWithExclusion => !excluded(),
            TagMutability::MutableWithExclusion => excluded(),
        }
    }
}

/// `encryptionConfiguration`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Encryption {
    pub kind: EncryptionType,
    /// `kmsKey`: the key ARN, for KMS and KMS_DSSE only.
    pub kms_key: Option<String>,
}

impl Encryption {
    /// CreateRepository's default: AES256.
    pub fn aes256() -> Self {
        Self { kind: EncryptionType::Aes256, kms_key: None }
    }

    fn is_aes256(&self) -> bool {
        self.kind == EncryptionType::Aes256 && self.kms_key.is_none()
    }
}

/// A resource tag (`Key`/`Value` on the wire).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ResourceTag {
    pub key: String,
    pub value: String,
}

impl ResourceTag {
    pub fn new(key: String, value: String) -> Result<Self, StateError> {
        check_tag_key(&key)?;
        if value.chars().count() > 256 {
            return Err(StateError::InvalidTagParameter(format!(
                "Tag value exceeds the maximum length of 256 characters for key '{key}'"
            )));
        }
        Ok(Self { key, value })
    }
}

pub(crate) fn check_tag_key(key: &str) -> Result<(), StateError> {
    let length = key.chars().count();
    if length == 0 || length > 128 {
        return Err(StateError::InvalidTagParameter("Tag key must be between 1 and 128 characters long".into()));
    }
    if key.to_ascii_lowercase().starts_with("aws:") {
        return Err(StateError::InvalidTagParameter(format!("Tag key '{key}' uses the reserved prefix 'aws:'")));
    }
    Ok(())
}

/// A lifecycle policy preview: the policy it ran and what that would expire.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LifecyclePreview {
    /// `lifecyclePolicyText`.
    pub policy_text: String,
    /// `previewResults`, in rule order, oldest first within a rule.
    pub results: Vec<PreviewResult>,
}

/// One `previewResults` entry.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PreviewResult {
    /// `imageDigest`.
    pub digest: Digest,
    /// `imageTags`.
    pub tags: Vec<String>,
    /// `imagePushedAt`.
    pub pushed_at: Millis,
    /// `appliedRulePriority`.
    pub rule_priority: u32,
}

/// What CreateRepository asks for, already parsed.
#[derive(Debug, Clone)]
pub struct NewRepository {
    pub name: RepositoryName,
    pub tag_mutability: TagMutabilitySetting,
    pub scan_on_push: bool,
    pub encryption: Encryption,
    pub tags: Vec<ResourceTag>,
}

impl NewRepository {
    /// CreateRepository's defaults: tags mutable, no scan on push, AES256, no resource tags.
    pub fn with_defaults(name: RepositoryName) -> Self {
        Self {
            name,
            tag_mutability: TagMutabilitySetting::mutable(),
            scan_on_push: false,
            encryption: Encryption { kind: EncryptionType::Aes256, kms_key: None },
            tags: vec![],
        }
    }
}

/// An image: one manifest, stored byte for byte under the sha256 of those bytes.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Image {
    /// `imageDigest`.
    pub digest: Digest,
    /// `imageManifest`, exactly as pushed.
    pub manifest: String,
    /// `imageManifestMediaType`.
    pub media_type: String,
    /// `artifactMediaType`: the config's media type.
    pub artifact_media_type: Option<String>,
    /// `imageSizeInBytes`: the compressed bytes of the layers, as pushed.
    pub size: u64,
    /// `imagePushedAt`.
    pub pushed_at: Millis,
    /// `imageTags`, in the order they were applied.
    pub tags: Vec<ImageTag>,
    /// The blobs the manifest references (config, layers) with the sizes it declares.
    #[serde(default)]
    pub blobs: Vec<(Digest, u64)>,
    /// For an index or manifest list: the manifests it lists.
    #[serde(default)]
    pub children: Vec<Digest>,
    /// The OCI `subject`: the image this artifact refers to (signatures, SBOMs).
    #[serde(default)]
    pub subject: Option<Digest>,
    /// The OCI `artifactType` (or the config media type of an artifact).
    #[serde(default)]
    pub artifact_type: Option<String>,
    #[serde(default)]
    pub annotations: BTreeMap<String, String>,
}

/// An image as a caller names it in `imageIds`: a digest, a tag or both, unparsed (a bad one is a failure
/// entry, not an exception).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct ImageRef {
    pub digest: Option<String>,
    pub tag: Option<String>,
}

/// An `imageId` the service reports: always the digest, the tag when one applies.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ImageId {
    pub digest: Digest,
    pub tag: Option<ImageTag>,
}

/// One row of ListImages: an untagged image once, a tagged image once per tag.
pub type ListedImage = ImageId;

/// `failureCode` and `failureReason` for one image of a batch call.
/// What a planned BatchDeleteImage has deleted so far (see [`Repository::plan_delete`]).
#[derive(Default)]
struct Gone {
    digests: std::collections::HashSet<Digest>,
    tags: std::collections::HashSet<ImageTag>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ImageFailure {
    pub code: &'static str,
    pub reason: String,
}

impl ImageFailure {
    fn new(code: &'static str, reason: impl Into<String>) -> Self {
        Self { code, reason: reason.into() }
    }
}

/// A change to a repository's images, journaled as one event.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct ImageUpdate {
    /// A new image (its `tags` empty; tags come from `tagged`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub stored: Option<Image>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub untagged: Vec<ImageTag>,
    /// Tags pointed at digests; a tag held by another image leaves that image.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub tagged: Vec<(ImageTag, Digest)>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub deleted: Vec<Digest>,
}

impl ImageUpdate {
    pub fn is_empty(&self) -> bool {
        self.stored.is_none() && self.untagged.is_empty() && self.tagged.is_empty() && self.deleted.is_empty()
    }
}

/// Who is putting an image: the API's PutImage reports an unchanged push as ImageAlreadyExists;
/// the registry accepts it again (docker pushes the same image twice without complaint) unless the
/// tag is immutable.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PutMode {
    Api,
    Registry,
}

/// What PutImage did: the image as now stored, and the tag it was put with.
#[derive(Debug, Clone)]
pub struct PutImageOutcome {
    pub image: Image,
    pub tag: Option<ImageTag>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Repository {
    /// `repositoryName`.
    pub name: RepositoryName,
    /// `createdAt`.
    pub created_at: Millis,
    /// This and the next three fields have defaults when read: a snapshot leaves out the values
    /// CreateRepository's defaults give (see [`Repository::serialize_compact`]).
    #[serde(default = "TagMutabilitySetting::mutable")]
    pub tag_mutability: TagMutabilitySetting,
    /// `imageScanningConfiguration.scanOnPush`.
    #[serde(default)]
    pub scan_on_push: bool,
    #[serde(default = "Encryption::aes256")]
    pub encryption: Encryption,
    /// Resource tags (ListTagsForResource), in the order they were first set.
    #[serde(default)]
    pub resource_tags: Vec<ResourceTag>,
    /// `lifecyclePolicyText`, validated when it was put.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub lifecycle_policy: Option<String>,
    /// `lastEvaluatedAt`: when the lab clock last ran the lifecycle policy.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub lifecycle_evaluated_at: Option<Millis>,
    /// The last StartLifecyclePolicyPreview's outcome (GetLifecyclePolicyPreview).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    /// Boxed: most repositories have none, and every byte of a repository is moved a few times
    /// when a snapshot loads (a smaller repository loads faster).
    pub lifecycle_preview: Option<Box<LifecyclePreview>>,
    /// The repository policy (SetRepositoryPolicy), validated when it was set.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub policy: Option<String>,
    /// `policy` parsed, kept beside the text so authorizing a call does not parse it again;
    /// derived (set with the text, rebuilt on load).
    #[serde(skip)]
    parsed_policy: Option<Arc<PolicyDocument>>,
    /// Images by digest. Journaled as image events, never inside the repository record (a new
    /// repository's is empty, so its event leaves it out); snapshots hold it.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub images: BTreeMap<Digest, Image>,
    /// Which image each tag points at; derived from `images`.
    #[serde(skip)]
    tag_index: HashMap<ImageTag, Digest>,
    /// Blobs (configs, layers) this repository holds, with their sizes: pushed here or mounted.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub blobs: BTreeMap<Digest, u64>,
    /// The latest scan of each image (journaled as scan events); goes when the image does.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub scans: BTreeMap<Digest, super::scan::ImageScan>,
}

impl Repository {
    pub(crate) fn create(new: NewRepository, now: Millis) -> Result<Self, StateError> {
        if new.tags.len() > MAX_RESOURCE_TAGS {
            return Err(StateError::TooManyTags(format!("A repository can have at most {MAX_RESOURCE_TAGS} tags")));
        }
        let mut resource_tags: Vec<ResourceTag> = Vec::new();
        merge_tags(&mut resource_tags, new.tags);
        Ok(Self {
            name: new.name,
            created_at: now,
            tag_mutability: new.tag_mutability,
            scan_on_push: new.scan_on_push,
            encryption: new.encryption,
            resource_tags,
            lifecycle_policy: None,
            lifecycle_evaluated_at: None,
            lifecycle_preview: None,
            policy: None,
            parsed_policy: None,
            images: BTreeMap::new(),
            tag_index: HashMap::new(),
            blobs: BTreeMap::new(),
            scans: BTreeMap::new(),
        })
    }

    /// The repository as a snapshot stores it (format 2): the derived form (a journal record's)
    /// without the fields that hold CreateRepository's defaults (mutable tags without filters, no
    /// scan on push, AES256, no resource tags) or nothing (no policy, no images...), which reading
    /// fills back in. Most of a class's repositories are all defaults: a third of the text to read
    /// at start. Every field is named here, so a field added to `Repository` fails to compile until
    /// it is written (or skipped as derived) here too.
    pub(crate) fn serialize_compact<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeMap as _;
        let Repository {
            name,
            created_at,
            tag_mutability,
            scan_on_push,
            encryption,
            resource_tags,
            lifecycle_policy,
            lifecycle_evaluated_at,
            lifecycle_preview,
            policy,
            parsed_policy: _, // derived from `policy`
            images,
            tag_index: _, // derived from `images`
            blobs,
            scans,
        } = self;
        let mut map = serializer.serialize_map(None)?;
        map.serialize_entry("name", name)?;
        map.serialize_entry("created_at", created_at)?;
        if !tag_mutability.is_mutable() {
            map.serialize_entry("tag_mutability", tag_mutability)?;
        }
        if *scan_on_push {
            map.serialize_entry("scan_on_push", scan_on_push)?;
        }
        if !encryption.is_aes256() {
            map.serialize_entry("encryption", encryption)?;
        }
        if !resource_tags.is_empty() {
            map.serialize_entry("resource_tags", resource_tags)?;
        }
        if let Some(value) = lifecycle_policy {
            map.serialize_entry("lifecycle_policy", value)?;
        }
        if let Some(value) = lifecycle_evaluated_at {
            map.serialize_entry("lifecycle_evaluated_at", value)?;
        }
        if let Some(value) = lifecycle_preview {
            map.serialize_entry("lifecycle_preview", value)?;
        }
        if let Some(value) = policy {
            map.serialize_entry("policy", value)?;
        }
        if !images.is_empty() {
            map.serialize_entry("images", images)?;
        }
        if !blobs.is_empty() {
            map.serialize_entry("blobs", blobs)?;
        }
        if !scans.is_empty() {
            map.serialize_entry("scans", scans)?;
        }
        map.end()
    }

    /// `arn:aws:ecr:REGION:ACCOUNT:repository/NAME`.
    pub fn arn(&self, registry: &RegistryKey) -> String {
        format!("arn:aws:ecr:{}:{}:repository/{}", registry.region, registry.account, self.name)
    }

    /// `ACCOUNT.dkr.ecr.REGION.amazonaws.com/NAME`.
    pub fn uri(&self, registry: &RegistryKey) -> String {
        format!("{}/{}", registry.host(), self.name)
    }

    pub fn image_by_tag(&self, tag: &ImageTag) -> Option<&Image> {
        self.tag_index.get(tag).and_then(|digest| self.images.get(digest))
    }

    /// Resolves a caller's image id: the image, or why not (as a batch call's failure).
    pub fn find(&self, id: &ImageRef) -> Result<&Image, ImageFailure> {
        let not_found = || ImageFailure::new("ImageNotFound", "Requested image not found");
        let digest = match &id.digest {
            Some(text) => Some(Digest::parse(text).map_err(|_| {
                ImageFailure::new(
                    "InvalidImageDigest",
                    "Invalid request parameters: image digest should satisfy the regex '[a-zA-Z0-9-_+.]+:[a-fA-F0-9]+'",
                )
            })?),
            None => None,
        };
        let tag = match &id.tag {
            Some(text) => Some(ImageTag::parse(text).map_err(|_| {
                ImageFailure::new(
                    "InvalidImageTag",
                    "Invalid request parameters: image tag should have length between 1 and 300",
                )
            })?),
            None => None,
        };
        match (digest, tag) {
            (None, None) => Err(ImageFailure::new(
                "MissingDigestAndTag",
                "Invalid request parameters: both tag and digest cannot be null",
            )),
            (Some(digest), None) => self.images.get(&digest).ok_or_else(not_found),
            (None, Some(tag)) => self.image_by_tag(&tag).ok_or_else(not_found),
            (Some(digest), Some(tag)) => {
                let image = self.images.get(&digest).ok_or_else(not_found)?;
                match self.tag_index.get(&tag) {
                    Some(held) if *held == digest => Ok(image),
                    Some(_) => Err(ImageFailure::new(
                        "ImageTagDoesNotMatchDigest",
                        "Invalid request parameters: image tag does not match digest",
                    )),
                    None => Err(not_found()),
                }
            }
        }
    }

    /// ListImages rows in digest order.
    pub fn listed_images(&self) -> impl Iterator<Item = ListedImage> + '_ {
        self.images.values().flat_map(|image| {
            let untagged = image.tags.is_empty().then(|| ImageId { digest: image.digest.clone(), tag: None });
            untagged
                .into_iter()
                .chain(image.tags.iter().map(|t| ImageId { digest: image.digest.clone(), tag: Some(t.clone()) }))
        })
    }

    /// A manifest may only name blobs this repository holds (with the sizes it says) and, for an
    /// index, images it holds.
    fn check_references(&self, registry: &RegistryKey, image: &Image) -> Result<(), StateError> {
        let missing: Vec<Digest> =
            image.blobs.iter().filter(|(d, _)| !self.blobs.contains_key(d)).map(|(d, _)| d.clone()).collect();
        if !missing.is_empty() {
            return Err(StateError::ReferencesNotFound {
                kind: Referenced::Layers,
                digests: missing,
                name: self.name.clone(),
                registry: registry.account.clone(),
            });
        }
        if let Some((digest, declared)) = image.blobs.iter().find(|(d, size)| self.blobs.get(d) != Some(size)) {
            return Err(StateError::BlobSizeMismatch {
                digest: digest.clone(),
                declared: *declared,
                actual: self.blobs[digest],
            });
        }
        let missing: Vec<Digest> = image.children.iter().filter(|d| !self.images.contains_key(*d)).cloned().collect();
        if !missing.is_empty() {
            return Err(StateError::ReferencesNotFound {
                kind: Referenced::Images,
                digests: missing,
                name: self.name.clone(),
                registry: registry.account.clone(),
            });
        }
        Ok(())
    }

    pub(crate) fn plan_put_image(
        &self,
        registry: &RegistryKey,
        mut image: Image,
        tag: Option<ImageTag>,
        mode: PutMode,
    ) -> Result<(ImageUpdate, PutImageOutcome), StateError> {
        self.check_references(registry, &image)?;
        let existing = self.images.get(&image.digest);
        let holder = tag.as_ref().and_then(|t| self.tag_index.get(t));
        let already = match &tag {
            None => existing.is_some(),
            Some(_) => holder == Some(&image.digest),
        };
        let immutable = tag.as_ref().is_some_and(|t| self.tag_mutability.is_immutable(t));
        if already && mode == PutMode::Registry && !immutable {
            let image = existing.expect("an image holding the tag exists").clone();
            return Ok((ImageUpdate::default(), PutImageOutcome { image, tag }));
        }
        if already && mode == PutMode::Registry {
            let t = tag.expect("immutable implies a tag");
            return Err(StateError::ImageTagAlreadyExists {
                tag: t,
                name: self.name.clone(),
                registry: registry.account.clone(),
            });
        }
        if already {
            return Err(StateError::ImageAlreadyExists {
                digest: image.digest,
                tag,
                name: self.name.clone(),
                registry: registry.account.clone(),
            });
        }
        if let (Some(t), Some(_)) = (&tag, holder)
            && self.tag_mutability.is_immutable(t)
        {
            return Err(StateError::ImageTagAlreadyExists {
                tag: t.clone(),
                name: self.name.clone(),
                registry: registry.account.clone(),
            });
        }
        let mut update = ImageUpdate::default();
        match existing {
            Some(stored) => image = stored.clone(),
            None => {
                if self.images.len() >= MAX_IMAGES_PER_REPOSITORY {
                    return Err(StateError::LimitExceeded {
                        what: format!("the limit of {MAX_IMAGES_PER_REPOSITORY} images per repository"),
                    });
                }
                image.tags.clear();
                update.stored = Some(image.clone());
            }
        }
        if let Some(t) = &tag {
            update.tagged.push((t.clone(), image.digest.clone()));
            image.tags.push(t.clone());
        }
        Ok((update, PutImageOutcome { image, tag }))
    }

    /// Plans a BatchDeleteImage: per id, in order, as if each earlier id had already been deleted.
    /// The earlier deletions are kept as sets of gone digests and tags beside the repository, which
    /// is only read (never copied: a repository can hold thousands of manifests).
    pub(crate) fn plan_delete(&self, ids: &[ImageRef]) -> (ImageUpdate, Vec<ImageId>, Vec<(ImageRef, ImageFailure)>) {
        let mut gone = Gone::default();
        let mut update = ImageUpdate::default();
        let mut deleted = Vec::new();
        let mut failures = Vec::new();
        for id in ids {
            let image = match self.find_after(id, &gone) {
                Ok(image) => image,
                Err(failure) => {
                    failures.push((id.clone(), failure));
                    continue;
                }
            };
            let tags: Vec<&ImageTag> = image.tags.iter().filter(|t| !gone.tags.contains(*t)).collect();
            if id.digest.is_none() {
                // By tag: the tag goes; an image left with no tag goes with it.
                let tag = ImageTag::parse(id.tag.as_deref().unwrap_or_default()).expect("find() parsed this tag");
                deleted.push(ImageId { digest: image.digest.clone(), tag: Some(tag.clone()) });
                if tags.len() == 1 {
                    update.deleted.push(image.digest.clone());
                    gone.digests.insert(image.digest.clone());
                }
                gone.tags.insert(tag.clone());
                update.untagged.push(tag);
            } else {
                if tags.is_empty() {
                    deleted.push(ImageId { digest: image.digest.clone(), tag: None });
                }
                deleted.extend(tags.iter().map(|t| ImageId { digest: image.digest.clone(), tag: Some((*t).clone()) }));
                gone.tags.extend(tags.into_iter().cloned());
                gone.digests.insert(image.digest.clone());
                update.deleted.push(image.digest.clone());
            }
        }
        (update, deleted, failures)
    }

    /// [`Repository::find`] as if the digests and tags in `gone` had been deleted.
    fn find_after(&self, id: &ImageRef, gone: &Gone) -> Result<&Image, ImageFailure> {
        let not_found = || ImageFailure::new("ImageNotFound", "Requested image not found");
        let tag_gone =
            || id.tag.as_deref().and_then(|t| ImageTag::parse(t).ok()).is_some_and(|t| gone.tags.contains(&t));
        let digest_gone =
            || id.digest.as_deref().and_then(|d| Digest::parse(d).ok()).is_some_and(|d| gone.digests.contains(&d));
        match self.find(id) {
            Ok(image) if gone.digests.contains(&image.digest) || tag_gone() => Err(not_found()),
            // The tag pointed elsewhere: at an image since deleted (its tags went with it), or untagged.
            Err(failure) if failure.code == "ImageTagDoesNotMatchDigest" && (digest_gone() || tag_gone()) => {
                Err(not_found())
            }
            found => found,
        }
    }

    pub(crate) fn check_update(&self, update: &RepositoryUpdate) -> Result<(), StateError> {
        match update {
            RepositoryUpdate::TagsSet(tags) => {
                let mut merged = self.resource_tags.clone();
                merge_tags(&mut merged, tags.clone());
                if merged.len() > MAX_RESOURCE_TAGS {
                    return Err(StateError::TooManyTags(format!(
                        "A repository can have at most {MAX_RESOURCE_TAGS} tags"
                    )));
                }
                Ok(())
            }
            RepositoryUpdate::TagsRemoved(keys) => keys.iter().try_for_each(|k| check_tag_key(k)),
            RepositoryUpdate::LifecyclePolicySet(text) => LifecyclePolicy::parse(text).map(|_| ()),
            RepositoryUpdate::TagMutability(_)
            | RepositoryUpdate::ScanOnPush(_)
            | RepositoryUpdate::LifecyclePolicyDeleted
            | RepositoryUpdate::LifecycleEvaluated(_)
            | RepositoryUpdate::LifecyclePreviewed(_)
            | RepositoryUpdate::PolicySet(_)
            | RepositoryUpdate::PolicyDeleted => Ok(()),
        }
    }

    pub(crate) fn apply_update(&mut self, update: &RepositoryUpdate) {
        match update {
            RepositoryUpdate::TagMutability(setting) => self.tag_mutability = setting.clone(),
            RepositoryUpdate::ScanOnPush(on) => self.scan_on_push = *on,
            RepositoryUpdate::TagsSet(tags) => merge_tags(&mut self.resource_tags, tags.clone()),
            RepositoryUpdate::TagsRemoved(keys) => self.resource_tags.retain(|t| !keys.contains(&t.key)),
            RepositoryUpdate::LifecyclePolicySet(text) => self.lifecycle_policy = Some(text.clone()),
            RepositoryUpdate::LifecyclePolicyDeleted => self.lifecycle_policy = None,
            RepositoryUpdate::LifecycleEvaluated(at) => self.lifecycle_evaluated_at = Some(*at),
            RepositoryUpdate::LifecyclePreviewed(preview) => self.lifecycle_preview = Some(preview.clone()),
            RepositoryUpdate::PolicySet(text) => {
                self.policy = Some(text.clone());
                self.parse_policy();
            }
            RepositoryUpdate::PolicyDeleted => {
                self.policy = None;
                self.parsed_policy = None;
            }
        }
    }

    /// What lifecycle evaluation needs to know about each image.
    pub fn lifecycle_candidates(&self) -> Vec<Candidate> {
        self.images
            .values()
            .map(|i| Candidate {
                digest: i.digest.clone(),
                tags: i.tags.iter().map(|t| t.to_string()).collect(),
                pushed_at: i.pushed_at,
            })
            .collect()
    }

    /// What `policy` would expire at `now`, with each image's tags and push time.
    pub(crate) fn lifecycle_preview_of(&self, policy_text: &str, now: Millis) -> Result<LifecyclePreview, StateError> {
        let policy = LifecyclePolicy::parse(policy_text)?;
        let results = evaluate(&policy, &self.lifecycle_candidates(), now)
            .into_iter()
            .filter_map(|e| {
                let image = self.images.get(&e.digest)?;
                Some(PreviewResult {
                    digest: e.digest,
                    tags: image.tags.iter().map(|t| t.to_string()).collect(),
                    pushed_at: image.pushed_at,
                    rule_priority: e.rule_priority,
                })
            })
            .collect();
        Ok(LifecyclePreview { policy_text: policy_text.to_owned(), results })
    }

    pub(crate) fn apply_blob(&mut self, digest: &Digest, size: Option<u64>) {
        match size {
            Some(size) => {
                self.blobs.insert(digest.clone(), size);
            }
            None => {
                self.blobs.remove(digest);
            }
        }
    }

    /// Applies `update`, whose new image is `stored` (taken out of it, or a copy).
    pub(crate) fn apply_image_update(&mut self, stored: Option<Image>, update: &ImageUpdate) {
        if let Some(mut image) = stored {
            image.tags.clear();
            self.images.entry(image.digest.clone()).or_insert(image);
        }
        for tag in &update.untagged {
            self.untag(tag);
        }
        for (tag, digest) in &update.tagged {
            self.untag(tag);
            if let Some(image) = self.images.get_mut(digest) {
                image.tags.push(tag.clone());
                self.tag_index.insert(tag.clone(), digest.clone());
            }
        }
        for digest in &update.deleted {
            self.scans.remove(digest);
            if let Some(image) = self.images.remove(digest) {
                for tag in image.tags {
                    self.tag_index.remove(&tag);
                }
            }
        }
    }

    /// Rebuilds the tag index from the images' tags (after a snapshot is read).
    /// Nothing to build for a repository without images or policy (most of a class's): no table
    /// and no hasher is made for it.
    pub(crate) fn reindex(&mut self) {
        if self.images.is_empty() {
            self.tag_index.clear();
        } else {
            self.tag_index =
                self.images.values().flat_map(|i| i.tags.iter().map(|t| (t.clone(), i.digest.clone()))).collect();
        }
        if self.policy.is_some() || self.parsed_policy.is_some() {
            self.parse_policy();
        }
    }

    /// The repository policy as a document (it was validated when set, so a text that no longer
    /// parses, which only a hand-edited data directory could hold, counts as none).
    pub fn policy_document(&self) -> Option<&PolicyDocument> {
        self.parsed_policy.as_deref()
    }

    fn parse_policy(&mut self) {
        self.parsed_policy = self
            .policy
            .as_deref()
            .and_then(|text| PolicyDocument::parse(text, PolicyKind::Resource).ok())
            .map(Arc::new);
    }

    fn untag(&mut self, tag: &ImageTag) {
        if let Some(previous) = self.tag_index.remove(tag)
            && let Some(image) = self.images.get_mut(&previous)
        {
            image.tags.retain(|t| t != tag);
        }
    }
}

/// Sets tags by key: an existing key gets the new value in place, a new key goes last.
fn merge_tags(into: &mut Vec<ResourceTag>, tags: Vec<ResourceTag>) {
    for tag in tags {
        match into.iter_mut().find(|t| t.key == tag.key) {
            Some(existing) => existing.value = tag.value,
            None => into.push(tag),
        }
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use crate::types::{AccountId, Region};

    fn repo(mode: TagMutability, filters: &[&str]) -> (RegistryKey, Repository) {
        let filters = filters.iter().map(|f| ExclusionFilter::parse("WILDCARD", f).unwrap()).collect();
        let new = NewRepository {
            name: RepositoryName::parse("test").unwrap(),
            tag_mutability: TagMutabilitySetting::new(mode, filters).unwrap(),
            scan_on_push: false,
            encryption: Encryption { kind: EncryptionType::Aes256, kms_key: None },
            tags: vec![],
        };
        let key = RegistryKey::new(AccountId::parse("920736617090").unwrap(), Region::parse("ap-south-1").unwrap());
        (key, Repository::create(new, Millis(0)).unwrap())
    }

    /// A tiny image whose manifest (and digest) is its own by `n`, pushed at `at`.
    pub(crate) fn image_at(n: u8, at: Millis) -> Image {
        let manifest = format!("{{\"n\":{n}}}");
        Image {
            digest: Digest::sha256_of(manifest.as_bytes()),
            manifest,
            media_type: "application/vnd.oci.image.manifest.v1+json".into(),
            artifact_media_type: None,
            size: 1,
            pushed_at: at,
            tags: vec![],
            blobs: vec![],
            children: vec![],
            subject: None,
            artifact_type: None,
            annotations: BTreeMap::new(),
        }
    }

    fn image(n: u8) -> Image {
        image_at(n, Millis(n as i64))
    }

    fn put(repo: &mut Repository, key: &RegistryKey, n: u8, tag: &str) -> Result<(), StateError> {
        let (update, _) = repo.plan_put_image(key, image(n), Some(ImageTag::parse(tag).unwrap()), PutMode::Api)?;
        repo.apply_image_update(update.stored.clone(), &update);
        Ok(())
    }

    #[test]
    fn repointing_a_mutable_tag_leaves_the_old_image_untagged() {
        let (key, mut repo) = repo(TagMutability::Mutable, &[]);
        put(&mut repo, &key, 1, "v1").unwrap();
        put(&mut repo, &key, 2, "v1").unwrap();
        assert!(repo.images[&image(1).digest].tags.is_empty());
        assert_eq!(repo.image_by_tag(&ImageTag::parse("v1").unwrap()).unwrap().digest, image(2).digest);
        assert_eq!(repo.listed_images().count(), 2);
    }

    #[test]
    fn immutable_tags_refuse_to_move_and_same_push_is_already_exists() {
        let (key, mut repo) = repo(TagMutability::Immutable, &[]);
        put(&mut repo, &key, 1, "v1").unwrap();
        assert!(matches!(put(&mut repo, &key, 2, "v1"), Err(StateError::ImageTagAlreadyExists { .. })));
        assert!(matches!(put(&mut repo, &key, 1, "v1"), Err(StateError::ImageAlreadyExists { .. })));
        put(&mut repo, &key, 1, "v2").unwrap();
        assert_eq!(repo.images[&image(1).digest].tags.len(), 2);
    }

    #[test]
    fn exclusion_modes() {
        let (key, mut repo) = repo(TagMutability::ImmutableWithExclusion, &["dev-*", "latest"]);
        put(&mut repo, &key, 1, "latest").unwrap();
        put(&mut repo, &key, 2, "latest").unwrap();
        put(&mut repo, &key, 1, "prod").unwrap();
        assert!(put(&mut repo, &key, 2, "prod").is_err());
        let (key, mut repo) = super::tests::repo(TagMutability::MutableWithExclusion, &["release-*"]);
        put(&mut repo, &key, 1, "release-1").unwrap();
        assert!(put(&mut repo, &key, 2, "release-1").is_err());
        put(&mut repo, &key, 1, "dev").unwrap();
        put(&mut repo, &key, 2, "dev").unwrap();
        assert!(TagMutabilitySetting::new(TagMutability::MutableWithExclusion, vec![]).is_err());
    }

    #[test]
    fn batch_delete_by_tag_then_digest() {
        let (key, mut repo) = repo(TagMutability::Mutable, &[]);
        put(&mut repo, &key, 1, "a").unwrap();
        put(&mut repo, &key, 1, "b").unwrap();
        let ids = [
            ImageRef { tag: Some("a".into()), digest: None },
            ImageRef { tag: Some("zzz".into()), digest: None },
            ImageRef { tag: Some("b".into()), digest: None },
            ImageRef::default(),
        ];
        let (update, deleted, failures) = repo.plan_delete(&ids);
        assert_eq!(deleted.len(), 2);
        assert_eq!(failures.len(), 2);
        assert_eq!(failures[0].1.code, "ImageNotFound");
        assert_eq!(failures[1].1.code, "MissingDigestAndTag");
        repo.apply_image_update(update.stored.clone(), &update);
        assert!(repo.images.is_empty(), "removing the last tag deletes the image");
    }
}
