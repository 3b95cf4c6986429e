//! Repository creation templates: the settings ECR gives repositories it creates on your behalf
//! (pull through cache, replication, and create on push, each only if the template is applied
//! for it). No template applies unless one was created, as on AWS.

use serde::{Deserialize, Serialize};

use super::lifecycle::LifecyclePolicy;
use super::policy::{PolicyDocument, PolicyKind};
use super::registry_settings::{SettingChange, SettingsError, settings_error};
use super::{Encryption, NewRepository, RegistryKey, Repository, RepositoryUpdate, ResourceTag, State, StateError};
use super::{TagMutabilitySetting, repository::MAX_RESOURCE_TAGS};
use crate::types::{Millis, RepositoryName};

/// The prefix of the template for every repository no other template covers.
pub const ROOT: &str = "ROOT";

/// `appliedFor`: what kind of repository creation a template is used for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum AppliedFor {
    Replication,
    PullThroughCache,
    CreateOnPush,
}

impl AppliedFor {
    pub const ALL: [AppliedFor; 3] = [AppliedFor::Replication, AppliedFor::PullThroughCache, AppliedFor::CreateOnPush];

    pub fn wire(self) -> &'static str {
        match self {
            Self::Replication => "REPLICATION",
            Self::PullThroughCache => "PULL_THROUGH_CACHE",
            Self::CreateOnPush => "CREATE_ON_PUSH",
        }
    }

    pub fn from_wire(value: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|a| a.wire() == value)
    }
}

/// One template, as DescribeRepositoryCreationTemplates reports it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CreationTemplate {
    /// `prefix`, without the trailing `/` ECR assumes; `ROOT` for the registry-wide template.
    pub prefix: String,
    pub description: Option<String>,
    pub encryption: Encryption,
    pub resource_tags: Vec<ResourceTag>,
    pub tag_mutability: TagMutabilitySetting,
    pub repository_policy: Option<String>,
    pub lifecycle_policy: Option<String>,
    pub applied_for: Vec<AppliedFor>,
    pub custom_role_arn: Option<String>,
    pub created_at: Millis,
    pub updated_at: Millis,
}

impl CreationTemplate {
    /// Whether this template's prefix covers `name` (`prod` covers `prod/app`, not `production`).
    fn covers(&self, name: &RepositoryName) -> bool {
        self.prefix == ROOT || name.as_str().strip_prefix(&self.prefix).is_some_and(|rest| rest.starts_with('/'))
    }

    /// The template's own checks: its policies parse, its tags fit, it is applied for something.
    pub fn check(&self) -> Result<(), StateError> {
        if self.applied_for.is_empty() {
            return Err(StateError::InvalidArgument {
                member: "appliedFor",
                constraint: "Member must have length greater than or equal to 1".into(),
            });
        }
        if self.resource_tags.len() > MAX_RESOURCE_TAGS {
            return Err(StateError::TooManyTags(format!("A template can have at most {MAX_RESOURCE_TAGS} tags")));
        }
        if let Some(text) = &self.repository_policy {
            PolicyDocument::parse(text, PolicyKind::Resource).map_err(|_| StateError::InvalidArgument {
                member: "repositoryPolicy",
                constraint: "Invalid repository policy provided".into(),
            })?;
        }
        if let Some(text) = &self.lifecycle_policy {
            LifecyclePolicy::parse(text)?;
        }
        Ok(())
    }
}

/// `prefix` as ECR takes it: the trailing `/` it always assumes is dropped.
pub fn normalize_prefix(prefix: &str) -> String {
    prefix.strip_suffix('/').unwrap_or(prefix).to_owned()
}

impl State {
    /// The registry's templates in prefix order.
    pub fn creation_templates(&self, registry: &RegistryKey) -> Vec<CreationTemplate> {
        self.registry(registry).map(|r| r.settings.templates.values().cloned().collect()).unwrap_or_default()
    }

    pub fn creation_template(&self, registry: &RegistryKey, prefix: &str) -> Result<CreationTemplate, StateError> {
        self.registry(registry)
            .and_then(|r| r.settings.templates.get(prefix).cloned())
            .ok_or_else(|| settings_error(registry, SettingsError::TemplateNotFound { prefix: prefix.to_owned() }))
    }

    /// CreateRepositoryCreationTemplate.
    pub fn create_creation_template(
        &mut self,
        registry: &RegistryKey,
        mut template: CreationTemplate,
    ) -> Result<CreationTemplate, StateError> {
        if self.creation_template(registry, &template.prefix).is_ok() {
            let error = SettingsError::TemplateAlreadyExists { prefix: template.prefix };
            return Err(settings_error(registry, error));
        }
        template.check()?;
        let now = self.now_for(&registry.account);
        template.created_at = now;
        template.updated_at = now;
        self.record_setting(registry, SettingChange::TemplatePut(Box::new(template.clone())));
        Ok(template)
    }

    /// UpdateRepositoryCreationTemplate: `change` edits the stored template.
    pub fn update_creation_template(
        &mut self,
        registry: &RegistryKey,
        prefix: &str,
        change: impl FnOnce(&mut CreationTemplate),
    ) -> Result<CreationTemplate, StateError> {
        let mut template = self.creation_template(registry, prefix)?;
        change(&mut template);
        template.check()?;
        template.updated_at = self.now_for(&registry.account);
        self.record_setting(registry, SettingChange::TemplatePut(Box::new(template.clone())));
        Ok(template)
    }

    /// DeleteRepositoryCreationTemplate: returns the template it deleted.
    pub fn delete_creation_template(
        &mut self,
        registry: &RegistryKey,
        prefix: &str,
    ) -> Result<CreationTemplate, StateError> {
        let template = self.creation_template(registry, prefix)?;
        self.record_setting(registry, SettingChange::TemplateDeleted { prefix: prefix.to_owned() });
        Ok(template)
    }

    /// The template ECR would use to create `name` for `applied_for`: the longest prefix that
    /// covers the name, else `ROOT`; only if that template is applied for `applied_for`.
    pub fn creation_template_for(
        &self,
        registry: &RegistryKey,
        name: &RepositoryName,
        applied_for: AppliedFor,
    ) -> Option<&CreationTemplate> {
        let templates = &self.registry(registry)?.settings.templates;
        let best = templates
            .values()
            .filter(|t| t.prefix != ROOT && t.covers(name))
            .max_by_key(|t| t.prefix.len())
            .or_else(|| templates.get(ROOT))?;
        best.applied_for.contains(&applied_for).then_some(best)
    }

    /// Creates `name` as ECR creates a repository on your behalf (`applied_for`): with the
    /// settings of the template that applies (tags, mutability, encryption, repository and
    /// lifecycle policies), or ECR's defaults when none does. The hook pull through cache and
    /// replication call; create on push calls it only when a template applies.
    pub fn apply_creation_template(
        &mut self,
        registry: &RegistryKey,
        name: &RepositoryName,
        applied_for: AppliedFor,
    ) -> Result<Repository, StateError> {
        let template = self.creation_template_for(registry, name, applied_for).cloned();
        let new = NewRepository {
            name: name.clone(),
            tag_mutability: template
                .as_ref()
                .map(|t| t.tag_mutability.clone())
                .unwrap_or_else(TagMutabilitySetting::mutable),
            scan_on_push: false,
            encryption: template
                .as_ref()
                .map(|t| t.encryption.clone())
                .unwrap_or(Encryption { kind: crate::types::EncryptionType::Aes256, kms_key: None }),
            tags: template.as_ref().map(|t| t.resource_tags.clone()).unwrap_or_default(),
        };
        self.create_repository(registry, new)?;
        if let Some(template) = template {
            if let Some(text) = template.repository_policy {
                self.update_repository(registry, name, RepositoryUpdate::PolicySet(text))?;
            }
            if let Some(text) = template.lifecycle_policy {
                self.update_repository(registry, name, RepositoryUpdate::LifecyclePolicySet(text))?;
            }
        }
        Ok(self.repository(registry, name)?.clone())
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use crate::state::DEFAULT_ACCOUNT;
    use crate::types::{AccountId, EncryptionType, Region, TagMutability};

    pub(crate) fn create(state: &mut State, registry: &RegistryKey, name: &str) -> RepositoryName {
        let name = RepositoryName::parse(name).unwrap();
        state.create_repository(registry, NewRepository::with_defaults(name.clone())).unwrap();
        name
    }

    fn template(prefix: &str, applied_for: Vec<AppliedFor>) -> CreationTemplate {
        CreationTemplate {
            prefix: prefix.into(),
            description: None,
            encryption: Encryption { kind: EncryptionType::Aes256, kms_key: None },
            resource_tags: vec![ResourceTag::new("team".into(), prefix.into()).unwrap()],
            tag_mutability: TagMutabilitySetting::new(TagMutability::Immutable, vec![]).unwrap(),
            repository_policy: None,
            lifecycle_policy: None,
            applied_for,
            custom_role_arn: None,
            created_at: Millis(0),
            updated_at: Millis(0),
        }
    }

    #[test]
    fn the_longest_prefix_applies_then_root_and_only_for_what_it_is_applied_for() {
        let registry =
            RegistryKey::new(AccountId::parse(DEFAULT_ACCOUNT).unwrap(), Region::parse("us-east-1").unwrap());
        let mut state = State::new(b"secret".to_vec());
        let name = |n: &str| RepositoryName::parse(n).unwrap();
        assert!(state.creation_template_for(&registry, &name("prod/app"), AppliedFor::PullThroughCache).is_none());
        state.create_creation_template(&registry, template("prod", vec![AppliedFor::PullThroughCache])).unwrap();
        state.create_creation_template(&registry, template("prod/team", vec![AppliedFor::Replication])).unwrap();
        state.create_creation_template(&registry, template(ROOT, vec![AppliedFor::CreateOnPush])).unwrap();
        assert!(state.create_creation_template(&registry, template("prod", vec![AppliedFor::Replication])).is_err());
        let prefix_of =
            |s: &State, n: &str, a| s.creation_template_for(&registry, &name(n), a).map(|t| t.prefix.clone());
        assert_eq!(prefix_of(&state, "prod/app", AppliedFor::PullThroughCache).as_deref(), Some("prod"));
        assert_eq!(prefix_of(&state, "prod/team/x", AppliedFor::Replication).as_deref(), Some("prod/team"));
        assert_eq!(prefix_of(&state, "prod/team/x", AppliedFor::PullThroughCache), None);
        assert_eq!(prefix_of(&state, "production", AppliedFor::CreateOnPush).as_deref(), Some(ROOT));

        let created =
            state.apply_creation_template(&registry, &name("prod/app"), AppliedFor::PullThroughCache).unwrap();
        assert_eq!(created.tag_mutability.mode, TagMutability::Immutable);
        assert_eq!(created.resource_tags[0].value, "prod");
        let plain = state.apply_creation_template(&registry, &name("other/app"), AppliedFor::Replication).unwrap();
        assert_eq!(plain.tag_mutability.mode, TagMutability::Mutable, "no template: ECR's defaults");

        let replayed = State::replay(state.take_outbox());
        assert_eq!(replayed.creation_templates(&registry).len(), 3);
        assert!(replayed.repository(&registry, &name("prod/app")).is_ok());
    }
}
