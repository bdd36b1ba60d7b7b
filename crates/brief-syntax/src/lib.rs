//! Brief IDL syntax: the lexer, a recovering recursive-descent parser, the AST
//! with byte spans, the diagnostic model shared by every Brief tool, and the
//! canonical formatter.
//!
//! **Architecture Invariant:** this crate does no I/O; it takes source text and
//! returns values. It never panics on any input (see the proptest in `tests.rs`).

pub mod ast;
pub mod diag;
pub mod fmt;
pub mod graph;
pub mod lexer;
pub mod parser;
pub mod span;

pub use ast::*;
pub use diag::{Diagnostic, Label, Severity};
pub use parser::parse;
pub use span::{LineIndex, Span};

#[cfg(test)]
mod tests;
