//! Generates the `summer` server and client for the proof test at build
//! time, from the spec's fixtures (`../shared/fixtures/brief` beside the
//! repository when it is there, else the repository's copies in
//! `fixtures/brief/ok`), into `OUT_DIR`. The proof test (`tests/it/proof.rs`)
//! includes and compiles them, so it runs freshly generated code rather than
//! the committed example.

use std::path::{Path, PathBuf};

fn main() {
    let manifest = PathBuf::from(std::env::var_os("CARGO_MANIFEST_DIR").unwrap_or_default());
    let out = PathBuf::from(std::env::var_os("OUT_DIR").unwrap_or_default());
    let shared = manifest.join("../../../shared/fixtures/brief");
    let repo = manifest.join("../../fixtures/brief/ok");
    // Watch only what exists: Cargo treats a missing path as always changed.
    for dir in [&shared, &repo].into_iter().filter(|d| d.is_dir()) {
        println!("cargo::rerun-if-changed={}", dir.display());
    }
    for (fixture, client, module) in [
        ("summer.brief", false, "summer"),
        ("summer.client.brief", true, "summer_client"),
    ] {
        let path = [&shared, &repo]
            .into_iter()
            .map(|dir| dir.join(fixture))
            .find(|p| p.is_file())
            .unwrap_or_else(|| {
                panic!("no {fixture} in {} or {}", shared.display(), repo.display())
            });
        println!("cargo::rerun-if-changed={}", path.display());
        let code = generate(&path, fixture, client);
        std::fs::write(out.join(format!("{module}.rs")), includable(&code))
            .unwrap_or_else(|e| panic!("cannot write {module}.rs: {e}"));
    }
}

fn generate(path: &Path, fixture: &str, client: bool) -> String {
    let text = std::fs::read_to_string(path)
        .unwrap_or_else(|e| panic!("cannot read {}: {e}", path.display()));
    let checked = brief_check::parse_and_check(&text, 0);
    assert!(
        checked.ok(),
        "{}: {:?}",
        path.display(),
        checked.diagnostics
    );
    let opts = brief_codegen::RustOptions {
        client,
        source_name: fixture.to_string(),
    };
    brief_codegen::rust(&checked.file, &opts).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// `include!` takes items only: the module's inner doc (`//!`) and inner
/// `#![allow(...)]` go (the including module carries the allow instead).
fn includable(code: &str) -> String {
    let mut out = String::with_capacity(code.len());
    let mut in_allow = false;
    for line in code.lines() {
        if line.starts_with("#![allow(") {
            in_allow = !line.ends_with(")]");
            continue;
        }
        if in_allow {
            in_allow = !line.starts_with(")]");
            continue;
        }
        if line.starts_with("//!") {
            continue;
        }
        out.push_str(line);
        out.push('\n');
    }
    out
}
