//! The lab's aws profiles (`$HOME/aws/config`: `[default]` and `[profile NAME]` sections; `$AWS_PROFILE`
//! picks one), and where the CLI finds credentials and region: [`resolve`].

use std::collections::BTreeMap;

use crate::backend::BackendKind;
use crate::shell::Session;

/// Credentials and region, as the CLI finds them. On the mock: shell variables, then the lab
/// profile, then the lab's default key. On real AWS: shell variables, else the backend's chain
/// (`credentials` is `None`), and the backend's region.
pub struct Resolved {
    pub credentials: Option<aws_credential_types::Credentials>,
    pub region: String,
}

/// `region` is `--region`, when given.
pub fn resolve(session: &Session, region: Option<&str>) -> Resolved {
    let aws = session.backend.kind == BackendKind::Aws;
    let profile = if aws { BTreeMap::new() } else { read(session) };
    let credentials = match (session.var("AWS_ACCESS_KEY_ID"), session.var("AWS_SECRET_ACCESS_KEY")) {
        (Some(key), Some(secret)) => Some((key, secret, session.var("AWS_SESSION_TOKEN"))),
        _ if aws => None,
        _ => {
            // The mock's own key for this shell: the lab's, or a joined student's.
            let own = session.backend.mock_credentials().cloned().unwrap_or_else(crate::backend::lab_credentials);
            Some((
                profile.get("aws_access_key_id").cloned().unwrap_or_else(|| own.access_key_id().to_owned()),
                profile.get("aws_secret_access_key").cloned().unwrap_or_else(|| own.secret_access_key().to_owned()),
                profile.get("aws_session_token").cloned(),
            ))
        }
    };
    // On the mock the backend's region is the lab's (or a joined student's, the same ap-south-1 by default).
    let fallback_region = session.backend.region.clone();
    let region = region
        .map(str::to_owned)
        .or_else(|| session.var("AWS_REGION"))
        .or_else(|| session.var("AWS_DEFAULT_REGION"))
        .or_else(|| profile.get("region").cloned())
        .unwrap_or(fallback_region);
    Resolved {
        credentials: credentials.map(|(key, secret, token)| {
            aws_credential_types::Credentials::new(key, secret, token, None, "ecr-lab-shell")
        }),
        region,
    }
}

fn path(session: &Session) -> std::path::PathBuf {
    session.home.join("aws").join("config")
}

/// The profile the CLI reads: `$AWS_PROFILE`, else `default`.
pub fn selected(session: &Session) -> String {
    session.var("AWS_PROFILE").unwrap_or_else(|| "default".to_owned())
}

/// A section header as the aws config file writes it: `[default]`, `[profile NAME]`.
fn header(name: &str) -> String {
    if name == "default" { "[default]".to_owned() } else { format!("[profile {name}]") }
}

/// Every profile in the lab's config file, in file order: (name, its keys and values).
fn sections(session: &Session) -> Vec<(String, BTreeMap<String, String>)> {
    let text = std::fs::read_to_string(path(session)).unwrap_or_default();
    let mut sections: Vec<(String, BTreeMap<String, String>)> = Vec::new();
    for line in text.lines().map(str::trim) {
        if let Some(name) = line.strip_prefix('[').and_then(|l| l.strip_suffix(']')) {
            let name = name.trim();
            let name = name.strip_prefix("profile ").map(str::trim).unwrap_or(name);
            sections.push((name.to_owned(), BTreeMap::new()));
        } else if let Some((key, value)) = line.split_once('=') {
            if sections.is_empty() {
                sections.push(("default".to_owned(), BTreeMap::new()));
            }
            if let Some((_, values)) = sections.last_mut() {
                values.insert(key.trim().to_owned(), value.trim().to_owned());
            }
        }
    }
    sections
}

/// `Some(name)` when `$AWS_PROFILE` names a profile the lab's config file does not have (the CLI
/// then stops: `The config profile (NAME) could not be found`).
pub fn missing(session: &Session) -> Option<String> {
    let name = session.var("AWS_PROFILE")?;
    (name != "default" && !sections(session).iter().any(|(n, _)| *n == name)).then_some(name)
}

/// The selected profile's keys and values.
pub fn read(session: &Session) -> BTreeMap<String, String> {
    read_profile(session, &selected(session))
}

/// Profile `name`'s keys and values, if the lab's config has it (`default` always counts).
pub fn read_named(session: &Session, name: &str) -> Option<BTreeMap<String, String>> {
    let found = sections(session).into_iter().find(|(n, _)| n == name).map(|(_, values)| values);
    found.or_else(|| (name == "default").then(BTreeMap::new))
}

fn read_profile(session: &Session, name: &str) -> BTreeMap<String, String> {
    sections(session).into_iter().find(|(n, _)| n == name).map(|(_, values)| values).unwrap_or_default()
}

/// Replaces the selected profile's keys and values, keeping the other profiles.
pub fn write(session: &Session, values: &BTreeMap<String, String>) -> std::io::Result<()> {
    write_profile(session, &selected(session), values)
}

/// Replaces profile `name` (made if missing), keeping the others.
pub fn write_profile(session: &Session, name: &str, values: &BTreeMap<String, String>) -> std::io::Result<()> {
    let mut sections = sections(session);
    match sections.iter_mut().find(|(n, _)| n == name) {
        Some((_, old)) => *old = values.clone(),
        None => sections.push((name.to_owned(), values.clone())),
    }
    if !sections.iter().any(|(n, _)| n == "default") {
        sections.insert(0, ("default".to_owned(), BTreeMap::new()));
    }
    let path = path(session);
    // The profile holds a secret key: 0600 in a 0700 directory.
    crate::paths::lab_dir(path.parent().expect("aws dir"))?;
    let mut text = String::new();
    for (name, values) in &sections {
        text.push_str(&header(name));
        text.push('\n');
        for (k, v) in values {
            text.push_str(&format!("{k} = {v}\n"));
        }
    }
    crate::paths::write_private(&path, text.as_bytes())
}

/// A key as the CLI shows it: sixteen stars and its last four characters.
pub fn masked(value: &str) -> String {
    format!("{}{}", "*".repeat(16), &value[value.len().saturating_sub(4)..])
}
