//! A small spanned value tree, lowered from the `toml` crate's spanned
//! document (`toml::de::DeTable`, which borrows the source).
//!
//! Validation, merging and resolution all work on this tree rather than on
//! the parser's types: it is owned (so per-environment merges can be cloned
//! and rearranged freely), every node knows its byte span and which layer of
//! the file (base or `[envs.<env>]`) it came from, and it has exactly the
//! shapes the app.toml format cares about.

use std::ops::Range;
use std::sync::Arc;

/// Which part of the file a node was written in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub(crate) enum Layer {
    /// The top level of the file (everything outside `[envs]`).
    Base,
    /// `[envs.<env>]`, by index into the file's override list.
    Env(usize),
}

/// One value with where it is in the source.
#[derive(Debug, Clone)]
pub(crate) struct Node {
    /// Byte span of the value; for a `[table]`, its header; for an implicit
    /// table (`[a.b]` creates `a`), the span of its key.
    pub(crate) span: Range<usize>,
    /// The layer this node was written in.
    pub(crate) layer: Layer,
    /// The value.
    pub(crate) value: Value,
}

/// The TOML value kinds.
#[derive(Debug, Clone)]
pub(crate) enum Value {
    String(Arc<str>),
    Integer(i64),
    Float(f64),
    Boolean(bool),
    Datetime(toml::value::Datetime),
    Array(Arc<[Node]>),
    Table(Table),
}

/// A table, keeping the source order of its keys (TOML forbids duplicates,
/// so lookups by name are unambiguous).
#[derive(Debug, Clone, Default)]
pub(crate) struct Table {
    pub(crate) entries: Vec<Entry>,
}

/// One `key = value` of a table.
#[derive(Debug, Clone)]
pub(crate) struct Entry {
    pub(crate) key: Arc<str>,
    pub(crate) key_span: Range<usize>,
    pub(crate) node: Node,
}

impl Table {
    pub(crate) fn get(&self, key: &str) -> Option<&Node> {
        self.entry(key).map(|e| &e.node)
    }

    pub(crate) fn entry(&self, key: &str) -> Option<&Entry> {
        self.entries.iter().find(|e| &*e.key == key)
    }

    pub(crate) fn get_mut(&mut self, key: &str) -> Option<&mut Node> {
        self.entries
            .iter_mut()
            .find(|e| &*e.key == key)
            .map(|e| &mut e.node)
    }

    pub(crate) fn remove(&mut self, key: &str) -> Option<Entry> {
        let i = self.entries.iter().position(|e| &*e.key == key)?;
        Some(self.entries.remove(i))
    }

    pub(crate) fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }
}

impl Node {
    pub(crate) fn as_table(&self) -> Option<&Table> {
        match &self.value {
            Value::Table(t) => Some(t),
            _ => None,
        }
    }

    pub(crate) fn as_str(&self) -> Option<&str> {
        match &self.value {
            Value::String(s) => Some(s),
            _ => None,
        }
    }

    pub(crate) fn as_integer(&self) -> Option<i64> {
        match self.value {
            Value::Integer(i) => Some(i),
            _ => None,
        }
    }

    pub(crate) fn as_bool(&self) -> Option<bool> {
        match self.value {
            Value::Boolean(b) => Some(b),
            _ => None,
        }
    }

    pub(crate) fn as_array(&self) -> Option<&[Node]> {
        match &self.value {
            Value::Array(a) => Some(a),
            _ => None,
        }
    }

    /// The TOML type name, for "expected X, found Y" messages.
    pub(crate) fn type_name(&self) -> &'static str {
        match &self.value {
            Value::String(_) => "string",
            Value::Integer(_) => "integer",
            Value::Float(_) => "float",
            Value::Boolean(_) => "boolean",
            Value::Datetime(_) => "date-time",
            Value::Array(_) => "array",
            Value::Table(_) => "table",
        }
    }

    /// Marks this node and every table entry below it as written in
    /// `layer`. Array items keep theirs: arrays are replaced as a whole, so
    /// only the array's own layer is ever asked for.
    pub(crate) fn set_layer(&mut self, layer: Layer) {
        self.layer = layer;
        if let Value::Table(t) = &mut self.value {
            t.entries.iter_mut().for_each(|e| e.node.set_layer(layer));
        }
    }
}

/// A value the TOML parser accepted but the tree cannot hold.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct LowerError {
    /// Where.
    pub(crate) span: Range<usize>,
    /// What, lowercase.
    pub(crate) message: String,
}

/// Lowers a parsed document into the tree (every node in [`Layer::Base`]),
/// entries in source order. Integers outside `i64` and floats that do not
/// parse are errors, all of them reported.
pub(crate) fn lower(doc: toml::de::DeTable<'_>) -> Result<Table, Vec<LowerError>> {
    let mut errors = Vec::new();
    let table = lower_table(doc, &mut errors);
    if errors.is_empty() {
        Ok(table)
    } else {
        Err(errors)
    }
}

fn lower_table(table: toml::de::DeTable<'_>, errors: &mut Vec<LowerError>) -> Table {
    let mut entries: Vec<Entry> = table
        .into_iter()
        .map(|(key, value)| {
            let key_span = key.span();
            Entry {
                key: Arc::from(key.into_inner().as_ref()),
                key_span,
                node: lower_value(value, errors),
            }
        })
        .collect();
    // The parser's map is ordered by key; the tree keeps the file's order.
    entries.sort_by_key(|e| e.key_span.start);
    Table { entries }
}

fn lower_value(value: toml::Spanned<toml::de::DeValue<'_>>, errors: &mut Vec<LowerError>) -> Node {
    use toml::de::DeValue;
    let span = value.span();
    let value = match value.into_inner() {
        DeValue::String(s) => Value::String(Arc::from(s.as_ref())),
        DeValue::Integer(i) => match i64::from_str_radix(i.as_str(), i.radix()) {
            Ok(n) => Value::Integer(n),
            Err(_) => {
                errors.push(LowerError {
                    span: span.clone(),
                    message: "integer out of range (the largest is 9223372036854775807)".to_owned(),
                });
                Value::Integer(0)
            }
        },
        DeValue::Float(f) => match f.as_str().parse::<f64>() {
            Ok(x) => Value::Float(x),
            Err(_) => {
                errors.push(LowerError {
                    span: span.clone(),
                    message: format!("invalid float `{}`", f.as_str()),
                });
                Value::Float(0.0)
            }
        },
        DeValue::Boolean(b) => Value::Boolean(b),
        DeValue::Datetime(d) => Value::Datetime(d),
        DeValue::Array(a) => Value::Array(a.into_iter().map(|v| lower_value(v, errors)).collect()),
        DeValue::Table(t) => Value::Table(lower_table(t, errors)),
    };
    Node {
        span,
        layer: Layer::Base,
        value,
    }
}

/// Byte offset to 1-based line and character column.
#[derive(Debug, Clone)]
pub(crate) struct LineIndex {
    starts: Vec<usize>,
}

impl LineIndex {
    pub(crate) fn new(text: &str) -> LineIndex {
        let mut starts = vec![0];
        starts.extend(text.match_indices('\n').map(|(i, _)| i + 1));
        LineIndex { starts }
    }

    /// 1-based line of a byte offset.
    pub(crate) fn line(&self, offset: usize) -> usize {
        self.starts.partition_point(|&s| s <= offset).max(1)
    }

    /// 1-based line and column (in characters) of a byte offset.
    pub(crate) fn line_column(&self, text: &str, offset: usize) -> (usize, usize) {
        let line = self.line(offset);
        let start = self.starts[line - 1];
        let end = offset.min(text.len());
        let column = text
            .get(start..end)
            .map_or(end.saturating_sub(start), |s| s.chars().count());
        (line, column + 1)
    }
}

/// A key path built while walking the tree, formatted only when a
/// diagnostic needs it (most keys are valid, so most paths are never
/// written out).
#[derive(Debug, Clone, Copy)]
pub(crate) enum Path<'a> {
    /// The top level of the file.
    Root,
    /// `parent.key`.
    Key(&'a Path<'a>, &'a str),
    /// `parent[index]`.
    Index(&'a Path<'a>, usize),
}

/// The top level of the file.
pub(crate) const ROOT: Path<'static> = Path::Root;

impl<'a> Path<'a> {
    pub(crate) fn key(&'a self, key: &'a str) -> Path<'a> {
        Path::Key(self, key)
    }

    pub(crate) fn index(&'a self, index: usize) -> Path<'a> {
        Path::Index(self, index)
    }
}

impl std::fmt::Display for Path<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Path::Root => Ok(()),
            Path::Key(Path::Root, key) => f.write_str(&key_segment(key)),
            Path::Key(parent, key) => write!(f, "{parent}.{}", key_segment(key)),
            Path::Index(parent, index) => write!(f, "{parent}[{index}]"),
        }
    }
}

/// Formats a key for a key path: bare when it can be, quoted otherwise.
pub(crate) fn key_segment(key: &str) -> std::borrow::Cow<'_, str> {
    let bare = !key.is_empty()
        && key
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-');
    if bare {
        key.into()
    } else {
        format!("{key:?}").into()
    }
}

/// `prefix.key`, with `key` quoted when needed.
pub(crate) fn join(prefix: &str, key: &str) -> String {
    let seg = key_segment(key);
    if prefix.is_empty() {
        seg.into_owned()
    } else {
        format!("{prefix}.{seg}")
    }
}
