//! `docker-credential-ecr-lab`: the name docker runs for `"credHelpers": {"HOST": "ecr-lab"}`.
//!
//! docker runs `docker-credential-ecr-lab get` (or `store`, `erase`, `list`, `version`) with the
//! server URL on stdin and reads the answer on stdout. This program hands the request, unchanged, to
//! `ecr-lab credential-helper ACTION` (the `ecr-lab` beside it, else the one on PATH), where the
//! protocol is answered (src/credential_helper.rs). `ecr-lab credential-helper install` can also put a
//! link named `docker-credential-ecr-lab` to `ecr-lab` itself on PATH; both answer the same.

use std::path::PathBuf;
use std::process::{Command, ExitCode};

fn main() -> ExitCode {
    let ecr_lab = beside_me().unwrap_or_else(|| PathBuf::from("ecr-lab"));
    match Command::new(&ecr_lab).arg("credential-helper").args(std::env::args_os().skip(1)).status() {
        Ok(status) => ExitCode::from(u8::try_from(status.code().unwrap_or(1)).unwrap_or(1)),
        Err(error) => {
            // Helpers answer on stdout; docker shows it after "error getting credentials".
            println!(
                "docker-credential-ecr-lab cannot run {} ({error}): put ecr-lab on PATH, or run `ecr-lab credential-helper install`",
                ecr_lab.display()
            );
            ExitCode::FAILURE
        }
    }
}

/// `ecr-lab` in this program's own directory (cargo builds and installs both binaries together).
fn beside_me() -> Option<PathBuf> {
    let me = std::env::current_exe().ok()?;
    let candidate = me.parent()?.join(format!("ecr-lab{}", std::env::consts::EXE_SUFFIX));
    candidate.is_file().then_some(candidate)
}
