//! Shared test plumbing: a mock in this process, or `ecr-lab serve` as a child process (killed by PID).

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};

use mock_registry::Lab;
use mock_registry::defaults::{DEFAULT_ACCESS_KEY_ID, DEFAULT_SECRET_ACCESS_KEY};

/// A mock served from this test process on 127.0.0.1:0; stops when dropped.
pub struct InProcess {
    pub url: String,
    pub lab: Lab,
    _running: mock_registry::Running,
}

impl InProcess {
    pub async fn start() -> Self {
        Self::start_with(Lab::ephemeral().unwrap()).await
    }

    pub async fn start_with(lab: Lab) -> Self {
        let running = mock_registry::spawn(lab.clone()).await.unwrap();
        Self { url: running.url.clone(), lab, _running: running }
    }
}

/// `ecr-lab serve` as a child process with its own data directory; killed (by PID) when dropped.
pub struct Served {
    pub url: String,
    pub child: Child,
    pub home: PathBuf,
}

impl Served {
    pub fn start(home: &Path, extra: &[&str]) -> Self {
        let mut child = Command::new(env!("CARGO_BIN_EXE_ecr-lab"))
            .args(["serve", "--addr", "127.0.0.1:0"])
            .args(extra)
            .env("ECR_LAB_HOME", home)
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .expect("start ecr-lab serve");
        let mut first = String::new();
        BufReader::new(child.stdout.as_mut().unwrap()).read_line(&mut first).unwrap();
        let url = first
            .trim()
            .strip_prefix("ecr-lab mock listening on ")
            .unwrap_or_else(|| panic!("unexpected first line: {first:?}"))
            .to_owned();
        Self { url, child, home: home.to_path_buf() }
    }

    /// `kill -9`: no chance to flush or clean up.
    pub fn kill_hard(mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Drop for Served {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// An aws-sdk-ecr client pointed at `url` with the lab's default key (or another).
/// Every repository's name (all pages), sorted.
pub async fn repository_names(ecr: &aws_sdk_ecr::Client) -> Vec<String> {
    let pages = ecr.describe_repositories().into_paginator().items().send().collect::<Vec<_>>().await;
    let mut names: Vec<String> = pages.into_iter().map(|r| r.unwrap().repository_name().unwrap().to_owned()).collect();
    names.sort();
    names
}

pub async fn ecr_client(url: &str, region: &str) -> aws_sdk_ecr::Client {
    ecr_client_with(url, region, DEFAULT_ACCESS_KEY_ID, DEFAULT_SECRET_ACCESS_KEY, None).await
}

pub async fn ecr_client_with(
    url: &str,
    region: &str,
    key: &str,
    secret: &str,
    session_token: Option<String>,
) -> aws_sdk_ecr::Client {
    use aws_smithy_http_client::tls::{Provider, rustls_provider::CryptoMode};
    let http = aws_smithy_http_client::Builder::new().tls_provider(Provider::Rustls(CryptoMode::Ring)).build_https();
    let credentials = aws_credential_types::Credentials::new(key, secret, session_token, None, "ecr-lab-tests");
    let config = aws_config::defaults(aws_config::BehaviorVersion::latest())
        .http_client(http)
        .endpoint_url(url)
        .region(aws_config::Region::new(region.to_owned()))
        .credentials_provider(credentials)
        .retry_config(aws_config::retry::RetryConfig::disabled())
        // A server killed mid-call must fail the call, never hang the test.
        .timeout_config(
            aws_config::timeout::TimeoutConfig::builder().operation_timeout(std::time::Duration::from_secs(30)).build(),
        )
        .load()
        .await;
    aws_sdk_ecr::Client::new(&config)
}

/// The real aws CLI, when installed. Outside CI a missing CLI skips the test loudly; in CI it fails.
pub fn aws_cli_available() -> bool {
    require_tool("the aws CLI (pip install awscli; scripts/test installs it)", || {
        Command::new("aws").arg("--version").output().is_ok_and(|o| o.status.success())
    })
}

/// Debian's aws CLI v2 (the `awscli` package, 2.9), run by its full path beside PyPI's v1 `aws`.
pub const AWS_CLI_V2: &str = "/usr/bin/aws";

pub fn aws_cli_v2_available() -> bool {
    require_tool("the aws CLI v2 at /usr/bin/aws (apt-get install awscli; scripts/test installs it)", || {
        Command::new(AWS_CLI_V2)
            .arg("--version")
            .output()
            .is_ok_and(|o| String::from_utf8_lossy(&o.stdout).starts_with("aws-cli/2."))
    })
}

/// Whether a real tool is there. Where CI or scripts/test require real tools, a missing one fails
/// the test; elsewhere it is skipped with a loud message.
pub fn require_tool(what: &str, present: impl FnOnce() -> bool) -> bool {
    let found = present();
    if !found {
        assert!(
            std::env::var_os("CI").is_none() && std::env::var_os("ECR_LAB_REQUIRE_REAL_TOOLS").is_none(),
            "{what} is required here (CI or scripts/test), but it is missing"
        );
        eprintln!(
            "\n\x1b[1;33m*** SKIPPED: {what} is missing, so this real-tool test did not run. \
             Run scripts/test (it installs and starts the real tools) to run every test. ***\x1b[0m\n"
        );
    }
    found
}

/// What a command printed and returned.
pub struct Ran {
    pub stdout: String,
    pub stderr: String,
    pub code: i32,
}

impl Ran {
    pub fn json(&self) -> serde_json::Value {
        serde_json::from_str(&self.stdout).unwrap_or_else(|e| panic!("stdout is not JSON ({e}): {}", self.stdout))
    }
}

/// Runs `bash -c script` with a clean AWS environment (no profiles, no user config).
pub fn bash(script: &str, home: &Path) -> Ran {
    let output = Command::new("bash")
        .arg("-c")
        .arg(script)
        .env("ECR_LAB_HOME", home)
        .env("PATH", path_with_binary())
        .env("AWS_CONFIG_FILE", home.join("no-aws-config"))
        .env("AWS_SHARED_CREDENTIALS_FILE", home.join("no-aws-credentials"))
        .env_remove("AWS_PROFILE")
        .env_remove("AWS_ENDPOINT_URL")
        .env_remove("AWS_ACCESS_KEY_ID")
        .env_remove("AWS_SECRET_ACCESS_KEY")
        .env_remove("AWS_SESSION_TOKEN")
        .env_remove("AWS_DEFAULT_REGION")
        .env_remove("AWS_REGION")
        .output()
        .expect("run bash");
    Ran {
        stdout: String::from_utf8_lossy(&output.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&output.stderr).into_owned(),
        code: output.status.code().unwrap_or(-1),
    }
}

/// PATH with the ecr-lab binary under test first.
fn path_with_binary() -> String {
    let bin = Path::new(env!("CARGO_BIN_EXE_ecr-lab")).parent().unwrap().display().to_string();
    format!("{bin}:{}", std::env::var("PATH").unwrap_or_default())
}

/// A small image: a unique config blob (by `n`), one layer of `layer_size` bytes, and the Docker
/// schema 2 manifest naming both.
pub struct Sample {
    pub manifest: String,
    pub blobs: Vec<Vec<u8>>,
}

pub fn sample(n: usize, layer_size: usize) -> Sample {
    let config =
        format!(r#"{{"architecture":"amd64","os":"linux","config":{{}},"rootfs":{{"type":"layers"}},"n":{n}}}"#)
            .into_bytes();
    let layer: Vec<u8> = (0..layer_size).map(|i| (i % 251) as u8).collect();
    let manifest = format!(
        concat!(
            r#"{{"schemaVersion":2,"mediaType":"application/vnd.docker.distribution.manifest.v2+json","#,
            r#""config":{{"mediaType":"application/vnd.docker.container.image.v1+json","size":{},"digest":"{}"}},"#,
            r#""layers":[{{"mediaType":"application/vnd.docker.image.rootfs.diff.tar.gzip","size":{},"digest":"{}"}}]}}"#
        ),
        config.len(),
        digest_of(&config),
        layer.len(),
        digest_of(&layer)
    );
    Sample { manifest, blobs: vec![config, layer] }
}

pub fn digest_of(bytes: &[u8]) -> String {
    mock_registry::types::Digest::sha256_of(bytes).to_string()
}

/// Uploads the blobs a repository lacks through ECR's layer API (what the ECR proxy does).
pub async fn upload_blobs(ecr: &aws_sdk_ecr::Client, repository: &str, blobs: &[Vec<u8>]) -> Result<(), String> {
    let fail = |e: &dyn std::fmt::Debug| format!("{e:?}");
    let digests: Vec<String> = blobs.iter().map(|b| digest_of(b)).collect();
    let check = ecr
        .batch_check_layer_availability()
        .repository_name(repository)
        .set_layer_digests(Some(digests.clone()))
        .send()
        .await
        .map_err(|e| fail(&e))?;
    let available: Vec<&str> = check.layers().iter().filter_map(|l| l.layer_digest()).collect();
    for (blob, digest) in blobs.iter().zip(&digests) {
        if available.contains(&digest.as_str()) {
            continue;
        }
        let upload = ecr.initiate_layer_upload().repository_name(repository).send().await.map_err(|e| fail(&e))?;
        let id = upload.upload_id().unwrap();
        ecr.upload_layer_part()
            .repository_name(repository)
            .upload_id(id)
            .part_first_byte(0)
            .part_last_byte(blob.len() as i64 - 1)
            .layer_part_blob(aws_sdk_ecr::primitives::Blob::new(blob.clone()))
            .send()
            .await
            .map_err(|e| fail(&e))?;
        ecr.complete_layer_upload()
            .repository_name(repository)
            .upload_id(id)
            .layer_digests(digest)
            .send()
            .await
            .map_err(|e| fail(&e))?;
    }
    Ok(())
}

/// Uploads a sample's blobs, then puts its manifest with `tag`.
pub async fn put_sample(
    ecr: &aws_sdk_ecr::Client,
    repository: &str,
    sample: &Sample,
    tag: &str,
) -> Result<
    aws_sdk_ecr::operation::put_image::PutImageOutput,
    aws_sdk_ecr::error::SdkError<aws_sdk_ecr::operation::put_image::PutImageError>,
> {
    upload_blobs(ecr, repository, &sample.blobs).await.expect("the sample's blobs upload");
    ecr.put_image().repository_name(repository).image_manifest(&sample.manifest).image_tag(tag).send().await
}

/// The aws CLI v1 error line for a service error, as printed on stderr (after a blank line).
pub fn cli_error(code: &str, operation: &str, message: &str) -> String {
    format!("\nAn error occurred ({code}) when calling the {operation} operation: {message}\n")
}

/// Starts `node tests/browser/SCRIPT URL ARTIFACTS` with Debian's chromium, stdin and stdout piped
/// (the script asks the test for server-side steps, line by line), killed when dropped. `None`, said
/// out loud (or failing under ECR_LAB_REQUIRE_REAL_TOOLS), when chromium or the browser modules are missing.
pub fn start_browser_script(script: &str, url: &str, artifacts: &Path) -> Option<tokio::process::Child> {
    let workspace = Path::new(env!("CARGO_MANIFEST_DIR"));
    let chromium =
        std::env::var_os("CHROMIUM").map(PathBuf::from).unwrap_or_else(|| PathBuf::from("/usr/bin/chromium"));
    let modules = workspace.join("tests/browser/node_modules/playwright-core");
    if !require_tool("Debian's chromium (apt-get install chromium; scripts/test installs it)", || chromium.exists())
        || !require_tool("node with tests/browser's modules (cd tests/browser && npm ci; scripts/test runs it)", || {
            modules.exists() && Command::new("node").arg("--version").output().is_ok()
        })
    {
        return None;
    }
    let _ = std::fs::remove_dir_all(artifacts);
    let node = tokio::process::Command::new("node")
        .arg(workspace.join("tests/browser").join(script))
        .arg(url)
        .arg(artifacts)
        .env("CHROMIUM", chromium)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .kill_on_drop(true)
        .spawn()
        .expect("start node");
    Some(node)
}

/// Whether a Docker engine answers (`DOCKER_HOST`, started by scripts/test); said out loud when not.
pub fn docker_available() -> bool {
    require_tool("a Docker engine (DOCKER_HOST, started by scripts/test)", || {
        Command::new("docker")
            .args(["version", "--format", "{{.Server.Version}}"])
            .output()
            .is_ok_and(|o| o.status.success())
    })
}
