//! The simulated controllers and the image-tag fault conventions, seen
//! through watches and lists as the adapter sees them.

use crate::support::*;
use futures_util::StreamExt;
use k8s_openapi::api::apps::v1::{Deployment, ReplicaSet};
use k8s_openapi::api::batch::v1::Job;
use k8s_openapi::api::core::v1::{Event, Pod};
use kube::api::{Api, ListParams, Patch, PatchParams, WatchEvent, WatchParams};
use serde_json::json;
use std::time::Duration;

const LIMIT: Duration = Duration::from_secs(10);

fn condition<'a>(
    d: &'a Deployment,
    kind: &str,
) -> Option<&'a k8s_openapi::api::apps::v1::DeploymentCondition> {
    d.status
        .as_ref()?
        .conditions
        .as_ref()?
        .iter()
        .find(|c| c.type_ == kind)
}

/// The adapter's readiness rule (clusters.md).
fn ready(d: &Deployment) -> bool {
    let (Some(spec), Some(status)) = (&d.spec, &d.status) else {
        return false;
    };
    let want = spec.replicas.unwrap_or(1);
    status.observed_generation >= d.metadata.generation
        && status.updated_replicas == Some(want)
        && status.replicas == Some(want)
        && status.available_replicas.unwrap_or(0) >= want
        && condition(d, "Available").is_some_and(|c| c.status == "True")
}

async fn apply(api: &Api<Deployment>, name: &str, image: &str, replicas: i64) -> Deployment {
    api.patch(
        name,
        &PatchParams::apply("paas").force(),
        &Patch::Apply(deployment(name, image, replicas)),
    )
    .await
    .unwrap()
}

/// Watches the Deployment from `from` until `done` holds, returning it.
async fn watch_until(
    api: &Api<Deployment>,
    name: &str,
    from: &str,
    done: impl Fn(&Deployment) -> bool,
) -> Deployment {
    let params = WatchParams::default()
        .fields(&format!("metadata.name={name}"))
        .timeout(10);
    let mut stream = api.watch(&params, from).await.unwrap().boxed();
    let found = tokio::time::timeout(LIMIT, async {
        while let Some(event) = stream.next().await {
            match event.unwrap() {
                WatchEvent::Added(d) | WatchEvent::Modified(d) if done(&d) => return Some(d),
                WatchEvent::Error(e) => panic!("watch error {e:?}"),
                _ => {}
            }
        }
        None
    })
    .await;
    found
        .ok()
        .flatten()
        .unwrap_or_else(|| panic!("{name} never reached the state"))
}

async fn pods_of(sim: &Sim, app: &str) -> Vec<Pod> {
    let pods: Api<Pod> = Api::namespaced(sim.client.clone(), "default");
    pods.list(&ListParams::default().labels(&format!("app={app}")))
        .await
        .unwrap()
        .items
}

fn waiting_reason(pod: &Pod) -> Option<String> {
    pod.status
        .as_ref()?
        .container_statuses
        .as_ref()?
        .first()?
        .state
        .as_ref()?
        .waiting
        .as_ref()?
        .reason
        .clone()
}

async fn event_with(sim: &Sim, prefix: &str) -> Event {
    let events: Api<Event> = Api::namespaced(sim.client.clone(), "default");
    eventually(LIMIT, prefix, || {
        let events = events.clone();
        async move {
            let list = events.list(&ListParams::default()).await.ok()?;
            list.items
                .into_iter()
                .find(|e| e.message.as_deref().is_some_and(|m| m.starts_with(prefix)))
        }
    })
    .await
}

#[tokio::test]
async fn deployment_becomes_available_watched_from_the_applied_resource_version() {
    let sim = start("a").await;
    let api: Api<Deployment> = Api::namespaced(sim.client.clone(), "default");
    let applied = apply(&api, "web", "nginx:1.27", 2).await;
    let from = applied.metadata.resource_version.clone().unwrap();
    assert!(!ready(&applied));
    let d = watch_until(&api, "web", &from, ready).await;
    let progressing = condition(&d, "Progressing").unwrap();
    assert_eq!(
        progressing.reason.as_deref(),
        Some("NewReplicaSetAvailable")
    );
    assert_eq!(d.status.as_ref().unwrap().ready_replicas, Some(2));

    let sets: Api<ReplicaSet> = Api::namespaced(sim.client.clone(), "default");
    let rs = sets
        .list(&ListParams::default().labels("app=web"))
        .await
        .unwrap()
        .items;
    assert_eq!(rs.len(), 1);
    let owner = &rs[0].metadata.owner_references.as_ref().unwrap()[0];
    assert_eq!(
        (owner.kind.as_str(), owner.name.as_str()),
        ("Deployment", "web")
    );
    let pods = pods_of(&sim, "web").await;
    assert_eq!(pods.len(), 2);
    assert!(
        pods.iter()
            .all(|p| p.status.as_ref().and_then(|s| s.phase.as_deref()) == Some("Running"))
    );

    let started = event_with(&sim, "Started container app").await;
    assert_eq!(
        (started.reason.as_deref(), started.type_.as_deref()),
        (Some("Started"), Some("Normal"))
    );
    event_with(&sim, "Successfully assigned default/web-").await;

    // A new template: a second ReplicaSet, the old one scaled to zero.
    let updated = apply(&api, "web", "nginx:1.28", 2).await;
    assert_eq!(updated.metadata.generation, Some(2));
    let from = updated.metadata.resource_version.clone().unwrap();
    let d = watch_until(&api, "web", &from, |d| {
        ready(d) && d.status.as_ref().unwrap().observed_generation == Some(2)
    })
    .await;
    assert_eq!(
        condition(&d, "Progressing").unwrap().reason.as_deref(),
        Some("NewReplicaSetAvailable")
    );
    let rs = sets
        .list(&ListParams::default().labels("app=web"))
        .await
        .unwrap()
        .items;
    assert_eq!(rs.len(), 2);
    assert_eq!(
        rs.iter()
            .filter(|r| r.spec.as_ref().unwrap().replicas == Some(0))
            .count(),
        1
    );
    eventually(LIMIT, "old pods gone", || async {
        let pods = pods_of(&sim, "web").await;
        (pods.len() == 2).then_some(())
    })
    .await;
}

#[tokio::test]
async fn fail_pull_never_pulls_and_exceeds_the_progress_deadline() {
    let sim = start("a").await;
    let api: Api<Deployment> = Api::namespaced(sim.client.clone(), "default");
    let mut d = deployment("web", "registry.local/web:fail-pull", 1);
    d["spec"]["progressDeadlineSeconds"] = json!(1);
    let applied = api
        .patch("web", &PatchParams::apply("paas"), &Patch::Apply(d))
        .await
        .unwrap();
    let pod = eventually(LIMIT, "ImagePullBackOff", || async {
        pods_of(&sim, "web")
            .await
            .into_iter()
            .find(|p| waiting_reason(p).as_deref() == Some("ImagePullBackOff"))
    })
    .await;
    assert_eq!(pod.status.unwrap().phase.as_deref(), Some("Pending"));
    let event = event_with(
        &sim,
        "Failed to pull image \"registry.local/web:fail-pull\"",
    )
    .await;
    assert_eq!(event.involved_object.kind.as_deref(), Some("Pod"));
    assert_eq!(event.type_.as_deref(), Some("Warning"));
    let from = applied.metadata.resource_version.unwrap();
    let d = watch_until(&api, "web", &from, |d| {
        condition(d, "Progressing")
            .is_some_and(|c| c.reason.as_deref() == Some("ProgressDeadlineExceeded"))
    })
    .await;
    assert_eq!(condition(&d, "Progressing").unwrap().status, "False");
    assert!(!ready(&d));
}

#[tokio::test]
async fn crashloop_restarts_with_back_off() {
    let sim = start("a").await;
    let api: Api<Deployment> = Api::namespaced(sim.client.clone(), "default");
    apply(&api, "web", "web:crashloop", 1).await;
    let first = eventually(LIMIT, "CrashLoopBackOff", || async {
        let pod = pods_of(&sim, "web")
            .await
            .into_iter()
            .find(|p| waiting_reason(p).as_deref() == Some("CrashLoopBackOff"))?;
        Some(pod.status?.container_statuses?[0].restart_count)
    })
    .await;
    eventually(LIMIT, "restartCount rising", || async {
        let pod = pods_of(&sim, "web").await.into_iter().next()?;
        let count = pod.status?.container_statuses?[0].restart_count;
        (count > first).then_some(())
    })
    .await;
    let event = event_with(&sim, "Back-off restarting failed container").await;
    assert_eq!(event.reason.as_deref(), Some("BackOff"));
    assert!(!ready(&api.get("web").await.unwrap()));
}

#[tokio::test]
async fn slow_becomes_ready_only_after_the_slow_delay() {
    let sim = start("a").await;
    let slow_ready = sim.running.cluster().timing().slow_ready;
    let api: Api<Deployment> = Api::namespaced(sim.client.clone(), "default");
    let started = tokio::time::Instant::now();
    let applied = apply(&api, "web", "web:slow-start", 1).await;
    // Running but not ready for a while.
    eventually(LIMIT, "running pod", || async {
        let pod = pods_of(&sim, "web").await.into_iter().next()?;
        (pod.status?.phase.as_deref() == Some("Running")).then_some(())
    })
    .await;
    assert!(!ready(&api.get("web").await.unwrap()) || started.elapsed() >= slow_ready);
    watch_until(
        &api,
        "web",
        &applied.metadata.resource_version.unwrap(),
        ready,
    )
    .await;
    assert!(
        started.elapsed() >= slow_ready,
        "ready after {:?}, before {slow_ready:?}",
        started.elapsed()
    );
}

#[tokio::test]
async fn in_cluster_suffix_fails_only_in_that_cluster() {
    let a = start("local-a").await;
    let b = start("local-b").await;
    let image = "web:fail-pull-in-local-b";
    let api_a: Api<Deployment> = Api::namespaced(a.client.clone(), "default");
    let api_b: Api<Deployment> = Api::namespaced(b.client.clone(), "default");
    let applied_a = apply(&api_a, "web", image, 1).await;
    apply(&api_b, "web", image, 1).await;
    watch_until(
        &api_a,
        "web",
        &applied_a.metadata.resource_version.unwrap(),
        ready,
    )
    .await;
    eventually(LIMIT, "pull failure in local-b", || async {
        pods_of(&b, "web")
            .await
            .into_iter()
            .find(|p| waiting_reason(p).as_deref() == Some("ImagePullBackOff"))
    })
    .await;
    assert!(!ready(&api_b.get("web").await.unwrap()));
}

fn job(name: &str, image: &str, backoff_limit: i64) -> serde_json::Value {
    json!({
        "apiVersion": "batch/v1", "kind": "Job",
        "metadata": {"name": name},
        "spec": {"backoffLimit": backoff_limit, "template": {"spec": {
            "restartPolicy": "Never", "containers": [{"name": "migrate", "image": image}],
        }}},
    })
}

fn job_condition(job: &Job, kind: &str) -> Option<String> {
    let c = job
        .status
        .as_ref()?
        .conditions
        .as_ref()?
        .iter()
        .find(|c| c.type_ == kind && c.status == "True")?;
    Some(c.reason.clone().unwrap_or_default())
}

#[tokio::test]
async fn jobs_complete_or_fail_past_the_backoff_limit() {
    let sim = start("a").await;
    let api: Api<Job> = Api::namespaced(sim.client.clone(), "default");
    let pp = PatchParams::apply("paas");
    api.patch("ok", &pp, &Patch::Apply(job("ok", "migrate:1", 6)))
        .await
        .unwrap();
    api.patch(
        "bad",
        &pp,
        &Patch::Apply(job("bad", "migrate:crashloop", 1)),
    )
    .await
    .unwrap();
    let done = eventually(LIMIT, "job complete", || async {
        let job = api.get("ok").await.ok()?;
        job_condition(&job, "Complete").map(|_| job)
    })
    .await;
    assert_eq!(done.status.as_ref().unwrap().succeeded, Some(1));
    assert!(done.status.as_ref().unwrap().completion_time.is_some());
    let failed = eventually(LIMIT, "job failed", || async {
        let job = api.get("bad").await.ok()?;
        job_condition(&job, "Failed").map(|reason| (job, reason))
    })
    .await;
    assert_eq!(failed.1, "BackoffLimitExceeded");
    assert!(failed.0.status.as_ref().unwrap().failed.unwrap_or(0) > 1);
    assert_eq!(job_condition(&failed.0, "Complete"), None);
}

#[tokio::test]
async fn missing_config_unschedulable_and_missing_volumes_block_pods() {
    let sim = start("a").await;
    let api: Api<Deployment> = Api::namespaced(sim.client.clone(), "default");
    let mut config = deployment("config", "web:1", 1);
    config["spec"]["template"]["spec"]["containers"][0]["env"] =
        json!([{"name": "DB", "valueFrom": {"secretKeyRef": {"name": "db", "key": "url"}}}]);
    let mut big = deployment("big", "web:1", 1);
    big["spec"]["template"]["spec"]["containers"][0]["resources"] =
        json!({"requests": {"cpu": "64", "memory": "1Gi"}});
    let mut mount = deployment("mount", "web:1", 1);
    mount["spec"]["template"]["spec"]["volumes"] =
        json!([{"name": "conf", "configMap": {"name": "absent"}}]);
    for (name, d) in [("config", config), ("big", big), ("mount", mount)] {
        api.patch(name, &PatchParams::apply("paas"), &Patch::Apply(d))
            .await
            .unwrap();
    }
    eventually(LIMIT, "CreateContainerConfigError", || async {
        let pod = pods_of(&sim, "config").await.into_iter().next()?;
        let waiting = pod.status?.container_statuses?[0].state.clone()?.waiting?;
        (waiting.reason.as_deref() == Some("CreateContainerConfigError"))
            .then_some(waiting.message?)
    })
    .await
    .contains("secret \"db\" not found")
    .then_some(())
    .expect("the message names the missing secret");
    let scheduled = eventually(LIMIT, "Unschedulable", || async {
        let pod = pods_of(&sim, "big").await.into_iter().next()?;
        let c = pod
            .status?
            .conditions?
            .into_iter()
            .find(|c| c.type_ == "PodScheduled")?;
        (c.reason.as_deref() == Some("Unschedulable")).then_some(c)
    })
    .await;
    assert_eq!(scheduled.status, "False");
    assert!(
        scheduled
            .message
            .unwrap_or_default()
            .contains("Insufficient cpu")
    );
    event_with(
        &sim,
        "MountVolume.SetUp failed for volume \"conf\" : configmap \"absent\" not found",
    )
    .await;
    event_with(&sim, "0/1 nodes are available: 1 Insufficient cpu").await;

    // Creating the missing secret lets the first one start.
    let secrets: Api<k8s_openapi::api::core::v1::Secret> =
        Api::namespaced(sim.client.clone(), "default");
    let secret = json!({"apiVersion": "v1", "kind": "Secret", "metadata": {"name": "db"}, "stringData": {"url": "postgres://"}});
    secrets
        .patch("db", &PatchParams::apply("paas"), &Patch::Apply(secret))
        .await
        .unwrap();
    // (Polled, not watched: it may be ready before a watch could start.)
    eventually(LIMIT, "config ready", || async {
        api.get("config").await.ok().filter(ready)
    })
    .await;
}

#[tokio::test]
async fn rollback_reuses_the_old_replica_set_and_restarts_the_deadline() {
    let sim = start("a").await;
    let api: Api<Deployment> = Api::namespaced(sim.client.clone(), "default");
    let mut v1 = deployment("web", "web:1", 1);
    v1["spec"]["progressDeadlineSeconds"] = json!(1);
    let applied = api
        .patch(
            "web",
            &PatchParams::apply("paas"),
            &Patch::Apply(v1.clone()),
        )
        .await
        .unwrap();
    watch_until(
        &api,
        "web",
        &applied.metadata.resource_version.unwrap(),
        ready,
    )
    .await;
    let mut v2 = v1.clone();
    v2["spec"]["template"]["spec"]["containers"][0]["image"] = json!("web:2");
    let applied = api
        .patch("web", &PatchParams::apply("paas"), &Patch::Apply(v2))
        .await
        .unwrap();
    watch_until(
        &api,
        "web",
        &applied.metadata.resource_version.unwrap(),
        |d| ready(d) && d.status.as_ref().unwrap().observed_generation == Some(2),
    )
    .await;
    // Well past the first rollout's deadline, going back is a fresh rollout.
    tokio::time::sleep(Duration::from_millis(1100)).await;
    let applied = api
        .patch("web", &PatchParams::apply("paas"), &Patch::Apply(v1))
        .await
        .unwrap();
    let back = watch_until(
        &api,
        "web",
        &applied.metadata.resource_version.unwrap(),
        |d| {
            d.status.as_ref().unwrap().observed_generation == Some(3)
                && condition(d, "Progressing").is_some()
        },
    )
    .await;
    assert_ne!(
        condition(&back, "Progressing").unwrap().reason.as_deref(),
        Some("ProgressDeadlineExceeded")
    );
    watch_until(&api, "web", &back.metadata.resource_version.unwrap(), |d| {
        ready(d) && d.status.as_ref().unwrap().observed_generation == Some(3)
    })
    .await;
    let sets: Api<ReplicaSet> = Api::namespaced(sim.client.clone(), "default");
    let rs = sets
        .list(&ListParams::default().labels("app=web"))
        .await
        .unwrap()
        .items;
    assert_eq!(rs.len(), 2, "the first ReplicaSet is reused");
    let live = rs
        .iter()
        .find(|r| r.spec.as_ref().unwrap().replicas == Some(1))
        .unwrap();
    let revision =
        live.metadata.annotations.as_ref().unwrap()["deployment.kubernetes.io/revision"].clone();
    assert_eq!(
        revision, "3",
        "the reused ReplicaSet is the newest revision"
    );
    let deployment = eventually(LIMIT, "the Deployment's revision", || async {
        let d = api.get("web").await.ok()?;
        let revision = d
            .metadata
            .annotations
            .as_ref()?
            .get("deployment.kubernetes.io/revision")?
            .clone();
        (revision == "3").then_some(d)
    })
    .await;
    assert_eq!(
        deployment.metadata.generation,
        Some(3),
        "annotations do not change the generation"
    );
}

#[tokio::test]
async fn deleting_a_deployment_collects_its_replica_sets_and_pods_unless_orphaned() {
    use kube::api::DeleteParams;
    let sim = start("a").await;
    let api: Api<Deployment> = Api::namespaced(sim.client.clone(), "default");
    let sets: Api<ReplicaSet> = Api::namespaced(sim.client.clone(), "default");
    for name in ["gone", "orphan"] {
        let applied = apply(&api, name, "web:1", 1).await;
        watch_until(
            &api,
            name,
            &applied.metadata.resource_version.unwrap(),
            ready,
        )
        .await;
    }
    api.delete("gone", &DeleteParams::background())
        .await
        .unwrap();
    assert!(
        sets.list(&ListParams::default().labels("app=gone"))
            .await
            .unwrap()
            .items
            .is_empty()
    );
    assert!(pods_of(&sim, "gone").await.is_empty());
    api.delete("orphan", &DeleteParams::orphan()).await.unwrap();
    assert_eq!(
        sets.list(&ListParams::default().labels("app=orphan"))
            .await
            .unwrap()
            .items
            .len(),
        1
    );
    assert_eq!(pods_of(&sim, "orphan").await.len(), 1);
}

#[tokio::test]
async fn pod_logs_follow_the_container_state() {
    use kube::api::LogParams;
    let sim = start("a").await;
    let api: Api<Deployment> = Api::namespaced(sim.client.clone(), "default");
    apply(&api, "crash", "web:crashloop", 1).await;
    apply(&api, "pull", "web:fail-pull", 1).await;
    let pods: Api<Pod> = Api::namespaced(sim.client.clone(), "default");
    let crashing = eventually(LIMIT, "a crashed container", || async {
        let pod = pods_of(&sim, "crash").await.into_iter().next()?;
        (waiting_reason(&pod).as_deref() == Some("CrashLoopBackOff")).then_some(pod)
    })
    .await;
    let log = pods
        .logs(
            crashing.metadata.name.as_deref().unwrap(),
            &LogParams::default(),
        )
        .await
        .unwrap();
    assert!(log.contains("simulated crash loop"), "{log}");
    let pulling = eventually(LIMIT, "a pull failure", || async {
        let pod = pods_of(&sim, "pull").await.into_iter().next()?;
        (waiting_reason(&pod).as_deref() == Some("ImagePullBackOff")).then_some(pod)
    })
    .await;
    let refused = status(
        pods.logs(
            pulling.metadata.name.as_deref().unwrap(),
            &LogParams::default(),
        )
        .await,
    );
    assert_eq!(refused.code, 400);
    assert!(
        refused
            .message
            .contains("is waiting to start: trying and failing to pull image"),
        "{}",
        refused.message
    );
}
