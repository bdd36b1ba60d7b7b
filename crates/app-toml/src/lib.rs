//! The `app.toml` model.
//!
//! One file at the root of a service's repository describes what is specific
//! to that service, for every environment at once (`../shared/spec/app-toml.md`).
//! This crate parses it keeping source spans, validates it reporting every
//! error of the file at once (each with `file:line:column`, the key path and a
//! hint), resolves it for one environment into a fully typed [`App`], and
//! describes the file format as a JSON Schema.
//!
//! **Architecture Invariant:** this crate is pure. It does no I/O, reads no
//! environment variables and holds no clock: the file's bytes, the platform's
//! vocabulary and "today" come in as values.
//!
//! How a file flows through the modules: `tree` lowers the `toml` crate's
//! spanned document (parsed with error recovery, so every syntax error is
//! reported) into a small owned tree where every node has its span and the
//! layer (base or `[envs.<env>]`) it was written in; `check` applies the
//! per-key rules (types, ranges, names, vocabulary, unknown keys) to each
//! layer on its own; `merge` builds every environment's view, `(base -
//! unset) + override`, and applies the rules that span several keys there,
//! so that a diagnostic points at whichever layer provided the value;
//! `resolve` reads a merged view into [`App`] and its origins; `render`
//! prints diagnostics the way rustc does; `schema` describes the file
//! format for editors.

mod model;

pub use model::*;
pub use schema::SchemaDraft;

use std::collections::BTreeMap;
use std::fmt;
use std::ops::Range;

/// What the platform config allows, passed in so that this crate does not
/// depend on the platform config crate, plus "today" for exception expiry.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Vocabulary {
    /// Known engine names (`golang`, `python`, ...).
    pub engines: Vec<String>,
    /// Known size preset names (`xsmall` ... `xlarge`).
    pub sizes: Vec<String>,
    /// Known environment names (`prod`, `staging`, `dev`, `local`).
    pub environments: Vec<String>,
    /// Today's date, used to reject expired exceptions.
    pub today: Date,
}

/// Inputs to [`parse`] besides the bytes.
#[derive(Debug, Clone, Copy)]
pub struct ParseOptions<'a> {
    /// File name used in diagnostics (e.g. `services/wordcounter/app.toml`).
    pub file_name: &'a str,
    /// Service name used when the file has no `name` key (from `--service`,
    /// else the directory name). It is validated like `name`.
    pub fallback_name: Option<&'a str>,
    /// What the platform allows.
    pub vocabulary: &'a Vocabulary,
}

/// Kinds of problems found in an app.toml; each has its own test.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, serde::Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum DiagnosticKind {
    /// The bytes are not UTF-8.
    NotUtf8,
    /// The file is empty (or only whitespace and comments).
    Empty,
    /// The text is not valid TOML.
    Syntax,
    /// A value has the wrong TOML type.
    Type,
    /// A number is out of its allowed range.
    Range,
    /// A key the format does not have.
    UnknownKey,
    /// A required key is missing.
    MissingKey,
    /// `[envs.<env>]` names an environment the platform does not have.
    UnknownEnvironment,
    /// `[engine] name` is not an engine of the platform.
    UnknownEngine,
    /// A size that is not a preset of the platform.
    UnknownSize,
    /// A value outside its enumeration (kind, criticality, strategy, ...).
    UnknownVariant,
    /// A name that is not a DNS-1123 label, POSIX variable name, etc.
    InvalidName,
    /// Two ports with the same number.
    DuplicatePort,
    /// A `schedule` that is not a valid 5-field cron expression.
    InvalidCron,
    /// `[dependencies.<self>]`.
    SelfDependency,
    /// An exception whose `expires` date is before today.
    ExpiredException,
    /// An `unset` path that names nothing.
    InvalidUnset,
    /// Any other semantic inconsistency (autoscale min > max, `image` on a
    /// non-generic engine, ...).
    Invalid,
}

/// One problem in an app.toml, located in the source.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Diagnostic {
    /// What kind of problem this is.
    pub kind: DiagnosticKind,
    /// Key path, e.g. `envs.prod.replicas` ("" for whole-file problems).
    pub path: String,
    /// 1-based line.
    pub line: usize,
    /// 1-based column, in characters.
    pub column: usize,
    /// Byte range in [`Diagnostics::source`] (the file without a leading
    /// byte order mark), when known.
    #[serde(skip)]
    pub span: Option<Range<usize>>,
    /// What is wrong, lowercase, without a trailing period.
    pub message: String,
    /// How to fix it, when obvious ("did you mean `replicas`?").
    pub hint: Option<String>,
}

/// Every problem of one file, in source order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Diagnostics {
    /// The file name given in [`ParseOptions::file_name`].
    pub file: String,
    /// The source text (lossy UTF-8), for rendering snippets.
    pub source: String,
    /// The problems, sorted by position.
    pub items: Vec<Diagnostic>,
}

impl fmt::Display for Diagnostics {
    /// One line per problem: `file:line:column: path: message (hint)`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, d) in self.items.iter().enumerate() {
            if i > 0 {
                writeln!(f)?;
            }
            write!(f, "{}:{}:{}: ", self.file, d.line, d.column)?;
            if !d.path.is_empty() {
                write!(f, "{}: ", d.path)?;
            }
            f.write_str(&d.message)?;
            if let Some(hint) = &d.hint {
                write!(f, " ({hint})")?;
            }
        }
        Ok(())
    }
}

impl std::error::Error for Diagnostics {}

/// Errors of this crate besides file diagnostics.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Error {
    /// The app.toml has problems; every one of them is inside.
    #[error("{0}")]
    Invalid(Diagnostics),
    /// [`AppFile::resolve`] was asked for an environment the platform does not have.
    #[error("unknown environment `{name}` (expected one of {})", known.join(", "))]
    UnknownEnvironment {
        /// The requested name.
        name: String,
        /// The platform's environments.
        known: Vec<String>,
    },
}

/// A parsed and validated app.toml, not yet resolved for an environment.
#[derive(Debug, Clone)]
pub struct AppFile {
    inner: parse::Parsed,
}

/// One environment's resolution: the typed value plus where each leaf came from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Resolved {
    /// The typed, defaulted service description.
    pub app: App,
    /// Provenance of every leaf value, by key path (`replicas`,
    /// `env.LOG_LEVEL`, `autoscale.min`, ...). Keys missing here come from
    /// defaults.
    pub origins: BTreeMap<String, Origin>,
}

impl Resolved {
    /// Where the value at `path` came from ([`Origin::Default`] when the file does not set it).
    pub fn origin(&self, path: &str) -> Origin {
        self.origins.get(path).cloned().unwrap_or(Origin::Default)
    }
}

/// Parses and validates an app.toml. Returns every problem of the file at
/// once; never panics, whatever the bytes.
pub fn parse(source: &[u8], options: &ParseOptions<'_>) -> Result<AppFile, Error> {
    parse::parse(source, options).map(|inner| AppFile { inner })
}

impl AppFile {
    /// The service name (from `name`, else the fallback name).
    pub fn name(&self) -> &str {
        self.inner.name()
    }

    /// Resolves the file for one environment: `[envs.<env>]` merged into the
    /// base (tables key by key, scalars and arrays replaced), `unset` applied,
    /// defaults filled in. Never fails for a known environment.
    pub fn resolve(&self, env: &str) -> Result<Resolved, Error> {
        self.inner.resolve(env, true)
    }

    /// [`AppFile::resolve`] without [`Resolved::origins`] (left empty): the
    /// provenance is only read by `--explain`, and a plain render need not
    /// pay for a map of every key path.
    pub fn resolve_app(&self, env: &str) -> Result<Resolved, Error> {
        self.inner.resolve(env, false)
    }
}

/// The JSON Schema of the app.toml file format (draft 2020-12), with
/// descriptions, enumerations, defaults and examples, for Taplo / Even Better TOML.
pub fn json_schema() -> serde_json::Value {
    schema::json_schema(SchemaDraft::Draft2020_12)
}

/// [`json_schema`] in a chosen dialect (draft-07 for older tools).
pub fn json_schema_for(draft: SchemaDraft) -> serde_json::Value {
    schema::json_schema(draft)
}

mod check;
mod cron;
mod merge;
mod names;
mod parse;
mod render;
mod resolve;
mod schema;
mod tree;

#[cfg(test)]
mod tests;
