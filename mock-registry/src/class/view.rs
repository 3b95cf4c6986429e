//! What the instructor sees: `GET /class/api/state` (every student's lesson, stage and status, and
//! counts per stage) and `GET /class/api/students/{name}` (one student, with their requests,
//! repositories and progress events).
//!
//! A student's status: `idle` before any progress; `done` once the current lesson is finished;
//! `stuck` when on the same stage longer than the class's stuckAfterMinutes without passing it;
//! `error` when the last documented error (request log) is newer than the last passed check;
//! otherwise `working`. Progress times are on the class (lab) clock, not the account's.

use std::collections::BTreeMap;

use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::Response;
use serde::Serialize;

use super::api::error;
use super::{ClassConfig, CourseLesson};
use crate::Lab;
use crate::clock::iso_seconds;
use crate::request_log::LoggedRequest;
use crate::state::RegistryKey;
use crate::state::class::{ProgressEvent, ProgressKind, Student};
use crate::types::Millis;

/// The last documented error a student met.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct LastError {
    at: String,
    api: String,
    status: u16,
    code: String,
    message: String,
}

/// One student, as the dashboard shows them.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct StudentEntry {
    name: String,
    account: String,
    joined_at: String,
    last_seen: String,
    lesson: Option<String>,
    stage: Option<u32>,
    stage_title: Option<String>,
    stage_started_at: Option<String>,
    status: &'static str,
    minutes_on_stage: f64,
    hints: u32,
    solutions: u32,
    checks_passed: u32,
    checks_failed: u32,
    last_error: Option<LastError>,
    stages: BTreeMap<String, &'static str>,
    faults: Vec<String>,
}

/// `student`'s entry now.
pub(crate) fn entry(lab: &Lab, student: &Student, class: Option<&ClassConfig>) -> StudentEntry {
    let logged_error = lab.log().last_error_of(student.account.as_str());
    entry_with(lab, student, class, logged_error)
}

/// `student`'s entry, given the last error their account met.
fn entry_with(
    lab: &Lab,
    student: &Student,
    class: Option<&ClassConfig>,
    logged_error: Option<LoggedRequest>,
) -> StudentEntry {
    let now = lab.read(|s| s.now());
    let progress = &student.progress;
    let last_error = logged_error.as_ref().map(|r| LastError {
        at: iso_seconds(Millis((r.at * 1000.0) as i64)),
        api: r.api.clone(),
        status: r.status,
        code: r.code.clone().unwrap_or_default(),
        message: r.message.clone().unwrap_or_default(),
    });
    let minutes_on_stage = progress.stage_started_at.map_or(0.0, |at| ((now.0 - at.0).max(0) as f64) / 60_000.0);
    let here = progress.lesson.as_ref().zip(progress.stage).map(|(l, s)| format!("{l}/{s}"));
    let passed_here = here.as_ref().is_some_and(|h| progress.done.contains(h));
    let stuck_after = f64::from(class.map_or(5, |c| c.stuck_after_minutes));
    let error_at = logged_error.map(|r| (r.at * 1000.0) as i64);
    let status = match &progress.lesson {
        None => "idle",
        Some(lesson) if progress.finished.contains(lesson) => "done",
        Some(_) if !passed_here && minutes_on_stage > stuck_after => "stuck",
        Some(_) if error_at.is_some_and(|at| progress.last_passed_at.is_none_or(|p| at > p.0)) => "error",
        Some(_) => "working",
    };
    let course = class.map(|c| c.course.as_slice()).unwrap_or_default();
    let mut seen = [Some(student.joined_at), progress.last_event_at, lab.class_runtime().last_seen(&student.name)];
    let last_seen = seen.iter_mut().filter_map(|t| t.take()).max().unwrap_or(student.joined_at);
    StudentEntry {
        name: student.name.clone(),
        account: student.account.to_string(),
        joined_at: iso_seconds(student.joined_at),
        last_seen: iso_seconds(last_seen),
        lesson: progress.lesson.clone(),
        stage: progress.stage,
        stage_title: stage_title(course, progress.lesson.as_deref(), progress.stage),
        stage_started_at: progress.stage_started_at.map(iso_seconds),
        status,
        minutes_on_stage: (minutes_on_stage * 10.0).round() / 10.0,
        hints: progress.hints,
        solutions: progress.solutions,
        checks_passed: progress.checks_passed,
        checks_failed: progress.checks_failed,
        last_error,
        stages: stages(student, course, here.as_deref(), status),
        faults: student.faults.iter().cloned().collect(),
    }
}

fn stage_title(course: &[CourseLesson], lesson: Option<&str>, stage: Option<u32>) -> Option<String> {
    let lesson = course.iter().find(|l| Some(l.id.as_str()) == lesson)?;
    lesson.stages.get(stage? as usize).cloned()
}

/// `LESSON/STAGE` → status for the stages a student has been on: done ones, and the current one.
fn stages(
    student: &Student,
    course: &[CourseLesson],
    here: Option<&str>,
    status: &'static str,
) -> BTreeMap<String, &'static str> {
    let progress = &student.progress;
    let mut stages: BTreeMap<String, &'static str> = progress.done.iter().map(|k| (k.clone(), "done")).collect();
    for lesson in course.iter().filter(|l| progress.finished.contains(&l.id)) {
        for n in 0..lesson.stages.len() {
            stages.insert(format!("{}/{n}", lesson.id), "done");
        }
    }
    if let Some(here) = here {
        stages.entry(here.to_owned()).or_insert(if status == "idle" { "working" } else { status });
    }
    stages
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct StateOut {
    class_name: String,
    now: String,
    stuck_after_minutes: u32,
    course: Vec<CourseLesson>,
    students: Vec<StudentEntry>,
    counts: BTreeMap<String, BTreeMap<&'static str, u32>>,
}

pub(super) async fn state(State(lab): State<Lab>) -> Json<StateOut> {
    let class = lab.class();
    let class = class.as_deref();
    let students: Vec<Student> = lab.read(|s| s.roster().students().cloned().collect());
    let mut errors = lab.log().last_errors();
    let entries: Vec<StudentEntry> =
        students.iter().map(|s| entry_with(&lab, s, class, errors.remove(s.account.as_str()))).collect();
    let course = class.map(|c| c.course.clone()).unwrap_or_default();
    let mut counts: BTreeMap<String, BTreeMap<&'static str, u32>> = BTreeMap::new();
    for lesson in &course {
        for n in 0..lesson.stages.len() {
            let zero = [("done", 0), ("working", 0), ("stuck", 0), ("error", 0)];
            counts.insert(format!("{}/{n}", lesson.id), zero.into_iter().collect());
        }
    }
    for entry in &entries {
        for (stage, status) in &entry.stages {
            if let Some(count) = counts.get_mut(stage).and_then(|c| c.get_mut(status)) {
                *count += 1;
            }
        }
    }
    Json(StateOut {
        class_name: class.map(|c| c.name.clone()).unwrap_or_default(),
        now: iso_seconds(lab.read(|s| s.now())),
        stuck_after_minutes: class.map_or(5, |c| c.stuck_after_minutes),
        course,
        students: entries,
        counts,
    })
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct RepositoryOut {
    name: String,
    image_count: usize,
    tags: Vec<String>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
pub(super) struct StudentOut {
    #[serde(flatten)]
    entry: StudentEntry,
    requests: Vec<LoggedRequest>,
    repositories: Vec<RepositoryOut>,
    events: Vec<EventOut>,
}

/// A progress event as the detail shows it (its time in RFC 3339).
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct EventOut {
    at: String,
    lesson: String,
    stage: u32,
    event: ProgressKind,
    #[serde(skip_serializing_if = "Option::is_none")]
    detail: Option<String>,
}

impl From<&ProgressEvent> for EventOut {
    fn from(e: &ProgressEvent) -> Self {
        Self {
            at: iso_seconds(e.at),
            lesson: e.lesson.clone(),
            stage: e.stage,
            event: e.event,
            detail: e.detail.clone(),
        }
    }
}

/// How many requests and events the detail shows.
const DETAIL_ITEMS: usize = 50;

pub(super) async fn student(State(lab): State<Lab>, Path(name): Path<String>) -> Result<Json<StudentOut>, Response> {
    let Some(student) = lab.read(|s| s.roster().student(&name).cloned()) else {
        return Err(error(
            StatusCode::NOT_FOUND,
            format!("there is no student '{name}' in this class; see the names with `ecr-lab class students`"),
        ));
    };
    let class = lab.class();
    let registry = RegistryKey::new(student.account.clone(), student.region.clone());
    let repositories = lab.read(|s| {
        s.repositories(&registry)
            .map(|r| {
                let mut tags: Vec<String> =
                    r.images.values().flat_map(|i| i.tags.iter().map(|t| t.to_string())).collect();
                tags.sort();
                RepositoryOut { name: r.name.to_string(), image_count: r.images.len(), tags }
            })
            .collect()
    });
    Ok(Json(StudentOut {
        entry: entry(&lab, &student, class.as_deref()),
        requests: lab.log().last_of_account(student.account.as_str(), DETAIL_ITEMS),
        repositories,
        events: student.progress.events.iter().rev().take(DETAIL_ITEMS).map(EventOut::from).collect(),
    }))
}
