//! `ecr-lab verify`: each lesson lints clean, every fault meets its documented error, every check
//! fails before its stage's solution runs and passes after it.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use anyhow::Result;

use super::check::Tools;
use super::state::StageState;
use super::{fault, guard_repository, lesson_repositories, needs_mock, run_captured, runs_on_aws, setup};
use crate::backend::{EcrBackend, cleanup};
use crate::lesson::{self, Lesson, Stage, StageKind, fill};
use crate::shell::{Backing, Session};

/// `ecr-lab verify`: returns the problems found, as `path:line: message`. With `aws` (the backend
/// and the cleanup records), lessons that list `aws` run against the account, and what they created
/// is deleted at the end.
pub async fn verify(lessons: &[Lesson], work: &Path, aws: Option<(EcrBackend, PathBuf)>) -> Result<Vec<String>> {
    let run = cleanup::run_id();
    let mut problems = Vec::new();
    for (n, lesson) in lessons.iter().enumerate() {
        if aws.is_some() && !runs_on_aws(lesson) {
            println!(
                "skip  {} (its backends are [{}]; add `aws` once it runs on real AWS)",
                lesson.path.display(),
                lesson.front.backends.join(", ")
            );
            continue;
        }
        let lint = lesson::lint::lint(lesson);
        if !lint.is_empty() {
            problems.extend(lint.iter().map(|p| lesson::lint::format_line(&lesson.path, p)));
            continue;
        }
        let data = work.join(format!("lesson-{n}"));
        let backing = match &aws {
            Some((backend, records)) => {
                Backing::Aws { backend: Box::new(backend.clone()), run: run.clone(), records: records.clone() }
            }
            None => Backing::Mock(None),
        };
        let mut session = Session::start_on(&data, backing).await?;
        let vars = lesson::variables_for(lesson, &session.backend);
        if aws.is_some() {
            for name in lesson_repositories(&vars) {
                guard_repository(&session.backend, name).await?;
            }
        }
        let mut fallback: Option<Session> = None;
        let mock_vars = lesson::variables(lesson);
        let before = problems.len();
        if let Err(why) = setup(&mut session, lesson, &vars).await {
            problems.push(format!("{}: setup: {why}", lesson.path.display()));
        }
        for stage in &lesson.stages {
            if needs_mock(&session, stage) {
                if fallback.is_none() {
                    fallback = Some(Session::start(&data.join("mock-fallback"), None).await?);
                }
                let mock = fallback.as_mut().expect("started");
                verify_stage(lesson, stage, mock, &mock_vars, &mut problems).await;
            } else {
                verify_stage(lesson, stage, &mut session, &vars, &mut problems).await;
            }
        }
        if aws.is_none() {
            verify_wrongs(lesson, &data, &vars, &mut problems).await?;
        }
        let checks: usize = lesson.stages.iter().map(|s| s.checks.len()).sum();
        let wrongs: usize = lesson.stages.iter().map(|s| s.wrongs.len()).sum();
        if problems.len() == before {
            let wrongs = if wrongs > 0 { format!(", {wrongs} wrong solutions fail") } else { String::new() };
            println!("ok    {} ({} stages, {checks} checks{wrongs})", lesson.path.display(), lesson.stages.len());
        } else {
            println!("FAIL  {}", lesson.path.display());
        }
    }
    Ok(problems)
}

async fn verify_stage(
    lesson: &Lesson,
    stage: &Stage,
    session: &mut Session,
    vars: &BTreeMap<String, String>,
    problems: &mut Vec<String>,
) {
    let at =
        |line: usize, message: String| format!("{}:{line}: stage `{}`: {message}", lesson.path.display(), stage.id());
    let state = StageState::begin(stage, session).await;
    for (block, pos) in &stage.faults {
        if let Err(why) = fault::arrange(session, &block.id, (block.mock.as_deref(), block.aws.as_deref()), vars).await
        {
            problems.push(at(pos.line, format!("arranging fault `{}` failed: {why}", block.id)));
            return;
        }
        if let Some(spec) = lesson::fault::spec(&block.id) {
            let ran = run_captured(session, &fill(spec.trigger, vars)).await;
            let expected = fill(spec.error, vars);
            if !ran.output.contains(&expected) {
                problems.push(at(
                    pos.line,
                    format!(
                        "fault `{}` ({}) should make `{}` print \"{expected}\", but it printed:\n{}",
                        block.id, spec.summary, ran.command, ran.output
                    ),
                ));
            }
        }
    }
    let mut history = Vec::new();
    if !stage.checks.is_empty() {
        let cx = state.context(Tools::Builtin(session), vars, &history);
        // On real AWS a console step is taken on trust: a stage of console steps only passes at once.
        let console_only = session.backend.mock_endpoint().is_none()
            && stage.checks.iter().all(|(c, _)| matches!(c, lesson::Assertion::Console(_)));
        if state.failing(&cx).await.is_empty() && stage.kind() != StageKind::Cleanup && !console_only {
            problems.push(at(
                stage.checks[0].1.line,
                "the checks already pass before the solution ran: they do not test the stage".into(),
            ));
        }
    }
    if let Some(solution) = &stage.solution {
        for line in lesson::lint::command_lines(&solution.body) {
            history.push(run_captured(session, &fill(line, vars)).await);
        }
    }
    if let Err(why) = replay_console(session, stage, vars).await {
        problems.push(at(stage.pos.line, why));
    }
    let cx = state.context(Tools::Builtin(session), vars, &history);
    for (line, why) in state.failing(&cx).await {
        problems.push(at(line, format!("after the solution this check still fails: {why}")));
    }
    for (block, _) in &stage.faults {
        if block.revert.unwrap_or(true) {
            fault::revert(session, &block.id, vars).await;
        }
    }
}

/// The stage's console steps, replayed as the learner would do them: each page a `console` check
/// asks about is opened on the mock's console (an image page through the first image the repository
/// page links to). Nothing to do on real AWS, whose console the lab cannot see.
async fn replay_console(session: &Session, stage: &Stage, vars: &BTreeMap<String, String>) -> Result<(), String> {
    let Some(endpoint) = session.backend.mock_endpoint() else { return Ok(()) };
    for (assertion, _) in &stage.checks {
        let lesson::Assertion::Console(c) = assertion else { continue };
        let repository = c.repository.as_deref().map(|r| fill(r, vars)).unwrap_or_else(|| fill("{{repo}}", vars));
        let base = format!("/console/repositories/{repository}");
        let path = match c.viewed.as_str() {
            "repositories" => "/console/repositories".to_owned(),
            "create-repository" => "/console/create-repository".to_owned(),
            "repository" => base,
            "image" | "findings" => {
                let (_, page) =
                    crate::control_client::console_page(endpoint, &base).await.map_err(|e| e.to_string())?;
                let Some(image) = page.split("/_/image/").nth(1).and_then(|rest| rest.split(['?', '"']).next()) else {
                    return Err(format!("replaying the console step: {repository}'s page links to no image to open"));
                };
                let findings = if c.viewed == "findings" { "/findings" } else { "" };
                format!("{base}/_/image/{image}{findings}")
            }
            page => format!("{base}/_/{page}"),
        };
        match crate::control_client::console_page(endpoint, &path).await {
            Ok((status, _)) if status < 400 => {}
            Ok((status, _)) => return Err(format!("replaying the console step: {path} answered {status}")),
            Err(e) => return Err(format!("replaying the console step: {e:#}")),
        }
    }
    Ok(())
}

/// Each `lab:wrong` of each stage, run in a lab of its own brought to the stage's start (the setup,
/// then every earlier stage's faults and solution), with the stage's faults arranged: the stage's
/// checks must fail after it, or they do not tell the wrong solution from the right one.
async fn verify_wrongs(
    lesson: &Lesson,
    data: &Path,
    vars: &BTreeMap<String, String>,
    problems: &mut Vec<String>,
) -> Result<()> {
    for (n, stage) in lesson.stages.iter().enumerate() {
        for (w, wrong) in stage.wrongs.iter().enumerate() {
            let at = |message: String| {
                format!("{}:{}: stage `{}`: lab:wrong: {message}", lesson.path.display(), wrong.pos.line, stage.id())
            };
            let mut session = Session::start(&data.join(format!("wrong-{n}-{w}")), None).await?;
            if let Err(why) = replay_to(lesson, n, &mut session, vars).await {
                problems.push(at(format!("could not bring a fresh lab to this stage: {why}")));
                continue;
            }
            let state = StageState::begin(stage, &session).await;
            for (block, _) in &stage.faults {
                let custom = (block.mock.as_deref(), block.aws.as_deref());
                if let Err(why) = fault::arrange(&mut session, &block.id, custom, vars).await {
                    problems.push(at(format!("arranging fault `{}` failed: {why}", block.id)));
                }
            }
            let mut history = Vec::new();
            for line in lesson::lint::command_lines(&wrong.body) {
                history.push(run_captured(&mut session, &fill(line, vars)).await);
            }
            let cx = state.context(Tools::Builtin(&session), vars, &history);
            if state.failing(&cx).await.is_empty() {
                let what = wrong.body.lines().find_map(|l| l.trim_start().strip_prefix('#')).map(str::trim);
                problems.push(at(format!(
                    "this wrong solution{} passes every check of the stage: strengthen the checks so it fails (after it ran:\n{})",
                    what.map(|w| format!(" ({w})")).unwrap_or_default(),
                    history.iter().map(|r| format!("$ {}\n{}", r.command, r.output)).collect::<String>()
                )));
            }
        }
    }
    Ok(())
}

/// Brings a fresh lab to the start of stage `upto`: the lesson's setup, then each earlier stage's
/// faults, solution and reverts, as a learner who did them would leave it.
async fn replay_to(
    lesson: &Lesson,
    upto: usize,
    session: &mut Session,
    vars: &BTreeMap<String, String>,
) -> Result<(), String> {
    setup(session, lesson, vars).await?;
    for stage in &lesson.stages[..upto] {
        for (block, _) in &stage.faults {
            let custom = (block.mock.as_deref(), block.aws.as_deref());
            fault::arrange(session, &block.id, custom, vars).await?;
        }
        if let Some(solution) = &stage.solution {
            for line in lesson::lint::command_lines(&solution.body) {
                run_captured(session, &fill(line, vars)).await;
            }
        }
        for (block, _) in &stage.faults {
            if block.revert.unwrap_or(true) {
                fault::revert(session, &block.id, vars).await;
            }
        }
    }
    Ok(())
}
