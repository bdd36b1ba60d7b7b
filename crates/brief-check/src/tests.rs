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
