//! `POST /class/api/faults`: server-side conditions on one student's own account, or on every
//! student's. `missing-repo` deletes the repository (force; clear creates it again, empty);
//! `immutable-overwrite` makes its tags IMMUTABLE (clear: MUTABLE); `expired-login` moves that
//! account's clock 13 hours on, so its registry tokens expire (clear leaves the clock: learners log
//! in again). Every student named is checked before anything changes.

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde::{Deserialize, Serialize};

use super::api::{ApiError, Body, error, roster_write};
use crate::Lab;
use crate::state::class::{ClassRefusal, Student};
use crate::state::{NewRepository, RegistryKey, RepositoryUpdate, TagMutabilitySetting};
use crate::types::{RepositoryName, TagMutability};

/// How far `expired-login` moves an account's clock: past the 12-hour token lifetime.
const EXPIRED_LOGIN_SECONDS: i64 = 13 * 3600;

#[derive(Deserialize)]
#[serde(untagged)]
enum Students {
    Names(Vec<String>),
    All(String),
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub(super) struct FaultIn {
    fault: String,
    students: Students,
    #[serde(default)]
    repository: Option<String>,
    #[serde(default)]
    action: Option<String>,
}

#[derive(Serialize)]
struct Applied {
    student: String,
    effect: String,
}

#[derive(Clone, Copy, PartialEq)]
enum Fault {
    MissingRepo,
    ImmutableOverwrite,
    ExpiredLogin,
}

impl Fault {
    fn parse(text: &str) -> Option<Self> {
        match text {
            "missing-repo" => Some(Self::MissingRepo),
            "immutable-overwrite" => Some(Self::ImmutableOverwrite),
            "expired-login" => Some(Self::ExpiredLogin),
            _ => None,
        }
    }
}

pub(super) async fn apply(State(lab): State<Lab>, Body(request): Body<FaultIn>) -> Response {
    let Some(fault) = Fault::parse(&request.fault) else {
        return error(
            StatusCode::BAD_REQUEST,
            format!(
                "there is no class fault '{}'; the faults are missing-repo, immutable-overwrite and expired-login",
                request.fault
            ),
        );
    };
    let arm = match request.action.as_deref().unwrap_or("arm") {
        "arm" => true,
        "clear" => false,
        other => return error(StatusCode::BAD_REQUEST, format!("action is arm or clear, not '{other}'")),
    };
    let repository = request.repository.as_deref().unwrap_or("test");
    let Ok(repository) = RepositoryName::parse(repository) else {
        return error(StatusCode::BAD_REQUEST, format!("'{repository}' is not a repository name; give one like test"));
    };
    let students = match chosen(&lab, &request.students) {
        Ok(students) => students,
        Err(e) => return e.into(),
    };
    let mut applied = Vec::new();
    for student in students {
        let name = student.name.clone();
        let effect = roster_write(&lab, |s| {
            let effect = act(s, &student, fault, arm, &repository)?;
            s.note_fault(&student.name, &request.fault, arm)?;
            Ok(effect)
        })
        .await;
        match effect {
            Ok(effect) => applied.push(Applied { student: name, effect }),
            Err(response) => return response,
        }
    }
    (StatusCode::OK, Json(serde_json::json!({ "applied": applied }))).into_response()
}

/// The students named (all must exist), or every student for `"all"`.
fn chosen(lab: &Lab, students: &Students) -> Result<Vec<Student>, ApiError> {
    match students {
        Students::All(all) if all == "all" => Ok(lab.read(|s| s.roster().students().cloned().collect())),
        Students::All(other) => Err(ApiError(
            StatusCode::BAD_REQUEST,
            format!("students is a list of names such as [\"ana\"] or the word \"all\", not '{other}'"),
        )),
        Students::Names(names) => names
            .iter()
            .map(|name| {
                lab.read(|s| s.roster().student(name).cloned()).ok_or_else(|| {
                    ApiError(
                        StatusCode::NOT_FOUND,
                        format!(
                            "there is no student '{name}' in this class (nothing was changed); see the names with `ecr-lab class students`"
                        ),
                    )
                })
            })
            .collect(),
    }
}

/// Does (or undoes) `fault` in `student`'s own account; says what happened.
fn act(
    state: &mut crate::State,
    student: &Student,
    fault: Fault,
    arm: bool,
    name: &RepositoryName,
) -> Result<String, ClassRefusal> {
    let registry = RegistryKey::new(student.account.clone(), student.region.clone());
    let exists = state.repository(&registry, name).is_ok();
    let failed = |e: crate::StateError| ClassRefusal::new(400, format!("{e}; nothing else was changed"));
    Ok(match (fault, arm) {
        (Fault::MissingRepo, true) if exists => {
            state.delete_repository(&registry, name, true).map_err(failed)?;
            format!("deleted repository '{name}' (and its images)")
        }
        (Fault::MissingRepo, false) if !exists => {
            let new = NewRepository::with_defaults(name.clone());
            state.create_repository(&registry, new).map_err(failed)?;
            format!("created repository '{name}' again (empty)")
        }
        (Fault::MissingRepo, true) => format!("repository '{name}' was already missing"),
        (Fault::MissingRepo, false) => format!("repository '{name}' is there; left as it is"),
        (Fault::ImmutableOverwrite, _) if !exists => {
            format!("no repository '{name}' in this account yet; nothing to change (arm again once it is created)")
        }
        (Fault::ImmutableOverwrite, arm) => {
            let mode = if arm { TagMutability::Immutable } else { TagMutability::Mutable };
            let setting = TagMutabilitySetting { mode, filters: Vec::new() };
            state.update_repository(&registry, name, RepositoryUpdate::TagMutability(setting)).map_err(failed)?;
            format!("repository '{name}' tags are now {}", if arm { "IMMUTABLE" } else { "MUTABLE" })
        }
        (Fault::ExpiredLogin, true) => {
            state.advance_account_clock(&student.account, EXPIRED_LOGIN_SECONDS)?;
            "the account's clock moved 13h on: its registry logins have expired (log in again)".to_owned()
        }
        (Fault::ExpiredLogin, false) => "the clock stays where it is; log in again to get a fresh token".to_owned(),
    })
}
