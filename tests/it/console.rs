//! The web console: plain HTTP (form posts with the API's member names, the API's messages, a
//! revoked key) and a real headless browser (Debian's chromium through playwright-core) creating a
//! repository, watching a push arrive live, and opening the push commands.

use std::path::Path;

use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper::{Method, Request, StatusCode};
use hyper_util::client::legacy::Client;
use hyper_util::rt::TokioExecutor;
use mock_registry::defaults::DEFAULT_ACCESS_KEY_ID;
use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};

use crate::common::{InProcess, Served, aws_cli_available, bash, ecr_client, put_sample, sample, start_browser_script};

const NAME_PATTERN_MESSAGE: &str = "Invalid parameter at 'repositoryName' failed to satisfy constraint: \
     'must satisfy regular expression '(?:[a-z0-9]+(?:[._-][a-z0-9]+)*/)*[a-z0-9]+(?:[._-][a-z0-9]+)*''";
const INVALID_TOKEN: &str = "The security token included in the request is invalid.";

struct Page {
    status: StatusCode,
    location: String,
    /// The body with the few entities the console writes turned back into text.
    text: String,
}

async fn request(method: Method, url: &str, form: Option<&str>) -> Page {
    request_as(method, url, form, "application/x-www-form-urlencoded").await
}

async fn request_as(method: Method, url: &str, form: Option<&str>, content_type: &str) -> Page {
    let client = Client::builder(TokioExecutor::new()).build_http::<Full<Bytes>>();
    let mut builder = Request::builder().method(method).uri(url);
    if form.is_some() {
        builder = builder.header("content-type", content_type);
    }
    let body = Full::new(Bytes::from(form.unwrap_or_default().to_owned()));
    let response = client.request(builder.body(body).unwrap()).await.unwrap();
    let status = response.status();
    let location = response.headers().get("location").map(|v| v.to_str().unwrap().to_owned()).unwrap_or_default();
    let body = response.into_body().collect().await.unwrap().to_bytes();
    let text = String::from_utf8(body.to_vec())
        .unwrap()
        .replace("&#39;", "'")
        .replace("&quot;", "\"")
        .replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&amp;", "&");
    Page { status, location, text }
}

async fn get(url: &str) -> Page {
    request(Method::GET, url, None).await
}

async fn post(url: &str, form: &str) -> Page {
    request(Method::POST, url, Some(form)).await
}

async fn post_json(url: &str, json: &str) -> Page {
    request_as(Method::POST, url, Some(json), "application/json").await
}

async fn repository_names(url: &str, region: &str) -> Vec<String> {
    crate::common::repository_names(&ecr_client(url, region).await).await
}

#[tokio::test]
async fn a_form_post_with_the_api_member_names_creates_the_repository() {
    let mock = InProcess::start().await;
    let form = "repositoryName=project-a%2Fweb&imageTagMutability=IMMUTABLE_WITH_EXCLUSION\
                &imageTagMutabilityExclusionFilters=latest&imageTagMutabilityExclusionFilters=dev-*\
                &scanOnPush=true&encryptionType=AES256";
    let created = post(&format!("{}/console/create-repository", mock.url), form).await;
    assert_eq!(created.status, StatusCode::SEE_OTHER);
    assert_eq!(created.location, "/console/repositories/project-a/web?region=ap-south-1&notice=created");

    let ecr = ecr_client(&mock.url, "ap-south-1").await;
    let described = ecr.describe_repositories().repository_names("project-a/web").send().await.unwrap();
    let repository = &described.repositories()[0];
    assert_eq!(repository.image_tag_mutability().unwrap().as_str(), "IMMUTABLE_WITH_EXCLUSION");
    let filters: Vec<&str> = repository.image_tag_mutability_exclusion_filters().iter().map(|f| f.filter()).collect();
    assert_eq!(filters, ["latest", "dev-*"]);
    assert!(repository.image_scanning_configuration().unwrap().scan_on_push());
    assert_eq!(repository.encryption_configuration().unwrap().encryption_type().as_str(), "AES256");

    // The page it redirects to shows it, and the list shows its URI.
    let page = get(&format!("{}{}", mock.url, created.location)).await;
    assert_eq!(page.status, StatusCode::OK);
    assert!(page.text.contains("Successfully created private repository project-a/web."));
    let list = get(&format!("{}/console/repositories", mock.url)).await;
    assert!(list.text.contains("920736617090.dkr.ecr.ap-south-1.amazonaws.com/project-a/web"));
    let live = get(&format!("{}/console/repositories.json?region=ap-south-1&search=web", mock.url)).await;
    let live: serde_json::Value = serde_json::from_str(&live.text).unwrap();
    assert_eq!(live["count"], 1);
    // The console's polling stays out of the request log that lessons read (its pages are in it).
    assert!(mock.lab.log().since(0).iter().all(|r| !r.path.ends_with(".json")));

    // Another region keeps its own repositories.
    let other = post(&format!("{}/console/create-repository?region=us-east-1", mock.url), "repositoryName=east").await;
    assert_eq!(other.status, StatusCode::SEE_OTHER);
    assert_eq!(repository_names(&mock.url, "us-east-1").await, ["east"]);
    assert_eq!(repository_names(&mock.url, "ap-south-1").await, ["project-a/web"]);
}

#[tokio::test]
async fn refusals_carry_the_api_messages_and_create_nothing() {
    let mock = InProcess::start().await;
    let create = format!("{}/console/create-repository", mock.url);
    for (form, message) in [
        ("repositoryName=Test_Repo", NAME_PATTERN_MESSAGE),
        (
            "repositoryName=a",
            "Invalid parameter at 'repositoryName' failed to satisfy constraint: 'must have length greater than or equal to 2'",
        ),
        ("scanOnPush=true", "Invalid parameter at 'repositoryName' failed to satisfy constraint: 'must not be null'"),
        (
            "repositoryName=test&imageTagMutability=MUTABLE_WITH_EXCLUSION",
            "Invalid parameter at 'imageTagMutabilityExclusionFilters' failed to satisfy constraint: \
             'ImageTagMutabilityExclusionFilters can't be null when imageTagMutability is set as MUTABLE_WITH_EXCLUSION'",
        ),
        (
            "repositoryName=test&imageTagMutability=SOMETIMES",
            "Invalid parameter at 'imageTagMutability' failed to satisfy constraint: 'Member must satisfy enum value \
             set: [IMMUTABLE, MUTABLE, MUTABLE_WITH_EXCLUSION, IMMUTABLE_WITH_EXCLUSION]'",
        ),
    ] {
        let page = post(&create, form).await;
        assert_eq!(page.status, StatusCode::BAD_REQUEST, "{form}");
        assert!(page.text.contains(message), "{form}: no {message:?} in\n{}", page.text);
    }
    // The name's message is beside the field too, and what was typed is kept.
    let page = post(&create, "repositoryName=Test_Repo").await;
    assert!(page.text.contains(&format!(r#"id="repositoryName-error" aria-live="polite">{NAME_PATTERN_MESSAGE}</p>"#)));
    assert!(page.text.contains(r#"value="Test_Repo""#));
    // The script checks with the same three messages.
    let form = get(&create).await;
    assert!(form.text.contains(&format!(r#"data-msg-pattern="{NAME_PATTERN_MESSAGE}""#)));
    assert!(repository_names(&mock.url, "ap-south-1").await.is_empty());

    // A name that exists: the service's RepositoryAlreadyExistsException.
    assert_eq!(post(&create, "repositoryName=test").await.status, StatusCode::SEE_OTHER);
    let again = post(&create, "repositoryName=test").await;
    assert_eq!(again.status, StatusCode::BAD_REQUEST);
    assert!(again.text.contains("RepositoryAlreadyExistsException"));
    assert!(
        again.text.contains("The repository with name 'test' already exists in the registry with id '920736617090'")
    );
}

#[tokio::test]
async fn the_images_tab_settings_and_deletes() {
    let mock = InProcess::start().await;
    let ecr = ecr_client(&mock.url, "ap-south-1").await;
    ecr.create_repository().repository_name("test").send().await.unwrap();
    let pushed = put_sample(&ecr, "test", &sample(1, 3000), "v1").await.unwrap();
    let digest = pushed.image().unwrap().image_id().unwrap().image_digest().unwrap().to_owned();
    let repo = format!("{}/console/repositories/test", mock.url);

    let page = get(&repo).await;
    assert_eq!(page.status, StatusCode::OK);
    assert!(page.text.contains(&digest));
    assert!(page.text.contains("Not scanned"));
    assert!(page.text.contains(&format!("/console/repositories/test/_/image/{digest}/findings?region=ap-south-1")));
    assert!(page.text.contains("/console/repositories/test/_/lifecycle?region=ap-south-1"));
    let lifecycle = format!("{repo}/_/lifecycle?region=ap-south-1");
    assert!(get(&lifecycle).await.text.contains("No lifecycle policy."));
    let policy = r#"{"rules":[{"rulePriority":1,"description":"keep-ten","selection":{"tagStatus":"any","countType":"imageCountMoreThan","countNumber":10},"action":{"type":"expire"}}]}"#;
    ecr.put_lifecycle_policy().repository_name("test").lifecycle_policy_text(policy).send().await.unwrap();
    let shown = get(&lifecycle).await.text;
    assert!(shown.contains("keep-ten") && shown.contains("Not evaluated yet"), "{shown}");
    let host = mock.url.trim_start_matches("http://");
    assert!(page.text.contains(&format!("docker push {host}/test:v1")));
    assert!(page.text.contains(
        "aws ecr get-login-password --region ap-south-1 | docker login --username AWS --password-stdin \
         920736617090.dkr.ecr.ap-south-1.amazonaws.com"
    ));

    // The live endpoint the Images tab polls.
    let live = get(&format!("{repo}/_/images.json?region=ap-south-1")).await;
    let live: serde_json::Value = serde_json::from_str(&live.text).unwrap();
    assert_eq!(live["count"], 1);
    assert!(live["rows"].as_str().unwrap().contains(&digest));

    let details = get(&format!("{repo}/_/image/{digest}")).await;
    assert!(details.text.contains("application/vnd.docker.distribution.manifest.v2+json"));
    assert!(details.text.contains("\"schemaVersion\": 2"));

    // Settings: PutImageTagMutability and PutImageScanningConfiguration.
    let saved = post(&format!("{repo}/_/edit"), "imageTagMutability=IMMUTABLE&scanOnPush=true").await;
    assert_eq!(saved.status, StatusCode::SEE_OTHER);
    let described = ecr.describe_repositories().repository_names("test").send().await.unwrap();
    assert_eq!(described.repositories()[0].image_tag_mutability().unwrap().as_str(), "IMMUTABLE");
    assert!(described.repositories()[0].image_scanning_configuration().unwrap().scan_on_push());
    let refused =
        post(&format!("{repo}/_/edit"), "imageTagMutability=MUTABLE&imageTagMutabilityExclusionFilters=x").await;
    assert_eq!(refused.status, StatusCode::BAD_REQUEST);
    assert!(refused.text.contains("ImageTagMutabilityExclusionFilters can only be set when imageTagMutability"));

    // Deleting an image asks first, then goes.
    let confirm = get(&format!("{repo}/_/delete-images?region=ap-south-1&imageDigest={digest}")).await;
    assert!(confirm.text.contains("Delete 1 image from test?"));
    let deleted = post(&format!("{repo}/_/delete-images"), &format!("imageDigest={digest}")).await;
    assert_eq!(deleted.status, StatusCode::SEE_OTHER);
    let images = ecr.list_images().repository_name("test").send().await.unwrap();
    assert!(images.image_ids().is_empty());

    // Deleting the repository wants the word typed.
    let not_yet = post(&format!("{repo}/_/delete"), "confirm=yes").await;
    assert_eq!(not_yet.status, StatusCode::BAD_REQUEST);
    assert_eq!(repository_names(&mock.url, "ap-south-1").await, ["test"]);
    let gone = post(&format!("{repo}/_/delete"), "confirm=delete").await;
    assert_eq!(gone.status, StatusCode::SEE_OTHER);
    assert!(repository_names(&mock.url, "ap-south-1").await.is_empty());
    let missing = get(&repo).await;
    assert!(
        missing.text.contains("The repository with name 'test' does not exist in the registry with id '920736617090'")
    );
}

#[tokio::test]
async fn a_revoked_key_shows_the_service_error_instead_of_data() {
    let mock = InProcess::start().await;
    let ecr = ecr_client(&mock.url, "ap-south-1").await;
    ecr.create_repository().repository_name("secret-name").send().await.unwrap();
    // The control API takes writes as JSON only (issue 20): a form post like this one is refused.
    let revoked = post_json(&format!("{}/_lab/keys/{DEFAULT_ACCESS_KEY_ID}/revoke", mock.url), "{}").await;
    assert_eq!(revoked.status, StatusCode::NO_CONTENT);

    for path in ["/console/repositories", "/console/repositories/secret-name", "/console/create-repository"] {
        let page = get(&format!("{}{path}", mock.url)).await;
        assert_eq!(page.status, StatusCode::BAD_REQUEST, "{path}");
        assert!(page.text.contains("UnrecognizedClientException"), "{path}");
        assert!(page.text.contains(INVALID_TOKEN), "{path}");
        assert!(!page.text.contains("secret-name/") && !page.text.contains("amazonaws.com/secret-name"), "{path}");
    }
    let live = get(&format!("{}/console/repositories/secret-name/_/images.json", mock.url)).await;
    assert!(live.text.contains(INVALID_TOKEN));
    let refused = post(&format!("{}/console/create-repository", mock.url), "repositoryName=other").await;
    assert!(refused.text.contains(INVALID_TOKEN));
    let names = mock.lab.read(|s| {
        let registry = mock_registry::defaults::default_registry();
        s.repositories(&registry).map(|r| r.name.to_string()).collect::<Vec<_>>()
    });
    assert_eq!(names, ["secret-name"]);
}

#[tokio::test]
async fn the_aws_cli_lists_a_repository_made_with_the_form() {
    if !aws_cli_available() {
        return;
    }
    let home = tempfile::tempdir().unwrap();
    let served = Served::start(home.path(), &["--ephemeral"]);
    let created =
        post(&format!("{}/console/create-repository", served.url), "repositoryName=test&scanOnPush=true").await;
    assert_eq!(created.status, StatusCode::SEE_OTHER);
    let ran = bash(
        &format!(
            "eval \"$(ecr-lab env --endpoint {})\"\naws ecr describe-repositories --region ap-south-1",
            served.url
        ),
        home.path(),
    );
    assert_eq!(ran.code, 0, "{}", ran.stderr);
    let repository = &ran.json()["repositories"][0];
    assert_eq!(repository["repositoryName"], "test");
    assert_eq!(repository["repositoryUri"], "920736617090.dkr.ecr.ap-south-1.amazonaws.com/test");
    assert_eq!(repository["imageScanningConfiguration"]["scanOnPush"], true);
}

fn workspace() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

/// Pushes a small image to `repository:tag` with the built-in registry client (oci-client), and
/// returns its digest as DescribeImages reports it.
async fn push_with_builtin_client(url: &str, repository: &str, tag: &str) -> String {
    use base64::Engine as _;
    use oci_client::client::{ClientConfig, ClientProtocol, Config, ImageLayer};
    let _ = rustls::crypto::ring::default_provider().install_default();
    let ecr = ecr_client(url, "ap-south-1").await;
    let token = ecr.get_authorization_token().send().await.unwrap();
    let decoded = base64::engine::general_purpose::STANDARD
        .decode(token.authorization_data()[0].authorization_token().unwrap())
        .unwrap();
    let password = String::from_utf8(decoded).unwrap().strip_prefix("AWS:").unwrap().to_owned();
    let auth = oci_client::secrets::RegistryAuth::Basic("AWS".into(), password);
    let client = oci_client::Client::new(ClientConfig { protocol: ClientProtocol::Http, ..Default::default() });
    let reference: oci_client::Reference =
        format!("{}/{repository}:{tag}", url.trim_start_matches("http://")).parse().unwrap();
    let layer = ImageLayer::oci_v1_gzip(format!("the console test's layer for {tag}").repeat(1000).into_bytes(), None);
    let config = Config::oci_v1(br#"{"architecture":"amd64","os":"linux"}"#.to_vec(), None);
    client.push(&reference, &[layer], config, &auth, None).await.unwrap();
    let id = aws_sdk_ecr::types::ImageIdentifier::builder().image_tag(tag).build();
    let described = ecr.describe_images().repository_name(repository).image_ids(id).send().await.unwrap();
    described.image_details()[0].image_digest().unwrap().to_owned()
}

#[tokio::test]
async fn in_a_real_browser() {
    let mock = InProcess::start().await;
    let artifacts = workspace().join("target/test-artifacts/console");
    let Some(mut node) = start_browser_script("console.mjs", &mock.url, &artifacts) else {
        return;
    };
    let mut stdin = node.stdin.take().unwrap();
    let mut lines = BufReader::new(node.stdout.take().unwrap()).lines();
    let mut pushed = Vec::new();
    let run = async {
        while let Some(line) = lines.next_line().await.unwrap() {
            if let Some((repository, tag)) = line.strip_prefix("PUSH ").and_then(|rest| rest.split_once(' ')) {
                let digest = push_with_builtin_client(&mock.url, repository, tag).await;
                stdin.write_all(format!("{digest}\n").as_bytes()).await.unwrap();
                stdin.flush().await.unwrap();
                pushed.push(digest);
            }
        }
        node.wait().await.unwrap()
    };
    let status = tokio::time::timeout(std::time::Duration::from_secs(180), run).await.expect("the browser test ends");
    assert!(status.success(), "the browser script failed ({status}); its log is above");
    assert_eq!(pushed.len(), 2, "the script asked for two pushes");
    for shot in ["create-invalid-name-1280", "images-live-1280", "push-commands-1280", "repository-1024"] {
        assert!(artifacts.join(format!("{shot}.png")).exists(), "screenshot {shot}");
    }
}

#[tokio::test]
async fn severity_counts_read_without_a_gap_before_the_comma() {
    // `1 Critical, 2 High`: the ", " between counts is the only space; a margin on each count put a
    // gap before the comma (`1 Critical , 2 High`).
    let mock = InProcess::start().await;
    let style = get(&format!("{}/console/assets/console.css", mock.url)).await;
    assert_eq!(style.status, StatusCode::OK);
    let rule = style.text.lines().find(|l| l.starts_with(".severity {")).expect("a .severity rule");
    assert!(!rule.contains("margin"), "{rule}");
}

#[tokio::test]
async fn the_permissions_tab_shows_saves_refuses_and_deletes_the_repository_policy() {
    let mock = InProcess::start().await;
    let ecr = ecr_client(&mock.url, "ap-south-1").await;
    ecr.create_repository().repository_name("test").send().await.unwrap();
    let tab = format!("{}/console/repositories/test/_/permissions", mock.url);
    assert!(get(&format!("{}/console/repositories/test", mock.url)).await.text.contains("/_/permissions?region="));
    let empty = get(&tab).await;
    assert_eq!(empty.status, StatusCode::OK);
    assert!(empty.text.contains("No repository policy"), "{}", empty.text);
    assert!(!empty.text.contains("Delete policy"));

    // A malformed policy: AWS's text on the page, the typed text kept, nothing stored.
    let refused = post(&tab, "policyText=%7B%22Version%22%3A%222012-10-17%22%7D").await;
    assert_eq!(refused.status, StatusCode::BAD_REQUEST);
    assert!(refused.text.contains("InvalidParameterException"), "{}", refused.text);
    assert!(refused.text.contains(
        "Invalid parameter at 'PolicyText' failed to satisfy constraint: 'Invalid repository policy provided'"
    ));
    assert!(refused.text.contains(r#"{"Version":"2012-10-17"}"#));
    let none = ecr.get_repository_policy().repository_name("test").send().await.unwrap_err();
    assert_eq!(none.into_service_error().meta().code(), Some("RepositoryPolicyNotFoundException"));

    // A good one is stored as typed and shown indented.
    let policy = r#"{"Version":"2012-10-17","Statement":[{"Sid":"AllowPull","Effect":"Allow","Principal":{"AWS":"arn:aws:iam::111122223333:root"},"Action":["ecr:BatchGetImage","ecr:GetDownloadUrlForLayer"]}]}"#;
    let form = format!("policyText={}", urlencode(policy));
    let saved = post(&tab, &form).await;
    assert_eq!(saved.status, StatusCode::SEE_OTHER);
    assert!(saved.location.contains("/_/permissions?region=ap-south-1&notice=policy-saved"), "{}", saved.location);
    let stored = ecr.get_repository_policy().repository_name("test").send().await.unwrap();
    assert_eq!(stored.policy_text(), Some(policy));
    let shown = get(&format!("{tab}?region=ap-south-1&notice=policy-saved")).await;
    assert!(shown.text.contains("Saved the policy of test."));
    assert!(shown.text.contains("\"Sid\": \"AllowPull\","), "pretty JSON: {}", shown.text);
    assert!(shown.text.contains("Delete policy"));

    // Delete, then deleting again is ECR's RepositoryPolicyNotFound.
    let deleted = post(&format!("{tab}/delete"), "").await;
    assert_eq!(deleted.status, StatusCode::SEE_OTHER);
    assert!(ecr.get_repository_policy().repository_name("test").send().await.is_err());
    let again = post(&format!("{tab}/delete"), "").await;
    assert_eq!(again.status, StatusCode::BAD_REQUEST);
    assert!(again.text.contains(
        "Repository policy does not exist for the repository with name 'test' in the registry with id '920736617090'"
    ));
}

fn urlencode(text: &str) -> String {
    text.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'.' | b'_' | b'~' => (b as char).to_string(),
            _ => format!("%{b:02X}"),
        })
        .collect()
}

#[tokio::test]
async fn the_permissions_tab_in_a_real_browser() {
    let mock = InProcess::start().await;
    let ecr = ecr_client(&mock.url, "ap-south-1").await;
    ecr.create_repository().repository_name("test").send().await.unwrap();
    let artifacts = workspace().join("target/test-artifacts/console-permissions");
    let Some(mut node) = start_browser_script("permissions.mjs", &mock.url, &artifacts) else {
        return;
    };
    let status = tokio::time::timeout(std::time::Duration::from_secs(180), node.wait())
        .await
        .expect("the browser test ends")
        .unwrap();
    assert!(status.success(), "the browser script failed ({status}); its log is above");
    let stored = ecr.get_repository_policy().repository_name("test").send().await;
    assert!(stored.is_err(), "the script deleted the policy at the end");
    for shot in ["permissions-malformed-1280", "permissions-saved-1280", "permissions-deleted-1280"] {
        assert!(artifacts.join(format!("{shot}.png")).exists(), "screenshot {shot}");
    }
}

/// The learner's console actions enter the request log lessons check (`console: { viewed: ... }`):
/// each page viewed and form sent, with who (account and IAM user) and what (the repository); the
/// scripts, styles and live polls do not.
#[tokio::test]
async fn console_actions_enter_the_request_log_with_who_and_what() {
    let mock = InProcess::start().await;
    let created = post(&format!("{}/console/create-repository", mock.url), "repositoryName=team/web").await;
    assert_eq!(created.status, StatusCode::SEE_OTHER);
    for path in [
        "/console/repositories/team/web?region=ap-south-1",
        "/console/repositories/team/web/_/push-commands",
        "/console/repositories/team/web/_/images.json",
        "/console/repositories.json",
        "/console/assets/console.js",
        "/console/repositories/nope",
    ] {
        get(&format!("{}{path}", mock.url)).await;
    }
    let log = mock.lab.log().since(0);
    let seen: Vec<(String, String, u16, String, String, String)> = log
        .iter()
        .map(|r| {
            let text = |o: &Option<String>| o.clone().unwrap_or_default();
            (r.method.clone(), r.api.clone(), r.status, text(&r.repository), text(&r.account), text(&r.user))
        })
        .collect();
    let entry = |method: &str, api: &str, status: u16, repo: &str| {
        let (account, user) = ("920736617090".to_owned(), "lab-learner".to_owned());
        (method.to_owned(), api.to_owned(), status, repo.to_owned(), account, user)
    };
    assert_eq!(
        seen,
        [
            entry("POST", "console:create-repository", 303, "team/web"),
            entry("GET", "console:repository", 200, "team/web"),
            entry("GET", "console:push-commands", 200, "team/web"),
            // RepositoryNotFoundException's status, as ECR's console would meet it.
            entry("GET", "console:repository", 400, "nope"),
        ]
    );
    assert_eq!(log[2].path, "/console/repositories/team/web/_/push-commands");
}

/// The private registry settings page as a person sees it, at desktop and phone widths: reached from
/// the side navigation, every section (pull through cache, replication, policy, templates, ...).
#[tokio::test]
async fn the_private_registry_settings_page_in_a_real_browser() {
    use aws_sdk_ecr::types as t;
    let mock = InProcess::start().await;
    let ecr = ecr_client(&mock.url, "ap-south-1").await;
    ecr.create_pull_through_cache_rule()
        .ecr_repository_prefix("ecr-public")
        .upstream_registry_url("public.ecr.aws")
        .send()
        .await
        .unwrap();
    let destination = t::ReplicationDestination::builder().region("us-west-2").registry_id("920736617090").build();
    let rule = t::ReplicationRule::builder().destinations(destination.unwrap()).build().unwrap();
    let configuration = t::ReplicationConfiguration::builder().rules(rule).build().unwrap();
    ecr.put_replication_configuration().replication_configuration(configuration).send().await.unwrap();
    let policy = r#"{"Version":"2012-10-17","Statement":[{"Sid":"ReplicationAccessCrossAccount","Effect":"Allow","Principal":{"AWS":"arn:aws:iam::111122223333:root"},"Action":["ecr:CreateRepository","ecr:ReplicateImage"],"Resource":"arn:aws:ecr:ap-south-1:920736617090:repository/*"}]}"#;
    ecr.put_registry_policy().policy_text(policy).send().await.unwrap();
    ecr.create_repository_creation_template()
        .prefix("prod")
        .image_tag_mutability(t::ImageTagMutability::Immutable)
        .applied_for(t::RctAppliedFor::Replication)
        .send()
        .await
        .unwrap();
    let artifacts = workspace().join("target/test-artifacts/console-registry-settings");
    let Some(mut node) = start_browser_script("registry-settings.mjs", &mock.url, &artifacts) else {
        return;
    };
    let status = tokio::time::timeout(std::time::Duration::from_secs(180), node.wait())
        .await
        .expect("the browser test ends")
        .unwrap();
    assert!(status.success(), "the browser script failed ({status}); its log is above");
    for shot in ["registry-settings-1280", "registry-settings-390"] {
        assert!(artifacts.join(format!("{shot}.png")).exists(), "screenshot {shot}");
    }
}
