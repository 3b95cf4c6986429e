//! IAM roles (a trust policy and inline permission policies) and STS sessions that assume them:
//! `AssumeRole` (a signed caller the trust policy allows) and `AssumeRoleWithWebIdentity` (a token
//! from the lab's OIDC issuer whose `sub`/`aud` the trust policy's conditions accept). A session is
//! an `ASIA...` key with a session token, expiring on the lab clock; its calls are evaluated
//! against the role's policies.

use std::collections::BTreeMap;

use super::iam::IamEvent;
use super::identity::RoleSession;
use super::policy::{self, PolicyDocument, PolicyKind, Request};
use super::{AccessKey, Event, State, StateError};
use crate::types::{AccountId, Millis};

/// A role: its trust policy (who may assume it) and inline permission policies (what it may do).
#[derive(Debug, Clone)]
pub struct IamRole {
    pub role_id: String,
    pub trust: (String, PolicyDocument),
    pub policies: BTreeMap<String, (String, PolicyDocument)>,
    pub max_session_seconds: i64,
}

/// A role as `list-roles` shows it.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "camelCase")]
pub struct RoleSummary {
    pub role_name: String,
    pub arn: String,
    pub role_id: String,
    pub assume_role_policy_document: String,
    pub policy_names: Vec<String>,
    pub max_session_duration: i64,
}

/// STS's bounds on `DurationSeconds`, and its default.
pub const MIN_SESSION_SECONDS: i64 = 900;
pub const MAX_SESSION_SECONDS: i64 = 43200;
pub const DEFAULT_SESSION_SECONDS: i64 = 3600;

pub fn role_arn(account: &AccountId, role_name: &str) -> String {
    format!("arn:aws:iam::{account}:role/{role_name}")
}

fn iam_error(code: &'static str, message: String) -> StateError {
    StateError::Iam { code, message }
}

/// STS's AccessDenied for `sts:AssumeRole` (captured: gh:amzn/selling-partner-api-models#1186,
/// gh:aws/karpenter-provider-aws#4680, an assumed-role caller).
fn assume_denied(caller_arn: &str, role: &str) -> StateError {
    iam_error(
        "AccessDenied",
        format!("User: {caller_arn} is not authorized to perform: sts:AssumeRole on resource: {role}"),
    )
}

/// STS's AccessDenied for a web identity the trust policy does not accept (gh:aws/aws-sdk-net#1522,
/// gh:aws/aws-sdk-js-v3#6225).
pub const WEB_IDENTITY_DENIED: &str = "Not authorized to perform sts:AssumeRoleWithWebIdentity";

fn validation(member: &str, value: &str, constraint: &str) -> StateError {
    iam_error(
        "ValidationError",
        format!(
            "1 validation error detected: Value '{value}' at '{member}' failed to satisfy constraint: {constraint}"
        ),
    )
}

/// `DurationSeconds` within 900..=43200 (STS) and the role's maximum session duration.
fn session_seconds(requested: Option<i64>, role: Option<&IamRole>) -> Result<i64, StateError> {
    let seconds = requested.unwrap_or(DEFAULT_SESSION_SECONDS);
    if seconds < MIN_SESSION_SECONDS {
        return Err(validation(
            "durationSeconds",
            &seconds.to_string(),
            "Member must have value greater than or equal to 900",
        ));
    }
    if seconds > MAX_SESSION_SECONDS {
        return Err(validation(
            "durationSeconds",
            &seconds.to_string(),
            "Member must have value less than or equal to 43200",
        ));
    }
    if role.is_some_and(|r| seconds > r.max_session_seconds) {
        return Err(iam_error(
            "ValidationError",
            "The requested DurationSeconds exceeds the MaxSessionDuration set for this role.".into(),
        ));
    }
    Ok(seconds)
}

/// `RoleSessionName`: 2–64 of letters, digits and `+=,.@_-`.
fn check_session_name(name: &str) -> Result<(), StateError> {
    if name.len() < 2 || name.len() > 64 {
        return Err(validation("roleSessionName", name, "Member must have length between 2 and 64"));
    }
    if !name.chars().all(|c| c.is_ascii_alphanumeric() || "+=,.@_-".contains(c)) {
        return Err(validation(
            "roleSessionName",
            name,
            "Member must satisfy regular expression pattern: [\\w+=,.@-]*",
        ));
    }
    Ok(())
}

/// IAM's role names: 1–64 of letters, digits and `+=,.@_-`.
fn check_role_name(name: &str) -> Result<(), StateError> {
    let ok = !name.is_empty()
        && name.len() <= 64
        && name.chars().all(|c| c.is_ascii_alphanumeric() || "+=,.@_-".contains(c));
    if ok {
        Ok(())
    } else {
        Err(validation("roleName", name, "Member must satisfy regular expression pattern: [\\w+=,.@-]+"))
    }
}

fn parse_trust(text: &str) -> Result<PolicyDocument, StateError> {
    PolicyDocument::parse(text, PolicyKind::Resource).map_err(|e| iam_error("MalformedPolicyDocument", e.0))
}

fn parse_permissions(text: &str) -> Result<PolicyDocument, StateError> {
    PolicyDocument::parse(text, PolicyKind::Identity).map_err(|e| iam_error("MalformedPolicyDocument", e.0))
}

/// `arn:aws:iam::ACCOUNT:role/[PATH/]NAME` → (account, name).
fn parse_role_arn(arn: &str) -> Option<(AccountId, String)> {
    let rest = arn.strip_prefix("arn:aws:iam::")?;
    let (account, resource) = rest.split_once(':')?;
    let name = resource.strip_prefix("role/")?.rsplit('/').next()?;
    Some((AccountId::parse(account).ok()?, name.to_owned()))
}

/// What a web identity token proved: the issuer's provider ARN host and the claims the trust
/// policy's conditions read (`HOST:sub`, `HOST:aud`).
#[derive(Debug, Clone)]
pub struct WebIdentity {
    /// `oidc.ecr-lab.localhost` (the issuer URL without `https://`).
    pub provider: String,
    pub sub: String,
    pub aud: String,
}

/// A new session: its key, and the ARN and id STS reports for it.
#[derive(Debug, Clone)]
pub struct Session {
    pub key: AccessKey,
    pub assumed_role_arn: String,
    pub assumed_role_id: String,
}

impl State {
    pub(super) fn apply_role(&mut self, change: &IamEvent) {
        match change {
            IamEvent::RoleCreated { account, role_name, role_id, trust_policy, max_session_seconds } => {
                if let Ok(trust) = PolicyDocument::parse(trust_policy, PolicyKind::Resource) {
                    let role = IamRole {
                        role_id: role_id.clone(),
                        trust: (trust_policy.clone(), trust),
                        policies: BTreeMap::new(),
                        max_session_seconds: *max_session_seconds,
                    };
                    self.roles.insert(role_arn(account, role_name), role);
                }
            }
            IamEvent::RoleTrustUpdated { account, role_name, trust_policy } => {
                let parsed = PolicyDocument::parse(trust_policy, PolicyKind::Resource);
                if let (Some(role), Ok(trust)) = (self.roles.get_mut(&role_arn(account, role_name)), parsed) {
                    role.trust = (trust_policy.clone(), trust);
                }
            }
            IamEvent::RolePolicyPut { account, role_name, policy_name, document } => {
                let parsed = PolicyDocument::parse(document, PolicyKind::Identity);
                if let (Some(role), Ok(parsed)) = (self.roles.get_mut(&role_arn(account, role_name)), parsed) {
                    role.policies.insert(policy_name.clone(), (document.clone(), parsed));
                }
            }
            IamEvent::RolePolicyDeleted { account, role_name, policy_name } => {
                if let Some(role) = self.roles.get_mut(&role_arn(account, role_name)) {
                    role.policies.remove(policy_name);
                }
            }
            IamEvent::RoleDeleted { account, role_name } => {
                self.roles.remove(&role_arn(account, role_name));
            }
            _ => {}
        }
    }

    /// `iam create-role` (+ `put-role-policy` when `policy` is given), at once: a malformed
    /// document or a taken name stores nothing.
    pub fn create_role(
        &mut self,
        account: AccountId,
        role_name: &str,
        trust_policy: &str,
        policy: Option<(&str, &str)>,
        max_session_seconds: Option<i64>,
    ) -> Result<RoleSummary, StateError> {
        check_role_name(role_name)?;
        parse_trust(trust_policy)?;
        if let Some((_, text)) = policy {
            parse_permissions(text)?;
        }
        let max = max_session_seconds.unwrap_or(DEFAULT_SESSION_SECONDS);
        if !(DEFAULT_SESSION_SECONDS..=MAX_SESSION_SECONDS).contains(&max) {
            return Err(validation(
                "maxSessionDuration",
                &max.to_string(),
                "Member must have value between 3600 and 43200",
            ));
        }
        if self.roles.contains_key(&role_arn(&account, role_name)) {
            return Err(iam_error("EntityAlreadyExists", format!("Role with name {role_name} already exists.")));
        }
        let id = uuid::Uuid::new_v4().simple().to_string().to_uppercase();
        let change = IamEvent::RoleCreated {
            account: account.clone(),
            role_name: role_name.into(),
            role_id: format!("AROA{}", &id[..17]),
            trust_policy: trust_policy.into(),
            max_session_seconds: max,
        };
        self.record(Event::Iam { change });
        if let Some((policy_name, text)) = policy {
            self.put_role_policy(account.clone(), role_name, policy_name, text)?;
        }
        self.role_summary(&account, role_name)
    }

    /// `iam update-assume-role-policy`: replaces the trust policy.
    pub fn update_trust_policy(&mut self, account: AccountId, role_name: &str, text: &str) -> Result<(), StateError> {
        self.role(&account, role_name)?;
        parse_trust(text)?;
        let change = IamEvent::RoleTrustUpdated { account, role_name: role_name.into(), trust_policy: text.into() };
        self.record(Event::Iam { change });
        Ok(())
    }

    /// `iam put-role-policy`: adds or replaces one inline permission policy.
    pub fn put_role_policy(
        &mut self,
        account: AccountId,
        role_name: &str,
        policy_name: &str,
        text: &str,
    ) -> Result<(), StateError> {
        check_role_name(policy_name).map_err(|_| {
            validation("policyName", policy_name, "Member must satisfy regular expression pattern: [\\w+=,.@-]+")
        })?;
        self.role(&account, role_name)?;
        parse_permissions(text)?;
        let change = IamEvent::RolePolicyPut {
            account,
            role_name: role_name.into(),
            policy_name: policy_name.into(),
            document: text.into(),
        };
        self.record(Event::Iam { change });
        Ok(())
    }

    /// `iam delete-role-policy`.
    pub fn delete_role_policy(
        &mut self,
        account: AccountId,
        role_name: &str,
        policy_name: &str,
    ) -> Result<(), StateError> {
        if !self.role(&account, role_name)?.policies.contains_key(policy_name) {
            return Err(iam_error("NoSuchEntity", format!("The role policy with name {policy_name} cannot be found.")));
        }
        let change =
            IamEvent::RolePolicyDeleted { account, role_name: role_name.into(), policy_name: policy_name.into() };
        self.record(Event::Iam { change });
        Ok(())
    }

    /// `iam delete-role`. Sessions of the role keep their keys but lose every permission.
    pub fn delete_role(&mut self, account: AccountId, role_name: &str) -> Result<(), StateError> {
        self.role(&account, role_name)?;
        self.record(Event::Iam { change: IamEvent::RoleDeleted { account, role_name: role_name.into() } });
        Ok(())
    }

    fn role(&self, account: &AccountId, role_name: &str) -> Result<&IamRole, StateError> {
        self.roles
            .get(&role_arn(account, role_name))
            .ok_or_else(|| iam_error("NoSuchEntity", format!("The role with name {role_name} cannot be found.")))
    }

    fn role_summary(&self, account: &AccountId, role_name: &str) -> Result<RoleSummary, StateError> {
        let role = self.role(account, role_name)?;
        Ok(RoleSummary {
            role_name: role_name.to_owned(),
            arn: role_arn(account, role_name),
            role_id: role.role_id.clone(),
            assume_role_policy_document: role.trust.0.clone(),
            policy_names: role.policies.keys().cloned().collect(),
            max_session_duration: role.max_session_seconds,
        })
    }

    /// The roles of `account`.
    pub fn roles(&self, account: &AccountId) -> Vec<RoleSummary> {
        let prefix = format!("arn:aws:iam::{account}:role/");
        let names: Vec<String> =
            self.roles.keys().filter_map(|arn| arn.strip_prefix(&prefix).map(str::to_owned)).collect();
        names.iter().filter_map(|name| self.role_summary(account, name).ok()).collect()
    }

    /// The identity policies of a key's principal: `None` for a key with full access (one the lab
    /// did not create through IAM), the user's or the role's inline policies otherwise.
    pub(super) fn identity_policies(&self, key: &AccessKey) -> Option<Vec<&PolicyDocument>> {
        let arn = key.identity_arn();
        if key.role.is_some() {
            let role = self.roles.get(&arn);
            return Some(role.map(|r| r.policies.values().map(|(_, doc)| doc).collect()).unwrap_or_default());
        }
        self.users.get(&arn).map(|user| user.policies.values().map(|(_, doc)| doc).collect())
    }

    /// STS AssumeRole by `caller_key`: the role's trust policy (and, where needed, the caller's
    /// identity policies) must allow `sts:AssumeRole`; AWS answers AccessDenied for a role that does
    /// not exist too.
    pub fn assume_role(
        &mut self,
        caller_key: &str,
        role: &str,
        session_name: &str,
        duration: Option<i64>,
    ) -> Result<Session, StateError> {
        check_session_name(session_name)?;
        let key = self.keys.get(caller_key).cloned().ok_or_else(|| {
            iam_error("InvalidClientTokenId", "The security token included in the request is invalid.".into())
        })?;
        let target = parse_role_arn(role);
        let found = target.as_ref().and_then(|(account, name)| self.roles.get(&role_arn(account, name)));
        let seconds = session_seconds(duration, found)?;
        let (Some((account, name)), Some(found)) = (target, found) else {
            return Err(assume_denied(&key.arn(), role));
        };
        let request = Request::new(&key.arn(), key.account.as_str(), "sts:AssumeRole", &role_arn(&account, &name))
            .with_key("aws:PrincipalArn", &key.identity_arn())
            .with_key("aws:userid", &key.user_id);
        let full = PolicyDocument::full_access();
        let identity = self.identity_policies(&key).unwrap_or_else(|| vec![&full]);
        policy::authorize_trust(&identity, &found.trust.1, &request).map_err(|_| assume_denied(&key.arn(), role))?;
        let role_id = found.role_id.clone();
        self.start_session(account, name, role_id, session_name, seconds)
    }

    /// STS AssumeRoleWithWebIdentity with a token already verified (signature, issuer, audience,
    /// expiry): the role's trust policy must allow the token's provider, with its conditions on
    /// `HOST:sub` / `HOST:aud`.
    pub fn assume_role_with_web_identity(
        &mut self,
        identity: &WebIdentity,
        role: &str,
        session_name: &str,
        duration: Option<i64>,
    ) -> Result<Session, StateError> {
        check_session_name(session_name)?;
        let denied = || iam_error("AccessDenied", WEB_IDENTITY_DENIED.into());
        let target = parse_role_arn(role);
        let found = target.as_ref().and_then(|(account, name)| self.roles.get(&role_arn(account, name)));
        let seconds = session_seconds(duration, found)?;
        let (Some((account, name)), Some(found)) = (target, found) else { return Err(denied()) };
        let provider_arn = format!("arn:aws:iam::{account}:oidc-provider/{}", identity.provider);
        let resource = role_arn(&account, &name);
        let request = Request::new(&provider_arn, account.as_str(), "sts:AssumeRoleWithWebIdentity", &resource)
            .with_key(&format!("{}:sub", identity.provider), &identity.sub)
            .with_key(&format!("{}:aud", identity.provider), &identity.aud)
            .with_key("aws:FederatedProvider", &provider_arn);
        policy::authorize_trust(&[], &found.trust.1, &request).map_err(|_| denied())?;
        let role_id = found.role_id.clone();
        self.start_session(account, name, role_id, session_name, seconds)
    }

    fn start_session(
        &mut self,
        account: AccountId,
        role_name: String,
        role_id: String,
        session_name: &str,
        seconds: i64,
    ) -> Result<Session, StateError> {
        // The lab clock SigV4 checks session expiry against.
        let expires_at: Millis = self.now().plus_seconds(seconds);
        let session = RoleSession { role_name, session_name: session_name.to_owned(), role_id };
        let key = self.add_key(AccessKey::session(account, session, expires_at))?;
        Ok(Session { assumed_role_arn: key.arn(), assumed_role_id: key.user_id.clone(), key })
    }
}

#[cfg(test)]
#[path = "role_tests.rs"]
mod tests;
