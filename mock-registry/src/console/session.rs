//! The console's session and the guard on its writes. Every console response that finds no session
//! cookie sets one (`ecrlab_console`, HttpOnly, SameSite=Strict); every form carries a token bound
//! to it (an HMAC of the session under a key this process made up), in a hidden `csrf` field.
//! A write (POST) is refused, before any handler sees it, when a browser says it comes from
//! another site (`Origin` other than this host, `Sec-Fetch-Site` other than `same-origin`/`none`)
//! or when it comes from a browser (it sends `Origin`, `Sec-Fetch-Site` or the session cookie)
//! without the token of its session. A client that is no browser (curl, the tests) sends none of
//! those and is let through from loopback: no web page can make a browser send such a request.

use std::sync::OnceLock;

use axum::body::Body;
use axum::extract::{ConnectInfo, Request};
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode, header};
use axum::middleware::Next;
use axum::response::Response;
use hmac::{KeyInit, Mac};
use maud::html;

use super::form::FormData;
use super::html_response;

/// The session cookie's name.
pub(super) const COOKIE: &str = "ecrlab_console";
/// The sign-in cookie (off loopback): `KEYID.MAC`, the key signed in, bound to the session.
pub(super) const SIGN_IN_COOKIE: &str = "ecrlab_signin";
/// The hidden form field that carries the token.
pub(super) const FIELD: &str = "csrf";
/// The largest console form body read (the create form with many filters is a few KiB).
const MAX_FORM: usize = 1024 * 1024;

/// This request's console session (set by [`guard`], read by `Ctx`).
#[derive(Clone)]
pub(super) struct Session(pub String);

fn key() -> &'static [u8; 32] {
    static KEY: OnceLock<[u8; 32]> = OnceLock::new();
    KEY.get_or_init(|| {
        let mut key = [0u8; 32];
        key[..16].copy_from_slice(uuid::Uuid::new_v4().as_bytes());
        key[16..].copy_from_slice(uuid::Uuid::new_v4().as_bytes());
        key
    })
}

fn mac(session: &str) -> hmac::Hmac<sha2::Sha256> {
    let mut mac = <hmac::Hmac<sha2::Sha256> as KeyInit>::new_from_slice(key()).expect("HMAC takes any key");
    mac.update(session.as_bytes());
    mac
}

/// The form token for `session`.
pub(super) fn token(session: &str) -> String {
    hex::encode(mac(session).finalize().into_bytes())
}

fn token_matches(session: &str, token: &str) -> bool {
    hex::decode(token).is_ok_and(|bytes| mac(session).verify_slice(&bytes).is_ok())
}

fn cookie_named(headers: &HeaderMap, cookie: &str) -> Option<String> {
    crate::class::auth::cookie(headers, cookie).map(str::to_owned)
}

/// The session cookie's value, if the browser sent one that looks like ours.
fn cookie(headers: &HeaderMap) -> Option<String> {
    cookie_named(headers, COOKIE).filter(|value| value.len() == 32 && value.bytes().all(|b| b.is_ascii_hexdigit()))
}

/// The sign-in cookie's value for `access_key_id` in `session`.
pub(super) fn sign_in_value(session: &str, access_key_id: &str) -> String {
    format!("{access_key_id}.{}", token(&format!("{session} signed in as {access_key_id}")))
}

/// The access key this session signed in with, if its sign-in cookie is genuine.
pub(super) fn signed_in(headers: &HeaderMap, session: &str) -> Option<String> {
    let value = cookie_named(headers, SIGN_IN_COOKIE)?;
    let (id, mac) = value.split_once('.')?;
    token_matches(&format!("{session} signed in as {id}"), mac).then(|| id.to_owned())
}

/// Whether the request came from this machine (no socket, as in router tests, counts as local).
pub(super) fn is_local(extensions: &axum::http::Extensions) -> bool {
    extensions.get::<ConnectInfo<std::net::SocketAddr>>().is_none_or(|c| crate::control::is_loopback(c.0.ip()))
}

/// Checks a write, hands the request its session, and sets the cookie on the answer when new.
pub(super) async fn guard(mut request: Request, next: Next) -> Response {
    let existing = cookie(request.headers());
    let session = existing.clone().unwrap_or_else(|| uuid::Uuid::new_v4().simple().to_string());
    if request.method() == Method::POST {
        request = match check_write(request, existing.as_deref()).await {
            Ok(request) => request,
            Err(refusal) => return refusal,
        };
    }
    request.extensions_mut().insert(Session(session.clone()));
    let mut response = next.run(request).await;
    if existing.is_none() {
        let cookie = format!("{COOKIE}={session}; Path=/console; HttpOnly; SameSite=Strict");
        response
            .headers_mut()
            .append(header::SET_COOKIE, HeaderValue::from_str(&cookie).expect("hex is a header value"));
    }
    response
}

/// The write's request back (its body read and put back), or the refusal.
async fn check_write(request: Request, session: Option<&str>) -> Result<Request, Response> {
    let headers = request.headers();
    let host = headers.get(header::HOST).and_then(|h| h.to_str().ok()).unwrap_or_default().to_owned();
    let origin = headers.get(header::ORIGIN).map(|o| String::from_utf8_lossy(o.as_bytes()).into_owned());
    let fetch_site = headers.get("sec-fetch-site").map(|s| String::from_utf8_lossy(s.as_bytes()).into_owned());
    let same_origin = origin.as_deref().is_none_or(|o| o == format!("http://{host}") || o == format!("https://{host}"));
    let same_site = fetch_site.as_deref().is_none_or(|s| s == "same-origin" || s == "none");
    if !same_origin || !same_site {
        let from = origin.or(fetch_site.map(|s| format!("Sec-Fetch-Site: {s}"))).unwrap_or_default();
        return Err(cross_site(&from, &host));
    }
    let browser = origin.is_some() || fetch_site.is_some() || session.is_some();
    let local = request
        .extensions()
        .get::<ConnectInfo<std::net::SocketAddr>>()
        .is_none_or(|c| crate::control::is_loopback(c.0.ip()));
    if !browser && local {
        return Ok(request);
    }
    let (parts, body) = request.into_parts();
    let Ok(bytes) = axum::body::to_bytes(body, MAX_FORM).await else {
        return Err(refusal(
            StatusCode::PAYLOAD_TOO_LARGE,
            "The form is larger than the console takes. Nothing was changed.",
        ));
    };
    let form = FormData::parse(&String::from_utf8_lossy(&bytes));
    let valid = session.zip(form.get(FIELD)).is_some_and(|(session, token)| token_matches(session, token));
    if !valid {
        return Err(refusal(
            StatusCode::FORBIDDEN,
            "Refused: the form did not carry this browser's console session token (the page was opened before \
             the lab restarted, in another browser, or by another site). Nothing was changed. Reload the page \
             and submit the form again.",
        ));
    }
    Ok(Request::from_parts(parts, Body::from(bytes)))
}

fn cross_site(from: &str, host: &str) -> Response {
    refusal(
        StatusCode::FORBIDDEN,
        &format!(
            "Refused: this form was sent from another site ({from}), not from this console, so the console did \
             not act on it. Nothing was changed. To make the change, open the console at http://{host}/console/ \
             yourself and submit the form there."
        ),
    )
}

fn refusal(status: StatusCode, text: &str) -> Response {
    let body = html! {
        (maud::DOCTYPE)
        html lang="en" {
            head {
                meta charset="utf-8";
                title { "Refused - ecr-lab console" }
                link rel="stylesheet" href="/console/assets/console.css";
            }
            body { main id="main" class="content" { h1 { "Refused" } p { (text) } } }
        }
    };
    html_response(status, body)
}
