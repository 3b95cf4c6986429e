//! The web console under `/console/`: server-rendered pages that look and act like the ECR console
//! pages the guide walks through, signed in as the lab's default principal on loopback and as the
//! key signed in with (`sign_in.rs`) from another machine. Every write is checked first
//! (`session.rs`): same origin, and the form token of the browser's session. Pages read the state and
//! write through the API's own conversions and the state's rules; they hold no rules of their own.
//! Every page works without script; `assets/console.js` adds copying, checks as you type, the push
//! commands dialog and live updates. Nothing is fetched from outside the mock. Pages are [`maud`]
//! templates (`html!`), so every value on them is escaped by construction; `html.rs` holds the
//! shared pieces (times, sizes, settings, copy buttons).

mod assets;
mod create;
mod delete;
mod form;
mod html;
mod image;
mod layout;
mod live;
mod log;
mod permissions;
mod push_commands;
mod registry_settings;
mod repositories;
mod repository;
mod session;
mod settings;
mod sign_in;

use axum::Router;
use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::get;

use crate::Lab;
use crate::ecr_api::EcrError;
use crate::sigv4::AuthError;
use crate::state::{Caller, DEFAULT_ACCESS_KEY_ID, DEFAULT_REGION, RegistryKey, Repository, State};
use crate::types::{Region, RepositoryName};

use form::{FormData, encode};
use layout::Page;

pub fn router(lab: Lab) -> Router<Lab> {
    Router::new()
        .route("/console", get(home))
        .route("/console/", get(home))
        .route("/console/repositories", get(repositories::page))
        .route("/console/repositories/", get(home))
        .route("/console/repositories.json", get(live::repositories))
        .route("/console/create-repository", get(create::page).post(create::submit))
        .route("/console/private-registry", get(registry_settings::page))
        .route("/console/repositories/{*rest}", get(repository::get).post(repository::post))
        .route("/console/assets/{file}", get(assets::serve))
        .route("/console/sign-in", get(sign_in::page).post(sign_in::submit))
        // Inside the guard: a refused write is no action, and the session is known.
        .layer(axum::middleware::from_fn_with_state(lab, log::record))
        .layer(axum::middleware::from_fn(session::guard))
}

async fn home(ctx: Ctx) -> Redirect {
    Redirect::to(&ctx.href("/console/repositories"))
}

/// One console request: the region it is about, who the console acts as, and where the browser
/// reached this mock.
struct Ctx {
    region: Region,
    registry: RegistryKey,
    /// The console acts as this principal, or (its key revoked) gets the error ECR would give.
    principal: Result<Caller, EcrError>,
    /// The IAM user name shown as signed in.
    user: String,
    /// `Host` as the browser sent it: the registry address of this mock (`127.0.0.1:PORT`).
    host: String,
    /// The path requested, for the region switcher.
    path: String,
    query: FormData,
    /// A `?region=` that is not a region.
    region_error: Option<String>,
    /// The token every form carries in its hidden `csrf` field (bound to the session cookie).
    csrf: String,
}

impl FromRequestParts<Lab> for Ctx {
    /// Off loopback without a sign-in: to the sign-in page.
    type Rejection = Response;

    async fn from_request_parts(parts: &mut Parts, lab: &Lab) -> Result<Self, Self::Rejection> {
        let session = parts.extensions.get::<session::Session>().map(|s| s.0.clone()).unwrap_or_default();
        // In class mode every browser signs in, on loopback too: the console acts as a student's key.
        let key_id = if session::is_local(&parts.extensions) && lab.class().is_none() {
            DEFAULT_ACCESS_KEY_ID.to_owned()
        } else {
            session::signed_in(&parts.headers, &session).ok_or_else(|| see_other("/console/sign-in"))?
        };
        let query = FormData::parse(parts.uri.query().unwrap_or_default());
        let default = Region::parse(DEFAULT_REGION).expect("the default region parses");
        let (region, region_error) = match query.get("region").filter(|r| !r.is_empty()) {
            None => (default, None),
            Some(text) => match Region::parse(text) {
                Ok(region) => (region, None),
                Err(e) => (default, Some(e.0)),
            },
        };
        let host = parts.headers.get(header::HOST).and_then(|h| h.to_str().ok()).unwrap_or("127.0.0.1:5000").to_owned();
        let (principal, user) = lab.read(|state| principal(state, &region, &key_id));
        let registry = match &principal {
            Ok(caller) => RegistryKey::new(caller.account.clone(), region.clone()),
            Err(_) => RegistryKey::new(crate::oci_api::default_registry().account, region.clone()),
        };
        let csrf = session::token(&session);
        let path = parts.uri.path().to_owned();
        Ok(Ctx { region, registry, principal, user, host, path, query, region_error, csrf })
    }
}

/// The principal of `access_key_id` (the lab's default learner on loopback, the signed-in key off
/// it) in `region`, checked as a signed API call would be: a revoked key is unknown to the service,
/// expired temporary credentials are expired.
fn principal(state: &State, region: &Region, access_key_id: &str) -> (Result<Caller, EcrError>, String) {
    let Some(key) = state.key(access_key_id) else {
        return (Err(AuthError::UnknownKey.into()), "unknown".into());
    };
    let user = key.user_name.clone();
    if key.revoked {
        return (Err(AuthError::UnknownKey.into()), user);
    }
    if key.expires_at.is_some_and(|at| state.now_for(&key.account) >= at) {
        return (Err(AuthError::ExpiredToken.into()), user);
    }
    let caller = key.caller(region.clone());
    (Ok(caller), user)
}

impl Ctx {
    /// `path?region=REGION`.
    fn href(&self, path: &str) -> String {
        format!("{path}?region={}", encode(self.region.as_str()))
    }

    /// `path?region=REGION&name=value...`.
    fn href_with(&self, path: &str, params: &[(&str, &str)]) -> String {
        let mut href = self.href(path);
        for (name, value) in params {
            href.push_str(&format!("&{name}={}", encode(value)));
        }
        href
    }

    /// A repository's page, or one of its sub-pages (`edit`, `image/DIGEST`, ...).
    fn repository_path(name: &RepositoryName, sub: &str) -> String {
        match sub {
            "" => format!("/console/repositories/{name}"),
            sub => format!("/console/repositories/{name}/_/{sub}"),
        }
    }

    fn repository_href(&self, name: &RepositoryName, sub: &str) -> String {
        self.href(&Self::repository_path(name, sub))
    }
}

/// An HTML response with headers that keep the page to this mock (no outside requests, no framing).
fn html_response(status: StatusCode, body: maud::Markup) -> Response {
    let mut response = (status, body.into_string()).into_response();
    let headers = response.headers_mut();
    headers.insert(header::CONTENT_TYPE, HeaderValue::from_static("text/html; charset=utf-8"));
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    headers.insert(header::HeaderName::from_static("content-security-policy"), HeaderValue::from_static(CSP));
    response
}

/// Only this mock's own script and styles; no inline script, no outside connections.
const CSP: &str = "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; \
                   connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'";

/// The breadcrumbs down to a repository.
fn repository_crumbs(page: Page, ctx: &Ctx, name: &RepositoryName, current: Option<&str>) -> Page {
    let page = page.crumb("Private repositories", Some(ctx.href("/console/repositories")));
    match current {
        None => page.crumb(name.as_str(), None),
        Some(label) => page.crumb(name.as_str(), Some(ctx.repository_href(name, ""))).crumb(label, None),
    }
}

/// Renders `page` for the repository, or ECR's RepositoryNotFound banner.
fn with_repository(
    lab: &Lab,
    ctx: &Ctx,
    name: &RepositoryName,
    page: impl FnOnce(&Ctx, &Repository) -> Response,
) -> Response {
    let repository = lab.read(|state| state.repository(&ctx.registry, name).cloned());
    match repository {
        Ok(repository) => page(ctx, &repository),
        Err(error) => Page::error(name.as_str(), ctx, &error.into()).crumb(name.as_str(), None).render(ctx),
    }
}

/// POST-redirect-GET: `303 See Other` to `href`.
fn see_other(href: &str) -> Response {
    Redirect::to(href).into_response()
}
