//! IAM users with inline policies, and the authorization of each ECR action against them and the
//! repository's policy. A key whose user the lab never created through IAM (the default learner, a
//! class student, a key from `/_lab/keys`) keeps full access, as before.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use super::policy::{self, PolicyDocument, PolicyKind, Request};
use super::{AccessKey, Event, RegistryKey, State, StateError};
use crate::types::{AccountId, RepositoryName};

/// An IAM user the lab created, with its inline policies (name → text, and the parsed document).
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(default)]
pub struct IamUser {
    /// In a snapshot: name → text (parsed again when read).
    #[serde(with = "super::snapshot::identity_policies")]
    pub policies: BTreeMap<String, (String, PolicyDocument)>,
}

/// A change to IAM, journaled like every other.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(tag = "change", rename_all = "snake_case")]
pub enum IamEvent {
    #[serde(rename = "user_created")]
    Created {
        account: AccountId,
        user_name: String,
    },
    #[serde(rename = "user_policy_put")]
    PolicyPut {
        account: AccountId,
        user_name: String,
        policy_name: String,
        document: String,
    },
    #[serde(rename = "user_policy_deleted")]
    PolicyDeleted {
        account: AccountId,
        user_name: String,
        policy_name: String,
    },
    RoleCreated {
        account: AccountId,
        role_name: String,
        role_id: String,
        trust_policy: String,
        max_session_seconds: i64,
    },
    RoleTrustUpdated {
        account: AccountId,
        role_name: String,
        trust_policy: String,
    },
    RolePolicyPut {
        account: AccountId,
        role_name: String,
        policy_name: String,
        document: String,
    },
    RolePolicyDeleted {
        account: AccountId,
        role_name: String,
        policy_name: String,
    },
    RoleDeleted {
        account: AccountId,
        role_name: String,
    },
}

/// A user as `list-users` shows it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct UserSummary {
    pub user_name: String,
    pub arn: String,
    pub policy_names: Vec<String>,
    pub access_key_ids: Vec<String>,
}

pub fn user_arn(account: &AccountId, user_name: &str) -> String {
    format!("arn:aws:iam::{account}:user/{user_name}")
}

fn iam_error(code: &'static str, message: String) -> StateError {
    StateError::Iam { code, message }
}

/// IAM's user and policy names: 1–64 (policy names 1–128) of letters, digits and `+=,.@_-`.
fn check_name(member: &str, name: &str, max: usize) -> Result<(), StateError> {
    let ok = !name.is_empty()
        && name.len() <= max
        && name.chars().all(|c| c.is_ascii_alphanumeric() || "+=,.@_-".contains(c));
    if ok {
        Ok(())
    } else {
        Err(iam_error(
            "ValidationError",
            format!(
                "1 validation error detected: Value '{name}' at '{member}' failed to satisfy constraint: Member must \
                 satisfy regular expression pattern: [\\w+=,.@-]+ (and have 1 to {max} characters)"
            ),
        ))
    }
}

fn parse_identity(text: &str) -> Result<PolicyDocument, StateError> {
    PolicyDocument::parse(text, PolicyKind::Identity).map_err(|e| iam_error("MalformedPolicyDocument", e.0))
}

impl State {
    pub(super) fn apply_iam(&mut self, change: &IamEvent) {
        match change {
            IamEvent::Created { account, user_name } => {
                self.users.entry(user_arn(account, user_name)).or_default();
            }
            IamEvent::PolicyPut { account, user_name, policy_name, document } => {
                // Validated before it was journaled; a document that no longer parses grants nothing.
                if let (Some(user), Ok(parsed)) = (
                    self.users.get_mut(&user_arn(account, user_name)),
                    PolicyDocument::parse(document, PolicyKind::Identity),
                ) {
                    user.policies.insert(policy_name.clone(), (document.clone(), parsed));
                }
            }
            IamEvent::PolicyDeleted { account, user_name, policy_name } => {
                if let Some(user) = self.users.get_mut(&user_arn(account, user_name)) {
                    user.policies.remove(policy_name);
                }
            }
            role => self.apply_role(role),
        }
    }

    /// `iam create-user` + `create-access-key` (+ `put-user-policy` when `policy` is given), at once:
    /// a malformed policy or a taken name stores nothing.
    pub fn create_user(
        &mut self,
        account: AccountId,
        user_name: &str,
        policy: Option<(&str, &str)>,
    ) -> Result<AccessKey, StateError> {
        check_name("userName", user_name, 64)?;
        if let Some((policy_name, text)) = policy {
            check_name("policyName", policy_name, 128)?;
            parse_identity(text)?;
        }
        if self.users.contains_key(&user_arn(&account, user_name)) {
            return Err(iam_error("EntityAlreadyExists", format!("User with name {user_name} already exists.")));
        }
        let key = AccessKey::generate(account.clone(), user_name.to_owned(), None);
        self.record(Event::Iam { change: IamEvent::Created { account: account.clone(), user_name: user_name.into() } });
        if let Some((policy_name, text)) = policy {
            self.record(Event::Iam {
                change: IamEvent::PolicyPut {
                    account,
                    user_name: user_name.into(),
                    policy_name: policy_name.into(),
                    document: text.into(),
                },
            });
        }
        self.add_key(key)
    }

    /// `iam put-user-policy`: adds or replaces one inline policy.
    pub fn put_user_policy(
        &mut self,
        account: AccountId,
        user_name: &str,
        policy_name: &str,
        text: &str,
    ) -> Result<(), StateError> {
        check_name("policyName", policy_name, 128)?;
        self.iam_user(&account, user_name)?;
        parse_identity(text)?;
        let change = IamEvent::PolicyPut {
            account,
            user_name: user_name.into(),
            policy_name: policy_name.into(),
            document: text.into(),
        };
        self.record(Event::Iam { change });
        Ok(())
    }

    /// `iam delete-user-policy`.
    pub fn delete_user_policy(
        &mut self,
        account: AccountId,
        user_name: &str,
        policy_name: &str,
    ) -> Result<(), StateError> {
        if !self.iam_user(&account, user_name)?.policies.contains_key(policy_name) {
            return Err(iam_error("NoSuchEntity", format!("The user policy with name {policy_name} cannot be found.")));
        }
        let change = IamEvent::PolicyDeleted { account, user_name: user_name.into(), policy_name: policy_name.into() };
        self.record(Event::Iam { change });
        Ok(())
    }

    /// `iam get-user-policy`: the document's text.
    pub fn user_policy(&self, account: &AccountId, user_name: &str, policy_name: &str) -> Result<&str, StateError> {
        match self.iam_user(account, user_name)?.policies.get(policy_name) {
            Some((text, _)) => Ok(text),
            None => Err(iam_error("NoSuchEntity", format!("The user policy with name {policy_name} cannot be found."))),
        }
    }

    fn iam_user(&self, account: &AccountId, user_name: &str) -> Result<&IamUser, StateError> {
        self.users
            .get(&user_arn(account, user_name))
            .ok_or_else(|| iam_error("NoSuchEntity", format!("The user with name {user_name} cannot be found.")))
    }

    /// The users of `account` the lab created through IAM.
    pub fn users(&self, account: &AccountId) -> Vec<UserSummary> {
        let prefix = format!("arn:aws:iam::{account}:user/");
        self.users
            .iter()
            .filter_map(|(arn, user)| {
                let user_name = arn.strip_prefix(&prefix)?.to_owned();
                let access_key_ids = self
                    .keys
                    .values()
                    .filter(|k| k.account == *account && k.user_name == user_name)
                    .map(|k| k.access_key_id.clone())
                    .collect();
                Some(UserSummary {
                    user_name,
                    arn: arn.clone(),
                    policy_names: user.policies.keys().cloned().collect(),
                    access_key_ids,
                })
            })
            .collect()
    }

    /// Whether `access_key_id` belongs to a user the lab created through IAM, or is a role session
    /// (whose calls are evaluated).
    pub fn restricted(&self, access_key_id: &str) -> bool {
        (!self.users.is_empty() || !self.roles.is_empty())
            && self.keys.get(access_key_id).is_some_and(|k| k.role.is_some() || self.users.contains_key(&k.arn()))
    }

    /// Whether a call by `access_key_id` on `account`'s registry is evaluated: a restricted user's
    /// always; anyone's on another account's registry (which only that repository's policy opens).
    /// While any repository holds a policy, everyone's calls are (its explicit denies apply to all).
    pub fn evaluated(&self, access_key_id: &str, account: &AccountId) -> bool {
        self.restricted(access_key_id)
            || self.any_repository_policy()
            || self.keys.get(access_key_id).is_some_and(|k| k.account != *account)
    }

    /// May the holder of `access_key_id` perform `action` (`ecr:PutImage`) on `repository` of
    /// `registry` (or on `*`, registry-wide)? `Err` is AWS's denial text. Keys of users the lab did
    /// not create through IAM have full access in their own account, less what a repository policy
    /// explicitly denies; in another account's registry, only what that repository's policy allows them.
    pub fn authorize(
        &self,
        access_key_id: &str,
        action: &str,
        registry: &RegistryKey,
        repository: Option<&str>,
    ) -> Result<(), String> {
        let Some(key) = self.keys.get(access_key_id) else { return Ok(()) };
        let arn = key.arn();
        let policies = self.identity_policies(key);
        let repository_policy = repository
            .and_then(|name| RepositoryName::parse(name).ok())
            .and_then(|name| self.repository(registry, &name).ok())
            .and_then(|r| r.policy_document());
        // Full access in the own account, except what a repository policy explicitly denies
        // (an explicit deny in any policy wins, whoever the caller is).
        if policies.is_none() && key.account == registry.account && repository_policy.is_none() {
            return Ok(());
        }
        let resource = match repository {
            Some(name) => format!("arn:aws:ecr:{}:{}:repository/{name}", registry.region, registry.account),
            None => "*".to_owned(),
        };
        let request = Request::new(&arn, key.account.as_str(), action, &resource)
            .with_key("aws:RequestedRegion", registry.region.as_str())
            .with_key("aws:PrincipalArn", &key.identity_arn())
            .with_key("aws:userid", &key.user_id);
        let full = PolicyDocument::full_access();
        let identity: Vec<&PolicyDocument> = policies.unwrap_or_else(|| vec![&full]);
        policy::authorize(&identity, repository_policy, &request).map_err(|denial| denial.message(&request))
    }
}

/// AWS's wording when SetRepositoryPolicy gets a document it cannot use.
const INVALID_REPOSITORY_POLICY: &str = "Invalid repository policy provided";

impl State {
    /// SetRepositoryPolicy: validates (as a resource-based policy) and stores the text.
    pub fn set_repository_policy(
        &mut self,
        registry: &RegistryKey,
        name: &RepositoryName,
        text: &str,
    ) -> Result<&super::Repository, StateError> {
        self.repository(registry, name)?;
        PolicyDocument::parse(text, PolicyKind::Resource).map_err(|_| StateError::InvalidArgument {
            member: "PolicyText",
            constraint: INVALID_REPOSITORY_POLICY.into(),
        })?;
        self.update_repository(registry, name, super::RepositoryUpdate::PolicySet(text.to_owned()))
    }

    /// GetRepositoryPolicy: the text, or RepositoryPolicyNotFound.
    pub fn repository_policy(&self, registry: &RegistryKey, name: &RepositoryName) -> Result<&str, StateError> {
        self.repository(registry, name)?.policy.as_deref().ok_or_else(|| StateError::RepositoryPolicyNotFound {
            name: name.clone(),
            registry: registry.account.clone(),
        })
    }

    /// DeleteRepositoryPolicy: returns the text it deleted.
    pub fn delete_repository_policy(
        &mut self,
        registry: &RegistryKey,
        name: &RepositoryName,
    ) -> Result<String, StateError> {
        let text = self.repository_policy(registry, name)?.to_owned();
        self.update_repository(registry, name, super::RepositoryUpdate::PolicyDeleted)?;
        Ok(text)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::state::DEFAULT_ACCESS_KEY_ID;
    use crate::types::Region;

    const PULL_ONLY: &str = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":
        ["ecr:GetAuthorizationToken","ecr:BatchGetImage","ecr:GetDownloadUrlForLayer"],"Resource":"*"}]}"#;

    fn registry() -> RegistryKey {
        RegistryKey::new(AccountId::parse("920736617090").unwrap(), Region::parse("ap-south-1").unwrap())
    }

    #[test]
    fn users_with_policies_are_evaluated_and_the_learner_is_not() {
        let mut state = State::new(b"secret".to_vec());
        let account = registry().account;
        let key = state.create_user(account.clone(), "deploy", Some(("pull", PULL_ONLY))).unwrap();
        let id = &key.access_key_id;
        assert_eq!(state.authorize(id, "ecr:BatchGetImage", &registry(), Some("test")), Ok(()));
        let denied = state.authorize(id, "ecr:PutImage", &registry(), Some("test")).unwrap_err();
        assert_eq!(
            denied,
            "User: arn:aws:iam::920736617090:user/deploy is not authorized to perform: ecr:PutImage on resource: \
             arn:aws:ecr:ap-south-1:920736617090:repository/test because no identity-based policy allows the \
             ecr:PutImage action"
        );
        assert_eq!(state.authorize(DEFAULT_ACCESS_KEY_ID, "ecr:PutImage", &registry(), Some("test")), Ok(()));
        state.delete_user_policy(account.clone(), "deploy", "pull").unwrap();
        assert!(state.authorize(id, "ecr:BatchGetImage", &registry(), Some("test")).is_err(), "no policy, no access");
        // The journal (JSON lines) replays to the same decisions.
        state.put_user_policy(account.clone(), "deploy", "pull", PULL_ONLY).unwrap();
        let lines: Vec<String> = state.take_outbox().iter().map(|e| serde_json::to_string(e).unwrap()).collect();
        let replayed = State::replay(lines.iter().map(|l| serde_json::from_str::<Event>(l).unwrap()));
        assert_eq!(replayed.authorize(id, "ecr:BatchGetImage", &registry(), Some("test")), Ok(()));
        assert_eq!(replayed.users(&account)[0].policy_names, vec!["pull".to_owned()]);
    }

    #[test]
    fn malformed_policies_and_taken_names_store_nothing() {
        let mut state = State::new(b"secret".to_vec());
        let account = registry().account;
        let bad = state.create_user(account.clone(), "ci", Some(("p", r#"{"Version":"2012-10-17"}"#)));
        assert_eq!(
            bad.unwrap_err(),
            StateError::Iam { code: "MalformedPolicyDocument", message: "Syntax errors in policy.".into() }
        );
        assert!(state.users(&account).is_empty());
        state.create_user(account.clone(), "ci", None).unwrap();
        let again = state.create_user(account.clone(), "ci", None).unwrap_err();
        assert_eq!(again.to_string(), "EntityAlreadyExists: User with name ci already exists.");
        let missing = state.put_user_policy(account.clone(), "nobody", "p", PULL_ONLY).unwrap_err();
        assert_eq!(missing.to_string(), "NoSuchEntity: The user with name nobody cannot be found.");
        assert!(state.create_user(account, "bad name", None).is_err());
    }

    /// The repository policy is parsed once, when set (and again when a journal or a snapshot
    /// loads), not on every call: its explicit deny holds live, after a replay of the journal,
    /// after a snapshot's round trip, and ends when the policy is deleted.
    #[test]
    fn a_repository_policy_is_kept_parsed_through_replay_and_snapshots() {
        use crate::state::NewRepository;

        let deny =
            r#"{"Version":"2012-10-17","Statement":[{"Effect":"Deny","Principal":"*","Action":"ecr:PutImage"}]}"#;
        let name = RepositoryName::parse("app").unwrap();
        let new = NewRepository::with_defaults(name.clone());
        let mut state = State::new(b"secret".to_vec());
        let all = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"ecr:*","Resource":"*"}]}"#;
        let key = state.create_user(registry().account, "deploy", Some(("all", all))).unwrap().access_key_id;
        state.create_repository(&registry(), new).unwrap();
        let denied = |s: &State| s.authorize(&key, "ecr:PutImage", &registry(), Some("app")).is_err();
        assert!(!denied(&state));
        state.set_repository_policy(&registry(), &name, deny).unwrap();
        assert!(denied(&state));
        let lines: Vec<String> = state.take_outbox().iter().map(|e| serde_json::to_string(e).unwrap()).collect();
        let replayed = State::replay(lines.iter().map(|l| serde_json::from_str::<Event>(l).unwrap()));
        assert!(denied(&replayed), "replayed from the journal");
        let mut loaded: State = serde_json::from_str(&serde_json::to_string(&state).unwrap()).unwrap();
        assert!(!denied(&loaded), "a state read from JSON holds the text only until its indexes are rebuilt");
        loaded.after_load();
        assert!(denied(&loaded), "rebuilt as a snapshot's load does");
        loaded.delete_repository_policy(&registry(), &name).unwrap();
        assert!(!denied(&loaded));
        assert!(loaded.repository(&registry(), &name).unwrap().policy_document().is_none());
    }
}
