//! `iam.user`: what an IAM user may and may not do, as the mock evaluates its policies
//! (`/_lab/iam/simulate`, the same evaluation that answers the user's calls).

use super::{CheckOutcome, Context};
use crate::lesson::check::IamUserCheck;

pub async fn user(c: &IamUserCheck, cx: &Context<'_>) -> CheckOutcome {
    let backend = cx.tools.backend();
    let Some(endpoint) = backend.mock_endpoint() else {
        return CheckOutcome::CannotCheck("the lab's IAM users live on the mock; this check runs there only".into());
    };
    let name = cx.fill(&c.name);
    let actions: Vec<&String> = c.can.iter().chain(&c.cannot).collect();
    let body = serde_json::json!({
        "userName": name,
        "accountId": backend.account,
        "region": c.region.as_deref().map(|r| cx.fill(r)).unwrap_or_else(|| backend.region.clone()),
        "repository": c.repo.as_deref().map(|r| cx.fill(r)),
        "actions": actions,
    });
    let decisions = match crate::control_client::iam(endpoint, "POST", "simulate", Some(body)).await {
        Ok(decisions) => decisions,
        Err(error) if error.to_string().contains("NoSuchEntity") => {
            return CheckOutcome::NotYet(format!("there is no IAM user {name}"));
        }
        Err(error) => return CheckOutcome::CannotCheck(format!("asking the mock about {name}: {error:#}")),
    };
    let allowed = |action: &str| {
        decisions.as_array().into_iter().flatten().any(|d| d["action"] == action && d["allowed"] == true)
    };
    let missing: Vec<&str> = c.can.iter().map(String::as_str).filter(|a| !allowed(a)).collect();
    let extra: Vec<&str> = c.cannot.iter().map(String::as_str).filter(|a| allowed(a)).collect();
    match (missing.is_empty(), extra.is_empty()) {
        (true, true) => CheckOutcome::Pass,
        (false, _) => CheckOutcome::NotYet(format!("{name} is still refused {}", missing.join(", "))),
        (true, false) => CheckOutcome::NotYet(format!("{name} may also {}: more than the job needs", extra.join(", "))),
    }
}
