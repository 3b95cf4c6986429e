//! What authorization costs a JSON API call (for `examples/authorize_cost.rs`, issue 14):
//! `ecr_api::access::check` itself, timed in a loop on an ephemeral lab, for the
//! learner (no IAM user: the fast path), for an IAM user whose policy is evaluated on every call,
//! and for the learner once some repository holds a policy (then every call is evaluated).

use std::time::Instant;

use crate::Lab;
use crate::ecr_api::Operation;
use crate::ecr_api::access::check;
use crate::state::{Caller, NewRepository, RegistryKey};
use crate::types::{AccountId, Region, RepositoryName};

/// The same policy as `tests/it/iam.rs`'s `authorization_cost` and `scripts/bench-api --iam`.
const FULL_WITH_A_DENY: &str = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"ecr:*","Resource":"*"},
  {"Effect":"Deny","Action":"ecr:DeleteRepository","Resource":"arn:aws:ecr:*:*:repository/prod-*"}]}"#;

/// (what, nanoseconds per call), each the median of 5 rounds of `calls` calls of
/// `ecr_api::access::check` for one DescribeImages body.
pub async fn measure(calls: u32) -> Result<Vec<(&'static str, f64)>, String> {
    let account = AccountId::parse(crate::state::DEFAULT_ACCOUNT).map_err(|e| e.0)?;
    let region = Region::parse("ap-south-1").map_err(|e| e.0)?;
    let registry = RegistryKey::new(account.clone(), region.clone());
    let lab = Lab::ephemeral().map_err(|e| e.to_string())?;
    for name in ["test", "prod-web"] {
        let new = NewRepository::with_defaults(RepositoryName::parse(name).map_err(|e| e.0)?);
        lab.write(|s| s.create_repository(&registry, new).map(|_| ())).await.map_err(|e| e.to_string())?;
    }
    let user = lab
        .write(|s| s.create_user(account.clone(), "measured", Some(("all", FULL_WITH_A_DENY))))
        .await
        .map_err(|e| e.to_string())?;
    let caller = |access_key_id: &str| Caller {
        account: account.clone(),
        region: region.clone(),
        access_key_id: access_key_id.to_owned(),
        user_id: String::new(),
        arn: String::new(),
    };
    let (learner, evaluated) = (caller(crate::state::DEFAULT_ACCESS_KEY_ID), caller(&user.access_key_id));
    let body = br#"{"repositoryName":"test","maxResults":100}"#;
    let time = |caller: &Caller| -> Result<f64, String> {
        let mut rounds = Vec::new();
        for _ in 0..5 {
            let start = Instant::now();
            for _ in 0..calls {
                let denial = check(&lab, std::hint::black_box(caller), Operation::DescribeImages, body);
                if std::hint::black_box(denial).is_some() {
                    return Err("the measured call was refused".into());
                }
            }
            rounds.push(start.elapsed().as_nanos() as f64 / f64::from(calls));
        }
        rounds.sort_by(f64::total_cmp);
        Ok(rounds[2])
    };
    let mut figures = vec![("learner, no repository policy anywhere", time(&learner)?)];
    figures.push(("IAM user, policy evaluated", time(&evaluated)?));
    let deny =
        r#"{"Version":"2012-10-17","Statement":[{"Effect":"Deny","Principal":"*","Action":"ecr:DeleteRepository"}]}"#;
    for (name, what) in
        [("prod-web", "learner, a repository policy elsewhere"), ("test", "learner, a policy on this repository")]
    {
        let name = RepositoryName::parse(name).map_err(|e| e.0)?;
        lab.write(|s| s.set_repository_policy(&registry, &name, deny).map(|_| ())).await.map_err(|e| e.to_string())?;
        figures.push((what, time(&learner)?));
    }
    figures.push(("IAM user, a policy on this repository", time(&evaluated)?));
    Ok(figures)
}
