//! Listings: the catalog, a repository's tags (both paginated with `n` and `last`, with a `Link`
//! to the next page) and the referrers of a manifest.

use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};

use super::error::{OciCode, OciError};
use super::{Call, json_response, query_param};
use crate::state::manifest::OCI_INDEX;
use crate::types::{Digest, RepositoryName};

impl Call<'_> {
    pub(super) fn catalog(&self) -> Result<Response, OciError> {
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
            link_next(&mut response, &format!("/v2/_catalog?n={}&last={}", n.unwrap_or(page.len()), encoded(last)));
        }
        Ok(response)
    }

    pub(super) fn tags(&self, name: &RepositoryName) -> Result<Response, OciError> {
        let (n, last) = self.pagination()?;
        // ECR answers a tag listing without `n` a page at a time, with a Link to the next.
        let n = n.unwrap_or(DEFAULT_TAGS_PAGE);
        let mut tags: Vec<String> = self.lab.read(|s| {
            let repository = s.repository(&self.registry, name)?;
            Ok::<_, OciError>(repository.images.values().flat_map(|i| i.tags.iter().map(|t| t.to_string())).collect())
        })?;
        tags.sort();
        tags.retain(|t| last.as_ref().is_none_or(|l| t > l));
        let (page, more) = take_page(tags, Some(n));
        let body = serde_json::json!({ "name": name.as_str(), "tags": page }).to_string();
        let mut response = json_response(StatusCode::OK, body, false);
        if more && let Some(last) = page.last() {
            link_next(&mut response, &format!("/v2/{name}/tags/list?n={n}&last={}", encoded(last)));
        }
        Ok(response)
    }

    /// `n` and `last` of a listing. `n` is a number: 0 asks for an empty page (the distribution spec;
    /// ECR says nothing of it), and ECR passes `n` on as its `maxResults`, so above 1000 it answers
    /// with that member's constraint (as go-containerregistry#681 captured for `n=10000`), status 405
    /// (renovate's `isECRMaxResultsResponse` recognises ECR by that status and this text).
    fn pagination(&self) -> Result<(Option<usize>, Option<String>), OciError> {
        let n = match query_param(self.query, "n") {
            None => None,
            Some(text) => match text.parse::<usize>() {
                Ok(n) if n > MAX_PAGE => {
                    return Err(OciError::new(
                        OciCode::Unsupported,
                        format!(
                            "Invalid parameter at 'maxResults' failed to satisfy constraint: 'Member must have value less than or equal to {MAX_PAGE}'"
                        ),
                    ));
                }
                Ok(n) => Some(n),
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

    pub(super) fn referrers(&self, name: &RepositoryName, digest: &Digest) -> Result<Response, OciError> {
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

/// The most a listing's `n` may ask for: ECR's `maxResults` bound.
const MAX_PAGE: usize = 1000;
/// The page a tag listing without `n` gets, as ECR pages it.
const DEFAULT_TAGS_PAGE: usize = 100;

/// `text` as a query value: everything but RFC 3986's unreserved characters percent-encoded.
fn encoded(text: &str) -> percent_encoding::PercentEncode<'_> {
    const QUERY_VALUE: &percent_encoding::AsciiSet =
        &percent_encoding::NON_ALPHANUMERIC.remove(b'-').remove(b'.').remove(b'_').remove(b'~');
    percent_encoding::utf8_percent_encode(text, QUERY_VALUE)
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
