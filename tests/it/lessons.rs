//! Lessons: the bundled course lints clean and verifies on the mock; each broken fixture yields its
//! rule code at the right place (snapshots); a lesson played in a real terminal advances, quits and
//! resumes.

use std::path::Path;
use std::process::Command;
use std::time::Duration;

fn ecr_lab(home: &Path, args: &[&str]) -> crate::common::Ran {
    let output = Command::new(env!("CARGO_BIN_EXE_ecr-lab")).args(args).env("ECR_LAB_HOME", home).output().unwrap();
    crate::common::Ran {
        stdout: String::from_utf8_lossy(&output.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&output.stderr).into_owned(),
        code: output.status.code().unwrap_or(-1),
    }
}

#[test]
fn the_bundled_lessons_lint_clean_and_verify_on_the_mock() {
    let home = tempfile::tempdir().unwrap();
    let lint = ecr_lab(home.path(), &["lint", concat!(env!("CARGO_MANIFEST_DIR"), "/lessons")]);
    assert_eq!(lint.code, 0, "{}{}", lint.stdout, lint.stderr);
    let started = std::time::Instant::now();
    let verify = ecr_lab(home.path(), &["verify", "--backend", "mock"]);
    assert_eq!(verify.code, 0, "{}{}", verify.stdout, verify.stderr);
    // Every lesson file of the course is verified, and says so.
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("lessons");
    let mut files: Vec<String> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|name| name.ends_with(".md") && name != "README.md")
        .collect();
    files.sort();
    assert!(files.len() >= 12, "the course has at least 12 lessons: {files:?}");
    for file in &files {
        assert!(verify.stdout.contains(&format!("ok    lessons/{file} (")), "{file} not verified:\n{}", verify.stdout);
    }
    assert!(started.elapsed() < Duration::from_secs(30), "verify should take seconds, took {:?}", started.elapsed());
}

#[test]
fn every_fault_of_the_catalogue_is_met_in_some_lesson() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("lessons");
    let mut met = String::new();
    for entry in std::fs::read_dir(&dir).unwrap() {
        let text = std::fs::read_to_string(entry.unwrap().path()).unwrap();
        // A fault is met where a `lab:fault` block names it.
        for block in text.split("```lab:fault\n").skip(1) {
            met.push_str(block.lines().next().unwrap_or_default());
            met.push('\n');
        }
    }
    for id in [
        "missing-repo",
        "expired-credentials",
        "missing-login",
        "untagged-image",
        "immutable-overwrite",
        "wrong-region",
        "wrong-account",
        "expired-login",
        "unsigned-image",
        "access-denied-pull",
        "access-denied-push",
        "long-lived-key",
        "expired-session",
        "oidc-other-branch",
    ] {
        assert!(met.lines().any(|l| l == format!("id: {id}")), "no lesson arranges the fault {id}:\n{met}");
    }
}

#[test]
fn each_broken_fixture_yields_its_rule_at_its_line() {
    let home = tempfile::tempdir().unwrap();
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/lint");
    let mut fixtures: Vec<_> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "md"))
        .collect();
    fixtures.sort();
    assert_eq!(fixtures.len(), 17, "one fixture per rule, LAB001..LAB017");
    for fixture in fixtures {
        let name = fixture.file_name().unwrap().to_string_lossy().into_owned();
        let code = &name[..6];
        let ran = ecr_lab(home.path(), &["lint", fixture.to_str().unwrap()]);
        assert_eq!(ran.code, 1, "{name}: lint must fail");
        let got = ran.stdout.replace(fixture.to_str().unwrap(), "FILE");
        let expected = std::fs::read_to_string(fixture.with_extension("expected")).unwrap();
        assert_eq!(got, expected, "{name}: the snapshot changed");
        assert!(
            got.lines().next().unwrap_or_default().contains(&format!(" {code} ")),
            "{name}: the first problem is {code}:\n{got}"
        );
    }
}

#[test]
fn a_verify_failure_names_the_file_and_line() {
    let home = tempfile::tempdir().unwrap();
    let dir = tempfile::tempdir().unwrap();
    // The check can never pass: the solution creates another repository.
    std::fs::write(
        dir.path().join("broken.md"),
        "---\nid: broken\ntitle: Broken\n---\n\n## Create\n\n```lab:stage\nid: create\nkind: task\n```\n\n```lab:check\n- ecr.repository: { name: \"{{repo}}\" }\n```\n\n```lab:solution\naws ecr create-repository --repository-name other\n```\n",
    )
    .unwrap();
    let ran = ecr_lab(home.path(), &["verify", "--lessons", dir.path().to_str().unwrap()]);
    assert_eq!(ran.code, 1);
    let file = dir.path().join("broken.md");
    assert!(
        ran.stderr.contains(&format!(
            "{}:14: stage `create`: after the solution this check still fails: repository test does not exist yet",
            file.display()
        )),
        "{}",
        ran.stderr
    );
}

/// Plays the first lesson in a pseudo-terminal: a reading stage, the stage menu, a task typed into the
/// embedded shell, a quiz answered with the arrow keys, quit, and a restart that resumes at the next
/// stage, where the menu checks the work and quits.
#[test]
fn a_lesson_played_in_a_terminal_advances_quits_and_resumes() {
    use expectrl::Expect;
    let home = tempfile::tempdir().unwrap();
    let data = home.path().join("lab");
    let spawn = || {
        let mut command = Command::new(env!("CARGO_BIN_EXE_ecr-lab"));
        command
            .args(["start", "push-first-image", "--data-dir", data.to_str().unwrap()])
            .env("ECR_LAB_HOME", home.path())
            .env("TERM", "xterm");
        let mut session = expectrl::Session::spawn(command).expect("spawn in a pty");
        session.set_expect_timeout(Some(Duration::from_secs(30)));
        session
    };
    let mut lab = spawn();
    lab.expect("Stage 1/6").unwrap();
    lab.expect("(Press Enter, or type `next`, to go on.)").unwrap();
    lab.send_line("").unwrap();
    lab.expect("Stage 2/6").unwrap();
    lab.expect("Done when:").unwrap();
    // The stage's menu: the first choice opens the lab shell.
    lab.expect("What next?").unwrap();
    lab.send("\r").unwrap();
    lab.expect("Type the stage's commands").unwrap();
    lab.send_line("aws ecr create-repository --repository-name test --image-scanning-configuration scanOnPush=true --image-tag-mutability IMMUTABLE > /dev/null").unwrap();
    lab.expect("Stage complete:").unwrap();
    lab.expect("Create the repository").unwrap();
    // The quiz: move down to the right answer and choose it.
    lab.expect("With tag immutability on").unwrap();
    lab.send("\x1b[B").unwrap();
    lab.send("\r").unwrap();
    lab.expect("Right.").unwrap();
    lab.expect("Stage 3/6").unwrap();
    lab.send_line("quit").unwrap();
    lab.expect("Progress saved").unwrap();
    lab.expect(expectrl::Eof).unwrap();

    let mut again = spawn();
    again.expect("Stage 3/6").unwrap();
    again.expect("What next?").unwrap();
    again.send("Check").unwrap(); // type to filter the menu
    again.send("\r").unwrap();
    again.expect("Not yet:").unwrap();
    again.expect("What next?").unwrap();
    again.send("Quit").unwrap();
    again.send("\r").unwrap();
    again.expect("Progress saved").unwrap();
    again.expect(expectrl::Eof).unwrap();

    let mut transcripts: Vec<_> =
        std::fs::read_dir(data.join("transcripts")).unwrap().map(|e| e.unwrap().path()).collect();
    assert_eq!(transcripts.len(), 2, "one transcript per run");
    transcripts.sort();
    let first = transcripts.iter().find(|p| std::fs::read_to_string(p).unwrap().contains("create-repository")).unwrap();
    let replayed = ecr_lab(home.path(), &["replay", first.to_str().unwrap()]);
    assert_eq!(replayed.code, 0, "{}", replayed.stderr);
    assert!(
        replayed
            .stdout
            .starts_with("── stage create-repository ──\nlab$ aws ecr create-repository --repository-name test"),
        "{}",
        replayed.stdout
    );
    assert!(replayed.stdout.contains("   ✓ checks pass"), "{}", replayed.stdout);
}

/// `--tools real`: the learner works with the real aws CLI in their own terminal; the runner watches
/// the checks and advances by itself.
#[test]
fn with_real_tools_the_runner_watches_and_advances() {
    use std::io::Write as _;
    if !crate::common::aws_cli_available() {
        return;
    }
    let home = tempfile::tempdir().unwrap();
    let server = crate::common::Served::start(home.path(), &["--ephemeral"]);
    let mut runner = Command::new(env!("CARGO_BIN_EXE_ecr-lab"))
        .args(["start", "push-first-image", "--tools", "real", "--endpoint", &server.url, "--data-dir"])
        .arg(home.path().join("lab"))
        .env("ECR_LAB_HOME", home.path())
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let mut stdin = runner.stdin.take().unwrap();
    stdin.write_all(b"\n").unwrap(); // the reading stage
    std::thread::sleep(Duration::from_millis(1500));
    let created = crate::common::bash(
        &format!(
            "eval \"$(ecr-lab env --endpoint {})\"\naws ecr create-repository --repository-name test --image-scanning-configuration scanOnPush=true --image-tag-mutability IMMUTABLE",
            server.url
        ),
        home.path(),
    );
    assert_eq!(created.code, 0, "{}", created.stderr);
    std::thread::sleep(Duration::from_millis(2500));
    stdin.write_all(b"2\nquit\n").unwrap(); // the quiz, then leave
    drop(stdin);
    let output = runner.wait_with_output().unwrap();
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(stdout.contains("Stage complete:"), "{stdout}");
    assert!(stdout.contains("Right."), "{stdout}");
    let registry = server.url.trim_start_matches("http://");
    assert!(
        stdout.contains(&format!("The lab's registry is\n{registry}")),
        "the registry is the mock's address: {stdout}"
    );
}

/// `ecr-lab` alone in a terminal: its home menu and lesson picker.
fn home_menu(home: &Path) -> expectrl::session::OsSession {
    let mut command = Command::new(env!("CARGO_BIN_EXE_ecr-lab"));
    command.env("ECR_LAB_HOME", home).env("TERM", "xterm");
    let mut session = expectrl::Session::spawn(command).expect("spawn in a pty");
    session.set_expect_timeout(Some(Duration::from_secs(30)));
    session
}

/// Esc in "Pick a lesson" goes back to the home menu; Esc in the home menu leaves quietly (exit 0).
#[test]
fn esc_in_the_lesson_picker_goes_back_and_esc_at_home_quits_quietly() {
    use expectrl::Expect;
    use expectrl::process::unix::WaitStatus;
    let home = tempfile::tempdir().unwrap();
    let mut lab = home_menu(home.path());
    lab.expect("a hands-on lab for Amazon ECR").unwrap();
    lab.send("Pick").unwrap();
    lab.send("\r").unwrap();
    lab.expect("Which lesson?").unwrap();
    std::thread::sleep(Duration::from_millis(300));
    lab.send("\x1b").unwrap();
    lab.expect("a hands-on lab for Amazon ECR").unwrap();
    std::thread::sleep(Duration::from_millis(300));
    lab.send("\x1b").unwrap();
    let rest = lab.expect(expectrl::Eof).unwrap();
    let rest = String::from_utf8_lossy(rest.before()).into_owned();
    assert!(!rest.contains("canceled"), "Esc is no error: {rest}");
    let status = lab.get_process().wait().unwrap();
    assert!(matches!(status, WaitStatus::Exited(_, 0)), "Esc at home exits 0: {status:?}");
}

/// Two one-stage reading lessons in `dir`: `first` (01) and `second` (02).
fn two_tiny_lessons(dir: &Path) {
    for (n, id, title) in [(1, "first", "The first"), (2, "second", "The second")] {
        std::fs::write(
            dir.join(format!("0{n}-{id}.md")),
            format!("---\nid: {id}\ntitle: {title}\nversion: 1\nbackends: [mock]\n---\n\n## Read\n\n```lab:stage\nid: read-{id}\ngoal: Read this\nkind: reading\nminutes: {n}\n```\n\nJust read this.\n"),
        )
        .unwrap();
    }
}

/// The end of a lesson offers the next one: start it, back to the menu, or quit.
#[test]
fn the_end_of_a_lesson_offers_the_next_one() {
    use expectrl::Expect;
    let home = tempfile::tempdir().unwrap();
    let lessons = home.path().join("lessons");
    std::fs::create_dir(&lessons).unwrap();
    two_tiny_lessons(&lessons);
    let mut command = Command::new(env!("CARGO_BIN_EXE_ecr-lab"));
    command
        .args(["start", "first", "--lessons", lessons.to_str().unwrap(), "--data-dir"])
        .arg(home.path().join("lab"))
        .env("ECR_LAB_HOME", home.path())
        .env("TERM", "xterm");
    let mut lab = expectrl::Session::spawn(command).expect("spawn in a pty");
    lab.set_expect_timeout(Some(Duration::from_secs(30)));
    lab.expect("Stage 1/1").unwrap();
    lab.expect("(Press Enter, or type `next`, to go on.)").unwrap();
    lab.send_line("").unwrap();
    lab.expect("Lesson complete: The first").unwrap();
    lab.expect("Start the next lesson: 2. The second").unwrap();
    lab.expect("Back to the menu").unwrap();
    lab.send("\r").unwrap();
    lab.expect("The second").unwrap();
    lab.expect("Stage 1/1").unwrap();
    lab.send_line("quit").unwrap();
    lab.expect("Progress saved").unwrap();
    lab.expect(expectrl::Eof).unwrap();
}

/// A first-time learner (no progress yet) is not offered "Continue:"; once a stage is done, they are.
#[test]
fn a_first_time_learner_sees_no_continue() {
    use expectrl::Expect;
    let home = tempfile::tempdir().unwrap();
    let mut lab = home_menu(home.path());
    let shown = lab.expect("Quit").unwrap();
    let menu = String::from_utf8_lossy(shown.before()).into_owned();
    assert!(menu.contains("Pick a lesson"), "{menu}");
    assert!(!menu.contains("Continue:"), "no progress yet, nothing to continue: {menu}");
    lab.send("\x1b").unwrap();
    lab.expect(expectrl::Eof).unwrap();
    assert!(!home.path().join("progress.json").exists(), "the menu changed nothing");

    std::fs::write(home.path().join("progress.json"), r#"{"lessons":{"push-first-image":{"identity":true}}}"#).unwrap();
    let mut again = home_menu(home.path());
    again.expect("Continue: Push your first image to Amazon ECR").unwrap();
    again.send("\x1b").unwrap();
    again.expect(expectrl::Eof).unwrap();
}

/// A bundled lesson file's id, its stages' ids and the sum of their minutes.
fn lesson_outline(file: &str) -> (String, Vec<String>, u32) {
    let text = std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("lessons").join(file)).unwrap();
    let id = text.lines().find_map(|l| l.strip_prefix("id: ")).unwrap().to_owned();
    let stages = text
        .split("```lab:stage\n")
        .skip(1)
        .map(|b| b.lines().next().unwrap().trim_start_matches("id: ").to_owned())
        .collect();
    let minutes =
        text.lines().filter_map(|l| l.strip_prefix("minutes: ")).map(|m| m.trim().parse::<u32>().unwrap()).sum();
    (id, stages, minutes)
}

/// The lesson picker is a course map: each lesson's number, title, minutes (its stages' sum) and progress.
#[test]
fn the_lesson_picker_shows_numbers_minutes_and_progress() {
    use expectrl::Expect;
    let home = tempfile::tempdir().unwrap();
    let (first, first_stages, first_minutes) = lesson_outline("00-quick-start.md");
    let (second, second_stages, second_minutes) = lesson_outline("01-concepts.md");
    let (_, _, third_minutes) = lesson_outline("02-prerequisites.md");
    let done: Vec<String> = second_stages.iter().map(|s| format!("\"{s}\":true")).collect();
    let progress =
        format!(r#"{{"lessons":{{"{first}":{{"{}":true}},"{second}":{{{}}}}}}}"#, first_stages[0], done.join(","));
    std::fs::write(home.path().join("progress.json"), &progress).unwrap();
    let mut lab = home_menu(home.path());
    lab.get_process_mut().set_window_size(160, 40).unwrap();
    let mut bytes = Vec::new();
    let mut expect = |lab: &mut expectrl::session::OsSession, text: &str| {
        let found = lab.expect(text).unwrap();
        bytes.extend_from_slice(found.before());
        found.matches().for_each(|m| bytes.extend_from_slice(m));
    };
    expect(&mut lab, "a hands-on lab for Amazon ECR");
    lab.send("Pick").unwrap();
    lab.send("\r").unwrap();
    expect(&mut lab, "Which lesson?");
    expect(&mut lab, "type to filter");
    let mut screen = vt100::Parser::new(40, 160, 0);
    screen.process(&bytes);
    let shown = screen.screen().contents();
    for line in [
        format!("1. Push your first image to Amazon ECR · {first_minutes} min · in progress"),
        format!("2. Concepts: registry, repository, image, tag, digest, token · {second_minutes} min · done"),
        "3. ".to_owned(),
    ] {
        assert!(shown.contains(&line), "{line:?} not in the picker:\n{shown}");
    }
    assert!(shown.contains(&format!(" · {third_minutes} min · not started")), "{shown}");
    lab.send("\x1b").unwrap();
    lab.expect("a hands-on lab for Amazon ECR").unwrap();
    lab.send("\x1b").unwrap();
    lab.expect(expectrl::Eof).unwrap();
    assert_eq!(
        std::fs::read_to_string(home.path().join("progress.json")).unwrap(),
        progress,
        "looking changes nothing"
    );
}

/// The checks issue 17 found weak, as they were, with the `lab:wrong` blocks the lessons now carry:
/// `verify` reports each wrong solution that passes the old checks, at its file and line. The
/// bundled lessons (strengthened) verify clean in the test above, so each new check is what fails it.
#[test]
fn the_old_weak_checks_let_the_wrong_solutions_pass() {
    let lessons = Path::new(env!("CARGO_MANIFEST_DIR")).join("lessons");
    /// A lesson file, its (strong, old) checks, and how many of its wrong solutions the old ones let pass.
    type Weakened<'a> = (&'a str, &'a [(&'a str, &'a str)], usize);
    let weakened: &[Weakened] = &[
        (
            "01-concepts.md",
            &[(
                "- ecr.image: { repo: \"{{concepts_repo}}\", tag: latest, digest: \"{{sample_v2_digest}}\" }\n- ecr.images: { repo: \"{{concepts_repo}}\", count: 2, untagged: 1 }\n- output: { of: \"aws ecr list-images\", contains: \"{{sample_digest}}\" }",
                "- ecr.image: { repo: \"{{concepts_repo}}\", tag: latest, exists: true }\n- output: { of: \"aws ecr list-images\", contains: \"imageDigest\" }",
            )],
            1,
        ),
        ("03-create-repository.md", &[(", encryption: AES256 }", " }")], 1),
        ("09-troubleshooting.md", &[("digest: \"{{sample_v2_digest}}\" }", "exists: true }")], 1),
        (
            "10-wrong-registry.md",
            &[
                (
                    "- docker.credentials: { registry: \"{{registry}}\", present: true }\n  label: docker holds a login for {{registry}}\n",
                    "",
                ),
                (
                    "- ecr.image: { repo: \"{{repo}}\", tag: \"{{tag}}\", exists: true }\n  label: The image is in your registry, {{registry}}\n",
                    "- output: { of: \"aws ecr get-login-password\", contains: \"Login Succeeded\" }\n  label: docker logs in\n",
                ),
            ],
            2,
        ),
        (
            "11-tags-and-lifecycle.md",
            &[
                (
                    "- ecr.image: { repo: app-dev, tag: latest, digest: \"{{sample_v2_digest}}\" }\n- ecr.images: { repo: app-dev, count: 2, untagged: 1 }",
                    "- ecr.image: { repo: app-dev, tag: latest, exists: true }\n- output: { of: \"aws ecr list-images\", contains: \"imageDigest\" }",
                ),
                (
                    "- ecr.images: { repo: app-dev, count: 1, untagged: 0 }\n- ecr.image: { repo: app-dev, digest: \"{{sample_digest}}\", exists: false }\n",
                    "",
                ),
            ],
            2,
        ),
        ("14-capstone.md", &[("digest: \"{{sample_v2_digest}}\" }", "exists: true }")], 1),
        (
            "13-access-and-trust.md",
            &[
                // The old key-kind checks: exit codes and an `Arn` of any kind (issue 17 item 10).
                (
                    "- output: { of: \"aws sts get-caller-identity\", contains: \":assumed-role/ci-push/\" }\n  label: The job's identity is the role ci-push\n- output: { of: \"aws configure export-credentials\", contains: \"export AWS_ACCESS_KEY_ID=ASIA\" }\n  label: Its key is temporary (ASIA...)\n- output: { of: \"aws configure export-credentials\", contains: \"export AWS_SESSION_TOKEN=\" }\n  label: Its key comes with a session token\n",
                    "- output: { of: \"aws sts get-caller-identity\", contains: \"\\\"Arn\\\"\" }\n  label: The job's identity\n- exit: { of: \"aws configure list\", code: 0 }\n  label: The profile lists\n",
                ),
                // Without the policy check, only the call is judged: ecr:*, pull-only and the admin's login pass.
                (
                    "- iam.user: { name: ci-pusher, can: [ecr:BatchGetImage, ecr:GetDownloadUrlForLayer, ecr:PutImage, ecr:InitiateLayerUpload, ecr:UploadLayerPart, ecr:CompleteLayerUpload], cannot: [ecr:DeleteRepository, ecr:BatchDeleteImage, ecr:SetRepositoryPolicy, ecr:PutImageTagMutability], repo: \"{{repo}}\" }\n  label: ci-pusher may pull and push {{repo}}, and nothing more\n",
                    "",
                ),
            ],
            4,
        ),
    ];
    let dir = tempfile::tempdir().unwrap();
    for (file, swaps, _) in weakened {
        let mut text = std::fs::read_to_string(lessons.join(file)).unwrap();
        for (strong, weak) in *swaps {
            assert!(text.contains(strong), "{file} no longer has the check `{strong}`");
            text = text.replacen(strong, weak, 1);
        }
        std::fs::write(dir.path().join(file), text).unwrap();
    }
    let home = tempfile::tempdir().unwrap();
    let ran = ecr_lab(home.path(), &["verify", "--lessons", dir.path().to_str().unwrap()]);
    assert_eq!(ran.code, 1, "{}{}", ran.stdout, ran.stderr);
    for (file, _, wrongs) in weakened {
        let path = dir.path().join(file);
        let reported: Vec<&str> = ran
            .stderr
            .lines()
            .filter(|l| l.starts_with(&format!("{}:", path.display())))
            .filter(|l| l.contains(": lab:wrong: this wrong solution"))
            .collect();
        assert_eq!(reported.len(), *wrongs, "{file}: wrong solutions the weak checks let pass:\n{}", ran.stderr);
        // Each report names the line of its lab:wrong block.
        let text = std::fs::read_to_string(&path).unwrap();
        for line in &reported {
            let n: usize = line[path.display().to_string().len() + 1..].split(':').next().unwrap().parse().unwrap();
            assert_eq!(text.lines().nth(n - 1), Some("```lab:wrong"), "{line}");
        }
    }
}

/// Every troubleshooting and capstone stage carries at least one plausible wrong solution (a reading
/// stage, such as the capstone's closing, has no checks to prove wrong).
#[test]
fn every_troubleshooting_and_capstone_stage_has_a_wrong_solution() {
    let lessons = Path::new(env!("CARGO_MANIFEST_DIR")).join("lessons");
    for file in ["09-troubleshooting.md", "10-wrong-registry.md", "14-capstone.md"] {
        let text = std::fs::read_to_string(lessons.join(file)).unwrap();
        let stages: Vec<&str> = text.split("\n## ").skip(1).collect();
        assert!(stages.iter().any(|s| !s.contains("\nkind: reading\n")), "{file}: no stage to check");
        for stage in stages.into_iter().filter(|s| !s.contains("\nkind: reading\n")) {
            let title = stage.lines().next().unwrap_or_default();
            assert!(stage.contains("```lab:wrong\n"), "{file}: stage `{title}` has no lab:wrong");
        }
    }
}

/// `ecr-lab start LESSON --notes` is the instructor view: every stage with its notes, nothing played.
#[test]
fn start_with_notes_prints_each_stages_notes_and_plays_nothing() {
    let home = tempfile::tempdir().unwrap();
    let ran = ecr_lab(home.path(), &["start", "troubleshooting", "--notes"]);
    assert_eq!(ran.code, 0, "{}{}", ran.stdout, ran.stderr);
    assert!(ran.stdout.starts_with("# Troubleshooting"), "{}", ran.stdout);
    assert_eq!(ran.stdout.matches("\n## ").count(), 6, "six stages:\n{}", ran.stdout);
    assert!(ran.stdout.contains("Fault: expired-login: "), "{}", ran.stdout);
    assert!(ran.stdout.contains("Notes:\n  The stage moves the lab clock 13 hours ahead"), "{}", ran.stdout);
    let made: Vec<_> = std::fs::read_dir(home.path()).unwrap().map(|e| e.unwrap().file_name()).collect();
    assert!(made.is_empty(), "nothing was played, no lab started: {made:?}");
    let none = ecr_lab(home.path(), &["start", "no-such-lesson", "--notes"]);
    assert_eq!(none.code, 1);
    assert!(none.stderr.contains("no lesson `no-such-lesson`; the lessons are:"), "{}", none.stderr);
}

/// `ecr-lab coverage`: per lesson, practised (checked) against told, as tables.
#[test]
fn coverage_tables_practised_against_told() {
    let home = tempfile::tempdir().unwrap();
    let ran = ecr_lab(home.path(), &["coverage"]);
    assert_eq!(ran.code, 0, "{}", ran.stderr);
    assert!(
        ran.stdout
            .starts_with("| lesson | stages | practised | told | checks | wrong solutions | console steps checked |\n")
    );
    // Every console step of the course is checked: the page opened, or what it changed in the registry.
    for lesson in ["push-first-image", "create-repository", "verify-the-push"] {
        let row = ran.stdout.lines().find(|l| l.starts_with(&format!("| {lesson} |"))).unwrap();
        let steps = row.rsplit('|').nth(1).unwrap().trim();
        let (checked, of) = steps.split_once(" of ").unwrap_or_else(|| panic!("{row}"));
        assert_eq!(checked, of, "{row}");
    }
    assert!(!ran.stdout.contains("console step is told only"), "{}", ran.stdout);
    assert!(
        ran.stdout.contains("| push-commands | task | practised | View push commands of test opened in the console |"),
        "{}",
        ran.stdout
    );
    assert!(ran.stdout.contains("\n| troubleshooting | 6 | 6 | 0 | 12 | 7 | - |\n"), "{}", ran.stdout);
    assert!(ran.stdout.contains("\n| vocabulary | reading | told | (told: "), "{}", ran.stdout);
    assert!(
        ran.stdout.contains("| create | task | practised | repository test exists, scan on push on, tags immutable, encrypted with AES256 (1 wrong solution proved to fail) |"),
        "{}",
        ran.stdout
    );
    let one = ecr_lab(home.path(), &["coverage", "capstone"]);
    assert_eq!(one.stdout.lines().filter(|l| l.starts_with("| capstone |")).count(), 1, "{}", one.stdout);
    assert!(!one.stdout.contains("troubleshooting"), "{}", one.stdout);
}

/// A learner who plays the helper lesson twice: each run has a mock of its own (another token
/// secret) under the same registry name, so the helper's cached token of the first run must not be
/// handed to the second (it was, and the second run's pushes got 400 Bad Request).
#[test]
fn the_credential_helper_lesson_verifies_twice_in_one_home() {
    let home = tempfile::tempdir().unwrap();
    for run in 1..=2 {
        let verify = ecr_lab(home.path(), &["verify", "--backend", "mock", "access-and-trust"]);
        assert_eq!(verify.code, 0, "run {run}: {}{}", verify.stdout, verify.stderr);
    }
}
