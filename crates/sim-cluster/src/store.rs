//! The object store: every object as JSON, keyed by resource, namespace and
//! name, with the server-owned metadata (uid, resourceVersion, generation,
//! creationTimestamp, managedFields), the write semantics of the REST verbs
//! and a bounded change history that watches resume from.
//!
//! One cluster-wide counter orders every change; `resourceVersion` is that
//! counter as a string, as on a real cluster backed by etcd. A write that
//! changes nothing keeps the old resourceVersion.

use crate::api_error::{ApiError, Reason};
use crate::fields::{self, Scope, Writer};
use crate::merge;
use crate::resources::{self, ResourceInfo};
use crate::selector::{FieldSelector, LabelSelector};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value, json};
use std::collections::{BTreeMap, VecDeque};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use tokio::sync::broadcast;

#[cfg(test)]
mod tests;

/// Namespaces every cluster has and that cannot be deleted.
const SYSTEM_NAMESPACES: [&str; 3] = ["default", "kube-system", "kube-public"];

/// At most this many bytes of objects are kept in the history (large
/// ConfigMaps would otherwise pile up).
const HISTORY_BYTES: usize = 64 * 1024 * 1024;

/// How many changes a watch can resume from before it gets 410 Gone.
const HISTORY: usize = 10_000;

/// What happened to an object, as a watch reports it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ChangeType {
    /// Created.
    Added,
    /// Changed.
    Modified,
    /// Deleted.
    Deleted,
    /// The store was wiped: every watch ends.
    Reset,
}

/// One change, as kept in the history and sent to watchers.
#[derive(Clone, Debug)]
pub struct Change {
    /// The resourceVersion the change produced.
    pub rv: u64,
    /// [`ResourceInfo::storage_key`] of the object.
    pub key: String,
    /// Namespace ("" for cluster-scoped).
    pub namespace: String,
    /// What happened.
    pub kind: ChangeType,
    /// The object after the change (the last state for deletions).
    pub object: Value,
    /// The object before the change, for watches with selectors.
    pub previous: Option<Value>,
    /// Roughly how many bytes the change holds.
    pub size: usize,
}

/// A watch's start: the changes to replay, the live feed, and the current
/// resourceVersion.
pub type Subscription = (Vec<Arc<Change>>, broadcast::Receiver<Arc<Change>>, u64);

/// The persistent part of the store.
#[derive(Clone, Debug, Default, Serialize, Deserialize)]
pub struct State {
    /// The last resourceVersion handed out.
    pub resource_version: u64,
    /// storage key → namespace ("" when cluster-scoped) → name → object.
    pub objects: BTreeMap<String, BTreeMap<String, BTreeMap<String, Value>>>,
    /// Controller clock marks (milliseconds since the epoch) by key, e.g.
    /// when a pod was created; kept here so they survive a restart.
    #[serde(default)]
    pub marks: BTreeMap<String, i64>,
    /// The cluster-level faults in force.
    #[serde(default)]
    pub faults: PersistedFaults,
}

/// The cluster-level faults, as saved with the state.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct PersistedFaults {
    /// Answering, hanging, refusing or unavailable.
    #[serde(default)]
    pub reachability: crate::Reachability,
    /// Added latency in milliseconds.
    #[serde(default)]
    pub latency_ms: u64,
}

struct Inner {
    state: State,
    history: VecDeque<Arc<Change>>,
    /// Watches may resume from any resourceVersion >= this.
    oldest: u64,
    /// Sum of the history's [`Change::size`].
    history_bytes: usize,
}

/// The in-memory store of one cluster.
pub struct Store {
    inner: Mutex<Inner>,
    changes: broadcast::Sender<Arc<Change>>,
    dirty: AtomicBool,
}

/// How a write changes the object.
#[derive(Debug)]
pub enum Op {
    /// POST.
    Create(Value),
    /// PUT.
    Replace(Value),
    /// PATCH with `application/merge-patch+json`.
    MergePatch(Value),
    /// PATCH with `application/strategic-merge-patch+json`.
    StrategicPatch(Value),
    /// PATCH with `application/json-patch+json`.
    JsonPatch(json_patch::Patch),
    /// PATCH with `application/apply-patch+yaml` (server-side apply).
    Apply {
        /// The apply configuration.
        config: Value,
        /// `force=true`: take over conflicting fields.
        force: bool,
    },
}

/// A write request, after the HTTP layer parsed it.
#[derive(Debug)]
pub struct WriteRequest {
    /// Main resource or `/status`.
    pub scope: Scope,
    /// The field manager.
    pub manager: String,
    /// `dryRun=All`: validate and answer, change nothing.
    pub dry_run: bool,
    /// The change.
    pub op: Op,
}

/// Current time as the API formats it (RFC 3339, seconds).
pub fn now_rfc3339() -> String {
    jiff::Timestamp::now()
        .strftime("%Y-%m-%dT%H:%M:%SZ")
        .to_string()
}

/// Milliseconds since the Unix epoch.
pub fn now_ms() -> i64 {
    jiff::Timestamp::now().as_millisecond()
}

fn new_uid() -> String {
    let n = fastrand::u128(..);
    let hex = format!("{n:032x}");
    format!(
        "{}-{}-4{}-a{}-{}",
        &hex[0..8],
        &hex[8..12],
        &hex[13..16],
        &hex[17..20],
        &hex[20..32]
    )
}

impl Default for Store {
    fn default() -> Self {
        Store::from_state(State::default())
    }
}

impl Store {
    /// A store holding `state` (the default namespaces are added if missing).
    pub fn from_state(state: State) -> Self {
        let (changes, _) = broadcast::channel(4096);
        let oldest = state.resource_version;
        let store = Store {
            inner: Mutex::new(Inner {
                state,
                history: VecDeque::new(),
                history_bytes: 0,
                oldest,
            }),
            changes,
            dirty: AtomicBool::new(false),
        };
        store.ensure_default_namespaces();
        store
    }

    fn lock(&self) -> MutexGuard<'_, Inner> {
        self.inner
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    fn ensure_default_namespaces(&self) {
        let info = resources::namespace_info();
        for ns in SYSTEM_NAMESPACES {
            let req = WriteRequest {
                scope: Scope::Main {
                    status_subresource: true,
                },
                manager: "kube-apiserver".into(),
                dry_run: false,
                op: Op::Create(
                    json!({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": ns}}),
                ),
            };
            // AlreadyExists after a load is expected and fine.
            let _ = self.write(&info, "", ns, req);
        }
    }

    /// A copy of the persistent state.
    pub fn snapshot(&self) -> State {
        self.lock().state.clone()
    }

    /// Records the faults in force (saved with the state).
    pub fn set_faults(&self, faults: PersistedFaults) {
        let mut inner = self.lock();
        if inner.state.faults != faults {
            inner.state.faults = faults;
            self.dirty.store(true, Ordering::SeqCst);
        }
    }

    /// Marks the state as changed (to be saved again).
    pub fn mark_dirty(&self) {
        self.dirty.store(true, Ordering::SeqCst);
    }

    /// Whether something changed since the last [`Store::take_dirty`].
    pub fn take_dirty(&self) -> bool {
        self.dirty.swap(false, Ordering::SeqCst)
    }

    /// Subscribes to changes, returning the history after `rv` (or `Err` with
    /// the oldest available version when `rv` is too old) atomically with
    /// the subscription.
    pub fn subscribe_from(&self, rv: u64) -> Result<Subscription, u64> {
        let inner = self.lock();
        if rv < inner.oldest {
            return Err(inner.oldest);
        }
        let replay = inner
            .history
            .iter()
            .filter(|c| c.rv > rv)
            .cloned()
            .collect();
        Ok((
            replay,
            self.changes.subscribe(),
            inner.state.resource_version,
        ))
    }

    /// A feed of every change from now on.
    pub fn changes(&self) -> broadcast::Receiver<Arc<Change>> {
        self.changes.subscribe()
    }

    /// The current resourceVersion.
    pub fn resource_version(&self) -> u64 {
        self.lock().state.resource_version
    }

    /// Empties the cluster as if etcd had been wiped: only the default
    /// namespaces remain, open watches end, and resuming from an earlier
    /// resourceVersion gives 410 Gone.
    pub fn wipe(&self) {
        {
            let mut inner = self.lock();
            let rv = inner.state.resource_version + 1;
            inner.state = State {
                resource_version: rv,
                faults: inner.state.faults,
                ..State::default()
            };
            inner.history.clear();
            inner.history_bytes = 0;
            inner.oldest = rv;
            let change = Arc::new(Change {
                rv,
                key: String::new(),
                namespace: String::new(),
                kind: ChangeType::Reset,
                object: Value::Null,
                previous: None,
                size: 0,
            });
            let _ = self.changes.send(change);
        }
        self.ensure_default_namespaces();
        self.dirty.store(true, Ordering::SeqCst);
    }

    /// Every resource served: the built-ins and those of stored CRDs.
    pub fn all_resources(&self) -> Vec<ResourceInfo> {
        let mut all = resources::builtins();
        let crd_key =
            resources::builtin("apiextensions.k8s.io", "customresourcedefinitions").storage_key();
        let inner = self.lock();
        if let Some(crds) = inner.state.objects.get(&crd_key).and_then(|m| m.get("")) {
            for crd in crds.values() {
                for info in resources::from_crd(crd) {
                    if !all.iter().any(|r| {
                        r.group == info.group
                            && r.version == info.version
                            && r.plural == info.plural
                    }) {
                        all.push(info);
                    }
                }
            }
        }
        all
    }

    /// The resource served at `group/version/plural`.
    pub fn resolve(&self, group: &str, version: &str, plural: &str) -> Option<ResourceInfo> {
        self.all_resources()
            .into_iter()
            .find(|r| r.group == group && r.version == version && r.plural == plural)
    }

    /// One object.
    pub fn get(&self, info: &ResourceInfo, ns: &str, name: &str) -> Result<Value, ApiError> {
        let inner = self.lock();
        lookup(&inner.state, info, ns, name)
            .cloned()
            .ok_or_else(|| ApiError::not_found(&info.group, &info.plural, name))
    }

    /// Objects of a resource (in one namespace, or all when `ns` is None),
    /// filtered by selectors, with the list's resourceVersion.
    pub fn list(
        &self,
        info: &ResourceInfo,
        ns: Option<&str>,
        labels: &LabelSelector,
        fields: &FieldSelector,
    ) -> (Vec<Value>, u64) {
        let inner = self.lock();
        let mut items = Vec::new();
        if let Some(by_ns) = inner.state.objects.get(&info.storage_key()) {
            for (namespace, objects) in by_ns {
                if ns.is_some_and(|n| n != namespace) {
                    continue;
                }
                items.extend(
                    objects
                        .values()
                        .filter(|o| labels.matches_object(o) && fields.matches(o))
                        .cloned(),
                );
            }
        }
        (items, inner.state.resource_version)
    }

    /// Reads a controller mark.
    pub fn mark(&self, key: &str) -> Option<i64> {
        self.lock().state.marks.get(key).copied()
    }

    /// Sets a controller mark.
    pub fn set_mark(&self, key: &str, value: i64) {
        let mut inner = self.lock();
        if inner.state.marks.insert(key.to_string(), value) != Some(value) {
            self.dirty.store(true, Ordering::SeqCst);
        }
    }

    /// Sets a controller mark if it is not set yet; returns its value.
    pub fn mark_once(&self, key: &str, value: i64) -> i64 {
        let mut inner = self.lock();
        if let Some(existing) = inner.state.marks.get(key) {
            return *existing;
        }
        inner.state.marks.insert(key.to_string(), value);
        self.dirty.store(true, Ordering::SeqCst);
        value
    }

    /// Creates, replaces, patches or applies one object. Returns the object
    /// and whether it was created.
    pub fn write(
        &self,
        info: &ResourceInfo,
        ns: &str,
        name: &str,
        req: WriteRequest,
    ) -> Result<(Value, bool), ApiError> {
        let mut inner = self.lock();
        let state = &inner.state;
        if info.namespaced && lookup(state, &resources::namespace_info(), "", ns).is_none() {
            return Err(ApiError::not_found("", "namespaces", ns));
        }
        let old = lookup(state, info, ns, name).cloned();
        let now = now_rfc3339();
        let api_version = info.api_version();
        let writer = Writer {
            manager: &req.manager,
            api_version: &api_version,
            scope: req.scope,
            now: &now,
        };
        let not_found = || ApiError::not_found(&info.group, &info.plural, name);

        let mut new = match req.op {
            Op::Create(body) => {
                if old.is_some() {
                    return Err(ApiError::already_exists(&info.group, &info.plural, name));
                }
                check_identity(info, ns, Some(name), &body)?;
                fields::record_update(None, &with_identity(body, info, ns, name), writer)
            }
            Op::Replace(body) => {
                let old = old.as_ref().ok_or_else(not_found)?;
                check_identity(info, ns, Some(name), &body)?;
                check_precondition(info, name, old, &body)?;
                fields::record_update(Some(old), &with_identity(body, info, ns, name), writer)
            }
            Op::MergePatch(patch) | Op::StrategicPatch(patch) if !patch.is_object() => {
                return Err(ApiError::bad_request("the patch must be a JSON object"));
            }
            Op::MergePatch(patch) => {
                let old = old.as_ref().ok_or_else(not_found)?;
                let mut patched = old.clone();
                merge::merge_patch(&mut patched, &patch);
                check_patched(info, ns, name, old, &patched)?;
                fields::record_update(Some(old), &patched, writer)
            }
            Op::StrategicPatch(patch) => {
                let old = old.as_ref().ok_or_else(not_found)?;
                let mut patched = old.clone();
                merge::strategic_merge(&mut patched, &patch);
                check_patched(info, ns, name, old, &patched)?;
                fields::record_update(Some(old), &patched, writer)
            }
            Op::JsonPatch(patch) => {
                let old = old.as_ref().ok_or_else(not_found)?;
                let mut patched = old.clone();
                json_patch::patch(&mut patched, &patch).map_err(|e| {
                    ApiError::new(
                        Reason::Invalid,
                        format!(
                            "the server rejected our request due to an error in our request: {e}"
                        ),
                    )
                })?;
                check_patched(info, ns, name, old, &patched)?;
                fields::record_update(Some(old), &patched, writer)
            }
            Op::Apply { config, force } => {
                check_identity(info, ns, Some(name), &config)?;
                if config["apiVersion"].as_str().is_none() || config["kind"].as_str().is_none() {
                    return Err(ApiError::bad_request(
                        "apiVersion and kind must be set in an apply configuration",
                    ));
                }
                if req.scope == Scope::Status && old.is_none() {
                    return Err(not_found());
                }
                let base = old
                    .clone()
                    .unwrap_or_else(|| with_identity(json!({}), info, ns, name));
                if let Some(rv) = config["metadata"]["resourceVersion"].as_str()
                    && old
                        .as_ref()
                        .is_none_or(|o| o["metadata"]["resourceVersion"].as_str() != Some(rv))
                {
                    return Err(ApiError::stale(&info.group, &info.plural, name));
                }
                fields::apply(&base, &config, writer, force).map_err(|conflicts| {
                    let causes: Vec<Value> = conflicts
                        .iter()
                        .map(|c| {
                            json!({
                                "reason": "FieldManagerConflict",
                                "message": format!("conflict with \"{}\" using {}", c.manager, c.api_version),
                                "field": c.field,
                            })
                        })
                        .collect();
                    let mut details = json!({"name": name, "kind": info.plural, "causes": causes});
                    if !info.group.is_empty() {
                        details["group"] = json!(info.group);
                    }
                    ApiError { reason: Reason::Conflict, message: fields::conflict_message(&conflicts), details: Some(details) }
                })?
            }
        };
        let new_object = old.is_none();

        // The status subresource and the main resource each see only their part.
        match (req.scope, &old) {
            (Scope::Status, None) => return Err(not_found()),
            (Scope::Status, Some(old)) => {
                let status = new.get("status").cloned();
                let managed = new["metadata"].get("managedFields").cloned();
                new = old.clone();
                set_or_remove(&mut new, "status", status);
                if let (Some(meta), Some(managed)) = (
                    new.get_mut("metadata").and_then(Value::as_object_mut),
                    managed,
                ) {
                    meta.insert("managedFields".into(), managed);
                }
            }
            (
                Scope::Main {
                    status_subresource: true,
                },
                old,
            ) => {
                let status = old.as_ref().and_then(|o| o.get("status").cloned());
                set_or_remove(&mut new, "status", status);
            }
            (
                Scope::Main {
                    status_subresource: false,
                },
                _,
            ) => {}
        }

        // Server-owned metadata.
        let generation = match &old {
            None => 1,
            Some(old) => {
                let g = old["metadata"]["generation"].as_i64().unwrap_or(1);
                if strip_meta_status(old) != strip_meta_status(&new) {
                    g + 1
                } else {
                    g
                }
            }
        };
        {
            let meta = metadata_mut(&mut new);
            match &old {
                Some(old) => {
                    for key in ["uid", "creationTimestamp", "resourceVersion"] {
                        set_or_remove_map(meta, key, old["metadata"].get(key).cloned());
                    }
                }
                None => {
                    meta.insert("uid".into(), Value::String(new_uid()));
                    meta.insert("creationTimestamp".into(), Value::String(now.clone()));
                    meta.remove("resourceVersion");
                }
            }
            if info.generation {
                meta.insert("generation".into(), json!(generation));
            } else {
                meta.remove("generation");
            }
            meta.remove("selfLink");
        }
        default_object(info, &mut new);
        validate(info, &new)?;
        if let Some(old) = &old {
            validate_update(info, old, &new)?;
        }

        if let Some(old) = &old
            && *old == new
        {
            return Ok((new, false));
        }
        if req.dry_run {
            return Ok((new, new_object));
        }
        inner.state.resource_version += 1;
        let rv = inner.state.resource_version;
        metadata_mut(&mut new).insert("resourceVersion".into(), Value::String(rv.to_string()));
        inner
            .state
            .objects
            .entry(info.storage_key())
            .or_default()
            .entry(ns_key(info, ns).to_string())
            .or_default()
            .insert(name.to_string(), new.clone());
        let kind = if new_object {
            ChangeType::Added
        } else {
            ChangeType::Modified
        };
        self.record(&mut inner, info, ns, kind, new.clone(), old);
        Ok((new, new_object))
    }

    fn record(
        &self,
        inner: &mut Inner,
        info: &ResourceInfo,
        ns: &str,
        kind: ChangeType,
        object: Value,
        previous: Option<Value>,
    ) {
        let size = approximate_size(&object) + previous.as_ref().map_or(0, approximate_size);
        let change = Arc::new(Change {
            rv: inner.state.resource_version,
            key: info.storage_key(),
            namespace: ns_key(info, ns).to_string(),
            kind,
            object,
            previous,
            size,
        });
        inner.history.push_back(change.clone());
        inner.history_bytes += size;
        while inner.history.len() > HISTORY || inner.history_bytes > HISTORY_BYTES {
            match inner.history.pop_front() {
                Some(dropped) => {
                    inner.oldest = dropped.rv;
                    inner.history_bytes -= dropped.size;
                }
                None => break,
            }
        }
        self.dirty.store(true, Ordering::SeqCst);
        let _ = self.changes.send(change);
    }

    /// Deletes an object and what depends on it: everything in a deleted
    /// namespace, and (unless `orphan`) objects whose ownerReferences name
    /// it. Returns the deleted object.
    pub fn delete(
        &self,
        info: &ResourceInfo,
        ns: &str,
        name: &str,
        dry_run: bool,
        orphan: bool,
    ) -> Result<Value, ApiError> {
        let mut inner = self.lock();
        let Some(old) = lookup(&inner.state, info, ns, name).cloned() else {
            return Err(ApiError::not_found(&info.group, &info.plural, name));
        };
        if info.group.is_empty() && info.plural == "namespaces" && SYSTEM_NAMESPACES.contains(&name)
        {
            return Err(ApiError {
                reason: Reason::Forbidden,
                message: format!(
                    "namespaces \"{name}\" is forbidden: this namespace may not be deleted"
                ),
                details: Some(json!({"name": name, "kind": "namespaces"})),
            });
        }
        if dry_run {
            return Ok(old);
        }
        let all = self.all_resources_locked(&inner);
        let mut queue = vec![(info.clone(), ns_key(info, ns).to_string(), name.to_string())];
        let mut first = None;
        while let Some((info, ns, name)) = queue.pop() {
            let removed = inner
                .state
                .objects
                .get_mut(&info.storage_key())
                .and_then(|m| m.get_mut(&ns))
                .and_then(|m| m.remove(&name));
            let Some(mut object) = removed else { continue };
            inner.state.resource_version += 1;
            let rv = inner.state.resource_version;
            metadata_mut(&mut object)
                .insert("resourceVersion".into(), Value::String(rv.to_string()));
            let uid = object["metadata"]["uid"]
                .as_str()
                .unwrap_or_default()
                .to_string();
            inner.state.marks.retain(|k, _| !k.ends_with(&uid));
            if info.plural == "namespaces" && info.group.is_empty() {
                for r in all.iter().filter(|r| r.namespaced) {
                    if let Some(objects) = inner
                        .state
                        .objects
                        .get(&r.storage_key())
                        .and_then(|m| m.get(&name))
                    {
                        queue.extend(objects.keys().map(|n| (r.clone(), name.clone(), n.clone())));
                    }
                }
            }
            // Deleting a CRD deletes every object of its resources.
            if info.plural == "customresourcedefinitions" && info.group == "apiextensions.k8s.io" {
                for r in resources::from_crd(&object) {
                    for (obj_ns, objects) in inner
                        .state
                        .objects
                        .get(&r.storage_key())
                        .into_iter()
                        .flatten()
                    {
                        queue.extend(
                            objects
                                .keys()
                                .map(|n| (r.clone(), obj_ns.clone(), n.clone())),
                        );
                    }
                }
            }
            if !orphan && !uid.is_empty() {
                for r in &all {
                    for (dep_ns, objects) in inner
                        .state
                        .objects
                        .get(&r.storage_key())
                        .into_iter()
                        .flatten()
                    {
                        for (dep_name, dep) in objects {
                            let owned =
                                dep["metadata"]["ownerReferences"]
                                    .as_array()
                                    .is_some_and(|refs| {
                                        refs.iter().any(|o| o["uid"].as_str() == Some(&uid))
                                    });
                            if owned {
                                queue.push((r.clone(), dep_ns.clone(), dep_name.clone()));
                            }
                        }
                    }
                }
            }
            self.record(
                &mut inner,
                &info,
                &ns,
                ChangeType::Deleted,
                object.clone(),
                None,
            );
            if first.is_none() {
                first = Some(object);
            }
        }
        Ok(first.unwrap_or(old))
    }

    fn all_resources_locked(&self, inner: &Inner) -> Vec<ResourceInfo> {
        let mut all = resources::builtins();
        let crd_key =
            resources::builtin("apiextensions.k8s.io", "customresourcedefinitions").storage_key();
        for crd in inner
            .state
            .objects
            .get(&crd_key)
            .and_then(|m| m.get(""))
            .into_iter()
            .flat_map(|m| m.values())
        {
            all.extend(resources::from_crd(crd));
        }
        all
    }
}

fn ns_key<'a>(info: &ResourceInfo, ns: &'a str) -> &'a str {
    if info.namespaced { ns } else { "" }
}

fn lookup<'a>(state: &'a State, info: &ResourceInfo, ns: &str, name: &str) -> Option<&'a Value> {
    state
        .objects
        .get(&info.storage_key())?
        .get(ns_key(info, ns))?
        .get(name)
}

fn metadata_mut(obj: &mut Value) -> &mut Map<String, Value> {
    if !obj.is_object() {
        *obj = Value::Object(Map::new());
    }
    let Value::Object(map) = obj else {
        unreachable!("made an object above")
    };
    let meta = map
        .entry("metadata")
        .or_insert_with(|| Value::Object(Map::new()));
    if !meta.is_object() {
        *meta = Value::Object(Map::new());
    }
    match meta {
        Value::Object(m) => m,
        _ => unreachable!("made an object above"),
    }
}

/// Sets `value` at `path`, turning whatever is in the way into objects
/// (client data can hold a string where an object belongs; indexing it
/// would panic).
pub fn set_path(obj: &mut Value, path: &[&str], value: Value) {
    let mut cur = obj;
    for key in path {
        if !cur.is_object() {
            *cur = Value::Object(Map::new());
        }
        let Value::Object(map) = cur else { return };
        cur = map.entry((*key).to_string()).or_insert(Value::Null);
    }
    *cur = value;
}

fn set_or_remove(obj: &mut Value, key: &str, value: Option<Value>) {
    if let Some(map) = obj.as_object_mut() {
        set_or_remove_map(map, key, value);
    }
}

fn set_or_remove_map(map: &mut Map<String, Value>, key: &str, value: Option<Value>) {
    match value {
        Some(v) => {
            map.insert(key.to_string(), v);
        }
        None => {
            map.remove(key);
        }
    }
}

/// The object without metadata and status: what `generation` tracks.
fn strip_meta_status(obj: &Value) -> Value {
    let mut out = obj.clone();
    if let Some(map) = out.as_object_mut() {
        map.remove("metadata");
        map.remove("status");
    }
    out
}

/// Sets apiVersion, kind, name and namespace from the URL.
fn with_identity(mut body: Value, info: &ResourceInfo, ns: &str, name: &str) -> Value {
    if let Some(map) = body.as_object_mut() {
        map.insert("apiVersion".into(), Value::String(info.api_version()));
        map.insert("kind".into(), Value::String(info.kind.clone()));
    }
    let meta = metadata_mut(&mut body);
    meta.insert("name".into(), Value::String(name.to_string()));
    if info.namespaced {
        meta.insert("namespace".into(), Value::String(ns.to_string()));
    } else {
        meta.remove("namespace");
    }
    body
}

/// The body's apiVersion, kind, namespace and name must agree with the URL.
fn check_identity(
    info: &ResourceInfo,
    ns: &str,
    name: Option<&str>,
    body: &Value,
) -> Result<(), ApiError> {
    if !body.is_object() {
        return Err(ApiError::bad_request(
            "the request body must be a JSON object",
        ));
    }
    if let Some(v) = body.get("apiVersion").and_then(Value::as_str)
        && v != info.api_version()
    {
        return Err(ApiError::bad_request(format!(
            "the API version in the data ({v}) does not match the expected API version ({})",
            info.api_version()
        )));
    }
    if let Some(k) = body.get("kind").and_then(Value::as_str)
        && k != info.kind
    {
        return Err(ApiError::bad_request(format!(
            "the kind in the data ({k}) does not match the expected kind ({})",
            info.kind
        )));
    }
    if info.namespaced
        && let Some(body_ns) = body["metadata"]["namespace"].as_str()
        && body_ns != ns
    {
        return Err(ApiError::bad_request(
            "the namespace of the provided object does not match the namespace sent on the request",
        ));
    }
    if let (Some(name), Some(body_name)) = (name, body["metadata"]["name"].as_str())
        && body_name != name
    {
        return Err(ApiError::bad_request(
            "the name of the object does not match the name on the URL",
        ));
    }
    Ok(())
}

/// A resourceVersion in a PUT body (or patch result) is a precondition.
fn check_precondition(
    info: &ResourceInfo,
    name: &str,
    old: &Value,
    body: &Value,
) -> Result<(), ApiError> {
    match body["metadata"]["resourceVersion"].as_str() {
        Some(rv) if !rv.is_empty() && Some(rv) != old["metadata"]["resourceVersion"].as_str() => {
            Err(ApiError::stale(&info.group, &info.plural, name))
        }
        _ => Ok(()),
    }
}

fn check_patched(
    info: &ResourceInfo,
    ns: &str,
    name: &str,
    old: &Value,
    patched: &Value,
) -> Result<(), ApiError> {
    check_identity(info, ns, Some(name), patched)?;
    check_precondition(info, name, old, patched)
}

/// A few of the defaults the real API server fills in.
fn default_object(info: &ResourceInfo, obj: &mut Value) {
    match (info.group.as_str(), info.kind.as_str()) {
        ("", "Namespace") => {
            if obj["spec"]["finalizers"].is_null() {
                obj["spec"] = json!({"finalizers": ["kubernetes"]});
            }
            obj["status"] = json!({"phase": "Active"});
        }
        ("", "Secret") => {
            // stringData is write-only: merged into data (base64) on write.
            if let Some(Value::Object(string_data)) =
                obj.as_object_mut().and_then(|m| m.remove("stringData"))
            {
                use base64::Engine as _;
                for (key, value) in string_data {
                    let text = value
                        .as_str()
                        .map(str::to_string)
                        .unwrap_or_else(|| value.to_string());
                    let encoded = base64::engine::general_purpose::STANDARD.encode(text);
                    set_path(obj, &["data", &key], Value::String(encoded));
                }
            }
        }
        ("apiextensions.k8s.io", "CustomResourceDefinition") => {
            let names = obj["spec"]["names"].clone();
            let stored: Vec<Value> = obj["spec"]["versions"]
                .as_array()
                .into_iter()
                .flatten()
                .filter(|v| v["storage"].as_bool() == Some(true))
                .map(|v| v["name"].clone())
                .collect();
            // Keep the condition times stable so a re-apply is a no-op.
            let since = obj["status"]["conditions"][0]["lastTransitionTime"]
                .as_str()
                .map(str::to_string)
                .unwrap_or_else(now_rfc3339);
            obj["status"] = json!({
                "acceptedNames": names,
                "storedVersions": stored,
                "conditions": [
                    {"type": "NamesAccepted", "status": "True", "reason": "NoConflicts",
                     "message": "no conflicts found", "lastTransitionTime": since},
                    {"type": "Established", "status": "True", "reason": "InitialNamesAccepted",
                     "message": "the initial names have been accepted", "lastTransitionTime": since},
                ],
            });
        }
        _ => {}
    }
}

/// RFC 1123 DNS label: at most 63 lower-case alphanumerics or '-', starting
/// and ending alphanumeric.
pub fn is_dns_label(s: &str) -> bool {
    !s.is_empty()
        && s.len() <= 63
        && s.bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
        && !s.starts_with('-')
        && !s.ends_with('-')
}

/// RFC 1123 DNS subdomain: dot-separated labels, at most 253 characters.
pub fn is_dns_subdomain(s: &str) -> bool {
    !s.is_empty() && s.len() <= 253 && s.split('.').all(is_dns_label)
}

const SUBDOMAIN_MSG: &str = "a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.', \
and must start and end with an alphanumeric character (e.g. 'example.com', regex used for validation is \
'[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*')";
const LABEL_MSG: &str = "a lowercase RFC 1123 label must consist of lower case alphanumeric characters or '-', and must \
start and end with an alphanumeric character (e.g. 'my-name',  or '123-abc', regex used for validation is \
'[a-z0-9]([-a-z0-9]*[a-z0-9])?')";

/// The validation the real API server does that paas can trip over.
fn validate(info: &ResourceInfo, obj: &Value) -> Result<(), ApiError> {
    let name = obj["metadata"]["name"].as_str().unwrap_or_default();
    let mut causes: Vec<(String, String)> = Vec::new();
    let label_only = matches!(
        (info.group.as_str(), info.kind.as_str()),
        ("", "Namespace" | "Service")
    );
    if name.is_empty() {
        causes.push((
            "metadata.name".into(),
            "Required value: name or generateName is required".into(),
        ));
    } else if label_only && !is_dns_label(name) {
        causes.push((
            "metadata.name".into(),
            format!("Invalid value: {name:?}: {LABEL_MSG}"),
        ));
    } else if !label_only && !is_dns_subdomain(name) {
        causes.push((
            "metadata.name".into(),
            format!("Invalid value: {name:?}: {SUBDOMAIN_MSG}"),
        ));
    }
    for key in ["labels", "annotations"] {
        let value = &obj["metadata"][key];
        let strings = value
            .as_object()
            .is_some_and(|m| m.values().all(Value::is_string));
        if !value.is_null() && !strings {
            causes.push((
                format!("metadata.{key}"),
                "Invalid value: must be a map of string keys to string values".into(),
            ));
        }
    }
    if let Some(labels) = obj["metadata"]["labels"].as_object() {
        for (k, v) in labels {
            let text = format!("{k}={}", v.as_str().unwrap_or("<non-string>"));
            if !v.is_string() || LabelSelector::parse(&text).is_err() {
                causes.push((
                    "metadata.labels".to_string(),
                    format!("Invalid value: {:?}: invalid label", text),
                ));
            }
        }
    }
    match (info.group.as_str(), info.kind.as_str()) {
        ("apiextensions.k8s.io", "CustomResourceDefinition") => {
            causes.extend(resources::validate_crd(obj))
        }
        ("apps", "Deployment" | "ReplicaSet") => {
            let replicas = &obj["spec"]["replicas"];
            if !replicas.is_null()
                && !replicas
                    .as_i64()
                    .is_some_and(|r| (0..=i64::from(i32::MAX)).contains(&r))
            {
                causes.push((
                    "spec.replicas".into(),
                    format!("Invalid value: {replicas}: must be a non-negative 32-bit integer"),
                ));
            }
            let template_meta = &obj["spec"]["template"]["metadata"];
            if !template_meta.is_null() && !template_meta.is_object() {
                causes.push((
                    "spec.template.metadata".into(),
                    "Invalid value: must be an object".into(),
                ));
            }
            let selector = &obj["spec"]["selector"]["matchLabels"];
            let template_labels = &obj["spec"]["template"]["metadata"]["labels"];
            match selector.as_object() {
                None => causes.push(("spec.selector".into(), "Required value".into())),
                Some(sel) => {
                    if !sel.iter().all(|(k, v)| template_labels.get(k) == Some(v)) {
                        causes.push((
                            "spec.template.metadata.labels".into(),
                            format!("Invalid value: {template_labels}: `selector` does not match template `labels`"),
                        ));
                    }
                }
            }
            validate_pod_spec(
                &obj["spec"]["template"]["spec"],
                "spec.template.spec",
                &mut causes,
            );
        }
        ("", "ConfigMap" | "Secret") => {
            let size = data_size(obj);
            if size > MAX_DATA_SIZE {
                causes.push((
                    "[]".into(),
                    format!("Too long: must have at most {MAX_DATA_SIZE} bytes"),
                ));
            }
        }
        ("batch", "Job") => validate_pod_spec(
            &obj["spec"]["template"]["spec"],
            "spec.template.spec",
            &mut causes,
        ),
        ("", "Pod") => validate_pod_spec(&obj["spec"], "spec", &mut causes),
        _ => {}
    }
    if causes.is_empty() {
        Ok(())
    } else {
        Err(ApiError::invalid(&info.group, &info.kind, name, &causes))
    }
}

fn validate_pod_spec(spec: &Value, at: &str, causes: &mut Vec<(String, String)>) {
    let containers = spec["containers"]
        .as_array()
        .map(Vec::as_slice)
        .unwrap_or_default();
    if containers.is_empty() {
        causes.push((format!("{at}.containers"), "Required value".into()));
    }
    for (i, c) in containers.iter().enumerate() {
        if !c["name"].as_str().is_some_and(is_dns_label) {
            causes.push((
                format!("{at}.containers[{i}].name"),
                "Invalid value: must be a DNS label".into(),
            ));
        }
        if c["image"].as_str().is_none_or(str::is_empty) {
            causes.push((
                format!("{at}.containers[{i}].image"),
                "Required value".into(),
            ));
        }
    }
}

/// The most data a ConfigMap or Secret may hold (keys plus values).
pub const MAX_DATA_SIZE: usize = 1024 * 1024;

/// The size the API server counts for a ConfigMap's or Secret's data:
/// keys plus values, base64 values counted decoded.
fn data_size(obj: &Value) -> usize {
    let secret = obj["kind"] == "Secret";
    let mut size = 0;
    for field in ["data", "binaryData"] {
        for (key, value) in obj[field].as_object().into_iter().flatten() {
            let len = value.as_str().map_or(0, str::len);
            let base64 = field == "binaryData" || secret;
            let padding = value
                .as_str()
                .map_or(0, |v| v.bytes().rev().take_while(|b| *b == b'=').count());
            size += key.len()
                + if base64 {
                    (len / 4 * 3).saturating_sub(padding)
                } else {
                    len
                };
        }
    }
    size
}

/// The size of an object's JSON, counted without serialising it.
fn approximate_size(value: &Value) -> usize {
    match value {
        Value::Null | Value::Bool(_) | Value::Number(_) => 8,
        Value::String(s) => s.len() + 2,
        Value::Array(items) => 2 + items.iter().map(approximate_size).sum::<usize>(),
        Value::Object(map) => {
            2 + map
                .iter()
                .map(|(k, v)| k.len() + 3 + approximate_size(v))
                .sum::<usize>()
        }
    }
}

/// Fields the real API server refuses to change once set.
fn validate_update(info: &ResourceInfo, old: &Value, new: &Value) -> Result<(), ApiError> {
    let mut causes: Vec<(String, String)> = Vec::new();
    let mut immutable = |path: &[&str]| {
        let get = |obj: &Value| path.iter().fold(obj, |cur, key| &cur[*key]).clone();
        let (before, after) = (get(old), get(new));
        if before != after {
            causes.push((
                path.join("."),
                format!("Invalid value: {after}: field is immutable"),
            ));
        }
    };
    match (info.group.as_str(), info.kind.as_str()) {
        ("apps", "Deployment" | "ReplicaSet") => immutable(&["spec", "selector"]),
        ("batch", "Job") => {
            immutable(&["spec", "selector"]);
            immutable(&["spec", "template"]);
            immutable(&["spec", "completionMode"]);
        }
        ("", "Secret") => immutable(&["type"]),
        _ => {}
    }
    if matches!(
        (info.group.as_str(), info.kind.as_str()),
        ("", "ConfigMap" | "Secret")
    ) && old["immutable"].as_bool() == Some(true)
    {
        for field in ["data", "binaryData", "immutable"] {
            if old[field] != new[field] {
                causes.push((
                    field.to_string(),
                    "Forbidden: field is immutable when `immutable` is set".into(),
                ));
            }
        }
    }
    if causes.is_empty() {
        Ok(())
    } else {
        let name = new["metadata"]["name"].as_str().unwrap_or_default();
        Err(ApiError::invalid(&info.group, &info.kind, name, &causes))
    }
}
