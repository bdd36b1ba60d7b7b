//! Unit tests of JSON merge patch (the RFC 7386 examples) and strategic merge patch.

use super::*;
use serde_json::json;

fn check(merge: fn(&mut Value, &Value), target: Value, patch: Value, expect: Value) {
    let mut got = target;
    merge(&mut got, &patch);
    assert_eq!(got, expect);
}

#[test]
fn rfc7386_examples() {
    // The examples of RFC 7386, appendix A.
    check(
        merge_patch,
        json!({"a": "b"}),
        json!({"a": "c"}),
        json!({"a": "c"}),
    );
    check(
        merge_patch,
        json!({"a": "b"}),
        json!({"b": "c"}),
        json!({"a": "b", "b": "c"}),
    );
    check(
        merge_patch,
        json!({"a": "b"}),
        json!({"a": null}),
        json!({}),
    );
    check(
        merge_patch,
        json!({"a": "b", "b": "c"}),
        json!({"a": null}),
        json!({"b": "c"}),
    );
    check(
        merge_patch,
        json!({"a": ["b"]}),
        json!({"a": "c"}),
        json!({"a": "c"}),
    );
    check(
        merge_patch,
        json!({"a": "c"}),
        json!({"a": ["b"]}),
        json!({"a": ["b"]}),
    );
    check(
        merge_patch,
        json!({"a": {"b": "c"}}),
        json!({"a": {"b": "d", "c": null}}),
        json!({"a": {"b": "d"}}),
    );
    check(
        merge_patch,
        json!({"a": [{"b": "c"}]}),
        json!({"a": [1]}),
        json!({"a": [1]}),
    );
    check(
        merge_patch,
        json!(["a", "b"]),
        json!(["c", "d"]),
        json!(["c", "d"]),
    );
    check(merge_patch, json!({"a": "b"}), json!(["c"]), json!(["c"]));
    check(
        merge_patch,
        json!({"e": null}),
        json!({"a": 1}),
        json!({"e": null, "a": 1}),
    );
    check(
        merge_patch,
        json!([1, 2]),
        json!({"a": "b", "c": null}),
        json!({"a": "b"}),
    );
    check(
        merge_patch,
        json!({}),
        json!({"a": {"bb": {"ccc": null}}}),
        json!({"a": {"bb": {}}}),
    );
}

#[test]
fn strategic_merges_containers_by_name() {
    check(
        strategic_merge,
        json!({"spec": {"containers": [{"name": "a", "image": "x:1"}, {"name": "b", "image": "y:1"}]}}),
        json!({"spec": {"containers": [{"name": "b", "image": "y:2"}, {"name": "c", "image": "z:1"}]}}),
        json!({"spec": {"containers": [
            {"name": "a", "image": "x:1"}, {"name": "b", "image": "y:2"}, {"name": "c", "image": "z:1"}
        ]}}),
    );
}

#[test]
fn strategic_delete_directive_and_atomic_lists() {
    check(
        strategic_merge,
        json!({"env": [{"name": "A", "value": "1"}, {"name": "B", "value": "2"}], "args": ["x", "y"]}),
        json!({"env": [{"name": "A", "$patch": "delete"}], "args": ["z"]}),
        json!({"env": [{"name": "B", "value": "2"}], "args": ["z"]}),
    );
}

#[test]
fn strategic_ports_by_port_number() {
    check(
        strategic_merge,
        json!({"ports": [{"port": 80, "name": "http"}, {"port": 443, "name": "https"}]}),
        json!({"ports": [{"port": 80, "targetPort": 8080}]}),
        json!({"ports": [{"port": 80, "name": "http", "targetPort": 8080}, {"port": 443, "name": "https"}]}),
    );
}

#[test]
fn strategic_null_removes_and_replace_directive() {
    check(
        strategic_merge,
        json!({"a": 1, "b": {"c": 2}}),
        json!({"a": null}),
        json!({"b": {"c": 2}}),
    );
    check(
        strategic_merge,
        json!({"b": {"c": 2, "d": 3}}),
        json!({"b": {"$patch": "replace", "e": 4}}),
        json!({"b": {"e": 4}}),
    );
}
