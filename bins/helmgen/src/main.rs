//! The `helmgen` binary: a thin shell around the library that owns the
//! socket, the signals, the files and the clock.
//!
//! - `helmgen serve`: serves [`helmgen::app`] until SIGTERM/SIGINT, then
//!   drains in-flight requests and exits 0 (a second signal: exit 1 at once);
//!   SIGHUP reloads the platform config (a bad one is logged and the old
//!   one kept). Connections are served by hyper directly (not
//!   `axum::serve`) for its header-read timeout and a bound on open
//!   connections.
//! - `helmgen impact`: the blast-radius report; exit 0 when nothing
//!   changes, 1 when something does, 2 on error.

use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::Arc;
use std::time::Duration;

use clap::{Parser, Subcommand, ValueEnum};
use helmgen::impact::{self, Format};
use helmgen::{AppState, Config};
use platform_config::Platform;
use tokio::signal::unix::{SignalKind, signal};

/// mimalloc: rendering allocates many small objects, where it is about twice
/// as fast as glibc malloc (`benches/render.rs` measures with it too).
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// The paas manifest generator as a service, and its blast-radius report.
#[derive(Debug, Parser)]
#[command(name = "helmgen", version, about)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Clone, Copy, ValueEnum)]
enum LogFormat {
    Text,
    Json,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Serve the HTTP API until SIGTERM/SIGINT; SIGHUP reloads --platform.
    Serve {
        /// Address to listen on (port 0 picks a free port; the address is printed).
        #[arg(long, default_value = "127.0.0.1:8080")]
        listen: String,
        /// Platform config file; the built-in config when absent.
        #[arg(long)]
        platform: Option<PathBuf>,
        /// Largest request body in bytes.
        #[arg(long, default_value_t = 256 * 1024)]
        max_body: usize,
        /// Time limit of one request, in milliseconds.
        #[arg(long, default_value_t = 10_000)]
        timeout_ms: u64,
        /// Renders running at once (default: twice the CPU cores). Renders are
        /// CPU-bound and a worst-case one (a 256 KiB app.toml of thousands
        /// of jobs) peaks at about 115 MB, so more than a few per core only
        /// adds latency and memory; more requests wait (up to half the
        /// timeout), then get 503.
        #[arg(long)]
        concurrency: Option<usize>,
        /// Largest rendered answer in bytes (YAML or JSON); larger answers get 422.
        #[arg(long, default_value_t = 8 * 1024 * 1024)]
        max_output_bytes: usize,
        /// Most objects one render may produce; more get 422.
        #[arg(long, default_value_t = 2_000)]
        max_objects: usize,
        /// After SIGTERM, answer 503 (readyz and renders) for this long before
        /// closing the listener, so load balancers stop sending requests.
        #[arg(long, default_value_t = 0)]
        drain_delay_ms: u64,
        /// Longest wait for in-flight requests after the listener closes.
        #[arg(long, default_value_t = 25_000)]
        drain_timeout_ms: u64,
        /// Time a connection may take to send a request's headers (also the
        /// idle time of a kept-alive connection) before it is closed.
        #[arg(long, default_value_t = 5_000)]
        header_timeout_ms: u64,
        /// Open connections at once; more wait in the listen backlog.
        #[arg(long, default_value_t = 1_024)]
        max_connections: usize,
        /// Log format (to stderr).
        #[arg(long, value_enum, default_value = "text")]
        log_format: LogFormat,
    },
    /// Render a corpus of app.toml files with two platform configs and report what changes.
    Impact {
        /// Directory of app.toml files (every *.toml under it).
        #[arg(long)]
        corpus: PathBuf,
        /// The platform config in use.
        #[arg(long)]
        base: PathBuf,
        /// The proposed platform config.
        #[arg(long)]
        head: PathBuf,
        /// Report format.
        #[arg(long, value_enum, default_value = "text")]
        format: Format,
        /// Date for exception expiry (YYYY-MM-DD); default today (UTC).
        #[arg(long)]
        today: Option<String>,
    },
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    match cli.command {
        Command::Serve {
            listen,
            platform,
            max_body,
            timeout_ms,
            concurrency,
            max_output_bytes,
            max_objects,
            drain_delay_ms,
            drain_timeout_ms,
            header_timeout_ms,
            max_connections,
            log_format,
        } => {
            init_logs(log_format);
            let config = Config {
                max_body,
                timeout: Duration::from_millis(timeout_ms),
                concurrency: concurrency.unwrap_or_else(|| {
                    2 * std::thread::available_parallelism().map_or(1, |n| n.get())
                }),
                max_output_bytes,
                max_objects,
            };
            let runtime = match tokio::runtime::Builder::new_multi_thread()
                .enable_all()
                .build()
            {
                Ok(r) => r,
                Err(e) => {
                    eprintln!("helmgen: cannot start the runtime: {e}");
                    return ExitCode::from(2);
                }
            };
            runtime.block_on(serve(Serve {
                listen,
                platform_path: platform,
                config,
                drain_delay: Duration::from_millis(drain_delay_ms),
                drain_timeout: Duration::from_millis(drain_timeout_ms),
                header_timeout: Duration::from_millis(header_timeout_ms),
                max_connections: max_connections.max(1),
            }))
        }
        Command::Impact {
            corpus,
            base,
            head,
            format,
            today,
        } => run_impact(&corpus, &base, &head, format, today.as_deref()),
    }
}

fn init_logs(format: LogFormat) {
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info"));
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr);
    match format {
        LogFormat::Text => builder.init(),
        LogFormat::Json => builder.json().flatten_event(true).init(),
    }
}

fn load_platform(path: &Path) -> Result<Platform, String> {
    let text = std::fs::read_to_string(path)
        .map_err(|e| format!("cannot read {}: {e}", path.display()))?;
    let platform =
        Platform::from_toml(&text, &path.display().to_string()).map_err(|e| e.to_string())?;
    // A version that cannot be sent as X-Platform-Version is refused at start
    // and at reload, rather than served without the header.
    helmgen::version_header(&platform).map_err(|e| format!("{}: {e}", path.display()))?;
    Ok(platform)
}

/// What `helmgen serve` needs beyond the library's [`Config`].
struct Serve {
    listen: String,
    platform_path: Option<PathBuf>,
    config: Config,
    drain_delay: Duration,
    drain_timeout: Duration,
    header_timeout: Duration,
    max_connections: usize,
}

/// How the signal task ends the server.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Stop {
    /// Running.
    No,
    /// Close the listener and drain the connections.
    Drain,
    /// A second SIGTERM/SIGINT: exit at once.
    Now,
}

async fn serve(opts: Serve) -> ExitCode {
    let Serve {
        listen,
        platform_path,
        config,
        drain_delay,
        drain_timeout,
        header_timeout,
        max_connections,
    } = opts;
    let platform = match &platform_path {
        Some(p) => match load_platform(p) {
            Ok(p) => p,
            Err(e) => {
                eprintln!("helmgen: {e}");
                return ExitCode::from(2);
            }
        },
        None => Platform::builtin(),
    };
    let state = AppState::new(platform, config, Arc::new(helmgen::system_today));
    let listener = match tokio::net::TcpListener::bind(&listen).await {
        Ok(l) => l,
        Err(e) => {
            eprintln!("helmgen: cannot listen on {listen}: {e}");
            return ExitCode::from(2);
        }
    };
    let (mut term, mut int, mut hup) = match (
        signal(SignalKind::terminate()),
        signal(SignalKind::interrupt()),
        signal(SignalKind::hangup()),
    ) {
        (Ok(t), Ok(i), Ok(h)) => (t, i, h),
        _ => {
            eprintln!("helmgen: cannot install signal handlers");
            return ExitCode::from(2);
        }
    };
    let addr = listener
        .local_addr()
        .map(|a| a.to_string())
        .unwrap_or(listen);
    // Printed on stdout so that scripts and tests can find a `:0` port.
    println!("helmgen listening on http://{addr}");
    tracing::info!(
        %addr,
        platform_version = %state.platform().version_id,
        "listening"
    );

    // The signal task moves `stop` from No to Drain (first SIGTERM/SIGINT,
    // after the drain delay) and to Now (a second one, at any time after).
    let (stop_tx, mut stop_rx) = tokio::sync::watch::channel(Stop::No);
    let signals_state = state.clone();
    tokio::spawn(async move {
        loop {
            tokio::select! {
                _ = hup.recv() => reload(&signals_state, platform_path.as_deref()),
                _ = term.recv() => break,
                _ = int.recv() => break,
            }
        }
        tracing::info!(delay_ms = drain_delay.as_millis() as u64, "draining");
        signals_state.start_draining();
        let second = tokio::select! {
            _ = tokio::time::sleep(drain_delay) => false,
            _ = term.recv() => true,
            _ = int.recv() => true,
        };
        if !second {
            let _ = stop_tx.send(Stop::Drain);
            tokio::select! {
                _ = term.recv() => {}
                _ = int.recv() => {}
            }
        }
        tracing::warn!("second SIGTERM/SIGINT: exiting at once");
        let _ = stop_tx.send(Stop::Now);
    });

    let router = helmgen::app(state.clone());
    let graceful = hyper_util::server::graceful::GracefulShutdown::new();
    let connections = Arc::new(tokio::sync::Semaphore::new(max_connections));
    let mut http = hyper::server::conn::http1::Builder::new();
    // Without a timer hyper has no header-read timeout: a client sending
    // partial headers would hold its connection forever.
    http.timer(hyper_util::rt::TokioTimer::new())
        .header_read_timeout(header_timeout);
    let stopped = |rx: &mut tokio::sync::watch::Receiver<Stop>| {
        let mut rx = rx.clone();
        async move {
            let _ = rx.wait_for(|s| *s != Stop::No).await;
        }
    };
    loop {
        // A connection slot first: at most `max_connections` are open; more
        // wait in the kernel's backlog.
        let permit = tokio::select! {
            p = Arc::clone(&connections).acquire_owned() => match p {
                Ok(p) => p,
                Err(_) => break,
            },
            _ = stopped(&mut stop_rx) => break,
        };
        let stream = tokio::select! {
            r = listener.accept() => match r {
                Ok((stream, _)) => stream,
                Err(e) => {
                    // Out of file descriptors and the like: wait, do not spin.
                    tracing::warn!(error = %e, "accept failed");
                    tokio::time::sleep(Duration::from_millis(50)).await;
                    continue;
                }
            },
            _ = stopped(&mut stop_rx) => break,
        };
        let service = hyper_util::service::TowerToHyperService::new(router.clone());
        let connection = http.serve_connection(hyper_util::rt::TokioIo::new(stream), service);
        let connection = graceful.watch(connection);
        tokio::spawn(async move {
            if let Err(e) = connection.await {
                tracing::debug!(error = %e, "connection ended with an error");
            }
            drop(permit);
        });
    }
    // New connections are refused from here on; requests in flight finish
    // (at most `drain_timeout`), idle connections close.
    drop(listener);
    if *stop_rx.borrow() == Stop::Now {
        return ExitCode::from(1);
    }
    tracing::info!("listener closed; waiting for requests in flight");
    tokio::select! {
        _ = graceful.shutdown() => {}
        _ = tokio::time::sleep(drain_timeout) => {
            tracing::warn!("drain timeout: closing the remaining connections");
        }
        _ = stop_rx.wait_for(|s| *s == Stop::Now) => return ExitCode::from(1),
    }
    tracing::info!("stopped");
    ExitCode::SUCCESS
}

fn reload(state: &AppState, path: Option<&Path>) {
    let Some(path) = path else {
        tracing::info!("SIGHUP: no --platform file; the built-in config stays");
        return;
    };
    let result = load_platform(path)
        .and_then(|platform| state.set_platform(platform).map_err(|e| e.to_string()));
    match result {
        Ok(version) => tracing::info!(platform_version = %version, "platform config reloaded"),
        Err(error) => tracing::error!(
            %error,
            kept = %state.platform().version_id,
            "platform config rejected; the old one stays"
        ),
    }
}

fn run_impact(
    corpus: &Path,
    base: &Path,
    head: &Path,
    format: Format,
    today: Option<&str>,
) -> ExitCode {
    let today = match today {
        None => helmgen::system_today(),
        Some(t) => match app_toml::Date::parse(t) {
            Some(d) => d,
            None => {
                eprintln!("helmgen: --today `{t}` is not a date (YYYY-MM-DD)");
                return ExitCode::from(2);
            }
        },
    };
    let loaded = (|| {
        let base = load_platform(base)?;
        let head = load_platform(head)?;
        let corpus = impact::walk_corpus(corpus).map_err(|e| e.to_string())?;
        for path in &corpus.skipped {
            eprintln!(
                "helmgen: skipped {}: a symbolic link to a directory is not followed",
                path.display()
            );
        }
        Ok::<_, String>((base, head, corpus.files))
    })();
    let (base, head, files) = match loaded {
        Ok(x) => x,
        Err(e) => {
            eprintln!("helmgen: {e}");
            return ExitCode::from(2);
        }
    };
    let report = impact::analyse(&files, &base, &head, today);
    // A failed write (a closed pipe, a full disk) is an error with a
    // message, not a panic: `print!` would panic.
    let written = {
        use std::io::Write as _;
        let mut out = std::io::stdout().lock();
        out.write_all(report.render(format).as_bytes())
            .and_then(|()| out.flush())
    };
    if let Err(e) = written {
        eprintln!("helmgen: cannot write the report: {e}");
        return ExitCode::from(2);
    }
    if report.is_changed() {
        ExitCode::from(1)
    } else {
        ExitCode::SUCCESS
    }
}
