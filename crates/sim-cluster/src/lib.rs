//! A test Kubernetes cluster: an in-process HTTP server that speaks the
//! Kubernetes REST API for the kinds paas uses, so that the production
//! code path (`kube::Client` over HTTP) is the tested one.
//!
//! What it does, in short (details in `docs/clusters.md`):
//! - stores objects as JSON with the server-owned metadata
//!   (`uid`, `resourceVersion`, `generation`, `managedFields`, ...) and
//!   can persist them to a JSON file;
//! - serves discovery, get/list/watch/create/replace/patch (apply, merge,
//!   JSON, strategic)/delete, the `/status` subresource, dry runs, label
//!   and field selectors, CRDs and namespaces, with `Status` error bodies;
//! - simulates the Deployment, ReplicaSet, Pod and Job controllers on
//!   timers, with image-tag fault conventions (`fail-pull*`, `crashloop*`,
//!   `slow*`, `...-in-<cluster>`);
//! - injects cluster-level faults: hang, refuse connections, answer 503,
//!   latency, wipe.
//!
//! **Architecture Invariant:** clients reach the cluster only over HTTP
//! (tests included); nothing in paas calls into the store or the
//! controllers, so a test that passes here exercises the same requests a
//! real cluster would get.
//!
//! ```no_run
//! # async fn demo() -> Result<(), sim_cluster::Error> {
//! use sim_cluster::{SimCluster, Timing};
//! let cluster = SimCluster::new("local-a", Timing::default());
//! let running = cluster.serve_loopback().await?;
//! sim_cluster::write_kubeconfig("kubeconfig.yaml".as_ref(), &[&running])?;
//! running.shutdown().await;
//! # Ok(()) }
//! ```

mod api_error;
mod controllers;
mod fields;
mod merge;
mod resources;
mod selector;
mod server;
mod store;
mod watch;

pub use controllers::{Effect, image_effect};

use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::net::TcpListener;
use tokio::sync::watch as signal;
use tokio::task::JoinHandle;

/// Errors of the test cluster's own API (not of the requests it serves:
/// those answer with Kubernetes `Status` bodies).
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The state file exists but cannot be read.
    #[error("cannot read cluster state {}", path.display())]
    Read {
        /// The file.
        path: PathBuf,
        /// The cause.
        #[source]
        source: std::io::Error,
    },
    /// The state file is not a saved cluster state.
    #[error("cluster state {} is not valid", path.display())]
    Parse {
        /// The file.
        path: PathBuf,
        /// The cause.
        #[source]
        source: serde_json::Error,
    },
    /// A state file or kubeconfig cannot be written.
    #[error("cannot write {}", path.display())]
    Write {
        /// The file.
        path: PathBuf,
        /// The cause.
        #[source]
        source: std::io::Error,
    },
    /// The listener failed.
    #[error("cannot serve the cluster")]
    Serve(#[source] std::io::Error),
}

/// Delays of the simulated controllers and the server.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Timing {
    /// How often the controllers reconcile while things change (an idle
    /// cluster backs off to 16 ticks, at most a second; a client write wakes
    /// them at once).
    pub tick: Duration,
    /// From pod creation to a healthy pod being ready (and to a failing
    /// pod showing its failure).
    pub pod_ready: Duration,
    /// From pod creation to a `slow*` pod being ready (5 s by convention).
    pub slow_ready: Duration,
    /// Between restarts of a crash-looping container (and image pull
    /// retries).
    pub crash_restart: Duration,
    /// How long a healthy Job runs.
    pub job_duration: Duration,
    /// How often a watch with `allowWatchBookmarks` gets a BOOKMARK.
    pub bookmark_interval: Duration,
    /// How often a cluster with a state file saves changes.
    pub save_interval: Duration,
}

impl Default for Timing {
    fn default() -> Self {
        Timing {
            tick: Duration::from_millis(50),
            pod_ready: Duration::from_millis(200),
            slow_ready: Duration::from_secs(5),
            crash_restart: Duration::from_secs(1),
            job_duration: Duration::from_millis(300),
            bookmark_interval: Duration::from_secs(30),
            save_interval: Duration::from_millis(200),
        }
    }
}

impl Timing {
    /// Short delays for tests (`slow*` pods take 600 ms instead of 5 s).
    pub fn fast() -> Self {
        Timing {
            tick: Duration::from_millis(10),
            pod_ready: Duration::from_millis(60),
            slow_ready: Duration::from_millis(600),
            crash_restart: Duration::from_millis(80),
            job_duration: Duration::from_millis(100),
            bookmark_interval: Duration::from_millis(500),
            save_interval: Duration::from_millis(50),
        }
    }
}

/// Whether the cluster answers requests. Kept with the state, so a fault
/// set on a cluster's state file holds for the next process that serves it.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Reachability {
    /// Normal operation.
    #[default]
    Answering,
    /// Connections are accepted but no request gets an answer (open watches
    /// stall) until the cluster answers again.
    Hanging,
    /// The port is closed: connections are refused and open ones dropped.
    Refusing,
    /// Every request is answered at once with 503 ServiceUnavailable, as an
    /// API server whose storage is down does.
    Unavailable,
}

/// The current fault settings.
#[derive(Clone, Copy, Debug, Default)]
pub(crate) struct FaultState {
    reach: Reachability,
    latency: Duration,
}

/// The cluster-level fault switches.
pub(crate) struct Faults {
    state: signal::Sender<FaultState>,
}

impl Faults {
    fn new(initial: FaultState) -> Self {
        Faults {
            state: signal::channel(initial).0,
        }
    }

    /// Waits while the cluster is hanging.
    pub(crate) async fn wait_answering(&self) {
        let mut rx = self.state.subscribe();
        let _ = rx.wait_for(|s| s.reach != Reachability::Hanging).await;
    }

    pub(crate) fn subscribe(&self) -> signal::Receiver<FaultState> {
        self.state.subscribe()
    }

    pub(crate) fn unavailable(&self) -> bool {
        self.state.borrow().reach == Reachability::Unavailable
    }

    pub(crate) fn latency(&self) -> Duration {
        self.state.borrow().latency
    }
}

/// What the server, the controllers and the handle share.
pub struct Shared {
    pub(crate) name: String,
    pub(crate) timing: Timing,
    pub(crate) store: store::Store,
    pub(crate) faults: Faults,
    persist: Mutex<Option<PathBuf>>,
}

/// One test cluster: its name, state, timing and fault switches. Cheap to
/// clone (clones share the cluster).
#[derive(Clone)]
pub struct SimCluster {
    shared: Arc<Shared>,
}

impl SimCluster {
    /// An empty cluster (namespaces `default`, `kube-system`,
    /// `kube-public`). The name matters for `-in-<cluster>` image tags.
    pub fn new(name: impl Into<String>, timing: Timing) -> Self {
        Self::from_state(name.into(), timing, store::State::default(), None)
    }

    fn from_state(
        name: String,
        timing: Timing,
        state: store::State,
        persist: Option<PathBuf>,
    ) -> Self {
        let faults = FaultState {
            reach: state.faults.reachability,
            latency: Duration::from_millis(state.faults.latency_ms),
        };
        SimCluster {
            shared: Arc::new(Shared {
                name,
                timing,
                store: store::Store::from_state(state),
                faults: Faults::new(faults),
                persist: Mutex::new(persist),
            }),
        }
    }

    /// A cluster whose state lives in `path` (e.g. `.paas/sim/<name>.json`):
    /// loaded now if the file exists (empty otherwise), and saved there
    /// while it runs and when it shuts down.
    pub fn load(name: impl Into<String>, path: &Path, timing: Timing) -> Result<Self, Error> {
        let state = match std::fs::read(path) {
            Ok(bytes) => serde_json::from_slice(&bytes).map_err(|source| Error::Parse {
                path: path.to_path_buf(),
                source,
            })?,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => store::State::default(),
            Err(source) => {
                return Err(Error::Read {
                    path: path.to_path_buf(),
                    source,
                });
            }
        };
        Ok(Self::from_state(
            name.into(),
            timing,
            state,
            Some(path.to_path_buf()),
        ))
    }

    /// Writes the state to `path` (atomically: a temporary file renamed).
    pub fn save(&self, path: &Path) -> Result<(), Error> {
        let err = |source| Error::Write {
            path: path.to_path_buf(),
            source,
        };
        if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
            std::fs::create_dir_all(dir).map_err(err)?;
        }
        let bytes = serde_json::to_vec_pretty(&self.shared.store.snapshot())
            .map_err(|e| err(std::io::Error::other(e)))?;
        let tmp = path.with_extension("json.tmp");
        std::fs::write(&tmp, bytes).map_err(err)?;
        std::fs::rename(&tmp, path).map_err(err)
    }

    fn autosave(&self) {
        let path = self
            .shared
            .persist
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .clone();
        if let Some(path) = path
            && self.shared.store.take_dirty()
        {
            // A failed save (full disk, removed directory) is retried at the
            // next interval; the cluster keeps serving from memory.
            if self.save(&path).is_err() {
                self.shared.store.mark_dirty();
            }
        }
    }

    /// The cluster's name.
    pub fn name(&self) -> &str {
        &self.shared.name
    }

    /// The delays in use.
    pub fn timing(&self) -> Timing {
        self.shared.timing
    }

    /// Makes the cluster answer, hang, refuse connections or answer 503.
    pub fn set_reachability(&self, reach: Reachability) {
        self.shared.faults.state.send_modify(|s| s.reach = reach);
        self.persist_faults();
    }

    /// Adds latency to every request (zero to stop).
    pub fn set_latency(&self, latency: Duration) {
        self.shared
            .faults
            .state
            .send_modify(|s| s.latency = latency);
        self.persist_faults();
    }

    /// The current reachability.
    pub fn reachability(&self) -> Reachability {
        self.shared.faults.state.borrow().reach
    }

    /// The added latency.
    pub fn latency(&self) -> Duration {
        self.shared.faults.latency()
    }

    fn persist_faults(&self) {
        let current = *self.shared.faults.state.borrow();
        let latency_ms = u64::try_from(current.latency.as_millis()).unwrap_or(u64::MAX);
        self.shared.store.set_faults(store::PersistedFaults {
            reachability: current.reach,
            latency_ms,
        });
    }

    /// Empties the cluster, as if its etcd were lost: every object goes
    /// (the default namespaces come back), open watches end and resuming
    /// a watch from an earlier resourceVersion gives 410.
    pub fn wipe(&self) {
        self.shared.store.wipe();
    }

    /// The router, for driving the API without a socket.
    pub fn router(&self) -> axum::Router {
        server::router(self.shared.clone())
    }

    /// [`SimCluster::serve`] on a free loopback port (`127.0.0.1:0`).
    pub async fn serve_loopback(&self) -> Result<RunningCluster, Error> {
        let listener = TcpListener::bind(("127.0.0.1", 0))
            .await
            .map_err(Error::Serve)?;
        self.serve(listener).await
    }

    /// Serves the API on `listener` and starts the controllers. Serve a
    /// cluster once at a time: two servers would run two sets of
    /// controllers over the same objects.
    pub async fn serve(&self, listener: TcpListener) -> Result<RunningCluster, Error> {
        let addr = listener.local_addr().map_err(Error::Serve)?;
        let (stop, stopped) = signal::channel(false);
        let mut tasks = Vec::new();
        tasks.push(tokio::spawn(accept_loop(
            listener,
            addr,
            self.clone(),
            stopped.clone(),
        )));
        tasks.push(tokio::spawn(controllers::run(
            self.shared.clone(),
            stopped.clone(),
        )));
        let saver = self.clone();
        let mut saver_stop = stopped;
        tasks.push(tokio::spawn(async move {
            loop {
                tokio::select! {
                    _ = saver_stop.changed() => break,
                    _ = tokio::time::sleep(saver.shared.timing.save_interval) => saver.autosave(),
                }
            }
            saver.autosave();
        }));
        Ok(RunningCluster {
            cluster: self.clone(),
            url: format!("http://{addr}"),
            stop,
            tasks,
        })
    }
}

async fn accept_loop(
    listener: TcpListener,
    addr: std::net::SocketAddr,
    cluster: SimCluster,
    mut stop: signal::Receiver<bool>,
) {
    let router = cluster.router();
    let mut faults = cluster.shared.faults.state.subscribe();
    let (kill, _) = signal::channel(0u64);
    let mut listener = Some(listener);
    loop {
        if faults.borrow_and_update().reach == Reachability::Refusing {
            if listener.take().is_some() {
                kill.send_modify(|epoch| *epoch += 1);
            }
            tokio::select! {
                _ = stop.changed() => break,
                changed = faults.changed() => if changed.is_err() { break },
            }
            continue;
        }
        let active = match &listener {
            Some(l) => l,
            None => match TcpListener::bind(addr).await {
                Ok(l) => listener.insert(l),
                Err(_) => {
                    // The port may still be in use: retry, but stay stoppable.
                    tokio::select! {
                        _ = stop.changed() => break,
                        _ = tokio::time::sleep(Duration::from_millis(20)) => continue,
                    }
                }
            },
        };
        tokio::select! {
            _ = stop.changed() => break,
            changed = faults.changed() => if changed.is_err() { break },
            accepted = active.accept() => {
                let Ok((stream, _)) = accepted else { continue };
                let service = hyper_util::service::TowerToHyperService::new(router.clone());
                let mut killed = kill.subscribe();
                tokio::spawn(async move {
                    let conn = hyper::server::conn::http1::Builder::new()
                        .serve_connection(hyper_util::rt::TokioIo::new(stream), service);
                    tokio::select! {
                        _ = conn => {}
                        _ = killed.changed() => {}
                    }
                });
            }
        }
    }
    kill.send_modify(|epoch| *epoch += 1);
}

/// A cluster being served: its URL, and the way to stop it.
pub struct RunningCluster {
    cluster: SimCluster,
    url: String,
    stop: signal::Sender<bool>,
    tasks: Vec<JoinHandle<()>>,
}

impl RunningCluster {
    /// The base URL (`http://127.0.0.1:<port>`).
    pub fn url(&self) -> &str {
        &self.url
    }

    /// The cluster (for fault switches).
    pub fn cluster(&self) -> &SimCluster {
        &self.cluster
    }

    /// Stops serving and the controllers, saving the state when the cluster
    /// has a state file.
    pub async fn shutdown(mut self) {
        let _ = self.stop.send(true);
        for task in self.tasks.drain(..) {
            let _ = task.await;
        }
    }
}

impl Drop for RunningCluster {
    fn drop(&mut self) {
        let _ = self.stop.send(true);
    }
}

/// A kubeconfig (YAML) with one context per running cluster, each named
/// after its cluster, over plain HTTP; the first is the current context.
pub fn kubeconfig_yaml(clusters: &[&RunningCluster]) -> String {
    let mut config = serde_json::json!({
        "apiVersion": "v1",
        "kind": "Config",
        "preferences": {},
        "clusters": [],
        "users": [{"name": "sim", "user": {"token": "sim"}}],
        "contexts": [],
    });
    for running in clusters {
        let name = running.cluster.name();
        config["clusters"].as_array_mut().into_iter().for_each(|a| {
            a.push(serde_json::json!({"name": name, "cluster": {"server": running.url}}));
        });
        config["contexts"].as_array_mut().into_iter().for_each(|a| {
            a.push(serde_json::json!({"name": name, "context": {"cluster": name, "user": "sim", "namespace": "default"}}));
        });
    }
    if let Some(first) = clusters.first() {
        config["current-context"] = serde_json::json!(first.cluster.name());
    }
    serde_yaml::to_string(&config).unwrap_or_default()
}

/// Writes [`kubeconfig_yaml`] to `path`.
pub fn write_kubeconfig(path: &Path, clusters: &[&RunningCluster]) -> Result<(), Error> {
    std::fs::write(path, kubeconfig_yaml(clusters)).map_err(|source| Error::Write {
        path: path.to_path_buf(),
        source,
    })
}
