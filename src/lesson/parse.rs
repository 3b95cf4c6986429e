//! Reading a lesson file into the model: front matter, `##` stages, and each `lab:*` block parsed by
//! its kind. Parsing goes on past problems and keeps them (with their positions) for lint.

use pulldown_cmark::{CodeBlockKind, Event, HeadingLevel, Parser, Tag, TagEnd};

use super::rules::{self, Rule};
use super::{
    Assertion, Block, BlockKind, FaultBlock, FrontMatter, Lesson, Pos, Problem, Quiz, Shown, Source, Stage,
    StageHeader, check,
};

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
        rules::UNKNOWN_FIELD.at(pos, format!("{}: {message}", block.kind))
    } else {
        rules::BAD_YAML.at(pos, format!("{} is not valid YAML: {message}", block.kind))
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
                Some(stage) => {
                    stage.prose.push_str(chunk);
                    match stage.flow.last_mut() {
                        Some(Shown::Prose(prose)) => prose.push_str(chunk),
                        _ => stage.flow.push(Shown::Prose(chunk.to_owned())),
                    }
                }
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
                match stages.last_mut() {
                    Some(stage) => add_block(stage, &info, pos, text, &mut problems),
                    None => {
                        let kind = info.split_whitespace().next().unwrap_or_default();
                        problems.push(
                            rules::BLOCK_BEFORE_STAGE.at(pos, format!("{kind} appears before the first `##` stage")),
                        );
                    }
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
    let start = Pos { line: 1, col: 1 };
    let Some(rest) = text.strip_prefix("---\n") else {
        problems.push(rules::NO_FRONT_MATTER.at(start, "the lesson has no YAML front matter"));
        return (FrontMatter::default(), text, 1);
    };
    let Some(end) = rest.find("\n---\n").map(|i| i + 1).or_else(|| rest.strip_suffix("\n---").map(|r| r.len() + 1))
    else {
        problems.push(rules::UNCLOSED_FRONT_MATTER.at(start, "the front matter has no closing `---` line"));
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
            let rule = if error.to_string().contains("unknown field") {
                rules::UNKNOWN_FRONT_MATTER_KEY
            } else {
                rules::BAD_FRONT_MATTER
            };
            problems.push(rule.at(Pos { line, col: 1 }, format!("front matter: {error}")));
            FrontMatter::default()
        }
    };
    for (key, value) in [("id", &front.id), ("title", &front.title)] {
        if value.as_deref().is_none_or(str::is_empty)
            && !problems
                .iter()
                .any(|p| [rules::BAD_FRONT_MATTER.code, rules::UNKNOWN_FRONT_MATTER_KEY.code].contains(&p.code))
        {
            problems.push(
                rules::FRONT_MATTER_WITHOUT_ID_OR_TITLE
                    .at(Pos { line: 2, col: 1 }, format!("front matter has no `{key}`")),
            );
        }
    }
    (front, body, body_line)
}

/// The block's kind and `name=value` attributes from its fence's info string.
fn block_from(info: &str, pos: Pos, body: String) -> Result<Block, (Rule, String)> {
    let mut words = info.split_whitespace();
    let name = words.next().unwrap_or_default();
    let Some(kind) = BlockKind::parse(name) else {
        return Err((rules::UNKNOWN_BLOCK, format!("unknown block `{name}`")));
    };
    let rest: String = words.collect::<Vec<_>>().join(" ");
    let attributes = attribute_words(&rest)
        .into_iter()
        .map(|w| w.split_once('=').map_or((w.clone(), String::new()), |(k, v)| (k.to_owned(), v.to_owned())))
        .collect();
    Ok(Block { kind, attributes, body, pos })
}

/// A check block's `label:` lines (indented under an item: `  label: You met the error`), taken out
/// of the YAML (blanked, so line numbers hold) and returned per item, in order.
fn check_labels(body: &str) -> (String, Vec<Option<String>>) {
    let mut labels: Vec<Option<String>> = Vec::new();
    let mut kept = Vec::new();
    for line in body.lines() {
        if line.starts_with("- ") {
            labels.push(None);
        }
        let label = line.strip_prefix("  ").map(str::trim_start).and_then(|l| l.strip_prefix("label:"));
        match (label, labels.last_mut()) {
            (Some(value), Some(slot)) => {
                *slot =
                    Some(serde_norway::from_str::<String>(value.trim()).unwrap_or_else(|_| value.trim().to_owned()));
                kept.push("");
            }
            _ => kept.push(line),
        }
    }
    (kept.join("\n"), labels)
}

/// `name=value` words of an info string; a value in double quotes may hold spaces (quotes dropped).
fn attribute_words(text: &str) -> Vec<String> {
    let mut words = Vec::new();
    let mut word = String::new();
    let mut quoted = false;
    for c in text.chars() {
        match c {
            '"' => quoted = !quoted,
            c if c.is_whitespace() && !quoted => {
                if !word.is_empty() {
                    words.push(std::mem::take(&mut word));
                }
            }
            c => word.push(c),
        }
    }
    if !word.is_empty() {
        words.push(word);
    }
    words
}

fn add_block(stage: &mut Stage, info: &str, pos: Pos, body: String, problems: &mut Vec<Problem>) {
    let block = match block_from(info, pos, body) {
        Ok(block) => block,
        Err((rule, message)) => return problems.push(rule.at(pos, message)),
    };
    for name in block.attributes.keys() {
        if !block.kind.attributes().contains(&name.as_str()) {
            problems
                .push(rules::UNKNOWN_ATTRIBUTE.at(block.pos, format!("unknown attribute `{name}` on {}", block.kind)));
        }
    }
    if block.kind != BlockKind::Stage && stage.blocks.is_empty() {
        problems.push(
            rules::STAGE_WITHOUT_HEADER
                .at(block.pos, format!("stage `{}` begins with {}, not lab:stage", stage.title, block.kind)),
        );
    }
    stage.blocks.push(block.clone());
    match block.kind {
        BlockKind::Stage => match serde_norway::from_str::<StageHeader>(&block.body) {
            Ok(header) => stage.header = Some((header, block.pos)),
            Err(error) => problems.push(yaml_problem(&block, &error)),
        },
        BlockKind::Run => {
            stage.flow.push(Shown::Run(block.clone()));
            stage.runs.push(block);
        }
        BlockKind::Ui => {
            stage.flow.push(Shown::Ui(block.clone()));
            stage.ui.push(block);
        }
        BlockKind::Notes => stage.notes.push(block),
        BlockKind::Wrong => stage.wrongs.push(block),
        BlockKind::Solution => stage.solution = Some(block),
        // Each assertion is a one-key map (`- ecr.repository: {...}`), not a YAML tag.
        BlockKind::Check => {
            let (body, labels) = check_labels(&block.body);
            // Each assertion is a one-key map (`- ecr.repository: {...}`), not a YAML tag.
            match serde_norway::with::singleton_map_recursive::deserialize::<Vec<Assertion>, _>(
                serde_norway::Deserializer::from_str(&body),
            ) {
                Ok(assertions) => {
                    let lines = check::item_lines(&body);
                    for (n, assertion) in assertions.into_iter().enumerate() {
                        let line = block.body_line() + lines.get(n).copied().unwrap_or(0);
                        stage.check_labels.push(labels.get(n).cloned().flatten());
                        stage.checks.push((assertion, Pos { line, col: 1 }));
                    }
                }
                Err(error) => problems.push(yaml_problem(&block, &error)),
            }
        }
        BlockKind::Fault => match serde_norway::from_str::<FaultBlock>(&block.body) {
            Ok(fault) => stage.faults.push((fault, block.pos)),
            Err(error) => problems.push(yaml_problem(&block, &error)),
        },
        BlockKind::Quiz => match serde_norway::from_str::<Quiz>(&block.body) {
            Ok(quiz) => stage.quizzes.push((quiz, block.pos)),
            Err(error) => problems.push(yaml_problem(&block, &error)),
        },
        BlockKind::Hint if block.attributes.contains_key("when") => {
            let when = block.attributes.get("when").cloned().unwrap_or_default();
            stage.reactions.push((when, block.body.clone(), block.pos));
        }
        BlockKind::Hint => {
            let level = block.attributes.get("level").and_then(|l| l.parse().ok()).unwrap_or(0);
            stage.hints.push((level, block.body.clone(), block.pos));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::parse;
    use crate::lesson::{Source, fill, variables};

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

    #[test]
    fn check_labels_and_reacting_hints_keep_their_lines() {
        let text = "---\nid: demo\ntitle: Demo\n---\n## Fix it\n\n```lab:stage\nid: fix\nkind: troubleshoot\n```\n\n```lab:check\n- mock.requests: { route: registry, status: 401 }\n  label: \"You met it: {{repo}}\"\n- ecr.repository: { name: \"{{repo}}\" }\n```\n\n```lab:hint when=\"already exists\"\nchange it in place\n```\n";
        let lesson = parse(&Source { path: "demo.md".into(), text: text.into() });
        let stage = &lesson.stages[0];
        assert_eq!(stage.checks.len(), 2);
        assert_eq!(stage.check_labels, vec![Some("You met it: {{repo}}".to_owned()), None]);
        assert_eq!((stage.checks[0].1.line, stage.checks[1].1.line), (13, 15), "labels keep the lines");
        assert_eq!(stage.label_at(13), Some("You met it: {{repo}}"));
        let vars = variables(&lesson);
        assert_eq!(stage.check_text(0, &vars), "You met it: test");
        assert_eq!(stage.check_text(1, &vars), "repository test exists");
        assert_eq!(stage.reactions.len(), 1);
        assert_eq!(stage.reactions[0].0, "already exists");
        assert!(stage.hints.is_empty());
    }

    /// "Done when" lines read as a learner would say them: no doubled quotes, no route jargon.
    #[test]
    fn check_descriptions_read_plainly() {
        let text = "---\nid: d\ntitle: D\n---\n## S\n\n```lab:stage\nid: s\n```\n\n```lab:check\n- output: { of: \"aws ecr describe-images\", contains: \"\\\"{{tag}}\\\"\" }\n- mock.requests: { route: registry, status: 401 }\n```\n";
        let lesson = parse(&Source { path: "d.md".into(), text: text.into() });
        assert!(lesson.problems.is_empty(), "{:?}", lesson.problems);
        let vars = variables(&lesson);
        let stage = &lesson.stages[0];
        assert_eq!(stage.check_text(0, &vars), "the output of `aws ecr describe-images` contains `\"v1\"`");
        assert_eq!(stage.check_text(1, &vars), "the registry answered a docker request with 401");
    }

    /// The checks issue 17 asked for: an image by digest, image counts, encryption, an error met before.
    #[test]
    fn the_stronger_checks_parse_and_read_plainly() {
        let text = "---\nid: d\ntitle: D\n---\n## S\n\n```lab:stage\nid: s\n```\n\n```lab:check\n- ecr.images: { repo: app, count: 2, untagged: 1 }\n- ecr.image: { repo: app, tag: v2, digest: \"{{sample_v2_digest}}\" }\n- ecr.image: { repo: app, digest: \"{{sample_digest}}\", exists: false }\n- ecr.repository: { name: app, encryption: AES256 }\n- output: { of: \"docker login\", contains: \"400 Bad Request\", any_run: true }\n```\n\n```lab:wrong\n# too early\ndocker images\n```\n";
        let lesson = parse(&Source { path: "d.md".into(), text: text.into() });
        assert!(lesson.problems.is_empty(), "{:?}", lesson.problems);
        let vars = variables(&lesson);
        let stage = &lesson.stages[0];
        assert_eq!(stage.wrongs.len(), 1);
        assert_eq!(stage.wrongs[0].pos.line, 19);
        let v1 = crate::sample::build_version("v1").digest().as_str().to_owned();
        let v2 = crate::sample::build_version("v2").digest().as_str().to_owned();
        assert_ne!(v1, v2);
        assert_eq!(vars["sample_digest"], v1);
        assert_eq!(stage.check_text(0, &vars), "repository app holds 2 images, of them 1 untagged");
        assert_eq!(stage.check_text(1, &vars), format!("app:v2 holds image {}", &v2[..19]));
        assert_eq!(stage.check_text(2, &vars), format!("app does not hold image {}", &v1[..19]));
        assert_eq!(stage.check_text(3, &vars), "repository app exists, encrypted with AES256");
        assert_eq!(stage.check_text(4, &vars), "a run of `docker login` in this stage printed `400 Bad Request`");
    }
}
