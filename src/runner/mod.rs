//! Running lessons (the format is `crate::lesson`'s):
//!
//! - `start`: `ecr-lab start`, interactive, with the lab shell embedded and checks re-evaluated
//!   after every command (rustlings-style), or watching the learner's own tools (`--tools real`);
//! - `verify`: every check fails before its solution and passes after it, every fault meets its
//!   documented error;
//! - `state`: one stage's state machine ([`state::StageState`]), shared by both;
//! - `check`: evaluating assertions ([`check::CheckOutcome`]); `fault`: arranging faults through the shell;
//! - `progress`, `transcript`, and `list` here.

pub mod check;
pub mod fault;
mod progress;
mod start;
pub mod state;
pub mod trainer;
pub mod transcript;
mod verify;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use anyhow::{Context as _, Result, bail};

use crate::backend::{BackendKind, EcrBackend, cleanup};
use crate::lesson::{self, Lesson, Stage};
use crate::shell::Session;
use check::Ran;
pub use progress::Progress;
pub use start::{Ended, ToolsChoice, start};
pub use verify::verify;

/// Loads and parses lessons: the bundled ones or those in `dir`, filtered by id or file name.
pub fn load(dir: Option<&Path>, wanted: &[String]) -> Result<Vec<Lesson>> {
    let sources = lesson::sources(dir).context("reading the lessons")?;
    let lessons: Vec<Lesson> = sources.iter().map(lesson::parse).collect();
    if wanted.is_empty() {
        return Ok(lessons);
    }
    let mut chosen = Vec::new();
    for want in wanted {
        let found = lessons.iter().find(|l| {
            l.id() == *want || l.path.file_stem().is_some_and(|s| s.to_string_lossy() == want.trim_end_matches(".md"))
        });
        match found {
            Some(lesson) => chosen.push(lesson.clone()),
            None => {
                let path = Path::new(want);
                if path.is_file() {
                    let text = std::fs::read_to_string(path)?;
                    chosen.push(lesson::parse(&lesson::Source { path: path.to_path_buf(), text }));
                } else {
                    let ids: Vec<String> = lessons.iter().map(Lesson::id).collect();
                    bail!("no lesson `{want}`; the lessons are: {}", ids.join(", "));
                }
            }
        }
    }
    Ok(chosen)
}

/// Progress is kept per backend: a lesson done on the mock is still to do on AWS.
pub fn progress_key(lesson: &Lesson, backend: BackendKind) -> String {
    match backend {
        BackendKind::Mock => lesson.id(),
        BackendKind::Aws => format!("{}@aws", lesson.id()),
    }
}

/// Whether a lesson says it runs on real AWS (`backends: [mock, aws]`).
pub fn runs_on_aws(lesson: &Lesson) -> bool {
    lesson.front.backends.iter().any(|b| b == "aws")
}

/// On AWS the lab works on a repository name of its own; if one by that name exists without the
/// lab's tag, it belongs to the learner and the lab will not touch it.
pub async fn guard_repository(backend: &EcrBackend, name: &str) -> Result<()> {
    let ecr = backend.ecr(None);
    let found = ecr.describe_repositories().repository_names(name).send().await;
    let repository = match found {
        Ok(found) => found.repositories().first().cloned(),
        Err(e) if e.as_service_error().is_some_and(|s| s.is_repository_not_found_exception()) => return Ok(()),
        Err(e) => bail!("{}", crate::backend::explain::sdk("DescribeRepositories", &e)),
    };
    let Some(arn) = repository.as_ref().and_then(|r| r.repository_arn()) else { return Ok(()) };
    let tags = ecr
        .list_tags_for_resource()
        .resource_arn(arn)
        .send()
        .await
        .map_err(|e| anyhow::anyhow!("{}", crate::backend::explain::sdk("ListTagsForResource", &e)))?;
    if tags.tags().iter().any(|t| t.key() == cleanup::TAG_KEY) {
        return Ok(());
    }
    bail!(
        "a repository named `{name}` exists in account {} ({}) without the lab's `{}` tag, so it is yours and the lab will not touch it: rename or delete it, or use another region (--region)",
        backend.account,
        backend.region,
        cleanup::TAG_KEY
    )
}

/// The repositories a lesson works on: `{{repo}}` and every lesson variable named `*_repo`. On AWS each
/// must be absent or the lab's own before the lesson starts.
fn lesson_repositories(vars: &BTreeMap<String, String>) -> Vec<&str> {
    vars.iter().filter(|(name, _)| *name == "repo" || name.ends_with("_repo")).map(|(_, v)| v.as_str()).collect()
}

/// Whether a stage's faults can be made real where `session` runs; if not, the stage uses the mock.
fn needs_mock(session: &Session, stage: &Stage) -> bool {
    stage.faults.iter().any(|(block, _)| !fault::arrangeable(session, &block.id, block.aws.as_deref()))
}

/// Runs one line in the session, capturing what it printed.
async fn run_captured(session: &mut Session, line: &str) -> Ran {
    let (mut out, mut err) = (Vec::new(), Vec::new());
    let status = session.run_line(line, &mut out, &mut err).await;
    let mut output = String::from_utf8_lossy(&out).into_owned();
    output.push_str(&String::from_utf8_lossy(&err));
    Ran { command: line.to_owned(), output, status }
}

// ---- list ----

pub fn list(lessons: &[Lesson], progress: &Progress) {
    let id_width = lessons.iter().map(|l| l.id().chars().count()).max().unwrap_or(0);
    let title_width = lessons.iter().map(|l| l.title().chars().count()).max().unwrap_or(0);
    for lesson in lessons {
        let done = lesson.stages.iter().filter(|s| progress.is_done(&lesson.id(), &s.id())).count();
        let mark = if done == lesson.stages.len() {
            "✓"
        } else if done > 0 {
            "…"
        } else {
            " "
        };
        println!(
            "{mark} {:<id_width$}  {:<title_width$}  {done}/{} stages{}",
            lesson.id(),
            lesson.title(),
            lesson.stages.len(),
            lesson.front.duration.as_deref().map(|d| format!(", {d}")).unwrap_or_default()
        );
    }
}

/// Where progress is kept.
pub fn progress_path(home: &Path) -> PathBuf {
    home.join("progress.json")
}

/// Runs the lesson's `setup:` lines: the state earlier lessons leave behind.
async fn setup(session: &mut Session, lesson: &Lesson, vars: &BTreeMap<String, String>) -> Result<(), String> {
    let lines: Vec<String> = lesson.front.setup.iter().map(|l| lesson::fill(l, vars)).collect();
    fault::run_lines(session, &lines).await
}
