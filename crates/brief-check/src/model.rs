//! A resolved view of one file: types by name, plus reachability and the
//! directions (sent, read) in which each message travels.

use brief_syntax::{Enum, File, Message, TypeKind};
use std::collections::{BTreeMap, BTreeSet};

/// A named type definition.
#[derive(Debug, Clone, Copy)]
pub enum TypeDef<'a> {
    /// A message.
    Message(&'a Message),
    /// An enum.
    Enum(&'a Enum),
}

/// Lookup tables over a parsed file (first definition wins on duplicates).
#[derive(Debug)]
pub struct Schema<'a> {
    /// The file.
    pub file: &'a File,
    /// Messages and enums by name.
    pub types: BTreeMap<&'a str, TypeDef<'a>>,
}

impl<'a> Schema<'a> {
    /// Indexes `file`.
    pub fn new(file: &'a File) -> Self {
        let mut types = BTreeMap::new();
        for item in &file.items {
            match &item.kind {
                brief_syntax::ItemKind::Message(m) => {
                    types
                        .entry(m.name.name.as_str())
                        .or_insert(TypeDef::Message(m));
                }
                brief_syntax::ItemKind::Enum(e) => {
                    types
                        .entry(e.name.name.as_str())
                        .or_insert(TypeDef::Enum(e));
                }
                _ => {}
            }
        }
        Schema { file, types }
    }

    /// The message called `name`.
    pub fn message(&self, name: &str) -> Option<&'a Message> {
        match self.types.get(name) {
            Some(TypeDef::Message(m)) => Some(m),
            _ => None,
        }
    }

    /// The enum called `name`.
    pub fn enum_(&self, name: &str) -> Option<&'a Enum> {
        match self.types.get(name) {
            Some(TypeDef::Enum(e)) => Some(e),
            _ => None,
        }
    }

    /// Names of every type reachable from `roots` through fields (roots included).
    pub fn reachable(&self, roots: impl IntoIterator<Item = &'a str>) -> BTreeSet<&'a str> {
        let mut seen = BTreeSet::new();
        let mut stack: Vec<&'a str> = roots.into_iter().collect();
        while let Some(name) = stack.pop() {
            let Some((&key, def)) = self.types.get_key_value(name) else {
                continue;
            };
            if !seen.insert(key) {
                continue;
            }
            if let TypeDef::Message(m) = def {
                for f in &m.fields {
                    named_types(&f.ty.kind, &mut |n| stack.push(n));
                }
            }
        }
        seen
    }

    /// Types reachable from rpc inputs (sent by clients).
    pub fn sent(&self) -> BTreeSet<&'a str> {
        self.reachable(self.file.rpcs().map(|r| r.input.name.as_str()))
    }

    /// Types reachable from rpc outputs and event payloads (read by clients).
    pub fn read(&self) -> BTreeSet<&'a str> {
        self.reachable(
            self.file
                .rpcs()
                .map(|r| r.output.name.as_str())
                .chain(self.file.schemas().map(|s| s.message.name.as_str())),
        )
    }
}

/// Calls `f` with every message or enum name mentioned in a type.
pub fn named_types<'a>(ty: &'a TypeKind, f: &mut impl FnMut(&'a str)) {
    match ty {
        TypeKind::Named(n) => f(n),
        TypeKind::List(t) => named_types(&t.kind, f),
        TypeKind::Map(k, v) => {
            named_types(&k.kind, f);
            named_types(&v.kind, f);
        }
        _ => {}
    }
}
