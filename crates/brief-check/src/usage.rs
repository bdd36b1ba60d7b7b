//! Which parts of a server each client uses, and which no client uses (safe
//! to delete). A client uses a server rpc it declares, and a server field it
//! declares on a message reachable from its rpcs and events (matched by name,
//! as `compat` matches them).

use crate::model::{Schema, named_types};
use brief_syntax::File;
use serde::Serialize;
use std::collections::BTreeSet;

/// What one client uses.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct ClientUsage {
    /// The client's name (its file name).
    pub client: String,
    /// Server rpcs it calls.
    pub rpcs: Vec<String>,
    /// Server topics it consumes.
    pub topics: Vec<String>,
    /// Server fields it sends or reads, as `Message.field`.
    pub fields: Vec<String>,
}

/// The usage report.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct Usage {
    /// Per client.
    pub clients: Vec<ClientUsage>,
    /// Server rpcs no client calls.
    pub unused_rpcs: Vec<String>,
    /// Server topics no client consumes.
    pub unused_topics: Vec<String>,
    /// Fields of reachable server messages that no client sends or reads.
    pub unused_fields: Vec<String>,
}

/// Computes usage of `server` by `clients` (name, file).
pub fn usage(server: &File, clients: &[(String, &File)]) -> Usage {
    let sschema = Schema::new(server);
    let mut all_rpcs = BTreeSet::new();
    let mut all_topics = BTreeSet::new();
    let mut all_fields = BTreeSet::new();
    let mut per_client = Vec::new();
    for (name, client) in clients {
        let cschema = Schema::new(client);
        let mut rpcs = BTreeSet::new();
        let mut topics = BTreeSet::new();
        let mut fields = BTreeSet::new();
        let mut stack: Vec<String> = Vec::new();
        for r in client.rpcs() {
            if let Some(s) = server.rpcs().find(|s| s.name.name == r.name.name) {
                rpcs.insert(s.name.name.clone());
                for (c, s) in [(&r.input, &s.input), (&r.output, &s.output)] {
                    if c.name == s.name {
                        stack.push(c.name.clone());
                    }
                }
            }
        }
        for e in client.schemas() {
            if let Some(s) = server.schemas().find(|s| s.topic.value == e.topic.value) {
                topics.insert(s.topic.value.clone());
                if s.message.name == e.message.name {
                    stack.push(e.message.name.clone());
                }
            }
        }
        let mut seen = BTreeSet::new();
        while let Some(m) = stack.pop() {
            if !seen.insert(m.clone()) {
                continue;
            }
            let (Some(cm), Some(sm)) = (cschema.message(&m), sschema.message(&m)) else {
                continue;
            };
            for cf in &cm.fields {
                if sm.field(&cf.name.name).is_some() {
                    fields.insert(format!("{m}.{}", cf.name.name));
                    named_types(&cf.ty.kind, &mut |n| stack.push(n.to_string()));
                }
            }
        }
        all_rpcs.extend(rpcs.iter().cloned());
        all_topics.extend(topics.iter().cloned());
        all_fields.extend(fields.iter().cloned());
        per_client.push(ClientUsage {
            client: name.clone(),
            rpcs: rpcs.into_iter().collect(),
            topics: topics.into_iter().collect(),
            fields: fields.into_iter().collect(),
        });
    }
    let reachable = sschema.reachable(
        server
            .rpcs()
            .flat_map(|r| [r.input.name.as_str(), r.output.name.as_str()])
            .chain(server.schemas().map(|s| s.message.name.as_str())),
    );
    let mut unused_fields = Vec::new();
    for m in server
        .messages()
        .filter(|m| reachable.contains(m.name.name.as_str()))
    {
        for f in &m.fields {
            let key = format!("{}.{}", m.name.name, f.name.name);
            if !all_fields.contains(&key) {
                unused_fields.push(key);
            }
        }
    }
    Usage {
        clients: per_client,
        unused_rpcs: server
            .rpcs()
            .map(|r| r.name.name.clone())
            .filter(|r| !all_rpcs.contains(r))
            .collect(),
        unused_topics: server
            .schemas()
            .map(|s| s.topic.value.clone())
            .filter(|t| !all_topics.contains(t))
            .collect(),
        unused_fields,
    }
}
