//! Unit tests of the pure parts: names, references, addresses, durations,
//! configuration, resolver parsing, DNS packets, environment building.

use std::ffi::OsString;
use std::net::IpAddr;
use std::time::Duration;

use crate::config::{Address, Auth, Config, KvVersion, Scheme, Sensitive, parse_duration};
use crate::host::MapHost;
use crate::names::{normalise, parse_reference};
use crate::plan::{Fetched, Var, build_env, env_without_secrets, secrets_to_vars};
use crate::redact::Redactor;
use crate::resolve::{Answer, Resolver, encode_query, parse_hosts, parse_response};
use crate::vault::{LAST_TRY, Retry, next_retry};

/// One case of the name normalisation: key → expected variable name (or `None`).
fn check_name(key: &str, expect: Option<&str>) {
    assert_eq!(normalise(key).as_deref(), expect, "key {key:?}");
}

#[test]
fn names_are_normalised_as_specified() {
    check_name("DB_PASSWORD", Some("DB_PASSWORD"));
    check_name("db_password", Some("db_password")); // already valid: kept
    check_name("redis-password", Some("REDIS_PASSWORD"));
    check_name("api.key", Some("API_KEY"));
    check_name("a/b-c.d", Some("A_B_C_D"));
    check_name("_x", Some("_x"));
    check_name("1password", None);
    check_name("-x", Some("_X"));
    check_name("pass word", None);
    check_name("ключ", None);
    check_name("", None);
}

#[test]
fn references_parse() {
    let ok = |v: &str, path: &str, key: &str| {
        let r = parse_reference(v).expect("is a reference").expect("valid");
        assert_eq!((r.path.as_str(), r.key.as_str()), (path, key), "{v}");
    };
    ok("vault:billing/db#password", "billing/db", "password");
    ok("vault:/billing/db/#password", "billing/db", "password");
    ok("vault:a#b#c", "a#b", "c");
    // Only the exact form is a reference; anything else passes through.
    for plain in [
        "plain value",
        "vault:hello",
        "vault:billing/db",
        "vault:#key",
        "vault:billing/db#",
        "vault:/#key",
        "vault: see the docs#section",
        "Vault:billing#x",
    ] {
        assert!(parse_reference(plain).is_none(), "{plain}");
    }
    assert!(crate::names::looks_like_reference("vault:hello"));
    assert!(!crate::names::looks_like_reference("vault:a#b"));
    assert!(!crate::names::looks_like_reference("hello"));
    assert!(parse_reference("vault:a/../b#key").expect("ref").is_err());
    assert!(parse_reference("vault:a//b#key").expect("ref").is_err());
}

#[test]
fn addresses_parse() {
    let a = Address::parse("https://vault.vault.svc:8200").expect("ok");
    assert_eq!(
        (a.scheme, a.host.as_str(), a.port, a.prefix.as_str()),
        (Scheme::Https, "vault.vault.svc", 8200, "")
    );
    let a = Address::parse("http://[::1]:8200/proxy/").expect("ok");
    assert_eq!(
        (a.host.as_str(), a.port, a.prefix.as_str()),
        ("::1", 8200, "/proxy")
    );
    let a = Address::parse("https://vault").expect("ok");
    assert_eq!(a.port, 443);
    let long = format!("http://{}.example:1", "x".repeat(64));
    assert!(Address::parse(&long).is_err());
    let ok = format!("http://{}.example:1", "x".repeat(63));
    assert!(Address::parse(&ok).is_ok());
    assert!(Address::parse("http://vault.vault.svc.cluster.local.:8200").is_ok());
    assert!(Address::parse("http://xn--bcher-kva.example").is_ok());
    assert!(Address::parse("http://10.0.0.1:8200").is_ok());
    for bad in [
        "vault:8200",
        "ftp://x",
        "http://",
        "http://x:99999",
        "http://u:p@x",
        "http://a..b:1",
        "http://\u{e9}:1",
        "http://vault..",
        "http://.vault",
        "http://-vault:1",
        "http://va ult:1",
        "http://::1:8200",
        "http://[vault]:1",
    ] {
        assert!(Address::parse(bad).is_err(), "{bad}");
    }
}

#[test]
fn credentials_in_vault_addr_are_never_printed() {
    for addr in [
        "https://admin:hunter2-pass@vault:8200",
        "https://admin:hunter2-pass@vault:99999",
        "https://ad/min:hunter2-pass@vault:8200",
        "http://hunter2-pass@[::1",
        "ftp://admin:hunter2-pass@vault",
        "admin:hunter2-pass@vault",
    ] {
        let err = Address::parse(addr).expect_err(addr);
        let msg = err.to_string();
        assert!(!msg.contains("hunter2"), "{msg}");
        assert!(msg.contains("<redacted>@"), "{msg}");
        let host = base().with_var("VAULT_ADDR", addr);
        let msg = Config::from_host(&host).expect_err(addr).to_string();
        assert!(!msg.contains("hunter2"), "{msg}");
    }
}

#[test]
fn durations_parse() {
    assert_eq!(parse_duration("60s"), Some(Duration::from_secs(60)));
    assert_eq!(parse_duration("90"), Some(Duration::from_secs(90)));
    assert_eq!(parse_duration("1500ms"), Some(Duration::from_millis(1500)));
    assert_eq!(parse_duration("2m"), Some(Duration::from_secs(120)));
    assert_eq!(parse_duration("1h"), Some(Duration::from_secs(3600)));
    assert_eq!(parse_duration("soon"), None);
    assert_eq!(parse_duration("5d"), None);
}

#[test]
fn the_longest_timeout_is_a_day() {
    let c = Config::from_host(&base().with_var("VAULT2ENV_TIMEOUT", "24h")).expect("24h is fine");
    assert_eq!(c.timeout, crate::config::MAX_TIMEOUT);
    // The retry policy survives the longest waits without overflowing.
    let now = std::time::Instant::now();
    let day = now + crate::config::MAX_TIMEOUT;
    assert_eq!(
        next_retry(now, Duration::MAX, day, false),
        Retry::Last(crate::config::MAX_TIMEOUT - LAST_TRY)
    );
}

#[test]
fn retries_end_with_one_last_attempt_just_before_the_deadline() {
    let now = std::time::Instant::now();
    let ms = Duration::from_millis;
    let deadline = now + ms(5000);
    // The backoff fits with LAST_TRY to spare: sleep it.
    assert_eq!(
        next_retry(now, ms(1000), deadline, false),
        Retry::After(ms(1000))
    );
    assert_eq!(
        next_retry(now, ms(4900), deadline, false),
        Retry::After(ms(4900))
    );
    // It would cross the deadline (or leave less than LAST_TRY): sleep only
    // until LAST_TRY before it, then make the last attempt, instead of
    // giving up with up to a whole backoff unused.
    assert_eq!(
        next_retry(now, ms(4901), deadline, false),
        Retry::Last(ms(4900))
    );
    assert_eq!(
        next_retry(now, ms(20_000), deadline, false),
        Retry::Last(ms(4900))
    );
    // Less than LAST_TRY left: the last attempt at once.
    assert_eq!(
        next_retry(now + ms(4950), ms(100), deadline, false),
        Retry::Last(Duration::ZERO)
    );
    // After the last attempt, and at or past the deadline: give up.
    assert_eq!(next_retry(now, ms(100), deadline, true), Retry::GiveUp);
    assert_eq!(
        next_retry(deadline, ms(100), deadline, false),
        Retry::GiveUp
    );
    assert_eq!(
        next_retry(deadline + ms(1), ms(100), deadline, false),
        Retry::GiveUp
    );
    // Never a sleep longer than the backoff, and never past the deadline.
    for wait in [0, 1, 99, 100, 2500, 4899, 4900, 4901, 5000, 9999] {
        for at in [0, 1, 100, 2500, 4899, 4900, 4901, 4999] {
            match next_retry(now + ms(at), ms(wait), deadline, false) {
                Retry::After(d) | Retry::Last(d) => {
                    assert!(d <= ms(wait), "{wait} at {at}: {d:?}");
                    assert!(now + ms(at) + d <= deadline, "{wait} at {at}: {d:?}");
                }
                Retry::GiveUp => panic!("{wait} at {at}: gave up before the deadline"),
            }
        }
    }
}

fn base() -> MapHost {
    MapHost::new()
        .with_var("VAULT_ADDR", "http://127.0.0.1:8200")
        .with_var("VAULT2ENV_NAMESPACE", "billing")
        .with_var("VAULT2ENV_AUTH", "token")
        .with_var("VAULT_TOKEN", "s.tokentoken")
}

#[test]
fn config_defaults_and_contract() {
    let host = MapHost::new()
        .with_var("VAULT_ADDR", "https://vault:8200")
        .with_file(crate::config::DEFAULT_NAMESPACE_FILE, "billing\n")
        .with_file(crate::config::DEFAULT_TOKEN_FILE, "eyJ.jwt.sig\n");
    let c = Config::from_host(&host).expect("valid");
    assert_eq!(c.namespace, "billing");
    assert_eq!(c.path, "billing");
    assert_eq!(c.kv_mount, "secret");
    assert_eq!(c.kv_version, KvVersion::Auto);
    assert_eq!(c.timeout, Duration::from_secs(60));
    assert!(!c.override_existing && !c.optional && c.revoke);
    match c.auth {
        Auth::Kubernetes { mount, role, jwt } => {
            assert_eq!((mount.as_str(), role.as_str()), ("kubernetes", "billing"));
            assert_eq!(jwt, Sensitive::new("eyJ.jwt.sig"));
        }
        other => panic!("unexpected {other:?}"),
    }
    // Debug never shows secret material.
    let host = host.with_var("VAULT2ENV_PATH", "teams/{namespace}/app");
    let c = Config::from_host(&host).expect("valid");
    assert_eq!(c.path, "teams/billing/app");
    assert!(!format!("{c:?}").contains("eyJ"));
}

#[test]
fn config_errors_are_usage_errors() {
    let cases: Vec<(MapHost, &str)> = vec![
        (MapHost::new(), "VAULT_ADDR is not set"),
        (base().with_var("VAULT2ENV_AUTH", "ldap"), "VAULT2ENV_AUTH"),
        (
            base().with_var("VAULT2ENV_KV_VERSION", "3"),
            "VAULT2ENV_KV_VERSION",
        ),
        (
            base().with_var("VAULT2ENV_TIMEOUT", "forever"),
            "VAULT2ENV_TIMEOUT",
        ),
        (
            base().with_var("VAULT2ENV_TIMEOUT", "18446744073709551615"),
            "VAULT2ENV_TIMEOUT",
        ),
        (
            base().with_var("VAULT2ENV_TIMEOUT", "25h"),
            "maximum of 24h",
        ),
        (
            base().with_var("VAULT2ENV_OVERRIDE", "maybe"),
            "VAULT2ENV_OVERRIDE",
        ),
        (
            base().with_var("VAULT2ENV_PATH", "a/../b"),
            "VAULT2ENV_PATH",
        ),
        (
            base()
                .with_var("VAULT2ENV_AUTH", "approle")
                .with_var("VAULT2ENV_ROLE_ID", "r")
                .with_var("VAULT2ENV_AUTH_MOUNT", "../../sys/x"),
            "VAULT2ENV_AUTH_MOUNT",
        ),
        (
            base()
                .with_var("VAULT2ENV_AUTH", "kubernetes")
                .with_var("VAULT2ENV_AUTH_MOUNT", "k8s//prod"),
            "VAULT2ENV_AUTH_MOUNT",
        ),
        (
            base()
                .with_var("VAULT2ENV_AUTH", "kubernetes")
                .with_var("VAULT2ENV_AUTH_MOUNT", "k8s/./prod"),
            "VAULT2ENV_AUTH_MOUNT",
        ),
        (
            base().with_var("VAULT2ENV_AUTH", "approle"),
            "VAULT2ENV_ROLE_ID",
        ),
        (
            base().with_var("VAULT2ENV_AUTH", "kubernetes"),
            "cannot read",
        ),
        (
            MapHost::new()
                .with_var("VAULT_ADDR", "http://x")
                .with_var("VAULT2ENV_AUTH", "token"),
            "VAULT2ENV_NAMESPACE",
        ),
    ];
    for (host, needle) in cases {
        let err = Config::from_host(&host).expect_err(needle);
        assert_eq!(err.exit_code(), 64, "{err}");
        assert!(
            err.to_string().contains(needle),
            "{err} should mention {needle}"
        );
        assert!(!err.to_string().contains("s.tokentoken"));
    }
}

#[test]
fn approle_secret_id_from_file() {
    let host = base()
        .with_var("VAULT2ENV_AUTH", "approle")
        .with_var("VAULT2ENV_ROLE_ID", "role-1")
        .with_var("VAULT2ENV_SECRET_ID_FILE", "/run/secret-id")
        .with_file("/run/secret-id", "sid-123\n");
    match Config::from_host(&host).expect("valid").auth {
        Auth::AppRole {
            mount,
            role_id,
            secret_id,
        } => {
            assert_eq!(mount, "approle");
            assert_eq!(role_id.expose(), "role-1");
            assert_eq!(
                secret_id.map(|s| s.expose().to_owned()).as_deref(),
                Some("sid-123")
            );
        }
        other => panic!("unexpected {other:?}"),
    }
}

fn var(name: &str, source: &str, value: &str) -> Var {
    Var {
        name: name.into(),
        source: source.into(),
        value: Sensitive::new(value),
    }
}

fn env(pairs: &[(&str, &str)]) -> Vec<(OsString, OsString)> {
    pairs
        .iter()
        .map(|(n, v)| (OsString::from(n), OsString::from(v)))
        .collect()
}

fn lookup<'a>(e: &'a [(OsString, OsString)], name: &str) -> Option<&'a str> {
    e.iter()
        .find(|(n, _)| n == name)
        .and_then(|(_, v)| v.to_str())
}

#[test]
fn env_hygiene_override_and_required() {
    let original = env(&[
        ("PATH", "/bin"),
        ("VAULT_TOKEN", "s.tok-1234"),
        ("VAULT2ENV_ROLE", "billing"),
        ("COPY_OF_TOKEN", "s.tok-1234"),
        ("DB_URL", "vault:billing/db#url"),
        ("LOG_LEVEL", "debug"),
    ]);
    let fetched = Fetched {
        secrets: vec![
            var("LOG_LEVEL", "billing#LOG_LEVEL", "info"),
            var("API_KEY", "billing#api-key", "k-1"),
        ],
        references: vec![var("DB_URL", "billing/db#url", "postgres://x")],
        notes: vec![],
    };
    let out = build_env(
        original.clone(),
        &fetched,
        Some("s.tok-1234"),
        false,
        &["API_KEY".into()],
    )
    .expect("ok");
    assert_eq!(lookup(&out.env, "VAULT_TOKEN"), None);
    assert_eq!(lookup(&out.env, "VAULT2ENV_ROLE"), None);
    assert_eq!(lookup(&out.env, "COPY_OF_TOKEN"), None);
    assert_eq!(lookup(&out.env, "DB_URL"), Some("postgres://x"));
    assert_eq!(lookup(&out.env, "LOG_LEVEL"), Some("debug"));
    assert_eq!(lookup(&out.env, "API_KEY"), Some("k-1"));
    assert_eq!(out.kept, vec!["LOG_LEVEL"]);
    let names: Vec<&str> = out.set.iter().map(|(n, _)| n.as_str()).collect();
    assert_eq!(names, ["API_KEY", "DB_URL"]);

    let out = build_env(original.clone(), &fetched, None, true, &[]).expect("ok");
    assert_eq!(lookup(&out.env, "LOG_LEVEL"), Some("info"));

    let err = build_env(
        original,
        &fetched,
        None,
        false,
        &["NOPE".into(), "API_KEY".into()],
    )
    .expect_err("missing");
    assert_eq!(err.exit_code(), 78);
    assert!(err.to_string().contains("NOPE") && !err.to_string().contains("API_KEY"));
}

#[test]
fn a_reference_wins_over_a_namespace_secret_of_the_same_name() {
    let original = env(&[("DB_URL", "vault:shared/db#url")]);
    let fetched = Fetched {
        secrets: vec![var("DB_URL", "billing#DB_URL", "namespace-value")],
        references: vec![var("DB_URL", "shared/db#url", "reference-value")],
        notes: vec![],
    };
    for override_existing in [false, true] {
        let out = build_env(original.clone(), &fetched, None, override_existing, &[]).expect("ok");
        assert_eq!(lookup(&out.env, "DB_URL"), Some("reference-value"));
        assert_eq!(out.set, [("DB_URL".to_owned(), "shared/db#url".to_owned())]);
        assert!(out.kept.is_empty(), "{:?}", out.kept);
        assert_eq!(out.env.len(), 1);
        assert!(
            out.notes[0].contains("DB_URL") && out.notes[0].contains("billing#DB_URL"),
            "{:?}",
            out.notes
        );
    }
}

#[test]
fn optional_start_drops_unresolved_references() {
    let original = env(&[
        ("DB_URL", "vault:billing/db#url"),
        ("A", "1"),
        ("GREETING", "vault:hello"),
        ("VAULT_TOKEN", "t"),
    ]);
    let out = env_without_secrets(original.clone(), &[]).expect("ok");
    assert_eq!(out.env, env(&[("A", "1"), ("GREETING", "vault:hello")]));
    assert_eq!(
        env_without_secrets(original, &["DB_URL".into()])
            .expect_err("req")
            .exit_code(),
        78
    );
}

#[test]
fn duplicate_and_invalid_names() {
    let s = |k: &str| (k.to_owned(), Sensitive::new("v"));
    let found = vec![
        ("billing".to_owned(), vec![s("redis-password")]),
        ("billing/redis".to_owned(), vec![s("REDIS_PASSWORD")]),
    ];
    let err = secrets_to_vars(&found).expect_err("dup");
    let msg = err.to_string();
    assert!(
        msg.contains("billing#redis-password") && msg.contains("billing/redis#REDIS_PASSWORD"),
        "{msg}"
    );
    assert_eq!(err.exit_code(), 64);
    let err = secrets_to_vars(&[("billing".to_owned(), vec![s("9lives")])]).expect_err("invalid");
    assert!(err.to_string().contains("9lives"));
    for key in ["VAULT_TOKEN", "VAULT2ENV_PATH", "vault2env-x"] {
        let err = secrets_to_vars(&[("billing/r".to_owned(), vec![s(key)])]).expect_err(key);
        assert_eq!(err.exit_code(), 64, "{key}");
        let msg = err.to_string();
        assert!(
            msg.contains(key) && msg.contains("billing/r") && msg.contains("rename the key"),
            "{msg}"
        );
    }
    let nul = vec![("K".to_owned(), Sensitive::new("before\0after-secret"))];
    let err = secrets_to_vars(&[("billing/x".to_owned(), nul)]).expect_err("nul");
    assert_eq!(err.exit_code(), 64);
    let msg = err.to_string();
    assert!(msg.contains("billing/x#K") && msg.contains("NUL"), "{msg}");
    assert!(!msg.contains("after-secret"), "{msg}");
}

#[test]
fn redactor_scrubs_known_secrets() {
    let mut r = Redactor::default();
    r.add("supersecret");
    r.add("abc"); // too short to scrub (foreign text is withheld, below)
    assert_eq!(
        r.scrub("bad jwt supersecret here, abc"),
        "bad jwt <redacted> here, abc"
    );
    assert!(r.scrub(&"x".repeat(1000)).len() < 400);
    // Scrubbed foreign text while every secret is long enough ...
    let mut r = Redactor::default();
    r.add("supersecret");
    assert_eq!(
        r.foreign("echo supersecret").as_deref(),
        Some("echo <redacted>")
    );
    // ... withheld once a short one is known (it cannot be scrubbed).
    r.add("ab");
    assert_eq!(r.foreign("echo ab"), None);
}

#[test]
fn debug_of_types_holding_secrets_shows_no_value() {
    let req = crate::http::Request {
        method: "POST",
        path: "/v1/auth/kubernetes/login",
        token: Some("hvs.debug-token-1"),
        body: Some(br#"{"jwt":"debug-jwt-2"}"#),
    };
    let resp = crate::http::Response {
        status: 200,
        body: br#"{"data":{"K":"debug-value-3"}}"#.to_vec(),
        location: None,
    };
    let out = build_env(
        env(&[("DEBUG_VAR", "debug-value-4")]),
        &Fetched::default(),
        None,
        false,
        &[],
    )
    .expect("ok");
    let host = MapHost::new().with_var("VAULT_TOKEN", "debug-token-5");
    let printed = format!("{req:?} {resp:?} {out:?} {host:?}");
    for secret in [
        "debug-token-1",
        "debug-jwt-2",
        "debug-value-3",
        "debug-value-4",
        "debug-token-5",
    ] {
        assert!(!printed.contains(secret), "{secret} in {printed}");
    }
    assert!(
        printed.contains("DEBUG_VAR") && printed.contains("status: 200"),
        "{printed}"
    );
}

#[test]
fn resolver_files() {
    let hosts = parse_hosts(
        "127.0.0.1 localhost\n# comment\n10.0.0.5 vault.internal Vault # tail\n::1 ip6-localhost\nbogus line\n",
    );
    assert_eq!(hosts.len(), 3);
    assert_eq!(hosts[1].1, ["vault.internal", "vault"]);
    let r = Resolver::from_resolv_conf(
        "nameserver 10.96.0.10\nnameserver fe80::1%eth0\nsearch billing.svc.cluster.local svc.cluster.local cluster.local\noptions ndots:5 timeout:2\n",
    );
    assert_eq!(r.nameservers, ["10.96.0.10:53".parse().expect("sa")]);
    assert_eq!(r.ndots, 5);
    assert_eq!(r.timeout, Duration::from_secs(2));
    assert_eq!(
        r.candidates("vault.vault"),
        [
            "vault.vault.billing.svc.cluster.local",
            "vault.vault.svc.cluster.local",
            "vault.vault.cluster.local",
            "vault.vault"
        ]
    );
    assert_eq!(r.candidates("vault.example.com."), ["vault.example.com"]);
    let r = Resolver {
        hosts,
        ..Resolver::from_resolv_conf("")
    };
    let far = std::time::Instant::now() + Duration::from_secs(1);
    assert_eq!(
        r.resolve("VAULT", far),
        Ok(vec!["10.0.0.5".parse::<IpAddr>().expect("ip")])
    );
    assert_eq!(
        r.resolve("10.1.2.3", far),
        Ok(vec!["10.1.2.3".parse::<IpAddr>().expect("ip")])
    );
}

#[test]
fn dns_packets() {
    let q = encode_query(0x1234, "vault.svc", 1).expect("query");
    assert_eq!(&q[..2], &[0x12, 0x34]);
    assert!(encode_query(1, "a..b", 1).is_none());
    assert!(encode_query(1, &"x".repeat(64), 1).is_none());
    // A response with a CNAME then an A record, names compressed.
    let question = &q[12..];
    let mut r = vec![0x12, 0x34, 0x81, 0x80, 0, 1, 0, 2, 0, 0, 0, 0];
    r.extend_from_slice(question);
    r.extend_from_slice(&[0xc0, 12, 0, 5, 0, 1, 0, 0, 0, 60, 0, 2, 0xc0, 12]);
    r.extend_from_slice(&[0xc0, 12, 0, 1, 0, 1, 0, 0, 0, 60, 0, 4, 10, 0, 0, 7]);
    assert_eq!(
        parse_response(&r, 0x1234, question),
        Some(Ok(Answer::Addresses(vec!["10.0.0.7".parse().expect("ip")])))
    );
    assert_eq!(parse_response(&r, 0x9999, question), None, "other id");
    r[3] = 0x83;
    assert_eq!(
        parse_response(&r, 0x1234, question),
        Some(Ok(Answer::NxDomain))
    );
    assert_eq!(
        parse_response(&r[..20], 0x1234, question),
        None,
        "truncated garbage"
    );
}

/// Parses raw response bytes; `Ok(status, body length)` or the error text.
fn parse_http(bytes: &[u8]) -> Result<(u16, usize), String> {
    match crate::http::read_response(&mut &bytes[..], "GET") {
        Ok((r, _)) => Ok((r.status, r.body.len())),
        Err(crate::http::Failure::BeforeResponse(e) | crate::http::Failure::During(e)) => {
            Err(e.message)
        }
    }
}

#[test]
fn http_responses_with_absurd_sizes_are_errors_not_panics() {
    let ok = b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n2\r\n{}\r\n0\r\n\r\n";
    assert_eq!(parse_http(ok), Ok((200, 2)));
    // The audit's case: one byte, then a chunk size that wraps usize.
    let wrap =
        b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n1\r\n{\r\nffffffffffffffff\r\n";
    assert_eq!(parse_http(wrap), Err("response too large".into()));
    let big = format!(
        "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n{:x}\r\n",
        crate::http::MAX_BODY + 1
    );
    assert_eq!(parse_http(big.as_bytes()), Err("response too large".into()));
    let long = format!(
        "HTTP/1.1 200 OK\r\nContent-Length: {}\r\n\r\n",
        crate::http::MAX_BODY + 1
    );
    assert_eq!(
        parse_http(long.as_bytes()),
        Err("response too large".into())
    );
    let huge = "HTTP/1.1 200 OK\r\nContent-Length: 99999999999999999999999\r\n\r\n";
    assert!(parse_http(huge.as_bytes()).is_err());
}

proptest::proptest! {
    #![proptest_config(proptest::prelude::ProptestConfig::with_cases(256))]

    /// Arbitrary bytes never panic the response parser.
    #[test]
    fn http_parser_never_panics_on_random_bytes(
        bytes in proptest::collection::vec(proptest::prelude::any::<u8>(), 0..600),
    ) {
        let _ = parse_http(&bytes);
    }

    /// Chunked bodies with random chunk sizes and contents (many near the
    /// limits of usize) never panic either.
    #[test]
    fn http_parser_never_panics_on_random_chunks(
        chunks in proptest::collection::vec(
            (
                proptest::prop_oneof![
                    0usize..64,
                    proptest::prelude::Just(usize::MAX),
                    (usize::MAX - 64)..=usize::MAX,
                    proptest::prelude::Just(crate::http::MAX_BODY),
                ],
                proptest::collection::vec(proptest::prelude::any::<u8>(), 0..64),
            ),
            0..6,
        ),
        status in 100u16..600,
    ) {
        let mut raw = format!("HTTP/1.1 {status} X\r\nTransfer-Encoding: chunked\r\n\r\n").into_bytes();
        for (size, data) in chunks {
            raw.extend_from_slice(format!("{size:x}\r\n").as_bytes());
            raw.extend_from_slice(&data);
            raw.extend_from_slice(b"\r\n");
        }
        let _ = parse_http(&raw);
    }
}
