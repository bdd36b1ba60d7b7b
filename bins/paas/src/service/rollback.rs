//! `paas service rollback`: a new release that brings back an older one.
//!
//! It lists the earlier releases that served (version, date, releaser,
//! commit, image), picks the target (`--to vN`, else the newest one that
//! served something other than what serves now), shows what is rolled back
//! (image, platform version, the app.toml diff, objects per cluster),
//! confirms, and runs it as a new release with the planner
//! ([`release::rollback`]): regenerated from the target's app.toml and
//! image with today's platform config by default, the stored manifests
//! replayed with `--no-regenerate`, only a traffic switch when the target
//! still runs beside the current version in every cluster.

use std::io::{IsTerminal, Write};
use std::sync::Arc;
use std::time::Instant;

use cluster::Executor;
use release::{Phase, Release, ReleaseKind, RollbackMode, Timestamp, Version};
use release::{RollbackRequest, rollback_mode};

use super::{
    Holds, Launch, Renderer, all_records, environment, refuse_in_flight, releaser, service_name,
    serving, table,
};
use crate::cli::{Global, RollbackArgs};
use crate::{Failure, clock, session};

/// Whether a release ever served (a rollback can go back to it).
fn served(r: &Release) -> bool {
    matches!(r.status.phase, Phase::Succeeded | Phase::Incomplete)
        && r.spec.kind != ReleaseKind::Delete
}

/// The unified diff of two app.toml texts, or `None` when equal.
fn app_toml_diff(current: &str, target: &str, from: Version, to: Version) -> Option<String> {
    if current == target {
        return None;
    }
    let diff = similar::TextDiff::from_lines(current, target);
    Some(
        diff.unified_diff()
            .context_radius(2)
            .header(
                &format!("app.toml of {from} (serving)"),
                &format!("app.toml of {to} (rolled back to)"),
            )
            .to_string(),
    )
}

/// `paas service rollback`.
pub(crate) fn rollback(
    global: &Global,
    args: &RollbackArgs,
    color: bool,
) -> Result<String, Failure> {
    let started = Instant::now();
    let (platform, env) = environment(global, &args.env)?;
    let service = service_name(global, &platform, color)?;
    let interactive = std::io::stdin().is_terminal() && std::io::stderr().is_terminal();
    let holds = Holds {
        interactive,
        yes: global.yes,
    };
    // Regenerated with today's recommendations too, as with today's platform config.
    let recommendations = crate::resources_cmd::load_recommendations(&global.app, None)?;
    let recommendations = recommendations.as_ref();
    let env = &env;
    let platform = &platform;
    session::with_clusters(env, true, |clients, interrupt| async move {
        let merged = all_records(&clients, &service).await?;
        refuse_in_flight(&merged, &args.env)?;
        let Some(current) = serving(&merged) else {
            return Err(Failure::failed(format!(
                "error: {service} serves nothing in {}: there is nothing to roll back",
                args.env
            )));
        };
        let now = current.spec.serving();
        let candidates: Vec<&Release> = merged
            .values()
            .rev()
            .filter(|r| served(r) && r.spec.number < current.spec.number && r.spec.serving() != now)
            .collect();
        let target = match args.to {
            Some(v) => {
                let v = Version(u64::from(v));
                match candidates.iter().find(|r| r.spec.number == v) {
                    Some(r) => *r,
                    None => {
                        let why = match merged.get(&v) {
                            None => format!("{service} has no release {v} in {}", args.env),
                            Some(r) if r.spec.number >= current.spec.number => {
                                format!(
                                    "{v} is not older than {} (serving {now})",
                                    current.spec.number
                                )
                            }
                            Some(r) if r.spec.serving() == now => {
                                format!("{v} serves {now}, which serves now")
                            }
                            Some(r) => format!("{v} never served (it {})", r.status.phase),
                        };
                        let known: Vec<String> = candidates
                            .iter()
                            .map(|r| r.spec.number.to_string())
                            .collect();
                        return Err(Failure::usage(format!(
                            "error: cannot roll back to {v}: {why}\nhelp: releases to roll back to: {}",
                            if known.is_empty() {
                                "none".to_owned()
                            } else {
                                known.join(", ")
                            }
                        )));
                    }
                }
            }
            None => match candidates.first() {
                Some(r) => *r,
                None => {
                    return Err(Failure::failed(format!(
                        "error: {service} has no earlier release that served in {}: nothing to roll back to",
                        args.env
                    )));
                }
            },
        };
        // The releases one can go back to, the target marked.
        let mut rows =
            vec![["", "VERSION", "TIME", "RELEASER", "COMMIT", "IMAGE", "KIND"].map(str::to_owned)];
        for r in &candidates {
            rows.push([
                if r.spec.number == target.spec.number {
                    "*"
                } else {
                    ""
                }
                .to_owned(),
                r.spec.number.to_string(),
                r.spec.time.0.clone(),
                r.spec.releaser.clone(),
                if r.spec.commit.is_empty() {
                    "-".to_owned()
                } else {
                    r.spec.commit.clone()
                },
                r.spec.image.clone(),
                r.spec.kind.as_str().to_owned(),
            ]);
        }
        let mut stderr = std::io::stderr();
        let _ = write!(
            stderr,
            "{service} serves {now} (release {}) in {}; earlier releases:\n{}",
            current.spec.number,
            args.env,
            table(&rows)
        );
        // Whether the target's objects still run beside in every cluster.
        let mut target_running = true;
        for c in &clients {
            let live = cluster::snapshot::read_live(c, &service)
                .await
                .map_err(|e| super::unreachable_failure(c.name(), &e))?;
            if !live.is_some_and(|l| l.versions.contains(&target.spec.serving())) {
                target_running = false;
            }
        }
        let number = merged.keys().next_back().map_or(Version(1), |v| v.next());
        let mode = rollback_mode(args.no_regenerate, target_running);
        let regenerated = if mode == RollbackMode::Regenerate {
            let renderer = Renderer {
                global,
                platform,
                env,
                env_name: &args.env,
                source: target.spec.app_toml.as_bytes(),
                file_name: format!("app.toml of {service} {}", target.spec.number),
                service: Some(service.clone()),
                image_tag: &target.spec.image,
                strategy: Some(if current.spec.strategy == app_toml::Strategy::Rolling {
                    app_toml::Strategy::Rolling
                } else {
                    app_toml::Strategy::Simple
                }),
                color,
                recommendations,
            };
            Some(renderer.all(number, Some(now))?)
        } else {
            None
        };
        let (regenerated, platform_version) = match regenerated {
            Some((m, v)) => (Some(m), v),
            None => (None, String::new()),
        };
        let spec = release::rollback(RollbackRequest {
            target: &target.spec,
            current: &current.spec,
            number,
            no_regenerate: args.no_regenerate,
            target_running,
            regenerated,
            platform_version,
            releaser: releaser(),
            time: Timestamp(clock::now_rfc3339()),
        })
        .map_err(|e| {
            Failure::failed(format!(
                "error: cannot roll back to {}: {e}",
                target.spec.number
            ))
        })?;
        let release = Release::new(spec).map_err(|e| {
            Failure::failed(format!("error: the rollback release is not valid: {e}"))
        })?;
        // What is rolled back.
        let mut what = String::new();
        if current.spec.image != target.spec.image {
            what.push_str(&format!(
                "  image: {} -> {}\n",
                current.spec.image, target.spec.image
            ));
        }
        if current.spec.platform_version != release.spec.platform_version {
            what.push_str(&format!(
                "  platform: {} -> {}\n",
                current.spec.platform_version, release.spec.platform_version
            ));
        }
        if let Some(diff) = app_toml_diff(
            &current.spec.app_toml,
            &target.spec.app_toml,
            current.spec.number,
            target.spec.number,
        ) {
            what.push_str(&diff);
        }
        if what.is_empty() {
            what.push_str("  image and app.toml are the same as what serves\n");
        }
        let how = match mode {
            RollbackMode::TrafficOnly => format!(
                "traffic only: {} still runs everywhere",
                target.spec.serving()
            ),
            RollbackMode::Replay => "stored manifests replayed (--no-regenerate)".to_owned(),
            RollbackMode::Regenerate => "regenerated with today's platform config".to_owned(),
        };
        let _ = write!(
            stderr,
            "rolling back {now} -> {} ({how}):\n{what}",
            target.spec.number
        );
        let launch = Launch {
            title: format!(
                "{service} {number} to {} (rollback to {}, image {})",
                args.env, target.spec.number, release.spec.image
            ),
            question: format!(
                "Roll {service} back to {} in {} (release {number})?",
                target.spec.number, args.env
            ),
            release,
            executor: Arc::new(Executor::new(clients)),
            current: Some(current),
            dry_run: args.dry_run,
            holds,
            output: global.output,
            started,
        };
        launch.run(interrupt).await
    })
}
