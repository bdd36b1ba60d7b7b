//! `paas service status` and `history`: read-only views of the releases
//! stored in the clusters.

use std::collections::BTreeSet;
use std::io::Write;

use release::{Release, Version};
use serde_json::{Value, json};

use super::{
    environment, json_text, merge_records, read_records, release_json, service_name, serving,
    step_name, table,
};
use crate::cli::{EnvArgs, Global, Output};
use crate::{Failure, session};

/// `paas service history`.
pub(crate) fn history(global: &Global, args: &EnvArgs, color: bool) -> Result<String, Failure> {
    let (platform, env) = environment(global, &args.env)?;
    let service = service_name(global, &platform, color)?;
    let output = global.output;
    session::with_clusters(&env, false, |clients, _| async move {
        let records = read_records(&clients, &service).await;
        let mut all = Vec::new();
        let mut unreachable = Vec::new();
        for (name, r) in &records {
            match r {
                Ok(list) => all.extend(list.iter()),
                Err(e) => unreachable.push(format!("warning: cluster {name} is unreachable: {e}")),
            }
        }
        if all.is_empty() && !unreachable.is_empty() {
            return Err(Failure {
                code: 3,
                message: unreachable.join("\n"),
            });
        }
        for w in &unreachable {
            eprintln!("{w}");
        }
        let merged = merge_records(all);
        if let Some(Output::Json) = output {
            let list: Vec<Value> = merged.values().rev().map(release_json).collect();
            return Ok(json_text(&Value::Array(list)));
        }
        if merged.is_empty() {
            eprintln!("{service} has no releases in {}", args.env);
            return Ok(String::new());
        }
        let mut rows = vec![
            [
                "VERSION", "RELEASER", "STRATEGY", "KIND", "STATUS", "TIME", "TASKS",
            ]
            .map(str::to_owned),
        ];
        for r in merged.values().rev() {
            rows.push([
                r.spec.number.to_string(),
                r.spec.releaser.clone(),
                r.spec.strategy.as_str().to_owned(),
                r.spec.kind.as_str().to_owned(),
                r.status.phase.as_str().to_owned(),
                r.spec.time.0.clone(),
                if r.spec.linked_tasks.is_empty() {
                    "-".to_owned()
                } else {
                    r.spec.linked_tasks.join(",")
                },
            ]);
        }
        Ok(table(&rows))
    })
}

/// One cluster's view for `status`.
struct ClusterStatus {
    cluster: String,
    serving: Option<Version>,
    latest: Option<Release>,
    health: String,
    healthy: bool,
    reachable: bool,
}

/// `paas service status`.
pub(crate) fn status(global: &Global, args: &EnvArgs, color: bool) -> Result<String, Failure> {
    let (platform, env) = environment(global, &args.env)?;
    let service = service_name(global, &platform, color)?;
    let verbose = global.verbose;
    let output = global.output;
    session::with_clusters(&env, false, |clients, _| async move {
        let records = read_records(&clients, &service).await;
        let mut states = Vec::new();
        for (client, (name, r)) in clients.iter().zip(records) {
            let list = match r {
                Ok(list) => list,
                Err(e) => {
                    states.push(ClusterStatus {
                        cluster: name,
                        serving: None,
                        latest: None,
                        health: format!("unreachable: {e}"),
                        healthy: false,
                        reachable: false,
                    });
                    continue;
                }
            };
            let merged = merge_records(&list);
            let serving_version = serving(&merged).map(|r| r.spec.serving());
            let latest = merged.values().next_back().cloned();
            let (health, healthy) = match cluster::snapshot::read_live(client, &service).await {
                Err(e) => (format!("unreachable: {e}"), false),
                Ok(live) => {
                    if verbose {
                        eprintln!("{name}: live {live:?}");
                    }
                    judge(serving_version, latest.as_ref(), live.as_ref())
                }
            };
            states.push(ClusterStatus {
                cluster: name,
                serving: serving_version,
                latest,
                health,
                healthy,
                reachable: true,
            });
        }
        // Clusters that did not answer are reported as such, not as a mismatch.
        let servings: BTreeSet<Option<Version>> = states
            .iter()
            .filter(|s| s.reachable)
            .map(|s| s.serving)
            .collect();
        let consistent = servings.len() <= 1;
        let all_healthy = states.iter().all(|s| s.healthy);
        let text = match output {
            Some(Output::Json) => json_text(&json!({
                "service": service,
                "environment": args.env,
                "consistent": consistent,
                "healthy": all_healthy,
                "clusters": states.iter().map(|s| json!({
                    "cluster": s.cluster,
                    "serving": s.serving.map(|v| v.to_string()),
                    "latest": s.latest.as_ref().map(|r| r.spec.number.to_string()),
                    "phase": s.latest.as_ref().map(|r| r.status.phase.as_str()),
                    "step": s.latest.as_ref().map(|r| step_name(r.status.step)),
                    "health": s.health,
                    "healthy": s.healthy,
                })).collect::<Vec<_>>(),
            })),
            _ => {
                let mut rows = vec![
                    ["CLUSTER", "SERVING", "LATEST", "PHASE", "STAGE", "HEALTH"].map(str::to_owned),
                ];
                for s in &states {
                    let dash = || "-".to_owned();
                    rows.push([
                        s.cluster.clone(),
                        s.serving.map_or_else(dash, |v| v.to_string()),
                        s.latest
                            .as_ref()
                            .map_or_else(dash, |r| r.spec.number.to_string()),
                        s.latest
                            .as_ref()
                            .map_or_else(dash, |r| r.status.phase.as_str().to_owned()),
                        s.latest
                            .as_ref()
                            .map_or_else(dash, |r| step_name(r.status.step)),
                        s.health.clone(),
                    ]);
                }
                table(&rows)
            }
        };
        if all_healthy && consistent {
            return Ok(text);
        }
        // The table is data even when the answer is "unhealthy": print it, then fail.
        let mut stdout = std::io::stdout().lock();
        let _ = stdout.write_all(text.as_bytes());
        let _ = stdout.flush();
        let unreachable: Vec<&str> = states
            .iter()
            .filter(|s| !s.reachable)
            .map(|s| s.cluster.as_str())
            .collect();
        let code = if unreachable.is_empty() { 1 } else { 3 };
        let why = if !unreachable.is_empty() {
            format!("error: unreachable: {}", unreachable.join(", "))
        } else if consistent && states.iter().all(|s| s.serving.is_none()) {
            format!("error: {service} is not deployed in {}", args.env)
        } else if consistent {
            format!("error: {service} is not healthy in {}", args.env)
        } else {
            format!(
                "error: {service} is inconsistent in {}: the clusters serve different versions",
                args.env
            )
        };
        Err(Failure { code, message: why })
    })
}

/// Health of one cluster: the serving version's objects run and get all
/// the traffic, and no release is stuck half-way.
fn judge(
    serving: Option<Version>,
    latest: Option<&Release>,
    live: Option<&sync::LiveService>,
) -> (String, bool) {
    let Some(version) = serving else {
        return ("not deployed".to_owned(), false);
    };
    let Some(live) = live else {
        return (format!("{version} has no objects"), false);
    };
    if !live.versions.contains(&version) {
        return (format!("{version} has no objects"), false);
    }
    // A release in flight (a canary at its weight, a gate) moves traffic on purpose.
    if let Some(r) = latest
        && !r.status.phase.is_finished()
    {
        return (
            format!(
                "{} {} at {}{}",
                r.spec.number,
                r.status.phase,
                step_name(r.status.step),
                super::weight_note(r)
            ),
            true,
        );
    }
    match &live.traffic {
        Some(t) if t.version == version && t.weight == 100 => {}
        Some(t) => {
            return (
                format!(
                    "traffic {}% to {} (expected 100% to {version})",
                    t.weight, t.version
                ),
                false,
            );
        }
        None => return ("no route".to_owned(), false),
    }
    ("healthy".to_owned(), true)
}
