//! The repository's Permissions tab: its repository policy (pretty JSON), edited in a form and
//! deleted, as SetRepositoryPolicy and DeleteRepositoryPolicy would: the state's own validation and
//! wording (a malformed policy shows AWS's `InvalidParameterException` text on the page and stores
//! nothing). Writes pass the console's same-origin and form-token checks (`session.rs`) like every form.

use axum::http::StatusCode;
use axum::response::Response;
use maud::{Markup, html};

use super::form::FormData;
use super::layout::{Flash, Page};
use super::{Ctx, repository_crumbs, see_other, with_repository};
use crate::Lab;
use crate::ecr_api::EcrError;
use crate::state::Repository;
use crate::types::RepositoryName;

const TITLE: &str = "Permissions";

/// A policy to start from when the repository has none: another account may pull.
const EXAMPLE: &str = r#"{
  "Version": "2012-10-17",
  "Statement": [
    {
      "Sid": "AllowPull",
      "Effect": "Allow",
      "Principal": { "AWS": "arn:aws:iam::111122223333:root" },
      "Action": ["ecr:BatchGetImage", "ecr:GetDownloadUrlForLayer", "ecr:BatchCheckLayerAvailability"]
    }
  ]
}"#;

/// The repository sections as tabs: Images, Permissions, Lifecycle policy; `current` is marked.
pub(super) fn tabs(ctx: &Ctx, name: &RepositoryName, current: &str) -> Markup {
    let tab = |sub: &str, label: &str| {
        html! { a href=(ctx.repository_href(name, sub)) aria-current=[(sub == current).then_some("page")] { (label) } }
    };
    html! {
        nav class="tabs" aria-label="Repository sections" {
            (tab("", "Images")) " " (tab("permissions", TITLE)) " " (tab("lifecycle", "Lifecycle policy"))
        }
    }
}

/// The tab: the stored policy, and a form that replaces it (refilled with `form` after a refusal).
pub(super) fn page(ctx: &Ctx, repository: &Repository, form: Option<&FormData>, error: Option<&EcrError>) -> Response {
    let name = &repository.name;
    let stored = repository.policy.as_deref().map(pretty_json);
    let text = match (form.and_then(|f| f.get("policyText")), &stored) {
        (Some(sent), _) => sent.to_owned(),
        (None, Some(stored)) => stored.clone(),
        (None, None) => EXAMPLE.to_owned(),
    };
    let body = html! {
        h1 { (name) }
        (tabs(ctx, name, "permissions"))
        section class="panel" aria-labelledby="policy-h" {
            h2 id="policy-h" { "Repository policy" }
            @match &stored {
                Some(stored) => pre class="manifest" tabindex="0" aria-label="Repository policy" id="policy" { code { (stored) } },
                None => p id="no-policy" {
                    "No repository policy: only this account's IAM policies decide who may use " (name) ". "
                    "A policy here can also let other accounts pull or push."
                },
            }
        }
        section class="panel" aria-labelledby="edit-h" {
            h2 id="edit-h" { @if stored.is_some() { "Edit policy JSON" } @else { "Add a policy" } }
            form method="post" action=(ctx.repository_href(name, "permissions")) class="stack" {
                input type="hidden" name="csrf" value=(ctx.csrf);
                div class="field" {
                    label for="policyText" { "Policy JSON" }
                    textarea id="policyText" name="policyText" rows="16" spellcheck="false" aria-describedby="policy-hint" { (text) }
                    p class="hint" id="policy-hint" {
                        "An IAM resource-based policy: each statement names a " code { "Principal" } ", its "
                        code { "Action" } "s and " code { "Effect" } "."
                    }
                }
                div class="form-actions" { button type="submit" class="primary" { "Save" } }
            }
            @if stored.is_some() {
                form method="post" action=(ctx.repository_href(name, "permissions/delete")) {
                    input type="hidden" name="csrf" value=(ctx.csrf);
                    div class="form-actions" { button type="submit" class="danger" { "Delete policy" } }
                }
            }
        }
    };
    let mut page =
        repository_crumbs(Page::new(format!("{name}: {}", TITLE.to_lowercase())), ctx, name, Some(TITLE)).body(body);
    match (error, ctx.query.get("notice")) {
        (Some(error), _) => page = page.flash(Flash::ecr(error)).status(StatusCode::BAD_REQUEST),
        (None, Some("policy-saved")) => page = page.flash(Flash::success(format!("Saved the policy of {name}."))),
        (None, Some("policy-deleted")) => page = page.flash(Flash::success(format!("Deleted the policy of {name}."))),
        _ => {}
    }
    page.render(ctx)
}

/// "Save": SetRepositoryPolicy with the text as typed.
pub(super) async fn save(lab: &Lab, ctx: &Ctx, name: &RepositoryName, form: &FormData) -> Response {
    let text = form.get("policyText").unwrap_or_default().trim().to_owned();
    let saved = if text.is_empty() {
        Err(EcrError::invalid_parameter("policyText", "must not be null"))
    } else {
        lab.write(|state| state.set_repository_policy(&ctx.registry, name, &text).map(|_| ()))
            .await
            .map_err(EcrError::from)
    };
    match saved {
        Ok(()) => see_other(&ctx.href_with(&Ctx::repository_path(name, "permissions"), &[("notice", "policy-saved")])),
        Err(error) => with_repository(lab, ctx, name, |ctx, r| page(ctx, r, Some(form), Some(&error))),
    }
}

/// "Delete policy": DeleteRepositoryPolicy (RepositoryPolicyNotFound when there is none).
pub(super) async fn delete(lab: &Lab, ctx: &Ctx, name: &RepositoryName) -> Response {
    match lab.write(|state| state.delete_repository_policy(&ctx.registry, name)).await {
        Ok(_) => see_other(&ctx.href_with(&Ctx::repository_path(name, "permissions"), &[("notice", "policy-deleted")])),
        Err(error) => {
            let error = EcrError::from(error);
            with_repository(lab, ctx, name, |ctx, r| page(ctx, r, None, Some(&error)))
        }
    }
}

/// A stored policy, indented (as stored if it is not JSON).
pub(super) fn pretty_json(text: &str) -> String {
    serde_json::from_str::<serde_json::Value>(text)
        .and_then(|v| serde_json::to_string_pretty(&v))
        .unwrap_or_else(|_| text.to_owned())
}
