//! The built-in `aws`: the aws CLI's commands for ECR and STS, through the real `aws-sdk-ecr` and
//! `aws-sdk-sts` clients to the lab's mock (or real AWS), with the CLI's argument handling, output
//! (`json|text|table|yaml|yaml-stream`) and error lines. It speaks CLI v2, as the guide does (ISO 8601
//! times, exit 252/253/254/255); `AWS_LAB_CLI_VERSION=1` makes it speak v1 (epoch times, exit 2/255).
//!
//! Layout: this module runs one command line: `globals` splits off the global options (and makes
//! the client they ask for), `dispatch` hands the rest to `ecr`, `sts` or `configure`, `render`
//! applies `--query` (`query`, JMESPath) and `--output`, and `failure` reports how it ended.
//! Below the commands: `flags` parses an operation's flags (low level), `params` reads their values
//! into request members (high level), `profile` is the lab profile and where credentials come from.
//! `ecr` is the table of `aws ecr` commands, one unit per command keyed by the mock's `Operation`,
//! grouped by family. The dependencies run one way: leaves (`failure`, `flags`, `params`,
//! `profile`, `globals`, `query`) never reach back up to the commands or to this module.

mod assume;
mod configure;
mod ecr;
mod failure;
mod flags;
mod globals;
mod params;
mod profile;
mod query;
mod sts;

use serde_json::Value;

use super::aws_json as out;
use super::aws_table as out_table;
use super::aws_yaml as out_yaml;
use super::{Io, Session};
use crate::backend::{BackendKind, explain};

use failure::{Cli, Failure, Outcome, report};
use globals::{Invocation, split_globals};

pub use ecr::{flags_of, operation_names};

/// Saves `values` as the lab's aws profile `name` (replacing it), keeping the other profiles.
pub fn save_profile(
    session: &Session,
    name: &str,
    values: std::collections::BTreeMap<String, String>,
) -> std::io::Result<()> {
    profile::write_profile(session, name, &values)
}

const VERSION_V1: &str = "aws-cli/1.45.11 Python/3.11.7 Linux/ecr-lab botocore/1.43.11";
/// As Debian's `awscli` package (CLI v2) prints it, with the lab for the kernel.
const VERSION_V2: &str = "aws-cli/2.9.19 Python/3.11.2 Linux/ecr-lab source/x86_64.debian.12 prompt/off";

/// The CLI the built-in `aws` speaks: v2 (as the guide uses), or v1 when `AWS_LAB_CLI_VERSION=1`.
fn cli_version(session: &Session) -> Cli {
    match session.var("AWS_LAB_CLI_VERSION").as_deref().map(str::trim) {
        Some("1") => Cli::V1,
        _ => Cli::V2,
    }
}

pub async fn run(session: &mut Session, args: &[String], io: &mut Io) -> i32 {
    let cli = cli_version(session);
    if args.first().map(String::as_str) == Some("--version") {
        io.println(if cli == Cli::V1 { VERSION_V1 } else { VERSION_V2 });
        return 0;
    }
    let outcome = match split_globals(args, cli) {
        Ok(invocation) => with_profile(session, invocation, io).await,
        Err(failure) => Err(failure),
    };
    // On real AWS an error about the learner's set-up (access, credentials, throttling, the network)
    // gets one line of what to do under AWS's own text.
    let fix = match (&outcome, session.backend.kind) {
        (Err(Failure::Service { code, message, .. }), BackendKind::Aws) => explain::fix_for(code, message),
        (Err(Failure::Other(message)), BackendKind::Aws) if message.starts_with("Could not connect") => {
            Some(explain::unreachable("").fix)
        }
        (Err(Failure::Other(message)), BackendKind::Aws) if message.starts_with("Unable to locate credentials") => {
            Some(explain::no_credentials("").fix)
        }
        _ => None,
    };
    let status = report(outcome, cli, io);
    if let Some(fix) = fix {
        io.eprintln(format!("ecr-lab: what to do: {fix}"));
    }
    status
}

/// Runs the command with `--profile NAME` as `$AWS_PROFILE` (for this command only); a profile the
/// lab's config does not have stops it as the CLI does.
async fn with_profile(session: &mut Session, invocation: Invocation, io: &mut Io) -> Outcome {
    const SCOPED: [&str; 4] = ["AWS_PROFILE", "AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN"];
    let saved: Vec<Option<String>> = SCOPED.iter().map(|name| session.vars.get(*name).cloned()).collect();
    if let Some(name) = &invocation.profile {
        session.vars.insert("AWS_PROFILE".into(), name.clone());
    }
    // `aws configure set ... --profile NEW` makes the profile.
    let configure = invocation.rest.first().map(String::as_str) == Some("configure");
    let outcome = match profile::missing(session).filter(|_| !configure) {
        Some(name) => Err(Failure::Other(format!("The config profile ({name}) could not be found"))),
        None if configure && invocation.rest.get(1).map(String::as_str) != Some("export-credentials") => {
            dispatch(session, invocation, io).await
        }
        None => match assume::session_credentials(session).await {
            Ok(Some(credentials)) => {
                session.vars.insert("AWS_ACCESS_KEY_ID".into(), credentials.access_key_id().to_owned());
                session.vars.insert("AWS_SECRET_ACCESS_KEY".into(), credentials.secret_access_key().to_owned());
                session.vars.insert("AWS_SESSION_TOKEN".into(), credentials.session_token().unwrap_or_default().into());
                dispatch(session, invocation, io).await
            }
            Ok(None) => dispatch(session, invocation, io).await,
            Err(failure) => Err(failure),
        },
    };
    for (name, value) in SCOPED.iter().zip(saved) {
        match value {
            Some(value) => session.vars.insert((*name).to_owned(), value),
            None => session.vars.remove(*name),
        };
    }
    outcome
}

async fn dispatch(session: &mut Session, invocation: Invocation, io: &mut Io) -> Outcome {
    let mut rest = invocation.rest.iter();
    let service = rest.next().ok_or_else(|| Failure::Usage("the following arguments are required: command".into()))?;
    let args: Vec<String> = rest.cloned().collect();
    let outcome = match service.as_str() {
        "ecr" => ecr::run(session, &invocation, &args, io).await,
        "sts" => sts::run(session, &invocation, &args).await,
        "configure" => configure::run(session, &args, io),
        other => Err(Failure::Usage(format!(
            "argument command: Invalid choice: '{other}' (the lab's aws knows ecr, sts and configure)"
        ))),
    };
    match outcome {
        Ok(Some(value)) => render(&invocation, value, io),
        other => other,
    }
}

/// A response as the CLI prints it: times as the version shows them (v2: ISO 8601; v1: what the
/// service sent, seconds since 1970 from ECR's JSON, `2026-12-04T00:19:30Z` from STS's XML),
/// `--query` applied, then `--output json|text|table|yaml|yaml-stream`.
fn render(invocation: &Invocation, mut value: Value, io: &mut Io) -> Outcome {
    if invocation.cli == Cli::V1 {
        match invocation.rest.first().map(String::as_str) {
            Some("sts") => out::times_as_sent_in_xml(&mut value),
            _ => out::times_as_epoch(&mut value),
        }
    }
    let value = match &invocation.query {
        Some(query) => query::apply_query(query, &value)?,
        None => value,
    };
    let printed = match invocation.output.as_str() {
        "text" => out::text(&value),
        "yaml" => out_yaml::yaml(&value),
        "yaml-stream" => out_yaml::yaml_stream(&value),
        "table" => out_table::table(&operation_title(&invocation.rest), &value),
        _ => return Ok(Some(value)),
    };
    io.out.extend_from_slice(printed.as_bytes());
    Ok(None)
}

/// The operation's name as `--output table` titles it: `describe-repositories` → `DescribeRepositories`.
fn operation_title(rest: &[String]) -> String {
    let command = rest.get(1).map(String::as_str).unwrap_or_default();
    command
        .split('-')
        .map(|word| {
            let mut chars = word.chars();
            chars.next().map(|c| c.to_ascii_uppercase().to_string() + chars.as_str()).unwrap_or_default()
        })
        .collect()
}
