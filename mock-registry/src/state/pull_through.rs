//! Pull-through cache rules (CreatePullThroughCacheRule and friends): a repository-name prefix in
//! a private registry that stands for an upstream registry. The rules are here; fetching from the
//! lab's bundled upstream is `crate::pull_through`.
//!
//! As the ECR user guide has it ("Sync an upstream registry with an Amazon ECR private registry"):
//! ECR Public, the Kubernetes registry and Quay need no authentication; Docker Hub, GitHub, GitLab,
//! Azure and Chainguard need a Secrets Manager secret whose name begins `ecr-pullthroughcache/`;
//! an Amazon ECR upstream is reached with an IAM role. The lab cannot read Secrets Manager, so a
//! well-formed `credentialArn` is accepted as if the secret held working credentials.

use serde::{Deserialize, Serialize};

use super::{Event, RegistryKey, State, StateError};
use crate::types::{AccountId, Millis, Region, RepositoryName};

/// Pull through cache rules per registry (the ECR service quota).
pub const MAX_RULES_PER_REGISTRY: usize = 50;

/// The `UpstreamRegistry` enum of the service model.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub enum UpstreamKind {
    Ecr,
    EcrPublic,
    Quay,
    K8s,
    DockerHub,
    GithubContainerRegistry,
    AzureContainerRegistry,
    GitlabContainerRegistry,
    Chainguard,
}

/// What an upstream needs before ECR can pull from it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Authentication {
    None,
    /// A Secrets Manager secret (`credentialArn`).
    Secret,
    /// An IAM role (`customRoleArn`), needed when the upstream ECR registry is another account's.
    Role,
}

impl UpstreamKind {
    pub const ALL: [UpstreamKind; 9] = [
        Self::Ecr,
        Self::EcrPublic,
        Self::Quay,
        Self::K8s,
        Self::DockerHub,
        Self::GithubContainerRegistry,
        Self::AzureContainerRegistry,
        Self::GitlabContainerRegistry,
        Self::Chainguard,
    ];

    pub fn wire(self) -> &'static str {
        match self {
            Self::Ecr => "ecr",
            Self::EcrPublic => "ecr-public",
            Self::Quay => "quay",
            Self::K8s => "k8s",
            Self::DockerHub => "docker-hub",
            Self::GithubContainerRegistry => "github-container-registry",
            Self::AzureContainerRegistry => "azure-container-registry",
            Self::GitlabContainerRegistry => "gitlab-container-registry",
            Self::Chainguard => "chainguard",
        }
    }

    pub fn from_wire(text: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|k| k.wire() == text)
    }

    pub fn value_set() -> String {
        format!("[{}]", Self::ALL.map(|k| k.wire()).join(", "))
    }

    /// The kind of registry an `upstreamRegistryUrl` names (the host the API reference lists for
    /// each kind; an `https://` in front is allowed), or None when ECR does not support it.
    pub fn from_url(url: &str) -> Option<Self> {
        let host = url.strip_prefix("https://").unwrap_or(url).trim_end_matches('/');
        Some(match host {
            "public.ecr.aws" => Self::EcrPublic,
            "quay.io" => Self::Quay,
            "registry.k8s.io" => Self::K8s,
            "registry-1.docker.io" => Self::DockerHub,
            "ghcr.io" => Self::GithubContainerRegistry,
            "registry.gitlab.com" => Self::GitlabContainerRegistry,
            "cgr.dev" => Self::Chainguard,
            _ if azure_host(host) => Self::AzureContainerRegistry,
            _ if ecr_host(host).is_some() => Self::Ecr,
            _ => return None,
        })
    }

    pub fn authentication(self) -> Authentication {
        match self {
            Self::EcrPublic | Self::Quay | Self::K8s => Authentication::None,
            Self::Ecr => Authentication::Role,
            _ => Authentication::Secret,
        }
    }
}

fn azure_host(host: &str) -> bool {
    host.strip_suffix(".azurecr.io")
        .is_some_and(|name| !name.is_empty() && name.bytes().all(|b| b.is_ascii_alphanumeric()))
}

/// `ACCOUNT.dkr.ecr.REGION.amazonaws.com`: the private registry an `ecr` upstream names.
pub fn ecr_host(host: &str) -> Option<RegistryKey> {
    let rest = host.strip_suffix(".amazonaws.com")?;
    let (account, rest) = rest.split_once(".dkr.ecr.")?;
    Some(RegistryKey::new(AccountId::parse(account).ok()?, Region::parse(rest).ok()?))
}

/// One rule, as DescribePullThroughCacheRules shows it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PullThroughRule {
    /// `ecrRepositoryPrefix` without the assumed trailing `/` (or `ROOT`).
    pub prefix: String,
    pub upstream_url: String,
    pub kind: UpstreamKind,
    pub credential_arn: Option<String>,
    pub custom_role_arn: Option<String>,
    /// `upstreamRepositoryPrefix` (ECR upstreams only).
    pub upstream_prefix: Option<String>,
    pub created_at: Millis,
    pub updated_at: Millis,
}

impl PullThroughRule {
    /// The upstream repository that `name` stands for under this rule, if the rule covers `name`.
    pub fn upstream_repository(&self, name: &RepositoryName) -> Option<String> {
        let rest = if self.prefix == ROOT {
            name.as_str()
        } else {
            name.as_str().strip_prefix(self.prefix.as_str())?.strip_prefix('/')?
        };
        Some(match self.upstream_prefix.as_deref() {
            None | Some(ROOT) => rest.to_owned(),
            Some(prefix) => format!("{}/{rest}", prefix.trim_end_matches('/')),
        })
    }
}

/// The prefix that stands for every repository (ECR-to-ECR rules only in the lab).
pub const ROOT: &str = "ROOT";

/// A change to a registry's pull through cache rules.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum PullThroughEvent {
    Created { registry: RegistryKey, rule: PullThroughRule },
    Updated { registry: RegistryKey, rule: PullThroughRule },
    Deleted { registry: RegistryKey, prefix: String },
}

/// What CreatePullThroughCacheRule asks for, already checked against the model's shapes.
#[derive(Debug, Clone)]
pub struct NewRule {
    pub prefix: String,
    pub upstream_url: String,
    pub kind: Option<UpstreamKind>,
    pub credential_arn: Option<String>,
    pub custom_role_arn: Option<String>,
    pub upstream_prefix: Option<String>,
}

/// `ecrRepositoryPrefix` / `upstreamRepositoryPrefix`: 2–30 characters, repository-name syntax
/// with an optional trailing `/`, or `ROOT`. Returns it without the trailing `/`.
pub fn parse_prefix(text: &str, member: &'static str) -> Result<String, StateError> {
    let invalid = |constraint: String| StateError::InvalidArgument { member, constraint };
    if !(2..=30).contains(&text.len()) {
        return Err(invalid("Member must have length between 2 and 30".into()));
    }
    if text == ROOT {
        return Ok(text.to_owned());
    }
    let trimmed = text.strip_suffix('/').unwrap_or(text);
    if RepositoryName::parse(trimmed).is_err()
        && !(trimmed.len() == 1 && trimmed.bytes().all(|b| b.is_ascii_alphanumeric()))
    {
        return Err(invalid(format!(
            "Member must satisfy regular expression pattern: {}",
            "^((?:[a-z0-9]+(?:[._-][a-z0-9]+)*/)*[a-z0-9]+(?:[._-][a-z0-9]+)*/?|ROOT)$"
        )));
    }
    Ok(trimmed.to_owned())
}

/// `credentialArn`: a Secrets Manager secret named `ecr-pullthroughcache/...` (the model's pattern).
pub fn check_credential_arn(arn: &str) -> Result<(), StateError> {
    let invalid =
        |constraint: &str| StateError::InvalidArgument { member: "credentialArn", constraint: constraint.into() };
    if !(50..=612).contains(&arn.len()) {
        return Err(invalid("Member must have length between 50 and 612"));
    }
    let shaped = (|| {
        let rest = arn.strip_prefix("arn:aws")?;
        let (_, rest) = rest.split_once(":secretsmanager:")?;
        let (scope, name) = rest.split_once(":secret:ecr-pullthroughcache/")?;
        let scope_ok = !scope.is_empty() && scope.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b':');
        let name_ok = !name.is_empty() && name.bytes().all(|b| b.is_ascii_alphanumeric() || b"/_+=.@-".contains(&b));
        (scope_ok && name_ok).then_some(())
    })();
    shaped.ok_or_else(|| {
        invalid(
            "Member must satisfy regular expression pattern: ^arn:aws(-\\w+)*:secretsmanager:[a-zA-Z0-9-:]+:secret:ecr\\-pullthroughcache\\/[a-zA-Z0-9\\/_+=.@-]+$",
        )
    })
}

impl State {
    /// CreatePullThroughCacheRule: checks the upstream, its authentication, and that the prefix is free.
    pub fn create_pull_through_rule(
        &mut self,
        registry: &RegistryKey,
        new: NewRule,
    ) -> Result<PullThroughRule, StateError> {
        let kind = UpstreamKind::from_url(&new.upstream_url).ok_or_else(|| {
            StateError::UnsupportedUpstream(format!(
                "The upstream registry URL {} is invalid. Specify a valid upstream registry URL and try again",
                new.upstream_url
            ))
        })?;
        if new.kind.is_some_and(|given| given != kind) {
            return Err(StateError::UnsupportedUpstream(format!(
                "The upstream registry URL {} does not belong to the upstream registry {}. Specify the URL of that registry and try again",
                new.upstream_url,
                new.kind.map(UpstreamKind::wire).unwrap_or_default()
            )));
        }
        check_authentication(registry, kind, &new)?;
        if (new.prefix == ROOT || new.upstream_prefix.is_some()) && kind != UpstreamKind::Ecr {
            let member = if new.prefix == ROOT { "ecrRepositoryPrefix" } else { "upstreamRepositoryPrefix" };
            return Err(StateError::InvalidArgument {
                member,
                constraint: "ROOT and upstreamRepositoryPrefix can only be used with an Amazon ECR upstream registry"
                    .into(),
            });
        }
        let rules = self.registries.get(registry).map(|r| &r.pull_through_rules);
        if rules.is_some_and(|r| r.contains_key(&new.prefix)) {
            return Err(StateError::PullThroughRuleExists { prefix: new.prefix, registry: registry.account.clone() });
        }
        if rules.map_or(0, |r| r.len()) >= MAX_RULES_PER_REGISTRY {
            return Err(StateError::LimitExceeded {
                what: format!("the limit of {MAX_RULES_PER_REGISTRY} pull through cache rules per registry"),
            });
        }
        let now = self.now_for(&registry.account);
        let rule = PullThroughRule {
            prefix: new.prefix,
            upstream_url: new.upstream_url,
            kind,
            credential_arn: new.credential_arn,
            custom_role_arn: new.custom_role_arn,
            upstream_prefix: new.upstream_prefix,
            created_at: now,
            updated_at: now,
        };
        self.record(Event::PullThrough {
            change: PullThroughEvent::Created { registry: registry.clone(), rule: rule.clone() },
        });
        Ok(rule)
    }

    /// DescribePullThroughCacheRules: all rules in prefix order, or the named ones (each must exist).
    pub fn pull_through_rules(
        &self,
        registry: &RegistryKey,
        prefixes: &[String],
    ) -> Result<Vec<PullThroughRule>, StateError> {
        let all = self.registries.get(registry).map(|r| &r.pull_through_rules);
        if prefixes.is_empty() {
            return Ok(all.map(|r| r.values().cloned().collect()).unwrap_or_default());
        }
        prefixes.iter().map(|p| self.pull_through_rule(registry, p).cloned()).collect()
    }

    /// One rule, or PullThroughCacheRuleNotFound.
    pub fn pull_through_rule(&self, registry: &RegistryKey, prefix: &str) -> Result<&PullThroughRule, StateError> {
        self.registries.get(registry).and_then(|r| r.pull_through_rules.get(prefix)).ok_or_else(|| {
            StateError::PullThroughRuleNotFound { prefix: prefix.to_owned(), registry: registry.account.clone() }
        })
    }

    /// UpdatePullThroughCacheRule: a new secret or role for an existing rule.
    pub fn update_pull_through_rule(
        &mut self,
        registry: &RegistryKey,
        prefix: &str,
        credential_arn: Option<String>,
        custom_role_arn: Option<String>,
    ) -> Result<PullThroughRule, StateError> {
        let mut rule = self.pull_through_rule(registry, prefix)?.clone();
        if credential_arn.is_none() && custom_role_arn.is_none() {
            return Err(StateError::InvalidArgument {
                member: "credentialArn",
                constraint: "Specify a credentialArn or a customRoleArn to update".into(),
            });
        }
        rule.credential_arn = credential_arn.or(rule.credential_arn);
        rule.custom_role_arn = custom_role_arn.or(rule.custom_role_arn);
        rule.updated_at = self.now_for(&registry.account);
        self.record(Event::PullThrough {
            change: PullThroughEvent::Updated { registry: registry.clone(), rule: rule.clone() },
        });
        Ok(rule)
    }

    /// DeletePullThroughCacheRule: the rule goes; repositories it created stay, as on AWS.
    pub fn delete_pull_through_rule(
        &mut self,
        registry: &RegistryKey,
        prefix: &str,
    ) -> Result<PullThroughRule, StateError> {
        let rule = self.pull_through_rule(registry, prefix)?.clone();
        self.record(Event::PullThrough {
            change: PullThroughEvent::Deleted { registry: registry.clone(), prefix: rule.prefix.clone() },
        });
        Ok(rule)
    }

    /// The rule that covers repository `name` (the longest matching prefix), with the upstream
    /// repository it stands for.
    pub fn pull_through_for(&self, registry: &RegistryKey, name: &RepositoryName) -> Option<(PullThroughRule, String)> {
        let rules = &self.registries.get(registry)?.pull_through_rules;
        rules
            .values()
            .filter_map(|rule| rule.upstream_repository(name).map(|upstream| (rule.clone(), upstream)))
            .max_by_key(|(rule, _)| if rule.prefix == ROOT { 0 } else { rule.prefix.len() })
    }

    pub(super) fn apply_pull_through(&mut self, change: &PullThroughEvent) {
        match change {
            PullThroughEvent::Created { registry, rule } | PullThroughEvent::Updated { registry, rule } => {
                let rules = &mut self.registries.entry(registry.clone()).or_default().pull_through_rules;
                rules.insert(rule.prefix.clone(), rule.clone());
            }
            PullThroughEvent::Deleted { registry, prefix } => {
                if let Some(r) = self.registries.get_mut(registry) {
                    r.pull_through_rules.remove(prefix);
                }
            }
        }
    }
}

/// The upstream's authentication: a secret where the guide says one is required, a role for
/// another account's ECR registry, neither where none is needed.
fn check_authentication(registry: &RegistryKey, kind: UpstreamKind, new: &NewRule) -> Result<(), StateError> {
    match kind.authentication() {
        Authentication::Secret if new.credential_arn.is_none() => Err(StateError::UnsupportedUpstream(
            "The specified upstream registry requires authentication. Specify a valid Secrets Manager ARN and try again"
                .into(),
        )),
        Authentication::None | Authentication::Role if new.credential_arn.is_some() => Err(StateError::InvalidArgument {
            member: "credentialArn",
            constraint: format!("The upstream registry {} does not use a Secrets Manager secret", kind.wire()),
        }),
        Authentication::Role => {
            let other = ecr_host(new.upstream_url.strip_prefix("https://").unwrap_or(&new.upstream_url))
                .is_some_and(|upstream| upstream.account != registry.account);
            if other && new.custom_role_arn.is_none() {
                return Err(StateError::InvalidArgument {
                    member: "customRoleArn",
                    constraint: "A customRoleArn is required when the upstream Amazon ECR registry belongs to another account".into(),
                });
            }
            Ok(())
        }
        _ => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn registry() -> RegistryKey {
        RegistryKey::new(AccountId::parse("920736617090").unwrap(), Region::parse("ap-south-1").unwrap())
    }

    fn new(prefix: &str, url: &str, credential: Option<&str>) -> NewRule {
        NewRule {
            prefix: prefix.into(),
            upstream_url: url.into(),
            kind: None,
            credential_arn: credential.map(str::to_owned),
            custom_role_arn: None,
            upstream_prefix: None,
        }
    }

    const SECRET: &str = "arn:aws:secretsmanager:ap-south-1:920736617090:secret:ecr-pullthroughcache/docker-hub-abc";

    #[test]
    fn upstreams_need_what_the_guide_says() {
        let mut state = State::new(b"s".to_vec());
        let r = registry();
        assert!(state.create_pull_through_rule(&r, new("ecr-public", "public.ecr.aws", None)).is_ok());
        assert!(matches!(
            state.create_pull_through_rule(&r, new("docker-hub", "registry-1.docker.io", None)),
            Err(StateError::UnsupportedUpstream(m)) if m.contains("requires authentication")
        ));
        assert!(state.create_pull_through_rule(&r, new("docker-hub", "registry-1.docker.io", Some(SECRET))).is_ok());
        assert!(matches!(
            state.create_pull_through_rule(&r, new("quay", "quay.io", Some(SECRET))),
            Err(StateError::InvalidArgument { member: "credentialArn", .. })
        ));
        assert!(matches!(
            state.create_pull_through_rule(&r, new("harbor", "harbor.example.com", None)),
            Err(StateError::UnsupportedUpstream(m)) if m.contains("harbor.example.com is invalid")
        ));
        assert!(matches!(
            state.create_pull_through_rule(&r, new("ecr-public", "public.ecr.aws", None)),
            Err(StateError::PullThroughRuleExists { .. })
        ));
        let replayed = State::replay(state.take_outbox());
        assert_eq!(replayed.pull_through_rules(&r, &[]).unwrap().len(), 2);
    }

    #[test]
    fn a_rule_maps_repository_names_to_upstream_repositories() {
        let mut state = State::new(b"s".to_vec());
        let r = registry();
        state.create_pull_through_rule(&r, new("docker-hub", "registry-1.docker.io", Some(SECRET))).unwrap();
        let name = RepositoryName::parse("docker-hub/library/ec2-neon-pulse").unwrap();
        let (rule, upstream) = state.pull_through_for(&r, &name).unwrap();
        assert_eq!((rule.prefix.as_str(), upstream.as_str()), ("docker-hub", "library/ec2-neon-pulse"));
        assert!(state.pull_through_for(&r, &RepositoryName::parse("docker-hubx/a").unwrap()).is_none());
        assert!(state.pull_through_for(&r, &RepositoryName::parse("docker-hub").unwrap()).is_none());
    }

    #[test]
    fn prefixes_and_secrets_follow_the_model() {
        assert_eq!(parse_prefix("ecr-public/", "ecrRepositoryPrefix").unwrap(), "ecr-public");
        assert!(parse_prefix("x", "ecrRepositoryPrefix").is_err());
        assert!(parse_prefix("Docker", "ecrRepositoryPrefix").is_err());
        assert!(parse_prefix(&"a".repeat(31), "ecrRepositoryPrefix").is_err());
        assert!(check_credential_arn(SECRET).is_ok());
        assert!(
            check_credential_arn("arn:aws:secretsmanager:ap-south-1:920736617090:secret:dockerhub-creds-abcdef")
                .is_err()
        );
    }
}
