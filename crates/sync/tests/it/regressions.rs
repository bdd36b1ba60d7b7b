//! Cases found by the fixpoint property (or written by hand in the same
//! form): each is an environment as the property printed it, pasted as a
//! `check_env(..)` call and formatted.

use crate::props::{Env, Last, Service, View, check, report};

/// Runs the fixpoint property on one environment and fails with its report.
pub fn check_env(env: Env) {
    if let Err(failure) = check(&env) {
        panic!("{}", report(&env, &failure));
    }
}

/// Seed `cc 8c004f38..` of `proptest-regressions/props.txt`: a canary at
/// 1% over v1, seen by the one cluster that answers. Its record must verify
/// (the canary's digest is the fingerprint of the canary spec), so sync
/// finds it in sync instead of corrupted.
#[test]
fn a_canary_seen_by_the_only_reachable_cluster_is_in_sync() {
    check_env(Env {
        services: vec![Service {
            earlier: vec![false],
            last: Last::Canary(1),
            views: vec![View::Fresh, View::Fresh, View::Fresh],
        }],
        reachable: vec![false, false, true],
    });
}

/// Seed `cc 92c9b09d..` of `proptest-regressions/props.txt`: the service was
/// deleted (a tombstone, v1) and dc-b's copy of the tombstone changed after
/// its digest was set. A tombstone holds no manifests but is complete, so
/// its copies are verified like any other: corrupted, nothing done.
#[test]
fn a_corrupted_copy_of_a_tombstone_is_reported() {
    check_env(Env {
        services: vec![Service {
            earlier: vec![],
            last: Last::Tombstone,
            views: vec![View::Fresh, View::Corrupted, View::Fresh],
        }],
        reachable: vec![false, true, true],
    });
}

/// Printed by the property with sync's conflict check switched off (copies
/// merged whatever they hold): dc-b holds another v1 than dc-c (a raced
/// deploy, its own valid digest). The clusters disagree and no copy is
/// more right than the other: a conflict, nothing done (spec case 6).
#[test]
fn another_release_under_the_same_number_is_a_conflict() {
    check_env(Env {
        services: vec![Service {
            earlier: vec![],
            last: Last::Done,
            views: vec![View::Fresh, View::Conflict, View::Fresh],
        }],
        reachable: vec![false, true, true],
    });
}
