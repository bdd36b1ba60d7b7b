//! Connecting an environment: kubeconfig contexts, `sim://` URLs, the
//! request counter, timeouts and no retry storm on 503.

use std::time::{Duration, Instant};

use cluster::{Settings, connect_environment};
use k8s_openapi::api::core::v1::Namespace;
use kube::api::Api;
use platform_config::{ClusterConfig, DependencyAddressing, EnvironmentConfig};
use sim_cluster::{Reachability, RunningCluster, SimCluster, Timing};

use crate::support::settings;

fn environment(clusters: &[(&str, &str)]) -> EnvironmentConfig {
    EnvironmentConfig {
        clusters: clusters
            .iter()
            .map(|(name, address)| ClusterConfig {
                name: (*name).to_owned(),
                address: (*address).to_owned(),
            })
            .collect(),
        dependencies: DependencyAddressing::ClusterDns,
        min_replicas: None,
        local_ports: Default::default(),
        test_copies: None,
    }
}

#[tokio::test]
async fn contexts_and_sim_urls_connect_and_count_requests() {
    let a = SimCluster::new("a", Timing::fast())
        .serve_loopback()
        .await
        .expect("a");
    let b = SimCluster::new("b", Timing::fast())
        .serve_loopback()
        .await
        .expect("b");
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("kubeconfig");
    let refs: Vec<&RunningCluster> = vec![&a];
    sim_cluster::write_kubeconfig(&path, &refs).expect("kubeconfig");
    let env = environment(&[("prod-a", "context:a"), ("local-b", "sim://b")]);
    let b_url = b.url().to_owned();
    let clients = connect_environment(
        &env,
        |name| (name == "b").then(|| b_url.clone()),
        Some(&path),
        &settings(),
    )
    .await
    .expect("connect");
    assert_eq!(
        clients.iter().map(|c| c.name()).collect::<Vec<_>>(),
        ["prod-a", "local-b"]
    );
    for client in &clients {
        let api: Api<Namespace> = Api::all(client.client().clone());
        let list = client
            .call(api.list(&Default::default()))
            .await
            .expect("list");
        assert!(list.items.len() >= 3);
        assert_eq!(client.requests(), 1);
    }
    let unknown = environment(&[("x", "sim://nowhere")]);
    assert!(
        connect_environment(&unknown, |_| None, None, &settings())
            .await
            .is_err()
    );
    let bad = environment(&[("x", "ftp://x")]);
    assert!(
        connect_environment(&bad, |_| None, None, &settings())
            .await
            .is_err()
    );
}

#[tokio::test]
async fn a_503_is_not_retried_and_a_hang_times_out() {
    let running = SimCluster::new("a", Timing::fast())
        .serve_loopback()
        .await
        .expect("a");
    let client = cluster::ClusterClient::from_url(
        "a",
        running.url(),
        Settings {
            request_timeout: Duration::from_millis(500),
            ..settings()
        },
    )
    .expect("client");
    let api: Api<Namespace> = Api::all(client.client().clone());
    running
        .cluster()
        .set_reachability(Reachability::Unavailable);
    let error = client
        .call(api.list(&Default::default()))
        .await
        .expect_err("503");
    assert_eq!(error.status_code(), Some(503));
    assert!(error.is_unreachable());
    assert_eq!(client.requests(), 1, "no retries");
    running.cluster().set_reachability(Reachability::Hanging);
    let started = Instant::now();
    let error = client
        .call(api.list(&Default::default()))
        .await
        .expect_err("hang");
    assert!(matches!(error, cluster::Error::Timeout { .. }), "{error}");
    assert!(started.elapsed() < Duration::from_secs(3));
    running.cluster().set_reachability(Reachability::Answering);
}
