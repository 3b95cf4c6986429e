//! An image's page: its details, scan status and manifest; and its scan findings page (status,
//! counts by severity, and a findings table linking each advisory).

use axum::response::Response;

use super::html::{copy_button, esc, readable_json, size, time};
use super::layout::Page;
use super::{Ctx, repository_crumbs};
use crate::Lab;
use crate::state::scan::{ImageScan, ScanStatus, Severity};
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
        let scan = image.as_ref().and_then(|i| repository.scans.get(&i.digest).cloned());
        image.map(|image| (repository.uri(&ctx.registry), image, scan)).ok_or_else(|| StateError::ImageNotFound {
            image: ImageRef { digest: Some(digest.to_owned()), tag: None },
            name: name.clone(),
            registry: ctx.registry.account.clone(),
        })
    });
    let (uri, image, scan) = match found {
        Ok(found) => found,
        Err(error) => {
            return repository_crumbs(Page::error("Image", ctx, &error.into()), ctx, name, Some("Image")).render(ctx);
        }
    };
    let label = image.tags.first().map(|t| t.to_string()).unwrap_or_else(|| image.digest.to_string());
    if findings {
        return findings_page(ctx, name, &image, scan.as_ref(), &label);
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
<div><dt>Scan status</dt><dd>{scan_status} <a href="{findings}">Findings</a></dd></div>
<div><dt>Vulnerabilities</dt><dd>{summary}</dd></div>
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
        scan_status = status_text(scan.as_ref()),
        summary = summary(scan.as_ref()),
        pull = esc(&pull),
        copy_pull = copy_button(&pull, "pull command"),
        manifest = esc(&manifest),
    );
    repository_crumbs(Page::new(format!("{name}:{label}")), ctx, name, Some(&label)).body(body).render(ctx)
}

/// The console's words for a scan's status.
pub(super) fn status_text(scan: Option<&ImageScan>) -> &'static str {
    match scan.map(ImageScan::status) {
        None => "Not scanned",
        Some(ScanStatus::InProgress) => "In progress",
        Some(ScanStatus::Complete) => "Complete",
        Some(ScanStatus::Failed) => "Failed",
    }
}

/// `Critical`, `High`, ... as the console writes severities.
fn severity_label(severity: Severity) -> &'static str {
    match severity {
        Severity::Critical => "Critical",
        Severity::High => "High",
        Severity::Medium => "Medium",
        Severity::Low => "Low",
        Severity::Informational => "Informational",
        Severity::Undefined => "Undefined",
    }
}

/// Counts by severity (`1 Critical, 2 High`), `No findings`, or a dash before a completed scan.
pub(super) fn summary(scan: Option<&ImageScan>) -> String {
    match scan {
        Some(scan) if scan.status() == ScanStatus::Complete => {
            let counts = scan.severity_counts();
            if counts.is_empty() {
                return "No findings".into();
            }
            counts
                .iter()
                .map(|(s, n)| {
                    format!(
                        r#"<span class="severity severity-{}">{n} {}</span>"#,
                        s.wire().to_lowercase(),
                        severity_label(*s)
                    )
                })
                .collect::<Vec<_>>()
                .join(", ")
        }
        _ => r#"<span aria-hidden="true">—</span><span class="visually-hidden">no findings</span>"#.into(),
    }
}

/// Scan findings of an image: status, counts by severity and the findings table.
fn findings_page(ctx: &Ctx, name: &RepositoryName, image: &Image, scan: Option<&ImageScan>, label: &str) -> Response {
    let result = scan.and_then(|s| s.result.as_ref());
    let description = result.map(|r| format!("<div><dt>Description</dt><dd>{}</dd></div>", esc(&r.description)));
    let completed = scan
        .and_then(|s| s.completed_at)
        .map(|t| format!("<div><dt>Scan completed at</dt><dd>{}</dd></div>", time(t)))
        .unwrap_or_default();
    let table = match (scan, result) {
        (None, _) => "<p>This image has not been scanned. Scan it with <code>aws ecr start-image-scan</code>, or turn on scan on push for the repository.</p>".to_owned(),
        (Some(_), None) => "<p>The scan is in progress. Reload this page to see its findings.</p>".to_owned(),
        (Some(_), Some(r)) if r.status == ScanStatus::Failed => {
            "<p>The scan failed; its description says why. No findings are reported for a failed scan.</p>".to_owned()
        }
        (Some(_), Some(r)) if r.findings.is_empty() => "<p>The scan found no vulnerabilities in the advisories the lab knows.</p>".to_owned(),
        (Some(_), Some(r)) => {
            let rows: String = r
                .findings
                .iter()
                .map(|f| {
                    let attribute = |key: &str| {
                        f.attributes.iter().find(|(k, _)| k == key).map(|(_, v)| v.as_str()).unwrap_or("—")
                    };
                    format!(
                        r#"<tr><th scope="row"><a href="{uri}" rel="noreferrer">{name}</a></th><td><span class="severity severity-{class}">{severity}</span></td><td><code>{package}</code></td><td><code>{version}</code></td><td>{description}</td></tr>"#,
                        uri = esc(&f.uri),
                        name = esc(&f.name),
                        class = f.severity.wire().to_lowercase(),
                        severity = severity_label(f.severity),
                        package = esc(attribute("package_name")),
                        version = esc(attribute("package_version")),
                        description = esc(&f.description),
                    )
                })
                .collect();
            format!(
                r#"<div class="table-wrap"><table class="grid findings" id="findings"><caption class="visually-hidden">Findings, most severe first</caption>
<thead><tr><th scope="col">Name</th><th scope="col">Severity</th><th scope="col">Package</th><th scope="col">Package version</th><th scope="col">Description</th></tr></thead>
<tbody>{rows}</tbody></table></div>"#
            )
        }
    };
    let body = format!(
        r#"<h1>Vulnerabilities: {name}:{label}</h1>
<section class="panel" aria-labelledby="scan-h">
<h2 id="scan-h">Scan status</h2>
<dl class="details">
<div><dt>Image digest</dt><dd><code class="digest">{digest}</code></dd></div>
<div><dt>Scan status</dt><dd>{status}</dd></div>
{description}{completed}<div><dt>Findings</dt><dd>{summary}</dd></div>
</dl>
</section>
<section class="panel" aria-labelledby="findings-h">
<h2 id="findings-h">Findings</h2>
{table}
<p><a href="{back}">Back to the image</a></p>
</section>"#,
        name = esc(name.as_str()),
        label = esc(label),
        digest = esc(image.digest.as_str()),
        status = status_text(scan),
        description = description.unwrap_or_default(),
        summary = summary(scan),
        back = esc(&ctx.repository_href(name, &format!("image/{}", image.digest))),
    );
    repository_crumbs(Page::new(format!("Vulnerabilities: {name}:{label}")), ctx, name, Some("Vulnerabilities"))
        .body(body)
        .render(ctx)
}
