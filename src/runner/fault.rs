//! Arranging the catalogue's faults (`crate::lesson::fault`) through the lab shell, and undoing them
//! when a stage is left: on the mock the block's own `mock:` lines or the catalogue's, on real AWS the
//! block's `aws:` lines or the catalogue's real-AWS recipe.

use std::collections::BTreeMap;

use crate::backend::BackendKind;
use crate::lesson::fault::spec;
use crate::lesson::fill;
use crate::shell::Session;

/// Runs shell lines quietly in the session; returns what they printed if one failed.
pub async fn run_lines(session: &mut Session, lines: &[String]) -> Result<(), String> {
    for line in lines {
        let (mut out, mut err) = (Vec::new(), Vec::new());
        let status = session.run_line(line, &mut out, &mut err).await;
        if status != 0 && !line.contains("2>&1") {
            return Err(format!(
                "`{line}` failed ({status}): {}{}",
                String::from_utf8_lossy(&out),
                String::from_utf8_lossy(&err)
            ));
        }
    }
    Ok(())
}

/// Whether the fault can be arranged where `session` runs (a lesson's own `aws:` lines count).
pub fn arrangeable(session: &Session, id: &str, custom_aws: Option<&str>) -> bool {
    session.backend.kind == BackendKind::Mock || custom_aws.is_some() || spec(id).is_some_and(|s| s.aws.is_some())
}

/// Arranges a fault: on the mock the block's own `mock:` lines or the catalogue's; on real AWS the
/// block's `aws:` lines or the catalogue's real-AWS recipe.
pub async fn arrange(
    session: &mut Session,
    id: &str,
    custom: (Option<&str>, Option<&str>),
    vars: &BTreeMap<String, String>,
) -> Result<(), String> {
    let (custom_mock, custom_aws) = custom;
    let aws = session.backend.kind == BackendKind::Aws;
    let own = if aws { custom_aws } else { custom_mock };
    let lines: Vec<String> = match (own, spec(id)) {
        (Some(custom), _) => custom.lines().filter(|l| !l.trim().is_empty()).map(|l| fill(l, vars)).collect(),
        (None, Some(spec)) if aws => match &spec.aws {
            Some(recipe) => recipe.arrange.iter().map(|l| fill(l, vars)).collect(),
            None => return Err(format!("fault `{id}` cannot be made real on AWS")),
        },
        (None, Some(spec)) => spec.arrange.iter().map(|l| fill(l, vars)).collect(),
        (None, None) => return Err(format!("fault `{id}` is not in the catalogue")),
    };
    run_lines(session, &lines).await
}

pub async fn revert(session: &mut Session, id: &str, vars: &BTreeMap<String, String>) {
    let Some(spec) = spec(id) else { return };
    let revert = match (&session.backend.kind, &spec.aws) {
        (BackendKind::Aws, Some(recipe)) => recipe.revert,
        (BackendKind::Aws, None) => &[],
        (BackendKind::Mock, _) => spec.revert,
    };
    let lines: Vec<String> = revert.iter().map(|l| fill(l, vars)).collect();
    let _ = run_lines(session, &lines).await;
}
