//! The lab's bundled, offline upstream: the public registries a pull through cache rule may name
//! (Docker Hub, ECR Public, Quay, ...), with whatever images the program hands it at start-up.
//! Nothing is downloaded: a pull through a rule reads from here, never from the internet. The
//! mock knows no lessons; `ecr-lab` publishes its sample images with [`Upstream::publish_sample`].

use std::collections::BTreeMap;
use std::sync::{Arc, RwLock};

pub use crate::state::pull_through::UpstreamKind;
use crate::types::Digest;

/// One image an upstream serves: the manifest, byte for byte, and the blobs it names.
#[derive(Debug, Clone)]
pub struct UpstreamImage {
    pub manifest: String,
    /// The manifest's `Content-Type`, when its `mediaType` member does not say.
    pub media_type: Option<String>,
    pub blobs: Vec<Vec<u8>>,
}

impl UpstreamImage {
    pub fn digest(&self) -> Digest {
        Digest::sha256_of(self.manifest.as_bytes())
    }
}

type Key = (UpstreamKind, String, String);

/// Every upstream registry's images, by kind, repository and reference (tag or digest).
#[derive(Debug, Default)]
pub struct Upstream {
    images: RwLock<BTreeMap<Key, Arc<UpstreamImage>>>,
}

impl Upstream {
    /// Publishes `image` as `repository:tag` for each tag (and by its digest) in the upstream of `kind`.
    pub fn publish(&self, kind: UpstreamKind, repository: &str, tags: &[&str], image: UpstreamImage) {
        let image = Arc::new(image);
        let mut images = self.images.write().unwrap_or_else(|e| e.into_inner());
        images.insert((kind, repository.to_owned(), image.digest().to_string()), image.clone());
        for tag in tags {
            images.insert((kind, repository.to_owned(), (*tag).to_owned()), image.clone());
        }
    }

    /// Publishes an image named `name` (`ec2-neon-pulse`) where each public registry keeps such
    /// images: Docker Hub's `library/NAME` (official images) and `ecr-lab/NAME`, ECR Public's
    /// `docker/library/NAME` and `ecr-lab/NAME`, and `ecr-lab/NAME` everywhere else.
    pub fn publish_sample(&self, name: &str, tags: &[&str], image: UpstreamImage) {
        for kind in UpstreamKind::ALL {
            match kind {
                UpstreamKind::Ecr => continue,
                UpstreamKind::DockerHub => self.publish(kind, &format!("library/{name}"), tags, image.clone()),
                UpstreamKind::EcrPublic => self.publish(kind, &format!("docker/library/{name}"), tags, image.clone()),
                _ => {}
            }
            self.publish(kind, &format!("ecr-lab/{name}"), tags, image.clone());
        }
    }

    /// The image `repository:reference` in the upstream of `kind`.
    pub fn find(&self, kind: UpstreamKind, repository: &str, reference: &str) -> Option<Arc<UpstreamImage>> {
        let images = self.images.read().unwrap_or_else(|e| e.into_inner());
        images.get(&(kind, repository.to_owned(), reference.to_owned())).cloned()
    }

    /// What the upstream of `kind` serves: `repository:tag` lines, for the console and error hints.
    pub fn catalog(&self, kind: UpstreamKind) -> Vec<String> {
        let images = self.images.read().unwrap_or_else(|e| e.into_inner());
        images
            .keys()
            .filter(|(k, _, reference)| *k == kind && !reference.contains(':'))
            .map(|(_, repository, tag)| format!("{repository}:{tag}"))
            .collect()
    }
}
