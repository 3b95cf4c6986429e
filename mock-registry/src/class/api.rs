//! The class's JSON API: students' routes (`/class/api/join`, `/class/api/me...`, bearer of their
//! student secret) and the instructor's (`/class/api/state`, students, faults).

use axum::Router;

use crate::Lab;

pub(super) fn routes() -> Router<Lab> {
    Router::new()
}
