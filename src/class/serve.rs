//! `ecr-lab class serve`: the mock in class mode for a room, with the slides beside it. Prints how
//! students join (one line per LAN address this machine has), the dashboard and the instructor token,
//! which it also writes to DATA_DIR/instructor-token (0600) and records for this machine's own
//! `ecr-lab fault|clock|keys|class` commands.

use std::io::Write as _;
use std::net::{IpAddr, SocketAddr};
use std::path::PathBuf;

use anyhow::{Context as _, Result};
use mock_registry::{ClassConfig, CourseLesson, Lab};

/// `ecr-lab class serve`'s options.
pub struct Options {
    pub addr: SocketAddr,
    pub data_dir: Option<PathBuf>,
    pub name: String,
    pub stuck_after: String,
    /// HTTPS with the class CA (`--tls`).
    pub tls: bool,
}

/// The bundled course as the class server knows it: every lesson's id, title and stage titles.
pub fn course() -> Result<Vec<CourseLesson>> {
    let lessons = crate::runner::load(None, &[])?;
    Ok(lessons
        .iter()
        .map(|l| CourseLesson {
            id: l.id(),
            title: l.title(),
            stages: l.stages.iter().map(|s| s.title.clone()).collect(),
        })
        .collect())
}

/// The addresses students can reach: for 0.0.0.0 (or ::) every non-loopback IPv4 address of this
/// machine's interfaces; otherwise the address itself.
pub fn reachable(bound: SocketAddr) -> Vec<SocketAddr> {
    if !bound.ip().is_unspecified() {
        return vec![bound];
    }
    let mut found: Vec<SocketAddr> = if_addrs::get_if_addrs()
        .unwrap_or_default()
        .into_iter()
        .map(|i| i.ip())
        .filter(|ip| matches!(ip, IpAddr::V4(v4) if !v4.is_loopback() && !v4.is_link_local()))
        .map(|ip| SocketAddr::new(ip, bound.port()))
        .collect();
    found.sort();
    found.dedup();
    found
}

pub async fn serve(options: Options) -> Result<()> {
    let stuck_after_minutes = super::parse_minutes(&options.stuck_after)?;
    let dir = match options.data_dir {
        Some(dir) => dir,
        None => crate::paths::home()?.join("class").join("server"),
    };
    crate::paths::lab_dir(&dir).with_context(|| format!("creating {}", dir.display()))?;
    let lab = Lab::open(&dir).with_context(|| format!("opening the class's data directory {}", dir.display()))?;
    crate::upstream::seed(&lab);
    lab.set_class(ClassConfig { name: options.name.clone(), course: course()?, stuck_after_minutes });
    let token = lab.instructor_token();
    let token_file = dir.join("instructor-token");
    crate::paths::write_private(&token_file, format!("{token}\n").as_bytes())
        .with_context(|| format!("writing {}", token_file.display()))?;
    let listener = tokio::net::TcpListener::bind(options.addr).await.with_context(|| {
        format!("cannot listen on {}; is another server using it? Try --addr 0.0.0.0:5001", options.addr)
    })?;
    let bound = listener.local_addr()?;
    let tls = match options.tls {
        true => Some(class_tls(&dir, bound)?),
        false => None,
    };
    let scheme = if tls.is_some() { "https" } else { "http" };
    let local = format!("{scheme}://127.0.0.1:{}", bound.port());
    let lan: Vec<String> = reachable(bound).iter().map(|a| format!("{scheme}://{a}")).collect();
    let mut urls = lan.clone();
    urls.extend([local.clone(), format!("{scheme}://localhost:{}", bound.port())]);
    if let Err(e) = crate::paths::record_instructor_token(&urls, &token) {
        tracing::warn!("could not record the instructor token for this machine's commands: {e:#}");
    }
    if let Err(e) = crate::paths::remember_endpoint(if bound.ip().is_loopback() || bound.ip().is_unspecified() {
        &local
    } else {
        &lan[0]
    }) {
        tracing::warn!("could not record the endpoint for `ecr-lab class students`: {e:#}");
    }
    let fingerprint = tls.as_ref().map(mock_registry::tls::ClassTls::ca_fingerprint);
    let shown =
        Shown { lan: &lan, local: &local, token: &token, token_file: &token_file, bound, ca: fingerprint.as_deref() };
    banner(&options.name, &dir, &shown)?;
    let deck = crate::slides::bundled()?;
    let app = mock_registry::router(lab.clone()).merge(crate::slides::router(lab.clone(), &deck));
    match tls {
        Some(tls) => mock_registry::tls::serve_tls_app(listener, &lab, app, tls, crate::shutdown_signal()).await,
        None => mock_registry::serve_app(listener, app, crate::shutdown_signal()).await,
    }
    .context("serving")?;
    println!("ecr-lab class server stopped (everything is kept in {}; start it again the same way)", dir.display());
    Ok(())
}

/// `--tls`: the class CA in `dir` (made on first start) and a server certificate for the addresses
/// students reach; the CA is also recorded for this machine's own `ecr-lab class|fault` commands.
fn class_tls(dir: &std::path::Path, bound: SocketAddr) -> Result<mock_registry::tls::ClassTls> {
    let mut names: Vec<String> = reachable(bound).iter().map(|a| a.ip().to_string()).collect();
    if let Ok(host) = std::env::var("HOSTNAME") {
        names.push(host);
    }
    let tls = mock_registry::tls::ClassTls::load_or_create(dir, &names)
        .with_context(|| format!("setting up HTTPS for the class in {}", dir.display()))?;
    let served = crate::trust::served_ca_path(&crate::paths::home()?);
    if let Some(parent) = served.parent() {
        crate::paths::private_dir(parent).with_context(|| format!("creating {}", parent.display()))?;
    }
    crate::paths::write_private(&served, tls.ca_pem().as_bytes())
        .with_context(|| format!("writing {}", served.display()))?;
    crate::trust::trust_class_ca(tls.ca_pem());
    Ok(tls)
}

/// What the banner shows besides the class's name and directory.
struct Shown<'a> {
    lan: &'a [String],
    local: &'a str,
    token: &'a str,
    token_file: &'a std::path::Path,
    bound: SocketAddr,
    /// The class CA's fingerprint (`--tls`).
    ca: Option<&'a str>,
}

fn banner(name: &str, dir: &std::path::Path, shown: &Shown<'_>) -> Result<()> {
    let Shown { lan, local, token, token_file, bound, ca } = *shown;
    let scheme = if ca.is_some() { "https" } else { "http" };
    let ca_arg = ca.map(|fp| format!(" --ca {fp}")).unwrap_or_default();
    let mut out = std::io::stdout().lock();
    writeln!(out, "ecr-lab mock listening on {scheme}://{bound}")?;
    writeln!(out, "class '{name}': state in {} (kept across restarts)", dir.display())?;
    if lan.is_empty() {
        writeln!(
            out,
            "no LAN address found on this machine (listening on {bound}); students on this machine join with:\n  ecr-lab join {local} --name YOUR-NAME{ca_arg}"
        )?;
    } else {
        writeln!(out, "students join with (one of, the address their network reaches):")?;
        for url in lan {
            writeln!(out, "  ecr-lab join {url} --name YOUR-NAME{ca_arg}")?;
        }
    }
    if let Some(fp) = ca {
        writeln!(
            out,
            "class CA fingerprint (students compare it; keep it on the screen): {fp}\n\
             the CA is in {}/class-ca.pem (also at /class/ca.pem); join prints the certs.d commands for real docker engines",
            dir.display()
        )?;
    }
    writeln!(out, "dashboard: {local}/class/ (sign in with the instructor token)")?;
    writeln!(out, "instructor token: {token} (also in {}; keep it from the class)", token_file.display())?;
    writeln!(
        out,
        "this machine's `ecr-lab class students`, `ecr-lab fault arm ID --all`, `ecr-lab clock`, `ecr-lab keys` send it by themselves;\n\
         from another machine: ECR_LAB_INSTRUCTOR_TOKEN=<token> ecr-lab class students --endpoint URL"
    )?;
    writeln!(out, "web console: {local}/console/   slides: {local}/slides/")?;
    writeln!(out, "press Ctrl-C to stop (a restart keeps the roster, accounts, progress and images)")?;
    out.flush()?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_given_address_is_the_one_to_join_and_any_address_lists_no_loopback() {
        let given: SocketAddr = "192.168.1.20:5000".parse().unwrap();
        assert_eq!(reachable(given), vec![given]);
        let any: SocketAddr = "0.0.0.0:5000".parse().unwrap();
        for address in reachable(any) {
            assert!(!address.ip().is_loopback() && !address.ip().is_unspecified(), "{address}");
            assert_eq!(address.port(), 5000);
        }
    }

    #[test]
    fn the_course_names_every_bundled_lesson_and_its_stages() {
        let course = course().unwrap();
        let quick = course.iter().find(|l| l.id == "push-first-image").expect("lesson 00");
        assert_eq!(quick.stages.len(), 6, "{:?}", quick.stages);
        assert!(course.iter().all(|l| !l.stages.is_empty() && !l.title.is_empty()));
    }
}
