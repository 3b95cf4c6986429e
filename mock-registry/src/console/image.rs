//! An image's page: its details and manifest; and its scan findings, a page ready for the
//! scanning work (the lab does not scan yet).

use axum::response::Response;

use super::html::{copy_button, esc, readable_json, size, time};
use super::layout::Page;
use super::{Ctx, repository_crumbs};
use crate::Lab;
use crate::state::{Image, ImageRef, StateError};
use crate::types::{Digest, RepositoryName};

/// `Image`, `Image Index`, or an artifact's type, from the manifest's media type.
pub(super) fn kind(image: &Image) -> String {
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

/// An image's details and manifest, or (with `findings`) its scan findings.
pub(super) fn page(lab: &Lab, ctx: &Ctx, name: &RepositoryName, digest: &str, findings: bool) -> Response {
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
