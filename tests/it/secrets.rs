//! Secrets on a shared machine (issue 20 item 6): what the lab writes that holds a secret (the lab
//! shell's aws profile and docker config.json, the mock's journal, transcripts) is 0600 in 0700
//! directories, older looser files are tightened on open, and transcripts and `replay` show a
//! marker where a password or secret key was.

use std::io::Write as _;
use std::os::unix::fs::PermissionsExt as _;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::Duration;

use crate::common::Ran;

const REGISTRY: &str = "920736617090.dkr.ecr.ap-south-1.amazonaws.com";
const LAB_SECRET: &str = mock_registry::defaults::DEFAULT_SECRET_ACCESS_KEY;
/// The start of every registry password the mock (and ECR) issues: base64 of `{"payload`.
const PASSWORD_PREFIX: &str = "eyJwYXlsb2Fk";
/// Passwords typed literally on command lines in the tests below.
const TYPED_PASSWORDS: [&str; 3] = ["typed-stdin-password-1", "typed-flag-password-2", "typed-flag-password-3"];

fn mode(path: &Path) -> u32 {
    std::fs::metadata(path).unwrap_or_else(|e| panic!("{}: {e}", path.display())).permissions().mode() & 0o777
}

fn run_with_stdin(args: &[&str], home: &Path, stdin: &str) -> Ran {
    let mut child = Command::new(env!("CARGO_BIN_EXE_ecr-lab"))
        .args(args)
        .env("ECR_LAB_HOME", home)
        .env("ECR_LAB_DOCKER", "builtin")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("start ecr-lab");
    child.stdin.take().unwrap().write_all(stdin.as_bytes()).unwrap();
    let output = child.wait_with_output().unwrap();
    Ran {
        stdout: String::from_utf8_lossy(&output.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&output.stderr).into_owned(),
        code: output.status.code().unwrap_or(-1),
    }
}

fn login_script() -> String {
    format!(
        "aws configure set aws_secret_access_key {LAB_SECRET}\n\
         aws configure set region ap-south-1\n\
         aws ecr get-login-password --region ap-south-1 | docker login --username AWS --password-stdin {REGISTRY}\n"
    )
}

/// Every file that holds a secret, and its directory, after a lab shell session in `data`.
fn secret_files(data: &Path) -> Vec<(PathBuf, u32)> {
    vec![
        (data.to_path_buf(), 0o700),
        (data.join("aws"), 0o700),
        (data.join("aws/config"), 0o600),
        (data.join("docker"), 0o700),
        (data.join("docker/config.json"), 0o600),
        (data.join("mock"), 0o700),
        (data.join("mock/journal.log"), 0o600),
        (data.join("mock/blobs"), 0o700),
        (data.join("mock/uploads"), 0o700),
    ]
}

fn assert_private(files: &[(PathBuf, u32)]) {
    let wrong: Vec<String> = files
        .iter()
        .filter(|(path, want)| mode(path) != *want)
        .map(|(path, want)| format!("{} is {:o}, want {want:o}", path.display(), mode(path)))
        .collect();
    assert!(wrong.is_empty(), "{wrong:#?}");
}

#[test]
fn a_lab_shell_session_keeps_credentials_and_the_journal_private() {
    let home = tempfile::tempdir().unwrap();
    let data = home.path().join("lab");
    let ran = run_with_stdin(&["shell", "--data-dir", data.to_str().unwrap()], home.path(), &login_script());
    assert_eq!(ran.code, 0, "{}\n{}", ran.stdout, ran.stderr);
    assert!(ran.stdout.contains("Login Succeeded"), "{}", ran.stdout);
    assert_private(&secret_files(&data));
    // The journal holds the token-signing secret and every key's secret.
    assert!(std::fs::read_to_string(data.join("aws/config")).unwrap().contains(LAB_SECRET));
}

#[test]
fn files_an_older_version_left_readable_are_tightened_on_open() {
    let home = tempfile::tempdir().unwrap();
    let data = home.path().join("lab");
    let first = run_with_stdin(&["shell", "--data-dir", data.to_str().unwrap()], home.path(), &login_script());
    assert_eq!(first.code, 0, "{}\n{}", first.stdout, first.stderr);
    // The data directory itself may be one the learner chose: created 0700, but not changed later.
    let files: Vec<(PathBuf, u32)> = secret_files(&data).into_iter().filter(|(path, _)| *path != data).collect();
    for (path, want) in &files {
        let loose = if *want == 0o700 { 0o755 } else { 0o644 };
        std::fs::set_permissions(path, std::fs::Permissions::from_mode(loose)).unwrap();
    }
    let journal = std::fs::read(data.join("mock/journal.log")).unwrap();
    // The shell's exit closed its journal: records only, none of the zeros written ahead of them.
    assert!(!journal.is_empty() && !journal.contains(&0), "{} bytes, zeros left after the records", journal.len());
    let again = run_with_stdin(&["shell", "--data-dir", data.to_str().unwrap()], home.path(), &login_script());
    assert_eq!(again.code, 0, "{}\n{}", again.stdout, again.stderr);
    assert!(again.stdout.contains("Login Succeeded"), "{}", again.stdout);
    assert_private(&files);
    // Tightening changed modes only: the journal kept what it held.
    assert!(std::fs::read(data.join("mock/journal.log")).unwrap().starts_with(&journal));
}

/// What a learner might type that carries a secret, in the authenticate-docker lesson's first stage.
fn leaky_commands() -> String {
    let [stdin_password, flag_password, equals_password] = TYPED_PASSWORDS;
    format!(
        "aws configure set aws_secret_access_key {LAB_SECRET}\n\
         aws configure get aws_secret_access_key\n\
         aws ecr get-login-password --region ap-south-1\n\
         aws ecr get-authorization-token --region ap-south-1\n\
         echo {stdin_password} | docker login --username AWS --password-stdin {REGISTRY}\n\
         docker login --username AWS -p {flag_password} {REGISTRY}\n\
         docker login -u AWS --password={equals_password} {REGISTRY}\n\
         export AWS_SECRET_ACCESS_KEY={LAB_SECRET}\n\
         quit\n"
    )
}

fn assert_no_secret(what: &str, text: &str) {
    assert!(!text.contains(LAB_SECRET), "{what} holds the lab's secret key:\n{text}");
    assert!(!text.contains(PASSWORD_PREFIX), "{what} holds a registry password:\n{text}");
    for typed in TYPED_PASSWORDS {
        assert!(!text.contains(typed), "{what} holds the typed password {typed}:\n{text}");
    }
}

/// Plays the stage with `leaky_commands`; returns the transcript's path.
fn leaky_transcript(home: &Path, data: &Path) -> PathBuf {
    let ran = run_with_stdin(
        &["start", "authenticate-docker", "--data-dir", data.to_str().unwrap()],
        home,
        &leaky_commands(),
    );
    assert_eq!(ran.code, 0, "{}\n{}", ran.stdout, ran.stderr);
    // The learner saw their password; only the record of it is redacted.
    assert!(ran.stdout.contains(PASSWORD_PREFIX), "{}", ran.stdout);
    let transcripts: Vec<PathBuf> =
        std::fs::read_dir(data.join("transcripts")).unwrap().map(|e| e.unwrap().path()).collect();
    assert_eq!(transcripts.len(), 1, "{transcripts:?}");
    transcripts[0].clone()
}

#[test]
fn transcripts_are_private_and_hold_no_secret() {
    let home = tempfile::tempdir().unwrap();
    let data = home.path().join("lab");
    let transcript = leaky_transcript(home.path(), &data);
    assert_private(&[(data.join("transcripts"), 0o700), (transcript.clone(), 0o600)]);
    let text = std::fs::read_to_string(&transcript).unwrap();
    assert_no_secret("the transcript", &text);
    // Each command is still there, and says what was taken out.
    for kept in [
        "aws configure set aws_secret_access_key <redacted: secret access key>",
        "aws ecr get-login-password --region ap-south-1",
        "<redacted: registry password>",
        "<redacted: registry authorization token>",
        "echo <redacted: registry password> | docker login --username AWS --password-stdin",
        "docker login --username AWS -p <redacted: registry password>",
        "docker login -u AWS --password=<redacted: registry password>",
        "export AWS_SECRET_ACCESS_KEY=<redacted: secret access key>",
    ] {
        assert!(text.contains(kept), "the transcript lacks {kept:?}:\n{text}");
    }

    let replayed = crate::common::bash(&format!("ecr-lab replay {}", transcript.display()), home.path());
    assert_eq!(replayed.code, 0, "{}", replayed.stderr);
    assert_no_secret("replay", &replayed.stdout);
    assert!(
        replayed
            .stdout
            .contains("lab$ aws ecr get-login-password --region ap-south-1\n<redacted: registry password>\n"),
        "{}",
        replayed.stdout
    );
}

/// A transcript an older version wrote, secrets verbatim: `replay` prints the markers instead.
fn old_transcript(dir: &Path) -> PathBuf {
    let password = format!("{PASSWORD_PREFIX}IjoiQUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFBIn0=");
    let lines = [
        serde_json::json!({"at": 1, "stage": "login", "command": "aws ecr get-login-password --region ap-south-1", "output": format!("{password}\n"), "status": 0}),
        serde_json::json!({"at": 2, "stage": "login", "command": format!("aws configure set aws_secret_access_key {LAB_SECRET}"), "output": "", "status": 0}),
        serde_json::json!({"at": 3, "stage": "login", "command": format!("docker login -u AWS -p {} {REGISTRY}", TYPED_PASSWORDS[1]), "output": "Login Succeeded\n", "status": 0}),
    ];
    let path = dir.join("old.jsonl");
    let text: String = lines.iter().map(|l| format!("{l}\n")).collect();
    std::fs::write(&path, text).unwrap();
    path
}

#[test]
fn replay_of_an_older_transcript_shows_markers_in_a_terminal() {
    use expectrl::Expect;
    let home = tempfile::tempdir().unwrap();
    let old = old_transcript(home.path());
    let mut command = Command::new(env!("CARGO_BIN_EXE_ecr-lab"));
    command.arg("replay").arg(&old).env("ECR_LAB_HOME", home.path()).env("TERM", "xterm");
    let mut replay = expectrl::Session::spawn(command).expect("spawn in a pty");
    replay.set_expect_timeout(Some(Duration::from_secs(30)));
    let seen = replay.expect(expectrl::Eof).unwrap();
    let screen = String::from_utf8_lossy(seen.as_bytes()).into_owned();
    assert_no_secret("replay on the terminal", &screen);
    for marker in [
        "lab$ aws ecr get-login-password --region ap-south-1\r\n<redacted: registry password>\r\n",
        "lab$ aws configure set aws_secret_access_key <redacted: secret access key>\r\n",
        "lab$ docker login -u AWS -p <redacted: registry password> 920736617090",
    ] {
        assert!(screen.contains(marker), "{marker:?} not on screen:\n{screen}");
    }
    // Replay only reads: the old file is as it was.
    assert!(std::fs::read_to_string(&old).unwrap().contains(LAB_SECRET));
}

/// `ecr-lab serve` on a fresh data directory: the journal is 0600 and every directory 0700.
#[test]
fn a_served_mock_keeps_its_journal_private() {
    let home = tempfile::tempdir().unwrap();
    let data = home.path().join("served");
    let server = crate::common::Served::start(home.path(), &["--data-dir", data.to_str().unwrap()]);
    let ran = run_with_stdin(
        &["shell", "--endpoint", &server.url, "--data-dir", home.path().join("lab").to_str().unwrap()],
        home.path(),
        "aws ecr create-repository --repository-name test > /dev/null\n",
    );
    assert_eq!(ran.code, 0, "{}\n{}", ran.stdout, ran.stderr);
    drop(server);
    assert_private(&[
        (data.clone(), 0o700),
        (data.join("journal.log"), 0o600),
        (data.join("blobs"), 0o700),
        (data.join("blobs/sha256"), 0o700),
        (data.join("uploads"), 0o700),
    ]);
}
