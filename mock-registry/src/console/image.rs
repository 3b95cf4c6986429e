//! An image's page: its details, scan status and manifest; and its scan findings page (status,
//! counts by severity, and a findings table linking each advisory).

use axum::response::Response;
use maud::{Markup, html};

use super::html::{copy_button, readable_json, size, time};
use super::layout::Page;
use super::{Ctx, repository_crumbs};
use crate::Lab;
use crate::state::scan::ImageScan;
use crate::state::{Image, ImageRef, StateError};
use crate::types::{Digest, RepositoryName};
use crate::types::{ScanStatus, Severity};

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
        let referrers = image.as_ref().map(|i| referrers_of(repository.images.values(), &i.digest)).unwrap_or_default();
        image.map(|image| (repository.uri(&ctx.registry), image, scan, referrers)).ok_or_else(|| {
            StateError::ImageNotFound {
                image: ImageRef { digest: Some(digest.to_owned()), tag: None },
                name: name.clone(),
                registry: ctx.registry.account.clone(),
            }
        })
    });
    let (uri, image, scan, referrers) = match found {
        Ok(found) => found,
        Err(error) => {
            return repository_crumbs(Page::error("Image", ctx, &error.into()), ctx, name, Some("Image")).render(ctx);
        }
    };
    let label = image.tags.first().map(|t| t.to_string()).unwrap_or_else(|| image.digest.to_string());
    if findings {
        return findings_page(ctx, name, &image, scan.as_ref(), &label);
    }
    let pull = match image.tags.first() {
        Some(tag) => format!("docker pull {uri}:{tag}"),
        None => format!("docker pull {uri}@{}", image.digest),
    };
    let uri_digest = format!("{uri}@{}", image.digest);
    let body = html! {
        h1 { (name) ":" (label) }
        section class="panel" aria-labelledby="image-h" {
            h2 id="image-h" { "Details" }
            dl class="details" {
                div { dt { "Image tags" } dd {
                    @if image.tags.is_empty() { em { "<untagged>" } }
                    @for (i, tag) in image.tags.iter().enumerate() { @if i > 0 { ", " } code { (tag.as_str()) } }
                } }
                div { dt { "Image digest" } dd { code class="digest" { (image.digest) } " " (copy_button(image.digest.as_str(), "image digest")) } }
                div { dt { "URI" } dd { code class="wrap" { (uri_digest) } " " (copy_button(&uri_digest, "image URI")) } }
                div { dt { "Pushed at" } dd { (time(image.pushed_at)) } }
                div { dt { "Size" } dd { (size(image.size)) } }
                div { dt { "Type" } dd { (kind(&image)) } }
                div { dt { "Manifest media type" } dd { code class="wrap" { (image.media_type) } } }
                div { dt { "Artifact media type" } dd { code class="wrap" { (image.artifact_media_type.as_deref().unwrap_or("—")) } } }
                div { dt { "Scan status" } dd {
                    (status_text(scan.as_ref())) " "
                    a href=(ctx.repository_href(name, &format!("image/{}/findings", image.digest))) { "Findings" }
                } }
                div { dt { "Vulnerabilities" } dd { (summary(scan.as_ref())) } }
            }
            p { span class="muted" { "Pull it:" } " " code class="wrap" { (pull) } " " (copy_button(&pull, "pull command")) }
        }
        (referrers_panel(ctx, name, &image, &referrers))
        section class="panel" aria-labelledby="manifest-h" {
            h2 id="manifest-h" { "Manifest" }
            p class="hint" { "Stored byte for byte as pushed: the digest is the sha256 of those bytes (a compact manifest is shown indented)." }
            pre class="manifest" tabindex="0" aria-label="Image manifest" { code { (readable_json(&image.manifest)) } }
        }
    };
    repository_crumbs(Page::new(format!("{name}:{label}")), ctx, name, Some(&label)).body(body).render(ctx)
}

/// What refers to the image `digest`: OCI 1.1 referrers (their `subject` is it) and cosign's
/// tag-scheme signatures (tagged `sha256-<hex>.sig`), newest first.
fn referrers_of<'a>(images: impl Iterator<Item = &'a Image>, digest: &Digest) -> Vec<Image> {
    let signature_tag = format!("{}.sig", digest.as_str().replacen(':', "-", 1));
    let mut found: Vec<Image> = images
        .filter(|i| i.subject.as_ref() == Some(digest) || i.tags.iter().any(|t| t.as_str() == signature_tag))
        .cloned()
        .collect();
    found.sort_by_key(|i| std::cmp::Reverse(i.pushed_at));
    found
}

/// A referrer's kind: a cosign signature (simple-signing layers), else its artifact type.
fn referrer_kind(image: &Image) -> String {
    if image.manifest.contains("application/vnd.dev.cosign.simplesigning.v1+json") {
        let count = image.manifest.matches("dev.cosignproject.cosign/signature").count();
        return format!("Signature (cosign, {count} signature{})", if count == 1 { "" } else { "s" });
    }
    image.artifact_type.clone().or_else(|| image.artifact_media_type.clone()).unwrap_or_else(|| "Artifact".into())
}

/// The image's signatures and other referrers, each linked to its own page.
fn referrers_panel(ctx: &Ctx, name: &RepositoryName, image: &Image, referrers: &[Image]) -> Markup {
    let signs = image.subject.as_ref();
    html! {
        section class="panel" aria-labelledby="referrers-h" {
            h2 id="referrers-h" { "Signatures and other referrers" }
            @if let Some(subject) = signs {
                p { "This artifact refers to " a href=(ctx.repository_href(name, &format!("image/{subject}"))) { code class="digest" { (subject) } } "." }
            }
            @if referrers.is_empty() {
                p class="hint" { "Nothing refers to this image: it is not signed. Signatures (cosign's "
                    code { "sha256-<digest>.sig" } ", or OCI 1.1 referrers) would be listed here." }
            } @else {
                table {
                    thead { tr { th { "Type" } th { "Tag" } th { "Digest" } th { "Pushed at" } } }
                    tbody {
                        @for referrer in referrers {
                            tr {
                                td { (referrer_kind(referrer)) }
                                td { @for tag in &referrer.tags { code { (tag.as_str()) } " " } }
                                td { a href=(ctx.repository_href(name, &format!("image/{}", referrer.digest))) { code class="digest" { (referrer.digest) } } }
                                td { (time(referrer.pushed_at)) }
                            }
                        }
                    }
                }
            }
        }
    }
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
pub(super) fn summary(scan: Option<&ImageScan>) -> Markup {
    match scan {
        Some(scan) if scan.status() == ScanStatus::Complete => {
            let counts = scan.severity_counts();
            html! {
                @if counts.is_empty() { "No findings" }
                @for (i, (severity, n)) in counts.iter().enumerate() {
                    @if i > 0 { ", " }
                    span class={ "severity severity-" (severity.wire().to_lowercase()) } { (n) " " (severity_label(*severity)) }
                }
            }
        }
        _ => html! { span aria-hidden="true" { "—" } span class="visually-hidden" { "no findings" } },
    }
}

/// Scan findings of an image: status, counts by severity and the findings table.
fn findings_page(ctx: &Ctx, name: &RepositoryName, image: &Image, scan: Option<&ImageScan>, label: &str) -> Response {
    let result = scan.and_then(|s| s.result.as_ref());
    let table = html! {
        @match (scan, result) {
            (None, _) => p {
                "This image has not been scanned. Scan it with " code { "aws ecr start-image-scan" }
                ", or turn on scan on push for the repository."
            },
            (Some(_), None) => p { "The scan is in progress. Reload this page to see its findings." },
            (Some(_), Some(r)) if r.status == ScanStatus::Failed => {
                p { "The scan failed; its description says why. No findings are reported for a failed scan." }
            }
            (Some(_), Some(r)) if r.findings.is_empty() => p { "The scan found no vulnerabilities in the advisories the lab knows." },
            (Some(_), Some(r)) => div class="table-wrap" {
                table class="grid findings" id="findings" {
                    caption class="visually-hidden" { "Findings, most severe first" }
                    thead { tr {
                        th scope="col" { "Name" } th scope="col" { "Severity" } th scope="col" { "Package" }
                        th scope="col" { "Package version" } th scope="col" { "Description" }
                    } }
                    tbody {
                        @for f in &r.findings {
                            @let attribute = |key: &str| f.attributes.iter().find(|(k, _)| k == key).map(|(_, v)| v.as_str()).unwrap_or("—");
                            tr {
                                th scope="row" { a href=(f.uri) rel="noreferrer" { (f.name) } }
                                td { span class={ "severity severity-" (f.severity.wire().to_lowercase()) } { (severity_label(f.severity)) } }
                                td { code { (attribute("package_name")) } }
                                td { code { (attribute("package_version")) } }
                                td { (f.description) }
                            }
                        }
                    }
                }
            },
        }
    };
    let body = html! {
        h1 { "Vulnerabilities: " (name) ":" (label) }
        section class="panel" aria-labelledby="scan-h" {
            h2 id="scan-h" { "Scan status" }
            dl class="details" {
                div { dt { "Image digest" } dd { code class="digest" { (image.digest) } } }
                div { dt { "Scan status" } dd { (status_text(scan)) } }
                @if let Some(result) = result { div { dt { "Description" } dd { (result.description) } } }
                @if let Some(at) = scan.and_then(|s| s.completed_at) { div { dt { "Scan completed at" } dd { (time(at)) } } }
                div { dt { "Findings" } dd { (summary(scan)) } }
            }
        }
        section class="panel" aria-labelledby="findings-h" {
            h2 id="findings-h" { "Findings" }
            (table)
            p { a href=(ctx.repository_href(name, &format!("image/{}", image.digest))) { "Back to the image" } }
        }
    };
    repository_crumbs(Page::new(format!("Vulnerabilities: {name}:{label}")), ctx, name, Some("Vulnerabilities"))
        .body(body)
        .render(ctx)
}
