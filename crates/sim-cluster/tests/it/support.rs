//! Starting clusters and building clients from the kubeconfig helper.

use kube::Client;
use kube::config::{KubeConfigOptions, Kubeconfig};
use serde_json::{Value, json};
use sim_cluster::{RunningCluster, SimCluster, Timing};
use std::future::Future;
use std::time::Duration;

/// A served cluster and a client for it.
pub struct Sim {
    pub running: RunningCluster,
    pub client: Client,
}

pub async fn start(name: &str) -> Sim {
    start_cluster(SimCluster::new(name, Timing::fast())).await
}

pub async fn start_cluster(cluster: SimCluster) -> Sim {
    let running = cluster.serve_loopback().await.unwrap();
    let client = client_for(&running, None).await;
    Sim { running, client }
}

/// A client built from a kubeconfig written by `write_kubeconfig`, with
/// the cluster's context selected.
pub async fn client_for(running: &RunningCluster, read_timeout: Option<Duration>) -> Client {
    client_with(running, read_timeout, true).await
}

/// [`client_for`], choosing whether kube retries 429/503/504 answers.
pub async fn client_with(
    running: &RunningCluster,
    read_timeout: Option<Duration>,
    retry: bool,
) -> Client {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("kubeconfig");
    sim_cluster::write_kubeconfig(&path, &[running]).unwrap();
    let kubeconfig = Kubeconfig::read_from(&path).unwrap();
    let options = KubeConfigOptions {
        context: Some(running.cluster().name().to_string()),
        ..Default::default()
    };
    let mut config = kube::Config::from_custom_kubeconfig(kubeconfig, &options)
        .await
        .unwrap();
    config.read_timeout = read_timeout.or(Some(Duration::from_secs(10)));
    config.connect_timeout = Some(Duration::from_secs(2));
    config.default_retry = retry;
    Client::try_from(config).unwrap()
}

/// The `Status` of a failed request.
pub fn status<T: std::fmt::Debug>(result: Result<T, kube::Error>) -> kube::core::Status {
    match result {
        Err(kube::Error::Api(status)) => *status,
        other => panic!("expected an API error, got {other:?}"),
    }
}

/// Polls `probe` until it returns Some, failing after `limit`.
pub async fn eventually<T, F, Fut>(limit: Duration, what: &str, mut probe: F) -> T
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Option<T>>,
{
    let deadline = tokio::time::Instant::now() + limit;
    loop {
        if let Some(v) = probe().await {
            return v;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "timed out waiting for {what}"
        );
        tokio::time::sleep(Duration::from_millis(15)).await;
    }
}

/// A Deployment of one container.
pub fn deployment(name: &str, image: &str, replicas: i64) -> Value {
    json!({
        "apiVersion": "apps/v1", "kind": "Deployment",
        "metadata": {"name": name, "labels": {"app": name}},
        "spec": {
            "replicas": replicas,
            "selector": {"matchLabels": {"app": name}},
            "template": {
                "metadata": {"labels": {"app": name}},
                "spec": {"containers": [{"name": "app", "image": image, "ports": [{"containerPort": 8080}]}]},
            },
        },
    })
}

pub fn typed<T: serde::de::DeserializeOwned>(v: Value) -> T {
    serde_json::from_value(v).unwrap()
}

/// The raw JSON of any serialisable value.
pub fn raw<T: serde::Serialize>(v: &T) -> Value {
    serde_json::to_value(v).unwrap()
}

/// A raw request through the client (for what typed APIs cannot send).
pub async fn request(
    client: &Client,
    method: &str,
    uri: &str,
    content_type: &str,
    body: &str,
) -> Result<String, kube::Error> {
    let request = axum::http::Request::builder()
        .method(method)
        .uri(uri)
        .header("content-type", content_type)
        .body(body.as_bytes().to_vec())
        .unwrap();
    client.request_text(request).await
}
