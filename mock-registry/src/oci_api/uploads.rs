//! Blob uploads: start (or mount from another repository, or one monolithic PUT), PATCH parts,
//! finish with the digest, ask where an upload is, cancel. The upload itself is the store's; a
//! finished one goes through [`Lab::commit_blob`](crate::Lab), blob first, journal second.

use axum::body::Body;
use axum::http::{HeaderMap, HeaderName, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse as _, Response};

use super::error::{OciCode, OciError};
use super::{Call, DIGEST_HEADER, empty, query_param};
use crate::state::journal::Safety;
use crate::store::UploadGuard;
use crate::types::{Digest, RepositoryName};

const UPLOAD_UUID_HEADER: &str = "docker-upload-uuid";

impl Call<'_> {
    pub(super) async fn start_upload(&self, name: &RepositoryName, body: Body) -> Result<Response, OciError> {
        // A missing repository is where `docker push` first meets NAME_UNKNOWN.
        self.lab.read(|s| s.repository(&self.registry, name).map(|_| ()))?;
        if let (Some(mount), Some(from)) = (query_param(self.query, "mount"), query_param(self.query, "from")) {
            let digest = Digest::parse(&mount)
                .map_err(|_| OciError::new(OciCode::DigestInvalid, format!("invalid digest '{mount}'")))?;
            let source = RepositoryName::parse(&from).ok();
            let size = source.and_then(|from| self.lab.read(|s| s.blob_size(&self.registry, &from, &digest).ok()));
            if let Some(size) = size {
                self.lab.write_step(|s| s.link_blob(&self.registry, name, digest.clone(), size)).await?;
                return Ok(blob_created(name, &digest));
            }
        }
        let id = self.lab.store().begin(self.registry.clone(), name.clone()).await?;
        match query_param(self.query, "digest") {
            Some(digest) => self.commit(name, &id, &digest, body, false).await,
            None => Ok(upload_response(StatusCode::ACCEPTED, name, &id, 0)),
        }
    }

    /// The upload `id`, if it belongs to this repository (taken out until the guard is dropped).
    fn upload_for(&self, name: &RepositoryName, id: &str) -> Result<UploadGuard<'_>, OciError> {
        Ok(self.lab.store().take_for(id, &self.registry, name)?)
    }

    pub(super) async fn patch_upload(&self, name: &RepositoryName, id: &str, body: Body) -> Result<Response, OciError> {
        let mut upload = self.upload_for(name, id)?;
        if let Some(range) = self.headers.get(header::CONTENT_RANGE).and_then(|v| v.to_str().ok()) {
            let (start, end) = content_range(range);
            let refused = match upload.check_start(start) {
                Err(error) => Some(OciError::from(error)),
                Ok(()) => self.check_range_end(range, start, end),
            };
            if let Some(error) = refused {
                let mut response = error.into_response();
                set_range(response.headers_mut(), upload.size);
                response.headers_mut().insert(header::LOCATION, location(name, id));
                return Ok(response);
            }
        }
        upload.append_stream(body).await?;
        Ok(upload_response(StatusCode::ACCEPTED, name, id, upload.size))
    }

    /// A part's `Content-Range` end must be a number past its start, and the part as long as it
    /// says (distribution's RANGE_INVALID and SIZE_INVALID): checked before a byte is written.
    fn check_range_end(&self, range: &str, start: Option<u64>, end: Option<u64>) -> Option<OciError> {
        let length = match (start, end) {
            (Some(start), Some(end)) if end >= start => (end - start).checked_add(1),
            _ => None,
        };
        let Some(length) = length else {
            return Some(OciError::new(OciCode::RangeInvalid, format!("invalid content range '{range}'")));
        };
        let sent = self.headers.get(header::CONTENT_LENGTH).and_then(|v| v.to_str().ok()?.parse::<u64>().ok());
        match sent {
            Some(sent) if sent == length => None,
            Some(sent) => Some(OciError::new(
                OciCode::SizeInvalid,
                format!("the Content-Range '{range}' is {length} bytes, but the part has {sent}"),
            )),
            None => Some(OciError::new(
                OciCode::SizeInvalid,
                format!("a part with Content-Range '{range}' needs a Content-Length of {length}"),
            )),
        }
    }

    pub(super) async fn finish_upload(
        &self,
        name: &RepositoryName,
        id: &str,
        body: Body,
    ) -> Result<Response, OciError> {
        let Some(digest) = query_param(self.query, "digest") else {
            return Err(OciError::new(
                OciCode::DigestInvalid,
                "the digest query parameter is required to finish an upload",
            ));
        };
        self.commit(name, id, &digest, body, true).await
    }

    /// Appends `body`, checks `digest`, moves the blob into the store, then links it in the journal.
    /// A cut-off body leaves a `resumable` upload as it was (the client knows its Location and can
    /// send the part again); a monolithic one, whose id the client never saw, is dropped.
    async fn commit(
        &self,
        name: &RepositoryName,
        id: &str,
        digest: &str,
        body: Body,
        resumable: bool,
    ) -> Result<Response, OciError> {
        let mut upload = self.upload_for(name, id)?;
        let Ok(digest) = Digest::parse(digest) else {
            upload.cancel().await;
            return Err(OciError::new(OciCode::DigestInvalid, format!("invalid digest '{digest}'")));
        };
        if let Err(e) = upload.append_last(body).await {
            if !resumable {
                upload.cancel().await;
            }
            return Err(e.into());
        }
        // A blob is one step of a push; the manifest's synced write covers it.
        self.lab.commit_blob(upload, &digest, Safety::Written).await?;
        Ok(blob_created(name, &digest))
    }

    /// Where upload `id` is (`GET`).
    pub(super) fn upload_status(&self, name: &RepositoryName, id: &str) -> Result<Response, OciError> {
        let upload = self.upload_for(name, id)?;
        Ok(upload_response(StatusCode::NO_CONTENT, name, id, upload.size))
    }

    /// Ends upload `id` without a blob (`DELETE`).
    pub(super) async fn cancel_upload(&self, name: &RepositoryName, id: &str) -> Result<Response, OciError> {
        self.upload_for(name, id)?.cancel().await;
        Ok(empty(StatusCode::NO_CONTENT))
    }
}

/// The first and last byte of a `Content-Range` (`bytes 0-99` or `0-99`); `None` where unreadable.
fn content_range(range: &str) -> (Option<u64>, Option<u64>) {
    let range = range.trim().trim_start_matches("bytes").trim_start_matches([' ', '=']);
    let (start, end) = range.split_once('-').unwrap_or((range, ""));
    let end = end.split('/').next().unwrap_or(end);
    (start.trim().parse().ok(), end.trim().parse().ok())
}

fn location(name: &RepositoryName, id: &str) -> HeaderValue {
    HeaderValue::from_str(&format!("/v2/{name}/blobs/uploads/{id}")).expect("names and ids are header-safe")
}

/// `Range: 0-<last byte>` as upload replies carry it (`0-0` when empty).
fn set_range(headers: &mut HeaderMap, size: u64) {
    let value = format!("0-{}", size.saturating_sub(1));
    headers.insert(header::RANGE, HeaderValue::from_str(&value).expect("digits"));
}

fn upload_response(status: StatusCode, name: &RepositoryName, id: &str, size: u64) -> Response {
    let mut response = empty(status);
    let headers = response.headers_mut();
    headers.insert(header::LOCATION, location(name, id));
    set_range(headers, size);
    headers.insert(HeaderName::from_static(UPLOAD_UUID_HEADER), HeaderValue::from_str(id).expect("uuid"));
    response
}

fn blob_created(name: &RepositoryName, digest: &Digest) -> Response {
    let mut response = empty(StatusCode::CREATED);
    let headers = response.headers_mut();
    headers
        .insert(header::LOCATION, HeaderValue::from_str(&format!("/v2/{name}/blobs/{digest}")).expect("header-safe"));
    headers.insert(HeaderName::from_static(DIGEST_HEADER), HeaderValue::from_str(digest.as_str()).expect("digest"));
    response
}
