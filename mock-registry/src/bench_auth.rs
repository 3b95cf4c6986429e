//! What authorization costs a JSON API call (for `examples/authorize_cost.rs`, issue 14): the
//! decisions `ecr_api::access::check` makes, timed in a loop on the state's own methods, for the
//! learner (no IAM user: the fast path), for an IAM user whose policy is evaluated on every call,
//! and for the learner once some repository holds a policy (then every call is evaluated).

use std::time::Instant;

use crate::state::{Encryption, NewRepository, RegistryKey, State, TagMutabilitySetting};
use crate::types::{AccountId, EncryptionType, Region, RepositoryName};

/// The same policy as `tests/it/iam.rs`'s `authorization_cost` and `scripts/bench-api --iam`.
const FULL_WITH_A_DENY: &str = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"ecr:*","Resource":"*"},
  {"Effect":"Deny","Action":"ecr:DeleteRepository","Resource":"arn:aws:ecr:*:*:repository/prod-*"}]}"#;

/// (what, nanoseconds per call), each the median of 5 rounds of `calls` calls.
pub fn measure(calls: u32) -> Result<Vec<(&'static str, f64)>, String> {
    let account = AccountId::parse(crate::state::DEFAULT_ACCOUNT).map_err(|e| e.0)?;
    let registry = RegistryKey::new(account.clone(), Region::parse("ap-south-1").map_err(|e| e.0)?);
    let mut state = State::new(b"bench-auth secret, not for real use".to_vec());
    for name in ["test", "prod-web"] {
        let new = NewRepository {
            name: RepositoryName::parse(name).map_err(|e| e.0)?,
            tag_mutability: TagMutabilitySetting::mutable(),
            scan_on_push: false,
            encryption: Encryption { kind: EncryptionType::Aes256, kms_key: None },
            tags: vec![],
        };
        state.create_repository(&registry, new).map_err(|e| e.to_string())?;
    }
    let user =
        state.create_user(account.clone(), "measured", Some(("all", FULL_WITH_A_DENY))).map_err(|e| e.to_string())?;
    let learner = crate::state::DEFAULT_ACCESS_KEY_ID;
    let body = br#"{"repositoryName":"test","maxResults":100}"#;
    // What access::check does for one DescribeImages call by `key`.
    let check = |state: &State, key: &str| -> bool {
        if !state.restricted(key) && !state.any_repository_policy() {
            return true;
        }
        let value: serde_json::Value = serde_json::from_slice(body).unwrap_or(serde_json::Value::Null);
        let repository = value.get("repositoryName").and_then(|v| v.as_str());
        if !state.evaluated(key, &account) {
            return true;
        }
        state.authorize(key, "ecr:DescribeImages", &registry, repository).is_ok()
    };
    let time = |state: &State, key: &str| -> Result<f64, String> {
        let mut rounds = Vec::new();
        for _ in 0..5 {
            let start = Instant::now();
            for _ in 0..calls {
                if !std::hint::black_box(check(state, std::hint::black_box(key))) {
                    return Err("the measured call was refused".into());
                }
            }
            rounds.push(start.elapsed().as_nanos() as f64 / f64::from(calls));
        }
        rounds.sort_by(f64::total_cmp);
        Ok(rounds[2])
    };
    let mut figures = vec![("learner, no repository policy anywhere", time(&state, learner)?)];
    figures.push(("IAM user, policy evaluated", time(&state, &user.access_key_id)?));
    let deny =
        r#"{"Version":"2012-10-17","Statement":[{"Effect":"Deny","Principal":"*","Action":"ecr:DeleteRepository"}]}"#;
    let prod = RepositoryName::parse("prod-web").map_err(|e| e.0)?;
    state.set_repository_policy(&registry, &prod, deny).map_err(|e| e.to_string())?;
    figures.push(("learner, a repository policy elsewhere", time(&state, learner)?));
    let test = RepositoryName::parse("test").map_err(|e| e.0)?;
    state.set_repository_policy(&registry, &test, deny).map_err(|e| e.to_string())?;
    figures.push(("learner, a policy on this repository", time(&state, learner)?));
    figures.push(("IAM user, a policy on this repository", time(&state, &user.access_key_id)?));
    Ok(figures)
}
