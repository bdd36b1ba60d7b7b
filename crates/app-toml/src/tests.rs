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

/// The tree from the `toml` crate's parser against the tree lowered from
/// `toml_edit` (the parser this crate used first): both accept and reject
/// the same files, and accepted files give the same keys, values and spans.
mod lowering {
    use std::ops::Range;

    use proptest::prelude::*;

    use crate::tree::{self, Entry, Node, Table, Value};

    include!("../tests/it/edits.rs");

    /// The lowering from `toml_edit`, as it was.
    fn reference(text: &str) -> Option<Table> {
        let doc = toml_edit::Document::parse(text).ok()?;
        reference_table(doc.as_table())
    }

    fn reference_table(table: &toml_edit::Table) -> Option<Table> {
        let mut entries = Vec::new();
        for (key, item) in table.iter() {
            let key_span = table.key(key).and_then(toml_edit::Key::span)?;
            let node = match item {
                toml_edit::Item::None => continue,
                toml_edit::Item::Value(v) => reference_value(v)?,
                toml_edit::Item::Table(t) => node(
                    t.span().unwrap_or_else(|| key_span.clone()),
                    Value::Table(reference_table(t)?),
                ),
                toml_edit::Item::ArrayOfTables(a) => {
                    let items = a
                        .iter()
                        .map(|t| {
                            Some(node(
                                t.span().unwrap_or_else(|| key_span.clone()),
                                Value::Table(reference_table(t)?),
                            ))
                        })
                        .collect::<Option<Vec<_>>>()?;
                    // toml_edit spans an array of tables from its first
                    // header to its last; the tree points at the first.
                    let first = items.first().map_or(key_span.clone(), |n| n.span.clone());
                    node(first, Value::Array(items.into()))
                }
            };
            entries.push(Entry {
                key: key.into(),
                key_span,
                node,
            });
        }
        entries.sort_by_key(|e| e.key_span.start);
        Some(Table { entries })
    }

    fn reference_value(value: &toml_edit::Value) -> Option<Node> {
        let span = value.span()?;
        let v = match value {
            toml_edit::Value::String(s) => Value::String(s.value().as_str().into()),
            toml_edit::Value::Integer(i) => Value::Integer(*i.value()),
            toml_edit::Value::Float(f) => Value::Float(*f.value()),
            toml_edit::Value::Boolean(b) => Value::Boolean(*b.value()),
            toml_edit::Value::Datetime(d) => Value::Datetime(*d.value()),
            toml_edit::Value::Array(a) => Value::Array(
                a.iter()
                    .map(reference_value)
                    .collect::<Option<Vec<_>>>()?
                    .into(),
            ),
            toml_edit::Value::InlineTable(t) => {
                let mut entries = Vec::new();
                for (key, v) in t.iter() {
                    entries.push(Entry {
                        key: key.into(),
                        key_span: t.key(key).and_then(toml_edit::Key::span)?,
                        node: reference_value(v)?,
                    });
                }
                entries.sort_by_key(|e| e.key_span.start);
                Value::Table(Table { entries })
            }
        };
        Some(node(span, v))
    }

    fn node(span: Range<usize>, value: Value) -> Node {
        Node {
            span,
            layer: tree::Layer::Base,
            value,
        }
    }

    /// A comparable rendering of a tree: every key, span and value.
    fn flatten(table: &Table, out: &mut Vec<String>) {
        for e in &table.entries {
            out.push(format!("key {} {:?}", e.key, e.key_span));
            flatten_node(&e.node, out);
        }
    }

    fn flatten_node(n: &Node, out: &mut Vec<String>) {
        match &n.value {
            Value::Table(t) => {
                out.push(format!("table {:?}", n.span));
                flatten(t, out);
                out.push("end".into());
            }
            Value::Array(items) => {
                out.push(format!("array {:?}", n.span));
                items.iter().for_each(|i| flatten_node(i, out));
                out.push("end".into());
            }
            Value::Float(f) => out.push(format!("float {:?} {:?}", f.to_bits(), n.span)),
            other => out.push(format!("{other:?} {:?}", n.span)),
        }
    }

    fn ours(text: &str) -> Option<Table> {
        let (doc, errors) = toml::de::DeTable::parse_recoverable(text);
        if !errors.is_empty() {
            return None;
        }
        tree::lower(doc.into_inner()).ok()
    }

    fn agree(text: &str) -> Result<(), TestCaseError> {
        let (a, b) = (ours(text), reference(text));
        prop_assert_eq!(a.is_some(), b.is_some(), "accepts differ on {:?}", text);
        if let (Some(a), Some(b)) = (a, b) {
            let (mut fa, mut fb) = (Vec::new(), Vec::new());
            flatten(&a, &mut fa);
            flatten(&b, &mut fb);
            prop_assert_eq!(fa, fb, "trees differ on {:?}", text);
        }
        Ok(())
    }

    const FIXTURES: [&str; 5] = [
        include_str!("../../../fixtures/app-toml/ok/userinfo.toml"),
        include_str!("../../../fixtures/app-toml/ok/wordcounter.toml"),
        include_str!("../../../fixtures/app-toml/ok/kitchen-sink.toml"),
        include_str!("../../../fixtures/app-toml/ok/legacy-gateway.toml"),
        include_str!("../../../fixtures/app-toml/ok/invoice-worker.toml"),
    ];

    #[test]
    fn fixtures_and_tricky_documents_agree() {
        for text in FIXTURES {
            agree(text).unwrap();
        }
        for text in [
            "a.b.c = 1\n[a.d]\ne = 2\n",
            "[[x]]\ny = 1\n[[x]]\ny = 2\n[x.z]\nw = 3\n",
            "t = { a = 1, b.c = [1, 2.5, \"s\", 1979-05-27, 07:32:00, 1979-05-27T07:32:00Z] }\n",
            "s = \"\"\"\nmulti\\\n  line\"\"\"\nl = 'lit'\nh = 0xff\no = 0o17\nb = 0b101\nu = 1_000\n",
            "f = [inf, -inf, nan, 1e10, -0.0, 6.02e+23]\n",
            "big = 9223372036854775807\n",
            "'quoted key' = 1\n\"esc\\n\" = 2\n",
            "[a]\n[a.b]\n[a.b.c]\n",
            "",
        ] {
            agree(text).unwrap();
        }
    }

    #[test]
    fn out_of_range_integers_are_errors_not_panics() {
        let (doc, errors) = toml::de::DeTable::parse_recoverable("n = 9223372036854775808\n");
        assert!(errors.is_empty());
        let err = tree::lower(doc.into_inner()).unwrap_err();
        assert_eq!(err[0].span, 4..23);
    }

    fn edited() -> impl Strategy<Value = String> {
        (
            prop::sample::select(&FIXTURES[..]),
            prop::collection::vec(
                (
                    any::<prop::sample::Index>(),
                    0..3u8,
                    prop::sample::select(&b"[]{}=\"'.,#\n _-0123xaz"[..]),
                ),
                1..6,
            ),
        )
            .prop_map(|(text, edits)| {
                String::from_utf8_lossy(&apply_edits(text, edits)).into_owned()
            })
    }

    proptest! {
        #![proptest_config(ProptestConfig { cases: 512, ..ProptestConfig::default() })]
        #[test]
        fn edited_fixtures_agree(text in edited()) {
            agree(&text)?;
        }
    }
}
