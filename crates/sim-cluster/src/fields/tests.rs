//! Unit tests of field sets: the fieldsV1 encoding, apply conflicts and removal, Update ownership.

use super::*;
use serde_json::json;

const NOW: &str = "2026-01-01T00:00:00Z";

fn writer(manager: &str) -> Writer<'_> {
    Writer {
        manager,
        api_version: "apps/v1",
        scope: Scope::Main {
            status_subresource: true,
        },
        now: NOW,
    }
}

fn deployment(image: &str, replicas: Option<i64>) -> Value {
    let mut d = json!({
        "apiVersion": "apps/v1", "kind": "Deployment",
        "metadata": {"name": "web", "namespace": "ns", "labels": {"app": "web"}},
        "spec": {"template": {"spec": {"containers": [
            {"name": "app", "image": image, "ports": [{"containerPort": 8080}]}
        ]}}}
    });
    if let Some(r) = replicas {
        d["spec"]["replicas"] = json!(r);
    }
    d
}

/// Checks the fieldsV1 encoding of an object's field set against a literal.
fn check(obj: Value, expect: Value) {
    let set = to_field_set(&scoped(
        &obj,
        Scope::Main {
            status_subresource: true,
        },
    ));
    let encoded = encode_fields(&set);
    assert_eq!(
        encoded,
        expect,
        "{}",
        serde_json::to_string_pretty(&encoded).unwrap_or_default()
    );
    assert_eq!(
        decode_fields(&encoded),
        set,
        "decode(encode(set)) must give the set back"
    );
}

#[test]
fn fields_v1_uses_documented_format() {
    check(
        deployment("nginx:1", Some(2)),
        json!({
            "f:metadata": {"f:labels": {"f:app": {}}},
            "f:spec": {
                "f:replicas": {},
                "f:template": {"f:spec": {"f:containers": {"k:{\"name\":\"app\"}": {
                    ".": {}, "f:image": {}, "f:name": {},
                    "f:ports": {"k:{\"containerPort\":8080,\"protocol\":\"TCP\"}": {".": {}, "f:containerPort": {}}}
                }}}}
            }
        }),
    );
}

#[test]
fn service_ports_key_by_port_and_other_lists_are_atomic() {
    check(
        json!({"metadata": {"name": "s"}, "spec": {"ports": [{"port": 80, "protocol": "UDP"}], "args": ["a"]}}),
        json!({"f:spec": {"f:args": {}, "f:ports": {"k:{\"port\":80,\"protocol\":\"UDP\"}": {".": {}, "f:port": {}, "f:protocol": {}}}}}),
    );
}

#[test]
fn apply_conflicts_with_other_manager_on_different_value() {
    let first = apply(
        &json!({"metadata": {"name": "web"}}),
        &deployment("nginx:1", Some(2)),
        writer("paas"),
        false,
    )
    .unwrap();
    // Same value from another manager: shared ownership, no conflict.
    let shared = apply(
        &first,
        &deployment("nginx:1", Some(2)),
        writer("other"),
        false,
    )
    .unwrap();
    assert_eq!(parse_managed(&shared).len(), 2);
    // A different value: a conflict naming field and manager.
    let err = apply(
        &first,
        &deployment("nginx:1", Some(3)),
        writer("other"),
        false,
    )
    .unwrap_err();
    assert_eq!(
        err,
        vec![Conflict {
            field: ".spec.replicas".into(),
            manager: "paas".into(),
            api_version: "apps/v1".into()
        }]
    );
    assert_eq!(
        conflict_message(&err),
        "Apply failed with 1 conflict: conflict with \"paas\" using apps/v1: .spec.replicas"
    );
    // Forced: the field changes owner.
    let forced = apply(
        &first,
        &deployment("nginx:1", Some(3)),
        writer("other"),
        true,
    )
    .unwrap();
    assert_eq!(forced["spec"]["replicas"], json!(3));
    let entries = parse_managed(&forced);
    let paas = entries.iter().find(|e| e.manager == "paas").unwrap();
    let replicas = vec![
        Element::Field("spec".into()),
        Element::Field("replicas".into()),
    ];
    assert!(!paas.fields.contains(&replicas));
    assert!(
        entries
            .iter()
            .find(|e| e.manager == "other")
            .unwrap()
            .fields
            .contains(&replicas)
    );
}

#[test]
fn apply_removes_fields_the_manager_stopped_applying() {
    let first = apply(
        &json!({"metadata": {"name": "web"}}),
        &deployment("nginx:1", Some(2)),
        writer("paas"),
        false,
    )
    .unwrap();
    let second = apply(&first, &deployment("nginx:1", None), writer("paas"), false).unwrap();
    assert_eq!(second["spec"].get("replicas"), None);
    // Unless another manager owns it too.
    let shared = apply(
        &first,
        &json!({"spec": {"replicas": 2}}),
        writer("hpa"),
        false,
    )
    .unwrap();
    let kept = apply(&shared, &deployment("nginx:1", None), writer("paas"), false).unwrap();
    assert_eq!(kept["spec"]["replicas"], json!(2));
}

#[test]
fn replacing_a_parent_conflicts_with_the_owner_of_a_child() {
    let base = json!({"metadata": {"name": "web"}});
    let first = apply(
        &base,
        &json!({"spec": {"paused": false, "x": {"y": 1}}}),
        writer("paas"),
        false,
    )
    .unwrap();
    let err = apply(&first, &json!({"spec": {"x": 5}}), writer("other"), false).unwrap_err();
    assert_eq!(
        err.iter().map(|c| c.field.as_str()).collect::<Vec<_>>(),
        [".spec.x.y"]
    );
    let forced = apply(&first, &json!({"spec": {"x": 5}}), writer("other"), true).unwrap();
    assert_eq!(forced["spec"], json!({"paused": false, "x": 5}));
    let paas = parse_managed(&forced)
        .into_iter()
        .find(|e| e.manager == "paas")
        .unwrap();
    assert_eq!(
        encode_fields(&paas.fields),
        json!({"f:spec": {"f:paused": {}}})
    );
}

#[test]
fn update_takes_ownership_without_conflict() {
    let first = apply(
        &json!({"metadata": {"name": "web"}}),
        &deployment("nginx:1", Some(2)),
        writer("paas"),
        false,
    )
    .unwrap();
    let mut changed = first.clone();
    changed["spec"]["replicas"] = json!(5);
    let updated = record_update(Some(&first), &changed, writer("kubectl"));
    let entries = parse_managed(&updated);
    let kubectl = entries.iter().find(|e| e.manager == "kubectl").unwrap();
    assert_eq!(kubectl.operation, "Update");
    assert_eq!(
        encode_fields(&kubectl.fields),
        json!({"f:spec": {"f:replicas": {}}})
    );
    // The applier now conflicts with the updater.
    let err = apply(
        &updated,
        &deployment("nginx:1", Some(2)),
        writer("paas"),
        false,
    )
    .unwrap_err();
    assert_eq!(err[0].manager, "kubectl");
}

#[test]
fn remove_and_lookup_keyed_items() {
    let mut d = deployment("nginx:1", Some(1));
    let path = vec![
        Element::Field("spec".into()),
        Element::Field("template".into()),
        Element::Field("spec".into()),
        Element::Field("containers".into()),
        Element::Key("{\"name\":\"app\"}".into()),
    ];
    assert_eq!(
        value_at(&d, &path).and_then(|c| c["image"].as_str()),
        Some("nginx:1")
    );
    assert_eq!(
        display_path(&path),
        ".spec.template.spec.containers[name=\"app\"]"
    );
    assert!(remove_at(&mut d, &path));
    assert_eq!(d["spec"]["template"]["spec"]["containers"], json!([]));
    assert!(!remove_at(&mut d, &path));
}

mod props {
    use super::*;
    use proptest::prelude::*;

    /// Objects built from a few field names, some of them associative lists.
    fn object() -> impl Strategy<Value = Value> {
        let leaf = prop_oneof![
            any::<bool>().prop_map(Value::from),
            (0i64..5).prop_map(Value::from),
            "[a-c]{0,2}".prop_map(Value::from),
            Just(json!({})),
            Just(json!(["x", "y"])),
        ];
        leaf.prop_recursive(4, 40, 4, |inner| {
            let named =
                ("[a-c]", inner.clone()).prop_map(|(name, v)| json!({"name": name, "value": v}));
            prop_oneof![
                proptest::collection::btree_map("[a-e]", inner.clone(), 1..4)
                    .prop_map(|m| Value::Object(m.into_iter().collect())),
                proptest::collection::vec(named, 1..3).prop_map(|items| {
                    // Unique names, as an associative list requires.
                    let mut seen = std::collections::BTreeSet::new();
                    let items: Vec<Value> = items
                        .into_iter()
                        .filter(|i| seen.insert(i["name"].as_str().unwrap_or_default().to_string()))
                        .collect();
                    json!({"containers": items})
                }),
            ]
        })
    }

    proptest! {
        #[test]
        fn fields_v1_round_trips_and_every_path_resolves(spec in object()) {
            let obj = json!({"metadata": {"name": "x"}, "spec": spec});
            let set = to_field_set(&scoped(&obj, Scope::Main { status_subresource: false }));
            prop_assert_eq!(decode_fields(&encode_fields(&set)), set.clone());
            for path in &set {
                prop_assert!(value_at(&obj, path).is_some(), "{}", display_path(path));
            }
        }

        #[test]
        fn apply_is_idempotent_and_never_conflicts_with_itself(first in object(), second in object()) {
            let base = json!({"metadata": {"name": "x"}});
            let writer = Writer { manager: "m", api_version: "v1", scope: Scope::Main { status_subresource: false }, now: NOW };
            let config = |spec: &Value| json!({"apiVersion": "v1", "kind": "Thing", "spec": spec});
            let once = apply(&base, &config(&first), writer, false).unwrap();
            let twice = apply(&once, &config(&first), writer, false).unwrap();
            prop_assert_eq!(&once, &twice);
            // A different configuration from the same manager replaces the
            // first: nothing of the first survives that the second lacks.
            let next = apply(&once, &config(&second), writer, false).unwrap();
            let fresh = apply(&base, &config(&second), writer, false).unwrap();
            prop_assert_eq!(&next["spec"], &fresh["spec"]);
        }

        #[test]
        fn an_update_owns_exactly_what_it_changed(a in object(), b in object()) {
            let base = json!({"metadata": {"name": "x"}});
            let config = |spec: &Value| json!({"apiVersion": "v1", "kind": "Thing", "spec": spec});
            let scope = Scope::Main { status_subresource: false };
            let applied = apply(&base, &config(&a), Writer { manager: "a", api_version: "v1", scope, now: NOW }, false).unwrap();
            let mut edited = applied.clone();
            edited["spec"] = b.clone();
            let updated = record_update(Some(&applied), &edited, Writer { manager: "u", api_version: "v1", scope, now: NOW });
            let entries = parse_managed(&updated);
            let old_view = scoped(&applied, scope);
            let new_view = scoped(&updated, scope);
            for path in to_field_set(&new_view) {
                let changed = value_at(&old_view, &path) != value_at(&new_view, &path);
                let owners: Vec<&str> = entries.iter().filter(|e| e.fields.contains(&path)).map(|e| e.manager.as_str()).collect();
                if changed && !matches!(path.last(), Some(Element::Key(_))) {
                    prop_assert_eq!(owners, vec!["u"], "{}", display_path(&path));
                }
            }
            for entry in &entries {
                for path in &entry.fields {
                    prop_assert!(value_at(&updated, path).is_some(), "{} owns missing {}", entry.manager, display_path(path));
                }
            }
        }

        #[test]
        fn what_a_manager_still_owns_keeps_its_value(a1 in object(), b in object(), a2 in object()) {
            let base = json!({"metadata": {"name": "x"}});
            let writer = |manager| Writer { manager, api_version: "v1", scope: Scope::Main { status_subresource: false }, now: NOW };
            let config = |spec: &Value| json!({"apiVersion": "v1", "kind": "Thing", "spec": spec});
            let o1 = apply(&base, &config(&a1), writer("a"), true).unwrap();
            let o2 = apply(&o1, &config(&b), writer("b"), true).unwrap();
            let o3 = apply(&o2, &config(&a2), writer("a"), true).unwrap();
            let b_config = scoped(&config(&b), Scope::Main { status_subresource: false });
            for entry in parse_managed(&o3) {
                for path in &entry.fields {
                    prop_assert!(value_at(&o3, path).is_some(), "{} owns missing {}", entry.manager, display_path(path));
                    if entry.manager == "b" && !matches!(path.last(), Some(Element::Key(_))) {
                        prop_assert_eq!(value_at(&o3, path), value_at(&b_config, path), "{}", display_path(path));
                    }
                }
            }
        }
    }
}
