//! Connections: one [`kube::Client`] per cluster, with a timeout on every
//! request, kube's default retry policy off, and a request counter.
//!
//! kube's default client retries 503 answers with back-off (up to 15
//! times), which turns a cluster whose storage is down into minutes of
//! silence; the adapter turns that retry off and bounds every request with
//! its own timeout instead, so a failing cluster is reported at once and the
//! planner's deadlines and retries decide what happens next.

use std::future::Future;
use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use kube::client::ClientBuilder;
use kube::config::{KubeConfigOptions, Kubeconfig};
use platform_config::EnvironmentConfig;

use crate::error::{Error, Result};

/// Knobs of the adapter that are about time and places, not about a release.
#[derive(Debug, Clone)]
pub struct Settings {
    /// Bound of every request (connect, send, answer) that is not a watch.
    pub request_timeout: Duration,
    /// How long one watch request stays open before it is renewed; a watch
    /// that gets nothing for this long plus [`Self::request_timeout`] counts
    /// as a timeout (the server ends watches at this bound itself).
    pub watch_seconds: u32,
    /// How long a new pod may stay unschedulable before its rollout fails.
    pub unschedulable_window: Duration,
    /// The namespace holding the `Release` records, their manifests
    /// ConfigMaps and the leases.
    pub namespace: String,
}

impl Default for Settings {
    fn default() -> Self {
        Settings {
            request_timeout: Duration::from_secs(10),
            watch_seconds: 30,
            unschedulable_window: Duration::from_secs(60),
            namespace: crate::RECORDS_NAMESPACE.to_owned(),
        }
    }
}

/// One connected cluster: its name, client, settings and request counter.
/// Cheap to clone (clones share the client and the counter).
#[derive(Clone)]
pub struct ClusterClient {
    name: String,
    client: kube::Client,
    requests: Arc<AtomicU64>,
    settings: Arc<Settings>,
}

impl std::fmt::Debug for ClusterClient {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ClusterClient")
            .field("name", &self.name)
            .field("requests", &self.requests())
            .finish()
    }
}

impl ClusterClient {
    /// Builds a client from a kube configuration (retries off, counted).
    pub fn from_config(
        name: impl Into<String>,
        mut config: kube::Config,
        settings: Settings,
    ) -> Result<ClusterClient> {
        let name = name.into();
        config.default_retry = false;
        config.connect_timeout = Some(settings.request_timeout);
        // Reads are bounded per request by `call` and per watch item by the
        // watch loop; a socket read timeout would cut idle watches short.
        config.read_timeout = None;
        config.write_timeout = Some(settings.request_timeout);
        let requests = Arc::new(AtomicU64::new(0));
        let counter = requests.clone();
        let count = tower::util::MapRequestLayer::new(move |req: http_request::Request| {
            counter.fetch_add(1, Ordering::Relaxed);
            req
        });
        let builder = ClientBuilder::try_from(config).map_err(|e| Error::Config {
            cluster: name.clone(),
            message: e.to_string(),
        })?;
        let client = builder.with_layer(&count).build();
        Ok(ClusterClient {
            name,
            client,
            requests,
            settings: Arc::new(settings),
        })
    }

    /// A cluster at a plain URL (what a `sim://` cluster started in-process
    /// hands over: `http://127.0.0.1:<port>`).
    pub fn from_url(name: impl Into<String>, url: &str, settings: Settings) -> Result<Self> {
        let name = name.into();
        let uri: http_request::Uri = url.parse().map_err(|_| Error::Config {
            cluster: name.clone(),
            message: format!("{url:?} is not a URL"),
        })?;
        ClusterClient::from_config(name, kube::Config::new(uri), settings)
    }

    /// A cluster from a kubeconfig context (`path`, or the default
    /// kubeconfig: `KUBECONFIG` or `~/.kube/config`).
    pub async fn from_context(
        name: impl Into<String>,
        context: &str,
        path: Option<&Path>,
        settings: Settings,
    ) -> Result<Self> {
        let name = name.into();
        let bad = |message: String| Error::Config {
            cluster: name.clone(),
            message,
        };
        let kubeconfig = match path {
            Some(path) => Kubeconfig::read_from(path),
            None => Kubeconfig::read(),
        }
        .map_err(|e| bad(e.to_string()))?;
        let options = KubeConfigOptions {
            context: Some(context.to_owned()),
            ..KubeConfigOptions::default()
        };
        let config = kube::Config::from_custom_kubeconfig(kubeconfig, &options)
            .await
            .map_err(|e| bad(e.to_string()))?;
        ClusterClient::from_config(name, config, settings)
    }

    /// The cluster the process runs in (service account token).
    pub fn in_cluster(name: impl Into<String>, settings: Settings) -> Result<Self> {
        let name = name.into();
        let config = kube::Config::incluster().map_err(|e| Error::Config {
            cluster: name.clone(),
            message: e.to_string(),
        })?;
        ClusterClient::from_config(name, config, settings)
    }

    /// The cluster's name.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The kube client (every request through it is counted).
    pub fn client(&self) -> &kube::Client {
        &self.client
    }

    /// The settings in use.
    pub fn settings(&self) -> &Settings {
        &self.settings
    }

    /// API requests sent so far through this client.
    pub fn requests(&self) -> u64 {
        self.requests.load(Ordering::Relaxed)
    }

    /// Runs one request under the request timeout, naming the cluster in
    /// the error.
    pub async fn call<T>(
        &self,
        request: impl Future<Output = Result<T, kube::Error>>,
    ) -> Result<T> {
        match tokio::time::timeout(self.settings.request_timeout, request).await {
            Ok(Ok(value)) => Ok(value),
            Ok(Err(source)) => Err(Error::Kube {
                cluster: self.name.clone(),
                source,
            }),
            Err(_) => Err(self.timeout()),
        }
    }

    /// The timeout error of this cluster.
    pub fn timeout(&self) -> Error {
        Error::Timeout {
            cluster: self.name.clone(),
            seconds: self.settings.request_timeout.as_secs().max(1),
        }
    }
}

/// The request and URL types of the `http` crate kube is built on.
mod http_request {
    pub type Request = http::Request<kube::client::Body>;
    pub use http::Uri;
}

/// Connects every cluster of an environment. `sim_url` resolves a
/// `sim://<name>` address to the URL of the test cluster the caller started
/// (the `paas` binary serves it in-process); `kubeconfig` overrides the
/// default kubeconfig for `context:<name>` addresses.
pub async fn connect_environment(
    environment: &EnvironmentConfig,
    sim_url: impl Fn(&str) -> Option<String>,
    kubeconfig: Option<&Path>,
    settings: &Settings,
) -> Result<Vec<ClusterClient>> {
    let mut clients = Vec::with_capacity(environment.clusters.len());
    for cluster in &environment.clusters {
        let address = cluster.address.as_str();
        let client = if let Some(context) = address.strip_prefix("context:") {
            ClusterClient::from_context(&cluster.name, context, kubeconfig, settings.clone())
                .await?
        } else if address == "in-cluster" {
            ClusterClient::in_cluster(&cluster.name, settings.clone())?
        } else if let Some(sim) = address.strip_prefix("sim://") {
            let url = sim_url(sim).ok_or_else(|| Error::Address {
                cluster: cluster.name.clone(),
                address: address.to_owned(),
            })?;
            ClusterClient::from_url(&cluster.name, &url, settings.clone())?
        } else if address.starts_with("http://") || address.starts_with("https://") {
            ClusterClient::from_url(&cluster.name, address, settings.clone())?
        } else {
            return Err(Error::Address {
                cluster: cluster.name.clone(),
                address: address.to_owned(),
            });
        };
        clients.push(client);
    }
    Ok(clients)
}
