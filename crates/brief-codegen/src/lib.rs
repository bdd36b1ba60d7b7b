//! Brief code generators. Both are pure functions of a checked syntax tree
//! (run `brief_check` first: generating from a file with errors gives
//! unspecified, though never panicking, output).
//!
//! - [`rust()`]: serde types, a server trait and an axum router, a
//!   Brief-RPC/1 client (all through the `brief-rt` crate), and event topics
//!   with publisher/subscriber traits.
//! - [`proto()`]: the equivalent proto3 file, accepted by `protoc`.
//!
//! Output carries a header naming the source and the schema's content hash
//! ([`schema_hash`]: SHA-256 of the canonical formatting, so reformatting a
//! schema does not change it).
//!
//! **Architecture Invariant:** no I/O; the `brief` binary writes files and
//! runs rustfmt.

mod names;
mod proto;
mod rust;

pub use proto::problems as proto_problems;
pub use proto::proto;
pub use rust::problems as rust_problems;
pub use rust::{RustOptions, rust};

use brief_syntax::{Diagnostic, File, Severity, Span};
use sha2::{Digest, Sha256};

/// Code generation failures: things a valid Brief schema can say that a
/// target cannot express faithfully. Each names the Brief spans at fault;
/// [`Error::diagnostic`] turns it into a diagnostic (an error for `brief
/// gen`, a warning for `brief check`, see [`lint`]).
#[derive(Debug, thiserror::Error, PartialEq, Eq, Clone)]
pub enum Error {
    /// Two Brief names map to the same target identifier.
    #[error("`{first}` and `{second}` both become `{ident}` in {target}")]
    NameCollision {
        /// First Brief name.
        first: String,
        /// Second Brief name.
        second: String,
        /// The shared identifier.
        ident: String,
        /// `Rust` or `proto`.
        target: &'static str,
        /// Where the first and the second name are declared.
        spans: [Span; 2],
    },
    /// Two fields of a message whose proto3 JSON names conflict (protoc
    /// compares them lower-cased, without underscores); renaming either
    /// would change the wire format, so there is no faithful mapping.
    #[error(
        "fields `{message}.{first}` and `{message}.{second}` have the same JSON camel-case name in proto3"
    )]
    JsonNameConflict {
        /// The message.
        message: String,
        /// First field.
        first: String,
        /// Second field.
        second: String,
        /// Where both fields are declared.
        spans: [Span; 2],
    },
}

impl Error {
    /// The diagnostic for this failure in file `file_id`, with `severity`.
    pub fn diagnostic(&self, file_id: usize, severity: Severity) -> Diagnostic {
        let (code, labels, hint): (&'static str, Vec<(Span, String)>, String) = match self {
            Error::NameCollision {
                first,
                second,
                ident,
                target,
                spans,
            } => (
                if *target == "proto" { "B0201" } else { "B0202" },
                vec![
                    (spans[1], format!("becomes `{ident}` in {target}")),
                    (spans[0], format!("`{first}` becomes `{ident}` too")),
                ],
                format!(
                    "rename `{second}` or `{first}` so they differ by more than case, underscores or punctuation"
                ),
            ),
            Error::JsonNameConflict {
                first,
                second,
                spans,
                ..
            } => (
                "B0200",
                vec![
                    (spans[1], "same JSON camel-case name in proto3".to_string()),
                    (spans[0], format!("as `{first}`")),
                ],
                format!(
                    "rename `{second}` or `{first}`; protoc rejects fields whose names differ only by case or underscores"
                ),
            ),
        };
        let message = self.to_string();
        let mut labels = labels.into_iter();
        let (primary, label) = labels.next().unwrap_or_default();
        let mut d = match severity {
            Severity::Error => Diagnostic::error(code, message, file_id, primary),
            Severity::Warning => Diagnostic::warning(code, message, file_id, primary),
        }
        .with_label(label)
        .with_hint(hint);
        for (span, msg) in labels {
            d = d.with_related(file_id, span, msg);
        }
        d
    }
}

/// Warnings for names the generators cannot map faithfully: every
/// [`Error`] `brief gen rust` (server or client mode) or `brief gen proto`
/// would stop at, so `brief check` reports them before anyone generates.
pub fn lint(file: &File, file_id: usize) -> Vec<Diagnostic> {
    let mut errors = proto::problems(file);
    for client in [false, true] {
        for e in rust::problems(file, client) {
            if !errors.contains(&e) {
                errors.push(e);
            }
        }
    }
    let mut out: Vec<Diagnostic> = errors
        .iter()
        .map(|e| e.diagnostic(file_id, Severity::Warning))
        .collect();
    out.sort_by_key(|d| d.labels.first().map(|l| (l.span.start, l.span.end)));
    out
}

/// `sha256:<hex>` of the canonical formatting of `file`.
pub fn schema_hash(file: &brief_syntax::File) -> String {
    hash_of_canonical(&brief_syntax::fmt::format(file))
}

/// [`schema_hash`] of an already formatted (canonical) schema text.
pub(crate) fn hash_of_canonical(canonical: &str) -> String {
    let digest = Sha256::digest(canonical.as_bytes());
    let mut hex = String::with_capacity(64);
    for b in digest {
        hex.push_str(&format!("{b:02x}"));
    }
    format!("sha256:{hex}")
}

#[cfg(test)]
mod tests;
