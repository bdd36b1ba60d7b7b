//! JSON Schema of the file format (being written: see issue 2).

pub(crate) fn json_schema() -> serde_json::Value {
    serde_json::Value::Null
}
