//! A simulator of N clusters that performs the planner's actions under a
//! fault schedule and feeds the resulting events back, in an order chosen by
//! the schedule. It checks the five invariants of the spec on every step of
//! every trace and compares the outcome with a naive reference model.
//!
//! The reference model never reads the planner's status: what it needs
//! besides the fault schedule (was an abort, a canary failure, a refusal or
//! the early deadline delivered before the point of no return?) comes from
//! what the simulator put on the wire: the events it delivered, whether a
//! crash lost them, and whether a switch to 100% had been emitted before.
//!
//! A failing schedule prints itself as Rust code (its `Debug` is a
//! `Scenario { .. }` expression), so it can be pasted into
//! `regressions.rs` as `check_scenario(..)`; the report also prints the
//! delivered events as a `vec![..]` for [`replay`].

use std::collections::{BTreeMap, BTreeSet};
use std::fmt;

use app_toml::Strategy;
use release::{
    Action, Event, ObjectRef, Phase, Reason, Release, Stage, Step, Timer, Timestamp, Version, step,
};

use crate::fixtures;

/// What goes wrong in one cluster.
#[derive(Clone, PartialEq, Eq)]
pub enum Fault {
    /// Nothing.
    None,
    /// The new version's objects fail in this cluster with this reason.
    FailRollout(Reason),
    /// The cluster stops answering when the application stage reaches it;
    /// `returns`: it answers again before any deadline.
    DownBeforeSwitch {
        /// Comes back.
        returns: bool,
    },
    /// The cluster stops answering when the switch to 100% reaches it.
    DownAfterSwitch {
        /// Comes back.
        returns: bool,
    },
    /// The new version's pods start failing once a canary weight (below
    /// 100%) reaches this cluster; without canary weights nothing happens.
    FailUnderCanary(Reason),
    /// The cluster loses all its state (an empty etcd) when the application
    /// stage reaches it: the objects awaited disappear. Rebuilding it is
    /// sync's job; the planner must fail cleanly and leave the others on the
    /// old version.
    Wiped,
    /// The cluster answers but refuses the switch to 100% (an admission
    /// webhook denies the route): once, or `forever`. After the point of no
    /// return the planner must retry it and, when it keeps refusing, report
    /// it lagging and end `incomplete` (never silently done).
    RefuseAfterSwitch {
        /// Refuses every attempt.
        forever: bool,
    },
    /// The cluster answers but refuses to delete the old version in cleanup
    /// (once, or `forever`).
    RefuseCleanup {
        /// Refuses every attempt.
        forever: bool,
    },
    /// The cluster answers but refuses what an abort asks of it (traffic
    /// back to 0%, deleting the new version, restoring the old one): once,
    /// or `forever`. It must end in `lagging` with the reason, and the new
    /// version must never be deleted where traffic still goes to it.
    RefuseAbort {
        /// Refuses every attempt.
        forever: bool,
    },
}

/// A command a person gives after `after` delivered events.
#[derive(Clone, PartialEq, Eq)]
pub enum Command {
    /// `abort`.
    Abort,
    /// `promote`.
    Promote,
    /// `canary -p`.
    SetWeight(u8),
}

/// One simulated rollout: the release, the faults and the event order.
#[derive(Clone, PartialEq, Eq)]
pub struct Scenario {
    /// Strategy.
    pub strategy: Strategy,
    /// Number of clusters (1..=3).
    pub clusters: usize,
    /// `--manual`.
    pub manual: bool,
    /// A version serves already (v5; the release is v6).
    pub previous: bool,
    /// A traffic-only rollback to v4, which still runs beside v5.
    pub traffic_only: bool,
    /// A replayed rollback (`--no-regenerate`) to v4, which no longer runs:
    /// v4's stored objects are applied again, under their v4 labels.
    pub replay: bool,
    /// Another release holds the lease in the first cluster.
    pub lease_held: bool,
    /// The application stage's deadline fires before anything is ready.
    pub deadline_early: bool,
    /// One fault per cluster.
    pub faults: Vec<Fault>,
    /// Commands and when they are given (after that many events).
    pub commands: Vec<(u16, Command)>,
    /// At the first gate, abort instead of promote.
    pub abort_at_gate: bool,
    /// Crashes: after `.0` delivered events, the deployer handles one more
    /// event, performs only the first `.1` of its actions (the status write
    /// is the first) and dies; a new one reads the last written status back
    /// and resumes.
    pub crashes: Vec<(u16, u8)>,
    /// Which queued event is delivered next (cycled).
    pub order: Vec<u16>,
}

impl fmt::Debug for Fault {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Fault::None => write!(f, "Fault::None"),
            Fault::FailRollout(reason) => write!(f, "Fault::FailRollout({})", reason_code(reason)),
            Fault::DownBeforeSwitch { returns } => {
                write!(f, "Fault::DownBeforeSwitch {{ returns: {returns} }}")
            }
            Fault::DownAfterSwitch { returns } => {
                write!(f, "Fault::DownAfterSwitch {{ returns: {returns} }}")
            }
            Fault::FailUnderCanary(reason) => {
                write!(f, "Fault::FailUnderCanary({})", reason_code(reason))
            }
            Fault::Wiped => write!(f, "Fault::Wiped"),
            Fault::RefuseAfterSwitch { forever } => {
                write!(f, "Fault::RefuseAfterSwitch {{ forever: {forever} }}")
            }
            Fault::RefuseCleanup { forever } => {
                write!(f, "Fault::RefuseCleanup {{ forever: {forever} }}")
            }
            Fault::RefuseAbort { forever } => {
                write!(f, "Fault::RefuseAbort {{ forever: {forever} }}")
            }
        }
    }
}

impl fmt::Debug for Command {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Command::Abort => write!(f, "Command::Abort"),
            Command::Promote => write!(f, "Command::Promote"),
            Command::SetWeight(w) => write!(f, "Command::SetWeight({w})"),
        }
    }
}

/// Prints as a Rust expression to paste into a regression test.
impl fmt::Debug for Scenario {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let strategy = match self.strategy {
            Strategy::Simple => "Simple",
            Strategy::Rolling => "Rolling",
            Strategy::Canary => "Canary",
            Strategy::BlueGreen => "BlueGreen",
        };
        write!(
            f,
            "Scenario {{ strategy: Strategy::{strategy}, clusters: {}, manual: {}, previous: {}, \
             traffic_only: {}, replay: {}, lease_held: {}, deadline_early: {}, faults: vec!{:?}, \
             commands: vec!{:?}, abort_at_gate: {}, crashes: vec!{:?}, order: vec!{:?} }}",
            self.clusters,
            self.manual,
            self.previous,
            self.traffic_only,
            self.replay,
            self.lease_held,
            self.deadline_early,
            self.faults,
            self.commands,
            self.abort_at_gate,
            self.crashes,
            self.order,
        )
    }
}

fn reason_code(reason: &Reason) -> String {
    match reason {
        Reason::Other(text) => format!("Reason::Other({text:?}.to_owned())"),
        other => format!("Reason::{other}"),
    }
}

fn s(text: &str) -> String {
    format!("{text:?}.to_owned()")
}

fn object_code(o: &ObjectRef) -> String {
    format!(
        "ObjectRef::new({:?}, {:?}, {:?}, {:?})",
        o.api_version,
        o.kind,
        o.namespace.as_deref().unwrap_or(""),
        o.name
    )
}

/// One event as a Rust expression.
pub fn event_code(event: &Event) -> String {
    match event {
        Event::Start { at } => format!("Event::Start {{ at: Timestamp({}) }}", s(&at.0)),
        Event::Promote => "Event::Promote".to_owned(),
        Event::Abort => "Event::Abort".to_owned(),
        Event::SetWeight { weight } => format!("Event::SetWeight {{ weight: {weight} }}"),
        Event::Resume => "Event::Resume".to_owned(),
        Event::LeaseAcquired { cluster } => {
            format!("Event::LeaseAcquired {{ cluster: {} }}", s(cluster))
        }
        Event::LeaseDenied { cluster, holder } => format!(
            "Event::LeaseDenied {{ cluster: {}, holder: {} }}",
            s(cluster),
            s(holder)
        ),
        Event::Applied { cluster, object } => format!(
            "Event::Applied {{ cluster: {}, object: {} }}",
            s(cluster),
            object_code(object)
        ),
        Event::Ready { cluster, object } => format!(
            "Event::Ready {{ cluster: {}, object: {} }}",
            s(cluster),
            object_code(object)
        ),
        Event::Failed {
            cluster,
            object,
            reason,
            message,
        } => format!(
            "Event::Failed {{ cluster: {}, object: {}, reason: {}, message: {} }}",
            s(cluster),
            object
                .as_ref()
                .map(|o| format!("Some({})", object_code(o)))
                .unwrap_or_else(|| "None".to_owned()),
            reason_code(reason),
            s(message)
        ),
        Event::TrafficSwitched {
            cluster,
            version,
            weight,
        } => format!(
            "Event::TrafficSwitched {{ cluster: {}, version: Version({}), weight: {weight} }}",
            s(cluster),
            version.0
        ),
        Event::Deleted { cluster, version } => format!(
            "Event::Deleted {{ cluster: {}, version: Version({}) }}",
            s(cluster),
            version.0
        ),
        Event::Restored { cluster, version } => format!(
            "Event::Restored {{ cluster: {}, version: Version({}) }}",
            s(cluster),
            version.0
        ),
        Event::Unreachable { cluster, message } => format!(
            "Event::Unreachable {{ cluster: {}, message: {} }}",
            s(cluster),
            s(message)
        ),
        Event::Reachable { cluster } => format!("Event::Reachable {{ cluster: {} }}", s(cluster)),
        Event::Timeout { timer } => format!(
            "Event::Timeout {{ timer: Timer {{ kind: TimerKind::{:?}, seq: {} }} }}",
            timer.kind, timer.seq
        ),
    }
}

/// The delivered events as a `vec![..]` expression.
pub fn events_code(events: &[Event]) -> String {
    let mut out = String::from("vec![\n");
    for event in events {
        out.push_str("    ");
        out.push_str(&event_code(event));
        out.push_str(",\n");
    }
    out.push(']');
    out
}

/// What the reference model expects.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Expected {
    /// The new version serves on every reachable cluster; these lag.
    Forward {
        /// Clusters left behind (down for good after the switch).
        lagging: BTreeSet<String>,
    },
    /// The old version serves everywhere; the release failed or was aborted.
    Backward {
        /// Phases allowed.
        phases: Vec<Phase>,
    },
}

/// What the simulator itself put on the wire before the point of no return,
/// the facts the reference model needs besides the faults. Each is derived
/// from the events the simulator delivered and the actions it saw, never
/// from the status the planner wrote in reaction: an event counts when it
/// was delivered before any switch to 100% had been emitted, and not lost
/// (a crash that performed none of the deployer's actions for that event
/// loses it, as a real deployer would).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Observed {
    /// An `abort` was delivered before the switch.
    pub abort: bool,
    /// A canary's pods failed (the `Failed` was delivered) before the switch.
    pub canary_failure: bool,
    /// The early deadline of the application stage was delivered before the
    /// switch, while objects of the new version were still not reported ready.
    pub early_deadline: bool,
    /// A cluster's refusal was delivered before the switch with no abort
    /// delivered before it (a `canary -p 0` refused by a cluster whose fault
    /// is to refuse 0%: a failure like any other).
    pub refusal: bool,
}

/// The naive reference model: the outcome follows from the faults and the
/// observed deliveries, whatever the order of events: a lease held
/// elsewhere, a failed rollout, a cluster that never comes back before the
/// switch, a wiped cluster, a canary failure or the early deadline delivered
/// before the switch mean the release fails; an abort delivered before the
/// switch means it is aborted; otherwise the new version serves everywhere
/// except in clusters that went down for good after the switch, keep
/// refusing the switch, or keep refusing to delete the old version.
pub fn reference(scenario: &Scenario, clusters: &[String], observed: Observed) -> Expected {
    let fails = scenario.lease_held
        || observed.early_deadline
        || observed.canary_failure
        || observed.refusal
        || scenario.faults.iter().any(|f| {
            matches!(
                f,
                Fault::FailRollout(_) | Fault::DownBeforeSwitch { returns: false } | Fault::Wiped
            )
        });
    if fails || observed.abort {
        let mut phases = Vec::new();
        if fails {
            phases.push(Phase::Failed);
        }
        if observed.abort {
            phases.push(Phase::Aborted);
        }
        return Expected::Backward { phases };
    }
    let cleanup_deletes =
        scenario.previous && (scenario.strategy != Strategy::Rolling || scenario.traffic_only);
    let lagging = scenario
        .faults
        .iter()
        .zip(clusters)
        .filter(|(f, _)| match f {
            Fault::DownAfterSwitch { returns: false } => true,
            Fault::RefuseAfterSwitch { forever: true } => true,
            Fault::RefuseCleanup { forever: true } => cleanup_deletes,
            _ => false,
        })
        .map(|(_, c)| c.clone())
        .collect();
    Expected::Forward { lagging }
}

/// The message of a failure under a canary weight (so the simulator knows it when it delivers it).
const CANARY_FAILURE: &str = "back-off restarting failed container";
/// A refused switch (an admission webhook denies the route).
const REFUSED_ROUTE: &str = "admission webhook denied the route";
/// A refused deletion.
const REFUSED_DELETE: &str = "deletion refused by policy";
/// A refused restore.
const REFUSED_RESTORE: &str = "exceeded quota";
/// The messages of every refusal the simulator sends.
const REFUSALS: [&str; 3] = [REFUSED_ROUTE, REFUSED_DELETE, REFUSED_RESTORE];

/// One cluster of the simulated world.
#[derive(Debug, Clone)]
struct Cluster {
    name: String,
    up: bool,
    fault: Fault,
    fault_fired: bool,
    lease: Option<String>,
    objects: BTreeMap<Version, BTreeSet<ObjectRef>>,
    /// `weight`% to `.0`, the rest to `.2`.
    traffic: Option<(Version, u8, Option<Version>)>,
}

impl Cluster {
    fn serving(&self) -> Option<Version> {
        match self.traffic {
            Some((v, 100, _)) => Some(v),
            Some((_, 0, stable)) => stable,
            Some((v, _, None)) => Some(v),
            _ => None,
        }
    }
}

/// The result of one simulation.
pub struct Report {
    /// The scenario.
    pub scenario: Scenario,
    /// Every delivered event, in order (with `Resume` after each crash).
    pub events: Vec<Event>,
    /// Every violation found.
    pub violations: Vec<String>,
    /// The final release.
    pub release: Release,
    /// Each delivered event and the actions it gave, one per line.
    pub transcript: String,
}

impl Report {
    /// Everything needed to reproduce a failure, as code.
    pub fn render(&self) -> String {
        format!(
            "violations:\n  {}\nfinal status: {:?} {:?} lagging {:?}\n\
             regression test (paste into tests/it/regressions.rs):\n\
             #[test]\nfn regression() {{\n    check_scenario({:?});\n}}\n\
             delivered events (for replay):\n{}\n",
            self.violations.join("\n  "),
            self.release.status.phase,
            self.release.status.step,
            self.release.status.lagging.keys().collect::<Vec<_>>(),
            self.scenario,
            events_code(&self.events),
        )
    }
}

struct Sim {
    scenario: Scenario,
    world: Vec<Cluster>,
    queue: Vec<Event>,
    timer: Option<Timer>,
    release: Release,
    persisted: String,
    events: Vec<Event>,
    transcript: String,
    crash_after: Option<usize>,
    violations: Vec<String>,
    ready_reported: BTreeSet<(String, ObjectRef)>,
    new: Version,
    old: Option<Version>,
    /// An `Apply` of the new version was performed somewhere.
    applied_new: bool,
    /// An `Apply`/`WaitReady` of the application stage reached a cluster.
    application_started: bool,
    /// A switch to 100% was emitted by a step that was not lost in a crash
    /// (the planner's point of no return, seen from the wire).
    switched_100: bool,
    /// The next delivered timeout is the injected early deadline.
    early_deadline: bool,
    /// What was delivered before the switch (for the reference model).
    observed: Observed,
}

fn new_release(scenario: &Scenario) -> Release {
    let spec = if scenario.traffic_only && scenario.previous {
        fixtures::traffic_only_rollback(scenario.strategy, scenario.clusters, 6, 5, 4)
    } else if scenario.replay && scenario.previous {
        fixtures::replayed_rollback(scenario.strategy, scenario.clusters, 6, 5, 4)
    } else {
        let mut spec = fixtures::spec(
            scenario.strategy,
            scenario.clusters,
            6,
            scenario.previous.then_some(5),
        );
        spec.options.manual = scenario.manual;
        spec
    };
    let mut spec = spec;
    spec.options.manual = scenario.manual;
    spec.options.max_retries = 2;
    fixtures::release(spec)
}

/// Runs one scenario to the end and checks everything.
pub fn simulate(scenario: &Scenario) -> Report {
    let release = new_release(scenario);
    let new = release.spec.serving();
    let old = release.spec.previous;
    let mut world = Vec::new();
    for (index, name) in release.spec.clusters.iter().enumerate() {
        let mut objects = BTreeMap::new();
        let mut traffic = None;
        if let Some(old) = old {
            let m = fixtures::manifests(scenario.strategy, old.0);
            objects.insert(old, refs(&m));
            traffic = Some((old, 100, None));
        }
        if scenario.traffic_only && scenario.previous {
            let m = fixtures::manifests(scenario.strategy, new.0);
            objects.insert(new, refs(&m));
        }
        world.push(Cluster {
            name: name.clone(),
            up: true,
            fault: scenario.faults.get(index).cloned().unwrap_or(Fault::None),
            fault_fired: false,
            lease: (index == 0 && scenario.lease_held).then(|| "web-v3".to_owned()),
            objects,
            traffic,
        });
    }
    let mut sim = Sim {
        scenario: scenario.clone(),
        world,
        queue: Vec::new(),
        timer: None,
        persisted: String::new(),
        release,
        events: Vec::new(),
        transcript: String::new(),
        crash_after: None,
        violations: Vec::new(),
        ready_reported: BTreeSet::new(),
        new,
        old,
        applied_new: false,
        application_started: false,
        switched_100: false,
        early_deadline: false,
        observed: Observed::default(),
    };
    sim.run();
    sim.final_checks();
    Report {
        scenario: sim.scenario,
        transcript: sim.transcript,
        events: sim.events,
        violations: sim.violations,
        release: sim.release,
    }
}

fn refs(m: &release::Manifests) -> BTreeSet<ObjectRef> {
    m.init
        .iter()
        .chain(&m.application)
        .map(|o| o.reference.clone())
        .collect()
}

impl Sim {
    fn run(&mut self) {
        self.deliver(Event::Start {
            at: Timestamp("2026-11-23T12:00:00Z".to_owned()),
        });
        let mut order_index = 0usize;
        let mut early_done = false;
        let mut gate_seen = false;
        let mut crashes = self.scenario.crashes.clone();
        let mut commands = self.scenario.commands.clone();
        for _ in 0..5000 {
            let finished = self.release.status.phase.is_finished();
            if finished && self.queue.is_empty() {
                return;
            }
            let count = self.events.len() as u16;
            if !finished
                && self.crash_after.is_none()
                && let Some(pos) = crashes.iter().position(|&(at, _)| at <= count)
            {
                let (_, performed) = crashes.remove(pos);
                self.crash_after = Some(performed as usize);
            }
            if !finished && let Some(pos) = commands.iter().position(|(at, _)| *at <= count) {
                let (_, command) = commands.remove(pos);
                let event = match command {
                    Command::Abort => Event::Abort,
                    Command::Promote => Event::Promote,
                    Command::SetWeight(weight) => Event::SetWeight { weight },
                };
                self.deliver(event);
                continue;
            }
            // The early deadline: once the application stage reached the
            // clusters, before the switch, while the simulator has not yet
            // reported every object of the new version ready (all decided
            // from the wire, not from the planner's status).
            if self.scenario.deadline_early
                && !early_done
                && !finished
                && self.application_started
                && !self.switched_100
                && !self.all_application_ready()
                && let Some(timer) = self.timer.take()
            {
                early_done = true;
                self.early_deadline = true;
                self.deliver(Event::Timeout { timer });
                continue;
            }
            if !self.queue.is_empty() {
                let choice = if self.scenario.order.is_empty() {
                    0
                } else {
                    self.scenario.order[order_index % self.scenario.order.len()] as usize
                };
                order_index += 1;
                let event = self.queue.remove(choice % self.queue.len());
                self.deliver(event);
                continue;
            }
            if let Some(index) = self.world.iter().position(|c| {
                !c.up
                    && matches!(
                        c.fault,
                        Fault::DownBeforeSwitch { returns: true }
                            | Fault::DownAfterSwitch { returns: true }
                    )
            }) {
                self.world[index].up = true;
                let cluster = self.world[index].name.clone();
                self.deliver(Event::Reachable { cluster });
                continue;
            }
            if finished {
                return;
            }
            let human_wait = matches!(self.release.status.step, Step::Gate { .. })
                || (self.release.status.step == Step::CanaryHold && self.timer.is_none());
            if human_wait {
                if self.scenario.abort_at_gate && !gate_seen {
                    gate_seen = true;
                    self.deliver(Event::Abort);
                } else {
                    gate_seen = true;
                    self.deliver(Event::Promote);
                }
                continue;
            }
            if let Some(timer) = self.timer.take() {
                self.deliver(Event::Timeout { timer });
                continue;
            }
            self.violations.push(format!(
                "stuck: nothing to deliver at {:?} ({})",
                self.release.status.step, self.release.status.phase
            ));
            return;
        }
        self.violations
            .push("no end after 5000 events (livelock)".to_owned());
    }

    /// The deployer dies: queued observations and timers are lost; a new
    /// one reads the last written status back and resumes.
    fn crash(&mut self) {
        self.transcript
            .push_str("-- crash: events in flight lost, status read back --\n");
        self.queue.clear();
        self.timer = None;
        let read = serde_json::from_str::<serde_json::Value>(&self.persisted)
            .map_err(|e| e.to_string())
            .and_then(|json| Release::from_json(&json).map_err(|e| e.to_string()));
        match read {
            Ok(release) => self.release = release,
            Err(e) => {
                self.violations
                    .push(format!("stored status does not read back: {e}"));
                return;
            }
        }
        self.deliver(Event::Resume);
    }

    fn deliver(&mut self, event: Event) {
        if let Event::Ready { cluster, object } = &event {
            self.ready_reported
                .insert((cluster.clone(), object.clone()));
        }
        // A crash after `n` actions performs only those, then loses the
        // rest; with none performed the event itself is lost (the deployer
        // died before it could persist or do anything about it).
        let crash = self.crash_after.take();
        let lost = crash == Some(0);
        let early_deadline = std::mem::take(&mut self.early_deadline);
        if !lost && !self.switched_100 {
            match &event {
                Event::Abort => self.observed.abort = true,
                Event::Failed { message, .. } if message == CANARY_FAILURE => {
                    self.observed.canary_failure = true;
                }
                Event::Timeout { .. } if early_deadline => self.observed.early_deadline = true,
                Event::Failed { message, .. }
                    if REFUSALS.contains(&message.as_str()) && !self.observed.abort =>
                {
                    self.observed.refusal = true;
                }
                _ => {}
            }
        }
        let before = self.release.clone();
        let (after, actions) = step(before.clone(), &event);
        self.check_step(&before, &event, &after, &actions);
        self.transcript.push_str(&transcript_line(&event));
        for action in &actions {
            self.transcript.push_str(&format!("    {action}\n"));
        }
        self.events.push(event);
        self.release = after;
        if !lost
            && actions
                .iter()
                .any(|a| matches!(a, Action::SwitchTraffic { weight: 100, .. }))
        {
            self.switched_100 = true;
        }
        for action in actions.iter().take(crash.unwrap_or(usize::MAX)) {
            self.execute(action);
        }
        if crash.is_some() {
            self.crash();
        }
    }

    /// Invariants 1, 2, 3 and 5 on one step.
    fn check_step(&mut self, before: &Release, event: &Event, after: &Release, actions: &[Action]) {
        let n = self.events.len();
        // 5. Same events, same actions — also through a serialisation round trip.
        let (again, again_actions) = step(before.clone(), event);
        if &again != after || again_actions != actions {
            self.violations.push(format!(
                "event #{n}: replaying {event:?} gave different results"
            ));
        }
        if let Ok(json) = serde_json::to_string(before)
            && let Ok(read) = serde_json::from_str::<Release>(&json)
        {
            let (third, third_actions) = step(read, event);
            if &third != after || third_actions != actions {
                self.violations.push(format!(
                    "event #{n}: {event:?} acts differently after a serialisation round trip"
                ));
            }
        }
        // Every status the planner returns reads back through the strict
        // reader (the spec and the status fit each other).
        if let Err(e) = Release::from_json(&after.to_json()) {
            self.violations.push(format!(
                "event #{n}: the status after {event:?} does not read back: {e}"
            ));
        }
        let pnr_before = before.status.point_of_no_return;
        if pnr_before && !after.status.point_of_no_return {
            self.violations
                .push(format!("event #{n}: the point of no return was undone"));
        }
        if pnr_before && matches!(after.status.phase, Phase::Failed | Phase::Aborted) {
            self.violations.push(format!(
                "event #{n}: failed after the point of no return ({:?})",
                after.status.phase
            ));
        }
        // The status that declares the point of no return is written first.
        let mut status_written = false;
        for action in actions {
            match action {
                Action::WriteStatus { .. } => status_written = true,
                Action::SwitchTraffic {
                    version, weight, ..
                } => {
                    // 1. Traffic only to a version ready in every cluster.
                    if *weight > 0 {
                        for cluster in &after.spec.clusters {
                            for object in after.spec.objects(cluster, Stage::Application) {
                                let key = (cluster.clone(), object.reference.clone());
                                if !self.ready_reported.contains(&key) {
                                    self.violations.push(format!(
                                        "event #{n}: traffic {weight}% to {version} but {} not ready in {cluster}",
                                        object.reference
                                    ));
                                }
                            }
                        }
                    }
                    if *weight == 100 && !status_written && !pnr_before {
                        self.violations.push(format!(
                            "event #{n}: switch to 100% before the point of no return was written"
                        ));
                    }
                    // 3. After the point of no return only forward.
                    if pnr_before && *weight < 100 {
                        self.violations.push(format!(
                            "event #{n}: traffic back to {weight}% after the point of no return"
                        ));
                    }
                }
                Action::Delete { version, .. } => {
                    // 2. The old version is never touched before the switch.
                    if Some(*version) == self.old && !after.status.point_of_no_return {
                        self.violations.push(format!(
                            "event #{n}: old version {version} deleted before the point of no return"
                        ));
                    }
                    if *version == self.new && after.status.point_of_no_return {
                        self.violations.push(format!(
                            "event #{n}: new version deleted after the point of no return"
                        ));
                    }
                }
                Action::Restore { .. } => {
                    if after.status.point_of_no_return {
                        self.violations
                            .push(format!("event #{n}: restore after the point of no return"));
                    }
                    if self.scenario.strategy != Strategy::Rolling {
                        self.violations
                            .push(format!("event #{n}: restore outside a rolling update"));
                    }
                }
                Action::Apply { version, .. } if Some(*version) == self.old => {
                    self.violations
                        .push(format!("event #{n}: the old version was applied"));
                }
                _ => {}
            }
        }
    }

    /// A cluster that answers but refuses this action (its fault says so):
    /// the `Failed` it reports instead of doing it.
    fn refusal(&mut self, index: usize, action: &Action) -> Option<Event> {
        let (forever, object, reason, message) = match (&self.world[index].fault, action) {
            (Fault::RefuseAfterSwitch { forever }, Action::SwitchTraffic { weight: 100, .. }) => (
                *forever,
                ObjectRef::new("networking.istio.io/v1", "VirtualService", "web", "web"),
                Reason::Admission,
                REFUSED_ROUTE,
            ),
            (Fault::RefuseCleanup { forever }, Action::Delete { version, .. })
                if Some(*version) == self.old =>
            {
                (
                    *forever,
                    ObjectRef::new("apps/v1", "Deployment", "web", &format!("web-{version}")),
                    Reason::Other("Forbidden".to_owned()),
                    REFUSED_DELETE,
                )
            }
            (Fault::RefuseAbort { forever }, Action::SwitchTraffic { weight: 0, .. }) => (
                *forever,
                ObjectRef::new("networking.istio.io/v1", "VirtualService", "web", "web"),
                Reason::Admission,
                REFUSED_ROUTE,
            ),
            (Fault::RefuseAbort { forever }, Action::Delete { version, .. })
                if *version == self.new =>
            {
                (
                    *forever,
                    ObjectRef::new("apps/v1", "Deployment", "web", &format!("web-{version}")),
                    Reason::Other("Forbidden".to_owned()),
                    REFUSED_DELETE,
                )
            }
            (Fault::RefuseAbort { forever }, Action::Restore { .. }) => (
                *forever,
                ObjectRef::new("apps/v1", "Deployment", "web", "web"),
                Reason::Quota,
                REFUSED_RESTORE,
            ),
            _ => return None,
        };
        let cluster = &mut self.world[index];
        if cluster.fault_fired && !forever {
            return None;
        }
        cluster.fault_fired = true;
        Some(Event::Failed {
            cluster: cluster.name.clone(),
            object: Some(object),
            reason,
            message: message.to_owned(),
        })
    }

    /// Every application object of the new version was reported ready by
    /// the simulator in every cluster.
    fn all_application_ready(&self) -> bool {
        let spec = &self.release.spec;
        spec.clusters.iter().all(|cluster| {
            spec.objects(cluster, Stage::Application).iter().all(|o| {
                self.ready_reported
                    .contains(&(cluster.clone(), o.reference.clone()))
            })
        })
    }

    fn cluster_index(&self, name: &str) -> Option<usize> {
        self.world.iter().position(|c| c.name == name)
    }

    fn unreachable(&mut self, cluster: &str) {
        self.queue.push(Event::Unreachable {
            cluster: cluster.to_owned(),
            message: "connection refused".to_owned(),
        });
    }

    /// The adapter and the cluster: performs one action, queues what it observes.
    fn execute(&mut self, action: &Action) {
        let Some(cluster) = action.cluster() else {
            match action {
                Action::StartTimer { timer, .. } => self.timer = Some(*timer),
                // The adapter stores the release the planner returned.
                Action::WriteStatus { .. } => match serde_json::to_string(&self.release) {
                    Ok(json) => self.persisted = json,
                    Err(e) => self
                        .violations
                        .push(format!("status does not serialise: {e}")),
                },
                _ => {}
            }
            return;
        };
        let cluster = cluster.to_owned();
        let Some(index) = self.cluster_index(&cluster) else {
            self.violations
                .push(format!("action for unknown cluster {cluster}"));
            return;
        };
        if matches!(
            action,
            Action::Apply {
                stage: Stage::Application,
                ..
            } | Action::WaitReady {
                stage: Stage::Application,
                ..
            }
        ) {
            self.application_started = true;
        }
        // Faults that fire when a stage reaches the cluster.
        let trigger = matches!(
            (&self.world[index].fault, action),
            (
                Fault::DownBeforeSwitch { .. },
                Action::Apply {
                    stage: Stage::Application,
                    ..
                } | Action::WaitReady {
                    stage: Stage::Application,
                    ..
                },
            ) | (
                Fault::DownAfterSwitch { .. },
                Action::SwitchTraffic { weight: 100, .. }
            )
        );
        if trigger && !self.world[index].fault_fired {
            self.world[index].fault_fired = true;
            self.world[index].up = false;
        }
        // 1. Never order the deletion of a version that still receives
        // traffic there (whether or not the cluster then performs it).
        if let Action::Delete { version, .. } = action
            && let Some((to, weight, stable)) = self.world[index].traffic
            && ((to == *version && weight > 0) || (stable == Some(*version) && weight < 100))
        {
            self.violations.push(format!(
                "{cluster}: delete of {version} ordered while it still receives traffic \
                 ({weight}% to {to}, rest to {stable:?})"
            ));
        }
        let up = self.world[index].up;
        let strategy = self.scenario.strategy;
        if up && let Some(refusal) = self.refusal(index, action) {
            self.queue.push(refusal);
            return;
        }
        match action {
            Action::AcquireLease { holder, .. } => {
                if !up {
                    return self.unreachable(&cluster);
                }
                let c = &mut self.world[index];
                match &c.lease {
                    Some(other) if other != holder => self.queue.push(Event::LeaseDenied {
                        cluster,
                        holder: other.clone(),
                    }),
                    _ => {
                        c.lease = Some(holder.clone());
                        self.queue.push(Event::LeaseAcquired { cluster });
                    }
                }
            }
            Action::ReleaseLease { holder, .. } => {
                let c = &mut self.world[index];
                if up && c.lease.as_ref() == Some(holder) {
                    c.lease = None;
                }
            }
            Action::Apply {
                version, objects, ..
            } => {
                if !up {
                    return self.unreachable(&cluster);
                }
                if *version == self.new {
                    self.applied_new = true;
                }

                let c = &mut self.world[index];
                if strategy == Strategy::Rolling
                    && let Some(old) = self.old
                    && objects.iter().any(|o| o.reference.kind == "Deployment")
                {
                    // In place: the one Deployment now runs the new version.
                    c.objects.remove(&old);
                }
                let set = c.objects.entry(*version).or_default();
                for object in objects {
                    set.insert(object.reference.clone());
                }
            }
            Action::WaitReady {
                version,
                objects,
                stage,
                ..
            } => {
                if !up {
                    return self.unreachable(&cluster);
                }
                if self.world[index].fault == Fault::Wiped
                    && *stage == Stage::Application
                    && !self.world[index].fault_fired
                {
                    let c = &mut self.world[index];
                    c.fault_fired = true;
                    c.objects.clear();
                    c.traffic = None;
                    c.lease = None;
                }
                let c = &self.world[index];
                if c.fault == Fault::Wiped && c.fault_fired {
                    // The watch finds the awaited objects gone.
                    if let Some(object) = objects.first() {
                        self.queue.push(Event::Failed {
                            cluster: cluster.clone(),
                            object: Some(object.clone()),
                            reason: Reason::Other("NotFound".to_owned()),
                            message: "the object disappeared from the cluster".to_owned(),
                        });
                    }
                    return;
                }
                let present = c.objects.get(version).cloned().unwrap_or_default();
                let failing = match &c.fault {
                    Fault::FailRollout(reason) if *version == self.new => Some(reason.clone()),
                    _ => None,
                };
                for object in objects {
                    if !present.contains(object) {
                        continue;
                    }
                    match &failing {
                        Some(reason) => {
                            self.queue.push(Event::Failed {
                                cluster: cluster.clone(),
                                object: Some(object.clone()),
                                reason: reason.clone(),
                                message: format!("{object} is not ready"),
                            });
                            break;
                        }
                        None => self.queue.push(Event::Ready {
                            cluster: cluster.clone(),
                            object: object.clone(),
                        }),
                    }
                }
            }
            Action::SwitchTraffic {
                version,
                stable,
                weight,
                ..
            } => {
                if !up {
                    return self.unreachable(&cluster);
                }
                self.world[index].traffic = Some((*version, *weight, *stable));
                if let Fault::FailUnderCanary(reason) = self.world[index].fault.clone()
                    && (1..100).contains(weight)
                    && !self.world[index].fault_fired
                {
                    self.world[index].fault_fired = true;
                    self.queue.push(Event::Failed {
                        cluster: cluster.clone(),
                        object: Some(ObjectRef::new("apps/v1", "Deployment", "web", "web-v6")),
                        reason,
                        message: CANARY_FAILURE.to_owned(),
                    });
                }
                self.queue.push(Event::TrafficSwitched {
                    cluster,
                    version: *version,
                    weight: *weight,
                });
            }
            Action::Delete { version, .. } => {
                if !up {
                    return self.unreachable(&cluster);
                }
                self.world[index].objects.remove(version);
                self.queue.push(Event::Deleted {
                    cluster,
                    version: *version,
                });
            }
            Action::Restore { version, .. } => {
                if !up {
                    return self.unreachable(&cluster);
                }
                let m = fixtures::manifests(strategy, version.0);
                let c = &mut self.world[index];
                c.objects.remove(&self.new);
                c.objects.insert(*version, refs(&m));
                self.queue.push(Event::Restored {
                    cluster,
                    version: *version,
                });
            }
            Action::WriteStatus { .. } | Action::StartTimer { .. } | Action::Rejected { .. } => {}
        }
    }

    /// Invariants 3 and 4 and the reference model, on the final state.
    fn final_checks(&mut self) {
        let status = self.release.status.clone();
        if !status.phase.is_finished() {
            self.violations.push(format!(
                "did not finish: {:?} at {:?}",
                status.phase, status.step
            ));
            return;
        }
        let clusters = self.release.spec.clusters.clone();
        let expected = reference(&self.scenario, &clusters, self.observed);
        let new = self.new;
        let old = self.old;
        let side_by_side =
            self.scenario.strategy != Strategy::Rolling || self.scenario.traffic_only;
        let reported: BTreeSet<String> = status.lagging.keys().cloned().collect();
        // 3. A cluster left behind is recorded with its own name and a
        // reason; one that answers names what it refused, not "unreachable".
        for (name, failure) in &status.lagging {
            if &failure.cluster != name {
                self.violations
                    .push(format!("lagging {name} carries a failure of {failure}"));
            }
            let up = self.world.iter().any(|c| &c.name == name && c.up);
            if up && failure.reason == Reason::Unreachable {
                self.violations.push(format!(
                    "{name} answers but is reported lagging as unreachable ({failure})"
                ));
            }
        }
        // 1. At the end, traffic only goes to versions whose objects exist
        // (rolling updates one Deployment in place: its traffic follows it).
        for c in &self.world {
            let wiped = c.fault == Fault::Wiped && c.fault_fired;
            if wiped || !side_by_side {
                continue;
            }
            if let Some((to, weight, stable)) = c.traffic {
                let missing = (weight > 0 && !c.objects.contains_key(&to))
                    || (weight < 100 && stable.is_some_and(|s| !c.objects.contains_key(&s)));
                if missing {
                    self.violations.push(format!(
                        "{}: traffic {weight}% to {to}, rest to {stable:?}, but objects {:?}",
                        c.name,
                        c.objects.keys().collect::<Vec<_>>()
                    ));
                }
            }
        }
        match &expected {
            Expected::Forward { lagging } => {
                // 4. with 3: a cluster that keeps refusing (or is gone) after
                // the point of no return makes the release `incomplete` and
                // is listed, never `succeeded` with it silently behind.
                let phase = if lagging.is_empty() {
                    Phase::Succeeded
                } else {
                    Phase::Incomplete
                };
                if status.phase != phase {
                    self.violations.push(format!(
                        "reference expects {phase:?}, planner ended {:?} ({:?})",
                        status.phase, status.failures
                    ));
                }
                if &reported != lagging {
                    self.violations.push(format!(
                        "reference expects lagging {lagging:?}, planner reports {reported:?}"
                    ));
                }
                if self.scenario.traffic_only == self.applied_new {
                    self.violations.push(format!(
                        "objects of {new} applied: {} (a traffic-only rollback applies nothing, \
                         any other release applies its objects)",
                        self.applied_new
                    ));
                }
                for c in &self.world {
                    if reported.contains(&c.name) {
                        continue;
                    }
                    if c.serving() != Some(new) {
                        self.violations.push(format!(
                            "{}: serves {:?}, not {new} (4: all reachable clusters on the same version)",
                            c.name, c.serving()
                        ));
                    }
                    if !c.objects.contains_key(&new) {
                        self.violations
                            .push(format!("{}: objects of {new} missing", c.name));
                    }
                    if let Some(old) = old
                        && c.objects.contains_key(&old)
                        && side_by_side
                    {
                        self.violations
                            .push(format!("{}: old version {old} not cleaned up", c.name));
                    }
                    if c.lease.as_deref() == Some("web-v6") {
                        self.violations
                            .push(format!("{}: lease not given back", c.name));
                    }
                }
            }
            Expected::Backward { phases } => {
                if !phases.contains(&status.phase) {
                    self.violations.push(format!(
                        "reference expects one of {phases:?}, planner ended {:?}",
                        status.phase
                    ));
                }
                for c in &self.world {
                    let wiped = c.fault == Fault::Wiped && c.fault_fired;
                    if wiped {
                        // Lost everything, the old version included: sync
                        // rebuilds it. The planner must not have put the new
                        // version there.
                        if c.objects.contains_key(&new) || c.serving() == Some(new) {
                            self.violations.push(format!(
                                "{}: the failed {new} runs in a wiped cluster",
                                c.name
                            ));
                        }
                        continue;
                    }
                    let behind = reported.contains(&c.name);
                    // 2. The old version is never removed before the switch
                    // (rolling replaces it in place; a cluster whose
                    // restore was refused is reported instead).
                    if let Some(old) = old
                        && !c.objects.contains_key(&old)
                        && (side_by_side || !behind)
                    {
                        self.violations
                            .push(format!("{}: the old version {old} was removed", c.name));
                    }
                    // 3. Anything other than "the old version serves, the new
                    // one is gone" must be reported.
                    let leftover = !self.scenario.traffic_only && c.objects.contains_key(&new);
                    if (c.serving() != old || leftover) && !behind {
                        self.violations.push(format!(
                            "{}: left behind silently after a failed release (serves {:?}, \
                             objects {:?})",
                            c.name,
                            c.serving(),
                            c.objects.keys().collect::<Vec<_>>()
                        ));
                    }
                    if c.up && c.lease.as_deref() == Some("web-v6") {
                        self.violations
                            .push(format!("{}: lease not given back", c.name));
                    }
                }
                if self.scenario.lease_held && self.world[0].lease.as_deref() != Some("web-v3") {
                    self.violations
                        .push("the other release's lease was taken".to_owned());
                }
            }
        }
    }
}

/// Feeds `events` to a fresh release of `scenario` (no world) and checks
/// determinism: the same events give the same actions twice.
pub fn replay(scenario: &Scenario, events: &[Event]) -> (Release, Vec<Vec<Action>>) {
    let run = || {
        let mut release = new_release(scenario);
        let mut all = Vec::new();
        for event in events {
            let (next, actions) = step(release, event);
            release = next;
            all.push(actions);
        }
        (release, all)
    };
    let first = run();
    let second = run();
    assert_eq!(
        first, second,
        "replaying the same events gave different actions"
    );
    first
}

/// One event as a transcript line (failures with cluster, object and reason).
fn transcript_line(event: &Event) -> String {
    match event {
        Event::Failed {
            cluster,
            object,
            reason,
            message,
        } => {
            let failure = release::Failure {
                cluster: cluster.clone(),
                object: object.clone(),
                reason: reason.clone(),
                message: message.clone(),
            };
            format!("<- failed {failure}\n")
        }
        Event::Ready { cluster, object } => format!("<- {cluster}: ready {object}\n"),
        Event::TrafficSwitched {
            cluster,
            version,
            weight,
        } => {
            format!("<- {cluster}: traffic {weight}% to {version}\n")
        }
        Event::Timeout { timer } => format!("<- timeout {:?}#{}\n", timer.kind, timer.seq),
        other => {
            let json = serde_json::to_string(other).unwrap_or_default();
            format!("<- {json}\n")
        }
    }
}
