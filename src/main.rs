//! ecr-lab: the command-line entry point. `anyhow` lives here and nowhere below.

mod backend;
mod cli;
mod control_client;
mod images;
mod instructor;
mod lesson;
mod paths;
mod reference;
mod registry_client;
mod runner;
mod sample;
mod shell;
mod slides;
mod ui;

use std::io::Write;

use anyhow::{Context, Result};
use clap::{CommandFactory, Parser};
use mock_registry::Lab;
use mock_registry::state::{DEFAULT_ACCESS_KEY_ID, DEFAULT_REGION, DEFAULT_SECRET_ACCESS_KEY};

use backend::BackendKind;
use cli::{BackendArgs, ClockAction, Command, FaultAction};

fn main() -> std::process::ExitCode {
    let cli = cli::Cli::parse();
    tracing_subscriber::fmt()
        .with_env_filter(tracing_subscriber::EnvFilter::try_from_env("ECR_LAB_LOG").unwrap_or_else(|_| {
            // The AWS chain logs every provider it tries; its outcome is what the lab reports.
            "warn,aws_config=error,aws_runtime=error,aws_smithy_runtime=error".into()
        }))
        .with_writer(std::io::stderr)
        .init();
    let runtime = tokio::runtime::Builder::new_multi_thread().enable_all().build().expect("tokio runtime");
    match runtime.block_on(run(cli)) {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("ecr-lab: {error:#}");
            std::process::ExitCode::FAILURE
        }
    }
}

async fn run(cli: cli::Cli) -> Result<()> {
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
        None => home().await,
        Some(Command::Serve { addr, data_dir, ephemeral }) => serve(addr, data_dir, ephemeral).await,
        Some(Command::Slides { addr, no_open, deck }) => present(addr, !no_open, deck.as_deref()).await,
        Some(Command::Env { endpoint }) => {
            let endpoint = paths::endpoint(endpoint)?;
            print!("{}", env_lines(&endpoint));
            Ok(())
        }
        Some(Command::SampleImage { load, output }) => sample_image(load, output),
        Some(Command::Lint { paths }) => lint(&paths),
        Some(Command::Verify { backend, yes, lessons, names }) => {
            let lessons = runner::load(lessons.as_deref(), &names)?;
            let work = tempfile::Builder::new().prefix("ecr-lab-verify-").tempdir()?;
            let aws = match backend.backend {
                BackendKind::Mock => None,
                BackendKind::Aws => {
                    let ready = preflight(&backend, yes, "verify the lessons that list `aws`").await?;
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
        Some(Command::Doctor { backend }) => doctor(&backend).await,
        Some(Command::Cleanup { backend }) => cleanup(&backend).await,
        Some(Command::List { lessons }) => {
            let lessons = runner::load(lessons.as_deref(), &[])?;
            let progress = runner::Progress::load(&runner::progress_path(&paths::home()?));
            runner::list(&lessons, &progress);
            Ok(())
        }
        Some(Command::Start { lesson, lessons, restart, endpoint, data_dir, tools, backend, yes }) => {
            let all = runner::load(lessons.as_deref(), &[])?;
            let progress_path = runner::progress_path(&paths::home()?);
            let mut progress = runner::Progress::load(&progress_path);
            let chosen = match lesson {
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
            let endpoint = endpoint.map(|e| paths::endpoint(Some(e))).transpose()?;
            let data_dir = match data_dir {
                Some(dir) => dir,
                None => paths::home()?.join(shell_dir(backend.backend)),
            };
            let tools = if tools == "real" { runner::ToolsChoice::Real } else { runner::ToolsChoice::Builtin };
            let backing = match backend.backend {
                BackendKind::Mock => shell::Backing::Mock(endpoint),
                BackendKind::Aws => {
                    if !runner::runs_on_aws(&chosen) {
                        anyhow::bail!(
                            "{} lists backends [{}], not aws: its stages have not been made to run on real AWS. Run it on the mock (without --backend aws)",
                            chosen.path.display(),
                            chosen.front.backends.join(", ")
                        );
                    }
                    let ready = preflight(&backend, yes, &format!("play `{}`", chosen.id())).await?;
                    shell::Backing::Aws {
                        backend: Box::new(ready),
                        run: backend::cleanup::run_id(),
                        records: backend::cleanup::records_path(&paths::home()?),
                    }
                }
            };
            runner::start(&chosen, &data_dir, backing, tools, &mut progress, &progress_path).await
        }
        Some(Command::Replay { file }) => runner::transcript::replay(&file, &mut std::io::stdout()),
        Some(Command::Shell { endpoint, data_dir, backend }) => {
            let endpoint = endpoint.map(|e| paths::endpoint(Some(e))).transpose()?;
            let data_dir = match data_dir {
                Some(dir) => dir,
                None => paths::home()?.join(shell_dir(backend.backend)),
            };
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
        Some(Command::Fault { action }) => match action {
            FaultAction::Arm { id, repo, endpoint } => {
                let endpoint = paths::endpoint(endpoint)?;
                instructor::arm(&paths::home()?, &endpoint, &id, &repo).await
            }
            FaultAction::Clear { endpoint } => {
                let endpoint = paths::endpoint(endpoint)?;
                instructor::clear(&paths::home()?, &endpoint).await
            }
            FaultAction::List => {
                instructor::list();
                Ok(())
            }
        },
        Some(Command::Clock { action }) => match action {
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
        },
    }
}

async fn serve(addr: std::net::SocketAddr, data_dir: Option<std::path::PathBuf>, ephemeral: bool) -> Result<()> {
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
    run_server(addr, lab, &where_, &slides::bundled()?, false).await
}

/// `ecr-lab slides`: the deck, with a mock of its own for the demo.
async fn present(addr: std::net::SocketAddr, open: bool, deck: Option<&std::path::Path>) -> Result<()> {
    let deck = match deck {
        Some(path) => slides::from_file(path)?,
        None => slides::bundled()?,
    };
    let lab = Lab::ephemeral().context("creating a temporary directory for blobs")?;
    let where_ = "in memory only: nothing is kept when the slides stop";
    run_server(addr, lab, where_, &deck, open).await
}

/// Serves the mock and the deck on `addr` until Ctrl-C; prints the addresses first.
async fn run_server(addr: std::net::SocketAddr, lab: Lab, where_: &str, deck: &slides::Deck, open: bool) -> Result<()> {
    let listener = tokio::net::TcpListener::bind(addr)
        .await
        .with_context(|| format!("cannot listen on {addr}; is another server using it? Try --addr 127.0.0.1:0"))?;
    let url = format!("http://{}", listener.local_addr()?);
    if let Err(e) = paths::remember_endpoint(&url) {
        tracing::warn!("could not record the endpoint for `ecr-lab env`: {e:#}");
    }
    let mut out = std::io::stdout().lock();
    writeln!(out, "ecr-lab mock listening on {url}")?;
    writeln!(out, "state: {where_}")?;
    writeln!(out, "web console: {url}/console/")?;
    writeln!(
        out,
        "slides: {url}/slides/ (presenter view: {url}/slides/presenter, handout: {url}/slides/?print-notes)"
    )?;
    writeln!(out, "point the aws CLI and SDKs at it with:")?;
    writeln!(out, "  eval \"$(ecr-lab env --endpoint {url})\"")?;
    writeln!(out, "press Ctrl-C to stop")?;
    out.flush()?;
    drop(out);
    if open {
        open_browser(&format!("{url}/slides/"));
    }
    let app = mock_registry::router(lab.clone()).merge(slides::router(lab, deck));
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

/// `ecr-lab` alone: on a terminal, a menu (continue, pick a lesson, the lab shell); otherwise the help.
async fn home() -> Result<()> {
    if !std::io::IsTerminal::is_terminal(&std::io::stdin()) {
        cli::Cli::command().print_help()?;
        return Ok(());
    }
    let lessons = runner::load(None, &[])?;
    let progress_path = runner::progress_path(&paths::home()?);
    let mut progress = runner::Progress::load(&progress_path);
    let next = lessons.iter().find(|l| l.stages.iter().any(|s| !progress.is_done(&l.id(), &s.id()))).cloned();
    let mut choices = Vec::new();
    if let Some(lesson) = &next {
        choices.push(format!("Continue: {}", lesson.title()));
    }
    choices.extend([
        "Pick a lesson".to_owned(),
        "Open the lab shell".to_owned(),
        "Open the slides".to_owned(),
        "Quit".to_owned(),
    ]);
    let choice = inquire::Select::new("ecr-lab: a hands-on lab for Amazon ECR", choices).prompt()?;
    let data_dir = paths::home()?.join("shell");
    let lesson = if choice.starts_with("Continue") {
        next
    } else if choice == "Pick a lesson" {
        let titles: Vec<String> = lessons.iter().map(|l| l.title()).collect();
        let title = inquire::Select::new("Which lesson?", titles).prompt()?;
        lessons.iter().find(|l| l.title() == title).cloned()
    } else if choice == "Open the lab shell" {
        let status = shell::run(&data_dir, shell::Backing::Mock(None)).await?;
        std::process::exit(status);
    } else if choice == "Open the slides" {
        return present(std::net::SocketAddr::from(([127, 0, 0, 1], 0)), true, None).await;
    } else {
        None
    };
    match lesson {
        Some(lesson) => {
            runner::start(
                &lesson,
                &data_dir,
                shell::Backing::Mock(None),
                runner::ToolsChoice::Builtin,
                &mut progress,
                &progress_path,
            )
            .await
        }
        None => Ok(()),
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
            let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
            let url = format!("http://{}", listener.local_addr()?);
            let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
            let server = tokio::spawn(mock_registry::serve(listener, lab, async {
                let _ = stopped.await;
            }));
            let report = backend::doctor::mock(&url).await;
            let _ = stop.send(());
            let _ = server.await;
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
    format!(
        "# ecr-lab mock at {endpoint}: the aws CLI and AWS SDKs in this shell now talk to it\n\
         export AWS_ENDPOINT_URL={endpoint}\n\
         export AWS_ACCESS_KEY_ID={DEFAULT_ACCESS_KEY_ID}\n\
         export AWS_SECRET_ACCESS_KEY={DEFAULT_SECRET_ACCESS_KEY}\n\
         export AWS_DEFAULT_REGION={DEFAULT_REGION}\n\
         export AWS_REGION={DEFAULT_REGION}\n\
         unset AWS_SESSION_TOKEN AWS_PROFILE AWS_ENDPOINT_URL_ECR AWS_ENDPOINT_URL_STS AWS_IGNORE_CONFIGURED_ENDPOINT_URLS\n"
    )
}
