//! Who may call: access keys mapped to accounts and principals, and the lab's defaults.

use serde::{Deserialize, Serialize};

use crate::types::{AccountId, Millis, Region};

/// The account every lab command uses unless a lesson adds others (the guide's account).
pub const DEFAULT_ACCOUNT: &str = "920736617090";
/// The guide's region.
pub const DEFAULT_REGION: &str = "ap-south-1";
/// The lab's own access key. It only opens this mock: it is not, and cannot be, an AWS key.
pub const DEFAULT_ACCESS_KEY_ID: &str = "AKIAECRLABDEFAULT001";
pub const DEFAULT_SECRET_ACCESS_KEY: &str = "ecrlab/Mock+Secret+Key+Only+For+The+Lab00";

/// An access key the mock accepts, as IAM would hold it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AccessKey {
    pub access_key_id: String,
    pub secret_access_key: String,
    pub account: AccountId,
    /// IAM user name; STS reports `arn:aws:iam::ACCOUNT:user/NAME`.
    pub user_name: String,
    /// The `UserId` STS reports (an `AIDA...` id).
    pub user_id: String,
    /// Temporary credentials carry a session token that must come with each request.
    pub session_token: Option<String>,
    /// When temporary credentials stop working (lab clock).
    pub expires_at: Option<Millis>,
    /// A revoked key is unknown to the service from then on.
    pub revoked: bool,
    /// Session credentials of an assumed role (AssumeRole, AssumeRoleWithWebIdentity): the
    /// principal is the role session, and the role's policies decide what it may do.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub role: Option<RoleSession>,
}

/// Which role a session key stands for, and the session's name.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RoleSession {
    pub role_name: String,
    pub session_name: String,
    /// The role's `AROA...` id (the session's `UserId` is `ROLEID:SESSION`).
    pub role_id: String,
}

impl AccessKey {
    pub fn lab_default() -> Self {
        Self {
            access_key_id: DEFAULT_ACCESS_KEY_ID.into(),
            secret_access_key: DEFAULT_SECRET_ACCESS_KEY.into(),
            account: AccountId::parse(DEFAULT_ACCOUNT).expect("the default account is 12 digits"),
            user_name: "lab-learner".into(),
            user_id: "AIDAECRLABLEARNER0001".into(),
            session_token: None,
            expires_at: None,
            revoked: false,
            role: None,
        }
    }

    /// A new random key for `account`, optionally temporary (with a session token) until `expires_at`.
    pub fn generate(account: AccountId, user_name: String, expires_at: Option<Millis>) -> Self {
        let id = uuid::Uuid::new_v4().simple().to_string().to_uppercase();
        let secret = format!("{}{}", uuid::Uuid::new_v4().simple(), &uuid::Uuid::new_v4().simple().to_string()[..8]);
        let temporary = expires_at.is_some();
        Self {
            access_key_id: format!("{}{}", if temporary { "ASIA" } else { "AKIA" }, &id[..16]),
            secret_access_key: secret,
            account,
            user_name,
            user_id: format!("AIDA{}", &id[16..32]),
            session_token: temporary.then(|| format!("IQoJb3JpZ2luX2VjRUxBQg{}", uuid::Uuid::new_v4().simple())),
            expires_at,
            revoked: false,
            role: None,
        }
    }

    /// Session credentials for `role` of `account` until `expires_at`.
    pub fn session(account: AccountId, role: RoleSession, expires_at: Millis) -> Self {
        let mut key = Self::generate(account, role.session_name.clone(), Some(expires_at));
        key.user_id = format!("{}:{}", role.role_id, role.session_name);
        key.role = Some(role);
        key
    }

    /// `arn:aws:iam::ACCOUNT:user/NAME`, or for a role session
    /// `arn:aws:sts::ACCOUNT:assumed-role/ROLE/SESSION` (as STS and the denial texts name it).
    pub fn arn(&self) -> String {
        match &self.role {
            Some(r) => format!("arn:aws:sts::{}:assumed-role/{}/{}", self.account, r.role_name, r.session_name),
            None => format!("arn:aws:iam::{}:user/{}", self.account, self.user_name),
        }
    }

    /// The IAM identity whose policies apply: the user, or the role a session assumed.
    pub fn identity_arn(&self) -> String {
        match &self.role {
            Some(r) => format!("arn:aws:iam::{}:role/{}", self.account, r.role_name),
            None => self.arn(),
        }
    }

    /// This key's principal, calling in `region`.
    pub fn caller(&self, region: Region) -> Caller {
        Caller {
            account: self.account.clone(),
            region,
            access_key_id: self.access_key_id.clone(),
            user_id: self.user_id.clone(),
            arn: self.arn(),
        }
    }
}

/// An authenticated request's principal: the key's account, and the region of its credential scope.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Caller {
    pub account: AccountId,
    pub region: Region,
    pub access_key_id: String,
    pub user_id: String,
    pub arn: String,
}
