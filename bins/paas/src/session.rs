//! The clusters of one environment for the length of one command: the
//! `sim://` test clusters started in this process (state in
//! `.paas/sim/<name>.json` under the current directory), a client for every
//! cluster, and the guarantee that the test clusters are stopped and saved
//! on every way out of the command, errors included.

use std::collections::BTreeMap;
use std::future::Future;
use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use cluster::{ClusterClient, Settings};
use platform_config::EnvironmentConfig;
use sim_cluster::{RunningCluster, SimCluster, Timing};

use crate::Failure;

/// Ctrl-C, as the commands see it. Until a command [takes it
/// over](Interrupt::take_over), Ctrl-C cancels the command (nothing has
/// changed yet) and the test clusters are still saved and stopped; after,
/// the command decides (a deploy aborts its release cleanly).
#[derive(Clone)]
pub(crate) struct Interrupt {
    pressed: tokio::sync::watch::Receiver<bool>,
    taken: Arc<AtomicBool>,
}

impl Interrupt {
    /// Resolves when Ctrl-C is pressed (never, if signals cannot be caught).
    pub(crate) async fn pressed(&mut self) {
        if self.pressed.wait_for(|p| *p).await.is_err() {
            std::future::pending::<()>().await;
        }
    }

    /// From now on Ctrl-C no longer cancels the command; it only reports.
    pub(crate) fn take_over(&self) {
        self.taken.store(true, Ordering::SeqCst);
    }

    fn taken(&self) -> bool {
        self.taken.load(Ordering::SeqCst)
    }
}

/// Where the state of the `sim://` clusters lives, relative to the current directory.
pub(crate) const SIM_DIR: &str = ".paas/sim";

/// Timing of the in-process test clusters: `PAAS_SIM_TIMING=fast` selects
/// the short delays the tests use; anything else the default ones.
fn sim_timing() -> Timing {
    // The binary is the one place that reads the environment (clippy.toml).
    #[allow(clippy::disallowed_methods)]
    let fast = std::env::var("PAAS_SIM_TIMING").is_ok_and(|v| v == "fast");
    if fast {
        Timing::fast()
    } else {
        Timing::default()
    }
}

/// Whether every cluster of the environment is an in-process test cluster.
pub(crate) fn all_sim(env: &EnvironmentConfig) -> bool {
    env.clusters.iter().all(|c| c.address.starts_with("sim://"))
}

/// Runs `work` with a connected client for every cluster of `env` (made
/// ready to hold releases when `prepare`; read-only commands change
/// nothing), inside a tokio runtime. The `sim://` clusters are started first
/// and always shut down and saved afterwards; a failure to save is reported
/// (after the command's own failure, if any).
pub(crate) fn with_clusters<F, Fut>(
    env: &EnvironmentConfig,
    prepare: bool,
    work: F,
) -> Result<String, Failure>
where
    F: FnOnce(Vec<ClusterClient>, Interrupt) -> Fut,
    Fut: Future<Output = Result<String, Failure>>,
{
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .map_err(|e| Failure::failed(format!("error: cannot start the async runtime: {e}")))?;
    let result = runtime.block_on(async {
        let (tx, rx) = tokio::sync::watch::channel(false);
        let listener = tokio::spawn(async move {
            if tokio::signal::ctrl_c().await.is_ok() {
                let _ = tx.send(true);
                // Keep the sender: a dropped one would read as "pressed".
                std::future::pending::<()>().await;
            }
        });
        let interrupt = Interrupt {
            pressed: rx,
            taken: Arc::new(AtomicBool::new(false)),
        };
        let mut outer = interrupt.clone();
        let cancelled = async move {
            outer.pressed().await;
            if outer.taken() {
                std::future::pending::<()>().await;
            }
        };
        let mut sims: Vec<(PathBuf, RunningCluster)> = Vec::new();
        let result = tokio::select! {
            r = async {
                let urls = start_sims(env, &mut sims).await?;
                let clients = connect(env, &urls, prepare).await?;
                work(clients, interrupt).await
            } => r,
            () = cancelled => Err(Failure::failed("interrupted: nothing was changed")),
        };
        listener.abort();
        let saved = stop_sims(sims).await;
        match (result, saved) {
            (Ok(out), Ok(())) => Ok(out),
            (Ok(_), Err(message)) => Err(Failure::failed(message)),
            (Err(f), Ok(())) => Err(f),
            (Err(mut f), Err(message)) => {
                f.message = format!("{}\n{message}", f.message.trim_end());
                Err(f)
            }
        }
    });
    // A question left on the terminal (a blocking read) must not hold the exit.
    runtime.shutdown_background();
    result
}

/// Starts every `sim://` cluster of `env` on a loopback port, pushing each
/// into `sims` as soon as it runs (so that it is stopped even when a later
/// one fails to start). Returns the URL of each by its sim name.
async fn start_sims(
    env: &EnvironmentConfig,
    sims: &mut Vec<(PathBuf, RunningCluster)>,
) -> Result<BTreeMap<String, String>, Failure> {
    let timing = sim_timing();
    let mut urls = BTreeMap::new();
    for c in &env.clusters {
        let Some(name) = c.address.strip_prefix("sim://") else {
            continue;
        };
        if urls.contains_key(name) {
            continue;
        }
        let path = PathBuf::from(SIM_DIR).join(format!("{name}.json"));
        if let Some(dir) = path.parent() {
            std::fs::create_dir_all(dir).map_err(|e| {
                Failure::usage(format!("error: cannot create {}: {e}", dir.display()))
            })?;
        }
        let sim = SimCluster::load(name, &path, timing).map_err(|e| {
            Failure::usage(format!(
                "error: cannot load the test cluster {name}: {e}\nhelp: remove {} to start it empty",
                path.display()
            ))
        })?;
        let running = sim.serve_loopback().await.map_err(|e| Failure {
            code: 3,
            message: format!("error: cannot start the test cluster {name}: {e}"),
        })?;
        urls.insert(name.to_owned(), running.url().to_owned());
        sims.push((path, running));
    }
    Ok(urls)
}

/// Stops the test clusters and saves their state.
async fn stop_sims(sims: Vec<(PathBuf, RunningCluster)>) -> Result<(), String> {
    let mut problems = Vec::new();
    for (path, running) in sims {
        let sim = running.cluster().clone();
        running.shutdown().await;
        // Shutting down saves too, but swallows errors; this one reports them.
        if let Err(e) = sim.save(&path) {
            problems.push(format!(
                "error: cannot save the test cluster {}: {e}",
                sim.name()
            ));
        }
    }
    if problems.is_empty() {
        Ok(())
    } else {
        Err(problems.join("\n"))
    }
}

/// Connects every cluster and, when `prepare`, makes it ready to hold releases.
async fn connect(
    env: &EnvironmentConfig,
    urls: &BTreeMap<String, String>,
    prepare: bool,
) -> Result<Vec<ClusterClient>, Failure> {
    let settings = Settings::default();
    let clients = cluster::connect_environment(env, |sim| urls.get(sim).cloned(), None, &settings)
        .await
        .map_err(|e| Failure::usage(format!("error: {e}")))?;
    if !prepare {
        return Ok(clients);
    }
    let prepared = futures_util::future::join_all(clients.iter().map(|c| async move {
        cluster::prepare(c)
            .await
            .map_err(|e| (c.name().to_owned(), e))
    }))
    .await;
    for outcome in prepared {
        if let Err((name, e)) = outcome {
            return Err(if e.is_unreachable() {
                Failure {
                    code: 3,
                    message: format!("error: cluster {name} is unreachable: {e}"),
                }
            } else {
                Failure::failed(format!(
                    "error: cluster {name} cannot hold releases (CRD or namespace): {e}"
                ))
            });
        }
    }
    Ok(clients)
}
