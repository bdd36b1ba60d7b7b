//! `helmgen impact`: the blast radius of a platform config change.
//!
//! Every app.toml of a corpus is rendered in every environment with the base
//! and the head config (through the same [`render_source`] as the service),
//! and the two renders are compared object by object (`Kind/name`) as JSON
//! values. The report lists, per service, environment and kind, the objects
//! added, removed and changed (with the changed field paths), and flags:
//!
//! - **immutable-field changes**: fields the API server refuses to update in
//!   place (Deployment `spec.selector`, Service `spec.clusterIP` and a type
//!   change to or from `ExternalName`, Job `spec.template`, data of an
//!   `immutable: true` ConfigMap, ...): applying them needs a delete and
//!   re-create;
//! - **security regressions**: a hardening setting removed or weakened
//!   (`runAsNonRoot`, `readOnlyRootFilesystem`, `allowPrivilegeEscalation`,
//!   `capabilities.drop: [ALL]`, `seccompProfile`, `automountServiceAccountToken`,
//!   resource limits, a NetworkPolicy or one of its policy types removed, a
//!   NetworkPolicy that allows more peers or ports);
//! - **render failures**: renders that fail with the head but not with the
//!   base, also where the base has no such environment (a new environment);
//!   renders that fail with both configs are listed apart and count as a
//!   change only when the kind of the first error differs.
//!
//! Objects are compared only where both configs have the environment: an
//! environment added or removed wholesale is reported as such, not as every
//! one of its objects added or removed.
//!
//! Only [`load_corpus`] touches the file system; [`analyse`] is pure.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use app_toml::Date;
use manifests::pipeline::{Request, render_source};
use platform_config::Platform;
use serde::Serialize;
use serde_json::Value;

/// Errors of `helmgen impact` before any comparison (exit code 2).
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// A file or directory of the corpus cannot be read.
    #[error("cannot read {path}: {source}")]
    Read {
        /// The path.
        path: PathBuf,
        /// The cause.
        source: std::io::Error,
    },
    /// The corpus holds no app.toml.
    #[error("no app.toml files (*.toml) under {0}")]
    EmptyCorpus(PathBuf),
}

/// One app.toml of the corpus.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CorpusFile {
    /// Path relative to the corpus directory, with `/` separators.
    pub path: String,
    /// Service name used when the file has no `name` (the directory of an
    /// `app.toml`, else the file stem).
    pub fallback_name: String,
    /// The bytes.
    pub source: Vec<u8>,
}

/// A corpus read from disk, and what the walk left out.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Corpus {
    /// The app.toml files, sorted by path.
    pub files: Vec<CorpusFile>,
    /// Symbolic links to directories, not followed (a link can make a loop,
    /// or count one service twice).
    pub skipped: Vec<PathBuf>,
}

/// Reads every `*.toml` file under `dir` (recursively, sorted by path);
/// symbolic links to directories are not followed (see [`walk_corpus`]).
pub fn load_corpus(dir: &Path) -> Result<Vec<CorpusFile>, Error> {
    walk_corpus(dir).map(|c| c.files)
}

/// Reads every `*.toml` file under `dir` (recursively, sorted by path).
/// Symbolic links to files are read; symbolic links to directories are not
/// followed and are listed in [`Corpus::skipped`].
pub fn walk_corpus(dir: &Path) -> Result<Corpus, Error> {
    let mut files = Vec::new();
    let mut skipped = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        let entries = std::fs::read_dir(&d).map_err(|source| Error::Read {
            path: d.clone(),
            source,
        })?;
        for entry in entries {
            let entry = entry.map_err(|source| Error::Read {
                path: d.clone(),
                source,
            })?;
            let path = entry.path();
            let kind = entry.file_type().map_err(|source| Error::Read {
                path: path.clone(),
                source,
            })?;
            if kind.is_dir() {
                stack.push(path);
            } else if kind.is_symlink() && path.is_dir() {
                skipped.push(path);
            } else if path.extension().is_some_and(|e| e == "toml") {
                files.push(path);
            }
        }
    }
    files.sort();
    skipped.sort();
    if files.is_empty() {
        return Err(Error::EmptyCorpus(dir.to_path_buf()));
    }
    let files = files
        .into_iter()
        .map(|path| {
            let source = std::fs::read(&path).map_err(|source| Error::Read {
                path: path.clone(),
                source,
            })?;
            let rel = path.strip_prefix(dir).unwrap_or(&path);
            let rel = rel
                .components()
                .map(|c| c.as_os_str().to_string_lossy())
                .collect::<Vec<_>>()
                .join("/");
            let stem = path
                .file_stem()
                .map(|s| s.to_string_lossy().into_owned())
                .unwrap_or_default();
            let fallback_name = if stem == "app" {
                path.parent()
                    .and_then(|p| p.file_name())
                    .map(|s| s.to_string_lossy().into_owned())
                    .unwrap_or(stem)
            } else {
                stem
            };
            Ok(CorpusFile {
                path: rel,
                fallback_name,
                source,
            })
        })
        .collect::<Result<Vec<_>, Error>>()?;
    Ok(Corpus { files, skipped })
}

/// Outcome of one render of one service in one environment.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "status", rename_all = "kebab-case")]
pub enum Outcome {
    /// Rendered; the number of objects.
    Ok {
        /// Objects rendered.
        objects: usize,
    },
    /// The render failed; the generator's message.
    Failed {
        /// The class of the first error (`unknown-key`, `policy`, ...): two
        /// failures of the same kind are the same failure.
        kind: String,
        /// Why.
        error: String,
    },
    /// The environment does not exist in this config.
    Absent,
}

/// A field path that changed in one object.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ObjectChange {
    /// `Kind/name`.
    pub object: String,
    /// Changed field paths (`spec.template.spec.containers[app].image`).
    pub paths: Vec<String>,
}

/// A flagged change (immutable field or security regression).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Finding {
    /// `Kind/name`.
    pub object: String,
    /// Field path.
    pub path: String,
    /// What happens, `before -> after`.
    pub message: String,
}

/// The comparison of one service in one environment.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct EnvImpact {
    /// Environment.
    pub environment: String,
    /// Render with the base config.
    pub base: Outcome,
    /// Render with the head config.
    pub head: Outcome,
    /// Objects only the head renders (`Kind/name`).
    pub added: Vec<String>,
    /// Objects only the base renders.
    pub removed: Vec<String>,
    /// Objects in both that differ.
    pub changed: Vec<ObjectChange>,
    /// Changes the API server will refuse to apply in place.
    pub immutable: Vec<Finding>,
    /// Hardening removed or weakened.
    pub security: Vec<Finding>,
}

impl EnvImpact {
    /// Whether anything differs between base and head. Failing with both
    /// configs is no change unless the kind of the error changes (a message
    /// that only names other values is the same failure).
    pub fn is_changed(&self) -> bool {
        let outcome_changed = match (&self.base, &self.head) {
            (Outcome::Failed { kind: a, .. }, Outcome::Failed { kind: b, .. }) => a != b,
            (a, b) => a != b,
        };
        outcome_changed
            || !self.added.is_empty()
            || !self.removed.is_empty()
            || !self.changed.is_empty()
    }

    /// Whether the head fails where the base did not: the base rendered,
    /// or had no such environment (a new environment that fails is a new
    /// failure too).
    pub fn is_new_failure(&self) -> bool {
        !matches!(self.base, Outcome::Failed { .. }) && matches!(self.head, Outcome::Failed { .. })
    }

    /// Whether both configs fail to render.
    pub fn fails_with_both(&self) -> bool {
        matches!(self.base, Outcome::Failed { .. }) && matches!(self.head, Outcome::Failed { .. })
    }
}

/// One service of the corpus.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ServiceImpact {
    /// File, relative to the corpus.
    pub file: String,
    /// Service name (from the file, else the fallback).
    pub service: String,
    /// Environments where something changes (unchanged ones are left out).
    pub environments: Vec<EnvImpact>,
}

/// Totals of a report.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Summary {
    /// Services in the corpus.
    pub services: usize,
    /// Service × environment renders compared.
    pub renders: usize,
    /// Services with at least one change.
    pub services_changed: usize,
    /// Objects added (over all renders).
    pub objects_added: usize,
    /// Objects removed.
    pub objects_removed: usize,
    /// Objects changed.
    pub objects_changed: usize,
    /// Immutable-field changes.
    pub immutable_changes: usize,
    /// Security regressions.
    pub security_regressions: usize,
    /// Renders that fail with the head but not with the base.
    pub new_failures: usize,
    /// Renders that fail with both configs.
    pub failing_with_both: usize,
}

/// The whole impact report.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Report {
    /// `version` and version id of the base config.
    pub base: String,
    /// `version` and version id of the head config.
    pub head: String,
    /// Totals.
    pub summary: Summary,
    /// Services with changes, in corpus order.
    pub services: Vec<ServiceImpact>,
    /// Renders that fail with both configs (listed so that they are not
    /// forgotten; a change only when the kind of the error differs).
    pub failing: Vec<Failing>,
}

/// A render that fails with both configs.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Failing {
    /// File, relative to the corpus.
    pub file: String,
    /// Service name (from the file, else the fallback).
    pub service: String,
    /// Environment.
    pub environment: String,
    /// First line of the head's error.
    pub error: String,
}

impl Report {
    /// Whether anything changes (exit code 1 of `helmgen impact`).
    pub fn is_changed(&self) -> bool {
        !self.services.is_empty()
    }
}

/// The release context of every impact render: fixed, so that only the
/// platform config differs between base and head.
const IMPACT_TAG: &str = "impact";

fn render_env(
    file: &CorpusFile,
    platform: &Platform,
    env: &str,
    today: Date,
) -> (Outcome, BTreeMap<String, Value>, Option<String>) {
    if platform.environment(env).is_none() {
        return (Outcome::Absent, BTreeMap::new(), None);
    }
    let request = Request {
        file_name: file.path.clone(),
        service: Some(file.fallback_name.clone()),
        environment: env.to_owned(),
        cluster: None,
        version: 1,
        image_tag: IMPACT_TAG.to_owned(),
        strategy: None,
        previous_version: None,
        canary_weight: None,
        explain: false,
        today,
    };
    match render_source(&file.source, platform, &request) {
        Ok(rendered) => {
            let mut objects = BTreeMap::new();
            let mut service = None;
            for staged in &rendered.objects {
                if service.is_none() && staged.object.kind() == "Namespace" {
                    service = Some(staged.object.name().to_owned());
                }
                let value = serde_json::to_value(&staged.object).unwrap_or(Value::Null);
                objects.insert(staged.object.key(), value);
            }
            (
                Outcome::Ok {
                    objects: objects.len(),
                },
                objects,
                service,
            )
        }
        Err(failure) => (
            Outcome::Failed {
                kind: failure_kind(&failure),
                error: failure.to_string(),
            },
            BTreeMap::new(),
            None,
        ),
    }
}

/// The class of a failure's first error.
fn failure_kind(failure: &manifests::pipeline::Failure) -> String {
    use manifests::pipeline::Failure;
    match failure {
        Failure::App(app_toml::Error::Invalid(d)) => d
            .items
            .first()
            .map(|d| d.kind.as_str().to_owned())
            .unwrap_or_else(|| "invalid".to_owned()),
        Failure::App(app_toml::Error::UnknownEnvironment { .. }) => "unknown-environment".into(),
        Failure::Render(manifests::Error::Context { field, .. }) => format!("context-{field}"),
        Failure::Render(manifests::Error::Policy(_)) => "policy".into(),
        Failure::Render(manifests::Error::Serialize(_)) => "serialize".into(),
    }
}

/// Renders every file in every environment of either config with both
/// configs and compares the results.
pub fn analyse(corpus: &[CorpusFile], base: &Platform, head: &Platform, today: Date) -> Report {
    let envs: BTreeSet<&String> = base
        .environments
        .keys()
        .chain(head.environments.keys())
        .collect();
    let mut summary = Summary {
        services: corpus.len(),
        ..Summary::default()
    };
    let mut services = Vec::new();
    let mut failing = Vec::new();
    for file in corpus {
        let mut failing_here = Vec::new();
        let mut name = None;
        let mut changed_envs = Vec::new();
        for env in &envs {
            summary.renders += 1;
            let (base_outcome, base_objects, base_name) = render_env(file, base, env, today);
            let (head_outcome, head_objects, head_name) = render_env(file, head, env, today);
            name = name.or(base_name).or(head_name);
            let mut imp = EnvImpact {
                environment: (*env).clone(),
                base: base_outcome,
                head: head_outcome,
                added: Vec::new(),
                removed: Vec::new(),
                changed: Vec::new(),
                immutable: Vec::new(),
                security: Vec::new(),
            };
            // Objects are compared only when both sides rendered: a failed
            // render has no objects, and an environment that only one config
            // has is added or removed as a whole (its outcome lines say so);
            // listing every object of the other side would bury that.
            let rendered = |o: &Outcome| matches!(o, Outcome::Ok { .. });
            if rendered(&imp.base) && rendered(&imp.head) {
                compare(&base_objects, &head_objects, &mut imp);
            }
            if imp.fails_with_both() {
                summary.failing_with_both += 1;
                if let Outcome::Failed { error, .. } = &imp.head {
                    failing_here.push(((*env).clone(), first_line(error).to_owned()));
                }
            }
            if imp.is_changed() {
                summary.objects_added += imp.added.len();
                summary.objects_removed += imp.removed.len();
                summary.objects_changed += imp.changed.len();
                summary.immutable_changes += imp.immutable.len();
                summary.security_regressions += imp.security.len();
                summary.new_failures += usize::from(imp.is_new_failure());
                changed_envs.push(imp);
            }
        }
        let service = name.unwrap_or_else(|| file.fallback_name.clone());
        failing.extend(
            failing_here
                .into_iter()
                .map(|(environment, error)| Failing {
                    file: file.path.clone(),
                    service: service.clone(),
                    environment,
                    error,
                }),
        );
        if !changed_envs.is_empty() {
            summary.services_changed += 1;
            services.push(ServiceImpact {
                file: file.path.clone(),
                service,
                environments: changed_envs,
            });
        }
    }
    Report {
        base: format!("{} ({})", base.version, base.version_id()),
        head: format!("{} ({})", head.version, head.version_id()),
        summary,
        services,
        failing,
    }
}

fn first_line(text: &str) -> &str {
    text.lines().next().unwrap_or_default()
}

fn compare(base: &BTreeMap<String, Value>, head: &BTreeMap<String, Value>, imp: &mut EnvImpact) {
    for (key, b) in base {
        match head.get(key) {
            None => {
                imp.removed.push(key.clone());
                if kind_of(key) == "NetworkPolicy" {
                    imp.security.push(Finding {
                        object: key.clone(),
                        path: String::new(),
                        message: "NetworkPolicy removed".to_owned(),
                    });
                }
            }
            Some(h) if h != b => {
                let (paths, immutable, security) = changes(key, b, h);
                imp.immutable.extend(immutable);
                imp.security.extend(security);
                imp.changed.push(ObjectChange {
                    object: key.clone(),
                    paths,
                });
            }
            Some(_) => {}
        }
    }
    imp.added
        .extend(head.keys().filter(|k| !base.contains_key(*k)).cloned());
}

/// The immutable-field changes and security regressions between two
/// versions of one object (`Kind/name`), as JSON values.
pub fn findings(key: &str, base: &Value, head: &Value) -> (Vec<Finding>, Vec<Finding>) {
    let (_, immutable, security) = changes(key, base, head);
    (immutable, security)
}

/// The changed paths of one object and what they imply.
fn changes(key: &str, base: &Value, head: &Value) -> (Vec<String>, Vec<Finding>, Vec<Finding>) {
    let mut paths = Vec::new();
    diff(&mut String::new(), base, head, &mut paths);
    let immutable = immutable_findings(key, base, head, &paths);
    (paths, immutable, security_findings(key, base, head))
}

fn kind_of(key: &str) -> &str {
    key.split('/').next().unwrap_or_default()
}

// ---- structural diff ---------------------------------------------------

fn push_key(path: &mut String, key: &str) {
    let plain = !key.is_empty()
        && key
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-');
    if plain {
        if !path.is_empty() {
            path.push('.');
        }
        path.push_str(key);
    } else {
        let _ = write!(path, "[{key:?}]");
    }
}

/// Elements of an array of objects that all have a distinct string `name`
/// (containers, ports, volumes, env): matched by name rather than position,
/// so that inserting one does not report every later one as changed.
fn by_name(items: &[Value]) -> Option<BTreeMap<&str, &Value>> {
    let mut map = BTreeMap::new();
    for item in items {
        let name = item.get("name")?.as_str()?;
        if map.insert(name, item).is_some() {
            return None;
        }
    }
    Some(map)
}

fn diff(path: &mut String, a: &Value, b: &Value, out: &mut Vec<String>) {
    if a == b {
        return;
    }
    let len = path.len();
    match (a, b) {
        (Value::Object(x), Value::Object(y)) => {
            let keys: BTreeSet<&String> = x.keys().chain(y.keys()).collect();
            for key in keys {
                push_key(path, key);
                diff(
                    path,
                    x.get(key).unwrap_or(&Value::Null),
                    y.get(key).unwrap_or(&Value::Null),
                    out,
                );
                path.truncate(len);
            }
        }
        (Value::Array(x), Value::Array(y)) => {
            if let (Some(mx), Some(my)) = (by_name(x), by_name(y)) {
                let names: BTreeSet<&str> = mx.keys().chain(my.keys()).copied().collect();
                for name in names {
                    let _ = write!(path, "[{name}]");
                    diff(
                        path,
                        mx.get(name).copied().unwrap_or(&Value::Null),
                        my.get(name).copied().unwrap_or(&Value::Null),
                        out,
                    );
                    path.truncate(len);
                }
            } else if x.len() == y.len() {
                for (i, (p, q)) in x.iter().zip(y).enumerate() {
                    let _ = write!(path, "[{i}]");
                    diff(path, p, q, out);
                    path.truncate(len);
                }
            } else {
                out.push(path.clone());
            }
        }
        _ => out.push(path.clone()),
    }
}

fn under(path: &str, prefix: &str) -> bool {
    path.strip_prefix(prefix)
        .is_some_and(|rest| rest.is_empty() || rest.starts_with('.') || rest.starts_with('['))
}

/// Field paths (prefixes) the API server refuses to change, by kind.
fn immutable_prefixes(kind: &str) -> &'static [&'static str] {
    match kind {
        "Deployment" | "DaemonSet" | "ReplicaSet" => &["spec.selector"],
        "StatefulSet" => &[
            "spec.selector",
            "spec.serviceName",
            "spec.volumeClaimTemplates",
            "spec.podManagementPolicy",
        ],
        "Job" => &["spec.selector", "spec.template", "spec.completionMode"],
        "Service" => &["spec.clusterIP", "spec.clusterIPs"],
        "PersistentVolumeClaim" => &[
            "spec.storageClassName",
            "spec.volumeName",
            "spec.accessModes",
        ],
        _ => &[],
    }
}

fn show(v: Option<&Value>) -> String {
    match v {
        None | Some(Value::Null) => "(unset)".to_owned(),
        Some(v) => v.to_string(),
    }
}

fn at<'a>(v: &'a Value, path: &[&str]) -> Option<&'a Value> {
    path.iter()
        .try_fold(v, |v, k| v.get(*k))
        .filter(|v| !v.is_null())
}

fn immutable_findings(key: &str, base: &Value, head: &Value, paths: &[String]) -> Vec<Finding> {
    let kind = kind_of(key);
    let mut out = Vec::new();
    for prefix in immutable_prefixes(kind) {
        if paths.iter().any(|p| under(p, prefix)) {
            let parts: Vec<&str> = prefix.split('.').collect();
            let message = if *prefix == "spec.template" {
                "the pod template of a Job cannot change; the Job must be re-created".to_owned()
            } else {
                format!("{} -> {}", show(at(base, &parts)), show(at(head, &parts)))
            };
            out.push(Finding {
                object: key.to_owned(),
                path: (*prefix).to_owned(),
                message,
            });
        }
    }
    if kind == "Service" {
        let (t0, t1) = (at(base, &["spec", "type"]), at(head, &["spec", "type"]));
        let external = Some(&Value::String("ExternalName".into()));
        if t0 != t1 && (t0 == external || t1 == external) {
            out.push(Finding {
                object: key.to_owned(),
                path: "spec.type".to_owned(),
                message: format!("{} -> {}", show(t0), show(t1)),
            });
        }
    }
    if matches!(kind, "ConfigMap" | "Secret")
        && at(base, &["immutable"]) == Some(&Value::Bool(true))
    {
        for field in ["data", "binaryData", "stringData", "immutable"] {
            if paths.iter().any(|p| under(p, field)) {
                out.push(Finding {
                    object: key.to_owned(),
                    path: field.to_owned(),
                    message: format!(
                        "`{field}` of an immutable {kind} changes; it must be re-created"
                    ),
                });
            }
        }
    }
    out
}

// ---- security regressions ----------------------------------------------

/// Where the pod spec of a workload lives.
fn pod_spec_path(kind: &str) -> Option<&'static [&'static str]> {
    match kind {
        "Deployment" | "StatefulSet" | "DaemonSet" | "ReplicaSet" | "Job" => {
            Some(&["spec", "template", "spec"])
        }
        "CronJob" => Some(&["spec", "jobTemplate", "spec", "template", "spec"]),
        "Pod" => Some(&["spec"]),
        _ => None,
    }
}

struct Checker<'a> {
    key: &'a str,
    out: Vec<Finding>,
}

impl Checker<'_> {
    fn flag(&mut self, path: String, before: Option<&Value>, after: Option<&Value>) {
        self.out.push(Finding {
            object: self.key.to_owned(),
            path,
            message: format!("{} -> {}", show(before), show(after)),
        });
    }

    /// A boolean that was `hardened` and no longer is.
    fn bool_kept(
        &mut self,
        path: String,
        before: Option<&Value>,
        after: Option<&Value>,
        hardened: bool,
    ) {
        let was = before.and_then(Value::as_bool) == Some(hardened);
        let is = after.and_then(Value::as_bool) == Some(hardened);
        if was && !is {
            self.flag(path, before, after);
        }
    }

    /// A boolean that was not `true` and now is (privileged, hostNetwork).
    fn bool_not_enabled(&mut self, path: String, before: Option<&Value>, after: Option<&Value>) {
        let was = before.and_then(Value::as_bool) == Some(true);
        let is = after.and_then(Value::as_bool) == Some(true);
        if is && !was {
            self.flag(path, before, after);
        }
    }

    fn seccomp(&mut self, path: String, before: Option<&Value>, after: Option<&Value>) {
        let confined = |v: Option<&Value>| {
            v.and_then(|v| v.get("type"))
                .and_then(Value::as_str)
                .is_some_and(|t| t == "RuntimeDefault" || t == "Localhost")
        };
        if confined(before) && !confined(after) {
            self.flag(path, before, after);
        }
    }
}

fn strings(v: Option<&Value>) -> BTreeSet<&str> {
    v.and_then(Value::as_array)
        .map(|a| a.iter().filter_map(Value::as_str).collect())
        .unwrap_or_default()
}

fn container_name(c: &Value, i: usize) -> String {
    c.get("name")
        .and_then(Value::as_str)
        .map(str::to_owned)
        .unwrap_or_else(|| i.to_string())
}

/// The containers of base and head to compare, with the label of each pair:
/// matched by name; a base container whose name the head lacks is compared
/// with the head container at the same position when that one is new too (a
/// rename: `containers[old->new]`), so a rename cannot hide a regression.
fn container_pairs<'v>(pb: &'v Value, ph: &'v Value) -> Vec<(String, &'v Value, &'v Value)> {
    let mut out = Vec::new();
    for field in ["initContainers", "containers"] {
        let list = |pod: &'v Value| -> Vec<(String, &'v Value)> {
            pod.get(field)
                .and_then(Value::as_array)
                .map(|l| {
                    l.iter()
                        .enumerate()
                        .map(|(i, c)| (container_name(c, i), c))
                        .collect()
                })
                .unwrap_or_default()
        };
        let (lb, lh) = (list(pb), list(ph));
        for (i, (name, b)) in lb.iter().enumerate() {
            if let Some((_, h)) = lh.iter().find(|(n, _)| n == name) {
                out.push((format!("{field}[{name}]"), *b, *h));
            } else if let Some((new, h)) = lh.get(i)
                && !lb.iter().any(|(n, _)| n == new)
            {
                out.push((format!("{field}[{name}->{new}]"), *b, *h));
            }
        }
    }
    out
}

/// What one direction (`ingress`/`egress`) of a NetworkPolicy allows, as the
/// set of peers and the set of ports over all its rules (`*` for a rule
/// without peers or ports: it allows every peer or port).
fn allowed(policy: &Value, direction: &str) -> (BTreeSet<String>, BTreeSet<String>) {
    let peers_field = if direction == "ingress" { "from" } else { "to" };
    let mut peers = BTreeSet::new();
    let mut ports = BTreeSet::new();
    let rules = at(policy, &["spec", direction])
        .and_then(Value::as_array)
        .cloned()
        .unwrap_or_default();
    for rule in &rules {
        match rule.get(peers_field).and_then(Value::as_array) {
            Some(list) if !list.is_empty() => peers.extend(list.iter().map(Value::to_string)),
            _ => {
                peers.insert("*".to_owned());
            }
        }
        match rule.get("ports").and_then(Value::as_array) {
            Some(list) if !list.is_empty() => ports.extend(list.iter().map(Value::to_string)),
            _ => {
                ports.insert("*".to_owned());
            }
        }
    }
    (peers, ports)
}

/// A field of a container's or pod's `securityContext`.
fn sc<'v>(v: &'v Value, field: &str) -> Option<&'v Value> {
    at(v, &["securityContext", field])
}

/// A container's security field, or the pod's when the container leaves it out.
fn effective<'v>(container: &'v Value, pod: &'v Value, field: &str) -> Option<&'v Value> {
    sc(container, field).or_else(|| sc(pod, field))
}

fn security_findings(key: &str, base: &Value, head: &Value) -> Vec<Finding> {
    let kind = kind_of(key);
    let mut c = Checker {
        key,
        out: Vec::new(),
    };
    if kind == "ServiceAccount" {
        c.bool_kept(
            "automountServiceAccountToken".into(),
            at(base, &["automountServiceAccountToken"]),
            at(head, &["automountServiceAccountToken"]),
            false,
        );
    }
    if kind == "NetworkPolicy" {
        let before = strings(at(base, &["spec", "policyTypes"]));
        let after = strings(at(head, &["spec", "policyTypes"]));
        if before.difference(&after).next().is_some() {
            c.flag(
                "spec.policyTypes".into(),
                at(base, &["spec", "policyTypes"]),
                at(head, &["spec", "policyTypes"]),
            );
        }
        // Widening: a peer or port the head allows that the base did not (a
        // rule without peers or ports allows all of them).
        for direction in ["ingress", "egress"] {
            let (peers_b, ports_b) = allowed(base, direction);
            let (peers_h, ports_h) = allowed(head, direction);
            let wider = |b: &BTreeSet<String>, h: &BTreeSet<String>| {
                !b.contains("*") && h.difference(b).next().is_some()
            };
            let (new_peers, new_ports) = (wider(&peers_b, &peers_h), wider(&ports_b, &ports_h));
            if new_peers || new_ports {
                let mut added: Vec<&String> = Vec::new();
                if new_peers {
                    added.extend(peers_h.difference(&peers_b));
                }
                if new_ports {
                    added.extend(ports_h.difference(&ports_b));
                }
                c.out.push(Finding {
                    object: key.to_owned(),
                    path: format!("spec.{direction}"),
                    message: format!(
                        "allows more: {}",
                        added
                            .iter()
                            .map(|s| s.as_str())
                            .collect::<Vec<_>>()
                            .join(", ")
                    ),
                });
            }
        }
    }
    let Some(pod_path) = pod_spec_path(kind) else {
        return c.out;
    };
    let (Some(pb), Some(ph)) = (at(base, pod_path), at(head, pod_path)) else {
        return c.out;
    };
    let prefix = pod_path.join(".");
    let p = |rest: &str| format!("{prefix}.{rest}");
    c.bool_kept(
        p("automountServiceAccountToken"),
        at(pb, &["automountServiceAccountToken"]),
        at(ph, &["automountServiceAccountToken"]),
        false,
    );
    for field in ["hostNetwork", "hostPID", "hostIPC"] {
        c.bool_not_enabled(p(field), at(pb, &[field]), at(ph, &[field]));
    }
    c.bool_kept(
        p("securityContext.runAsNonRoot"),
        at(pb, &["securityContext", "runAsNonRoot"]),
        at(ph, &["securityContext", "runAsNonRoot"]),
        true,
    );
    c.seccomp(
        p("securityContext.seccompProfile"),
        at(pb, &["securityContext", "seccompProfile"]),
        at(ph, &["securityContext", "seccompProfile"]),
    );
    for (name, b, h) in container_pairs(pb, ph) {
        let cp = |rest: &str| format!("{prefix}.{name}.{rest}");
        c.bool_kept(
            cp("securityContext.readOnlyRootFilesystem"),
            sc(b, "readOnlyRootFilesystem"),
            sc(h, "readOnlyRootFilesystem"),
            true,
        );
        c.bool_kept(
            cp("securityContext.allowPrivilegeEscalation"),
            sc(b, "allowPrivilegeEscalation"),
            sc(h, "allowPrivilegeEscalation"),
            false,
        );
        c.bool_not_enabled(
            cp("securityContext.privileged"),
            sc(b, "privileged"),
            sc(h, "privileged"),
        );
        // runAsNonRoot and seccomp are inherited from the pod when the
        // container does not set them: compare the effective values.
        c.bool_kept(
            cp("securityContext.runAsNonRoot"),
            effective(b, pb, "runAsNonRoot"),
            effective(h, ph, "runAsNonRoot"),
            true,
        );
        let (ub, uh) = (effective(b, pb, "runAsUser"), effective(h, ph, "runAsUser"));
        if ub.and_then(Value::as_i64) != Some(0) && uh.and_then(Value::as_i64) == Some(0) {
            c.flag(cp("securityContext.runAsUser"), ub, uh);
        }
        c.seccomp(
            cp("securityContext.seccompProfile"),
            effective(b, pb, "seccompProfile"),
            effective(h, ph, "seccompProfile"),
        );
        let drop_b = strings(at(b, &["securityContext", "capabilities", "drop"]));
        let drop_h = strings(at(h, &["securityContext", "capabilities", "drop"]));
        if drop_b.contains("ALL") && !drop_h.contains("ALL") {
            c.flag(
                cp("securityContext.capabilities.drop"),
                at(b, &["securityContext", "capabilities", "drop"]),
                at(h, &["securityContext", "capabilities", "drop"]),
            );
        }
        let add_b = strings(at(b, &["securityContext", "capabilities", "add"]));
        let add_h = strings(at(h, &["securityContext", "capabilities", "add"]));
        if add_h.difference(&add_b).next().is_some() {
            c.flag(
                cp("securityContext.capabilities.add"),
                at(b, &["securityContext", "capabilities", "add"]),
                at(h, &["securityContext", "capabilities", "add"]),
            );
        }
        for resource in ["cpu", "memory"] {
            let lb = at(b, &["resources", "limits", resource]);
            let lh = at(h, &["resources", "limits", resource]);
            if lb.is_some() && lh.is_none() {
                c.flag(cp(&format!("resources.limits.{resource}")), lb, lh);
            }
        }
    }
    c.out
}

// ---- output --------------------------------------------------------------

/// Output formats of the report.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Format {
    /// Plain text for a terminal.
    Text,
    /// The [`Report`] as JSON.
    Json,
    /// Markdown for a pull-request comment.
    Markdown,
}

/// Most changed paths listed per object in text and Markdown (JSON has all).
const PATHS_SHOWN: usize = 8;

fn outcome_line(o: &Outcome) -> String {
    match o {
        Outcome::Ok { objects } => format!("{objects} objects"),
        Outcome::Failed { error, .. } => format!("fails: {}", first_line(error)),
        Outcome::Absent => "no such environment".to_owned(),
    }
}

/// The changes of one kind in one environment.
#[derive(Default)]
struct KindChanges<'a> {
    added: Vec<&'a str>,
    removed: Vec<&'a str>,
    changed: Vec<&'a ObjectChange>,
}

/// Groups the changes of one environment by kind.
fn by_kind(imp: &EnvImpact) -> BTreeMap<&str, KindChanges<'_>> {
    let mut kinds: BTreeMap<&str, KindChanges<'_>> = BTreeMap::new();
    for k in &imp.added {
        kinds.entry(kind_of(k)).or_default().added.push(k);
    }
    for k in &imp.removed {
        kinds.entry(kind_of(k)).or_default().removed.push(k);
    }
    for c in &imp.changed {
        kinds.entry(kind_of(&c.object)).or_default().changed.push(c);
    }
    kinds
}

fn name_of(key: &str) -> &str {
    key.split_once('/').map(|(_, n)| n).unwrap_or(key)
}

fn paths_line(paths: &[String]) -> String {
    let mut s = paths
        .iter()
        .take(PATHS_SHOWN)
        .cloned()
        .collect::<Vec<_>>()
        .join(", ");
    if paths.len() > PATHS_SHOWN {
        let _ = write!(s, ", ... ({} more)", paths.len() - PATHS_SHOWN);
    }
    s
}

/// The text block of one environment (without its name).
fn env_text(env: &EnvImpact) -> String {
    let mut out = String::new();
    let both_ok = matches!(
        (&env.base, &env.head),
        (Outcome::Ok { .. }, Outcome::Ok { .. })
    );
    if env.base != env.head && !both_ok {
        let _ = writeln!(
            out,
            "    base: {}\n    head: {}",
            outcome_line(&env.base),
            outcome_line(&env.head)
        );
    }
    if env.is_new_failure() {
        let _ = writeln!(out, "    RENDER FAILURE with the head config");
    }
    for (kind, k) in by_kind(env) {
        let _ = writeln!(
            out,
            "    {kind}: {} added, {} removed, {} changed",
            k.added.len(),
            k.removed.len(),
            k.changed.len()
        );
        for key in &k.added {
            let _ = writeln!(out, "      + {}", name_of(key));
        }
        for key in &k.removed {
            let _ = writeln!(out, "      - {}", name_of(key));
        }
        for c in &k.changed {
            let _ = writeln!(
                out,
                "      ~ {}: {}",
                name_of(&c.object),
                paths_line(&c.paths)
            );
        }
    }
    for f in &env.immutable {
        let _ = writeln!(out, "    IMMUTABLE {} {}: {}", f.object, f.path, f.message);
    }
    for f in &env.security {
        let _ = writeln!(out, "    SECURITY {} {}: {}", f.object, f.path, f.message);
    }
    out
}

impl Report {
    /// The report in a format.
    pub fn render(&self, format: Format) -> String {
        match format {
            Format::Text => self.text(),
            Format::Json => {
                let mut s = serde_json::to_string_pretty(self).unwrap_or_default();
                s.push('\n');
                s
            }
            Format::Markdown => self.markdown(),
        }
    }

    fn summary_line(&self) -> String {
        let s = &self.summary;
        format!(
            "{} of {} services change ({} renders): {} objects added, {} removed, {} changed; \
             {} immutable-field changes, {} security regressions, {} new render failures, \
             {} renders failing with both configs",
            s.services_changed,
            s.services,
            s.renders,
            s.objects_added,
            s.objects_removed,
            s.objects_changed,
            s.immutable_changes,
            s.security_regressions,
            s.new_failures,
            s.failing_with_both
        )
    }

    fn text(&self) -> String {
        let mut out = String::new();
        let _ = writeln!(out, "impact of platform {} -> {}", self.base, self.head);
        let _ = writeln!(out, "{}", self.summary_line());
        for svc in &self.services {
            let _ = writeln!(out, "\n{} ({})", svc.service, svc.file);
            // Environments with identical blocks are listed once, together.
            let mut blocks: Vec<(Vec<&str>, String)> = Vec::new();
            for env in &svc.environments {
                let block = env_text(env);
                match blocks.iter_mut().find(|(_, b)| *b == block) {
                    Some((names, _)) => names.push(&env.environment),
                    None => blocks.push((vec![&env.environment], block)),
                }
            }
            for (names, block) in blocks {
                let _ = writeln!(out, "  {}:", names.join(", "));
                out.push_str(&block);
            }
        }
        if !self.failing.is_empty() {
            let _ = writeln!(out, "\nfailing with both configs:");
            // The environments of one file with the same error, on one line.
            let mut i = 0;
            while i < self.failing.len() {
                let f = &self.failing[i];
                let mut envs = vec![f.environment.as_str()];
                i += 1;
                while let Some(g) = self.failing.get(i)
                    && g.file == f.file
                    && g.error == f.error
                {
                    envs.push(&g.environment);
                    i += 1;
                }
                let _ = writeln!(
                    out,
                    "  {} ({}) {}: {}",
                    f.service,
                    f.file,
                    envs.join(", "),
                    f.error
                );
            }
        }
        out
    }

    fn markdown_failing(&self, out: &mut String) {
        if self.failing.is_empty() {
            return;
        }
        out.push_str("\n### Failing with both configs\n\n");
        for f in &self.failing {
            let _ = writeln!(
                out,
                "- :x: `{}` in `{}`: {}",
                f.service, f.environment, f.error
            );
        }
    }

    fn markdown(&self) -> String {
        let mut out = String::new();
        let _ = writeln!(
            out,
            "## helmgen impact: `{}` → `{}`\n",
            self.base, self.head
        );
        let _ = writeln!(out, "{}\n", self.summary_line());
        if self.services.is_empty() {
            out.push_str("No service changes.\n");
            self.markdown_failing(&mut out);
            return out;
        }
        out.push_str("| service | environment | kind | added | removed | changed |\n");
        out.push_str("|---|---|---|---:|---:|---:|\n");
        for svc in &self.services {
            for env in &svc.environments {
                for (kind, k) in by_kind(env) {
                    let _ = writeln!(
                        out,
                        "| {} | {} | {kind} | {} | {} | {} |",
                        svc.service,
                        env.environment,
                        k.added.len(),
                        k.removed.len(),
                        k.changed.len()
                    );
                }
            }
        }
        let flagged: Vec<(&ServiceImpact, &EnvImpact)> = self
            .services
            .iter()
            .flat_map(|s| s.environments.iter().map(move |e| (s, e)))
            .filter(|(_, e)| {
                !e.immutable.is_empty() || !e.security.is_empty() || e.is_new_failure()
            })
            .collect();
        if !flagged.is_empty() {
            out.push_str("\n### Flags\n\n");
            for (s, e) in flagged {
                if e.is_new_failure() {
                    let _ = writeln!(
                        out,
                        "- :x: **render failure** `{}` in `{}`: {}",
                        s.service,
                        e.environment,
                        outcome_line(&e.head)
                    );
                }
                for f in &e.immutable {
                    let _ = writeln!(
                        out,
                        "- :warning: **immutable** `{}` in `{}`: `{}` `{}`: {}",
                        s.service, e.environment, f.object, f.path, f.message
                    );
                }
                for f in &e.security {
                    let _ = writeln!(
                        out,
                        "- :lock: **security** `{}` in `{}`: `{}` `{}`: {}",
                        s.service, e.environment, f.object, f.path, f.message
                    );
                }
            }
        }
        self.markdown_failing(&mut out);
        out.push_str("\n<details><summary>changed fields</summary>\n\n");
        for svc in &self.services {
            for env in &svc.environments {
                for c in &env.changed {
                    let _ = writeln!(
                        out,
                        "- `{}` {} `{}`: {}",
                        svc.service,
                        env.environment,
                        c.object,
                        paths_line(&c.paths)
                    );
                }
            }
        }
        out.push_str("\n</details>\n");
        out
    }
}
