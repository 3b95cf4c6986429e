//! `ecr-lab iam ...`: IAM users and roles with inline policies on a running mock (through
//! `/_lab/iam/`). A user created here gets an access key whose every ECR and registry call is
//! evaluated against its policies; a role is assumed (`aws sts assume-role`, or
//! `assume-role-with-web-identity` with a token from `ecr-lab oidc token`) for session credentials
//! evaluated against the role's policies. The lab's default learner keeps full access.

use std::path::PathBuf;

use anyhow::{Context, Result, bail};
use clap::Subcommand;

use crate::{control_client, paths};

#[derive(Debug, Subcommand)]
pub enum IamAction {
    /// Create a user and an access key for it, e.g. `ecr-lab iam create-user ci-pusher --policy file://push-only.json`.
    CreateUser {
        /// IAM user name (letters, digits and +=,.@_-).
        name: String,
        /// An identity policy: `file://PATH` or the JSON itself.
        #[arg(long)]
        policy: Option<String>,
        /// The inline policy's name [default: NAME-policy].
        #[arg(long)]
        policy_name: Option<String>,
        /// The account the user belongs to [default: 920736617090].
        #[arg(long)]
        account: Option<String>,
        /// The mock's URL [default: the last `ecr-lab serve` started on this machine].
        #[arg(long)]
        endpoint: Option<String>,
    },
    /// The users created with `iam create-user`, their policies and access keys.
    ListUsers {
        /// The account whose users are listed [default: 920736617090].
        #[arg(long)]
        account: Option<String>,
        /// The mock's URL [default: the last `ecr-lab serve` started on this machine].
        #[arg(long)]
        endpoint: Option<String>,
    },
    /// Add or replace an inline policy of a user (as `aws iam put-user-policy`).
    PutUserPolicy {
        /// The user, as `iam create-user` named it.
        #[arg(long)]
        user_name: String,
        /// The inline policy's name (a policy of that name is replaced).
        #[arg(long)]
        policy_name: String,
        /// `file://PATH` or the JSON itself.
        #[arg(long)]
        policy_document: String,
        /// The user's account [default: 920736617090].
        #[arg(long)]
        account: Option<String>,
        /// The mock's URL [default: the last `ecr-lab serve` started on this machine].
        #[arg(long)]
        endpoint: Option<String>,
    },
    /// Remove an inline policy of a user (as `aws iam delete-user-policy`).
    DeleteUserPolicy {
        /// The user, as `iam create-user` named it.
        #[arg(long)]
        user_name: String,
        /// The inline policy's name (a policy of that name is replaced).
        #[arg(long)]
        policy_name: String,
        /// The user's account [default: 920736617090].
        #[arg(long)]
        account: Option<String>,
        /// The mock's URL [default: the last `ecr-lab serve` started on this machine].
        #[arg(long)]
        endpoint: Option<String>,
    },
    /// Create a role, e.g. `ecr-lab iam create-role ci-deploy --trust-policy file://trust.json --policy file://push.json`.
    CreateRole {
        /// IAM role name (letters, digits and +=,.@_-).
        name: String,
        /// Who may assume the role (its AssumeRolePolicyDocument): `file://PATH` or the JSON itself.
        #[arg(long)]
        trust_policy: String,
        /// An inline permission policy: `file://PATH` or the JSON itself.
        #[arg(long)]
        policy: Option<String>,
        /// The inline policy's name [default: NAME-policy].
        #[arg(long)]
        policy_name: Option<String>,
        /// The longest session (seconds, 3600–43200) [default: 3600].
        #[arg(long)]
        max_session_duration: Option<i64>,
        /// The account the role belongs to [default: 920736617090].
        #[arg(long)]
        account: Option<String>,
        /// The mock's URL [default: the last `ecr-lab serve` started on this machine].
        #[arg(long)]
        endpoint: Option<String>,
    },
    /// The roles created with `iam create-role`, their trust and policies.
    ListRoles {
        /// The account whose roles are listed [default: 920736617090].
        #[arg(long)]
        account: Option<String>,
        /// The mock's URL [default: the last `ecr-lab serve` started on this machine].
        #[arg(long)]
        endpoint: Option<String>,
    },
    /// Delete a role (as `aws iam delete-role`); its sessions lose every permission.
    DeleteRole {
        /// The role, as `iam create-role` named it.
        name: String,
        /// The role's account [default: 920736617090].
        #[arg(long)]
        account: Option<String>,
        /// The mock's URL [default: the last `ecr-lab serve` started on this machine].
        #[arg(long)]
        endpoint: Option<String>,
    },
    /// Remove an inline policy of a role (as `aws iam delete-role-policy`).
    DeleteRolePolicy {
        /// The role, as `iam create-role` named it.
        #[arg(long)]
        role_name: String,
        /// The inline policy's name.
        #[arg(long)]
        policy_name: String,
        /// The role's account [default: 920736617090].
        #[arg(long)]
        account: Option<String>,
        /// The mock's URL [default: the last `ecr-lab serve` started on this machine].
        #[arg(long)]
        endpoint: Option<String>,
    },
    /// Add or replace an inline policy of a role (as `aws iam put-role-policy`).
    PutRolePolicy {
        /// The role, as `iam create-role` named it.
        #[arg(long)]
        role_name: String,
        /// The inline policy's name (a policy of that name is replaced).
        #[arg(long)]
        policy_name: String,
        /// `file://PATH` or the JSON itself.
        #[arg(long)]
        policy_document: String,
        /// The role's account [default: 920736617090].
        #[arg(long)]
        account: Option<String>,
        /// The mock's URL [default: the last `ecr-lab serve` started on this machine].
        #[arg(long)]
        endpoint: Option<String>,
    },
    /// Replace a role's trust policy (as `aws iam update-assume-role-policy`).
    UpdateAssumeRolePolicy {
        /// The role, as `iam create-role` named it.
        #[arg(long)]
        role_name: String,
        /// `file://PATH` or the JSON itself.
        #[arg(long)]
        policy_document: String,
        /// The role's account [default: 920736617090].
        #[arg(long)]
        account: Option<String>,
        /// The mock's URL [default: the last `ecr-lab serve` started on this machine].
        #[arg(long)]
        endpoint: Option<String>,
    },
}

/// `ecr-lab oidc ...`: the lab's OpenID Connect issuer, standing in for a CI provider's.
#[derive(Debug, Subcommand)]
pub enum OidcAction {
    /// Print a signed identity token (a JWT) as a CI provider hands one to a job, e.g.
    /// `ecr-lab oidc token --sub repo:org/app:ref:refs/heads/main --aud sts.amazonaws.com > token`.
    Token {
        /// The subject: who the job is (`repo:ORG/REPO:ref:refs/heads/BRANCH` as GitHub Actions words it).
        #[arg(long)]
        sub: String,
        /// The audience [default: sts.amazonaws.com].
        #[arg(long)]
        aud: Option<String>,
        /// How long the token lasts on the lab clock: `5m`, `1h`, `900` (seconds) [default: 1h].
        #[arg(long)]
        expires_in: Option<String>,
        /// The mock's URL [default: the last `ecr-lab serve` started on this machine].
        #[arg(long)]
        endpoint: Option<String>,
    },
}

/// `file://PATH` (as the aws CLI reads it; `path` resolves PATH) or the document itself.
fn document(text: &str, path: &(dyn Fn(&str) -> PathBuf + Sync)) -> Result<String> {
    match text.strip_prefix("file://") {
        Some(name) => std::fs::read_to_string(path(name))
            .with_context(|| format!("cannot read the policy file {name}; give file://PATH of a JSON policy")),
        None if text.trim_start().starts_with('{') => Ok(text.to_owned()),
        None => bail!("'{text}' is not a policy: give file://PATH (as the aws CLI takes it) or the JSON itself"),
    }
}

/// A user `create-user` made, with its new access key.
pub struct CreatedUser {
    pub user_name: String,
    pub access_key_id: String,
    pub secret_access_key: String,
}

impl IamAction {
    /// The `--endpoint` given, to fill in (the lab shell names its own mock).
    pub fn endpoint_mut(&mut self) -> &mut Option<String> {
        match self {
            Self::CreateUser { endpoint, .. }
            | Self::ListUsers { endpoint, .. }
            | Self::PutUserPolicy { endpoint, .. }
            | Self::DeleteUserPolicy { endpoint, .. }
            | Self::CreateRole { endpoint, .. }
            | Self::ListRoles { endpoint, .. }
            | Self::DeleteRole { endpoint, .. }
            | Self::PutRolePolicy { endpoint, .. }
            | Self::DeleteRolePolicy { endpoint, .. }
            | Self::UpdateAssumeRolePolicy { endpoint, .. } => endpoint,
        }
    }
}

/// `ecr-lab iam ...` as a command line: `ecr-lab` itself and the lab shell parse it the same way.
#[derive(Debug, clap::Parser)]
#[command(name = "ecr-lab iam", no_binary_name = true)]
pub struct IamCommand {
    #[command(subcommand)]
    pub action: IamAction,
}

pub async fn run(action: IamAction) -> Result<()> {
    let (lines, _) = execute(action, &|p: &str| PathBuf::from(p)).await?;
    for line in lines {
        println!("{line}");
    }
    Ok(())
}

/// Runs `action` against the mock; the lines to print, and the user `create-user` made. Policy
/// files (`file://PATH`) are found through `path`.
pub async fn execute(
    action: IamAction,
    path: &(dyn Fn(&str) -> PathBuf + Sync),
) -> Result<(Vec<String>, Option<CreatedUser>)> {
    let mut lines = Vec::new();
    let mut made = None;
    match action {
        role @ (IamAction::CreateRole { .. }
        | IamAction::ListRoles { .. }
        | IamAction::DeleteRole { .. }
        | IamAction::PutRolePolicy { .. }
        | IamAction::DeleteRolePolicy { .. }
        | IamAction::UpdateAssumeRolePolicy { .. }) => return Ok((run_role(role, path).await?, None)),
        IamAction::CreateUser { name, policy, policy_name, account, endpoint } => {
            let policy = policy.as_deref().map(|p| document(p, path)).transpose()?;
            let body = serde_json::json!({
                "userName": name, "accountId": account, "policyName": policy_name, "policyDocument": policy,
            });
            let created = control_client::iam(&paths::endpoint(endpoint)?, "POST", "users", Some(body)).await?;
            let field = |k: &str| created.get(k).and_then(|v| v.as_str()).unwrap_or_default().to_owned();
            lines.push(format!("created {} with access key {}", field("arn"), field("accessKeyId")));
            lines.push(format!("export AWS_ACCESS_KEY_ID={}", field("accessKeyId")));
            lines.push(format!("export AWS_SECRET_ACCESS_KEY={}", field("secretAccessKey")));
            made = Some(CreatedUser {
                user_name: name,
                access_key_id: field("accessKeyId"),
                secret_access_key: field("secretAccessKey"),
            });
        }
        IamAction::ListUsers { account, endpoint } => {
            let query = account.map(|a| format!("users?accountId={a}")).unwrap_or_else(|| "users".into());
            let users = control_client::iam(&paths::endpoint(endpoint)?, "GET", &query, None).await?;
            for user in users.as_array().map(Vec::as_slice).unwrap_or_default() {
                let list = |k: &str| {
                    let items: Vec<&str> = user
                        .get(k)
                        .and_then(|v| v.as_array())
                        .map(|a| a.iter().filter_map(|v| v.as_str()).collect())
                        .unwrap_or_default();
                    if items.is_empty() { "-".to_owned() } else { items.join(",") }
                };
                let arn = user.get("arn").and_then(|v| v.as_str()).unwrap_or_default();
                lines.push(format!("{arn}  policies: {}  keys: {}", list("policyNames"), list("accessKeyIds")));
            }
        }
        IamAction::PutUserPolicy { user_name, policy_name, policy_document, account, endpoint } => {
            let body = serde_json::json!({
                "accountId": account, "policyName": policy_name, "policyDocument": document(&policy_document, path)?,
            });
            let url = format!("users/{}/policies", segment(&user_name));
            control_client::iam(&paths::endpoint(endpoint)?, "POST", &url, Some(body)).await?;
            lines.push(format!("put policy {policy_name} on user {user_name}"));
        }
        IamAction::DeleteUserPolicy { user_name, policy_name, account, endpoint } => {
            let query = account.map(|a| format!("?accountId={a}")).unwrap_or_default();
            let url = format!("users/{}/policies/{}/delete{query}", segment(&user_name), segment(&policy_name));
            control_client::iam(&paths::endpoint(endpoint)?, "POST", &url, Some(serde_json::json!({}))).await?;
            lines.push(format!("deleted policy {policy_name} of user {user_name}"));
        }
    }
    Ok((lines, made))
}

/// A name as one URL path segment (IAM names hold only URL-safe characters, `+=,@` aside).
fn segment(name: &str) -> String {
    name.chars().filter(|c| c.is_ascii_alphanumeric() || "=,.@_-".contains(*c)).collect()
}

fn account_query(account: Option<&str>) -> String {
    account.map(|a| format!("?accountId={a}")).unwrap_or_default()
}

async fn run_role(action: IamAction, file: &(dyn Fn(&str) -> PathBuf + Sync)) -> Result<Vec<String>> {
    let mut lines = Vec::new();
    match action {
        IamAction::CreateRole { name, trust_policy, policy, policy_name, max_session_duration, account, endpoint } => {
            let body = serde_json::json!({
                "roleName": name, "accountId": account, "assumeRolePolicyDocument": document(&trust_policy, file)?,
                "policyName": policy_name, "policyDocument": policy.as_deref().map(|p| document(p, file)).transpose()?,
                "maxSessionDuration": max_session_duration,
            });
            let role = control_client::iam(&paths::endpoint(endpoint)?, "POST", "roles", Some(body)).await?;
            let arn = role.get("arn").and_then(|v| v.as_str()).unwrap_or_default();
            lines.push(format!("created {arn}"));
            lines.push(format!("assume it: aws sts assume-role --role-arn {arn} --role-session-name NAME"));
        }
        IamAction::ListRoles { account, endpoint } => {
            let path = format!("roles{}", account_query(account.as_deref()));
            let roles = control_client::iam(&paths::endpoint(endpoint)?, "GET", &path, None).await?;
            for role in roles.as_array().map(Vec::as_slice).unwrap_or_default() {
                let text = |k: &str| role.get(k).and_then(|v| v.as_str()).unwrap_or_default().to_owned();
                let policies: Vec<&str> = role
                    .get("policyNames")
                    .and_then(|v| v.as_array())
                    .map(|a| a.iter().filter_map(|v| v.as_str()).collect())
                    .unwrap_or_default();
                let policies = if policies.is_empty() { "-".to_owned() } else { policies.join(",") };
                lines.push(format!("{}  policies: {policies}", text("arn")));
                lines.push(format!(
                    "  trust: {}",
                    text("assumeRolePolicyDocument").split_whitespace().collect::<Vec<_>>().join(" ")
                ));
            }
        }
        IamAction::DeleteRole { name, account, endpoint } => {
            let path = format!("roles/{}/delete{}", segment(&name), account_query(account.as_deref()));
            control_client::iam(&paths::endpoint(endpoint)?, "POST", &path, Some(serde_json::json!({}))).await?;
            lines.push(format!("deleted role {name}"));
        }
        IamAction::PutRolePolicy { role_name, policy_name, policy_document, account, endpoint } => {
            let body = serde_json::json!({
                "accountId": account, "policyName": policy_name, "policyDocument": document(&policy_document, file)?,
            });
            let path = format!("roles/{}/policies", segment(&role_name));
            control_client::iam(&paths::endpoint(endpoint)?, "POST", &path, Some(body)).await?;
            lines.push(format!("put policy {policy_name} on role {role_name}"));
        }
        IamAction::DeleteRolePolicy { role_name, policy_name, account, endpoint } => {
            let path = format!(
                "roles/{}/policies/{}/delete{}",
                segment(&role_name),
                segment(&policy_name),
                account_query(account.as_deref())
            );
            control_client::iam(&paths::endpoint(endpoint)?, "POST", &path, Some(serde_json::json!({}))).await?;
            lines.push(format!("deleted policy {policy_name} of role {role_name}"));
        }
        IamAction::UpdateAssumeRolePolicy { role_name, policy_document, account, endpoint } => {
            let body = serde_json::json!({ "accountId": account, "policyDocument": document(&policy_document, file)? });
            let path = format!("roles/{}/trust", segment(&role_name));
            control_client::iam(&paths::endpoint(endpoint)?, "POST", &path, Some(body)).await?;
            lines.push(format!("replaced the trust policy of role {role_name}"));
        }
        _ => bail!("not a role action"),
    }
    Ok(lines)
}

/// `90`, `45s`, `15m`, `2h`, `1d` in seconds.
fn seconds(text: &str) -> Result<i64> {
    let text = text.trim();
    let (number, unit) = match text.char_indices().last() {
        Some((i, c)) if c.is_ascii_alphabetic() => (&text[..i], c),
        _ => (text, 's'),
    };
    let scale = match unit {
        's' => 1,
        'm' => 60,
        'h' => 3600,
        'd' => 86400,
        _ => bail!("'{text}' is not a duration: give seconds, or a number with s, m, h or d (15m, 1h)"),
    };
    let n: i64 = number.parse().with_context(|| format!("'{text}' is not a duration: give seconds, or 15m, 1h"))?;
    Ok(n * scale)
}

/// `ecr-lab oidc token`: prints the token alone (so `> token` makes a token file).
pub async fn run_oidc(action: OidcAction) -> Result<()> {
    let OidcAction::Token { sub, aud, expires_in, endpoint } = action;
    println!("{}", mint(&paths::endpoint(endpoint)?, &sub, aud.as_deref(), expires_in.as_deref()).await?);
    Ok(())
}

async fn mint(endpoint: &str, sub: &str, aud: Option<&str>, expires_in: Option<&str>) -> Result<String> {
    let body = serde_json::json!({ "sub": sub, "aud": aud, "expiresIn": expires_in.map(seconds).transpose()? });
    let minted = control_client::oidc(endpoint, "token", body).await?;
    Ok(minted.get("token").and_then(|v| v.as_str()).context("the mock answered without a token")?.to_owned())
}

/// `ecr-lab oidc token --sub S [--aud A] [--expires-in D]` inside the lab shell: the token as one line.
pub async fn oidc_token(endpoint: &str, args: &[&str]) -> Result<String> {
    let (mut sub, mut aud, mut expires_in) = (None, None, None);
    let mut words = args.iter();
    while let Some(flag) = words.next() {
        let value = words.next().with_context(|| format!("{flag} needs a value"))?;
        match *flag {
            "--sub" => sub = Some(*value),
            "--aud" => aud = Some(*value),
            "--expires-in" => expires_in = Some(*value),
            other => bail!("oidc token takes --sub, --aud and --expires-in, not {other}"),
        }
    }
    let sub = sub.context("oidc token needs --sub, e.g. --sub repo:org/app:ref:refs/heads/main")?;
    mint(endpoint, sub, aud, expires_in).await
}
