//! The client side of Brief-RPC/1, used by generated `<Service>Client`s.
//!
//! One call: the circuit breaker of (target service, rpc) must admit it; the
//! deadline is `now + the rpc's timeout`, never beyond the caller's
//! remaining deadline; every attempt sends its own remaining budget in
//! `Connect-Timeout-Ms`, `Brief-Caller`, and the context's `traceparent`,
//! `X-Request-Id` and `X-Route`. Only `unavailable` answers and connection
//! failures (nothing was processed) are retried: at most
//! [`RetryConfig::max_attempts`] attempts, exponential backoff with full
//! jitter, never past the deadline, and only while the retry budget (a token
//! bucket refilled by a fraction of each call) has tokens, so retries cannot
//! multiply load during an outage.

use crate::{Code, Context, Error};
use serde::Serialize;
use serde::de::DeserializeOwned;
use std::collections::{BTreeMap, HashMap};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// Retry policy.
#[derive(Debug, Clone)]
pub struct RetryConfig {
    /// Attempts per call, the first included (at most 3 by the protocol).
    pub max_attempts: u32,
    /// Backoff before the first retry; doubled each retry.
    pub base_backoff: Duration,
    /// Upper bound of one backoff.
    pub max_backoff: Duration,
    /// Tokens each call adds to the budget (0.1: retries ≤ 10% of calls).
    pub budget_ratio: f64,
    /// Tokens the budget starts with and never exceeds (a floor for low traffic).
    pub budget_max: f64,
}

impl Default for RetryConfig {
    fn default() -> Self {
        RetryConfig {
            max_attempts: 3,
            base_backoff: Duration::from_millis(25),
            max_backoff: Duration::from_secs(1),
            budget_ratio: 0.1,
            budget_max: 10.0,
        }
    }
}

/// Circuit breaker policy (per target service and rpc).
#[derive(Debug, Clone)]
pub struct BreakerConfig {
    /// Length of the counting window.
    pub window: Duration,
    /// Calls in a window before the ratio is considered.
    pub min_calls: u32,
    /// Failure ratio that opens the breaker.
    pub failure_ratio: f64,
    /// How long it stays open before a probe.
    pub open_for: Duration,
    /// Concurrent probes admitted while half-open.
    pub half_open_probes: u32,
}

impl Default for BreakerConfig {
    fn default() -> Self {
        BreakerConfig {
            window: Duration::from_secs(10),
            min_calls: 20,
            failure_ratio: 0.5,
            open_for: Duration::from_secs(5),
            half_open_probes: 3,
        }
    }
}

/// Client configuration.
#[derive(Debug, Clone)]
pub struct Config {
    /// Base URL of the target service, e.g. `http://summer:8080`.
    pub base_url: String,
    /// Our service name, sent as `Brief-Caller`.
    pub caller: Option<String>,
    /// Hash of the client contract this code was generated from, sent as
    /// `Brief-Contract` so servers can tell which contract versions call them.
    pub contract: Option<String>,
    /// Default per-rpc timeout.
    pub timeout: Duration,
    /// Per-rpc overrides of the timeout.
    pub rpc_timeouts: BTreeMap<String, Duration>,
    /// Retries.
    pub retry: RetryConfig,
    /// Circuit breaker.
    pub breaker: BreakerConfig,
}

impl Config {
    /// Defaults for `base_url`: 1 s timeout, 3 attempts, breaker 20 calls/10 s/50%/5 s.
    pub fn new(base_url: impl Into<String>) -> Self {
        Config {
            base_url: base_url.into().trim_end_matches('/').to_string(),
            caller: None,
            contract: None,
            timeout: Duration::from_secs(1),
            rpc_timeouts: BTreeMap::new(),
            retry: RetryConfig::default(),
            breaker: BreakerConfig::default(),
        }
    }

    /// The configuration for `service` with the base URL from `<SERVICE>_URL`
    /// and the caller (`Brief-Caller`) from [`CALLER_VARIABLE`], both set by
    /// the platform's manifest generator; looked up through `env` (pass
    /// [`process_env`] in a binary).
    pub fn from_env(service: &str, env: impl Fn(&str) -> Option<String>) -> Result<Self, Error> {
        let var = url_variable(service);
        let url = env(&var)
            .filter(|v| !v.is_empty())
            .ok_or_else(|| Error::new(Code::FailedPrecondition, format!("{var} is not set")))?;
        let mut config = Config::new(url);
        config.caller = env(CALLER_VARIABLE).filter(|v| !v.is_empty());
        Ok(config)
    }

    /// Sets the caller name unless one is set (generated clients of a
    /// `--client` contract pass the contract's client name as the fallback
    /// for [`CALLER_VARIABLE`]).
    pub fn default_caller(mut self, caller: impl Into<String>) -> Self {
        if self.caller.is_none() {
            self.caller = Some(caller.into());
        }
        self
    }

    /// Sets the caller name.
    pub fn caller(mut self, caller: impl Into<String>) -> Self {
        self.caller = Some(caller.into());
        self
    }

    /// Sets the contract hash (generated clients pass their `SCHEMA_HASH`).
    pub fn contract(mut self, hash: impl Into<String>) -> Self {
        self.contract = Some(hash.into());
        self
    }

    /// Sets the default timeout.
    pub fn timeout(mut self, timeout: Duration) -> Self {
        self.timeout = timeout;
        self
    }

    /// Sets the timeout of one rpc.
    pub fn rpc_timeout(mut self, rpc: &str, timeout: Duration) -> Self {
        self.rpc_timeouts.insert(rpc.to_string(), timeout);
        self
    }
}

/// The variable naming the running service, which the manifest generator
/// sets in every container (`crates/manifests`): the default `Brief-Caller`.
pub const CALLER_VARIABLE: &str = "SERVICE_NAME";

/// The variable holding a service's base URL: upper case, every character
/// other than a letter or digit replaced by `_`, then `_URL`
/// (`order-api` → `ORDER_API_URL`).
pub fn url_variable(service: &str) -> String {
    let mut v: String = service
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() {
                c.to_ascii_uppercase()
            } else {
                '_'
            }
        })
        .collect();
    v.push_str("_URL");
    v
}

/// Reads the process environment: the one place a generated client touches it.
pub fn process_env(name: &str) -> Option<String> {
    // The protocol defines `<SERVICE>_URL` as the way the platform hands a
    // client its target; this is the edge where it is read.
    #[allow(clippy::disallowed_methods)]
    std::env::var(name).ok()
}

#[derive(Debug)]
enum State {
    Closed {
        since: Instant,
        calls: u32,
        failures: u32,
    },
    Open {
        until: Instant,
    },
    /// `since`: when the last probe was admitted (a probe whose call was
    /// dropped never reports, so admissions restart after `open_for`).
    HalfOpen {
        in_flight: u32,
        since: Instant,
    },
}

/// A circuit breaker: closed → open when, within a window, at least
/// `min_calls` calls saw a failure ratio of `failure_ratio`; open → half-open
/// after `open_for`, admitting `half_open_probes` calls; one probe success
/// closes it, one probe failure opens it again.
#[derive(Debug)]
pub struct Breaker {
    config: BreakerConfig,
    state: State,
}

/// The observable state of a breaker.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BreakerState {
    /// Calls flow.
    Closed,
    /// Calls fail fast.
    Open,
    /// A few probes are admitted.
    HalfOpen,
}

impl Breaker {
    /// A closed breaker.
    pub fn new(config: BreakerConfig, now: Instant) -> Self {
        Breaker {
            config,
            state: State::Closed {
                since: now,
                calls: 0,
                failures: 0,
            },
        }
    }

    /// Whether a call may go out now (a half-open admission counts as a probe).
    pub fn allow(&mut self, now: Instant) -> bool {
        match &mut self.state {
            State::Closed { .. } => true,
            State::Open { until } if now >= *until => {
                self.state = State::HalfOpen {
                    in_flight: 1,
                    since: now,
                };
                true
            }
            State::Open { .. } => false,
            State::HalfOpen { in_flight, since } if *in_flight < self.config.half_open_probes => {
                *in_flight += 1;
                *since = now;
                true
            }
            State::HalfOpen { in_flight, since }
                if now.duration_since(*since) >= self.config.open_for =>
            {
                (*in_flight, *since) = (1, now);
                true
            }
            State::HalfOpen { .. } => false,
        }
    }

    /// Records the outcome of an admitted call.
    pub fn record(&mut self, success: bool, now: Instant) {
        match &mut self.state {
            State::Closed {
                since,
                calls,
                failures,
            } => {
                if now.duration_since(*since) > self.config.window {
                    (*since, *calls, *failures) = (now, 0, 0);
                }
                *calls += 1;
                *failures += u32::from(!success);
                if *calls >= self.config.min_calls
                    && f64::from(*failures) >= self.config.failure_ratio * f64::from(*calls)
                {
                    self.state = State::Open {
                        until: now + self.config.open_for,
                    };
                }
            }
            State::HalfOpen { .. } => {
                self.state = if success {
                    State::Closed {
                        since: now,
                        calls: 0,
                        failures: 0,
                    }
                } else {
                    State::Open {
                        until: now + self.config.open_for,
                    }
                };
            }
            State::Open { .. } => {}
        }
    }

    /// The current state.
    pub fn state(&self) -> BreakerState {
        match self.state {
            State::Closed { .. } => BreakerState::Closed,
            State::Open { .. } => BreakerState::Open,
            State::HalfOpen { .. } => BreakerState::HalfOpen,
        }
    }
}

/// A token bucket limiting retries to a fraction of calls.
#[derive(Debug)]
struct Budget {
    tokens: f64,
}

struct Inner {
    service: String,
    config: Config,
    http: reqwest::Client,
    breakers: Mutex<HashMap<String, Breaker>>,
    budget: Mutex<Budget>,
    rng: Mutex<u64>,
}

/// A Brief-RPC/1 client of one target service; clones share breakers and budget.
#[derive(Clone)]
pub struct Client {
    inner: Arc<Inner>,
}

impl std::fmt::Debug for Client {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Client")
            .field("service", &self.inner.service)
            .field("base_url", &self.inner.config.base_url)
            .finish()
    }
}

/// A failed attempt and whether it may be retried.
struct Failure {
    error: Error,
    retryable: bool,
}

impl Client {
    /// A client of `service` (the name in its `service "..."` line).
    pub fn new(service: &str, config: Config) -> Self {
        Self::with_http(service, config, reqwest::Client::new())
    }

    /// A client sending through `http` (tests pass one with their own resolver).
    fn with_http(service: &str, config: Config, http: reqwest::Client) -> Self {
        let seed = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0x9E37_79B9_7F4A_7C15, |d| d.as_nanos() as u64)
            | 1;
        Client {
            inner: Arc::new(Inner {
                service: service.to_string(),
                budget: Mutex::new(Budget {
                    tokens: config.retry.budget_max,
                }),
                config,
                http,
                breakers: Mutex::new(HashMap::new()),
                rng: Mutex::new(seed),
            }),
        }
    }

    /// The target service.
    pub fn service(&self) -> &str {
        &self.inner.service
    }

    /// The state of the breaker of `rpc` (closed if never used).
    pub fn breaker_state(&self, rpc: &str) -> BreakerState {
        self.inner
            .breakers
            .lock()
            .ok()
            .and_then(|b| b.get(rpc).map(Breaker::state))
            .unwrap_or(BreakerState::Closed)
    }

    fn breaker<T>(&self, rpc: &str, f: impl FnOnce(&mut Breaker) -> T) -> T {
        let mut map = self
            .inner
            .breakers
            .lock()
            .unwrap_or_else(|p| p.into_inner());
        let b = map
            .entry(rpc.to_string())
            .or_insert_with(|| Breaker::new(self.inner.config.breaker.clone(), Instant::now()));
        f(b)
    }

    /// Calls `rpc` with `input` under `ctx`.
    pub async fn call<I: Serialize, O: DeserializeOwned>(
        &self,
        ctx: &Context,
        rpc: &str,
        input: &I,
    ) -> Result<O, Error> {
        let cfg = &self.inner.config;
        let body = serde_json::to_vec(input)
            .map_err(|e| Error::internal(format!("cannot encode request: {e}")))?;
        let timeout = cfg.rpc_timeouts.get(rpc).copied().unwrap_or(cfg.timeout);
        let mut deadline = Instant::now() + timeout;
        if let Some(d) = ctx.deadline() {
            deadline = deadline.min(d);
        }
        if !self.breaker(rpc, |b| b.allow(Instant::now())) {
            return Err(Error::unavailable(format!(
                "circuit open for {}/{rpc}",
                self.inner.service
            )));
        }
        {
            let mut budget = self.inner.budget.lock().unwrap_or_else(|p| p.into_inner());
            budget.tokens = (budget.tokens + cfg.retry.budget_ratio).min(cfg.retry.budget_max);
        }
        let mut attempt = 1;
        let result = loop {
            let remaining = deadline.saturating_duration_since(Instant::now());
            if remaining.is_zero() {
                break Err(Error::deadline_exceeded(format!(
                    "{}/{rpc}: deadline passed before attempt {attempt}",
                    self.inner.service
                )));
            }
            match self.attempt::<O>(ctx, rpc, &body, remaining).await {
                Ok(out) => break Ok(out),
                Err(f) if f.retryable && attempt < cfg.retry.max_attempts.min(3) => {
                    let backoff = self.backoff(attempt);
                    if Instant::now() + backoff >= deadline || !self.take_retry_token() {
                        break Err(f.error);
                    }
                    tokio::time::sleep(backoff).await;
                    attempt += 1;
                }
                Err(f) => break Err(f.error),
            }
        };
        let success = match &result {
            Ok(_) => true,
            Err(e) => !matches!(
                e.code,
                Code::Unavailable | Code::DeadlineExceeded | Code::Internal | Code::Unknown
            ),
        };
        self.breaker(rpc, |b| b.record(success, Instant::now()));
        result
    }

    fn take_retry_token(&self) -> bool {
        let mut budget = self.inner.budget.lock().unwrap_or_else(|p| p.into_inner());
        if budget.tokens >= 1.0 {
            budget.tokens -= 1.0;
            true
        } else {
            false
        }
    }

    /// Full jitter: uniform in `[0, min(max, base * 2^(attempt-1))]`.
    fn backoff(&self, attempt: u32) -> Duration {
        let r = &self.inner.config.retry;
        let cap = r
            .base_backoff
            .saturating_mul(1 << (attempt - 1).min(16))
            .min(r.max_backoff);
        let mut s = self.inner.rng.lock().unwrap_or_else(|p| p.into_inner());
        // xorshift64: cheap, good enough for spreading retries.
        *s ^= *s << 13;
        *s ^= *s >> 7;
        *s ^= *s << 17;
        let frac = (*s >> 11) as f64 / (1u64 << 53) as f64;
        cap.mul_f64(frac)
    }

    async fn attempt<O: DeserializeOwned>(
        &self,
        ctx: &Context,
        rpc: &str,
        body: &[u8],
        remaining: Duration,
    ) -> Result<O, Failure> {
        let cfg = &self.inner.config;
        let url = format!("{}/{}/{rpc}", cfg.base_url, self.inner.service);
        let ms = remaining.as_millis().max(1);
        let mut req = self
            .inner
            .http
            .post(url)
            .timeout(remaining)
            .header("content-type", "application/json")
            .header("connect-protocol-version", "1")
            .header("connect-timeout-ms", ms.to_string())
            .body(body.to_vec());
        if let Some(caller) = &cfg.caller {
            req = req.header("brief-caller", caller);
        }
        if let Some(contract) = &cfg.contract {
            req = req.header("brief-contract", contract);
        }
        for (name, value) in ctx.headers() {
            req = req.header(name, value);
        }
        let what = || format!("{}/{rpc}", self.inner.service);
        let resp = match req.send().await {
            Ok(r) => r,
            Err(e) if e.is_timeout() => {
                return Err(Failure {
                    error: Error::deadline_exceeded(format!(
                        "{}: no answer within {ms} ms",
                        what()
                    )),
                    retryable: false,
                });
            }
            Err(e) if e.is_connect() => {
                return Err(Failure {
                    error: Error::unavailable(format!("{}: cannot connect: {e}", what())),
                    retryable: true,
                });
            }
            Err(e) => {
                return Err(Failure {
                    error: Error::unavailable(format!("{}: {e}", what())),
                    retryable: false,
                });
            }
        };
        let status = resp.status().as_u16();
        let bytes = match resp.bytes().await {
            Ok(b) => b,
            Err(e) if e.is_timeout() => {
                return Err(Failure {
                    error: Error::deadline_exceeded(format!(
                        "{}: no answer within {ms} ms",
                        what()
                    )),
                    retryable: false,
                });
            }
            Err(e) => {
                return Err(Failure {
                    error: Error::unavailable(format!("{}: {e}", what())),
                    retryable: false,
                });
            }
        };
        if status == 200 {
            return serde_json::from_slice(&bytes).map_err(|e| Failure {
                error: Error::internal(format!("{}: invalid response: {e}", what())),
                retryable: false,
            });
        }
        let error = serde_json::from_slice::<Error>(&bytes).unwrap_or_else(|_| {
            Error::new(
                Code::from_http_status(status),
                format!("{}: HTTP {status}", what()),
            )
        });
        let retryable = error.code == Code::Unavailable;
        Err(Failure { error, retryable })
    }
}

#[cfg(test)]
mod tests;
