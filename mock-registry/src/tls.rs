//! HTTPS for a class (`ecr-lab class serve --tls`): a class CA made on first start (rcgen) and kept
//! in the data dir (`class-ca.pem`, and its key `class-ca.key`, 0600), and a server certificate
//! signed by it at every start for `localhost`, `127.0.0.1`, `::1` and the names and addresses
//! given. Students' docker engines trust the CA (`GET /class/ca.pem`, `certs.d`); [`serve_tls`]
//! serves the same router as [`serve`](crate::serve), TLS (rustls with ring) on each connection.

use std::future::Future;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use axum::extract::ConnectInfo;
use hyper_util::rt::TokioIo;
use hyper_util::service::TowerToHyperService;
use rcgen::{
    BasicConstraints, CertificateParams, DnType, ExtendedKeyUsagePurpose, IsCa, Issuer, KeyPair, KeyUsagePurpose,
};
use rustls::pki_types::{CertificateDer, PrivateKeyDer, PrivatePkcs8KeyDer};
use tokio::net::TcpListener;

use crate::Lab;

const CA_CERT: &str = "class-ca.pem";
const CA_KEY: &str = "class-ca.key";
/// How long a client has to finish its TLS handshake.
const HANDSHAKE_TIMEOUT: Duration = Duration::from_secs(10);

/// Why the class's TLS could not be set up.
#[derive(Debug, thiserror::Error)]
pub enum TlsError {
    #[error("{path}: {source}")]
    Io { path: PathBuf, source: std::io::Error },
    #[error(
        "the class CA in {0} cannot be read ({1}); move class-ca.pem and class-ca.key away to make a new CA (students then fetch /class/ca.pem again)"
    )]
    BadCa(PathBuf, String),
    #[error("making the class certificates failed: {0}")]
    Generate(String),
}

/// The class CA and a server certificate it signed, ready to serve.
pub struct ClassTls {
    ca_pem: String,
    config: Arc<rustls::ServerConfig>,
}

fn ca_params() -> CertificateParams {
    let mut params = CertificateParams::default();
    params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    params.distinguished_name.push(DnType::CommonName, "ecr-lab class CA");
    params.distinguished_name.push(DnType::OrganizationName, "ecr-lab");
    params.key_usages = vec![KeyUsagePurpose::KeyCertSign, KeyUsagePurpose::CrlSign, KeyUsagePurpose::DigitalSignature];
    params
}

fn generate(e: rcgen::Error) -> TlsError {
    TlsError::Generate(e.to_string())
}

/// Writes `text` to `path`, readable by the owner only.
fn write_private(path: &Path, text: &str) -> Result<(), TlsError> {
    use std::io::Write as _;
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create(true).truncate(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    let io = |source| TlsError::Io { path: path.to_path_buf(), source };
    let mut file = options.open(path).map_err(io)?;
    file.write_all(text.as_bytes()).map_err(io)?;
    file.sync_all().map_err(io)
}

/// The CA's certificate (PEM) and key: the stored ones, or new ones stored in `dir`.
fn load_or_create_ca(dir: &Path) -> Result<(String, KeyPair), TlsError> {
    let (cert_path, key_path) = (dir.join(CA_CERT), dir.join(CA_KEY));
    if key_path.exists() {
        let read = |path: &Path| {
            std::fs::read_to_string(path).map_err(|source| TlsError::Io { path: path.to_path_buf(), source })
        };
        let (cert, key) = (read(&cert_path)?, read(&key_path)?);
        crate::state::journal::tighten(&key_path, 0o600)
            .map_err(|source| TlsError::Io { path: key_path.clone(), source })?;
        let key = KeyPair::from_pem(&key).map_err(|e| TlsError::BadCa(dir.to_path_buf(), e.to_string()))?;
        return Ok((cert, key));
    }
    crate::state::journal::create_private_dir(dir)
        .map_err(|source| TlsError::Io { path: dir.to_path_buf(), source })?;
    let key = KeyPair::generate().map_err(generate)?;
    let cert = ca_params().self_signed(&key).map_err(generate)?;
    write_private(&key_path, &key.serialize_pem())?;
    write_private(&cert_path, &cert.pem())?;
    Ok((cert.pem(), key))
}

impl ClassTls {
    /// The class CA in `dir` (made on first use) and a new server certificate for `localhost`,
    /// `127.0.0.1`, `::1` and `names` (host names or IP addresses).
    pub fn load_or_create(dir: &Path, names: &[String]) -> Result<Self, TlsError> {
        let (ca_pem, ca_key) = load_or_create_ca(dir)?;
        let ca_der = pem_der(&ca_pem).ok_or_else(|| TlsError::BadCa(dir.to_path_buf(), "no certificate".into()))?;
        let issuer = Issuer::new(ca_params(), ca_key);
        let mut sans: Vec<String> = vec!["localhost".into(), "127.0.0.1".into(), "::1".into()];
        sans.extend(names.iter().filter(|n| !n.is_empty()).cloned());
        sans.dedup();
        let mut params = CertificateParams::new(sans).map_err(generate)?;
        params.distinguished_name.push(DnType::CommonName, "ecr-lab class server");
        params.extended_key_usages = vec![ExtendedKeyUsagePurpose::ServerAuth];
        params.key_usages = vec![KeyUsagePurpose::DigitalSignature, KeyUsagePurpose::KeyEncipherment];
        let key = KeyPair::generate().map_err(generate)?;
        let cert = params.signed_by(&key, &issuer).map_err(generate)?;
        let chain = vec![cert.der().clone(), CertificateDer::from(ca_der)];
        let private = PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(key.serialize_der()));
        let provider = Arc::new(rustls::crypto::ring::default_provider());
        let mut config = rustls::ServerConfig::builder_with_provider(provider)
            .with_safe_default_protocol_versions()
            .map_err(|e| TlsError::Generate(e.to_string()))?
            .with_no_client_auth()
            .with_single_cert(chain, private)
            .map_err(|e| TlsError::Generate(e.to_string()))?;
        config.alpn_protocols = vec![b"http/1.1".to_vec()];
        Ok(Self { ca_pem, config: Arc::new(config) })
    }

    /// The class CA's certificate, PEM: what a student's docker engine is told to trust.
    pub fn ca_pem(&self) -> &str {
        &self.ca_pem
    }

    /// `sha256:HEX` of the CA certificate's DER bytes: what `ecr-lab join --ca` checks.
    pub fn ca_fingerprint(&self) -> String {
        use sha2::Digest as _;
        let der = pem_der(&self.ca_pem).unwrap_or_default();
        format!("sha256:{}", hex::encode(sha2::Sha256::digest(&der)))
    }
}

/// The DER bytes of the first certificate in a PEM text.
fn pem_der(pem: &str) -> Option<Vec<u8>> {
    use base64::Engine as _;
    let body = pem.split("-----BEGIN CERTIFICATE-----").nth(1)?.split("-----END CERTIFICATE-----").next()?;
    let text: String = body.chars().filter(|c| !c.is_whitespace()).collect();
    base64::engine::general_purpose::STANDARD.decode(text).ok()
}

/// [`serve`](crate::serve) over HTTPS with `tls`: each accepted connection does its handshake in
/// its own task (a slow client holds up no other), then is served HTTP/1.1. `GET /class/ca.pem`
/// answers the CA from then on. Stops accepting when `shutdown` resolves.
pub async fn serve_tls(
    listener: TcpListener,
    lab: Lab,
    tls: ClassTls,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    let app = crate::router(lab.clone());
    serve_tls_app(listener, &lab, app, tls, shutdown).await
}

/// [`serve_tls`] for [`router`](crate::router) with more routes merged in by the program that
/// embeds the mock (the lab's slides), like [`serve_app`](crate::serve_app) over plain HTTP.
pub async fn serve_tls_app(
    listener: TcpListener,
    lab: &Lab,
    app: axum::Router,
    tls: ClassTls,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    lab.class_runtime().set_ca_pem(tls.ca_pem.clone());
    let (idle, open) = (lab.idle_timeout(), Arc::new(std::sync::atomic::AtomicUsize::new(0)));
    let app = app.layer(axum::middleware::from_fn(crate::keep_alive::keep_connection_usable));
    let acceptor = tokio_rustls::TlsAcceptor::from(tls.config);
    tokio::pin!(shutdown);
    loop {
        let (tcp, peer) = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok(accepted) => accepted,
                Err(e) => {
                    tracing::warn!("accepting a connection failed: {e}");
                    tokio::time::sleep(Duration::from_millis(50)).await;
                    continue;
                }
            },
            () = &mut shutdown => return Ok(()),
        };
        let _ = tcp.set_nodelay(true);
        // Idle and stalled connections close themselves, as over plain HTTP.
        let tcp = crate::server::IdleIo::new(tcp, idle, open.clone());
        let (acceptor, app) = (acceptor.clone(), app.clone());
        tokio::spawn(async move {
            let Ok(Ok(stream)) = tokio::time::timeout(HANDSHAKE_TIMEOUT, acceptor.accept(tcp)).await else { return };
            serve_connection(stream, peer, app).await;
        });
    }
}

async fn serve_connection<S>(stream: S, peer: SocketAddr, app: axum::Router)
where
    S: tokio::io::AsyncRead + tokio::io::AsyncWrite + Unpin + Send + 'static,
{
    let service = TowerToHyperService::new(app.layer(axum::Extension(ConnectInfo(peer))));
    let _ = hyper::server::conn::http1::Builder::new().serve_connection(TokioIo::new(stream), service).await;
}

#[cfg(test)]
mod tests {
    use super::*;
    use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};

    #[tokio::test]
    async fn a_class_ca_is_kept_and_serves_https_with_its_pem() {
        let dir = tempfile::tempdir().unwrap();
        let tls = ClassTls::load_or_create(dir.path(), &["10.0.0.7".into(), "class.local".into()]).unwrap();
        let again = ClassTls::load_or_create(dir.path(), &[]).unwrap();
        assert_eq!(tls.ca_pem(), again.ca_pem(), "the CA is made once and kept");
        let fingerprint = tls.ca_fingerprint();
        assert!(fingerprint.starts_with("sha256:") && fingerprint.len() == 7 + 64, "{fingerprint}");
        assert_eq!(fingerprint, again.ca_fingerprint());
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt as _;
            let mode = std::fs::metadata(dir.path().join(CA_KEY)).unwrap().permissions().mode();
            assert_eq!(mode & 0o777, 0o600);
        }
        let ca_pem = tls.ca_pem().to_owned();

        let lab = Lab::ephemeral().unwrap();
        lab.set_class(crate::ClassConfig { name: "c".into(), course: vec![], stuck_after_minutes: 5 });
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
        let served = tokio::spawn(serve_tls(listener, lab, tls, async {
            let _ = stopped.await;
        }));

        let mut roots = rustls::RootCertStore::empty();
        roots.add(CertificateDer::from(pem_der(&ca_pem).unwrap())).unwrap();
        let provider = Arc::new(rustls::crypto::ring::default_provider());
        let config = rustls::ClientConfig::builder_with_provider(provider)
            .with_safe_default_protocol_versions()
            .unwrap()
            .with_root_certificates(roots)
            .with_no_client_auth();
        let connector = tokio_rustls::TlsConnector::from(Arc::new(config));
        let tcp = tokio::net::TcpStream::connect(addr).await.unwrap();
        let name = rustls::pki_types::ServerName::try_from("127.0.0.1").unwrap();
        let mut stream = connector.connect(name, tcp).await.expect("the server's certificate chains to the class CA");
        let request = format!("GET /class/ca.pem HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n\r\n");
        stream.write_all(request.as_bytes()).await.unwrap();
        let mut answer = String::new();
        let _ = stream.read_to_string(&mut answer).await;
        assert!(answer.starts_with("HTTP/1.1 200"), "{answer}");
        assert!(answer.ends_with(&ca_pem), "{answer}");

        // A name the certificate does not hold is refused by the client.
        let tcp = tokio::net::TcpStream::connect(addr).await.unwrap();
        let other = rustls::pki_types::ServerName::try_from("elsewhere.example").unwrap();
        assert!(connector.connect(other, tcp).await.is_err());
        let _ = stop.send(());
        served.await.unwrap().unwrap();
    }
}
