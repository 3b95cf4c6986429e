//! Registry-level settings that are not repositories: the registry policy, account settings,
//! pull-time update exclusions, the managed-signing configuration, image storage classes
//! (archive) and repository creation templates (`templates`). Each change is one
//! [`Event::RegistrySettingChanged`], applied by [`RegistrySettings::apply`].

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use super::policy::{PolicyDocument, PolicyKind, wildcard};
use super::templates::CreationTemplate;
use super::{Event, RegistryKey, State, StateError};
use crate::types::{AccountId, Digest, Millis, RepositoryName};

/// "You can configure up to 100 exclusions per account" (ECR user guide, pull-time update exclusions).
pub const MAX_PULL_TIME_EXCLUSIONS: usize = 100;
/// The model's `SigningRuleList`: at most 10 rules.
pub const MAX_SIGNING_RULES: usize = 10;

/// The account settings ECR documents (API reference, PutAccountSetting), each with its values and
/// the value a new registry has (V2 is "the default registry policy scope").
pub const ACCOUNT_SETTINGS: &[(&str, &[&str], &str)] = &[
    ("BASIC_SCAN_TYPE_VERSION", &["AWS_NATIVE", "CLAIR"], "AWS_NATIVE"),
    ("REGISTRY_POLICY_SCOPE", &["V1", "V2"], "V2"),
    ("BLOB_MOUNTING", &["ENABLED", "DISABLED"], "DISABLED"),
];

/// One registry's settings (per account and region, as ECR keeps them).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct RegistrySettings {
    /// PutRegistryPolicy: the validated text.
    #[serde(default)]
    pub policy: Option<String>,
    /// Account settings that were put (the rest have their defaults).
    #[serde(default)]
    pub account_settings: BTreeMap<String, String>,
    /// Principal ARN → when it was registered.
    #[serde(default)]
    pub pull_time_exclusions: BTreeMap<String, Millis>,
    #[serde(default)]
    pub signing: Option<SigningConfiguration>,
    /// Repository creation templates by prefix (`ROOT` for the registry-wide one).
    #[serde(default)]
    pub templates: BTreeMap<String, CreationTemplate>,
    /// Images not in the standard storage class, by repository and digest.
    #[serde(default)]
    pub archived: BTreeMap<RepositoryName, BTreeMap<Digest, Millis>>,
}

/// `signingConfiguration`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SigningConfiguration {
    pub rules: Vec<SigningRule>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SigningRule {
    pub signing_profile_arn: String,
    /// `WILDCARD_MATCH` filters on the repository name; none means every repository.
    pub repository_filters: Vec<String>,
}

impl SigningRule {
    pub fn applies_to(&self, name: &RepositoryName) -> bool {
        self.repository_filters.is_empty() || self.repository_filters.iter().any(|f| wildcard(f, name.as_str()))
    }
}

/// A change to a registry's settings, journaled inside [`Event::RegistrySettingChanged`].
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SettingChange {
    PolicySet(String),
    PolicyDeleted,
    AccountSettingPut { name: String, value: String },
    ExclusionRegistered { principal_arn: String, at: Millis },
    ExclusionDeregistered { principal_arn: String },
    SigningSet(SigningConfiguration),
    SigningDeleted,
    TemplatePut(Box<CreationTemplate>),
    TemplateDeleted { prefix: String },
    Archived { name: RepositoryName, digest: Digest, at: Millis },
    Restored { name: RepositoryName, digest: Digest },
}

/// What the registry settings can refuse; `ecr_api` gives each its ECR code and text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SettingsError {
    RegistryPolicyNotFound,
    SigningConfigurationNotFound,
    TemplateNotFound {
        prefix: String,
    },
    TemplateAlreadyExists {
        prefix: String,
    },
    ExclusionAlreadyExists {
        principal_arn: String,
    },
    ExclusionNotFound {
        principal_arn: String,
    },
    /// UpdateImageStorageClass to the class the image is already in (restoring an active image).
    StorageClassUpdateNotSupported {
        reason: String,
    },
}

impl RegistrySettings {
    pub(super) fn apply(&mut self, change: &SettingChange) {
        match change {
            SettingChange::PolicySet(text) => self.policy = Some(text.clone()),
            SettingChange::PolicyDeleted => self.policy = None,
            SettingChange::AccountSettingPut { name, value } => {
                self.account_settings.insert(name.clone(), value.clone());
            }
            SettingChange::ExclusionRegistered { principal_arn, at } => {
                self.pull_time_exclusions.insert(principal_arn.clone(), *at);
            }
            SettingChange::ExclusionDeregistered { principal_arn } => {
                self.pull_time_exclusions.remove(principal_arn);
            }
            SettingChange::SigningSet(configuration) => self.signing = Some(configuration.clone()),
            SettingChange::SigningDeleted => self.signing = None,
            SettingChange::TemplatePut(template) => {
                self.templates.insert(template.prefix.clone(), (**template).clone());
            }
            SettingChange::TemplateDeleted { prefix } => {
                self.templates.remove(prefix);
            }
            SettingChange::Archived { name, digest, at } => {
                self.archived.entry(name.clone()).or_default().insert(digest.clone(), *at);
            }
            SettingChange::Restored { name, digest } => self.forget_archived(name, Some(digest)),
        }
    }

    /// An image pushed again, or deleted, leaves the archive; a deleted repository takes its archive with it.
    pub(super) fn forget_archived(&mut self, name: &RepositoryName, digest: Option<&Digest>) {
        match digest {
            Some(digest) => {
                if let Some(images) = self.archived.get_mut(name) {
                    images.remove(digest);
                    if images.is_empty() {
                        self.archived.remove(name);
                    }
                }
            }
            None => {
                self.archived.remove(name);
            }
        }
    }

    /// When the image was archived, if it is.
    pub fn archived_at(&self, name: &RepositoryName, digest: &Digest) -> Option<Millis> {
        self.archived.get(name).and_then(|images| images.get(digest)).copied()
    }

    /// An account setting's value: the one put, else the default.
    pub fn account_setting(&self, name: &str) -> Option<String> {
        if let Some(value) = self.account_settings.get(name) {
            return Some(value.clone());
        }
        ACCOUNT_SETTINGS.iter().find(|(n, _, _)| *n == name).map(|(_, _, default)| (*default).to_owned())
    }
}

/// The image's storage class as the model names its status.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StorageTarget {
    Standard,
    Archive,
}

impl State {
    fn settings_of(&self, registry: &RegistryKey) -> Option<&RegistrySettings> {
        self.registry(registry).map(|r| &r.settings)
    }

    /// The registry's settings (defaults if nothing was ever set).
    pub fn registry_settings(&self, registry: &RegistryKey) -> RegistrySettings {
        self.settings_of(registry).cloned().unwrap_or_default()
    }

    pub(super) fn record_setting(&mut self, registry: &RegistryKey, change: SettingChange) {
        self.record(Event::RegistrySettingChanged { registry: registry.clone(), change });
    }

    /// PutRegistryPolicy: validated as a resource-based policy, as ECR validates it.
    pub fn put_registry_policy(&mut self, registry: &RegistryKey, text: &str) -> Result<(), StateError> {
        if text.chars().count() > 10240 {
            return Err(StateError::InvalidArgument {
                member: "policyText",
                constraint: "Member must have length less than or equal to 10240".into(),
            });
        }
        PolicyDocument::parse(text, PolicyKind::Resource).map_err(|e| StateError::InvalidArgument {
            member: "policyText",
            constraint: format!("Invalid registry policy provided: {}", e.0),
        })?;
        self.record_setting(registry, SettingChange::PolicySet(text.to_owned()));
        Ok(())
    }

    pub fn registry_policy(&self, registry: &RegistryKey) -> Result<String, StateError> {
        self.settings_of(registry)
            .and_then(|s| s.policy.clone())
            .ok_or_else(|| settings_error(registry, SettingsError::RegistryPolicyNotFound))
    }

    /// DeleteRegistryPolicy: returns the text it deleted.
    pub fn delete_registry_policy(&mut self, registry: &RegistryKey) -> Result<String, StateError> {
        let text = self.registry_policy(registry)?;
        self.record_setting(registry, SettingChange::PolicyDeleted);
        Ok(text)
    }

    /// Whether the registry policy lets `principal_arn` (of `principal_account`) do `action` in
    /// this registry: the permission check of cross-account replication (`ecr:ReplicateImage`)
    /// and of repositories created for replication or pull through cache (`ecr:CreateRepository`).
    /// The registry's own account needs no registry policy.
    pub fn registry_policy_allows(
        &self,
        registry: &RegistryKey,
        principal_arn: &str,
        principal_account: &AccountId,
        action: &str,
    ) -> bool {
        if principal_account == &registry.account {
            return true;
        }
        let Some(text) = self.settings_of(registry).and_then(|s| s.policy.as_deref()) else {
            return false;
        };
        let Ok(policy) = PolicyDocument::parse(text, PolicyKind::Resource) else {
            return false;
        };
        let resource = format!("arn:aws:ecr:{}:{}:repository/*", registry.region, registry.account);
        let request = super::policy::Request::new(principal_arn, principal_account.as_str(), action, &resource);
        matches!(super::policy::evaluate(&policy, &request), super::policy::Decision::Allow)
    }

    /// PutAccountSetting: a documented name with one of its values.
    pub fn put_account_setting(&mut self, registry: &RegistryKey, name: &str, value: &str) -> Result<(), StateError> {
        let Some((_, values, _)) = ACCOUNT_SETTINGS.iter().find(|(n, _, _)| *n == name) else {
            let names: Vec<&str> = ACCOUNT_SETTINGS.iter().map(|(n, _, _)| *n).collect();
            return Err(StateError::InvalidArgument {
                member: "name",
                constraint: format!("Member must satisfy enum value set: [{}]", names.join(", ")),
            });
        };
        if !values.contains(&value) {
            return Err(StateError::InvalidArgument {
                member: "value",
                constraint: format!("Member must satisfy enum value set for {name}: [{}]", values.join(", ")),
            });
        }
        let change = SettingChange::AccountSettingPut { name: name.to_owned(), value: value.to_owned() };
        self.record_setting(registry, change);
        Ok(())
    }

    /// RegisterPullTimeUpdateExclusion: returns when it was registered.
    pub fn register_pull_time_exclusion(
        &mut self,
        registry: &RegistryKey,
        principal_arn: &str,
    ) -> Result<Millis, StateError> {
        let settings = self.registry_settings(registry);
        if settings.pull_time_exclusions.contains_key(principal_arn) {
            let error = SettingsError::ExclusionAlreadyExists { principal_arn: principal_arn.to_owned() };
            return Err(settings_error(registry, error));
        }
        if settings.pull_time_exclusions.len() >= MAX_PULL_TIME_EXCLUSIONS {
            return Err(StateError::LimitExceeded {
                what: format!("the limit of {MAX_PULL_TIME_EXCLUSIONS} pull time update exclusions per registry"),
            });
        }
        let at = self.now_for(&registry.account);
        self.record_setting(
            registry,
            SettingChange::ExclusionRegistered { principal_arn: principal_arn.to_owned(), at },
        );
        Ok(at)
    }

    pub fn deregister_pull_time_exclusion(
        &mut self,
        registry: &RegistryKey,
        principal_arn: &str,
    ) -> Result<(), StateError> {
        if !self.settings_of(registry).is_some_and(|s| s.pull_time_exclusions.contains_key(principal_arn)) {
            let error = SettingsError::ExclusionNotFound { principal_arn: principal_arn.to_owned() };
            return Err(settings_error(registry, error));
        }
        self.record_setting(registry, SettingChange::ExclusionDeregistered { principal_arn: principal_arn.to_owned() });
        Ok(())
    }

    pub fn put_signing_configuration(
        &mut self,
        registry: &RegistryKey,
        configuration: SigningConfiguration,
    ) -> Result<(), StateError> {
        if configuration.rules.len() > MAX_SIGNING_RULES {
            return Err(StateError::InvalidArgument {
                member: "signingConfiguration.rules",
                constraint: format!("Member must have length less than or equal to {MAX_SIGNING_RULES}"),
            });
        }
        self.record_setting(registry, SettingChange::SigningSet(configuration));
        Ok(())
    }

    pub fn signing_configuration(&self, registry: &RegistryKey) -> Result<SigningConfiguration, StateError> {
        self.settings_of(registry)
            .and_then(|s| s.signing.clone())
            .ok_or_else(|| settings_error(registry, SettingsError::SigningConfigurationNotFound))
    }

    pub fn delete_signing_configuration(&mut self, registry: &RegistryKey) -> Result<SigningConfiguration, StateError> {
        let configuration = self.signing_configuration(registry)?;
        self.record_setting(registry, SettingChange::SigningDeleted);
        Ok(configuration)
    }

    /// UpdateImageStorageClass: archives or restores one image; returns its digest and whether it
    /// is archived now.
    pub fn update_image_storage_class(
        &mut self,
        registry: &RegistryKey,
        name: &RepositoryName,
        image: &super::ImageRef,
        target: StorageTarget,
    ) -> Result<Digest, StateError> {
        let digest = self.repository(registry, name)?.find(image).map_err(|_| StateError::ImageNotFound {
            image: image.clone(),
            name: name.clone(),
            registry: registry.account.clone(),
        })?;
        let digest = digest.digest.clone();
        let archived = self.settings_of(registry).and_then(|s| s.archived_at(name, &digest)).is_some();
        match (target, archived) {
            (StorageTarget::Archive, true) => {}
            (StorageTarget::Archive, false) => {
                let at = self.now_for(&registry.account);
                self.record_setting(
                    registry,
                    SettingChange::Archived { name: name.clone(), digest: digest.clone(), at },
                );
            }
            (StorageTarget::Standard, true) => {
                self.record_setting(registry, SettingChange::Restored { name: name.clone(), digest: digest.clone() });
            }
            (StorageTarget::Standard, false) => {
                let reason = format!(
                    "The image with digest '{digest}' in the repository with name '{name}' is not archived, so it cannot be restored to STANDARD"
                );
                return Err(settings_error(registry, SettingsError::StorageClassUpdateNotSupported { reason }));
            }
        }
        Ok(digest)
    }

    /// Whether an image is archived (archived images cannot be pulled).
    pub fn is_archived(&self, registry: &RegistryKey, name: &RepositoryName, digest: &Digest) -> bool {
        self.settings_of(registry).and_then(|s| s.archived_at(name, digest)).is_some()
    }
}

pub(super) fn settings_error(registry: &RegistryKey, error: SettingsError) -> StateError {
    StateError::Settings { error, registry: registry.account.clone() }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::state::{DEFAULT_ACCOUNT, ImageRef, PutMode};
    use crate::types::Region;

    fn registry() -> RegistryKey {
        RegistryKey::new(AccountId::parse(DEFAULT_ACCOUNT).unwrap(), Region::parse("us-east-1").unwrap())
    }

    #[test]
    fn settings_are_journaled_and_replay_the_same() {
        let registry = registry();
        let mut state = State::new(b"secret".to_vec());
        let policy = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::210987654321:root"},"Action":["ecr:ReplicateImage","ecr:CreateRepository"],"Resource":"*"}]}"#;
        state.put_registry_policy(&registry, policy).unwrap();
        state.put_account_setting(&registry, "REGISTRY_POLICY_SCOPE", "V1").unwrap();
        state.register_pull_time_exclusion(&registry, "arn:aws:iam::123456789012:role/scanner").unwrap();
        let rule = SigningRule { signing_profile_arn: "arn".into(), repository_filters: vec!["prod/*".into()] };
        state.put_signing_configuration(&registry, SigningConfiguration { rules: vec![rule] }).unwrap();
        let replayed = State::replay(state.take_outbox());
        assert_eq!(replayed.registry_settings(&registry), state.registry_settings(&registry));
        assert_eq!(replayed.registry_policy(&registry).unwrap(), policy);
        let other = AccountId::parse("210987654321").unwrap();
        let arn = "arn:aws:iam::210987654321:root";
        assert!(replayed.registry_policy_allows(&registry, arn, &other, "ecr:ReplicateImage"));
        assert!(!replayed.registry_policy_allows(&registry, arn, &other, "ecr:PutImage"));
        assert_eq!(
            replayed.registry_settings(&registry).account_setting("BASIC_SCAN_TYPE_VERSION").unwrap(),
            "AWS_NATIVE"
        );
    }

    #[test]
    fn bad_values_and_duplicates_are_refused() {
        let registry = registry();
        let mut state = State::new(b"secret".to_vec());
        assert!(state.put_registry_policy(&registry, "{not json").is_err());
        assert!(state.put_account_setting(&registry, "NO_SUCH_SETTING", "V1").is_err());
        assert!(state.put_account_setting(&registry, "REGISTRY_POLICY_SCOPE", "V3").is_err());
        let arn = "arn:aws:iam::123456789012:role/scanner";
        state.register_pull_time_exclusion(&registry, arn).unwrap();
        assert!(matches!(
            state.register_pull_time_exclusion(&registry, arn),
            Err(StateError::Settings { error: SettingsError::ExclusionAlreadyExists { .. }, .. })
        ));
        state.deregister_pull_time_exclusion(&registry, arn).unwrap();
        assert!(state.deregister_pull_time_exclusion(&registry, arn).is_err());
        assert!(state.delete_registry_policy(&registry).is_err());
        assert!(state.delete_signing_configuration(&registry).is_err());
    }

    #[test]
    fn archiving_an_image_and_pushing_it_again_restores_it() {
        let registry = registry();
        let mut state = State::new(b"secret".to_vec());
        let name = crate::state::templates::tests::create(&mut state, &registry, "app");
        let image = crate::state::repository::tests::image_at(1, Millis(0));
        let digest = image.digest.clone();
        state.put_image(&registry, &name, image.clone(), None, PutMode::Api).unwrap();
        let by_digest = ImageRef { digest: Some(digest.to_string()), tag: None };
        assert!(state.update_image_storage_class(&registry, &name, &by_digest, StorageTarget::Standard).is_err());
        state.update_image_storage_class(&registry, &name, &by_digest, StorageTarget::Archive).unwrap();
        assert!(state.is_archived(&registry, &name, &digest));
        let replayed = State::replay(state.take_outbox());
        assert!(replayed.is_archived(&registry, &name, &digest));
        state.update_image_storage_class(&registry, &name, &by_digest, StorageTarget::Standard).unwrap();
        assert!(!state.is_archived(&registry, &name, &digest));
        state.update_image_storage_class(&registry, &name, &by_digest, StorageTarget::Archive).unwrap();
        state.put_image(&registry, &name, image, None, PutMode::Registry).unwrap();
        assert!(!state.is_archived(&registry, &name, &digest), "a push restores an archived image");
    }
}
