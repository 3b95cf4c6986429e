//! The mock's ECR API against moto_server (what people otherwise run), side by side in one run, from
//! one client: DescribeImages on a repository of 1,000 images, and CreateRepository.
//!
//! Run on demand (not in CI): `scripts/bench-api` (installs moto[server] if missing), or
//! `cargo bench --bench api_vs_moto` with `moto_server` on PATH. Knobs: BENCH_SECONDS (default 5),
//! BENCH_CONNECTIONS (clients for DescribeImages, default 8), BENCH_LEVELS (clients for
//! CreateRepository, default `1,8,64`: each level measured in turn), BENCH_IAM=1 (also the mock
//! with an IAM user whose policy is evaluated on every call, issue 14's authorization cost),
//! BENCH_BASELINE=PATH (also another ecr-lab binary, e.g. one built before IAM, durable and
//! `--ephemeral`, in the same run), BENCH_ROUNDS (default 1: each ecr-lab variant measured that
//! many times, alternating with the others, in reverse order every other round; moto_server in
//! the first round only; the table shows the median and every round, for A/B on a noisy machine).
//! Linux: each row also shows the server's CPU time and context switches per request (from
//! `/proc`; less noisy than the rate when other work shares the machine).

use std::net::TcpListener;
use std::path::{Path, PathBuf};
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
use mock_registry::defaults::{DEFAULT_ACCESS_KEY_ID, DEFAULT_ACCOUNT, DEFAULT_SECRET_ACCESS_KEY};

const IMAGES: usize = 1000;

type HttpClient = Client<HttpConnector, Full<Bytes>>;

/// The access key a server's measured calls are signed with.
struct Key {
    id: String,
    secret: String,
}

impl Key {
    /// The lab's default learner (moto takes any key).
    fn learner() -> Arc<Key> {
        Arc::new(Key { id: DEFAULT_ACCESS_KEY_ID.into(), secret: DEFAULT_SECRET_ACCESS_KEY.into() })
    }
}

struct Server {
    name: String,
    url: String,
    child: Child,
    key: Arc<Key>,
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

fn start_mock(name: &str, binary: &Path, extra: &[&str], home: &Path) -> Server {
    use std::io::BufRead;
    let mut child = Command::new(binary)
        .args(["serve", "--addr", "127.0.0.1:0"])
        .args(extra)
        .env("ECR_LAB_HOME", home)
        .stdout(Stdio::piped())
        .spawn()
        .expect("start ecr-lab serve");
    let mut line = String::new();
    std::io::BufReader::new(child.stdout.as_mut().unwrap()).read_line(&mut line).unwrap();
    let url = line.trim().strip_prefix("ecr-lab mock listening on ").expect("the ready line").to_owned();
    Server { name: name.to_owned(), url, child, key: Key::learner() }
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
    Server { name: "moto_server".into(), url, child, key: Key::learner() }
}

fn now() -> i64 {
    mock_registry::clock::unix_seconds()
}

async fn call(client: &HttpClient, url: &str, operation: &str, body: String) -> (u16, Bytes) {
    call_in(client, url, &Key::learner(), "ap-south-1", operation, body).await
}

async fn call_in(
    client: &HttpClient,
    url: &str,
    key: &Key,
    region: &'static str,
    operation: &str,
    body: String,
) -> (u16, Bytes) {
    let host = url.trim_start_matches("http://");
    let signer =
        Signer { access_key_id: &key.id, secret_access_key: &key.secret, session_token: None, region, service: "ecr" };
    let headers = mock_registry::aws::signed_headers(host, operation, body.as_bytes(), &signer, now());
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

/// What one load measured: requests per second, and (Linux) the server's CPU µs and context
/// switches per request.
#[derive(Clone, Copy)]
struct Measured {
    rate: f64,
    cpu_us: Option<f64>,
    switches: Option<f64>,
}

/// The server process's CPU time in clock ticks (user + system, all its threads; USER_HZ is 100 on
/// Linux) and the context switches of its live threads, from `/proc`.
fn usage(pid: u32) -> Option<(u64, u64)> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    // Fields after the command's closing parenthesis: state is field 3, utime 14, stime 15.
    let fields: Vec<&str> = stat.rsplit_once(')')?.1.split_whitespace().collect();
    let ticks = fields.get(11)?.parse::<u64>().ok()? + fields.get(12)?.parse::<u64>().ok()?;
    let mut switches = 0;
    for task in std::fs::read_dir(format!("/proc/{pid}/task")).ok()?.flatten() {
        let status = std::fs::read_to_string(task.path().join("status")).unwrap_or_default();
        for line in status.lines().filter(|l| l.contains("ctxt_switches:")) {
            switches += line.split_whitespace().nth(1).and_then(|n| n.parse::<u64>().ok()).unwrap_or(0);
        }
    }
    Some((ticks, switches))
}

/// Runs `connections` loops of `make(n)` for `seconds`; returns requests per second and the
/// server's cost per request.
async fn load(
    client: &HttpClient,
    server: &Server,
    operation: &'static str,
    connections: usize,
    make: fn(u64) -> (&'static str, String),
) -> Measured {
    let before = usage(server.child.id());
    let seconds: u64 = std::env::var("BENCH_SECONDS").ok().and_then(|s| s.parse().ok()).unwrap_or(5);
    let done = Arc::new(AtomicU64::new(0));
    let counter = Arc::new(AtomicU64::new(0));
    let deadline = Instant::now() + Duration::from_secs(seconds);
    let started = Instant::now();
    let mut tasks = Vec::new();
    for _ in 0..connections {
        let (client, url, key) = (client.clone(), server.url.clone(), server.key.clone());
        let (done, counter) = (done.clone(), counter.clone());
        tasks.push(tokio::spawn(async move {
            while Instant::now() < deadline {
                let n = counter.fetch_add(1, Ordering::Relaxed);
                let (region, body) = make(n);
                let (status, body) = call_in(&client, &url, &key, region, operation, body).await;
                assert_eq!(status, 200, "{operation}: {}", String::from_utf8_lossy(&body));
                done.fetch_add(1, Ordering::Relaxed);
            }
        }));
    }
    for task in tasks {
        task.await.unwrap();
    }
    let requests = done.load(Ordering::Relaxed) as f64;
    let rate = requests / started.elapsed().as_secs_f64();
    let cost = before.zip(usage(server.child.id())).filter(|_| requests > 0.0);
    Measured {
        rate,
        cpu_us: cost.map(|((t0, _), (t1, _))| (t1 - t0) as f64 * 10_000.0 / requests),
        switches: cost.map(|((_, s0), (_, s1))| s1.saturating_sub(s0) as f64 / requests),
    }
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

/// Issue 14's measured user: full access, plus a Deny statement the evaluation must also check.
const EVALUATED_POLICY: &str = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"ecr:*","Resource":"*"},
  {"Effect":"Deny","Action":"ecr:DeleteRepository","Resource":"arn:aws:ecr:*:*:repository/prod-*"}]}"#;

/// Creates an IAM user with [`EVALUATED_POLICY`] through the lab control API (loopback needs no
/// token) and makes the server's measured calls signed with its key.
async fn evaluate_as_user(client: &HttpClient, server: &mut Server) {
    let body = serde_json::json!({ "userName": "bench-evaluated", "accountId": DEFAULT_ACCOUNT, "policyDocument": EVALUATED_POLICY });
    let request = Request::builder()
        .method(Method::POST)
        .uri(format!("{}/_lab/iam/users", server.url))
        .header("content-type", "application/json")
        .body(Full::new(Bytes::from(body.to_string())))
        .unwrap();
    let response = client.request(request).await.expect("create the IAM user");
    let status = response.status();
    let reply = response.into_body().collect().await.unwrap().to_bytes();
    assert!(status.is_success(), "create the IAM user: {status} {}", String::from_utf8_lossy(&reply));
    let user: serde_json::Value = serde_json::from_slice(&reply).unwrap();
    let field = |name: &str| user[name].as_str().expect("the new user's key").to_owned();
    server.key = Arc::new(Key { id: field("accessKeyId"), secret: field("secretAccessKey") });
}

/// One server to measure: moto, or an ecr-lab binary with its options.
struct Variant {
    name: String,
    binary: Option<PathBuf>,
    extra: Vec<String>,
    evaluated: bool,
}

/// moto, the mock durable and `--ephemeral`, then (BENCH_IAM) the same with an evaluated IAM
/// user, then (BENCH_BASELINE) another binary durable and `--ephemeral`. Each durable one gets a
/// data directory of its own.
fn variants(home: &Path, round: usize) -> Vec<Variant> {
    let this = PathBuf::from(env!("CARGO_BIN_EXE_ecr-lab"));
    let mut list = vec![Variant { name: "moto_server".into(), binary: None, extra: Vec::new(), evaluated: false }];
    let mut mock = |name: &str, binary: &PathBuf, durable: bool, evaluated: bool| {
        let extra = if durable {
            let data = home.join(format!("data-{round}-{}", list.len()));
            vec!["--data-dir".to_owned(), data.to_string_lossy().into_owned()]
        } else {
            vec!["--ephemeral".to_owned()]
        };
        let mode = if durable { "durable" } else { "--ephemeral" };
        list.push(Variant { name: format!("{name} ({mode})"), binary: Some(binary.clone()), extra, evaluated });
    };
    mock("ecr-lab", &this, true, false);
    mock("ecr-lab", &this, false, false);
    if std::env::var("BENCH_IAM").is_ok_and(|v| !v.is_empty() && v != "0") {
        mock("ecr-lab, IAM user evaluated", &this, true, true);
        mock("ecr-lab, IAM user evaluated", &this, false, true);
    }
    if let Some(baseline) = std::env::var_os("BENCH_BASELINE").filter(|v| !v.is_empty()).map(PathBuf::from) {
        assert!(baseline.is_file(), "BENCH_BASELINE={}: no such binary (build it first)", baseline.display());
        mock("baseline", &baseline, true, false);
        mock("baseline", &baseline, false, false);
    }
    list
}

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() {
    let home = tempfile::tempdir().unwrap();
    let client: HttpClient = Client::builder(TokioExecutor::new()).pool_max_idle_per_host(256).build_http();
    let describe_clients = env_list("BENCH_CONNECTIONS", "8").first().copied().unwrap_or(8);
    let levels = env_list("BENCH_LEVELS", "1,8,64");
    let rounds = env_list("BENCH_ROUNDS", "1").first().copied().unwrap_or(1).max(1);
    let mut results: Vec<(String, String, Measured)> = Vec::new();
    // One at a time, so each server has the machine to itself while measured.
    for round in 0..rounds {
        let mut list = variants(home.path(), round);
        if round > 0 {
            list.remove(0); // moto_server: once
        }
        if round % 2 == 1 {
            list.reverse();
        }
        for variant in list {
            measure(&client, home.path(), &variant, describe_clients, &levels, &mut results).await;
        }
    }
    print_table(&results);
}

/// Starts `variant`, seeds it, measures DescribeImages and CreateRepository at each level, and stops it.
async fn measure(
    client: &HttpClient,
    home: &Path,
    variant: &Variant,
    describe_clients: usize,
    levels: &[usize],
    results: &mut Vec<(String, String, Measured)>,
) {
    let mut server = match &variant.binary {
        None => start_moto(),
        Some(binary) => {
            let extra: Vec<&str> = variant.extra.iter().map(String::as_str).collect();
            start_mock(&variant.name, binary, &extra, home)
        }
    };
    eprintln!("{}: seeding {IMAGES} images at {}", server.name, server.url);
    seed(client, &server.url, variant.binary.is_some()).await;
    if variant.evaluated {
        evaluate_as_user(client, &mut server).await;
    }
    let describe = load(client, &server, "DescribeImages", describe_clients, describe_images).await;
    eprintln!("{}: DescribeImages {:.1}/s{}", server.name, describe.rate, cost(&describe));
    results.push((
        server.name.clone(),
        format!("DescribeImages (1,000 images, one page), {describe_clients} clients"),
        describe,
    ));
    for &level in levels {
        LEVEL_BASE.store(level as u64 * 1_000_000, Ordering::Relaxed);
        let create = load(client, &server, "CreateRepository", level, create_repository_level).await;
        eprintln!("{}: CreateRepository at {level} clients {:.1}/s{}", server.name, create.rate, cost(&create));
        results.push((server.name.clone(), format!("CreateRepository, {level} clients"), create));
    }
}

/// `, N µs CPU, M context switches per request` (empty without `/proc`).
fn cost(measured: &Measured) -> String {
    match (measured.cpu_us, measured.switches) {
        (Some(cpu), Some(switches)) => {
            format!(", server {cpu:.0} µs CPU and {switches:.2} context switches per request")
        }
        _ => String::new(),
    }
}

/// The median of `values` (`None` when empty).
fn median(mut values: Vec<f64>) -> Option<f64> {
    values.sort_by(f64::total_cmp);
    values.get(values.len() / 2).copied()
}

/// One row per server and call, in the order first measured: the medians of its rounds (the rate
/// of every round too, when there were several), and the rate's ratio to moto_server's.
fn print_table(results: &[(String, String, Measured)]) {
    let moto = |op: &str| results.iter().find(|(s, o, _)| s == "moto_server" && o == op).map_or(f64::NAN, |r| r.2.rate);
    let several = results.iter().any(|(s, o, _)| results.iter().filter(|(s2, o2, _)| s2 == s && o2 == o).count() > 1);
    println!(
        "\n| server | call | requests/s | × moto_server | server CPU µs/request | context switches/request |{}",
        if several { " rounds (requests/s) |" } else { "" }
    );
    println!("|---|---|---:|---:|---:|---:|{}", if several { "---|" } else { "" });
    let mut shown: Vec<(&str, &str)> = Vec::new();
    for (server, op, _) in results {
        if shown.contains(&(server.as_str(), op.as_str())) {
            continue;
        }
        shown.push((server, op));
        let rounds: Vec<Measured> = results.iter().filter(|(s, o, _)| s == server && o == op).map(|r| r.2).collect();
        let each = rounds.iter().map(|m| format!("{:.0}", m.rate)).collect::<Vec<_>>().join(" / ");
        let rate = median(rounds.iter().map(|m| m.rate).collect()).unwrap_or(f64::NAN);
        let show = |v: Option<f64>, digits: usize| v.map_or("-".to_owned(), |v| format!("{v:.digits$}"));
        let cpu = show(median(rounds.iter().filter_map(|m| m.cpu_us).collect()), 0);
        let switches = show(median(rounds.iter().filter_map(|m| m.switches).collect()), 2);
        let each = if several { format!(" {each} |") } else { String::new() };
        println!("| {server} | {op} | {rate:.1} | {:.1}× | {cpu} | {switches} |{each}", rate / moto(op));
    }
}
