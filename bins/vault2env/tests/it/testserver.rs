//! The binary against the in-repo server that follows Vault's documented API.

use std::process::{Command, Stdio};
use std::time::Duration;

use vault_testserver::{Shape, TestVault};

use crate::{run, scratch};

const JWT: &str = "eyJhbGciOiJSUzI1NiJ9.k8s-service-account-jwt.signature-xyz";
const DB_PASSWORD: &str = "db-pass-Zq81!x";
const REDIS_PASSWORD: &str = "redis-pass-77aa";
const API_KEY: &str = "api-key-00ff-11ee";
const CERT_BODY: &str = "-----BEGIN KEY-----\nline-one-secret\n-----END KEY-----";
const DELETED_VALUE: &str = "value-of-deleted-secret";
const OTHER_NS: &str = "other-namespace-secret";
const LOG_LEVEL: &str = "info-level";
/// The first version of `billing/redis`, superseded by [`REDIS_PASSWORD`].
const OLD_REDIS_PASSWORD: &str = "old-redis-value";
/// Held by some tests' servers under `billing-admin/x`, which no role may read.
const ADMIN_ONLY: &str = "admin-only-secret";
/// Held by some tests' servers under `billing/burnt`, whose latest version is destroyed.
const DESTROYED_VALUE: &str = "destroyed-value-1";

/// Every value the standard server holds, and those some tests add to it
/// (none may be printed).
const SECRETS: &[&str] = &[
    JWT,
    DB_PASSWORD,
    LOG_LEVEL,
    OLD_REDIS_PASSWORD,
    REDIS_PASSWORD,
    API_KEY,
    "line-one-secret",
    DELETED_VALUE,
    OTHER_NS,
    ADMIN_ONLY,
    DESTROYED_VALUE,
];

/// [`SECRETS`] plus the values a test adds: everything that must never be printed.
fn secrets_and<'a>(extra: &[&'a str]) -> Vec<&'a str> {
    SECRETS
        .iter()
        .copied()
        .chain(extra.iter().copied())
        .collect()
}

/// The standard server: KV v2 at `secret`, namespace `billing` with a
/// secret at its root, sub-paths two levels deep, a deleted secret, another
/// namespace the role may not read, and a Kubernetes role.
fn server() -> vault_testserver::TestVaultBuilder {
    TestVault::builder()
        .kv("secret", 2)
        .put(
            "secret",
            "billing",
            &[("DB_PASSWORD", DB_PASSWORD), ("log.level", LOG_LEVEL)],
        )
        .put(
            "secret",
            "billing/redis",
            &[("redis-password", OLD_REDIS_PASSWORD)],
        )
        .put(
            "secret",
            "billing/redis",
            &[("redis-password", REDIS_PASSWORD)],
        )
        .put(
            "secret",
            "billing/partners/acme",
            &[("api-key", API_KEY), ("tls.key", CERT_BODY)],
        )
        .put("secret", "billing/old", &[("OLD_THING", DELETED_VALUE)])
        .delete_latest("secret", "billing/old", false)
        .put("secret", "payments", &[("OTHER", OTHER_NS)])
        .kubernetes_role("kubernetes", "billing", JWT, &vault_testserver::DEMO_POLICY)
}

/// Environment for Kubernetes auth against `srv`, the JWT in a file under `dir`.
fn k8s_env(srv: &TestVault, dir: &tempfile::TempDir) -> Vec<(String, String)> {
    let jwt = dir.path().join("token");
    std::fs::write(&jwt, format!("{JWT}\n")).expect("write jwt");
    vec![
        ("VAULT_ADDR".into(), srv.url()),
        ("VAULT2ENV_NAMESPACE".into(), "billing".into()),
        ("VAULT2ENV_TOKEN_FILE".into(), jwt.display().to_string()),
        ("VAULT2ENV_TIMEOUT".into(), "5s".into()),
    ]
}

/// Sets `key` in a run's environment, replacing an earlier value.
fn set(env: &mut Vec<(String, String)>, key: &str, value: impl Into<String>) {
    env.retain(|(k, _)| k != key);
    env.push((key.into(), value.into()));
}

#[test]
fn kubernetes_auth_kv2_auto_list_and_hygiene() {
    let srv = server().start();
    let dir = scratch();
    let mut env = k8s_env(&srv, &dir);
    env.push((
        "VAULT2ENV_REQUIRED".into(),
        "DB_PASSWORD, REDIS_PASSWORD".into(),
    ));
    env.push(("UNRELATED".into(), "kept".into()));
    let r = run(&env, &[], SECRETS);
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert_eq!(r.child("DB_PASSWORD"), Some(DB_PASSWORD));
    assert_eq!(r.child("LOG_LEVEL"), Some(LOG_LEVEL));
    assert_eq!(
        r.child("REDIS_PASSWORD"),
        Some(REDIS_PASSWORD),
        "latest version"
    );
    assert_eq!(r.child("API_KEY"), Some(API_KEY), "two levels of sub-paths");
    assert_eq!(
        r.child("TLS_KEY"),
        Some(CERT_BODY),
        "multi-line value intact"
    );
    assert_eq!(
        r.child("OLD_THING"),
        None,
        "deleted latest version is skipped"
    );
    assert_eq!(r.child("OTHER"), None);
    assert_eq!(r.child("UNRELATED"), Some("kept"));
    let private: Vec<&String> = r
        .child_env
        .as_ref()
        .expect("child ran")
        .keys()
        .filter(|k| k.starts_with("VAULT2ENV_") || *k == "VAULT_TOKEN")
        .collect();
    assert!(private.is_empty(), "{private:?}");
    assert!(
        !r.child_env
            .as_ref()
            .expect("env")
            .values()
            .any(|v| v.starts_with("hvs.")),
        "token passed on"
    );
    assert_eq!(r.child_core_limit.as_deref(), Some("0"));
    assert!(
        r.stderr.contains("billing/old"),
        "deleted secret is named: {}",
        r.stderr
    );
    assert!(r.stderr.contains("set 5 variable(s)"), "{}", r.stderr);
    assert_eq!(srv.revoked(), 1, "token revoked before exec");
    // The login token is part of every leak check (crate::assert_no_leak).
    assert!(
        vault_testserver::issued_tokens()
            .iter()
            .any(|t| srv.is_revoked(t)),
        "the issued token is known to the leak check"
    );

    // The requests follow the documented API: login, mount lookup, LIST on metadata/, GET on data/.
    let reqs = srv.requests();
    let seen = |m: &str, p: &str| reqs.iter().any(|q| q.method == m && q.path == p);
    assert!(seen("POST", "auth/kubernetes/login"));
    assert!(seen("GET", "sys/internal/ui/mounts/secret"));
    assert!(seen("LIST", "secret/metadata/billing/"));
    assert!(seen("LIST", "secret/metadata/billing/partners/"));
    assert!(seen("GET", "secret/data/billing/partners/acme"));
    assert!(seen("POST", "auth/token/revoke-self"));
    assert_eq!(
        reqs.last().map(|q| q.path.as_str()),
        Some("auth/token/revoke-self")
    );
}

#[test]
fn check_lists_names_only() {
    let srv = server().start();
    let dir = scratch();
    let env = k8s_env(&srv, &dir);
    let r = run(&env, &["--check"], SECRETS);
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert_eq!(
        r.stdout,
        "API_KEY\nDB_PASSWORD\nLOG_LEVEL\nREDIS_PASSWORD\nTLS_KEY\n"
    );
    assert!(r.child_env.is_none());
}

#[test]
fn references_and_override_policy() {
    let srv = server()
        .put(
            "secret",
            "shared/db",
            &[("url", "postgres://shared-db-secret-url")],
        )
        .kubernetes_role(
            "k8s-prod",
            "billing-role",
            JWT,
            &[
                "secret/data/billing",
                "secret/data/billing/*",
                "secret/metadata/billing/",
                "secret/metadata/billing/*",
                "secret/data/shared/*",
            ],
        )
        .start();
    let dir = scratch();
    let mut env = k8s_env(&srv, &dir);
    env.extend([
        ("VAULT2ENV_AUTH_MOUNT".into(), "k8s-prod".into()),
        ("VAULT2ENV_ROLE".into(), "billing-role".into()),
        ("DATABASE_URL".into(), "vault:shared/db#url".into()),
        ("DB_PASSWORD".into(), "from-image".into()),
    ]);
    let secrets = secrets_and(&["postgres://shared-db-secret-url"]);
    let r = run(&env, &[], &secrets);
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert_eq!(
        r.child("DATABASE_URL"),
        Some("postgres://shared-db-secret-url")
    );
    assert_eq!(
        r.child("DB_PASSWORD"),
        Some("from-image"),
        "no override by default"
    );
    assert!(
        r.stderr.contains("kept existing value of DB_PASSWORD"),
        "{}",
        r.stderr
    );

    env.push(("VAULT2ENV_OVERRIDE".into(), "true".into()));
    let r = run(&env, &[], &secrets);
    assert_eq!(r.child("DB_PASSWORD"), Some(DB_PASSWORD));

    // An explicit reference wins over the namespace secret of the same
    // name, even with VAULT2ENV_OVERRIDE=true, and is counted once.
    let mut with_ref = env.clone();
    set(&mut with_ref, "DB_PASSWORD", "vault:shared/db#url");
    let r = run(&with_ref, &[], &secrets);
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert_eq!(
        r.child("DB_PASSWORD"),
        Some("postgres://shared-db-secret-url")
    );
    assert!(r.stderr.contains("set 6 variable(s)"), "{}", r.stderr);
    assert!(
        r.stderr
            .contains("DB_PASSWORD: its vault:shared/db#url reference wins"),
        "{}",
        r.stderr
    );
    let r = run(&with_ref, &["--check"], &secrets);
    assert_eq!(r.stdout.matches("DB_PASSWORD\n").count(), 1, "{}", r.stdout);

    // A value that merely starts with vault: is passed on, with a warning
    // that names the variable but not the value.
    let mut greeting = env.clone();
    greeting.push(("GREETING".into(), "vault:hello-there".into()));
    let r = run(&greeting, &[], &secrets);
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert_eq!(r.child("GREETING"), Some("vault:hello-there"));
    assert!(
        r.stderr.contains("GREETING starts with vault:") && !r.stderr.contains("hello-there"),
        "{}",
        r.stderr
    );

    // A reference to a missing key is a missing secret.
    env.push(("OTHER_URL".into(), "vault:shared/db#nope".into()));
    let r = run(&env, &[], &secrets);
    assert_eq!(r.code, 78, "{}", r.stderr);
    assert!(
        r.stderr.contains("OTHER_URL") && r.stderr.contains("shared/db#nope"),
        "{}",
        r.stderr
    );
}

/// One failing case: extra environment, expected exit code, a phrase of the message.
fn check_failure(srv: &TestVault, extra: &[(&str, &str)], code: i32, phrase: &str) {
    let dir = scratch();
    let mut env = k8s_env(srv, &dir);
    for (k, v) in extra {
        set(&mut env, k, *v);
    }
    let r = run(&env, &[], SECRETS);
    assert_eq!(r.code, code, "{extra:?}: {}", r.stderr);
    assert!(
        r.stderr.contains(phrase),
        "{extra:?}: expected {phrase:?} in {}",
        r.stderr
    );
    assert!(
        r.child_env.is_none(),
        "fail closed: the service must not start"
    );
}

#[test]
fn failures_have_the_exit_codes_of_the_spec() {
    let srv = server()
        .put("secret", "billing-admin/x", &[("k", ADMIN_ONLY)])
        .kubernetes_role(
            "kubernetes",
            "nosy",
            JWT,
            &[
                "secret/data/payments",
                "secret/metadata/billing/",
                "secret/metadata/billing/*",
            ],
        )
        .start();
    check_failure(
        &srv,
        &[("VAULT2ENV_ROLE", "unknown")],
        77,
        "invalid role name",
    );
    check_failure(
        &srv,
        &[("VAULT2ENV_AUTH_MOUNT", "nowhere")],
        77,
        "auth/nowhere",
    );
    // The role may list billing but not read it; its token is still revoked.
    let revoked = srv.revoked();
    check_failure(
        &srv,
        &[("VAULT2ENV_ROLE", "nosy")],
        77,
        "permission denied on read /v1/secret/data/billing",
    );
    assert_eq!(
        srv.revoked(),
        revoked + 1,
        "revoked even when reading fails"
    );
    // Reading another namespace through VAULT2ENV_PATH is denied.
    check_failure(
        &srv,
        &[("VAULT2ENV_PATH", "payments")],
        77,
        "permission denied",
    );
    check_failure(
        &srv,
        &[("VAULT2ENV_REQUIRED", "DB_PASSWORD,MISSING_ONE")],
        78,
        "MISSING_ONE",
    );
    check_failure(
        &srv,
        &[("VAULT2ENV_TIMEOUT", "never")],
        64,
        "VAULT2ENV_TIMEOUT",
    );
    check_failure(&srv, &[("VAULT2ENV_KV_MOUNT", "kv")], 77, "mount lookup");
    // Policy paths match exactly (or by glob): secret/data/billing does not
    // grant secret/data/billing-admin/... as a string prefix would.
    check_failure(
        &srv,
        &[("ADMIN", "vault:billing-admin/x#k")],
        77,
        "permission denied on read /v1/secret/data/billing-admin/x",
    );
    // A timeout too large for the clock was a panic (exit 101/134), not a usage error.
    check_failure(
        &srv,
        &[("VAULT2ENV_TIMEOUT", "18446744073709551615")],
        64,
        "VAULT2ENV_TIMEOUT",
    );
    check_failure(
        &srv,
        &[("DB_URL", "vault:billing/old#OLD_THING")],
        78,
        "billing/old#OLD_THING",
    );
}

#[test]
fn wrong_jwt_is_denied_and_never_printed_even_when_echoed() {
    let srv = server().echo_errors().start();
    let dir = scratch();
    let jwt = dir.path().join("wrong");
    let wrong = "eyJ.wrong-jwt-that-must-not-leak.sig";
    std::fs::write(&jwt, wrong).expect("write");
    let env = [
        ("VAULT_ADDR", srv.url()),
        ("VAULT2ENV_NAMESPACE", "billing".into()),
        ("VAULT2ENV_TOKEN_FILE", jwt.display().to_string()),
    ];
    let secrets = secrets_and(&[wrong]);
    let r = run(&env, &[], &secrets);
    assert_eq!(r.code, 77, "{}", r.stderr);
    assert!(
        r.stderr.contains("<redacted>"),
        "the echoed jwt is scrubbed: {}",
        r.stderr
    );
}

#[test]
fn unreachable_fails_closed_unless_optional() {
    // A port that was free a moment ago: connection refused.
    let port = crate::free_port();
    let dir = scratch();
    let jwt = dir.path().join("token");
    std::fs::write(&jwt, JWT).expect("write");
    let addr = format!("http://127.0.0.1:{port}");
    let jwt = jwt.display().to_string();
    let mut env = vec![
        ("VAULT_ADDR", addr.as_str()),
        ("VAULT2ENV_NAMESPACE", "billing"),
        ("VAULT2ENV_TOKEN_FILE", jwt.as_str()),
        ("VAULT2ENV_TIMEOUT", "800ms"),
        ("DB_URL", "vault:billing/db#url"),
        ("PLAIN", "x"),
    ];
    let r = run(&env, &[], SECRETS);
    assert_eq!(r.code, 69, "{}", r.stderr);
    assert!(r.stderr.contains("unreachable"), "{}", r.stderr);
    assert!(r.child_env.is_none());

    env.push(("VAULT2ENV_OPTIONAL", "true"));
    let r = run(&env, &[], SECRETS);
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert_eq!(r.child("PLAIN"), Some("x"));
    assert_eq!(
        r.child("DB_URL"),
        None,
        "unresolved reference is not passed on"
    );
    assert_eq!(r.child("VAULT2ENV_OPTIONAL"), None);

    // Optional does not weaken denials or required names.
    env.push(("VAULT2ENV_REQUIRED", "DB_URL"));
    assert_eq!(run(&env, &[], SECRETS).code, 78);
}

#[test]
fn optional_starts_only_when_vault_is_unreachable_not_when_it_answers_wrongly() {
    let dir = scratch();
    let jwt = dir.path().join("token");
    std::fs::write(&jwt, JWT).expect("write");
    let jwt = jwt.display().to_string();
    let html =
        b"HTTP/1.1 200 OK\r\nContent-Length: 19\r\nConnection: close\r\n\r\n<html>proxy</html>\n";
    for (answer, phrase) in [
        (&html[..], "no auth.client_token"),
        (b"SSH-2.0-OpenSSH_9.6\r\n", "malformed http"),
        (
            b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n1\r\n{\r\nffffffffffffffff\r\n",
            "response too large",
        ),
    ] {
        let url = crate::fake_server(answer);
        let env = [
            ("VAULT_ADDR", url.as_str()),
            ("VAULT2ENV_NAMESPACE", "billing"),
            ("VAULT2ENV_TOKEN_FILE", jwt.as_str()),
            ("VAULT2ENV_TIMEOUT", "3s"),
            ("VAULT2ENV_OPTIONAL", "true"),
        ];
        let r = run(&env, &[], SECRETS);
        assert_eq!(r.code, 69, "{phrase}: {}", r.stderr);
        assert!(r.stderr.contains(phrase), "{phrase}: {}", r.stderr);
        assert!(
            r.child_env.is_none(),
            "{phrase}: OPTIONAL must not start the service when Vault answered wrongly"
        );
        assert!(
            !r.stderr.contains("starting without secrets"),
            "{}",
            r.stderr
        );
    }

    // A host name that can never resolve is a configuration error, not "unreachable".
    let long = format!("http://{}.example:1", "x".repeat(64));
    for addr in ["http://a..b:1", "http://\u{e9}:1", long.as_str()] {
        let env = [
            ("VAULT_ADDR", addr),
            ("VAULT2ENV_NAMESPACE", "billing"),
            ("VAULT2ENV_TOKEN_FILE", jwt.as_str()),
            ("VAULT2ENV_OPTIONAL", "true"),
        ];
        let r = run(&env, &[], SECRETS);
        assert_eq!(r.code, 64, "{addr}: {}", r.stderr);
        assert!(r.child_env.is_none(), "{addr}");
    }
}

#[test]
fn transient_errors_are_retried_within_the_deadline() {
    let srv = server().fail_first(3, 503).chunked().start();
    let dir = scratch();
    let env = k8s_env(&srv, &dir);
    let r = run(&env, &[], SECRETS);
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert_eq!(r.child("API_KEY"), Some(API_KEY), "chunked bodies decoded");
    assert_eq!(srv.requests().iter().filter(|q| q.status == 503).count(), 3);

    // Sealed for longer than the deadline: 69, after a last attempt at
    // most 100 ms before the deadline (not a whole backoff before it).
    let srv = server().fail_first(1000, 503).start();
    let dir = scratch();
    let mut env = k8s_env(&srv, &dir);
    set(&mut env, "VAULT2ENV_TIMEOUT", "700ms");
    let started = std::time::Instant::now();
    let r = run(&env, &[], SECRETS);
    assert_eq!(r.code, 69, "{}", r.stderr);
    assert!(r.stderr.contains("HTTP 503"), "{}", r.stderr);
    assert!(
        started.elapsed() < Duration::from_secs(5),
        "the deadline bounds the retries"
    );
    assert!(
        started.elapsed() >= Duration::from_millis(600),
        "gave up {:?} into a 700 ms deadline",
        started.elapsed()
    );
}

#[test]
fn the_last_retry_is_made_just_before_the_deadline() {
    // Sealed (503) for 2 s from the first request, with a deadline of
    // 2.25 s. The backoff (100 ms doubling, ±25 %) puts the attempts at
    // about 0, 0.1, 0.3, 0.7 and 1.5 s, the fifth at 1.875 s at the latest,
    // and the next backoff (1.2 s at least) would cross the deadline.
    // Giving up there leaves 0.375 s or more unused; the last attempt is
    // made 100 ms before the deadline instead, and finds Vault unsealed.
    const TOKEN: &str = "s.retry-token-until-the-deadline";
    let srv = TestVault::builder()
        .kv("secret", 2)
        .put("secret", "billing", &[("DB_PASSWORD", DB_PASSWORD)])
        .token(TOKEN, &vault_testserver::DEMO_POLICY)
        .fail_for(Duration::from_millis(2000), 503)
        .start();
    let url = srv.url();
    let env = [
        ("VAULT_ADDR", url.as_str()),
        ("VAULT2ENV_NAMESPACE", "billing"),
        ("VAULT2ENV_AUTH", "token"),
        ("VAULT_TOKEN", TOKEN),
        // No mount lookup: after the seal, two requests fit in the time left.
        ("VAULT2ENV_KV_VERSION", "2"),
        ("VAULT2ENV_TIMEOUT", "2250ms"),
    ];
    let r = run(&env, &[], &secrets_and(&[TOKEN]));
    let reqs = srv.requests();
    let times: Vec<(u16, Duration)> = reqs.iter().map(|q| (q.status, q.at)).collect();
    assert_eq!(r.code, 0, "{times:?}: {}", r.stderr);
    assert_eq!(r.child("DB_PASSWORD"), Some(DB_PASSWORD));
    let first = reqs.first().expect("requests").at;
    let unsealed = reqs
        .iter()
        .find(|q| q.status != 503)
        .expect("a request after the seal");
    assert!(
        unsealed.at - first >= Duration::from_millis(2000),
        "{times:?}"
    );
    assert!(
        reqs.iter().filter(|q| q.status == 503).count() >= 4,
        "backed off and retried while sealed: {times:?}"
    );
}

#[test]
fn a_trickling_server_cannot_stretch_the_deadline() {
    // Login answered one byte every 100 ms (about a minute in all): the
    // total deadline of 1 s ends it, not a per-read timeout.
    let srv = server()
        .trickle("auth/kubernetes/login", Duration::from_millis(100))
        .start();
    let dir = scratch();
    let mut env = k8s_env(&srv, &dir);
    set(&mut env, "VAULT2ENV_TIMEOUT", "1s");
    let started = std::time::Instant::now();
    let r = run(&env, &[], SECRETS);
    assert_eq!(r.code, 69, "{}", r.stderr);
    assert!(r.child_env.is_none());
    assert!(
        started.elapsed() < Duration::from_secs(6),
        "took {:?}: the deadline was stretched",
        started.elapsed()
    );

    // Revocation has its own 2 s budget, which a trickle cannot stretch
    // either (its 204 answer alone would take about 14 s).
    let srv = server()
        .trickle("auth/token/revoke-self", Duration::from_millis(200))
        .start();
    let env = k8s_env(&srv, &dir);
    let started = std::time::Instant::now();
    let r = run(&env, &[], SECRETS);
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert_eq!(r.child("DB_PASSWORD"), Some(DB_PASSWORD));
    assert!(r.stderr.contains("token revocation failed"), "{}", r.stderr);
    assert!(
        started.elapsed() < Duration::from_secs(7),
        "took {:?}: revocation was stretched",
        started.elapsed()
    );
}

#[test]
fn a_nul_byte_in_a_value_is_named_before_exec_and_in_check() {
    let srv = server()
        .put(
            "secret",
            "billing/bin",
            &[("WITH_NUL", "nul-secret-before\0after")],
        )
        .start();
    let dir = scratch();
    let env = k8s_env(&srv, &dir);
    let secrets = secrets_and(&["nul-secret-before"]);
    for args in [&[][..], &["--check"][..]] {
        let r = run(&env, args, &secrets);
        assert_eq!(r.code, 64, "{args:?}: {}", r.stderr);
        assert!(
            r.stderr.contains("billing/bin#WITH_NUL") && r.stderr.contains("NUL byte"),
            "{args:?}: {}",
            r.stderr
        );
        assert!(r.child_env.is_none());
    }
}

#[test]
fn a_secret_named_like_a_reserved_variable_is_an_error_naming_it() {
    let srv = server()
        .put(
            "secret",
            "billing/cfg",
            &[("vault2env-x", "reserved-secret-1")],
        )
        .start();
    let dir = scratch();
    let env = k8s_env(&srv, &dir);
    let secrets = secrets_and(&["reserved-secret-1"]);
    let r = run(&env, &[], &secrets);
    assert_eq!(r.code, 64, "{}", r.stderr);
    assert!(
        r.stderr.contains("\"vault2env-x\" at billing/cfg") && r.stderr.contains("rename the key"),
        "{}",
        r.stderr
    );
    assert!(!r.stderr.contains("kept existing value"), "{}", r.stderr);
}

#[test]
fn vault_messages_are_withheld_once_a_short_secret_is_known() {
    // A value under 4 bytes cannot be scrubbed from Vault's messages, so
    // after reading it only the status and path of an error are printed.
    // 3 bytes, the longest such value, and unlikely enough in a message
    // for the leak check to look for it too.
    const PIN: &str = "7qZ";
    assert!(
        PIN.len() < 4,
        "the redactor scrubs values of 4 bytes and more"
    );
    let srv = server()
        .put("secret", "billing/pin", &[("PIN", PIN)])
        .start();
    let dir = scratch();
    let mut env = k8s_env(&srv, &dir);
    env.push(("OTHER".into(), "vault:payments#OTHER".into()));
    let r = run(&env, &[], &secrets_and(&[PIN]));
    assert_eq!(r.code, 77, "{}", r.stderr);
    assert!(r.stderr.contains("HTTP 403"), "{}", r.stderr);
    assert!(!r.stderr.contains("error occurred"), "{}", r.stderr);
    assert!(r.stderr.contains("withheld"), "{}", r.stderr);
}

#[test]
fn retried_statuses_are_exactly_429_500_502_503_504() {
    for status in [429, 500, 502, 503, 504] {
        let srv = server().fail_first(2, status).start();
        let dir = scratch();
        let r = run(&k8s_env(&srv, &dir), &[], SECRETS);
        assert_eq!(r.code, 0, "{status} is retried: {}", r.stderr);
    }
    // Other statuses are answers: Vault answered wrongly (69, at once, and
    // not "unreachable": OPTIONAL does not start the service), not denials.
    for status in [412, 501, 505, 507, 418] {
        let srv = server().fail_first(1, status).start();
        let dir = scratch();
        let mut env = k8s_env(&srv, &dir);
        set(&mut env, "VAULT2ENV_OPTIONAL", "true");
        let r = run(&env, &[], SECRETS);
        assert_eq!(r.code, 69, "{status}: {}", r.stderr);
        assert!(
            r.stderr.contains(&format!("unexpected HTTP {status}")),
            "{status}: {}",
            r.stderr
        );
        assert!(r.child_env.is_none(), "{status}");
        assert_eq!(srv.requests().len(), 1, "{status} is not retried");
    }
}

#[test]
fn redirects_from_a_standby_are_followed_within_limits() {
    let active = server().start();
    let standby = TestVault::builder().redirect_to(&active.url()).start();
    let dir = scratch();
    let mut env = k8s_env(&active, &dir);
    set(&mut env, "VAULT_ADDR", standby.url());
    let r = run(&env, &[], SECRETS);
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert_eq!(r.child("DB_PASSWORD"), Some(DB_PASSWORD));
    assert_eq!(standby.requests()[0].status, 307);
    assert!(
        active
            .requests()
            .iter()
            .any(|q| q.method == "POST" && q.path == "auth/kubernetes/login"),
        "the login was re-sent to the active node"
    );
    assert_eq!(active.revoked(), 1);

    // A loop ends after 3 hops: Vault answered wrongly.
    let looping = TestVault::builder().redirect_loop().start();
    set(&mut env, "VAULT_ADDR", looping.url());
    set(&mut env, "VAULT2ENV_OPTIONAL", "true");
    let r = run(&env, &[], SECRETS);
    assert_eq!(r.code, 69, "{}", r.stderr);
    assert!(r.stderr.contains("more than 3 redirects"), "{}", r.stderr);
    assert!(r.child_env.is_none());
    assert_eq!(looping.requests().len(), 4);

    // Never from https to http (the token would travel in clear text).
    let tls_standby = TestVault::builder()
        .tls()
        .redirect_to(&active.url())
        .start();
    let ca = dir.path().join("ca.pem");
    std::fs::write(&ca, tls_standby.ca_pem().expect("ca")).expect("write ca");
    set(&mut env, "VAULT_ADDR", tls_standby.url());
    set(&mut env, "VAULT_CACERT", ca.display().to_string());
    let before = active.requests().len();
    let r = run(&env, &[], SECRETS);
    assert_eq!(r.code, 69, "{}", r.stderr);
    assert!(r.stderr.contains("changes the scheme"), "{}", r.stderr);
    assert_eq!(active.requests().len(), before, "nothing sent over http");
}

#[test]
fn an_empty_or_misaddressed_namespace_is_an_error_unless_allowed() {
    let srv = server()
        .kubernetes_role(
            "kubernetes",
            "wide",
            JWT,
            &[
                "secret/billing",
                "secret/billing/",
                "secret/data/billing/nothing-here",
                "secret/metadata/billing/nothing-here/",
            ],
        )
        .start();
    let dir = scratch();
    // KV v1 forced on a v2 mount: 404 on the read and on LIST.
    for (extra, where_) in [
        (
            ("VAULT2ENV_KV_VERSION", "1"),
            "secret/billing (KV version 1)",
        ),
        (
            ("VAULT2ENV_PATH", "billing/nothing-here"),
            "secret/billing/nothing-here (KV version 2)",
        ),
    ] {
        let mut env = k8s_env(&srv, &dir);
        set(&mut env, extra.0, extra.1);
        set(&mut env, "VAULT2ENV_ROLE", "wide");
        set(&mut env, "VAULT2ENV_OPTIONAL", "true");
        let r = run(&env, &[], SECRETS);
        assert_eq!(r.code, 78, "{extra:?}: {}", r.stderr);
        assert!(
            r.stderr.contains(where_)
                && r.stderr.contains("VAULT2ENV_PATH")
                && r.stderr.contains("VAULT2ENV_KV_VERSION")
                && r.stderr.contains("VAULT2ENV_ALLOW_EMPTY"),
            "{extra:?}: {}",
            r.stderr
        );
        assert!(r.child_env.is_none());

        set(&mut env, "VAULT2ENV_ALLOW_EMPTY", "true");
        let r = run(&env, &[], SECRETS);
        assert_eq!(r.code, 0, "{extra:?}: {}", r.stderr);
        assert!(r.stderr.contains("set 0 variable(s)"), "{}", r.stderr);
    }
}

#[test]
fn a_destroyed_latest_version_is_skipped_and_named() {
    let srv = server()
        .put("secret", "billing/burnt", &[("BURNT", DESTROYED_VALUE)])
        .destroy_latest("secret", "billing/burnt")
        .start();
    let dir = scratch();
    let mut env = k8s_env(&srv, &dir);
    let r = run(&env, &[], SECRETS);
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert_eq!(r.child("BURNT"), None);
    assert!(
        r.stderr
            .contains("skipping secret/billing/burnt: its latest version is deleted or destroyed"),
        "{}",
        r.stderr
    );
    // A reference to it is a missing secret.
    env.push(("X".into(), "vault:billing/burnt#BURNT".into()));
    let r = run(&env, &[], SECRETS);
    assert_eq!(r.code, 78, "{}", r.stderr);
}

#[test]
fn duplicate_names_across_paths_name_both() {
    let srv = server()
        .put(
            "secret",
            "billing/extra",
            &[("DB_PASSWORD", "dup-value-xyz")],
        )
        .start();
    let dir = scratch();
    let env = k8s_env(&srv, &dir);
    let secrets = secrets_and(&["dup-value-xyz"]);
    let r = run(&env, &[], &secrets);
    assert_eq!(r.code, 64, "{}", r.stderr);
    assert!(
        r.stderr.contains("billing#DB_PASSWORD") && r.stderr.contains("billing/extra#DB_PASSWORD"),
        "{}",
        r.stderr
    );
}

#[test]
fn kv1_without_the_mounts_endpoint_and_approle() {
    let srv = TestVault::builder()
        .kv("kv", 1)
        .put("kv", "billing", &[("A_SECRET", "kv1-secret-aaaa")])
        .put("kv", "billing/sub", &[("b-secret", "kv1-secret-bbbb")])
        .approle(
            "approle",
            "role-id-1234",
            "secret-id-5678",
            &["kv/billing", "kv/billing/", "kv/billing/*"],
        )
        .without_ui_mounts()
        .start();
    let url = srv.url();
    let env = [
        ("VAULT_ADDR", url.as_str()),
        ("VAULT2ENV_NAMESPACE", "billing"),
        ("VAULT2ENV_AUTH", "approle"),
        ("VAULT2ENV_ROLE_ID", "role-id-1234"),
        ("VAULT2ENV_SECRET_ID", "secret-id-5678"),
        ("VAULT2ENV_KV_MOUNT", "kv"),
    ];
    let secrets = [
        "kv1-secret-aaaa",
        "kv1-secret-bbbb",
        "role-id-1234",
        "secret-id-5678",
    ];
    let r = run(&env, &[], &secrets);
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert_eq!(r.child("A_SECRET"), Some("kv1-secret-aaaa"));
    assert_eq!(r.child("B_SECRET"), Some("kv1-secret-bbbb"));
    assert!(
        srv.requests()
            .iter()
            .any(|q| q.method == "LIST" && q.path == "kv/billing/")
    );

    // A wrong secret id: Vault answers 400, which at login is a denial (77).
    let mut wrong = env.to_vec();
    wrong.retain(|(k, _)| *k != "VAULT2ENV_SECRET_ID");
    wrong.push(("VAULT2ENV_SECRET_ID", "secret-id-wrong"));
    let r = run(&wrong, &[], &secrets);
    assert_eq!(r.code, 77, "{}", r.stderr);
    assert!(r.stderr.contains("HTTP 400"), "{}", r.stderr);
    assert!(r.child_env.is_none());
}

#[test]
fn tls_with_cacert_by_name_and_by_ip() {
    let srv = server().tls().start();
    let dir = scratch();
    let ca = dir.path().join("ca.pem");
    std::fs::write(&ca, srv.ca_pem().expect("ca")).expect("write ca");
    let ca = ca.display().to_string();
    for host in ["localhost", "127.0.0.1"] {
        let mut env = k8s_env(&srv, &dir);
        set(
            &mut env,
            "VAULT_ADDR",
            format!("https://{host}:{}", srv.addr().port()),
        );
        env.push(("VAULT_CACERT".into(), ca.clone()));
        let r = run(&env, &[], SECRETS);
        assert_eq!(r.code, 0, "{host}: {}", r.stderr);
        assert_eq!(r.child("DB_PASSWORD"), Some(DB_PASSWORD));
    }
    // Without the CA the server is not trusted: a rejected certificate is
    // Vault "answering wrongly" (docs/vault2env.md): 69 at once, not
    // retried until the deadline, and the service does not start, not even
    // with VAULT2ENV_OPTIONAL=true (that is for an unreachable Vault only).
    for optional in ["false", "true"] {
        let mut env = k8s_env(&srv, &dir);
        set(&mut env, "VAULT2ENV_TIMEOUT", "20s");
        set(&mut env, "VAULT2ENV_OPTIONAL", optional);
        let before = srv.requests().len();
        let started = std::time::Instant::now();
        let r = run(&env, &[], SECRETS);
        assert_eq!(r.code, 69, "OPTIONAL={optional}: {}", r.stderr);
        assert!(
            r.stderr.contains("certificate"),
            "OPTIONAL={optional}: {}",
            r.stderr
        );
        assert!(
            started.elapsed() < Duration::from_secs(10),
            "OPTIONAL={optional}: a rejected certificate is not retried until the deadline ({:?})",
            started.elapsed()
        );
        assert!(
            r.child_env.is_none(),
            "OPTIONAL={optional}: the service started after a TLS failure"
        );
        assert!(
            !r.stderr.contains("starting without secrets"),
            "OPTIONAL={optional}: {}",
            r.stderr
        );
        assert_eq!(srv.requests().len(), before, "no request got through");
    }
}

#[test]
fn answers_without_optional_fields_or_with_unusual_and_unknown_ones_are_accepted() {
    for shape in [Shape::Minimal, Shape::Unusual] {
        // Kubernetes auth (auth without policies, metadata, lease_duration),
        // the mount lookup (no type, config), LIST, KV v2 reads without
        // metadata, a deleted secret's 404, a reference, revocation.
        let srv = server().shape(shape).start();
        let dir = scratch();
        let mut env = k8s_env(&srv, &dir);
        env.push(("ACME".into(), "vault:billing/partners/acme#api-key".into()));
        let r = run(&env, &[], SECRETS);
        assert_eq!(r.code, 0, "{shape:?}: {}", r.stderr);
        assert_eq!(r.child("DB_PASSWORD"), Some(DB_PASSWORD), "{shape:?}");
        assert_eq!(r.child("LOG_LEVEL"), Some(LOG_LEVEL), "{shape:?}");
        assert_eq!(r.child("REDIS_PASSWORD"), Some(REDIS_PASSWORD), "{shape:?}");
        assert_eq!(r.child("API_KEY"), Some(API_KEY), "{shape:?}");
        assert_eq!(r.child("TLS_KEY"), Some(CERT_BODY), "{shape:?}");
        assert_eq!(r.child("ACME"), Some(API_KEY), "{shape:?}");
        assert_eq!(r.child("OLD_THING"), None, "{shape:?}");
        assert!(
            r.stderr.contains("set 6 variable(s)"),
            "{shape:?}: {}",
            r.stderr
        );
        assert_eq!(srv.revoked(), 1, "{shape:?}");
        assert!(
            srv.requests()
                .iter()
                .any(|q| q.path == "sys/internal/ui/mounts/secret" && q.status == 200),
            "{shape:?}: KV v2 found by the mount lookup"
        );
        let r = run(&env, &["--check"], SECRETS);
        assert_eq!(r.code, 0, "{shape:?}: {}", r.stderr);
        assert_eq!(
            r.stdout, "ACME\nAPI_KEY\nDB_PASSWORD\nLOG_LEVEL\nREDIS_PASSWORD\nTLS_KEY\n",
            "{shape:?}"
        );

        // AppRole login and KV v1 found by a mount lookup without options;
        // nothing at the namespace path itself (a 404 that is an empty body
        // in the minimal shape), secrets below it.
        let srv = TestVault::builder()
            .kv("kv", 1)
            .put("kv", "billing/sub", &[("b-secret", "kv1-shape-secret-b")])
            .put(
                "kv",
                "billing/deeper/x",
                &[("C_SECRET", "kv1-shape-secret-c")],
            )
            .approle(
                "approle",
                "shape-role-id",
                "shape-secret-id",
                &["kv/billing", "kv/billing/", "kv/billing/*"],
            )
            .shape(shape)
            .start();
        let url = srv.url();
        let env = [
            ("VAULT_ADDR", url.as_str()),
            ("VAULT2ENV_NAMESPACE", "billing"),
            ("VAULT2ENV_AUTH", "approle"),
            ("VAULT2ENV_ROLE_ID", "shape-role-id"),
            ("VAULT2ENV_SECRET_ID", "shape-secret-id"),
            ("VAULT2ENV_KV_MOUNT", "kv"),
        ];
        let secrets = [
            "kv1-shape-secret-b",
            "kv1-shape-secret-c",
            "shape-role-id",
            "shape-secret-id",
        ];
        let r = run(&env, &[], &secrets);
        assert_eq!(r.code, 0, "{shape:?}: {}", r.stderr);
        assert_eq!(r.child("B_SECRET"), Some("kv1-shape-secret-b"), "{shape:?}");
        assert_eq!(r.child("C_SECRET"), Some("kv1-shape-secret-c"), "{shape:?}");
        let reqs = srv.requests();
        let status = |m: &str, p: &str| {
            reqs.iter()
                .find(|q| q.method == m && q.path == p)
                .map(|q| q.status)
        };
        assert_eq!(
            status("GET", "sys/internal/ui/mounts/kv"),
            Some(200),
            "{shape:?}"
        );
        assert_eq!(status("GET", "kv/billing"), Some(404), "{shape:?}");
        assert_eq!(status("LIST", "kv/billing/"), Some(200), "{shape:?}");
        assert_eq!(srv.revoked(), 1, "{shape:?}");
    }
}

#[test]
fn exec_failures_are_126_and_127() {
    let srv = server().start();
    let dir = scratch();
    let env = k8s_env(&srv, &dir);
    let r = run(&env, &["--", "/nonexistent/service"], SECRETS);
    assert_eq!(r.code, 127, "{}", r.stderr);
    let r = run(&env, &["--", "no-such-command-anywhere"], SECRETS);
    assert_eq!(r.code, 127, "{}", r.stderr);
    let not_exec = dir.path().join("plain.txt");
    std::fs::write(&not_exec, "x").expect("write");
    let r = run(&env, &["--", not_exec.to_str().expect("utf8")], SECRETS);
    assert_eq!(r.code, 126, "{}", r.stderr);
    // The service's own exit code after exec.
    let r = run(&env, &["--", "/bin/sh", "-c", "exit 7"], SECRETS);
    assert_eq!(r.code, 7);
    // Usage errors.
    assert_eq!(run(&env, &["--bogus"], SECRETS).code, 64);
    assert_eq!(run(&env, &["--init", "--"], SECRETS).code, 64);
}

#[test]
fn init_mode_forwards_signals_reaps_and_exits_with_child_code() {
    let srv = server().start();
    let dir = scratch();
    let env = k8s_env(&srv, &dir);
    let r = run(&env, &["--init", "--", "/bin/sh", "-c", "exit 3"], SECRETS);
    assert_eq!(r.code, 3, "{}", r.stderr);

    // The supervisor's own /proc/<pid>/environ holds no credentials: it
    // re-executed itself with exactly the service's environment.
    let parent_env = dir.path().join("parent-env");
    const SECRET_ID: &str = "approle-secret-id-in-env";
    let mut with_secret_id = env.clone();
    with_secret_id.push(("VAULT2ENV_SECRET_ID".into(), SECRET_ID.into()));
    let script = format!("cat /proc/$PPID/environ > '{}'", parent_env.display());
    let r = run(
        &with_secret_id,
        &["--init", "--", "/bin/sh", "-c", &script],
        &secrets_and(&[SECRET_ID]),
    );
    assert_eq!(r.code, 0, "{}", r.stderr);
    let seen = std::fs::read(&parent_env).expect("the service read its parent's environ");
    let seen = String::from_utf8_lossy(&seen);
    let names: Vec<&str> = seen
        .split('\0')
        .filter_map(|e| e.split_once('=').map(|(n, _)| n))
        .collect();
    assert!(
        !names
            .iter()
            .any(|n| n.starts_with("VAULT2ENV_") || *n == "VAULT_TOKEN"),
        "credentials in PID 1's environ (names only): {names:?}"
    );
    assert!(!seen.contains(SECRET_ID));
    assert!(
        seen.contains(DB_PASSWORD),
        "the supervisor holds the service's environment"
    );

    // An orphaned grandchild does not keep init from exiting with the child's code.
    let r = run(
        &env,
        &["--init", "--", "/bin/sh", "-c", "(sleep 0.2 &) ; exit 5"],
        SECRETS,
    );
    assert_eq!(r.code, 5, "{}", r.stderr);

    // SIGTERM to vault2env reaches the service, whose trap decides the code.
    let ready = dir.path().join("ready");
    let script = format!(
        "trap 'exit 42' TERM; touch '{}'; while :; do sleep 0.05; done",
        ready.display()
    );
    let child = crate::vault2env(&env)
        .args(["--init", "--", "/bin/sh", "-c", &script])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn");
    let started = std::time::Instant::now();
    while !ready.exists() && started.elapsed() < Duration::from_secs(10) {
        std::thread::sleep(Duration::from_millis(20));
    }
    let status = Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .expect("kill");
    assert!(status.success());
    let out = child.wait_with_output().expect("wait");
    crate::assert_no_leak(
        &String::from_utf8_lossy(&out.stdout),
        &String::from_utf8_lossy(&out.stderr),
        SECRETS,
    );
    assert_eq!(
        out.status.code(),
        Some(42),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

#[test]
fn init_mode_is_a_subreaper_that_reaps_orphaned_grandchildren() {
    let srv = server().start();
    let dir = scratch();
    let env = k8s_env(&srv, &dir);
    let d = dir.path().display().to_string();
    // The service double-forks: the subshell exits at once, orphaning the
    // inner sh, which waits, records its parent and exits. The service
    // keeps running until the test says it is done.
    let script = format!(
        "( sh -c 'sleep 0.3; grep PPid /proc/$$/status > \"{d}/gppid.tmp\"; mv \"{d}/gppid.tmp\" \"{d}/gppid\"' & echo $! > '{d}/gpid' ); \
         while [ ! -e '{d}/done' ]; do sleep 0.05; done; exit 9"
    );
    let child = crate::vault2env(&env)
        .args(["--init", "--", "/bin/sh", "-c", &script])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn");
    let supervisor = child.id();
    let wait_for = |path: &std::path::Path| {
        let started = std::time::Instant::now();
        while !path.exists() && started.elapsed() < Duration::from_secs(10) {
            std::thread::sleep(Duration::from_millis(20));
        }
        std::fs::read_to_string(path).unwrap_or_default()
    };
    let gppid = wait_for(&dir.path().join("gppid"));
    let gpid = wait_for(&dir.path().join("gpid")).trim().to_owned();
    let parent: u32 = gppid
        .trim()
        .trim_start_matches("PPid:")
        .trim()
        .parse()
        .expect("PPid line");
    // Re-parented to vault2env (a subreaper), not to the real init.
    assert_eq!(parent, supervisor, "orphan re-parented elsewhere: {gppid}");
    // ... and reaped by it while the service still runs: no zombie stays.
    let stat = format!("/proc/{gpid}/stat");
    let started = std::time::Instant::now();
    let mut zombie = true;
    while started.elapsed() < Duration::from_secs(5) {
        if !std::path::Path::new(&stat).exists() {
            zombie = false;
            break;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    std::fs::write(dir.path().join("done"), "").expect("done");
    let out = child.wait_with_output().expect("wait");
    crate::assert_no_leak(
        &String::from_utf8_lossy(&out.stdout),
        &String::from_utf8_lossy(&out.stderr),
        SECRETS,
    );
    assert!(!zombie, "grandchild {gpid} was left a zombie of vault2env");
    assert_eq!(out.status.code(), Some(9));
}
