//! The JSON the deck's live panels poll: what the lab's mock holds right now, read through the
//! [`Lab`] handle (never through the wire, so polling leaves the request log alone). A missing
//! repository is answered with ECR's own error, which is itself worth showing during the demo; only a
//! malformed query is a 400.

use mock_registry::types::human_size;
use std::collections::HashMap;

use axum::Json;
use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use mock_registry::RegistryKey;
use mock_registry::aws::EcrError;
use mock_registry::defaults::DEFAULT_ACCOUNT;
use mock_registry::types::{AccountId, Region, RepositoryName, WireEnum};
use serde_json::json;

use super::Slides;

pub(super) async fn repositories(
    State(slides): State<Slides>,
    Query(query): Query<HashMap<String, String>>,
) -> Response {
    let registry = match registry(&query) {
        Ok(registry) => registry,
        Err(response) => return response,
    };
    let repositories: Vec<serde_json::Value> = slides.lab.read(|state| {
        state
            .repositories(&registry)
            .map(|r| {
                json!({
                    "repositoryName": r.name.as_str(),
                    "repositoryUri": r.uri(&registry),
                    "imageTagMutability": r.tag_mutability.mode.wire(),
                    "scanOnPush": r.scan_on_push,
                    "imageCount": r.images.len(),
                })
            })
            .collect()
    });
    Json(json!({ "registry": registry.host(), "repositories": repositories })).into_response()
}

pub(super) async fn images(State(slides): State<Slides>, Query(query): Query<HashMap<String, String>>) -> Response {
    let registry = match registry(&query) {
        Ok(registry) => registry,
        Err(response) => return response,
    };
    let given = query.get("repository").map(String::as_str).unwrap_or_default();
    let name = match RepositoryName::parse(given) {
        Ok(name) => name,
        Err(e) => return invalid(format!("repository '{given}': {}", e.0)),
    };
    let found = slides.lab.read(|state| {
        state.repository(&registry, &name).map(|r| {
            let mut images: Vec<_> = r.images.values().collect();
            images.sort_by(|a, b| b.pushed_at.cmp(&a.pushed_at).then_with(|| a.digest.cmp(&b.digest)));
            images
                .into_iter()
                .map(|i| {
                    json!({
                        "imageTags": i.tags.iter().map(|t| t.as_str()).collect::<Vec<_>>(),
                        "imageDigest": i.digest.as_str(),
                        "imagePushedAt": i.pushed_at.epoch_seconds(),
                        "imageSizeInBytes": i.size,
                        "imageSize": human_size(i.size),
                    })
                })
                .collect::<Vec<_>>()
        })
    });
    match found {
        Ok(images) => Json(json!({ "repositoryName": name.as_str(), "imageDetails": images })).into_response(),
        // What ECR would answer is the state to show (the panel is not the API), so it comes with 200:
        // a browser logs every 4xx of a fetch as an error in its console.
        Err(error) => {
            let error = EcrError::from(error);
            Json(json!({ "error": { "code": error.code.name(), "message": error.message } })).into_response()
        }
    }
}

/// The lab's account in `?region=` (default: the lab's region).
#[allow(clippy::result_large_err)]
fn registry(query: &HashMap<String, String>) -> Result<RegistryKey, Response> {
    let region = query.get("region").map(String::as_str).unwrap_or(mock_registry::defaults::DEFAULT_REGION);
    let region = Region::parse(region).map_err(|e| invalid(e.0))?;
    Ok(RegistryKey::new(AccountId::parse(DEFAULT_ACCOUNT).expect("the default account parses"), region))
}

fn invalid(message: String) -> Response {
    let body = json!({ "error": { "code": "InvalidParameterException", "message": message } });
    (StatusCode::BAD_REQUEST, Json(body)).into_response()
}

#[cfg(test)]
mod tests {
    use super::human_size;

    #[test]
    fn sizes_read_as_in_the_console() {
        assert_eq!(human_size(512), "512 B");
        assert_eq!(human_size(1500), "1.46 KiB");
        assert_eq!(human_size(2_254_857), "2.15 MiB");
    }
}
