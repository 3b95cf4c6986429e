//! `ecr-lab iam ...`: IAM users with inline policies on a running mock (through `/_lab/iam/`).
//! A user created here gets an access key whose every ECR and registry call is evaluated against
//! its policies; the lab's default learner keeps full access.

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
            | Self::DeleteUserPolicy { endpoint, .. } => endpoint,
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
