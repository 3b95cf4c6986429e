//! Walking lessons: `ecr-lab start` (interactive, with the lab shell embedded and checks re-evaluated
//! after every command, rustlings-style), `verify` (every check fails before its solution and passes
//! after it, every fault meets its documented error), `list` with progress, and transcripts.

mod progress;
pub mod transcript;

use std::collections::BTreeMap;
use std::io::Write as _;
use std::path::{Path, PathBuf};

use anyhow::{Context as _, Result, bail};

use crate::backend::{BackendKind, EcrBackend, cleanup};
use crate::lesson::check::{Context, Ran, Tools};
use crate::lesson::{self, Lesson, Stage, StageKind, fault, fill};
use crate::shell::{Backing, Session};
pub use progress::Progress;

/// Failed checks before the solution is offered.
const ATTEMPTS_BEFORE_SOLUTION: usize = 3;

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

/// The mock's current request-log position and lab-clock time (on AWS: no log, and real time).
async fn stage_marks(session: &Session) -> (u64, f64) {
    let Some(endpoint) = session.backend.mock_endpoint() else {
        let now = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map(|d| d.as_secs_f64());
        return (0, now.unwrap_or(0.0));
    };
    let seq = crate::control_client::requests(endpoint, 0)
        .await
        .ok()
        .and_then(|log| log.last().and_then(|r| r["seq"].as_u64()))
        .unwrap_or(0);
    let now = crate::control_client::clock_seconds(endpoint).await.unwrap_or(0.0);
    (seq, now)
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

/// Evaluates a stage's checks; the failures, with the check's position.
async fn failing(stage: &Stage, cx: &Context<'_>) -> Vec<(usize, String)> {
    let mut failures = Vec::new();
    for (assertion, pos) in &stage.checks {
        if let Err(why) = assertion.evaluate(cx).await {
            failures.push((pos.line, why));
        }
    }
    failures
}

/// Runs one line in the session, capturing what it printed.
async fn run_captured(session: &mut Session, line: &str) -> Ran {
    let (mut out, mut err) = (Vec::new(), Vec::new());
    let status = session.run_line(line, &mut out, &mut err).await;
    let mut output = String::from_utf8_lossy(&out).into_owned();
    output.push_str(&String::from_utf8_lossy(&err));
    Ran { command: line.to_owned(), output, status }
}

// ---- verify ----

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
            for p in lint {
                problems.push(format!(
                    "{}:{}:{}: {} {}",
                    lesson.path.display(),
                    p.pos.line,
                    p.pos.col,
                    p.code,
                    p.message
                ));
            }
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
        let checks: usize = lesson.stages.iter().map(|s| s.checks.len()).sum();
        if problems.len() == before {
            println!("ok    {} ({} stages, {checks} checks)", lesson.path.display(), lesson.stages.len());
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
    let (seq, started) = stage_marks(session).await;
    for (block, pos) in &stage.faults {
        if let Err(why) = fault::arrange(session, &block.id, (block.mock.as_deref(), block.aws.as_deref()), vars).await
        {
            problems.push(at(pos.line, format!("arranging fault `{}` failed: {why}", block.id)));
            return;
        }
        if let Some(spec) = fault::spec(&block.id) {
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
        let cx = Context {
            tools: Tools::Builtin(session),
            vars,
            history: &history,
            log_seq_at_start: seq,
            started_at: started,
        };
        if failing(stage, &cx).await.is_empty() && stage.kind() != StageKind::Cleanup {
            problems.push(at(
                stage.checks[0].1.line,
                "the checks already pass before the solution ran: they do not test the stage".into(),
            ));
        }
    }
    if let Some(solution) = &stage.solution {
        for line in solution.body.lines().filter(|l| !l.trim().is_empty() && !l.trim_start().starts_with('#')) {
            history.push(run_captured(session, &fill(line, vars)).await);
        }
    }
    let cx =
        Context { tools: Tools::Builtin(session), vars, history: &history, log_seq_at_start: seq, started_at: started };
    for (line, why) in failing(stage, &cx).await {
        problems.push(at(line, format!("after the solution this check still fails: {why}")));
    }
    for (block, _) in &stage.faults {
        if block.revert.unwrap_or(true) {
            fault::revert(session, &block.id, vars).await;
        }
    }
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

// ---- start (interactive) ----

/// What the learner can type besides shell commands while a stage is open.
const STAGE_HELP: &str = "In a stage, type the lesson's commands, or:
  menu       the stage's menu (shell, check, hint, solution, skip, quit)
  check      run the stage's checks now
  hint       the next hint (after a failed check)
  solution   the reference answer (after 3 failed checks)
  skip       go on without finishing this stage
  quit       leave; your progress is kept
Anything else runs in the lab shell: aws ..., docker ..., echo, export, help.";

/// How the learner works through a lesson.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ToolsChoice {
    /// In the lab shell the runner opens, with the built-in aws and docker.
    Builtin,
    /// In their own terminal with the real aws and docker, pointed at `ecr-lab serve`.
    Real,
}

pub async fn start(
    lesson: &Lesson,
    data_dir: &Path,
    backing: Backing,
    tools: ToolsChoice,
    progress: &mut Progress,
    progress_path: &Path,
) -> Result<()> {
    let problems = lesson::lint::lint(lesson);
    if let Some(first) = problems.first() {
        bail!(
            "{} has problems (run `ecr-lab lint`): {}",
            lesson.path.display(),
            lesson::lint::format(&lesson.path, first)
        );
    }
    let aws = matches!(backing, Backing::Aws { .. });
    if aws && !runs_on_aws(lesson) {
        bail!(
            "{} lists backends [{}], not aws: its stages have not been made to run on real AWS. Run it on the mock (without --backend aws)",
            lesson.path.display(),
            lesson.front.backends.join(", ")
        );
    }
    let progress_key = progress_key(lesson, if aws { BackendKind::Aws } else { BackendKind::Mock });
    let real = tools == ToolsChoice::Real;
    let backing = match (real, backing) {
        (true, Backing::Mock(None)) => Backing::Mock(Some(crate::paths::endpoint(None).context(
            "--tools real needs the mock running for your own tools: start `ecr-lab serve`, and run `eval \"$(ecr-lab env)\"` in your terminal",
        )?)),
        (_, backing) => backing,
    };
    let mut session = Session::start_on(data_dir, backing).await?;
    let mut vars = lesson::variables_for(lesson, &session.backend);
    if let (true, Some(endpoint)) = (real, session.backend.mock_endpoint()) {
        // Real docker reaches the mock's registry at its loopback address, not the ECR host name.
        vars.insert("registry".into(), endpoint.trim_start_matches("http://").to_owned());
    }
    if aws {
        for name in lesson_repositories(&vars) {
            guard_repository(&session.backend, name).await?;
        }
    }
    // Stages whose error cannot be made real on AWS run on a mock of their own.
    let mut fallback: Option<Session> = None;
    let mock_vars = lesson::variables(lesson);
    let mut transcript = transcript::Writer::create(&data_dir.join("transcripts"), &lesson.id())?;
    let ui = crate::ui::Ui::new();
    ui.lesson_header(lesson, &vars);
    // With real tools the runner reads its own commands while it watches: one reader for the run.
    let typed = real.then(|| {
        let (lines, input) = std::sync::mpsc::channel::<String>();
        std::thread::spawn(move || {
            let stdin = std::io::stdin();
            let mut line = String::new();
            while stdin.read_line(&mut line).is_ok_and(|n| n > 0) {
                if lines.send(line.trim().to_owned()).is_err() {
                    break;
                }
                line.clear();
            }
        });
        input
    });
    if !lesson.front.setup.is_empty() && lesson.stages.iter().any(|s| !progress.is_done(&progress_key, &s.id())) {
        ui.say("Preparing the lab for this lesson (its starting point: what the earlier lessons built) ...");
        if let Err(why) = setup(&mut session, lesson, &vars).await {
            ui.warn(&format!("the lab could not prepare this lesson: {why}"));
        }
    }
    let history_path = data_dir.join("history");
    let mut editor = rustyline::DefaultEditor::new()?;
    let _ = editor.load_history(&history_path);
    let total = lesson.stages.len();
    for (n, stage) in lesson.stages.iter().enumerate() {
        if progress.is_done(&progress_key, &stage.id()) {
            continue;
        }
        let on_mock = needs_mock(&session, stage);
        if on_mock && fallback.is_none() {
            fallback = Some(Session::start(&data_dir.join("mock-fallback"), None).await?);
        }
        let (stage_session, stage_vars) = match fallback.as_mut() {
            Some(mock) if on_mock => (mock, &mock_vars),
            _ => (&mut session, &vars),
        };
        ui.stage(n + 1, total, stage, stage_vars);
        if on_mock {
            ui.warn(
                "this stage's error cannot be made real on AWS (a registry login lasts 12 hours, and AWS's clock cannot be moved), so this stage runs on the bundled mock",
            );
        }
        for (block, _) in &stage.faults {
            if let Err(why) =
                fault::arrange(stage_session, &block.id, (block.mock.as_deref(), block.aws.as_deref()), stage_vars)
                    .await
            {
                ui.warn(&format!("the lab could not arrange this stage's condition: {why}"));
            }
        }
        let outcome = if real {
            let input = typed.as_ref().expect("a reader in real mode");
            watch_stage(&ui, input, stage_session, stage, stage_vars, &mut transcript).await?
        } else {
            run_stage(&ui, &mut editor, stage_session, stage, stage_vars, &mut transcript).await?
        };
        for (block, _) in &stage.faults {
            if block.revert.unwrap_or(true) {
                fault::revert(stage_session, &block.id, stage_vars).await;
            }
        }
        match outcome {
            StageOutcome::Quit => {
                let _ = editor.save_history(&history_path);
                ui.say("Progress saved. `ecr-lab start` resumes here.");
                if aws {
                    ui.say("What the lab created in AWS stays until `ecr-lab cleanup --backend aws` (it is tagged `ecr-lab` and recorded).");
                }
                return Ok(());
            }
            StageOutcome::Done | StageOutcome::Skipped => {
                if matches!(outcome, StageOutcome::Done) {
                    for (quiz, _) in &stage.quizzes {
                        ui.quiz(quiz, &vars, typed.as_ref());
                    }
                }
                progress.mark(&progress_key, &stage.id(), matches!(outcome, StageOutcome::Done));
                progress.save(progress_path)?;
            }
        }
    }
    let _ = editor.save_history(&history_path);
    ui.say(&format!("Lesson complete: {}. Transcript: {}", lesson.title(), transcript.path().display()));
    if let Some(created) = session.created.as_ref().filter(|_| session.backend.kind == BackendKind::Aws) {
        ui.say("Removing what the lab created in AWS (only repositories tagged `ecr-lab`):");
        match cleanup::cleanup(&session.backend, &created.records).await {
            Ok(outcomes) if outcomes.is_empty() => ui.say("  nothing to remove"),
            Ok(outcomes) => outcomes.iter().for_each(|o| ui.say(&format!("  {o}"))),
            Err(error) => ui.warn(&format!("cleanup failed; run `ecr-lab cleanup --backend aws` later:\n{error}")),
        }
    }
    Ok(())
}

/// Runs the lesson's `setup:` lines: the state earlier lessons leave behind.
async fn setup(session: &mut Session, lesson: &Lesson, vars: &BTreeMap<String, String>) -> Result<(), String> {
    let lines: Vec<String> = lesson.front.setup.iter().map(|l| lesson::fill(l, vars)).collect();
    fault::run_lines(session, &lines).await
}

enum StageOutcome {
    Done,
    Skipped,
    Quit,
}

async fn run_stage(
    ui: &crate::ui::Ui,
    editor: &mut rustyline::DefaultEditor,
    session: &mut Session,
    stage: &Stage,
    vars: &BTreeMap<String, String>,
    transcript: &mut transcript::Writer,
) -> Result<StageOutcome> {
    let (seq, started) = stage_marks(session).await;
    let mut history: Vec<Ran> = Vec::new();
    let mut failed_checks = 0;
    let mut hints_shown = 0;
    let interactive_checks = !stage.checks.is_empty();
    if !interactive_checks {
        ui.say("(Press Enter, or type `next`, to go on.)");
    }
    // A stage with checks opens with the menu; `menu` in the shell brings it back.
    let mut menu_open = interactive_checks && ui.is_interactive();
    loop {
        let line = if menu_open {
            let choice = ui.stage_menu();
            menu_open = !matches!(choice, "shell" | "skip" | "quit");
            if choice == "shell" {
                ui.say("Type the stage's commands; `check`, `hint`, `solution`, `menu`, `?` work here too.");
                continue;
            }
            choice.to_owned()
        } else {
            match editor.readline(crate::shell::PROMPT) {
                Ok(line) => line,
                Err(rustyline::error::ReadlineError::Interrupted | rustyline::error::ReadlineError::Eof) => {
                    return Ok(StageOutcome::Quit);
                }
                Err(e) => return Err(e.into()),
            }
        };
        let command = line.trim();
        let _ = editor.add_history_entry(command);
        match command {
            "menu" => {
                menu_open = true;
                continue;
            }
            "" | "next" if !interactive_checks => return Ok(StageOutcome::Done),
            "" => continue,
            "quit" | "exit" => return Ok(StageOutcome::Quit),
            "skip" => return Ok(StageOutcome::Skipped),
            "lab-help" | "?" => {
                ui.say(STAGE_HELP);
                continue;
            }
            "hint" => {
                let unlocked = failed_checks.max(1);
                match stage.hints.iter().filter(|(level, ..)| *level <= unlocked).nth(hints_shown) {
                    Some((level, text, _)) => {
                        ui.hint(*level, &fill(text, vars));
                        hints_shown += 1;
                    }
                    None if stage.hints.len() > hints_shown => {
                        ui.say("The next hint unlocks after another failed `check`.")
                    }
                    None => ui.say("No more hints for this stage."),
                }
                continue;
            }
            "solution" => {
                match (&stage.solution, failed_checks >= ATTEMPTS_BEFORE_SOLUTION) {
                    (Some(solution), true) => ui.solution(&fill(&solution.body, vars)),
                    (Some(_), false) => ui.say(&format!(
                        "The solution unlocks after {ATTEMPTS_BEFORE_SOLUTION} failed checks ({failed_checks} so far). Try `hint`."
                    )),
                    (None, _) => ui.say("This stage has no reference solution."),
                }
                continue;
            }
            "check" => {}
            _ => {
                let (mut out, mut err) = (Vec::new(), Vec::new());
                let status = session.run_line(command, &mut out, &mut err).await;
                let _ = std::io::stdout().write_all(&out);
                let _ = std::io::stderr().write_all(&err);
                let _ = std::io::stdout().flush();
                let mut output = String::from_utf8_lossy(&out).into_owned();
                output.push_str(&String::from_utf8_lossy(&err));
                transcript.record(&stage.id(), command, &output, status, None)?;
                history.push(Ran { command: command.to_owned(), output, status });
                if session.exit.take().is_some() {
                    return Ok(StageOutcome::Quit);
                }
                if !interactive_checks {
                    continue;
                }
            }
        }
        let cx = Context {
            tools: Tools::Builtin(session),
            vars,
            history: &history,
            log_seq_at_start: seq,
            started_at: started,
        };
        let failures = failing(stage, &cx).await;
        transcript.record(&stage.id(), "check", "", 0, Some(failures.iter().map(|(_, w)| w.clone()).collect()))?;
        if failures.is_empty() {
            ui.done(stage);
            return Ok(StageOutcome::Done);
        }
        if command == "check" {
            failed_checks += 1;
            ui.not_yet(&failures.iter().map(|(_, w)| w.clone()).collect::<Vec<_>>());
        }
    }
}

/// `--tools real`: the learner works in their own terminal; the checks run every second here, and
/// the stage advances by itself when they pass. Typed here: `check`, `hint`, `solution`, `skip`, `quit`.
async fn watch_stage(
    ui: &crate::ui::Ui,
    input: &std::sync::mpsc::Receiver<String>,
    session: &Session,
    stage: &Stage,
    vars: &BTreeMap<String, String>,
    transcript: &mut transcript::Writer,
) -> Result<StageOutcome> {
    let (seq, started) = stage_marks(session).await;
    let where_ = match session.backend.mock_endpoint() {
        Some(endpoint) => format!("after `eval \"$(ecr-lab env --endpoint {endpoint})\"`"),
        None => format!("with your AWS credentials, region {}", session.backend.region),
    };
    let docker_config = std::env::var_os("DOCKER_CONFIG")
        .map(PathBuf::from)
        .or_else(|| dirs::home_dir().map(|h| h.join(".docker")))
        .unwrap_or_default();
    ui.say(&format!(
        "Work in your own terminal ({where_}); this stage completes by itself. Here: check, hint, solution, skip, quit."
    ));
    let mut failed_checks = 0;
    let mut hints_shown = 0;
    loop {
        let typed = input.recv_timeout(std::time::Duration::from_secs(1)).ok();
        match typed.as_deref() {
            Some("quit" | "exit") => return Ok(StageOutcome::Quit),
            Some("skip") => return Ok(StageOutcome::Skipped),
            Some("" | "next") if stage.checks.is_empty() => return Ok(StageOutcome::Done),
            Some("hint") => {
                match stage.hints.iter().filter(|(level, ..)| *level <= failed_checks.max(1)).nth(hints_shown) {
                    Some((level, text, _)) => {
                        ui.hint(*level, &fill(text, vars));
                        hints_shown += 1;
                    }
                    None => ui.say("No hint unlocked yet: try `check` first."),
                }
                continue;
            }
            Some("solution") if failed_checks >= ATTEMPTS_BEFORE_SOLUTION => {
                if let Some(solution) = &stage.solution {
                    ui.solution(&fill(&solution.body, vars));
                }
                continue;
            }
            Some("solution") => {
                ui.say(&format!(
                    "The solution unlocks after {ATTEMPTS_BEFORE_SOLUTION} failed checks ({failed_checks} so far)."
                ));
                continue;
            }
            _ => {}
        }
        if stage.checks.is_empty() {
            continue;
        }
        let tools = Tools::Real { backend: &session.backend, docker_config: docker_config.clone() };
        let cx = Context { tools, vars, history: &[], log_seq_at_start: seq, started_at: started };
        let failures = failing(stage, &cx).await;
        if failures.is_empty() {
            transcript.record(&stage.id(), "check", "", 0, Some(Vec::new()))?;
            ui.done(stage);
            return Ok(StageOutcome::Done);
        }
        if typed.as_deref() == Some("check") {
            failed_checks += 1;
            transcript.record(&stage.id(), "check", "", 0, Some(failures.iter().map(|(_, w)| w.clone()).collect()))?;
            ui.not_yet(&failures.iter().map(|(_, w)| w.clone()).collect::<Vec<_>>());
        }
    }
}

/// Where progress is kept.
pub fn progress_path(home: &Path) -> PathBuf {
    home.join("progress.json")
}
