//! The lab shell's `docker` on a real Docker engine: on real AWS, when an engine answers, the shell
//! hands `docker ...` to the real docker CLI (DESIGN §6, issue 8: "the real engine when present, else
//! the built-in client"). The shell's docker config (`$DOCKER_CONFIG`, the lab's own directory) goes
//! with it, so a fault that empties it (missing-login) and the checks that read it see what docker
//! itself wrote. The guide's sample image is loaded into the engine the first time it is needed.
//!
//! `ECR_LAB_DOCKER=engine|builtin` chooses explicitly (on the mock too: the engine then reaches the
//! mock's registry at its loopback address, as with `--tools real`).

use std::process::Stdio;
use std::time::Duration;

use tokio::io::AsyncWriteExt as _;

use super::{Io, Session};
use crate::backend::{BackendKind, EcrBackend, REGISTRY_URL_ENV};

pub const CHOICE_ENV: &str = "ECR_LAB_DOCKER";

/// Whether a new shell on `backend` should use the real engine.
pub fn wanted(backend: &EcrBackend) -> bool {
    match std::env::var(CHOICE_ENV).as_deref() {
        Ok("engine") => true,
        Ok("builtin") => false,
        // The registry override is understood by the built-in client only.
        _ => backend.kind == BackendKind::Aws && std::env::var_os(REGISTRY_URL_ENV).is_none() && answers(),
    }
}

/// Whether `docker version` reaches an engine within two seconds.
pub fn answers() -> bool {
    let Ok(mut child) = std::process::Command::new("docker")
        .args(["version", "--format", "{{.Server.Version}}"])
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
    else {
        return false;
    };
    let deadline = std::time::Instant::now() + Duration::from_secs(2);
    loop {
        match child.try_wait() {
            Ok(Some(status)) => return status.success(),
            Ok(None) if std::time::Instant::now() < deadline => std::thread::sleep(Duration::from_millis(50)),
            _ => {
                let _ = child.kill();
                let _ = child.wait();
                return false;
            }
        }
    }
}

/// Runs `docker ARGS` on the engine with the shell's docker config; stdin from the pipe.
pub async fn run(session: &mut Session, args: &[String], io: &mut Io) -> i32 {
    if !session.engine_has_samples {
        if let Err(why) = load_samples(session).await {
            io.eprintln(format!("lab: could not load the sample images into the Docker engine: {why}"));
        }
        session.engine_has_samples = true;
    }
    match docker(session, args, &io.stdin).await {
        Ok((status, out, err)) => {
            io.out.extend_from_slice(&out);
            io.err.extend_from_slice(&err);
            status
        }
        Err(e) => {
            io.eprintln(format!("lab: cannot run docker: {e}"));
            127
        }
    }
}

async fn docker(session: &Session, args: &[String], stdin: &[u8]) -> std::io::Result<(i32, Vec<u8>, Vec<u8>)> {
    let mut child = tokio::process::Command::new("docker")
        .args(args)
        .env("DOCKER_CONFIG", super::docker::private_config_dir(session)?)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .kill_on_drop(true)
        .spawn()?;
    let mut input = child.stdin.take().expect("piped");
    let bytes = stdin.to_vec();
    // Written beside the wait, so a large input cannot block against a full output pipe.
    let writer = tokio::spawn(async move {
        let _ = input.write_all(&bytes).await;
    });
    let output = child.wait_with_output().await?;
    let _ = writer.await;
    Ok((output.status.code().unwrap_or(1), output.stdout, output.stderr))
}

/// `docker load`s the guide's sample images the engine does not have yet.
async fn load_samples(session: &Session) -> Result<(), String> {
    for (reference, version) in [(crate::sample::REFERENCE, "v1"), (crate::sample::REFERENCE_V2, "v2")] {
        let (present, ..) = docker(session, &["image".into(), "inspect".into(), reference.into()], b"")
            .await
            .map_err(|e| e.to_string())?;
        if present == 0 {
            continue;
        }
        let archive = crate::sample::build_version(version).docker_archive_as(reference);
        let (status, _, err) =
            docker(session, &["load".into(), "--quiet".into()], &archive).await.map_err(|e| e.to_string())?;
        if status != 0 {
            return Err(format!("docker load {reference}: {}", String::from_utf8_lossy(&err).trim()));
        }
    }
    Ok(())
}

/// Whether the Docker engine has an image by this name (the `local.image` check, in the lab shell on
/// an engine and with `--tools real`).
pub fn has_image(reference: &str) -> Result<bool, String> {
    std::process::Command::new("docker")
        .args(["image", "inspect", reference])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .map(|s| s.success())
        .map_err(|e| format!("cannot run docker: {e}"))
}
