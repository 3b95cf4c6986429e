//! Registry-level operations: the registry policy, account settings, pull-time update
//! exclusions, the signing configuration and DescribeImageSigningStatus, and
//! UpdateImageStorageClass. Rules live in `state::registry_settings`.

use axum::response::Response;
use serde::{Deserialize, Serialize};

use super::operations::{invalid, page, registry, repository_name, required};
use super::wire::ImageIdentifier;
use super::{EcrError, EcrErrorCode, json};
use crate::Lab;
use crate::state::registry_settings::{SettingsError, SigningConfiguration, SigningRule, StorageTarget};
use crate::state::{Caller, ImageRef};
use crate::types::{AccountId, RepositoryName};

/// The ECR code and text of a refused registry setting. Texts ECR was not seen to send are the lab's.
pub(super) fn settings_error(error: SettingsError, registry: &AccountId) -> EcrError {
    use EcrErrorCode as C;
    match error {
        SettingsError::RegistryPolicyNotFound => EcrError::new(
            C::RegistryPolicyNotFoundException,
            format!("Registry policy does not exist in the registry with id '{registry}'"),
        ),
        SettingsError::SigningConfigurationNotFound => EcrError::new(
            C::SigningConfigurationNotFoundException,
            format!("Signing configuration does not exist in the registry with id '{registry}'"),
        ),
        SettingsError::TemplateNotFound { prefix } => EcrError::new(
            C::TemplateNotFoundException,
            format!(
                "Repository creation template with prefix '{prefix}' does not exist in the registry with id '{registry}'"
            ),
        ),
        SettingsError::TemplateAlreadyExists { prefix } => EcrError::new(
            C::TemplateAlreadyExistsException,
            format!(
                "Repository creation template with prefix '{prefix}' already exists in the registry with id '{registry}'"
            ),
        ),
        SettingsError::ExclusionAlreadyExists { principal_arn } => EcrError::new(
            C::ExclusionAlreadyExistsException,
            format!(
                "The pull time update exclusion for principal '{principal_arn}' already exists in the registry with id '{registry}'"
            ),
        ),
        SettingsError::ExclusionNotFound { principal_arn } => EcrError::new(
            C::ExclusionNotFoundException,
            format!(
                "The pull time update exclusion for principal '{principal_arn}' does not exist in the registry with id '{registry}'"
            ),
        ),
        SettingsError::StorageClassUpdateNotSupported { reason } => {
            EcrError::new(C::ImageStorageClassUpdateNotSupportedException, reason)
        }
    }
}

/// The text awsJson services send for a member that fails its model constraint.
pub(super) fn validation(member: &str, value: &str, constraint: &str) -> EcrError {
    EcrError::new(
        EcrErrorCode::ValidationException,
        format!(
            "1 validation error detected: Value '{value}' at '{member}' failed to satisfy constraint: {constraint}"
        ),
    )
}

// ---- registry policy ----

#[derive(Deserialize, Default)]
#[serde(rename_all = "camelCase")]
pub(super) struct RegistryPolicyRequest {
    policy_text: Option<String>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct RegistryPolicyResponse {
    registry_id: String,
    policy_text: String,
}

pub(super) async fn put_registry_policy(
    lab: &Lab,
    caller: &Caller,
    request: RegistryPolicyRequest,
) -> Result<Response, EcrError> {
    let registry = registry(caller, None)?;
    let text = required(request.policy_text, "policyText")?;
    lab.write(|state| state.put_registry_policy(&registry, &text)).await?;
    Ok(json(RegistryPolicyResponse { registry_id: registry.account.to_string(), policy_text: text }))
}

pub(super) fn get_registry_policy(lab: &Lab, caller: &Caller) -> Result<Response, EcrError> {
    let registry = registry(caller, None)?;
    let text = lab.read(|state| state.registry_policy(&registry))?;
    Ok(json(RegistryPolicyResponse { registry_id: registry.account.to_string(), policy_text: text }))
}

pub(super) async fn delete_registry_policy(lab: &Lab, caller: &Caller) -> Result<Response, EcrError> {
    let registry = registry(caller, None)?;
    let text = lab.write(|state| state.delete_registry_policy(&registry)).await?;
    Ok(json(RegistryPolicyResponse { registry_id: registry.account.to_string(), policy_text: text }))
}

// ---- account settings ----

#[derive(Deserialize, Default)]
#[serde(rename_all = "camelCase")]
pub(super) struct AccountSettingRequest {
    name: Option<String>,
    value: Option<String>,
}

#[derive(Serialize)]
struct AccountSettingResponse {
    name: String,
    value: String,
}

fn setting_name(name: Option<String>) -> Result<String, EcrError> {
    let name = required(name, "name")?;
    if !(1..=64).contains(&name.chars().count()) {
        return Err(invalid("name", "Member must have length between 1 and 64"));
    }
    Ok(name)
}

pub(super) fn get_account_setting(
    lab: &Lab,
    caller: &Caller,
    request: AccountSettingRequest,
) -> Result<Response, EcrError> {
    let registry = registry(caller, None)?;
    let name = setting_name(request.name)?;
    let value = lab.read(|state| state.registry_settings(&registry).account_setting(&name));
    let Some(value) = value else {
        let names: Vec<&str> = crate::state::registry_settings::ACCOUNT_SETTINGS.iter().map(|(n, _, _)| *n).collect();
        return Err(invalid("name", &format!("Member must satisfy enum value set: [{}]", names.join(", "))));
    };
    Ok(json(AccountSettingResponse { name, value }))
}

pub(super) async fn put_account_setting(
    lab: &Lab,
    caller: &Caller,
    request: AccountSettingRequest,
) -> Result<Response, EcrError> {
    let registry = registry(caller, None)?;
    let name = setting_name(request.name)?;
    let value = required(request.value, "value")?;
    lab.write(|state| state.put_account_setting(&registry, &name, &value)).await?;
    Ok(json(AccountSettingResponse { name, value }))
}

// ---- pull-time update exclusions ----

#[derive(Deserialize, Default)]
#[serde(rename_all = "camelCase")]
pub(super) struct ExclusionRequest {
    principal_arn: Option<String>,
    max_results: Option<i64>,
    next_token: Option<String>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct ExclusionResponse {
    principal_arn: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    created_at: Option<f64>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct ListExclusionsResponse {
    pull_time_update_exclusions: Vec<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    next_token: Option<String>,
}

const PRINCIPAL_ARN_PATTERN: &str = r"^arn:aws(-[a-z]+)*:iam::[0-9]{12}:(role|user)/[\w+=,.@-]+(/[\w+=,.@-]+)*$";
const SIGNING_PROFILE_PATTERN: &str =
    r"^arn:aws(-[a-z]+)*:signer:[a-z0-9-]+:[0-9]{12}:\/signing-profiles\/[a-zA-Z0-9_]{2,}$";

/// `arn:aws` then any `-partition` suffixes; the rest of the text.
fn after_partition(text: &str) -> Option<&str> {
    let mut rest = text.strip_prefix("arn:aws")?;
    while let Some(after_dash) = rest.strip_prefix('-') {
        let letters = after_dash.chars().take_while(char::is_ascii_lowercase).count();
        if letters == 0 {
            return None;
        }
        rest = &after_dash[letters..];
    }
    Some(rest)
}

fn twelve_digits(text: &str) -> Option<&str> {
    let (account, rest) = text.split_at_checked(12)?;
    account.chars().all(|c| c.is_ascii_digit()).then_some(rest)
}

/// The model's `PrincipalArn` pattern (an IAM role or user ARN), checked by hand.
fn is_principal_arn(text: &str) -> bool {
    let word = |c: char| c.is_ascii_alphanumeric() || "_+=,.@-".contains(c);
    let Some(rest) = after_partition(text).and_then(|r| r.strip_prefix(":iam::")).and_then(twelve_digits) else {
        return false;
    };
    let Some(path) = rest.strip_prefix(":role/").or_else(|| rest.strip_prefix(":user/")) else {
        return false;
    };
    text.len() <= 200 && path.split('/').all(|segment| !segment.is_empty() && segment.chars().all(word))
}

/// The model's `SigningProfileArn` pattern, checked by hand.
fn is_signing_profile_arn(text: &str) -> bool {
    let Some(rest) = after_partition(text).and_then(|r| r.strip_prefix(":signer:")) else {
        return false;
    };
    let Some((region, rest)) = rest.split_once(':') else {
        return false;
    };
    let region_ok =
        !region.is_empty() && region.chars().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-');
    let Some(name) = twelve_digits(rest).and_then(|r| r.strip_prefix(":/signing-profiles/")) else {
        return false;
    };
    let name_ok = name.len() >= 2 && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_');
    text.len() <= 200 && region_ok && name_ok
}

fn principal_arn(value: Option<String>) -> Result<String, EcrError> {
    let arn = required(value, "principalArn")?;
    if !is_principal_arn(&arn) {
        let constraint = format!("Member must satisfy regular expression pattern: {PRINCIPAL_ARN_PATTERN}");
        return Err(validation("principalArn", &arn, &constraint));
    }
    Ok(arn)
}

pub(super) async fn register_pull_time_update_exclusion(
    lab: &Lab,
    caller: &Caller,
    request: ExclusionRequest,
) -> Result<Response, EcrError> {
    let registry = registry(caller, None)?;
    let arn = principal_arn(request.principal_arn)?;
    let at = lab.write(|state| state.register_pull_time_exclusion(&registry, &arn)).await?;
    Ok(json(ExclusionResponse { principal_arn: arn, created_at: Some(at.epoch_seconds()) }))
}

pub(super) async fn deregister_pull_time_update_exclusion(
    lab: &Lab,
    caller: &Caller,
    request: ExclusionRequest,
) -> Result<Response, EcrError> {
    let registry = registry(caller, None)?;
    let arn = principal_arn(request.principal_arn)?;
    lab.write(|state| state.deregister_pull_time_exclusion(&registry, &arn)).await?;
    Ok(json(ExclusionResponse { principal_arn: arn, created_at: None }))
}

pub(super) fn list_pull_time_update_exclusions(
    lab: &Lab,
    caller: &Caller,
    request: ExclusionRequest,
) -> Result<Response, EcrError> {
    let registry = registry(caller, None)?;
    let page = page(lab, request.max_results, request.next_token)?;
    let arns: Vec<String> =
        lab.read(|state| state.registry_settings(&registry).pull_time_exclusions.into_keys().collect());
    let (arns, next_token) = page.take(arns.into_iter(), String::clone);
    Ok(json(ListExclusionsResponse { pull_time_update_exclusions: arns, next_token }))
}

// ---- signing ----

#[derive(Deserialize, Serialize, Default, Clone)]
#[serde(rename_all = "camelCase")]
pub(super) struct SigningConfigurationWire {
    rules: Option<Vec<SigningRuleWire>>,
}

#[derive(Deserialize, Serialize, Default, Clone)]
#[serde(rename_all = "camelCase")]
struct SigningRuleWire {
    signing_profile_arn: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    repository_filters: Option<Vec<SigningFilterWire>>,
}

#[derive(Deserialize, Serialize, Default, Clone)]
#[serde(rename_all = "camelCase")]
struct SigningFilterWire {
    filter: Option<String>,
    filter_type: Option<String>,
}

impl From<&SigningConfiguration> for SigningConfigurationWire {
    fn from(configuration: &SigningConfiguration) -> Self {
        let rules = configuration
            .rules
            .iter()
            .map(|rule| SigningRuleWire {
                signing_profile_arn: Some(rule.signing_profile_arn.clone()),
                repository_filters: (!rule.repository_filters.is_empty()).then(|| {
                    rule.repository_filters
                        .iter()
                        .map(|f| SigningFilterWire {
                            filter: Some(f.clone()),
                            filter_type: Some("WILDCARD_MATCH".into()),
                        })
                        .collect()
                }),
            })
            .collect();
        Self { rules: Some(rules) }
    }
}

fn signing_rule(rule: SigningRuleWire) -> Result<SigningRule, EcrError> {
    let arn = required(rule.signing_profile_arn, "signingConfiguration.rules.member.signingProfileArn")?;
    if !is_signing_profile_arn(&arn) {
        let constraint = format!("Member must satisfy regular expression pattern: {SIGNING_PROFILE_PATTERN}");
        return Err(validation("signingConfiguration.rules.member.signingProfileArn", &arn, &constraint));
    }
    let filters = rule.repository_filters.unwrap_or_default();
    if filters.len() > 100 {
        return Err(invalid("repositoryFilters", "Member must have length less than or equal to 100"));
    }
    let filters = filters
        .into_iter()
        .map(|f| {
            let filter_type = required(f.filter_type, "repositoryFilters.filterType")?;
            if filter_type != "WILDCARD_MATCH" {
                return Err(invalid(
                    "repositoryFilters.filterType",
                    "Member must satisfy enum value set: [WILDCARD_MATCH]",
                ));
            }
            let filter = required(f.filter, "repositoryFilters.filter")?;
            if !(1..=256).contains(&filter.len()) {
                return Err(invalid("repositoryFilters.filter", "Member must have length between 1 and 256"));
            }
            Ok(filter)
        })
        .collect::<Result<Vec<_>, _>>()?;
    Ok(SigningRule { signing_profile_arn: arn, repository_filters: filters })
}

#[derive(Deserialize, Default)]
#[serde(rename_all = "camelCase")]
pub(super) struct SigningRequest {
    signing_configuration: Option<SigningConfigurationWire>,
    registry_id: Option<String>,
    repository_name: Option<String>,
    image_id: Option<ImageIdentifier>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct SigningResponse {
    #[serde(skip_serializing_if = "Option::is_none")]
    registry_id: Option<String>,
    signing_configuration: SigningConfigurationWire,
}

pub(super) async fn put_signing_configuration(
    lab: &Lab,
    caller: &Caller,
    request: SigningRequest,
) -> Result<Response, EcrError> {
    let registry = registry(caller, None)?;
    let wire = required(request.signing_configuration, "signingConfiguration")?;
    let rules = required(wire.rules, "signingConfiguration.rules")?;
    let rules = rules.into_iter().map(signing_rule).collect::<Result<Vec<_>, _>>()?;
    let configuration = SigningConfiguration { rules };
    lab.write(|state| state.put_signing_configuration(&registry, configuration.clone())).await?;
    Ok(json(SigningResponse { registry_id: None, signing_configuration: (&configuration).into() }))
}

pub(super) fn get_signing_configuration(lab: &Lab, caller: &Caller) -> Result<Response, EcrError> {
    let registry = registry(caller, None)?;
    let configuration = lab.read(|state| state.signing_configuration(&registry))?;
    Ok(json(SigningResponse {
        registry_id: Some(registry.account.to_string()),
        signing_configuration: (&configuration).into(),
    }))
}

pub(super) async fn delete_signing_configuration(lab: &Lab, caller: &Caller) -> Result<Response, EcrError> {
    let registry = registry(caller, None)?;
    let configuration = lab.write(|state| state.delete_signing_configuration(&registry)).await?;
    Ok(json(SigningResponse {
        registry_id: Some(registry.account.to_string()),
        signing_configuration: (&configuration).into(),
    }))
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct SigningStatusOut {
    signing_profile_arn: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    failure_code: Option<&'static str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    failure_reason: Option<String>,
    status: &'static str,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct SigningStatusResponse {
    repository_name: String,
    image_id: ImageIdentifier,
    registry_id: String,
    signing_statuses: Vec<SigningStatusOut>,
}

/// `imageId`: a digest, a tag or both.
fn image_ref(id: Option<ImageIdentifier>) -> Result<ImageRef, EcrError> {
    let id = required(id, "imageId")?;
    if id.image_digest.is_none() && id.image_tag.is_none() {
        return Err(invalid("imageId", "Invalid request parameters: both tag and digest cannot be null"));
    }
    Ok(ImageRef { digest: id.image_digest, tag: id.image_tag })
}

/// One status per signing rule that covers the repository. The lab has no AWS Signer: an image
/// counts as signed (COMPLETE) when a signature refers to it (`ecr-lab sign`, cosign, notation).
pub(super) fn describe_image_signing_status(
    lab: &Lab,
    caller: &Caller,
    request: SigningRequest,
) -> Result<Response, EcrError> {
    let registry = registry(caller, request.registry_id)?;
    let name = repository_name(request.repository_name)?;
    let id = image_ref(request.image_id)?;
    lab.read(|state| {
        let repository = state.repository(&registry, &name)?;
        let image = repository.find(&id).map_err(|_| crate::state::StateError::ImageNotFound {
            image: id.clone(),
            name: name.clone(),
            registry: registry.account.clone(),
        })?;
        let signed = repository.images.values().any(|i| i.subject.as_ref() == Some(&image.digest) && is_signature(i));
        let rules = state.registry_settings(&registry).signing.map(|c| c.rules).unwrap_or_default();
        let signing_statuses = rules
            .into_iter()
            .filter(|rule| rule.applies_to(&name))
            .map(|rule| SigningStatusOut {
                signing_profile_arn: rule.signing_profile_arn,
                failure_code: (!signed).then_some("SignatureNotFound"),
                failure_reason: (!signed).then(|| {
                    "The lab does not call AWS Signer: no signature refers to this image. Sign it with `ecr-lab sign`.".to_owned()
                }),
                status: if signed { "COMPLETE" } else { "FAILED" },
            })
            .collect();
        Ok(json(SigningStatusResponse {
            repository_name: name.to_string(),
            image_id: ImageIdentifier { image_digest: Some(image.digest.to_string()), image_tag: id.tag.clone() },
            registry_id: registry.account.to_string(),
            signing_statuses,
        }))
    })
}

/// A cosign signature manifest or a Notary Project signature.
pub(super) fn is_signature(image: &crate::state::Image) -> bool {
    image.manifest.contains("application/vnd.dev.cosign.simplesigning.v1+json")
        || image.artifact_type.as_deref() == Some("application/vnd.cncf.notary.signature")
}

// ---- storage class ----

#[derive(Deserialize, Default)]
#[serde(rename_all = "camelCase")]
pub(super) struct StorageClassRequest {
    registry_id: Option<String>,
    repository_name: Option<String>,
    image_id: Option<ImageIdentifier>,
    target_storage_class: Option<String>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct StorageClassResponse {
    registry_id: String,
    repository_name: String,
    image_id: ImageIdentifier,
    image_status: &'static str,
}

pub(super) async fn update_image_storage_class(
    lab: &Lab,
    caller: &Caller,
    request: StorageClassRequest,
) -> Result<Response, EcrError> {
    let registry = registry(caller, request.registry_id)?;
    let name: RepositoryName = repository_name(request.repository_name)?;
    let id = image_ref(request.image_id)?;
    let target = match required(request.target_storage_class, "targetStorageClass")?.as_str() {
        "STANDARD" => StorageTarget::Standard,
        "ARCHIVE" => StorageTarget::Archive,
        _ => return Err(invalid("targetStorageClass", "Member must satisfy enum value set: [STANDARD, ARCHIVE]")),
    };
    let digest = lab.write(|state| state.update_image_storage_class(&registry, &name, &id, target)).await?;
    Ok(json(StorageClassResponse {
        registry_id: registry.account.to_string(),
        repository_name: name.to_string(),
        image_id: ImageIdentifier { image_digest: Some(digest.to_string()), image_tag: id.tag },
        // A restore takes time on ECR, which answers ACTIVATING; the lab's is done at once.
        image_status: match target {
            StorageTarget::Archive => "ARCHIVED",
            StorageTarget::Standard => "ACTIVATING",
        },
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn arns_are_checked_against_the_models_patterns() {
        assert!(is_principal_arn("arn:aws:iam::123456789012:role/scanner"));
        assert!(is_principal_arn("arn:aws-cn:iam::123456789012:user/path/ci.bot"));
        assert!(!is_principal_arn("arn:aws:iam::123456789012:group/devs"));
        assert!(!is_principal_arn("arn:aws:iam::12345678901:role/x"));
        assert!(!is_principal_arn("arn:aws:iam::123456789012:role/"));
        assert!(is_signing_profile_arn("arn:aws:signer:us-east-1:123456789012:/signing-profiles/lab_profile"));
        assert!(!is_signing_profile_arn("arn:aws:signer:us-east-1:123456789012:/signing-profiles/x"));
        assert!(!is_signing_profile_arn("arn:aws:kms:us-east-1:123456789012:/signing-profiles/lab"));
    }
}
