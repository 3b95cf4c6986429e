//! The mock's state and ECR's rules: keys, accounts and regions, repositories, images and tags.
//! No HTTP and no JSON wire shapes here: handlers call one method and translate what it returns.
//!
//! Every change is an [`Event`]. A method validates, builds the event, applies it with
//! [`State::apply`] (the only code that mutates) and records it for the journal, so replaying the
//! journal after a restart goes through exactly the same code as the original request.

pub mod backfill;
pub mod class;
mod error;
pub mod iam;
mod identity;
pub mod journal;
pub mod lifecycle;
pub mod manifest;
pub mod policy;
pub mod pull_through;
mod record;
pub mod registry_settings;
pub mod replication;
mod repository;
pub mod role;
pub mod scan;
pub mod snapshot;
pub mod templates;
pub mod token;

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

pub use error::{Referenced, StateError};
pub use identity::{
    AccessKey, Caller, DEFAULT_ACCESS_KEY_ID, DEFAULT_ACCOUNT, DEFAULT_REGION, DEFAULT_SECRET_ACCESS_KEY,
};
pub use repository::{
    Encryption, Image, ImageFailure, ImageId, ImageRef, ImageUpdate, LifecyclePreview, NewRepository, PreviewResult,
    PutImageOutcome, PutMode, Repository, ResourceTag, TagMutabilitySetting,
};

use crate::clock::WallClock;
use crate::types::{AccountId, Digest, Millis, Region, RepositoryName};

/// What BatchDeleteImage removed, and the ids it could not (with why).
pub type BatchDeleteOutcome = (Vec<ImageId>, Vec<(ImageRef, ImageFailure)>);

/// Where a repository lives: one private registry per account and region, as in AWS.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct RegistryKey {
    pub account: AccountId,
    pub region: Region,
}

impl RegistryKey {
    pub fn new(account: AccountId, region: Region) -> Self {
        Self { account, region }
    }
    /// `ACCOUNT.dkr.ecr.REGION.amazonaws.com`, the registry host of this account and region.
    pub fn host(&self) -> String {
        format!("{}.dkr.ecr.{}.amazonaws.com", self.account, self.region)
    }
}

/// One change to the state. Journaled as one line; replayed through [`State::apply`].
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(tag = "event", rename_all = "snake_case")]
pub enum Event {
    /// First record of a data directory: the secret that signs registry passwords.
    Initialized {
        token_secret: String,
    },
    ClockAdvanced {
        seconds: i64,
    },
    KeyAdded {
        key: AccessKey,
    },
    KeyRevoked {
        access_key_id: String,
    },
    KeyRestored {
        access_key_id: String,
    },
    RepositoryCreated {
        registry: RegistryKey,
        repository: Box<Repository>,
    },
    RepositoryDeleted {
        registry: RegistryKey,
        name: RepositoryName,
    },
    RepositoryUpdated {
        registry: RegistryKey,
        name: RepositoryName,
        update: RepositoryUpdate,
    },
    ImageChanged {
        registry: RegistryKey,
        name: RepositoryName,
        update: Box<ImageUpdate>,
    },
    /// A blob the store holds became part of a repository (pushed or mounted), or left it.
    BlobLinked {
        registry: RegistryKey,
        name: RepositoryName,
        digest: Digest,
        size: u64,
    },
    BlobUnlinked {
        registry: RegistryKey,
        name: RepositoryName,
        digest: Digest,
    },
    /// A scan of an image began (StartImageScan or scan on push); IN_PROGRESS until finished.
    ScanStarted {
        registry: RegistryKey,
        name: RepositoryName,
        digest: Digest,
        at: Millis,
    },
    /// The scanner's result for the scan that started at `started_at`.
    ScanFinished {
        registry: RegistryKey,
        name: RepositoryName,
        digest: Digest,
        started_at: Millis,
        completed_at: Millis,
        result: Box<scan::ScanResult>,
    },
    RegistryScanningSet {
        registry: RegistryKey,
        configuration: scan::RegistryScanning,
    },
    /// A change to the class roster (class mode).
    Class {
        change: class::ClassEvent,
    },
    /// A change to IAM users and their policies.
    Iam {
        change: iam::IamEvent,
    },
    /// A change to a registry's own settings (policy, account settings, templates, archive, ...).
    RegistrySettingChanged {
        registry: RegistryKey,
        change: registry_settings::SettingChange,
    },
    /// A change to a registry's pull through cache rules.
    PullThrough {
        change: pull_through::PullThroughEvent,
    },
    /// Replication configured, or an image replicated.
    Replication {
        change: replication::ReplicationEvent,
    },
    /// A replication backfill ran (StartReplicationBackfill).
    Backfill {
        change: backfill::BackfillEvent,
    },
}

/// A change to a repository's settings.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RepositoryUpdate {
    TagMutability(TagMutabilitySetting),
    ScanOnPush(bool),
    TagsSet(Vec<ResourceTag>),
    TagsRemoved(Vec<String>),
    /// PutLifecyclePolicy: the validated policy text.
    LifecyclePolicySet(String),
    LifecyclePolicyDeleted,
    /// The lab clock ran the lifecycle policy at this time (`lastEvaluatedAt`).
    LifecycleEvaluated(Millis),
    LifecyclePreviewed(Box<LifecyclePreview>),
    /// SetRepositoryPolicy: the validated policy text.
    PolicySet(String),
    PolicyDeleted,
}

/// All of the mock's state. Lives behind one lock in [`crate::Lab`].
///
/// Snapshots ([`snapshot`]) are this struct through serde: a new field needs only its type to
/// derive `Serialize`/`Deserialize` (the container's `default` reads older snapshots without it).
/// Fields that are not state (the wall clock, the outbox) are skipped; a map whose keys are not
/// strings goes through [`snapshot::pairs`].
#[derive(Debug, Default, Serialize, Deserialize)]
#[serde(default)]
pub struct State {
    /// The real clock, or one a test stopped.
    #[serde(skip)]
    wall_clock: WallClock,
    clock_offset_seconds: i64,
    #[serde(with = "snapshot::hex_bytes")]
    token_secret: Vec<u8>,
    keys: BTreeMap<String, AccessKey>,
    /// The class roster and per-account clocks (class mode; empty otherwise).
    roster: class::Roster,
    /// IAM users the lab created, by ARN; other keys' users have full access.
    users: BTreeMap<String, iam::IamUser>,
    /// IAM roles the lab created, by ARN (`arn:aws:iam::ACCOUNT:role/NAME`).
    roles: BTreeMap<String, role::IamRole>,
    #[serde(with = "snapshot::pairs")]
    registries: BTreeMap<RegistryKey, Registry>,
    /// How many repositories hold a repository policy (derived; recounted after a snapshot
    /// loads): while none does, the learner's own calls need no evaluation at all.
    #[serde(skip)]
    repository_policies: usize,
    /// Events applied since the journal last took them.
    #[serde(skip)]
    outbox: Vec<Event>,
}

/// One account's private registry in one region.
#[derive(Debug, Default, Serialize, Deserialize)]
#[serde(default)]
pub struct Registry {
    /// Boxed: a snapshot's repositories are moved a few times on their way into the tree (parsed,
    /// collected, sorted, pushed into the nodes): a pointer moves instead of ~330 bytes, and the
    /// tree's nodes are a tenth of the size.
    #[serde(serialize_with = "snapshot::compact_repositories", deserialize_with = "snapshot::sorted_map::deserialize")]
    pub repositories: BTreeMap<RepositoryName, Box<Repository>>,
    /// The registry scanning configuration (GetRegistryScanningConfiguration).
    pub scanning: scan::RegistryScanning,
    /// Registry policy, account settings, creation templates, archived images, signing.
    pub settings: registry_settings::RegistrySettings,
    /// Pull through cache rules by `ecrRepositoryPrefix`.
    pub pull_through_rules: BTreeMap<String, pull_through::PullThroughRule>,
    /// PutReplicationConfiguration.
    pub replication: replication::ReplicationConfiguration,
    /// Where each pushed image was replicated to (DescribeImageReplicationStatus).
    pub replication_statuses: BTreeMap<RepositoryName, replication::RepositoryStatuses>,
    /// Replication backfills, oldest first (ListReplicationBackfills).
    pub backfills: Vec<backfill::ReplicationBackfill>,
}

impl State {
    /// A fresh state: the default key, and the given token secret.
    pub fn new(token_secret: Vec<u8>) -> Self {
        let mut state = State::default();
        state.record(Event::Initialized { token_secret: hex::encode(token_secret) });
        state
    }

    /// Rebuilds a state from journaled events (without recording them again).
    pub fn replay(events: impl IntoIterator<Item = Event>) -> Self {
        State::default().replayed(events)
    }

    /// This state (a snapshot's) with `events` (the journal after it) applied on top.
    pub fn replayed(mut self, events: impl IntoIterator<Item = Event>) -> Self {
        for event in events {
            self.apply_owned(event);
        }
        self
    }

    /// The state a data directory holds: its newest snapshot (if any) and the journal after it.
    pub fn loaded(loaded: journal::Loaded) -> Self {
        loaded.snapshot.unwrap_or_default().replayed(loaded.events)
    }

    /// The state `loaded` (what the data directory holds) describes, on this state's wall clock:
    /// after a write the journal could not save, memory goes back to exactly what is on disk.
    pub fn rebuilt(&self, loaded: journal::Loaded) -> Self {
        let mut state = State::loaded(loaded);
        state.wall_clock = self.wall_clock;
        state
    }

    /// Rebuilds what snapshots do not store (indexes derived from other fields); called on a
    /// state read from a snapshot.
    pub(crate) fn after_load(&mut self) {
        self.repository_policies = 0;
        for registry in self.registries.values_mut() {
            for repository in registry.repositories.values_mut() {
                repository.reindex();
                self.repository_policies += usize::from(repository.policy.is_some());
            }
        }
    }

    /// Whether any repository holds a repository policy (whose explicit denies apply to every
    /// caller, the learner included).
    pub fn any_repository_policy(&self) -> bool {
        self.repository_policies > 0
    }

    /// Takes the events recorded since the last call, for the journal.
    pub fn take_outbox(&mut self) -> Vec<Event> {
        std::mem::take(&mut self.outbox)
    }

    /// The lab clock: wall-clock time plus however far the lab has advanced it.
    pub fn now(&self) -> Millis {
        self.wall_clock.now().plus_seconds(self.clock_offset_seconds)
    }

    /// Runs the lab clock on `clock` (tests stop it at a fixed time).
    pub fn set_wall_clock(&mut self, clock: WallClock) {
        self.wall_clock = clock;
    }

    pub fn clock_offset_seconds(&self) -> i64 {
        self.clock_offset_seconds
    }

    pub fn advance_clock(&mut self, seconds: i64) -> Result<Millis, StateError> {
        if seconds <= 0 {
            return Err(StateError::InvalidArgument {
                member: "seconds",
                constraint: "the lab clock only moves forward".into(),
            });
        }
        self.record(Event::ClockAdvanced { seconds });
        self.apply_lifecycle_policies();
        Ok(self.now())
    }

    /// Runs every repository's lifecycle policy on the lab clock: expires (deletes) what it selects
    /// and sets `lastEvaluatedAt`. ECR does this within 24 hours; the lab does it when its clock moves.
    fn apply_lifecycle_policies(&mut self) {
        let mut updates = Vec::new();
        for (registry, r) in &self.registries {
            let now = self.now_for(&registry.account);
            for repository in r.repositories.values() {
                let Some(text) = &repository.lifecycle_policy else { continue };
                // A stored policy was validated when it was put; a failure here leaves the images alone.
                let Ok(preview) = repository.lifecycle_preview_of(text, now) else { continue };
                let ids: Vec<ImageRef> = preview
                    .results
                    .iter()
                    .map(|e| ImageRef { digest: Some(e.digest.to_string()), tag: None })
                    .collect();
                let (update, _, _) = repository.plan_delete(&ids);
                updates.push((registry.clone(), repository.name.clone(), update));
            }
        }
        for (registry, name, update) in updates {
            if !update.is_empty() {
                self.record(Event::ImageChanged {
                    registry: registry.clone(),
                    name: name.clone(),
                    update: Box::new(update),
                });
            }
            let evaluated = RepositoryUpdate::LifecycleEvaluated(self.now_for(&registry.account));
            self.record(Event::RepositoryUpdated { registry, name, update: evaluated });
        }
    }

    /// PutLifecyclePolicy: validates and stores the policy text.
    pub fn put_lifecycle_policy(
        &mut self,
        registry: &RegistryKey,
        name: &RepositoryName,
        text: String,
    ) -> Result<&Repository, StateError> {
        self.update_repository(registry, name, RepositoryUpdate::LifecyclePolicySet(text))
    }

    /// GetLifecyclePolicy: the policy text and `lastEvaluatedAt`, or LifecyclePolicyNotFound.
    pub fn lifecycle_policy(
        &self,
        registry: &RegistryKey,
        name: &RepositoryName,
    ) -> Result<(&str, Option<Millis>), StateError> {
        let repository = self.repository(registry, name)?;
        match &repository.lifecycle_policy {
            Some(text) => Ok((text, repository.lifecycle_evaluated_at)),
            None => Err(StateError::LifecyclePolicyNotFound { name: name.clone(), registry: registry.account.clone() }),
        }
    }

    /// DeleteLifecyclePolicy: returns what was deleted (text and `lastEvaluatedAt`).
    pub fn delete_lifecycle_policy(
        &mut self,
        registry: &RegistryKey,
        name: &RepositoryName,
    ) -> Result<(String, Option<Millis>), StateError> {
        let (text, evaluated) = self.lifecycle_policy(registry, name).map(|(t, e)| (t.to_owned(), e))?;
        self.record(Event::RepositoryUpdated {
            registry: registry.clone(),
            name: name.clone(),
            update: RepositoryUpdate::LifecyclePolicyDeleted,
        });
        Ok((text, evaluated))
    }

    /// StartLifecyclePolicyPreview: evaluates `text` (or the stored policy) now; the result is
    /// complete at once.
    pub fn start_lifecycle_preview(
        &mut self,
        registry: &RegistryKey,
        name: &RepositoryName,
        text: Option<String>,
    ) -> Result<LifecyclePreview, StateError> {
        let text = match text {
            Some(text) => text,
            None => self.lifecycle_policy(registry, name)?.0.to_owned(),
        };
        let preview = self.repository(registry, name)?.lifecycle_preview_of(&text, self.now_for(&registry.account))?;
        self.record(Event::RepositoryUpdated {
            registry: registry.clone(),
            name: name.clone(),
            update: RepositoryUpdate::LifecyclePreviewed(Box::new(preview.clone())),
        });
        Ok(preview)
    }

    /// GetLifecyclePolicyPreview: the last preview, or LifecyclePolicyPreviewNotFound.
    pub fn lifecycle_preview(
        &self,
        registry: &RegistryKey,
        name: &RepositoryName,
    ) -> Result<&LifecyclePreview, StateError> {
        self.repository(registry, name)?.lifecycle_preview.as_deref().ok_or_else(|| {
            StateError::LifecyclePreviewNotFound { name: name.clone(), registry: registry.account.clone() }
        })
    }

    pub(crate) fn token_secret(&self) -> &[u8] {
        &self.token_secret
    }

    fn record(&mut self, event: Event) {
        self.apply(&event);
        self.outbox.push(event);
    }

    /// [`State::apply`] on an event the caller gives away (replay): what the event owns moves into
    /// the state instead of being copied (a new repository, a pushed image).
    fn apply_owned(&mut self, event: Event) {
        match event {
            Event::RepositoryCreated { registry, repository } => self.insert_repository(registry, repository),
            Event::ImageChanged { registry, name, mut update } => {
                let stored = update.stored.take();
                self.change_images(&registry, &name, stored, &update);
            }
            event => self.apply(&event),
        }
    }

    /// A created repository (an event's, applied).
    fn insert_repository(&mut self, registry: RegistryKey, mut repository: Box<Repository>) {
        repository.reindex();
        self.repository_policies += usize::from(repository.policy.is_some());
        let repositories = &mut self.registries.entry(registry).or_default().repositories;
        repositories.insert(repository.name.clone(), repository);
    }

    /// An image update (an event's, applied), its new image (`stored`) given apart so that replay
    /// can move it in.
    fn change_images(
        &mut self,
        registry: &RegistryKey,
        name: &RepositoryName,
        stored: Option<Image>,
        update: &ImageUpdate,
    ) {
        if let Some(repository) = self.repository_mut(registry, name) {
            repository.apply_image_update(stored, update);
        }
        if let Some(r) = self.registries.get_mut(registry) {
            update.deleted.iter().for_each(|digest| r.settings.forget_archived(name, Some(digest)));
        }
    }

    /// The only place the state changes.
    fn apply(&mut self, event: &Event) {
        match event {
            Event::Initialized { token_secret } => {
                self.token_secret = hex::decode(token_secret).unwrap_or_else(|_| token_secret.as_bytes().to_vec());
                let key = AccessKey::lab_default();
                self.keys.insert(key.access_key_id.clone(), key);
            }
            Event::ClockAdvanced { seconds } => self.clock_offset_seconds += seconds,
            Event::KeyAdded { key } => {
                self.keys.insert(key.access_key_id.clone(), key.clone());
            }
            Event::KeyRevoked { access_key_id } => {
                if let Some(key) = self.keys.get_mut(access_key_id) {
                    key.revoked = true;
                }
            }
            Event::KeyRestored { access_key_id } => {
                if let Some(key) = self.keys.get_mut(access_key_id) {
                    key.revoked = false;
                }
            }
            Event::RepositoryCreated { registry, repository } => {
                self.insert_repository(registry.clone(), repository.clone());
            }
            Event::RepositoryDeleted { registry, name } => {
                if let Some(r) = self.registries.get_mut(registry) {
                    if r.repositories.remove(name).is_some_and(|removed| removed.policy.is_some()) {
                        self.repository_policies = self.repository_policies.saturating_sub(1);
                    }
                    r.settings.forget_archived(name, None);
                }
            }
            Event::RepositoryUpdated { registry, name, update } => {
                if let Some(repository) = self.repository_mut(registry, name) {
                    let had = repository.policy.is_some();
                    repository.apply_update(update);
                    let has = repository.policy.is_some();
                    self.repository_policies =
                        (self.repository_policies + usize::from(has)).saturating_sub(usize::from(had));
                }
            }
            Event::ImageChanged { registry, name, update } => {
                let stored = update.stored.clone();
                self.change_images(registry, name, stored, update);
            }
            Event::BlobLinked { registry, name, digest, size } => {
                if let Some(repository) = self.repository_mut(registry, name) {
                    repository.apply_blob(digest, Some(*size));
                }
            }
            Event::BlobUnlinked { registry, name, digest } => {
                if let Some(repository) = self.repository_mut(registry, name) {
                    repository.apply_blob(digest, None);
                }
            }
            Event::ScanStarted { registry, name, digest, at } => {
                if let Some(repository) = self.repository_mut(registry, name)
                    && repository.images.contains_key(digest)
                {
                    let scan = scan::ImageScan { started_at: *at, completed_at: None, result: None };
                    repository.scans.insert(digest.clone(), scan);
                }
            }
            Event::ScanFinished { registry, name, digest, started_at, completed_at, result } => {
                if let Some(scan) = self.repository_mut(registry, name).and_then(|r| r.scans.get_mut(digest))
                    && scan.started_at == *started_at
                {
                    scan.completed_at = Some(*completed_at);
                    scan.result = Some((**result).clone());
                }
            }
            Event::RegistryScanningSet { registry, configuration } => {
                self.registries.entry(registry.clone()).or_default().scanning = configuration.clone();
            }
            Event::Class { change } => self.roster.apply(change),
            Event::Iam { change } => self.apply_iam(change),
            Event::RegistrySettingChanged { registry, change } => {
                self.registries.entry(registry.clone()).or_default().settings.apply(change);
            }
            Event::PullThrough { change } => self.apply_pull_through(change),
            Event::Replication { change } => self.apply_replication(change),
            Event::Backfill { change } => self.apply_backfill(change),
        }
    }

    fn repository_mut(&mut self, registry: &RegistryKey, name: &RepositoryName) -> Option<&mut Repository> {
        self.registries.get_mut(registry)?.repositories.get_mut(name).map(|r| &mut **r)
    }

    /// The registry of an account and region (empty if nothing was ever created there).
    pub fn registry(&self, key: &RegistryKey) -> Option<&Registry> {
        self.registries.get(key)
    }

    /// A repository, or ECR's RepositoryNotFound.
    pub fn repository(&self, registry: &RegistryKey, name: &RepositoryName) -> Result<&Repository, StateError> {
        self.registries
            .get(registry)
            .and_then(|r| r.repositories.get(name))
            .map(|r| &**r)
            .ok_or_else(|| StateError::RepositoryNotFound { name: name.clone(), registry: registry.account.clone() })
    }

    /// Repositories of a registry in name order.
    pub fn repositories(&self, registry: &RegistryKey) -> impl Iterator<Item = &Repository> {
        self.registries.get(registry).into_iter().flat_map(|r| r.repositories.values().map(|r| &**r))
    }

    pub fn create_repository(&mut self, registry: &RegistryKey, new: NewRepository) -> Result<Repository, StateError> {
        let existing = self.registries.get(registry).map(|r| r.repositories.len()).unwrap_or(0);
        if self.registries.get(registry).is_some_and(|r| r.repositories.contains_key(&new.name)) {
            return Err(StateError::RepositoryAlreadyExists { name: new.name, registry: registry.account.clone() });
        }
        if existing >= repository::MAX_REPOSITORIES_PER_REGISTRY {
            return Err(StateError::LimitExceeded {
                what: format!("the limit of {} repositories per registry", repository::MAX_REPOSITORIES_PER_REGISTRY),
            });
        }
        let repository = Repository::create(new, self.now_for(&registry.account))?;
        self.record(Event::RepositoryCreated { registry: registry.clone(), repository: Box::new(repository.clone()) });
        Ok(repository)
    }

    pub fn delete_repository(
        &mut self,
        registry: &RegistryKey,
        name: &RepositoryName,
        force: bool,
    ) -> Result<Repository, StateError> {
        let repository = self.repository(registry, name)?.clone();
        if !force && !repository.images.is_empty() {
            return Err(StateError::RepositoryNotEmpty { name: name.clone(), registry: registry.account.clone() });
        }
        self.record(Event::RepositoryDeleted { registry: registry.clone(), name: name.clone() });
        Ok(repository)
    }

    pub fn update_repository(
        &mut self,
        registry: &RegistryKey,
        name: &RepositoryName,
        update: RepositoryUpdate,
    ) -> Result<&Repository, StateError> {
        let repository = self.repository(registry, name)?;
        repository.check_update(&update)?;
        self.record(Event::RepositoryUpdated { registry: registry.clone(), name: name.clone(), update });
        self.repository(registry, name)
    }

    /// Stores a manifest under its digest, optionally tagging it, with ECR's mutability rules, and
    /// replicates it as the registry's replication configuration says.
    pub fn put_image(
        &mut self,
        registry: &RegistryKey,
        name: &RepositoryName,
        image: Image,
        tag: Option<crate::types::ImageTag>,
        mode: PutMode,
    ) -> Result<PutImageOutcome, StateError> {
        let outcome = self.store_image(registry, name, image, tag.clone(), mode)?;
        self.replicate_push(registry, name, &outcome.image.digest, tag);
        Ok(outcome)
    }

    /// [`State::put_image`] without replication (a replicated copy is not replicated again).
    fn store_image(
        &mut self,
        registry: &RegistryKey,
        name: &RepositoryName,
        image: Image,
        tag: Option<crate::types::ImageTag>,
        mode: PutMode,
    ) -> Result<PutImageOutcome, StateError> {
        let repository = self.repository(registry, name)?;
        let (update, outcome) = repository.plan_put_image(registry, image, tag, mode)?;
        let scan = update.stored.as_ref().is_some_and(scan::scannable) && self.scans_on_push(registry, name);
        if !update.is_empty() {
            self.record(Event::ImageChanged {
                registry: registry.clone(),
                name: name.clone(),
                update: Box::new(update),
            });
        }
        if self.is_archived(registry, name, &outcome.image.digest) {
            // "The image can be restored ... by re-pushing the image to the repository" (ECR user guide).
            let digest = outcome.image.digest.clone();
            self.record_setting(registry, registry_settings::SettingChange::Restored { name: name.clone(), digest });
        }
        if scan {
            // Scan on push: the new image is IN_PROGRESS at once; the scanner picks it up.
            let at = self.now_for(&registry.account);
            let digest = outcome.image.digest.clone();
            self.record(Event::ScanStarted { registry: registry.clone(), name: name.clone(), digest, at });
        }
        Ok(outcome)
    }

    /// Records that `name` holds a blob the store has committed (after its bytes are durable).
    pub fn link_blob(
        &mut self,
        registry: &RegistryKey,
        name: &RepositoryName,
        digest: Digest,
        size: u64,
    ) -> Result<(), StateError> {
        let repository = self.repository(registry, name)?;
        if repository.blobs.get(&digest) != Some(&size) {
            self.record(Event::BlobLinked { registry: registry.clone(), name: name.clone(), digest, size });
        }
        Ok(())
    }

    pub fn unlink_blob(
        &mut self,
        registry: &RegistryKey,
        name: &RepositoryName,
        digest: &Digest,
    ) -> Result<(), StateError> {
        self.blob_size(registry, name, digest)?;
        self.record(Event::BlobUnlinked { registry: registry.clone(), name: name.clone(), digest: digest.clone() });
        Ok(())
    }

    /// The size of a blob `name` holds, or BlobNotFound (NAME_UNKNOWN first if the repository is missing).
    pub fn blob_size(&self, registry: &RegistryKey, name: &RepositoryName, digest: &Digest) -> Result<u64, StateError> {
        let repository = self.repository(registry, name)?;
        repository.blobs.get(digest).copied().ok_or_else(|| StateError::BlobNotFound {
            digest: digest.clone(),
            name: name.clone(),
            registry: registry.account.clone(),
        })
    }

    /// Deletes images by digest or removes tags, as BatchDeleteImage; returns what went and the failures.
    pub fn delete_images(
        &mut self,
        registry: &RegistryKey,
        name: &RepositoryName,
        ids: &[ImageRef],
    ) -> Result<BatchDeleteOutcome, StateError> {
        let repository = self.repository(registry, name)?;
        let (update, deleted, failures) = repository.plan_delete(ids);
        if !update.is_empty() {
            self.record(Event::ImageChanged {
                registry: registry.clone(),
                name: name.clone(),
                update: Box::new(update),
            });
        }
        Ok((deleted, failures))
    }

    pub fn add_key(&mut self, key: AccessKey) -> Result<AccessKey, StateError> {
        if self.keys.contains_key(&key.access_key_id) {
            return Err(StateError::InvalidArgument {
                member: "accessKeyId",
                constraint: format!("access key {} already exists", key.access_key_id),
            });
        }
        self.record(Event::KeyAdded { key: key.clone() });
        Ok(key)
    }

    pub fn revoke_key(&mut self, access_key_id: &str) -> Result<(), StateError> {
        if !self.keys.contains_key(access_key_id) {
            return Err(StateError::InvalidArgument {
                member: "accessKeyId",
                constraint: format!("no access key {access_key_id}"),
            });
        }
        self.record(Event::KeyRevoked { access_key_id: access_key_id.to_owned() });
        Ok(())
    }

    /// Undoes [`State::revoke_key`]: the key signs requests again.
    pub fn restore_key(&mut self, access_key_id: &str) -> Result<(), StateError> {
        if !self.keys.contains_key(access_key_id) {
            return Err(StateError::InvalidArgument {
                member: "accessKeyId",
                constraint: format!("no access key {access_key_id}"),
            });
        }
        self.record(Event::KeyRestored { access_key_id: access_key_id.to_owned() });
        Ok(())
    }

    pub fn key(&self, access_key_id: &str) -> Option<&AccessKey> {
        self.keys.get(access_key_id)
    }

    pub fn keys(&self) -> impl Iterator<Item = &AccessKey> {
        self.keys.values()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::types::ImageTag;

    use super::repository::tests::image_at as image;

    #[test]
    fn lifecycle_expiry_is_journaled_and_replays_the_same() {
        let registry =
            RegistryKey::new(AccountId::parse(DEFAULT_ACCOUNT).unwrap(), Region::parse("ap-south-1").unwrap());
        let name = RepositoryName::parse("app").unwrap();
        let mut state = State::new(b"secret".to_vec());
        state.create_repository(&registry, NewRepository::with_defaults(name.clone())).unwrap();
        for n in 1..=4u8 {
            let at = Millis(state.now().0 - i64::from(10 - n) * 1000);
            let tag = ImageTag::parse(&format!("v{n}")).unwrap();
            state.put_image(&registry, &name, image(n, at), Some(tag), PutMode::Api).unwrap();
        }
        let policy = format!(
            "{:<100}",
            r#"{"rules":[{"rulePriority":1,"selection":{"tagStatus":"any","countType":"imageCountMoreThan","countNumber":2},"action":{"type":"expire"}}]}"#
        );
        state.put_lifecycle_policy(&registry, &name, policy.clone()).unwrap();
        let preview = state.start_lifecycle_preview(&registry, &name, None).unwrap();
        assert_eq!(preview.results.iter().map(|r| r.tags.join(",")).collect::<Vec<_>>(), ["v1", "v2"]);
        assert_eq!(state.repository(&registry, &name).unwrap().images.len(), 4, "a preview deletes nothing");

        state.advance_clock(60).unwrap();
        let kept = |s: &State| {
            let mut tags: Vec<String> = s
                .repository(&registry, &name)
                .unwrap()
                .images
                .values()
                .flat_map(|i| i.tags.iter().map(|t| t.to_string()))
                .collect();
            tags.sort();
            tags
        };
        assert_eq!(kept(&state), ["v3", "v4"]);
        let evaluated = state.lifecycle_policy(&registry, &name).unwrap().1;
        assert!(evaluated.is_some());

        let replayed = State::replay(state.take_outbox());
        assert_eq!(kept(&replayed), ["v3", "v4"]);
        assert_eq!(replayed.lifecycle_policy(&registry, &name).unwrap(), (policy.as_str(), evaluated));
        assert_eq!(replayed.lifecycle_preview(&registry, &name).unwrap(), &preview);
    }
}
