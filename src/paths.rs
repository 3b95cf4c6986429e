//! Where ecr-lab keeps its files: `$ECR_LAB_HOME`, else the user's data directory plus `ecr-lab`; and
//! how files that hold secrets are made: 0600 from the start, in 0700 directories ([`write_private`],
//! [`open_private`], [`lab_dir`]), older looser ones narrowed when next opened ([`tighten`]).

use std::path::{Path, PathBuf};

use anyhow::{Context, Result, bail};

pub fn home() -> Result<PathBuf> {
    if let Some(dir) = std::env::var_os("ECR_LAB_HOME") {
        return Ok(PathBuf::from(dir));
    }
    let data = dirs::data_dir().context("cannot find the user's data directory; set ECR_LAB_HOME")?;
    Ok(data.join("ecr-lab"))
}

pub fn default_mock_dir() -> Result<PathBuf> {
    Ok(home()?.join("mock"))
}

fn endpoint_file() -> Result<PathBuf> {
    Ok(home()?.join("last-endpoint"))
}

pub fn remember_endpoint(url: &str) -> Result<()> {
    let file = endpoint_file()?;
    private_dir(file.parent().expect("has a parent"))?;
    std::fs::write(&file, format!("{url}\n")).with_context(|| format!("writing {}", file.display()))
}

/// The endpoint given, or the one the last `ecr-lab serve` recorded.
pub fn endpoint(given: Option<String>) -> Result<String> {
    if let Some(url) = given {
        if !(url.starts_with("http://") || url.starts_with("https://")) {
            bail!("--endpoint must be a URL such as http://127.0.0.1:5000, not '{url}'");
        }
        return Ok(url.trim_end_matches('/').to_owned());
    }
    let file = endpoint_file()?;
    match std::fs::read_to_string(&file) {
        Ok(url) if !url.trim().is_empty() => Ok(url.trim().to_owned()),
        _ => bail!("no running mock is known: start one with `ecr-lab serve`, or pass --endpoint URL"),
    }
}

// ---- files that hold secrets: 0600 files in 0700 directories (issue 20) ----

/// Creates `dir` and any missing parents readable by their owner only (0700). An existing
/// directory is left as it is: it may be one the learner chose (`--data-dir`, `$DOCKER_CONFIG`).
pub fn private_dir(dir: &Path) -> std::io::Result<()> {
    let mut builder = std::fs::DirBuilder::new();
    builder.recursive(true);
    #[cfg(unix)]
    std::os::unix::fs::DirBuilderExt::mode(&mut builder, 0o700);
    builder.create(dir)
}

/// A directory of the lab's own (`aws/`, `docker/`, `transcripts/`): created 0700, and narrowed to
/// 0700 if an older version left it open to others.
pub fn lab_dir(dir: &Path) -> std::io::Result<()> {
    private_dir(dir)?;
    tighten(dir, 0o700)
}

/// Narrows `path` to `mode` when group or others may read it (a file or directory an older version
/// created); one that is already private is left alone.
pub fn tighten(path: &Path, mode: u32) -> std::io::Result<()> {
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt as _;
        if std::fs::metadata(path)?.permissions().mode() & 0o077 != 0 {
            std::fs::set_permissions(path, std::fs::Permissions::from_mode(mode))?;
        }
    }
    #[cfg(not(unix))]
    let _ = (path, mode);
    Ok(())
}

/// Opens `path` with `options`, creating it 0600 (from the start, not chmod after); an existing file is
/// narrowed to 0600.
pub fn open_private(path: &Path, options: &mut std::fs::OpenOptions) -> std::io::Result<std::fs::File> {
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(options, 0o600);
    let file = options.open(path)?;
    tighten(path, 0o600)?;
    Ok(file)
}

/// Replaces `path`'s contents, the file created (or narrowed to) 0600.
pub fn write_private(path: &Path, contents: &[u8]) -> std::io::Result<()> {
    use std::io::Write as _;
    open_private(path, std::fs::OpenOptions::new().write(true).create(true).truncate(true))?.write_all(contents)
}

// ---- instructor tokens: endpoint -> token, recorded by `ecr-lab class serve` (0600) ----

fn tokens_file() -> Result<PathBuf> {
    Ok(home()?.join("instructor-tokens.json"))
}

/// `scheme://host:port` of a URL (what a token is recorded under).
pub fn origin(url: &str) -> String {
    let rest_at = url.find("://").map_or(0, |i| i + 3);
    let end = url[rest_at..].find('/').map_or(url.len(), |i| rest_at + i);
    url[..end].to_ascii_lowercase()
}

/// Records `token` for each of `urls`, so this machine's `ecr-lab fault|clock|keys|class` send it.
pub fn record_instructor_token(urls: &[String], token: &str) -> Result<()> {
    let file = tokens_file()?;
    private_dir(file.parent().expect("has a parent"))?;
    let mut tokens: std::collections::BTreeMap<String, String> =
        std::fs::read(&file).ok().and_then(|b| serde_json::from_slice(&b).ok()).unwrap_or_default();
    for url in urls {
        tokens.insert(origin(url), token.to_owned());
    }
    write_private(&file, &serde_json::to_vec_pretty(&tokens)?).with_context(|| format!("writing {}", file.display()))
}

/// The instructor token for `url`: `ECR_LAB_INSTRUCTOR_TOKEN` wins, else the one recorded for its server.
pub fn instructor_token(url: &str) -> Option<String> {
    if let Ok(token) = std::env::var("ECR_LAB_INSTRUCTOR_TOKEN")
        && !token.trim().is_empty()
    {
        return Some(token.trim().to_owned());
    }
    let tokens: std::collections::BTreeMap<String, String> =
        serde_json::from_slice(&std::fs::read(tokens_file().ok()?).ok()?).ok()?;
    tokens.get(&origin(url)).cloned()
}

#[cfg(test)]
mod tests {
    #[test]
    fn a_tokens_origin_is_scheme_host_and_port() {
        assert_eq!(super::origin("http://10.0.0.5:5000/_lab/keys"), "http://10.0.0.5:5000");
        assert_eq!(super::origin("HTTP://Host:1"), "http://host:1");
    }
}
