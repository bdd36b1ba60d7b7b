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

/// The crate holds no randomness: every hash map or set in its source names
/// the fixed-key hasher (`Fixed`), and none is built with the randomly
/// seeded `RandomState` (the hasher of `HashMap::new` and friends).
#[test]
fn no_randomly_seeded_hasher() {
    let source = include_str!("lib.rs");
    for constructor in [
        "RandomState",
        "HashMap::new(",
        "HashMap::with_capacity(",
        "HashSet::new(",
        "HashSet::with_capacity(",
    ] {
        assert!(!source.contains(constructor), "lib.rs uses {constructor}");
    }
    for kind in ["HashMap<", "HashSet<"] {
        for (start, _) in source.match_indices(kind) {
            let mut depth = 0;
            let arguments: String = source[start + kind.len() - 1..]
                .chars()
                .take_while(|c| {
                    match c {
                        '<' => depth += 1,
                        '>' => depth -= 1,
                        _ => {}
                    }
                    depth > 0
                })
                .collect();
            assert!(
                arguments.contains("Fixed"),
                "{kind}{}> in lib.rs has the random hasher",
                &arguments[1..]
            );
        }
    }
}
