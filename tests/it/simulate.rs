//! `POST /_lab/iam/simulate`, which the lessons' `iam.user` check asks: the mock's own evaluation of a
//! user's policies, action by action, with AWS's denial text; an unknown user is IAM's NoSuchEntity.

use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper::{Method, Request, StatusCode};
use hyper_util::client::legacy::Client;
use hyper_util::rt::TokioExecutor;

use crate::common::InProcess;

const PUSH_ONLY: &str = r#"{"Version":"2012-10-17","Statement":[
  {"Effect":"Allow","Action":"ecr:GetAuthorizationToken","Resource":"*"},
  {"Effect":"Allow","Action":["ecr:InitiateLayerUpload","ecr:PutImage"],"Resource":"arn:aws:ecr:*:*:repository/test"}]}"#;

async fn post(url: &str, path: &str, body: serde_json::Value) -> (StatusCode, serde_json::Value) {
    let client = Client::builder(TokioExecutor::new()).build_http::<Full<Bytes>>();
    let request = Request::builder()
        .method(Method::POST)
        .uri(format!("{url}/_lab/{path}"))
        .header("content-type", "application/json")
        .body(Full::new(Bytes::from(body.to_string())))
        .unwrap();
    let response = client.request(request).await.unwrap();
    let status = response.status();
    let bytes = response.into_body().collect().await.unwrap().to_bytes();
    (status, serde_json::from_slice(&bytes).unwrap_or(serde_json::Value::Null))
}

#[tokio::test]
async fn simulate_answers_each_action_as_the_users_own_calls_would_be() {
    let mock = InProcess::start().await;
    let (status, _) =
        post(&mock.url, "iam/users", serde_json::json!({ "userName": "ci-pusher", "policyDocument": PUSH_ONLY })).await;
    assert_eq!(status, StatusCode::OK);
    let ask = serde_json::json!({
        "userName": "ci-pusher", "repository": "test",
        "actions": ["ecr:PutImage", "ecr:BatchGetImage", "ecr:DeleteRepository"],
    });
    let (status, decisions) = post(&mock.url, "iam/simulate", ask).await;
    assert_eq!(status, StatusCode::OK, "{decisions}");
    assert_eq!(decisions[0], serde_json::json!({ "action": "ecr:PutImage", "allowed": true }));
    assert_eq!(decisions[1]["allowed"], false);
    assert_eq!(
        decisions[1]["message"],
        "User: arn:aws:iam::920736617090:user/ci-pusher is not authorized to perform: ecr:BatchGetImage on resource: \
         arn:aws:ecr:ap-south-1:920736617090:repository/test because no identity-based policy allows the \
         ecr:BatchGetImage action"
    );
    assert_eq!(decisions[2]["allowed"], false);
    // Another repository: the push actions are scoped to `test`.
    let other = serde_json::json!({ "userName": "ci-pusher", "repository": "other", "actions": ["ecr:PutImage"] });
    assert_eq!(post(&mock.url, "iam/simulate", other).await.1[0]["allowed"], false);
    // Registry-wide: the token.
    let token = serde_json::json!({ "userName": "ci-pusher", "actions": ["ecr:GetAuthorizationToken"] });
    assert_eq!(post(&mock.url, "iam/simulate", token).await.1[0]["allowed"], true);
    let nobody = serde_json::json!({ "userName": "nobody", "actions": ["ecr:PutImage"] });
    let (status, body) = post(&mock.url, "iam/simulate", nobody).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    assert_eq!(body["error"], "NoSuchEntity: The user with name nobody cannot be found.");
}
