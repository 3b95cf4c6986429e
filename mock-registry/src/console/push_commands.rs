//! "View push commands": the guide's commands for this repository's registry and region, then the
//! same steps against this lab's mock, whose registry answers at the address the browser used.

use axum::response::Response;
use maud::{Markup, html};

use super::html::copy_button;
use super::layout::Page;
use super::{Ctx, repository_crumbs};
use crate::oci_api::default_registry;
use crate::state::Repository;

/// The guide's sample image (`ecr-lab sample-image --load` puts it in a Docker engine).
const SAMPLE_IMAGE: &str = "sohelqt8797/ec2-neon-pulse:v1";
const TAG: &str = "v1";

/// The commands as one section: used in the dialog on the repository page and on its own page.
pub(super) fn section(ctx: &Ctx, repository: &Repository) -> Markup {
    let region = ctx.region.as_str();
    let registry = ctx.registry.host();
    let uri = repository.uri(&ctx.registry);
    let name = repository.name.as_str();
    let aws = [
        (
            "Retrieve an authentication token and authenticate your Docker client to your registry:",
            format!(
                "aws ecr get-login-password --region {region} | docker login --username AWS --password-stdin {registry}"
            ),
        ),
        (
            "Get the guide's sample image (or build your own with docker build -t your-image .):",
            "ecr-lab sample-image --load".to_owned(),
        ),
        ("Tag the image with this repository's URI:", format!("docker tag {SAMPLE_IMAGE} {uri}:{TAG}")),
        ("Push the image to this repository:", format!("docker push {uri}:{TAG}")),
    ];
    // The mock's registry is this server, reached as the browser reached it. A bare loopback host
    // means the lab's default account and region; another region needs its full registry name.
    let host = &ctx.host;
    let default = default_registry() == ctx.registry;
    let local_registry = if default { host.clone() } else { format!("{registry}:{}", port(host)) };
    let local = [
        (
            "Point the aws CLI at this mock (in each new terminal):".to_owned(),
            format!("eval \"$(ecr-lab env --endpoint http://{host})\""),
        ),
        (
            "Log in to the mock's registry:".to_owned(),
            format!(
                "aws ecr get-login-password --region {region} | docker login --username AWS --password-stdin {local_registry}"
            ),
        ),
        ("Tag and push:".to_owned(), format!("docker tag {SAMPLE_IMAGE} {local_registry}/{name}:{TAG}")),
        (String::new(), format!("docker push {local_registry}/{name}:{TAG}")),
    ];
    let region_note = if default {
        html! {
            "Against this lab's mock the registry is this server, " code { (host) } ": it stands for "
            (ctx.registry.account) " in " (region) "."
        }
    } else {
        html! {
            "Against this lab's mock the registry is this server. The short address " code { (host) }
            " stands for the lab's default region (" (default_registry().region) "); for " (region)
            " use the full registry name with this server's port, and map that name to 127.0.0.1 (for example in "
            code { "/etc/hosts" } ")."
        }
    };
    html! {
        section class="push-commands" aria-labelledby="push-commands-h" {
            h2 id="push-commands-h" { "Push commands for " (name) }
            p class="hint" {
                "macOS / Linux. Make sure you have the AWS CLI and Docker (or use the lab shell's built-in "
                code { "aws" } " and " code { "docker" } ")."
            }
            ol class="commands" { (steps(aws.iter().map(|(what, command)| (*what, command.as_str())))) }
            h3 { "On this lab's mock" }
            p class="hint" { (region_note) }
            ol class="commands" { (steps(local.iter().map(|(what, command)| (what.as_str(), command.as_str())))) }
        }
    }
}

fn port(host: &str) -> &str {
    host.rsplit_once(':').map(|(_, port)| port).filter(|p| p.bytes().all(|b| b.is_ascii_digit())).unwrap_or("80")
}

fn steps<'a>(steps: impl Iterator<Item = (&'a str, &'a str)>) -> Markup {
    html! {
        @for (what, command) in steps {
            li {
                @if !what.is_empty() { p { (what) } }
                div class="command" { pre { code { (command) } } (copy_button(command, "command")) }
            }
        }
    }
}

/// The commands on a page of their own (the dialog's target without script).
pub(super) fn page(ctx: &Ctx, repository: &Repository) -> Response {
    let body = html! {
        (section(ctx, repository))
        p { a href=(ctx.repository_href(&repository.name, "")) { "Back to " (repository.name) } }
    };
    let title = format!("Push commands for {}", repository.name);
    repository_crumbs(Page::new(title), ctx, &repository.name, Some("Push commands")).body(body).render(ctx)
}
