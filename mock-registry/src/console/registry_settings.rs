//! `/console/private-registry`: the registry's pull through cache rules (with the repositories
//! they created) and its replication rules, read-only, as the ECR console's "Private registry"
//! settings show them. They are changed with the aws CLI (`create-pull-through-cache-rule`,
//! `put-replication-configuration`).

use axum::extract::State;
use axum::response::Response;
use maud::html;

use super::Ctx;
use super::html::time;
use super::layout::Page;
use crate::Lab;
use crate::types::RepositoryName;

pub(super) async fn page(State(lab): State<Lab>, ctx: Ctx) -> Response {
    let title = "Private registry settings";
    if let Err(error) = &ctx.principal {
        return Page::error(title, &ctx, error).crumb(title, None).render(&ctx);
    }
    let (rules, replication, cached) = lab.read(|s| {
        let rules = s.pull_through_rules(&ctx.registry, &[]).unwrap_or_default();
        let cached: Vec<(String, RepositoryName)> = s
            .repositories(&ctx.registry)
            .filter_map(|r| s.pull_through_for(&ctx.registry, &r.name).map(|(rule, _)| (rule.prefix, r.name.clone())))
            .collect();
        (rules, s.replication(&ctx.registry), cached)
    });
    let body = html! {
        h1 { (title) }
        section class="panel" aria-labelledby="ptc-h" {
            h2 id="ptc-h" { "Pull through cache rules (" (rules.len()) ")" }
            @if rules.is_empty() {
                p { "No rules. " code { "aws ecr create-pull-through-cache-rule --ecr-repository-prefix ecr-public --upstream-registry-url public.ecr.aws" } }
            } @else {
                table class="grid" {
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
                }
            }
        }
        section class="panel" aria-labelledby="replication-h" {
            h2 id="replication-h" { "Replication rules (" (replication.rules.len()) ")" }
            @if replication.rules.is_empty() {
                p { "Replication is off. Pushes stay in " (ctx.registry.region) "." }
            } @else {
                table class="grid" {
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
                }
                p class="hint" { "The lab copies each push at once (AWS takes up to about 30 minutes)." }
            }
        }
    };
    Page::new(title).crumb(title, None).body(body).render(&ctx)
}
