//! `ecr-lab start`: a lesson played stage by stage. In the lab shell the runner embeds (built-in
//! tools) the checks run again after every command; with `--tools real` the learner works in their
//! own terminal and the runner watches the checks every second. Both go through [`StageState`].

use std::collections::BTreeMap;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::mpsc::Receiver;

use anyhow::{Context as _, Result, bail};

use super::check::{Ran, Tools};
use super::state::{ATTEMPTS_BEFORE_SOLUTION, HintAnswer, SolutionAnswer, StageCommand, StageOutcome, StageState};
use super::{
    Progress, fault, guard_repository, lesson_repositories, needs_mock, progress_key, runs_on_aws, setup, transcript,
};
use crate::backend::{BackendKind, cleanup};
use crate::class::report::{At, Event};
use crate::lesson::{self, Lesson, Stage, fill};
use crate::shell::{Backing, Session};
use crate::ui::{MenuChoice, Ui};

/// What the learner can type besides shell commands while a stage is open.
const STAGE_HELP: &str = "In a stage, type the lesson's commands, or:
  menu       the stage's menu (shell, check, hint, solution, skip, quit)
  check      run the stage's checks now (Enter alone checks too, without counting a try)
  hint       a hint (after a try: a command for the stage, or `check`)
  solution   the reference answer (after 3 tries)
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

/// How a played lesson ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Ended {
    /// Every stage is done (or skipped): the caller offers the next lesson.
    Finished,
    /// The learner quit; their progress is kept.
    Quit,
}

pub async fn start(
    lesson: &Lesson,
    data_dir: &Path,
    backing: Backing,
    tools: ToolsChoice,
    progress: &mut Progress,
    progress_path: &Path,
) -> Result<Ended> {
    let aws = matches!(backing, Backing::Aws { .. });
    playable(lesson, aws)?;
    let progress_key = progress_key(lesson, if aws { BackendKind::Aws } else { BackendKind::Mock });
    let mut play = Play::open(lesson, data_dir, backing, tools == ToolsChoice::Real).await?;
    let ended = play_stages(&mut play, progress, &progress_key, progress_path).await;
    if matches!(ended, Ok(Ended::Finished)) {
        play.finish().await;
    }
    play.close().await;
    ended
}

/// Plays the stages not done yet, saving progress after each.
async fn play_stages(
    play: &mut Play<'_>,
    progress: &mut Progress,
    progress_key: &str,
    progress_path: &Path,
) -> Result<Ended> {
    let lesson = play.lesson;
    let aws = play.session.backend.kind == BackendKind::Aws;
    if !lesson.front.setup.is_empty() && lesson.stages.iter().any(|s| !progress.is_done(progress_key, &s.id())) {
        play.ui.say("Preparing the lab for this lesson (its starting point: what the earlier lessons built) ...");
        if let Err(why) = setup(&mut play.session, lesson, &play.vars).await {
            play.ui.warn(&format!("the lab could not prepare this lesson: {why}"));
        }
    }
    let total = lesson.stages.len();
    for (n, stage) in lesson.stages.iter().enumerate() {
        if progress.is_done(progress_key, &stage.id()) {
            continue;
        }
        let outcome = play.stage(n + 1, total, stage).await?;
        if outcome == StageOutcome::Quit {
            let _ = play.editor.save_history(&play.history_path);
            crate::class::report::flush().await;
            play.ui.say("Progress saved. `ecr-lab start` resumes here.");
            if aws {
                play.ui.say("What the lab created in AWS stays until `ecr-lab cleanup --backend aws` (it is tagged `ecr-lab` and recorded).");
            }
            return Ok(Ended::Quit);
        }
        if outcome == StageOutcome::Done {
            for (quiz, _) in stage.quizzes.iter().filter(|(q, _)| !q.diagnose) {
                play.ui.quiz(quiz, &play.vars, play.typed.as_ref());
            }
        }
        progress.mark(progress_key, &stage.id(), outcome == StageOutcome::Done);
        progress.save(progress_path)?;
    }
    Ok(Ended::Finished)
}

/// A lesson can be played when it lints clean and, on AWS, says it runs there.
fn playable(lesson: &Lesson, aws: bool) -> Result<()> {
    let problems = lesson::lint::lint(lesson);
    if let Some(first) = problems.first() {
        bail!(
            "{} has problems (run `ecr-lab lint`): {}",
            lesson.path.display(),
            lesson::lint::format(&lesson.path, first)
        );
    }
    if aws && !runs_on_aws(lesson) {
        bail!(
            "{} lists backends [{}], not aws: its stages have not been made to run on real AWS. Run it on the mock (without --backend aws)",
            lesson.path.display(),
            lesson.front.backends.join(", ")
        );
    }
    Ok(())
}

/// A lesson being played: its shell session (and a mock of its own for stages whose error cannot be
/// made real on AWS), its variables, the transcript, and how the learner's input is read.
struct Play<'l> {
    lesson: &'l Lesson,
    data_dir: PathBuf,
    session: Session,
    fallback: Option<Session>,
    vars: BTreeMap<String, String>,
    mock_vars: BTreeMap<String, String>,
    transcript: transcript::Writer,
    ui: Ui,
    /// With real tools the runner reads its own commands while it watches: one reader for the run.
    typed: Option<Receiver<String>>,
    editor: crate::shell::LineEditor,
    history_path: PathBuf,
}

impl<'l> Play<'l> {
    async fn open(lesson: &'l Lesson, data_dir: &Path, backing: Backing, real: bool) -> Result<Self> {
        let aws = matches!(backing, Backing::Aws { .. });
        let backing = match (real, backing) {
            (true, Backing::Mock(None)) => Backing::Mock(Some(crate::paths::endpoint(None).context(
                "--tools real needs the mock running for your own tools: start `ecr-lab serve`, and run `eval \"$(ecr-lab env)\"` in your terminal",
            )?)),
            (_, backing) => backing,
        };
        let session = Session::start_on(data_dir, backing).await?;
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
        let transcript = transcript::Writer::create(&data_dir.join("transcripts"), &lesson.id())?;
        let mut ui = Ui::new();
        ui.set_console(Some(console_url(&session)));
        ui.lesson_header(lesson, &vars);
        let history_path = data_dir.join("history");
        let mut editor = crate::shell::line_editor(super::state::STAGE_WORDS)?;
        let _ = editor.load_history(&history_path);
        Ok(Self {
            lesson,
            data_dir: data_dir.to_path_buf(),
            session,
            fallback: None,
            vars,
            mock_vars: lesson::variables(lesson),
            transcript,
            ui,
            typed: real.then(read_stdin_lines),
            editor,
            history_path,
        })
    }

    /// Plays stage `n` of `total`: its faults arranged, worked through, its faults undone.
    async fn stage(&mut self, n: usize, total: usize, stage: &Stage) -> Result<StageOutcome> {
        let on_mock = needs_mock(&self.session, stage);
        if on_mock && self.fallback.is_none() {
            self.fallback = Some(Session::start(&self.data_dir.join("mock-fallback"), None).await?);
        }
        let (session, vars) = match self.fallback.as_mut() {
            Some(mock) if on_mock => (mock, &self.mock_vars),
            _ => (&mut self.session, &self.vars),
        };
        let ui = &self.ui;
        ui.stage(n, total, stage, vars);
        let at = At { lesson: self.lesson.id(), stage: n - 1 };
        at.send(Event::StageStarted, None);
        if on_mock {
            ui.warn(
                "this stage's error cannot be made real on AWS (a registry login lasts 12 hours and AWS's clock cannot be moved; the lab makes no IAM users or roles in your account), so this stage runs on the bundled mock",
            );
        }
        for (block, _) in &stage.faults {
            if let Err(why) =
                fault::arrange(session, &block.id, (block.mock.as_deref(), block.aws.as_deref()), vars).await
            {
                ui.warn(&format!("the lab could not arrange this stage's condition: {why}"));
            }
        }
        let outcome = match &self.typed {
            Some(input) => watch_stage(ui, input, session, (stage, &at), vars, &mut self.transcript).await?,
            None => run_stage(ui, &mut self.editor, session, (stage, &at), vars, &mut self.transcript).await?,
        };
        if outcome == StageOutcome::Done {
            // A stage done (its checks passed, or a reading stage read) is what the class dashboard counts.
            at.send(Event::CheckPassed, None);
        }
        for (block, _) in &stage.faults {
            if block.revert.unwrap_or(true) {
                fault::revert(session, &block.id, vars).await;
            }
        }
        Ok(outcome)
    }

    /// Closes the lesson's sessions (their mocks stop, their journals are closed).
    async fn close(self) {
        self.session.close().await;
        if let Some(fallback) = self.fallback {
            fallback.close().await;
        }
    }

    /// The lesson is complete: says so, and on AWS removes what the lab created.
    async fn finish(&mut self) {
        let _ = self.editor.save_history(&self.history_path);
        let last = self.lesson.stages.len().saturating_sub(1);
        At { lesson: self.lesson.id(), stage: last }.send(Event::LessonFinished, None);
        crate::class::report::flush().await;
        let ui = &self.ui;
        ui.say(&format!("Lesson complete: {}. Transcript: {}", self.lesson.title(), self.transcript.path().display()));
        let session = &self.session;
        if let Some(created) = session.created.as_ref().filter(|_| session.backend.kind == BackendKind::Aws) {
            ui.say("Removing what the lab created in AWS (only repositories tagged `ecr-lab`):");
            match cleanup::cleanup(&session.backend, &created.records).await {
                Ok(outcomes) if outcomes.is_empty() => ui.say("  nothing to remove"),
                Ok(outcomes) => outcomes.iter().for_each(|o| ui.say(&format!("  {o}"))),
                Err(error) => ui.warn(&format!("cleanup failed; run `ecr-lab cleanup --backend aws` later:\n{error}")),
            }
        }
    }
}

/// The web console for this lesson: its own mock's (the lab shell's, or the served one with real
/// tools), or on AWS the region's ECR console.
fn console_url(session: &Session) -> String {
    match session.backend.mock_endpoint() {
        Some(endpoint) => format!("{}/console/repositories", endpoint.trim_end_matches('/')),
        None => {
            let region = &session.backend.region;
            format!("https://{region}.console.aws.amazon.com/ecr/private-registry/repositories?region={region}")
        }
    }
}

/// A thread reading stdin's lines, for the watch mode (which also reads quiz answers from it).
fn read_stdin_lines() -> Receiver<String> {
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
}

/// `hint`: a hint reacting to what the learner did (`seen`), else the next unlocked one, or why there
/// is none.
fn answer_hint(ui: &Ui, state: &mut StageState<'_>, vars: &BTreeMap<String, String>, seen: &str, at: &At) {
    match state.hint(seen) {
        HintAnswer::Show { level: 0, text } => {
            at.send(Event::Hint, Some("hint for what happened"));
            ui.hint_for_what_happened(&fill(text, vars))
        }
        HintAnswer::Show { level, text } => {
            at.send(Event::Hint, Some(&format!("hint {level}")));
            ui.hint(level, &fill(text, vars))
        }
        HintAnswer::Locked => ui
            .say("The next hint unlocks after another try: run a command for this stage (or `check`), then ask again."),
        HintAnswer::NoMore => ui.say("No more hints for this stage."),
    }
}

/// `solution`: the reference answer once unlocked, or why not.
fn answer_solution(ui: &Ui, state: &StageState<'_>, vars: &BTreeMap<String, String>, at: &At) {
    match state.solution() {
        SolutionAnswer::Show(body) => {
            at.send(Event::Solution, None);
            ui.solution(&fill(body, vars))
        }
        SolutionAnswer::Locked { attempts } => ui.say(&format!(
            "The solution unlocks after {ATTEMPTS_BEFORE_SOLUTION} tries that leave the stage unfinished ({attempts} so far). Try `hint`."
        )),
        SolutionAnswer::Missing => ui.say("This stage has no reference solution."),
    }
}

/// What the learner ran and saw in the stage, and what still fails: the text reacting hints match.
fn seen(history: &[Ran], failures: &[String]) -> String {
    let mut text = String::new();
    for ran in history {
        text.push_str(&ran.command);
        text.push('\n');
        text.push_str(&ran.output);
        text.push('\n');
    }
    text.push_str(&failures.join("\n"));
    text
}

/// After a command for the stage that left it unfinished: a genuine attempt. Says which checks
/// still fail (as rustlings shows the compiler's output every time), and whether a hint reacts to it.
fn after_attempt(ui: &Ui, state: &mut StageState<'_>, failures: &[String], seen: &str) {
    state.count_attempt();
    ui.not_yet(failures);
    if state.reaction(seen).is_some() {
        ui.say("Type `hint`: there is a hint for what just happened.");
    }
}

/// The failing checks as the learner reads them: the author's label where the check has one.
fn shown_failures(stage: &Stage, vars: &BTreeMap<String, String>, failing: Vec<(usize, String)>) -> Vec<String> {
    failing.into_iter().map(|(line, why)| stage.label_at(line).map_or(why, |label| fill(label, vars))).collect()
}

/// The stage's diagnose quizzes (the learner names the cause), asked once.
fn diagnose(ui: &Ui, stage: &Stage, vars: &BTreeMap<String, String>, asked: &mut bool) {
    if !*asked {
        *asked = true;
        for (quiz, _) in stage.quizzes.iter().filter(|(q, _)| q.diagnose) {
            ui.diagnose(quiz, vars);
        }
    }
}

/// The next line: a choice in the stage's menu when it is open (`Shell` closes it), else typed.
/// `None`: the learner left (Ctrl-C, Ctrl-D).
fn next_line(ui: &Ui, editor: &mut crate::shell::LineEditor, menu_open: &mut bool) -> Result<Option<String>> {
    while *menu_open {
        let choice = ui.stage_menu();
        *menu_open = !matches!(choice, MenuChoice::Shell | MenuChoice::Skip | MenuChoice::Quit);
        if choice != MenuChoice::Shell {
            return Ok(Some(choice.word().to_owned()));
        }
        ui.say("Type the stage's commands; `check`, `hint`, `solution`, `menu`, `?` work here too.");
    }
    match editor.readline(crate::shell::PROMPT) {
        Ok(line) => Ok(Some(line)),
        Err(rustyline::error::ReadlineError::Interrupted | rustyline::error::ReadlineError::Eof) => Ok(None),
        Err(e) => Err(e.into()),
    }
}

/// A stage in the lab shell: the menu, then the learner's commands, with the checks run after each.
async fn run_stage(
    ui: &Ui,
    editor: &mut crate::shell::LineEditor,
    session: &mut Session,
    (stage, at): (&Stage, &At),
    vars: &BTreeMap<String, String>,
    transcript: &mut transcript::Writer,
) -> Result<StageOutcome> {
    let mut state = StageState::begin(stage, session).await;
    let mut history: Vec<Ran> = Vec::new();
    let mut raw_failures: Vec<String> = Vec::new();
    let mut diagnosed = false;
    let interactive_checks = state.has_checks();
    if !interactive_checks {
        ui.say("(Press Enter, or type `next`, to go on.)");
    }
    // A stage with checks opens with the menu; `menu` in the shell brings it back.
    let mut menu_open = interactive_checks && ui.is_interactive();
    let _watcher = watch_console(session, stage, vars, &state);
    loop {
        let Some(line) = next_line(ui, editor, &mut menu_open)? else { return Ok(StageOutcome::Quit) };
        let command = line.trim();
        let _ = editor.add_history_entry(command);
        let mut related = false;
        let mut failed = command == "check";
        match StageCommand::parse(command) {
            StageCommand::Menu => {
                menu_open = true;
                continue;
            }
            StageCommand::Empty | StageCommand::Next if !interactive_checks => return Ok(StageOutcome::Done),
            // Enter checks again (after a change in the console, say), without counting a try.
            StageCommand::Empty => {}
            StageCommand::Quit => return Ok(StageOutcome::Quit),
            StageCommand::Skip => return Ok(StageOutcome::Skipped),
            StageCommand::Help => {
                ui.say(STAGE_HELP);
                continue;
            }
            StageCommand::Hint => {
                answer_hint(ui, &mut state, vars, &seen(&history, &raw_failures), at);
                continue;
            }
            StageCommand::Solution => {
                answer_solution(ui, &state, vars, at);
                continue;
            }
            StageCommand::Check => {}
            StageCommand::Next | StageCommand::Run(_) => {
                let ran = run_shown(session, command).await;
                transcript.record(&stage.id(), command, &ran.output, ran.status, None)?;
                history.push(ran);
                if session.exit.take().is_some() {
                    return Ok(StageOutcome::Quit);
                }
                if !interactive_checks {
                    continue;
                }
                related = state.related(command);
                failed = related && history.last().is_some_and(|ran| ran.status != 0);
            }
        }
        let cx = state.context(Tools::Builtin(session), vars, &history);
        let failing = state.failing(&cx).await;
        // Reacting hints match the checks' own words too, even where a label is shown instead.
        raw_failures = failing.iter().map(|(_, why)| why.clone()).collect();
        let failures = shown_failures(stage, vars, failing);
        transcript.record(&stage.id(), "check", "", 0, Some(failures.clone()))?;
        if failures.is_empty() {
            diagnose(ui, stage, vars, &mut diagnosed);
            ui.done(stage);
            return Ok(StageOutcome::Done);
        }
        if command == "check" {
            at.send(Event::CheckFailed, failures.first().map(String::as_str));
        }
        if command == "check" || related {
            after_attempt(ui, &mut state, &failures, &seen(&history, &raw_failures));
        }
        if failed {
            // The learner has met the stage's error: before the fix, they name its cause.
            diagnose(ui, stage, vars, &mut diagnosed);
        }
    }
}

/// Stops the console watcher when the stage ends.
struct Watcher(tokio::task::JoinHandle<()>);

impl Drop for Watcher {
    fn drop(&mut self) {
        self.0.abort();
    }
}

/// A stage with a console step: its checks (those the registry's state answers) are evaluated every
/// second in the background, so a change made in the web console is seen without typing `check`;
/// the runner says so, above the prompt, and Enter completes the stage.
fn watch_console(
    session: &Session,
    stage: &Stage,
    vars: &BTreeMap<String, String>,
    state: &StageState<'_>,
) -> Option<Watcher> {
    use crate::lesson::Assertion;
    let registry_side = |a: &Assertion| {
        matches!(
            a,
            Assertion::Repository(_)
                | Assertion::Image(_)
                | Assertion::Images(_)
                | Assertion::Findings(_)
                | Assertion::Requests(_)
                | Assertion::Console(_)
        )
    };
    if stage.ui.is_empty() || !stage.checks.iter().all(|(a, _)| registry_side(a)) {
        return None;
    }
    // Printed directly, not through rustyline's external printer: with one, keys typed quickly (a
    // paste) can be lost.
    let (backend, stage, vars) = (session.backend.clone(), stage.clone(), vars.clone());
    let (log_seq_at_start, started_at) = state.marks();
    Some(Watcher(tokio::spawn(async move {
        let mut passing = false;
        loop {
            tokio::time::sleep(std::time::Duration::from_secs(1)).await;
            let tools = Tools::Real { backend: &backend, docker_config: PathBuf::new() };
            let cx = super::check::Context { tools, vars: &vars, history: &[], log_seq_at_start, started_at };
            let now = super::check::failing(&stage, &cx).await.is_empty();
            if now && !passing {
                // The prompt is in raw mode: a carriage return of our own, then the prompt again.
                let mut out = std::io::stdout().lock();
                let _ = write!(
                    out,
                    "\r\n✓ The stage's checks pass now (a change made in the console is seen here too). Press Enter to go on.\r\n{}",
                    crate::shell::PROMPT
                );
                let _ = out.flush();
            }
            passing = now;
        }
    })))
}

/// Runs a line in the lab shell, showing what it prints as it would in a terminal: each write goes
/// to the screen at once, in the order the tools make them (so docker's error lands below its
/// progress lines, as in `ecr-lab shell`), and is kept for the checks.
async fn run_shown(session: &mut Session, command: &str) -> Ran {
    let (mut out, mut err) = (Shown::new(std::io::stdout()), Shown::new(std::io::stderr()));
    let status = session.run_line(command, &mut out, &mut err).await;
    let _ = std::io::stdout().flush();
    let mut output = String::from_utf8_lossy(&out.kept).into_owned();
    output.push_str(&String::from_utf8_lossy(&err.kept));
    Ran { command: command.to_owned(), output, status }
}

/// A terminal stream that keeps a copy of what it was given.
struct Shown<W: Write> {
    screen: W,
    kept: Vec<u8>,
}

impl<W: Write> Shown<W> {
    fn new(screen: W) -> Self {
        Self { screen, kept: Vec::new() }
    }
}

impl<W: Write> Write for Shown<W> {
    fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
        self.kept.extend_from_slice(bytes);
        // The screen may be gone (a closed terminal): what was kept still counts for the checks.
        let _ = self.screen.write_all(bytes).and_then(|()| self.screen.flush());
        Ok(bytes.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        self.screen.flush()
    }
}

/// `--tools real`: the learner works in their own terminal; the checks run every second here, and
/// the stage advances by itself when they pass. Typed here: `check`, `hint`, `solution`, `skip`, `quit`.
async fn watch_stage(
    ui: &Ui,
    input: &Receiver<String>,
    session: &Session,
    (stage, at): (&Stage, &At),
    vars: &BTreeMap<String, String>,
    transcript: &mut transcript::Writer,
) -> Result<StageOutcome> {
    let mut state = StageState::begin(stage, session).await;
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
    // What the last watch saw failing: the text a reacting hint can match here (no commands are seen).
    let mut failing_now = String::new();
    loop {
        let typed = input.recv_timeout(std::time::Duration::from_secs(1)).ok();
        match typed.as_deref().map(StageCommand::parse) {
            Some(StageCommand::Quit) => return Ok(StageOutcome::Quit),
            Some(StageCommand::Skip) => return Ok(StageOutcome::Skipped),
            Some(StageCommand::Empty | StageCommand::Next) if !state.has_checks() => return Ok(StageOutcome::Done),
            Some(StageCommand::Hint) => {
                answer_hint(ui, &mut state, vars, &failing_now, at);
                continue;
            }
            Some(StageCommand::Solution) => {
                answer_solution(ui, &state, vars, at);
                continue;
            }
            _ => {}
        }
        if !state.has_checks() {
            continue;
        }
        let tools = Tools::Real { backend: &session.backend, docker_config: docker_config.clone() };
        let cx = state.context(tools, vars, &[]);
        let failing = state.failing(&cx).await;
        failing_now = failing.iter().map(|(_, why)| why.as_str()).collect::<Vec<_>>().join("\n");
        let failures = shown_failures(stage, vars, failing);
        if failures.is_empty() {
            transcript.record(&stage.id(), "check", "", 0, Some(Vec::new()))?;
            for (quiz, _) in stage.quizzes.iter().filter(|(q, _)| q.diagnose) {
                ui.quiz(quiz, vars, Some(input));
            }
            ui.done(stage);
            return Ok(StageOutcome::Done);
        }
        if typed.as_deref() == Some("check") {
            at.send(Event::CheckFailed, failures.first().map(String::as_str));
            state.count_attempt();
            transcript.record(&stage.id(), "check", "", 0, Some(failures.clone()))?;
            ui.not_yet(&failures);
        }
    }
}
