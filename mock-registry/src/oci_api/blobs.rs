//! Blobs: get (whole or a byte range), delete (unlinks it from the repository), and the
//! presigned download URLs GetDownloadUrlForLayer hands out.

use axum::body::Body;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode, Uri, header};
use axum::response::{IntoResponse, Response};

use super::error::{OciCode, OciError};
use super::{Call, DIGEST_HEADER, empty, query_param};
use crate::Lab;
use crate::state::{RegistryKey, token};
use crate::store;
use crate::types::{AccountId, Digest, Region, RepositoryName};

/// A GetDownloadUrlForLayer URL: `/_download/ACCOUNT/REGION/REPO.../DIGEST?expires=&signature=`,
/// good without credentials until it expires, like the presigned S3 URL ECR hands out.
pub(super) async fn download(State(lab): State<Lab>, uri: Uri, headers: HeaderMap) -> Response {
    let denied = || OciError::new(OciCode::Denied, "the download URL is invalid or has expired").into_response();
    let query = uri.query().unwrap_or("");
    let (Some(expires), Some(signature)) = (query_param(query, "expires"), query_param(query, "signature")) else {
        return denied();
    };
    let Ok(expires) = expires.parse::<i64>() else { return denied() };
    let path = uri.path();
    if !lab.read(|s| token::verify_download(s.token_secret(), path, expires, &signature, s.now())) {
        return denied();
    }
    let segments: Vec<&str> = path.trim_start_matches("/_download/").split('/').collect();
    let parsed = (|| {
        let [account, region, name @ .., digest] = segments.as_slice() else { return None };
        let registry = RegistryKey::new(AccountId::parse(account).ok()?, Region::parse(region).ok()?);
        Some((registry, RepositoryName::parse(&name.join("/")).ok()?, Digest::parse(digest).ok()?))
    })();
    let Some((registry, name, digest)) = parsed else { return denied() };
    let call = Call { lab: &lab, registry, headers: &headers, query };
    call.get_blob(&name, &digest, false).await.unwrap_or_else(IntoResponse::into_response)
}

impl Call<'_> {
    pub(super) async fn get_blob(
        &self,
        name: &RepositoryName,
        digest: &Digest,
        head: bool,
    ) -> Result<Response, OciError> {
        let size = self.lab.read(|s| s.blob_size(&self.registry, name, digest))?;
        let path = self.lab.store().path(digest);
        let range = match self.headers.get(header::RANGE).and_then(|v| v.to_str().ok()) {
            None => None,
            Some(text) => Some(parse_range(text, size).ok_or_else(|| {
                OciError::new(OciCode::RangeInvalid, format!("cannot serve range '{text}' of {size} bytes"))
            })?),
        };
        let (status, start, length) = match range {
            Some((start, end)) => (StatusCode::PARTIAL_CONTENT, start, end - start + 1),
            None => (StatusCode::OK, 0, size),
        };
        let body = if head {
            Body::empty()
        } else {
            store::read_range(&path, start, length)
                .await
                .map(Body::from_stream)
                .map_err(|e| OciError::new(OciCode::BlobUnknown, format!("blob {digest} cannot be read: {e}")))?
        };
        let mut response = Response::builder()
            .status(status)
            .header(header::CONTENT_TYPE, "application/octet-stream")
            .header(header::CONTENT_LENGTH, length)
            .header(header::ACCEPT_RANGES, "bytes")
            .header(DIGEST_HEADER, digest.as_str())
            .header(header::ETAG, format!("\"{digest}\""));
        if range.is_some() {
            response = response.header(header::CONTENT_RANGE, format!("bytes {start}-{}/{size}", start + length - 1));
        }
        Ok(response.body(body).expect("valid response"))
    }

    pub(super) async fn delete_blob(&self, name: &RepositoryName, digest: &Digest) -> Result<Response, OciError> {
        self.lab.write(|s| s.unlink_blob(&self.registry, name, digest)).await?;
        Ok(empty(StatusCode::ACCEPTED))
    }
}

/// `bytes=START-END` or `bytes=START-` within `size`, as inclusive (start, end).
fn parse_range(text: &str, size: u64) -> Option<(u64, u64)> {
    let spec = text.strip_prefix("bytes=")?;
    let (start, end) = spec.split_once('-')?;
    let (start, end) = match (start.trim(), end.trim()) {
        ("", suffix) => {
            let suffix: u64 = suffix.parse().ok()?;
            (size.checked_sub(suffix.min(size))?, size.checked_sub(1)?)
        }
        (start, "") => (start.parse().ok()?, size.checked_sub(1)?),
        (start, end) => (start.parse().ok()?, end.parse::<u64>().ok()?.min(size.checked_sub(1)?)),
    };
    (start <= end && end < size).then_some((start, end))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ranges() {
        assert_eq!(parse_range("bytes=0-9", 100), Some((0, 9)));
        assert_eq!(parse_range("bytes=90-", 100), Some((90, 99)));
        assert_eq!(parse_range("bytes=-10", 100), Some((90, 99)));
        assert_eq!(parse_range("bytes=50-500", 100), Some((50, 99)));
        assert_eq!(parse_range("bytes=100-", 100), None);
        assert_eq!(parse_range("bytes=9-1", 100), None);
        assert_eq!(parse_range("items=0-1", 100), None);
    }
}
