//! The class's JSON API. Students' routes: `POST /class/api/join` (no credentials), and
//! `/class/api/me...` with `Authorization: Bearer <studentSecret>`. The instructor's routes
//! (`/class/api/state`, `/class/api/students/...`, `/class/api/faults`) with the instructor token
//! or the dashboard's cookie and CSRF header (`auth`). All JSON is camelCase; every refusal is
//! `{"error": "..."}` with a 4xx status and a text that says what to do next.

use std::net::{IpAddr, Ipv4Addr, SocketAddr};

use axum::extract::{ConnectInfo, FromRequest, Path, Query, Request, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::{delete, get, post};
use axum::{Extension, Json, Router};
use serde::{Deserialize, Serialize};

use super::view;
use crate::Lab;
use crate::clock::iso_seconds;
use crate::lab::LabError;
use crate::request_log::LoggedRequest;
use crate::state::class::{ClassRefusal, Joined, MAX_DETAIL, ProgressEvent, ProgressKind, Student};
use crate::types::Millis;

pub(super) fn routes(lab: Lab) -> Router<Lab> {
    let instructor = Router::new()
        .route("/class/api/state", get(view::state))
        .route("/class/api/students/{name}", get(view::student).delete(remove))
        .route("/class/api/students/{name}/reset", post(reset))
        .route("/class/api/students/{name}/remove", post(remove))
        .route("/class/api/faults", post(super::faults::apply))
        .layer(middleware::from_fn_with_state(lab, instructor_only));
    Router::new()
        .route("/class/ca.pem", get(ca_pem))
        .route("/class/api/join", post(join))
        .route("/class/api/me", get(me))
        .route("/class/api/me/progress", post(progress))
        .route("/class/api/me/requests", get(my_requests))
        .route("/class/api/me/clock", get(my_clock))
        .route("/class/api/me/clock/advance", post(advance_my_clock))
        .merge(instructor)
        .route("/class/api", delete(not_here).get(not_here))
}

/// The class CA (only with `--tls`; public: it is what students' docker engines are told to trust).
async fn ca_pem(State(lab): State<Lab>) -> Response {
    match lab.class_runtime().ca_pem() {
        Some(pem) => ([(header::CONTENT_TYPE, "application/x-pem-file")], pem).into_response(),
        None => error(
            StatusCode::NOT_FOUND,
            "this class is served without TLS, so there is no class CA; start it with `ecr-lab class serve --tls` to have one",
        ),
    }
}

async fn not_here() -> Response {
    error(StatusCode::NOT_FOUND, "see /class/ for the dashboard; the API is under /class/api/...")
}

/// `{"error": message}` with `status`.
pub(crate) fn error(status: StatusCode, message: impl Into<String>) -> Response {
    (status, Json(serde_json::json!({ "error": message.into() }))).into_response()
}

/// A refusal not yet made a response (small, for functions that return `Result`).
pub(crate) struct ApiError(pub StatusCode, pub String);

impl From<ApiError> for Response {
    fn from(e: ApiError) -> Self {
        error(e.0, e.1)
    }
}

pub(crate) fn refusal(refusal: ClassRefusal) -> Response {
    error(StatusCode::from_u16(refusal.status).unwrap_or(StatusCode::BAD_REQUEST), refusal.message)
}

pub(crate) fn lab_error(e: LabError) -> Response {
    let status = match e {
        LabError::State(_) => StatusCode::BAD_REQUEST,
        LabError::Storage(_) => StatusCode::INTERNAL_SERVER_ERROR,
    };
    error(status, e.to_string())
}

/// Runs a roster change: its refusal, a refusal of the journal, or what it returned.
pub(crate) async fn roster_write<T>(
    lab: &Lab,
    f: impl FnOnce(&mut crate::State) -> Result<T, ClassRefusal>,
) -> Result<T, Response> {
    match lab.write(|s| Ok(f(s))).await {
        Ok(Ok(value)) => Ok(value),
        Ok(Err(r)) => Err(refusal(r)),
        Err(e) => Err(lab_error(e)),
    }
}

/// A JSON body (`Content-Type: application/json` required), or the class API's own 4xx.
pub(crate) struct Body<T>(pub T);

impl<T: serde::de::DeserializeOwned, S: Send + Sync> FromRequest<S> for Body<T> {
    type Rejection = Response;

    async fn from_request(request: Request, state: &S) -> Result<Self, Self::Rejection> {
        match Json::<T>::from_request(request, state).await {
            Ok(Json(value)) => Ok(Self(value)),
            Err(rejection) => Err(error(
                rejection.status(),
                format!(
                    "refused: send Content-Type: application/json and a JSON body of the shape this call takes ({}); nothing was changed",
                    rejection.body_text()
                ),
            )),
        }
    }
}

async fn instructor_only(State(lab): State<Lab>, request: Request, next: Next) -> Response {
    if !super::auth::is_instructor(&lab, request.headers(), request.method()) {
        return error(
            StatusCode::UNAUTHORIZED,
            "this needs the instructor token (Authorization: Bearer TOKEN; `ecr-lab class serve` printed it and wrote it \
             to the class data dir), or the dashboard's sign-in at /class/ (a write from the page also sends its \
             X-CSRF-Token header); nothing was read or changed",
        );
    }
    next.run(request).await
}

/// What join and reset hand out: the only answers that carry the secrets.
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct JoinOut {
    class_name: String,
    name: String,
    account: String,
    region: String,
    access_key_id: String,
    secret_access_key: String,
    student_secret: String,
    registry: String,
    resumed: bool,
}

impl JoinOut {
    pub(crate) fn new(lab: &Lab, joined: Joined) -> Self {
        let student = &joined.student;
        Self {
            class_name: lab.class().map(|c| c.name.clone()).unwrap_or_default(),
            name: student.name.clone(),
            account: student.account.to_string(),
            region: student.region.to_string(),
            access_key_id: joined.key.access_key_id.clone(),
            secret_access_key: joined.key.secret_access_key.clone(),
            student_secret: joined.student_secret,
            registry: registry_host(student),
            resumed: joined.resumed,
        }
    }
}

fn registry_host(student: &Student) -> String {
    format!("{}.dkr.ecr.{}.amazonaws.com", student.account, student.region)
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct JoinIn {
    name: String,
    #[serde(default)]
    secret: Option<String>,
}

fn peer(request_peer: Option<Extension<ConnectInfo<SocketAddr>>>) -> IpAddr {
    request_peer.map_or(IpAddr::V4(Ipv4Addr::LOCALHOST), |c| c.0.0.ip().to_canonical())
}

async fn join(
    State(lab): State<Lab>,
    connect: Option<Extension<ConnectInfo<SocketAddr>>>,
    Body(request): Body<JoinIn>,
) -> Response {
    if let Err(wait) = lab.class_runtime().take_join(peer(connect)) {
        let mut response = error(
            StatusCode::TOO_MANY_REQUESTS,
            format!("too many joins from this address; wait {wait}s and run join again"),
        );
        if let Ok(value) = HeaderValue::from_str(&wait.to_string()) {
            response.headers_mut().insert(header::RETRY_AFTER, value);
        }
        return response;
    }
    let secret = request.secret.filter(|s| !s.is_empty());
    match roster_write(&lab, |s| s.join_class(&request.name, secret.as_deref())).await {
        Ok(joined) => {
            let status = if joined.resumed { StatusCode::OK } else { StatusCode::CREATED };
            let now = lab.read(|s| s.now());
            lab.class_runtime().seen(&joined.student.name, now);
            (status, Json(JoinOut::new(&lab, joined))).into_response()
        }
        Err(response) => response,
    }
}

/// The student whose secret the request bears, noted as seen now.
pub(crate) fn student_of(lab: &Lab, headers: &HeaderMap) -> Result<Student, ApiError> {
    let student = super::auth::bearer(headers).and_then(|secret| lab.read(|s| s.roster().by_secret(secret).cloned()));
    match student {
        Some(student) => {
            lab.class_runtime().seen(&student.name, lab.read(|s| s.now()));
            Ok(student)
        }
        None => Err(ApiError(
            StatusCode::UNAUTHORIZED,
            "this needs your student secret (Authorization: Bearer SECRET), which `ecr-lab join` stored on the machine \
             you joined from; join again from there, or ask the instructor to reset you"
                .into(),
        )),
    }
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct MeOut {
    class_name: String,
    name: String,
    account: String,
    region: String,
    access_key_id: String,
    registry: String,
    progress: view::StudentEntry,
}

async fn me(State(lab): State<Lab>, headers: HeaderMap) -> Result<Json<MeOut>, Response> {
    let student = student_of(&lab, &headers)?;
    let class = lab.class();
    let entry = view::entry(&lab, &student, class.as_deref());
    Ok(Json(MeOut {
        class_name: class.map(|c| c.name.clone()).unwrap_or_default(),
        name: student.name.clone(),
        account: student.account.to_string(),
        region: student.region.to_string(),
        access_key_id: student.access_key_id.clone(),
        registry: registry_host(&student),
        progress: entry,
    }))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ProgressIn {
    lesson: String,
    stage: u32,
    event: ProgressKind,
    #[serde(default)]
    detail: Option<String>,
}

async fn progress(State(lab): State<Lab>, headers: HeaderMap, Body(request): Body<ProgressIn>) -> Response {
    let student = match student_of(&lab, &headers) {
        Ok(student) => student,
        Err(e) => return e.into(),
    };
    let course = lab.class().map(|c| c.course.clone()).unwrap_or_default();
    let Some(lesson) = course.iter().find(|l| l.id == request.lesson) else {
        let ids: Vec<&str> = course.iter().map(|l| l.id.as_str()).collect();
        return error(
            StatusCode::BAD_REQUEST,
            format!(
                "there is no lesson '{}' in this class's course; the lessons are: {}",
                request.lesson,
                ids.join(", ")
            ),
        );
    };
    if request.stage as usize >= lesson.stages.len() {
        return error(
            StatusCode::BAD_REQUEST,
            format!(
                "lesson '{}' has stages 0 to {} (0-based); stage {} is not one of them",
                lesson.id,
                lesson.stages.len().saturating_sub(1),
                request.stage
            ),
        );
    }
    if request.detail.as_ref().is_some_and(|d| d.chars().count() > MAX_DETAIL) {
        return error(
            StatusCode::BAD_REQUEST,
            format!("detail is at most {MAX_DETAIL} characters; send a shorter one"),
        );
    }
    let event = ProgressEvent {
        at: Millis(0),
        lesson: request.lesson,
        stage: request.stage,
        event: request.event,
        detail: request.detail,
    };
    match roster_write(&lab, |s| s.record_progress(&student.name, event)).await {
        Ok(()) => StatusCode::NO_CONTENT.into_response(),
        Err(response) => response,
    }
}

#[derive(Deserialize)]
struct SinceQuery {
    since: Option<u64>,
}

async fn my_requests(
    State(lab): State<Lab>,
    headers: HeaderMap,
    Query(query): Query<SinceQuery>,
) -> Result<Json<Vec<LoggedRequest>>, Response> {
    let student = student_of(&lab, &headers)?;
    Ok(Json(lab.log().of_account(student.account.as_str(), query.since.unwrap_or(0))))
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct ClockOut {
    /// RFC 3339.
    now: String,
    /// Epoch seconds.
    seconds: f64,
    /// How far this account's clock is ahead of the class clock.
    offset_seconds: i64,
}

fn clock_of(lab: &Lab, student: &Student) -> ClockOut {
    lab.read(|s| {
        let now = s.now_for(&student.account);
        ClockOut {
            now: iso_seconds(now),
            seconds: now.epoch_seconds(),
            offset_seconds: s.roster().clock_offset(&student.account),
        }
    })
}

async fn my_clock(State(lab): State<Lab>, headers: HeaderMap) -> Result<Json<ClockOut>, Response> {
    let student = student_of(&lab, &headers)?;
    Ok(Json(clock_of(&lab, &student)))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct AdvanceIn {
    /// `13h`, `30d`, `90m`, `45s`, `1h30m` or seconds (`by` is taken too, as `/_lab/clock/advance` names it).
    #[serde(alias = "by")]
    duration: String,
}

async fn advance_my_clock(
    State(lab): State<Lab>,
    headers: HeaderMap,
    Body(request): Body<AdvanceIn>,
) -> Result<Json<ClockOut>, Response> {
    let student = student_of(&lab, &headers)?;
    let seconds = crate::control::parse_duration(&request.duration).map_err(|e| error(StatusCode::BAD_REQUEST, e))?;
    roster_write(&lab, |s| s.advance_account_clock(&student.account, seconds)).await?;
    Ok(Json(clock_of(&lab, &student)))
}

async fn reset(State(lab): State<Lab>, Path(name): Path<String>) -> Response {
    match roster_write(&lab, |s| s.reset_student(&name)).await {
        Ok(joined) => Json(JoinOut::new(&lab, joined)).into_response(),
        Err(response) => response,
    }
}

async fn remove(State(lab): State<Lab>, Path(name): Path<String>) -> Response {
    match roster_write(&lab, |s| s.remove_student(&name)).await {
        Ok(student) => Json(serde_json::json!({
            "removed": student.name,
            "account": student.account.to_string(),
        }))
        .into_response(),
        Err(response) => response,
    }
}
