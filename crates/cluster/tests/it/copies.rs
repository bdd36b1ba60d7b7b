//! Test copies beside a release: never a live version, untouched by a
//! traffic switch and by deleting a version, removed by their label.

use cluster::apply::{apply_objects, delete_version, live_versions, switch_traffic};
use cluster::copies::{CopyInfo, apply_copy, delete_copy, list_copies, namespace_exists};
use kube::api::{Api, DynamicObject};
use release::{Object, Version};
use serde_json::json;

use crate::support::{manifests, object, start};

fn copy_objects(svc: &str, id: &str) -> Vec<Object> {
    let name = format!("{svc}-{id}");
    let labels = json!({
        "app.kubernetes.io/name": svc,
        "app.kubernetes.io/instance": name,
        "app.kubernetes.io/component": "test-copy",
        "paas.io/test-copy": id,
    });
    let annotations = json!({"paas.io/expires-at": "2026-11-24T00:00:00Z"});
    let meta =
        json!({"name": name, "namespace": svc, "labels": labels, "annotations": annotations});
    vec![
        object(
            "apps/v1",
            "Deployment",
            Some(svc),
            &name,
            json!({
                "apiVersion": "apps/v1", "kind": "Deployment", "metadata": meta,
                "spec": {
                    "replicas": 1,
                    "selector": {"matchLabels": {"app.kubernetes.io/instance": name}},
                    "template": {
                        "metadata": {"labels": labels},
                        "spec": {"containers": [{"name": "app", "image": format!("registry/{svc}:copy")}]}
                    }
                }
            }),
        ),
        object(
            "gateway.networking.k8s.io/v1",
            "HTTPRoute",
            Some(svc),
            &name,
            json!({
                "apiVersion": "gateway.networking.k8s.io/v1", "kind": "HTTPRoute", "metadata": meta,
                "spec": {
                    "parentRefs": [{"group": "", "kind": "Service", "name": svc, "port": 80}],
                    "rules": [{
                        "matches": [{"headers": [{"type": "Exact", "name": "X-Route", "value": id}]}],
                        "backendRefs": [{"name": name, "port": 80, "weight": 100}]
                    }]
                }
            }),
        ),
    ]
}

#[tokio::test]
async fn a_copy_is_never_a_version_and_goes_by_its_label() {
    let env = start(&["a"]).await;
    let c = env.client("a");
    assert!(!namespace_exists(c, "svc").await.unwrap());
    assert_eq!(list_copies(c, "svc").await.unwrap(), []);
    let v1 = manifests("svc", Version(1), "one", 1, 0);
    let all: Vec<Object> = [&v1.init, &v1.application, &v1.balancing]
        .into_iter()
        .flatten()
        .cloned()
        .collect();
    let (_, error) = apply_objects(c, &all, release::planner::FIELD_MANAGER).await;
    assert!(error.is_none(), "{error:?}");
    assert!(namespace_exists(c, "svc").await.unwrap());
    apply_copy(c, &copy_objects("svc", "pr-1"), false)
        .await
        .unwrap();

    assert_eq!(
        live_versions(c, "svc")
            .await
            .unwrap()
            .into_iter()
            .collect::<Vec<_>>(),
        [Version(1)]
    );
    assert_eq!(
        list_copies(c, "svc").await.unwrap(),
        [CopyInfo {
            id: "pr-1".into(),
            expires_at: Some("2026-11-24T00:00:00Z".into()),
            objects: 2,
        }]
    );

    // The balancer rewrites the service's route, not the copy's.
    switch_traffic(c, "svc", &v1.balancing, Version(1), None, 100)
        .await
        .unwrap();
    let routes: Api<DynamicObject> = Api::namespaced_with(
        c.client().clone(),
        "svc",
        &cluster::apply::resource("gateway.networking.k8s.io/v1", "HTTPRoute"),
    );
    let route = routes.get("svc-pr-1").await.unwrap();
    assert_eq!(
        route.data["spec"]["rules"][0]["backendRefs"][0]["name"],
        "svc-pr-1"
    );

    // Deleting v1 keeps the copy; deleting the copy takes both objects, once.
    assert!(delete_version(c, "svc", Version(1)).await.unwrap() > 0);
    assert_eq!(list_copies(c, "svc").await.unwrap().len(), 1);
    assert_eq!(delete_copy(c, "svc", "pr-1").await.unwrap(), 2);
    assert_eq!(delete_copy(c, "svc", "pr-1").await.unwrap(), 0);
    assert_eq!(list_copies(c, "svc").await.unwrap(), []);
}
