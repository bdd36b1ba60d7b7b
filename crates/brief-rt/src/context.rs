//! The request context: the deadline, the caller, and the headers a server
//! passes on to every call it makes while handling a request.

use std::time::{Duration, Instant};

/// Headers copied from an incoming request to every outgoing call
/// (lowercase, as HTTP/2 and axum spell them).
pub const PROPAGATED_HEADERS: [&str; 3] = ["traceparent", "x-request-id", "x-route"];

/// Deadline and propagated metadata of one call chain.
#[derive(Debug, Clone, Default)]
pub struct Context {
    deadline: Option<Instant>,
    caller: Option<String>,
    contract: Option<String>,
    headers: Vec<(&'static str, String)>,
}

impl Context {
    /// A context without a deadline or headers (the root of a call chain).
    pub fn background() -> Self {
        Self::default()
    }

    /// Tightens the deadline to `now + timeout` (never loosens it).
    pub fn with_timeout(self, timeout: Duration) -> Self {
        self.with_deadline(Instant::now() + timeout)
    }

    /// Tightens the deadline to `deadline` (never loosens it).
    pub fn with_deadline(mut self, deadline: Instant) -> Self {
        self.deadline = Some(self.deadline.map_or(deadline, |d| d.min(deadline)));
        self
    }

    /// Sets a propagated header (`traceparent`, `x-request-id` or `x-route`);
    /// other names are ignored.
    pub fn with_header(mut self, name: &str, value: impl Into<String>) -> Self {
        let lower = name.to_ascii_lowercase();
        if let Some(&known) = PROPAGATED_HEADERS.iter().find(|h| **h == lower) {
            self.headers.retain(|(n, _)| *n != known);
            self.headers.push((known, value.into()));
        }
        self
    }

    /// Sets the calling service (from `Brief-Caller`).
    pub fn with_caller(mut self, caller: impl Into<String>) -> Self {
        self.caller = Some(caller.into());
        self
    }

    /// Sets the caller's contract hash (from `Brief-Contract`).
    pub fn with_contract(mut self, contract: impl Into<String>) -> Self {
        self.contract = Some(contract.into());
        self
    }

    /// The hash of the contract the caller was generated from, if it said:
    /// which client contract versions still call a server.
    pub fn contract(&self) -> Option<&str> {
        self.contract.as_deref()
    }

    /// The absolute deadline, if any.
    pub fn deadline(&self) -> Option<Instant> {
        self.deadline
    }

    /// Time left before the deadline (zero when passed), `None` without one.
    pub fn remaining(&self) -> Option<Duration> {
        self.deadline
            .map(|d| d.saturating_duration_since(Instant::now()))
    }

    /// The service that called us, if it said.
    pub fn caller(&self) -> Option<&str> {
        self.caller.as_deref()
    }

    /// The value of a propagated header.
    pub fn header(&self, name: &str) -> Option<&str> {
        let lower = name.to_ascii_lowercase();
        self.headers
            .iter()
            .find(|(n, _)| *n == lower)
            .map(|(_, v)| v.as_str())
    }

    /// All propagated headers.
    pub fn headers(&self) -> impl Iterator<Item = (&'static str, &str)> {
        self.headers.iter().map(|(n, v)| (*n, v.as_str()))
    }
}
