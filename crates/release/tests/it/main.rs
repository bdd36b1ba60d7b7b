//! Integration tests of the release planner: scenario transcripts, the
//! simulator's properties (the five invariants of the spec under random
//! event orders and fault schedules, against a naive reference model) and
//! regressions found by them.

mod fixtures;
mod props;
mod regressions;
mod scenarios;
mod sim;
