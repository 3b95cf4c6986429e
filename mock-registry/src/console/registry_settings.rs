//! `/console/private-registry`: the registry's own settings, read-only, as the console's
//! "Private registry → Features & Settings" shows them: permissions (the registry policy),
//! repository creation templates, managed signing, pull-time update exclusions, account settings.
//! They are changed with `aws ecr ...` (the built-in aws in the lab shell, or the real CLI).

use axum::extract::State;
use axum::response::Response;
use maud::html;

use super::Ctx;
use super::html::time;
use super::layout::Page;
use crate::Lab;
use crate::state::registry_settings::ACCOUNT_SETTINGS;
use crate::types::WireEnum as _;

pub(super) async fn page(State(lab): State<Lab>, ctx: Ctx) -> Response {
    let title = "Private registry settings";
    if let Err(error) = &ctx.principal {
        return Page::error(title, &ctx, error).crumb(title, None).render(&ctx);
    }
    let settings = lab.read(|state| state.registry_settings(&ctx.registry));
    let body = html! {
        div class="page-head" { h1 { (title) } }
        p { "Change these with " code { "aws ecr put-registry-policy" } ", " code { "create-repository-creation-template" } ", "
            code { "put-signing-configuration" } ", " code { "register-pull-time-update-exclusion" } " and " code { "put-account-setting" } "." }
        section class="panel" aria-labelledby="policy-h" {
            h2 id="policy-h" { "Registry permissions" }
            @match &settings.policy {
                Some(text) => pre { code { (text) } },
                None => p { "No registry policy." },
            }
        }
        section class="panel" aria-labelledby="templates-h" {
            h2 id="templates-h" { "Repository creation templates" }
            @if settings.templates.is_empty() {
                p { "No templates: repositories created for pull through cache or replication get the defaults, and a push to a missing repository fails." }
            } @else {
                table class="grid" {
                    thead { tr { th scope="col" { "Prefix" } th scope="col" { "Applied for" } th scope="col" { "Tag immutability" } th scope="col" { "Description" } th scope="col" { "Updated at" } } }
                    tbody { @for t in settings.templates.values() {
                        tr { td { code { (t.prefix) } } td { (t.applied_for.iter().map(|a| a.wire()).collect::<Vec<_>>().join(", ")) }
                             td { (t.tag_mutability.mode.wire()) } td { (t.description.clone().unwrap_or_default()) } td { (time(t.updated_at)) } }
                    } }
                }
            }
        }
        section class="panel" aria-labelledby="signing-h" {
            h2 id="signing-h" { "Managed signing" }
            @match &settings.signing {
                Some(configuration) => ul { @for rule in &configuration.rules {
                    li { code { (rule.signing_profile_arn) } " for " @if rule.repository_filters.is_empty() { "every repository" } @else { (rule.repository_filters.join(", ")) } }
                } },
                None => p { "No signing configuration." },
            }
        }
        section class="panel" aria-labelledby="exclusions-h" {
            h2 id="exclusions-h" { "Pull-time update exclusions" }
            @if settings.pull_time_exclusions.is_empty() { p { "None." } }
            ul { @for (arn, at) in &settings.pull_time_exclusions { li { code { (arn) } " since " (time(*at)) } } }
        }
        section class="panel" aria-labelledby="account-h" {
            h2 id="account-h" { "Account settings" }
            table class="grid" {
                thead { tr { th scope="col" { "Name" } th scope="col" { "Value" } } }
                tbody { @for (name, _, _) in ACCOUNT_SETTINGS {
                    tr { td { code { (name) } } td { (settings.account_setting(name).unwrap_or_default()) } }
                } }
            }
        }
    };
    Page::new(title).crumb(title, None).body(body).render(&ctx)
}
