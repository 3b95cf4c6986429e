//! Lesson files: markdown with YAML front matter, one `##` heading per stage, and fenced `lab:*`
//! blocks for what a machine reads (DESIGN §5). Parsing keeps every position, so each problem a
//! trainer makes is reported as `path:line:col: LABnnn message`.

pub mod check;
pub mod fault;
pub mod lint;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde::Deserialize;

pub use check::Assertion;

/// The lab's built-in variables; a lesson may declare more under `vars:`.
pub const BUILT_IN_VARS: &[&str] =
    &["account", "region", "registry", "repo", "tag", "sample", "sample_v2", "other_region"];

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
}

/// One machine-readable block, with where its body starts.
#[derive(Debug, Clone)]
pub struct Block {
    pub kind: String,
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
    pub faults: Vec<(FaultBlock, Pos)>,
    /// `(level, text, pos)`.
    pub hints: Vec<(usize, String, Pos)>,
    pub solution: Option<Block>,
    pub quizzes: Vec<(Quiz, Pos)>,
    pub notes: Vec<Block>,
    /// Every block in order (for lint).
    pub blocks: Vec<Block>,
}

impl Stage {
    pub fn id(&self) -> String {
        self.header.as_ref().and_then(|(h, _)| h.id.clone()).unwrap_or_else(|| slug(&self.title))
    }
    pub fn kind(&self) -> StageKind {
        self.header.as_ref().map(|(h, _)| h.kind).unwrap_or_default()
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

/// The known block kinds and the attributes each may carry.
pub const BLOCKS: &[(&str, &[&str])] = &[
    ("lab:stage", &[]),
    ("lab:run", &[]),
    ("lab:ui", &[]),
    ("lab:check", &[]),
    ("lab:fault", &[]),
    ("lab:hint", &["level"]),
    ("lab:solution", &[]),
    ("lab:quiz", &[]),
    ("lab:notes", &[]),
];

fn problem(pos: Pos, code: &'static str, message: impl Into<String>, hint: &'static str) -> Problem {
    Problem { pos, code, message: message.into(), hint }
}

/// A YAML error inside a block, at its line in the file.
fn yaml_problem(block: &Block, error: &serde_norway::Error) -> Problem {
    let (line, col) = error.location().map(|l| (l.line(), l.column())).unwrap_or((1, 1));
    let message = error.to_string();
    // The position is in the report already.
    let message = match message.rfind(" at line ") {
        Some(i) => message[..i].to_owned(),
        None => message,
    };
    let pos = Pos { line: block.body_line() + line.saturating_sub(1), col };
    if message.contains("unknown field") || message.contains("unknown variant") {
        problem(
            pos,
            "LAB011",
            format!("{}: {message}", block.kind),
            "see lessons/README.md for the assertions and fields each block takes",
        )
    } else {
        problem(
            pos,
            "LAB013",
            format!("{} is not valid YAML: {message}", block.kind),
            "check the indentation and quoting of this block",
        )
    }
}

/// Parses a lesson. Problems found on the way are kept in `problems`; parsing goes on past them.
pub fn parse(source: &Source) -> Lesson {
    let text = source.text.replace("\r\n", "\n");
    let mut problems = Vec::new();
    let (front, body, body_line) = split_front_matter(&text, &mut problems);
    let line_starts: Vec<usize> = std::iter::once(0).chain(body.match_indices('\n').map(|(i, _)| i + 1)).collect();
    let pos_of = |offset: usize| {
        let line = line_starts.partition_point(|&start| start <= offset);
        Pos { line: body_line + line - 1, col: offset - line_starts[line - 1] + 1 }
    };

    use pulldown_cmark::{CodeBlockKind, Event, HeadingLevel, Parser, Tag, TagEnd};
    let mut intro = String::new();
    let mut stages: Vec<Stage> = Vec::new();
    let mut in_heading: Option<Pos> = None;
    let mut heading_text = String::new();
    let mut code: Option<(String, Pos, String)> = None;
    let mut prose_start: Option<usize> = None;
    let flush_prose = |stages: &mut Vec<Stage>, intro: &mut String, from: Option<usize>, to: usize| {
        if let Some(from) = from {
            let chunk = &body[from..to];
            match stages.last_mut() {
                Some(stage) => stage.prose.push_str(chunk),
                None => intro.push_str(chunk),
            }
        }
    };
    for (event, range) in Parser::new(body).into_offset_iter() {
        match event {
            Event::Start(Tag::Heading { level: HeadingLevel::H2, .. }) => {
                flush_prose(&mut stages, &mut intro, prose_start.take(), range.start);
                in_heading = Some(pos_of(range.start));
                heading_text.clear();
            }
            Event::End(TagEnd::Heading(HeadingLevel::H2)) => {
                let pos = in_heading.take().unwrap_or_default();
                stages.push(Stage { title: heading_text.trim().to_owned(), pos, ..Stage::default() });
                prose_start = Some(range.end);
            }
            Event::Text(t) | Event::Code(t) if in_heading.is_some() => heading_text.push_str(&t),
            Event::Start(Tag::CodeBlock(CodeBlockKind::Fenced(info))) if info.trim_start().starts_with("lab:") => {
                flush_prose(&mut stages, &mut intro, prose_start.take(), range.start);
                code = Some((info.to_string(), pos_of(range.start), String::new()));
            }
            Event::Text(t) if code.is_some() => {
                if let Some((_, _, text)) = code.as_mut() {
                    text.push_str(&t);
                }
            }
            Event::End(TagEnd::CodeBlock) if code.is_some() => {
                let (info, pos, text) = code.take().expect("in a lab block");
                let mut words = info.split_whitespace();
                let kind = words.next().unwrap_or_default().to_owned();
                let attributes = words
                    .map(|w| {
                        w.split_once('=').map_or((w.to_owned(), String::new()), |(k, v)| {
                            (k.to_owned(), v.trim_matches('"').to_owned())
                        })
                    })
                    .collect();
                let block = Block { kind, attributes, body: text, pos };
                match stages.last_mut() {
                    Some(stage) => add_block(stage, block, &mut problems),
                    None => problems.push(problem(
                        pos,
                        "LAB004",
                        format!("{} appears before the first `##` stage", block.kind),
                        "put lab blocks under a `## Stage` heading",
                    )),
                }
                prose_start = Some(range.end);
            }
            _ => {
                if prose_start.is_none() && in_heading.is_none() && code.is_none() {
                    prose_start = Some(range.start);
                }
            }
        }
    }
    flush_prose(&mut stages, &mut intro, prose_start.take(), body.len());
    Lesson { path: source.path.clone(), front, intro, stages, problems }
}

fn split_front_matter<'a>(text: &'a str, problems: &mut Vec<Problem>) -> (FrontMatter, &'a str, usize) {
    let Some(rest) = text.strip_prefix("---\n") else {
        problems.push(problem(
            Pos { line: 1, col: 1 },
            "LAB001",
            "the lesson has no YAML front matter",
            "start the file with a `---` line, `id:` and `title:`, then `---`",
        ));
        return (FrontMatter::default(), text, 1);
    };
    let Some(end) = rest.find("\n---\n").map(|i| i + 1).or_else(|| rest.strip_suffix("\n---").map(|r| r.len() + 1))
    else {
        problems.push(problem(
            Pos { line: 1, col: 1 },
            "LAB001",
            "the front matter has no closing `---` line",
            "end the front matter with a line `---`",
        ));
        return (FrontMatter::default(), text, 1);
    };
    let yaml = &rest[..end];
    let front_lines = yaml.lines().count();
    let body = rest.get(end + 4..).unwrap_or("");
    let body_line = front_lines + 3;
    let front = match serde_norway::from_str::<FrontMatter>(yaml) {
        Ok(front) => front,
        Err(error) => {
            let line = error.location().map_or(1, |l| l.line()) + 1;
            let code = if error.to_string().contains("unknown field") { "LAB003" } else { "LAB002" };
            problems.push(problem(
                Pos { line, col: 1 },
                code,
                format!("front matter: {error}"),
                "front matter keys: id, title, version, duration, level, backends, requires, vars, objectives, faults, setup",
            ));
            FrontMatter::default()
        }
    };
    for (key, value) in [("id", &front.id), ("title", &front.title)] {
        if value.as_deref().is_none_or(str::is_empty)
            && !problems.iter().any(|p| p.code == "LAB002" || p.code == "LAB003")
        {
            problems.push(problem(
                Pos { line: 2, col: 1 },
                "LAB002",
                format!("front matter has no `{key}`"),
                "every lesson needs `id:` (its progress key) and `title:`",
            ));
        }
    }
    (front, body, body_line)
}

fn add_block(stage: &mut Stage, block: Block, problems: &mut Vec<Problem>) {
    let known = BLOCKS.iter().find(|(kind, _)| *kind == block.kind);
    let Some((_, attributes)) = known else {
        problems.push(problem(block.pos, "LAB003", format!("unknown block `{}`", block.kind), "blocks: lab:stage, lab:run, lab:ui, lab:check, lab:fault, lab:hint level=N, lab:solution, lab:quiz, lab:notes"));
        return;
    };
    for name in block.attributes.keys() {
        if !attributes.contains(&name.as_str()) {
            problems.push(problem(
                block.pos,
                "LAB003",
                format!("unknown attribute `{name}` on {}", block.kind),
                "only lab:hint takes an attribute: level=N",
            ));
        }
    }
    if block.kind != "lab:stage" && stage.blocks.is_empty() {
        problems.push(problem(
            block.pos,
            "LAB004",
            format!("stage `{}` begins with {}, not lab:stage", stage.title, block.kind),
            "begin every stage with a ```lab:stage block (id, goal, kind)",
        ));
    }
    stage.blocks.push(block.clone());
    match block.kind.as_str() {
        "lab:stage" => match serde_norway::from_str::<StageHeader>(&block.body) {
            Ok(header) => stage.header = Some((header, block.pos)),
            Err(error) => problems.push(yaml_problem(&block, &error)),
        },
        "lab:run" => stage.runs.push(block),
        "lab:ui" => stage.ui.push(block),
        "lab:notes" => stage.notes.push(block),
        "lab:solution" => stage.solution = Some(block),
        // Each assertion is a one-key map (`- ecr.repository: {...}`), not a YAML tag.
        "lab:check" => match serde_norway::with::singleton_map_recursive::deserialize::<Vec<Assertion>, _>(
            serde_norway::Deserializer::from_str(&block.body),
        ) {
            Ok(assertions) => {
                let lines = check::item_lines(&block.body);
                for (n, assertion) in assertions.into_iter().enumerate() {
                    let line = block.body_line() + lines.get(n).copied().unwrap_or(0);
                    stage.checks.push((assertion, Pos { line, col: 1 }));
                }
            }
            Err(error) => problems.push(yaml_problem(&block, &error)),
        },
        "lab:fault" => match serde_norway::from_str::<FaultBlock>(&block.body) {
            Ok(fault) => stage.faults.push((fault, block.pos)),
            Err(error) => problems.push(yaml_problem(&block, &error)),
        },
        "lab:quiz" => match serde_norway::from_str::<Quiz>(&block.body) {
            Ok(quiz) => stage.quizzes.push((quiz, block.pos)),
            Err(error) => problems.push(yaml_problem(&block, &error)),
        },
        "lab:hint" => {
            let level = block.attributes.get("level").and_then(|l| l.parse().ok()).unwrap_or(0);
            stage.hints.push((level, block.body.clone(), block.pos));
        }
        _ => {}
    }
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
    ]
    .into_iter()
    .map(|(k, v)| (k.to_owned(), v))
    .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_stages_and_blocks_with_lines() {
        let text = "---\nid: demo\ntitle: Demo\n---\nIntro.\n\n## Create it\n\n```lab:stage\nid: create\ngoal: Make a repository\n```\n\nSome prose.\n\n```lab:run\naws ecr create-repository --repository-name {{repo}}\n```\n\n```lab:check\n- ecr.repository: { name: \"{{repo}}\", exists: true }\n```\n";
        let lesson = parse(&Source { path: "demo.md".into(), text: text.into() });
        assert!(lesson.problems.is_empty(), "{:?}", lesson.problems);
        assert_eq!(lesson.stages.len(), 1);
        let stage = &lesson.stages[0];
        assert_eq!(stage.id(), "create");
        assert_eq!(stage.pos.line, 7);
        assert_eq!(stage.runs[0].pos.line, 16);
        assert_eq!(stage.checks[0].1.line, 21);
        assert!(stage.prose.contains("Some prose."));
        let vars = variables(&lesson);
        assert_eq!(
            fill("{{registry}}/{{repo}}:{{tag}}", &vars),
            "920736617090.dkr.ecr.ap-south-1.amazonaws.com/test:v1"
        );
    }
}
