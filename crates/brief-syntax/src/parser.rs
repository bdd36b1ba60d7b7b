//! The recursive-descent parser. It recovers from errors (at the next line
//! inside a message or enum, at the next item keyword at top level) so that a
//! single run reports every syntax error of a file, and it never panics.

use crate::ast::*;
use crate::lexer::{Token, TokenKind, lex};
use crate::{Diagnostic, Span};

/// Words that start a top-level item.
pub const ITEM_KEYWORDS: [&str; 5] = ["service", "rpc", "schema", "message", "enum"];

/// Type nesting deeper than this is rejected (and keeps recursion bounded).
const MAX_TYPE_DEPTH: usize = 32;

/// The result of parsing one file: the tree (with whatever could be
/// recovered) and the syntax diagnostics.
#[derive(Debug, Clone)]
pub struct Parsed {
    /// The syntax tree.
    pub file: File,
    /// Lexical and syntax errors, in source order.
    pub diagnostics: Vec<Diagnostic>,
}

/// Parses `src`; `file` is the index used in diagnostic labels.
pub fn parse(src: &str, file: usize) -> Parsed {
    let mut diagnostics = Vec::new();
    let toks = lex(src, file, &mut diagnostics);
    let mut p = Parser {
        src,
        toks,
        pos: 0,
        file_id: file,
        diags: diagnostics,
        pending: Vec::new(),
        start: 0,
        one_line: false,
    };
    let file = p.file();
    // Lexical errors were collected before syntax errors: merge by position.
    let mut diagnostics = p.diags;
    diagnostics.sort_by_key(|d| d.labels.first().map(|l| (l.span.start, l.span.end)));
    Parsed { file, diagnostics }
}

/// A syntax error was reported; the caller recovers.
struct Reported;

type PResult<T> = Result<T, Reported>;

struct Parser<'a> {
    src: &'a str,
    toks: Vec<Token>,
    pos: usize,
    file_id: usize,
    diags: Vec<Diagnostic>,
    /// Comments seen but not yet attached.
    pending: Vec<String>,
    /// Token position where the current item or block entry started.
    start: usize,
    /// The current item must fit on its line (`service`, `rpc`, `schema`).
    one_line: bool,
}

impl<'a> Parser<'a> {
    fn raw(&self) -> Token {
        self.toks
            .get(self.pos)
            .or(self.toks.last())
            .copied()
            .unwrap_or(Token {
                kind: TokenKind::Eof,
                span: Span::new(self.src.len(), self.src.len()),
                line_start: true,
            })
    }

    /// The next non-comment token (comments are left in place).
    fn tok(&mut self) -> Token {
        self.nth(0)
    }

    /// Moves the comments in front of the next token to `pending`.
    fn collect(&mut self) {
        while self.raw().kind == TokenKind::Comment {
            let t = self.raw();
            self.pending.push(self.comment_text(t));
            self.pos += 1;
        }
    }

    /// The non-comment token `n` places after the current one.
    fn nth(&mut self, n: usize) -> Token {
        let mut seen = 0;
        for t in self.toks.get(self.pos..).unwrap_or(&[]) {
            if t.kind == TokenKind::Comment {
                continue;
            }
            if seen == n {
                return *t;
            }
            seen += 1;
        }
        self.raw()
    }

    fn comment_text(&self, t: Token) -> String {
        let text = &self.src[t.span.range()];
        text.strip_prefix("//")
            .unwrap_or(text)
            .trim_end()
            .to_string()
    }

    fn text(&self, t: Token) -> &'a str {
        self.src.get(t.span.range()).unwrap_or("")
    }

    fn bump(&mut self) -> Token {
        self.collect();
        let t = self.raw();
        if t.kind != TokenKind::Eof {
            self.pos += 1;
        }
        t
    }

    /// A comment on the same line as the previous token.
    fn trailing_comment(&mut self) -> Option<String> {
        let t = self.raw();
        if t.kind == TokenKind::Comment && !t.line_start {
            self.pos += 1;
            return Some(self.comment_text(t));
        }
        None
    }

    fn describe(&self, t: Token) -> String {
        match t.kind {
            TokenKind::Ident => format!("`{}`", self.text(t)),
            TokenKind::Str => "a string".into(),
            TokenKind::Doc => "documentation".into(),
            TokenKind::Comment => "a comment".into(),
            TokenKind::Eof => "end of file".into(),
            TokenKind::Error => "an invalid token".into(),
            _ => format!("`{}`", self.text(t)),
        }
    }

    /// The last non-comment token consumed by the current item or entry.
    fn previous(&self) -> Option<Token> {
        self.toks
            .get(self.start..self.pos)?
            .iter()
            .rev()
            .find(|t| t.kind != TokenKind::Comment)
            .copied()
    }

    fn error_at(&mut self, t: Token, expected: &str, hint: &str) -> Reported {
        // An invalid token was already reported by the lexer: do not pile on.
        if t.kind != TokenKind::Error {
            // The line ended early: point at its last token, not at the
            // next line (which is parsed again after recovery).
            if t.line_start
                && let Some(prev) = self.previous()
            {
                let mut d = Diagnostic::error(
                    "B0003",
                    format!("expected {expected}, found the end of the line"),
                    self.file_id,
                    prev.span,
                )
                .with_label("the line ends here");
                if !hint.is_empty() {
                    d = d.with_hint(hint);
                }
                self.diags.push(d);
                return Reported;
            }
            let found = self.describe(t);
            let mut d = Diagnostic::error(
                "B0003",
                format!("expected {expected}, found {found}"),
                self.file_id,
                t.span,
            )
            .with_label(format!("expected {expected}"));
            if !hint.is_empty() {
                d = d.with_hint(hint);
            }
            self.diags.push(d);
        }
        Reported
    }

    /// The next token, unless the current one-line item ended before it.
    fn on_line(&mut self, what: &str, hint: &str) -> PResult<Token> {
        let t = self.tok();
        if self.one_line && t.line_start && self.pos > self.start {
            return Err(self.error_at(t, what, hint));
        }
        Ok(t)
    }

    fn ident(&mut self, what: &str, hint: &str) -> PResult<Ident> {
        let t = self.on_line(what, hint)?;
        if t.kind == TokenKind::Ident {
            self.bump();
            Ok(Ident {
                name: self.text(t).to_string(),
                span: t.span,
            })
        } else {
            Err(self.error_at(t, what, hint))
        }
    }

    fn string(&mut self, what: &str, hint: &str) -> PResult<StrLit> {
        let t = self.on_line(what, hint)?;
        if t.kind == TokenKind::Str {
            self.bump();
            let text = self.text(t);
            let value = text
                .get(1..text.len().saturating_sub(1))
                .unwrap_or("")
                .to_string();
            Ok(StrLit {
                value,
                span: t.span,
            })
        } else {
            Err(self.error_at(t, what, hint))
        }
    }

    fn expect(&mut self, kind: TokenKind, what: &str, hint: &str) -> PResult<Token> {
        let t = self.on_line(what, hint)?;
        if t.kind == kind {
            self.bump();
            Ok(t)
        } else {
            Err(self.error_at(t, what, hint))
        }
    }

    fn doc(&mut self) -> Option<Doc> {
        let t = self.tok();
        if t.kind != TokenKind::Doc {
            return None;
        }
        self.bump();
        let text = self.text(t);
        let text = text
            .get(1..text.len().saturating_sub(1))
            .unwrap_or("")
            .to_string();
        Some(Doc { text, span: t.span })
    }

    /// After a one-line item or a field: the next token must start a new line
    /// (or close the block).
    fn end_of_line(&mut self, what: &str) -> PResult<()> {
        let raw = self.raw();
        if raw.kind == TokenKind::Comment {
            return Ok(());
        }
        let t = self.tok();
        if t.line_start || matches!(t.kind, TokenKind::RBrace | TokenKind::Eof) {
            return Ok(());
        }
        Err(self.error_at(
            t,
            &format!("a new line after {what}"),
            "put one declaration per line",
        ))
    }

    fn is_item_start(&mut self) -> bool {
        let t = self.tok();
        t.kind == TokenKind::Ident && t.line_start && ITEM_KEYWORDS.contains(&self.text(t))
    }

    /// Skips to the next item keyword at the start of a line, outside braces.
    /// The token at the current position is skipped unless the failed item
    /// consumed something (then it may well start the next item).
    fn recover_top(&mut self) {
        let mut depth = 0usize;
        let mut first = self.pos == self.start;
        loop {
            let t = self.tok();
            match t.kind {
                TokenKind::Eof => return,
                TokenKind::LBrace => depth += 1,
                TokenKind::RBrace => depth = depth.saturating_sub(1),
                _ => {}
            }
            if !first && depth == 0 && self.is_item_start() {
                return;
            }
            first = false;
            self.bump();
        }
    }

    /// Inside a block: skips to the next line or the closing brace. The
    /// token at the current position is skipped only when the failed entry
    /// consumed nothing (so recovery always moves on, and a next line the
    /// entry stopped at is parsed).
    fn recover_line(&mut self) {
        let mut first = self.pos == self.start;
        loop {
            let t = self.tok();
            if t.kind == TokenKind::Eof || t.kind == TokenKind::RBrace || (!first && t.line_start) {
                return;
            }
            first = false;
            self.bump();
        }
    }

    fn file(&mut self) -> File {
        let mut file = File::default();
        loop {
            let t = self.tok();
            if t.kind == TokenKind::Eof {
                break;
            }
            self.collect();
            let comments = std::mem::take(&mut self.pending);
            self.start = self.pos;
            match self.item() {
                Ok(kind) => {
                    let end = self.toks[self.pos.saturating_sub(1)].span;
                    let trailing_comment = self.trailing_comment();
                    file.items.push(Item {
                        comments,
                        trailing_comment,
                        kind,
                        span: t.span.to(end),
                    });
                }
                Err(Reported) => self.recover_top(),
            }
        }
        self.collect();
        file.trailing_comments = std::mem::take(&mut self.pending);
        file
    }

    fn item(&mut self) -> PResult<ItemKind> {
        let t = self.tok();
        let kw = if t.kind == TokenKind::Ident {
            self.text(t)
        } else {
            ""
        };
        const HINT: &str =
            "a file holds `service`, `rpc`, `schema`, `message` and `enum` declarations";
        self.one_line = matches!(kw, "service" | "rpc" | "schema");
        match kw {
            "service" => {
                self.bump();
                let name = self.string("the service name in quotes", "write `service \"name\"`")?;
                self.end_of_line("the service declaration")?;
                Ok(ItemKind::Service(Service { name }))
            }
            "rpc" => {
                self.bump();
                const H: &str = "write `rpc name (Input) Output`";
                let name = self.ident("the rpc name", H)?;
                self.expect(TokenKind::LParen, "`(` before the input message", H)?;
                let input = self.ident("the input message", H)?;
                self.expect(TokenKind::RParen, "`)` after the input message", H)?;
                let output = self.ident("the output message", H)?;
                let doc = self.doc();
                self.end_of_line("the rpc")?;
                Ok(ItemKind::Rpc(Rpc {
                    name,
                    input,
                    output,
                    doc,
                }))
            }
            "schema" => {
                self.bump();
                const H: &str = "write `schema \"topic\" Message`";
                let topic = self.string("the topic in quotes", H)?;
                let message = self.ident("the event message", H)?;
                let doc = self.doc();
                self.end_of_line("the schema")?;
                Ok(ItemKind::Schema(Schema {
                    topic,
                    message,
                    doc,
                }))
            }
            "message" => {
                self.bump();
                let name = self.ident("the message name", "write `message Name { field type }`")?;
                let open = self.expect(
                    TokenKind::LBrace,
                    "`{`",
                    "a message body is `{ field type ... }`",
                )?;
                let (fields, open_comment, inner_comments) =
                    self.block(open, false, |p| p.field())?;
                Ok(ItemKind::Message(Message {
                    name,
                    fields,
                    open_comment,
                    inner_comments,
                }))
            }
            "enum" => {
                self.bump();
                let name = self.ident("the enum name", "write `enum Name { a b c }`")?;
                let open = self.expect(TokenKind::LBrace, "`{`", "an enum body is `{ a b c }`")?;
                let (variants, open_comment, inner_comments) =
                    self.block(open, true, |p| p.variant())?;
                Ok(ItemKind::Enum(Enum {
                    name,
                    variants,
                    open_comment,
                    inner_comments,
                }))
            }
            _ => Err(self.error_at(t, "a declaration", HINT)),
        }
    }

    /// A `{ ... }` body of entries parsed by `entry`, with line recovery;
    /// `same_line` entries (enum members share lines) recover by skipping
    /// only the token that failed.
    fn block<T>(
        &mut self,
        open: Token,
        same_line: bool,
        mut entry: impl FnMut(&mut Self) -> PResult<T>,
    ) -> PResult<(Vec<T>, Option<String>, Vec<String>)> {
        let mut out = Vec::new();
        let open_comment = self.trailing_comment();
        loop {
            self.collect();
            let t = self.tok();
            match t.kind {
                TokenKind::RBrace => {
                    self.bump();
                    return Ok((out, open_comment, std::mem::take(&mut self.pending)));
                }
                TokenKind::Eof => {
                    self.unclosed(open);
                    return Ok((out, open_comment, std::mem::take(&mut self.pending)));
                }
                _ => {}
            }
            if self.looks_like_next_item() {
                self.unclosed(open);
                return Ok((out, open_comment, Vec::new()));
            }
            self.start = self.pos;
            match entry(self) {
                Ok(v) => out.push(v),
                Err(Reported) if same_line => {
                    if self.pos == self.start {
                        self.bump();
                    }
                }
                Err(Reported) => self.recover_line(),
            }
        }
    }

    fn unclosed(&mut self, open: Token) {
        self.diags.push(
            Diagnostic::error("B0004", "unclosed `{`", self.file_id, open.span)
                .with_label("this brace is never closed")
                .with_hint("add `}` after the last entry"),
        );
    }

    /// A missing `}`: the next line starts a new top-level item.
    fn looks_like_next_item(&mut self) -> bool {
        if !self.is_item_start() {
            return false;
        }
        let t = self.tok();
        let kw = self.text(t);
        let (n1, n2) = (self.nth(1), self.nth(2));
        match kw {
            "message" | "enum" => n1.kind == TokenKind::Ident && n2.kind == TokenKind::LBrace,
            "service" | "schema" => n1.kind == TokenKind::Str,
            "rpc" => n1.kind == TokenKind::Ident && n2.kind == TokenKind::LParen,
            _ => false,
        }
    }

    fn field(&mut self) -> PResult<Field> {
        let comments = std::mem::take(&mut self.pending);
        const H: &str = "a field is `name type`, for example `id int` or `tags []string?`";
        let name = self.ident("a field name", H)?;
        let ty = self.ty(0)?;
        let optional = if self.tok().kind == TokenKind::Question {
            self.bump();
            true
        } else {
            false
        };
        let doc = self.doc();
        let end = self.toks[self.pos.saturating_sub(1)].span;
        self.end_of_line(&format!("field `{}`", name.name))?;
        let trailing_comment = self.trailing_comment();
        let span = name.span.to(end);
        Ok(Field {
            comments,
            name,
            ty,
            optional,
            doc,
            trailing_comment,
            span,
        })
    }

    fn variant(&mut self) -> PResult<Variant> {
        let comments = std::mem::take(&mut self.pending);
        let name = self.ident(
            "an enum member",
            "enum members are names: `enum Color { red green }`",
        )?;
        let doc = self.doc();
        let trailing_comment = self.trailing_comment();
        Ok(Variant {
            comments,
            name,
            doc,
            trailing_comment,
        })
    }

    fn ty(&mut self, depth: usize) -> PResult<Type> {
        const H: &str = "types are int, float, bool, string, bytes, time, []T, map[string]T or a message/enum name";
        let t = self.tok();
        if depth > MAX_TYPE_DEPTH {
            self.diags.push(
                Diagnostic::error("B0005", "type nested too deeply", self.file_id, t.span)
                    .with_hint(format!("at most {MAX_TYPE_DEPTH} levels of `[]` and `map`")),
            );
            return Err(Reported);
        }
        if t.line_start {
            // `name` alone on a line: do not take the next line's name as its type.
            return Err(self.error_at(t, "a type on the same line", H));
        }
        match t.kind {
            TokenKind::LBracket => {
                self.bump();
                self.expect(TokenKind::RBracket, "`]` (a list is `[]T`)", H)?;
                let elem = self.ty(depth + 1)?;
                let span = t.span.to(elem.span);
                Ok(Type {
                    kind: TypeKind::List(Box::new(elem)),
                    span,
                })
            }
            TokenKind::Ident
                if self.text(t) == "map" && self.nth(1).kind == TokenKind::LBracket =>
            {
                self.bump();
                self.bump();
                let key = self.ty(depth + 1)?;
                self.expect(
                    TokenKind::RBracket,
                    "`]` after the map key",
                    "a map is `map[string]T`",
                )?;
                let value = self.ty(depth + 1)?;
                let span = t.span.to(value.span);
                Ok(Type {
                    kind: TypeKind::Map(Box::new(key), Box::new(value)),
                    span,
                })
            }
            TokenKind::Ident => {
                self.bump();
                let name = self.text(t);
                let kind =
                    TypeKind::builtin(name).unwrap_or_else(|| TypeKind::Named(name.to_string()));
                Ok(Type { kind, span: t.span })
            }
            _ => Err(self.error_at(t, "a type", H)),
        }
    }
}
