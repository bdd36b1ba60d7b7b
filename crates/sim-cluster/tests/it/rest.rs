//! The REST verbs: resourceVersion and generation, conflicts, selectors,
//! the status subresource, patches, dry run, namespaces, errors, discovery.

use crate::support::*;
use k8s_openapi::api::apps::v1::Deployment;
use k8s_openapi::api::core::v1::{ConfigMap, Namespace};
use kube::api::{Api, DeleteParams, ListParams, Patch, PatchParams, PostParams};
use serde_json::json;

fn cm(name: &str, labels: serde_json::Value) -> ConfigMap {
    typed(
        json!({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": name, "labels": labels}, "data": {"k": "v"}}),
    )
}

fn rv(meta: &k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta) -> u64 {
    meta.resource_version.as_deref().unwrap().parse().unwrap()
}

#[tokio::test]
async fn generation_changes_only_with_spec_and_resource_version_with_every_change() {
    let sim = start("a").await;
    let api: Api<Deployment> = Api::namespaced(sim.client.clone(), "default");
    let created = api
        .create(
            &PostParams::default(),
            &typed(deployment("web", "nginx:1", 1)),
        )
        .await
        .unwrap();
    assert_eq!(created.metadata.generation, Some(1));
    assert!(created.metadata.uid.is_some() && created.metadata.creation_timestamp.is_some());
    let pp = PatchParams::default();

    let labelled = api
        .patch(
            "web",
            &pp,
            &Patch::Merge(json!({"metadata": {"labels": {"x": "y"}}})),
        )
        .await
        .unwrap();
    assert_eq!(
        labelled.metadata.generation,
        Some(1),
        "metadata changes keep the generation"
    );
    assert!(rv(&labelled.metadata) > rv(&created.metadata));

    let scaled = api
        .patch("web", &pp, &Patch::Merge(json!({"spec": {"replicas": 3}})))
        .await
        .unwrap();
    assert_eq!(scaled.metadata.generation, Some(2));

    let same = api
        .patch("web", &pp, &Patch::Merge(json!({"spec": {"replicas": 3}})))
        .await
        .unwrap();
    assert!(rv(&same.metadata) >= rv(&scaled.metadata));
    // A write that changes nothing keeps the resourceVersion (a ConfigMap:
    // no controller writes to it meanwhile).
    let cms: Api<ConfigMap> = Api::namespaced(sim.client.clone(), "default");
    let c = cms
        .create(&PostParams::default(), &cm("c", json!({})))
        .await
        .unwrap();
    let unchanged = cms
        .patch("c", &pp, &Patch::Merge(json!({"data": {"k": "v"}})))
        .await
        .unwrap();
    assert_eq!(
        unchanged.metadata.resource_version,
        c.metadata.resource_version
    );
    let changed = cms
        .patch("c", &pp, &Patch::Merge(json!({"data": {"k": "w"}})))
        .await
        .unwrap();
    assert!(rv(&changed.metadata) > rv(&c.metadata));
    assert_eq!(same.metadata.generation, Some(2));
}

#[tokio::test]
async fn stale_replace_is_a_conflict() {
    let sim = start("a").await;
    let api: Api<ConfigMap> = Api::namespaced(sim.client.clone(), "default");
    let first = api
        .create(&PostParams::default(), &cm("c", json!({})))
        .await
        .unwrap();
    let mut changed = first.clone();
    changed.data = Some([("k".to_string(), "new".to_string())].into());
    let replaced = api
        .replace("c", &PostParams::default(), &changed)
        .await
        .unwrap();
    assert_ne!(
        replaced.metadata.resource_version,
        first.metadata.resource_version
    );

    let status = status(api.replace("c", &PostParams::default(), &changed).await);
    assert_eq!((status.code, status.reason.as_str()), (409, "Conflict"));
    assert!(
        status.message.contains("the object has been modified"),
        "{}",
        status.message
    );
}

#[tokio::test]
async fn errors_are_status_objects() {
    let sim = start("a").await;
    let api: Api<ConfigMap> = Api::namespaced(sim.client.clone(), "default");
    let missing = status(api.get("nope").await);
    assert_eq!((missing.code, missing.reason.as_str()), (404, "NotFound"));
    assert_eq!(missing.message, "configmaps \"nope\" not found");
    assert_eq!(
        missing.details.as_ref().map(|d| d.name.as_str()),
        Some("nope")
    );
    assert!(missing.is_failure());

    api.create(&PostParams::default(), &cm("c", json!({})))
        .await
        .unwrap();
    let exists = status(
        api.create(&PostParams::default(), &cm("c", json!({})))
            .await,
    );
    assert_eq!(
        (exists.code, exists.reason.as_str()),
        (409, "AlreadyExists")
    );

    let invalid = status(
        api.create(&PostParams::default(), &cm("Bad_Name", json!({})))
            .await,
    );
    assert_eq!((invalid.code, invalid.reason.as_str()), (422, "Invalid"));
    assert!(
        invalid.message.contains("metadata.name"),
        "{}",
        invalid.message
    );
    let causes = invalid.details.map(|d| d.causes).unwrap_or_default();
    assert_eq!(causes[0].field, "metadata.name");

    let no_selector = deployment("web", "nginx:1", 1);
    let mut bad = no_selector.clone();
    bad["spec"]["template"]["metadata"]["labels"] = json!({"app": "other"});
    let deployments: Api<Deployment> = Api::namespaced(sim.client.clone(), "default");
    let mismatch = status(
        deployments
            .create(&PostParams::default(), &typed(bad))
            .await,
    );
    assert_eq!(mismatch.code, 422);
    assert!(
        mismatch
            .message
            .contains("`selector` does not match template `labels`"),
        "{}",
        mismatch.message
    );

    let wrong_kind = status(
        request(
            &sim.client,
            "POST",
            "/api/v1/namespaces/default/configmaps",
            "application/json",
            r#"{"apiVersion":"v1","kind":"Secret","metadata":{"name":"x"}}"#,
        )
        .await,
    );
    assert_eq!(
        (wrong_kind.code, wrong_kind.reason.as_str()),
        (400, "BadRequest")
    );
    let bad_json = status(
        request(
            &sim.client,
            "POST",
            "/api/v1/namespaces/default/configmaps",
            "application/json",
            "{nope",
        )
        .await,
    );
    assert_eq!(bad_json.code, 400);
    let huge = format!(
        r#"{{"apiVersion":"v1","kind":"ConfigMap","metadata":{{"name":"big"}},"data":{{"k":"{}"}}}}"#,
        "x".repeat(4 << 20)
    );
    let too_big = status(
        request(
            &sim.client,
            "POST",
            "/api/v1/namespaces/default/configmaps",
            "application/json",
            &huge,
        )
        .await,
    );
    assert_eq!(too_big.code, 413);
    let unknown = status(
        request(
            &sim.client,
            "GET",
            "/apis/nope.io/v1/things",
            "application/json",
            "",
        )
        .await,
    );
    assert_eq!(unknown.code, 404);
    let media = status(
        request(
            &sim.client,
            "PATCH",
            "/api/v1/namespaces/default/configmaps/c",
            "text/plain",
            "{}",
        )
        .await,
    );
    assert_eq!(
        (media.code, media.reason.as_str()),
        (415, "UnsupportedMediaType")
    );
    let method = status(
        request(
            &sim.client,
            "PUT",
            "/api/v1/namespaces/default/configmaps",
            "application/json",
            "{}",
        )
        .await,
    );
    assert_eq!(
        (method.code, method.reason.as_str()),
        (405, "MethodNotAllowed")
    );
}

#[tokio::test]
async fn namespaces_hold_their_objects() {
    let sim = start("a").await;
    let in_missing: Api<ConfigMap> = Api::namespaced(sim.client.clone(), "team");
    let missing = status(
        in_missing
            .create(&PostParams::default(), &cm("c", json!({})))
            .await,
    );
    assert_eq!(missing.code, 404);
    assert_eq!(missing.message, "namespaces \"team\" not found");

    let namespaces: Api<Namespace> = Api::all(sim.client.clone());
    let ns = namespaces
        .create(
            &PostParams::default(),
            &typed(json!({"metadata": {"name": "team"}})),
        )
        .await
        .unwrap();
    assert_eq!(ns.status.and_then(|s| s.phase).as_deref(), Some("Active"));
    in_missing
        .create(&PostParams::default(), &cm("c", json!({})))
        .await
        .unwrap();
    let forbidden = status(namespaces.delete("default", &DeleteParams::default()).await);
    assert_eq!(
        (forbidden.code, forbidden.reason.as_str()),
        (403, "Forbidden")
    );
    namespaces
        .delete("team", &DeleteParams::default())
        .await
        .unwrap();
    assert_eq!(status(in_missing.get("c").await).code, 404);
    let all: Api<ConfigMap> = Api::all(sim.client.clone());
    assert!(
        all.list(&ListParams::default())
            .await
            .unwrap()
            .items
            .iter()
            .all(|c| c.metadata.namespace.as_deref() != Some("team"))
    );
}

#[tokio::test]
async fn label_and_field_selectors() {
    let sim = start("a").await;
    let api: Api<ConfigMap> = Api::namespaced(sim.client.clone(), "default");
    for (name, labels) in [
        ("a", json!({"app": "web", "tier": "front"})),
        ("b", json!({"app": "web"})),
        ("c", json!({"app": "db"})),
    ] {
        api.create(&PostParams::default(), &cm(name, labels))
            .await
            .unwrap();
    }
    let check = |selector: &'static str, expect: &'static [&'static str]| {
        let api = api.clone();
        async move {
            let list = api
                .list(&ListParams::default().labels(selector))
                .await
                .unwrap();
            let names: Vec<String> = list
                .items
                .iter()
                .filter_map(|c| c.metadata.name.clone())
                .collect();
            assert_eq!(names, expect, "selector {selector}");
        }
    };
    check("app=web", &["a", "b"]).await;
    check("app!=web", &["c"]).await;
    check("app in (db, other)", &["c"]).await;
    check("app notin (db)", &["a", "b"]).await;
    check("tier", &["a"]).await;
    check("!tier", &["b", "c"]).await;
    check("app=web,!tier", &["b"]).await;

    let by_name = api
        .list(&ListParams::default().fields("metadata.name=b"))
        .await
        .unwrap();
    assert_eq!(by_name.items.len(), 1);
    assert!(
        by_name
            .metadata
            .resource_version
            .is_some_and(|rv| !rv.is_empty())
    );
    let bad = status(api.list(&ListParams::default().labels("app in web")).await);
    assert_eq!((bad.code, bad.reason.as_str()), (400, "BadRequest"));
    let unsupported = status(api.list(&ListParams::default().fields("data.k=v")).await);
    assert_eq!(unsupported.code, 400);
}

#[tokio::test]
async fn status_is_written_only_through_its_subresource() {
    let sim = start("a").await;
    // Paused reconciliation is not available; a Deployment of zero replicas
    // keeps the controller's status stable enough to compare.
    let api: Api<Deployment> = Api::namespaced(sim.client.clone(), "default");
    let mut with_status = deployment("web", "nginx:1", 0);
    with_status["status"] = json!({"replicas": 42});
    let created = api
        .create(&PostParams::default(), &typed(with_status))
        .await
        .unwrap();
    assert_ne!(
        created.status.and_then(|s| s.replicas),
        Some(42),
        "status in a create is ignored"
    );

    let pp = PatchParams::default();
    let main = api
        .patch(
            "web",
            &pp,
            &Patch::Merge(json!({"status": {"replicas": 42}})),
        )
        .await
        .unwrap();
    assert_ne!(
        main.status.and_then(|s| s.replicas),
        Some(42),
        "status through the main resource is ignored"
    );

    let patched = api
        .patch_status(
            "web",
            &pp,
            &Patch::Merge(json!({"spec": {"replicas": 9}, "status": {"collisionCount": 7}})),
        )
        .await
        .unwrap();
    assert_eq!(patched.status.and_then(|s| s.collision_count), Some(7));
    assert_eq!(
        patched.spec.and_then(|s| s.replicas),
        Some(0),
        "spec through /status is ignored"
    );
    assert_eq!(patched.metadata.generation, Some(1));
}

#[tokio::test]
async fn merge_strategic_and_json_patches() {
    let sim = start("a").await;
    let api: Api<Deployment> = Api::namespaced(sim.client.clone(), "default");
    api.create(
        &PostParams::default(),
        &typed(deployment("web", "nginx:1", 1)),
    )
    .await
    .unwrap();
    let strategic = Patch::Strategic(json!({"spec": {"template": {"spec": {"containers": [
        {"name": "sidecar", "image": "envoy:1"}
    ]}}}}));
    let d = api
        .patch("web", &PatchParams::default(), &strategic)
        .await
        .unwrap();
    let containers = raw(&d)["spec"]["template"]["spec"]["containers"].clone();
    assert_eq!(
        containers.as_array().map(Vec::len),
        Some(2),
        "strategic merge adds by name: {containers}"
    );

    let merge = Patch::Merge(
        json!({"spec": {"template": {"spec": {"containers": [{"name": "only", "image": "x:1"}]}}}}),
    );
    let d = api
        .patch("web", &PatchParams::default(), &merge)
        .await
        .unwrap();
    assert_eq!(
        raw(&d)["spec"]["template"]["spec"]["containers"]
            .as_array()
            .map(Vec::len),
        Some(1),
        "merge patch replaces lists"
    );

    let body = r#"[{"op":"replace","path":"/spec/replicas","value":4},{"op":"add","path":"/metadata/labels/extra","value":"1"}]"#;
    let text = request(
        &sim.client,
        "PATCH",
        "/apis/apps/v1/namespaces/default/deployments/web",
        "application/json-patch+json",
        body,
    )
    .await
    .unwrap();
    let d: serde_json::Value = serde_json::from_str(&text).unwrap();
    assert_eq!(d["spec"]["replicas"], 4);
    assert_eq!(d["metadata"]["labels"]["extra"], "1");
    let failing = r#"[{"op":"test","path":"/spec/replicas","value":5}]"#;
    let err = status(
        request(
            &sim.client,
            "PATCH",
            "/apis/apps/v1/namespaces/default/deployments/web",
            "application/json-patch+json",
            failing,
        )
        .await,
    );
    assert_eq!(err.code, 422);
}

#[tokio::test]
async fn dry_run_changes_nothing() {
    let sim = start("a").await;
    let api: Api<ConfigMap> = Api::namespaced(sim.client.clone(), "default");
    let before = sim_rv(&api).await;
    let answered = api
        .create(
            &PostParams {
                dry_run: true,
                ..Default::default()
            },
            &cm("c", json!({})),
        )
        .await
        .unwrap();
    assert_eq!(answered.metadata.name.as_deref(), Some("c"));
    assert_eq!(status(api.get("c").await).code, 404);

    api.create(&PostParams::default(), &cm("c", json!({})))
        .await
        .unwrap();
    let after_create = sim_rv(&api).await;
    assert!(after_create > before);
    let patched = api
        .patch(
            "c",
            &PatchParams::default().dry_run(),
            &Patch::Merge(json!({"data": {"k": "changed"}})),
        )
        .await
        .unwrap();
    assert_eq!(patched.data.unwrap()["k"], "changed");
    let applied = api
        .patch(
            "c",
            &PatchParams::apply("paas").dry_run().force(),
            &Patch::Apply(
                json!({"apiVersion": "v1", "kind": "ConfigMap", "data": {"k": "applied"}}),
            ),
        )
        .await
        .unwrap();
    assert_eq!(applied.data.unwrap()["k"], "applied");
    api.delete(
        "c",
        &DeleteParams {
            dry_run: true,
            ..Default::default()
        },
    )
    .await
    .unwrap();
    assert_eq!(api.get("c").await.unwrap().data.unwrap()["k"], "v");
    assert_eq!(sim_rv(&api).await, after_create);
    let invalid = status(
        api.create(
            &PostParams {
                dry_run: true,
                ..Default::default()
            },
            &cm("Bad", json!({})),
        )
        .await,
    );
    assert_eq!(invalid.code, 422, "a dry run still validates");
}

async fn sim_rv(api: &Api<ConfigMap>) -> u64 {
    api.list(&ListParams::default())
        .await
        .unwrap()
        .metadata
        .resource_version
        .unwrap()
        .parse()
        .unwrap()
}

#[tokio::test]
async fn discovery_lists_the_kinds() {
    let sim = start("a").await;
    let version = sim.client.apiserver_version().await.unwrap();
    assert_eq!(
        (version.major.as_str(), version.minor.as_str()),
        ("1", "33")
    );
    let core = sim.client.list_core_api_versions().await.unwrap();
    assert_eq!(core.versions, ["v1"]);
    let core_resources = sim.client.list_core_api_resources("v1").await.unwrap();
    let names: Vec<&str> = core_resources
        .resources
        .iter()
        .map(|r| r.name.as_str())
        .collect();
    for expected in [
        "namespaces",
        "configmaps",
        "secrets",
        "services",
        "serviceaccounts",
        "pods",
        "pods/status",
        "events",
    ] {
        assert!(
            names.contains(&expected),
            "{expected} missing from {names:?}"
        );
    }
    let groups = sim.client.list_api_groups().await.unwrap();
    let group_names: Vec<&str> = groups.groups.iter().map(|g| g.name.as_str()).collect();
    assert_eq!(
        group_names,
        [
            "apps",
            "batch",
            "policy",
            "autoscaling",
            "networking.k8s.io",
            "gateway.networking.k8s.io",
            "coordination.k8s.io",
            "apiextensions.k8s.io"
        ]
    );
    let apps = sim
        .client
        .list_api_group_resources("apps/v1")
        .await
        .unwrap();
    let deployments = apps
        .resources
        .iter()
        .find(|r| r.name == "deployments")
        .unwrap();
    assert!(deployments.namespaced && deployments.kind == "Deployment");
    assert!(deployments.verbs.iter().any(|v| v == "watch"));
    assert!(
        apps.resources
            .iter()
            .any(|r| r.name == "deployments/status")
    );
}

#[tokio::test]
async fn malformed_input_is_refused_without_harm() {
    let sim = start("a").await;
    let cms = "/api/v1/namespaces/default/configmaps";
    let deploys = "/apis/apps/v1/namespaces/default/deployments";
    let json = "application/json";
    let cases: &[(&str, &str, &str, &str, u16)] = &[
        (
            "POST",
            cms,
            json,
            r#"{"apiVersion":"v1","kind":"ConfigMap","metadata":"x"}"#,
            422,
        ),
        (
            "POST",
            cms,
            json,
            r#"{"apiVersion":"v1","kind":"ConfigMap","metadata":{"generateName":"g-","labels":"x"}}"#,
            422,
        ),
        (
            "POST",
            cms,
            json,
            r#"{"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"c","labels":{"a":1}}}"#,
            422,
        ),
        ("POST", cms, json, r#"[1,2,3]"#, 400),
        (
            "POST",
            cms,
            json,
            &format!("{}1{}", "[".repeat(10_000), "]".repeat(10_000)),
            400,
        ),
        (
            "POST",
            deploys,
            json,
            r#"{"apiVersion":"apps/v1","kind":"Deployment","metadata":{"name":"d"},"spec":{"replicas":-1,"selector":{"matchLabels":{}},"template":{"metadata":"x","spec":{"containers":[{"name":"a","image":"i"}]}}}}"#,
            422,
        ),
        (
            "POST",
            deploys,
            json,
            r#"{"apiVersion":"apps/v1","kind":"Deployment","metadata":{"name":"d"},"spec":{"replicas":1e30}}"#,
            422,
        ),
        (
            "PATCH",
            &format!("{cms}/none"),
            "application/merge-patch+json",
            "{}",
            404,
        ),
        (
            "PATCH",
            &format!("{cms}/none"),
            "application/json-patch+json",
            r#"{"op":"nope"}"#,
            400,
        ),
        (
            "PATCH",
            &format!("{cms}/none?fieldManager=x"),
            "application/apply-patch+yaml",
            "a: [b\n",
            400,
        ),
        (
            "PATCH",
            &format!("{cms}/none?fieldManager=x"),
            "application/apply-patch+yaml",
            "- just\n- a list\n",
            400,
        ),
        (
            "GET",
            &format!("{cms}?labelSelector=%28%28%28"),
            json,
            "",
            400,
        ),
        (
            "GET",
            &format!("{cms}?watch=true&resourceVersion=abc"),
            json,
            "",
            400,
        ),
        (
            "GET",
            &format!("{cms}?watch=true&timeoutSeconds=-1"),
            json,
            "",
            400,
        ),
        ("POST", &format!("{cms}?dryRun=Some"), json, "{}", 422),
        (
            "DELETE",
            &format!("{cms}/none?propagationPolicy=Sideways"),
            json,
            "",
            400,
        ),
        (
            "GET",
            "/api/v1/namespaces/default/configmaps/a/b/c/d",
            json,
            "",
            404,
        ),
    ];
    for (method, uri, content_type, body, code) in cases {
        let result = request(&sim.client, method, uri, content_type, body).await;
        assert_eq!(status(result).code, *code, "{method} {uri} {body:.80}");
    }
    // A stored object whose template labels are not a map still leaves the
    // controllers working (the Deployment above was refused; create one the
    // controllers must cope with through a merge patch of the labels).
    let api: Api<Deployment> = Api::namespaced(sim.client.clone(), "default");
    api.create(
        &PostParams::default(),
        &typed(deployment("web", "nginx:1", 1)),
    )
    .await
    .unwrap();
    let odd = status(
        api.patch(
            "web",
            &PatchParams::default(),
            &Patch::Merge(json!({"spec": {"template": {"metadata": {"labels": "x"}}}})),
        )
        .await,
    );
    assert_eq!(odd.code, 422);
    eventually(
        std::time::Duration::from_secs(10),
        "the cluster still reconciles",
        || async {
            let d = api.get("web").await.ok()?;
            (d.status?.available_replicas == Some(1)).then_some(())
        },
    )
    .await;
}

#[tokio::test]
async fn kube_discovery_plain_and_aggregated() {
    use kube::discovery::{Discovery, Scope};
    let sim = start("a").await;
    let gvk = kube::api::GroupVersionKind::gvk("apps", "v1", "Deployment");
    for aggregated in [false, true] {
        let discovery = Discovery::new(sim.client.clone());
        let discovery = if aggregated {
            discovery.run_aggregated().await
        } else {
            discovery.run().await
        }
        .unwrap();
        let (resource, caps) = discovery
            .resolve_gvk(&gvk)
            .unwrap_or_else(|| panic!("aggregated={aggregated}"));
        assert_eq!(resource.plural, "deployments");
        assert_eq!(caps.scope, Scope::Namespaced);
        assert!(
            caps.subresources
                .iter()
                .any(|(r, _)| r.plural == "deployments/status" || r.plural == "status"),
            "{:?}",
            caps.subresources
        );
        let core = kube::api::GroupVersionKind::gvk("", "v1", "ConfigMap");
        assert!(
            discovery.resolve_gvk(&core).is_some(),
            "aggregated={aggregated}"
        );
        let namespace = discovery
            .resolve_gvk(&kube::api::GroupVersionKind::gvk("", "v1", "Namespace"))
            .unwrap();
        assert_eq!(namespace.1.scope, Scope::Cluster);
        assert!(discovery.has_group("gateway.networking.k8s.io"));
    }
}

#[tokio::test]
async fn generation_only_for_kinds_that_keep_it() {
    let sim = start("a").await;
    let cms: Api<ConfigMap> = Api::namespaced(sim.client.clone(), "default");
    let c = cms
        .create(&PostParams::default(), &cm("c", json!({})))
        .await
        .unwrap();
    assert_eq!(c.metadata.generation, None, "ConfigMaps have no generation");
}

#[tokio::test]
async fn config_map_size_limit_and_secret_string_data() {
    let sim = start("a").await;
    let cms: Api<ConfigMap> = Api::namespaced(sim.client.clone(), "default");
    let mut big = cm("big", json!({}));
    big.data = Some([("blob".to_string(), "x".repeat(1024 * 1024))].into());
    let too_long = status(cms.create(&PostParams::default(), &big).await);
    assert_eq!(too_long.code, 422);
    assert!(
        too_long.message.contains("must have at most 1048576 bytes"),
        "{}",
        too_long.message
    );
    big.data = Some([("blob".to_string(), "x".repeat(900 * 1024))].into());
    cms.create(&PostParams::default(), &big).await.unwrap();

    let secrets: Api<k8s_openapi::api::core::v1::Secret> =
        Api::namespaced(sim.client.clone(), "default");
    let secret = typed(
        json!({"apiVersion": "v1", "kind": "Secret", "metadata": {"name": "s"}, "stringData": {"k": "hello"}}),
    );
    let created = secrets
        .create(&PostParams::default(), &secret)
        .await
        .unwrap();
    assert!(created.string_data.is_none(), "stringData is write-only");
    assert_eq!(created.data.unwrap()["k"].0, b"hello");
}

#[tokio::test]
async fn immutable_fields_stay_put() {
    let sim = start("a").await;
    let jobs: Api<k8s_openapi::api::batch::v1::Job> =
        Api::namespaced(sim.client.clone(), "default");
    let job = |image: &str| {
        json!({"apiVersion": "batch/v1", "kind": "Job", "metadata": {"name": "migrate"},
               "spec": {"template": {"spec": {"restartPolicy": "Never", "containers": [{"name": "m", "image": image}]}}}})
    };
    jobs.patch(
        "migrate",
        &PatchParams::apply("paas"),
        &Patch::Apply(job("m:1")),
    )
    .await
    .unwrap();
    let changed = status(
        jobs.patch(
            "migrate",
            &PatchParams::apply("paas"),
            &Patch::Apply(job("m:2")),
        )
        .await,
    );
    assert_eq!(changed.code, 422);
    assert!(
        changed
            .message
            .starts_with("Job.batch \"migrate\" is invalid: spec.template: Invalid value"),
        "{}",
        changed.message
    );
    assert!(
        changed.message.ends_with("field is immutable"),
        "{}",
        changed.message
    );

    let deployments: Api<Deployment> = Api::namespaced(sim.client.clone(), "default");
    deployments
        .create(
            &PostParams::default(),
            &typed(deployment("web", "web:1", 1)),
        )
        .await
        .unwrap();
    let selector = Patch::Merge(
        json!({"spec": {"selector": {"matchLabels": {"app": "web", "v": "2"}},
                                       "template": {"metadata": {"labels": {"app": "web", "v": "2"}}}}}),
    );
    let refused = status(
        deployments
            .patch("web", &PatchParams::default(), &selector)
            .await,
    );
    assert!(
        refused.message.contains("spec.selector") && refused.message.contains("field is immutable"),
        "{}",
        refused.message
    );

    let cms: Api<ConfigMap> = Api::namespaced(sim.client.clone(), "default");
    let mut frozen = cm("frozen", json!({}));
    frozen.immutable = Some(true);
    cms.create(&PostParams::default(), &frozen).await.unwrap();
    let edit = status(
        cms.patch(
            "frozen",
            &PatchParams::default(),
            &Patch::Merge(json!({"data": {"k": "new"}})),
        )
        .await,
    );
    assert_eq!(edit.code, 422);
    // Metadata still changes.
    cms.patch(
        "frozen",
        &PatchParams::default(),
        &Patch::Merge(json!({"metadata": {"labels": {"x": "y"}}})),
    )
    .await
    .unwrap();
}

#[tokio::test]
async fn lists_page_with_limit_and_continue() {
    let sim = start("a").await;
    let api: Api<ConfigMap> = Api::namespaced(sim.client.clone(), "default");
    for name in ["a", "b", "c", "d", "e"] {
        api.create(&PostParams::default(), &cm(name, json!({})))
            .await
            .unwrap();
    }
    let mut names = Vec::new();
    let mut params = ListParams::default().limit(2);
    let mut pages = 0;
    loop {
        let page = api.list(&params).await.unwrap();
        pages += 1;
        names.extend(page.items.iter().filter_map(|c| c.metadata.name.clone()));
        match page.metadata.continue_ {
            Some(token) if !token.is_empty() => {
                assert!(page.metadata.remaining_item_count.is_some_and(|n| n > 0));
                params = params.continue_token(&token);
            }
            _ => break,
        }
    }
    assert_eq!((names.join(","), pages), ("a,b,c,d,e".to_string(), 3));
    // Across namespaces the order is (namespace, name): "team-b" after "team".
    let namespaces: Api<Namespace> = Api::all(sim.client.clone());
    for ns in ["team", "team-b"] {
        namespaces
            .create(
                &PostParams::default(),
                &typed(json!({"metadata": {"name": ns}})),
            )
            .await
            .unwrap();
        let in_ns: Api<ConfigMap> = Api::namespaced(sim.client.clone(), ns);
        for name in ["x", "y"] {
            in_ns
                .create(&PostParams::default(), &cm(name, json!({})))
                .await
                .unwrap();
        }
    }
    let all: Api<ConfigMap> = Api::all(sim.client.clone());
    let mut seen = Vec::new();
    let mut params = ListParams::default().limit(1);
    loop {
        let page = all.list(&params).await.unwrap();
        seen.extend(page.items.iter().map(|c| {
            format!(
                "{}/{}",
                c.metadata.namespace.clone().unwrap(),
                c.metadata.name.clone().unwrap()
            )
        }));
        match page.metadata.continue_ {
            Some(token) if !token.is_empty() => params = params.continue_token(&token),
            _ => break,
        }
    }
    assert_eq!(seen.len(), 9, "{seen:?}");
    assert_eq!(&seen[5..], ["team/x", "team/y", "team-b/x", "team-b/y"]);
    let bad = status(
        api.list(&ListParams::default().limit(2).continue_token("garbage"))
            .await,
    );
    assert_eq!(bad.code, 400);
}
