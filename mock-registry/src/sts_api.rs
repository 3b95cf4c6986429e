//! The few STS calls a lab needs, in STS's query protocol (form body in, XML out):
//! GetCallerIdentity, so `aws sts get-caller-identity` is the guide's credential check.

use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};

use crate::sigv4::AuthError;
use crate::state::Caller;

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

/// Runs one authenticated STS action.
pub fn handle(caller: &Caller, action: &str) -> Response {
    match action {
        "GetCallerIdentity" => {
            let body = format!(
                "<GetCallerIdentityResponse xmlns=\"{NAMESPACE}\">\n  <GetCallerIdentityResult>\n    <Arn>{}</Arn>\n    <UserId>{}</UserId>\n    <Account>{}</Account>\n  </GetCallerIdentityResult>\n  <ResponseMetadata>\n    <RequestId>{}</RequestId>\n  </ResponseMetadata>\n</GetCallerIdentityResponse>\n",
                escape(&caller.arn),
                escape(&caller.user_id),
                caller.account,
                uuid::Uuid::new_v4()
            );
            ([(axum::http::header::CONTENT_TYPE, "text/xml")], body).into_response()
        }
        other => StsError {
            status: StatusCode::BAD_REQUEST,
            code: "InvalidAction",
            message: format!("Could not find operation {other} for version 2011-06-15 (the ecr-lab mock supports GetCallerIdentity only)"),
        }
        .into_response(),
    }
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
