//! Judging a stage's `lab:check` assertions against the lab, one evaluator per assertion: the
//! registry through the ECR API (`ecr`), and what the learner's session holds or did (`session`:
//! docker logins, local images, the commands run in this stage, the mock's request log).
//!
//! Each evaluator returns a [`CheckOutcome`]: passed, not yet (the learner has more to do), or
//! cannot check (access denied, the network, a lesson asking what this backend cannot tell).

mod ecr;
mod iam;
mod session;

use std::collections::BTreeMap;

use crate::lesson::{Assertion, Stage};

/// What judging one assertion found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CheckOutcome {
    Pass,
    /// Not so yet; says what is missing.
    NotYet(String),
    /// The lab could not tell (access denied, throttling, the network, or the lesson asks what this
    /// backend cannot answer); says why.
    CannotCheck(String),
}

impl CheckOutcome {
    /// `Pass` when `ok`, otherwise not yet, for the reason `why` gives.
    fn pass_if(ok: bool, why: impl FnOnce() -> String) -> Self {
        if ok { Self::Pass } else { Self::NotYet(why()) }
    }

    /// What the learner is told when it did not pass.
    pub fn failure(&self) -> Option<&str> {
        match self {
            Self::Pass => None,
            Self::NotYet(why) | Self::CannotCheck(why) => Some(why),
        }
    }
}

/// A command the learner ran in this stage, and how it ended.
#[derive(Debug, Clone)]
pub struct Ran {
    pub command: String,
    pub output: String,
    pub status: i32,
}

/// Where the learner works: the lab shell's built-in tools, or their own aws and docker.
pub enum Tools<'a> {
    Builtin(&'a crate::shell::Session),
    /// Their own tools against the backend; docker's config is read from `docker_config`.
    Real {
        backend: &'a crate::backend::EcrBackend,
        docker_config: std::path::PathBuf,
    },
}

impl Tools<'_> {
    /// What the checks look at: the mock or the AWS account, with the lab's own credentials.
    pub fn backend(&self) -> &crate::backend::EcrBackend {
        match self {
            Self::Builtin(session) => &session.backend,
            Self::Real { backend, .. } => backend,
        }
    }
}

/// What a check can look at.
pub struct Context<'a> {
    pub tools: Tools<'a>,
    pub vars: &'a BTreeMap<String, String>,
    pub history: &'a [Ran],
    /// The mock's request-log sequence number when the stage began.
    pub log_seq_at_start: u64,
    /// Epoch seconds (lab clock) when the stage began.
    pub started_at: f64,
}

impl Context<'_> {
    fn fill(&self, text: &str) -> String {
        crate::lesson::fill(text, self.vars)
    }
}

/// Judges one assertion.
pub async fn evaluate(assertion: &Assertion, cx: &Context<'_>) -> CheckOutcome {
    match assertion {
        Assertion::Repository(c) => ecr::repository(c, cx).await,
        Assertion::Image(c) => ecr::image(c, cx).await,
        Assertion::Images(c) => ecr::images(c, cx).await,
        Assertion::Findings(c) => ecr::findings(c, cx).await,
        Assertion::Credentials(c) => session::credentials(c, cx),
        Assertion::LocalImage(c) => session::local_image(c, cx),
        // The learner's own terminal is not visible to the lab.
        Assertion::Output(_) | Assertion::Exit(_) if matches!(cx.tools, Tools::Real { .. }) => CheckOutcome::Pass,
        Assertion::Output(c) => session::output(c, cx),
        Assertion::Exit(c) => session::exit(c, cx),
        Assertion::Requests(c) => session::requests(c, cx).await,
        Assertion::IamUser(c) => iam::user(c, cx).await,
        Assertion::Console(c) => session::console(c, cx).await,
    }
}

/// Evaluates a stage's checks; the failures (not yet, or cannot check), with the check's line.
pub async fn failing(stage: &Stage, cx: &Context<'_>) -> Vec<(usize, String)> {
    let mut failures = Vec::new();
    for (assertion, pos) in &stage.checks {
        if let Some(why) = evaluate(assertion, cx).await.failure() {
            failures.push((pos.line, why.to_owned()));
        }
    }
    failures
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::lesson::check::{ExitCheck, OutputCheck};

    #[test]
    fn a_command_not_run_yet_is_not_yet_and_its_output_is_judged() {
        let backend = crate::backend::EcrBackend::mock("http://127.0.0.1");
        let vars = BTreeMap::from([("repo".to_owned(), "test".to_owned())]);
        let history = [Ran { command: "docker push x/test:v1".into(), output: "pushed test".into(), status: 0 }];
        let cx = |history| Context {
            tools: Tools::Real { backend: &backend, docker_config: Default::default() },
            vars: &vars,
            history,
            log_seq_at_start: 0,
            started_at: 0.0,
        };
        let printed = OutputCheck { of: Some("docker push".into()), contains: "pushed {{repo}}".into(), any_run: None };
        assert_eq!(
            session::output(&printed, &cx(&[])),
            CheckOutcome::NotYet("`docker push` has not been run in this stage".into())
        );
        assert_eq!(session::output(&printed, &cx(&history)), CheckOutcome::Pass);
        let exited = ExitCheck { of: None, code: 1 };
        assert_eq!(
            session::exit(&exited, &cx(&history)),
            CheckOutcome::NotYet("`docker push x/test:v1` exited with 0, not 1".into())
        );
        // `any_run`: an error met earlier in the stage counts, though a later run succeeded.
        let history = [
            Ran {
                command: "aws ecr get-login-password | docker login x".into(),
                output: "400 Bad Request".into(),
                status: 1,
            },
            Ran {
                command: "aws ecr get-login-password | docker login y".into(),
                output: "Login Succeeded".into(),
                status: 0,
            },
        ];
        let met = |any_run| OutputCheck {
            of: Some("aws ecr get-login-password".into()),
            contains: "400 Bad Request".into(),
            any_run,
        };
        assert!(matches!(session::output(&met(None), &cx(&history)), CheckOutcome::NotYet(_)), "the last run only");
        assert_eq!(session::output(&met(Some(true)), &cx(&history)), CheckOutcome::Pass);
        assert_eq!(
            session::output(&met(Some(true)), &cx(&history[1..])),
            CheckOutcome::NotYet(
                "no run of `aws ecr get-login-password` in this stage printed \"400 Bad Request\"".into()
            )
        );
        assert_eq!(CheckOutcome::CannotCheck("denied".into()).failure(), Some("denied"));
        assert_eq!(CheckOutcome::Pass.failure(), None);
    }
}
