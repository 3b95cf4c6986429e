//! Calls signed for an AWS service the lab does not mock (S3, IAM, EC2, ...). `ecr-lab env`
//! exports `AWS_ENDPOINT_URL_ECR` and `AWS_ENDPOINT_URL_STS`, and `AWS_ENDPOINT_URL` as well so
//! that every other service lands here instead of on real AWS with the lab's made-up keys. Each gets
//! one clear error at once, in the error shape its SDK parses, with a status no SDK retries.

use axum::extract::Request;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};

/// The services the lab answers, by their SigV4 signing name.
const MOCKED: [&str; 2] = ["ecr", "sts"];

/// The error code: AWS's own for "not implemented". HTTP 501 is outside every SDK's retry list
/// (500, 502, 503, 504), so the call fails on its first try.
pub const CODE: &str = "NotImplemented";

/// What the learner reads, naming the service they called and the way back to real AWS.
pub fn message(service: &str) -> String {
    format!(
        "The ecr-lab mock answers ECR and STS only, not '{service}': this shell's AWS settings come from `ecr-lab env`. \
         For real AWS, open a new shell (or run `unset AWS_ENDPOINT_URL AWS_ENDPOINT_URL_ECR AWS_ENDPOINT_URL_STS \
         AWS_ACCESS_KEY_ID AWS_SECRET_ACCESS_KEY`)."
    )
}

/// The signing name in a SigV4 `Authorization` header's credential scope.
fn signed_service(headers: &HeaderMap) -> Option<&str> {
    let authorization = headers.get(header::AUTHORIZATION)?.to_str().ok()?;
    let credential = authorization.strip_prefix("AWS4-HMAC-SHA256")?.split("Credential=").nth(1)?;
    let scope = credential.split([',', ' ']).next()?;
    match scope.split('/').collect::<Vec<_>>().as_slice() {
        [_, _, _, service, "aws4_request"] => Some(service),
        _ => None,
    }
}

/// Middleware: answers a call signed for another service; passes everything else on.
pub async fn refuse(request: Request, next: Next) -> Response {
    let Some(service) = signed_service(request.headers()).filter(|s| !MOCKED.contains(s)).map(str::to_owned) else {
        return next.run(request).await;
    };
    let form = request
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("application/x-www-form-urlencoded"));
    let mut response = error_response(&service, form);
    // The body is not read: the connection is not reused for the next call.
    response.headers_mut().insert(header::CONNECTION, HeaderValue::from_static("close"));
    response
}

/// The error in `service`'s protocol: S3's REST-XML, EC2's and the other query protocols' XML
/// (a form body), or the JSON the JSON and REST-JSON protocols use.
fn error_response(service: &str, form: bool) -> Response {
    let text = escape(&message(service));
    let id = uuid::Uuid::new_v4();
    let (content_type, body) = if service == "s3" {
        (
            "application/xml",
            format!("<Error><Code>{CODE}</Code><Message>{text}</Message><RequestId>{id}</RequestId></Error>"),
        )
    } else if service == "ec2" {
        (
            "text/xml",
            format!(
                "<Response><Errors><Error><Code>{CODE}</Code><Message>{text}</Message></Error></Errors><RequestID>{id}</RequestID></Response>"
            ),
        )
    } else if form {
        (
            "text/xml",
            format!(
                "<ErrorResponse><Error><Type>Sender</Type><Code>{CODE}</Code><Message>{text}</Message></Error><RequestId>{id}</RequestId></ErrorResponse>"
            ),
        )
    } else {
        ("application/x-amz-json-1.1", serde_json::json!({ "__type": CODE, "message": message(service) }).to_string())
    };
    (
        StatusCode::NOT_IMPLEMENTED,
        [(header::CONTENT_TYPE, content_type), (header::HeaderName::from_static("x-amzn-errortype"), CODE)],
        body,
    )
        .into_response()
}

fn escape(text: &str) -> String {
    text.replace('&', "&amp;").replace('<', "&lt;").replace('>', "&gt;").replace('"', "&quot;")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn with_authorization(value: &str) -> HeaderMap {
        let mut headers = HeaderMap::new();
        headers.insert(header::AUTHORIZATION, HeaderValue::from_str(value).unwrap());
        headers
    }

    #[test]
    fn reads_the_signing_name_from_the_scope() {
        let signed = |s: &str| {
            with_authorization(&format!(
                "AWS4-HMAC-SHA256 Credential=AKID/20260101/us-east-1/{s}/aws4_request, SignedHeaders=host, Signature=00"
            ))
        };
        assert_eq!(signed_service(&signed("s3")), Some("s3"));
        assert_eq!(signed_service(&signed("iam")), Some("iam"));
        assert_eq!(signed_service(&signed("ecr")), Some("ecr"));
        assert_eq!(signed_service(&with_authorization("Basic QVdTOng=")), None);
        assert_eq!(signed_service(&with_authorization("AWS4-HMAC-SHA256 Credential=AKID/x")), None);
        assert_eq!(signed_service(&HeaderMap::new()), None);
    }
}
