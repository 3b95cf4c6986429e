//! `ecr-lab lint`: static checks of lesson files. Every problem is printed
//! `path:line:col: LABnnn message` with a hint on the next line; the rules, their codes and hints
//! are the table in `super::rules`.

use std::collections::BTreeSet;

use super::check::{Assertion, Wire};
use super::rules;
use super::{BUILT_IN_VARS, Block, BlockKind, Lesson, Pos, Problem, Stage, StageKind, fault};

/// Every problem in a parsed lesson (its parse problems included), in file order.
pub fn lint(lesson: &Lesson) -> Vec<Problem> {
    let mut problems = lesson.problems.clone();
    let declared: BTreeSet<&str> =
        BUILT_IN_VARS.iter().copied().chain(lesson.front.vars.keys().map(String::as_str)).collect();
    let on_aws = lesson.front.backends.iter().any(|b| b == "aws");
    let mut ids = BTreeSet::new();
    for stage in &lesson.stages {
        if stage.header.is_none() && stage.blocks.is_empty() {
            problems.push(
                rules::STAGE_WITHOUT_HEADER.at(stage.pos, format!("stage `{}` has no lab:stage block", stage.title)),
            );
        }
        let id = stage.id();
        if !ids.insert(id.clone()) {
            let pos = stage.header.as_ref().map_or(stage.pos, |(_, p)| *p);
            problems.push(rules::DUPLICATE_STAGE_ID.at(pos, format!("stage id `{id}` is used twice")));
        }
        task_rules(stage, &mut problems);
        hint_and_quiz_rules(stage, &mut problems);
        troubleshoot_rules(stage, &mut problems);
        check_rules(stage, on_aws, &mut problems);
        wrong_rules(stage, &mut problems);
        for (fault, pos) in &stage.faults {
            if fault::spec(&fault.id).is_none() {
                let known: Vec<&str> = fault::CATALOGUE.iter().map(|f| f.id).collect();
                problems.push(
                    rules::UNKNOWN_FAULT
                        .at(*pos, format!("fault `{}` is not in the catalogue ({})", fault.id, known.join(", "))),
                );
            }
        }
        for block in &stage.blocks {
            block_rules(block, &declared, &mut problems);
        }
    }
    problems.sort_by_key(|p| p.pos);
    problems
}

/// LAB007: a task stage says what "done" means and gives the reference answer.
fn task_rules(stage: &Stage, problems: &mut Vec<Problem>) {
    // Without a parsed header the kind is unknown; an unparsable check block was reported already.
    let task = stage.header.is_some() && stage.kind() == StageKind::Task;
    if task && stage.checks.is_empty() && !stage.blocks.iter().any(|b| b.kind == BlockKind::Check) {
        problems
            .push(rules::TASK_WITHOUT_CHECK.at(stage.pos, format!("task stage `{}` has no lab:check", stage.title)));
    }
    if task && stage.solution.is_none() {
        problems.push(
            rules::TASK_WITHOUT_SOLUTION.at(stage.pos, format!("task stage `{}` has no lab:solution", stage.title)),
        );
    }
}

/// LAB016: a `lab:wrong` runs something and has checks to fail.
fn wrong_rules(stage: &Stage, problems: &mut Vec<Problem>) {
    for wrong in &stage.wrongs {
        if stage.checks.is_empty() && !stage.blocks.iter().any(|b| b.kind == BlockKind::Check) {
            problems.push(
                rules::WRONG_WITHOUT_CHECKS.at(
                    wrong.pos,
                    format!("lab:wrong in stage `{}`, which has no lab:check for it to fail", stage.id()),
                ),
            );
        } else if command_lines(&wrong.body).next().is_none() {
            problems.push(rules::WRONG_WITHOUT_CHECKS.at(wrong.pos, "lab:wrong with no command to run"));
        }
    }
}

/// The lines of a solution-like block that run (blank lines and `#` comments are shown, not run).
pub fn command_lines(body: &str) -> impl Iterator<Item = &str> {
    body.lines().filter(|l| !l.trim().is_empty() && !l.trim_start().starts_with('#'))
}

/// LAB008 (hint levels 1..n) and LAB009 (a quiz's answer is one of its choices).
/// LAB015: a troubleshoot stage makes the learner diagnose: its checks carry the author's neutral
/// labels (a check's own description names the cause or the fix), and a quiz asks for the cause.
fn troubleshoot_rules(stage: &Stage, problems: &mut Vec<Problem>) {
    if stage.kind() != StageKind::Troubleshoot {
        return;
    }
    for (n, (_, pos)) in stage.checks.iter().enumerate() {
        if stage.check_labels.get(n).is_none_or(Option::is_none) {
            problems.push(rules::TROUBLESHOOT_GIVES_AWAY.at(
                *pos,
                "a check of a troubleshoot stage has no `label:`: its own description gives the cause away".to_owned(),
            ));
        }
    }
    if !stage.checks.is_empty() && !stage.quizzes.iter().any(|(q, _)| q.diagnose) {
        let pos = stage.header.as_ref().map_or(stage.pos, |(_, p)| *p);
        problems.push(rules::TROUBLESHOOT_GIVES_AWAY.at(
            pos,
            format!("troubleshoot stage `{}` has no diagnose quiz: the learner never names the cause", stage.id()),
        ));
    }
}

fn hint_and_quiz_rules(stage: &Stage, problems: &mut Vec<Problem>) {
    let mut levels: Vec<(usize, Pos)> = stage.hints.iter().map(|(l, _, p)| (*l, *p)).collect();
    levels.sort();
    for (n, (level, pos)) in levels.iter().enumerate() {
        if *level != n + 1 {
            problems
                .push(rules::HINT_LEVELS.at(*pos, format!("hint level {level} where level {} was expected", n + 1)));
            break;
        }
    }
    for (quiz, pos) in &stage.quizzes {
        if quiz.answer == 0 || quiz.answer > quiz.choices.len() {
            problems.push(
                rules::QUIZ_ANSWER
                    .at(*pos, format!("quiz answer {} is not one of the {} choices", quiz.answer, quiz.choices.len())),
            );
        }
    }
}

/// LAB011 (values ECR does not know) and LAB014 (`mock.requests` where real AWS may answer).
fn check_rules(stage: &Stage, on_aws: bool, problems: &mut Vec<Problem>) {
    // A stage whose fault cannot be made real runs on the bundled mock even under `--backend aws`.
    let on_mock_anyway = stage
        .faults
        .iter()
        .any(|(block, _)| block.aws.is_none() && fault::spec(&block.id).is_some_and(|s| s.aws.is_none()));
    for (assertion, pos) in &stage.checks {
        match assertion {
            Assertion::Findings(c) => {
                if let Err(severity) = c.min_severity() {
                    problems.push(
                        rules::UNKNOWN_SEVERITY
                            .at(*pos, format!("scan.findings min_severity `{severity}` is not a severity ECR reports")),
                    );
                }
            }
            Assertion::Repository(c) => {
                if let Some(kind) = c
                    .encryption
                    .as_deref()
                    .filter(|e| !["AES256", "KMS", "KMS_DSSE"].contains(&e.to_ascii_uppercase().as_str()))
                {
                    problems.push(
                        rules::UNKNOWN_ENCRYPTION.at(
                            *pos,
                            format!("ecr.repository encryption `{kind}` is not an encryption type ECR knows"),
                        ),
                    );
                }
                if let Some(Wire::Unknown(mutability)) = &c.tag_mutability {
                    problems.push(rules::UNKNOWN_MUTABILITY.at(
                        *pos,
                        format!("ecr.repository tag_mutability `{mutability}` is not a tag mutability ECR knows"),
                    ));
                }
            }
            Assertion::Console(c) if !crate::lesson::check::CONSOLE_PAGES.contains(&c.viewed.as_str()) => problems
                .push(
                    rules::UNKNOWN_CONSOLE_PAGE
                        .at(*pos, format!("console viewed `{}` is not a page of the lab's console", c.viewed)),
                ),
            Assertion::Requests(_) if on_aws && !on_mock_anyway => {
                problems.push(rules::REQUESTS_ON_AWS.at(
                    *pos,
                    "mock.requests in a lesson that lists `aws` in its backends: real AWS has no request log",
                ))
            }
            Assertion::IamUser(_) if on_aws && !on_mock_anyway => problems.push(rules::REQUESTS_ON_AWS.at(
                *pos,
                "iam.user in a lesson that lists `aws` in its backends: the lab's IAM users live on the mock",
            )),
            _ => {}
        }
    }
}

/// LAB006 (undeclared variables) and LAB012 (hard-coded ids in commands) in one block.
fn block_rules(block: &Block, declared: &BTreeSet<&str>, problems: &mut Vec<Problem>) {
    for (name, offset) in super::variables_in(&block.body) {
        if !declared.contains(name.as_str()) {
            let before = &block.body[..offset];
            let line = block.body_line() + before.matches('\n').count();
            let col = offset - before.rfind('\n').map_or(0, |i| i + 1) + 1;
            problems.push(
                rules::UNDECLARED_VARIABLE.at(Pos { line, col }, format!("variable `{{{{{name}}}}}` is not declared")),
            );
        }
    }
    if block.kind == BlockKind::Solution {
        for (n, line) in block.body.lines().enumerate().filter(|(_, l)| !l.trim_start().starts_with('#')) {
            if let Some(col) = grants_everything(line) {
                let pos = Pos { line: block.body_line() + n, col };
                problems.push(rules::SOLUTION_GRANTS_ALL.at(pos, "the solution grants `ecr:*`: every ECR action"));
            }
        }
    }
    if matches!(block.kind, BlockKind::Run | BlockKind::Solution | BlockKind::Wrong) {
        for (n, line) in block.body.lines().enumerate() {
            if let Some((col, what)) = hard_coded(line) {
                let pos = Pos { line: block.body_line() + n, col };
                problems.push(rules::HARD_CODED.at(pos, format!("hard-coded {what} in a command")));
            }
        }
    }
}

/// LAB017: the column where a solution line grants every ECR action (`"ecr:*"`), or every action
/// of every service (`"Action": "*"`), in a policy it writes or puts.
fn grants_everything(line: &str) -> Option<usize> {
    if let Some(at) = line.find("ecr:*") {
        return Some(line[..at].chars().count() + 1);
    }
    let compact: String = line.chars().filter(|c| !c.is_whitespace()).collect();
    let everything = ["\"Action\":\"*\"", "\"Action\":[\"*\"", "\"Action\":\"*:*\""];
    everything.iter().any(|p| compact.contains(p)).then(|| line.find("\"Action\"").map_or(1, |at| at + 1))
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
        let key = &bytes[i..]; // bytes: `i` need not be a char boundary
        if (key.starts_with(b"AKIA") || key.starts_with(b"ASIA"))
            && key.len() >= 20
            && key[..20].iter().all(|b| b.is_ascii_uppercase() || b.is_ascii_digit())
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
    format!("{}\n  hint: {}", format_line(path, problem), problem.hint)
}

/// `path:line:col: LABnnn message`, without the hint (as `verify` reports it).
pub fn format_line(path: &std::path::Path, problem: &Problem) -> String {
    format!("{}:{}:{}: {} {}", path.display(), problem.pos.line, problem.pos.col, problem.code, problem.message)
}

#[cfg(test)]
mod tests {
    use super::hard_coded;

    #[test]
    fn finds_grants_of_every_action() {
        use super::grants_everything;
        assert_eq!(grants_everything(r#"echo '{"Action":"ecr:*","Resource":"*"}' > p.json"#), Some(18));
        assert_eq!(grants_everything(r#"echo '{"Action": "*", "Resource": "*"}' > p.json"#), Some(8));
        assert_eq!(grants_everything(r#"echo '{"Action":["ecr:BatchGetImage"],"Resource":"*"}' > p.json"#), None);
        assert_eq!(
            grants_everything("ecr-lab iam put-user-policy --user-name ci --policy-document file://p.json"),
            None
        );
    }

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

    #[test]
    fn a_tag_mutability_ecr_does_not_know_is_named() {
        let text = "---\nid: m\ntitle: M\n---\n## Repo\n\n```lab:stage\nid: one\nkind: task\n```\n\n```lab:check\n\
                    - ecr.repository: { name: r, tag_mutability: FROZEN }\n- ecr.repository: { name: r, tag_mutability: immutable }\n```\n\n\
                    ```lab:solution\ntrue\n```\n";
        let lesson = super::super::parse(&super::super::Source { path: "m.md".into(), text: text.into() });
        let problems = super::lint(&lesson);
        assert_eq!(problems.len(), 1, "{problems:?}");
        assert_eq!(problems[0].code, "LAB011");
        assert_eq!(problems[0].pos.line, 13);
        assert_eq!(problems[0].message, "ecr.repository tag_mutability `FROZEN` is not a tag mutability ECR knows");
    }

    #[test]
    fn an_encryption_type_ecr_does_not_know_is_named() {
        let text = "---\nid: e\ntitle: E\n---\n## S\n\n```lab:stage\nid: s\nkind: task\n```\n\n```lab:check\n- ecr.repository: { name: r, encryption: AES-256 }\n- ecr.repository: { name: r, encryption: kms }\n```\n\n```lab:solution\ntrue\n```\n";
        let lesson = crate::lesson::parse(&crate::lesson::Source { path: "e.md".into(), text: text.into() });
        let problems = super::lint(&lesson);
        assert_eq!(problems.len(), 1, "{problems:?}");
        assert_eq!((problems[0].code, problems[0].pos.line), ("LAB011", 13));
        assert!(problems[0].message.contains("`AES-256`"), "{}", problems[0].message);
    }
}
