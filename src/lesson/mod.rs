//! The lesson *format*: markdown with YAML front matter, one `##` heading per stage, and fenced
//! `lab:*` blocks for what a machine reads (DESIGN §5). This module is the model (lessons, stages,
//! blocks, the lab's variables); reading and judging it is split so a newcomer finds each part:
//!
//! - `parse`: text to [`Lesson`], keeping every position, so each problem a trainer makes is
//!   reported as `path:line:col: LABnnn message`;
//! - `check`: the `lab:check` assertions as typed data (ECR's enums parsed at load time);
//! - `fault`: the fault catalogue, as data;
//! - `rules`: the LAB rule table (code and hint of every problem);
//! - `lint`: the static rules over a parsed lesson.
//!
//! Nothing here runs anything: evaluating checks and arranging faults is `crate::runner`'s.

pub mod check;
pub mod fault;
#[cfg(test)]
mod fuzz;
pub mod lint;
mod parse;
pub mod rules;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde::Deserialize;

pub use check::Assertion;
pub use parse::parse;

/// The lab's built-in variables; a lesson may declare more under `vars:`.
pub const BUILT_IN_VARS: &[&str] = &[
    "account",
    "region",
    "registry",
    "repo",
    "tag",
    "sample",
    "sample_v2",
    "other_region",
    "sample_digest",
    "sample_v2_digest",
];

/// The manifest digests of the two sample images as the lab's docker pushes them (`sha256:...`).
fn sample_digests() -> &'static (String, String) {
    static DIGESTS: std::sync::OnceLock<(String, String)> = std::sync::OnceLock::new();
    DIGESTS.get_or_init(|| {
        let digest = |version: &str| crate::sample::build_version(version).digest().as_str().to_owned();
        (digest("v1"), digest("v2"))
    })
}

/// The repository a lesson works on in a real AWS account: a name of the lab's own, so a learner's
/// `test` is never touched (the runner refuses to start if a repository by this name is not the lab's).
pub const AWS_REPO: &str = "ecr-lab-test";

/// The bundled course.
#[derive(rust_embed::RustEmbed)]
#[folder = "lessons/"]
#[include = "*.md"]
#[exclude = "README.md"]
struct Bundled;

/// Where a lesson came from and its text.
#[derive(Debug, Clone)]
pub struct Source {
    pub path: PathBuf,
    pub text: String,
}

/// Every lesson, bundled or from `dir`, in file-name order.
pub fn sources(dir: Option<&Path>) -> std::io::Result<Vec<Source>> {
    let mut sources = Vec::new();
    match dir {
        Some(dir) => {
            let mut paths: Vec<PathBuf> = std::fs::read_dir(dir)?
                .filter_map(|e| e.ok().map(|e| e.path()))
                .filter(|p| p.extension().is_some_and(|e| e == "md") && p.file_name().is_some_and(|n| n != "README.md"))
                .collect();
            paths.sort();
            for path in paths {
                sources.push(Source { text: std::fs::read_to_string(&path)?, path });
            }
        }
        None => {
            let mut names: Vec<String> = Bundled::iter().map(|n| n.into_owned()).collect();
            names.sort();
            for name in names {
                let file = Bundled::get(&name).expect("listed");
                sources.push(Source {
                    path: PathBuf::from("lessons").join(&name),
                    text: String::from_utf8_lossy(&file.data).into_owned(),
                });
            }
        }
    }
    Ok(sources)
}

/// A position in a lesson file (1-based).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Default)]
pub struct Pos {
    pub line: usize,
    pub col: usize,
}

/// A problem found in a lesson, with its stable rule code.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Problem {
    pub pos: Pos,
    pub code: &'static str,
    pub message: String,
    pub hint: &'static str,
}

/// Every key of the format is parsed (so a mistyped key is an error); some are for tools to come
/// (`backends`, `requires` for real AWS, `faults` as a summary).
#[allow(dead_code)]
#[derive(Debug, Clone, Deserialize, Default)]
#[serde(deny_unknown_fields)]
pub struct FrontMatter {
    pub id: Option<String>,
    pub title: Option<String>,
    pub version: Option<serde_norway::Value>,
    pub duration: Option<String>,
    pub level: Option<String>,
    #[serde(default)]
    pub backends: Vec<String>,
    #[serde(default)]
    pub requires: Vec<String>,
    #[serde(default)]
    pub vars: BTreeMap<String, String>,
    #[serde(default)]
    pub objectives: Vec<String>,
    #[serde(default)]
    pub faults: Vec<String>,
    /// Shell lines that bring the lab to the lesson's starting point (run quietly before the first
    /// stage; they must be safe to run again).
    #[serde(default)]
    pub setup: Vec<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Default)]
#[serde(rename_all = "lowercase")]
pub enum StageKind {
    #[default]
    Task,
    Troubleshoot,
    Reading,
    Cleanup,
}

#[allow(dead_code)] // `needs` orders stages once lessons depend on each other
#[derive(Debug, Clone, Deserialize, Default)]
#[serde(deny_unknown_fields)]
pub struct StageHeader {
    pub id: Option<String>,
    pub goal: Option<String>,
    pub minutes: Option<u32>,
    #[serde(default)]
    pub kind: StageKind,
    #[serde(default)]
    pub needs: Vec<String>,
}

#[allow(dead_code)] // `aws` and `scope` are for the real-AWS backend
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FaultBlock {
    pub id: String,
    /// How to arrange it on the mock, when the catalogue's default does not fit.
    pub mock: Option<String>,
    /// How to arrange it on real AWS.
    pub aws: Option<String>,
    /// Whether leaving the stage undoes it (default true).
    pub revert: Option<bool>,
    pub scope: Option<String>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Quiz {
    pub prompt: String,
    pub choices: Vec<String>,
    /// 1-based index of the right choice.
    pub answer: usize,
    pub explain: Option<String>,
    /// Asked once the learner has met the stage's error (their first try that fails), before the
    /// fix: the learner names the cause. Otherwise asked when the stage is done.
    #[serde(default)]
    pub diagnose: bool,
}

/// The kinds of `lab:*` block a stage may hold.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BlockKind {
    Stage,
    Run,
    Ui,
    Check,
    Fault,
    Hint,
    Solution,
    Quiz,
    Notes,
    Wrong,
}

impl BlockKind {
    pub const ALL: [BlockKind; 10] = [
        Self::Stage,
        Self::Run,
        Self::Ui,
        Self::Check,
        Self::Fault,
        Self::Hint,
        Self::Solution,
        Self::Quiz,
        Self::Notes,
        Self::Wrong,
    ];

    /// The fence's info word: `lab:run`.
    pub fn name(self) -> &'static str {
        match self {
            Self::Stage => "lab:stage",
            Self::Run => "lab:run",
            Self::Ui => "lab:ui",
            Self::Check => "lab:check",
            Self::Fault => "lab:fault",
            Self::Hint => "lab:hint",
            Self::Solution => "lab:solution",
            Self::Quiz => "lab:quiz",
            Self::Notes => "lab:notes",
            Self::Wrong => "lab:wrong",
        }
    }

    pub fn parse(name: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|kind| kind.name() == name)
    }

    /// The attributes a block of this kind may carry (`lab:hint level=2`).
    pub fn attributes(self) -> &'static [&'static str] {
        match self {
            Self::Hint => &["level", "when"],
            _ => &[],
        }
    }
}

impl std::fmt::Display for BlockKind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

/// One machine-readable block, with where its body starts.
#[derive(Debug, Clone)]
pub struct Block {
    pub kind: BlockKind,
    pub attributes: BTreeMap<String, String>,
    pub body: String,
    /// The line of the opening fence.
    pub pos: Pos,
}

impl Block {
    /// The line of the body's first line.
    pub fn body_line(&self) -> usize {
        self.pos.line + 1
    }
}

#[derive(Debug, Clone, Default)]
pub struct Stage {
    pub title: String,
    pub pos: Pos,
    pub header: Option<(StageHeader, Pos)>,
    /// Markdown prose (everything but lab blocks), for display.
    pub prose: String,
    pub runs: Vec<Block>,
    pub ui: Vec<Block>,
    pub checks: Vec<(Assertion, Pos)>,
    /// The author's words for each check (`label:` under its item), by the check's index: shown as
    /// "Done when" and when it fails, instead of the check's own description.
    pub check_labels: Vec<Option<String>>,
    pub faults: Vec<(FaultBlock, Pos)>,
    /// `(level, text, pos)`.
    pub hints: Vec<(usize, String, Pos)>,
    /// Hints that react to what the learner did (`lab:hint when="TEXT"`): `(when, text, pos)`. One is
    /// offered once TEXT appears in a command the learner ran in the stage, its output, or a failing check.
    pub reactions: Vec<(String, String, Pos)>,
    pub solution: Option<Block>,
    pub quizzes: Vec<(Quiz, Pos)>,
    pub notes: Vec<Block>,
    /// Plausible wrong solutions (`lab:wrong`): `verify` runs each from the stage's start and requires
    /// the stage's checks to fail.
    pub wrongs: Vec<Block>,
    /// Every block in order (for lint).
    pub blocks: Vec<Block>,
    /// What the learner reads, in document order: prose, commands and console steps as written.
    pub flow: Vec<Shown>,
}

/// One part of a stage as shown to the learner, in the order the lesson file has it.
#[derive(Debug, Clone)]
pub enum Shown {
    Prose(String),
    Run(Block),
    Ui(Block),
}

impl Stage {
    pub fn id(&self) -> String {
        self.header.as_ref().and_then(|(h, _)| h.id.clone()).unwrap_or_else(|| slug(&self.title))
    }
    pub fn kind(&self) -> StageKind {
        self.header.as_ref().map(|(h, _)| h.kind).unwrap_or_default()
    }
    /// What check `n` means, for the learner: the author's label, else the check's description.
    pub fn check_text(&self, n: usize, vars: &BTreeMap<String, String>) -> String {
        match self.check_labels.get(n).and_then(Option::as_deref) {
            Some(label) => fill(label, vars),
            None => self.checks.get(n).map(|(c, _)| c.describe(vars)).unwrap_or_default(),
        }
    }

    /// The label of the check on `line`, if its author gave one.
    pub fn label_at(&self, line: usize) -> Option<&str> {
        let n = self.checks.iter().position(|(_, pos)| pos.line == line)?;
        self.check_labels.get(n).and_then(Option::as_deref)
    }

    pub fn goal(&self) -> Option<&str> {
        self.header.as_ref().and_then(|(h, _)| h.goal.as_deref())
    }
}

#[derive(Debug, Clone)]
pub struct Lesson {
    pub path: PathBuf,
    pub front: FrontMatter,
    /// Line of the first line after the front matter.
    pub intro: String,
    pub stages: Vec<Stage>,
    /// Problems found while reading (lint adds its own).
    pub problems: Vec<Problem>,
}

impl Lesson {
    pub fn id(&self) -> String {
        self.front
            .id
            .clone()
            .unwrap_or_else(|| self.path.file_stem().map(|s| s.to_string_lossy().into_owned()).unwrap_or_default())
    }
    pub fn title(&self) -> String {
        self.front.title.clone().unwrap_or_else(|| self.id())
    }
}

fn slug(text: &str) -> String {
    let mut out = String::new();
    for c in text.chars() {
        if c.is_ascii_alphanumeric() {
            out.push(c.to_ascii_lowercase());
        } else if !out.ends_with('-') && !out.is_empty() {
            out.push('-');
        }
    }
    out.trim_end_matches('-').to_owned()
}

/// Fills `{{name}}` from `vars`; unknown names stay as they are.
pub fn fill(text: &str, vars: &BTreeMap<String, String>) -> String {
    let mut out = String::new();
    let mut rest = text;
    while let Some(start) = rest.find("{{") {
        out.push_str(&rest[..start]);
        match rest[start + 2..].find("}}") {
            Some(end) => {
                let name = rest[start + 2..start + 2 + end].trim();
                match vars.get(name) {
                    Some(value) => out.push_str(value),
                    None => out.push_str(&rest[start..start + 4 + end]),
                }
                rest = &rest[start + 4 + end..];
            }
            None => {
                out.push_str(&rest[start..]);
                rest = "";
            }
        }
    }
    out.push_str(rest);
    out
}

/// Every `{{name}}` used in `text`, with its offset.
pub fn variables_in(text: &str) -> Vec<(String, usize)> {
    let mut found = Vec::new();
    let mut at = 0;
    while let Some(start) = text[at..].find("{{") {
        let start = at + start;
        match text[start + 2..].find("}}") {
            Some(end) => {
                found.push((text[start + 2..start + 2 + end].trim().to_owned(), start));
                at = start + 4 + end;
            }
            None => break,
        }
    }
    found
}

/// The values of the built-in variables on the mock, plus a lesson's own.
pub fn variables(lesson: &Lesson) -> BTreeMap<String, String> {
    variables_for(lesson, &crate::backend::EcrBackend::mock("http://127.0.0.1"))
}

/// The values of the built-in variables for a backend (its account, region, registry), plus a
/// lesson's own.
pub fn variables_for(lesson: &Lesson, backend: &crate::backend::EcrBackend) -> BTreeMap<String, String> {
    let mut vars = built_in_variables_for(backend);
    for (name, value) in &lesson.front.vars {
        let value = fill(value, &vars);
        vars.insert(name.clone(), value);
    }
    vars
}

/// The values of [`BUILT_IN_VARS`] on the mock: the guide's defaults, shared by lessons and slides.
pub fn built_in_variables() -> BTreeMap<String, String> {
    built_in_variables_for(&crate::backend::EcrBackend::mock("http://127.0.0.1"))
}

/// The values of [`BUILT_IN_VARS`] for a backend: its account, region and registry.
pub fn built_in_variables_for(backend: &crate::backend::EcrBackend) -> BTreeMap<String, String> {
    let repo = match backend.kind {
        crate::backend::BackendKind::Mock => "test",
        crate::backend::BackendKind::Aws => AWS_REPO,
    };
    let other_region = if backend.region == "us-east-1" { "us-west-2" } else { "us-east-1" };
    [
        ("account", backend.account.clone()),
        ("region", backend.region.clone()),
        ("registry", backend.registry_host()),
        ("other_region", other_region.to_owned()),
        ("repo", repo.to_owned()),
        ("tag", "v1".to_owned()),
        ("sample", crate::sample::REFERENCE.to_owned()),
        ("sample_v2", crate::sample::REFERENCE_V2.to_owned()),
        ("sample_digest", sample_digests().0.clone()),
        ("sample_v2_digest", sample_digests().1.clone()),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_owned(), v))
    .collect()
}
