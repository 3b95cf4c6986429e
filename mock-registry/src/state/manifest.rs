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

/// The deepest nesting of objects and arrays a manifest may have. A real manifest is 4 deep (an
/// index's descriptor's platform's features); JSON parsers in registries stop far short of what a
/// 4 MiB document can nest (Go's at 10,000, serde_json's at 128 for typed members but never for
/// members it skips), and every page that shows a manifest would pay for the depth.
pub const MAX_MANIFEST_DEPTH: usize = 64;

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
    if let Some(depth) = too_deep(manifest) {
        return Err(invalid(
            "ImageManifest",
            format!(
                "The manifest nests objects and arrays {depth} deep; at most {MAX_MANIFEST_DEPTH} levels are accepted"
            ),
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
    check_shape(&document, &media_type)?;
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

/// The depth past [`MAX_MANIFEST_DEPTH`] that `text` reaches (brackets inside strings do not count).
fn too_deep(text: &str) -> Option<usize> {
    let (mut depth, mut in_string, mut escaped) = (0usize, false, false);
    for byte in text.bytes() {
        match (in_string, escaped, byte) {
            (true, true, _) => escaped = false,
            (true, false, b'\\') => escaped = true,
            (true, false, b'"') | (false, _, b'"') => in_string = !in_string,
            (false, _, b'{' | b'[') => {
                depth += 1;
                if depth > MAX_MANIFEST_DEPTH {
                    return Some(depth);
                }
            }
            (false, _, b'}' | b']') => depth = depth.saturating_sub(1),
            _ => {}
        }
    }
    None
}

/// What every manifest of `media_type` must hold: `schemaVersion` and the members its kind is made
/// of (a `{}` declared as an image manifest is not one).
fn check_shape(document: &Document, media_type: &str) -> Result<(), StateError> {
    let (version, required, present) = match media_type {
        DOCKER_MANIFEST_V1 | DOCKER_MANIFEST_V1_SIGNED => (1, "fsLayers", document.fs_layers.is_some()),
        DOCKER_MANIFEST_LIST | OCI_INDEX => (2, "manifests", document.manifests.is_some()),
        _ => (2, "config", document.config.is_some()),
    };
    if document.schema_version != Some(version) {
        return Err(invalid("ImageManifest", format!("The manifest's schemaVersion must be {version}")));
    }
    if !present {
        return Err(invalid("ImageManifest", format!("A {media_type} manifest must have '{required}'")));
    }
    Ok(())
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

    #[test]
    fn an_empty_object_is_no_manifest_of_any_kind() {
        for media_type in SUPPORTED {
            assert!(parse("{}", Some(media_type)).is_err(), "{media_type}");
        }
        assert!(parse(r#"{"schemaVersion":2}"#, Some(OCI_MANIFEST)).is_err());
        assert!(parse(r#"{"schemaVersion":2,"manifests":[]}"#, Some(OCI_INDEX)).is_ok());
    }

    #[test]
    fn nesting_is_bounded_and_brackets_in_strings_do_not_count() {
        let nested = |depth: usize| {
            let open = "[".repeat(depth);
            let close = "]".repeat(depth);
            DOCKER.replacen('{', &format!("{{\"x\":{open}{close},"), 1)
        };
        assert!(parse(&nested(MAX_MANIFEST_DEPTH - 1), None).is_ok());
        let error = parse(&nested(10_000), None).err().expect("too deep");
        assert!(error.to_string().contains("at most 64 levels"), "{error}");
        let in_string = DOCKER.replacen('{', &format!("{{\"x\":\"{}\\\"\",", "[".repeat(100)), 1);
        assert!(parse(&in_string, None).is_ok());
    }
}
