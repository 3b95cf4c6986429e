//! Images: describe and list them, get and delete them in batches, put a manifest.

use aws_sdk_ecr::types as t;
use serde_json::json;

use super::shared_flags::*;
use super::{Call, Command, command};
use crate::shell::aws::failure::Outcome;
use crate::shell::aws::flags::Flag;
use crate::shell::aws::params::{self, repository_name, shorthand_flag, tag_status};
use crate::shell::aws_json as out;

pub const DESCRIBE_IMAGES: Command =
    command!(DescribeImages, [REGISTRY_ID, REPOSITORY_NAME, IMAGE_IDS, FILTER], describe);

async fn describe(call: Call<'_>) -> Outcome {
    let flags = &call.flags;
    let filter = shorthand_flag(flags, "--filter", |map| {
        Ok(t::DescribeImagesFilter::builder().set_tag_status(tag_status(map)).build())
    })?;
    let pages = call
        .ecr
        .describe_images()
        .set_registry_id(flags.one("--registry-id"))
        .set_repository_name(repository_name(flags)?)
        .set_image_ids(params::image_ids(flags)?)
        .set_filter(filter)
        .into_paginator()
        .send()
        .collect::<Vec<_>>()
        .await;
    let mut details = Vec::new();
    for page in pages {
        details.extend(page.map_err(|e| call.failed(e))?.image_details().iter().map(out::image_detail));
    }
    Ok(Some(json!({ "imageDetails": details })))
}

pub const LIST_IMAGES: Command = command!(ListImages, [REGISTRY_ID, REPOSITORY_NAME, FILTER], list);

async fn list(call: Call<'_>) -> Outcome {
    let flags = &call.flags;
    let filter = shorthand_flag(flags, "--filter", |map| {
        Ok(t::ListImagesFilter::builder().set_tag_status(tag_status(map)).build())
    })?;
    let pages = call
        .ecr
        .list_images()
        .set_registry_id(flags.one("--registry-id"))
        .set_repository_name(repository_name(flags)?)
        .set_filter(filter)
        .into_paginator()
        .send()
        .collect::<Vec<_>>()
        .await;
    let mut ids = Vec::new();
    for page in pages {
        ids.extend(page.map_err(|e| call.failed(e))?.image_ids().iter().map(out::image_id));
    }
    Ok(Some(json!({ "imageIds": ids })))
}

pub const BATCH_GET_IMAGE: Command = command!(
    BatchGetImage,
    [REGISTRY_ID, REPOSITORY_NAME, IMAGE_IDS.required(), Flag::many("--accepted-media-types")],
    batch_get
);

async fn batch_get(call: Call<'_>) -> Outcome {
    let flags = &call.flags;
    let result = call
        .ecr
        .batch_get_image()
        .set_registry_id(flags.one("--registry-id"))
        .set_repository_name(repository_name(flags)?)
        .set_image_ids(params::image_ids(flags)?)
        .set_accepted_media_types(flags.many("--accepted-media-types"))
        .send()
        .await
        .map_err(|e| call.failed(e))?;
    Ok(Some(json!({
        "images": result.images().iter().map(out::image).collect::<Vec<_>>(),
        "failures": result.failures().iter().map(out::image_failure).collect::<Vec<_>>()
    })))
}

pub const BATCH_DELETE_IMAGE: Command =
    command!(BatchDeleteImage, [REGISTRY_ID, REPOSITORY_NAME, IMAGE_IDS.required()], batch_delete);

async fn batch_delete(call: Call<'_>) -> Outcome {
    let flags = &call.flags;
    let result = call
        .ecr
        .batch_delete_image()
        .set_registry_id(flags.one("--registry-id"))
        .set_repository_name(repository_name(flags)?)
        .set_image_ids(params::image_ids(flags)?)
        .send()
        .await
        .map_err(|e| call.failed(e))?;
    Ok(Some(json!({
        "imageIds": result.image_ids().iter().map(out::image_id).collect::<Vec<_>>(),
        "failures": result.failures().iter().map(out::image_failure).collect::<Vec<_>>()
    })))
}

pub const PUT_IMAGE: Command = command!(
    PutImage,
    [
        REGISTRY_ID,
        REPOSITORY_NAME,
        Flag::one("--image-manifest").required(),
        Flag::one("--image-manifest-media-type"),
        Flag::one("--image-tag"),
        Flag::one("--image-digest"),
    ],
    put
);

async fn put(call: Call<'_>) -> Outcome {
    let flags = &call.flags;
    let manifest = params::text_flag(flags, "--image-manifest")?;
    let result = call
        .ecr
        .put_image()
        .set_registry_id(flags.one("--registry-id"))
        .set_repository_name(repository_name(flags)?)
        .set_image_manifest(manifest)
        .set_image_manifest_media_type(flags.one("--image-manifest-media-type"))
        .set_image_tag(flags.one("--image-tag"))
        .set_image_digest(flags.one("--image-digest"))
        .send()
        .await
        .map_err(|e| call.failed(e))?;
    Ok(Some(json!({ "image": result.image().map(out::image) })))
}
