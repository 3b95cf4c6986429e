//! A request refused before its body was read (no credentials, a bad route, a body nobody wants)
//! must leave a keep-alive connection usable for the client's next request, or say
//! `Connection: close`. Clients try without credentials, read the challenge and retry on the same
//! pooled connection; a silently closed connection turns that retry into an EOF.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::time::Duration;

use crate::common::{InProcess, ecr_client};

/// Every method and route that takes a body, answered before the body is read.
const EARLY_ANSWERS: &[(&str, &str)] = &[
    ("POST", "/v2/test/blobs/uploads/"),
    ("POST", "/v2/test/blobs/uploads/?digest=sha256:0000000000000000000000000000000000000000000000000000000000000000"),
    ("PATCH", "/v2/test/blobs/uploads/an-upload"),
    (
        "PUT",
        "/v2/test/blobs/uploads/an-upload?digest=sha256:0000000000000000000000000000000000000000000000000000000000000000",
    ),
    ("PUT", "/v2/test/manifests/v1"),
    ("PUT", "/v2/test/nothing-here"),
    ("POST", "/"),
    ("POST", "/_lab/clock/advance"),
    ("POST", "/console/create-repository"),
    ("POST", "/nowhere"),
];

/// Body sizes around the point where the rest of a body has not arrived when the answer is ready.
const SIZES: &[usize] = &[1024, 5 * 1024, 70 * 1024, 512 * 1024];

struct Answer {
    status: u16,
    head: String,
}

impl Answer {
    fn closes(&self) -> bool {
        self.head.lines().any(|l| l.to_ascii_lowercase().replace(' ', "") == "connection:close")
    }
}

/// Reads one HTTP/1.1 response (Content-Length or chunked body) from `reader`.
fn read_answer(reader: &mut impl BufRead) -> std::io::Result<Answer> {
    let mut head = String::new();
    loop {
        let mut line = String::new();
        if reader.read_line(&mut line)? == 0 {
            return Err(std::io::Error::new(std::io::ErrorKind::UnexpectedEof, format!("EOF after {head:?}")));
        }
        if line == "\r\n" {
            break;
        }
        head.push_str(&line);
    }
    let status = head.split(' ').nth(1).and_then(|s| s.parse().ok()).unwrap_or(0);
    let header = |name: &str| {
        head.lines().find_map(|l| {
            let (n, v) = l.split_once(':')?;
            n.eq_ignore_ascii_case(name).then(|| v.trim().to_owned())
        })
    };
    if let Some(length) = header("content-length") {
        let mut body = vec![0; length.parse().unwrap()];
        reader.read_exact(&mut body)?;
    } else if header("transfer-encoding").is_some_and(|v| v.eq_ignore_ascii_case("chunked")) {
        loop {
            let mut size = String::new();
            reader.read_line(&mut size)?;
            let size = usize::from_str_radix(size.trim(), 16).unwrap();
            let mut chunk = vec![0; size + 2];
            reader.read_exact(&mut chunk)?;
            if size == 0 {
                break;
            }
        }
    }
    Ok(Answer { status, head })
}

/// Sends `method path` without credentials, headers and body in two writes, then an authenticated
/// `GET /v2/` on the same connection. Returns the first answer and the second's status (or why
/// there was none).
fn refused_then_retried(
    addr: &str,
    method: &str,
    path: &str,
    size: usize,
    auth: &str,
) -> (Answer, Result<u16, String>) {
    let stream = TcpStream::connect(addr).unwrap();
    stream.set_read_timeout(Some(Duration::from_secs(20))).unwrap();
    let mut writer = stream.try_clone().unwrap();
    let mut reader = BufReader::new(stream);
    let head = format!(
        "{method} {path} HTTP/1.1\r\nHost: {addr}\r\nContent-Type: application/octet-stream\r\nContent-Length: {size}\r\n\r\n"
    );
    writer.write_all(head.as_bytes()).unwrap();
    writer.flush().unwrap();
    std::thread::sleep(Duration::from_millis(30));
    // The server may already have answered; a write into a connection it closed is part of what is tested.
    let _ = writer.write_all(&vec![b'x'; size]);
    let first = read_answer(&mut reader).unwrap_or_else(|e| panic!("{method} {path} ({size} bytes): no answer: {e}"));
    let retry = format!("GET /v2/ HTTP/1.1\r\nHost: {addr}\r\nAuthorization: Basic {auth}\r\n\r\n");
    let second = writer
        .write_all(retry.as_bytes())
        .map_err(|e| e.to_string())
        .and_then(|()| read_answer(&mut reader).map(|a| a.status).map_err(|e| e.to_string()));
    (first, second)
}

async fn mock_with_token() -> (InProcess, String, String) {
    let mock = InProcess::start().await;
    let ecr = ecr_client(&mock.url, "ap-south-1").await;
    ecr.create_repository().repository_name("test").send().await.unwrap();
    let token = ecr.get_authorization_token().send().await.unwrap();
    let auth = token.authorization_data()[0].authorization_token().unwrap().to_owned();
    let addr = mock.url.trim_start_matches("http://").to_owned();
    (mock, addr, auth)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn early_answers_keep_the_connection_usable() {
    let (_mock, addr, auth) = mock_with_token().await;
    let failures = tokio::task::spawn_blocking(move || {
        let mut failures = Vec::new();
        for &(method, path) in EARLY_ANSWERS {
            for &size in SIZES {
                let (first, second) = refused_then_retried(&addr, method, path, size, &auth);
                assert!(first.status >= 300, "{method} {path}: expected a refusal, got {}", first.status);
                if first.closes() {
                    failures.push(format!("{method} {path} ({size} bytes): Connection: close for a small body"));
                } else if second != Ok(200) {
                    failures.push(format!("{method} {path} ({size} bytes): the retry got {second:?}"));
                }
            }
        }
        failures
    })
    .await
    .unwrap();
    assert!(
        failures.is_empty(),
        "{} of {} failed:\n{}",
        failures.len(),
        EARLY_ANSWERS.len() * SIZES.len(),
        failures.join("\n")
    );
}

/// A body too large to be worth reading is not read: the answer says the connection closes.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_large_unread_body_closes_the_connection_and_says_so() {
    let (_mock, addr, _auth) = mock_with_token().await;
    tokio::task::spawn_blocking(move || {
        let size = 2 * mock_registry::MAX_DRAIN_BYTES as usize;
        for path in ["/v2/test/blobs/uploads/", "/v2/test/manifests/v1"] {
            let stream = TcpStream::connect(&addr).unwrap();
            stream.set_read_timeout(Some(Duration::from_secs(20))).unwrap();
            let mut writer = stream.try_clone().unwrap();
            let mut reader = BufReader::new(stream);
            let head = format!("PUT {path} HTTP/1.1\r\nHost: {addr}\r\nContent-Length: {size}\r\n\r\n");
            writer.write_all(head.as_bytes()).unwrap();
            let answer = read_answer(&mut reader).unwrap();
            assert_eq!(answer.status, 401, "{path}");
            assert!(answer.closes(), "{path}: no Connection: close in\n{}", answer.head);
            let mut rest = Vec::new();
            assert_eq!(reader.read_to_end(&mut rest).unwrap_or(0), 0, "{path}: the server kept talking");
        }
    })
    .await
    .unwrap();
}

/// A client waiting for `100 Continue` has not sent its body; the answer must not leave it guessing.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_unread_body_behind_expect_continue_closes_the_connection() {
    let (_mock, addr, _auth) = mock_with_token().await;
    tokio::task::spawn_blocking(move || {
        let stream = TcpStream::connect(&addr).unwrap();
        stream.set_read_timeout(Some(Duration::from_secs(20))).unwrap();
        let mut writer = stream.try_clone().unwrap();
        let mut reader = BufReader::new(stream);
        let head = format!(
            "PUT /v2/test/manifests/v1 HTTP/1.1\r\nHost: {addr}\r\nExpect: 100-continue\r\nContent-Length: 4096\r\n\r\n"
        );
        writer.write_all(head.as_bytes()).unwrap();
        let answer = read_answer(&mut reader).unwrap();
        assert_eq!(answer.status, 401);
        assert!(answer.closes(), "no Connection: close in\n{}", answer.head);
    })
    .await
    .unwrap();
}

/// Python's urllib3 (the pool under botocore and requests): an unauthenticated upload, then the
/// authenticated retry on the pooled connection, many times at several body sizes, no retries allowed.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_pooled_python_client_never_meets_a_dropped_connection() {
    let have_urllib3 =
        std::process::Command::new("python3").args(["-c", "import urllib3"]).output().is_ok_and(|o| o.status.success());
    if !crate::common::require_tool("python3 with urllib3 (pip install urllib3)", || have_urllib3) {
        return;
    }
    let (_mock, addr, auth) = mock_with_token().await;
    let script = r#"
import sys, urllib3
addr, auth = sys.argv[1], sys.argv[2]
pool = urllib3.HTTPConnectionPool(addr.split(':')[0], int(addr.split(':')[1]), maxsize=1, retries=False)
failures, pairs = 0, 0
for size in (1024, 5 * 1024, 70 * 1024, 512 * 1024):
    body = b'x' * size
    for i in range(40):
        for method, path in (('PUT', '/v2/test/manifests/v1'), ('PATCH', '/v2/test/blobs/uploads/u'), ('POST', '/v2/test/blobs/uploads/')):
            pairs += 1
            try:
                first = pool.urlopen(method, path, body=body, headers={'Content-Type': 'application/octet-stream'})
                assert first.status == 401, first.status
                second = pool.urlopen('GET', '/v2/', headers={'Authorization': 'Basic ' + auth})
                assert second.status == 200, second.status
            except Exception as e:
                failures += 1
                print(f'{method} {path} {size}: {type(e).__name__}: {e}', file=sys.stderr)
print(f'{failures} failures in {pairs} pairs')
sys.exit(1 if failures else 0)
"#;
    let output = tokio::process::Command::new("python3").args(["-c", script, &addr, &auth]).output().await.unwrap();
    let stdout = String::from_utf8_lossy(&output.stdout);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(output.status.success(), "{stdout}{stderr}");
    assert_eq!(stdout.trim(), "0 failures in 480 pairs");
}
