//! `aws configure` (four prompts, answered from stdin), `aws configure set KEY VALUE`,
//! `aws configure get KEY`, `aws configure list`: the lab profile (see `profile`).

use std::collections::BTreeMap;

use super::failure::{Failure, Outcome};
use super::profile::{self, masked};
use crate::backend::BackendKind;
use crate::shell::{Io, Session};

pub fn run(session: &mut Session, args: &[String], io: &mut Io) -> Outcome {
    if session.backend.kind == BackendKind::Aws && args.first().map(String::as_str) != Some("list") {
        io.eprintln(
            "ecr-lab: on real AWS the lab shell uses your AWS credentials chain (profiles, SSO, environment); this lab profile is only read on the mock",
        );
    }
    let mut values = profile::read(session);
    match args.first().map(String::as_str) {
        None => {
            prompt(&mut values, io);
            save(session, &values)
        }
        Some("set") => match (args.get(1), args.get(2)) {
            (Some(key), Some(value)) => {
                values.insert(key.trim_start_matches("default.").to_owned(), value.clone());
                save(session, &values)
            }
            _ => Err(Failure::Usage("the following arguments are required: varname, value".into())),
        },
        Some("get") => match args.get(1).and_then(|key| values.get(key.trim_start_matches("default."))) {
            Some(value) => {
                io.println(value);
                Ok(None)
            }
            None => Err(Failure::Other(String::new())),
        },
        Some("export-credentials") => export_credentials(session, &args[1..], io),
        Some("list") => {
            list(session, &values, io);
            Ok(None)
        }
        Some(other) => Err(Failure::Usage(format!(
            "argument operation: Invalid choice: '{other}' (set, get, list, export-credentials)"
        ))),
    }
}

fn save(session: &Session, values: &BTreeMap<String, String>) -> Outcome {
    profile::write(session, values).map_err(|e| Failure::Other(format!("cannot save the lab profile: {e}")))?;
    Ok(None)
}

/// The four prompts. Answers come from a pipe, or, at the interactive prompt, from the terminal.
fn prompt(values: &mut BTreeMap<String, String>, io: &mut Io) {
    let ask_terminal = io.stdin.is_empty() && std::io::IsTerminal::is_terminal(&std::io::stdin());
    let input = String::from_utf8_lossy(&io.stdin).into_owned();
    let mut answers = input.lines();
    let prompts = [
        ("aws_access_key_id", "AWS Access Key ID"),
        ("aws_secret_access_key", "AWS Secret Access Key"),
        ("region", "Default region name"),
        ("output", "Default output format"),
    ];
    for (key, label) in prompts {
        let current = values.get(key).map(|v| if key.starts_with("aws_") { masked(v) } else { v.clone() });
        let prompt = format!("{label} [{}]: ", current.unwrap_or_else(|| "None".into()));
        let answer = if ask_terminal {
            use std::io::Write as _;
            print!("{prompt}");
            let _ = std::io::stdout().flush();
            let mut line = String::new();
            let _ = std::io::stdin().read_line(&mut line);
            line
        } else {
            io.out.extend_from_slice(prompt.as_bytes());
            answers.next().unwrap_or_default().to_owned()
        };
        if !answer.trim().is_empty() {
            values.insert(key.to_owned(), answer.trim().to_owned());
        }
    }
    if !ask_terminal {
        io.out.push(b'\n');
    }
}

/// `aws configure list`: where the key, secret and region come from.
fn list(session: &Session, values: &BTreeMap<String, String>, io: &mut Io) {
    let resolved = profile::resolve(session, None);
    let source = if session.var("AWS_ACCESS_KEY_ID").is_some() {
        "env"
    } else if session.backend.kind == BackendKind::Aws {
        "aws-chain"
    } else if values.contains_key("aws_access_key_id") {
        "shared-credentials-file"
    } else {
        "ecr-lab"
    };
    let shown = |v: Option<&str>| v.map(masked).unwrap_or_else(|| "<the AWS chain's>".to_owned());
    io.println("      Name                    Value             Type    Location");
    io.println("      ----                    -----             ----    --------");
    io.println("   profile                <not set>             None    None");
    let key = resolved.credentials.as_ref().map(|c| c.access_key_id());
    let secret = resolved.credentials.as_ref().map(|c| c.secret_access_key());
    io.println(format!("access_key     {:>20} {:>16}    ", shown(key), source));
    io.println(format!("secret_key     {:>20} {:>16}    ", shown(secret), source));
    io.println(format!(
        "    region     {:>20} {:>16}    ",
        resolved.region,
        if values.contains_key("region") { "config-file" } else { "ecr-lab" }
    ));
}

/// `aws configure export-credentials [--format env|env-no-export|process]`: the credentials the
/// command resolved (a role profile's session credentials, assumed for it), as CLI v2 prints them.
fn export_credentials(session: &Session, args: &[String], io: &mut Io) -> Outcome {
    let format = match args {
        [] => "process",
        [flag, format] if flag == "--format" => format.as_str(),
        _ => return Err(Failure::Usage("usage: aws configure export-credentials [--format FORMAT]".into())),
    };
    let resolved = profile::resolve(session, None);
    let Some(credentials) = resolved.credentials else {
        return Err(Failure::Other("Unable to locate credentials".into()));
    };
    let pairs = [
        ("AWS_ACCESS_KEY_ID", Some(credentials.access_key_id())),
        ("AWS_SECRET_ACCESS_KEY", Some(credentials.secret_access_key())),
        ("AWS_SESSION_TOKEN", credentials.session_token()),
    ];
    match format {
        "env" | "env-no-export" => {
            let prefix = if format == "env" { "export " } else { "" };
            for (name, value) in pairs {
                if let Some(value) = value {
                    io.println(format!("{prefix}{name}={value}"));
                }
            }
        }
        "process" => {
            let mut object = serde_json::json!({
                "Version": 1,
                "AccessKeyId": credentials.access_key_id(),
                "SecretAccessKey": credentials.secret_access_key(),
            });
            if let Some(token) = credentials.session_token() {
                object["SessionToken"] = token.into();
            }
            io.println(serde_json::to_string_pretty(&object).unwrap_or_default());
        }
        other => {
            return Err(Failure::Usage(format!(
                "argument --format: Invalid choice, valid choices are: process, env, env-no-export, powershell, windows-cmd (not {other})"
            )));
        }
    }
    Ok(None)
}
