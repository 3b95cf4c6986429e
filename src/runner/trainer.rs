//! The trainer's side of a lesson: the instructor view (`ecr-lab start --notes`: each stage with its
//! goal, the fault it arranges and the `lab:notes`), and the coverage report (`ecr-lab coverage`:
//! per lesson, what the learner practises, proved by checks, against what is only told).

use std::collections::BTreeMap;
use std::fmt::Write as _;

use crate::lesson::{self, Assertion, Lesson, Stage, StageKind, fill};

/// The instructor view of a lesson: its title and objectives, then each stage's number, title,
/// minutes, goal, the fault it arranges and its notes (or that it has none). Variables are filled
/// with the mock's values.
pub fn instructor_view(lesson: &Lesson) -> String {
    let vars = lesson::variables(lesson);
    let mut out = String::new();
    let _ = writeln!(out, "# {} ({})", fill(&lesson.title(), &vars), lesson.id());
    if let Some(duration) = &lesson.front.duration {
        let _ = writeln!(out, "{duration}, {} stages", lesson.stages.len());
    }
    for objective in &lesson.front.objectives {
        let _ = writeln!(out, "- objective: {}", fill(objective, &vars));
    }
    for (n, stage) in lesson.stages.iter().enumerate() {
        out.push('\n');
        let minutes =
            stage.header.as_ref().and_then(|(h, _)| h.minutes).map(|m| format!(", {m} min")).unwrap_or_default();
        let _ = writeln!(out, "## {}. {} [{}{minutes}]", n + 1, fill(&stage.title, &vars), kind_name(stage.kind()));
        if let Some(goal) = stage.goal() {
            let _ = writeln!(out, "Goal: {}", fill(goal, &vars));
        }
        for (fault, _) in &stage.faults {
            let summary = lesson::fault::spec(&fault.id).map(|s| format!(": {}", s.summary)).unwrap_or_default();
            let _ = writeln!(out, "Fault: {}{summary}", fault.id);
        }
        if stage.notes.is_empty() {
            out.push_str("Notes: (none)\n");
        }
        for note in &stage.notes {
            out.push_str("Notes:\n");
            for line in fill(&note.body, &vars).lines() {
                let _ = writeln!(out, "  {line}");
            }
        }
    }
    out
}

fn kind_name(kind: StageKind) -> &'static str {
    match kind {
        StageKind::Task => "task",
        StageKind::Troubleshoot => "troubleshoot",
        StageKind::Reading => "reading",
        StageKind::Cleanup => "cleanup",
    }
}

/// Whether a stage makes the learner do something the lab checks, or only tells them.
fn practised(stage: &Stage) -> bool {
    !stage.checks.is_empty() && stage.kind() != StageKind::Reading
}

/// Whether a stage's console steps (`lab:ui`) are checked: the stage has a `console` check (the page
/// was opened), or one the registry answers (what the step changed is seen). Otherwise they are told.
fn console_checked(stage: &Stage) -> bool {
    stage.checks.iter().any(|(c, _)| {
        matches!(
            c,
            Assertion::Console(_)
                | Assertion::Repository(_)
                | Assertion::Image(_)
                | Assertion::Images(_)
                | Assertion::Findings(_)
        )
    })
}

/// The coverage report: a summary table (one row per lesson: stages practised and told, checks,
/// wrong solutions proved to fail, console steps checked), then per lesson one row per stage: practised (and what its
/// checks prove) or told (prose with no check).
pub fn coverage(lessons: &[Lesson]) -> String {
    let mut out = String::from(
        "| lesson | stages | practised | told | checks | wrong solutions | console steps checked |\n|---|---|---|---|---|---|---|\n",
    );
    for lesson in lessons {
        let told = lesson.stages.iter().filter(|s| !practised(s)).count();
        let checks: usize = lesson.stages.iter().map(|s| s.checks.len()).sum();
        let wrongs: usize = lesson.stages.iter().map(|s| s.wrongs.len()).sum();
        let steps: usize = lesson.stages.iter().map(|s| s.ui.len()).sum();
        let checked: usize = lesson.stages.iter().filter(|s| console_checked(s)).map(|s| s.ui.len()).sum();
        let console = if steps == 0 { "-".to_owned() } else { format!("{checked} of {steps}") };
        let _ = writeln!(
            out,
            "| {} | {} | {} | {told} | {checks} | {wrongs} | {console} |",
            lesson.id(),
            lesson.stages.len(),
            lesson.stages.len() - told
        );
    }
    for lesson in lessons {
        let vars = lesson::variables(lesson);
        let _ = write!(
            out,
            "\n## {} ({})\n\n| stage | kind | practised or told | what the checks prove |\n|---|---|---|---|\n",
            fill(&lesson.title(), &vars),
            lesson.path.display()
        );
        for stage in &lesson.stages {
            let _ = writeln!(
                out,
                "| {} | {} | {} | {} |",
                stage.id(),
                kind_name(stage.kind()),
                if practised(stage) { "practised" } else { "told" },
                proved(stage, &vars).replace('|', "\\|")
            );
        }
    }
    out
}

/// What a stage's checks prove, in their own words (not the author's labels, which a troubleshoot
/// stage keeps neutral); for a stage without checks, its goal or title.
fn proved(stage: &Stage, vars: &BTreeMap<String, String>) -> String {
    if !practised(stage) {
        let what = stage.goal().unwrap_or(&stage.title);
        return format!("(told: {})", fill(what, vars));
    }
    let checks: Vec<String> = stage.checks.iter().map(|(c, _)| c.describe(vars)).collect();
    let mut text = checks.join("; ");
    // Output and exit codes show a command ran, not that the lab is in the state the stage names.
    if stage.checks.iter().all(|(c, _)| matches!(c, Assertion::Output(_) | Assertion::Exit(_))) {
        text.push_str(" (output only)");
    }
    if !stage.ui.is_empty() && !console_checked(stage) {
        text.push_str(" (its console step is told only)");
    }
    if !stage.wrongs.is_empty() {
        let n = stage.wrongs.len();
        let _ = write!(text, " ({n} wrong solution{} proved to fail)", if n == 1 { "" } else { "s" });
    }
    text
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::lesson::{Source, parse};

    fn lesson() -> Lesson {
        let text = "---\nid: demo\ntitle: Demo\nduration: 5 min\n---\n## Read\n\n```lab:stage\nid: read\nkind: reading\ngoal: Know the words\n```\n\n```lab:notes\nAsk the room what a tag is.\n```\n\n## Make {{repo}}\n\n```lab:stage\nid: make\nminutes: 3\n```\n\n```lab:check\n- ecr.repository: { name: \"{{repo}}\", encryption: AES256 }\n```\n\n```lab:solution\naws ecr create-repository --repository-name {{repo}}\n```\n\n```lab:wrong\n# KMS\naws ecr create-repository --repository-name {{repo}} --encryption-configuration encryptionType=KMS\n```\n";
        parse(&Source { path: "demo.md".into(), text: text.into() })
    }

    #[test]
    fn the_instructor_view_shows_every_stage_with_its_notes() {
        let view = instructor_view(&lesson());
        assert!(view.starts_with("# Demo (demo)\n5 min, 2 stages\n"), "{view}");
        assert!(
            view.contains("## 1. Read [reading]\nGoal: Know the words\nNotes:\n  Ask the room what a tag is.\n"),
            "{view}"
        );
        assert!(view.contains("## 2. Make test [task, 3 min]\nNotes: (none)\n"), "{view}");
    }

    #[test]
    fn console_steps_are_checked_by_a_console_or_registry_check_and_told_otherwise() {
        let stage = |id: &str, check: &str| {
            format!(
                "## {id}\n\n```lab:stage\nid: {id}\n```\n\n```lab:ui\nOpen {{{{repo}}}}.\n```\n\n```lab:check\n- {check}\n```\n\n```lab:solution\n# in the console\n```\n\n"
            )
        };
        let text = format!(
            "---\nid: ui\ntitle: UI\n---\n{}{}{}",
            stage("opened", "console: { viewed: repository, repository: \"{{repo}}\" }"),
            stage("made", "ecr.repository: { name: \"{{repo}}\" }"),
            stage("looked", "output: { of: \"aws ecr describe-images\", contains: v1 }"),
        );
        let report = coverage(&[parse(&Source { path: "ui.md".into(), text })]);
        assert!(report.contains("| ui | 3 | 3 | 0 | 3 | 0 | 2 of 3 |"), "{report}");
        assert!(
            report.contains("| opened | task | practised | the Images tab of test opened in the console |"),
            "{report}"
        );
        assert!(report.contains("contains `v1` (output only) (its console step is told only) |"), "{report}");
    }

    #[test]
    fn coverage_tells_practised_from_told() {
        let report = coverage(&[lesson()]);
        assert!(report.contains("| demo | 2 | 1 | 1 | 1 | 1 | - |"), "{report}");
        assert!(report.contains("| read | reading | told | (told: Know the words) |"), "{report}");
        assert!(
            report.contains(
                "| make | task | practised | repository test exists, encrypted with AES256 (1 wrong solution proved to fail) |"
            ),
            "{report}"
        );
    }
}
