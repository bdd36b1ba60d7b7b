//! Two-sided contracts: a client's copy of a schema against the server's.
//!
//! Direction matters. What a client *sends* (rpc inputs) must exist on the
//! server with the same type, and every field the server requires must be
//! sent (and required on the client, so it is always sent). What a client
//! *reads* (rpc outputs, events) must exist on the server with the same type,
//! and a field the client requires must be required on the server. Enums:
//! values a client sends must be known to the server; values the server may
//! send must be known to the client. Events: the consumer is the client and
//! the producer the server, in the read direction.
//!
//! Every violation is a diagnostic whose primary label is in the client and
//! whose related label is in the server, plus a stable `key` (`rpc:sum`,
//! `field:SumIn.a`, `enum:Color.red`, `topic:t`, `message:M`, `service`) that
//! `diff` uses to attribute breakage to a change.
//!
//! Codes: B0100 service mismatch, B0101 missing rpc, B0102 rpc payload
//! mismatch, B0103 missing field, B0104 type mismatch, B0105 required by the
//! server but optional on the client, B0106 required field not sent, B0108
//! required by the client but optional on the server, B0109 enum value sent
//! but unknown, B0110 enum value received but unknown, B0111 missing type,
//! B0112 missing topic, B0113 event payload mismatch.

use crate::model::{Schema, TypeDef};
use brief_syntax::{Diagnostic, Enum, File, Message, Span, TypeKind};
use std::collections::BTreeSet;

/// One contract violation.
#[derive(Debug, Clone)]
pub struct Violation {
    /// What it is about (see the module docs).
    pub key: String,
    /// The diagnostic, client span first, server span second.
    pub diagnostic: Diagnostic,
}

/// Which way a message travels, seen from the client.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Direction {
    /// The client sends it (rpc input).
    Send,
    /// The client reads it (rpc output, event payload).
    Read,
}

/// Checks `client` (file `client_id`) against `server` (file `server_id`).
pub fn compat(server: &File, server_id: usize, client: &File, client_id: usize) -> Vec<Violation> {
    let mut cx = Cx {
        server: Schema::new(server),
        client: Schema::new(client),
        sid: server_id,
        cid: client_id,
        out: Vec::new(),
        seen: BTreeSet::new(),
    };
    cx.run();
    cx.out
}

struct Cx<'a> {
    server: Schema<'a>,
    client: Schema<'a>,
    sid: usize,
    cid: usize,
    out: Vec<Violation>,
    seen: BTreeSet<(String, Direction)>,
}

impl<'a> Cx<'a> {
    /// Records a violation once: a message used in both directions is
    /// compared twice, and an identical finding is not worth two reports.
    fn push(&mut self, key: String, d: Diagnostic) {
        let dup = self.out.iter().any(|v| {
            v.key == key && v.diagnostic.code == d.code && v.diagnostic.message == d.message
        });
        if !dup {
            self.out.push(Violation { key, diagnostic: d });
        }
    }

    fn err(&self, code: &'static str, msg: String, cspan: Span) -> Diagnostic {
        Diagnostic::error(code, msg, self.cid, cspan)
    }

    fn run(&mut self) {
        let (server, client) = (self.server.file, self.client.file);
        let server_service = server.service();
        if let (Some(c), Some(s)) = (client.service(), server_service)
            && c.name.value != s.name.value
        {
            let d = self
                .err(
                    "B0100",
                    format!(
                        "client contract is for `{}`, the server is `{}`",
                        c.name.value, s.name.value
                    ),
                    c.name.span,
                )
                .with_label("client's service")
                .with_related(self.sid, s.name.span, "server's service")
                .with_hint("compare a client contract with the server it calls");
            self.push("service".into(), d);
        }
        for rpc in client.rpcs() {
            let Some(srpc) = server.rpcs().find(|r| r.name.name == rpc.name.name) else {
                let mut d = self
                    .err(
                        "B0101",
                        format!("rpc `{}` does not exist on the server", rpc.name.name),
                        rpc.name.span,
                    )
                    .with_label("called by the client")
                    .with_hint("remove it from the client contract, or add it to the server");
                if let Some(s) = server_service {
                    d = d.with_related(self.sid, s.name.span, "server declared here");
                }
                self.push(format!("rpc:{}", rpc.name.name), d);
                continue;
            };
            for (cname, sname, dir, what) in [
                (&rpc.input, &srpc.input, Direction::Send, "input"),
                (&rpc.output, &srpc.output, Direction::Read, "output"),
            ] {
                if cname.name != sname.name {
                    let d = self
                        .err(
                            "B0102",
                            format!(
                                "rpc `{}` {what} is `{}` on the client but `{}` on the server",
                                rpc.name.name, cname.name, sname.name
                            ),
                            cname.span,
                        )
                        .with_label(format!("client's {what}"))
                        .with_related(self.sid, sname.span, format!("server's {what}"))
                        .with_hint("use the server's message name");
                    self.push(format!("rpc:{}", rpc.name.name), d);
                } else {
                    self.types(&cname.name, cname.span, sname.span, dir);
                }
            }
        }
        for ev in client.schemas() {
            let Some(sev) = server.schemas().find(|s| s.topic.value == ev.topic.value) else {
                // The producer has no such topic: point at what it does declare.
                let (span, what) = match (server_service, server.schemas().next()) {
                    (Some(svc), _) => (svc.name.span, "producer declared here"),
                    (None, Some(first)) => (first.topic.span, "the producer's topics start here"),
                    (None, None) => (Span::new(0, 0), "the producer declares no topics"),
                };
                let d = self
                    .err(
                        "B0112",
                        format!("topic `{}` is not produced by the server", ev.topic.value),
                        ev.topic.span,
                    )
                    .with_label("consumed by this contract")
                    .with_related(self.sid, span, what)
                    .with_hint("remove the schema, or add it to the producer");
                self.push(format!("topic:{}", ev.topic.value), d);
                continue;
            };
            if ev.message.name != sev.message.name {
                let d = self
                    .err(
                        "B0113",
                        format!(
                            "topic `{}` carries `{}` on the consumer but `{}` on the producer",
                            ev.topic.value, ev.message.name, sev.message.name
                        ),
                        ev.message.span,
                    )
                    .with_label("consumer's payload")
                    .with_related(self.sid, sev.message.span, "producer's payload")
                    .with_hint("use the producer's message name");
                self.push(format!("topic:{}", ev.topic.value), d);
            } else {
                self.types(
                    &ev.message.name,
                    ev.message.span,
                    sev.message.span,
                    Direction::Read,
                );
            }
        }
    }

    /// Compares the types called `name` on both sides, once per direction;
    /// `use_span` and `server_use` are where each side refers to it.
    fn types(&mut self, name: &str, use_span: Span, server_use: Span, dir: Direction) {
        if !self.seen.insert((name.to_string(), dir)) {
            return;
        }
        let (Some(cdef), sdef) = (
            self.client.types.get(name).copied(),
            self.server.types.get(name).copied(),
        ) else {
            return; // undefined on the client: `brief check` reports it
        };
        match (cdef, sdef) {
            (TypeDef::Message(c), Some(TypeDef::Message(s))) => self.message(c, s, dir),
            (TypeDef::Enum(c), Some(TypeDef::Enum(s))) => self.enumeration(c, s, dir),
            (_, None) => {
                let span = match cdef {
                    TypeDef::Message(m) => m.name.span,
                    TypeDef::Enum(e) => e.name.span,
                };
                let d = self
                    .err(
                        "B0111",
                        format!("type `{name}` does not exist on the server"),
                        span,
                    )
                    .with_label("declared by the client")
                    .with_related(self.sid, server_use, "the server refers to it here")
                    .with_hint("use the server's type names");
                self.push(format!("message:{name}"), d);
            }
            (_, Some(sdef)) => {
                let (sspan, skind) = match sdef {
                    TypeDef::Message(m) => (m.name.span, "a message on the server"),
                    TypeDef::Enum(e) => (e.name.span, "an enum on the server"),
                };
                let ckind = match cdef {
                    TypeDef::Message(_) => "a message",
                    TypeDef::Enum(_) => "an enum",
                };
                let d = self
                    .err(
                        "B0104",
                        format!("`{name}` is a message on one side and an enum on the other"),
                        use_span,
                    )
                    .with_label(format!("{ckind} on the client"))
                    .with_related(self.sid, sspan, skind)
                    .with_hint("use the server's definition");
                self.push(format!("message:{name}"), d);
            }
        }
    }

    fn message(&mut self, c: &'a Message, s: &'a Message, dir: Direction) {
        let m = &c.name.name;
        for cf in &c.fields {
            let key = format!("field:{m}.{}", cf.name.name);
            let Some(sf) = s.field(&cf.name.name) else {
                let what = if dir == Direction::Send {
                    "sent"
                } else {
                    "read"
                };
                let d = self
                    .err(
                        "B0103",
                        format!(
                            "field `{m}.{}` {what} by the client does not exist on the server",
                            cf.name.name
                        ),
                        cf.name.span,
                    )
                    .with_label(format!("{what} by the client"))
                    .with_related(self.sid, s.name.span, "server's message")
                    .with_hint("remove it from the client contract, or add it to the server");
                self.push(key, d);
                continue;
            };
            if !same_type(&cf.ty.kind, &sf.ty.kind) {
                let d = self
                    .err(
                        "B0104",
                        format!(
                            "field `{m}.{}` is `{}` on the client but `{}` on the server",
                            cf.name.name, cf.ty, sf.ty
                        ),
                        cf.ty.span,
                    )
                    .with_label("client's type")
                    .with_related(self.sid, sf.ty.span, "server's type")
                    .with_hint("use the server's type");
                self.push(key, d);
                continue;
            }
            match dir {
                Direction::Send if cf.optional && !sf.optional => {
                    let d = self
                        .err(
                            "B0105",
                            format!(
                                "the server requires `{m}.{}` but the client may omit it",
                                cf.name.name
                            ),
                            cf.span,
                        )
                        .with_label("optional on the client")
                        .with_related(self.sid, sf.span, "required on the server")
                        .with_hint("make it required on the client (remove `?`)");
                    self.push(key, d);
                }
                Direction::Read if !cf.optional && sf.optional => {
                    let d = self
                        .err(
                            "B0108",
                            format!(
                                "the client requires `{m}.{}` but the server may omit it",
                                cf.name.name
                            ),
                            cf.span,
                        )
                        .with_label("required on the client")
                        .with_related(self.sid, sf.span, "optional on the server")
                        .with_hint("make it optional on the client (`T?`)");
                    self.push(key, d);
                }
                _ => {}
            }
            let mut names = Vec::new();
            crate::model::named_types(&cf.ty.kind, &mut |n| names.push(n));
            for n in names {
                self.types(n, cf.ty.span, sf.ty.span, dir);
            }
        }
        if dir == Direction::Send {
            for sf in s.fields.iter().filter(|f| !f.optional) {
                if c.field(&sf.name.name).is_none() {
                    let d = self
                        .err("B0106", format!("the server requires field `{m}.{}`, which the client does not send", sf.name.name), c.name.span)
                        .with_label("client's message")
                        .with_related(self.sid, sf.span, "required here")
                        .with_hint(format!("add `{} {}` to the client's `{m}`", sf.name.name, sf.ty));
                    self.push(format!("field:{m}.{}", sf.name.name), d);
                }
            }
        }
    }

    fn enumeration(&mut self, c: &'a Enum, s: &'a Enum, dir: Direction) {
        let e = &c.name.name;
        match dir {
            Direction::Send => {
                for v in &c.variants {
                    if !s.variants.iter().any(|sv| sv.name.name == v.name.name) {
                        let d = self
                            .err(
                                "B0109",
                                format!(
                                    "the client may send `{e}.{}`, which the server does not know",
                                    v.name.name
                                ),
                                v.name.span,
                            )
                            .with_label("sent by the client")
                            .with_related(self.sid, s.name.span, "server's enum")
                            .with_hint("remove the value from the client, or add it to the server");
                        self.push(format!("enum:{e}.{}", v.name.name), d);
                    }
                }
            }
            Direction::Read => {
                for sv in &s.variants {
                    if !c.variants.iter().any(|v| v.name.name == sv.name.name) {
                        let d = self
                            .err(
                                "B0110",
                                format!(
                                    "the server may send `{e}.{}`, which the client does not know",
                                    sv.name.name
                                ),
                                c.name.span,
                            )
                            .with_label("client's enum")
                            .with_related(self.sid, sv.name.span, "sent by the server")
                            .with_hint(format!("add `{}` to the client's `{e}`", sv.name.name));
                        self.push(format!("enum:{e}.{}", sv.name.name), d);
                    }
                }
            }
        }
    }
}

/// Structural type equality; named types compare by name (their contents
/// are compared separately).
pub fn same_type(a: &TypeKind, b: &TypeKind) -> bool {
    match (a, b) {
        (TypeKind::List(x), TypeKind::List(y)) => same_type(&x.kind, &y.kind),
        (TypeKind::Map(k1, v1), TypeKind::Map(k2, v2)) => {
            same_type(&k1.kind, &k2.kind) && same_type(&v1.kind, &v2.kind)
        }
        _ => a == b,
    }
}
