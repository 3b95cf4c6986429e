//! ListImageReferrers: the artifacts whose OCI `subject` is an image (signatures from
//! `ecr-lab sign` or cosign, SBOMs, attestations), as the registry's referrers API lists them.

use std::collections::BTreeMap;

use axum::response::Response;
use serde::{Deserialize, Serialize};

use super::operations::{invalid, page, registry, repository_name, required};
use super::{EcrError, json};
use crate::Lab;
use crate::state::Caller;
use crate::types::Digest;

#[derive(Deserialize, Default)]
#[serde(rename_all = "camelCase")]
pub(super) struct ListImageReferrersRequest {
    registry_id: Option<String>,
    repository_name: Option<String>,
    subject_id: Option<SubjectId>,
    filter: Option<ReferrersFilter>,
    next_token: Option<String>,
    max_results: Option<i64>,
}

#[derive(Deserialize, Default)]
#[serde(rename_all = "camelCase")]
struct SubjectId {
    image_digest: Option<String>,
}

#[derive(Deserialize, Default)]
#[serde(rename_all = "camelCase")]
struct ReferrersFilter {
    artifact_types: Option<Vec<String>>,
    artifact_status: Option<String>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct ReferrerOut {
    digest: String,
    media_type: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    artifact_type: Option<String>,
    size: usize,
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    annotations: BTreeMap<String, String>,
    artifact_status: &'static str,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct ListImageReferrersResponse {
    referrers: Vec<ReferrerOut>,
    #[serde(skip_serializing_if = "Option::is_none")]
    next_token: Option<String>,
}

/// Which referrers `artifactStatus` asks for; ACTIVE when not given.
fn status_filter(value: Option<&str>) -> Result<Option<&'static str>, EcrError> {
    match value {
        None | Some("ACTIVE") => Ok(Some("ACTIVE")),
        Some("ARCHIVED") => Ok(Some("ARCHIVED")),
        Some("ACTIVATING") => Ok(Some("ACTIVATING")),
        Some("ANY") => Ok(None),
        Some(_) => Err(invalid(
            "filter.artifactStatus",
            "Member must satisfy enum value set: [ACTIVE, ARCHIVED, ACTIVATING, ANY]",
        )),
    }
}

pub(super) fn list_image_referrers(
    lab: &Lab,
    caller: &Caller,
    request: ListImageReferrersRequest,
) -> Result<Response, EcrError> {
    let registry = registry(caller, request.registry_id)?;
    let name = repository_name(request.repository_name)?;
    let subject = required(required(request.subject_id, "subjectId")?.image_digest, "subjectId.imageDigest")?;
    let subject = Digest::parse(&subject).map_err(|e| invalid("subjectId.imageDigest", &e.0))?;
    let filter = request.filter.unwrap_or_default();
    let types = filter.artifact_types.unwrap_or_default();
    if types.len() > 5 {
        return Err(invalid("filter.artifactTypes", "Member must have length less than or equal to 5"));
    }
    let status = status_filter(filter.artifact_status.as_deref())?;
    if let Some(n) = request.max_results
        && !(1..=50).contains(&n)
    {
        let bound = if n < 1 { "greater than or equal to 1" } else { "less than or equal to 50" };
        return Err(invalid("maxResults", &format!("Member must have value {bound}")));
    }
    let page = page(lab, Some(request.max_results.unwrap_or(50)), request.next_token)?;
    lab.read(|state| {
        let repository = state.repository(&registry, &name)?;
        let rows = repository
            .images
            .values()
            .filter(|i| i.subject.as_ref() == Some(&subject))
            .filter(|i| types.is_empty() || i.artifact_type.as_ref().is_some_and(|t| types.contains(t)))
            .map(|i| {
                let archived = state.is_archived(&registry, &name, &i.digest);
                (i, if archived { "ARCHIVED" } else { "ACTIVE" })
            })
            .filter(|(_, s)| status.is_none_or(|wanted| wanted == *s));
        let (rows, next_token) = page.take(rows, |(i, _)| i.digest.to_string());
        let referrers = rows
            .into_iter()
            .map(|(i, artifact_status)| ReferrerOut {
                digest: i.digest.to_string(),
                media_type: i.media_type.clone(),
                artifact_type: i.artifact_type.clone(),
                size: i.manifest.len(),
                annotations: i.annotations.clone(),
                artifact_status,
            })
            .collect();
        Ok(json(ListImageReferrersResponse { referrers, next_token }))
    })
}
