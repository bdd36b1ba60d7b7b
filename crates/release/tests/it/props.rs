//! Properties: the planner under random strategies, event orders and fault
//! schedules (unreachable clusters, failed rollouts, early deadlines, crash
//! and resume, commands at random times, clusters that answer but refuse
//! the switch, the cleanup or the abort), checked by the simulator against
//! the five invariants and the reference model. A failure prints the
//! scenario as Rust code and the delivered events as a `vec![..]`.
//!
//! The weights favour canaries, aborts and refusals: those are the schedules
//! where a planner that ignores an abort or a failure, or leaves a cluster
//! behind silently, shows. With the default 256 cases, each such mutation
//! of the planner fails this property (checked with several seeds).

use app_toml::Strategy as Rollout;
use proptest::prelude::*;
use release::Reason;

use crate::sim::{Command, Fault, Scenario, simulate};

fn strategy() -> impl Strategy<Value = Rollout> {
    // Canaries weigh more: they have the most states to abort or fail in.
    prop_oneof![
        2 => Just(Rollout::Simple),
        1 => Just(Rollout::Rolling),
        3 => Just(Rollout::Canary),
        1 => Just(Rollout::BlueGreen),
    ]
}

fn reason() -> impl Strategy<Value = Reason> {
    prop_oneof![
        Just(Reason::ImagePullBackOff),
        Just(Reason::CrashLoopBackOff),
        Just(Reason::Unschedulable),
        Just(Reason::Quota),
        Just(Reason::Admission),
    ]
}

fn fault() -> impl Strategy<Value = Fault> {
    prop_oneof![
        5 => Just(Fault::None),
        1 => reason().prop_map(Fault::FailRollout),
        1 => any::<bool>().prop_map(|returns| Fault::DownBeforeSwitch { returns }),
        1 => any::<bool>().prop_map(|returns| Fault::DownAfterSwitch { returns }),
        2 => reason().prop_map(Fault::FailUnderCanary),
        1 => Just(Fault::Wiped),
        2 => any::<bool>().prop_map(|forever| Fault::RefuseAfterSwitch { forever }),
        1 => any::<bool>().prop_map(|forever| Fault::RefuseCleanup { forever }),
        3 => any::<bool>().prop_map(|forever| Fault::RefuseAbort { forever }),
    ]
}

fn command() -> impl Strategy<Value = Command> {
    prop_oneof![
        2 => Just(Command::Abort),
        1 => Just(Command::Promote),
        1 => (0u8..=100).prop_map(Command::SetWeight),
    ]
}

fn scenario() -> impl Strategy<Value = Scenario> {
    (
        strategy(),
        1usize..=3,
        any::<bool>(),
        prop::bool::weighted(0.8),
        prop_oneof![2 => Just(0u8), 1 => Just(1u8), 1 => Just(2u8)],
        prop::bool::weighted(0.1),
        prop::bool::weighted(0.1),
        prop::collection::vec(fault(), 3),
        prop::collection::vec((0u16..40, command()), 0..4),
        prop::bool::weighted(0.2),
        prop::collection::vec((0u16..40, 0u8..6), 0..3),
        prop::collection::vec(any::<u16>(), 1..12),
    )
        .prop_map(
            |(
                strategy,
                clusters,
                manual,
                previous,
                rollback,
                lease_held,
                deadline_early,
                mut faults,
                commands,
                abort_at_gate,
                crashes,
                order,
            )| {
                faults.truncate(clusters);
                // 1: a traffic-only rollback, 2: a replayed one (rollbacks
                // are simple or rolling; blue-green adds its gate).
                let traffic_only = rollback == 1
                    && previous
                    && matches!(strategy, Rollout::Simple | Rollout::BlueGreen);
                let replay = rollback == 2 && previous && strategy != Rollout::Canary;
                Scenario {
                    strategy,
                    clusters,
                    manual,
                    previous,
                    traffic_only,
                    replay,
                    lease_held,
                    deadline_early,
                    faults,
                    commands,
                    abort_at_gate,
                    crashes,
                    order,
                }
            },
        )
}

proptest! {
    // 256 cases by default; `PROPTEST_CASES=20000` for a deep run.
    // A failing case is also saved (`tests/proptest-regressions/props.txt`,
    // committed) and replayed first.
    #![proptest_config(ProptestConfig::default())]

    /// The five invariants and the reference model on every trace.
    #[test]
    fn planner_invariants_hold_under_faults(scenario in scenario()) {
        let report = simulate(&scenario);
        prop_assert!(report.violations.is_empty(), "{}", report.render());
    }
}

/// The properties are not vacuous: the generated schedules reach every
/// ending, cross crashes, and leave clusters behind (also clusters that
/// answer but keep refusing, after the switch and during an abort).
#[test]
fn generated_schedules_cover_every_ending() {
    use std::collections::BTreeMap;

    use proptest::strategy::ValueTree;
    use proptest::test_runner::{Config, RngAlgorithm, TestRng, TestRunner};

    let rng = TestRng::from_seed(RngAlgorithm::ChaCha, &[7; 32]);
    let mut runner = TestRunner::new_with_rng(Config::default(), rng);
    let mut endings: BTreeMap<String, usize> = BTreeMap::new();
    for _ in 0..300 {
        let scenario = scenario()
            .new_tree(&mut runner)
            .expect("a scenario")
            .current();
        let report = simulate(&scenario);
        let status = &report.release.status;
        *endings.entry(format!("{}", status.phase)).or_default() += 1;
        if report.events.contains(&release::Event::Resume) {
            *endings.entry("crash-resumed".to_owned()).or_default() += 1;
        }
        let lagging_reachable = status
            .lagging
            .keys()
            .any(|c| status.clusters.get(c).is_some_and(|s| s.reachable));
        if status.phase == release::Phase::Incomplete && lagging_reachable {
            *endings
                .entry("incomplete-with-a-reachable-cluster-behind".to_owned())
                .or_default() += 1;
        }
        if matches!(
            status.phase,
            release::Phase::Failed | release::Phase::Aborted
        ) && lagging_reachable
        {
            *endings
                .entry("wound-down-with-a-reachable-cluster-behind".to_owned())
                .or_default() += 1;
        }
        if status.step == release::Step::Done
            && scenario.strategy == Rollout::Canary
            && status.phase == release::Phase::Aborted
            && report
                .events
                .iter()
                .any(|e| matches!(e, release::Event::TrafficSwitched { weight: 0, .. }))
        {
            *endings
                .entry("canary-aborted-with-traffic".to_owned())
                .or_default() += 1;
        }
    }
    for ending in [
        "succeeded",
        "incomplete",
        "failed",
        "aborted",
        "crash-resumed",
        "canary-aborted-with-traffic",
        "incomplete-with-a-reachable-cluster-behind",
        "wound-down-with-a-reachable-cluster-behind",
    ] {
        assert!(
            endings.get(ending).copied().unwrap_or(0) > 0,
            "no {ending} in {endings:?}"
        );
    }
}
