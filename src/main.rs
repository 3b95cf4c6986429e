//! ecr-lab: the command-line entry point: parses the command line (`cli`) and runs one function per
//! subcommand. The lesson format is `lesson` (parse, lint; runs nothing), running a lesson is `runner`,
//! the lab shell with its built-in `aws` and `docker` is `shell`, the ECR backend (mock or AWS) is
//! `backend`; the mock itself is the `mock-registry` crate. Errors a user meets are typed where the
//! user acts on them (`backend::Explained`, the lint's `Problem`s); the commands' own plumbing
//! (files, the lab shell's state) uses `anyhow`.

mod backend;
mod class;
mod cli;
mod control_client;
mod credential_helper;
mod iam;
mod images;
mod instructor;
mod lesson;
mod paths;
mod reference;
mod registry_client;
mod runner;
mod sample;
mod shell;
mod signing;
mod slides;
mod trust;
mod ui;
mod upstream;

use std::io::Write;

use anyhow::{Context, Result};
use clap::{CommandFactory, Parser};
use mock_registry::Lab;
use mock_registry::defaults::{DEFAULT_ACCESS_KEY_ID, DEFAULT_REGION, DEFAULT_SECRET_ACCESS_KEY};

use backend::BackendKind;
use cli::{BackendArgs, ClassAction, ClockAction, Command, FaultAction, HelperAction, KeysAction};

/// mimalloc instead of glibc's malloc: a sixth of the mock's CPU per API request was malloc and free
/// (README, Benchmarks). Built without transparent huge pages (`no_thp`): with them a fresh server's
/// RSS was 33 MiB instead of 19.
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> std::process::ExitCode {
    mock_registry::startup_trace::begin();
    let cli = cli::Cli::parse_from(credential_helper::argv());
    tracing_subscriber::fmt()
        .with_env_filter(tracing_subscriber::EnvFilter::try_from_env("ECR_LAB_LOG").unwrap_or_else(|_| {
            // The AWS chain logs every provider it tries; its outcome is what the lab reports.
            "warn,aws_config=error,aws_runtime=error,aws_smithy_runtime=error".into()
        }))
        .with_writer(std::io::stderr)
        .init();
    let runtime = tokio::runtime::Builder::new_multi_thread().enable_all().build().expect("tokio runtime");
    mock_registry::startup_trace::phase("arguments, logging, async runtime");
    match runtime.block_on(run(cli)) {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("ecr-lab: {error:#}");
            std::process::ExitCode::FAILURE
        }
    }
}

async fn run(cli: cli::Cli) -> Result<()> {
    // A class served over HTTPS: its CA (joined, or this machine's own server's) is trusted by every client.
    if let Ok(home) = paths::home() {
        trust::load(&home);
    }
    mock_registry::startup_trace::phase("class CAs loaded");
    if let Some(
        Command::Start { backend, .. }
        | Command::Verify { backend, .. }
        | Command::Shell { backend, .. }
        | Command::Doctor { backend }
        | Command::Cleanup { backend },
    ) = &cli.command
    {
        backend.validate().map_err(anyhow::Error::msg)?;
    }
    match cli.command {
        None => home(None, &Place::for_home(None)?).await,
        Some(Command::Serve { addr, data_dir, ephemeral }) => serve(addr, data_dir, ephemeral).await,
        Some(Command::Slides { addr, no_open, deck }) => present(addr, !no_open, deck.as_deref()).await,
        Some(Command::Repair { data_dir, yes }) => repair(data_dir, yes),
        Some(Command::Env { endpoint }) => {
            match class::load(&paths::home()?)?
                .filter(|j| endpoint.as_deref().is_none_or(|e| class::student_at_or(j, e)))
            {
                Some(joined) => print!("{}", class::env_lines(&joined, &paths::home()?)),
                None => print!("{}", env_lines(&paths::endpoint(endpoint)?)),
            }
            Ok(())
        }
        Some(Command::Class { action }) => class_command(action).await,
        Some(Command::Join { url, name, secret, ca }) => join(&url, &name, secret, ca).await,
        Some(Command::SampleImage { load, output }) => sample_image(load, output),
        Some(Command::Lint { paths }) => lint(&paths),
        Some(Command::Verify { backend, yes, lessons, names }) => {
            verify(&backend, yes, lessons.as_deref(), &names).await
        }
        Some(Command::Doctor { backend }) => doctor(&backend).await,
        Some(Command::Cleanup { backend }) => cleanup(&backend).await,
        Some(Command::List { lessons }) => {
            let lessons = runner::load(lessons.as_deref(), &[])?;
            let progress = runner::Progress::load(&Place::for_home(None)?.progress_path);
            runner::list(&lessons, &progress);
            Ok(())
        }
        Some(Command::Start { lesson, lessons, notes: true, .. }) => {
            let names: Vec<String> = lesson.into_iter().collect();
            let views: Vec<String> =
                runner::load(lessons.as_deref(), &names)?.iter().map(runner::trainer::instructor_view).collect();
            print!("{}", views.join("\n"));
            Ok(())
        }
        Some(Command::Coverage { lessons, names }) => {
            print!("{}", runner::trainer::coverage(&runner::load(lessons.as_deref(), &names)?));
            Ok(())
        }
        Some(Command::Start { lesson, lessons, restart, endpoint, data_dir, tools, backend, yes, notes: false }) => {
            let options = StartOptions { lesson, lessons, restart, endpoint, data_dir, tools, yes };
            start(options, &backend).await
        }
        Some(Command::Replay { file }) => runner::transcript::replay(&file, &mut std::io::stdout()),
        Some(Command::Shell { endpoint, data_dir, backend }) => lab_shell(endpoint, data_dir, &backend).await,
        Some(Command::Fault { action }) => fault(action).await,
        Some(Command::Clock { action }) => clock(action).await,
        Some(Command::Keys { action }) => keys(action).await,
        Some(Command::CredentialHelper { action }) => credential_helper_command(action).await,
        Some(Command::Keygen { output_key_prefix }) => signing::command::keygen(&output_key_prefix),
        Some(Command::Sign { image, key }) => signing::command::sign(&image, &key).await,
        Some(Command::VerifySignature { image, key }) => match signing::command::verify(&image, &key).await? {
            0 => Ok(()),
            code => std::process::exit(code),
        },
        Some(Command::Iam { action }) => iam::run(action).await,
        Some(Command::Oidc { action }) => iam::run_oidc(action).await,
    }
}

/// `ecr-lab verify`: every lesson (or those named) on the mock, or on AWS those that list `aws`.
async fn verify(backend: &BackendArgs, yes: bool, lessons: Option<&std::path::Path>, names: &[String]) -> Result<()> {
    let lessons = runner::load(lessons, names)?;
    let work = tempfile::Builder::new().prefix("ecr-lab-verify-").tempdir()?;
    let aws = match backend.backend {
        BackendKind::Mock => None,
        BackendKind::Aws => {
            let ready = preflight(backend, yes, "verify the lessons that list `aws`").await?;
            Some((ready, backend::cleanup::records_path(&paths::home()?)))
        }
    };
    let problems = runner::verify(&lessons, work.path(), aws.clone()).await?;
    if let Some((ready, records)) = &aws {
        println!("removing what verify created (repositories tagged `{}`):", backend::cleanup::TAG_KEY);
        for outcome in backend::cleanup::cleanup(ready, records).await? {
            println!("  {outcome}");
        }
    }
    for problem in &problems {
        eprintln!("{problem}");
    }
    if !problems.is_empty() {
        anyhow::bail!("{} problem(s) in the lessons", problems.len());
    }
    Ok(())
}

/// `ecr-lab start`'s options besides the backend.
struct StartOptions {
    lesson: Option<String>,
    lessons: Option<std::path::PathBuf>,
    restart: bool,
    endpoint: Option<String>,
    data_dir: Option<std::path::PathBuf>,
    tools: String,
    yes: bool,
}

/// `ecr-lab start`: the named lesson, or the first with a stage still to do; at its end, the next
/// one if the learner wants it.
async fn start(options: StartOptions, backend: &BackendArgs) -> Result<()> {
    let StartOptions { lesson, lessons, restart, endpoint, data_dir, tools, yes } = options;
    let all = runner::load(lessons.as_deref(), &[])?;
    let place = match backend.backend {
        BackendKind::Mock => Place::for_home(endpoint.clone())?,
        BackendKind::Aws => Place::solo(None)?,
    };
    let progress_path = place.progress_path.clone();
    let mut progress = runner::Progress::load(&progress_path);
    let mut chosen = match lesson {
        Some(name) => runner::load(lessons.as_deref(), &[name])?.remove(0),
        None => all
            .iter()
            .find(|l| l.stages.iter().any(|s| !progress.is_done(&l.id(), &s.id())))
            .or(all.first())
            .cloned()
            .ok_or_else(|| anyhow::anyhow!("there are no lessons"))?,
    };
    if restart {
        progress.reset(&runner::progress_key(&chosen, backend.backend));
    }
    let (endpoint, data_dir) = place.resolve(endpoint, data_dir, backend.backend)?;
    let tools = if tools == "real" { runner::ToolsChoice::Real } else { runner::ToolsChoice::Builtin };
    loop {
        let backing = backing(&chosen, backend, endpoint.clone(), yes).await?;
        let ended = runner::start(&chosen, &data_dir, backing, tools, &mut progress, &progress_path).await?;
        // With real tools a thread of the run reads stdin for the runner's words: no menu competes with it.
        if ended == runner::Ended::Quit || tools == runner::ToolsChoice::Real {
            return Ok(());
        }
        match then_after(&all, &chosen) {
            Then::Play(next) => chosen = *next,
            Then::Menu => return home(lessons.as_deref(), &place).await,
            Then::Quit => return Ok(()),
        }
    }
}

/// What a lesson of `ecr-lab start` plays on: the mock, or AWS once the lesson runs there and the
/// account is confirmed.
async fn backing(
    chosen: &lesson::Lesson,
    backend: &BackendArgs,
    endpoint: Option<String>,
    yes: bool,
) -> Result<shell::Backing> {
    Ok(match backend.backend {
        BackendKind::Mock => shell::Backing::Mock(endpoint),
        BackendKind::Aws => {
            if !runner::runs_on_aws(chosen) {
                anyhow::bail!(
                    "{} lists backends [{}], not aws: its stages have not been made to run on real AWS. Run it on the mock (without --backend aws)",
                    chosen.path.display(),
                    chosen.front.backends.join(", ")
                );
            }
            let ready = preflight(backend, yes, &format!("play `{}`", chosen.id())).await?;
            shell::Backing::Aws {
                backend: Box::new(ready),
                run: backend::cleanup::run_id(),
                records: backend::cleanup::records_path(&paths::home()?),
            }
        }
    })
}

/// What follows a finished lesson.
enum Then {
    Play(Box<lesson::Lesson>),
    Menu,
    Quit,
}

/// At the end of `done`: the next lesson of `all` (if there is one), the home menu, or quit, as the
/// learner chooses.
fn then_after(all: &[lesson::Lesson], done: &lesson::Lesson) -> Then {
    let position = all.iter().position(|l| l.id() == done.id());
    let next = position.and_then(|i| all.get(i + 1).map(|l| (i + 2, l)));
    let label = next.map(|(n, l)| format!("{n}. {}", l.title()));
    match ui::Ui::new().after_lesson(label.as_deref()) {
        ui::AfterLesson::Next => next.map_or(Then::Quit, |(_, l)| Then::Play(Box::new(l.clone()))),
        ui::AfterLesson::Menu => Then::Menu,
        ui::AfterLesson::Quit => Then::Quit,
    }
}

/// `ecr-lab shell`: the lab shell alone; exits with its status.
async fn lab_shell(
    endpoint: Option<String>,
    data_dir: Option<std::path::PathBuf>,
    backend: &BackendArgs,
) -> Result<()> {
    let place = match backend.backend {
        BackendKind::Mock => Place::for_home(endpoint.clone())?,
        BackendKind::Aws => Place::solo(None)?,
    };
    let (endpoint, data_dir) = place.resolve(endpoint, data_dir, backend.backend)?;
    let backing = match backend.backend {
        BackendKind::Mock => shell::Backing::Mock(endpoint),
        BackendKind::Aws => shell::Backing::Aws {
            backend: Box::new(
                backend::EcrBackend::aws(&backend.aws_options()).await.map_err(|e| anyhow::anyhow!("{e}"))?,
            ),
            run: backend::cleanup::run_id(),
            records: backend::cleanup::records_path(&paths::home()?),
        },
    };
    let status = shell::run(&data_dir, backing).await?;
    std::process::exit(status);
}

/// `ecr-lab fault arm|clear|list`.
async fn fault(action: FaultAction) -> Result<()> {
    match action {
        FaultAction::Arm { id, repo, who, endpoint } => {
            let endpoint = paths::endpoint(endpoint)?;
            match fault_target(who) {
                Some(target) => class::admin::fault(&endpoint, &id, &repo, &target, true).await,
                None => instructor::arm(&paths::home()?, &endpoint, &id, &repo).await,
            }
        }
        FaultAction::Clear { id, repo, who, endpoint } => {
            let endpoint = paths::endpoint(endpoint)?;
            match (fault_target(who), id) {
                (Some(target), Some(id)) => class::admin::fault(&endpoint, &id, &repo, &target, false).await,
                (Some(_), None) => anyhow::bail!(
                    "name the fault to clear: `ecr-lab fault clear ID --student NAME` (or --all); `ecr-lab fault list` has the ids"
                ),
                (None, Some(id)) => anyhow::bail!(
                    "`ecr-lab fault clear` without --student or --all undoes everything this machine armed; `{id}` is for a class: add --student NAME or --all"
                ),
                (None, None) => instructor::clear(&paths::home()?, &endpoint).await,
            }
        }
        FaultAction::List { endpoint } => {
            let endpoint = endpoint.map(|e| paths::endpoint(Some(e))).transpose()?;
            instructor::list(&paths::home()?, endpoint.as_deref())
        }
    }
}

fn fault_target(who: cli::FaultTarget) -> Option<class::admin::Target> {
    match (who.student, who.all) {
        (Some(name), _) => Some(class::admin::Target::Student(name)),
        (None, true) => Some(class::admin::Target::All),
        (None, false) => None,
    }
}

/// `ecr-lab clock advance|show`.
async fn clock(action: ClockAction) -> Result<()> {
    match action {
        ClockAction::Advance { duration, endpoint } => {
            let endpoint = paths::endpoint(endpoint)?;
            let clock = control_client::advance_clock(&endpoint, &duration).await?;
            println!("lab clock is now {clock}");
            Ok(())
        }
        ClockAction::Show { endpoint } => {
            let endpoint = paths::endpoint(endpoint)?;
            println!("lab clock is {}", control_client::clock(&endpoint).await?);
            Ok(())
        }
    }
}

/// `ecr-lab keys list|revoke|restore` on a running mock.
async fn keys(action: KeysAction) -> Result<()> {
    match action {
        KeysAction::List { endpoint } => {
            for key in control_client::keys(&paths::endpoint(endpoint)?).await? {
                println!("{key}");
            }
        }
        KeysAction::Revoke { id, endpoint } => {
            control_client::key_action(&paths::endpoint(endpoint)?, &id, "revoke").await?;
            println!("revoked {id}: requests it signs are refused; `ecr-lab keys restore {id}` undoes this");
        }
        KeysAction::Restore { id, endpoint } => {
            control_client::key_action(&paths::endpoint(endpoint)?, &id, "restore").await?;
            println!("restored {id}: it signs requests again");
        }
    }
    Ok(())
}

/// `ecr-lab credential-helper`: a protocol action (the answer on stdout, its exit status as ours), or
/// installing and configuring the helper.
async fn credential_helper_command(action: Option<HelperAction>) -> Result<()> {
    let protocol = |name: &str| name.to_owned();
    let action = match action {
        None => {
            println!("{}", credential_helper::usage());
            std::process::exit(1);
        }
        Some(HelperAction::Install { dir }) => {
            let link = credential_helper::install(dir)?;
            println!("installed {} -> {}", link.display(), std::env::current_exe()?.display());
            println!(
                "make sure {} is on PATH; then `ecr-lab credential-helper configure REGISTRY`",
                link.parent().map(|p| p.display().to_string()).unwrap_or_default()
            );
            return Ok(());
        }
        Some(HelperAction::Configure { registry, docker_config, remove: true }) => {
            let dir = credential_helper::docker_config_dir(docker_config)?;
            let (file, removed) = credential_helper::configure(&dir, &registry, true)?;
            let what = if removed { "removed" } else { "was not set" };
            println!("{}: credHelpers[{registry}] {what}; log in with `docker login` again", file.display());
            return Ok(());
        }
        Some(HelperAction::Configure { registry, docker_config, remove: false }) => {
            let dir = credential_helper::docker_config_dir(docker_config)?;
            let (file, removed) = credential_helper::configure(&dir, &registry, false)?;
            println!("{}: credHelpers[{registry}] = \"{}\"", file.display(), credential_helper::HELPER);
            if removed {
                println!(
                    "removed the password stored for {registry}: docker now asks the helper on every push and pull"
                );
            }
            return Ok(());
        }
        Some(HelperAction::Get) => protocol("get"),
        Some(HelperAction::Store) => protocol("store"),
        Some(HelperAction::Erase) => protocol("erase"),
        Some(HelperAction::List) => protocol("list"),
        Some(HelperAction::Version) => protocol("version"),
        Some(HelperAction::Other(args)) if args.len() == 1 => args[0].clone(),
        Some(HelperAction::Other(_)) => {
            println!("{}", credential_helper::usage());
            std::process::exit(1);
        }
    };
    let mut stdout = std::io::stdout();
    let code = credential_helper::serve(&action, &mut std::io::stdin(), &mut stdout, &mut std::io::stderr()).await;
    stdout.flush()?;
    std::process::exit(code);
}

async fn serve(addr: std::net::SocketAddr, data_dir: Option<std::path::PathBuf>, ephemeral: bool) -> Result<()> {
    // What needs no lab (the deck, the upstreams' sample images) is made on another thread while
    // the data directory is read: a start waits for the longer of the two.
    let prepared = std::thread::Builder::new().name("ecr-lab-prepare".into()).spawn(|| {
        let started = std::time::Instant::now();
        let deck = slides::bundled();
        mock_registry::startup_trace::took("slides parsed (on another thread)", started);
        let started = std::time::Instant::now();
        let samples = upstream::samples();
        mock_registry::startup_trace::took("sample images built (on another thread)", started);
        (deck, samples)
    });
    let (lab, where_) = if ephemeral {
        let lab = Lab::ephemeral().context("creating a temporary directory for blobs")?;
        (lab, "in memory only (--ephemeral): nothing is kept when the server stops".to_owned())
    } else {
        let dir = match data_dir {
            Some(dir) => dir,
            None => paths::default_mock_dir()?,
        };
        let lab = Lab::open(&dir).with_context(|| format!("opening the mock's data directory {}", dir.display()))?;
        (lab, format!("{} (kept across restarts)", dir.display()))
    };
    let (deck, samples) = match prepared.map(|thread| thread.join()) {
        Ok(Ok(prepared)) => prepared,
        _ => (slides::bundled(), upstream::samples()), // no thread to spare: made here
    };
    let deck = deck?;
    upstream::publish(&lab, samples);
    mock_registry::startup_trace::phase("slides and sample images ready");
    run_server(addr, lab.clone(), &where_, &deck, Serving::Class).await?;
    // A clean stop leaves a snapshot of everything, so the next start replays nothing.
    if let Err(e) = lab.snapshot() {
        tracing::warn!("no snapshot at stop (the journal keeps everything; the next start replays it): {e}");
    }
    Ok(())
}

/// What [`run_server`] serves: a class's mock (prints the instructor token), or slides (opened or not).
#[derive(PartialEq)]
enum Serving {
    Class,
    Slides { open: bool },
}

/// `ecr-lab repair`: shows a damaged journal's first bad record and what cutting it loses, asks
/// (unless `yes`), keeps a copy, cuts.
fn repair(data_dir: Option<std::path::PathBuf>, yes: bool) -> Result<()> {
    let dir = match data_dir {
        Some(dir) => dir,
        None => paths::default_mock_dir()?,
    };
    let Some(damage) = mock_registry::inspect_journal(&dir)? else {
        println!(
            "{}: the journal has no damage to repair; `ecr-lab serve --data-dir {}` opens it.",
            dir.display(),
            dir.display()
        );
        if mock_registry::compact_journal(&dir)? {
            println!("Compacted: a snapshot of the state now replaces the journal before it.");
        }
        return Ok(());
    };
    println!(
        "{}:{}: damaged record ({}).\nRepair keeps the {} records before it ({} bytes) and cuts {} record(s) ({} bytes) from it to the end.",
        damage.path.display(),
        damage.line,
        damage.reason,
        damage.kept_records,
        damage.kept_bytes,
        damage.cut_records,
        damage.cut_bytes
    );
    let ui = ui::Ui::new();
    if !yes && !ui.confirm("Cut them (a copy of the whole journal is kept)?") {
        anyhow::bail!(
            "nothing was changed; run `ecr-lab repair --data-dir {} --yes` to cut without asking",
            dir.display()
        );
    }
    let backup = mock_registry::repair_journal(&dir, &damage)?;
    println!("Cut. The journal as it was is kept in {}.", backup.display());
    Ok(())
}

/// `ecr-lab slides`: the deck, with a mock of its own for the demo.
async fn present(addr: std::net::SocketAddr, open: bool, deck: Option<&std::path::Path>) -> Result<()> {
    let deck = match deck {
        Some(path) => slides::from_file(path)?,
        None => slides::bundled()?,
    };
    let lab = Lab::ephemeral().context("creating a temporary directory for blobs")?;
    upstream::seed(&lab);
    let where_ = "in memory only: nothing is kept when the slides stop";
    run_server(addr, lab, where_, &deck, Serving::Slides { open }).await
}

/// Serves the mock and the deck on `addr` until Ctrl-C; prints the addresses first.
async fn run_server(
    addr: std::net::SocketAddr,
    lab: Lab,
    where_: &str,
    deck: &slides::Deck,
    serving: Serving,
) -> Result<()> {
    let listener = tokio::net::TcpListener::bind(addr)
        .await
        .with_context(|| format!("cannot listen on {addr}; is another server using it? Try --addr 127.0.0.1:0"))?;
    let url = format!("http://{}", listener.local_addr()?);
    mock_registry::startup_trace::phase("listening");
    if let Err(e) = paths::remember_endpoint(&url) {
        tracing::warn!("could not record the endpoint for `ecr-lab env`: {e:#}");
    }
    mock_registry::startup_trace::phase("endpoint recorded");
    let mut out = std::io::stdout().lock();
    writeln!(out, "ecr-lab mock listening on {url}")?;
    writeln!(out, "state: {where_}")?;
    writeln!(out, "web console: {url}/console/")?;
    if serving == Serving::Class {
        let token = lab.instructor_token();
        writeln!(
            out,
            "instructor token: {token} (lets `ecr-lab keys|clock|fault` reach /_lab/ from another machine: \
             ECR_LAB_INSTRUCTOR_TOKEN={token}; on this machine none is needed; keep it from the class)"
        )?;
    }
    writeln!(
        out,
        "slides: {url}/slides/ (presenter view: {url}/slides/presenter, handout: {url}/slides/?print-notes)"
    )?;
    writeln!(out, "point the aws CLI and SDKs at it with:")?;
    writeln!(out, "  eval \"$(ecr-lab env --endpoint {url})\"")?;
    writeln!(out, "press Ctrl-C to stop")?;
    out.flush()?;
    drop(out);
    mock_registry::startup_trace::phase("addresses printed (ready)");
    if serving == (Serving::Slides { open: true }) {
        open_browser(&format!("{url}/slides/"));
    }
    let app = mock_registry::router(lab.clone()).merge(slides::router(lab, deck));
    mock_registry::startup_trace::phase("routes built (serving)");
    mock_registry::serve_app(listener, app, shutdown_signal()).await.context("serving")?;
    println!("ecr-lab mock stopped");
    Ok(())
}

/// Hands `url` to the desktop's opener; with none (or no desktop), says to open it by hand.
fn open_browser(url: &str) {
    let opener = if cfg!(target_os = "macos") {
        "open"
    } else if cfg!(windows) {
        "explorer"
    } else {
        "xdg-open"
    };
    let spawned = std::process::Command::new(opener)
        .arg(url)
        .stdin(std::process::Stdio::null())
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn();
    let by_hand = format!("open {url} in a browser");
    match spawned {
        Ok(mut child) => {
            let url = url.to_owned();
            std::thread::spawn(move || match child.wait() {
                Ok(status) if status.success() || cfg!(windows) => println!("opened {url} in your browser"),
                _ => println!("{opener} could not open a browser: {by_hand}"),
            });
        }
        Err(_) => println!("no {opener} here: {by_hand}"),
    }
}

async fn shutdown_signal() {
    let ctrl_c = tokio::signal::ctrl_c();
    #[cfg(unix)]
    {
        let mut term =
            tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()).expect("SIGTERM handler");
        tokio::select! {
            _ = ctrl_c => {},
            _ = term.recv() => {},
        }
    }
    #[cfg(not(unix))]
    let _ = ctrl_c.await;
}

fn sample_image(load: bool, output: Option<std::path::PathBuf>) -> Result<()> {
    let image = sample::build();
    if let Some(path) = &output {
        std::fs::write(path, image.docker_archive()).with_context(|| format!("writing {}", path.display()))?;
        println!("wrote {} to {} (load it with: docker load -i {})", sample::REFERENCE, path.display(), path.display());
    }
    if load {
        let archive = tempfile::Builder::new().prefix("ecr-lab-sample-").suffix(".tar").tempfile()?;
        std::fs::write(archive.path(), image.docker_archive())?;
        let status = std::process::Command::new("docker").arg("load").arg("-i").arg(archive.path()).status();
        match status {
            Ok(status) if status.success() => {}
            Ok(status) => {
                anyhow::bail!("docker load failed ({status}); is the Docker engine running? (`docker version` tells)")
            }
            Err(e) => anyhow::bail!(
                "cannot run docker ({e}); without a Docker engine, write the image with --output FILE, or use the lab shell's built-in docker"
            ),
        }
    }
    if !load && output.is_none() {
        println!("{}", sample::REFERENCE);
        println!("digest: {}", image.digest());
        println!("config: {}", image.config_digest());
        println!("size:   {} bytes compressed (what DescribeImages reports once pushed)", image.compressed_size());
        for layer in &image.layers {
            println!("layer:  {} ({} bytes compressed)", layer.digest, layer.gzip.len());
        }
    }
    Ok(())
}

/// Where the home menu, `start` and `shell` run on the mock: the lab's own mock, or the class this
/// machine joined (the student's shell directory and progress, the class server).
struct Place {
    /// The class server, when joined.
    endpoint: Option<String>,
    data_dir: std::path::PathBuf,
    progress_path: std::path::PathBuf,
}

impl Place {
    /// The joined class (activated: the shell and checks act as the student) unless `endpoint` names
    /// another server; else the solo lab.
    fn for_home(endpoint: Option<String>) -> Result<Self> {
        let home = paths::home()?;
        match class::for_command(&home, endpoint.as_deref())? {
            Some(joined) => Ok(Self {
                endpoint: Some(joined.endpoint.clone()),
                data_dir: class::shell_dir(&home),
                progress_path: class::progress_path(&home),
            }),
            None => Self::solo(None),
        }
    }

    fn solo(endpoint: Option<String>) -> Result<Self> {
        let home = paths::home()?;
        Ok(Self { endpoint, data_dir: home.join("shell"), progress_path: runner::progress_path(&home) })
    }

    /// The server and shell directory a command runs with: the class's when joined; else the
    /// `--endpoint` and `--data-dir` given, or the lab home's shell directory for `kind`.
    fn resolve(
        &self,
        endpoint: Option<String>,
        data_dir: Option<std::path::PathBuf>,
        kind: BackendKind,
    ) -> Result<(Option<String>, std::path::PathBuf)> {
        let endpoint = match &self.endpoint {
            Some(class) => Some(class.clone()),
            None => endpoint.map(|e| paths::endpoint(Some(e))).transpose()?,
        };
        let data_dir = match data_dir {
            Some(dir) => dir,
            None if self.endpoint.is_some() => self.data_dir.clone(),
            None => paths::home()?.join(shell_dir(kind)),
        };
        Ok((endpoint, data_dir))
    }
}

/// `ecr-lab join URL --name NAME`: join, say who you are, then the home menu as that student.
async fn join(url: &str, name: &str, secret: Option<String>, ca: Option<String>) -> Result<()> {
    let home = paths::home()?;
    let (joined, resumed) = class::join(&home, url, name, secret, ca).await?;
    print!("{}", class::describe(&joined, resumed));
    if joined.ca_fingerprint.is_some() {
        print!("{}", class::real_engines(&joined, &trust::joined_ca_path(&home)));
    }
    if !std::io::IsTerminal::is_terminal(&std::io::stdin()) {
        return Ok(());
    }
    home_menu_joined().await
}

async fn home_menu_joined() -> Result<()> {
    home(None, &Place::for_home(None)?).await
}

/// `ecr-lab class serve|students|reset|remove|leave`.
async fn class_command(action: ClassAction) -> Result<()> {
    match action {
        ClassAction::Serve { addr, data_dir, name, stuck_after, tls } => {
            class::serve::serve(class::serve::Options { addr, data_dir, name, stuck_after, tls }).await
        }
        ClassAction::Students { endpoint } => class::admin::students(&paths::endpoint(endpoint)?).await,
        ClassAction::Reset { name, endpoint } => class::admin::reset(&paths::endpoint(endpoint)?, &name).await,
        ClassAction::Remove { name, endpoint } => class::admin::remove(&paths::endpoint(endpoint)?, &name).await,
        ClassAction::Leave => class::leave(&paths::home()?),
    }
}

/// A choice in the home menu (`ecr-lab` alone).
#[derive(Debug, Clone, PartialEq, Eq)]
enum HomeChoice {
    /// Continue the first lesson with a stage still to do (its title).
    Continue(String),
    Pick,
    Shell,
    Slides,
    Quit,
}

impl std::fmt::Display for HomeChoice {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::Continue(title) => write!(f, "Continue: {title}"),
            Self::Pick => f.write_str("Pick a lesson"),
            Self::Shell => f.write_str("Open the lab shell"),
            Self::Slides => f.write_str("Open the slides"),
            Self::Quit => f.write_str("Quit"),
        }
    }
}

/// `ecr-lab` alone: on a terminal, a menu (continue, pick a lesson, the lab shell); otherwise the help.
/// The lessons are the bundled ones, or those in `dir` (after `ecr-lab start --lessons DIR`).
async fn home(dir: Option<&std::path::Path>, place: &Place) -> Result<()> {
    if !std::io::IsTerminal::is_terminal(&std::io::stdin()) {
        cli::Cli::command().print_help()?;
        return Ok(());
    }
    let lessons = runner::load(dir, &[])?;
    let progress_path = place.progress_path.clone();
    let mut progress = runner::Progress::load(&progress_path);
    let data_dir = place.data_dir.clone();
    'menu: loop {
        let Some(mut lesson) = home_choice(&lessons, &progress, &data_dir, place.endpoint.clone()).await? else {
            return Ok(());
        };
        loop {
            let backing = shell::Backing::Mock(place.endpoint.clone());
            let tools = runner::ToolsChoice::Builtin;
            if runner::start(&lesson, &data_dir, backing, tools, &mut progress, &progress_path).await?
                == runner::Ended::Quit
            {
                return Ok(());
            }
            match then_after(&lessons, &lesson) {
                Then::Play(next) => lesson = *next,
                Then::Menu => continue 'menu,
                Then::Quit => return Ok(()),
            }
        }
    }
}

/// The home menu until the learner picks a lesson (`None`: they quit, or the shell or slides ran).
async fn home_choice(
    lessons: &[lesson::Lesson],
    progress: &runner::Progress,
    data_dir: &std::path::Path,
    endpoint: Option<String>,
) -> Result<Option<lesson::Lesson>> {
    let next = lessons.iter().find(|l| l.stages.iter().any(|s| !progress.is_done(&l.id(), &s.id()))).cloned();
    // A first-time learner has nothing to continue.
    let started = lessons.iter().any(|l| l.stages.iter().any(|s| progress.is_done(&l.id(), &s.id())));
    let mut choices = Vec::new();
    if let Some(lesson) = next.as_ref().filter(|_| started) {
        choices.push(HomeChoice::Continue(lesson.title()));
    }
    choices.extend([HomeChoice::Pick, HomeChoice::Shell, HomeChoice::Slides, HomeChoice::Quit]);
    loop {
        // Esc at home leaves quietly; Esc in the picker comes back here.
        let Some(choice) =
            escapable(inquire::Select::new("ecr-lab: a hands-on lab for Amazon ECR", choices.clone()).prompt())?
        else {
            return Ok(None);
        };
        match choice {
            HomeChoice::Continue(_) => return Ok(next),
            HomeChoice::Pick => {
                let map: Vec<String> =
                    lessons.iter().enumerate().map(|(i, l)| course_map_line(i + 1, l, progress)).collect();
                let Some(picked) = escapable(inquire::Select::new("Which lesson?", map).raw_prompt())? else {
                    continue;
                };
                return Ok(lessons.get(picked.index).cloned());
            }
            HomeChoice::Shell => {
                let status = shell::run(data_dir, shell::Backing::Mock(endpoint.clone())).await?;
                std::process::exit(status);
            }
            HomeChoice::Slides => {
                present(std::net::SocketAddr::from(([127, 0, 0, 1], 0)), true, None).await?;
                return Ok(None);
            }
            HomeChoice::Quit => return Ok(None),
        }
    }
}

/// A lesson in the picker: number, title, minutes (its stages' sum) and how far the learner got.
fn course_map_line(number: usize, lesson: &lesson::Lesson, progress: &runner::Progress) -> String {
    let minutes: u32 = lesson.stages.iter().filter_map(|s| s.header.as_ref().and_then(|(h, _)| h.minutes)).sum();
    let done = lesson.stages.iter().filter(|s| progress.is_done(&lesson.id(), &s.id())).count();
    let status = match done {
        0 => "not started",
        n if n == lesson.stages.len() => "done",
        _ => "in progress",
    };
    format!("{number}. {} · {minutes} min · {status}", lesson.title())
}

/// A prompt's answer, or `None` when the learner pressed Esc (a way back, not an error).
fn escapable<T>(answer: Result<T, inquire::InquireError>) -> Result<Option<T>> {
    match answer {
        Ok(value) => Ok(Some(value)),
        Err(inquire::InquireError::OperationCanceled) => Ok(None),
        Err(error) => Err(error.into()),
    }
}

fn lint(paths: &[std::path::PathBuf]) -> Result<()> {
    let sources = if paths.is_empty() {
        lesson::sources(None)?
    } else {
        let mut sources = Vec::new();
        for path in paths {
            if path.is_dir() {
                sources.extend(lesson::sources(Some(path)).with_context(|| format!("reading {}", path.display()))?);
            } else {
                let text = std::fs::read_to_string(path).with_context(|| format!("reading {}", path.display()))?;
                sources.push(lesson::Source { path: path.clone(), text });
            }
        }
        sources
    };
    let mut count = 0;
    for source in &sources {
        let lesson = lesson::parse(source);
        for problem in lesson::lint::lint(&lesson) {
            println!("{}", lesson::lint::format(&source.path, &problem));
            count += 1;
        }
    }
    if count > 0 {
        anyhow::bail!("{count} problem(s) in {} lesson file(s)", sources.len());
    }
    println!("{} lesson file(s), no problems", sources.len());
    Ok(())
}

/// The lab shell's data directory under the lab's home: the mock's and AWS's are kept apart.
fn shell_dir(kind: BackendKind) -> &'static str {
    match kind {
        BackendKind::Mock => "shell",
        BackendKind::Aws => "shell-aws",
    }
}

/// Before the lab touches a real account: the doctor's checks, then the account and region named
/// and confirmed (or `--yes`).
async fn preflight(args: &BackendArgs, yes: bool, what: &str) -> Result<backend::EcrBackend> {
    let (report, ready) = backend::doctor::aws(&args.aws_options()).await;
    print!("{report}");
    let Some(ready) = ready else {
        anyhow::bail!(
            "the checks above found a problem that blocks the lab on AWS (fix it, then `ecr-lab doctor --backend aws`)"
        );
    };
    println!(
        "This will {what} in REAL AWS: account {} ({}), region {}. It creates repositories tagged `{}` (and records them), and removes them at the end or with `ecr-lab cleanup --backend aws`.",
        ready.account,
        ready.principal,
        ready.region,
        backend::cleanup::TAG_KEY
    );
    if !yes && !ui::Ui::new().confirm("Go ahead in this account and region?") {
        anyhow::bail!("not confirmed; nothing was changed (pass --yes to confirm without a prompt)");
    }
    Ok(ready)
}

async fn doctor(args: &BackendArgs) -> Result<()> {
    let report = match args.backend {
        BackendKind::Aws => backend::doctor::aws(&args.aws_options()).await.0,
        BackendKind::Mock => {
            let lab = Lab::ephemeral().context("creating a temporary directory for the mock")?;
            let mock = mock_registry::spawn(lab).await?;
            let report = backend::doctor::mock(&mock.url).await;
            let _ = mock.stop().await;
            report
        }
    };
    print!("{report}");
    if report.blocks() {
        anyhow::bail!("something above blocks the lab on the {} backend", args.backend);
    }
    println!("ready: the lab can run on the {} backend", args.backend);
    Ok(())
}

async fn cleanup(args: &BackendArgs) -> Result<()> {
    if args.backend == BackendKind::Mock {
        anyhow::bail!(
            "the mock needs no cleanup (its state is in the lab's data directory); use `ecr-lab cleanup --backend aws`"
        );
    }
    let ready = backend::EcrBackend::aws(&args.aws_options()).await.map_err(|e| anyhow::anyhow!("{e}"))?;
    let records = backend::cleanup::records_path(&paths::home()?);
    println!(
        "account {} ({}): deleting repositories tagged `{}` in {} and every region the lab's records name",
        ready.account,
        ready.principal,
        backend::cleanup::TAG_KEY,
        ready.region
    );
    let outcomes = backend::cleanup::cleanup(&ready, &records).await.map_err(|e| anyhow::anyhow!("{e}"))?;
    if outcomes.is_empty() {
        println!("nothing of the lab's was found");
    }
    for outcome in &outcomes {
        println!("{outcome}");
    }
    let failed = outcomes.iter().filter(|o| matches!(o, backend::cleanup::Outcome::Failed { .. })).count();
    if failed > 0 {
        anyhow::bail!("{failed} repository(ies) could not be deleted; run `ecr-lab cleanup --backend aws` again");
    }
    Ok(())
}

/// The shell lines `ecr-lab env` prints.
fn env_lines(endpoint: &str) -> String {
    let who = format!("ecr-lab mock at {endpoint}:");
    class::env_exports(&who, endpoint, DEFAULT_ACCESS_KEY_ID, DEFAULT_SECRET_ACCESS_KEY, DEFAULT_REGION)
}
