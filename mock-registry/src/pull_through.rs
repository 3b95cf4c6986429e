//! Pulls through a pull through cache rule. A registry pull of `PREFIX/REPOSITORY:TAG` that the
//! private registry cannot answer, where `PREFIX` is a rule's, is fetched from the rule's upstream
//! (the lab's bundled [`Upstream`](crate::upstream::Upstream), or another of the lab's own ECR
//! registries), cached (the repository is created on the first pull, as ECR does, then the blobs
//! and the manifest are stored), and answered from the cache; later pulls never reach the upstream.

use std::future::Future;
use std::pin::Pin;

use crate::Lab;
use crate::oci_api::error::{OciCode, OciError};
use crate::state::journal::Safety;
use crate::state::manifest;
use crate::state::pull_through::{PullThroughRule, UpstreamKind, ecr_host};
use crate::state::templates::AppliedFor;
use crate::state::{PutMode, RegistryKey, StateError};
use crate::types::{Digest, ImageTag, RepositoryName};

/// Whether a rule's upstream can be reached: the bundled upstream always can; an ECR upstream
/// is one of this lab's registries. The failure text is ValidatePullThroughCacheRule's `failure`.
pub(crate) fn reachable(lab: &Lab, rule: &PullThroughRule) -> Result<(), String> {
    if rule.kind != UpstreamKind::Ecr {
        return Ok(());
    }
    let host = rule.upstream_url.strip_prefix("https://").unwrap_or(&rule.upstream_url);
    let Some(upstream) = ecr_host(host) else { return Err(format!("{host} is not an Amazon ECR registry")) };
    let any = lab.read(|s| s.repositories(&upstream).next().is_some());
    if any { Ok(()) } else { Err(format!("The upstream registry {host} holds no repositories in this lab")) }
}

/// Where an image comes from: the bundled upstream's bytes, or another lab registry's image.
enum Source {
    Bundled { manifest: String, media_type: Option<String>, blobs: Vec<Vec<u8>> },
    Lab { manifest: String, media_type: String, blobs: Vec<(Digest, u64)> },
}

impl Source {
    fn digest(&self) -> Digest {
        match self {
            Source::Bundled { manifest, .. } | Source::Lab { manifest, .. } => Digest::sha256_of(manifest.as_bytes()),
        }
    }
}

/// If `name` falls under a pull through cache rule and the cache lacks `reference`, fetches it
/// from the upstream into the cache. Does nothing otherwise (the caller answers as usual, so an
/// image the upstream lacks is MANIFEST_UNKNOWN as before). `caller` is the access key when IAM
/// evaluates it: the first pull needs `ecr:BatchImportUpstreamImage` (and `ecr:CreateRepository`
/// when the repository is new), as the user guide's "IAM permissions required to sync" says.
pub(crate) async fn fetch(
    lab: &Lab,
    registry: &RegistryKey,
    name: &RepositoryName,
    reference: &str,
    caller: Option<&str>,
) -> Result<(), OciError> {
    let Some((rule, upstream_repository)) = lab.read(|s| s.pull_through_for(registry, name)) else { return Ok(()) };
    match cached(lab, registry, name, reference) {
        Cached::Fresh => Ok(()),
        Cached::Missing => {
            let Some(source) = find(lab, &rule, &upstream_repository, reference) else { return Ok(()) };
            if let Some(key) = caller {
                authorize(lab, key, registry, name)?;
            }
            create_repository(lab, registry, name).await?;
            import(lab, &rule, &upstream_repository, registry, name, source, reference).await
        }
        Cached::Stale(digest) => {
            // The cached tag is older than a day: the upstream's current image for it replaces it.
            // If that fails (an immutable repository), the cached image is served, as on AWS.
            let Some(source) = find(lab, &rule, &upstream_repository, reference) else { return Ok(()) };
            if source.digest() != digest {
                let _ = import(lab, &rule, &upstream_repository, registry, name, source, reference).await;
            }
            Ok(())
        }
    }
}

/// The IAM actions a first pull through a rule needs of an evaluated caller.
fn authorize(lab: &Lab, key: &str, registry: &RegistryKey, name: &RepositoryName) -> Result<(), OciError> {
    let exists = lab.read(|s| s.repository(registry, name).is_ok());
    let actions: &[&str] = if exists {
        &["ecr:BatchImportUpstreamImage"]
    } else {
        &["ecr:BatchImportUpstreamImage", "ecr:CreateRepository"]
    };
    for action in actions {
        lab.read(|s| s.authorize(key, action, registry, Some(name.as_str())))
            .map_err(|denial| OciError::new(OciCode::Denied, denial))?;
    }
    Ok(())
}

/// How often ECR looks upstream for a newer image of a cached tag (the user guide: "at least once
/// every 24 hours"); on the lab clock, so `ecr-lab clock advance 25h` makes the next pull look.
const RECHECK_MILLIS: i64 = 24 * 60 * 60 * 1000;

enum Cached {
    Missing,
    Fresh,
    /// A tag cached more than a day ago, and the digest it holds.
    Stale(Digest),
}

fn cached(lab: &Lab, registry: &RegistryKey, name: &RepositoryName, reference: &str) -> Cached {
    lab.read(|s| {
        let Ok(repository) = s.repository(registry, name) else { return Cached::Missing };
        if reference.contains(':') {
            let held = Digest::parse(reference).ok().is_some_and(|d| repository.images.contains_key(&d));
            return if held { Cached::Fresh } else { Cached::Missing };
        }
        let Some(image) = ImageTag::parse(reference).ok().and_then(|t| repository.image_by_tag(&t)) else {
            return Cached::Missing;
        };
        match s.now_for(&registry.account).0 - image.pushed_at.0 >= RECHECK_MILLIS {
            true => Cached::Stale(image.digest.clone()),
            false => Cached::Fresh,
        }
    })
}

fn find(lab: &Lab, rule: &PullThroughRule, repository: &str, reference: &str) -> Option<Source> {
    if rule.kind != UpstreamKind::Ecr {
        let image = lab.upstream().find(rule.kind, repository, reference)?;
        return Some(Source::Bundled {
            manifest: image.manifest.clone(),
            media_type: image.media_type.clone(),
            blobs: image.blobs.clone(),
        });
    }
    let upstream = ecr_host(rule.upstream_url.strip_prefix("https://").unwrap_or(&rule.upstream_url))?;
    let name = RepositoryName::parse(repository).ok()?;
    lab.read(|s| {
        let source = s.repository(&upstream, &name).ok()?;
        let image = match reference.contains(':') {
            true => source.images.get(&Digest::parse(reference).ok()?),
            false => source.image_by_tag(&ImageTag::parse(reference).ok()?),
        }?;
        Some(Source::Lab {
            manifest: image.manifest.clone(),
            media_type: image.media_type.clone(),
            blobs: image.blobs.clone(),
        })
    })
}

/// The cache repository, created on the first pull with ECR's defaults (a repository creation
/// template would set others on AWS).
async fn create_repository(lab: &Lab, registry: &RegistryKey, name: &RepositoryName) -> Result<(), OciError> {
    // Created as ECR creates it for a pull through cache: by a PULL_THROUGH_CACHE template if one applies.
    lab.write(|s| match s.apply_creation_template(registry, name, AppliedFor::PullThroughCache) {
        Ok(_) | Err(StateError::RepositoryAlreadyExists { .. }) => Ok(()),
        Err(e) => Err(e),
    })
    .await?;
    Ok(())
}

/// Stores one upstream image (an index's images first) in the cache, tagged as pulled.
fn import<'a>(
    lab: &'a Lab,
    rule: &'a PullThroughRule,
    upstream_repository: &'a str,
    registry: &'a RegistryKey,
    name: &'a RepositoryName,
    source: Source,
    reference: &'a str,
) -> Pin<Box<dyn Future<Output = Result<(), OciError>> + Send + 'a>> {
    Box::pin(async move {
        let (text, declared) = match &source {
            Source::Bundled { manifest, media_type, .. } => (manifest.clone(), media_type.clone()),
            Source::Lab { manifest, media_type, .. } => (manifest.clone(), Some(media_type.clone())),
        };
        let parsed = manifest::parse(&text, declared.as_deref())?;
        for child in &parsed.children {
            let cached = lab.read(|s| {
                let d = Digest::parse(&child.digest).ok();
                s.repository(registry, name).is_ok_and(|r| d.is_some_and(|d| r.images.contains_key(&d)))
            });
            if !cached && let Some(child_source) = find(lab, rule, upstream_repository, &child.digest) {
                import(lab, rule, upstream_repository, registry, name, child_source, &child.digest).await?;
            }
        }
        match source {
            Source::Bundled { blobs, .. } => {
                for bytes in blobs {
                    store_blob(lab, registry, name, &bytes).await?;
                }
            }
            Source::Lab { blobs, .. } => {
                lab.write(|s| blobs.into_iter().try_for_each(|(d, size)| s.link_blob(registry, name, d, size))).await?;
            }
        }
        let tag = (!reference.contains(':')).then(|| ImageTag::parse(reference).ok()).flatten();
        lab.write(|state| {
            let repository = state.repository(registry, name)?;
            let child_size = |d: &str| Digest::parse(d).ok().and_then(|d| repository.images.get(&d)).map(|i| i.size);
            let image = manifest::image_from(text, &parsed, state.now_for(&registry.account), child_size);
            state.put_image(registry, name, image, tag, PutMode::Registry)
        })
        .await?;
        Ok(())
    })
}

/// One upstream blob into the store and the cache repository (linked only if the store has it).
async fn store_blob(lab: &Lab, registry: &RegistryKey, name: &RepositoryName, bytes: &[u8]) -> Result<(), OciError> {
    let digest = Digest::sha256_of(bytes);
    let failed =
        |e: &dyn std::fmt::Display| OciError::new(OciCode::Unknown, format!("caching blob {digest} failed: {e}"));
    if lab.store().path(&digest).exists() {
        let size = bytes.len() as u64;
        lab.write(|s| s.link_blob(registry, name, digest.clone(), size)).await?;
        return Ok(());
    }
    let store = lab.store();
    let id = store.begin(registry.clone(), name.clone()).await.map_err(|e| failed(&e))?;
    let mut upload = store.take(&id).map_err(|e| failed(&e))?;
    if !bytes.is_empty() {
        upload.append_part(0, bytes.len() as i64 - 1, bytes).await.map_err(|e| failed(&e))?;
    }
    lab.commit_blob(upload, &digest, Safety::Synced).await.map_err(|e| failed(&e))?;
    Ok(())
}
