//! `/console/create-repository`: the create form. Its field names are CreateRepository's members;
//! a submission goes through the API's own conversion (`ecr_api::new_repository`) and the state's
//! rules, so a refusal carries exactly the message `aws ecr create-repository` would print.

use axum::extract::State;
use axum::http::StatusCode;
use axum::response::Response;
use maud::{Markup, html};

use super::form::FormData;
use super::layout::{Flash, Page};
use super::{Ctx, see_other};
use crate::Lab;
use crate::ecr_api::wire::{
    CreateRepositoryRequest, EncryptionConfigurationRequest, ExclusionFilter, ScanningConfiguration,
};
use crate::ecr_api::{self, EcrError, EcrErrorCode};
use crate::types::{EncryptionType, RepositoryName, TagMutability, WireEnum};

const TITLE: &str = "Create private repository";

pub(super) async fn page(ctx: Ctx) -> Response {
    if let Err(error) = &ctx.principal {
        return Page::error(TITLE, &ctx, error).crumb(TITLE, None).render(&ctx);
    }
    render(&ctx, &FormData::default(), None)
}

pub(super) async fn submit(State(lab): State<Lab>, ctx: Ctx, body: String) -> Response {
    let caller = match &ctx.principal {
        Ok(caller) => caller.clone(),
        Err(error) => return Page::error(TITLE, &ctx, error).crumb(TITLE, None).render(&ctx),
    };
    let form = FormData::parse(&body);
    let created = match ecr_api::new_repository(&caller, request_from(&form)) {
        Ok((registry, new)) => lab.write(|state| state.create_repository(&registry, new)).await.map_err(EcrError::from),
        Err(error) => Err(error),
    };
    match created {
        Ok(repository) => {
            see_other(&ctx.href_with(&super::Ctx::repository_path(&repository.name, ""), &[("notice", "created")]))
        }
        Err(error) => render(&ctx, &form, Some(&error)),
    }
}

/// The form as a CreateRepository request. Fields are the API's member names; the nested members
/// may also be sent by their dotted paths (`imageScanningConfiguration.scanOnPush`). A checkbox that
/// is not ticked is not sent, which means false.
fn request_from(form: &FormData) -> CreateRepositoryRequest {
    let text = |names: &[&str]| form.first_of(names).map(str::trim).filter(|v| !v.is_empty()).map(str::to_owned);
    let filters: Vec<ExclusionFilter> = exclusion_filters(form)
        .into_iter()
        .map(|filter| ExclusionFilter { filter_type: Some("WILDCARD".into()), filter: Some(filter) })
        .collect();
    let scan_on_push = scan_on_push(form);
    let encryption_type = text(&["encryptionType", "encryptionConfiguration.encryptionType"]);
    let kms_key = text(&["kmsKey", "encryptionConfiguration.kmsKey"]);
    CreateRepositoryRequest {
        registry_id: None,
        // Sent as typed (untrimmed): the name rules decide, as they would for the API.
        repository_name: form.get("repositoryName").map(str::to_owned),
        tags: None,
        image_tag_mutability: text(&["imageTagMutability"]),
        image_tag_mutability_exclusion_filters: (!filters.is_empty()).then_some(filters),
        image_scanning_configuration: Some(ScanningConfiguration { scan_on_push: Some(scan_on_push) }),
        encryption_configuration: (encryption_type.is_some() || kms_key.is_some())
            .then_some(EncryptionConfigurationRequest { encryption_type, kms_key }),
    }
}

/// `imageTagMutabilityExclusionFilters`: each value may hold several filters, one per line (the
/// form's text area) or separated by commas or spaces.
pub(super) fn exclusion_filters(form: &FormData) -> Vec<String> {
    form.all("imageTagMutabilityExclusionFilters")
        .flat_map(|value| value.split(|c: char| c == ',' || c.is_whitespace()))
        .filter(|f| !f.is_empty())
        .map(str::to_owned)
        .collect()
}

/// `scanOnPush` (or `imageScanningConfiguration.scanOnPush`): a ticked checkbox sends `true`.
pub(super) fn scan_on_push(form: &FormData) -> bool {
    form.first_of(&["scanOnPush", "imageScanningConfiguration.scanOnPush"])
        .is_some_and(|v| v.eq_ignore_ascii_case("true") || v.eq_ignore_ascii_case("on"))
}

/// The messages the API gives for a bad `repositoryName`, made by the same parser, for the script
/// that checks the name as it is typed: too short, too long, not the pattern.
fn name_messages() -> [String; 3] {
    let message = |bad: &str| {
        let constraint = RepositoryName::parse(bad).expect_err("an invalid example").0;
        EcrError::invalid_parameter("repositoryName", &constraint).message
    };
    [message("a"), message(&"a".repeat(257)), message("Not_A_Name")]
}

/// Whether an error is about the name (shown beside the name field as well as in the banner).
fn about_name(error: &EcrError) -> bool {
    error.code == EcrErrorCode::RepositoryAlreadyExistsException
        || error.message.starts_with("Invalid parameter at 'repositoryName'")
}

fn render(ctx: &Ctx, form: &FormData, error: Option<&EcrError>) -> Response {
    let name = form.get("repositoryName").unwrap_or_default();
    let name_error = error.filter(|e| about_name(e)).map(|e| e.message.as_str()).unwrap_or_default();
    let [short, long, pattern] = name_messages();
    let mode = form.get("imageTagMutability").unwrap_or(TagMutability::Mutable.wire());
    let encryption = form.first_of(&["encryptionType", "encryptionConfiguration.encryptionType"]);
    let encryption = encryption.unwrap_or(EncryptionType::Aes256.wire());
    let encryption_choices = [
        (EncryptionType::Aes256.wire(), "AES-256", "Amazon S3 managed keys (SSE-S3), the default."),
        (EncryptionType::Kms.wire(), "AWS KMS", "A key in AWS Key Management Service (SSE-KMS)."),
        (EncryptionType::KmsDsse.wire(), "Dual-layer AWS KMS", "Two layers of KMS encryption (DSSE-KMS)."),
    ];
    let body = html! {
        h1 { (TITLE) }
        form method="post" action=(ctx.href("/console/create-repository")) id="create-repository" class="stack" novalidate {
            input type="hidden" name="csrf" value=(ctx.csrf);
            section class="panel" aria-labelledby="general-h" {
                h2 id="general-h" { "General settings" }
                div class="field" {
                    label for="repositoryName" { "Repository name" }
                    p class="hint" id="repositoryName-hint" {
                        "2 to 256 characters: lowercase letters and digits, separated by " code { "." } " " code { "_" } " " code { "-" }
                        "; " code { "/" } " groups repositories into namespaces, as in " code { "project-a/web-app" } "."
                    }
                    div class="prefixed" {
                        span class="prefix" id="repositoryName-prefix" { (ctx.registry.host()) "/" }
                        input id="repositoryName" name="repositoryName" type="text" value=(name) autocomplete="off" autocapitalize="none" spellcheck="false"
                            aria-describedby="repositoryName-prefix repositoryName-hint repositoryName-error"
                            aria-invalid=[(!name_error.is_empty()).then_some("true")]
                            data-validate="repositoryName" data-msg-short=(short) data-msg-long=(long) data-msg-pattern=(pattern);
                    }
                    p class="field-error" id="repositoryName-error" aria-live="polite" { (name_error) }
                }
            }
            (mutability_fields(mode, &exclusion_filters(form).join("\n")))
            section class="panel" aria-labelledby="scan-h" {
                h2 id="scan-h" { "Image scan settings" }
                div class="check" {
                    input type="checkbox" id="scanOnPush" name="scanOnPush" value="true" checked[scan_on_push(form)];
                    label for="scanOnPush" { "Scan on push" }
                }
                p class="hint" { "Each image is scanned after it is pushed (" code { "imageScanningConfiguration.scanOnPush" } ")." }
            }
            section class="panel" aria-labelledby="encryption-h" {
                h2 id="encryption-h" { "Encryption settings" }
                fieldset {
                    legend { "Encryption type " code class="api" { "encryptionType" } }
                    (radios("encryptionType", encryption, &encryption_choices))
                }
                div class="field" {
                    label for="kmsKey" { "KMS key ARN " span class="muted" { "(optional, KMS types only; default " code { "aws/ecr" } ")" } }
                    input id="kmsKey" name="kmsKey" type="text" value=(form.first_of(&["kmsKey", "encryptionConfiguration.kmsKey"]).unwrap_or_default()) autocomplete="off" spellcheck="false";
                }
                p class="hint" { "The encryption settings cannot be changed once the repository exists." }
            }
            div class="form-actions" {
                a class="button" href=(ctx.href("/console/repositories")) { "Cancel" }
                " "
                button type="submit" class="primary" { "Create repository" }
            }
        }
    };
    let mut page = Page::new(TITLE)
        .crumb("Private repositories", Some(ctx.href("/console/repositories")))
        .crumb("Create repository", None)
        .body(body);
    if let Some(error) = error {
        page = page.flash(Flash::ecr(error)).status(StatusCode::BAD_REQUEST);
    }
    page.render(ctx)
}

/// The tag mutability section (create and edit): the four API settings and the exclusion filters.
pub(super) fn mutability_fields(mode: &str, filters: &str) -> Markup {
    let choices = [
        (TagMutability::Mutable.wire(), "Mutable", "Tags can be moved to another image (the default)."),
        (
            TagMutability::Immutable.wire(),
            "Immutable",
            "A pushed tag can never be overwritten: pushing it again is refused.",
        ),
        (
            TagMutability::ImmutableWithExclusion.wire(),
            "Immutable, with exclusions",
            "Tags are immutable, except those matching the filters below.",
        ),
        (
            TagMutability::MutableWithExclusion.wire(),
            "Mutable, with exclusions",
            "Tags are mutable, except those matching the filters below, which are immutable.",
        ),
    ];
    html! {
        section class="panel" aria-labelledby="mutability-h" {
            h2 id="mutability-h" { "Image tag mutability" }
            fieldset {
                legend { "Tag mutability " code class="api" { "imageTagMutability" } }
                (radios("imageTagMutability", mode, &choices))
            }
            div class="field" {
                label for="imageTagMutabilityExclusionFilters" { "Exclusion filters " code class="api" { "imageTagMutabilityExclusionFilters" } }
                p class="hint" id="filters-hint" {
                    "Only with the two \"with exclusions\" settings: 1 to 5 wildcard filters, one per line, such as "
                    code { "latest" } " or " code { "dev-*" } "."
                }
                textarea id="imageTagMutabilityExclusionFilters" name="imageTagMutabilityExclusionFilters" rows="3" aria-describedby="filters-hint" spellcheck="false" { (filters) }
            }
        }
    }
}

/// Radio buttons for an API member, each with its label and a description.
fn radios(name: &str, chosen: &str, choices: &[(&str, &str, &str)]) -> Markup {
    html! {
        @for (value, label, hint) in choices {
            @let id = format!("{name}-{value}");
            div class="radio" {
                input type="radio" id=(id) name=(name) value=(value) checked[*value == chosen] aria-describedby={ (id) "-hint" };
                label for=(id) { (label) " " code class="api" { (value) } }
                p class="hint" id={ (id) "-hint" } { (hint) }
            }
        }
    }
}
