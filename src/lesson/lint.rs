//! `ecr-lab lint`: static checks of lesson files. Every rule has a stable code; every problem is
//! printed `path:line:col: LABnnn message` with a hint on the next line.
//!
//! | code   | rule |
//! |--------|------|
//! | LAB001 | missing front matter |
//! | LAB002 | bad front matter (invalid YAML, missing `id` or `title`) |
//! | LAB003 | unknown block, attribute or front matter key |
//! | LAB004 | stage without a leading `lab:stage` block; block outside a stage |
//! | LAB005 | duplicate stage id |
//! | LAB006 | undeclared variable |
//! | LAB007 | task stage without a check or a solution |
//! | LAB008 | hint levels not 1..n |
//! | LAB009 | quiz answer out of range |
//! | LAB010 | fault id not in the catalogue |
//! | LAB011 | unknown assertion or field |
//! | LAB012 | hard-coded account id or access key in a command |
//! | LAB013 | invalid YAML in a block |
//! | LAB014 | `mock.requests` in a lesson that lists `aws` in its backends |

use std::collections::BTreeSet;

use super::{BUILT_IN_VARS, Lesson, Pos, Problem, StageKind, fault};

/// Every problem in a parsed lesson (its parse problems included), in file order.
pub fn lint(lesson: &Lesson) -> Vec<Problem> {
    let mut problems = lesson.problems.clone();
    let mut add = |pos: Pos, code: &'static str, message: String, hint: &'static str| {
        problems.push(Problem { pos, code, message, hint })
    };
    let declared: BTreeSet<&str> =
        BUILT_IN_VARS.iter().copied().chain(lesson.front.vars.keys().map(String::as_str)).collect();
    let mut ids = BTreeSet::new();
    for stage in &lesson.stages {
        if stage.header.is_none() && stage.blocks.is_empty() {
            add(
                stage.pos,
                "LAB004",
                format!("stage `{}` has no lab:stage block", stage.title),
                "begin every stage with a ```lab:stage block (id, goal, kind)",
            );
        }
        let id = stage.id();
        if !ids.insert(id.clone()) {
            add(
                stage.header.as_ref().map_or(stage.pos, |(_, p)| *p),
                "LAB005",
                format!("stage id `{id}` is used twice"),
                "stage ids are progress keys: make each unique in the lesson",
            );
        }
        // Without a parsed header the kind is unknown; an unparsable check block was reported already.
        let task = stage.header.is_some() && stage.kind() == StageKind::Task;
        if task && stage.checks.is_empty() && !stage.blocks.iter().any(|b| b.kind == "lab:check") {
            add(
                stage.pos,
                "LAB007",
                format!("task stage `{}` has no lab:check", stage.title),
                "say what \"done\" means with a lab:check block, or make it kind: reading",
            );
        }
        if task && stage.solution.is_none() {
            add(
                stage.pos,
                "LAB007",
                format!("task stage `{}` has no lab:solution", stage.title),
                "give the reference answer in a lab:solution block; verify runs it",
            );
        }
        let mut levels: Vec<(usize, Pos)> = stage.hints.iter().map(|(l, _, p)| (*l, *p)).collect();
        levels.sort();
        for (n, (level, pos)) in levels.iter().enumerate() {
            if *level != n + 1 {
                add(
                    *pos,
                    "LAB008",
                    format!("hint level {level} where level {} was expected", n + 1),
                    "number hints level=1, level=2, ... without gaps",
                );
                break;
            }
        }
        for (quiz, pos) in &stage.quizzes {
            if quiz.answer == 0 || quiz.answer > quiz.choices.len() {
                add(
                    *pos,
                    "LAB009",
                    format!("quiz answer {} is not one of the {} choices", quiz.answer, quiz.choices.len()),
                    "answer is the 1-based number of the right choice",
                );
            }
        }
        for (assertion, pos) in &stage.checks {
            if let super::check::Assertion::Findings(c) = assertion {
                let severity = c.min_severity.as_deref().unwrap_or("UNDEFINED");
                if super::check::severity_rank(severity).is_none() {
                    add(
                        *pos,
                        "LAB011",
                        format!("scan.findings min_severity `{severity}` is not a severity ECR reports"),
                        "min_severity is one of CRITICAL, HIGH, MEDIUM, LOW, INFORMATIONAL, UNDEFINED",
                    );
                }
            }
        }
        // A stage whose fault cannot be made real runs on the bundled mock even under `--backend aws`.
        let on_mock_anyway = stage
            .faults
            .iter()
            .any(|(block, _)| block.aws.is_none() && fault::spec(&block.id).is_some_and(|s| s.aws.is_none()));
        if lesson.front.backends.iter().any(|b| b == "aws") && !on_mock_anyway {
            for (assertion, pos) in &stage.checks {
                if matches!(assertion, super::check::Assertion::Requests(_)) {
                    add(
                        *pos,
                        "LAB014",
                        "mock.requests in a lesson that lists `aws` in its backends: real AWS has no request log"
                            .into(),
                        "check the outcome instead (output, exit, ecr.image, docker.credentials), or list only `mock`",
                    );
                }
            }
        }
        for (fault, pos) in &stage.faults {
            if fault::spec(&fault.id).is_none() {
                let known: Vec<&str> = fault::CATALOGUE.iter().map(|f| f.id).collect();
                add(
                    *pos,
                    "LAB010",
                    format!("fault `{}` is not in the catalogue ({})", fault.id, known.join(", ")),
                    "the catalogue, and what each fault arranges, is in lessons/README.md",
                );
            }
        }
        for block in &stage.blocks {
            for (name, offset) in super::variables_in(&block.body) {
                if !declared.contains(name.as_str()) {
                    let before = &block.body[..offset];
                    let line = block.body_line() + before.matches('\n').count();
                    let col = offset - before.rfind('\n').map_or(0, |i| i + 1) + 1;
                    add(
                        Pos { line, col },
                        "LAB006",
                        format!("variable `{{{{{name}}}}}` is not declared"),
                        "declare it under `vars:` in the front matter, or use a built-in: account, region, registry, repo, tag, sample, sample_v2",
                    );
                }
            }
            if matches!(block.kind.as_str(), "lab:run" | "lab:solution") {
                for (n, line) in block.body.lines().enumerate() {
                    if let Some((col, what)) = hard_coded(line) {
                        add(
                            Pos { line: block.body_line() + n, col },
                            "LAB012",
                            format!("hard-coded {what} in a command"),
                            "write {{account}}, {{registry}} or {{region}}: the lab fills them for mock and real AWS alike",
                        );
                    }
                }
            }
        }
    }
    problems.sort_by_key(|p| p.pos);
    problems
}

/// A 12-digit account id or an access key id in a command line, with its column.
fn hard_coded(line: &str) -> Option<(usize, &'static str)> {
    let bytes = line.as_bytes();
    let mut i = 0;
    while i < bytes.len() {
        let run = bytes[i..].iter().take_while(|b| b.is_ascii_digit()).count();
        let bounded = |j: usize| j >= bytes.len() || !bytes[j].is_ascii_alphanumeric();
        if run == 12 && (i == 0 || !bytes[i - 1].is_ascii_alphanumeric()) && bounded(i + 12) {
            return Some((i + 1, "account id"));
        }
        let key = &line[i..];
        if (key.starts_with("AKIA") || key.starts_with("ASIA"))
            && key.len() >= 20
            && key[..20].bytes().all(|b| b.is_ascii_uppercase() || b.is_ascii_digit())
            && (i == 0 || !bytes[i - 1].is_ascii_alphanumeric())
        {
            return Some((i + 1, "access key id"));
        }
        i += run.max(1);
    }
    None
}

/// `path:line:col: LABnnn message` and the hint, as printed.
pub fn format(path: &std::path::Path, problem: &Problem) -> String {
    format!(
        "{}:{}:{}: {} {}\n  hint: {}",
        path.display(),
        problem.pos.line,
        problem.pos.col,
        problem.code,
        problem.message,
        problem.hint
    )
}

#[cfg(test)]
mod tests {
    use super::hard_coded;

    #[test]
    fn finds_hard_coded_ids() {
        assert_eq!(
            hard_coded("docker push 920736617090.dkr.ecr.ap-south-1.amazonaws.com/test:v1"),
            Some((13, "account id"))
        );
        assert_eq!(hard_coded("export AWS_ACCESS_KEY_ID=AKIAIOSFODNN7EXAMPLE"), Some((26, "access key id")));
        assert_eq!(hard_coded("docker push {{registry}}/test:v1"), None);
        assert_eq!(hard_coded("sha256:1234567890123"), None);
    }

    #[test]
    fn a_severity_ecr_does_not_report_is_named() {
        let text = "---\nid: s\ntitle: S\n---\n## Scan\n\n```lab:stage\nid: one\nkind: task\n```\n\n```lab:check\n\
                    - scan.findings: { repo: r, min_severity: SEVERE }\n- scan.findings: { repo: r, min_severity: high }\n```\n\n\
                    ```lab:solution\ntrue\n```\n";
        let lesson = super::super::parse(&super::super::Source { path: "s.md".into(), text: text.into() });
        let problems = super::lint(&lesson);
        assert_eq!(problems.len(), 1, "{problems:?}");
        assert_eq!(problems[0].code, "LAB011");
        assert_eq!(problems[0].pos.line, 13);
        assert_eq!(problems[0].message, "scan.findings min_severity `SEVERE` is not a severity ECR reports");
    }
}
