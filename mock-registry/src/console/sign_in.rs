//! `/console/sign-in`: off loopback the console acts as a lab key's principal, so a browser on the
//! LAN signs in first with an access key id and its secret (from the instructor, or `/_lab/keys`).
//! A good pair sets the sign-in cookie (HttpOnly, SameSite=Strict, bound to the session); the
//! console then acts as that key's user in its account. On loopback the console is signed in as
//! the lab's default learner, as before, except in class mode, where every browser signs in.

use axum::Extension;
use axum::extract::State;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::Response;
use maud::html;

use super::form::FormData;
use super::session::{FIELD, SIGN_IN_COOKIE, Session, sign_in_value, token};
use super::{html_response, see_other};
use crate::Lab;

const REFUSED: &str = "The access key ID and secret access key do not match a key of this lab that is in use \
                       (not revoked, not expired). Check both with your instructor and sign in again.";

pub(super) async fn page(Extension(session): Extension<Session>) -> Response {
    render(&session, "", None)
}

pub(super) async fn submit(State(lab): State<Lab>, Extension(session): Extension<Session>, body: String) -> Response {
    let form = FormData::parse(&body);
    let id = form.get("accessKeyId").unwrap_or_default().trim().to_owned();
    let secret = form.get("secretAccessKey").unwrap_or_default().trim().to_owned();
    let good = lab.read(|state| {
        state.key(&id).is_some_and(|key| {
            let same = crate::types::constant_time_eq(key.secret_access_key.as_bytes(), secret.as_bytes());
            same && !key.revoked && key.expires_at.is_none_or(|at| state.now_for(&key.account) < at)
        })
    });
    if !good {
        return render(&session, &id, Some(REFUSED));
    }
    let mut response = see_other("/console/repositories");
    let cookie =
        format!("{SIGN_IN_COOKIE}={}; Path=/console; HttpOnly; SameSite=Strict", sign_in_value(&session.0, &id));
    if let Ok(cookie) = HeaderValue::from_str(&cookie) {
        response.headers_mut().append(header::SET_COOKIE, cookie);
    }
    response
}

fn render(session: &Session, id: &str, error: Option<&str>) -> Response {
    let body = html! {
        (maud::DOCTYPE)
        html lang="en" {
            head {
                meta charset="utf-8";
                meta name="viewport" content="width=device-width, initial-scale=1";
                title { "Sign in - ecr-lab console" }
                link rel="stylesheet" href="/console/assets/console.css";
            }
            body {
                main id="main" class="content" {
                    h1 { "Sign in to the ecr-lab console" }
                    p { "From another machine the console acts as one of the lab's access keys. Sign in with the access key ID and secret access key your instructor gave you." }
                    @if let Some(error) = error { div class="flash error" role="alert" { span class="flash-text" { (error) } } }
                    form method="post" action="/console/sign-in" class="stack" {
                        input type="hidden" name=(FIELD) value=(token(&session.0));
                        div class="field" {
                            label for="accessKeyId" { "Access key ID" }
                            input id="accessKeyId" name="accessKeyId" type="text" autocomplete="username" spellcheck="false" value=(id);
                        }
                        div class="field" {
                            label for="secretAccessKey" { "Secret access key" }
                            input id="secretAccessKey" name="secretAccessKey" type="password" autocomplete="current-password";
                        }
                        div class="form-actions" { button type="submit" class="primary" { "Sign in" } }
                    }
                }
            }
        }
    };
    html_response(if error.is_some() { StatusCode::UNAUTHORIZED } else { StatusCode::OK }, body)
}
