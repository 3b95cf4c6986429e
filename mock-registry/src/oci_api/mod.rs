//! The registry: Docker Registry HTTP API v2 / OCI distribution under `/v2/`, with ECR's auth and
//! errors. A route is found from the end of the path (repository names contain `/`); a handler
//! parses, calls the state or the blob store once, and answers with the spec's headers.

mod auth;
pub mod error;

use axum::Router;
use axum::body::Body;
use axum::extract::State;
use axum::http::{HeaderMap, HeaderName, HeaderValue, Method, StatusCode, Uri, header};
use axum::response::{IntoResponse, Response};
use axum::routing::any;

pub use auth::{default_registry, registry_for_host};
use error::{OciCode, OciError};

use crate::Lab;
use crate::state::manifest::{self, MAX_MANIFEST_LENGTH, OCI_INDEX};
use crate::state::{ImageRef, PutMode, RegistryKey, token};
use crate::store;
use crate::types::{AccountId, Digest, ImageTag, Region, RepositoryName};

const DIGEST_HEADER: &str = "docker-content-digest";
const UPLOAD_UUID_HEADER: &str = "docker-upload-uuid";

pub fn router() -> Router<Lab> {
    Router::new()
        .route("/v2", any(entry))
        .route("/v2/", any(entry))
        .route("/v2/{*rest}", any(entry))
        .route("/_download/{*rest}", axum::routing::get(download))
}

/// A GetDownloadUrlForLayer URL: `/_download/ACCOUNT/REGION/REPO.../DIGEST?expires=&signature=`,
/// good without credentials until it expires, like the presigned S3 URL ECR hands out.
async fn download(State(lab): State<Lab>, uri: Uri, headers: HeaderMap) -> Response {
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

async fn entry(State(lab): State<Lab>, method: Method, uri: Uri, headers: HeaderMap, body: Body) -> Response {
    let mut response = match handle(&lab, &method, &uri, &headers, body).await {
        Ok(response) => response,
        Err(error) => error.into_response(),
    };
    response.headers_mut().insert("docker-distribution-api-version", HeaderValue::from_static("registry/2.0"));
    response
}

/// What a `/v2/...` path names.
#[derive(Debug, PartialEq, Eq)]
enum Route {
    Ping,
    Catalog,
    Tags(RepositoryName),
    Manifest(RepositoryName, String),
    Blob(RepositoryName, Digest),
    UploadStart(RepositoryName),
    Upload(RepositoryName, String),
    Referrers(RepositoryName, Digest),
}

impl Route {
    fn parse(path: &str) -> Result<Self, OciError> {
        let rest = path.strip_prefix("/v2").unwrap_or(path).trim_start_matches('/');
        if rest.is_empty() {
            return Ok(Self::Ping);
        }
        if rest == "_catalog" {
            return Ok(Self::Catalog);
        }
        let segments: Vec<&str> = rest.split('/').collect();
        let n = segments.len();
        let name = |end: usize| -> Result<RepositoryName, OciError> {
            let text = segments[..end].join("/");
            RepositoryName::parse(&text)
                .map_err(|e| OciError::new(OciCode::NameInvalid, format!("invalid repository name '{text}': {}", e.0)))
        };
        let digest = |text: &str| {
            Digest::parse(text).map_err(|_| OciError::new(OciCode::DigestInvalid, format!("invalid digest '{text}'")))
        };
        let not_a_route = || OciError::new(OciCode::Unsupported, format!("no registry route /v2/{rest}"));
        if n < 3 {
            return Err(not_a_route());
        }
        Ok(match (segments[n - 3], segments[n - 2], segments[n - 1]) {
            (_, "tags", "list") => Self::Tags(name(n - 2)?),
            ("blobs", "uploads", "") => Self::UploadStart(name(n - 3)?),
            ("blobs", "uploads", id) => Self::Upload(name(n - 3)?, id.to_owned()),
            (_, "blobs", "uploads") => Self::UploadStart(name(n - 2)?),
            (_, "manifests", reference) => Self::Manifest(name(n - 2)?, reference.to_owned()),
            (_, "blobs", d) => Self::Blob(name(n - 2)?, digest(d)?),
            (_, "referrers", d) => Self::Referrers(name(n - 2)?, digest(d)?),
            _ => return Err(not_a_route()),
        })
    }
}

struct Call<'a> {
    lab: &'a Lab,
    registry: RegistryKey,
    headers: &'a HeaderMap,
    query: &'a str,
}

async fn handle(lab: &Lab, method: &Method, uri: &Uri, headers: &HeaderMap, body: Body) -> Result<Response, OciError> {
    let registry = registry_for_host(headers);
    auth::authorize(lab, headers, &registry)?;
    let call = Call { lab, registry, headers, query: uri.query().unwrap_or("") };
    let route = Route::parse(uri.path())?;
    let head = *method == Method::HEAD;
    match (method.clone(), route) {
        (Method::GET | Method::HEAD, Route::Ping) => Ok(json_response(StatusCode::OK, "{}".into(), head)),
        (Method::GET, Route::Catalog) => call.catalog(),
        (Method::GET, Route::Tags(name)) => call.tags(&name),
        (Method::GET | Method::HEAD, Route::Manifest(name, reference)) => call.get_manifest(&name, &reference, head),
        (Method::PUT, Route::Manifest(name, reference)) => call.put_manifest(&name, &reference, body).await,
        (Method::DELETE, Route::Manifest(name, reference)) => call.delete_manifest(&name, &reference).await,
        (Method::GET | Method::HEAD, Route::Blob(name, digest)) => call.get_blob(&name, &digest, head).await,
        (Method::DELETE, Route::Blob(name, digest)) => {
            lab.write(|s| s.unlink_blob(&call.registry, &name, &digest)).await?;
            Ok(empty(StatusCode::ACCEPTED))
        }
        (Method::POST, Route::UploadStart(name)) => call.start_upload(&name, body).await,
        (Method::PATCH, Route::Upload(name, id)) => call.patch_upload(&name, &id, body).await,
        (Method::PUT, Route::Upload(name, id)) => call.finish_upload(&name, &id, body).await,
        (Method::GET, Route::Upload(name, id)) => {
            let upload = call.upload_for(&name, &id)?;
            let size = upload.size;
            lab.store().put_back(upload);
            Ok(upload_response(StatusCode::NO_CONTENT, &name, &id, size))
        }
        (Method::DELETE, Route::Upload(name, id)) => {
            let upload = call.upload_for(&name, &id)?;
            lab.store().cancel(upload).await;
            Ok(empty(StatusCode::NO_CONTENT))
        }
        (Method::GET, Route::Referrers(name, digest)) => call.referrers(&name, &digest),
        (method, route) => Err(OciError::new(OciCode::Unsupported, format!("{method} is not supported on {route:?}"))),
    }
}

impl Call<'_> {
    fn catalog(&self) -> Result<Response, OciError> {
        let (n, last) = self.pagination()?;
        let names: Vec<String> = self.lab.read(|s| {
            s.repositories(&self.registry)
                .map(|r| r.name.to_string())
                .filter(|name| last.as_ref().is_none_or(|l| name > l))
                .collect()
        });
        let (page, more) = take_page(names, n);
        let mut response =
            json_response(StatusCode::OK, serde_json::json!({ "repositories": page }).to_string(), false);
        if more && let Some(last) = page.last() {
            link_next(&mut response, &format!("/v2/_catalog?n={}&last={last}", n.unwrap_or(page.len())));
        }
        Ok(response)
    }

    fn tags(&self, name: &RepositoryName) -> Result<Response, OciError> {
        let (n, last) = self.pagination()?;
        let mut tags: Vec<String> = self.lab.read(|s| {
            let repository = s.repository(&self.registry, name)?;
            Ok::<_, OciError>(repository.images.values().flat_map(|i| i.tags.iter().map(|t| t.to_string())).collect())
        })?;
        tags.sort();
        tags.retain(|t| last.as_ref().is_none_or(|l| t > l));
        let (page, more) = take_page(tags, n);
        let body = serde_json::json!({ "name": name.as_str(), "tags": page }).to_string();
        let mut response = json_response(StatusCode::OK, body, false);
        if more && let Some(last) = page.last() {
            link_next(&mut response, &format!("/v2/{name}/tags/list?n={}&last={last}", n.unwrap_or(page.len())));
        }
        Ok(response)
    }

    /// `n` and `last` of a listing; `n` must be a positive number.
    fn pagination(&self) -> Result<(Option<usize>, Option<String>), OciError> {
        let n = match query_param(self.query, "n") {
            None => None,
            Some(text) => match text.parse::<usize>() {
                Ok(n) if n > 0 => Some(n),
                _ => {
                    return Err(OciError::new(
                        OciCode::PaginationNumberInvalid,
                        format!("invalid number of results requested: '{text}'"),
                    ));
                }
            },
        };
        Ok((n, query_param(self.query, "last")))
    }

    fn get_manifest(&self, name: &RepositoryName, reference: &str, head: bool) -> Result<Response, OciError> {
        let image = self.lab.read(|s| {
            let repository = s.repository(&self.registry, name)?;
            let image = match reference.contains(':') {
                true => Digest::parse(reference).ok().and_then(|d| repository.images.get(&d)),
                false => ImageTag::parse(reference).ok().and_then(|t| repository.image_by_tag(&t)),
            };
            image.cloned().ok_or_else(OciError::manifest_unknown)
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

    async fn put_manifest(&self, name: &RepositoryName, reference: &str, body: Body) -> Result<Response, OciError> {
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
                let image = manifest::image_from(text, &parsed, state.now(), child_size);
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

    async fn delete_manifest(&self, name: &RepositoryName, reference: &str) -> Result<Response, OciError> {
        let id = match reference.contains(':') {
            true => ImageRef { digest: Some(reference.to_owned()), tag: None },
            false => ImageRef { digest: None, tag: Some(reference.to_owned()) },
        };
        let (_, failures) = self.lab.write(|s| s.delete_images(&self.registry, name, &[id])).await?;
        if failures.is_empty() { Ok(empty(StatusCode::ACCEPTED)) } else { Err(OciError::manifest_unknown()) }
    }

    async fn get_blob(&self, name: &RepositoryName, digest: &Digest, head: bool) -> Result<Response, OciError> {
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

    async fn start_upload(&self, name: &RepositoryName, body: Body) -> Result<Response, OciError> {
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

    /// The upload `id`, if it belongs to this repository (taken out; put it back or finish it).
    fn upload_for(&self, name: &RepositoryName, id: &str) -> Result<Box<store::Upload>, OciError> {
        Ok(self.lab.store().take_for(id, &self.registry, name)?)
    }

    async fn patch_upload(&self, name: &RepositoryName, id: &str, body: Body) -> Result<Response, OciError> {
        let mut upload = self.upload_for(name, id)?;
        if let Some(range) = self.headers.get(header::CONTENT_RANGE).and_then(|v| v.to_str().ok()) {
            let start = range.trim_start_matches("bytes ").split('-').next().and_then(|s| s.trim().parse::<u64>().ok());
            if start != Some(upload.size) {
                let size = upload.size;
                self.lab.store().put_back(upload);
                let mut response =
                    OciError::from(store::StoreError::RangeInvalid { expected: size, given: start.unwrap_or(0) })
                        .into_response();
                set_range(response.headers_mut(), size);
                response.headers_mut().insert(header::LOCATION, location(name, id));
                return Ok(response);
            }
        }
        let appended = upload.append_body(body).await;
        let size = upload.size;
        self.lab.store().put_back(upload);
        appended?;
        Ok(upload_response(StatusCode::ACCEPTED, name, id, size))
    }

    async fn finish_upload(&self, name: &RepositoryName, id: &str, body: Body) -> Result<Response, OciError> {
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
        let store = self.lab.store();
        let mut upload = store.take_for(id, &self.registry, name)?;
        let Ok(digest) = Digest::parse(digest) else {
            store.cancel(upload).await;
            return Err(OciError::new(OciCode::DigestInvalid, format!("invalid digest '{digest}'")));
        };
        if let Err(e) = upload.append_body(body).await {
            if resumable {
                store.put_back(upload);
            } else {
                store.cancel(upload).await;
            }
            return Err(e.into());
        }
        let size = store.commit(upload, &digest).await?;
        // A blob is one step of a push; the manifest's synced write covers it.
        self.lab.write_step(|s| s.link_blob(&self.registry, name, digest.clone(), size)).await?;
        Ok(blob_created(name, &digest))
    }

    fn referrers(&self, name: &RepositoryName, digest: &Digest) -> Result<Response, OciError> {
        let artifact_type = query_param(self.query, "artifactType");
        let manifests: Vec<serde_json::Value> = self.lab.read(|s| {
            let repository = s.repository(&self.registry, name)?;
            Ok::<_, OciError>(
                repository
                    .images
                    .values()
                    .filter(|i| i.subject.as_ref() == Some(digest))
                    .filter(|i| artifact_type.is_none() || i.artifact_type == artifact_type)
                    .map(|i| {
                        let mut d = serde_json::json!({
                            "mediaType": i.media_type,
                            "digest": i.digest.as_str(),
                            "size": i.manifest.len(),
                        });
                        if let Some(t) = &i.artifact_type {
                            d["artifactType"] = t.clone().into();
                        }
                        if !i.annotations.is_empty() {
                            d["annotations"] = serde_json::to_value(&i.annotations).unwrap_or_default();
                        }
                        d
                    })
                    .collect(),
            )
        })?;
        let body = serde_json::json!({ "schemaVersion": 2, "mediaType": OCI_INDEX, "manifests": manifests });
        let mut response = (StatusCode::OK, [(header::CONTENT_TYPE, OCI_INDEX)], body.to_string()).into_response();
        if artifact_type.is_some() {
            response.headers_mut().insert("oci-filters-applied", HeaderValue::from_static("artifactType"));
        }
        Ok(response)
    }
}

fn json_response(status: StatusCode, body: String, head: bool) -> Response {
    let length = body.len();
    let mut response =
        (status, [(header::CONTENT_TYPE, "application/json; charset=utf-8")], if head { String::new() } else { body })
            .into_response();
    response.headers_mut().insert(header::CONTENT_LENGTH, HeaderValue::from(length));
    response
}

fn empty(status: StatusCode) -> Response {
    let mut response = status.into_response();
    response.headers_mut().insert(header::CONTENT_LENGTH, HeaderValue::from(0));
    response
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

fn link_next(response: &mut Response, target: &str) {
    if let Ok(value) = HeaderValue::from_str(&format!("<{target}>; rel=\"next\"")) {
        response.headers_mut().insert(header::LINK, value);
    }
}

fn take_page(mut items: Vec<String>, n: Option<usize>) -> (Vec<String>, bool) {
    match n {
        Some(n) if items.len() > n => {
            items.truncate(n);
            (items, true)
        }
        _ => (items, false),
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

/// One query parameter, percent-decoded.
pub(crate) fn query_param(query: &str, name: &str) -> Option<String> {
    query.split('&').find_map(|pair| {
        let (k, v) = pair.split_once('=').unwrap_or((pair, ""));
        (k == name).then(|| percent_encoding::percent_decode_str(&v.replace('+', " ")).decode_utf8_lossy().into_owned())
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn name(s: &str) -> RepositoryName {
        RepositoryName::parse(s).unwrap()
    }

    #[test]
    fn routes_are_found_from_the_end() {
        let d = format!("sha256:{}", "a".repeat(64));
        assert_eq!(Route::parse("/v2/").unwrap(), Route::Ping);
        assert_eq!(Route::parse("/v2/team/blobs/app/tags/list").unwrap(), Route::Tags(name("team/blobs/app")));
        assert_eq!(Route::parse("/v2/a/b/manifests/v1").unwrap(), Route::Manifest(name("a/b"), "v1".into()));
        assert_eq!(Route::parse("/v2/ab/manifests/blobs").unwrap(), Route::Manifest(name("ab"), "blobs".into()));
        assert_eq!(Route::parse("/v2/ab/blobs/uploads/").unwrap(), Route::UploadStart(name("ab")));
        assert_eq!(Route::parse("/v2/ab/blobs/uploads/x1").unwrap(), Route::Upload(name("ab"), "x1".into()));
        assert_eq!(
            Route::parse(&format!("/v2/ab/blobs/{d}")).unwrap(),
            Route::Blob(name("ab"), Digest::parse(&d).unwrap())
        );
        assert!(matches!(Route::parse("/v2/Ab/manifests/v1"), Err(OciError::Coded { code: OciCode::NameInvalid, .. })));
        assert!(matches!(
            Route::parse("/v2/a/../b/manifests/v1"),
            Err(OciError::Coded { code: OciCode::NameInvalid, .. })
        ));
        assert!(matches!(
            Route::parse("/v2/ab/blobs/sha256:zz"),
            Err(OciError::Coded { code: OciCode::DigestInvalid, .. })
        ));
    }

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
