//! A small client for the mock's `/_lab/` control API: loopback HTTP, or from another machine with
//! the instructor token `ecr-lab serve` prints (in `ECR_LAB_INSTRUCTOR_TOKEN`, or recorded by
//! `ecr-lab class serve` for its own URLs); a joined student's calls go to `/class/api/me/...`.

use anyhow::Result;
use http_body_util::{BodyExt, Full};

/// How a request to the server proves who sends it.
pub enum Auth {
    /// Nothing (a student's join).
    None,
    /// The instructor token: `ECR_LAB_INSTRUCTOR_TOKEN`, else the one `ecr-lab class serve` recorded
    /// for this server on this machine, else none (loopback outside class mode needs none).
    Instructor,
    /// A joined student's secret (`/class/api/me/...`).
    Student(String),
}

async fn call(method: hyper::Method, url: String, body: Option<serde_json::Value>) -> Result<serde_json::Value> {
    call_as(method, url, body, Auth::Instructor).await
}

/// One JSON request; a refusal becomes an error carrying the server's own words and status.
pub async fn call_as(
    method: hyper::Method,
    url: String,
    body: Option<serde_json::Value>,
    auth: Auth,
) -> Result<serde_json::Value> {
    let client = crate::registry_client::https_client();
    let body = body.map(|b| b.to_string()).unwrap_or_default();
    let mut request = hyper::Request::builder().method(method).uri(&url).header("content-type", "application/json");
    let token = match auth {
        Auth::None => None,
        Auth::Instructor => crate::paths::instructor_token(&url),
        Auth::Student(secret) => Some(secret),
    };
    if let Some(token) = token {
        request = request.header("authorization", format!("Bearer {}", token.trim()));
    }
    let request = request.body(Full::new(bytes::Bytes::from(body)))?;
    let unreachable =
        || format!("cannot reach the mock at {url}; is `ecr-lab serve` (or `ecr-lab class serve`) running?");
    // An address nobody answers on (a class server's laptop gone from the LAN) must not hang the lab.
    let response = tokio::time::timeout(std::time::Duration::from_secs(30), client.request(request))
        .await
        .map_err(|_| anyhow::anyhow!("no answer in 30 s").context(unreachable()))?
        .map_err(|e| untrusted(anyhow::Error::new(e).context(unreachable())))?;
    let status = response.status();
    let retry_after = response.headers().get("retry-after").and_then(|v| v.to_str().ok()).map(str::to_owned);
    let bytes = response.into_body().collect().await?.to_bytes();
    let value: serde_json::Value = serde_json::from_slice(&bytes).unwrap_or(serde_json::Value::Null);
    if !status.is_success() {
        let message = value.get("error").and_then(|e| e.as_str()).unwrap_or("no details").to_owned();
        let retry_after = retry_after.and_then(|s| s.trim().parse().ok());
        return Err(Refused { status, message, retry_after }.into());
    }
    Ok(value)
}

/// A certificate this machine does not trust (a class over HTTPS): what to do about it.
fn untrusted(error: anyhow::Error) -> anyhow::Error {
    if !format!("{error:#}").contains("certificate") {
        return error;
    }
    error.context(
        "the server's HTTPS certificate is not signed by a CA this machine trusts: a student joins with \
         `ecr-lab join https://IP:PORT --name NAME --ca sha256:…` (the fingerprint on the instructor's screen); \
         the instructor's own machine trusts the CA `ecr-lab class serve --tls` recorded there",
    )
}

/// The server answered with an error status: its own words, and when to try again if it said.
#[derive(Debug)]
pub struct Refused {
    pub status: hyper::StatusCode,
    pub message: String,
    /// `Retry-After`, seconds.
    pub retry_after: Option<u64>,
}

impl std::fmt::Display for Refused {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let retry = self.retry_after.map(|s| format!("; try again in {s} s")).unwrap_or_default();
        write!(f, "the server refused: {} (HTTP {}{retry})", self.message, self.status)
    }
}

impl std::error::Error for Refused {}

/// The joined student's `/class/api/me` URL for `path`, when `endpoint` is their class server.
fn me(endpoint: &str, path: &str) -> Option<(String, Auth)> {
    crate::class::student_at(endpoint)
        .map(|j| (format!("{endpoint}/class/api/me{path}"), Auth::Student(j.student_secret.clone())))
}

/// Epoch seconds of a clock answer: `/_lab/clock`'s `now`, or a student clock's `seconds`.
fn seconds_of(clock: &serde_json::Value) -> f64 {
    clock.get("seconds").and_then(|n| n.as_f64()).or_else(|| clock.get("now").and_then(|n| n.as_f64())).unwrap_or(0.0)
}

fn describe(clock: &serde_json::Value) -> String {
    let now = seconds_of(clock);
    let offset = clock
        .get("offsetSeconds")
        .and_then(|n| n.as_f64())
        .unwrap_or_else(|| (now - mock_registry::clock::unix_millis() as f64 / 1000.0).round().max(0.0))
        as i64;
    format!("{} UTC ({}s ahead of real time)", mock_registry::clock::format_amz_date(now as i64), offset)
}

/// Moves the lab clock (a joined student: their own account's clock).
pub async fn advance_clock(endpoint: &str, duration: &str) -> Result<String> {
    let value = match me(endpoint, "/clock/advance") {
        Some((url, auth)) => {
            call_as(hyper::Method::POST, url, Some(serde_json::json!({ "duration": duration })), auth).await?
        }
        None => {
            let url = format!("{endpoint}/_lab/clock/advance");
            call(hyper::Method::POST, url, Some(serde_json::json!({ "by": duration }))).await?
        }
    };
    Ok(describe(&value))
}

async fn clock_value(endpoint: &str) -> Result<serde_json::Value> {
    match me(endpoint, "/clock") {
        Some((url, auth)) => call_as(hyper::Method::GET, url, None, auth).await,
        None => call(hyper::Method::GET, format!("{endpoint}/_lab/clock"), None).await,
    }
}

pub async fn clock(endpoint: &str) -> Result<String> {
    Ok(describe(&clock_value(endpoint).await?))
}

/// The mock's request log after sequence number `since` (a joined student: their account's only).
pub async fn requests(endpoint: &str, since: u64) -> Result<Vec<serde_json::Value>> {
    let value = match me(endpoint, &format!("/requests?since={since}")) {
        Some((url, auth)) => call_as(hyper::Method::GET, url, None, auth).await?,
        None => call(hyper::Method::GET, format!("{endpoint}/_lab/requests?since={since}"), None).await?,
    };
    Ok(value.as_array().cloned().unwrap_or_default())
}

/// The lab clock (a joined student's account clock), epoch seconds.
pub async fn clock_seconds(endpoint: &str) -> Result<f64> {
    Ok(seconds_of(&clock_value(endpoint).await?))
}

/// The mock's keys, one line each: id, account, user ARN, and `revoked` when it is (no secrets).
pub async fn keys(endpoint: &str) -> Result<Vec<String>> {
    let value = call(hyper::Method::GET, format!("{endpoint}/_lab/keys"), None).await?;
    let text =
        |key: &serde_json::Value, name: &str| key.get(name).and_then(|v| v.as_str()).unwrap_or_default().to_owned();
    Ok(value
        .as_array()
        .map(|keys| keys.as_slice())
        .unwrap_or_default()
        .iter()
        .map(|key| {
            let revoked = if key.get("revoked").and_then(|r| r.as_bool()) == Some(true) { "  revoked" } else { "" };
            format!("{}  {}  {}{revoked}", text(key, "accessKeyId"), text(key, "accountId"), text(key, "arn"))
        })
        .collect())
}

/// `POST /_lab/keys/{id}/{action}` (`revoke` or `restore`), with the empty JSON body it takes.
pub async fn key_action(endpoint: &str, id: &str, action: &str) -> Result<()> {
    let id: String = id.chars().filter(|c| c.is_ascii_alphanumeric()).collect();
    call(hyper::Method::POST, format!("{endpoint}/_lab/keys/{id}/{action}"), Some(serde_json::json!({}))).await?;
    Ok(())
}

/// `/_lab/iam/PATH` (users and their policies): the JSON answer, or the mock's refusal (IAM's code and text).
/// `POST /_lab/oidc/PATH` (the lab's OIDC issuer).
pub async fn oidc(endpoint: &str, path: &str, body: serde_json::Value) -> Result<serde_json::Value> {
    call(hyper::Method::POST, format!("{endpoint}/_lab/oidc/{path}"), Some(body)).await
}

pub async fn iam(
    endpoint: &str,
    method: &str,
    path: &str,
    body: Option<serde_json::Value>,
) -> Result<serde_json::Value> {
    let method = if method == "GET" { hyper::Method::GET } else { hyper::Method::POST };
    call(method, format!("{endpoint}/_lab/iam/{path}"), body).await
}

/// A page of the mock's web console (`path` from `/console/`), fetched as a browser on this
/// machine would: its status and HTML. `verify` uses it to replay a lesson's console step.
pub async fn console_page(endpoint: &str, path: &str) -> Result<(u16, String)> {
    let url = format!("{}{path}", endpoint.trim_end_matches('/'));
    let request = hyper::Request::get(&url).header("accept", "text/html").body(Full::new(bytes::Bytes::new()))?;
    let response = tokio::time::timeout(
        std::time::Duration::from_secs(30),
        crate::registry_client::https_client().request(request),
    )
    .await
    .map_err(|_| anyhow::anyhow!("the console at {url} gave no answer in 30 s"))?
    .map_err(|e| anyhow::Error::new(e).context(format!("cannot reach the console at {url}")))?;
    let status = response.status().as_u16();
    let bytes = response.into_body().collect().await?.to_bytes();
    Ok((status, String::from_utf8_lossy(&bytes).into_owned()))
}
