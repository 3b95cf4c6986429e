//! Class mode through the whole router (no socket): join, the student routes, the instructor's
//! state and faults, isolation between students, and a class surviving a reopened data dir.

use axum::body::Body;
use axum::http::{HeaderMap, Method, Request, StatusCode, header};
use base64::Engine as _;
use serde_json::{Value, json};
use tower::ServiceExt as _;

use super::{ClassConfig, CourseLesson};
use crate::Lab;
use crate::aws::Signer;
use crate::state::RegistryKey;
use crate::types::{AccountId, Region, RepositoryName, TagMutability};

const LESSON: &str = "00-quick-start";

fn class() -> ClassConfig {
    ClassConfig {
        name: "ECR seminar".into(),
        course: vec![CourseLesson {
            id: LESSON.into(),
            title: "Quick start".into(),
            stages: vec!["Create".into(), "Log in".into(), "Push".into()],
        }],
        stuck_after_minutes: 5,
    }
}

fn class_lab() -> Lab {
    let lab = Lab::ephemeral().unwrap();
    lab.set_class(class());
    lab
}

struct Answer {
    status: StatusCode,
    headers: HeaderMap,
    json: Value,
    text: String,
}

async fn send(lab: &Lab, request: Request<Body>) -> Answer {
    let response = crate::router(lab.clone()).oneshot(request).await.unwrap();
    let status = response.status();
    let headers = response.headers().clone();
    let bytes = axum::body::to_bytes(response.into_body(), usize::MAX).await.unwrap();
    let text = String::from_utf8_lossy(&bytes).into_owned();
    Answer { status, headers, json: serde_json::from_slice(&bytes).unwrap_or(Value::Null), text }
}

async fn call(lab: &Lab, method: Method, path: &str, bearer: Option<&str>, body: Option<Value>) -> Answer {
    let mut request = Request::builder().method(method).uri(path).header(header::HOST, "127.0.0.1:5000");
    if let Some(token) = bearer {
        request = request.header(header::AUTHORIZATION, format!("Bearer {token}"));
    }
    let body = match body {
        Some(body) => {
            request = request.header(header::CONTENT_TYPE, "application/json");
            Body::from(body.to_string())
        }
        None => Body::empty(),
    };
    send(lab, request.body(body).unwrap()).await
}

async fn join(lab: &Lab, name: &str) -> Value {
    let answer = call(lab, Method::POST, "/class/api/join", None, Some(json!({ "name": name }))).await;
    assert_eq!(answer.status, StatusCode::CREATED, "{}", answer.text);
    answer.json
}

async fn progress(lab: &Lab, student: &Value, stage: u32, event: &str) -> Answer {
    let body = json!({ "lesson": LESSON, "stage": stage, "event": event });
    call(lab, Method::POST, "/class/api/me/progress", student["studentSecret"].as_str(), Some(body)).await
}

/// An ECR call signed with `student`'s key.
async fn ecr(lab: &Lab, student: &Value, operation: &str, body: Value) -> Answer {
    let body = body.to_string();
    let mut headers = HeaderMap::new();
    headers.insert(header::HOST, "api.ecr.ap-south-1.amazonaws.com".parse().unwrap());
    headers.insert("x-amz-target", format!("AmazonEC2ContainerRegistry_V20150921.{operation}").parse().unwrap());
    headers.insert(header::CONTENT_TYPE, "application/x-amz-json-1.1".parse().unwrap());
    let signer = Signer {
        access_key_id: student["accessKeyId"].as_str().unwrap(),
        secret_access_key: student["secretAccessKey"].as_str().unwrap(),
        session_token: None,
        region: "ap-south-1",
        service: "ecr",
    };
    signer.sign(&Method::POST, "/", &mut headers, body.as_bytes(), crate::clock::unix_seconds());
    let mut request = Request::builder().method(Method::POST).uri("/");
    *request.headers_mut().unwrap() = headers;
    send(lab, request.body(Body::from(body)).unwrap()).await
}

async fn state(lab: &Lab) -> Value {
    let answer = call(lab, Method::GET, "/class/api/state", Some(&lab.instructor_token()), None).await;
    assert_eq!(answer.status, StatusCode::OK, "{}", answer.text);
    answer.json
}

fn entry<'a>(state: &'a Value, name: &str) -> &'a Value {
    state["students"].as_array().unwrap().iter().find(|s| s["name"] == name).unwrap()
}

fn registry(student: &Value) -> RegistryKey {
    RegistryKey::new(
        AccountId::parse(student["account"].as_str().unwrap()).unwrap(),
        Region::parse("ap-south-1").unwrap(),
    )
}

#[tokio::test]
async fn class_routes_are_404_outside_class_mode() {
    let lab = Lab::ephemeral().unwrap();
    let answer = call(&lab, Method::POST, "/class/api/join", None, Some(json!({ "name": "ana" }))).await;
    assert_eq!(answer.status, StatusCode::NOT_FOUND);
    assert!(answer.text.contains("ecr-lab class serve"), "{}", answer.text);
    // Outside class mode /_lab/ stays open to loopback (no peer here counts as loopback).
    assert_eq!(call(&lab, Method::GET, "/_lab/clock", None, None).await.status, StatusCode::OK);
}

#[tokio::test]
async fn join_resume_taken_names_and_bad_names() {
    let lab = class_lab();
    let ana = join(&lab, "ana").await;
    assert_eq!(ana["className"], "ECR seminar");
    assert_eq!(ana["resumed"], false);
    let account = ana["account"].as_str().unwrap();
    assert_eq!(account.len(), 12);
    assert_ne!(account, crate::state::DEFAULT_ACCOUNT);
    assert_eq!(ana["registry"], format!("{account}.dkr.ecr.ap-south-1.amazonaws.com"));

    let secret = ana["studentSecret"].as_str().unwrap();
    let resumed =
        call(&lab, Method::POST, "/class/api/join", None, Some(json!({"name": "ANA", "secret": secret}))).await;
    assert_eq!(resumed.status, StatusCode::OK);
    assert_eq!(resumed.json["resumed"], true);
    assert_eq!(resumed.json["accessKeyId"], ana["accessKeyId"]);
    assert_eq!(resumed.json["secretAccessKey"], ana["secretAccessKey"]);

    for body in [json!({"name": "ana"}), json!({"name": "ana", "secret": "guess"})] {
        let taken = call(&lab, Method::POST, "/class/api/join", None, Some(body)).await;
        assert_eq!(taken.status, StatusCode::CONFLICT);
        assert!(taken.json["error"].as_str().unwrap().contains("ecr-lab class reset ana"), "{}", taken.text);
    }
    for bad in ["ana lopez", "anä", &"a".repeat(65), ""] {
        let answer = call(&lab, Method::POST, "/class/api/join", None, Some(json!({ "name": bad }))).await;
        assert_eq!(answer.status, StatusCode::BAD_REQUEST, "{bad:?}");
        assert!(answer.json["error"].as_str().unwrap().contains("ana-lopez"), "{}", answer.text);
    }
    let no_json = Request::post("/class/api/join").body(Body::from(r#"{"name":"bo"}"#)).unwrap();
    let answer = send(&lab, no_json).await;
    assert_eq!(answer.status, StatusCode::UNSUPPORTED_MEDIA_TYPE);
    assert!(answer.json["error"].as_str().unwrap().contains("application/json"), "{}", answer.text);
    assert_eq!(join(&lab, "bo").await["account"].as_str().unwrap().len(), 12);
}

#[tokio::test]
async fn a_join_flood_gets_429_with_retry_after_and_breaks_nothing() {
    let lab = class_lab();
    let mut refused = None;
    for n in 0..60 {
        let answer = call(&lab, Method::POST, "/class/api/join", None, Some(json!({ "name": format!("s{n}") }))).await;
        if answer.status == StatusCode::TOO_MANY_REQUESTS {
            refused = Some((n, answer));
            break;
        }
        assert_eq!(answer.status, StatusCode::CREATED);
    }
    let (n, answer) = refused.expect("the flood is refused");
    assert_eq!(n, 40, "a bucket of 40 joins");
    assert!(answer.headers.get(header::RETRY_AFTER).is_some());
    assert!(answer.json["error"].as_str().unwrap().contains("wait"), "{}", answer.text);
    assert_eq!(state(&lab).await["students"].as_array().unwrap().len(), 40);
}

#[tokio::test]
async fn me_and_progress_are_checked() {
    let lab = class_lab();
    let ana = join(&lab, "ana").await;
    let secret = ana["studentSecret"].as_str();
    assert_eq!(call(&lab, Method::GET, "/class/api/me", None, None).await.status, StatusCode::UNAUTHORIZED);
    assert_eq!(call(&lab, Method::GET, "/class/api/me", Some("nope"), None).await.status, StatusCode::UNAUTHORIZED);
    let me = call(&lab, Method::GET, "/class/api/me", secret, None).await;
    assert_eq!(me.status, StatusCode::OK);
    assert_eq!(me.json["account"], ana["account"]);
    assert!(me.json.get("secretAccessKey").is_none() && me.json.get("studentSecret").is_none(), "{}", me.text);
    assert_eq!(me.json["progress"]["status"], "idle");

    let bad = [
        json!({"lesson": "99-nope", "stage": 0, "event": "hint"}),
        json!({"lesson": LESSON, "stage": 3, "event": "hint"}),
        json!({"lesson": LESSON, "stage": 0, "event": "dance"}),
        json!({"lesson": LESSON, "stage": 0, "event": "hint", "detail": "x".repeat(201)}),
    ];
    for body in bad {
        let answer = call(&lab, Method::POST, "/class/api/me/progress", secret, Some(body.clone())).await;
        assert_eq!(answer.status.as_u16() / 100, 4, "{body}: {}", answer.text);
        assert!(answer.json["error"].is_string(), "{}", answer.text);
    }
    assert_eq!(progress(&lab, &ana, 1, "stage-started").await.status, StatusCode::NO_CONTENT);
    assert_eq!(progress(&lab, &ana, 1, "hint").await.status, StatusCode::NO_CONTENT);
    let state = state(&lab).await;
    let entry = entry(&state, "ana");
    assert_eq!((entry["lesson"].as_str(), entry["stage"].as_u64()), (Some(LESSON), Some(1)));
    assert_eq!(entry["stageTitle"], "Log in");
    assert_eq!(entry["hints"], 1);
    assert_eq!(entry["status"], "working");
    // A student's secret is not the instructor's token.
    assert_eq!(call(&lab, Method::GET, "/class/api/state", secret, None).await.status, StatusCode::UNAUTHORIZED);
}

#[tokio::test]
async fn statuses_working_stuck_error_done_and_counts() {
    let lab = class_lab();
    let [ana, bo, cy, dee] =
        [join(&lab, "ana").await, join(&lab, "bo").await, join(&lab, "cy").await, join(&lab, "dee").await];
    for student in [&ana, &bo, &cy, &dee] {
        progress(&lab, student, 0, "stage-started").await;
    }
    let token = lab.instructor_token();
    let advanced = call(&lab, Method::POST, "/_lab/clock/advance", Some(&token), Some(json!({ "by": "10m" }))).await;
    assert_eq!(advanced.status, StatusCode::OK, "{}", advanced.text);
    // ana moved on; bo did not (stuck); cy met an error after her last check; dee finished.
    progress(&lab, &ana, 0, "check-passed").await;
    progress(&lab, &ana, 1, "stage-started").await;
    progress(&lab, &cy, 0, "check-passed").await;
    progress(&lab, &cy, 1, "stage-started").await;
    let missing = ecr(&lab, &cy, "DescribeRepositories", json!({ "repositoryNames": ["test"] })).await;
    assert_eq!(missing.status, StatusCode::BAD_REQUEST, "{}", missing.text);
    progress(&lab, &dee, 0, "check-passed").await;
    progress(&lab, &dee, 2, "lesson-finished").await;

    let state = state(&lab).await;
    let status = |name: &str| entry(&state, name)["status"].as_str().unwrap().to_owned();
    assert_eq!([status("ana"), status("bo"), status("cy"), status("dee")], ["working", "stuck", "error", "done"]);
    let bo_entry = entry(&state, "bo");
    assert!(bo_entry["minutesOnStage"].as_f64().unwrap() >= 10.0, "{bo_entry}");
    let error = &entry(&state, "cy")["lastError"];
    assert_eq!(error["code"], "RepositoryNotFoundException");
    assert!(error["message"].as_str().unwrap().contains(cy["account"].as_str().unwrap()), "{error}");
    assert_eq!(entry(&state, "ana")["stages"][format!("{LESSON}/0")], "done");
    assert_eq!(entry(&state, "dee")["stages"][format!("{LESSON}/2")], "done");
    let first = &state["counts"][format!("{LESSON}/0")];
    assert_eq!((first["done"].as_u64(), first["stuck"].as_u64()), (Some(3), Some(1)), "{first}");

    // The student's own log holds cy's error and nothing of anyone else's.
    let mine = call(&lab, Method::GET, "/class/api/me/requests?since=0", cy["studentSecret"].as_str(), None).await;
    let mine = mine.json.as_array().unwrap().clone();
    assert_eq!(mine.len(), 1);
    assert_eq!(mine[0]["code"], "RepositoryNotFoundException");
    let none = call(&lab, Method::GET, "/class/api/me/requests", ana["studentSecret"].as_str(), None).await;
    assert_eq!(none.json, json!([]));
    let detail = call(&lab, Method::GET, "/class/api/students/cy", Some(&token), None).await;
    assert_eq!(detail.json["requests"].as_array().unwrap().len(), 1, "{}", detail.text);
    assert_eq!(detail.json["events"].as_array().unwrap().len(), 3);
}

async fn create_test(lab: &Lab, student: &Value) {
    let created = ecr(lab, student, "CreateRepository", json!({ "repositoryName": "test" })).await;
    assert_eq!(created.status, StatusCode::OK, "{}", created.text);
}

fn test_repository(lab: &Lab, student: &Value) -> Option<TagMutability> {
    let name = RepositoryName::parse("test").unwrap();
    lab.read(|s| s.repository(&registry(student), &name).ok().map(|r| r.tag_mutability.mode))
}

async fn fault(lab: &Lab, fault: &str, students: Value, action: &str) -> Answer {
    let body = json!({ "fault": fault, "students": students, "repository": "test", "action": action });
    call(lab, Method::POST, "/class/api/faults", Some(&lab.instructor_token()), Some(body)).await
}

#[tokio::test]
async fn faults_for_one_student_for_all_and_clear() {
    let lab = class_lab();
    let (ana, bo) = (join(&lab, "ana").await, join(&lab, "bo").await);
    create_test(&lab, &ana).await;
    create_test(&lab, &bo).await;

    let armed = fault(&lab, "missing-repo", json!(["ana"]), "arm").await;
    assert_eq!(armed.status, StatusCode::OK, "{}", armed.text);
    assert_eq!(armed.json["applied"][0]["student"], "ana");
    assert_eq!(test_repository(&lab, &ana), None);
    assert_eq!(test_repository(&lab, &bo), Some(TagMutability::Mutable), "bo's is untouched");
    assert_eq!(entry(&state(&lab).await, "ana")["faults"], json!(["missing-repo"]));
    assert_eq!(fault(&lab, "missing-repo", json!(["ana"]), "clear").await.status, StatusCode::OK);
    assert_eq!(test_repository(&lab, &ana), Some(TagMutability::Mutable));
    assert_eq!(entry(&state(&lab).await, "ana")["faults"], json!([]));

    assert_eq!(fault(&lab, "immutable-overwrite", json!("all"), "arm").await.status, StatusCode::OK);
    assert_eq!(test_repository(&lab, &ana), Some(TagMutability::Immutable));
    assert_eq!(test_repository(&lab, &bo), Some(TagMutability::Immutable));
    fault(&lab, "immutable-overwrite", json!("all"), "clear").await;
    assert_eq!(test_repository(&lab, &bo), Some(TagMutability::Mutable));

    assert_eq!(fault(&lab, "expired-login", json!(["bo"]), "arm").await.status, StatusCode::OK);
    let offset = |s: &Value| lab.read(|st| st.roster().clock_offset(&registry(s).account));
    assert_eq!((offset(&ana), offset(&bo)), (0, 13 * 3600));
    let clock = call(&lab, Method::GET, "/class/api/me/clock", bo["studentSecret"].as_str(), None).await;
    assert_eq!(clock.json["offsetSeconds"], 13 * 3600);

    let unknown = fault(&lab, "missing-repo", json!(["ana", "zed"]), "arm").await;
    assert_eq!(unknown.status, StatusCode::NOT_FOUND);
    assert!(unknown.json["error"].as_str().unwrap().contains("'zed'"), "{}", unknown.text);
    assert!(test_repository(&lab, &ana).is_some(), "nothing changed for ana");
    let bad = fault(&lab, "meteor", json!("all"), "arm").await;
    assert_eq!(bad.status, StatusCode::BAD_REQUEST);
    let no_token = call(&lab, Method::POST, "/class/api/faults", None, Some(json!({}))).await;
    assert_eq!(no_token.status, StatusCode::UNAUTHORIZED);
}

async fn registry_get(lab: &Lab, host: &str, path: &str, token: &str) -> Answer {
    let basic = base64::engine::general_purpose::STANDARD.encode(format!("AWS:{token}"));
    let request = Request::get(path)
        .header(header::HOST, host)
        .header(header::AUTHORIZATION, format!("Basic {basic}"))
        .body(Body::empty())
        .unwrap();
    send(lab, request).await
}

async fn password(lab: &Lab, student: &Value) -> String {
    let token = ecr(lab, student, "GetAuthorizationToken", json!({})).await;
    let encoded = token.json["authorizationData"][0]["authorizationToken"].as_str().unwrap().to_owned();
    let decoded = base64::engine::general_purpose::STANDARD.decode(encoded).unwrap();
    String::from_utf8(decoded).unwrap().strip_prefix("AWS:").unwrap().to_owned()
}

#[tokio::test]
async fn students_cannot_reach_each_other() {
    let lab = class_lab();
    let (ana, bo) = (join(&lab, "ana").await, join(&lab, "bo").await);
    create_test(&lab, &ana).await;
    let (ana_host, bo_password) = (ana["registry"].as_str().unwrap(), password(&lab, &bo).await);

    let denied = registry_get(&lab, ana_host, "/v2/test/tags/list", &bo_password).await;
    assert_eq!(denied.status, StatusCode::BAD_REQUEST, "bo's token on ana's registry: {}", denied.text);
    // A bare address with bo's token is bo's registry, which has no `test`.
    let bare = registry_get(&lab, "127.0.0.1:5000", "/v2/test/tags/list", &bo_password).await;
    assert_eq!(bare.status, StatusCode::NOT_FOUND, "{}", bare.text);
    assert!(bare.text.contains(bo["account"].as_str().unwrap()), "{}", bare.text);
    let own = registry_get(&lab, "127.0.0.1:5000", "/v2/test/tags/list", &password(&lab, &ana).await).await;
    assert_eq!(own.status, StatusCode::OK, "ana's token on the bare address is ana's registry: {}", own.text);

    let listed = ecr(&lab, &bo, "DescribeRepositories", json!({})).await;
    assert_eq!(listed.json["repositories"], json!([]), "bo sees only bo's");
    let reach = ecr(&lab, &bo, "DescribeRepositories", json!({ "registryId": ana["account"] })).await;
    assert_eq!(reach.json["__type"], "AccessDeniedException", "{}", reach.text);
    assert!(reach.json["message"].as_str().unwrap().starts_with("User: arn:aws:iam::"), "{}", reach.text);
    let token_for_ana = ecr(&lab, &bo, "GetAuthorizationToken", json!({ "registryIds": [ana["account"]] })).await;
    assert_eq!(token_for_ana.json["__type"], "AccessDeniedException");

    // /_lab/ wants the instructor token from everyone; the console wants a sign-in on loopback too.
    assert_eq!(call(&lab, Method::GET, "/_lab/keys", None, None).await.status, StatusCode::FORBIDDEN);
    let student = call(&lab, Method::GET, "/_lab/keys", bo["studentSecret"].as_str(), None).await;
    assert_eq!(student.status, StatusCode::FORBIDDEN);
    let token = lab.instructor_token();
    assert_eq!(call(&lab, Method::GET, "/_lab/keys", Some(&token), None).await.status, StatusCode::OK);
    let console = call(&lab, Method::GET, "/console/repositories", None, None).await;
    assert_eq!(console.status, StatusCode::SEE_OTHER, "{}", console.text);
}

#[tokio::test]
async fn reset_and_remove() {
    let lab = class_lab();
    let ana = join(&lab, "ana").await;
    let token = lab.instructor_token();
    let reset = call(&lab, Method::POST, "/class/api/students/ana/reset", Some(&token), None).await;
    assert_eq!(reset.status, StatusCode::OK, "{}", reset.text);
    assert_ne!(reset.json["accessKeyId"], ana["accessKeyId"]);
    assert_eq!(reset.json["account"], ana["account"]);
    let old = call(&lab, Method::GET, "/class/api/me", ana["studentSecret"].as_str(), None).await;
    assert_eq!(old.status, StatusCode::UNAUTHORIZED, "the old secret is gone");
    let old_key = ecr(&lab, &ana, "DescribeRepositories", json!({})).await;
    assert_eq!(old_key.json["__type"], "UnrecognizedClientException", "{}", old_key.text);
    let removed = call(&lab, Method::DELETE, "/class/api/students/ANA", Some(&token), None).await;
    assert_eq!(removed.status, StatusCode::OK, "{}", removed.text);
    assert_eq!(state(&lab).await["students"], json!([]));
    let gone = call(&lab, Method::POST, "/class/api/students/ana/remove", Some(&token), None).await;
    assert_eq!(gone.status, StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn the_class_survives_reopening_its_data_dir() {
    let dir = tempfile::tempdir().unwrap();
    let (ana, account) = {
        let lab = Lab::open(dir.path()).unwrap();
        lab.set_class(class());
        let ana = join(&lab, "ana").await;
        progress(&lab, &ana, 1, "check-passed").await;
        let advance = json!({ "duration": "2h" });
        let answer =
            call(&lab, Method::POST, "/class/api/me/clock/advance", ana["studentSecret"].as_str(), Some(advance)).await;
        assert_eq!(answer.status, StatusCode::OK, "{}", answer.text);
        (ana.clone(), registry(&ana).account)
    };
    std::thread::sleep(std::time::Duration::from_millis(50));
    let lab = Lab::open(dir.path()).unwrap();
    lab.set_class(class());
    let entry = entry(&state(&lab).await, "ana").clone();
    assert_eq!(entry["account"], ana["account"]);
    assert_eq!(entry["checksPassed"], 1);
    assert_eq!(lab.read(|s| s.roster().clock_offset(&account)), 7200);
    let body = json!({ "name": "ana", "secret": ana["studentSecret"] });
    let resumed = call(&lab, Method::POST, "/class/api/join", None, Some(body)).await;
    assert_eq!(resumed.status, StatusCode::OK);
    assert_eq!(resumed.json["secretAccessKey"], ana["secretAccessKey"]);
}

#[tokio::test]
async fn the_console_acts_as_the_signed_in_student_only() {
    let lab = class_lab();
    let (ana, bo) = (join(&lab, "ana").await, join(&lab, "bo").await);
    create_test(&lab, &ana).await;
    let created = ecr(&lab, &bo, "CreateRepository", json!({ "repositoryName": "bo-only" })).await;
    assert_eq!(created.status, StatusCode::OK);

    let form = format!(
        "accessKeyId={}&secretAccessKey={}",
        ana["accessKeyId"].as_str().unwrap(),
        ana["secretAccessKey"].as_str().unwrap()
    );
    let sign_in = Request::post("/console/sign-in")
        .header(header::HOST, "127.0.0.1:5000")
        .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
        .body(Body::from(form))
        .unwrap();
    let signed = send(&lab, sign_in).await;
    assert_eq!(signed.status, StatusCode::SEE_OTHER, "{}", signed.text);
    let cookies: Vec<String> = signed
        .headers
        .get_all(header::SET_COOKIE)
        .iter()
        .map(|v| v.to_str().unwrap().split(';').next().unwrap().to_owned())
        .collect();
    assert_eq!(cookies.len(), 2, "{cookies:?}");
    let page = Request::get("/console/repositories")
        .header(header::HOST, "127.0.0.1:5000")
        .header(header::COOKIE, cookies.join("; "))
        .body(Body::empty())
        .unwrap();
    let page = send(&lab, page).await;
    assert_eq!(page.status, StatusCode::OK, "{}", page.text);
    assert!(page.text.contains(ana["account"].as_str().unwrap()), "the console shows ana's account");
    assert!(!page.text.contains("bo-only") && !page.text.contains(bo["account"].as_str().unwrap()));
}

#[tokio::test]
async fn the_ca_is_404_without_tls() {
    let lab = class_lab();
    let answer = call(&lab, Method::GET, "/class/ca.pem", None, None).await;
    assert_eq!(answer.status, StatusCode::NOT_FOUND);
    assert!(answer.json["error"].as_str().unwrap().contains("--tls"), "{}", answer.text);
}

#[tokio::test]
async fn the_dashboard_cookie_reads_and_writes_only_with_its_csrf_header() {
    let lab = class_lab();
    join(&lab, "ana").await;
    let cookie = format!("{}={}", super::auth::COOKIE, super::auth::dashboard_cookie_value(&lab));
    let with_cookie = |method: Method, path: &str, csrf: Option<String>, body: Option<Value>| {
        let mut request = Request::builder().method(method).uri(path).header(header::COOKIE, cookie.clone());
        if let Some(csrf) = csrf {
            request = request.header(super::auth::CSRF_HEADER, csrf);
        }
        if body.is_some() {
            request = request.header(header::CONTENT_TYPE, "application/json");
        }
        request.body(body.map_or_else(Body::empty, |b| Body::from(b.to_string()))).unwrap()
    };
    let read = send(&lab, with_cookie(Method::GET, "/class/api/state", None, None)).await;
    assert_eq!(read.status, StatusCode::OK);
    let body = json!({ "fault": "expired-login", "students": ["ana"], "action": "arm" });
    let no_csrf = send(&lab, with_cookie(Method::POST, "/class/api/faults", None, Some(body.clone()))).await;
    assert_eq!(no_csrf.status, StatusCode::UNAUTHORIZED);
    let wrong = send(&lab, with_cookie(Method::POST, "/class/api/faults", Some("x".into()), Some(body.clone()))).await;
    assert_eq!(wrong.status, StatusCode::UNAUTHORIZED);
    let csrf = Some(super::auth::csrf_token(&lab));
    let armed = send(&lab, with_cookie(Method::POST, "/class/api/faults", csrf, Some(body))).await;
    assert_eq!(armed.status, StatusCode::OK, "{}", armed.text);
}
