//! The rules of one file: one service, unique names, defined types, string
//! map keys, messages (not enums) as rpc and event payloads, no message that
//! contains itself through required fields, and a warning for unused types.
//!
//! Codes: B0010 duplicate service, B0011 rpc without service, B0012 invalid
//! service name, B0020 duplicate type, B0021 builtin type name redefined,
//! B0022 duplicate field, B0023 duplicate enum member, B0024 duplicate rpc,
//! B0025 duplicate topic, B0030 undefined type, B0031 map key not string,
//! B0032 payload is not a message, B0041 required cycle, B0040 unused type
//! (warning), B0042 empty enum.

use crate::model::{Schema, TypeDef};
use brief_syntax::{Diagnostic, File, ItemKind, Span, Type, TypeKind};
use std::collections::HashMap;

/// Checks a parsed file; `file_id` is used in labels.
pub fn check(file: &File, file_id: usize) -> Vec<Diagnostic> {
    let mut out = Vec::new();
    let schema = Schema::new(file);
    let d = |code, msg: String, span| Diagnostic::error(code, msg, file_id, span);

    // One service per file, with a name usable in URLs and environment variables.
    let mut service: Option<Span> = None;
    for item in &file.items {
        if let ItemKind::Service(s) = &item.kind {
            if let Some(first) = service {
                out.push(
                    d(
                        "B0010",
                        "more than one `service` declaration".into(),
                        s.name.span,
                    )
                    .with_label("second service")
                    .with_related(file_id, first, "first declared here")
                    .with_hint("a file describes one service; move the other one to its own file"),
                );
            } else {
                service = Some(s.name.span);
            }
            let valid = !s.name.value.is_empty()
                && s.name
                    .value
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b"-_.".contains(&b));
            if !valid {
                out.push(
                    d(
                        "B0012",
                        format!("invalid service name `{}`", s.name.value),
                        s.name.span,
                    )
                    .with_label("used in URLs and in the `<SERVICE>_URL` variable")
                    .with_hint("use letters, digits, `-`, `_` and `.`"),
                );
            }
        }
    }
    if service.is_none()
        && let Some(r) = file.rpcs().next()
    {
        out.push(
            d(
                "B0011",
                format!("rpc `{}` outside a service", r.name.name),
                r.name.span,
            )
            .with_label("no `service` declaration in this file")
            .with_hint("add `service \"<name>\"` at the top of the file"),
        );
    }

    // Unique type names, not shadowing builtins.
    let mut types: HashMap<&str, Span> = HashMap::new();
    for item in &file.items {
        let (name, what) = match &item.kind {
            ItemKind::Message(m) => (&m.name, "message"),
            ItemKind::Enum(e) => (&e.name, "enum"),
            _ => continue,
        };
        if TypeKind::builtin(&name.name).is_some() || name.name == "map" {
            out.push(
                d(
                    "B0021",
                    format!("`{}` is a builtin type", name.name),
                    name.span,
                )
                .with_label(format!("this {what} can never be referred to"))
                .with_hint("choose another name"),
            );
        }
        if let Some(&first) = types.get(name.name.as_str()) {
            out.push(
                d(
                    "B0020",
                    format!("duplicate type `{}`", name.name),
                    name.span,
                )
                .with_label("defined again here")
                .with_related(file_id, first, "first defined here")
                .with_hint("rename or remove one of them"),
            );
        } else {
            types.insert(&name.name, name.span);
        }
    }

    // Fields and members unique; field types defined.
    let names: Vec<&str> = schema.types.keys().copied().collect();
    for item in &file.items {
        match &item.kind {
            ItemKind::Message(m) => {
                let mut seen: HashMap<&str, Span> = HashMap::new();
                for f in &m.fields {
                    if let Some(&first) = seen.get(f.name.name.as_str()) {
                        out.push(
                            d(
                                "B0022",
                                format!("duplicate field `{}.{}`", m.name.name, f.name.name),
                                f.name.span,
                            )
                            .with_label("declared again here")
                            .with_related(file_id, first, "first declared here")
                            .with_hint("field names are the JSON keys; each must be unique"),
                        );
                    } else {
                        seen.insert(&f.name.name, f.name.span);
                    }
                    check_type(&f.ty, &schema, &names, file_id, &mut out);
                }
            }
            ItemKind::Enum(e) => {
                let mut seen: HashMap<&str, Span> = HashMap::new();
                for v in &e.variants {
                    if let Some(&first) = seen.get(v.name.name.as_str()) {
                        out.push(
                            d(
                                "B0023",
                                format!("duplicate enum member `{}.{}`", e.name.name, v.name.name),
                                v.name.span,
                            )
                            .with_label("declared again here")
                            .with_related(file_id, first, "first declared here")
                            .with_hint("remove the repeated member"),
                        );
                    } else {
                        seen.insert(&v.name.name, v.name.span);
                    }
                }
                if e.variants.is_empty() {
                    out.push(
                        Diagnostic::warning(
                            "B0042",
                            format!("enum `{}` has no members", e.name.name),
                            file_id,
                            e.name.span,
                        )
                        .with_label("no value can be sent")
                        .with_hint("add members: `enum Name { a b }`"),
                    );
                }
            }
            _ => {}
        }
    }

    // rpcs and topics unique, payloads are defined messages.
    let mut rpcs: HashMap<&str, Span> = HashMap::new();
    for r in file.rpcs() {
        if let Some(&first) = rpcs.get(r.name.name.as_str()) {
            out.push(
                d(
                    "B0024",
                    format!("duplicate rpc `{}`", r.name.name),
                    r.name.span,
                )
                .with_label("declared again here")
                .with_related(file_id, first, "first declared here")
                .with_hint("rpc names are URL paths; each must be unique"),
            );
        } else {
            rpcs.insert(&r.name.name, r.name.span);
        }
        for ident in [&r.input, &r.output] {
            payload(ident, &schema, &names, file_id, &mut out);
        }
    }
    let mut topics: HashMap<&str, Span> = HashMap::new();
    for s in file.schemas() {
        if let Some(&first) = topics.get(s.topic.value.as_str()) {
            out.push(
                d(
                    "B0025",
                    format!("duplicate topic `{}`", s.topic.value),
                    s.topic.span,
                )
                .with_label("declared again here")
                .with_related(file_id, first, "first declared here")
                .with_hint("one schema per topic"),
            );
        } else {
            topics.insert(&s.topic.value, s.topic.span);
        }
        payload(&s.message, &schema, &names, file_id, &mut out);
    }

    required_cycles(&schema, file_id, &mut out);

    // Unused types: not reachable from any rpc or event.
    let used = schema.reachable(
        file.rpcs()
            .flat_map(|r| [r.input.name.as_str(), r.output.name.as_str()])
            .chain(file.schemas().map(|s| s.message.name.as_str())),
    );
    for (name, def) in &schema.types {
        if used.contains(name) {
            continue;
        }
        let (span, what) = match def {
            TypeDef::Message(m) => (m.name.span, "message"),
            TypeDef::Enum(e) => (e.name.span, "enum"),
        };
        out.push(
            Diagnostic::warning(
                "B0040",
                format!("{what} `{name}` is never used"),
                file_id,
                span,
            )
            .with_label("no rpc or schema reaches it")
            .with_hint("remove it, or use it in an rpc, an event or a field"),
        );
    }

    out.sort_by_key(|d| d.labels.first().map(|l| (l.span.start, l.span.end)));
    out
}

fn undefined(name: &str, span: Span, names: &[&str], file_id: usize) -> Diagnostic {
    let similar = names
        .iter()
        .map(|n| (strsim::jaro_winkler(n, name), *n))
        .filter(|(s, _)| *s > 0.8)
        .max_by(|a, b| a.0.total_cmp(&b.0))
        .map(|(_, n)| n);
    let hint = match similar {
        Some(n) => format!("did you mean `{n}`?"),
        None => format!("declare it: `message {name} {{ ... }}`"),
    };
    Diagnostic::error("B0030", format!("undefined type `{name}`"), file_id, span)
        .with_label("not declared in this file")
        .with_hint(hint)
}

fn check_type(
    ty: &Type,
    schema: &Schema<'_>,
    names: &[&str],
    file_id: usize,
    out: &mut Vec<Diagnostic>,
) {
    match &ty.kind {
        TypeKind::Named(n) if !schema.types.contains_key(n.as_str()) => {
            out.push(undefined(n, ty.span, names, file_id));
        }
        TypeKind::List(t) => check_type(t, schema, names, file_id, out),
        TypeKind::Map(k, v) => {
            if k.kind != TypeKind::String {
                out.push(
                    Diagnostic::error(
                        "B0031",
                        format!("map key must be `string`, found `{k}`"),
                        file_id,
                        k.span,
                    )
                    .with_label("JSON object keys are strings")
                    .with_hint("write `map[string]T`"),
                );
            }
            check_type(v, schema, names, file_id, out);
        }
        _ => {}
    }
}

fn payload(
    ident: &brief_syntax::Ident,
    schema: &Schema<'_>,
    names: &[&str],
    file_id: usize,
    out: &mut Vec<Diagnostic>,
) {
    match schema.types.get(ident.name.as_str()) {
        Some(TypeDef::Message(_)) => {}
        Some(TypeDef::Enum(_)) => out.push(
            Diagnostic::error(
                "B0032",
                format!("`{}` is an enum, not a message", ident.name),
                file_id,
                ident.span,
            )
            .with_label("rpc and event payloads are JSON objects")
            .with_hint("wrap it in a message"),
        ),
        None if TypeKind::builtin(&ident.name).is_some() => out.push(
            Diagnostic::error(
                "B0032",
                format!("`{}` is a builtin type, not a message", ident.name),
                file_id,
                ident.span,
            )
            .with_label("rpc and event payloads are JSON objects")
            .with_hint("wrap it in a message"),
        ),
        None => out.push(undefined(&ident.name, ident.span, names, file_id)),
    }
}

/// A message that contains itself through required, non-list fields can
/// never be built (and would be an infinite struct).
fn required_cycles(schema: &Schema<'_>, file_id: usize, out: &mut Vec<Diagnostic>) {
    let messages: Vec<&brief_syntax::Message> = schema
        .types
        .values()
        .filter_map(|d| match d {
            TypeDef::Message(m) => Some(*m),
            TypeDef::Enum(_) => None,
        })
        .collect();
    let index: HashMap<&str, usize> = messages
        .iter()
        .enumerate()
        .map(|(i, m)| (m.name.name.as_str(), i))
        .collect();
    // Edges through required fields whose type is directly a message.
    let targets = |m: &brief_syntax::Message| -> Vec<(usize, Span)> {
        m.fields
            .iter()
            .filter(|f| !f.optional)
            .filter_map(|f| match &f.ty.kind {
                TypeKind::Named(n) => index.get(n.as_str()).map(|&i| (i, f.span)),
                _ => None,
            })
            .collect()
    };
    let targets: Vec<Vec<(usize, Span)>> = messages.iter().map(|m| targets(m)).collect();
    let edges: Vec<Vec<usize>> = targets
        .iter()
        .map(|t| t.iter().map(|&(i, _)| i).collect())
        .collect();
    let comp = brief_syntax::graph::components(&edges);
    for (i, m) in messages.iter().enumerate() {
        // An edge within its own component is on a cycle (a self-edge, or a
        // component of several messages, which a path links both ways).
        let on_cycle = targets[i]
            .iter()
            .copied()
            .find(|&(t, _)| comp[t] == comp[i]);
        if let Some((_, span)) = on_cycle {
            out.push(
                Diagnostic::error(
                    "B0041",
                    format!(
                        "message `{}` contains itself through required fields",
                        m.name.name
                    ),
                    file_id,
                    m.name.span,
                )
                .with_label("no value of this message can ever be complete")
                .with_related(file_id, span, "the cycle starts here")
                .with_hint("make a field on the cycle optional (`T?`) or a list"),
            );
        }
    }
}
