//! Editing a repository: tag mutability (with exclusion filters) and scan on push, saved as
//! PutImageTagMutability and PutImageScanningConfiguration would, with the API's checks and wording.

use axum::http::StatusCode;
use axum::response::Response;
use maud::html;

use super::create::{exclusion_filters, mutability_fields, scan_on_push};
use super::form::FormData;
use super::html::encryption;
use super::layout::{Flash, Page};
use super::{Ctx, repository_crumbs, see_other, with_repository};
use crate::Lab;
use crate::ecr_api::{self, EcrError};
use crate::state::{Repository, RepositoryUpdate};
use crate::types::{RepositoryName, WireEnum};

const EDIT_TITLE: &str = "Edit repository";

/// The edit form: tag mutability (with exclusion filters) and scan on push. `form` refills it after
/// a refusal.
pub(super) fn edit_page(
    ctx: &Ctx,
    repository: &Repository,
    form: Option<&FormData>,
    error: Option<&EcrError>,
) -> Response {
    let name = &repository.name;
    let current_filters: Vec<&str> = repository.tag_mutability.filters.iter().map(|f| f.as_str()).collect();
    let (mode, filters, scan) = match form {
        Some(form) => (
            form.get("imageTagMutability").unwrap_or_default().to_owned(),
            exclusion_filters(form).join("\n"),
            scan_on_push(form),
        ),
        None => (repository.tag_mutability.mode.wire().to_owned(), current_filters.join("\n"), repository.scan_on_push),
    };
    let body = html! {
        h1 { (EDIT_TITLE) ": " (name) }
        form method="post" action=(ctx.repository_href(name, "edit")) class="stack" {
            input type="hidden" name="csrf" value=(ctx.csrf);
            (mutability_fields(&mode, &filters))
            section class="panel" aria-labelledby="scan-h" {
                h2 id="scan-h" { "Image scan settings" }
                div class="check" {
                    input type="checkbox" id="scanOnPush" name="scanOnPush" value="true" checked[scan];
                    label for="scanOnPush" { "Scan on push" }
                }
            }
            section class="panel" aria-labelledby="encryption-h" {
                h2 id="encryption-h" { "Encryption settings" }
                p { (encryption(&repository.encryption)) }
                p class="hint" { "Encryption is chosen when the repository is created and cannot be changed." }
            }
            div class="form-actions" {
                a class="button" href=(ctx.repository_href(name, "")) { "Cancel" } " " button type="submit" class="primary" { "Save" }
            }
        }
    };
    let mut page = repository_crumbs(Page::new(format!("{EDIT_TITLE}: {name}")), ctx, name, Some("Edit")).body(body);
    if let Some(error) = error {
        page = page.flash(Flash::ecr(error)).status(StatusCode::BAD_REQUEST);
    }
    page.render(ctx)
}

/// PutImageTagMutability and PutImageScanningConfiguration in one save, with the API's checks.
pub(super) async fn submit(lab: &Lab, ctx: &Ctx, name: &RepositoryName, form: &FormData) -> Response {
    let filters: Vec<ecr_api::wire::ExclusionFilter> = exclusion_filters(form)
        .into_iter()
        .map(|f| ecr_api::wire::ExclusionFilter { filter_type: Some("WILDCARD".into()), filter: Some(f) })
        .collect();
    let setting = match form.get("imageTagMutability").filter(|m| !m.is_empty()) {
        Some(mode) => ecr_api::tag_mutability(Some(mode.to_owned()), (!filters.is_empty()).then_some(filters)),
        None => Err(EcrError::invalid_parameter("imageTagMutability", "must not be null")),
    };
    let scan = scan_on_push(form);
    let saved = match setting {
        Ok(setting) => lab
            .write(|state| {
                state.update_repository(&ctx.registry, name, RepositoryUpdate::TagMutability(setting))?;
                state.update_repository(&ctx.registry, name, RepositoryUpdate::ScanOnPush(scan))?;
                Ok(())
            })
            .await
            .map_err(EcrError::from),
        Err(error) => Err(error),
    };
    match saved {
        Ok(()) => see_other(&ctx.href_with(&Ctx::repository_path(name, ""), &[("notice", "updated")])),
        Err(error) => with_repository(lab, ctx, name, |ctx, r| edit_page(ctx, r, Some(form), Some(&error))),
    }
}
