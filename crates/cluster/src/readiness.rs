//! Readiness by watching, tied to the generation our apply returned.
//!
//! A Deployment is ready when `observedGeneration >= generation`,
//! `updatedReplicas == replicas == spec.replicas`, `availableReplicas >=
//! spec.replicas` and its `Available` condition is True; it failed on
//! `ProgressDeadlineExceeded`, `ReplicaFailure`, or when one of its pods
//! shows a failure that will not heal by waiting (image pull back-off, crash
//! loop, a bad container config, unschedulable past a window). A Job is
//! ready when `Complete` and failed when `Failed`. Other kinds are ready
//! once applied.
//!
//! The classification is pure (unit-tested on status JSON); the waiting
//! reads the object and its pods once, then watches both from the read
//! resourceVersion, so the number of requests per object is bounded by
//! changes and watch renewals, not by a polling interval.

use std::collections::BTreeMap;
use std::time::Instant;

use futures_util::StreamExt;
use k8s_openapi::api::core::v1::{Event as KubeEvent, Pod};
use kube::api::{Api, DynamicObject, ListParams, WatchEvent, WatchParams};
use release::{ObjectRef, Reason};
use serde_json::Value;

use crate::apply::api_for;
use crate::connect::ClusterClient;
use crate::error::Result;

/// The next thing one of the two watches gave.
// One lives per watch event and is matched at once: boxing the large
// variant would only add an allocation per event.
#[allow(clippy::large_enum_variant)]
enum Next {
    Object(Option<kube::Result<WatchEvent<DynamicObject>>>),
    Pod(Option<kube::Result<WatchEvent<Pod>>>),
}

/// Where an object stands.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Readiness {
    /// Still rolling out.
    Pending,
    /// Ready.
    Ready,
    /// Will not become ready.
    Failed {
        /// Why.
        reason: Reason,
        /// The condition's or container's message.
        message: String,
    },
}

fn int(value: &Value, pointer: &str) -> Option<i64> {
    value.pointer(pointer).and_then(Value::as_i64)
}

fn condition<'a>(object: &'a Value, kind: &str) -> Option<&'a Value> {
    object
        .pointer("/status/conditions")?
        .as_array()?
        .iter()
        .find(|c| c["type"] == kind)
}

fn text(value: &Value, key: &str) -> String {
    value[key].as_str().unwrap_or_default().to_owned()
}

/// Classifies a Deployment's JSON against the generation of our apply.
pub fn deployment_readiness(object: &Value, generation: i64) -> Readiness {
    if let Some(c) = condition(object, "Progressing")
        && c["status"] == "False"
        && c["reason"] == "ProgressDeadlineExceeded"
    {
        return Readiness::Failed {
            reason: Reason::ProgressDeadlineExceeded,
            message: text(c, "message"),
        };
    }
    if let Some(c) = condition(object, "ReplicaFailure")
        && c["status"] == "True"
    {
        return Readiness::Failed {
            reason: Reason::Other(
                Some(text(c, "reason"))
                    .filter(|r| !r.is_empty())
                    .unwrap_or_else(|| "ReplicaFailure".to_owned()),
            ),
            message: text(c, "message"),
        };
    }
    let want = int(object, "/spec/replicas").unwrap_or(1);
    let observed = int(object, "/status/observedGeneration").unwrap_or(0);
    let status = |field: &str| int(object, &format!("/status/{field}")).unwrap_or(0);
    let available = condition(object, "Available").is_some_and(|c| c["status"] == "True");
    let ready = observed >= generation
        && status("updatedReplicas") == want
        && status("replicas") == want
        && status("availableReplicas") >= want
        && available;
    if ready {
        Readiness::Ready
    } else {
        Readiness::Pending
    }
}

/// Classifies a Job's JSON.
pub fn job_readiness(object: &Value) -> Readiness {
    if condition(object, "Complete").is_some_and(|c| c["status"] == "True") {
        return Readiness::Ready;
    }
    match condition(object, "Failed") {
        Some(c) if c["status"] == "True" => Readiness::Failed {
            reason: Reason::Other(text(c, "reason")),
            message: text(c, "message"),
        },
        _ => Readiness::Pending,
    }
}

/// A failure a pod shows: reason, message, and whether it is the
/// unschedulable kind (which fails only past a window).
pub fn pod_failure(pod: &Value) -> Option<(Reason, String, bool)> {
    let statuses = ["/status/initContainerStatuses", "/status/containerStatuses"];
    for pointer in statuses {
        for status in pod
            .pointer(pointer)
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
        {
            let waiting = &status["state"]["waiting"];
            let message = text(waiting, "message");
            let reason = match waiting["reason"].as_str() {
                Some("ImagePullBackOff" | "ErrImagePull") => Reason::ImagePullBackOff,
                Some("CrashLoopBackOff") => Reason::CrashLoopBackOff,
                Some(other @ ("CreateContainerConfigError" | "InvalidImageName")) => {
                    Reason::Other(other.to_owned())
                }
                _ => continue,
            };
            return Some((reason, message, false));
        }
    }
    match condition(pod, "PodScheduled") {
        Some(c) if c["status"] == "False" && c["reason"] == "Unschedulable" => {
            Some((Reason::Unschedulable, text(c, "message"), true))
        }
        _ => None,
    }
}

/// The failure among `pods`, honouring the unschedulable window: `first`
/// remembers when each pod was first seen unschedulable.
fn pods_failure(
    pods: &BTreeMap<String, Value>,
    first: &mut BTreeMap<String, Instant>,
    window: std::time::Duration,
) -> Option<(String, Reason, String)> {
    for (name, pod) in pods {
        match pod_failure(pod) {
            Some((reason, message, false)) => return Some((name.clone(), reason, message)),
            Some((reason, message, true)) => {
                let since = *first.entry(name.clone()).or_insert_with(Instant::now);
                if since.elapsed() >= window {
                    return Some((name.clone(), reason, message));
                }
            }
            None => {
                first.remove(name);
            }
        }
    }
    None
}

/// A failure with the latest event message of the failing object.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NotReady {
    /// Why.
    pub reason: Reason,
    /// The latest event message (or the status message when there is none).
    pub message: String,
}

/// Waits until `object` is ready (`Ok(Ok(()))`) or failed (`Ok(Err(..))`);
/// `Err` when the cluster stops answering.
pub async fn wait_ready(
    cluster: &ClusterClient,
    object: &ObjectRef,
    generation: Option<i64>,
) -> Result<Result<(), NotReady>> {
    let is_deployment = object.kind == "Deployment" && object.api_version == "apps/v1";
    let is_job = object.kind == "Job" && object.api_version == "batch/v1";
    if !is_deployment && !is_job {
        return Ok(Ok(()));
    }
    let namespace = object.namespace.clone().unwrap_or_default();
    let api = api_for(cluster, object);
    let pods: Api<Pod> = Api::namespaced(cluster.client().clone(), &namespace);
    let mut unschedulable = BTreeMap::new();
    let window = cluster.settings().unschedulable_window;
    loop {
        let Some(current) = cluster.call(api.get_opt(&object.name)).await? else {
            // Not there (yet): a Deployment we applied is never missing for
            // long; wait for it with a watch below like for anything else.
            let fields = format!("metadata.name={}", object.name);
            watch_once(cluster, &api, &fields, "0").await?;
            continue;
        };
        let body = serde_json::to_value(&current).unwrap_or_default();
        let generation = generation.unwrap_or_else(|| current.metadata.generation.unwrap_or(0));
        let mut state = classify(&body, is_job, generation);
        let selector = pod_selector(&body, &object.name, is_job);
        let pod_list = cluster
            .call(pods.list(&ListParams::default().labels(&selector)))
            .await?;
        let mut pod_map: BTreeMap<String, Value> = pod_list
            .items
            .iter()
            .map(|p| {
                (
                    p.metadata.name.clone().unwrap_or_default(),
                    serde_json::to_value(p).unwrap_or_default(),
                )
            })
            .collect();
        let object_rv = current
            .metadata
            .resource_version
            .clone()
            .unwrap_or_default();
        let pods_rv = pod_list
            .metadata
            .resource_version
            .clone()
            .unwrap_or_default();
        let params = WatchParams::default()
            .fields(&format!("metadata.name={}", object.name))
            .timeout(cluster.settings().watch_seconds);
        let pod_params = WatchParams::default()
            .labels(&selector)
            .timeout(cluster.settings().watch_seconds);
        let mut object_stream = cluster.call(api.watch(&params, &object_rv)).await?.boxed();
        let mut pod_stream = cluster
            .call(pods.watch(&pod_params, &pods_rv))
            .await?
            .boxed();
        let idle = std::time::Duration::from_secs(u64::from(cluster.settings().watch_seconds))
            + cluster.settings().request_timeout;
        loop {
            match &state {
                Readiness::Ready => return Ok(Ok(())),
                Readiness::Failed { reason, message } => {
                    let message = latest_event(cluster, &namespace, &object.name)
                        .await
                        .unwrap_or_else(|| message.clone());
                    return Ok(Err(NotReady {
                        reason: reason.clone(),
                        message,
                    }));
                }
                Readiness::Pending => {}
            }
            if let Some((pod, reason, message)) = pods_failure(&pod_map, &mut unschedulable, window)
            {
                let message = latest_event(cluster, &namespace, &pod)
                    .await
                    .unwrap_or(message);
                return Ok(Err(NotReady { reason, message }));
            }
            let next = tokio::select! {
                item = object_stream.next() => Next::Object(item),
                item = pod_stream.next() => Next::Pod(item),
                () = tokio::time::sleep(idle) => return Err(cluster.timeout()),
            };
            match next {
                // A watch ended (its timeout) or broke: read again, watch anew.
                Next::Object(None | Some(Ok(WatchEvent::Error(_) | WatchEvent::Deleted(_))))
                | Next::Pod(None | Some(Ok(WatchEvent::Error(_)))) => break,
                Next::Object(Some(Err(source))) | Next::Pod(Some(Err(source))) => {
                    return Err(crate::Error::Kube {
                        cluster: cluster.name().to_owned(),
                        source,
                    });
                }
                Next::Object(Some(Ok(WatchEvent::Added(o) | WatchEvent::Modified(o)))) => {
                    let body = serde_json::to_value(&o).unwrap_or_default();
                    state = classify(&body, is_job, generation);
                }
                Next::Pod(Some(Ok(WatchEvent::Added(p) | WatchEvent::Modified(p)))) => {
                    let name = p.metadata.name.clone().unwrap_or_default();
                    pod_map.insert(name, serde_json::to_value(&p).unwrap_or_default());
                }
                Next::Pod(Some(Ok(WatchEvent::Deleted(p)))) => {
                    pod_map.remove(&p.metadata.name.unwrap_or_default());
                }
                Next::Object(Some(Ok(WatchEvent::Bookmark(_))))
                | Next::Pod(Some(Ok(WatchEvent::Bookmark(_)))) => {}
            }
        }
    }
}

async fn watch_once(
    cluster: &ClusterClient,
    api: &Api<DynamicObject>,
    fields: &str,
    rv: &str,
) -> Result<()> {
    let params = WatchParams::default()
        .fields(fields)
        .timeout(cluster.settings().watch_seconds);
    let mut stream = cluster.call(api.watch(&params, rv)).await?.boxed();
    let idle = std::time::Duration::from_secs(u64::from(cluster.settings().watch_seconds))
        + cluster.settings().request_timeout;
    match tokio::time::timeout(idle, stream.next()).await {
        Ok(_) => Ok(()),
        Err(_) => Err(cluster.timeout()),
    }
}

fn classify(body: &Value, is_job: bool, generation: i64) -> Readiness {
    if is_job {
        job_readiness(body)
    } else {
        deployment_readiness(body, generation)
    }
}

/// The label selector of the object's pods.
fn pod_selector(body: &Value, name: &str, is_job: bool) -> String {
    let labels = body
        .pointer("/spec/selector/matchLabels")
        .and_then(Value::as_object)
        .map(|m| {
            m.iter()
                .filter_map(|(k, v)| Some(format!("{k}={}", v.as_str()?)))
                .collect::<Vec<_>>()
                .join(",")
        })
        .unwrap_or_default();
    if labels.is_empty() && is_job {
        format!("job-name={name}")
    } else {
        labels
    }
}

/// The latest event message about an object (by name) in a namespace.
async fn latest_event(cluster: &ClusterClient, namespace: &str, name: &str) -> Option<String> {
    let api: Api<KubeEvent> = Api::namespaced(cluster.client().clone(), namespace);
    let params = ListParams::default().fields(&format!("involvedObject.name={name}"));
    let list = cluster.call(api.list(&params)).await.ok()?;
    list.items
        .iter()
        .filter(|e| e.type_.as_deref() == Some("Warning"))
        .max_by_key(|e| {
            e.metadata
                .resource_version
                .as_ref()
                .and_then(|v| v.parse::<u64>().ok())
        })
        .and_then(|e| e.message.clone())
}
