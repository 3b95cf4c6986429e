//! A full disk, for real: `ecr-lab serve` keeps its data directory on a 2 MiB tmpfs that the test
//! fills. A write that cannot be journaled is refused (ECR's ServerException, the registry's 500
//! UNKNOWN) and memory stays as if it never happened; once space returns the same server takes
//! writes again, and after `kill -9` exactly the acknowledged writes are there. Mounting needs
//! root: elsewhere the test is skipped loudly (and fails under CI, which runs as root).

use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::process::Command;

use bytes::Bytes;
use hyper::{Method, StatusCode};

use crate::common::{Served, ecr_client, repository_names, sample};
use crate::registry::Registry;

/// A tmpfs mounted on a temporary directory; unmounted when dropped.
struct Tmpfs {
    dir: tempfile::TempDir,
}

impl Tmpfs {
    fn mount(size: &str) -> Option<Self> {
        let dir = tempfile::tempdir().unwrap();
        let root = Command::new("id").arg("-u").output().is_ok_and(|o| o.stdout.starts_with(b"0\n"));
        let mounted = root
            && Command::new("mount")
                .args(["-t", "tmpfs", "-o", &format!("size={size}"), "tmpfs"])
                .arg(dir.path())
                .status()
                .is_ok_and(|s| s.success());
        if mounted {
            return Some(Self { dir });
        }
        assert!(std::env::var_os("CI").is_none(), "CI must run the disk-full test: mounting a tmpfs failed (root?)");
        eprintln!("\n*** SKIP disk_full: mounting a tmpfs needs root (CI runs it) ***\n");
        None
    }

    fn path(&self) -> &Path {
        self.dir.path()
    }
}

impl Drop for Tmpfs {
    fn drop(&mut self) {
        let _ = Command::new("umount").arg("-l").arg(self.dir.path()).status();
    }
}

/// Writes zeros to `dir/filler` until the file system is full.
fn fill(dir: &Path) -> PathBuf {
    let path = dir.join("filler");
    let mut file = std::fs::File::create(&path).unwrap();
    let chunk = vec![0u8; 64 * 1024];
    loop {
        if let Err(e) = file.write_all(&chunk) {
            assert_eq!(e.raw_os_error(), Some(28), "{e}"); // ENOSPC
            break;
        }
    }
    let _ = file.write_all(&[0u8; 1]); // the last partial block
    path
}

/// CreateRepository with 50 tags of 256 characters: a journal record far larger than a page, so
/// it cannot fit in the slack of the journal's last page on a full disk.
async fn create_big(ecr: &aws_sdk_ecr::Client, name: &str) -> Result<(), String> {
    create_tagged(ecr, name, 50).await
}

/// CreateRepository with `tags` tags of 256 characters (a journal record of ~270 bytes a tag).
async fn create_tagged(ecr: &aws_sdk_ecr::Client, name: &str, tags: usize) -> Result<(), String> {
    let mut create = ecr.create_repository().repository_name(name);
    for n in 0..tags {
        let tag = aws_sdk_ecr::types::Tag::builder().key(format!("k{n}")).value("v".repeat(256)).build().unwrap();
        create = create.tags(tag);
    }
    create.send().await.map(|_| ()).map_err(|e| format!("{:?}", e.into_service_error()))
}

fn error_code(body: &Bytes) -> String {
    let value: serde_json::Value = serde_json::from_slice(body).unwrap();
    value["errors"][0]["code"].as_str().unwrap_or_default().to_owned()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_full_disk_refuses_writes_keeps_memory_true_and_recovers_without_restart() {
    let Some(disk) = Tmpfs::mount("2m") else { return };
    let home = tempfile::tempdir().unwrap();
    let data = disk.path().join("data");
    let data_arg = data.to_str().unwrap();
    let server = Served::start(home.path(), &["--data-dir", data_arg]);
    let ecr = ecr_client(&server.url, "ap-south-1").await;
    ecr.create_repository().repository_name("keep").send().await.unwrap();
    let registry = Registry::connect(&server.url).await;
    let mut digests = Vec::new();
    for n in 0..40 {
        let image = sample(n, 16);
        for blob in &image.blobs {
            assert_eq!(registry.push_blob("keep", blob).await.status, StatusCode::CREATED);
        }
        let reply = registry.push_manifest("keep", &format!("v{n}"), &image.manifest).await;
        assert_eq!(reply.status, StatusCode::CREATED);
        digests.push(reply.header("docker-content-digest").to_owned());
    }

    let filler = fill(disk.path());
    // The journal writes its records over zeros it wrote ahead (see state/journal.rs): that room is
    // the journal's, so writes still succeed on the full disk until it is used up. Use it up with
    // ever smaller records (each size until one is refused), so less than a small record is left.
    let mut padding = Vec::new();
    for tags in [50, 5, 0] {
        for n in 0.. {
            let name = format!("pad-{tags}-{n:04}");
            if let Err(error) = create_tagged(&ecr, &name, tags).await {
                assert!(error.contains("could not save the change"), "{error}");
                break;
            }
            padding.push(name);
            assert!(n < 2_000, "the full disk never refused a write");
        }
    }
    let mut listed = vec!["keep".to_owned()];
    listed.extend(padding.iter().cloned());
    listed.sort();
    assert_eq!(repository_names(&ecr).await, listed, "the refused creates are not listed");
    // Deletes use up whatever room is left, until one cannot be saved.
    let mut deleted = Vec::new();
    let mut refused = None;
    for digest in &digests {
        let reply = registry.send(Method::DELETE, &format!("/v2/keep/manifests/{digest}"), &[], Bytes::new()).await;
        if reply.status == StatusCode::ACCEPTED {
            deleted.push(digest.clone());
            continue;
        }
        assert_eq!(reply.status, StatusCode::INTERNAL_SERVER_ERROR, "{:?}", reply.body);
        assert_eq!(error_code(&reply.body), "UNKNOWN", "{:?}", reply.body);
        refused = Some(digest.clone());
        break;
    }
    let refused = refused.expect("a delete on a full disk is refused");
    let path = format!("/v2/keep/manifests/{refused}");
    assert_eq!(registry.get(&path).await.status, StatusCode::OK, "the refused delete changed nothing");

    // A repository that cannot be saved is not created, not even in memory.
    let error = create_big(&ecr, "full").await.unwrap_err();
    assert!(error.contains("ServerException"), "{error}");
    assert!(error.contains("could not save the change"), "{error}");
    assert_eq!(repository_names(&ecr).await, listed);

    // A blob that cannot be stored leaves nothing behind.
    let blob: Vec<u8> = (0..256 * 1024).map(|i| (i % 253) as u8).collect();
    let reply = registry.push_blob("keep", &blob).await;
    assert_eq!(reply.status, StatusCode::INTERNAL_SERVER_ERROR, "{:?}", reply.body);
    let blob_path = format!("/v2/keep/blobs/{}", crate::common::digest_of(&blob));
    assert_eq!(registry.send(Method::HEAD, &blob_path, &[], Bytes::new()).await.status, StatusCode::NOT_FOUND);
    assert_eq!(std::fs::read_dir(data.join("uploads")).unwrap().count(), 0, "no spool file is left");

    // Space returns: the same server takes writes again.
    std::fs::remove_file(filler).unwrap();
    create_big(&ecr, "full").await.unwrap();
    listed.insert(0, "full".to_owned());
    assert_eq!(repository_names(&ecr).await, listed);
    assert_eq!(registry.push_blob("keep", &blob).await.status, StatusCode::CREATED);

    // After kill -9: the acknowledged writes, and nothing that was refused.
    server.kill_hard();
    let server = Served::start(home.path(), &["--data-dir", data_arg]);
    let ecr = ecr_client(&server.url, "ap-south-1").await;
    assert_eq!(repository_names(&ecr).await, listed);
    let registry = Registry::connect(&server.url).await;
    assert_eq!(registry.get(&path).await.status, StatusCode::OK, "the refused delete stays undone");
    for digest in &deleted {
        let reply = registry.get(&format!("/v2/keep/manifests/{digest}")).await;
        assert_eq!(reply.status, StatusCode::NOT_FOUND, "an acknowledged delete stays done");
    }
    assert_eq!(registry.send(Method::HEAD, &blob_path, &[], Bytes::new()).await.status, StatusCode::OK);
    drop(server);
    drop(disk);
}
