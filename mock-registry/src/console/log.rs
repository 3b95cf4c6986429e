//! The learner's console actions in the lab's request log: each page viewed (GET) and form sent
//! (POST), as `console:<page>` with who (the account and IAM user the console acts as) and what
//! (the repository). The scripts, styles and live pages' JSON polls are left out, so a page left
//! open does not bury the requests lessons look for. Lessons check these with `console: { viewed: ... }`.

use axum::extract::{FromRequestParts as _, Request, State};
use axum::http::Method;
use axum::middleware::Next;
use axum::response::Response;

use super::Ctx;
use crate::Lab;
use crate::request_log::{LoggedRequest, console_page};

/// Records the console action `request` is, after it is answered (with the status it got).
pub(super) async fn record(State(lab): State<Lab>, request: Request, next: Next) -> Response {
    let method = request.method().clone();
    let page = console_page(request.uri().path()).filter(|_| method == Method::GET || method == Method::POST);
    let Some((page, repository)) = page else {
        return next.run(request).await;
    };
    let path = request.uri().path().to_owned();
    let (mut parts, body) = request.into_parts();
    // Who, as the page itself will see it (a browser not signed in off loopback: no one yet).
    let who = match Ctx::from_request_parts(&mut parts, &lab).await {
        Ok(ctx) => ctx.principal.ok().map(|caller| (caller.account.to_string(), ctx.user)),
        Err(_) => None,
    };
    let response = next.run(Request::from_parts(parts, body)).await;
    let at = lab.read(|s| s.now()).epoch_seconds();
    let (account, user) = who.unzip();
    // A form that made a repository names it in where it sends the browser next.
    let repository = repository.or_else(|| {
        let location = response.headers().get(axum::http::header::LOCATION)?.to_str().ok()?;
        console_page(location.split('?').next().unwrap_or_default())?.1
    });
    lab.log().record(LoggedRequest {
        seq: 0,
        at,
        method: method.to_string(),
        path,
        api: format!("console:{page}"),
        status: response.status().as_u16(),
        account,
        code: None,
        message: None,
        user,
        repository,
    });
    response
}
