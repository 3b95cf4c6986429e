//! Manifests: get (by tag or digest, as the `Accept` header allows), put (parsed and checked by
//! the state's rules) and delete.

use axum::body::Body;
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::Response;

use super::error::{OciCode, OciError};
use super::{Call, DIGEST_HEADER, empty};
use crate::state::manifest::{self, MAX_MANIFEST_LENGTH};
use crate::state::{ImageRef, PutMode};
use crate::types::{Digest, ImageTag, RepositoryName};

impl Call<'_> {
    pub(super) fn get_manifest(
        &self,
        name: &RepositoryName,
        reference: &str,
        head: bool,
    ) -> Result<Response, OciError> {
        let image = self.lab.read(|s| {
            let repository = s.repository(&self.registry, name)?;
            let image = match reference.contains(':') {
                true => Digest::parse(reference).ok().and_then(|d| repository.images.get(&d)),
                false => ImageTag::parse(reference).ok().and_then(|t| repository.image_by_tag(&t)),
            };
            let image = image.cloned().ok_or_else(OciError::manifest_unknown)?;
            if s.is_archived(&self.registry, name, &image.digest) {
                // "Archived images cannot be pulled. Requests to pull the archived image will fail
                // with a 404 error" (ECR user guide, archiving an image).
                return Err(OciError::new(
                    OciCode::ManifestUnknown,
                    format!(
                        "The image {} is archived and cannot be pulled: restore it with `aws ecr update-image-storage-class --target-storage-class STANDARD`",
                        image.digest
                    ),
                ));
            }
            Ok(image)
        })?;
        if !accepts(self.headers, &image.media_type) {
            return Err(OciError::new(
                OciCode::ManifestUnknown,
                format!("the manifest is {}, which the Accept header does not allow", image.media_type),
            ));
        }
        let mut response = Response::builder()
            .status(StatusCode::OK)
            .header(header::CONTENT_TYPE, &image.media_type)
            .header(header::CONTENT_LENGTH, image.manifest.len())
            .header(DIGEST_HEADER, image.digest.as_str())
            .header(header::ETAG, format!("\"{}\"", image.digest))
            .body(if head { Body::empty() } else { Body::from(image.manifest) })
            .expect("valid response");
        response.headers_mut().remove(header::TRANSFER_ENCODING);
        Ok(response)
    }

    pub(super) async fn put_manifest(
        &self,
        name: &RepositoryName,
        reference: &str,
        body: Body,
    ) -> Result<Response, OciError> {
        let bytes = axum::body::to_bytes(body, MAX_MANIFEST_LENGTH).await.map_err(|_| {
            OciError::new(OciCode::ManifestInvalid, format!("the manifest is larger than {MAX_MANIFEST_LENGTH} bytes"))
        })?;
        let text = String::from_utf8(bytes.to_vec())
            .map_err(|_| OciError::new(OciCode::ManifestInvalid, "the manifest is not UTF-8 JSON"))?;
        let declared = self
            .headers
            .get(header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .map(|v| v.split(';').next().unwrap_or(v).trim().to_owned())
            .filter(|v| v.starts_with("application/vnd."));
        let parsed = manifest::parse(&text, declared.as_deref())?;
        let digest = Digest::sha256_of(text.as_bytes());
        let tag = if reference.contains(':') {
            let given = Digest::parse(reference)
                .map_err(|_| OciError::new(OciCode::DigestInvalid, format!("invalid digest '{reference}'")))?;
            if given != digest {
                return Err(OciError::new(
                    OciCode::DigestInvalid,
                    format!("the manifest's digest is {digest}, not {given}"),
                ));
            }
            None
        } else {
            Some(ImageTag::parse(reference).map_err(|e| OciError::new(OciCode::TagInvalid, e.0))?)
        };
        let outcome = self
            .lab
            .write(|state| {
                let repository = state.repository(&self.registry, name)?;
                let child_size =
                    |d: &str| Digest::parse(d).ok().and_then(|d| repository.images.get(&d)).map(|i| i.size);
                let image = manifest::image_from(text, &parsed, state.now_for(&self.registry.account), child_size);
                state.put_image(&self.registry, name, image, tag, PutMode::Registry)
            })
            .await?;
        let mut response = Response::builder()
            .status(StatusCode::CREATED)
            .header(header::LOCATION, format!("/v2/{name}/manifests/{}", outcome.image.digest))
            .header(DIGEST_HEADER, outcome.image.digest.as_str())
            .header(header::CONTENT_LENGTH, 0);
        if let Some(subject) = &outcome.image.subject {
            response = response.header("oci-subject", subject.as_str());
        }
        Ok(response.body(Body::empty()).expect("valid response"))
    }

    pub(super) async fn delete_manifest(&self, name: &RepositoryName, reference: &str) -> Result<Response, OciError> {
        let id = match reference.contains(':') {
            true => ImageRef { digest: Some(reference.to_owned()), tag: None },
            false => ImageRef { digest: None, tag: Some(reference.to_owned()) },
        };
        let (_, failures) = self.lab.write(|s| s.delete_images(&self.registry, name, &[id])).await?;
        if failures.is_empty() { Ok(empty(StatusCode::ACCEPTED)) } else { Err(OciError::manifest_unknown()) }
    }
}

/// Whether the `Accept` headers allow `media_type` (no header, or `*/*`, allows everything).
fn accepts(headers: &HeaderMap, media_type: &str) -> bool {
    let accepted: Vec<&str> = headers
        .get_all(header::ACCEPT)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .map(|v| v.split(';').next().unwrap_or(v).trim())
        .filter(|v| !v.is_empty())
        .collect();
    accepted.is_empty() || accepted.iter().any(|a| *a == media_type || *a == "*/*" || *a == "application/json")
}
