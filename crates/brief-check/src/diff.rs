//! Changes between two versions of a server schema.
//!
//! Without clients, a change is breaking when it could break *some* client
//! (the conservative rules of buf and friends: removals, type changes, a new
//! required input field, input fields becoming required, output fields
//! becoming optional, enum values removed, or added to what clients read).
//! With clients, a change is breaking only when it breaks a named client: a
//! client that did not have that violation against the old server (same
//! key and code) and has it against the new one.

use crate::compat::{Violation, compat, same_type};
use crate::model::Schema;
use brief_syntax::{File, Span};
use serde::Serialize;
use std::collections::BTreeSet;

/// One change.
#[derive(Debug, Clone, Serialize)]
pub struct Change {
    /// Same keys as compat violations (`rpc:sum`, `field:SumIn.a`, ...).
    pub key: String,
    /// What changed, one line.
    pub message: String,
    /// Breaking (for some client without `--clients`, for a named one with).
    pub breaking: bool,
    /// Named clients it breaks.
    pub broken_clients: Vec<String>,
    /// Where in the old file.
    pub old: Option<Span>,
    /// Where in the new file.
    pub new: Option<Span>,
}

/// A client contract named for reports.
pub struct NamedClient<'a> {
    /// Shown in reports.
    pub name: String,
    /// Its contract.
    pub file: &'a File,
    /// Its index in the caller's source list (for violation labels).
    pub id: usize,
}

/// The result of a diff.
#[derive(Debug, Clone, Serialize)]
pub struct Diff {
    /// Changes in a stable order.
    pub changes: Vec<Change>,
    /// With clients: client violations against the new server that the old
    /// one did not have (each names the client span and the new server span).
    #[serde(skip)]
    pub violations: Vec<(String, Violation)>,
}

impl Diff {
    /// Whether the new schema breaks anything: a breaking change, or a
    /// client violation that no change accounts for.
    pub fn breaking(&self) -> bool {
        self.changes.iter().any(|c| c.breaking) || !self.violations.is_empty()
    }
}

/// Diffs `old` (file 0) against `new` (file 1); `clients` make breakage client-specific.
pub fn diff(old: &File, new: &File, clients: &[NamedClient<'_>]) -> Diff {
    let (os, ns) = (Schema::new(old), Schema::new(new));
    let (sent, read) = (ns.sent(), ns.read());
    let (old_sent, old_read) = (os.sent(), os.read());
    // A type that switches between message and enum keeps its name, so
    // fields that use it compare equal by name: the switch itself is the
    // breaking change (for any client that can see the type).
    let used_before = |name: &str| old_sent.contains(name) || old_read.contains(name);
    let mut changes = Vec::new();
    let mut add =
        |key: String, message: String, breaking: bool, o: Option<Span>, n: Option<Span>| {
            changes.push(Change {
                key,
                message,
                breaking,
                broken_clients: Vec::new(),
                old: o,
                new: n,
            });
        };
    if let (Some(a), Some(b)) = (old.service(), new.service())
        && a.name.value != b.name.value
    {
        add(
            "service".into(),
            format!(
                "service renamed from `{}` to `{}`",
                a.name.value, b.name.value
            ),
            true,
            Some(a.name.span),
            Some(b.name.span),
        );
    }
    for r in old.rpcs() {
        match new.rpcs().find(|n| n.name.name == r.name.name) {
            None => add(
                format!("rpc:{}", r.name.name),
                format!("rpc `{}` removed", r.name.name),
                true,
                Some(r.name.span),
                None,
            ),
            Some(n) => {
                if r.input.name != n.input.name || r.output.name != n.output.name {
                    add(
                        format!("rpc:{}", r.name.name),
                        format!(
                            "rpc `{}` changed from ({}) {} to ({}) {}",
                            r.name.name, r.input.name, r.output.name, n.input.name, n.output.name
                        ),
                        true,
                        Some(r.name.span),
                        Some(n.name.span),
                    );
                }
            }
        }
    }
    for n in new
        .rpcs()
        .filter(|n| !old.rpcs().any(|r| r.name.name == n.name.name))
    {
        add(
            format!("rpc:{}", n.name.name),
            format!("rpc `{}` added", n.name.name),
            false,
            None,
            Some(n.name.span),
        );
    }
    for s in old.schemas() {
        match new.schemas().find(|n| n.topic.value == s.topic.value) {
            None => add(
                format!("topic:{}", s.topic.value),
                format!("topic `{}` removed", s.topic.value),
                true,
                Some(s.topic.span),
                None,
            ),
            Some(n) if n.message.name != s.message.name => add(
                format!("topic:{}", s.topic.value),
                format!(
                    "topic `{}` now carries `{}` instead of `{}`",
                    s.topic.value, n.message.name, s.message.name
                ),
                true,
                Some(s.message.span),
                Some(n.message.span),
            ),
            Some(_) => {}
        }
    }
    for n in new
        .schemas()
        .filter(|n| !old.schemas().any(|s| s.topic.value == n.topic.value))
    {
        add(
            format!("topic:{}", n.topic.value),
            format!("topic `{}` added", n.topic.value),
            false,
            None,
            Some(n.topic.span),
        );
    }
    for om in old.messages() {
        let m = om.name.name.as_str();
        let Some(nm) = ns.message(m) else {
            match ns.enum_(m) {
                Some(ne) => add(
                    format!("message:{m}"),
                    format!("message `{m}` became an enum"),
                    used_before(m),
                    Some(om.name.span),
                    Some(ne.name.span),
                ),
                None => add(
                    format!("message:{m}"),
                    format!("message `{m}` removed"),
                    false,
                    Some(om.name.span),
                    None,
                ),
            }
            continue;
        };
        let (is_sent, is_read) = (sent.contains(m), read.contains(m));
        for of in &om.fields {
            let key = format!("field:{m}.{}", of.name.name);
            let Some(nf) = nm.field(&of.name.name) else {
                add(
                    key,
                    format!("field `{m}.{}` removed", of.name.name),
                    true,
                    Some(of.span),
                    None,
                );
                continue;
            };
            if !same_type(&of.ty.kind, &nf.ty.kind) {
                add(
                    key.clone(),
                    format!(
                        "field `{m}.{}` changed type from `{}` to `{}`",
                        of.name.name, of.ty, nf.ty
                    ),
                    true,
                    Some(of.ty.span),
                    Some(nf.ty.span),
                );
            }
            if of.optional && !nf.optional {
                add(
                    key,
                    format!("field `{m}.{}` became required", of.name.name),
                    is_sent,
                    Some(of.span),
                    Some(nf.span),
                );
            } else if !of.optional && nf.optional {
                add(
                    key,
                    format!("field `{m}.{}` became optional", of.name.name),
                    is_read,
                    Some(of.span),
                    Some(nf.span),
                );
            }
        }
        for nf in nm
            .fields
            .iter()
            .filter(|f| om.field(&f.name.name).is_none())
        {
            let what = if nf.optional { "optional" } else { "required" };
            add(
                format!("field:{m}.{}", nf.name.name),
                format!("{what} field `{m}.{}` added", nf.name.name),
                !nf.optional && is_sent,
                None,
                Some(nf.span),
            );
        }
    }
    // Added types (a name that was the other kind before is reported above).
    for nm in new
        .messages()
        .filter(|n| !os.types.contains_key(n.name.name.as_str()))
    {
        add(
            format!("message:{}", nm.name.name),
            format!("message `{}` added", nm.name.name),
            false,
            None,
            Some(nm.name.span),
        );
    }
    for oe in old.enums() {
        let e = oe.name.name.as_str();
        let Some(ne) = ns.enum_(e) else {
            match ns.message(e) {
                Some(nm) => add(
                    format!("message:{e}"),
                    format!("enum `{e}` became a message"),
                    used_before(e),
                    Some(oe.name.span),
                    Some(nm.name.span),
                ),
                None => add(
                    format!("message:{e}"),
                    format!("enum `{e}` removed"),
                    false,
                    Some(oe.name.span),
                    None,
                ),
            }
            continue;
        };
        for v in oe
            .variants
            .iter()
            .filter(|v| !ne.variants.iter().any(|n| n.name.name == v.name.name))
        {
            add(
                format!("enum:{e}.{}", v.name.name),
                format!("enum value `{e}.{}` removed", v.name.name),
                true,
                Some(v.name.span),
                None,
            );
        }
        for v in ne
            .variants
            .iter()
            .filter(|n| !oe.variants.iter().any(|v| v.name.name == n.name.name))
        {
            add(
                format!("enum:{e}.{}", v.name.name),
                format!("enum value `{e}.{}` added", v.name.name),
                read.contains(e),
                None,
                Some(v.name.span),
            );
        }
    }

    for ne in new
        .enums()
        .filter(|n| !os.types.contains_key(n.name.name.as_str()))
    {
        add(
            format!("message:{}", ne.name.name),
            format!("enum `{}` added", ne.name.name),
            false,
            None,
            Some(ne.name.span),
        );
    }

    let mut violations = Vec::new();
    if !clients.is_empty() {
        for c in clients {
            // A violation is new unless the client had the same problem
            // (same key *and* code) against the old server: a key that was
            // already violated can break in a new way (a field that was
            // missing on the server now exists with another type).
            let before: BTreeSet<(String, &'static str)> = compat(old, 0, c.file, c.id)
                .into_iter()
                .map(|v| (v.key, v.diagnostic.code))
                .collect();
            for v in compat(new, 1, c.file, c.id) {
                if before.contains(&(v.key.clone(), v.diagnostic.code)) {
                    continue;
                }
                for ch in changes.iter_mut().filter(|ch| ch.key == v.key) {
                    if !ch.broken_clients.contains(&c.name) {
                        ch.broken_clients.push(c.name.clone());
                    }
                }
                violations.push((c.name.clone(), v));
            }
        }
        for ch in &mut changes {
            ch.breaking = !ch.broken_clients.is_empty();
        }
    }
    Diff {
        changes,
        violations,
    }
}
