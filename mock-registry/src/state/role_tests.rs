use super::*;
use crate::state::DEFAULT_ACCESS_KEY_ID;
use crate::state::RegistryKey;
use crate::types::Region;

const ME: &str = "920736617090";

fn account() -> AccountId {
    AccountId::parse(ME).unwrap()
}

fn registry() -> RegistryKey {
    RegistryKey::new(account(), Region::parse("ap-south-1").unwrap())
}

const TRUST_LEARNER: &str = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow",
  "Principal":{"AWS":"arn:aws:iam::920736617090:user/lab-learner"},"Action":"sts:AssumeRole"}]}"#;

const TRUST_MAIN_BRANCH: &str = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow",
  "Principal":{"Federated":"arn:aws:iam::920736617090:oidc-provider/oidc.ecr-lab.localhost"},
  "Action":"sts:AssumeRoleWithWebIdentity","Condition":{
    "StringEquals":{"oidc.ecr-lab.localhost:aud":"sts.amazonaws.com"},
    "StringLike":{"oidc.ecr-lab.localhost:sub":"repo:org/app:ref:refs/heads/main"}}}]}"#;

const PULL: &str = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":
  ["ecr:GetAuthorizationToken","ecr:BatchGetImage"],"Resource":"*"}]}"#;

fn web(sub: &str) -> WebIdentity {
    WebIdentity { provider: "oidc.ecr-lab.localhost".into(), sub: sub.into(), aud: "sts.amazonaws.com".into() }
}

#[test]
fn a_trusted_caller_assumes_the_role_and_acts_with_its_policies() {
    let mut state = State::new(b"secret".to_vec());
    state.create_role(account(), "deployer", TRUST_LEARNER, Some(("pull", PULL)), None).unwrap();
    let arn = "arn:aws:iam::920736617090:role/deployer";
    let session = state.assume_role(DEFAULT_ACCESS_KEY_ID, arn, "build-42", Some(900)).unwrap();
    assert_eq!(session.assumed_role_arn, "arn:aws:sts::920736617090:assumed-role/deployer/build-42");
    assert!(session.key.access_key_id.starts_with("ASIA"), "{}", session.key.access_key_id);
    assert!(session.key.session_token.is_some());
    let left = session.key.expires_at.unwrap().0 - state.now().0;
    assert!((899_000..=900_000).contains(&left), "{left} ms left of a 900 s session");
    let id = &session.key.access_key_id;
    assert_eq!(state.authorize(id, "ecr:BatchGetImage", &registry(), Some("app")), Ok(()));
    assert_eq!(
        state.authorize(id, "ecr:PutImage", &registry(), Some("app")).unwrap_err(),
        "User: arn:aws:sts::920736617090:assumed-role/deployer/build-42 is not authorized to perform: ecr:PutImage \
         on resource: arn:aws:ecr:ap-south-1:920736617090:repository/app because no identity-based policy allows \
         the ecr:PutImage action"
    );
    // The session cannot assume the role again: the trust policy names the learner only.
    let chained = state.assume_role(id, arn, "again", None).unwrap_err();
    assert_eq!(
        chained.to_string(),
        "AccessDenied: User: arn:aws:sts::920736617090:assumed-role/deployer/build-42 is not authorized to perform: \
         sts:AssumeRole on resource: arn:aws:iam::920736617090:role/deployer"
    );
    // A role that does not exist is the same denial.
    let missing = state.assume_role(DEFAULT_ACCESS_KEY_ID, "arn:aws:iam::920736617090:role/nope", "s1", None);
    assert_eq!(
        missing.unwrap_err().to_string(),
        "AccessDenied: User: arn:aws:iam::920736617090:user/lab-learner is not authorized to perform: sts:AssumeRole on resource: arn:aws:iam::920736617090:role/nope"
    );
}

#[test]
fn durations_and_names_are_checked_and_nothing_is_stored_for_bad_documents() {
    let mut state = State::new(b"secret".to_vec());
    state.create_role(account(), "r", TRUST_LEARNER, None, None).unwrap();
    let arn = "arn:aws:iam::920736617090:role/r";
    let short = state.assume_role(DEFAULT_ACCESS_KEY_ID, arn, "s1", Some(899)).unwrap_err();
    assert!(short.to_string().contains("greater than or equal to 900"), "{short}");
    let long = state.assume_role(DEFAULT_ACCESS_KEY_ID, arn, "s1", Some(43201)).unwrap_err();
    assert!(long.to_string().contains("less than or equal to 43200"), "{long}");
    let over = state.assume_role(DEFAULT_ACCESS_KEY_ID, arn, "s1", Some(7200)).unwrap_err();
    assert_eq!(
        over.to_string(),
        "ValidationError: The requested DurationSeconds exceeds the MaxSessionDuration set for this role."
    );
    assert!(state.assume_role(DEFAULT_ACCESS_KEY_ID, arn, "x", None).is_err(), "session names are 2..64");
    let bad = state.create_role(account(), "bad", r#"{"Version":"2012-10-17"}"#, None, None).unwrap_err();
    assert_eq!(bad.to_string(), "MalformedPolicyDocument: Syntax errors in policy.");
    let bad = state.create_role(account(), "bad", TRUST_LEARNER, Some(("p", "{}")), None).unwrap_err();
    assert!(bad.to_string().starts_with("MalformedPolicyDocument"), "{bad}");
    assert_eq!(state.roles(&account()).len(), 1);
    assert!(state.create_role(account(), "r", TRUST_LEARNER, None, None).is_err(), "taken");
}

#[test]
fn web_identity_is_decided_by_the_trust_policys_conditions_and_replays() {
    let mut state = State::new(b"secret".to_vec());
    state.create_role(account(), "ci", TRUST_MAIN_BRANCH, Some(("pull", PULL)), Some(7200)).unwrap();
    let arn = "arn:aws:iam::920736617090:role/ci";
    let main = state.assume_role_with_web_identity(&web("repo:org/app:ref:refs/heads/main"), arn, "gha", Some(7200));
    assert_eq!(main.unwrap().assumed_role_arn, "arn:aws:sts::920736617090:assumed-role/ci/gha");
    let feature = state.assume_role_with_web_identity(&web("repo:org/app:ref:refs/heads/feature"), arn, "gha", None);
    assert_eq!(
        feature.unwrap_err().to_string(),
        "AccessDenied: Not authorized to perform sts:AssumeRoleWithWebIdentity"
    );
    let mut wrong_aud = web("repo:org/app:ref:refs/heads/main");
    wrong_aud.aud = "other".into();
    assert!(state.assume_role_with_web_identity(&wrong_aud, arn, "gha", None).is_err());
    // A signed caller cannot use a trust policy written for the OIDC provider.
    assert!(state.assume_role(DEFAULT_ACCESS_KEY_ID, arn, "s1", None).is_err());
    // After replay, the role and its trust decide the same.
    let lines: Vec<String> = state.take_outbox().iter().map(|e| serde_json::to_string(e).unwrap()).collect();
    let mut replayed = State::replay(lines.iter().map(|l| serde_json::from_str::<Event>(l).unwrap()));
    assert!(replayed.assume_role_with_web_identity(&web("repo:org/app:ref:refs/heads/main"), arn, "gha", None).is_ok());
    replayed.update_trust_policy(account(), "ci", TRUST_LEARNER).unwrap();
    assert!(
        replayed.assume_role_with_web_identity(&web("repo:org/app:ref:refs/heads/main"), arn, "gha", None).is_err()
    );
    replayed.delete_role(account(), "ci").unwrap();
    assert!(replayed.roles(&account()).is_empty());
}
