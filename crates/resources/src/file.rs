//! The recommendations file (`resources.toml` beside app.toml), which the
//! manifest generator reads:
//!
//! ```toml
//! service = "checkout"            # optional; a render of another service refuses the file
//!
//! [containers.app]                # the main workload; process-<name>, job-<name>, init-<name>
//! cpu = "250m"                    # requests.cpu
//! cpu_limit = "500m"              # limits.cpu, when the platform sets CPU limits
//! memory = "354Mi"                # requests.memory
//! memory_limit = "354Mi"          # limits.memory (default: = memory)
//! netutil = 40                    # paas.io/netutil request = limit, Mbit/s
//! ```
//!
//! Every key of a container is optional: what is missing comes from the
//! size preset. A limit is only given with its request and is never below
//! it; `cpu` and `memory` are Kubernetes quantities (or plain numbers of
//! cores and bytes); `netutil` is an integer, because Kubernetes only
//! allows whole amounts of an extended resource, with request = limit.

use std::collections::BTreeMap;
use std::fmt::Write;

use serde::Deserialize;

use crate::Error;
use crate::quantity::{Cpu, Memory};

/// The values of one container; `None` keeps the size preset's.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ContainerResources {
    /// CPU request.
    pub cpu: Option<Cpu>,
    /// CPU limit (only with `cpu`; at least `cpu`).
    pub cpu_limit: Option<Cpu>,
    /// Memory request.
    pub memory: Option<Memory>,
    /// Memory limit (only with `memory`; at least `memory`); without it the
    /// limit is the request.
    pub memory_limit: Option<Memory>,
    /// The `paas.io/netutil` extended resource in Mbit/s: request = limit.
    pub netutil: Option<u32>,
}

impl ContainerResources {
    /// Whether no value is set (the container keeps its preset entirely).
    pub fn is_empty(&self) -> bool {
        *self == ContainerResources::default()
    }
}

/// A recommendations file: per container, the values that replace its
/// size preset.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Recommendations {
    /// Where it was read from, for messages and `--explain` (`resources.toml`).
    pub file: String,
    /// The service the recommendations were made for, when the file says.
    pub service: Option<String>,
    /// Values per container name (`app`, `process-worker`, ...).
    pub containers: BTreeMap<String, ContainerResources>,
}

/// Whether `name` can name a container of a service: `app`, or
/// `process-`, `job-` or `init-` followed by a name (DNS-1123 label
/// characters). Sidecars are the platform's and keep their preset.
pub fn is_container_name(name: &str) -> bool {
    if name == "app" {
        return true;
    }
    ["process-", "job-", "init-"].iter().any(|prefix| {
        name.strip_prefix(prefix).is_some_and(|rest| {
            !rest.is_empty()
                && rest
                    .bytes()
                    .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
        })
    })
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawFile {
    service: Option<String>,
    #[serde(default)]
    containers: BTreeMap<String, RawContainer>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawContainer {
    cpu: Option<RawQuantity>,
    cpu_limit: Option<RawQuantity>,
    memory: Option<RawQuantity>,
    memory_limit: Option<RawQuantity>,
    netutil: Option<i64>,
}

/// A quantity as TOML gives it: `"250m"`, or a plain number (cores, bytes).
#[derive(Deserialize)]
#[serde(untagged)]
enum RawQuantity {
    Text(String),
    Integer(i64),
    Float(f64),
}

impl RawQuantity {
    fn text(&self) -> String {
        match self {
            RawQuantity::Text(s) => s.clone(),
            RawQuantity::Integer(i) => i.to_string(),
            RawQuantity::Float(f) => f.to_string(),
        }
    }
}

impl Recommendations {
    /// Reads and checks a recommendations file; `file` names it in errors
    /// and explanations.
    pub fn from_toml(text: &str, file: &str) -> Result<Recommendations, Error> {
        let invalid = |message: String| Error::File {
            file: file.to_owned(),
            message,
        };
        let raw: RawFile = toml::from_str(text).map_err(|e| invalid(e.to_string()))?;
        let mut containers = BTreeMap::new();
        for (name, c) in raw.containers {
            if !is_container_name(&name) {
                return Err(invalid(format!(
                    "`containers.{name}` is not a container of a service: expected `app`, `process-<name>`, `job-<name>` or `init-<name>`"
                )));
            }
            let key = |k: &str| format!("containers.{name}.{k}");
            let cpu = |k: &str, q: &Option<RawQuantity>| -> Result<Option<Cpu>, Error> {
                q.as_ref()
                    .map(|q| q.text().parse::<Cpu>())
                    .transpose()
                    .map_err(|m| invalid(format!("`{}`: {m}", key(k))))
            };
            let memory = |k: &str, q: &Option<RawQuantity>| -> Result<Option<Memory>, Error> {
                q.as_ref()
                    .map(|q| q.text().parse::<Memory>())
                    .transpose()
                    .map_err(|m| invalid(format!("`{}`: {m}", key(k))))
            };
            let entry = ContainerResources {
                cpu: cpu("cpu", &c.cpu)?,
                cpu_limit: cpu("cpu_limit", &c.cpu_limit)?,
                memory: memory("memory", &c.memory)?,
                memory_limit: memory("memory_limit", &c.memory_limit)?,
                netutil: c
                    .netutil
                    .map(|n| {
                        u32::try_from(n).map_err(|_| {
                            invalid(format!(
                                "`{}`: {n} is not a whole number of Mbit/s (0 to {})",
                                key("netutil"),
                                u32::MAX
                            ))
                        })
                    })
                    .transpose()?,
            };
            for (what, zero) in [
                ("cpu", entry.cpu == Some(Cpu(0))),
                ("memory", entry.memory == Some(Memory(0))),
            ] {
                if zero {
                    return Err(invalid(format!("`{}` must be above 0", key(what))));
                }
            }
            match (entry.cpu, entry.cpu_limit) {
                (None, Some(_)) => {
                    return Err(invalid(format!(
                        "`{}` needs `cpu` beside it",
                        key("cpu_limit")
                    )));
                }
                (Some(r), Some(l)) if l < r => {
                    return Err(invalid(format!(
                        "`{}` ({l}) is below `cpu` ({r})",
                        key("cpu_limit")
                    )));
                }
                _ => {}
            }
            match (entry.memory, entry.memory_limit) {
                (None, Some(_)) => {
                    return Err(invalid(format!(
                        "`{}` needs `memory` beside it",
                        key("memory_limit")
                    )));
                }
                (Some(r), Some(l)) if l < r => {
                    return Err(invalid(format!(
                        "`{}` ({l}) is below `memory` ({r})",
                        key("memory_limit")
                    )));
                }
                _ => {}
            }
            containers.insert(name, entry);
        }
        Ok(Recommendations {
            file: file.to_owned(),
            service: raw.service,
            containers,
        })
    }

    /// The file as TOML (what [`Recommendations::from_toml`] reads back).
    pub fn to_toml(&self) -> String {
        self.write_toml(&BTreeMap::new())
    }

    /// The file as TOML, with comment lines before each container's values.
    /// Containers with notes but no values are listed as comments only.
    pub(crate) fn write_toml(&self, notes: &BTreeMap<String, Vec<String>>) -> String {
        let mut out = String::new();
        let _ = writeln!(
            out,
            "# Resource recommendations, written by `paas resources recommend`."
        );
        let _ = writeln!(
            out,
            "# `paas render` and `paas service deploy` read this file beside app.toml:"
        );
        let _ = writeln!(
            out,
            "# each value replaces the size preset of its container; what is missing"
        );
        let _ = writeln!(out, "# comes from the preset.");
        if let Some(s) = &self.service {
            let _ = writeln!(out, "service = {}", toml_string(s));
        }
        let kept: Vec<_> = notes
            .keys()
            .filter(|k| !self.containers.contains_key(*k))
            .collect();
        for (name, c) in &self.containers {
            let _ = writeln!(out, "\n[containers.{}]", toml_key(name));
            for line in notes.get(name).into_iter().flatten() {
                let _ = writeln!(out, "# {line}");
            }
            if let Some(v) = c.cpu {
                let _ = writeln!(out, "cpu = \"{v}\"");
            }
            if let Some(v) = c.cpu_limit {
                let _ = writeln!(out, "cpu_limit = \"{v}\"");
            }
            if let Some(v) = c.memory {
                let _ = writeln!(out, "memory = \"{v}\"");
            }
            if let Some(v) = c.memory_limit {
                let _ = writeln!(out, "memory_limit = \"{v}\"");
            }
            if let Some(v) = c.netutil {
                let _ = writeln!(out, "netutil = {v}");
            }
        }
        for name in kept {
            let _ = writeln!(
                out,
                "\n# [containers.{}] keeps its size preset",
                toml_key(name)
            );
            for line in &notes[name] {
                let _ = writeln!(out, "# {line}");
            }
        }
        out
    }
}

/// A bare key when TOML allows one, else a quoted key.
fn toml_key(k: &str) -> String {
    if !k.is_empty()
        && k.bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
    {
        k.to_owned()
    } else {
        toml_string(k)
    }
}

/// A TOML basic string.
fn toml_string(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            c if c.is_control() => {
                let _ = write!(out, "\\u{:04X}", c as u32);
            }
            c => out.push(c),
        }
    }
    out.push('"');
    out
}
