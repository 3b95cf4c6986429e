//! One stage's state while it is open (like rustlings' `watch/state.rs`): when it began (the mock's
//! request-log position and the lab clock), how many checks failed, how many hints were shown, and
//! so what `hint` and `solution` may give. The menu, the lab shell (`start`), the watch mode
//! (`--tools real`) and `verify` all go through it.

use std::collections::BTreeMap;

use super::check::{self, Context, Ran, Tools};
use crate::lesson::Stage;
use crate::shell::Session;

/// Failed checks before the solution is offered.
pub const ATTEMPTS_BEFORE_SOLUTION: usize = 3;

/// What the learner asks for while a stage is open: typed, or chosen in the stage's menu.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StageCommand<'l> {
    /// `menu`: open the stage's menu.
    Menu,
    /// An empty line.
    Empty,
    /// `next`: go on from a stage without checks.
    Next,
    /// `quit` or `exit`.
    Quit,
    Skip,
    /// `lab-help` or `?`.
    Help,
    Hint,
    Solution,
    Check,
    /// Anything else: a line for the lab shell.
    Run(&'l str),
}

impl<'l> StageCommand<'l> {
    pub fn parse(line: &'l str) -> Self {
        match line {
            "menu" => Self::Menu,
            "" => Self::Empty,
            "next" => Self::Next,
            "quit" | "exit" => Self::Quit,
            "skip" => Self::Skip,
            "lab-help" | "?" => Self::Help,
            "hint" => Self::Hint,
            "solution" => Self::Solution,
            "check" => Self::Check,
            line => Self::Run(line),
        }
    }
}

/// How a stage ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StageOutcome {
    Done,
    Skipped,
    Quit,
}

/// The answer to `hint`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum HintAnswer<'s> {
    Show {
        level: usize,
        text: &'s str,
    },
    /// More hints exist; the next unlocks after another failed check.
    Locked,
    NoMore,
}

/// The answer to `solution`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SolutionAnswer<'s> {
    Show(&'s str),
    Locked { failed_checks: usize },
    Missing,
}

pub struct StageState<'s> {
    pub stage: &'s Stage,
    /// The mock's request-log sequence number when the stage began.
    log_seq_at_start: u64,
    /// Epoch seconds (lab clock) when the stage began.
    started_at: f64,
    failed_checks: usize,
    hints_shown: usize,
}

impl<'s> StageState<'s> {
    /// The stage opens now: marks where the mock's log and clock are.
    pub async fn begin(stage: &'s Stage, session: &Session) -> Self {
        let (log_seq_at_start, started_at) = stage_marks(session).await;
        Self { stage, log_seq_at_start, started_at, failed_checks: 0, hints_shown: 0 }
    }

    /// Whether the stage has checks (otherwise Enter or `next` goes on).
    pub fn has_checks(&self) -> bool {
        !self.stage.checks.is_empty()
    }

    /// What the stage's checks look at.
    pub fn context<'a>(&self, tools: Tools<'a>, vars: &'a BTreeMap<String, String>, history: &'a [Ran]) -> Context<'a> {
        Context { tools, vars, history, log_seq_at_start: self.log_seq_at_start, started_at: self.started_at }
    }

    /// The stage's failing checks (with their lines); empty when it is done.
    pub async fn failing(&self, cx: &Context<'_>) -> Vec<(usize, String)> {
        check::failing(self.stage, cx).await
    }

    /// A `check` the learner asked for failed: it unlocks hints and, in time, the solution.
    pub fn count_failed_check(&mut self) {
        self.failed_checks += 1;
    }

    /// The next hint unlocked so far (level n unlocks after n-1 failed checks; the first is free).
    pub fn hint(&mut self) -> HintAnswer<'s> {
        let unlocked = self.failed_checks.max(1);
        let stage = self.stage;
        match stage.hints.iter().filter(|(level, ..)| *level <= unlocked).nth(self.hints_shown) {
            Some((level, text, _)) => {
                self.hints_shown += 1;
                HintAnswer::Show { level: *level, text }
            }
            None if stage.hints.len() > self.hints_shown => HintAnswer::Locked,
            None => HintAnswer::NoMore,
        }
    }

    /// The reference solution, once enough checks failed.
    pub fn solution(&self) -> SolutionAnswer<'s> {
        match (&self.stage.solution, self.failed_checks >= ATTEMPTS_BEFORE_SOLUTION) {
            (Some(solution), true) => SolutionAnswer::Show(&solution.body),
            (Some(_), false) => SolutionAnswer::Locked { failed_checks: self.failed_checks },
            (None, _) => SolutionAnswer::Missing,
        }
    }
}

/// The mock's current request-log position and lab-clock time (on AWS: no log, and real time).
async fn stage_marks(session: &Session) -> (u64, f64) {
    let Some(endpoint) = session.backend.mock_endpoint() else {
        return (0, mock_registry::clock::unix_millis() as f64 / 1000.0);
    };
    let seq = crate::control_client::requests(endpoint, 0)
        .await
        .ok()
        .and_then(|log| log.last().and_then(|r| r["seq"].as_u64()))
        .unwrap_or(0);
    let now = crate::control_client::clock_seconds(endpoint).await.unwrap_or(0.0);
    (seq, now)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn stage(text: &str) -> Stage {
        let lesson = crate::lesson::parse(&crate::lesson::Source { path: "s.md".into(), text: text.into() });
        lesson.stages.into_iter().next().unwrap()
    }

    fn state(stage: &Stage) -> StageState<'_> {
        StageState { stage, log_seq_at_start: 0, started_at: 0.0, failed_checks: 0, hints_shown: 0 }
    }

    #[test]
    fn hints_and_the_solution_unlock_with_failed_checks() {
        let stage = stage(
            "---\nid: s\ntitle: S\n---\n## One\n\n```lab:stage\nid: one\n```\n\n```lab:hint level=1\nfirst\n```\n\n```lab:hint level=2\nsecond\n```\n\n```lab:solution\ntrue\n```\n",
        );
        let mut state = state(&stage);
        assert_eq!(state.hint(), HintAnswer::Show { level: 1, text: "first\n" });
        assert_eq!(state.hint(), HintAnswer::Locked);
        assert_eq!(state.solution(), SolutionAnswer::Locked { failed_checks: 0 });
        state.count_failed_check();
        state.count_failed_check();
        assert_eq!(state.hint(), HintAnswer::Show { level: 2, text: "second\n" });
        assert_eq!(state.hint(), HintAnswer::NoMore);
        state.count_failed_check();
        assert_eq!(state.solution(), SolutionAnswer::Show("true\n"));
    }

    #[test]
    fn typed_words_are_commands_and_the_rest_runs_in_the_shell() {
        assert_eq!(StageCommand::parse("?"), StageCommand::Help);
        assert_eq!(StageCommand::parse("exit"), StageCommand::Quit);
        assert_eq!(StageCommand::parse("aws ecr help"), StageCommand::Run("aws ecr help"));
    }
}
