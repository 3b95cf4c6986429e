//! Deleting, with confirmation: selected images (BatchDeleteImage by digest) and a whole repository
//! (DeleteRepository with force, after typing "delete", as the ECR console asks).

use axum::http::StatusCode;
use axum::response::Response;
use maud::html;

use super::form::FormData;
use super::html::size;
use super::layout::Page;
use super::{Ctx, repository_crumbs, see_other};
use crate::Lab;
use crate::ecr_api::{EcrError, EcrErrorCode};
use crate::state::{ImageRef, Repository};
use crate::types::{Digest, RepositoryName};

/// "Delete selected" on the Images tab lands here (a GET form): which images, and a button to confirm.
pub(super) fn images_confirm(lab: &Lab, ctx: &Ctx, name: &RepositoryName) -> Response {
    let chosen: Vec<Digest> = ctx.query.all("imageDigest").filter_map(|d| Digest::parse(d).ok()).collect();
    let found = lab.read(|state| {
        state
            .repository(&ctx.registry, name)
            .map(|r| chosen.iter().filter_map(|d| r.images.get(d)).cloned().collect::<Vec<_>>())
    });
    let images = match found {
        Ok(images) => images,
        Err(error) => return Page::error(name.as_str(), ctx, &error.into()).render(ctx),
    };
    let back = ctx.repository_href(name, "");
    let title = "Delete images";
    if images.is_empty() {
        let body = html! {
            h1 { (title) }
            p { "No images were selected. Tick the images to delete on the Images tab first." }
            p { a class="button" href=(back) { "Back to " (name) } }
        };
        return repository_crumbs(Page::new(title), ctx, name, Some(title)).body(body).render(ctx);
    }
    let body = html! {
        h1 { (title) }
        section class="panel warning" aria-labelledby="confirm-h" {
            h2 id="confirm-h" { "Delete " (images.len()) " image" @if images.len() != 1 { "s" } " from " (name) "?" }
            ul class="plain" {
                @for image in &images {
                    @let tags: Vec<&str> = image.tags.iter().map(|t| t.as_str()).collect();
                    li {
                        strong { @if tags.is_empty() { "<untagged>" } @else { (tags.join(", ")) } }
                        " " code class="digest" { (image.digest) }
                        " " span class="muted" { (size(image.size)) }
                    }
                }
            }
            p { "Deleting an image removes it and all its tags. This cannot be undone." }
            form method="post" action=(ctx.repository_href(name, "delete-images")) {
                input type="hidden" name="csrf" value=(ctx.csrf);
                @for image in &images { input type="hidden" name="imageDigest" value=(image.digest); }
                div class="form-actions" {
                    a class="button" href=(back) { "Cancel" } " " button type="submit" class="danger" { "Delete" }
                }
            }
        }
    };
    repository_crumbs(Page::new(title), ctx, name, Some(title)).body(body).render(ctx)
}

pub(super) async fn images_submit(lab: &Lab, ctx: &Ctx, name: &RepositoryName, form: &FormData) -> Response {
    let ids: Vec<ImageRef> =
        form.all("imageDigest").map(|d| ImageRef { digest: Some(d.to_owned()), tag: None }).collect();
    if ids.is_empty() {
        return see_other(&ctx.repository_href(name, ""));
    }
    match lab.write(|state| state.delete_images(&ctx.registry, name, &ids)).await {
        Ok((deleted, failures)) => {
            if let Some((id, failure)) = failures.first() {
                let message =
                    format!("{} ({}): {}", failure.code, id.digest.as_deref().unwrap_or_default(), failure.reason);
                let error = EcrError::new(EcrErrorCode::ImageNotFoundException, message);
                return Page::error("Delete images", ctx, &error).render(ctx);
            }
            let digests: std::collections::BTreeSet<_> = deleted.iter().map(|id| &id.digest).collect();
            let count = digests.len().to_string();
            see_other(
                &ctx.href_with(&Ctx::repository_path(name, ""), &[("notice", "images-deleted"), ("count", &count)]),
            )
        }
        Err(error) => Page::error("Delete images", ctx, &error.into()).render(ctx),
    }
}

/// The word to type before a repository is deleted.
const CONFIRM_WORD: &str = "delete";

pub(super) fn repository_confirm(ctx: &Ctx, repository: &Repository, error: Option<&str>) -> Response {
    let name = &repository.name;
    let count = repository.images.len();
    let title = "Delete repository";
    let images = match count {
        0 => "It holds no images.".to_owned(),
        1 => "Its 1 image is deleted with it.".to_owned(),
        n => format!("Its {n} images are deleted with it."),
    };
    let body = html! {
        h1 { (title) }
        section class="panel warning" aria-labelledby="confirm-h" {
            h2 id="confirm-h" { "Delete " (name) "?" }
            p { "Deleting a repository cannot be undone. " (images) }
            form method="post" action=(ctx.repository_href(name, "delete")) {
                input type="hidden" name="csrf" value=(ctx.csrf);
                div class="field" {
                    label for="confirm" { "To confirm deletion, type " strong { (CONFIRM_WORD) } " in the field." }
                    input id="confirm" name="confirm" type="text" autocomplete="off" spellcheck="false" data-confirm=(CONFIRM_WORD)
                        aria-describedby="confirm-error" aria-invalid=[error.map(|_| "true")];
                    p class="field-error" id="confirm-error" aria-live="polite" { (error.unwrap_or_default()) }
                }
                div class="form-actions" {
                    a class="button" href=(ctx.repository_href(name, "")) { "Cancel" } " " button type="submit" class="danger" { "Delete" }
                }
            }
        }
    };
    let page = repository_crumbs(Page::new(format!("{title} {name}")), ctx, name, Some(title)).body(body);
    match error {
        Some(_) => page.status(StatusCode::BAD_REQUEST).render(ctx),
        None => page.render(ctx),
    }
}

pub(super) async fn repository_submit(lab: &Lab, ctx: &Ctx, name: &RepositoryName, form: &FormData) -> Response {
    if form.get("confirm").map(str::trim) != Some(CONFIRM_WORD) {
        let repository = lab.read(|state| state.repository(&ctx.registry, name).cloned());
        return match repository {
            Ok(repository) => repository_confirm(ctx, &repository, Some(&format!("Type {CONFIRM_WORD} to confirm."))),
            Err(error) => Page::error("Delete repository", ctx, &error.into()).render(ctx),
        };
    }
    match lab.write(|state| state.delete_repository(&ctx.registry, name, true)).await {
        Ok(_) => see_other(
            &ctx.href_with("/console/repositories", &[("notice", "repository-deleted"), ("name", name.as_str())]),
        ),
        Err(error) => Page::error("Delete repository", ctx, &EcrError::from(error)).render(ctx),
    }
}
