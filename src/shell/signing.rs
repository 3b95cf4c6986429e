//! The lab shell's `keygen`, `sign` and `verify-signature` (also as `ecr-lab keygen|sign|verify-signature`):
//! cosign's key-pair commands against the shell's registry, with the shell's docker credentials.
//! Key files are in the shell's home (`~/cosign.key`; a relative name is taken there too), and the
//! passphrase is the shell's `COSIGN_PASSWORD` (empty when unset, said when the pair is written).

use std::path::PathBuf;

use super::{Io, Session};
use crate::signing::{self, Repo, SigningKey, VerifyingKey, keys};

pub(super) async fn run(session: &mut Session, command: &str, args: &[String], io: &mut Io) -> i32 {
    match command {
        "keygen" => keygen(session, args, io),
        "sign" | "verify-signature" => {
            let (Some(image), Some(key)) = (args.first(), flag(args, "--key")) else {
                io.eprintln(format!(
                    "usage: {command} IMAGE --key {}",
                    if command == "sign" { "cosign.key" } else { "cosign.pub" }
                ));
                return 2;
            };
            if command == "sign" {
                sign(session, image, &key, io).await
            } else {
                verify(session, image, &key, io).await
            }
        }
        _ => 127,
    }
}

fn flag(args: &[String], name: &str) -> Option<String> {
    args.iter().position(|a| a == name).and_then(|i| args.get(i + 1)).cloned()
}

fn file(session: &Session, name: &str) -> PathBuf {
    match name.strip_prefix("~/") {
        Some(rest) => session.home.join(rest),
        None if PathBuf::from(name).is_absolute() => PathBuf::from(name),
        None => session.home.join(name),
    }
}

fn passphrase(session: &Session) -> Vec<u8> {
    session.vars.get("COSIGN_PASSWORD").cloned().unwrap_or_default().into_bytes()
}

fn keygen(session: &Session, args: &[String], io: &mut Io) -> i32 {
    let prefix = flag(args, "--output-key-prefix").unwrap_or_else(|| "cosign".to_owned());
    let private = file(session, &format!("{prefix}.key"));
    let public = file(session, &format!("{prefix}.pub"));
    if private.exists() || public.exists() {
        io.eprintln(format!(
            "Error: {} already exists; pass --output-key-prefix NAME for another pair",
            private.display()
        ));
        return 1;
    }
    let written = match keys::generate(&passphrase(session)) {
        Ok(written) => written,
        Err(e) => {
            io.eprintln(format!("Error: {e}"));
            return 1;
        }
    };
    let saved = crate::paths::write_private(&private, written.private_pem.as_bytes())
        .and_then(|()| std::fs::write(&public, &written.public_pem));
    if let Err(e) = saved {
        io.eprintln(format!("Error: writing the key pair: {e}"));
        return 1;
    }
    if !session.vars.contains_key("COSIGN_PASSWORD") {
        io.eprintln("(COSIGN_PASSWORD is not set: the private key is encrypted with an empty passphrase)");
    }
    io.eprintln(format!("Private key written to {}", private.display()));
    io.eprintln(format!("Public key written to {}", public.display()));
    0
}

/// The repository an image reference names, with the credentials the shell's docker holds for it.
async fn repo_parts(session: &Session, image: &str, io: &mut Io) -> Option<(String, String, String, Option<String>)> {
    let reference = match crate::reference::Reference::parse(image) {
        Ok(reference) => reference,
        Err(e) => {
            io.eprintln(format!("Error: {image}: {e}"));
            return None;
        }
    };
    let Some(host) = reference.host.clone() else {
        io.eprintln(format!("Error: {image} names no registry: give REGISTRY/REPO:TAG"));
        return None;
    };
    let target = reference.digest.clone().unwrap_or_else(|| reference.tag_or_latest().to_owned());
    let auth = super::docker::authorization(session, &host).await;
    Some((host, reference.path, target, auth))
}

async fn sign(session: &Session, image: &str, key: &str, io: &mut Io) -> i32 {
    let key = match std::fs::read_to_string(file(session, key))
        .map_err(|e| format!("reading {key}: {e}"))
        .and_then(|text| SigningKey::from_encrypted_pem(&text, &passphrase(session)))
    {
        Ok(key) => key,
        Err(e) => {
            io.eprintln(format!("Error: {e}"));
            return 1;
        }
    };
    let Some((host, repository, target, auth)) = repo_parts(session, image, io).await else { return 1 };
    let repo = Repo { client: &session.registry, host: &host, repository: &repository, auth: auth.as_deref() };
    match signing::sign(&repo, &target, &key).await {
        Ok(signed) => {
            io.eprintln(format!("Pushing signature to: {}", signed.location));
            0
        }
        Err(failure) => {
            io.eprintln(format!("Error: signing {image}: {failure}"));
            1
        }
    }
}

async fn verify(session: &Session, image: &str, key: &str, io: &mut Io) -> i32 {
    let key = match std::fs::read_to_string(file(session, key))
        .map_err(|e| format!("reading {key}: {e}"))
        .and_then(|text| VerifyingKey::from_pem(&text))
    {
        Ok(key) => key,
        Err(e) => {
            io.eprintln(format!("Error: {e}"));
            return 1;
        }
    };
    let Some((host, repository, target, auth)) = repo_parts(session, image, io).await else { return 1 };
    let repo = Repo { client: &session.registry, host: &host, repository: &repository, auth: auth.as_deref() };
    let outcome = signing::verify(&repo, &target, &key).await;
    signing::command::report(image, outcome, &mut |out, line| if out { io.println(line) } else { io.eprintln(line) })
}
