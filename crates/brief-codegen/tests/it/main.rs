//! Generated code for every `fixtures/brief/ok` schema, snapshotted: Rust in
//! server mode (client mode for client contracts, `<server>.<client>.brief`)
//! and proto3. The raw Rust output of these fixtures must be a fixed point
//! of rustfmt when rustfmt is installed, and the proto output is run
//! through protoc when protoc is installed (CI installs it; `props` does the
//! same for generated schemas with colliding names).

mod props;

use brief_codegen::{RustOptions, proto, rust};
use std::path::Path;
use std::process::{Command, Stdio};

fn is_client(name: &str) -> bool {
    name.trim_end_matches(".brief").contains('.')
}

/// Runs `rustfmt` over `code`; `None` when rustfmt is not installed.
pub(crate) fn rustfmt(code: &str) -> Option<String> {
    use std::io::Write;
    let mut child = Command::new("rustfmt")
        .args(["--edition", "2024", "--emit", "stdout"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .ok()?;
    child.stdin.take()?.write_all(code.as_bytes()).ok()?;
    let out = child.wait_with_output().ok()?;
    assert!(
        out.status.success(),
        "rustfmt rejected generated code: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    Some(String::from_utf8_lossy(&out.stdout).into_owned())
}

fn check(path: &Path) {
    let name = path
        .file_name()
        .and_then(|n| n.to_str())
        .unwrap_or_default()
        .to_string();
    let text = std::fs::read_to_string(path).expect("fixture is readable");
    let checked = brief_check::parse_and_check(&text, 0);
    assert!(checked.ok(), "{name}: {:?}", checked.diagnostics);
    let opts = RustOptions {
        client: is_client(&name),
        source_name: name.clone(),
    };
    let code = rust(&checked.file, &opts).expect("rust generation");
    if let Some(formatted) = rustfmt(&code) {
        similar_asserts(&code, &formatted, &name);
    }
    insta::assert_snapshot!("rust", code);
    let proto = proto(&checked.file, &name).expect("proto generation");
    protoc(&proto).unwrap_or_else(|e| panic!("protoc rejected {name}: {e}"));
    insta::assert_snapshot!("proto", proto);
}

fn similar_asserts(code: &str, formatted: &str, name: &str) {
    if code != formatted {
        let first = code
            .lines()
            .zip(formatted.lines())
            .position(|(a, b)| a != b)
            .unwrap_or(0);
        panic!(
            "{name}: generated Rust is not rustfmt-clean at line {}:\n  generated: {:?}\n  rustfmt:   {:?}",
            first + 1,
            code.lines().nth(first),
            formatted.lines().nth(first)
        );
    }
}

#[test]
fn ok_fixtures() {
    insta::glob!("../../../../fixtures/brief/ok", "*.brief", check);
}

/// The raw output for `fixtures/brief/rust` (long names, nested maps,
/// clashing names, code-like docs), both modes, is rustfmt-clean.
#[test]
fn rust_corpus_raw_output_is_rustfmt_clean() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../fixtures/brief/rust");
    for entry in std::fs::read_dir(dir).expect("corpus") {
        let path = entry.expect("entry").path();
        let name = path
            .file_name()
            .and_then(|n| n.to_str())
            .unwrap_or("")
            .to_string();
        let text = std::fs::read_to_string(&path).expect("readable");
        let checked = brief_check::parse_and_check(&text, 0);
        assert!(checked.ok(), "{name}: {:?}", checked.diagnostics);
        for client in [false, true] {
            let opts = RustOptions {
                client,
                source_name: name.clone(),
            };
            let code = rust(&checked.file, &opts).expect("rust generation");
            if let Some(formatted) = rustfmt(&code) {
                similar_asserts(&code, &formatted, &name);
            }
        }
    }
}

/// **Architecture Invariant:** the syntax, checker and generator crates do no
/// I/O: none of them depends on tokio, axum, hyper or reqwest.
#[test]
fn pure_crates_stay_pure() {
    let crates = Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    for name in ["brief-syntax", "brief-check", "brief-codegen"] {
        let manifest =
            std::fs::read_to_string(crates.join(name).join("Cargo.toml")).expect("manifest");
        for io in ["tokio", "axum", "hyper", "reqwest", "brief-rt"] {
            let dep = manifest.lines().any(|l| {
                l.trim_start().starts_with(&format!("{io}."))
                    || l.trim_start().starts_with(&format!("{io} "))
            });
            assert!(!dep, "{name} must not depend on {io}");
        }
    }
}

/// Runs `protoc` over `proto` when protoc is installed (CI installs it).
pub(crate) fn protoc(proto: &str) -> Result<(), String> {
    let dir = tempfile::tempdir().map_err(|e| e.to_string())?;
    let file = dir.path().join("x.proto");
    std::fs::write(&file, proto).map_err(|e| e.to_string())?;
    let out = Command::new("protoc")
        .arg("-I")
        .arg(dir.path())
        .arg("-o")
        .arg("/dev/null")
        .arg(&file)
        .output();
    match out {
        Err(_) => Ok(()), // not installed: `props` and CI's check script cover it there
        Ok(o) if o.status.success() => Ok(()),
        Ok(o) => Err(String::from_utf8_lossy(&o.stderr).into_owned()),
    }
}
