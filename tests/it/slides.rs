//! The seminar deck: `ecr-lab slides` and `ecr-lab serve` serve it beside the mock, a bad deck file
//! is refused with its lines, and a real headless browser (Debian's chromium through
//! playwright-core) walks every slide, follows deep links, opens the presenter view, watches a live
//! panel pick up a repository created through the API, and prints; no request leaves the machine.

use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Child, Command, Stdio};

use bytes::Bytes;
use http_body_util::{BodyExt, Empty};
use hyper_util::client::legacy::Client;
use hyper_util::rt::TokioExecutor;
use tokio::io::{AsyncBufReadExt, AsyncWriteExt};

use crate::common::{Served, ecr_client, put_sample, sample, start_browser_script};

/// `ecr-lab slides --no-open` on a free port with its own home; killed (by PID) when dropped.
struct Presenting {
    url: String,
    child: Child,
    _home: tempfile::TempDir,
}

impl Presenting {
    fn start() -> Self {
        let home = tempfile::tempdir().unwrap();
        let mut child = Command::new(env!("CARGO_BIN_EXE_ecr-lab"))
            .args(["slides", "--addr", "127.0.0.1:0", "--no-open"])
            .env("ECR_LAB_HOME", home.path())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .expect("start ecr-lab slides");
        let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
        let first = lines.next().unwrap().unwrap();
        let url = first
            .strip_prefix("ecr-lab mock listening on ")
            .unwrap_or_else(|| panic!("unexpected first line: {first:?}"))
            .to_owned();
        let rest: Vec<String> = lines.by_ref().take(6).map(Result::unwrap).collect();
        assert!(
            rest.contains(&format!(
                "slides: {url}/slides/ (presenter view: {url}/slides/presenter, handout: {url}/slides/?print-notes)"
            )),
            "{rest:?}"
        );
        assert_eq!(rest.last().unwrap(), "press Ctrl-C to stop");
        Self { url, child, _home: home }
    }
}

impl Drop for Presenting {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

async fn get(url: &str) -> (u16, String, String) {
    let client = Client::builder(TokioExecutor::new()).build_http::<Empty<Bytes>>();
    let response = client.get(url.parse().unwrap()).await.unwrap();
    let status = response.status().as_u16();
    let kind = response.headers().get("content-type").map(|v| v.to_str().unwrap().to_owned()).unwrap_or_default();
    let body = response.into_body().collect().await.unwrap().to_bytes();
    (status, kind, String::from_utf8(body.to_vec()).unwrap())
}

#[tokio::test]
async fn serve_also_serves_the_slides_and_says_where() {
    let home = tempfile::tempdir().unwrap();
    let served = Served::start(home.path(), &["--ephemeral"]);
    let (status, kind, page) = get(&format!("{}/slides/", served.url)).await;
    assert_eq!((status, kind.as_str()), (200, "text/html; charset=utf-8"));
    assert!(page.contains("<h1>Amazon ECR, step by step</h1>"), "{page}");
    assert!(page.contains(
        "<code>name unknown: The repository with name 'test' does not exist in the registry with id '920736617090'</code>"
    ));
    let (status, kind, _) = get(&format!("{}/slides/assets/slides.js", served.url)).await;
    assert_eq!((status, kind.as_str()), (200, "text/javascript; charset=utf-8"));
    // The deck's polling stays out of the request log that lessons read.
    let (_, _, _) = get(&format!("{}/slides/api/repositories", served.url)).await;
    let (_, _, log) = get(&format!("{}/_lab/requests?since=0", served.url)).await;
    assert!(!log.contains("/slides"), "{log}");
}

#[test]
fn a_deck_with_mistakes_is_refused_with_its_lines() {
    let dir = tempfile::tempdir().unwrap();
    let deck = dir.path().join("mine.md");
    std::fs::write(&deck, "# Mine\n\n{{regoin}}\n---\n\n---\n## Three\n\n{{fault:missing-repo.fix}}\n").unwrap();
    let output = Command::new(env!("CARGO_BIN_EXE_ecr-lab"))
        .args(["slides", "--no-open", "--addr", "127.0.0.1:0", "--deck"])
        .arg(&deck)
        .env("ECR_LAB_HOME", dir.path())
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(1));
    assert!(output.stdout.is_empty(), "nothing is served");
    let stderr = String::from_utf8(output.stderr).unwrap();
    let path = deck.display();
    assert!(stderr.starts_with(&format!("ecr-lab: 3 problem(s) in the deck {path}\n")), "{stderr}");
    assert!(stderr.contains(&format!("\n{path}:3: unknown placeholder `{{{{regoin}}}}` (known: account,")), "{stderr}");
    assert!(stderr.contains(&format!("\n{path}:5: slide 2 has no content\n")), "{stderr}");
    assert!(
        stderr.contains(&format!("\n{path}:9: a fault has no field `fix` (use error, command, summary)")),
        "{stderr}"
    );
}

/// The home menu's "Open the slides" in a pseudo-terminal, with no browser opener on PATH: the deck is
/// served, the address printed instead, and Ctrl-C stops it cleanly.
#[cfg(target_os = "linux")]
#[tokio::test]
async fn the_home_menu_opens_the_slides_and_says_so_without_a_browser() {
    use expectrl::Expect;
    let home = tempfile::tempdir().unwrap();
    let empty_path = tempfile::tempdir().unwrap();
    let mut command = Command::new(env!("CARGO_BIN_EXE_ecr-lab"));
    command.env("ECR_LAB_HOME", home.path()).env("PATH", empty_path.path()).env("TERM", "xterm");
    let mut session = expectrl::Session::spawn(command).expect("spawn in a pty");
    session.set_expect_timeout(Some(std::time::Duration::from_secs(30)));
    session.expect("ecr-lab: a hands-on lab for Amazon ECR").unwrap();
    session.send("Open the slides").unwrap(); // type to filter the menu
    session.send("\r").unwrap();
    let found = session.expect(expectrl::Regex(r"slides: (http://127\.0\.0\.1:[0-9]+)/slides/ ")).unwrap();
    let url = String::from_utf8(found.get(1).unwrap().to_vec()).unwrap();
    session.expect(format!("no xdg-open here: open {url}/slides/ in a browser").as_str()).unwrap();
    let (status, _, page) = get(&format!("{url}/slides/")).await;
    assert_eq!(status, 200);
    assert!(page.contains("<h1>Amazon ECR, step by step</h1>"));
    session.send("\x03").unwrap();
    session.expect("ecr-lab mock stopped").unwrap();
    session.expect(expectrl::Eof).unwrap();
}

fn workspace() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

/// The guide's repository (scan on push, immutable tags) with one image, through the ECR API.
async fn create_through_the_api(url: &str, repository: &str, tag: &str) {
    let ecr = ecr_client(url, "ap-south-1").await;
    ecr.create_repository()
        .repository_name(repository)
        .image_tag_mutability(aws_sdk_ecr::types::ImageTagMutability::Immutable)
        .image_scanning_configuration(
            aws_sdk_ecr::types::ImageScanningConfiguration::builder().scan_on_push(true).build(),
        )
        .send()
        .await
        .unwrap();
    put_sample(&ecr, repository, &sample(1, 2048), tag).await.unwrap();
}

#[tokio::test]
async fn in_a_real_browser() {
    let slides = Presenting::start();
    let artifacts = workspace().join("target/test-artifacts/slides");
    let Some(mut node) = start_browser_script("slides.mjs", &slides.url, &artifacts) else {
        return;
    };
    let mut stdin = node.stdin.take().unwrap();
    let mut lines = tokio::io::BufReader::new(node.stdout.take().unwrap()).lines();
    let mut created = 0;
    let run = async {
        while let Some(line) = lines.next_line().await.unwrap() {
            if let Some((repository, tag)) = line.strip_prefix("CREATE ").and_then(|rest| rest.split_once(' ')) {
                create_through_the_api(&slides.url, repository, tag).await;
                stdin.write_all(b"done\n").await.unwrap();
                stdin.flush().await.unwrap();
                created += 1;
            }
        }
        node.wait().await.unwrap()
    };
    let status = tokio::time::timeout(std::time::Duration::from_secs(300), run).await.expect("the browser test ends");
    assert!(status.success(), "the browser script failed ({status}); its log is above");
    assert_eq!(created, 1, "the script asked for the repository");
    for file in [
        "slide-01.png",
        "presenter.png",
        "presenter-lesson-notes.png",
        "live-repository.png",
        "slides.pdf",
        "handout.pdf",
    ] {
        assert!(artifacts.join(file).exists(), "artifact {file}");
    }
}

#[tokio::test]
async fn the_live_images_panel_writes_sizes_as_the_console_does() {
    let home = tempfile::tempdir().unwrap();
    let served = Served::start(home.path(), &["--ephemeral"]);
    let ecr = ecr_client(&served.url, "ap-south-1").await;
    ecr.create_repository().repository_name("small").send().await.unwrap();
    put_sample(&ecr, "small", &sample(1, 1500), "v1").await.unwrap();
    let (status, _, body) = get(&format!("{}/slides/api/images?repository=small", served.url)).await;
    assert_eq!(status, 200, "{body}");
    let json: serde_json::Value = serde_json::from_str(&body).unwrap();
    let image = &json["imageDetails"][0];
    let bytes = image["imageSizeInBytes"].as_u64().unwrap();
    assert!((1024..1024 * 1024).contains(&bytes), "{body}");
    // A kilobyte-sized image is not "0.00 MB": the console's own `1.46 KiB` form.
    assert_eq!(image["imageSize"].as_str(), Some(format!("{:.2} KiB", bytes as f64 / 1024.0).as_str()), "{body}");
    let (_, _, script) = get(&format!("{}/slides/assets/slides.js", served.url)).await;
    assert!(script.contains("cell(i.imageSize)") && !script.contains("1048576"), "the panel shows the server's text");
}
