//! A small client for the mock's `/_lab/` control API: loopback HTTP, or from another machine with
//! the instructor token `ecr-lab serve` prints (in `ECR_LAB_INSTRUCTOR_TOKEN`).

use anyhow::{Context, Result, bail};
use http_body_util::{BodyExt, Full};
use hyper_util::client::legacy::Client;
use hyper_util::rt::TokioExecutor;

async fn call(method: hyper::Method, url: String, body: Option<serde_json::Value>) -> Result<serde_json::Value> {
    let client = Client::builder(TokioExecutor::new()).build_http::<Full<bytes::Bytes>>();
    let body = body.map(|b| b.to_string()).unwrap_or_default();
    let mut request = hyper::Request::builder().method(method).uri(&url).header("content-type", "application/json");
    if let Ok(token) = std::env::var("ECR_LAB_INSTRUCTOR_TOKEN") {
        request = request.header("authorization", format!("Bearer {}", token.trim()));
    }
    let request = request.body(Full::new(bytes::Bytes::from(body)))?;
    let response = client
        .request(request)
        .await
        .with_context(|| format!("cannot reach the mock at {url}; is `ecr-lab serve` running?"))?;
    let status = response.status();
    let bytes = response.into_body().collect().await?.to_bytes();
    let value: serde_json::Value = serde_json::from_slice(&bytes).unwrap_or(serde_json::Value::Null);
    if !status.is_success() {
        let message = value.get("error").and_then(|e| e.as_str()).unwrap_or("no details");
        bail!("the mock refused: {message} (HTTP {status})");
    }
    Ok(value)
}

fn describe(clock: &serde_json::Value) -> String {
    let now = clock.get("now").and_then(|n| n.as_f64()).unwrap_or(0.0) as i64;
    let offset = clock.get("offsetSeconds").and_then(|n| n.as_i64()).unwrap_or(0);
    format!("{} UTC ({}s ahead of real time)", mock_registry::clock::format_amz_date(now), offset)
}

pub async fn advance_clock(endpoint: &str, duration: &str) -> Result<String> {
    let value = call(
        hyper::Method::POST,
        format!("{endpoint}/_lab/clock/advance"),
        Some(serde_json::json!({ "by": duration })),
    )
    .await?;
    Ok(describe(&value))
}

pub async fn clock(endpoint: &str) -> Result<String> {
    Ok(describe(&call(hyper::Method::GET, format!("{endpoint}/_lab/clock"), None).await?))
}

/// The mock's request log after sequence number `since`.
pub async fn requests(endpoint: &str, since: u64) -> Result<Vec<serde_json::Value>> {
    let value = call(hyper::Method::GET, format!("{endpoint}/_lab/requests?since={since}"), None).await?;
    Ok(value.as_array().cloned().unwrap_or_default())
}

/// The lab clock, epoch seconds.
pub async fn clock_seconds(endpoint: &str) -> Result<f64> {
    let value = call(hyper::Method::GET, format!("{endpoint}/_lab/clock"), None).await?;
    Ok(value.get("now").and_then(|n| n.as_f64()).unwrap_or(0.0))
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
pub async fn iam(
    endpoint: &str,
    method: &str,
    path: &str,
    body: Option<serde_json::Value>,
) -> Result<serde_json::Value> {
    let method = if method == "GET" { hyper::Method::GET } else { hyper::Method::POST };
    call(method, format!("{endpoint}/_lab/iam/{path}"), body).await
}
