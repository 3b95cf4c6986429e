//! The lab shell: the guide's commands (`aws ecr ...`, `docker ...`) built in, with pipes, variables
//! and `$?`, talking over HTTP to the mock (its own, in-process, or a running `ecr-lab serve`).
//! Interactive with line editing and history on a terminal; otherwise it reads commands line by line,
//! echoing each after a prompt, and exits with the last command's status.

mod aws;
mod aws_json;
mod aws_table;
mod aws_yaml;
mod coreutils;
mod docker;
pub mod engine;
mod iam;
pub mod parse;
mod signing;

use std::collections::BTreeMap;
use std::io::Write as _;
use std::path::{Path, PathBuf};

use anyhow::{Context as _, Result};
use mock_registry::Lab;

use crate::backend::{BackendKind, EcrBackend};
use crate::images::ImageStore;
use crate::registry_client::RegistryClient;
use parse::{Join, Piece, Redirect, SimpleCommand, Word};

pub const PROMPT: &str = "lab$ ";

/// What a command reads and writes.
pub struct Io {
    pub stdin: Vec<u8>,
    pub out: Vec<u8>,
    pub err: Vec<u8>,
    /// Whether what the command writes goes to a terminal (docker then updates progress lines in place).
    pub tty: bool,
    /// Where each `eprintln` fell among the stdout bytes: (stdout length, stderr length) just after
    /// it. Shown on one screen, stdout and stderr then keep the order they were written in, so an
    /// error printed after docker's progress lines comes after them (and their in-place rewrites
    /// cannot move the cursor over it).
    err_marks: Vec<(usize, usize)>,
}

impl Io {
    fn new(stdin: Vec<u8>, tty: bool) -> Self {
        Self { stdin, out: Vec::new(), err: Vec::new(), tty, err_marks: Vec::new() }
    }
    pub fn println(&mut self, line: impl AsRef<str>) {
        self.out.extend_from_slice(line.as_ref().as_bytes());
        self.out.push(b'\n');
    }
    pub fn eprintln(&mut self, line: impl AsRef<str>) {
        self.err.extend_from_slice(line.as_ref().as_bytes());
        self.err.push(b'\n');
        self.err_marks.push((self.out.len(), self.err.len()));
    }

    /// Writes what the command printed, stdout and stderr interleaved in the order they were
    /// written (what a redirection took away is skipped; stderr written without `eprintln` comes last).
    fn write_in_order(&self, stdout: &mut dyn std::io::Write, stderr: &mut dyn std::io::Write) {
        let (mut out_at, mut err_at) = (0, 0);
        for &(out_len, err_len) in &self.err_marks {
            let (out_len, err_len) = (out_len.min(self.out.len()), err_len.min(self.err.len()));
            if out_len > out_at {
                let _ = stdout.write_all(&self.out[out_at..out_len]);
                let _ = stdout.flush();
                out_at = out_len;
            }
            if err_len > err_at {
                let _ = stderr.write_all(&self.err[err_at..err_len]);
                let _ = stderr.flush();
                err_at = err_len;
            }
        }
        let _ = stdout.write_all(&self.out[out_at..]);
        let _ = stdout.flush();
        let _ = stderr.write_all(&self.err[err_at..]);
    }
}

/// Where a command's stdout or stderr goes after its redirections.
#[derive(Clone)]
enum Sink {
    Stdout,
    Stderr,
    File(String),
}

/// What a shell runs against.
pub enum Backing {
    /// A running mock at this URL, or (`None`) a mock of the shell's own.
    Mock(Option<String>),
    /// Real AWS; what the shell creates is tagged with `run` and recorded in `records` first.
    Aws { backend: Box<EcrBackend>, run: String, records: PathBuf },
}

/// On real AWS: the run id that tags what the shell creates, and the file that records it.
pub struct Created {
    pub run: String,
    pub records: PathBuf,
}

/// One shell: its variables, its lab files, and the backend it talks to.
pub struct Session {
    /// The mock (its URL) or real AWS (the caller's account and region).
    pub backend: EcrBackend,
    /// On real AWS, how what the shell creates is marked as the lab's.
    pub created: Option<Created>,
    /// Where this shell keeps docker's config, the aws profile and local images.
    pub home: PathBuf,
    pub vars: BTreeMap<String, String>,
    pub last_status: i32,
    pub images: ImageStore,
    pub registry: RegistryClient,
    /// Set by `exit`.
    pub exit: Option<i32>,
    /// Whether the shell's own output is a terminal.
    pub stdout_is_terminal: bool,
    /// Whether `docker` runs on a real Docker engine (see `engine`) instead of the built-in client.
    pub docker_engine: bool,
    /// Whether the engine has been given the sample images (once per shell).
    pub engine_has_samples: bool,
    /// The in-process mock, when this shell runs its own (see [`Session::close`]).
    mock: Option<mock_registry::Running>,
}

impl Session {
    /// A shell on `data_dir`, talking to `endpoint`, or to a mock of its own kept in `data_dir/mock`.
    pub async fn start(data_dir: &Path, endpoint: Option<String>) -> Result<Self> {
        Self::start_on(data_dir, Backing::Mock(endpoint)).await
    }

    /// A shell on `data_dir` against the mock or real AWS.
    pub async fn start_on(data_dir: &Path, backing: Backing) -> Result<Self> {
        // 0700 when created here; the credentials, docker config and journal below are private anyway.
        crate::paths::private_dir(data_dir).with_context(|| format!("creating {}", data_dir.display()))?;
        let (backend, created, mock) = match backing {
            Backing::Aws { backend, run, records } => (*backend, Some(Created { run, records }), None),
            Backing::Mock(Some(url)) => match crate::class::student_at(&url) {
                Some(student) => (EcrBackend::student(&url, student), None, None),
                None => (EcrBackend::mock(&url), None, None),
            },
            Backing::Mock(None) => {
                // The shell's own mock: its journal holds the lab's secrets (older versions made it 0755).
                crate::paths::lab_dir(&data_dir.join("mock"))
                    .with_context(|| format!("creating {}", data_dir.join("mock").display()))?;
                let lab = Lab::open(&data_dir.join("mock"))
                    .with_context(|| format!("opening the lab's mock in {}", data_dir.join("mock").display()))?;
                crate::upstream::seed(&lab);
                let mock = mock_registry::spawn(lab).await?;
                (EcrBackend::mock(&mock.url), None, Some(mock))
            }
        };
        let images = ImageStore::open(&data_dir.join("images")).context("opening the local image store")?;
        let mut vars = BTreeMap::new();
        vars.insert("HOME".to_owned(), data_dir.display().to_string());
        // The guide's values, so nobody types a 12-digit account by hand: `docker tag IMAGE $REGISTRY/test:v1`.
        vars.insert("ACCOUNT".to_owned(), backend.account.clone());
        vars.insert("REGION".to_owned(), backend.region.clone());
        vars.insert("REGISTRY".to_owned(), backend.registry_host());
        if let Some(endpoint) = backend.mock_endpoint() {
            vars.insert("ECR_LAB_ENDPOINT".to_owned(), endpoint.to_owned());
        }
        // `AWS_LAB_CLI_VERSION=1 ecr-lab shell`: the built-in aws speaks CLI v1 (v2 otherwise).
        if let Ok(version) = std::env::var("AWS_LAB_CLI_VERSION") {
            vars.insert("AWS_LAB_CLI_VERSION".to_owned(), version);
        }
        let docker_engine = engine::wanted(&backend);
        Ok(Self {
            docker_engine,
            engine_has_samples: false,
            registry: backend.registry_client(),
            backend,
            created,
            home: data_dir.to_path_buf(),
            vars,
            last_status: 0,
            images,
            exit: None,
            stdout_is_terminal: std::io::IsTerminal::is_terminal(&std::io::stdout()),
            mock,
        })
    }

    /// Ends the session: its own mock stops and its journal is closed (cut to its records and
    /// unlocked, so the next lesson or shell opens the same directory). Dropping a session stops
    /// the mock without waiting, which leaves that to the process's exit.
    pub async fn close(mut self) {
        if let Some(mock) = self.mock.take()
            && let Err(e) = mock.close().await
        {
            tracing::warn!("stopping the lab shell's mock: {e}");
        }
    }

    /// Runs one input line; returns its status (also kept as `$?`).
    pub async fn run_line(
        &mut self,
        line: &str,
        stdout: &mut dyn std::io::Write,
        stderr: &mut dyn std::io::Write,
    ) -> i32 {
        let pipelines = match parse::parse(line) {
            Ok(pipelines) => pipelines,
            Err(error) => {
                let _ = writeln!(stderr, "lab: {}", error.0);
                self.last_status = 2;
                return 2;
            }
        };
        let mut status = self.last_status;
        let mut run_next = true;
        for pipeline in pipelines {
            if run_next {
                status = self.run_pipeline(&pipeline.commands, stdout, stderr).await;
                self.last_status = status;
                if self.exit.is_some() {
                    break;
                }
            }
            run_next = match pipeline.then {
                Join::Always => true,
                Join::And => status == 0,
                Join::Or => status != 0,
            };
        }
        status
    }

    async fn run_pipeline(
        &mut self,
        commands: &[SimpleCommand],
        stdout: &mut dyn std::io::Write,
        stderr: &mut dyn std::io::Write,
    ) -> i32 {
        let mut input = Vec::new();
        let mut status = 0;
        for (n, command) in commands.iter().enumerate() {
            let last = n + 1 == commands.len();
            let redirected =
                command.redirects.iter().any(|(kind, _)| !matches!(kind, Redirect::Err | Redirect::ErrAppend));
            let tty = last && !redirected && self.stdout_is_terminal;
            let mut io = Io::new(std::mem::take(&mut input), tty);
            status = self.run_command(command, &mut io).await;
            if let Err(message) = self.redirect(command, &mut io).await {
                io.err.extend_from_slice(message.as_bytes());
                status = 1;
            }
            if last {
                io.write_in_order(stdout, stderr);
            } else {
                let _ = stderr.write_all(&io.err);
                input = io.out;
            }
        }
        let _ = stdout.flush();
        let _ = stderr.flush();
        status
    }

    /// Applies a command's redirections to what it wrote, as bash does: left to right, each one
    /// pointing stdout or stderr somewhere, `2>&1` at wherever stdout points *then* (so
    /// `> /dev/null 2>&1` silences both, and `2>&1 > FILE` keeps stderr on the screen). A file is
    /// created (or emptied, for `>`) when its redirection is met, as bash opens it.
    async fn redirect(&mut self, command: &SimpleCommand, io: &mut Io) -> Result<(), String> {
        if command.redirects.is_empty() {
            return Ok(());
        }
        let (mut stdout_to, mut stderr_to) = (Sink::Stdout, Sink::Stderr);
        for (kind, target) in &command.redirects {
            let path = match target {
                Some(word) => {
                    let word = self.expand(word).await;
                    coreutils::tilde(self, &word)
                }
                None => String::new(),
            };
            let append = matches!(kind, Redirect::Append | Redirect::ErrAppend);
            if !matches!(kind, Redirect::ErrToOut) && path != "/dev/null" {
                std::fs::OpenOptions::new()
                    .create(true)
                    .append(true)
                    .truncate(false)
                    .open(&path)
                    .and_then(|file| if append { Ok(()) } else { file.set_len(0) })
                    .map_err(|e| format!("lab: {path}: {e}\n"))?;
            }
            match kind {
                Redirect::ErrToOut => stderr_to = stdout_to.clone(),
                Redirect::Out | Redirect::Append => stdout_to = Sink::File(path),
                Redirect::Err | Redirect::ErrAppend => stderr_to = Sink::File(path),
                Redirect::Both => {
                    stdout_to = Sink::File(path.clone());
                    stderr_to = Sink::File(path);
                }
            }
        }
        let (out, err) = (std::mem::take(&mut io.out), std::mem::take(&mut io.err));
        for (sink, data) in [(stdout_to, out), (stderr_to, err)] {
            match sink {
                Sink::Stdout => io.out.extend_from_slice(&data),
                Sink::Stderr => io.err.extend_from_slice(&data),
                Sink::File(path) if path == "/dev/null" => {}
                Sink::File(path) => std::fs::OpenOptions::new()
                    .append(true)
                    .open(&path)
                    .and_then(|mut file| file.write_all(&data))
                    .map_err(|e| format!("lab: {path}: {e}\n"))?,
            }
        }
        Ok(())
    }

    async fn expand(&mut self, word: &Word) -> String {
        let mut text = String::new();
        for piece in word {
            match piece {
                Piece::Text(t) => text.push_str(t),
                Piece::Var(name) if name == "?" => text.push_str(&self.last_status.to_string()),
                Piece::Var(name) => text.push_str(self.vars.get(name).map(String::as_str).unwrap_or_default()),
                Piece::Command(line) => {
                    let (mut out, mut err) = (Vec::new(), Vec::new());
                    let saved = self.last_status;
                    Box::pin(self.run_line(line, &mut out, &mut err)).await;
                    self.last_status = saved;
                    let _ = std::io::stderr().write_all(&err);
                    text.push_str(String::from_utf8_lossy(&out).trim_end_matches('\n'));
                }
            }
        }
        text
    }

    async fn run_command(&mut self, command: &SimpleCommand, io: &mut Io) -> i32 {
        let mut args = Vec::with_capacity(command.words.len());
        for word in &command.words {
            args.push(self.expand(word).await);
        }
        let mut assignments = Vec::new();
        for (name, value) in &command.assignments {
            assignments.push((name.clone(), self.expand(value).await));
        }
        if args.is_empty() {
            // `NAME=value` alone sets a shell variable.
            self.vars.extend(assignments);
            return 0;
        }
        // `NAME=value command` applies to that command only.
        let saved: Vec<(String, Option<String>)> =
            assignments.iter().map(|(n, _)| (n.clone(), self.vars.get(n).cloned())).collect();
        self.vars.extend(assignments);
        let status = self.dispatch(&args, io).await;
        for (name, value) in saved {
            match value {
                Some(v) => self.vars.insert(name, v),
                None => self.vars.remove(&name),
            };
        }
        status
    }

    async fn dispatch(&mut self, args: &[String], io: &mut Io) -> i32 {
        match args[0].as_str() {
            "aws" => aws::run(self, &args[1..], io).await,
            "docker" if self.docker_engine => engine::run(self, &args[1..], io).await,
            "docker" => docker::run(self, &args[1..], io).await,
            "echo" => {
                let (newline, words) = match args.get(1).map(String::as_str) {
                    Some("-n") => (false, &args[2..]),
                    _ => (true, &args[1..]),
                };
                io.out.extend_from_slice(words.join(" ").as_bytes());
                if newline {
                    io.out.push(b'\n');
                }
                0
            }
            "cat" => coreutils::cat(self, &args[1..], io),
            "ls" => coreutils::ls(self, &args[1..], io),
            "grep" => coreutils::grep(self, &args[1..], io),
            "env" if args.len() == 1 => coreutils::env(self, io),
            "pwd" => coreutils::pwd(self, io),
            "export" => {
                for arg in &args[1..] {
                    match arg.split_once('=') {
                        Some((name, value)) => self.vars.insert(name.to_owned(), value.to_owned()),
                        None => continue,
                    };
                }
                0
            }
            "unset" => {
                for arg in &args[1..] {
                    self.vars.remove(arg);
                }
                0
            }
            "eval" => {
                // `eval "$(aws configure export-credentials --format env)"`: each line run as typed.
                let text = args[1..].join(" ");
                let mut status = 0;
                for line in text.lines().filter(|l| !l.trim().is_empty()) {
                    status = Box::pin(self.run_line(line, &mut io.out, &mut io.err)).await;
                }
                status
            }
            "sha256sum" => sha256sum(&args[1..], io),
            "base64" => base64_command(&args[1..], io),
            "ecr-lab" if matches!(args.get(1).map(String::as_str), Some("keygen" | "sign" | "verify-signature")) => {
                signing::run(self, &args[1], &args[2..], io).await
            }
            "ecr-lab" => self.lab_command(&args[1..], io).await,
            "keygen" | "sign" | "verify-signature" => signing::run(self, &args[0].clone(), &args[1..], io).await,
            "true" => 0,
            "false" => 1,
            "clear" => {
                io.out.extend_from_slice(b"\x1b[H\x1b[2J");
                0
            }
            "exit" => {
                let code = match args.get(1) {
                    Some(code) => code.parse().unwrap_or(2),
                    None => self.last_status,
                };
                self.exit = Some(code);
                code
            }
            "help" => {
                io.out.extend_from_slice(HELP.as_bytes());
                0
            }
            other => {
                io.eprintln(format!("lab: {other}: command not found (try `help`)"));
                127
            }
        }
    }

    /// `ecr-lab clock advance DURATION` / `ecr-lab clock show` on this shell's mock.
    async fn lab_command(&mut self, args: &[String], io: &mut Io) -> i32 {
        let words: Vec<&str> = args.iter().map(String::as_str).collect();
        match words.as_slice() {
            ["credential-helper", "configure", registry] => return docker::configure_helper(self, registry, false, io),
            ["credential-helper", "configure", "--remove", registry] => {
                return docker::configure_helper(self, registry, true, io);
            }
            ["iam", ..] => return iam::run(self, &args[1..], io).await,
            _ => {}
        }
        let Some(endpoint) = self.backend.mock_endpoint().map(str::to_owned) else {
            io.eprintln("lab: the lab clock belongs to the mock; on real AWS time passes as it does");
            return 1;
        };
        let result = match words.as_slice() {
            ["clock", "advance", duration] => {
                crate::control_client::advance_clock(&endpoint, duration).await.map(|c| format!("lab clock is now {c}"))
            }
            ["clock", "show"] => crate::control_client::clock(&endpoint).await.map(|c| format!("lab clock is {c}")),
            ["oidc", "token", rest @ ..] => crate::iam::oidc_token(&endpoint, rest).await,
            _ => {
                io.eprintln(
                    "lab: inside the shell, `ecr-lab` knows `clock advance DURATION`, `clock show`, `oidc token --sub SUBJECT [--aud AUDIENCE] [--expires-in DURATION]`, `credential-helper configure REGISTRY`, `iam ...`, `keygen`, `sign` and `verify-signature`",
                );
                return 2;
            }
        };
        match result {
            Ok(line) => {
                io.println(line);
                0
            }
            Err(error) => {
                io.eprintln(format!("ecr-lab: {error:#}"));
                1
            }
        }
    }

    /// Whether the shell's docker holds a login for `host`.
    pub fn docker_logged_in(&self, host: &str) -> bool {
        docker::credentials(self, host).is_some() || docker::helper_for(self, host).is_some()
    }

    /// How the shell's docker logs in to `host`: a credential helper, a stored password, or not at all.
    pub fn docker_login(&self, host: &str) -> crate::credential_helper::Login {
        docker::login_kind(self, host)
    }

    /// A shell variable, if set and not empty.
    pub fn var(&self, name: &str) -> Option<String> {
        self.vars.get(name).cloned().filter(|v| !v.is_empty())
    }
}

/// `sha256sum [FILE...]`: coreutils' output, `HASH  NAME` (`-` for standard input).
fn sha256sum(args: &[String], io: &mut Io) -> i32 {
    if args.iter().any(|a| a.starts_with('-') && a != "-") {
        io.eprintln("lab: sha256sum: the lab's sha256sum takes files or standard input, no options");
        return 1;
    }
    if args.is_empty() || args == ["-"] {
        io.println(format!("{}  -", hex(&io.stdin)));
        return 0;
    }
    let mut status = 0;
    for path in args {
        match std::fs::read(path) {
            Ok(bytes) => io.println(format!("{}  {path}", hex(&bytes))),
            Err(e) => {
                io.eprintln(format!("sha256sum: {path}: {}", io_error_text(&e)));
                status = 1;
            }
        }
    }
    status
}

/// The sha256 of the bytes in hex.
fn hex(bytes: &[u8]) -> String {
    let digest = mock_registry::types::Digest::sha256_of(bytes).to_string();
    digest.trim_start_matches("sha256:").to_owned()
}

fn io_error_text(e: &std::io::Error) -> &'static str {
    match e.kind() {
        std::io::ErrorKind::NotFound => "No such file or directory",
        std::io::ErrorKind::PermissionDenied => "Permission denied",
        _ => "Input/output error",
    }
}

/// `base64 [-d]` of standard input, as coreutils prints it (76-column lines when encoding).
fn base64_command(args: &[String], io: &mut Io) -> i32 {
    use base64::Engine as _;
    let engine = base64::engine::general_purpose::STANDARD;
    match args.iter().map(String::as_str).collect::<Vec<_>>().as_slice() {
        ["-d"] | ["--decode"] => {
            let text: Vec<u8> = io.stdin.iter().copied().filter(|b| !b.is_ascii_whitespace()).collect();
            match engine.decode(&text) {
                Ok(bytes) => {
                    io.out.extend_from_slice(&bytes);
                    0
                }
                Err(_) => {
                    io.eprintln("base64: invalid input");
                    1
                }
            }
        }
        [] => {
            let encoded = engine.encode(&io.stdin);
            for chunk in encoded.as_bytes().chunks(76) {
                io.out.extend_from_slice(chunk);
                io.out.push(b'\n');
            }
            0
        }
        _ => {
            io.eprintln("lab: base64: the lab's base64 encodes standard input, or decodes it with -d");
            1
        }
    }
}

pub const HELP: &str = "\
The lab shell runs the guide's commands against the lab's mock of Amazon ECR:

  aws ecr <operation> [--options]    every ECR operation the mock supports, e.g.
                                     aws ecr create-repository --repository-name test --region ap-south-1
  aws ecr get-login-password         the registry password (pipe it into docker login)
  aws sts get-caller-identity        who you are
  aws configure [set|get|list|export-credentials] [--profile P]
                                     the lab's aws profiles; a profile with role_arn and
                                     source_profile (or web_identity_token_file) assumes the role
  docker login|logout|tag|push|pull|images|image ls|rmi|inspect
  ecr-lab clock advance 13h          move the lab clock (registry logins expire after 12 hours)
  ecr-lab credential-helper configure [--remove] REGISTRY
                                     docker asks the lab's credential helper: no password stored
  ecr-lab iam create-user NAME --policy file://P.json | put-user-policy | delete-user-policy | list-users
                                     IAM users on the mock (each saved as aws profile NAME:
                                     AWS_PROFILE=NAME aws ..., or aws ... --profile NAME)
  keygen, sign IMAGE --key cosign.key, verify-signature IMAGE --key cosign.pub
                                     cosign-compatible signing (passphrase: $COSIGN_PASSWORD)
  echo, cat, ls, grep [-i -v -c], env, pwd, sha256sum, base64 [-d], export NAME=value, unset, eval,
  $NAME, $?, $(command), |, &&, ||, ;, clear, help, exit
  $ACCOUNT, $REGION, $REGISTRY       the lab's account, region and registry host (~ is the lab's home)

The guide's registry host 920736617090.dkr.ecr.ap-south-1.amazonaws.com reaches the mock here.
The sample image sohelqt8797/ec2-neon-pulse:v1 is already in `docker images`.
";

/// Runs the shell: a prompt on a terminal, or line by line from a pipe or file.
pub async fn run(data_dir: &Path, backing: Backing) -> Result<i32> {
    let mut session = Session::start_on(data_dir, backing).await?;
    let status = if std::io::IsTerminal::is_terminal(&std::io::stdin()) {
        interactive(&mut session).await
    } else {
        scripted(&mut session).await
    };
    session.close().await;
    status
}

async fn scripted(session: &mut Session) -> Result<i32> {
    use std::io::BufRead as _;
    let stdin = std::io::stdin();
    let mut status = 0;
    for line in stdin.lock().lines() {
        let line = line?;
        let mut stdout = std::io::stdout();
        writeln!(stdout, "{PROMPT}{line}")?;
        stdout.flush()?;
        if line.trim().is_empty() {
            continue;
        }
        status = session.run_line(&line, &mut std::io::stdout(), &mut std::io::stderr()).await;
        if let Some(code) = session.exit {
            return Ok(code);
        }
    }
    Ok(status)
}

async fn interactive(session: &mut Session) -> Result<i32> {
    let history = session.home.join("history");
    let mut editor = line_editor(&[])?;
    let _ = editor.load_history(&history);
    match (session.backend.kind, session.backend.mock_endpoint()) {
        (BackendKind::Mock, Some(endpoint)) => {
            println!("ecr-lab shell: the guide's aws and docker commands, against the lab's mock at {endpoint}")
        }
        _ => println!(
            "ecr-lab shell: the guide's aws and docker commands, against REAL AWS: account {} ({}), region {}; registry {}",
            session.backend.account,
            session.backend.principal,
            session.backend.region,
            session.backend.registry_host()
        ),
    }
    println!("Type `help` for what works here, `exit` to leave.");
    loop {
        let line = match editor.readline(PROMPT) {
            Ok(line) => line,
            Err(rustyline::error::ReadlineError::Interrupted) => continue,
            Err(rustyline::error::ReadlineError::Eof) => break,
            Err(e) => return Err(e.into()),
        };
        if line.trim().is_empty() {
            continue;
        }
        let _ = editor.add_history_entry(line.as_str());
        session.run_line(&line, &mut std::io::stdout(), &mut std::io::stderr()).await;
        if let Some(code) = session.exit {
            let _ = editor.save_history(&history);
            return Ok(code);
        }
    }
    let _ = editor.save_history(&history);
    Ok(session.last_status)
}

/// The line editor of `ecr-lab shell` and of a lesson's stages: history and Tab completion.
pub type LineEditor = rustyline::Editor<Completer, rustyline::history::DefaultHistory>;

/// A [`LineEditor`] that also completes `extra` first words (a lesson's `check`, `hint`, ...).
pub fn line_editor(extra: &'static [&'static str]) -> rustyline::Result<LineEditor> {
    let mut editor = LineEditor::new()?;
    editor.set_helper(Some(Completer { extra }));
    Ok(editor)
}

/// Completes commands, `aws ecr` and `aws sts` operations and `aws ecr` flags, docker subcommands.
#[derive(rustyline::Helper, rustyline::Hinter, rustyline::Highlighter, rustyline::Validator)]
pub struct Completer {
    extra: &'static [&'static str],
}

impl rustyline::completion::Completer for Completer {
    type Candidate = String;

    fn complete(&self, line: &str, pos: usize, _: &rustyline::Context<'_>) -> rustyline::Result<(usize, Vec<String>)> {
        let before = &line[..pos];
        let start = before.rfind(' ').map_or(0, |i| i + 1);
        let partial = &before[start..];
        let words: Vec<&str> = before[..start].split_whitespace().collect();
        let choices: Vec<String> = match words.as_slice() {
            [] => [
                "aws",
                "docker",
                "echo",
                "cat",
                "ls",
                "grep",
                "env",
                "export",
                "help",
                "clear",
                "exit",
                "keygen",
                "sign",
                "verify-signature",
                "ecr-lab",
                "eval",
            ]
            .iter()
            .chain(self.extra)
            .map(|s| s.to_string())
            .collect(),
            ["aws"] => ["ecr", "sts", "configure", "--version"].iter().map(|s| s.to_string()).collect(),
            ["aws", "ecr"] => aws::operation_names().map(str::to_owned).collect(),
            ["aws", "sts"] => ["get-caller-identity", "assume-role", "assume-role-with-web-identity"]
                .iter()
                .map(|s| s.to_string())
                .collect(),
            ["aws", "ecr", operation, ..] => aws::flags_of(operation).map(str::to_owned).collect(),
            ["docker"] => docker::SUBCOMMANDS.iter().map(|s| s.to_string()).collect(),
            _ => Vec::new(),
        };
        // Each with a space after it, as bash completes a whole word (common prefixes stop before it).
        Ok((start, choices.into_iter().filter(|c| c.starts_with(partial)).map(|c| c + " ").collect()))
    }
}
