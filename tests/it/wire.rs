//! Raw requests no SDK would send: malformed JSON, wrong types, missing members, oversized bodies,
//! unknown and unimplemented operations, unsigned calls. Each gets a 400-class answer with an AWS
//! code, never a 500 or a hang. Driven through the router without a socket.

use axum::body::Body;
use http_body_util::BodyExt;
use hyper::{Method, Request, StatusCode};
use mock_registry::Lab;
use mock_registry::aws::Signer;
use tower::ServiceExt;

fn now() -> i64 {
    mock_registry::clock::unix_seconds()
}

/// A signed ECR call with an arbitrary body.
pub(crate) fn ecr_request(operation: &str, body: impl Into<Vec<u8>>) -> Request<Body> {
    let body = body.into();
    let headers =
        mock_registry::aws::signed_headers("127.0.0.1", operation, &body, &Signer::lab_default("ap-south-1"), now());
    let mut request = Request::builder().method(Method::POST).uri("/").body(Body::from(body)).unwrap();
    *request.headers_mut() = headers;
    request
}

/// `request` through the mock's router (no socket): its status and JSON body.
pub(crate) async fn send(lab: &Lab, request: Request<Body>) -> (StatusCode, serde_json::Value) {
    let response = mock_registry::router(lab.clone()).oneshot(request).await.unwrap();
    let status = response.status();
    let bytes = response.into_body().collect().await.unwrap().to_bytes();
    let value = serde_json::from_slice(&bytes)
        .unwrap_or_else(|_| serde_json::json!({ "raw": String::from_utf8_lossy(&bytes) }));
    (status, value)
}

fn code(value: &serde_json::Value) -> &str {
    value["__type"].as_str().unwrap_or_default()
}

#[tokio::test]
async fn bad_bodies_get_aws_errors_and_change_nothing() {
    let lab = Lab::ephemeral().unwrap();
    let cases: &[(&str, &[u8], &str)] = &[
        ("CreateRepository", b"{\"repositoryName\":", "SerializationException"),
        ("CreateRepository", b"[1,2,3]", "SerializationException"),
        ("CreateRepository", b"{\"repositoryName\": 42}", "SerializationException"),
        (
            "CreateRepository",
            b"{\"repositoryName\":\"x1\",\"imageScanningConfiguration\":\"yes\"}",
            "SerializationException",
        ),
        ("ListImages", b"{\"repositoryName\":\"test\",\"maxResults\":\"ten\"}", "SerializationException"),
        ("CreateRepository", b"{}", "InvalidParameterException"),
        ("CreateRepository", b"{\"repositoryName\":null}", "InvalidParameterException"),
        ("PutImage", b"{\"repositoryName\":\"test\"}", "InvalidParameterException"),
        ("BatchGetImage", b"{\"repositoryName\":\"test\",\"imageIds\":[]}", "InvalidParameterException"),
        ("ListImages", b"{\"repositoryName\":\"test\",\"nextToken\":\"garbage!\"}", "InvalidParameterException"),
        ("TagResource", b"{\"resourceArn\":\"arn:aws:s3:::bucket\",\"tags\":[]}", "InvalidParameterException"),
        ("CreateRepository", b"\xff\xfe", "SerializationException"),
    ];
    for (operation, body, expected) in cases {
        let (status, value) = send(&lab, ecr_request(operation, body.to_vec())).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{operation} {:?}: {value}", String::from_utf8_lossy(body));
        assert_eq!(code(&value), *expected, "{operation} {:?}: {value}", String::from_utf8_lossy(body));
        assert!(!value["message"].as_str().unwrap_or_default().is_empty(), "a message says what is wrong: {value}");
    }
    assert_eq!(lab.read(|s| s.repositories(&default_registry()).count()), 0, "nothing was created");

    let (status, value) = send(&lab, ecr_request("CreateRepository", b"{\"repositoryName\": 42}".to_vec())).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(
        value["message"],
        "Member 'repositoryName' has the wrong type: invalid type: integer `42`, expected a string at line 1 column 21"
    );
}

#[tokio::test]
async fn oversized_bodies_are_refused_whole() {
    let lab = Lab::ephemeral().unwrap();
    let huge = format!("{{\"repositoryName\":\"big\",\"x\":\"{}\"}}", "a".repeat(mock_registry::MAX_API_BODY));
    let (status, value) = send(&lab, ecr_request("CreateRepository", huge)).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(code(&value), "SerializationException");
    assert_eq!(lab.read(|s| s.repositories(&default_registry()).count()), 0);

    // A manifest over ECR's 4 MiB limit.
    send(&lab, ecr_request("CreateRepository", b"{\"repositoryName\":\"test\"}".to_vec())).await;
    let manifest = serde_json::json!({ "repositoryName": "test", "imageManifest": "x".repeat(4_194_305) });
    let (status, value) = send(&lab, ecr_request("PutImage", manifest.to_string())).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(
        value["message"],
        "Invalid parameter at 'imageManifest' failed to satisfy constraint: 'Member must have length less than or equal to 4194304'"
    );
}

#[tokio::test]
async fn operations_outside_the_lab_are_named_not_500() {
    let lab = Lab::ephemeral().unwrap();
    let (status, value) = send(&lab, ecr_request("CreatePullThroughCacheRule", b"{}".to_vec())).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(code(&value), "InvalidParameterException");
    assert_eq!(
        value["message"],
        "Invalid parameter at 'ecrRepositoryPrefix' failed to satisfy constraint: 'must not be null'"
    );

    let (status, value) = send(&lab, ecr_request("MakeCoffee", b"{}".to_vec())).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(code(&value), "UnknownOperationException");
    assert!(value["message"].as_str().unwrap().contains("AmazonEC2ContainerRegistry_V20150921.MakeCoffee"));
}

#[tokio::test]
async fn unsigned_and_garbled_auth() {
    let lab = Lab::ephemeral().unwrap();
    let mut request = ecr_request("DescribeRepositories", b"{}".to_vec());
    request.headers_mut().remove("authorization");
    let (status, value) = send(&lab, request).await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    assert_eq!(code(&value), "MissingAuthenticationTokenException");

    let mut request = ecr_request("DescribeRepositories", b"{}".to_vec());
    request.headers_mut().insert("authorization", "AWS4-HMAC-SHA256 Nonsense".parse().unwrap());
    let (status, value) = send(&lab, request).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(code(&value), "IncompleteSignatureException");

    let mut request = ecr_request("DescribeRepositories", b"{}".to_vec());
    request.headers_mut().insert("x-amz-target", "AmazonEC2ContainerRegistry_V20150921.ListImages".parse().unwrap());
    let (status, value) = send(&lab, request).await;
    assert_eq!(status, StatusCode::FORBIDDEN, "a header changed after signing: {value}");
    assert_eq!(code(&value), "InvalidSignatureException");
}

#[tokio::test]
async fn control_api_adds_keys_and_moves_the_clock() {
    let lab = Lab::ephemeral().unwrap();
    let request = Request::post("/_lab/keys")
        .header("content-type", "application/json")
        .body(Body::from(r#"{"accountId":"111122223333","userName":"trainer","expiresIn":"1h"}"#))
        .unwrap();
    let (status, key) = send(&lab, request).await;
    assert_eq!(status, StatusCode::OK, "{key}");
    assert_eq!(key["arn"], "arn:aws:iam::111122223333:user/trainer");
    assert!(key["accessKeyId"].as_str().unwrap().starts_with("ASIA"));
    assert!(key["sessionToken"].is_string());

    let before = lab.read(|s| s.now());
    let request = Request::post("/_lab/clock/advance")
        .header("content-type", "application/json")
        .body(Body::from(r#"{"by":"13h"}"#))
        .unwrap();
    let (status, clock) = send(&lab, request).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(clock["offsetSeconds"], 13 * 3600);
    assert!(lab.read(|s| s.now()).0 - before.0 >= 13 * 3600 * 1000);

    let request = Request::post("/_lab/clock/advance")
        .header("content-type", "application/json")
        .body(Body::from(r#"{"by":"yesterday"}"#))
        .unwrap();
    let (status, value) = send(&lab, request).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert!(value["error"].as_str().unwrap().contains("not a duration"));
}

fn default_registry() -> mock_registry::RegistryKey {
    mock_registry::RegistryKey::new(
        mock_registry::types::AccountId::parse("920736617090").unwrap(),
        mock_registry::types::Region::parse("ap-south-1").unwrap(),
    )
}

/// A captured signed DeleteRepository(scratch), replayed with its `x-amz-content-sha256` and a new body
/// (DeleteRepository(keepme, force)), is refused and deletes nothing: the mock hashes the body itself.
#[tokio::test]
async fn a_signed_request_replayed_with_another_body_is_refused() {
    let lab = Lab::ephemeral().unwrap();
    for name in ["scratch", "keepme"] {
        let (status, _) =
            send(&lab, ecr_request("CreateRepository", format!("{{\"repositoryName\":\"{name}\"}}"))).await;
        assert_eq!(status, StatusCode::OK);
    }
    let signed_body = br#"{"repositoryName":"scratch"}"#.to_vec();
    let mut headers = hyper::HeaderMap::new();
    headers.insert("host", "127.0.0.1".parse().unwrap());
    headers.insert("content-type", "application/x-amz-json-1.1".parse().unwrap());
    headers.insert("x-amz-target", "AmazonEC2ContainerRegistry_V20150921.DeleteRepository".parse().unwrap());
    let declared = {
        use sha2::Digest as _;
        hex::encode(sha2::Sha256::digest(&signed_body))
    };
    headers.insert("x-amz-content-sha256", declared.parse().unwrap());
    Signer::lab_default("ap-south-1").sign(&Method::POST, "/", &mut headers, &signed_body, now());

    let mut replay = Request::builder()
        .method(Method::POST)
        .uri("/")
        .body(Body::from(r#"{"repositoryName":"keepme","force":true}"#))
        .unwrap();
    *replay.headers_mut() = headers.clone();
    let (status, value) = send(&lab, replay).await;
    assert_eq!((status, code(&value)), (StatusCode::FORBIDDEN, "InvalidSignatureException"), "{value}");

    let (_, listed) = send(&lab, ecr_request("DescribeRepositories", "{}")).await;
    let mut names: Vec<&str> =
        listed["repositories"].as_array().unwrap().iter().map(|r| r["repositoryName"].as_str().unwrap()).collect();
    names.sort();
    assert_eq!(names, ["keepme", "scratch"]);

    // The request as signed still works: the check refuses the replay, not the client.
    let mut original = Request::builder().method(Method::POST).uri("/").body(Body::from(signed_body)).unwrap();
    *original.headers_mut() = headers;
    let (status, value) = send(&lab, original).await;
    assert_eq!(status, StatusCode::OK, "{value}");
}
