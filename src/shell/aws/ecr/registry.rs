//! The registry itself: describe it, and its authorization token (raw, or as `get-login-password`).

use base64::Engine as _;
use serde_json::{Value, json};

use super::{Call, Command, command};
use crate::shell::aws::failure::Outcome;
use crate::shell::aws::flags::Flag;
use crate::shell::aws_json as out;

pub const DESCRIBE_REGISTRY: Command = command!(DescribeRegistry, [], describe);

async fn describe(call: Call<'_>) -> Outcome {
    let result = call.ecr.describe_registry().send().await.map_err(|e| call.failed(e))?;
    Ok(Some(out::object([
        ("registryId", result.registry_id().map(Value::from)),
        ("replicationConfiguration", result.replication_configuration().map(super::replication::configuration_json)),
    ])))
}

pub const GET_AUTHORIZATION_TOKEN: Command =
    command!(GetAuthorizationToken, [Flag::many("--registry-ids")], authorization_token);

async fn authorization_token(call: Call<'_>) -> Outcome {
    #[allow(deprecated)] // the CLI still takes --registry-ids
    let request = call.ecr.get_authorization_token().set_registry_ids(call.flags.many("--registry-ids"));
    let result = request.send().await.map_err(|e| call.failed(e))?;
    Ok(Some(json!({
        "authorizationData": result.authorization_data().iter().map(out::authorization_data).collect::<Vec<_>>()
    })))
}

/// `aws ecr get-login-password`: GetAuthorizationToken's password, printed as is.
pub const GET_LOGIN_PASSWORD: Command =
    Command { alias: Some("get-login-password"), ..command!(GetAuthorizationToken, [], login_password) };

async fn login_password(call: Call<'_>) -> Outcome {
    let result = call.ecr.get_authorization_token().send().await.map_err(|e| call.failed(e))?;
    let token = result.authorization_data().first().and_then(|d| d.authorization_token()).unwrap_or_default();
    let decoded = base64::engine::general_purpose::STANDARD.decode(token).unwrap_or_default();
    let text = String::from_utf8_lossy(&decoded);
    call.io.println(text.strip_prefix("AWS:").unwrap_or(&text));
    Ok(None)
}
