//! The page around every console page: the top bar (service, region switcher, who is signed in),
//! the side navigation, breadcrumbs and flash banners. Our own look; no AWS assets.

use axum::http::StatusCode;
use axum::response::Response;

use super::html::esc;
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

    fn render(&self) -> String {
        let (class, role, icon) = match self.kind {
            FlashKind::Success => ("success", "status", "Success"),
            FlashKind::Error => ("error", "alert", "Error"),
            FlashKind::Info => ("info", "status", "Note"),
        };
        let title = if self.title.is_empty() {
            String::new()
        } else {
            format!(r#"<strong class="flash-title">{}</strong> "#, esc(&self.title))
        };
        format!(
            r#"<div class="flash {class}" role="{role}"><span class="visually-hidden">{icon}: </span>{title}<span class="flash-text">{}</span></div>"#,
            esc(&self.text)
        )
    }
}

pub(super) struct Page {
    pub title: String,
    /// Breadcrumbs after "Amazon ECR": label and link (the last is the current page, unlinked).
    pub crumbs: Vec<(String, Option<String>)>,
    pub flashes: Vec<Flash>,
    pub body: String,
    pub status: StatusCode,
}

impl Page {
    pub fn new(title: impl Into<String>) -> Self {
        Self {
            title: title.into(),
            crumbs: Vec::new(),
            flashes: Vec::new(),
            body: String::new(),
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

    pub fn body(mut self, body: String) -> Self {
        self.body = body;
        self
    }

    pub fn status(mut self, status: StatusCode) -> Self {
        self.status = status;
        self
    }

    /// The page for an ECR error instead of data (a revoked key, a missing repository).
    pub fn error(title: impl Into<String>, ctx: &Ctx, error: &EcrError) -> Self {
        let back =
            format!(r#"<p><a href="{}">Back to private repositories</a></p>"#, esc(&ctx.href("/console/repositories")));
        Self::new(title).flash(Flash::ecr(error)).body(back).status(error.code.status())
    }

    pub fn render(self, ctx: &Ctx) -> Response {
        let mut flashes = String::new();
        if let Some(problem) = &ctx.region_error {
            flashes.push_str(&Flash::info(format!("{problem}; showing {}", ctx.region)).render());
        }
        for flash in &self.flashes {
            flashes.push_str(&flash.render());
        }
        let mut crumbs = format!(r#"<li><a href="{}">Amazon ECR</a></li>"#, esc(&ctx.href("/console/repositories")));
        for (label, href) in &self.crumbs {
            match href {
                Some(href) => crumbs.push_str(&format!(r#"<li><a href="{}">{}</a></li>"#, esc(href), esc(label))),
                None => crumbs.push_str(&format!(r#"<li aria-current="page">{}</li>"#, esc(label))),
            }
        }
        let on_repositories = ctx.path.starts_with("/console/repositories");
        let current = |yes: bool| if yes { r#" aria-current="page""# } else { "" };
        let html = format!(
            r##"<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{title} | Amazon ECR | ecr-lab console</title>
<link rel="icon" href="data:,">
<link rel="stylesheet" href="/console/assets/console.css">
<script src="/console/assets/console.js" defer></script>
</head>
<body>
<a class="skip" href="#main">Skip to content</a>
<header class="top">
<a class="brand" href="{home}"><span class="brand-mark" aria-hidden="true">ecr</span> ecr-lab console</a>
<span class="service">Elastic Container Registry</span>
{switcher}
<p class="account" title="{arn}"><span class="visually-hidden">Signed in as </span><span class="user">{user}</span> <span aria-hidden="true">@</span><span class="visually-hidden"> in account </span> <span class="account-id">{account}</span></p>
</header>
<div class="shell">
<nav class="side" aria-label="Amazon ECR">
<p class="side-title">Private registry</p>
<ul>
<li><a href="{home}"{on_list}>Repositories</a></li>
<li><a href="{create}"{on_create}>Create repository</a></li>
</ul>
<p class="side-note">A lab's mock of Amazon ECR: offline, for learning.</p>
</nav>
<main id="main" tabindex="-1">
<nav class="crumbs" aria-label="Breadcrumbs"><ol>{crumbs}</ol></nav>
<div id="flash">{flashes}</div>
{body}
</main>
</div>
</body>
</html>
"##,
            title = esc(&self.title),
            home = esc(&ctx.href("/console/repositories")),
            create = esc(&ctx.href("/console/create-repository")),
            on_list = current(on_repositories),
            on_create = current(ctx.path == "/console/create-repository"),
            switcher = region_switcher(ctx),
            arn = esc(&format!("arn:aws:iam::{}:user/{}", ctx.registry.account, ctx.user)),
            user = esc(&ctx.user),
            account = esc(&dashed_account(ctx.registry.account.as_str())),
            body = self.body,
        );
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
fn region_switcher(ctx: &Ctx) -> String {
    // A repository or a create form belongs to one region; another region starts at its list.
    let target = if ctx.path == "/console/create-repository" { ctx.path.as_str() } else { "/console/repositories" };
    let mut options = String::new();
    let mut listed = false;
    for (code, name) in REGIONS {
        let selected = *code == ctx.region.as_str();
        listed |= selected;
        options.push_str(&format!(
            r#"<option value="{code}"{}>{name} {code}</option>"#,
            if selected { " selected" } else { "" }
        ));
    }
    if !listed {
        let code = esc(ctx.region.as_str());
        options.push_str(&format!(r#"<option value="{code}" selected>{code}</option>"#));
    }
    format!(
        r#"<form class="region" method="get" action="{}"><label for="region">Region</label> <select id="region" name="region">{options}</select> <button type="submit">Switch</button></form>"#,
        esc(target)
    )
}
