//! Output of diagnostics: rustc-style text (annotate-snippets, code, file:line:column,
//! carets under every span, the hint as `help:`) and JSON for machines.

use crate::Source;
use annotate_snippets::{AnnotationKind, Group, Level, Renderer, Snippet};
use brief_syntax::{Diagnostic, LineIndex, Severity};
use serde::Serialize;

/// Renders diagnostics as text; `color` adds ANSI styles.
///
/// Linear in the number of diagnostics plus the size of the sources: line
/// starts are indexed once per file, and each diagnostic's snippet is only
/// the lines its labels cover (annotate-snippets scans whatever source it
/// is given, so handing it the whole file per diagnostic was quadratic).
pub fn text(diags: &[Diagnostic], sources: &[Source], color: bool) -> String {
    let renderer = if color {
        Renderer::styled()
    } else {
        Renderer::plain()
    };
    let indexes: Vec<LineIndex> = sources.iter().map(|s| LineIndex::new(&s.text)).collect();
    let mut out = String::new();
    for d in diags {
        let level = match d.severity {
            Severity::Error => Level::ERROR,
            Severity::Warning => Level::WARNING,
        };
        let mut group = Group::with_title(level.primary_title(d.message.as_str()).id(d.code));
        // One snippet per file, in order of first appearance; the first label is primary.
        let mut files: Vec<usize> = Vec::new();
        for l in &d.labels {
            if !files.contains(&l.file) {
                files.push(l.file);
            }
        }
        for f in files {
            let (Some(src), Some(index)) = (sources.get(f), indexes.get(f)) else {
                continue;
            };
            let labels = || d.labels.iter().enumerate().filter(|(_, l)| l.file == f);
            // The lines the labels cover, and nothing else.
            let first = labels()
                .map(|(_, l)| index.line_of(l.span.start as usize))
                .min()
                .unwrap_or(0);
            let last = labels()
                .map(|(_, l)| index.line_of(l.span.end as usize))
                .max()
                .unwrap_or(first);
            let window = clamp(index.lines(first, last), &src.text);
            let text = &src.text[window.clone()];
            let mut snippet = Snippet::source(text)
                .line_start(first + 1)
                .path(src.name.as_str())
                .fold(true);
            for (i, l) in labels() {
                let kind = if i == 0 {
                    AnnotationKind::Primary
                } else {
                    AnnotationKind::Context
                };
                let r = l.span.range();
                let rel = r.start.saturating_sub(window.start)..r.end.saturating_sub(window.start);
                let range = clamp(rel, text);
                snippet = snippet.annotation(kind.span(range).label(l.message.as_str()));
            }
            group = group.element(snippet);
        }
        if let Some(h) = &d.hint {
            group = group.element(Level::HELP.message(h.as_str()));
        }
        let report: &[Group<'_>] = &[group];
        out.push_str(&renderer.render(report));
        out.push_str("\n\n");
    }
    out
}

/// A span clamped to the text and to character boundaries.
fn clamp(r: std::ops::Range<usize>, text: &str) -> std::ops::Range<usize> {
    let fix = |mut i: usize| {
        i = i.min(text.len());
        while !text.is_char_boundary(i) {
            i -= 1;
        }
        i
    };
    fix(r.start)..fix(r.end)
}

/// The one-line summary rustc prints at the end.
pub fn summary(diags: &[Diagnostic]) -> String {
    let errors = diags.iter().filter(|d| d.is_error()).count();
    let warnings = diags.len() - errors;
    let plural = |n: usize, w: &str| format!("{n} {w}{}", if n == 1 { "" } else { "s" });
    match (errors, warnings) {
        (0, 0) => "ok".into(),
        (0, w) => plural(w, "warning"),
        (e, 0) => plural(e, "error"),
        (e, w) => format!("{}, {}", plural(e, "error"), plural(w, "warning")),
    }
}

/// A label with resolved positions, for JSON.
#[derive(Debug, Serialize)]
pub struct JsonLabel<'a> {
    /// File name.
    pub file: &'a str,
    /// 1-based start line.
    pub line: usize,
    /// 1-based start column (characters).
    pub column: usize,
    /// 1-based end line.
    pub end_line: usize,
    /// 1-based end column (exclusive).
    pub end_column: usize,
    /// Byte offsets.
    pub start: u32,
    /// Byte offset one past the end.
    pub end: u32,
    /// The label text.
    pub message: &'a str,
    /// The first label is the primary one.
    pub primary: bool,
}

/// A diagnostic for JSON.
#[derive(Debug, Serialize)]
pub struct JsonDiagnostic<'a> {
    /// `error` or `warning`.
    pub severity: Severity,
    /// `B0001`...
    pub code: &'a str,
    /// One line.
    pub message: &'a str,
    /// How to fix it.
    pub hint: Option<&'a str>,
    /// Spans, primary first.
    pub labels: Vec<JsonLabel<'a>>,
}

/// Resolves diagnostics to JSON values (line and column computed from the sources).
pub fn json<'a>(diags: &'a [Diagnostic], sources: &'a [Source]) -> Vec<JsonDiagnostic<'a>> {
    let indexes: Vec<LineIndex> = sources.iter().map(|s| LineIndex::new(&s.text)).collect();
    diags
        .iter()
        .map(|d| JsonDiagnostic {
            severity: d.severity,
            code: d.code,
            message: &d.message,
            hint: d.hint.as_deref(),
            labels: d
                .labels
                .iter()
                .enumerate()
                .filter_map(|(i, l)| {
                    let src = sources.get(l.file)?;
                    let idx = indexes.get(l.file)?;
                    let (line, column) = idx.line_col(&src.text, l.span.start as usize);
                    let (end_line, end_column) = idx.line_col(&src.text, l.span.end as usize);
                    Some(JsonLabel {
                        file: &src.name,
                        line,
                        column,
                        end_line,
                        end_column,
                        start: l.span.start,
                        end: l.span.end,
                        message: &l.message,
                        primary: i == 0,
                    })
                })
                .collect(),
        })
        .collect()
}
