//! Property tests (issue 20): arbitrary and structured-but-wrong input into the ECR JSON API, the
//! registry's PUT manifest and SigV4's Authorization header, through the router without a socket.
//! Each runs a bounded number of cases (`CASES`) inside `cargo test`. The property: no panic, no
//! 5xx, a refusal is a 4xx with an AWS or registry error code, and a refusal changes nothing.

use axum::body::Body;
use hyper::{Method, Request, StatusCode};
use mock_registry::Lab;
use proptest::prelude::*;
use proptest::test_runner::{Config, TestRunner};

use crate::wire::{ecr_request, send};

const CASES: u32 = 256;

fn runner() -> TestRunner {
    TestRunner::new(Config { cases: CASES, failure_persistence: None, ..Config::default() })
}

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap()
}

/// What a refusal must leave as it was: every repository with its images and tags.
fn fingerprint(lab: &Lab) -> Vec<(String, usize, usize)> {
    let registry = mock_registry::RegistryKey::new(
        mock_registry::types::AccountId::parse("920736617090").unwrap(),
        mock_registry::types::Region::parse("ap-south-1").unwrap(),
    );
    lab.read(|s| {
        s.repositories(&registry)
            .map(|r| (r.name.to_string(), r.images.len(), r.images.values().map(|i| i.tags.len()).sum()))
            .collect()
    })
}

/// A lab with repository `test` holding one image, so that refusals have something to keep.
async fn seeded_lab() -> Lab {
    let lab = Lab::ephemeral().unwrap();
    let (status, _) = send(&lab, ecr_request("CreateRepository", br#"{"repositoryName":"test"}"#.to_vec())).await;
    assert_eq!(status, StatusCode::OK);
    let manifest = r#"{"schemaVersion":2,"mediaType":"application/vnd.oci.image.index.v1+json","manifests":[]}"#;
    let body = serde_json::json!({ "repositoryName": "test", "imageManifest": manifest, "imageTag": "v1" });
    let (status, value) = send(&lab, ecr_request("PutImage", body.to_string().into_bytes())).await;
    assert_eq!(status, StatusCode::OK, "{value}");
    lab
}

/// Any JSON value, nested a few levels, with strings that are sometimes plausible.
fn json_value() -> impl Strategy<Value = serde_json::Value> {
    let leaf = prop_oneof![
        Just(serde_json::Value::Null),
        any::<bool>().prop_map(serde_json::Value::from),
        any::<i64>().prop_map(serde_json::Value::from),
        any::<f64>().prop_map(|f| serde_json::Number::from_f64(f).map_or(serde_json::Value::Null, Into::into)),
        any::<String>().prop_map(serde_json::Value::from),
        prop::sample::select(vec!["test", "v1", "", "sha256:", "x/../y", "TEST", "a".repeat(300).leak()])
            .prop_map(serde_json::Value::from),
    ];
    leaf.prop_recursive(4, 32, 6, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..6).prop_map(serde_json::Value::Array),
            prop::collection::vec((member_name(), inner), 0..6)
                .prop_map(|members| serde_json::Value::Object(members.into_iter().collect())),
        ]
    })
}

/// Member names ECR's operations read, and some they do not.
fn member_name() -> impl Strategy<Value = String> {
    prop_oneof![
        prop::sample::select(vec![
            "repositoryName",
            "registryId",
            "imageIds",
            "imageTag",
            "imageDigest",
            "imageManifest",
            "imageManifestMediaType",
            "maxResults",
            "nextToken",
            "filter",
            "tagStatus",
            "force",
            "tags",
            "resourceArn",
            "policyText",
            "lifecyclePolicyText",
            "imageTagMutability",
            "encryptionConfiguration",
            "layerDigests",
            "uploadId",
        ])
        .prop_map(str::to_owned),
        any::<String>(),
    ]
}

const OPERATIONS: &[&str] = &[
    "CreateRepository",
    "DeleteRepository",
    "DescribeRepositories",
    "ListImages",
    "DescribeImages",
    "BatchGetImage",
    "BatchDeleteImage",
    "PutImage",
    "TagResource",
    "UntagResource",
    "SetRepositoryPolicy",
    "PutLifecyclePolicy",
    "PutImageTagMutability",
    "InitiateLayerUpload",
    "UploadLayerPart",
    "CompleteLayerUpload",
    "NoSuchOperation",
];

/// A 4xx with an AWS error code, or a success; never a 5xx. A refusal changed nothing.
fn check_api_answer(
    lab: &Lab,
    before: &[(String, usize, usize)],
    status: StatusCode,
    value: &serde_json::Value,
) -> Result<(), TestCaseError> {
    prop_assert!(!status.is_server_error(), "{status}: {value}");
    if !status.is_success() {
        prop_assert!(status.is_client_error(), "{status}: {value}");
        prop_assert!(!value["__type"].as_str().unwrap_or_default().is_empty(), "{status}: {value}");
        prop_assert_eq!(fingerprint(lab), before.to_vec());
    }
    Ok(())
}

#[test]
fn arbitrary_bytes_into_the_ecr_api() {
    let rt = runtime();
    let lab = rt.block_on(seeded_lab());
    let strategy = (prop::sample::select(OPERATIONS), prop::collection::vec(any::<u8>(), 0..512));
    runner()
        .run(&strategy, |(operation, body)| {
            let before = fingerprint(&lab);
            let (status, value) = rt.block_on(send(&lab, ecr_request(operation, body)));
            check_api_answer(&lab, &before, status, &value)
        })
        .unwrap();
}

#[test]
fn structured_but_wrong_json_into_the_ecr_api() {
    let rt = runtime();
    let strategy = (prop::sample::select(OPERATIONS), prop::collection::vec((member_name(), json_value()), 0..5));
    runner()
        .run(&strategy, |(operation, members)| {
            // A fresh lab each case: a valid request may succeed and change what the next case sees.
            let lab = rt.block_on(seeded_lab());
            let body = serde_json::Value::Object(members.into_iter().collect()).to_string();
            let before = fingerprint(&lab);
            let (status, value) = rt.block_on(send(&lab, ecr_request(operation, body.into_bytes())));
            check_api_answer(&lab, &before, status, &value)
        })
        .unwrap();
}

/// Authorization headers from arbitrary text and from SigV4's shape with wrong parts: always
/// refused (4xx with an AWS code), and the CreateRepository they carry creates nothing.
#[test]
fn arbitrary_authorization_headers_are_refused() {
    let rt = runtime();
    let lab = rt.block_on(seeded_lab());
    let part = || prop_oneof![any::<String>(), "[ -~]{0,40}".prop_map(|s| s)];
    let sigv4 = (part(), part(), part(), part()).prop_map(|(credential, scope, headers, signature)| {
        format!("AWS4-HMAC-SHA256 Credential={credential}/{scope}, SignedHeaders={headers}, Signature={signature}")
    });
    let strategy = prop_oneof![any::<String>(), sigv4, Just(String::new())];
    runner()
        .run(&strategy, |authorization| {
            let mut request = ecr_request("CreateRepository", br#"{"repositoryName":"fuzzed"}"#.to_vec());
            let Ok(value) = hyper::header::HeaderValue::from_str(&authorization) else {
                return Ok(()); // not sendable as a header
            };
            request.headers_mut().insert(hyper::header::AUTHORIZATION, value);
            let before = fingerprint(&lab);
            let (status, value) = rt.block_on(send(&lab, request));
            prop_assert!(status.is_client_error(), "{status}: {value}");
            prop_assert!(!value["__type"].as_str().unwrap_or_default().is_empty(), "{status}: {value}");
            prop_assert_eq!(fingerprint(&lab), before);
            Ok(())
        })
        .unwrap();
}

/// The registry's Basic credentials for the lab's default key (from GetAuthorizationToken).
async fn registry_auth(lab: &Lab) -> String {
    let (status, value) = send(lab, ecr_request("GetAuthorizationToken", b"{}".to_vec())).await;
    assert_eq!(status, StatusCode::OK, "{value}");
    format!("Basic {}", value["authorizationData"][0]["authorizationToken"].as_str().unwrap())
}

/// A manifest-shaped object: the members a manifest has, with arbitrary values.
fn manifest_like() -> impl Strategy<Value = Vec<u8>> {
    let media_types = prop::sample::select(vec![
        "application/vnd.oci.image.manifest.v1+json",
        "application/vnd.oci.image.index.v1+json",
        "application/vnd.docker.distribution.manifest.v2+json",
        "application/vnd.docker.distribution.manifest.list.v2+json",
        "application/vnd.docker.distribution.manifest.v1+prettyjws",
        "text/plain",
    ]);
    let member = prop_oneof![
        prop::sample::select(vec![
            "schemaVersion",
            "mediaType",
            "config",
            "layers",
            "manifests",
            "subject",
            "annotations",
            "fsLayers",
            "artifactType"
        ])
        .prop_map(str::to_owned),
        member_name(),
    ];
    let object = prop::collection::vec((member, json_value()), 0..6);
    (object, media_types, any::<bool>()).prop_map(|(members, media_type, with_type)| {
        let mut object: serde_json::Map<String, serde_json::Value> = members.into_iter().collect();
        if with_type {
            object.insert("mediaType".into(), media_type.into());
            object.entry("schemaVersion").or_insert(2.into());
        }
        serde_json::Value::Object(object).to_string().into_bytes()
    })
}

/// Arbitrary bytes and manifest-shaped JSON into `PUT /v2/test/manifests/fuzz`: a refusal is a
/// 4xx with a registry error code and stores nothing.
#[test]
fn arbitrary_manifests_into_put_manifest() {
    let rt = runtime();
    let lab = rt.block_on(seeded_lab());
    let auth = rt.block_on(registry_auth(&lab));
    let content_types = prop::sample::select(vec![
        "application/vnd.oci.image.manifest.v1+json",
        "application/vnd.oci.image.index.v1+json",
        "application/vnd.docker.distribution.manifest.v2+json",
        "application/json",
        "",
    ]);
    let bodies = prop_oneof![prop::collection::vec(any::<u8>(), 0..512), manifest_like()];
    runner()
        .run(&(bodies, content_types), |(body, content_type)| {
            let mut request = Request::builder()
                .method(Method::PUT)
                .uri("/v2/test/manifests/fuzz")
                .header("host", "127.0.0.1")
                .header("authorization", &auth);
            if !content_type.is_empty() {
                request = request.header("content-type", content_type);
            }
            let before = fingerprint(&lab);
            let (status, value) = rt.block_on(send(&lab, request.body(Body::from(body)).unwrap()));
            prop_assert!(!status.is_server_error(), "{status}: {value}");
            if !status.is_success() {
                prop_assert!(status.is_client_error(), "{status}: {value}");
                let code = value["errors"][0]["code"].as_str().unwrap_or_default();
                prop_assert!(!code.is_empty(), "{status}: {value}");
                prop_assert_eq!(fingerprint(&lab), before);
            }
            Ok(())
        })
        .unwrap();
}

/// Arbitrary `Authorization` headers on the registry (Basic with arbitrary base64 and text, and
/// anything else): refused as ECR refuses (401 `Not Authorized`, 400 `Bad Request` for a garbled
/// token, or a 4xx with a registry code),
/// and the manifest they carry is not stored.
#[test]
fn arbitrary_registry_credentials_are_refused() {
    use base64::Engine as _;
    let rt = runtime();
    let lab = rt.block_on(seeded_lab());
    let basic =
        any::<Vec<u8>>().prop_map(|bytes| format!("Basic {}", base64::engine::general_purpose::STANDARD.encode(bytes)));
    let aws = any::<String>().prop_map(|password| {
        format!("Basic {}", base64::engine::general_purpose::STANDARD.encode(format!("AWS:{password}")))
    });
    let strategy = prop_oneof![basic, aws, any::<String>(), any::<String>().prop_map(|s| format!("Basic {s}"))];
    let manifest = r#"{"schemaVersion":2,"mediaType":"application/vnd.oci.image.index.v1+json","manifests":[]}"#;
    runner()
        .run(&strategy, |authorization| {
            let Ok(value) = hyper::header::HeaderValue::from_str(&authorization) else {
                return Ok(());
            };
            let request = Request::builder()
                .method(Method::PUT)
                .uri("/v2/test/manifests/fuzz")
                .header("host", "127.0.0.1")
                .header("content-type", "application/vnd.oci.image.index.v1+json")
                .header(hyper::header::AUTHORIZATION, value)
                .body(Body::from(manifest))
                .unwrap();
            let before = fingerprint(&lab);
            let (status, value) = rt.block_on(send(&lab, request));
            prop_assert!(status.is_client_error(), "{status}: {value}");
            let code = value["errors"][0]["code"].as_str().unwrap_or_default();
            // ECR's plain-text answers: 401 for no or wrong credentials, 400 for a garbled token.
            let ecr_text = value["raw"] == "Not Authorized\n" || value["raw"] == "Bad Request\n";
            prop_assert!(!code.is_empty() || ecr_text, "{status}: {value}");
            prop_assert_eq!(fingerprint(&lab), before);
            Ok(())
        })
        .unwrap();
}
