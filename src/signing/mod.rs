//! Image signing, offline, compatible with cosign's key-pair signatures (cosign
//! `specs/SIGNATURE_SPEC.md`), so `cosign verify --key cosign.pub` accepts what `ecr-lab sign` writes
//! and `ecr-lab verify-signature` accepts what `cosign sign --key` writes.
//!
//! - The payload is cosign's "simple signing" JSON, compact, keys in this order:
//!   `{"critical":{"identity":{"docker-reference":"HOST/REPO"},"image":{"docker-manifest-digest":"sha256:…"},"type":"cosign container image signature"},"optional":null}`.
//! - The signature is ECDSA P-256 over SHA-256 of the payload bytes, ASN.1 DER, base64.
//! - It is stored as cosign stores it: an OCI image manifest tagged `sha256-<hex>.sig` in the image's
//!   repository, one layer per signature (media type `application/vnd.dev.cosign.simplesigning.v1+json`,
//!   the payload as the blob, the signature in the annotation `dev.cosignproject.cosign/signature`),
//!   config `application/vnd.oci.image.config.v1+json`. The manifest also names the image as its
//!   `subject`, so the registry lists it among the image's OCI 1.1 referrers (the console shows it).
//! - Verification follows cosign: the `.sig` manifest for the image's current digest, each layer's
//!   signature checked against the key, then the claim's digest against the image's; the texts are
//!   cosign's (`no signatures found`, `no matching signatures: …`, `invalid or missing digest in
//!   claim: …`, `invalid signature when validating ASN.1 encoded signature`).

pub mod command;
pub mod keys;

use mock_registry::types::Digest;

use crate::registry_client::{RegistryClient, RegistryError, Target};
pub use keys::{SigningKey, VerifyingKey};

pub const SIMPLE_SIGNING_MEDIA_TYPE: &str = "application/vnd.dev.cosign.simplesigning.v1+json";
pub const SIGNATURE_ANNOTATION: &str = "dev.cosignproject.cosign/signature";
pub const OCI_MANIFEST: &str = "application/vnd.oci.image.manifest.v1+json";
pub const OCI_CONFIG: &str = "application/vnd.oci.image.config.v1+json";
pub const CLAIM_TYPE: &str = "cosign container image signature";
/// sigstore's ECDSA verifier's text for a signature the key did not make.
pub const BAD_SIGNATURE: &str = "invalid signature when validating ASN.1 encoded signature";

/// `sha256:<hex>` → `sha256-<hex>.sig`, cosign's tag for the image's signatures.
pub fn signature_tag(digest: &str) -> String {
    format!("{}.sig", digest.replacen(':', "-", 1))
}

/// cosign's simple-signing payload, byte for byte.
pub fn payload(docker_reference: &str, digest: &str) -> Vec<u8> {
    serde_json::json!({
        "critical": {
            "identity": { "docker-reference": docker_reference },
            "image": { "docker-manifest-digest": digest },
            "type": CLAIM_TYPE,
        },
        "optional": null,
    })
    .to_string()
    .into_bytes()
}

/// One signature layer checked as cosign checks it: the signature over the payload bytes, then the
/// claim. Returns the payload as JSON, or cosign's reason for refusing it.
pub fn check_layer(
    payload: &[u8],
    signature_b64: Option<&str>,
    key: &VerifyingKey,
    image_digest: &str,
) -> Result<serde_json::Value, String> {
    use base64::Engine as _;
    let signature_b64 = signature_b64.ok_or("the layer has no dev.cosignproject.cosign/signature annotation")?;
    let cleaned: String = signature_b64.chars().filter(|c| !c.is_whitespace()).collect();
    let signature = base64::engine::general_purpose::STANDARD
        .decode(cleaned)
        .map_err(|e| format!("the signature annotation is not base64: {e}"))?;
    if !key.verifies(payload, &signature) {
        return Err(BAD_SIGNATURE.to_owned());
    }
    let claim: serde_json::Value =
        serde_json::from_slice(payload).map_err(|e| format!("the signed payload is not JSON: {e}"))?;
    if claim["critical"]["type"] != CLAIM_TYPE {
        return Err(format!("the signed payload's type is not '{CLAIM_TYPE}'"));
    }
    let found = claim["critical"]["image"]["docker-manifest-digest"].as_str().unwrap_or_default();
    if found != image_digest {
        return Err(format!("invalid or missing digest in claim: {found}"));
    }
    Ok(claim)
}

/// A repository in a registry, reached through `client` with `auth`.
pub struct Repo<'a> {
    pub client: &'a RegistryClient,
    pub host: &'a str,
    pub repository: &'a str,
    pub auth: Option<&'a str>,
}

impl Repo<'_> {
    fn target(&self) -> Target<'_> {
        Target { host: self.host, repository: self.repository, auth: self.auth }
    }

    /// `HOST/REPO`, the identity cosign signs.
    pub fn docker_reference(&self) -> String {
        format!("{}/{}", self.host, self.repository)
    }

    /// The digest `reference` (a tag or `sha256:…`) names now, from the manifest's own bytes.
    pub async fn resolve(&self, reference: &str) -> Result<String, Failure> {
        let (bytes, _) = self.client.get_manifest(&self.target(), reference).await.map_err(|e| match e {
            RegistryError::Coded { code, .. } if code == "MANIFEST_UNKNOWN" => Failure::Other(format!(
                "{}:{reference} does not exist in the registry (push it first)",
                self.docker_reference()
            )),
            other => Failure::Registry(other),
        })?;
        Ok(Digest::sha256_of(&bytes).as_str().to_owned())
    }

    /// The `.sig` manifest for `digest`, if there is one.
    async fn signatures(&self, digest: &str) -> Result<Option<serde_json::Value>, Failure> {
        match self.client.get_manifest(&self.target(), &signature_tag(digest)).await {
            Ok((bytes, _)) => serde_json::from_slice(&bytes)
                .map(Some)
                .map_err(|e| Failure::Other(format!("the signature manifest is not JSON: {e}"))),
            Err(RegistryError::Coded { code, .. }) if code == "MANIFEST_UNKNOWN" => Ok(None),
            Err(other) => Err(Failure::Registry(other)),
        }
    }

    async fn upload(&self, bytes: &[u8]) -> Result<Digest, Failure> {
        let digest = Digest::sha256_of(bytes);
        if !self.client.blob_exists(&self.target(), &digest).await.map_err(Failure::Registry)? {
            self.client.upload_blob(&self.target(), &digest, bytes.to_vec()).await.map_err(Failure::Registry)?;
        }
        Ok(digest)
    }
}

/// Why signing or verification stopped.
#[derive(Debug)]
pub enum Failure {
    /// The registry refused (`no basic auth credentials`, `name unknown: …`).
    Registry(RegistryError),
    /// The image has no `.sig` manifest: cosign's `no signatures found`.
    Unsigned {
        digest: String,
    },
    /// Signatures exist and none verifies: cosign's `no matching signatures: …`.
    NoMatch(Vec<String>),
    Other(String),
}

impl std::fmt::Display for Failure {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::Registry(RegistryError::NoCredentials) => f.write_str(
                "no basic auth credentials (log docker in to the registry, or configure the credential helper: `ecr-lab credential-helper configure HOST`)",
            ),
            Self::Registry(error) => write!(f, "{error}"),
            Self::Unsigned { .. } => f.write_str("no signatures found"),
            Self::NoMatch(reasons) => write!(f, "no matching signatures: {}", reasons.join("\n ")),
            Self::Other(text) => f.write_str(text),
        }
    }
}

impl Failure {
    /// What it means for the learner, and what to do (after cosign's own line).
    pub fn advice(&self, image: &str) -> Option<String> {
        match self {
            Self::Unsigned { digest } => Some(format!(
                "{image} is {digest}, and nothing in the repository signs that digest (no tag {}). Either it was never \
                 signed, or the tag was pushed over after signing and now names other bytes. Do not deploy it; sign \
                 it (`sign {image} --key cosign.key`) only if you built it.",
                signature_tag(digest)
            )),
            Self::NoMatch(reasons) if reasons.iter().any(|r| r == BAD_SIGNATURE) => Some(format!(
                "the signatures on {image} were not made with the private key that belongs to this public key: check \
                 --key, or the image was signed by someone else"
            )),
            Self::NoMatch(_) => Some(format!(
                "a signature verifies but it is for other bytes than {image} names now: the signature was copied \
                 onto another image"
            )),
            _ => None,
        }
    }
}

/// What [`sign`] did.
pub struct Signed {
    /// `HOST/REPO:sha256-….sig`
    pub location: String,
}

/// Signs the image `reference` names in `repo` with `key`, as `cosign sign --key` does.
pub async fn sign(repo: &Repo<'_>, reference: &str, key: &SigningKey) -> Result<Signed, Failure> {
    use base64::Engine as _;
    let digest = repo.resolve(reference).await?;
    let payload = payload(&repo.docker_reference(), &digest);
    let signature = key.sign(&payload).map_err(Failure::Other)?;
    let signature = base64::engine::general_purpose::STANDARD.encode(signature);
    let payload_digest = repo.upload(&payload).await?;
    let mut layers: Vec<serde_json::Value> = match repo.signatures(&digest).await? {
        Some(existing) => existing["layers"].as_array().cloned().unwrap_or_default(),
        None => Vec::new(),
    };
    layers.push(serde_json::json!({
        "mediaType": SIMPLE_SIGNING_MEDIA_TYPE,
        "size": payload.len(),
        "digest": payload_digest.as_str(),
        "annotations": { SIGNATURE_ANNOTATION: signature },
    }));
    let diff_ids: Vec<&str> = layers.iter().filter_map(|l| l["digest"].as_str()).collect();
    let config = serde_json::json!({
        "architecture": "", "created": "0001-01-01T00:00:00Z", "history": [{ "created": "0001-01-01T00:00:00Z" }],
        "os": "", "rootfs": { "type": "layers", "diff_ids": diff_ids }, "config": {},
    })
    .to_string();
    let config_digest = repo.upload(config.as_bytes()).await?;
    let (image_bytes, image_media_type) =
        repo.client.get_manifest(&repo.target(), &digest).await.map_err(Failure::Registry)?;
    let manifest = serde_json::json!({
        "schemaVersion": 2,
        "mediaType": OCI_MANIFEST,
        "config": { "mediaType": OCI_CONFIG, "size": config.len(), "digest": config_digest.as_str() },
        "layers": layers,
        "subject": { "mediaType": image_media_type, "size": image_bytes.len(), "digest": digest },
    });
    let tag = signature_tag(&digest);
    repo.client
        .put_manifest(&repo.target(), &tag, OCI_MANIFEST, manifest.to_string().into_bytes())
        .await
        .map_err(Failure::Registry)?;
    Ok(Signed { location: format!("{}:{tag}", repo.docker_reference()) })
}

/// Verifies the image `reference` names against `key`, as `cosign verify --key` does: the verified
/// payloads, or why none verifies.
pub async fn verify(repo: &Repo<'_>, reference: &str, key: &VerifyingKey) -> Result<Vec<serde_json::Value>, Failure> {
    let digest = repo.resolve(reference).await?;
    let Some(manifest) = repo.signatures(&digest).await? else { return Err(Failure::Unsigned { digest }) };
    let layers = manifest["layers"].as_array().cloned().unwrap_or_default();
    let mut verified = Vec::new();
    let mut reasons = Vec::new();
    for layer in layers.iter().filter(|l| l["mediaType"] == SIMPLE_SIGNING_MEDIA_TYPE) {
        let Some(blob) = layer["digest"].as_str().and_then(|d| Digest::parse(d).ok()) else {
            reasons.push("a signature layer has no valid digest".to_owned());
            continue;
        };
        let payload = repo.client.get_blob(&repo.target(), &blob).await.map_err(Failure::Registry)?;
        if Digest::sha256_of(&payload) != blob {
            reasons.push(format!("the payload blob does not match its digest {}", blob.as_str()));
            continue;
        }
        match check_layer(&payload, layer["annotations"][SIGNATURE_ANNOTATION].as_str(), key, &digest) {
            Ok(claim) => verified.push(claim),
            Err(reason) => reasons.push(reason),
        }
    }
    if verified.is_empty() {
        if reasons.is_empty() {
            return Err(Failure::Unsigned { digest });
        }
        return Err(Failure::NoMatch(reasons));
    }
    Ok(verified)
}

/// cosign's report of a successful verification (it prints these on stderr, the payloads on stdout).
pub fn verified_lines(image: &str) -> String {
    format!(
        "\nVerification for {image} --\nThe following checks were performed on each of these signatures:\n  \
         - The cosign claims were validated\n  - The signatures were verified against the specified public key\n"
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_payload_is_cosigns_bytes() {
        let digest = "sha256:f3cfc9d0dbf931d3db4685ec659b7ac68e2a578219da4aae65427886e649b06b";
        assert_eq!(
            String::from_utf8(payload("registry-testing.svc.lan/busybox", digest)).unwrap(),
            r#"{"critical":{"identity":{"docker-reference":"registry-testing.svc.lan/busybox"},"image":{"docker-manifest-digest":"sha256:f3cfc9d0dbf931d3db4685ec659b7ac68e2a578219da4aae65427886e649b06b"},"type":"cosign container image signature"},"optional":null}"#
        );
        assert_eq!(
            signature_tag(digest),
            "sha256-f3cfc9d0dbf931d3db4685ec659b7ac68e2a578219da4aae65427886e649b06b.sig"
        );
    }

    const FIXTURE_DIGEST: &str = "sha256:f3cfc9d0dbf931d3db4685ec659b7ac68e2a578219da4aae65427886e649b06b";

    /// A signature the real cosign made (tests/fixtures/cosign/README.md) verifies here, and our
    /// payload for the same image is the very bytes cosign signed.
    #[test]
    fn a_signature_made_by_cosign_verifies() {
        let key = VerifyingKey::from_pem(include_str!("../../tests/fixtures/cosign/busybox.pub")).unwrap();
        let payload = include_bytes!("../../tests/fixtures/cosign/busybox.payload.json");
        let signature = include_str!("../../tests/fixtures/cosign/busybox.sig");
        assert_eq!(payload.as_slice(), super::payload("registry-testing.svc.lan/busybox", FIXTURE_DIGEST));
        let claim = check_layer(payload, Some(signature), &key, FIXTURE_DIGEST).unwrap();
        assert_eq!(claim["critical"]["identity"]["docker-reference"], "registry-testing.svc.lan/busybox");

        // One byte of the payload changed: the signature no longer verifies.
        let mut tampered = payload.to_vec();
        let at = tampered.len() - 20;
        tampered[at] ^= 1;
        assert_eq!(check_layer(&tampered, Some(signature), &key, FIXTURE_DIGEST).unwrap_err(), BAD_SIGNATURE);
        // Another image's digest: the claim does not match.
        let other = "sha256:0000000000000000000000000000000000000000000000000000000000000000";
        assert_eq!(
            check_layer(payload, Some(signature), &key, other).unwrap_err(),
            format!("invalid or missing digest in claim: {FIXTURE_DIGEST}")
        );
        // Another key.
        let mine = SigningKey::from_encrypted_pem(&keys::generate(b"").unwrap().private_pem, b"").unwrap();
        let other_key = VerifyingKey::from_pem(&mine.public_pem()).unwrap();
        assert_eq!(check_layer(payload, Some(signature), &other_key, FIXTURE_DIGEST).unwrap_err(), BAD_SIGNATURE);
    }

    /// A private key cosign wrote (scrypt + nacl/secretbox) opens with its passphrase, and what it
    /// signs verifies with the public key derived from it.
    #[test]
    fn a_private_key_written_by_cosign_opens() {
        let text = include_str!("../../tests/fixtures/cosign/sigstore-hello.key");
        let key = SigningKey::from_encrypted_pem(text, b"hello").unwrap();
        let public = VerifyingKey::from_pem(&key.public_pem()).unwrap();
        let payload = super::payload("127.0.0.1:5000/test", FIXTURE_DIGEST);
        let signature = key.sign(&payload).unwrap();
        assert!(public.verifies(&payload, &signature));
        let wrong = SigningKey::from_encrypted_pem(text, b"hell0").err().unwrap();
        assert!(wrong.starts_with("wrong passphrase"), "{wrong}");
    }
}
