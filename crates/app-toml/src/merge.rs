//! Per-environment merging, `unset`, and the checks that need a whole
//! environment's view (required keys, cross-field rules).
//!
//! Merge rule: `(base - unset) + override`, where tables merge key by key
//! recursively and everything else (scalars, arrays) is replaced. `unset`
//! removes keys of the *base*, so `unset = ["env"]` followed by an
//! `[envs.prod.env]` table replaces the whole `[env]` table instead of
//! merging into it.
//!
//! Merged nodes keep the [`Layer`] they were written in, so a diagnostic
//! found on a merged result points at whichever layer provided the value.

use std::ops::Range;

use crate::DiagnosticKind;
use crate::check::{self, Checker};
use crate::names::{did_you_mean, one_of};
use crate::tree::{Entry, Layer, Node, Path, ROOT, Table, Value, join};

/// `base` with the `unset` paths removed and `over` merged on top.
pub(crate) fn merge(base: &Table, over: Option<&Table>, unset: &[Vec<String>]) -> Table {
    let mut out = base.clone();
    for path in unset {
        remove_path(&mut out, path);
    }
    if let Some(over) = over {
        merge_into(&mut out, over);
    }
    out
}

fn merge_into(into: &mut Table, over: &Table) {
    for entry in &over.entries {
        if &*entry.key == "unset" {
            continue;
        }
        match (into.get_mut(&entry.key), &entry.node.value) {
            (
                Some(Node {
                    value: Value::Table(existing),
                    ..
                }),
                Value::Table(t),
            ) => {
                merge_into(existing, t);
            }
            (Some(existing), _) => *existing = entry.node.clone(),
            (None, _) => into.entries.push(entry.clone()),
        }
    }
}

fn remove_path(table: &mut Table, path: &[String]) {
    match path {
        [] => {}
        [last] => {
            table.remove(last);
        }
        [first, rest @ ..] => {
            if let Some(Node {
                value: Value::Table(t),
                ..
            }) = table.get_mut(first)
            {
                remove_path(t, rest);
                // A table emptied by `unset` is gone, not an empty leaf
                // (it would otherwise show up in the origins).
                if t.is_empty() {
                    table.remove(first);
                }
            }
        }
    }
}

/// Splits an `unset` path (`env.LOG_LEVEL`) into keys.
pub(crate) fn split_path(path: &str) -> Vec<String> {
    path.split('.').map(str::to_owned).collect()
}

/// Whether `path` names a key of `table`.
fn names_something(table: &Table, path: &[String]) -> bool {
    match path {
        [] => false,
        [last] => table.get(last).is_some(),
        [first, rest @ ..] => table
            .get(first)
            .and_then(Node::as_table)
            .is_some_and(|t| names_something(t, rest)),
    }
}

/// Every key path of `table` (tables included), for "did you mean".
fn all_paths(table: &Table, prefix: &str, out: &mut Vec<String>) {
    for entry in &table.entries {
        let path = if prefix.is_empty() {
            entry.key.to_string()
        } else {
            format!("{prefix}.{}", entry.key)
        };
        if let Value::Table(t) = &entry.node.value {
            all_paths(t, &path, out);
        }
        out.push(path);
    }
}

/// Checks the `unset` list of one environment against the base; returns the
/// valid paths.
pub(crate) fn check_unset(
    c: &mut Checker<'_>,
    base: &Table,
    env: &str,
    node: &Node,
) -> Vec<Vec<String>> {
    let path = format!("envs.{env}.unset");
    let mut valid = Vec::new();
    let Some(items) = node.as_array() else {
        return valid;
    };
    // Every key path of the base, for "did you mean"; built only when an
    // entry names nothing.
    let mut candidates: Option<Vec<String>> = None;
    for (i, item) in items.iter().enumerate() {
        let Some(text) = item.as_str() else {
            continue;
        };
        let p = format!("{path}[{i}]");
        let keys = split_path(text);
        if text == "name" {
            c.push(
                DiagnosticKind::InvalidUnset,
                &p,
                Some(item.span.clone()),
                "`name` cannot be unset",
                None,
            );
        } else if names_something(base, &keys) {
            valid.push(keys);
        } else {
            let candidates = candidates.get_or_insert_with(|| {
                let mut all = Vec::new();
                all_paths(base, "", &mut all);
                all
            });
            let hint = match did_you_mean(text, candidates.iter().map(String::as_str)) {
                Some(s) => format!("did you mean `{s}`?"),
                None => "`unset` removes a key set at the top level of the file".to_owned(),
            };
            c.push(
                DiagnosticKind::InvalidUnset,
                &p,
                Some(item.span.clone()),
                format!("`{text}` names nothing in the base of the file"),
                Some(hint),
            );
        }
    }
    valid
}

/// The file key path of a merged node: the merged path, under
/// `envs.<env>.` when the node was written in an override layer.
fn file_path(layer: Layer, envs: &[String], path: &(impl std::fmt::Display + ?Sized)) -> String {
    match layer {
        Layer::Base => path.to_string(),
        Layer::Env(i) => {
            let env = envs.get(i).map_or("?", String::as_str);
            format!("{}.{path}", join("envs", env))
        }
    }
}

/// Checks one environment's merged view. `service` is the service name.
pub(crate) struct MergedCheck<'c, 'a> {
    pub(crate) checker: &'c mut Checker<'a>,
    pub(crate) envs: &'c [String],
    pub(crate) service: &'c str,
}

impl MergedCheck<'_, '_> {
    fn push(
        &mut self,
        kind: DiagnosticKind,
        layer: Layer,
        path: &(impl std::fmt::Display + ?Sized),
        span: Option<Range<usize>>,
        message: impl Into<String>,
        hint: Option<String>,
    ) {
        let path = file_path(layer, self.envs, path);
        self.checker.push(kind, &path, span, message, hint);
    }

    fn require(
        &mut self,
        table_node: &Node,
        table: &Table,
        path: &Path<'_>,
        key: &str,
        hint: impl FnOnce() -> Option<String>,
    ) {
        if table.get(key).is_none() {
            let header = path.to_string();
            self.push(
                DiagnosticKind::MissingKey,
                table_node.layer,
                &path.key(key),
                Some(table_node.span.clone()),
                format!("missing required key `{key}` in `[{header}]`"),
                hint(),
            );
        }
    }

    /// Runs every merged check.
    pub(crate) fn run(&mut self, root: &Table) {
        self.engine(root);
        self.ports(root);
        self.autoscale(root);
        self.named(root);
        self.exceptions(root);
    }

    fn engine(&mut self, root: &Table) {
        let engines = &self.checker.vocabulary.engines;
        let Some(node) = root.get("engine") else {
            self.checker.push(
                DiagnosticKind::MissingKey,
                "engine",
                None,
                "missing required table `[engine]`",
                Some(format!(
                    "add `[engine]` with `name = \"...\"`, one of {}",
                    one_of(engines.iter().map(String::as_str))
                )),
            );
            return;
        };
        let Some(table) = node.as_table() else {
            return;
        };
        self.require(node, table, &ROOT.key("engine"), "name", || {
            Some(format!(
                "add `name = \"...\"`, one of {}",
                one_of(engines.iter().map(String::as_str))
            ))
        });
        let name = table.get("name");
        let name_str = name.and_then(Node::as_str);
        let image = table.get("image");
        if let (Some(name), Some(n)) = (name, name_str)
            && n == "generic"
            && image.is_none()
        {
            self.push(
                DiagnosticKind::Invalid,
                name.layer,
                "engine.name",
                Some(name.span.clone()),
                "engine `generic` needs an `image`",
                Some(
                    "add `image = \"registry.example.com/team/app:1.0\"` under `[engine]`"
                        .to_owned(),
                ),
            );
        }
        if let (Some(n), Some(image)) = (name_str, image)
            && n != "generic"
            && engines.iter().any(|e| e == n)
        {
            self.push(
                DiagnosticKind::Invalid,
                image.layer,
                "engine.image",
                Some(image.span.clone()),
                format!("`image` is only allowed with engine `generic`, not `{n}`"),
                Some(format!(
                    "remove it: the platform provides the image for `{n}`"
                )),
            );
        }
    }

    fn ports(&mut self, root: &Table) {
        let Some(ports) = root.get("ports").and_then(Node::as_table) else {
            return;
        };
        let mut seen: Vec<(&Entry, i64)> = Vec::new();
        let mut entries: Vec<&Entry> = ports.entries.iter().collect();
        entries.sort_by_key(|e| e.node.span.start);
        for entry in entries {
            let Some(number) = entry.node.as_integer() else {
                continue;
            };
            if let Some((first, _)) = seen.iter().find(|(_, n)| *n == number) {
                self.push(
                    DiagnosticKind::DuplicatePort,
                    entry.node.layer,
                    &ROOT.key("ports").key(&entry.key),
                    Some(entry.node.span.clone()),
                    format!("port {number} is also used by `{}`", first.key),
                    Some("give each port its own number".to_owned()),
                );
            } else {
                seen.push((entry, number));
            }
        }
    }

    fn autoscale(&mut self, root: &Table) {
        let Some(node) = root.get("autoscale") else {
            return;
        };
        let Some(table) = node.as_table() else {
            return;
        };
        for (key, example) in [("min", 2), ("max", 10), ("cpu_percent", 70)] {
            self.require(node, table, &ROOT.key("autoscale"), key, || {
                Some(format!(
                    "add `{key} = {example}`: autoscaling needs `min`, `max` and `cpu_percent`"
                ))
            });
        }
        let min = table.get("min");
        let max = table.get("max");
        if let (Some(min), Some(max)) = (min, max)
            && let (Some(lo), Some(hi)) = (min.as_integer(), max.as_integer())
            && check::AUTOSCALE_REPLICAS.contains(&lo)
            && check::AUTOSCALE_REPLICAS.contains(&hi)
            && hi < lo
        {
            // Point at the value an environment changed, when one did.
            let (at, key) = if min.layer != Layer::Base && max.layer == Layer::Base {
                (min, "autoscale.min")
            } else {
                (max, "autoscale.max")
            };
            self.push(
                DiagnosticKind::Invalid,
                at.layer,
                key,
                Some(at.span.clone()),
                format!("autoscale max ({hi}) is less than min ({lo})"),
                None,
            );
        }
    }

    fn named(&mut self, root: &Table) {
        let service = self.service.to_owned();
        if let Some(deps) = root.get("dependencies").and_then(Node::as_table) {
            for entry in &deps.entries {
                if *entry.key == *service {
                    let table = file_path(
                        entry.node.layer,
                        self.envs,
                        &join("dependencies", &entry.key),
                    );
                    self.push(
                        DiagnosticKind::SelfDependency,
                        entry.node.layer,
                        &join("dependencies", &entry.key),
                        Some(entry.key_span.clone()),
                        format!("service `{service}` depends on itself"),
                        Some(format!("remove `[{table}]`")),
                    );
                }
            }
        }
        let required: [(&str, &[&str]); 5] = [
            ("databases", &["engine"]),
            ("routes", &["host"]),
            ("processes", &["command"]),
            ("jobs", &["schedule", "command"]),
            ("init", &["command"]),
        ];
        for (section, keys) in required {
            let Some(table) = root.get(section).and_then(Node::as_table) else {
                continue;
            };
            for entry in &table.entries {
                let Some(t) = entry.node.as_table() else {
                    continue;
                };
                let section_path = ROOT.key(section);
                let path = section_path.key(&entry.key);
                for key in keys {
                    let hint = || match (section, *key) {
                        ("databases", _) => Some(format!(
                            "add `engine = \"...\"`, one of {}",
                            one_of(check::DATABASE_ENGINES)
                        )),
                        ("routes", _) => Some("add `host = \"app.example.com\"`".to_owned()),
                        ("jobs", "schedule") => Some("add `schedule = \"30 3 * * *\"`".to_owned()),
                        _ => Some("add `command = [\"./app\", \"...\"]`".to_owned()),
                    };
                    self.require(&entry.node, t, &path, key, hint);
                }
            }
        }
    }

    fn exceptions(&mut self, root: &Table) {
        let Some(table) = root.get("exceptions").and_then(Node::as_table) else {
            return;
        };
        let today = self.checker.vocabulary.today;
        for entry in &table.entries {
            let Some(t) = entry.node.as_table() else {
                continue;
            };
            let exceptions = ROOT.key("exceptions");
            let path = exceptions.key(&entry.key);
            self.require(&entry.node, t, &path, "reason", || {
                Some("say why the service needs this exception".to_owned())
            });
            self.require(&entry.node, t, &path, "expires", || {
                Some("add `expires = 2027-03-31`: exceptions must end".to_owned())
            });
            if let Some(expires) = t.get("expires")
                && let Some(date) = check::node_date(expires)
                && date < today
            {
                self.push(
                    DiagnosticKind::ExpiredException,
                    expires.layer,
                    &path.key("expires"),
                    Some(expires.span.clone()),
                    format!("exception `{}` expired on {date}", entry.key),
                    Some(format!(
                        "fix what needs the exception or renew it with a new reason and a date from {today} on"
                    )),
                );
            }
        }
    }
}
