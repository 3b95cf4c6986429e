//! `--backend aws` without an AWS account: wiremock stands in for the AWS endpoints (STS's query
//! protocol, ECR's JSON protocol), and `ecr-lab serve` for an account that keeps state. Proves that
//! the standard chain picks the credentials, that `doctor` reports each failure with its fix, that
//! AWS's exact error text reaches the learner with one line of what to do, that cleanup deletes only
//! what carries the lab's tag (also after the lab was killed), and that throttling is retried a
//! bounded number of times.

use std::path::Path;
use std::time::{Duration, Instant};

use wiremock::matchers::{body_string_contains, header, method};
use wiremock::{Mock, MockServer, Request, ResponseTemplate};

use crate::common::Ran;

const ACCOUNT: &str = "123456789012";
const ARN: &str = "arn:aws:iam::123456789012:user/alice";

/// Runs ecr-lab with no AWS settings from this machine: only `env` (and files under `home`).
pub async fn ecr_lab(home: &Path, args: &[&str], env: &[(&str, &str)], stdin: Option<&str>) -> Ran {
    let mut command = tokio::process::Command::new(env!("CARGO_BIN_EXE_ecr-lab"));
    command
        .args(args)
        .env("ECR_LAB_HOME", home)
        .env("AWS_CONFIG_FILE", home.join("no-aws-config"))
        .env("AWS_SHARED_CREDENTIALS_FILE", home.join("no-aws-credentials"))
        .env("AWS_EC2_METADATA_DISABLED", "true")
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .kill_on_drop(true);
    for (name, _) in std::env::vars() {
        if name.starts_with("AWS_") || name == "ECR_LAB_REGISTRY_URL" {
            command.env_remove(name);
        }
    }
    command.env("AWS_CONFIG_FILE", home.join("no-aws-config"));
    command.env("AWS_SHARED_CREDENTIALS_FILE", home.join("no-aws-credentials"));
    command.env("AWS_EC2_METADATA_DISABLED", "true");
    // The stand-ins are reached by the built-in docker; a Docker engine on the machine (scripts/test
    // starts one) would otherwise be chosen on AWS. `the_shell_hands_docker_to_a_real_engine` tests that.
    command.env("ECR_LAB_DOCKER", "builtin");
    for (name, value) in env {
        command.env(name, value);
    }
    let mut child = command.spawn().expect("start ecr-lab");
    if let Some(text) = stdin {
        use tokio::io::AsyncWriteExt as _;
        let mut input = child.stdin.take().unwrap();
        input.write_all(text.as_bytes()).await.unwrap();
    }
    drop(child.stdin.take());
    let output = tokio::time::timeout(Duration::from_secs(60), child.wait_with_output())
        .await
        .expect("ecr-lab finished within 60 s")
        .unwrap();
    let ran = Ran {
        stdout: String::from_utf8_lossy(&output.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&output.stderr).into_owned(),
        code: output.status.code().unwrap_or(-1),
    };
    assert!(!ran.stderr.contains("panicked"), "ecr-lab panicked:\n{}", ran.stderr);
    ran
}

fn identity_xml() -> String {
    format!(
        "<GetCallerIdentityResponse xmlns=\"https://sts.amazonaws.com/doc/2011-06-15/\"><GetCallerIdentityResult>\
         <Arn>{ARN}</Arn><UserId>AIDAEXAMPLEALICE</UserId><Account>{ACCOUNT}</Account></GetCallerIdentityResult>\
         <ResponseMetadata><RequestId>01234567-89ab-cdef-0123-456789abcdef</RequestId></ResponseMetadata>\
         </GetCallerIdentityResponse>"
    )
}

fn sts_error(status: u16, code: &str, message: &str) -> ResponseTemplate {
    ResponseTemplate::new(status).set_body_raw(
        format!(
            "<ErrorResponse xmlns=\"https://sts.amazonaws.com/doc/2011-06-15/\"><Error><Type>Sender</Type>\
             <Code>{code}</Code><Message>{message}</Message></Error><RequestId>r-1</RequestId></ErrorResponse>"
        ),
        "text/xml",
    )
}

fn ecr_error(code: &str, message: &str) -> ResponseTemplate {
    ResponseTemplate::new(400).set_body_raw(
        serde_json::json!({ "__type": code, "message": message }).to_string(),
        "application/x-amz-json-1.1",
    )
}

fn ecr_op(operation: &str) -> wiremock::matchers::HeaderExactMatcher {
    header("x-amz-target", format!("AmazonEC2ContainerRegistry_V20150921.{operation}").as_str())
}

/// STS that knows Alice, and ECR that knows no repository (so every probe is allowed).
async fn aws_standin() -> MockServer {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(body_string_contains("Action=GetCallerIdentity"))
        .respond_with(ResponseTemplate::new(200).set_body_raw(identity_xml(), "text/xml"))
        .mount(&server)
        .await;
    server
}

async fn mount_ecr_default(server: &MockServer) {
    Mock::given(method("POST"))
        .and(wiremock::matchers::header_exists("x-amz-target"))
        .respond_with(ecr_error(
            "RepositoryNotFoundException",
            "The repository with name 'probe' does not exist in the registry with id '123456789012'",
        ))
        .with_priority(10)
        .mount(server)
        .await;
}

/// The access key id a request was signed with, and its credential scope's region.
fn signer(request: &Request) -> (String, String) {
    let auth = request.headers.get("authorization").and_then(|v| v.to_str().ok()).unwrap_or_default();
    let credential = auth.split("Credential=").nth(1).unwrap_or_default();
    let mut parts = credential.split('/');
    let key = parts.next().unwrap_or_default().to_owned();
    let region = parts.nth(1).unwrap_or_default().to_owned();
    (key, region)
}

async fn sts_signers(server: &MockServer) -> Vec<(String, String)> {
    let requests = server.received_requests().await.unwrap();
    requests.iter().filter(|r| String::from_utf8_lossy(&r.body).contains("GetCallerIdentity")).map(signer).collect()
}

#[tokio::test]
async fn the_standard_chain_picks_the_credentials_environment_profile_process_and_sso() {
    let server = aws_standin().await;
    mount_ecr_default(&server).await;
    let url = server.uri();
    let home = tempfile::tempdir().unwrap();
    let endpoint = [("AWS_ENDPOINT_URL", url.as_str())];

    // 1. The environment.
    let env = [
        endpoint[0],
        ("AWS_ACCESS_KEY_ID", "AKIAFROMENVIRONMENT1"),
        ("AWS_SECRET_ACCESS_KEY", "environment-secret"),
        ("AWS_REGION", "eu-west-1"),
    ];
    let ran = ecr_lab(home.path(), &["doctor", "--backend", "aws"], &env, None).await;
    assert!(ran.stdout.contains("ok      region: eu-west-1 (from AWS_REGION"), "{}", ran.stdout);
    assert!(ran.stdout.contains("ok      credentials: found: access key ****ENT1 (long-lived)"), "{}", ran.stdout);
    assert!(ran.stdout.contains(&format!("ok      identity: account {ACCOUNT}, {ARN}")), "{}", ran.stdout);
    assert_eq!(sts_signers(&server).await.last().unwrap(), &("AKIAFROMENVIRONMENT1".into(), "eu-west-1".into()));

    // 2. A named profile in the shared credentials file, its region in the config file.
    std::fs::write(
        home.path().join("no-aws-credentials"),
        "[lab]\naws_access_key_id = AKIAFROMPROFILE00001\naws_secret_access_key = profile-secret\n",
    )
    .unwrap();
    std::fs::write(home.path().join("no-aws-config"), "[profile lab]\nregion = us-west-2\n").unwrap();
    let ran = ecr_lab(home.path(), &["doctor", "--backend", "aws", "--profile", "lab"], &endpoint, None).await;
    assert!(ran.stdout.contains("access key ****0001 (long-lived), profile lab"), "{}", ran.stdout);
    assert_eq!(sts_signers(&server).await.last().unwrap(), &("AKIAFROMPROFILE00001".into(), "us-west-2".into()));

    // 3. credential_process, temporary credentials; --region wins over the profile's.
    std::fs::write(
        home.path().join("no-aws-config"),
        "[profile tool]\nregion = us-west-2\ncredential_process = printf '{\"Version\":1,\"AccessKeyId\":\"AKIAFROMPROCESS00001\",\"SecretAccessKey\":\"s\",\"SessionToken\":\"t\"}'\n",
    )
    .unwrap();
    let args = ["doctor", "--backend", "aws", "--profile", "tool", "--region", "ap-south-1"];
    let ran = ecr_lab(home.path(), &args, &endpoint, None).await;
    assert!(ran.stdout.contains("ok      region: ap-south-1 (from --region)"), "{}", ran.stdout);
    assert!(ran.stdout.contains("access key ****0001 (temporary), profile tool"), "{}", ran.stdout);
    assert_eq!(sts_signers(&server).await.last().unwrap(), &("AKIAFROMPROCESS00001".into(), "ap-south-1".into()));
    let session = server
        .received_requests()
        .await
        .unwrap()
        .into_iter()
        .rfind(|r| String::from_utf8_lossy(&r.body).contains("GetCallerIdentity"))
        .and_then(|r| r.headers.get("x-amz-security-token").map(|v| v.to_str().unwrap().to_owned()));
    assert_eq!(session.as_deref(), Some("t"), "temporary credentials send their session token");

    // 4. An IAM Identity Center (SSO) profile after `aws sso login`: the cached token is traded for
    //    role credentials (GetRoleCredentials, here answered by the stand-in).
    Mock::given(method("GET"))
        .and(wiremock::matchers::path("/federation/credentials"))
        .and(header("x-amz-sso_bearer_token", "cached-sso-token"))
        .respond_with(ResponseTemplate::new(200).set_body_raw(
            r#"{"roleCredentials":{"accessKeyId":"AKIAFROMSSO000000001","secretAccessKey":"s","sessionToken":"sso-session","expiration":4102444800000}}"#,
            "application/json",
        ))
        .mount(&server)
        .await;
    std::fs::write(
        home.path().join("no-aws-config"),
        "[profile learner]\nsso_session = lab\nsso_account_id = 123456789012\nsso_role_name = LabRole\nregion = eu-central-1\n\
         [sso-session lab]\nsso_start_url = https://example.awsapps.com/start\nsso_region = eu-central-1\n",
    )
    .unwrap();
    let cache = home.path().join(".aws/sso/cache");
    std::fs::create_dir_all(&cache).unwrap();
    // The cache file is named by the sha1 of the session name, `lab`.
    std::fs::write(
        cache.join("3953f9ddf975ab5097ee468d99555c5b441169bf.json"),
        r#"{"accessToken":"cached-sso-token","expiresAt":"2099-01-01T00:00:00Z","region":"eu-central-1","startUrl":"https://example.awsapps.com/start"}"#,
    )
    .unwrap();
    let home_dir = home.path().to_str().unwrap();
    let env = [endpoint[0], ("HOME", home_dir)];
    let ran = ecr_lab(home.path(), &["doctor", "--backend", "aws", "--profile", "learner"], &env, None).await;
    assert!(ran.stdout.contains("access key ****0001 (temporary), profile learner"), "{}{}", ran.stdout, ran.stderr);
    assert_eq!(sts_signers(&server).await.last().unwrap(), &("AKIAFROMSSO000000001".into(), "eu-central-1".into()));
}

#[tokio::test]
async fn with_no_credentials_at_all_doctor_says_so_quickly() {
    let home = tempfile::tempdir().unwrap();
    // An instance metadata service that accepts connections and never answers (the worst case off EC2).
    let silent = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let imds = format!("http://{}", silent.local_addr().unwrap());
    std::thread::spawn(move || {
        let mut held = Vec::new();
        for stream in silent.incoming() {
            held.push(stream);
        }
    });
    let env = [("AWS_EC2_METADATA_DISABLED", "false"), ("AWS_EC2_METADATA_SERVICE_ENDPOINT", imds.as_str())];
    let started = Instant::now();
    let ran = ecr_lab(home.path(), &["doctor", "--backend", "aws"], &env, None).await;
    let took = started.elapsed();
    assert_eq!(ran.code, 1, "{}{}", ran.stdout, ran.stderr);
    assert!(ran.stdout.contains("PROBLEM credentials: Unable to locate credentials"), "{}", ran.stdout);
    assert!(
        ran.stdout.contains("        fix: run `aws configure` (an access key), `aws sso login --profile NAME` then pass --profile NAME, or export AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY"),
        "{}",
        ran.stdout
    );
    assert!(ran.stdout.contains("note    permissions: not checked"), "{}", ran.stdout);
    assert!(ran.stderr.contains("something above blocks the lab on the aws backend"), "{}", ran.stderr);
    assert!(took < Duration::from_secs(8), "no credentials must be known in seconds, took {took:?}");
    eprintln!("doctor with no credentials and a silent IMDS took {took:?}");

    // IMDS switched off, as off EC2: well under a second or two.
    let started = Instant::now();
    let ran = ecr_lab(home.path(), &["doctor", "--backend", "aws"], &[], None).await;
    assert!(ran.stdout.contains("PROBLEM credentials: Unable to locate credentials"), "{}", ran.stdout);
    eprintln!("doctor with no credentials (IMDS disabled) took {:?}", started.elapsed());
}

#[tokio::test]
async fn doctor_reports_each_failure_with_aws_text_and_its_fix() {
    let home = tempfile::tempdir().unwrap();
    let keys = [("AWS_ACCESS_KEY_ID", "AKIAEXAMPLEKEY000001"), ("AWS_SECRET_ACCESS_KEY", "secret")];
    let cases: [(&str, &str, &str, &str); 3] = [
        (
            "InvalidClientTokenId",
            "The security token included in the request is invalid.",
            "PROBLEM identity: An error occurred (InvalidClientTokenId) when calling the GetCallerIdentity operation: The security token included in the request is invalid.",
            "        fix: AWS does not know this access key: check AWS_ACCESS_KEY_ID or your profile (`aws configure list`), or create a new access key",
        ),
        (
            "ExpiredToken",
            "The security token included in the request is expired",
            "PROBLEM identity: An error occurred (ExpiredToken) when calling the GetCallerIdentity operation: The security token included in the request is expired",
            "        fix: your temporary credentials have expired: get new ones (`aws sso login`, or a new session token) and try again",
        ),
        (
            "SignatureDoesNotMatch",
            "The request signature we calculated does not match the signature you provided. Check your AWS Secret Access Key and signing method. Consult the service documentation for details.",
            "PROBLEM identity: An error occurred (SignatureDoesNotMatch) when calling the GetCallerIdentity operation: The request signature we calculated does not match",
            "        fix: the secret access key does not belong to this access key id: enter the pair again (`aws configure`)",
        ),
    ];
    for (code, message, line, fix) in cases {
        let server = MockServer::start().await;
        Mock::given(body_string_contains("Action=GetCallerIdentity"))
            .respond_with(sts_error(403, code, message))
            .mount(&server)
            .await;
        let url = server.uri();
        let env = [keys[0], keys[1], ("AWS_ENDPOINT_URL", url.as_str())];
        let ran = ecr_lab(home.path(), &["doctor", "--backend", "aws"], &env, None).await;
        assert_eq!(ran.code, 1, "{code}: {}{}", ran.stdout, ran.stderr);
        assert!(ran.stdout.contains(line), "{code}:\n{}", ran.stdout);
        assert!(ran.stdout.contains(fix), "{code}:\n{}", ran.stdout);
    }

    // Temporary credentials past their expiry (here from credential_process): known before any call.
    std::fs::write(
        home.path().join("no-aws-config"),
        "[profile old]\ncredential_process = printf '{\"Version\":1,\"AccessKeyId\":\"AKIAOLD\",\"SecretAccessKey\":\"s\",\"SessionToken\":\"t\",\"Expiration\":\"2020-01-01T00:00:00Z\"}'\n",
    )
    .unwrap();
    let ran = ecr_lab(home.path(), &["doctor", "--backend", "aws", "--profile", "old"], &[], None).await;
    assert_eq!(ran.code, 1, "{}{}", ran.stdout, ran.stderr);
    assert!(
        ran.stdout.contains("PROBLEM credentials: The credentials the chain found have expired.\n        fix: your temporary credentials have expired"),
        "{}",
        ran.stdout
    );
    std::fs::remove_file(home.path().join("no-aws-config")).unwrap();

    // Access denied for one of the lab's actions: named, with the policy to ask for.
    let server = aws_standin().await;
    Mock::given(ecr_op("DeleteRepository"))
        .respond_with(ecr_error(
            "AccessDeniedException",
            "User: arn:aws:iam::123456789012:user/alice is not authorized to perform: ecr:DeleteRepository on resource: arn:aws:ecr:ap-south-1:123456789012:repository/ecr-lab-doctor-probe because no identity-based policy allows the ecr:DeleteRepository action",
        ))
        .mount(&server)
        .await;
    mount_ecr_default(&server).await;
    let url = server.uri();
    let env = [keys[0], keys[1], ("AWS_ENDPOINT_URL", url.as_str())];
    let ran = ecr_lab(home.path(), &["doctor", "--backend", "aws"], &env, None).await;
    assert_eq!(ran.code, 1, "{}{}", ran.stdout, ran.stderr);
    assert!(ran.stdout.contains("PROBLEM permissions: access denied for ecr:DeleteRepository\n"), "{}", ran.stdout);
    assert!(
        ran.stdout.contains("        fix: ask your AWS administrator for a policy that allows ecr:DeleteRepository"),
        "{}",
        ran.stdout
    );
    // The probes create nothing: only reads and calls on a repository that does not exist.
    for request in server.received_requests().await.unwrap() {
        let target = request.headers.get("x-amz-target").map(|v| v.to_str().unwrap().to_owned()).unwrap_or_default();
        assert!(!target.ends_with("CreateRepository") && !target.ends_with("PutImage"), "a probe sent {target}");
        let body = String::from_utf8_lossy(&request.body);
        if body.contains("repositoryName") {
            assert!(body.contains("ecr-lab-doctor-probe-"), "a probe named a real repository: {body}");
        }
    }

    // A clock two hours off.
    let server = aws_standin().await;
    mount_ecr_default(&server).await;
    let two_hours_ago = httpdate::fmt_http_date(std::time::SystemTime::now() - Duration::from_secs(7200));
    Mock::given(method("GET"))
        .respond_with(ResponseTemplate::new(302).insert_header("date", two_hours_ago.as_str()))
        .mount(&server)
        .await;
    let url = server.uri();
    let env = [keys[0], keys[1], ("AWS_ENDPOINT_URL", url.as_str())];
    let ran = ecr_lab(home.path(), &["doctor", "--backend", "aws"], &env, None).await;
    assert_eq!(ran.code, 1, "{}{}", ran.stdout, ran.stderr);
    assert!(ran.stdout.contains("PROBLEM clock: this computer's clock is 72"), "{}", ran.stdout);
    assert!(ran.stdout.contains("s ahead of AWS's\n        fix: set the clock right"), "{}", ran.stdout);

    // All well: exit 0 and "ready".
    let server = aws_standin().await;
    mount_ecr_default(&server).await;
    let url = server.uri();
    let env = [keys[0], keys[1], ("AWS_ENDPOINT_URL", url.as_str())];
    let ran = ecr_lab(home.path(), &["doctor", "--backend", "aws"], &env, None).await;
    assert_eq!(ran.code, 0, "{}{}", ran.stdout, ran.stderr);
    assert!(ran.stdout.contains("ok      permissions: the lab's 9 ECR actions answered"), "{}", ran.stdout);
    assert!(ran.stdout.contains("ready: the lab can run on the aws backend"), "{}", ran.stdout);
}

#[tokio::test]
async fn the_lab_shows_aws_exact_error_text_and_what_to_do() {
    let server = aws_standin().await;
    let denied = "User: arn:aws:iam::123456789012:user/alice is not authorized to perform: ecr:CreateRepository on resource: arn:aws:ecr:eu-west-1:123456789012:repository/ecr-lab-test because no identity-based policy allows the ecr:CreateRepository action";
    Mock::given(ecr_op("CreateRepository"))
        .respond_with(ecr_error("AccessDeniedException", denied))
        .mount(&server)
        .await;
    Mock::given(ecr_op("DescribeRepositories"))
        .respond_with(ecr_error("ExpiredTokenException", "The security token included in the request is expired"))
        .mount(&server)
        .await;
    let home = tempfile::tempdir().unwrap();
    let url = server.uri();
    let env = [
        ("AWS_ACCESS_KEY_ID", "AKIAEXAMPLEKEY000001"),
        ("AWS_SECRET_ACCESS_KEY", "secret"),
        ("AWS_REGION", "eu-west-1"),
        ("AWS_ENDPOINT_URL", url.as_str()),
    ];
    let script = "aws ecr create-repository --repository-name ecr-lab-test\naws ecr describe-repositories\naws sts get-caller-identity\n";
    let ran = ecr_lab(home.path(), &["shell", "--backend", "aws"], &env, Some(script)).await;
    assert!(
        ran.stderr.contains(&format!(
            "\nAn error occurred (AccessDeniedException) when calling the CreateRepository operation: {denied}\n\
             ecr-lab: what to do: your identity is not allowed ecr:CreateRepository: ask your AWS administrator for a policy that allows ecr:CreateRepository"
        )),
        "{}",
        ran.stderr
    );
    assert!(
        ran.stderr.contains(
            "\nAn error occurred (ExpiredTokenException) when calling the DescribeRepositories operation: The security token included in the request is expired\n\
             ecr-lab: what to do: your temporary credentials have expired"
        ),
        "{}",
        ran.stderr
    );
    assert!(ran.stdout.contains(&format!("\"Account\": \"{ACCOUNT}\"")), "{}", ran.stdout);
    // The repository was recorded before the call (so a crash cannot lose it) and tagged as the lab's.
    let records = std::fs::read_to_string(home.path().join("aws-created.jsonl")).unwrap();
    assert!(records.contains("\"account\":\"123456789012\",\"region\":\"eu-west-1\",\"repository\":\"ecr-lab-test\""));
    let create = server
        .received_requests()
        .await
        .unwrap()
        .into_iter()
        .find(|r| r.headers.get("x-amz-target").is_some_and(|t| t.to_str().unwrap().ends_with(".CreateRepository")))
        .unwrap();
    let body: serde_json::Value = serde_json::from_slice(&create.body).unwrap();
    assert_eq!(body["tags"][0]["Key"], "ecr-lab", "{body}");
    assert!(records.contains(body["tags"][0]["Value"].as_str().unwrap()), "the tag carries the recorded run id");
}

#[tokio::test]
async fn throttling_is_retried_a_bounded_number_of_times() {
    let server = aws_standin().await;
    Mock::given(ecr_op("DescribeRepositories"))
        .respond_with(ecr_error("ThrottlingException", "Rate exceeded"))
        .mount(&server)
        .await;
    let home = tempfile::tempdir().unwrap();
    let url = server.uri();
    let env = [
        ("AWS_ACCESS_KEY_ID", "AKIAEXAMPLEKEY000001"),
        ("AWS_SECRET_ACCESS_KEY", "s"),
        ("AWS_ENDPOINT_URL", url.as_str()),
    ];
    let started = Instant::now();
    let ran = ecr_lab(home.path(), &["cleanup", "--backend", "aws"], &env, None).await;
    assert_eq!(ran.code, 1, "{}{}", ran.stdout, ran.stderr);
    let tries = server
        .received_requests()
        .await
        .unwrap()
        .iter()
        .filter(|r| {
            r.headers.get("x-amz-target").is_some_and(|t| t.to_str().unwrap().ends_with("DescribeRepositories"))
        })
        .count();
    assert_eq!(tries, 3, "three tries, then the error");
    assert!(
        ran.stderr.contains(
            "An error occurred (ThrottlingException) when calling the DescribeRepositories operation: Rate exceeded\n\
             what to do: AWS is limiting the request rate (ecr-lab tried 3 times): wait a minute, then try again"
        ),
        "{}",
        ran.stderr
    );
    eprintln!("three throttled tries took {:?}", started.elapsed());
}

#[tokio::test]
async fn cleanup_deletes_only_what_carries_the_lab_tag_even_after_a_kill() {
    use aws_sdk_ecr::types::Tag;
    let home = tempfile::tempdir().unwrap();
    let account = crate::common::Served::start(&home.path().join("account"), &["--ephemeral"]);
    let url = account.url.clone();
    let ecr = crate::common::ecr_client(&url, "ap-south-1").await;
    // What the learner owned before: untagged, and tagged by someone else.
    ecr.create_repository().repository_name("mine").send().await.unwrap();
    let team = Tag::builder().key("team").value("web").build().unwrap();
    ecr.create_repository().repository_name("theirs").tags(team).send().await.unwrap();
    let env = [
        ("AWS_ENDPOINT_URL", url.as_str()),
        ("AWS_ACCESS_KEY_ID", mock_registry::defaults::DEFAULT_ACCESS_KEY_ID),
        ("AWS_SECRET_ACCESS_KEY", mock_registry::defaults::DEFAULT_SECRET_ACCESS_KEY),
        ("ECR_LAB_REGISTRY_URL", url.as_str()),
    ];

    // The lab shell creates repositories in two regions, then is killed with no chance to clean up.
    let lab = home.path().join("lab");
    let mut command = tokio::process::Command::new(env!("CARGO_BIN_EXE_ecr-lab"));
    command
        .args(["shell", "--backend", "aws"])
        .env("ECR_LAB_HOME", &lab)
        .env("AWS_CONFIG_FILE", home.path().join("none"))
        .env("AWS_SHARED_CREDENTIALS_FILE", home.path().join("none"))
        .env("AWS_EC2_METADATA_DISABLED", "true")
        .env_remove("AWS_PROFILE")
        .env_remove("AWS_REGION")
        .env_remove("AWS_DEFAULT_REGION")
        .envs(env)
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .kill_on_drop(true);
    let mut shell = command.spawn().unwrap();
    {
        use tokio::io::AsyncWriteExt as _;
        let stdin = shell.stdin.as_mut().unwrap();
        stdin.write_all(b"aws ecr create-repository --repository-name ecr-lab-test\n").await.unwrap();
        stdin
            .write_all(b"aws ecr create-repository --repository-name ecr-lab-test --region us-west-2\n")
            .await
            .unwrap();
        stdin.flush().await.unwrap();
    }
    let west = crate::common::ecr_client(&url, "us-west-2").await;
    let deadline = Instant::now() + Duration::from_secs(30);
    while west.describe_repositories().repository_names("ecr-lab-test").send().await.is_err() {
        assert!(Instant::now() < deadline, "the shell did not create the repositories");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    shell.start_kill().unwrap(); // SIGKILL, by PID
    shell.wait().await.unwrap();
    let records = std::fs::read_to_string(lab.join("aws-created.jsonl")).unwrap();
    assert_eq!(records.lines().count(), 2, "{records}");

    let ran = ecr_lab(&lab, &["cleanup", "--backend", "aws"], &env, None).await;
    assert_eq!(ran.code, 0, "{}{}", ran.stdout, ran.stderr);
    assert!(ran.stdout.contains("deleted   ap-south-1/ecr-lab-test (tagged ecr-lab="), "{}", ran.stdout);
    assert!(ran.stdout.contains("deleted   us-west-2/ecr-lab-test (tagged ecr-lab="), "{}", ran.stdout);
    assert!(!ran.stdout.contains("mine") && !ran.stdout.contains("theirs"), "{}", ran.stdout);
    let left: Vec<String> = ecr
        .describe_repositories()
        .send()
        .await
        .unwrap()
        .repositories()
        .iter()
        .filter_map(|r| r.repository_name().map(str::to_owned))
        .collect();
    assert_eq!(left, ["mine", "theirs"]);
    assert!(west.describe_repositories().send().await.unwrap().repositories().is_empty());
    assert!(!lab.join("aws-created.jsonl").exists(), "settled records are forgotten");

    // Again: nothing of the lab's is left, and the learner's repositories are still not touched.
    let ran = ecr_lab(&lab, &["cleanup", "--backend", "aws"], &env, None).await;
    assert_eq!(ran.code, 0, "{}{}", ran.stdout, ran.stderr);
    assert!(ran.stdout.contains("nothing of the lab's was found"), "{}", ran.stdout);
    assert_eq!(ecr.describe_repositories().send().await.unwrap().repositories().len(), 2);
}

#[tokio::test]
async fn verify_runs_a_lesson_on_aws_with_the_real_recipes_and_cleans_up() {
    let home = tempfile::tempdir().unwrap();
    let account = crate::common::Served::start(&home.path().join("account"), &["--ephemeral"]);
    let url = account.url.clone();
    let ecr = crate::common::ecr_client(&url, "ap-south-1").await;
    ecr.create_repository().repository_name("test").send().await.unwrap(); // the learner's, untouched
    let env = [
        ("AWS_ENDPOINT_URL", url.as_str()),
        ("AWS_ACCESS_KEY_ID", mock_registry::defaults::DEFAULT_ACCESS_KEY_ID),
        ("AWS_SECRET_ACCESS_KEY", mock_registry::defaults::DEFAULT_SECRET_ACCESS_KEY),
        ("ECR_LAB_REGISTRY_URL", url.as_str()),
    ];
    let lessons = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/aws");
    let lab = home.path().join("lab");

    // Without --yes and without a terminal to confirm on, nothing happens.
    let ran = ecr_lab(&lab, &["verify", "--backend", "aws", "--lessons", lessons], &env, None).await;
    assert_eq!(ran.code, 1, "{}{}", ran.stdout, ran.stderr);
    assert!(
        ran.stdout.contains("This will verify the lessons that list `aws` in REAL AWS: account 920736617090 (arn:aws:iam::920736617090:user/lab-learner), region ap-south-1."),
        "{}",
        ran.stdout
    );
    assert!(ran.stderr.contains("not confirmed; nothing was changed"), "{}", ran.stderr);

    let ran = ecr_lab(&lab, &["verify", "--backend", "aws", "--yes", "--lessons", lessons], &env, None).await;
    assert_eq!(ran.code, 0, "{}{}", ran.stdout, ran.stderr);
    assert!(ran.stdout.contains("ok    "), "{}", ran.stdout);
    assert!(ran.stdout.contains("deleted   ap-south-1/ecr-lab-test (tagged ecr-lab="), "{}", ran.stdout);
    let left: Vec<String> = ecr
        .describe_repositories()
        .send()
        .await
        .unwrap()
        .repositories()
        .iter()
        .filter_map(|r| r.repository_name().map(str::to_owned))
        .collect();
    assert_eq!(left, ["test"], "only the learner's repository is left, untouched");
    assert!(
        ecr.describe_images().repository_name("test").send().await.unwrap().image_details().is_empty(),
        "nothing was pushed to the learner's repository"
    );

    // The bundled course: the lessons that list aws run with their real-AWS recipes (here against the
    // stand-in account), the mock-only ones are skipped out loud, and what verify created is removed.
    let ran = ecr_lab(&lab, &["verify", "--backend", "aws", "--yes"], &env, None).await;
    assert_eq!(ran.code, 0, "{}{}", ran.stdout, ran.stderr);
    for lesson in ["01-concepts", "04-authenticate-docker", "06-push", "08-pull", "10-wrong-registry"] {
        assert!(ran.stdout.contains(&format!("ok    lessons/{lesson}.md (")), "{lesson}:\n{}", ran.stdout);
    }
    assert!(ran.stdout.contains("skip  lessons/00-quick-start.md (its backends are [mock]"), "{}", ran.stdout);
    assert!(ran.stdout.contains("deleted   ap-south-1/ecr-lab-test-concepts (tagged ecr-lab="), "{}", ran.stdout);
    assert!(ran.stdout.contains("deleted   ap-south-1/ecr-lab-test/web (tagged ecr-lab="), "{}", ran.stdout);

    // A lesson's own repositories (`*_repo` variables) are guarded like `{{repo}}`: one that exists
    // without the lab's tag is the learner's, and the lesson does not start.
    ecr.create_repository().repository_name("ecr-lab-test-concepts").send().await.unwrap();
    let ran = ecr_lab(&lab, &["verify", "--backend", "aws", "--yes", "concepts"], &env, None).await;
    assert_eq!(ran.code, 1, "{}{}", ran.stdout, ran.stderr);
    assert!(
        ran.stderr.contains("a repository named `ecr-lab-test-concepts` exists in account 920736617090 (ap-south-1) without the lab's `ecr-lab` tag"),
        "{}",
        ran.stderr
    );
    assert_eq!(ecr.list_images().repository_name("ecr-lab-test-concepts").send().await.unwrap().image_ids().len(), 0);
}

#[tokio::test]
async fn on_aws_the_registry_is_reached_over_https_at_the_callers_host() {
    // No ECR_LAB_REGISTRY_URL: the built-in docker goes to https://ACCOUNT.dkr.ecr.REGION.amazonaws.com
    // itself (offline here, so the attempt fails, naming the URL it tried).
    let server = aws_standin().await;
    Mock::given(ecr_op("GetAuthorizationToken"))
        .respond_with(
            ResponseTemplate::new(200).set_body_raw(
                serde_json::json!({ "authorizationData": [{
                    "authorizationToken": "QVdTOnNlY3JldA==",
                    "expiresAt": 1.0e10,
                    "proxyEndpoint": "https://123456789012.dkr.ecr.eu-west-1.amazonaws.com"
                }]})
                .to_string(),
                "application/x-amz-json-1.1",
            ),
        )
        .mount(&server)
        .await;
    let home = tempfile::tempdir().unwrap();
    let url = server.uri();
    let env = [
        ("AWS_ACCESS_KEY_ID", "AKIAEXAMPLEKEY000001"),
        ("AWS_SECRET_ACCESS_KEY", "secret"),
        ("AWS_ENDPOINT_URL", url.as_str()),
        ("https_proxy", ""),
        ("HTTPS_PROXY", ""),
    ];
    let host = "123456789012.dkr.ecr.eu-west-1.amazonaws.com";
    let script = format!(
        "aws ecr get-login-password\naws ecr get-login-password | docker login --username AWS --password-stdin {host}\n"
    );
    let ran = ecr_lab(home.path(), &["shell", "--backend", "aws", "--region", "eu-west-1"], &env, Some(&script)).await;
    assert!(ran.stdout.contains("lab$ aws ecr get-login-password\nsecret\n"), "{}", ran.stdout);
    assert!(
        ran.stderr.contains(&format!("Error response from daemon: Get \"https://{host}/v2/\": ")),
        "{}",
        ran.stderr
    );

    // A bundled lesson that does not list aws is refused, before anything touches the account.
    let ran = ecr_lab(home.path(), &["start", "push-first-image", "--backend", "aws", "--yes"], &env, None).await;
    assert_eq!(ran.code, 1, "{}{}", ran.stdout, ran.stderr);
    assert!(ran.stderr.contains("lists backends [mock], not aws"), "{}", ran.stderr);
}

#[tokio::test]
async fn a_registry_refusal_on_aws_shows_ecr_text_and_the_missing_action() {
    use wiremock::matchers::{header_exists, path, path_regex};
    let server = aws_standin().await;
    Mock::given(ecr_op("GetAuthorizationToken"))
        .respond_with(
            ResponseTemplate::new(200).set_body_raw(
                serde_json::json!({ "authorizationData": [{
                    "authorizationToken": "QVdTOnNlY3JldA==",
                    "expiresAt": 1.0e10,
                    "proxyEndpoint": "https://123456789012.dkr.ecr.eu-west-1.amazonaws.com"
                }]})
                .to_string(),
                "application/x-amz-json-1.1",
            ),
        )
        .mount(&server)
        .await;
    // The registry: ECR's Basic challenge, then a push the caller's policy does not allow.
    Mock::given(method("GET"))
        .and(path("/v2/"))
        .and(header("authorization", "Basic QVdTOnNlY3JldA=="))
        .respond_with(ResponseTemplate::new(200))
        .with_priority(1)
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path("/v2/"))
        .respond_with(ResponseTemplate::new(401).insert_header(
            "www-authenticate",
            "Basic realm=\"https://123456789012.dkr.ecr.eu-west-1.amazonaws.com/\",service=\"ecr.amazonaws.com\"",
        ))
        .with_priority(2)
        .mount(&server)
        .await;
    Mock::given(method("HEAD"))
        .and(path_regex("/blobs/"))
        .respond_with(ResponseTemplate::new(404))
        .mount(&server)
        .await;
    let denied = "User: arn:aws:iam::123456789012:user/alice is not authorized to perform: ecr:InitiateLayerUpload on resource: arn:aws:ecr:eu-west-1:123456789012:repository/ecr-lab-test because no identity-based policy allows the ecr:InitiateLayerUpload action";
    Mock::given(method("POST"))
        .and(path("/v2/ecr-lab-test/blobs/uploads/"))
        .and(header_exists("authorization"))
        .respond_with(ResponseTemplate::new(403).set_body_raw(
            serde_json::json!({ "errors": [{ "code": "DENIED", "message": denied }] }).to_string(),
            "application/json",
        ))
        .mount(&server)
        .await;
    let home = tempfile::tempdir().unwrap();
    let url = server.uri();
    let env = [
        ("AWS_ACCESS_KEY_ID", "AKIAEXAMPLEKEY000001"),
        ("AWS_SECRET_ACCESS_KEY", "secret"),
        ("AWS_ENDPOINT_URL", url.as_str()),
        ("ECR_LAB_REGISTRY_URL", url.as_str()),
    ];
    let host = "123456789012.dkr.ecr.eu-west-1.amazonaws.com";
    let script = format!(
        "docker tag sohelqt8797/ec2-neon-pulse:v1 {host}/ecr-lab-test:v1\n\
         docker push {host}/ecr-lab-test:v1\n\
         aws ecr get-login-password | docker login --username AWS --password-stdin {host}\n\
         docker push {host}/ecr-lab-test:v1\n"
    );
    let ran = ecr_lab(home.path(), &["shell", "--backend", "aws", "--region", "eu-west-1"], &env, Some(&script)).await;
    assert!(ran.stdout.contains("Login Succeeded"), "{}{}", ran.stdout, ran.stderr);
    assert!(ran.stderr.starts_with("no basic auth credentials\n"), "before the login: {}", ran.stderr);
    assert!(
        ran.stderr.contains(&format!(
            "denied: {denied}\necr-lab: what to do: your identity is not allowed ecr:InitiateLayerUpload: ask your AWS administrator for a policy that allows ecr:InitiateLayerUpload"
        )),
        "{}",
        ran.stderr
    );
    // Every registry request carried the registry's host, and ECR's Basic credentials after the challenge.
    let requests = server.received_requests().await.unwrap();
    let registry: Vec<&Request> = requests.iter().filter(|r| r.url.path().starts_with("/v2/")).collect();
    assert!(registry.iter().all(|r| r.headers.get("host").unwrap() == host));
    assert!(registry.iter().filter(|r| r.method.as_str() != "GET").all(|r| r.headers.get("authorization").is_some()));
}

#[tokio::test]
async fn a_real_aws_lesson_runs_the_doctor_first_and_stops_on_a_blocking_problem() {
    let server = aws_standin().await;
    Mock::given(ecr_op("DescribeRepositories"))
        .respond_with(ecr_error(
            "AccessDeniedException",
            "User: arn:aws:iam::123456789012:user/alice is not authorized to perform: ecr:DescribeRepositories on resource: * because no identity-based policy allows the ecr:DescribeRepositories action",
        ))
        .mount(&server)
        .await;
    mount_ecr_default(&server).await;
    let home = tempfile::tempdir().unwrap();
    let url = server.uri();
    let env = [
        ("AWS_ACCESS_KEY_ID", "AKIAEXAMPLEKEY000001"),
        ("AWS_SECRET_ACCESS_KEY", "s"),
        ("AWS_ENDPOINT_URL", url.as_str()),
    ];
    let lessons = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/aws");
    let args = ["start", "real-aws-faults", "--backend", "aws", "--yes", "--lessons", lessons];
    let ran = ecr_lab(home.path(), &args, &env, Some("quit\n")).await;
    assert_eq!(ran.code, 1, "{}{}", ran.stdout, ran.stderr);
    assert!(ran.stdout.contains(&format!("ok      identity: account {ACCOUNT}, {ARN}")), "{}", ran.stdout);
    assert!(ran.stdout.contains("PROBLEM permissions: access denied for ecr:DescribeRepositories\n"), "{}", ran.stdout);
    assert!(ran.stderr.contains("the checks above found a problem that blocks the lab on AWS"), "{}", ran.stderr);
    assert!(!ran.stdout.contains("This will play"), "no confirmation is asked when the lab cannot run");
    let created = server
        .received_requests()
        .await
        .unwrap()
        .into_iter()
        .any(|r| r.headers.get("x-amz-target").is_some_and(|t| t.to_str().unwrap().ends_with(".CreateRepository")));
    assert!(!created, "nothing was created");
}

#[tokio::test]
async fn doctor_on_the_mock_needs_no_account() {
    let home = tempfile::tempdir().unwrap();
    let ran = ecr_lab(home.path(), &["doctor"], &[], None).await;
    assert_eq!(ran.code, 0, "{}{}", ran.stdout, ran.stderr);
    assert!(
        ran.stdout.starts_with("ok      mock: the bundled mock of ECR answers at http://127.0.0.1:"),
        "{}",
        ran.stdout
    );
    assert!(ran.stdout.contains("(account 920736617090, region ap-south-1)"), "{}", ran.stdout);
    assert!(ran.stdout.contains("ready: the lab can run on the mock backend"), "{}", ran.stdout);
    let ran = ecr_lab(home.path(), &["cleanup"], &[], None).await;
    assert_eq!(ran.code, 1);
    assert!(ran.stderr.contains("the mock needs no cleanup"), "{}", ran.stderr);
}

#[tokio::test]
async fn a_lesson_played_on_aws_meets_each_real_error_falls_back_for_expired_login_and_cleans_up() {
    let home = tempfile::tempdir().unwrap();
    let account = crate::common::Served::start(&home.path().join("account"), &["--ephemeral"]);
    let url = account.url.clone();
    let env = [
        ("AWS_ENDPOINT_URL", url.as_str()),
        ("AWS_ACCESS_KEY_ID", mock_registry::defaults::DEFAULT_ACCESS_KEY_ID),
        ("AWS_SECRET_ACCESS_KEY", mock_registry::defaults::DEFAULT_SECRET_ACCESS_KEY),
        ("ECR_LAB_REGISTRY_URL", url.as_str()),
    ];
    let r = "920736617090.dkr.ecr.ap-south-1.amazonaws.com";
    let login =
        format!("aws ecr get-login-password --region ap-south-1 | docker login --username AWS --password-stdin {r}");
    let typed = [
        "aws ecr create-repository --repository-name ecr-lab-test --image-scanning-configuration scanOnPush=true"
            .to_owned(),
        // missing-repo: the push fails, the learner creates the repository and pushes again.
        format!("docker push {r}/ecr-lab-test:v1"),
        "aws ecr create-repository --repository-name ecr-lab-test".to_owned(),
        format!("docker push {r}/ecr-lab-test:v1"),
        // missing-login
        format!("docker push {r}/ecr-lab-test:v1"),
        login.clone(),
        // immutable-overwrite
        format!("docker push {r}/ecr-lab-test:v1"),
        format!("docker tag sohelqt8797/ec2-neon-pulse:v2 {r}/ecr-lab-test:v2"),
        format!("docker push {r}/ecr-lab-test:v2"),
        // expired-login, on the bundled mock (its repository is the guide's `test`)
        format!("docker push {r}/test:v1"),
        login.clone(),
        format!("docker push {r}/test:v1"),
        // wrong-region
        format!("aws ecr get-login-password | docker login --username AWS --password-stdin {r}"),
        login,
        // expired-credentials
        "aws ecr describe-repositories".to_owned(),
        "unset AWS_ACCESS_KEY_ID AWS_SECRET_ACCESS_KEY".to_owned(),
        "aws ecr describe-repositories --repository-names ecr-lab-test".to_owned(),
    ];
    let lessons = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/aws");
    let args = ["start", "real-aws-faults", "--backend", "aws", "--yes", "--lessons", lessons];
    let ran = ecr_lab(home.path(), &args, &env, Some(&(typed.join("\n") + "\n"))).await;
    let all = format!("{}{}", ran.stdout, ran.stderr);
    assert_eq!(ran.code, 0, "{all}");
    for error in [
        "name unknown: The repository with name 'ecr-lab-test' does not exist in the registry with id '920736617090'".to_owned(),
        "no basic auth credentials".to_owned(),
        "tag invalid: The image tag 'v1' already exists in the 'ecr-lab-test' repository and cannot be overwritten because the repository is immutable.".to_owned(),
        "denied: Your authorization token has expired. Reauthenticate and try again.".to_owned(),
        format!("Error response from daemon: login attempt to https://{r}/v2/ failed with status: 400 Bad Request"),
        "An error occurred (UnrecognizedClientException) when calling the DescribeRepositories operation: The security token included in the request is invalid.".to_owned(),
    ] {
        assert!(all.contains(&error), "the learner should meet `{error}`:\n{all}");
    }
    assert_eq!(all.matches("✓ Stage complete").count(), 7, "{all}");
    assert!(all.contains("so this stage runs on the bundled mock"), "{all}");
    assert!(all.contains("Lesson complete: The guide's errors, made real on AWS."), "{all}");
    assert!(all.contains("  deleted   ap-south-1/ecr-lab-test (tagged ecr-lab="), "{all}");
    let ecr = crate::common::ecr_client(&url, "ap-south-1").await;
    assert!(
        ecr.describe_repositories().send().await.unwrap().repositories().is_empty(),
        "nothing of the lab's is left"
    );
    // Progress on AWS is its own: the mock's lesson is still to do.
    let progress = std::fs::read_to_string(home.path().join("progress.json")).unwrap();
    assert!(progress.contains("real-aws-faults@aws"), "{progress}");
}
