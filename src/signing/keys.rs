//! cosign's key files, read and written byte-compatibly.
//!
//! - `cosign.pub`: PEM `PUBLIC KEY`, the DER SubjectPublicKeyInfo of an ECDSA P-256 key.
//! - `cosign.key`: PEM `ENCRYPTED SIGSTORE PRIVATE KEY` (older cosign: `ENCRYPTED COSIGN PRIVATE KEY`)
//!   around JSON from go-securesystemslib's `encrypted` package:
//!   `{"kdf":{"name":"scrypt","params":{"N":32768,"r":8,"p":1},"salt":B64},"cipher":{"name":"nacl/secretbox","nonce":B64},"ciphertext":B64}`.
//!   The key is scrypt(passphrase, salt, N, r, p) → 32 bytes; the ciphertext is NaCl secretbox
//!   (XSalsa20-Poly1305, tag first) of the PKCS#8 DER private key.
//!
//! The ECDSA itself is ring's (P-256, SHA-256, ASN.1 DER signatures), the cipher and KDF RustCrypto's.

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as B64;
use crypto_secretbox::aead::{Aead as _, KeyInit as _};
use ring::rand::SecureRandom as _;
use ring::signature::{ECDSA_P256_SHA256_ASN1, ECDSA_P256_SHA256_ASN1_SIGNING, EcdsaKeyPair, KeyPair as _};

pub const PRIVATE_PEM: &str = "ENCRYPTED SIGSTORE PRIVATE KEY";
const OLD_PRIVATE_PEM: &str = "ENCRYPTED COSIGN PRIVATE KEY";
pub const PUBLIC_PEM: &str = "PUBLIC KEY";

/// The DER SubjectPublicKeyInfo header of every uncompressed P-256 key (id-ecPublicKey, prime256v1);
/// the 65-byte point follows it.
const P256_SPKI_PREFIX: [u8; 26] = [
    0x30, 0x59, 0x30, 0x13, 0x06, 0x07, 0x2a, 0x86, 0x48, 0xce, 0x3d, 0x02, 0x01, 0x06, 0x08, 0x2a, 0x86, 0x48, 0xce,
    0x3d, 0x03, 0x01, 0x07, 0x03, 0x42, 0x00,
];

/// cosign's scrypt cost (go-securesystemslib `encrypted`: N=32768, r=8, p=1).
const SCRYPT_LOG_N: u8 = 15;
const SCRYPT_R: u32 = 8;
const SCRYPT_P: u32 = 1;

/// A key pair as cosign writes it: both files' text.
pub struct Written {
    pub private_pem: String,
    pub public_pem: String,
}

/// A new P-256 key pair, the private key encrypted with `passphrase` (which may be empty, as cosign allows).
pub fn generate(passphrase: &[u8]) -> Result<Written, String> {
    let rng = ring::rand::SystemRandom::new();
    let pkcs8 = EcdsaKeyPair::generate_pkcs8(&ECDSA_P256_SHA256_ASN1_SIGNING, &rng)
        .map_err(|_| "the system's random number generator failed".to_owned())?;
    let pair = EcdsaKeyPair::from_pkcs8(&ECDSA_P256_SHA256_ASN1_SIGNING, pkcs8.as_ref(), &rng)
        .map_err(|_| "ring rejected its own key".to_owned())?;
    let encrypted = encrypt(pkcs8.as_ref(), passphrase, &rng)?;
    Ok(Written {
        private_pem: pem_encode(PRIVATE_PEM, encrypted.as_bytes()),
        public_pem: public_pem(pair.public_key().as_ref()),
    })
}

/// The `PUBLIC KEY` PEM of an uncompressed P-256 point.
pub fn public_pem(point: &[u8]) -> String {
    let mut der = P256_SPKI_PREFIX.to_vec();
    der.extend_from_slice(point);
    pem_encode(PUBLIC_PEM, &der)
}

/// A signing key from cosign's encrypted PEM.
pub struct SigningKey {
    pair: EcdsaKeyPair,
}

impl SigningKey {
    pub fn from_encrypted_pem(text: &str, passphrase: &[u8]) -> Result<Self, String> {
        let body = pem_decode(text, &[PRIVATE_PEM, OLD_PRIVATE_PEM]).ok_or_else(|| {
            format!("not a cosign private key (a PEM block '{PRIVATE_PEM}', as `cosign generate-key-pair` or `ecr-lab keygen` write)")
        })?;
        let pkcs8 = decrypt(&body, passphrase)?;
        let rng = ring::rand::SystemRandom::new();
        let pair = EcdsaKeyPair::from_pkcs8(&ECDSA_P256_SHA256_ASN1_SIGNING, &pkcs8, &rng).map_err(|_| {
            "the key decrypted, but it is not an ECDSA P-256 key (cosign's default; ecr-lab signs with those only)"
                .to_owned()
        })?;
        Ok(Self { pair })
    }

    /// An ASN.1 DER ECDSA P-256 signature over SHA-256 of `message`.
    pub fn sign(&self, message: &[u8]) -> Result<Vec<u8>, String> {
        let rng = ring::rand::SystemRandom::new();
        self.pair.sign(&rng, message).map(|s| s.as_ref().to_vec()).map_err(|_| "signing failed".to_owned())
    }

    #[cfg(test)]
    pub fn public_pem(&self) -> String {
        public_pem(self.pair.public_key().as_ref())
    }
}

/// A verification key from a `PUBLIC KEY` PEM.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VerifyingKey {
    point: Vec<u8>,
}

impl VerifyingKey {
    pub fn from_pem(text: &str) -> Result<Self, String> {
        let der = pem_decode(text, &[PUBLIC_PEM]).ok_or_else(|| {
            format!("not a public key (a PEM block '{PUBLIC_PEM}', as cosign.pub); give the .pub file, not the .key")
        })?;
        match der.strip_prefix(&P256_SPKI_PREFIX[..]) {
            Some(point) if point.len() == 65 && point[0] == 4 => Ok(Self { point: point.to_vec() }),
            _ => Err("the public key is not an ECDSA P-256 key (cosign's default; ecr-lab verifies those only)".into()),
        }
    }

    /// Whether `signature` (ASN.1 DER) is this key's over `message`.
    pub fn verifies(&self, message: &[u8], signature: &[u8]) -> bool {
        ring::signature::UnparsedPublicKey::new(&ECDSA_P256_SHA256_ASN1, &self.point).verify(message, signature).is_ok()
    }
}

// ---- go-securesystemslib `encrypted`: scrypt + NaCl secretbox ----

fn derive(passphrase: &[u8], salt: &[u8], log_n: u8, r: u32, p: u32) -> Result<[u8; 32], String> {
    let params = scrypt::Params::new(log_n, r, p).map_err(|e| format!("bad scrypt parameters in the key: {e}"))?;
    let mut key = [0u8; 32];
    scrypt::scrypt(passphrase, salt, &params, &mut key).map_err(|e| format!("scrypt failed: {e}"))?;
    Ok(key)
}

fn encrypt(plaintext: &[u8], passphrase: &[u8], rng: &ring::rand::SystemRandom) -> Result<String, String> {
    let mut salt = [0u8; 32];
    let mut nonce = [0u8; 24];
    rng.fill(&mut salt).and_then(|()| rng.fill(&mut nonce)).map_err(|_| "no random bytes".to_owned())?;
    let key = derive(passphrase, &salt, SCRYPT_LOG_N, SCRYPT_R, SCRYPT_P)?;
    let cipher = crypto_secretbox::XSalsa20Poly1305::new(&key.into());
    let sealed = cipher.encrypt(&nonce.into(), plaintext).map_err(|_| "encryption failed".to_owned())?;
    let document = serde_json::json!({
        "kdf": { "name": "scrypt", "params": { "N": 1u32 << SCRYPT_LOG_N, "r": SCRYPT_R, "p": SCRYPT_P }, "salt": B64.encode(salt) },
        "cipher": { "name": "nacl/secretbox", "nonce": B64.encode(nonce) },
        "ciphertext": B64.encode(sealed),
    });
    Ok(document.to_string())
}

fn decrypt(document: &[u8], passphrase: &[u8]) -> Result<Vec<u8>, String> {
    let bad = |what: &str| format!("the private key is damaged ({what})");
    let value: serde_json::Value = serde_json::from_slice(document).map_err(|_| bad("not JSON"))?;
    if value["kdf"]["name"] != "scrypt" || value["cipher"]["name"] != "nacl/secretbox" {
        return Err(bad("not scrypt and nacl/secretbox"));
    }
    let number = |name: &str| value["kdf"]["params"][name].as_u64().ok_or_else(|| bad(name));
    let n = number("N")?;
    if !n.is_power_of_two() || n < 2 {
        return Err(bad("N"));
    }
    let log_n = u8::try_from(n.trailing_zeros()).map_err(|_| bad("N"))?;
    let r = u32::try_from(number("r")?).map_err(|_| bad("r"))?;
    let p = u32::try_from(number("p")?).map_err(|_| bad("p"))?;
    let field =
        |v: &serde_json::Value, name: &str| v.as_str().and_then(|s| B64.decode(s).ok()).ok_or_else(|| bad(name));
    let salt = field(&value["kdf"]["salt"], "salt")?;
    let nonce = field(&value["cipher"]["nonce"], "nonce")?;
    let sealed = field(&value["ciphertext"], "ciphertext")?;
    let nonce: [u8; 24] = nonce.try_into().map_err(|_| bad("nonce length"))?;
    let key = derive(passphrase, &salt, log_n, r, p)?;
    let cipher = crypto_secretbox::XSalsa20Poly1305::new(&key.into());
    cipher.decrypt(&nonce.into(), sealed.as_slice()).map_err(|_| {
        "wrong passphrase for the private key: set COSIGN_PASSWORD to the passphrase it was written with".to_owned()
    })
}

// ---- PEM ----

pub fn pem_encode(label: &str, der: &[u8]) -> String {
    let body = B64.encode(der);
    let mut text = format!("-----BEGIN {label}-----\n");
    for line in body.as_bytes().chunks(64) {
        text.push_str(&String::from_utf8_lossy(line));
        text.push('\n');
    }
    text.push_str(&format!("-----END {label}-----\n"));
    text
}

/// The bytes of the first PEM block with one of `labels`.
pub fn pem_decode(text: &str, labels: &[&str]) -> Option<Vec<u8>> {
    labels.iter().find_map(|label| {
        let begin = format!("-----BEGIN {label}-----");
        let end = format!("-----END {label}-----");
        let start = text.find(&begin)? + begin.len();
        let stop = start + text[start..].find(&end)?;
        let body: String = text[start..stop].chars().filter(|c| !c.is_whitespace()).collect();
        B64.decode(body).ok()
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_generated_pair_signs_and_verifies_and_the_passphrase_matters() {
        let written = generate(b"hello").unwrap();
        assert!(written.private_pem.starts_with("-----BEGIN ENCRYPTED SIGSTORE PRIVATE KEY-----\n"));
        assert!(written.public_pem.starts_with("-----BEGIN PUBLIC KEY-----\nMFkwEwYHKoZIzj0CAQYIKoZIzj0DAQcDQgAE"));
        let key = SigningKey::from_encrypted_pem(&written.private_pem, b"hello").unwrap();
        assert_eq!(key.public_pem(), written.public_pem);
        let public = VerifyingKey::from_pem(&written.public_pem).unwrap();
        let signature = key.sign(b"payload").unwrap();
        assert_eq!(signature[0], 0x30, "ASN.1 DER SEQUENCE");
        assert!(public.verifies(b"payload", &signature));
        assert!(!public.verifies(b"payloaD", &signature));
        let wrong = SigningKey::from_encrypted_pem(&written.private_pem, b"hellO").err().unwrap();
        assert!(wrong.starts_with("wrong passphrase"), "{wrong}");
        assert!(VerifyingKey::from_pem(&written.private_pem).is_err());
    }
}
