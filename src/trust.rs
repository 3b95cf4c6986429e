//! The class CA this process trusts besides the system's roots: a class served over HTTPS
//! (`ecr-lab class serve --tls`) signs its certificate with a CA of its own, which `ecr-lab join
//! --ca sha256:…` checks and stores. Every client of the lab (the control client, the AWS SDK
//! client, the registry client, so the built-in docker too) builds its TLS roots from here.

use std::path::{Path, PathBuf};
use std::sync::{Arc, RwLock};

use anyhow::{Context as _, Result, bail};
use http_body_util::{BodyExt as _, Empty};
use hyper_util::client::legacy::Client;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::rt::TokioExecutor;
use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::pki_types::{CertificateDer, ServerName, UnixTime};
use rustls::{DigitallySignedStruct, SignatureScheme};

/// The class CAs (PEM) this process trusts: the joined class's, and the one this machine's own
/// `class serve --tls` made (the instructor's `ecr-lab class students` and faults reach it).
static CLASS_CAS: RwLock<Vec<String>> = RwLock::new(Vec::new());

/// The joined class's CA, next to `class.json` in the lab's home.
pub fn joined_ca_path(home: &Path) -> PathBuf {
    home.join("class-ca.pem")
}

/// The CA of this machine's own class server (`ecr-lab class serve --tls`), recorded for its commands.
pub fn served_ca_path(home: &Path) -> PathBuf {
    home.join("class").join("served-ca.pem")
}

/// At start: trust the CAs the lab's home holds (a joined class's, this machine's class server's).
pub fn load(home: &Path) {
    for path in [joined_ca_path(home), served_ca_path(home)] {
        if let Ok(pem) = std::fs::read_to_string(&path) {
            if pem_der(&pem).is_some() {
                trust_class_ca(&pem);
            } else {
                tracing::warn!("{} holds no certificate; ignored", path.display());
            }
        }
    }
}

/// From now on every client this process builds trusts `pem` too.
pub fn trust_class_ca(pem: &str) {
    if let Ok(mut cas) = CLASS_CAS.write()
        && !cas.iter().any(|c| c == pem)
    {
        cas.push(pem.to_owned());
    }
}

/// The class CAs this process trusts.
pub fn class_cas() -> Vec<String> {
    CLASS_CAS.read().map(|cas| cas.clone()).unwrap_or_default()
}

/// The DER bytes of the first certificate in a PEM text.
pub fn pem_der(pem: &str) -> Option<Vec<u8>> {
    use base64::Engine as _;
    let body = pem.split("-----BEGIN CERTIFICATE-----").nth(1)?.split("-----END CERTIFICATE-----").next()?;
    let text: String = body.chars().filter(|c| !c.is_whitespace()).collect();
    base64::engine::general_purpose::STANDARD.decode(text).ok().filter(|der| !der.is_empty())
}

/// `sha256:HEX` of a certificate's DER bytes (what `class serve --tls` prints for `join --ca`).
pub fn fingerprint(der: &[u8]) -> String {
    let digest = ring::digest::digest(&ring::digest::SHA256, der);
    let hex: String = digest.as_ref().iter().map(|b| format!("{b:02x}")).collect();
    format!("sha256:{hex}")
}

/// Whether two fingerprints are the same (case and a missing `sha256:` prefix do not matter;
/// `:` between bytes, as some tools print them, neither).
pub fn same_fingerprint(a: &str, b: &str) -> bool {
    let norm = |s: &str| {
        let s = s.trim().to_ascii_lowercase();
        s.strip_prefix("sha256:").unwrap_or(&s).replace(':', "")
    };
    !norm(a).is_empty() && norm(a) == norm(b)
}

fn provider() -> Arc<rustls::crypto::CryptoProvider> {
    Arc::new(rustls::crypto::ring::default_provider())
}

/// The system's root certificates, and the class CA when one is trusted.
pub fn roots() -> rustls::RootCertStore {
    // The system's roots are read once per process (clients are built per call).
    static NATIVE: std::sync::OnceLock<Vec<CertificateDer<'static>>> = std::sync::OnceLock::new();
    let native = NATIVE.get_or_init(|| {
        let native = rustls_native_certs::load_native_certs();
        if native.certs.is_empty() && !native.errors.is_empty() {
            tracing::warn!("no usable root certificates ({:?}); HTTPS to AWS will be refused", native.errors);
        }
        native.certs
    });
    let mut roots = rustls::RootCertStore::empty();
    let (_added, _ignored) = roots.add_parsable_certificates(native.iter().cloned());
    for der in class_cas().iter().filter_map(|pem| pem_der(pem)) {
        if let Err(e) = roots.add(CertificateDer::from(der)) {
            tracing::warn!("a class CA cannot be used ({e}); run `ecr-lab join` again");
        }
    }
    roots
}

/// A rustls client configuration with [`roots`].
pub fn client_config() -> rustls::ClientConfig {
    rustls::ClientConfig::builder_with_provider(provider())
        .with_safe_default_protocol_versions()
        .expect("ring supports the default protocol versions")
        .with_root_certificates(roots())
        .with_no_client_auth()
}

/// Accepts any server certificate: only to fetch `/class/ca.pem`, whose fingerprint is then checked.
#[derive(Debug)]
struct AnyCertificate(Arc<rustls::crypto::CryptoProvider>);

impl ServerCertVerifier for AnyCertificate {
    fn verify_server_cert(
        &self,
        _end_entity: &CertificateDer<'_>,
        _intermediates: &[CertificateDer<'_>],
        _server_name: &ServerName<'_>,
        _ocsp_response: &[u8],
        _now: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        Ok(ServerCertVerified::assertion())
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls12_signature(message, cert, dss, &self.0.signature_verification_algorithms)
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls13_signature(message, cert, dss, &self.0.signature_verification_algorithms)
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.0.signature_verification_algorithms.supported_schemes()
    }
}

/// `GET ENDPOINT/class/ca.pem` without checking the server's certificate (it is what is being
/// fetched); the caller checks the answer's fingerprint before trusting it.
pub async fn fetch_class_ca(endpoint: &str) -> Result<String> {
    let config = rustls::ClientConfig::builder_with_provider(provider())
        .with_safe_default_protocol_versions()
        .expect("ring supports the default protocol versions")
        .dangerous()
        .with_custom_certificate_verifier(Arc::new(AnyCertificate(provider())))
        .with_no_client_auth();
    let mut http = HttpConnector::new();
    http.set_connect_timeout(Some(std::time::Duration::from_secs(10)));
    http.enforce_http(false);
    let connector = hyper_rustls::HttpsConnectorBuilder::new()
        .with_tls_config(config)
        .https_only()
        .enable_http1()
        .wrap_connector(http);
    let client = Client::builder(TokioExecutor::new()).build::<_, Empty<bytes::Bytes>>(connector);
    let url = format!("{endpoint}/class/ca.pem");
    let unreachable = || format!("cannot fetch the class CA from {url}; is `ecr-lab class serve --tls` running there?");
    let uri: hyper::Uri = url.parse().with_context(|| format!("'{endpoint}' is not a URL"))?;
    let response = tokio::time::timeout(std::time::Duration::from_secs(30), client.get(uri))
        .await
        .map_err(|_| anyhow::anyhow!("no answer in 30 s"))
        .with_context(unreachable)?
        .with_context(unreachable)?;
    let status = response.status();
    let bytes = response.into_body().collect().await.with_context(unreachable)?.to_bytes();
    if !status.is_success() {
        bail!(
            "{url} answered HTTP {status}: the server does not serve a class CA; was it started with `ecr-lab class serve --tls`? (without --tls, join http://…)"
        );
    }
    let pem = String::from_utf8_lossy(&bytes).into_owned();
    if pem_der(&pem).is_none() {
        bail!("{url} answered something else than a PEM certificate; is it an ecr-lab class server?");
    }
    Ok(pem)
}

/// An HTTP client for `http://` and `https://` URLs whose HTTPS trusts [`roots`].
pub fn https_connector() -> hyper_rustls::HttpsConnector<HttpConnector> {
    let mut http = HttpConnector::new();
    http.set_connect_timeout(Some(std::time::Duration::from_secs(10)));
    http.enforce_http(false);
    hyper_rustls::HttpsConnectorBuilder::new()
        .with_tls_config(client_config())
        .https_or_http()
        .enable_http1()
        .wrap_connector(http)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fingerprints_compare_without_case_prefix_or_colons() {
        let der = b"not really a certificate";
        let f = fingerprint(der);
        assert!(f.starts_with("sha256:") && f.len() == 71, "{f}");
        assert!(same_fingerprint(&f, &f.to_uppercase()));
        assert!(same_fingerprint(&f, f.trim_start_matches("sha256:")));
        assert!(!same_fingerprint(&f, &fingerprint(b"another")));
        assert!(!same_fingerprint("", "sha256:"));
    }

    #[test]
    fn a_pem_without_a_certificate_has_no_der() {
        assert!(pem_der("hello").is_none());
        assert!(pem_der("-----BEGIN CERTIFICATE-----\n-----END CERTIFICATE-----\n").is_none());
        let pem = "-----BEGIN CERTIFICATE-----\naGVsbG8=\n-----END CERTIFICATE-----\n";
        assert_eq!(pem_der(pem).unwrap(), b"hello");
    }
}
