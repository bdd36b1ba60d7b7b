//! Integration tests of the sync differ: the six cases of the spec, each
//! with its own test and snapshot, and the fixpoint property against a naive
//! reference model, with the cases it found as regressions.

mod cases;
mod e2e;
mod fixtures;
mod props;
mod regressions;
