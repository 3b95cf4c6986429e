//! `/console/repositories/{name}` and its sub-pages (after `/_/`, which no repository name can
//! contain): which page a path names, the repository page with its Images tab (live), and the
//! lifecycle tab (the stored policy, read-only); the Permissions tab is `permissions.rs`.

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::Response;
use maud::{Markup, html};

use super::form::FormData;
use super::html::{copy_button, enabled, encryption, size, tag_mutability, time};
use super::layout::{Flash, Page};
use super::{Ctx, delete, image, live, permissions, push_commands, repository_crumbs, settings, with_repository};
use crate::Lab;
use crate::ecr_api::EcrError;
use crate::state::{Image, Repository, StateError};
use crate::types::RepositoryName;

/// What a console path under a repository names.
enum Sub<'a> {
    Images,
    ImagesJson,
    PushCommands,
    Edit,
    DeleteImages,
    Delete,
    Lifecycle,
    Permissions,
    DeletePolicy,
    Image(&'a str),
    Findings(&'a str),
}

fn split(rest: &str) -> (&str, Option<Sub<'_>>) {
    let rest = rest.trim_end_matches('/');
    let Some((name, sub)) = rest.split_once("/_/") else {
        return (rest, Some(Sub::Images));
    };
    let sub = match sub {
        "images.json" => Some(Sub::ImagesJson),
        "push-commands" => Some(Sub::PushCommands),
        "edit" => Some(Sub::Edit),
        "delete-images" => Some(Sub::DeleteImages),
        "delete" => Some(Sub::Delete),
        "lifecycle" => Some(Sub::Lifecycle),
        "permissions" => Some(Sub::Permissions),
        "permissions/delete" => Some(Sub::DeletePolicy),
        other => match other.strip_prefix("image/") {
            Some(image) => match image.strip_suffix("/findings") {
                Some(digest) => Some(Sub::Findings(digest)),
                None => Some(Sub::Image(image)),
            },
            None => None,
        },
    };
    (name, sub)
}

fn parse_name(name: &str) -> Result<RepositoryName, EcrError> {
    RepositoryName::parse(name).map_err(|e| EcrError::invalid_parameter("repositoryName", &e.0))
}

pub(super) async fn get(State(lab): State<Lab>, ctx: Ctx, Path(rest): Path<String>) -> Response {
    let (name, sub) = split(&rest);
    let Some(sub) = sub else { return not_found(&ctx) };
    let name = match parse_name(name) {
        Ok(name) => name,
        Err(error) => return Page::error("Repository", &ctx, &error).render(&ctx),
    };
    match (sub, &ctx.principal) {
        (Sub::ImagesJson, _) => live::images(&lab, &ctx, &name),
        (_, Err(error)) => Page::error(name.as_str(), &ctx, error).crumb(name.as_str(), None).render(&ctx),
        (Sub::Images, Ok(_)) => images_page(&lab, &ctx, &name),
        (Sub::PushCommands, Ok(_)) => with_repository(&lab, &ctx, &name, push_commands::page),
        (Sub::Edit, Ok(_)) => with_repository(&lab, &ctx, &name, |ctx, r| settings::edit_page(ctx, r, None, None)),
        (Sub::DeleteImages, Ok(_)) => delete::images_confirm(&lab, &ctx, &name),
        (Sub::Delete, Ok(_)) => with_repository(&lab, &ctx, &name, |ctx, r| delete::repository_confirm(ctx, r, None)),
        (Sub::Lifecycle, Ok(_)) => with_repository(&lab, &ctx, &name, lifecycle_page),
        (Sub::Permissions, Ok(_)) => with_repository(&lab, &ctx, &name, |ctx, r| permissions::page(ctx, r, None, None)),
        (Sub::DeletePolicy, Ok(_)) => not_found(&ctx),
        (Sub::Image(digest), Ok(_)) => image::page(&lab, &ctx, &name, digest, false),
        (Sub::Findings(digest), Ok(_)) => image::page(&lab, &ctx, &name, digest, true),
    }
}

pub(super) async fn post(State(lab): State<Lab>, ctx: Ctx, Path(rest): Path<String>, body: String) -> Response {
    let (name, sub) = split(&rest);
    let name = match parse_name(name) {
        Ok(name) => name,
        Err(error) => return Page::error("Repository", &ctx, &error).render(&ctx),
    };
    if let Err(error) = &ctx.principal {
        return Page::error(name.as_str(), &ctx, error).crumb(name.as_str(), None).render(&ctx);
    }
    let form = FormData::parse(&body);
    match sub {
        Some(Sub::Edit) => settings::submit(&lab, &ctx, &name, &form).await,
        Some(Sub::DeleteImages) => delete::images_submit(&lab, &ctx, &name, &form).await,
        Some(Sub::Delete) => delete::repository_submit(&lab, &ctx, &name, &form).await,
        Some(Sub::Permissions) => permissions::save(&lab, &ctx, &name, &form).await,
        Some(Sub::DeletePolicy) => permissions::delete(&lab, &ctx, &name).await,
        _ => not_found(&ctx),
    }
}

fn not_found(ctx: &Ctx) -> Response {
    let body = html! {
        h1 { "Page not found" }
        p { "The console has no page at " code { (ctx.path) } "." }
        p { a href=(ctx.href("/console/repositories")) { "Back to private repositories" } }
    };
    Page::new("Page not found").body(body).status(StatusCode::NOT_FOUND).render(ctx)
}

fn notice(ctx: &Ctx, name: &RepositoryName) -> Option<Flash> {
    Some(match ctx.query.get("notice")? {
        "created" => Flash::success(format!("Successfully created private repository {name}.")),
        "updated" => Flash::success(format!("Successfully updated repository {name}.")),
        "images-deleted" => {
            let count: usize = ctx.query.get("count").and_then(|c| c.parse().ok()).unwrap_or(0);
            Flash::success(format!("Deleted {count} image{}.", if count == 1 { "" } else { "s" }))
        }
        _ => return None,
    })
}

/// The repository page: its settings, then the Images tab.
fn images_page(lab: &Lab, ctx: &Ctx, name: &RepositoryName) -> Response {
    let found = lab.read(|state| {
        let repository = state.repository(&ctx.registry, name)?;
        Ok::<_, StateError>((repository.clone(), image_rows(ctx, repository)))
    });
    let (repository, (rows, count)) = match found {
        Ok(found) => found,
        Err(error) => {
            return Page::error(name.as_str(), ctx, &error.into()).crumb(name.as_str(), None).render(ctx);
        }
    };
    let uri = repository.uri(&ctx.registry);
    let push_href = ctx.repository_href(name, "push-commands");
    let body = html! {
        div class="page-head" {
            h1 { (name) }
            div class="actions" {
                a class="button" href=(push_href) data-dialog="push-commands" aria-haspopup="dialog" { "View push commands" }
                a class="button" href=(ctx.repository_href(name, "edit")) { "Edit" }
                a class="button danger" href=(ctx.repository_href(name, "delete")) { "Delete repository" }
            }
        }
        section class="panel" aria-labelledby="summary-h" {
            h2 id="summary-h" { "Repository details" }
            dl class="details" {
                div { dt { "URI" } dd { code class="wrap" { (uri) } " " (copy_button(&uri, "repository URI")) } }
                div { dt { "ARN" } dd { code class="wrap" { (repository.arn(&ctx.registry)) } } }
                div { dt { "Created at" } dd { (time(repository.created_at)) } }
                div { dt { "Tag immutability" } dd { (tag_mutability(&repository.tag_mutability)) } }
                div { dt { "Scan on push" } dd { (enabled(repository.scan_on_push)) } }
                div { dt { "Encryption type" } dd { (encryption(&repository.encryption)) } }
            }
        }
        (permissions::tabs(ctx, name, ""))
        section class="panel" aria-labelledby="images-h" {
            form method="get" action=(Ctx::repository_path(name, "delete-images")) {
                input type="hidden" name="region" value=(ctx.region);
                div class="panel-head" {
                    h2 id="images-h" { "Images " span class="count" data-live-count="images" { "(" (count) ")" } }
                    div class="actions" {
                        span class="live-note" { span class="live-dot" aria-hidden="true" {} " Live: new pushes appear here" }
                        " "
                        button type="submit" class="danger" { "Delete selected" }
                    }
                }
                p class="visually-hidden" id="live-status" aria-live="polite" {}
                div class="table-wrap" {
                    table class="grid images" id="images" {
                        caption class="visually-hidden" { "Images in " (name) ", newest first" }
                        thead { tr {
                            th scope="col" { span class="visually-hidden" { "Select" } }
                            th scope="col" { "Image tags" } th scope="col" { "Type" } th scope="col" { "Pushed at" }
                            th scope="col" { "Size" } th scope="col" { "Image digest" } th scope="col" { "Scan status" }
                            th scope="col" { "Vulnerabilities" }
                        } }
                        tbody id="images-body" data-live=(ctx.repository_href(name, "images.json")) data-fingerprint=(live::fingerprint(&rows)) data-count-of="images" { (rows) }
                    }
                }
            }
        }
        dialog id="push-commands" aria-labelledby="push-commands-h" {
            (push_commands::section(ctx, &repository))
            form method="dialog" class="dialog-actions" { button type="submit" class="primary" { "Close" } }
        }
    };
    let mut page = repository_crumbs(Page::new(name.as_str()), ctx, name, None).body(body);
    if let Some(flash) = notice(ctx, name) {
        page = page.flash(flash);
    }
    page.render(ctx)
}

/// The Images tab's rows, newest first (as the page and the live updates show them), and their count.
pub(super) fn image_rows(ctx: &Ctx, repository: &Repository) -> (Markup, usize) {
    let name = &repository.name;
    let mut images: Vec<&Image> = repository.images.values().collect();
    images.sort_by(|a, b| b.pushed_at.cmp(&a.pushed_at).then_with(|| a.digest.cmp(&b.digest)));
    let rows = html! {
        @for image in &images {
            @let digest = image.digest.as_str();
            @let details = ctx.repository_href(name, &format!("image/{digest}"));
            @let tag_list: Vec<&str> = image.tags.iter().map(|t| t.as_str()).collect();
            @let label = if tag_list.is_empty() { "untagged image".to_owned() } else { format!("image {}", tag_list.join(", ")) };
            @let label_short = format!("{label} ({})", &digest[..19.min(digest.len())]);
            @let scan = repository.scans.get(&image.digest);
            tr data-key={ (digest) " " (tag_list.join(",")) } data-label=(label) {
                td { input type="checkbox" name="imageDigest" value=(digest) id={ "select-" (digest) } aria-label={ "Select " (label_short) }; }
                td {
                    @if tag_list.is_empty() { a href=(details) { em { "<untagged>" } } }
                    @for (i, tag) in tag_list.iter().enumerate() { @if i > 0 { ", " } a href=(details) { (tag) } }
                }
                td { (image::kind(image)) }
                td { (time(image.pushed_at)) }
                td { (size(image.size)) }
                td { code class="digest" { (digest) } " " (copy_button(digest, &format!("digest of {label}"))) }
                td { (image::status_text(scan)) }
                td {
                    (image::summary(scan)) " "
                    a href=(ctx.repository_href(name, &format!("image/{digest}/findings"))) {
                        "Findings" span class="visually-hidden" { " for " (label_short) }
                    }
                }
            }
        }
        @if images.is_empty() {
            tr class="empty" {
                td colspan="8" {
                    "No images yet. " a href=(ctx.repository_href(name, "push-commands")) data-dialog="push-commands" { "View push commands" } " to push one."
                }
            }
        }
    };
    (rows, images.len())
}

/// The lifecycle policy tab: the stored policy and when the lab clock last ran it (read-only; no
/// editor or preview here yet).
fn lifecycle_page(ctx: &Ctx, repository: &Repository) -> Response {
    let name = &repository.name;
    let body = html! {
        h1 { (name) }
        (permissions::tabs(ctx, name, "lifecycle"))
        section class="panel" aria-labelledby="lifecycle-h" {
            h2 id="lifecycle-h" { "Lifecycle policy" }
            @match &repository.lifecycle_policy {
                Some(text) => {
                    p {
                        @match repository.lifecycle_evaluated_at {
                            Some(at) => { "Last evaluated " (time(at)) "." }
                            None => "Not evaluated yet: the lab runs it when its clock advances.",
                        }
                    }
                    pre class="manifest" tabindex="0" aria-label="Lifecycle policy" { code { (permissions::pretty_json(text)) } }
                }
                None => p {
                    "No lifecycle policy. Put one with " code { "aws ecr put-lifecycle-policy" }
                    "; the lab runs it when its clock advances."
                },
            }
        }
    };
    repository_crumbs(Page::new(format!("{name}: lifecycle policy")), ctx, name, Some("Lifecycle policy"))
        .body(body)
        .render(ctx)
}
