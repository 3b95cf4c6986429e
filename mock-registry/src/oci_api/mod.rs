//! The registry: Docker Registry HTTP API v2 / OCI distribution under `/v2/`, with ECR's auth and
//! errors. Laid out by resource, as distribution's `registry/handlers` is: `route` finds what a
//! path names, this module authorizes and dispatches, and `manifests`, `blobs`, `uploads` and
//! `listing` each answer for one resource. A handler parses, calls the state or the blob store
//! once, and answers with the spec's headers.

mod auth;
mod blobs;
pub(crate) mod error;
mod listing;
mod manifests;
mod route;
mod uploads;

use axum::Router;
use axum::body::Body;
use axum::extract::State;
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode, Uri, header};
use axum::response::{IntoResponse, Response};
use axum::routing::any;

pub use auth::default_registry;
use error::{OciCode, OciError};
use route::Route;

use crate::Lab;
use crate::state::RegistryKey;

const DIGEST_HEADER: &str = "docker-content-digest";

pub(crate) fn router() -> Router<Lab> {
    Router::new()
        .route("/v2", any(entry))
        .route("/v2/", any(entry))
        .route("/v2/{*rest}", any(entry))
        .route("/_download/{*rest}", axum::routing::get(blobs::download))
}

async fn entry(State(lab): State<Lab>, method: Method, uri: Uri, headers: HeaderMap, body: Body) -> Response {
    let registry = auth::registry_for_request(&lab, &headers);
    let mut response = match handle(&lab, &method, &uri, &headers, body).await {
        Ok(response) => response,
        Err(error) => error.into_response(),
    };
    crate::request_log::note_account(&mut response, registry.account.as_str());
    response.headers_mut().insert("docker-distribution-api-version", HeaderValue::from_static("registry/2.0"));
    response
}

/// One authorized request to a registry: what every resource's handler needs.
struct Call<'a> {
    lab: &'a Lab,
    registry: RegistryKey,
    headers: &'a HeaderMap,
    query: &'a str,
}

async fn handle(lab: &Lab, method: &Method, uri: &Uri, headers: &HeaderMap, body: Body) -> Result<Response, OciError> {
    let registry = auth::registry_for_request(lab, headers);
    let access_key_id = auth::authorize(lab, headers, &registry)?;
    let route = Route::parse(uri.path())?;
    // One answer for this request: whether the key's calls are evaluated here.
    let evaluated = lab.read(|s| s.evaluated(&access_key_id, &registry.account));
    if evaluated && let Some((action, repository)) = iam_action(method, &route) {
        lab.read(|s| s.authorize(&access_key_id, action, &registry, repository))
            .map_err(|denial| OciError::new(OciCode::Denied, denial))?;
    }
    if let (&Method::POST, Route::UploadStart(name)) | (&Method::PUT, Route::Manifest(name, _)) = (method, &route) {
        create_on_push(lab, evaluated.then_some(access_key_id.as_str()), &registry, name).await?;
    }
    let call = Call { lab, registry, headers, query: uri.query().unwrap_or("") };
    let head = *method == Method::HEAD;
    match (method.clone(), route) {
        (Method::GET | Method::HEAD, Route::Ping) => Ok(json_response(StatusCode::OK, "{}".into(), head)),
        (Method::GET, Route::Catalog) => call.catalog(),
        (Method::GET, Route::Tags(name)) => call.tags(&name),
        (Method::GET | Method::HEAD, Route::Manifest(name, reference)) => {
            let caller = evaluated.then_some(access_key_id.as_str());
            crate::pull_through::fetch(lab, &call.registry, &name, &reference, caller).await?;
            call.get_manifest(&name, &reference, head)
        }
        (Method::PUT, Route::Manifest(name, reference)) => call.put_manifest(&name, &reference, body).await,
        (Method::DELETE, Route::Manifest(name, reference)) => call.delete_manifest(&name, &reference).await,
        (Method::GET | Method::HEAD, Route::Blob(name, digest)) => call.get_blob(&name, &digest, head).await,
        (Method::DELETE, Route::Blob(name, digest)) => call.delete_blob(&name, &digest).await,
        (Method::POST, Route::UploadStart(name)) => call.start_upload(&name, body).await,
        (Method::PATCH, Route::Upload(name, id)) => call.patch_upload(&name, &id, body).await,
        (Method::PUT, Route::Upload(name, id)) => call.finish_upload(&name, &id, body).await,
        (Method::GET, Route::Upload(name, id)) => call.upload_status(&name, &id),
        (Method::DELETE, Route::Upload(name, id)) => call.cancel_upload(&name, &id).await,
        (Method::GET, Route::Referrers(name, digest)) => call.referrers(&name, &digest),
        (method, route) => Err(OciError::new(OciCode::Unsupported, format!("{method} is not supported on {route:?}"))),
    }
}

/// Create on push: a push to a repository that does not exist creates it when a repository
/// creation template applied for CREATE_ON_PUSH covers its name, and the pusher may
/// `ecr:CreateRepository` (`evaluated_key`: the pusher's key when its calls are evaluated). No
/// template exists by default, so a push to a missing repository fails as ECR's does until one is
/// created.
async fn create_on_push(
    lab: &Lab,
    evaluated_key: Option<&str>,
    registry: &RegistryKey,
    name: &crate::types::RepositoryName,
) -> Result<(), OciError> {
    use crate::state::templates::AppliedFor;
    let applies = |s: &crate::state::State| {
        s.repository(registry, name).is_err()
            && s.creation_template_for(registry, name, AppliedFor::CreateOnPush).is_some()
    };
    if !lab.read(applies) {
        return Ok(());
    }
    if let Some(access_key_id) = evaluated_key {
        lab.read(|s| s.authorize(access_key_id, "ecr:CreateRepository", registry, Some(name.as_str())))
            .map_err(|denial| OciError::new(OciCode::Denied, denial))?;
    }
    lab.write(|s| {
        if !applies(s) {
            return Ok(());
        }
        s.apply_creation_template(registry, name, AppliedFor::CreateOnPush).map(|_| ())
    })
    .await?;
    Ok(())
}

/// The IAM action a registry request is, as ECR maps it (the repository, if the route names one).
fn iam_action<'r>(method: &Method, route: &'r Route) -> Option<(&'static str, Option<&'r str>)> {
    let (action, name) = match (method.clone(), route) {
        (_, Route::Ping) => return None,
        (_, Route::Catalog) => return Some(("ecr:DescribeRepositories", Some("*"))),
        (_, Route::Tags(name)) => ("ecr:ListImages", name),
        (Method::PUT, Route::Manifest(name, _)) => ("ecr:PutImage", name),
        (Method::DELETE, Route::Manifest(name, _) | Route::Blob(name, _)) => ("ecr:BatchDeleteImage", name),
        (_, Route::Manifest(name, _) | Route::Referrers(name, _)) => ("ecr:BatchGetImage", name),
        (Method::HEAD, Route::Blob(name, _)) => ("ecr:BatchCheckLayerAvailability", name),
        (_, Route::Blob(name, _)) => ("ecr:GetDownloadUrlForLayer", name),
        (Method::PATCH, Route::Upload(name, _)) => ("ecr:UploadLayerPart", name),
        (Method::PUT, Route::Upload(name, _)) => ("ecr:CompleteLayerUpload", name),
        (_, Route::UploadStart(name) | Route::Upload(name, _)) => ("ecr:InitiateLayerUpload", name),
    };
    Some((action, Some(name.as_str())))
}

fn json_response(status: StatusCode, body: String, head: bool) -> Response {
    let length = body.len();
    let mut response =
        (status, [(header::CONTENT_TYPE, "application/json; charset=utf-8")], if head { String::new() } else { body })
            .into_response();
    response.headers_mut().insert(header::CONTENT_LENGTH, HeaderValue::from(length));
    response
}

fn empty(status: StatusCode) -> Response {
    let mut response = status.into_response();
    response.headers_mut().insert(header::CONTENT_LENGTH, HeaderValue::from(0));
    response
}

/// One query parameter, percent-decoded.
pub(crate) fn query_param(query: &str, name: &str) -> Option<String> {
    query.split('&').find_map(|pair| {
        let (k, v) = pair.split_once('=').unwrap_or((pair, ""));
        (k == name).then(|| percent_encoding::percent_decode_str(&v.replace('+', " ")).decode_utf8_lossy().into_owned())
    })
}
