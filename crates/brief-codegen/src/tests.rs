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

#[test]
fn collisions_are_errors() {
    let checked =
        brief_check::parse_and_check("schema \"a.b\" M\nschema \"a_b\" M\nmessage M {}\n", 0);
    let err = rust(&checked.file, &RustOptions::default()).map(|_| ());
    assert_eq!(
        err.map_err(|e| e.to_string()),
        Err("`a.b` and `a_b` both become `A_B` in Rust".into())
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
