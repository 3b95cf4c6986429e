//! `/v2/...` paths: a route is found from the end of the path, since repository names contain `/`.

use super::error::{OciCode, OciError};
use crate::types::{Digest, RepositoryName};

/// What a `/v2/...` path names.
#[derive(Debug, PartialEq, Eq)]
pub(super) enum Route {
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
    pub(super) fn parse(path: &str) -> Result<Self, OciError> {
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
}
