//! `docker-credential-ecr-lab`: docker's credential-helper protocol, answered as Amazon's
//! `docker-credential-ecr-login` answers it, for the lab's mock and for real ECR.
//!
//! The protocol (docker-credential-helpers `credentials/credentials.go`; reference/ecr-facts.md §7):
//! the action is the one argument; `get` reads the server URL on stdin (whitespace trimmed) and prints
//! `{"ServerURL":"…","Username":"…","Secret":"…"}` and a newline; every error is printed on **stdout**
//! with exit status 1. What this helper does with each action is what amazon-ecr-credential-helper
//! does (`ecr-login/ecr.go`, `api/client.go`, `cache/credentials.go`):
//!
//! - `get`: GetAuthorizationToken for the registry's account and region, user `AWS`, the decoded
//!   password as `Secret`. An ECR host (`ACCOUNT.dkr.ecr.REGION.amazonaws.com`) goes to AWS through the
//!   standard credential chain (which honours `AWS_ENDPOINT_URL`); an IP address or `localhost` with a
//!   port is taken to be an `ecr-lab` mock and asked at `http://HOST`. Any failure answers
//!   `credentials not found in native keychain` (the reason goes to stderr), so docker carries on
//!   without credentials and the registry says `no basic auth credentials`, as with Amazon's helper.
//! - Tokens are cached in `ECR_LAB_HOME/credential-helper/cache.json` (0600), keyed by registry and a
//!   hash of the access key, and reused until half their lifetime has passed (Amazon's rule:
//!   `AuthEntry.IsValid`). On the mock "now" is the lab clock, so `ecr-lab clock advance 13h` makes the
//!   next `get` fetch a new token. When GetAuthorizationToken fails, a cached token is returned even if
//!   old, as Amazon's helper does.
//! - `store` and `erase` answer `not implemented` (exit 1): nothing is ever stored, so `docker login`
//!   fails with ``error storing credentials - err: exit status 1, out: `not implemented` ``. With
//!   `AWS_ECR_IGNORE_CREDS_STORAGE=true` both pretend to succeed, as in Amazon's helper.
//! - `list`: the cached registries, `{"https://HOST": "AWS"}`.

use std::io::{Read, Write};
use std::path::{Path, PathBuf};

use anyhow::{Context as _, Result, bail};
use aws_credential_types::Credentials;
use aws_credential_types::provider::ProvideCredentials as _;
use base64::Engine as _;

use crate::backend::{self, AwsOptions, EcrBackend};

/// The program name docker runs, and the one the protocol's messages use.
pub const NAME: &str = "docker-credential-ecr-lab";
/// What `credHelpers` in docker's config.json names for this helper.
pub const HELPER: &str = "ecr-lab";
/// docker-credential-helpers' standard "not found" text; docker treats it as "no credentials".
pub const NOT_FOUND: &str = "credentials not found in native keychain";
const NO_SERVER_URL: &str = "no credentials server URL";
/// amazon-ecr-credential-helper's answer to `store` and `erase`.
const NOT_IMPLEMENTED: &str = "not implemented";

/// The argument list `ecr-lab` parses: as given, or, when this program was started through a link
/// named `docker-credential-ecr-lab`, `ecr-lab credential-helper ARGS…`.
pub fn argv() -> Vec<std::ffi::OsString> {
    let mut args: Vec<std::ffi::OsString> = std::env::args_os().collect();
    let invoked_as = args.first().and_then(|a| Path::new(a).file_stem().map(|s| s.to_string_lossy().into_owned()));
    if invoked_as.as_deref() == Some(NAME) {
        args[0] = "ecr-lab".into();
        args.insert(1, "credential-helper".into());
    }
    args
}

/// The usage line docker-credential-helpers prints for a wrong number of arguments.
pub fn usage() -> String {
    format!("Usage: {NAME} <store|get|erase|list|version>")
}

/// Runs one protocol action; returns the exit status. `out` gets the answer or the error text.
pub async fn serve(action: &str, input: &mut dyn Read, out: &mut dyn Write, err: &mut dyn Write) -> i32 {
    let answer: Result<String, String> = match action {
        "get" => match read_server_url(input) {
            Ok(url) => match get(&url).await {
                Ok((username, secret)) => {
                    let json = serde_json::json!({ "ServerURL": url, "Username": username, "Secret": secret });
                    Ok(format!("{json}\n"))
                }
                Err(reason) => {
                    let _ = writeln!(err, "{NAME}: {reason:#}");
                    Err(NOT_FOUND.to_owned())
                }
            },
            Err(message) => Err(message),
        },
        "store" => read_credentials(input).and_then(|()| refuse_storage()),
        "erase" => read_server_url(input).and_then(|_| refuse_storage()),
        "list" => Ok(format!("{}\n", serde_json::Value::Object(list()))),
        "version" => Ok(format!("{NAME} (ecr-lab) {}\n", env!("CARGO_PKG_VERSION"))),
        other => Err(format!("Unknown credential action `{other}`")),
    };
    match answer {
        Ok(text) => {
            let _ = out.write_all(text.as_bytes());
            0
        }
        Err(message) => {
            let _ = writeln!(out, "{message}");
            1
        }
    }
}

/// `store`'s input, checked as docker-credential-helpers checks it before the helper sees it.
fn read_credentials(input: &mut dyn Read) -> Result<(), String> {
    let mut text = String::new();
    input.read_to_string(&mut text).map_err(|e| e.to_string())?;
    let value: serde_json::Value = serde_json::from_str(text.trim()).map_err(|e| e.to_string())?;
    if value["ServerURL"].as_str().is_none_or(str::is_empty) {
        return Err(NO_SERVER_URL.to_owned());
    }
    if value["Username"].as_str().is_none_or(str::is_empty) {
        return Err("no credentials username".to_owned());
    }
    Ok(())
}

/// Amazon's helper stores nothing: `not implemented`, unless `AWS_ECR_IGNORE_CREDS_STORAGE=true`.
fn refuse_storage() -> Result<String, String> {
    if ignore_storage() { Ok(String::new()) } else { Err(NOT_IMPLEMENTED.to_owned()) }
}

fn read_server_url(input: &mut dyn Read) -> Result<String, String> {
    let mut text = String::new();
    input.read_to_string(&mut text).map_err(|e| e.to_string())?;
    let url = text.trim().to_owned();
    if url.is_empty() { Err(NO_SERVER_URL.to_owned()) } else { Ok(url) }
}

/// `AWS_ECR_IGNORE_CREDS_STORAGE=true`: `store` and `erase` succeed without doing anything.
fn ignore_storage() -> bool {
    std::env::var("AWS_ECR_IGNORE_CREDS_STORAGE").is_ok_and(|v| v.eq_ignore_ascii_case("true"))
}

// ---- where a server URL leads ----

/// The registry a server URL names, and how its tokens are had.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Registry {
    /// `ACCOUNT.dkr.ecr.REGION.amazonaws.com[.cn]`: real ECR (or whatever `AWS_ENDPOINT_URL` names).
    Ecr { host: String, account: String, region: String },
    /// An IP address or `localhost` with its port: an `ecr-lab` mock, reached at `http://HOST`.
    Mock { host: String, endpoint: String },
}

impl Registry {
    /// `https://host/path` or `host` alone: the registry it names, or why this helper cannot serve it.
    pub fn of(server_url: &str) -> Result<Self> {
        let rest = server_url.split_once("://").map_or(server_url, |(_, rest)| rest);
        let host = rest.split('/').next().unwrap_or_default().to_ascii_lowercase();
        if let Some((account, region)) = ecr_host(&host) {
            return Ok(Self::Ecr { host, account, region });
        }
        let name = host.rsplit_once(':').map_or(host.as_str(), |(name, _)| name);
        let is_ip = name.parse::<std::net::IpAddr>().is_ok()
            || name
                .strip_prefix('[')
                .and_then(|n| n.strip_suffix(']'))
                .is_some_and(|n| n.parse::<std::net::Ipv6Addr>().is_ok());
        if (is_ip || name == "localhost") && host.contains(':') {
            let endpoint = format!("http://{host}");
            return Ok(Self::Mock { host, endpoint });
        }
        bail!(
            "{NAME} can only be used with Amazon ECR (ACCOUNT.dkr.ecr.REGION.amazonaws.com) or an ecr-lab mock \
             (an IP address or localhost with its port), not '{host}'"
        )
    }

    pub fn host(&self) -> &str {
        match self {
            Self::Ecr { host, .. } | Self::Mock { host, .. } => host,
        }
    }
}

/// `ACCOUNT.dkr.ecr[-fips].REGION.amazonaws.com[.cn]` → (account, region).
fn ecr_host(host: &str) -> Option<(String, String)> {
    let parts: Vec<&str> = host.split('.').collect();
    let tail = parts.get(4..)?.join(".");
    let account_ok = parts[0].len() == 12 && parts[0].bytes().all(|b| b.is_ascii_digit());
    let ok = account_ok
        && parts[1] == "dkr"
        && (parts[2] == "ecr" || parts[2] == "ecr-fips")
        && !parts[3].is_empty()
        && (tail == "amazonaws.com" || tail == "amazonaws.com.cn");
    ok.then(|| (parts[0].to_owned(), parts[3].to_owned()))
}

// ---- get: the cache, then GetAuthorizationToken ----

/// A token GetAuthorizationToken gave, as cached.
#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "camelCase")]
struct Entry {
    authorization_token: String,
    /// Epoch seconds on the registry's clock (the lab clock on the mock).
    requested_at: f64,
    expires_at: f64,
    proxy_endpoint: String,
}

impl Entry {
    /// Amazon's rule: a token is reused until half of its lifetime has passed.
    fn valid_at(&self, now: f64) -> bool {
        now < self.expires_at - (self.expires_at - self.requested_at) / 2.0
    }

    fn user_and_password(&self) -> Result<(String, String)> {
        let bytes = base64::engine::general_purpose::STANDARD
            .decode(self.authorization_token.trim())
            .context("the authorization token is not base64")?;
        let text = String::from_utf8(bytes).context("the authorization token is not text")?;
        let (user, password) = text.split_once(':').context("the authorization token has no user:password")?;
        Ok((user.to_owned(), password.to_owned()))
    }
}

/// The user and password for `server_url`: a cached token while it is fresh, else a new one.
pub async fn get(server_url: &str) -> Result<(String, String)> {
    let registry = Registry::of(server_url)?;
    get_for(&registry).await
}

/// As [`get`], for a registry already resolved (the lab shell names the mock's endpoint itself).
pub async fn get_for(registry: &Registry) -> Result<(String, String)> {
    let credentials = credentials_for(registry).await?;
    let key = cache_key(&cache_scope(registry), credentials.access_key_id());
    let now = now_for(registry).await;
    let cached = read_cache().get(&key).and_then(|v| serde_json::from_value::<Entry>(v.clone()).ok());
    if let Some(entry) = cached.as_ref().filter(|e| e.valid_at(now)) {
        return entry.user_and_password();
    }
    match fetch(registry, credentials, now).await {
        Ok(entry) => {
            let answer = entry.user_and_password()?;
            write_cache_entry(&key, &entry);
            Ok(answer)
        }
        // Amazon's helper falls back to a cached token, however old, when the call fails.
        Err(error) => match cached {
            Some(entry) => entry.user_and_password(),
            None => Err(error),
        },
    }
}

/// The mock: `AWS_ACCESS_KEY_ID`/`AWS_SECRET_ACCESS_KEY` when set, else the lab's key. ECR: the
/// standard chain in the registry's region.
async fn credentials_for(registry: &Registry) -> Result<Credentials> {
    match registry {
        Registry::Mock { .. } => {
            let id = std::env::var("AWS_ACCESS_KEY_ID").ok().filter(|v| !v.is_empty());
            let secret = std::env::var("AWS_SECRET_ACCESS_KEY").ok().filter(|v| !v.is_empty());
            Ok(match (id, secret) {
                (Some(id), Some(secret)) => {
                    let token = std::env::var("AWS_SESSION_TOKEN").ok().filter(|v| !v.is_empty());
                    Credentials::new(id, secret, token, None, "environment")
                }
                _ => backend::lab_credentials(),
            })
        }
        Registry::Ecr { region, .. } => {
            let loaded = backend::load_aws(&AwsOptions { profile: None, region: Some(region.clone()) }).await;
            let provider = loaded.config.credentials_provider().context("no AWS credential provider is configured")?;
            provider
                .provide_credentials()
                .await
                .map_err(|e| anyhow::anyhow!(backend::explain::credentials(&e).to_string()))
        }
    }
}

/// "Now" on the registry's clock: the lab clock of a mock on this machine, else the system clock.
async fn now_for(registry: &Registry) -> f64 {
    if let Registry::Mock { endpoint, .. } = registry
        && let Ok(seconds) = crate::control_client::clock_seconds(endpoint).await
        && seconds > 0.0
    {
        return seconds;
    }
    std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map(|d| d.as_secs_f64()).unwrap_or(0.0)
}

async fn fetch(registry: &Registry, credentials: Credentials, now: f64) -> Result<Entry> {
    let ecr = match registry {
        Registry::Mock { endpoint, .. } => EcrBackend::mock(endpoint).ecr_client(None, Some(credentials), None),
        Registry::Ecr { region, .. } => {
            let loaded = backend::load_aws(&AwsOptions { profile: None, region: Some(region.clone()) }).await;
            aws_sdk_ecr::Client::new(&loaded.config)
        }
    };
    // Amazon's helper names the account (registryIds); that field is deprecated, and the token the
    // caller gets opens every registry it may use anyway.
    let output = ecr
        .get_authorization_token()
        .send()
        .await
        .map_err(|e| anyhow::anyhow!(backend::explain::sdk("GetAuthorizationToken", &e).to_string()))?;
    let data = output.authorization_data().first().context("GetAuthorizationToken returned no authorizationData")?;
    Ok(Entry {
        authorization_token: data.authorization_token().context("no authorizationToken")?.to_owned(),
        requested_at: now,
        expires_at: data.expires_at().map(|t| t.as_secs_f64()).unwrap_or(now),
        proxy_endpoint: data.proxy_endpoint().map_or_else(|| format!("https://{}", registry.host()), str::to_owned),
    })
}

/// What a cached token belongs to: the registry host on ECR; on a mock, the host and the mock's
/// endpoint too, since every lesson run starts a mock of its own (another port, another token
/// secret) that answers for the same `ACCOUNT.dkr.ecr.REGION.amazonaws.com` name, and a token of
/// the last run would be refused with 400 Bad Request.
fn cache_scope(registry: &Registry) -> String {
    match registry {
        Registry::Ecr { host, .. } => host.clone(),
        Registry::Mock { host, endpoint } => format!("{host}@{endpoint}"),
    }
}

/// `HOST|` and a short hash of the access key: one token per registry and identity, as Amazon keys
/// its cache by region and a hash of the access key.
fn cache_key(host: &str, access_key_id: &str) -> String {
    let digest = ring::digest::digest(&ring::digest::SHA256, access_key_id.as_bytes());
    format!("{host}|{}", hex_prefix(digest.as_ref()))
}

fn hex_prefix(bytes: &[u8]) -> String {
    bytes.iter().take(8).map(|b| format!("{b:02x}")).collect()
}

fn cache_file() -> Option<PathBuf> {
    crate::paths::home().ok().map(|home| home.join("credential-helper").join("cache.json"))
}

fn read_cache() -> serde_json::Map<String, serde_json::Value> {
    cache_file()
        .and_then(|file| std::fs::read(file).ok())
        .and_then(|bytes| serde_json::from_slice::<serde_json::Value>(&bytes).ok())
        .and_then(|value| value.as_object().cloned())
        .unwrap_or_default()
}

/// Best effort: a cache that cannot be written only costs a GetAuthorizationToken next time.
fn write_cache_entry(key: &str, entry: &Entry) {
    let Some(file) = cache_file() else { return };
    let mut cache = read_cache();
    if let Ok(value) = serde_json::to_value(entry) {
        cache.insert(key.to_owned(), value);
    }
    let written = file
        .parent()
        .map_or(Ok(()), crate::paths::private_dir)
        .and_then(|()| serde_json::to_vec_pretty(&cache).map_err(std::io::Error::other))
        .and_then(|json| crate::paths::write_private(&file, &json));
    if let Err(error) = written {
        tracing::warn!("cannot write the credential helper's cache {}: {error}", file.display());
    }
}

/// `list`: each cached registry's proxy endpoint, user `AWS`.
fn list() -> serde_json::Map<String, serde_json::Value> {
    read_cache()
        .values()
        .filter_map(|v| serde_json::from_value::<Entry>(v.clone()).ok())
        .map(|entry| {
            let user = entry.user_and_password().map(|(u, _)| u).unwrap_or_else(|_| "AWS".to_owned());
            (entry.proxy_endpoint, serde_json::Value::String(user))
        })
        .collect()
}

/// Another credential helper, run as docker runs it: `docker-credential-NAME get` with `host` on stdin.
pub fn run_external(helper: &str, host: &str) -> Option<(String, String)> {
    let mut child = std::process::Command::new(format!("docker-credential-{helper}"))
        .arg("get")
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::null())
        .spawn()
        .ok()?;
    child.stdin.take()?.write_all(host.as_bytes()).ok()?;
    let output = child.wait_with_output().ok().filter(|o| o.status.success())?;
    let answer: serde_json::Value = serde_json::from_slice(&output.stdout).ok()?;
    Some((answer["Username"].as_str()?.to_owned(), answer["Secret"].as_str()?.to_owned()))
}

// ---- install and configure ----

/// `ecr-lab credential-helper install`: a link `DIR/docker-credential-ecr-lab` to this `ecr-lab`.
pub fn install(dir: Option<PathBuf>) -> Result<PathBuf> {
    let dir = match dir {
        Some(dir) => dir,
        None => dirs::home_dir().context("cannot find the home directory; pass --dir")?.join(".local").join("bin"),
    };
    std::fs::create_dir_all(&dir).with_context(|| format!("creating {}", dir.display()))?;
    let me = std::env::current_exe().context("cannot find the ecr-lab program itself")?;
    let link = dir.join(NAME);
    if link.symlink_metadata().is_ok() {
        std::fs::remove_file(&link).with_context(|| format!("replacing {}", link.display()))?;
    }
    #[cfg(unix)]
    std::os::unix::fs::symlink(&me, &link)
        .with_context(|| format!("linking {} to {}", link.display(), me.display()))?;
    #[cfg(not(unix))]
    std::fs::copy(&me, &link).with_context(|| format!("copying {} to {}", me.display(), link.display()))?;
    Ok(link)
}

/// docker's config directory: `--docker-config`, else `$DOCKER_CONFIG`, else `~/.docker`.
pub fn docker_config_dir(given: Option<PathBuf>) -> Result<PathBuf> {
    if let Some(dir) = given.or_else(|| std::env::var_os("DOCKER_CONFIG").map(PathBuf::from)) {
        return Ok(dir);
    }
    Ok(dirs::home_dir().context("cannot find the home directory; pass --docker-config")?.join(".docker"))
}

/// `ecr-lab credential-helper configure REGISTRY`: `credHelpers[REGISTRY] = "ecr-lab"` in docker's
/// config.json, and the stored password for REGISTRY (`auths`) removed. Returns the file and whether a
/// password was removed. With `remove`, the `credHelpers` entry is taken out instead (docker then
/// uses `docker login` again for REGISTRY).
pub fn configure(config_dir: &Path, registry: &str, remove: bool) -> Result<(PathBuf, bool)> {
    let host = Registry::of(registry).map(|r| r.host().to_owned()).unwrap_or_else(|_| registry.to_owned());
    let file = config_dir.join("config.json");
    let mut config: serde_json::Value = match std::fs::read(&file) {
        Ok(bytes) => serde_json::from_slice(&bytes).with_context(|| format!("{} is not JSON", file.display()))?,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => serde_json::json!({}),
        Err(e) => return Err(e).with_context(|| format!("reading {}", file.display())),
    };
    let Some(object) = config.as_object_mut() else { bail!("{} is not a JSON object", file.display()) };
    if remove {
        let removed = object.get_mut("credHelpers").and_then(|h| h.as_object_mut()).and_then(|h| h.remove(&host));
        crate::paths::write_private(&file, &serde_json::to_vec_pretty(&config)?)
            .with_context(|| format!("writing {}", file.display()))?;
        return Ok((file, removed.is_some()));
    }
    let removed = object.get_mut("auths").and_then(|a| a.as_object_mut()).and_then(|a| a.remove(&host)).is_some();
    let helpers = object.entry("credHelpers").or_insert_with(|| serde_json::json!({}));
    let Some(helpers) = helpers.as_object_mut() else { bail!("credHelpers in {} is not an object", file.display()) };
    helpers.insert(host, serde_json::Value::String(HELPER.to_owned()));
    crate::paths::private_dir(config_dir).with_context(|| format!("creating {}", config_dir.display()))?;
    let json = serde_json::to_vec_pretty(&config)?;
    crate::paths::write_private(&file, &json).with_context(|| format!("writing {}", file.display()))?;
    Ok((file, removed))
}

/// How docker's config at `config_dir` logs in to `host`: a stored password, a credential helper, or
/// nothing. The lab's checks tell "logged in with a helper" from "password stored" with it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Login {
    Password,
    Helper(String),
    None,
}

pub fn login_kind(config: &serde_json::Value, host: &str) -> Login {
    if let Some(helper) = config["credHelpers"][host].as_str() {
        return Login::Helper(helper.to_owned());
    }
    let Some(entry) = config["auths"].get(host) else { return Login::None };
    if entry["auth"].as_str().is_some_and(|a| !a.is_empty()) {
        return Login::Password;
    }
    // With `credsStore`, docker keeps an empty `auths` entry per login and the password in the store.
    match config["credsStore"].as_str() {
        Some(store) if !store.is_empty() => Login::Helper(store.to_owned()),
        _ => Login::None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn server_urls_name_ecr_or_a_mock() {
        let ecr = Registry::of("https://123456789012.dkr.ecr.eu-west-1.amazonaws.com").unwrap();
        assert_eq!(
            ecr,
            Registry::Ecr {
                host: "123456789012.dkr.ecr.eu-west-1.amazonaws.com".into(),
                account: "123456789012".into(),
                region: "eu-west-1".into()
            }
        );
        let cn = Registry::of("123456789012.dkr.ecr.cn-north-1.amazonaws.com.cn/v2/").unwrap();
        assert!(matches!(cn, Registry::Ecr { ref region, .. } if region == "cn-north-1"));
        let mock = Registry::of("127.0.0.1:5000").unwrap();
        assert_eq!(mock, Registry::Mock { host: "127.0.0.1:5000".into(), endpoint: "http://127.0.0.1:5000".into() });
        assert!(Registry::of("localhost:5000").is_ok());
        assert!(Registry::of("docker.io").is_err());
        assert!(Registry::of("12345.dkr.ecr.eu-west-1.amazonaws.com").is_err(), "the account has 12 digits");
        assert!(Registry::of("123456789012.dkr.ecr.eu-west-1.example.com").is_err());
    }

    #[test]
    fn a_token_is_reused_until_half_its_life_has_passed() {
        let entry = Entry {
            authorization_token: base64::engine::general_purpose::STANDARD.encode("AWS:secret"),
            requested_at: 1000.0,
            expires_at: 1000.0 + 12.0 * 3600.0,
            proxy_endpoint: "https://x".into(),
        };
        assert!(entry.valid_at(1000.0 + 5.9 * 3600.0));
        assert!(!entry.valid_at(1000.0 + 6.0 * 3600.0));
        assert_eq!(entry.user_and_password().unwrap(), ("AWS".to_owned(), "secret".to_owned()));
    }

    #[test]
    fn the_config_tells_a_helper_from_a_password() {
        let config = serde_json::json!({
            "auths": { "a:1": { "auth": "QVdTOng=" }, "b:1": {} },
            "credHelpers": { "b:1": "ecr-lab" }
        });
        assert_eq!(login_kind(&config, "a:1"), Login::Password);
        assert_eq!(login_kind(&config, "b:1"), Login::Helper("ecr-lab".into()));
        assert_eq!(login_kind(&config, "c:1"), Login::None);
        let store = serde_json::json!({ "auths": { "a:1": {} }, "credsStore": "pass" });
        assert_eq!(login_kind(&store, "a:1"), Login::Helper("pass".into()));
        assert_eq!(login_kind(&store, "b:1"), Login::None);
    }
}
