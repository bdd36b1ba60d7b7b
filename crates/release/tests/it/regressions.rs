//! Cases found by the properties (or written by hand in the same form):
//! each is a scenario as the property printed it.

use app_toml::Strategy;
use release::{Action, Event, ObjectRef, Phase, Reason, Timer, TimerKind, Timestamp};

use crate::sim::{Command, Fault, Scenario, replay, simulate};

/// Runs a scenario in the simulator and fails with the full report.
pub fn check_scenario(scenario: Scenario) {
    let report = simulate(&scenario);
    assert!(report.violations.is_empty(), "{}", report.render());
}

#[test]
fn canary_abort_while_holding_returns_traffic_and_deletes_the_canary() {
    check_scenario(Scenario {
        strategy: Strategy::Canary,
        clusters: 2,
        manual: false,
        previous: true,
        traffic_only: false,
        replay: false,
        lease_held: false,
        deadline_early: false,
        faults: vec![Fault::None, Fault::None],
        commands: vec![(30, Command::Abort)],
        abort_at_gate: true,
        crashes: vec![],
        order: vec![0],
    });
}

#[test]
fn rolling_failure_restores_the_previous_version() {
    check_scenario(Scenario {
        strategy: Strategy::Rolling,
        clusters: 3,
        manual: false,
        previous: true,
        traffic_only: false,
        replay: false,
        lease_held: false,
        deadline_early: false,
        faults: vec![
            Fault::None,
            Fault::FailRollout(Reason::CrashLoopBackOff),
            Fault::None,
        ],
        commands: vec![],
        abort_at_gate: false,
        crashes: vec![(5, 2)],
        order: vec![2, 1],
    });
}

#[test]
fn cluster_lost_after_the_switch_is_reported_lagging() {
    check_scenario(Scenario {
        strategy: Strategy::Simple,
        clusters: 3,
        manual: true,
        previous: true,
        traffic_only: false,
        replay: false,
        lease_held: false,
        deadline_early: false,
        faults: vec![
            Fault::None,
            Fault::DownAfterSwitch { returns: false },
            Fault::None,
        ],
        commands: vec![(40, Command::SetWeight(30))],
        abort_at_gate: false,
        crashes: vec![(12, 9), (30, 1)],
        order: vec![7, 3, 1],
    });
}

/// A schedule pasted as events: a lease held elsewhere in the second
/// cluster; the lease taken in the first is given back and nothing else
/// happens.
#[test]
fn replayed_denied_lease_gives_back_what_it_took() {
    let scenario = Scenario {
        strategy: Strategy::Simple,
        clusters: 2,
        manual: false,
        previous: true,
        traffic_only: false,
        replay: false,
        lease_held: false,
        deadline_early: false,
        faults: vec![Fault::None, Fault::None],
        commands: vec![],
        abort_at_gate: false,
        crashes: vec![],
        order: vec![0],
    };
    let events = vec![
        Event::Start {
            at: Timestamp("2026-11-23T12:00:00Z".to_owned()),
        },
        Event::LeaseAcquired {
            cluster: "dc-a".to_owned(),
        },
        Event::LeaseDenied {
            cluster: "dc-b".to_owned(),
            holder: "web-v3".to_owned(),
        },
        Event::Timeout {
            timer: Timer {
                kind: TimerKind::Deadline,
                seq: 1,
            },
        },
        Event::Ready {
            cluster: "dc-a".to_owned(),
            object: ObjectRef::new("batch/v1", "Job", "web", "web-migrate-v6"),
        },
    ];
    let (release, actions) = replay(&scenario, &events);
    assert_eq!(release.status.phase, Phase::Failed);
    let after_denial: Vec<String> = actions[2].iter().map(ToString::to_string).collect();
    assert_eq!(
        after_denial,
        [
            "write status failed Done",
            "dc-a: give back lease of web-v6"
        ]
    );
    assert!(
        actions[3..].iter().all(Vec::is_empty),
        "stale events change nothing"
    );
    assert!(
        !actions
            .iter()
            .flatten()
            .any(|a| matches!(a, Action::Apply { .. }))
    );
}

/// Found by the property: a crash between the final status write and giving
/// the leases back left them held; resuming a finished release now gives
/// them back again.
#[test]
fn crash_between_the_final_status_and_the_lease_release() {
    check_scenario(Scenario {
        strategy: Strategy::Simple,
        clusters: 2,
        manual: true,
        previous: false,
        traffic_only: false,
        replay: false,
        lease_held: false,
        deadline_early: false,
        faults: vec![Fault::None, Fault::None],
        commands: vec![],
        abort_at_gate: false,
        crashes: vec![(13, 1)],
        order: vec![0],
    });
}

/// Found by the property: a canary failure still in flight when someone
/// promotes is never seen before the point of no return; the release goes
/// forward (the reference model had assumed every failure is seen).
#[test]
fn promote_while_a_canary_failure_is_in_flight() {
    check_scenario(Scenario {
        strategy: Strategy::Canary,
        clusters: 3,
        manual: false,
        previous: true,
        traffic_only: false,
        replay: false,
        lease_held: false,
        deadline_early: false,
        faults: vec![
            Fault::None,
            Fault::FailUnderCanary(Reason::ImagePullBackOff),
            Fault::None,
        ],
        commands: vec![(14, Command::Promote)],
        abort_at_gate: false,
        crashes: vec![],
        order: vec![1898],
    });
}

/// Found by a deep run: an abort whose status write never happened (the
/// deployer died first) is lost; the resumed release goes on. The reference
/// model now counts an abort once it is written.
#[test]
fn abort_lost_in_a_crash_before_its_status_write() {
    check_scenario(Scenario {
        strategy: Strategy::Simple,
        clusters: 1,
        manual: true,
        previous: false,
        traffic_only: false,
        replay: false,
        lease_held: false,
        deadline_early: false,
        faults: vec![Fault::DownBeforeSwitch { returns: true }],
        commands: vec![],
        abort_at_gate: true,
        crashes: vec![(3, 0)],
        order: vec![0],
    });
}

/// Found by a deep run: the stage deadline fired, and the deployer died
/// before writing the failure; the resumed release restarts the deadline and
/// goes on (here forward, with two clusters lost after the switch).
#[test]
fn deadline_lost_in_a_crash_before_its_status_write() {
    check_scenario(Scenario {
        strategy: Strategy::Simple,
        clusters: 3,
        manual: true,
        previous: false,
        traffic_only: false,
        replay: false,
        lease_held: false,
        deadline_early: true,
        faults: vec![
            Fault::DownAfterSwitch { returns: false },
            Fault::DownAfterSwitch { returns: false },
            Fault::DownBeforeSwitch { returns: true },
        ],
        commands: vec![(0, Command::Promote)],
        abort_at_gate: false,
        crashes: vec![(9, 0)],
        order: vec![0],
    });
}

/// Audit finding 1 in the simulator: a cluster refuses every attempt to
/// send its canary traffic back to 0% during an abort; the canary's objects
/// stay there (a delete would leave 5% of its traffic pointing at nothing)
/// and the cluster is reported lagging with the refusal.
#[test]
fn abort_keeps_the_canary_where_traffic_never_went_back_to_zero() {
    let scenario = Scenario {
        strategy: Strategy::Canary,
        clusters: 2,
        manual: false,
        previous: true,
        traffic_only: false,
        replay: false,
        lease_held: false,
        deadline_early: false,
        faults: vec![Fault::None, Fault::RefuseAbort { forever: true }],
        commands: vec![(12, Command::Abort)],
        abort_at_gate: false,
        crashes: vec![],
        order: vec![0],
    };
    check_scenario(scenario.clone());
    let report = simulate(&scenario);
    let status = &report.release.status;
    assert_eq!(status.phase, Phase::Aborted, "{}", report.transcript);
    assert_eq!(
        status.lagging.keys().collect::<Vec<_>>(),
        ["dc-b"],
        "{}",
        report.transcript
    );
    assert_eq!(status.lagging["dc-b"].reason, Reason::Admission);
    assert!(
        !report.transcript.contains("dc-b: delete v6"),
        "{}",
        report.transcript
    );
}

/// Audit findings 2 and 6: after the point of no return a cluster that
/// answers but keeps refusing the switch is retried, then reported lagging
/// with the refusal, and the release ends `incomplete` (invariant 4 holds
/// through invariant 3: every other cluster serves the new version).
#[test]
fn a_reachable_cluster_that_keeps_refusing_the_switch_ends_incomplete() {
    let scenario = Scenario {
        strategy: Strategy::Simple,
        clusters: 3,
        manual: false,
        previous: true,
        traffic_only: false,
        replay: false,
        lease_held: false,
        deadline_early: false,
        faults: vec![
            Fault::None,
            Fault::RefuseAfterSwitch { forever: true },
            Fault::RefuseCleanup { forever: false },
        ],
        commands: vec![],
        abort_at_gate: false,
        crashes: vec![(20, 2)],
        order: vec![3, 1],
    };
    check_scenario(scenario.clone());
    let report = simulate(&scenario);
    let status = &report.release.status;
    assert_eq!(status.phase, Phase::Incomplete);
    assert_eq!(status.lagging.keys().collect::<Vec<_>>(), ["dc-b"]);
    assert_eq!(status.lagging["dc-b"].reason, Reason::Admission);
    assert!(status.clusters["dc-b"].reachable);
}

/// Audit finding 2: a failure under a canary weight is a failure before the
/// point of no return; the reference model knows it from the delivered
/// `Failed`, not from the planner's status.
#[test]
fn a_canary_failure_delivered_before_the_switch_fails_the_release() {
    let scenario = Scenario {
        strategy: Strategy::Canary,
        clusters: 2,
        manual: false,
        previous: true,
        traffic_only: false,
        replay: false,
        lease_held: false,
        deadline_early: false,
        faults: vec![
            Fault::FailUnderCanary(Reason::CrashLoopBackOff),
            Fault::None,
        ],
        commands: vec![],
        abort_at_gate: false,
        crashes: vec![],
        order: vec![0],
    };
    check_scenario(scenario.clone());
    assert_eq!(simulate(&scenario).release.status.phase, Phase::Failed);
}

/// Found by a deep run of the new schedules: `canary -p 0` is not an abort;
/// a cluster that refuses that 0% switch fails the release like any failure
/// before the point of no return (the reference model counts the delivered
/// refusal).
#[test]
fn a_refused_canary_weight_of_zero_fails_the_release() {
    check_scenario(Scenario {
        strategy: Strategy::Canary,
        clusters: 2,
        manual: false,
        previous: true,
        traffic_only: false,
        replay: false,
        lease_held: false,
        deadline_early: false,
        faults: vec![Fault::RefuseAbort { forever: false }, Fault::None],
        commands: vec![(9, Command::SetWeight(0))],
        abort_at_gate: false,
        crashes: vec![],
        order: vec![0],
    });
}
