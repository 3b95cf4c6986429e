//! Layers, as a client pushes and pulls them through the API: check, upload in parts, complete,
//! and the download URL.

use serde_json::{Value, json};

use super::shared_flags::*;
use super::{Call, Command, command};
use crate::shell::aws::failure::Outcome;
use crate::shell::aws::flags::Flag;
use crate::shell::aws::params::{self, repository_name};
use crate::shell::aws_json as out;

pub const BATCH_CHECK_LAYER_AVAILABILITY: Command =
    command!(BatchCheckLayerAvailability, [REGISTRY_ID, REPOSITORY_NAME, LAYER_DIGESTS], check);

async fn check(call: Call<'_>) -> Outcome {
    let result = call
        .ecr
        .batch_check_layer_availability()
        .set_registry_id(call.flags.one("--registry-id"))
        .set_repository_name(repository_name(&call.flags)?)
        .set_layer_digests(call.flags.many("--layer-digests"))
        .send()
        .await
        .map_err(|e| call.failed(e))?;
    Ok(Some(json!({
        "layers": result.layers().iter().map(out::layer).collect::<Vec<_>>(),
        "failures": result.failures().iter().map(out::layer_failure).collect::<Vec<_>>()
    })))
}

pub const INITIATE_LAYER_UPLOAD: Command = command!(InitiateLayerUpload, [REGISTRY_ID, REPOSITORY_NAME], initiate);

async fn initiate(call: Call<'_>) -> Outcome {
    let result = call
        .ecr
        .initiate_layer_upload()
        .set_registry_id(call.flags.one("--registry-id"))
        .set_repository_name(repository_name(&call.flags)?)
        .send()
        .await
        .map_err(|e| call.failed(e))?;
    Ok(Some(out::object([
        ("uploadId", result.upload_id().map(Value::from)),
        ("partSize", result.part_size().map(Value::from)),
    ])))
}

pub const UPLOAD_LAYER_PART: Command = command!(
    UploadLayerPart,
    [
        REGISTRY_ID,
        REPOSITORY_NAME,
        UPLOAD_ID,
        Flag::one("--part-first-byte").required(),
        Flag::one("--part-last-byte").required(),
        Flag::one("--layer-part-blob").required(),
    ],
    upload_part
);

async fn upload_part(call: Call<'_>) -> Outcome {
    let flags = &call.flags;
    let blob = flags.one("--layer-part-blob").map(|v| params::load_value(&v)).transpose()?;
    let result = call
        .ecr
        .upload_layer_part()
        .set_registry_id(flags.one("--registry-id"))
        .set_repository_name(repository_name(flags)?)
        .set_upload_id(flags.one("--upload-id"))
        .set_part_first_byte(params::integer(flags, "--part-first-byte")?)
        .set_part_last_byte(params::integer(flags, "--part-last-byte")?)
        .set_layer_part_blob(blob.map(aws_sdk_ecr::primitives::Blob::new))
        .send()
        .await
        .map_err(|e| call.failed(e))?;
    Ok(Some(out::object([
        ("registryId", result.registry_id().map(Value::from)),
        ("repositoryName", result.repository_name().map(Value::from)),
        ("uploadId", result.upload_id().map(Value::from)),
        ("lastByteReceived", result.last_byte_received().map(Value::from)),
    ])))
}

pub const COMPLETE_LAYER_UPLOAD: Command =
    command!(CompleteLayerUpload, [REGISTRY_ID, REPOSITORY_NAME, UPLOAD_ID, LAYER_DIGESTS], complete);

async fn complete(call: Call<'_>) -> Outcome {
    let result = call
        .ecr
        .complete_layer_upload()
        .set_registry_id(call.flags.one("--registry-id"))
        .set_repository_name(repository_name(&call.flags)?)
        .set_upload_id(call.flags.one("--upload-id"))
        .set_layer_digests(call.flags.many("--layer-digests"))
        .send()
        .await
        .map_err(|e| call.failed(e))?;
    Ok(Some(out::object([
        ("registryId", result.registry_id().map(Value::from)),
        ("repositoryName", result.repository_name().map(Value::from)),
        ("uploadId", result.upload_id().map(Value::from)),
        ("layerDigest", result.layer_digest().map(Value::from)),
    ])))
}

pub const GET_DOWNLOAD_URL_FOR_LAYER: Command = command!(
    GetDownloadUrlForLayer,
    [REGISTRY_ID, REPOSITORY_NAME, Flag::one("--layer-digest").required()],
    download_url
);

async fn download_url(call: Call<'_>) -> Outcome {
    let result = call
        .ecr
        .get_download_url_for_layer()
        .set_registry_id(call.flags.one("--registry-id"))
        .set_repository_name(repository_name(&call.flags)?)
        .set_layer_digest(call.flags.one("--layer-digest"))
        .send()
        .await
        .map_err(|e| call.failed(e))?;
    Ok(Some(out::object([
        ("downloadUrl", result.download_url().map(Value::from)),
        ("layerDigest", result.layer_digest().map(Value::from)),
    ])))
}
