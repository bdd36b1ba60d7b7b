use crate::{RustOptions, proto, rust};

/// Generates Rust (server and client mode) and proto for one source.
fn check(name: &str, src: &str) {
    let checked = brief_check::parse_and_check(src, 0);
    assert!(checked.ok(), "{name}: {:?}", checked.diagnostics);
    let server = rust(
        &checked.file,
        &RustOptions {
            client: false,
            source_name: format!("{name}.brief"),
        },
    );
    let client = rust(
        &checked.file,
        &RustOptions {
            client: true,
            source_name: format!("{name}.brief"),
        },
    );
    let proto = proto(&checked.file, &format!("{name}.brief"));
    if let Ok(p) = &proto {
        protoc_accepts(p).unwrap_or_else(|e| panic!("protoc rejected {name}: {e}"));
    }
    insta::assert_snapshot!(
        format!("{name}_server_rs"),
        server.unwrap_or_else(|e| e.to_string())
    );
    insta::assert_snapshot!(
        format!("{name}_client_rs"),
        client.unwrap_or_else(|e| e.to_string())
    );
    insta::assert_snapshot!(
        format!("{name}_proto"),
        proto.unwrap_or_else(|e| e.to_string())
    );
}

#[test]
fn names_types_and_recursion() {
    check(
        "kitchen",
        "service \"order-api\"\nrpc getOrder (GetIn) Order `Reads one order`\nmessage GetIn {\n    orderID int\n    type string?\n}\nmessage Order {\n    self_ref Order?\n    children []Order\n    grid [][]float\n    attrs map[string][]string\n    blob bytes\n    at time\n    status Status\n}\nenum Status {\n    in_progress `Being cooked`\n    done\n}\n",
    );
}

#[test]
fn names_that_would_shadow() {
    check(
        "shadow",
        "service \"order\"\nrpc get (String) Order\nmessage String {\n    _ int\n    s string\n}\nmessage Order {\n    client OrderClient?\n}\nmessage OrderClient {}\n",
    );
}

/// Renders every generator problem of `src` as diagnostics (both spans).
fn problems(name: &str, src: &str) {
    let checked = brief_check::parse_and_check(src, 0);
    assert!(checked.ok(), "{name}: {:?}", checked.diagnostics);
    let mut out = String::new();
    for d in crate::lint(&checked.file, 0) {
        out.push_str(&format!(
            "{} {}: {}\n",
            d.code,
            d.message,
            d.hint.unwrap_or_default()
        ));
        for l in &d.labels {
            out.push_str(&format!("  `{}` {}\n", &src[l.span.range()], l.message));
        }
    }
    insta::assert_snapshot!(name, out);
}

#[test]
fn collisions_are_errors() {
    let checked =
        brief_check::parse_and_check("schema \"a.b\" M\nschema \"a_b\" M\nmessage M {}\n", 0);
    let err = rust(&checked.file, &RustOptions::default()).map(|_| ());
    assert_eq!(
        err.map_err(|e| e.to_string()),
        Err("`a.b` and `a_b` both become `TOPIC_A_B` in Rust".into())
    );
    problems(
        "collisions",
        "service \"s\"\nrpc getX (M) M\nrpc get_x (M) M\nschema \"a.b\" M\nschema \"a_b\" M\nmessage M {\n    a_b int\n    aB int\n    _a int?\n    a int?\n}\nmessage Id { e E }\nmessage ID {}\nenum E { red Red self Self }\n",
    );
}

/// Names that collide in proto once mapped naively: generated names
/// (wrappers, enum values, the zero value) move aside, and a message named
/// like a scalar is referred to by its full name.
#[test]
fn proto_names_move_aside() {
    check(
        "proto_aside",
        "service \"x\"\nrpc a (In) In\nmessage In {\n    xs [][]int\n    d double\n    e A_B\n    f A\n    g E\n}\nmessage InXsItem { a int }\nmessage double { v int }\nenum A_B { c }\nenum A { b_c }\nenum E { fooBar foo_bar unspecified }\n",
    );
}

/// Runs `protoc` over `proto` when protoc is installed.
fn protoc_accepts(proto: &str) -> Result<(), String> {
    let dir = tempfile::tempdir().map_err(|e| e.to_string())?;
    let file = dir.path().join("x.proto");
    std::fs::write(&file, proto).map_err(|e| e.to_string())?;
    let out = std::process::Command::new("protoc")
        .arg("-I")
        .arg(dir.path())
        .arg("-o")
        .arg("/dev/null")
        .arg(&file)
        .output();
    match out {
        Err(_) => Ok(()), // protoc not installed: CI installs it (.ci/setup.d/20-brief-protoc.sh)
        Ok(o) if o.status.success() => Ok(()),
        Ok(o) => Err(String::from_utf8_lossy(&o.stderr).into_owned()),
    }
}
