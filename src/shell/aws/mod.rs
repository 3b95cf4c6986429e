//! The built-in `aws`: the aws CLI v1's commands for ECR and STS, through the real `aws-sdk-ecr` and
//! `aws-sdk-sts` clients to the lab's mock (or real AWS), with the CLI's argument handling, JSON output
//! and error lines.
//!
//! Layout: this module runs one command line: `globals` splits off the global options (and makes
//! the client they ask for), `dispatch` hands the rest to `ecr`, `sts` or `configure`, `render`
//! applies `--query` (`query`, JMESPath) and `--output`, and `failure` reports how it ended.
//! Below the commands: `flags` parses an operation's flags (low level), `params` reads their values
//! into request members (high level), `profile` is the lab profile and where credentials come from.
//! `ecr` is the table of `aws ecr` commands, one unit per command keyed by the mock's `Operation`,
//! grouped by family. The dependencies run one way: leaves (`failure`, `flags`, `params`,
//! `profile`, `globals`, `query`) never reach back up to the commands or to this module.

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
use super::{Io, Session};
use crate::backend::{BackendKind, explain};

use failure::{Failure, Outcome, report};
use globals::{Invocation, split_globals};

pub use ecr::{flags_of, operation_names};

const VERSION: &str = "aws-cli/1.45.11 Python/3.11.7 Linux/ecr-lab botocore/1.43.11";

pub async fn run(session: &mut Session, args: &[String], io: &mut Io) -> i32 {
    if args.first().map(String::as_str) == Some("--version") {
        io.println(VERSION);
        return 0;
    }
    let outcome = match split_globals(args) {
        Ok(invocation) => dispatch(session, invocation, io).await,
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
    let status = report(outcome, io);
    if let Some(fix) = fix {
        io.eprintln(format!("ecr-lab: what to do: {fix}"));
    }
    status
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

/// A response as the CLI prints it: `--query` applied, then `--output json|text`.
fn render(invocation: &Invocation, value: Value, io: &mut Io) -> Outcome {
    let value = match &invocation.query {
        Some(query) => query::apply_query(query, &value)?,
        None => value,
    };
    match invocation.output.as_str() {
        "text" => {
            io.out.extend_from_slice(out::text(&value).as_bytes());
            Ok(None)
        }
        _ => Ok(Some(value)),
    }
}
