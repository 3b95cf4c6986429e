//! Image scanning through the real aws-sdk-ecr (every scanning operation, the waiter, the quota on
//! the lab clock, registry rules, broken and bomb layers) and through the real aws CLI against
//! `ecr-lab serve` with the guide's sample image.

use std::io::Write as _;
use std::time::Duration;

use aws_sdk_ecr::client::Waiters as _;
use aws_sdk_ecr::error::ProvideErrorMetadata;
use aws_sdk_ecr::types::{
    FindingSeverity, ImageIdentifier, ImageScanningConfiguration, RegistryScanningRule, ScanFrequency, ScanStatus,
    ScanType, ScanningRepositoryFilter, ScanningRepositoryFilterType,
};
use mock_registry::ScanLimits as Limits;
use mock_registry::types::Millis;

use crate::common::{InProcess, Sample, Served, aws_cli_available, bash, digest_of, ecr_client, put_sample};

/// The (code, message) of a failed SDK call.
fn failure<E: ProvideErrorMetadata, R: std::fmt::Debug>(
    result: Result<R, aws_sdk_ecr::error::SdkError<E>>,
) -> (String, String) {
    let error = result.expect_err("the call should fail");
    (error.code().unwrap_or_default().to_owned(), error.message().unwrap_or_default().to_owned())
}

fn by_tag(tag: &str) -> ImageIdentifier {
    ImageIdentifier::builder().image_tag(tag).build()
}

/// A ustar archive of regular files.
fn tar(files: &[(&str, &[u8])]) -> Vec<u8> {
    let mut out = Vec::new();
    for (name, data) in files {
        let mut h = [0u8; 512];
        h[..name.len()].copy_from_slice(name.as_bytes());
        h[100..108].copy_from_slice(b"0000644\0");
        h[108..116].copy_from_slice(b"0000000\0");
        h[116..124].copy_from_slice(b"0000000\0");
        h[124..136].copy_from_slice(format!("{:011o}\0", data.len()).as_bytes());
        h[136..148].copy_from_slice(b"00000000000\0");
        h[148..156].copy_from_slice(b"        ");
        h[156] = b'0';
        h[257..263].copy_from_slice(b"ustar\0");
        h[263..265].copy_from_slice(b"00");
        let sum: u32 = h.iter().map(|&b| u32::from(b)).sum();
        h[148..156].copy_from_slice(format!("{sum:06o}\0 ").as_bytes());
        out.extend_from_slice(&h);
        out.extend_from_slice(data);
        out.resize(out.len().next_multiple_of(512), 0);
    }
    out.resize(out.len() + 1024, 0);
    out
}

fn gzip(bytes: &[u8]) -> Vec<u8> {
    let mut encoder = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    encoder.write_all(bytes).unwrap();
    encoder.finish().unwrap()
}

/// An image of the given layer blobs, with a config unique to `n`.
fn image(n: usize, layers: Vec<Vec<u8>>) -> Sample {
    let config =
        format!(r#"{{"architecture":"amd64","os":"linux","rootfs":{{"type":"layers"}},"n":{n}}}"#).into_bytes();
    let descriptors: Vec<String> = layers
        .iter()
        .map(|l| {
            format!(
                r#"{{"mediaType":"application/vnd.docker.image.rootfs.diff.tar.gzip","size":{},"digest":"{}"}}"#,
                l.len(),
                digest_of(l)
            )
        })
        .collect();
    let manifest = format!(
        r#"{{"schemaVersion":2,"mediaType":"application/vnd.docker.distribution.manifest.v2+json","config":{{"mediaType":"application/vnd.docker.container.image.v1+json","size":{},"digest":"{}"}},"layers":[{}]}}"#,
        config.len(),
        digest_of(&config),
        descriptors.join(",")
    );
    let mut blobs = vec![config];
    blobs.extend(layers);
    Sample { manifest, blobs }
}

/// The sample image's dpkg database (src/sample.rs), abridged to the packages with advisories.
const STATUS: &str = "Package: curl\nStatus: install ok installed\nVersion: 7.88.1-10\n\n\
Package: libc6\nStatus: install ok installed\nSource: glibc\nVersion: 2.36-9\n\n\
Package: libcurl4\nStatus: install ok installed\nSource: curl\nVersion: 7.88.1-10\n\n\
Package: libssl3\nStatus: install ok installed\nSource: openssl\nVersion: 3.0.9-1\n\n\
Package: nginx\nStatus: install ok installed\nVersion: 1.22.1-9\n\n\
Package: zlib1g\nStatus: install ok installed\nSource: zlib\nVersion: 1:1.2.13.dfsg-1\n";

fn debian(n: usize) -> Sample {
    let base = gzip(&tar(&[
        ("etc/os-release", b"PRETTY_NAME=\"Debian GNU/Linux 12 (bookworm)\"\nID=debian\nVERSION_ID=\"12\"\n"),
        ("var/lib/dpkg/status", STATUS.as_bytes()),
    ]));
    let app = gzip(&tar(&[("usr/share/nginx/html/index.html", format!("<h1>{n}</h1>").as_bytes())]));
    image(n, vec![base, app])
}

/// Polls DescribeImageScanFindings until the scan is no longer IN_PROGRESS.
async fn settled(
    ecr: &aws_sdk_ecr::Client,
    repository: &str,
    tag: &str,
) -> aws_sdk_ecr::operation::describe_image_scan_findings::DescribeImageScanFindingsOutput {
    for _ in 0..200 {
        let found =
            ecr.describe_image_scan_findings().repository_name(repository).image_id(by_tag(tag)).send().await.unwrap();
        if found.image_scan_status().and_then(|s| s.status()) != Some(&ScanStatus::InProgress) {
            return found;
        }
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
    panic!("the scan of {repository}:{tag} did not finish");
}

#[tokio::test]
async fn scan_on_push_findings_counts_pages_and_the_daily_quota() {
    let mock = InProcess::start().await;
    let ecr = ecr_client(&mock.url, "ap-south-1").await;
    ecr.create_repository()
        .repository_name("test")
        .image_scanning_configuration(ImageScanningConfiguration::builder().scan_on_push(true).build())
        .send()
        .await
        .unwrap();
    put_sample(&ecr, "test", &debian(1), "v1").await.unwrap();

    // The SDK's own ImageScanComplete waiter.
    ecr.wait_until_image_scan_complete()
        .repository_name("test")
        .image_id(by_tag("v1"))
        .wait(Duration::from_secs(60))
        .await
        .unwrap();
    let found = settled(&ecr, "test", "v1").await;
    let status = found.image_scan_status().unwrap();
    assert_eq!(status.status(), Some(&ScanStatus::Complete));
    assert_eq!(status.description(), Some("The scan was completed successfully."));
    let findings = found.image_scan_findings().unwrap();
    let names: Vec<(&str, &FindingSeverity)> =
        findings.findings().iter().map(|f| (f.name().unwrap(), f.severity().unwrap())).collect();
    assert_eq!(
        names,
        [
            ("CVE-2023-38545", &FindingSeverity::Critical),
            ("CVE-2023-4911", &FindingSeverity::High),
            ("CVE-2023-5363", &FindingSeverity::High),
            ("CVE-2023-38546", &FindingSeverity::Low),
        ]
    );
    let counts = findings.finding_severity_counts().unwrap();
    assert_eq!(counts.len(), 3);
    assert_eq!(
        (counts[&FindingSeverity::Critical], counts[&FindingSeverity::High], counts[&FindingSeverity::Low]),
        (1, 2, 1)
    );
    let curl = &findings.findings()[0];
    assert_eq!(curl.uri(), Some("https://security-tracker.debian.org/tracker/CVE-2023-38545"));
    let attributes: Vec<(&str, &str)> =
        curl.attributes().iter().map(|a| (a.key(), a.value().unwrap_or_default())).collect();
    assert_eq!(
        attributes,
        [
            ("package_version", "7.88.1-10"),
            ("package_name", "curl"),
            ("CVSS3_SCORE", "9.8"),
            ("CVSS3_VECTOR", "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H"),
        ]
    );
    assert!(findings.image_scan_completed_at().is_some());
    assert_eq!(findings.vulnerability_source_updated_at().unwrap().secs(), 1_698_192_000);

    // Pages of two.
    let first = ecr
        .describe_image_scan_findings()
        .repository_name("test")
        .image_id(by_tag("v1"))
        .max_results(2)
        .send()
        .await
        .unwrap();
    assert_eq!(first.image_scan_findings().unwrap().findings().len(), 2);
    let second = ecr
        .describe_image_scan_findings()
        .repository_name("test")
        .image_id(by_tag("v1"))
        .max_results(2)
        .next_token(first.next_token().unwrap())
        .send()
        .await
        .unwrap();
    let rest: Vec<&str> = second.image_scan_findings().unwrap().findings().iter().map(|f| f.name().unwrap()).collect();
    assert_eq!(rest, ["CVE-2023-5363", "CVE-2023-38546"]);
    assert_eq!(second.next_token(), None);

    // DescribeImages carries the status and the summary.
    let described = ecr.describe_images().repository_name("test").send().await.unwrap();
    let detail = &described.image_details()[0];
    assert_eq!(detail.image_scan_status().unwrap().status(), Some(&ScanStatus::Complete));
    let summary = detail.image_scan_findings_summary().unwrap();
    assert_eq!(summary.finding_severity_counts().unwrap()[&FindingSeverity::High], 2);

    // Once per image per 24 hours on the lab clock, the scan on push included.
    let quota = "The scan quota per image has been exceeded. Wait and try again.";
    let again = ecr.start_image_scan().repository_name("test").image_id(by_tag("v1")).send().await;
    assert_eq!(failure(again), ("LimitExceededException".into(), quota.into()));
    mock.lab.write(|s| s.advance_clock(23 * 3600).map(|_: Millis| ())).await.unwrap();
    let again = ecr.start_image_scan().repository_name("test").image_id(by_tag("v1")).send().await;
    assert_eq!(failure(again), ("LimitExceededException".into(), quota.into()));
    mock.lab.write(|s| s.advance_clock(3600).map(|_: Millis| ())).await.unwrap();
    let started = ecr.start_image_scan().repository_name("test").image_id(by_tag("v1")).send().await.unwrap();
    assert_eq!(started.image_scan_status().unwrap().status(), Some(&ScanStatus::InProgress));
    assert_eq!(started.image_id().unwrap().image_tag(), Some("v1"));
    assert_eq!(settled(&ecr, "test", "v1").await.image_scan_findings().unwrap().findings().len(), 4);
}

#[tokio::test]
async fn manual_scans_scan_not_found_and_image_errors() {
    let mock = InProcess::start().await;
    let ecr = ecr_client(&mock.url, "ap-south-1").await;
    ecr.create_repository().repository_name("manual").send().await.unwrap();
    put_sample(&ecr, "manual", &debian(2), "v1").await.unwrap();
    let (code, message) =
        failure(ecr.describe_image_scan_findings().repository_name("manual").image_id(by_tag("v1")).send().await);
    assert_eq!(code, "ScanNotFoundException");
    assert_eq!(
        message,
        "Image scan does not exist for the image with '{imageDigest:'null', imageTag:'v1'}' in the repository with name 'manual' in the registry with id '920736617090'"
    );
    let (code, _) = failure(ecr.start_image_scan().repository_name("manual").image_id(by_tag("nope")).send().await);
    assert_eq!(code, "ImageNotFoundException");
    let (code, _) = failure(ecr.start_image_scan().repository_name("missing").image_id(by_tag("v1")).send().await);
    assert_eq!(code, "RepositoryNotFoundException");
    ecr.start_image_scan().repository_name("manual").image_id(by_tag("v1")).send().await.unwrap();
    let found = settled(&ecr, "manual", "v1").await;
    assert_eq!(found.image_scan_status().unwrap().status(), Some(&ScanStatus::Complete));
    assert_eq!(found.image_scan_findings().unwrap().findings().len(), 4);
}

#[tokio::test]
async fn registry_rules_with_wildcards_scan_on_push() {
    let mock = InProcess::start().await;
    let ecr = ecr_client(&mock.url, "ap-south-1").await;
    let initial = ecr.get_registry_scanning_configuration().send().await.unwrap();
    assert_eq!(initial.registry_id(), Some("920736617090"));
    assert_eq!(initial.scanning_configuration().unwrap().scan_type(), Some(&ScanType::Basic));
    assert!(initial.scanning_configuration().unwrap().rules().is_empty());

    let rule = scan_on_push_rule("prod-*");
    let put =
        ecr.put_registry_scanning_configuration().scan_type(ScanType::Basic).rules(rule.clone()).send().await.unwrap();
    assert_eq!(put.registry_scanning_configuration().unwrap().rules()[0].repository_filters()[0].filter(), "prod-*");
    let got = ecr.get_registry_scanning_configuration().send().await.unwrap();
    assert_eq!(got.scanning_configuration().unwrap().rules()[0].scan_frequency(), &ScanFrequency::ScanOnPush);

    for name in ["prod-web", "dev-web"] {
        ecr.create_repository().repository_name(name).send().await.unwrap();
    }
    let batch = ecr
        .batch_get_repository_scanning_configuration()
        .repository_names("prod-web")
        .repository_names("dev-web")
        .repository_names("nope")
        .send()
        .await
        .unwrap();
    let configs = batch.scanning_configurations();
    assert_eq!(configs[0].repository_name(), Some("prod-web"));
    assert_eq!(configs[0].scan_frequency(), Some(&ScanFrequency::ScanOnPush));
    assert!(configs[0].scan_on_push());
    assert_eq!(configs[0].applied_scan_filters()[0].filter(), "prod-*");
    assert_eq!(configs[0].repository_arn(), Some("arn:aws:ecr:ap-south-1:920736617090:repository/prod-web"));
    assert_eq!(configs[1].scan_frequency(), Some(&ScanFrequency::Manual));
    assert_eq!(batch.failures()[0].repository_name(), Some("nope"));
    assert_eq!(batch.failures()[0].failure_code().map(|c| c.as_str()), Some("REPOSITORY_NOT_FOUND"));

    put_sample(&ecr, "prod-web", &debian(3), "v1").await.unwrap();
    put_sample(&ecr, "dev-web", &debian(4), "v1").await.unwrap();
    let found = settled(&ecr, "prod-web", "v1").await;
    assert_eq!(found.image_scan_findings().unwrap().findings().len(), 4, "the wildcard rule scanned it on push");
    let (code, _) =
        failure(ecr.describe_image_scan_findings().repository_name("dev-web").image_id(by_tag("v1")).send().await);
    assert_eq!(code, "ScanNotFoundException", "dev-web matches no rule");

    let (code, message) = failure(ecr.put_registry_scanning_configuration().scan_type(ScanType::Enhanced).send().await);
    assert_eq!(code, "InvalidParameterException");
    assert!(message.contains("ENHANCED scanning uses Amazon Inspector"), "{message}");
    let bad = RegistryScanningRule::builder()
        .scan_frequency(ScanFrequency::ScanOnPush)
        .repository_filters(
            ScanningRepositoryFilter::builder()
                .filter("Prod_*")
                .filter_type(ScanningRepositoryFilterType::Wildcard)
                .build()
                .unwrap(),
        )
        .build()
        .unwrap();
    let (code, _) = failure(ecr.put_registry_scanning_configuration().rules(bad).send().await);
    assert_eq!(code, "InvalidParameterException");
}

#[tokio::test]
async fn broken_bomb_and_unsupported_images_fail_their_scans() {
    let mock = InProcess::start().await;
    // A small budget, so the bomb below is cheap to refuse.
    mock.lab.set_scan_limits(Limits { max_uncompressed: 4 << 20, ..Limits::default() });
    let ecr = ecr_client(&mock.url, "ap-south-1").await;
    ecr.create_repository()
        .repository_name("scanned")
        .image_scanning_configuration(ImageScanningConfiguration::builder().scan_on_push(true).build())
        .send()
        .await
        .unwrap();

    let mut bad_gzip = gzip(&tar(&[("var/lib/dpkg/status", STATUS.as_bytes())]));
    let n = bad_gzip.len();
    bad_gzip[10..n].iter_mut().for_each(|b| *b ^= 0x5a);
    put_sample(&ecr, "scanned", &image(10, vec![bad_gzip.clone()]), "bad-gzip").await.unwrap();

    let full = tar(&[("etc/os-release", b"ID=debian\nVERSION_ID=12\n"), ("var/lib/dpkg/status", STATUS.as_bytes())]);
    let truncated = full[..700].to_vec();
    put_sample(&ecr, "scanned", &image(11, vec![truncated]), "truncated").await.unwrap();

    // 32 MiB of zeros in 1 MiB entries: about 32 KiB gzipped.
    let mut encoder = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    let zeros = vec![0u8; 1 << 20];
    for i in 0..32 {
        let mut entry = tar(&[(&format!("zeros/{i}"), &zeros[..])]);
        entry.truncate(entry.len() - 1024);
        encoder.write_all(&entry).unwrap();
    }
    let bomb = encoder.finish().unwrap();
    assert!(bomb.len() < 256 << 10);
    put_sample(&ecr, "scanned", &image(12, vec![bomb]), "bomb").await.unwrap();

    put_sample(&ecr, "scanned", &image(13, vec![gzip(&tar(&[("app", b"static binary")]))]), "scratch").await.unwrap();

    let expect = [
        ("bad-gzip", "LayerError: layer "),
        ("truncated", "LayerError: layer "),
        ("bomb", "LayerError: layer "),
        ("scratch", "UnsupportedImageError: The operating system and/or package manager are not supported."),
    ];
    for (tag, prefix) in expect {
        let found = settled(&ecr, "scanned", tag).await;
        let status = found.image_scan_status().unwrap();
        assert_eq!(status.status(), Some(&ScanStatus::Failed), "{tag}");
        let description = status.description().unwrap();
        assert!(description.starts_with(prefix), "{tag}: {description}");
        assert!(found.image_scan_findings().is_none(), "{tag}");
        if tag == "bomb" {
            assert!(
                description.ends_with("more than 4194304 bytes uncompressed, more than a scan reads"),
                "{description}"
            );
        }
        if tag == "truncated" {
            assert!(description.ends_with("the tar stream ends in the middle of a tar entry"), "{description}");
        }
    }
    // The waiter fails on FAILED rather than waiting on.
    let waited = ecr
        .wait_until_image_scan_complete()
        .repository_name("scanned")
        .image_id(by_tag("bomb"))
        .wait(Duration::from_secs(30))
        .await;
    assert!(waited.is_err());
}

/// The guide's flow with the real aws CLI against `ecr-lab serve`: a scan-on-push repository, the
/// sample image pushed (by the lab shell's docker), `aws ecr wait image-scan-complete`, then
/// `describe-image-scan-findings` with the expected findings and counts.
#[test]
fn aws_cli_waits_for_the_scan_and_lists_the_sample_images_findings() {
    if !aws_cli_available() {
        return;
    }
    let home = tempfile::tempdir().unwrap();
    let data = home.path().join("data");
    let server = Served::start(home.path(), &["--data-dir", data.to_str().unwrap()]);
    let shell_data = home.path().join("shell");
    let prelude = format!("eval \"$(ecr-lab env --endpoint {})\"\nset -e\n", server.url);
    let registry = "920736617090.dkr.ecr.ap-south-1.amazonaws.com";
    let script = format!(
        "{prelude}aws ecr create-repository --repository-name test --image-scanning-configuration scanOnPush=true > /dev/null\n\
         printf '%s\\n' 'aws ecr get-login-password --region ap-south-1 | docker login --username AWS --password-stdin {registry}' \
           'docker tag sohelqt8797/ec2-neon-pulse:v1 {registry}/test:v1' 'docker push {registry}/test:v1' \
           | ecr-lab shell --endpoint {url} --data-dir {shell} > {home}/push.log\n\
         aws ecr wait image-scan-complete --repository-name test --image-id imageTag=v1\n\
         aws ecr describe-image-scan-findings --repository-name test --image-id imageTag=v1",
        url = server.url,
        shell = shell_data.display(),
        home = home.path().display(),
    );
    let ran = bash(&script, home.path());
    let log = std::fs::read_to_string(home.path().join("push.log")).unwrap_or_default();
    assert_eq!(ran.code, 0, "stdout: {}\nstderr: {}\npush: {log}", ran.stdout, ran.stderr);
    assert!(
        log.contains("v1: digest: sha256:091e1c9b9448b2fa264aa532a6a1cec8e9fa8d77ec2d77c623184a03c1ccddfa"),
        "{log}"
    );
    let json = ran.json();
    assert_eq!(json["imageScanStatus"]["status"], "COMPLETE");
    assert_eq!(json["imageScanStatus"]["description"], "The scan was completed successfully.");
    assert_eq!(
        json["imageId"]["imageDigest"],
        "sha256:091e1c9b9448b2fa264aa532a6a1cec8e9fa8d77ec2d77c623184a03c1ccddfa"
    );
    let findings = &json["imageScanFindings"];
    assert_eq!(findings["findingSeverityCounts"], serde_json::json!({"CRITICAL": 1, "HIGH": 2, "LOW": 1}));
    let names: Vec<(&str, &str, &str)> = findings["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| {
            (
                f["name"].as_str().unwrap(),
                f["severity"].as_str().unwrap(),
                f["attributes"].as_array().unwrap().iter().find(|a| a["key"] == "package_name").unwrap()["value"]
                    .as_str()
                    .unwrap(),
            )
        })
        .collect();
    assert_eq!(
        names,
        [
            ("CVE-2023-38545", "CRITICAL", "curl"),
            ("CVE-2023-4911", "HIGH", "glibc"),
            ("CVE-2023-5363", "HIGH", "openssl"),
            ("CVE-2023-38546", "LOW", "curl"),
        ]
    );

    // The findings survive a restart of the server (they are journaled).
    drop(server);
    let server = Served::start(home.path(), &["--data-dir", data.to_str().unwrap()]);
    let again = bash(
        &format!(
            "eval \"$(ecr-lab env --endpoint {})\"\naws ecr describe-images --repository-name test \
             --query 'imageDetails[0].[imageScanStatus.status, imageScanFindingsSummary.findingSeverityCounts.CRITICAL]' --output text",
            server.url
        ),
        home.path(),
    );
    assert_eq!((again.code, again.stdout.as_str()), (0, "COMPLETE\t1\n"), "{}", again.stderr);
}

/// The console page body at `url`.
async fn console_page(url: &str) -> String {
    use http_body_util::BodyExt as _;
    let client = hyper_util::client::legacy::Client::builder(hyper_util::rt::TokioExecutor::new())
        .build_http::<http_body_util::Full<bytes::Bytes>>();
    let response = client.get(url.parse().unwrap()).await.unwrap();
    assert_eq!(response.status(), 200, "{url}");
    String::from_utf8(response.into_body().collect().await.unwrap().to_bytes().to_vec()).unwrap()
}

#[tokio::test]
async fn the_console_shows_scan_status_and_a_findings_table() {
    let mock = InProcess::start().await;
    let ecr = ecr_client(&mock.url, "ap-south-1").await;
    ecr.create_repository()
        .repository_name("test")
        .image_scanning_configuration(ImageScanningConfiguration::builder().scan_on_push(true).build())
        .send()
        .await
        .unwrap();
    let pushed = put_sample(&ecr, "test", &debian(5), "v1").await.unwrap();
    let digest = pushed.image().unwrap().image_id().unwrap().image_digest().unwrap().to_owned();
    settled(&ecr, "test", "v1").await;

    let tab = console_page(&format!("{}/console/repositories/test", mock.url)).await;
    assert!(tab.contains("<td>Complete</td>"), "{tab}");
    assert!(tab.contains(r#"<span class="severity severity-critical">1 Critical</span>, <span class="severity severity-high">2 High</span>, <span class="severity severity-low">1 Low</span>"#));

    let findings = console_page(&format!("{}/console/repositories/test/_/image/{digest}/findings", mock.url)).await;
    assert!(findings.contains("<dd>Complete</dd>"));
    assert!(findings.contains("<dd>The scan was completed successfully.</dd>"));
    assert!(findings.contains(
        r#"<tr><th scope="row"><a href="https://security-tracker.debian.org/tracker/CVE-2023-38545" rel="noreferrer">CVE-2023-38545</a></th><td><span class="severity severity-critical">Critical</span></td><td><code>curl</code></td><td><code>7.88.1-10</code></td>"#
    ), "{findings}");
    assert_eq!(findings.matches("<tr><th scope=\"row\">").count(), 4);

    // An image in a repository without scan on push.
    ecr.create_repository().repository_name("plain").send().await.unwrap();
    let pushed = put_sample(&ecr, "plain", &debian(6), "v1").await.unwrap();
    let digest = pushed.image().unwrap().image_id().unwrap().image_digest().unwrap().to_owned();
    let findings = console_page(&format!("{}/console/repositories/plain/_/image/{digest}/findings", mock.url)).await;
    assert!(findings.contains("<dd>Not scanned</dd>") && findings.contains("aws ecr start-image-scan"));
}

/// A lesson file with one stage whose check is `scan.findings` and whose solution is `solution`.
fn scan_lesson(check: &str, solution: &str) -> String {
    format!(
        "---\nid: scanning\ntitle: Scanning\n---\n\n## Scan\n\n```lab:stage\nid: scan\nkind: task\n```\n\n\
         ```lab:check\n- {check}\n```\n\n```lab:solution\n{solution}\n```\n"
    )
}

const PUSH_SAMPLE: &str = "aws ecr get-login-password --region {{region}} | docker login --username AWS --password-stdin {{registry}}\n\
docker tag {{sample}} {{registry}}/{{repo}}:{{tag}}\n\
docker push {{registry}}/{{repo}}:{{tag}}";

fn verify(lesson: &str) -> crate::common::Ran {
    let home = tempfile::tempdir().unwrap();
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("scanning.md"), lesson).unwrap();
    let output = std::process::Command::new(env!("CARGO_BIN_EXE_ecr-lab"))
        .args(["verify", "--lessons", dir.path().to_str().unwrap()])
        .env("ECR_LAB_HOME", home.path())
        .output()
        .unwrap();
    crate::common::Ran {
        stdout: String::from_utf8_lossy(&output.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&output.stderr).into_owned(),
        code: output.status.code().unwrap_or(-1),
    }
}

#[test]
fn the_scan_findings_check_fails_before_and_passes_after_a_scanned_push() {
    let solution = format!(
        "aws ecr create-repository --repository-name {{{{repo}}}} --region {{{{region}}}} --image-scanning-configuration scanOnPush=true\n{PUSH_SAMPLE}"
    );
    let check = r#"scan.findings: { repo: "{{repo}}", tag: "{{tag}}", min_severity: HIGH }"#;
    let ran = verify(&scan_lesson(check, &solution));
    assert_eq!(ran.code, 0, "{}{}", ran.stdout, ran.stderr);
    assert!(ran.stdout.contains("ok    "), "{}", ran.stdout);

    // Without scan on push the image is never scanned, and the check says so.
    let solution =
        format!("aws ecr create-repository --repository-name {{{{repo}}}} --region {{{{region}}}}\n{PUSH_SAMPLE}");
    let ran = verify(&scan_lesson(check, &solution));
    assert_eq!(ran.code, 1, "{}{}", ran.stdout, ran.stderr);
    assert!(
        ran.stderr.contains(
            "after the solution this check still fails: test:v1 has not been scanned (turn on scan on push and push it, or run aws ecr start-image-scan)"
        ),
        "{}",
        ran.stderr
    );

    // A severity ECR does not report is a lesson bug, caught by lint before anything runs.
    let ran = verify(&scan_lesson(r#"scan.findings: { repo: "{{repo}}", min_severity: SEVERE }"#, "true"));
    assert_eq!(ran.code, 1, "{}{}", ran.stdout, ran.stderr);
    assert!(
        ran.stderr.contains(":14:1: LAB011 scan.findings min_severity `SEVERE` is not a severity ECR reports"),
        "{}",
        ran.stderr
    );
}

/// Issue 18 item 4: once the registry has scanning rules, they decide scan on push; a repository's
/// own (deprecated) `scanOnPush: true` no longer scans when no rule matches it, as the user guide
/// says ("Any repositories not matching a basic scanning scan on push filter will be set to the
/// manual scan frequency").
#[tokio::test]
async fn registry_rules_override_a_repositorys_own_scan_on_push() {
    let mock = InProcess::start().await;
    let ecr = ecr_client(&mock.url, "ap-south-1").await;
    let own = ImageScanningConfiguration::builder().scan_on_push(true).build();
    ecr.create_repository().repository_name("legacy").image_scanning_configuration(own).send().await.unwrap();
    put_sample(&ecr, "legacy", &debian(5), "v1").await.unwrap();
    settled(&ecr, "legacy", "v1").await; // no registry rules yet: the repository's flag scans it

    let rule = scan_on_push_rule("prod-*");
    ecr.put_registry_scanning_configuration().scan_type(ScanType::Basic).rules(rule).send().await.unwrap();
    let batch = ecr.batch_get_repository_scanning_configuration().repository_names("legacy").send().await.unwrap();
    let config = &batch.scanning_configurations()[0];
    assert_eq!(config.scan_frequency(), Some(&ScanFrequency::Manual));
    assert!(!config.scan_on_push());
    assert!(config.applied_scan_filters().is_empty());
    put_sample(&ecr, "legacy", &debian(6), "v2").await.unwrap();
    let (code, _) =
        failure(ecr.describe_image_scan_findings().repository_name("legacy").image_id(by_tag("v2")).send().await);
    assert_eq!(code, "ScanNotFoundException", "no rule matches legacy, so its push was not scanned");
}

/// A registry scanning rule: scan on push every repository whose name matches `filter`.
fn scan_on_push_rule(filter: &str) -> RegistryScanningRule {
    RegistryScanningRule::builder()
        .scan_frequency(ScanFrequency::ScanOnPush)
        .repository_filters(
            ScanningRepositoryFilter::builder()
                .filter(filter)
                .filter_type(ScanningRepositoryFilterType::Wildcard)
                .build()
                .unwrap(),
        )
        .build()
        .unwrap()
}
