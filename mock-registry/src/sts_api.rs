//! The few STS calls a lab needs, in STS's query protocol (form body in, XML out):
//! GetCallerIdentity, so `aws sts get-caller-identity` is the guide's credential check;
//! AssumeRole (signed) and AssumeRoleWithWebIdentity (unsigned: the token is the credential), which
//! hand out session credentials for the roles of `ecr-lab iam create-role`.

use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};

use crate::Lab;
use crate::lab::LabError;
use crate::oidc;
use crate::sigv4::AuthError;
use crate::state::Caller;
use crate::state::StateError;
use crate::state::role::{Session, WebIdentity};

const NAMESPACE: &str = "https://sts.amazonaws.com/doc/2011-06-15/";

/// An STS error: its own codes, not ECR's.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StsError {
    pub status: StatusCode,
    pub code: &'static str,
    pub message: String,
}

impl From<AuthError> for StsError {
    fn from(error: AuthError) -> Self {
        let (status, code, message) = match error {
            AuthError::Missing => {
                (StatusCode::FORBIDDEN, "MissingAuthenticationToken", "Request is missing Authentication Token".into())
            }
            AuthError::Malformed(detail) => (StatusCode::BAD_REQUEST, "IncompleteSignature", detail),
            AuthError::UnknownKey => (
                StatusCode::FORBIDDEN,
                "InvalidClientTokenId",
                "The security token included in the request is invalid.".into(),
            ),
            AuthError::SignatureMismatch => {
                (StatusCode::FORBIDDEN, "SignatureDoesNotMatch", crate::ecr_api::error::SIGNATURE_MISMATCH.into())
            }
            AuthError::WrongService { expected } => (
                StatusCode::FORBIDDEN,
                "SignatureDoesNotMatch",
                format!("Credential should be scoped to correct service: '{expected}'. "),
            ),
            AuthError::Skewed { request, server } => {
                (StatusCode::FORBIDDEN, "SignatureDoesNotMatch", crate::ecr_api::error::skew_message(&request, &server))
            }
            AuthError::ExpiredToken => {
                (StatusCode::FORBIDDEN, "ExpiredToken", "The security token included in the request is expired".into())
            }
        };
        Self { status, code, message }
    }
}

impl IntoResponse for StsError {
    fn into_response(self) -> Response {
        let body = format!(
            "<ErrorResponse xmlns=\"{NAMESPACE}\">\n  <Error>\n    <Type>Sender</Type>\n    <Code>{}</Code>\n    <Message>{}</Message>\n  </Error>\n  <RequestId>{}</RequestId>\n</ErrorResponse>\n",
            self.code,
            escape(&self.message),
            uuid::Uuid::new_v4()
        );
        (self.status, [(axum::http::header::CONTENT_TYPE, "text/xml")], body).into_response()
    }
}

/// The `Action` of a form body, if it has one.
pub fn action(body: &[u8]) -> Option<String> {
    form_value(body, "Action")
}

fn form_value(body: &[u8], name: &str) -> Option<String> {
    let text = std::str::from_utf8(body).ok()?;
    text.split('&').find_map(|pair| {
        let (k, v) = pair.split_once('=')?;
        (k == name).then(|| percent_encoding::percent_decode_str(&v.replace('+', " ")).decode_utf8_lossy().into_owned())
    })
}

/// Whether `action` is answered without a signature (the web identity token is the credential).
pub fn unsigned(action: &str) -> bool {
    action == "AssumeRoleWithWebIdentity"
}

fn xml(body: String) -> Response {
    ([(axum::http::header::CONTENT_TYPE, "text/xml")], body).into_response()
}

/// Runs one STS action; `caller` is the signed caller (`None` only for [`unsigned`] actions).
pub async fn handle(lab: &Lab, caller: Option<&Caller>, action: &str, body: &[u8]) -> Response {
    let result = match (action, caller) {
        ("GetCallerIdentity", Some(caller)) => Ok(caller_identity(caller)),
        ("AssumeRole", Some(caller)) => assume_role(lab, caller, body).await,
        ("AssumeRoleWithWebIdentity", _) => assume_role_with_web_identity(lab, body).await,
        (other, _) => Err(StsError {
            status: StatusCode::BAD_REQUEST,
            code: "InvalidAction",
            message: format!(
                "Could not find operation {other} for version 2011-06-15 (the ecr-lab mock supports \
                 GetCallerIdentity, AssumeRole and AssumeRoleWithWebIdentity)"
            ),
        }),
    };
    result.unwrap_or_else(IntoResponse::into_response)
}

fn caller_identity(caller: &Caller) -> Response {
    xml(format!(
        "<GetCallerIdentityResponse xmlns=\"{NAMESPACE}\">\n  <GetCallerIdentityResult>\n    <Arn>{}</Arn>\n    <UserId>{}</UserId>\n    <Account>{}</Account>\n  </GetCallerIdentityResult>\n  <ResponseMetadata>\n    <RequestId>{}</RequestId>\n  </ResponseMetadata>\n</GetCallerIdentityResponse>\n",
        escape(&caller.arn),
        escape(&caller.user_id),
        caller.account,
        uuid::Uuid::new_v4()
    ))
}

fn missing(member: &str) -> StsError {
    StsError {
        status: StatusCode::BAD_REQUEST,
        code: "ValidationError",
        message: format!(
            "1 validation error detected: Value null at '{member}' failed to satisfy constraint: Member must not be null"
        ),
    }
}

/// `RoleArn`, `RoleSessionName` and `DurationSeconds` of an AssumeRole* form.
fn role_parameters(body: &[u8]) -> Result<(String, String, Option<i64>), StsError> {
    let role = form_value(body, "RoleArn").ok_or_else(|| missing("roleArn"))?;
    let session = form_value(body, "RoleSessionName").ok_or_else(|| missing("roleSessionName"))?;
    let duration = match form_value(body, "DurationSeconds") {
        None => None,
        Some(text) => Some(text.trim().parse::<i64>().map_err(|_| StsError {
            status: StatusCode::BAD_REQUEST,
            code: "ValidationError",
            message: format!("1 validation error detected: Value '{text}' at 'durationSeconds' failed to satisfy constraint: Member must be a number"),
        })?),
    };
    Ok((role, session, duration))
}

impl From<LabError> for StsError {
    fn from(error: LabError) -> Self {
        match error {
            LabError::State(StateError::Iam { code, message }) => {
                let status = if code == "AccessDenied" { StatusCode::FORBIDDEN } else { StatusCode::BAD_REQUEST };
                Self { status, code, message }
            }
            other => {
                Self { status: StatusCode::INTERNAL_SERVER_ERROR, code: "InternalFailure", message: other.to_string() }
            }
        }
    }
}

async fn assume_role(lab: &Lab, caller: &Caller, body: &[u8]) -> Result<Response, StsError> {
    let (role, session_name, duration) = role_parameters(body)?;
    let session = lab.write(|s| s.assume_role(&caller.access_key_id, &role, &session_name, duration)).await?;
    Ok(xml(format!(
        "<AssumeRoleResponse xmlns=\"{NAMESPACE}\">\n  <AssumeRoleResult>\n{}  </AssumeRoleResult>\n  <ResponseMetadata>\n    <RequestId>{}</RequestId>\n  </ResponseMetadata>\n</AssumeRoleResponse>\n",
        session_xml(&session),
        uuid::Uuid::new_v4()
    )))
}

async fn assume_role_with_web_identity(lab: &Lab, body: &[u8]) -> Result<Response, StsError> {
    let (role, session_name, duration) = role_parameters(body)?;
    let token = form_value(body, "WebIdentityToken").ok_or_else(|| missing("webIdentityToken"))?;
    let claims = lab.read(|s| oidc::verify(s.token_secret(), &token, s.now())).map_err(|refusal| {
        let (code, message) = refusal.code_and_message();
        StsError { status: StatusCode::BAD_REQUEST, code, message }
    })?;
    let identity = WebIdentity { provider: oidc::PROVIDER.into(), sub: claims.sub.clone(), aud: claims.aud.clone() };
    let session = lab.write(|s| s.assume_role_with_web_identity(&identity, &role, &session_name, duration)).await?;
    Ok(xml(format!(
        "<AssumeRoleWithWebIdentityResponse xmlns=\"{NAMESPACE}\">\n  <AssumeRoleWithWebIdentityResult>\n    <SubjectFromWebIdentityToken>{}</SubjectFromWebIdentityToken>\n    <Audience>{}</Audience>\n{}    <Provider>{}</Provider>\n  </AssumeRoleWithWebIdentityResult>\n  <ResponseMetadata>\n    <RequestId>{}</RequestId>\n  </ResponseMetadata>\n</AssumeRoleWithWebIdentityResponse>\n",
        escape(&claims.sub),
        escape(&claims.aud),
        session_xml(&session),
        oidc::PROVIDER,
        uuid::Uuid::new_v4()
    )))
}

/// `AssumedRoleUser` and `Credentials`, as both AssumeRole responses carry them.
fn session_xml(session: &Session) -> String {
    let key = &session.key;
    let expiration = key.expires_at.map(crate::clock::iso_seconds).unwrap_or_default();
    format!(
        "    <AssumedRoleUser>\n      <Arn>{}</Arn>\n      <AssumedRoleId>{}</AssumedRoleId>\n    </AssumedRoleUser>\n    <Credentials>\n      <AccessKeyId>{}</AccessKeyId>\n      <SecretAccessKey>{}</SecretAccessKey>\n      <SessionToken>{}</SessionToken>\n      <Expiration>{}</Expiration>\n    </Credentials>\n",
        escape(&session.assumed_role_arn),
        escape(&session.assumed_role_id),
        key.access_key_id,
        escape(&key.secret_access_key),
        escape(key.session_token.as_deref().unwrap_or_default()),
        expiration
    )
}

fn escape(text: &str) -> String {
    text.replace('&', "&amp;").replace('<', "&lt;").replace('>', "&gt;").replace('"', "&quot;")
}

#[cfg(test)]
mod tests {
    #[test]
    fn reads_the_action() {
        assert_eq!(super::action(b"Action=GetCallerIdentity&Version=2011-06-15").as_deref(), Some("GetCallerIdentity"));
        assert_eq!(super::action(b"Version=2011-06-15"), None);
    }
}
