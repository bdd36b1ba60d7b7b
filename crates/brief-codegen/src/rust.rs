//! The Rust generator. One module per schema: types, then (server mode) the
//! service trait and axum router, then the client, then events. Everything
//! is reached through `brief_rt`, so the generated module needs no other
//! dependency. The layout follows rustfmt; the `brief` binary still runs
//! rustfmt over the result when it is installed.

use crate::names::{camel, snake, words};
use crate::{Error, hash_of_canonical};
use brief_syntax::{Doc, Field, File, ItemKind, Message, Span, TypeKind};
use std::collections::{BTreeMap, BTreeSet};
use std::fmt::Write;

/// What to generate.
#[derive(Debug, Clone, Default)]
pub struct RustOptions {
    /// The file is a client contract: generate types, the client and event
    /// subscribers only (no server trait, router or publisher).
    pub client: bool,
    /// The schema's file name, for the header.
    pub source_name: String,
}

/// Generates a Rust module for `file`.
pub fn rust(file: &File, opts: &RustOptions) -> Result<String, Error> {
    if let Some(e) = problems(file, opts.client).into_iter().next() {
        return Err(e);
    }
    let mut g = Gen {
        out: String::new(),
        file,
        recursive: recursive_fields(file),
        roles: roles(file),
        names: Names::new(file),
    };
    g.header(opts)?;
    g.types();
    if let Some(service) = file.service()
        && file.rpcs().next().is_some()
    {
        if !opts.client {
            g.server(&service.name.value);
        }
        g.client(&service.name.value, caller_name(opts).as_deref());
    }
    if file.schemas().next().is_some() {
        g.events(opts.client);
    }
    while g.out.ends_with("\n\n") {
        g.out.pop();
    }
    Ok(g.out)
}

struct Gen<'a> {
    out: String,
    file: &'a File,
    /// `(message, field)` pairs that must be boxed (they lead back to the message).
    recursive: BTreeSet<(String, String)>,
    /// Per message: the rpcs and events it is a payload of, as doc lines.
    roles: BTreeMap<String, Vec<String>>,
    /// Names of generated items, chosen not to clash with the schema's.
    names: Names,
}

/// Rust methods every generated client has; an rpc with one of these names
/// gets an `_rpc` suffix on the client.
const CLIENT_METHODS: [&str; 3] = ["new", "from_env", "transport"];

/// The names of the items the generator adds, each the usual name unless a
/// message or enum (or a prelude name the module relies on) already has it.
struct Names {
    /// The server trait (`Summer`, else `SummerService`).
    service_trait: String,
    /// The client struct (`SummerClient`, else `SummerClientRpc`).
    client: String,
    /// The event traits (`Publisher`/`Subscriber`, else with a `Trait` suffix).
    publisher: String,
    subscriber: String,
    /// The generic parameter of `router` and `dispatch` (`S`, else `S1`...),
    /// so it shadows neither a payload type nor the trait it is bound by.
    generic: String,
}

impl Names {
    fn new(file: &File) -> Self {
        let mut taken: BTreeSet<String> = file
            .messages()
            .map(|m| type_name(&m.name.name))
            .chain(file.enums().map(|e| type_name(&e.name.name)))
            .chain(PRELUDE_TYPES.iter().map(|s| s.to_string()))
            .collect();
        let mut free = |name: String, suffix: &str| {
            let mut candidate = name.clone();
            let mut n = 1;
            while taken.contains(&candidate) {
                candidate = if n == 1 {
                    format!("{name}{suffix}")
                } else {
                    format!("{name}{suffix}{n}")
                };
                n += 1;
            }
            taken.insert(candidate.clone());
            candidate
        };
        let service = file
            .service()
            .map_or_else(String::new, |s| s.name.value.clone());
        let service_trait = free(camel(&service), "Service");
        let client = free(format!("{}Client", camel(&service)), "Rpc");
        let publisher = free("Publisher".into(), "Trait");
        let subscriber = free("Subscriber".into(), "Trait");
        let generic = free("S".into(), "");
        Names {
            service_trait,
            client,
            publisher,
            subscriber,
            generic,
        }
    }
}

/// The client method of rpc `name`.
fn client_method(name: &str) -> String {
    let m = snake(name);
    if CLIENT_METHODS.contains(&m.as_str()) {
        format!("{m}_rpc")
    } else {
        m
    }
}

/// The words of a topic as an identifier fragment (`service.create` →
/// `service_create`; `event` when the topic has no letters or digits).
fn topic_ident(topic: &str) -> String {
    let w = words(topic).join("_");
    if w.is_empty() { "event".into() } else { w }
}

/// Every name in `file` the Rust generator cannot map faithfully (client
/// mode when `client`): Brief names that differ but become one Rust
/// identifier, among types, the fields of a message, the members of an
/// enum, rpc methods and topic constants.
pub fn problems(file: &File, client: bool) -> Vec<Error> {
    let mut out = Vec::new();
    let mut types = BTreeMap::new();
    for item in &file.items {
        let name = match &item.kind {
            ItemKind::Message(m) => &m.name,
            ItemKind::Enum(e) => &e.name,
            _ => continue,
        };
        unique(
            &mut types,
            &name.name,
            name.span,
            type_name(&name.name),
            &mut out,
        );
    }
    for m in file.messages() {
        let mut fields = BTreeMap::new();
        for f in &m.fields {
            unique(
                &mut fields,
                &f.name.name,
                f.name.span,
                snake(&f.name.name),
                &mut out,
            );
        }
    }
    for e in file.enums() {
        let mut variants = BTreeMap::new();
        for v in &e.variants {
            unique(
                &mut variants,
                &v.name.name,
                v.name.span,
                camel(&v.name.name),
                &mut out,
            );
        }
    }
    if file.service().is_some() {
        let mut trait_methods = BTreeMap::new();
        let mut client_methods = BTreeMap::new();
        for r in file.rpcs() {
            if !client {
                let m = snake(&r.name.name);
                unique(&mut trait_methods, &r.name.name, r.name.span, m, &mut out);
            }
            let m = client_method(&r.name.name);
            unique(&mut client_methods, &r.name.name, r.name.span, m, &mut out);
        }
    }
    let mut topics = BTreeMap::new();
    for s in file.schemas() {
        let ident = format!("TOPIC_{}", topic_ident(&s.topic.value).to_ascii_uppercase());
        unique(&mut topics, &s.topic.value, s.topic.span, ident, &mut out);
    }
    out
}

fn roles(file: &File) -> BTreeMap<String, Vec<String>> {
    let mut roles: BTreeMap<String, Vec<String>> = BTreeMap::new();
    for r in file.rpcs() {
        roles
            .entry(r.input.name.clone())
            .or_default()
            .push(format!("Input of rpc `{}`.", r.name.name));
        if r.output.name != r.input.name {
            roles
                .entry(r.output.name.clone())
                .or_default()
                .push(format!("Output of rpc `{}`.", r.name.name));
        }
    }
    for s in file.schemas() {
        roles
            .entry(s.message.name.clone())
            .or_default()
            .push(format!("Payload of event `{}`.", s.topic.value));
    }
    roles
}

fn doc_lines(out: &mut String, indent: &str, doc: Option<&Doc>, fallback: &str) {
    let text = doc.map(|d| d.text.trim()).filter(|t| !t.is_empty());
    match text {
        // An indented line or a `~~~` line would make rustdoc see a code
        // block, which `cargo test` runs as a doctest: fence the doc as text.
        // (A Brief doc cannot contain a backtick, so it cannot close the fence.)
        Some(t)
            if t.lines().any(|l| {
                l.starts_with("    ") || l.starts_with('\t') || l.trim_start().starts_with("~~~")
            }) =>
        {
            let _ = writeln!(out, "{indent}/// ```text");
            for line in t.lines() {
                let _ = writeln!(out, "{indent}/// {}", line.trim_end());
            }
            let _ = writeln!(out, "{indent}/// ```");
        }
        Some(t) => {
            for line in t.lines() {
                let line = line.trim_end();
                if line.is_empty() {
                    let _ = writeln!(out, "{indent}///");
                } else {
                    let _ = writeln!(out, "{indent}/// {line}");
                }
            }
        }
        None => {
            let _ = writeln!(out, "{indent}/// {fallback}");
        }
    }
}

/// `{head} {`, or (rustfmt, when that passes 100 columns) `{` on the next line.
fn open_brace(out: &mut String, head: &str) {
    let line = format!("{head} {{");
    if fits(&line) {
        let _ = writeln!(out, "{line}");
    } else {
        let _ = writeln!(out, "{head}\n{{");
    }
}

/// rustfmt's default `max_width`.
const MAX_WIDTH: usize = 100;
/// rustfmt's default small heuristics (`use_small_heuristics = "Default"`):
/// call arguments, function-like attribute arguments and chains longer
/// than these go vertical even when the line would fit.
const FN_CALL_WIDTH: usize = 60;
const ATTR_FN_LIKE_WIDTH: usize = 70;
const CHAIN_WIDTH: usize = 60;

fn fits(line: &str) -> bool {
    line.chars().count() <= MAX_WIDTH
}

/// A Rust type (or generic bound) as a tree, so long ones can be broken
/// across lines the way rustfmt breaks generic arguments.
#[derive(Debug, Clone)]
enum RTy {
    /// Printed as is.
    Leaf(String),
    /// `head<args>`; `head` may carry a prefix such as `Output = Result`.
    Generic(String, Vec<RTy>),
}

impl RTy {
    fn leaf(s: impl Into<String>) -> Self {
        RTy::Leaf(s.into())
    }

    fn generic(head: impl Into<String>, args: Vec<RTy>) -> Self {
        RTy::Generic(head.into(), args)
    }

    /// On one line.
    fn one(&self) -> String {
        match self {
            RTy::Leaf(s) => s.clone(),
            RTy::Generic(head, args) => {
                let args: Vec<String> = args.iter().map(RTy::one).collect();
                format!("{head}<{}>", args.join(", "))
            }
        }
    }

    /// Writes `{indent}{prefix}{self}{suffix}`: on one line when it fits,
    /// else (as rustfmt does) the outermost generic opens on the first
    /// line, each argument goes on its own line one level deeper (broken
    /// the same way when it does not fit) with a trailing comma, and `>`
    /// closes at `indent`.
    fn write(&self, out: &mut String, indent: &str, prefix: &str, suffix: &str) {
        let line = format!("{indent}{prefix}{}{suffix}", self.one());
        match self {
            RTy::Generic(head, args) if !fits(&line) => {
                let _ = writeln!(out, "{indent}{prefix}{head}<");
                let inner = format!("{indent}    ");
                for a in args {
                    a.write(out, &inner, "", ",");
                }
                let _ = writeln!(out, "{indent}>{suffix}");
            }
            _ => {
                let _ = writeln!(out, "{line}");
            }
        }
    }
}

/// `#[serde(...)]` at `indent`: on one line when it fits, else one
/// argument per line (no trailing comma in attributes).
fn serde_attr(out: &mut String, indent: &str, args: &[String]) {
    let joined = args.join(", ");
    let one = format!("{indent}#[serde({joined})]");
    // A single argument is not worth a vertical list: only the line width counts.
    if fits(&one) && (args.len() == 1 || joined.chars().count() <= ATTR_FN_LIKE_WIDTH) {
        let _ = writeln!(out, "{one}");
        return;
    }
    let _ = writeln!(out, "{indent}#[serde(");
    let _ = writeln!(
        out,
        "{indent}    {}",
        args.join(&format!(",\n{indent}    "))
    );
    let _ = writeln!(out, "{indent})]");
}

/// `pub const NAME: &str = "value";`, broken after `=` when too long.
fn str_const(out: &mut String, name: &str, value: &str) {
    let one = format!("pub const {name}: &str = {value:?};");
    if fits(&one) {
        let _ = writeln!(out, "{one}");
    } else {
        let _ = writeln!(out, "pub const {name}: &str =\n    {value:?};");
    }
}

/// One element of a method chain: `.name(args)`, or `.await`/`.await?`
/// (no arguments).
struct Link {
    head: String,
    args: Option<Vec<String>>,
}

impl Link {
    fn call(head: impl Into<String>, args: Vec<String>) -> Self {
        Link {
            head: head.into(),
            args: Some(args),
        }
    }

    fn bare(head: impl Into<String>) -> Self {
        Link {
            head: head.into(),
            args: None,
        }
    }

    fn one(&self) -> String {
        match &self.args {
            Some(a) => format!("{}({})", self.head, a.join(", ")),
            None => self.head.clone(),
        }
    }
}

/// A method call chain `{receiver}{links}` at `indent` (rustfmt: on one
/// line when it fits and is at most `chain_width` long, else the receiver
/// and then each link on its own line one level deeper, calls broken like
/// [`call`]).
fn chain(out: &mut String, indent: &str, receiver: &str, links: &[Link], suffix: &str) {
    let text = format!(
        "{receiver}{}",
        links.iter().map(Link::one).collect::<String>()
    );
    let one = format!("{indent}{text}{suffix}");
    // The chain width counts a statement's `;` (measured).
    let width = text.chars().count() + suffix.chars().count();
    if fits(&one) && width <= CHAIN_WIDTH {
        let _ = writeln!(out, "{one}");
        return;
    }
    // A receiver no wider than the indentation (`svc`, `self`) keeps the
    // first link on its line.
    let (first, rest) = match links.split_first() {
        Some((l, rest)) if receiver.chars().count() <= 4 => (Some(l), rest),
        _ => (None, links),
    };
    let _ = writeln!(
        out,
        "{indent}{receiver}{}",
        first.map(Link::one).unwrap_or_default()
    );
    let inner = format!("{indent}    ");
    for (i, l) in rest.iter().enumerate() {
        let end = if i + 1 == rest.len() { suffix } else { "" };
        match &l.args {
            Some(a) => call(out, &inner, &l.head, a, end),
            None => {
                let _ = writeln!(out, "{inner}{}{end}", l.head);
            }
        }
    }
}

/// A call `{head}(args)` at `indent`: on one line when it fits, else one
/// argument per line with a trailing comma.
fn call(out: &mut String, indent: &str, head: &str, args: &[String], suffix: &str) {
    let joined = args.join(", ");
    let one = format!("{indent}{head}({joined}){suffix}");
    if fits(&one) && joined.chars().count() <= FN_CALL_WIDTH {
        let _ = writeln!(out, "{one}");
        return;
    }
    let _ = writeln!(out, "{indent}{head}(");
    for a in args {
        let _ = writeln!(out, "{indent}    {a},");
    }
    let _ = writeln!(out, "{indent}){suffix}");
}

/// A function signature as rustfmt lays it out: on one line when it fits in
/// 100 columns, else one parameter per line, the return type `ret` (after
/// ` -> `) broken like a type when the closing line is still too long;
/// `end` follows the return type (`;` or ` {`).
fn sig(out: &mut String, indent: &str, head: &str, params: &[String], ret: &RTy, end: &str) {
    let one = format!(
        "{indent}{head}({}) -> {}{end}",
        params.join(", "),
        ret.one()
    );
    if fits(&one) {
        let _ = writeln!(out, "{one}");
        return;
    }
    let _ = writeln!(out, "{indent}{head}(");
    for p in params {
        let _ = writeln!(out, "{indent}    {p},");
    }
    let closing = format!("{indent}) -> {}", ret.one());
    // rustfmt measures an `impl Trait + Send` return type alone (measured
    // for trait methods, at four spaces): with its bounds up to 98 columns
    // it stays on the `) ->` line, even when that line passes 100; up to 92
    // columns without them the bounds go on the next line; beyond, the
    // generics break.
    if let Some(bounds) = end.strip_suffix(';').filter(|b| b.starts_with(" + ")) {
        let w = ret.one().chars().count();
        if w + bounds.chars().count() <= MAX_WIDTH - 2 {
            let _ = writeln!(out, "{closing}{end}");
        } else if w <= 92 {
            let _ = writeln!(out, "{closing}\n{indent}{};", bounds.trim_start());
        } else {
            ret.write(out, indent, ") -> ", end);
        }
        return;
    }
    if fits(&format!("{closing}{end}")) {
        let _ = writeln!(out, "{closing}{end}");
    } else if end == " {" && fits(&closing) {
        // rustfmt moves the body's brace to its own line first.
        let _ = writeln!(out, "{closing}\n{indent}{{");
    } else {
        ret.write(out, indent, ") -> ", end);
    }
}

/// `impl std::future::Future<Output = Result<{ok}, brief_rt::Error>> + Send`
/// as a breakable type; write it with the suffix ` + Send;`.
fn future_of(ok: RTy) -> RTy {
    RTy::generic(
        "impl std::future::Future",
        vec![RTy::generic(
            "Output = Result",
            vec![ok, RTy::leaf("brief_rt::Error")],
        )],
    )
}

/// `Result<{ok}, brief_rt::Error>` as a breakable type.
fn result_of(ok: RTy) -> RTy {
    RTy::generic("Result", vec![ok, RTy::leaf("brief_rt::Error")])
}

impl<'a> Gen<'a> {
    fn header(&mut self, opts: &RustOptions) -> Result<(), Error> {
        // Formatted once: hashed here, embedded as `SCHEMA` below.
        let canonical = brief_syntax::fmt::format(self.file);
        let hash = hash_of_canonical(&canonical);
        let what = match self.file.service() {
            Some(s) if opts.client => format!("client of service `{}`", s.name.value),
            Some(s) => format!("service `{}`", s.name.value),
            None => "events".to_string(),
        };
        let mode = if opts.client { " --client" } else { "" };
        let _ = writeln!(
            self.out,
            "// @generated by `brief gen rust{mode}` from {} ({hash}).",
            opts.source_name
        );
        let _ = writeln!(
            self.out,
            "// Do not edit: change the schema and generate again."
        );
        let _ = writeln!(self.out, "\n//! Brief code for the {what}.\n");
        // Names come from the schema: an rpc called `new` or `to_x`, an enum
        // whose members share a prefix, or deeply nested maps are the
        // schema's choice, not something to fix in generated code.
        let _ = writeln!(
            self.out,
            "#![allow(\n    clippy::type_complexity,\n    clippy::wrong_self_convention,\n    clippy::enum_variant_names\n)]\n"
        );
        if self.file.messages().next().is_some() || self.file.enums().next().is_some() {
            let _ = writeln!(
                self.out,
                "use brief_rt::serde::{{Deserialize, Serialize}};\n"
            );
        }
        if let Some(s) = self.file.service() {
            let _ = writeln!(
                self.out,
                "/// The service name on the wire (`POST /{}/<rpc>`).",
                s.name.value
            );
            str_const(&mut self.out, "SERVICE", &s.name.value);
            self.out.push('\n');
        }
        let _ = writeln!(
            self.out,
            "/// Content hash of the schema this module was generated from."
        );
        // Always longer than 100 columns on one line, so rustfmt breaks it here.
        let _ = writeln!(self.out, "pub const SCHEMA_HASH: &str =\n    {hash:?};\n");
        // The canonical schema, served at `GET /_brief/contract` and kept for
        // registries; a raw string with enough `#`s to hold any doc text.
        let mut hashes = String::from("#");
        while canonical.contains(&format!("\"{hashes}")) {
            hashes.push('#');
        }
        let _ = writeln!(
            self.out,
            "/// The canonical schema this module was generated from."
        );
        let _ = writeln!(
            self.out,
            "pub const CONTRACT: &str = r{hashes}\"{canonical}\"{hashes};\n"
        );
        Ok(())
    }

    fn rust_type(&self, ty: &TypeKind) -> RTy {
        match ty {
            TypeKind::Int => RTy::leaf("i64"),
            TypeKind::Float => RTy::leaf("f64"),
            TypeKind::Bool => RTy::leaf("bool"),
            TypeKind::String => RTy::leaf("String"),
            TypeKind::Bytes => RTy::leaf("brief_rt::Bytes"),
            TypeKind::Time => RTy::leaf("brief_rt::Time"),
            TypeKind::Named(n) => RTy::leaf(type_name(n)),
            TypeKind::List(t) => RTy::generic("Vec", vec![self.rust_type(&t.kind)]),
            TypeKind::Map(_, v) => RTy::generic(
                "std::collections::BTreeMap",
                vec![RTy::leaf("String"), self.rust_type(&v.kind)],
            ),
        }
    }

    fn types(&mut self) {
        for item in &self.file.items {
            match &item.kind {
                ItemKind::Message(m) => self.message(m),
                ItemKind::Enum(e) => {
                    let out = &mut self.out;
                    let _ = writeln!(out, "/// Enum `{}`.", e.name.name);
                    let _ = writeln!(
                        out,
                        "#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]"
                    );
                    let _ = writeln!(out, "#[serde(crate = \"brief_rt::serde\")]");
                    let _ = writeln!(out, "pub enum {} {{", type_name(&e.name.name));
                    for v in &e.variants {
                        doc_lines(out, "    ", v.doc.as_ref(), &format!("`{}`.", v.name.name));
                        serde_attr(out, "    ", &[format!("rename = {:?}", v.name.name)]);
                        let _ = writeln!(out, "    {},", camel(&v.name.name));
                    }
                    let _ = writeln!(out, "}}\n");
                }
                _ => {}
            }
        }
    }

    fn message(&mut self, m: &Message) {
        let docs = self.roles.get(&m.name.name).cloned().unwrap_or_default();
        let _ = writeln!(self.out, "/// Message `{}`.", m.name.name);
        for d in docs {
            let _ = writeln!(self.out, "///\n/// {d}");
        }
        let _ = writeln!(
            self.out,
            "#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]"
        );
        let _ = writeln!(self.out, "#[serde(crate = \"brief_rt::serde\")]");
        if m.fields.is_empty() {
            // rustfmt (measured): `{}` up to 98 columns, `{\n}` at 99 and
            // 100, `{}` on the next line beyond.
            let line = format!("pub struct {} {{}}", type_name(&m.name.name));
            let _ = match line.chars().count() {
                ..=98 => writeln!(self.out, "{line}\n"),
                99..=100 => writeln!(self.out, "{}\n}}\n", line.trim_end_matches('}')),
                _ => writeln!(self.out, "{}\n{{}}\n", line.trim_end_matches(" {}")),
            };
            return;
        }
        open_brace(
            &mut self.out,
            &format!("pub struct {}", type_name(&m.name.name)),
        );
        for f in &m.fields {
            self.field(m, f);
        }
        let _ = writeln!(self.out, "}}\n");
    }

    fn field(&mut self, m: &Message, f: &Field) {
        let mut ty = self.rust_type(&f.ty.kind);
        if self
            .recursive
            .contains(&(m.name.name.clone(), f.name.name.clone()))
        {
            ty = RTy::generic("Box", vec![ty]);
        }
        let rust_name = snake(&f.name.name);
        let out = &mut self.out;
        let fallback = format!(
            "Field `{}`{}.",
            f.name.name,
            if f.optional { " (optional)" } else { "" }
        );
        doc_lines(out, "    ", f.doc.as_ref(), &fallback);
        let mut attrs = Vec::new();
        if rust_name.trim_start_matches("r#") != f.name.name {
            attrs.push(format!("rename = {:?}", f.name.name));
        }
        if f.optional {
            attrs.push("default".into());
            attrs.push("skip_serializing_if = \"Option::is_none\"".into());
            ty = RTy::generic("Option", vec![ty]);
        }
        if !attrs.is_empty() {
            serde_attr(out, "    ", &attrs);
        }
        // rustfmt: the field on one line; else the type alone on the next
        // line; else the type broken at its generics, opening on the field's
        // line when that fits, else on the next.
        let prefix = format!("pub {rust_name}: ");
        let next = format!("        {},", ty.one());
        let head_fits = match &ty {
            RTy::Generic(head, _) => fits(&format!("    {prefix}{head}<")),
            RTy::Leaf(_) => false,
        };
        if fits(&format!("    {prefix}{},", ty.one())) || (head_fits && !fits(&next)) {
            ty.write(out, "    ", &prefix, ",");
        } else {
            let _ = writeln!(out, "    {}", prefix.trim_end());
            ty.write(out, "        ", "", ",");
        }
    }

    fn server(&mut self, service: &str) {
        let trait_name = self.names.service_trait.clone();
        let generic = self.names.generic.clone();
        let out = &mut self.out;
        let _ = writeln!(
            out,
            "/// The `{service}` service: implement it and serve it with [`router`]."
        );
        let head = format!("pub trait {trait_name}: Send + Sync + 'static {{");
        // rustfmt keeps this header on one line up to 92 columns (measured).
        if head.chars().count() <= 92 {
            let _ = writeln!(out, "{head}");
        } else {
            let _ = writeln!(
                out,
                "pub trait {trait_name}:\n    Send + Sync + 'static\n{{"
            );
        }
        let rpcs: Vec<_> = self.file.rpcs().collect();
        for (i, r) in rpcs.iter().enumerate() {
            if i > 0 {
                out.push('\n');
            }
            doc_lines(
                out,
                "    ",
                r.doc.as_ref(),
                &format!("Rpc `{}`.", r.name.name),
            );
            sig(
                out,
                "    ",
                &format!("fn {}", snake(&r.name.name)),
                &[
                    "&self".into(),
                    "ctx: brief_rt::Context".into(),
                    format!("input: {}", type_name(&r.input.name)),
                ],
                &future_of(RTy::leaf(type_name(&r.output.name))),
                " + Send;",
            );
        }
        let _ = writeln!(out, "}}\n");
        let _ = writeln!(
            out,
            "/// An axum router serving every rpc of `svc` at `POST /{service}/<rpc>`;"
        );
        let _ = writeln!(out, "/// unknown paths answer `unimplemented`.");
        sig(
            out,
            "",
            &format!("pub fn router<{generic}: {trait_name}>"),
            &[format!("svc: {generic}")],
            &RTy::leaf("brief_rt::axum::Router"),
            " {",
        );
        let _ = writeln!(out, "    let svc = std::sync::Arc::new(svc);");
        let _ = writeln!(out, "    brief_rt::axum::Router::new()");
        for r in &rpcs {
            let closure = format!(
                "            brief_rt::server::rpc(svc.clone(), |svc, ctx, input: {}| async move {{",
                type_name(&r.input.name)
            );
            let links = [
                Link::call(
                    format!(".{}", snake(&r.name.name)),
                    vec!["ctx".into(), "input".into()],
                ),
                Link::bare(".await"),
            ];
            let _ = writeln!(out, "        .route(");
            let _ = writeln!(out, "            \"/{service}/{}\",", r.name.name);
            // rustfmt overflows the closure (last argument) only when the
            // arguments up to its body fit `fn_call_width` (measured).
            let args = format!(
                "svc.clone(), |svc, ctx, input: {}| async move {{",
                type_name(&r.input.name)
            );
            if fits(&closure) && args.chars().count() <= FN_CALL_WIDTH {
                let _ = writeln!(out, "{closure}");
                chain(out, "                ", "svc", &links, "");
                let _ = writeln!(out, "            }}),");
            } else {
                let _ = writeln!(out, "            brief_rt::server::rpc(");
                let _ = writeln!(out, "                svc.clone(),");
                let head = format!("|svc, ctx, input: {}| async move", type_name(&r.input.name));
                let body = format!("svc{}", links.iter().map(Link::one).collect::<String>());
                let one = format!("                {head} {{ {body} }},");
                if fits(&one) && body.chars().count() <= CHAIN_WIDTH {
                    // rustfmt puts a closure that fits on one line.
                    let _ = writeln!(out, "{one}");
                } else {
                    let _ = writeln!(out, "                {head} {{");
                    chain(out, "                    ", "svc", &links, "");
                    let _ = writeln!(out, "                }},");
                }
                let _ = writeln!(out, "            ),");
            }
            let _ = writeln!(out, "        )");
        }
        let _ = writeln!(out, "        .route(");
        let _ = writeln!(out, "            \"/_brief/contract\",");
        let _ = writeln!(
            out,
            "            brief_rt::server::contract(SERVICE, SCHEMA_HASH, CONTRACT),"
        );
        let _ = writeln!(out, "        )");
        let _ = writeln!(
            out,
            "        .route(\"/_brief/health\", brief_rt::server::health())"
        );
        let _ = writeln!(out, "        .fallback(brief_rt::server::unimplemented)");
        let _ = writeln!(out, "}}\n");
    }

    /// The client; `caller` is the fallback `Brief-Caller` (a `--client`
    /// contract's client name).
    fn client(&mut self, service: &str, caller: Option<&str>) {
        let name = self.names.client.clone();
        let var = url_variable(service);
        let out = &mut self.out;
        let _ = writeln!(
            out,
            "/// A Brief-RPC/1 client of `{service}`: per-rpc timeouts within the caller's"
        );
        let _ = writeln!(
            out,
            "/// deadline, retries of `unavailable`, a circuit breaker per rpc."
        );
        let _ = writeln!(out, "#[derive(Debug, Clone)]");
        open_brace(out, &format!("pub struct {name}"));
        let _ = writeln!(out, "    inner: brief_rt::client::Client,");
        let _ = writeln!(out, "}}\n");
        open_brace(out, &format!("impl {name}"));
        let _ = writeln!(out, "    /// A client with an explicit configuration.");
        let _ = writeln!(
            out,
            "    pub fn new(config: brief_rt::client::Config) -> Self {{"
        );
        let _ = writeln!(out, "        Self {{");
        let _ = writeln!(
            out,
            "            inner: brief_rt::client::Client::new(SERVICE, config.contract(SCHEMA_HASH)),"
        );
        let _ = writeln!(out, "        }}");
        let _ = writeln!(out, "    }}\n");
        let _ = writeln!(
            out,
            "    /// A client with default settings and the base URL from `{var}`."
        );
        match caller {
            Some(c) => {
                let _ = writeln!(
                    out,
                    "    /// `Brief-Caller` is `SERVICE_NAME` (set by the manifest generator), else `{c}`."
                );
            }
            None => {
                let _ = writeln!(
                    out,
                    "    /// `Brief-Caller` is `SERVICE_NAME` (set by the manifest generator)."
                );
            }
        }
        let _ = writeln!(
            out,
            "    pub fn from_env() -> Result<Self, brief_rt::Error> {{"
        );
        let _ = writeln!(
            out,
            "        let config = brief_rt::client::Config::from_env(SERVICE, brief_rt::client::process_env)?;"
        );
        match caller {
            Some(c) => {
                let _ = writeln!(out, "        Ok(Self::new(config.default_caller({c:?})))");
            }
            None => {
                let _ = writeln!(out, "        Ok(Self::new(config))");
            }
        }
        let _ = writeln!(out, "    }}\n");
        let _ = writeln!(
            out,
            "    /// The transport: breaker states and the target service."
        );
        let _ = writeln!(
            out,
            "    pub fn transport(&self) -> &brief_rt::client::Client {{"
        );
        let _ = writeln!(out, "        &self.inner");
        let _ = writeln!(out, "    }}");
        for r in self.file.rpcs() {
            out.push('\n');
            doc_lines(
                out,
                "    ",
                r.doc.as_ref(),
                &format!("Calls rpc `{}`.", r.name.name),
            );
            sig(
                out,
                "    ",
                &format!("pub async fn {}", client_method(&r.name.name)),
                &[
                    "&self".into(),
                    "ctx: &brief_rt::Context".into(),
                    format!("input: &{}", type_name(&r.input.name)),
                ],
                &result_of(RTy::leaf(type_name(&r.output.name))),
                " {",
            );
            chain(
                out,
                "        ",
                "self.inner",
                &[
                    Link::call(
                        ".call",
                        vec!["ctx".into(), format!("{:?}", r.name.name), "input".into()],
                    ),
                    Link::bare(".await"),
                ],
                "",
            );
            let _ = writeln!(out, "    }}");
        }
        let _ = writeln!(out, "}}\n");
    }

    fn events(&mut self, client: bool) {
        let (publisher, subscriber, generic) = (
            self.names.publisher.clone(),
            self.names.subscriber.clone(),
            self.names.generic.clone(),
        );
        let konst = |topic: &str| topic_ident(topic).to_ascii_uppercase();
        let schemas: Vec<_> = self.file.schemas().collect();
        let out = &mut self.out;
        for s in &schemas {
            doc_lines(
                out,
                "",
                s.doc.as_ref(),
                &format!("Event `{}`.", s.topic.value),
            );
            let _ = writeln!(
                out,
                "///\n/// Topic (and event type) of [`{}`] events.",
                type_name(&s.message.name)
            );
            str_const(
                out,
                &format!("TOPIC_{}", konst(&s.topic.value)),
                &s.topic.value,
            );
            out.push('\n');
        }
        let method = |prefix: &str, topic: &str| format!("{prefix}_{}", topic_ident(topic));
        if !client {
            let _ = writeln!(out, "/// Publishes the events of this schema.");
            let _ = writeln!(out, "pub trait {publisher}: Send + Sync {{");
            for (i, s) in schemas.iter().enumerate() {
                if i > 0 {
                    out.push('\n');
                }
                let _ = writeln!(out, "    /// Publishes on `{}`.", s.topic.value);
                sig(
                    out,
                    "    ",
                    &format!("fn {}", method("publish", &s.topic.value)),
                    &[
                        "&self".into(),
                        format!("event: &{}", type_name(&s.message.name)),
                    ],
                    &future_of(RTy::leaf("()")),
                    " + Send;",
                );
            }
            let _ = writeln!(out, "}}\n");
            let _ = writeln!(out, "impl {publisher} for brief_rt::events::MemoryBus {{");
            for (i, s) in schemas.iter().enumerate() {
                if i > 0 {
                    out.push('\n');
                }
                sig(
                    out,
                    "    ",
                    &format!("async fn {}", method("publish", &s.topic.value)),
                    &[
                        "&self".into(),
                        format!("event: &{}", type_name(&s.message.name)),
                    ],
                    &result_of(RTy::leaf("()")),
                    " {",
                );
                call(
                    out,
                    "        ",
                    "self.publish_json",
                    &[format!("TOPIC_{}", konst(&s.topic.value)), "event".into()],
                    "",
                );
                let _ = writeln!(out, "    }}");
            }
            let _ = writeln!(out, "}}\n");
        }
        let _ = writeln!(out, "/// Handles the events of this schema.");
        let _ = writeln!(out, "pub trait {subscriber}: Send + Sync {{");
        for (i, s) in schemas.iter().enumerate() {
            if i > 0 {
                out.push('\n');
            }
            let _ = writeln!(out, "    /// Handles an event from `{}`.", s.topic.value);
            sig(
                out,
                "    ",
                &format!("fn {}", method("on", &s.topic.value)),
                &[
                    "&self".into(),
                    format!("event: {}", type_name(&s.message.name)),
                ],
                &future_of(RTy::leaf("()")),
                " + Send;",
            );
        }
        let _ = writeln!(out, "}}\n");
        let _ = writeln!(
            out,
            "/// Decodes a record by topic and hands it to `subscriber`; returns"
        );
        let _ = writeln!(
            out,
            "/// `Ok(false)` for a topic this schema does not declare."
        );
        let _ = writeln!(out, "pub async fn dispatch<{generic}: {subscriber}>(");
        let _ = writeln!(out, "    subscriber: &{generic},");
        let _ = writeln!(out, "    topic: &str,");
        let _ = writeln!(out, "    payload: &[u8],");
        let _ = writeln!(out, ") -> Result<bool, brief_rt::Error> {{");
        let _ = writeln!(out, "    match topic {{");
        for s in &schemas {
            let arm = format!("        TOPIC_{} => {{", konst(&s.topic.value));
            if fits(&arm) {
                let _ = writeln!(out, "{arm}");
            } else {
                let _ = writeln!(out, "{}\n        {{", arm.trim_end_matches(" {"));
            }
            let _ = writeln!(
                out,
                "            let event = brief_rt::events::decode(payload)?;"
            );
            chain(
                out,
                "            ",
                "subscriber",
                &[
                    Link::call(
                        format!(".{}", method("on", &s.topic.value)),
                        vec!["event".into()],
                    ),
                    Link::bare(".await?"),
                ],
                ";",
            );
            let _ = writeln!(out, "            Ok(true)");
            let _ = writeln!(out, "        }}");
        }
        let _ = writeln!(out, "        _ => Ok(false),");
        let _ = writeln!(out, "    }}");
        let _ = writeln!(out, "}}\n");
    }
}

/// The client name of a `--client` contract, from its file name
/// (`shop.web.brief` → `web`; `web.brief` → `web`); `None` in server mode.
fn caller_name(opts: &RustOptions) -> Option<String> {
    if !opts.client {
        return None;
    }
    let file = opts
        .source_name
        .rsplit('/')
        .next()
        .unwrap_or(&opts.source_name);
    let stem = file.strip_suffix(".brief").unwrap_or(file);
    let name = stem.rsplit('.').next().unwrap_or(stem);
    (!name.is_empty()).then(|| name.to_string())
}

/// Same rule as `brief_rt::client::url_variable` (this crate does not depend
/// on brief-rt; `brief-example-summer`'s `url_variable_matches_the_runtime`
/// test keeps the two in sync).
fn url_variable(service: &str) -> String {
    let mut v: String = service
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() {
                c.to_ascii_uppercase()
            } else {
                '_'
            }
        })
        .collect();
    v.push_str("_URL");
    v
}

/// Records `name` (at `span`) as `ident`; a different name already there is a collision.
fn unique(
    seen: &mut BTreeMap<String, (String, Span)>,
    name: &str,
    span: Span,
    ident: String,
    out: &mut Vec<Error>,
) {
    match seen.get(&ident) {
        Some((first, first_span)) if first != name => out.push(Error::NameCollision {
            first: first.clone(),
            second: name.to_string(),
            ident: ident.trim_start_matches("r#").to_string(),
            target: "Rust",
            spans: [*first_span, span],
        }),
        Some(_) => {}
        None => {
            seen.insert(ident, (name.to_string(), span));
        }
    }
}

/// Fields whose (non-list, non-map) message type leads back to the containing
/// message: they are boxed so the struct has a finite size.
fn recursive_fields(file: &File) -> BTreeSet<(String, String)> {
    let messages: Vec<&Message> = file.messages().collect();
    let mut index = BTreeMap::new();
    for (i, m) in messages.iter().enumerate() {
        index.entry(m.name.name.as_str()).or_insert(i);
    }
    let target = |f: &Field| match &f.ty.kind {
        TypeKind::Named(n) => index.get(n.as_str()).copied(),
        _ => None,
    };
    let edges: Vec<Vec<usize>> = messages
        .iter()
        .map(|m| m.fields.iter().filter_map(target).collect())
        .collect();
    let comp = brief_syntax::graph::components(&edges);
    let mut out = BTreeSet::new();
    for (i, m) in messages.iter().enumerate() {
        for f in &m.fields {
            if target(f).is_some_and(|t| comp[t] == comp[i]) {
                out.insert((m.name.name.clone(), f.name.name.clone()));
            }
        }
    }
    out
}

/// Names the generated module relies on from the prelude and `brief_rt`;
/// a message or enum with one of them gets a `Msg` suffix instead of
/// shadowing it.
const PRELUDE_TYPES: &[&str] = &[
    "String",
    "Vec",
    "Option",
    "Result",
    "Box",
    "Some",
    "None",
    "Ok",
    "Err",
    "Send",
    "Sync",
    "Serialize",
    "Deserialize",
    "Future",
];

/// The Rust name of a message or enum.
fn type_name(name: &str) -> String {
    let c = camel(name);
    if PRELUDE_TYPES.contains(&c.as_str()) {
        format!("{c}Msg")
    } else {
        c
    }
}
