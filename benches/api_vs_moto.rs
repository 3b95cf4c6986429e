//! The mock's ECR API against moto_server (what people otherwise run), side by side in one run, from
//! one client: DescribeImages on a repository of 1,000 images, and CreateRepository.
//!
//! Run on demand (not in CI): `scripts/bench-api` (installs moto[server] if missing), or
//! `cargo bench --bench api_vs_moto` with `moto_server` on PATH. Knobs: BENCH_SECONDS (default 5),
//! BENCH_CONNECTIONS (clients for DescribeImages, default 8), BENCH_LEVELS (clients for
//! CreateRepository, default `1,8,64`: each level measured in turn).

use std::net::TcpListener;
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper::{Method, Request};
use hyper_util::client::legacy::Client;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::rt::TokioExecutor;
use mock_registry::aws::Signer;

const IMAGES: usize = 1000;

type HttpClient = Client<HttpConnector, Full<Bytes>>;

struct Server {
    name: &'static str,
    url: String,
    child: Child,
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port()
}

fn start_mock(name: &'static str, extra: &[&str], home: &std::path::Path) -> Server {
    use std::io::BufRead;
    let mut child = Command::new(env!("CARGO_BIN_EXE_ecr-lab"))
        .args(["serve", "--addr", "127.0.0.1:0"])
        .args(extra)
        .env("ECR_LAB_HOME", home)
        .stdout(Stdio::piped())
        .spawn()
        .expect("start ecr-lab serve");
    let mut line = String::new();
    std::io::BufReader::new(child.stdout.as_mut().unwrap()).read_line(&mut line).unwrap();
    let url = line.trim().strip_prefix("ecr-lab mock listening on ").expect("the ready line").to_owned();
    Server { name, url, child }
}

fn start_moto() -> Server {
    let port = free_port();
    let child = Command::new("moto_server")
        .args(["-p", &port.to_string()])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("moto_server on PATH (pip install 'moto[server]')");
    let url = format!("http://127.0.0.1:{port}");
    let deadline = Instant::now() + Duration::from_secs(30);
    while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
        assert!(Instant::now() < deadline, "moto_server did not start");
        std::thread::sleep(Duration::from_millis(100));
    }
    Server { name: "moto_server", url, child }
}

fn now() -> i64 {
    mock_registry::clock::unix_seconds()
}

async fn call(client: &HttpClient, url: &str, operation: &str, body: String) -> (u16, Bytes) {
    call_in(client, url, "ap-south-1", operation, body).await
}

async fn call_in(client: &HttpClient, url: &str, region: &'static str, operation: &str, body: String) -> (u16, Bytes) {
    let host = url.trim_start_matches("http://");
    let headers =
        mock_registry::aws::signed_headers(host, operation, body.as_bytes(), &Signer::lab_default(region), now());
    let mut request =
        Request::builder().method(Method::POST).uri(format!("{url}/")).body(Full::new(Bytes::from(body))).unwrap();
    *request.headers_mut() = headers;
    let response = client.request(request).await.expect("request");
    let status = response.status().as_u16();
    (status, response.into_body().collect().await.unwrap().to_bytes())
}

/// The config and layer every bench image shares (the mock needs them uploaded, as ECR does).
fn blobs() -> [Vec<u8>; 2] {
    [br#"{"architecture":"amd64","os":"linux","rootfs":{"type":"layers","diff_ids":[]}}"#.to_vec(), vec![7u8; 3000]]
}

fn digest(bytes: &[u8]) -> String {
    mock_registry::types::Digest::sha256_of(bytes).to_string()
}

/// Image `n`: the shared blobs, and an annotation that makes its manifest (and digest) its own.
fn manifest(n: usize) -> String {
    let [config, layer] = blobs();
    serde_json::json!({
        "schemaVersion": 2,
        "mediaType": "application/vnd.docker.distribution.manifest.v2+json",
        "config": { "mediaType": "application/vnd.docker.container.image.v1+json", "size": config.len(), "digest": digest(&config) },
        "layers": [{ "mediaType": "application/vnd.docker.image.rootfs.diff.tar.gzip", "size": layer.len(), "digest": digest(&layer) }],
        "annotations": { "n": n.to_string() }
    })
    .to_string()
}

/// Uploads the shared blobs with ECR's layer API (moto stubs that API and does not check layers).
async fn upload_blobs(client: &HttpClient, url: &str) {
    use base64::Engine as _;
    for blob in blobs() {
        let (status, reply) = call(client, url, "InitiateLayerUpload", r#"{"repositoryName":"bench"}"#.into()).await;
        assert_eq!(status, 200, "{}", String::from_utf8_lossy(&reply));
        let upload: serde_json::Value = serde_json::from_slice(&reply).unwrap();
        let id = upload["uploadId"].as_str().unwrap().to_owned();
        let part = serde_json::json!({
            "repositoryName": "bench", "uploadId": id, "partFirstByte": 0, "partLastByte": blob.len() - 1,
            "layerPartBlob": base64::engine::general_purpose::STANDARD.encode(&blob)
        });
        let (status, reply) = call(client, url, "UploadLayerPart", part.to_string()).await;
        assert_eq!(status, 200, "{}", String::from_utf8_lossy(&reply));
        let complete =
            serde_json::json!({ "repositoryName": "bench", "uploadId": id, "layerDigests": [digest(&blob)] });
        let (status, reply) = call(client, url, "CompleteLayerUpload", complete.to_string()).await;
        assert_eq!(status, 200, "{}", String::from_utf8_lossy(&reply));
    }
}

async fn seed(client: &HttpClient, url: &str, layer_api: bool) {
    let (status, body) = call(client, url, "CreateRepository", r#"{"repositoryName":"bench"}"#.into()).await;
    assert_eq!(status, 200, "{}", String::from_utf8_lossy(&body));
    if layer_api {
        upload_blobs(client, url).await;
    }
    for n in 0..IMAGES {
        let body =
            serde_json::json!({ "repositoryName": "bench", "imageManifest": manifest(n), "imageTag": format!("v{n}") });
        let (status, reply) = call(client, url, "PutImage", body.to_string()).await;
        assert_eq!(status, 200, "{}", String::from_utf8_lossy(&reply));
    }
    let (status, reply) =
        call(client, url, "DescribeImages", r#"{"repositoryName":"bench","maxResults":1000}"#.into()).await;
    assert_eq!(status, 200);
    let value: serde_json::Value = serde_json::from_slice(&reply).unwrap();
    assert_eq!(value["imageDetails"].as_array().unwrap().len(), IMAGES, "one call returns the whole repository");
}

/// Runs `connections` loops of `make(n)` for `seconds`; returns requests per second.
async fn load(
    client: &HttpClient,
    url: &str,
    operation: &'static str,
    connections: usize,
    make: fn(u64) -> (&'static str, String),
) -> f64 {
    let seconds: u64 = std::env::var("BENCH_SECONDS").ok().and_then(|s| s.parse().ok()).unwrap_or(5);
    let done = Arc::new(AtomicU64::new(0));
    let counter = Arc::new(AtomicU64::new(0));
    let deadline = Instant::now() + Duration::from_secs(seconds);
    let started = Instant::now();
    let mut tasks = Vec::new();
    for _ in 0..connections {
        let (client, url, done, counter) = (client.clone(), url.to_owned(), done.clone(), counter.clone());
        tasks.push(tokio::spawn(async move {
            while Instant::now() < deadline {
                let n = counter.fetch_add(1, Ordering::Relaxed);
                let (region, body) = make(n);
                let (status, body) = call_in(&client, &url, region, operation, body).await;
                assert_eq!(status, 200, "{operation}: {}", String::from_utf8_lossy(&body));
                done.fetch_add(1, Ordering::Relaxed);
            }
        }));
    }
    for task in tasks {
        task.await.unwrap();
    }
    done.load(Ordering::Relaxed) as f64 / started.elapsed().as_secs_f64()
}

fn describe_images(_: u64) -> (&'static str, String) {
    ("ap-south-1", r#"{"repositoryName":"bench","maxResults":1000}"#.into())
}

/// Spread over regions: the mock holds ECR's quota of 100,000 repositories per registry, and it
/// creates that many in a few seconds.
const REGIONS: [&str; 8] = [
    "ap-south-1",
    "us-east-1",
    "us-west-2",
    "eu-west-1",
    "eu-central-1",
    "ap-northeast-1",
    "ap-southeast-2",
    "sa-east-1",
];

fn create_repository(n: u64) -> (&'static str, String) {
    (REGIONS[n as usize % REGIONS.len()], format!(r#"{{"repositoryName":"bench-new-{n}"}}"#))
}

/// Names stay unique across levels: each level starts its counter past the last one's.
fn create_repository_level(n: u64) -> (&'static str, String) {
    create_repository(n + LEVEL_BASE.load(Ordering::Relaxed))
}

static LEVEL_BASE: AtomicU64 = AtomicU64::new(0);

fn env_list(name: &str, default: &str) -> Vec<usize> {
    std::env::var(name).unwrap_or_else(|_| default.into()).split(',').filter_map(|n| n.trim().parse().ok()).collect()
}

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() {
    let home = tempfile::tempdir().unwrap();
    let data = home.path().join("data");
    let client: HttpClient = Client::builder(TokioExecutor::new()).pool_max_idle_per_host(256).build_http();
    let describe_clients = env_list("BENCH_CONNECTIONS", "8").first().copied().unwrap_or(8);
    let levels = env_list("BENCH_LEVELS", "1,8,64");
    let mut results: Vec<(&str, String, f64)> = Vec::new();
    // One at a time, so each server has the machine to itself while measured.
    let starts: [&dyn Fn() -> Server; 3] = [
        &|| start_moto(),
        &|| start_mock("ecr-lab (durable)", &["--data-dir", data.to_str().unwrap()], home.path()),
        &|| start_mock("ecr-lab (--ephemeral)", &["--ephemeral"], home.path()),
    ];
    for start in starts {
        let server = start();
        eprintln!("{}: seeding {IMAGES} images at {}", server.name, server.url);
        seed(&client, &server.url, server.name != "moto_server").await;
        let describe = load(&client, &server.url, "DescribeImages", describe_clients, describe_images).await;
        eprintln!("{}: DescribeImages {describe:.1}/s", server.name);
        results.push((
            server.name,
            format!("DescribeImages (1,000 images, one page), {describe_clients} clients"),
            describe,
        ));
        for &level in &levels {
            LEVEL_BASE.store(level as u64 * 1_000_000, Ordering::Relaxed);
            let create = load(&client, &server.url, "CreateRepository", level, create_repository_level).await;
            eprintln!("{}: CreateRepository at {level} clients {create:.1}/s", server.name);
            results.push((server.name, format!("CreateRepository, {level} clients"), create));
        }
    }
    let moto = |op: &str| results.iter().find(|(s, o, _)| *s == "moto_server" && o == op).unwrap().2;
    println!("\n| server | call | requests/s | × moto_server |");
    println!("|---|---|---:|---:|");
    for (server, op, rate) in &results {
        println!("| {server} | {op} | {rate:.1} | {:.1}× |", rate / moto(op));
    }
}
