//! The built-in docker's registry client: Docker Registry HTTP API v2. On the mock, any registry host
//! (the guide's `ACCOUNT.dkr.ecr.REGION.amazonaws.com`, or `127.0.0.1:PORT`) is reached over plain
//! HTTP at the mock's address with the host kept in `Host`, so the mock answers as that registry; on
//! real AWS each host is reached at itself over HTTPS (rustls, the system's roots). oci-client was evaluated first: it cannot send one host to another address, nor report
//! per-layer outcomes (`Layer already exists`, `Pushed`) that docker prints, hence this small client.

use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper::{Method, Request, StatusCode};
use hyper_rustls::HttpsConnector;
use hyper_util::client::legacy::Client;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::rt::TokioExecutor;
use mock_registry::types::Digest;

/// What went wrong, worded as docker words it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RegistryError {
    /// The registry wants credentials and there are none: `no basic auth credentials`.
    NoCredentials,
    /// A registry error code, printed `name unknown: ...` (code lowercased, `_` as space).
    Coded { code: String, message: String },
    /// Any other refusal.
    Status(StatusCode),
    /// The mock could not be reached.
    Unreachable(String),
}

impl std::fmt::Display for RegistryError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::NoCredentials => f.write_str("no basic auth credentials"),
            Self::Coded { code, message } => write!(f, "{}: {message}", code.to_lowercase().replace('_', " ")),
            Self::Status(status) => write!(f, "received unexpected HTTP status: {status}"),
            Self::Unreachable(detail) => f.write_str(detail),
        }
    }
}

/// A registry and repository as the user named them, and the credentials docker holds for it.
pub struct Target<'a> {
    pub host: &'a str,
    pub repository: &'a str,
    /// `Basic ...` from the docker config, if logged in.
    pub auth: Option<&'a str>,
}

pub struct RegistryClient {
    http: Client<HttpsConnector<HttpConnector>, Full<Bytes>>,
    /// `http://127.0.0.1:PORT`: where every registry host is reached; `None`: each host at
    /// `https://HOST`.
    endpoint: Option<String>,
}

pub struct Reply {
    pub status: StatusCode,
    pub headers: hyper::HeaderMap,
    pub body: Bytes,
}

impl RegistryClient {
    /// Every registry host reached at `endpoint` (the mock, or a stand-in for tests).
    pub fn new(endpoint: &str) -> Self {
        Self { http: https_client(), endpoint: Some(endpoint.trim_end_matches('/').to_owned()) }
    }

    /// Each registry host reached at itself, over HTTPS (real ECR).
    pub fn direct() -> Self {
        Self { http: https_client(), endpoint: None }
    }

    /// The URL of `path` (a path, or an absolute `Location` a registry returned) on `host`.
    fn url(&self, host: &str, path: &str) -> String {
        let path = match path.split_once("://") {
            Some((_, rest)) => rest.find('/').map_or("/", |i| &rest[i..]),
            None => path,
        };
        match &self.endpoint {
            Some(endpoint) => format!("{endpoint}{path}"),
            None => format!("https://{host}{path}"),
        }
    }

    async fn send(
        &self,
        target: &Target<'_>,
        method: Method,
        path: &str,
        headers: &[(&str, &str)],
        body: Bytes,
    ) -> Result<Reply, RegistryError> {
        let url = self.url(target.host, path);
        let mut request = Request::builder().method(method).uri(&url).header("host", target.host);
        if let Some(auth) = target.auth {
            request = request.header("authorization", auth);
        }
        for (name, value) in headers {
            request = request.header(*name, *value);
        }
        let request = request.body(Full::new(body)).map_err(|e| RegistryError::Unreachable(e.to_string()))?;
        let response = self.http.request(request).await.map_err(|e| {
            let detail = std::error::Error::source(&e).map(|s| format!(": {s}")).unwrap_or_default();
            match &self.endpoint {
                Some(endpoint) => {
                    RegistryError::Unreachable(format!("cannot reach the lab's registry at {endpoint}: {e}{detail}"))
                }
                None => RegistryError::Unreachable(format!("Get \"{url}\": {e}{detail}")),
            }
        })?;
        let (parts, body) = response.into_parts();
        let body = body.collect().await.map_err(|e| RegistryError::Unreachable(e.to_string()))?.to_bytes();
        Ok(Reply { status: parts.status, headers: parts.headers, body })
    }

    /// A request that must succeed with one of `ok`; registry errors become [`RegistryError`].
    async fn expect(
        &self,
        target: &Target<'_>,
        method: Method,
        path: &str,
        headers: &[(&str, &str)],
        body: Bytes,
        ok: &[StatusCode],
    ) -> Result<Reply, RegistryError> {
        let reply = self.send(target, method, path, headers, body).await?;
        if ok.contains(&reply.status) {
            return Ok(reply);
        }
        Err(error_of(&reply))
    }

    /// `GET /v2/`: what docker does first; without credentials a 401 means `no basic auth credentials`.
    pub async fn ping(&self, target: &Target<'_>) -> Result<(), RegistryError> {
        self.expect(target, Method::GET, "/v2/", &[], Bytes::new(), &[StatusCode::OK]).await.map(|_| ())
    }

    pub async fn blob_exists(&self, target: &Target<'_>, digest: &Digest) -> Result<bool, RegistryError> {
        let path = format!("/v2/{}/blobs/{digest}", target.repository);
        let reply = self.send(target, Method::HEAD, &path, &[], Bytes::new()).await?;
        match reply.status {
            StatusCode::OK => Ok(true),
            // A refused check (a HEAD has no body to say why) is not an answer: docker goes on to
            // upload, and the upload's refusal says why (`denied: User: ... ecr:InitiateLayerUpload`).
            StatusCode::NOT_FOUND | StatusCode::FORBIDDEN => Ok(false),
            _ => Err(error_of(&reply)),
        }
    }

    /// Starts an upload (where a missing repository is first noticed), then sends the bytes.
    pub async fn upload_blob(&self, target: &Target<'_>, digest: &Digest, bytes: Vec<u8>) -> Result<(), RegistryError> {
        let start = format!("/v2/{}/blobs/uploads/", target.repository);
        let reply = self.expect(target, Method::POST, &start, &[], Bytes::new(), &[StatusCode::ACCEPTED]).await?;
        let location = reply.headers.get("location").and_then(|v| v.to_str().ok()).unwrap_or_default().to_owned();
        let separator = if location.contains('?') { '&' } else { '?' };
        let finish = format!("{location}{separator}digest={}", digest.as_str().replace(':', "%3A"));
        self.expect(
            target,
            Method::PUT,
            &finish,
            &[("content-type", "application/octet-stream")],
            Bytes::from(bytes),
            &[StatusCode::CREATED],
        )
        .await
        .map(|_| ())
    }

    pub async fn put_manifest(
        &self,
        target: &Target<'_>,
        reference: &str,
        media_type: &str,
        manifest: Vec<u8>,
    ) -> Result<(), RegistryError> {
        let path = format!("/v2/{}/manifests/{reference}", target.repository);
        self.expect(
            target,
            Method::PUT,
            &path,
            &[("content-type", media_type)],
            Bytes::from(manifest),
            &[StatusCode::CREATED],
        )
        .await
        .map(|_| ())
    }

    /// The manifest a tag or digest names: bytes, media type.
    pub async fn get_manifest(&self, target: &Target<'_>, reference: &str) -> Result<(Vec<u8>, String), RegistryError> {
        let path = format!("/v2/{}/manifests/{reference}", target.repository);
        let accept = "application/vnd.docker.distribution.manifest.v2+json, application/vnd.oci.image.manifest.v1+json, \
                      application/vnd.docker.distribution.manifest.list.v2+json, application/vnd.oci.image.index.v1+json";
        let reply =
            self.expect(target, Method::GET, &path, &[("accept", accept)], Bytes::new(), &[StatusCode::OK]).await?;
        let media_type = reply.headers.get("content-type").and_then(|v| v.to_str().ok()).unwrap_or_default().to_owned();
        Ok((reply.body.to_vec(), media_type))
    }

    pub async fn get_blob(&self, target: &Target<'_>, digest: &Digest) -> Result<Vec<u8>, RegistryError> {
        let path = format!("/v2/{}/blobs/{digest}", target.repository);
        let reply = self.expect(target, Method::GET, &path, &[], Bytes::new(), &[StatusCode::OK]).await?;
        Ok(reply.body.to_vec())
    }
}

/// Plain HTTP for the mock, HTTPS (rustls with ring) for AWS and a class server over HTTPS: the
/// system's root certificates and the joined class's CA ([`crate::trust`]).
pub(crate) fn https_client() -> Client<HttpsConnector<HttpConnector>, Full<Bytes>> {
    // (The connector's connect timeout: a registry that does not answer fails the command, not hangs.)
    Client::builder(TokioExecutor::new()).build(crate::trust::https_connector())
}

fn error_of(reply: &Reply) -> RegistryError {
    if reply.status == StatusCode::UNAUTHORIZED {
        return RegistryError::NoCredentials;
    }
    let parsed: Option<(String, String)> =
        serde_json::from_slice::<serde_json::Value>(&reply.body).ok().and_then(|v| {
            let first = &v["errors"][0];
            Some((first["code"].as_str()?.to_owned(), first["message"].as_str().unwrap_or_default().to_owned()))
        });
    match parsed {
        Some((code, message)) => RegistryError::Coded { code, message },
        None => RegistryError::Status(reply.status),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls_keep_the_registry_host_or_go_to_it_over_https() {
        let host = "123456789012.dkr.ecr.eu-west-1.amazonaws.com";
        let mock = RegistryClient::new("http://127.0.0.1:5000/");
        assert_eq!(mock.url(host, "/v2/"), "http://127.0.0.1:5000/v2/");
        let direct = RegistryClient::direct();
        assert_eq!(direct.url(host, "/v2/test/blobs/uploads/"), format!("https://{host}/v2/test/blobs/uploads/"));
        // An absolute upload Location keeps its path and stays on the registry (and its credentials).
        let location = format!("https://{host}/v2/test/blobs/uploads/abc?x=1");
        assert_eq!(direct.url(host, &location), format!("https://{host}/v2/test/blobs/uploads/abc?x=1"));
        assert_eq!(mock.url(host, &location), "http://127.0.0.1:5000/v2/test/blobs/uploads/abc?x=1");
    }
}
