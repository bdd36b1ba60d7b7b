//! The JSON Schema: the committed copy is up to date, and the schema says
//! what the validator says (closed objects, described keys, the same rule
//! and strategy names).

use app_toml::{HardeningRule, SchemaDraft, Strategy};
use serde_json::Value;

const COMMITTED: &str = "../../docs/schema/app-toml.schema.json";

fn pretty(schema: &Value) -> String {
    let mut text = serde_json::to_string_pretty(schema).unwrap();
    text.push('\n');
    text
}

#[test]
fn committed_schema_is_up_to_date() {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join(COMMITTED);
    let fresh = pretty(&app_toml::json_schema());
    #[allow(
        clippy::disallowed_methods,
        reason = "a test switch, not library configuration"
    )]
    let update = std::env::var("UPDATE_SCHEMA").is_ok_and(|v| v == "1");
    if update {
        std::fs::write(&path, &fresh).unwrap();
        return;
    }
    let committed = std::fs::read_to_string(&path).unwrap_or_default();
    assert!(
        committed == fresh,
        "docs/schema/app-toml.schema.json is stale: run `UPDATE_SCHEMA=1 cargo test -p app-toml --test it schema` and commit it"
    );
}

/// Every object schema, with its location.
fn objects<'v>(value: &'v Value, at: String, out: &mut Vec<(String, &'v Value)>) {
    match value {
        Value::Object(map) => {
            if map.get("type") == Some(&Value::from("object")) {
                out.push((at.clone(), value));
            }
            for (k, v) in map {
                objects(v, format!("{at}/{k}"), out);
            }
        }
        Value::Array(items) => {
            for (i, v) in items.iter().enumerate() {
                objects(v, format!("{at}/{i}"), out);
            }
        }
        _ => {}
    }
}

#[test]
fn schema_is_closed_and_described() {
    let schema = app_toml::json_schema();
    assert_eq!(
        schema["$schema"],
        "https://json-schema.org/draft/2020-12/schema"
    );
    let mut found = Vec::new();
    objects(&schema, String::new(), &mut found);
    assert!(found.len() > 20);
    for (at, object) in found {
        if let Some(props) = object.get("properties").and_then(Value::as_object) {
            assert_eq!(
                object.get("additionalProperties"),
                Some(&Value::Bool(false)),
                "{at} is open"
            );
            for (key, prop) in props {
                assert!(
                    prop.get("description").is_some(),
                    "{at}/properties/{key} has no description"
                );
            }
        }
    }
    let top = schema["properties"].as_object().unwrap();
    for key in [
        "schema_version",
        "name",
        "engine",
        "envs",
        "exceptions",
        "deploy",
    ] {
        assert!(top.contains_key(key), "{key}");
    }
    assert_eq!(schema["required"], serde_json::json!(["engine"]));
    assert_eq!(schema["properties"]["replicas"]["default"], 1);
    assert!(schema["examples"].is_array());
}

#[test]
fn schema_names_match_the_model() {
    let schema = app_toml::json_schema();
    let defs = &schema["$defs"];
    let rules: Vec<&str> = defs["Exceptions"]["properties"]
        .as_object()
        .unwrap()
        .keys()
        .map(String::as_str)
        .collect();
    let mut expected: Vec<&str> = HardeningRule::ALL.iter().map(|r| r.as_str()).collect();
    expected.sort_unstable();
    let mut rules = rules;
    rules.sort_unstable();
    assert_eq!(rules, expected);
    let text = defs["Strategy"].to_string();
    for s in Strategy::ALL {
        assert!(text.contains(&format!("\"{}\"", s.as_str())), "{s}");
    }
}

#[test]
fn draft07_is_available() {
    let schema = app_toml::json_schema_for(SchemaDraft::Draft07);
    assert_eq!(schema["$schema"], "http://json-schema.org/draft-07/schema#");
    assert!(schema.get("definitions").is_some());
}
