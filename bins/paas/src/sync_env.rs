//! `paas sync -e ENV [--dry-run]`: brings every cluster of an environment
//! back in line with the authoritative release of every service (a stale
//! cluster, a wiped one, a deleted service, a canary's weight), as the
//! pure sync differ decides from a snapshot of every cluster; removes the
//! expired test copies of those services (not part of the differ: a copy
//! is no release); then checks that a second snapshot leaves nothing to do.

use cluster::Executor;
use cluster::snapshot::{execute_plan, read_snapshots};
use serde_json::{Value, json};
use sync::{Outcome, Plan};

use crate::cli::{Global, Output, SyncArgs};
use crate::service::{environment, json_text, now_seconds, remove_expired};
use crate::{Failure, session};

/// Services whose copies need a person: sync reported and did nothing.
fn needs_a_person(plan: &Plan) -> Vec<String> {
    plan.services
        .iter()
        .filter(|(_, p)| {
            matches!(
                p.outcome,
                Outcome::Conflict { .. } | Outcome::Corrupted { .. } | Outcome::Incomplete { .. }
            )
        })
        .map(|(s, _)| s.clone())
        .collect()
}

fn plan_json(plan: &Plan) -> Value {
    json!({
        "unreachable": plan.unreachable,
        "services": plan.services.iter().map(|(service, p)| {
            let outcome = serde_json::to_value(&p.outcome)
                .ok()
                .and_then(|v| v.get("outcome").cloned())
                .unwrap_or(Value::Null);
            (service.clone(), json!({
                "authoritative": p.authoritative.map(|v| v.to_string()),
                "outcome": outcome,
                "actions": p.actions().iter().map(ToString::to_string).collect::<Vec<_>>(),
            }))
        }).collect::<serde_json::Map<String, Value>>(),
    })
}

/// `paas sync`.
pub(crate) fn sync(global: &Global, args: &SyncArgs) -> Result<String, Failure> {
    let (_, env) = environment(global, &args.env)?;
    let names: Vec<String> = env.clusters.iter().map(|c| c.name.clone()).collect();
    let output = global.output;
    let dry_run = args.dry_run;
    let names = &names;
    // A dry run changes nothing, not even the CRD of a wiped cluster.
    session::with_clusters(&env, !dry_run, |clients, _| async move {
        let executor = Executor::new(clients);
        let snapshots = read_snapshots(&executor, names).await;
        let options = sync::Options::default();
        let plan = sync::plan(&snapshots, &options);
        let unreachable_all = plan.unreachable.len() == names.len();
        if unreachable_all {
            return Err(Failure {
                code: 3,
                message: format!(
                    "error: no cluster of {} answered: {}",
                    args.env,
                    plan.unreachable.join(", ")
                ),
            });
        }
        let stuck = needs_a_person(&plan);
        // Expired test copies of every service with releases go too.
        let services: std::collections::BTreeSet<&str> = snapshots
            .iter()
            .flat_map(|s| s.records.iter().map(|r| r.spec.service.as_str()))
            .collect();
        let now = now_seconds();
        let mut expired = Vec::new();
        for name in names {
            if plan.unreachable.contains(name) {
                continue;
            }
            let Ok(cluster) = executor.cluster(name) else {
                continue;
            };
            for service in &services {
                match remove_expired(cluster, service, now, dry_run).await {
                    Ok(ids) => expired.extend(
                        ids.into_iter()
                            .map(|id| (name.clone(), manifests::copy::object_name(service, &id))),
                    ),
                    Err(e) => {
                        return Err(Failure::failed(format!(
                            "error: {name}: cannot remove the expired test copies of {service}: {e}"
                        )));
                    }
                }
            }
        }
        let expired_text: String = expired
            .iter()
            .map(|(cluster, copy)| {
                format!(
                    "{} the expired test copy {copy} in {cluster}\n",
                    if dry_run { "would remove" } else { "removed" }
                )
            })
            .collect();
        if dry_run {
            let text = match output {
                Some(Output::Json) => json_text(&plan_json(&plan)),
                _ if plan.services.is_empty() => {
                    format!(
                        "dry run: no service has releases in {}\n{expired_text}",
                        args.env
                    )
                }
                _ => format!("dry run: nothing changed\n{plan}{expired_text}"),
            };
            return Ok(text);
        }
        let actions = plan.actions().count();
        let report = execute_plan(&executor, &plan).await;
        let mut text = match output {
            Some(Output::Json) => String::new(),
            _ => plan.to_string(),
        };
        // Sync again: applying the actions must leave nothing to do.
        let again = sync::plan(&read_snapshots(&executor, names).await, &options);
        let leftover = again.actions().count();
        if let Some(Output::Json) = output {
            text = json_text(&json!({
                "plan": plan_json(&plan),
                "done": report.done,
                "failures": report.failures.iter().map(ToString::to_string).collect::<Vec<_>>(),
                "left": plan_json(&again),
                "expired_test_copies": expired.iter().map(|(c, copy)| json!({"cluster": c, "copy": copy})).collect::<Vec<_>>(),
            }));
        } else {
            text.push_str(&expired_text);
            text.push_str(&format!(
                "{} of {actions} action{} done; {}\n",
                report.done,
                if actions == 1 { "" } else { "s" },
                if leftover == 0 {
                    "in sync".to_owned()
                } else {
                    format!("{leftover} left (run `paas sync -e {}` again)", args.env)
                }
            ));
        }
        if !report.failures.is_empty() {
            let mut message = text.clone();
            for f in &report.failures {
                message.push_str(&format!("error: {f}\n"));
            }
            return Err(Failure::failed(message));
        }
        if !stuck.is_empty() {
            return Err(Failure::failed(format!(
                "{text}error: sync left {} alone: their copies disagree or are incomplete; see above",
                stuck.join(", ")
            )));
        }
        if !plan.unreachable.is_empty() {
            return Err(Failure {
                code: 3,
                message: format!(
                    "{text}error: unreachable, not synced: {}",
                    plan.unreachable.join(", ")
                ),
            });
        }
        Ok(text)
    })
}
