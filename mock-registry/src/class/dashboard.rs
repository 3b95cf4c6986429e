//! The instructor's live dashboard at `/class/`. Without the dashboard cookie it is a sign-in page:
//! the instructor token goes in a form posted to `/class/login` (never in a URL), which sets the
//! `ecrlab_class` cookie (HttpOnly, SameSite=Strict, Path=/class) and sends the browser back to
//! `/class/`. Signed in, the page is a shell that `assets/dashboard.js` fills from
//! `/class/api/state` every 1.5 s (cookie auth; writes carry the CSRF token this page embeds).
//! The sign-in and sign-out forms are refused when a browser says they come from another site
//! (`Origin`, `Sec-Fetch-Site`), as the console's forms are. Nothing is fetched from outside the
//! mock: the style and script are built into the binary.

use axum::Router;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use maud::{DOCTYPE, Markup, html};
use percent_encoding::percent_decode_str;

use super::auth;
use crate::Lab;

const STYLE: &str = include_str!("assets/dashboard.css");
const SCRIPT: &str = include_str!("assets/dashboard.js");

/// The sign-in form's field.
const TOKEN_FIELD: &str = "token";

const WRONG_TOKEN: &str = "That is not this class's instructor token, so you are not signed in. Copy the token \
                           again from the terminal where `ecr-lab class serve` runs (it printed it at start, and \
                           wrote it to the class data directory), paste it here and sign in again.";
const NO_TOKEN: &str = "Paste the instructor token that `ecr-lab class serve` printed when it started, then sign in.";

/// Only this mock's own script and styles; no inline script, no outside connections.
const CSP: &str = "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; \
                   connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'";

pub(super) fn routes() -> Router<Lab> {
    Router::new()
        .route("/class", get(|| async { Redirect::to("/class/") }))
        .route("/class/", get(home))
        .route("/class/login", post(login).get(|| async { Redirect::to("/class/") }))
        .route("/class/logout", post(logout).get(|| async { Redirect::to("/class/") }))
        .route("/class/assets/{file}", get(asset))
}

fn signed_in(lab: &Lab, headers: &HeaderMap) -> bool {
    auth::cookie(headers, auth::COOKIE).is_some_and(|value| auth::same(value, &auth::dashboard_cookie_value(lab)))
}

async fn home(State(lab): State<Lab>, headers: HeaderMap) -> Response {
    if !signed_in(&lab, &headers) {
        return html_response(StatusCode::OK, sign_in_page(None));
    }
    let name = lab.class().map(|class| class.name.clone()).unwrap_or_default();
    html_response(StatusCode::OK, dashboard_page(&name, &auth::csrf_token(&lab)))
}

async fn login(State(lab): State<Lab>, headers: HeaderMap, body: String) -> Response {
    if let Some(refusal) = cross_site(&headers) {
        return refusal;
    }
    let token = form_value(&body, TOKEN_FIELD).unwrap_or_default();
    let token = token.trim();
    if token.is_empty() {
        return html_response(StatusCode::UNAUTHORIZED, sign_in_page(Some(NO_TOKEN)));
    }
    if !auth::same(token, &lab.instructor_token()) {
        return html_response(StatusCode::UNAUTHORIZED, sign_in_page(Some(WRONG_TOKEN)));
    }
    // A page served over HTTPS (`class serve --tls`) sends an https Origin: its cookie stays on HTTPS.
    let secure = if over_https(&headers) { "; Secure" } else { "" };
    let value = auth::dashboard_cookie_value(&lab);
    let cookie = format!("{}={value}; Path=/class; HttpOnly; SameSite=Strict{secure}", auth::COOKIE);
    with_cookie(Redirect::to("/class/").into_response(), &cookie)
}

async fn logout(headers: HeaderMap) -> Response {
    if let Some(refusal) = cross_site(&headers) {
        return refusal;
    }
    let cookie = format!("{}=; Path=/class; HttpOnly; SameSite=Strict; Max-Age=0", auth::COOKIE);
    with_cookie(Redirect::to("/class/").into_response(), &cookie)
}

fn over_https(headers: &HeaderMap) -> bool {
    headers.get(header::ORIGIN).is_some_and(|origin| origin.as_bytes().starts_with(b"https://"))
}

fn with_cookie(mut response: Response, cookie: &str) -> Response {
    if let Ok(value) = HeaderValue::from_str(cookie) {
        response.headers_mut().append(header::SET_COOKIE, value);
    }
    response
}

/// The first value of `name` in an `application/x-www-form-urlencoded` body.
fn form_value(body: &str, name: &str) -> Option<String> {
    let decode = |part: &str| percent_decode_str(&part.replace('+', " ")).decode_utf8_lossy().into_owned();
    body.split('&').filter_map(|pair| pair.split_once('=')).find(|(n, _)| decode(n) == name).map(|(_, v)| decode(v))
}

/// The refusal of a form a browser says was sent from another site: an `Origin` other than this
/// host, or a `Sec-Fetch-Site` other than `same-origin`/`none`. Clients that are no browser send
/// neither and are let through (the token is still checked).
fn cross_site(headers: &HeaderMap) -> Option<Response> {
    let host = headers.get(header::HOST).and_then(|h| h.to_str().ok()).unwrap_or_default();
    let origin = headers.get(header::ORIGIN).map(|o| String::from_utf8_lossy(o.as_bytes()).into_owned());
    let fetch_site = headers.get("sec-fetch-site").map(|s| String::from_utf8_lossy(s.as_bytes()).into_owned());
    let same_origin = origin.as_deref().is_none_or(|o| o == format!("http://{host}") || o == format!("https://{host}"));
    let same_site = fetch_site.as_deref().is_none_or(|s| s == "same-origin" || s == "none");
    if same_origin && same_site {
        return None;
    }
    let from = origin.or(fetch_site.map(|s| format!("Sec-Fetch-Site: {s}"))).unwrap_or_default();
    let text = format!(
        "Refused: this form was sent from another site ({from}), not from the class dashboard, so nothing was \
         done. Open the dashboard at http://{host}/class/ yourself and use the form there."
    );
    Some(html_response(
        StatusCode::FORBIDDEN,
        shell("Refused", html! { main class="sign-in panel" { h1 { "Refused" } p { (text) } } }),
    ))
}

async fn asset(Path(file): Path<String>) -> Response {
    let (body, kind) = match file.as_str() {
        "dashboard.css" => (STYLE, "text/css; charset=utf-8"),
        "dashboard.js" => (SCRIPT, "text/javascript; charset=utf-8"),
        _ => return (StatusCode::NOT_FOUND, "no such dashboard asset\n").into_response(),
    };
    let mut response = body.into_response();
    response.headers_mut().insert(header::CONTENT_TYPE, HeaderValue::from_static(kind));
    // Revalidated each time, so a rebuilt lab never serves yesterday's script.
    response.headers_mut().insert(header::CACHE_CONTROL, HeaderValue::from_static("no-cache"));
    response
}

/// An HTML response with headers that keep the page to this mock (no outside requests, no framing).
fn html_response(status: StatusCode, body: Markup) -> Response {
    let mut response = (status, body.into_string()).into_response();
    let headers = response.headers_mut();
    headers.insert(header::CONTENT_TYPE, HeaderValue::from_static("text/html; charset=utf-8"));
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    headers.insert(header::HeaderName::from_static("content-security-policy"), HeaderValue::from_static(CSP));
    headers.insert(header::HeaderName::from_static("referrer-policy"), HeaderValue::from_static("same-origin"));
    response
}

/// The document around a page's body.
fn shell(title: &str, body: Markup) -> Markup {
    html! {
        (DOCTYPE)
        html lang="en" {
            head {
                meta charset="utf-8";
                meta name="viewport" content="width=device-width, initial-scale=1";
                title { (title) " - ecr-lab class dashboard" }
                link rel="stylesheet" href="/class/assets/dashboard.css";
            }
            body { (body) }
        }
    }
}

fn sign_in_page(error: Option<&str>) -> Markup {
    shell(
        "Sign in",
        html! {
            main class="sign-in panel" {
                h1 { "Class dashboard: sign in" }
                p { "The dashboard is for the instructor. Sign in with the instructor token that "
                    code { "ecr-lab class serve" } " printed when it started." }
                @if let Some(error) = error { p class="flash" role="alert" { (error) } }
                form method="post" action="/class/login" {
                    label for="token" { "Instructor token" }
                    input id="token" name=(TOKEN_FIELD) type="password" autocomplete="current-password"
                        spellcheck="false" required autofocus;
                    div { button type="submit" class="primary" { "Sign in" } }
                }
                p class="muted" { "This browser stays signed in (a cookie for this dashboard only) until you sign out." }
            }
        },
    )
}

fn dashboard_page(class_name: &str, csrf: &str) -> Markup {
    let body = html! {
        header class="top" {
            span class="brand" { span class="brand-mark" { "ecr-lab" } " class" }
            h1 id="class-name" { (class_name) }
            span id="live" class="live" { "Connecting…" }
            div class="top-actions" {
                button id="large" type="button" aria-pressed="false" { "Large type" }
                form method="post" action="/class/logout" { button type="submit" { "Sign out" } }
            }
        }
        div id="offline" class="banner" role="alert" hidden {}
        main {
            (filters())
            div class="layout" {
                section class="panel grid-panel" aria-labelledby="grid-heading" {
                    h2 id="grid-heading" { "Students and stages" }
                    (legend())
                    div class="grid-wrap" { table id="grid" class="grid" {} }
                    p id="grid-empty" class="empty muted" hidden {}
                }
                section class="panel stuck-panel" aria-labelledby="stuck-heading" {
                    h2 id="stuck-heading" { "Stuck" }
                    ol id="stuck-list" class="stuck-list" {}
                    p id="stuck-empty" class="muted" { "Nobody is stuck." }
                }
                (fault_form())
                (detail_pane())
            }
        }
        script src="/class/assets/dashboard.js" defer {}
    };
    html! {
        (DOCTYPE)
        html lang="en" {
            head {
                meta charset="utf-8";
                meta name="viewport" content="width=device-width, initial-scale=1";
                meta name="csrf-token" content=(csrf);
                title { (class_name) " - ecr-lab class dashboard" }
                link rel="stylesheet" href="/class/assets/dashboard.css";
            }
            body { (body) }
        }
    }
}

fn filters() -> Markup {
    html! {
        form id="filters" class="filters" role="search" aria-label="Filter students" {
            div class="filter" {
                label for="f-lesson" { "Lesson" }
                select id="f-lesson" title="Shows that lesson's stages and the students now in it" {
                    option value="" { "All lessons" }
                }
            }
            div class="filter" {
                label for="f-status" { "Status" }
                select id="f-status" {
                    option value="" { "Any status" }
                    option value="stuck" { "Stuck (S)" }
                    option value="error" { "Met an error (E)" }
                    option value="working" { "Working (W)" }
                    option value="done" { "Done (D)" }
                    option value="idle" { "Idle (I)" }
                }
            }
            div class="filter" {
                label for="f-name" { "Name" }
                input id="f-name" type="search" placeholder="ana" autocomplete="off" spellcheck="false";
            }
            p id="summary" class="summary" {}
        }
    }
}

fn legend() -> Markup {
    let entries = [
        ("s-done", "D", "done"),
        ("s-working", "W", "working"),
        ("s-stuck", "S", "stuck (too long on one stage)"),
        ("s-error", "E", "met an error"),
        ("s-idle", "I", "idle (joined, no progress yet)"),
        ("s-none", "·", "not reached"),
    ];
    html! {
        ul class="legend" aria-label="Legend" {
            @for (class, letter, word) in entries {
                li { span class={ "mark " (class) } aria-hidden="true" { (letter) } (word) }
            }
        }
    }
}

fn detail_pane() -> Markup {
    html! {
        section id="detail" class="panel detail" aria-labelledby="detail-title" hidden {
            div class="detail-head" {
                h2 id="detail-title" tabindex="-1" {}
                button id="detail-close" type="button" { "Close" }
            }
            p id="detail-note" class="muted" aria-live="polite" {}
            div id="detail-facts" {}
            h3 { "Recent requests (newest first)" }
            div id="detail-requests" {}
            h3 { "Repositories" }
            div id="detail-repositories" {}
            h3 { "Progress" }
            div id="detail-events" {}
        }
    }
}

fn fault_form() -> Markup {
    html! {
        section class="panel fault-panel" aria-labelledby="fault-heading" {
            h2 id="fault-heading" { "Faults" }
            form id="fault-form" class="fault-form" {
                label for="fault" { "Fault" }
                select id="fault" {
                    option value="missing-repo" { "missing-repo: the repository is deleted" }
                    option value="immutable-overwrite" { "immutable-overwrite: tags become immutable" }
                    option value="expired-login" { "expired-login: the login token expires (clock +13 h)" }
                }
                label for="fault-repository" { "Repository" }
                input id="fault-repository" type="text" value="test" spellcheck="false" autocomplete="off";
                fieldset {
                    legend { "For" }
                    label class="choice" {
                        input id="target-student" type="radio" name="target" value="student" disabled;
                        span { "Selected student: " strong id="target-student-name" { "none (click a name in the grid)" } }
                    }
                    label class="choice" {
                        input id="target-all" type="radio" name="target" value="all";
                        span { "All students" }
                    }
                }
                div class="row" {
                    button id="arm" type="button" class="primary" { "Arm" }
                    button id="clear" type="button" { "Clear" }
                }
                div id="fault-result" class="result" role="status" hidden {}
            }
        }
    }
}
