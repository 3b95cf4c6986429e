//! Private image replication (PutReplicationConfiguration, DescribeImageReplicationStatus): a
//! registry's rules name destination registries (region and account) and optional repository
//! name prefixes. As the ECR user guide ("Private image replication") has it, only what is pushed
//! after the configuration is set is replicated, a missing destination repository is created with
//! the source's name, and deletions are not replicated. The lab copies at once, inside the push
//! (AWS copies within about 30 minutes), so a status is COMPLETE or FAILED, never IN_PROGRESS.
//! A copy does not replicate again from its destination. Cross-account copies need no registry
//! policy in the lab (on AWS the destination's must allow `ecr:ReplicateImage`), except in class
//! mode, where another student's registry refuses them (FAILED).

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use super::templates::AppliedFor;
use super::{Event, RegistryKey, State, StateError};
use crate::types::{AccountId, Digest, ImageTag, Region, RepositoryName};

/// Rules per configuration, and filters and destinations per rule (the service model).
pub const MAX_RULES: usize = 10;
pub const MAX_FILTERS: usize = 100;
pub const MAX_DESTINATIONS_PER_RULE: usize = 100;
/// Distinct destinations across all rules (the user guide's limit).
pub const MAX_DESTINATIONS: usize = 25;

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ReplicationConfiguration {
    pub rules: Vec<ReplicationRule>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ReplicationRule {
    pub destinations: Vec<RegistryKey>,
    /// PREFIX_MATCH filters; empty means every repository.
    pub prefixes: Vec<String>,
}

impl ReplicationRule {
    pub(super) fn covers(&self, name: &RepositoryName) -> bool {
        self.prefixes.is_empty() || self.prefixes.iter().any(|p| name.as_str().starts_with(p.as_str()))
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum ReplicationStatus {
    Complete,
    Failed,
}

impl ReplicationStatus {
    pub fn wire(self) -> &'static str {
        match self {
            Self::Complete => "COMPLETE",
            Self::Failed => "FAILED",
        }
    }
}

/// How one destination fared for one image.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DestinationStatus {
    pub destination: RegistryKey,
    pub status: ReplicationStatus,
    /// `failureCode`: what went wrong, when FAILED.
    pub failure: Option<String>,
}

/// A change to replication.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ReplicationEvent {
    Configured {
        registry: RegistryKey,
        configuration: ReplicationConfiguration,
    },
    /// An image of `name` in `registry` was replicated (the copies are events of their own).
    Replicated {
        registry: RegistryKey,
        name: RepositoryName,
        digest: Digest,
        statuses: Vec<DestinationStatus>,
    },
}

/// A repository filter value: 2–256 characters of repository-name syntax (the model's pattern).
pub fn check_filter(filter: &str) -> Result<(), StateError> {
    let invalid = |constraint: &str| StateError::InvalidArgument {
        member: "replicationConfiguration.rules.repositoryFilters.filter",
        constraint: constraint.into(),
    };
    if !(2..=256).contains(&filter.len()) {
        return Err(invalid("Member must have length between 2 and 256"));
    }
    let ok_char = |b: u8| b.is_ascii_lowercase() || b.is_ascii_digit() || b"._-/".contains(&b);
    let starts_ok = filter.bytes().next().is_some_and(|b| b.is_ascii_lowercase() || b.is_ascii_digit());
    if !filter.bytes().all(ok_char) || !starts_ok || filter.contains("//") {
        return Err(invalid(
            "Member must satisfy regular expression pattern: ^(?:[a-z0-9]+(?:[._-][a-z0-9]*)*/)*[a-z0-9]*(?:[._-][a-z0-9]*)*$",
        ));
    }
    Ok(())
}

impl State {
    /// PutReplicationConfiguration: replaces the registry's configuration (an empty rule list turns
    /// replication off).
    pub fn put_replication(
        &mut self,
        registry: &RegistryKey,
        configuration: ReplicationConfiguration,
    ) -> Result<ReplicationConfiguration, StateError> {
        let invalid = |member: &'static str, constraint: String| StateError::InvalidArgument { member, constraint };
        let mut distinct: Vec<&RegistryKey> = Vec::new();
        for rule in &configuration.rules {
            for destination in &rule.destinations {
                if destination == registry {
                    return Err(invalid(
                        "replicationConfiguration.rules.destinations",
                        format!(
                            "Replication destination region {} and registry {} is the source registry; replicate to another region or account",
                            destination.region, destination.account
                        ),
                    ));
                }
                if !distinct.contains(&destination) {
                    distinct.push(destination);
                }
            }
        }
        if distinct.len() > MAX_DESTINATIONS {
            return Err(invalid(
                "replicationConfiguration.rules.destinations",
                format!(
                    "The replication configuration has {} distinct destinations; at most {MAX_DESTINATIONS} are allowed",
                    distinct.len()
                ),
            ));
        }
        self.record(Event::Replication {
            change: ReplicationEvent::Configured { registry: registry.clone(), configuration: configuration.clone() },
        });
        Ok(configuration)
    }

    /// The registry's replication configuration (empty rules when never set).
    pub fn replication(&self, registry: &RegistryKey) -> ReplicationConfiguration {
        self.registries.get(registry).map(|r| r.replication.clone()).unwrap_or_default()
    }

    /// DescribeImageReplicationStatus: the destinations an image went to (none if it was never
    /// replicated). RepositoryNotFound / ImageNotFound as ECR has them.
    pub fn replication_statuses(
        &self,
        registry: &RegistryKey,
        name: &RepositoryName,
        digest: &Digest,
    ) -> Vec<DestinationStatus> {
        let statuses = self.registries.get(registry).and_then(|r| r.replication_statuses.get(name));
        statuses.and_then(|s| s.get(digest)).cloned().unwrap_or_default()
    }

    /// After a push to `name` in `source`: copies the image (and the tag it was pushed with) to every
    /// destination the rules name for the repository, and records how each went.
    pub(super) fn replicate_push(
        &mut self,
        source: &RegistryKey,
        name: &RepositoryName,
        digest: &Digest,
        tag: Option<ImageTag>,
    ) {
        let mut destinations: Vec<RegistryKey> = Vec::new();
        for rule in self.replication(source).rules.iter().filter(|r| r.covers(name)) {
            for d in &rule.destinations {
                if !destinations.contains(d) {
                    destinations.push(d.clone());
                }
            }
        }
        if destinations.is_empty() {
            return;
        }
        let statuses = destinations
            .into_iter()
            .map(|destination| {
                let outcome = self.copy_image(source, &destination, name, digest, tag.clone());
                DestinationStatus {
                    destination,
                    status: if outcome.is_ok() { ReplicationStatus::Complete } else { ReplicationStatus::Failed },
                    failure: outcome.err(),
                }
            })
            .collect();
        self.record(Event::Replication {
            change: ReplicationEvent::Replicated {
                registry: source.clone(),
                name: name.clone(),
                digest: digest.clone(),
                statuses,
            },
        });
    }

    /// One copy: the destination repository (created with default settings if missing), its
    /// blobs (the store is shared, so linking them is the copy), then the manifest and tag.
    pub(super) fn copy_image(
        &mut self,
        source: &RegistryKey,
        destination: &RegistryKey,
        name: &RepositoryName,
        digest: &Digest,
        tag: Option<ImageTag>,
    ) -> Result<(), String> {
        let image = self.repository(source, name).ok().and_then(|r| r.images.get(digest)).cloned();
        let Some(mut image) = image else { return Err("ImageNotFound".into()) };
        if destination.account != source.account {
            // "the destination registry's permissions policy must allow ecr:ReplicateImage" for the
            // source account (ECR user guide, private registry permissions): no policy, no copy.
            let principal = format!("arn:aws:iam::{}:root", source.account);
            if !self.registry_policy_allows(destination, &principal, &source.account, "ecr:ReplicateImage") {
                return Err(format!(
                    "AccessDenied: the registry permissions policy of {} does not allow ecr:ReplicateImage from {}",
                    destination.account, source.account
                ));
            }
        }
        if self.repository(destination, name).is_err() {
            // Created as ECR creates it for replication: by a REPLICATION template if one applies.
            self.apply_creation_template(destination, name, AppliedFor::Replication)
                .map_err(|e| format!("CreateRepository failed: {e}"))?;
        }
        for (blob, size) in image.blobs.clone() {
            self.link_blob(destination, name, blob, size).map_err(|e| e.to_string())?;
        }
        image.tags.clear();
        image.pushed_at = self.now_for(&destination.account);
        let outcome = self.store_image(destination, name, image, tag, super::PutMode::Registry);
        outcome.map(|_| ()).map_err(|e| match e {
            StateError::ImageTagAlreadyExists { tag, .. } => {
                format!("ImageTagAlreadyExists: tag {tag} is immutable in the destination repository")
            }
            other => other.to_string(),
        })
    }

    pub(super) fn apply_replication(&mut self, change: &ReplicationEvent) {
        match change {
            ReplicationEvent::Configured { registry, configuration } => {
                self.registries.entry(registry.clone()).or_default().replication = configuration.clone();
            }
            ReplicationEvent::Replicated { registry, name, digest, statuses } => {
                let r = self.registries.entry(registry.clone()).or_default();
                r.replication_statuses.entry(name.clone()).or_default().insert(digest.clone(), statuses.clone());
            }
        }
    }
}

/// The statuses of one repository's images, by digest.
pub type RepositoryStatuses = BTreeMap<Digest, Vec<DestinationStatus>>;

/// A destination as the wire names it: region and registry id.
pub fn destination(region: &str, registry_id: &str) -> Result<RegistryKey, StateError> {
    let region = Region::parse(region).map_err(|e| StateError::InvalidArgument {
        member: "replicationConfiguration.rules.destinations.region",
        constraint: e.0,
    })?;
    let account = AccountId::parse(registry_id).map_err(|e| StateError::InvalidArgument {
        member: "replicationConfiguration.rules.destinations.registryId",
        constraint: e.0,
    })?;
    Ok(RegistryKey::new(account, region))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::state::repository::tests::image_at as image;
    use crate::state::{Encryption, NewRepository, PutMode};
    use crate::types::EncryptionType;

    fn key(account: &str, region: &str) -> RegistryKey {
        RegistryKey::new(AccountId::parse(account).unwrap(), Region::parse(region).unwrap())
    }

    fn repo(name: &str) -> NewRepository {
        NewRepository::with_defaults(RepositoryName::parse(name).unwrap())
    }

    #[test]
    fn a_push_is_copied_to_each_destination_the_filters_allow() {
        let mut state = State::new(b"s".to_vec());
        let source = key("920736617090", "ap-south-1");
        let west = key("920736617090", "us-west-2");
        let other = key("111122223333", "ap-south-1");
        let rule = ReplicationRule { destinations: vec![west.clone(), other.clone()], prefixes: vec!["prod".into()] };
        state.put_replication(&source, ReplicationConfiguration { rules: vec![rule] }).unwrap();
        // Another account's registry takes copies only when its registry policy allows them.
        let allow = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::920736617090:root"},"Action":["ecr:CreateRepository","ecr:ReplicateImage"],"Resource":"*"}]}"#;
        state.put_registry_policy(&other, allow).unwrap();
        for name in ["prod-app", "dev-app"] {
            state.create_repository(&source, repo(name)).unwrap();
            let tag = ImageTag::parse("v1").unwrap();
            let pushed =
                state.put_image(&source, &repo(name).name, image(1, state.now()), Some(tag), PutMode::Registry);
            pushed.unwrap();
        }
        let prod = RepositoryName::parse("prod-app").unwrap();
        let digest = state.repository(&source, &prod).unwrap().images.keys().next().unwrap().clone();
        for d in [&west, &other] {
            let copy = state.repository(d, &prod).unwrap();
            assert_eq!(copy.image_by_tag(&ImageTag::parse("v1").unwrap()).unwrap().digest, digest);
            assert!(state.repository(d, &RepositoryName::parse("dev-app").unwrap()).is_err(), "filtered out");
        }
        let statuses = state.replication_statuses(&source, &prod, &digest);
        assert_eq!(statuses.iter().map(|s| s.status).collect::<Vec<_>>(), [ReplicationStatus::Complete; 2]);
        assert!(state.replication_statuses(&west, &prod, &digest).is_empty(), "copies do not replicate again");
        let replayed = State::replay(state.take_outbox());
        assert_eq!(replayed.replication_statuses(&source, &prod, &digest), statuses);
        assert!(replayed.repository(&other, &prod).is_ok());
    }

    #[test]
    fn another_accounts_registry_refuses_the_copy_until_its_registry_policy_allows_it() {
        let mut state = State::new(b"s".to_vec());
        let ana = state.join_class("ana", None).unwrap().key.account;
        let ben = state.join_class("ben", None).unwrap().key.account;
        let source = RegistryKey::new(ana.clone(), Region::parse("ap-south-1").unwrap());
        let other = RegistryKey::new(ben, Region::parse("ap-south-1").unwrap());
        let west = RegistryKey::new(source.account.clone(), Region::parse("us-west-2").unwrap());
        let rule = ReplicationRule { destinations: vec![other.clone(), west.clone()], prefixes: vec![] };
        state.put_replication(&source, ReplicationConfiguration { rules: vec![rule] }).unwrap();
        state.create_repository(&source, repo("app")).unwrap();
        let name = repo("app").name;
        let outcome = state.put_image(&source, &name, image(1, state.now()), None, PutMode::Registry).unwrap();
        let statuses = state.replication_statuses(&source, &name, &outcome.image.digest);
        assert_eq!(
            statuses.iter().map(|s| s.status).collect::<Vec<_>>(),
            [ReplicationStatus::Failed, ReplicationStatus::Complete]
        );
        assert!(statuses[0].failure.as_deref().unwrap().starts_with("AccessDenied"));
        assert!(state.repository(&other, &name).is_err(), "nothing written into ben's registry");
        assert!(state.repository(&west, &name).is_ok());

        // Ben's registry policy lets ana's account replicate (the user guide's example policy).
        let allow = format!(
            r#"{{"Version":"2012-10-17","Statement":[{{"Sid":"ReplicationAccessCrossAccount","Effect":"Allow","Principal":{{"AWS":"arn:aws:iam::{ana}:root"}},"Action":["ecr:CreateRepository","ecr:ReplicateImage"],"Resource":"arn:aws:ecr:ap-south-1:{}:repository/*"}}]}}"#,
            other.account
        );
        state.put_registry_policy(&other, &allow).unwrap();
        let outcome = state.put_image(&source, &name, image(2, state.now()), None, PutMode::Registry).unwrap();
        let statuses = state.replication_statuses(&source, &name, &outcome.image.digest);
        assert_eq!(statuses.iter().map(|s| s.status).collect::<Vec<_>>(), [ReplicationStatus::Complete; 2]);
        assert!(state.repository(&other, &name).is_ok());
    }

    #[test]
    fn a_replication_template_decides_how_the_destination_repository_is_created() {
        use crate::state::TagMutabilitySetting;
        use crate::state::templates::{AppliedFor, CreationTemplate};
        use crate::types::{Millis, TagMutability};
        let mut state = State::new(b"s".to_vec());
        let source = key("920736617090", "ap-south-1");
        let west = key("920736617090", "us-west-2");
        let template = CreationTemplate {
            prefix: "prod".into(),
            description: None,
            encryption: Encryption { kind: EncryptionType::Aes256, kms_key: None },
            resource_tags: vec![],
            tag_mutability: TagMutabilitySetting::new(TagMutability::Immutable, vec![]).unwrap(),
            repository_policy: None,
            lifecycle_policy: None,
            applied_for: vec![AppliedFor::Replication],
            custom_role_arn: None,
            created_at: Millis(0),
            updated_at: Millis(0),
        };
        state.create_creation_template(&west, template).unwrap();
        let rule = ReplicationRule { destinations: vec![west.clone()], prefixes: vec![] };
        state.put_replication(&source, ReplicationConfiguration { rules: vec![rule] }).unwrap();
        for name in ["prod/app", "dev/app"] {
            state.create_repository(&source, repo(name)).unwrap();
            let tag = ImageTag::parse("v1").unwrap();
            state.put_image(&source, &repo(name).name, image(1, state.now()), Some(tag), PutMode::Registry).unwrap();
        }
        let mode = |name: &str| state.repository(&west, &repo(name).name).unwrap().tag_mutability.mode;
        assert_eq!(mode("prod/app"), TagMutability::Immutable, "the prod template applied");
        assert_eq!(mode("dev/app"), TagMutability::Mutable, "no template: ECR's defaults");
    }

    #[test]
    fn the_source_is_not_a_destination() {
        let mut state = State::new(b"s".to_vec());
        let source = key("920736617090", "ap-south-1");
        let rule = ReplicationRule { destinations: vec![source.clone()], prefixes: vec![] };
        let refused = state.put_replication(&source, ReplicationConfiguration { rules: vec![rule] });
        assert!(matches!(refused, Err(StateError::InvalidArgument { .. })));
        assert!(check_filter("prod").is_ok());
        assert!(check_filter("p").is_err());
        assert!(check_filter("Prod").is_err());
    }
}
