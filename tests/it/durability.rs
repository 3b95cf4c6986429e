//! Acknowledged writes survive `kill -9` and restart; a data directory has one server at a time.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use crate::common::{Served, ecr_client, put_sample, sample, upload_blobs};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn acknowledged_pushes_survive_kill_9() {
    let home = tempfile::tempdir().unwrap();
    let data = home.path().join("data");
    let data_arg = data.to_str().unwrap();
    let server = Served::start(home.path(), &["--data-dir", data_arg]);
    let ecr = ecr_client(&server.url, "ap-south-1").await;
    ecr.create_repository().repository_name("test").send().await.unwrap();
    ecr.create_repository().repository_name("other").send().await.unwrap();
    let other_region = ecr_client(&server.url, "us-east-1").await;
    other_region.create_repository().repository_name("virginia").send().await.unwrap();

    // Writers keep pushing; whatever was acknowledged before the kill must be there after it.
    let acknowledged = Arc::new(std::sync::Mutex::new(Vec::new()));
    let stop = Arc::new(AtomicBool::new(false));
    let mut writers = Vec::new();
    for w in 0..4 {
        let (ecr, acknowledged, stop) = (ecr.clone(), acknowledged.clone(), stop.clone());
        writers.push(tokio::spawn(async move {
            let mut n = 0;
            while !stop.load(Ordering::Relaxed) {
                let tag = format!("w{w}-{n}");
                let image = sample(w * 100_000 + n, 5);
                let put = match upload_blobs(&ecr, "test", &image.blobs).await {
                    Ok(()) => ecr
                        .put_image()
                        .repository_name("test")
                        .image_manifest(&image.manifest)
                        .image_tag(&tag)
                        .send()
                        .await
                        .map_err(|e| e.to_string()),
                    Err(e) => Err(e),
                };
                match put {
                    Ok(_) => acknowledged.lock().unwrap().push(tag),
                    Err(_) => break, // the server is gone
                }
                n += 1;
            }
        }));
    }
    // Kill once the writers are well under way (at least 1.5 s and 21 acknowledged pushes, which a loaded
    // machine may take longer to reach), so the kill lands mid-stream.
    let started = std::time::Instant::now();
    while started.elapsed() < std::time::Duration::from_millis(1500)
        || (acknowledged.lock().unwrap().len() <= 20 && started.elapsed() < std::time::Duration::from_secs(60))
    {
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    server.kill_hard();
    stop.store(true, Ordering::Relaxed);
    for writer in writers {
        writer.await.unwrap();
    }
    let acknowledged = acknowledged.lock().unwrap().clone();
    assert!(acknowledged.len() > 20, "the writers got going ({} pushes)", acknowledged.len());

    let server = Served::start(home.path(), &["--data-dir", data_arg]);
    let ecr = ecr_client(&server.url, "ap-south-1").await;
    let names: Vec<String> = ecr
        .describe_repositories()
        .send()
        .await
        .unwrap()
        .repositories()
        .iter()
        .map(|r| r.repository_name().unwrap().to_owned())
        .collect();
    assert_eq!(names, ["other", "test"]);
    let tags: std::collections::HashSet<String> = ecr
        .list_images()
        .repository_name("test")
        .into_paginator()
        .items()
        .send()
        .collect::<Vec<_>>()
        .await
        .into_iter()
        .filter_map(|id| id.unwrap().image_tag().map(str::to_owned))
        .collect();
    let lost: Vec<&String> = acknowledged.iter().filter(|t| !tags.contains(*t)).collect();
    assert!(lost.is_empty(), "acknowledged pushes lost after kill -9: {lost:?}");
    let virginia = ecr_client(&server.url, "us-east-1").await;
    assert_eq!(virginia.describe_repositories().send().await.unwrap().repositories().len(), 1);

    // The restarted server keeps working on the same journal.
    put_sample(&ecr, "other", &sample(7, 7), "v1").await.unwrap();
}

#[test]
fn one_server_per_data_directory() {
    let home = tempfile::tempdir().unwrap();
    let data = home.path().join("data");
    let _first = Served::start(home.path(), &["--data-dir", data.to_str().unwrap()]);
    let second = std::process::Command::new(env!("CARGO_BIN_EXE_ecr-lab"))
        .args(["serve", "--addr", "127.0.0.1:0", "--data-dir", data.to_str().unwrap()])
        .env("ECR_LAB_HOME", home.path())
        .output()
        .unwrap();
    assert_eq!(second.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&second.stderr);
    assert!(stderr.contains("is in use by another ecr-lab server"), "{stderr}");
}

/// Registry pushes (blobs, then manifests) while the server is killed with SIGKILL: after a restart
/// every acknowledged manifest and its blobs are there byte for byte, no half-written blob is
/// visible, and leftover uploads are swept.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn registry_pushes_survive_kill_9_and_leave_no_garbage() {
    use hyper::Method;

    use crate::common::digest_of;
    use crate::registry::Registry;

    let home = tempfile::tempdir().unwrap();
    let data = home.path().join("data");
    let data_arg = data.to_str().unwrap();
    let server = Served::start(home.path(), &["--data-dir", data_arg]);
    ecr_client(&server.url, "ap-south-1").await.create_repository().repository_name("test").send().await.unwrap();
    let registry = Arc::new(Registry::connect(&server.url).await);

    let acknowledged = Arc::new(std::sync::Mutex::new(Vec::new()));
    let stop = Arc::new(AtomicBool::new(false));
    let mut writers = Vec::new();
    for w in 0..3 {
        let (registry, acknowledged, stop) = (registry.clone(), acknowledged.clone(), stop.clone());
        writers.push(tokio::spawn(async move {
            let mut n = 0;
            'push: while !stop.load(Ordering::Relaxed) {
                let image = sample(w * 100_000 + n, 65_536 + w * 1000 + n);
                for blob in &image.blobs {
                    let path = format!("/v2/test/blobs/uploads/?digest={}", digest_of(blob));
                    match registry.try_send(Method::POST, &path, &[], blob.clone()).await {
                        Ok(reply) if reply.status.as_u16() == 201 => {}
                        _ => break 'push,
                    }
                }
                let tag = format!("w{w}-{n}");
                let path = format!("/v2/test/manifests/{tag}");
                let content_type = [("content-type", "application/vnd.docker.distribution.manifest.v2+json")];
                match registry.try_send(Method::PUT, &path, &content_type, image.manifest.clone()).await {
                    Ok(reply) if reply.status.as_u16() == 201 => acknowledged.lock().unwrap().push((tag, image)),
                    _ => break,
                }
                n += 1;
            }
        }));
    }
    tokio::time::sleep(std::time::Duration::from_millis(1500)).await;
    server.kill_hard();
    stop.store(true, Ordering::Relaxed);
    for writer in writers {
        writer.await.unwrap();
    }
    let acknowledged = std::mem::take(&mut *acknowledged.lock().unwrap());
    assert!(acknowledged.len() > 5, "the writers got going ({} pushes)", acknowledged.len());

    let server = Served::start(home.path(), &["--data-dir", data_arg]);
    let registry = Registry::connect(&server.url).await;
    for (tag, image) in &acknowledged {
        let manifest = registry.get(&format!("/v2/test/manifests/{tag}")).await;
        assert_eq!(manifest.status.as_u16(), 200, "acknowledged {tag} is gone");
        assert_eq!(&manifest.body[..], image.manifest.as_bytes());
        for blob in &image.blobs {
            let pulled = registry.get(&format!("/v2/test/blobs/{}", digest_of(blob))).await;
            assert_eq!(&pulled.body[..], &blob[..], "blob of {tag}");
        }
    }
    // Whatever else is listed is whole too.
    let tags = registry.get("/v2/test/tags/list").await;
    let tags: serde_json::Value = serde_json::from_slice(&tags.body).unwrap();
    for tag in tags["tags"].as_array().unwrap() {
        let manifest = registry.get(&format!("/v2/test/manifests/{}", tag.as_str().unwrap())).await;
        let manifest: serde_json::Value = serde_json::from_slice(&manifest.body).unwrap();
        for descriptor in std::iter::once(&manifest["config"]).chain(manifest["layers"].as_array().unwrap()) {
            let pulled = registry.get(&format!("/v2/test/blobs/{}", descriptor["digest"].as_str().unwrap())).await;
            assert_eq!(digest_of(&pulled.body), descriptor["digest"].as_str().unwrap());
        }
    }
    for entry in std::fs::read_dir(data.join("blobs/sha256")).unwrap() {
        let path = entry.unwrap().path();
        let name = path.file_name().unwrap().to_str().unwrap().to_owned();
        assert_eq!(digest_of(&std::fs::read(&path).unwrap()), format!("sha256:{name}"), "a stored blob is whole");
    }
    assert_eq!(std::fs::read_dir(data.join("uploads")).unwrap().count(), 0, "interrupted uploads are swept");
}

/// `ecr-lab serve --data-dir DATA` with extra environment, its stderr in `stderr`; the address.
fn serve_with(
    home: &std::path::Path,
    data: &std::path::Path,
    env: &[(&str, &str)],
    stderr: &std::path::Path,
) -> (std::process::Child, String) {
    use std::io::BufRead as _;
    let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_ecr-lab"))
        .args(["serve", "--addr", "127.0.0.1:0", "--data-dir"])
        .arg(data)
        .env("ECR_LAB_HOME", home)
        .envs(env.iter().copied())
        .stdout(std::process::Stdio::piped())
        .stderr(std::fs::File::create(stderr).unwrap())
        .spawn()
        .expect("start ecr-lab serve");
    let mut first = String::new();
    std::io::BufReader::new(child.stdout.as_mut().unwrap()).read_line(&mut first).unwrap();
    let url = first.trim().strip_prefix("ecr-lab mock listening on ").expect(&first).to_owned();
    (child, url)
}

/// A server on a fresh data directory in `home` with the repository `test`: the server, the data
/// directory, its stderr log and a registry client.
async fn serve_with_test_repository(
    home: &std::path::Path,
) -> (std::process::Child, std::path::PathBuf, std::path::PathBuf, crate::registry::Registry) {
    let data = home.join("data");
    let log = home.join("stderr");
    let (server, url) = serve_with(home, &data, &[], &log);
    ecr_client(&url, "ap-south-1").await.create_repository().repository_name("test").send().await.unwrap();
    (server, data, log, crate::registry::Registry::connect(&url).await)
}

fn stop(mut child: std::process::Child) {
    let _ = child.kill();
    let _ = child.wait();
}

/// A crash between the two halves of a blob commit (`ECR_LAB_FAILPOINT=blob-stored` kills the
/// server once the blob is synced into the store, before its link is journaled). After the restart
/// every acknowledged image and blob is there byte for byte, the cut-off blob (never acknowledged)
/// is not linked, and no link names a blob the store lacks (the blob is in the store, whole). The
/// same blob pushed again is linked and kept.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_kill_between_a_blobs_store_and_its_link_loses_no_acknowledged_blob() {
    use std::os::unix::process::ExitStatusExt as _;

    use hyper::Method;

    use crate::common::digest_of;
    use crate::registry::Registry;

    let home = tempfile::tempdir().unwrap();
    let (server, data, log, registry) = serve_with_test_repository(home.path()).await;
    let kept = sample(1, 70_000);
    for blob in &kept.blobs {
        assert_eq!(registry.push_blob("test", blob).await.status.as_u16(), 201);
    }
    assert_eq!(registry.push_manifest("test", "kept", &kept.manifest).await.status.as_u16(), 201);
    let loose = b"a blob pushed on its own, acknowledged".to_vec();
    assert_eq!(registry.push_blob("test", &loose).await.status.as_u16(), 201);
    stop(server);

    let (mut server, url) = serve_with(home.path(), &data, &[("ECR_LAB_FAILPOINT", "blob-stored")], &log);
    let registry = Registry::connect(&url).await;
    let cut = b"a blob whose push the crash cuts off".to_vec();
    let path = format!("/v2/test/blobs/uploads/?digest={}", digest_of(&cut));
    let reply = registry.try_send(Method::POST, &path, &[], cut.clone()).await;
    assert!(reply.is_err(), "the push was not acknowledged: {:?}", reply.map(|r| r.status));
    let status = server.wait().unwrap();
    assert_eq!(status.signal(), Some(9), "the failpoint killed the server ({status})");
    let hex = digest_of(&cut).trim_start_matches("sha256:").to_owned();
    let journal = std::fs::read_to_string(data.join("journal.log")).unwrap();
    assert!(!journal.contains(&hex), "the kill came before the link was journaled");
    let stored = std::fs::read(data.join("blobs/sha256").join(&hex)).unwrap();
    assert_eq!(stored, cut, "and after the blob was in the store, whole");

    let (server, url) = serve_with(home.path(), &data, &[], &log);
    let registry = Registry::connect(&url).await;
    assert_eq!(check(&registry, &kept, &loose, &cut).await.as_u16(), 404, "the cut-off blob is not linked");
    assert_eq!(registry.push_blob("test", &cut).await.status.as_u16(), 201, "the cut-off blob can be pushed again");
    stop(server);
    let (server, url) = serve_with(home.path(), &data, &[], &log);
    assert_eq!(check(&Registry::connect(&url).await, &kept, &loose, &cut).await.as_u16(), 200, "and is kept");
    stop(server);
}

/// The acknowledged image and blob are there byte for byte; the status of a HEAD of `cut`.
async fn check(
    registry: &crate::registry::Registry,
    kept: &crate::common::Sample,
    loose: &[u8],
    cut: &[u8],
) -> hyper::StatusCode {
    use crate::common::digest_of;
    let manifest = registry.get("/v2/test/manifests/kept").await;
    assert_eq!(&manifest.body[..], kept.manifest.as_bytes());
    for blob in kept.blobs.iter().map(Vec::as_slice).chain([loose]) {
        assert_eq!(&registry.get(&format!("/v2/test/blobs/{}", digest_of(blob))).await.body[..], blob);
    }
    registry.send(hyper::Method::HEAD, &format!("/v2/test/blobs/{}", digest_of(cut)), &[], Vec::new()).await.status
}

/// A crash in the middle of a blob's commit on the path of a two-request push (POST, then PUT
/// `?digest` with the whole body, whose bytes reach a file only in the commit):
/// `ECR_LAB_FAILPOINT=blob-spooled` kills the server once the spool file is written and synced,
/// before its rename into the store. After the restart the blob is neither stored nor linked, the
/// spool file is swept, the acknowledged blob before it is whole, and the blob can be pushed again.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_kill_in_the_middle_of_a_two_request_blob_commit_leaves_no_blob() {
    use std::os::unix::process::ExitStatusExt as _;

    use hyper::Method;

    use crate::common::digest_of;
    use crate::registry::Registry;

    let home = tempfile::tempdir().unwrap();
    let (server, data, log, registry) = serve_with_test_repository(home.path()).await;
    let kept = b"a blob pushed in two requests, acknowledged".to_vec();
    assert_eq!(post_then_put(&registry, &kept).await.map(|r| r.status.as_u16()), Ok(201));
    stop(server);

    let (mut server, url) = serve_with(home.path(), &data, &[("ECR_LAB_FAILPOINT", "blob-spooled")], &log);
    let registry = Registry::connect(&url).await;
    let cut = b"a blob whose commit the crash cuts off".to_vec();
    let reply = post_then_put(&registry, &cut).await;
    assert!(reply.is_err(), "the push was not acknowledged: {:?}", reply.map(|r| r.status));
    let status = server.wait().unwrap();
    assert_eq!(status.signal(), Some(9), "the failpoint killed the server ({status})");
    let hex = digest_of(&cut).trim_start_matches("sha256:").to_owned();
    assert!(!data.join("blobs/sha256").join(&hex).exists(), "the kill came before the rename");
    assert_eq!(std::fs::read_dir(data.join("uploads")).unwrap().count(), 1, "the synced spool file is left");

    let (server, url) = serve_with(home.path(), &data, &[], &log);
    assert_eq!(std::fs::read_dir(data.join("uploads")).unwrap().count(), 0, "and swept on start");
    let registry = Registry::connect(&url).await;
    assert_eq!(registry.get(&format!("/v2/test/blobs/{}", digest_of(&kept))).await.body[..], kept[..]);
    let head = registry.send(Method::HEAD, &format!("/v2/test/blobs/{}", digest_of(&cut)), &[], vec![]).await;
    assert_eq!(head.status.as_u16(), 404, "the cut-off blob is not there");
    assert_eq!(post_then_put(&registry, &cut).await.map(|r| r.status.as_u16()), Ok(201), "it can be pushed again");
    assert_eq!(registry.get(&format!("/v2/test/blobs/{}", digest_of(&cut))).await.body[..], cut[..]);
    stop(server);
}

/// A blob's PUT is answered before anything syncs the blob (it is renamed into the store and
/// queued for a background sync; the journal's next sync waits for it). `ECR_LAB_FAILPOINT=
/// blob-unsynced` never syncs a blob and kills the server once a second one waits: so the kill
/// comes after the first blob's 201 and before its sync. After the restart that blob is there,
/// linked, byte for byte (a second blob, if it was acknowledged, too), and can be mounted.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_kill_after_a_blobs_201_and_before_its_sync_keeps_the_blob_and_its_link() {
    use crate::common::digest_of;
    use crate::registry::Registry;

    let home = tempfile::tempdir().unwrap();
    let (data, log) = (home.path().join("data"), home.path().join("stderr"));
    let (server, url) = serve_with(home.path(), &data, &[("ECR_LAB_FAILPOINT", "blob-unsynced")], &log);
    ecr_client(&url, "ap-south-1").await.create_repository().repository_name("test").send().await.unwrap();
    let registry = Registry::connect(&url).await;
    let first = b"a blob acknowledged and never synced before the kill".to_vec();
    let limit = std::time::Duration::from_secs(30); // a PUT that waited for its sync would hang
    let reply = tokio::time::timeout(limit, post_then_put(&registry, &first)).await;
    let Ok(reply) = reply else {
        stop(server);
        panic!("the PUT was not answered before its blob's sync");
    };
    assert_eq!(reply.map(|r| r.status.as_u16()), Ok(201));
    let second = b"a blob whose sync the failpoint waits for".to_vec();
    let second_reply = tokio::time::timeout(limit, post_then_put(&registry, &second)).await;
    let second_reply = second_reply.map(|r| r.map(|r| r.status.as_u16()));
    killed_by_failpoint(server, &log, "blob-unsynced", limit).await;

    let (server, url) = serve_with(home.path(), &data, &[], &log);
    let registry = Registry::connect(&url).await;
    let got = registry.get(&format!("/v2/test/blobs/{}", digest_of(&first))).await;
    assert_eq!((got.status.as_u16(), &got.body[..]), (200, &first[..]), "the acknowledged blob and its link");
    if second_reply == Ok(Ok(201)) {
        assert_eq!(registry.get(&format!("/v2/test/blobs/{}", digest_of(&second))).await.body[..], second[..]);
    }
    let mount = format!("/v2/test/blobs/uploads/?mount={}&from=test", digest_of(&first));
    assert_eq!(registry.send(hyper::Method::POST, &mount, &[], Vec::new()).await.status.as_u16(), 201);
    stop(server);
}

/// A power loss can take a blob whose link record the OS had already written out (the blob's
/// background fsync had not yet run). Simulated: the server is killed (so its journal still ends
/// with the zeros written ahead of it, as after a power loss) and the second blob's file deleted.
/// The restart cuts the link to the lost blob (a client pushes it again: it is unknown), keeps
/// what came before it, and says what it cut and where it kept a copy.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_link_whose_blob_a_power_loss_took_is_cut_on_the_next_start() {
    a_link_to_a_lost_blob_is_cut(false).await;
}

/// `ecr-lab repair` (a snapshot of the tail) runs the same check first: the snapshot never keeps a
/// link to a blob a power loss took.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn repair_cuts_a_link_whose_blob_a_power_loss_took_before_its_snapshot() {
    a_link_to_a_lost_blob_is_cut(true).await;
}

/// Two blobs pushed, the server killed, the second blob's file deleted (what a power loss before
/// its background fsync leaves); then (`repair_first`) `ecr-lab repair`, and a start.
async fn a_link_to_a_lost_blob_is_cut(repair_first: bool) {
    use crate::common::digest_of;
    let home = tempfile::tempdir().unwrap();
    let (server, data, log, registry) = serve_with_test_repository(home.path()).await;
    let (kept, lost) = (b"a blob that reached the disk".to_vec(), b"a blob the power loss took".to_vec());
    for blob in [&kept, &lost] {
        assert_eq!(post_then_put(&registry, blob).await.map(|r| r.status.as_u16()), Ok(201));
    }
    stop(server);
    let journal = std::fs::read(data.join("journal.log")).unwrap();
    assert_eq!(journal.last(), Some(&0), "a killed server leaves the zeros written ahead");
    std::fs::remove_file(data.join("blobs/sha256").join(&digest_of(&lost)["sha256:".len()..])).unwrap();
    if repair_first {
        let repair = std::process::Command::new(env!("CARGO_BIN_EXE_ecr-lab"))
            .args(["repair", "--data-dir"])
            .arg(&data)
            .stdin(std::process::Stdio::null())
            .output()
            .unwrap();
        let said = format!("{}{}", String::from_utf8_lossy(&repair.stdout), String::from_utf8_lossy(&repair.stderr));
        assert!(repair.status.success() && said.contains("Compacted"), "{said}");
        assert!(said.contains(&format!("the blob {} that record", digest_of(&lost))), "{said}");
        assert_eq!(std::fs::metadata(data.join("journal.log")).unwrap().len(), 0, "the snapshot holds it all");
    }

    let (server, url) = serve_with(home.path(), &data, &[], &log);
    let registry = crate::registry::Registry::connect(&url).await;
    let got = registry.get(&format!("/v2/test/blobs/{}", digest_of(&kept))).await;
    assert_eq!((got.status.as_u16(), &got.body[..]), (200, &kept[..]), "the blob before it stays linked");
    let head = format!("/v2/test/blobs/{}", digest_of(&lost));
    let head = registry.send(hyper::Method::HEAD, &head, &[], Vec::new()).await;
    assert_eq!(head.status.as_u16(), 404, "the link to the lost blob is cut");
    assert_eq!(repository_names(&url).await, ["test"]);
    if !repair_first {
        let said = std::fs::read_to_string(&log).unwrap();
        assert!(said.contains(&format!("the blob {} that record", digest_of(&lost))), "{said}");
        assert!(said.contains("journal.log.lost-blobs-"), "{said}");
    }
    let kept_aside = std::fs::read_dir(&data).unwrap().flatten();
    assert_eq!(kept_aside.filter(|e| e.file_name().to_string_lossy().contains("lost-blobs-")).count(), 1);
    assert_eq!(post_then_put(&registry, &lost).await.map(|r| r.status.as_u16()), Ok(201), "pushed again");
    stop(server);
}

/// Waits up to `limit` for `server` to be killed (signal 9) by failpoint `name`, as its log says.
async fn killed_by_failpoint(
    mut server: std::process::Child,
    log: &std::path::Path,
    name: &str,
    limit: std::time::Duration,
) {
    use std::os::unix::process::ExitStatusExt as _;
    let deadline = std::time::Instant::now() + limit;
    let status = loop {
        if let Some(status) = server.try_wait().unwrap() {
            break status;
        }
        if std::time::Instant::now() > deadline {
            stop(server);
            panic!("the failpoint never killed the server");
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    };
    assert_eq!(status.signal(), Some(9), "the failpoint killed the server ({status})");
    assert!(std::fs::read_to_string(log).unwrap().contains(&format!("failpoint {name}")));
}

/// A blob pushed as the raw bench client and most registry clients do: POST (no body), then PUT
/// `?digest` with the whole body.
async fn post_then_put(registry: &crate::registry::Registry, blob: &[u8]) -> Result<crate::registry::Reply, String> {
    use hyper::Method;
    let started = registry.try_send(Method::POST, "/v2/test/blobs/uploads/", &[], Vec::new()).await?;
    assert_eq!(started.status.as_u16(), 202);
    let location = started.headers.get("location").and_then(|v| v.to_str().ok()).expect("a Location").to_owned();
    let path = format!("{location}?digest={}", crate::common::digest_of(blob));
    registry.try_send(Method::PUT, &path, &[], blob.to_vec()).await
}

/// The names of the repositories in ap-south-1, sorted.
async fn repository_names(url: &str) -> Vec<String> {
    crate::common::repository_names(&ecr_client(url, "ap-south-1").await).await
}

/// Creates `names` from 8 clients at once (so records share syncs); the names acknowledged.
async fn create_all(url: &str, names: Vec<String>) -> Vec<String> {
    let ecr = ecr_client(url, "ap-south-1").await;
    let names = Arc::new(std::sync::Mutex::new(names));
    let mut clients = Vec::new();
    for _ in 0..8 {
        let (ecr, names) = (ecr.clone(), names.clone());
        clients.push(tokio::spawn(async move {
            let mut acknowledged = Vec::new();
            loop {
                let Some(name) = names.lock().unwrap().pop() else { break };
                match ecr.create_repository().repository_name(&name).send().await {
                    Ok(_) => acknowledged.push(name),
                    Err(_) => break, // the server is gone
                }
            }
            acknowledged
        }));
    }
    let mut acknowledged = Vec::new();
    for client in clients {
        acknowledged.extend(client.await.unwrap());
    }
    acknowledged.sort();
    acknowledged
}

/// The journal's records, and the length of the zeros after them.
fn journal_records(data: &std::path::Path) -> (Vec<u8>, usize) {
    let bytes = std::fs::read(data.join("journal.log")).unwrap();
    let end = bytes.iter().rposition(|&b| b == b'\n').map_or(0, |i| i + 1);
    assert!(bytes[end..].iter().all(|&b| b == 0), "only zeros after the last record");
    (bytes[..end].to_vec(), bytes.len() - end)
}

/// The zeros are written off the request path: waits (at most 20 s) until some follow the records.
async fn wait_for_zeros(data: &std::path::Path) {
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(20);
    while journal_records(data).1 == 0 {
        assert!(std::time::Instant::now() < deadline, "no zeros were written ahead of the records");
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
}

/// Journal records overwrite zeros written ahead of them (so their fdatasync flushes data only).
/// After `kill -9` mid-segment, every acknowledged change is back, twice in a row: the second
/// server writes over the zeros the first left; then a record torn in the middle of the zeros (a
/// write the kill cut short) is cut off on the next start and the acknowledged changes stay.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn acknowledged_records_written_over_zeros_survive_kill_9() {
    let home = tempfile::tempdir().unwrap();
    let data = home.path().join("data");
    let log = home.path().join("stderr");
    let mut acknowledged = Vec::new();
    for round in 0..2 {
        let (server, url) = serve_with(home.path(), &data, &[], &log);
        assert_eq!(repository_names(&url).await, acknowledged, "round {round}: after the kill");
        acknowledged.extend(create_all(&url, (0..40).map(|n| format!("r{round}-{n:02}")).collect()).await);
        acknowledged.sort();
        assert_eq!(acknowledged.len(), 40 * (round + 1));
        wait_for_zeros(&data).await;
        stop(server); // kill -9
        let (records, zeros) = journal_records(&data);
        assert!(zeros > 0 && records.len() > 1000, "records ({} bytes), then zeros ({zeros})", records.len());
    }
    // A write cut short: the start of a record in place of the first zeros.
    let (records, _) = journal_records(&data);
    let last = records[..records.len() - 1].iter().rposition(|&b| b == b'\n').unwrap() + 1;
    let torn = &records[last..last + 30];
    let file = std::fs::OpenOptions::new().write(true).open(data.join("journal.log")).unwrap();
    std::os::unix::fs::FileExt::write_all_at(&file, torn, records.len() as u64).unwrap();
    drop(file);
    let (server, url) = serve_with(home.path(), &data, &[], &log);
    assert_eq!(repository_names(&url).await, acknowledged, "after the torn record");
    assert!(std::fs::read_to_string(&log).unwrap().contains("discarding a torn last record"));
    acknowledged.extend(create_all(&url, vec!["after-the-torn-record".into()]).await);
    acknowledged.sort();
    stop(server);
    let (server, url) = serve_with(home.path(), &data, &[], &log);
    assert_eq!(repository_names(&url).await, acknowledged);
    stop(server);
}

/// `kill -9` while zeros are being written ahead of the records, before they are synced
/// (`ECR_LAB_FAILPOINT=journal-zeros-unsynced`, at the first extension the records call for):
/// every acknowledged change is back, and the next server writes on.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_kill_while_zeros_are_written_ahead_loses_no_acknowledged_record() {
    let home = tempfile::tempdir().unwrap();
    let data = home.path().join("data");
    let log = home.path().join("stderr");
    // A first server creates the lab (its first record already asks for zeros) and is stopped.
    let (server, url) = serve_with(home.path(), &data, &[], &log);
    let mut acknowledged = create_all(&url, vec!["before".into()]).await;
    wait_for_zeros(&data).await;
    stop(server);
    let (server, url) = serve_with(home.path(), &data, &[("ECR_LAB_FAILPOINT", "journal-zeros-unsynced")], &log);
    let mut last_batch = String::new();
    for batch in 0..100 {
        last_batch = format!("b{batch:03}-");
        let names: Vec<String> = (0..20).map(|n| format!("{last_batch}{n:02}")).collect();
        let created = create_all(&url, names).await;
        let stopped = created.len() < 20;
        acknowledged.extend(created);
        if stopped {
            break;
        }
    }
    killed_by_failpoint(server, &log, "journal-zeros-unsynced", std::time::Duration::from_secs(30)).await;
    assert!(acknowledged.len() > 20, "records were written before the extension ({})", acknowledged.len());
    acknowledged.sort();

    let (server, url) = serve_with(home.path(), &data, &[], &log);
    let mut names = repository_names(&url).await;
    let lost: Vec<&String> = acknowledged.iter().filter(|name| !names.contains(name)).collect();
    assert!(lost.is_empty(), "acknowledged creations lost: {lost:?}");
    // Changes written and synced but not yet answered when the kill came may be there too.
    assert!(names.iter().all(|n| acknowledged.contains(n) || n.starts_with(&last_batch)), "{names:?}");
    names.extend(create_all(&url, vec!["after".into()]).await);
    names.sort();
    stop(server);
    let (server, url) = serve_with(home.path(), &data, &[], &log);
    assert_eq!(repository_names(&url).await, names);
    stop(server);
}

/// A mock served in-process (the lab shell's, a lesson's) closes its lab when closed: with a
/// client's connection still open, the journal is cut to its records (no zeros written ahead stay)
/// and the directory is unlocked, so the next lesson opens it at once.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn closing_an_in_process_mock_cuts_its_journal_and_unlocks_its_directory() {
    use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};
    let dir = tempfile::tempdir().unwrap();
    let running = mock_registry::spawn(mock_registry::Lab::open(dir.path()).unwrap()).await.unwrap();
    let journal = dir.path().join("journal.log");
    wait_for_zeros(dir.path()).await;
    let host = running.url.trim_start_matches("http://").to_owned();
    let mut client = tokio::net::TcpStream::connect(&host).await.unwrap();
    client.write_all(format!("GET /v2/ HTTP/1.1\r\nHost: {host}\r\n\r\n").as_bytes()).await.unwrap();
    let mut answer = [0u8; 12];
    client.read_exact(&mut answer).await.unwrap();
    assert_eq!(&answer, b"HTTP/1.1 401", "the registry asks for credentials");
    let open = mock_registry::Lab::open(dir.path()).err().expect("the served lab holds the directory");
    assert!(open.to_string().contains("another"), "{open}");
    running.close().await.unwrap();
    let records = std::fs::read(&journal).unwrap();
    assert!(!records.is_empty() && !records.contains(&0), "{} bytes, zeros left after the records", records.len());
    mock_registry::Lab::open(dir.path()).expect("closed: the directory opens again");
    drop(client);
}
