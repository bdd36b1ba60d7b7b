//! Server-side apply: creation, managedFields, conflicts, force, removal
//! of fields a manager stops applying, and Update ownership.

use crate::support::*;
use k8s_openapi::api::apps::v1::Deployment;
use k8s_openapi::api::core::v1::Service;
use kube::api::{Api, Patch, PatchParams};
use serde_json::{Value, json};

fn managed(obj: &Value, manager: &str) -> Value {
    obj["metadata"]["managedFields"]
        .as_array()
        .and_then(|a| a.iter().find(|e| e["manager"] == manager))
        .cloned()
        .unwrap_or(Value::Null)
}

#[tokio::test]
async fn apply_creates_and_records_managed_fields() {
    let sim = start("a").await;
    let api: Api<Deployment> = Api::namespaced(sim.client.clone(), "default");
    let created = api
        .patch(
            "web",
            &PatchParams::apply("paas"),
            &Patch::Apply(deployment("web", "nginx:1", 2)),
        )
        .await
        .unwrap();
    assert_eq!(created.metadata.generation, Some(1));
    let entry = managed(&raw(&created), "paas");
    assert_eq!(entry["operation"], "Apply");
    assert_eq!(entry["apiVersion"], "apps/v1");
    assert_eq!(entry["fieldsType"], "FieldsV1");
    let fields = &entry["fieldsV1"];
    assert_eq!(fields["f:spec"]["f:replicas"], json!({}));
    assert_eq!(fields["f:metadata"]["f:labels"]["f:app"], json!({}));
    let container =
        &fields["f:spec"]["f:template"]["f:spec"]["f:containers"]["k:{\"name\":\"app\"}"];
    assert_eq!(container["."], json!({}));
    assert_eq!(container["f:image"], json!({}));
    assert!(
        container["f:ports"]["k:{\"containerPort\":8080,\"protocol\":\"TCP\"}"].is_object(),
        "{container}"
    );
    assert!(fields.get("f:status").is_none());

    // Applying the same configuration again changes nothing.
    let again = api
        .patch(
            "web",
            &PatchParams::apply("paas"),
            &Patch::Apply(deployment("web", "nginx:1", 2)),
        )
        .await
        .unwrap();
    assert_eq!(again.metadata.generation, Some(1));
    // The controller writes status meanwhile; the applier's entry is untouched.
    assert_eq!(
        managed(&raw(&again), "paas"),
        managed(&raw(&created), "paas")
    );
}

#[tokio::test]
async fn conflicting_apply_is_refused_unless_forced() {
    let sim = start("a").await;
    let api: Api<Deployment> = Api::namespaced(sim.client.clone(), "default");
    api.patch(
        "web",
        &PatchParams::apply("paas"),
        &Patch::Apply(deployment("web", "nginx:1", 2)),
    )
    .await
    .unwrap();
    let scale = json!({"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "web"}, "spec": {"replicas": 5}});

    // The same value is shared ownership, not a conflict.
    let same = json!({"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "web"}, "spec": {"replicas": 2}});
    api.patch(
        "web",
        &PatchParams::apply("paas-balancer"),
        &Patch::Apply(same),
    )
    .await
    .unwrap();

    let conflict = status(
        api.patch(
            "web",
            &PatchParams::apply("autoscaler"),
            &Patch::Apply(scale.clone()),
        )
        .await,
    );
    assert_eq!((conflict.code, conflict.reason.as_str()), (409, "Conflict"));
    assert!(
        conflict
            .message
            .starts_with("Apply failed with 2 conflicts"),
        "{}",
        conflict.message
    );
    assert!(
        conflict
            .message
            .contains("conflict with \"paas\" using apps/v1: .spec.replicas"),
        "{}",
        conflict.message
    );
    assert!(
        conflict.message.contains("conflict with \"paas-balancer\""),
        "{}",
        conflict.message
    );
    let causes = conflict.details.map(|d| d.causes).unwrap_or_default();
    assert_eq!(causes.len(), 2);
    assert!(
        causes
            .iter()
            .all(|c| c.field == ".spec.replicas" && c.reason == "FieldManagerConflict")
    );
    assert_eq!(
        api.get("web").await.unwrap().spec.unwrap().replicas,
        Some(2)
    );

    let forced = api
        .patch(
            "web",
            &PatchParams::apply("autoscaler").force(),
            &Patch::Apply(scale),
        )
        .await
        .unwrap();
    assert_eq!(forced.spec.as_ref().unwrap().replicas, Some(5));
    assert_eq!(forced.metadata.generation, Some(2));
    let forced = raw(&forced);
    assert_eq!(
        managed(&forced, "autoscaler")["fieldsV1"],
        json!({"f:spec": {"f:replicas": {}}})
    );
    assert!(
        managed(&forced, "paas")["fieldsV1"]["f:spec"]
            .get("f:replicas")
            .is_none()
    );
    assert_eq!(
        managed(&forced, "paas-balancer"),
        Value::Null,
        "an entry left with no fields goes"
    );
}

#[tokio::test]
async fn fields_no_longer_applied_are_removed_unless_owned_by_another_manager() {
    let sim = start("a").await;
    let api: Api<Service> = Api::namespaced(sim.client.clone(), "default");
    let service = |annotations: Value, ports: Value| {
        json!({
            "apiVersion": "v1", "kind": "Service",
            "metadata": {"name": "web", "annotations": annotations},
            "spec": {"selector": {"app": "web"}, "ports": ports},
        })
    };
    api.patch(
        "web",
        &PatchParams::apply("paas"),
        &Patch::Apply(service(
            json!({"a": "1", "b": "2"}),
            json!([{"port": 80, "name": "http"}, {"port": 443, "name": "https"}]),
        )),
    )
    .await
    .unwrap();
    // Another manager also claims annotation b.
    api.patch(
        "web",
        &PatchParams::apply("other"),
        &Patch::Apply(json!({"apiVersion": "v1", "kind": "Service", "metadata": {"name": "web", "annotations": {"b": "2"}}})),
    )
    .await
    .unwrap();
    let after = api
        .patch(
            "web",
            &PatchParams::apply("paas"),
            &Patch::Apply(service(json!({}), json!([{"port": 80, "name": "http"}]))),
        )
        .await
        .unwrap();
    let after = raw(&after);
    assert_eq!(after["metadata"]["annotations"], json!({"b": "2"}));
    assert_eq!(
        after["spec"]["ports"].as_array().map(Vec::len),
        Some(1),
        "{}",
        after["spec"]
    );
    assert!(managed(&after, "paas")["fieldsV1"]["f:spec"]["f:ports"]["k:{\"port\":80,\"protocol\":\"TCP\"}"].is_object());
}

#[tokio::test]
async fn updates_take_ownership_under_operation_update() {
    let sim = start("a").await;
    let api: Api<Deployment> = Api::namespaced(sim.client.clone(), "default");
    api.patch(
        "web",
        &PatchParams::apply("paas"),
        &Patch::Apply(deployment("web", "nginx:1", 2)),
    )
    .await
    .unwrap();
    let pp = PatchParams {
        field_manager: Some("kubectl".into()),
        ..Default::default()
    };
    let patched = api
        .patch("web", &pp, &Patch::Merge(json!({"spec": {"replicas": 7}})))
        .await
        .unwrap();
    let patched = raw(&patched);
    let entry = managed(&patched, "kubectl");
    assert_eq!(entry["operation"], "Update");
    assert_eq!(entry["fieldsV1"], json!({"f:spec": {"f:replicas": {}}}));
    // The applier now conflicts with the updater.
    let conflict = status(
        api.patch(
            "web",
            &PatchParams::apply("paas"),
            &Patch::Apply(deployment("web", "nginx:1", 2)),
        )
        .await,
    );
    assert!(
        conflict.message.contains("conflict with \"kubectl\""),
        "{}",
        conflict.message
    );
}

#[tokio::test]
async fn apply_needs_a_field_manager_and_a_fresh_resource_version() {
    let sim = start("a").await;
    let body = r#"{"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"c"}}"#;
    let missing = status(
        request(
            &sim.client,
            "PATCH",
            "/api/v1/namespaces/default/configmaps/c",
            "application/apply-patch+yaml",
            body,
        )
        .await,
    );
    assert_eq!((missing.code, missing.reason.as_str()), (400, "BadRequest"));
    // YAML is accepted too.
    let yaml = "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: c\ndata:\n  k: v\n";
    let text = request(
        &sim.client,
        "PATCH",
        "/api/v1/namespaces/default/configmaps/c?fieldManager=paas",
        "application/apply-patch+yaml",
        yaml,
    )
    .await
    .unwrap();
    assert!(text.contains("\"k\":\"v\""), "{text}");
    let stale =
        r#"{"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"c","resourceVersion":"1"}}"#;
    let conflict = status(
        request(
            &sim.client,
            "PATCH",
            "/api/v1/namespaces/default/configmaps/c?fieldManager=paas",
            "application/apply-patch+yaml",
            stale,
        )
        .await,
    );
    assert_eq!(conflict.code, 409);
}

#[tokio::test]
async fn traffic_switch_owns_the_route_rules_as_one_field() {
    use kube::api::{ApiResource, DynamicObject, GroupVersionKind};
    let sim = start("a").await;
    let gvk = GroupVersionKind::gvk("gateway.networking.k8s.io", "v1", "HTTPRoute");
    let routes: Api<DynamicObject> = Api::namespaced_with(
        sim.client.clone(),
        "default",
        &ApiResource::from_gvk_with_plural(&gvk, "httproutes"),
    );
    let route = |rules: Option<Value>| {
        let mut r = json!({
            "apiVersion": "gateway.networking.k8s.io/v1", "kind": "HTTPRoute",
            "metadata": {"name": "web"},
            "spec": {"hostnames": ["web.example.com"], "parentRefs": [{"name": "gateway"}]},
        });
        if let Some(rules) = rules {
            r["spec"]["rules"] = rules;
        }
        r
    };
    let v5_only = json!([{"backendRefs": [{"name": "web-v5", "port": 80, "weight": 100}]}]);
    let switched = json!([{"backendRefs": [
        {"name": "web-v5", "port": 80, "weight": 0}, {"name": "web-v6", "port": 80, "weight": 100}
    ]}]);
    routes
        .patch(
            "web",
            &PatchParams::apply("paas"),
            &Patch::Apply(route(Some(v5_only.clone()))),
        )
        .await
        .unwrap();
    let balancer = json!({"apiVersion": "gateway.networking.k8s.io/v1", "kind": "HTTPRoute", "spec": {"rules": switched}});
    let after = routes
        .patch(
            "web",
            &PatchParams::apply("paas-balancer").force(),
            &Patch::Apply(balancer),
        )
        .await
        .unwrap();
    let after = raw(&after);
    assert_eq!(
        managed(&after, "paas-balancer")["fieldsV1"],
        json!({"f:spec": {"f:rules": {}}})
    );
    assert!(
        managed(&after, "paas")["fieldsV1"]["f:spec"]
            .get("f:rules")
            .is_none()
    );

    // Re-applying the old rules now conflicts with the balancer...
    let conflict = status(
        routes
            .patch(
                "web",
                &PatchParams::apply("paas"),
                &Patch::Apply(route(Some(v5_only))),
            )
            .await,
    );
    assert!(
        conflict.message.contains(
            "conflict with \"paas-balancer\" using gateway.networking.k8s.io/v1: .spec.rules"
        ),
        "{}",
        conflict.message
    );
    // ...while leaving them out keeps the balancer's weights.
    let kept = routes
        .patch(
            "web",
            &PatchParams::apply("paas"),
            &Patch::Apply(route(None)),
        )
        .await
        .unwrap();
    assert_eq!(
        kept.data["spec"]["rules"][0]["backendRefs"][1]["weight"],
        100
    );
}
