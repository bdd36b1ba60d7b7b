//! The cases of the spec, one test each. Every case goes through [`check`]:
//! the plan is rendered into a snapshot, then performed, and sync must then
//! find nothing more to do (the fixpoint invariant).

use release::Phase;
use sync::{Options, Outcome, Snapshot, plan};

use crate::fixtures::*;

/// Plans, snapshots the plan, performs it and checks sync is then idle.
fn check(name: &str, mut snapshots: Vec<Snapshot>) -> sync::Plan {
    let options = Options::default();
    let first = plan(&snapshots, &options);
    insta::assert_snapshot!(name, first.to_string());
    perform_plan(&mut snapshots, &first);
    let second = plan(&snapshots, &options);
    assert!(
        second.is_idle(),
        "sync is not idle after its own actions:\n{second}"
    );
    first
}

/// Three clusters that agree on `web` v6 (v5 before it).
fn healthy(cluster: &str) -> Snapshot {
    snapshot(
        cluster,
        vec![done("web", 5, Some(4)), done("web", 6, Some(5))],
        vec![("web", live(&[6], all(6)))],
    )
}

#[test]
fn in_sync_environment_needs_nothing() {
    let plan = check(
        "in_sync",
        vec![healthy("dc-a"), healthy("dc-b"), healthy("dc-c")],
    );
    assert_eq!(plan.services["web"].outcome, Outcome::InSync);
}

/// Case 1: a cluster switched off during a deploy comes back with the old
/// version; it is brought to the current release.
#[test]
fn case1_stale_cluster_is_brought_to_the_current_release() {
    let mut stale_v6 = rolling_out("web", 6, 5);
    stale_v6.status.phase = Phase::Running;
    let stale = snapshot(
        "dc-c",
        vec![done("web", 5, Some(4)), stale_v6],
        vec![("web", live(&[5], all(5)))],
    );
    let plan = check("case1_stale", vec![healthy("dc-a"), healthy("dc-b"), stale]);
    assert_eq!(
        plan.services["web"].authoritative,
        Some(release::Version(6))
    );
}

/// Case 1 with a canary: the returning cluster gets the canary weight too.
#[test]
fn case1_stale_cluster_gets_the_canary_weight() {
    let running = |cluster| {
        snapshot(
            cluster,
            vec![done("web", 5, Some(4)), canary("web", 6, 5, 25)],
            vec![("web", live(&[5, 6], split(6, 25, 5)))],
        )
    };
    let stale = snapshot(
        "dc-c",
        vec![done("web", 5, Some(4))],
        vec![("web", live(&[5], all(5)))],
    );
    check(
        "case1_stale_canary",
        vec![running("dc-a"), running("dc-b"), stale],
    );
}

/// Case 2: a cluster lost all state; every service is rebuilt from the
/// peers' copies, with its release history.
#[test]
fn case2_wiped_cluster_is_rebuilt_from_peer_copies() {
    let peer = |cluster| {
        snapshot(
            cluster,
            vec![
                done("web", 4, Some(3)),
                done("web", 5, Some(4)),
                done("web", 6, Some(5)),
                done("api", 1, None),
            ],
            vec![("web", live(&[6], all(6))), ("api", live(&[1], all(1)))],
        )
    };
    let wiped = snapshot("dc-c", vec![], vec![]);
    let plan = check("case2_wiped", vec![peer("dc-a"), peer("dc-b"), wiped]);
    let writes = plan
        .actions()
        .filter(|a| matches!(a, sync::SyncAction::WriteRecord { .. }))
        .count();
    assert_eq!(writes, 4, "the whole history of both services is rebuilt");
}

/// Case 3: a service deleted while a cluster was away: the tombstone wins
/// over the stale copy.
#[test]
fn case3_tombstone_wins_over_a_stale_copy() {
    let deleted = |cluster| {
        snapshot(
            cluster,
            vec![done("web", 6, Some(5)), tombstone("web", 7)],
            vec![],
        )
    };
    let stale = snapshot(
        "dc-c",
        vec![done("web", 5, Some(4)), done("web", 6, Some(5))],
        vec![("web", live(&[6], all(6)))],
    );
    let plan = check(
        "case3_tombstone",
        vec![deleted("dc-a"), deleted("dc-b"), stale],
    );
    assert_eq!(
        plan.services["web"].authoritative,
        Some(release::Version(7))
    );
}

/// Case 4: a canary in progress: the lagging cluster gets the same canary
/// weight, not the full new version.
#[test]
fn case4_canary_in_progress_is_matched_not_completed() {
    let running = |cluster| {
        snapshot(
            cluster,
            vec![done("web", 5, Some(4)), canary("web", 6, 5, 25)],
            vec![("web", live(&[5, 6], split(6, 25, 5)))],
        )
    };
    // The lagging cluster holds the canary's record at an older weight and
    // still sends 5%.
    let lagging = snapshot(
        "dc-c",
        vec![done("web", 5, Some(4)), canary("web", 6, 5, 5)],
        vec![("web", live(&[5, 6], split(6, 5, 5)))],
    );
    let plan = check(
        "case4_canary",
        vec![running("dc-a"), running("dc-b"), lagging],
    );
    let switches: Vec<_> = plan
        .actions()
        .filter_map(|a| match a {
            sync::SyncAction::SwitchTraffic { traffic, .. } => Some(traffic.weight),
            _ => None,
        })
        .collect();
    assert_eq!(switches, vec![25]);
}

/// Case 5: a release in flight (lease held): sync leaves that service alone,
/// and still repairs the others.
#[test]
fn case5_release_in_flight_is_left_alone() {
    let mut a = healthy("dc-a");
    a.live.get_mut("web").expect("web runs").lease = lease("web-v7", false);
    a.records.push(done("api", 1, None));
    a.live.insert("api".to_owned(), live(&[1], all(1)));
    let mut b = healthy("dc-b");
    b.records.push(done("api", 1, None));
    b.live.insert("api".to_owned(), live(&[1], all(1)));
    let stale = snapshot(
        "dc-c",
        vec![done("web", 5, Some(4))],
        vec![("web", live(&[5], all(5)))],
    );
    let plan = check("case5_in_flight", vec![a, b, stale]);
    assert!(matches!(
        plan.services["web"].outcome,
        Outcome::InFlight { .. }
    ));
    assert!(matches!(
        plan.services["api"].outcome,
        Outcome::Repair { .. }
    ));
}

/// An expired lease is not a release in flight (the deployer died).
#[test]
fn case5_expired_lease_does_not_block() {
    let mut a = healthy("dc-a");
    a.live.get_mut("web").expect("web runs").lease = lease("web-v6", true);
    let stale = snapshot(
        "dc-c",
        vec![done("web", 5, Some(4))],
        vec![("web", live(&[5], all(5)))],
    );
    let plan = check("case5_expired_lease", vec![a, healthy("dc-b"), stale]);
    assert!(matches!(
        plan.services["web"].outcome,
        Outcome::Repair { .. }
    ));
}

/// Case 6: clusters disagree about the same release: report, do nothing.
#[test]
fn case6_disagreeing_copies_are_reported_and_left() {
    let mut other = healthy("dc-b");
    // Another v6 altogether: other content, so another digest.
    let spec = &mut other.records[1].spec;
    spec.image = "registry.example/web:hotfix".to_owned();
    spec.digest = spec.fingerprint();
    let stale = snapshot(
        "dc-c",
        vec![done("web", 5, Some(4))],
        vec![("web", live(&[5], all(5)))],
    );
    let plan = check("case6_conflict", vec![healthy("dc-a"), other, stale]);
    assert!(matches!(
        plan.services["web"].outcome,
        Outcome::Conflict { .. }
    ));
}

/// Case 6: no copy is complete (each cluster kept only its own manifests) and
/// a wiped cluster needs its own: report, do nothing.
#[test]
fn case6_no_complete_copy_is_reported_and_left() {
    let partial = |cluster: &str| {
        let mut s = healthy(cluster);
        for record in &mut s.records {
            record.spec.manifests.retain(|c, _| c == cluster);
        }
        s
    };
    let wiped = snapshot("dc-c", vec![], vec![]);
    let plan = check(
        "case6_incomplete",
        vec![partial("dc-a"), partial("dc-b"), wiped],
    );
    assert!(matches!(
        plan.services["web"].outcome,
        Outcome::Incomplete { .. }
    ));
}

/// Partial copies that together are complete are merged, and the merged
/// record is written back everywhere.
#[test]
fn partial_copies_are_merged() {
    let partial = |cluster: &str| {
        let mut s = healthy(cluster);
        s.records[1]
            .spec
            .manifests
            .retain(|c, _| c == cluster || c == "dc-c");
        s
    };
    check(
        "partial_copies_merged",
        vec![partial("dc-a"), partial("dc-b"), healthy("dc-c")],
    );
}

/// An unreachable cluster is neither read nor changed.
#[test]
fn unreachable_cluster_is_left_out() {
    let mut away = snapshot("dc-c", vec![], vec![]);
    away.reachable = false;
    let plan = check("unreachable", vec![healthy("dc-a"), healthy("dc-b"), away]);
    assert_eq!(plan.unreachable, vec!["dc-c".to_owned()]);
}

/// Leftovers of a failed release (a cluster that was away during the abort)
/// are deleted; the failed release is not authoritative.
#[test]
fn leftovers_of_a_failed_release_are_deleted() {
    let mut failed = rolling_out("web", 7, 6);
    finish(&mut failed, Phase::Failed);
    let with_failed = |cluster: &str, versions: &[u64]| {
        let mut s = healthy(cluster);
        s.records.push(failed.clone());
        s.live.insert("web".to_owned(), live(versions, all(6)));
        s
    };
    let plan = check(
        "failed_leftovers",
        vec![
            with_failed("dc-a", &[6]),
            with_failed("dc-b", &[6]),
            with_failed("dc-c", &[6, 7]),
        ],
    );
    assert_eq!(
        plan.services["web"].authoritative,
        Some(release::Version(6))
    );
}

/// A canary whose deployer died while aborting it (the lease expired): the
/// abort is finished, not the canary: the previous release is authoritative.
#[test]
fn a_canary_abort_interrupted_is_finished_by_sync() {
    let aborting = |cluster: &str| {
        let mut canary = canary("web", 6, 5, 0);
        canary.status.step = release::Step::AbortTraffic {
            then: Phase::Aborted,
        };
        canary.status.revision = 50;
        let mut s = snapshot(
            cluster,
            vec![done("web", 5, Some(4)), canary],
            vec![("web", live(&[5, 6], split(6, 0, 5)))],
        );
        s.live.get_mut("web").expect("web runs").lease = lease("web-v6", true);
        s
    };
    let plan = check(
        "canary_abort_interrupted",
        vec![aborting("dc-a"), aborting("dc-b"), aborting("dc-c")],
    );
    assert_eq!(
        plan.services["web"].authoritative,
        Some(release::Version(5))
    );
}

/// A `--no-regenerate` rollback v7 replays v5's stored objects, which keep
/// their v5 label: v5 live at 100% is the authoritative state (nothing to
/// do where it runs), and a wiped cluster gets v5's objects back (audit
/// finding 4: before, sync wanted a "v7" no object carries and deleted v5).
#[test]
fn a_replayed_rollback_serves_the_target_version() {
    let replayed = || {
        let mut spec = done("web", 7, Some(6)).spec;
        spec.kind = release::ReleaseKind::Rollback;
        spec.rollback = Some(release::Rollback {
            target: release::Version(5),
            mode: release::RollbackMode::Replay,
        });
        spec.manifests = done("web", 5, Some(4)).spec.manifests;
        let mut record = release::Release::new(spec).expect("valid replay");
        finish(&mut record, Phase::Succeeded);
        record
    };
    let serving = |cluster: &str| {
        snapshot(
            cluster,
            vec![done("web", 5, Some(4)), done("web", 6, Some(5)), replayed()],
            vec![("web", live(&[5], all(5)))],
        )
    };
    let plan = check(
        "replayed_rollback",
        vec![
            serving("dc-a"),
            serving("dc-b"),
            snapshot("dc-c", vec![], vec![]),
        ],
    );
    let web = &plan.services["web"];
    assert_eq!(web.authoritative, Some(release::Version(7)));
    assert!(
        web.actions().iter().all(|a| a.cluster() == "dc-c"),
        "{plan}"
    );
}

/// Case 6 with a corrupted copy (audit finding 5): dc-b's copy of v6 has
/// another image and Deployment body under v6's digest. Its recomputed
/// fingerprint gives it away: reported, and nothing is rebuilt from it (the
/// wiped dc-c stays as it is until the copies agree).
#[test]
fn case6_a_corrupted_copy_is_reported_and_never_used() {
    let mut corrupted = healthy("dc-b");
    let spec = &mut corrupted.records[1].spec;
    spec.image = "registry.example/web:tampered".to_owned();
    for manifests in spec.manifests.values_mut() {
        manifests.application[0].body["spec"] = serde_json::json!({"replicas": 0});
    }
    let wiped = snapshot("dc-c", vec![], vec![]);
    let plan = check(
        "case6_corrupted",
        vec![healthy("dc-a"), corrupted.clone(), wiped.clone()],
    );
    assert_eq!(
        plan.services["web"].outcome,
        Outcome::Corrupted {
            number: release::Version(6),
            clusters: vec!["dc-b".to_owned()],
        }
    );
    // Alone, the corrupted copy is no source either.
    let alone = plan_of(vec![corrupted, wiped]);
    assert!(matches!(
        alone.services["web"].outcome,
        Outcome::Corrupted { .. }
    ));
}

fn plan_of(snapshots: Vec<Snapshot>) -> sync::Plan {
    plan(&snapshots, &Options::default())
}

/// History keeps the last 20 releases per service (audit finding 10): with
/// 23 in every cluster, the three oldest records are deleted everywhere; a
/// cluster missing one of the 20 gets it back, never the pruned ones.
#[test]
fn history_beyond_the_last_20_releases_is_pruned() {
    let history: Vec<release::Release> = (1..=23)
        .map(|n| done("web", n, (n > 1).then(|| n - 1)))
        .collect();
    let full = |cluster: &str| {
        snapshot(
            cluster,
            history.clone(),
            vec![("web", live(&[23], all(23)))],
        )
    };
    let mut gap = full("dc-c");
    gap.records
        .retain(|r| r.spec.number != release::Version(10));
    let plan = check("history_pruned", vec![full("dc-a"), full("dc-b"), gap]);
    let deleted: Vec<String> = plan
        .actions()
        .filter(|a| matches!(a, sync::SyncAction::DeleteRecord { .. }))
        .map(ToString::to_string)
        .collect();
    assert_eq!(deleted.len(), 9, "{plan}");
    assert!(deleted.iter().all(|d| {
        ["v1", "v2", "v3"]
            .iter()
            .any(|v| d.contains(&format!("record {v} ")))
    }));
}
