//! Evaluators that ask the registry through the ECR API: a repository and its settings, an image,
//! an image's scan findings. An error other than "not found" is `CannotCheck`, never "does not exist".

use mock_registry::types::{ScanStatus, Severity};
use mock_registry::types::{TagMutability, WireEnum as _};

use super::{CheckOutcome, Context};
use crate::lesson::check::{FindingsCheck, ImageCheck, ImagesCheck, RepositoryCheck, Wire, short_digest};

/// How long a `scan.findings` check waits for a scan still IN_PROGRESS.
const SCAN_WAIT: std::time::Duration = std::time::Duration::from_secs(10);

pub async fn repository(c: &RepositoryCheck, cx: &Context<'_>) -> CheckOutcome {
    let name = cx.fill(&c.name);
    let ecr = cx.tools.backend().ecr(c.region.as_deref());
    let found = ecr.describe_repositories().repository_names(&name).send().await;
    let repository = match found {
        Ok(found) => found.repositories().first().cloned(),
        Err(e) if e.as_service_error().is_some_and(|s| s.is_repository_not_found_exception()) => None,
        // Access denied, throttling, the network: say so, not "does not exist".
        Err(e) => {
            return CheckOutcome::CannotCheck(crate::backend::explain::sdk("DescribeRepositories", &e).to_string());
        }
    };
    let r = match (repository, c.exists.unwrap_or(true)) {
        (None, true) => return CheckOutcome::NotYet(format!("repository {name} does not exist yet")),
        (Some(_), false) => return CheckOutcome::NotYet(format!("repository {name} still exists")),
        (None, false) => return CheckOutcome::Pass,
        (Some(r), true) => r,
    };
    if let Some(want) = c.scan_on_push {
        let has = r.image_scanning_configuration().is_some_and(|s| s.scan_on_push());
        if has != want {
            return CheckOutcome::NotYet(format!("scan on push is {} on {name}", if has { "on" } else { "off" }));
        }
    }
    if let Some(want) = &c.encryption {
        let has = r.encryption_configuration().map(|e| e.encryption_type().as_str().to_owned()).unwrap_or_default();
        if !has.eq_ignore_ascii_case(want) {
            return CheckOutcome::NotYet(format!(
                "{name} is encrypted with {has}, not {want} (encryption is set when a repository is created: delete it and create it again)"
            ));
        }
    }
    match &c.tag_mutability {
        None => CheckOutcome::Pass,
        Some(Wire::Unknown(want)) => CheckOutcome::CannotCheck(format!(
            "tag_mutability {want} is not one of {} (the lesson needs fixing)",
            TagMutability::value_set()
        )),
        Some(Wire::Known(want)) => {
            let has = r.image_tag_mutability().map(|m| m.as_str().to_owned()).unwrap_or_default();
            CheckOutcome::pass_if(TagMutability::from_wire(&has) == Some(*want), || {
                format!("tag mutability of {name} is {has}, not {}", want.wire())
            })
        }
    }
}

pub async fn image(c: &ImageCheck, cx: &Context<'_>) -> CheckOutcome {
    let ecr = cx.tools.backend().ecr(c.region.as_deref());
    let mut request = ecr.describe_images().repository_name(cx.fill(&c.repo));
    let want_digest = c.digest.as_deref().map(|d| cx.fill(d));
    match (&c.tag, &want_digest) {
        (Some(tag), _) => {
            request = request.image_ids(aws_sdk_ecr::types::ImageIdentifier::builder().image_tag(cx.fill(tag)).build());
        }
        (None, Some(digest)) => {
            request = request.image_ids(aws_sdk_ecr::types::ImageIdentifier::builder().image_digest(digest).build());
        }
        (None, None) => {}
    }
    let detail = match request.send().await {
        Ok(found) => found.image_details().first().cloned(),
        Err(e)
            if e.as_service_error()
                .is_some_and(|s| s.is_repository_not_found_exception() || s.is_image_not_found_exception()) =>
        {
            None
        }
        Err(e) => return CheckOutcome::CannotCheck(crate::backend::explain::sdk("DescribeImages", &e).to_string()),
    };
    let what = format!("{}:{}", cx.fill(&c.repo), c.tag.as_deref().map(|t| cx.fill(t)).unwrap_or_else(|| "*".into()));
    match (detail, c.exists.unwrap_or(true)) {
        (None, true) => CheckOutcome::NotYet(format!("image {what} is not in the registry yet")),
        (None, false) => CheckOutcome::Pass,
        (Some(d), _) if c.tag.is_some() && want_digest.as_deref().is_some_and(|w| d.image_digest() != Some(w)) => {
            let has = short_digest(d.image_digest().unwrap_or_default());
            let want = short_digest(want_digest.as_deref().unwrap_or_default());
            CheckOutcome::pass_if(c.exists == Some(false), || {
                format!("{what} names image {has}, not {want}: tag and push the right image")
            })
        }
        (Some(_), false) => CheckOutcome::NotYet(format!("image {what} is still in the registry")),
        (Some(d), true) => {
            let pushed =
                d.image_pushed_at().map(|t| t.secs() as f64 + f64::from(t.subsec_nanos()) / 1e9).unwrap_or(0.0);
            let stale = c.pushed_after.as_deref() == Some("stage_start") && pushed + 0.001 < cx.started_at;
            CheckOutcome::pass_if(!stale, || format!("image {what} was pushed before this stage began; push it again"))
        }
    }
}

pub async fn images(c: &ImagesCheck, cx: &Context<'_>) -> CheckOutcome {
    let repo = cx.fill(&c.repo);
    let ecr = cx.tools.backend().ecr(c.region.as_deref());
    let found = ecr.list_images().repository_name(&repo).into_paginator().items().send().collect::<Vec<_>>().await;
    let mut ids = Vec::new();
    for id in found {
        match id {
            Ok(id) => ids.push(id),
            Err(e) if e.as_service_error().is_some_and(|s| s.is_repository_not_found_exception()) => {
                return CheckOutcome::NotYet(format!("repository {repo} does not exist yet"));
            }
            Err(e) => return CheckOutcome::CannotCheck(crate::backend::explain::sdk("ListImages", &e).to_string()),
        }
    }
    // ListImages lists one entry per tag; an image is a digest.
    let mut digests: Vec<(&str, bool)> =
        ids.iter().filter_map(|id| id.image_digest().map(|d| (d, id.image_tag().is_some()))).collect();
    digests.sort();
    let mut images: Vec<(&str, bool)> = Vec::new();
    for (digest, tagged) in digests {
        match images.last_mut() {
            Some((last, any_tag)) if *last == digest => *any_tag |= tagged,
            _ => images.push((digest, tagged)),
        }
    }
    let untagged = images.iter().filter(|(_, tagged)| !tagged).count();
    if let Some(want) = c.count.filter(|want| *want != images.len()) {
        return CheckOutcome::NotYet(format!("{repo} holds {} images, not {want}", images.len()));
    }
    CheckOutcome::pass_if(c.untagged.is_none_or(|want| want == untagged), || {
        format!("{repo} holds {untagged} untagged images, not {}", c.untagged.unwrap_or_default())
    })
}

pub async fn findings(c: &FindingsCheck, cx: &Context<'_>) -> CheckOutcome {
    let min = match c.min_severity() {
        Ok(min) => min,
        Err(written) => {
            let all: Vec<&str> = Severity::ALL.iter().rev().map(|s| s.wire()).collect();
            return CheckOutcome::CannotCheck(format!(
                "min_severity {written} is not one of {} (the lesson needs fixing)",
                all.join(", ")
            ));
        }
    };
    let tag = c
        .tag
        .as_deref()
        .map(|t| cx.fill(t))
        .unwrap_or_else(|| cx.vars.get("tag").cloned().unwrap_or_else(|| "latest".into()));
    let found = match completed_scan(&cx.fill(&c.repo), &tag, cx).await {
        Ok(found) => found,
        Err(outcome) => return outcome,
    };
    let counts = found.image_scan_findings().and_then(|f| f.finding_severity_counts());
    let enough = counts
        .into_iter()
        .flatten()
        .any(|(severity, n)| *n > 0 && Severity::parse(severity.as_str()).is_some_and(|s| s >= min));
    CheckOutcome::pass_if(enough, || {
        format!("the scan of {}:{tag} found nothing of severity {} or higher", cx.fill(&c.repo), min.wire())
    })
}

/// The image's scan once COMPLETE. A scan takes moments; one still running when the check looks is
/// waited for a little, as `aws ecr wait image-scan-complete` would.
async fn completed_scan(
    repo: &str,
    tag: &str,
    cx: &Context<'_>,
) -> Result<aws_sdk_ecr::operation::describe_image_scan_findings::DescribeImageScanFindingsOutput, CheckOutcome> {
    let what = format!("{repo}:{tag}");
    let ecr = cx.tools.backend().ecr(None);
    let deadline = std::time::Instant::now() + SCAN_WAIT;
    loop {
        let found = ecr
            .describe_image_scan_findings()
            .repository_name(repo)
            .image_id(aws_sdk_ecr::types::ImageIdentifier::builder().image_tag(tag).build())
            .send()
            .await;
        let found = match found {
            Ok(found) => found,
            Err(e) => {
                use aws_sdk_ecr::error::ProvideErrorMetadata as _;
                return Err(match e.code() {
                    Some("ScanNotFoundException") => CheckOutcome::NotYet(format!(
                        "{what} has not been scanned (turn on scan on push and push it, or run aws ecr start-image-scan)"
                    )),
                    Some(code) => CheckOutcome::CannotCheck(format!(
                        "the scan of {what} cannot be read: {code}: {}",
                        e.message().unwrap_or_default()
                    )),
                    None => CheckOutcome::CannotCheck(format!("the scan of {what} cannot be read: {e}")),
                });
            }
        };
        let status = found.image_scan_status().and_then(|s| s.status()).map(|s| s.as_str().to_owned());
        match status.as_deref().map(|text| (text, scan_status(text))) {
            Some((_, Some(ScanStatus::Complete))) => return Ok(found),
            Some((_, Some(ScanStatus::InProgress))) | None if std::time::Instant::now() < deadline => {
                tokio::time::sleep(std::time::Duration::from_millis(100)).await;
            }
            Some((_, Some(ScanStatus::InProgress))) | None => {
                return Err(CheckOutcome::NotYet(format!("the scan of {what} is still in progress")));
            }
            Some((other, _)) => {
                let why = found.image_scan_status().and_then(|s| s.description()).unwrap_or_default();
                return Err(CheckOutcome::NotYet(format!("the scan of {what} is {other}: {why}")));
            }
        }
    }
}

/// `imageScanStatus.status` as the mock's enum (`None` for a status basic scanning does not have).
fn scan_status(text: &str) -> Option<ScanStatus> {
    [ScanStatus::InProgress, ScanStatus::Complete, ScanStatus::Failed].into_iter().find(|s| s.wire() == text)
}
