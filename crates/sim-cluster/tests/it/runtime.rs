//! kube-runtime's watcher and `await_condition` against the test cluster:
//! the list-then-watch protocol, streaming lists and recovery from 410.

use crate::support::*;
use futures_util::StreamExt;
use k8s_openapi::api::apps::v1::Deployment;
use k8s_openapi::api::core::v1::ConfigMap;
use kube::api::{Api, Patch, PatchParams, PostParams};
use kube::runtime::wait::await_condition;
use kube::runtime::watcher::{self, Event};
use serde_json::json;
use std::time::Duration;

fn cm(name: &str) -> ConfigMap {
    typed(json!({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": name}}))
}

fn describe(event: &Event<ConfigMap>) -> String {
    let name = |c: &ConfigMap| c.metadata.name.clone().unwrap_or_default();
    match event {
        Event::Init => "Init".into(),
        Event::InitApply(c) => format!("InitApply {}", name(c)),
        Event::InitDone => "InitDone".into(),
        Event::Apply(c) => format!("Apply {}", name(c)),
        Event::Delete(c) => format!("Delete {}", name(c)),
    }
}

/// Reads watcher events until `until` is seen, returning all of them.
async fn read_until(
    stream: &mut (impl futures_util::Stream<Item = Result<Event<ConfigMap>, watcher::Error>> + Unpin),
    until: &str,
) -> Vec<String> {
    let mut seen = Vec::new();
    let found = tokio::time::timeout(Duration::from_secs(10), async {
        while let Some(event) = stream.next().await {
            let Ok(event) = event else { continue };
            seen.push(describe(&event));
            if seen.last().is_some_and(|s| s == until) {
                return;
            }
        }
    })
    .await;
    assert!(found.is_ok(), "never saw {until}; saw {seen:?}");
    seen
}

#[tokio::test]
async fn await_condition_sees_a_deployment_become_ready() {
    let sim = start("a").await;
    let api: Api<Deployment> = Api::namespaced(sim.client.clone(), "default");
    api.patch(
        "web",
        &PatchParams::apply("paas"),
        &Patch::Apply(deployment("web", "web:1", 2)),
    )
    .await
    .unwrap();
    let available = |d: Option<&Deployment>| {
        d.and_then(|d| d.status.as_ref()?.conditions.as_ref())
            .is_some_and(|cs| {
                cs.iter()
                    .any(|c| c.type_ == "Available" && c.status == "True")
            })
            && d.and_then(|d| d.status.as_ref()?.available_replicas) == Some(2)
    };
    let done = tokio::time::timeout(
        Duration::from_secs(10),
        await_condition(api, "web", available),
    )
    .await;
    assert!(done.expect("in time").unwrap().is_some());
}

#[tokio::test]
async fn watcher_lists_watches_and_relists_after_a_wipe() {
    let sim = start("a").await;
    let api: Api<ConfigMap> = Api::namespaced(sim.client.clone(), "default");
    api.create(&PostParams::default(), &cm("before"))
        .await
        .unwrap();
    let mut stream = watcher::watcher(api.clone(), watcher::Config::default()).boxed();
    assert_eq!(
        read_until(&mut stream, "InitDone").await,
        ["Init", "InitApply before", "InitDone"]
    );
    api.create(&PostParams::default(), &cm("after"))
        .await
        .unwrap();
    assert_eq!(
        read_until(&mut stream, "Apply after").await,
        ["Apply after"]
    );

    // The wipe ends the watch; resuming gives 410, so the watcher lists again
    // and finds nothing.
    sim.running.cluster().wipe();
    assert_eq!(
        read_until(&mut stream, "InitDone").await,
        ["Init", "InitDone"]
    );
    api.create(&PostParams::default(), &cm("again"))
        .await
        .unwrap();
    assert_eq!(
        read_until(&mut stream, "Apply again").await,
        ["Apply again"]
    );
}

#[tokio::test]
async fn watcher_with_streaming_lists() {
    let sim = start("a").await;
    let api: Api<ConfigMap> = Api::namespaced(sim.client.clone(), "default");
    api.create(&PostParams::default(), &cm("one"))
        .await
        .unwrap();
    let mut stream =
        watcher::watcher(api.clone(), watcher::Config::default().streaming_lists()).boxed();
    assert_eq!(
        read_until(&mut stream, "InitDone").await,
        ["Init", "InitApply one", "InitDone"]
    );
    api.create(&PostParams::default(), &cm("two"))
        .await
        .unwrap();
    assert_eq!(read_until(&mut stream, "Apply two").await, ["Apply two"]);
}
