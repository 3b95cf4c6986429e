//! The lab's aws profile (`$HOME/aws/config`, one `[default]` section), and where the CLI finds
//! credentials and region: [`resolve`].

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

pub fn read(session: &Session) -> BTreeMap<String, String> {
    std::fs::read_to_string(path(session))
        .unwrap_or_default()
        .lines()
        .filter_map(|line| line.split_once('=').map(|(k, v)| (k.trim().to_owned(), v.trim().to_owned())))
        .collect()
}

pub fn write(session: &Session, values: &BTreeMap<String, String>) -> std::io::Result<()> {
    let path = path(session);
    // The profile holds a secret key: 0600 in a 0700 directory.
    crate::paths::lab_dir(path.parent().expect("aws dir"))?;
    let text: String =
        std::iter::once("[default]\n".to_owned()).chain(values.iter().map(|(k, v)| format!("{k} = {v}\n"))).collect();
    crate::paths::write_private(&path, text.as_bytes())
}

/// A key as the CLI shows it: sixteen stars and its last four characters.
pub fn masked(value: &str) -> String {
    format!("{}{}", "*".repeat(16), &value[value.len().saturating_sub(4)..])
}
