//! The guide's sample image, `sohelqt8797/ec2-neon-pulse:v1`, built by the program (nothing is
//! downloaded) and byte for byte the same on every machine, so its digest is too: a Debian 12 base
//! layer with a dpkg package list (versions that have published advisories, for the scanning lessons)
//! and a layer with the static web page. It is a teaching image to tag, push, scan and pull: it
//! carries no binaries, so `docker run` has nothing to start.

use std::collections::BTreeMap;

use mock_registry::types::Digest;
use serde::Serialize;

pub const REFERENCE: &str = "sohelqt8797/ec2-neon-pulse:v1";
/// A second version of the page (a different image), for lessons that push a change.
pub const REFERENCE_V2: &str = "sohelqt8797/ec2-neon-pulse:v2";

const MANIFEST_MEDIA_TYPE: &str = "application/vnd.docker.distribution.manifest.v2+json";
const CONFIG_MEDIA_TYPE: &str = "application/vnd.docker.container.image.v1+json";
const LAYER_MEDIA_TYPE: &str = "application/vnd.docker.image.rootfs.diff.tar.gzip";
/// The guide's date; every timestamp in the image is this one.
const CREATED: &str = "2025-09-03T00:00:00Z";
const MTIME: u64 = 1_756_857_600;

/// One layer: the tar, its gzip (what registries store), and both digests.
pub struct Layer {
    pub tar: Vec<u8>,
    pub gzip: Vec<u8>,
    /// The digest of the uncompressed tar (`rootfs.diff_ids`).
    pub diff_id: Digest,
    /// The digest of the gzip (the manifest's layer digest).
    pub digest: Digest,
}

pub struct SampleImage {
    pub config: Vec<u8>,
    pub layers: Vec<Layer>,
    /// Docker schema 2 manifest bytes.
    pub manifest: Vec<u8>,
}

impl SampleImage {
    pub fn digest(&self) -> Digest {
        Digest::sha256_of(&self.manifest)
    }

    pub fn config_digest(&self) -> Digest {
        Digest::sha256_of(&self.config)
    }

    /// The bytes a registry stores, which `DescribeImages` reports as `imageSizeInBytes`.
    pub fn compressed_size(&self) -> usize {
        self.layers.iter().map(|l| l.gzip.len()).sum()
    }

    /// A `docker save` archive (`docker load -i`): manifest.json, the config, one layer.tar per layer.
    pub fn docker_archive(&self) -> Vec<u8> {
        self.docker_archive_as(REFERENCE)
    }

    /// The same archive, naming the image `reference` (`repository:tag`).
    pub fn docker_archive_as(&self, reference: &str) -> Vec<u8> {
        let (repository, tag) = reference.rsplit_once(':').unwrap_or((reference, "latest"));
        let hex = |d: &Digest| d.as_str().trim_start_matches("sha256:").to_owned();
        let config_name = format!("{}.json", hex(&self.config_digest()));
        let layer_names: Vec<String> = self.layers.iter().map(|l| format!("{}/layer.tar", hex(&l.diff_id))).collect();
        let manifest = serde_json::json!([{ "Config": config_name, "RepoTags": [reference], "Layers": layer_names }]);
        let last = hex(&self.layers.last().expect("layers").diff_id);
        let repositories = serde_json::json!({ repository: { tag: last } });
        let mut entries = vec![Entry::file(&config_name, self.config.clone())];
        for (layer, name) in self.layers.iter().zip(&layer_names) {
            entries.push(Entry::dir(name.trim_end_matches("/layer.tar")));
            entries.push(Entry::file(name, layer.tar.clone()));
        }
        entries.push(Entry::file("manifest.json", manifest.to_string().into_bytes()));
        entries.push(Entry::file("repositories", repositories.to_string().into_bytes()));
        tar(&entries)
    }
}

/// Builds the sample image.
pub fn build() -> SampleImage {
    build_version("v1")
}

/// Builds `v1` (the guide's image) or `v2` (the same page, marked version 2).
pub fn build_version(version: &str) -> SampleImage {
    let base = layer(&[
        Entry::dir("etc"),
        Entry::file("etc/os-release", OS_RELEASE.into()),
        Entry::file("etc/debian_version", b"12.0\n".to_vec()),
        Entry::dir("var"),
        Entry::dir("var/lib"),
        Entry::dir("var/lib/dpkg"),
        Entry::file("var/lib/dpkg/status", dpkg_status().into_bytes()),
    ]);
    let site = layer(&[
        Entry::dir("etc/nginx"),
        Entry::dir("etc/nginx/conf.d"),
        Entry::file("etc/nginx/conf.d/default.conf", NGINX_CONF.into()),
        Entry::dir("usr"),
        Entry::dir("usr/share"),
        Entry::dir("usr/share/nginx"),
        Entry::dir("usr/share/nginx/html"),
        Entry::file("usr/share/nginx/html/index.html", index_html(version).into_bytes()),
    ]);
    let layers = vec![base, site];
    let config = serde_json::to_vec(&ImageConfig {
        architecture: "amd64",
        os: "linux",
        created: CREATED,
        config: RunConfig {
            cmd: ["nginx", "-g", "daemon off;"],
            env: ["PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"],
            exposed_ports: [("80/tcp", Empty {})].into_iter().collect(),
            working_dir: "/usr/share/nginx/html",
            labels: [
                ("org.opencontainers.image.title", "ec2-neon-pulse"),
                ("org.opencontainers.image.description", "The ECR seminar guide's sample web page, built by ecr-lab"),
                ("org.opencontainers.image.version", if version == "v1" { "v1" } else { "v2" }),
                ("org.opencontainers.image.created", CREATED),
            ]
            .into_iter()
            .collect(),
        },
        rootfs: RootFs { kind: "layers", diff_ids: layers.iter().map(|l| l.diff_id.to_string()).collect() },
        history: vec![
            History { created: CREATED, created_by: "ecr-lab: Debian 12 (bookworm) base files and dpkg package list" },
            History { created: CREATED, created_by: "ecr-lab: COPY index.html default.conf (the neon pulse page)" },
        ],
    })
    .expect("the config serializes");
    let manifest = serde_json::to_vec(&Manifest {
        schema_version: 2,
        media_type: MANIFEST_MEDIA_TYPE,
        config: Descriptor {
            media_type: CONFIG_MEDIA_TYPE,
            size: config.len(),
            digest: Digest::sha256_of(&config).to_string(),
        },
        layers: layers
            .iter()
            .map(|l| Descriptor { media_type: LAYER_MEDIA_TYPE, size: l.gzip.len(), digest: l.digest.to_string() })
            .collect(),
    })
    .expect("the manifest serializes");
    SampleImage { config, layers, manifest }
}

// The JSON documents, as structs so their bytes (member order included) never depend on how
// serde_json is configured elsewhere in the build.

#[derive(Serialize)]
struct ImageConfig {
    architecture: &'static str,
    os: &'static str,
    created: &'static str,
    config: RunConfig,
    rootfs: RootFs,
    history: Vec<History>,
}

#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
struct RunConfig {
    cmd: [&'static str; 3],
    env: [&'static str; 1],
    exposed_ports: BTreeMap<&'static str, Empty>,
    working_dir: &'static str,
    labels: BTreeMap<&'static str, &'static str>,
}

#[derive(Serialize)]
struct Empty {}

#[derive(Serialize)]
struct RootFs {
    #[serde(rename = "type")]
    kind: &'static str,
    diff_ids: Vec<String>,
}

#[derive(Serialize)]
struct History {
    created: &'static str,
    created_by: &'static str,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Manifest {
    schema_version: u32,
    media_type: &'static str,
    config: Descriptor,
    layers: Vec<Descriptor>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Descriptor {
    media_type: &'static str,
    size: usize,
    digest: String,
}

fn layer(entries: &[Entry]) -> Layer {
    use std::io::Write as _;
    let tar = tar(entries);
    let mut encoder = flate2::GzBuilder::new().mtime(0).write(Vec::new(), flate2::Compression::new(6));
    encoder.write_all(&tar).expect("writing to memory");
    let gzip = encoder.finish().expect("writing to memory");
    Layer { diff_id: Digest::sha256_of(&tar), digest: Digest::sha256_of(&gzip), tar, gzip }
}

/// A tar entry: a directory or a regular file, root-owned, dated [`MTIME`].
struct Entry {
    path: String,
    contents: Option<Vec<u8>>,
}

impl Entry {
    fn dir(path: &str) -> Self {
        Self { path: format!("{path}/"), contents: None }
    }
    fn file(path: &str, contents: Vec<u8>) -> Self {
        Self { path: path.to_owned(), contents: Some(contents) }
    }
}

/// A POSIX ustar archive of `entries`, in the order given.
fn tar(entries: &[Entry]) -> Vec<u8> {
    let mut builder = tar::Builder::new(Vec::new());
    for entry in entries {
        let contents = entry.contents.as_deref().unwrap_or_default();
        let mut header = tar::Header::new_ustar();
        header.set_path(&entry.path).expect("sample paths are short and relative");
        header.set_mode(if entry.contents.is_some() { 0o644 } else { 0o755 });
        header.set_uid(0);
        header.set_gid(0);
        header.set_size(contents.len() as u64);
        header.set_mtime(MTIME);
        header.set_entry_type(if entry.contents.is_some() {
            tar::EntryType::Regular
        } else {
            tar::EntryType::Directory
        });
        header.set_username("root").expect("a short name");
        header.set_groupname("root").expect("a short name");
        header.set_cksum();
        // The checksum as GNU tar writes it (six digits, NUL, space): the pinned digests have it so.
        let checksum = header.cksum().expect("just set");
        header.as_old_mut().cksum.copy_from_slice(format!("{checksum:06o}\0 ").as_bytes());
        builder.append(&header, contents).expect("writing to memory");
    }
    builder.into_inner().expect("writing to memory")
}

const OS_RELEASE: &str = "PRETTY_NAME=\"Debian GNU/Linux 12 (bookworm)\"\nNAME=\"Debian GNU/Linux\"\nVERSION_ID=\"12\"\nVERSION=\"12 (bookworm)\"\nVERSION_CODENAME=bookworm\nID=debian\nHOME_URL=\"https://www.debian.org/\"\nSUPPORT_URL=\"https://www.debian.org/support\"\nBUG_REPORT_URL=\"https://bugs.debian.org/\"\n";

/// Installed packages: (package, source, version, section, description). The versions are the
/// first bookworm releases of these packages, before later security updates.
const PACKAGES: &[(&str, &str, &str, &str, &str)] = &[
    ("base-files", "base-files", "12.4", "admin", "Debian base system miscellaneous files"),
    ("curl", "curl", "7.88.1-10", "web", "command line tool for transferring data with URL syntax"),
    ("libc6", "glibc", "2.36-9", "libs", "GNU C Library: Shared libraries"),
    ("libcurl4", "curl", "7.88.1-10", "libs", "easy-to-use client-side URL transfer library (OpenSSL flavour)"),
    ("libssl3", "openssl", "3.0.9-1", "libs", "Secure Sockets Layer toolkit - shared libraries"),
    ("nginx", "nginx", "1.22.1-9", "httpd", "small, powerful, scalable web/proxy server"),
    ("openssl", "openssl", "3.0.9-1", "utils", "Secure Sockets Layer toolkit - cryptographic utility"),
    ("zlib1g", "zlib", "1:1.2.13.dfsg-1", "libs", "compression library - runtime"),
];

fn dpkg_status() -> String {
    PACKAGES
        .iter()
        .map(|(package, source, version, section, description)| {
            let source = if source == package { String::new() } else { format!("Source: {source}\n") };
            format!(
                "Package: {package}\nStatus: install ok installed\nPriority: optional\nSection: {section}\n\
                 Maintainer: Debian <debian-devel@lists.debian.org>\nArchitecture: amd64\n{source}Version: {version}\n\
                 Description: {description}\n\n"
            )
        })
        .collect()
}

const NGINX_CONF: &str = "server {\n    listen 80;\n    root /usr/share/nginx/html;\n    index index.html;\n}\n";

fn index_html(version: &str) -> String {
    match version {
        "v1" => INDEX_HTML.to_owned(),
        other => INDEX_HTML.replace("<h1>EC2 Neon Pulse</h1>", &format!("<h1>EC2 Neon Pulse {other}</h1>")),
    }
}

const INDEX_HTML: &str = r#"<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>EC2 Neon Pulse</title>
<style>
  body { margin: 0; min-height: 100vh; display: grid; place-items: center; background: #0b0f1a;
         font-family: system-ui, sans-serif; color: #e6f1ff; }
  h1 { font-size: 3rem; color: #39ff14; text-shadow: 0 0 8px #39ff14, 0 0 24px #00e5ff;
       animation: pulse 1.6s ease-in-out infinite; }
  @keyframes pulse { 50% { opacity: .55; } }
  p { color: #8aa4c8; }
</style>
</head>
<body>
<main>
  <h1>EC2 Neon Pulse</h1>
  <p>Served from a container image pulled out of Amazon ECR (or the ecr-lab mock).</p>
</main>
</body>
</html>
"#;

#[cfg(test)]
mod tests {
    use super::*;

    /// The digest every machine gets. If this changes, every lesson and slide quoting it must too.
    const PINNED_DIGEST: &str = "sha256:091e1c9b9448b2fa264aa532a6a1cec8e9fa8d77ec2d77c623184a03c1ccddfa";

    #[test]
    fn the_sample_image_is_the_same_everywhere() {
        let image = build();
        assert_eq!(image.digest().as_str(), PINNED_DIGEST);
        assert_eq!(build().manifest, image.manifest, "building twice gives the same bytes");
    }

    #[test]
    fn tar_headers_have_valid_checksums() {
        let archive = tar(&[Entry::file("a.txt", b"hi".to_vec())]);
        let header = &archive[..512];
        let stored = u32::from_str_radix(std::str::from_utf8(&header[148..154]).unwrap(), 8).unwrap();
        let computed: u32 =
            header.iter().enumerate().map(|(i, &b)| if (148..156).contains(&i) { 32 } else { u32::from(b) }).sum();
        assert_eq!(stored, computed);
        assert_eq!(archive.len(), 512 + 512 + 1024);
    }
}
