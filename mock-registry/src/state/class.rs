//! The class roster: students, the account and access key each was given, a hash of the secret
//! their join stored, their progress, and each account's own clock. Journaled like the rest of the
//! state (see [`ClassEvent`]), so a class survives `kill -9` and a restart.
//!
//! The rules here are the roster's: names as IAM user names, unique case-insensitively; account ids
//! derived from (lab secret, lower-cased name), never the default account nor another student's;
//! progress events naming the course's lessons and stages (checked by the API, which knows the
//! course). Refusals are [`ClassRefusal`]s: a status and a text that says what to do next.

use std::collections::{BTreeMap, BTreeSet, VecDeque};

use hmac::{KeyInit, Mac};
use serde::{Deserialize, Serialize};
use sha2::{Digest as _, Sha256};

use super::{AccessKey, DEFAULT_ACCOUNT, Event, State};
use crate::types::{AccountId, Millis, Region};

/// The most students a class holds.
pub const MAX_STUDENTS: usize = 500;
/// How many progress events are kept per student.
pub const KEPT_EVENTS: usize = 50;
/// The longest `detail` of a progress event.
pub const MAX_DETAIL: usize = 200;
/// The region students are given.
pub const CLASS_REGION: &str = "ap-south-1";

/// A change to the roster. Journaled inside [`Event::Class`].
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(tag = "class_event", rename_all = "snake_case")]
pub enum ClassEvent {
    Joined {
        student: Box<Student>,
    },
    /// A new key and secret (the old key is revoked by its own event); progress cleared.
    Reset {
        name: String,
        access_key_id: String,
        secret_hash: String,
        at: Millis,
    },
    Removed {
        name: String,
    },
    Progress {
        name: String,
        event: ProgressEvent,
    },
    /// A fault was armed (or cleared) for a student (what it did is in its own events).
    Fault {
        name: String,
        fault: String,
        armed: bool,
    },
    /// An account's clock moves ahead of the lab clock by `seconds` more.
    AccountClockAdvanced {
        account: AccountId,
        seconds: i64,
    },
}

/// One student on the roster.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Student {
    /// As given at join (unique case-insensitively).
    pub name: String,
    pub account: AccountId,
    pub region: Region,
    pub access_key_id: String,
    /// SHA-256 (hex) of the student secret; the secret itself is only ever with the student.
    pub secret_hash: String,
    pub joined_at: Millis,
    #[serde(default)]
    pub progress: Progress,
    /// Faults armed for this student now.
    #[serde(default)]
    pub faults: BTreeSet<String>,
}

/// What a student has reported.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Progress {
    pub lesson: Option<String>,
    pub stage: Option<u32>,
    pub stage_started_at: Option<Millis>,
    pub hints: u32,
    pub solutions: u32,
    pub checks_passed: u32,
    pub checks_failed: u32,
    pub last_passed_at: Option<Millis>,
    /// Lessons finished (`lesson-finished`).
    pub finished: BTreeSet<String>,
    /// `LESSON/STAGE` of stages whose check passed.
    pub done: BTreeSet<String>,
    pub events: VecDeque<ProgressEvent>,
    pub last_event_at: Option<Millis>,
}

/// One progress report.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ProgressEvent {
    pub at: Millis,
    pub lesson: String,
    pub stage: u32,
    pub event: ProgressKind,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub detail: Option<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum ProgressKind {
    StageStarted,
    CheckPassed,
    CheckFailed,
    Hint,
    Solution,
    LessonFinished,
}

/// The roster and the per-account clocks.
#[derive(Debug, Default, Serialize, Deserialize)]
#[serde(default)]
pub struct Roster {
    /// By lower-cased name.
    students: BTreeMap<String, Student>,
    /// Every account ever given to a name (lower-cased), removed students' included.
    accounts: BTreeMap<AccountId, String>,
    /// Seconds each account's clock is ahead of the lab clock.
    clock_offsets: BTreeMap<AccountId, i64>,
}

/// Why the roster refused: an HTTP status and a text that says what to do next.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ClassRefusal {
    pub status: u16,
    pub message: String,
}

impl ClassRefusal {
    pub fn new(status: u16, message: impl Into<String>) -> Self {
        Self { status, message: message.into() }
    }
}

/// A student's credentials, as join and reset hand them out (the only time the secrets travel).
#[derive(Debug, Clone)]
pub struct Joined {
    pub student: Student,
    pub key: AccessKey,
    /// The student secret: new at a first join and a reset; the one shown at a resume.
    pub student_secret: String,
    pub resumed: bool,
}

/// A name IAM would take as a user name, or the text that says what is allowed.
pub fn check_name(name: &str) -> Result<(), ClassRefusal> {
    let allowed = |c: char| c.is_ascii_alphanumeric() || "+=,.@_-".contains(c);
    let problem = if name.is_empty() {
        Some("is empty".to_owned())
    } else if name.len() > 64 || name.chars().count() > 64 {
        Some(format!("is {} characters long", name.chars().count()))
    } else {
        name.chars().find(|c| !allowed(*c)).map(|c| format!("contains {c:?}"))
    };
    match problem {
        None => Ok(()),
        Some(problem) => Err(ClassRefusal::new(
            400,
            format!(
                "the name {problem}: a name is 1 to 64 characters, ASCII letters, digits and + = , . @ _ - \
                 (like an IAM user name), for example ana-lopez; join again with such a name"
            ),
        )),
    }
}

/// SHA-256 hex of a student secret.
pub fn hash_secret(secret: &str) -> String {
    hex::encode(Sha256::digest(secret.as_bytes()))
}

fn new_secret() -> String {
    format!("ecrstu-{}{}", uuid::Uuid::new_v4().simple(), uuid::Uuid::new_v4().simple())
}

fn same(a: &str, b: &str) -> bool {
    crate::types::constant_time_eq(a.as_bytes(), b.as_bytes())
}

impl Roster {
    pub(super) fn apply(&mut self, event: &ClassEvent) {
        match event {
            ClassEvent::Joined { student } => {
                let lower = student.name.to_ascii_lowercase();
                self.accounts.insert(student.account.clone(), lower.clone());
                self.students.insert(lower, (**student).clone());
            }
            ClassEvent::Reset { name, access_key_id, secret_hash, .. } => {
                if let Some(student) = self.students.get_mut(&name.to_ascii_lowercase()) {
                    student.access_key_id = access_key_id.clone();
                    student.secret_hash = secret_hash.clone();
                    student.progress = Progress::default();
                }
            }
            ClassEvent::Removed { name } => {
                self.students.remove(&name.to_ascii_lowercase());
            }
            ClassEvent::Progress { name, event } => {
                if let Some(student) = self.students.get_mut(&name.to_ascii_lowercase()) {
                    student.progress.apply(event);
                }
            }
            ClassEvent::Fault { name, fault, armed } => {
                if let Some(student) = self.students.get_mut(&name.to_ascii_lowercase()) {
                    if *armed {
                        student.faults.insert(fault.clone());
                    } else {
                        student.faults.remove(fault);
                    }
                }
            }
            ClassEvent::AccountClockAdvanced { account, seconds } => {
                *self.clock_offsets.entry(account.clone()).or_default() += seconds;
            }
        }
    }

    pub fn students(&self) -> impl Iterator<Item = &Student> {
        self.students.values()
    }

    /// A student by name (case-insensitive).
    pub fn student(&self, name: &str) -> Option<&Student> {
        self.students.get(&name.to_ascii_lowercase())
    }

    /// The student whose secret this is.
    pub fn by_secret(&self, secret: &str) -> Option<&Student> {
        let hash = hash_secret(secret);
        self.students.values().find(|s| same(&s.secret_hash, &hash))
    }

    /// The student an account belongs to.
    pub fn by_account(&self, account: &AccountId) -> Option<&Student> {
        self.accounts.get(account).and_then(|name| self.students.get(name)).filter(|s| &s.account == account)
    }

    /// How far `account`'s clock is ahead of the lab clock.
    pub fn clock_offset(&self, account: &AccountId) -> i64 {
        self.clock_offsets.get(account).copied().unwrap_or(0)
    }

    /// The account for `lower` (a lower-cased name): the one it had, else derived from the secret,
    /// bumped past the default account and every other name's.
    fn account_for(&self, secret: &[u8], lower: &str) -> AccountId {
        if let Some((account, _)) = self.accounts.iter().find(|(_, n)| n.as_str() == lower) {
            return account.clone();
        }
        let mut mac = <hmac::Hmac<Sha256> as KeyInit>::new_from_slice(secret).expect("HMAC takes any key");
        mac.update(b"ecr-lab class account:");
        mac.update(lower.as_bytes());
        let bytes = mac.finalize().into_bytes();
        let mut n = u64::from_be_bytes(bytes[..8].try_into().expect("8 bytes")) % 1_000_000_000_000;
        loop {
            let account = AccountId::parse(&format!("{n:012}")).expect("12 digits");
            if account.as_str() != DEFAULT_ACCOUNT && !self.accounts.contains_key(&account) {
                return account;
            }
            n = (n + 1) % 1_000_000_000_000;
        }
    }
}

impl Progress {
    fn apply(&mut self, event: &ProgressEvent) {
        let here = format!("{}/{}", event.lesson, event.stage);
        let moved = self.lesson.as_deref() != Some(&event.lesson) || self.stage != Some(event.stage);
        match event.event {
            ProgressKind::StageStarted => {
                if moved {
                    self.stage_started_at = Some(event.at);
                }
                self.finished.remove(&event.lesson);
            }
            ProgressKind::CheckPassed => {
                self.checks_passed += 1;
                self.last_passed_at = Some(event.at);
                self.done.insert(here);
            }
            ProgressKind::CheckFailed => self.checks_failed += 1,
            ProgressKind::Hint => self.hints += 1,
            ProgressKind::Solution => self.solutions += 1,
            ProgressKind::LessonFinished => {
                self.finished.insert(event.lesson.clone());
            }
        }
        if moved && event.event != ProgressKind::StageStarted {
            self.stage_started_at = Some(event.at);
        }
        self.lesson = Some(event.lesson.clone());
        self.stage = Some(event.stage);
        self.last_event_at = Some(event.at);
        if self.events.len() == KEPT_EVENTS {
            self.events.pop_front();
        }
        self.events.push_back(event.clone());
    }
}

impl State {
    pub fn roster(&self) -> &Roster {
        &self.roster
    }

    /// The clock of `account`: the lab clock plus however far that account's clock was advanced.
    pub fn now_for(&self, account: &AccountId) -> Millis {
        self.now().plus_seconds(self.roster.clock_offset(account))
    }

    /// Joins `name` (new: account, IAM user `name`, key; existing: resumes with the right secret).
    pub fn join_class(&mut self, name: &str, secret: Option<&str>) -> Result<Joined, ClassRefusal> {
        check_name(name)?;
        let lower = name.to_ascii_lowercase();
        if let Some(student) = self.roster.students.get(&lower) {
            let right = secret.is_some_and(|s| same(&hash_secret(s), &student.secret_hash));
            if !right {
                return Err(ClassRefusal::new(
                    409,
                    format!(
                        "the name '{name}' is taken in this class. If it is you, run join from the machine you joined on \
                         (it kept your secret), or ask the instructor to reset you: ecr-lab class reset {name}"
                    ),
                ));
            }
            let key = self.key(&student.access_key_id).cloned().ok_or_else(|| {
                ClassRefusal::new(
                    500,
                    format!("'{name}' has no access key; ask the instructor: ecr-lab class reset {name}"),
                )
            })?;
            let student = student.clone();
            return Ok(Joined { student, key, student_secret: secret.unwrap_or_default().to_owned(), resumed: true });
        }
        if self.roster.students.len() >= MAX_STUDENTS {
            return Err(ClassRefusal::new(
                409,
                format!("the class is full ({MAX_STUDENTS} students); ask the instructor to remove students who left"),
            ));
        }
        let account = self.roster.account_for(&self.token_secret, &lower);
        let region = Region::parse(CLASS_REGION).expect("the class region is a region");
        let key = AccessKey::generate(account.clone(), name.to_owned(), None);
        let student_secret = new_secret();
        let student = Student {
            name: name.to_owned(),
            account,
            region,
            access_key_id: key.access_key_id.clone(),
            secret_hash: hash_secret(&student_secret),
            joined_at: self.now(),
            progress: Progress::default(),
            faults: BTreeSet::new(),
        };
        self.record(Event::KeyAdded { key: key.clone() });
        self.record(Event::Class { change: ClassEvent::Joined { student: Box::new(student.clone()) } });
        Ok(Joined { student, key, student_secret, resumed: false })
    }

    /// A new key (the old one revoked) and secret for `name`; progress cleared, repositories kept.
    pub fn reset_student(&mut self, name: &str) -> Result<Joined, ClassRefusal> {
        let student = self.roster.student(name).cloned().ok_or_else(|| unknown_student(name))?;
        let key = AccessKey::generate(student.account.clone(), student.name.clone(), None);
        let student_secret = new_secret();
        let secret_hash = hash_secret(&student_secret);
        if self.key(&student.access_key_id).is_some() {
            self.record(Event::KeyRevoked { access_key_id: student.access_key_id.clone() });
        }
        self.record(Event::KeyAdded { key: key.clone() });
        let at = self.now();
        let (access_key_id, name) = (key.access_key_id.clone(), student.name.clone());
        self.record(Event::Class { change: ClassEvent::Reset { name, access_key_id, secret_hash, at } });
        let student = self.roster.student(&student.name).cloned().expect("reset keeps the student");
        Ok(Joined { student, key, student_secret, resumed: false })
    }

    /// Revokes `name`'s key and takes them off the roster (their account's data stays).
    pub fn remove_student(&mut self, name: &str) -> Result<Student, ClassRefusal> {
        let student = self.roster.student(name).cloned().ok_or_else(|| unknown_student(name))?;
        if self.key(&student.access_key_id).is_some() {
            self.record(Event::KeyRevoked { access_key_id: student.access_key_id.clone() });
        }
        self.record(Event::Class { change: ClassEvent::Removed { name: student.name.clone() } });
        Ok(student)
    }

    /// Records a progress report of `name` (lesson and stage already checked against the course).
    pub fn record_progress(&mut self, name: &str, mut event: ProgressEvent) -> Result<(), ClassRefusal> {
        let student = self.roster.student(name).ok_or_else(|| unknown_student(name))?;
        event.at = self.now();
        let name = student.name.clone();
        self.record(Event::Class { change: ClassEvent::Progress { name, event } });
        Ok(())
    }

    /// Notes that `fault` is armed (or cleared) for `name`.
    pub fn note_fault(&mut self, name: &str, fault: &str, armed: bool) -> Result<(), ClassRefusal> {
        let student = self.roster.student(name).ok_or_else(|| unknown_student(name))?;
        let (name, fault) = (student.name.clone(), fault.to_owned());
        self.record(Event::Class { change: ClassEvent::Fault { name, fault, armed } });
        Ok(())
    }

    /// Moves `account`'s clock `seconds` ahead (and runs its lifecycle policies on it).
    pub fn advance_account_clock(&mut self, account: &AccountId, seconds: i64) -> Result<Millis, ClassRefusal> {
        if seconds <= 0 {
            return Err(ClassRefusal::new(400, "the clock only moves forward: give a positive duration such as 13h"));
        }
        let to = self.now_for(account).0.checked_add(seconds.saturating_mul(1000));
        if to.is_none_or(|to| to > 253_402_300_799_000) {
            return Err(ClassRefusal::new(400, "the clock would pass the year 9999; it stays where it is"));
        }
        self.record(Event::Class { change: ClassEvent::AccountClockAdvanced { account: account.clone(), seconds } });
        self.apply_lifecycle_policies();
        Ok(self.now_for(account))
    }
}

fn unknown_student(name: &str) -> ClassRefusal {
    ClassRefusal::new(
        404,
        format!("there is no student '{name}' in this class; see the names with `ecr-lab class students`"),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn event(lesson: &str, stage: u32, kind: ProgressKind) -> ProgressEvent {
        ProgressEvent { at: Millis(0), lesson: lesson.into(), stage, event: kind, detail: None }
    }

    #[test]
    fn names_follow_iam_user_names() {
        for good in ["ana", "ana-lopez", "A.B@c+d=e,f_g", &"a".repeat(64)] {
            assert!(check_name(good).is_ok(), "{good}");
        }
        for bad in ["", "ana lopez", "anä", &"a".repeat(65), "a/b"] {
            let refusal = check_name(bad).unwrap_err();
            assert_eq!(refusal.status, 400);
            assert!(refusal.message.contains("ana-lopez"), "{}", refusal.message);
        }
    }

    #[test]
    fn joins_resume_refuse_and_replay_the_same() {
        let mut state = State::new(b"class secret".to_vec());
        state.set_wall_clock(crate::clock::WallClock::Fixed(Millis(1_800_000_000_000)));
        let ana = state.join_class("Ana", None).unwrap();
        assert!(!ana.resumed);
        assert_ne!(ana.student.account.as_str(), DEFAULT_ACCOUNT);
        let again = state.join_class("ana", Some(&ana.student_secret)).unwrap();
        assert!(again.resumed);
        assert_eq!(again.key.access_key_id, ana.key.access_key_id);
        assert_eq!(state.join_class("ANA", None).unwrap_err().status, 409);
        assert_eq!(state.join_class("ana", Some("wrong")).unwrap_err().status, 409);
        let bo = state.join_class("bo", None).unwrap();
        assert_ne!(bo.student.account, ana.student.account);

        state.record_progress("ana", event("00-quick-start", 1, ProgressKind::CheckPassed)).unwrap();
        state.advance_account_clock(&ana.student.account, 3600).unwrap();
        assert_eq!(state.now_for(&ana.student.account).0 - state.now().0, 3_600_000);
        assert_eq!(state.now_for(&bo.student.account), state.now());
        let reset = state.reset_student("ana").unwrap();
        assert!(state.key(&ana.key.access_key_id).unwrap().revoked);
        assert_eq!(state.roster().student("ana").unwrap().progress, Progress::default());

        let mut replayed = State::replay(state.take_outbox());
        replayed.set_wall_clock(crate::clock::WallClock::Fixed(Millis(1_800_000_000_000)));
        let student = replayed.roster().student("ANA").unwrap();
        assert_eq!(student.account, ana.student.account);
        assert_eq!(student.access_key_id, reset.key.access_key_id);
        assert!(replayed.roster().by_secret(&reset.student_secret).is_some());
        assert!(replayed.roster().by_secret(&ana.student_secret).is_none(), "the old secret is gone");
        assert_eq!(replayed.now_for(&ana.student.account).0 - replayed.now().0, 3_600_000);
    }
}
