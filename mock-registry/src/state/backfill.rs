//! Replication backfill (StartReplicationBackfill and friends): copies the images a registry held
//! before its replication rules were set (or that failed to replicate) to one configured destination.
//!
//! As the ECR user guide ("Replication backfill") and the service model (aws-sdk-ecr 1.138
//! `StartReplicationBackfill`, `ReplicationBackfillSummary`, `ReplicationBackfillProgress`) have it:
//! a backfill names a single destination (region and registry), which must already be in the
//! registry's replication configuration; only images the current rules cover for that destination
//! are included; "each image and tag combination is counted as a single replication"; a backfill
//! FAILS when 50% or more of its replications fail, "evaluated only after at least 100 replications
//! have been processed"; only a PREPARING or IN_PROGRESS backfill can be stopped; finished ones are
//! "retained for 90 days after they end" (ListReplicationBackfills).
//!
//! The lab copies at once, inside StartReplicationBackfill (as it does for a push), so a backfill is
//! COMPLETE or FAILED as soon as it exists: PREPARING, IN_PROGRESS, STOPPING and STOPPED never occur,
//! and there is never one in progress to stop or to collide with (ReplicationBackfillInProgress,
//! the 10-in-progress limit). Images that already have a COMPLETE status for the destination are
//! not copied again.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use super::replication::{DestinationStatus, ReplicationEvent, ReplicationStatus};
use super::{Event, RegistryKey, State, StateError};
use crate::types::{Digest, ImageTag, Millis, RepositoryName};

/// Finished backfills are listed for 90 days after they end (the model's ListReplicationBackfills).
pub const RETENTION_SECONDS: i64 = 90 * 24 * 60 * 60;

/// A backfill FAILS when at least half its replications failed, once this many were processed.
pub const FAILURE_THRESHOLD_MINIMUM: usize = 100;

/// The statuses a lab backfill can have (the model's `ReplicationBackfillStatus` also has
/// PREPARING, IN_PROGRESS, STOPPING and STOPPED: states of a backfill still running).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum BackfillStatus {
    Complete,
    Failed,
}

impl BackfillStatus {
    pub fn wire(self) -> &'static str {
        match self {
            Self::Complete => "COMPLETE",
            Self::Failed => "FAILED",
        }
    }
}

/// One replication of a backfill: an image and one of its tags (or the untagged image).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct BackfillResult {
    pub name: RepositoryName,
    pub digest: Digest,
    pub tag: Option<ImageTag>,
    /// `failureCode` when the copy failed (the same text DescribeImageReplicationStatus reports).
    pub failure: Option<String>,
}

/// One backfill, as StartReplicationBackfill recorded it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ReplicationBackfill {
    /// `replicationBackfillId`: a UUID, as the model's pattern has it.
    pub id: String,
    pub destination: RegistryKey,
    pub status: BackfillStatus,
    /// `failureCode` of a FAILED backfill: its most frequent replication failure.
    pub failure: Option<String>,
    pub started_at: Millis,
    pub ended_at: Millis,
    pub results: Vec<BackfillResult>,
}

/// `ReplicationBackfillProgress`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BackfillProgress {
    pub total: usize,
    pub completed: usize,
    pub failed: usize,
    /// Each failure code once, in the order first seen.
    pub failure_codes: Vec<String>,
}

impl ReplicationBackfill {
    pub fn progress(&self) -> BackfillProgress {
        let mut failure_codes: Vec<String> = Vec::new();
        for code in self.results.iter().filter_map(|r| r.failure.as_ref()) {
            if !failure_codes.contains(code) {
                failure_codes.push(code.clone());
            }
        }
        let failed = self.results.iter().filter(|r| r.failure.is_some()).count();
        BackfillProgress { total: self.results.len(), completed: self.results.len() - failed, failed, failure_codes }
    }
}

/// A change to a registry's backfills.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum BackfillEvent {
    /// A backfill ran to its end (the copies are events of their own, before this one).
    Finished { registry: RegistryKey, backfill: Box<ReplicationBackfill> },
}

/// An image the backfill will copy, with the tags it carries.
struct Candidate {
    name: RepositoryName,
    digest: Digest,
    tags: Vec<ImageTag>,
}

impl State {
    /// StartReplicationBackfill: copies every image the replication rules cover for `destination`
    /// and that has not been replicated there yet; records the backfill and returns it.
    pub fn start_backfill(
        &mut self,
        registry: &RegistryKey,
        destination: &RegistryKey,
    ) -> Result<ReplicationBackfill, StateError> {
        let configuration = self.replication(registry);
        let rules: Vec<_> = configuration.rules.iter().filter(|r| r.destinations.contains(destination)).collect();
        if rules.is_empty() {
            return Err(StateError::InvalidArgument {
                member: "destination",
                constraint: format!(
                    "The destination region {} and registry {} is not in the registry's replication configuration; \
                     add it with PutReplicationConfiguration, then start the backfill",
                    destination.region, destination.account
                ),
            });
        }
        let started_at = self.now_for(&registry.account);
        let mut results = Vec::new();
        for candidate in self.backfill_candidates(registry, destination, |name| rules.iter().any(|r| r.covers(name))) {
            results.extend(self.backfill_image(registry, destination, candidate));
        }
        let ended_at = self.now_for(&registry.account);
        let backfill = finished(uuid::Uuid::new_v4().to_string(), destination, started_at, ended_at, results);
        self.record(Event::Backfill {
            change: BackfillEvent::Finished { registry: registry.clone(), backfill: Box::new(backfill.clone()) },
        });
        Ok(backfill)
    }

    /// The images of `registry` that `covered` repositories hold and that have no COMPLETE status
    /// for `destination`; single images before indexes (an index's manifests must be there first).
    fn backfill_candidates(
        &self,
        registry: &RegistryKey,
        destination: &RegistryKey,
        covered: impl Fn(&RepositoryName) -> bool,
    ) -> Vec<Candidate> {
        let mut candidates: Vec<(bool, Candidate)> = Vec::new();
        for repository in self.repositories(registry).filter(|r| covered(&r.name)) {
            for image in repository.images.values() {
                let statuses = self.replication_statuses(registry, &repository.name, &image.digest);
                let done =
                    statuses.iter().any(|s| &s.destination == destination && s.status == ReplicationStatus::Complete);
                if !done {
                    let candidate = Candidate {
                        name: repository.name.clone(),
                        digest: image.digest.clone(),
                        tags: image.tags.clone(),
                    };
                    candidates.push((!image.children.is_empty(), candidate));
                }
            }
        }
        candidates.sort_by_key(|(is_index, _)| *is_index);
        candidates.into_iter().map(|(_, c)| c).collect()
    }

    /// Copies one image with each of its tags; records its replication status for the destination
    /// (replacing an earlier FAILED one) and returns one result per image and tag.
    fn backfill_image(
        &mut self,
        registry: &RegistryKey,
        destination: &RegistryKey,
        candidate: Candidate,
    ) -> Vec<BackfillResult> {
        let Candidate { name, digest, tags } = candidate;
        let combinations: Vec<Option<ImageTag>> =
            if tags.is_empty() { vec![None] } else { tags.into_iter().map(Some).collect() };
        let results: Vec<BackfillResult> = combinations
            .into_iter()
            .map(|tag| {
                let failure = self.copy_image(registry, destination, &name, &digest, tag.clone()).err();
                BackfillResult { name: name.clone(), digest: digest.clone(), tag, failure }
            })
            .collect();
        let failure = results.iter().find_map(|r| r.failure.clone());
        let status = DestinationStatus {
            destination: destination.clone(),
            status: if failure.is_none() { ReplicationStatus::Complete } else { ReplicationStatus::Failed },
            failure,
        };
        let mut statuses = self.replication_statuses(registry, &name, &digest);
        statuses.retain(|s| &s.destination != destination);
        statuses.push(status);
        self.record(Event::Replication {
            change: ReplicationEvent::Replicated { registry: registry.clone(), name, digest, statuses },
        });
        results
    }

    /// The registry's backfills still retained on the lab clock, oldest first, with their position
    /// in the registry's list (a stable key for pages).
    pub fn backfills(&self, registry: &RegistryKey) -> impl Iterator<Item = (usize, &ReplicationBackfill)> {
        let now = self.now_for(&registry.account);
        let backfills = self.registries.get(registry).map(|r| r.backfills.as_slice()).unwrap_or_default();
        backfills.iter().enumerate().filter(move |(_, b)| b.ended_at.plus_seconds(RETENTION_SECONDS).0 > now.0)
    }

    /// A retained backfill by id (the model's pattern allows either case of hex digits).
    pub fn backfill(&self, registry: &RegistryKey, id: &str) -> Option<&ReplicationBackfill> {
        self.backfills(registry).map(|(_, b)| b).find(|b| b.id.eq_ignore_ascii_case(id))
    }

    pub(super) fn apply_backfill(&mut self, change: &BackfillEvent) {
        match change {
            BackfillEvent::Finished { registry, backfill } => {
                self.registries.entry(registry.clone()).or_default().backfills.push((**backfill).clone());
            }
        }
    }
}

/// The backfill the replications `results` make: FAILED when at least half failed out of at least
/// [`FAILURE_THRESHOLD_MINIMUM`], with the most frequent failure as its code; else COMPLETE.
fn finished(
    id: String,
    destination: &RegistryKey,
    started_at: Millis,
    ended_at: Millis,
    results: Vec<BackfillResult>,
) -> ReplicationBackfill {
    let mut counts: BTreeMap<&String, usize> = BTreeMap::new();
    for code in results.iter().filter_map(|r| r.failure.as_ref()) {
        *counts.entry(code).or_default() += 1;
    }
    let failures: usize = counts.values().sum();
    let failed = results.len() >= FAILURE_THRESHOLD_MINIMUM && failures * 2 >= results.len();
    let most_frequent = || counts.iter().max_by_key(|(_, n)| **n).map(|(code, _)| (*code).clone());
    ReplicationBackfill {
        id,
        destination: destination.clone(),
        status: if failed { BackfillStatus::Failed } else { BackfillStatus::Complete },
        failure: if failed { most_frequent() } else { None },
        started_at,
        ended_at,
        results,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::state::replication::{ReplicationConfiguration, ReplicationRule};
    use crate::state::repository::tests::image_at as image;
    use crate::state::{NewRepository, PutMode};
    use crate::types::{AccountId, Region};

    fn key(region: &str) -> RegistryKey {
        RegistryKey::new(AccountId::parse("920736617090").unwrap(), Region::parse(region).unwrap())
    }

    fn create(state: &mut State, registry: &RegistryKey, name: &str) -> RepositoryName {
        let name = RepositoryName::parse(name).unwrap();
        let new = NewRepository::with_defaults(name.clone());
        state.create_repository(registry, new).unwrap();
        name
    }

    fn push(state: &mut State, registry: &RegistryKey, name: &RepositoryName, n: u8, tag: Option<&str>) {
        let tag = tag.map(|t| ImageTag::parse(t).unwrap());
        state.put_image(registry, name, image(n, state.now()), tag, PutMode::Registry).unwrap();
    }

    #[test]
    fn a_backfill_copies_what_was_pushed_before_the_rules_and_replays_the_same() {
        let mut state = State::new(b"s".to_vec());
        let (source, west, east) = (key("ap-south-1"), key("us-west-2"), key("us-east-1"));
        let prod = create(&mut state, &source, "prod-app");
        let dev = create(&mut state, &source, "dev-app");
        push(&mut state, &source, &prod, 1, Some("v1"));
        push(&mut state, &source, &prod, 1, Some("v2"));
        push(&mut state, &source, &prod, 2, None);
        push(&mut state, &source, &dev, 3, Some("v1"));
        let rule = ReplicationRule { destinations: vec![west.clone()], prefixes: vec!["prod".into()] };
        state.put_replication(&source, ReplicationConfiguration { rules: vec![rule] }).unwrap();
        assert!(state.repository(&west, &prod).is_err(), "replication alone copies nothing that exists");

        let refused = state.start_backfill(&source, &east);
        assert!(matches!(refused, Err(StateError::InvalidArgument { member: "destination", .. })), "{refused:?}");

        let backfill = state.start_backfill(&source, &west).unwrap();
        assert_eq!(backfill.status, BackfillStatus::Complete);
        let progress = backfill.progress();
        assert_eq!((progress.total, progress.completed, progress.failed), (3, 3, 0), "each image and tag once");
        let copy = state.repository(&west, &prod).unwrap();
        assert_eq!(copy.images.len(), 2);
        let mut tags: Vec<String> = copy.images.values().flat_map(|i| i.tags.iter().map(|t| t.to_string())).collect();
        tags.sort();
        assert_eq!(tags, ["v1", "v2"]);
        assert!(state.repository(&west, &dev).is_err(), "dev-app is outside the rule");
        let digest = image(1, Millis(0)).digest;
        let statuses = state.replication_statuses(&source, &prod, &digest);
        assert_eq!(
            statuses.iter().map(|s| (&s.destination, s.status)).collect::<Vec<_>>(),
            [(&west, ReplicationStatus::Complete)]
        );

        let again = state.start_backfill(&source, &west).unwrap();
        assert!(again.results.is_empty(), "what is COMPLETE there is not copied again");
        let listed: Vec<String> = state.backfills(&source).map(|(_, b)| b.id.clone()).collect();
        assert_eq!(listed, [backfill.id.clone(), again.id.clone()]);
        assert_eq!(state.backfill(&source, &backfill.id.to_uppercase()), Some(&backfill));

        let replayed = State::replay(state.take_outbox());
        let backfills = |s: &State| s.backfills(&source).map(|(_, b)| b.clone()).collect::<Vec<_>>();
        assert_eq!(backfills(&replayed), [backfill, again]);
        assert_eq!(replayed.repository(&west, &prod).unwrap().images.len(), 2);
        assert_eq!(replayed.replication_statuses(&source, &prod, &digest), statuses);
        let dir = tempfile::tempdir().unwrap();
        crate::state::snapshot::write(dir.path(), 1, &replayed).unwrap();
        let (restored, _) = crate::state::snapshot::read(dir.path(), 1).unwrap();
        assert_eq!(backfills(&restored), backfills(&replayed), "a snapshot keeps the backfills");

        state.advance_clock(RETENTION_SECONDS).unwrap();
        assert_eq!(state.backfills(&source).count(), 0, "kept 90 days after they end");
    }

    #[test]
    fn a_backfill_fails_when_half_of_at_least_100_replications_fail() {
        let result = |failure: Option<&str>| BackfillResult {
            name: RepositoryName::parse("app").unwrap(),
            digest: image(1, Millis(0)).digest,
            tag: None,
            failure: failure.map(str::to_owned),
        };
        let run = |ok: usize, denied: usize, other: usize| {
            let mut results = vec![result(None); ok];
            results.extend(vec![result(Some("AccessDenied")); denied]);
            results.extend(vec![result(Some("ImageTagAlreadyExists")); other]);
            let backfill = finished("id".into(), &key("us-west-2"), Millis(0), Millis(0), results);
            (backfill.status, backfill.failure)
        };
        assert_eq!(run(50, 30, 20), (BackfillStatus::Failed, Some("AccessDenied".into())));
        assert_eq!(run(51, 30, 19), (BackfillStatus::Complete, None));
        assert_eq!(run(0, 99, 0), (BackfillStatus::Complete, None), "evaluated from 100 replications on");
    }
}
