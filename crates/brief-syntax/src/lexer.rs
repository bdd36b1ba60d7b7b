//! The lexer: source text to tokens. Whitespace is dropped, but every token
//! records whether a newline preceded it (the parser uses that for recovery
//! and for telling trailing comments from leading ones). Lexical errors become
//! `Error` tokens plus a diagnostic, so lexing never stops early.

use crate::{Diagnostic, Span};

/// What a token is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TokenKind {
    /// `[A-Za-z_][A-Za-z0-9_]*`, keywords included.
    Ident,
    /// `"..."` (no escapes inside; a string ends at the next `"`).
    Str,
    /// `` `...` `` documentation, any UTF-8, may span lines.
    Doc,
    /// `// ...` up to the end of the line.
    Comment,
    /// `{`
    LBrace,
    /// `}`
    RBrace,
    /// `(`
    LParen,
    /// `)`
    RParen,
    /// `[`
    LBracket,
    /// `]`
    RBracket,
    /// `?`
    Question,
    /// Something the lexer could not read (already reported).
    Error,
    /// End of input.
    Eof,
}

/// One token.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Token {
    /// Kind.
    pub kind: TokenKind,
    /// Where, including quotes or backticks.
    pub span: Span,
    /// A newline (or the start of the file) comes before this token.
    pub line_start: bool,
}

/// Splits `src` into tokens, ending with `Eof`; lexical errors go to `diags`.
pub fn lex(src: &str, file: usize, diags: &mut Vec<Diagnostic>) -> Vec<Token> {
    let bytes = src.as_bytes();
    let mut out = Vec::new();
    // A UTF-8 byte order mark some editors write is not part of the text.
    let mut i = if src.starts_with('\u{feff}') { 3 } else { 0 };
    let mut line_start = true;
    while i < bytes.len() {
        let b = bytes[i];
        let start = i;
        let kind = match b {
            b'\n' => {
                line_start = true;
                i += 1;
                continue;
            }
            b' ' | b'\t' | b'\r' => {
                i += 1;
                continue;
            }
            b'/' if bytes.get(i + 1) == Some(&b'/') => {
                while i < bytes.len() && bytes[i] != b'\n' {
                    i += 1;
                }
                TokenKind::Comment
            }
            b'{' | b'}' | b'(' | b')' | b'[' | b']' | b'?' => {
                i += 1;
                match b {
                    b'{' => TokenKind::LBrace,
                    b'}' => TokenKind::RBrace,
                    b'(' => TokenKind::LParen,
                    b')' => TokenKind::RParen,
                    b'[' => TokenKind::LBracket,
                    b']' => TokenKind::RBracket,
                    _ => TokenKind::Question,
                }
            }
            b'"' => {
                i += 1;
                while i < bytes.len() && bytes[i] != b'"' && bytes[i] != b'\n' {
                    i += 1;
                }
                if bytes.get(i) == Some(&b'"') {
                    i += 1;
                    TokenKind::Str
                } else {
                    diags.push(
                        Diagnostic::error(
                            "B0002",
                            "unterminated string",
                            file,
                            Span::new(start, i),
                        )
                        .with_label("this string has no closing quote")
                        .with_hint("close it with `\"` on the same line"),
                    );
                    TokenKind::Error
                }
            }
            b'`' => {
                i += 1;
                while i < bytes.len() && bytes[i] != b'`' {
                    i += 1;
                }
                if i < bytes.len() {
                    i += 1;
                    TokenKind::Doc
                } else {
                    diags.push(
                        Diagnostic::error(
                            "B0002",
                            "unterminated documentation",
                            file,
                            Span::new(start, start + 1),
                        )
                        .with_label("this backtick is never closed")
                        .with_hint("close the documentation with a backtick"),
                    );
                    TokenKind::Error
                }
            }
            b if b.is_ascii_alphabetic() || b == b'_' => {
                while i < bytes.len() && (bytes[i].is_ascii_alphanumeric() || bytes[i] == b'_') {
                    i += 1;
                }
                TokenKind::Ident
            }
            _ => {
                // Skip one whole character, so spans stay on UTF-8 boundaries.
                let len = src[i..].chars().next().map_or(1, char::len_utf8);
                i += len;
                // Merge runs of bad characters into one error token and one diagnostic.
                if let Some(last) = out.last_mut().filter(|t: &&mut Token| {
                    t.kind == TokenKind::Error && t.span.end as usize == start
                }) {
                    last.span = last.span.to(Span::new(start, i));
                    if let Some(d) = diags.last_mut().filter(|d| d.code == "B0001") {
                        if let Some(l) = d.labels.first_mut() {
                            l.span = last.span;
                        }
                        d.message = format!(
                            "unexpected characters `{}`",
                            src[last.span.range()].escape_debug()
                        );
                    }
                    continue;
                }
                let ch = &src[start..i];
                diags.push(
                    Diagnostic::error(
                        "B0001",
                        format!("unexpected character `{}`", ch.escape_debug()),
                        file,
                        Span::new(start, i),
                    )
                    .with_label("not part of the Brief language")
                    .with_hint("names are `[A-Za-z_][A-Za-z0-9_]*`; docs go in backticks"),
                );
                TokenKind::Error
            }
        };
        out.push(Token {
            kind,
            span: Span::new(start, i),
            line_start,
        });
        line_start = false;
    }
    out.push(Token {
        kind: TokenKind::Eof,
        span: Span::new(src.len(), src.len()),
        line_start: true,
    });
    out
}
