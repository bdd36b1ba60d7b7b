//! rustc-style rendering of diagnostics with `annotate-snippets`: the source
//! line, a caret under the span labelled with the key path, and the hint.

use std::ops::Range;

use annotate_snippets::{AnnotationKind, Group, Level, Origin, Renderer, Snippet};

use crate::{DiagnosticKind, Diagnostics};

impl DiagnosticKind {
    /// The kebab-case name shown as the error code (`error[unknown-key]`).
    pub fn as_str(self) -> &'static str {
        match self {
            DiagnosticKind::NotUtf8 => "not-utf8",
            DiagnosticKind::Empty => "empty",
            DiagnosticKind::Syntax => "syntax",
            DiagnosticKind::Type => "type",
            DiagnosticKind::Range => "range",
            DiagnosticKind::UnknownKey => "unknown-key",
            DiagnosticKind::MissingKey => "missing-key",
            DiagnosticKind::UnknownEnvironment => "unknown-environment",
            DiagnosticKind::UnknownEngine => "unknown-engine",
            DiagnosticKind::UnknownSize => "unknown-size",
            DiagnosticKind::UnknownVariant => "unknown-variant",
            DiagnosticKind::InvalidName => "invalid-name",
            DiagnosticKind::DuplicatePort => "duplicate-port",
            DiagnosticKind::InvalidCron => "invalid-cron",
            DiagnosticKind::SelfDependency => "self-dependency",
            DiagnosticKind::ExpiredException => "expired-exception",
            DiagnosticKind::InvalidUnset => "invalid-unset",
            DiagnosticKind::Invalid => "invalid",
        }
    }
}

impl Diagnostics {
    /// Renders every problem the way rustc does: a header with the kind and
    /// message, the file position, the source line with a caret under the
    /// span labelled with the key path, and the hint as `help:`. With
    /// `color`, ANSI colors are used.
    pub fn render(&self, color: bool) -> String {
        let renderer = if color {
            Renderer::styled()
        } else {
            Renderer::plain()
        };
        let mut out = String::new();
        for d in &self.items {
            let mut group = Group::with_title(
                Level::ERROR
                    .primary_title(d.message.as_str())
                    .id(d.kind.as_str()),
            );
            let label = (!d.path.is_empty()).then(|| format!("`{}`", d.path));
            match d.span.clone().map(|s| clamp(&self.source, s)) {
                Some(span) => {
                    let mut annotation = AnnotationKind::Primary.span(span);
                    if let Some(label) = &label {
                        annotation = annotation.label(label.as_str());
                    }
                    group = group.element(
                        Snippet::source(self.source.as_str())
                            .path(self.file.as_str())
                            .fold(true)
                            .annotation(annotation),
                    );
                }
                None => {
                    group = group.element(
                        Origin::path(self.file.as_str())
                            .line(d.line)
                            .char_column(d.column),
                    );
                    if let Some(label) = &label {
                        group = group.element(Level::NOTE.message(format!("key {label}")));
                    }
                }
            }
            if let Some(hint) = &d.hint {
                group = group.element(Level::HELP.message(hint.as_str()));
            }
            if !out.is_empty() {
                out.push_str("\n\n");
            }
            out.push_str(&renderer.render(&[group]));
        }
        out
    }
}

/// A span inside `source` on character boundaries (the source may be a
/// lossy decoding of bytes the span was measured on).
fn clamp(source: &str, span: Range<usize>) -> Range<usize> {
    let fix = |mut i: usize| {
        i = i.min(source.len());
        while !source.is_char_boundary(i) {
            i -= 1;
        }
        i
    };
    let start = fix(span.start);
    let end = fix(span.end.max(span.start)).max(start);
    start..end
}
