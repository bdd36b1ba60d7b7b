//! Simulated controllers, run on a timer: Deployment → ReplicaSet per
//! pod-template hash → Pods, the kubelet's Pod status, Job completion, and
//! the Events they emit.
//!
//! Every state is a function of the objects and of when things started
//! (marks kept in the store, so they survive a restart), so a reconcile
//! that finds nothing new writes nothing and resourceVersions stay put.
//!
//! Fault conventions on a container image's tag: `fail-pull*` never pulls,
//! `crashloop*` crash-loops, `slow*` is ready only after
//! [`Timing::slow_ready`]; a tag ending in `-in-<cluster>` has its effect
//! only in that cluster.

use crate::fields::Scope;
use crate::resources::{self, ResourceInfo};
use crate::selector::{FieldSelector, LabelSelector};
use crate::store::{Op, Store, WriteRequest, now_ms, set_path};
use crate::{Shared, Timing};
use serde_json::{Value, json};
use std::sync::Arc;
use tokio::sync::watch;

#[cfg(test)]
mod tests;

const CONTROLLER: &str = "kube-controller-manager";
const KUBELET: &str = "kubelet";
/// The annotation holding a ReplicaSet's rollout revision.
const REVISION: &str = "deployment.kubernetes.io/revision";

/// What an image tag makes a container do in this cluster.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum Effect {
    /// Starts and becomes ready after [`Timing::pod_ready`].
    Healthy,
    /// Ready only after [`Timing::slow_ready`].
    Slow,
    /// Exits with code 1 at every start: CrashLoopBackOff.
    CrashLoop,
    /// The image never pulls: ErrImagePull, then ImagePullBackOff.
    FailPull,
}

/// The effect of an image in cluster `cluster`.
pub fn image_effect(image: &str, cluster: &str) -> Effect {
    let without_digest = image.split('@').next().unwrap_or_default();
    let last_part = without_digest.rsplit('/').next().unwrap_or_default();
    let Some((_, tag)) = last_part.rsplit_once(':') else {
        return Effect::Healthy;
    };
    let effect = if tag.starts_with("fail-pull") {
        Effect::FailPull
    } else if tag.starts_with("crashloop") {
        Effect::CrashLoop
    } else if tag.starts_with("slow") {
        Effect::Slow
    } else {
        return Effect::Healthy;
    };
    let here = format!("-in-{cluster}");
    if tag.ends_with(&here) || !tag.contains("-in-") {
        effect
    } else {
        Effect::Healthy
    }
}

/// Runs the controllers until `stop` changes.
pub async fn run(shared: Arc<Shared>, mut stop: watch::Receiver<bool>) {
    // A pass that writes nothing doubles the wait before the next (up to
    // 16 ticks, at most a second), so an idle cluster costs little; any
    // client write wakes the controllers at once.
    let tick = shared.timing.tick;
    let longest = (tick * 16).min(std::time::Duration::from_secs(1)).max(tick);
    let mut wait = tick;
    let mut changes = shared.store.changes();
    loop {
        tokio::select! {
            _ = stop.changed() => return,
            _ = tokio::time::sleep(wait) => {}
            _ = changes.recv() => {}
        }
        let before = shared.store.resource_version();
        reconcile(&shared.store, &shared.name, &shared.timing, now_ms());
        wait = if shared.store.resource_version() == before {
            (wait * 2).min(longest)
        } else {
            tick
        };
        // The controllers' own writes are not news to them.
        changes = changes.resubscribe();
    }
}

struct Ctx<'a> {
    store: &'a Store,
    cluster: &'a str,
    timing: &'a Timing,
    now: i64,
}

/// One pass of every controller at time `now` (ms since the epoch).
pub fn reconcile(store: &Store, cluster: &str, timing: &Timing, now: i64) {
    let ctx = Ctx {
        store,
        cluster,
        timing,
        now,
    };
    // Each kind is listed once per step and owners find their objects in
    // those lists (by uid), instead of a list per owner.
    let deployments = resources::builtin("apps", "deployments");
    let replicasets = resources::builtin("apps", "replicasets");
    let pods = resources::builtin("", "pods");
    let sets = all(store, &replicasets);
    for d in all(store, &deployments) {
        reconcile_deployment(&ctx, &d, &sets);
    }
    let sets = all(store, &replicasets);
    let current_pods = all(store, &pods);
    for rs in &sets {
        reconcile_replicaset(&ctx, rs, &current_pods);
    }
    for job in all(store, &resources::builtin("batch", "jobs")) {
        reconcile_job(&ctx, &job, &current_pods);
    }
    for pod in all(store, &pods) {
        reconcile_pod(&ctx, &pod);
    }
    // Second pass so Deployment status sees this tick's pod states.
    let current_pods = all(store, &pods);
    for rs in all(store, &replicasets) {
        replicaset_status(&ctx, &rs, &current_pods);
    }
    let sets = all(store, &replicasets);
    for d in all(store, &deployments) {
        deployment_status(&ctx, &d, &sets);
    }
}

fn all(store: &Store, info: &ResourceInfo) -> Vec<Value> {
    store
        .list(
            info,
            None,
            &LabelSelector::default(),
            &FieldSelector::default(),
        )
        .0
}

fn meta<'a>(obj: &'a Value, key: &str) -> &'a str {
    obj["metadata"][key].as_str().unwrap_or_default()
}

fn owned_by<'a>(objects: &'a [Value], owner_uid: &str) -> impl Iterator<Item = &'a Value> {
    objects.iter().filter(move |o| {
        o["metadata"]["ownerReferences"]
            .as_array()
            .is_some_and(|refs| refs.iter().any(|r| r["uid"].as_str() == Some(owner_uid)))
    })
}

fn owner_ref(obj: &Value) -> Value {
    json!({
        "apiVersion": obj["apiVersion"], "kind": obj["kind"], "name": obj["metadata"]["name"],
        "uid": obj["metadata"]["uid"], "controller": true, "blockOwnerDeletion": true,
    })
}

fn write(
    ctx: &Ctx<'_>,
    info: &ResourceInfo,
    ns: &str,
    name: &str,
    scope: Scope,
    manager: &str,
    op: Op,
) {
    let req = WriteRequest {
        scope,
        manager: manager.into(),
        dry_run: false,
        op,
    };
    // A conflict with a concurrent client write is retried next tick.
    let _ = ctx.store.write(info, ns, name, req);
}

/// Replaces an object's status when it differs.
fn put_status(ctx: &Ctx<'_>, info: &ResourceInfo, obj: &Value, status: Value, manager: &str) {
    if obj["status"] == status {
        return;
    }
    let mut body = obj.clone();
    body["status"] = status;
    let scope = if info.status_subresource {
        Scope::Status
    } else {
        Scope::Main {
            status_subresource: false,
        }
    };
    write(
        ctx,
        info,
        meta(obj, "namespace"),
        meta(obj, "name"),
        scope,
        manager,
        Op::Replace(body),
    );
}

/// RFC 3339 (seconds) of a millisecond timestamp.
fn time(ms: i64) -> String {
    jiff::Timestamp::from_millisecond(ms)
        .map(|t| t.strftime("%Y-%m-%dT%H:%M:%SZ").to_string())
        .unwrap_or_default()
}

fn fnv(text: &str) -> u32 {
    let mut hash: u32 = 0x811c_9dc5;
    for b in text.bytes() {
        hash ^= u32::from(b);
        hash = hash.wrapping_mul(0x0100_0193);
    }
    hash
}

/// The `pod-template-hash` of a template, in the safe alphabet the
/// controller uses.
pub fn template_hash(template: &Value) -> String {
    const ALPHABET: &[u8] = b"bcdfghjklmnpqrstvwxz2456789";
    let mut n = fnv(&serde_json::to_string(template).unwrap_or_default());
    let mut out = String::new();
    while n > 0 || out.is_empty() {
        out.push(ALPHABET[(n % 27) as usize] as char);
        n /= 27;
    }
    out
}

/// Milliseconds of a delay, capped at ten years so sums with timestamps
/// cannot overflow.
fn ms(d: std::time::Duration) -> i64 {
    const TEN_YEARS: i64 = 10 * 365 * 24 * 3600 * 1000;
    i64::try_from(d.as_millis())
        .unwrap_or(TEN_YEARS)
        .min(TEN_YEARS)
}

/// At most this many pods are created per ReplicaSet and tick, so an
/// absurd replica count cannot stall the cluster.
const PODS_PER_TICK: i64 = 50;

fn reconcile_deployment(ctx: &Ctx<'_>, d: &Value, sets: &[Value]) {
    let (ns, name, uid) = (meta(d, "namespace"), meta(d, "name"), meta(d, "uid"));
    let desired = d["spec"]["replicas"].as_i64().unwrap_or(1).max(0);
    let template = &d["spec"]["template"];
    let hash = template_hash(template);
    let rs_info = resources::builtin("apps", "replicasets");
    let owned: Vec<&Value> = owned_by(sets, uid).collect();
    let new_name = format!("{name}-{hash}");
    // The progress deadline counts from the last spec change.
    let generation = d["metadata"]["generation"].as_i64().unwrap_or(1);
    let generation_key = format!("rollout-generation/{uid}");
    if ctx.store.mark(&generation_key) != Some(generation) {
        ctx.store.set_mark(&generation_key, generation);
        ctx.store.set_mark(&format!("rollout/{uid}"), ctx.now);
    }
    let revision_of = |rs: &Value| {
        rs["metadata"]["annotations"][REVISION]
            .as_str()
            .and_then(|r| r.parse::<i64>().ok())
            .unwrap_or(0)
    };
    let max_revision = owned.iter().map(|rs| revision_of(rs)).max().unwrap_or(0);
    match owned.iter().find(|rs| meta(rs, "name") == new_name) {
        None => {
            let revision = max_revision.saturating_add(1);
            let mut labels = template["metadata"]["labels"].clone();
            if !labels.is_object() {
                labels = json!({});
            }
            set_path(&mut labels, &["pod-template-hash"], json!(hash));
            let mut selector = d["spec"]["selector"].clone();
            set_path(
                &mut selector,
                &["matchLabels", "pod-template-hash"],
                json!(hash),
            );
            let mut rs_template = template.clone();
            set_path(&mut rs_template, &["metadata", "labels"], labels.clone());
            let rs = json!({
                "apiVersion": "apps/v1", "kind": "ReplicaSet",
                "metadata": {
                    "name": new_name, "namespace": ns, "labels": labels,
                    "annotations": {REVISION: revision.to_string()},
                    "ownerReferences": [owner_ref(d)],
                },
                "spec": {"replicas": desired, "selector": selector, "template": rs_template},
            });
            write(
                ctx,
                &rs_info,
                ns,
                &new_name,
                Scope::Main {
                    status_subresource: true,
                },
                CONTROLLER,
                Op::Create(rs),
            );
            event(
                ctx,
                d,
                "Normal",
                "ScalingReplicaSet",
                &format!("Scaled up replica set {new_name} from 0 to {desired}"),
                1,
                ctx.now,
                CONTROLLER,
            );
        }
        Some(rs) => {
            // Going back to an older template reuses its ReplicaSet, which
            // becomes the newest revision.
            if revision_of(rs) < max_revision {
                let annotations = json!({"metadata": {"annotations": {REVISION: (max_revision + 1).to_string()}}});
                write(
                    ctx,
                    &rs_info,
                    ns,
                    &new_name,
                    Scope::Main {
                        status_subresource: true,
                    },
                    CONTROLLER,
                    Op::MergePatch(annotations),
                );
            }
            if rs["spec"]["replicas"].as_i64() != Some(desired) {
                scale(ctx, &rs_info, rs, desired);
            }
            // The Deployment carries its current revision, as on a real
            // cluster (clients find the new ReplicaSet by it).
            let revision = revision_of(rs).max(max_revision).to_string();
            if d["metadata"]["annotations"][REVISION].as_str() != Some(revision.as_str()) {
                let patch = json!({"metadata": {"annotations": {REVISION: revision}}});
                let info = resources::builtin("apps", "deployments");
                write(
                    ctx,
                    &info,
                    ns,
                    name,
                    Scope::Main {
                        status_subresource: true,
                    },
                    CONTROLLER,
                    Op::MergePatch(patch),
                );
            }
        }
    }
    // Old ReplicaSets go to zero once the new one is fully available
    // (surge-style rolling update), or at once for Recreate.
    let new_available = owned
        .iter()
        .find(|rs| meta(rs, "name") == new_name)
        .and_then(|rs| rs["status"]["availableReplicas"].as_i64())
        .unwrap_or(0);
    let recreate = d["spec"]["strategy"]["type"].as_str() == Some("Recreate");
    if recreate || new_available >= desired {
        for rs in owned.iter().filter(|rs| meta(rs, "name") != new_name) {
            if rs["spec"]["replicas"].as_i64() != Some(0) {
                scale(ctx, &rs_info, rs, 0);
                let from = rs["spec"]["replicas"].as_i64().unwrap_or(0);
                event(
                    ctx,
                    d,
                    "Normal",
                    "ScalingReplicaSet",
                    &format!(
                        "Scaled down replica set {} from {from} to 0",
                        meta(rs, "name")
                    ),
                    1,
                    ctx.now,
                    CONTROLLER,
                );
            }
        }
    }
}

fn scale(ctx: &Ctx<'_>, info: &ResourceInfo, rs: &Value, replicas: i64) {
    write(
        ctx,
        info,
        meta(rs, "namespace"),
        meta(rs, "name"),
        Scope::Main {
            status_subresource: true,
        },
        CONTROLLER,
        Op::MergePatch(json!({"spec": {"replicas": replicas}})),
    );
}

fn reconcile_replicaset(ctx: &Ctx<'_>, rs: &Value, pods: &[Value]) {
    let (ns, uid) = (meta(rs, "namespace"), meta(rs, "uid"));
    let desired = rs["spec"]["replicas"].as_i64().unwrap_or(1).max(0);
    let pod_info = resources::builtin("", "pods");
    let mut mine: Vec<&Value> = owned_by(pods, uid).collect();
    let count = i64::try_from(mine.len()).unwrap_or(i64::MAX);
    for _ in count..desired.min(count.saturating_add(PODS_PER_TICK)) {
        create_pod(ctx, rs, &rs["spec"]["template"], json!({}));
    }
    if count > desired {
        mine.sort_by_key(|p| std::cmp::Reverse(meta(p, "creationTimestamp").to_string()));
        for pod in mine
            .iter()
            .take(usize::try_from(count - desired).unwrap_or(0))
        {
            let _ = ctx
                .store
                .delete(&pod_info, ns, meta(pod, "name"), false, false);
        }
    }
}

fn create_pod(ctx: &Ctx<'_>, owner: &Value, template: &Value, extra_labels: Value) {
    let pod_info = resources::builtin("", "pods");
    let ns = meta(owner, "namespace");
    let name = format!("{}-{}", meta(owner, "name"), crate::server::random_suffix());
    let mut labels = template["metadata"]["labels"].clone();
    if !labels.is_object() {
        labels = json!({});
    }
    crate::merge::merge_patch(&mut labels, &extra_labels);
    let pod = json!({
        "apiVersion": "v1", "kind": "Pod",
        "metadata": {
            "name": name, "generateName": format!("{}-", meta(owner, "name")), "namespace": ns,
            "labels": labels, "ownerReferences": [owner_ref(owner)],
        },
        "spec": template["spec"],
    });
    let req = WriteRequest {
        scope: Scope::Main {
            status_subresource: true,
        },
        manager: CONTROLLER.into(),
        dry_run: false,
        op: Op::Create(pod),
    };
    if let Ok((created, _)) = ctx.store.write(&pod_info, ns, &name, req) {
        ctx.store
            .mark_once(&format!("pod/{}", meta(&created, "uid")), ctx.now);
    }
}

fn replicaset_status(ctx: &Ctx<'_>, rs: &Value, pods: &[Value]) {
    let mine: Vec<&Value> = owned_by(pods, meta(rs, "uid")).collect();
    let ready = mine.iter().filter(|p| pod_ready(p)).count();
    let status = json!({
        "replicas": mine.len(),
        "fullyLabeledReplicas": mine.len(),
        "readyReplicas": ready,
        "availableReplicas": ready,
        "observedGeneration": rs["metadata"]["generation"],
    });
    put_status(
        ctx,
        &resources::builtin("apps", "replicasets"),
        rs,
        status,
        CONTROLLER,
    );
}

fn pod_ready(pod: &Value) -> bool {
    pod["status"]["conditions"].as_array().is_some_and(|cs| {
        cs.iter()
            .any(|c| c["type"] == "Ready" && c["status"] == "True")
    })
}

/// `maxUnavailable` of a rolling update, resolved against `desired`.
fn max_unavailable(d: &Value, desired: i64) -> i64 {
    match &d["spec"]["strategy"]["rollingUpdate"]["maxUnavailable"] {
        Value::Number(n) => n.as_i64().unwrap_or(0),
        Value::String(s) => s
            .strip_suffix('%')
            .and_then(|p| p.parse::<i64>().ok())
            .map_or(0, |p| desired.saturating_mul(p.clamp(0, 100)) / 100),
        _ if d["spec"]["strategy"]["type"].as_str() == Some("Recreate") => desired,
        _ => desired.saturating_mul(25) / 100,
    }
}

fn condition(
    old: &Value,
    kind: &str,
    status: &str,
    reason: &str,
    message: &str,
    now: &str,
) -> Value {
    let previous = old["conditions"]
        .as_array()
        .and_then(|cs| cs.iter().find(|c| c["type"] == kind))
        .cloned();
    let same_status = previous.as_ref().is_some_and(|p| p["status"] == status);
    let same_reason = same_status
        && previous
            .as_ref()
            .is_some_and(|p| p["reason"] == reason && p["message"] == message);
    let transition = match &previous {
        Some(p) if same_status => p["lastTransitionTime"].clone(),
        _ => json!(now),
    };
    let update = match &previous {
        Some(p) if same_reason => p["lastUpdateTime"].clone(),
        _ => json!(now),
    };
    json!({"type": kind, "status": status, "lastUpdateTime": update, "lastTransitionTime": transition, "reason": reason, "message": message})
}

fn deployment_status(ctx: &Ctx<'_>, d: &Value, sets: &[Value]) {
    let info = resources::builtin("apps", "deployments");
    let desired = d["spec"]["replicas"].as_i64().unwrap_or(1).max(0);
    let hash = template_hash(&d["spec"]["template"]);
    let new_name = format!("{}-{hash}", meta(d, "name"));
    let owned: Vec<&Value> = owned_by(sets, meta(d, "uid")).collect();
    let sum = |key: &str| {
        owned
            .iter()
            .map(|rs| {
                rs["status"][key]
                    .as_i64()
                    .unwrap_or(0)
                    .clamp(0, i64::from(i32::MAX))
            })
            .fold(0i64, i64::saturating_add)
    };
    let (replicas, ready, available) = (
        sum("replicas"),
        sum("readyReplicas"),
        sum("availableReplicas"),
    );
    let new_rs = owned.iter().find(|rs| meta(rs, "name") == new_name);
    let updated = new_rs.map_or(0, |rs| rs["status"]["replicas"].as_i64().unwrap_or(0));
    let new_available = new_rs.map_or(0, |rs| {
        rs["status"]["availableReplicas"].as_i64().unwrap_or(0)
    });
    let old = &d["status"];
    let now = time(ctx.now);
    let available_cond = if available >= desired.saturating_sub(max_unavailable(d, desired)) {
        condition(
            old,
            "Available",
            "True",
            "MinimumReplicasAvailable",
            "Deployment has minimum availability.",
            &now,
        )
    } else {
        condition(
            old,
            "Available",
            "False",
            "MinimumReplicasUnavailable",
            "Deployment does not have minimum availability.",
            &now,
        )
    };
    let started = ctx
        .store
        .mark(&format!("rollout/{}", meta(d, "uid")))
        .unwrap_or(ctx.now);
    let deadline_ms = d["spec"]["progressDeadlineSeconds"]
        .as_i64()
        .unwrap_or(600)
        .saturating_mul(1000);
    let complete = updated == desired && new_available >= desired && replicas == desired;
    let progressing = if complete {
        condition(
            old,
            "Progressing",
            "True",
            "NewReplicaSetAvailable",
            &format!("ReplicaSet \"{new_name}\" has successfully progressed."),
            &now,
        )
    } else if ctx.now - started > deadline_ms {
        condition(
            old,
            "Progressing",
            "False",
            "ProgressDeadlineExceeded",
            &format!("ReplicaSet \"{new_name}\" has timed out progressing."),
            &now,
        )
    } else if new_rs.is_none() || updated == 0 {
        condition(
            old,
            "Progressing",
            "True",
            "NewReplicaSetCreated",
            &format!("Created new replica set \"{new_name}\""),
            &now,
        )
    } else {
        condition(
            old,
            "Progressing",
            "True",
            "ReplicaSetUpdated",
            &format!("ReplicaSet \"{new_name}\" is progressing."),
            &now,
        )
    };
    let status = json!({
        "observedGeneration": d["metadata"]["generation"],
        "replicas": replicas,
        "updatedReplicas": updated,
        "readyReplicas": ready,
        "availableReplicas": available,
        "unavailableReplicas": replicas.saturating_sub(available).max(0),
        "conditions": [available_cond, progressing],
    });
    put_status(ctx, &info, d, status, CONTROLLER);
}

/// Creates or updates an Event about `involved`; unchanged events are not
/// rewritten.
#[allow(clippy::too_many_arguments)]
fn event(
    ctx: &Ctx<'_>,
    involved: &Value,
    kind: &str,
    reason: &str,
    message: &str,
    count: i64,
    first_ms: i64,
    component: &str,
) {
    let info = resources::builtin("", "events");
    let ns = meta(involved, "namespace");
    let name = format!(
        "{}.{:08x}",
        meta(involved, "name"),
        fnv(&format!("{reason}/{message}"))
    );
    let existing = ctx.store.get(&info, ns, &name).ok();
    if existing
        .as_ref()
        .is_some_and(|e| e["count"].as_i64() == Some(count))
    {
        return;
    }
    let first = existing
        .as_ref()
        .and_then(|e| e["firstTimestamp"].as_str().map(str::to_string))
        .unwrap_or_else(|| time(first_ms));
    let body = json!({
        "apiVersion": "v1", "kind": "Event",
        "metadata": {"name": name, "namespace": ns},
        "involvedObject": {
            "apiVersion": involved["apiVersion"], "kind": involved["kind"], "name": involved["metadata"]["name"],
            "namespace": ns, "uid": involved["metadata"]["uid"],
        },
        "reason": reason, "message": message, "type": kind, "count": count,
        "firstTimestamp": first, "lastTimestamp": time(ctx.now),
        "source": {"component": component}, "reportingComponent": component, "reportingInstance": ctx.cluster,
    });
    let op = match existing {
        Some(_) => Op::Apply {
            config: body,
            force: true,
        },
        None => Op::Create(body),
    };
    write(
        ctx,
        &info,
        ns,
        &name,
        Scope::Main {
            status_subresource: false,
        },
        component,
        op,
    );
}

/// The effect of the worst container of a pod spec.
fn spec_effect(spec: &Value, cluster: &str) -> Vec<(String, String, Effect)> {
    spec["containers"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|c| {
            let image = c["image"].as_str().unwrap_or_default().to_string();
            let effect = image_effect(&image, cluster);
            (
                c["name"].as_str().unwrap_or_default().to_string(),
                image,
                effect,
            )
        })
        .collect()
}

fn reconcile_pod(ctx: &Ctx<'_>, pod: &Value) {
    let uid = meta(pod, "uid");
    let created = ctx.store.mark_once(&format!("pod/{uid}"), ctx.now);
    let elapsed = ctx.now - created;
    let t = ctx.timing;
    let containers = spec_effect(&pod["spec"], ctx.cluster);
    let job_pod = pod["metadata"]["labels"]["batch.kubernetes.io/job-name"].is_string();
    let started = elapsed >= ms(t.pod_ready);
    let start_time = time(created + ms(t.pod_ready));
    let mut statuses = Vec::new();
    let mut all_ready = true;
    let mut pulling_failed = false;
    let mut all_done = true;
    let pod_ref = format!("{}_{}({uid})", meta(pod, "name"), meta(pod, "namespace"));
    if let Some(message) = unschedulable(&pod["spec"]) {
        event(
            ctx,
            pod,
            "Warning",
            "FailedScheduling",
            &message,
            1,
            created,
            "default-scheduler",
        );
        let status = json!({
            "phase": "Pending",
            "conditions": [{"type": "PodScheduled", "status": "False", "reason": "Unschedulable",
                            "message": message, "lastTransitionTime": time(created)}],
            "qosClass": "Burstable",
        });
        put_status(ctx, &resources::builtin("", "pods"), pod, status, KUBELET);
        return;
    }
    let mount_error = missing_volume(ctx, pod);
    if let (Some(message), true) = (&mount_error, started) {
        event(
            ctx,
            pod,
            "Warning",
            "FailedMount",
            message,
            1,
            created + ms(t.pod_ready),
            KUBELET,
        );
    }
    for (index, (name, image, effect)) in containers.iter().enumerate() {
        let config_error = missing_config(ctx, pod, &pod["spec"]["containers"][index]);
        let retries = if started {
            (elapsed - ms(t.pod_ready)) / ms(t.crash_restart).max(1)
        } else {
            0
        };
        let (state, ready, restarts, last_state) = if !started || mount_error.is_some() {
            (
                json!({"waiting": {"reason": "ContainerCreating"}}),
                false,
                0,
                json!({}),
            )
        } else if let Some(message) = config_error {
            pulling_failed = true;
            event(
                ctx,
                pod,
                "Warning",
                "Failed",
                &format!("Error: {message}"),
                retries + 1,
                created + ms(t.pod_ready),
                KUBELET,
            );
            (
                json!({"waiting": {"reason": "CreateContainerConfigError", "message": message}}),
                false,
                0,
                json!({}),
            )
        } else {
            match effect {
                Effect::FailPull => {
                    pulling_failed = true;
                    let pull_error =
                        format!("failed to pull and unpack image \"{image}\": not found");
                    event(
                        ctx,
                        pod,
                        "Warning",
                        "Failed",
                        &format!(
                            "Failed to pull image \"{image}\": rpc error: code = NotFound desc = {pull_error}"
                        ),
                        retries + 1,
                        created + ms(t.pod_ready),
                        KUBELET,
                    );
                    let waiting = if retries == 0 {
                        json!({"waiting": {"reason": "ErrImagePull", "message": format!("rpc error: code = NotFound desc = {pull_error}")}})
                    } else {
                        event(
                            ctx,
                            pod,
                            "Normal",
                            "BackOff",
                            &format!("Back-off pulling image \"{image}\""),
                            retries,
                            created + ms(t.pod_ready) + ms(t.crash_restart),
                            KUBELET,
                        );
                        json!({"waiting": {"reason": "ImagePullBackOff", "message": format!("Back-off pulling image \"{image}\"")}})
                    };
                    (waiting, false, 0, json!({}))
                }
                Effect::CrashLoop => {
                    let restarts = retries + 1;
                    event(
                        ctx,
                        pod,
                        "Warning",
                        "BackOff",
                        &format!("Back-off restarting failed container {name} in pod {pod_ref}"),
                        restarts,
                        created + ms(t.pod_ready),
                        KUBELET,
                    );
                    let last_start = created + ms(t.pod_ready) + retries * ms(t.crash_restart);
                    (
                        json!({"waiting": {"reason": "CrashLoopBackOff", "message": format!("back-off 10s restarting failed container={name} pod={pod_ref}")}}),
                        false,
                        restarts,
                        json!({"terminated": {"exitCode": 1, "reason": "Error", "startedAt": time(last_start), "finishedAt": time(last_start)}}),
                    )
                }
                Effect::Healthy | Effect::Slow => {
                    let ready_after = if *effect == Effect::Slow {
                        t.slow_ready
                    } else {
                        t.pod_ready
                    };
                    let run_for = if *effect == Effect::Slow {
                        t.slow_ready.max(t.job_duration)
                    } else {
                        t.job_duration
                    };
                    if job_pod && elapsed >= ms(t.pod_ready) + ms(run_for) {
                        let finished = time(created + ms(t.pod_ready) + ms(run_for));
                        (
                            json!({"terminated": {"exitCode": 0, "reason": "Completed", "startedAt": start_time, "finishedAt": finished}}),
                            false,
                            0,
                            json!({}),
                        )
                    } else {
                        all_done = false;
                        (
                            json!({"running": {"startedAt": start_time}}),
                            elapsed >= ms(ready_after),
                            0,
                            json!({}),
                        )
                    }
                }
            }
        };
        if !matches!(effect, Effect::Healthy | Effect::Slow) || !started || mount_error.is_some() {
            all_done = false;
        }
        all_ready &= ready;
        statuses.push(json!({
            "name": name, "image": image, "imageID": "", "ready": ready, "started": state.get("running").is_some(),
            "restartCount": restarts, "state": state, "lastState": last_state,
        }));
    }
    let phase = if !started || pulling_failed || mount_error.is_some() {
        "Pending"
    } else if job_pod && all_done {
        "Succeeded"
    } else {
        "Running"
    };
    let ready_time = if all_ready {
        time(created + ms(t.pod_ready))
    } else {
        time(created)
    };
    let flag = |b: bool| if b { "True" } else { "False" };
    let ready_cond = |kind: &str| {
        let mut c = json!({"type": kind, "status": flag(all_ready && phase == "Running"), "lastTransitionTime": ready_time});
        if !(all_ready && phase == "Running") {
            c["reason"] = json!(if phase == "Succeeded" {
                "PodCompleted"
            } else {
                "ContainersNotReady"
            });
        }
        c
    };
    let ip_hash = fnv(uid);
    let status = json!({
        "phase": phase,
        "conditions": [
            {"type": "PodScheduled", "status": "True", "lastTransitionTime": time(created)},
            {"type": "Initialized", "status": "True", "lastTransitionTime": time(created)},
            ready_cond("ContainersReady"),
            ready_cond("Ready"),
        ],
        "hostIP": "10.0.0.1",
        "podIP": format!("10.244.{}.{}", (ip_hash >> 8) & 0xff, ip_hash & 0xff),
        "startTime": time(created),
        "containerStatuses": statuses,
        "qosClass": "BestEffort",
    });
    lifecycle_events(ctx, pod, &status);
    put_status(ctx, &resources::builtin("", "pods"), pod, status, KUBELET);
}

fn reconcile_job(ctx: &Ctx<'_>, job: &Value, pods: &[Value]) {
    let info = resources::builtin("batch", "jobs");
    let terminal = job["status"]["conditions"].as_array().is_some_and(|cs| {
        cs.iter()
            .any(|c| (c["type"] == "Complete" || c["type"] == "Failed") && c["status"] == "True")
    });
    if terminal || job["spec"]["suspend"].as_bool() == Some(true) {
        return;
    }
    let (ns, name, uid) = (meta(job, "namespace"), meta(job, "name"), meta(job, "uid"));
    let started = ctx.store.mark_once(&format!("job/{uid}"), ctx.now);
    let mine: Vec<&Value> = owned_by(pods, uid).collect();
    if mine.is_empty() {
        let labels = json!({
            "job-name": name, "batch.kubernetes.io/job-name": name,
            "controller-uid": uid, "batch.kubernetes.io/controller-uid": uid,
        });
        create_pod(ctx, job, &job["spec"]["template"], labels);
    }
    let elapsed = ctx.now - started;
    let completions = job["spec"]["completions"].as_i64().unwrap_or(1).max(1);
    let backoff_limit = job["spec"]["backoffLimit"].as_i64().unwrap_or(6).max(0);
    let effect = spec_effect(&job["spec"]["template"]["spec"], ctx.cluster)
        .into_iter()
        .map(|(_, _, e)| e)
        .max()
        .unwrap_or(Effect::Healthy);
    let now = time(ctx.now);
    let start_time = time(started);
    let deadline = job["spec"]["activeDeadlineSeconds"]
        .as_i64()
        .map(|s| s.saturating_mul(1000));
    let failed_status = |failed: i64, reason: &str, message: &str| {
        json!({
            "startTime": start_time, "active": 0, "failed": failed, "ready": 0, "terminating": 0,
            "conditions": [
                {"type": "FailureTarget", "status": "True", "reason": reason, "message": message, "lastProbeTime": now, "lastTransitionTime": now},
                {"type": "Failed", "status": "True", "reason": reason, "message": message, "lastProbeTime": now, "lastTransitionTime": now},
            ],
        })
    };
    // Progress comes from the job's pod, so whatever keeps the pod from
    // running (pull failures, missing config, no room) keeps the job active.
    let pod = mine.first();
    let pod_succeeded = pod.is_some_and(|p| p["status"]["phase"] == "Succeeded");
    let failures = if effect == Effect::CrashLoop {
        pod.and_then(|p| p["status"]["containerStatuses"].as_array())
            .map_or(0, |cs| {
                cs.iter()
                    .map(|c| c["restartCount"].as_i64().unwrap_or(0))
                    .max()
                    .unwrap_or(0)
            })
    } else {
        0
    };
    let status = if deadline.is_some_and(|d| elapsed > d) {
        event(
            ctx,
            job,
            "Warning",
            "DeadlineExceeded",
            "Job was active longer than specified deadline",
            1,
            ctx.now,
            CONTROLLER,
        );
        failed_status(
            failures,
            "DeadlineExceeded",
            "Job was active longer than specified deadline",
        )
    } else if failures > backoff_limit {
        event(
            ctx,
            job,
            "Warning",
            "BackoffLimitExceeded",
            "Job has reached the specified backoff limit",
            1,
            ctx.now,
            CONTROLLER,
        );
        failed_status(
            failures,
            "BackoffLimitExceeded",
            "Job has reached the specified backoff limit",
        )
    } else if matches!(effect, Effect::Healthy | Effect::Slow) && pod_succeeded {
        event(
            ctx,
            job,
            "Normal",
            "Completed",
            "Job completed",
            1,
            ctx.now,
            CONTROLLER,
        );
        json!({
            "startTime": start_time, "completionTime": now, "active": 0, "succeeded": completions, "ready": 0, "terminating": 0,
            "conditions": [
                {"type": "SuccessCriteriaMet", "status": "True", "reason": "CompletionsReached", "message": "Reached expected number of succeeded pods", "lastProbeTime": now, "lastTransitionTime": now},
                {"type": "Complete", "status": "True", "reason": "CompletionsReached", "message": "Reached expected number of succeeded pods", "lastProbeTime": now, "lastTransitionTime": now},
            ],
        })
    } else {
        let mut s = json!({"startTime": start_time, "active": 1, "ready": 0, "terminating": 0});
        if failures > 0 {
            s["failed"] = json!(failures);
        }
        s
    };
    let failed = status["conditions"]
        .as_array()
        .is_some_and(|cs| cs.iter().any(|c| c["type"] == "Failed"));
    put_status(ctx, &info, job, status, CONTROLLER);
    if failed {
        // A failed Job's active pods are terminated.
        let pods = resources::builtin("", "pods");
        for pod in mine {
            let _ = ctx.store.delete(&pods, ns, meta(pod, "name"), false, false);
        }
    }
}

/// The simulated node's allocatable resources: a pod requesting more
/// cannot be scheduled.
const NODE_CPU: f64 = 16.0;
const NODE_MEMORY: f64 = 64.0 * 1024.0 * 1024.0 * 1024.0;

/// A resource quantity (`500m`, `2`, `128Mi`, `1G`, `1e3`) in base units.
pub fn quantity(value: &Value) -> Option<f64> {
    let text = match value {
        Value::Number(n) => return n.as_f64(),
        Value::String(s) => s.trim(),
        _ => return None,
    };
    const SUFFIXES: &[(&str, f64)] = &[
        ("Ki", 1024.0),
        ("Mi", 1_048_576.0),
        ("Gi", 1_073_741_824.0),
        ("Ti", 1_099_511_627_776.0),
        ("Pi", 1_125_899_906_842_624.0),
        ("Ei", 1_152_921_504_606_846_976.0),
        ("m", 0.001),
        ("k", 1e3),
        ("M", 1e6),
        ("G", 1e9),
        ("T", 1e12),
        ("P", 1e15),
        ("E", 1e18),
    ];
    for (suffix, factor) in SUFFIXES {
        if let Some(number) = text.strip_suffix(suffix) {
            return number.parse::<f64>().ok().map(|n| n * factor);
        }
    }
    text.parse::<f64>().ok()
}

/// Why the pod cannot be scheduled on the one simulated node, if it cannot.
fn unschedulable(spec: &Value) -> Option<String> {
    let mut cpu = 0.0;
    let mut memory = 0.0;
    for c in spec["containers"].as_array().into_iter().flatten() {
        let resources = &c["resources"];
        let request = |name: &str| {
            quantity(&resources["requests"][name])
                .or_else(|| quantity(&resources["limits"][name]))
                .unwrap_or(0.0)
        };
        cpu += request("cpu");
        memory += request("memory");
    }
    let mut reasons = Vec::new();
    if cpu > NODE_CPU {
        reasons.push("1 Insufficient cpu");
    }
    if memory > NODE_MEMORY {
        reasons.push("1 Insufficient memory");
    }
    (!reasons.is_empty()).then(|| {
        format!(
            "0/1 nodes are available: {}. preemption: 0/1 nodes are available: 1 No preemption victims found for incoming pod.",
            reasons.join(", ")
        )
    })
}

fn object_exists(ctx: &Ctx<'_>, plural: &str, ns: &str, name: &str) -> Option<Value> {
    ctx.store
        .get(&resources::builtin("", plural), ns, name)
        .ok()
}

/// A volume whose ConfigMap or Secret is missing keeps the pod in
/// ContainerCreating with a FailedMount event.
fn missing_volume(ctx: &Ctx<'_>, pod: &Value) -> Option<String> {
    let ns = meta(pod, "namespace");
    for v in pod["spec"]["volumes"].as_array().into_iter().flatten() {
        let volume = v["name"].as_str().unwrap_or_default();
        let (source, plural, name_key, noun) = if v["configMap"].is_object() {
            (&v["configMap"], "configmaps", "name", "configmap")
        } else if v["secret"].is_object() {
            (&v["secret"], "secrets", "secretName", "secret")
        } else {
            continue;
        };
        let name = source[name_key].as_str().unwrap_or_default();
        if source["optional"].as_bool() != Some(true)
            && object_exists(ctx, plural, ns, name).is_none()
        {
            return Some(format!(
                "MountVolume.SetUp failed for volume \"{volume}\" : {noun} \"{name}\" not found"
            ));
        }
    }
    None
}

/// An environment reference to a missing ConfigMap, Secret or key:
/// CreateContainerConfigError.
fn missing_config(ctx: &Ctx<'_>, pod: &Value, container: &Value) -> Option<String> {
    let ns = meta(pod, "namespace");
    let has_key = |obj: &Value, key: &str| {
        obj["data"].get(key).is_some()
            || obj["binaryData"].get(key).is_some()
            || obj["stringData"].get(key).is_some()
    };
    for env in container["env"].as_array().into_iter().flatten() {
        for (field, plural, noun, kind) in [
            ("configMapKeyRef", "configmaps", "configmap", "ConfigMap"),
            ("secretKeyRef", "secrets", "secret", "Secret"),
        ] {
            let reference = &env["valueFrom"][field];
            if !reference.is_object() || reference["optional"].as_bool() == Some(true) {
                continue;
            }
            let name = reference["name"].as_str().unwrap_or_default();
            let key = reference["key"].as_str().unwrap_or_default();
            match object_exists(ctx, plural, ns, name) {
                None => return Some(format!("{noun} \"{name}\" not found")),
                Some(obj) if !has_key(&obj, key) => {
                    return Some(format!("couldn't find key {key} in {kind} {ns}/{name}"));
                }
                Some(_) => {}
            }
        }
    }
    for from in container["envFrom"].as_array().into_iter().flatten() {
        for (field, plural, noun) in [
            ("configMapRef", "configmaps", "configmap"),
            ("secretRef", "secrets", "secret"),
        ] {
            let reference = &from[field];
            if !reference.is_object() || reference["optional"].as_bool() == Some(true) {
                continue;
            }
            let name = reference["name"].as_str().unwrap_or_default();
            if object_exists(ctx, plural, ns, name).is_none() {
                return Some(format!("{noun} \"{name}\" not found"));
            }
        }
    }
    None
}

/// The `log` subresource of a pod: what its container would have printed.
/// Like the kubelet, a container that never started has no log (400), and
/// a pod of several containers needs `container`.
pub(crate) fn pod_log(
    pod: &Value,
    container: Option<&str>,
    cluster: &str,
) -> Result<String, crate::api_error::ApiError> {
    use crate::api_error::ApiError;
    let name = meta(pod, "name");
    let containers = spec_effect(&pod["spec"], cluster);
    let chosen = match container {
        Some(c) => containers.iter().find(|(n, _, _)| n == c).ok_or_else(|| {
            ApiError::bad_request(format!("container {c} is not valid for pod {name}"))
        })?,
        None if containers.len() == 1 => &containers[0],
        None => {
            let names: Vec<&str> = containers.iter().map(|(n, _, _)| n.as_str()).collect();
            return Err(ApiError::bad_request(format!(
                "a container name must be specified for pod {name}, choose one of: [{}]",
                names.join(" ")
            )));
        }
    };
    let (container, image, effect) = chosen;
    let status = pod["status"]["containerStatuses"]
        .as_array()
        .and_then(|cs| cs.iter().find(|c| c["name"] == container.as_str()));
    let waiting = status.and_then(|c| c["state"]["waiting"]["reason"].as_str());
    let ever_ran = status.is_some_and(|c| {
        c["state"]["running"].is_object()
            || c["state"]["terminated"].is_object()
            || c["lastState"]["terminated"].is_object()
    });
    if !ever_ran {
        let reason = waiting.unwrap_or("ContainerCreating");
        return Err(ApiError::bad_request(format!(
            "container \"{container}\" in pod \"{name}\" is waiting to start: {}",
            if matches!(reason, "ErrImagePull" | "ImagePullBackOff") {
                "trying and failing to pull image"
            } else {
                reason
            }
        )));
    }
    Ok(match effect {
        Effect::CrashLoop => {
            format!("starting {image}\nfatal: exiting with code 1 (simulated crash loop)\n")
        }
        Effect::Slow => format!("starting {image}\nwarming up (simulated slow start)\nready\n"),
        _ => format!("starting {image}\nready\n"),
    })
}

/// The Normal events of a pod's life, emitted once, at the transition that
/// causes them: scheduled, then per container pulled, created and started.
fn lifecycle_events(ctx: &Ctx<'_>, pod: &Value, status: &Value) {
    if pod["status"] == *status {
        return;
    }
    let (ns, name) = (meta(pod, "namespace"), meta(pod, "name"));
    if pod["status"]["startTime"].is_null() {
        let message = format!("Successfully assigned {ns}/{name} to sim-node");
        event(
            ctx,
            pod,
            "Normal",
            "Scheduled",
            &message,
            1,
            ctx.now,
            "default-scheduler",
        );
    }
    let was_running = |container: &str| {
        pod["status"]["containerStatuses"]
            .as_array()
            .is_some_and(|cs| {
                cs.iter()
                    .any(|c| c["name"] == container && !c["state"]["running"].is_null())
            })
    };
    for c in status["containerStatuses"].as_array().into_iter().flatten() {
        let container = c["name"].as_str().unwrap_or_default();
        if c["state"]["running"].is_null() || was_running(container) {
            continue;
        }
        let image = c["image"].as_str().unwrap_or_default();
        let pulled = format!("Container image \"{image}\" already present on machine");
        event(ctx, pod, "Normal", "Pulled", &pulled, 1, ctx.now, KUBELET);
        event(
            ctx,
            pod,
            "Normal",
            "Created",
            &format!("Created container: {container}"),
            1,
            ctx.now,
            KUBELET,
        );
        event(
            ctx,
            pod,
            "Normal",
            "Started",
            &format!("Started container {container}"),
            1,
            ctx.now,
            KUBELET,
        );
    }
}
