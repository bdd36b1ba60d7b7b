//! Generated schemas with names chosen to collide (case, underscores,
//! proto scalars and keywords, generated wrapper and entry names): whenever
//! `gen proto` succeeds, protoc accepts the output; otherwise the failure
//! names two spans of the schema.

use brief_codegen::{Error, proto};
use proptest::prelude::*;

/// Names that collide with each other or with generated names once mapped.
const NAMES: &[&str] = &[
    "a",
    "A",
    "a_b",
    "aB",
    "A_B",
    "_a",
    "ab",
    "self",
    "Self",
    "double",
    "int32",
    "optional",
    "In",
    "InXs",
    "InXsItem",
    "Xs",
    "xs",
    "E",
    "E_X",
    "x",
    "X",
    "XEntry",
    "m",
    "MEntry",
    "UNSPECIFIED",
    "unspecified",
    "E_UNSPECIFIED",
    "Service",
    "S",
    "Publisher",
    "new",
];

/// A field type over the types in scope (`msgs`, `enums`), nested up to `depth`.
fn ty(depth: u32) -> BoxedStrategy<String> {
    let leaf = prop_oneof![
        Just("int".to_string()),
        Just("string".to_string()),
        Just("time".to_string()),
        Just("bytes".to_string()),
        (0..NAMES.len()).prop_map(|i| format!("@{i}")),
    ];
    leaf.prop_recursive(depth, 8, 2, |inner| {
        prop_oneof![
            inner.clone().prop_map(|t| format!("[]{t}")),
            inner.prop_map(|t| format!("map[string]{t}")),
        ]
    })
    .boxed()
}

/// A schema: one service with one rpc, some messages and enums whose names,
/// fields and members come from [`NAMES`]; references resolve to a declared
/// type or to `int`.
fn schema() -> impl Strategy<Value = String> {
    let msgs = prop::collection::vec(
        (
            0..NAMES.len(),
            prop::collection::vec((0..NAMES.len(), ty(3), any::<bool>()), 0..5),
        ),
        1..4,
    );
    let enums = prop::collection::vec(
        (0..NAMES.len(), prop::collection::vec(0..NAMES.len(), 0..4)),
        0..3,
    );
    (msgs, enums, 0..NAMES.len()).prop_map(|(msgs, enums, svc)| {
        let mut types: Vec<&str> = Vec::new();
        let mut out = format!("service \"{}\"\n", NAMES[svc].replace('_', "-"));
        let mut body = String::new();
        for (name, _) in &msgs {
            if !types.contains(&NAMES[*name]) && NAMES[*name] != "int32" || types.is_empty() {
                types.push(NAMES[*name]);
            }
        }
        let enum_names: Vec<&str> = enums
            .iter()
            .map(|(n, _)| NAMES[*n])
            .filter(|n| !types.contains(n))
            .collect();
        let resolve = |t: &str| -> String {
            // `@i` → a declared type, else `int`.
            let mut out = String::new();
            let mut rest = t;
            while let Some(pos) = rest.find('@') {
                out.push_str(&rest[..pos]);
                let digits: String = rest[pos + 1..]
                    .chars()
                    .take_while(char::is_ascii_digit)
                    .collect();
                let i: usize = digits.parse().unwrap_or(0);
                let n = NAMES[i];
                out.push_str(if types.contains(&n) || enum_names.contains(&n) {
                    n
                } else {
                    "int"
                });
                rest = &rest[pos + 1 + digits.len()..];
            }
            out.push_str(rest);
            out
        };
        let mut seen_msgs = Vec::new();
        for (name, fields) in &msgs {
            let n = NAMES[*name];
            if seen_msgs.contains(&n) || !types.contains(&n) {
                continue;
            }
            seen_msgs.push(n);
            body.push_str(&format!("message {n} {{\n"));
            let mut seen = Vec::new();
            for (f, t, opt) in fields {
                if seen.contains(f) {
                    continue;
                }
                seen.push(*f);
                // Optional everywhere keeps messages from requiring themselves.
                let _ = opt;
                body.push_str(&format!("    {} {}?\n", NAMES[*f], resolve(t)));
            }
            body.push_str("}\n");
        }
        let mut seen_enums = Vec::new();
        for (name, members) in &enums {
            let n = NAMES[*name];
            if !enum_names.contains(&n) || seen_enums.contains(&n) {
                continue;
            }
            seen_enums.push(n);
            let mut ms: Vec<&str> = Vec::new();
            for m in members {
                if !ms.contains(&NAMES[*m]) {
                    ms.push(NAMES[*m]);
                }
            }
            body.push_str(&format!("enum {n} {{ {} }}\n", ms.join(" ")));
        }
        out.push_str(&format!("rpc call ({0}) {0}\n", types[0]));
        out.push_str(&body);
        out
    })
}

/// Whether protoc is on PATH (CI installs it: `.ci/setup.d/20-brief-protoc.sh`).
fn have_protoc() -> bool {
    std::process::Command::new("protoc")
        .arg("--version")
        .output()
        .is_ok_and(|o| o.status.success())
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(96))]
    #[test]
    fn gen_proto_output_is_accepted_by_protoc(src in schema()) {
        let checked = brief_check::parse_and_check(&src, 0);
        // Only schemas `brief check` accepts are generated.
        prop_assume!(checked.ok());
        match proto(&checked.file, "x.brief") {
            Ok(p) => {
                if have_protoc() {
                    let r = crate::protoc(&p);
                    prop_assert!(r.is_ok(), "protoc rejected:\n{src}\n---\n{p}\n---\n{}", r.err().unwrap_or_default());
                }
            }
            Err(e @ (Error::JsonNameConflict { spans, .. } | Error::NameCollision { spans, .. })) => {
                prop_assert!(spans[0] != spans[1], "{e}");
            }
        }
    }
}

/// A field type over `msgs`, nested up to five levels.
fn field_type(msgs: Vec<String>) -> BoxedStrategy<String> {
    let leaf = prop_oneof![
        Just("int".to_string()),
        Just("string".to_string()),
        Just("bytes".to_string()),
        Just("time".to_string()),
        prop::sample::select(msgs),
    ];
    leaf.prop_recursive(5, 16, 1, |inner| {
        prop_oneof![
            inner.clone().prop_map(|t| format!("[]{t}")),
            inner.prop_map(|t| format!("map[string]{t}")),
        ]
    })
    .boxed()
}

/// A schema whose names are up to 40 characters long, with nested types:
/// a service, two rpcs, two events, three messages and an enum.
fn long_schema() -> impl Strategy<Value = String> {
    let msgs = prop::collection::btree_set("[A-J][a-j]{2,39}", 3);
    msgs.prop_flat_map(|msgs| {
        let msgs: Vec<String> = msgs.into_iter().collect();
        let fields = prop::collection::vec(
            prop::collection::btree_map(
                "[a-j]{1,40}",
                (field_type(msgs.clone()), any::<bool>()),
                0..5,
            ),
            3,
        );
        (
            Just(msgs.clone()),
            "[a-j]{1,40}",
            prop::collection::vec(("[a-j]{1,40}", 0..3usize, 0..3usize), 2),
            prop::collection::vec(("[a-j]{1,10}(\\.[a-j]{1,10}){0,3}", 0..3usize), 2),
            fields,
            (
                "[A-J][a-j]{2,39}",
                prop::collection::btree_set("[a-j]{1,40}", 1..3),
            ),
        )
    })
    .prop_map(
        |(msgs, service, rpcs, events, fields, (enum_name, members))| {
            let mut out = format!("service \"{service}\"\n");
            for (i, (name, a, b)) in rpcs.iter().enumerate() {
                out.push_str(&format!("rpc {name}{i} ({}) {}\n", msgs[*a], msgs[*b]));
            }
            for (i, (topic, m)) in events.iter().enumerate() {
                out.push_str(&format!("schema \"{topic}{i}\" {}\n", msgs[*m]));
            }
            for (m, fs) in msgs.iter().zip(&fields) {
                out.push_str(&format!("message {m} {{\n"));
                for (f, (ty, _)) in fs {
                    // Optional, so no message requires itself.
                    out.push_str(&format!("    {f} {ty}?\n"));
                }
                out.push_str("}\n");
            }
            let members: Vec<String> = members.into_iter().collect();
            out.push_str(&format!("enum {enum_name}E {{ {} }}\n", members.join(" ")));
            out
        },
    )
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(24))]
    /// The generator's own layout is rustfmt's for names up to 40
    /// characters and nested types (longer names rely on `brief gen rust`
    /// running rustfmt).
    #[test]
    fn raw_rust_is_rustfmt_clean_for_long_names(src in long_schema()) {
        let checked = brief_check::parse_and_check(&src, 0);
        prop_assume!(checked.ok());
        for client in [false, true] {
            let opts = brief_codegen::RustOptions { client, source_name: "long.brief".into() };
            let Ok(code) = brief_codegen::rust(&checked.file, &opts) else {
                continue; // a refused schema (B0202) has nothing to format
            };
            if let Some(formatted) = crate::rustfmt(&code) {
                let first = code.lines().zip(formatted.lines()).position(|(a, b)| a != b);
                prop_assert!(
                    code == formatted,
                    "not rustfmt-clean at line {:?}:\n{src}\n{:?}\n{:?}",
                    first.map(|i| i + 1),
                    first.and_then(|i| code.lines().nth(i)),
                    first.and_then(|i| formatted.lines().nth(i)),
                );
            }
        }
    }
}
