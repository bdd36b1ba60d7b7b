//! The `Release` custom resource: its definition, installing it, and the
//! `ApiResource` the adapter uses to read and write records.
//!
//! The schema is written by hand rather than derived: the spec and status
//! are the `release` crate's types, whose JSON the planner owns, so the CRD
//! declares the fields people and `kubectl` look at (and the printer
//! columns) and keeps the rest with `x-kubernetes-preserve-unknown-fields`.
//! That keeps it structural (every level has a type) without duplicating the
//! planner's model in a second schema that could drift from it.

use k8s_openapi::apiextensions_apiserver::pkg::apis::apiextensions::v1::CustomResourceDefinition;
use kube::api::{Api, PostParams};
use kube::core::ApiResource;
use serde_json::json;

use crate::connect::ClusterClient;
use crate::error::{Error, Result};

/// API group of the `Release` resource.
pub const GROUP: &str = "paas.io";
/// API version of the `Release` resource.
pub const VERSION: &str = "v1";
/// Kind of the resource.
pub const KIND: &str = "Release";
/// Plural (URL segment) of the resource.
pub const PLURAL: &str = "releases";
/// The CRD's name: `<plural>.<group>`.
pub const CRD_NAME: &str = "releases.paas.io";

/// The `ApiResource` of `paas.io/v1` `Release`, for dynamic requests.
pub fn api_resource() -> ApiResource {
    ApiResource {
        group: GROUP.to_owned(),
        version: VERSION.to_owned(),
        api_version: format!("{GROUP}/{VERSION}"),
        kind: KIND.to_owned(),
        plural: PLURAL.to_owned(),
    }
}

/// The CustomResourceDefinition of `Release` (what `paas crd` prints).
pub fn crd() -> CustomResourceDefinition {
    let open = json!({"type": "object", "x-kubernetes-preserve-unknown-fields": true});
    let schema = json!({
        "type": "object",
        "properties": {
            "apiVersion": {"type": "string"},
            "kind": {"type": "string"},
            "metadata": {"type": "object"},
            "spec": {
                "type": "object",
                "x-kubernetes-preserve-unknown-fields": true,
                "required": ["service", "environment", "number", "kind", "strategy"],
                "properties": {
                    "service": {"type": "string"},
                    "environment": {"type": "string"},
                    "number": {"type": "string", "pattern": "^v[0-9]+$"},
                    "kind": {"type": "string"},
                    "strategy": {"type": "string"},
                    "image": {"type": "string"},
                    "releaser": {"type": "string"},
                    "commit": {"type": "string"},
                    "clusters": {"type": "array", "items": {"type": "string"}},
                    "manifestsRef": {
                        "type": "object",
                        "properties": {
                            "configMaps": {"type": "array", "items": {"type": "string"}},
                            "digest": {"type": "string"},
                            "size": {"type": "integer"}
                        }
                    },
                    "options": open,
                }
            },
            "status": {
                "type": "object",
                "x-kubernetes-preserve-unknown-fields": true,
                "properties": {
                    "phase": {"type": "string"},
                    "stage": {"type": "string", "nullable": true},
                    "weight": {"type": "integer"},
                    "revision": {"type": "integer"}
                }
            }
        }
    });
    let column =
        |name: &str, kind: &str, path: &str| json!({"name": name, "type": kind, "jsonPath": path});
    let value = json!({
        "apiVersion": "apiextensions.k8s.io/v1",
        "kind": "CustomResourceDefinition",
        "metadata": {"name": CRD_NAME},
        "spec": {
            "group": GROUP,
            "scope": "Namespaced",
            "names": {
                "kind": KIND,
                "listKind": "ReleaseList",
                "plural": PLURAL,
                "singular": "release",
                "shortNames": ["rel"]
            },
            "versions": [{
                "name": VERSION,
                "served": true,
                "storage": true,
                "subresources": {"status": {}},
                "schema": {"openAPIV3Schema": schema},
                "additionalPrinterColumns": [
                    column("Version", "string", ".spec.number"),
                    column("Strategy", "string", ".spec.strategy"),
                    column("Kind", "string", ".spec.kind"),
                    column("Phase", "string", ".status.phase"),
                    column("Stage", "string", ".status.stage"),
                    column("Age", "date", ".metadata.creationTimestamp"),
                ]
            }]
        }
    });
    // The value above is a literal of the right shape; a failure here is a
    // bug in this function, caught by the unit test, never cluster input.
    serde_json::from_value(value).unwrap_or_default()
}

/// The CRD as YAML.
pub fn crd_yaml() -> String {
    serde_yaml::to_string(&crd()).unwrap_or_default()
}

/// Creates the CRD when it is missing and waits until it is Established.
pub async fn install_crd(cluster: &ClusterClient) -> Result<()> {
    let api: Api<CustomResourceDefinition> = Api::all(cluster.client().clone());
    if !established(&cluster.call(api.get_opt(CRD_NAME)).await?) {
        match cluster
            .call(api.create(&PostParams::default(), &crd()))
            .await
        {
            Ok(_) => {}
            Err(e) if e.status_code() == Some(409) => {}
            Err(e) => return Err(e),
        }
        let cond = kube::runtime::wait::conditions::is_crd_established();
        let wait = kube::runtime::wait::await_condition(api, CRD_NAME, cond);
        match tokio::time::timeout(cluster.settings().request_timeout * 3, wait).await {
            Ok(Ok(_)) => {}
            _ => {
                return Err(Error::NotEstablished {
                    cluster: cluster.name().to_owned(),
                });
            }
        }
    }
    Ok(())
}

fn established(crd: &Option<CustomResourceDefinition>) -> bool {
    crd.as_ref()
        .and_then(|c| c.status.as_ref())
        .and_then(|s| s.conditions.as_ref())
        .is_some_and(|conds| {
            conds
                .iter()
                .any(|c| c.type_ == "Established" && c.status == "True")
        })
}
