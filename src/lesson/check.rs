//! Typed check assertions (`lab:check` blocks) and how they are judged against the lab: the
//! registry through the ECR API, the shell's docker config and local images, the commands the
//! learner ran in this stage, and the mock's request log.

use std::collections::BTreeMap;

use serde::Deserialize;

use super::fill;

#[derive(Debug, Clone, Deserialize)]
pub enum Assertion {
    #[serde(rename = "ecr.repository")]
    Repository(RepositoryCheck),
    #[serde(rename = "ecr.image")]
    Image(ImageCheck),
    #[serde(rename = "docker.credentials")]
    Credentials(CredentialsCheck),
    #[serde(rename = "local.image")]
    LocalImage(LocalImageCheck),
    #[serde(rename = "output")]
    Output(OutputCheck),
    #[serde(rename = "exit")]
    Exit(ExitCheck),
    #[serde(rename = "mock.requests")]
    Requests(RequestsCheck),
    #[serde(rename = "scan.findings")]
    Findings(FindingsCheck),
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RepositoryCheck {
    pub name: String,
    pub exists: Option<bool>,
    pub scan_on_push: Option<bool>,
    pub tag_mutability: Option<String>,
    pub region: Option<String>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ImageCheck {
    pub repo: String,
    pub tag: Option<String>,
    pub exists: Option<bool>,
    /// `stage_start`: pushed since the stage began.
    pub pushed_after: Option<String>,
    pub region: Option<String>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CredentialsCheck {
    pub registry: String,
    pub present: Option<bool>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LocalImageCheck {
    #[serde(rename = "ref")]
    pub reference: String,
    pub exists: Option<bool>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct OutputCheck {
    /// `last` (default), or the start of a command (`docker push`): its most recent run in the stage.
    pub of: Option<String>,
    pub contains: String,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ExitCheck {
    pub of: Option<String>,
    pub code: i32,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RequestsCheck {
    /// `registry`, `ecr:<Operation>`, `sts`, or `METHOD /path` with `*` wildcards.
    pub route: String,
    pub status: Option<u16>,
    /// `stage_start` (default): only requests since the stage began.
    pub since: Option<String>,
}

/// The image's scan is COMPLETE with at least one finding of `min_severity` or higher.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FindingsCheck {
    pub repo: String,
    /// Default: the lesson's `tag` variable, else `latest`.
    pub tag: Option<String>,
    /// `CRITICAL`, `HIGH`, `MEDIUM`, `LOW`, `INFORMATIONAL` or `UNDEFINED` (the default: any finding).
    pub min_severity: Option<String>,
}

/// ECR's severities, lowest first (UNDEFINED was not rated).
pub const SEVERITIES: [&str; 6] = ["UNDEFINED", "INFORMATIONAL", "LOW", "MEDIUM", "HIGH", "CRITICAL"];

/// How long a `scan.findings` check waits for a scan still IN_PROGRESS.
const SCAN_WAIT: std::time::Duration = std::time::Duration::from_secs(10);

pub fn severity_rank(severity: &str) -> Option<usize> {
    SEVERITIES.iter().position(|s| s.eq_ignore_ascii_case(severity))
}

/// A command the learner ran in this stage, and how it ended.
#[derive(Debug, Clone)]
pub struct Ran {
    pub command: String,
    pub output: String,
    pub status: i32,
}

/// Where the learner works: the lab shell's built-in tools, or their own aws and docker.
pub enum Tools<'a> {
    Builtin(&'a crate::shell::Session),
    /// Their own tools against the backend; docker's config is read from `docker_config`.
    Real {
        backend: &'a crate::backend::EcrBackend,
        docker_config: std::path::PathBuf,
    },
}

impl Tools<'_> {
    /// What the checks look at: the mock or the AWS account, with the lab's own credentials.
    pub fn backend(&self) -> &crate::backend::EcrBackend {
        match self {
            Self::Builtin(session) => &session.backend,
            Self::Real { backend, .. } => backend,
        }
    }

    fn docker_logged_in(&self, host: &str) -> bool {
        match self {
            Self::Builtin(session) => session.docker_logged_in(host),
            Self::Real { docker_config, .. } => std::fs::read(docker_config.join("config.json"))
                .ok()
                .and_then(|bytes| serde_json::from_slice::<serde_json::Value>(&bytes).ok())
                .is_some_and(|config| config["auths"].get(host).is_some() || config["credHelpers"].get(host).is_some()),
        }
    }

    fn local_image(&self, reference: &str) -> Result<bool, String> {
        match self {
            Self::Builtin(session) if session.docker_engine => crate::shell::engine::has_image(reference),
            Self::Builtin(session) => {
                let parsed = crate::reference::Reference::parse(reference).map_err(|e| e.to_string())?;
                Ok(session.images.resolve(&parsed).ok().flatten().is_some())
            }
            Self::Real { .. } => crate::shell::engine::has_image(reference),
        }
    }
}

/// What a check can look at.
pub struct Context<'a> {
    pub tools: Tools<'a>,
    pub vars: &'a BTreeMap<String, String>,
    pub history: &'a [Ran],
    /// The mock's request-log sequence number when the stage began.
    pub log_seq_at_start: u64,
    /// Epoch seconds (lab clock) when the stage began.
    pub started_at: f64,
}

/// Line offsets (0-based, within the block body) of each top-level `- ` item.
pub fn item_lines(body: &str) -> Vec<usize> {
    body.lines().enumerate().filter(|(_, l)| l.starts_with("- ")).map(|(n, _)| n).collect()
}

impl Assertion {
    /// One line a learner understands: what this check wants.
    pub fn describe(&self, vars: &BTreeMap<String, String>) -> String {
        let f = |s: &str| fill(s, vars);
        match self {
            Self::Repository(c) if c.exists == Some(false) => format!("repository {} does not exist", f(&c.name)),
            Self::Repository(c) => {
                let mut parts = vec![format!("repository {} exists", f(&c.name))];
                if let Some(scan) = c.scan_on_push {
                    parts.push(format!("scan on push {}", if scan { "on" } else { "off" }));
                }
                if let Some(m) = &c.tag_mutability {
                    parts.push(format!("tags {}", m.to_lowercase()));
                }
                parts.join(", ")
            }
            Self::Image(c) => format!(
                "image {}:{} {}",
                f(&c.repo),
                c.tag.as_deref().map(f).unwrap_or_else(|| "*".into()),
                if c.exists == Some(false) { "is not in the registry" } else { "is in the registry" }
            ),
            Self::Credentials(c) => format!(
                "docker {} logged in to {}",
                if c.present == Some(false) { "is not" } else { "is" },
                f(&c.registry)
            ),
            Self::LocalImage(c) => format!(
                "local image {} {}",
                f(&c.reference),
                if c.exists == Some(false) { "is absent" } else { "exists" }
            ),
            Self::Output(c) => format!(
                "the output of `{}` contains \"{}\"",
                c.of.as_deref().unwrap_or("the last command"),
                f(&c.contains)
            ),
            Self::Exit(c) => format!("`{}` exits with {}", c.of.as_deref().unwrap_or("the last command"), c.code),
            Self::Requests(c) => {
                format!("the mock saw {} {}", c.route, c.status.map(|s| format!("answered {s}")).unwrap_or_default())
            }
            Self::Findings(c) => format!(
                "the scan of {}:{} found a {} or higher finding",
                f(&c.repo),
                c.tag.as_deref().map(f).unwrap_or_else(|| vars.get("tag").cloned().unwrap_or_else(|| "latest".into())),
                c.min_severity.as_deref().unwrap_or("UNDEFINED").to_uppercase()
            ),
        }
    }

    /// Judges the assertion; `Err` says what is not so yet.
    pub async fn evaluate(&self, cx: &Context<'_>) -> Result<(), String> {
        let f = |s: &str| fill(s, cx.vars);
        match self {
            Self::Repository(c) => {
                let ecr = cx.tools.backend().ecr(c.region.as_deref());
                let found = ecr.describe_repositories().repository_names(f(&c.name)).send().await;
                let repository = match found {
                    Ok(found) => found.repositories().first().cloned(),
                    Err(e) if e.as_service_error().is_some_and(|s| s.is_repository_not_found_exception()) => None,
                    // Access denied, throttling, the network: say so, not "does not exist".
                    Err(e) => return Err(crate::backend::explain::sdk("DescribeRepositories", &e).to_string()),
                };
                match (repository, c.exists.unwrap_or(true)) {
                    (None, true) => Err(format!("repository {} does not exist yet", f(&c.name))),
                    (Some(_), false) => Err(format!("repository {} still exists", f(&c.name))),
                    (None, false) => Ok(()),
                    (Some(r), true) => {
                        if let Some(want) = c.scan_on_push {
                            let has = r.image_scanning_configuration().is_some_and(|s| s.scan_on_push());
                            if has != want {
                                return Err(format!(
                                    "scan on push is {} on {}",
                                    if has { "on" } else { "off" },
                                    f(&c.name)
                                ));
                            }
                        }
                        if let Some(want) = &c.tag_mutability {
                            let has = r.image_tag_mutability().map(|m| m.as_str().to_owned()).unwrap_or_default();
                            if !has.eq_ignore_ascii_case(want) {
                                return Err(format!("tag mutability of {} is {has}, not {want}", f(&c.name)));
                            }
                        }
                        Ok(())
                    }
                }
            }
            Self::Image(c) => {
                let ecr = cx.tools.backend().ecr(c.region.as_deref());
                let mut request = ecr.describe_images().repository_name(f(&c.repo));
                if let Some(tag) = &c.tag {
                    request =
                        request.image_ids(aws_sdk_ecr::types::ImageIdentifier::builder().image_tag(f(tag)).build());
                }
                let detail = match request.send().await {
                    Ok(found) => found.image_details().first().cloned(),
                    Err(e)
                        if e.as_service_error().is_some_and(|s| {
                            s.is_repository_not_found_exception() || s.is_image_not_found_exception()
                        }) =>
                    {
                        None
                    }
                    Err(e) => return Err(crate::backend::explain::sdk("DescribeImages", &e).to_string()),
                };
                let what = format!("{}:{}", f(&c.repo), c.tag.as_deref().map(f).unwrap_or_else(|| "*".into()));
                match (detail, c.exists.unwrap_or(true)) {
                    (None, true) => Err(format!("image {what} is not in the registry yet")),
                    (Some(_), false) => Err(format!("image {what} is still in the registry")),
                    (None, false) => Ok(()),
                    (Some(d), true) => {
                        let pushed = d
                            .image_pushed_at()
                            .map(|t| t.secs() as f64 + f64::from(t.subsec_nanos()) / 1e9)
                            .unwrap_or(0.0);
                        if c.pushed_after.as_deref() == Some("stage_start") && pushed + 0.001 < cx.started_at {
                            return Err(format!("image {what} was pushed before this stage began; push it again"));
                        }
                        Ok(())
                    }
                }
            }
            Self::Credentials(c) => {
                let present = cx.tools.docker_logged_in(&f(&c.registry));
                match (present, c.present.unwrap_or(true)) {
                    (true, true) | (false, false) => Ok(()),
                    (false, true) => Err(format!("docker has no login for {}", f(&c.registry))),
                    (true, false) => Err(format!("docker is still logged in to {}", f(&c.registry))),
                }
            }
            Self::LocalImage(c) => {
                let present = cx.tools.local_image(&f(&c.reference))?;
                match (present, c.exists.unwrap_or(true)) {
                    (true, true) | (false, false) => Ok(()),
                    (false, true) => Err(format!("there is no local image {}", f(&c.reference))),
                    (true, false) => Err(format!("the local image {} is still there", f(&c.reference))),
                }
            }
            // The learner's own terminal is not visible to the lab.
            Self::Output(_) | Self::Exit(_) if matches!(cx.tools, Tools::Real { .. }) => Ok(()),
            Self::Output(c) => {
                let ran = find(cx.history, c.of.as_deref().map(f).as_deref())?;
                let want = f(&c.contains);
                if ran.output.contains(&want) {
                    Ok(())
                } else {
                    Err(format!("`{}` did not print \"{want}\"", ran.command))
                }
            }
            Self::Exit(c) => {
                let ran = find(cx.history, c.of.as_deref().map(f).as_deref())?;
                if ran.status == c.code {
                    Ok(())
                } else {
                    Err(format!("`{}` exited with {}, not {}", ran.command, ran.status, c.code))
                }
            }
            Self::Requests(c) => {
                let since = if c.since.as_deref() == Some("all") { 0 } else { cx.log_seq_at_start };
                let Some(endpoint) = cx.tools.backend().mock_endpoint() else {
                    return Err("mock.requests needs the mock's request log, which real AWS does not have: this lesson should not list `aws` in its backends".into());
                };
                let log = crate::control_client::requests(endpoint, since).await.map_err(|e| e.to_string())?;
                let seen = log.iter().any(|r| {
                    route_matches(&c.route, r) && c.status.is_none_or(|s| r["status"].as_u64() == Some(u64::from(s)))
                });
                if seen {
                    Ok(())
                } else {
                    Err(format!(
                        "the mock has not seen {} {}",
                        c.route,
                        c.status.map(|s| format!("answered {s}")).unwrap_or_default()
                    ))
                }
            }
            Self::Findings(c) => {
                let min = c.min_severity.as_deref().unwrap_or("UNDEFINED");
                let rank = severity_rank(min).ok_or_else(|| {
                    format!("min_severity {min} is not one of {} (the lesson needs fixing)", SEVERITIES.join(", "))
                })?;
                let tag = c
                    .tag
                    .as_deref()
                    .map(f)
                    .unwrap_or_else(|| cx.vars.get("tag").cloned().unwrap_or_else(|| "latest".into()));
                let what = format!("{}:{tag}", f(&c.repo));
                let ecr = cx.tools.backend().ecr(None);
                // A scan takes moments; one still running when the check looks is waited for a little,
                // as `aws ecr wait image-scan-complete` would.
                let deadline = std::time::Instant::now() + SCAN_WAIT;
                let found = loop {
                    let found = ecr
                        .describe_image_scan_findings()
                        .repository_name(f(&c.repo))
                        .image_id(aws_sdk_ecr::types::ImageIdentifier::builder().image_tag(&tag).build())
                        .send()
                        .await;
                    let found = match found {
                        Ok(found) => found,
                        Err(e) => {
                            use aws_sdk_ecr::error::ProvideErrorMetadata as _;
                            return Err(match e.code() {
                                Some("ScanNotFoundException") => format!(
                                    "{what} has not been scanned (turn on scan on push and push it, or run aws ecr start-image-scan)"
                                ),
                                Some(code) => {
                                    format!(
                                        "the scan of {what} cannot be read: {code}: {}",
                                        e.message().unwrap_or_default()
                                    )
                                }
                                None => format!("the scan of {what} cannot be read: {e}"),
                            });
                        }
                    };
                    let status = found.image_scan_status().and_then(|s| s.status()).map(|s| s.as_str().to_owned());
                    match status.as_deref() {
                        Some("COMPLETE") => break found,
                        Some("IN_PROGRESS") | None if std::time::Instant::now() < deadline => {
                            tokio::time::sleep(std::time::Duration::from_millis(100)).await;
                        }
                        Some("IN_PROGRESS") | None => return Err(format!("the scan of {what} is still in progress")),
                        Some(other) => {
                            let why = found.image_scan_status().and_then(|s| s.description()).unwrap_or_default();
                            return Err(format!("the scan of {what} is {other}: {why}"));
                        }
                    }
                };
                let counts = found.image_scan_findings().and_then(|f| f.finding_severity_counts());
                let enough = counts
                    .into_iter()
                    .flatten()
                    .any(|(severity, n)| *n > 0 && severity_rank(severity.as_str()).is_some_and(|r| r >= rank));
                if enough {
                    Ok(())
                } else {
                    Err(format!("the scan of {what} found nothing of severity {} or higher", SEVERITIES[rank]))
                }
            }
        }
    }
}

fn find<'a>(history: &'a [Ran], of: Option<&str>) -> Result<&'a Ran, String> {
    let found = match of {
        None | Some("last") => history.last(),
        Some(prefix) => history.iter().rev().find(|r| r.command.trim_start().starts_with(prefix)),
    };
    found.ok_or_else(|| format!("`{}` has not been run in this stage", of.unwrap_or("a command")))
}

fn route_matches(route: &str, entry: &serde_json::Value) -> bool {
    let api = entry["api"].as_str().unwrap_or_default();
    if route == api {
        return true;
    }
    match route.split_once(' ') {
        Some((method, path)) => {
            entry["method"].as_str() == Some(method)
                && mock_registry::types::wildcard_match(
                    path.as_bytes(),
                    entry["path"].as_str().unwrap_or_default().as_bytes(),
                )
        }
        None => false,
    }
}
