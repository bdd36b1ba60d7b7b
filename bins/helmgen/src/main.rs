//! The `helmgen` binary: a thin shell around the library that owns the
//! socket, the signals, the files and the clock.
//!
//! - `helmgen serve`: serves [`helmgen::app`] until SIGTERM/SIGINT, then
//!   drains in-flight requests and exits 0; SIGHUP reloads the platform
//!   config (a bad one is logged and the old one kept).
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
        /// Render requests handled at once.
        #[arg(long, default_value_t = 128)]
        concurrency: usize,
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
            log_format,
        } => {
            init_logs(log_format);
            let config = Config {
                max_body,
                timeout: Duration::from_millis(timeout_ms),
                concurrency,
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
            runtime.block_on(serve(
                listen,
                platform,
                config,
                Duration::from_millis(drain_delay_ms),
                Duration::from_millis(drain_timeout_ms),
            ))
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

async fn serve(
    listen: String,
    platform_path: Option<PathBuf>,
    config: Config,
    drain_delay: Duration,
    drain_timeout: Duration,
) -> ExitCode {
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

    let (stop_tx, stop_rx) = tokio::sync::oneshot::channel::<()>();
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
        tokio::time::sleep(drain_delay).await;
        let _ = stop_tx.send(());
    });

    let server = axum::serve(listener, helmgen::app(state.clone()))
        .with_graceful_shutdown(async move {
            let _ = stop_rx.await;
        })
        .into_future();
    tokio::pin!(server);
    // Wait for the server; once draining has begun, wait at most
    // `drain_timeout` for in-flight requests.
    let result = tokio::select! {
        r = &mut server => r,
        _ = async {
            while !state.is_draining() {
                tokio::time::sleep(Duration::from_millis(50)).await;
            }
            tokio::time::sleep(drain_delay + drain_timeout).await;
        } => {
            tracing::warn!("drain timeout: closing the remaining connections");
            Ok(())
        }
    };
    match result {
        Ok(()) => {
            tracing::info!("stopped");
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("helmgen: server error: {e}");
            ExitCode::from(2)
        }
    }
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
        let files = impact::load_corpus(corpus).map_err(|e| e.to_string())?;
        Ok::<_, String>((base, head, files))
    })();
    let (base, head, files) = match loaded {
        Ok(x) => x,
        Err(e) => {
            eprintln!("helmgen: {e}");
            return ExitCode::from(2);
        }
    };
    let report = impact::analyse(&files, &base, &head, today);
    print!("{}", report.render(format));
    if report.is_changed() {
        ExitCode::from(1)
    } else {
        ExitCode::SUCCESS
    }
}
