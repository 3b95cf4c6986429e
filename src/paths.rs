//! Where ecr-lab keeps its files: `$ECR_LAB_HOME`, else the user's data directory plus `ecr-lab`.

use std::path::PathBuf;

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
    std::fs::create_dir_all(file.parent().expect("has a parent"))?;
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
