//! `/console/private-registry`: the registry's own settings, read-only, as the console's
//! "Private registry → Features & Settings" shows them: pull through cache rules (with the
//! repositories they created), replication rules, permissions (the registry policy), repository
//! creation templates, managed signing, pull-time update exclusions, account settings. They are
//! changed with `aws ecr ...` (the built-in aws in the lab shell, or the real CLI).

use axum::extract::State;
use axum::response::Response;
use maud::html;

use super::Ctx;
use super::html::time;
use super::layout::Page;
use crate::Lab;
use crate::state::registry_settings::ACCOUNT_SETTINGS;
use crate::types::{RepositoryName, WireEnum as _};

pub(super) async fn page(State(lab): State<Lab>, ctx: Ctx) -> Response {
    let title = "Private registry settings";
    if let Err(error) = &ctx.principal {
        return Page::error(title, &ctx, error).crumb(title, None).render(&ctx);
    }
    let (settings, rules, replication, cached) = lab.read(|s| {
        let rules = s.pull_through_rules(&ctx.registry, &[]).unwrap_or_default();
        let cached: Vec<(String, RepositoryName)> = s
            .repositories(&ctx.registry)
            .filter_map(|r| s.pull_through_for(&ctx.registry, &r.name).map(|(rule, _)| (rule.prefix, r.name.clone())))
            .collect();
        (s.registry_settings(&ctx.registry), rules, s.replication(&ctx.registry), cached)
    });
    let body = html! {
        div class="page-head" { h1 { (title) } }
        p { "Change these with " code { "aws ecr create-pull-through-cache-rule" } ", " code { "put-replication-configuration" } ", "
            code { "put-registry-policy" } ", " code { "create-repository-creation-template" } ", "
            code { "put-signing-configuration" } ", " code { "register-pull-time-update-exclusion" } " and " code { "put-account-setting" } "." }
        section class="panel" aria-labelledby="ptc-h" {
            h2 id="ptc-h" { "Pull through cache rules (" (rules.len()) ")" }
            @if rules.is_empty() {
                p { "No rules. " code { "aws ecr create-pull-through-cache-rule --ecr-repository-prefix ecr-public --upstream-registry-url public.ecr.aws" } }
            } @else {
                div class="table-wrap" { table class="grid" {
                    thead { tr { th scope="col" { "Namespace" } th scope="col" { "Upstream registry URL" } th scope="col" { "Credential ARN" } th scope="col" { "Created at" } th scope="col" { "Cached repositories" } } }
                    tbody {
                        @for rule in &rules {
                            tr {
                                th scope="row" { (rule.prefix) }
                                td { (rule.upstream_url) }
                                td { (rule.credential_arn.as_deref().unwrap_or("-")) }
                                td { (time(rule.created_at)) }
                                td {
                                    @for (_, name) in cached.iter().filter(|(p, _)| *p == rule.prefix) {
                                        a href=(ctx.repository_href(name, "")) { (name) } " "
                                    }
                                }
                            }
                        }
                    }
                } }
            }
        }
        section class="panel" aria-labelledby="replication-h" {
            h2 id="replication-h" { "Replication rules (" (replication.rules.len()) ")" }
            @if replication.rules.is_empty() {
                p { "Replication is off. Pushes stay in " (ctx.registry.region) "." }
            } @else {
                div class="table-wrap" { table class="grid" {
                    thead { tr { th scope="col" { "Rule" } th scope="col" { "Destinations" } th scope="col" { "Repository filters" } } }
                    tbody {
                        @for (n, rule) in replication.rules.iter().enumerate() {
                            tr {
                                th scope="row" { (n + 1) }
                                td { @for d in &rule.destinations { (d.region) " (" (d.account) ") " } }
                                td { @if rule.prefixes.is_empty() { "All repositories" } @else { @for p in &rule.prefixes { "prefix " code { (p) } " " } } }
                            }
                        }
                    }
                } }
                p class="hint" { "The lab copies each push at once (AWS takes up to about 30 minutes)." }
            }
        }
        section class="panel" aria-labelledby="policy-h" {
            h2 id="policy-h" { "Registry permissions" }
            @match &settings.policy {
                Some(text) => pre class="manifest" tabindex="0" aria-label="Registry policy" { code { (super::permissions::pretty_json(text)) } },
                None => p { "No registry policy." },
            }
        }
        section class="panel" aria-labelledby="templates-h" {
            h2 id="templates-h" { "Repository creation templates" }
            @if settings.templates.is_empty() {
                p { "No templates: repositories created for pull through cache or replication get the defaults, and a push to a missing repository fails." }
            } @else {
                div class="table-wrap" { table class="grid" {
                    thead { tr { th scope="col" { "Prefix" } th scope="col" { "Applied for" } th scope="col" { "Tag immutability" } th scope="col" { "Description" } th scope="col" { "Updated at" } } }
                    tbody { @for t in settings.templates.values() {
                        tr { td { code { (t.prefix) } } td { (t.applied_for.iter().map(|a| a.wire()).collect::<Vec<_>>().join(", ")) }
                             td { (t.tag_mutability.mode.wire()) } td { (t.description.clone().unwrap_or_default()) } td { (time(t.updated_at)) } }
                    } }
                } }
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
            div class="table-wrap" { table class="grid" {
                thead { tr { th scope="col" { "Name" } th scope="col" { "Value" } } }
                tbody { @for (name, _, _) in ACCOUNT_SETTINGS {
                    tr { td { code { (name) } } td { (settings.account_setting(name).unwrap_or_default()) } }
                } }
            } }
        }
    };
    Page::new(title).crumb(title, None).body(body).render(&ctx)
}
