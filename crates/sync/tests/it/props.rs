//! The fixpoint property: for random environments (histories of releases,
//! failed ones, canaries, tombstones, and per cluster a fault: stale, wiped,
//! unreachable, partial copies, copies caught earlier in their rollout,
//! corrupted copies, copies of another release under the same number,
//! leftovers of a failed release, a lease held or expired), performing
//! sync's actions and running sync again gives no actions; and sync's
//! outcome for every service (in flight, corrupted, conflict, nothing
//! committed, incomplete, or repaired/in sync) is the one a naive
//! reference model expects, with every reachable cluster ending in the
//! state it predicts, or untouched when nothing is to be done.
//!
//! A failing environment prints itself as Rust code: its `Debug` is an
//! `Env { .. }` expression (`vec![..]`, qualified variants), so proptest's
//! "minimal failing input" compiles, and the failure report ends with a
//! `check_env(..)` call to paste into `regressions.rs` as a test.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt;

use proptest::prelude::*;
use proptest::test_runner::TestCaseError;
use release::{Phase, Release, ReleaseKind, ReleaseSpec, Stage, Version};
use sync::{Options, Outcome, Snapshot, plan};

use crate::fixtures::*;

/// How the newest release of a service ended.
#[derive(Clone, Copy, PartialEq, Eq)]
pub enum Last {
    /// Succeeded.
    Done,
    /// A canary holding this weight (over the previous release).
    Canary(u8),
    /// Still rolling out its application stage (not committed).
    RollingOut,
    /// Failed before the switch.
    Failed,
    /// The service was deleted (a tombstone).
    Tombstone,
    /// A canary whose abort was under way when its deployer died.
    Aborting(u8),
}

/// What one cluster knows of one service.
#[derive(Clone, Copy, PartialEq, Eq)]
pub enum View {
    /// Every record, as it is.
    Fresh,
    /// Missed the newest this many releases.
    Stale(u8),
    /// Lost everything (an empty etcd).
    Wiped,
    /// Every record, but with its own cluster's manifests only.
    Partial,
    /// Still runs the objects of the last failed release.
    Leftover,
    /// Every record, and a lease of the next release, held or expired.
    Lease {
        /// The lease ran out (a crashed deployer).
        expired: bool,
    },
    /// Holds every record, but the newest one as it was earlier in its rollout.
    Behind,
    /// Holds every record, but the newest one's content changed after its
    /// digest was set (another image and Deployment body).
    Corrupted,
    /// Holds every record, but the newest one is another release under the
    /// same number (another image and Deployment body, with a digest of its
    /// own that matches): two deployers raced (spec case 6, clusters
    /// disagree).
    Conflict,
}

/// One service: its history and what each cluster knows of it.
#[derive(Clone, PartialEq, Eq)]
pub struct Service {
    /// Earlier releases: `true` when that one failed.
    pub earlier: Vec<bool>,
    /// How the newest release ended.
    pub last: Last,
    /// One view per cluster of [`CLUSTERS`].
    pub views: Vec<View>,
}

/// One generated environment: up to three services (named after
/// [`NAMES`]) over the three clusters of [`CLUSTERS`].
#[derive(Clone, PartialEq, Eq)]
pub struct Env {
    /// The services.
    pub services: Vec<Service>,
    /// Whether each cluster answers.
    pub reachable: Vec<bool>,
}

/// Prints a slice as a `vec![..]` expression.
struct VecCode<'a, T>(&'a [T]);

impl<T: fmt::Debug> fmt::Debug for VecCode<'_, T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("vec!")?;
        f.debug_list().entries(self.0).finish()
    }
}

/// Prints as a Rust expression (`Last::Canary(25)`).
impl fmt::Debug for Last {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Last::Done => write!(f, "Last::Done"),
            Last::Canary(weight) => write!(f, "Last::Canary({weight})"),
            Last::RollingOut => write!(f, "Last::RollingOut"),
            Last::Failed => write!(f, "Last::Failed"),
            Last::Tombstone => write!(f, "Last::Tombstone"),
            Last::Aborting(weight) => write!(f, "Last::Aborting({weight})"),
        }
    }
}

/// Prints as a Rust expression (`View::Lease { expired: true }`).
impl fmt::Debug for View {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            View::Fresh => write!(f, "View::Fresh"),
            View::Stale(missed) => write!(f, "View::Stale({missed})"),
            View::Wiped => write!(f, "View::Wiped"),
            View::Partial => write!(f, "View::Partial"),
            View::Leftover => write!(f, "View::Leftover"),
            View::Lease { expired } => write!(f, "View::Lease {{ expired: {expired} }}"),
            View::Behind => write!(f, "View::Behind"),
            View::Corrupted => write!(f, "View::Corrupted"),
            View::Conflict => write!(f, "View::Conflict"),
        }
    }
}

/// Prints as a Rust expression (`Service { earlier: vec![..], .. }`).
impl fmt::Debug for Service {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Service")
            .field("earlier", &VecCode(&self.earlier))
            .field("last", &self.last)
            .field("views", &VecCode(&self.views))
            .finish()
    }
}

/// Prints as a Rust expression to paste into a regression test
/// (`check_env(Env { .. })`); `{:#?}` spreads it over lines.
impl fmt::Debug for Env {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Env")
            .field("services", &VecCode(&self.services))
            .field("reachable", &VecCode(&self.reachable))
            .finish()
    }
}

/// The names of the services, in order.
pub const NAMES: [&str; 3] = ["web", "api", "db"];

fn last() -> impl Strategy<Value = Last> {
    prop_oneof![
        3 => Just(Last::Done),
        1 => (1u8..=99).prop_map(Last::Canary),
        1 => Just(Last::RollingOut),
        1 => Just(Last::Failed),
        1 => Just(Last::Tombstone),
        1 => (0u8..=99).prop_map(Last::Aborting),
    ]
}

fn view() -> impl Strategy<Value = View> {
    prop_oneof![
        4 => Just(View::Fresh),
        2 => (1u8..=3).prop_map(View::Stale),
        1 => Just(View::Wiped),
        1 => Just(View::Partial),
        1 => Just(View::Leftover),
        1 => any::<bool>().prop_map(|expired| View::Lease { expired }),
        2 => Just(View::Behind),
        1 => Just(View::Corrupted),
        1 => Just(View::Conflict),
    ]
}

fn env() -> impl Strategy<Value = Env> {
    (
        prop::collection::vec(
            (
                prop::collection::vec(prop::bool::weighted(0.2), 0..6),
                last(),
                prop::collection::vec(view(), 3),
            )
                .prop_map(|(earlier, last, views)| Service {
                    earlier,
                    last,
                    views,
                }),
            1..=3,
        ),
        prop::collection::vec(prop::bool::weighted(0.85), 3),
    )
        .prop_map(|(services, reachable)| Env {
            services,
            reachable,
        })
}

/// The true history of one service: its records as the deployer left them.
fn history(name: &str, service: &Service) -> Vec<Release> {
    let mut records = Vec::new();
    let mut serving: Option<u64> = None;
    let count = service.earlier.len() as u64 + 1;
    for (index, failed) in service.earlier.iter().enumerate() {
        let number = index as u64 + 1;
        let mut record = done(name, number, serving);
        if *failed {
            finish(&mut record, Phase::Failed);
        } else {
            serving = Some(number);
        }
        records.push(record);
    }
    let record = match (service.last, serving) {
        (Last::Tombstone, _) => tombstone(name, count),
        (Last::Canary(weight), Some(previous)) => canary(name, count, previous, weight),
        (Last::RollingOut, Some(previous)) => rolling_out(name, count, previous),
        (Last::Aborting(weight), Some(previous)) => {
            let mut record = canary(name, count, previous, weight);
            record.status.step = release::Step::AbortTraffic {
                then: Phase::Aborted,
            };
            record.status.revision = 200;
            record
        }
        (Last::Failed, Some(previous)) => {
            let mut record = rolling_out(name, count, previous);
            finish(&mut record, Phase::Failed);
            record
        }
        _ => done(name, count, serving),
    };
    records.push(record);
    records
}

/// The naive reference: the highest number whose latest copy reached
/// balancing (or is a tombstone), and what it asks to run.
fn naive_desired(records: &[&Release]) -> Option<(BTreeSet<Version>, Option<sync::Traffic>)> {
    naive_authoritative(records).map(|(_, versions, traffic)| (versions, traffic))
}

/// The authoritative number and what it asks to run.
type Authoritative = (Version, BTreeSet<Version>, Option<sync::Traffic>);

/// [`naive_desired`] with the authoritative release's number.
fn naive_authoritative(records: &[&Release]) -> Option<Authoritative> {
    let mut numbers: Vec<Version> = records.iter().map(|r| r.spec.number).collect();
    numbers.sort();
    numbers.dedup();
    for number in numbers.into_iter().rev() {
        let copies: Vec<&&Release> = records.iter().filter(|r| r.spec.number == number).collect();
        let most_final = *copies.iter().max_by_key(|r| r.status.revision)?;
        let status = &most_final.status;
        let aborting = matches!(
            status.step,
            release::Step::AbortTraffic { .. } | release::Step::AbortDelete { .. }
        );
        let committed = most_final.spec.kind == ReleaseKind::Delete
            || status.point_of_no_return
            || (status.reached >= Some(Stage::Balancing)
                && !aborting
                && !matches!(status.phase, Phase::Failed | Phase::Aborted));
        if !committed {
            continue;
        }
        if most_final.spec.kind == ReleaseKind::Delete {
            return Some((number, BTreeSet::new(), None));
        }
        let serving = most_final.spec.serving();
        if !status.phase.is_finished()
            && !status.point_of_no_return
            && let Some(previous) = most_final.spec.previous
        {
            return Some((
                number,
                [serving, previous].into_iter().collect(),
                Some(sync::Traffic {
                    version: serving,
                    weight: status.weight,
                    stable: Some(previous),
                }),
            ));
        }
        return Some((
            number,
            [serving].into_iter().collect(),
            Some(sync::Traffic::all(serving)),
        ));
    }
    None
}

/// What the naive reference expects sync to decide for one service.
#[derive(Debug)]
enum Naive {
    /// A lease held and not expired in a reachable cluster.
    InFlight,
    /// A reachable copy's content does not match its digest.
    Corrupted,
    /// Reachable copies of one number describe different releases.
    Conflict,
    /// No release of the service ever committed.
    Nothing,
    /// A cluster needs a version no reachable copy has manifests for.
    Incomplete,
    /// Every reachable cluster ends running this, holding these records.
    Converge {
        versions: BTreeSet<Version>,
        traffic: Option<sync::Traffic>,
        records: BTreeSet<Version>,
    },
}

/// Two copies of one number describe the same release: everything but the
/// manifests (and the digest, which follows from the rest) is equal, and
/// they hold the same manifests for the clusters both hold.
fn naive_same_release(a: &ReleaseSpec, b: &ReleaseSpec) -> bool {
    let rest = |spec: &ReleaseSpec| ReleaseSpec {
        manifests: BTreeMap::new(),
        digest: String::new(),
        ..spec.clone()
    };
    rest(a) == rest(b)
        && a.manifests
            .iter()
            .all(|(cluster, m)| b.manifests.get(cluster).is_none_or(|n| n == m))
}

fn records_of<'a>(snapshot: &'a Snapshot, service: &'a str) -> impl Iterator<Item = &'a Release> {
    snapshot
        .records
        .iter()
        .filter(move |r| r.spec.service == service)
}

/// The naive reference for one service, from the snapshots alone.
fn naive_outcome(service: &str, snapshots: &[Snapshot]) -> Naive {
    let reachable: Vec<&Snapshot> = snapshots.iter().filter(|s| s.reachable).collect();
    let leased = reachable.iter().any(|s| {
        s.live
            .get(service)
            .and_then(|l| l.lease.as_ref())
            .is_some_and(|l| !l.expired)
    });
    if leased {
        return Naive::InFlight;
    }
    let records: Vec<&Release> = reachable
        .iter()
        .flat_map(|s| records_of(s, service))
        .collect();
    // A copy is corrupted when, completed with the manifests other copies
    // of the same release (same number, same digest) hold, it does not hash
    // to its digest.
    let corrupted = records.iter().any(|record| {
        let mut completed = record.spec.clone();
        for other in records
            .iter()
            .filter(|r| r.spec.number == record.spec.number && r.spec.digest == record.spec.digest)
        {
            for (cluster, manifests) in &other.spec.manifests {
                completed
                    .manifests
                    .entry(cluster.clone())
                    .or_insert_with(|| manifests.clone());
            }
        }
        completed.is_complete() && completed.fingerprint() != completed.digest
    });
    if corrupted {
        return Naive::Corrupted;
    }
    // Copies of one number conflict when they describe different releases:
    // their specs differ in more than which clusters' manifests they hold.
    let conflict = records.iter().any(|a| {
        records
            .iter()
            .any(|b| a.spec.number == b.spec.number && !naive_same_release(&a.spec, &b.spec))
    });
    if conflict {
        return Naive::Conflict;
    }
    let Some((number, versions, traffic)) = naive_authoritative(&records) else {
        return Naive::Nothing;
    };
    for snapshot in &reachable {
        let live = snapshot.live.get(service).cloned().unwrap_or_default();
        for version in versions.difference(&live.versions) {
            let held = records.iter().any(|r| {
                r.spec.number == *version && r.spec.manifests.contains_key(&snapshot.cluster)
            });
            if !held {
                return Naive::Incomplete;
            }
        }
    }
    // History: the last HISTORY numbers, the authoritative one and those
    // it runs, when a record of them exists.
    let numbers: BTreeSet<Version> = records.iter().map(|r| r.spec.number).collect();
    let mut kept: BTreeSet<Version> = numbers.iter().rev().take(HISTORY).copied().collect();
    kept.insert(number);
    kept.extend(versions.iter().filter(|v| numbers.contains(v)));
    Naive::Converge {
        versions,
        traffic,
        records: kept,
    }
}

/// The history the property runs sync with: short, so pruning happens.
const HISTORY: usize = 3;

/// The same release earlier in its rollout: a finished one still rolling
/// out its application stage, a canary at a lower weight.
fn behind(record: &Release) -> Release {
    let mut earlier = record.clone();
    if record.spec.kind == ReleaseKind::Delete {
        return earlier;
    }
    let status = &mut earlier.status;
    if status.step == release::Step::CanaryHold {
        status.weight = (status.weight / 2).max(1);
        status.revision = 4 + u64::from(status.weight);
    } else {
        status.revision = 3;
        status.phase = Phase::Running;
        status.step = release::Step::Rollout {
            stage: Stage::Application,
        };
        status.point_of_no_return = false;
        status.reached = Some(Stage::Application);
        status.stage = Some(Stage::Application);
        status.weight = 0;
    }
    earlier
}

fn snapshots(env: &Env) -> Vec<Snapshot> {
    let mut snapshots: Vec<Snapshot> = CLUSTERS
        .iter()
        .zip(&env.reachable)
        .map(|(cluster, reachable)| {
            let mut s = snapshot(cluster, vec![], vec![]);
            s.reachable = *reachable;
            s
        })
        .collect();
    for (index, service) in env.services.iter().enumerate() {
        let name = NAMES[index];
        let truth = history(name, service);
        for (cluster, view) in service.views.iter().enumerate() {
            let snapshot = &mut snapshots[cluster];
            let keep = match view {
                View::Stale(k) => truth.len().saturating_sub(*k as usize),
                View::Wiped => 0,
                _ => truth.len(),
            };
            let mut records: Vec<Release> = truth[..keep].to_vec();
            if let View::Behind = view
                && let Some(newest) = records.last_mut()
            {
                *newest = behind(newest);
            }
            if let View::Corrupted = view
                && let Some(newest) = records.last_mut()
            {
                newest.spec.image.push_str("-tampered");
                for manifests in newest.spec.manifests.values_mut() {
                    for object in &mut manifests.application {
                        object.body["spec"] = serde_json::json!({"replicas": 0});
                    }
                }
            }
            if let View::Conflict = view
                && let Some(newest) = records.last_mut()
            {
                newest.spec.image.push_str("-raced");
                for manifests in newest.spec.manifests.values_mut() {
                    for object in &mut manifests.application {
                        object.body["spec"] = serde_json::json!({"replicas": 2});
                    }
                }
                newest.spec.digest = newest.spec.fingerprint();
            }
            if let View::Partial = view {
                for record in &mut records {
                    record.spec.manifests.retain(|c, _| c == CLUSTERS[cluster]);
                }
            }
            let refs: Vec<&Release> = records.iter().collect();
            if let Some((versions, traffic)) = naive_desired(&refs)
                && (traffic.is_some() || !versions.is_empty())
            {
                let mut versions = versions;
                if let View::Leftover = view
                    && let Some(failed) =
                        truth.iter().rev().find(|r| r.status.phase == Phase::Failed)
                {
                    versions.insert(failed.spec.number);
                }
                let mut l = live(&[], traffic);
                l.versions = versions;
                if let View::Lease { expired } = view {
                    l.lease = lease(&format!("{name}-v{}", truth.len() + 1), *expired);
                }
                snapshot.live.insert(name.to_owned(), l);
            }
            snapshot.records.extend(records);
        }
    }
    snapshots
}

/// Returns early with an error message when a condition fails.
macro_rules! ensure {
    ($condition:expr, $($message:tt)+) => {
        if !$condition {
            return Err(format!($($message)+));
        }
    };
}

/// The property on one environment: performing sync's actions and running
/// sync again gives no actions, and every service ends where the reference
/// model says. `Err` says what went wrong.
pub fn check(env: &Env) -> Result<(), String> {
    let options = Options { history: HISTORY };
    let initial = snapshots(env);
    let mut state = initial.clone();
    let unreachable_before: BTreeMap<String, Snapshot> = state
        .iter()
        .filter(|s| !s.reachable)
        .map(|s| (s.cluster.clone(), s.clone()))
        .collect();
    let first = plan(&state, &options);
    for action in first.actions() {
        ensure!(
            !unreachable_before.contains_key(action.cluster()),
            "action for an unreachable cluster: {action}\nfirst:\n{first}"
        );
    }
    perform_plan(&mut state, &first);
    let second = plan(&state, &options);
    ensure!(
        second.is_idle(),
        "not a fixpoint\nfirst:\n{first}\nsecond:\n{second}"
    );

    // The reference model, for every service and every outcome.
    for (service, service_plan) in &first.services {
        let expected = naive_outcome(service, &initial);
        let unchanged = || {
            initial.iter().zip(&state).all(|(before, after)| {
                before.live.get(service) == after.live.get(service)
                    && records_of(before, service).eq(records_of(after, service))
            })
        };
        match (&expected, &service_plan.outcome) {
            (Naive::InFlight, Outcome::InFlight { .. })
            | (Naive::Corrupted, Outcome::Corrupted { .. })
            | (Naive::Conflict, Outcome::Conflict { .. })
            | (Naive::Nothing, Outcome::NothingCommitted | Outcome::InSync)
            | (Naive::Incomplete, Outcome::Incomplete { .. }) => {
                ensure!(
                    unchanged(),
                    "{service}: {:?} changed the clusters\nfirst:\n{first}",
                    service_plan.outcome
                );
            }
            (
                Naive::Converge {
                    versions,
                    traffic,
                    records: numbers,
                },
                Outcome::Repair { .. } | Outcome::InSync,
            ) => {
                for snapshot in state.iter().filter(|s| s.reachable) {
                    let cluster = &snapshot.cluster;
                    let live = snapshot.live.get(service).cloned().unwrap_or_default();
                    ensure!(
                        &live.versions == versions,
                        "{service} in {cluster} runs {:?}, the reference expects {versions:?}\nfirst:\n{first}",
                        live.versions
                    );
                    let (got, want) = (
                        live.traffic.map(sync::Traffic::normalised),
                        traffic.map(sync::Traffic::normalised),
                    );
                    ensure!(
                        got == want,
                        "{service} in {cluster} has traffic {got:?}, the reference expects {want:?}\nfirst:\n{first}"
                    );
                    // Every reachable cluster ends with the history kept, no more.
                    let held: BTreeSet<Version> = records_of(snapshot, service)
                        .map(|r| r.spec.number)
                        .collect();
                    ensure!(
                        &held == numbers,
                        "{service} in {cluster} holds the records {held:?}, the reference expects {numbers:?}\nfirst:\n{first}"
                    );
                }
            }
            (expected, outcome) => {
                // The plan below shows the outcome in full, actions included.
                let decided = match outcome {
                    Outcome::InSync => "in sync",
                    Outcome::Repair { .. } => "repair",
                    Outcome::InFlight { .. } => "in flight",
                    Outcome::Conflict { .. } => "conflict",
                    Outcome::Corrupted { .. } => "corrupted",
                    Outcome::Incomplete { .. } => "incomplete",
                    Outcome::NothingCommitted => "nothing committed",
                };
                return Err(format!(
                    "{service}: the reference expects {expected:?}, sync decided {decided}\nfirst:\n{first}"
                ));
            }
        }
    }
    Ok(())
}

/// What a failing environment prints: what went wrong, then the case as a
/// regression test to paste into `tests/it/regressions.rs`.
pub fn report(env: &Env, failure: &str) -> String {
    format!(
        "{failure}\n\
         regression test (paste into crates/sync/tests/it/regressions.rs):\n\
         #[test]\nfn regression() {{\n    check_env({env:?});\n}}\n"
    )
}

proptest! {
    // 256 cases by default; `PROPTEST_CASES=20000` for a deep run.
    // A failing case is also saved (`tests/proptest-regressions/props.txt`,
    // committed) and replayed first; paste the `check_env(..)` it prints
    // into `regressions.rs` to keep it as a named test.
    #![proptest_config(ProptestConfig::default())]

    /// Performing sync's actions and running sync again gives no actions,
    /// and the clusters end where the reference model says.
    #[test]
    fn sync_reaches_a_fixpoint_matching_the_reference(env in env()) {
        check(&env).map_err(|failure| TestCaseError::fail(report(&env, &failure)))?;
    }
}

/// The property is not vacuous: the generated environments reach every
/// outcome of sync, each one both from sync and from the reference model.
#[test]
fn generated_environments_cover_every_outcome() {
    use proptest::strategy::ValueTree;
    use proptest::test_runner::{Config, RngAlgorithm, TestRng, TestRunner};

    let rng = TestRng::from_seed(RngAlgorithm::ChaCha, &[7; 32]);
    let mut runner = TestRunner::new_with_rng(Config::default(), rng);
    let mut outcomes: BTreeMap<String, usize> = BTreeMap::new();
    let options = Options { history: HISTORY };
    for _ in 0..300 {
        let env = env()
            .new_tree(&mut runner)
            .expect("an environment")
            .current();
        let snapshots = snapshots(&env);
        for (service, service_plan) in plan(&snapshots, &options).services {
            let naive = naive_outcome(&service, &snapshots);
            let name = match (&service_plan.outcome, naive) {
                (Outcome::InSync, Naive::Converge { .. }) => "in-sync",
                (Outcome::Repair { .. }, Naive::Converge { .. }) => "repair",
                (Outcome::InFlight { .. }, Naive::InFlight) => "in-flight",
                (Outcome::Conflict { .. }, Naive::Conflict) => "conflict",
                (Outcome::Corrupted { .. }, Naive::Corrupted) => "corrupted",
                (Outcome::Incomplete { .. }, Naive::Incomplete) => "incomplete",
                (Outcome::NothingCommitted, Naive::Nothing) => "nothing-committed",
                _ => "mismatch",
            };
            *outcomes.entry(name.to_owned()).or_default() += 1;
        }
    }
    for outcome in [
        "in-sync",
        "repair",
        "in-flight",
        "conflict",
        "corrupted",
        "incomplete",
        "nothing-committed",
    ] {
        assert!(
            outcomes.get(outcome).copied().unwrap_or(0) > 0,
            "no {outcome} in {outcomes:?}"
        );
    }
}
