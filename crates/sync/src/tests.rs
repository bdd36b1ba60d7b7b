//! Unit tests of the differ helpers.

use serde_json::json;

use super::*;

fn check_same(a: &Value, b: &Value, expect: bool) {
    assert_eq!(same_value(a, b), expect, "{a} vs {b}");
    assert_eq!(a == b, expect, "same_value must agree with ==: {a} vs {b}");
}

/// The ordered comparison agrees with `==` (objects equal in any key order).
#[test]
fn same_value_agrees_with_equality() {
    check_same(
        &json!({"a": 1, "b": [1, {"c": 2}]}),
        &json!({"a": 1, "b": [1, {"c": 2}]}),
        true,
    );
    check_same(&json!({"a": 1, "b": 2}), &json!({"b": 2, "a": 1}), true);
    check_same(&json!({"a": 1, "b": 2}), &json!({"a": 1, "b": 3}), false);
    check_same(&json!({"a": 1}), &json!({"a": 1, "b": 2}), false);
    check_same(&json!([1, 2]), &json!([2, 1]), false);
    check_same(
        &json!({"a": {"x": 1, "y": 2}}),
        &json!({"a": {"y": 2, "x": 1}}),
        true,
    );
    check_same(&json!(null), &json!(false), false);
}
