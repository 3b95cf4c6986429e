//! A class over HTTPS (issue 13 item 6): `ecr-lab class serve --tls` with its class CA, students who
//! `ecr-lab join https://… --ca sha256:…` (a wrong fingerprint refused, nothing stored) and then play
//! lesson 00 through the lab shell over HTTPS, skopeo trusting the CA with `--cert-dir`, and curl
//! without the CA refused.

use std::path::Path;
use std::process::Command;

use crate::class::{ClassServer, LESSON, Student, curl, lesson_done, play_lesson, run};

fn tls_server(data: &Path, instructor: &Path) -> ClassServer {
    let server = ClassServer::start_with(data, instructor, "127.0.0.1:0", &["--tls"]);
    assert!(server.url.starts_with("https://127.0.0.1:"), "{}", server.url);
    let ca = server.ca.clone().expect("class serve --tls printed the CA's fingerprint");
    assert!(ca.starts_with("sha256:") && ca.len() == 71, "{ca}");
    server
}

fn host_of(server: &ClassServer) -> String {
    server.url.trim_start_matches("https://").to_owned()
}

#[test]
fn a_wrong_or_missing_ca_fingerprint_is_refused_and_nothing_is_stored() {
    let (data, instructor) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
    let server = tls_server(data.path(), instructor.path());
    let right = server.ca.clone().unwrap();
    let home = tempfile::tempdir().unwrap();
    let wrong = format!("sha256:{}", "0".repeat(64));
    let ran = run(home.path(), &["join", &server.url, "--name", "mallory-check", "--ca", &wrong], None);
    assert_ne!(ran.code, 0, "{}", ran.stdout);
    assert!(ran.stderr.contains("fingerprint") && ran.stderr.contains(&right), "{}", ran.stderr);
    assert!(ran.stderr.contains("Nothing was joined or stored"), "{}", ran.stderr);
    assert!(!home.path().join("class.json").exists() && !home.path().join("class-ca.pem").exists());

    // No --ca and no terminal to ask on: refused, showing the fingerprint to check.
    let ran = run(home.path(), &["join", &server.url, "--name", "mallory-check"], None);
    assert_ne!(ran.code, 0, "{}", ran.stdout);
    assert!(ran.stderr.contains(&format!("--ca {right}")), "{}", ran.stderr);
    assert!(!home.path().join("class.json").exists());
    let (status, roster) = server_roster(&server);
    assert_eq!(status, 200, "{roster}");
    assert!(!roster.contains("mallory-check"), "a refused join reached the server: {roster}");

    // --ca over plain HTTP is a mistake, said so.
    let ran = run(home.path(), &["join", "http://127.0.0.1:9", "--name", "x", "--ca", &right], None);
    assert!(ran.code != 0 && ran.stderr.contains("plain HTTP"), "{}", ran.stderr);
}

fn server_roster(server: &ClassServer) -> (u16, String) {
    let ran = server.ecr_lab(&["class", "students"]);
    (if ran.code == 0 { 200 } else { 500 }, format!("{}{}", ran.stdout, ran.stderr))
}

#[test]
fn students_join_with_the_ca_and_play_lesson_00_over_https() {
    let (data, instructor) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
    let server = tls_server(data.path(), instructor.path());
    let host = host_of(&server);

    // curl without the CA: a certificate error (exit 60), not an answer.
    let output = Command::new("curl").args(["-sS", "--max-time", "20"]).arg(format!("{}/v2/", server.url)).output();
    let output = output.expect("run curl");
    assert_eq!(output.status.code(), Some(60), "{}", String::from_utf8_lossy(&output.stderr));
    assert!(String::from_utf8_lossy(&output.stderr).contains("certificate"));

    let ana = Student::join(&server, "ana-tls");
    let stored = std::fs::read_to_string(ana.home.path().join("class-ca.pem")).unwrap();
    assert_eq!(stored, std::fs::read_to_string(data.path().join("class-ca.pem")).unwrap());
    // curl with the stored CA is let in (the registry's 401 challenge).
    let ca = ana.home.path().join("class-ca.pem");
    let (status, _) = curl(&format!("{}/v2/", server.url), "GET", None, None, &["--cacert", &ca.to_string_lossy()]);
    assert_eq!(status, 401);
    // What a real engine needs was printed.
    let joined = run(ana.home.path(), &["join", &server.url, "--name", "ana-tls"], None);
    assert_eq!(joined.code, 0, "resuming needs no --ca again: {}", joined.stderr);
    assert!(
        joined.stdout.contains(&format!("sudo mkdir -p /etc/docker/certs.d/{host} && sudo cp ")),
        "{}",
        joined.stdout
    );
    assert!(joined.stdout.contains(&format!("/etc/docker/certs.d/{host}/ca.crt")), "{}", joined.stdout);
    assert!(joined.stdout.contains("--cert-dir") && joined.stdout.contains("/etc/containers/certs.d/"));
    let env = ana.ecr_lab(&["env"], None);
    assert!(env.stdout.contains(&format!("export AWS_CA_BUNDLE={}", ca.display())), "{}", env.stdout);

    // Lesson 00 verbatim through the lab shell (built-in aws and docker) over HTTPS.
    let played = play_lesson(&ana);
    assert_eq!(played.code, 0, "{}{}", played.stdout, played.stderr);
    lesson_done(&server.state(), "ana-tls");
    let images = ana.lab_aws("ecr describe-images --repository-name test");
    assert_eq!(images["imageDetails"][0]["imageTags"][0], "v1", "{images}");
    assert!(server.ecr_lab(&["class", "students"]).stdout.contains(LESSON));

    skopeo_with_the_ca(&server, &ana);
}

/// skopeo trusts the class CA with `--cert-dir` (pushes and inspects); without it, refused.
fn skopeo_with_the_ca(server: &ClassServer, student: &Student) {
    if !crate::common::require_tool("skopeo", || Command::new("skopeo").arg("--version").output().is_ok()) {
        return;
    }
    let host = host_of(server);
    let certs = tempfile::tempdir().unwrap();
    std::fs::copy(student.home.path().join("class-ca.pem"), certs.path().join("ca.crt")).unwrap();
    let creds = format!("AWS:{}", student.registry_password());
    let skopeo = |args: &[&str]| Command::new("skopeo").args(args).output().expect("run skopeo");
    let dir = certs.path().to_str().unwrap();
    let (v1, v2) = (format!("docker://{host}/test:v1"), format!("docker://{host}/test:v2"));
    let copied = skopeo(&[
        "copy",
        "--src-cert-dir",
        dir,
        "--dest-cert-dir",
        dir,
        "--src-creds",
        &creds,
        "--dest-creds",
        &creds,
        &v1,
        &v2,
    ]);
    assert!(copied.status.success(), "{}", String::from_utf8_lossy(&copied.stderr));
    let inspected = skopeo(&["inspect", "--cert-dir", dir, "--creds", &creds, &v2]);
    assert!(inspected.status.success(), "{}", String::from_utf8_lossy(&inspected.stderr));
    let json: serde_json::Value = serde_json::from_slice(&inspected.stdout).unwrap();
    assert!(json["RepoTags"].as_array().unwrap().iter().any(|t| t == "v2"), "{json}");
    let images = student.lab_aws("ecr describe-images --repository-name test --image-ids imageTag=v2");
    assert_eq!(images["imageDetails"][0]["imageDigest"], json["Digest"], "{images}");

    let refused = skopeo(&["inspect", "--creds", &creds, &v1]);
    assert!(!refused.status.success());
    let stderr = String::from_utf8_lossy(&refused.stderr);
    assert!(stderr.contains("certificate signed by unknown authority"), "{stderr}");
}

/// `join https://…` without `--ca` in a terminal: the fingerprint is shown and the student asked;
/// "no" joins nothing, "yes" joins and stores the CA.
#[test]
fn without_ca_a_terminal_shows_the_fingerprint_and_asks() {
    use expectrl::Expect;
    let (data, instructor) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
    let server = tls_server(data.path(), instructor.path());
    let fingerprint = server.ca.clone().unwrap();
    let home = tempfile::tempdir().unwrap();
    let join = || {
        let mut command = Command::new(env!("CARGO_BIN_EXE_ecr-lab"));
        command.args(["join", &server.url, "--name", "bo-tls"]).env("ECR_LAB_HOME", home.path()).env("TERM", "xterm");
        let mut session = expectrl::Session::spawn(command).expect("spawn in a pty");
        session.set_expect_timeout(Some(std::time::Duration::from_secs(30)));
        session.expect(fingerprint.as_str()).expect("the fingerprint is shown");
        session.expect("instructor's screen?").expect("the student is asked");
        session
    };
    let mut no = join();
    no.send("n\r").unwrap();
    no.expect("not joined").unwrap();
    no.expect(expectrl::Eof).unwrap();
    assert!(!home.path().join("class.json").exists() && !home.path().join("class-ca.pem").exists());

    let mut yes = join();
    yes.send("y\r").unwrap();
    yes.expect("you joined").unwrap();
    yes.expect("/etc/docker/certs.d/").unwrap();
    // Then the home menu opens; Esc leaves it.
    yes.expect("a hands-on lab for Amazon ECR").unwrap();
    std::thread::sleep(std::time::Duration::from_millis(300));
    yes.send("\x1b").unwrap();
    yes.expect(expectrl::Eof).unwrap();
    let stored = std::fs::read_to_string(home.path().join("class-ca.pem")).unwrap();
    assert_eq!(stored, std::fs::read_to_string(data.path().join("class-ca.pem")).unwrap());
}
