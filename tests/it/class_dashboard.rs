//! The instructor's class dashboard at `/class/`: the sign-in page and its cookie (driven through
//! the router, no socket), and a real headless browser (Debian's chromium through playwright-core)
//! watching students join, finish a stage, get stuck and meet a fault armed from the page.

use axum::body::Body;
use http_body_util::BodyExt;
use hyper::{Method, Request, StatusCode};
use mock_registry::{ClassConfig, CourseLesson, Lab};
use tower::ServiceExt;

const HOST: &str = "127.0.0.1:5000";
const ORIGIN: &str = "http://127.0.0.1:5000";

struct Answer {
    status: StatusCode,
    headers: hyper::HeaderMap,
    text: String,
}

impl Answer {
    fn header(&self, name: &str) -> String {
        self.headers.get_all(name).iter().map(|v| v.to_str().unwrap().to_owned()).collect::<Vec<_>>().join("\n")
    }
}

/// The course the tests' class runs: two lessons, three and two stages.
pub(crate) fn course() -> Vec<CourseLesson> {
    vec![
        CourseLesson {
            id: "00-quick-start".into(),
            title: "Quick start".into(),
            stages: vec!["Create a repository".into(), "Log in".into(), "Push the image".into()],
        },
        CourseLesson {
            id: "01-tags".into(),
            title: "Tags".into(),
            stages: vec!["Immutable tags".into(), "Overwrite a tag".into()],
        },
    ]
}

fn class_lab(name: &str) -> Lab {
    let lab = Lab::ephemeral().unwrap();
    lab.set_class(ClassConfig { name: name.into(), course: course(), stuck_after_minutes: 5 });
    lab
}

async fn send(lab: &Lab, request: Request<Body>) -> Answer {
    let response = mock_registry::router(lab.clone()).oneshot(request).await.unwrap();
    let status = response.status();
    let headers = response.headers().clone();
    let bytes = response.into_body().collect().await.unwrap().to_bytes();
    Answer { status, headers, text: String::from_utf8_lossy(&bytes).into_owned() }
}

fn get(path: &str, cookie: Option<&str>) -> Request<Body> {
    let mut builder = Request::get(path).header("host", HOST);
    if let Some(cookie) = cookie {
        builder = builder.header("cookie", cookie);
    }
    builder.body(Body::empty()).unwrap()
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

/// Signs in as a browser on the page would (same origin) and returns the `name=value` cookie.
async fn sign_in(lab: &Lab) -> String {
    let form = format!("token={}", lab.instructor_token());
    let answer =
        send(lab, form_post("/class/login", &[("origin", ORIGIN), ("sec-fetch-site", "same-origin")], &form)).await;
    assert_eq!(answer.status, StatusCode::SEE_OTHER, "{}", answer.text);
    answer.header("set-cookie").split(';').next().unwrap().to_owned()
}

#[tokio::test]
async fn outside_class_mode_there_is_no_dashboard() {
    let lab = Lab::ephemeral().unwrap();
    assert_eq!(send(&lab, get("/class/", None)).await.status, StatusCode::NOT_FOUND);
    let form = format!("token={}", lab.instructor_token());
    assert_eq!(send(&lab, form_post("/class/login", &[], &form)).await.status, StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn the_sign_in_page_posts_the_token_in_a_form() {
    let lab = class_lab("ECR seminar");
    let page = send(&lab, get("/class/", None)).await;
    assert_eq!(page.status, StatusCode::OK);
    assert_eq!(page.header("content-type"), "text/html; charset=utf-8");
    assert!(page.header("content-security-policy").contains("script-src 'self'"));
    assert!(page.text.contains(r#"<form method="post" action="/class/login">"#), "{}", page.text);
    assert!(page.text.contains(r#"name="token" type="password""#), "{}", page.text);
    assert!(page.header("set-cookie").is_empty(), "no cookie before signing in");
    assert!(!page.text.contains(&lab.instructor_token()));
    assert!(!page.text.contains("csrf-token"), "the signed-out page carries no CSRF token");
    // `/class` leads to the page; a GET of the form's address does not sign anyone in.
    assert_eq!(send(&lab, get("/class", None)).await.header("location"), "/class/");
    let url_token = format!("/class/login?token={}", lab.instructor_token());
    let answer = send(&lab, get(&url_token, None)).await;
    assert_eq!((answer.status, answer.header("location")), (StatusCode::SEE_OTHER, "/class/".into()));
    assert!(answer.header("set-cookie").is_empty(), "a token in a URL signs nobody in");
}

#[tokio::test]
async fn a_wrong_token_is_refused_with_what_to_do() {
    let lab = class_lab("ECR seminar");
    for form in ["token=ecrlab-not-the-token", "token=", ""] {
        let answer = send(&lab, form_post("/class/login", &[("origin", ORIGIN)], form)).await;
        assert_eq!(answer.status, StatusCode::UNAUTHORIZED, "{form}");
        assert!(answer.header("set-cookie").is_empty(), "{form}");
        assert!(answer.text.contains("ecr-lab class serve"), "{form}: {}", answer.text);
        assert!(answer.text.contains(r#"action="/class/login""#), "{form}: the form again");
    }
    let wrong = send(&lab, form_post("/class/login", &[], "token=ecrlab-not-the-token")).await;
    assert!(wrong.text.contains("not this class's instructor token"), "{}", wrong.text);
    // Another lab's token is not this one's.
    let other = Lab::ephemeral().unwrap();
    let form = format!("token={}", other.instructor_token());
    assert_eq!(send(&lab, form_post("/class/login", &[], &form)).await.status, StatusCode::UNAUTHORIZED);
    // A forged cookie shows the sign-in page, not the dashboard.
    let forged = send(&lab, get("/class/", Some("ecrlab_class=00ff"))).await;
    assert!(forged.text.contains(r#"action="/class/login""#) && !forged.text.contains("csrf-token"));
}

#[tokio::test]
async fn the_right_token_sets_a_strict_cookie_and_shows_the_dashboard() {
    let lab = class_lab("ECR <seminar> & co");
    let token = lab.instructor_token();
    let form = format!("token=%20{}%0A", token); // pasted with a space and a newline
    let answer =
        send(&lab, form_post("/class/login", &[("origin", ORIGIN), ("sec-fetch-site", "same-origin")], &form)).await;
    assert_eq!(answer.status, StatusCode::SEE_OTHER, "{}", answer.text);
    assert_eq!(answer.header("location"), "/class/", "the token is in no URL");
    let set = answer.header("set-cookie");
    let parts: Vec<&str> = set.split(';').map(str::trim).collect();
    assert!(parts[0].starts_with("ecrlab_class=") && parts[0].len() > "ecrlab_class=".len() + 20, "{set}");
    for flag in ["HttpOnly", "SameSite=Strict", "Path=/class"] {
        assert!(parts.contains(&flag), "{flag} in {set}");
    }
    assert!(!set.contains(&token), "the cookie is not the token itself");
    assert!(!parts.contains(&"Secure"), "over plain HTTP the cookie cannot be Secure: {set}");
    let https = [("origin", "https://127.0.0.1:5000"), ("sec-fetch-site", "same-origin")];
    let over_tls = send(&lab, form_post("/class/login", &https, &form)).await.header("set-cookie");
    assert!(over_tls.split(';').map(str::trim).any(|p| p == "Secure"), "a sign-in over HTTPS: {over_tls}");
    let cookie = parts[0];

    let page = send(&lab, get("/class/", Some(cookie))).await;
    assert_eq!(page.status, StatusCode::OK);
    assert!(page.text.contains("ECR &lt;seminar&gt; &amp; co"), "the class name is escaped");
    assert!(!page.text.contains("<seminar>"));
    assert!(!page.text.contains(&token), "the page never shows the token");
    let marker = r#"<meta name="csrf-token" content=""#;
    let start = page.text.find(marker).expect("the page embeds its CSRF token") + marker.len();
    let csrf = &page.text[start..start + page.text[start..].find('"').unwrap()];
    assert!(csrf.len() >= 32 && !cookie.contains(csrf), "{csrf}");
    assert!(page.text.contains(r#"<script src="/class/assets/dashboard.js" defer>"#));
    assert!(page.text.contains(r#"href="/class/assets/dashboard.css""#));
    assert!(page.header("cache-control").contains("no-store"));
    // Signing in again gives the same cookie: derived from the lab's secret, it survives a restart.
    assert_eq!(sign_in(&lab).await, cookie);
}

#[tokio::test]
async fn a_sign_in_from_another_site_is_refused() {
    let lab = class_lab("ECR seminar");
    let form = format!("token={}", lab.instructor_token());
    for headers in [
        &[("origin", "http://evil.example")][..],
        &[("origin", "null")][..],
        &[("sec-fetch-site", "cross-site")][..],
        &[("origin", ORIGIN), ("sec-fetch-site", "same-site")][..],
    ] {
        let answer = send(&lab, form_post("/class/login", headers, &form)).await;
        assert_eq!(answer.status, StatusCode::FORBIDDEN, "{headers:?}");
        assert!(answer.header("set-cookie").is_empty(), "{headers:?}");
        assert!(answer.text.contains("sent from another site"), "{headers:?}: {}", answer.text);
    }
    // Signing out from another site is refused too; from the page it clears the cookie.
    let cookie = sign_in(&lab).await;
    let out =
        send(&lab, form_post("/class/logout", &[("origin", "http://evil.example"), ("cookie", &cookie)], "")).await;
    assert_eq!(out.status, StatusCode::FORBIDDEN);
    let out = send(&lab, form_post("/class/logout", &[("origin", ORIGIN), ("cookie", &cookie)], "")).await;
    assert_eq!((out.status, out.header("location")), (StatusCode::SEE_OTHER, "/class/".into()));
    let cleared = out.header("set-cookie");
    assert!(cleared.starts_with("ecrlab_class=;") && cleared.contains("Max-Age=0"), "{cleared}");
}

#[tokio::test]
async fn the_api_wants_the_cookie_and_writes_want_the_csrf_header() {
    let lab = class_lab("ECR seminar");
    let state = send(&lab, get("/class/api/state", None)).await;
    assert_eq!(state.status, StatusCode::UNAUTHORIZED, "{}", state.text);
    let cookie = sign_in(&lab).await;
    let state = send(&lab, get("/class/api/state", Some(&cookie))).await;
    assert_eq!(state.status, StatusCode::OK, "{}", state.text);
    let json: serde_json::Value = serde_json::from_str(&state.text).unwrap();
    assert_eq!(json["className"], "ECR seminar");

    let fault = r#"{"fault":"missing-repo","students":"all","repository":"test","action":"arm"}"#;
    let post = |headers: Vec<(&'static str, String)>| {
        let mut builder =
            Request::post("/class/api/faults").header("host", HOST).header("content-type", "application/json");
        for (name, value) in headers {
            builder = builder.header(name, value);
        }
        builder.body(Body::from(fault)).unwrap()
    };
    let without = send(&lab, post(vec![("cookie", cookie.clone())])).await;
    assert!(
        [StatusCode::UNAUTHORIZED, StatusCode::FORBIDDEN].contains(&without.status),
        "a write without the CSRF header: {} {}",
        without.status,
        without.text
    );
    let page = send(&lab, get("/class/", Some(&cookie))).await;
    let marker = r#"<meta name="csrf-token" content=""#;
    let start = page.text.find(marker).unwrap() + marker.len();
    let csrf = page.text[start..].split('"').next().unwrap().to_owned();
    let with = send(&lab, post(vec![("cookie", cookie), ("x-csrf-token", csrf)])).await;
    assert_eq!(with.status, StatusCode::OK, "{}", with.text);
}

#[tokio::test]
async fn the_assets_are_served_by_the_mock_and_load_nothing_from_outside() {
    let lab = class_lab("ECR seminar");
    for (file, kind) in
        [("dashboard.js", "text/javascript; charset=utf-8"), ("dashboard.css", "text/css; charset=utf-8")]
    {
        let answer = send(&lab, get(&format!("/class/assets/{file}"), None)).await;
        assert_eq!((answer.status, answer.header("content-type")), (StatusCode::OK, kind.to_owned()), "{file}");
        assert!(!answer.text.contains("http://") && !answer.text.contains("https://"), "{file} names no outside URL");
        assert!(!answer.text.contains("@import"), "{file}");
    }
    let script = send(&lab, get("/class/assets/dashboard.js", None)).await.text;
    assert!(!script.contains("innerHTML") && !script.contains("insertAdjacentHTML"), "data goes in as text only");
    assert!(script.contains("X-CSRF-Token") && script.contains("/class/api/state"));
    assert_eq!(send(&lab, get("/class/assets/nothing.js", None)).await.status, StatusCode::NOT_FOUND);
}

/// A student of the browser test's class: what `join` answered.
struct Joined {
    secret: String,
    key: String,
    key_secret: String,
}

/// A JSON call over a real socket: the status and the body.
async fn call(method: Method, url: &str, bearer: Option<&str>, body: Option<serde_json::Value>) -> (u16, String) {
    use hyper_util::client::legacy::Client;
    let client =
        Client::builder(hyper_util::rt::TokioExecutor::new()).build_http::<http_body_util::Full<bytes::Bytes>>();
    let mut builder = Request::builder().method(method).uri(url).header("content-type", "application/json");
    if let Some(bearer) = bearer {
        builder = builder.header("authorization", format!("Bearer {bearer}"));
    }
    let body = body.map(|b| b.to_string()).unwrap_or_default();
    let response =
        client.request(builder.body(http_body_util::Full::new(bytes::Bytes::from(body))).unwrap()).await.unwrap();
    let status = response.status().as_u16();
    let bytes = response.into_body().collect().await.unwrap().to_bytes();
    (status, String::from_utf8_lossy(&bytes).into_owned())
}

/// Does one step the browser script asks for and returns the line to answer.
async fn browser_step(
    url: &str,
    lab: &Lab,
    students: &mut std::collections::HashMap<String, Joined>,
    line: &str,
) -> String {
    let words: Vec<&str> = line.split_whitespace().collect();
    let student = |name: &str| students.get(name).unwrap_or_else(|| panic!("{name} has not joined"));
    match words.as_slice() {
        ["JOIN", name] => {
            let (status, text) =
                call(Method::POST, &format!("{url}/class/api/join"), None, Some(serde_json::json!({ "name": name })))
                    .await;
            assert_eq!(status, 201, "{text}");
            let json: serde_json::Value = serde_json::from_str(&text).unwrap();
            let field = |f: &str| json[f].as_str().unwrap().to_owned();
            let joined = Joined {
                secret: field("studentSecret"),
                key: field("accessKeyId"),
                key_secret: field("secretAccessKey"),
            };
            students.insert((*name).to_owned(), joined);
            "ok".into()
        }
        ["PROGRESS", name, lesson, stage, event] => {
            let body = serde_json::json!({ "lesson": lesson, "stage": stage.parse::<u32>().unwrap(), "event": event });
            let url = format!("{url}/class/api/me/progress");
            let (status, text) = call(Method::POST, &url, Some(&student(name).secret), Some(body)).await;
            assert_eq!(status, 204, "{line}: {text}");
            "ok".into()
        }
        ["ADVANCE", duration] => {
            let body = serde_json::json!({ "by": duration });
            let token = lab.instructor_token();
            let (status, text) =
                call(Method::POST, &format!("{url}/_lab/clock/advance"), Some(&token), Some(body)).await;
            assert_eq!(status, 200, "{text}");
            "ok".into()
        }
        ["REPO", name] => {
            student_ecr(url, student(name)).await.create_repository().repository_name("test").send().await.unwrap();
            "ok".into()
        }
        ["HAS", name] => {
            let ecr = student_ecr(url, student(name)).await;
            let found = ecr.describe_repositories().repository_names("test").send().await.is_ok();
            format!("ok {}", if found { "yes" } else { "no" })
        }
        ["MEET", name] => {
            let ecr = student_ecr(url, student(name)).await;
            let error = ecr.describe_images().repository_name("test").send().await.expect_err("the repository is gone");
            let code = error.into_service_error().meta().code().unwrap_or_default().to_owned();
            assert_eq!(code, "RepositoryNotFoundException");
            format!("ok {code}")
        }
        _ => panic!("the browser script asked for something unknown: {line:?}"),
    }
}

async fn student_ecr(url: &str, joined: &Joined) -> aws_sdk_ecr::Client {
    crate::common::ecr_client_with(url, "ap-south-1", &joined.key, &joined.key_secret, None).await
}

#[tokio::test]
async fn in_a_real_browser() {
    use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
    let lab = class_lab("ECR seminar");
    let running = mock_registry::spawn(lab.clone()).await.unwrap();
    let url = running.url.clone();
    let artifacts = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("target/test-artifacts/class");
    let Some(mut node) = crate::common::start_browser_script("class.mjs", &url, &artifacts) else {
        return;
    };
    let mut stdin = node.stdin.take().unwrap();
    let mut lines = BufReader::new(node.stdout.take().unwrap()).lines();
    let mut running = Some(running);
    let run = async {
        stdin.write_all(format!("TOKEN {}\n", lab.instructor_token()).as_bytes()).await.unwrap();
        let mut students = std::collections::HashMap::new();
        while let Some(line) = lines.next_line().await.unwrap() {
            let answer = if line == "STOP" {
                running.take().expect("one STOP").stop().await.unwrap();
                "ok".to_owned()
            } else {
                browser_step(&url, &lab, &mut students, &line).await
            };
            stdin.write_all(format!("{answer}\n").as_bytes()).await.unwrap();
            stdin.flush().await.unwrap();
        }
        node.wait().await.unwrap()
    };
    let status = tokio::time::timeout(std::time::Duration::from_secs(180), run).await.expect("the browser test ends");
    assert!(status.success(), "the browser script failed ({status}); its log is above");
    assert!(running.is_none(), "the script stopped the server to see the page say so");
    for shot in ["sign-in-refused", "grid-live", "stuck", "fault-met", "large-type", "server-unreachable"] {
        assert!(artifacts.join(format!("{shot}.png")).exists(), "screenshot {shot}");
    }
}
