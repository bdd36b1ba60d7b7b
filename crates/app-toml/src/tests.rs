//! Unit tests of the internal helpers (names, cron, dates); the file-level
//! behaviour is tested through the public API in `tests/it`.

use crate::check::parse_date;
use crate::names::{did_you_mean, dns_label_problem, port_name_problem, posix_name_problem};
use crate::{Date, cron};

#[test]
fn cron_accepts_kubernetes_schedules() {
    for ok in [
        "30 3 * * *",
        "*/5 * * * *",
        "0 0 1,15 * mon-fri",
        "0 9-17/2 * jan-dec SUN",
        "0 0 ? * 7",
        "15 10 * * 1/2",
        "@hourly",
        "@daily",
        "@weekly",
        "@monthly",
        "@yearly",
        "@annually",
        "@midnight",
    ] {
        assert_eq!(cron::check(ok), Ok(()), "{ok}");
    }
}

#[test]
fn cron_names_every_invalid_field() {
    let err = cron::check("61 24 0 13 8").unwrap_err();
    for field in ["minute", "hour", "day-of-month", "month", "day-of-week"] {
        assert!(err.contains(field), "{err}");
    }
    assert!(cron::check("* * * *").unwrap_err().contains("found 4"));
    assert!(cron::check("*/0 * * * *").unwrap_err().contains("step"));
    assert!(
        cron::check("5-1 * * * *")
            .unwrap_err()
            .contains("backwards")
    );
    assert!(cron::check("@every 5m").is_err());
    assert!(cron::check("0 0 * foo *").unwrap_err().contains("month"));
}

#[test]
fn names() {
    assert_eq!(dns_label_problem("user-info", 40), None);
    assert!(dns_label_problem("User", 40).is_some());
    assert!(dns_label_problem("-a", 40).is_some());
    assert!(dns_label_problem(&"a".repeat(41), 40).is_some());
    assert_eq!(posix_name_problem("LOG_LEVEL"), None);
    assert!(posix_name_problem("1X").is_some());
    assert!(posix_name_problem("LOG-LEVEL").is_some());
    assert_eq!(port_name_problem("metrics"), None);
    assert!(port_name_problem("123").is_some());
    assert!(port_name_problem("a--b").is_some());
    assert!(port_name_problem("averyveryverylongname").is_some());
}

#[test]
fn suggestions() {
    assert_eq!(
        did_you_mean("replica", ["replicas", "kind"]),
        Some("replicas")
    );
    assert_eq!(did_you_mean("golng", ["golang", "rust"]), Some("golang"));
    assert_eq!(did_you_mean("zzzzzz", ["golang", "rust"]), None);
}

#[test]
fn dates() {
    assert_eq!(
        parse_date("2024-02-29"),
        Some(Date {
            year: 2024,
            month: 2,
            day: 29
        })
    );
    assert_eq!(parse_date("2023-02-29"), None);
    assert_eq!(parse_date("2023-13-01"), None);
    assert_eq!(parse_date("2023-1-01"), None);
}

#[test]
fn a_byte_order_mark_is_ignored() {
    let vocabulary = crate::Vocabulary {
        engines: vec!["golang".to_owned()],
        sizes: vec!["small".to_owned()],
        environments: vec!["prod".to_owned()],
        today: Date {
            year: 2026,
            month: 1,
            day: 1,
        },
    };
    let options = crate::ParseOptions {
        file_name: "app.toml",
        fallback_name: Some("svc"),
        vocabulary: &vocabulary,
    };
    let ok = crate::parse(b"\xef\xbb\xbf[engine]\nname = \"golang\"\n", &options);
    assert!(ok.is_ok());
    match crate::parse(b"\xef\xbb\xbfreplica = 1\n", &options) {
        Err(crate::Error::Invalid(d)) => {
            let replica = d.items.iter().find(|i| i.path == "replica").unwrap();
            assert_eq!((replica.line, replica.column), (1, 1));
            assert_eq!(replica.span, Some(0..7));
        }
        other => panic!("{other:?}"),
    }
}

#[test]
fn override_keys_are_the_base_keys_an_environment_may_set() {
    use crate::check::{BASE_KEYS, OVERRIDE_KEYS};
    let mut expected: Vec<&str> = BASE_KEYS
        .iter()
        .copied()
        .filter(|k| !matches!(*k, "schema_version" | "name" | "envs"))
        .collect();
    expected.push("unset");
    assert_eq!(OVERRIDE_KEYS.to_vec(), expected);
}
