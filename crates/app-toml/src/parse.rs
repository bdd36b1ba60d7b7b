//! From bytes to a validated [`Parsed`] file: decoding, TOML parsing with
//! spans, per-layer checks, then per-environment merged checks. Every
//! problem is collected; nothing stops at the first one except the three
//! whole-file failures (not UTF-8, empty, not TOML).

use std::ops::Range;

use crate::check::Checker;
use crate::merge::{self, MergedCheck};
use crate::tree::{self, Layer, LineIndex, Table};
use crate::{Diagnostic, DiagnosticKind, Diagnostics, Error, ParseOptions};

/// A validated file, split into its base and its override layers.
#[derive(Debug, Clone)]
pub(crate) struct Parsed {
    /// The service name (file or fallback).
    pub(crate) name: String,
    /// Whether `name` came from the file (else from the fallback).
    pub(crate) name_in_file: bool,
    /// The top level of the file without `envs`.
    pub(crate) base: Table,
    /// `[envs.<env>]` tables, in file order; `Layer::Env(i)` indexes this.
    pub(crate) overrides: Vec<Override>,
    /// The platform's environments.
    pub(crate) environments: Vec<String>,
    /// For the lines of [`crate::Origin`].
    pub(crate) lines: LineIndex,
}

/// One `[envs.<env>]` layer.
#[derive(Debug, Clone)]
pub(crate) struct Override {
    pub(crate) env: String,
    pub(crate) table: Table,
    /// The `unset` paths, split into keys.
    pub(crate) unset: Vec<Vec<String>>,
}

pub(crate) fn parse(source: &[u8], options: &ParseOptions<'_>) -> Result<Parsed, Error> {
    let text = match std::str::from_utf8(source) {
        Ok(text) => text,
        Err(e) => {
            let lossy = String::from_utf8_lossy(source).into_owned();
            let at = e.valid_up_to();
            let len = e.error_len().unwrap_or(source.len() - at);
            let byte = source.get(at).copied().unwrap_or_default();
            return Err(fail(
                options,
                &lossy,
                Diagnostic {
                    kind: DiagnosticKind::NotUtf8,
                    path: String::new(),
                    line: 0,
                    column: 0,
                    span: Some(at..at + len),
                    message: format!("the file is not UTF-8: invalid byte 0x{byte:02x}"),
                    hint: Some("save app.toml as UTF-8".to_owned()),
                },
            ));
        }
    };
    // Editors on some systems save a byte order mark, which TOML does not
    // allow; it is invisible, so positions are counted without it (and
    // spans are relative to `Diagnostics::source`, which omits it too).
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    // The recovering parser reports every syntax error of the file, not
    // only the first.
    let (doc, errors) = toml::de::DeTable::parse_recoverable(text);
    if !errors.is_empty() {
        let items = errors.iter().map(|e| syntax(text, e)).collect();
        let mut diagnostics = finish(options, text, items);
        drop_cascades(&mut diagnostics.items);
        return Err(Error::Invalid(diagnostics));
    }
    let root = match tree::lower(doc.into_inner()) {
        Ok(root) => root,
        Err(errors) => {
            let items = errors
                .into_iter()
                .map(|e| Diagnostic {
                    kind: DiagnosticKind::Syntax,
                    path: String::new(),
                    line: 0,
                    column: 0,
                    span: Some(e.span),
                    message: format!("invalid TOML: {}", e.message),
                    hint: None,
                })
                .collect();
            return Err(Error::Invalid(finish(options, text, items)));
        }
    };
    if root.is_empty() {
        return Err(fail(
            options,
            text,
            Diagnostic {
                kind: DiagnosticKind::Empty,
                path: String::new(),
                line: 0,
                column: 0,
                span: None,
                message: "the file is empty".to_owned(),
                hint: Some("an app.toml needs at least `[engine]` with a `name`".to_owned()),
            },
        ));
    }

    let vocabulary = options.vocabulary;
    let mut checker = Checker::new(text, vocabulary);
    checker.file(&root);

    let (base, overrides) = split(&mut checker, root);
    let (name, name_in_file) = service_name(&mut checker, &base, options);

    // Cross-field checks on each environment's merged result.
    let env_names: Vec<String> = overrides.iter().map(|o| o.env.clone()).collect();
    let targets: Vec<Option<&str>> = if vocabulary.environments.is_empty() {
        vec![None]
    } else {
        vocabulary
            .environments
            .iter()
            .map(|e| Some(e.as_str()))
            .collect()
    };
    let mut collected: Vec<(Diagnostic, Vec<&str>)> = Vec::new();
    let mut base_result: Option<Vec<Diagnostic>> = None;
    for target in &targets {
        let over = target.and_then(|env| overrides.iter().find(|o| o.env == env));
        let run = |root: &Table| {
            let mut sub = Checker::new(text, vocabulary);
            MergedCheck {
                checker: &mut sub,
                envs: &env_names,
                service: &name,
            }
            .run(root);
            sub.diagnostics
        };
        let found = match over {
            None => base_result.get_or_insert_with(|| run(&base)).clone(),
            Some(o) => run(&merge::merge(&base, Some(&o.table), &o.unset)),
        };
        for d in found {
            let env = target.unwrap_or_default();
            match collected.iter_mut().find(|(x, _)| *x == d) {
                Some((_, envs)) => envs.push(env),
                None => collected.push((d, vec![env])),
            }
        }
    }
    for (mut d, envs) in collected {
        if envs.len() < targets.len() {
            d.message
                .push_str(&format!(" when resolved for {}", and_list(&envs)));
        }
        checker.diagnostics.push(d);
    }

    if checker.diagnostics.is_empty() {
        Ok(Parsed {
            name,
            name_in_file,
            base,
            overrides,
            environments: vocabulary.environments.clone(),
            lines: LineIndex::new(text),
        })
    } else {
        Err(Error::Invalid(finish(options, text, checker.diagnostics)))
    }
}

/// Separates the base from the `[envs.<env>]` layers, tags each layer's
/// nodes, and checks the `unset` lists against the base.
fn split(checker: &mut Checker<'_>, mut root: Table) -> (Table, Vec<Override>) {
    let envs = root.remove("envs");
    let base = root;
    let mut overrides = Vec::new();
    if let Some(tree::Value::Table(envs)) = envs.map(|e| e.node.value) {
        for (i, entry) in envs.entries.into_iter().enumerate() {
            let mut node = entry.node;
            node.set_layer(Layer::Env(i));
            let tree::Value::Table(table) = node.value else {
                // Reported by the per-layer checks; keep the index stable.
                overrides.push(Override {
                    env: entry.key.to_string(),
                    table: Table::default(),
                    unset: Vec::new(),
                });
                continue;
            };
            let unset = match table.get("unset") {
                Some(list) => merge::check_unset(checker, &base, &entry.key, list),
                None => Vec::new(),
            };
            overrides.push(Override {
                env: entry.key.to_string(),
                table,
                unset,
            });
        }
    }
    (base, overrides)
}

/// The service name from the file, else the fallback; reports when neither
/// is there or the fallback is invalid (the file's `name` was checked with
/// the other keys).
fn service_name(
    checker: &mut Checker<'_>,
    base: &Table,
    options: &ParseOptions<'_>,
) -> (String, bool) {
    if let Some(node) = base.get("name") {
        return (node.as_str().unwrap_or_default().to_owned(), true);
    }
    match options.fallback_name {
        Some(name) => {
            checker.service_name(
                name,
                "name",
                None,
                " (from --service or the directory name)",
            );
            (name.to_owned(), false)
        }
        None => {
            checker.push(
                DiagnosticKind::MissingKey,
                "name",
                None,
                "missing service name",
                Some(
                    "add `name = \"my-service\"` at the top of app.toml or pass --service"
                        .to_owned(),
                ),
            );
            (String::new(), false)
        }
    }
}

/// Keeps the syntax errors a reader can act on: the first of each line (the
/// parser's recovery often reports one mistake several times), and, when a
/// bracket or quote is left open, only the first error and that one (what
/// lies between was read inside the open construct and means nothing).
fn drop_cascades(items: &mut Vec<Diagnostic>) {
    if let Some(open) = items
        .iter()
        .position(|d| d.message.starts_with("invalid TOML: unclosed"))
        && open > 1
    {
        let unclosed = items.remove(open);
        items.truncate(1);
        items.push(unclosed);
        return;
    }
    let mut line = 0;
    items.retain(|d| std::mem::replace(&mut line, d.line) != d.line);
}

fn syntax(text: &str, e: &toml::de::Error) -> Diagnostic {
    let span: Option<Range<usize>> = e.span();
    let mut message = e.message().trim().replace('\n', "; ");
    if let Some(first) = message.get(..1) {
        let lower = first.to_lowercase();
        message.replace_range(..1, &lower);
    }
    if message == "duplicate key"
        && let Some(key) = span.clone().and_then(|s| text.get(s))
    {
        message = format!("duplicate key `{key}`");
    }
    Diagnostic {
        kind: DiagnosticKind::Syntax,
        path: String::new(),
        line: 0,
        column: 0,
        span,
        message: format!("invalid TOML: {message}"),
        hint: None,
    }
}

fn and_list(items: &[&str]) -> String {
    match items {
        [] => String::new(),
        [one] => format!("`{one}`"),
        [init @ .., last] => format!(
            "{} and `{last}`",
            init.iter()
                .map(|i| format!("`{i}`"))
                .collect::<Vec<_>>()
                .join(", ")
        ),
    }
}

fn fail(options: &ParseOptions<'_>, text: &str, diagnostic: Diagnostic) -> Error {
    Error::Invalid(finish(options, text, vec![diagnostic]))
}

/// Fills in lines and columns, sorts by position and removes duplicates.
fn finish(options: &ParseOptions<'_>, text: &str, mut items: Vec<Diagnostic>) -> Diagnostics {
    let lines = LineIndex::new(text);
    for d in &mut items {
        let (line, column) = match &d.span {
            Some(span) => lines.line_column(text, span.start),
            None => (1, 1),
        };
        d.line = line;
        d.column = column;
        escape_controls(&mut d.path);
        escape_controls(&mut d.message);
        if let Some(hint) = &mut d.hint {
            escape_controls(hint);
        }
    }
    items.sort_by(|a, b| {
        (a.line, a.column, &a.path, &a.message).cmp(&(b.line, b.column, &b.path, &b.message))
    });
    items.dedup();
    let mut file = options.file_name.to_owned();
    escape_controls(&mut file);
    Diagnostics {
        file,
        source: text.to_owned(),
        items,
    }
}

/// Writes control characters that came from the file (a `\n` inside a
/// quoted key or string, an escape sequence) as Rust escapes, so that one
/// problem stays one line and nothing in a file can drive the terminal.
fn escape_controls(text: &mut String) {
    if text.chars().any(char::is_control) {
        *text = text
            .chars()
            .map(|c| {
                if c.is_control() {
                    c.escape_default().to_string()
                } else {
                    c.to_string()
                }
            })
            .collect();
    }
}
