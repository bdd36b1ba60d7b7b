//! Unit tests of the store: history bounds, snapshots, names and data sizes.

use super::*;

fn configmaps() -> ResourceInfo {
    resources::builtin("", "configmaps")
}

fn create(store: &Store, name: &str, data: &str) -> Result<(Value, bool), ApiError> {
    let body = json!({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": name}, "data": {"k": data}});
    let req = WriteRequest {
        scope: Scope::Main {
            status_subresource: false,
        },
        manager: "test".into(),
        dry_run: false,
        op: Op::Create(body),
    };
    store.write(&configmaps(), "default", name, req)
}

#[test]
fn history_is_bounded_by_bytes() {
    let store = Store::default();
    let (first, _) = create(&store, "first", "x").unwrap();
    let first_rv: u64 = first["metadata"]["resourceVersion"]
        .as_str()
        .unwrap()
        .parse()
        .unwrap();
    assert!(store.subscribe_from(first_rv).is_ok());
    let big = "x".repeat(900 * 1024);
    for i in 0..80 {
        create(&store, &format!("big-{i}"), &big).unwrap();
    }
    assert!(
        store.subscribe_from(first_rv).is_err(),
        "72 MB of changes push the first out"
    );
    let current = store.resource_version();
    let (replay, _, _) = store.subscribe_from(current - 1).unwrap();
    assert_eq!(replay.len(), 1);
}

#[test]
fn snapshot_round_trip_keeps_objects_and_counter() {
    let store = Store::default();
    create(&store, "a", "1").unwrap();
    let state: State =
        serde_json::from_str(&serde_json::to_string(&store.snapshot()).unwrap()).unwrap();
    let loaded = Store::from_state(state);
    assert_eq!(loaded.resource_version(), store.resource_version());
    assert_eq!(
        loaded.get(&configmaps(), "default", "a").unwrap(),
        store.get(&configmaps(), "default", "a").unwrap()
    );
    // Watching from before the restart is too old: the history is not kept.
    assert!(loaded.subscribe_from(1).is_err());
}

#[test]
fn names_are_validated() {
    for (name, ok) in [
        ("web", true),
        ("web.v1", true),
        ("Web", false),
        ("-web", false),
        ("a_b", false),
        ("", false),
    ] {
        assert_eq!(is_dns_subdomain(name), ok, "{name:?}");
    }
    assert!(!is_dns_label("a.b"));
    assert!(!is_dns_label(&"a".repeat(64)));
    assert_eq!(
        create(&Store::default(), "Bad_Name", "x")
            .unwrap_err()
            .reason,
        Reason::Invalid
    );
}

#[test]
fn data_size_counts_decoded_values() {
    let secret = json!({"kind": "Secret", "data": {"k": "aGVsbG8="}});
    assert_eq!(data_size(&secret), 1 + 5);
    let cm = json!({"kind": "ConfigMap", "data": {"k": "hello"}, "binaryData": {"b": "aGk="}});
    assert_eq!(data_size(&cm), 1 + 5 + 1 + 2);
}
