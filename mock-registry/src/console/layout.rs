//! The page around every console page: the top bar (service, region switcher, who is signed in),
//! the side navigation, breadcrumbs and flash banners. Our own look; no AWS assets.

use axum::http::StatusCode;
use axum::response::Response;
use maud::{Markup, PreEscaped, html};

use super::{Ctx, html_response};
use crate::ecr_api::EcrError;

/// The regions the switcher offers (any other valid `?region=` is added to it).
const REGIONS: &[(&str, &str)] = &[
    ("us-east-1", "US East (N. Virginia)"),
    ("us-east-2", "US East (Ohio)"),
    ("us-west-2", "US West (Oregon)"),
    ("eu-west-1", "Europe (Ireland)"),
    ("eu-central-1", "Europe (Frankfurt)"),
    ("ap-south-1", "Asia Pacific (Mumbai)"),
    ("ap-southeast-1", "Asia Pacific (Singapore)"),
    ("ap-northeast-1", "Asia Pacific (Tokyo)"),
];

/// A banner at the top of the content.
pub(super) struct Flash {
    kind: FlashKind,
    title: String,
    text: String,
}

#[derive(Clone, Copy)]
enum FlashKind {
    Success,
    Error,
    Info,
}

impl Flash {
    pub fn success(text: impl Into<String>) -> Self {
        Self { kind: FlashKind::Success, title: String::new(), text: text.into() }
    }
    pub fn info(text: impl Into<String>) -> Self {
        Self { kind: FlashKind::Info, title: String::new(), text: text.into() }
    }
    /// An error as ECR reports it: its code, then its message.
    pub fn ecr(error: &EcrError) -> Self {
        Self { kind: FlashKind::Error, title: error.code.name().to_owned(), text: error.message.clone() }
    }

    fn render(&self) -> Markup {
        let (class, role, icon) = match self.kind {
            FlashKind::Success => ("success", "status", "Success"),
            FlashKind::Error => ("error", "alert", "Error"),
            FlashKind::Info => ("info", "status", "Note"),
        };
        html! {
            div class={ "flash " (class) } role=(role) {
                span class="visually-hidden" { (icon) ": " }
                @if !self.title.is_empty() { strong class="flash-title" { (self.title) } " " }
                span class="flash-text" { (self.text) }
            }
        }
    }
}

pub(super) struct Page {
    pub title: String,
    /// Breadcrumbs after "Amazon ECR": label and link (the last is the current page, unlinked).
    pub crumbs: Vec<(String, Option<String>)>,
    pub flashes: Vec<Flash>,
    pub body: Markup,
    pub status: StatusCode,
}

impl Page {
    pub fn new(title: impl Into<String>) -> Self {
        Self {
            title: title.into(),
            crumbs: Vec::new(),
            flashes: Vec::new(),
            body: Markup::default(),
            status: StatusCode::OK,
        }
    }

    pub fn crumb(mut self, label: impl Into<String>, href: Option<String>) -> Self {
        self.crumbs.push((label.into(), href));
        self
    }

    pub fn flash(mut self, flash: Flash) -> Self {
        self.flashes.push(flash);
        self
    }

    pub fn body(mut self, body: Markup) -> Self {
        self.body = body;
        self
    }

    pub fn status(mut self, status: StatusCode) -> Self {
        self.status = status;
        self
    }

    /// The page for an ECR error instead of data (a revoked key, a missing repository).
    pub fn error(title: impl Into<String>, ctx: &Ctx, error: &EcrError) -> Self {
        let back = html! { p { a href=(ctx.href("/console/repositories")) { "Back to private repositories" } } };
        Self::new(title).flash(Flash::ecr(error)).body(back).status(error.code.status())
    }

    pub fn render(self, ctx: &Ctx) -> Response {
        let region_flash =
            ctx.region_error.as_ref().map(|problem| Flash::info(format!("{problem}; showing {}", ctx.region)));
        let home = ctx.href("/console/repositories");
        let create = ctx.href("/console/create-repository");
        let current = |yes: bool| yes.then_some("page");
        let html = html! {
            (PreEscaped("<!doctype html>\n"))
            html lang="en" {
                head {
                    meta charset="utf-8";
                    meta name="viewport" content="width=device-width, initial-scale=1";
                    title { (self.title) " | Amazon ECR | ecr-lab console" }
                    link rel="icon" href="data:,";
                    link rel="stylesheet" href="/console/assets/console.css";
                    script src="/console/assets/console.js" defer {}
                }
                body {
                    a class="skip" href="#main" { "Skip to content" }
                    header class="top" {
                        a class="brand" href=(home) { span class="brand-mark" aria-hidden="true" { "ecr" } " ecr-lab console" }
                        span class="service" { "Elastic Container Registry" }
                        (region_switcher(ctx))
                        p class="account" title={ "arn:aws:iam::" (ctx.registry.account) ":user/" (ctx.user) } {
                            span class="visually-hidden" { "Signed in as " }
                            span class="user" { (ctx.user) }
                            " " span aria-hidden="true" { "@" }
                            span class="visually-hidden" { " in account " }
                            " " span class="account-id" { (dashed_account(ctx.registry.account.as_str())) }
                        }
                    }
                    div class="shell" {
                        nav class="side" aria-label="Amazon ECR" {
                            p class="side-title" { "Private registry" }
                            ul {
                                li { a href=(home) aria-current=[current(ctx.path.starts_with("/console/repositories"))] { "Repositories" } }
                                li { a href=(create) aria-current=[current(ctx.path == "/console/create-repository")] { "Create repository" } }
                                li { a href=(ctx.href("/console/private-registry")) aria-current=[current(ctx.path == "/console/private-registry")] { "Private registry settings" } }
                            }
                            p class="side-note" { "A lab's mock of Amazon ECR: offline, for learning." }
                        }
                        main id="main" tabindex="-1" {
                            nav class="crumbs" aria-label="Breadcrumbs" {
                                ol {
                                    li { a href=(home) { "Amazon ECR" } }
                                    @for (label, href) in &self.crumbs {
                                        @match href {
                                            Some(href) => li { a href=(href) { (label) } },
                                            None => li aria-current="page" { (label) },
                                        }
                                    }
                                }
                            }
                            div id="flash" {
                                @if let Some(flash) = &region_flash { (flash.render()) }
                                @for flash in &self.flashes { (flash.render()) }
                            }
                            (self.body)
                        }
                    }
                }
            }
            "\n"
        };
        html_response(self.status, html)
    }
}

/// `9207-3661-7090`, as the account menu shows it.
fn dashed_account(account: &str) -> String {
    if account.len() != 12 {
        return account.to_owned();
    }
    format!("{}-{}-{}", &account[0..4], &account[4..8], &account[8..12])
}

/// A plain GET form: pick a region, press Switch (no change of page on a mere arrow key).
fn region_switcher(ctx: &Ctx) -> Markup {
    // A repository or a create form belongs to one region; another region starts at its list.
    let target = if ctx.path == "/console/create-repository" { ctx.path.as_str() } else { "/console/repositories" };
    let listed = REGIONS.iter().any(|(code, _)| *code == ctx.region.as_str());
    html! {
        form class="region" method="get" action=(target) {
            label for="region" { "Region" }
            " "
            select id="region" name="region" {
                @for (code, name) in REGIONS {
                    option value=(code) selected[*code == ctx.region.as_str()] { (name) " " (code) }
                }
                @if !listed {
                    option value=(ctx.region) selected { (ctx.region) }
                }
            }
            " "
            button type="submit" { "Switch" }
        }
    }
}
