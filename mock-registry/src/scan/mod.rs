//! Basic image scanning, for real: unpack an image's layers ([`layers`]), find its OS
//! (`/etc/os-release`) and package database (dpkg, apk), and match the installed versions against
//! the advisories bundled with the program (`advisories/advisories.json`, sources in its README),
//! in the distribution's own version order ([`version`]). Runs on a plain thread, never on the async
//! runtime; reads blobs from the store; returns a [`ScanResult`] for `State` to journal.

pub mod layers;
pub mod version;

use std::collections::{BTreeMap, BTreeSet};
use std::io::Read;
use std::sync::OnceLock;

use serde::Deserialize;

use crate::state::manifest;
use crate::state::scan::{Finding, ScanResult};
use crate::types::{Digest, Millis};
use crate::types::{ScanStatus, Severity};
use layers::{APK_INSTALLED, DPKG_STATUS, LayerError, Limits, OS_RELEASE, OS_RELEASE_USR, Rootfs};
use version::Scheme;

/// ECR's description of a scan of an OS it does not scan (gh:aws-observability/aws-otel-collector#2193).
pub const UNSUPPORTED_IMAGE: &str =
    "UnsupportedImageError: The operating system and/or package manager are not supported.";
/// ECR's description of a finished scan (gh:aws/aws-sdk#289).
pub const COMPLETE: &str = "The scan was completed successfully.";

const ADVISORIES: &str = include_str!("../../advisories/advisories.json");

#[derive(Debug, Deserialize)]
struct AdvisoryFile {
    updated: String,
    advisories: Vec<Advisory>,
}

#[derive(Debug, Clone, Deserialize)]
pub struct Advisory {
    pub id: String,
    pub os: String,
    pub release: String,
    pub package: String,
    #[serde(default)]
    pub introduced: Option<String>,
    pub fixed: String,
    pub severity: String,
    pub cvss3_score: String,
    pub cvss3_vector: String,
    pub uri: String,
    pub description: String,
}

struct Database {
    updated: Millis,
    advisories: Vec<Advisory>,
}

/// The bundled advisories, parsed once. The data is part of the program, so a bad file is a bug
/// that the unit tests catch.
fn database() -> &'static Database {
    static DATABASE: OnceLock<Database> = OnceLock::new();
    DATABASE.get_or_init(|| {
        let file: AdvisoryFile = serde_json::from_str(ADVISORIES).expect("advisories.json is valid (unit-tested)");
        let updated = parse_date(&file.updated).expect("advisories.json has an `updated` date (unit-tested)");
        Database { updated, advisories: file.advisories }
    })
}

/// `YYYY-MM-DDT00:00:00Z` → milliseconds since the epoch (dates only; the list is dated by day).
fn parse_date(text: &str) -> Option<Millis> {
    crate::clock::parse_day(text.strip_suffix("T00:00:00Z")?)
}

/// The OS an image is built on, from os-release.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Os {
    pub id: String,
    pub version_id: String,
}

impl Os {
    fn parse(text: &str) -> Option<Self> {
        let mut fields = BTreeMap::new();
        for line in text.lines() {
            if let Some((key, value)) = line.split_once('=') {
                fields.insert(key.trim(), value.trim().trim_matches('"').trim_matches('\'').to_owned());
            }
        }
        Some(Self { id: fields.get("ID")?.clone(), version_id: fields.get("VERSION_ID").cloned().unwrap_or_default() })
    }

    /// The release advisories are listed under: Debian's major version, Alpine's `3.NN`.
    fn release(&self) -> String {
        let numbers: Vec<&str> = self.version_id.split('.').collect();
        match self.id.as_str() {
            "alpine" => numbers.iter().take(2).copied().collect::<Vec<_>>().join("."),
            _ => numbers.first().copied().unwrap_or_default().to_owned(),
        }
    }
}

/// An installed package: its binary name, source name and version.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Package {
    pub name: String,
    pub source: String,
    pub version: String,
}

/// Installed packages from a dpkg status file (paragraphs; `Status: install ok installed`).
pub fn dpkg_packages(text: &str) -> Vec<Package> {
    let mut packages = Vec::new();
    for paragraph in text.split("\n\n") {
        let mut fields = BTreeMap::new();
        for line in paragraph.lines() {
            if line.starts_with([' ', '\t']) {
                continue; // a continuation line (descriptions, conffiles)
            }
            if let Some((key, value)) = line.split_once(':') {
                fields.insert(key.trim(), value.trim());
            }
        }
        let (Some(name), Some(version), Some(status)) =
            (fields.get("Package"), fields.get("Version"), fields.get("Status"))
        else {
            continue;
        };
        if status.split_whitespace().nth(2) != Some("installed") {
            continue;
        }
        // `Source: name` or `Source: name (version)`.
        let source = fields.get("Source").and_then(|s| s.split_whitespace().next()).unwrap_or(name);
        packages.push(Package { name: (*name).to_owned(), source: source.to_owned(), version: (*version).to_owned() });
    }
    packages
}

/// Installed packages from apk's database (`P:` name, `V:` version, `o:` origin; blank-line separated).
pub fn apk_packages(text: &str) -> Vec<Package> {
    let mut packages = Vec::new();
    for record in text.split("\n\n") {
        let mut fields = BTreeMap::new();
        for line in record.lines() {
            if let Some((key, value)) = line.split_once(':') {
                fields.entry(key).or_insert(value);
            }
        }
        let (Some(name), Some(version)) = (fields.get("P"), fields.get("V")) else { continue };
        let source = fields.get("o").unwrap_or(name);
        packages.push(Package {
            name: (*name).to_owned(),
            source: (*source).to_owned(),
            version: (*version).to_owned(),
        });
    }
    packages
}

/// Findings for `packages` on `os`: one per advisory and source package, most severe first.
pub fn match_advisories(os: &Os, scheme: Scheme, packages: &[Package]) -> Vec<Finding> {
    let release = os.release();
    let mut seen = BTreeSet::new();
    let mut findings = Vec::new();
    for advisory in &database().advisories {
        if advisory.os != os.id || advisory.release != release {
            continue;
        }
        for package in packages.iter().filter(|p| p.source == advisory.package) {
            let affected = scheme.compare(&package.version, &advisory.fixed).is_lt()
                && advisory.introduced.as_ref().is_none_or(|i| scheme.compare(&package.version, i).is_ge());
            if !affected || !seen.insert((advisory.id.clone(), package.source.clone())) {
                continue;
            }
            findings.push(Finding {
                name: advisory.id.clone(),
                description: advisory.description.clone(),
                uri: advisory.uri.clone(),
                severity: Severity::parse(&advisory.severity).unwrap_or(Severity::Undefined),
                attributes: vec![
                    ("package_version".into(), package.version.clone()),
                    ("package_name".into(), package.source.clone()),
                    ("CVSS3_SCORE".into(), advisory.cvss3_score.clone()),
                    ("CVSS3_VECTOR".into(), advisory.cvss3_vector.clone()),
                ],
            });
        }
    }
    findings.sort_by(|a, b| b.severity.cmp(&a.severity).then_with(|| a.name.cmp(&b.name)));
    findings
}

/// Media types of image configs: anything else (a Helm chart, a signature) is not an image to scan.
const IMAGE_CONFIGS: &[&str] =
    &["application/vnd.docker.container.image.v1+json", "application/vnd.oci.image.config.v1+json"];

fn failed(description: String) -> ScanResult {
    ScanResult { status: ScanStatus::Failed, description, findings: Vec::new(), source_updated_at: None }
}

/// Scans the image whose manifest is `manifest`; `open` gives a layer blob's bytes.
pub fn scan_image<R: Read>(
    manifest_text: &str,
    open: impl Fn(&Digest) -> std::io::Result<R>,
    limits: &Limits,
) -> ScanResult {
    let Ok(parsed) = manifest::parse(manifest_text, None) else {
        return failed(UNSUPPORTED_IMAGE.into());
    };
    let is_image =
        parsed.config.as_ref().and_then(|c| c.media_type.as_deref()).is_some_and(|m| IMAGE_CONFIGS.contains(&m));
    if !is_image {
        return failed(UNSUPPORTED_IMAGE.into());
    }
    let mut rootfs = Rootfs::default();
    let mut left = limits.max_uncompressed;
    for (index, layer) in parsed.layers.iter().enumerate() {
        let Ok(digest) = Digest::parse(&layer.digest) else {
            return failed(format!("LayerError: the manifest names an invalid layer digest '{}'", layer.digest));
        };
        let blob = match open(&digest) {
            Ok(blob) => blob,
            Err(e) => return failed(format!("LayerError: layer {digest} could not be opened: {e}")),
        };
        if let Err(error) = layers::apply_layer(&mut rootfs, index, blob, limits, &mut left) {
            let detail = match error {
                LayerError::Corrupt(why) => why,
                other => other.to_string(),
            };
            return failed(format!("LayerError: layer {digest} could not be unpacked: {detail}"));
        }
    }
    let os_release = rootfs.file(OS_RELEASE).or_else(|| rootfs.file(OS_RELEASE_USR));
    let Some(os) = os_release.and_then(|bytes| Os::parse(&String::from_utf8_lossy(bytes))) else {
        return failed(UNSUPPORTED_IMAGE.into());
    };
    let (scheme, packages) = match (os.id.as_str(), rootfs.file(DPKG_STATUS), rootfs.file(APK_INSTALLED)) {
        ("debian" | "ubuntu", Some(status), _) => (Scheme::Dpkg, dpkg_packages(&String::from_utf8_lossy(status))),
        ("alpine", _, Some(installed)) => (Scheme::Apk, apk_packages(&String::from_utf8_lossy(installed))),
        _ => return failed(UNSUPPORTED_IMAGE.into()),
    };
    ScanResult {
        status: ScanStatus::Complete,
        description: COMPLETE.into(),
        findings: match_advisories(&os, scheme, &packages),
        source_updated_at: Some(database().updated),
    }
}

#[cfg(test)]
mod tests {
    use super::layers::tests::{Entry, gzip, tar, zstd};
    use super::*;

    #[test]
    fn advisories_file_is_complete() {
        let db = database();
        assert!(!db.advisories.is_empty());
        assert_eq!(db.updated, Millis(1_698_192_000_000), "2023-10-25");
        for a in &db.advisories {
            assert!(["debian", "alpine"].contains(&a.os.as_str()), "{}: os {}", a.id, a.os);
            assert!(Severity::parse(&a.severity).is_some(), "{}: severity {}", a.id, a.severity);
            assert!(!a.fixed.is_empty() && a.uri.starts_with("https://"), "{}", a.id);
            assert!(a.cvss3_vector.starts_with("CVSS:3.1/") && a.cvss3_score.parse::<f64>().is_ok(), "{}", a.id);
        }
    }

    fn debian_image(status: &str) -> Vec<Vec<u8>> {
        vec![
            gzip(&tar(&[
                Entry::Symlink("etc/os-release", "../usr/lib/os-release"),
                Entry::File("usr/lib/os-release", b"ID=debian\nVERSION_ID=\"12\"\n"),
            ])),
            zstd(&tar(&[Entry::File("var/lib/dpkg/status", status.as_bytes())])),
        ]
    }

    fn scan_layers(layers: &[Vec<u8>], limits: &Limits) -> ScanResult {
        let layer_list: Vec<String> = layers
            .iter()
            .map(|l| {
                format!(
                    r#"{{"mediaType":"application/vnd.oci.image.layer.v1.tar+gzip","size":{},"digest":"{}"}}"#,
                    l.len(),
                    Digest::sha256_of(l)
                )
            })
            .collect();
        let manifest = format!(
            r#"{{"schemaVersion":2,"mediaType":"application/vnd.oci.image.manifest.v1+json","config":{{"mediaType":"application/vnd.oci.image.config.v1+json","size":2,"digest":"{}"}},"layers":[{}]}}"#,
            Digest::sha256_of(b"{}"),
            layer_list.join(",")
        );
        let blobs: BTreeMap<Digest, Vec<u8>> = layers.iter().map(|l| (Digest::sha256_of(l), l.clone())).collect();
        scan_image(&manifest, |d| Ok(std::io::Cursor::new(blobs[d].clone())), limits)
    }

    const STATUS: &str = "Package: libc6\nStatus: install ok installed\nSource: glibc\nVersion: 2.36-9\n\n\
Package: libcurl4\nStatus: install ok installed\nSource: curl\nVersion: 7.88.1-10+deb12u4\n\n\
Package: libssl3\nStatus: install ok installed\nSource: openssl (3.0.9-1)\nVersion: 3.0.9-1\nDescription: x\n more\n\n\
Package: openssl\nStatus: install ok installed\nVersion: 3.0.9-1\n\n\
Package: removed\nStatus: deinstall ok config-files\nVersion: 0.1\n";

    #[test]
    fn a_debian_image_gets_findings_for_what_is_below_the_fix() {
        let result = scan_layers(&debian_image(STATUS), &Limits::default());
        assert_eq!(result.status, ScanStatus::Complete, "{}", result.description);
        assert_eq!(result.description, COMPLETE);
        let names: Vec<(&str, Severity)> = result.findings.iter().map(|f| (f.name.as_str(), f.severity)).collect();
        // curl is at the fixed version: no curl findings. openssl is listed once (two binaries, one source).
        assert_eq!(names, [("CVE-2023-4911", Severity::High), ("CVE-2023-5363", Severity::High)]);
        let openssl = &result.findings[1];
        assert_eq!(openssl.uri, "https://security-tracker.debian.org/tracker/CVE-2023-5363");
        assert_eq!(
            openssl.attributes[..2],
            [("package_version".to_owned(), "3.0.9-1".to_owned()), ("package_name".to_owned(), "openssl".to_owned())]
        );
    }

    #[test]
    fn alpine_uses_apk_versions_and_origins() {
        let installed = "C:Q1x\nP:libssl3\nV:3.1.3-r0\no:openssl\n\nP:busybox\nV:1.36.1-r2\no:busybox\n";
        let layers = vec![tar(&[
            Entry::File("etc/os-release", b"NAME=\"Alpine Linux\"\nID=alpine\nVERSION_ID=3.18.4\n"),
            Entry::File("lib/apk/db/installed", installed.as_bytes()),
        ])];
        let result = scan_layers(&layers, &Limits::default());
        assert_eq!(result.status, ScanStatus::Complete);
        assert_eq!(result.findings.len(), 1);
        assert_eq!(result.findings[0].uri, "https://security.alpinelinux.org/vuln/CVE-2023-5363");
        let fixed = installed.replace("3.1.3-r0", "3.1.4-r0");
        let layers = vec![tar(&[
            Entry::File("etc/os-release", b"ID=alpine\nVERSION_ID=3.18.4\n"),
            Entry::File("lib/apk/db/installed", fixed.as_bytes()),
        ])];
        assert!(scan_layers(&layers, &Limits::default()).findings.is_empty());
    }

    #[test]
    fn unsupported_and_broken_images_fail_with_a_description() {
        // No OS at all (a scratch image).
        let result = scan_layers(&[gzip(&tar(&[Entry::File("app", b"binary")]))], &Limits::default());
        assert_eq!((result.status, result.description.as_str()), (ScanStatus::Failed, UNSUPPORTED_IMAGE));
        // An OS the scanner has no package database for.
        let layers = vec![tar(&[Entry::File("etc/os-release", b"ID=fedora\nVERSION_ID=39\n")])];
        assert_eq!(scan_layers(&layers, &Limits::default()).description, UNSUPPORTED_IMAGE);
        // A broken layer.
        let mut layers = debian_image(STATUS);
        let half = layers[1].len() / 2;
        layers[1].truncate(half);
        let result = scan_layers(&layers, &Limits::default());
        assert_eq!(result.status, ScanStatus::Failed);
        assert!(result.description.starts_with("LayerError: layer sha256:"), "{}", result.description);
        // Past the limit.
        let result = scan_layers(&debian_image(STATUS), &Limits { max_uncompressed: 1024, ..Limits::default() });
        assert!(result.description.ends_with("more than a scan reads"), "{}", result.description);
    }

    #[test]
    fn dates() {
        assert_eq!(parse_date("1970-01-01T00:00:00Z"), Some(Millis(0)));
        assert_eq!(parse_date("2000-03-01T00:00:00Z"), Some(Millis(951_868_800_000)));
        assert_eq!(parse_date("2023-10-25"), None);
    }
}
