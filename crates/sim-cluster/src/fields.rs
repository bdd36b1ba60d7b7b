//! Field ownership for server-side apply: field sets, their `fieldsV1`
//! encoding in `metadata.managedFields`, and the apply and update
//! algorithms that move ownership between managers.
//!
//! A field set holds the paths of the leaves of an object (scalars, atomic
//! lists, empty maps) plus the items of associative lists ("lists of
//! objects keyed by their merge key", e.g. containers by `name`), and the
//! fields inside those items. It is encoded as documented for `FieldsV1`:
//! nested objects whose keys are `f:<field>` for a field, `k:<json key>` for
//! a keyed list item and `.` for "this node itself".

use serde_json::{Map, Value};
use std::collections::{BTreeMap, BTreeSet};

#[cfg(test)]
mod tests;

/// One step of a field path.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum Element {
    /// A field of an object (`f:name`).
    Field(String),
    /// An item of an associative list, by its key as compact JSON with the
    /// key fields sorted (`k:{"name":"app"}`).
    Key(String),
    /// Any other encoded element (`v:`, `i:`) read from stored fields; kept
    /// verbatim so it survives a round trip.
    Other(String),
}

impl Element {
    fn encode(&self) -> String {
        match self {
            Element::Field(name) => format!("f:{name}"),
            Element::Key(key) => format!("k:{key}"),
            Element::Other(raw) => raw.clone(),
        }
    }
}

/// A path from the root of an object.
pub type Path = Vec<Element>;

/// A set of owned fields.
pub type FieldSet = BTreeSet<Path>;

/// The merge key fields of a list, if it is an associative list: every
/// item is an object and carries the key fields. Other lists are atomic
/// (owned and replaced as a whole). `protocol` is optional in ports and
/// defaults to `TCP`, as the API server defaults it.
pub fn list_keys(field: &str, items: &[Value]) -> Option<&'static [&'static str]> {
    if items.is_empty() || !items.iter().all(Value::is_object) {
        return None;
    }
    let has = |k: &str| items.iter().all(|i| i.get(k).is_some_and(|v| !v.is_null()));
    let keys: &'static [&'static str] = match field {
        "containers" | "initContainers" | "ephemeralContainers" | "env" | "volumes" => &["name"],
        "ports" if has("containerPort") => &["containerPort", "protocol"],
        "ports" if has("port") => &["port", "protocol"],
        "volumeMounts" => &["mountPath"],
        "conditions" => &["type"],
        "ownerReferences" => &["uid"],
        "topologySpreadConstraints" => &["topologyKey", "whenUnsatisfiable"],
        "hostAliases" => &["ip"],
        _ => return None,
    };
    keys.iter()
        .filter(|k| **k != "protocol")
        .all(|k| has(k))
        .then_some(keys)
}

/// The `k:` key of one list item (key fields sorted, protocol defaulted).
fn item_key(keys: &[&str], item: &Value) -> String {
    let mut map = Map::new();
    for k in keys {
        let value = match item.get(*k) {
            Some(v) if !v.is_null() => v.clone(),
            _ if *k == "protocol" => Value::String("TCP".into()),
            _ => Value::Null,
        };
        map.insert((*k).to_string(), value);
    }
    serde_json::to_string(&Value::Object(map)).unwrap_or_default()
}

fn item_matches(key: &str, item: &Value) -> bool {
    let Ok(Value::Object(wanted)) = serde_json::from_str::<Value>(key) else {
        return false;
    };
    wanted.iter().all(|(k, v)| match item.get(k) {
        Some(actual) if !actual.is_null() => actual == v,
        _ => k == "protocol" && v.as_str() == Some("TCP"),
    })
}

/// The field set of an object (usually a scoped view, see [`Scope`]).
pub fn to_field_set(obj: &Value) -> FieldSet {
    let mut set = FieldSet::new();
    let mut path = Path::new();
    walk_object(obj, &mut path, &mut set);
    set
}

fn walk_object(value: &Value, path: &mut Path, set: &mut FieldSet) {
    match value {
        Value::Object(map) if !map.is_empty() => {
            for (name, child) in map {
                path.push(Element::Field(name.clone()));
                walk_field(name, child, path, set);
                path.pop();
            }
        }
        _ => {
            if !path.is_empty() {
                set.insert(path.clone());
            }
        }
    }
}

fn walk_field(name: &str, value: &Value, path: &mut Path, set: &mut FieldSet) {
    if let Value::Array(items) = value
        && let Some(keys) = list_keys(name, items)
    {
        for item in items {
            path.push(Element::Key(item_key(keys, item)));
            set.insert(path.clone());
            walk_object(item, path, set);
            path.pop();
        }
        return;
    }
    walk_object(value, path, set);
}

/// The value at a path, if present.
pub fn value_at<'a>(obj: &'a Value, path: &[Element]) -> Option<&'a Value> {
    let mut cur = obj;
    for el in path {
        cur = match el {
            Element::Field(name) => cur.as_object()?.get(name)?,
            Element::Key(key) => cur
                .as_array()?
                .iter()
                .find(|item| item_matches(key, item))?,
            Element::Other(_) => return None,
        };
    }
    Some(cur)
}

/// Removes the field or list item at a path; false when absent.
pub fn remove_at(obj: &mut Value, path: &[Element]) -> bool {
    let Some((last, parent_path)) = path.split_last() else {
        return false;
    };
    let mut cur = obj;
    for el in parent_path {
        let next = match el {
            Element::Field(name) => cur.as_object_mut().and_then(|m| m.get_mut(name)),
            Element::Key(key) => cur
                .as_array_mut()
                .and_then(|a| a.iter_mut().find(|item| item_matches(key, item))),
            Element::Other(_) => None,
        };
        match next {
            Some(next) => cur = next,
            None => return false,
        }
    }
    match last {
        Element::Field(name) => cur
            .as_object_mut()
            .is_some_and(|m| m.remove(name).is_some()),
        Element::Key(key) => match cur.as_array_mut() {
            Some(items) => {
                let before = items.len();
                items.retain(|item| !item_matches(key, item));
                items.len() != before
            }
            None => false,
        },
        Element::Other(_) => false,
    }
}

/// A path as the API prints it in conflict messages:
/// `.spec.template.spec.containers[name="app"].image`.
pub fn display_path(path: &[Element]) -> String {
    let mut out = String::new();
    for el in path {
        match el {
            Element::Field(name) => {
                out.push('.');
                out.push_str(name);
            }
            Element::Key(key) => {
                let parts: Vec<String> = match serde_json::from_str::<Value>(key) {
                    Ok(Value::Object(m)) => m.iter().map(|(k, v)| format!("{k}={v}")).collect(),
                    _ => vec![key.clone()],
                };
                out.push('[');
                out.push_str(&parts.join(","));
                out.push(']');
            }
            Element::Other(raw) => {
                out.push('[');
                out.push_str(raw);
                out.push(']');
            }
        }
    }
    out
}

#[derive(Default)]
struct Node {
    member: bool,
    children: BTreeMap<String, Node>,
}

impl Node {
    fn to_value(&self) -> Value {
        let mut map = Map::new();
        if self.member && !self.children.is_empty() {
            map.insert(".".into(), Value::Object(Map::new()));
        }
        for (key, child) in &self.children {
            map.insert(key.clone(), child.to_value());
        }
        Value::Object(map)
    }
}

/// Encodes a field set as `fieldsV1`.
pub fn encode_fields(set: &FieldSet) -> Value {
    let mut root = Node::default();
    for path in set {
        let mut node = &mut root;
        for el in path {
            node = node.children.entry(el.encode()).or_default();
        }
        node.member = true;
    }
    root.to_value()
}

/// Decodes `fieldsV1`; unknown shapes are skipped.
pub fn decode_fields(value: &Value) -> FieldSet {
    let mut set = FieldSet::new();
    decode_node(value, &mut Path::new(), &mut set);
    set
}

fn decode_node(value: &Value, path: &mut Path, set: &mut FieldSet) {
    let Some(map) = value.as_object() else { return };
    if map.is_empty() && !path.is_empty() {
        set.insert(path.clone());
    }
    for (key, child) in map {
        if key == "." {
            if !path.is_empty() {
                set.insert(path.clone());
            }
            continue;
        }
        let el = if let Some(name) = key.strip_prefix("f:") {
            Element::Field(name.to_string())
        } else if let Some(k) = key.strip_prefix("k:") {
            Element::Key(k.to_string())
        } else {
            Element::Other(key.clone())
        };
        path.push(el);
        decode_node(child, path, set);
        path.pop();
    }
}

/// Which part of an object a write covers.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Scope {
    /// The main resource; `status` is excluded when the resource has a
    /// status subresource.
    Main {
        /// Whether the resource has a `/status` subresource.
        status_subresource: bool,
    },
    /// The `/status` subresource: only `status`.
    Status,
}

impl Scope {
    /// The `subresource` recorded in managedFields ("" for the main one).
    pub fn subresource(self) -> &'static str {
        match self {
            Scope::Main { .. } => "",
            Scope::Status => "status",
        }
    }
}

/// Fields the server sets itself: never owned by a manager.
const SERVER_METADATA: &[&str] = &[
    "name",
    "namespace",
    "uid",
    "resourceVersion",
    "generation",
    "creationTimestamp",
    "managedFields",
    "selfLink",
    "deletionTimestamp",
    "deletionGracePeriodSeconds",
];

/// The part of an object whose fields a write in `scope` can own.
pub fn scoped(obj: &Value, scope: Scope) -> Value {
    let Value::Object(map) = obj else {
        return Value::Object(Map::new());
    };
    let mut out = Map::new();
    for (key, value) in map {
        let keep = match scope {
            Scope::Status => key == "status",
            Scope::Main { status_subresource } => {
                !(key == "apiVersion" || key == "kind" || (status_subresource && key == "status"))
            }
        };
        if !keep {
            continue;
        }
        if key == "metadata" {
            let mut meta = value.as_object().cloned().unwrap_or_default();
            for k in SERVER_METADATA {
                meta.remove(*k);
            }
            if !meta.is_empty() {
                out.insert(key.clone(), Value::Object(meta));
            }
        } else {
            out.insert(key.clone(), value.clone());
        }
    }
    Value::Object(out)
}

/// One `managedFields` entry.
#[derive(Clone, Debug, PartialEq)]
pub struct ManagedEntry {
    /// The field manager.
    pub manager: String,
    /// `Apply` or `Update`.
    pub operation: String,
    /// The apiVersion the manager wrote with.
    pub api_version: String,
    /// When the entry last changed (RFC 3339).
    pub time: String,
    /// `status` for the status subresource, empty otherwise.
    pub subresource: String,
    /// The owned fields.
    pub fields: FieldSet,
}

impl ManagedEntry {
    fn is(&self, manager: &str, operation: &str, subresource: &str) -> bool {
        self.manager == manager && self.operation == operation && self.subresource == subresource
    }
}

/// Reads `metadata.managedFields` (malformed entries are dropped).
pub fn parse_managed(obj: &Value) -> Vec<ManagedEntry> {
    obj["metadata"]["managedFields"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|e| {
            Some(ManagedEntry {
                manager: e["manager"].as_str()?.to_string(),
                operation: e["operation"].as_str()?.to_string(),
                api_version: e["apiVersion"].as_str().unwrap_or_default().to_string(),
                time: e["time"].as_str().unwrap_or_default().to_string(),
                subresource: e["subresource"].as_str().unwrap_or_default().to_string(),
                fields: decode_fields(&e["fieldsV1"]),
            })
        })
        .collect()
}

/// Renders entries as `metadata.managedFields` (entries without fields go).
pub fn render_managed(entries: &[ManagedEntry]) -> Value {
    Value::Array(
        entries
            .iter()
            .filter(|e| !e.fields.is_empty())
            .map(|e| {
                let mut m = Map::new();
                m.insert("manager".into(), Value::String(e.manager.clone()));
                m.insert("operation".into(), Value::String(e.operation.clone()));
                m.insert("apiVersion".into(), Value::String(e.api_version.clone()));
                m.insert("time".into(), Value::String(e.time.clone()));
                m.insert("fieldsType".into(), Value::String("FieldsV1".into()));
                m.insert("fieldsV1".into(), encode_fields(&e.fields));
                if !e.subresource.is_empty() {
                    m.insert("subresource".into(), Value::String(e.subresource.clone()));
                }
                Value::Object(m)
            })
            .collect(),
    )
}

/// Who is writing, for ownership bookkeeping.
#[derive(Clone, Copy, Debug)]
pub struct Writer<'a> {
    /// The field manager.
    pub manager: &'a str,
    /// apiVersion of the request.
    pub api_version: &'a str,
    /// Which part of the object the write covers.
    pub scope: Scope,
    /// The current time (RFC 3339), for the entry's `time`.
    pub now: &'a str,
}

/// A field another manager owns with a different value.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Conflict {
    /// The field, as [`display_path`] prints it.
    pub field: String,
    /// The manager that owns it.
    pub manager: String,
    /// The apiVersion that manager used.
    pub api_version: String,
}

/// Server-side apply of `applied` onto `live` (full objects). Returns the
/// merged object, with `metadata.managedFields` updated, or the conflicts
/// (when `force` is false).
pub fn apply(
    live: &Value,
    applied: &Value,
    writer: Writer<'_>,
    force: bool,
) -> Result<Value, Vec<Conflict>> {
    let mut entries = parse_managed(live);
    let config = scoped(applied, writer.scope);
    let applied_set = to_field_set(&config);
    let subresource = writer.scope.subresource();

    let mut merged = live.clone();
    merge_into(&mut merged, &config);

    // Conflicts: fields another manager owns whose value this apply would
    // change (set to a different value, or replaced along with a parent
    // whose type changes). Items of associative lists are identities, not
    // values: only the fields inside them can conflict.
    let mut conflicts = Vec::new();
    for entry in entries.iter_mut() {
        if entry.manager == writer.manager || entry.subresource != subresource {
            continue;
        }
        let changed: Vec<Path> = entry
            .fields
            .iter()
            .filter(|p| !matches!(p.last(), Some(Element::Key(_))))
            .filter(|p| value_at(live, p) != value_at(&merged, p))
            .cloned()
            .collect();
        for path in changed {
            conflicts.push(Conflict {
                field: display_path(&path),
                manager: entry.manager.clone(),
                api_version: entry.api_version.clone(),
            });
            // Forced: the field changes hands.
            entry.fields.remove(&path);
        }
    }
    if !conflicts.is_empty() && !force {
        return Err(conflicts);
    }

    // Fields this manager applied before and omits now go, unless another
    // manager still owns them (or something beneath them).
    let previous: FieldSet = entries
        .iter()
        .find(|e| e.is(writer.manager, "Apply", subresource))
        .map(|e| e.fields.clone())
        .unwrap_or_default();
    let others: FieldSet = entries
        .iter()
        .filter(|e| !e.is(writer.manager, "Apply", subresource) && e.subresource == subresource)
        .flat_map(|e| e.fields.iter().cloned())
        .collect();
    for path in previous.difference(&applied_set) {
        let kept = others.contains(path)
            || applied_set
                .iter()
                .chain(others.iter())
                .any(|p| p.len() > path.len() && p.starts_with(path));
        if !kept && remove_at(&mut merged, path) {
            // Maps and lists left empty by the removal go too, unless
            // someone owns them.
            let emptied = |v: &Value| match v {
                Value::Object(m) => m.is_empty(),
                Value::Array(a) => a.is_empty(),
                _ => false,
            };
            let mut parent = &path[..path.len() - 1];
            while !parent.is_empty()
                && value_at(&merged, parent).is_some_and(emptied)
                && !applied_set.contains(parent)
                && !others.contains(parent)
            {
                remove_at(&mut merged, parent);
                parent = &parent[..parent.len() - 1];
            }
        }
    }

    match entries
        .iter_mut()
        .find(|e| e.is(writer.manager, "Apply", subresource))
    {
        Some(entry) => {
            if entry.fields != applied_set || entry.api_version != writer.api_version {
                entry.fields = applied_set;
                entry.api_version = writer.api_version.to_string();
                entry.time = writer.now.to_string();
            }
        }
        None => entries.push(ManagedEntry {
            manager: writer.manager.to_string(),
            operation: "Apply".into(),
            api_version: writer.api_version.to_string(),
            time: writer.now.to_string(),
            subresource: subresource.to_string(),
            fields: applied_set,
        }),
    }
    prune_entries(&mut entries, &merged);
    set_managed(&mut merged, &entries);
    Ok(merged)
}

/// Records an Update-operation write (create, PUT, merge/JSON/strategic
/// patch) by `writer`: the fields it added or changed become its own (taken
/// from any other manager, without conflicts), removed fields leave every
/// set. Returns `new` with `metadata.managedFields` set.
pub fn record_update(old: Option<&Value>, new: &Value, writer: Writer<'_>) -> Value {
    let mut entries = old.map(parse_managed).unwrap_or_default();
    let empty = Value::Object(Map::new());
    let old_scoped = old
        .map(|o| scoped(o, writer.scope))
        .unwrap_or_else(|| empty.clone());
    let new_scoped = scoped(new, writer.scope);
    let old_set = to_field_set(&old_scoped);
    let new_set = to_field_set(&new_scoped);
    let changed: FieldSet = new_set
        .iter()
        .filter(|p| !old_set.contains(*p) || value_at(&old_scoped, p) != value_at(&new_scoped, p))
        .filter(|p| !(old_set.contains(*p) && matches!(p.last(), Some(Element::Key(_)))))
        .cloned()
        .collect();
    let subresource = writer.scope.subresource();
    if !changed.is_empty() {
        for entry in entries
            .iter_mut()
            .filter(|e| !e.is(writer.manager, "Update", subresource))
        {
            entry.fields.retain(|p| !changed.contains(p));
        }
        match entries
            .iter_mut()
            .find(|e| e.is(writer.manager, "Update", subresource))
        {
            Some(entry) => {
                entry.fields.extend(changed);
                entry.api_version = writer.api_version.to_string();
                entry.time = writer.now.to_string();
            }
            None => entries.push(ManagedEntry {
                manager: writer.manager.to_string(),
                operation: "Update".into(),
                api_version: writer.api_version.to_string(),
                time: writer.now.to_string(),
                subresource: subresource.to_string(),
                fields: changed,
            }),
        }
    }
    let mut out = new.clone();
    prune_entries(&mut entries, &out);
    set_managed(&mut out, &entries);
    out
}

/// Drops owned paths that no longer exist in the object, then empty entries.
fn prune_entries(entries: &mut Vec<ManagedEntry>, obj: &Value) {
    for entry in entries.iter_mut() {
        let view = match entry.subresource.as_str() {
            "status" => scoped(obj, Scope::Status),
            _ => scoped(
                obj,
                Scope::Main {
                    status_subresource: false,
                },
            ),
        };
        entry.fields.retain(|p| value_at(&view, p).is_some());
    }
    entries.retain(|e| !e.fields.is_empty());
}

fn set_managed(obj: &mut Value, entries: &[ManagedEntry]) {
    if let Some(meta) = obj.get_mut("metadata").and_then(Value::as_object_mut) {
        if entries.is_empty() {
            meta.remove("managedFields");
        } else {
            meta.insert("managedFields".into(), render_managed(entries));
        }
    }
}

/// Merges an apply configuration into an object: maps field by field,
/// associative lists item by item (by key), everything else replaced.
pub fn merge_into(live: &mut Value, applied: &Value) {
    let (Value::Object(live_map), Value::Object(applied_map)) = (&mut *live, applied) else {
        *live = applied.clone();
        return;
    };
    for (name, value) in applied_map {
        let Some(existing) = live_map.get_mut(name) else {
            live_map.insert(name.clone(), value.clone());
            continue;
        };
        match (&mut *existing, value) {
            (Value::Array(live_items), Value::Array(applied_items)) => {
                let all: Vec<Value> = live_items
                    .iter()
                    .chain(applied_items.iter())
                    .cloned()
                    .collect();
                match list_keys(name, &all) {
                    Some(keys) => *live_items = merge_keyed(live_items, applied_items, keys),
                    None => *existing = value.clone(),
                }
            }
            (Value::Object(_), Value::Object(_)) => merge_into(existing, value),
            _ => *existing = value.clone(),
        }
    }
}

/// Merges two associative lists the way structured-merge-diff orders them:
/// items both lists hold come in the applied order (merged), items only
/// the live list holds stay about where they were, new items come where
/// the applied list has them.
fn merge_keyed(live: &[Value], applied: &[Value], keys: &[&str]) -> Vec<Value> {
    let live_keys: Vec<String> = live.iter().map(|i| item_key(keys, i)).collect();
    let applied_keys: Vec<String> = applied.iter().map(|i| item_key(keys, i)).collect();
    let in_applied = |k: &String| applied_keys.contains(k);
    let in_live = |k: &String| live_keys.contains(k);
    let mut shared = applied_keys.iter().filter(|k| in_live(k));
    let mut next_shared = shared.next();
    let mut out = Vec::with_capacity(live.len().max(applied.len()));
    let (mut l, mut r) = (0, 0);
    while l < live.len() || r < applied.len() {
        if l < live.len() && r < applied.len() {
            if live_keys[l] == applied_keys[r] {
                let mut item = live[l].clone();
                merge_into(&mut item, &applied[r]);
                out.push(item);
                next_shared = shared.next();
                l += 1;
                r += 1;
                continue;
            }
            if in_applied(&live_keys[l]) && next_shared.is_some_and(|k| *k != live_keys[l]) {
                // A shared item whose turn (in applied order) has not come.
                l += 1;
                continue;
            }
        }
        if l < live.len() && !in_applied(&live_keys[l]) {
            out.push(live[l].clone());
            l += 1;
            continue;
        }
        if r < applied.len() {
            let key = &applied_keys[r];
            let mut item = live_keys
                .iter()
                .position(|k| k == key)
                .map_or(Value::Null, |i| live[i].clone());
            merge_into(&mut item, &applied[r]);
            if in_live(key) {
                next_shared = shared.next();
            }
            out.push(item);
            r += 1;
        } else {
            // Shared items left on the live side were taken in applied order.
            l += 1;
        }
    }
    out
}

/// The 409 message for apply conflicts, worded like the API server's.
pub fn conflict_message(conflicts: &[Conflict]) -> String {
    let n = conflicts.len();
    let mut by_manager: Vec<(&str, &str, Vec<&str>)> = Vec::new();
    for c in conflicts {
        match by_manager
            .iter_mut()
            .find(|(m, v, _)| *m == c.manager && *v == c.api_version)
        {
            Some((_, _, fields)) => fields.push(&c.field),
            None => by_manager.push((&c.manager, &c.api_version, vec![&c.field])),
        }
    }
    let parts: Vec<String> = by_manager
        .iter()
        .map(|(m, v, fields)| {
            if fields.len() == 1 {
                format!("conflict with \"{m}\" using {v}: {}", fields.join(""))
            } else {
                let list: Vec<String> = fields.iter().map(|f| format!("- {f}")).collect();
                format!("conflicts with \"{m}\" using {v}:\n{}", list.join("\n"))
            }
        })
        .collect();
    let noun = if n == 1 { "conflict" } else { "conflicts" };
    format!("Apply failed with {n} {noun}: {}", parts.join("\n"))
}
