//! The Release model: what the `Release` custom resource holds.
//!
//! [`ReleaseSpec`] is fixed when the release is created (it is the CR's
//! `spec`); [`ReleaseStatus`] is the planner's state (the CR's `status`), so a
//! deployer that crashes reads the Release back and resumes where it stopped.
//! Maps are `BTreeMap` and lists keep the caller's order, so serialised output
//! is deterministic.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt;
use std::str::FromStr;

use app_toml::Strategy;
use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::Error;
use crate::planner::Timer;

/// The label the manifest generator puts on every versioned object: the
/// release number `v<N>` whose objects they are. Deleting a version and
/// telling which versions are live both go by it.
pub const RELEASE_LABEL: &str = "paas.io/release";

/// A release number `v<N>`: per service and environment, the same in every
/// cluster, strictly increasing. It also labels the objects of that version
/// (`<svc>-v<N>`). Serialised as the text `"v6"`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct Version(pub u64);

impl Version {
    /// The next release number.
    pub fn next(self) -> Version {
        Version(self.0.saturating_add(1))
    }
}

impl fmt::Display for Version {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "v{}", self.0)
    }
}

impl FromStr for Version {
    type Err = Error;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        text.strip_prefix('v')
            .filter(|digits| !digits.is_empty() && digits.bytes().all(|b| b.is_ascii_digit()))
            .and_then(|digits| digits.parse().ok())
            .map(Version)
            .ok_or_else(|| Error::BadVersion {
                text: text.to_owned(),
            })
    }
}

impl TryFrom<String> for Version {
    type Error = Error;

    fn try_from(text: String) -> Result<Self, Self::Error> {
        text.parse()
    }
}

impl From<Version> for String {
    fn from(version: Version) -> String {
        version.to_string()
    }
}

/// A point in time as RFC 3339 text, supplied by the caller (the planner
/// holds no clock and never compares times).
#[derive(Debug, Clone, Default, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(transparent)]
pub struct Timestamp(pub String);

impl fmt::Display for Timestamp {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// The stages of a rollout, in order. Each stage starts in every cluster at
/// once and the next one starts only when the current one is done in all
/// clusters (the barrier).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Stage {
    /// Jobs and objects that must exist before the workload (migrations, config).
    Init,
    /// The workload of the new version, beside the old one (or in place for `rolling`).
    Application,
    /// Traffic: Services, routes and weights.
    Balancing,
    /// Deleting the old version after the drain delay.
    Cleanup,
}

impl Stage {
    /// Every stage, in rollout order.
    pub const ALL: [Stage; 4] = [
        Stage::Init,
        Stage::Application,
        Stage::Balancing,
        Stage::Cleanup,
    ];

    /// The name used in status, progress lines and docs.
    pub fn as_str(self) -> &'static str {
        match self {
            Stage::Init => "init",
            Stage::Application => "application",
            Stage::Balancing => "balancing",
            Stage::Cleanup => "cleanup",
        }
    }
}

impl fmt::Display for Stage {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Which Kubernetes object: enough to apply, watch or delete it.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ObjectRef {
    /// `apiVersion`, e.g. `apps/v1`.
    pub api_version: String,
    /// `kind`, e.g. `Deployment`.
    pub kind: String,
    /// Namespace; `None` for cluster-scoped objects.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub namespace: Option<String>,
    /// `metadata.name`.
    pub name: String,
}

impl ObjectRef {
    /// A namespaced object reference.
    pub fn new(api_version: &str, kind: &str, namespace: &str, name: &str) -> ObjectRef {
        ObjectRef {
            api_version: api_version.to_owned(),
            kind: kind.to_owned(),
            namespace: Some(namespace.to_owned()),
            name: name.to_owned(),
        }
    }
}

impl fmt::Display for ObjectRef {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.namespace {
            Some(namespace) => write!(f, "{} {}/{}", self.kind, namespace, self.name),
            None => write!(f, "{} {}", self.kind, self.name),
        }
    }
}

/// One rendered object. The body is opaque to the planner: it is the whole
/// object as the manifest generator produced it, applied as is.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Object {
    /// Which object this is.
    #[serde(rename = "ref")]
    pub reference: ObjectRef,
    /// The full object (`apiVersion`, `kind`, `metadata`, `spec`, ...).
    pub body: Value,
}

/// The rendered objects of one release for one cluster, grouped by stage.
/// Cleanup has no objects of its own: it deletes the old version.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Manifests {
    /// Objects of the `init` stage (Jobs, ConfigMaps the workload needs first).
    #[serde(default)]
    pub init: Vec<Object>,
    /// Objects of the `application` stage (the versioned workload).
    #[serde(default)]
    pub application: Vec<Object>,
    /// Objects of the `balancing` stage (Services, routes), applied with the balancer's field manager.
    #[serde(default)]
    pub balancing: Vec<Object>,
}

impl Manifests {
    /// The objects of one stage (`cleanup` has none).
    pub fn stage(&self, stage: Stage) -> &[Object] {
        match stage {
            Stage::Init => &self.init,
            Stage::Application => &self.application,
            Stage::Balancing => &self.balancing,
            Stage::Cleanup => &[],
        }
    }

    /// How many objects in all stages.
    pub fn len(&self) -> usize {
        self.init.len() + self.application.len() + self.balancing.len()
    }

    /// No object in any stage.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

/// Why a release was made.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum ReleaseKind {
    /// A new version (`paas service deploy`).
    Deploy,
    /// A new release that brings back an older one (`paas service rollback`).
    Rollback,
    /// A deploy started as a canary (`paas service deploy --strategy canary`).
    Canary,
    /// A tombstone: the service was deleted from the environment. It wins
    /// over every lower release, so a returning stale cluster cannot
    /// resurrect the service.
    Delete,
}

impl ReleaseKind {
    /// The name used in status and history.
    pub fn as_str(self) -> &'static str {
        match self {
            ReleaseKind::Deploy => "deploy",
            ReleaseKind::Rollback => "rollback",
            ReleaseKind::Canary => "canary",
            ReleaseKind::Delete => "delete",
        }
    }
}

impl fmt::Display for ReleaseKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// How a rollback release got its objects.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum RollbackMode {
    /// The default: regenerated from the target's app.toml and image with
    /// today's platform config (platform components are not rolled back).
    Regenerate,
    /// `--no-regenerate`: the target's stored manifests replayed as they
    /// were. The objects keep the target's version label (`v5` under
    /// release `v7`), so the release serves the target's version, as a
    /// traffic-only rollback does ([`ReleaseSpec::serving`]).
    Replay,
    /// The target still runs beside the current version: only traffic moves
    /// back to it (after checking it is ready everywhere), nothing is applied.
    TrafficOnly,
}

/// What a rollback release rolls back to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Rollback {
    /// The release whose state comes back.
    pub target: Version,
    /// How the objects were obtained.
    pub mode: RollbackMode,
}

/// Knobs of one rollout. Durations are seconds the adapter counts: the
/// planner only asks for timers ([`crate::Action::StartTimer`]).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Options {
    /// `--manual`: wait for `promote` after each stage.
    #[serde(default)]
    pub manual: bool,
    /// Canary weights in percent, strictly increasing, each 1..=99.
    #[serde(default = "default_canary_steps")]
    pub canary_steps: Vec<u8>,
    /// Time each canary weight is held before the next one.
    #[serde(default = "default_canary_step_seconds")]
    pub canary_step_seconds: u64,
    /// Deadline of each stage in each cluster (and of each retry after the switch).
    #[serde(default = "default_stage_deadline_seconds")]
    pub stage_deadline_seconds: u64,
    /// Delay between the traffic switch and deleting the old version, so that
    /// every proxy has the new routes before the old pods go.
    #[serde(default = "default_drain_seconds")]
    pub drain_seconds: u64,
    /// Time to live of the per-service lease; the adapter renews it while the
    /// release runs.
    #[serde(default = "default_lease_seconds")]
    pub lease_seconds: u64,
    /// Retries of a cluster that cannot be switched or cleaned after the
    /// point of no return, before it is reported as lagging.
    #[serde(default = "default_max_retries")]
    pub max_retries: u32,
}

fn default_canary_steps() -> Vec<u8> {
    vec![5, 25, 50]
}
fn default_canary_step_seconds() -> u64 {
    300
}
fn default_stage_deadline_seconds() -> u64 {
    600
}
fn default_drain_seconds() -> u64 {
    30
}
fn default_lease_seconds() -> u64 {
    60
}
fn default_max_retries() -> u32 {
    3
}

impl Default for Options {
    fn default() -> Self {
        Options {
            manual: false,
            canary_steps: default_canary_steps(),
            canary_step_seconds: default_canary_step_seconds(),
            stage_deadline_seconds: default_stage_deadline_seconds(),
            drain_seconds: default_drain_seconds(),
            lease_seconds: default_lease_seconds(),
            max_retries: default_max_retries(),
        }
    }
}

/// What a release is: fixed when it is created, the same in every cluster.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ReleaseSpec {
    /// Service name (also its namespace).
    pub service: String,
    /// Environment (`prod`, `staging`, `local`, ...).
    pub environment: String,
    /// The release number.
    pub number: Version,
    /// Why the release was made.
    pub kind: ReleaseKind,
    /// How it is rolled out.
    #[serde(with = "strategy_serde")]
    pub strategy: Strategy,
    /// Image tag.
    pub image: String,
    /// The app.toml text the manifests were rendered from.
    pub app_toml: String,
    /// Version of the platform config used to render.
    pub platform_version: String,
    /// The clusters of the environment, in the order actions are issued.
    pub clusters: Vec<String>,
    /// Rendered objects per cluster.
    pub manifests: BTreeMap<String, Manifests>,
    /// Who released it.
    pub releaser: String,
    /// When it was created.
    pub time: Timestamp,
    /// Commit hash the release was built from.
    pub commit: String,
    /// Issue keys found in the commit message ([`linked_tasks`]).
    #[serde(default)]
    pub linked_tasks: Vec<String>,
    /// The version that serves when this release starts (`None` for the first
    /// deploy); its objects are deleted in cleanup.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub previous: Option<Version>,
    /// Set for rollback releases.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rollback: Option<Rollback>,
    /// Rollout knobs.
    #[serde(default)]
    pub options: Options,
    /// A fingerprint of everything above (all clusters' manifests included),
    /// set by [`Release::new`]. The spec never changes after creation, so
    /// copies of one release carry the same digest; sync recomputes it to
    /// find corrupted copies ([`ReleaseSpec::fingerprint`]).
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub digest: String,
}

impl ReleaseSpec {
    /// The version whose objects serve once this release is through, i.e.
    /// the version label its objects carry: the release's own number, or the
    /// target of a rollback that brings the target's own objects back (a
    /// traffic-only rollback, whose objects still run, and a replay, which
    /// re-applies the target's stored objects as they were, labels
    /// included). The planner applies, switches to and (on abort) deletes
    /// this version, and sync sees it live under the same label, so the
    /// three agree on which objects belong to the release.
    pub fn serving(&self) -> Version {
        match self.rollback {
            Some(Rollback {
                target,
                mode: RollbackMode::TrafficOnly | RollbackMode::Replay,
            }) => target,
            _ => self.number,
        }
    }

    /// Checks that the objects were rendered for [`Self::serving`]: every
    /// init and application object that carries the release label
    /// ([`RELEASE_LABEL`], which the manifest generator puts on every
    /// versioned object) carries the serving version. A regenerated
    /// rollback rendered for the target's number (or a replay whose stored
    /// objects were rewritten) would otherwise be applied, switched and
    /// deleted under a label its objects do not carry.
    pub fn check_version_labels(&self) -> Result<(), Error> {
        let expected = self.serving().to_string();
        for (cluster, manifests) in &self.manifests {
            for object in manifests.init.iter().chain(&manifests.application) {
                let label = object
                    .body
                    .pointer("/metadata/labels")
                    .and_then(|labels| labels.get(RELEASE_LABEL))
                    .and_then(Value::as_str);
                if let Some(label) = label
                    && label != expected
                {
                    return Err(Error::WrongVersionLabel {
                        cluster: cluster.clone(),
                        object: object.reference.to_string(),
                        label: label.to_owned(),
                        expected,
                    });
                }
            }
        }
        Ok(())
    }

    /// Whether this release applies objects of its own (everything but a
    /// traffic-only rollback and a tombstone does).
    pub fn applies_objects(&self) -> bool {
        self.kind != ReleaseKind::Delete
            && !matches!(
                self.rollback,
                Some(Rollback {
                    mode: RollbackMode::TrafficOnly,
                    ..
                })
            )
    }

    /// A stable fingerprint of the spec without its `digest` field, as
    /// `mix64:<hex>`: a 64-bit hash of a canonical encoding of every other
    /// field (see `digest.rs` for the encoding). It detects copies that
    /// differ by accident (a stale or corrupted record), not forgery. It is
    /// cheap (no JSON, no clone): sync recomputes it for the copies it reads.
    pub fn fingerprint(&self) -> String {
        crate::digest::fingerprint(self)
    }

    /// Whether the stored digest is the fingerprint of this spec. A copy
    /// whose content changed after its digest was set (a corrupted record)
    /// fails; so does a partial copy (manifests of some clusters missing),
    /// which can only be verified once completed from the other copies.
    pub fn digest_matches(&self) -> bool {
        !self.digest.is_empty() && self.digest == self.fingerprint()
    }

    /// Whether this copy holds the manifests of every cluster of the
    /// release (a complete peer copy). A tombstone has none to hold.
    pub fn is_complete(&self) -> bool {
        self.kind == ReleaseKind::Delete
            || (self.manifests.len() == self.clusters.len()
                && self.clusters.iter().all(|c| self.manifests.contains_key(c)))
    }

    /// The objects of one stage in one cluster (empty when unknown).
    pub fn objects(&self, cluster: &str, stage: Stage) -> &[Object] {
        self.manifests
            .get(cluster)
            .map(|m| m.stage(stage))
            .unwrap_or(&[])
    }

    fn validate(&self) -> Result<(), Error> {
        self.validate_shape(true)
    }

    /// The checks of [`Release::new`]; `complete`: every cluster has its
    /// manifests (not required of a peer copy, which may be partial).
    fn validate_shape(&self, complete: bool) -> Result<(), Error> {
        if self.clusters.is_empty() {
            return Err(Error::NoClusters {
                service: self.service.clone(),
                number: self.number,
            });
        }
        let mut seen = BTreeSet::new();
        for cluster in &self.clusters {
            if !seen.insert(cluster) {
                return Err(Error::DuplicateCluster {
                    cluster: cluster.clone(),
                });
            }
            if complete && self.kind != ReleaseKind::Delete && !self.manifests.contains_key(cluster)
            {
                return Err(Error::MissingManifests {
                    number: self.number,
                    cluster: cluster.clone(),
                });
            }
        }
        if let Some(previous) = self.previous
            && previous >= self.number
        {
            return Err(Error::NumberNotIncreasing {
                number: self.number,
                previous,
            });
        }
        let steps = &self.options.canary_steps;
        let increasing = steps.windows(2).all(|w| w[0] < w[1]);
        if !increasing || steps.iter().any(|w| !(1..=99).contains(w)) {
            return Err(Error::BadCanarySteps {
                steps: steps.clone(),
            });
        }
        if let Some(Rollback {
            target,
            mode: RollbackMode::TrafficOnly,
        }) = self.rollback
            && self.previous.is_none_or(|p| p == target)
        {
            return Err(Error::TrafficOnlyWithoutPrevious { target });
        }
        // The version that would serve is the one serving now (a replay of
        // the target that a previous replay already serves): cleanup would
        // delete what serves.
        if self.previous == Some(self.serving()) {
            return Err(Error::AlreadyServing {
                version: self.serving(),
            });
        }
        self.check_version_labels()
    }
}

/// How far a release got, for people and for sync.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Phase {
    /// Created, not started.
    #[default]
    Pending,
    /// Rolling out (possibly waiting at a gate).
    Running,
    /// Done: every cluster serves the new version and the old one is gone.
    Succeeded,
    /// Past the point of no return, every reachable cluster serves the new
    /// version, but some cluster could not be switched or cleaned after the
    /// retries; it is listed in [`ReleaseStatus::lagging`] and sync brings it.
    Incomplete,
    /// A failure before the point of no return: the new objects were removed
    /// and the old version serves everywhere, except in the clusters listed
    /// in [`ReleaseStatus::lagging`]: they may hold leftovers of the new
    /// version, or (when their traffic was never confirmed back at 0%) still
    /// send part of their traffic to it, in which case its objects are kept
    /// there. Sync finishes both.
    Failed,
    /// Stopped by `abort` before the point of no return, with the same
    /// guarantees as [`Phase::Failed`].
    Aborted,
}

impl Phase {
    /// The run is over; no event changes it any more.
    pub fn is_finished(self) -> bool {
        matches!(
            self,
            Phase::Succeeded | Phase::Incomplete | Phase::Failed | Phase::Aborted
        )
    }

    /// The name used in status and history.
    pub fn as_str(self) -> &'static str {
        match self {
            Phase::Pending => "pending",
            Phase::Running => "running",
            Phase::Succeeded => "succeeded",
            Phase::Incomplete => "incomplete",
            Phase::Failed => "failed",
            Phase::Aborted => "aborted",
        }
    }
}

impl fmt::Display for Phase {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Where the planner is: what it waits for. See [`crate::planner`] for the
/// transitions between these.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case", tag = "step")]
pub enum Step {
    /// Waiting for [`crate::Event::Start`].
    #[default]
    NotStarted,
    /// Taking the per-service lease in every cluster.
    Leasing,
    /// The stage's objects were applied in every cluster; waiting until all
    /// of them are ready in all clusters (init or application).
    Rollout {
        /// Init or application.
        stage: Stage,
    },
    /// A stage is done everywhere; waiting for `promote` (`--manual`, or the
    /// blue-green gate before the switch).
    Gate {
        /// The stage that is done.
        after: Stage,
    },
    /// Traffic to the serving version at `weight` percent was asked for in
    /// every cluster; waiting for every confirmation.
    Switching {
        /// The weight being set.
        weight: u8,
    },
    /// A canary holds its weight everywhere; waiting for the step timer,
    /// `promote`, a new weight or `abort`.
    CanaryHold,
    /// The switch to 100% is done everywhere; waiting for the drain delay.
    Draining,
    /// Deleting the old version in every cluster.
    Cleanup,
    /// Aborting: traffic back to 0% for the new version everywhere.
    AbortTraffic {
        /// How the release ends: failed or aborted.
        then: Phase,
    },
    /// Aborting: deleting the new objects (or undoing a rolling update).
    AbortDelete {
        /// How the release ends: failed or aborted.
        then: Phase,
    },
    /// Finished; see [`ReleaseStatus::phase`].
    Done,
}

impl Step {
    /// The stage this step belongs to (for status and progress lines).
    pub fn stage(self) -> Stage {
        match self {
            Step::NotStarted | Step::Leasing => Stage::Init,
            Step::Rollout { stage } => stage,
            Step::Gate { after } => after,
            Step::Switching { .. } | Step::CanaryHold | Step::Draining => Stage::Balancing,
            Step::Cleanup | Step::AbortTraffic { .. } | Step::AbortDelete { .. } | Step::Done => {
                Stage::Cleanup
            }
        }
    }
}

/// The Kubernetes-style reason of a failure.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum Reason {
    /// The image cannot be pulled.
    ImagePullBackOff,
    /// The container keeps crashing.
    CrashLoopBackOff,
    /// The pods cannot be scheduled.
    Unschedulable,
    /// The stage's deadline passed with this object not ready.
    ProgressDeadlineExceeded,
    /// A ResourceQuota refused the object.
    Quota,
    /// An admission webhook or policy refused the object.
    Admission,
    /// The cluster did not answer.
    Unreachable,
    /// Another release holds the service's lease.
    LeaseHeld,
    /// A person aborted the release.
    Aborted,
    /// Anything else, with the Kubernetes reason text.
    Other(String),
}

impl fmt::Display for Reason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Reason::ImagePullBackOff => f.write_str("ImagePullBackOff"),
            Reason::CrashLoopBackOff => f.write_str("CrashLoopBackOff"),
            Reason::Unschedulable => f.write_str("Unschedulable"),
            Reason::ProgressDeadlineExceeded => f.write_str("ProgressDeadlineExceeded"),
            Reason::Quota => f.write_str("Quota"),
            Reason::Admission => f.write_str("Admission"),
            Reason::Unreachable => f.write_str("Unreachable"),
            Reason::LeaseHeld => f.write_str("LeaseHeld"),
            Reason::Aborted => f.write_str("Aborted"),
            Reason::Other(reason) => f.write_str(reason),
        }
    }
}

/// A failure: always the cluster, the object when there is one, the reason
/// and the latest message (never "timed out waiting for the condition").
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Failure {
    /// The cluster where it happened.
    pub cluster: String,
    /// The object that failed, if the failure is about one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub object: Option<ObjectRef>,
    /// The reason.
    pub reason: Reason,
    /// The latest event or error message.
    #[serde(default)]
    pub message: String,
}

impl fmt::Display for Failure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: ", self.cluster)?;
        if let Some(object) = &self.object {
            write!(f, "{object}: ")?;
        }
        write!(f, "{}", self.reason)?;
        if !self.message.is_empty() {
            write!(f, ": {}", self.message)?;
        }
        Ok(())
    }
}

/// The planner's view of one cluster during the current step.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ClusterState {
    /// Whether the last thing heard from the cluster was an answer.
    pub reachable: bool,
    /// This release holds the service's lease in this cluster.
    pub lease: bool,
    /// Objects of the current rollout stage not yet ready here.
    #[serde(default, skip_serializing_if = "BTreeSet::is_empty")]
    pub pending: BTreeSet<ObjectRef>,
    /// The current step is done in this cluster.
    pub done: bool,
    /// Objects of this release were (possibly) applied here: abort must delete them.
    pub applied: bool,
    /// Traffic weight (percent) to the serving version last confirmed here.
    pub weight: u8,
    /// Retries of the current step after the point of no return.
    pub retries: u32,
}

/// The progress of a release: the planner's whole state besides the spec.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ReleaseStatus {
    /// How far it got.
    pub phase: Phase,
    /// The current stage (derived from [`Self::step`], kept for printer columns).
    pub stage: Option<Stage>,
    /// What the planner waits for.
    pub step: Step,
    /// The release crossed the point of no return: traffic started moving to
    /// 100% somewhere; from here on it only moves forward. Written before the
    /// first switch action.
    pub point_of_no_return: bool,
    /// Highest stage reached (sync's "reached balancing").
    pub reached: Option<Stage>,
    /// The canary weight asked for everywhere (0 before balancing).
    pub weight: u8,
    /// Per cluster, in spec order.
    pub clusters: BTreeMap<String, ClusterState>,
    /// The only timer that counts; [`crate::Event::Timeout`]s for others are stale.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub timer: Option<Timer>,
    /// Sequence of the last timer asked for (stale timeouts carry older ones).
    pub timer_seq: u32,
    /// Every failure seen, oldest first.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub failures: Vec<Failure>,
    /// Clusters left behind after the point of no return (or holding leftover
    /// objects after an abort), with the last failure; sync brings them.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub lagging: BTreeMap<String, Failure>,
    /// Incremented by every step that changed the status (each
    /// [`crate::Action::WriteStatus`]): of two copies of the same release,
    /// the one with the higher revision is the more recent.
    #[serde(default)]
    pub revision: u64,
    /// When `start` was given.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub started_at: Option<Timestamp>,
}

/// A release: what the `Release` custom resource holds, and the planner's state.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Release {
    /// Fixed at creation.
    pub spec: ReleaseSpec,
    /// Progress, owned by the planner.
    pub status: ReleaseStatus,
}

impl Release {
    /// A release that has not started, after checking the spec makes sense.
    pub fn new(mut spec: ReleaseSpec) -> Result<Release, Error> {
        spec.validate()?;
        spec.digest = spec.fingerprint();
        let clusters = spec
            .clusters
            .iter()
            .map(|c| {
                let state = ClusterState {
                    reachable: true,
                    ..ClusterState::default()
                };
                (c.clone(), state)
            })
            .collect();
        Ok(Release {
            spec,
            status: ReleaseStatus {
                clusters,
                ..ReleaseStatus::default()
            },
        })
    }

    /// A tombstone: service `service` was deleted from the environment at
    /// release `number`. It is finished from the start and counts as
    /// committed for sync.
    pub fn tombstone(
        service: &str,
        environment: &str,
        number: Version,
        clusters: Vec<String>,
        releaser: &str,
        time: Timestamp,
    ) -> Release {
        let mut release = Release {
            spec: ReleaseSpec {
                service: service.to_owned(),
                environment: environment.to_owned(),
                number,
                kind: ReleaseKind::Delete,
                strategy: Strategy::Simple,
                image: String::new(),
                app_toml: String::new(),
                platform_version: String::new(),
                clusters,
                manifests: BTreeMap::new(),
                releaser: releaser.to_owned(),
                time,
                commit: String::new(),
                linked_tasks: Vec::new(),
                previous: None,
                rollback: None,
                options: Options::default(),
                digest: String::new(),
            },
            status: ReleaseStatus {
                phase: Phase::Succeeded,
                stage: Some(Stage::Cleanup),
                step: Step::Done,
                point_of_no_return: true,
                reached: Some(Stage::Cleanup),
                ..ReleaseStatus::default()
            },
        };
        release.spec.digest = release.spec.fingerprint();
        release
    }

    /// The name of the `Release` custom resource: `<svc>-v<N>`.
    pub fn resource_name(&self) -> String {
        format!("{}-{}", self.spec.service, self.spec.number)
    }

    /// Whether this release committed: it reached the balancing stage (or is
    /// a tombstone) and is not being undone. Sync takes the highest committed
    /// release as authoritative, so a canary that was aborting when its
    /// deployer died is not brought back.
    pub fn committed(&self) -> bool {
        let undone = matches!(self.status.phase, Phase::Failed | Phase::Aborted)
            || matches!(
                self.status.step,
                Step::AbortTraffic { .. } | Step::AbortDelete { .. }
            );
        self.spec.kind == ReleaseKind::Delete
            || self.status.point_of_no_return
            || (self.status.reached.is_some_and(|s| s >= Stage::Balancing) && !undone)
    }

    /// The JSON stored in the custom resource.
    pub fn to_json(&self) -> Value {
        serde_json::to_value(self).unwrap_or(Value::Null)
    }

    /// Reads a release back from the custom resource's JSON, to run it
    /// (the deployer resuming after a crash): the spec must pass the checks
    /// of [`Release::new`] (manifests for every cluster included) and the
    /// status must fit the spec ([`Release::check_status`]), so a damaged
    /// record is an error here instead of a release stuck for good.
    pub fn from_json(value: &Value) -> Result<Release, Error> {
        let release = Release::decode(value)?;
        release.spec.validate_shape(true)?;
        release.check_status()?;
        Ok(release)
    }

    /// Reads a peer copy back (what sync reads from every cluster): the same
    /// checks as [`Release::from_json`] except that the manifests of some
    /// clusters may be missing (sync reports the gap if it needs them). The
    /// digest is not checked here: sync verifies it and reports a corrupted
    /// copy instead of not seeing it.
    pub fn from_json_copy(value: &Value) -> Result<Release, Error> {
        let release = Release::decode(value)?;
        release.spec.validate_shape(false)?;
        release.check_status()?;
        Ok(release)
    }

    fn decode(value: &Value) -> Result<Release, Error> {
        Release::deserialize(value).map_err(|e| Error::Decode {
            message: e.to_string(),
        })
    }

    /// Checks that the status fits the spec: one cluster state per cluster
    /// of the spec (a tombstone keeps none), lagging clusters and failures
    /// of those clusters only, weights of at most 100%, a phase that agrees
    /// with the step (pending before start, finished exactly when done,
    /// running in between), a rollout step of the init or application stage
    /// only, and a timer only while running.
    pub fn check_status(&self) -> Result<(), Error> {
        let (spec, status) = (&self.spec, &self.status);
        let bad = |reason: String| Err(Error::InconsistentStatus { reason });
        let tombstone = spec.kind == ReleaseKind::Delete && status.clusters.is_empty();
        let expected: BTreeSet<&String> = spec.clusters.iter().collect();
        let held: BTreeSet<&String> = status.clusters.keys().collect();
        if !tombstone && expected != held {
            return bad(format!(
                "status.clusters {held:?} do not match the release's clusters {expected:?}"
            ));
        }
        for (cluster, failure) in &status.lagging {
            if !expected.contains(cluster) || &failure.cluster != cluster {
                return bad(format!("lagging {cluster} is not a cluster of the release"));
            }
        }
        if let Some(failure) = status
            .failures
            .iter()
            .find(|f| !expected.contains(&f.cluster))
        {
            return bad(format!(
                "failure in {} which is not a cluster of the release",
                failure.cluster
            ));
        }
        if status.weight > 100 || status.clusters.values().any(|c| c.weight > 100) {
            return bad("a weight above 100%".to_owned());
        }
        let phase_fits = match status.step {
            Step::NotStarted => status.phase == Phase::Pending,
            Step::Done => status.phase.is_finished(),
            _ => status.phase == Phase::Running,
        };
        if !phase_fits {
            return bad(format!(
                "phase {} does not fit step {:?}",
                status.phase, status.step
            ));
        }
        if let Step::Rollout { stage } = status.step
            && !matches!(stage, Stage::Init | Stage::Application)
        {
            return bad(format!("a rollout of the {stage} stage"));
        }
        if status.timer.is_some() && status.phase != Phase::Running {
            return bad(format!("a timer in phase {}", status.phase));
        }
        Ok(())
    }
}

/// Issue keys (`PAAS-123`: an uppercase project key, a dash, a number) in a
/// commit message, deduplicated, in the order they first appear.
///
/// A key must stand alone: `XPAAS-1` inside `aXPAAS-1` or `PAAS-12b` is not
/// taken. Project keys start with a letter and may hold digits and `_`.
pub fn linked_tasks(message: &str) -> Vec<String> {
    let bytes = message.as_bytes();
    let mut found: Vec<String> = Vec::new();
    let mut i = 0;
    while i < bytes.len() {
        let starts_word = i == 0 || !is_word(bytes[i - 1]);
        if starts_word && bytes[i].is_ascii_uppercase() {
            let mut j = i + 1;
            while j < bytes.len()
                && (bytes[j].is_ascii_uppercase() || bytes[j].is_ascii_digit() || bytes[j] == b'_')
            {
                j += 1;
            }
            if j + 1 < bytes.len() && bytes[j] == b'-' && bytes[j + 1].is_ascii_digit() {
                let mut k = j + 1;
                while k < bytes.len() && bytes[k].is_ascii_digit() {
                    k += 1;
                }
                let ends_word = k == bytes.len() || !is_word(bytes[k]);
                if ends_word && j - i >= 2 {
                    let key = &message[i..k];
                    if !found.iter().any(|f| f == key) {
                        found.push(key.to_owned());
                    }
                    i = k;
                    continue;
                }
            }
            i = j;
            continue;
        }
        i += 1;
    }
    found
}

fn is_word(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b == b'_' || b == b'-'
}

/// Serialises [`Strategy`] by its app.toml name (app-toml only serialises
/// it, and the Release must also be read back).
pub mod strategy_serde {
    use app_toml::Strategy;
    use serde::{Deserialize, Deserializer, Serializer};

    /// Writes the app.toml name.
    pub fn serialize<S: Serializer>(strategy: &Strategy, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(strategy.as_str())
    }

    /// Reads the app.toml name.
    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Strategy, D::Error> {
        let name = String::deserialize(d)?;
        parse(&name).map_err(serde::de::Error::custom)
    }

    /// Parses a strategy name as written in app.toml and on the command line.
    pub fn parse(name: &str) -> Result<Strategy, crate::Error> {
        Strategy::from_name(name).ok_or_else(|| crate::Error::UnknownStrategy {
            name: name.to_owned(),
        })
    }
}

#[cfg(test)]
mod tests;
