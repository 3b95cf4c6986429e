//! Image scans and scanning configuration (reference/ecr-facts.md §6a): scan records per image (IN_PROGRESS
//! until the scanner reports), the once-per-24-hours rule on the lab clock, scan on push from the
//! repository's `scanOnPush` or the registry's rules, and the registry scanning configuration. The
//! scanning itself is in `crate::scan`; this module only decides and records.

use serde::{Deserialize, Serialize};

use super::{Event, RegistryKey, State, StateError};
use crate::state::{Image, ImageRef, manifest};
use crate::types::{Digest, Millis, RepositoryName, ScanStatus, Severity, wildcard_match};

/// An image is scanned at most once in this long (ECR's basic scanning quota).
pub const SCAN_INTERVAL_SECONDS: i64 = 24 * 60 * 60;
/// At most this many registry scanning rules, each with this many filters.
pub const MAX_RULES: usize = 2;
pub const MAX_FILTERS: usize = 100;

/// One basic-scan finding: `name`, `description`, `uri`, `severity`, `attributes`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Finding {
    pub name: String,
    pub description: String,
    pub uri: String,
    pub severity: Severity,
    /// `attributes[{key, value}]`, in order.
    pub attributes: Vec<(String, String)>,
}

/// What the scanner reports.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ScanResult {
    pub status: ScanStatus,
    /// `imageScanStatus.description`.
    pub description: String,
    pub findings: Vec<Finding>,
    /// `vulnerabilitySourceUpdatedAt`: the date of the advisory list used.
    pub source_updated_at: Option<Millis>,
}

/// The latest scan of one image.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ImageScan {
    /// When it started (the 24-hour quota counts from here).
    pub started_at: Millis,
    /// `imageScanCompletedAt`, once done.
    pub completed_at: Option<Millis>,
    /// `None` while IN_PROGRESS.
    pub result: Option<ScanResult>,
}

impl ImageScan {
    pub fn status(&self) -> ScanStatus {
        self.result.as_ref().map_or(ScanStatus::InProgress, |r| r.status)
    }

    /// `findingSeverityCounts`: severities with at least one finding, most severe first.
    pub fn severity_counts(&self) -> Vec<(Severity, usize)> {
        let findings = self.result.as_ref().map(|r| r.findings.as_slice()).unwrap_or_default();
        Severity::ALL
            .into_iter()
            .map(|s| (s, findings.iter().filter(|f| f.severity == s).count()))
            .filter(|(_, n)| *n > 0)
            .collect()
    }
}

/// `scanType`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum ScanType {
    Basic,
    Enhanced,
}

/// `scanFrequency`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum ScanFrequency {
    ScanOnPush,
    ContinuousScan,
    Manual,
}

impl ScanFrequency {
    pub fn wire(self) -> &'static str {
        match self {
            ScanFrequency::ScanOnPush => "SCAN_ON_PUSH",
            ScanFrequency::ContinuousScan => "CONTINUOUS_SCAN",
            ScanFrequency::Manual => "MANUAL",
        }
    }
}

/// A registry scanning rule: a frequency for the repositories its WILDCARD filters match.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ScanningRule {
    pub frequency: ScanFrequency,
    pub filters: Vec<String>,
}

/// `PutRegistryScanningConfiguration`'s configuration. The default: BASIC, no rules.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RegistryScanning {
    pub scan_type: ScanType,
    pub rules: Vec<ScanningRule>,
}

impl Default for RegistryScanning {
    fn default() -> Self {
        Self { scan_type: ScanType::Basic, rules: Vec::new() }
    }
}

/// `^[a-z0-9*](?:[._\-/a-z0-9*]?[a-z0-9*]+)*$`, 1 to 256 characters (the model's filter pattern).
pub fn valid_filter(filter: &str) -> bool {
    let b = filter.as_bytes();
    let core = |c: u8| c.is_ascii_lowercase() || c.is_ascii_digit() || c == b'*';
    let sep = |c: u8| matches!(c, b'.' | b'_' | b'-' | b'/');
    if b.is_empty() || b.len() > 256 || !core(b[0]) || !core(b[b.len() - 1]) {
        return false;
    }
    // Every character is a core one or a separator, and no two separators touch.
    b.iter().all(|&c| core(c) || sep(c)) && !b.windows(2).any(|w| sep(w[0]) && sep(w[1]))
}

impl RegistryScanning {
    /// Checks the rules as ECR does: at most two, each with 1 to 100 valid filters, no CONTINUOUS_SCAN
    /// with BASIC, one rule per frequency.
    pub fn new(scan_type: ScanType, rules: Vec<ScanningRule>) -> Result<Self, StateError> {
        let invalid = |constraint: String| StateError::InvalidArgument { member: "rules", constraint };
        if rules.len() > MAX_RULES {
            return Err(invalid(format!("Member must have length less than or equal to {MAX_RULES}")));
        }
        if scan_type == ScanType::Enhanced {
            return Err(StateError::InvalidArgument {
                member: "scanType",
                constraint: "ENHANCED scanning uses Amazon Inspector, which the ecr-lab mock does not have; use BASIC"
                    .into(),
            });
        }
        for (i, rule) in rules.iter().enumerate() {
            if rule.frequency == ScanFrequency::ContinuousScan {
                return Err(invalid(
                    "CONTINUOUS_SCAN is only available with the ENHANCED scan type; BASIC allows SCAN_ON_PUSH and MANUAL"
                        .into(),
                ));
            }
            if rule.filters.is_empty() || rule.filters.len() > MAX_FILTERS {
                return Err(invalid(format!("repositoryFilters must have between 1 and {MAX_FILTERS} filters")));
            }
            if let Some(bad) = rule.filters.iter().find(|f| !valid_filter(f)) {
                return Err(StateError::InvalidArgument {
                    member: "repositoryFilters.filter",
                    constraint: format!(
                        "Member must satisfy regular expression pattern: ^[a-z0-9*](?:[._\\-/a-z0-9*]?[a-z0-9*]+)*$ (got '{bad}')"
                    ),
                });
            }
            if rules[..i].iter().any(|r| r.frequency == rule.frequency) {
                return Err(invalid(format!("Only one rule per scan frequency is allowed: {}", rule.frequency.wire())));
            }
        }
        Ok(Self { scan_type, rules })
    }

    /// The filters of `frequency`'s rule that match repository `name`.
    pub fn matching(&self, frequency: ScanFrequency, name: &RepositoryName) -> Vec<&str> {
        self.rules
            .iter()
            .filter(|r| r.frequency == frequency)
            .flat_map(|r| r.filters.iter())
            .filter(|f| wildcard_match(f.as_bytes(), name.as_str().as_bytes()))
            .map(String::as_str)
            .collect()
    }
}

/// How a repository is scanned (BatchGetRepositoryScanningConfiguration).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RepositoryScanning {
    pub name: RepositoryName,
    pub scan_on_push: bool,
    pub frequency: ScanFrequency,
    /// `appliedScanFilters`: the registry filters that gave the frequency.
    pub filters: Vec<String>,
}

/// Whether ECR's basic scanning can look at this manifest at all (a single image, not an index or
/// an artifact such as a signature).
pub fn scannable(image: &Image) -> bool {
    image.children.is_empty()
        && image.subject.is_none()
        && matches!(image.media_type.as_str(), manifest::DOCKER_MANIFEST_V2 | manifest::OCI_MANIFEST)
        && image.artifact_media_type.as_deref().is_none_or(|m| {
            matches!(m, "application/vnd.docker.container.image.v1+json" | "application/vnd.oci.image.config.v1+json")
        })
}

impl State {
    /// The registry scanning configuration (the default when none was put).
    pub fn registry_scanning(&self, registry: &RegistryKey) -> RegistryScanning {
        self.registry(registry).map(|r| r.scanning.clone()).unwrap_or_default()
    }

    pub fn put_registry_scanning(
        &mut self,
        registry: &RegistryKey,
        configuration: RegistryScanning,
    ) -> Result<RegistryScanning, StateError> {
        self.record(Event::RegistryScanningSet { registry: registry.clone(), configuration: configuration.clone() });
        Ok(configuration)
    }

    /// How each named repository is scanned; repositories that do not exist come back by name.
    pub fn repository_scanning(
        &self,
        registry: &RegistryKey,
        names: &[RepositoryName],
    ) -> (Vec<RepositoryScanning>, Vec<RepositoryName>) {
        let configuration = self.registry_scanning(registry);
        let mut found = Vec::new();
        let mut missing = Vec::new();
        for name in names {
            let Ok(repository) = self.repository(registry, name) else {
                missing.push(name.clone());
                continue;
            };
            let on_push = configuration.matching(ScanFrequency::ScanOnPush, name);
            let (frequency, filters) = if !on_push.is_empty() {
                (ScanFrequency::ScanOnPush, on_push.into_iter().map(str::to_owned).collect())
            } else if repository.scan_on_push && configuration.rules.is_empty() {
                (ScanFrequency::ScanOnPush, Vec::new())
            } else {
                let manual = configuration.matching(ScanFrequency::Manual, name);
                (ScanFrequency::Manual, manual.into_iter().map(str::to_owned).collect())
            };
            found.push(RepositoryScanning {
                name: name.clone(),
                scan_on_push: frequency == ScanFrequency::ScanOnPush,
                frequency,
                filters,
            });
        }
        (found, missing)
    }

    /// Whether a new image in `name` is scanned on push: a registry SCAN_ON_PUSH rule whose filter
    /// matches the name; with no registry rules at all, the repository's own (deprecated)
    /// `scanOnPush`. Once the registry has rules they decide: "Any repositories not matching a
    /// basic scanning scan on push filter will be set to the manual scan frequency" (AWS ECR user
    /// guide, image-scanning-filters).
    pub(super) fn scans_on_push(&self, registry: &RegistryKey, name: &RepositoryName) -> bool {
        let configuration = self.registry_scanning(registry);
        if !configuration.rules.is_empty() {
            return !configuration.matching(ScanFrequency::ScanOnPush, name).is_empty();
        }
        self.repository(registry, name).is_ok_and(|r| r.scan_on_push)
    }

    /// StartImageScan: starts a scan (IN_PROGRESS) of the image `id` names, unless it was scanned
    /// in the last 24 hours on the lab clock. Returns the image.
    pub fn start_image_scan(
        &mut self,
        registry: &RegistryKey,
        name: &RepositoryName,
        id: &ImageRef,
    ) -> Result<Image, StateError> {
        let now = self.now_for(&registry.account);
        let repository = self.repository(registry, name)?;
        let image = repository
            .find(id)
            .map_err(|_| StateError::ImageNotFound {
                image: id.clone(),
                name: name.clone(),
                registry: registry.account.clone(),
            })?
            .clone();
        if !scannable(&image) {
            return Err(StateError::UnsupportedImageType { media_type: image.media_type.clone() });
        }
        if let Some(scan) = repository.scans.get(&image.digest)
            && now.0 - scan.started_at.0 < SCAN_INTERVAL_SECONDS * 1000
        {
            return Err(StateError::ScanQuotaExceeded);
        }
        self.record(Event::ScanStarted {
            registry: registry.clone(),
            name: name.clone(),
            digest: image.digest.clone(),
            at: now,
        });
        Ok(image)
    }

    /// Records what the scanner found, if that scan is still the image's latest one.
    pub fn finish_image_scan(
        &mut self,
        registry: &RegistryKey,
        name: &RepositoryName,
        digest: &Digest,
        started_at: Millis,
        result: ScanResult,
    ) -> Result<(), StateError> {
        let current = self.repository(registry, name)?.scans.get(digest);
        if current.is_some_and(|s| s.started_at == started_at && s.result.is_none()) {
            self.record(Event::ScanFinished {
                registry: registry.clone(),
                name: name.clone(),
                digest: digest.clone(),
                started_at,
                completed_at: self.now_for(&registry.account),
                result: Box::new(result),
            });
        }
        Ok(())
    }

    /// DescribeImageScanFindings: the image and its latest scan, or ScanNotFound.
    pub fn image_scan(
        &self,
        registry: &RegistryKey,
        name: &RepositoryName,
        id: &ImageRef,
    ) -> Result<(&Image, &ImageScan), StateError> {
        let repository = self.repository(registry, name)?;
        let image = repository.find(id).map_err(|_| StateError::ImageNotFound {
            image: id.clone(),
            name: name.clone(),
            registry: registry.account.clone(),
        })?;
        let scan = repository.scans.get(&image.digest).ok_or_else(|| StateError::ScanNotFound {
            image: id.clone(),
            name: name.clone(),
            registry: registry.account.clone(),
        })?;
        Ok((image, scan))
    }

    /// Scans started and not finished (after a restart, the scanner runs them again).
    pub fn scans_in_progress(&self) -> Vec<(RegistryKey, RepositoryName, Digest, Millis)> {
        let mut pending = Vec::new();
        for (key, registry) in &self.registries {
            for repository in registry.repositories.values() {
                for (digest, scan) in &repository.scans {
                    if scan.result.is_none() {
                        pending.push((key.clone(), repository.name.clone(), digest.clone(), scan.started_at));
                    }
                }
            }
        }
        pending
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn filters_follow_the_model_pattern() {
        for good in ["test", "*", "prod-*", "team/*", "a.b_c-d/e", "**"] {
            assert!(valid_filter(good), "{good}");
        }
        for bad in ["", "Test", "-x", "x-", "a..b", "a/-b", "a b", &"a".repeat(257)] {
            assert!(!valid_filter(bad), "{bad}");
        }
    }

    #[test]
    fn rules_are_checked() {
        let rule = |f: ScanFrequency, filters: &[&str]| ScanningRule {
            frequency: f,
            filters: filters.iter().map(|s| s.to_string()).collect(),
        };
        assert!(RegistryScanning::new(ScanType::Basic, vec![rule(ScanFrequency::ScanOnPush, &["prod-*"])]).is_ok());
        assert!(RegistryScanning::new(ScanType::Basic, vec![rule(ScanFrequency::ContinuousScan, &["*"])]).is_err());
        assert!(RegistryScanning::new(ScanType::Basic, vec![rule(ScanFrequency::ScanOnPush, &[])]).is_err());
        assert!(RegistryScanning::new(ScanType::Enhanced, vec![]).is_err());
        let two = vec![rule(ScanFrequency::Manual, &["a"]), rule(ScanFrequency::Manual, &["b"])];
        assert!(RegistryScanning::new(ScanType::Basic, two).is_err());
        let config =
            RegistryScanning::new(ScanType::Basic, vec![rule(ScanFrequency::ScanOnPush, &["prod-*", "test"])]).unwrap();
        assert_eq!(config.matching(ScanFrequency::ScanOnPush, &RepositoryName::parse("prod-web").unwrap()), ["prod-*"]);
        assert!(config.matching(ScanFrequency::ScanOnPush, &RepositoryName::parse("dev-web").unwrap()).is_empty());
    }
}

#[cfg(test)]
mod state_tests {
    use super::*;
    use crate::state::repository::tests::image_at;
    use crate::state::{DEFAULT_ACCOUNT, Encryption, NewRepository, PutMode, TagMutabilitySetting};
    use crate::types::{AccountId, EncryptionType, ImageTag, Region};

    fn lab_state(repositories: &[(&str, bool)]) -> (State, RegistryKey) {
        let registry =
            RegistryKey::new(AccountId::parse(DEFAULT_ACCOUNT).unwrap(), Region::parse("ap-south-1").unwrap());
        let mut state = State::new(b"secret".to_vec());
        for (name, scan_on_push) in repositories {
            let new = NewRepository {
                name: RepositoryName::parse(name).unwrap(),
                tag_mutability: TagMutabilitySetting::mutable(),
                scan_on_push: *scan_on_push,
                encryption: Encryption { kind: EncryptionType::Aes256, kms_key: None },
                tags: vec![],
            };
            state.create_repository(&registry, new).unwrap();
        }
        (state, registry)
    }

    fn by_tag(tag: &str) -> ImageRef {
        ImageRef { digest: None, tag: Some(tag.into()) }
    }

    fn complete() -> ScanResult {
        ScanResult {
            status: ScanStatus::Complete,
            description: "done".into(),
            findings: vec![],
            source_updated_at: None,
        }
    }

    #[test]
    fn scan_on_push_the_quota_and_replay() {
        let (mut state, registry) = lab_state(&[("test", true), ("manual", false)]);
        let test = RepositoryName::parse("test").unwrap();
        let manual = RepositoryName::parse("manual").unwrap();
        let now = state.now();
        let tag = || Some(ImageTag::parse("v1").unwrap());
        state.put_image(&registry, &test, image_at(1, now), tag(), PutMode::Api).unwrap();
        state.put_image(&registry, &manual, image_at(1, now), tag(), PutMode::Api).unwrap();

        let (_, scan) = state.image_scan(&registry, &test, &by_tag("v1")).unwrap();
        assert_eq!(scan.status(), ScanStatus::InProgress, "IN_PROGRESS until the scanner reports");
        assert_eq!(state.scans_in_progress().len(), 1);
        assert!(matches!(state.image_scan(&registry, &manual, &by_tag("v1")), Err(StateError::ScanNotFound { .. })));
        // The scan on push counts against the once-per-24-hours quota.
        assert_eq!(state.start_image_scan(&registry, &test, &by_tag("v1")), Err(StateError::ScanQuotaExceeded));

        let digest = image_at(1, now).digest;
        let started = state.image_scan(&registry, &test, &by_tag("v1")).unwrap().1.started_at;
        state.finish_image_scan(&registry, &test, &digest, started, complete()).unwrap();
        assert_eq!(state.image_scan(&registry, &test, &by_tag("v1")).unwrap().1.status(), ScanStatus::Complete);
        // A stale result (another start time) is not recorded.
        state.finish_image_scan(&registry, &test, &digest, Millis(0), complete()).unwrap();

        state.start_image_scan(&registry, &manual, &by_tag("v1")).unwrap();
        state.advance_clock(SCAN_INTERVAL_SECONDS - 60).unwrap();
        assert_eq!(state.start_image_scan(&registry, &manual, &by_tag("v1")), Err(StateError::ScanQuotaExceeded));
        state.advance_clock(120).unwrap();
        state.start_image_scan(&registry, &manual, &by_tag("v1")).unwrap();

        let replayed = State::replay(state.take_outbox());
        let (_, scan) = replayed.image_scan(&registry, &test, &by_tag("v1")).unwrap();
        assert_eq!(scan.result, Some(complete()));
        assert_eq!(replayed.scans_in_progress().len(), 1, "the manual rescan is still running after a restart");
    }

    #[test]
    fn registry_rules_scan_matching_repositories_on_push() {
        let (mut state, registry) = lab_state(&[("prod-web", false), ("dev-web", false)]);
        let rule = ScanningRule { frequency: ScanFrequency::ScanOnPush, filters: vec!["prod-*".into()] };
        let config = RegistryScanning::new(ScanType::Basic, vec![rule]).unwrap();
        state.put_registry_scanning(&registry, config.clone()).unwrap();
        let now = state.now();
        for name in ["prod-web", "dev-web"] {
            let name = RepositoryName::parse(name).unwrap();
            state.put_image(&registry, &name, image_at(1, now), None, PutMode::Api).unwrap();
        }
        let pending: Vec<String> = state.scans_in_progress().iter().map(|(_, n, _, _)| n.to_string()).collect();
        assert_eq!(pending, ["prod-web"]);
        let names = [RepositoryName::parse("prod-web").unwrap(), RepositoryName::parse("nope").unwrap()];
        let (found, missing) = state.repository_scanning(&registry, &names);
        assert_eq!(found[0].frequency, ScanFrequency::ScanOnPush);
        assert_eq!(found[0].filters, ["prod-*"]);
        assert_eq!(missing, [RepositoryName::parse("nope").unwrap()]);
        assert_eq!(State::replay(state.take_outbox()).registry_scanning(&registry), config);
    }

    #[test]
    fn only_single_images_are_scannable() {
        let image = image_at(1, Millis(0));
        assert!(scannable(&image));
        let index = Image { children: vec![image.digest.clone()], ..image_at(2, Millis(0)) };
        assert!(!scannable(&index));
        let signature = Image { subject: Some(image.digest.clone()), ..image_at(3, Millis(0)) };
        assert!(!scannable(&signature));
        let chart = Image {
            artifact_media_type: Some("application/vnd.cncf.helm.config.v1+json".into()),
            ..image_at(4, Millis(0))
        };
        assert!(!scannable(&chart));
    }

    #[tokio::test]
    async fn a_scan_cut_off_by_a_restart_runs_again_when_the_lab_opens() {
        let dir = tempfile::tempdir().unwrap();
        let (_, registry) = lab_state(&[]);
        {
            // A journal whose last scan started and never finished (the server was killed).
            let (journal, _) = crate::state::journal::Journal::open(dir.path()).unwrap();
            let (mut state, _) = lab_state(&[("test", false)]);
            let name = RepositoryName::parse("test").unwrap();
            let now = state.now();
            state
                .put_image(&registry, &name, image_at(1, now), Some(ImageTag::parse("v1").unwrap()), PutMode::Api)
                .unwrap();
            state.start_image_scan(&registry, &name, &by_tag("v1")).unwrap();
            let seq = journal.append(&state.take_outbox());
            journal.wait_durable(seq).await.unwrap();
        }
        let lab = crate::Lab::open(dir.path()).unwrap();
        let name = RepositoryName::parse("test").unwrap();
        let mut status = ScanStatus::InProgress;
        for _ in 0..200 {
            status =
                lab.read(|s| s.image_scan(&registry, &name, &by_tag("v1")).map(|(_, scan)| scan.status())).unwrap();
            if status != ScanStatus::InProgress {
                break;
            }
            tokio::time::sleep(std::time::Duration::from_millis(10)).await;
        }
        // The test image's manifest is no image manifest at all: the rerun scan fails, as ECR's would.
        assert_eq!(status, ScanStatus::Failed);
        let description = lab.read(|s| {
            s.image_scan(&registry, &name, &by_tag("v1")).unwrap().1.result.as_ref().unwrap().description.clone()
        });
        assert_eq!(description, crate::scan::UNSUPPORTED_IMAGE);
    }
}
