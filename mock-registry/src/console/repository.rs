//! `/console/repositories/{name}` and its sub-pages (after `/_/`, which no repository name can
//! contain): which page a path names, the repository page with its Images tab (live), and the
//! lifecycle tab (the stored policy, read-only).

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::Response;

use super::form::FormData;
use super::html::{copy_button, enabled, esc, size, time};
use super::layout::{Flash, Page};
use super::{Ctx, delete, image, live, push_commands, repository_crumbs, settings, with_repository};
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
        _ => not_found(&ctx),
    }
}

fn not_found(ctx: &Ctx) -> Response {
    let body = format!(
        r#"<h1>Page not found</h1><p>The console has no page at <code>{}</code>.</p><p><a href="{}">Back to private repositories</a></p>"#,
        esc(&ctx.path),
        esc(&ctx.href("/console/repositories"))
    );
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
    let body = format!(
        r#"<div class="page-head">
<h1>{name}</h1>
<div class="actions">
<a class="button" href="{push_href}" data-dialog="push-commands" aria-haspopup="dialog">View push commands</a>
<a class="button" href="{edit_href}">Edit</a>
<a class="button danger" href="{delete_href}">Delete repository</a>
</div>
</div>
<section class="panel" aria-labelledby="summary-h">
<h2 id="summary-h">Repository details</h2>
<dl class="details">
<div><dt>URI</dt><dd><code class="wrap">{uri_text}</code> {copy_uri}</dd></div>
<div><dt>ARN</dt><dd><code class="wrap">{arn}</code></dd></div>
<div><dt>Created at</dt><dd>{created}</dd></div>
<div><dt>Tag immutability</dt><dd>{mutability}</dd></div>
<div><dt>Scan on push</dt><dd>{scan}</dd></div>
<div><dt>Encryption type</dt><dd>{encryption}</dd></div>
</dl>
</section>
<nav class="tabs" aria-label="Repository sections"><a href="{images_href}" aria-current="page">Images</a> <a href="{lifecycle_href}">Lifecycle policy</a></nav>
<section class="panel" aria-labelledby="images-h">
<form method="get" action="{delete_images_action}">
<input type="hidden" name="region" value="{region}">
<div class="panel-head">
<h2 id="images-h">Images <span class="count" data-live-count="images">({count})</span></h2>
<div class="actions"><span class="live-note"><span class="live-dot" aria-hidden="true"></span> Live: new pushes appear here</span> <button type="submit" class="danger">Delete selected</button></div>
</div>
<p class="visually-hidden" id="live-status" aria-live="polite"></p>
<div class="table-wrap">
<table class="grid images" id="images">
<caption class="visually-hidden">Images in {name}, newest first</caption>
<thead><tr><th scope="col"><span class="visually-hidden">Select</span></th><th scope="col">Image tags</th><th scope="col">Type</th><th scope="col">Pushed at</th><th scope="col">Size</th><th scope="col">Image digest</th><th scope="col">Scan status</th><th scope="col">Vulnerabilities</th></tr></thead>
<tbody id="images-body" data-live="{live}" data-fingerprint="{fingerprint}" data-count-of="images">{rows}</tbody>
</table>
</div>
</form>
</section>
<dialog id="push-commands" aria-labelledby="push-commands-h">
{push_commands}
<form method="dialog" class="dialog-actions"><button type="submit" class="primary">Close</button></form>
</dialog>"#,
        name = esc(name.as_str()),
        push_href = esc(&ctx.repository_href(name, "push-commands")),
        edit_href = esc(&ctx.repository_href(name, "edit")),
        delete_href = esc(&ctx.repository_href(name, "delete")),
        uri_text = esc(&uri),
        copy_uri = copy_button(&uri, "repository URI"),
        arn = esc(&repository.arn(&ctx.registry)),
        created = time(repository.created_at),
        mutability = super::html::tag_mutability(&repository.tag_mutability),
        scan = enabled(repository.scan_on_push),
        encryption = super::html::encryption(&repository.encryption),
        images_href = esc(&ctx.repository_href(name, "")),
        lifecycle_href = esc(&ctx.repository_href(name, "lifecycle")),
        delete_images_action = esc(&Ctx::repository_path(name, "delete-images")),
        region = esc(ctx.region.as_str()),
        live = esc(&ctx.repository_href(name, "images.json")),
        fingerprint = live::fingerprint(&rows),
        push_commands = push_commands::section(ctx, &repository),
    );
    let mut page = repository_crumbs(Page::new(name.as_str()), ctx, name, None).body(body);
    if let Some(flash) = notice(ctx, name) {
        page = page.flash(flash);
    }
    page.render(ctx)
}

/// The Images tab's rows, newest first (as the page and the live updates show them), and their count.
pub(super) fn image_rows(ctx: &Ctx, repository: &Repository) -> (String, usize) {
    let name = &repository.name;
    let mut images: Vec<&Image> = repository.images.values().collect();
    images.sort_by(|a, b| b.pushed_at.cmp(&a.pushed_at).then_with(|| a.digest.cmp(&b.digest)));
    let mut out = String::new();
    for image in &images {
        let details = ctx.repository_href(name, &format!("image/{}", image.digest));
        let tags = if image.tags.is_empty() {
            format!(r#"<a href="{}"><em>&lt;untagged&gt;</em></a>"#, esc(&details))
        } else {
            let links: Vec<String> =
                image.tags.iter().map(|t| format!(r#"<a href="{}">{}</a>"#, esc(&details), esc(t.as_str()))).collect();
            links.join(", ")
        };
        let tag_list: Vec<&str> = image.tags.iter().map(|t| t.as_str()).collect();
        let label =
            if tag_list.is_empty() { "untagged image".to_owned() } else { format!("image {}", tag_list.join(", ")) };
        out.push_str(&format!(
            r#"<tr data-key="{digest} {tags_key}" data-label="{label}"><td><input type="checkbox" name="imageDigest" value="{digest}" id="select-{digest}" aria-label="Select {label_short}"></td><td>{tags}</td><td>{kind}</td><td>{pushed}</td><td>{size}</td><td><code class="digest">{digest}</code> {copy}</td><td>{scan_status}</td><td>{summary} <a href="{findings}">Findings<span class="visually-hidden"> for {label_short}</span></a></td></tr>"#,
            digest = esc(image.digest.as_str()),
            tags_key = esc(&tag_list.join(",")),
            label = esc(&label),
            label_short = esc(&format!("{label} ({})", &image.digest.as_str()[..19.min(image.digest.as_str().len())])),
            kind = esc(&image::kind(image)),
            pushed = time(image.pushed_at),
            size = size(image.size),
            copy = copy_button(image.digest.as_str(), &format!("digest of {label}")),
            findings = esc(&ctx.repository_href(name, &format!("image/{}/findings", image.digest))),
            scan_status = image::status_text(repository.scans.get(&image.digest)),
            summary = image::summary(repository.scans.get(&image.digest)),
        ));
    }
    if images.is_empty() {
        out = format!(
            r#"<tr class="empty"><td colspan="8">No images yet. <a href="{}" data-dialog="push-commands">View push commands</a> to push one.</td></tr>"#,
            esc(&ctx.repository_href(name, "push-commands"))
        );
    }
    (out, images.len())
}

/// The lifecycle policy tab: the stored policy and when the lab clock last ran it (read-only; no
/// editor or preview here yet).
fn lifecycle_page(ctx: &Ctx, repository: &Repository) -> Response {
    let name = &repository.name;
    let policy = match &repository.lifecycle_policy {
        Some(text) => {
            let pretty = serde_json::from_str::<serde_json::Value>(text)
                .and_then(|v| serde_json::to_string_pretty(&v))
                .unwrap_or_else(|_| text.clone());
            let evaluated = match repository.lifecycle_evaluated_at {
                Some(at) => format!("Last evaluated {}.", time(at)),
                None => "Not evaluated yet: the lab runs it when its clock advances.".to_owned(),
            };
            format!(
                r#"<p>{evaluated}</p>
<pre class="manifest" tabindex="0" aria-label="Lifecycle policy"><code>{}</code></pre>"#,
                esc(&pretty)
            )
        }
        None => "<p>No lifecycle policy. Put one with <code>aws ecr put-lifecycle-policy</code>; the lab runs it when its clock advances.</p>".to_owned(),
    };
    let body = format!(
        r#"<h1>{name}</h1>
<nav class="tabs" aria-label="Repository sections"><a href="{images}">Images</a> <a href="{lifecycle}" aria-current="page">Lifecycle policy</a></nav>
<section class="panel" aria-labelledby="lifecycle-h">
<h2 id="lifecycle-h">Lifecycle policy</h2>
{policy}
</section>"#,
        name = esc(name.as_str()),
        images = esc(&ctx.repository_href(name, "")),
        lifecycle = esc(&ctx.repository_href(name, "lifecycle")),
    );
    repository_crumbs(Page::new(format!("{name}: lifecycle policy")), ctx, name, Some("Lifecycle policy"))
        .body(body)
        .render(ctx)
}
