//! `paas service ...`: releases of one service across every cluster of an
//! environment, stored in the clusters themselves (the `Release` records of
//! the cluster adapter).
//!
//! - `deploy` (here) and `rollback` ([`rollback`]) create a release and run it;
//! - `canary`, `promote` and `abort` ([`control`]) take up the release in
//!   flight from its stored record;
//! - `status` and `history` ([`view`]) only read.
//!
//! A release that waits for a person (a gate, or a canary holding its
//! weight) and has nobody to ask is *parked*: its status stays stored in
//! every cluster, the lease is given back, and the command says what to run
//! next. A new deploy or rollback is refused while a release is in flight.

mod control;
mod copies;
mod diff;
mod rollback;
mod view;

pub(crate) use control::{abort, canary, promote};
pub(crate) use copies::{delete_copy, now_seconds, remove_expired};
pub(crate) use diff::diff;
pub(crate) use rollback::rollback;
pub(crate) use view::{history, status};

use std::collections::{BTreeMap, BTreeSet};
use std::io::{BufRead, IsTerminal, Write};
use std::sync::Arc;
use std::time::Instant;

use app_toml::{ParseOptions, Strategy};
use cluster::{ClusterClient, Driver, Executor, Progress};
use manifests::pipeline::{Request, render_source_with};
use platform_config::{EnvironmentConfig, Platform};
use release::{
    Action, Event, Manifests, Object, ObjectRef, Phase, Reason, Release, ReleaseKind, ReleaseSpec,
    Stage, Step, Timestamp, Version,
};
use serde_json::{Value, json};
use tokio::sync::mpsc;

use crate::cli::{DeployArgs, Global, Output};
use crate::render::{absolute_dir, fallback_service, load_platform, render_failure};
use crate::{Failure, clock, gitinfo, session};

/// The platform config and the environment a command works on.
pub(crate) fn environment(
    global: &Global,
    env: &str,
) -> Result<(Platform, EnvironmentConfig), Failure> {
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

pub(super) fn read_app(global: &Global) -> Result<Vec<u8>, Failure> {
    std::fs::read(&global.app).map_err(|e| {
        Failure::usage(format!(
            "error: cannot read {}: {e}\nhelp: pass the service's app.toml with --app PATH",
            global.app.display()
        ))
    })
}

/// The service name from app.toml (validated as a render would).
pub(super) fn service_name(
    global: &Global,
    platform: &Platform,
    color: bool,
) -> Result<String, Failure> {
    parse_app(global, platform, color).map(|f| f.name().to_owned())
}

/// The parsed and validated app.toml.
pub(super) fn parse_app(
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
pub(super) async fn read_records(
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
pub(super) fn merge_records<'a>(
    records: impl IntoIterator<Item = &'a Release>,
) -> BTreeMap<Version, Release> {
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
pub(super) fn serving(records: &BTreeMap<Version, Release>) -> Option<&Release> {
    records
        .values()
        .rev()
        .find(|r| matches!(r.status.phase, Phase::Succeeded | Phase::Incomplete))
}

pub(super) fn unreachable_failure(name: &str, e: &cluster::Error) -> Failure {
    Failure {
        code: 3,
        message: format!("error: cluster {name} is unreachable: {e}"),
    }
}

/// The releaser: `$USER`, else `$LOGNAME`, else `unknown`.
pub(super) fn releaser() -> String {
    // The binary is the one place that reads the environment (clippy.toml).
    #[allow(clippy::disallowed_methods)]
    let user = std::env::var("USER").or_else(|_| std::env::var("LOGNAME"));
    user.ok()
        .filter(|u| !u.trim().is_empty())
        .unwrap_or_else(|| "unknown".to_owned())
}

/// A rendered object as the release holds it.
pub(super) fn to_release_object(object: &manifests::Object) -> Result<Object, Failure> {
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
pub(super) struct Changes {
    pub(super) new: usize,
    pub(super) changed: usize,
    pub(super) unchanged: usize,
}

pub(super) fn changes(next: &Manifests, current: Option<&Manifests>) -> Changes {
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

/// Every record of the service merged across clusters; every cluster must
/// answer (exit 3 otherwise): a release is never made from a partial view.
pub(super) async fn all_records(
    clients: &[ClusterClient],
    service: &str,
) -> Result<BTreeMap<Version, Release>, Failure> {
    let records = read_records(clients, service).await;
    let mut all = Vec::new();
    for (name, r) in &records {
        match r {
            Ok(list) => all.extend(list.iter()),
            Err(e) => return Err(unreachable_failure(name, e)),
        }
    }
    Ok(merge_records(all))
}

/// The release in flight (the newest, not finished), if any.
pub(super) fn in_flight(records: &BTreeMap<Version, Release>) -> Option<&Release> {
    records
        .values()
        .next_back()
        .filter(|r| !r.status.phase.is_finished())
}

/// Refuses a new release while one is in flight (running, parked at a gate
/// or holding a canary), naming it and what to run instead.
pub(super) fn refuse_in_flight(
    records: &BTreeMap<Version, Release>,
    env: &str,
) -> Result<(), Failure> {
    let Some(r) = in_flight(records) else {
        return Ok(());
    };
    Err(Failure::failed(format!(
        "error: {} {} is still in flight in {env} ({}{})\nhelp: finish it first: `paas service promote -e {env}` or `paas service abort -e {env}`",
        r.spec.service,
        r.spec.number,
        step_name(r.status.step),
        weight_note(r),
    )))
}

/// ", canary at N%" for a canary whose traffic moved, else nothing.
pub(super) fn weight_note(r: &Release) -> String {
    if r.status.weight > 0 && r.status.weight < 100 {
        format!(", {} at {}%", r.spec.serving(), r.status.weight)
    } else {
        String::new()
    }
}

/// Renders one app.toml for the clusters of an environment.
pub(super) struct Renderer<'a> {
    pub(super) global: &'a Global,
    pub(super) platform: &'a Platform,
    pub(super) env: &'a EnvironmentConfig,
    pub(super) env_name: &'a str,
    /// The app.toml text.
    pub(super) source: &'a [u8],
    /// Its name in diagnostics.
    pub(super) file_name: String,
    /// The service name when app.toml has none.
    pub(super) service: Option<String>,
    pub(super) image_tag: &'a str,
    pub(super) strategy: Option<Strategy>,
    pub(super) color: bool,
    /// The recommendations file beside app.toml, in place of size presets.
    pub(super) recommendations: Option<&'a resources::Recommendations>,
}

impl Renderer<'_> {
    /// The manifests of one cluster for release `version`.
    pub(super) fn one(
        &self,
        cluster: &str,
        version: Version,
        previous: Option<Version>,
    ) -> Result<manifests::Rendered, Failure> {
        let request = Request {
            file_name: self.file_name.clone(),
            service: self.service.clone(),
            environment: self.env_name.to_owned(),
            cluster: Some(cluster.to_owned()),
            version: u32::try_from(version.0).unwrap_or(u32::MAX),
            image_tag: self.image_tag.to_owned(),
            strategy: self.strategy,
            previous_version: previous.and_then(|p| u32::try_from(p.0).ok()),
            canary_weight: None,
            explain: false,
            today: clock::today(),
        };
        render_source_with(self.source, self.platform, &request, self.recommendations)
            .map_err(|e| render_failure(&self.global.app, e, self.color))
    }

    /// The manifests of every cluster, by stage, and the platform version.
    pub(super) fn all(
        &self,
        version: Version,
        previous: Option<Version>,
    ) -> Result<(BTreeMap<String, Manifests>, String), Failure> {
        let mut out = BTreeMap::new();
        let mut platform_version = String::new();
        for c in &self.env.clusters {
            let rendered = self.one(&c.name, version, previous)?;
            platform_version.clone_from(&rendered.platform_version);
            out.insert(c.name.clone(), staged(&rendered)?);
        }
        Ok((out, platform_version))
    }
}

/// A render's objects as a release holds them, by stage.
pub(super) fn staged(rendered: &manifests::Rendered) -> Result<Manifests, Failure> {
    let mut m = Manifests::default();
    for staged in &rendered.objects {
        let object = to_release_object(&staged.object)?;
        match staged.stage {
            manifests::Stage::Init => m.init.push(object),
            manifests::Stage::Application => m.application.push(object),
            manifests::Stage::Balancing => m.balancing.push(object),
        }
    }
    Ok(m)
}

/// The rollout knobs of a release: the app's canary steps, `--manual`, and
/// no drain delay on test clusters (they have no proxies to wait for).
pub(super) fn options(
    canary_steps: &[u8],
    manual: bool,
    env: &EnvironmentConfig,
) -> release::Options {
    let mut options = release::Options {
        manual,
        ..release::Options::default()
    };
    if !canary_steps.is_empty() {
        options.canary_steps = canary_steps.to_vec();
    }
    if session::all_sim(env) {
        options.drain_seconds = 0;
    }
    options
}

/// What happens when a release waits for a person.
#[derive(Debug, Clone, Copy)]
pub(super) struct Holds {
    /// Questions can be asked on the terminal.
    pub(super) interactive: bool,
    /// `--yes`: gates are promoted without asking.
    pub(super) yes: bool,
}

/// The last part of deploy and rollback: dry run in every cluster, the plan
/// per cluster, confirmation, then the rollout.
pub(super) struct Launch<'a> {
    pub(super) release: Release,
    pub(super) executor: Arc<Executor>,
    /// What serves now (the plan counts changes against it).
    pub(super) current: Option<&'a Release>,
    /// The plan's first line.
    pub(super) title: String,
    /// The confirmation question.
    pub(super) question: String,
    pub(super) dry_run: bool,
    pub(super) holds: Holds,
    pub(super) output: Option<Output>,
    pub(super) started: Instant,
}

impl Launch<'_> {
    pub(super) async fn run(self, interrupt: session::Interrupt) -> Result<String, Failure> {
        let release = &self.release;
        let service = &release.spec.service;
        let number = release.spec.number;
        // The adapter's dry run applies with the `paas` field manager, so the
        // balancing objects, which the balancer's own manager owns once a
        // version serves, would always conflict: they are left out of it.
        let mut checked = release.clone();
        for m in checked.spec.manifests.values_mut() {
            m.balancing.clear();
        }
        let problems = self.executor.dry_run(&checked).await;
        if !problems.is_empty() {
            let code = if problems.iter().all(|p| p.reason == Reason::Unreachable) {
                3
            } else {
                1
            };
            let mut text = format!(
                "error: the dry run of {service} {number} found {} problem{}:\n",
                problems.len(),
                plural(problems.len())
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
        let mut plan = format!("{}:\n", self.title);
        let mut counts = BTreeMap::new();
        for c in &release.spec.clusters {
            let next = release.spec.manifests.get(c).cloned().unwrap_or_default();
            let before = self.current.and_then(|r| r.spec.manifests.get(c));
            let ch = changes(&next, before);
            plan.push_str(&format!(
                "  {c}: {} new, {} changed, {} unchanged\n",
                ch.new, ch.changed, ch.unchanged
            ));
            counts.insert(c.clone(), ch);
        }
        if self.dry_run {
            return Ok(match self.output {
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
                        "environment": release.spec.environment,
                        "version": number.to_string(),
                        "kind": release.spec.kind.as_str(),
                        "previous": release.spec.previous.map(|p| p.to_string()),
                        "image": release.spec.image,
                        "clusters": clusters,
                    }))
                }
                _ => format!("dry run: nothing changed\n{plan}"),
            });
        }
        let _ = write!(std::io::stderr(), "{plan}");
        if !self.holds.yes && self.holds.interactive && !confirm(&self.question).await {
            return Err(Failure::failed("aborted: nothing was changed"));
        }
        let first = Event::Start {
            at: Timestamp(clock::now_rfc3339()),
        };
        let (done, _) = run_release(
            self.executor,
            self.release,
            first,
            None,
            self.holds,
            interrupt,
        )
        .await?;
        finish(&done, self.started.elapsed(), self.output, Intent::Complete)
    }
}

/// `paas service deploy`.
pub(crate) fn deploy(global: &Global, args: &DeployArgs, color: bool) -> Result<String, Failure> {
    if let Some(id) = &args.test_copy {
        return copies::deploy_copy(global, args, id, color);
    }
    let started = Instant::now();
    let (platform, env) = environment(global, &args.env)?;
    let interactive = std::io::stdin().is_terminal() && std::io::stderr().is_terminal();
    if args.manual && !interactive && !args.dry_run && !global.yes {
        return Err(Failure::usage(
            "error: --manual needs a terminal to promote each stage (or --yes to promote them all)",
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
    let deploy_section = app
        .resolve_app(&args.env)
        .map_err(|e| render_failure(&global.app, e.into(), color))?
        .app
        .deploy;
    let recommendations = crate::resources_cmd::load_recommendations(&global.app, None)?;
    let renderer = Renderer {
        global,
        platform: &platform,
        env: &env,
        env_name: &args.env,
        source: &source,
        file_name: global.app.display().to_string(),
        service: fallback_service(global, &global.app),
        image_tag: &image_tag,
        strategy: args.strategy,
        color,
        recommendations: recommendations.as_ref(),
    };
    // Render once before touching any cluster: app.toml errors exit 1 at once.
    renderer.one(&env.clusters[0].name, Version(1), None)?;
    let app_text = String::from_utf8_lossy(&source).into_owned();
    let message = commit.as_ref().and_then(|_| gitinfo::commit_message(&dir));
    let linked_tasks = message
        .as_deref()
        .map(release::linked_tasks)
        .unwrap_or_default();
    let strategy = args.strategy.unwrap_or(deploy_section.strategy);
    let options = options(&deploy_section.canary_steps, args.manual, &env);
    let renderer = &renderer;
    let image_tag = &image_tag;
    let env = &env;
    let holds = Holds {
        interactive,
        yes: global.yes,
    };
    session::with_clusters(env, true, |clients, interrupt| async move {
        let merged = all_records(&clients, &service).await?;
        refuse_in_flight(&merged, &args.env)?;
        let number = merged.keys().next_back().map_or(Version(1), |v| v.next());
        let current = serving(&merged);
        let previous = current.map(|r| r.spec.serving());
        let (manifests, platform_version) = renderer.all(number, previous)?;
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
            platform_version,
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
        let launch = Launch {
            title: format!(
                "{service} {number} to {} (image {image_tag}, strategy {}, {})",
                args.env,
                strategy.as_str(),
                previous.map_or_else(|| "first release".to_owned(), |p| format!("replaces {p}"))
            ),
            question: format!("Deploy {service} {number} to {}?", args.env),
            release,
            executor: Arc::new(Executor::new(clients)),
            current,
            dry_run: args.dry_run,
            holds,
            output: global.output,
            started,
        };
        launch.run(interrupt).await
    })
}

/// What the command set out to do, for its exit code.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Intent {
    /// Run a new release to its end (deploy, rollback): a canary parked at
    /// its weight counts as done, a release parked at a gate does not.
    Complete,
    /// Move a release in flight on (promote, canary): parked again at its
    /// next hold counts as done.
    Command,
    /// Stop it (abort): `aborted` is success.
    Abort,
}

/// An answer at a hold, from the terminal.
enum Answer {
    Promote,
    Abort,
    Leave,
}

/// Asks at a gate: promote, abort, or leave it waiting.
async fn ask_gate(question: String) -> Answer {
    tokio::task::spawn_blocking(move || {
        let mut stderr = std::io::stderr();
        let _ = write!(
            stderr,
            "{question} [y]es / [n]o, abort / [l]eave it waiting: "
        );
        let _ = stderr.flush();
        let mut line = String::new();
        if std::io::stdin().lock().read_line(&mut line).is_err() {
            return Answer::Leave;
        }
        match line.trim() {
            "y" | "Y" | "yes" | "Yes" => Answer::Promote,
            "l" | "L" | "leave" | "" => Answer::Leave,
            _ => Answer::Abort,
        }
    })
    .await
    .unwrap_or(Answer::Leave)
}

/// Runs a release with the driver from `first` (`Start`, or `Resume` with
/// `command` sent right after), printing progress to stderr, one line per
/// cluster and stage. When it waits for a person: a gate is asked on the
/// terminal (promote, abort, leave), promoted with `--yes`, else left
/// waiting; a canary holding its weight is left waiting (it is steered with
/// `paas service canary|promote|abort`). Leaving parks the release: the
/// driver returns it unfinished. A resumed release is only parked again
/// after its command changed it; a command the planner refuses leaves it
/// parked as it was, and its reason is returned beside the release.
pub(super) async fn run_release(
    executor: Arc<Executor>,
    release: Release,
    first: Event,
    command: Option<Event>,
    holds: Holds,
    mut interrupt: session::Interrupt,
) -> Result<(Release, Option<String>), Failure> {
    interrupt.take_over();
    let mut rejected = None;
    let (ptx, mut prx) = mpsc::unbounded_channel();
    let (ctx, crx) = mpsc::unbounded_channel();
    let (atx, mut arx) = mpsc::unbounded_channel::<Answer>();
    let driver = Driver::new(executor).with_progress(ptx);
    let number = release.spec.number;
    // A fresh release moves at once; a resumed one only once its command acts.
    let mut moved = matches!(first, Event::Start { .. });
    let start_step = release.status.step;
    if let Some(command) = command {
        let _ = ctx.send(command);
    }
    let run = tokio::spawn(async move { driver.run(release, first, crx).await });
    let mut ctx = Some(ctx);
    let mut waiting: BTreeMap<String, (Stage, BTreeSet<ObjectRef>)> = BTreeMap::new();
    let mut asked: Option<u64> = None;
    let mut stderr = std::io::stderr();
    let mut aborting = false;
    loop {
        let p = tokio::select! {
            p = prx.recv() => match p {
                Some(p) => p,
                None => break,
            },
            Some(answer) = arx.recv() => {
                match (answer, &ctx) {
                    (Answer::Promote, Some(c)) => { let _ = c.send(Event::Promote); }
                    (Answer::Abort, Some(c)) => { let _ = c.send(Event::Abort); }
                    _ => { ctx = None; }
                }
                continue;
            }
            () = interrupt.pressed(), if !aborting => {
                aborting = true;
                if let Some(c) = &ctx {
                    let _ = c.send(Event::Abort);
                }
                let _ = writeln!(
                    stderr,
                    "interrupted: aborting {number} (before the point of no return the new version is removed; after it the switch is finished)"
                );
                continue;
            }
        };
        if let Progress::Status(r) = &p {
            // (A resumed release may store a restarted timer first: only a
            // new step says its command took effect.)
            if !moved && r.status.step != start_step {
                moved = true;
            }
            if moved
                && ctx.is_some()
                && cluster::driver::waits_for_person(r)
                && asked != Some(r.status.revision)
            {
                asked = Some(r.status.revision);
                match r.status.step {
                    Step::Gate { after } if holds.interactive && !aborting => {
                        let question = format!("{after} is done everywhere: promote {number}?");
                        let answers = atx.clone();
                        tokio::spawn(async move {
                            let _ = answers.send(ask_gate(question).await);
                        });
                    }
                    Step::Gate { after } if holds.yes && !aborting => {
                        // `--yes` answers the gate's question too.
                        let _ = writeln!(stderr, "gate after {after}: promoting {number} (--yes)");
                        if let Some(c) = &ctx {
                            let _ = c.send(Event::Promote);
                        }
                    }
                    _ => {
                        // Nobody to ask, or a canary at its weight: park.
                        ctx = None;
                    }
                }
            }
        }
        if let Some(line) = progress_line(&p, &mut waiting) {
            let _ = writeln!(stderr, "{}", line.trim_end());
        }
        if let Progress::Action(Action::Rejected { reason, .. }) = &p
            && !moved
        {
            // The command was refused: nothing changed; park again.
            rejected = Some(reason.clone());
            ctx = None;
        }
    }
    drop(ctx);
    match run.await {
        Ok(Ok(done)) => Ok((done, rejected)),
        Ok(Err(e)) => Err(Failure::failed(format!(
            "error: the release did not run: {e}"
        ))),
        Err(e) => Err(Failure::failed(format!(
            "error: the release did not run: {e}"
        ))),
    }
}

/// The line a progress report prints, if any; `waiting` tracks the objects
/// awaited per cluster, to say when a stage is ready.
fn progress_line(
    p: &Progress,
    waiting: &mut BTreeMap<String, (Stage, BTreeSet<ObjectRef>)>,
) -> Option<String> {
    match p {
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
        _ => None,
    }
}

fn plural(n: usize) -> &'static str {
    if n == 1 { "" } else { "s" }
}

/// What to run next for a parked release.
fn next_commands(r: &Release) -> String {
    let env = &r.spec.environment;
    if r.status.step == Step::CanaryHold {
        format!(
            "next: `paas service canary -e {env} -p PERCENT`, `paas service promote -e {env}` or `paas service abort -e {env}`"
        )
    } else {
        format!("next: `paas service promote -e {env}` or `paas service abort -e {env}`")
    }
}

/// The end of a command that ran a release: the summary on stdout (success)
/// or stderr (failure). A parked release is success for a canary holding its
/// weight, and for a command that took one up (`intent` tells); a release
/// parked at a gate by a deploy is not complete (exit 1).
pub(super) fn finish(
    done: &Release,
    elapsed: std::time::Duration,
    output: Option<Output>,
    intent: Intent,
) -> Result<String, Failure> {
    let spec = &done.spec;
    let phase = done.status.phase;
    if !phase.is_finished() {
        let text = format!(
            "{} {} to {}: parked in {:.1} s, waits at {}{}\n  {}\n",
            spec.service,
            spec.number,
            spec.environment,
            elapsed.as_secs_f64(),
            step_name(done.status.step),
            weight_note(done),
            next_commands(done)
        );
        let parked_ok = done.status.step == Step::CanaryHold || intent == Intent::Command;
        return if parked_ok {
            Ok(match output {
                Some(Output::Json) => json_text(&release_json(done)),
                _ => text,
            })
        } else {
            Err(Failure::failed(format!("error: not complete: {text}")))
        };
    }
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
    let succeeded = match intent {
        Intent::Complete | Intent::Command => phase == Phase::Succeeded,
        Intent::Abort => phase == Phase::Aborted,
    };
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
    if succeeded {
        return Ok(match output {
            Some(Output::Json) => json_text(&release_json(done)),
            _ => text,
        });
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

pub(crate) fn json_text(value: &Value) -> String {
    serde_json::to_string_pretty(value).map_or_else(|_| "{}\n".to_owned(), |s| s + "\n")
}

/// Asks a yes/no question on the terminal (stderr), default no.
pub(super) async fn confirm(question: &str) -> bool {
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

/// One release as `-o json` shows it.
pub(super) fn release_json(r: &Release) -> Value {
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
pub(super) fn step_name(step: Step) -> String {
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

/// Left-aligned columns separated by two spaces.
pub(super) fn table<const N: usize>(rows: &[[String; N]]) -> String {
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
