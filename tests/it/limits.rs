//! Bounded resources (issue 20): a server on a classroom LAN must not be starved by idle sockets,
//! abandoned uploads, big unauthenticated bodies, long paths in its request log or oversized API
//! inputs. Each test asserts the refusal and that nothing else changed.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::time::Duration;

use hyper::{Method, StatusCode};
use mock_registry::Lab;

use crate::common::{InProcess, digest_of, ecr_client};
use crate::registry::Registry;

fn host_port(url: &str) -> &str {
    url.trim_start_matches("http://")
}

fn connect(url: &str) -> TcpStream {
    let stream = TcpStream::connect(host_port(url)).unwrap();
    stream.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
    stream
}

/// True when the server closed `stream` (EOF or reset) rather than leaving it open.
fn closed_by_server(stream: &mut TcpStream) -> bool {
    let mut byte = [0u8; 1];
    match stream.read(&mut byte) {
        Ok(0) => true,
        Ok(_) => false,
        Err(e) => !matches!(e.kind(), std::io::ErrorKind::WouldBlock | std::io::ErrorKind::TimedOut),
    }
}

/// Reads one response head and a Content-Length body; returns (status, head, body).
fn read_response(stream: &mut TcpStream) -> (u16, String, String) {
    let mut reader = BufReader::new(stream);
    let mut head = String::new();
    loop {
        let mut line = String::new();
        assert!(reader.read_line(&mut line).expect("an answer in time") > 0, "EOF after {head:?}");
        if line == "\r\n" {
            break;
        }
        head.push_str(&line);
    }
    let length = head
        .lines()
        .find_map(|l| l.split_once(':').filter(|(n, _)| n.eq_ignore_ascii_case("content-length")))
        .map(|(_, v)| v.trim().parse::<usize>().unwrap())
        .unwrap_or(0);
    let mut body = vec![0u8; length];
    reader.read_exact(&mut body).unwrap();
    let status = head.split(' ').nth(1).unwrap().parse().unwrap();
    (status, head, String::from_utf8_lossy(&body).into_owned())
}

#[tokio::test(flavor = "multi_thread")]
async fn idle_connections_are_closed_and_new_clients_still_served() {
    let lab = Lab::ephemeral().unwrap();
    lab.set_idle_timeout(Duration::from_millis(400));
    let mock = InProcess::start_with(lab).await;
    let url = mock.url.clone();
    tokio::task::spawn_blocking(move || {
        // Connections that never send a byte, and one that sent a request and went quiet.
        let mut idle: Vec<TcpStream> = (0..20).map(|_| connect(&url)).collect();
        let mut used = connect(&url);
        write!(used, "GET / HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n").unwrap();
        assert_eq!(read_response(&mut used).0, 200);
        std::thread::sleep(Duration::from_millis(1200));
        for stream in idle.iter_mut().chain(std::iter::once(&mut used)) {
            assert!(closed_by_server(stream), "an idle connection is still open after the idle timeout");
        }

        // A slow client that pauses longer than the idle timeout inside its request body is not cut.
        let mut slow = connect(&url);
        let body = b"Action=GetCallerIdentity&Version=2011-06-15";
        write!(slow, "POST / HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: {}\r\n\r\n", body.len()).unwrap();
        for chunk in body.chunks(body.len() / 2 + 1) {
            slow.write_all(chunk).unwrap();
            std::thread::sleep(Duration::from_millis(900));
        }
        let (status, _, answer) = read_response(&mut slow);
        assert_eq!(status, 403, "{answer}");

        // New clients are served.
        let mut fresh = connect(&url);
        write!(fresh, "GET / HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n").unwrap();
        assert_eq!(read_response(&mut fresh).0, 200);
    })
    .await
    .unwrap();
}

/// This process's open files under `dir` (other tests run in the same process and open sockets
/// of their own, so only files of this lab's upload spool are counted).
fn open_files_under(dir: &std::path::Path) -> usize {
    std::fs::read_dir("/proc/self/fd")
        .map(|d| d.filter_map(|e| std::fs::read_link(e.ok()?.path()).ok()).filter(|t| t.starts_with(dir)).count())
        .unwrap_or(0)
}

#[tokio::test(flavor = "multi_thread")]
async fn an_upload_idle_past_its_lifetime_is_unknown_and_its_file_gone() {
    let dir = tempfile::tempdir().unwrap();
    let lab = Lab::open(dir.path()).unwrap();
    let mock = InProcess::start_with(lab.clone()).await;
    ecr_client(&mock.url, "ap-south-1").await.create_repository().repository_name("test").send().await.unwrap();
    let registry = Registry::connect(&mock.url).await;
    let spooled = || std::fs::read_dir(dir.path().join("uploads")).unwrap().count();

    // Bare upload POSTs hold no open file each.
    let uploads = dir.path().canonicalize().unwrap().join("uploads");
    let before = open_files_under(&uploads);
    let mut locations = Vec::new();
    for _ in 0..60 {
        let started = registry.send(Method::POST, "/v2/test/blobs/uploads/", &[], Vec::new()).await;
        assert_eq!(started.status, StatusCode::ACCEPTED);
        locations.push(started.header("location").to_owned());
    }
    let after = open_files_under(&uploads);
    assert_eq!((before, after), (0, 0), "60 idle uploads hold open files in the spool");
    assert_eq!(spooled(), 60);

    // An upload used within its lifetime lives on, counted from its last use.
    let kept = locations.pop().unwrap();
    lab.write(|s| s.advance_clock(40 * 60).map(|_| ())).await.unwrap();
    let part =
        registry.send(Method::PATCH, &kept, &[("content-type", "application/octet-stream")], b"hello ".to_vec()).await;
    assert_eq!(part.status, StatusCode::ACCEPTED);
    lab.write(|s| s.advance_clock(40 * 60).map(|_| ())).await.unwrap();

    // The others, idle for 80 minutes, are gone: refused, with their spool files removed.
    let expired = registry.send(Method::PATCH, &locations[0], &[], b"late".to_vec()).await;
    assert_eq!(expired.status, StatusCode::NOT_FOUND);
    assert!(String::from_utf8_lossy(&expired.body).contains("BLOB_UPLOAD_UNKNOWN"));
    assert_eq!(registry.get(&locations[1]).await.status, StatusCode::NOT_FOUND);
    assert_eq!(spooled(), 1, "only the upload still in use keeps its spool file");

    let blob = b"hello world".to_vec();
    let done = registry.send(Method::PUT, &format!("{kept}?digest={}", digest_of(&blob)), &[], b"world".to_vec()).await;
    assert_eq!(done.status, StatusCode::CREATED, "{}", String::from_utf8_lossy(&done.body));
    assert_eq!(registry.get(&format!("/v2/test/blobs/{}", digest_of(&blob))).await.body.as_ref(), blob.as_slice());
}

#[tokio::test(flavor = "multi_thread")]
async fn an_unauthenticated_huge_post_is_refused_before_its_body_is_read() {
    let mock = InProcess::start().await;
    let url = mock.url.clone();
    tokio::task::spawn_blocking(move || {
        let cases = [
            (None, "MissingAuthenticationTokenException", "Missing Authentication Token"),
            (
                Some("AWS4-HMAC-SHA256 Credential=AKIANOTAKEY000000000/20261203/ap-south-1/ecr/aws4_request, SignedHeaders=host;x-amz-date;x-amz-target, Signature=00"),
                "UnrecognizedClientException",
                "The security token included in the request is invalid.",
            ),
        ];
        for (authorization, code, message) in cases {
            let mut stream = connect(&url);
            let auth = authorization.map(|a| format!("Authorization: {a}\r\n")).unwrap_or_default();
            // 30 MB declared, 1 KB sent: the answer must come without the rest.
            write!(
                stream,
                "POST / HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Amz-Target: AmazonEC2ContainerRegistry_V20150921.CreateRepository\r\n\
                 Content-Type: application/x-amz-json-1.1\r\nX-Amz-Date: 20261203T000000Z\r\n{auth}Content-Length: 30000000\r\n\r\n"
            )
            .unwrap();
            stream.write_all(&[b' '; 1024]).unwrap();
            let (status, head, body) = read_response(&mut stream);
            assert!((400..500).contains(&status), "{head}{body}");
            assert!(body.contains(code) && body.contains(message), "{body}");
        }
    })
    .await
    .unwrap();
    let repositories = ecr_client(&mock.url, "ap-south-1").await.describe_repositories().send().await.unwrap();
    assert!(repositories.repositories().is_empty(), "nothing was created");
}

#[tokio::test]
async fn request_log_entries_are_cut_to_1024_bytes() {
    let mock = InProcess::start().await;
    let registry = Registry::connect(&mock.url).await;
    let long = format!("/v2/{}/tags/list", "a".repeat(60_000));
    let answer = registry.get(&long).await;
    assert!(answer.status.is_client_error());
    let logged = mock.lab.log().since(0);
    let entry = logged.iter().find(|r| r.path.starts_with("/v2/aaa")).expect("the request is logged");
    assert!(entry.path.len() <= 1024, "a logged path of {} bytes", entry.path.len());
    assert!(entry.path.ends_with('…'));
    assert_eq!(entry.status, answer.status.as_u16());
}

#[tokio::test]
async fn kms_key_length_is_bounded_as_the_ecr_model_bounds_it() {
    use aws_sdk_ecr::types::{EncryptionConfiguration, EncryptionType};
    let mock = InProcess::start().await;
    let ecr = ecr_client(&mock.url, "ap-south-1").await;
    for key in [String::new(), "k".repeat(2049)] {
        let encryption =
            EncryptionConfiguration::builder().encryption_type(EncryptionType::Kms).kms_key(key).build().unwrap();
        let error = ecr
            .create_repository()
            .repository_name("bounded")
            .encryption_configuration(encryption)
            .send()
            .await
            .unwrap_err()
            .into_service_error();
        assert_eq!(
            error.meta().message(),
            Some(
                "Invalid parameter at 'encryptionConfiguration.kmsKey' failed to satisfy constraint: 'Member must have length between 1 and 2048'"
            )
        );
    }
    assert!(ecr.describe_repositories().send().await.unwrap().repositories().is_empty(), "nothing was created");
    let encryption = EncryptionConfiguration::builder()
        .encryption_type(EncryptionType::Kms)
        .kms_key("k".repeat(2048))
        .build()
        .unwrap();
    ecr.create_repository().repository_name("bounded").encryption_configuration(encryption).send().await.unwrap();
}
