//! `ecr-lab doctor`: the preflight a learner runs first, and the runner runs before a real-AWS lesson.
//! Each line is one check, ok or a problem with its fix in one sentence; a blocking problem makes the
//! lab refuse to start. The probes change nothing in the account: they read, or they name a
//! repository that does not exist.

use std::time::Duration;

use aws_credential_types::Credentials;

use super::{AwsOptions, EcrBackend, Explained, RegionSource, explain};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Status {
    Ok,
    /// Worth knowing, does not stop the lab.
    Note,
    /// Something is wrong; `blocks` when the lab cannot run with it.
    Problem {
        blocks: bool,
    },
}

#[derive(Debug, Clone)]
pub struct Line {
    pub status: Status,
    pub topic: &'static str,
    pub detail: String,
    pub fix: Option<String>,
}

#[derive(Debug, Default)]
pub struct Report {
    pub lines: Vec<Line>,
}

impl Report {
    fn ok(&mut self, topic: &'static str, detail: impl Into<String>) {
        self.lines.push(Line { status: Status::Ok, topic, detail: detail.into(), fix: None });
    }
    fn note(&mut self, topic: &'static str, detail: impl Into<String>, fix: Option<String>) {
        self.lines.push(Line { status: Status::Note, topic, detail: detail.into(), fix });
    }
    fn problem(&mut self, topic: &'static str, detail: impl Into<String>, fix: impl Into<String>, blocks: bool) {
        self.lines.push(Line {
            status: Status::Problem { blocks },
            topic,
            detail: detail.into(),
            fix: Some(fix.into()),
        });
    }
    fn explained(&mut self, topic: &'static str, error: &Explained) {
        self.problem(topic, error.message.clone(), error.fix.clone(), true);
    }

    /// Whether a problem stops the lab.
    pub fn blocks(&self) -> bool {
        self.lines.iter().any(|l| l.status == Status::Problem { blocks: true })
    }
}

impl std::fmt::Display for Report {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        for line in &self.lines {
            let mark = match line.status {
                Status::Ok => "ok     ",
                Status::Note => "note   ",
                Status::Problem { .. } => "PROBLEM",
            };
            writeln!(f, "{mark} {}: {}", line.topic, line.detail)?;
            if let Some(fix) = &line.fix {
                writeln!(f, "        fix: {fix}")?;
            }
        }
        Ok(())
    }
}

/// The lab's actions on ECR and how each is probed without changing anything.
#[derive(Debug, Clone, Copy)]
enum Probe {
    GetAuthorizationToken,
    DescribeRepositories,
    DescribeImages,
    ListImages,
    BatchCheckLayerAvailability,
    InitiateLayerUpload,
    PutImageTagMutability,
    ListTagsForResource,
    DeleteRepository,
}

const PROBES: &[Probe] = &[
    Probe::GetAuthorizationToken,
    Probe::DescribeRepositories,
    Probe::DescribeImages,
    Probe::ListImages,
    Probe::BatchCheckLayerAvailability,
    Probe::InitiateLayerUpload,
    Probe::PutImageTagMutability,
    Probe::ListTagsForResource,
    Probe::DeleteRepository,
];

/// Runs one probe; a service answer other than access denied (e.g. RepositoryNotFoundException for
/// the probe's made-up repository) means the action is allowed.
async fn probe(ecr: &aws_sdk_ecr::Client, probe: Probe, name: &str, arn: &str) -> Result<bool, Explained> {
    fn judged<O, E, R>(
        operation: &str,
        result: Result<O, aws_sdk_ecr::error::SdkError<E, R>>,
    ) -> Result<bool, Explained>
    where
        E: aws_sdk_ecr::error::ProvideErrorMetadata + std::error::Error + 'static,
        R: std::fmt::Debug,
    {
        match result {
            Ok(_) => Ok(true),
            Err(error) => {
                let explained = explain::sdk(operation, &error);
                match explained.code.as_deref() {
                    Some("AccessDeniedException" | "AccessDenied") => Ok(false),
                    Some(code) if explain::fix_for(code, &explained.message).is_some() => Err(explained),
                    Some(_) => Ok(true),
                    None => Err(explained),
                }
            }
        }
    }
    let digest = format!("sha256:{}", "0".repeat(64));
    match probe {
        Probe::GetAuthorizationToken => judged("GetAuthorizationToken", ecr.get_authorization_token().send().await),
        Probe::DescribeRepositories => {
            judged("DescribeRepositories", ecr.describe_repositories().max_results(1).send().await)
        }
        Probe::DescribeImages => judged("DescribeImages", ecr.describe_images().repository_name(name).send().await),
        Probe::ListImages => judged("ListImages", ecr.list_images().repository_name(name).send().await),
        Probe::BatchCheckLayerAvailability => judged(
            "BatchCheckLayerAvailability",
            ecr.batch_check_layer_availability().repository_name(name).layer_digests(digest).send().await,
        ),
        Probe::InitiateLayerUpload => {
            judged("InitiateLayerUpload", ecr.initiate_layer_upload().repository_name(name).send().await)
        }
        Probe::PutImageTagMutability => judged(
            "PutImageTagMutability",
            ecr.put_image_tag_mutability()
                .repository_name(name)
                .image_tag_mutability(aws_sdk_ecr::types::ImageTagMutability::Immutable)
                .send()
                .await,
        ),
        Probe::ListTagsForResource => {
            judged("ListTagsForResource", ecr.list_tags_for_resource().resource_arn(arn).send().await)
        }
        Probe::DeleteRepository => {
            judged("DeleteRepository", ecr.delete_repository().repository_name(name).send().await)
        }
    }
}

fn action(probe: Probe) -> String {
    format!("ecr:{probe:?}")
}

fn masked(credentials: &Credentials) -> String {
    let key = credentials.access_key_id();
    let tail = &key[key.len().saturating_sub(4)..];
    let kind = if credentials.session_token().is_some() { "temporary" } else { "long-lived" };
    format!("access key ****{tail} ({kind})")
}

/// The preflight for real AWS; the backend too, when the lab can run.
pub async fn aws(options: &AwsOptions) -> (Report, Option<EcrBackend>) {
    let mut report = Report::default();
    let loaded = super::load_aws(options).await;
    let region = loaded.region.clone();
    match loaded.region_source {
        RegionSource::Flag => report.ok("region", format!("{region} (from --region)")),
        RegionSource::Chain => {
            report.ok("region", format!("{region} (from AWS_REGION, AWS_DEFAULT_REGION or the profile)"))
        }
        RegionSource::GuideDefault => report.note(
            "region",
            format!("none configured, so the guide's {region}"),
            Some("pass --region REGION, or set AWS_REGION, to use another region".into()),
        ),
    }
    let credentials = match super::resolve_credentials(&loaded.config).await {
        Ok(credentials) => {
            let profile = options.profile.as_deref().map(|p| format!(", profile {p}")).unwrap_or_default();
            report.ok("credentials", format!("found: {}{profile}", masked(&credentials)));
            Some(credentials)
        }
        Err(error) => {
            report.explained("credentials", &error);
            None
        }
    };
    let mut backend = None;
    if credentials.is_some() {
        match super::caller_identity(&loaded.config, None).await {
            Ok(identity) => {
                report.ok("identity", format!("account {}, {}", identity.account, identity.arn));
                backend = Some(EcrBackend {
                    kind: super::BackendKind::Aws,
                    account: identity.account,
                    region: region.clone(),
                    principal: identity.arn,
                    connection: super::Connection::Aws { config: Box::new(loaded.config.clone()) },
                    registry_url: std::env::var(super::REGISTRY_URL_ENV).ok().filter(|u| !u.is_empty()),
                });
            }
            Err(error) => report.explained("identity", &error),
        }
    }
    match &backend {
        Some(backend) => permissions(backend, &mut report).await,
        None => report.note("permissions", "not checked: they need working credentials first", None),
    }
    clock_skew(&loaded.config, &region, &mut report).await;
    tools(&mut report).await;
    let backend = if report.blocks() { None } else { backend };
    (report, backend)
}

async fn permissions(backend: &EcrBackend, report: &mut Report) {
    let ecr = backend.ecr(None);
    let name = format!("ecr-lab-doctor-probe-{}", &uuid::Uuid::new_v4().simple().to_string()[..12]);
    let partition = backend.principal.split(':').nth(1).filter(|p| !p.is_empty()).unwrap_or("aws");
    let arn = format!("arn:{partition}:ecr:{}:{}:repository/{name}", backend.region, backend.account);
    let mut denied = Vec::new();
    for &p in PROBES {
        match probe(&ecr, p, &name, &arn).await {
            Ok(true) => {}
            Ok(false) => denied.push(action(p)),
            Err(error) => {
                report.explained("permissions", &error);
                return;
            }
        }
    }
    if denied.is_empty() {
        report.ok(
            "permissions",
            format!(
                "the lab's {} ECR actions answered (probed on a repository that does not exist; ecr:CreateRepository and pushes are proved when the lab first uses them)",
                PROBES.len()
            ),
        );
    } else {
        report.problem(
            "permissions",
            format!("access denied for {}", denied.join(", ")),
            format!("ask your AWS administrator for a policy that allows {}", denied.join(", ")),
            true,
        );
    }
}

/// The STS endpoint's `Date` against this computer's clock: SigV4 refuses a clock that is minutes off.
async fn clock_skew(config: &aws_config::SdkConfig, region: &str, report: &mut Report) {
    let url = match config.endpoint_url() {
        Some(url) => format!("{}/", url.trim_end_matches('/')),
        None => format!("https://sts.{region}.amazonaws.com/"),
    };
    let client = crate::registry_client::https_client();
    let request = hyper::Request::get(&url).body(http_body_util::Full::new(bytes::Bytes::new()));
    let Ok(request) = request else { return };
    let answer = tokio::time::timeout(Duration::from_secs(5), client.request(request)).await;
    let date = match answer {
        Ok(Ok(response)) => response.headers().get("date").and_then(|d| d.to_str().ok()).map(str::to_owned),
        _ => None,
    };
    let Some(server) = date.and_then(|d| httpdate::parse_http_date(&d).ok()) else {
        report.note("clock", format!("not compared: {url} did not answer with a Date"), None);
        return;
    };
    let now = std::time::SystemTime::now();
    let skew = match now.duration_since(server) {
        Ok(ahead) => ahead.as_secs() as i64,
        Err(behind) => -(behind.duration().as_secs() as i64),
    };
    // The Date header has whole seconds; a second or two is the round trip.
    if skew.abs() <= 60 {
        report.ok("clock", format!("within {}s of AWS", skew.abs().max(1)));
    } else {
        let direction = if skew > 0 { "ahead of" } else { "behind" };
        report.problem(
            "clock",
            format!("this computer's clock is {}s {direction} AWS's", skew.abs()),
            "set the clock right (e.g. `sudo timedatectl set-ntp true`): AWS refuses requests signed more than a few minutes off",
            skew.abs() > 5 * 60,
        );
    }
}

/// The docker engine and the aws CLI: the lab has built-in versions of both, so these never block.
async fn tools(report: &mut Report) {
    let docker = run_tool("docker", &["version", "--format", "{{.Server.Version}}"]).await;
    match docker {
        Some((true, version)) => report.ok("docker", format!("engine {version} reachable (for --tools real)")),
        Some((false, error)) => report.note(
            "docker",
            format!("the docker command is here but its engine does not answer: {}", error.lines().next().unwrap_or_default()),
            Some("start the Docker engine (or Docker Desktop) to use it; meanwhile the lab shell's built-in docker works".into()),
        ),
        None => report.note(
            "docker",
            "no docker command: the lab shell's built-in docker will push and pull",
            Some("install Docker only if you want to practise with the real engine".into()),
        ),
    }
    match run_tool("aws", &["--version"]).await {
        Some((true, version)) => report.ok("aws CLI", version.lines().next().unwrap_or_default().to_owned()),
        _ => report.note(
            "aws CLI",
            "not installed: the lab shell's built-in aws will run the guide's commands",
            Some("install the AWS CLI only for --tools real".into()),
        ),
    }
}

/// Runs a tool for at most 10 seconds: `None` when it is not there.
async fn run_tool(program: &str, args: &[&str]) -> Option<(bool, String)> {
    let child = tokio::process::Command::new(program).args(args).kill_on_drop(true).output();
    match tokio::time::timeout(Duration::from_secs(10), child).await {
        Ok(Ok(output)) => {
            let mut text = String::from_utf8_lossy(&output.stdout).trim().to_owned();
            if text.is_empty() || !output.status.success() {
                text = String::from_utf8_lossy(&output.stderr).trim().to_owned();
            }
            Some((output.status.success(), text))
        }
        Ok(Err(_)) => None,
        Err(_) => Some((false, format!("`{program} {}` did not finish in 10 seconds", args.join(" ")))),
    }
}

/// The preflight for the bundled mock: it starts and answers, and which tools are here.
pub async fn mock(endpoint: &str) -> Report {
    let mut report = Report::default();
    let backend = EcrBackend::mock(endpoint);
    match backend.ecr(None).get_authorization_token().send().await {
        Ok(_) => report.ok(
            "mock",
            format!(
                "the bundled mock of ECR answers at {endpoint} (account {}, region {})",
                backend.account, backend.region
            ),
        ),
        Err(error) => report.explained("mock", &explain::sdk("GetAuthorizationToken", &error)),
    }
    report.ok("credentials", "the lab's own key for the mock (no AWS account needed)");
    tools(&mut report).await;
    report
}
