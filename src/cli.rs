//! The command line: clap definitions only. `main` decides what each command does.

use std::net::SocketAddr;
use std::path::PathBuf;

use clap::{Args, Parser, Subcommand};

use crate::backend::BackendKind;

#[derive(Parser, Debug)]
#[command(
    name = "ecr-lab",
    version,
    about = "A hands-on lab for Amazon ECR, with a bundled mock of ECR that works offline",
    long_about = "A hands-on lab for Amazon ECR: create a repository, log docker in, tag, push, verify, and practise \
                  the errors the seminar guide documents. `ecr-lab serve` runs the bundled mock of ECR (the ECR API, \
                  STS and the registry on one port) for the real aws CLI, the AWS SDKs, docker and skopeo."
)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Option<Command>,
}

#[derive(Subcommand, Debug)]
pub enum Command {
    /// Run the mock of ECR as a server for real tools (aws CLI, SDKs, docker, skopeo).
    ///
    /// Prints `ecr-lab mock listening on http://ADDR` once it accepts requests, then how to point
    /// the aws CLI at it. State is kept in the data directory, so a demo survives a restart.
    Serve {
        /// Address to listen on; port 0 picks a free port.
        #[arg(long, default_value = "127.0.0.1:5000")]
        addr: SocketAddr,
        /// Where the mock keeps its state [default: the user's data directory, ecr-lab/mock].
        #[arg(long, conflicts_with = "ephemeral")]
        data_dir: Option<PathBuf>,
        /// Keep state in memory only; it is gone when the server stops.
        #[arg(long)]
        ephemeral: bool,
    },
    /// Repair a mock data directory whose journal is damaged (the server refuses to open it).
    ///
    /// Shows the first damaged record and what cutting it would lose, asks, copies the journal
    /// to journal.log.damaged-<time> next to it, then cuts from the damaged record to the end.
    Repair {
        /// The data directory `ecr-lab serve` refused [default: the user's data directory, ecr-lab/mock].
        #[arg(long)]
        data_dir: Option<PathBuf>,
        /// Cut without asking.
        #[arg(long)]
        yes: bool,
    },
    /// Print `export` lines that point the aws CLI and AWS SDKs at a running mock.
    ///
    /// Use it as: eval "$(ecr-lab env)"
    Env {
        /// The mock's URL [default: the last `ecr-lab serve` started on this machine].
        #[arg(long)]
        endpoint: Option<String>,
    },
    /// The guide's sample image, sohelqt8797/ec2-neon-pulse:v1, built by ecr-lab (no download).
    ///
    /// Without options, prints its reference, digest and layers. The image is the same byte for
    /// byte on every machine, so its digest is too.
    SampleImage {
        /// Hand it to a real Docker engine (`docker load`), so `docker tag` and `docker push` can use it.
        #[arg(long)]
        load: bool,
        /// Write it as a `docker save` archive to FILE (for `docker load -i FILE`).
        #[arg(long, value_name = "FILE")]
        output: Option<PathBuf>,
    },
    /// Run a lesson interactively (resumes where you left off).
    ///
    /// Each stage shows its goal and commands, then opens the lab shell; the stage's checks run after
    /// every command and the stage advances by itself when they pass. Type `?` for hints, the
    /// solution, skipping and quitting.
    Start {
        /// A lesson id or file name (default: the first unfinished lesson).
        lesson: Option<String>,
        /// Run lessons from this folder instead of the bundled course.
        #[arg(long)]
        lessons: Option<PathBuf>,
        /// Start the lesson over.
        #[arg(long)]
        restart: bool,
        /// Use a running `ecr-lab serve` instead of the lab's own mock.
        #[arg(long)]
        endpoint: Option<String>,
        /// Where the lab keeps its state [default: the user's data directory, ecr-lab/shell].
        #[arg(long)]
        data_dir: Option<PathBuf>,
        /// `builtin`: work in the lab shell; `real`: work in your own terminal with the real aws and
        /// docker against `ecr-lab serve` while this window watches the checks.
        #[arg(long, default_value = "builtin", value_parser = ["builtin", "real"])]
        tools: String,
        #[command(flatten)]
        backend: BackendArgs,
        /// With --backend aws, do not ask before touching the account (the checks still run).
        #[arg(long)]
        yes: bool,
        /// Instructor view: print each stage of the lesson (all lessons when none is named) with its
        /// goal, the fault it arranges and its `lab:notes`, and exit without playing.
        #[arg(long)]
        notes: bool,
    },
    /// Per lesson, what the learner practises (stages the lab checks, and what the checks prove)
    /// against what is only told (stages with no check), as markdown tables.
    Coverage {
        /// Report on the lessons in this folder instead of the bundled course.
        #[arg(long)]
        lessons: Option<PathBuf>,
        /// Lesson ids or files [default: all].
        names: Vec<String>,
    },
    /// List the lessons with your progress.
    List {
        #[arg(long)]
        lessons: Option<PathBuf>,
    },
    /// Check lesson files: every problem as `path:line:col: LABnnn message`, exit 1 if any.
    Lint {
        /// Lesson files or folders [default: the bundled course].
        paths: Vec<PathBuf>,
    },
    /// Self-test lessons: checks fail before each solution and pass after it, faults meet their
    /// documented errors. Exit 1 on any failure.
    Verify {
        #[command(flatten)]
        backend: BackendArgs,
        /// With --backend aws, do not ask before touching the account.
        #[arg(long)]
        yes: bool,
        /// Verify the lessons in this folder instead of the bundled course (a trainer's drafts).
        #[arg(long)]
        lessons: Option<PathBuf>,
        /// Lesson ids or files [default: all].
        names: Vec<String>,
    },
    /// Show a transcript of a lesson run (from the transcripts folder of the lab's data directory).
    Replay { file: PathBuf },
    /// The lab shell: the guide's `aws` and `docker` commands built in, against the lab's mock (or
    /// real AWS with --backend aws).
    ///
    /// With no options it runs a mock of its own (state in the data directory). On a terminal it
    /// prompts, with history and completion; with commands piped in it runs them line by line,
    /// echoing each after the prompt, and exits with the last command's status.
    Shell {
        /// Use a running `ecr-lab serve` instead of the shell's own mock (share one registry with a class).
        #[arg(long)]
        endpoint: Option<String>,
        /// Where the shell keeps its mock, local images, docker config and aws profile
        /// [default: the user's data directory, ecr-lab/shell].
        #[arg(long)]
        data_dir: Option<PathBuf>,
        #[command(flatten)]
        backend: BackendArgs,
    },
    /// Preflight: credentials, account and principal, region, permissions, clock, docker, aws CLI.
    ///
    /// Each line is ok, a note, or a PROBLEM with its fix. Exits 1 when something blocks the lab.
    Doctor {
        #[command(flatten)]
        backend: BackendArgs,
    },
    /// Delete what the lab created in AWS: only repositories tagged `ecr-lab`, in the current region
    /// and every region the lab's records name. Nothing without the tag is touched.
    Cleanup {
        #[command(flatten)]
        backend: BackendArgs,
    },
    /// Instructor: make one of the guide's errors happen for the whole class on a running `ecr-lab serve`.
    ///
    /// Server faults are real conditions: `missing-repo` deletes the repository, `immutable-overwrite`
    /// makes it immutable, `expired-login` moves the lab clock 13 hours. Every client then meets ECR's
    /// own answer. `clear` undoes what `arm` did. Learner-side faults (login, local tag, region, key)
    /// are arranged by the lessons in each learner's shell.
    Fault {
        #[command(subcommand)]
        action: FaultAction,
    },
    /// Present the seminar deck in the browser, with a mock of its own for the demo (memory only).
    ///
    /// Serves the deck at /slides/ beside the mock (console, API, registry: the same port as
    /// `serve`) and opens it in the browser. Keys: Right/Space/PageDown next, Left/PageUp back,
    /// Home/End, `p` the presenter view (notes, next slide, timer). /slides/?print-notes is the handout
    /// to print as a PDF. Works with no network.
    Slides {
        /// Address to listen on; port 0 picks a free port.
        #[arg(long, default_value = "127.0.0.1:0")]
        addr: SocketAddr,
        /// Print the address but do not open a browser.
        #[arg(long)]
        no_open: bool,
        /// Present this markdown file instead of the bundled seminar deck (format: slides/README.md).
        #[arg(long, value_name = "FILE")]
        deck: Option<PathBuf>,
    },
    /// Move the lab clock of a running mock (token expiry and other timed behaviour).
    Clock {
        #[command(subcommand)]
        action: ClockAction,
    },
    /// Instructor: list, revoke or restore the access keys of a running mock.
    Keys {
        #[command(subcommand)]
        action: KeysAction,
    },
    /// docker's credential helper for ECR and the mock: no registry password stored anywhere.
    ///
    /// `install` links `docker-credential-ecr-lab` on PATH; `configure HOST` writes
    /// `"credHelpers": {"HOST": "ecr-lab"}` into docker's config.json. docker then runs
    /// `docker-credential-ecr-lab get` for every push and pull, and the helper calls
    /// GetAuthorizationToken (cached until half its lifetime has passed).
    CredentialHelper {
        #[command(subcommand)]
        action: Option<HelperAction>,
    },
    /// Write a cosign-compatible key pair: cosign.key (encrypted with COSIGN_PASSWORD) and cosign.pub.
    Keygen {
        /// File names PREFIX.key and PREFIX.pub.
        #[arg(long, default_value = "cosign")]
        output_key_prefix: String,
    },
    /// Sign an image in the registry as `cosign sign --key` does (tag sha256-<digest>.sig).
    ///
    /// The registry's credentials come from docker's config (a stored login or a credential helper).
    Sign {
        /// The image, e.g. 127.0.0.1:5000/test:v1 or 920736617090.dkr.ecr.ap-south-1.amazonaws.com/test:v1.
        image: String,
        /// The private key (cosign's encrypted PEM); its passphrase from COSIGN_PASSWORD.
        #[arg(long)]
        key: PathBuf,
    },
    /// Verify an image's signatures as `cosign verify --key` does; exit 1 if none verifies.
    VerifySignature {
        image: String,
        /// The public key (PEM).
        #[arg(long)]
        key: PathBuf,
    },
    /// IAM users and roles with policies on a running mock: create-user, create-role, put-user-policy, ...
    Iam {
        #[command(subcommand)]
        action: crate::iam::IamAction,
    },
    /// The lab's OIDC issuer (a CI provider's stand-in): `oidc token --sub ... --aud ...` prints a signed JWT.
    Oidc {
        #[command(subcommand)]
        action: crate::iam::OidcAction,
    },
    /// Run a class: one server for a room, each student in an account of their own, a live dashboard.
    ///
    /// The instructor runs `ecr-lab class serve`; each student runs `ecr-lab join URL --name NAME`.
    Class {
        #[command(subcommand)]
        action: ClassAction,
    },
    /// Student: join the class at URL (from `ecr-lab class serve`) and open the lab as yourself.
    ///
    /// You get an account, a key and a registry of your own; lessons and the lab shell then run
    /// against the class server, and the instructor's dashboard sees your progress (stages, checks,
    /// hints; never what else you type, never secrets). Joining again from this machine resumes you.
    Join {
        /// The class server's URL, e.g. http://192.168.1.20:5000 (https://… for a class over TLS).
        url: String,
        /// Your name in the class: 1-64 letters, digits and +=,.@_- (e.g. ana-lopez).
        #[arg(long)]
        name: String,
        /// The secret the instructor read out after `ecr-lab class reset NAME` (joining as yourself
        /// from a new machine); this machine's own join needs none.
        #[arg(long)]
        secret: Option<String>,
        /// For a class over HTTPS: the class CA's fingerprint the instructor's screen shows
        /// (sha256:…); the CA the server presents must match it, or nothing is joined.
        #[arg(long)]
        ca: Option<String>,
    },
}

/// `ecr-lab credential-helper ACTION`: the protocol actions docker runs, and setting it up.
#[derive(Debug, Subcommand)]
pub enum HelperAction {
    /// Protocol: the server URL on stdin; prints {"ServerURL","Username","Secret"}.
    Get,
    /// Protocol: refused (`not implemented`), as Amazon's helper refuses it: nothing is stored.
    Store,
    /// Protocol: refused (`not implemented`), as Amazon's helper refuses it.
    Erase,
    /// Protocol: the cached registries as {"https://HOST": "AWS"}.
    List,
    /// Protocol: the helper's name and version.
    Version,
    /// Link docker-credential-ecr-lab to this ecr-lab in DIR (put DIR on PATH).
    Install {
        /// [default: ~/.local/bin]
        #[arg(long)]
        dir: Option<PathBuf>,
    },
    /// Use the helper for REGISTRY in docker's config.json, and remove its stored password.
    Configure {
        /// The registry host, e.g. 127.0.0.1:5000 or 920736617090.dkr.ecr.ap-south-1.amazonaws.com.
        registry: String,
        /// docker's config directory [default: $DOCKER_CONFIG, else ~/.docker].
        #[arg(long)]
        docker_config: Option<PathBuf>,
        /// Take the helper out for REGISTRY instead (docker then needs `docker login` again).
        #[arg(long)]
        remove: bool,
    },
    #[command(external_subcommand)]
    Other(Vec<String>),
}

#[derive(Debug, Subcommand)]
pub enum ClassAction {
    /// Serve a class: the mock in class mode (students' accounts, dashboard at /class/), slides too.
    Serve {
        /// Address to listen on (0.0.0.0: every network of this machine); port 0 picks a free port.
        #[arg(long, default_value = "0.0.0.0:5000")]
        addr: SocketAddr,
        /// Where the class keeps its state [default: the lab's home, class/server].
        #[arg(long)]
        data_dir: Option<PathBuf>,
        /// The class's name, shown to students and on the dashboard.
        #[arg(long, default_value = "ECR seminar")]
        name: String,
        /// A student on the same stage this long without passing it shows as stuck (5m, 90s, 1h).
        #[arg(long, default_value = "5m")]
        stuck_after: String,
        /// Serve HTTPS with a class CA made on first start (kept in the data dir); students join
        /// with `--ca sha256:…` as printed, and real docker engines trust it through certs.d.
        #[arg(long)]
        tls: bool,
    },
    /// The roster: each student's account, lesson, stage, status, hints and last error.
    Students {
        /// The class server's URL [default: the last server started on this machine].
        #[arg(long)]
        endpoint: Option<String>,
    },
    /// Give a student a new key and secret, clear their progress (their repositories stay); the
    /// name is theirs again on any machine with `ecr-lab join`.
    Reset {
        /// The student's name, as `ecr-lab class students` lists it.
        name: String,
        /// The class server's URL [default: the last server started on this machine].
        #[arg(long)]
        endpoint: Option<String>,
    },
    /// Take a student off the roster (their key is revoked).
    Remove {
        /// The student's name, as `ecr-lab class students` lists it.
        name: String,
        /// The class server's URL [default: the last server started on this machine].
        #[arg(long)]
        endpoint: Option<String>,
    },
    /// Student: forget the class this machine joined (the lab runs on its own mock again).
    Leave,
}

/// Where lessons, the shell and checks run: the bundled mock, or real AWS.
#[derive(Args, Debug, Clone)]
pub struct BackendArgs {
    /// `mock`: the bundled mock (offline); `aws`: real ECR in your account (credentials from the
    /// standard chain: environment, profiles, SSO, credential_process).
    #[arg(long, value_enum, default_value_t = BackendKind::Mock)]
    pub backend: BackendKind,
    /// With --backend aws: the AWS profile to use (as `aws --profile`).
    #[arg(long)]
    pub profile: Option<String>,
    /// With --backend aws: the region [default: AWS_REGION, the profile's, else the guide's ap-south-1].
    #[arg(long)]
    pub region: Option<String>,
}

impl BackendArgs {
    /// `--profile` and `--region` choose an AWS account and region; the mock has its own.
    pub fn validate(&self) -> Result<(), String> {
        if self.backend == BackendKind::Mock && (self.profile.is_some() || self.region.is_some()) {
            return Err("--profile and --region are for --backend aws; the mock is account 920736617090 in ap-south-1 (commands in the lab shell take --region as usual)".into());
        }
        Ok(())
    }

    pub fn aws_options(&self) -> crate::backend::AwsOptions {
        crate::backend::AwsOptions { profile: self.profile.clone(), region: self.region.clone() }
    }
}

#[derive(Subcommand, Debug)]
pub enum FaultAction {
    /// Arm a fault on the server, e.g. `ecr-lab fault arm missing-repo`.
    Arm {
        /// A fault id (`ecr-lab fault list`).
        id: String,
        /// The repository the fault is about.
        #[arg(long, default_value = "test")]
        repo: String,
        #[command(flatten)]
        who: FaultTarget,
        /// The mock's URL [default: the last `ecr-lab serve` started on this machine].
        #[arg(long)]
        endpoint: Option<String>,
    },
    /// Undo the faults armed on the server from this machine (newest first); in a class, undo fault ID
    /// for --student NAME or --all.
    Clear {
        /// With --student or --all: the fault to undo.
        id: Option<String>,
        /// The repository the fault is about (with --student or --all).
        #[arg(long, default_value = "test")]
        repo: String,
        #[command(flatten)]
        who: FaultTarget,
        /// The mock's URL [default: the last `ecr-lab serve` started on this machine].
        #[arg(long)]
        endpoint: Option<String>,
    },
    /// The fault catalogue, and which faults can be armed on a server.
    List {
        /// Also show what this machine armed on that server (the mock's URL).
        #[arg(long)]
        endpoint: Option<String>,
    },
}

/// In a class: whom a fault is for (neither: the whole server, as outside a class).
#[derive(Args, Debug, Clone)]
#[group(multiple = false)]
pub struct FaultTarget {
    /// In a class: only this student's account.
    #[arg(long, value_name = "NAME")]
    pub student: Option<String>,
    /// In a class: every student's account.
    #[arg(long)]
    pub all: bool,
}

#[derive(Debug, Subcommand)]
pub enum ClockAction {
    /// Advance the lab clock, e.g. `ecr-lab clock advance 13h` to expire registry logins.
    Advance {
        /// How far: 30d, 12h, 90m, 45s, 1h30m.
        duration: String,
        /// The mock's URL [default: the last `ecr-lab serve` started on this machine].
        #[arg(long)]
        endpoint: Option<String>,
    },
    /// Show the lab clock.
    Show {
        #[arg(long)]
        endpoint: Option<String>,
    },
}

#[derive(Debug, Subcommand)]
pub enum KeysAction {
    /// The mock's access keys: id, account, user and whether each is revoked (no secrets).
    List {
        /// The mock's URL [default: the last `ecr-lab serve` started on this machine].
        #[arg(long)]
        endpoint: Option<String>,
    },
    /// Revoke a key: every request it signs is refused as an unknown key until it is restored.
    Revoke {
        /// The access key id, e.g. AKIAECRLABDEFAULT001.
        id: String,
        /// The mock's URL [default: the last `ecr-lab serve` started on this machine].
        #[arg(long)]
        endpoint: Option<String>,
    },
    /// Undo a revoke: the key signs requests again (e.g. after a stray revoke of the lab's default key).
    Restore {
        /// The access key id, e.g. AKIAECRLABDEFAULT001.
        id: String,
        /// The mock's URL [default: the last `ecr-lab serve` started on this machine].
        #[arg(long)]
        endpoint: Option<String>,
    },
}
