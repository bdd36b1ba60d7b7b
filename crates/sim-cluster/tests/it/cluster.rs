//! Cluster-level behaviour: persistence, faults (hang, refuse, latency,
//! wipe), watch resumption and the kubeconfig.

use crate::support::*;
use futures_util::StreamExt;
use k8s_openapi::api::core::v1::{ConfigMap, Namespace};
use kube::api::{Api, ListParams, PostParams, WatchEvent, WatchParams};
use serde_json::json;
use sim_cluster::{Reachability, SimCluster, Timing};
use std::time::Duration;

fn cm(name: &str) -> ConfigMap {
    typed(
        json!({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": name}, "data": {"k": name}}),
    )
}

#[tokio::test]
async fn state_survives_a_restart() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join(".paas/sim/local.json");
    let sim = start_cluster(SimCluster::load("local", &path, Timing::fast()).unwrap()).await;
    let api: Api<ConfigMap> = Api::namespaced(sim.client.clone(), "default");
    let created = api
        .create(&PostParams::default(), &cm("kept"))
        .await
        .unwrap();
    sim.running.shutdown().await;
    assert!(path.exists());

    let again = start_cluster(SimCluster::load("local", &path, Timing::fast()).unwrap()).await;
    let api: Api<ConfigMap> = Api::namespaced(again.client.clone(), "default");
    let loaded = api.get("kept").await.unwrap();
    assert_eq!(loaded.metadata.uid, created.metadata.uid);
    assert_eq!(
        loaded.metadata.resource_version,
        created.metadata.resource_version
    );
    let next = api
        .create(&PostParams::default(), &cm("next"))
        .await
        .unwrap();
    let rv = |c: &ConfigMap| {
        c.metadata
            .resource_version
            .as_deref()
            .unwrap()
            .parse::<u64>()
            .unwrap()
    };
    assert!(
        rv(&next) > rv(&created),
        "the resourceVersion counter continues"
    );

    // Faults are part of the state: set on the file, they hold for the
    // next process that serves it.
    again.running.shutdown().await;
    let offline = SimCluster::load("local", &path, Timing::fast()).unwrap();
    offline.set_reachability(Reachability::Unavailable);
    offline.save(&path).unwrap();
    let faulty = start_cluster(SimCluster::load("local", &path, Timing::fast()).unwrap()).await;
    assert_eq!(
        faulty.running.cluster().reachability(),
        Reachability::Unavailable
    );
    let no_retry: Api<ConfigMap> =
        Api::namespaced(client_with(&faulty.running, None, false).await, "default");
    assert_eq!(status(no_retry.get("kept").await).code, 503);
    faulty
        .running
        .cluster()
        .set_reachability(Reachability::Answering);
    no_retry.get("kept").await.unwrap();

    // Explicit save and a corrupt file.
    let copy = dir.path().join("copy.json");
    faulty.running.cluster().save(&copy).unwrap();
    assert!(std::fs::read_to_string(&copy).unwrap().contains("\"next\""));
    std::fs::write(&copy, "not json").unwrap();
    assert!(matches!(
        SimCluster::load("x", &copy, Timing::fast()),
        Err(sim_cluster::Error::Parse { .. })
    ));
}

#[tokio::test]
async fn a_hanging_cluster_times_out_and_recovers() {
    let sim = start("a").await;
    let impatient = client_for(&sim.running, Some(Duration::from_millis(300))).await;
    let api: Api<Namespace> = Api::all(impatient);
    api.get("default").await.unwrap();
    sim.running
        .cluster()
        .set_reachability(Reachability::Hanging);
    let err = api.get("default").await.unwrap_err();
    assert!(
        !matches!(err, kube::Error::Api(_)),
        "no answer at all, got {err:?}"
    );
    sim.running
        .cluster()
        .set_reachability(Reachability::Answering);
    api.get("default").await.unwrap();
}

#[tokio::test]
async fn a_refusing_cluster_closes_its_port_and_reopens_it() {
    let sim = start("a").await;
    let api: Api<Namespace> = Api::all(sim.client.clone());
    api.get("default").await.unwrap();
    sim.running
        .cluster()
        .set_reachability(Reachability::Refusing);
    let addr = sim.running.url().trim_start_matches("http://").to_string();
    eventually(Duration::from_secs(5), "port closed", || {
        let addr = addr.clone();
        async move {
            tokio::net::TcpStream::connect(&addr)
                .await
                .is_err()
                .then_some(())
        }
    })
    .await;
    assert!(api.get("default").await.is_err());
    sim.running
        .cluster()
        .set_reachability(Reachability::Answering);
    eventually(Duration::from_secs(5), "port reopened", || {
        let api = api.clone();
        async move { api.get("default").await.ok() }
    })
    .await;
}

#[tokio::test]
async fn latency_delays_answers() {
    let sim = start("a").await;
    let api: Api<Namespace> = Api::all(sim.client.clone());
    sim.running
        .cluster()
        .set_latency(Duration::from_millis(250));
    let started = std::time::Instant::now();
    api.get("default").await.unwrap();
    assert!(started.elapsed() >= Duration::from_millis(250));
    sim.running.cluster().set_latency(Duration::ZERO);
}

#[tokio::test]
async fn wipe_empties_the_cluster_and_expires_old_resource_versions() {
    let sim = start("a").await;
    let api: Api<ConfigMap> = Api::namespaced(sim.client.clone(), "default");
    let created = api
        .create(&PostParams::default(), &cm("gone"))
        .await
        .unwrap();
    let old_rv = created.metadata.resource_version.unwrap();
    let params = WatchParams::default().timeout(5);
    let mut open = api.watch(&params, &old_rv).await.unwrap().boxed();

    sim.running.cluster().wipe();
    // The open watch ends.
    let ended = tokio::time::timeout(Duration::from_secs(5), async {
        while let Some(event) = open.next().await {
            if event.is_err() {
                break;
            }
        }
    })
    .await;
    assert!(
        ended.is_ok(),
        "the watch should end when the cluster is wiped"
    );
    assert!(
        api.list(&ListParams::default())
            .await
            .unwrap()
            .items
            .is_empty()
    );
    let namespaces: Api<Namespace> = Api::all(sim.client.clone());
    namespaces.get("default").await.unwrap();

    let mut stream = api.watch(&params, &old_rv).await.unwrap().boxed();
    match stream.next().await {
        Some(Ok(WatchEvent::Error(status))) => assert_eq!(status.code, 410),
        other => panic!("expected a 410 ERROR event, got {other:?}"),
    }
}

#[tokio::test]
async fn watch_replays_changes_after_a_resource_version() {
    let sim = start("a").await;
    let api: Api<ConfigMap> = Api::namespaced(sim.client.clone(), "default");
    let first = api
        .create(&PostParams::default(), &cm("one"))
        .await
        .unwrap();
    api.create(&PostParams::default(), &cm("two"))
        .await
        .unwrap();
    api.delete("one", &Default::default()).await.unwrap();
    let mut stream = api
        .watch(
            &WatchParams::default().timeout(1),
            first.metadata.resource_version.as_deref().unwrap(),
        )
        .await
        .unwrap()
        .boxed();
    let mut seen = Vec::new();
    while let Some(event) = stream.next().await {
        match event.unwrap() {
            WatchEvent::Added(c) => seen.push(format!("ADDED {}", c.metadata.name.unwrap())),
            WatchEvent::Modified(c) => seen.push(format!("MODIFIED {}", c.metadata.name.unwrap())),
            WatchEvent::Deleted(c) => seen.push(format!("DELETED {}", c.metadata.name.unwrap())),
            WatchEvent::Bookmark(_) => {}
            WatchEvent::Error(e) => panic!("{e:?}"),
        }
    }
    assert_eq!(
        seen,
        ["ADDED two", "DELETED one"],
        "then the timeout ends the stream"
    );
}

#[tokio::test]
async fn kubeconfig_has_a_context_per_cluster() {
    let a = start("local-a").await;
    let b = start("local-b").await;
    let yaml = sim_cluster::kubeconfig_yaml(&[&a.running, &b.running]);
    let config = kube::config::Kubeconfig::from_yaml(&yaml).unwrap();
    let contexts: Vec<&str> = config.contexts.iter().map(|c| c.name.as_str()).collect();
    assert_eq!(contexts, ["local-a", "local-b"]);
    assert_eq!(config.current_context.as_deref(), Some("local-a"));
    let servers: Vec<Option<String>> = config
        .clusters
        .iter()
        .map(|c| c.cluster.as_ref().and_then(|c| c.server.clone()))
        .collect();
    assert_eq!(
        servers,
        [
            Some(a.running.url().to_string()),
            Some(b.running.url().to_string())
        ]
    );
}

#[tokio::test]
async fn streaming_list_ends_initial_events_with_a_bookmark() {
    let sim = start("a").await;
    let api: Api<ConfigMap> = Api::namespaced(sim.client.clone(), "default");
    api.create(&PostParams::default(), &cm("one"))
        .await
        .unwrap();
    let params = WatchParams::streaming_lists().timeout(2);
    let mut stream = api.watch(&params, "").await.unwrap().boxed();
    match stream.next().await {
        Some(Ok(WatchEvent::Added(c))) => assert_eq!(c.metadata.name.as_deref(), Some("one")),
        other => panic!("expected the existing object first, got {other:?}"),
    }
    match stream.next().await {
        Some(Ok(WatchEvent::Bookmark(b))) => {
            assert_eq!(
                b.metadata
                    .annotations
                    .get("k8s.io/initial-events-end")
                    .map(String::as_str),
                Some("true")
            );
        }
        other => panic!("expected the end-of-initial-events bookmark, got {other:?}"),
    }
}

#[tokio::test]
async fn an_unavailable_cluster_answers_503_and_ends_watches() {
    let sim = start("a").await;
    let no_retry = client_with(&sim.running, None, false).await;
    let api: Api<ConfigMap> = Api::namespaced(no_retry, "default");
    let mut watch = api
        .watch(&WatchParams::default().timeout(10), "0")
        .await
        .unwrap()
        .boxed();
    sim.running
        .cluster()
        .set_reachability(Reachability::Unavailable);
    let unavailable = status(api.get("x").await);
    assert_eq!(
        (unavailable.code, unavailable.reason.as_str()),
        (503, "ServiceUnavailable")
    );
    let ended = tokio::time::timeout(Duration::from_secs(5), async {
        while watch.next().await.is_some() {}
    })
    .await;
    assert!(ended.is_ok(), "open watches end");

    // kube's default retry policy rides out a short outage.
    let retrying: Api<Namespace> = Api::all(sim.client.clone());
    let cluster = sim.running.cluster().clone();
    tokio::spawn(async move {
        tokio::time::sleep(Duration::from_millis(100)).await;
        cluster.set_reachability(Reachability::Answering);
    });
    retrying.get("default").await.unwrap();
}
