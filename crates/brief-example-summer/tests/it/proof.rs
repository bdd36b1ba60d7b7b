//! The `summer` server on 127.0.0.1 and the client of the
//! `summer.client.brief` contract, both generated at build time from the
//! spec's fixtures (`build.rs`, [`crate::generated`]): a call, propagated headers, a
//! deadline exceeded, retries on `unavailable` bounded by the retry budget,
//! and an open breaker.

use crate::generated::summer::{self, SumIn, SumOut};
use crate::generated::summer_client::{self, SummerClient};
use brief_rt::client::{BreakerConfig, BreakerState, Config};
use brief_rt::{Code, Context, Error};
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// What the server saw in one call: remaining deadline, caller, propagated headers.
type Seen = (Option<Duration>, Option<String>, Vec<(String, String)>);

/// What the test server does, and what it saw.
#[derive(Default)]
struct State {
    calls: AtomicU32,
    /// Answer `unavailable` to the first this many calls.
    unavailable_first: AtomicU32,
    /// Sleep this long before answering.
    delay_ms: AtomicU32,
    /// Per call: remaining deadline, caller and propagated headers.
    seen: Mutex<Vec<Seen>>,
    /// Per call: the caller's `Brief-Contract`.
    contracts: Mutex<Vec<Option<String>>>,
}

struct Impl(Arc<State>);

impl summer::Summer for Impl {
    async fn sum(&self, ctx: Context, input: SumIn) -> Result<SumOut, Error> {
        let n = self.0.calls.fetch_add(1, Ordering::SeqCst);
        let headers = ctx
            .headers()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        self.0
            .contracts
            .lock()
            .expect("not poisoned")
            .push(ctx.contract().map(String::from));
        self.0.seen.lock().expect("not poisoned").push((
            ctx.remaining(),
            ctx.caller().map(String::from),
            headers,
        ));
        if n < self.0.unavailable_first.load(Ordering::SeqCst) {
            return Err(Error::unavailable("warming up"));
        }
        let delay = self.0.delay_ms.load(Ordering::SeqCst);
        if delay > 0 {
            tokio::time::sleep(Duration::from_millis(u64::from(delay))).await;
        }
        Ok(SumOut {
            sum: input.a + input.b,
            info: format!("{} + {}", input.a, input.b),
        })
    }
}

/// Starts the generated router on an ephemeral loopback port.
async fn start() -> (String, Arc<State>) {
    let state = Arc::new(State::default());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind loopback");
    let addr = listener.local_addr().expect("local addr");
    let app = summer::router(Impl(state.clone()));
    tokio::spawn(async move { brief_rt::axum::serve(listener, app).await });
    (format!("http://{addr}"), state)
}

fn client(base: &str) -> SummerClient {
    SummerClient::new(
        Config::new(base)
            .caller("proof")
            .timeout(Duration::from_secs(2)),
    )
}

fn input() -> summer_client::SumIn {
    summer_client::SumIn { a: 2, b: 3 }
}

#[tokio::test]
async fn sum_through_the_generated_client() {
    let (base, state) = start().await;
    let ctx = Context::background()
        .with_header(
            "traceparent",
            "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01",
        )
        .with_header("X-Request-Id", "req-1")
        .with_header("X-Route", "summer=canary");
    let out = client(&base)
        .sum(&ctx, &input())
        .await
        .expect("sum succeeds");
    // The client contract has no `info`: the extra field is ignored.
    assert_eq!(out, summer_client::SumOut { sum: 5 });
    let seen = state.seen.lock().expect("not poisoned");
    let (remaining, caller, headers) = &seen[0];
    assert!(
        remaining.is_some_and(|r| r <= Duration::from_secs(2)),
        "deadline sent: {remaining:?}"
    );
    assert_eq!(caller.as_deref(), Some("proof"));
    let get = |k: &str| {
        headers
            .iter()
            .find(|(n, _)| n == k)
            .map(|(_, v)| v.as_str())
    };
    assert_eq!(
        get("traceparent"),
        Some("00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01")
    );
    assert_eq!(get("x-request-id"), Some("req-1"));
    assert_eq!(get("x-route"), Some("summer=canary"));
}

#[tokio::test]
async fn deadline_exceeded_within_the_callers_budget() {
    let (base, state) = start().await;
    state.delay_ms.store(1_000, Ordering::SeqCst);
    // The rpc timeout is 2 s, but the caller has only 150 ms left.
    let ctx = Context::background().with_timeout(Duration::from_millis(150));
    let started = Instant::now();
    let err = client(&base)
        .sum(&ctx, &input())
        .await
        .expect_err("times out");
    assert_eq!(err.code, Code::DeadlineExceeded, "{err}");
    assert!(
        started.elapsed() < Duration::from_millis(900),
        "gave up at the caller's deadline"
    );
    let seen = state.seen.lock().expect("not poisoned");
    let remaining = seen[0].0.expect("server got a deadline");
    assert!(
        remaining <= Duration::from_millis(150),
        "Connect-Timeout-Ms carried the remaining budget: {remaining:?}"
    );
    // Deadlines are not retried.
    assert_eq!(state.calls.load(Ordering::SeqCst), 1);
}

#[tokio::test]
async fn retries_unavailable_then_succeeds() {
    let (base, state) = start().await;
    state.unavailable_first.store(2, Ordering::SeqCst);
    let out = client(&base)
        .sum(&Context::background(), &input())
        .await
        .expect("third attempt succeeds");
    assert_eq!(out.sum, 5);
    assert_eq!(state.calls.load(Ordering::SeqCst), 3, "two retries");
}

#[tokio::test]
async fn gives_up_after_three_attempts() {
    let (base, state) = start().await;
    state.unavailable_first.store(u32::MAX, Ordering::SeqCst);
    let err = client(&base)
        .sum(&Context::background(), &input())
        .await
        .expect_err("keeps failing");
    assert_eq!(err.code, Code::Unavailable);
    assert_eq!(state.calls.load(Ordering::SeqCst), 3, "at most 3 attempts");
}

/// An outage (every call answered `unavailable`) with a small retry budget:
/// the server sees the initial tokens plus about a tenth of the calls in
/// retries, not three attempts per call.
#[tokio::test]
async fn retry_budget_bounds_attempts_during_an_outage() {
    let (base, state) = start().await;
    state.unavailable_first.store(u32::MAX, Ordering::SeqCst);
    let mut config = Config::new(&base).timeout(Duration::from_secs(2));
    config.retry.budget_max = 2.0;
    config.retry.budget_ratio = 0.1;
    config.retry.base_backoff = Duration::from_millis(1);
    config.retry.max_backoff = Duration::from_millis(2);
    // The breaker would stop the calls too; keep it closed to see the budget.
    config.breaker.min_calls = u32::MAX;
    let client = SummerClient::new(config);
    let calls = 30;
    for _ in 0..calls {
        let err = client
            .sum(&Context::background(), &input())
            .await
            .expect_err("outage");
        assert_eq!(err.code, Code::Unavailable, "{err}");
    }
    let attempts = state.calls.load(Ordering::SeqCst);
    // Two retries on the initial tokens, then 0.1 token per call: at most
    // 3 more in 29 calls (90 attempts without a budget).
    let bound = calls + 2 + calls / 10;
    assert!(
        (calls + 2..=bound).contains(&attempts),
        "{attempts} attempts for {calls} calls; the budget allows {}..={bound}",
        calls + 2
    );
}

#[tokio::test]
async fn connection_failures_are_unavailable() {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    let addr = listener.local_addr().expect("addr");
    drop(listener); // nothing listens there now
    let err = client(&format!("http://{addr}"))
        .sum(&Context::background(), &input())
        .await
        .expect_err("refused");
    assert_eq!(err.code, Code::Unavailable, "{err}");
}

#[tokio::test]
async fn breaker_opens_and_fails_fast_then_recovers() {
    let (base, state) = start().await;
    state.unavailable_first.store(u32::MAX, Ordering::SeqCst);
    let mut config = Config::new(&base).timeout(Duration::from_secs(2));
    config.retry.max_attempts = 1;
    config.breaker = BreakerConfig {
        window: Duration::from_secs(10),
        min_calls: 3,
        failure_ratio: 0.5,
        open_for: Duration::from_secs(1),
        half_open_probes: 1,
    };
    let client = SummerClient::new(config);
    let ctx = Context::background();
    for _ in 0..3 {
        let err = client.sum(&ctx, &input()).await.expect_err("unavailable");
        assert_eq!(err.code, Code::Unavailable);
    }
    assert_eq!(client.transport().breaker_state("sum"), BreakerState::Open);
    let err = client.sum(&ctx, &input()).await.expect_err("fails fast");
    assert_eq!(err.code, Code::Unavailable);
    assert!(err.message.contains("circuit open"), "{err}");
    assert_eq!(
        state.calls.load(Ordering::SeqCst),
        3,
        "no request reached the server while open"
    );

    // After `open_for`, one probe goes through; its success closes the breaker.
    state.unavailable_first.store(0, Ordering::SeqCst);
    tokio::time::sleep(Duration::from_millis(1_100)).await;
    assert_eq!(
        client
            .sum(&ctx, &input())
            .await
            .expect("probe succeeds")
            .sum,
        5
    );
    assert_eq!(
        client.transport().breaker_state("sum"),
        BreakerState::Closed
    );
}

#[tokio::test]
async fn protocol_errors() {
    let (base, _state) = start().await;
    let client = client(&base);
    let ctx = Context::background();
    // A missing required field is `invalid_argument`.
    let err = client
        .transport()
        .call::<_, SumOut>(&ctx, "sum", &serde_json::json!({"a": 1}))
        .await
        .expect_err("b is required");
    assert_eq!(err.code, Code::InvalidArgument);
    assert!(err.message.contains("missing field `b`"), "{err}");
    // Unknown fields are ignored.
    let out: SumOut = client
        .transport()
        .call(&ctx, "sum", &serde_json::json!({"a": 1, "b": 2, "c": 3}))
        .await
        .expect("extra field ignored");
    assert_eq!(out.sum, 3);
    // The body is the input message, a JSON object: an array (which serde
    // would read field by field) is `invalid_argument`.
    let http = reqwest::Client::new();
    let resp = http
        .post(format!("{base}/summer/sum"))
        .header("content-type", "application/json")
        .body("[1, 2]")
        .send()
        .await
        .expect("sent");
    assert_eq!(resp.status().as_u16(), 400);
    let body: serde_json::Value =
        serde_json::from_slice(&resp.bytes().await.expect("body")).expect("connect error");
    assert_eq!(body["code"], "invalid_argument", "{body}");
    // GET on an rpc path: 405, `Allow: POST`, and a Connect error body.
    let resp = http
        .get(format!("{base}/summer/sum"))
        .send()
        .await
        .expect("sent");
    assert_eq!(resp.status().as_u16(), 405);
    assert_eq!(resp.headers()["allow"], "POST");
    let body: serde_json::Value =
        serde_json::from_slice(&resp.bytes().await.expect("body")).expect("connect error");
    assert_eq!(body["code"], "unimplemented", "{body}");
    // Another content type: 415 naming what is accepted.
    let resp = http
        .post(format!("{base}/summer/sum"))
        .header("content-type", "text/plain")
        .body("{}")
        .send()
        .await
        .expect("sent");
    assert_eq!(resp.status().as_u16(), 415);
    assert_eq!(resp.headers()["accept-post"], "application/json");
    let body: serde_json::Value =
        serde_json::from_slice(&resp.bytes().await.expect("body")).expect("connect error");
    assert_eq!(body["code"], "unimplemented", "{body}");
    // An rpc the server does not have is `unimplemented`.
    let err = client
        .transport()
        .call::<_, SumOut>(&ctx, "mul", &input())
        .await
        .expect_err("no such rpc");
    assert_eq!(err.code, Code::Unimplemented);
}

/// A `summer` whose handler calls the next `summer` with its own context,
/// as a service calling its dependencies does.
struct Relay(SummerClient);

impl summer::Summer for Relay {
    async fn sum(&self, ctx: Context, input: SumIn) -> Result<SumOut, Error> {
        let out = self
            .0
            .sum(
                &ctx,
                &summer_client::SumIn {
                    a: input.a,
                    b: input.b,
                },
            )
            .await?;
        Ok(SumOut {
            sum: out.sum,
            info: "relayed".into(),
        })
    }
}

#[tokio::test]
async fn a_server_passes_headers_and_deadline_on() {
    let (next, state) = start().await;
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind loopback");
    let front = format!("http://{}", listener.local_addr().expect("addr"));
    let app = summer::router(Relay(client(&next)));
    tokio::spawn(async move { brief_rt::axum::serve(listener, app).await });

    let ctx = Context::background()
        .with_timeout(Duration::from_millis(800))
        .with_header(
            "traceparent",
            "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01",
        )
        .with_header("x-request-id", "chain-7")
        .with_header("x-route", "summer=pr-42");
    let out = client(&front)
        .sum(&ctx, &input())
        .await
        .expect("relayed call");
    assert_eq!(out.sum, 5);

    // The second hop saw the first hop's headers and a deadline no later
    // than what remained of the caller's 800 ms.
    let seen = state.seen.lock().expect("not poisoned");
    let (remaining, _, headers) = &seen[0];
    assert!(
        remaining.is_some_and(|r| r < Duration::from_millis(800)),
        "{remaining:?}"
    );
    let get = |k: &str| {
        headers
            .iter()
            .find(|(n, _)| n == k)
            .map(|(_, v)| v.as_str())
    };
    assert_eq!(
        get("traceparent"),
        Some("00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01")
    );
    assert_eq!(get("x-request-id"), Some("chain-7"));
    assert_eq!(get("x-route"), Some("summer=pr-42"));
}

#[tokio::test]
async fn contract_and_health_endpoints() {
    let (base, state) = start().await;
    client(&base)
        .sum(&Context::background(), &input())
        .await
        .expect("sum");
    // The client announced the hash of its own contract.
    let contracts = state.contracts.lock().expect("not poisoned").clone();
    assert_eq!(
        contracts,
        vec![Some(summer_client::SCHEMA_HASH.to_string())]
    );

    let body = reqwest::get(format!("{base}/_brief/contract"))
        .await
        .expect("get")
        .text()
        .await
        .expect("body");
    let json: serde_json::Value = serde_json::from_str(&body).expect("json");
    assert_eq!(json["service"], "summer");
    assert_eq!(json["hash"], summer::SCHEMA_HASH);
    assert_eq!(json["schema"], summer::CONTRACT);
    let health = reqwest::get(format!("{base}/_brief/health"))
        .await
        .expect("get");
    assert_eq!(health.status().as_u16(), 200);
}
