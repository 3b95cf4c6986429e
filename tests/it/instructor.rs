//! `ecr-lab fault arm|clear|list` against a running `ecr-lab serve`: a server fault is a real
//! condition every client meets (the SDK and the registry answer as ECR would), `clear` undoes it,
//! and learner-side faults are refused with what to do instead.

use std::path::Path;
use std::process::Command;

use base64::Engine as _;
use bytes::Bytes;
use http_body_util::{BodyExt, Empty};
use hyper_util::client::legacy::Client;
use hyper_util::rt::TokioExecutor;

use crate::common::{Ran, Served, ecr_client, put_sample, sample};

fn fault(home: &Path, args: &[&str]) -> Ran {
    let output =
        Command::new(env!("CARGO_BIN_EXE_ecr-lab")).arg("fault").args(args).env("ECR_LAB_HOME", home).output().unwrap();
    Ran {
        stdout: String::from_utf8_lossy(&output.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&output.stderr).into_owned(),
        code: output.status.code().unwrap_or(-1),
    }
}

/// `GET /v2/` with a registry password, as docker sends it: the status and the body.
async fn registry_ping(url: &str, password: &str) -> (u16, String) {
    let auth = base64::engine::general_purpose::STANDARD.encode(format!("AWS:{password}"));
    let request = hyper::Request::get(format!("{url}/v2/"))
        .header("authorization", format!("Basic {auth}"))
        .body(Empty::<Bytes>::new())
        .unwrap();
    let response = Client::builder(TokioExecutor::new()).build_http().request(request).await.unwrap();
    let status = response.status().as_u16();
    let body = response.into_body().collect().await.unwrap().to_bytes();
    (status, String::from_utf8_lossy(&body).into_owned())
}

#[tokio::test]
async fn an_instructor_arms_server_faults_for_the_class_and_clears_them() {
    let home = tempfile::tempdir().unwrap();
    let server = Served::start(home.path(), &["--ephemeral"]);
    let url = server.url.clone();
    // The class types the ECR host (the lab shell sends it to the mock), not the server's address.
    let host = "920736617090.dkr.ecr.ap-south-1.amazonaws.com";
    let ecr = ecr_client(&url, "ap-south-1").await;
    ecr.create_repository().repository_name("test").send().await.unwrap();
    put_sample(&ecr, "test", &sample(1, 512), "v1").await.unwrap();
    let token = ecr.get_authorization_token().send().await.unwrap();
    let decoded = base64::engine::general_purpose::STANDARD
        .decode(token.authorization_data()[0].authorization_token().unwrap())
        .unwrap();
    let password = String::from_utf8(decoded).unwrap().strip_prefix("AWS:").unwrap().to_owned();
    assert_eq!(registry_ping(&url, &password).await.0, 200);

    // missing-repo: the repository is really gone, for every client.
    let armed = fault(home.path(), &["arm", "missing-repo", "--endpoint", &url]);
    assert_eq!(armed.code, 0, "{}{}", armed.stdout, armed.stderr);
    assert!(
        armed.stdout.contains(&format!("the class now meets, on `docker push {host}/test:v1`:\n  name unknown: The repository with name 'test' does not exist in the registry with id '920736617090'\n")),
        "{}",
        armed.stdout
    );
    let gone = ecr.describe_repositories().repository_names("test").send().await.unwrap_err();
    assert_eq!(aws_sdk_ecr::error::ProvideErrorMetadata::code(&gone), Some("RepositoryNotFoundException"));

    // immutable-overwrite needs the repository; arming it now fails with ECR's own answer.
    let refused = fault(home.path(), &["arm", "immutable-overwrite", "--endpoint", &url]);
    assert_eq!(refused.code, 1);
    assert!(
        refused.stderr.contains("(RepositoryNotFoundException) when calling the PutImageTagMutability operation"),
        "{}",
        refused.stderr
    );

    // clear creates it again (empty); then immutable-overwrite and expired-login arm.
    let cleared = fault(home.path(), &["clear", "--endpoint", &url]);
    assert_eq!(cleared.code, 0, "{}{}", cleared.stdout, cleared.stderr);
    assert_eq!(cleared.stdout, "cleared missing-repo (test)\n");
    let repository = ecr.describe_repositories().repository_names("test").send().await.unwrap();
    assert_eq!(repository.repositories()[0].image_tag_mutability().unwrap().as_str(), "MUTABLE");
    assert!(ecr.list_images().repository_name("test").send().await.unwrap().image_ids().is_empty());

    let immutable = fault(home.path(), &["arm", "immutable-overwrite", "--endpoint", &url]);
    assert_eq!(immutable.code, 0, "{}", immutable.stderr);
    let repository = ecr.describe_repositories().repository_names("test").send().await.unwrap();
    assert_eq!(repository.repositories()[0].image_tag_mutability().unwrap().as_str(), "IMMUTABLE");

    let expired = fault(home.path(), &["arm", "expired-login", "--endpoint", &url]);
    assert_eq!(expired.code, 0, "{}", expired.stderr);
    let (status, body) = registry_ping(&url, &password).await;
    assert_eq!(status, 403, "{body}");
    assert!(body.contains("Your authorization token has expired. Reauthenticate and try again."), "{body}");

    // clear undoes newest first; the clock does not go back.
    let cleared = fault(home.path(), &["clear", "--endpoint", &url]);
    assert_eq!(
        cleared.stdout,
        "cleared expired-login: the lab clock stays where it is (learners log in again)\ncleared immutable-overwrite (test)\n"
    );
    let repository = ecr.describe_repositories().repository_names("test").send().await.unwrap();
    assert_eq!(repository.repositories()[0].image_tag_mutability().unwrap().as_str(), "MUTABLE");
    assert_eq!(
        fault(home.path(), &["clear", "--endpoint", &url]).stdout,
        format!("no faults armed on {url} (by this machine)\n")
    );
}

#[test]
fn learner_side_and_unknown_faults_are_refused_with_what_to_do() {
    let home = tempfile::tempdir().unwrap();
    let learner = fault(home.path(), &["arm", "missing-login", "--endpoint", "http://127.0.0.1:9"]);
    assert_eq!(learner.code, 1);
    assert!(
        learner.stderr.contains("`missing-login` (docker holds no login for the registry) is on the learner's side"),
        "{}",
        learner.stderr
    );
    assert!(
        learner.stderr.contains("  docker logout 920736617090.dkr.ecr.ap-south-1.amazonaws.com > /dev/null"),
        "{}",
        learner.stderr
    );
    let unknown = fault(home.path(), &["arm", "no-such-fault", "--endpoint", "http://127.0.0.1:9"]);
    assert_eq!(unknown.code, 1);
    assert!(
        unknown.stderr.contains("no fault `no-such-fault`; the catalogue has missing-repo, "),
        "{}",
        unknown.stderr
    );
    let list = fault(home.path(), &["list"]);
    assert!(list.stdout.contains("missing-repo          server   the repository does not exist\n"), "{}", list.stdout);
    assert!(
        list.stdout.contains("missing-login         learner  docker holds no login for the registry\n"),
        "{}",
        list.stdout
    );
}

#[tokio::test]
async fn missing_repo_arms_when_the_repository_never_existed_and_expired_login_says_one_thing() {
    let home = tempfile::tempdir().unwrap();
    let server = Served::start(home.path(), &["--ephemeral"]);
    let url = server.url.clone();
    let ecr = ecr_client(&url, "ap-south-1").await;
    let armed = fault(home.path(), &["arm", "missing-repo", "--endpoint", &url]);
    assert_eq!(armed.code, 0, "{}{}", armed.stdout, armed.stderr);
    assert!(
        armed.stdout.starts_with(&format!("armed missing-repo on {url}: the repository test is deleted")),
        "{}",
        armed.stdout
    );
    assert!(ecr.describe_repositories().send().await.unwrap().repositories().is_empty());
    let cleared = fault(home.path(), &["clear", "--endpoint", &url]);
    assert_eq!(cleared.stdout, "cleared missing-repo (test)\n");

    let expired = fault(home.path(), &["arm", "expired-login", "--endpoint", &url]);
    assert_eq!(expired.code, 0, "{}", expired.stderr);
    assert!(!expired.stdout.contains("nothing to undo"), "{}", expired.stdout);
    assert!(!expired.stdout.contains("`ecr-lab fault clear` undoes it."), "{}", expired.stdout);
    assert!(expired.stdout.contains("learners log in again"), "{}", expired.stdout);
}

#[test]
fn fault_list_takes_the_endpoint_the_readme_shows() {
    let home = tempfile::tempdir().unwrap();
    let list = fault(home.path(), &["list", "--endpoint", "http://127.0.0.1:9"]);
    assert_eq!(list.code, 0, "{}", list.stderr);
    assert!(list.stdout.contains("missing-repo          server   the repository does not exist\n"), "{}", list.stdout);
    assert!(list.stdout.contains("no faults armed on http://127.0.0.1:9 (by this machine)"), "{}", list.stdout);
}

#[tokio::test]
async fn access_denied_faults_arm_an_iam_user_whose_calls_are_refused_with_awss_text() {
    let home = tempfile::tempdir().unwrap();
    let server = Served::start(home.path(), &["--ephemeral"]);
    let url = server.url.clone();
    let ecr = ecr_client(&url, "ap-south-1").await;
    ecr.create_repository().repository_name("test").send().await.unwrap();
    put_sample(&ecr, "test", &sample(1, 512), "v1").await.unwrap();

    let armed = fault(home.path(), &["arm", "access-denied-push", "--endpoint", &url]);
    assert_eq!(armed.code, 0, "{}{}", armed.stdout, armed.stderr);
    let denial = "denied: User: arn:aws:iam::920736617090:user/deploy is not authorized to perform: \
                  ecr:InitiateLayerUpload on resource: arn:aws:ecr:ap-south-1:920736617090:repository/test because \
                  no identity-based policy allows the ecr:InitiateLayerUpload action";
    assert!(armed.stdout.contains(&format!("\n  {denial}\n")), "{}", armed.stdout);
    let export = |name: &str| {
        let prefix = format!("export {name}=");
        armed
            .stdout
            .lines()
            .find_map(|l| l.strip_prefix(&prefix))
            .unwrap_or_else(|| panic!("{}", armed.stdout))
            .to_owned()
    };
    let (id, secret) = (export("AWS_ACCESS_KEY_ID"), export("AWS_SECRET_ACCESS_KEY"));
    assert!(id.starts_with("AKIA"), "{id}");

    // What a learner working as deploy meets: pulls work, the push's first upload is refused.
    let deploy = crate::common::ecr_client_with(&url, "ap-south-1", &id, &secret, None).await;
    let v1 = aws_sdk_ecr::types::ImageIdentifier::builder().image_tag("v1").build();
    deploy.batch_get_image().repository_name("test").image_ids(v1).send().await.unwrap();
    let refused = deploy.initiate_layer_upload().repository_name("test").send().await.unwrap_err();
    let refused = refused.into_service_error();
    assert_eq!(aws_sdk_ecr::error::ProvideErrorMetadata::code(&refused), Some("AccessDeniedException"));
    assert_eq!(aws_sdk_ecr::error::ProvideErrorMetadata::message(&refused), denial.strip_prefix("denied: "));

    // Armed again: the user is there already; clear leaves it.
    let again = fault(home.path(), &["arm", "access-denied-push", "--endpoint", &url]);
    assert_eq!(again.code, 0, "{}", again.stderr);
    assert!(again.stdout.contains("the user existed already"), "{}", again.stdout);
    let pull = fault(home.path(), &["arm", "access-denied-pull", "--endpoint", &url]);
    assert_eq!(pull.code, 0, "{}", pull.stderr);
    assert!(pull.stdout.contains("user/ci-pusher is not authorized to perform: ecr:BatchGetImage"), "{}", pull.stdout);
    let cleared = fault(home.path(), &["clear", "--endpoint", &url]);
    assert!(cleared.stdout.contains("cleared access-denied-push: user deploy stays"), "{}", cleared.stdout);
    let list = fault(home.path(), &["list"]);
    assert!(list.stdout.contains("access-denied-push    server   "), "{}", list.stdout);

    // expired-session: the clock passes every role session's hour.
    let expired = fault(home.path(), &["arm", "expired-session", "--endpoint", &url]);
    assert_eq!(expired.code, 0, "{}", expired.stderr);
    assert!(
        expired.stdout.contains(
            "the class now meets, on `aws ecr describe-images --repository-name test`:\n  An error occurred \
             (ExpiredTokenException) when calling the DescribeImages operation: The security token included in the \
             request is expired\n"
        ),
        "{}",
        expired.stdout
    );
    assert!(expired.stdout.contains("every role session (1 hour by default) has ended"), "{}", expired.stdout);
}
