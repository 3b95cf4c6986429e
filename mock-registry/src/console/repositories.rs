//! `/console/repositories`: the private repositories of the signed-in account in one region, with
//! their URIs (to copy), creation time, tag immutability, scan on push and encryption; search.

use axum::extract::State;
use axum::response::Response;

use super::html::{copy_button, enabled, esc, time};
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
    let live_src = ctx.href_with("/console/repositories.json", &[("search", &search)]);
    let body = format!(
        r#"<div class="page-head">
<h1>Private repositories <span class="count" data-live-count="repositories">({count})</span></h1>
<div class="actions"><a class="button primary" href="{create}">Create repository</a></div>
</div>
<section class="panel" aria-labelledby="repositories-h">
<h2 id="repositories-h" class="visually-hidden">Repositories in {region}</h2>
<form class="search" method="get" action="/console/repositories" role="search">
<input type="hidden" name="region" value="{region}">
<label for="search">Search repositories</label>
<input id="search" name="search" type="search" value="{search}" placeholder="Find repositories by name" data-filter="repositories" autocomplete="off">
<button type="submit">Search</button>
</form>
<div class="table-wrap">
<table class="grid" id="repositories">
<caption class="visually-hidden">Private repositories of account {account} in {region}</caption>
<thead><tr><th scope="col">Repository name</th><th scope="col">URI</th><th scope="col">Created at</th><th scope="col">Tag immutability</th><th scope="col">Scan on push</th><th scope="col">Encryption type</th></tr></thead>
<tbody id="repositories-body" data-live="{live}" data-fingerprint="{fingerprint}" data-count-of="repositories">{rows}</tbody>
</table>
</div>
</section>"#,
        create = esc(&ctx.href("/console/create-repository")),
        region = esc(ctx.region.as_str()),
        account = esc(ctx.registry.account.as_str()),
        search = esc(&search),
        live = esc(&live_src),
        fingerprint = live::fingerprint(&rows),
    );
    let mut page = Page::new(title).crumb(title, None).body(body);
    if let Some(flash) = notice(&ctx) {
        page = page.flash(flash);
    }
    page.render(&ctx)
}

/// The table rows (and how many repositories they show) for the repositories whose name contains `search`.
pub(super) fn rows<'a>(ctx: &Ctx, repositories: impl Iterator<Item = &'a Repository>, search: &str) -> (String, usize) {
    let needle = search.to_lowercase();
    let mut out = String::new();
    let mut count = 0;
    for repository in repositories.filter(|r| r.name.as_str().contains(&needle)) {
        count += 1;
        let uri = repository.uri(&ctx.registry);
        out.push_str(&format!(
            r#"<tr data-key="{name}" data-name="{name}" data-label="repository {name}"><th scope="row"><a href="{href}">{name}</a></th><td><code class="wrap">{uri_text}</code> {copy}</td><td>{created}</td><td>{mutability}</td><td>{scan}</td><td>{encryption}</td></tr>"#,
            name = esc(repository.name.as_str()),
            href = esc(&ctx.repository_href(&repository.name, "")),
            uri_text = esc(&uri),
            copy = copy_button(&uri, &format!("URI of {}", repository.name)),
            created = time(repository.created_at),
            mutability = super::html::tag_mutability(&repository.tag_mutability),
            scan = enabled(repository.scan_on_push),
            encryption = esc(super::html::encryption_name(repository.encryption.kind)),
        ));
    }
    if count == 0 {
        let text = if search.is_empty() {
            format!(
                r#"No repositories in {}. <a href="{}">Create repository</a>"#,
                esc(ctx.region.as_str()),
                esc(&ctx.href("/console/create-repository"))
            )
        } else {
            format!("No repositories match <q>{}</q>.", esc(search))
        };
        out = format!(r#"<tr class="empty"><td colspan="6">{text}</td></tr>"#);
    }
    (out, count)
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
