//! `paas resources recommend`, and the recommendations file that `paas
//! render` and the deploy path read beside app.toml.
//!
//! The command reads the usage series, computes requests and limits per
//! container with the `resources` crate (its policy follows the platform:
//! no CPU limit when the platform sets none, no network resource when it
//! has none), prints current (the size presets of app.toml in ENV) against
//! recommended, and writes the recommendations file (beside the target,
//! then moved into place).

use std::path::{Path, PathBuf};

use app_toml::{HardeningRule, ParseOptions};
use manifests::SizedContainer;
use platform_config::{CpuLimitPolicy, Platform};
use resources::{
    ContainerReport, ContainerResources, ContainerUsage, CpuLimit, Outcome, Policy,
    Recommendations, Resource, describe,
};
use serde_json::{Value, json};

use crate::cli::{Global, Output, RecommendArgs};
use crate::render::{fallback_service, load_platform, render_failure};
use crate::{Failure, clock};

/// The name of the recommendations file beside app.toml.
pub(crate) const FILE_NAME: &str = "resources.toml";

/// `resources.toml` in the directory of `app`.
pub(crate) fn beside(app: &Path) -> PathBuf {
    app.parent()
        .filter(|p| !p.as_os_str().is_empty())
        .map_or_else(|| PathBuf::from(FILE_NAME), |dir| dir.join(FILE_NAME))
}

/// The recommendations to render with: `explicit` (which must exist),
/// else `resources.toml` beside app.toml when it exists, else none.
/// Unreadable files exit 2, invalid ones 1.
pub(crate) fn load_recommendations(
    app: &Path,
    explicit: Option<&Path>,
) -> Result<Option<Recommendations>, Failure> {
    let path = match explicit {
        Some(p) => p.to_owned(),
        None => {
            let p = beside(app);
            if !p.is_file() {
                return Ok(None);
            }
            p
        }
    };
    let text = std::fs::read_to_string(&path).map_err(|e| {
        Failure::usage(format!(
            "error: cannot read the recommendations {}: {e}",
            path.display()
        ))
    })?;
    Recommendations::from_toml(&text, &path.display().to_string())
        .map(Some)
        .map_err(|e| Failure::failed(format!("error: {e}")))
}

/// The recommender's policy under this platform and app: its CPU limit
/// follows the platform's policy and the app's `cpu-limit` exception.
fn policy(platform: &Platform, app: &app_toml::App) -> Policy {
    let defaults = Policy::default();
    let cpu_limit = if platform.policy.cpu_limit == CpuLimitPolicy::None
        || app.exception(HardeningRule::CpuLimit).is_some()
    {
        CpuLimit::None
    } else {
        defaults.cpu_limit
    };
    Policy {
        cpu_limit,
        ..defaults
    }
}

/// The current values of one container: its size preset as a render
/// gives it (request and limit; `None` where there is none).
struct Current {
    cpu: Option<String>,
    cpu_limit: Option<String>,
    memory: Option<String>,
    netutil: Option<u32>,
}

fn current(platform: &Platform, app: &app_toml::App, size: &str) -> Current {
    let preset = platform.sizes.get(size);
    let cpu_limit = platform.policy.cpu_limit == CpuLimitPolicy::FromSize
        && app.exception(HardeningRule::CpuLimit).is_none();
    Current {
        cpu: preset.map(|p| p.cpu.clone()),
        cpu_limit: preset.filter(|_| cpu_limit).map(|p| p.cpu_limit.clone()),
        memory: preset.map(|p| p.memory.clone()),
        netutil: preset
            .filter(|_| platform.policy.network_resource.is_some())
            .map(|p| p.network_mbps),
    }
}

/// `paas resources recommend`.
pub(crate) fn recommend(
    global: &Global,
    args: &RecommendArgs,
    color: bool,
) -> Result<String, Failure> {
    let platform = load_platform(global.platform.as_deref())?;
    let env = match &args.env {
        Some(e) => e.clone(),
        None if platform.environment("prod").is_some() => "prod".to_owned(),
        None => platform
            .environments
            .keys()
            .next()
            .cloned()
            .unwrap_or_default(),
    };
    if platform.environment(&env).is_none() {
        let known: Vec<_> = platform.environments.keys().map(String::as_str).collect();
        return Err(Failure::usage(format!(
            "error: unknown environment `{env}` (expected one of {})",
            known.join(", ")
        )));
    }
    let source = std::fs::read(&global.app).map_err(|e| {
        Failure::usage(format!(
            "error: cannot read {}: {e}\nhelp: pass the service's app.toml with --app PATH",
            global.app.display()
        ))
    })?;
    let vocabulary = platform.vocabulary(clock::today());
    let file_name = global.app.display().to_string();
    let fallback = fallback_service(global, &global.app);
    let options = ParseOptions {
        file_name: &file_name,
        fallback_name: fallback.as_deref(),
        vocabulary: &vocabulary,
    };
    let app = app_toml::parse(&source, &options)
        .and_then(|f| f.resolve_app(&env))
        .map_err(|e| render_failure(&global.app, e.into(), color))?
        .app;
    let service = app.name.clone();

    let text = std::fs::read_to_string(&args.usage).map_err(|e| {
        Failure::usage(format!(
            "error: cannot read the usage {}: {e}",
            args.usage.display()
        ))
    })?;
    let mut usage = resources::parse_usage(&text, Some(&service))
        .map_err(|e| Failure::failed(format!("error: {}: {e}", args.usage.display())))?;
    if usage.other_services > 0 {
        eprintln!(
            "note: skipped {} series of other services than {service}",
            usage.other_services
        );
    }
    let containers = manifests::sized_containers(&app);
    let found: Vec<String> = usage.containers.keys().cloned().collect();
    let ignored: Vec<String> = found
        .iter()
        .filter(|name| !containers.iter().any(|c| &c.name == *name))
        .cloned()
        .collect();
    if containers
        .iter()
        .all(|c| !usage.containers.contains_key(&c.name))
    {
        return Err(Failure::failed(format!(
            "error: {} has no usage of a container of {service} (its containers: {}; found: {})\nnothing was written",
            args.usage.display(),
            containers
                .iter()
                .map(|c| c.name.as_str())
                .collect::<Vec<_>>()
                .join(", "),
            if found.is_empty() {
                "none".to_owned()
            } else {
                found.join(", ")
            }
        )));
    }
    for name in &ignored {
        eprintln!(
            "note: usage of `{name}` ignored: not a container of {service} in {env} (sidecars keep the platform's preset)"
        );
        usage.containers.remove(name);
    }
    for c in &containers {
        let u = usage.containers.entry(c.name.clone()).or_default();
        if platform.policy.network_resource.is_none() {
            u.network.clear();
        }
    }
    let policy = policy(&platform, &app);
    let report = resources::recommend(&usage, &policy)
        .map_err(|e| Failure::failed(format!("error: {e}")))?;

    let out = args.out.clone().unwrap_or_else(|| beside(&global.app));
    let file = report.to_toml(&service);
    write_beside(&out, &file)?;
    let recs = report.recommendations(&service, &out.display().to_string());
    eprintln!(
        "wrote {}: {} of {} containers with recommendations, the others keep their size preset",
        out.display(),
        recs.containers.len(),
        containers.len()
    );
    let rows: Vec<Row<'_>> = containers
        .iter()
        .map(|c| Row {
            container: c,
            current: current(&platform, &app, &c.size),
            report: &report.containers[&c.name],
            usage: &usage.containers[&c.name],
            recommended: recs.containers.get(&c.name).cloned().unwrap_or_default(),
        })
        .collect();
    match global.output {
        Some(Output::Json) => Ok(json_report(&service, &env, &out, &rows, &ignored, &policy)),
        _ => Ok(text_report(&rows, &policy, &platform)),
    }
}

/// One container of the report.
struct Row<'a> {
    container: &'a SizedContainer,
    current: Current,
    report: &'a ContainerReport,
    usage: &'a ContainerUsage,
    recommended: ContainerResources,
}

/// `request / limit`, `request`, or `-`.
fn pair(request: Option<String>, limit: Option<String>) -> String {
    match (request, limit) {
        (Some(r), Some(l)) => format!("{r} / {l}"),
        (Some(r), None) => r,
        (None, _) => "-".to_owned(),
    }
}

fn text_report(rows: &[Row<'_>], policy: &Policy, platform: &Platform) -> String {
    let mut table = vec![
        [
            "CONTAINER",
            "SIZE",
            "RESOURCE",
            "CURRENT",
            "RECOMMENDED",
            "BASIS",
        ]
        .map(str::to_owned),
    ];
    for row in rows {
        let r = &row.recommended;
        let mut lines = vec![
            (
                Resource::Cpu,
                pair(row.current.cpu.clone(), row.current.cpu_limit.clone()),
                pair(
                    r.cpu.map(|c| c.to_string()),
                    r.cpu_limit.map(|c| c.to_string()),
                ),
            ),
            (
                Resource::Memory,
                pair(row.current.memory.clone(), row.current.memory.clone()),
                pair(
                    r.memory.map(|m| m.to_string()),
                    r.memory_limit.map(|m| m.to_string()),
                ),
            ),
        ];
        if platform.policy.network_resource.is_some() {
            lines.push((
                Resource::Network,
                pair(row.current.netutil.map(|n| n.to_string()), None),
                pair(r.netutil.map(|n| n.to_string()), None),
            ));
        }
        for (i, (resource, current, recommended)) in lines.into_iter().enumerate() {
            let basis = match row.report.outcome(resource) {
                Some(o) => describe(resource, o, policy.resource(resource)),
                None => describe(
                    resource,
                    &Outcome::Insufficient {
                        samples: row.usage.series(resource).len(),
                        span_seconds: 0.0,
                    },
                    policy.resource(resource),
                ),
            };
            let name = match resource {
                Resource::Network => platform
                    .policy
                    .network_resource
                    .clone()
                    .unwrap_or_else(|| "network".to_owned()),
                other => other.as_str().to_owned(),
            };
            table.push([
                if i == 0 {
                    row.container.name.clone()
                } else {
                    String::new()
                },
                if i == 0 {
                    row.container.size.clone()
                } else {
                    String::new()
                },
                name,
                current,
                recommended,
                basis,
            ]);
        }
    }
    render_table(&table)
}

/// Columns padded to their widest cell, two spaces apart, no trailing blanks.
fn render_table<const N: usize>(rows: &[[String; N]]) -> String {
    let mut widths = [0usize; N];
    for row in rows {
        for (w, cell) in widths.iter_mut().zip(row) {
            *w = (*w).max(cell.chars().count());
        }
    }
    let mut out = String::new();
    for row in rows {
        let mut line = String::new();
        for (i, cell) in row.iter().enumerate() {
            line.push_str(cell);
            if i + 1 < N {
                let pad = widths[i] - cell.chars().count() + 2;
                line.extend(std::iter::repeat_n(' ', pad));
            }
        }
        out.push_str(line.trim_end());
        out.push('\n');
    }
    out
}

fn outcome_json(o: Option<&Outcome>, resource: Resource, samples: usize) -> Value {
    match o {
        Some(Outcome::Recommended(e)) => json!({
            "samples": e.samples,
            "span_seconds": e.span_seconds,
            "percentile": e.percentile,
            "slope_per_day": e.slope_per_second * 86_400.0,
            "growth": e.growth,
            "target": e.target,
            "request": e.request,
            "bounded": e.bounded.map(|b| match b {
                resources::Bound::Floor => "floor",
                resources::Bound::Ceiling => "ceiling",
            }),
            "unit": unit(resource),
        }),
        Some(Outcome::Insufficient {
            samples,
            span_seconds,
        }) => json!({
            "insufficient": true,
            "samples": samples,
            "span_seconds": span_seconds,
        }),
        None => json!({ "insufficient": true, "samples": samples, "span_seconds": 0.0 }),
    }
}

fn unit(resource: Resource) -> &'static str {
    match resource {
        Resource::Cpu => "millicores",
        Resource::Memory => "bytes",
        Resource::Network => "Mbit/s",
    }
}

fn json_report(
    service: &str,
    env: &str,
    out: &Path,
    rows: &[Row<'_>],
    ignored: &[String],
    policy: &Policy,
) -> String {
    let containers: Vec<Value> = rows
        .iter()
        .map(|row| {
            let r = &row.recommended;
            let c = &row.current;
            json!({
                "name": row.container.name,
                "table": row.container.table,
                "size": row.container.size,
                "current": {
                    "cpu": c.cpu,
                    "cpu_limit": c.cpu_limit,
                    "memory": c.memory,
                    "memory_limit": c.memory,
                    "netutil": c.netutil,
                },
                "recommended": {
                    "cpu": r.cpu.map(|v| v.to_string()),
                    "cpu_limit": r.cpu_limit.map(|v| v.to_string()),
                    "memory": r.memory.map(|v| v.to_string()),
                    "memory_limit": r.memory_limit.map(|v| v.to_string()),
                    "netutil": r.netutil,
                },
                "basis": {
                    "cpu": outcome_json(row.report.outcome(Resource::Cpu), Resource::Cpu, row.usage.cpu.len()),
                    "memory": outcome_json(row.report.outcome(Resource::Memory), Resource::Memory, row.usage.memory.len()),
                    "network": outcome_json(row.report.outcome(Resource::Network), Resource::Network, row.usage.network.len()),
                },
            })
        })
        .collect();
    let v = json!({
        "service": service,
        "environment": env,
        "file": out.display().to_string(),
        "policy": {
            "percentile": {
                "cpu": policy.cpu.percentile,
                "memory": policy.memory.percentile,
                "network": policy.network.percentile,
            },
            "margin": {
                "cpu": policy.cpu.margin,
                "memory": policy.memory.margin,
                "network": policy.network.margin,
            },
            "horizon_seconds": policy.horizon_seconds,
            "min_samples": policy.min_samples,
            "min_history_seconds": policy.min_history_seconds,
            "memory_limit_factor": policy.memory_limit_factor,
            "cpu_limit_factor": match policy.cpu_limit {
                CpuLimit::None => None,
                CpuLimit::Factor(f) => Some(f),
            },
        },
        "containers": containers,
        "ignored": ignored,
    });
    let mut text = serde_json::to_string_pretty(&v).unwrap_or_default();
    text.push('\n');
    text
}

/// Writes `text` to `path` through a file beside it moved into place, so a
/// reader never sees half a file.
fn write_beside(path: &Path, text: &str) -> Result<(), Failure> {
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_else(|| FILE_NAME.to_owned());
    let tmp = path.with_file_name(format!(".{name}.{}.tmp", std::process::id()));
    let fail =
        |e: std::io::Error| Failure::failed(format!("error: cannot write {}: {e}", path.display()));
    std::fs::write(&tmp, text).map_err(fail)?;
    std::fs::rename(&tmp, path).map_err(|e| {
        let _ = std::fs::remove_file(&tmp);
        fail(e)
    })
}
