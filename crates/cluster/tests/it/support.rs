//! Test clusters and sample releases.

// Helpers shared by the test modules; not every module uses every one.
#![allow(dead_code)]

use std::collections::BTreeMap;
use std::time::Duration;

use app_toml::Strategy;
use cluster::{ClusterClient, Settings};
use release::{
    Manifests, Object, ObjectRef, Options, Release, ReleaseKind, ReleaseSpec, Timestamp, Version,
};
use serde_json::{Value, json};
use sim_cluster::{RunningCluster, SimCluster, Timing};

/// Running test clusters and a client for each.
pub struct Env {
    pub running: Vec<RunningCluster>,
    pub clients: Vec<ClusterClient>,
}

impl Env {
    pub fn names(&self) -> Vec<String> {
        self.clients.iter().map(|c| c.name().to_owned()).collect()
    }

    pub fn client(&self, name: &str) -> &ClusterClient {
        self.clients
            .iter()
            .find(|c| c.name() == name)
            .expect("cluster")
    }

    pub fn sim(&self, name: &str) -> &SimCluster {
        self.running
            .iter()
            .find(|r| r.cluster().name() == name)
            .expect("cluster")
            .cluster()
    }
}

pub fn settings() -> Settings {
    Settings {
        request_timeout: Duration::from_millis(1500),
        watch_seconds: 2,
        unschedulable_window: Duration::from_millis(500),
        ..Settings::default()
    }
}

/// Starts clusters through a kubeconfig with one context each, as a user's
/// platform config names them.
pub async fn start(names: &[&str]) -> Env {
    let mut running = Vec::new();
    for name in names {
        let cluster = SimCluster::new(*name, Timing::fast());
        running.push(cluster.serve_loopback().await.expect("serve"));
    }
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("kubeconfig");
    let refs: Vec<&RunningCluster> = running.iter().collect();
    sim_cluster::write_kubeconfig(&path, &refs).expect("kubeconfig");
    let mut clients = Vec::new();
    for name in names {
        let client = ClusterClient::from_context(*name, name, Some(&path), settings())
            .await
            .expect("connect");
        cluster::prepare(&client).await.expect("prepare");
        clients.push(client);
    }
    Env { running, clients }
}

fn labels(svc: &str, version: Version) -> Value {
    json!({
        "app.kubernetes.io/name": svc,
        "app.kubernetes.io/part-of": svc,
        "app.kubernetes.io/managed-by": "paas",
        "paas.io/release": version.to_string(),
    })
}

pub fn object(api_version: &str, kind: &str, ns: Option<&str>, name: &str, body: Value) -> Object {
    Object {
        reference: ObjectRef::new(api_version, kind, ns.unwrap_or(""), name),
        body,
    }
}

/// The objects of one version of `svc` in one cluster: a namespace, a
/// versioned Deployment and Service, the stable Service and an HTTPRoute.
pub fn manifests(
    svc: &str,
    version: Version,
    image: &str,
    replicas: u32,
    filler: usize,
) -> Manifests {
    let l = labels(svc, version);
    let name = format!("{svc}-{version}");
    let mut pod_labels = l.clone();
    pod_labels["app.kubernetes.io/instance"] = json!(name);
    let mut config = json!({
        "apiVersion": "v1", "kind": "ConfigMap",
        "metadata": {"name": name, "namespace": svc, "labels": l},
        "data": {"version": version.to_string()},
    });
    if filler > 0 {
        config["data"]["filler"] = json!(crate::support::noise(filler));
    }
    Manifests {
        init: vec![
            object(
                "v1",
                "Namespace",
                None,
                svc,
                json!({
                    "apiVersion": "v1", "kind": "Namespace",
                    "metadata": {"name": svc, "labels": l},
                }),
            ),
            object("v1", "ConfigMap", Some(svc), &name, config),
        ],
        application: vec![
            object(
                "apps/v1",
                "Deployment",
                Some(svc),
                &name,
                json!({
                    "apiVersion": "apps/v1", "kind": "Deployment",
                    "metadata": {"name": name, "namespace": svc, "labels": l},
                    "spec": {
                        "replicas": replicas,
                        "progressDeadlineSeconds": 600,
                        "selector": {"matchLabels": {"app.kubernetes.io/instance": name}},
                        "template": {
                            "metadata": {"labels": pod_labels},
                            "spec": {"containers": [{"name": "app", "image": format!("registry/{svc}:{image}")}]}
                        }
                    }
                }),
            ),
            object(
                "v1",
                "Service",
                Some(svc),
                &name,
                json!({
                    "apiVersion": "v1", "kind": "Service",
                    "metadata": {"name": name, "namespace": svc, "labels": l},
                    "spec": {"selector": {"app.kubernetes.io/instance": name}, "ports": [{"port": 80}]}
                }),
            ),
        ],
        balancing: vec![
            object(
                "v1",
                "Service",
                Some(svc),
                svc,
                json!({
                    "apiVersion": "v1", "kind": "Service",
                    "metadata": {"name": svc, "namespace": svc, "labels": l},
                    "spec": {"selector": {"app.kubernetes.io/name": svc}, "ports": [{"port": 80}]}
                }),
            ),
            object(
                "gateway.networking.k8s.io/v1",
                "HTTPRoute",
                Some(svc),
                svc,
                json!({
                    "apiVersion": "gateway.networking.k8s.io/v1", "kind": "HTTPRoute",
                    "metadata": {"name": svc, "namespace": svc, "labels": l},
                    "spec": {
                        "parentRefs": [{"group": "", "kind": "Service", "name": svc, "port": 80}],
                        "rules": [{"backendRefs": [{"name": name, "port": 80, "weight": 100}]}]
                    }
                }),
            ),
        ],
    }
}

/// Pseudo-random letters that gzip cannot shrink much.
pub fn noise(size: usize) -> String {
    let mut x: u64 = 0x2545_F491_4F6C_DD1D;
    (0..size)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            char::from(b'a' + u8::try_from(x % 26).expect("small"))
        })
        .collect()
}

/// A release of `svc` number `n` over `clusters`, with fast options.
pub fn release(
    svc: &str,
    n: u64,
    previous: Option<u64>,
    image: &str,
    strategy: Strategy,
    clusters: &[String],
) -> Release {
    release_with(svc, n, previous, image, strategy, clusters, 0)
}

/// [`release`] with `filler` bytes of noise per cluster's manifests.
pub fn release_with(
    svc: &str,
    n: u64,
    previous: Option<u64>,
    image: &str,
    strategy: Strategy,
    clusters: &[String],
    filler: usize,
) -> Release {
    let version = Version(n);
    let manifests: BTreeMap<String, Manifests> = clusters
        .iter()
        .map(|c| (c.clone(), manifests(svc, version, image, 2, filler)))
        .collect();
    let spec = ReleaseSpec {
        service: svc.to_owned(),
        environment: "test".to_owned(),
        number: version,
        kind: if strategy == Strategy::Canary {
            ReleaseKind::Canary
        } else {
            ReleaseKind::Deploy
        },
        strategy,
        image: image.to_owned(),
        app_toml: format!("name = \"{svc}\"\n"),
        platform_version: "1".to_owned(),
        clusters: clusters.to_vec(),
        manifests,
        releaser: "tester".to_owned(),
        time: Timestamp("2026-11-23T00:00:00Z".to_owned()),
        commit: "abc123".to_owned(),
        linked_tasks: Vec::new(),
        previous: previous.map(Version),
        rollback: None,
        options: Options {
            canary_steps: vec![20, 50],
            canary_step_seconds: 1,
            stage_deadline_seconds: 8,
            drain_seconds: 0,
            lease_seconds: 5,
            ..Options::default()
        },
        digest: String::new(),
    };
    Release::new(spec).expect("valid release")
}
