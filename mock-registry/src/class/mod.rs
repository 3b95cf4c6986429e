//! Class mode: one instructor, a room of students, each in an account of their own. A property of
//! a running [`Lab`] ([`Lab::set_class`], given again at every start); the roster itself (students,
//! their accounts and keys, progress, per-account clocks) is journaled state (`state::class`).
//! Routes under `/class/` exist only in class mode (404 otherwise): `api` (students' and the
//! instructor's JSON), `auth` (who is the instructor) and `dashboard` (the instructor's page).

pub(crate) mod api;
pub(crate) mod auth;
mod dashboard;
mod faults;
#[cfg(test)]
mod tests;
mod view;

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
    Router::new()
        .merge(api::routes(lab.clone()))
        .merge(dashboard::routes())
        .layer(middleware::from_fn_with_state(lab, class_only))
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

/// What class mode keeps in memory only: the join buckets per client address and when each
/// student was last heard from.
#[derive(Default)]
pub(crate) struct Runtime {
    joins: std::sync::Mutex<std::collections::HashMap<std::net::IpAddr, (f64, std::time::Instant)>>,
    seen: std::sync::Mutex<std::collections::HashMap<String, crate::types::Millis>>,
    /// The class CA (PEM) when serving with `--tls`.
    ca_pem: std::sync::RwLock<Option<String>>,
}

/// Joins a client may make at once, and how many come back per second.
pub(crate) const JOIN_BURST: f64 = 40.0;
pub(crate) const JOIN_REFILL_PER_SECOND: f64 = 1.0;

impl Runtime {
    /// Takes one join from `ip`'s bucket, or says how many seconds until one is back.
    pub(crate) fn take_join(&self, ip: std::net::IpAddr) -> Result<(), u64> {
        let mut joins = self.joins.lock().unwrap_or_else(|e| e.into_inner());
        if joins.len() > 10_000 {
            joins.retain(|_, (tokens, at)| *tokens + at.elapsed().as_secs_f64() * JOIN_REFILL_PER_SECOND < JOIN_BURST);
        }
        let now = std::time::Instant::now();
        let (tokens, at) = joins.entry(ip).or_insert((JOIN_BURST, now));
        *tokens = (*tokens + now.duration_since(*at).as_secs_f64() * JOIN_REFILL_PER_SECOND).min(JOIN_BURST);
        *at = now;
        if *tokens >= 1.0 {
            *tokens -= 1.0;
            Ok(())
        } else {
            Err(((1.0 - *tokens) / JOIN_REFILL_PER_SECOND).ceil().max(1.0) as u64)
        }
    }

    pub(crate) fn set_ca_pem(&self, pem: String) {
        *self.ca_pem.write().unwrap_or_else(|e| e.into_inner()) = Some(pem);
    }

    pub(crate) fn ca_pem(&self) -> Option<String> {
        self.ca_pem.read().unwrap_or_else(|e| e.into_inner()).clone()
    }

    pub(crate) fn seen(&self, name: &str, at: crate::types::Millis) {
        self.seen.lock().unwrap_or_else(|e| e.into_inner()).insert(name.to_ascii_lowercase(), at);
    }

    pub(crate) fn last_seen(&self, name: &str) -> Option<crate::types::Millis> {
        self.seen.lock().unwrap_or_else(|e| e.into_inner()).get(&name.to_ascii_lowercase()).copied()
    }
}
