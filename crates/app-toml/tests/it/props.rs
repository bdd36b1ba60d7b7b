//! Property tests: no input makes the parser panic (arbitrary bytes, edited
//! fixtures, generated TOML trees with near-miss keys), every diagnostic is
//! well-formed, and every generated valid file resolves in every environment.

use std::collections::BTreeSet;

use app_toml::{AppFile, Error};
use proptest::prelude::*;
use proptest::sample::{select, subsequence};

use crate::edits::apply_edits;
use crate::{parse_with, vocabulary};

const FIXTURES: [&str; 5] = [
    include_str!("../../../../fixtures/app-toml/ok/userinfo.toml"),
    include_str!("../../../../fixtures/app-toml/ok/wordcounter.toml"),
    include_str!("../../../../fixtures/app-toml/ok/kitchen-sink.toml"),
    include_str!("../../../../fixtures/app-toml/ok/legacy-gateway.toml"),
    include_str!("../../../../fixtures/app-toml/ok/invoice-worker.toml"),
];

/// Whatever the outcome, it is consistent: a valid file resolves in every
/// environment; an invalid one has sorted, located, renderable diagnostics.
fn outcome_is_consistent(
    source: &[u8],
    result: Result<AppFile, Error>,
) -> Result<(), TestCaseError> {
    match result {
        Ok(file) => {
            for env in vocabulary().environments {
                let resolved = file.resolve(&env);
                prop_assert!(resolved.is_ok(), "{env}: {resolved:?}");
            }
        }
        Err(Error::Invalid(d)) => {
            prop_assert!(!d.items.is_empty());
            let mut previous = (0, 0);
            for item in &d.items {
                prop_assert!(item.line >= 1 && item.column >= 1);
                prop_assert!((item.line, item.column) >= previous, "not sorted: {d}");
                previous = (item.line, item.column);
                if let Some(span) = &item.span {
                    prop_assert!(span.start <= span.end && span.end <= source.len());
                }
                prop_assert!(!item.message.is_empty());
                prop_assert!(!item.message.ends_with('.'));
            }
            prop_assert_eq!(d.to_string().lines().count(), d.items.len());
            let rendered = d.render(false);
            prop_assert!(rendered.contains("error["));
            let _ = d.render(true);
        }
        Err(e) => prop_assert!(false, "unexpected error {e}"),
    }
    Ok(())
}

fn run(source: &[u8]) -> Result<(), TestCaseError> {
    outcome_is_consistent(source, parse_with(source, Some("svc")))
}

/// A fixture with random edits: bytes inserted, removed or replaced.
fn edited_fixture() -> impl Strategy<Value = Vec<u8>> {
    (
        select(&FIXTURES[..]),
        prop::collection::vec((any::<prop::sample::Index>(), 0..3u8, any::<u8>()), 1..6),
    )
        .prop_map(|(text, edits)| apply_edits(text, edits))
}

/// A generated TOML value tree.
#[derive(Debug, Clone)]
enum Tree {
    Str(String),
    Int(i64),
    Float(f64),
    Bool(bool),
    Date(u16, u8, u8),
    Array(Vec<Tree>),
    Table(Vec<(String, Tree)>),
}

/// Real keys, near misses, environment and rule names, and noise.
fn key() -> impl Strategy<Value = String> {
    let known = select(vec![
        "schema_version",
        "name",
        "description",
        "kind",
        "owner",
        "criticality",
        "replicas",
        "engine",
        "version",
        "size",
        "image",
        "ports",
        "http",
        "metrics",
        "health",
        "liveness",
        "startup_seconds",
        "autoscale",
        "min",
        "max",
        "cpu_percent",
        "env",
        "LOG_LEVEL",
        "secrets",
        "vault",
        "keys",
        "dependencies",
        "port",
        "timeout_ms",
        "databases",
        "routes",
        "host",
        "path",
        "processes",
        "command",
        "jobs",
        "schedule",
        "deadline_seconds",
        "init",
        "deploy",
        "strategy",
        "canary_steps",
        "exceptions",
        "cpu-limit",
        "reason",
        "expires",
        "envs",
        "prod",
        "staging",
        "dev",
        "local",
        "unset",
        "svc",
        "replica",
        "Engine",
        "envs ",
        "autoscal",
        "prd",
        "cpu_limit",
        "expire",
    ]);
    prop_oneof![
        6 => known.prop_map(str::to_owned),
        1 => "[a-zA-Z_-]{1,8}",
        1 => "[ -~]{0,6}",
    ]
}

fn scalar() -> impl Strategy<Value = Tree> {
    let strings = select(vec![
        "golang",
        "generic",
        "small",
        "huge",
        "business",
        "infra",
        "low",
        "canary",
        "postgres",
        "30 3 * * *",
        "@daily",
        "61 * * * *",
        "2027-01-01",
        "2020-01-01",
        "/healthz",
        "healthz",
        "svc",
        "users",
        "env.LOG_LEVEL",
        "routes.public",
        "a.example.com",
        "",
        "1.14",
    ]);
    prop_oneof![
        4 => strings.prop_map(|s| Tree::Str(s.to_owned())),
        1 => ".{0,12}".prop_map(Tree::Str),
        3 => prop_oneof![Just(0i64), Just(1), Just(1000), Just(1001), Just(65535), Just(-1), any::<i64>()].prop_map(Tree::Int),
        1 => any::<f64>().prop_map(Tree::Float),
        1 => any::<bool>().prop_map(Tree::Bool),
        1 => (1990u16..2100, 1u8..=12, 1u8..=31).prop_map(|(y, m, d)| Tree::Date(y, m, d)),
    ]
}

fn tree() -> impl Strategy<Value = Tree> {
    scalar().prop_recursive(4, 48, 6, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..4).prop_map(Tree::Array),
            prop::collection::vec((key(), inner), 0..6).prop_map(Tree::Table),
        ]
    })
}

fn to_value(t: &Tree) -> toml_edit::Value {
    match t {
        Tree::Str(s) => s.as_str().into(),
        Tree::Int(i) => (*i).into(),
        Tree::Float(f) => (*f).into(),
        Tree::Bool(b) => (*b).into(),
        Tree::Date(y, m, d) => {
            let date = toml_edit::Date {
                year: *y,
                month: *m,
                day: *d,
            };
            toml_edit::Datetime {
                date: Some(date),
                time: None,
                offset: None,
            }
            .into()
        }
        Tree::Array(items) => toml_edit::Value::Array(items.iter().map(to_value).collect()),
        Tree::Table(entries) => {
            let mut t = toml_edit::InlineTable::new();
            for (k, v) in entries {
                t.insert(k, to_value(v));
            }
            toml_edit::Value::InlineTable(t)
        }
    }
}

fn to_item(t: &Tree) -> toml_edit::Item {
    match t {
        Tree::Table(entries) => {
            let mut table = toml_edit::Table::new();
            for (k, v) in entries {
                table.insert(k, to_item(v));
            }
            toml_edit::Item::Table(table)
        }
        other => toml_edit::Item::Value(to_value(other)),
    }
}

/// A generated document (top-level table with `[headers]`).
fn document() -> impl Strategy<Value = String> {
    prop::collection::vec((key(), tree()), 0..10).prop_map(|entries| {
        let mut doc = toml_edit::DocumentMut::new();
        for (k, v) in &entries {
            doc.insert(k, to_item(v));
        }
        doc.to_string()
    })
}

const NAMES: [&str; 4] = ["users", "billing", "search", "pricing"];
const RULES: [&str; 3] = ["cpu-limit", "run-as-non-root", "default-deny-egress"];

/// A valid file built from random choices, with per-environment overrides.
fn valid_file() -> impl Strategy<Value = String> {
    let engine = prop_oneof![
        select(vec!["golang", "python", "node", "rust", "java", "php"])
            .prop_map(|e| format!("[engine]\nname = \"{e}\"\n")),
        Just("[engine]\nname = \"generic\"\nimage = \"registry.example.com/a:1\"\n".to_owned()),
    ];
    (
        engine,
        prop::option::of(select(vec!["xsmall", "small", "medium", "large", "xlarge"])),
        prop::option::of(0u32..=1000),
        prop::option::of((
            select(vec!["business", "infra"]),
            select(vec!["low", "normal", "high"]),
        )),
        subsequence(vec!["http", "metrics", "admin", "grpc"], 0..=4),
        prop::collection::btree_map(
            "[A-Z_][A-Z0-9_]{0,8}",
            prop_oneof![
                "[a-z ]{0,6}".prop_map(|s| format!("{s:?}")),
                any::<i32>().prop_map(|i| i.to_string()),
                any::<bool>().prop_map(|b| b.to_string())
            ],
            0..4,
        ),
        prop::option::of((1u32..=10, 0u32..=20, 1u32..=100)),
        subsequence(NAMES.to_vec(), 0..=4),
        prop::option::of(select(vec![
            "30 3 * * *",
            "*/5 * * * *",
            "@daily",
            "0 0 1,15 jan-jun mon-fri",
        ])),
        subsequence(RULES.to_vec(), 0..=3),
        (
            select(vec!["simple", "rolling", "canary", "blue-green"]),
            prop::collection::btree_set(1u8..=99, 1..5),
        ),
        prop::collection::vec(
            (
                select(vec!["prod", "staging", "dev", "local"]),
                prop::option::of(0u32..=1000),
                any::<bool>(),
                any::<bool>(),
            ),
            0..4,
        ),
    )
        .prop_map(
            |(
                engine,
                size,
                replicas,
                kinds,
                ports,
                env,
                autoscale,
                deps,
                job,
                rules,
                (strategy, steps),
                envs,
            )| {
                let mut s = String::new();
                if let Some(r) = replicas {
                    s += &format!("replicas = {r}\n");
                }
                if let Some((kind, criticality)) = kinds {
                    s += &format!("kind = \"{kind}\"\ncriticality = \"{criticality}\"\n");
                }
                s += &engine;
                if let Some(size) = size {
                    s += &format!("size = \"{size}\"\n");
                }
                let generic = engine.contains("generic");
                s += &format!("[secrets]\nvault = {}\n", !generic);
                s += "[ports]\n";
                for (i, p) in ports.iter().enumerate() {
                    s += &format!("{p} = {}\n", 8000 + i);
                }
                s += "[env]\n";
                for (k, v) in &env {
                    s += &format!("{k} = {v}\n");
                }
                if let Some((min, extra, cpu)) = autoscale {
                    s += &format!(
                        "[autoscale]\nmin = {min}\nmax = {}\ncpu_percent = {cpu}\n",
                        min + extra
                    );
                }
                for d in &deps {
                    s += &format!("[dependencies.{d}]\ntimeout_ms = 100\n");
                }
                if let Some(schedule) = job {
                    s += &format!(
                        "[jobs.nightly]\nschedule = \"{schedule}\"\ncommand = [\"./job\"]\n"
                    );
                    s += "[processes.worker]\ncommand = [\"./worker\"]\n";
                }
                for rule in &rules {
                    s += &format!(
                        "[exceptions.{rule}]\nreason = \"because\"\nexpires = 2027-01-01\n"
                    );
                }
                let steps: Vec<String> = steps.iter().map(u8::to_string).collect();
                s += &format!(
                    "[deploy]\nstrategy = \"{strategy}\"\ncanary_steps = [{}]\n",
                    steps.join(", ")
                );
                let mut seen = BTreeSet::new();
                for (name, replicas, unset_env, unset_rule) in envs {
                    if !seen.insert(name) {
                        continue;
                    }
                    s += &format!("[envs.{name}]\n");
                    if let Some(r) = replicas {
                        s += &format!("replicas = {r}\n");
                    }
                    let mut unset = Vec::new();
                    if unset_env && let Some(k) = env.keys().next() {
                        unset.push(format!("\"env.{k}\""));
                    }
                    if unset_rule && let Some(r) = rules.first() {
                        unset.push(format!("\"exceptions.{r}\""));
                    }
                    s += &format!("unset = [{}]\n", unset.join(", "));
                    if deps.len() > 1 {
                        s += &format!("[envs.{name}.dependencies.{}]\nport = \"grpc\"\n", deps[0]);
                    }
                }
                s
            },
        )
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 512, ..ProptestConfig::default() })]

    #[test]
    fn arbitrary_bytes_never_panic(bytes in prop::collection::vec(any::<u8>(), 0..256)) {
        run(&bytes)?;
    }

    #[test]
    fn edited_fixtures_never_panic(bytes in edited_fixture()) {
        run(&bytes)?;
    }

    #[test]
    fn generated_documents_never_panic(text in document()) {
        run(text.as_bytes())?;
    }

    #[test]
    fn valid_files_resolve_in_every_environment(text in valid_file()) {
        let file = parse_with(text.as_bytes(), Some("svc"));
        if let Err(Error::Invalid(d)) = &file {
            prop_assert!(false, "{text}\n{}", d.render(false));
        }
        outcome_is_consistent(text.as_bytes(), file)?;
    }
}
