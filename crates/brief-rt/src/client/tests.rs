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
