//! `paas deps -e ENV --corpus DIR [--who-calls SVC] [--dot]`: the
//! dependency graph of every service of a corpus in one environment, as
//! the services declare it (`[dependencies.<svc>]`, resolved for ENV).
//!
//! It checks that every dependency is a service of the corpus and that the
//! port it calls is one that service declares, and answers who calls a
//! service, directly and through others (what breaks when it is down).
//! Exit 0: every dependency found; 1: a dependency is missing or a file is
//! invalid (every problem printed; the graph of the valid files still is);
//! 2: usage errors.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt::Write as _;
use std::path::Path;

use serde_json::json;

use crate::cli::{DepsArgs, Global, Output};
use crate::lint::find_files;
use crate::render::load_platform;
use crate::service::json_text;
use crate::{Failure, clock};

/// One edge: `from` calls `to` on `port`.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
struct Call {
    to: String,
    port: String,
    timeout_ms: Option<u32>,
}

/// The services of the corpus and what each calls.
#[derive(Debug, Default)]
struct Graph {
    /// Service -> (its ports, its calls).
    services: BTreeMap<String, (BTreeSet<String>, Vec<Call>)>,
}

impl Graph {
    fn callers(&self, of: &str) -> BTreeSet<&str> {
        self.services
            .iter()
            .filter(|(_, (_, calls))| calls.iter().any(|c| c.to == of))
            .map(|(s, _)| s.as_str())
            .collect()
    }

    /// Everything that calls `of`, directly or through other services.
    fn transitive_callers(&self, of: &str) -> BTreeSet<&str> {
        let mut seen: BTreeSet<&str> = BTreeSet::new();
        let mut todo = vec![of];
        while let Some(s) = todo.pop() {
            for caller in self.callers(s) {
                if caller != of && seen.insert(caller) {
                    todo.push(caller);
                }
            }
        }
        seen
    }

    /// The problems of the graph: calls to services or ports that do not exist.
    fn missing(&self) -> Vec<String> {
        let mut out = Vec::new();
        for (from, (_, calls)) in &self.services {
            for c in calls {
                match self.services.get(&c.to) {
                    None => out.push(format!(
                        "error: {from} depends on `{}`, which is no service of the corpus",
                        c.to
                    )),
                    Some((ports, _)) if !ports.contains(&c.port) => out.push(format!(
                        "error: {from} calls `{}` on port `{}`, which {} does not declare (ports: {})",
                        c.to,
                        c.port,
                        c.to,
                        ports.iter().cloned().collect::<Vec<_>>().join(", ")
                    )),
                    Some(_) => {}
                }
            }
        }
        out
    }

    fn dot(&self, missing: &BTreeSet<String>) -> String {
        let mut out = String::from("digraph deps {\n  rankdir=LR;\n  node [shape=box];\n");
        for s in self.services.keys() {
            let _ = writeln!(out, "  \"{s}\";");
        }
        for m in missing {
            let _ = writeln!(out, "  \"{m}\" [style=dashed, color=red];");
        }
        for (from, (_, calls)) in &self.services {
            for c in calls {
                let label = c
                    .timeout_ms
                    .map_or_else(|| c.port.clone(), |t| format!("{} {t} ms", c.port));
                let _ = writeln!(out, "  \"{from}\" -> \"{}\" [label=\"{label}\"];", c.to);
            }
        }
        out.push_str("}\n");
        out
    }
}

/// `paas deps`.
pub(crate) fn deps(global: &Global, args: &DepsArgs) -> Result<String, Failure> {
    let platform = load_platform(global.platform.as_deref())?;
    if platform.environment(&args.env).is_none() {
        let known: Vec<_> = platform.environments.keys().map(String::as_str).collect();
        return Err(Failure::usage(format!(
            "error: unknown environment `{}` (expected one of {})",
            args.env,
            known.join(", ")
        )));
    }
    if !args.corpus.is_dir() {
        return Err(Failure::usage(format!(
            "error: --corpus {}: not a directory",
            args.corpus.display()
        )));
    }
    let files = find_files(&args.corpus, "toml");
    if files.is_empty() {
        return Err(Failure::usage(format!(
            "error: no *.toml file under {}",
            args.corpus.display()
        )));
    }
    let vocabulary = platform.vocabulary(clock::today());
    let mut graph = Graph::default();
    let mut problems = Vec::new();
    let mut where_from: BTreeMap<String, String> = BTreeMap::new();
    for path in &files {
        let Ok(source) = std::fs::read(path) else {
            problems.push(format!("error: cannot read {}", path.display()));
            continue;
        };
        let file_name = path.display().to_string();
        let fallback = fallback_name(path);
        let options = app_toml::ParseOptions {
            file_name: &file_name,
            fallback_name: fallback.as_deref(),
            vocabulary: &vocabulary,
        };
        let resolved = app_toml::parse(&source, &options).and_then(|f| f.resolve_app(&args.env));
        let app = match resolved {
            Ok(r) => r.app,
            Err(e) => {
                problems.push(format!(
                    "error: {} is not a valid app.toml (`paas lint` shows why): {}",
                    path.display(),
                    e.to_string().lines().next().unwrap_or_default()
                ));
                continue;
            }
        };
        if let Some(first) = where_from.insert(app.name.clone(), file_name.clone()) {
            problems.push(format!(
                "error: service `{}` is declared twice: {first} and {file_name}",
                app.name
            ));
            continue;
        }
        let mut ports: BTreeSet<String> = app.ports.keys().cloned().collect();
        if ports.is_empty() {
            // No ports: the engine's default `http` port.
            ports.insert("http".to_owned());
        }
        let calls = app
            .dependencies
            .iter()
            .map(|(to, d)| Call {
                to: to.clone(),
                port: d.port.clone(),
                timeout_ms: d.timeout_ms,
            })
            .collect();
        graph.services.insert(app.name.clone(), (ports, calls));
    }
    let missing_edges = graph.missing();
    problems.extend(missing_edges);
    let missing: BTreeSet<String> = graph
        .services
        .values()
        .flat_map(|(_, calls)| calls.iter().map(|c| c.to.clone()))
        .filter(|to| !graph.services.contains_key(to))
        .collect();
    let text = if let Some(x) = &args.who_calls {
        if !graph.services.contains_key(x) && !missing.contains(x) {
            return Err(Failure::usage(format!(
                "error: `{x}` is no service of the corpus and nothing calls it"
            )));
        }
        let direct = graph.callers(x);
        let all = graph.transitive_callers(x);
        match global.output {
            Some(Output::Json) => json_text(&json!({
                "service": x,
                "callers": direct,
                "transitive_callers": all,
            })),
            _ => {
                let indirect: Vec<&str> = all.difference(&direct).copied().collect();
                format!(
                    "{x} is called by: {}\nthrough them also: {}\n",
                    list(direct.iter().copied()),
                    list(indirect.into_iter())
                )
            }
        }
    } else if args.dot {
        graph.dot(&missing)
    } else {
        match global.output {
            Some(Output::Json) => json_text(&json!({
                "environment": args.env,
                "services": graph.services.iter().map(|(s, (_, calls))| (s.clone(), json!({
                    "calls": calls.iter().map(|c| json!({"service": c.to, "port": c.port, "timeout_ms": c.timeout_ms})).collect::<Vec<_>>(),
                    "called_by": graph.callers(s),
                }))).collect::<serde_json::Map<_, _>>(),
                "missing": missing,
            })),
            _ => {
                let mut out = String::new();
                for (s, (_, calls)) in &graph.services {
                    let to: Vec<String> = calls
                        .iter()
                        .map(|c| match c.timeout_ms {
                            Some(t) => format!("{} ({}, {t} ms)", c.to, c.port),
                            None => format!("{} ({})", c.to, c.port),
                        })
                        .collect();
                    let _ = writeln!(
                        out,
                        "{s} -> {}",
                        if to.is_empty() {
                            "-".to_owned()
                        } else {
                            to.join(", ")
                        }
                    );
                }
                out
            }
        }
    };
    if problems.is_empty() {
        return Ok(text);
    }
    // The graph of the valid files is data even when some are broken.
    use std::io::Write;
    let mut stdout = std::io::stdout().lock();
    let _ = stdout.write_all(text.as_bytes());
    let _ = stdout.flush();
    Err(Failure::failed(problems.join("\n")))
}

fn list<'a>(items: impl Iterator<Item = &'a str>) -> String {
    let v: Vec<&str> = items.collect();
    if v.is_empty() {
        "-".to_owned()
    } else {
        v.join(", ")
    }
}

/// The service name of a corpus file without `name`: its directory's name
/// for `<svc>/app.toml`, else the file's stem (`<svc>.toml`).
fn fallback_name(path: &Path) -> Option<String> {
    let stem = path.file_stem()?.to_str()?;
    if stem == "app" {
        path.parent()?.file_name()?.to_str().map(str::to_owned)
    } else {
        Some(stem.to_owned())
    }
}
