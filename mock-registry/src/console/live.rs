//! Live tables: small JSON documents the page polls (every 2 s) so a projected console shows
//! students' pushes as they land. Each carries the table rows rendered exactly as the page renders
//! them, and a fingerprint of those rows so the script only touches the page when they changed.

use axum::Json;
use axum::extract::State;
use axum::response::{IntoResponse, Response};
use maud::Markup;
use serde_json::json;

use super::{Ctx, repositories, repository};
use crate::Lab;
use crate::ecr_api::EcrError;
use crate::types::{Digest, RepositoryName};

/// A short digest of what a table shows.
pub(super) fn fingerprint(rows: &Markup) -> String {
    Digest::sha256_of(rows.0.as_bytes()).as_str()[7..23].to_owned()
}

fn reply(rows: Markup, count: usize) -> Response {
    Json(json!({ "fingerprint": fingerprint(&rows), "count": count, "rows": rows.into_string() })).into_response()
}

/// An error instead of rows: the script reloads, and the page then shows ECR's banner.
fn failed(error: &EcrError) -> Response {
    let body = json!({ "error": { "code": error.code.name(), "message": error.message } });
    (error.code.status(), Json(body)).into_response()
}

pub(super) async fn repositories(State(lab): State<Lab>, ctx: Ctx) -> Response {
    if let Err(error) = &ctx.principal {
        return failed(error);
    }
    let search = ctx.query.get("search").unwrap_or_default().trim().to_owned();
    let (rows, count) = lab.read(|state| repositories::rows(&ctx, state.repositories(&ctx.registry), &search));
    reply(rows, count)
}

pub(super) fn images(lab: &Lab, ctx: &Ctx, name: &RepositoryName) -> Response {
    if let Err(error) = &ctx.principal {
        return failed(error);
    }
    let result = lab.read(|state| {
        state.repository(&ctx.registry, name).map(|r| repository::image_rows(ctx, r)).map_err(EcrError::from)
    });
    match result {
        Ok((rows, count)) => reply(rows, count),
        Err(error) => failed(&error),
    }
}
