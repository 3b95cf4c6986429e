//! Hostile input a student on the same network could send (issue 20, items 2 and 7): each is
//! refused with the registry's or AWS's error, and nothing in the lab changes.

use base64::Engine as _;
use bytes::Bytes;
use hyper::{Method, StatusCode};
use mock_registry::types::RepositoryName;

use crate::common::{InProcess, digest_of, ecr_client};
use crate::registry::{Registry, Reply};

/// An in-process mock with repository `test`, and a registry client logged in to it.
async fn start() -> (InProcess, Registry) {
    let mock = InProcess::start().await;
    ecr_client(&mock.url, "ap-south-1").await.create_repository().repository_name("test").send().await.unwrap();
    let registry = Registry::connect(&mock.url).await;
    (mock, registry)
}

fn registry_error(reply: &Reply) -> String {
    let value: serde_json::Value = serde_json::from_slice(&reply.body)
        .unwrap_or_else(|_| panic!("not JSON: {}", String::from_utf8_lossy(&reply.body)));
    value["errors"][0]["code"].as_str().unwrap_or_default().to_owned()
}

/// The registry the tests' clients (ap-south-1, the lab's default key) act in.
fn lab_registry() -> mock_registry::RegistryKey {
    mock_registry::RegistryKey::new(
        mock_registry::types::AccountId::parse("920736617090").unwrap(),
        mock_registry::types::Region::parse("ap-south-1").unwrap(),
    )
}

fn image_count(mock: &InProcess, name: &str) -> usize {
    let name = RepositoryName::parse(name).unwrap();
    mock.lab.read(|s| s.repository(&lab_registry(), &name).map(|r| r.images.len()).unwrap_or(0))
}

/// An OCI image manifest over a config blob pushed to `test`, with `extra` members first.
async fn manifest_with(registry: &Registry, extra: &str) -> String {
    let config = br#"{"architecture":"amd64","os":"linux"}"#;
    assert_eq!(registry.push_blob("test", config).await.status, StatusCode::CREATED);
    format!(
        r#"{{{extra}"schemaVersion":2,"mediaType":"application/vnd.oci.image.manifest.v1+json","config":{{"mediaType":"application/vnd.oci.image.config.v1+json","digest":"{}","size":{}}},"layers":[]}}"#,
        digest_of(config),
        config.len()
    )
}

/// A 120 KB manifest nested 60,000 deep once rendered an 800 MB console page; now the registry
/// refuses it as MANIFEST_INVALID (its depth bound), stores nothing, and a plain one still goes in.
#[tokio::test]
async fn a_deeply_nested_manifest_is_refused_and_nothing_is_stored() {
    let (mock, registry) = start().await;
    let deep = format!(r#""x":{}1{},"#, "[".repeat(60_000), "]".repeat(60_000));
    let manifest = manifest_with(&registry, &deep).await;
    let reply = registry.push_manifest("test", "deep", &manifest).await;
    assert_eq!(reply.status, StatusCode::BAD_REQUEST, "{}", String::from_utf8_lossy(&reply.body));
    assert_eq!(registry_error(&reply), "MANIFEST_INVALID");
    assert!(String::from_utf8_lossy(&reply.body).contains("at most 64 levels"));
    assert_eq!(image_count(&mock, "test"), 0);

    let shallow = manifest_with(&registry, r#""annotations":{"a":"b"},"#).await;
    assert_eq!(registry.push_manifest("test", "ok", &shallow).await.status, StatusCode::CREATED);
    assert_eq!(image_count(&mock, "test"), 1);
}

/// `{}` declared as an image manifest is none: MANIFEST_INVALID, nothing stored.
#[tokio::test]
async fn an_empty_object_is_not_a_manifest() {
    let (mock, registry) = start().await;
    for media_type in [
        "application/vnd.oci.image.manifest.v1+json",
        "application/vnd.docker.distribution.manifest.v2+json",
        "application/vnd.oci.image.index.v1+json",
    ] {
        let reply = registry.send(Method::PUT, "/v2/test/manifests/empty", &[("content-type", media_type)], "{}").await;
        assert_eq!(reply.status, StatusCode::BAD_REQUEST, "{media_type}: {}", String::from_utf8_lossy(&reply.body));
        assert_eq!(registry_error(&reply), "MANIFEST_INVALID", "{media_type}");
    }
    assert_eq!(image_count(&mock, "test"), 0);
}

/// A PATCH whose Content-Range end does not match its body is refused (SIZE_INVALID, as
/// distribution answers) before a byte is written: the upload stays where it was.
#[tokio::test]
async fn a_content_range_that_disagrees_with_the_body_is_refused() {
    let (_mock, registry) = start().await;
    let started = registry.send(Method::POST, "/v2/test/blobs/uploads/", &[], Bytes::new()).await;
    let location = started.header("location").to_owned();
    for range in ["0-99", "0-3", "bytes 0-99"] {
        let reply = registry.send(Method::PATCH, &location, &[("content-range", range)], vec![1u8; 10]).await;
        assert_eq!(reply.status, StatusCode::BAD_REQUEST, "{range}: {}", String::from_utf8_lossy(&reply.body));
        assert_eq!(registry_error(&reply), "SIZE_INVALID", "{range}");
        let status = registry.get(&location).await;
        assert_eq!((status.status, status.header("range")), (StatusCode::NO_CONTENT, "0-0"), "{range}");
    }
    for range in ["9-0", "0-x", "0--1", "0-18446744073709551615"] {
        let reply = registry.send(Method::PATCH, &location, &[("content-range", range)], vec![1u8; 10]).await;
        assert_eq!(reply.status, StatusCode::RANGE_NOT_SATISFIABLE, "{range}");
        assert_eq!(registry_error(&reply), "RANGE_INVALID", "{range}");
    }
    let reply = registry.send(Method::PATCH, &location, &[("content-range", "0-9")], vec![1u8; 10]).await;
    assert_eq!((reply.status, reply.header("range")), (StatusCode::ACCEPTED, "0-9"));
}

/// The catalog's `Link` carries `last` URL-encoded, and following it gives the next page.
#[tokio::test]
async fn the_link_to_the_next_page_is_url_encoded() {
    let (mock, registry) = start().await;
    let ecr = ecr_client(&mock.url, "ap-south-1").await;
    for name in ["team/a", "team/b"] {
        ecr.create_repository().repository_name(name).send().await.unwrap();
    }
    let page = registry.get("/v2/_catalog?n=1&last=team%2Fa").await;
    assert_eq!(page.status, StatusCode::OK);
    let page = registry.get("/v2/_catalog?n=2").await;
    assert_eq!(page.header("link"), r#"</v2/_catalog?n=2&last=team%2Fb>; rel="next""#);
    let next = page.header("link").trim_start_matches('<').split('>').next().unwrap().to_owned();
    let rest: serde_json::Value = serde_json::from_slice(&registry.get(&next).await.body).unwrap();
    assert_eq!(rest["repositories"], serde_json::json!(["test"]));
}

/// A `nextToken` the lab did not issue (here one forged in the old token format) is ECR's
/// InvalidParameterException; the lab's own tokens still page through everything.
#[tokio::test]
async fn a_forged_next_token_is_refused() {
    let mock = InProcess::start().await;
    let ecr = ecr_client(&mock.url, "ap-south-1").await;
    for name in ["r1", "r2", "r3"] {
        ecr.create_repository().repository_name(name).send().await.unwrap();
    }
    let forged = base64::engine::general_purpose::URL_SAFE_NO_PAD.encode("ecr-lab:r1");
    let error = ecr.describe_repositories().max_results(1).next_token(&forged).send().await.unwrap_err();
    let error = error.into_service_error();
    assert!(error.is_invalid_parameter_exception(), "{error:?}");
    assert_eq!(
        error.meta().message(),
        Some("Invalid parameter at 'nextToken' failed to satisfy constraint: 'Invalid NextToken'")
    );

    let mut names = Vec::new();
    let mut token = None;
    loop {
        let page = ecr.describe_repositories().max_results(1).set_next_token(token).send().await.unwrap();
        names.extend(page.repositories().iter().map(|r| r.repository_name().unwrap().to_owned()));
        token = page.next_token().map(str::to_owned);
        if let Some(token) = &token {
            let mut bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD.decode(token).unwrap();
            let last = bytes.len() - 1;
            bytes[last] ^= 1;
            let tampered = base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes);
            let refused = ecr.describe_repositories().max_results(1).next_token(tampered).send().await;
            assert!(refused.unwrap_err().into_service_error().is_invalid_parameter_exception());
        } else {
            break;
        }
    }
    assert_eq!(names, ["r1", "r2", "r3"]);
}

/// A complete last journal record with a bad checksum was cut as "torn"; now the lab refuses to
/// open, `ecr-lab repair` without `--yes` and no terminal changes nothing, and with `--yes` it
/// keeps a copy and cuts the record, after which the lab opens with what came before.
#[tokio::test]
async fn a_damaged_last_record_is_refused_and_repair_cuts_it_keeping_a_copy() {
    let dir = tempfile::tempdir().unwrap();
    {
        let lab = mock_registry::Lab::open(dir.path()).unwrap();
        lab.write(|s| s.advance_clock(60).map(|_| ())).await.unwrap();
        lab.write(|s| s.advance_clock(60).map(|_| ())).await.unwrap();
    }
    tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    let journal = dir.path().join("journal.log");
    let text = std::fs::read_to_string(&journal).unwrap();
    let last_start = text.trim_end_matches('\n').rfind('\n').unwrap() + 1;
    let damaged = format!("{}{}", &text[..last_start], text[last_start..].replacen("60", "61", 1));
    assert_eq!(damaged.len(), text.len());
    std::fs::write(&journal, &damaged).unwrap();

    let error = mock_registry::Lab::open(dir.path()).err().expect("a damaged journal is refused");
    let advice = format!("`ecr-lab repair --data-dir {}` would cut", dir.path().display());
    assert!(error.to_string().contains(&advice), "{error}");
    assert_eq!(std::fs::read_to_string(&journal).unwrap(), damaged, "nothing was cut");

    let repair = |extra: &[&str]| {
        std::process::Command::new(env!("CARGO_BIN_EXE_ecr-lab"))
            .arg("repair")
            .arg("--data-dir")
            .arg(dir.path())
            .args(extra)
            .stdin(std::process::Stdio::null())
            .output()
            .unwrap()
    };
    let asked = repair(&[]);
    assert!(!asked.status.success());
    let shown = String::from_utf8_lossy(&asked.stdout);
    assert!(shown.contains("damaged record (checksum mismatch)") && shown.contains("cuts 1 record(s)"), "{shown}");
    assert!(String::from_utf8_lossy(&asked.stderr).contains("nothing was changed"));
    assert_eq!(std::fs::read_to_string(&journal).unwrap(), damaged, "nothing was cut");

    let done = repair(&["--yes"]);
    assert!(done.status.success(), "{}", String::from_utf8_lossy(&done.stderr));
    assert_eq!(std::fs::read_to_string(&journal).unwrap(), &text[..last_start]);
    let backups: Vec<_> = std::fs::read_dir(dir.path())
        .unwrap()
        .filter_map(|e| e.ok())
        .filter(|e| e.file_name().to_string_lossy().starts_with("journal.log.damaged-"))
        .collect();
    assert_eq!(backups.len(), 1);
    assert_eq!(std::fs::read_to_string(backups[0].path()).unwrap(), damaged);
    mock_registry::Lab::open(dir.path()).expect("the repaired journal opens");
}
