//! Integration tests of the release planner: scenario transcripts, the
//! simulator's properties (the five invariants of the spec under random
//! event orders and fault schedules, against a naive reference model) and
//! regressions found by them.

mod fixtures;
mod props;
mod regressions;
mod scenarios;
mod sim;

/// Architecture invariant: this crate stays pure (no async runtime, no
/// cluster client, no HTTP), so its manifest must not name one.
#[test]
fn the_crate_stays_pure() {
    let manifest = include_str!("../../Cargo.toml");
    for forbidden in ["tokio", "kube", "k8s-openapi", "axum", "reqwest", "hyper"] {
        assert!(
            !manifest
                .lines()
                .any(|l| l.trim_start().starts_with(forbidden)),
            "{forbidden} in a pure crate"
        );
    }
}
