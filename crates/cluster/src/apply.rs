//! Server-side apply of release objects, the dry run before a deploy,
//! traffic switching, and deleting a version by its label.
//!
//! Objects are applied with `fieldManager: paas` and `force` (paas owns
//! them). Traffic is switched by applying the balancing objects with the
//! manager `paas-balancer`. An HTTPRoute's `spec.rules` is one atomic field
//! in server-side apply (it holds the backend weights), so the balancer owns
//! the rules outright and paas leaves them out of its own applies; otherwise
//! every deploy would take the weights back from the balancer.
//!
//! Deleting a version goes by the version label the manifest generator puts
//! on every object (`paas.io/release=v<N>`) and, because shared objects (the
//! namespace, the stable Service, routes) carry the label of the release
//! that applied them last, only objects whose name is versioned
//! (`<svc>-v<N>` or `<svc>-v<N>-...`) are deleted; their dependents
//! (ReplicaSets, Pods) go with them by ownerReferences.

use kube::api::{Api, DeleteParams, DynamicObject, ListParams, Patch, PatchParams};
use kube::core::{ApiResource, GroupVersionKind};
use release::{Object, ObjectRef, Reason, Version};
use serde_json::{Value, json};

use crate::connect::ClusterClient;
use crate::error::{Error, Result};

/// Annotation on balancing objects recording the traffic split they carry
/// (`{"version":"v6","weight":25,"stable":"v5"}`), read back by snapshots.
pub const TRAFFIC_ANNOTATION: &str = "paas.io/traffic";

/// The kinds a version's objects can have (what [`delete_version`] lists).
const VERSIONED_KINDS: &[(&str, &str)] = &[
    ("apps/v1", "Deployment"),
    ("batch/v1", "Job"),
    ("batch/v1", "CronJob"),
    ("v1", "ConfigMap"),
    ("v1", "Secret"),
    ("v1", "Service"),
    ("policy/v1", "PodDisruptionBudget"),
    ("autoscaling/v2", "HorizontalPodAutoscaler"),
];

/// The `ApiResource` of an `apiVersion` and kind (plural by kube's rules).
pub fn resource(api_version: &str, kind: &str) -> ApiResource {
    let (group, version) = match api_version.split_once('/') {
        Some((g, v)) => (g, v),
        None => ("", api_version),
    };
    ApiResource::from_gvk(&GroupVersionKind::gvk(group, version, kind))
}

/// The dynamic API of an object (namespaced when the reference has a namespace).
pub fn api_for(cluster: &ClusterClient, reference: &ObjectRef) -> Api<DynamicObject> {
    let ar = resource(&reference.api_version, &reference.kind);
    match &reference.namespace {
        Some(ns) if !ns.is_empty() => Api::namespaced_with(cluster.client().clone(), ns, &ar),
        _ => Api::all_with(cluster.client().clone(), &ar),
    }
}

/// The body paas applies: an HTTPRoute without its rules (the balancer's).
pub fn paas_body(object: &Object) -> Value {
    let mut body = object.body.clone();
    if object.reference.kind == "HTTPRoute"
        && let Some(spec) = body.get_mut("spec").and_then(Value::as_object_mut)
    {
        spec.remove("rules");
    }
    body
}

/// What one object's apply gave: its generation (0 for kinds without one).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Applied {
    /// The object.
    pub object: ObjectRef,
    /// `metadata.generation` the apply returned.
    pub generation: i64,
}

/// Server-side applies `body` for `reference` with `manager`.
pub async fn apply_one(
    cluster: &ClusterClient,
    reference: &ObjectRef,
    body: &Value,
    manager: &str,
    force: bool,
    dry_run: bool,
) -> Result<i64> {
    let mut params = PatchParams::apply(manager);
    params.force = force;
    params.dry_run = dry_run;
    let applied = cluster
        .call(api_for(cluster, reference).patch(&reference.name, &params, &Patch::Apply(body)))
        .await?;
    Ok(applied.metadata.generation.unwrap_or(0))
}

/// Applies objects in order with the `paas` manager (forced); stops at the
/// first error, returning what was applied and the error.
pub async fn apply_objects(
    cluster: &ClusterClient,
    objects: &[Object],
    manager: &str,
) -> (Vec<Applied>, Option<(ObjectRef, Error)>) {
    let mut applied = Vec::with_capacity(objects.len());
    for object in objects {
        match apply_one(
            cluster,
            &object.reference,
            &paas_body(object),
            manager,
            true,
            false,
        )
        .await
        {
            Ok(generation) => applied.push(Applied {
                object: object.reference.clone(),
                generation,
            }),
            Err(e) => return (applied, Some((object.reference.clone(), e))),
        }
    }
    (applied, None)
}

/// A problem a dry run found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Problem {
    /// Cluster.
    pub cluster: String,
    /// Object.
    pub object: ObjectRef,
    /// Why (a conflict is `Other("Conflict")`).
    pub reason: Reason,
    /// The API server's message.
    pub message: String,
}

/// Server-side dry run of `objects` (not forced, so fields another manager
/// owns show up as conflicts; admission and validation errors show up as
/// such). Nothing changes in the cluster. Objects in a namespace the same
/// list creates are skipped when that namespace does not exist yet (the
/// API server could not judge them before it does).
pub async fn dry_run(cluster: &ClusterClient, objects: &[Object]) -> Result<Vec<Problem>> {
    let mut problems = Vec::new();
    let mut missing_namespaces = Vec::new();
    for object in objects {
        let r = &object.reference;
        if r.namespace
            .as_ref()
            .is_some_and(|ns| missing_namespaces.contains(ns))
        {
            continue;
        }
        let result = apply_one(
            cluster,
            r,
            &paas_body(object),
            release::planner::FIELD_MANAGER,
            false,
            true,
        )
        .await;
        if r.kind == "Namespace" {
            let exists = cluster
                .call(api_for(cluster, r).get_opt(&r.name))
                .await?
                .is_some();
            if !exists {
                missing_namespaces.push(r.name.clone());
            }
        }
        match result {
            Ok(_) => {}
            Err(e) if e.is_unreachable() => return Err(e),
            Err(e) => {
                let (reason, message) = classify_error(&e);
                problems.push(Problem {
                    cluster: cluster.name().to_owned(),
                    object: r.clone(),
                    reason,
                    message,
                });
            }
        }
    }
    Ok(problems)
}

/// The planner's reason for an error the API server answered with.
pub fn classify_error(error: &Error) -> (Reason, String) {
    match error {
        Error::Kube {
            source: kube::Error::Api(status),
            ..
        } => {
            let message = status.message.clone();
            let reason = match status.code {
                409 => Reason::Other("Conflict".to_owned()),
                403 if message.contains("exceeded quota") => Reason::Quota,
                400 | 403 | 422 => Reason::Admission,
                _ => Reason::Other(status.reason.clone()),
            };
            (reason, message)
        }
        e if e.is_unreachable() => (Reason::Unreachable, e.to_string()),
        e => (Reason::Other("Error".to_owned()), e.to_string()),
    }
}

/// Applies the balancing objects with the balancer's manager so that
/// `weight`% goes to `version` and the rest to `stable`.
pub async fn switch_traffic(
    cluster: &ClusterClient,
    service: &str,
    objects: &[Object],
    version: Version,
    stable: Option<Version>,
    weight: u8,
) -> Result<()> {
    // No traffic to the new version is all traffic to the stable one.
    let (version, stable, weight) = match stable {
        Some(stable) if weight == 0 => (stable, None, 100),
        _ => (version, stable, weight),
    };
    let traffic = json!({"version": version.to_string(), "weight": weight,
                         "stable": stable.filter(|_| weight < 100).map(|s| s.to_string())});
    for object in objects {
        let mut body = object.body.clone();
        if let Some(meta) = body.get_mut("metadata").and_then(Value::as_object_mut) {
            let annotations = meta.entry("annotations").or_insert_with(|| json!({}));
            annotations[TRAFFIC_ANNOTATION] = json!(traffic.to_string());
        }
        if object.reference.kind == "HTTPRoute" {
            set_route_weights(&mut body, service, version, stable, weight);
        }
        apply_one(
            cluster,
            &object.reference,
            &body,
            release::planner::BALANCER_FIELD_MANAGER,
            true,
            false,
        )
        .await?;
    }
    Ok(())
}

/// Rewrites every rule's backends: `<svc>-<version>` at `weight`, and
/// `<svc>-<stable>` at the rest when there is a rest.
pub fn set_route_weights(
    body: &mut Value,
    service: &str,
    version: Version,
    stable: Option<Version>,
    weight: u8,
) {
    let Some(rules) = body
        .pointer_mut("/spec/rules")
        .and_then(Value::as_array_mut)
    else {
        return;
    };
    for rule in rules {
        let port = rule
            .pointer("/backendRefs/0/port")
            .cloned()
            .unwrap_or(json!(80));
        let mut backends = Vec::new();
        if let Some(stable) = stable
            && weight < 100
        {
            backends.push(json!({"name": format!("{service}-{stable}"), "port": port,
                                 "weight": 100 - i64::from(weight)}));
        }
        backends
            .push(json!({"name": format!("{service}-{version}"), "port": port, "weight": weight}));
        rule["backendRefs"] = Value::Array(backends);
    }
}

/// Whether `name` is an object of `version` of `service` by its name.
pub fn is_versioned_name(service: &str, version: Version, name: &str) -> bool {
    let base = format!("{service}-{version}");
    name == base || name.starts_with(&format!("{base}-"))
}

/// Deletes every object of `version` of `service` (in the service's
/// namespace); returns how many were deleted.
pub async fn delete_version(
    cluster: &ClusterClient,
    service: &str,
    version: Version,
) -> Result<usize> {
    let selector = format!("{}={version}", release::RELEASE_LABEL);
    let mut deleted = 0;
    for (api_version, kind) in VERSIONED_KINDS {
        let api: Api<DynamicObject> = Api::namespaced_with(
            cluster.client().clone(),
            service,
            &resource(api_version, kind),
        );
        let list = match cluster
            .call(api.list_metadata(&ListParams::default().labels(&selector)))
            .await
        {
            Ok(list) => list,
            Err(e) if e.status_code() == Some(404) => continue,
            Err(e) => return Err(e),
        };
        for item in list.items {
            let name = item.metadata.name.unwrap_or_default();
            if is_versioned_name(service, version, &name) {
                crate::records::delete_ignoring_missing(
                    cluster,
                    api.delete(&name, &DeleteParams::background()),
                )
                .await?;
                deleted += 1;
            }
        }
    }
    Ok(deleted)
}

/// The versions of `service` whose objects exist (by label and name).
pub async fn live_versions(
    cluster: &ClusterClient,
    service: &str,
) -> Result<std::collections::BTreeSet<Version>> {
    let mut versions = std::collections::BTreeSet::new();
    for (api_version, kind) in [("apps/v1", "Deployment"), ("batch/v1", "Job")] {
        let api: Api<DynamicObject> = Api::namespaced_with(
            cluster.client().clone(),
            service,
            &resource(api_version, kind),
        );
        let list = cluster
            .call(api.list_metadata(&ListParams::default().labels(release::RELEASE_LABEL)))
            .await?;
        for item in list.items {
            let labels = item.metadata.labels.unwrap_or_default();
            let name = item.metadata.name.unwrap_or_default();
            if let Some(version) = labels
                .get(release::RELEASE_LABEL)
                .and_then(|v| v.parse::<Version>().ok())
                && is_versioned_name(service, version, &name)
            {
                versions.insert(version);
            }
        }
    }
    Ok(versions)
}

/// The traffic split recorded on the service's balancing objects.
pub async fn live_traffic(cluster: &ClusterClient, service: &str) -> Result<Option<Value>> {
    for (api_version, kind) in [
        ("gateway.networking.k8s.io/v1", "HTTPRoute"),
        ("v1", "Service"),
    ] {
        let api: Api<DynamicObject> = Api::namespaced_with(
            cluster.client().clone(),
            service,
            &resource(api_version, kind),
        );
        if let Some(object) = cluster.call(api.get_opt(service)).await?
            && let Some(text) = object
                .metadata
                .annotations
                .as_ref()
                .and_then(|a| a.get(TRAFFIC_ANNOTATION))
        {
            return Ok(serde_json::from_str(text).ok());
        }
    }
    Ok(None)
}
