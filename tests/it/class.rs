//! Class mode end to end (issue 13), with real processes: `ecr-lab class serve`, students who each
//! `ecr-lab join` from a home of their own and play lesson 00's commands verbatim in `ecr-lab start`,
//! the instructor's CLI, and the real aws CLI, skopeo and curl trying to cross accounts.

use std::io::{BufRead, BufReader, Write as _};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};

use crate::common::Ran;

pub(crate) const LESSON: &str = "push-first-image";
const LESSON_FILE: &str = "00-quick-start.md";

/// `ecr-lab class serve` on 127.0.0.1:0 with its own data dir and instructor home; killed when dropped.
pub(crate) struct ClassServer {
    pub(crate) url: String,
    pub(crate) token: String,
    /// The class CA's fingerprint the banner shows (`--tls`).
    pub(crate) ca: Option<String>,
    child: Child,
    data: PathBuf,
    instructor: PathBuf,
}

impl ClassServer {
    fn start(data: &Path, instructor: &Path) -> Self {
        Self::start_on(data, instructor, "127.0.0.1:0")
    }

    fn start_on(data: &Path, instructor: &Path, addr: &str) -> Self {
        Self::start_with(data, instructor, addr, &[])
    }

    /// `class serve` with `extra` options (`--tls`).
    pub(crate) fn start_with(data: &Path, instructor: &Path, addr: &str, extra: &[&str]) -> Self {
        let mut child = Command::new(env!("CARGO_BIN_EXE_ecr-lab"))
            .args(["class", "serve", "--addr", addr, "--name", "Test class", "--stuck-after", "5m", "--data-dir"])
            .arg(data)
            .args(extra)
            .env("ECR_LAB_HOME", instructor)
            .env_remove("ECR_LAB_INSTRUCTOR_TOKEN")
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .expect("start ecr-lab class serve");
        let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
        let first = lines
            .next()
            .and_then(Result::ok)
            .unwrap_or_else(|| panic!("ecr-lab class serve stopped before it listened (its error is above)"));
        let url = first
            .strip_prefix("ecr-lab mock listening on ")
            .unwrap_or_else(|| panic!("unexpected first line: {first:?}"))
            .to_owned();
        let (mut token, mut ca) = (String::new(), None);
        for line in lines.by_ref() {
            let line = line.unwrap();
            if let Some(rest) = line.strip_prefix("class CA fingerprint ") {
                ca = rest.split_whitespace().last().map(str::to_owned);
            }
            if let Some(rest) = line.strip_prefix("instructor token: ") {
                token = rest.split_whitespace().next().unwrap().to_owned();
                break;
            }
        }
        assert!(!token.is_empty(), "class serve printed no instructor token");
        // Keep draining what it prints, so it never blocks on a full pipe.
        std::thread::spawn(move || for _ in lines {});
        Self { url, token, ca, child, data: data.to_path_buf(), instructor: instructor.to_path_buf() }
    }

    fn kill_hard(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }

    /// `curl` against the server: (status, body).
    fn curl(&self, method: &str, path: &str, token: Option<&str>, body: Option<&str>) -> (u16, String) {
        // Over --tls, curl trusts the class CA this machine's server recorded.
        let ca = self.instructor.join("class").join("served-ca.pem");
        let ca = ca.to_string_lossy();
        let extra: &[&str] = if self.ca.is_some() { &["--cacert", &ca] } else { &[] };
        curl(&format!("{}{path}", self.url), method, token, body, extra)
    }

    pub(crate) fn state(&self) -> serde_json::Value {
        let (status, body) = self.curl("GET", "/class/api/state", Some(&self.token), None);
        assert_eq!(status, 200, "{body}");
        serde_json::from_str(&body).unwrap()
    }

    /// `ecr-lab ARGS` as the instructor on the server's machine (the token is recorded there).
    pub(crate) fn ecr_lab(&self, args: &[&str]) -> Ran {
        run(&self.instructor, args, None)
    }
}

impl Drop for ClassServer {
    fn drop(&mut self) {
        self.kill_hard();
    }
}

pub(crate) fn curl(url: &str, method: &str, token: Option<&str>, body: Option<&str>, extra: &[&str]) -> (u16, String) {
    let mut command = Command::new("curl");
    command.args(["-s", "-o", "-", "-w", "\n%{http_code}", "-X", method, "--max-time", "20"]);
    if let Some(token) = token {
        command.arg("-H").arg(format!("Authorization: Bearer {token}"));
    }
    if let Some(body) = body {
        command.args(["-H", "Content-Type: application/json", "--data-binary", body]);
    }
    let output = command.args(extra).arg(url).output().expect("run curl");
    let text = String::from_utf8_lossy(&output.stdout).into_owned();
    let (body, status) = text.rsplit_once('\n').unwrap_or(("", &text));
    (status.trim().parse().unwrap_or(0), body.to_owned())
}

/// `ecr-lab ARGS` with `home` as the lab's home, `stdin` piped in (or nothing).
pub(crate) fn run(home: &Path, args: &[&str], stdin: Option<&str>) -> Ran {
    let mut child = Command::new(env!("CARGO_BIN_EXE_ecr-lab"))
        .args(args)
        .env("ECR_LAB_HOME", home)
        .env("ECR_LAB_DOCKER", "builtin")
        .env_remove("ECR_LAB_INSTRUCTOR_TOKEN")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("start ecr-lab");
    let mut input = child.stdin.take().unwrap();
    if let Some(text) = stdin {
        input.write_all(text.as_bytes()).unwrap();
    }
    drop(input);
    let output = child.wait_with_output().unwrap();
    Ran {
        stdout: String::from_utf8_lossy(&output.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&output.stderr).into_owned(),
        code: output.status.code().unwrap_or(-1),
    }
}

/// A student: their own lab home, and who the class made them.
pub(crate) struct Student {
    pub(crate) home: tempfile::TempDir,
    name: String,
    joined: serde_json::Value,
}

impl Student {
    /// Joins `server`, with `--ca FINGERPRINT` when it serves HTTPS.
    pub(crate) fn join(server: &ClassServer, name: &str) -> Self {
        let home = tempfile::tempdir().unwrap();
        let mut args = vec!["join", &server.url, "--name", name];
        if let Some(ca) = &server.ca {
            args.extend(["--ca", ca]);
        }
        let ran = run(home.path(), &args, None);
        assert_eq!(ran.code, 0, "join {name}: {}{}", ran.stdout, ran.stderr);
        assert!(ran.stdout.contains("registry:"), "{}", ran.stdout);
        let joined: serde_json::Value =
            serde_json::from_slice(&std::fs::read(home.path().join("class.json")).unwrap()).unwrap();
        Self { home, name: name.to_owned(), joined }
    }

    pub(crate) fn account(&self) -> String {
        self.joined["account"].as_str().unwrap().to_owned()
    }

    pub(crate) fn registry(&self) -> String {
        format!("{}.dkr.ecr.ap-south-1.amazonaws.com", self.account())
    }

    fn key(&self) -> (String, String) {
        (
            self.joined["accessKeyId"].as_str().unwrap().to_owned(),
            self.joined["secretAccessKey"].as_str().unwrap().to_owned(),
        )
    }

    pub(crate) fn ecr_lab(&self, args: &[&str], stdin: Option<&str>) -> Ran {
        run(self.home.path(), args, stdin)
    }

    /// The real aws CLI as this student, at the class server.
    fn aws(&self, server: &ClassServer, args: &str) -> Ran {
        let (key, secret) = self.key();
        crate::common::bash(
            &format!(
                "AWS_ACCESS_KEY_ID={key} AWS_SECRET_ACCESS_KEY={secret} AWS_DEFAULT_REGION=ap-south-1 \
                 aws --endpoint-url {} {args}",
                server.url
            ),
            self.home.path(),
        )
    }

    /// `aws ARGS --output json` in this student's lab shell (the built-in aws, as the student): the JSON.
    pub(crate) fn lab_aws(&self, args: &str) -> serde_json::Value {
        let ran = self.ecr_lab(&["shell"], Some(&format!("aws {args} --output json\n")));
        assert_eq!(ran.code, 0, "aws {args}: {}{}", ran.stdout, ran.stderr);
        let json = &ran.stdout[ran.stdout.find('{').unwrap_or_else(|| panic!("no JSON: {}", ran.stdout))..];
        serde_json::from_str(json).unwrap_or_else(|e| panic!("{e}: {json}"))
    }

    /// A registry token for this student (`aws ecr get-login-password` through the lab's shell).
    pub(crate) fn registry_password(&self) -> String {
        let ran = self.ecr_lab(&["shell"], Some("aws ecr get-login-password --region ap-south-1\n"));
        assert_eq!(ran.code, 0, "{}{}", ran.stdout, ran.stderr);
        ran.stdout.lines().map(str::trim).find(|l| l.len() > 100).expect("a token line").to_owned()
    }
}

/// Lesson 00's `lab:run` commands as the lesson file has them, filled in for one student.
fn lesson_commands(student: &Student) -> Vec<String> {
    let text =
        std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("lessons").join(LESSON_FILE)).unwrap();
    let mut commands = Vec::new();
    let mut lines = text.lines();
    while let Some(line) = lines.next() {
        if line.trim() == "```lab:run" {
            let command = lines.next().unwrap();
            commands.push(
                command
                    .replace("{{registry}}", &student.registry())
                    .replace("{{region}}", "ap-south-1")
                    .replace("{{repo}}", "test")
                    .replace("{{tag}}", "v1")
                    .replace("{{sample}}", "sohelqt8797/ec2-neon-pulse:v1"),
            );
        }
    }
    assert_eq!(commands.len(), 6, "lesson 00 has six stages, one lab:run each: {commands:?}");
    commands
}

/// What a student types into `ecr-lab start`: each stage's command (Enter after the reading stage)
/// and an answer to each quiz.
fn lesson_script(student: &Student) -> String {
    let c = lesson_commands(student);
    [&c[0], "", &c[1], "1", &c[2], &c[3], &c[4], &c[5], "1", ""].join("\n") + "\n"
}

pub(crate) fn play_lesson(student: &Student) -> Ran {
    student.ecr_lab(&["start", LESSON], Some(&lesson_script(student)))
}

fn entry<'s>(state: &'s serde_json::Value, name: &str) -> &'s serde_json::Value {
    state["students"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["name"].as_str() == Some(name))
        .unwrap_or_else(|| panic!("{name} is not in the state: {state}"))
}

pub(crate) fn lesson_done(state: &serde_json::Value, name: &str) {
    let student = entry(state, name);
    assert_eq!(student["lesson"], LESSON, "{student}");
    assert_eq!(student["status"], "done", "{student}");
    for stage in 0..6 {
        assert_eq!(student["stages"][format!("{LESSON}/{stage}")], "done", "{name} stage {stage}: {student}");
    }
}

#[test]
fn thirty_students_play_the_quick_start_at_once_each_in_an_account_of_their_own() {
    let (data, instructor) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
    let server = ClassServer::start(data.path(), instructor.path());
    let students: Vec<Student> = std::thread::scope(|scope| {
        let handles: Vec<_> = (0..30)
            .map(|n| {
                let server = &server;
                scope.spawn(move || {
                    let student = Student::join(server, &format!("student-{n:02}"));
                    let ran = play_lesson(&student);
                    assert_eq!(ran.code, 0, "{}: {}{}", student.name, ran.stdout, ran.stderr);
                    assert!(ran.stdout.contains("Lesson complete"), "{}: {}{}", student.name, ran.stdout, ran.stderr);
                    student
                })
            })
            .collect();
        handles.into_iter().map(|h| h.join().unwrap()).collect()
    });
    let accounts: std::collections::BTreeSet<String> = students.iter().map(Student::account).collect();
    assert_eq!(accounts.len(), 30, "every student has an account of their own: {accounts:?}");
    for account in &accounts {
        assert!(account.len() == 12 && account.bytes().all(|b| b.is_ascii_digit()), "{account}");
        assert_ne!(account, "920736617090");
    }
    let state = server.state();
    assert_eq!(state["students"].as_array().unwrap().len(), 30);
    for student in &students {
        lesson_done(&state, &student.name);
        // Their own test:v1, in their own registry.
        let images = student.lab_aws("ecr describe-images --repository-name test");
        assert_eq!(images["imageDetails"][0]["imageTags"][0], "v1", "{images}");
        assert_eq!(images["imageDetails"][0]["registryId"], student.account());
    }
    // The real aws CLI is installed by CI and scripts/test; elsewhere its part is skipped loudly.
    if crate::common::aws_cli_available() {
        cross_account_attempts_are_refused(&server, &students[0], &students[1]);
    }
}

/// `a` tries to list, read, delete and pull `b`'s repositories: the API, the registry and the console
/// all refuse with ECR's texts, and `b`'s image is still there.
fn cross_account_attempts_are_refused(server: &ClassServer, a: &Student, b: &Student) {
    // B makes a repository whose name only B has.
    let ran = b.aws(server, "ecr create-repository --repository-name only-b --output json");
    assert_eq!(ran.code, 0, "{}", ran.stderr);
    let b_account = b.account();
    // The API: A sees only A's repositories, even when naming B's registry.
    let listed = a.aws(server, "ecr describe-repositories --output json");
    assert_eq!(listed.code, 0, "{}", listed.stderr);
    assert!(!listed.stdout.contains("only-b") && !listed.stdout.contains(&b_account), "{}", listed.stdout);
    for (operation, attempt) in [
        ("DescribeImages", format!("ecr describe-images --repository-name only-b --registry-id {b_account}")),
        (
            "BatchDeleteImage",
            format!("ecr batch-delete-image --repository-name test --registry-id {b_account} --image-ids imageTag=v1"),
        ),
        (
            "DeleteRepository",
            format!("ecr delete-repository --repository-name only-b --registry-id {b_account} --force"),
        ),
        ("ListImages", format!("ecr list-images --repository-name test --registry-id {b_account}")),
    ] {
        let ran = a.aws(server, &attempt);
        assert_ne!(ran.code, 0, "{attempt}: {}", ran.stdout);
        let repository = if attempt.contains("only-b") { "only-b" } else { "test" };
        let expected = format!(
            "An error occurred (AccessDeniedException) when calling the {operation} operation: User: arn:aws:iam::{}:user/{} \
             is not authorized to perform: ecr:{operation} on resource: arn:aws:ecr:ap-south-1:{b_account}:repository/{repository}",
            a.account(),
            a.name
        );
        assert!(ran.stderr.contains(&expected), "{attempt}:\n{}\nexpected: {expected}", ran.stderr);
    }
    let still = b.aws(server, "ecr describe-images --repository-name test --output json");
    assert_eq!(still.json()["imageDetails"][0]["imageTags"][0], "v1", "b's image survived a's attempts");
    let still = b.aws(server, "ecr describe-repositories --repository-names only-b --output json");
    assert_eq!(still.code, 0, "b's repository survived a's attempts: {}", still.stderr);

    // The registry: A's token on B's registry host gets ECR's answer to a token for another
    // registry, 400 Bad Request, and docker's login says so in its own words.
    let password = a.registry_password();
    let host = format!("Host: {}", b.registry());
    let (status, body) = curl(
        &format!("{}/v2/test/manifests/v1", server.url),
        "GET",
        None,
        None,
        &["-u", &format!("AWS:{password}"), "-H", &host],
    );
    assert_eq!((status, body.trim()), (400, "Bad Request"));
    let login = format!(
        "aws ecr get-login-password --region ap-south-1 | docker login --username AWS --password-stdin {}\n",
        b.registry()
    );
    let ran = a.ecr_lab(&["shell"], Some(&login));
    assert!(
        ran.stderr
            .contains(&format!("login attempt to https://{}/v2/ failed with status: 400 Bad Request", b.registry())),
        "{}{}",
        ran.stdout,
        ran.stderr
    );
    // skopeo at the bare address: A's token is A's registry, where B's repository does not exist.
    if crate::common::require_tool("skopeo", || Command::new("skopeo").arg("--version").output().is_ok()) {
        let address = server.url.trim_start_matches("http://");
        let output = Command::new("skopeo")
            .args(["inspect", "--tls-verify=false", "--creds", &format!("AWS:{password}")])
            .arg(format!("docker://{address}/only-b:latest"))
            .output()
            .unwrap();
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert!(!output.status.success(), "skopeo reached b's repository");
        assert!(
            stderr.contains(&format!(
                "The repository with name 'only-b' does not exist in the registry with id '{}'",
                a.account()
            )),
            "{stderr}"
        );
    }
    console_shows_only_own_account(server, a, &b_account);
}

/// Signed in to the console with A's key, A sees A's repositories and never B's.
fn console_shows_only_own_account(server: &ClassServer, a: &Student, b_account: &str) {
    let jar = a.home.path().join("console-cookies");
    let jar_s = jar.to_str().unwrap();
    // In class mode the console asks even this machine to sign in.
    let (status, _) = curl(&format!("{}/console/repositories.json", server.url), "GET", None, None, &[]);
    assert!(status == 303 || status == 401 || status == 403, "the console answered {status} without a sign-in");
    let (_, page) = curl(&format!("{}/console/sign-in", server.url), "GET", None, None, &["-c", jar_s, "-b", jar_s]);
    let csrf = page
        .split("name=\"csrf\" value=\"")
        .nth(1)
        .and_then(|rest| rest.split('"').next())
        .unwrap_or_else(|| panic!("no csrf field on the sign-in page: {page}"))
        .to_owned();
    let (key, secret) = a.key();
    let form = format!("csrf={csrf}&accessKeyId={key}&secretAccessKey={secret}");
    let extra =
        ["-c", jar_s, "-b", jar_s, "-H", "Content-Type: application/x-www-form-urlencoded", "--data-binary", &form];
    let (status, body) = curl(&format!("{}/console/sign-in", server.url), "POST", None, None, &extra);
    assert!(status == 303 || status == 200, "sign-in as a student: {status} {body}");
    let (status, json) = curl(&format!("{}/console/repositories.json", server.url), "GET", None, None, &["-b", jar_s]);
    assert_eq!(status, 200, "{json}");
    assert!(json.contains("test"), "{json}");
    assert!(!json.contains("only-b") && !json.contains(b_account), "the console showed b's repositories: {json}");
}

#[test]
fn faults_for_one_student_or_all_and_clear() {
    let (data, instructor) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
    let server = ClassServer::start(data.path(), instructor.path());
    let students: Vec<Student> = ["ana", "bo", "cy"].iter().map(|n| Student::join(&server, n)).collect();
    for student in &students {
        let ran = play_lesson(student);
        assert_eq!(ran.code, 0, "{}{}", ran.stdout, ran.stderr);
    }
    let repository_exists = |s: &Student| {
        let ran = s.ecr_lab(&["shell"], Some("aws ecr describe-repositories --repository-names test\n"));
        ran.code == 0
    };
    // One student: only ana's repository goes.
    let ran = server.ecr_lab(&["fault", "arm", "missing-repo", "--student", "ana", "--endpoint", &server.url]);
    assert_eq!(ran.code, 0, "{}{}", ran.stdout, ran.stderr);
    assert!(ran.stdout.contains("ana"), "{}", ran.stdout);
    assert!(!repository_exists(&students[0]));
    assert!(repository_exists(&students[1]) && repository_exists(&students[2]));
    // Ana meets ECR's own error on her next push.
    let push = format!("docker push {}/test:v1\n", students[0].registry());
    let login = format!(
        "aws ecr get-login-password --region ap-south-1 | docker login --username AWS --password-stdin {}\n",
        students[0].registry()
    );
    let ran = students[0].ecr_lab(&["shell"], Some(&format!("{login}{push}")));
    let said = format!("{}{}", ran.stdout, ran.stderr);
    assert!(
        said.contains(&format!(
            "name unknown: The repository with name 'test' does not exist in the registry with id '{}'",
            students[0].account()
        )),
        "{said}"
    );
    // Everyone.
    let ran = server.ecr_lab(&["fault", "arm", "immutable-overwrite", "--all", "--endpoint", &server.url]);
    assert_eq!(ran.code, 0, "{}{}", ran.stdout, ran.stderr);
    for student in &students[1..] {
        let repositories = student.lab_aws("ecr describe-repositories --repository-names test");
        assert_eq!(repositories["repositories"][0]["imageTagMutability"], "IMMUTABLE");
    }
    let ran = server.ecr_lab(&["fault", "clear", "immutable-overwrite", "--all", "--endpoint", &server.url]);
    assert_eq!(ran.code, 0, "{}{}", ran.stdout, ran.stderr);
    let ran = server.ecr_lab(&["fault", "clear", "missing-repo", "--student", "ana", "--endpoint", &server.url]);
    assert_eq!(ran.code, 0, "{}{}", ran.stdout, ran.stderr);
    assert!(repository_exists(&students[0]), "clear creates ana's repository again");
    for student in &students[1..] {
        let repositories = student.lab_aws("ecr describe-repositories --repository-names test");
        assert_eq!(repositories["repositories"][0]["imageTagMutability"], "MUTABLE");
    }
    // The table shows all three; an unknown student is named.
    let ran = server.ecr_lab(&["class", "students", "--endpoint", &server.url]);
    assert_eq!(ran.code, 0, "{}{}", ran.stdout, ran.stderr);
    for name in ["ana", "bo", "cy"] {
        assert!(ran.stdout.contains(name), "{}", ran.stdout);
    }
    let ran = server.ecr_lab(&["fault", "arm", "missing-repo", "--student", "nobody", "--endpoint", &server.url]);
    assert_ne!(ran.code, 0);
    assert!(ran.stderr.contains("nobody"), "{}", ran.stderr);
}

#[test]
fn kill_9_mid_class_and_restart_keeps_roster_accounts_progress_and_images() {
    let (data, instructor) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
    let mut server = ClassServer::start(data.path(), instructor.path());
    let ana = Student::join(&server, "ana");
    let ran = play_lesson(&ana);
    assert_eq!(ran.code, 0, "{}{}", ran.stdout, ran.stderr);
    let bo = Student::join(&server, "bo");
    // Bo is half way: the first stage only.
    let first = lesson_commands(&bo)[0].clone();
    let ran = bo.ecr_lab(&["start", LESSON], Some(&format!("{first}\n\n")));
    assert_eq!(ran.code, 0, "{}{}", ran.stdout, ran.stderr);
    let before = server.state();
    let port = server.url.rsplit(':').next().unwrap().to_owned();
    server.kill_hard();
    let server = ClassServer::start_on(&server.data.clone(), &server.instructor.clone(), &format!("127.0.0.1:{port}"));
    let after = server.state();
    assert_eq!(after["students"].as_array().unwrap().len(), 2, "{after}");
    for name in ["ana", "bo"] {
        assert_eq!(entry(&after, name)["account"], entry(&before, name)["account"]);
        assert_eq!(entry(&after, name)["stages"], entry(&before, name)["stages"], "{name}'s progress");
    }
    lesson_done(&after, "ana");
    assert_eq!(entry(&after, "bo")["stages"][format!("{LESSON}/0")], "done");
    // Ana's key and image are still hers; joining again from her machine resumes her.
    let images = ana.lab_aws("ecr describe-images --repository-name test");
    assert_eq!(images["imageDetails"][0]["imageTags"][0], "v1");
    let ran = ana.ecr_lab(&["join", &server.url, "--name", "ana"], None);
    assert_eq!(ran.code, 0, "{}{}", ran.stdout, ran.stderr);
    assert!(ran.stdout.contains("welcome back") && ran.stdout.contains(&ana.account()), "{}", ran.stdout);
    // Bo goes on where he was.
    let rest = lesson_script(&bo).splitn(3, '\n').nth(2).unwrap().to_owned();
    let ran = bo.ecr_lab(&["start", LESSON], Some(&rest));
    assert!(ran.stdout.contains("Lesson complete"), "{}{}", ran.stdout, ran.stderr);
    lesson_done(&server.state(), "bo");
}

#[test]
fn bad_input_gets_clear_errors() {
    let (data, instructor) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
    let server = ClassServer::start(data.path(), instructor.path());
    let home = tempfile::tempdir().unwrap();
    for bad in ["ana lopez", "ñandú", &"a".repeat(65), ""] {
        let ran = run(home.path(), &["join", &server.url, "--name", bad], None);
        assert_ne!(ran.code, 0, "join as {bad:?} was accepted");
        assert!(ran.stderr.contains("ana-lopez"), "the error shows an allowed name: {}", ran.stderr);
        assert!(!home.path().join("class.json").exists());
    }
    // A taken name, from another machine, without the secret.
    let ana = Student::join(&server, "ana");
    let ran = run(home.path(), &["join", &server.url, "--name", "ANA"], None);
    assert_ne!(ran.code, 0);
    assert!(
        ran.stderr.contains("is taken in this class") && ran.stderr.contains("ecr-lab class reset"),
        "{}",
        ran.stderr
    );
    // Reset: the name is hers again on another machine, with a new key; the old key is refused.
    let ran = server.ecr_lab(&["class", "reset", "ana", "--endpoint", &server.url]);
    assert_eq!(ran.code, 0, "{}{}", ran.stdout, ran.stderr);
    let command = ran.stdout.lines().map(str::trim).find(|l| l.starts_with("ecr-lab join ")).expect("the join line");
    let words: Vec<&str> = command.split_whitespace().skip(1).collect();
    assert!(words.contains(&"--secret"), "{command}");
    let (old_key, _) = ana.key();
    let ran = run(home.path(), &words, None);
    assert_eq!(ran.code, 0, "join with the reset's secret: {}{}", ran.stdout, ran.stderr);
    let other = Student {
        joined: serde_json::from_slice(&std::fs::read(home.path().join("class.json")).unwrap()).unwrap(),
        home,
        name: "ana".into(),
    };
    let home = tempfile::tempdir().unwrap();
    assert_eq!(other.account(), ana.account(), "ana keeps her account");
    // The machine she joined on before no longer proves who she is.
    let ran = ana.ecr_lab(&["join", &server.url, "--name", "ana"], None);
    assert!(ran.stderr.contains("is taken in this class"), "{}{}", ran.stdout, ran.stderr);
    assert_ne!(other.key().0, old_key);
    let ran = ana.ecr_lab(&["shell"], Some("aws ecr describe-repositories\n"));
    assert_ne!(ran.code, 0, "the old key still works: {}", ran.stdout);
    // Wrong instructor token; a student's secret or key on /_lab/.
    let (status, body) = server.curl("GET", "/class/api/state", Some("not-the-token"), None);
    assert_eq!(status, 401, "{body}");
    assert!(body.contains("error"), "{body}");
    let secret = other.joined["studentSecret"].as_str().unwrap();
    for token in [secret, other.key().1.as_str()] {
        let (status, _) = server.curl("GET", "/_lab/keys", Some(token), None);
        assert!(status == 401 || status == 403, "a student reached /_lab/ ({status})");
    }
    let ran = run(home.path(), &["keys", "list", "--endpoint", &server.url], None);
    assert_ne!(ran.code, 0, "a machine without the token listed the keys");
    let ran = server.ecr_lab(&["keys", "list", "--endpoint", &server.url]);
    assert_eq!(ran.code, 0, "the instructor's machine sends the recorded token: {}", ran.stderr);
    // A join flood from one address: refused with 429 and Retry-After, and the server still answers.
    let mut refused = 0;
    for n in 0..60 {
        let (status, _) = server.curl("POST", "/class/api/join", None, Some(&format!("{{\"name\":\"flood-{n}\"}}")));
        if status == 429 {
            refused += 1;
        }
    }
    assert!(refused > 0, "60 joins at once were all accepted");
    assert_eq!(server.state()["className"], "Test class");
    // Removing: gone from the roster, key revoked.
    let ran = server.ecr_lab(&["class", "remove", "ana", "--endpoint", &server.url]);
    assert_eq!(ran.code, 0, "{}{}", ran.stdout, ran.stderr);
    assert!(server.state()["students"].as_array().unwrap().iter().all(|s| s["name"] != "ana"));
    let ran = other.ecr_lab(&["shell"], Some("aws ecr describe-repositories\n"));
    assert_ne!(ran.code, 0, "a removed student's key still works: {}", ran.stdout);
    // A name that is not a student's is refused before it reaches a URL.
    let ran = server.ecr_lab(&["class", "reset", "../_lab/keys", "--endpoint", &server.url]);
    assert_ne!(ran.code, 0);
    assert!(ran.stderr.contains("not a student name"), "{}", ran.stderr);
}

#[test]
fn the_instructor_token_file_is_private_and_env_prints_the_students_keys() {
    let (data, instructor) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
    let server = ClassServer::start(data.path(), instructor.path());
    let written = std::fs::read_to_string(data.path().join("instructor-token")).unwrap();
    assert_eq!(written.trim(), server.token);
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt as _;
        let mode = std::fs::metadata(data.path().join("instructor-token")).unwrap().permissions().mode();
        assert_eq!(mode & 0o777, 0o600);
    }
    let ana = Student::join(&server, "ana");
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt as _;
        let mode = std::fs::metadata(ana.home.path().join("class.json")).unwrap().permissions().mode();
        assert_eq!(mode & 0o777, 0o600);
    }
    let ran = ana.ecr_lab(&["env"], None);
    let (key, secret) = ana.key();
    assert!(ran.stdout.contains(&format!("export AWS_ACCESS_KEY_ID={key}")), "{}", ran.stdout);
    assert!(ran.stdout.contains(&format!("export AWS_SECRET_ACCESS_KEY={secret}")));
    assert!(ran.stdout.contains(&format!("export AWS_ENDPOINT_URL={}", server.url)));
    // The lab shell acts as her: sts names her account and user.
    let ran = ana.ecr_lab(&["shell"], Some("aws sts get-caller-identity --output json\n"));
    assert!(ran.stdout.contains(&format!("arn:aws:iam::{}:user/ana", ana.account())), "{}{}", ran.stdout, ran.stderr);
    // Her progress reaches the dashboard: a stage started and a failed check with its words.
    let ran = ana.ecr_lab(&["start", LESSON], Some("\ncheck\n"));
    assert_eq!(ran.code, 0, "{}{}", ran.stdout, ran.stderr);
    let me = entry(&server.state(), "ana").clone();
    assert_eq!(me["stage"], 1, "{me}");
    assert_eq!(me["checksFailed"], 1, "{me}");
    // Leaving forgets the class; the lab is solo again.
    let ran = ana.ecr_lab(&["class", "leave"], None);
    assert_eq!(ran.code, 0);
    assert!(!ana.home.path().join("class.json").exists());
}
