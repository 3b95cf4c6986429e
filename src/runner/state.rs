//! One stage's state while it is open (like rustlings' `watch/state.rs`): when it began (the mock's
//! request-log position and the lab clock), how many checks failed, how many hints were shown, and
//! so what `hint` and `solution` may give. The menu, the lab shell (`start`), the watch mode
//! (`--tools real`) and `verify` all go through it.

use std::collections::BTreeMap;

use super::check::{self, Context, Ran, Tools};
use crate::lesson::Stage;
use crate::shell::Session;

/// Genuine attempts (a failed `check`, or a command for the stage that left it unfinished) before
/// the solution is offered.
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

/// The runner's own words at a stage's prompt, for Tab completion.
pub const STAGE_WORDS: &[&str] = &["check", "hint", "solution", "menu", "next", "skip", "quit", "lab-help"];

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
    /// More hints exist; the next unlocks after another genuine attempt.
    Locked,
    NoMore,
}

/// The answer to `solution`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SolutionAnswer<'s> {
    Show(&'s str),
    Locked { attempts: usize },
    Missing,
}

pub struct StageState<'s> {
    pub stage: &'s Stage,
    /// The mock's request-log sequence number when the stage began.
    log_seq_at_start: u64,
    /// Epoch seconds (lab clock) when the stage began.
    started_at: f64,
    /// Genuine attempts so far: failed `check`s and commands for the stage that left it unfinished.
    attempts: usize,
    hints_shown: usize,
    /// The reacting hints (`lab:hint when=...`) already given, by index.
    reactions_shown: Vec<usize>,
}

impl<'s> StageState<'s> {
    /// The stage opens now: marks where the mock's log and clock are.
    pub async fn begin(stage: &'s Stage, session: &Session) -> Self {
        let (log_seq_at_start, started_at) = stage_marks(session).await;
        Self { stage, log_seq_at_start, started_at, attempts: 0, hints_shown: 0, reactions_shown: Vec::new() }
    }

    /// Where the mock's request log and the lab clock stood when the stage began.
    pub fn marks(&self) -> (u64, f64) {
        (self.log_seq_at_start, self.started_at)
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

    /// A genuine attempt failed (a `check`, or a command for the stage that left it unfinished): it
    /// unlocks hints and, in time, the solution.
    pub fn count_attempt(&mut self) {
        self.attempts += 1;
    }

    /// Whether `command` is one of this stage's: it runs an `aws` operation or `docker` subcommand
    /// that the stage's commands, solution or hints name. `echo`, `export` and the like are not.
    pub fn related(&self, command: &str) -> bool {
        let typed = command_keys(command);
        if typed.is_empty() {
            return false;
        }
        let stage = self.stage;
        let mut texts: Vec<&str> = stage.runs.iter().map(|b| b.body.as_str()).collect();
        texts.extend(stage.solution.iter().map(|b| b.body.as_str()));
        texts.extend(stage.hints.iter().map(|(_, text, _)| text.as_str()));
        texts.extend(stage.reactions.iter().map(|(_, text, _)| text.as_str()));
        texts.iter().flat_map(|t| command_keys(t)).any(|key| typed.contains(&key))
    }

    /// A reacting hint not given yet whose text appears in `seen` (what the learner ran and saw in
    /// the stage, and the failing checks).
    pub fn reaction(&self, seen: &str) -> Option<usize> {
        let stage = self.stage;
        (0..stage.reactions.len())
            .find(|n| !self.reactions_shown.contains(n) && seen.contains(stage.reactions[*n].0.as_str()))
    }

    /// The next hint: one that reacts to what the learner did (in `seen`), else the next level
    /// unlocked so far (level n after n genuine attempts).
    pub fn hint(&mut self, seen: &str) -> HintAnswer<'s> {
        let stage = self.stage;
        if let Some(n) = self.reaction(seen) {
            self.reactions_shown.push(n);
            return HintAnswer::Show { level: 0, text: &stage.reactions[n].1 };
        }
        let unlocked = self.attempts;
        match stage.hints.iter().filter(|(level, ..)| *level <= unlocked).nth(self.hints_shown) {
            Some((level, text, _)) => {
                self.hints_shown += 1;
                HintAnswer::Show { level: *level, text }
            }
            None if stage.hints.len() > self.hints_shown => HintAnswer::Locked,
            None => HintAnswer::NoMore,
        }
    }

    /// The reference solution, once enough genuine attempts failed.
    pub fn solution(&self) -> SolutionAnswer<'s> {
        match (&self.stage.solution, self.attempts >= ATTEMPTS_BEFORE_SOLUTION) {
            (Some(solution), true) => SolutionAnswer::Show(&solution.body),
            (Some(_), false) => SolutionAnswer::Locked { attempts: self.attempts },
            (None, _) => SolutionAnswer::Missing,
        }
    }
}

/// What a line of shell (or a hint's prose) runs: `aws SERVICE OPERATION` and `docker SUBCOMMAND`
/// keys, options and pipes aside.
pub fn command_keys(text: &str) -> Vec<String> {
    let cleaned: String = text.chars().map(|c| if "`|;&()$\"'".contains(c) { ' ' } else { c }).collect();
    let words: Vec<&str> = cleaned.split_whitespace().collect();
    let mut keys = Vec::new();
    for (n, word) in words.iter().enumerate() {
        let wanted = match *word {
            "aws" => 2,
            "docker" => 1,
            _ => continue,
        };
        let rest: Vec<&str> = words[n + 1..].iter().copied().filter(|w| !w.starts_with('-')).take(wanted).collect();
        if rest.len() == wanted && rest.iter().all(|w| w.chars().all(|c| c.is_ascii_lowercase() || c == '-')) {
            keys.push(format!("{word} {}", rest.join(" ")));
        }
    }
    keys
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
        StageState {
            stage,
            log_seq_at_start: 0,
            started_at: 0.0,
            attempts: 0,
            hints_shown: 0,
            reactions_shown: Vec::new(),
        }
    }

    #[test]
    fn hints_and_the_solution_unlock_with_genuine_attempts() {
        let stage = stage(
            "---\nid: s\ntitle: S\n---\n## One\n\n```lab:stage\nid: one\n```\n\n```lab:hint level=1\nfirst\n```\n\n```lab:hint level=2\nsecond\n```\n\n```lab:solution\ntrue\n```\n",
        );
        let mut state = state(&stage);
        // Nothing tried yet: no hint (the capstone's promise).
        assert_eq!(state.hint(""), HintAnswer::Locked);
        assert_eq!(state.solution(), SolutionAnswer::Locked { attempts: 0 });
        state.count_attempt();
        assert_eq!(state.hint(""), HintAnswer::Show { level: 1, text: "first\n" });
        assert_eq!(state.hint(""), HintAnswer::Locked);
        state.count_attempt();
        assert_eq!(state.hint(""), HintAnswer::Show { level: 2, text: "second\n" });
        assert_eq!(state.hint(""), HintAnswer::NoMore);
        state.count_attempt();
        assert_eq!(state.solution(), SolutionAnswer::Show("true\n"));
    }

    #[test]
    fn a_reacting_hint_comes_first_once_its_text_was_seen() {
        let stage = stage(
            "---\nid: s\ntitle: S\n---\n## One\n\n```lab:stage\nid: one\n```\n\n```lab:run\naws ecr create-repository --repository-name x\n```\n\n```lab:hint level=1\nfirst\n```\n\n```lab:hint when=\"Already Exists\"\nuse `aws ecr put-image-tag-mutability`\n```\n",
        );
        let mut state = state(&stage);
        assert_eq!(state.hint("nothing yet"), HintAnswer::Locked);
        let seen = "aws ecr create-repository\nAn error occurred (RepositoryAlreadyExistsException): Already Exists";
        assert_eq!(state.hint(seen), HintAnswer::Show { level: 0, text: "use `aws ecr put-image-tag-mutability`\n" });
        assert_eq!(state.hint(seen), HintAnswer::Locked, "given once");
        // The stage's commands, and those its hints name, are related; other lines are not.
        assert!(state.related("aws ecr create-repository --repository-name x --region r"));
        assert!(state.related("aws ecr put-image-tag-mutability --repository-name x"));
        assert!(!state.related("aws ecr describe-images --repository-name x"));
        assert!(!state.related("echo aws"));
    }

    #[test]
    fn typed_words_are_commands_and_the_rest_runs_in_the_shell() {
        assert_eq!(StageCommand::parse("?"), StageCommand::Help);
        assert_eq!(StageCommand::parse("exit"), StageCommand::Quit);
        assert_eq!(StageCommand::parse("aws ecr help"), StageCommand::Run("aws ecr help"));
    }
}
