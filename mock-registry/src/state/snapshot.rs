//! Snapshots of the state, so that opening a data directory replays a snapshot and the journal
//! after it instead of every event since the lab began, and the journal's history can be deleted.
//!
//! Files in a data directory:
//! - `journal.log`: the active journal segment (see [`super::journal`]);
//! - `journal.<N>.log`: closed segments, in order (`N` has 16 digits);
//! - `snapshot.<N>.json`: the state after every event of the closed segments up to `N`, as one
//!   record `CRC32HEX JSON\n` (the JSON is `{"format":2,"covers":N,"state":{...}}`; see `FORMAT`).
//!
//! How a snapshot is taken, off the request path: the journal writer, between two batches, closes
//! the active segment (renames it to `journal.<N>.log` and starts a new `journal.log`); a
//! background thread then rebuilds the state those closed segments describe (the previous snapshot
//! plus the segments after it: files that no longer change, so no lock on the live state is
//! needed), writes it to `snapshot.<N>.json.tmp`, fsyncs it, renames it into place and fsyncs the
//! directory. Only then is the journal cut: snapshots older than the previous one, and the segments
//! the previous one covers, are deleted. So the previous snapshot and the segments after it stay
//! as a fallback when the newest snapshot turns out damaged (its checksum fails): opening never
//! trusts a damaged snapshot, it uses the one before and replays more. A temporary file left by a
//! crash is ignored and deleted.
//!
//! When: after [`Thresholds::events`] events or [`Thresholds::bytes`] bytes of journal since the last
//! snapshot (whichever comes first), on a clean stop of `ecr-lab serve`, and by `ecr-lab repair`.
//!
//! Test hooks, read once from the environment (never set them on a real lab):
//! - `ECR_LAB_SNAPSHOT_EVENTS` / `ECR_LAB_SNAPSHOT_BYTES`: other thresholds.
//! - `ECR_LAB_FAILPOINT=<step>`: the process kills itself with `kill -9` at that step of
//!   snapshotting, one of [`FAILPOINTS`].

use std::collections::BTreeMap;
use std::fs::{File, OpenOptions};
use std::io::{self, Write as _};
use std::path::{Path, PathBuf};
use std::sync::OnceLock;

use serde::{Deserialize, Serialize};

use super::State;

/// Events since the last snapshot that trigger the next one, once the journal since is at least an
/// eighth of the last snapshot's size (a large state is not rewritten over and over). A kill -9
/// leaves at most this many to replay on top of the snapshot, and each snapshot rewrites the whole
/// state: the one number trades start-up after a crash against write throughput. Measured on the
/// 2-core benchmark machine (README: Benchmarks, API), a start with 1M events behind it and a tail
/// of 5,000 / 10,000 / 20,000 events: 20 / 28 / 45 ms to ready; durable CreateRepository at 64
/// clients 47.5x / 53.0x / 58.6x moto_server.
pub const DEFAULT_EVENTS: u64 = 10_000;
/// Bytes of journal since the last snapshot that trigger the next one (or the last snapshot's size,
/// if larger: the journal kept stays proportional to the state).
pub const DEFAULT_BYTES: u64 = 4 << 20;

/// The steps of snapshotting a test can kill the process at (`ECR_LAB_FAILPOINT`).
pub const FAILPOINTS: &[&str] = &[
    // The active segment was renamed to a closed one; no new `journal.log` yet.
    "rotate-renamed",
    // The segment is closed; the snapshot's temporary file is not created yet.
    "snapshot-before-write",
    // Half of the snapshot is in its temporary file (synced).
    "snapshot-mid-write",
    // The temporary file is whole and synced, not renamed.
    "snapshot-written",
    // The snapshot is in place and durable; nothing is cut yet.
    "snapshot-renamed",
    // The first old file of the cut is deleted, the rest not yet.
    "cut-mid",
];

/// The format snapshots are written in. 2: repositories without the fields that hold defaults
/// ([`Repository::serialize_compact`](super::Repository::serialize_compact)); 1 (still read): every field. A version
/// before format 2 refuses such a snapshot as it does a damaged one (its parse misses `tag_mutability`).
const FORMAT: u32 = 2;
/// The formats this version reads.
const READS: &[u32] = &[1, 2];

/// When a snapshot is due.
#[derive(Debug, Clone, Copy)]
pub struct Thresholds {
    pub events: u64,
    pub bytes: u64,
}

impl Thresholds {
    /// The defaults, or the test hooks' values (read once).
    pub fn get() -> Self {
        static THRESHOLDS: OnceLock<Thresholds> = OnceLock::new();
        *THRESHOLDS.get_or_init(|| {
            let read = |name: &str, default: u64| {
                std::env::var(name).ok().and_then(|v| v.parse().ok()).filter(|&n| n > 0).unwrap_or(default)
            };
            Thresholds {
                events: read("ECR_LAB_SNAPSHOT_EVENTS", DEFAULT_EVENTS),
                bytes: read("ECR_LAB_SNAPSHOT_BYTES", DEFAULT_BYTES),
            }
        })
    }
}

/// Kills the process (`kill -9`) here when `ECR_LAB_FAILPOINT` names this step (a test of crash
/// safety). Costs a comparison with a string read once.
pub(crate) fn failpoint(step: &str) {
    if chosen_failpoint() == Some(step) {
        eprintln!("ecr-lab: failpoint {step}: kill -9");
        // SIGKILL, as a crash: no handler, no flush, no core file. Abort if `kill` cannot run.
        let _ = std::process::Command::new("kill").args(["-9", &std::process::id().to_string()]).status();
        std::process::abort();
    }
}

fn chosen_failpoint() -> Option<&'static str> {
    static CHOSEN: OnceLock<Option<String>> = OnceLock::new();
    CHOSEN.get_or_init(|| std::env::var("ECR_LAB_FAILPOINT").ok()).as_deref()
}

pub(crate) fn file_name(covers: u64) -> String {
    format!("snapshot.{covers:016}.json")
}

/// The segment number of a snapshot's file name.
pub(crate) fn parse_name(name: &str) -> Option<u64> {
    let digits = name.strip_prefix("snapshot.")?.strip_suffix(".json")?;
    (digits.len() == 16).then(|| digits.parse().ok()).flatten()
}

pub(crate) fn is_temporary(name: &str) -> bool {
    name.starts_with("snapshot.") && name.ends_with(".json.tmp")
}

#[derive(Serialize)]
struct Writing<'a> {
    format: u32,
    covers: u64,
    state: &'a State,
}

#[derive(Deserialize)]
struct Reading {
    format: u32,
    covers: u64,
    state: State,
}

/// Reads `dir`'s snapshot covering segments up to `covers`; an error says why it is not trusted.
pub(crate) fn read(dir: &Path, covers: u64) -> Result<(State, u64), String> {
    let started = std::time::Instant::now();
    let bytes = std::fs::read(dir.join(file_name(covers))).map_err(|e| e.to_string())?;
    crate::startup_trace::took("snapshot: read the file", started);
    let line = bytes.strip_suffix(b"\n").ok_or("no end of line (written partly)")?;
    if line.len() < 9 || line[8] != b' ' {
        return Err("no checksum".into());
    }
    let expected = std::str::from_utf8(&line[..8])
        .ok()
        .and_then(|h| u32::from_str_radix(h, 16).ok())
        .ok_or("bad checksum field")?;
    let json = &line[9..];
    let started = std::time::Instant::now();
    if crc32fast::hash(json) != expected {
        return Err("checksum mismatch".into());
    }
    crate::startup_trace::took("snapshot: checksum", started);
    let started = std::time::Instant::now();
    // UTF-8 checked once for the whole text, not string by string (from_slice's way: a tenth of the parse).
    let text = std::str::from_utf8(json).map_err(|e| format!("not UTF-8: {e}"))?;
    let reading: Reading = serde_json::from_str(text).map_err(|e| e.to_string())?;
    crate::startup_trace::took("snapshot: parse", started);
    if !READS.contains(&reading.format) || reading.covers != covers {
        return Err(format!(
            "format {} covering {} (expected format {} covering {covers})",
            reading.format,
            reading.covers,
            READS.iter().map(u32::to_string).collect::<Vec<_>>().join(" or ")
        ));
    }
    let mut state = reading.state;
    let started = std::time::Instant::now();
    state.after_load();
    crate::startup_trace::took("snapshot: rebuild indexes", started);
    Ok((state, bytes.len() as u64))
}

/// Writes `state` as `dir`'s snapshot covering segments up to `covers`: temporary file, fsync,
/// rename, directory fsync. Returns its size.
pub(crate) fn write(dir: &Path, covers: u64, state: &State) -> io::Result<u64> {
    let json = serde_json::to_vec(&Writing { format: FORMAT, covers, state }).map_err(io::Error::other)?;
    let mut bytes = format!("{:08x} ", crc32fast::hash(&json)).into_bytes();
    bytes.extend_from_slice(&json);
    bytes.push(b'\n');
    drop(json);
    let path = dir.join(file_name(covers));
    let temporary = PathBuf::from(format!("{}.tmp", path.display()));
    failpoint("snapshot-before-write");
    let written = write_synced(&temporary, &bytes);
    if let Err(e) = written {
        let _ = std::fs::remove_file(&temporary);
        return Err(e);
    }
    failpoint("snapshot-written");
    std::fs::rename(&temporary, &path)?;
    sync_dir(dir)?;
    Ok(bytes.len() as u64)
}

fn write_synced(path: &Path, bytes: &[u8]) -> io::Result<()> {
    let mut options = OpenOptions::new();
    options.create(true).truncate(true).write(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    let mut file = options.open(path)?;
    let half = bytes.len() / 2;
    file.write_all(&bytes[..half])?;
    if chosen_failpoint().is_some() {
        file.sync_data()?;
        failpoint("snapshot-mid-write");
    }
    file.write_all(&bytes[half..])?;
    file.sync_all()
}

/// Makes renames and deletions in `dir` durable.
pub(crate) fn sync_dir(dir: &Path) -> io::Result<()> {
    File::open(dir)?.sync_all()
}

/// Serde for bytes as a hex string.
pub mod hex_bytes {
    use super::*;

    pub fn serialize<S: serde::Serializer>(bytes: &[u8], serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(&hex::encode(bytes))
    }

    pub fn deserialize<'de, D: serde::Deserializer<'de>>(deserializer: D) -> Result<Vec<u8>, D::Error> {
        hex::decode(String::deserialize(deserializer)?).map_err(serde::de::Error::custom)
    }
}

/// A registry's repositories as a snapshot writes them (format 2): see [`super::Repository::serialize_compact`].
pub fn compact_repositories<S: serde::Serializer>(
    repositories: &BTreeMap<crate::types::RepositoryName, Box<super::Repository>>,
    serializer: S,
) -> Result<S::Ok, S::Error> {
    struct Compact<'a>(&'a super::Repository);
    impl Serialize for Compact<'_> {
        fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
            self.0.serialize_compact(serializer)
        }
    }
    serializer.collect_map(repositories.iter().map(|(name, repository)| (name, Compact(repository))))
}

/// Serde for a map whose keys are not strings (JSON objects want string keys): a list of pairs.
pub mod pairs {
    use super::*;

    pub fn serialize<K: Serialize, V: Serialize, S: serde::Serializer>(
        map: &BTreeMap<K, V>,
        serializer: S,
    ) -> Result<S::Ok, S::Error> {
        serializer.collect_seq(map.iter())
    }

    pub fn deserialize<'de, K, V, D>(deserializer: D) -> Result<BTreeMap<K, V>, D::Error>
    where
        K: Deserialize<'de> + Ord,
        V: Deserialize<'de>,
        D: serde::Deserializer<'de>,
    {
        Ok(Vec::<(K, V)>::deserialize(deserializer)?.into_iter().collect())
    }
}

/// Deserializes a map (a JSON object) by collecting its entries and building the tree from them
/// at once: a snapshot writes its maps in key order, which `BTreeMap::from_iter` detects, so
/// nothing is compared key by key as one insert after another would (a large state's start).
pub mod sorted_map {
    use super::*;

    pub fn deserialize<'de, K, V, D>(deserializer: D) -> Result<BTreeMap<K, V>, D::Error>
    where
        K: Deserialize<'de> + Ord,
        V: Deserialize<'de>,
        D: serde::Deserializer<'de>,
    {
        struct Entries<K, V>(std::marker::PhantomData<(K, V)>);
        impl<'de, K: Deserialize<'de> + Ord, V: Deserialize<'de>> serde::de::Visitor<'de> for Entries<K, V> {
            type Value = BTreeMap<K, V>;
            fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
                f.write_str("a map")
            }
            fn visit_map<A: serde::de::MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
                let mut entries = Vec::with_capacity(map.size_hint().unwrap_or(0));
                while let Some(entry) = map.next_entry()? {
                    entries.push(entry);
                }
                Ok(entries.into_iter().collect())
            }
        }
        deserializer.deserialize_map(Entries(std::marker::PhantomData))
    }
}

/// Serde for identity policies kept with their parsed documents: the texts only, parsed again
/// when read (a text that no longer parses is dropped, as replaying its event would).
pub mod identity_policies {
    use super::*;
    use crate::state::policy::{PolicyDocument, PolicyKind};

    type Policies = BTreeMap<String, (String, PolicyDocument)>;

    pub fn serialize<S: serde::Serializer>(policies: &Policies, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_map(policies.iter().map(|(name, (text, _))| (name, text)))
    }

    pub fn deserialize<'de, D: serde::Deserializer<'de>>(deserializer: D) -> Result<Policies, D::Error> {
        let texts = BTreeMap::<String, String>::deserialize(deserializer)?;
        Ok(texts
            .into_iter()
            .filter_map(|(name, text)| {
                let parsed = PolicyDocument::parse(&text, PolicyKind::Identity).ok()?;
                Some((name, (text, parsed)))
            })
            .collect())
    }
}

/// Serde for a role's trust policy kept with its parsed document: the text only, parsed again
/// (as a resource policy, which is how roles read it) when read.
pub mod trust_policy {
    use super::*;
    use crate::state::policy::{PolicyDocument, PolicyKind};

    pub fn serialize<S: serde::Serializer>(
        policy: &(String, PolicyDocument),
        serializer: S,
    ) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(&policy.0)
    }

    pub fn deserialize<'de, D: serde::Deserializer<'de>>(
        deserializer: D,
    ) -> Result<(String, PolicyDocument), D::Error> {
        let text = String::deserialize(deserializer)?;
        let parsed = PolicyDocument::parse(&text, PolicyKind::Resource).map_err(|e| serde::de::Error::custom(e.0))?;
        Ok((text, parsed))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Lab;
    use crate::state::repository::tests::image_at;
    use crate::state::{DEFAULT_ACCOUNT, ImageRef, NewRepository, PutMode, RegistryKey};
    use crate::types::{AccountId, ImageTag, Millis, Region, RepositoryName};

    fn registry() -> RegistryKey {
        RegistryKey::new(AccountId::parse(DEFAULT_ACCOUNT).unwrap(), Region::parse("eu-west-1").unwrap())
    }

    fn name(n: u8) -> RepositoryName {
        RepositoryName::parse(&format!("repo-{n}")).unwrap()
    }

    /// A repository with two tagged images (one scanned), a blob, a key, an IAM user and a role
    /// with a policy, registry settings, a class student and a moved clock: a bit of every part of the state.
    async fn fill(lab: &Lab, n: u8) {
        let new = NewRepository::with_defaults(name(n));
        lab.write(|s| s.create_repository(&registry(), new).map(|_| ())).await.unwrap();
        for i in 0..2u8 {
            let tag = ImageTag::parse(&format!("v{i}")).unwrap();
            let image = image_at(n * 10 + i, Millis(1_000 + i64::from(i)));
            lab.write(|s| s.put_image(&registry(), &name(n), image, Some(tag), PutMode::Api).map(|_| ()))
                .await
                .unwrap();
        }
        let id = ImageRef { digest: None, tag: Some("v0".into()) };
        lab.write(|s| s.start_image_scan(&registry(), &name(n), &id).map(|_| ())).await.unwrap();
        // The scan runs on the scanner's thread and journals its result whenever it ends: wait for
        // it, so that what a test reads now is what a snapshot and a restart give (a result that
        // landed between the read and the snapshot made the comparisons fail now and then in CI).
        let finished = || {
            lab.read(|s| s.repository(&registry(), &name(n)).unwrap().scans.values().all(|scan| scan.result.is_some()))
        };
        for _ in 0..2_000 {
            if finished() {
                break;
            }
            tokio::time::sleep(std::time::Duration::from_millis(5)).await;
        }
        assert!(finished(), "the scan of repo-{n} did not finish in 10 s");
        let digest = crate::types::Digest::sha256_of(format!("blob {n}").as_bytes());
        lab.write(|s| s.link_blob(&registry(), &name(n), digest, 42)).await.unwrap();
        lab.write(|s| s.advance_clock(1).map(|_| ())).await.unwrap();
        let policy = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"ecr:*","Resource":"*"}]}"#;
        let account = AccountId::parse(DEFAULT_ACCOUNT).unwrap();
        let user = format!("user-{n}");
        lab.write(|s| s.create_user(account.clone(), &user, Some(("all", policy))).map(|_| ())).await.unwrap();
        let trust = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::123456789012:root"},"Action":"sts:AssumeRole"}]}"#;
        let role = format!("role-{n}");
        lab.write(|s| s.create_role(account, &role, trust, Some(("all", policy)), None).map(|_| ())).await.unwrap();
        let registry_policy = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::123456789012:root"},"Action":"ecr:ReplicateImage","Resource":"*"}]}"#;
        lab.write(|s| s.put_registry_policy(&registry(), registry_policy)).await.unwrap();
        lab.write(|s| s.put_account_setting(&registry(), "BLOB_MOUNTING", "DISABLED")).await.unwrap();
        lab.write(|s| {
            s.join_class(&format!("student{n}"), None)
                .map(|_| ())
                .map_err(|e| crate::state::StateError::InvalidArgument { member: "name", constraint: e.message })
        })
        .await
        .unwrap();
    }

    fn json(lab: &Lab) -> serde_json::Value {
        lab.read(|s| serde_json::to_value(s)).unwrap()
    }

    fn files(dir: &Path) -> Vec<String> {
        let mut names: Vec<String> =
            std::fs::read_dir(dir).unwrap().map(|e| e.unwrap().file_name().into_string().unwrap()).collect();
        names.retain(|n| n.starts_with("journal") || n.starts_with("snapshot"));
        names.sort();
        names
    }

    async fn settle() {
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }

    #[tokio::test]
    async fn a_snapshot_and_the_journal_after_it_open_to_the_same_state_and_the_history_is_cut() {
        let dir = tempfile::tempdir().unwrap();
        let lab = Lab::open(dir.path()).unwrap();
        fill(&lab, 1).await;
        assert!(lab.snapshot().unwrap(), "the first snapshot covers the journal");
        assert!(!lab.snapshot().unwrap(), "nothing new: no second snapshot");
        fill(&lab, 2).await;
        assert!(lab.snapshot().unwrap());
        fill(&lab, 3).await;
        assert!(lab.snapshot().unwrap());
        fill(&lab, 4).await; // the tail
        let before = json(&lab);
        assert_eq!(before["registries"][0][1]["repositories"]["repo-4"]["images"].as_object().unwrap().len(), 2);
        drop(lab);
        settle().await;
        // The newest snapshot, the one before it and the segment between them (the fallback), the tail.
        let expected = [
            "journal.0000000000000003.log",
            "journal.log",
            "snapshot.0000000000000002.json",
            "snapshot.0000000000000003.json",
        ];
        assert_eq!(files(dir.path()), expected);
        let reopened = Lab::open(dir.path()).unwrap();
        assert_eq!(json(&reopened), before);
        let tagged = reopened.read(|s| {
            let tag = ImageTag::parse("v1").unwrap();
            s.repository(&registry(), &name(1)).unwrap().image_by_tag(&tag).map(|i| i.digest.clone())
        });
        assert_eq!(tagged, Some(image_at(11, Millis(0)).digest), "the tag index is rebuilt");
    }

    /// The count of repositories with a policy (which decides whether the learner's calls are
    /// evaluated) is derived, not stored: it is rebuilt when a snapshot loads.
    #[tokio::test]
    async fn the_count_of_repository_policies_is_rebuilt_from_a_snapshot() {
        let dir = tempfile::tempdir().unwrap();
        let lab = Lab::open(dir.path()).unwrap();
        fill(&lab, 1).await;
        assert!(!lab.read(|s| s.any_repository_policy()));
        let deny =
            r#"{"Version":"2012-10-17","Statement":[{"Effect":"Deny","Principal":"*","Action":"ecr:BatchGetImage"}]}"#;
        lab.write(|s| s.set_repository_policy(&registry(), &name(1), deny).map(|_| ())).await.unwrap();
        assert!(lab.snapshot().unwrap());
        drop(lab);
        settle().await;
        let reopened = Lab::open(dir.path()).unwrap();
        assert!(reopened.read(|s| s.any_repository_policy()));
        reopened.write(|s| s.delete_repository_policy(&registry(), &name(1)).map(|_| ())).await.unwrap();
        assert!(!reopened.read(|s| s.any_repository_policy()));
    }

    /// A repository with every setting away from CreateRepository's defaults comes back from a
    /// (compact, format 2) snapshot exactly as a journal record holds it; one with the defaults is
    /// written without them.
    #[tokio::test]
    async fn a_snapshot_leaves_out_default_settings_and_keeps_every_other() {
        use crate::state::{Encryption, ResourceTag, TagMutabilitySetting};
        use crate::types::{EncryptionType, ExclusionFilter, TagMutability};
        let dir = tempfile::tempdir().unwrap();
        let lab = Lab::open(dir.path()).unwrap();
        fill(&lab, 1).await;
        let mut new = NewRepository::with_defaults(name(2));
        let filter = ExclusionFilter::parse("WILDCARD", "dev-*").unwrap();
        new.tag_mutability = TagMutabilitySetting::new(TagMutability::ImmutableWithExclusion, vec![filter]).unwrap();
        new.scan_on_push = true;
        new.encryption =
            Encryption { kind: EncryptionType::Kms, kms_key: Some("arn:aws:kms:eu-west-1:1:key/k".into()) };
        new.tags = vec![ResourceTag::new("team".into(), "a".into()).unwrap()];
        lab.write(|s| s.create_repository(&registry(), new).map(|_| ())).await.unwrap();
        let policy = r#"{"rules":[{"rulePriority":1,"selection":{"tagStatus":"any","countType":"imageCountMoreThan","countNumber":1},"action":{"type":"expire"}}]}"#;
        lab.write(|s| s.put_lifecycle_policy(&registry(), &name(2), policy.to_owned()).map(|_| ())).await.unwrap();
        let full = |lab: &Lab, n: u8| {
            lab.read(|s| serde_json::to_value(s.repository(&registry(), &name(n)).unwrap()).unwrap())
        };
        let before = [full(&lab, 1), full(&lab, 2)];
        assert!(lab.snapshot().unwrap());
        drop(lab);
        settle().await;
        let text = std::fs::read_to_string(dir.path().join(file_name(1))).unwrap();
        assert!(text.contains(r#"{"format":2,"covers":1,"#), "{}", &text[..60]);
        assert!(text.contains(r#""repo-1":{"name":"repo-1","created_at":"#), "defaults left out");
        assert!(text.contains(r#""scan_on_push":true"#) && text.contains(r#""kind":"KMS""#));
        let reopened = Lab::open(dir.path()).unwrap();
        assert_eq!([full(&reopened, 1), full(&reopened, 2)], before);
    }

    /// A snapshot written before format 2 (every field of every repository) still opens.
    #[tokio::test]
    async fn a_format_1_snapshot_still_opens() {
        let dir = tempfile::tempdir().unwrap();
        let lab = Lab::open(dir.path()).unwrap();
        fill(&lab, 1).await;
        fill(&lab, 2).await;
        assert!(lab.snapshot().unwrap());
        let before = json(&lab);
        // The same snapshot as format 1 wrote it: each repository in its derived (full) form.
        let old = lab.read(|s| {
            let mut state = serde_json::to_value(s).unwrap();
            for registry in state["registries"].as_array_mut().unwrap() {
                let key: RegistryKey = serde_json::from_value(registry[0].clone()).unwrap();
                for (n, value) in registry[1]["repositories"].as_object_mut().unwrap() {
                    let repository = s.repository(&key, &RepositoryName::parse(n).unwrap()).unwrap();
                    *value = serde_json::to_value(repository).unwrap();
                }
            }
            serde_json::json!({"format": 1, "covers": 1, "state": state})
        });
        drop(lab);
        settle().await;
        let text = serde_json::to_vec(&old).unwrap();
        assert!(String::from_utf8_lossy(&text).contains(r#""tag_mutability":{"mode":"MUTABLE""#));
        let mut bytes = format!("{:08x} ", crc32fast::hash(&text)).into_bytes();
        bytes.extend_from_slice(&text);
        bytes.push(b'\n');
        std::fs::write(dir.path().join(file_name(1)), bytes).unwrap();
        assert_eq!(json(&Lab::open(dir.path()).unwrap()), before);
    }

    #[tokio::test]
    async fn a_damaged_snapshot_is_not_trusted_the_one_before_and_the_journal_are() {
        let dir = tempfile::tempdir().unwrap();
        let lab = Lab::open(dir.path()).unwrap();
        fill(&lab, 1).await;
        lab.snapshot().unwrap();
        fill(&lab, 2).await;
        lab.snapshot().unwrap();
        fill(&lab, 3).await;
        let before = json(&lab);
        drop(lab);
        settle().await;
        let newest = dir.path().join(file_name(2));
        let mut bytes = std::fs::read(&newest).unwrap();
        let at = bytes.len() / 2;
        bytes[at] ^= 0x20;
        std::fs::write(&newest, &bytes).unwrap();
        let reopened = Lab::open(dir.path()).unwrap();
        assert_eq!(json(&reopened), before, "snapshot 1 + segment 2 + the tail");
        fill(&reopened, 4).await;
        assert!(reopened.snapshot().unwrap(), "a new snapshot replaces the damaged one");
        let before = json(&reopened);
        drop(reopened);
        settle().await;
        assert_eq!(json(&Lab::open(dir.path()).unwrap()), before);

        // The snapshot before the damaged one was the base, so it is kept (with the segments after it).
        assert!(dir.path().join(file_name(1)).exists());
        // Every snapshot damaged, and the first segment gone: refused, saying why.
        for covers in [1, 2, 3] {
            std::fs::write(dir.path().join(file_name(covers)), b"00000000 {}\n").unwrap();
        }
        settle().await;
        let error = Lab::open(dir.path()).err().expect("nothing to rebuild from");
        let text = error.to_string();
        assert!(text.contains("snapshot.0000000000000003.json is damaged (checksum mismatch)"), "{text}");
        assert!(text.contains("the start needs journal.0000000000000001.log, which is missing"), "{text}");
    }

    #[tokio::test]
    async fn a_half_written_snapshot_is_ignored_and_removed() {
        let dir = tempfile::tempdir().unwrap();
        let lab = Lab::open(dir.path()).unwrap();
        fill(&lab, 1).await;
        let before = json(&lab);
        drop(lab);
        settle().await;
        let temporary = dir.path().join(format!("{}.tmp", file_name(1)));
        std::fs::write(&temporary, b"0badf00d {\"format\":1,\"cov").unwrap();
        assert_eq!(json(&Lab::open(dir.path()).unwrap()), before);
        assert!(!temporary.exists());
    }

    #[tokio::test]
    async fn a_write_the_disk_refuses_after_a_snapshot_rebuilds_from_the_snapshot_and_the_tail() {
        let dir = tempfile::tempdir().unwrap();
        let lab = Lab::open(dir.path()).unwrap();
        fill(&lab, 1).await;
        lab.snapshot().unwrap();
        fill(&lab, 2).await;
        let before = json(&lab);
        lab.fail_writes_for_tests(true);
        let new = NewRepository::with_defaults(name(3));
        assert!(lab.write(|s| s.create_repository(&registry(), new).map(|_| ())).await.is_err());
        assert_eq!(json(&lab), before, "memory is the snapshot and the tail, without the refused write");
        lab.fail_writes_for_tests(false);
        fill(&lab, 4).await;
        let after = json(&lab);
        drop(lab);
        settle().await;
        assert_eq!(json(&Lab::open(dir.path()).unwrap()), after);
    }

    #[test]
    fn damage_in_a_closed_segment_is_repaired_with_the_later_segments_moved_aside() {
        let dir = tempfile::tempdir().unwrap();
        let record = |n: i64| {
            let json = serde_json::to_vec(&crate::state::Event::ClockAdvanced { seconds: n }).unwrap();
            format!("{:08x} {}\n", crc32fast::hash(&json), String::from_utf8(json).unwrap())
        };
        let first = format!("{}{}", record(1), record(2));
        let segment = dir.path().join(crate::state::journal::segment_name(1));
        std::fs::write(&segment, format!("{first}{}", record(3).replacen("3", "4", 1))).unwrap();
        std::fs::write(dir.path().join("journal.log"), record(5)).unwrap();
        let damage = crate::state::journal::inspect(dir.path()).unwrap().expect("damage");
        assert_eq!(
            (damage.path.clone(), damage.line, damage.kept_records, damage.cut_records),
            (segment.clone(), 3, 2, 2)
        );
        assert_eq!(damage.later, [dir.path().join("journal.log")]);
        let backup = crate::state::journal::repair(dir.path(), &damage).unwrap();
        assert!(backup.to_str().unwrap().contains("journal.0000000000000001.log.damaged-"));
        assert_eq!(std::fs::read_to_string(&segment).unwrap(), first);
        let (_journal, loaded) = crate::state::journal::Journal::open_loaded(dir.path()).unwrap();
        assert_eq!(loaded.events.len(), 2, "the kept records, and an empty active segment");
    }
}
