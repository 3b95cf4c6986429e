//! Evaluators of what the learner's side holds or did: docker's logins, local images, the commands
//! run in this stage (their output and exit status), and the mock's request log.

use super::{CheckOutcome, Context, Ran, Tools};
use crate::lesson::check::{ConsoleCheck, CredentialsCheck, ExitCheck, LocalImageCheck, OutputCheck, RequestsCheck};

pub fn credentials(c: &CredentialsCheck, cx: &Context<'_>) -> CheckOutcome {
    let registry = cx.fill(&c.registry);
    if let Some(via) = c.via.as_deref() {
        return login_via(&cx.tools, &registry, via);
    }
    let present = docker_logged_in(&cx.tools, &registry);
    match (present, c.present.unwrap_or(true)) {
        (true, true) | (false, false) => CheckOutcome::Pass,
        (false, true) => CheckOutcome::NotYet(format!("docker has no login for {registry}")),
        (true, false) => CheckOutcome::NotYet(format!("docker is still logged in to {registry}")),
    }
}

pub fn local_image(c: &LocalImageCheck, cx: &Context<'_>) -> CheckOutcome {
    let reference = cx.fill(&c.reference);
    let present = match has_local_image(&cx.tools, &reference) {
        Ok(present) => present,
        Err(why) => return CheckOutcome::CannotCheck(why),
    };
    match (present, c.exists.unwrap_or(true)) {
        (true, true) | (false, false) => CheckOutcome::Pass,
        (false, true) => CheckOutcome::NotYet(format!("there is no local image {reference}")),
        (true, false) => CheckOutcome::NotYet(format!("the local image {reference} is still there")),
    }
}

pub fn output(c: &OutputCheck, cx: &Context<'_>) -> CheckOutcome {
    let want = cx.fill(&c.contains);
    if c.any_run == Some(true) {
        let of = c.of.as_deref().map(|of| cx.fill(of));
        let runs: Vec<&Ran> = cx
            .history
            .iter()
            .filter(|r| of.as_deref().is_none_or(|of| of == "last" || r.command.trim_start().starts_with(of)))
            .collect();
        let what = of.as_deref().unwrap_or("a command");
        return match runs.is_empty() {
            true => CheckOutcome::NotYet(format!("`{what}` has not been run in this stage")),
            false => CheckOutcome::pass_if(runs.iter().any(|r| r.output.contains(&want)), || {
                format!("no run of `{what}` in this stage printed \"{want}\"")
            }),
        };
    }
    let ran = match find(cx.history, c.of.as_deref().map(|of| cx.fill(of)).as_deref()) {
        Ok(ran) => ran,
        Err(why) => return CheckOutcome::NotYet(why),
    };
    CheckOutcome::pass_if(ran.output.contains(&want), || format!("`{}` did not print \"{want}\"", ran.command))
}

pub fn exit(c: &ExitCheck, cx: &Context<'_>) -> CheckOutcome {
    let ran = match find(cx.history, c.of.as_deref().map(|of| cx.fill(of)).as_deref()) {
        Ok(ran) => ran,
        Err(why) => return CheckOutcome::NotYet(why),
    };
    CheckOutcome::pass_if(ran.status == c.code, || {
        format!("`{}` exited with {}, not {}", ran.command, ran.status, c.code)
    })
}

pub async fn requests(c: &RequestsCheck, cx: &Context<'_>) -> CheckOutcome {
    let since = if c.since.as_deref() == Some("all") { 0 } else { cx.log_seq_at_start };
    let Some(endpoint) = cx.tools.backend().mock_endpoint() else {
        return CheckOutcome::CannotCheck("mock.requests needs the mock's request log, which real AWS does not have: this lesson should not list `aws` in its backends".into());
    };
    let log = match crate::control_client::requests(endpoint, since).await {
        Ok(log) => log,
        Err(e) => return CheckOutcome::CannotCheck(e.to_string()),
    };
    let seen = log
        .iter()
        .any(|r| route_matches(&c.route, r) && c.status.is_none_or(|s| r["status"].as_u64() == Some(u64::from(s))));
    CheckOutcome::pass_if(seen, || {
        format!("the mock has not seen {} {}", c.route, c.status.map(|s| format!("answered {s}")).unwrap_or_default())
    })
}

/// The learner opened the console page in this stage: the mock logged a `console:<page>` view (a
/// GET it answered without an error) of the repository. On real AWS the lab cannot see the learner's
/// console, so the step is taken on trust there (the stage's other checks still judge it).
pub async fn console(c: &ConsoleCheck, cx: &Context<'_>) -> CheckOutcome {
    let Some(endpoint) = cx.tools.backend().mock_endpoint() else {
        return CheckOutcome::Pass;
    };
    let log = match crate::control_client::requests(endpoint, cx.log_seq_at_start).await {
        Ok(log) => log,
        Err(e) => return CheckOutcome::CannotCheck(e.to_string()),
    };
    let repository = c.repository.as_deref().map(|r| cx.fill(r));
    let api = format!("console:{}", c.viewed);
    let seen = log.iter().any(|r| {
        r["api"].as_str() == Some(api.as_str())
            && r["method"].as_str() == Some("GET")
            && r["status"].as_u64().is_some_and(|s| s < 400)
            && repository.as_deref().is_none_or(|want| r["repository"].as_str() == Some(want))
    });
    CheckOutcome::pass_if(seen, || {
        let what = crate::lesson::Assertion::Console(c.clone()).describe(cx.vars);
        format!("not yet seen in this stage: {what} (the console's address is printed beside the step)")
    })
}

/// `via: helper`: a credential helper answers for `host` and no password is stored for it;
/// `via: password`: a password is stored (`auths`).
fn login_via(tools: &Tools<'_>, host: &str, via: &str) -> CheckOutcome {
    use crate::credential_helper::Login;
    let login = match tools {
        Tools::Builtin(session) => session.docker_login(host),
        Tools::Real { docker_config, .. } => std::fs::read(docker_config.join("config.json"))
            .ok()
            .and_then(|bytes| serde_json::from_slice::<serde_json::Value>(&bytes).ok())
            .map_or(Login::None, |config| crate::credential_helper::login_kind(&config, host)),
    };
    match (via, login) {
        ("helper", Login::Helper(_)) | ("password", Login::Password) => CheckOutcome::Pass,
        ("helper", Login::Password) => {
            CheckOutcome::NotYet(format!("docker still has a password stored for {host} (auths in config.json)"))
        }
        ("helper", Login::None) => {
            CheckOutcome::NotYet(format!("docker's config names no credential helper for {host}"))
        }
        ("password", _) => CheckOutcome::NotYet(format!("docker has no stored login for {host}")),
        (other, _) => {
            CheckOutcome::CannotCheck(format!("docker.credentials via: '{other}' is neither helper nor password"))
        }
    }
}

fn docker_logged_in(tools: &Tools<'_>, host: &str) -> bool {
    match tools {
        Tools::Builtin(session) => session.docker_logged_in(host),
        Tools::Real { docker_config, .. } => std::fs::read(docker_config.join("config.json"))
            .ok()
            .and_then(|bytes| serde_json::from_slice::<serde_json::Value>(&bytes).ok())
            .is_some_and(|config| {
                crate::credential_helper::login_kind(&config, host) != crate::credential_helper::Login::None
            }),
    }
}

fn has_local_image(tools: &Tools<'_>, reference: &str) -> Result<bool, String> {
    match tools {
        Tools::Builtin(session) if session.docker_engine => crate::shell::engine::has_image(reference),
        Tools::Builtin(session) => {
            let parsed = crate::reference::Reference::parse(reference).map_err(|e| e.to_string())?;
            Ok(session.images.resolve(&parsed).ok().flatten().is_some())
        }
        Tools::Real { .. } => crate::shell::engine::has_image(reference),
    }
}

/// The command `of` names (`last`, or the start of a command): its most recent run in the stage.
fn find<'a>(history: &'a [Ran], of: Option<&str>) -> Result<&'a Ran, String> {
    let found = match of {
        None | Some("last") => history.last(),
        Some(prefix) => history.iter().rev().find(|r| r.command.trim_start().starts_with(prefix)),
    };
    found.ok_or_else(|| format!("`{}` has not been run in this stage", of.unwrap_or("a command")))
}

fn route_matches(route: &str, entry: &serde_json::Value) -> bool {
    let api = entry["api"].as_str().unwrap_or_default();
    if route == api {
        return true;
    }
    match route.split_once(' ') {
        Some((method, path)) => {
            entry["method"].as_str() == Some(method)
                && mock_registry::types::wildcard_match(
                    path.as_bytes(),
                    entry["path"].as_str().unwrap_or_default().as_bytes(),
                )
        }
        None => false,
    }
}
