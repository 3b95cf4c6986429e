//! Profiles that assume a role, as the aws CLI reads them: `role_arn` with `source_profile` (the
//! profile whose keys call AssumeRole), or `role_arn` with `web_identity_token_file` (a CI
//! provider's OIDC token, AssumeRoleWithWebIdentity; also `AWS_ROLE_ARN` with
//! `AWS_WEB_IDENTITY_TOKEN_FILE` in the environment). Before a command runs, the role is assumed and
//! the session's temporary credentials (`ASIA...` with a session token) sign it; keys in the
//! environment win, as they do for the CLI.

use std::collections::BTreeMap;

use super::failure::{Failure, service_error};
use super::profile;
use crate::shell::Session;

/// Session credentials for this command when the selected profile (or the environment) names a
/// role to assume; `None` when the command signs with keys as usual.
pub async fn session_credentials(session: &Session) -> Result<Option<aws_credential_types::Credentials>, Failure> {
    if session.var("AWS_ACCESS_KEY_ID").is_some() {
        return Ok(None);
    }
    let values = profile::read(session);
    let env_role = session.var("AWS_ROLE_ARN").zip(session.var("AWS_WEB_IDENTITY_TOKEN_FILE"));
    let (role, token_file) = match (values.get("role_arn"), env_role) {
        (Some(role), _) => (role.clone(), values.get("web_identity_token_file").cloned()),
        (None, Some((role, file))) => (role, Some(file)),
        (None, None) => return Ok(None),
    };
    let region = profile::resolve(session, None).region;
    let endpoint = session.backend.mock_endpoint().unwrap_or("https://sts.amazonaws.com").to_owned();
    let name = session.var("AWS_ROLE_SESSION_NAME").or_else(|| values.get("role_session_name").cloned());
    let name = name.unwrap_or_else(|| format!("botocore-session-{}", std::process::id()));
    let credentials = match token_file {
        Some(file) => {
            let path = file.strip_prefix("~/").map(|rest| session.home.join(rest)).unwrap_or_else(|| file.into());
            let token = std::fs::read_to_string(&path).map_err(|e| {
                Failure::Other(format!("Unable to read the web identity token file {}: {e}", path.display()))
            })?;
            let sts = session.backend.sts_client(Some(&region), None, None);
            let call = sts.assume_role_with_web_identity().role_arn(&role).role_session_name(&name);
            let output = call
                .web_identity_token(token.trim())
                .send()
                .await
                .map_err(|e| service_error("AssumeRoleWithWebIdentity", e, &endpoint))?;
            output.credentials().cloned()
        }
        None => {
            let source = values.get("source_profile").cloned().ok_or_else(|| {
                Failure::Other(format!(
                    "The profile {} names role_arn without source_profile or web_identity_token_file",
                    profile::selected(session)
                ))
            })?;
            let keys = source_keys(session, &source)?;
            let sts = session.backend.sts_client(Some(&region), Some(keys), None);
            let output = sts
                .assume_role()
                .role_arn(&role)
                .role_session_name(&name)
                .send()
                .await
                .map_err(|e| service_error("AssumeRole", e, &endpoint))?;
            output.credentials().cloned()
        }
    };
    Ok(credentials.map(|c| {
        aws_credential_types::Credentials::new(
            c.access_key_id(),
            c.secret_access_key(),
            Some(c.session_token().to_owned()),
            None,
            "ecr-lab-assume-role",
        )
    }))
}

/// The keys of `source_profile`: its own, or (the lab's `default` without keys) the lab's key.
fn source_keys(session: &Session, source: &str) -> Result<aws_credential_types::Credentials, Failure> {
    let values: BTreeMap<String, String> = profile::read_named(session, source)
        .ok_or_else(|| Failure::Other(format!("The source profile \"{source}\" must have credentials.")))?;
    let own = session.backend.mock_credentials().cloned().unwrap_or_else(crate::backend::lab_credentials);
    let key = values.get("aws_access_key_id").cloned().unwrap_or_else(|| own.access_key_id().to_owned());
    let secret = values.get("aws_secret_access_key").cloned().unwrap_or_else(|| own.secret_access_key().to_owned());
    let token = values.get("aws_session_token").cloned();
    Ok(aws_credential_types::Credentials::new(key, secret, token, None, "ecr-lab-source-profile"))
}
