//! The global options (`--region`, `--output`, `--query`, `--endpoint-url`, ...) and what they
//! decide: where a call goes and the client that makes it.

use super::failure::{Cli, Failure};
use super::profile;
use crate::shell::Session;

/// Global options and what they leave.
pub struct Invocation {
    pub region: Option<String>,
    pub output: String,
    /// `--query`: a JMESPath expression applied to the response before it is printed.
    pub query: Option<String>,
    pub endpoint: Option<String>,
    /// `--profile NAME`: the lab profile to read (as `$AWS_PROFILE`).
    pub profile: Option<String>,
    pub rest: Vec<String>,
    /// The CLI version spoken: how times, errors and exit statuses look.
    pub cli: Cli,
}

impl Invocation {
    /// `--endpoint-url`, checked as the CLI checks it before it makes a client.
    pub fn endpoint_url(&self) -> Result<Option<&str>, Failure> {
        match self.endpoint.as_deref() {
            Some(url) if !url.contains("://") && self.cli == Cli::V2 => {
                Err(Failure::Other(format!("Invalid endpoint: {url}")))
            }
            Some(url) if !url.contains("://") => Err(Failure::Other(format!(
                "Bad value for --endpoint-url \"{url}\": scheme is missing.  Must be of the form http://<hostname>/ or https://<hostname>/"
            ))),
            url => Ok(url),
        }
    }
}

/// The `--output` formats each version knows.
fn output_formats(cli: Cli) -> &'static [&'static str] {
    match cli {
        Cli::V1 => &["json", "text", "table"],
        Cli::V2 => &["json", "text", "table", "yaml", "yaml-stream"],
    }
}

/// argparse's "Invalid choice" list: two names a line, each padded to 40 columns.
fn choices(names: &[&str]) -> String {
    names
        .chunks(2)
        .map(|pair| match pair {
            [a, b] => format!("{a:<40} | {b:<40}"),
            [a] => format!("{a:<40}"),
            _ => String::new(),
        })
        .collect::<Vec<_>>()
        .join("\n")
}

pub fn split_globals(args: &[String], cli: Cli) -> Result<Invocation, Failure> {
    let mut invocation = Invocation {
        region: None,
        output: "json".into(),
        query: None,
        endpoint: None,
        profile: None,
        rest: Vec::new(),
        cli,
    };
    let mut i = 0;
    while i < args.len() {
        let value = |i: usize| {
            args.get(i + 1)
                .cloned()
                .ok_or_else(|| Failure::Usage(format!("argument {}: expected one argument", args[i])))
        };
        match args[i].as_str() {
            "--region" => invocation.region = Some(value(i)?),
            "--output" => {
                invocation.output = value(i)?;
                if !output_formats(cli).contains(&invocation.output.as_str()) {
                    return Err(Failure::Usage(format!(
                        "argument --output: Invalid choice, valid choices are:\n\n{}",
                        choices(output_formats(cli))
                    )));
                }
            }
            "--query" => invocation.query = Some(value(i)?),
            "--endpoint-url" => invocation.endpoint = Some(value(i)?),
            "--profile" => invocation.profile = Some(value(i)?),
            "--color" | "--cli-read-timeout" | "--cli-connect-timeout" | "--ca-bundle" => {
                value(i)?;
            }
            "--debug" | "--no-paginate" | "--no-verify-ssl" | "--no-sign-request" => {
                i += 1;
                continue;
            }
            _ => {
                invocation.rest.push(args[i].clone());
                i += 1;
                continue;
            }
        }
        i += 2;
    }
    Ok(invocation)
}

/// Where the call goes, as the CLI names it in "Could not connect to the endpoint URL".
pub fn endpoint_shown(session: &Session, invocation: &Invocation, service: &str, region: &str) -> String {
    invocation
        .endpoint
        .clone()
        .or_else(|| session.backend.mock_endpoint().map(str::to_owned))
        .unwrap_or_else(|| format!("https://{service}.{region}.amazonaws.com"))
}

/// An ECR client as the command line asks (its credentials, region, endpoint), and its region.
pub fn ecr_client(session: &Session, invocation: &Invocation) -> Result<(aws_sdk_ecr::Client, String), Failure> {
    let resolved = profile::resolve(session, invocation.region.as_deref());
    let client = session.backend.ecr_client(Some(&resolved.region), resolved.credentials, invocation.endpoint_url()?);
    Ok((client, resolved.region))
}
