//! Integration tests of the sync differ: the six cases of the spec, each
//! with its own test and snapshot, and the fixpoint property against a naive
//! reference model.

mod cases;
mod e2e;
mod fixtures;
mod props;

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
