//! The sync differ: from one snapshot per cluster to the authoritative
//! release of every service and the actions that bring each cluster to it
//! (`../shared/spec/releases.md`, "Sync").
//!
//! Releases are stored in the clusters themselves, and every cluster keeps
//! the manifests every other cluster got for the same release (the peer
//! copies live inside each [`Release`] record: its `spec.manifests` has one
//! entry per cluster). So from the clusters that answer, sync can tell which
//! release of a service is authoritative — the highest-numbered one that
//! reached the balancing stage anywhere, tombstones included — and rebuild a
//! cluster that is stale, lost everything, or still runs a deleted service.
//!
//! The differ ([`plan`]) is pure and works service by service:
//! 1. a lease held (and not expired) in any cluster means a release is in
//!    flight: the service is left alone ([`Outcome::InFlight`]);
//! 2. the copies of each release number are verified against their digest
//!    (recomputed, never trusted as stored: a corrupted copy stops everything
//!    for the service, [`Outcome::Corrupted`]) and compared; copies that
//!    disagree stop everything for the service ([`Outcome::Conflict`]);
//! 3. the copies are merged (manifests of every cluster, the most advanced
//!    status) and the authoritative release chosen;
//! 4. the desired live state of each cluster follows from it: the serving
//!    version at 100%, or a canary's two versions at the canary's weight, or
//!    nothing at all for a tombstone;
//! 5. if a cluster needs objects that no copy holds, nothing is done and the
//!    gap is reported ([`Outcome::Incomplete`]);
//! 6. otherwise the actions per cluster: write the missing or stale records
//!    (history up to [`Options::history`]) and delete older ones, apply
//!    missing versions and wait for them, set traffic, delete versions that
//!    should not run.
//!
//! **Invariant (tested as a property):** performing the actions and running
//! sync again gives no actions.
//!
//! **Architecture Invariant:** pure; no I/O, no clock (lease expiry is
//! decided by the adapter and comes in as [`Lease::expired`]).

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::fmt;
use std::hash::{BuildHasherDefault, DefaultHasher};

use release::{Object, ObjectRef, Release, ReleaseKind, ReleaseSpec, Step, Version};
use serde::{Deserialize, Serialize};
use serde_json::Value;

/// What one cluster holds, as read by the adapter.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Snapshot {
    /// The cluster's name.
    pub cluster: String,
    /// Whether it answered. An unreachable cluster is neither read nor changed.
    pub reachable: bool,
    /// Every `Release` record stored in the cluster (with the peer copies of
    /// the manifests inside), any service, any order.
    pub records: Vec<Release>,
    /// What runs, per service.
    pub live: BTreeMap<String, LiveService>,
}

/// What runs of one service in one cluster.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct LiveService {
    /// Versions whose objects exist (by their version label).
    pub versions: BTreeSet<Version>,
    /// How traffic is split, if the balancing objects exist.
    pub traffic: Option<Traffic>,
    /// The service's lease in this cluster, if any.
    pub lease: Option<Lease>,
}

impl LiveService {
    fn is_empty(&self) -> bool {
        self.versions.is_empty() && self.traffic.is_none()
    }
}

/// A traffic split: `weight`% to `version`, the rest to `stable`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Traffic {
    /// The version receiving `weight`%.
    pub version: Version,
    /// Percent.
    pub weight: u8,
    /// The version receiving the rest (`None` at 100%).
    pub stable: Option<Version>,
}

impl Traffic {
    /// All traffic to one version.
    pub fn all(version: Version) -> Traffic {
        Traffic {
            version,
            weight: 100,
            stable: None,
        }
    }

    /// The same split written one way only (100% has no stable version).
    pub fn normalised(self) -> Traffic {
        if self.weight >= 100 {
            Traffic::all(self.version)
        } else {
            self
        }
    }
}

impl fmt::Display for Traffic {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.stable {
            Some(stable) if self.weight < 100 => {
                write!(f, "{}% {}, rest {}", self.weight, self.version, stable)
            }
            _ => write!(f, "100% {}", self.version),
        }
    }
}

/// A lease as seen in a cluster.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Lease {
    /// `<svc>-v<N>` of the release holding it.
    pub holder: String,
    /// Its time to live ran out (decided by the adapter, which has the clock).
    pub expired: bool,
}

/// Knobs of sync.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Options {
    /// How many releases per service are kept (and rebuilt) in each
    /// cluster; older records are deleted ([`SyncAction::DeleteRecord`]),
    /// except the authoritative release and those whose objects it runs.
    pub history: usize,
}

impl Default for Options {
    fn default() -> Self {
        Options { history: 20 }
    }
}

/// One thing the adapter must do in one cluster. Actions of one cluster run
/// in the order given; clusters may run in parallel.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case", tag = "action")]
pub enum SyncAction {
    /// Create or replace the `Release` record (with its manifests ConfigMaps).
    WriteRecord {
        /// Cluster.
        cluster: String,
        /// The merged record.
        release: Box<Release>,
    },
    /// Delete the `Release` record of `service` `version` (with its
    /// manifests ConfigMaps): it is older than the history kept
    /// ([`Options::history`]).
    DeleteRecord {
        /// Cluster.
        cluster: String,
        /// The service.
        service: String,
        /// The release number.
        version: Version,
    },
    /// Server-side apply the objects of `version` (init and application stages).
    Apply {
        /// Cluster.
        cluster: String,
        /// Version.
        version: Version,
        /// Objects.
        objects: Vec<Object>,
    },
    /// Wait until the application objects of `version` are ready; stop this
    /// cluster's remaining actions if they fail (traffic never goes to a
    /// version that is not ready).
    WaitReady {
        /// Cluster.
        cluster: String,
        /// Version.
        version: Version,
        /// Objects awaited.
        objects: Vec<ObjectRef>,
    },
    /// Apply the balancing objects with the balancer's field manager and set
    /// the split.
    SwitchTraffic {
        /// Cluster.
        cluster: String,
        /// The split.
        traffic: Traffic,
        /// Balancing objects of the authoritative release for this cluster.
        objects: Vec<Object>,
    },
    /// Delete every object of `version`.
    Delete {
        /// Cluster.
        cluster: String,
        /// Version.
        version: Version,
    },
    /// The service is deleted (tombstone): delete all its objects, shared
    /// ones (Service, routes) included.
    DeleteService {
        /// Cluster.
        cluster: String,
    },
}

impl SyncAction {
    /// The cluster the action is for.
    pub fn cluster(&self) -> &str {
        match self {
            SyncAction::WriteRecord { cluster, .. }
            | SyncAction::DeleteRecord { cluster, .. }
            | SyncAction::Apply { cluster, .. }
            | SyncAction::WaitReady { cluster, .. }
            | SyncAction::SwitchTraffic { cluster, .. }
            | SyncAction::Delete { cluster, .. }
            | SyncAction::DeleteService { cluster } => cluster,
        }
    }
}

impl fmt::Display for SyncAction {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            SyncAction::WriteRecord { cluster, release } => write!(
                f,
                "{cluster}: write record {} ({} {}, {})",
                release.spec.number,
                release.spec.kind,
                release.status.phase,
                manifest_clusters(release)
            ),
            SyncAction::DeleteRecord {
                cluster, version, ..
            } => write!(f, "{cluster}: delete record {version} (beyond the history)"),
            SyncAction::Apply {
                cluster,
                version,
                objects,
            } => write!(f, "{cluster}: apply {version} ({} objects)", objects.len()),
            SyncAction::WaitReady {
                cluster,
                version,
                objects,
            } => write!(
                f,
                "{cluster}: wait for {version} ({} objects)",
                objects.len()
            ),
            SyncAction::SwitchTraffic {
                cluster, traffic, ..
            } => write!(f, "{cluster}: traffic {traffic}"),
            SyncAction::Delete { cluster, version } => write!(f, "{cluster}: delete {version}"),
            SyncAction::DeleteService { cluster } => write!(f, "{cluster}: delete the service"),
        }
    }
}

fn manifest_clusters(release: &Release) -> String {
    let names: Vec<&str> = release.spec.manifests.keys().map(String::as_str).collect();
    format!("manifests for [{}]", names.join(", "))
}

/// What sync decided for one service.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case", tag = "outcome")]
pub enum Outcome {
    /// Every reachable cluster already matches the authoritative release.
    InSync,
    /// These actions bring the clusters to the authoritative release.
    Repair {
        /// In order per cluster.
        actions: Vec<SyncAction>,
    },
    /// A release is in flight (its lease is held): left alone.
    InFlight {
        /// The lease holder.
        holder: String,
        /// Where the lease was seen.
        cluster: String,
    },
    /// Copies of the same release number disagree: nothing is done.
    Conflict {
        /// The release number.
        number: Version,
        /// Clusters whose copies differ from the first copy.
        clusters: Vec<String>,
    },
    /// Copies of a release no longer match their digest (their content
    /// changed after it was set): a corrupted copy is never a source for
    /// rebuilding, so nothing is done (a disagreement, spec case 6).
    Corrupted {
        /// The release number.
        number: Version,
        /// Clusters holding a corrupted copy.
        clusters: Vec<String>,
    },
    /// A cluster needs objects of `version` that no reachable copy holds:
    /// nothing is done.
    Incomplete {
        /// The version whose manifests are missing.
        version: Version,
        /// The clusters lacking them.
        missing: Vec<String>,
    },
    /// Records exist but no release of the service ever reached balancing.
    NothingCommitted,
}

/// Sync's answer for one service.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ServicePlan {
    /// The authoritative release, when there is one.
    pub authoritative: Option<Version>,
    /// What to do.
    pub outcome: Outcome,
}

impl ServicePlan {
    /// The actions to perform (none unless [`Outcome::Repair`]).
    pub fn actions(&self) -> &[SyncAction] {
        match &self.outcome {
            Outcome::Repair { actions } => actions,
            _ => &[],
        }
    }
}

/// Sync's answer for the environment.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Plan {
    /// Per service, in name order.
    pub services: BTreeMap<String, ServicePlan>,
    /// Clusters that did not answer and were left out.
    pub unreachable: Vec<String>,
}

impl Plan {
    /// Every action of every service, service by service.
    pub fn actions(&self) -> impl Iterator<Item = &SyncAction> {
        self.services.values().flat_map(|s| s.actions().iter())
    }

    /// Whether there is nothing to do.
    pub fn is_idle(&self) -> bool {
        self.actions().next().is_none()
    }
}

impl fmt::Display for Plan {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if !self.unreachable.is_empty() {
            writeln!(f, "unreachable: {}", self.unreachable.join(", "))?;
        }
        for (service, plan) in &self.services {
            let authoritative = plan
                .authoritative
                .map(|v| v.to_string())
                .unwrap_or_else(|| "-".to_owned());
            match &plan.outcome {
                Outcome::InSync => writeln!(f, "{service} {authoritative}: in sync")?,
                Outcome::Repair { actions } => {
                    writeln!(f, "{service} {authoritative}: repair")?;
                    for action in actions {
                        writeln!(f, "  {action}")?;
                    }
                }
                Outcome::InFlight { holder, cluster } => writeln!(
                    f,
                    "{service} {authoritative}: in flight ({holder} holds the lease in {cluster}), left alone"
                )?,
                Outcome::Conflict { number, clusters } => writeln!(
                    f,
                    "{service} {authoritative}: copies of {number} disagree in {}, nothing done",
                    clusters.join(", ")
                )?,
                Outcome::Corrupted { number, clusters } => writeln!(
                    f,
                    "{service} {authoritative}: copies of {number} in {} do not match their digest (corrupted), nothing done",
                    clusters.join(", ")
                )?,
                Outcome::Incomplete { version, missing } => writeln!(
                    f,
                    "{service} {authoritative}: no copy holds the manifests of {version} for {}, nothing done",
                    missing.join(", ")
                )?,
                Outcome::NothingCommitted => {
                    writeln!(f, "{service}: no release reached balancing, nothing done")?
                }
            }
        }
        Ok(())
    }
}

/// The desired live state of a service in every cluster.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Desired {
    /// Versions that should have objects.
    pub versions: BTreeSet<Version>,
    /// The split (`None`: no balancing objects, the service is deleted).
    pub traffic: Option<Traffic>,
}

impl Desired {
    /// What a committed release asks for: nothing for a tombstone, a canary's
    /// two versions at its weight while it runs, else its serving version at 100%.
    pub fn of(release: &Release) -> Desired {
        if release.spec.kind == ReleaseKind::Delete {
            return Desired {
                versions: BTreeSet::new(),
                traffic: None,
            };
        }
        let serving = release.spec.serving();
        let status = &release.status;
        let canary_running = !status.point_of_no_return
            && !status.phase.is_finished()
            && matches!(status.step, Step::CanaryHold | Step::Switching { .. });
        match (canary_running, release.spec.previous) {
            (true, Some(stable)) if status.weight < 100 => Desired {
                versions: [serving, stable].into_iter().collect(),
                traffic: Some(Traffic {
                    version: serving,
                    weight: status.weight,
                    stable: Some(stable),
                }),
            },
            _ => Desired {
                versions: [serving].into_iter().collect(),
                traffic: Some(Traffic::all(serving)),
            },
        }
    }
}

/// Plans sync for every service found in any reachable snapshot.
pub fn plan(snapshots: &[Snapshot], options: &Options) -> Plan {
    let reachable: Vec<&Snapshot> = snapshots.iter().filter(|s| s.reachable).collect();
    let unreachable = snapshots
        .iter()
        .filter(|s| !s.reachable)
        .map(|s| s.cluster.clone())
        .collect();

    // Group every record and live entry by service in one pass; the hash
    // map keeps this linear in the number of records, and the plan's
    // BTreeMap orders the services. Its hasher has fixed keys (`Fixed`):
    // no random seed in the crate, and the same input visits the services
    // in the same order. (A BTreeMap here costs 5-7% more instructions per
    // service on the bench, growing with the number of services.)
    let mut inputs: HashMap<&str, ServiceInput<'_>, Fixed> = HashMap::default();
    for (cluster, snapshot) in reachable.iter().enumerate() {
        for record in &snapshot.records {
            inputs
                .entry(record.spec.service.as_str())
                .or_insert_with(|| ServiceInput::new(reachable.len()))
                .records[cluster]
                .push(record);
        }
        for (service, live) in &snapshot.live {
            inputs
                .entry(service.as_str())
                .or_insert_with(|| ServiceInput::new(reachable.len()))
                .live[cluster] = Some(live);
        }
    }

    let services = inputs
        .into_iter()
        .map(|(service, input)| {
            (
                service.to_owned(),
                plan_service(&reachable, &input, options),
            )
        })
        .collect();
    Plan {
        services,
        unreachable,
    }
}

/// SipHash with fixed keys: `DefaultHasher::new()` is the same hasher every
/// time, unlike the randomly seeded default hasher of a plain `HashMap`.
type Fixed = BuildHasherDefault<DefaultHasher>;

/// One service's records and live state, per reachable cluster (by index).
struct ServiceInput<'a> {
    records: Vec<Vec<&'a Release>>,
    live: Vec<Option<&'a LiveService>>,
}

impl<'a> ServiceInput<'a> {
    fn new(clusters: usize) -> Self {
        ServiceInput {
            records: vec![Vec::new(); clusters],
            live: vec![None; clusters],
        }
    }
}

/// How recent a copy's status is: the planner bumps the revision with every
/// status write, so the highest revision is the latest state; a finished
/// copy wins a tie.
fn rank(release: &Release) -> (u64, bool) {
    (release.status.revision, release.status.phase.is_finished())
}

/// Copies describe the same release when everything but the status and the
/// set of clusters whose manifests they carry is equal, and the manifests
/// they both carry are equal. Equal digests stand for equal content only
/// because [`merge`] verified them first.
fn same_release(a: &Release, b: &Release) -> bool {
    let (sa, sb) = (&a.spec, &b.spec);
    if !sa.digest.is_empty() && sa.digest == sb.digest {
        return true;
    }
    same_content(a, b)
}

/// The field-by-field comparison behind [`same_release`]: every field of
/// the spec, and the manifests of the clusters both copies carry.
fn same_content(a: &Release, b: &Release) -> bool {
    let (sa, sb) = (&a.spec, &b.spec);
    sa.service == sb.service
        && sa.environment == sb.environment
        && sa.number == sb.number
        && sa.kind == sb.kind
        && sa.strategy == sb.strategy
        && sa.image == sb.image
        && sa.app_toml == sb.app_toml
        && sa.platform_version == sb.platform_version
        && sa.clusters == sb.clusters
        && sa.releaser == sb.releaser
        && sa.time == sb.time
        && sa.commit == sb.commit
        && sa.linked_tasks == sb.linked_tasks
        && sa.previous == sb.previous
        && sa.rollback == sb.rollback
        && sa.options == sb.options
        && sa
            .manifests
            .iter()
            .all(|(cluster, m)| sb.manifests.get(cluster).is_none_or(|n| n == m))
}

/// Two copies are identical: same release, same status, manifests for the
/// same clusters. Copies with equal digests were verified equal in content
/// by [`merge`], so their manifests are not compared again here.
fn same_copy(a: &Release, b: &Release) -> bool {
    if std::ptr::eq(a, b) {
        return true;
    }
    if a.spec.digest.is_empty() || a.spec.digest != b.spec.digest {
        return a == b;
    }
    let (ma, mb) = (&a.spec.manifests, &b.spec.manifests);
    // Complete copies (one entry per cluster of the release) need no key
    // comparison: the common case stays off the scattered key strings.
    let complete = ma.len() == a.spec.clusters.len();
    ma.len() == mb.len()
        && a.status == b.status
        && (complete || ma.keys().zip(mb.keys()).all(|(x, y)| x == y))
}

/// The merge of every reachable copy of one release number.
struct Merged<'a> {
    release: std::borrow::Cow<'a, Release>,
    /// Every copy was equal to the merged record (no comparison needed later).
    uniform: bool,
    /// Which reachable clusters (by index) hold a copy.
    holders: Vec<bool>,
}

/// Why the copies of one release number were not merged.
enum Disagreement {
    /// These copies (reachable cluster indices) describe another release
    /// than the first copy.
    Conflict(Vec<usize>),
    /// These copies do not match their own digest.
    Corrupted(Vec<usize>),
}

/// `a == b` for two specs, faster in the common case: JSON objects are
/// first compared in their stored order (copies of one record keep the
/// order they were written in), by key lookup only when that order differs.
fn same_spec(a: &ReleaseSpec, b: &ReleaseSpec) -> bool {
    a.digest == b.digest
        && a.number == b.number
        && a.service == b.service
        && a.environment == b.environment
        && a.kind == b.kind
        && a.strategy == b.strategy
        && a.image == b.image
        && a.app_toml == b.app_toml
        && a.platform_version == b.platform_version
        && a.clusters == b.clusters
        && a.releaser == b.releaser
        && a.time == b.time
        && a.commit == b.commit
        && a.linked_tasks == b.linked_tasks
        && a.previous == b.previous
        && a.rollback == b.rollback
        && a.options == b.options
        && a.manifests.len() == b.manifests.len()
        && a.manifests
            .iter()
            .zip(&b.manifests)
            .all(|((ca, ma), (cb, mb))| {
                ca == cb
                    && same_objects(&ma.init, &mb.init)
                    && same_objects(&ma.application, &mb.application)
                    && same_objects(&ma.balancing, &mb.balancing)
            })
}

fn same_objects(a: &[Object], b: &[Object]) -> bool {
    a.len() == b.len()
        && a.iter()
            .zip(b)
            .all(|(x, y)| x.reference == y.reference && same_value(&x.body, &y.body))
}

/// `a == b` for JSON values, objects compared in order first.
fn same_value(a: &Value, b: &Value) -> bool {
    match (a, b) {
        (Value::Object(x), Value::Object(y)) => {
            x.len() == y.len()
                && (x
                    .iter()
                    .zip(y)
                    .all(|((kx, vx), (ky, vy))| kx == ky && same_value(vx, vy))
                    || x == y)
        }
        (Value::Array(x), Value::Array(y)) => {
            x.len() == y.len() && x.iter().zip(y).all(|(p, q)| same_value(p, q))
        }
        _ => a == b,
    }
}

/// Finds the copies whose content does not match their digest.
///
/// The stored digest is never trusted as is. The first complete copy whose
/// recomputed fingerprint matches its digest is the reference (one
/// fingerprint per release number in the common case); every other copy is
/// then compared with it: a complete copy must be equal to it (a cheap
/// structural comparison, no hashing) or match a digest of its own, and a
/// partial copy claiming the same digest must carry the same content. With
/// no verifiable complete copy, the partial copies are completed from each
/// other and the union is verified; if it is still incomplete, copies that
/// claim the same digest must at least agree with each other.
fn corrupted_copies(copies: &[(usize, &Release)]) -> Vec<usize> {
    let mut corrupted = Vec::new();
    let mut reference = None;
    for (index, copy) in copies {
        if copy.spec.digest.is_empty() || !copy.spec.is_complete() {
            continue;
        }
        if copy.spec.digest_matches() {
            reference = Some(*copy);
            break;
        }
        corrupted.push(*index);
    }
    if let Some(reference) = reference {
        for (index, copy) in copies {
            let spec = &copy.spec;
            if std::ptr::eq(*copy, reference) || spec.digest.is_empty() {
                continue;
            }
            let sound = if spec.is_complete() {
                // Equal to the verified copy, or verified on its own (then
                // another release under the same number: a conflict, below).
                same_spec(spec, &reference.spec) || spec.digest_matches()
            } else {
                spec.digest != reference.spec.digest || same_content(reference, copy)
            };
            if !sound && !corrupted.contains(index) {
                corrupted.push(*index);
            }
        }
    } else if corrupted.is_empty()
        && let Some((_, first)) = copies.iter().find(|(_, c)| !c.spec.digest.is_empty())
    {
        // Only partial copies: those claiming the first one's digest must
        // agree with it, and their union, when complete, must match it.
        let claiming: Vec<&(usize, &Release)> = copies
            .iter()
            .filter(|(_, c)| c.spec.digest == first.spec.digest)
            .collect();
        if claiming.iter().any(|(_, c)| !same_content(first, c)) {
            corrupted.extend(claiming.iter().map(|(i, _)| *i));
        } else {
            let mut union = first.spec.clone();
            for (_, copy) in &claiming {
                for (cluster, manifests) in &copy.spec.manifests {
                    union
                        .manifests
                        .entry(cluster.clone())
                        .or_insert_with(|| manifests.clone());
                }
            }
            if union.is_complete() && !union.digest_matches() {
                corrupted.extend(claiming.iter().map(|(i, _)| *i));
            }
        }
    }
    corrupted.sort_unstable();
    corrupted.dedup();
    corrupted
}

/// Merges the copies of one release number, or names the clusters whose
/// copies are corrupted or contradict the first one.
fn merge<'a>(copies: &[(usize, &'a Release)], clusters: usize) -> Result<Merged<'a>, Disagreement> {
    let corrupted = corrupted_copies(copies);
    if !corrupted.is_empty() {
        return Err(Disagreement::Corrupted(corrupted));
    }
    let mut holders = vec![false; clusters];
    for (index, _) in copies {
        holders[*index] = true;
    }
    let first = copies[0].1;
    // The common case: identical copies; one comparison each, no clone.
    if copies.iter().all(|(_, c)| same_copy(c, first)) {
        return Ok(Merged {
            release: std::borrow::Cow::Borrowed(first),
            uniform: true,
            holders,
        });
    }
    let disagree: Vec<usize> = copies
        .iter()
        .filter(|(_, copy)| !same_release(first, copy))
        .map(|(index, _)| *index)
        .collect();
    if !disagree.is_empty() {
        return Err(Disagreement::Conflict(disagree));
    }
    // The most recent status; the first such copy in cluster order on ties.
    let mut best = first;
    for (_, copy) in copies {
        if rank(copy) > rank(best) {
            best = copy;
        }
    }
    let mut merged = best.clone();
    for (_, copy) in copies {
        for (cluster, manifests) in &copy.spec.manifests {
            merged
                .spec
                .manifests
                .entry(cluster.clone())
                .or_insert_with(|| manifests.clone());
        }
    }
    Ok(Merged {
        release: std::borrow::Cow::Owned(merged),
        uniform: false,
        holders,
    })
}

fn plan_service(
    reachable: &[&Snapshot],
    input: &ServiceInput<'_>,
    options: &Options,
) -> ServicePlan {
    // 1. A release in flight is left alone.
    for (index, live) in input.live.iter().enumerate() {
        if let Some(Lease {
            holder,
            expired: false,
        }) = live.and_then(|l| l.lease.as_ref())
        {
            return ServicePlan {
                authoritative: None,
                outcome: Outcome::InFlight {
                    holder: holder.clone(),
                    cluster: reachable[index].cluster.clone(),
                },
            };
        }
    }

    // 2. Group copies by number and check they agree.
    let mut copies: BTreeMap<Version, Vec<(usize, &Release)>> = BTreeMap::new();
    for (index, records) in input.records.iter().enumerate() {
        for record in records {
            copies
                .entry(record.spec.number)
                .or_default()
                .push((index, record));
        }
    }
    let mut merged: BTreeMap<Version, Merged<'_>> = BTreeMap::new();
    for (number, list) in &copies {
        match merge(list, reachable.len()) {
            Ok(m) => {
                merged.insert(*number, m);
            }
            Err(Disagreement::Corrupted(corrupted)) => {
                let clusters: BTreeSet<&str> = corrupted
                    .iter()
                    .map(|i| reachable[*i].cluster.as_str())
                    .collect();
                return ServicePlan {
                    authoritative: None,
                    outcome: Outcome::Corrupted {
                        number: *number,
                        clusters: clusters.into_iter().map(str::to_owned).collect(),
                    },
                };
            }
            Err(Disagreement::Conflict(disagree)) => {
                let mut clusters = vec![reachable[list[0].0].cluster.clone()];
                let others: BTreeSet<&str> = disagree
                    .iter()
                    .map(|i| reachable[*i].cluster.as_str())
                    .collect();
                clusters.extend(others.into_iter().map(str::to_owned));
                return ServicePlan {
                    authoritative: None,
                    outcome: Outcome::Conflict {
                        number: *number,
                        clusters,
                    },
                };
            }
        }
    }

    // 3. Choose the authoritative release.
    let Some(authoritative) = merged
        .values()
        .rev()
        .map(|m| m.release.as_ref())
        .find(|r| r.committed())
    else {
        return ServicePlan {
            authoritative: None,
            outcome: if merged.is_empty()
                && input
                    .live
                    .iter()
                    .all(|l| l.is_none_or(LiveService::is_empty))
            {
                Outcome::InSync
            } else {
                Outcome::NothingCommitted
            },
        };
    };
    let number = authoritative.spec.number;
    let desired = Desired::of(authoritative);

    // 4./5. Check that every cluster that needs objects can get them.
    let empty = LiveService::default();
    let mut missing: BTreeMap<Version, Vec<String>> = BTreeMap::new();
    for (index, snapshot) in reachable.iter().enumerate() {
        let live = input.live[index].unwrap_or(&empty);
        for version in desired.versions.difference(&live.versions) {
            if manifests_for(&merged, authoritative, *version, &snapshot.cluster).is_none() {
                missing
                    .entry(*version)
                    .or_default()
                    .push(snapshot.cluster.clone());
            }
        }
    }
    if let Some((version, clusters)) = missing.into_iter().next() {
        return ServicePlan {
            authoritative: Some(number),
            outcome: Outcome::Incomplete {
                version,
                missing: clusters,
            },
        };
    }

    // 6. The actions. History: the last `history` releases, plus the
    // authoritative one and those whose objects it runs (a canary's stable
    // side, a rollback's target), which must stay rebuildable.
    let mut keep: BTreeSet<Version> = merged
        .keys()
        .rev()
        .take(options.history.max(1))
        .copied()
        .collect();
    keep.insert(number);
    keep.extend(desired.versions.iter().filter(|v| merged.contains_key(v)));
    let kept: Vec<&Merged<'_>> = keep.iter().rev().filter_map(|v| merged.get(v)).collect();
    let mut actions = Vec::new();
    for (index, snapshot) in reachable.iter().enumerate() {
        let cluster = &snapshot.cluster;
        for m in kept.iter().rev() {
            let record = m.release.as_ref();
            let current = m.holders[index]
                && (m.uniform
                    || input.records[index]
                        .iter()
                        .any(|r| r.spec.number == record.spec.number && same_copy(r, record)));
            if !current {
                actions.push(SyncAction::WriteRecord {
                    cluster: cluster.clone(),
                    release: Box::new(record.clone()),
                });
            }
        }
        // Older records beyond the history are pruned, oldest first.
        let pruned: BTreeSet<Version> = input.records[index]
            .iter()
            .map(|r| r.spec.number)
            .filter(|n| !keep.contains(n))
            .collect();
        for version in pruned {
            actions.push(SyncAction::DeleteRecord {
                cluster: cluster.clone(),
                service: authoritative.spec.service.clone(),
                version,
            });
        }
        let live = input.live[index].unwrap_or(&empty);
        let Some(traffic) = desired.traffic else {
            if !live.is_empty() {
                actions.push(SyncAction::DeleteService {
                    cluster: cluster.clone(),
                });
            }
            continue;
        };
        for version in desired.versions.difference(&live.versions) {
            if let Some(manifests) = manifests_for(&merged, authoritative, *version, cluster) {
                let mut objects = manifests.init.clone();
                objects.extend(manifests.application.iter().cloned());
                let awaited = manifests
                    .application
                    .iter()
                    .map(|o| o.reference.clone())
                    .collect();
                actions.push(SyncAction::Apply {
                    cluster: cluster.clone(),
                    version: *version,
                    objects,
                });
                actions.push(SyncAction::WaitReady {
                    cluster: cluster.clone(),
                    version: *version,
                    objects: awaited,
                });
            }
        }
        if live.traffic.map(Traffic::normalised) != Some(traffic.normalised()) {
            actions.push(SyncAction::SwitchTraffic {
                cluster: cluster.clone(),
                traffic,
                objects: authoritative
                    .spec
                    .objects(cluster, release::Stage::Balancing)
                    .to_vec(),
            });
        }
        for version in live
            .versions
            .iter()
            .rev()
            .filter(|v| !desired.versions.contains(v))
        {
            actions.push(SyncAction::Delete {
                cluster: cluster.clone(),
                version: *version,
            });
        }
    }
    ServicePlan {
        authoritative: Some(number),
        outcome: if actions.is_empty() {
            Outcome::InSync
        } else {
            Outcome::Repair { actions }
        },
    }
}

/// The manifests that create `version` in `cluster`: those of the release
/// with that number, or the authoritative release's when it serves that
/// version (a traffic-only rollback keeps a copy of its target's objects).
fn manifests_for<'a>(
    merged: &'a BTreeMap<Version, Merged<'_>>,
    authoritative: &'a Release,
    version: Version,
    cluster: &str,
) -> Option<&'a release::Manifests> {
    let own = merged
        .get(&version)
        .map(|m| m.release.as_ref())
        .filter(|r| r.spec.applies_objects())
        .and_then(|r| r.spec.manifests.get(cluster));
    own.or_else(|| {
        (authoritative.spec.serving() == version)
            .then(|| authoritative.spec.manifests.get(cluster))
            .flatten()
    })
}

#[cfg(test)]
mod tests;
