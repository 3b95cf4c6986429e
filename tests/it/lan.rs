//! Safe on a classroom LAN: the console refuses cross-site writes and writes without its session
//! token, the control API refuses form posts and callers off loopback, and a Host header that is not
//! this lab's (DNS rebinding) reads nothing. Each refusal is checked to change nothing. Driven
//! through the router without a socket; the peer address is set as a socket would set it.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};

use axum::body::Body;
use axum::extract::ConnectInfo;
use http_body_util::BodyExt;
use hyper::{Method, Request, StatusCode};
use mock_registry::Lab;
use mock_registry::aws::Signer;
use mock_registry::defaults::{DEFAULT_ACCESS_KEY_ID, DEFAULT_SECRET_ACCESS_KEY, default_registry};
use tower::ServiceExt;

const HOST: &str = "127.0.0.1:5000";
const ORIGIN: &str = "http://127.0.0.1:5000";

struct Answer {
    status: StatusCode,
    headers: hyper::HeaderMap,
    text: String,
}

async fn send(lab: &Lab, request: Request<Body>) -> Answer {
    let response = mock_registry::router(lab.clone()).oneshot(request).await.unwrap();
    let status = response.status();
    let headers = response.headers().clone();
    let bytes = response.into_body().collect().await.unwrap().to_bytes();
    Answer { status, headers, text: String::from_utf8_lossy(&bytes).into_owned() }
}

fn from_peer(mut request: Request<Body>, ip: IpAddr) -> Request<Body> {
    request.extensions_mut().insert(ConnectInfo(SocketAddr::new(ip, 40_000)));
    request
}

fn form_post(path: &str, headers: &[(&str, &str)], form: &str) -> Request<Body> {
    let mut builder = Request::builder()
        .method(Method::POST)
        .uri(path)
        .header("host", HOST)
        .header("content-type", "application/x-www-form-urlencoded");
    for (name, value) in headers {
        builder = builder.header(*name, *value);
    }
    builder.body(Body::from(form.to_owned())).unwrap()
}

fn json_post(path: &str, body: &str) -> Request<Body> {
    Request::post(path)
        .header("host", HOST)
        .header("content-type", "application/json")
        .body(Body::from(body.to_owned()))
        .unwrap()
}

fn get(path: &str, host: &str) -> Request<Body> {
    Request::get(path).header("host", host).body(Body::empty()).unwrap()
}

/// A signed ECR call, as the aws CLI would send it.
async fn ecr(lab: &Lab, operation: &str, body: serde_json::Value) -> serde_json::Value {
    let body = body.to_string().into_bytes();
    let signer = Signer::lab_default("ap-south-1");
    let headers = mock_registry::aws::signed_headers(
        "127.0.0.1",
        operation,
        &body,
        &signer,
        mock_registry::clock::unix_seconds(),
    );
    let mut request = Request::builder().method(Method::POST).uri("/").body(Body::from(body)).unwrap();
    *request.headers_mut() = headers;
    let answer = send(lab, request).await;
    assert_eq!(answer.status, StatusCode::OK, "{operation}: {}", answer.text);
    serde_json::from_str(&answer.text).unwrap()
}

async fn lab_with(names: &[&str]) -> Lab {
    let lab = Lab::ephemeral().unwrap();
    for name in names {
        ecr(&lab, "CreateRepository", serde_json::json!({ "repositoryName": name })).await;
    }
    lab
}

fn names(lab: &Lab) -> Vec<String> {
    lab.read(|s| s.repositories(&default_registry()).map(|r| r.name.to_string()).collect())
}

fn revoked(lab: &Lab) -> bool {
    lab.read(|s| s.key(DEFAULT_ACCESS_KEY_ID).unwrap().revoked)
}

/// The session cookie and the form token a console page hands out.
async fn session(lab: &Lab, path: &str) -> (String, String) {
    let page = send(lab, get(path, HOST)).await;
    assert_eq!(page.status, StatusCode::OK, "{}", page.text);
    let cookie = page.headers.get("set-cookie").expect("a console page sets the session cookie").to_str().unwrap();
    assert!(cookie.contains("HttpOnly") && cookie.contains("SameSite=Strict"), "{cookie}");
    let cookie = cookie.split(';').next().unwrap().to_owned();
    let marker = "name=\"csrf\" value=\"";
    let start = page.text.find(marker).expect("the form carries its token") + marker.len();
    let token = page.text[start..].split('"').next().unwrap().to_owned();
    (cookie, token)
}

#[tokio::test]
async fn a_cross_site_form_cannot_delete_create_or_edit() {
    let lab = lab_with(&["test"]).await;
    let evil = [("origin", "http://evil.example")];
    let cross = [("sec-fetch-site", "cross-site")];
    for headers in [&evil[..], &cross[..]] {
        let delete = send(&lab, form_post("/console/repositories/test/_/delete", headers, "confirm=delete")).await;
        assert_eq!(delete.status, StatusCode::FORBIDDEN, "{}", delete.text);
        assert!(delete.text.contains("sent from another site"), "{}", delete.text);
        assert!(delete.text.contains("Nothing was changed"), "{}", delete.text);
        let create = send(&lab, form_post("/console/create-repository", headers, "repositoryName=evil")).await;
        assert_eq!(create.status, StatusCode::FORBIDDEN);
        let edit =
            send(&lab, form_post("/console/repositories/test/_/edit", headers, "imageTagMutability=IMMUTABLE")).await;
        assert_eq!(edit.status, StatusCode::FORBIDDEN);
    }
    assert_eq!(names(&lab), ["test"]);
    let described = ecr(&lab, "DescribeRepositories", serde_json::json!({ "repositoryNames": ["test"] })).await;
    assert_eq!(described["repositories"][0]["imageTagMutability"], "MUTABLE");
}

#[tokio::test]
async fn a_browser_form_needs_the_session_token() {
    let lab = lab_with(&["test"]).await;
    let (cookie, token) = session(&lab, "/console/repositories/test/_/delete").await;
    let same = [("origin", ORIGIN), ("sec-fetch-site", "same-origin")];

    let without = send(&lab, form_post("/console/repositories/test/_/delete", &same, "confirm=delete")).await;
    assert_eq!(without.status, StatusCode::FORBIDDEN, "{}", without.text);
    assert!(without.text.contains("session token"), "{}", without.text);
    let headers = [same[0], same[1], ("cookie", cookie.as_str())];
    let wrong = send(&lab, form_post("/console/repositories/test/_/delete", &headers, "confirm=delete&csrf=00")).await;
    assert_eq!(wrong.status, StatusCode::FORBIDDEN);
    let other_cookie = [same[0], same[1], ("cookie", "ecrlab_console=someone-else")];
    let form = format!("confirm=delete&csrf={token}");
    let stolen = send(&lab, form_post("/console/repositories/test/_/delete", &other_cookie, &form)).await;
    assert_eq!(stolen.status, StatusCode::FORBIDDEN);
    assert_eq!(names(&lab), ["test"]);

    let deleted = send(&lab, form_post("/console/repositories/test/_/delete", &headers, &form)).await;
    assert_eq!(deleted.status, StatusCode::SEE_OTHER, "{}", deleted.text);
    assert!(names(&lab).is_empty());
}

#[tokio::test]
async fn control_writes_need_a_json_body() {
    let lab = lab_with(&[]).await;
    let path = format!("/_lab/keys/{DEFAULT_ACCESS_KEY_ID}/revoke");
    let form = send(&lab, form_post(&path, &[], "")).await;
    assert_eq!(form.status, StatusCode::UNSUPPORTED_MEDIA_TYPE, "{}", form.text);
    assert!(form.text.contains("Content-Type: application/json"), "{}", form.text);
    let plain =
        Request::post(&path).header("host", HOST).header("content-type", "text/plain").body(Body::from("{}")).unwrap();
    assert_eq!(send(&lab, plain).await.status, StatusCode::UNSUPPORTED_MEDIA_TYPE);
    let empty = send(&lab, json_post(&path, "")).await;
    assert_eq!(empty.status, StatusCode::BAD_REQUEST, "{}", empty.text);
    assert!(!revoked(&lab));

    assert_eq!(send(&lab, json_post(&path, "{}")).await.status, StatusCode::NO_CONTENT);
    assert!(revoked(&lab));
}

#[tokio::test]
async fn a_revoked_key_can_be_restored() {
    let lab = lab_with(&[]).await;
    let revoke = format!("/_lab/keys/{DEFAULT_ACCESS_KEY_ID}/revoke");
    assert_eq!(send(&lab, json_post(&revoke, "{}")).await.status, StatusCode::NO_CONTENT);
    let restore = format!("/_lab/keys/{DEFAULT_ACCESS_KEY_ID}/restore");
    assert_eq!(send(&lab, form_post(&restore, &[], "")).await.status, StatusCode::UNSUPPORTED_MEDIA_TYPE);
    assert!(revoked(&lab));
    let restored = send(&lab, json_post(&restore, "{}")).await;
    assert_eq!(restored.status, StatusCode::NO_CONTENT, "{}", restored.text);
    assert!(!revoked(&lab));
    let unknown = send(&lab, json_post("/_lab/keys/AKIANOSUCHKEY0000000/restore", "{}")).await;
    assert_eq!(unknown.status, StatusCode::BAD_REQUEST);
}

#[tokio::test]
async fn a_foreign_host_reads_nothing() {
    let lab = lab_with(&["test"]).await;
    for host in ["evil.example", "evil.example:5000", "127.0.0.1.evil.example:5000", "amazonaws.com.evil.example"] {
        let keys = send(&lab, get("/_lab/keys", host)).await;
        assert_eq!(keys.status, StatusCode::MISDIRECTED_REQUEST, "{host}");
        assert!(keys.text.contains(&format!("'{host}'")), "{}", keys.text);
        assert!(keys.text.contains("address it by"), "{}", keys.text);
        assert!(!keys.text.contains(DEFAULT_SECRET_ACCESS_KEY));
        let page = send(&lab, get("/console/repositories", host)).await;
        assert_eq!(page.status, StatusCode::MISDIRECTED_REQUEST);
        let delete = form_post("/console/repositories/test/_/delete", &[], "confirm=delete");
        let mut delete = delete;
        delete.headers_mut().insert("host", host.parse().unwrap());
        assert_eq!(send(&lab, delete).await.status, StatusCode::MISDIRECTED_REQUEST);
    }
    assert_eq!(names(&lab), ["test"]);
    for host in [
        HOST,
        "localhost:5000",
        "localhost",
        "[::1]:5000",
        "192.168.1.10:5000",
        "920736617090.dkr.ecr.ap-south-1.amazonaws.com",
        "111122223333.dkr.ecr.us-east-1.localhost:5000",
        "api.ecr.eu-west-1.amazonaws.com",
    ] {
        assert_eq!(send(&lab, get("/_lab/clock", host)).await.status, StatusCode::OK, "{host}");
    }
}

#[tokio::test]
async fn loopback_on_a_dual_stack_bind_is_loopback() {
    let lab = lab_with(&[]).await;
    let mapped = IpAddr::V6(Ipv4Addr::LOCALHOST.to_ipv6_mapped());
    assert_eq!(send(&lab, from_peer(get("/_lab/clock", HOST), mapped)).await.status, StatusCode::OK);
    let v6 = IpAddr::V6(Ipv6Addr::LOCALHOST);
    assert_eq!(send(&lab, from_peer(get("/_lab/clock", HOST), v6)).await.status, StatusCode::OK);
    let lan = IpAddr::V4(Ipv4Addr::new(192, 168, 1, 23));
    let refused =
        send(&lab, from_peer(json_post(&format!("/_lab/keys/{DEFAULT_ACCESS_KEY_ID}/revoke"), "{}"), lan)).await;
    assert_eq!(refused.status, StatusCode::FORBIDDEN, "{}", refused.text);
    assert!(!revoked(&lab));
    let lan_mapped = IpAddr::V6(Ipv4Addr::new(192, 168, 1, 23).to_ipv6_mapped());
    assert_eq!(send(&lab, from_peer(get("/_lab/keys", HOST), lan_mapped)).await.status, StatusCode::FORBIDDEN);
}

#[tokio::test]
async fn the_clock_cannot_be_wrapped() {
    let lab = lab_with(&[]).await;
    for by in ["9223372036854775807", "106751991167300d", "20000d"] {
        let answer = send(&lab, json_post("/_lab/clock/advance", &format!(r#"{{"by":"{by}"}}"#))).await;
        assert_eq!(answer.status, StatusCode::BAD_REQUEST, "{by}: {}", answer.text);
        assert!(answer.text.contains("at most 3650d"), "{}", answer.text);
    }
    assert_eq!(lab.read(|s| s.clock_offset_seconds()), 0);
    let ten_years = send(&lab, json_post("/_lab/clock/advance", r#"{"by":"3650d"}"#)).await;
    assert_eq!(ten_years.status, StatusCode::OK, "{}", ten_years.text);
}

#[tokio::test]
async fn the_instructor_restores_a_revoked_key_from_the_command_line() {
    let mock = crate::common::InProcess::start().await;
    let home = tempfile::tempdir().unwrap();
    let run = |args: Vec<String>| {
        let home = home.path().to_path_buf();
        async move {
            let args: Vec<&str> = args.iter().map(String::as_str).collect();
            crate::aws_backend::ecr_lab(&home, &args, &[], None).await
        }
    };
    let args = |action: &str| -> Vec<String> {
        let mut args = vec!["keys".to_owned(), action.to_owned()];
        if action != "list" {
            args.push(DEFAULT_ACCESS_KEY_ID.to_owned());
        }
        args.extend(["--endpoint".to_owned(), mock.url.clone()]);
        args
    };
    let revoked_now = run(args("revoke")).await;
    assert_eq!(revoked_now.code, 0, "{}", revoked_now.stderr);
    assert!(revoked(&mock.lab));
    let listed = run(args("list")).await;
    assert!(
        listed.stdout.contains(&format!("{DEFAULT_ACCESS_KEY_ID}  920736617090  arn:aws:iam::920736617090:user/")),
        "{}",
        listed.stdout
    );
    assert!(
        listed.stdout.contains("revoked") && !listed.stdout.contains(DEFAULT_SECRET_ACCESS_KEY),
        "{}",
        listed.stdout
    );
    let restored = run(args("restore")).await;
    assert_eq!(restored.code, 0, "{}", restored.stderr);
    assert!(restored.stdout.contains(&format!("restored {DEFAULT_ACCESS_KEY_ID}")), "{}", restored.stdout);
    assert!(!revoked(&mock.lab));
}

#[tokio::test]
async fn a_page_on_another_site_cannot_delete_in_a_real_browser() {
    let mock = crate::common::InProcess::start().await;
    ecr(&mock.lab, "CreateRepository", serde_json::json!({ "repositoryName": "test" })).await;
    let workspace = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
    let artifacts = workspace.join("target/test-artifacts/csrf");
    let Some(mut node) = crate::common::start_browser_script("csrf.mjs", &mock.url, &artifacts) else {
        return;
    };
    let status =
        tokio::time::timeout(std::time::Duration::from_secs(120), node.wait()).await.expect("the browser test ends");
    assert!(status.unwrap().success(), "the browser script failed; its log is above");
    assert_eq!(names(&mock.lab), ["test"]);
    for shot in ["csrf-refused", "csrf-repository-still-there"] {
        assert!(artifacts.join(format!("{shot}.png")).exists(), "screenshot {shot}");
    }
}

#[tokio::test]
async fn off_loopback_the_control_api_needs_the_instructor_token() {
    let lab = lab_with(&[]).await;
    let lan = IpAddr::V4(Ipv4Addr::new(192, 168, 1, 23));
    let path = format!("/_lab/keys/{DEFAULT_ACCESS_KEY_ID}/revoke");
    let wrong = from_peer(json_post(&path, "{}"), lan);
    let mut wrong = wrong;
    wrong.headers_mut().insert("authorization", "Bearer ecrlab-guess".parse().unwrap());
    let refused = send(&lab, wrong).await;
    assert_eq!(refused.status, StatusCode::FORBIDDEN);
    assert!(refused.text.contains("instructor token"), "{}", refused.text);
    let keys = send(&lab, from_peer(get("/_lab/keys", HOST), lan)).await;
    assert_eq!(keys.status, StatusCode::FORBIDDEN);
    assert!(!keys.text.contains(DEFAULT_SECRET_ACCESS_KEY));
    assert!(!revoked(&lab));

    let token = lab.instructor_token();
    assert!(token.starts_with("ecrlab-") && token.len() > 30, "{token}");
    let mut allowed = from_peer(json_post(&path, "{}"), lan);
    allowed.headers_mut().insert("authorization", format!("Bearer {token}").parse().unwrap());
    assert_eq!(send(&lab, allowed).await.status, StatusCode::NO_CONTENT);
    assert!(revoked(&lab));
}

#[tokio::test]
async fn off_loopback_the_console_needs_a_sign_in_and_acts_as_that_key() {
    let lab = lab_with(&["test"]).await;
    let lan = IpAddr::V4(Ipv4Addr::new(192, 168, 1, 23));
    let page = send(&lab, from_peer(get("/console/repositories", HOST), lan)).await;
    assert_eq!(page.status, StatusCode::SEE_OTHER);
    assert_eq!(page.headers["location"], "/console/sign-in");
    assert!(!page.text.contains("test"));
    let delete =
        send(&lab, from_peer(form_post("/console/repositories/test/_/delete", &[], "confirm=delete"), lan)).await;
    assert_eq!(delete.status, StatusCode::FORBIDDEN, "{}", delete.text);
    assert_eq!(names(&lab), ["test"]);

    // A student's own key, in another account.
    let added = send(&lab, json_post("/_lab/keys", r#"{"accountId":"111122223333","userName":"student-1"}"#)).await;
    let key: serde_json::Value = serde_json::from_str(&added.text).unwrap();
    let (id, secret) = (key["accessKeyId"].as_str().unwrap(), key["secretAccessKey"].as_str().unwrap());
    let sign_in = send(&lab, from_peer(get("/console/sign-in", HOST), lan)).await;
    let cookie = sign_in.headers["set-cookie"].to_str().unwrap().split(';').next().unwrap().to_owned();
    let marker = "name=\"csrf\" value=\"";
    let start = sign_in.text.find(marker).unwrap() + marker.len();
    let token = sign_in.text[start..].split('"').next().unwrap().to_owned();
    let headers = [("origin", ORIGIN), ("cookie", cookie.as_str())];

    let wrong = format!("csrf={token}&accessKeyId={id}&secretAccessKey=not-it");
    let refused = send(&lab, from_peer(form_post("/console/sign-in", &headers, &wrong), lan)).await;
    assert_eq!(refused.status, StatusCode::UNAUTHORIZED);
    assert!(refused.text.contains("do not match a key of this lab"), "{}", refused.text);
    assert!(refused.headers.get("set-cookie").is_none());

    let form =
        format!("csrf={token}&accessKeyId={id}&secretAccessKey={}", secret.replace('+', "%2B").replace('/', "%2F"));
    let signed = send(&lab, from_peer(form_post("/console/sign-in", &headers, &form), lan)).await;
    assert_eq!(signed.status, StatusCode::SEE_OTHER, "{}", signed.text);
    let sign_in_cookie = signed.headers["set-cookie"].to_str().unwrap();
    assert!(sign_in_cookie.contains("HttpOnly") && sign_in_cookie.contains("SameSite=Strict"));
    let both = format!("{cookie}; {}", sign_in_cookie.split(';').next().unwrap());
    let mut list = get("/console/repositories", HOST);
    list.headers_mut().insert("cookie", both.parse().unwrap());
    let list = send(&lab, from_peer(list, lan)).await;
    assert_eq!(list.status, StatusCode::OK);
    assert!(list.text.contains("student-1") && list.text.contains("1111-2222-3333"), "the console acts as the student");
    assert!(
        !list.text.contains("/console/repositories/test?"),
        "the default account's repository is not the student's"
    );
}
