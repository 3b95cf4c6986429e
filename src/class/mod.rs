//! Class mode on the ecr-lab side (issue 13; the interface is the class contract):
//!
//! - [`serve`]: `ecr-lab class serve`, the instructor's server (the mock in class mode, the slides);
//! - [`admin`]: `ecr-lab class students|reset|remove` and faults for one student or the room;
//! - here: `ecr-lab join` and the joined student's identity (`class.json`), which the lab shell,
//!   the runner's checks and the lab clock use when they talk to the class server;
//! - [`report`]: the runner's progress events, sent in the background to `/class/api/me/progress`.

pub mod admin;
pub mod report;
pub mod serve;

use std::path::{Path, PathBuf};
use std::sync::OnceLock;

use anyhow::{Context as _, Result, bail};
use serde::{Deserialize, Serialize};

/// What `ecr-lab join` stores in the lab's home as `class.json` (0600): who this machine is in a class.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct Joined {
    /// The class server's URL, as given to `join` (no trailing slash).
    pub endpoint: String,
    #[serde(default)]
    pub class_name: String,
    pub name: String,
    pub account: String,
    pub region: String,
    pub access_key_id: String,
    pub secret_access_key: String,
    /// Proves to the server that this machine is this student (join again, `/class/api/me`).
    pub student_secret: String,
    #[serde(default)]
    pub registry: String,
    /// A class over HTTPS: the fingerprint (`sha256:…`) of its CA, kept next to `class.json`
    /// (`class-ca.pem`) and trusted by every client of the lab.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ca_fingerprint: Option<String>,
}

/// The student this process acts as, once [`activate`]d (one class per process).
static ACTIVE: OnceLock<Joined> = OnceLock::new();

pub fn joined_path(home: &Path) -> PathBuf {
    home.join("class.json")
}

/// The class this machine joined, if it did.
pub fn load(home: &Path) -> Result<Option<Joined>> {
    let path = joined_path(home);
    match std::fs::read(&path) {
        Ok(bytes) => {
            let joined = serde_json::from_slice(&bytes).with_context(|| {
                format!("{} is damaged; delete it and run `ecr-lab join URL --name NAME` again", path.display())
            })?;
            Ok(Some(joined))
        }
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
        Err(e) => Err(e).with_context(|| format!("reading {}", path.display())),
    }
}

fn save(home: &Path, joined: &Joined) -> Result<()> {
    crate::paths::private_dir(home).with_context(|| format!("creating {}", home.display()))?;
    let path = joined_path(home);
    crate::paths::write_private(&path, &serde_json::to_vec_pretty(joined)?)
        .with_context(|| format!("writing {}", path.display()))
}

/// From now on this process is `joined` on its class server: the lab shell signs with the student's
/// key, checks read the student's request log and clock, and the runner reports progress.
pub fn activate(joined: Joined) -> &'static Joined {
    ACTIVE.get_or_init(|| joined)
}

/// The active student, when this process acts as one.
pub fn active() -> Option<&'static Joined> {
    ACTIVE.get()
}

/// The active student, when `endpoint` is their class server.
pub fn student_at(endpoint: &str) -> Option<&'static Joined> {
    active().filter(|j| same_endpoint(&j.endpoint, endpoint))
}

/// Whether `endpoint` is `joined`'s class server.
pub fn student_at_or(joined: &Joined, endpoint: &str) -> bool {
    same_endpoint(&joined.endpoint, endpoint)
}

fn same_endpoint(a: &str, b: &str) -> bool {
    a.trim_end_matches('/').eq_ignore_ascii_case(b.trim_end_matches('/'))
}

/// Where a joined student's lab shell keeps its files and their progress: apart from the solo lab's.
pub fn shell_dir(home: &Path) -> PathBuf {
    home.join("class").join("shell")
}

pub fn progress_path(home: &Path) -> PathBuf {
    home.join("class").join("progress.json")
}

/// For `start`, `shell` and the home menu: the joined class, when the command names no other
/// endpoint (or names the class's). Activates it.
pub fn for_command(home: &Path, endpoint: Option<&str>) -> Result<Option<&'static Joined>> {
    let Some(joined) = load(home)? else { return Ok(None) };
    if endpoint.is_some_and(|e| !same_endpoint(e, &joined.endpoint)) {
        return Ok(None);
    }
    Ok(Some(activate(joined)))
}

/// The join answer (`POST /class/api/join`).
#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct JoinAnswer {
    #[serde(default)]
    class_name: String,
    name: String,
    account: String,
    region: String,
    access_key_id: String,
    secret_access_key: String,
    student_secret: String,
    #[serde(default)]
    registry: String,
    #[serde(default)]
    resumed: bool,
}

/// `ecr-lab join URL --name NAME`: registers (or resumes, with the secret this machine kept) and
/// stores who this machine is. Returns the student and whether the server resumed them.
/// `secret` is the one an instructor's reset gave out; without it, the one this machine kept.
/// `ca` is the class CA's fingerprint the instructor's screen shows (a class over HTTPS).
pub async fn join(
    home: &Path,
    endpoint: &str,
    name: &str,
    secret: Option<String>,
    ca: Option<String>,
) -> Result<(Joined, bool)> {
    let endpoint = crate::paths::endpoint(Some(endpoint.to_owned()))?;
    let before = load(home).ok().flatten();
    let class_ca = if endpoint.starts_with("https://") {
        let known =
            before.as_ref().filter(|b| same_endpoint(&b.endpoint, &endpoint)).and_then(|b| b.ca_fingerprint.clone());
        let pem = checked_ca(&endpoint, ca.as_deref(), known.as_deref()).await?;
        // The join itself (and all that follows) then verifies the server against this CA.
        crate::trust::trust_class_ca(&pem);
        Some(pem)
    } else {
        if ca.is_some() {
            bail!(
                "--ca is for a class served over HTTPS (join https://…); {endpoint} is plain HTTP: leave out --ca, or use the https:// address the instructor's screen shows"
            );
        }
        None
    };
    // The secret this machine kept for this name on this server: it proves we are that student.
    let secret = secret.map(|s| s.trim().to_owned()).filter(|s| !s.is_empty()).or_else(|| {
        before
            .as_ref()
            .filter(|b| same_endpoint(&b.endpoint, &endpoint) && b.name.eq_ignore_ascii_case(name))
            .map(|b| b.student_secret.clone())
    });
    let mut body = serde_json::json!({ "name": name });
    if let Some(secret) = &secret {
        body["secret"] = serde_json::Value::String(secret.clone());
    }
    let value = post_join(&endpoint, &body)
        .await
        .map_err(|e| anyhow::anyhow!("{e:#}").context(format!("joining the class at {endpoint} as '{name}'")))?;
    let answer: JoinAnswer = serde_json::from_value(value).with_context(|| {
        format!(
            "{endpoint} answered join with something else than a class server's answer; is it `ecr-lab class serve`?"
        )
    })?;
    let registry = if answer.registry.is_empty() {
        crate::backend::registry_host(&answer.account, &answer.region)
    } else {
        answer.registry
    };
    let joined = Joined {
        endpoint,
        class_name: answer.class_name,
        name: answer.name,
        account: answer.account,
        region: answer.region,
        access_key_id: answer.access_key_id,
        secret_access_key: answer.secret_access_key,
        student_secret: answer.student_secret,
        registry,
        ca_fingerprint: class_ca.as_deref().and_then(crate::trust::pem_der).map(|der| crate::trust::fingerprint(&der)),
    };
    if before.as_ref().is_none_or(|b| !same_endpoint(&b.endpoint, &joined.endpoint) || b.account != joined.account) {
        // Another class or another student: the local record of stages done is not theirs.
        let _ = std::fs::remove_file(progress_path(home));
    }
    save(home, &joined)?;
    let ca_path = crate::trust::joined_ca_path(home);
    match &class_ca {
        Some(pem) => crate::paths::write_private(&ca_path, pem.as_bytes())
            .with_context(|| format!("writing the class CA to {}", ca_path.display()))?,
        None => remove_if_there(&ca_path)?,
    }
    Ok((joined, answer.resumed))
}

fn remove_if_there(path: &Path) -> Result<()> {
    match std::fs::remove_file(path) {
        Ok(()) => Ok(()),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(()),
        Err(e) => Err(e).with_context(|| format!("removing {}", path.display())),
    }
}

/// The class CA of the server at `endpoint` (HTTPS), fetched from `/class/ca.pem` and checked
/// against `given` (the fingerprint on the instructor's screen). Without it: the one this
/// machine joined with before, else the learner compares it on a terminal; otherwise refused.
async fn checked_ca(endpoint: &str, given: Option<&str>, known: Option<&str>) -> Result<String> {
    let pem = crate::trust::fetch_class_ca(endpoint).await?;
    let der = crate::trust::pem_der(&pem).context("the class CA holds no certificate")?;
    let found = crate::trust::fingerprint(&der);
    match given.or(known) {
        Some(expected) if crate::trust::same_fingerprint(expected, &found) => Ok(pem),
        Some(expected) => bail!(
            "the class server at {endpoint} presents a CA whose fingerprint is\n  {found}\nnot the {} one\n  {expected}\n\
             Nothing was joined or stored. Compare with the fingerprint on the instructor's screen (`ecr-lab class serve --tls` prints it):\n\
             a typo: run join again with the right --ca; a different one: someone else may be answering at this address, tell the instructor.",
            if given.is_some() { "--ca" } else { "stored" }
        ),
        None => confirm_fingerprint(endpoint, &found).map(|()| pem),
    }
}

/// No --ca given: on a terminal, show the fingerprint and ask; elsewhere refuse.
fn confirm_fingerprint(endpoint: &str, found: &str) -> Result<()> {
    use std::io::IsTerminal as _;
    let again = format!("ecr-lab join {endpoint} --name YOUR-NAME --ca {found}");
    if !(std::io::stdin().is_terminal() && std::io::stderr().is_terminal()) {
        bail!(
            "{endpoint} is a class over HTTPS and no --ca was given: its CA's fingerprint is {found}.\n\
             Check it against the instructor's screen, then run: {again}"
        );
    }
    eprintln!("{endpoint} serves HTTPS with its own class CA, fingerprint:\n  {found}");
    let same = inquire::Confirm::new("Is this the fingerprint on the instructor's screen?")
        .with_default(false)
        .with_help_message("compare every character; no: someone else may be answering at this address")
        .prompt()
        .unwrap_or(false);
    if !same {
        bail!("not joined: the fingerprints differ (or you did not say yes). Tell the instructor, or run: {again}");
    }
    Ok(())
}

/// After joining a class over HTTPS: what a real docker engine (and podman, skopeo) needs to
/// trust the class CA stored at `ca`.
pub fn real_engines(joined: &Joined, ca: &Path) -> String {
    let host = joined.endpoint.trim_start_matches("https://").trim_end_matches('/');
    let ca = ca.display();
    format!(
        "The class is served over HTTPS with its own CA ({fp}), stored in {ca}; the lab trusts it.\n\
         Your own docker engine trusts it with:\n  \
         sudo mkdir -p /etc/docker/certs.d/{host} && sudo cp {ca} /etc/docker/certs.d/{host}/ca.crt\n\
         then: aws ecr get-login-password | docker login --username AWS --password-stdin {host}; push and pull {host}/REPOSITORY:TAG.\n\
         podman and skopeo: sudo mkdir -p /etc/containers/certs.d/{host} && sudo cp {ca} /etc/containers/certs.d/{host}/ca.crt\n  \
         (or, without sudo, ~/.config/containers/certs.d/{host}/ca.crt, or skopeo/podman --cert-dir DIR with the CA as DIR/ca.crt); the aws CLI: AWS_CA_BUNDLE={ca} (ecr-lab env sets it).\n",
        fp = joined.ca_fingerprint.as_deref().unwrap_or("?"),
    )
}

/// `POST /class/api/join`; when the server is busy with a room joining at once (429), waits as it
/// asks (a few seconds at most) and tries again, a few times.
async fn post_join(endpoint: &str, body: &serde_json::Value) -> Result<serde_json::Value> {
    // A room joining at once from one address (a NAT, a test) drains the server's bucket of joins,
    // which refills at one a second: spread out and keep trying for up to about half a minute.
    const TRIES: u32 = 15;
    let mut tried = 0;
    loop {
        let url = format!("{endpoint}/class/api/join");
        let auth = crate::control_client::Auth::None;
        let error = match crate::control_client::call_as(hyper::Method::POST, url, Some(body.clone()), auth).await {
            Ok(value) => return Ok(value),
            Err(error) => error,
        };
        tried += 1;
        let wait = match error.downcast_ref::<crate::control_client::Refused>() {
            Some(refused) if refused.status == hyper::StatusCode::TOO_MANY_REQUESTS && tried < TRIES => {
                refused.retry_after.unwrap_or(1).clamp(1, 5)
            }
            _ => return Err(error),
        };
        if tried == 1 {
            eprintln!("the class server is busy with joins; trying again in a moment ...");
        }
        let jitter = u64::from(uuid::Uuid::new_v4().as_bytes()[0]) * 4;
        tokio::time::sleep(std::time::Duration::from_millis(wait * 1000 + jitter)).await;
    }
}

/// What `join` prints: who you are in the class.
pub fn describe(joined: &Joined, resumed: bool) -> String {
    let class = if joined.class_name.is_empty() { "the class".to_owned() } else { format!("'{}'", joined.class_name) };
    let how = if resumed { "welcome back to" } else { "you joined" };
    format!(
        "{how} {class} at {} as {}\n  account:  {}\n  region:   {}\n  registry: {}\n\
         Lessons and the lab shell (`ecr-lab`, `ecr-lab start`, `ecr-lab shell`) now run against the class server as you;\n\
         your own aws CLI and docker: eval \"$(ecr-lab env)\". Forget this class: `ecr-lab class leave`.\n",
        joined.endpoint, joined.name, joined.account, joined.region, joined.registry
    )
}

/// `ecr-lab class leave`: this machine forgets the class (the server keeps the student).
pub fn leave(home: &Path) -> Result<()> {
    let Some(joined) = load(home)? else {
        println!("this machine has not joined a class");
        return Ok(());
    };
    std::fs::remove_file(joined_path(home)).with_context(|| format!("removing {}", joined_path(home).display()))?;
    remove_if_there(&crate::trust::joined_ca_path(home))?;
    println!(
        "left '{}' at {}: the lab runs on its own mock again. The server keeps you: `ecr-lab join {} --name {}` on another machine needs the instructor to reset you (this machine's secret is gone).",
        joined.name, joined.endpoint, joined.endpoint, joined.name
    );
    Ok(())
}

/// `ecr-lab env` on a joined machine: the student's own keys for the class server.
pub fn env_lines(joined: &Joined, home: &Path) -> String {
    let ca = match joined.ca_fingerprint {
        Some(_) => format!("export AWS_CA_BUNDLE={}\n", crate::trust::joined_ca_path(home).display()),
        None => String::new(),
    };
    let who = format!("ecr-lab class at {}: you are {}, account {};", joined.endpoint, joined.name, joined.account);
    env_exports(&who, &joined.endpoint, &joined.access_key_id, &joined.secret_access_key, &joined.region) + &ca
}

/// The `ecr-lab env` lines for a mock at `endpoint` with a key: `who` begins the first comment.
pub fn env_exports(who: &str, endpoint: &str, access_key_id: &str, secret: &str, region: &str) -> String {
    format!(
        "# {who} the aws CLI and AWS SDKs in this shell now talk to it for ECR and STS\n\
         # (any other AWS service gets the lab's error saying so, at once, rather than real AWS with made-up keys)\n\
         # an older aws CLI (v2 before 2.13, such as Debian's awscli 2.9) ignores AWS_ENDPOINT_URL*: give it --endpoint-url {endpoint}\n\
         export AWS_ENDPOINT_URL_ECR={endpoint}\n\
         export AWS_ENDPOINT_URL_STS={endpoint}\n\
         export AWS_ENDPOINT_URL={endpoint}\n\
         export AWS_ACCESS_KEY_ID={access_key_id}\n\
         export AWS_SECRET_ACCESS_KEY={secret}\n\
         export AWS_DEFAULT_REGION={region}\n\
         export AWS_REGION={region}\n\
         unset AWS_SESSION_TOKEN AWS_PROFILE AWS_IGNORE_CONFIGURED_ENDPOINT_URLS\n"
    )
}

/// Minutes from `5m`, `90s`, `1h`, `1h30m` or a bare number of minutes.
pub fn parse_minutes(text: &str) -> Result<u32> {
    let text = text.trim();
    if let Ok(minutes) = text.parse::<u32>() {
        return Ok(minutes);
    }
    let mut seconds: u64 = 0;
    let mut number = String::new();
    for c in text.chars() {
        match c {
            '0'..='9' => number.push(c),
            'h' | 'm' | 's' if !number.is_empty() => {
                let n: u64 = number.parse().unwrap_or(u64::MAX / 4);
                seconds = seconds.saturating_add(n.saturating_mul(match c {
                    'h' => 3600,
                    'm' => 60,
                    _ => 1,
                }));
                number.clear();
            }
            _ => bail!("--stuck-after takes a duration such as 5m, 90s or 1h, not '{text}'"),
        }
    }
    if !number.is_empty() || seconds == 0 {
        bail!("--stuck-after takes a duration such as 5m, 90s or 1h, not '{text}'");
    }
    Ok(u32::try_from(seconds.div_ceil(60)).unwrap_or(u32::MAX))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stuck_after_takes_the_labs_durations() {
        assert_eq!(parse_minutes("5m").unwrap(), 5);
        assert_eq!(parse_minutes("7").unwrap(), 7);
        assert_eq!(parse_minutes("90s").unwrap(), 2);
        assert_eq!(parse_minutes("1h30m").unwrap(), 90);
        assert!(parse_minutes("soon").is_err());
        assert!(parse_minutes("0m").is_err());
        assert!(parse_minutes("5").is_ok());
    }

    #[test]
    fn endpoints_match_without_a_trailing_slash() {
        assert!(same_endpoint("http://10.0.0.5:5000/", "http://10.0.0.5:5000"));
        assert!(!same_endpoint("http://10.0.0.5:5000", "http://10.0.0.6:5000"));
    }
}
