//! Releases and the release planner.
//!
//! A [`Release`] is one intended state of one service in one environment
//! (`../shared/spec/releases.md`): its number, kind, strategy, image, app.toml
//! text, platform config version, the rendered objects per cluster, who
//! released it, when, the commit and the linked tasks, plus the progress of
//! its rollout. The whole value is what the `Release` custom resource holds
//! (`spec` and `status`), so it is serialisable both ways.
//!
//! The planner ([`step`]) is a deterministic state machine over a release:
//! `step(release, event) -> (release, actions)`. Events are observations the
//! cluster adapter makes (an object became ready, a cluster is unreachable, a
//! timer fired) and commands a person gives (start, promote, abort, set the
//! canary weight); actions are what the adapter must do next (apply these
//! objects to that cluster, wait for readiness, switch traffic, delete a
//! version, write the status, take or give back the lease). See [`planner`]
//! for every transition, and `docs/releases.md` for the state diagram.
//!
//! **Architecture Invariant:** this crate is pure. It does no I/O, holds no
//! clock and draws no random numbers: time comes in as [`Timestamp`] values
//! inside commands, timeouts come in as [`Event::Timeout`] events that the
//! adapter delivers for timers the planner asked for. Replaying the same
//! events therefore gives the same actions.

mod digest;
mod error;
mod model;
pub mod planner;
mod rollback;

pub use digest::DIGEST_PREFIX;
pub use error::Error;
pub use model::*;
pub use planner::{Action, Event, Timer, TimerKind, step};
pub use rollback::{RollbackRequest, rollback, rollback_mode};
