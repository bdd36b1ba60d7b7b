//! The Release custom resource: its CRD, discovery, REST paths and status.

use crate::support::*;
use k8s_openapi::apiextensions_apiserver::pkg::apis::apiextensions::v1::CustomResourceDefinition;
use kube::api::{
    Api, ApiResource, DeleteParams, DynamicObject, GroupVersionKind, ListParams, Patch,
    PatchParams, PostParams,
};
use serde_json::json;

fn release_crd() -> CustomResourceDefinition {
    typed(json!({
        "apiVersion": "apiextensions.k8s.io/v1", "kind": "CustomResourceDefinition",
        "metadata": {"name": "releases.paas.io"},
        "spec": {
            "group": "paas.io", "scope": "Namespaced",
            "names": {"plural": "releases", "singular": "release", "kind": "Release", "shortNames": ["rel"]},
            "versions": [{
                "name": "v1", "served": true, "storage": true,
                "schema": {"openAPIV3Schema": {"type": "object", "x-kubernetes-preserve-unknown-fields": true}},
                "subresources": {"status": {}},
            }],
        },
    }))
}

fn release_resource() -> ApiResource {
    ApiResource::from_gvk_with_plural(
        &GroupVersionKind::gvk("paas.io", "v1", "Release"),
        "releases",
    )
}

#[tokio::test]
async fn release_crd_lifecycle() {
    let sim = start("a").await;
    let releases: Api<DynamicObject> =
        Api::namespaced_with(sim.client.clone(), "default", &release_resource());
    assert_eq!(
        status(releases.list(&ListParams::default()).await).code,
        404,
        "no CRD, no resource"
    );

    let crds: Api<CustomResourceDefinition> = Api::all(sim.client.clone());
    let crd = crds
        .create(&PostParams::default(), &release_crd())
        .await
        .unwrap();
    let conditions = crd.status.and_then(|s| s.conditions).unwrap_or_default();
    assert!(
        conditions
            .iter()
            .any(|c| c.type_ == "Established" && c.status == "True")
    );

    let group = sim
        .client
        .list_api_group_resources("paas.io/v1")
        .await
        .unwrap();
    let names: Vec<&str> = group.resources.iter().map(|r| r.name.as_str()).collect();
    assert_eq!(names, ["releases", "releases/status"]);
    assert!(
        sim.client
            .list_api_groups()
            .await
            .unwrap()
            .groups
            .iter()
            .any(|g| g.name == "paas.io")
    );

    let release = json!({
        "apiVersion": "paas.io/v1", "kind": "Release",
        "metadata": {"name": "web-v1", "labels": {"paas.io/service": "web"}},
        "spec": {"number": 1, "kind": "deploy", "image": "web:1"},
        "status": {"stage": "ignored"},
    });
    let created = releases
        .patch(
            "web-v1",
            &PatchParams::apply("paas"),
            &Patch::Apply(release),
        )
        .await
        .unwrap();
    assert_eq!(created.metadata.generation, Some(1));
    assert!(
        created.data.get("status").is_none(),
        "status goes through the subresource only"
    );

    let with_status = releases
        .patch_status(
            "web-v1",
            &PatchParams::apply("paas").force(),
            &Patch::Apply(json!({"apiVersion": "paas.io/v1", "kind": "Release", "status": {"stage": "application"}})),
        )
        .await
        .unwrap();
    assert_eq!(with_status.data["status"]["stage"], "application");
    assert_eq!(with_status.metadata.generation, Some(1));
    let entries = raw(&with_status)["metadata"]["managedFields"].clone();
    assert!(
        entries
            .as_array()
            .unwrap()
            .iter()
            .any(|e| e["subresource"] == "status"),
        "{entries}"
    );

    let listed = releases
        .list(&ListParams::default().labels("paas.io/service=web"))
        .await
        .unwrap();
    assert_eq!(listed.items.len(), 1);
    let strategic = status(
        releases
            .patch(
                "web-v1",
                &PatchParams::default(),
                &Patch::Strategic(json!({"spec": {"image": "x"}})),
            )
            .await,
    );
    assert_eq!(
        strategic.code, 415,
        "custom resources take no strategic merge patch"
    );

    releases
        .delete("web-v1", &DeleteParams::default())
        .await
        .unwrap();
    assert_eq!(status(releases.get("web-v1").await).code, 404);

    // Deleting the CRD deletes its objects: a re-created CRD starts empty.
    let left = json!({"apiVersion": "paas.io/v1", "kind": "Release", "metadata": {"name": "web-v2"}, "spec": {"number": 2}});
    releases
        .patch("web-v2", &PatchParams::apply("paas"), &Patch::Apply(left))
        .await
        .unwrap();
    crds.delete("releases.paas.io", &DeleteParams::default())
        .await
        .unwrap();
    assert_eq!(
        status(releases.list(&ListParams::default()).await).code,
        404
    );
    crds.create(&PostParams::default(), &release_crd())
        .await
        .unwrap();
    assert!(
        releases
            .list(&ListParams::default())
            .await
            .unwrap()
            .items
            .is_empty()
    );
}

#[tokio::test]
async fn invalid_crd_is_rejected() {
    let sim = start("a").await;
    let crds: Api<CustomResourceDefinition> = Api::all(sim.client.clone());
    let mut crd = release_crd();
    crd.metadata.name = Some("wrong.paas.io".into());
    let invalid = status(crds.create(&PostParams::default(), &crd).await);
    assert_eq!(invalid.code, 422);
    assert!(
        invalid.message.contains("spec.names.plural"),
        "{}",
        invalid.message
    );
}
