//! The course as a learner lives it, in a pseudo-terminal: prose and commands in the lesson's order,
//! the console link beside console steps, a way forward from the plausible wrong turns, hints that
//! unlock after real attempts, troubleshooting that makes the learner diagnose.

use std::path::Path;
use std::process::Command;
use std::time::Duration;

use expectrl::Expect;

/// `ecr-lab start LESSON` in a pty, with its own data directory.
fn start(home: &Path, lesson: &str) -> expectrl::session::OsSession {
    let mut command = Command::new(env!("CARGO_BIN_EXE_ecr-lab"));
    command.args(["start", lesson, "--data-dir"]).arg(home.join("lab")).env("ECR_LAB_HOME", home).env("TERM", "xterm");
    let mut session = expectrl::Session::spawn(command).expect("spawn in a pty");
    session.get_process_mut().set_window_size(200, 50).unwrap();
    session.set_expect_timeout(Some(Duration::from_secs(20)));
    session
}

/// Lesson 00 started, its first stage read, and the lab shell open for its commands.
fn lesson_00_shell(home: &Path) -> expectrl::session::OsSession {
    let mut lab = start(home, "push-first-image");
    until(&mut lab, "(Press Enter");
    lab.send_line("").unwrap();
    until(&mut lab, "What next?");
    lab.send("\r").unwrap(); // work in the lab shell
    until(&mut lab, "Type the stage's commands");
    lab
}

/// Everything printed until `text` (inclusive), as plain text.
fn until(lab: &mut expectrl::session::OsSession, text: &str) -> String {
    let found = match lab.expect(text) {
        Ok(found) => found,
        Err(e) => {
            let mut rest = vec![0; 64 * 1024];
            let n = lab.try_read(&mut rest).unwrap_or(0);
            panic!("{text:?} never came ({e}); the screen had:\n{}", strip_ansi(&String::from_utf8_lossy(&rest[..n])))
        }
    };
    let mut bytes = found.before().to_vec();
    found.matches().for_each(|m| bytes.extend_from_slice(m));
    let plain = strip_ansi(&String::from_utf8_lossy(&bytes));
    plain.replace('\r', "")
}

fn strip_ansi(text: &str) -> String {
    let mut out = String::new();
    let mut chars = text.chars().peekable();
    while let Some(c) = chars.next() {
        if c == '\x1b' {
            if chars.peek() == Some(&'[') {
                chars.next();
                for c in chars.by_ref() {
                    if c.is_ascii_alphabetic() {
                        break;
                    }
                }
            }
            continue;
        }
        out.push(c);
    }
    out
}

/// Asserts `parts` appear in `text` in this order.
fn in_order(text: &str, parts: &[&str]) {
    let mut at = 0;
    for part in parts {
        match text[at..].find(part) {
            Some(found) => at += found + part.len(),
            None => panic!("{part:?} is not after the earlier parts (or missing) in:\n{text}"),
        }
    }
}

/// Lesson 03's first stage interleaves prose and commands; lesson 00's push stage has its prose after
/// the command. Both print as the lesson file has them.
#[test]
fn prose_and_commands_print_in_document_order() {
    let home = tempfile::tempdir().unwrap();
    let mut lab = start(home.path(), "create-repository");
    let shown = until(&mut lab, "Done when:");
    in_order(
        &shown,
        &[
            "Try a name with capitals first and read the error:",
            "aws ecr create-repository --repository-name My_App",
            "The message quotes the rule as a regular expression.",
            "aws ecr create-repository --repository-name test/web",
        ],
    );
    lab.send_line("quit").unwrap();
    lab.expect(expectrl::Eof).unwrap();

    // Lesson 00, stages done up to the push: the command comes before "Read the output".
    let progress =
        r#"{"lessons":{"push-first-image":{"identity":true,"create-repository":true,"login":true,"tag":true}}}"#;
    std::fs::write(home.path().join("progress.json"), progress).unwrap();
    let mut lab = start(home.path(), "push-first-image");
    let shown = until(&mut lab, "Done when:");
    in_order(
        &shown,
        &["Stage 5/6", "docker push 920736617090.dkr.ecr.ap-south-1.amazonaws.com/test:v1", "Read the output"],
    );
    lab.send_line("quit").unwrap();
    lab.expect(expectrl::Eof).unwrap();
}

/// A console step names this lesson's own console (its mock's address), and that address answers.
#[test]
fn console_steps_print_the_lessons_console_link() {
    let home = tempfile::tempdir().unwrap();
    let mut lab = start(home.path(), "push-first-image");
    until(&mut lab, "(Press Enter");
    lab.send_line("").unwrap();
    let shown = until(&mut lab, "Done when:");
    let line = shown.lines().find(|l| l.starts_with("In the console (")).unwrap_or_else(|| panic!("{shown}"));
    let url = line.trim_start_matches("In the console (").trim_end_matches("):");
    assert!(url.starts_with("http://127.0.0.1:") && url.ends_with("/console/repositories"), "{line}");
    let (host, path) = url.trim_start_matches("http://").split_once('/').unwrap();
    let mut stream = std::net::TcpStream::connect(host).unwrap();
    use std::io::{Read as _, Write as _};
    write!(stream, "GET /{path} HTTP/1.1\r\nHost: {host}\r\nConnection: close\r\n\r\n").unwrap();
    let mut page = String::new();
    stream.read_to_string(&mut page).unwrap();
    assert!(page.starts_with("HTTP/1.1 200"), "{}", &page[..page.len().min(300)]);
    lab.send_line("quit").unwrap(); // typed into the stage's menu: filters to Quit
    lab.expect(expectrl::Eof).unwrap();
}

/// Lesson 00: the repository created without `--image-tag-mutability IMMUTABLE` is no dead end. The
/// failing check is shown after the command, creating it again fails, the hint reacts to that, and
/// `put-image-tag-mutability` finishes the stage. No hint before a try.
#[test]
fn a_repository_created_mutable_has_a_way_forward() {
    let home = tempfile::tempdir().unwrap();
    let mut lab = lesson_00_shell(home.path());
    lab.send_line("hint").unwrap();
    until(&mut lab, "The next hint unlocks after another try");
    lab.send_line("aws ecr create-repository --repository-name test --image-scanning-configuration scanOnPush=true")
        .unwrap();
    let shown = until(&mut lab, "there is a hint for what just happened");
    in_order(&shown, &["\"repositoryName\": \"test\"", "Not yet:", "tag mutability of test is MUTABLE, not IMMUTABLE"]);
    lab.send_line("aws ecr create-repository --repository-name test --image-scanning-configuration scanOnPush=true --image-tag-mutability IMMUTABLE").unwrap();
    until(&mut lab, "RepositoryAlreadyExistsException");
    until(&mut lab, "Not yet:");
    lab.send_line("hint").unwrap();
    let hint = until(&mut lab, "--image-tag-mutability IMMUTABLE");
    assert!(hint.contains("aws ecr put-image-tag-mutability --repository-name test"), "{hint}");
    lab.send_line("aws ecr put-image-tag-mutability --repository-name test --image-tag-mutability IMMUTABLE").unwrap();
    until(&mut lab, "Stage complete:");
    until(&mut lab, "With tag immutability on");
    lab.send("\r").unwrap(); // the quiz: the first (wrong) choice
    until(&mut lab, "Not quite.");
    until(&mut lab, "Stage 3/6");
    lab.send_line("quit").unwrap();
    lab.expect(expectrl::Eof).unwrap();
}

/// Tab completes in a lesson's shell as in `ecr-lab shell`: an `aws ecr` operation, the runner's own
/// words (`hint`), and the guide's variables are there (`$REGISTRY`), so no account is typed by hand.
#[test]
fn tab_completes_in_a_lesson_and_the_guides_variables_are_set() {
    let home = tempfile::tempdir().unwrap();
    let mut lab = lesson_00_shell(home.path());
    lab.send("hin\t").unwrap();
    lab.send("\r").unwrap();
    until(&mut lab, "The next hint unlocks after another try");
    lab.send("aws ecr put-image-tag-mu\t").unwrap();
    // Completed as bash completes: the word and a space.
    lab.send_line("--repository-name nope --image-tag-mutability IMMUTABLE").unwrap();
    let refused = until(&mut lab, "does not exist in the registry");
    assert!(refused.contains("when calling the PutImageTagMutability operation"), "{refused}");
    lab.send_line("echo registry=$REGISTRY account=$ACCOUNT").unwrap();
    until(&mut lab, "registry=920736617090.dkr.ecr.ap-south-1.amazonaws.com account=920736617090");
    lab.send_line("quit").unwrap();
    lab.expect(expectrl::Eof).unwrap();
}

/// Issue 17 item 1 in a lesson: troubleshooting's immutable stage, the refused push on a terminal.
/// The final screen, read through a terminal emulator, has the layer lines, then docker's `tag
/// invalid` line below them (not erased by their in-place rewrites), then the status.
#[test]
fn a_refused_push_in_a_lesson_leaves_its_error_below_the_progress() {
    let home = tempfile::tempdir().unwrap();
    std::fs::write(
        home.path().join("progress.json"),
        r#"{"lessons":{"troubleshooting":{"missing-repo":true,"missing-login":true,"untagged-image":true}}}"#,
    )
    .unwrap();
    let mut lab = start(home.path(), "troubleshooting");
    until(&mut lab, "Case 4: version 2");
    until(&mut lab, "What next?");
    lab.send("\r").unwrap(); // work in the lab shell
    until(&mut lab, "Type the stage's commands");
    lab.send_line("docker push 920736617090.dkr.ecr.ap-south-1.amazonaws.com/test:v1; echo \"status\"=$?").unwrap();
    let found = lab.expect("status=1").unwrap_or_else(|e| panic!("the push never ended with status 1: {e}"));
    let mut bytes = found.before().to_vec();
    found.matches().for_each(|m| bytes.extend_from_slice(m));
    let mut terminal = vt100::Parser::new(50, 200, 0);
    terminal.process(&bytes);
    let screen = terminal.screen().contents();
    let rows: Vec<&str> = screen.lines().map(str::trim_end).collect();
    let row_of = |needle: &str| rows.iter().rposition(|r| r.contains(needle));
    let (Some(layer), Some(error), Some(status)) = (
        row_of(": Layer already exists").or(row_of(": Pushed")),
        row_of("tag invalid: The image tag 'v1' already exists in the 'test' repository and cannot be overwritten"),
        row_of("status=1"),
    ) else {
        panic!("the final screen lacks the layers, the error or the status:\n{screen}");
    };
    assert!(layer < error && error < status, "out of order on the final screen:\n{screen}");
    lab.send_line("quit").unwrap();
}

/// Lesson 09's first stage: a neutral title and done-lines (the author's labels, not the checks'
/// jargon), no hint before a try, the failing push answered by which check still fails and a
/// diagnose question (a wrong choice asked again, not corrected), then hints, then the fix.
#[test]
fn troubleshooting_makes_the_learner_diagnose() {
    let home = tempfile::tempdir().unwrap();
    let mut lab = start(home.path(), "troubleshooting");
    let shown = until(&mut lab, "What next?");
    assert!(shown.contains("Case 1: the first push"), "{shown}");
    in_order(&shown, &["Done when:", "○ You met the error and read it", "○ test:v1 is pushed"]);
    for giveaway in ["the mock saw", "does not exist", "answered 404"] {
        assert!(!shown.contains(giveaway), "{giveaway:?} gives the cause away:\n{shown}");
    }
    lab.send("\r").unwrap(); // work in the lab shell
    until(&mut lab, "Type the stage's commands");
    lab.send_line("hint").unwrap();
    until(&mut lab, "The next hint unlocks after another try");
    lab.send_line("docker push 920736617090.dkr.ecr.ap-south-1.amazonaws.com/test:v1").unwrap();
    let met = until(&mut lab, "Before you fix it: what is wrong?");
    in_order(&met, &["name unknown", "Not yet:", "✗ test:v1 is pushed"]);
    until(&mut lab, "What does the push's error say is wrong?");
    lab.send("\r").unwrap(); // the first choice: wrong
    let wrong = until(&mut lab, "Read the error again");
    assert!(!wrong.contains("The answer is"), "{wrong}");
    until(&mut lab, "What does the push's error say is wrong?");
    lab.send("\x1b[B").unwrap();
    lab.send("\r").unwrap();
    until(&mut lab, "Right.");
    lab.send_line("hint").unwrap();
    until(&mut lab, "ECR never creates one on push");
    lab.send_line("aws ecr create-repository --repository-name test").unwrap();
    until(&mut lab, "\"repositoryName\": \"test\"");
    lab.send_line("docker push 920736617090.dkr.ecr.ap-south-1.amazonaws.com/test:v1").unwrap();
    until(&mut lab, "Stage complete:");
    until(&mut lab, "Case 2: another push");
    lab.send_line("quit").unwrap();
    lab.expect(expectrl::Eof).unwrap();
}

/// A change made outside the lab shell (as in the web console) is seen while the learner sits at the
/// prompt: the runner says the checks pass, and Enter completes the stage.
#[test]
fn a_console_change_is_seen_without_typing_check() {
    let home = tempfile::tempdir().unwrap();
    let mut lab = start(home.path(), "push-first-image");
    until(&mut lab, "(Press Enter");
    lab.send_line("").unwrap();
    let shown = until(&mut lab, "What next?");
    let line = shown.lines().find(|l| l.starts_with("In the console (")).unwrap_or_else(|| panic!("{shown}"));
    let endpoint = line.trim_start_matches("In the console (").trim_end_matches("/console/repositories):");
    lab.send("\r").unwrap(); // work in the lab shell
    until(&mut lab, "Type the stage's commands");
    // Another client of the lesson's mock (the console's stand-in) creates the repository.
    let mut other = Command::new(env!("CARGO_BIN_EXE_ecr-lab"))
        .args(["shell", "--endpoint", endpoint, "--data-dir"])
        .arg(home.path().join("other"))
        .env("ECR_LAB_HOME", home.path())
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    use std::io::Write as _;
    other
        .stdin
        .take()
        .unwrap()
        .write_all(b"aws ecr create-repository --repository-name test --image-scanning-configuration scanOnPush=true --image-tag-mutability IMMUTABLE\n")
        .unwrap();
    let created = other.wait_with_output().unwrap();
    assert!(String::from_utf8_lossy(&created.stdout).contains("\"repositoryName\": \"test\""), "{created:?}");
    until(&mut lab, "The stage's checks pass now");
    lab.send_line("").unwrap();
    until(&mut lab, "Stage complete:");
    until(&mut lab, "With tag immutability on");
    lab.send("\r").unwrap();
    until(&mut lab, "Stage 3/6");
    lab.send_line("quit").unwrap();
    lab.expect(expectrl::Eof).unwrap();
}

/// `ecr-lab start LESSON` fed `input` on a pipe (no terminal), in `home`'s lab; what it printed.
fn start_piped(home: &Path, lesson: &str, input: &str) -> String {
    use std::io::Write as _;
    let mut lab = Command::new(env!("CARGO_BIN_EXE_ecr-lab"))
        .args(["start", lesson, "--data-dir"])
        .arg(home.join("lab"))
        .env("ECR_LAB_HOME", home)
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    lab.stdin.take().unwrap().write_all(input.as_bytes()).unwrap();
    let out = lab.wait_with_output().unwrap();
    format!("{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr))
}

/// Lesson 06 after lesson 00 (one lab): `test:v1` is already in the immutable repository, so the push
/// stage's push is refused. The hint reacting to that names the way forward, and it completes the stage.
#[test]
fn a_push_refused_by_an_earlier_lessons_tag_has_a_way_forward() {
    let home = tempfile::tempdir().unwrap();
    let push = "docker push 920736617090.dkr.ecr.ap-south-1.amazonaws.com/test:v1";
    let earlier = format!(
        "aws ecr create-repository --repository-name test --image-scanning-configuration scanOnPush=true --image-tag-mutability IMMUTABLE\naws ecr get-login-password | docker login --username AWS --password-stdin 920736617090.dkr.ecr.ap-south-1.amazonaws.com\ndocker tag sohelqt8797/ec2-neon-pulse:v1 920736617090.dkr.ecr.ap-south-1.amazonaws.com/test:v1\n{push}\n"
    );
    let shell = std::process::Command::new(env!("CARGO_BIN_EXE_ecr-lab"))
        .args(["shell", "--data-dir"])
        .arg(home.path().join("lab"))
        .env("ECR_LAB_HOME", home.path())
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    {
        use std::io::Write as _;
        let mut shell = shell;
        shell.stdin.take().unwrap().write_all(earlier.as_bytes()).unwrap();
        let out = shell.wait_with_output().unwrap();
        assert!(String::from_utf8_lossy(&out.stdout).contains("v1: digest: sha256:"), "{out:?}");
    }
    let shown = start_piped(
        home.path(),
        "push",
        &format!(
            "{push}\nhint\naws ecr batch-delete-image --repository-name test --image-ids imageTag=v1\n{push}\nquit\n"
        ),
    );
    // Docker's error goes to stderr, printed after stdout here.
    assert!(shown.contains("tag invalid: The image tag 'v1' already exists in the 'test' repository"), "{shown}");
    in_order(
        &shown,
        &[
            "Not yet:",
            "Type `hint`: there is a hint for what just happened.",
            "remove the old one first",
            "v1: digest: sha256:",
            "Stage complete:",
        ],
    );
}

/// GET `path` from the lesson's mock at `host` (`127.0.0.1:PORT`), as a browser on this machine.
fn http_get(host: &str, path: &str) -> String {
    use std::io::{Read as _, Write as _};
    let mut stream = std::net::TcpStream::connect(host).unwrap();
    write!(stream, "GET {path} HTTP/1.1\r\nHost: {host}\r\nConnection: close\r\n\r\n").unwrap();
    let mut page = String::new();
    stream.read_to_string(&mut page).unwrap();
    page
}

/// Lesson 07's console stage is checked: `check` before the pages are opened says not yet (naming
/// the pages); opening the repository and its image in the lesson's console completes it.
#[test]
fn a_console_step_completes_once_its_pages_are_opened_and_not_before() {
    let home = tempfile::tempdir().unwrap();
    std::fs::write(home.path().join("progress.json"), r#"{"lessons":{"verify-the-push":{"describe-images":true}}}"#)
        .unwrap();
    let mut lab = start(home.path(), "verify-the-push");
    let shown = until(&mut lab, "What next?");
    in_order(&shown, &["Stage 2/3", "In the console (", "Choose the tag v1", "Done when:", "the Images tab of test"]);
    let line = shown.lines().find(|l| l.starts_with("In the console (")).unwrap_or_else(|| panic!("{shown}"));
    let host =
        line.trim_start_matches("In the console (http://").trim_end_matches("/console/repositories):").to_owned();
    lab.send("\r").unwrap(); // work in the lab shell
    until(&mut lab, "Type the stage's commands");
    lab.send_line("check").unwrap();
    let shown = until(&mut lab, "Not yet:");
    assert!(!shown.contains("Stage complete"), "{shown}");
    until(&mut lab, "not yet seen in this stage: the Images tab of test opened in the console");
    // The learner opens the repository, then the image its Images tab links to.
    let page = http_get(&host, "/console/repositories/test");
    assert!(page.starts_with("HTTP/1.1 200"), "{}", &page[..page.len().min(300)]);
    let image = page.split("/_/image/").nth(1).and_then(|rest| rest.split(['?', '"']).next()).unwrap().to_owned();
    assert!(!image.ends_with("findings"), "{image}");
    let opened = http_get(&host, &format!("/console/repositories/test/_/image/{image}"));
    assert!(opened.starts_with("HTTP/1.1 200"), "{}", &opened[..opened.len().min(300)]);
    until(&mut lab, "The stage's checks pass now");
    lab.send_line("").unwrap();
    until(&mut lab, "Stage complete:");
    until(&mut lab, "Stage 3/3");
    lab.send_line("quit").unwrap();
    lab.expect(expectrl::Eof).unwrap();
}

/// `ecr-lab start LESSON` of the binary `bin` in a pty, with its own data directory.
fn start_bin(bin: &Path, home: &Path, lesson: &str) -> expectrl::session::OsSession {
    let mut command = Command::new(bin);
    command.args(["start", lesson, "--data-dir"]).arg(home.join("lab")).env("ECR_LAB_HOME", home).env("TERM", "xterm");
    let mut session = expectrl::Session::spawn(command).expect("spawn in a pty");
    session.get_process_mut().set_window_size(200, 50).unwrap();
    session.set_expect_timeout(Some(Duration::from_secs(60)));
    session
}

/// A timed run of lesson 00 by a scripted learner, for `scripts/bench-learner` (run on demand:
/// `cargo test --test it bench_lesson_00 -- --ignored --nocapture`; `ECR_LAB_BENCH_BIN` names another
/// build of `ecr-lab`, such as one from before issue 17). The learner reads the screen, types each
/// stage's commands, takes one wrong turn (the repository created without immutable tags: `check`
/// says not yet, and `put-image-tag-mutability` recovers) and answers the quizzes right. Each stage is
/// timed from its header to "Stage complete" (to the next header for the reading stage); the table is
/// printed, and written to `ECR_LAB_BENCH_OUT` when set.
#[test]
#[ignore = "a benchmark, run by scripts/bench-learner"]
fn bench_lesson_00_scripted_learner() {
    let bin = std::env::var_os("ECR_LAB_BENCH_BIN")
        .filter(|bin| !bin.is_empty())
        .map(std::path::PathBuf::from)
        .unwrap_or_else(|| env!("CARGO_BIN_EXE_ecr-lab").into());
    let registry = "920736617090.dkr.ecr.ap-south-1.amazonaws.com";
    let uri = format!("{registry}/test:v1");
    let home = tempfile::tempdir().unwrap();
    let begun = std::time::Instant::now();
    let mut lab = start_bin(&bin, home.path(), "push-first-image");
    until(&mut lab, "Stage 1/6");
    let mut rows: Vec<(String, Duration)> = vec![("0. launch to the first stage".into(), begun.elapsed())];
    // Each step: what the learner types (nothing: only reads), what they wait to see, and whether they
    // then wait for the shell's prompt before typing on (as a person does; keys typed before it may be
    // dropped). A stage is timed from the end of the one before (its header is printed then) to its
    // last step.
    let mut stage = |lab: &mut expectrl::session::OsSession, name: &str, steps: &[(&str, &str, bool)]| {
        let at = std::time::Instant::now();
        for (send, wait, prompt) in steps {
            if !send.is_empty() {
                lab.send(send).unwrap();
            }
            until(lab, wait);
            if *prompt {
                until(lab, "lab$ ");
            }
        }
        rows.push((name.to_owned(), at.elapsed()));
    };
    let sts = "aws sts get-caller-identity --region ap-south-1\r";
    stage(
        &mut lab,
        "1. identity (reading)",
        &[(sts, "\"Account\": \"920736617090\"", true), ("\r", "Stage 2/6", false)],
    );
    let work = [("", "What next?", false), ("\r", "Type the stage's commands", true)];
    let wrong = "aws ecr create-repository --repository-name test --image-scanning-configuration scanOnPush=true\r";
    let fix = "aws ecr put-image-tag-mutability --repository-name test --image-tag-mutability IMMUTABLE\r";
    stage(
        &mut lab,
        "2. create-repository (wrong turn, then recovery)",
        &[
            work[0],
            work[1],
            (wrong, "\"repositoryName\": \"test\"", true),
            ("check\r", "Not yet:", true),
            (fix, "Stage complete:", false),
            ("", "With tag immutability on", false),
            ("\x1b[B\r", "Stage 3/6", false), // the quiz: the second choice, the right one
        ],
    );
    let login = format!(
        "aws ecr get-login-password --region ap-south-1 | docker login --username AWS --password-stdin {registry}\r"
    );
    let stages = [
        ("3. login", login, "Stage 4/6"),
        ("4. tag", format!("docker tag sohelqt8797/ec2-neon-pulse:v1 {uri}\r"), "Stage 5/6"),
        ("5. push", format!("docker push {uri}\r"), "Stage 6/6"),
        (
            "6. verify",
            "aws ecr describe-images --repository-name test --region ap-south-1\r".to_owned(),
            "imageSizeInBytes is smaller",
        ),
    ];
    for (name, command, next) in &stages {
        let steps = [work[0], work[1], (command.as_str(), "Stage complete:", false), ("", next, false)];
        stage(&mut lab, name, &steps);
    }
    let total = begun.elapsed();
    drop(lab);
    let mut table = String::from("| stage | seconds |\n|---|---|\n");
    for (name, took) in &rows {
        table.push_str(&format!("| {name} | {:.2} |\n", took.as_secs_f64()));
    }
    table.push_str(&format!("| whole lesson (from launch) | {:.2} |\n", total.as_secs_f64()));
    println!("{}\n{table}", bin.display());
    if let Some(out) = std::env::var_os("ECR_LAB_BENCH_OUT") {
        std::fs::write(out, &table).unwrap();
    }
}

/// Issue 17 item 11: the guide's objective (what ECR is and why: fully managed, pulled by ECS, EKS and
/// CI) and its closing are stages of the course, and its console steps are practised (checked).
#[test]
fn the_guides_objective_and_closing_are_in_the_course() {
    let home = tempfile::tempdir().unwrap();
    let coverage = |lesson: &str| {
        let out = Command::new(env!("CARGO_BIN_EXE_ecr-lab"))
            .args(["coverage", lesson])
            .env("ECR_LAB_HOME", home.path())
            .output()
            .unwrap();
        assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
        String::from_utf8_lossy(&out.stdout).into_owned()
    };
    let concepts = coverage("concepts");
    assert!(concepts.contains("\n| why-ecr | reading | told |"), "{concepts}");
    let capstone = coverage("capstone");
    assert!(capstone.contains("\n| closing | reading | told |"), "{capstone}");
    let lesson = std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("lessons/01-concepts.md")).unwrap();
    for told in ["fully managed", "ECS", "EKS"] {
        assert!(lesson.contains(told), "lesson 01 no longer says {told:?}");
    }
    let create = coverage("create-repository");
    assert!(create.contains("\n| push-commands | task | practised |"), "{create}");
}
