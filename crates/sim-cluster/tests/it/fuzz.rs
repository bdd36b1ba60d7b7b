//! Random requests straight into the router (no socket): every answer is a
//! well-formed response with an expected status, and nothing panics.

use axum::body::Body;
use axum::http::Request;
use proptest::prelude::*;
use serde_json::{Value, json};
use sim_cluster::{SimCluster, Timing};
use tower::ServiceExt;

fn json_value() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::from),
        any::<i64>().prop_map(Value::from),
        "[a-zA-Z0-9_./-]{0,6}".prop_map(Value::from),
    ];
    leaf.prop_recursive(4, 32, 4, |inner| {
        prop_oneof![
            proptest::collection::vec(inner.clone(), 0..3).prop_map(Value::from),
            proptest::collection::btree_map(
                prop_oneof![
                    Just("metadata".to_string()),
                    Just("spec".to_string()),
                    Just("name".to_string()),
                    Just("labels".to_string()),
                    Just("containers".to_string()),
                    Just("replicas".to_string()),
                    Just("status".to_string()),
                    "[a-z]{1,3}"
                ],
                inner,
                0..4,
            )
            .prop_map(|m| Value::Object(m.into_iter().collect())),
        ]
    })
}

/// A Deployment-shaped body with random parts: either a valid Deployment
/// with random extra fields, or random metadata, spec and status.
fn body() -> impl Strategy<Value = Value> {
    let valid = (json_value(), json_value(), "[a-z]{1,3}", 0i64..3).prop_map(|(extra, status, image, replicas)| {
        json!({
            "apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "web", "labels": {"app": "web"}},
            "spec": {
                "replicas": replicas, "extra": extra,
                "selector": {"matchLabels": {"app": "web"}},
                "template": {"metadata": {"labels": {"app": "web"}},
                             "spec": {"containers": [{"name": "app", "image": image}]}},
            },
            "status": status,
        })
    });
    let random = (json_value(), json_value(), json_value()).prop_map(|(meta, spec, status)| {
        let mut d =
            json!({"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "web"}});
        if let (Some(map), Value::Object(extra)) = (d["metadata"].as_object_mut(), meta) {
            map.extend(extra);
        }
        d["spec"] = spec;
        d["status"] = status;
        d
    });
    prop_oneof![valid, random]
}

const REQUESTS: &[(&str, &str, &str)] = &[
    (
        "POST",
        "/apis/apps/v1/namespaces/default/deployments",
        "application/json",
    ),
    (
        "PUT",
        "/apis/apps/v1/namespaces/default/deployments/web",
        "application/json",
    ),
    (
        "PATCH",
        "/apis/apps/v1/namespaces/default/deployments/web",
        "application/merge-patch+json",
    ),
    (
        "PATCH",
        "/apis/apps/v1/namespaces/default/deployments/web",
        "application/strategic-merge-patch+json",
    ),
    (
        "PATCH",
        "/apis/apps/v1/namespaces/default/deployments/web?fieldManager=f",
        "application/apply-patch+yaml",
    ),
    (
        "PATCH",
        "/apis/apps/v1/namespaces/default/deployments/web/status?fieldManager=f&force=true",
        "application/apply-patch+yaml",
    ),
    (
        "PUT",
        "/apis/apps/v1/namespaces/default/deployments/web/status",
        "application/json",
    ),
];

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]
    #[test]
    fn random_writes_get_an_api_answer(bodies in proptest::collection::vec((0..REQUESTS.len(), body()), 1..8)) {
        let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
        runtime.block_on(async {
            let router = SimCluster::new("fuzz", Timing::fast()).router();
            for (which, body) in bodies {
                let (method, uri, content_type) = REQUESTS[which];
                let request = Request::builder()
                    .method(method)
                    .uri(uri)
                    .header("content-type", content_type)
                    .body(Body::from(serde_json::to_vec(&body).unwrap()))
                    .unwrap();
                let response = router.clone().oneshot(request).await.unwrap();
                let code = response.status().as_u16();
                let bytes = axum::body::to_bytes(response.into_body(), usize::MAX).await.unwrap();
                let answer: Value = serde_json::from_slice(&bytes).unwrap();
                prop_assert!([200, 201, 400, 404, 409, 422].contains(&code), "{method} {uri}: {code} {answer}");
                if code >= 400 {
                    prop_assert_eq!(&answer["kind"], "Status");
                    prop_assert_eq!(answer["code"].as_u64(), Some(u64::from(code)));
                } else {
                    prop_assert_eq!(&answer["kind"], "Deployment");
                    prop_assert!(answer["metadata"]["resourceVersion"].is_string());
                }
            }
            Ok(())
        })?;
    }
}
