use super::*;

fn config() -> BreakerConfig {
    BreakerConfig {
        window: Duration::from_secs(10),
        min_calls: 4,
        failure_ratio: 0.5,
        open_for: Duration::from_secs(5),
        half_open_probes: 2,
    }
}

/// Runs a script of `(seconds since start, outcome)` through a breaker and
/// returns the state after each step; `None` asks only whether a call is allowed.
fn check(script: &[(u64, Option<bool>)], expect: &[&str]) {
    let t0 = Instant::now();
    let mut b = Breaker::new(config(), t0);
    let mut got = Vec::new();
    for &(s, outcome) in script {
        let now = t0 + Duration::from_secs(s);
        let allowed = b.allow(now);
        if let (true, Some(ok)) = (allowed, outcome) {
            b.record(ok, now);
        }
        got.push(format!(
            "{}{:?}",
            if allowed { "" } else { "rejected " },
            b.state()
        ));
    }
    assert_eq!(got, expect);
}

#[test]
fn opens_after_min_calls_at_ratio() {
    check(
        &[
            (0, Some(false)),
            (0, Some(true)),
            (0, Some(false)),
            (1, Some(false)),
            (1, Some(true)),
        ],
        &["Closed", "Closed", "Closed", "Open", "rejected Open"],
    );
}

#[test]
fn window_resets_counts() {
    check(
        &[
            (0, Some(false)),
            (0, Some(false)),
            (0, Some(false)),
            (11, Some(false)),
            (11, Some(true)),
        ],
        &["Closed", "Closed", "Closed", "Closed", "Closed"],
    );
}

#[test]
fn half_open_probe_closes_or_reopens() {
    let mut script = vec![(0, Some(false)); 4];
    script.extend([(6, Some(true)), (6, Some(false))]);
    check(
        &script,
        &["Closed", "Closed", "Closed", "Open", "Closed", "Closed"],
    );
    let mut script = vec![(0, Some(false)); 4];
    script.extend([
        (6, Some(false)),
        (7, None),
        (12, None),
        (12, None),
        (12, None),
    ]);
    check(
        &script,
        &[
            "Closed",
            "Closed",
            "Closed",
            "Open",
            "Open",
            "rejected Open",
            "HalfOpen",
            "HalfOpen",
            "rejected HalfOpen",
        ],
    );
}

#[test]
fn url_variable_names() {
    assert_eq!(url_variable("summer"), "SUMMER_URL");
    assert_eq!(url_variable("order-api.v2"), "ORDER_API_V2_URL");
}

#[test]
fn config_from_env_needs_the_variable() {
    let cfg = Config::from_env("summer", |v| {
        (v == "SUMMER_URL").then(|| "http://h:1/".to_string())
    });
    assert_eq!(cfg.map(|c| c.base_url).ok(), Some("http://h:1".to_string()));
    let missing = Config::from_env("summer", |_| None).map(|_| ());
    // The caller comes from SERVICE_NAME (set by the manifest generator),
    // else from the generated client's fallback.
    let env = |v: &str| match v {
        "SUMMER_URL" => Some("http://h:1".to_string()),
        "SERVICE_NAME" => Some("checkout".to_string()),
        _ => None,
    };
    let cfg = Config::from_env("summer", env).expect("configured");
    assert_eq!(
        cfg.default_caller("web").caller.as_deref(),
        Some("checkout")
    );
    let cfg = Config::from_env("summer", |v| {
        (v == "SUMMER_URL").then(|| "http://h:1".to_string())
    })
    .expect("configured");
    assert_eq!(cfg.caller, None);
    assert_eq!(cfg.default_caller("web").caller.as_deref(), Some("web"));
    assert_eq!(
        missing.map_err(|e| e.message),
        Err("SUMMER_URL is not set".to_string())
    );
}

#[test]
fn abandoned_probes_do_not_wedge_half_open() {
    // Probes admitted at 6 s never report (their callers gave up); after
    // another `open_for` a new probe is admitted.
    let mut script = vec![(0, Some(false)); 4];
    script.extend([(6, None), (6, None), (7, None), (12, None)]);
    check(
        &script,
        &[
            "Closed",
            "Closed",
            "Closed",
            "Open",
            "HalfOpen",
            "HalfOpen",
            "rejected HalfOpen",
            "HalfOpen",
        ],
    );
}

/// Resolves every name to `addr` and records when it was asked. A refused
/// connection is never pooled, so each attempt connects afresh and resolves
/// once: the record counts attempts (and their times) where no server can.
struct CountingResolver {
    addr: std::net::SocketAddr,
    at: Mutex<Vec<Instant>>,
}

impl reqwest::dns::Resolve for CountingResolver {
    fn resolve(&self, _name: reqwest::dns::Name) -> reqwest::dns::Resolving {
        self.at.lock().expect("not poisoned").push(Instant::now());
        let addr = self.addr;
        Box::pin(async move { Ok(Box::new(std::iter::once(addr)) as reqwest::dns::Addrs) })
    }
}

/// A client of `summer` whose connections all go to a loopback port nothing
/// listens on, and the resolver that counts its attempts.
fn refused_client(config: impl FnOnce(&mut Config)) -> (Client, Arc<CountingResolver>) {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    let addr = listener.local_addr().expect("addr");
    drop(listener); // nothing listens there now: connections are refused
    let resolver = Arc::new(CountingResolver {
        addr,
        at: Mutex::new(Vec::new()),
    });
    let http = reqwest::Client::builder()
        .dns_resolver(resolver.clone())
        .build()
        .expect("http client");
    let mut cfg = Config::new(format!("http://summer.test:{}", addr.port()));
    // The breaker would also stop the calls; keep it out of the way so the
    // retry policy alone is measured.
    cfg.breaker.min_calls = u32::MAX;
    config(&mut cfg);
    (Client::with_http("summer", cfg, http), resolver)
}

fn attempts(resolver: &CountingResolver) -> Vec<Instant> {
    resolver.at.lock().expect("not poisoned").clone()
}

/// During an outage (every connection refused) a small retry budget bounds
/// the attempts: the initial tokens plus `budget_ratio` per call, not
/// `max_attempts` per call.
#[tokio::test]
async fn retry_budget_bounds_attempts_against_a_refused_connection() {
    let (client, resolver) = refused_client(|c| {
        c.retry.budget_max = 2.0;
        c.retry.budget_ratio = 0.1;
        c.retry.base_backoff = Duration::from_millis(1);
        c.retry.max_backoff = Duration::from_millis(2);
    });
    let ctx = Context::background();
    let calls = 30;
    for _ in 0..calls {
        let err = client
            .call::<_, serde_json::Value>(&ctx, "sum", &serde_json::json!({"a": 1, "b": 2}))
            .await
            .expect_err("refused");
        assert_eq!(err.code, Code::Unavailable, "{err}");
        assert!(err.message.contains("cannot connect"), "{err}");
    }
    let n = attempts(&resolver).len();
    // The first call spends the initial 2 tokens (two retries); after that
    // each call adds 0.1 token, so at most 3 more retries in 29 calls.
    // Without the budget it would be 3 attempts per call (90).
    let bound = calls + 2 + calls / 10;
    assert!(
        (calls + 2..=bound).contains(&n),
        "{n} attempts for {calls} calls; the budget allows {}..={bound}",
        calls + 2
    );
}

/// Backoff is full jitter under a cap that doubles per retry and stops at
/// `max_backoff`.
#[test]
fn backoff_is_capped_full_jitter() {
    let mut cfg = Config::new("http://unused");
    cfg.retry.base_backoff = Duration::from_millis(25);
    cfg.retry.max_backoff = Duration::from_millis(120);
    let client = Client::new("summer", cfg);
    for (attempt, cap_ms) in [(1, 25), (2, 50), (3, 100), (4, 120), (40, 120)] {
        let cap = Duration::from_millis(cap_ms);
        let samples: Vec<Duration> = (0..500).map(|_| client.backoff(attempt)).collect();
        let max = samples.iter().max().copied().unwrap_or_default();
        assert!(
            max <= cap,
            "attempt {attempt}: {max:?} beyond the cap {cap:?}"
        );
        assert!(
            max >= cap / 2 && samples.iter().any(|s| *s < cap / 2),
            "attempt {attempt}: samples do not spread over [0, {cap:?}]: max {max:?}"
        );
    }
}

/// Sets the client's jitter state so the first backoff is at least
/// `at_least`, and returns that backoff.
fn seed_long_first_backoff(client: &Client, at_least: Duration) -> Duration {
    for seed in 1u64.. {
        *client.inner.rng.lock().expect("not poisoned") = seed.wrapping_mul(0x9E37_79B9_7F4A_7C15);
        let b = client.backoff(1);
        if b >= at_least {
            *client.inner.rng.lock().expect("not poisoned") =
                seed.wrapping_mul(0x9E37_79B9_7F4A_7C15);
            return b;
        }
    }
    unreachable!("some seed gives a long backoff")
}

/// A retry waits its backoff, and is not taken when the backoff would end
/// past the deadline: the call fails at once with the last error instead.
#[tokio::test]
async fn backoff_spaces_retries_and_never_passes_the_deadline() {
    let setup = |c: &mut Config| {
        c.retry.base_backoff = Duration::from_millis(400);
        c.retry.max_backoff = Duration::from_millis(400);
    };
    let input = serde_json::json!({"a": 1, "b": 2});

    // Plenty of time: three attempts, the second one backoff after the first.
    let (client, resolver) = refused_client(|c| {
        setup(c);
        c.timeout = Duration::from_secs(5);
    });
    let first = seed_long_first_backoff(&client, Duration::from_millis(300));
    let err = client
        .call::<_, serde_json::Value>(&Context::background(), "sum", &input)
        .await
        .expect_err("refused");
    assert_eq!(err.code, Code::Unavailable, "{err}");
    let at = attempts(&resolver);
    assert_eq!(at.len(), 3, "max_attempts");
    assert!(
        at[1] - at[0] >= first,
        "the retry came {:?} after the first attempt, before its backoff {first:?}",
        at[1] - at[0]
    );

    // 200 ms left and a first backoff of at least 300 ms: no retry, no wait.
    let (client, resolver) = refused_client(|c| {
        setup(c);
        c.timeout = Duration::from_millis(200);
    });
    seed_long_first_backoff(&client, Duration::from_millis(300));
    let started = Instant::now();
    let err = client
        .call::<_, serde_json::Value>(&Context::background(), "sum", &input)
        .await
        .expect_err("refused");
    assert_eq!(
        err.code,
        Code::Unavailable,
        "the connection error, not a timeout: {err}"
    );
    assert_eq!(attempts(&resolver).len(), 1, "no retry past the deadline");
    assert!(
        started.elapsed() < Duration::from_millis(200),
        "gave up without sleeping: {:?}",
        started.elapsed()
    );
}
