//! The release planner: `step(release, event) -> (release, actions)`.
//!
//! # Model
//!
//! The planner's state is the [`Release`] itself: the fixed [`crate::ReleaseSpec`]
//! and the [`crate::ReleaseStatus`] it updates. [`Step`] says what it waits
//! for; each cluster has a [`crate::ClusterState`] with a `done` flag for the
//! current step. A step completes only when `done` holds in **every** cluster
//! (the barrier), then the next step starts in every cluster at once.
//!
//! ```text
//! NotStarted ─start─► Leasing ─► Rollout(init) ─► [Gate(init)] ─► Rollout(application)
//!   ─► [Gate(application)] ─► Switching(w<100) ⇄ CanaryHold        (canary only)
//!   ─► ║point of no return║ Switching(100) ─► Draining ─► [Gate(balancing)] ─► Cleanup ─► Done
//!                          (first deploy: Switching(100) ─► [Gate(balancing)] ─► Cleanup, no drain)
//! any failure/abort before the point of no return:
//!   ─► AbortTraffic (weight 0, only if traffic moved) ─► AbortDelete ─► Done(failed|aborted)
//! ```
//!
//! # How the adapter runs actions
//!
//! Actions are returned in order. [`Action::WriteStatus`] always comes first
//! when the status changed: the adapter persists the returned release (in
//! every reachable cluster) *before* it performs the rest, so the point of no
//! return is durable before the first switch and a crash never loses an
//! intent (write-ahead). The remaining actions for different clusters may run
//! in parallel; actions for the same cluster run in the order given.
//!
//! Every action is idempotent (server-side apply, delete of what may already
//! be gone, lease re-acquired by its own holder), so the planner re-issues
//! them freely: on [`Event::Resume`] after a crash, on [`Event::Reachable`]
//! and on retries after the point of no return.
//!
//! # Events
//!
//! Observations of a step that is no longer current (a `Ready` for a stage
//! that is over, a `Timeout` of an older timer, a duplicate confirmation) are
//! ignored, so the adapter may deliver late and duplicate events; replaying
//! the same events gives the same actions. Commands that do not apply to the
//! current step become [`Action::Rejected`] and change nothing.
//!
//! # Transitions
//!
//! Every transition [`step`] takes, with its precondition (the step it
//! applies in), what it guarantees, and what a repeated or late event does.
//! "All" means every cluster of the release (the barrier); a cluster listed
//! in [`crate::ReleaseStatus::lagging`] counts as done.
//!
//! | event | precondition | guarantees | idempotency |
//! |---|---|---|---|
//! | [`Event::Start`] | `NotStarted` | `running`; lease asked in all clusters under a deadline; nothing else touched before every lease is held | a second start is `Rejected` |
//! | [`Event::LeaseAcquired`] | `Leasing` | cluster marked and persisted at once; all → `Rollout(init)` | duplicate: nothing; after an abort or the end, a late grant is given back at once |
//! | [`Event::LeaseDenied`] | `Leasing` | `failed` without touching any object; leases taken are given back | outside `Leasing`: nothing |
//! | [`Event::Ready`] | `Rollout(s)`, the object awaited there | no longer awaited; all done → next stage, a gate, or balancing | not awaited (other stage, duplicate, stale): nothing |
//! | [`Event::Failed`] | before the point of no return | recorded (cluster, object, reason); abort as `failed`; the old version untouched | the same failure is recorded once; finished: nothing |
//! | [`Event::Failed`] | after it, or while aborting | recorded; the cluster is retried at the next deadline, past `maxRetries` listed in `lagging` | as above |
//! | [`Event::TrafficSwitched`] | `Switching(w)` for the serving version at `w`, or `AbortTraffic` at 0 | cluster done, weight recorded; all → `Draining` (100%, or balancing ends at once on a first deploy), `CanaryHold` (< 100%), `AbortDelete` (0%) | other weight or version, duplicate: nothing |
//! | [`Event::Deleted`] / [`Event::Restored`] | `Cleanup` (previous) or `AbortDelete` (serving / previous) | cluster done; all → `Done` (`succeeded`/`incomplete`, or `failed`/`aborted`) | others: nothing |
//! | [`Event::Unreachable`] | any | cluster marked; in `Leasing` the release fails (all or none); otherwise the deadline decides | repeated: nothing more |
//! | [`Event::Reachable`] | any | the cluster's pending work of the step is issued again | re-issuing is harmless |
//! | [`Event::Timeout`] (deadline) | the current timer, before the point of no return | a failure per cluster not done (`Unreachable`, or `ProgressDeadlineExceeded` naming the first object awaited); abort as `failed` | stale or repeated timer: nothing |
//! | [`Event::Timeout`] (deadline) | after it, or while aborting | clusters not done retried; past `maxRetries` listed in `lagging` with their last failure and the step completes; an abort keeps the new objects where 0% was never confirmed | as above |
//! | [`Event::Timeout`] (drain) | `Draining` | `Cleanup` (old version deleted where switched), or `Gate(balancing)` with `--manual` | stale: nothing |
//! | [`Event::Timeout`] (canary step) | `CanaryHold` | the next canary weight everywhere | stale: nothing |
//! | [`Event::Promote`] | a gate, or a canary before the point of no return | next stage; canary: point of no return (written first) and 100% | elsewhere `Rejected` |
//! | [`Event::Abort`] | before the point of no return | `AbortTraffic` (if traffic moved) then `AbortDelete`, ends `aborted` | after it `Rejected` ("roll back instead"); while aborting or finished `Rejected` |
//! | [`Event::SetWeight`] | a canary before the point of no return | weight everywhere (100 = promote); the step timer continues above it | elsewhere `Rejected` |
//! | [`Event::Resume`] | after a crash, the stored release | pending work re-issued, the step's timer restarted; at a gate: waits; finished: leases given back again | harmless to repeat |
//! | [`Event::Applied`] | any | nothing (informational; `applied` is set when the apply is issued) | — |
//!
//! Each transition function of the planner carries the same contract in its
//! own documentation (visible with `cargo doc --document-private-items`).

use std::fmt;

use app_toml::Strategy;
use serde::{Deserialize, Serialize};

use crate::{Failure, Object, ObjectRef, Phase, Reason, Release, Stage, Step, Timestamp, Version};

/// Field manager of every apply except traffic.
pub const FIELD_MANAGER: &str = "paas";
/// Field manager of traffic switching (balancing objects and weights).
pub const BALANCER_FIELD_MANAGER: &str = "paas-balancer";

/// What a timer is for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum TimerKind {
    /// The deadline of the current step in every cluster.
    Deadline,
    /// The drain delay between the switch and cleanup.
    Drain,
    /// How long a canary weight is held before the next step.
    CanaryStep,
}

/// A timer the planner asked for. Only the latest one counts: a
/// [`Event::Timeout`] carrying an older `seq` is stale and ignored.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Timer {
    /// What it is for.
    pub kind: TimerKind,
    /// Its sequence number within the release.
    pub seq: u32,
}

/// What the planner is told: observations of the adapter and commands of people.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case", tag = "event")]
pub enum Event {
    /// Command: start the rollout (`paas service deploy`, `rollback`).
    Start {
        /// When, as supplied by the caller.
        at: Timestamp,
    },
    /// Command: pass the current gate, or take a canary to 100%.
    Promote,
    /// Command: stop before the point of no return and remove the new version.
    Abort,
    /// Command: set the canary weight directly (`paas service canary -p N`).
    SetWeight {
        /// Percent of traffic to the new version.
        weight: u8,
    },
    /// Command: the deployer restarted from the stored status; re-issue what is pending.
    Resume,
    /// The lease was taken in this cluster.
    LeaseAcquired {
        /// Cluster.
        cluster: String,
    },
    /// Another release holds the lease in this cluster.
    LeaseDenied {
        /// Cluster.
        cluster: String,
        /// The holder (`<svc>-v<N>`).
        holder: String,
    },
    /// An object was applied (informational: progress lines).
    Applied {
        /// Cluster.
        cluster: String,
        /// Object.
        object: ObjectRef,
    },
    /// An object is ready (Deployment available, Job complete, ...).
    Ready {
        /// Cluster.
        cluster: String,
        /// Object.
        object: ObjectRef,
    },
    /// Something failed in a cluster: an object, a switch, a delete.
    Failed {
        /// Cluster.
        cluster: String,
        /// The object, when the failure is about one.
        object: Option<ObjectRef>,
        /// The reason (ImagePullBackOff, CrashLoopBackOff, quota, ...).
        reason: Reason,
        /// The latest event message.
        message: String,
    },
    /// Traffic in a cluster now sends `weight`% to `version`.
    TrafficSwitched {
        /// Cluster.
        cluster: String,
        /// The version receiving `weight`%.
        version: Version,
        /// Percent.
        weight: u8,
    },
    /// Every object of `version` is gone from the cluster.
    Deleted {
        /// Cluster.
        cluster: String,
        /// The deleted version.
        version: Version,
    },
    /// The objects of `version` were re-applied (a rolling update undone).
    Restored {
        /// Cluster.
        cluster: String,
        /// The restored version.
        version: Version,
    },
    /// The cluster did not answer.
    Unreachable {
        /// Cluster.
        cluster: String,
        /// The error.
        message: String,
    },
    /// The cluster answers again.
    Reachable {
        /// Cluster.
        cluster: String,
    },
    /// A timer the planner asked for fired.
    Timeout {
        /// Which one.
        timer: Timer,
    },
}

impl Event {
    /// The cluster an observation is about, if any.
    pub fn cluster(&self) -> Option<&str> {
        match self {
            Event::LeaseAcquired { cluster }
            | Event::LeaseDenied { cluster, .. }
            | Event::Applied { cluster, .. }
            | Event::Ready { cluster, .. }
            | Event::Failed { cluster, .. }
            | Event::TrafficSwitched { cluster, .. }
            | Event::Deleted { cluster, .. }
            | Event::Restored { cluster, .. }
            | Event::Unreachable { cluster, .. }
            | Event::Reachable { cluster } => Some(cluster),
            _ => None,
        }
    }
}

/// What the adapter must do. See the module docs for ordering and idempotency.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case", tag = "action")]
pub enum Action {
    /// Persist the returned release's status in every reachable cluster
    /// before performing the actions after this one.
    WriteStatus {
        /// Phase written (for progress lines).
        phase: Phase,
        /// Step written.
        step: Step,
    },
    /// Take the service's lease in `cluster` for `ttl_seconds` (renewed by
    /// the adapter while the release runs); answer with
    /// [`Event::LeaseAcquired`] or [`Event::LeaseDenied`].
    AcquireLease {
        /// Cluster.
        cluster: String,
        /// The holder identity and fencing token: `<svc>-v<N>`.
        holder: String,
        /// Time to live.
        ttl_seconds: u64,
    },
    /// Give the lease back in `cluster` (no answer expected).
    ReleaseLease {
        /// Cluster.
        cluster: String,
        /// The holder that gives it back.
        holder: String,
    },
    /// Server-side apply `objects` to `cluster` with `field_manager`
    /// (forcing conflicts on objects we own); answer with
    /// [`Event::Applied`] per object, or [`Event::Failed`]/[`Event::Unreachable`].
    Apply {
        /// Cluster.
        cluster: String,
        /// The version the objects belong to.
        version: Version,
        /// Their stage.
        stage: Stage,
        /// Field manager.
        field_manager: String,
        /// The objects, in order.
        objects: Vec<Object>,
    },
    /// Watch `objects` in `cluster` until each is ready ([`Event::Ready`]) or
    /// fails ([`Event::Failed`] with the reason), tied to the generation the
    /// last apply returned.
    WaitReady {
        /// Cluster.
        cluster: String,
        /// The version they belong to.
        version: Version,
        /// Their stage.
        stage: Stage,
        /// Objects still awaited.
        objects: Vec<ObjectRef>,
    },
    /// Apply the balancing `objects` with the balancer's field manager so
    /// that `weight`% of the service's traffic in `cluster` goes to `version`
    /// and the rest to `stable`; answer with [`Event::TrafficSwitched`].
    SwitchTraffic {
        /// Cluster.
        cluster: String,
        /// The version receiving `weight`%.
        version: Version,
        /// The version receiving the rest (`None`: nothing else serves).
        stable: Option<Version>,
        /// Percent.
        weight: u8,
        /// Field manager.
        field_manager: String,
        /// Balancing objects of this release for the cluster.
        objects: Vec<Object>,
    },
    /// Delete every object of `version` of the service in `cluster` (by its
    /// version label and ownerReferences); answer with [`Event::Deleted`].
    Delete {
        /// Cluster.
        cluster: String,
        /// The version to remove.
        version: Version,
    },
    /// Re-apply the stored manifests of `version` in `cluster` (undo of a
    /// rolling update); answer with [`Event::Restored`].
    Restore {
        /// Cluster.
        cluster: String,
        /// The version to bring back.
        version: Version,
    },
    /// Deliver [`Event::Timeout`] with this timer after `seconds`.
    /// A newer timer replaces it (the old one may still fire: it is ignored).
    StartTimer {
        /// The timer.
        timer: Timer,
        /// Delay.
        seconds: u64,
    },
    /// A command did not apply; nothing changed. Tell the person why.
    Rejected {
        /// The command.
        command: String,
        /// Why.
        reason: String,
    },
}

impl Action {
    /// The cluster the action is for, if any.
    pub fn cluster(&self) -> Option<&str> {
        match self {
            Action::AcquireLease { cluster, .. }
            | Action::ReleaseLease { cluster, .. }
            | Action::Apply { cluster, .. }
            | Action::WaitReady { cluster, .. }
            | Action::SwitchTraffic { cluster, .. }
            | Action::Delete { cluster, .. }
            | Action::Restore { cluster, .. } => Some(cluster),
            _ => None,
        }
    }
}

impl fmt::Display for Action {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Action::WriteStatus { phase, step } => write!(f, "write status {phase} {step:?}"),
            Action::AcquireLease {
                cluster, holder, ..
            } => {
                write!(f, "{cluster}: take lease for {holder}")
            }
            Action::ReleaseLease { cluster, holder } => {
                write!(f, "{cluster}: give back lease of {holder}")
            }
            Action::Apply {
                cluster,
                version,
                stage,
                objects,
                ..
            } => write!(
                f,
                "{cluster}: apply {} {stage} object(s) of {version}",
                objects.len()
            ),
            Action::WaitReady {
                cluster,
                version,
                objects,
                ..
            } => write!(
                f,
                "{cluster}: wait for {} object(s) of {version}",
                objects.len()
            ),
            Action::SwitchTraffic {
                cluster,
                version,
                stable,
                weight,
                ..
            } => match stable {
                Some(stable) => write!(
                    f,
                    "{cluster}: traffic {weight}% to {version}, rest to {stable}"
                ),
                None => write!(f, "{cluster}: traffic {weight}% to {version}"),
            },
            Action::Delete { cluster, version } => write!(f, "{cluster}: delete {version}"),
            Action::Restore { cluster, version } => write!(f, "{cluster}: restore {version}"),
            Action::StartTimer { timer, seconds } => {
                write!(f, "timer {:?}#{} in {seconds}s", timer.kind, timer.seq)
            }
            Action::Rejected { command, reason } => write!(f, "{command} rejected: {reason}"),
        }
    }
}

/// Advances a release by one event.
///
/// Pure and deterministic: the same release and event always give the same
/// result. The returned release must be stored (the first action says so
/// when it changed) and the actions performed by the adapter. The
/// [transition table](crate::planner#transitions) lists every case with its
/// precondition, guarantees and idempotency.
pub fn step(release: Release, event: &Event) -> (Release, Vec<Action>) {
    let mut planner = Planner {
        r: release,
        actions: Vec::new(),
        dirty: false,
    };
    planner.handle(event);
    planner.finish()
}

/// One step in progress: the release being changed and the actions so far.
struct Planner {
    r: Release,
    actions: Vec<Action>,
    /// The status changed in a way worth persisting.
    dirty: bool,
}

impl Planner {
    fn finish(self) -> (Release, Vec<Action>) {
        let Planner {
            r,
            mut actions,
            dirty,
        } = self;
        let mut r = r;
        if dirty {
            r.status.revision = r.status.revision.wrapping_add(1);
            actions.insert(
                0,
                Action::WriteStatus {
                    phase: r.status.phase,
                    step: r.status.step,
                },
            );
        }
        (r, actions)
    }

    fn handle(&mut self, event: &Event) {
        if let Some(cluster) = event.cluster()
            && !self.r.status.clusters.contains_key(cluster)
        {
            // An observation about a cluster outside the environment: not ours.
            return;
        }
        match event {
            Event::Start { at } => self.on_start(at),
            Event::Promote => self.on_promote(),
            Event::Abort => self.on_abort(),
            Event::SetWeight { weight } => self.on_set_weight(*weight),
            Event::Resume => self.on_resume(),
            Event::LeaseAcquired { cluster } => self.on_lease_acquired(cluster),
            Event::LeaseDenied { cluster, holder } => self.on_lease_denied(cluster, holder),
            Event::Applied { cluster, .. } => {
                // Informational: the adapter shows it; `applied` was set when
                // the apply was issued, because a crash may hide this event.
                let _ = cluster;
            }
            Event::Ready { cluster, object } => self.on_ready(cluster, object),
            Event::Failed {
                cluster,
                object,
                reason,
                message,
            } => self.on_failed(Failure {
                cluster: cluster.clone(),
                object: object.clone(),
                reason: reason.clone(),
                message: message.clone(),
            }),
            Event::TrafficSwitched {
                cluster,
                version,
                weight,
            } => self.on_switched(cluster, *version, *weight),
            Event::Deleted { cluster, version } => self.on_deleted(cluster, *version),
            Event::Restored { cluster, version } => self.on_restored(cluster, *version),
            Event::Unreachable { cluster, message } => self.on_unreachable(cluster, message),
            Event::Reachable { cluster } => self.on_reachable(cluster),
            Event::Timeout { timer } => self.on_timeout(*timer),
        }
    }

    // ----- helpers -------------------------------------------------------

    fn clusters(&self) -> Vec<String> {
        self.r.spec.clusters.clone()
    }

    fn holder(&self) -> String {
        self.r.resource_name()
    }

    fn goto(&mut self, step: Step) {
        self.r.status.step = step;
        if !matches!(
            step,
            Step::AbortTraffic { .. } | Step::AbortDelete { .. } | Step::Done
        ) {
            self.r.status.stage = Some(step.stage());
        }
        self.dirty = true;
    }

    fn reach(&mut self, stage: Stage) {
        if self.r.status.reached.is_none_or(|r| r < stage) {
            self.r.status.reached = Some(stage);
        }
    }

    fn reset_clusters(&mut self) {
        for state in self.r.status.clusters.values_mut() {
            state.done = false;
            state.retries = 0;
            state.pending.clear();
        }
    }

    fn all_done(&self) -> bool {
        self.r.status.clusters.values().all(|c| c.done)
    }

    fn start_timer(&mut self, kind: TimerKind) {
        let options = &self.r.spec.options;
        let seconds = match kind {
            TimerKind::Deadline => options.stage_deadline_seconds,
            TimerKind::Drain => options.drain_seconds,
            TimerKind::CanaryStep => options.canary_step_seconds,
        };
        self.r.status.timer_seq = self.r.status.timer_seq.wrapping_add(1);
        let timer = Timer {
            kind,
            seq: self.r.status.timer_seq,
        };
        self.r.status.timer = Some(timer);
        self.dirty = true;
        self.actions.push(Action::StartTimer { timer, seconds });
    }

    fn reject(&mut self, command: &str, reason: String) {
        self.actions.push(Action::Rejected {
            command: command.to_owned(),
            reason,
        });
    }

    fn record(&mut self, failure: Failure) {
        if !self.r.status.failures.contains(&failure) {
            self.r.status.failures.push(failure);
        }
        self.dirty = true;
    }

    /// Before the point of no return and not already winding down.
    fn abortable(&self) -> bool {
        !self.r.status.point_of_no_return
            && !matches!(
                self.r.status.step,
                Step::NotStarted
                    | Step::AbortTraffic { .. }
                    | Step::AbortDelete { .. }
                    | Step::Done
            )
    }

    fn next_canary_step(&self) -> Option<u8> {
        let weight = self.r.status.weight;
        self.r
            .spec
            .options
            .canary_steps
            .iter()
            .copied()
            .find(|&w| w > weight)
    }

    fn is_canary(&self) -> bool {
        self.r.spec.strategy == Strategy::Canary
            && self.r.spec.previous.is_some()
            && !self.r.spec.options.canary_steps.is_empty()
    }

    // ----- issuing per-cluster work (also used to re-issue) --------------

    /// Issues what the current step still needs from `cluster`.
    fn issue(&mut self, cluster: &str) {
        let done = self.r.status.clusters.get(cluster).is_none_or(|c| c.done);
        if done {
            return;
        }
        let spec = &self.r.spec;
        let cluster_owned = cluster.to_owned();
        match self.r.status.step {
            Step::Leasing => self.actions.push(Action::AcquireLease {
                cluster: cluster_owned,
                holder: self.r.resource_name(),
                ttl_seconds: spec.options.lease_seconds,
            }),
            Step::Rollout { stage } => {
                let version = spec.serving();
                if spec.applies_objects() {
                    self.actions.push(Action::Apply {
                        cluster: cluster_owned.clone(),
                        version,
                        stage,
                        field_manager: FIELD_MANAGER.to_owned(),
                        objects: spec.objects(cluster, stage).to_vec(),
                    });
                    if let Some(state) = self.r.status.clusters.get_mut(cluster) {
                        state.applied = true;
                    }
                }
                let objects = self
                    .r
                    .status
                    .clusters
                    .get(cluster)
                    .map(|c| c.pending.iter().cloned().collect())
                    .unwrap_or_default();
                self.actions.push(Action::WaitReady {
                    cluster: cluster_owned,
                    version,
                    stage,
                    objects,
                });
            }
            Step::Switching { weight } => self.issue_switch(cluster, weight),
            Step::AbortTraffic { .. } => self.issue_switch(cluster, 0),
            Step::Cleanup => {
                if let Some(previous) = spec.previous {
                    self.actions.push(Action::Delete {
                        cluster: cluster_owned,
                        version: previous,
                    });
                }
            }
            Step::AbortDelete { .. } => {
                let action = match (spec.strategy, spec.previous) {
                    (Strategy::Rolling, Some(previous)) => Action::Restore {
                        cluster: cluster_owned,
                        version: previous,
                    },
                    _ => Action::Delete {
                        cluster: cluster_owned,
                        version: spec.serving(),
                    },
                };
                self.actions.push(action);
            }
            Step::NotStarted
            | Step::Gate { .. }
            | Step::CanaryHold
            | Step::Draining
            | Step::Done => {}
        }
    }

    fn issue_switch(&mut self, cluster: &str, weight: u8) {
        let spec = &self.r.spec;
        self.actions.push(Action::SwitchTraffic {
            cluster: cluster.to_owned(),
            version: spec.serving(),
            stable: spec.previous,
            weight,
            field_manager: BALANCER_FIELD_MANAGER.to_owned(),
            objects: spec.objects(cluster, Stage::Balancing).to_vec(),
        });
    }

    fn issue_all(&mut self) {
        for cluster in self.clusters() {
            self.issue(&cluster);
        }
    }

    // ----- transitions ---------------------------------------------------

    /// `Start`.
    /// Pre: `NotStarted`. Guarantees: phase `running`, the start time recorded,
    /// the lease asked for in every cluster (all or none) under a deadline; no
    /// object is touched before every lease is held.
    /// Idempotency: a second `start` is rejected and changes nothing.
    fn on_start(&mut self, at: &Timestamp) {
        if self.r.status.step != Step::NotStarted {
            self.reject("start", format!("already {}", self.r.status.phase));
            return;
        }
        self.r.status.phase = Phase::Running;
        self.r.status.started_at = Some(at.clone());
        self.reset_clusters();
        self.goto(Step::Leasing);
        self.issue_all();
        self.start_timer(TimerKind::Deadline);
    }

    /// `LeaseAcquired`.
    /// Pre: `Leasing`. Guarantees: the cluster is marked (and persisted at once:
    /// a crash must not forget a lease it holds); when every cluster granted it,
    /// the init stage starts. After the release finished or began aborting
    /// (another cluster refused), a late grant is given back at once so no lease
    /// outlives the release.
    /// Idempotency: a duplicate grant changes nothing; a late duplicate is given
    /// back again (giving back is idempotent).
    fn on_lease_acquired(&mut self, cluster: &str) {
        let step = self.r.status.step;
        let Some(state) = self.r.status.clusters.get_mut(cluster) else {
            return;
        };
        state.reachable = true;
        match step {
            Step::Leasing if !state.done => {
                state.lease = true;
                state.done = true;
                // Persisted at once: a crash must not forget a lease it holds.
                self.dirty = true;
                if self.all_done() {
                    self.enter_rollout(Stage::Init);
                }
            }
            Step::Done | Step::AbortDelete { .. } | Step::AbortTraffic { .. } if !state.lease => {
                let holder = self.holder();
                self.actions.push(Action::ReleaseLease {
                    cluster: cluster.to_owned(),
                    holder,
                });
            }
            _ => {}
        }
    }

    /// `LeaseDenied`.
    /// Pre: `Leasing`. Guarantees: another release runs, so this one fails
    /// without touching any object and gives back the leases it got.
    /// Idempotency: outside `Leasing` (a second denial, a late one) nothing
    /// changes.
    fn on_lease_denied(&mut self, cluster: &str, holder: &str) {
        if self.r.status.step != Step::Leasing {
            return;
        }
        self.fail(Failure {
            cluster: cluster.to_owned(),
            object: None,
            reason: Reason::LeaseHeld,
            message: format!("lease held by {holder}"),
        });
    }

    /// Enters a rollout stage (init or application).
    /// Pre: the previous stage is done in every cluster (the barrier), or the
    /// leases are all held (init). Guarantees: the stage's objects are applied
    /// in every cluster (a traffic-only rollback applies nothing and only waits
    /// for the target's objects) and awaited under a deadline; a stage with no
    /// object anywhere completes at once. `applied` is set before the apply
    /// action is returned, so an abort after a crash still deletes them.
    /// Idempotency: only entered by a transition; re-issuing its work after a
    /// crash (`Resume`) or on `Reachable` repeats the same server-side applies.
    fn enter_rollout(&mut self, stage: Stage) {
        self.reset_clusters();
        let skip_init = stage == Stage::Init && !self.r.spec.applies_objects();
        for cluster in self.clusters() {
            let pending: std::collections::BTreeSet<ObjectRef> = if skip_init {
                Default::default()
            } else {
                self.r
                    .spec
                    .objects(&cluster, stage)
                    .iter()
                    .map(|o| o.reference.clone())
                    .collect()
            };
            if let Some(state) = self.r.status.clusters.get_mut(&cluster) {
                state.done = pending.is_empty();
                state.pending = pending;
            }
        }
        self.reach(stage);
        self.goto(Step::Rollout { stage });
        if self.all_done() {
            self.stage_done(stage);
            return;
        }
        self.issue_all();
        self.start_timer(TimerKind::Deadline);
    }

    /// `Ready`.
    /// Pre: `Rollout(stage)` and the object awaited in that cluster.
    /// Guarantees: the object is no longer awaited; when nothing is awaited in
    /// any cluster the stage is done (the barrier) and the next step starts.
    /// Idempotency: a `Ready` for an object not awaited (another stage, a
    /// duplicate, a stale one) changes nothing.
    fn on_ready(&mut self, cluster: &str, object: &ObjectRef) {
        let Step::Rollout { stage } = self.r.status.step else {
            return;
        };
        let Some(state) = self.r.status.clusters.get_mut(cluster) else {
            return;
        };
        state.reachable = true;
        if state.pending.remove(object) && state.pending.is_empty() {
            state.done = true;
            self.dirty = true;
            if self.all_done() {
                self.stage_done(stage);
            }
        }
    }

    /// The barrier of a rollout stage passed.
    /// Pre: every cluster done with `stage`. Guarantees: with `--manual` (or the
    /// blue-green gate after application) the planner waits at a gate;
    /// otherwise init goes on to application and application to balancing.
    /// Idempotency: called once per stage, from the transition that completed
    /// the barrier (duplicates of that event are ignored before reaching it).
    fn stage_done(&mut self, stage: Stage) {
        self.r.status.timer = None;
        let manual = self.r.spec.options.manual;
        match stage {
            Stage::Init if manual => self.goto(Step::Gate { after: Stage::Init }),
            Stage::Init => self.enter_rollout(Stage::Application),
            Stage::Application if manual || self.r.spec.strategy == Strategy::BlueGreen => self
                .goto(Step::Gate {
                    after: Stage::Application,
                }),
            Stage::Application => self.start_balancing(),
            Stage::Balancing | Stage::Cleanup => {}
        }
    }

    /// Balancing.
    /// Pre: the application stage is done in every cluster (and its gate passed).
    /// Guarantees: a canary moves to its first weight (still before the point of
    /// no return); every other strategy crosses the point of no return, recorded
    /// in the status written before the first switch action (write-ahead), and
    /// switches to 100% everywhere.
    /// Idempotency: reached once; a crash after it resumes in `Switching`, whose
    /// switches are re-issued as they were.
    fn start_balancing(&mut self) {
        self.reach(Stage::Balancing);
        if self.is_canary() {
            let first = self.r.spec.options.canary_steps[0];
            self.switch(first);
        } else {
            self.r.status.point_of_no_return = true;
            self.switch(100);
        }
    }

    /// Asks every cluster to set `weight`% for the serving version.
    /// Pre: a canary before the point of no return (any weight), or the point of
    /// no return already recorded (100%). Guarantees: every cluster not lagging
    /// must confirm (`TrafficSwitched`) under a deadline; a lagging cluster is
    /// not asked again (sync brings it).
    /// Idempotency: setting a weight is an apply; re-issuing it is harmless.
    fn switch(&mut self, weight: u8) {
        self.reset_clusters();
        let lagging: Vec<String> = self.r.status.lagging.keys().cloned().collect();
        for cluster in lagging {
            if let Some(state) = self.r.status.clusters.get_mut(&cluster) {
                state.done = true;
            }
        }
        self.r.status.weight = weight;
        self.goto(Step::Switching { weight });
        self.issue_all();
        self.start_timer(TimerKind::Deadline);
    }

    /// `TrafficSwitched`.
    /// Pre: `Switching(w)` with weight `w` for the serving version, or
    /// `AbortTraffic` with 0%. Guarantees: the cluster is marked and its weight
    /// recorded; when all confirmed: at 100% the drain delay starts (or, with
    /// nothing to drain, balancing ends), below 100% the canary holds, in
    /// `AbortTraffic` the new objects are deleted.
    /// Idempotency: other weights or versions, and duplicates, are stale and
    /// ignored.
    fn on_switched(&mut self, cluster: &str, version: Version, weight: u8) {
        let serving = self.r.spec.serving();
        let step = self.r.status.step;
        let Some(state) = self.r.status.clusters.get_mut(cluster) else {
            return;
        };
        state.reachable = true;
        if version != serving {
            return;
        }
        let expected = match step {
            Step::Switching { weight } => weight,
            Step::AbortTraffic { .. } => 0,
            _ => return,
        };
        if weight != expected || state.done {
            return;
        }
        state.weight = weight;
        state.done = true;
        self.dirty = true;
        if !self.all_done() {
            return;
        }
        self.r.status.timer = None;
        match step {
            Step::AbortTraffic { then } => self.start_abort_delete(then),
            _ if weight == 100 => {
                if self.r.spec.previous.is_some() {
                    self.goto(Step::Draining);
                    self.start_timer(TimerKind::Drain);
                } else {
                    self.after_balancing();
                }
            }
            _ => {
                self.goto(Step::CanaryHold);
                if self.next_canary_step().is_some() {
                    self.start_timer(TimerKind::CanaryStep);
                }
            }
        }
    }

    /// Balancing is over (drained, or nothing to drain).
    /// Pre: traffic at 100% for the serving version in every cluster not
    /// lagging. Guarantees: `--manual` waits at the balancing gate, otherwise
    /// cleanup starts.
    /// Idempotency: reached once, from the drain timer or the last switch
    /// confirmation (both checked to be current).
    fn after_balancing(&mut self) {
        if self.r.spec.options.manual {
            self.goto(Step::Gate {
                after: Stage::Balancing,
            });
        } else {
            self.start_cleanup();
        }
    }

    /// Cleanup.
    /// Pre: balancing done (and its gate passed). Guarantees: the old version is
    /// deleted in every cluster that was switched (a lagging cluster still
    /// serves it and keeps it); nothing to delete (first deploy, rolling update
    /// in place) finishes at once.
    /// Idempotency: deletes are re-issued on retries and resume; deleting what
    /// is gone is harmless.
    fn start_cleanup(&mut self) {
        self.reach(Stage::Cleanup);
        let deletes = self.r.spec.previous.is_some()
            && (self.r.spec.strategy != Strategy::Rolling || !self.r.spec.applies_objects());
        if !deletes {
            self.goto(Step::Cleanup);
            self.finish_forward();
            return;
        }
        self.reset_clusters();
        let lagging: Vec<String> = self.r.status.lagging.keys().cloned().collect();
        for cluster in lagging {
            if let Some(state) = self.r.status.clusters.get_mut(&cluster) {
                state.done = true;
            }
        }
        self.goto(Step::Cleanup);
        if self.all_done() {
            self.finish_forward();
            return;
        }
        self.issue_all();
        self.start_timer(TimerKind::Deadline);
    }

    /// `Deleted`.
    /// Pre: `Cleanup` for the previous version, or `AbortDelete` for the serving
    /// one. Guarantees: the cluster is marked; when all are done the release
    /// finishes (forward or backward).
    /// Idempotency: other versions, other steps and duplicates are ignored.
    fn on_deleted(&mut self, cluster: &str, version: Version) {
        let expected = match self.r.status.step {
            Step::Cleanup => self.r.spec.previous,
            Step::AbortDelete { .. } => Some(self.r.spec.serving()),
            _ => None,
        };
        if expected != Some(version) {
            return;
        }
        self.mark_wind_down(cluster);
    }

    /// `Restored`.
    /// Pre: `AbortDelete` of a rolling release, for the previous version.
    /// Guarantees: the previous version's objects are back in the cluster; when
    /// all are, the release finishes backward.
    /// Idempotency: other versions, other steps and duplicates are ignored.
    fn on_restored(&mut self, cluster: &str, version: Version) {
        if matches!(self.r.status.step, Step::AbortDelete { .. })
            && self.r.spec.previous == Some(version)
        {
            self.mark_wind_down(cluster);
        }
    }

    /// Marks a cluster done in `Cleanup` or `AbortDelete`.
    /// Pre: the deletion or restore this step asked for was confirmed.
    /// Guarantees: in `AbortDelete` the cluster no longer holds new objects
    /// (`applied` cleared); when every cluster is done the release ends.
    /// Idempotency: a cluster already done is left as it is.
    fn mark_wind_down(&mut self, cluster: &str) {
        let Some(state) = self.r.status.clusters.get_mut(cluster) else {
            return;
        };
        state.reachable = true;
        if state.done {
            return;
        }
        state.done = true;
        if matches!(self.r.status.step, Step::AbortDelete { .. }) {
            state.applied = false;
        }
        self.dirty = true;
        if self.all_done() {
            self.r.status.timer = None;
            match self.r.status.step {
                Step::Cleanup => self.finish_forward(),
                Step::AbortDelete { then } => self.finish_backward(then),
                _ => {}
            }
        }
    }

    /// `Failed`.
    /// Pre: the release runs. Guarantees: before the point of no return
    /// (leasing, a rollout, a gate, a canary weight) any failure aborts the
    /// release as failed (invariant 2). After it, or while aborting, the failure
    /// is recorded with its cluster, object and reason and the cluster is
    /// retried when the step's deadline fires; past the retries it is reported
    /// in `lagging` (invariant 3).
    /// Idempotency: the same failure is recorded once; after the release
    /// finished, failures are ignored.
    fn on_failed(&mut self, failure: Failure) {
        let step = self.r.status.step;
        if matches!(step, Step::NotStarted | Step::Done) {
            return;
        }
        if self.abortable() {
            self.fail(failure);
        } else {
            if let Some(state) = self.r.status.clusters.get_mut(&failure.cluster) {
                state.reachable = true;
            }
            self.record(failure);
        }
    }

    /// `Unreachable`.
    /// Pre: none. Guarantees: while leasing, the lease cannot be taken
    /// everywhere, so the release fails untouched (all or none). Otherwise the
    /// cluster is marked and its work is re-issued when it is reachable again;
    /// the step's deadline decides (abort before the point of no return, retry
    /// and report after).
    /// Idempotency: repeated reports change nothing more.
    fn on_unreachable(&mut self, cluster: &str, message: &str) {
        let step = self.r.status.step;
        let Some(state) = self.r.status.clusters.get_mut(cluster) else {
            return;
        };
        if matches!(step, Step::NotStarted | Step::Done) {
            state.reachable = false;
            return;
        }
        if state.reachable {
            state.reachable = false;
            self.dirty = true;
        }
        if step == Step::Leasing && !state.done {
            self.fail(Failure {
                cluster: cluster.to_owned(),
                object: None,
                reason: Reason::Unreachable,
                message: message.to_owned(),
            });
        }
    }

    /// `Reachable`.
    /// Pre: none. Guarantees: the cluster answers again and its pending work of
    /// the current step is issued again.
    /// Idempotency: re-issuing is harmless (every action is idempotent).
    fn on_reachable(&mut self, cluster: &str) {
        let Some(state) = self.r.status.clusters.get_mut(cluster) else {
            return;
        };
        if !state.reachable {
            state.reachable = true;
            self.dirty = true;
        }
        self.issue(cluster);
    }

    /// `Timeout`.
    /// Pre: the timer is the current one (older ones are stale). Guarantees:
    /// - Deadline before the point of no return: every cluster not done gets a
    ///   failure (unreachable, or ProgressDeadlineExceeded naming the first
    ///   object still awaited) and the release aborts as failed.
    /// - Deadline after it (switch, cleanup) or while aborting: clusters not done
    ///   are retried; past `max_retries` they are reported as lagging and the
    ///   step completes without them.
    /// - Drain: cleanup starts (or the manual gate after balancing).
    /// - Canary step: the next canary weight is set everywhere.
    ///
    /// Idempotency: a timer fires once; a stale or repeated timeout changes
    /// nothing.
    fn on_timeout(&mut self, timer: Timer) {
        if self.r.status.timer != Some(timer) {
            return;
        }
        self.r.status.timer = None;
        self.dirty = true;
        match (timer.kind, self.r.status.step) {
            (TimerKind::Drain, Step::Draining) => self.after_balancing(),
            (TimerKind::CanaryStep, Step::CanaryHold) => {
                if let Some(next) = self.next_canary_step() {
                    self.switch(next);
                }
            }
            (TimerKind::Deadline, _) if self.abortable() => {
                let failures = self.deadline_failures();
                let mut failures = failures.into_iter();
                if let Some(first) = failures.next() {
                    for failure in failures {
                        self.record(failure);
                    }
                    self.fail(first);
                }
            }
            (TimerKind::Deadline, _) => self.retry_or_leave_behind(),
            _ => {}
        }
    }

    /// The failures a deadline before the point of no return gives: one per
    /// cluster not done, naming the cluster, the first object still awaited and
    /// the reason (`Unreachable` or `ProgressDeadlineExceeded`), never "timed
    /// out waiting for the condition". Pure.
    fn deadline_failures(&self) -> Vec<Failure> {
        let mut failures = Vec::new();
        for cluster in &self.r.spec.clusters {
            let Some(state) = self.r.status.clusters.get(cluster) else {
                continue;
            };
            if state.done {
                continue;
            }
            let failure = if !state.reachable {
                Failure {
                    cluster: cluster.clone(),
                    object: None,
                    reason: Reason::Unreachable,
                    message: "no answer before the stage deadline".to_owned(),
                }
            } else {
                let what = match self.r.status.step {
                    Step::Leasing => "lease not granted",
                    Step::Switching { .. } => "traffic switch not confirmed",
                    _ => "not ready",
                };
                Failure {
                    cluster: cluster.clone(),
                    object: state.pending.iter().next().cloned(),
                    reason: Reason::ProgressDeadlineExceeded,
                    message: format!(
                        "{what} within {}s",
                        self.r.spec.options.stage_deadline_seconds
                    ),
                }
            };
            failures.push(failure);
        }
        failures
    }

    /// A deadline after the point of no return, or while aborting.
    /// Pre: the current deadline fired. Guarantees: every cluster not done is
    /// retried (its work re-issued under a new deadline) up to `max_retries`
    /// times; past that it is marked done and listed in `lagging` with its last
    /// failure (never silently: invariant 3), and when every cluster is done or
    /// lagging the step completes.
    /// Idempotency: only the current deadline reaches it; each firing counts one
    /// retry.
    fn retry_or_leave_behind(&mut self) {
        let max = self.r.spec.options.max_retries;
        let mut retry = Vec::new();
        for cluster in self.clusters() {
            let last = self.last_failure(&cluster);
            let Some(state) = self.r.status.clusters.get_mut(&cluster) else {
                continue;
            };
            if state.done {
                continue;
            }
            state.retries += 1;
            if state.retries > max {
                state.done = true;
                let reason = if state.reachable {
                    Reason::ProgressDeadlineExceeded
                } else {
                    Reason::Unreachable
                };
                let failure = last.unwrap_or(Failure {
                    cluster: cluster.clone(),
                    object: None,
                    reason,
                    message: format!("gave up after {max} retries"),
                });
                self.r.status.lagging.insert(cluster.clone(), failure);
            } else {
                retry.push(cluster);
            }
        }
        if self.all_done() {
            match self.r.status.step {
                Step::Switching { weight: 100 } => {
                    if self.r.spec.previous.is_some() {
                        self.goto(Step::Draining);
                        self.start_timer(TimerKind::Drain);
                    } else {
                        self.after_balancing();
                    }
                }
                Step::Cleanup => self.finish_forward(),
                Step::AbortTraffic { then } => self.start_abort_delete(then),
                Step::AbortDelete { then } => self.finish_backward(then),
                _ => {}
            }
            return;
        }
        for cluster in retry {
            self.issue(&cluster);
        }
        self.start_timer(TimerKind::Deadline);
    }

    fn last_failure(&self, cluster: &str) -> Option<Failure> {
        self.r
            .status
            .failures
            .iter()
            .rev()
            .find(|f| f.cluster == cluster)
            .cloned()
    }

    /// `promote`.
    /// Pre: a gate, or a canary before the point of no return. Guarantees: at a
    /// gate the next stage starts; a canary (holding or moving between weights)
    /// crosses the point of no return, written before the switch, and goes to
    /// 100% everywhere.
    /// Idempotency: anywhere else (a second promote included) it is rejected and
    /// changes nothing.
    fn on_promote(&mut self) {
        match self.r.status.step {
            Step::Gate { after } => {
                self.r.status.timer = None;
                match after {
                    Stage::Init => self.enter_rollout(Stage::Application),
                    Stage::Application => self.start_balancing(),
                    Stage::Balancing | Stage::Cleanup => self.start_cleanup(),
                }
            }
            Step::CanaryHold | Step::Switching { .. } if !self.r.status.point_of_no_return => {
                self.r.status.point_of_no_return = true;
                self.switch(100);
            }
            step => self.reject("promote", format!("nothing to promote at {step:?}")),
        }
    }

    /// `abort`.
    /// Pre: before the point of no return and not already winding down.
    /// Guarantees: traffic goes back to 0% for the new version where it moved,
    /// then the new objects are deleted (a rolling update is restored), and the
    /// release ends as aborted.
    /// Idempotency: after the point of no return it is rejected (the release
    /// only moves forward: roll back instead); while aborting or finished it is
    /// rejected and changes nothing.
    fn on_abort(&mut self) {
        if self.abortable() {
            self.wind_down(Phase::Aborted);
        } else if self.r.status.point_of_no_return && !self.r.status.phase.is_finished() {
            self.reject(
                "abort",
                "past the point of no return: the release only moves forward; roll back instead"
                    .to_owned(),
            );
        } else {
            self.reject(
                "abort",
                format!("nothing to abort ({})", self.r.status.phase),
            );
        }
    }

    /// `SetWeight` (`canary -p N`).
    /// Pre: a running canary before the point of no return. Guarantees: 100 is a
    /// promote; any other weight is set everywhere, and the step timer then
    /// continues from the first canary step above it.
    /// Idempotency: anywhere else it is rejected; setting the same weight again
    /// re-issues the same switches.
    fn on_set_weight(&mut self, weight: u8) {
        let canary_step = matches!(
            self.r.status.step,
            Step::CanaryHold | Step::Switching { .. }
        );
        if !self.is_canary() || !canary_step || self.r.status.point_of_no_return {
            self.reject(
                "set weight",
                format!(
                    "only a running canary takes a weight (now {:?})",
                    self.r.status.step
                ),
            );
            return;
        }
        if weight >= 100 {
            self.on_promote();
        } else {
            self.switch(weight);
        }
    }

    /// `Resume`.
    /// Pre: the deployer restarted from the stored release. Guarantees: the
    /// pending work of the current step is issued again in every cluster not
    /// done, and the step's timer is started anew (a timer of the crashed
    /// process may never fire). At a gate it waits again. A finished release
    /// gives its lease back once more in every cluster: the crash may have come
    /// between the final status write and the releases.
    /// Idempotency: harmless to repeat (giving back checks the holder).
    fn on_resume(&mut self) {
        let step = self.r.status.step;
        match step {
            Step::NotStarted | Step::Gate { .. } => {}
            Step::Done => {
                let holder = self.holder();
                for cluster in self.clusters() {
                    self.actions.push(Action::ReleaseLease {
                        cluster,
                        holder: holder.clone(),
                    });
                }
            }
            Step::CanaryHold => {
                if self.next_canary_step().is_some() {
                    self.start_timer(TimerKind::CanaryStep);
                }
            }
            Step::Draining => self.start_timer(TimerKind::Drain),
            _ => {
                self.issue_all();
                self.start_timer(TimerKind::Deadline);
            }
        }
    }

    // ----- endings -------------------------------------------------------

    /// Records `failure` and winds the release down as failed.
    /// Pre: before the point of no return (callers check `abortable`).
    fn fail(&mut self, failure: Failure) {
        self.record(failure);
        self.wind_down(Phase::Failed);
    }

    /// Winding down before the point of no return.
    /// Pre: `abortable`. Guarantees: if traffic moved (a canary), every cluster
    /// is asked for 0% first (`AbortTraffic`); otherwise the new objects are
    /// deleted at once (`AbortDelete`). The release ends `then` (failed or
    /// aborted). The old version is never touched (invariant 2).
    /// Idempotency: entered once: afterwards the release is no longer
    /// abortable.
    fn wind_down(&mut self, then: Phase) {
        let traffic_moved = self.r.status.weight > 0
            || matches!(
                self.r.status.step,
                Step::Switching { .. } | Step::CanaryHold
            )
            || self.r.status.clusters.values().any(|c| c.weight > 0);
        self.r.status.timer = None;
        if traffic_moved {
            self.reset_clusters();
            self.r.status.weight = 0;
            self.goto(Step::AbortTraffic { then });
            self.issue_all();
            self.start_timer(TimerKind::Deadline);
        } else {
            self.start_abort_delete(then);
        }
    }

    /// Deleting the new objects after traffic went back to 0% (or never
    /// moved). A cluster whose 0% was never confirmed (given up in
    /// `AbortTraffic`: it refused, or did not answer) may still send part of
    /// its traffic to the new version, so its objects are kept: deleting
    /// them would leave that traffic pointing at nothing (invariant 1). It
    /// stays in [`crate::ReleaseStatus::lagging`] with the reason, and sync
    /// finishes the job (the failed or aborted release is not
    /// authoritative: sync sets the previous version's 100% and then
    /// deletes the new one).
    /// Idempotency: entered once per abort; its deletes are re-issued on
    /// retries and resume (deleting what is gone is harmless).
    fn start_abort_delete(&mut self, then: Phase) {
        let from_traffic = matches!(self.r.status.step, Step::AbortTraffic { .. });
        let number = self.r.spec.serving();
        self.reset_clusters();
        for (name, state) in self.r.status.clusters.iter_mut() {
            let unconfirmed = from_traffic && self.r.status.lagging.contains_key(name);
            state.done = !state.applied || unconfirmed;
            if unconfirmed && let Some(failure) = self.r.status.lagging.get_mut(name) {
                failure.message = format!(
                    "{}; traffic not confirmed back at 0%, objects of {number} kept",
                    failure.message
                );
            }
        }
        self.goto(Step::AbortDelete { then });
        if self.all_done() {
            self.finish_backward(then);
            return;
        }
        self.issue_all();
        self.start_timer(TimerKind::Deadline);
    }

    /// Ends a release that went forward.
    /// Pre: cleanup done in every cluster (or nothing to clean). Guarantees:
    /// `succeeded` when no cluster lags, else `incomplete` with the lagging
    /// clusters listed (invariants 3 and 4); the leases are given back.
    fn finish_forward(&mut self) {
        let phase = if self.r.status.lagging.is_empty() {
            Phase::Succeeded
        } else {
            Phase::Incomplete
        };
        self.end(phase);
    }

    /// Ends a release that was wound down.
    /// Pre: every cluster done with `AbortDelete` (deleted, restored, or given
    /// up). Guarantees: every cluster that may still hold new objects (or
    /// traffic to them) is listed in `lagging` with its last failure, so sync
    /// finishes it; the release ends `then`; the leases are given back.
    fn finish_backward(&mut self, then: Phase) {
        // Clusters whose new objects could not be deleted are reported.
        let leftovers: Vec<String> = self
            .r
            .status
            .clusters
            .iter()
            .filter(|(_, c)| c.applied)
            .map(|(name, _)| name.clone())
            .collect();
        for cluster in leftovers {
            if !self.r.status.lagging.contains_key(&cluster) {
                let failure = self.last_failure(&cluster).unwrap_or(Failure {
                    cluster: cluster.clone(),
                    object: None,
                    reason: Reason::Unreachable,
                    message: format!(
                        "objects of {} may remain (no traffic)",
                        self.r.spec.serving()
                    ),
                });
                self.r.status.lagging.insert(cluster, failure);
            }
        }
        self.end(then);
    }

    /// The end of every run: `phase` is written with step `Done`, no timer,
    /// every cluster done and nothing awaited, and each lease this release holds
    /// is given back.
    /// Idempotency: a finished release takes no further transition (only
    /// `Resume` gives the leases back again).
    fn end(&mut self, phase: Phase) {
        self.r.status.phase = phase;
        self.r.status.timer = None;
        self.goto(Step::Done);
        let holder = self.holder();
        for cluster in self.clusters() {
            if let Some(state) = self.r.status.clusters.get_mut(&cluster) {
                state.done = true;
                state.pending.clear();
                if state.lease {
                    state.lease = false;
                    self.actions.push(Action::ReleaseLease {
                        cluster,
                        holder: holder.clone(),
                    });
                }
            }
        }
    }
}

#[cfg(test)]
mod tests;
