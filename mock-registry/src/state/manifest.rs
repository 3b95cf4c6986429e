//! How ECR reads a manifest it is given: which media type it is, what it references, what it weighs.
//! The bytes are never re-serialized: the digest is over exactly what was pushed.

use std::collections::BTreeMap;

use serde::Deserialize;

use super::{Image, StateError};
use crate::types::{Digest, Millis};

pub const DOCKER_MANIFEST_V2: &str = "application/vnd.docker.distribution.manifest.v2+json";
pub const DOCKER_MANIFEST_LIST: &str = "application/vnd.docker.distribution.manifest.list.v2+json";
pub const DOCKER_MANIFEST_V1: &str = "application/vnd.docker.distribution.manifest.v1+json";
pub const DOCKER_MANIFEST_V1_SIGNED: &str = "application/vnd.docker.distribution.manifest.v1+prettyjws";
pub const OCI_MANIFEST: &str = "application/vnd.oci.image.manifest.v1+json";
pub const OCI_INDEX: &str = "application/vnd.oci.image.index.v1+json";

/// Media types ECR stores as images.
pub const SUPPORTED: &[&str] =
    &[DOCKER_MANIFEST_V2, DOCKER_MANIFEST_LIST, DOCKER_MANIFEST_V1, DOCKER_MANIFEST_V1_SIGNED, OCI_MANIFEST, OCI_INDEX];

/// The `imageManifest` member's maximum length.
pub const MAX_MANIFEST_LENGTH: usize = 4_194_304;

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Document {
    schema_version: Option<i64>,
    media_type: Option<String>,
    config: Option<Descriptor>,
    layers: Option<Vec<Descriptor>>,
    manifests: Option<Vec<Descriptor>>,
    fs_layers: Option<Vec<serde_json::Value>>,
    subject: Option<Descriptor>,
    artifact_type: Option<String>,
    annotations: Option<BTreeMap<String, String>>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Descriptor {
    pub media_type: Option<String>,
    pub digest: String,
    pub size: i64,
}

/// What a manifest references, for the registry's checks (blobs) and sizes (children of an index).
pub struct Parsed {
    pub media_type: String,
    pub config: Option<Descriptor>,
    pub layers: Vec<Descriptor>,
    pub children: Vec<Descriptor>,
    pub subject: Option<Descriptor>,
    pub artifact_type: Option<String>,
    pub annotations: BTreeMap<String, String>,
}

fn invalid(member: &'static str, constraint: impl Into<String>) -> StateError {
    StateError::InvalidArgument { member, constraint: constraint.into() }
}

/// Reads `manifest`, reconciling its `mediaType` with the one the caller declared.
pub fn parse(manifest: &str, declared: Option<&str>) -> Result<Parsed, StateError> {
    if manifest.len() > MAX_MANIFEST_LENGTH {
        return Err(invalid(
            "imageManifest",
            format!("Member must have length less than or equal to {MAX_MANIFEST_LENGTH}"),
        ));
    }
    let document: Document =
        serde_json::from_str(manifest).map_err(|_| invalid("ImageManifest", "Invalid JSON syntax"))?;
    let inferred = match (document.schema_version, &document.media_type) {
        (Some(1), _) if document.fs_layers.is_some() => Some(DOCKER_MANIFEST_V1_SIGNED.to_owned()),
        (Some(2), Some(media_type)) => Some(media_type.clone()),
        (Some(2), None) if document.manifests.is_some() => Some(OCI_INDEX.to_owned()),
        (Some(2), None) if document.config.is_some() => Some(OCI_MANIFEST.to_owned()),
        _ => None,
    };
    let media_type = match (declared, inferred) {
        (Some(declared), Some(inferred)) if declared != inferred && document.media_type.is_some() => {
            return Err(invalid(
                "imageManifestMediaType",
                format!("Media type '{declared}' does not match the mediaType '{inferred}' in the manifest"),
            ));
        }
        (Some(declared), _) => declared.to_owned(),
        (None, Some(inferred)) => inferred,
        (None, None) => return Err(invalid("ImageManifest", "Invalid JSON syntax")),
    };
    if !SUPPORTED.contains(&media_type.as_str()) {
        return Err(invalid("imageManifestMediaType", format!("Unsupported manifest media type '{media_type}'")));
    }
    for descriptor in
        document.config.iter().chain(document.layers.iter().flatten()).chain(document.manifests.iter().flatten())
    {
        if Digest::parse(&descriptor.digest).is_err() || descriptor.size < 0 {
            return Err(invalid("ImageManifest", format!("Invalid descriptor digest '{}'", descriptor.digest)));
        }
    }
    Ok(Parsed {
        media_type,
        config: document.config,
        layers: document.layers.unwrap_or_default(),
        children: document.manifests.unwrap_or_default(),
        subject: document.subject,
        artifact_type: document.artifact_type,
        annotations: document.annotations.unwrap_or_default(),
    })
}

/// An image from a manifest: digest over the exact bytes, size from the layers (for an index, the
/// largest child that `child_size` knows).
pub fn image_from(
    manifest: String,
    parsed: &Parsed,
    pushed_at: Millis,
    child_size: impl Fn(&str) -> Option<u64>,
) -> Image {
    let layer_bytes: u64 = parsed.layers.iter().map(|l| l.size as u64).sum();
    let size = if parsed.children.is_empty() {
        layer_bytes
    } else {
        parsed.children.iter().filter_map(|c| child_size(&c.digest)).max().unwrap_or(0)
    };
    let digest = |d: &Descriptor| Digest::parse(&d.digest).expect("parse() checked every descriptor");
    Image {
        digest: Digest::sha256_of(manifest.as_bytes()),
        artifact_media_type: parsed.config.as_ref().and_then(|c| c.media_type.clone()),
        media_type: parsed.media_type.clone(),
        manifest,
        size,
        pushed_at,
        tags: Vec::new(),
        blobs: parsed.config.iter().chain(&parsed.layers).map(|d| (digest(d), d.size as u64)).collect(),
        children: parsed.children.iter().map(digest).collect(),
        subject: parsed.subject.as_ref().map(digest),
        artifact_type: parsed.artifact_type.clone().or_else(|| {
            parsed
                .config
                .as_ref()
                .and_then(|c| c.media_type.clone())
                .filter(|t| !t.contains("image.config") && !t.contains("container.image"))
        }),
        annotations: parsed.annotations.clone(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const DOCKER: &str = r#"{"schemaVersion":2,"mediaType":"application/vnd.docker.distribution.manifest.v2+json","config":{"mediaType":"application/vnd.docker.container.image.v1+json","size":1469,"digest":"sha256:2b8fd9751c4c0f5dd266fcae00707e67a2545ef34f9a29354585f93dac906749"},"layers":[{"mediaType":"application/vnd.docker.image.rootfs.diff.tar.gzip","size":3000,"digest":"sha256:1b8fd9751c4c0f5dd266fcae00707e67a2545ef34f9a29354585f93dac906749"}]}"#;

    #[test]
    fn docker_manifest() {
        let parsed = parse(DOCKER, None).unwrap();
        assert_eq!(parsed.media_type, DOCKER_MANIFEST_V2);
        let image = image_from(DOCKER.into(), &parsed, Millis(0), |_| None);
        assert_eq!(image.size, 3000);
        assert_eq!(image.artifact_media_type.as_deref(), Some("application/vnd.docker.container.image.v1+json"));
        assert!(parse(DOCKER, Some(OCI_MANIFEST)).is_err());
        assert!(parse(DOCKER, Some(DOCKER_MANIFEST_V2)).is_ok());
    }

    #[test]
    fn bad_manifests() {
        assert!(parse("{", None).is_err());
        assert!(parse("{}", None).is_err());
        assert!(parse(r#"{"schemaVersion":2,"config":{"digest":"sha256:12","size":1},"layers":[]}"#, None).is_err());
        assert!(parse(r#"{"schemaVersion":2,"mediaType":"text/plain"}"#, None).is_err());
    }
}
