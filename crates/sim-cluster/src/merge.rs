//! The two merge-style patch formats: JSON merge patch (RFC 7386) and
//! Kubernetes strategic merge patch.

use crate::fields::list_keys;
use serde_json::{Map, Value};

#[cfg(test)]
mod tests;

/// Applies an RFC 7386 JSON merge patch: objects merge key by key, `null`
/// removes a key, anything else (arrays included) replaces.
pub fn merge_patch(target: &mut Value, patch: &Value) {
    let Value::Object(patch_map) = patch else {
        *target = patch.clone();
        return;
    };
    if !target.is_object() {
        *target = Value::Object(Map::new());
    }
    if let Value::Object(target_map) = target {
        for (key, value) in patch_map {
            if value.is_null() {
                target_map.remove(key);
            } else {
                merge_patch(target_map.entry(key.clone()).or_insert(Value::Null), value);
            }
        }
    }
}

/// Applies a strategic merge patch: like a merge patch, except that lists
/// of objects with a merge key (`name` for containers, env, volumes...;
/// `containerPort`/`port` for ports; see [`list_keys`]) merge item by item,
/// and the `$patch: delete` / `$patch: replace` directives are honoured.
/// Other lists are replaced.
pub fn strategic_merge(target: &mut Value, patch: &Value) {
    let Value::Object(patch_map) = patch else {
        *target = patch.clone();
        return;
    };
    if patch_map.get("$patch").and_then(Value::as_str) == Some("replace") {
        let mut replaced = patch.clone();
        if let Value::Object(m) = &mut replaced {
            m.remove("$patch");
        }
        *target = replaced;
        return;
    }
    if !target.is_object() {
        *target = Value::Object(Map::new());
    }
    let Value::Object(target_map) = target else {
        return;
    };
    for (key, value) in patch_map {
        if key.starts_with('$') {
            // $retainKeys, $setElementOrder/...: ordering and pruning hints we
            // do not need for correctness of the merged content.
            continue;
        }
        match value {
            Value::Null => {
                target_map.remove(key);
            }
            Value::Array(items) => {
                let existing = target_map
                    .get(key)
                    .and_then(Value::as_array)
                    .cloned()
                    .unwrap_or_default();
                let all: Vec<Value> = existing.iter().chain(items.iter()).cloned().collect();
                match merge_key(key, &all) {
                    Some(keys) => {
                        let merged = merge_list(existing, items, &keys);
                        target_map.insert(key.clone(), Value::Array(merged));
                    }
                    None => {
                        target_map.insert(key.clone(), value.clone());
                    }
                }
            }
            Value::Object(_) => {
                strategic_merge(target_map.entry(key.clone()).or_insert(Value::Null), value)
            }
            scalar => {
                target_map.insert(key.clone(), scalar.clone());
            }
        }
    }
}

/// The merge key fields of a list, ignoring `$patch` directive items' other
/// fields: known merge keys first, then `name` when every item has one.
fn merge_key(field: &str, items: &[Value]) -> Option<Vec<&'static str>> {
    if items.is_empty() {
        return None;
    }
    if let Some(keys) = list_keys(field, items) {
        return Some(keys.iter().copied().filter(|k| *k != "protocol").collect());
    }
    items
        .iter()
        .all(|i| i.get("name").is_some_and(Value::is_string))
        .then(|| vec!["name"])
}

fn same_item(a: &Value, b: &Value, keys: &[&str]) -> bool {
    keys.iter().all(|k| a.get(*k) == b.get(*k))
}

fn merge_list(mut existing: Vec<Value>, patch: &[Value], keys: &[&str]) -> Vec<Value> {
    for item in patch {
        let directive = item.get("$patch").and_then(Value::as_str);
        let pos = existing.iter().position(|e| same_item(e, item, keys));
        match (directive, pos) {
            (Some("delete"), Some(p)) => {
                existing.remove(p);
            }
            (Some("delete"), None) => {}
            (_, Some(p)) => strategic_merge(&mut existing[p], item),
            (_, None) => {
                let mut fresh = Value::Null;
                strategic_merge(&mut fresh, item);
                existing.push(fresh);
            }
        }
    }
    existing
}
