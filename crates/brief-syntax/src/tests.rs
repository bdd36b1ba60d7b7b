use crate::fmt::format;
use crate::parse;
use proptest::prelude::*;

/// Parses `src` and snapshots the formatted tree plus the diagnostics, so one
/// snapshot shows what the parser saw and what it reported.
fn check(name: &str, src: &str) {
    let parsed = parse(src, 0);
    let mut out = format(&parsed.file);
    out.push_str("---\n");
    for d in &parsed.diagnostics {
        let l = &d.labels[0];
        let sev = if d.is_error() { "error" } else { "warning" };
        let text = src.get(l.span.range()).unwrap_or("");
        out.push_str(&format!(
            "{} {sev} at {:?} `{text}`: {}\n",
            d.code,
            l.span.range(),
            d.message
        ));
    }
    insta::with_settings!({ description => src, omit_expression => true }, {
        insta::assert_snapshot!(name, out);
    });
}

#[test]
fn every_construct_round_trips() {
    check(
        "every_construct_round_trips",
        "// head\nservice \"summer\"\nrpc sum (SumIn) SumOut `A sum`\nrpc other (A) B\n\nschema \"service.create\" Ev `Создание`\nmessage SumIn {\n  a int `first` // why\n  tags []string?\n  m map[string][]Color\n  at time?\n  raw bytes\n}\nenum Color { red `Red` green }\nmessage Empty {}\n// tail\n",
    );
}

#[test]
fn reports_every_error_and_recovers() {
    check(
        "reports_every_error_and_recovers",
        "service summer\nrpc sum (SumIn SumOut\nmessage A {\n  a int\n  b\n  c []\n  d string\n}\nmessage B { x int }\n",
    );
}

#[test]
fn unclosed_brace_and_bad_characters() {
    check(
        "unclosed_brace_and_bad_characters",
        "message A {\n  a int\nmessage B { b int }\n$$ message C {\n",
    );
}

/// A field without a type is reported on its own line, and the next line
/// (with its own error) is still parsed.
#[test]
fn missing_type_then_extra_token() {
    check(
        "missing_type_then_extra_token",
        "message A {\n  x int\n  y int\n  a\n  b int int\n  c int\n  d []\n  e int\n}\n",
    );
}

/// A one-line item cut short points at its last token, and the next item
/// is parsed.
#[test]
fn item_cut_short_at_end_of_line() {
    check(
        "item_cut_short_at_end_of_line",
        "service\nmessage A {}\nrpc a (A)\nschema \"t\"\nmessage B {}\n",
    );
}

/// A bad token among enum members skips only itself: `a` stays a member
/// (no false \"enum has no members\").
#[test]
fn bad_enum_member_skips_one_token() {
    check(
        "bad_enum_member_skips_one_token",
        "enum E { 1 a }\nenum F { ( b c }\n",
    );
}

/// Trailing comments stay on their line (after items, fields, members and
/// opening braces); own-line comments stay before what follows them.
#[test]
fn comments_stay_in_place() {
    check(
        "comments_stay_in_place",
        "service \"s\" // svc\nrpc a (In) Out // c1\nmessage In { // open\n    a int // fa\n    // before b\n    b int\n    // inner\n} // after\nmessage Out { // only\n}\nenum E { // eo\n  x // ex\n}\n// tail\n",
    );
}

/// A byte order mark at the start is skipped; lexical and syntax errors
/// come out in source order.
#[test]
fn bom_and_error_order() {
    check(
        "bom_and_error_order",
        "\u{feff}service \"s\"\nmessage A {\n  a\n  b $\n}\n",
    );
    let parsed = parse("\u{feff}enum E { a }\n", 0);
    assert!(parsed.diagnostics.is_empty(), "{:?}", parsed.diagnostics);
}

#[test]
fn unterminated_doc() {
    check("unterminated_doc", "rpc a (B) C `oops\n");
}

#[test]
fn fields_one_per_line() {
    check("fields_one_per_line", "message A { a int b int }\n");
}

proptest! {
    #[test]
    fn never_panics_and_fmt_is_idempotent(src in "(service|rpc|message|enum|schema|map|\\[|\\]|\\{|\\}|\\(|\\)|\\?|`|\"|//|\n| |[a-zA-Zé_]{1,4}|[^a-z]){0,60}") {
        let parsed = parse(&src, 0);
        let once = format(&parsed.file);
        let again = parse(&once, 0);
        if parsed.diagnostics.is_empty() {
            prop_assert!(again.diagnostics.is_empty(), "formatted output must parse: {once:?}");
            prop_assert_eq!(format(&again.file), once);
        }
    }

    #[test]
    fn arbitrary_bytes_never_panic(src in any::<String>()) {
        let _ = parse(&src, 0);
    }
}

#[test]
fn components_of_cycles() {
    // 0 -> 1 -> 2 -> 0, 2 -> 3, 3 -> 3, 4 alone
    let c = crate::graph::components(&[vec![1], vec![2], vec![0, 3], vec![3], vec![]]);
    assert!(c[0] == c[1] && c[1] == c[2]);
    assert!(c[3] != c[0] && c[4] != c[0] && c[4] != c[3]);
}
