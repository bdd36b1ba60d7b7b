//! Integration tests of the app.toml crate through its public API.
//!
//! Every case goes through one of two helpers: [`check`] for inline source
//! with its expected diagnostics, and the fixture globs in `fixtures.rs`
//! (one snapshot per file).

// Helpers outside `#[test]` functions unwrap too; a panic is a test failure.
#![allow(clippy::unwrap_used)]

mod edits;
mod errors;
mod fixtures;
mod props;
mod resolve;
mod schema;

use app_toml::{AppFile, Date, Diagnostic, Error, ParseOptions, Vocabulary};

/// The vocabulary every test uses (the platform's built-ins).
pub fn vocabulary() -> Vocabulary {
    let list = |items: &[&str]| items.iter().map(|s| (*s).to_owned()).collect();
    Vocabulary {
        engines: list(&["golang", "python", "node", "rust", "java", "php", "generic"]),
        sizes: list(&["xsmall", "small", "medium", "large", "xlarge"]),
        environments: list(&["prod", "staging", "dev", "local"]),
        today: Date {
            year: 2026,
            month: 11,
            day: 23,
        },
    }
}

/// Parses `source` as `app.toml` with an optional fallback name.
pub fn parse_with(source: &[u8], fallback_name: Option<&str>) -> Result<AppFile, Error> {
    let vocabulary = vocabulary();
    app_toml::parse(
        source,
        &ParseOptions {
            file_name: "app.toml",
            fallback_name,
            vocabulary: &vocabulary,
        },
    )
}

/// Parses `source` (fallback name `svc`).
pub fn parse(source: &str) -> Result<AppFile, Error> {
    parse_with(source.as_bytes(), Some("svc"))
}

/// One line per diagnostic: `line:column [kind] path: message (hint)`.
pub fn summary(items: &[Diagnostic]) -> String {
    items
        .iter()
        .map(|d| {
            let kind = d.kind.as_str();
            let mut line = format!("{}:{} [{kind}] {}: {}", d.line, d.column, d.path, d.message);
            if let Some(hint) = &d.hint {
                line.push_str(&format!(" ({hint})"));
            }
            line
        })
        .collect::<Vec<_>>()
        .join("\n")
}

/// Parses `source` and compares its diagnostics with `expect` (one
/// [`summary`] line each; "" for a valid file).
#[track_caller]
pub fn check(source: &str, expect: &str) {
    check_bytes(source.as_bytes(), Some("svc"), expect);
}

/// [`check`] for raw bytes and a chosen fallback name.
#[track_caller]
pub fn check_bytes(source: &[u8], fallback: Option<&str>, expect: &str) {
    let actual = match parse_with(source, fallback) {
        Ok(_) => String::new(),
        Err(Error::Invalid(d)) => {
            // The one-line form and the summary describe the same problems.
            assert_eq!(d.to_string().lines().count(), d.items.len());
            summary(&d.items)
        }
        Err(e) => panic!("unexpected error: {e}"),
    };
    let expect = expect
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .collect::<Vec<_>>()
        .join("\n");
    assert_eq!(actual, expect, "\n--- actual ---\n{actual}\n");
}
