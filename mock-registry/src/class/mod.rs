//! Class mode: one instructor, a room of students, each in an account of their own. A property of
//! a running [`Lab`] ([`Lab::set_class`], given again at every start); the roster itself (students,
//! their accounts and keys, progress, per-account clocks) is journaled state (`state::class`).
//! Routes under `/class/` exist only in class mode (404 otherwise): `api` (students' and the
//! instructor's JSON), `auth` (who is the instructor) and `dashboard` (the instructor's page).

pub(crate) mod api;
pub(crate) mod auth;
mod dashboard;

use axum::Router;
use axum::extract::{Request, State};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use serde::{Deserialize, Serialize};

use crate::Lab;

/// What `ecr-lab class serve` sets on a lab: the class's name, its course and when a student counts
/// as stuck.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ClassConfig {
    pub name: String,
    pub course: Vec<CourseLesson>,
    pub stuck_after_minutes: u32,
}

/// One lesson of the course: its id (`00-quick-start`), title and the titles of its stages.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct CourseLesson {
    pub id: String,
    pub title: String,
    pub stages: Vec<String>,
}

/// Everything under `/class/` (API and dashboard), answered only in class mode.
pub(crate) fn router(lab: Lab) -> Router<Lab> {
    Router::new().merge(api::routes()).merge(dashboard::routes()).layer(middleware::from_fn_with_state(lab, class_only))
}

async fn class_only(State(lab): State<Lab>, request: Request, next: Next) -> Response {
    if lab.class().is_none() {
        let text = format!(
            "ecr-lab mock: nothing is served at {} (this server is not running a class; start one with `ecr-lab class serve`)\n",
            request.uri().path()
        );
        return (axum::http::StatusCode::NOT_FOUND, text).into_response();
    }
    next.run(request).await
}
