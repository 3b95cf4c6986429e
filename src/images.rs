//! The built-in docker's local images: an OCI image layout in the lab's data directory
//! (`blobs/sha256/<hex>`, `index.json` naming each reference in `org.opencontainers.image.ref.name`),
//! preloaded with the guide's sample image (and its v2) the first time it is opened.

use std::io;
use std::path::{Path, PathBuf};

use mock_registry::types::Digest;
use serde::Deserialize;

use crate::reference::Reference;
use crate::sample;

const REF_ANNOTATION: &str = "org.opencontainers.image.ref.name";

/// What the local store knows of one image, read from its manifest and config.
#[derive(Debug, Clone)]
pub struct LocalImage {
    pub manifest_digest: Digest,
    pub manifest: Vec<u8>,
    pub media_type: String,
    /// The image id docker shows: the config digest.
    pub config_digest: Digest,
    pub config: Vec<u8>,
    /// `(compressed digest, size, media type)` per layer, in order.
    pub layers: Vec<(Digest, u64, String)>,
    /// `rootfs.diff_ids`.
    pub diff_ids: Vec<String>,
    pub created: String,
    /// Bytes of files in the layers (what `docker images` calls SIZE).
    pub unpacked_size: u64,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct ManifestDoc {
    media_type: Option<String>,
    config: DescriptorDoc,
    layers: Vec<DescriptorDoc>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct DescriptorDoc {
    media_type: Option<String>,
    digest: String,
    size: u64,
}

pub struct ImageStore {
    root: PathBuf,
}

impl ImageStore {
    /// Opens (or creates) the layout at `root`; a new one gets the sample image.
    pub fn open(root: &Path) -> io::Result<Self> {
        let store = Self { root: root.to_path_buf() };
        std::fs::create_dir_all(root.join("blobs/sha256"))?;
        if !root.join("index.json").exists() {
            std::fs::write(root.join("oci-layout"), br#"{"imageLayoutVersion":"1.0.0"}"#)?;
            store.write_index(&[])?;
            for (version, reference) in [("v2", sample::REFERENCE_V2), ("v1", sample::REFERENCE)] {
                let image = sample::build_version(version);
                store.put_blob(&image.config)?;
                for layer in &image.layers {
                    store.put_blob(&layer.gzip)?;
                }
                let digest = store.put_blob(&image.manifest)?;
                store.set(&Reference::parse(reference).expect("the sample references parse"), &digest)?;
            }
        }
        Ok(store)
    }

    fn blob_path(&self, digest: &Digest) -> PathBuf {
        self.root.join("blobs/sha256").join(digest.as_str().trim_start_matches("sha256:"))
    }

    pub fn put_blob(&self, bytes: &[u8]) -> io::Result<Digest> {
        let digest = Digest::sha256_of(bytes);
        let path = self.blob_path(&digest);
        if !path.exists() {
            let temporary = path.with_extension("partial");
            std::fs::write(&temporary, bytes)?;
            std::fs::rename(&temporary, &path)?;
        }
        Ok(digest)
    }

    pub fn blob(&self, digest: &Digest) -> io::Result<Vec<u8>> {
        std::fs::read(self.blob_path(digest))
    }

    pub fn has_blob(&self, digest: &Digest) -> bool {
        self.blob_path(digest).exists()
    }

    fn read_index(&self) -> io::Result<Vec<(String, Digest, String, u64)>> {
        let text = std::fs::read_to_string(self.root.join("index.json"))?;
        let value: serde_json::Value = serde_json::from_str(&text).map_err(io::Error::other)?;
        let mut entries = Vec::new();
        for m in value["manifests"].as_array().into_iter().flatten() {
            let (Some(name), Some(digest)) = (m["annotations"][REF_ANNOTATION].as_str(), m["digest"].as_str()) else {
                continue;
            };
            let digest = Digest::parse(digest).map_err(|e| io::Error::other(e.0))?;
            let media_type = m["mediaType"].as_str().unwrap_or_default().to_owned();
            entries.push((name.to_owned(), digest, media_type, m["size"].as_u64().unwrap_or(0)));
        }
        Ok(entries)
    }

    fn write_index(&self, entries: &[(String, Digest, String, u64)]) -> io::Result<()> {
        let manifests: Vec<serde_json::Value> = entries
            .iter()
            .map(|(name, digest, media_type, size)| {
                serde_json::json!({
                    "mediaType": media_type, "digest": digest.as_str(), "size": size,
                    "annotations": { REF_ANNOTATION: name }
                })
            })
            .collect();
        let index = serde_json::json!({ "schemaVersion": 2, "manifests": manifests });
        let temporary = self.root.join("index.json.partial");
        std::fs::write(&temporary, serde_json::to_vec_pretty(&index).map_err(io::Error::other)?)?;
        std::fs::rename(temporary, self.root.join("index.json"))
    }

    /// Every named reference and its manifest digest, newest first.
    pub fn list(&self) -> io::Result<Vec<(String, Digest)>> {
        let mut entries: Vec<(String, Digest)> = self.read_index()?.into_iter().map(|(n, d, _, _)| (n, d)).collect();
        entries.reverse();
        Ok(entries)
    }

    /// The manifest digest a reference names (by tag, or by digest for `name@sha256:...`).
    pub fn resolve(&self, reference: &Reference) -> io::Result<Option<Digest>> {
        if let Some(digest) = &reference.digest {
            let digest = Digest::parse(digest).map_err(|e| io::Error::other(e.0))?;
            return Ok(self.has_blob(&digest).then_some(digest));
        }
        let name = reference.with_default_tag().to_string();
        Ok(self.read_index()?.into_iter().find(|(n, ..)| *n == name).map(|(_, d, ..)| d))
    }

    /// Points `reference` (tag `latest` if none) at the manifest `digest`.
    pub fn set(&self, reference: &Reference, digest: &Digest) -> io::Result<()> {
        let name = reference.with_default_tag().to_string();
        let manifest = self.blob(digest)?;
        let media_type = serde_json::from_slice::<ManifestDoc>(&manifest)
            .ok()
            .and_then(|m| m.media_type)
            .unwrap_or_else(|| "application/vnd.oci.image.manifest.v1+json".into());
        let mut entries = self.read_index()?;
        entries.retain(|(n, ..)| *n != name);
        entries.push((name, digest.clone(), media_type, manifest.len() as u64));
        self.write_index(&entries)
    }

    /// Removes a name. Returns whether another name still uses the same image.
    pub fn remove(&self, reference: &Reference) -> io::Result<Option<(Digest, bool)>> {
        let name = reference.with_default_tag().to_string();
        let mut entries = self.read_index()?;
        let Some(position) = entries.iter().position(|(n, ..)| *n == name) else { return Ok(None) };
        let (_, digest, ..) = entries.remove(position);
        let still_used = entries.iter().any(|(_, d, ..)| *d == digest);
        self.write_index(&entries)?;
        Ok(Some((digest, still_used)))
    }

    /// Reads an image's manifest and config.
    pub fn image(&self, digest: &Digest) -> io::Result<LocalImage> {
        let manifest = self.blob(digest)?;
        let doc: ManifestDoc = serde_json::from_slice(&manifest).map_err(io::Error::other)?;
        let config_digest = Digest::parse(&doc.config.digest).map_err(|e| io::Error::other(e.0))?;
        let config = self.blob(&config_digest)?;
        let config_value: serde_json::Value = serde_json::from_slice(&config).map_err(io::Error::other)?;
        let mut layers = Vec::new();
        let mut unpacked_size = 0;
        for layer in &doc.layers {
            let layer_digest = Digest::parse(&layer.digest).map_err(|e| io::Error::other(e.0))?;
            if let Ok(bytes) = self.blob(&layer_digest) {
                unpacked_size += files_size(&bytes);
            }
            layers.push((layer_digest, layer.size, layer.media_type.clone().unwrap_or_default()));
        }
        Ok(LocalImage {
            manifest_digest: digest.clone(),
            media_type: doc.media_type.unwrap_or_else(|| "application/vnd.oci.image.manifest.v1+json".into()),
            manifest,
            config_digest,
            diff_ids: config_value["rootfs"]["diff_ids"]
                .as_array()
                .into_iter()
                .flatten()
                .filter_map(|d| d.as_str().map(str::to_owned))
                .collect(),
            created: config_value["created"].as_str().unwrap_or_default().to_owned(),
            config,
            layers,
            unpacked_size,
        })
    }
}

/// The total size of regular files in a (gzip) layer tar, as `docker images` counts it (0 for a
/// layer that cannot be read).
fn files_size(layer: &[u8]) -> u64 {
    let data: Box<dyn std::io::Read + '_> =
        if layer.starts_with(&[0x1f, 0x8b]) { Box::new(flate2::read::GzDecoder::new(layer)) } else { Box::new(layer) };
    let mut archive = tar::Archive::new(data);
    let sizes = archive.entries().and_then(|entries| {
        entries
            .map(|entry| entry.map(|e| if e.header().entry_type().is_file() { e.size() } else { 0 }))
            .sum::<std::io::Result<u64>>()
    });
    sizes.unwrap_or(0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_new_store_holds_the_sample() {
        let dir = tempfile::tempdir().unwrap();
        let store = ImageStore::open(dir.path()).unwrap();
        let reference = Reference::parse(sample::REFERENCE).unwrap();
        let digest = store.resolve(&reference).unwrap().unwrap();
        assert_eq!(digest, sample::build().digest());
        let image = store.image(&digest).unwrap();
        assert_eq!(image.layers.len(), 2);
        assert_eq!(image.unpacked_size, 2865, "docker images shows 2.87kB for the sample");
        let tagged = Reference::parse("127.0.0.1:5000/test:v1").unwrap();
        store.set(&tagged, &digest).unwrap();
        assert_eq!(store.list().unwrap().len(), 3, "v1, v2 and the new tag");
        assert_eq!(store.remove(&tagged).unwrap(), Some((digest, true)));
    }
}
