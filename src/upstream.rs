//! Hands the mock's bundled upstream registries the guide's sample images, so a pull through a
//! pull through cache rule (`docker pull $REGISTRY/docker-hub/library/ec2-neon-pulse:latest`)
//! fetches something real without the internet. The mock knows no lessons; this is where the
//! program tells it what the "public registries" hold.

use mock_registry::Lab;
use mock_registry::upstream::UpstreamImage;

use crate::sample;

/// The sample's name in the upstream registries (`library/ec2-neon-pulse` on Docker Hub, ...).
pub const SAMPLE_NAME: &str = "ec2-neon-pulse";

/// The sample images the upstreams serve, with their tags (built, not yet published).
pub struct Samples(Vec<(&'static [&'static str], UpstreamImage)>);

/// Builds sample v1 (tags `v1`, `latest`) and v2 (tag `v2`): no lab needed, so a start builds them
/// while it reads the data directory.
pub fn samples() -> Samples {
    let versions: [(&str, &'static [&'static str]); 2] = [("v1", &["v1", "latest"]), ("v2", &["v2"])];
    Samples(
        versions
            .into_iter()
            .map(|(version, tags)| {
                let image = sample::build_version(version);
                let mut blobs = vec![image.config.clone()];
                blobs.extend(image.layers.iter().map(|l| l.gzip.clone()));
                let manifest = String::from_utf8_lossy(&image.manifest).into_owned();
                (tags, UpstreamImage { manifest, media_type: None, blobs })
            })
            .collect(),
    )
}

/// Publishes `samples` in every bundled upstream of `lab`.
pub fn publish(lab: &Lab, samples: Samples) {
    for (tags, image) in samples.0 {
        lab.upstream().publish_sample(SAMPLE_NAME, tags, image);
    }
}

/// Publishes sample v1 (tags `v1`, `latest`) and v2 (tag `v2`) in every bundled upstream.
pub fn seed(lab: &Lab) {
    publish(lab, samples());
}
