//! What the lab creates in a real AWS account, and removing it. Every repository the lab creates
//! carries the tag `ecr-lab=<run id>`, and a record of it is written to the lab's data directory
//! *before* CreateRepository is sent, so Ctrl-C, a crash or a lost network leave the record behind.
//! `ecr-lab cleanup --backend aws` deletes the repositories carrying the lab's tag, in the current
//! region and every region a record names, and nothing else: a repository without the tag is never
//! touched, whatever its name.

use std::collections::BTreeSet;
use std::io::Write as _;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use super::{EcrBackend, Explained, explain};

/// The tag key on everything the lab creates; the value is the run's id.
pub const TAG_KEY: &str = "ecr-lab";

/// One resource the lab is about to create (or created).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Record {
    pub run: String,
    pub account: String,
    pub region: String,
    pub repository: String,
    /// Epoch seconds when the record was written.
    pub at: u64,
}

/// Where the records are kept: one JSON line per repository.
pub fn records_path(home: &Path) -> PathBuf {
    home.join("aws-created.jsonl")
}

/// A new run id: the time and a random part, so two runs never share one.
pub fn run_id() -> String {
    let now = mock_registry::clock::unix_seconds();
    format!("{now}-{}", &uuid::Uuid::new_v4().simple().to_string()[..8])
}

/// Appends a record and syncs it to disk, before the resource exists.
pub fn record(path: &Path, record: &Record) -> std::io::Result<()> {
    if let Some(dir) = path.parent() {
        crate::paths::private_dir(dir)?;
    }
    // What the lab created in the learner's AWS account is theirs to know: 0600.
    let mut file = crate::paths::open_private(path, std::fs::OpenOptions::new().create(true).append(true))?;
    let mut line = serde_json::to_string(record).map_err(std::io::Error::other)?;
    line.push('\n');
    file.write_all(line.as_bytes())?;
    file.sync_all()
}

/// The records kept; a damaged line (a crash mid-write) is skipped.
pub fn records(path: &Path) -> Vec<Record> {
    std::fs::read_to_string(path)
        .unwrap_or_default()
        .lines()
        .filter_map(|line| serde_json::from_str(line).ok())
        .collect()
}

fn rewrite(path: &Path, kept: &[Record]) -> std::io::Result<()> {
    if kept.is_empty() {
        return match std::fs::remove_file(path) {
            Err(e) if e.kind() != std::io::ErrorKind::NotFound => Err(e),
            _ => Ok(()),
        };
    }
    let temporary = path.with_extension("jsonl.tmp");
    let text: String = kept.iter().filter_map(|r| serde_json::to_string(r).ok()).map(|l| l + "\n").collect();
    crate::paths::write_private(&temporary, text.as_bytes())?;
    std::fs::rename(&temporary, path)
}

/// What cleanup did with one repository.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    /// Deleted (it carried the lab's tag with this run id).
    Deleted {
        region: String,
        repository: String,
        run: String,
    },
    /// Recorded, but without the lab's tag: it was there before, so it stays.
    KeptUntagged {
        region: String,
        repository: String,
    },
    /// Recorded, but gone already.
    AlreadyGone {
        region: String,
        repository: String,
    },
    Failed {
        region: String,
        repository: String,
        error: Explained,
    },
}

impl std::fmt::Display for Outcome {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::Deleted { region, repository, run } => {
                write!(f, "deleted   {region}/{repository} (tagged {TAG_KEY}={run})")
            }
            Self::KeptUntagged { region, repository } => {
                write!(f, "kept      {region}/{repository}: it does not carry the lab's tag, so it is not the lab's")
            }
            Self::AlreadyGone { region, repository } => write!(f, "gone      {region}/{repository} (already deleted)"),
            Self::Failed { region, repository, error } => write!(f, "FAILED    {region}/{repository}: {error}"),
        }
    }
}

/// Deletes every repository carrying the lab's tag, in the backend's region and each recorded region
/// of its account; forgets the records it settled. Listing errors stop it (nothing is guessed).
pub async fn cleanup(backend: &EcrBackend, records_file: &Path) -> Result<Vec<Outcome>, Explained> {
    let recorded: Vec<Record> = records(records_file).into_iter().filter(|r| r.account == backend.account).collect();
    let mut regions: BTreeSet<String> = recorded.iter().map(|r| r.region.clone()).collect();
    regions.insert(backend.region.clone());
    let mut outcomes = Vec::new();
    let mut settled: BTreeSet<(String, String)> = BTreeSet::new();
    for region in &regions {
        let ecr = backend.ecr(Some(region));
        let mut repositories = Vec::new();
        let mut pages = ecr.describe_repositories().into_paginator().send();
        while let Some(page) = pages.next().await {
            let page = page.map_err(|e| explain::sdk("DescribeRepositories", &e))?;
            repositories.extend(page.repositories().iter().cloned());
        }
        for repository in repositories {
            let (Some(name), Some(arn)) = (repository.repository_name(), repository.repository_arn()) else {
                continue;
            };
            let tags = ecr
                .list_tags_for_resource()
                .resource_arn(arn)
                .send()
                .await
                .map_err(|e| explain::sdk("ListTagsForResource", &e))?;
            let Some(run) = tags.tags().iter().find(|t| t.key() == TAG_KEY).map(|t| t.value().to_owned()) else {
                if recorded.iter().any(|r| r.region == *region && r.repository == name) {
                    outcomes.push(Outcome::KeptUntagged { region: region.clone(), repository: name.to_owned() });
                    settled.insert((region.clone(), name.to_owned()));
                }
                continue;
            };
            match ecr.delete_repository().repository_name(name).force(true).send().await {
                Ok(_) => {
                    outcomes.push(Outcome::Deleted { region: region.clone(), repository: name.to_owned(), run });
                    settled.insert((region.clone(), name.to_owned()));
                }
                Err(e) if e.as_service_error().is_some_and(|s| s.is_repository_not_found_exception()) => {
                    outcomes.push(Outcome::AlreadyGone { region: region.clone(), repository: name.to_owned() });
                    settled.insert((region.clone(), name.to_owned()));
                }
                Err(e) => outcomes.push(Outcome::Failed {
                    region: region.clone(),
                    repository: name.to_owned(),
                    error: explain::sdk("DeleteRepository", &e),
                }),
            }
        }
        // Recorded here but not listed: never created (the call failed), or deleted since.
        for r in recorded.iter().filter(|r| r.region == *region) {
            if !settled.contains(&(r.region.clone(), r.repository.clone()))
                && !outcomes
                    .iter()
                    .any(|o| matches!(o, Outcome::Failed { repository, .. } if *repository == r.repository))
            {
                outcomes.push(Outcome::AlreadyGone { region: r.region.clone(), repository: r.repository.clone() });
                settled.insert((r.region.clone(), r.repository.clone()));
            }
        }
    }
    let kept: Vec<Record> = records(records_file)
        .into_iter()
        .filter(|r| r.account != backend.account || !settled.contains(&(r.region.clone(), r.repository.clone())))
        .collect();
    if let Err(error) = rewrite(records_file, &kept) {
        tracing::warn!("could not update {}: {error}", records_file.display());
    }
    Ok(outcomes)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn records_survive_a_torn_last_line() {
        let dir = tempfile::tempdir().unwrap();
        let path = records_path(dir.path());
        let one = Record { run: run_id(), account: "1".into(), region: "r".into(), repository: "a".into(), at: 1 };
        record(&path, &one).unwrap();
        std::fs::OpenOptions::new().append(true).open(&path).unwrap().write_all(b"{\"run\":\"x\",\"acc").unwrap();
        assert_eq!(records(&path), vec![one]);
        assert_ne!(run_id(), run_id());
    }

    /// What the lab created in the learner's AWS account is recorded 0600, also when a run shrinks the
    /// records and when an older version left the file 0644.
    #[cfg(unix)]
    #[test]
    fn records_are_private() {
        use std::os::unix::fs::PermissionsExt as _;
        let mode = |path: &Path| std::fs::metadata(path).unwrap().permissions().mode() & 0o777;
        let dir = tempfile::tempdir().unwrap();
        let path = records_path(&dir.path().join("home"));
        let one = Record { run: run_id(), account: "1".into(), region: "r".into(), repository: "a".into(), at: 1 };
        record(&path, &one).unwrap();
        assert_eq!((mode(&dir.path().join("home")), mode(&path)), (0o700, 0o600));
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o644)).unwrap();
        record(&path, &one).unwrap();
        assert_eq!(mode(&path), 0o600);
        rewrite(&path, &[one]).unwrap();
        assert_eq!(mode(&path), 0o600);
    }
}
