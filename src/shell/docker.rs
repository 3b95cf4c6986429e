//! The built-in `docker`: login, logout, tag, push, pull, images, rmi, inspect, against the local
//! image store and the lab's registry, printing what docker 28 prints when its output is not a
//! terminal (plain progress lines), with its exit statuses.

use std::path::PathBuf;

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as B64;
use mock_registry::types::Digest;

use super::{Io, Session};
use crate::backend::BackendKind;
use crate::images::LocalImage;
use crate::reference::Reference;
use crate::registry_client::{RegistryError, Target};

pub const SUBCOMMANDS: &[&str] =
    &["login", "logout", "tag", "push", "pull", "images", "image", "rmi", "inspect", "--version"];
const VERSION: &str = "Docker version 28.2.2, build ecr-lab";

pub async fn run(session: &mut Session, args: &[String], io: &mut Io) -> i32 {
    let Some(command) = args.first() else {
        io.eprintln("Usage:  docker [OPTIONS] COMMAND\n\nRun 'docker --help' for more information");
        return 1;
    };
    let rest = &args[1..];
    match command.as_str() {
        "--version" | "-v" => {
            io.println(VERSION);
            0
        }
        "login" => login(session, rest, io).await,
        "logout" => logout(session, rest, io),
        "tag" => tag(session, rest, io),
        "push" => push(session, rest, io).await,
        "pull" => pull(session, rest, io).await,
        "images" => images(session, io),
        "rmi" => rmi(session, rest, io),
        "inspect" => inspect(session, rest, io),
        "image" => match rest.first().map(String::as_str) {
            Some("ls" | "list") => images(session, io),
            Some("rm" | "remove") => rmi(session, &rest[1..], io),
            Some("inspect") => inspect(session, &rest[1..], io),
            Some("tag") => tag(session, &rest[1..], io),
            Some("push") => push(session, &rest[1..], io).await,
            Some("pull") => pull(session, &rest[1..], io).await,
            other => {
                io.eprintln(format!(
                    "docker: unknown command: docker image {}\n\nRun 'docker image --help' for more information",
                    other.unwrap_or_default()
                ));
                1
            }
        },
        other => {
            io.eprintln(format!("docker: unknown command: docker {other}\n\nRun 'docker --help' for more information"));
            1
        }
    }
}

// ---- credentials: $DOCKER_CONFIG/config.json, as docker keeps them ----

pub(super) fn config_dir(session: &Session) -> PathBuf {
    session.var("DOCKER_CONFIG").map(PathBuf::from).unwrap_or_else(|| session.home.join("docker"))
}

fn read_config(session: &Session) -> serde_json::Value {
    std::fs::read(config_dir(session).join("config.json"))
        .ok()
        .and_then(|bytes| serde_json::from_slice(&bytes).ok())
        .unwrap_or_else(|| serde_json::json!({ "auths": {} }))
}

/// The docker config directory, made private: config.json holds registry passwords, so it is 0600 in a
/// 0700 directory (narrowed if it is the lab's own or an older version's file; a $DOCKER_CONFIG the
/// learner chose is only created so). The real docker CLI writes into it too (`engine`).
pub(super) fn private_config_dir(session: &Session) -> std::io::Result<PathBuf> {
    let dir = config_dir(session);
    if session.var("DOCKER_CONFIG").is_some() {
        crate::paths::private_dir(&dir)?;
    } else {
        crate::paths::lab_dir(&dir)?;
    }
    match crate::paths::tighten(&dir.join("config.json"), 0o600) {
        Err(e) if e.kind() != std::io::ErrorKind::NotFound => Err(e),
        _ => Ok(dir),
    }
}

fn write_config(session: &Session, config: &serde_json::Value) -> std::io::Result<()> {
    let dir = private_config_dir(session)?;
    let json = serde_json::to_vec_pretty(config).map_err(std::io::Error::other)?;
    crate::paths::write_private(&dir.join("config.json"), &json)
}

/// The `Basic ...` header docker would send to `host`, if logged in there.
pub(super) fn credentials(session: &Session, host: &str) -> Option<String> {
    read_config(session)["auths"][host]["auth"].as_str().map(|auth| format!("Basic {auth}"))
}

/// `ecr-lab credential-helper configure REGISTRY` in the shell: the shell's docker asks the lab's
/// helper for REGISTRY, and its stored password for REGISTRY is removed.
pub(super) fn configure_helper(session: &Session, registry: &str, remove: bool, io: &mut Io) -> i32 {
    let configured = private_config_dir(session)
        .map_err(anyhow::Error::from)
        .and_then(|dir| crate::credential_helper::configure(&dir, registry, remove));
    match configured {
        Ok((file, removed)) if remove => {
            let what = if removed { "removed" } else { "was not set" };
            io.println(format!("{}: credHelpers[{registry}] {what}; log in with `docker login` again", file.display()));
            0
        }
        Ok((file, removed)) => {
            io.println(format!(
                "{}: credHelpers[{registry}] = \"{}\"",
                file.display(),
                crate::credential_helper::HELPER
            ));
            if removed {
                io.println(format!("removed the password stored for {registry}"));
            }
            0
        }
        Err(error) => {
            io.eprintln(format!("ecr-lab: {error:#}"));
            1
        }
    }
}

/// How docker's config logs in to `host`.
pub(super) fn login_kind(session: &Session, host: &str) -> crate::credential_helper::Login {
    crate::credential_helper::login_kind(&read_config(session), host)
}

/// The credential helper docker's config names for `host` (`credHelpers`, else `credsStore`).
pub(super) fn helper_for(session: &Session, host: &str) -> Option<String> {
    match crate::credential_helper::login_kind(&read_config(session), host) {
        crate::credential_helper::Login::Helper(name) => Some(name),
        _ => None,
    }
}

/// What push and pull send to `host`: from the credential helper when one is configured for it (as
/// docker asks the helper first), else the stored login. The lab's own helper (`ecr-lab`) is asked in
/// process, at the lab's mock when the shell runs on one; any other helper is run as
/// `docker-credential-NAME get`, as docker runs it.
pub(super) async fn authorization(session: &Session, host: &str) -> Option<String> {
    let Some(helper) = helper_for(session, host) else { return credentials(session, host) };
    let answer = if helper == crate::credential_helper::HELPER {
        let registry = match session.backend.mock_endpoint() {
            Some(endpoint) => {
                crate::credential_helper::Registry::Mock { host: host.to_owned(), endpoint: endpoint.to_owned() }
            }
            None => crate::credential_helper::Registry::of(host).ok()?,
        };
        crate::credential_helper::get_for(&registry).await.ok()
    } else {
        crate::credential_helper::run_external(&helper, host)
    };
    answer.map(|(user, secret)| format!("Basic {}", B64.encode(format!("{user}:{secret}"))))
}

/// Whether `host` is a registry the lab can reach: any ECR-shaped host, or the mock's own address.
fn reachable(session: &Session, host: &str) -> bool {
    // On real AWS every registry is reached at itself; the network decides.
    let Some(endpoint) = session.backend.mock_endpoint() else { return true };
    let own = endpoint.trim_start_matches("http://");
    let port = own.rsplit(':').next().unwrap_or_default();
    let is_ecr = host.split('.').nth(1) == Some("dkr")
        && host.split('.').next().is_some_and(|a| a.len() == 12 && a.bytes().all(|b| b.is_ascii_digit()));
    is_ecr || host == own || host == format!("localhost:{port}")
}

/// The URL scheme docker ends up using: plain HTTP for loopback registries, HTTPS otherwise.
fn scheme(host: &str) -> &'static str {
    if host.starts_with("127.") || host.starts_with("localhost") { "http" } else { "https" }
}

fn unreachable_error(host: &str) -> String {
    let host = if host == "docker.io" { "registry-1.docker.io" } else { host };
    let name = host.split(':').next().unwrap_or(host);
    format!(
        "Get \"https://{host}/v2/\": dial tcp: lookup {name}: no such host (the lab has no internet; push to the lab's registry, e.g. 920736617090.dkr.ecr.ap-south-1.amazonaws.com)"
    )
}

async fn login(session: &mut Session, args: &[String], io: &mut Io) -> i32 {
    let mut username = None;
    let mut password = None;
    let mut password_stdin = false;
    let mut server = None;
    let mut i = 0;
    while i < args.len() {
        match args[i].as_str() {
            "-u" | "--username" => {
                username = args.get(i + 1).cloned();
                i += 1;
            }
            "-p" | "--password" => {
                password = args.get(i + 1).cloned();
                i += 1;
            }
            "--password-stdin" => password_stdin = true,
            flag if flag.starts_with('-') => {
                io.eprintln(format!("unknown flag: {flag}\nSee 'docker login --help'."));
                return 125;
            }
            host => {
                server = Some(
                    host.trim_start_matches("https://").trim_start_matches("http://").trim_end_matches('/').to_owned(),
                )
            }
        }
        i += 1;
    }
    if password.is_some() {
        if password_stdin {
            io.eprintln("--password and --password-stdin are mutually exclusive");
            return 1;
        }
        io.eprintln("WARNING! Using --password via the CLI is insecure. Use --password-stdin.");
    }
    if password_stdin {
        if username.is_none() {
            io.eprintln("Must provide --username with --password-stdin");
            return 1;
        }
        let text = String::from_utf8_lossy(&io.stdin).trim_end_matches(['\n', '\r']).to_owned();
        password = Some(text);
    }
    let (Some(username), Some(password)) = (username, password.filter(|p| !p.is_empty())) else {
        io.eprintln("Error: Cannot perform an interactive login from a non TTY device");
        return 1;
    };
    let host = server.unwrap_or_else(|| "docker.io".to_owned());
    if !reachable(session, &host) {
        io.eprintln(format!("Error response from daemon: {}", unreachable_error(&host)));
        return 1;
    }
    let auth = B64.encode(format!("{username}:{password}"));
    let header = format!("Basic {auth}");
    let target = Target { host: &host, repository: "", auth: Some(&header) };
    match session.registry.ping(&target).await {
        Ok(()) => {}
        Err(RegistryError::Unreachable(detail)) => {
            io.eprintln(format!("Error response from daemon: {detail}"));
            return 1;
        }
        Err(error) => {
            let status = match error {
                RegistryError::NoCredentials => "401 Unauthorized".to_owned(),
                RegistryError::Status(status) => status.to_string(),
                RegistryError::Coded { code, .. } if code == "DENIED" => "403 Forbidden".to_owned(),
                _ => "400 Bad Request".to_owned(),
            };
            io.eprintln(format!(
                "Error response from daemon: login attempt to {}://{host}/v2/ failed with status: {status}",
                scheme(&host)
            ));
            return 1;
        }
    }
    if helper_for(session, &host).as_deref() == Some(crate::credential_helper::HELPER) {
        // docker hands the login to the helper's `store`, which Amazon's helper (and this one) refuses.
        io.eprintln("Error saving credentials: error storing credentials - err: exit status 1, out: `not implemented`");
        return 1;
    }
    let mut config = read_config(session);
    config["auths"][host.as_str()] = serde_json::json!({ "auth": auth });
    if let Err(e) = write_config(session, &config) {
        io.eprintln(format!("Error saving credentials: {e}"));
        return 1;
    }
    io.println("Login Succeeded");
    io.eprintln("");
    io.eprintln(format!(
        "WARNING! Your credentials are stored unencrypted in '{}'.\nConfigure a credential helper to remove this warning. See\nhttps://docs.docker.com/go/credential-store/\n",
        config_dir(session).join("config.json").display()
    ));
    0
}

fn logout(session: &mut Session, args: &[String], io: &mut Io) -> i32 {
    let host = args
        .first()
        .map(|h| h.trim_start_matches("https://").trim_start_matches("http://").trim_end_matches('/').to_owned())
        .unwrap_or_else(|| "docker.io".into());
    let mut config = read_config(session);
    let removed = config["auths"].as_object_mut().and_then(|auths| auths.remove(&host)).is_some();
    if removed && let Err(e) = write_config(session, &config) {
        io.eprintln(format!("Error: {e}"));
        return 1;
    }
    if removed {
        io.println(format!("Removing login credentials for {host}"));
    } else {
        io.println(format!("Not logged in to {host}"));
    }
    0
}

fn parse_reference(text: &str, io: &mut Io, tagging: bool) -> Option<Reference> {
    match Reference::parse(text) {
        Ok(reference) => Some(reference),
        Err(error) if tagging => {
            io.eprintln(format!("Error parsing reference: \"{text}\" is not a valid repository/tag: {error}"));
            None
        }
        Err(error) => {
            io.eprintln(error.to_string());
            None
        }
    }
}

fn tag(session: &mut Session, args: &[String], io: &mut Io) -> i32 {
    let [source, target] = args else {
        io.eprintln("\"docker tag\" requires exactly 2 arguments.\nSee 'docker tag --help'.\n\nUsage:  docker tag SOURCE_IMAGE[:TAG] TARGET_IMAGE[:TAG]\n\nCreate a tag TARGET_IMAGE that refers to SOURCE_IMAGE");
        return 1;
    };
    let Some(source_ref) = parse_reference(source, io, true) else { return 1 };
    let Some(target_ref) = parse_reference(target, io, true) else { return 1 };
    match session.images.resolve(&source_ref) {
        Ok(Some(digest)) => match session.images.set(&target_ref, &digest) {
            Ok(()) => 0,
            Err(e) => {
                io.eprintln(format!("Error response from daemon: {e}"));
                1
            }
        },
        _ => {
            io.eprintln(format!("Error response from daemon: No such image: {source}"));
            1
        }
    }
}

/// docker's per-layer lines: on a terminal each layer has one line, rewritten in place as its state
/// changes; otherwise every state is a new line.
struct Progress {
    ids: Vec<String>,
}

impl Progress {
    fn start(ids: Vec<String>, first: &str, io: &mut Io) -> Self {
        for id in &ids {
            io.println(format!("{id}: {first}"));
        }
        Self { ids }
    }

    fn update(&self, id: &str, status: &str, io: &mut Io) {
        let line = format!("{id}: {status}");
        match self.ids.iter().position(|i| i == id) {
            Some(index) if io.tty => {
                let up = self.ids.len() - index;
                io.out.extend_from_slice(format!("\x1b[{up}A\r\x1b[2K{line}\x1b[{up}B\r").as_bytes());
            }
            _ => io.println(line),
        }
    }
}

fn short(id: &str) -> &str {
    let hex = id.trim_start_matches("sha256:");
    &hex[..hex.len().min(12)]
}

/// The image argument of push and pull: docker's usage error without one, and `latest` (said so)
/// when it names no tag.
fn image_argument(args: &[String], usage: &str, io: &mut Io) -> Option<Reference> {
    let Some(text) = args.iter().find(|a| !a.starts_with('-')) else {
        io.eprintln(usage);
        return None;
    };
    let reference = parse_reference(text, io, false)?;
    if reference.tag.is_none() && reference.digest.is_none() {
        io.println("Using default tag: latest");
    }
    Some(reference.with_default_tag())
}

async fn push(session: &mut Session, args: &[String], io: &mut Io) -> i32 {
    let usage = "\"docker push\" requires exactly 1 argument.\nSee 'docker push --help'.\n\nUsage:  docker push [OPTIONS] NAME[:TAG]\n\nUpload an image to a registry";
    let Some(reference) = image_argument(args, usage, io) else { return 1 };
    let host = reference.host.clone().unwrap_or_else(|| "docker.io".into());
    let shown = if reference.host.is_some() { reference.repository() } else { format!("docker.io/{}", reference.path) };
    io.println(format!("The push refers to repository [{shown}]"));
    let image = match session.images.resolve(&reference) {
        Ok(Some(digest)) => session.images.image(&digest),
        _ => {
            io.eprintln(format!("An image does not exist locally with the tag: {}", reference.repository()));
            return 1;
        }
    };
    let image = match image {
        Ok(image) => image,
        Err(e) => {
            io.eprintln(format!("error reading the local image: {e}"));
            return 1;
        }
    };
    // docker names layers by their diff id, top layer first.
    let ids: Vec<String> = image.diff_ids.iter().rev().map(|d| short(d).to_owned()).collect();
    let progress = Progress::start(ids.clone(), "Preparing", io);
    if !reachable(session, &host) {
        io.eprintln(unreachable_error(&host));
        return 1;
    }
    let auth = authorization(session, &host).await;
    let target = Target { host: &host, repository: &reference.path, auth: auth.as_deref() };
    let tag = reference.tag.as_deref().unwrap_or("latest");
    match push_image(session, &target, &image, &progress, tag, io).await {
        Ok(()) => {
            remember_repo_digest(session, &reference, &image.manifest_digest);
            io.println(format!("{tag}: digest: {} size: {}", image.manifest_digest, image.manifest.len()));
            0
        }
        Err(error) => {
            io.eprintln(error.to_string());
            // On real AWS, a refusal about the learner's permissions gets one line of what to do.
            if let (BackendKind::Aws, RegistryError::Coded { code, message }) = (session.backend.kind, &error)
                && let Some(fix) = crate::backend::explain::fix_for(code, message)
            {
                io.eprintln(format!("ecr-lab: what to do: {fix}"));
            }
            1
        }
    }
}

async fn push_image(
    session: &Session,
    target: &Target<'_>,
    image: &LocalImage,
    progress: &Progress,
    tag: &str,
    io: &mut Io,
) -> Result<(), RegistryError> {
    session.registry.ping(target).await?;
    // Layers in the order their ids were printed (top first), then the config, then the manifest.
    for ((digest, _, _), id) in image.layers.iter().rev().zip(&progress.ids) {
        if session.registry.blob_exists(target, digest).await? {
            progress.update(id, "Layer already exists", io);
            continue;
        }
        let bytes = session.images.blob(digest).map_err(|e| RegistryError::Unreachable(e.to_string()))?;
        session.registry.upload_blob(target, digest, bytes).await?;
        progress.update(id, "Pushed", io);
    }
    if !session.registry.blob_exists(target, &image.config_digest).await? {
        session.registry.upload_blob(target, &image.config_digest, image.config.clone()).await?;
    }
    session.registry.put_manifest(target, tag, &image.media_type, image.manifest.clone()).await
}

async fn pull(session: &mut Session, args: &[String], io: &mut Io) -> i32 {
    let usage = "\"docker pull\" requires exactly 1 argument.\nSee 'docker pull --help'.\n\nUsage:  docker pull [OPTIONS] NAME[:TAG|@DIGEST]\n\nDownload an image from a registry";
    let Some(reference) = image_argument(args, usage, io) else { return 1 };
    let host = reference.host.clone().unwrap_or_else(|| "docker.io".into());
    if !reachable(session, &host) {
        io.eprintln(format!("Error response from daemon: {}", unreachable_error(&host)));
        return 1;
    }
    let auth = authorization(session, &host).await;
    let target = Target { host: &host, repository: &reference.path, auth: auth.as_deref() };
    match pull_image(session, &reference, &target, io).await {
        Ok(()) => 0,
        Err(message) => {
            io.eprintln(format!("Error response from daemon: {message}"));
            1
        }
    }
}

/// Pulls `reference` from `target`, printing docker's progress; the error is the daemon's message.
async fn pull_image(
    session: &mut Session,
    reference: &Reference,
    target: &Target<'_>,
    io: &mut Io,
) -> Result<(), String> {
    let manifest = fetch_manifest(session, reference, target).await?;
    let digest = Digest::sha256_of(&manifest);
    let doc: serde_json::Value = serde_json::from_slice(&manifest).unwrap_or_default();
    let Some(layers) = doc["layers"].as_array() else {
        return Err("the lab's docker pulls single-platform images only (this is an index or an artifact)".into());
    };
    io.println(format!(
        "{}: Pulling from {}",
        reference.digest.as_deref().unwrap_or(reference.tag_or_latest()),
        reference.path
    ));
    let already = session.images.resolve(reference).ok().flatten() == Some(digest.clone());
    // With the image's config already here, docker has the image and prints no layer lines.
    let config = doc["config"]["digest"].as_str().and_then(|d| Digest::parse(d).ok());
    let config_present = config.as_ref().is_some_and(|d| session.images.has_blob(d));
    let mut descriptors: Vec<Digest> =
        layers.iter().filter_map(|l| l["digest"].as_str()).filter_map(|d| Digest::parse(d).ok()).collect();
    let layer_count = layers.len();
    descriptors.extend(config);
    download_blobs(session, target, &descriptors, layer_count, !config_present, io).await?;
    session
        .images
        .put_blob(&manifest)
        .and_then(|_| session.images.set(reference, &digest))
        .map_err(|e| e.to_string())?;
    remember_repo_digest(session, reference, &digest);
    io.println(format!("Digest: {digest}"));
    let status = if already { "Image is up to date for" } else { "Downloaded newer image for" };
    io.println(format!("Status: {status} {reference}"));
    io.println(reference.to_string());
    Ok(())
}

/// The manifest `reference` names, with docker's messages for what is not there.
async fn fetch_manifest(session: &Session, reference: &Reference, target: &Target<'_>) -> Result<Vec<u8>, String> {
    let wanted = reference.digest.clone().unwrap_or_else(|| reference.tag_or_latest().to_owned());
    let url = format!("{}://{}/v2/{}/manifests/{wanted}", scheme(target.host), target.host, reference.path);
    if let Err(error) = session.registry.ping(target).await {
        return Err(format!("Head \"{url}\": {error}"));
    }
    match session.registry.get_manifest(target, &wanted).await {
        Ok((manifest, _)) => Ok(manifest),
        Err(RegistryError::Coded { code, message }) if code == "NAME_UNKNOWN" => {
            Err(format!("repository {} not found: name unknown: {message}", reference.repository()))
        }
        Err(RegistryError::Coded { code, message }) if code == "MANIFEST_UNKNOWN" => {
            let shown = if reference.digest.is_some() {
                format!("{}@{wanted}", reference.repository())
            } else {
                format!("{}:{wanted}", reference.repository())
            };
            Err(format!("manifest for {shown} not found: manifest unknown: {message}"))
        }
        Err(error) => Err(format!("Head \"{url}\": {error}")),
    }
}

/// Fetches the blobs not already here (the first `layer_count` are layers, then the config),
/// printing docker's layer lines when `show_layers`: every layer's first line, then downloads,
/// then extraction in order.
async fn download_blobs(
    session: &Session,
    target: &Target<'_>,
    descriptors: &[Digest],
    layer_count: usize,
    show_layers: bool,
    io: &mut Io,
) -> Result<(), String> {
    let ids: Vec<String> = descriptors[..layer_count].iter().map(|d| short(d.as_str()).to_owned()).collect();
    let mut progress = None;
    if show_layers {
        let fetch: Vec<String> = ids
            .iter()
            .zip(descriptors)
            .filter(|(_, d)| !session.images.has_blob(d))
            .map(|(id, _)| id.clone())
            .collect();
        for (id, blob) in ids.iter().zip(descriptors) {
            if session.images.has_blob(blob) {
                io.println(format!("{id}: Already exists"));
            }
        }
        progress = Some(Progress::start(fetch, "Pulling fs layer", io));
    }
    for (n, blob) in descriptors.iter().enumerate() {
        if session.images.has_blob(blob) {
            continue;
        }
        let bytes = session.registry.get_blob(target, blob).await.map_err(|e| e.to_string())?;
        if Digest::sha256_of(&bytes) != *blob {
            return Err(format!("filesystem layer verification failed for digest {blob}"));
        }
        session.images.put_blob(&bytes).map_err(|e| e.to_string())?;
        if let (Some(progress), true) = (&progress, n < layer_count) {
            progress.update(&ids[n], "Verifying Checksum", io);
            progress.update(&ids[n], "Download complete", io);
        }
    }
    if let Some(progress) = &progress {
        for id in &progress.ids {
            progress.update(id, "Pull complete", io);
        }
    }
    Ok(())
}

/// docker keeps `REPOSITORY@DIGEST` for what it pushed or pulled (its RepoDigests).
fn remember_repo_digest(session: &Session, reference: &Reference, digest: &Digest) {
    let by_digest = Reference { tag: None, digest: Some(digest.to_string()), ..reference.clone() };
    let _ = session.images.set(&by_digest, digest);
}

/// go-units' HumanDuration, as `docker images` prints CREATED.
fn human_duration(seconds: i64) -> String {
    let hours = ((seconds as f64) / 3600.0 + 0.5) as i64;
    let minutes = seconds / 60;
    let text = match seconds {
        s if s < 1 => "Less than a second".to_owned(),
        1 => "1 second".to_owned(),
        s if s < 60 => format!("{s} seconds"),
        _ if minutes == 1 => "About a minute".to_owned(),
        _ if minutes < 60 => format!("{minutes} minutes"),
        _ if hours == 1 => "About an hour".to_owned(),
        _ if hours < 48 => format!("{hours} hours"),
        _ if hours < 24 * 7 * 2 => format!("{} days", hours / 24),
        _ if hours < 24 * 30 * 2 => format!("{} weeks", hours / 24 / 7),
        _ if hours < 24 * 365 * 2 => format!("{} months", hours / 24 / 30),
        _ => format!("{} years", seconds / 3600 / 24 / 365),
    };
    format!("{text} ago")
}

/// go-units' HumanSizeWithPrecision(size, 3): decimal units, three significant digits.
fn human_size(size: u64) -> String {
    const UNITS: [&str; 7] = ["B", "kB", "MB", "GB", "TB", "PB", "EB"];
    let mut value = size as f64;
    let mut unit = 0;
    while value >= 1000.0 && unit < UNITS.len() - 1 {
        value /= 1000.0;
        unit += 1;
    }
    let decimals = if value >= 100.0 {
        0
    } else if value >= 10.0 {
        1
    } else {
        2
    };
    let mut text = format!("{value:.decimals$}");
    if text.contains('.') {
        text = text.trim_end_matches('0').trim_end_matches('.').to_owned();
    }
    format!("{text}{}", UNITS[unit])
}

/// Seconds since an RFC 3339 UTC time such as `2025-09-03T00:00:00Z`.
fn age_seconds(created: &str) -> i64 {
    mock_registry::clock::unix_seconds() - mock_registry::clock::parse_rfc3339(created).unwrap_or(0)
}

fn images(session: &mut Session, io: &mut Io) -> i32 {
    let entries = match session.images.list() {
        Ok(entries) => entries,
        Err(e) => {
            io.eprintln(format!("Error response from daemon: {e}"));
            return 1;
        }
    };
    let mut rows = vec![["REPOSITORY".to_owned(), "TAG".into(), "IMAGE ID".into(), "CREATED".into(), "SIZE".into()]];
    for (name, digest) in entries.into_iter().filter(|(name, _)| !name.contains('@')) {
        let Ok(reference) = Reference::parse(&name) else { continue };
        let Ok(image) = session.images.image(&digest) else { continue };
        rows.push([
            reference.repository(),
            reference.tag.clone().unwrap_or_else(|| "<none>".into()),
            short(image.config_digest.as_str()).to_owned(),
            human_duration(age_seconds(&image.created)),
            human_size(image.unpacked_size),
        ]);
    }
    // docker's tabwriter: cells at least 10 wide, 3 spaces of padding, the last column unpadded.
    let widths: Vec<usize> =
        (0..4).map(|c| rows.iter().map(|r| r[c].chars().count() + 3).max().unwrap_or(0).max(10)).collect();
    for row in rows {
        let mut line = String::new();
        for (c, cell) in row.iter().enumerate() {
            if c < 4 {
                line.push_str(&format!("{cell:<width$}", width = widths[c]));
            } else {
                line.push_str(cell);
            }
        }
        io.println(line.trim_end());
    }
    0
}

fn rmi(session: &mut Session, args: &[String], io: &mut Io) -> i32 {
    let names: Vec<&String> = args.iter().filter(|a| !a.starts_with('-')).collect();
    if names.is_empty() {
        io.eprintln("\"docker rmi\" requires at least 1 argument.\nSee 'docker rmi --help'.\n\nUsage:  docker rmi [OPTIONS] IMAGE [IMAGE...]\n\nRemove one or more images");
        return 1;
    }
    let mut status = 0;
    for name in names {
        let reference = Reference::parse(name).ok().map(|r| r.with_default_tag());
        let removed = reference.as_ref().and_then(|r| session.images.remove(r).ok().flatten());
        let (Some(reference), Some((digest, _))) = (reference, removed) else {
            io.eprintln(format!("Error response from daemon: No such image: {name}"));
            status = 1;
            continue;
        };
        io.println(format!("Untagged: {reference}"));
        // The repository's digest reference goes with its last tag for this image.
        let remaining = session.images.list().unwrap_or_default();
        let repository = reference.repository();
        let same_repository = |n: &str| Reference::parse(n).is_ok_and(|r| r.repository() == repository);
        if !remaining.iter().any(|(n, d)| *d == digest && !n.contains('@') && same_repository(n)) {
            let by_digest = Reference { tag: None, digest: Some(digest.to_string()), ..reference.clone() };
            if let Ok(Some(_)) = session.images.remove(&by_digest) {
                io.println(format!("Untagged: {by_digest}"));
            }
        }
        let still_named = session.images.list().unwrap_or_default().iter().any(|(_, d)| *d == digest);
        if !still_named && let Ok(image) = session.images.image(&digest) {
            io.println(format!("Deleted: {}", image.config_digest));
        }
    }
    status
}

fn inspect(session: &mut Session, args: &[String], io: &mut Io) -> i32 {
    let mut found = Vec::new();
    let mut status = 0;
    for name in args.iter().filter(|a| !a.starts_with('-')) {
        let resolved = Reference::parse(name).ok().and_then(|r| session.images.resolve(&r).ok().flatten());
        let Some(image) = resolved.and_then(|d| session.images.image(&d).ok()) else {
            io.eprintln(format!("Error: No such object: {name}"));
            status = 1;
            continue;
        };
        let config: serde_json::Value = serde_json::from_slice(&image.config).unwrap_or_default();
        let (digests, tags): (Vec<String>, Vec<String>) = session
            .images
            .list()
            .unwrap_or_default()
            .into_iter()
            .filter(|(_, d)| *d == image.manifest_digest)
            .map(|(n, _)| n)
            .partition(|n| n.contains('@'));
        found.push(super::aws_json::object([
            ("Id", Some(image.config_digest.as_str().into())),
            ("RepoTags", Some(tags.into())),
            ("RepoDigests", Some(digests.into())),
            ("Created", Some(image.created.clone().into())),
            ("Config", Some(config["config"].clone())),
            ("Architecture", Some(config["architecture"].clone())),
            ("Os", Some(config["os"].clone())),
            ("Size", Some(image.unpacked_size.into())),
            ("RootFS", Some(serde_json::json!({ "Type": "layers", "Layers": image.diff_ids }))),
        ]));
    }
    io.println(super::aws_json::pretty(&serde_json::Value::Array(found)));
    status
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn docker_units() {
        assert_eq!(human_size(2865), "2.87kB");
        assert_eq!(human_size(512), "512B");
        assert_eq!(human_size(100_000_000), "100MB");
        assert_eq!(human_size(1_500_000), "1.5MB");
        assert_eq!(human_duration(30), "30 seconds ago");
        assert_eq!(human_duration(3 * 3600), "3 hours ago");
        assert_eq!(human_duration(449 * 86_400), "14 months ago");
    }
}
