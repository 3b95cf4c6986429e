//! `ecr-lab keygen`, `ecr-lab sign` and `ecr-lab verify-signature`: cosign's commands for a key pair,
//! against the registry an image reference names, with docker's credentials (its config.json: a stored
//! login, or a credential helper such as `ecr-lab`'s own).

use std::io::IsTerminal as _;
use std::path::Path;

use anyhow::{Context as _, Result, bail};
use base64::Engine as _;

use super::{Failure, Repo, SigningKey, VerifyingKey, keys};
use crate::credential_helper::{self, Login, Registry};
use crate::registry_client::RegistryClient;

/// The passphrase: `COSIGN_PASSWORD` (as cosign reads it; it may be empty), else asked on a terminal.
fn passphrase(confirm: bool) -> Result<Vec<u8>> {
    if let Ok(value) = std::env::var("COSIGN_PASSWORD") {
        return Ok(value.into_bytes());
    }
    if !std::io::stdin().is_terminal() {
        bail!("set COSIGN_PASSWORD to the private key's passphrase (it may be empty: COSIGN_PASSWORD=)");
    }
    let mut prompt = inquire::Password::new("Enter password for private key:");
    if !confirm {
        prompt = prompt.without_confirmation();
    }
    Ok(prompt.prompt().context("no passphrase given")?.into_bytes())
}

/// `ecr-lab keygen`: PREFIX.key (0600, encrypted) and PREFIX.pub, refusing to overwrite either.
pub fn keygen(prefix: &str) -> Result<()> {
    let private = format!("{prefix}.key");
    let public = format!("{prefix}.pub");
    for file in [&private, &public] {
        if Path::new(file).exists() {
            bail!("{file} already exists; move it away or pass --output-key-prefix NAME");
        }
    }
    let written = keys::generate(&passphrase(true)?).map_err(anyhow::Error::msg)?;
    crate::paths::write_private(Path::new(&private), written.private_pem.as_bytes())
        .with_context(|| format!("writing {private}"))?;
    std::fs::write(&public, &written.public_pem).with_context(|| format!("writing {public}"))?;
    eprintln!("Private key written to {private}");
    eprintln!("Public key written to {public}");
    Ok(())
}

/// The registry client and credentials for `host`: the mock at `http://HOST` for an IP address or
/// localhost; ECR at itself (or at `ECR_LAB_REGISTRY_URL`).
async fn reach(host: &str) -> (RegistryClient, Option<String>) {
    let client = match Registry::of(host) {
        Ok(Registry::Mock { endpoint, .. }) => RegistryClient::new(&endpoint),
        _ => match std::env::var(crate::backend::REGISTRY_URL_ENV).ok().filter(|u| !u.is_empty()) {
            Some(url) => RegistryClient::new(&url),
            None => RegistryClient::direct(),
        },
    };
    (client, docker_auth(host).await)
}

/// The `Basic …` header docker would send to `host`, from its config.json.
async fn docker_auth(host: &str) -> Option<String> {
    let dir = credential_helper::docker_config_dir(None).ok()?;
    let config: serde_json::Value = serde_json::from_slice(&std::fs::read(dir.join("config.json")).ok()?).ok()?;
    let (user, secret) = match credential_helper::login_kind(&config, host) {
        Login::Password => return config["auths"][host]["auth"].as_str().map(|a| format!("Basic {a}")),
        Login::Helper(name) if name == credential_helper::HELPER => credential_helper::get(host).await.ok()?,
        Login::Helper(name) => credential_helper::run_external(&name, host)?,
        Login::None => return None,
    };
    Some(format!("Basic {}", base64::engine::general_purpose::STANDARD.encode(format!("{user}:{secret}"))))
}

/// An image reference with its registry: `HOST/REPO[:TAG|@DIGEST]`, the tag `latest` if none.
fn parse(image: &str) -> Result<(String, String, String)> {
    let reference = crate::reference::Reference::parse(image).map_err(|e| anyhow::anyhow!("{image}: {e}"))?;
    let Some(host) = reference.host.clone() else {
        bail!("{image} names no registry: give HOST/REPO:TAG, e.g. 127.0.0.1:5000/test:v1")
    };
    let target = reference.digest.clone().unwrap_or_else(|| reference.tag_or_latest().to_owned());
    Ok((host, reference.path, target))
}

/// `ecr-lab sign IMAGE --key KEY`.
pub async fn sign(image: &str, key: &Path) -> Result<()> {
    let text = std::fs::read_to_string(key).with_context(|| format!("reading the private key {}", key.display()))?;
    let key = SigningKey::from_encrypted_pem(&text, &passphrase(false)?).map_err(anyhow::Error::msg)?;
    let (host, repository, target) = parse(image)?;
    let (client, auth) = reach(&host).await;
    let repo = Repo { client: &client, host: &host, repository: &repository, auth: auth.as_deref() };
    match super::sign(&repo, &target, &key).await {
        Ok(signed) => {
            eprintln!("Pushing signature to: {}", signed.location);
            Ok(())
        }
        Err(failure) => bail!("signing {image}: {failure}"),
    }
}

/// `ecr-lab verify-signature IMAGE --key PUB`: cosign's report and payloads, or its error (exit 1).
pub async fn verify(image: &str, key: &Path) -> Result<i32> {
    let text = std::fs::read_to_string(key).with_context(|| format!("reading the public key {}", key.display()))?;
    let key = VerifyingKey::from_pem(&text).map_err(anyhow::Error::msg)?;
    let (host, repository, target) = parse(image)?;
    let (client, auth) = reach(&host).await;
    let repo = Repo { client: &client, host: &host, repository: &repository, auth: auth.as_deref() };
    Ok(report(image, super::verify(&repo, &target, &key).await, &mut |out, line| {
        if out {
            println!("{line}");
        } else {
            eprintln!("{line}");
        }
    }))
}

/// Prints a verification's outcome as cosign does (`out` true: stdout) and returns the exit status.
pub fn report(image: &str, outcome: Result<Vec<serde_json::Value>, Failure>, print: &mut dyn FnMut(bool, &str)) -> i32 {
    match outcome {
        Ok(claims) => {
            print(false, super::verified_lines(image).trim_end());
            print(true, &serde_json::Value::Array(claims).to_string());
            0
        }
        Err(failure) => {
            print(false, &format!("Error: {failure}"));
            if let Some(advice) = failure.advice(image) {
                print(false, &advice);
            }
            1
        }
    }
}
