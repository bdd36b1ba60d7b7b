use crate::compat::compat;
use crate::diff::{NamedClient, diff};
use crate::usage::usage;
use crate::{Source, parse_and_check, render};

fn sources(files: &[(&str, &str)]) -> Vec<Source> {
    files
        .iter()
        .map(|(n, t)| Source {
            name: (*n).into(),
            text: (*t).into(),
        })
        .collect()
}

/// Checks one file and snapshots the rendered diagnostics.
fn check(name: &str, src: &str) {
    let c = parse_and_check(src, 0);
    let out = render::text(&c.diagnostics, &sources(&[("input.brief", src)]), false);
    insta::assert_snapshot!(
        name,
        format!("{}{}\n", out, render::summary(&c.diagnostics))
    );
}

/// Compat of `client` against `server`, rendered.
fn check_compat(name: &str, server: &str, client: &str) {
    let s = parse_and_check(server, 0);
    let c = parse_and_check(client, 1);
    assert!(
        s.ok() && c.ok(),
        "inputs must check: {:?} {:?}",
        s.diagnostics,
        c.diagnostics
    );
    let v: Vec<_> = compat(&s.file, 0, &c.file, 1)
        .into_iter()
        .map(|v| v.diagnostic)
        .collect();
    for d in &v {
        // Each violation names the client's span and the server's.
        let files: Vec<usize> = d.labels.iter().map(|l| l.file).collect();
        assert!(
            files.first() == Some(&1) && files.contains(&0),
            "{} must name both sides: {d:?}",
            d.code
        );
        let same = v
            .iter()
            .filter(|o| o.code == d.code && o.message == d.message)
            .count();
        assert_eq!(same, 1, "{} reported more than once: {}", d.code, d.message);
    }
    let out = render::text(
        &v,
        &sources(&[("server.brief", server), ("client.brief", client)]),
        false,
    );
    insta::assert_snapshot!(name, out);
}

const SERVER: &str = "service \"shop\"\n\nrpc buy (BuyIn) BuyOut `Buys`\nrpc list (ListIn) ListOut\n\nschema \"order.created\" Order\n\nmessage BuyIn {\n    item   string\n    count  int\n    note   string?\n    color  Color\n}\n\nmessage BuyOut {\n    order Order\n    eta   time?\n}\n\nmessage ListIn {}\n\nmessage ListOut {\n    orders []Order\n}\n\nmessage Order {\n    id    int\n    item  string\n    tags  map[string]string?\n}\n\nenum Color {\n    red\n    green\n}\n";

#[test]
fn clean_file() {
    check("clean_file", SERVER);
}

#[test]
fn semantic_errors() {
    check(
        "semantic_errors",
        "service \"a\"\nservice \"b c\"\nrpc go (In) Out\nrpc go (In) Colour\nschema \"t\" In\nschema \"t\" Color\nmessage In {\n    a int\n    a string\n    m map[int]Outt\n    self In\n}\nmessage Out { x Loop }\nmessage Loop { y Loop2 }\nmessage Loop2 { z Loop }\nmessage In {}\nmessage int {}\nenum Color { r r }\nmessage Lonely {}\n",
    );
}

#[test]
fn compatible_subset() {
    let client = "service \"shop\"\nrpc buy (BuyIn) BuyOut\nmessage BuyIn {\n    item string\n    count int\n    color Color\n}\nmessage BuyOut {\n    order Order?\n}\nmessage Order {\n    id int\n}\nenum Color {\n    red\n}\n";
    check_compat("compatible_subset", SERVER, client);
}

#[test]
fn every_violation_names_both_sides() {
    let client = "service \"shop\"\nrpc buy (BuyIn) BuyOut\nrpc refund (BuyIn) BuyOut\nrpc list (ListIn) Orders\nschema \"order.created\" Order\nschema \"order.deleted\" Order\nmessage BuyIn {\n    item string?\n    color Color\n    coupon string\n}\nmessage BuyOut {\n    order Order\n    eta time\n}\nmessage ListIn {}\nmessage Orders { orders []Order }\nmessage Order {\n    id string\n    tags map[string]string\n}\nenum Color {\n    red\n    blue\n}\n";
    check_compat("every_violation_names_both_sides", SERVER, client);
}

/// A message on the server that is an enum on the client, used in both
/// directions: one B0104 naming both definitions.
#[test]
fn kind_mismatch_names_both_sides_once() {
    check_compat(
        "kind_mismatch_names_both_sides_once",
        "service \"s\"\nrpc a (In) Out\nmessage In { k K }\nmessage Out { k K }\nmessage K { x int }\n",
        "service \"s\"\nrpc a (In) Out\nmessage In { k K }\nmessage Out { k K }\nenum K { x }\n",
    );
}

#[test]
fn usage_reports_dead_fields() {
    let s = parse_and_check(SERVER, 0);
    let a = parse_and_check(
        "service \"shop\"\nrpc buy (BuyIn) BuyOut\nmessage BuyIn {\n    item string\n    count int\n    color Color\n}\nmessage BuyOut {\n    order Order?\n}\nmessage Order {\n    id int\n}\nenum Color { red }\n",
        1,
    );
    let b = parse_and_check(
        "schema \"order.created\" Order\nmessage Order {\n    id int\n    item string\n}\n",
        2,
    );
    let u = usage(
        &s.file,
        &[("a.brief".into(), &a.file), ("b.brief".into(), &b.file)],
    );
    insta::assert_json_snapshot!("usage_reports_dead_fields", u);
}

#[test]
fn diff_without_and_with_clients() {
    let new = "service \"shop\"\n\nrpc buy (BuyIn) BuyOut `Buys`\n\nschema \"order.created\" Order\n\nmessage BuyIn {\n    item   string\n    count  int\n    note   string\n    color  Color\n    gift   bool\n}\n\nmessage BuyOut {\n    order Order\n    eta   time?\n}\n\nmessage Order {\n    id    string\n    item  string?\n}\n\nenum Color {\n    red\n    green\n    blue\n}\n";
    let old = parse_and_check(SERVER, 0);
    let new = parse_and_check(new, 1);
    let client = parse_and_check(
        "service \"shop\"\nrpc buy (BuyIn) BuyOut\nmessage BuyIn {\n    item string\n    count int\n    color Color\n}\nmessage BuyOut {\n    order Order\n}\nmessage Order {\n    id int\n    item string\n}\nenum Color { red green }\n",
        2,
    );
    let render = |d: crate::diff::Diff| {
        d.changes
            .iter()
            .map(|c| {
                format!(
                    "{} {} [{}]",
                    if c.breaking { "BREAKING" } else { "ok      " },
                    c.message,
                    c.broken_clients.join(",")
                )
            })
            .collect::<Vec<_>>()
            .join("\n")
    };
    let alone = render(diff(&old.file, &new.file, &[]));
    let with = render(diff(
        &old.file,
        &new.file,
        &[NamedClient {
            name: "web".into(),
            file: &client.file,
            id: 2,
        }],
    ));
    insta::assert_snapshot!(
        "diff_without_and_with_clients",
        format!("without clients:\n{alone}\n\nwith client web:\n{with}\n")
    );
}

/// A type switching between message and enum is breaking without clients
/// (fields using it compare equal by name); added enums are listed.
#[test]
fn diff_kind_switch_and_added_enum() {
    let old = parse_and_check(
        "service \"s\"\nrpc a (In) Out\nmessage In { k K }\nmessage Out { e E }\nmessage K { x int }\nenum E { a }\n",
        0,
    );
    let new = parse_and_check(
        "service \"s\"\nrpc a (In) Out\nmessage In { k K }\nmessage Out {\n    e E\n    c C?\n}\nenum K { x }\nmessage E { a int? }\nenum C { y }\n",
        1,
    );
    assert!(
        old.ok() && new.ok(),
        "{:?} {:?}",
        old.diagnostics,
        new.diagnostics
    );
    let d = diff(&old.file, &new.file, &[]);
    let lines: Vec<String> = d
        .changes
        .iter()
        .map(|c| format!("{} {} {}", c.breaking, c.key, c.message))
        .collect();
    assert_eq!(
        lines,
        [
            "false field:Out.c optional field `Out.c` added",
            "true message:K message `K` became an enum",
            "true message:E enum `E` became a message",
            "false message:C enum `C` added",
        ]
    );
    assert!(d.breaking());
}

/// A client that already violates a key against OLD (it reads `Out.x`,
/// which the old server lacks: B0103) and violates it differently against
/// NEW (the server now has `x` as a `string`: B0104) is broken by NEW: the
/// diff compares violations on (key, code), not on the key alone.
#[test]
fn diff_reports_a_new_violation_on_an_already_violated_key() {
    let old = parse_and_check(
        "service \"s\"\nrpc a (In) Out\nmessage In { k int }\nmessage Out { y int }\n",
        0,
    );
    let new = parse_and_check(
        "service \"s\"\nrpc a (In) Out\nmessage In { k int }\nmessage Out {\n    y int\n    x string?\n}\n",
        1,
    );
    let client = parse_and_check(
        "service \"s\"\nrpc a (In) Out\nmessage In { k int }\nmessage Out { x int? }\n",
        2,
    );
    assert!(
        old.ok() && new.ok() && client.ok(),
        "{:?} {:?} {:?}",
        old.diagnostics,
        new.diagnostics,
        client.diagnostics
    );
    let codes = |server: &crate::Checked, id| {
        compat(&server.file, id, &client.file, 2)
            .into_iter()
            .map(|v| (v.key, v.diagnostic.code))
            .collect::<Vec<_>>()
    };
    assert_eq!(codes(&old, 0), [("field:Out.x".to_string(), "B0103")]);
    assert_eq!(codes(&new, 1), [("field:Out.x".to_string(), "B0104")]);
    let named = [NamedClient {
        name: "web".into(),
        file: &client.file,
        id: 2,
    }];
    let d = diff(&old.file, &new.file, &named);
    let violations: Vec<(&str, &str, &str)> = d
        .violations
        .iter()
        .map(|(c, v)| (c.as_str(), v.key.as_str(), v.diagnostic.code))
        .collect();
    assert_eq!(violations, [("web", "field:Out.x", "B0104")]);
    let changes: Vec<String> = d
        .changes
        .iter()
        .map(|c| {
            format!(
                "{} {} [{}]",
                c.breaking,
                c.message,
                c.broken_clients.join(",")
            )
        })
        .collect();
    assert_eq!(changes, ["true optional field `Out.x` added [web]"]);
    assert!(d.breaking());

    // The same violation (key and code) against both versions is not new.
    let same = parse_and_check(
        "service \"s\"\nrpc a (In) Out\nmessage In { k int }\nmessage Out {\n    y int\n    z int?\n}\n",
        1,
    );
    let d = diff(&old.file, &same.file, &named);
    assert!(d.violations.is_empty(), "{:?}", d.violations);
    assert!(!d.breaking());
}

/// 50,000 errors render with each snippet cut to its own lines: every
/// diagnostic shows its line number and nothing of the lines around it.
/// (Rendering was quadratic in the file size; at this size it did not
/// finish in minutes. Timing lives in `benches/brief.rs`.)
#[test]
fn text_rendering_of_many_errors_is_per_line() {
    let n = 50_000;
    let src: String = (0..n).map(|i| format!("message M{i} {{\n")).collect();
    let c = parse_and_check(&src, 0);
    let unclosed = c.diagnostics.iter().filter(|d| d.code == "B0004").count();
    assert_eq!(unclosed, n);
    let out = render::text(&c.diagnostics, &sources(&[("big.brief", &src)]), false);
    assert_eq!(out.matches("error[B0004]").count(), n);
    assert!(
        out.contains(&format!("big.brief:{n}:")),
        "last line numbered"
    );
    // One source line per snippet: `message M7 {` appears once, under its own error.
    assert_eq!(out.matches("| message M7 {").count(), 1);
}

mod properties {
    use crate::compat::compat;
    use crate::parse_and_check;
    use proptest::prelude::*;

    /// A random schema: messages `M0..Mn` whose fields refer only to later
    /// messages (so there are no required cycles), and rpcs between them.
    #[derive(Debug, Clone)]
    struct Model {
        /// Per message: (type, optional) per field.
        messages: Vec<Vec<(usize, bool)>>,
        rpcs: Vec<(usize, usize)>,
    }

    const SCALARS: [&str; 6] = [
        "int",
        "string",
        "[]float",
        "map[string]bool",
        "time?",
        "bytes",
    ];

    fn ty(m: usize, t: usize, n: usize) -> String {
        // Below SCALARS.len(): a scalar; above: a later message (or a scalar for the last one).
        if t < SCALARS.len() {
            SCALARS[t].trim_end_matches('?').to_string()
        } else {
            let target = m + 1 + (t - SCALARS.len()) % n.max(1);
            if target < n {
                format!("M{target}")
            } else {
                "int".to_string()
            }
        }
    }

    /// Renders the model; `keep_rpc` and `keep_field` select a client subset.
    fn render(
        model: &Model,
        keep_rpc: &dyn Fn(usize) -> bool,
        keep_field: &dyn Fn(usize, usize) -> bool,
    ) -> String {
        let n = model.messages.len();
        let mut s = String::from("service \"p\"\n");
        for (i, (a, b)) in model.rpcs.iter().enumerate() {
            if keep_rpc(i) {
                s.push_str(&format!("rpc r{i} (M{}) M{}\n", a % n, b % n));
            }
        }
        for (m, fields) in model.messages.iter().enumerate() {
            s.push_str(&format!("message M{m} {{\n"));
            for (f, (t, opt)) in fields.iter().enumerate() {
                if keep_field(m, f) {
                    s.push_str(&format!(
                        "    f{f} {}{}\n",
                        ty(m, *t, n),
                        if *opt { "?" } else { "" }
                    ));
                }
            }
            s.push_str("}\n");
        }
        s
    }

    fn model() -> impl Strategy<Value = Model> {
        (1usize..6).prop_flat_map(|n| {
            (
                proptest::collection::vec(
                    proptest::collection::vec((0usize..10, any::<bool>()), 0..5),
                    n,
                ),
                proptest::collection::vec((0usize..n, 0usize..n), 1..4),
            )
                .prop_map(|(messages, rpcs)| Model { messages, rpcs })
        })
    }

    proptest! {
        /// A server is compatible with itself, and with any client that keeps
        /// a subset of its rpcs and drops only optional fields.
        #[test]
        fn subsets_are_compatible(model in model(), rpc_mask in any::<u8>(), field_mask in any::<u64>()) {
            let server = render(&model, &|_| true, &|_, _| true);
            let s = parse_and_check(&server, 0);
            prop_assert!(s.ok(), "{server}\n{:?}", s.diagnostics);
            prop_assert!(compat(&s.file, 0, &s.file, 1).is_empty());
            let client = render(
                &model,
                &|i| rpc_mask & (1 << (i % 8)) != 0,
                &|m, f| !model.messages[m][f].1 || field_mask & (1 << ((m * 5 + f) % 64)) != 0,
            );
            let c = parse_and_check(&client, 1);
            let v: Vec<_> = compat(&s.file, 0, &c.file, 1).into_iter().map(|v| v.diagnostic.message).collect();
            prop_assert!(v.is_empty(), "server:\n{server}\nclient:\n{client}\n{v:?}");
        }

        /// Dropping a required field of a message the client sends is always reported.
        #[test]
        fn dropped_required_input_field_is_reported(model in model()) {
            let n = model.messages.len();
            let input = model.rpcs[0].0 % n;
            let Some(f) = model.messages[input].iter().position(|(_, opt)| !opt) else { return Ok(()) };
            let server = render(&model, &|_| true, &|_, _| true);
            let client = render(&model, &|_| true, &|m, g| !(m == input && g == f));
            let (s, c) = (parse_and_check(&server, 0), parse_and_check(&client, 1));
            let keys: Vec<String> = compat(&s.file, 0, &c.file, 1).into_iter().map(|v| v.key).collect();
            prop_assert!(keys.contains(&format!("field:M{input}.f{f}")), "{client}\n{keys:?}");
        }
    }
}
