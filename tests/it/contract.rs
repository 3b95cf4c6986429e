//! One contract for every backend (STYLE: "one test suite for every implementation"): the lab's path
//! (create a repository, describe it, get a registry token, push with the built-in docker, describe
//! the image, an immutable overwrite, a missing repository, delete) written once and run against the
//! bundled mock, against the aws backend with the mock standing in for an account, and against real
//! AWS when `ECR_LAB_AWS_TESTS=1` and credentials are present (skipped loudly otherwise).

use base64::Engine as _;

use crate::common::Ran;

/// Where the contract runs: an ECR client for assertions, and how to start the lab shell.
struct Backend {
    name: &'static str,
    ecr: aws_sdk_ecr::Client,
    account: String,
    region: String,
    /// `ecr-lab shell` arguments after `shell`.
    shell_args: Vec<String>,
    /// Extra environment for the shell; `None`: inherit this process's (real AWS).
    env: Option<Vec<(String, String)>>,
}

impl Backend {
    fn host(&self) -> String {
        format!("{}.dkr.ecr.{}.amazonaws.com", self.account, self.region)
    }

    /// Runs lines in a fresh lab shell on this backend.
    async fn shell(&self, lines: &[String]) -> Ran {
        let home = tempfile::tempdir().unwrap();
        let data = home.path().join("shell");
        let mut args: Vec<&str> = vec!["shell", "--data-dir", data.to_str().unwrap()];
        args.extend(self.shell_args.iter().map(String::as_str));
        let script = lines.join("\n") + "\n";
        match &self.env {
            Some(env) => {
                let env: Vec<(&str, &str)> = env.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
                crate::aws_backend::ecr_lab(home.path(), &args, &env, Some(&script)).await
            }
            None => {
                use tokio::io::AsyncWriteExt as _;
                let mut child = tokio::process::Command::new(env!("CARGO_BIN_EXE_ecr-lab"))
                    .args(&args)
                    .env("ECR_LAB_HOME", home.path())
                    .stdin(std::process::Stdio::piped())
                    .stdout(std::process::Stdio::piped())
                    .stderr(std::process::Stdio::piped())
                    .kill_on_drop(true)
                    .spawn()
                    .unwrap();
                child.stdin.take().unwrap().write_all(script.as_bytes()).await.unwrap();
                let output = child.wait_with_output().await.unwrap();
                Ran {
                    stdout: String::from_utf8_lossy(&output.stdout).into_owned(),
                    stderr: String::from_utf8_lossy(&output.stderr).into_owned(),
                    code: output.status.code().unwrap_or(-1),
                }
            }
        }
    }
}

/// The contract. Every assertion names the backend it failed on.
async fn contract(backend: &Backend) {
    use aws_sdk_ecr::types::{ImageIdentifier, ImageTagMutability, Tag};
    let who = backend.name;
    let name = format!("ecr-lab-contract-{}", &uuid::Uuid::new_v4().simple().to_string()[..10]);
    let host = backend.host();
    let ecr = &backend.ecr;

    // Create (tagged as the lab's, so `ecr-lab cleanup --backend aws` removes it if this test dies).
    let tag = Tag::builder().key("ecr-lab").value("contract").build().unwrap();
    let created = ecr.create_repository().repository_name(&name).tags(tag).send().await;
    let created = created.unwrap_or_else(|e| panic!("{who}: CreateRepository: {e:?}"));
    let repository = created.repository().unwrap();
    assert_eq!(repository.repository_uri(), Some(format!("{host}/{name}").as_str()), "{who}");
    assert_eq!(repository.image_tag_mutability(), Some(&ImageTagMutability::Mutable), "{who}");
    assert_eq!(repository.registry_id(), Some(backend.account.as_str()), "{who}");

    // Describe.
    let found = ecr.describe_repositories().repository_names(&name).send().await.unwrap();
    assert_eq!(found.repositories().len(), 1, "{who}");

    // A registry token for this account and region.
    let token = ecr.get_authorization_token().send().await.unwrap();
    let data = &token.authorization_data()[0];
    let decoded = base64::engine::general_purpose::STANDARD.decode(data.authorization_token().unwrap()).unwrap();
    assert!(String::from_utf8(decoded).unwrap().starts_with("AWS:"), "{who}");
    assert_eq!(data.proxy_endpoint(), Some(format!("https://{host}").as_str()), "{who}");
    assert!(data.expires_at().is_some(), "{who}");

    // Push with the built-in docker (the guide's commands, verbatim).
    let region = &backend.region;
    let login =
        format!("aws ecr get-login-password --region {region} | docker login --username AWS --password-stdin {host}");
    let pushed = backend
        .shell(&[
            login.clone(),
            format!("docker tag sohelqt8797/ec2-neon-pulse:v1 {host}/{name}:v1"),
            format!("docker push {host}/{name}:v1"),
        ])
        .await;
    assert_eq!(pushed.code, 0, "{who}: push:\n{}{}", pushed.stdout, pushed.stderr);
    assert!(pushed.stdout.contains("Login Succeeded"), "{who}: {}", pushed.stdout);
    assert!(pushed.stdout.contains(&format!("The push refers to repository [{host}/{name}]")), "{who}");
    let digest = pushed
        .stdout
        .lines()
        .find_map(|l| l.strip_prefix("v1: digest: "))
        .and_then(|rest| rest.split_whitespace().next())
        .unwrap_or_else(|| panic!("{who}: no digest line:\n{}", pushed.stdout))
        .to_owned();

    // The image, as DescribeImages sees it.
    let images = ecr
        .describe_images()
        .repository_name(&name)
        .image_ids(ImageIdentifier::builder().image_tag("v1").build())
        .send()
        .await
        .unwrap();
    let detail = &images.image_details()[0];
    assert_eq!(detail.image_digest(), Some(digest.as_str()), "{who}");
    assert_eq!(detail.image_tags(), ["v1"], "{who}");
    assert!(detail.image_size_in_bytes().unwrap_or(0) > 0, "{who}");

    // An immutable repository refuses to move a tag.
    ecr.put_image_tag_mutability()
        .repository_name(&name)
        .image_tag_mutability(ImageTagMutability::Immutable)
        .send()
        .await
        .unwrap();
    let overwrite = backend
        .shell(&[
            login,
            format!("docker tag sohelqt8797/ec2-neon-pulse:v2 {host}/{name}:v1"),
            format!("docker push {host}/{name}:v1"),
        ])
        .await;
    assert_eq!(overwrite.code, 1, "{who}: {}{}", overwrite.stdout, overwrite.stderr);
    assert!(
        overwrite.stderr.contains(&format!(
            "tag invalid: The image tag 'v1' already exists in the '{name}' repository and cannot be overwritten because the repository is immutable."
        )),
        "{who}: {}",
        overwrite.stderr
    );

    // A repository that does not exist.
    let missing = format!("{name}-missing");
    let error = ecr.describe_images().repository_name(&missing).send().await.unwrap_err();
    let service = error.as_service_error().unwrap_or_else(|| panic!("{who}: {error:?}"));
    assert!(service.is_repository_not_found_exception(), "{who}: {service:?}");
    assert_eq!(
        aws_sdk_ecr::error::ProvideErrorMetadata::message(service),
        Some(
            format!(
                "The repository with name '{missing}' does not exist in the registry with id '{}'",
                backend.account
            )
            .as_str()
        ),
        "{who}"
    );

    // Delete (force: it holds an image), then it is gone.
    ecr.delete_repository().repository_name(&name).force(true).send().await.unwrap();
    let gone = ecr.describe_repositories().repository_names(&name).send().await.unwrap_err();
    assert!(gone.as_service_error().is_some_and(|e| e.is_repository_not_found_exception()), "{who}");
}

#[tokio::test]
async fn the_contract_holds_on_the_mock() {
    let mock = crate::common::InProcess::start().await;
    let backend = Backend {
        name: "mock",
        ecr: crate::common::ecr_client(&mock.url, "ap-south-1").await,
        account: mock_registry::defaults::DEFAULT_ACCOUNT.into(),
        region: "ap-south-1".into(),
        shell_args: vec!["--endpoint".into(), mock.url.clone()],
        env: Some(Vec::new()),
    };
    contract(&backend).await;
}

#[tokio::test]
async fn the_contract_holds_on_the_aws_backend_with_the_mock_standing_in_for_an_account() {
    let mock = crate::common::InProcess::start().await;
    let env = vec![
        ("AWS_ENDPOINT_URL".to_owned(), mock.url.clone()),
        ("AWS_ACCESS_KEY_ID".to_owned(), mock_registry::defaults::DEFAULT_ACCESS_KEY_ID.to_owned()),
        ("AWS_SECRET_ACCESS_KEY".to_owned(), mock_registry::defaults::DEFAULT_SECRET_ACCESS_KEY.to_owned()),
        ("ECR_LAB_REGISTRY_URL".to_owned(), mock.url.clone()),
    ];
    let backend = Backend {
        name: "aws backend (mock standing in)",
        ecr: crate::common::ecr_client(&mock.url, "eu-west-1").await,
        account: mock_registry::defaults::DEFAULT_ACCOUNT.into(),
        region: "eu-west-1".into(),
        shell_args: vec!["--backend".into(), "aws".into(), "--region".into(), "eu-west-1".into()],
        env: Some(env),
    };
    contract(&backend).await;
}

#[tokio::test]
async fn the_contract_holds_on_real_aws_when_asked() {
    if std::env::var("ECR_LAB_AWS_TESTS").as_deref() != Ok("1") {
        eprintln!(
            "\n\x1b[1;33m*** SKIPPED: the contract against real AWS. Set ECR_LAB_AWS_TESTS=1 with AWS credentials \
             (AWS_PROFILE or keys, AWS_REGION) to run it; it creates and deletes one repository tagged ecr-lab. ***\x1b[0m\n"
        );
        return;
    }
    use aws_smithy_http_client::tls::{Provider, rustls_provider::CryptoMode};
    let loader = || {
        let http =
            aws_smithy_http_client::Builder::new().tls_provider(Provider::Rustls(CryptoMode::Ring)).build_https();
        aws_config::defaults(aws_config::BehaviorVersion::latest()).http_client(http)
    };
    let mut config = loader().load().await;
    if config.region().is_none() {
        config = loader().region(aws_config::Region::new("ap-south-1")).load().await;
    }
    let region = config.region().unwrap().to_string();
    let identity = aws_sdk_sts::Client::new(&config)
        .get_caller_identity()
        .send()
        .await
        .expect("ECR_LAB_AWS_TESTS=1, but AWS credentials do not work (see `ecr-lab doctor --backend aws`)");
    let backend = Backend {
        name: "real AWS",
        ecr: aws_sdk_ecr::Client::new(&config),
        account: identity.account().unwrap().to_owned(),
        region: region.clone(),
        shell_args: vec!["--backend".into(), "aws".into(), "--region".into(), region],
        env: None,
    };
    contract(&backend).await;
}
