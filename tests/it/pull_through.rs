//! Issue 18 item 3 (part A): pull through cache rules and replication, through aws-sdk-ecr, the
//! registry (raw HTTP and skopeo) and the real aws CLI.

use std::process::Command;

use aws_sdk_ecr::error::ProvideErrorMetadata;
use aws_sdk_ecr::types::{
    ImageIdentifier, ReplicationConfiguration, ReplicationDestination, ReplicationRule, ReplicationStatus,
    RepositoryFilter, RepositoryFilterType, UpstreamRegistry,
};
use mock_registry::upstream::{UpstreamImage, UpstreamKind};

use crate::common::{
    InProcess, Served, aws_cli_available, bash, cli_error, ecr_client, put_sample, require_tool, sample,
};
use crate::registry::Registry;

const SECRET: &str = "arn:aws:secretsmanager:ap-south-1:920736617090:secret:ecr-pullthroughcache/docker-hub-AbCdEf";

/// The (code, message) of a failed SDK call.
fn failure<E: ProvideErrorMetadata, R: std::fmt::Debug>(
    result: Result<R, aws_sdk_ecr::error::SdkError<E>>,
) -> (String, String) {
    let error = result.expect_err("the call should fail");
    (error.code().unwrap_or_default().to_owned(), error.message().unwrap_or_default().to_owned())
}

#[tokio::test]
async fn pull_through_cache_rules_through_the_sdk() {
    let mock = InProcess::start().await;
    let ecr = ecr_client(&mock.url, "ap-south-1").await;
    let created = ecr
        .create_pull_through_cache_rule()
        .ecr_repository_prefix("ecr-public")
        .upstream_registry_url("public.ecr.aws")
        .send()
        .await
        .unwrap();
    assert_eq!(created.ecr_repository_prefix(), Some("ecr-public"));
    assert_eq!(created.upstream_registry(), Some(&UpstreamRegistry::EcrPublic));
    assert_eq!(created.registry_id(), Some("920736617090"));
    assert!(created.created_at().is_some());

    // Docker Hub needs a Secrets Manager secret; ECR Public and Quay take none.
    let hub = || {
        ecr.create_pull_through_cache_rule()
            .ecr_repository_prefix("docker-hub")
            .upstream_registry_url("registry-1.docker.io")
    };
    let (code, message) = failure(hub().send().await);
    assert_eq!(code, "UnsupportedUpstreamRegistryException");
    assert!(message.starts_with("The specified upstream registry requires authentication."), "{message}");
    let (code, message) = failure(
        hub().credential_arn("arn:aws:secretsmanager:ap-south-1:920736617090:secret:hub-creds-AbCdEf").send().await,
    );
    assert_eq!(code, "InvalidParameterException");
    assert!(message.contains("ecr\\-pullthroughcache"), "{message}");
    hub().credential_arn(SECRET).send().await.unwrap();
    let (code, _) = failure(
        ecr.create_pull_through_cache_rule()
            .ecr_repository_prefix("quay")
            .upstream_registry_url("quay.io")
            .credential_arn(SECRET)
            .send()
            .await,
    );
    assert_eq!(code, "InvalidParameterException");
    let (code, message) = failure(
        ecr.create_pull_through_cache_rule()
            .ecr_repository_prefix("harbor")
            .upstream_registry_url("harbor.example.com")
            .send()
            .await,
    );
    assert_eq!(code, "UnsupportedUpstreamRegistryException");
    assert_eq!(
        message,
        "The upstream registry URL harbor.example.com is invalid. Specify a valid upstream registry URL and try again"
    );
    let (code, _) = failure(
        ecr.create_pull_through_cache_rule()
            .ecr_repository_prefix("ecr-public")
            .upstream_registry_url("public.ecr.aws")
            .send()
            .await,
    );
    assert_eq!(code, "PullThroughCacheRuleAlreadyExistsException");
    let (code, _) = failure(
        ecr.create_pull_through_cache_rule().ecr_repository_prefix("Hub").upstream_registry_url("quay.io").send().await,
    );
    assert_eq!(code, "InvalidParameterException");

    let described = ecr.describe_pull_through_cache_rules().send().await.unwrap();
    let prefixes: Vec<&str> =
        described.pull_through_cache_rules().iter().filter_map(|r| r.ecr_repository_prefix()).collect();
    assert_eq!(prefixes, ["docker-hub", "ecr-public"]);
    let (code, message) = failure(ecr.describe_pull_through_cache_rules().ecr_repository_prefixes("nope").send().await);
    assert_eq!(code, "PullThroughCacheRuleNotFoundException");
    assert!(message.contains("'nope'"), "{message}");

    let other = SECRET.replace("docker-hub-AbCdEf", "docker-hub-2");
    let updated = ecr
        .update_pull_through_cache_rule()
        .ecr_repository_prefix("docker-hub")
        .credential_arn(&other)
        .send()
        .await
        .unwrap();
    assert_eq!(updated.credential_arn(), Some(other.as_str()));
    assert!(updated.updated_at().is_some());
    let valid = ecr.validate_pull_through_cache_rule().ecr_repository_prefix("docker-hub").send().await.unwrap();
    assert!(valid.is_valid());
    assert_eq!(valid.upstream_registry_url(), Some("registry-1.docker.io"));

    let deleted = ecr.delete_pull_through_cache_rule().ecr_repository_prefix("docker-hub").send().await.unwrap();
    assert_eq!(deleted.credential_arn(), Some(other.as_str()));
    let (code, _) = failure(ecr.delete_pull_through_cache_rule().ecr_repository_prefix("docker-hub").send().await);
    assert_eq!(code, "PullThroughCacheRuleNotFoundException");
    let (code, _) = failure(ecr.validate_pull_through_cache_rule().ecr_repository_prefix("docker-hub").send().await);
    assert_eq!(code, "PullThroughCacheRuleNotFoundException");
}

#[tokio::test]
async fn a_pull_through_a_rule_creates_the_repository_and_caches_the_image() {
    let mock = InProcess::start().await;
    let image = sample(7, 300);
    let upstream = UpstreamImage { manifest: image.manifest.clone(), media_type: None, blobs: image.blobs.clone() };
    mock.lab.upstream().publish_sample("tiny", &["latest"], upstream);
    let ecr = ecr_client(&mock.url, "ap-south-1").await;
    let registry = Registry::connect(&mock.url).await;

    // Without a rule the name is just a missing repository.
    let reply = registry.get("/v2/quay/ecr-lab/tiny/manifests/latest").await;
    assert_eq!(reply.status, 404);
    ecr.create_pull_through_cache_rule()
        .ecr_repository_prefix("quay")
        .upstream_registry_url("quay.io")
        .send()
        .await
        .unwrap();
    let reply = registry.get("/v2/quay/ecr-lab/tiny/manifests/latest").await;
    assert_eq!(reply.status, 200, "{}", String::from_utf8_lossy(&reply.body));
    assert_eq!(reply.body, image.manifest.as_bytes());
    let layer = crate::common::digest_of(&image.blobs[1]);
    let blob = registry.get(&format!("/v2/quay/ecr-lab/tiny/blobs/{layer}")).await;
    assert_eq!(blob.body, image.blobs[1]);

    let repositories = ecr.describe_repositories().repository_names("quay/ecr-lab/tiny").send().await.unwrap();
    assert_eq!(repositories.repositories().len(), 1, "created on the first pull");
    let images = ecr.describe_images().repository_name("quay/ecr-lab/tiny").send().await.unwrap();
    let detail = &images.image_details()[0];
    assert_eq!(detail.image_tags(), ["latest"]);
    let pushed_at = detail.image_pushed_at().cloned();

    // A later pull is answered from the cache, even after the upstream changed.
    let newer = sample(8, 300);
    let replaced = UpstreamImage { manifest: newer.manifest.clone(), media_type: None, blobs: newer.blobs.clone() };
    mock.lab.upstream().publish_sample("tiny", &["latest"], replaced);
    let again = registry.get("/v2/quay/ecr-lab/tiny/manifests/latest").await;
    assert_eq!(again.body, image.manifest.as_bytes());
    let images = ecr.describe_images().repository_name("quay/ecr-lab/tiny").send().await.unwrap();
    assert_eq!(images.image_details().len(), 1);
    assert_eq!(images.image_details()[0].image_pushed_at().cloned(), pushed_at);

    // A day later on the lab clock, a pull looks upstream again and caches the tag's new image.
    mock.lab.write(|s| s.advance_clock(25 * 3600).map(|_| ())).await.unwrap();
    let registry = Registry::connect(&mock.url).await;
    let later = registry.get("/v2/quay/ecr-lab/tiny/manifests/latest").await;
    assert_eq!(later.body, newer.manifest.as_bytes());
    let images = ecr.describe_images().repository_name("quay/ecr-lab/tiny").send().await.unwrap();
    assert_eq!(images.image_details().len(), 2, "the old image stays, untagged");

    // What the upstream lacks is MANIFEST_UNKNOWN, and nothing is created for it.
    let missing = registry.get("/v2/quay/ecr-lab/nothing/manifests/latest").await;
    assert_eq!(missing.status, 404);
    let (code, _) = failure(ecr.describe_repositories().repository_names("quay/ecr-lab/nothing").send().await);
    assert_eq!(code, "RepositoryNotFoundException");
    assert!(mock.lab.upstream().find(UpstreamKind::Quay, "ecr-lab/tiny", "latest").is_some());
}

/// A real pull through `ecr-lab serve` with skopeo: Docker Hub's official-image path, as the user
/// guide writes it, served from the sample the program hands its bundled upstream.
#[test]
fn skopeo_pulls_the_sample_through_a_docker_hub_rule() {
    if !require_tool("skopeo", || Command::new("skopeo").arg("--version").output().is_ok_and(|o| o.status.success())) {
        return;
    }
    let home = tempfile::tempdir().unwrap();
    let served = Served::start(home.path(), &["--ephemeral"]);
    let host = served.url.trim_start_matches("http://").to_owned();
    let script = format!(
        r#"set -e
eval "$(ecr-lab env --endpoint {url})"
export AWS_REGION=ap-south-1
aws ecr create-pull-through-cache-rule --ecr-repository-prefix docker-hub --upstream-registry-url registry-1.docker.io --credential-arn {SECRET} > /dev/null
PASS=$(aws ecr get-login-password)
for n in 1 2; do
  skopeo copy --src-tls-verify=false --src-creds "AWS:$PASS" docker://{host}/docker-hub/library/ec2-neon-pulse:latest dir:{dir}/pulled$n > /dev/null
done
aws ecr describe-images --repository-name docker-hub/library/ec2-neon-pulse --query 'imageDetails[].[imageTags[0],imageDigest]' --output text
"#,
        url = served.url,
        dir = home.path().display()
    );
    let ran = bash(&script, home.path());
    assert_eq!(ran.code, 0, "{}\n{}", ran.stdout, ran.stderr);
    let lines: Vec<&str> = ran.stdout.lines().collect();
    assert_eq!(lines.len(), 1, "one cached image: {}", ran.stdout);
    let (tag, digest) = lines[0].split_once('\t').unwrap();
    assert_eq!(tag, "latest");
    for n in 1..=2 {
        let manifest = std::fs::read(home.path().join(format!("pulled{n}/manifest.json"))).unwrap();
        assert_eq!(crate::common::digest_of(&manifest), digest, "pull {n} got the cached manifest");
    }
}

#[tokio::test]
async fn replication_copies_pushes_to_other_regions_and_accounts() {
    let mock = InProcess::start().await;
    let ecr = ecr_client(&mock.url, "ap-south-1").await;
    let destination = |region: &str, account: &str| {
        ReplicationDestination::builder().region(region).registry_id(account).build().unwrap()
    };
    let filter =
        RepositoryFilter::builder().filter("prod").filter_type(RepositoryFilterType::PrefixMatch).build().unwrap();
    let rule = ReplicationRule::builder()
        .destinations(destination("us-west-2", "920736617090"))
        .destinations(destination("ap-south-1", "111122223333"))
        .repository_filters(filter)
        .build()
        .unwrap();
    let configuration = ReplicationConfiguration::builder().rules(rule).build().unwrap();
    let put = ecr.put_replication_configuration().replication_configuration(configuration).send().await.unwrap();
    assert_eq!(put.replication_configuration().unwrap().rules()[0].destinations().len(), 2);
    let registry = ecr.describe_registry().send().await.unwrap();
    let rules = registry.replication_configuration().unwrap().rules();
    assert_eq!(rules[0].repository_filters()[0].filter(), "prod");

    // The other account's registry policy lets this account replicate into it (the user guide's
    // example; without it the copy fails, as the unit tests show).
    let other_registry = mock_registry::RegistryKey::new(
        mock_registry::types::AccountId::parse("111122223333").unwrap(),
        mock_registry::types::Region::parse("ap-south-1").unwrap(),
    );
    let allow = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::920736617090:root"},"Action":["ecr:CreateRepository","ecr:ReplicateImage"],"Resource":"arn:aws:ecr:ap-south-1:111122223333:repository/*"}]}"#;
    mock.lab.write(|s| s.put_registry_policy(&other_registry, allow)).await.unwrap();
    for name in ["prod-web", "dev-web"] {
        ecr.create_repository().repository_name(name).send().await.unwrap();
        put_sample(&ecr, name, &sample(3, 100), "v1").await.unwrap();
    }
    let west = ecr_client(&mock.url, "us-west-2").await;
    let images = west.describe_images().repository_name("prod-web").send().await.unwrap();
    assert_eq!(images.image_details()[0].image_tags(), ["v1"]);
    let (code, _) = failure(west.describe_images().repository_name("dev-web").send().await);
    assert_eq!(code, "RepositoryNotFoundException", "dev-web is outside the filter");
    let other_account = mock
        .lab
        .read(|s| s.repositories(&other_registry).map(|r| (r.name.to_string(), r.images.len())).collect::<Vec<_>>());
    assert_eq!(other_account, [("prod-web".to_owned(), 1)]);

    let by_tag = ImageIdentifier::builder().image_tag("v1").build();
    let status = ecr
        .describe_image_replication_status()
        .repository_name("prod-web")
        .image_id(by_tag.clone())
        .send()
        .await
        .unwrap();
    let statuses: Vec<(&str, &str, Option<&ReplicationStatus>)> = status
        .replication_statuses()
        .iter()
        .map(|s| (s.region().unwrap(), s.registry_id().unwrap(), s.status()))
        .collect();
    assert_eq!(
        statuses,
        [
            ("us-west-2", "920736617090", Some(&ReplicationStatus::Complete)),
            ("ap-south-1", "111122223333", Some(&ReplicationStatus::Complete))
        ]
    );
    let none =
        ecr.describe_image_replication_status().repository_name("dev-web").image_id(by_tag).send().await.unwrap();
    assert!(none.replication_statuses().is_empty());
    let missing = ImageIdentifier::builder().image_tag("v9").build();
    let (code, _) =
        failure(ecr.describe_image_replication_status().repository_name("prod-web").image_id(missing).send().await);
    assert_eq!(code, "ImageNotFoundException");

    // The source itself is no destination; filters follow the model.
    let own = ReplicationRule::builder().destinations(destination("ap-south-1", "920736617090")).build().unwrap();
    let (code, _) = failure(
        ecr.put_replication_configuration()
            .replication_configuration(ReplicationConfiguration::builder().rules(own).build().unwrap())
            .send()
            .await,
    );
    assert_eq!(code, "InvalidParameterException");
}

/// The real aws CLI (v1) against `ecr-lab serve`: each command's success and its errors, word for word.
#[test]
fn the_aws_cli_runs_pull_through_and_replication_commands() {
    if !aws_cli_available() {
        return;
    }
    let home = tempfile::tempdir().unwrap();
    let served = Served::start(home.path(), &["--ephemeral"]);
    let prelude = format!("eval \"$(ecr-lab env --endpoint {})\"\nexport AWS_REGION=ap-south-1\n", served.url);
    let run = |line: &str| bash(&format!("{prelude}{line}"), home.path());
    let ok = |line: &str| {
        let ran = run(line);
        assert_eq!(ran.code, 0, "{line}\n{}\n{}", ran.stdout, ran.stderr);
        ran.json()
    };
    let created = ok(
        "aws ecr create-pull-through-cache-rule --ecr-repository-prefix ecr-public --upstream-registry-url public.ecr.aws",
    );
    assert_eq!(created["upstreamRegistry"], "ecr-public");
    let refused = run(
        "aws ecr create-pull-through-cache-rule --ecr-repository-prefix hub --upstream-registry-url registry-1.docker.io",
    );
    assert_ne!(refused.code, 0);
    assert!(refused.stderr.contains("UnsupportedUpstreamRegistryException"), "{}", refused.stderr);
    let described = ok("aws ecr describe-pull-through-cache-rules");
    assert_eq!(described["pullThroughCacheRules"][0]["upstreamRegistryUrl"], "public.ecr.aws");
    let valid = ok("aws ecr validate-pull-through-cache-rule --ecr-repository-prefix ecr-public");
    assert_eq!(valid["isValid"], true);
    let missing =
        run(&format!("aws ecr update-pull-through-cache-rule --ecr-repository-prefix nope --credential-arn {SECRET}"));
    assert_eq!(
        missing.stderr.trim(),
        cli_error(
            "PullThroughCacheRuleNotFoundException",
            "UpdatePullThroughCacheRule",
            "The pull through cache rule with prefix 'nope' does not exist in the registry with id '920736617090'"
        )
        .trim()
    );
    ok("aws ecr delete-pull-through-cache-rule --ecr-repository-prefix ecr-public");

    let config = r#"{"rules":[{"destinations":[{"region":"eu-west-1","registryId":"920736617090"}]}]}"#;
    let put = ok(&format!("aws ecr put-replication-configuration --replication-configuration '{config}'"));
    assert_eq!(put["replicationConfiguration"]["rules"][0]["destinations"][0]["region"], "eu-west-1");
    let registry = ok("aws ecr describe-registry");
    assert_eq!(registry["replicationConfiguration"], put["replicationConfiguration"]);
    let bad = run(
        r#"aws ecr put-replication-configuration --replication-configuration '{"rules":[{"destinations":[{"region":"eu-west-1","registryId":"920736617090"}],"repositoryFilters":[{"filter":"Prod","filterType":"PREFIX_MATCH"}]}]}'"#,
    );
    assert!(bad.stderr.contains("InvalidParameterException"), "{}", bad.stderr);
    let status = run("aws ecr describe-image-replication-status --repository-name nope --image-id imageTag=v1");
    assert!(status.stderr.contains("RepositoryNotFoundException"), "{}", status.stderr);
}

/// Podman pulls through an ECR Public rule (no secret needed): ECR Public's `docker/library/` path.
#[test]
fn podman_pulls_through_an_ecr_public_rule() {
    if !aws_cli_available() || !crate::podman::podman_available() {
        return;
    }
    let home = tempfile::tempdir().unwrap();
    let server = Served::start(home.path(), &["--ephemeral"]);
    let script = "set -e
aws ecr create-pull-through-cache-rule --ecr-repository-prefix ecr-public --upstream-registry-url public.ecr.aws > /dev/null
echo '{}' > $PODMAN/auth.json
aws ecr get-login-password | P login --tls-verify=false -u AWS --password-stdin $HOST > /dev/null
P pull -q --tls-verify=false $HOST/ecr-public/docker/library/ec2-neon-pulse:v2 > /dev/null
aws ecr describe-images --repository-name ecr-public/docker/library/ec2-neon-pulse --query 'imageDetails[].imageTags[]' --output text";
    let ran = crate::podman::podman(&server, script);
    assert_eq!(ran.code, 0, "{}\n{}", ran.stdout, ran.stderr);
    assert_eq!(ran.stdout.trim(), "v2");
}

/// The lab shell (its own mock, built-in aws and docker): the guide's way of pulling through a rule.
#[test]
fn the_lab_shell_pulls_through_a_rule_with_its_built_in_tools() {
    use std::io::Write as _;
    let data = tempfile::tempdir().unwrap();
    let mut child = Command::new(env!("CARGO_BIN_EXE_ecr-lab"))
        .args(["shell", "--data-dir"])
        .arg(data.path())
        .env("ECR_LAB_HOME", data.path())
        .env("ECR_LAB_DOCKER", "builtin")
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let script = "aws ecr create-pull-through-cache-rule --ecr-repository-prefix ecr-public --upstream-registry-url public.ecr.aws
aws ecr get-login-password | docker login --username AWS --password-stdin $REGISTRY
docker pull $REGISTRY/ecr-public/docker/library/ec2-neon-pulse:latest
aws ecr describe-images --repository-name ecr-public/docker/library/ec2-neon-pulse --query 'imageDetails[].imageTags[]' --output text
";
    child.stdin.take().unwrap().write_all(script.as_bytes()).unwrap();
    let output = child.wait_with_output().unwrap();
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(output.status.success(), "{stdout}\n{}", String::from_utf8_lossy(&output.stderr));
    assert!(
        stdout.contains("Status: Downloaded newer image for 920736617090.dkr.ecr.ap-south-1.amazonaws.com/ecr-public/docker/library/ec2-neon-pulse:latest"),
        "{stdout}"
    );
    assert_eq!(
        stdout.lines().rev().find(|l| !l.starts_with("lab$") && !l.trim().is_empty()),
        Some("latest"),
        "{stdout}"
    );
}

/// A pull-only IAM user cannot make the first pull through a rule: it needs
/// `ecr:BatchImportUpstreamImage` and `ecr:CreateRepository` too (the user guide's IAM page).
#[tokio::test]
async fn the_first_pull_through_a_rule_needs_the_import_permissions() {
    let mock = InProcess::start().await;
    let image = sample(9, 64);
    let upstream = UpstreamImage { manifest: image.manifest.clone(), media_type: None, blobs: image.blobs.clone() };
    mock.lab.upstream().publish_sample("tiny", &["latest"], upstream);
    let ecr = ecr_client(&mock.url, "ap-south-1").await;
    ecr.create_pull_through_cache_rule()
        .ecr_repository_prefix("quay")
        .upstream_registry_url("quay.io")
        .send()
        .await
        .unwrap();
    let pull = |actions: &'static str, user: &'static str| {
        let lab = mock.lab.clone();
        let url = mock.url.clone();
        async move {
            let policy = format!(
                r#"{{"Version":"2012-10-17","Statement":[{{"Effect":"Allow","Action":[{actions}],"Resource":"*"}}]}}"#
            );
            let account = mock_registry::types::AccountId::parse("920736617090").unwrap();
            let key = lab.write(|s| s.create_user(account, user, Some(("pull", &policy)))).await.unwrap();
            let client =
                crate::common::ecr_client_with(&url, "ap-south-1", &key.access_key_id, &key.secret_access_key, None)
                    .await;
            let token = client.get_authorization_token().send().await.unwrap();
            let auth = token.authorization_data()[0].authorization_token().unwrap().to_owned();
            let http = hyper_util::client::legacy::Client::builder(hyper_util::rt::TokioExecutor::new()).build_http();
            let request = hyper::Request::get(format!("{url}/v2/quay/ecr-lab/tiny/manifests/latest"))
                .header("authorization", format!("Basic {auth}"))
                .body(http_body_util::Full::new(bytes::Bytes::new()))
                .unwrap();
            let response = http.request(request).await.unwrap();
            let status = response.status().as_u16();
            let body = http_body_util::BodyExt::collect(response.into_body()).await.unwrap().to_bytes();
            (status, String::from_utf8_lossy(&body).into_owned())
        }
    };
    let base = r#""ecr:GetAuthorizationToken","ecr:BatchGetImage","ecr:GetDownloadUrlForLayer""#;
    let (status, body) = pull(base, "reader").await;
    assert_eq!(status, 403, "{body}");
    assert!(body.contains("is not authorized to perform: ecr:BatchImportUpstreamImage"), "{body}");
    let (code, _) = failure(ecr.describe_repositories().repository_names("quay/ecr-lab/tiny").send().await);
    assert_eq!(code, "RepositoryNotFoundException", "a refused pull creates nothing");
    let importer = r#""ecr:GetAuthorizationToken","ecr:BatchGetImage","ecr:GetDownloadUrlForLayer","ecr:BatchImportUpstreamImage","ecr:CreateRepository""#;
    let (status, body) = pull(importer, "importer").await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body, image.manifest);
}

/// The console's "Private registry settings" page lists the rules, the repositories a rule created,
/// and the replication rules.
#[tokio::test]
async fn the_console_shows_pull_through_rules_and_replication() {
    let mock = InProcess::start().await;
    let image = sample(11, 64);
    let upstream = UpstreamImage { manifest: image.manifest.clone(), media_type: None, blobs: image.blobs.clone() };
    mock.lab.upstream().publish_sample("tiny", &["latest"], upstream);
    let ecr = ecr_client(&mock.url, "ap-south-1").await;
    let page = || async {
        let http = hyper_util::client::legacy::Client::builder(hyper_util::rt::TokioExecutor::new()).build_http();
        let request = hyper::Request::get(format!("{}/console/private-registry", mock.url))
            .body(http_body_util::Full::new(bytes::Bytes::new()))
            .unwrap();
        let response = http.request(request).await.unwrap();
        assert_eq!(response.status(), 200);
        let body = http_body_util::BodyExt::collect(response.into_body()).await.unwrap().to_bytes();
        String::from_utf8_lossy(&body).into_owned()
    };
    let empty = page().await;
    assert!(empty.contains("Pull through cache rules (0)") && empty.contains("Replication is off."), "{empty}");
    ecr.create_pull_through_cache_rule()
        .ecr_repository_prefix("ecr-public")
        .upstream_registry_url("public.ecr.aws")
        .send()
        .await
        .unwrap();
    Registry::connect(&mock.url).await.get("/v2/ecr-public/ecr-lab/tiny/manifests/latest").await;
    let destination =
        ReplicationDestination::builder().region("us-west-2").registry_id("920736617090").build().unwrap();
    let rule = ReplicationRule::builder().destinations(destination).build().unwrap();
    let configuration = ReplicationConfiguration::builder().rules(rule).build().unwrap();
    ecr.put_replication_configuration().replication_configuration(configuration).send().await.unwrap();
    let shown = page().await;
    for text in [
        "Pull through cache rules (1)",
        "public.ecr.aws",
        ">ecr-public/ecr-lab/tiny<",
        "Replication rules (1)",
        "us-west-2 (920736617090)",
    ] {
        assert!(shown.contains(text), "{text} is missing from:\n{shown}");
    }
}

/// An Amazon ECR upstream: another of the lab's registries (same account, another region, so no
/// role is needed), with `upstreamRepositoryPrefix`; another account's needs a `customRoleArn`.
#[tokio::test]
async fn a_rule_can_pull_through_from_another_lab_registry() {
    let mock = InProcess::start().await;
    let west = ecr_client(&mock.url, "us-west-2").await;
    west.create_repository().repository_name("team/app").send().await.unwrap();
    let image = sample(12, 80);
    put_sample(&west, "team/app", &image, "v1").await.unwrap();
    let ecr = ecr_client(&mock.url, "ap-south-1").await;
    let (code, _) = failure(
        ecr.create_pull_through_cache_rule()
            .ecr_repository_prefix("partner")
            .upstream_registry_url("111122223333.dkr.ecr.us-west-2.amazonaws.com")
            .send()
            .await,
    );
    assert_eq!(code, "InvalidParameterException", "another account's registry needs a role");
    let created = ecr
        .create_pull_through_cache_rule()
        .ecr_repository_prefix("mirror")
        .upstream_registry_url("920736617090.dkr.ecr.us-west-2.amazonaws.com")
        .upstream_repository_prefix("team")
        .send()
        .await
        .unwrap();
    assert_eq!(created.upstream_registry(), Some(&UpstreamRegistry::Ecr));
    let valid = ecr.validate_pull_through_cache_rule().ecr_repository_prefix("mirror").send().await.unwrap();
    assert!(valid.is_valid(), "{:?}", valid.failure());
    let reply = Registry::connect(&mock.url).await.get("/v2/mirror/app/manifests/v1").await;
    assert_eq!(reply.status, 200, "{}", String::from_utf8_lossy(&reply.body));
    assert_eq!(reply.body, image.manifest.as_bytes());
    let cached = ecr.describe_images().repository_name("mirror/app").send().await.unwrap();
    assert_eq!(cached.image_details()[0].image_tags(), ["v1"]);
}

/// A Docker engine pulls through a Docker Hub rule, as the user guide writes the command.
#[test]
fn docker_pulls_the_sample_through_a_docker_hub_rule() {
    if !crate::common::docker_available() || !aws_cli_available() {
        return;
    }
    let home = tempfile::tempdir().unwrap();
    let served = Served::start(home.path(), &["--ephemeral"]);
    let host = served.url.trim_start_matches("http://").to_owned();
    let script = format!(
        r#"set -e
eval "$(ecr-lab env --endpoint {url})"
export AWS_REGION=ap-south-1 DOCKER_CONFIG={dir}/docker
aws ecr create-pull-through-cache-rule --ecr-repository-prefix docker-hub --upstream-registry-url registry-1.docker.io --credential-arn {SECRET} > /dev/null
aws ecr get-login-password | docker login --username AWS --password-stdin {host} > /dev/null 2>&1
docker pull -q {host}/docker-hub/library/ec2-neon-pulse:latest
docker rmi -f {host}/docker-hub/library/ec2-neon-pulse:latest > /dev/null
aws ecr describe-images --repository-name docker-hub/library/ec2-neon-pulse --query 'imageDetails[].imageTags[]' --output text
"#,
        url = served.url,
        dir = home.path().display()
    );
    let ran = bash(&script, home.path());
    assert_eq!(ran.code, 0, "{}\n{}", ran.stdout, ran.stderr);
    assert_eq!(ran.stdout, format!("{host}/docker-hub/library/ec2-neon-pulse:latest\nlatest\n"));
}
