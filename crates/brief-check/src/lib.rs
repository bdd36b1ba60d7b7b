//! The Brief checker and contract tools.
//!
//! - [`check`]: name resolution and the rules of one file (duplicates,
//!   undefined types, unused messages, required cycles).
//! - [`compat`]: a client contract against its server (direction-aware).
//! - [`usage`]: which server rpcs and fields each client uses, and which none do.
//! - [`diff`]: changes between two server versions, breaking only when they
//!   break a named client (or, without clients, any possible client).
//! - [`render`]: rustc-style text and JSON output of diagnostics.
//!
//! **Architecture Invariant:** no I/O here: sources come in as strings,
//! reports go out as values and strings.

pub mod check;
pub mod compat;
pub mod diff;
pub mod render;
pub mod usage;

mod model;

pub use check::check;
pub use model::{Schema, TypeDef};

use brief_syntax::{Diagnostic, File, parse};

/// One named source text (a path or a label) and its index in a source list.
#[derive(Debug, Clone)]
pub struct Source {
    /// Shown in diagnostics (`--> name:line:col`).
    pub name: String,
    /// The text.
    pub text: String,
}

/// A parsed and checked file.
#[derive(Debug, Clone)]
pub struct Checked {
    /// The syntax tree (partial if there were syntax errors).
    pub file: File,
    /// Syntax and semantic diagnostics, syntax first.
    pub diagnostics: Vec<Diagnostic>,
}

impl Checked {
    /// True when no diagnostic is an error.
    pub fn ok(&self) -> bool {
        !self.diagnostics.iter().any(Diagnostic::is_error)
    }
}

/// Parses and checks `text` as file number `file_id`.
pub fn parse_and_check(text: &str, file_id: usize) -> Checked {
    let parsed = parse(text, file_id);
    let mut diagnostics = parsed.diagnostics;
    let syntax_errors = !diagnostics.is_empty();
    // After a syntax error the tree is partial: a message may look unused only
    // because the rpc that uses it was skipped, so drop that warning then.
    diagnostics.extend(
        check(&parsed.file, file_id)
            .into_iter()
            .filter(|d| !(syntax_errors && d.code == "B0040")),
    );
    diagnostics.sort_by_key(|d| d.labels.first().map(|l| (l.span.start, l.span.end)));
    Checked {
        file: parsed.file,
        diagnostics,
    }
}

#[cfg(test)]
mod tests;
