//! `/console/repositories/{name}` and its sub-pages (after `/_/`, which no repository name can
//! contain): the Images tab (live), image details with the manifest, editing tag mutability and scan
//! on push, and the findings and lifecycle pages, ready for the scanning and lifecycle work.

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::Response;

use super::create::{exclusion_filters, mutability_fields};
use super::form::FormData;
use super::html::{copy_button, enabled, esc, readable_json, size, time};
use super::layout::{Flash, Page};
use super::{Ctx, delete, live, push_commands, repository_crumbs, see_other};
use crate::Lab;
use crate::ecr_api::{self, EcrError};
use crate::state::{Image, ImageRef, Repository, RepositoryUpdate, StateError};
use crate::types::{Digest, RepositoryName, WireEnum};

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
        (Sub::Edit, Ok(_)) => with_repository(&lab, &ctx, &name, |ctx, r| edit_page(ctx, r, None, None)),
        (Sub::DeleteImages, Ok(_)) => delete::images_confirm(&lab, &ctx, &name),
        (Sub::Delete, Ok(_)) => with_repository(&lab, &ctx, &name, |ctx, r| delete::repository_confirm(ctx, r, None)),
        (Sub::Lifecycle, Ok(_)) => with_repository(&lab, &ctx, &name, lifecycle_page),
        (Sub::Image(digest), Ok(_)) => image_page(&lab, &ctx, &name, digest, false),
        (Sub::Findings(digest), Ok(_)) => image_page(&lab, &ctx, &name, digest, true),
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
        Some(Sub::Edit) => edit_submit(&lab, &ctx, &name, &form).await,
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

/// Renders `page` for the repository, or ECR's RepositoryNotFound banner.
fn with_repository(
    lab: &Lab,
    ctx: &Ctx,
    name: &RepositoryName,
    page: impl FnOnce(&Ctx, &Repository) -> Response,
) -> Response {
    let repository = lab.read(|state| state.repository(&ctx.registry, name).cloned());
    match repository {
        Ok(repository) => page(ctx, &repository),
        Err(error) => Page::error(name.as_str(), ctx, &error.into()).crumb(name.as_str(), None).render(ctx),
    }
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

/// `Image`, `Image Index`, or an artifact's type, from the manifest's media type.
fn kind(image: &Image) -> String {
    match image.media_type.as_str() {
        "application/vnd.oci.image.index.v1+json" | "application/vnd.docker.distribution.manifest.list.v2+json" => {
            "Image Index".into()
        }
        _ => match &image.artifact_type {
            Some(artifact) if image.subject.is_some() => artifact.clone(),
            _ => "Image".into(),
        },
    }
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
            r#"<tr data-key="{digest} {tags_key}" data-label="{label}"><td><input type="checkbox" name="imageDigest" value="{digest}" id="select-{digest}" aria-label="Select {label_short}"></td><td>{tags}</td><td>{kind}</td><td>{pushed}</td><td>{size}</td><td><code class="digest">{digest}</code> {copy}</td><td>Not scanned</td><td><span aria-hidden="true">—</span><span class="visually-hidden">no findings</span> <a href="{findings}">Findings<span class="visually-hidden"> for {label_short}</span></a></td></tr>"#,
            digest = esc(image.digest.as_str()),
            tags_key = esc(&tag_list.join(",")),
            label = esc(&label),
            label_short = esc(&format!("{label} ({})", &image.digest.as_str()[..19.min(image.digest.as_str().len())])),
            kind = esc(&kind(image)),
            pushed = time(image.pushed_at),
            size = size(image.size),
            copy = copy_button(image.digest.as_str(), &format!("digest of {label}")),
            findings = esc(&ctx.repository_href(name, &format!("image/{}/findings", image.digest))),
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

/// An image's details and manifest, or (with `findings`) its scan findings.
fn image_page(lab: &Lab, ctx: &Ctx, name: &RepositoryName, digest: &str, findings: bool) -> Response {
    let found = lab.read(|state| {
        let repository = state.repository(&ctx.registry, name)?;
        let image = Digest::parse(digest).ok().and_then(|d| repository.images.get(&d).cloned());
        image.map(|image| (repository.uri(&ctx.registry), image)).ok_or_else(|| StateError::ImageNotFound {
            image: ImageRef { digest: Some(digest.to_owned()), tag: None },
            name: name.clone(),
            registry: ctx.registry.account.clone(),
        })
    });
    let (uri, image) = match found {
        Ok(found) => found,
        Err(error) => {
            return repository_crumbs(Page::error("Image", ctx, &error.into()), ctx, name, Some("Image")).render(ctx);
        }
    };
    let label = image.tags.first().map(|t| t.to_string()).unwrap_or_else(|| image.digest.to_string());
    if findings {
        return findings_page(ctx, name, &image, &label);
    }
    let tags = if image.tags.is_empty() {
        "<em>&lt;untagged&gt;</em>".to_owned()
    } else {
        image.tags.iter().map(|t| format!("<code>{}</code>", esc(t.as_str()))).collect::<Vec<_>>().join(", ")
    };
    let pull = match image.tags.first() {
        Some(tag) => format!("docker pull {uri}:{tag}"),
        None => format!("docker pull {uri}@{}", image.digest),
    };
    let manifest = readable_json(&image.manifest);
    let body = format!(
        r#"<h1>{name}:{label}</h1>
<section class="panel" aria-labelledby="image-h">
<h2 id="image-h">Details</h2>
<dl class="details">
<div><dt>Image tags</dt><dd>{tags}</dd></div>
<div><dt>Image digest</dt><dd><code class="digest">{digest}</code> {copy_digest}</dd></div>
<div><dt>URI</dt><dd><code class="wrap">{uri_digest}</code> {copy_uri}</dd></div>
<div><dt>Pushed at</dt><dd>{pushed}</dd></div>
<div><dt>Size</dt><dd>{size}</dd></div>
<div><dt>Type</dt><dd>{kind}</dd></div>
<div><dt>Manifest media type</dt><dd><code class="wrap">{media_type}</code></dd></div>
<div><dt>Artifact media type</dt><dd><code class="wrap">{artifact}</code></dd></div>
<div><dt>Scan status</dt><dd>Not scanned <a href="{findings}">Findings</a></dd></div>
</dl>
<p><span class="muted">Pull it:</span> <code class="wrap">{pull}</code> {copy_pull}</p>
</section>
<section class="panel" aria-labelledby="manifest-h">
<h2 id="manifest-h">Manifest</h2>
<p class="hint">Stored byte for byte as pushed: the digest is the sha256 of those bytes (a compact manifest is shown indented).</p>
<pre class="manifest" tabindex="0" aria-label="Image manifest"><code>{manifest}</code></pre>
</section>"#,
        name = esc(name.as_str()),
        label = esc(&label),
        digest = esc(image.digest.as_str()),
        copy_digest = copy_button(image.digest.as_str(), "image digest"),
        uri_digest = esc(&format!("{uri}@{}", image.digest)),
        copy_uri = copy_button(&format!("{uri}@{}", image.digest), "image URI"),
        pushed = time(image.pushed_at),
        size = size(image.size),
        kind = esc(&kind(&image)),
        media_type = esc(&image.media_type),
        artifact = esc(image.artifact_media_type.as_deref().unwrap_or("—")),
        findings = esc(&ctx.repository_href(name, &format!("image/{}/findings", image.digest))),
        pull = esc(&pull),
        copy_pull = copy_button(&pull, "pull command"),
        manifest = esc(&manifest),
    );
    repository_crumbs(Page::new(format!("{name}:{label}")), ctx, name, Some(&label)).body(body).render(ctx)
}

/// Scan findings of an image. The lab does not scan yet, so this says so; the link is in place.
fn findings_page(ctx: &Ctx, name: &RepositoryName, image: &Image, label: &str) -> Response {
    let body = format!(
        r#"<h1>Vulnerabilities: {name}:{label}</h1>
<section class="panel" aria-labelledby="scan-h">
<h2 id="scan-h">Scan status</h2>
<dl class="details">
<div><dt>Image digest</dt><dd><code class="digest">{digest}</code></dd></div>
<div><dt>Scan status</dt><dd>Not scanned</dd></div>
<div><dt>Findings</dt><dd><span class="severity">Critical —</span> <span class="severity">High —</span> <span class="severity">Medium —</span> <span class="severity">Low —</span> <span class="severity">Informational —</span></dd></div>
</dl>
<p>This lab does not scan images yet. Once image scanning is part of the lab, the findings of each scan appear here, by severity.</p>
<p><a href="{back}">Back to the image</a></p>
</section>"#,
        name = esc(name.as_str()),
        label = esc(label),
        digest = esc(image.digest.as_str()),
        back = esc(&ctx.repository_href(name, &format!("image/{}", image.digest))),
    );
    repository_crumbs(Page::new(format!("Vulnerabilities: {name}:{label}")), ctx, name, Some("Vulnerabilities"))
        .body(body)
        .render(ctx)
}

/// The lifecycle policy tab. Lifecycle policies are not in the lab yet; the page is in place.
fn lifecycle_page(ctx: &Ctx, repository: &Repository) -> Response {
    let name = &repository.name;
    let body = format!(
        r#"<h1>{name}</h1>
<nav class="tabs" aria-label="Repository sections"><a href="{images}">Images</a> <a href="{lifecycle}" aria-current="page">Lifecycle policy</a></nav>
<section class="panel" aria-labelledby="lifecycle-h">
<h2 id="lifecycle-h">Lifecycle policy</h2>
<p>No lifecycle policy. This lab does not evaluate lifecycle policies yet; once it does, their rules, a preview and an editor appear here.</p>
</section>"#,
        name = esc(name.as_str()),
        images = esc(&ctx.repository_href(name, "")),
        lifecycle = esc(&ctx.repository_href(name, "lifecycle")),
    );
    repository_crumbs(Page::new(format!("{name}: lifecycle policy")), ctx, name, Some("Lifecycle policy"))
        .body(body)
        .render(ctx)
}

const EDIT_TITLE: &str = "Edit repository";

/// The edit form: tag mutability (with exclusion filters) and scan on push. `form` refills it after
/// a refusal.
fn edit_page(ctx: &Ctx, repository: &Repository, form: Option<&FormData>, error: Option<&EcrError>) -> Response {
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
    let body = format!(
        r#"<h1>{EDIT_TITLE}: {name_text}</h1>
<form method="post" action="{action}" class="stack">
{mutability}
<section class="panel" aria-labelledby="scan-h">
<h2 id="scan-h">Image scan settings</h2>
<div class="check"><input type="checkbox" id="scanOnPush" name="scanOnPush" value="true"{checked}><label for="scanOnPush">Scan on push</label></div>
</section>
<section class="panel" aria-labelledby="encryption-h">
<h2 id="encryption-h">Encryption settings</h2>
<p>{encryption}</p>
<p class="hint">Encryption is chosen when the repository is created and cannot be changed.</p>
</section>
<div class="form-actions"><a class="button" href="{cancel}">Cancel</a> <button type="submit" class="primary">Save</button></div>
</form>"#,
        name_text = esc(name.as_str()),
        action = esc(&ctx.repository_href(name, "edit")),
        mutability = mutability_fields(&mode, &filters),
        checked = if scan { " checked" } else { "" },
        encryption = super::html::encryption(&repository.encryption),
        cancel = esc(&ctx.repository_href(name, "")),
    );
    let mut page = repository_crumbs(Page::new(format!("{EDIT_TITLE}: {name}")), ctx, name, Some("Edit")).body(body);
    if let Some(error) = error {
        page = page.flash(Flash::ecr(error)).status(StatusCode::BAD_REQUEST);
    }
    page.render(ctx)
}

fn scan_on_push(form: &FormData) -> bool {
    form.first_of(&["scanOnPush", "imageScanningConfiguration.scanOnPush"])
        .is_some_and(|v| v.eq_ignore_ascii_case("true") || v.eq_ignore_ascii_case("on"))
}

/// PutImageTagMutability and PutImageScanningConfiguration in one save, with the API's checks.
async fn edit_submit(lab: &Lab, ctx: &Ctx, name: &RepositoryName, form: &FormData) -> Response {
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
