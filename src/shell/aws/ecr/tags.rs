//! Resource tags: tag, untag, list.

use serde_json::json;

use super::shared_flags::*;
use super::{Call, Command, command};
use crate::shell::aws::failure::Outcome;
use crate::shell::aws::flags::Flag;
use crate::shell::aws::params;
use crate::shell::aws_json as out;

pub const TAG_RESOURCE: Command = command!(TagResource, [RESOURCE_ARN, TAGS.required()], tag);

async fn tag(call: Call<'_>) -> Outcome {
    call.ecr
        .tag_resource()
        .set_resource_arn(call.flags.one("--resource-arn"))
        .set_tags(params::resource_tags(&call.flags)?)
        .send()
        .await
        .map_err(|e| call.failed(e))?;
    Ok(None)
}

pub const UNTAG_RESOURCE: Command = command!(UntagResource, [RESOURCE_ARN, Flag::many("--tag-keys").required()], untag);

async fn untag(call: Call<'_>) -> Outcome {
    call.ecr
        .untag_resource()
        .set_resource_arn(call.flags.one("--resource-arn"))
        .set_tag_keys(call.flags.many("--tag-keys"))
        .send()
        .await
        .map_err(|e| call.failed(e))?;
    Ok(None)
}

pub const LIST_TAGS_FOR_RESOURCE: Command = command!(ListTagsForResource, [RESOURCE_ARN], list);

async fn list(call: Call<'_>) -> Outcome {
    let result = call
        .ecr
        .list_tags_for_resource()
        .set_resource_arn(call.flags.one("--resource-arn"))
        .send()
        .await
        .map_err(|e| call.failed(e))?;
    Ok(Some(json!({ "tags": result.tags().iter().map(out::tag).collect::<Vec<_>>() })))
}
