//! IAM policy documents and their evaluation, as pure functions (no state, no HTTP).
//!
//! [`PolicyDocument::parse`] turns policy JSON into a typed document or refuses it with IAM's
//! `MalformedPolicyDocument` wording; [`authorize`] combines identity-based policies and a
//! repository (resource-based) policy with IAM's evaluation logic: an explicit deny anywhere wins;
//! within one account an allow from either side is enough; across accounts both sides must allow.
//! [`Denial::message`] is AWS's text for the refusal.

use std::collections::BTreeMap;
use std::fmt;

use serde_json::Value;

/// Which side of IAM a document sits on: it decides whether `Principal` is required or forbidden.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PolicyKind {
    /// Attached to a user or role: no `Principal`, `Resource` required.
    Identity,
    /// Attached to a repository: `Principal` required, `Resource` optional (the repository itself).
    Resource,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Effect {
    Allow,
    Deny,
}

/// `Action` or `NotAction` (lists of `service:Name` patterns, `*` and `?` wildcards, case-insensitive).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Actions {
    Action(Vec<String>),
    NotAction(Vec<String>),
}

/// `Resource` or `NotResource` (ARN patterns, case-sensitive), or absent (a repository policy).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Resources {
    Resource(Vec<String>),
    NotResource(Vec<String>),
    ThisResource,
}

/// `Principal` of a resource-based statement: `"*"`, or the `AWS` ARNs / account ids it names, or
/// (a role's trust policy) the `Federated` OIDC providers whose tokens it accepts.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Principals {
    Anyone,
    Aws(Vec<String>),
    Federated(Vec<String>),
}

/// One test of a `Condition` block: `operator` over `key` (an `aws:` key, lower-cased) and `values`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Condition {
    pub operator: Operator,
    pub negated: bool,
    pub if_exists: bool,
    pub key: String,
    pub values: Vec<String>,
}

/// The condition operators the lab evaluates (each also with `Not` where IAM has one, and `IfExists`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Operator {
    StringEquals,
    StringEqualsIgnoreCase,
    StringLike,
    ArnEquals,
    ArnLike,
    Bool,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Statement {
    pub sid: Option<String>,
    pub effect: Effect,
    pub principal: Option<Principals>,
    pub actions: Actions,
    pub resources: Resources,
    pub conditions: Vec<Condition>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PolicyDocument {
    pub statements: Vec<Statement>,
}

/// Why a document was refused; the text is IAM's `MalformedPolicyDocument` message.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct MalformedPolicy(pub String);

fn malformed(text: &str) -> MalformedPolicy {
    MalformedPolicy(text.to_owned())
}

const SYNTAX: &str = "Syntax errors in policy.";
const STATEMENT_KEYS: &[&str] =
    &["Sid", "Effect", "Principal", "NotPrincipal", "Action", "NotAction", "Resource", "NotResource", "Condition"];

impl PolicyDocument {
    /// Parses and validates policy JSON of `kind`; the error is IAM's wording for the first problem.
    pub fn parse(text: &str, kind: PolicyKind) -> Result<Self, MalformedPolicy> {
        let value: Value = serde_json::from_str(text).map_err(|_| malformed(SYNTAX))?;
        let top = value.as_object().ok_or_else(|| malformed(SYNTAX))?;
        if top.keys().any(|k| !["Version", "Id", "Statement"].contains(&k.as_str())) {
            return Err(malformed(SYNTAX));
        }
        match top.get("Version").and_then(Value::as_str) {
            Some("2012-10-17") => {}
            Some("2008-10-17") | None => {
                return Err(malformed("Policy document must be version 2012-10-17 or greater."));
            }
            Some(_) => return Err(malformed(SYNTAX)),
        }
        let raw: Vec<&Value> = match top.get("Statement") {
            Some(Value::Array(list)) if !list.is_empty() => list.iter().collect(),
            Some(single @ Value::Object(_)) => vec![single],
            _ => return Err(malformed(SYNTAX)),
        };
        let statements = raw.into_iter().map(|s| parse_statement(s, kind)).collect::<Result<Vec<_>, _>>()?;
        let mut sids: Vec<&str> = statements.iter().filter_map(|s| s.sid.as_deref()).collect();
        sids.sort_unstable();
        if sids.windows(2).any(|w| w[0] == w[1]) {
            return Err(malformed("Statement IDs (SID) in a single policy must be unique."));
        }
        Ok(Self { statements })
    }

    /// The lab learner's policy: everything allowed (`ecr:*`, `sts:*` on `*`).
    pub fn full_access() -> Self {
        Self {
            statements: vec![Statement {
                sid: None,
                effect: Effect::Allow,
                principal: None,
                actions: Actions::Action(vec!["*".into()]),
                resources: Resources::Resource(vec!["*".into()]),
                conditions: Vec::new(),
            }],
        }
    }
}

fn parse_statement(value: &Value, kind: PolicyKind) -> Result<Statement, MalformedPolicy> {
    let object = value.as_object().ok_or_else(|| malformed(SYNTAX))?;
    if object.keys().any(|k| !STATEMENT_KEYS.contains(&k.as_str())) || object.contains_key("NotPrincipal") {
        return Err(malformed(SYNTAX));
    }
    let effect = match object.get("Effect").and_then(Value::as_str) {
        Some("Allow") => Effect::Allow,
        Some("Deny") => Effect::Deny,
        _ => return Err(malformed(SYNTAX)),
    };
    let sid = match object.get("Sid") {
        None => None,
        Some(Value::String(s)) => Some(s.clone()),
        Some(_) => return Err(malformed(SYNTAX)),
    };
    let actions = match (strings(object.get("Action"))?, strings(object.get("NotAction"))?) {
        (Some(a), None) if !a.is_empty() => Actions::Action(a),
        (None, Some(a)) if !a.is_empty() => Actions::NotAction(a),
        (Some(_), Some(_)) => return Err(malformed(SYNTAX)),
        _ => return Err(malformed("Policy statement must contain actions.")),
    };
    for action in match &actions {
        Actions::Action(a) | Actions::NotAction(a) => a,
    } {
        check_action(action)?;
    }
    let resources = match (strings(object.get("Resource"))?, strings(object.get("NotResource"))?) {
        (Some(r), None) if !r.is_empty() => Resources::Resource(r),
        (None, Some(r)) if !r.is_empty() => Resources::NotResource(r),
        (Some(_), Some(_)) => return Err(malformed(SYNTAX)),
        (None, None) if kind == PolicyKind::Resource => Resources::ThisResource,
        _ => return Err(malformed("Policy statement must contain resources.")),
    };
    if let Resources::Resource(list) | Resources::NotResource(list) = &resources {
        for resource in list {
            check_resource(resource)?;
        }
    }
    let principal = match (kind, object.get("Principal")) {
        (PolicyKind::Identity, Some(_)) => return Err(malformed("Policy document should not specify a principal.")),
        (PolicyKind::Identity, None) => None,
        (PolicyKind::Resource, Some(p)) => Some(parse_principal(p)?),
        (PolicyKind::Resource, None) => return Err(malformed("Missing required field Principal")),
    };
    let conditions = parse_conditions(object.get("Condition"))?;
    Ok(Statement { sid, effect, principal, actions, resources, conditions })
}

/// A string or a list of strings; `None` when absent.
fn strings(value: Option<&Value>) -> Result<Option<Vec<String>>, MalformedPolicy> {
    match value {
        None => Ok(None),
        Some(Value::String(s)) => Ok(Some(vec![s.clone()])),
        Some(Value::Array(list)) => list
            .iter()
            .map(|v| v.as_str().map(str::to_owned).ok_or_else(|| malformed(SYNTAX)))
            .collect::<Result<Vec<_>, _>>()
            .map(Some),
        Some(_) => Err(malformed(SYNTAX)),
    }
}

fn check_action(action: &str) -> Result<(), MalformedPolicy> {
    if action == "*" {
        return Ok(());
    }
    let parts: Vec<&str> = action.split(':').collect();
    match parts.as_slice() {
        [_] => Err(malformed("Actions/Conditions must be prefaced by a vendor, e.g., iam, sdb, ec2, etc.")),
        [vendor, _] if vendor.is_empty() || !vendor.chars().all(|c| c.is_ascii_alphanumeric() || "-.".contains(c)) => {
            Err(MalformedPolicy(format!("Vendor {vendor} is not valid")))
        }
        [_, _] => Ok(()),
        _ => Err(malformed("Actions/Condition can contain only one colon.")),
    }
}

fn check_resource(resource: &str) -> Result<(), MalformedPolicy> {
    if resource == "*" {
        return Ok(());
    }
    let parts: Vec<&str> = resource.splitn(6, ':').collect();
    if parts.len() < 6 || parts[0] != "arn" {
        return Err(MalformedPolicy(format!("Resource {resource} must be in ARN format or \"*\".")));
    }
    Ok(())
}

fn parse_principal(value: &Value) -> Result<Principals, MalformedPolicy> {
    match value {
        Value::String(s) if s == "*" => Ok(Principals::Anyone),
        Value::Object(map) => {
            if map.keys().any(|k| !["AWS", "Service", "Federated"].contains(&k.as_str())) {
                return Err(malformed(SYNTAX));
            }
            let aws = strings(map.get("AWS"))?.unwrap_or_default();
            let federated = strings(map.get("Federated"))?.unwrap_or_default();
            if aws.is_empty() && !federated.is_empty() {
                return Ok(Principals::Federated(federated));
            }
            if aws.iter().any(|p| p == "*") {
                return Ok(Principals::Anyone);
            }
            for principal in &aws {
                let account = principal.len() == 12 && principal.bytes().all(|b| b.is_ascii_digit());
                if !account && !principal.starts_with("arn:aws:iam::") && !principal.starts_with("arn:aws:sts::") {
                    return Err(MalformedPolicy(format!("Invalid principal in policy: \"AWS\":\"{principal}\"")));
                }
            }
            Ok(Principals::Aws(aws))
        }
        _ => Err(malformed(SYNTAX)),
    }
}

fn parse_conditions(value: Option<&Value>) -> Result<Vec<Condition>, MalformedPolicy> {
    let Some(value) = value else { return Ok(Vec::new()) };
    let blocks = value.as_object().ok_or_else(|| malformed(SYNTAX))?;
    let mut conditions = Vec::new();
    for (name, tests) in blocks {
        let (operator, negated, if_exists) = parse_operator(name)?;
        let tests = tests.as_object().ok_or_else(|| malformed(SYNTAX))?;
        for (key, values) in tests {
            let values = match values {
                Value::Bool(b) => vec![b.to_string()],
                other => strings(Some(other))?.ok_or_else(|| malformed(SYNTAX))?,
            };
            conditions.push(Condition { operator, negated, if_exists, key: key.to_ascii_lowercase(), values });
        }
    }
    Ok(conditions)
}

fn parse_operator(name: &str) -> Result<(Operator, bool, bool), MalformedPolicy> {
    let (base, if_exists) = match name.strip_suffix("IfExists") {
        Some(base) => (base, true),
        None => (name, false),
    };
    let (operator, negated) = match base {
        "StringEquals" => (Operator::StringEquals, false),
        "StringNotEquals" => (Operator::StringEquals, true),
        "StringEqualsIgnoreCase" => (Operator::StringEqualsIgnoreCase, false),
        "StringNotEqualsIgnoreCase" => (Operator::StringEqualsIgnoreCase, true),
        "StringLike" => (Operator::StringLike, false),
        "StringNotLike" => (Operator::StringLike, true),
        "ArnEquals" => (Operator::ArnEquals, false),
        "ArnNotEquals" => (Operator::ArnEquals, true),
        "ArnLike" => (Operator::ArnLike, false),
        "ArnNotLike" => (Operator::ArnLike, true),
        "Bool" => (Operator::Bool, false),
        _ => return Err(MalformedPolicy(format!("Invalid Condition type : {name}"))),
    };
    Ok((operator, negated, if_exists))
}

/// What one request asks: who, which action on which resource, and the `aws:` context keys.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Request {
    /// `arn:aws:iam::ACCOUNT:user/NAME` (or an assumed-role ARN).
    pub principal_arn: String,
    pub principal_account: String,
    /// `ecr:InitiateLayerUpload`.
    pub action: String,
    /// `arn:aws:ecr:REGION:ACCOUNT:repository/NAME`, or `*` for registry-wide actions.
    pub resource: String,
    /// Context keys, lower-cased (`aws:username`, `aws:principalarn`, `aws:securetransport`, ...).
    pub context: BTreeMap<String, String>,
}

impl Request {
    /// A request with the context keys the lab always knows about its principal.
    pub fn new(principal_arn: &str, principal_account: &str, action: &str, resource: &str) -> Self {
        let mut context = BTreeMap::new();
        context.insert("aws:principalarn".to_owned(), principal_arn.to_owned());
        context.insert("aws:principalaccount".to_owned(), principal_account.to_owned());
        if let Some(name) = principal_arn.strip_prefix(&format!("arn:aws:iam::{principal_account}:user/")) {
            context.insert("aws:username".to_owned(), name.rsplit('/').next().unwrap_or(name).to_owned());
        }
        Self {
            principal_arn: principal_arn.to_owned(),
            principal_account: principal_account.to_owned(),
            action: action.to_owned(),
            resource: resource.to_owned(),
            context,
        }
    }

    pub fn with_key(mut self, key: &str, value: &str) -> Self {
        self.context.insert(key.to_ascii_lowercase(), value.to_owned());
        self
    }

    /// The account that owns the resource (`*` belongs to the caller's own account).
    fn resource_account(&self) -> &str {
        match self.resource.split(':').nth(4) {
            Some(account) if !account.is_empty() => account,
            _ => &self.principal_account,
        }
    }
}

/// What one policy says about one request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Decision {
    /// No statement applies (an implicit deny if nothing else allows).
    NotApplicable,
    Allow,
    /// An applicable `Deny` statement: nothing can override it.
    Deny,
}

/// How a resource policy's allow named the caller.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Named {
    /// By its own ARN, or `*`: the resource policy alone grants it (within the account).
    Principal,
    /// By its account: the account's own identity policies must grant it too.
    Account,
}

/// Evaluates an identity-based policy (statements' `Principal` is ignored: there is none).
pub fn evaluate(policy: &PolicyDocument, request: &Request) -> Decision {
    let mut decision = Decision::NotApplicable;
    for statement in &policy.statements {
        if !applies(statement, request) {
            continue;
        }
        match statement.effect {
            Effect::Deny => return Decision::Deny,
            Effect::Allow => decision = Decision::Allow,
        }
    }
    decision
}

/// Evaluates a resource-based policy: the decision and, for an allow, how the caller was named.
fn evaluate_resource(policy: &PolicyDocument, request: &Request) -> (Decision, Option<Named>) {
    let mut best: (Decision, Option<Named>) = (Decision::NotApplicable, None);
    for statement in &policy.statements {
        let Some(named) = statement.principal.as_ref().and_then(|p| names(p, request)) else { continue };
        if !applies(statement, request) {
            continue;
        }
        match statement.effect {
            Effect::Deny => return (Decision::Deny, None),
            Effect::Allow if best.1 != Some(Named::Principal) => best = (Decision::Allow, Some(named)),
            Effect::Allow => {}
        }
    }
    best
}

fn names(principals: &Principals, request: &Request) -> Option<Named> {
    let list = match principals {
        Principals::Anyone => return Some(Named::Principal),
        Principals::Federated(list) => {
            // A web identity request's principal is the OIDC provider that issued its token.
            return list.contains(&request.principal_arn).then_some(Named::Principal);
        }
        Principals::Aws(list) => list,
    };
    let account_root = format!("arn:aws:iam::{}:root", request.principal_account);
    // A role session is named by its role's ARN (`aws:PrincipalArn`) as well as its own.
    let role = request.context.get("aws:principalarn").filter(|arn| **arn != request.principal_arn);
    if list.contains(&request.principal_arn) || role.is_some_and(|arn| list.contains(arn)) {
        Some(Named::Principal)
    } else if list.iter().any(|p| *p == request.principal_account || *p == account_root) {
        Some(Named::Account)
    } else {
        None
    }
}

fn applies(statement: &Statement, request: &Request) -> bool {
    let action = match &statement.actions {
        Actions::Action(list) => {
            list.iter().any(|p| wildcard(&p.to_ascii_lowercase(), &request.action.to_ascii_lowercase()))
        }
        Actions::NotAction(list) => {
            !list.iter().any(|p| wildcard(&p.to_ascii_lowercase(), &request.action.to_ascii_lowercase()))
        }
    };
    let resource = match &statement.resources {
        Resources::ThisResource => true,
        Resources::Resource(list) => list.iter().any(|p| resource_matches(p, &request.resource)),
        Resources::NotResource(list) => !list.iter().any(|p| resource_matches(p, &request.resource)),
    };
    action && resource && statement.conditions.iter().all(|c| condition_holds(c, &request.context))
}

/// `*` in a policy matches every resource; a request for `*` (a registry-wide action such as
/// GetAuthorizationToken) is matched only by a pattern that is all wildcards.
fn resource_matches(pattern: &str, resource: &str) -> bool {
    if resource == "*" {
        return pattern.chars().all(|c| c == '*');
    }
    wildcard(pattern, resource)
}

fn condition_holds(condition: &Condition, context: &BTreeMap<String, String>) -> bool {
    let Some(actual) = context.get(&condition.key) else {
        // A missing key: `...IfExists` and negated operators hold; the others do not.
        return condition.if_exists || condition.negated;
    };
    let matched = condition.values.iter().any(|expected| match condition.operator {
        Operator::StringEquals | Operator::ArnEquals => expected == actual,
        Operator::StringEqualsIgnoreCase => expected.eq_ignore_ascii_case(actual),
        Operator::StringLike | Operator::ArnLike => wildcard(expected, actual),
        Operator::Bool => expected.eq_ignore_ascii_case(actual),
    });
    matched != condition.negated
}

/// IAM's glob: `*` any run of characters (including none), `?` exactly one. No backtracking blow-up.
pub fn wildcard(pattern: &str, text: &str) -> bool {
    let (p, t): (Vec<char>, Vec<char>) = (pattern.chars().collect(), text.chars().collect());
    let (mut pi, mut ti) = (0, 0);
    let mut star: Option<(usize, usize)> = None;
    while ti < t.len() {
        if pi < p.len() && (p[pi] == '?' || p[pi] == t[ti]) {
            pi += 1;
            ti += 1;
        } else if pi < p.len() && p[pi] == '*' {
            star = Some((pi, ti));
            pi += 1;
        } else if let Some((sp, st)) = star {
            pi = sp + 1;
            ti = st + 1;
            star = Some((sp, st + 1));
        } else {
            return false;
        }
    }
    p[pi..].iter().all(|c| *c == '*')
}

/// Why a request was refused; [`Denial::message`] is AWS's text.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Denial {
    ExplicitDenyIdentity,
    ExplicitDenyResource,
    NoIdentityAllow,
    NoResourceAllow,
}

impl Denial {
    /// `User: ARN is not authorized to perform: ACTION on resource: RESOURCE because ...` as IAM words it.
    /// Captured: no identity-based allow, docker's `denied: ...` line (gh:ministryofjustice/cloud-platform#7245,
    /// gh:department-of-veterans-affairs/va.gov-team#106631); no resource-based allow, cross-account
    /// (gh:aws-actions/amazon-ecr-login#232); explicit deny in an identity-based policy
    /// (gh:terraform-aws-modules/terraform-aws-eks#2517) and in a resource-based policy (gh:noobaa/noobaa-core#10060).
    pub fn message(self, request: &Request) -> String {
        let head = format!(
            "User: {} is not authorized to perform: {} on resource: {}",
            request.principal_arn, request.action, request.resource
        );
        let action = &request.action;
        match self {
            Denial::ExplicitDenyIdentity => format!("{head} with an explicit deny in an identity-based policy"),
            Denial::ExplicitDenyResource => format!("{head} with an explicit deny in a resource-based policy"),
            Denial::NoIdentityAllow => format!("{head} because no identity-based policy allows the {action} action"),
            Denial::NoResourceAllow => format!("{head} because no resource-based policy allows the {action} action"),
        }
    }
}

impl fmt::Display for Denial {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{self:?}")
    }
}

/// IAM's evaluation of one request: identity policies of the caller and the resource's policy.
/// Explicit deny wins; same account: either side's allow suffices (a resource policy naming only
/// the account defers to identity policies); another account: both sides must allow.
pub fn authorize(
    identity: &[&PolicyDocument],
    resource: Option<&PolicyDocument>,
    request: &Request,
) -> Result<(), Denial> {
    let identity_decisions: Vec<Decision> = identity.iter().map(|p| evaluate(p, request)).collect();
    if identity_decisions.contains(&Decision::Deny) {
        return Err(Denial::ExplicitDenyIdentity);
    }
    let (resource_decision, named) =
        resource.map_or((Decision::NotApplicable, None), |p| evaluate_resource(p, request));
    if resource_decision == Decision::Deny {
        return Err(Denial::ExplicitDenyResource);
    }
    let identity_allows = identity_decisions.contains(&Decision::Allow);
    let resource_allows = resource_decision == Decision::Allow;
    if request.resource_account() == request.principal_account {
        if identity_allows || (resource_allows && named == Some(Named::Principal)) {
            return Ok(());
        }
        return Err(Denial::NoIdentityAllow);
    }
    match (identity_allows, resource_allows) {
        (true, true) => Ok(()),
        (false, _) => Err(Denial::NoIdentityAllow),
        (true, false) => Err(Denial::NoResourceAllow),
    }
}

/// A role's trust policy deciding `sts:AssumeRole*`: the trust policy must allow the caller (an
/// explicit deny anywhere wins); when it names the caller only by its account, or the caller is in
/// another account, the caller's identity policies must allow the action too.
pub fn authorize_trust(identity: &[&PolicyDocument], trust: &PolicyDocument, request: &Request) -> Result<(), Denial> {
    let identity_decisions: Vec<Decision> = identity.iter().map(|p| evaluate(p, request)).collect();
    if identity_decisions.contains(&Decision::Deny) {
        return Err(Denial::ExplicitDenyIdentity);
    }
    match evaluate_resource(trust, request) {
        (Decision::Deny, _) => Err(Denial::ExplicitDenyResource),
        (Decision::NotApplicable, _) => Err(Denial::NoResourceAllow),
        (Decision::Allow, Some(Named::Principal)) if request.resource_account() == request.principal_account => Ok(()),
        (Decision::Allow, _) if identity_decisions.contains(&Decision::Allow) => Ok(()),
        (Decision::Allow, _) => Err(Denial::NoIdentityAllow),
    }
}

#[cfg(test)]
#[path = "policy_tests.rs"]
mod tests;
