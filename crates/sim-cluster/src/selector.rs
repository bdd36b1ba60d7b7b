//! Label and field selectors as the list and watch verbs accept them.
//!
//! Label selector grammar (documented under "Labels and Selectors"):
//! comma-separated requirements, each `key=value`, `key==value`,
//! `key!=value`, `key in (a,b)`, `key notin (a,b)`, `key` (exists) or
//! `!key` (does not exist). All requirements must hold.

use serde_json::Value;
use std::collections::BTreeMap;

#[cfg(test)]
mod tests;

/// One requirement of a label selector.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Requirement {
    /// `key=value` or `key==value`.
    Equals(String, String),
    /// `key!=value` (also true when the key is absent).
    NotEquals(String, String),
    /// `key in (values)`.
    In(String, Vec<String>),
    /// `key notin (values)` (also true when the key is absent).
    NotIn(String, Vec<String>),
    /// `key`.
    Exists(String),
    /// `!key`.
    DoesNotExist(String),
}

/// A parsed label selector: every requirement must match.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct LabelSelector(pub Vec<Requirement>);

impl LabelSelector {
    /// Parses the selector syntax; the error names what is wrong.
    pub fn parse(text: &str) -> Result<Self, String> {
        let mut reqs = Vec::new();
        let chars: Vec<char> = text.chars().collect();
        let mut i = 0;
        let skip_ws = |i: &mut usize| {
            while *i < chars.len() && chars[*i].is_whitespace() {
                *i += 1;
            }
        };
        loop {
            skip_ws(&mut i);
            if i >= chars.len() {
                break;
            }
            let negated = chars[i] == '!';
            if negated {
                i += 1;
                skip_ws(&mut i);
            }
            let key = take_word(&chars, &mut i);
            if key.is_empty() {
                return Err(format!(
                    "unable to parse requirement: expected a label key at position {i}"
                ));
            }
            validate_key(&key)?;
            skip_ws(&mut i);
            let req = if negated {
                Requirement::DoesNotExist(key)
            } else if i >= chars.len() || chars[i] == ',' {
                Requirement::Exists(key)
            } else if chars[i] == '=' || chars[i] == '!' {
                let op_not = chars[i] == '!';
                i += 1;
                if i < chars.len() && chars[i] == '=' {
                    i += 1;
                } else if op_not {
                    return Err(format!(
                        "unable to parse requirement: expected '=' after '!' for key {key}"
                    ));
                }
                skip_ws(&mut i);
                let value = take_word(&chars, &mut i);
                validate_value(&value)?;
                if op_not {
                    Requirement::NotEquals(key, value)
                } else {
                    Requirement::Equals(key, value)
                }
            } else {
                let op = take_word(&chars, &mut i);
                skip_ws(&mut i);
                let values = take_set(&chars, &mut i)?;
                match op.as_str() {
                    "in" => Requirement::In(key, values),
                    "notin" => Requirement::NotIn(key, values),
                    other => {
                        return Err(format!(
                            "unable to parse requirement: unknown operator {other:?}"
                        ));
                    }
                }
            };
            reqs.push(req);
            skip_ws(&mut i);
            if i < chars.len() {
                if chars[i] != ',' {
                    return Err(format!(
                        "unable to parse requirement: unexpected {:?} at position {i}",
                        chars[i]
                    ));
                }
                i += 1;
                skip_ws(&mut i);
                if i >= chars.len() {
                    return Err("unable to parse requirement: trailing ','".into());
                }
            }
        }
        Ok(LabelSelector(reqs))
    }

    /// Whether labels satisfy every requirement.
    pub fn matches(&self, labels: &BTreeMap<String, String>) -> bool {
        self.0.iter().all(|req| match req {
            Requirement::Equals(k, v) => labels.get(k) == Some(v),
            Requirement::NotEquals(k, v) => labels.get(k) != Some(v),
            Requirement::In(k, vs) => labels.get(k).is_some_and(|l| vs.contains(l)),
            Requirement::NotIn(k, vs) => labels.get(k).is_none_or(|l| !vs.contains(l)),
            Requirement::Exists(k) => labels.contains_key(k),
            Requirement::DoesNotExist(k) => !labels.contains_key(k),
        })
    }

    /// Whether an object's `metadata.labels` satisfy the selector.
    pub fn matches_object(&self, obj: &Value) -> bool {
        self.matches(&labels_of(obj))
    }
}

/// The labels of an object (non-string values ignored).
pub fn labels_of(obj: &Value) -> BTreeMap<String, String> {
    obj["metadata"]["labels"]
        .as_object()
        .map(|m| {
            m.iter()
                .filter_map(|(k, v)| Some((k.clone(), v.as_str()?.to_string())))
                .collect()
        })
        .unwrap_or_default()
}

fn is_word_char(c: char) -> bool {
    c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.' | '/')
}

fn take_word(chars: &[char], i: &mut usize) -> String {
    let start = *i;
    while *i < chars.len() && is_word_char(chars[*i]) {
        *i += 1;
    }
    chars[start..*i].iter().collect()
}

fn take_set(chars: &[char], i: &mut usize) -> Result<Vec<String>, String> {
    if *i >= chars.len() || chars[*i] != '(' {
        return Err("unable to parse requirement: expected '(' after set operator".into());
    }
    *i += 1;
    let mut values = Vec::new();
    loop {
        while *i < chars.len() && chars[*i].is_whitespace() {
            *i += 1;
        }
        let value = take_word(chars, i);
        validate_value(&value)?;
        values.push(value);
        while *i < chars.len() && chars[*i].is_whitespace() {
            *i += 1;
        }
        match chars.get(*i) {
            Some(',') => *i += 1,
            Some(')') => {
                *i += 1;
                return Ok(values);
            }
            _ => {
                return Err("unable to parse requirement: expected ',' or ')' in value set".into());
            }
        }
    }
}

/// A label key: optional DNS-subdomain prefix and `/`, then a name of at most
/// 63 characters starting and ending alphanumeric.
fn validate_key(key: &str) -> Result<(), String> {
    let name = match key.rsplit_once('/') {
        Some((prefix, name)) => {
            if prefix.is_empty() || prefix.len() > 253 {
                return Err(format!(
                    "invalid label key {key:?}: prefix part must be a DNS subdomain"
                ));
            }
            name
        }
        None => key,
    };
    if name.is_empty() || name.len() > 63 || !valid_label_chars(name) {
        return Err(format!(
            "invalid label key {key:?}: name part must consist of alphanumeric characters, '-', '_' or '.', \
             and must start and end with an alphanumeric character"
        ));
    }
    Ok(())
}

fn validate_value(value: &str) -> Result<(), String> {
    if value.len() > 63 || (!value.is_empty() && !valid_label_chars(value)) {
        return Err(format!(
            "invalid label value {value:?}: must be 63 characters or less and must be empty or begin and end \
             with an alphanumeric character"
        ));
    }
    Ok(())
}

fn valid_label_chars(s: &str) -> bool {
    let first_last_ok = s.chars().next().is_some_and(|c| c.is_ascii_alphanumeric())
        && s.chars().last().is_some_and(|c| c.is_ascii_alphanumeric());
    first_last_ok
        && s.chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'))
}

/// A field selector: `field=value`, `field==value` or `field!=value`
/// requirements on dotted paths of the object.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct FieldSelector(pub Vec<(String, bool, String)>);

/// Fields every resource can be selected by.
const COMMON_FIELDS: &[&str] = &["metadata.name", "metadata.namespace"];

/// Extra fields per kind, as the real API server registers them.
fn kind_fields(kind: &str) -> &'static [&'static str] {
    match kind {
        "Pod" => &[
            "spec.nodeName",
            "spec.restartPolicy",
            "spec.schedulerName",
            "spec.serviceAccountName",
            "status.phase",
            "status.podIP",
        ],
        "Event" => &[
            "involvedObject.kind",
            "involvedObject.namespace",
            "involvedObject.name",
            "involvedObject.uid",
            "involvedObject.apiVersion",
            "involvedObject.resourceVersion",
            "involvedObject.fieldPath",
            "reason",
            "reportingComponent",
            "source",
            "type",
        ],
        "Secret" => &["type"],
        "Namespace" => &["status.phase"],
        "ReplicaSet" => &["status.replicas"],
        "Job" => &["status.successful"],
        _ => &[],
    }
}

impl FieldSelector {
    /// Parses a field selector for objects of `kind`; unsupported fields are
    /// an error, as on the real server.
    pub fn parse(text: &str, kind: &str) -> Result<Self, String> {
        let mut reqs = Vec::new();
        for part in text.split(',').map(str::trim).filter(|p| !p.is_empty()) {
            let (field, negated, value) = if let Some((f, v)) = part.split_once("!=") {
                (f, true, v)
            } else if let Some((f, v)) = part.split_once("==") {
                (f, false, v)
            } else if let Some((f, v)) = part.split_once('=') {
                (f, false, v)
            } else {
                return Err(format!(
                    "invalid selector: '{part}'; can't understand '{part}'"
                ));
            };
            let field = field.trim();
            if !COMMON_FIELDS.contains(&field) && !kind_fields(kind).contains(&field) {
                return Err(format!("field label not supported: {field}"));
            }
            reqs.push((field.to_string(), negated, value.trim().to_string()));
        }
        Ok(FieldSelector(reqs))
    }

    /// Whether the object satisfies every requirement.
    pub fn matches(&self, obj: &Value) -> bool {
        self.0.iter().all(|(field, negated, value)| {
            let mut cur = obj;
            for part in field.split('.') {
                cur = &cur[part];
            }
            let actual = match cur {
                Value::String(s) => s.clone(),
                Value::Null => String::new(),
                other => other.to_string(),
            };
            (actual == *value) != *negated
        })
    }
}
