//! `paas service deploy`, `status` and `history`: releases of one service
//! across every cluster of an environment, stored in the clusters themselves
//! (the `Release` records of the cluster adapter).

use std::collections::{BTreeMap, BTreeSet};
use std::io::{BufRead, IsTerminal, Write};
use std::sync::Arc;
use std::time::Instant;

use app_toml::{ParseOptions, Strategy};
use cluster::{ClusterClient, Driver, Executor, Progress};
use manifests::pipeline::{Request, render_source};
use platform_config::{EnvironmentConfig, Platform};
use release::{
    Action, Event, Manifests, Object, ObjectRef, Phase, Reason, Release, ReleaseKind, ReleaseSpec,
    Stage, Step, Timestamp, Version,
};
use serde_json::{Value, json};
use tokio::sync::mpsc;

use crate::cli::{DeployArgs, EnvArgs, Global, Output};
use crate::render::{absolute_dir, fallback_service, load_platform, render_failure};
use crate::{Failure, clock, gitinfo, session};

/// The platform config and the environment a command works on.
fn environment(global: &Global, env: &str) -> Result<(Platform, EnvironmentConfig), Failure> {
    let platform = load_platform(global.platform.as_deref())?;
    let Some(config) = platform.environment(env).cloned() else {
        let known: Vec<_> = platform.environments.keys().map(String::as_str).collect();
        return Err(Failure::usage(format!(
            "error: unknown environment `{env}` (expected one of {})",
            known.join(", ")
        )));
    };
    if config.clusters.is_empty() {
        return Err(Failure::usage(format!(
            "error: environment `{env}` has no clusters"
        )));
    }
    Ok((platform, config))
}

fn read_app(global: &Global) -> Result<Vec<u8>, Failure> {
    std::fs::read(&global.app).map_err(|e| {
        Failure::usage(format!(
            "error: cannot read {}: {e}\nhelp: pass the service's app.toml with --app PATH",
            global.app.display()
        ))
    })
}

/// The service name from app.toml (validated as a render would).
fn service_name(global: &Global, platform: &Platform, color: bool) -> Result<String, Failure> {
    parse_app(global, platform, color).map(|f| f.name().to_owned())
}

/// The parsed and validated app.toml.
fn parse_app(
    global: &Global,
    platform: &Platform,
    color: bool,
) -> Result<app_toml::AppFile, Failure> {
    let source = read_app(global)?;
    let vocabulary = platform.vocabulary(clock::today());
    let file_name = global.app.display().to_string();
    let fallback = fallback_service(global, &global.app);
    let options = ParseOptions {
        file_name: &file_name,
        fallback_name: fallback.as_deref(),
        vocabulary: &vocabulary,
    };
    app_toml::parse(&source, &options).map_err(|e| render_failure(&global.app, e.into(), color))
}

/// Every record of `service` in every cluster; `Err` for clusters that did
/// not answer. Damaged records are left out (their peer copies elsewhere count).
async fn read_records(
    clients: &[ClusterClient],
    service: &str,
) -> Vec<(String, Result<Vec<Release>, cluster::Error>)> {
    let reads = clients.iter().map(|c| async move {
        let records = match cluster::records::list_records(c, Some(service)).await {
            Ok(list) => Ok(list.into_iter().filter_map(Result::ok).collect()),
            // No `Release` CRD yet: nothing was ever deployed there.
            Err(e) if e.status_code() == Some(404) => Ok(Vec::new()),
            Err(e) => Err(e),
        };
        (c.name().to_owned(), records)
    });
    futures_util::future::join_all(reads).await
}

/// The newest copy of every release (highest status revision), by number.
fn merge_records<'a>(records: impl IntoIterator<Item = &'a Release>) -> BTreeMap<Version, Release> {
    let mut merged: BTreeMap<Version, Release> = BTreeMap::new();
    for r in records {
        match merged.get(&r.spec.number) {
            Some(known) if known.status.revision >= r.status.revision => {}
            _ => {
                merged.insert(r.spec.number, r.clone());
            }
        }
    }
    merged
}

/// The release whose version serves: the newest that got through.
fn serving(records: &BTreeMap<Version, Release>) -> Option<&Release> {
    records
        .values()
        .rev()
        .find(|r| matches!(r.status.phase, Phase::Succeeded | Phase::Incomplete))
}

fn unreachable_failure(name: &str, e: &cluster::Error) -> Failure {
    Failure {
        code: 3,
        message: format!("error: cluster {name} is unreachable: {e}"),
    }
}

/// The releaser: `$USER`, else `$LOGNAME`, else `unknown`.
fn releaser() -> String {
    // The binary is the one place that reads the environment (clippy.toml).
    #[allow(clippy::disallowed_methods)]
    let user = std::env::var("USER").or_else(|_| std::env::var("LOGNAME"));
    user.ok()
        .filter(|u| !u.trim().is_empty())
        .unwrap_or_else(|| "unknown".to_owned())
}

/// A rendered object as the release holds it.
fn to_release_object(object: &manifests::Object) -> Result<Object, Failure> {
    let body = serde_json::to_value(object)
        .map_err(|e| Failure::failed(format!("error: cannot serialise {}: {e}", object.key())))?;
    Ok(Object {
        reference: ObjectRef::new(
            object.api_version(),
            object.kind(),
            object.namespace().unwrap_or(""),
            object.name(),
        ),
        body,
    })
}

/// What a deploy would do to one cluster's objects, against the serving release.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
struct Changes {
    new: usize,
    changed: usize,
    unchanged: usize,
}

fn changes(next: &Manifests, current: Option<&Manifests>) -> Changes {
    let before: BTreeMap<&ObjectRef, &Value> = current
        .map(|m| {
            Stage::ALL
                .iter()
                .flat_map(|s| m.stage(*s))
                .map(|o| (&o.reference, &o.body))
                .collect()
        })
        .unwrap_or_default();
    let mut c = Changes::default();
    for o in Stage::ALL.iter().flat_map(|s| next.stage(*s)) {
        match before.get(&o.reference) {
            None => c.new += 1,
            Some(body) if **body == o.body => c.unchanged += 1,
            Some(_) => c.changed += 1,
        }
    }
    c
}

/// `paas service deploy`.
pub(crate) fn deploy(global: &Global, args: &DeployArgs, color: bool) -> Result<String, Failure> {
    let started = Instant::now();
    let (platform, env) = environment(global, &args.env)?;
    let interactive = std::io::stdin().is_terminal() && std::io::stderr().is_terminal();
    if args.manual && !interactive && !args.dry_run {
        return Err(Failure::usage(
            "error: --manual needs a terminal to promote each stage",
        ));
    }
    let source = read_app(global)?;
    let dir = absolute_dir(&global.app);
    let commit = gitinfo::short_commit(&dir);
    let image_tag = args
        .image_tag
        .clone()
        .or_else(|| commit.clone())
        .unwrap_or_else(|| "dev".to_owned());
    let app = parse_app(global, &platform, color)?;
    let service = app.name().to_owned();
    let default_strategy = app
        .resolve_app(&args.env)
        .map_err(|e| render_failure(&global.app, e.into(), color))?
        .app
        .deploy
        .strategy;
    // Render once before touching any cluster: app.toml errors exit 1 at once.
    let render = |cluster: &str, version: u32, previous: Option<u32>| {
        let request = Request {
            file_name: global.app.display().to_string(),
            service: fallback_service(global, &global.app),
            environment: args.env.clone(),
            cluster: Some(cluster.to_owned()),
            version,
            image_tag: image_tag.clone(),
            strategy: args.strategy,
            previous_version: previous,
            canary_weight: None,
            explain: false,
            today: clock::today(),
        };
        render_source(&source, &platform, &request)
            .map_err(|e| render_failure(&global.app, e, color))
    };
    let first = render(&env.clusters[0].name, 1, None)?;
    let app_text = String::from_utf8_lossy(&source).into_owned();
    let message = commit.as_ref().and_then(|_| gitinfo::commit_message(&dir));
    let linked_tasks = message
        .as_deref()
        .map(release::linked_tasks)
        .unwrap_or_default();
    let strategy = args.strategy.unwrap_or(default_strategy);
    let sim_only = session::all_sim(&env);
    let env = &env;
    let image_tag = &image_tag;
    let render = &render;
    let output = global.output;
    session::with_clusters(env, true, |clients, interrupt| async move {
        let records = read_records(&clients, &service).await;
        let mut all = Vec::new();
        for (name, r) in &records {
            match r {
                Ok(list) => all.extend(list.iter()),
                Err(e) => return Err(unreachable_failure(name, e)),
            }
        }
        let merged = merge_records(all);
        let number = merged.keys().next_back().map_or(Version(1), |v| v.next());
        let current = serving(&merged);
        let previous = current.map(|r| r.spec.serving());
        let mut manifests = BTreeMap::new();
        for c in &env.clusters {
            let rendered = render(
                &c.name,
                u32::try_from(number.0).unwrap_or(u32::MAX),
                previous.and_then(|p| u32::try_from(p.0).ok()),
            )?;
            let mut m = Manifests::default();
            for staged in &rendered.objects {
                let object = to_release_object(&staged.object)?;
                match staged.stage {
                    manifests::Stage::Init => m.init.push(object),
                    manifests::Stage::Application => m.application.push(object),
                    manifests::Stage::Balancing => m.balancing.push(object),
                }
            }
            manifests.insert(c.name.clone(), m);
        }
        let mut options = release::Options {
            manual: args.manual,
            ..release::Options::default()
        };
        if sim_only {
            // Test clusters have no proxies that need time to see new routes.
            options.drain_seconds = 0;
        }
        let spec = ReleaseSpec {
            service: service.clone(),
            environment: args.env.clone(),
            number,
            kind: if strategy == Strategy::Canary {
                ReleaseKind::Canary
            } else {
                ReleaseKind::Deploy
            },
            strategy,
            image: image_tag.clone(),
            app_toml: app_text,
            platform_version: first.platform_version.clone(),
            clusters: env.clusters.iter().map(|c| c.name.clone()).collect(),
            manifests,
            releaser: releaser(),
            time: Timestamp(clock::now_rfc3339()),
            commit: commit.clone().unwrap_or_default(),
            linked_tasks,
            previous,
            rollback: None,
            options,
            digest: String::new(),
        };
        let release = Release::new(spec)
            .map_err(|e| Failure::failed(format!("error: the release is not valid: {e}")))?;
        let executor = Arc::new(Executor::new(clients));
        // The adapter's dry run applies with the `paas` field manager, so the
        // balancing objects, which the balancer's own manager owns once a
        // version serves, would always conflict: they are left out of it.
        let mut checked = release.clone();
        for m in checked.spec.manifests.values_mut() {
            m.balancing.clear();
        }
        let problems = executor.dry_run(&checked).await;
        if !problems.is_empty() {
            let code = if problems.iter().all(|p| p.reason == Reason::Unreachable) {
                3
            } else {
                1
            };
            let mut text = format!(
                "error: the dry run of {service} {number} found {} problem{}:\n",
                problems.len(),
                if problems.len() == 1 { "" } else { "s" }
            );
            for p in &problems {
                text.push_str(&format!(
                    "  {}: {}: {}: {}\n",
                    p.cluster, p.object, p.reason, p.message
                ));
            }
            return Err(Failure {
                code,
                message: text,
            });
        }
        let mut plan = format!(
            "{service} {number} to {} (image {image_tag}, strategy {}, {}):\n",
            args.env,
            strategy.as_str(),
            previous.map_or_else(|| "first release".to_owned(), |p| format!("replaces {p}"))
        );
        let mut counts = BTreeMap::new();
        for c in &release.spec.clusters {
            let next = release.spec.manifests.get(c).cloned().unwrap_or_default();
            let before = current.and_then(|r| r.spec.manifests.get(c));
            let ch = changes(&next, before);
            plan.push_str(&format!(
                "  {c}: {} new, {} changed, {} unchanged\n",
                ch.new, ch.changed, ch.unchanged
            ));
            counts.insert(c.clone(), ch);
        }
        if args.dry_run {
            return Ok(match output {
                Some(Output::Json) => {
                    let clusters: serde_json::Map<String, Value> = counts
                        .iter()
                        .map(|(c, ch)| {
                            (
                                c.clone(),
                                json!({"new": ch.new, "changed": ch.changed, "unchanged": ch.unchanged}),
                            )
                        })
                        .collect();
                    json_text(&json!({
                        "service": service,
                        "environment": args.env,
                        "version": number.to_string(),
                        "previous": previous.map(|p| p.to_string()),
                        "image": image_tag,
                        "clusters": clusters,
                    }))
                }
                _ => format!("dry run: nothing changed\n{plan}"),
            });
        }
        let mut stderr = std::io::stderr();
        let _ = write!(stderr, "{plan}");
        if !global.yes
            && interactive
            && !confirm(&format!("Deploy {service} {number} to {}?", args.env)).await
        {
            return Err(Failure::failed("aborted: nothing was changed"));
        }
        let done = run_release(executor, release, interactive, global.yes, interrupt).await?;
        let elapsed = started.elapsed();
        finish(&done, elapsed, output)
    })
}

fn json_text(value: &Value) -> String {
    serde_json::to_string_pretty(value).map_or_else(|_| "{}\n".to_owned(), |s| s + "\n")
}

/// Asks a yes/no question on the terminal (stderr), default no.
async fn confirm(question: &str) -> bool {
    let question = question.to_owned();
    tokio::task::spawn_blocking(move || {
        let mut stderr = std::io::stderr();
        let _ = write!(stderr, "{question} [y/N] ");
        let _ = stderr.flush();
        let mut line = String::new();
        if std::io::stdin().lock().read_line(&mut line).is_err() {
            return false;
        }
        matches!(line.trim(), "y" | "Y" | "yes" | "Yes")
    })
    .await
    .unwrap_or(false)
}

/// Runs the release with the driver, printing progress to stderr, one line
/// per cluster and stage; at a manual gate asks whether to promote.
async fn run_release(
    executor: Arc<Executor>,
    release: Release,
    interactive: bool,
    yes: bool,
    mut interrupt: session::Interrupt,
) -> Result<Release, Failure> {
    interrupt.take_over();
    let (ptx, mut prx) = mpsc::unbounded_channel();
    let (ctx, crx) = mpsc::unbounded_channel();
    let driver = Driver::new(executor).with_progress(ptx);
    let start = Event::Start {
        at: Timestamp(clock::now_rfc3339()),
    };
    let number = release.spec.number;
    let run = tokio::spawn(async move { driver.run(release, start, crx).await });
    let mut waiting: BTreeMap<String, (Stage, BTreeSet<ObjectRef>)> = BTreeMap::new();
    let mut gate: Option<Step> = None;
    let mut stderr = std::io::stderr();
    let mut aborting = false;
    loop {
        let p = tokio::select! {
            p = prx.recv() => match p {
                Some(p) => p,
                None => break,
            },
            () = interrupt.pressed(), if !aborting => {
                aborting = true;
                let _ = ctx.send(Event::Abort);
                let _ = writeln!(
                    stderr,
                    "interrupted: aborting {number} (before the point of no return the new version is removed; after it the switch is finished)"
                );
                continue;
            }
        };
        let line = match &p {
            Progress::Action(Action::Apply {
                cluster,
                stage,
                objects,
                ..
            }) => Some(format!(
                "{cluster:<12} {:<12} applying {} object{}",
                stage.as_str(),
                objects.len(),
                plural(objects.len())
            )),
            Progress::Action(Action::WaitReady {
                cluster,
                stage,
                objects,
                ..
            }) => {
                waiting.insert(cluster.clone(), (*stage, objects.iter().cloned().collect()));
                None
            }
            Progress::Event(Event::Ready { cluster, object }) => {
                let finished = waiting.get_mut(cluster).and_then(|(stage, pending)| {
                    (pending.remove(object) && pending.is_empty()).then_some(*stage)
                });
                finished.map(|stage| {
                    waiting.remove(cluster);
                    format!("{cluster:<12} {:<12} ready", stage.as_str())
                })
            }
            Progress::Action(Action::SwitchTraffic {
                cluster,
                version,
                weight,
                ..
            }) => Some(format!(
                "{cluster:<12} {:<12} traffic {weight}% to {version}",
                Stage::Balancing.as_str()
            )),
            Progress::Action(Action::Delete { cluster, version }) => {
                waiting.remove(cluster);
                Some(format!(
                    "{cluster:<12} {:<12} deleting {version}",
                    Stage::Cleanup.as_str()
                ))
            }
            Progress::Action(Action::Restore { cluster, version }) => Some(format!(
                "{cluster:<12} {:<12} restoring {version}",
                Stage::Balancing.as_str()
            )),
            Progress::Event(Event::Failed {
                cluster,
                object,
                reason,
                message,
            }) => Some(format!(
                "{cluster:<12} FAILED       {}{reason}: {message}",
                object
                    .as_ref()
                    .map(|o| format!("{o}: "))
                    .unwrap_or_default()
            )),
            Progress::Event(Event::Unreachable { cluster, message }) => {
                Some(format!("{cluster:<12} UNREACHABLE  {message}"))
            }
            Progress::Action(Action::Rejected { command, reason }) => {
                Some(format!("{command} refused: {reason}"))
            }
            Progress::Event(Event::Reachable { cluster }) => {
                Some(format!("{cluster:<12} reachable again"))
            }
            Progress::Event(Event::LeaseDenied { cluster, holder }) => Some(format!(
                "{cluster:<12} lease held by {holder}: another release of this service runs"
            )),
            Progress::Status(r) => {
                if let Step::Gate { after } = r.status.step
                    && gate != Some(r.status.step)
                {
                    if interactive {
                        let commands = ctx.clone();
                        tokio::spawn(async move {
                            let question = format!("{after} is done everywhere: promote {number}?");
                            let event = if confirm(&question).await {
                                Event::Promote
                            } else {
                                Event::Abort
                            };
                            let _ = commands.send(event);
                        });
                    } else if yes {
                        // `--yes` answers the gate's question too.
                        let _ = writeln!(stderr, "gate after {after}: promoting {number} (--yes)");
                        let _ = ctx.send(Event::Promote);
                    } else {
                        let _ = writeln!(
                            stderr,
                            "gate after {after}: no terminal to ask and no --yes: aborting {number}"
                        );
                        let _ = ctx.send(Event::Abort);
                    }
                }
                gate = Some(r.status.step);
                None
            }
            _ => None,
        };
        if let Some(line) = line {
            let _ = writeln!(stderr, "{}", line.trim_end());
        }
    }
    drop(ctx);
    match run.await {
        Ok(Ok(done)) => Ok(done),
        Ok(Err(e)) => Err(Failure::failed(format!(
            "error: the release did not run: {e}"
        ))),
        Err(e) => Err(Failure::failed(format!(
            "error: the release did not run: {e}"
        ))),
    }
}

fn plural(n: usize) -> &'static str {
    if n == 1 { "" } else { "s" }
}

/// The end of a deploy: the summary on stdout (success) or stderr (failure).
fn finish(
    done: &Release,
    elapsed: std::time::Duration,
    output: Option<Output>,
) -> Result<String, Failure> {
    let spec = &done.spec;
    let phase = done.status.phase;
    let mut text = format!(
        "{} {} to {}: {phase} in {:.1} s\n",
        spec.service,
        spec.number,
        spec.environment,
        elapsed.as_secs_f64()
    );
    for f in &done.status.failures {
        text.push_str(&format!("  failure: {f}\n"));
    }
    for (cluster, f) in &done.status.lagging {
        text.push_str(&format!("  lagging: {cluster}: {f}\n"));
    }
    if phase == Phase::Succeeded {
        return Ok(match output {
            Some(Output::Json) => json_text(&release_json(done)),
            _ => text,
        });
    }
    match phase {
        Phase::Failed | Phase::Aborted => {
            let serving = spec
                .previous
                .map_or_else(|| "nothing".to_owned(), |p| p.to_string());
            text.push_str(&format!(
                "  {} removed; {serving} still serves\n",
                spec.serving()
            ));
        }
        Phase::Incomplete => {
            text.push_str("  the new version serves; `paas sync` finishes the lagging clusters\n");
        }
        _ => {}
    }
    let unreachable = !done.status.failures.is_empty()
        && done
            .status
            .failures
            .iter()
            .all(|f| f.reason == Reason::Unreachable);
    Err(Failure {
        code: if unreachable { 3 } else { 1 },
        message: format!("error: {text}"),
    })
}

/// One release as `-o json` shows it.
fn release_json(r: &Release) -> Value {
    json!({
        "version": r.spec.number.to_string(),
        "service": r.spec.service,
        "environment": r.spec.environment,
        "releaser": r.spec.releaser,
        "strategy": r.spec.strategy.as_str(),
        "kind": r.spec.kind.as_str(),
        "status": r.status.phase.as_str(),
        "image": r.spec.image,
        "commit": r.spec.commit,
        "time": r.spec.time.0,
        "linked_tasks": r.spec.linked_tasks,
        "failures": r.status.failures.iter().map(ToString::to_string).collect::<Vec<_>>(),
    })
}

/// The step of a release in words.
fn step_name(step: Step) -> String {
    match step {
        Step::NotStarted => "not started".to_owned(),
        Step::Leasing => "leasing".to_owned(),
        Step::Rollout { stage } => stage.to_string(),
        Step::Gate { after } => format!("gate after {after}"),
        Step::Switching { weight } => format!("switching {weight}%"),
        Step::CanaryHold => "canary hold".to_owned(),
        Step::Draining => "draining".to_owned(),
        Step::Cleanup => "cleanup".to_owned(),
        Step::AbortTraffic { .. } => "aborting (traffic)".to_owned(),
        Step::AbortDelete { .. } => "aborting (delete)".to_owned(),
        _ => "done".to_owned(),
    }
}

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

/// Left-aligned columns separated by two spaces.
fn table<const N: usize>(rows: &[[String; N]]) -> String {
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
            line.push_str(&format!("{cell:<width$}  ", width = widths[i]));
        }
        out.push_str(line.trim_end());
        out.push('\n');
    }
    out
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
    if let Some(r) = latest
        && !r.status.phase.is_finished()
    {
        return (format!("{} is {}", r.spec.number, r.status.phase), true);
    }
    ("healthy".to_owned(), true)
}
