//! Test copies of a service (`paas service deploy --test-copy ID`): their
//! objects applied, listed and deleted by the copy label.
//!
//! A copy's objects carry `paas.io/test-copy: <ID>` and never the release
//! label, so [`crate::apply::live_versions`] never counts one as a
//! version and [`crate::apply::delete_version`] never deletes one. Its
//! HTTPRoute is its own (not the service's, whose rules the balancer owns),
//! so it is applied whole, rules included, with the `paas` manager.
//! Deciding which copies expired is the caller's (with
//! `manifests::copy::is_expired` and the binary's clock).

use std::collections::BTreeMap;

use kube::api::{Api, DeleteParams, DynamicObject, ListParams};
use release::{Object, ObjectRef};

use crate::apply::{apply_one, resource};
use crate::connect::ClusterClient;
use crate::error::{Error, Result};

/// The label on every object of a copy, holding its ID (the same as
/// `manifests::copy::COPY_LABEL`).
pub const COPY_LABEL: &str = "paas.io/test-copy";

/// The annotation holding a copy's expiry, RFC 3339 (the same as
/// `manifests::copy::EXPIRES_ANNOTATION`).
pub const EXPIRES_ANNOTATION: &str = "paas.io/expires-at";

/// The kinds a copy's objects have (what [`delete_copy`] and
/// [`list_copies`] look through); ReplicaSets and Pods go with their
/// Deployment by ownerReferences.
const COPY_KINDS: &[(&str, &str)] = &[
    ("gateway.networking.k8s.io/v1", "HTTPRoute"),
    ("apps/v1", "Deployment"),
    ("v1", "Service"),
    ("v1", "ConfigMap"),
];

/// A copy found in a cluster.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CopyInfo {
    /// Its ID.
    pub id: String,
    /// Its expiry annotation (the earliest of its objects'), if any.
    pub expires_at: Option<String>,
    /// How many objects it has there.
    pub objects: usize,
}

fn api(
    cluster: &ClusterClient,
    service: &str,
    api_version: &str,
    kind: &str,
) -> Api<DynamicObject> {
    Api::namespaced_with(
        cluster.client().clone(),
        service,
        &resource(api_version, kind),
    )
}

/// Lists objects of one kind by label selector; a kind the cluster does
/// not serve, or a namespace that does not exist, lists nothing.
async fn list(
    cluster: &ClusterClient,
    api: &Api<DynamicObject>,
    selector: &str,
) -> Result<Vec<kube::core::PartialObjectMeta<DynamicObject>>> {
    match cluster
        .call(api.list_metadata(&ListParams::default().labels(selector)))
        .await
    {
        Ok(list) => Ok(list.items),
        Err(e) if e.status_code() == Some(404) => Ok(Vec::new()),
        Err(e) => Err(e),
    }
}

/// The copies of `service` in one cluster, by ID.
pub async fn list_copies(cluster: &ClusterClient, service: &str) -> Result<Vec<CopyInfo>> {
    let mut copies: BTreeMap<String, CopyInfo> = BTreeMap::new();
    for (api_version, kind) in COPY_KINDS {
        let api = api(cluster, service, api_version, kind);
        for item in list(cluster, &api, COPY_LABEL).await? {
            let meta = item.metadata;
            let Some(id) = meta
                .labels
                .as_ref()
                .and_then(|l| l.get(COPY_LABEL))
                .cloned()
            else {
                continue;
            };
            let expires = meta
                .annotations
                .as_ref()
                .and_then(|a| a.get(EXPIRES_ANNOTATION))
                .cloned();
            let entry = copies.entry(id.clone()).or_insert(CopyInfo {
                id,
                expires_at: None,
                objects: 0,
            });
            entry.objects += 1;
            entry.expires_at = match (entry.expires_at.take(), expires) {
                (Some(a), Some(b)) => Some(a.min(b)),
                (a, b) => a.or(b),
            };
        }
    }
    Ok(copies.into_values().collect())
}

/// Deletes every object of copy `id` of `service` in one cluster; returns
/// how many were deleted (0 when there is no such copy).
pub async fn delete_copy(cluster: &ClusterClient, service: &str, id: &str) -> Result<usize> {
    let selector = format!("{COPY_LABEL}={id}");
    let mut deleted = 0;
    for (api_version, kind) in COPY_KINDS {
        let api = api(cluster, service, api_version, kind);
        for item in list(cluster, &api, &selector).await? {
            let name = item.metadata.name.unwrap_or_default();
            crate::records::delete_ignoring_missing(
                cluster,
                api.delete(&name, &DeleteParams::background()),
            )
            .await?;
            deleted += 1;
        }
    }
    Ok(deleted)
}

/// Applies a copy's objects in order, whole (an HTTPRoute with its rules),
/// with the `paas` manager, forced (or as a server-side dry run); returns
/// each object's generation, or the object that failed and why.
pub async fn apply_copy(
    cluster: &ClusterClient,
    objects: &[Object],
    dry_run: bool,
) -> std::result::Result<Vec<(ObjectRef, i64)>, (ObjectRef, Error)> {
    let mut applied = Vec::with_capacity(objects.len());
    for object in objects {
        match apply_one(
            cluster,
            &object.reference,
            &object.body,
            release::planner::FIELD_MANAGER,
            true,
            dry_run,
        )
        .await
        {
            Ok(generation) => applied.push((object.reference.clone(), generation)),
            Err(e) => return Err((object.reference.clone(), e)),
        }
    }
    Ok(applied)
}

/// Whether the service's namespace exists in the cluster (a copy runs in
/// it, beside the service).
pub async fn namespace_exists(cluster: &ClusterClient, service: &str) -> Result<bool> {
    let api: Api<k8s_openapi::api::core::v1::Namespace> = Api::all(cluster.client().clone());
    Ok(cluster.call(api.get_opt(service)).await?.is_some())
}
