//! The proof: the generated `summer` server runs on loopback and the
//! generated client calls it, through a deadline, a retry and an open
//! breaker; plus events through the in-memory bus, and a check that the
//! committed generated code is up to date.

mod events;
mod proof;
mod stale;
