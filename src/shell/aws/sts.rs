//! `aws sts get-caller-identity`, through `aws-sdk-sts` (the backend's STS client) as everywhere else.

use serde_json::Value;

use super::failure::{Failure, Outcome, service_error};
use super::flags::Flags;
use super::globals::{Invocation, endpoint_shown};
use super::profile;
use crate::shell::Session;
use crate::shell::aws_json as out;

pub async fn run(session: &Session, invocation: &Invocation, args: &[String]) -> Outcome {
    match args.first().map(String::as_str) {
        Some("get-caller-identity") => {}
        Some(other) => {
            return Err(Failure::Usage(format!(
                "argument operation: Invalid choice: '{other}' (the lab's aws sts knows get-caller-identity)"
            )));
        }
        None => return Err(Failure::Usage("the following arguments are required: operation".into())),
    }
    Flags::parse(&args[1..], &[])?;
    let resolved = profile::resolve(session, invocation.region.as_deref());
    let endpoint = endpoint_shown(session, invocation, "sts", &resolved.region);
    // The shell's own credentials (on the mock: always), else the chain's.
    let sts = session.backend.sts_client(Some(&resolved.region), resolved.credentials, invocation.endpoint_url()?);
    let output =
        sts.get_caller_identity().send().await.map_err(|e| service_error("GetCallerIdentity", e, &endpoint))?;
    Ok(Some(out::object([
        ("UserId", output.user_id().map(Value::from)),
        ("Account", output.account().map(Value::from)),
        ("Arn", output.arn().map(Value::from)),
    ])))
}
