//! Unit tests of single transitions: stale and foreign events, refused
//! commands, idempotency. Whole rollouts are in the integration tests.

use std::collections::BTreeMap;

use app_toml::Strategy;
use serde_json::json;

use crate::*;

fn release(strategy: Strategy) -> Release {
    let object = |kind: &str, name: &str| Object {
        reference: ObjectRef::new("apps/v1", kind, "web", name),
        body: json!({"kind": kind}),
    };
    let manifests = Manifests {
        init: vec![],
        application: vec![object("Deployment", "web-v2")],
        balancing: vec![object("Service", "web")],
    };
    Release::new(ReleaseSpec {
        service: "web".to_owned(),
        environment: "prod".to_owned(),
        number: Version(2),
        kind: ReleaseKind::Deploy,
        strategy,
        image: "web:2".to_owned(),
        app_toml: String::new(),
        platform_version: "1".to_owned(),
        clusters: vec!["a".to_owned(), "b".to_owned()],
        manifests: BTreeMap::from([
            ("a".to_owned(), manifests.clone()),
            ("b".to_owned(), manifests),
        ]),
        releaser: "alice".to_owned(),
        time: Timestamp::default(),
        commit: String::new(),
        linked_tasks: vec![],
        previous: Some(Version(1)),
        rollback: None,
        options: Options::default(),
        digest: String::new(),
    })
    .expect("valid")
}

fn run(mut release: Release, events: &[Event]) -> (Release, Vec<Action>) {
    let mut last = Vec::new();
    for event in events {
        let (next, actions) = step(release, event);
        release = next;
        last = actions;
    }
    (release, last)
}

fn started(strategy: Strategy) -> Release {
    run(
        release(strategy),
        &[
            Event::Start {
                at: Timestamp("t0".to_owned()),
            },
            Event::LeaseAcquired {
                cluster: "a".to_owned(),
            },
            Event::LeaseAcquired {
                cluster: "b".to_owned(),
            },
        ],
    )
    .0
}

fn deployment() -> ObjectRef {
    ObjectRef::new("apps/v1", "Deployment", "web", "web-v2")
}

fn rejected(actions: &[Action]) -> bool {
    matches!(actions, [Action::Rejected { .. }])
}

#[test]
fn an_empty_init_stage_is_skipped() {
    let release = started(Strategy::Simple);
    assert_eq!(
        release.status.step,
        Step::Rollout {
            stage: Stage::Application
        }
    );
}

#[test]
fn duplicate_and_foreign_events_change_nothing() {
    let release = started(Strategy::Simple);
    let ready = Event::Ready {
        cluster: "a".to_owned(),
        object: deployment(),
    };
    let (once, _) = step(release, &ready);
    let (twice, actions) = step(once.clone(), &ready);
    assert_eq!((&twice, actions.as_slice()), (&once, &[][..]));
    for event in [
        Event::Ready {
            cluster: "elsewhere".to_owned(),
            object: deployment(),
        },
        Event::Deleted {
            cluster: "a".to_owned(),
            version: Version(1),
        },
        Event::TrafficSwitched {
            cluster: "a".to_owned(),
            version: Version(2),
            weight: 100,
        },
        Event::Timeout {
            timer: Timer {
                kind: TimerKind::Deadline,
                seq: 1,
            },
        },
    ] {
        let (after, actions) = step(once.clone(), &event);
        assert_eq!(after, once, "{event:?} changed the state");
        assert!(actions.is_empty(), "{event:?} gave {actions:?}");
    }
}

#[test]
fn commands_that_do_not_apply_are_rejected() {
    let release = started(Strategy::Simple);
    for command in [
        Event::Start {
            at: Timestamp::default(),
        },
        Event::Promote,
        Event::SetWeight { weight: 10 },
    ] {
        let (after, actions) = step(release.clone(), &command);
        assert_eq!(after, release);
        assert!(rejected(&actions), "{command:?} gave {actions:?}");
    }
}

#[test]
fn a_deadline_before_the_switch_names_the_cluster_and_object() {
    let release = started(Strategy::Simple);
    let (release, _) = step(
        release,
        &Event::Ready {
            cluster: "a".to_owned(),
            object: deployment(),
        },
    );
    let timer = release.status.timer.expect("a deadline runs");
    let (release, actions) = step(release, &Event::Timeout { timer });
    assert_eq!(
        release.status.failures[0].to_string(),
        "b: Deployment web/web-v2: ProgressDeadlineExceeded: not ready within 600s"
    );
    assert!(actions.contains(&Action::Delete {
        cluster: "b".to_owned(),
        version: Version(2)
    }));
    assert!(!actions.iter().any(|a| matches!(
        a,
        Action::Delete {
            version: Version(1),
            ..
        }
    )));
}

#[test]
fn resume_at_a_gate_waits_and_elsewhere_reissues() {
    let release = started(Strategy::BlueGreen);
    let (resumed, actions) = step(release.clone(), &Event::Resume);
    let applies = actions
        .iter()
        .filter(|a| matches!(a, Action::Apply { .. }))
        .count();
    assert_eq!(applies, 2);
    assert_eq!(resumed.status.step, release.status.step);
    let at_gate = run(
        release,
        &[
            Event::Ready {
                cluster: "a".to_owned(),
                object: deployment(),
            },
            Event::Ready {
                cluster: "b".to_owned(),
                object: deployment(),
            },
        ],
    )
    .0;
    assert_eq!(
        at_gate.status.step,
        Step::Gate {
            after: Stage::Application
        }
    );
    let (after, actions) = step(at_gate.clone(), &Event::Resume);
    assert_eq!((after, actions), (at_gate, vec![]));
}

#[test]
fn the_status_is_written_before_the_first_switch() {
    let release = started(Strategy::Simple);
    let (release, actions) = run(
        release,
        &[
            Event::Ready {
                cluster: "a".to_owned(),
                object: deployment(),
            },
            Event::Ready {
                cluster: "b".to_owned(),
                object: deployment(),
            },
        ],
    );
    assert!(release.status.point_of_no_return);
    assert!(matches!(actions[0], Action::WriteStatus { .. }));
    assert!(matches!(
        actions[1],
        Action::SwitchTraffic { weight: 100, .. }
    ));
}

fn deadline(release: &Release) -> Event {
    Event::Timeout {
        timer: release.status.timer.expect("a timer runs"),
    }
}

/// Audit finding 1: a cluster that never confirmed 0% during an abort still
/// sends part of its traffic to the canary, so the canary must not be
/// deleted there; the cluster is left lagging with the reason.
#[test]
fn an_aborted_canary_is_kept_where_traffic_did_not_go_back_to_zero() {
    let mut release = release(Strategy::Canary);
    release.spec.options.max_retries = 0;
    let (release, _) = run(
        release,
        &[
            Event::Start {
                at: Timestamp("t0".to_owned()),
            },
            Event::LeaseAcquired {
                cluster: "a".to_owned(),
            },
            Event::LeaseAcquired {
                cluster: "b".to_owned(),
            },
            Event::Ready {
                cluster: "a".to_owned(),
                object: deployment(),
            },
            Event::Ready {
                cluster: "b".to_owned(),
                object: deployment(),
            },
        ],
    );
    let first = release.spec.options.canary_steps[0];
    let (release, _) = run(
        release,
        &[
            Event::TrafficSwitched {
                cluster: "a".to_owned(),
                version: Version(2),
                weight: first,
            },
            Event::TrafficSwitched {
                cluster: "b".to_owned(),
                version: Version(2),
                weight: first,
            },
            Event::Abort,
            Event::TrafficSwitched {
                cluster: "a".to_owned(),
                version: Version(2),
                weight: 0,
            },
            Event::Failed {
                cluster: "b".to_owned(),
                object: None,
                reason: Reason::Admission,
                message: "webhook denied VirtualService".to_owned(),
            },
        ],
    );
    let timeout = deadline(&release);
    let (release, actions) = step(release, &timeout);
    let deletes: Vec<String> = actions
        .iter()
        .filter(|a| matches!(a, Action::Delete { .. }))
        .map(ToString::to_string)
        .collect();
    assert_eq!(deletes, ["a: delete v2"], "{actions:?}");
    assert_eq!(release.status.clusters["b"].weight, first);
    let (release, _) = run(
        release,
        &[Event::Deleted {
            cluster: "a".to_owned(),
            version: Version(2),
        }],
    );
    assert_eq!(release.status.phase, Phase::Aborted);
    let lagging = &release.status.lagging["b"];
    assert_eq!(lagging.reason, Reason::Admission);
    assert!(
        lagging.message.contains("not confirmed back at 0%"),
        "{lagging}"
    );
    assert_eq!(release.status.lagging.len(), 1);
}

/// Audit finding 4: a replayed rollback (`--no-regenerate`) applies the
/// target's objects, which carry the target's version label; it applies,
/// switches to and, on abort, deletes that version, never its own number
/// (which labels nothing).
#[test]
fn a_replayed_rollback_acts_on_the_version_its_objects_carry() {
    let mut spec = release(Strategy::Simple).spec;
    spec.number = Version(3);
    spec.previous = Some(Version(2));
    spec.kind = ReleaseKind::Rollback;
    spec.rollback = Some(Rollback {
        target: Version(1),
        mode: RollbackMode::Replay,
    });
    let replay = Release::new(spec).expect("valid");
    let (replay, actions) = run(
        replay,
        &[
            Event::Start {
                at: Timestamp("t0".to_owned()),
            },
            Event::LeaseAcquired {
                cluster: "a".to_owned(),
            },
            Event::LeaseAcquired {
                cluster: "b".to_owned(),
            },
        ],
    );
    let applied: Vec<Version> = actions
        .iter()
        .filter_map(|a| match a {
            Action::Apply { version, .. } => Some(*version),
            _ => None,
        })
        .collect();
    assert_eq!(applied, [Version(1), Version(1)], "{actions:?}");
    let (replay, actions) = step(replay, &Event::Abort);
    let deleted: Vec<String> = actions
        .iter()
        .filter(|a| matches!(a, Action::Delete { .. }))
        .map(ToString::to_string)
        .collect();
    assert_eq!(deleted, ["a: delete v1", "b: delete v1"]);
    let (replay, _) = run(
        replay,
        &[
            Event::Deleted {
                cluster: "a".to_owned(),
                version: Version(1),
            },
            Event::Deleted {
                cluster: "b".to_owned(),
                version: Version(1),
            },
        ],
    );
    assert_eq!(replay.status.phase, Phase::Aborted);
    assert!(replay.status.lagging.is_empty());
}

/// Audit finding 9: the public transition table documents every event (the
/// exhaustive match fails to compile when an event is added, the assertion
/// when its row is missing).
#[test]
fn the_transition_table_documents_every_event() {
    let name = |event: &Event| match event {
        Event::Start { .. } => "Start",
        Event::Promote => "Promote",
        Event::Abort => "Abort",
        Event::SetWeight { .. } => "SetWeight",
        Event::Resume => "Resume",
        Event::LeaseAcquired { .. } => "LeaseAcquired",
        Event::LeaseDenied { .. } => "LeaseDenied",
        Event::Applied { .. } => "Applied",
        Event::Ready { .. } => "Ready",
        Event::Failed { .. } => "Failed",
        Event::TrafficSwitched { .. } => "TrafficSwitched",
        Event::Deleted { .. } => "Deleted",
        Event::Restored { .. } => "Restored",
        Event::Unreachable { .. } => "Unreachable",
        Event::Reachable { .. } => "Reachable",
        Event::Timeout { .. } => "Timeout",
    };
    let cluster = || "a".to_owned();
    let events = [
        Event::Start {
            at: Timestamp::default(),
        },
        Event::Promote,
        Event::Abort,
        Event::SetWeight { weight: 1 },
        Event::Resume,
        Event::LeaseAcquired { cluster: cluster() },
        Event::LeaseDenied {
            cluster: cluster(),
            holder: String::new(),
        },
        Event::Applied {
            cluster: cluster(),
            object: deployment(),
        },
        Event::Ready {
            cluster: cluster(),
            object: deployment(),
        },
        Event::Failed {
            cluster: cluster(),
            object: None,
            reason: Reason::Quota,
            message: String::new(),
        },
        Event::TrafficSwitched {
            cluster: cluster(),
            version: Version(1),
            weight: 1,
        },
        Event::Deleted {
            cluster: cluster(),
            version: Version(1),
        },
        Event::Restored {
            cluster: cluster(),
            version: Version(1),
        },
        Event::Unreachable {
            cluster: cluster(),
            message: String::new(),
        },
        Event::Reachable { cluster: cluster() },
        Event::Timeout {
            timer: Timer {
                kind: TimerKind::Deadline,
                seq: 1,
            },
        },
    ];
    let source = include_str!("../planner.rs");
    let table: Vec<&str> = source
        .lines()
        .filter(|l| l.starts_with("//! | [`Event::"))
        .collect();
    for event in &events {
        let row = format!("[`Event::{}`]", name(event));
        assert!(
            table.iter().any(|l| l.contains(&row)),
            "no row for {row} in the planner's transition table"
        );
    }
}
