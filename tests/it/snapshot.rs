//! Journal snapshots, for real: `ecr-lab serve` killed with `kill -9` at every step of taking a
//! snapshot (the `ECR_LAB_FAILPOINT` hook) restarts with exactly the acknowledged changes, and
//! keeps snapshotting afterwards; a clean stop and `ecr-lab repair` leave a snapshot and an empty
//! journal behind.

use std::io::{BufRead, BufReader};
use std::os::unix::process::ExitStatusExt as _;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Stdio};

use crate::common::ecr_client;

/// `ecr-lab serve --data-dir <home>/data` with extra environment; killed when dropped.
struct Server {
    url: String,
    child: Child,
}

impl Server {
    fn start(home: &Path, env: &[(&str, &str)]) -> Self {
        let mut child = Command::new(env!("CARGO_BIN_EXE_ecr-lab"))
            .args(["serve", "--addr", "127.0.0.1:0", "--data-dir"])
            .arg(data(home))
            .env("ECR_LAB_HOME", home)
            .envs(env.iter().copied())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .expect("start ecr-lab serve");
        let mut first = String::new();
        BufReader::new(child.stdout.as_mut().unwrap()).read_line(&mut first).unwrap();
        let url = first.trim().strip_prefix("ecr-lab mock listening on ").expect(&first).to_owned();
        Self { url, child }
    }

    /// Waits (at most 30 s) for the server to end by itself.
    fn wait(mut self) -> ExitStatus {
        for _ in 0..600 {
            if let Some(status) = self.child.try_wait().unwrap() {
                return status;
            }
            std::thread::sleep(std::time::Duration::from_millis(50));
        }
        panic!("the server did not stop");
    }

    fn signal(&self, signal: &str) {
        let status = Command::new("kill").args([signal, &self.child.id().to_string()]).status().unwrap();
        assert!(status.success());
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn data(home: &Path) -> PathBuf {
    home.join("data")
}

/// A snapshot every 4 events: a few creates go through every step.
const SMALL: (&str, &str) = ("ECR_LAB_SNAPSHOT_EVENTS", "4");

async fn names(url: &str) -> Vec<String> {
    let ecr = ecr_client(url, "ap-south-1").await;
    let output = ecr.describe_repositories().max_results(1000).send().await.unwrap();
    let mut names: Vec<String> =
        output.repositories().iter().map(|r| r.repository_name().unwrap().to_owned()).collect();
    names.sort();
    names
}

/// Creates `r<n>` one at a time until one fails (the server died) or `to` is reached; returns the
/// acknowledged names and the one in flight when it died.
async fn create(url: &str, from: usize, to: usize) -> (Vec<String>, Option<String>) {
    let ecr = ecr_client(url, "ap-south-1").await;
    let mut acknowledged = Vec::new();
    for n in from..to {
        let name = format!("r{n:03}");
        if ecr.create_repository().repository_name(&name).send().await.is_err() {
            return (acknowledged, Some(name));
        }
        acknowledged.push(name);
    }
    (acknowledged, None)
}

fn files(home: &Path, prefix: &str) -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(data(home))
        .unwrap()
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .filter(|n| n.starts_with(prefix))
        .collect();
    names.sort();
    names
}

async fn crash_at(step: &str) {
    let home = tempfile::tempdir().unwrap();
    let server = Server::start(home.path(), &[SMALL, ("ECR_LAB_FAILPOINT", step)]);
    let (acknowledged, in_flight) = create(&server.url, 0, 200).await;
    let status = server.wait();
    assert_eq!(status.signal(), Some(9), "{step}: the failpoint killed the server ({status})");
    let in_flight = in_flight.expect("the server died mid-stream");
    // The first snapshot starts with the 4th event (the 3rd create): a background kill can beat
    // that create's answer to the client, so 2 may be all that was acknowledged.
    assert!(acknowledged.len() >= 2, "{step}: {acknowledged:?}");

    let server = Server::start(home.path(), &[SMALL]);
    let found = names(&server.url).await;
    let mut with_in_flight = acknowledged.clone();
    with_in_flight.push(in_flight.clone());
    assert!(
        found == acknowledged || found == with_in_flight,
        "{step}: after the crash the lab holds {found:?}; acknowledged {acknowledged:?} (then {in_flight} in flight)"
    );
    // The directory keeps working: more snapshots, a kill -9 between them, and a restart.
    let (more, died) = create(&server.url, 200, 215).await;
    assert_eq!((more.len(), died), (15, None), "{step}");
    drop(server);
    let server = Server::start(home.path(), &[SMALL]);
    let mut expected = found;
    expected.extend(more);
    assert_eq!(names(&server.url).await, expected, "{step}: after a second restart");
    assert!(files(home.path(), "snapshot.").len() <= 3, "{step}: old snapshots are cut: {:?}", files(home.path(), ""));
    assert!(files(home.path(), "journal.").len() <= 6, "{step}: old segments are cut: {:?}", files(home.path(), ""));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_kill_9_at_any_step_of_snapshotting_keeps_exactly_the_acknowledged_changes() {
    assert_eq!(mock_registry::SNAPSHOT_FAILPOINTS.len(), 6);
    for step in mock_registry::SNAPSHOT_FAILPOINTS {
        crash_at(step).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_clean_stop_and_repair_leave_a_snapshot_and_an_empty_journal() {
    let home = tempfile::tempdir().unwrap();
    let server = Server::start(home.path(), &[]);
    let (first, _) = create(&server.url, 0, 3).await;
    server.signal("-TERM");
    assert!(server.wait().success());
    assert_eq!(files(home.path(), "snapshot."), ["snapshot.0000000000000001.json"]);
    assert_eq!(std::fs::metadata(data(home.path()).join("journal.log")).unwrap().len(), 0);

    let server = Server::start(home.path(), &[]);
    assert_eq!(names(&server.url).await, first);
    let (second, _) = create(&server.url, 3, 5).await;
    drop(server); // kill -9: the journal keeps the tail
    assert!(std::fs::metadata(data(home.path()).join("journal.log")).unwrap().len() > 0);
    let repair = Command::new(env!("CARGO_BIN_EXE_ecr-lab"))
        .args(["repair", "--data-dir"])
        .arg(data(home.path()))
        .stdin(Stdio::null())
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&repair.stdout);
    assert!(repair.status.success() && stdout.contains("Compacted"), "{stdout}");
    assert_eq!(std::fs::metadata(data(home.path()).join("journal.log")).unwrap().len(), 0);
    let server = Server::start(home.path(), &[]);
    assert_eq!(names(&server.url).await, [first, second].concat());
}
