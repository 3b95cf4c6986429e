//! `/console/repositories`: the private repositories of the signed-in account in one region, with
//! their URIs (to copy), creation time, tag immutability, scan on push and encryption; search.

use axum::extract::State;
use axum::response::Response;
use maud::{Markup, html};

use super::html::{copy_button, enabled, encryption_name, tag_mutability, time};
use super::layout::{Flash, Page};
use super::{Ctx, live};
use crate::Lab;
use crate::state::Repository;
use crate::types::RepositoryName;

pub(super) async fn page(State(lab): State<Lab>, ctx: Ctx) -> Response {
    let title = "Private repositories";
    if let Err(error) = &ctx.principal {
        return Page::error(title, &ctx, error).crumb(title, None).render(&ctx);
    }
    let search = ctx.query.get("search").unwrap_or_default().trim().to_owned();
    let (rows, count) = lab.read(|state| rows(&ctx, state.repositories(&ctx.registry), &search));
    let region = ctx.region.as_str();
    let body = html! {
        div class="page-head" {
            h1 { "Private repositories " span class="count" data-live-count="repositories" { "(" (count) ")" } }
            div class="actions" { a class="button primary" href=(ctx.href("/console/create-repository")) { "Create repository" } }
        }
        section class="panel" aria-labelledby="repositories-h" {
            h2 id="repositories-h" class="visually-hidden" { "Repositories in " (region) }
            form class="search" method="get" action="/console/repositories" role="search" {
                input type="hidden" name="region" value=(region);
                label for="search" { "Search repositories" }
                input id="search" name="search" type="search" value=(search) placeholder="Find repositories by name" data-filter="repositories" autocomplete="off";
                button type="submit" { "Search" }
            }
            div class="table-wrap" {
                table class="grid" id="repositories" {
                    caption class="visually-hidden" { "Private repositories of account " (ctx.registry.account) " in " (region) }
                    thead { tr { th scope="col" { "Repository name" } th scope="col" { "URI" } th scope="col" { "Created at" } th scope="col" { "Tag immutability" } th scope="col" { "Scan on push" } th scope="col" { "Encryption type" } } }
                    tbody id="repositories-body" data-live=(ctx.href_with("/console/repositories.json", &[("search", &search)])) data-fingerprint=(live::fingerprint(&rows)) data-count-of="repositories" { (rows) }
                }
            }
        }
    };
    let mut page = Page::new(title).crumb(title, None).body(body);
    if let Some(flash) = notice(&ctx) {
        page = page.flash(flash);
    }
    page.render(&ctx)
}

/// The table rows (and how many repositories they show) for the repositories whose name contains `search`.
pub(super) fn rows<'a>(ctx: &Ctx, repositories: impl Iterator<Item = &'a Repository>, search: &str) -> (Markup, usize) {
    let needle = search.to_lowercase();
    let shown: Vec<&Repository> = repositories.filter(|r| r.name.as_str().contains(&needle)).collect();
    let rows = html! {
        @for repository in &shown {
            @let name = &repository.name;
            @let uri = repository.uri(&ctx.registry);
            tr data-key=(name) data-name=(name) data-label={ "repository " (name) } {
                th scope="row" { a href=(ctx.repository_href(name, "")) { (name) } }
                td { code class="wrap" { (uri) } " " (copy_button(&uri, &format!("URI of {name}"))) }
                td { (time(repository.created_at)) }
                td { (tag_mutability(&repository.tag_mutability)) }
                td { (enabled(repository.scan_on_push)) }
                td { (encryption_name(repository.encryption.kind)) }
            }
        }
        @if shown.is_empty() {
            tr class="empty" {
                td colspan="6" {
                    @if search.is_empty() {
                        "No repositories in " (ctx.region) ". " a href=(ctx.href("/console/create-repository")) { "Create repository" }
                    } @else {
                        "No repositories match " q { (search) } "."
                    }
                }
            }
        }
    };
    (rows, shown.len())
}

/// The banner after a repository was deleted (POST-redirect-GET).
fn notice(ctx: &Ctx) -> Option<Flash> {
    match ctx.query.get("notice")? {
        "repository-deleted" => {
            let name = RepositoryName::parse(ctx.query.get("name")?).ok()?;
            Some(Flash::success(format!("Successfully deleted repository {name}.")))
        }
        _ => None,
    }
}
