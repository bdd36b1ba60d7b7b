//! Resolution of a validated file for one environment: merge, then read the
//! merged tree into the typed [`App`] with every default filled in, and
//! record where each leaf came from.
//!
//! The tree was validated for every environment before a [`Parsed`] exists,
//! so the readers below only fall back to defaults for keys that are absent;
//! a value of the wrong shape cannot reach them (and would not panic if it did).

use std::collections::BTreeMap;

use crate::check::node_date;
use crate::merge::merge;
use crate::parse::Parsed;
use crate::tree::{Layer, Node, Table, Value, join};
use crate::{
    App, Autoscale, Criticality, CronJob, Database, DatabaseEngine, Dependency, Deploy, Engine,
    Error, Exception, HardeningRule, Health, InitJob, Kind, Origin, Process, Resolved, Route,
    Secrets, Strategy,
};

/// Default `[engine] size`.
pub(crate) const DEFAULT_SIZE: &str = "small";
/// Default `[deploy] canary_steps`.
pub(crate) const DEFAULT_CANARY_STEPS: [u8; 3] = [5, 25, 50];
/// Default `[health] startup_seconds`.
pub(crate) const DEFAULT_STARTUP_SECONDS: u32 = 60;

impl Parsed {
    pub(crate) fn name(&self) -> &str {
        &self.name
    }

    pub(crate) fn resolve(&self, env: &str, with_origins: bool) -> Result<Resolved, Error> {
        if !self.environments.iter().any(|e| e == env) {
            return Err(Error::UnknownEnvironment {
                name: env.to_owned(),
                known: self.environments.clone(),
            });
        }
        let over = self.overrides.iter().find(|o| o.env == env);
        let merged = merge(
            &self.base,
            over.map(|o| &o.table),
            over.map_or(&[][..], |o| &o.unset),
        );
        let mut origins = BTreeMap::new();
        if with_origins {
            self.origins(&merged, "", &mut origins);
        }
        if !self.name_in_file {
            origins.remove("name");
        }
        Ok(Resolved {
            app: build(&merged, &self.name, env),
            origins,
        })
    }

    fn origins(&self, table: &Table, prefix: &str, out: &mut BTreeMap<String, Origin>) {
        for entry in &table.entries {
            let path = join(prefix, &entry.key);
            match &entry.node.value {
                Value::Table(t) if !t.is_empty() => self.origins(t, &path, out),
                _ => {
                    out.insert(path, self.origin(&entry.node));
                }
            }
        }
    }

    fn origin(&self, node: &Node) -> Origin {
        let line = self.lines.line(node.span.start);
        match node.layer {
            Layer::Base => Origin::Base { line },
            Layer::Env(i) => Origin::Environment {
                env: self
                    .overrides
                    .get(i)
                    .map(|o| o.env.clone())
                    .unwrap_or_default(),
                line,
            },
        }
    }
}

fn table<'t>(t: &'t Table, key: &str) -> Option<&'t Table> {
    t.get(key).and_then(Node::as_table)
}

fn string(t: &Table, key: &str) -> Option<String> {
    t.get(key).and_then(Node::as_str).map(str::to_owned)
}

fn u32_of(t: &Table, key: &str) -> Option<u32> {
    t.get(key)
        .and_then(Node::as_integer)
        .and_then(|i| u32::try_from(i).ok())
}

fn strings(t: &Table, key: &str) -> Vec<String> {
    t.get(key)
        .and_then(Node::as_array)
        .map(|items| {
            items
                .iter()
                .filter_map(Node::as_str)
                .map(str::to_owned)
                .collect()
        })
        .unwrap_or_default()
}

/// Each entry of a table of named tables, with its (possibly empty) table.
fn named<'t>(t: &'t Table, key: &str) -> impl Iterator<Item = (&'t str, &'t Table)> {
    table(t, key)
        .into_iter()
        .flat_map(|t| t.entries.iter())
        .filter_map(|e| e.node.as_table().map(|t| (e.key.as_ref(), t)))
}

fn build(root: &Table, name: &str, env: &str) -> App {
    let empty = Table::default();
    let engine_t = table(root, "engine").unwrap_or(&empty);
    let engine = Engine {
        name: string(engine_t, "name").unwrap_or_default(),
        version: string(engine_t, "version"),
        size: string(engine_t, "size").unwrap_or_else(|| DEFAULT_SIZE.to_owned()),
        image: string(engine_t, "image"),
    };
    let health_t = table(root, "health").unwrap_or(&empty);
    let secrets_t = table(root, "secrets").unwrap_or(&empty);
    let deploy_t = table(root, "deploy").unwrap_or(&empty);

    App {
        name: name.to_owned(),
        environment: env.to_owned(),
        description: string(root, "description").unwrap_or_default(),
        kind: match string(root, "kind").as_deref() {
            Some("infra") => Kind::Infra,
            _ => Kind::Business,
        },
        owner: string(root, "owner").unwrap_or_default(),
        criticality: match string(root, "criticality").as_deref() {
            Some("low") => Criticality::Low,
            Some("high") => Criticality::High,
            _ => Criticality::Normal,
        },
        replicas: u32_of(root, "replicas").unwrap_or(1),
        ports: table(root, "ports")
            .map(|t| {
                t.entries
                    .iter()
                    .filter_map(|e| {
                        let port = e.node.as_integer().and_then(|i| u16::try_from(i).ok())?;
                        Some((e.key.to_string(), port))
                    })
                    .collect()
            })
            .unwrap_or_default(),
        health: Health {
            liveness: string(health_t, "liveness"),
            readiness: string(health_t, "readiness"),
            startup: string(health_t, "startup"),
            startup_seconds: u32_of(health_t, "startup_seconds").unwrap_or(DEFAULT_STARTUP_SECONDS),
        },
        autoscale: table(root, "autoscale").map(|t| Autoscale {
            min: u32_of(t, "min").unwrap_or(1),
            max: u32_of(t, "max").unwrap_or(1),
            cpu_percent: u32_of(t, "cpu_percent").unwrap_or(100),
        }),
        env: table(root, "env")
            .map(|t| {
                t.entries
                    .iter()
                    .filter_map(|e| {
                        let value = match &e.node.value {
                            Value::String(s) => s.to_string(),
                            Value::Integer(i) => i.to_string(),
                            Value::Boolean(b) => b.to_string(),
                            _ => return None,
                        };
                        Some((e.key.to_string(), value))
                    })
                    .collect()
            })
            .unwrap_or_default(),
        secrets: Secrets {
            vault: secrets_t
                .get("vault")
                .and_then(Node::as_bool)
                .unwrap_or(true),
            keys: strings(secrets_t, "keys"),
        },
        dependencies: named(root, "dependencies")
            .map(|(k, t)| {
                (
                    k.to_owned(),
                    Dependency {
                        port: string(t, "port").unwrap_or_else(|| "http".to_owned()),
                        timeout_ms: u32_of(t, "timeout_ms"),
                    },
                )
            })
            .collect(),
        databases: named(root, "databases")
            .filter_map(|(k, t)| {
                let engine = match string(t, "engine").as_deref()? {
                    "postgres" => DatabaseEngine::Postgres,
                    "redis" => DatabaseEngine::Redis,
                    "kafka" => DatabaseEngine::Kafka,
                    _ => return None,
                };
                Some((k.to_owned(), Database { engine }))
            })
            .collect(),
        routes: named(root, "routes")
            .map(|(k, t)| {
                (
                    k.to_owned(),
                    Route {
                        host: string(t, "host").unwrap_or_default(),
                        path: string(t, "path").unwrap_or_else(|| "/".to_owned()),
                    },
                )
            })
            .collect(),
        processes: named(root, "processes")
            .map(|(k, t)| {
                (
                    k.to_owned(),
                    Process {
                        command: strings(t, "command"),
                        replicas: u32_of(t, "replicas").unwrap_or(1),
                        size: string(t, "size").unwrap_or_else(|| engine.size.clone()),
                    },
                )
            })
            .collect(),
        jobs: named(root, "jobs")
            .map(|(k, t)| {
                (
                    k.to_owned(),
                    CronJob {
                        schedule: string(t, "schedule").unwrap_or_default(),
                        command: strings(t, "command"),
                        deadline_seconds: u32_of(t, "deadline_seconds"),
                    },
                )
            })
            .collect(),
        init: named(root, "init")
            .map(|(k, t)| {
                (
                    k.to_owned(),
                    InitJob {
                        command: strings(t, "command"),
                    },
                )
            })
            .collect(),
        deploy: Deploy {
            strategy: string(deploy_t, "strategy")
                .and_then(|s| Strategy::from_name(&s))
                .unwrap_or_default(),
            canary_steps: match deploy_t.get("canary_steps").and_then(Node::as_array) {
                Some(items) => items
                    .iter()
                    .filter_map(|n| n.as_integer().and_then(|i| u8::try_from(i).ok()))
                    .collect(),
                None => DEFAULT_CANARY_STEPS.to_vec(),
            },
        },
        exceptions: named(root, "exceptions")
            .filter_map(|(k, t)| {
                let rule = HardeningRule::from_name(k)?;
                let expires = node_date(t.get("expires")?)?;
                Some((
                    rule,
                    Exception {
                        reason: string(t, "reason").unwrap_or_default(),
                        expires,
                    },
                ))
            })
            .collect(),
        engine,
    }
}
