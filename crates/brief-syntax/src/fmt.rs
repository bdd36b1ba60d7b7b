//! The canonical formatter behind `brief fmt`. Layout is a pure function of
//! the tree (source whitespace is ignored), so formatting is idempotent:
//! one blank line between declarations (none between consecutive `rpc` or
//! `schema` lines), four-space indentation, field names, types and docs in
//! aligned columns, and every comment kept: a comment at the end of a line
//! (after an item, a field, a member or an opening brace) stays at the end
//! of that line; a comment on a line of its own stays before the next
//! declaration, field or member (or before the closing brace, or at the end
//! of the file).

use crate::ast::*;
use std::fmt::Write;

/// Formats a parsed file canonically.
pub fn format(file: &File) -> String {
    let mut out = String::new();
    let mut prev: Option<&ItemKind> = None;
    for item in &file.items {
        if let Some(prev) = prev {
            let same_line_kind = matches!(
                (prev, &item.kind),
                (ItemKind::Rpc(_), ItemKind::Rpc(_)) | (ItemKind::Schema(_), ItemKind::Schema(_))
            );
            if !same_line_kind || !item.comments.is_empty() {
                out.push('\n');
            }
        }
        comments(&mut out, &item.comments, "");
        match &item.kind {
            ItemKind::Service(s) => {
                let _ = write!(out, "service \"{}\"", s.name.value);
            }
            ItemKind::Rpc(r) => {
                let _ = write!(
                    out,
                    "rpc {} ({}) {}",
                    r.name.name, r.input.name, r.output.name
                );
                doc(&mut out, &r.doc);
            }
            ItemKind::Schema(s) => {
                let _ = write!(out, "schema \"{}\" {}", s.topic.value, s.message.name);
                doc(&mut out, &s.doc);
            }
            ItemKind::Message(m) => message(&mut out, m),
            ItemKind::Enum(e) => enumeration(&mut out, e),
        }
        trailing(&mut out, &item.trailing_comment);
        out.push('\n');
        prev = Some(&item.kind);
    }
    if !file.trailing_comments.is_empty() {
        if !file.items.is_empty() {
            out.push('\n');
        }
        comments(&mut out, &file.trailing_comments, "");
    }
    out
}

fn comments(out: &mut String, comments: &[String], indent: &str) {
    for c in comments {
        let _ = writeln!(out, "{indent}//{c}");
    }
}

fn doc(out: &mut String, doc: &Option<Doc>) {
    if let Some(d) = doc {
        let _ = write!(out, " `{}`", d.text);
    }
}

fn trailing(out: &mut String, comment: &Option<String>) {
    if let Some(c) = comment {
        let _ = write!(out, " //{c}");
    }
}

fn message(out: &mut String, m: &Message) {
    let _ = write!(out, "message {} {{", m.name.name);
    if m.fields.is_empty() && m.inner_comments.is_empty() && m.open_comment.is_none() {
        out.push('}');
        return;
    }
    trailing(out, &m.open_comment);
    out.push('\n');
    let types: Vec<String> = m
        .fields
        .iter()
        .map(|f| format!("{}{}", f.ty, if f.optional { "?" } else { "" }))
        .collect();
    let name_w = m
        .fields
        .iter()
        .map(|f| f.name.name.chars().count())
        .max()
        .unwrap_or(0);
    let type_w = types.iter().map(|t| t.chars().count()).max().unwrap_or(0);
    for (f, ty) in m.fields.iter().zip(&types) {
        comments(out, &f.comments, "    ");
        let mut line = format!("    {:<name_w$} ", f.name.name);
        if f.doc.is_some() {
            let _ = write!(line, "{ty:<type_w$}");
        } else {
            line.push_str(ty);
        }
        doc(&mut line, &f.doc);
        trailing(&mut line, &f.trailing_comment);
        out.push_str(line.trim_end());
        out.push('\n');
    }
    comments(out, &m.inner_comments, "    ");
    out.push('}');
}

fn enumeration(out: &mut String, e: &Enum) {
    let _ = write!(out, "enum {} {{", e.name.name);
    if e.variants.is_empty() && e.inner_comments.is_empty() && e.open_comment.is_none() {
        out.push('}');
        return;
    }
    trailing(out, &e.open_comment);
    out.push('\n');
    let name_w = e
        .variants
        .iter()
        .map(|v| v.name.name.chars().count())
        .max()
        .unwrap_or(0);
    for v in &e.variants {
        comments(out, &v.comments, "    ");
        // Pad the name only when a doc follows, so nothing trails spaces.
        let mut line = if v.doc.is_some() {
            format!("    {:<name_w$}", v.name.name)
        } else {
            format!("    {}", v.name.name)
        };
        doc(&mut line, &v.doc);
        trailing(&mut line, &v.trailing_comment);
        out.push_str(line.trim_end());
        out.push('\n');
    }
    comments(out, &e.inner_comments, "    ");
    out.push('}');
}
