//! The diagnostic model shared by the parser, the checker and the contract
//! tools: a severity, a stable code (`B0001`...), a message, labelled spans
//! (possibly in different files) and a hint. Rendering lives in `brief-check`.

use crate::Span;
use serde::Serialize;

/// How bad a diagnostic is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    /// Fails `brief check`.
    Error,
    /// Reported, but the file is usable.
    Warning,
}

/// A span in a file, with a short message.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Label {
    /// Index of the file in the caller's source list.
    pub file: usize,
    /// Where.
    pub span: Span,
    /// What is there (may be empty).
    pub message: String,
}

/// One finding.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Diagnostic {
    /// Error or warning.
    pub severity: Severity,
    /// Stable code, `B0001`...
    pub code: &'static str,
    /// One line, lowercase, no trailing period.
    pub message: String,
    /// The main span, then related spans (for example, the other side of a contract).
    pub labels: Vec<Label>,
    /// How to fix it.
    pub hint: Option<String>,
}

impl Diagnostic {
    /// An error at `span` of `file`.
    pub fn error(code: &'static str, message: impl Into<String>, file: usize, span: Span) -> Self {
        Self::new(Severity::Error, code, message, file, span)
    }

    /// A warning at `span` of `file`.
    pub fn warning(
        code: &'static str,
        message: impl Into<String>,
        file: usize,
        span: Span,
    ) -> Self {
        Self::new(Severity::Warning, code, message, file, span)
    }

    fn new(
        severity: Severity,
        code: &'static str,
        message: impl Into<String>,
        file: usize,
        span: Span,
    ) -> Self {
        Diagnostic {
            severity,
            code,
            message: message.into(),
            labels: vec![Label {
                file,
                span,
                message: String::new(),
            }],
            hint: None,
        }
    }

    /// Sets the message of the primary label.
    pub fn with_label(mut self, message: impl Into<String>) -> Self {
        if let Some(l) = self.labels.first_mut() {
            l.message = message.into();
        }
        self
    }

    /// Adds a related span.
    pub fn with_related(mut self, file: usize, span: Span, message: impl Into<String>) -> Self {
        self.labels.push(Label {
            file,
            span,
            message: message.into(),
        });
        self
    }

    /// Sets the hint.
    pub fn with_hint(mut self, hint: impl Into<String>) -> Self {
        self.hint = Some(hint.into());
        self
    }

    /// True for errors.
    pub fn is_error(&self) -> bool {
        self.severity == Severity::Error
    }
}
