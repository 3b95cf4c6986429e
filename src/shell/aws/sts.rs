//! `aws sts get-caller-identity`, `assume-role` and `assume-role-with-web-identity`, through
//! `aws-sdk-sts` (the backend's STS client) as everywhere else. The web identity call is unsigned,
//! as the real CLI makes it: the token is the credential.

use serde_json::Value;

use super::failure::{Failure, Outcome, service_error};
use super::flags::{Flag, Flags};
use super::globals::{Invocation, endpoint_shown};
use super::params::{integer, text_flag};
use super::profile;
use crate::shell::Session;
use crate::shell::aws_json as out;

const ASSUME_ROLE: &[Flag] =
    &[Flag::one("--role-arn").required(), Flag::one("--role-session-name").required(), Flag::one("--duration-seconds")];
const WEB_IDENTITY: &[Flag] = &[
    Flag::one("--role-arn").required(),
    Flag::one("--role-session-name").required(),
    Flag::one("--web-identity-token").required(),
    Flag::one("--duration-seconds"),
];

pub async fn run(session: &Session, invocation: &Invocation, args: &[String]) -> Outcome {
    let operation = match args.first().map(String::as_str) {
        Some(op @ ("get-caller-identity" | "assume-role" | "assume-role-with-web-identity")) => op,
        Some(other) => {
            return Err(Failure::Usage(format!(
                "argument operation: Invalid choice: '{other}' (the lab's aws sts knows get-caller-identity, \
                 assume-role and assume-role-with-web-identity)"
            )));
        }
        None => return Err(Failure::Usage("the following arguments are required: operation".into())),
    };
    let spec = match operation {
        "assume-role" => ASSUME_ROLE,
        "assume-role-with-web-identity" => WEB_IDENTITY,
        _ => &[],
    };
    let flags = Flags::parse(&args[1..], spec)?;
    let resolved = profile::resolve(session, invocation.region.as_deref());
    let endpoint = endpoint_shown(session, invocation, "sts", &resolved.region);
    // The shell's own credentials (on the mock: always), else the chain's.
    let sts = session.backend.sts_client(Some(&resolved.region), resolved.credentials, invocation.endpoint_url()?);
    let role = flags.one("--role-arn").unwrap_or_default();
    let name = flags.one("--role-session-name").unwrap_or_default();
    let duration = integer(&flags, "--duration-seconds")?.map(|d| d as i32);
    match operation {
        "assume-role" => {
            let call = sts.assume_role().role_arn(role).role_session_name(name).set_duration_seconds(duration);
            let output = call.send().await.map_err(|e| service_error("AssumeRole", e, &endpoint))?;
            Ok(Some(out::object([
                ("Credentials", credentials(output.credentials())),
                ("AssumedRoleUser", assumed(output.assumed_role_user())),
            ])))
        }
        "assume-role-with-web-identity" => {
            let token = text_flag(&flags, "--web-identity-token")?.unwrap_or_default();
            let call = sts
                .assume_role_with_web_identity()
                .role_arn(role)
                .role_session_name(name)
                .web_identity_token(token.trim())
                .set_duration_seconds(duration);
            let output = call.send().await.map_err(|e| service_error("AssumeRoleWithWebIdentity", e, &endpoint))?;
            Ok(Some(out::object([
                ("Credentials", credentials(output.credentials())),
                ("SubjectFromWebIdentityToken", output.subject_from_web_identity_token().map(Value::from)),
                ("AssumedRoleUser", assumed(output.assumed_role_user())),
                ("Provider", output.provider().map(Value::from)),
                ("Audience", output.audience().map(Value::from)),
            ])))
        }
        _ => {
            let output =
                sts.get_caller_identity().send().await.map_err(|e| service_error("GetCallerIdentity", e, &endpoint))?;
            Ok(Some(out::object([
                ("UserId", output.user_id().map(Value::from)),
                ("Account", output.account().map(Value::from)),
                ("Arn", output.arn().map(Value::from)),
            ])))
        }
    }
}

fn credentials(credentials: Option<&aws_sdk_sts::types::Credentials>) -> Option<Value> {
    credentials.map(|c| {
        out::object([
            ("AccessKeyId", Some(Value::from(c.access_key_id()))),
            ("SecretAccessKey", Some(Value::from(c.secret_access_key()))),
            ("SessionToken", Some(Value::from(c.session_token()))),
            ("Expiration", out::time(Some(c.expiration()))),
        ])
    })
}

fn assumed(user: Option<&aws_sdk_sts::types::AssumedRoleUser>) -> Option<Value> {
    user.map(|u| {
        out::object([("AssumedRoleId", Some(Value::from(u.assumed_role_id()))), ("Arn", Some(Value::from(u.arn())))])
    })
}
