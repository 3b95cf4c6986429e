//! ECR's layer-level API, the JSON twin of a registry blob push: BatchCheckLayerAvailability,
//! InitiateLayerUpload, UploadLayerPart, CompleteLayerUpload, GetDownloadUrlForLayer. It shares
//! the blob store and the repositories' blob links with `/v2/`.

use axum::response::Response;
use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as B64;
use serde::{Deserialize, Serialize};

use super::operations::{invalid, registry, repository_name, required};
use super::{EcrError, EcrErrorCode, json};
use crate::lab::{CommitError, Lab};
use crate::state::journal::Safety;
use crate::state::token;
use crate::state::{Caller, StateError};
use crate::store::StoreError;
use crate::types::Digest;

/// The part size InitiateLayerUpload announces.
const PART_SIZE: u64 = 10 * 1024 * 1024;
/// `layerPartBlob` may be at most 20 MiB.
const MAX_PART: usize = 20 * 1024 * 1024;

#[derive(Deserialize, Default)]
#[serde(rename_all = "camelCase")]
pub struct LayerRequest {
    pub registry_id: Option<String>,
    pub repository_name: Option<String>,
    pub layer_digests: Option<Vec<String>>,
    pub layer_digest: Option<String>,
    pub upload_id: Option<String>,
    pub part_first_byte: Option<i64>,
    pub part_last_byte: Option<i64>,
    pub layer_part_blob: Option<String>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Layer {
    layer_digest: String,
    layer_availability: &'static str,
    layer_size: u64,
    media_type: &'static str,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct LayerFailure {
    layer_digest: String,
    failure_code: &'static str,
    failure_reason: &'static str,
}

fn error(code: EcrErrorCode, message: String) -> EcrError {
    EcrError::new(code, message)
}

fn upload_not_found(id: &str, caller: &Caller, name: &str) -> EcrError {
    error(
        EcrErrorCode::UploadNotFoundException,
        format!(
            "The upload with id '{id}' does not exist in the repository with name '{name}' in the registry with id '{}'",
            caller.account
        ),
    )
}

pub async fn batch_check_layer_availability(
    lab: &Lab,
    caller: &Caller,
    request: LayerRequest,
) -> Result<Response, EcrError> {
    let registry = registry(caller, request.registry_id)?;
    let name = repository_name(request.repository_name)?;
    let digests = required(request.layer_digests, "layerDigests")?;
    if digests.is_empty() || digests.len() > 100 {
        return Err(invalid("layerDigests", "Member must have length between 1 and 100"));
    }
    let (layers, failures) = lab.read(|s| {
        let repository = s.repository(&registry, &name)?;
        let mut layers = Vec::new();
        let mut failures = Vec::new();
        for text in digests {
            match Digest::parse(&text) {
                Err(_) => failures.push(LayerFailure {
                    layer_digest: text,
                    failure_code: "InvalidLayerDigest",
                    failure_reason: "Invalid layer digest",
                }),
                Ok(digest) => match repository.blobs.get(&digest) {
                    Some(size) => layers.push(Layer {
                        layer_digest: text,
                        layer_availability: "AVAILABLE",
                        layer_size: *size,
                        media_type: "application/vnd.docker.image.rootfs.diff.tar.gzip",
                    }),
                    None => failures.push(LayerFailure {
                        layer_digest: text,
                        failure_code: "MissingLayerDigest",
                        failure_reason: "Could not find layer",
                    }),
                },
            }
        }
        Ok::<_, StateError>((layers, failures))
    })?;
    Ok(json(serde_json::json!({ "layers": layers, "failures": failures })))
}

pub async fn initiate_layer_upload(lab: &Lab, caller: &Caller, request: LayerRequest) -> Result<Response, EcrError> {
    let registry = registry(caller, request.registry_id)?;
    let name = repository_name(request.repository_name)?;
    lab.read(|s| s.repository(&registry, &name).map(|_| ()))?;
    let id = lab.store().begin(registry, name).await.map_err(storage)?;
    Ok(json(serde_json::json!({ "uploadId": id, "partSize": PART_SIZE })))
}

pub async fn upload_layer_part(lab: &Lab, caller: &Caller, request: LayerRequest) -> Result<Response, EcrError> {
    let registry = registry(caller, request.registry_id)?;
    let name = repository_name(request.repository_name)?;
    let id = required(request.upload_id, "uploadId")?;
    let first = required(request.part_first_byte, "partFirstByte")?;
    let last = required(request.part_last_byte, "partLastByte")?;
    let blob = required(request.layer_part_blob, "layerPartBlob")?;
    let bytes = B64.decode(blob.as_bytes()).map_err(|_| invalid("layerPartBlob", "must be base64"))?;
    if bytes.len() > MAX_PART {
        return Err(invalid("layerPartBlob", &format!("Member must have length less than or equal to {MAX_PART}")));
    }
    lab.read(|s| s.repository(&registry, &name).map(|_| ()))?;
    let mut upload =
        lab.store().take_for(&id, &registry, &name).map_err(|_| upload_not_found(&id, caller, name.as_str()))?;
    let received = upload.append_part(first, last, &bytes).await.map_err(|e| match e {
        StoreError::PartInvalid { expected, length, .. } => error(
            EcrErrorCode::InvalidLayerPartException,
            format!(
                "The layer part with bytes {first}-{last} does not continue the upload: the next byte expected is {expected}, and this part holds {length} bytes"
            ),
        )
        // The model's InvalidLayerPartException names the upload and its last good byte.
        .with_field("registryId", registry.account.as_str())
        .with_field("repositoryName", name.as_str())
        .with_field("uploadId", id.as_str())
        .with_field("lastValidByteReceived", expected as i64 - 1),
        other => storage(other),
    })?;
    Ok(json(serde_json::json!({
        "registryId": registry.account.as_str(),
        "repositoryName": name.as_str(),
        "uploadId": id,
        "lastByteReceived": received as i64 - 1,
    })))
}

pub async fn complete_layer_upload(lab: &Lab, caller: &Caller, request: LayerRequest) -> Result<Response, EcrError> {
    let registry = registry(caller, request.registry_id)?;
    let name = repository_name(request.repository_name)?;
    let id = required(request.upload_id, "uploadId")?;
    let digests = required(request.layer_digests, "layerDigests")?;
    let [digest] = digests.as_slice() else {
        return Err(invalid("layerDigests", "Member must have length equal to 1"));
    };
    let digest = Digest::parse(digest).map_err(|e| invalid("layerDigests", &e.0))?;
    lab.read(|s| s.repository(&registry, &name).map(|_| ()))?;
    let upload =
        lab.store().take_for(&id, &registry, &name).map_err(|_| upload_not_found(&id, caller, name.as_str()))?;
    if upload.size == 0 {
        upload.cancel().await;
        return Err(error(
            EcrErrorCode::EmptyUploadException,
            format!("The upload with id '{id}' contains no layer parts"),
        ));
    }
    if lab.read(|s| s.blob_size(&registry, &name, &digest).is_ok()) {
        upload.cancel().await;
        return Err(error(
            EcrErrorCode::LayerAlreadyExistsException,
            format!(
                "The layer with digest '{digest}' already exists in the repository with name '{name}' in the registry with id '{}'",
                registry.account
            ),
        ));
    }
    lab.commit_blob(upload, &digest, Safety::Synced).await.map_err(|e| match e {
        CommitError::Store(StoreError::DigestMismatch { computed, .. }) => error(
            EcrErrorCode::InvalidLayerException,
            format!("The layer digest '{digest}' does not match the uploaded content, whose digest is '{computed}'"),
        ),
        CommitError::Store(other) => storage(other),
        CommitError::Lab(e) => e.into(),
    })?;
    Ok(json(serde_json::json!({
        "registryId": registry.account.as_str(),
        "repositoryName": name.as_str(),
        "uploadId": id,
        "layerDigest": digest.as_str(),
    })))
}

pub fn get_download_url_for_layer(
    lab: &Lab,
    caller: &Caller,
    request: LayerRequest,
    host: &str,
) -> Result<Response, EcrError> {
    let registry = registry(caller, request.registry_id)?;
    let name = repository_name(request.repository_name)?;
    let digest = required(request.layer_digest, "layerDigest")?;
    let digest = Digest::parse(&digest).map_err(|e| invalid("layerDigest", &e.0))?;
    let url = lab.read(|s| {
        s.blob_size(&registry, &name, &digest)?;
        let path = format!("/_download/{}/{}/{name}/{digest}", registry.account, registry.region);
        let expires = s.now().0 / 1000 + token::DOWNLOAD_URL_SECONDS;
        let signature = token::sign_download(s.token_secret(), &path, expires);
        Ok::<_, StateError>(format!("http://{host}{path}?expires={expires}&signature={signature}"))
    })?;
    Ok(json(serde_json::json!({ "downloadUrl": url, "layerDigest": digest.as_str() })))
}

fn storage(error: StoreError) -> EcrError {
    EcrError::new(EcrErrorCode::ServerException, error.to_string())
}
