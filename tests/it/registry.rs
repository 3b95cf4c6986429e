//! The registry (`/v2/`) over a real socket with raw HTTP: ECR's auth answers, every push path
//! (monolithic, chunked, mount), pulls with ranges, listings, referrers, one store seen from both
//! the registry and the ECR API, and bad input answered precisely with nothing stored.

use base64::Engine as _;
use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper::{Method, Request, StatusCode};
use hyper_util::client::legacy::Client;
use hyper_util::rt::TokioExecutor;

use crate::common::{InProcess, digest_of, ecr_client, put_sample, sample};

pub struct Registry {
    /// The in-process mock, when this test started one.
    mock: Option<InProcess>,
    pub url: String,
    auth: Option<String>,
    client: Client<hyper_util::client::legacy::connect::HttpConnector, Full<Bytes>>,
}

pub struct Reply {
    pub status: StatusCode,
    pub headers: hyper::HeaderMap,
    pub body: Bytes,
}

impl Reply {
    pub fn header(&self, name: &str) -> &str {
        self.headers.get(name).and_then(|v| v.to_str().ok()).unwrap_or_default()
    }
    fn json(&self) -> serde_json::Value {
        serde_json::from_slice(&self.body)
            .unwrap_or_else(|_| panic!("not JSON: {}", String::from_utf8_lossy(&self.body)))
    }
    /// `(code, message)` of the first registry error.
    fn error(&self) -> (String, String) {
        let value = self.json();
        (
            value["errors"][0]["code"].as_str().unwrap().to_owned(),
            value["errors"][0]["message"].as_str().unwrap().to_owned(),
        )
    }
}

impl Registry {
    /// A mock with repository `test`, and credentials from GetAuthorizationToken.
    async fn start() -> Self {
        let mock = InProcess::start().await;
        let mut registry = Self::connect(&mock.url).await;
        ecr_client(&mock.url, "ap-south-1").await.create_repository().repository_name("test").send().await.unwrap();
        registry.mock = Some(mock);
        registry
    }

    /// A client of the mock at `url`, logged in with a token from GetAuthorizationToken.
    pub async fn connect(url: &str) -> Self {
        let ecr = ecr_client(url, "ap-south-1").await;
        let token = ecr.get_authorization_token().send().await.unwrap();
        let auth = token.authorization_data()[0].authorization_token().unwrap().to_owned();
        Self {
            mock: None,
            url: url.to_owned(),
            auth: Some(format!("Basic {auth}")),
            client: Client::builder(TokioExecutor::new()).build_http(),
        }
    }

    fn lab(&self) -> &mock_registry::Lab {
        &self.mock.as_ref().expect("an in-process mock").lab
    }

    /// One request; `Err` when the connection fails (the server is gone).
    pub async fn try_send(
        &self,
        method: Method,
        path: &str,
        headers: &[(&str, &str)],
        body: impl Into<Bytes>,
    ) -> Result<Reply, String> {
        let mut request = Request::builder().method(method).uri(format!("{}{path}", self.url));
        if let Some(auth) = &self.auth {
            request = request.header("authorization", auth);
        }
        for (name, value) in headers {
            request = request.header(*name, *value);
        }
        // A server killed mid-request must fail the request, never hang the test.
        let exchange = async {
            let response =
                self.client.request(request.body(Full::new(body.into())).unwrap()).await.map_err(|e| e.to_string())?;
            let (parts, body) = response.into_parts();
            let body = body.collect().await.map_err(|e| e.to_string())?.to_bytes();
            Ok(Reply { status: parts.status, headers: parts.headers, body })
        };
        tokio::time::timeout(std::time::Duration::from_secs(30), exchange)
            .await
            .unwrap_or_else(|_| Err("no answer within 30 s".to_owned()))
    }

    pub async fn send(&self, method: Method, path: &str, headers: &[(&str, &str)], body: impl Into<Bytes>) -> Reply {
        self.try_send(method, path, headers, body).await.unwrap()
    }

    pub async fn get(&self, path: &str) -> Reply {
        self.send(Method::GET, path, &[], Bytes::new()).await
    }

    /// Monolithic upload: POST ?digest= with the bytes.
    pub async fn push_blob(&self, repository: &str, blob: &[u8]) -> Reply {
        let path = format!("/v2/{repository}/blobs/uploads/?digest={}", digest_of(blob));
        self.send(Method::POST, &path, &[], blob.to_vec()).await
    }

    pub async fn push_manifest(&self, repository: &str, reference: &str, manifest: &str) -> Reply {
        let path = format!("/v2/{repository}/manifests/{reference}");
        let content_type = serde_json::from_str::<serde_json::Value>(manifest)
            .ok()
            .and_then(|v| v["mediaType"].as_str().map(str::to_owned))
            .unwrap_or_else(|| "application/vnd.oci.image.manifest.v1+json".into());
        self.send(Method::PUT, &path, &[("content-type", &content_type)], manifest.to_owned()).await
    }

    async fn set_clock_ahead(&self, seconds: i64) {
        self.lab().write(|s| s.advance_clock(seconds).map(|_| ())).await.unwrap();
    }
}

#[tokio::test]
async fn ecr_auth_answers() {
    let mut registry = Registry::start().await;
    let credentials = registry.auth.take();
    let reply = registry.get("/v2/").await;
    assert_eq!(reply.status, StatusCode::UNAUTHORIZED);
    assert_eq!(
        reply.header("www-authenticate"),
        r#"Basic realm="https://920736617090.dkr.ecr.ap-south-1.amazonaws.com/",service="ecr.amazonaws.com""#
    );
    assert_eq!(reply.header("docker-distribution-api-version"), "registry/2.0");
    assert_eq!(&reply.body[..], b"Not Authorized\n");

    // The host decides the registry: a token for ap-south-1 is not one for us-east-1.
    registry.auth = credentials.clone();
    let reply = registry.get("/v2/").await;
    assert_eq!(reply.status, StatusCode::OK);
    let reply = registry
        .send(Method::GET, "/v2/", &[("host", "920736617090.dkr.ecr.us-east-1.amazonaws.com")], Bytes::new())
        .await;
    assert_eq!(reply.status, StatusCode::BAD_REQUEST, "a token is regional");
    registry.auth = Some(format!("Basic {}", base64::engine::general_purpose::STANDARD.encode("AWS:garbage")));
    assert_eq!(registry.get("/v2/").await.status, StatusCode::BAD_REQUEST);

    registry.auth = credentials;
    registry.set_clock_ahead(13 * 3600).await;
    let reply = registry.get("/v2/test/tags/list").await;
    assert_eq!(reply.status, StatusCode::FORBIDDEN);
    assert_eq!(
        reply.error(),
        ("DENIED".into(), "Your authorization token has expired. Reauthenticate and try again.".into())
    );
}

#[tokio::test]
async fn push_paths_and_one_store_two_views() {
    let registry = Registry::start().await;
    let image = sample(1, 300_000);
    let (config, layer) = (&image.blobs[0], &image.blobs[1]);

    // Missing repository: NAME_UNKNOWN with ECR's text, on the first upload POST. Nothing is created.
    let reply = registry.push_blob("nope", config).await;
    assert_eq!(reply.status, StatusCode::NOT_FOUND);
    assert_eq!(
        reply.error(),
        (
            "NAME_UNKNOWN".into(),
            "The repository with name 'nope' does not exist in the registry with id '920736617090'".into()
        )
    );

    // Monolithic config, chunked layer (POST, PATCH with Content-Range, PUT ?digest=).
    let reply = registry.push_blob("test", config).await;
    assert_eq!(reply.status, StatusCode::CREATED);
    assert_eq!(reply.header("docker-content-digest"), digest_of(config));
    assert_eq!(reply.header("location"), format!("/v2/test/blobs/{}", digest_of(config)));

    let started = registry.send(Method::POST, "/v2/test/blobs/uploads/", &[], Bytes::new()).await;
    assert_eq!(started.status, StatusCode::ACCEPTED);
    assert_eq!(started.header("range"), "0-0");
    let location = started.header("location").to_owned();
    assert!(location.starts_with("/v2/test/blobs/uploads/"), "relative Location: {location}");
    let (first, rest) = layer.split_at(100_000);
    let reply = registry.send(Method::PATCH, &location, &[("content-range", "0-99999")], first.to_vec()).await;
    assert_eq!(reply.status, StatusCode::ACCEPTED);
    assert_eq!(reply.header("range"), "0-99999");
    // A part that does not continue the upload: 416, and the upload is still usable.
    let reply = registry.send(Method::PATCH, &location, &[("content-range", "5-10")], vec![0u8; 6]).await;
    assert_eq!(reply.status, StatusCode::RANGE_NOT_SATISFIABLE);
    assert_eq!(reply.error().0, "RANGE_INVALID");
    assert_eq!(reply.header("range"), "0-99999");
    let status = registry.get(&location).await;
    assert_eq!((status.status, status.header("range")), (StatusCode::NO_CONTENT, "0-99999"));
    let reply = registry
        .send(Method::PATCH, &location, &[("content-range", &format!("100000-{}", layer.len() - 1))], rest.to_vec())
        .await;
    assert_eq!(reply.status, StatusCode::ACCEPTED);
    let reply = registry.send(Method::PUT, &format!("{location}?digest={}", digest_of(layer)), &[], Bytes::new()).await;
    assert_eq!(reply.status, StatusCode::CREATED, "{}", String::from_utf8_lossy(&reply.body));
    assert_eq!(registry.get(&location).await.error().0, "BLOB_UPLOAD_UNKNOWN");

    let reply = registry.push_manifest("test", "v1", &image.manifest).await;
    assert_eq!(reply.status, StatusCode::CREATED, "{}", String::from_utf8_lossy(&reply.body));
    let digest = digest_of(image.manifest.as_bytes());
    assert_eq!(reply.header("docker-content-digest"), digest);

    // The API sees what the registry stored: size = compressed layer bytes, media type, pushed-at.
    let ecr = ecr_client(&registry.url, "ap-south-1").await;
    let described = ecr.describe_images().repository_name("test").send().await.unwrap();
    let detail = &described.image_details()[0];
    assert_eq!(detail.image_digest(), Some(digest.as_str()));
    assert_eq!(detail.image_size_in_bytes(), Some(300_000));
    assert_eq!(detail.image_manifest_media_type(), Some("application/vnd.docker.distribution.manifest.v2+json"));
    assert!(detail.image_pushed_at().is_some());

    // Pull: manifest by tag and by digest, blob whole and by range.
    let pulled = registry.get("/v2/test/manifests/v1").await;
    assert_eq!(pulled.status, StatusCode::OK);
    assert_eq!(&pulled.body[..], image.manifest.as_bytes());
    assert_eq!(pulled.header("content-type"), "application/vnd.docker.distribution.manifest.v2+json");
    assert_eq!(pulled.header("docker-content-digest"), digest);
    let head = registry.send(Method::HEAD, &format!("/v2/test/manifests/{digest}"), &[], Bytes::new()).await;
    assert_eq!(head.status, StatusCode::OK);
    assert_eq!(head.header("content-length"), image.manifest.len().to_string());
    let blob = registry.get(&format!("/v2/test/blobs/{}", digest_of(layer))).await;
    assert_eq!(&blob.body[..], &layer[..]);
    let part = registry
        .send(Method::GET, &format!("/v2/test/blobs/{}", digest_of(layer)), &[("range", "bytes=10-19")], Bytes::new())
        .await;
    assert_eq!(part.status, StatusCode::PARTIAL_CONTENT);
    assert_eq!(&part.body[..], &layer[10..20]);
    assert_eq!(part.header("content-range"), "bytes 10-19/300000");
    let missing = registry.get("/v2/test/manifests/v9").await;
    assert_eq!(missing.status, StatusCode::NOT_FOUND);
    assert_eq!(missing.error(), ("MANIFEST_UNKNOWN".into(), "Requested image not found".into()));

    // An image written with the API's PutImage is pullable through /v2/.
    let other = sample(2, 10);
    put_sample(&ecr, "test", &other, "v2").await.unwrap();
    let pulled = registry.get("/v2/test/manifests/v2").await;
    assert_eq!(&pulled.body[..], other.manifest.as_bytes());

    // Cross-repository mount: no bytes move.
    ecr.create_repository().repository_name("copy").send().await.unwrap();
    let mount = format!("/v2/copy/blobs/uploads/?mount={}&from=test", digest_of(layer));
    let reply = registry.send(Method::POST, &mount, &[], Bytes::new()).await;
    assert_eq!(reply.status, StatusCode::CREATED);
    let reply = registry.send(Method::HEAD, &format!("/v2/copy/blobs/{}", digest_of(layer)), &[], Bytes::new()).await;
    assert_eq!((reply.status, reply.header("content-length")), (StatusCode::OK, "300000"));

    // Tags, paginated with Link.
    for tag in ["a", "b", "c"] {
        assert_eq!(registry.push_manifest("test", tag, &image.manifest).await.status, StatusCode::CREATED);
    }
    let page = registry.get("/v2/test/tags/list?n=2").await;
    assert_eq!(page.json(), serde_json::json!({ "name": "test", "tags": ["a", "b"] }));
    assert_eq!(page.header("link"), r#"</v2/test/tags/list?n=2&last=b>; rel="next""#);
    let page = registry.get("/v2/test/tags/list?n=2&last=b").await;
    assert_eq!(page.json(), serde_json::json!({ "name": "test", "tags": ["c", "v1"] }));
    let page = registry.get("/v2/test/tags/list?n=2&last=v1").await;
    assert_eq!(page.json()["tags"], serde_json::json!(["v2"]));
    assert_eq!(page.header("link"), "");
    assert_eq!(registry.get("/v2/test/tags/list?n=zero").await.error().0, "PAGINATION_NUMBER_INVALID");

    // n=0 is an empty page (the spec); above 1000, ECR's maxResults constraint (go-containerregistry#681).
    let empty = registry.get("/v2/test/tags/list?n=0").await;
    assert_eq!((empty.status, empty.json()["tags"].clone()), (StatusCode::OK, serde_json::json!([])));
    assert_eq!(empty.header("link"), "");
    assert_eq!(registry.get("/v2/test/tags/list?n=1000").await.status, StatusCode::OK);
    for n in ["1001", "10000"] {
        // ECR answers 405 with the registry's version header: renovate recognises ECR by exactly
        // that (renovatebot/renovate, lib/modules/datasource/docker/ecr.ts, isECRMaxResultsResponse).
        let refused = registry.get(&format!("/v2/test/tags/list?n={n}")).await;
        assert_eq!(refused.status, StatusCode::METHOD_NOT_ALLOWED);
        assert_eq!(refused.header("docker-distribution-api-version"), "registry/2.0");
        assert_eq!(
            refused.error(),
            (
                "UNSUPPORTED".into(),
                "Invalid parameter at 'maxResults' failed to satisfy constraint: 'Member must have value less than or equal to 1000'".into()
            )
        );
    }
    // Without n, ECR answers 100 tags at a time with a Link to the rest.
    for n in 0..100 {
        assert_eq!(
            registry.push_manifest("test", &format!("t{n:03}"), &image.manifest).await.status,
            StatusCode::CREATED
        );
    }
    let first = registry.get("/v2/test/tags/list").await;
    let tags = first.json()["tags"].as_array().unwrap().clone();
    assert_eq!((tags.len(), tags[0].as_str(), tags[99].as_str()), (100, Some("a"), Some("t096")));
    assert_eq!(first.header("link"), r#"</v2/test/tags/list?n=100&last=t096>; rel="next""#);
    let rest = registry.get("/v2/test/tags/list?n=100&last=t096").await;
    assert_eq!(rest.json()["tags"], serde_json::json!(["t097", "t098", "t099", "v1", "v2"]));
}

#[tokio::test]
async fn immutable_tags_and_referrers() {
    let registry = Registry::start().await;
    let ecr = ecr_client(&registry.url, "ap-south-1").await;
    ecr.create_repository()
        .repository_name("frozen")
        .image_tag_mutability(aws_sdk_ecr::types::ImageTagMutability::Immutable)
        .send()
        .await
        .unwrap();
    let (one, two) = (sample(1, 10), sample(2, 10));
    for blob in one.blobs.iter().chain(&two.blobs) {
        registry.push_blob("frozen", blob).await;
    }
    assert_eq!(registry.push_manifest("frozen", "v1", &one.manifest).await.status, StatusCode::CREATED);
    let reply = registry.push_manifest("frozen", "v1", &two.manifest).await;
    assert_eq!(reply.status, StatusCode::BAD_REQUEST);
    assert_eq!(
        reply.error(),
        (
            "TAG_INVALID".into(),
            "The image tag 'v1' already exists in the 'frozen' repository and cannot be overwritten because the repository is immutable.".into()
        )
    );

    // An OCI artifact whose subject is v1 (a signature, say) is listed by the referrers API.
    let subject = digest_of(one.manifest.as_bytes());
    let empty = b"{}".to_vec();
    registry.push_blob("frozen", &empty).await;
    let signature = format!(
        concat!(
            r#"{{"schemaVersion":2,"mediaType":"application/vnd.oci.image.manifest.v1+json","#,
            r#""artifactType":"application/vnd.dev.cosign.simplesigning.v1+json","#,
            r#""config":{{"mediaType":"application/vnd.oci.empty.v1+json","digest":"{}","size":2}},"#,
            r#""layers":[{{"mediaType":"application/vnd.oci.empty.v1+json","digest":"{}","size":2}}],"#,
            r#""subject":{{"mediaType":"application/vnd.docker.distribution.manifest.v2+json","digest":"{}","size":{}}}}}"#
        ),
        digest_of(&empty),
        digest_of(&empty),
        subject,
        one.manifest.len()
    );
    let signature_digest = digest_of(signature.as_bytes());
    let reply = registry.push_manifest("frozen", &signature_digest, &signature).await;
    assert_eq!(reply.status, StatusCode::CREATED, "{}", String::from_utf8_lossy(&reply.body));
    assert_eq!(reply.header("oci-subject"), subject);
    let referrers = registry.get(&format!("/v2/frozen/referrers/{subject}")).await;
    assert_eq!(referrers.header("content-type"), "application/vnd.oci.image.index.v1+json");
    let index = referrers.json();
    assert_eq!(index["manifests"][0]["digest"], signature_digest.as_str());
    assert_eq!(index["manifests"][0]["artifactType"], "application/vnd.dev.cosign.simplesigning.v1+json");
    let filtered = registry.get(&format!("/v2/frozen/referrers/{subject}?artifactType=text/plain")).await;
    assert_eq!(filtered.json()["manifests"], serde_json::json!([]));
    assert_eq!(filtered.header("oci-filters-applied"), "artifactType");

    // Deleting an image leaves the blobs other images use.
    let reply =
        registry.send(Method::DELETE, &format!("/v2/frozen/manifests/{signature_digest}"), &[], Bytes::new()).await;
    assert_eq!(reply.status, StatusCode::ACCEPTED);
    let blob = registry.get(&format!("/v2/frozen/blobs/{}", digest_of(&one.blobs[1]))).await;
    assert_eq!(blob.status, StatusCode::OK);
}

#[tokio::test]
async fn bad_input_gets_precise_errors_and_stores_nothing() {
    let registry = Registry::start().await;
    let image = sample(1, 1000);
    let layer = &image.blobs[1];

    // A wrong digest: DIGEST_INVALID, and no blob under either digest.
    let wrong = digest_of(b"something else");
    let reply =
        registry.send(Method::POST, &format!("/v2/test/blobs/uploads/?digest={wrong}"), &[], layer.clone()).await;
    assert_eq!(reply.status, StatusCode::BAD_REQUEST);
    assert_eq!(reply.error().0, "DIGEST_INVALID");
    for digest in [&wrong, &digest_of(layer)] {
        assert_eq!(registry.get(&format!("/v2/test/blobs/{digest}")).await.error().0, "BLOB_UNKNOWN");
    }

    // Names: uppercase and `..` are NAME_INVALID.
    for path in ["/v2/Test/tags/list", "/v2/a/../b/tags/list", "/v2/test%2F..%2Fx/tags/list"] {
        let reply = registry.get(path).await;
        assert_eq!(reply.status, StatusCode::BAD_REQUEST, "{path}");
        assert_eq!(reply.error().0, "NAME_INVALID", "{path}");
    }

    // Manifests: malformed, naming blobs the repository lacks, or with the wrong size for one.
    let reply = registry.push_manifest("test", "v1", r#"{"schemaVersion":2,"mediaType":"application/vnd.docker.distribution.manifest.v2+json","layers":[{"digest":"sha256:12"}]"#).await;
    assert_eq!(reply.error().0, "MANIFEST_INVALID");
    let reply = registry.push_manifest("test", "v1", &image.manifest).await;
    assert_eq!(reply.status, StatusCode::BAD_REQUEST);
    let (code, message) = reply.error();
    assert_eq!(code, "MANIFEST_BLOB_UNKNOWN");
    assert!(message.starts_with("Layers with digests '["), "{message}");
    for blob in &image.blobs {
        assert_eq!(registry.push_blob("test", blob).await.status, StatusCode::CREATED);
    }
    let lying = image.manifest.replace(r#""size":1000"#, r#""size":999"#);
    assert_eq!(registry.push_manifest("test", "v1", &lying).await.error().0, "SIZE_INVALID");
    let reply = registry.push_manifest("test", &wrong, &image.manifest).await;
    assert_eq!(reply.error().0, "DIGEST_INVALID");
    assert_eq!(registry.get("/v2/test/tags/list").await.json()["tags"], serde_json::json!([]));

    // A truncated upload (the connection drops mid-body) stores nothing and can be retried.
    let started = registry.send(Method::POST, "/v2/test/blobs/uploads/", &[], Bytes::new()).await;
    let location = started.header("location").to_owned();
    let host = registry.url.trim_start_matches("http://").to_owned();
    let mut stream = tokio::net::TcpStream::connect(&host).await.unwrap();
    use tokio::io::AsyncWriteExt;
    let head = format!(
        "PATCH {location} HTTP/1.1\r\nHost: {host}\r\nAuthorization: {}\r\nContent-Length: 5000\r\n\r\n",
        registry.auth.as_deref().unwrap()
    );
    stream.write_all(head.as_bytes()).await.unwrap();
    stream.write_all(&[7u8; 1000]).await.unwrap();
    drop(stream);
    tokio::time::sleep(std::time::Duration::from_millis(200)).await;
    let status = registry.get(&location).await;
    assert_eq!(
        (status.status, status.header("range")),
        (StatusCode::NO_CONTENT, "0-0"),
        "the cut part was rolled back"
    );
    let blob = vec![9u8; 5000];
    let reply = registry.send(Method::PATCH, &location, &[], blob.clone()).await;
    assert_eq!(reply.header("range"), "0-4999");
    let reply = registry.send(Method::PUT, &format!("{location}?digest={}", digest_of(&blob)), &[], Bytes::new()).await;
    assert_eq!(reply.status, StatusCode::CREATED);

    // A cancelled upload is gone.
    let started = registry.send(Method::POST, "/v2/test/blobs/uploads/", &[], Bytes::new()).await;
    let location = started.header("location").to_owned();
    assert_eq!(registry.send(Method::DELETE, &location, &[], Bytes::new()).await.status, StatusCode::NO_CONTENT);
    assert_eq!(registry.get(&location).await.error().0, "BLOB_UPLOAD_UNKNOWN");
}

/// podman and skopeo with no login send `Authorization: Basic Og==` (empty user and password). ECR
/// treats that as no credentials: 401 with its challenge (podman then says `unauthorized:
/// authentication required`, containers/podman#12620); a non-empty garbled login stays 400.
#[tokio::test]
async fn empty_basic_credentials_are_no_credentials() {
    let mut registry = Registry::start().await;
    registry.auth = Some("Basic Og==".to_owned());
    for path in ["/v2/", "/v2/test/manifests/v1"] {
        let reply = registry.get(path).await;
        assert_eq!(reply.status, StatusCode::UNAUTHORIZED, "{path}");
        assert_eq!(
            reply.header("www-authenticate"),
            r#"Basic realm="https://920736617090.dkr.ecr.ap-south-1.amazonaws.com/",service="ecr.amazonaws.com""#
        );
        assert_eq!(&reply.body[..], b"Not Authorized\n");
    }
    registry.auth = Some("Basic QVdTOg==".to_owned()); // `AWS:`, an empty password
    assert_eq!(registry.get("/v2/").await.status, StatusCode::BAD_REQUEST);
}
