//! Transcripts of typical rollouts: every event the simulated adapter
//! delivered and the actions the planner answered with, as snapshots. They
//! show each strategy's shape; the invariants are checked on each too.

use app_toml::Strategy;
use release::{Phase, Reason};

use crate::sim::{Command, Fault, Scenario, simulate};

/// Runs a scenario (events in queue order), checks it and snapshots the transcript.
fn check(name: &str, scenario: Scenario, phase: Phase) {
    let report = simulate(&scenario);
    assert!(report.violations.is_empty(), "{}", report.render());
    assert_eq!(report.release.status.phase, phase, "{}", report.transcript);
    let failures: Vec<String> = report
        .release
        .status
        .failures
        .iter()
        .map(ToString::to_string)
        .collect();
    let lagging: Vec<String> = report
        .release
        .status
        .lagging
        .values()
        .map(ToString::to_string)
        .collect();
    let text = format!(
        "{}\nphase: {}\nfailures: {failures:#?}\nlagging: {lagging:#?}\n",
        report.transcript, report.release.status.phase
    );
    insta::assert_snapshot!(name, text);
}

fn base(strategy: Strategy, clusters: usize) -> Scenario {
    Scenario {
        strategy,
        clusters,
        manual: false,
        previous: true,
        traffic_only: false,
        replay: false,
        lease_held: false,
        deadline_early: false,
        faults: vec![Fault::None; clusters],
        commands: vec![],
        abort_at_gate: false,
        crashes: vec![],
        order: vec![0],
    }
}

#[test]
fn simple_two_clusters() {
    check(
        "simple_two_clusters",
        base(Strategy::Simple, 2),
        Phase::Succeeded,
    );
}

#[test]
fn blue_green_waits_at_the_gate_before_the_switch() {
    check("blue_green", base(Strategy::BlueGreen, 2), Phase::Succeeded);
}

#[test]
fn canary_steps_then_promote() {
    let scenario = Scenario {
        commands: vec![(12, Command::SetWeight(40))],
        ..base(Strategy::Canary, 2)
    };
    check("canary_steps", scenario, Phase::Succeeded);
}

#[test]
fn canary_abort_goes_back_to_zero_and_deletes() {
    let scenario = Scenario {
        commands: vec![(11, Command::Abort)],
        ..base(Strategy::Canary, 2)
    };
    check("canary_abort", scenario, Phase::Aborted);
}

#[test]
fn rolling_in_place() {
    check("rolling", base(Strategy::Rolling, 2), Phase::Succeeded);
}

#[test]
fn image_pull_failure_in_one_cluster_aborts_everywhere() {
    let scenario = Scenario {
        faults: vec![Fault::None, Fault::FailRollout(Reason::ImagePullBackOff)],
        ..base(Strategy::Simple, 2)
    };
    check("image_pull_failure", scenario, Phase::Failed);
}

#[test]
fn cluster_lost_after_the_switch_is_retried_then_reported() {
    let scenario = Scenario {
        faults: vec![Fault::None, Fault::DownAfterSwitch { returns: false }],
        ..base(Strategy::Simple, 2)
    };
    check("lost_after_switch", scenario, Phase::Incomplete);
}

#[test]
fn crash_during_application_resumes_from_the_stored_status() {
    let scenario = Scenario {
        crashes: vec![(6, 1)],
        ..base(Strategy::Simple, 2)
    };
    check("crash_resume", scenario, Phase::Succeeded);
}

#[test]
fn traffic_only_rollback() {
    let scenario = Scenario {
        traffic_only: true,
        replay: false,
        ..base(Strategy::Simple, 2)
    };
    check("traffic_only_rollback", scenario, Phase::Succeeded);
}

#[test]
fn lease_held_by_another_release() {
    let scenario = Scenario {
        lease_held: true,
        ..base(Strategy::Simple, 2)
    };
    check("lease_held", scenario, Phase::Failed);
}

#[test]
fn manual_gates_and_abort_after_the_switch_is_rejected() {
    let scenario = Scenario {
        manual: true,
        commands: vec![(8, Command::Abort)],
        ..base(Strategy::Simple, 1)
    };
    check("manual_gates", scenario, Phase::Succeeded);
}
