//! Evaluation examples taken from AWS's documentation (IAM policy evaluation logic, the IAM JSON
//! policy element reference, ECR's managed policies and repository policy examples).

use super::*;

const ME: &str = "920736617090";
const OTHER: &str = "111122223333";
const REPO: &str = "arn:aws:ecr:ap-south-1:920736617090:repository/test";
const OTHER_REPO: &str = "arn:aws:ecr:ap-south-1:111122223333:repository/shared";

fn identity(text: &str) -> PolicyDocument {
    PolicyDocument::parse(text, PolicyKind::Identity).expect("valid identity policy")
}

fn resource(text: &str) -> PolicyDocument {
    PolicyDocument::parse(text, PolicyKind::Resource).expect("valid resource policy")
}

fn user(name: &str, action: &str, resource: &str) -> Request {
    Request::new(&format!("arn:aws:iam::{ME}:user/{name}"), ME, action, resource)
}

/// AmazonEC2ContainerRegistryReadOnly, as AWS publishes it.
const READ_ONLY: &str = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":[
  "ecr:GetAuthorizationToken","ecr:BatchCheckLayerAvailability","ecr:GetDownloadUrlForLayer",
  "ecr:GetRepositoryPolicy","ecr:DescribeRepositories","ecr:ListImages","ecr:DescribeImages",
  "ecr:BatchGetImage","ecr:GetLifecyclePolicy","ecr:GetLifecyclePolicyPreview",
  "ecr:ListTagsForResource","ecr:DescribeImageScanFindings"],"Resource":"*"}]}"#;

#[test]
fn the_read_only_managed_policy_pulls_but_does_not_push() {
    let policy = identity(READ_ONLY);
    for action in ["ecr:BatchGetImage", "ecr:GetDownloadUrlForLayer", "ecr:GetAuthorizationToken"] {
        assert_eq!(evaluate(&policy, &user("deploy", action, REPO)), Decision::Allow, "{action}");
    }
    let push = user("deploy", "ecr:InitiateLayerUpload", REPO);
    assert_eq!(evaluate(&policy, &push), Decision::NotApplicable);
    assert_eq!(authorize(&[&policy], None, &push), Err(Denial::NoIdentityAllow));
    assert_eq!(
        Denial::NoIdentityAllow.message(&push),
        "User: arn:aws:iam::920736617090:user/deploy is not authorized to perform: ecr:InitiateLayerUpload on \
         resource: arn:aws:ecr:ap-south-1:920736617090:repository/test because no identity-based policy allows \
         the ecr:InitiateLayerUpload action"
    );
}

#[test]
fn an_explicit_deny_overrides_any_allow() {
    // The IAM guide's example: allow iam:Get* and iam:List*, deny iam:*Report.
    let policy = identity(
        r#"{"Version":"2012-10-17","Statement":[
        {"Sid":"AllowGetList","Effect":"Allow","Action":["iam:Get*","iam:List*"],"Resource":"*"},
        {"Sid":"DenyReports","Effect":"Deny","Action":"iam:*Report","Resource":"*"}]}"#,
    );
    assert_eq!(evaluate(&policy, &user("a", "iam:GetUser", "*")), Decision::Allow);
    assert_eq!(evaluate(&policy, &user("a", "iam:GetCredentialReport", "*")), Decision::Deny);
    assert_eq!(evaluate(&policy, &user("a", "iam:CreatePolicy", "*")), Decision::NotApplicable);
    // A second policy granting everything changes nothing: the deny still wins.
    let all = PolicyDocument::full_access();
    let report = user("a", "iam:GetCredentialReport", "*");
    assert_eq!(authorize(&[&all, &policy], None, &report), Err(Denial::ExplicitDenyIdentity));
    assert!(
        Denial::ExplicitDenyIdentity.message(&report).ends_with(" with an explicit deny in an identity-based policy")
    );
}

#[test]
fn not_action_allows_everything_except_the_listed_service() {
    let policy =
        identity(r#"{"Version":"2012-10-17","Statement":{"Effect":"Allow","NotAction":"iam:*","Resource":"*"}}"#);
    assert_eq!(evaluate(&policy, &user("a", "ecr:PutImage", REPO)), Decision::Allow);
    assert_eq!(evaluate(&policy, &user("a", "iam:CreateUser", "*")), Decision::NotApplicable);
}

#[test]
fn actions_match_case_insensitively_and_resources_case_sensitively() {
    let policy = identity(
        r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"ECR:batchget*",
        "Resource":"arn:aws:ecr:ap-south-1:920736617090:repository/te?t"}]}"#,
    );
    assert_eq!(evaluate(&policy, &user("a", "ecr:BatchGetImage", REPO)), Decision::Allow);
    let upper = "arn:aws:ecr:ap-south-1:920736617090:repository/TEST";
    assert_eq!(evaluate(&policy, &user("a", "ecr:BatchGetImage", upper)), Decision::NotApplicable);
    let longer = "arn:aws:ecr:ap-south-1:920736617090:repository/tests";
    assert_eq!(evaluate(&policy, &user("a", "ecr:BatchGetImage", longer)), Decision::NotApplicable);
}

#[test]
fn a_repository_scoped_policy_does_not_grant_registry_wide_actions() {
    let policy = identity(
        r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"ecr:*",
        "Resource":"arn:aws:ecr:*:*:repository/*"}]}"#,
    );
    assert_eq!(evaluate(&policy, &user("a", "ecr:PutImage", REPO)), Decision::Allow);
    assert_eq!(evaluate(&policy, &user("a", "ecr:GetAuthorizationToken", "*")), Decision::NotApplicable);
}

#[test]
fn not_resource_excludes_the_named_repositories() {
    let policy = identity(
        r#"{"Version":"2012-10-17","Statement":[{"Effect":"Deny","Action":"ecr:DeleteRepository",
        "NotResource":"arn:aws:ecr:*:*:repository/scratch-*"},
        {"Effect":"Allow","Action":"ecr:*","Resource":"*"}]}"#,
    );
    let scratch = "arn:aws:ecr:ap-south-1:920736617090:repository/scratch-1";
    assert_eq!(evaluate(&policy, &user("a", "ecr:DeleteRepository", scratch)), Decision::Allow);
    assert_eq!(evaluate(&policy, &user("a", "ecr:DeleteRepository", REPO)), Decision::Deny);
}

#[test]
fn conditions_on_aws_keys() {
    let policy = identity(
        r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"ecr:*","Resource":"*",
        "Condition":{"StringLike":{"aws:username":"ci-*"},"ArnLike":{"aws:PrincipalArn":"arn:aws:iam::*:user/ci-*"},
        "StringEquals":{"aws:RequestedRegion":["ap-south-1","eu-west-1"]}}}]}"#,
    );
    let ci = user("ci-pusher", "ecr:PutImage", REPO).with_key("aws:RequestedRegion", "ap-south-1");
    assert_eq!(evaluate(&policy, &ci), Decision::Allow);
    let wrong_region = user("ci-pusher", "ecr:PutImage", REPO).with_key("aws:RequestedRegion", "us-east-1");
    assert_eq!(evaluate(&policy, &wrong_region), Decision::NotApplicable);
    let dev = user("dev", "ecr:PutImage", REPO).with_key("aws:RequestedRegion", "ap-south-1");
    assert_eq!(evaluate(&policy, &dev), Decision::NotApplicable);
    // A key the request lacks fails a positive test.
    assert_eq!(evaluate(&policy, &user("ci-pusher", "ecr:PutImage", REPO)), Decision::NotApplicable);
}

#[test]
fn bool_and_if_exists_follow_the_documented_missing_key_rules() {
    // The IAM guide's "deny unless over TLS": Bool aws:SecureTransport false.
    let tls = identity(
        r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"ecr:*","Resource":"*"},
        {"Effect":"Deny","Action":"ecr:*","Resource":"*","Condition":{"Bool":{"aws:SecureTransport":false}}}]}"#,
    );
    let plain = user("a", "ecr:PutImage", REPO).with_key("aws:SecureTransport", "false");
    let secure = user("a", "ecr:PutImage", REPO).with_key("aws:SecureTransport", "true");
    assert_eq!(evaluate(&tls, &plain), Decision::Deny);
    assert_eq!(evaluate(&tls, &secure), Decision::Allow);
    // Missing key: Bool does not match, so the deny does not apply.
    assert_eq!(evaluate(&tls, &user("a", "ecr:PutImage", REPO)), Decision::Allow);
    let mfa = identity(
        r#"{"Version":"2012-10-17","Statement":[{"Effect":"Deny","Action":"ecr:*","Resource":"*",
        "Condition":{"BoolIfExists":{"aws:MultiFactorAuthPresent":"false"}}}]}"#,
    );
    assert_eq!(evaluate(&mfa, &user("a", "ecr:PutImage", REPO)), Decision::Deny, "missing key: IfExists holds");
    let negated = identity(
        r#"{"Version":"2012-10-17","Statement":[{"Effect":"Deny","Action":"ecr:*","Resource":"*",
        "Condition":{"StringNotEquals":{"aws:PrincipalAccount":"920736617090"}}}]}"#,
    );
    assert_eq!(evaluate(&negated, &user("a", "ecr:PutImage", REPO)), Decision::NotApplicable);
    let outsider = Request::new("arn:aws:iam::111122223333:user/x", OTHER, "ecr:PutImage", REPO);
    assert_eq!(evaluate(&negated, &outsider), Decision::Deny);
}

/// ECR's repository policy example "allow another account to pull".
const ALLOW_OTHER_PULL: &str = r#"{"Version":"2012-10-17","Statement":[{"Sid":"AllowCrossAccountPull",
  "Effect":"Allow","Principal":{"AWS":"arn:aws:iam::920736617090:root"},
  "Action":["ecr:BatchGetImage","ecr:GetDownloadUrlForLayer","ecr:BatchCheckLayerAvailability"]}]}"#;

#[test]
fn cross_account_access_needs_both_sides() {
    let full = PolicyDocument::full_access();
    let repo_policy = resource(ALLOW_OTHER_PULL);
    let pull = user("a", "ecr:BatchGetImage", OTHER_REPO);
    assert_eq!(authorize(&[&full], Some(&repo_policy), &pull), Ok(()));
    assert_eq!(authorize(&[&full], None, &pull), Err(Denial::NoResourceAllow));
    let push = user("a", "ecr:InitiateLayerUpload", OTHER_REPO);
    assert_eq!(authorize(&[&full], Some(&repo_policy), &push), Err(Denial::NoResourceAllow));
    assert_eq!(
        Denial::NoResourceAllow.message(&push),
        "User: arn:aws:iam::920736617090:user/a is not authorized to perform: ecr:InitiateLayerUpload on \
         resource: arn:aws:ecr:ap-south-1:111122223333:repository/shared because no resource-based policy \
         allows the ecr:InitiateLayerUpload action"
    );
    let read_only = identity(READ_ONLY);
    assert_eq!(authorize(&[&read_only], Some(&repo_policy), &pull), Ok(()));
    let none: [&PolicyDocument; 0] = [];
    assert_eq!(authorize(&none, Some(&repo_policy), &pull), Err(Denial::NoIdentityAllow));
}

#[test]
fn within_an_account_a_resource_policy_naming_the_user_is_enough() {
    let none: [&PolicyDocument; 0] = [];
    let names_user = resource(
        r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow",
        "Principal":{"AWS":["arn:aws:iam::920736617090:user/deploy"]},"Action":"ecr:BatchGetImage"}]}"#,
    );
    assert_eq!(authorize(&none, Some(&names_user), &user("deploy", "ecr:BatchGetImage", REPO)), Ok(()));
    assert_eq!(
        authorize(&none, Some(&names_user), &user("other", "ecr:BatchGetImage", REPO)),
        Err(Denial::NoIdentityAllow)
    );
    // Naming only the account delegates to the account's identity policies.
    let names_account = resource(&ALLOW_OTHER_PULL.replace("arn:aws:iam::920736617090:root", ME));
    assert_eq!(
        authorize(&none, Some(&names_account), &user("deploy", "ecr:BatchGetImage", REPO)),
        Err(Denial::NoIdentityAllow)
    );
}

#[test]
fn a_repository_policy_deny_beats_an_identity_allow() {
    let deny = resource(
        r#"{"Version":"2012-10-17","Statement":[{"Effect":"Deny","Principal":"*","Action":"ecr:DeleteRepository"}]}"#,
    );
    let full = PolicyDocument::full_access();
    let request = user("a", "ecr:DeleteRepository", REPO);
    assert_eq!(authorize(&[&full], Some(&deny), &request), Err(Denial::ExplicitDenyResource));
    assert!(
        Denial::ExplicitDenyResource.message(&request).ends_with("with an explicit deny in a resource-based policy")
    );
    assert_eq!(authorize(&[&full], Some(&deny), &user("a", "ecr:PutImage", REPO)), Ok(()));
}

#[test]
fn malformed_documents_get_iams_wording() {
    let cases = [
        ("{", "Syntax errors in policy."),
        (r#"{"Version":"2012-10-17","Statement":[]}"#, "Syntax errors in policy."),
        (
            r#"{"Version":"2012-10-17","Statement":[{"Effect":"Maybe","Action":"ecr:*","Resource":"*"}]}"#,
            "Syntax errors in policy.",
        ),
        (
            r#"{"Statement":[{"Effect":"Allow","Action":"ecr:*","Resource":"*"}]}"#,
            "Policy document must be version 2012-10-17 or greater.",
        ),
        (
            r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Resource":"*"}]}"#,
            "Policy statement must contain actions.",
        ),
        (
            r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"ecr:*"}]}"#,
            "Policy statement must contain resources.",
        ),
        (
            r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"PutImage","Resource":"*"}]}"#,
            "Actions/Conditions must be prefaced by a vendor, e.g., iam, sdb, ec2, etc.",
        ),
        (
            r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"ecr:*","Resource":"test"}]}"#,
            "Resource test must be in ARN format or \"*\".",
        ),
        (
            r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":"*","Action":"ecr:*","Resource":"*"}]}"#,
            "Policy document should not specify a principal.",
        ),
        (
            r#"{"Version":"2012-10-17","Statement":[{"Sid":"a","Effect":"Allow","Action":"ecr:*","Resource":"*"},{"Sid":"a","Effect":"Deny","Action":"ecr:*","Resource":"*"}]}"#,
            "Statement IDs (SID) in a single policy must be unique.",
        ),
    ];
    for (text, message) in cases {
        assert_eq!(PolicyDocument::parse(text, PolicyKind::Identity), Err(MalformedPolicy(message.into())), "{text}");
    }
    let no_principal = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"ecr:*"}]}"#;
    assert!(PolicyDocument::parse(no_principal, PolicyKind::Resource).is_err());
}

#[test]
fn wildcards() {
    assert!(wildcard("*", ""));
    assert!(wildcard("ecr:*Layer*", "ecr:InitiateLayerUpload"));
    assert!(wildcard("a?c", "abc"));
    assert!(!wildcard("a?c", "ac"));
    assert!(!wildcard("ecr:Get*", "ecr:PutImage"));
    assert!(wildcard("*a*a*a*a*b", "aaaaaaaaaaaaaaaaaaaab"));
    assert!(!wildcard("*a*a*a*a*b", "aaaaaaaaaaaaaaaaaaaaa"));
}
