//! Roles and temporary credentials: the real aws CLI (PyPI's v1 `aws` and Debian's v2 at
//! /usr/bin/aws) running `sts assume-role` and `assume-role-with-web-identity` against
//! `ecr-lab serve`, aws-config's web identity provider, session expiry on the lab clock, and a
//! registry token used against another account's registry: login succeeds, push is denied.
//! STS's texts are asserted exactly.

use std::path::Path;

use crate::common::{AWS_CLI_V2, Ran, Served, aws_cli_available, aws_cli_v2_available, bash, cli_error, require_tool};

const ROLE: &str = "arn:aws:iam::920736617090:role/ci";

/// Trusts the learner (AssumeRole) and the lab issuer's tokens for branch main only.
const TRUST: &str = r#"{"Version":"2012-10-17","Statement":[
 {"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::920736617090:user/lab-learner"},"Action":"sts:AssumeRole"},
 {"Effect":"Allow","Principal":{"Federated":"arn:aws:iam::920736617090:oidc-provider/oidc.ecr-lab.localhost"},
  "Action":"sts:AssumeRoleWithWebIdentity","Condition":{
   "StringEquals":{"oidc.ecr-lab.localhost:aud":"sts.amazonaws.com"},
   "StringLike":{"oidc.ecr-lab.localhost:sub":"repo:org/app:ref:refs/heads/main"}}}]}"#;

/// Read-only ECR.
const READ: &str = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow",
 "Action":["ecr:GetAuthorizationToken","ecr:DescribeRepositories"],"Resource":"*"}]}"#;

struct Lab {
    server: Served,
    _home: tempfile::TempDir,
}

impl Lab {
    fn start() -> Self {
        let home = tempfile::tempdir().unwrap();
        let data = home.path().join("data");
        let server = Served::start(home.path(), &["--data-dir", data.to_str().unwrap()]);
        let lab = Self { server, _home: home };
        std::fs::write(lab.home().join("trust.json"), TRUST).unwrap();
        std::fs::write(lab.home().join("read.json"), READ).unwrap();
        lab.ok("ecr-lab iam create-role ci --trust-policy file://trust.json --policy file://read.json \
                --max-session-duration 7200");
        lab
    }

    fn home(&self) -> &Path {
        &self.server.home
    }

    /// Runs `script` in the lab's home after `eval "$(ecr-lab env ...)"`; `$URL` is the mock's.
    fn sh(&self, script: &str) -> Ran {
        let url = &self.server.url;
        bash(
            &format!("cd \"$ECR_LAB_HOME\"\neval \"$(ecr-lab env --endpoint {url})\"\nURL={url}\n{script}"),
            self.home(),
        )
    }

    fn ok(&self, script: &str) -> Ran {
        let ran = self.sh(script);
        assert_eq!(ran.code, 0, "{script}\nstdout: {}\nstderr: {}", ran.stdout, ran.stderr);
        ran
    }

    fn json(&self, script: &str) -> serde_json::Value {
        self.ok(script).json()
    }
}

/// Both CLIs present (v2 2.9 ignores AWS_ENDPOINT_URL, so it is given `--endpoint-url`).
fn clis() -> Vec<String> {
    let mut clis = Vec::new();
    if aws_cli_available() {
        clis.push("aws".to_owned());
    }
    if aws_cli_v2_available() {
        clis.push(format!("{AWS_CLI_V2} --endpoint-url $URL"));
    }
    clis
}

#[test]
fn assume_role_gives_session_credentials_that_expire_on_the_lab_clock() {
    let clis = clis();
    if clis.is_empty() {
        return;
    }
    let lab = Lab::start();
    for (n, aws) in clis.iter().enumerate() {
        let session = format!("build-{n}");
        let out = lab.json(&format!(
            "{aws} sts assume-role --role-arn {ROLE} --role-session-name {session} --duration-seconds 900"
        ));
        let credentials = &out["Credentials"];
        assert!(credentials["AccessKeyId"].as_str().unwrap().starts_with("ASIA"), "{out}");
        assert_eq!(out["AssumedRoleUser"]["Arn"], format!("arn:aws:sts::920736617090:assumed-role/ci/{session}"));
        assert!(out["AssumedRoleUser"]["AssumedRoleId"].as_str().unwrap().ends_with(&format!(":{session}")));
        // Expiration is the lab clock plus 900 s.
        let clock = lab.json("curl -s $URL/_lab/clock");
        let expiration = credentials["Expiration"].as_str().unwrap();
        let expires: i64 = lab.ok(&format!("date -d '{expiration}' +%s")).stdout.trim().parse().unwrap();
        let left = expires as f64 - clock["now"].as_f64().unwrap();
        assert!((890.0..=900.0).contains(&left), "{left} s left of a 900 s session");

        let env = format!(
            "export AWS_ACCESS_KEY_ID={} AWS_SECRET_ACCESS_KEY={} AWS_SESSION_TOKEN={}\n",
            credentials["AccessKeyId"].as_str().unwrap(),
            credentials["SecretAccessKey"].as_str().unwrap(),
            credentials["SessionToken"].as_str().unwrap()
        );
        let me = lab.json(&format!("{env}{aws} sts get-caller-identity"));
        assert_eq!(me["Arn"], format!("arn:aws:sts::920736617090:assumed-role/ci/{session}"));
        lab.ok(&format!("{env}{aws} ecr describe-repositories"));
        // The role's policy decides ECR: read-only.
        let create = lab.sh(&format!("{env}{aws} ecr create-repository --repository-name made-by-role"));
        let denied = format!(
            "User: arn:aws:sts::920736617090:assumed-role/ci/{session} is not authorized to perform: \
             ecr:CreateRepository on resource: arn:aws:ecr:ap-south-1:920736617090:repository/made-by-role because \
             no identity-based policy allows the ecr:CreateRepository action"
        );
        assert_eq!(create.stderr, cli_error("AccessDeniedException", "CreateRepository", &denied));
        // A session key without its token is unknown.
        let tokenless = lab.sh(&format!("{env}unset AWS_SESSION_TOKEN\n{aws} sts get-caller-identity"));
        assert_eq!(
            tokenless.stderr,
            cli_error(
                "InvalidClientTokenId",
                "GetCallerIdentity",
                "The security token included in the request is invalid."
            )
        );
        // The lab clock moves (control API): the session has expired, for STS and ECR alike.
        lab.ok("curl -sf -X POST -H 'content-type: application/json' -d '{\"by\":\"901s\"}' $URL/_lab/clock/advance");
        let expired = lab.sh(&format!("{env}{aws} sts get-caller-identity"));
        assert_eq!(
            expired.stderr,
            cli_error("ExpiredToken", "GetCallerIdentity", "The security token included in the request is expired")
        );
        let expired = lab.sh(&format!("{env}{aws} ecr describe-repositories"));
        assert_eq!(
            expired.stderr,
            cli_error(
                "ExpiredTokenException",
                "DescribeRepositories",
                "The security token included in the request is expired"
            )
        );
    }
    // Refusals: a role that does not exist, a session that is too long for the role.
    let aws = &clis[0];
    let missing =
        lab.sh(&format!("{aws} sts assume-role --role-arn arn:aws:iam::920736617090:role/nope --role-session-name s1"));
    assert_eq!(
        missing.stderr,
        cli_error(
            "AccessDenied",
            "AssumeRole",
            "User: arn:aws:iam::920736617090:user/lab-learner is not authorized to perform: sts:AssumeRole on resource: \
             arn:aws:iam::920736617090:role/nope"
        )
    );
    let long =
        lab.sh(&format!("{aws} sts assume-role --role-arn {ROLE} --role-session-name s1 --duration-seconds 7201"));
    assert_eq!(
        long.stderr,
        cli_error(
            "ValidationError",
            "AssumeRole",
            "The requested DurationSeconds exceeds the MaxSessionDuration set for this role."
        )
    );
}

#[test]
fn web_identity_tokens_from_the_lab_issuer_assume_the_role_for_the_trusted_branch_only() {
    let clis = clis();
    if clis.is_empty() {
        return;
    }
    let lab = Lab::start();
    lab.ok("ecr-lab oidc token --sub repo:org/app:ref:refs/heads/main --aud sts.amazonaws.com > main.jwt");
    lab.ok("ecr-lab oidc token --sub repo:org/app:ref:refs/heads/feature > feature.jwt");
    lab.ok("ecr-lab oidc token --sub repo:org/app:ref:refs/heads/main --aud someone-else > aud.jwt");
    lab.ok("ecr-lab oidc token --sub repo:org/app:ref:refs/heads/main --expires-in 5m > short.jwt");
    // A token whose payload was edited after signing (another branch): the signature fails.
    lab.ok("IFS=. read -r h p s < main.jwt; f=$(IFS=. read -r h p s < feature.jwt; echo $p); echo \"$h.$f.$s\" > forged.jwt");
    let assume = |aws: &str, file: &str| {
        lab.sh(&format!(
            "{aws} sts assume-role-with-web-identity --role-arn {ROLE} --role-session-name gha \
             --web-identity-token file://{file}"
        ))
    };
    for aws in &clis {
        let good = assume(aws, "main.jwt");
        assert_eq!(good.code, 0, "{}", good.stderr);
        let good = good.json();
        assert_eq!(good["AssumedRoleUser"]["Arn"], "arn:aws:sts::920736617090:assumed-role/ci/gha");
        assert_eq!(good["SubjectFromWebIdentityToken"], "repo:org/app:ref:refs/heads/main");
        assert_eq!(good["Audience"], "sts.amazonaws.com");
        assert_eq!(good["Provider"], "oidc.ecr-lab.localhost");
        assert!(good["Credentials"]["SessionToken"].as_str().is_some_and(|t| !t.is_empty()));
        let op = "AssumeRoleWithWebIdentity";
        assert_eq!(
            assume(aws, "feature.jwt").stderr,
            cli_error("AccessDenied", op, "Not authorized to perform sts:AssumeRoleWithWebIdentity")
        );
        assert_eq!(assume(aws, "aud.jwt").stderr, cli_error("InvalidIdentityToken", op, "Incorrect token audience"));
        assert_eq!(
            assume(aws, "forged.jwt").stderr,
            cli_error(
                "InvalidIdentityToken",
                op,
                "The web identity token that was passed could not be validated by AWS. Get a new identity token from \
                 the identity provider and then retry the request."
            )
        );
    }
    // Six minutes later on the lab clock, the 5-minute token has expired.
    let exp = {
        let token = std::fs::read_to_string(lab.home().join("short.jwt")).unwrap();
        let payload = token.trim().split('.').nth(1).unwrap().to_owned();
        use base64::Engine as _;
        let claims: serde_json::Value =
            serde_json::from_slice(&base64::engine::general_purpose::URL_SAFE_NO_PAD.decode(payload).unwrap()).unwrap();
        claims["exp"].as_i64().unwrap()
    };
    lab.ok("ecr-lab clock advance 6m > /dev/null");
    let now = lab.json("curl -s $URL/_lab/clock")["now"].as_f64().unwrap() as i64;
    let expired = assume(&clis[0], "short.jwt");
    let text = expired.stderr.clone();
    let expected_prefix = "\nAn error occurred (ExpiredTokenException) when calling the AssumeRoleWithWebIdentity operation: Token expired: current date/time ";
    assert!(text.starts_with(expected_prefix), "{text}");
    let at: i64 = text[expected_prefix.len()..].split_whitespace().next().unwrap().parse().unwrap();
    // The CLI takes a few seconds to start on a busy machine: the time it names is the mock's at the call.
    assert!((now..=now + 60).contains(&at), "{text}");
    assert!(text.ends_with(&format!(" must be before the expiration date/time {exp}\n")), "{text}");
}

/// aws-config's default chain, as an application in a CI job runs it: `AWS_WEB_IDENTITY_TOKEN_FILE`
/// and `AWS_ROLE_ARN` set, the endpoint pointed at the mock. Run in a child process (this test
/// binary again, running [`web_identity_child`]) so the variables never touch other tests.
#[test]
fn aws_configs_web_identity_provider_assumes_the_role_from_a_token_file() {
    let lab = Lab::start();
    lab.ok("ecr-lab oidc token --sub repo:org/app:ref:refs/heads/main > main.jwt");
    lab.ok("ecr-lab oidc token --sub repo:org/app:ref:refs/heads/feature > feature.jwt");
    let child = |token: &str| {
        let output = std::process::Command::new(std::env::current_exe().unwrap())
            .args(["sts::web_identity_child", "--exact", "--ignored", "--nocapture", "--test-threads=1"])
            .env("ECR_LAB_WEB_IDENTITY_CHILD", "1")
            .env("AWS_WEB_IDENTITY_TOKEN_FILE", lab.home().join(token))
            .env("AWS_ROLE_ARN", ROLE)
            .env("AWS_ROLE_SESSION_NAME", "aws-config")
            .env("AWS_ENDPOINT_URL", &lab.server.url)
            .env("AWS_REGION", "ap-south-1")
            .env("AWS_CONFIG_FILE", lab.home().join("no-aws-config"))
            .env("AWS_SHARED_CREDENTIALS_FILE", lab.home().join("no-aws-credentials"))
            .env("AWS_EC2_METADATA_DISABLED", "true")
            .env_remove("AWS_PROFILE")
            .env_remove("AWS_ACCESS_KEY_ID")
            .env_remove("AWS_SECRET_ACCESS_KEY")
            .env_remove("AWS_SESSION_TOKEN")
            .output()
            .unwrap();
        String::from_utf8_lossy(&output.stdout).into_owned()
    };
    let main = child("main.jwt");
    assert!(main.contains("CALLER=arn:aws:sts::920736617090:assumed-role/ci/aws-config\n"), "{main}");
    let feature = child("feature.jwt");
    assert!(feature.contains("REFUSED="), "{feature}");
    assert!(feature.contains("Not authorized to perform sts:AssumeRoleWithWebIdentity"), "{feature}");
}

/// The child of [`aws_configs_web_identity_provider_assumes_the_role_from_a_token_file`]: the default
/// chain's credentials, then GetCallerIdentity with them.
#[tokio::test]
#[ignore = "run by aws_configs_web_identity_provider_assumes_the_role_from_a_token_file in a child process"]
async fn web_identity_child() {
    if std::env::var_os("ECR_LAB_WEB_IDENTITY_CHILD").is_none() {
        return;
    }
    use aws_smithy_http_client::tls::{Provider, rustls_provider::CryptoMode};
    let http = aws_smithy_http_client::Builder::new().tls_provider(Provider::Rustls(CryptoMode::Ring)).build_https();
    let config = aws_config::defaults(aws_config::BehaviorVersion::latest()).http_client(http).load().await;
    let sts = aws_sdk_sts::Client::new(&config);
    match sts.get_caller_identity().send().await {
        Ok(me) => println!("CALLER={}", me.arn().unwrap_or_default()),
        Err(e) => println!("REFUSED={}", aws_sdk_sts::error::DisplayErrorContext(&e)),
    }
}

#[test]
fn a_token_logs_in_to_another_accounts_registry_and_the_push_is_denied() {
    if !aws_cli_available()
        || !require_tool("skopeo", || std::process::Command::new("skopeo").arg("--version").output().is_ok())
    {
        return;
    }
    let lab = Lab::start();
    let host = lab.server.url.trim_start_matches("http://").to_owned();
    let other = "111122223333";
    // The other account's repository exists (its owner created it).
    let owner = lab.json(&format!(
        "curl -sf -X POST -H 'content-type: application/json' -d '{{\"accountId\":\"{other}\",\"userName\":\"owner\"}}' $URL/_lab/keys"
    ));
    lab.ok(&format!(
        "AWS_ACCESS_KEY_ID={} AWS_SECRET_ACCESS_KEY={} aws ecr create-repository --repository-name shared > /dev/null",
        owner["accessKeyId"].as_str().unwrap(),
        owner["secretAccessKey"].as_str().unwrap()
    ));
    // skopeo at the bare address is sent to the registry its token names; the learner's token
    // for the other registry logs in,
    let login = lab.ok(&format!(
        "aws ecr get-login-password --region ap-south-1 > /dev/null && \
         skopeo login --tls-verify=false --authfile auth.json -u AWS \
         -p \"$(aws ecr get-authorization-token --registry-ids {other} --query 'authorizationData[0].authorizationToken' --output text | base64 -d | cut -d: -f2)\" {host}"
    ));
    assert_eq!(login.stdout, "Login Succeeded!\n");
    // and the push is refused by IAM, with the principal and the action named.
    crate::real_clients::write_oci_layout(&lab.home().join("layout"), "not yours");
    let push = lab.sh(&format!(
        "skopeo copy --dest-tls-verify=false --authfile auth.json oci:layout:v1 docker://{host}/shared:v1"
    ));
    assert_ne!(push.code, 0, "{}", push.stdout);
    // skopeo asks first whether the layer is there (ecr:BatchCheckLayerAvailability), refused: 403.
    assert!(
        push.stderr.contains("failed to read from destination repository shared: 403 (Forbidden)"),
        "{}",
        push.stderr
    );
    // The upload itself (what docker tries next) carries IAM's text in the registry's error body.
    let upload = lab.ok(&format!(
        "curl -s -X POST -u AWS:\"$(aws ecr get-authorization-token --registry-ids {other} --query 'authorizationData[0].authorizationToken' --output text | base64 -d | cut -d: -f2)\" http://{host}/v2/shared/blobs/uploads/"
    ));
    let body: serde_json::Value = serde_json::from_str(&upload.stdout).unwrap();
    assert_eq!(body["errors"][0]["code"], "DENIED", "{body}");
    let denied = format!(
        "User: arn:aws:iam::920736617090:user/lab-learner is not authorized to perform: ecr:InitiateLayerUpload \
         on resource: arn:aws:ecr:ap-south-1:{other}:repository/shared because no resource-based policy allows the \
         ecr:InitiateLayerUpload action"
    );
    assert_eq!(body["errors"][0]["message"], denied.as_str());
}

/// The lab shell's built-in `aws sts` and `ecr-lab oidc token`: what a lesson stage runs.
#[test]
fn the_lab_shell_assumes_roles_with_its_builtin_aws_and_oidc_token() {
    let lab = Lab::start();
    let script = format!(
        "aws sts assume-role --role-arn {ROLE} --role-session-name shell --query AssumedRoleUser.Arn --output text\n\
         ecr-lab oidc token --sub repo:org/app:ref:refs/heads/main > main.jwt\n\
         aws sts assume-role-with-web-identity --role-arn {ROLE} --role-session-name gha --web-identity-token file://main.jwt --query AssumedRoleUser.Arn --output text\n\
         ecr-lab oidc token --sub repo:org/app:ref:refs/heads/feature > feature.jwt\n\
         aws sts assume-role-with-web-identity --role-arn {ROLE} --role-session-name gha --web-identity-token file://feature.jwt\n"
    );
    let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_ecr-lab"))
        .args(["shell", "--data-dir", lab.home().to_str().unwrap(), "--endpoint", &lab.server.url])
        .env("ECR_LAB_HOME", lab.home())
        .env("ECR_LAB_DOCKER", "builtin")
        .current_dir(lab.home())
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    use std::io::Write as _;
    child.stdin.take().unwrap().write_all(script.as_bytes()).unwrap();
    let output = child.wait_with_output().unwrap();
    let (stdout, stderr) = (String::from_utf8_lossy(&output.stdout), String::from_utf8_lossy(&output.stderr));
    assert!(stdout.contains("arn:aws:sts::920736617090:assumed-role/ci/shell\n"), "{stdout}{stderr}");
    assert!(stdout.contains("arn:aws:sts::920736617090:assumed-role/ci/gha\n"), "{stdout}{stderr}");
    let refused = cli_error(
        "AccessDenied",
        "AssumeRoleWithWebIdentity",
        "Not authorized to perform sts:AssumeRoleWithWebIdentity",
    );
    assert!(format!("{stdout}{stderr}").contains(&refused), "{stdout}{stderr}");
}
