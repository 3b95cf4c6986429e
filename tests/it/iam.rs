//! IAM in the mock: users with identity policies (created through the control API and `ecr-lab iam`),
//! every ECR operation and registry route authorized with its action, repository policies, and
//! cross-account access only when both sides allow. Denial texts are AWS's, asserted exactly.

use aws_sdk_ecr::error::ProvideErrorMetadata;
use aws_sdk_ecr::types::ImageIdentifier;
use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper::{Method, Request, StatusCode};
use hyper_util::client::legacy::Client;
use hyper_util::rt::TokioExecutor;

use crate::common::{InProcess, Sample, digest_of, ecr_client, ecr_client_with, put_sample, sample};

const ME: &str = "920736617090";
const OTHER: &str = "111122223333";

/// AmazonEC2ContainerRegistryReadOnly's actions.
const PULL_ONLY: &str = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":[
  "ecr:GetAuthorizationToken","ecr:BatchCheckLayerAvailability","ecr:GetDownloadUrlForLayer",
  "ecr:DescribeRepositories","ecr:ListImages","ecr:DescribeImages","ecr:BatchGetImage"],"Resource":"*"}]}"#;

/// A CI pusher: the token (registry-wide), and push actions on repository `test` only.
const PUSH_ONLY: &str = r#"{"Version":"2012-10-17","Statement":[
  {"Effect":"Allow","Action":"ecr:GetAuthorizationToken","Resource":"*"},
  {"Effect":"Allow","Action":["ecr:BatchCheckLayerAvailability","ecr:InitiateLayerUpload","ecr:UploadLayerPart",
   "ecr:CompleteLayerUpload","ecr:PutImage"],"Resource":"arn:aws:ecr:*:*:repository/test"}]}"#;

const ALL_BUT_DELETE: &str = r#"{"Version":"2012-10-17","Statement":[
  {"Effect":"Allow","Action":"ecr:*","Resource":"*"},
  {"Effect":"Deny","Action":"ecr:Delete*","Resource":"*"}]}"#;

struct User {
    id: String,
    secret: String,
}

async fn control(url: &str, method: Method, path: &str, body: serde_json::Value) -> (StatusCode, serde_json::Value) {
    let client = Client::builder(TokioExecutor::new()).build_http::<Full<Bytes>>();
    let request = Request::builder()
        .method(method)
        .uri(format!("{url}/_lab/{path}"))
        .header("content-type", "application/json")
        .body(Full::new(Bytes::from(body.to_string())))
        .unwrap();
    let response = client.request(request).await.unwrap();
    let status = response.status();
    let bytes = response.into_body().collect().await.unwrap().to_bytes();
    (status, serde_json::from_slice(&bytes).unwrap_or(serde_json::Value::Null))
}

async fn create_user(url: &str, account: &str, name: &str, policy: &str) -> User {
    let body = serde_json::json!({ "userName": name, "accountId": account, "policyDocument": policy });
    let (status, value) = control(url, Method::POST, "iam/users", body).await;
    assert_eq!(status, StatusCode::OK, "{value}");
    assert_eq!(value["arn"], format!("arn:aws:iam::{account}:user/{name}"));
    User {
        id: value["accessKeyId"].as_str().unwrap().into(),
        secret: value["secretAccessKey"].as_str().unwrap().into(),
    }
}

async fn client_of(url: &str, user: &User) -> aws_sdk_ecr::Client {
    ecr_client_with(url, "ap-south-1", &user.id, &user.secret, None).await
}

fn denial(user: &str, action: &str, resource: &str, why: &str) -> String {
    format!("User: {user} is not authorized to perform: {action} on resource: {resource} {why}")
}

fn no_identity_allow(name: &str, action: &str, repository: Option<&str>) -> String {
    let resource = repository.map_or("*".to_owned(), |r| format!("arn:aws:ecr:ap-south-1:{ME}:repository/{r}"));
    denial(
        &format!("arn:aws:iam::{ME}:user/{name}"),
        action,
        &resource,
        &format!("because no identity-based policy allows the {action} action"),
    )
}

/// `Ok(())`, or the (code, message) of the refusal.
type Outcome = Result<(), (String, String)>;

fn outcome<R, E: ProvideErrorMetadata>(result: Result<R, aws_sdk_ecr::error::SdkError<E>>) -> Outcome {
    result
        .map(|_| ())
        .map_err(|e| (e.code().unwrap_or_default().to_owned(), e.message().unwrap_or_default().to_owned()))
}

/// Every call of the table, by the IAM action it is.
async fn call(ecr: &aws_sdk_ecr::Client, action: &str, manifest: &str, layer: &str) -> Outcome {
    let v1 = ImageIdentifier::builder().image_tag("v1").build();
    match action {
        "ecr:GetAuthorizationToken" => outcome(ecr.get_authorization_token().send().await),
        "ecr:DescribeRepositories" => outcome(ecr.describe_repositories().repository_names("test").send().await),
        "ecr:DescribeImages" => outcome(ecr.describe_images().repository_name("test").send().await),
        "ecr:ListImages" => outcome(ecr.list_images().repository_name("test").send().await),
        "ecr:BatchGetImage" => outcome(ecr.batch_get_image().repository_name("test").image_ids(v1).send().await),
        "ecr:GetDownloadUrlForLayer" => {
            outcome(ecr.get_download_url_for_layer().repository_name("test").layer_digest(layer).send().await)
        }
        "ecr:BatchCheckLayerAvailability" => {
            outcome(ecr.batch_check_layer_availability().repository_name("test").layer_digests(layer).send().await)
        }
        "ecr:InitiateLayerUpload" => outcome(ecr.initiate_layer_upload().repository_name("test").send().await),
        "ecr:PutImage" => {
            outcome(ecr.put_image().repository_name("test").image_manifest(manifest).image_tag("v2").send().await)
        }
        "ecr:CreateRepository" => outcome(ecr.create_repository().repository_name("made-by-user").send().await),
        "ecr:DeleteRepository" => outcome(ecr.delete_repository().repository_name("test").send().await),
        "ecr:BatchDeleteImage" => outcome(ecr.batch_delete_image().repository_name("test").image_ids(v1).send().await),
        "ecr:SetRepositoryPolicy" => outcome(
            ecr.set_repository_policy().repository_name("test").policy_text(allow_pull_from(OTHER)).send().await,
        ),
        other => panic!("no call for {other}"),
    }
}

fn allow_pull_from(account: &str) -> String {
    format!(
        r#"{{"Version":"2012-10-17","Statement":[{{"Sid":"AllowPull","Effect":"Allow",
        "Principal":{{"AWS":"arn:aws:iam::{account}:root"}},
        "Action":["ecr:BatchGetImage","ecr:GetDownloadUrlForLayer","ecr:BatchCheckLayerAvailability"]}}]}}"#
    )
}

#[tokio::test]
async fn every_api_action_is_allowed_or_denied_by_the_callers_policies() {
    let (mock, learner, image) = with_test_v1(1).await;
    let layer = digest_of(&image.blobs[1]);
    let deploy = client_of(&mock.url, &create_user(&mock.url, ME, "deploy", PULL_ONLY).await).await;
    let ci = client_of(&mock.url, &create_user(&mock.url, ME, "ci-pusher", PUSH_ONLY).await).await;

    // (action, repository in the denial, pull-only allowed, push-only allowed)
    let table: &[(&str, Option<&str>, bool, bool)] = &[
        ("ecr:GetAuthorizationToken", None, true, true),
        ("ecr:DescribeRepositories", Some("test"), true, false),
        ("ecr:DescribeImages", Some("test"), true, false),
        ("ecr:ListImages", Some("test"), true, false),
        ("ecr:BatchGetImage", Some("test"), true, false),
        ("ecr:GetDownloadUrlForLayer", Some("test"), true, false),
        ("ecr:BatchCheckLayerAvailability", Some("test"), true, true),
        ("ecr:InitiateLayerUpload", Some("test"), false, true),
        ("ecr:PutImage", Some("test"), false, true),
        ("ecr:CreateRepository", Some("made-by-user"), false, false),
        ("ecr:SetRepositoryPolicy", Some("test"), false, false),
        ("ecr:BatchDeleteImage", Some("test"), false, false),
        ("ecr:DeleteRepository", Some("test"), false, false),
    ];
    for (action, repository, pull_allowed, push_allowed) in table {
        for (name, client, allowed) in [("deploy", &deploy, *pull_allowed), ("ci-pusher", &ci, *push_allowed)] {
            let result = call(client, action, &image.manifest, &layer).await;
            if allowed {
                assert_eq!(result, Ok(()), "{name} {action}");
            } else {
                let expected = ("AccessDeniedException".to_owned(), no_identity_allow(name, action, *repository));
                assert_eq!(result, Err(expected), "{name} {action}");
            }
        }
    }
    // The learner (no IAM user) still does everything; the denied calls changed nothing.
    let images = learner.describe_images().repository_name("test").send().await.unwrap();
    assert_eq!(images.image_details().len(), 1, "push-only PutImage re-tagged the image as v2 only");
    assert_eq!(
        call(&learner, "ecr:DeleteRepository", "", "").await.map_err(|e| e.0),
        Err("RepositoryNotEmptyException".into())
    );
}

#[tokio::test]
async fn an_explicit_deny_beats_the_allow_and_policies_can_be_changed() {
    let mock = InProcess::start().await;
    ecr_client(&mock.url, "ap-south-1").await.create_repository().repository_name("test").send().await.unwrap();
    let admin_user = create_user(&mock.url, ME, "admin", ALL_BUT_DELETE).await;
    let admin = client_of(&mock.url, &admin_user).await;
    let deleted = call(&admin, "ecr:DeleteRepository", "", "").await;
    let expected = denial(
        &format!("arn:aws:iam::{ME}:user/admin"),
        "ecr:DeleteRepository",
        &format!("arn:aws:ecr:ap-south-1:{ME}:repository/test"),
        "with an explicit deny in an identity-based policy",
    );
    assert_eq!(deleted, Err(("AccessDeniedException".into(), expected)));
    assert_eq!(call(&admin, "ecr:DescribeImages", "", "").await, Ok(()));

    // A malformed policy is refused with IAM's code and text and changes nothing.
    let bad = serde_json::json!({ "policyName": "p", "policyDocument": r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"ecr:*"}]}"# });
    let (status, value) = control(&mock.url, Method::POST, "iam/users/admin/policies", bad).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(value["error"], "MalformedPolicyDocument: Policy statement must contain resources.");
    assert!(call(&admin, "ecr:DeleteRepository", "", "").await.is_err());

    // Deleting the policy leaves the user with nothing: implicit deny.
    let (status, _) =
        control(&mock.url, Method::POST, "iam/users/admin/policies/admin-policy/delete", serde_json::json!({})).await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    let after = call(&admin, "ecr:DescribeImages", "", "").await;
    assert_eq!(
        after,
        Err(("AccessDeniedException".into(), no_identity_allow("admin", "ecr:DescribeImages", Some("test"))))
    );
    let (_, users) = control(&mock.url, Method::GET, "iam/users", serde_json::Value::Null).await;
    assert_eq!(users[0]["userName"], "admin");
    assert_eq!(users[0]["policyNames"], serde_json::json!([]));
    assert_eq!(users[0]["accessKeyIds"], serde_json::json!([admin_user.id]));
}

/// A registry client with Basic auth from `ecr`'s GetAuthorizationToken (for `registry_ids` if given).
struct Registry {
    url: String,
    auth: String,
}

impl Registry {
    /// `registry_ids` is deprecated in the SDK (a token stands for the principal), but the aws CLI still sends it.
    #[allow(deprecated)]
    async fn login(url: &str, ecr: &aws_sdk_ecr::Client, registry_id: Option<&str>) -> Self {
        let token =
            ecr.get_authorization_token().set_registry_ids(registry_id.map(|r| vec![r.to_owned()])).send().await;
        let token = token.unwrap().authorization_data()[0].authorization_token().unwrap().to_owned();
        Self { url: url.to_owned(), auth: format!("Basic {token}") }
    }

    /// (status, error code, error message) of one request to the registry of `account`.
    async fn send(&self, account: &str, method: Method, path: &str, body: Vec<u8>) -> (StatusCode, String, String) {
        let client = Client::builder(TokioExecutor::new()).build_http::<Full<Bytes>>();
        let request = Request::builder()
            .method(method)
            .uri(format!("{}{path}", self.url))
            .header("host", format!("{account}.dkr.ecr.ap-south-1.amazonaws.com"))
            .header("authorization", &self.auth)
            .header("content-type", "application/vnd.docker.distribution.manifest.v2+json")
            .body(Full::new(Bytes::from(body)))
            .unwrap();
        let response = client.request(request).await.unwrap();
        let status = response.status();
        let bytes = response.into_body().collect().await.unwrap().to_bytes();
        let value: serde_json::Value = serde_json::from_slice(&bytes).unwrap_or(serde_json::Value::Null);
        let text = |k: &str| value["errors"][0][k].as_str().unwrap_or_default().to_owned();
        (status, text("code"), text("message"))
    }
}

/// (method, path, body, action, pull-only allowed, push-only allowed)
type RouteCase<'a> = (Method, &'a String, Vec<u8>, &'a str, bool, bool);

#[tokio::test]
async fn registry_routes_are_authorized_with_ecrs_actions() {
    let (mock, _, image) = with_test_v1(2).await;
    let layer = digest_of(&image.blobs[1]);
    let deploy = Registry::login(
        &mock.url,
        &client_of(&mock.url, &create_user(&mock.url, ME, "deploy", PULL_ONLY).await).await,
        None,
    )
    .await;
    let ci = Registry::login(
        &mock.url,
        &client_of(&mock.url, &create_user(&mock.url, ME, "ci-pusher", PUSH_ONLY).await).await,
        None,
    )
    .await;

    let manifest = "/v2/test/manifests/v1".to_owned();
    let blob = format!("/v2/test/blobs/{layer}");
    let upload = "/v2/test/blobs/uploads/".to_owned();
    // (method, path, body, action, pull-only allowed, push-only allowed)
    let table: Vec<RouteCase> = vec![
        (Method::GET, &manifest, vec![], "ecr:BatchGetImage", true, false),
        (Method::HEAD, &blob, vec![], "ecr:BatchCheckLayerAvailability", true, true),
        (Method::GET, &blob, vec![], "ecr:GetDownloadUrlForLayer", true, false),
        (Method::POST, &upload, vec![], "ecr:InitiateLayerUpload", false, true),
        (Method::PUT, &manifest, image.manifest.clone().into_bytes(), "ecr:PutImage", false, true),
    ];
    for (method, path, body, action, pull_allowed, push_allowed) in table {
        for (name, registry, allowed) in [("deploy", &deploy, pull_allowed), ("ci-pusher", &ci, push_allowed)] {
            let (status, code, message) = registry.send(ME, method.clone(), path, body.clone()).await;
            if allowed {
                assert!(status.is_success(), "{name} {method} {path}: {status} {code} {message}");
            } else {
                assert_eq!(status, StatusCode::FORBIDDEN, "{name} {method} {path}");
                assert_eq!(code, "DENIED");
                assert_eq!(message, no_identity_allow(name, action, Some("test")), "{name} {method} {path}");
            }
        }
    }
}

#[tokio::test]
async fn repository_policies_let_another_account_pull_and_only_pull() {
    let (mock, learner, _) = with_test_v1(3).await;
    let full = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"ecr:*","Resource":"*"}]}"#;
    let outsider = client_of(&mock.url, &create_user(&mock.url, OTHER, "partner", full).await).await;
    let v1 = ImageIdentifier::builder().image_tag("v1").build();
    let pull = || outsider.batch_get_image().registry_id(ME).repository_name("test").image_ids(v1.clone()).send();
    let partner = format!("arn:aws:iam::{OTHER}:user/partner");
    let repo_arn = format!("arn:aws:ecr:ap-south-1:{ME}:repository/test");
    let no_resource = |action: &str| {
        denial(&partner, action, &repo_arn, &format!("because no resource-based policy allows the {action} action"))
    };
    assert_eq!(outcome(pull().await), Err(("AccessDeniedException".into(), no_resource("ecr:BatchGetImage"))));

    // Get before any policy; a malformed one is refused with ECR's text and stores nothing.
    let missing = outcome(learner.get_repository_policy().repository_name("test").send().await);
    let expected =
        format!("Repository policy does not exist for the repository with name 'test' in the registry with id '{ME}'");
    assert_eq!(missing, Err(("RepositoryPolicyNotFoundException".into(), expected.clone())));
    let malformed = learner.set_repository_policy().repository_name("test").policy_text(PULL_ONLY).send().await;
    assert_eq!(
        outcome(malformed),
        Err((
            "InvalidParameterException".into(),
            "Invalid parameter at 'PolicyText' failed to satisfy constraint: 'Invalid repository policy provided'"
                .into()
        ))
    );
    assert_eq!(
        outcome(learner.get_repository_policy().repository_name("test").send().await),
        Err(("RepositoryPolicyNotFoundException".into(), expected))
    );

    let text = allow_pull_from(OTHER);
    let set = learner.set_repository_policy().repository_name("test").policy_text(&text).send().await.unwrap();
    assert_eq!(set.policy_text(), Some(text.as_str()));
    let got = learner.get_repository_policy().repository_name("test").send().await.unwrap();
    assert_eq!((got.registry_id(), got.policy_text()), (Some(ME), Some(text.as_str())));
    assert_eq!(outcome(pull().await), Ok(()));
    let push = outsider.initiate_layer_upload().registry_id(ME).repository_name("test").send().await;
    assert_eq!(outcome(push), Err(("AccessDeniedException".into(), no_resource("ecr:InitiateLayerUpload"))));

    // The registry: a token for the other account's registry, pull allowed, push denied.
    let registry = Registry::login(&mock.url, &outsider, Some(ME)).await;
    let (status, _, _) = registry.send(ME, Method::GET, "/v2/test/manifests/v1", vec![]).await;
    assert_eq!(status, StatusCode::OK);
    let (status, code, message) = registry.send(ME, Method::POST, "/v2/test/blobs/uploads/", vec![]).await;
    assert_eq!((status, code.as_str()), (StatusCode::FORBIDDEN, "DENIED"));
    assert_eq!(message, no_resource("ecr:InitiateLayerUpload"));

    // Without the policy, the pull is refused again.
    learner.delete_repository_policy().repository_name("test").send().await.unwrap();
    assert!(outcome(pull().await).is_err());
}

/// The commands are child processes: the mock serves them from other runtime threads.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_iam_commands_drive_a_running_mock() {
    let mock = InProcess::start().await;
    let dir = tempfile::tempdir().unwrap();
    let policy = dir.path().join("pull.json");
    std::fs::write(&policy, PULL_ONLY).unwrap();
    let bad = dir.path().join("bad.json");
    std::fs::write(&bad, r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Resource":"*"}]}"#).unwrap();
    let run = |args: &[&str]| {
        let output = std::process::Command::new(env!("CARGO_BIN_EXE_ecr-lab"))
            .args(["iam"])
            .args(args)
            .args(["--endpoint", &mock.url])
            .env("ECR_LAB_HOME", dir.path())
            .output()
            .unwrap();
        (
            output.status.success(),
            String::from_utf8_lossy(&output.stdout).into_owned(),
            String::from_utf8_lossy(&output.stderr).into_owned(),
        )
    };
    let policy_arg = format!("file://{}", policy.display());
    let (ok, out, err) = run(&["create-user", "deploy", "--policy", &policy_arg]);
    assert!(ok, "{err}");
    assert!(out.starts_with(&format!("created arn:aws:iam::{ME}:user/deploy with access key AKIA")), "{out}");
    assert!(out.contains("export AWS_SECRET_ACCESS_KEY="), "{out}");
    let (ok, out, _) = run(&["list-users"]);
    assert!(ok);
    assert!(out.starts_with(&format!("arn:aws:iam::{ME}:user/deploy  policies: deploy-policy  keys: AKIA")), "{out}");
    let bad_arg = format!("file://{}", bad.display());
    let (ok, _, err) =
        run(&["put-user-policy", "--user-name", "deploy", "--policy-name", "more", "--policy-document", &bad_arg]);
    assert!(!ok);
    assert!(err.contains("MalformedPolicyDocument: Policy statement must contain actions."), "{err}");
    let (ok, out, err) = run(&["delete-user-policy", "--user-name", "deploy", "--policy-name", "deploy-policy"]);
    assert!(ok, "{err}");
    assert_eq!(out, "deleted policy deploy-policy of user deploy\n");
    let (ok, _, err) = run(&["delete-user-policy", "--user-name", "deploy", "--policy-name", "deploy-policy"]);
    assert!(!ok);
    assert!(err.contains("NoSuchEntity: The user policy with name deploy-policy cannot be found."), "{err}");

    // A role: its policies are put, listed and deleted the same way.
    let trust = dir.path().join("trust.json");
    let trust_text = format!(
        r#"{{"Version":"2012-10-17","Statement":[{{"Effect":"Allow","Principal":{{"AWS":"arn:aws:iam::{ME}:root"}},"Action":"sts:AssumeRole"}}]}}"#
    );
    std::fs::write(&trust, trust_text).unwrap();
    let (ok, out, err) = run(&["create-role", "ci", "--trust-policy", &format!("file://{}", trust.display())]);
    assert!(ok, "{err}");
    assert!(out.starts_with(&format!("created arn:aws:iam::{ME}:role/ci\n")), "{out}");
    let (ok, out, err) =
        run(&["put-role-policy", "--role-name", "ci", "--policy-name", "pull", "--policy-document", &policy_arg]);
    assert!(ok, "{err}");
    assert_eq!(out, "put policy pull on role ci\n");
    let (_, out, _) = run(&["list-roles"]);
    assert!(out.starts_with(&format!("arn:aws:iam::{ME}:role/ci  policies: pull\n")), "{out}");
    let (ok, out, err) = run(&["delete-role-policy", "--role-name", "ci", "--policy-name", "pull"]);
    assert!(ok, "{err}");
    assert_eq!(out, "deleted policy pull of role ci\n");
    let (_, out, _) = run(&["list-roles"]);
    assert!(out.starts_with(&format!("arn:aws:iam::{ME}:role/ci  policies: -\n")), "{out}");
    let (ok, _, err) = run(&["delete-role-policy", "--role-name", "ci", "--policy-name", "pull"]);
    assert!(!ok);
    assert!(err.contains("NoSuchEntity: The role policy with name pull cannot be found."), "{err}");
}

/// The cost of authorization: DescribeImages and CreateRepository rates for the learner (no IAM
/// user: no evaluation) and for a user whose full-access policy is evaluated on every call.
/// On demand: `cargo test --workspace --test it iam::authorization_cost -- --ignored --nocapture`.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "a measurement, not a check: run on demand"]
async fn authorization_cost() {
    let mock = InProcess::start().await;
    let learner = ecr_client(&mock.url, "ap-south-1").await;
    learner.create_repository().repository_name("test").send().await.unwrap();
    for n in 0..50 {
        put_sample(&learner, "test", &sample(100 + n, 100), &format!("t{n}")).await.unwrap();
    }
    let full = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"ecr:*","Resource":"*"},
      {"Effect":"Deny","Action":"ecr:DeleteRepository","Resource":"arn:aws:ecr:*:*:repository/prod-*"}]}"#;
    let user = client_of(&mock.url, &create_user(&mock.url, ME, "measured", full).await).await;
    let window =
        std::time::Duration::from_secs(std::env::var("BENCH_SECONDS").ok().and_then(|s| s.parse().ok()).unwrap_or(3));
    for (round, (who, client)) in
        [("learner", &learner), ("evaluated user", &user), ("learner", &learner)].into_iter().enumerate()
    {
        let (mut describes, mut creates) = (0u64, 0u64);
        let start = std::time::Instant::now();
        while start.elapsed() < window {
            client.describe_images().repository_name("test").send().await.unwrap();
            describes += 1;
        }
        let describe_rate = describes as f64 / start.elapsed().as_secs_f64();
        let start = std::time::Instant::now();
        while start.elapsed() < window {
            let name = format!("r-{round}-{creates}");
            client.create_repository().repository_name(name).send().await.unwrap();
            creates += 1;
        }
        let create_rate = creates as f64 / start.elapsed().as_secs_f64();
        println!("{who:>15}: DescribeImages {describe_rate:8.1}/s  CreateRepository {create_rate:8.1}/s");
    }
}

/// Issue 14 item 7: the learner (no IAM user) in another account's registry gets only what that
/// repository's policy allows, at the API and at the registry, with the resource-based denial.
#[tokio::test]
async fn another_accounts_registry_opens_only_through_its_repository_policy() {
    let mock = InProcess::start().await;
    let body = serde_json::json!({ "accountId": OTHER, "userName": "owner" });
    let (status, owner_key) = control(&mock.url, Method::POST, "keys", body).await;
    assert_eq!(status, StatusCode::OK, "{owner_key}");
    let owner = client_of(
        &mock.url,
        &User {
            id: owner_key["accessKeyId"].as_str().unwrap().into(),
            secret: owner_key["secretAccessKey"].as_str().unwrap().into(),
        },
    )
    .await;
    owner.create_repository().repository_name("shared").send().await.unwrap();
    put_sample(&owner, "shared", &sample(4, 500), "v1").await.unwrap();
    let learner = ecr_client(&mock.url, "ap-south-1").await;
    let me = format!("arn:aws:iam::{ME}:user/lab-learner");
    let no_resource = |action: &str, repository: &str| {
        let arn = format!("arn:aws:ecr:ap-south-1:{OTHER}:repository/{repository}");
        (
            "AccessDeniedException".to_owned(),
            denial(&me, action, &arn, &format!("because no resource-based policy allows the {action} action")),
        )
    };
    let create = learner.create_repository().registry_id(OTHER).repository_name("intruder").send().await;
    assert_eq!(outcome(create), Err(no_resource("ecr:CreateRepository", "intruder")));
    let v1 = ImageIdentifier::builder().image_tag("v1").build();
    let pull = || learner.batch_get_image().registry_id(OTHER).repository_name("shared").image_ids(v1.clone()).send();
    assert_eq!(outcome(pull().await), Err(no_resource("ecr:BatchGetImage", "shared")));

    owner.set_repository_policy().repository_name("shared").policy_text(allow_pull_from(ME)).send().await.unwrap();
    let pulled = pull().await.unwrap();
    assert_eq!(pulled.images().len(), 1);
    let push = learner.initiate_layer_upload().registry_id(OTHER).repository_name("shared").send().await;
    assert_eq!(outcome(push), Err(no_resource("ecr:InitiateLayerUpload", "shared")));
    // The learner's own registry is untouched by any of this.
    learner.create_repository().repository_name("mine").send().await.unwrap();

    let registry = Registry::login(&mock.url, &learner, Some(OTHER)).await;
    let (status, _, _) = registry.send(OTHER, Method::GET, "/v2/shared/manifests/v1", vec![]).await;
    assert_eq!(status, StatusCode::OK);
    let (status, code, message) = registry.send(OTHER, Method::POST, "/v2/shared/blobs/uploads/", vec![]).await;
    assert_eq!((status, code.as_str()), (StatusCode::FORBIDDEN, "DENIED"));
    assert_eq!(message, no_resource("ecr:InitiateLayerUpload", "shared").1);
}

/// A mock whose learner has pushed sample `seed` (1000-byte layers) as `test:v1`: the mock, the
/// learner's client and the image.
async fn with_test_v1(seed: usize) -> (InProcess, aws_sdk_ecr::Client, Sample) {
    let mock = InProcess::start().await;
    let learner = ecr_client(&mock.url, "ap-south-1").await;
    learner.create_repository().repository_name("test").send().await.unwrap();
    let image = sample(seed, 1000);
    put_sample(&learner, "test", &image, "v1").await.unwrap();
    (mock, learner, image)
}

/// An explicit deny in a repository policy applies to every caller, the lab's default learner (no
/// IAM user, full access otherwise) included: at the API and at the registry; taking the policy
/// away gives the access back.
#[tokio::test]
async fn a_repository_policys_explicit_deny_binds_the_learner_too() {
    let (mock, learner, _) = with_test_v1(4).await;
    let deny = r#"{"Version":"2012-10-17","Statement":[{"Sid":"NoPulls","Effect":"Deny","Principal":"*","Action":["ecr:BatchGetImage","ecr:GetDownloadUrlForLayer"]}]}"#;
    learner.set_repository_policy().repository_name("test").policy_text(deny).send().await.unwrap();
    let v1 = ImageIdentifier::builder().image_tag("v1").build();
    let me = format!("arn:aws:iam::{ME}:user/lab-learner");
    let repo_arn = format!("arn:aws:ecr:ap-south-1:{ME}:repository/test");
    let explicit = denial(&me, "ecr:BatchGetImage", &repo_arn, "with an explicit deny in a resource-based policy");

    let refused = learner.batch_get_image().repository_name("test").image_ids(v1.clone()).send().await;
    let error = refused.unwrap_err().into_service_error();
    assert_eq!(error.meta().code(), Some("AccessDeniedException"));
    assert_eq!(error.meta().message(), Some(explicit.as_str()));
    let registry = Registry::login(&mock.url, &learner, None).await;
    let (status, code, message) = registry.send(ME, Method::GET, "/v2/test/manifests/v1", vec![]).await;
    assert_eq!((status, code.as_str(), message.as_str()), (StatusCode::FORBIDDEN, "DENIED", explicit.as_str()));
    // What the policy does not deny stays allowed.
    learner.describe_images().repository_name("test").send().await.unwrap();

    learner.delete_repository_policy().repository_name("test").send().await.unwrap();
    learner.batch_get_image().repository_name("test").image_ids(v1).send().await.unwrap();
    let (status, _, _) = registry.send(ME, Method::GET, "/v2/test/manifests/v1", vec![]).await;
    assert_eq!(status, StatusCode::OK);
}
