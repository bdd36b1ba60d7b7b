//! The `brief` command end to end: exit codes, rendered findings and output
//! files, run from the repository root on the fixtures.

use std::path::{Path, PathBuf};
use std::process::Command;

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

/// Runs `brief` with `args` from the repository root and returns
/// `exit: N`, stdout and stderr as one transcript.
fn run(args: &[&str]) -> (i32, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_brief"))
        .args(args)
        .current_dir(root())
        .output()
        .expect("brief runs");
    let code = out.status.code().unwrap_or(-1);
    let transcript = format!(
        "$ brief {}\nexit: {code}\n--- stdout\n{}--- stderr\n{}",
        args.join(" "),
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    (code, transcript)
}

/// Runs `brief`, asserts the exit code and snapshots the transcript as `name`.
fn check(name: &str, args: &[&str], code: i32) {
    let (got, transcript) = run(args);
    assert_eq!(got, code, "{transcript}");
    insta::assert_snapshot!(name, transcript);
}

#[test]
fn check_ok_and_err() {
    check(
        "check-ok",
        &[
            "check",
            "--color",
            "never",
            "fixtures/brief/ok/summer.brief",
            "fixtures/brief/ok/events.brief",
        ],
        0,
    );
    check(
        "check-err",
        &[
            "check",
            "--color",
            "never",
            "fixtures/brief/err/undefined.brief",
        ],
        1,
    );
    check(
        "check-json",
        &[
            "check",
            "--format",
            "json",
            "fixtures/brief/err/duplicates.brief",
        ],
        1,
    );
    check(
        "check-warnings-only",
        &[
            "check",
            "--color",
            "never",
            "fixtures/brief/err/unused.brief",
        ],
        0,
    );
}

#[test]
fn usage_errors_exit_2() {
    assert_eq!(run(&["check"]).0, 2);
    assert_eq!(run(&["check", "fixtures/brief/ok/nope.brief"]).0, 2);
    assert_eq!(run(&["frobnicate"]).0, 2);
}

#[test]
fn compat_and_usage() {
    check(
        "compat-ok",
        &[
            "compat",
            "--server",
            "fixtures/brief/ok/shop.brief",
            "fixtures/brief/ok/shop.web.brief",
        ],
        0,
    );
    check(
        "compat-violations",
        &[
            "compat",
            "--color",
            "never",
            "--server",
            "fixtures/brief/ok/shop.brief",
            "fixtures/brief/compat/shop.mobile.brief",
        ],
        1,
    );
    check(
        "usage",
        &[
            "usage",
            "--server",
            "fixtures/brief/ok/shop.brief",
            "fixtures/brief/ok/shop.web.brief",
            "fixtures/brief/compat/shop.mobile.brief",
        ],
        0,
    );
}

#[test]
fn diff_is_breaking_only_for_named_clients() {
    let (old, v2, v3) = (
        "fixtures/brief/ok/shop.brief",
        "fixtures/brief/compat/shop.v2.brief",
        "fixtures/brief/compat/shop.v3.brief",
    );
    // Without clients, removing anything is breaking for someone.
    check("diff-no-clients", &["diff", old, v2], 1);
    // The web client uses none of what v2 removes.
    check(
        "diff-web-ok",
        &[
            "diff",
            old,
            v2,
            "--clients",
            "fixtures/brief/ok/shop.web.brief",
        ],
        0,
    );
    // v3 requires a field the web client does not send.
    check(
        "diff-web-breaks",
        &[
            "diff",
            "--color",
            "never",
            old,
            v3,
            "--clients",
            "fixtures/brief/ok/shop.web.brief",
        ],
        1,
    );
    check(
        "diff-json",
        &[
            "diff",
            "--format",
            "json",
            old,
            v3,
            "--clients",
            "fixtures/brief/ok/shop.web.brief",
        ],
        1,
    );
}

#[test]
fn fmt_rewrites_and_checks() {
    let dir = tempfile::tempdir().expect("temp dir");
    let path = dir.path().join("summer.brief");
    std::fs::copy(root().join("fixtures/brief/ok/summer.brief"), &path).expect("copy");
    let p = path.to_str().expect("utf-8 path");
    assert_eq!(
        run(&["fmt", "--check", p]).0,
        1,
        "the shared fixture is not in canonical form"
    );
    assert_eq!(run(&["fmt", p]).0, 0);
    let formatted = std::fs::read_to_string(&path).expect("read");
    insta::assert_snapshot!("fmt-summer", formatted);
    assert_eq!(run(&["fmt", "--check", p]).0, 0, "idempotent");
    std::fs::write(&path, "message A {\n").expect("write");
    assert_eq!(run(&["fmt", p]).0, 1, "syntax errors are not formatted");
}

#[test]
fn gen_rust_matches_the_committed_example() {
    let dir = tempfile::tempdir().expect("temp dir");
    let out = dir.path().to_str().expect("utf-8 path");
    let (code, t) = run(&[
        "gen",
        "rust",
        "fixtures/brief/ok/summer.client.brief",
        "--client",
        "--out",
        out,
    ]);
    assert_eq!(code, 0, "{t}");
    let generated = std::fs::read_to_string(dir.path().join("summer_client.rs")).expect("written");
    let committed =
        std::fs::read_to_string(root().join("crates/brief-example-summer/src/summer_client.rs"))
            .expect("committed");
    assert_eq!(generated, committed);
    assert_eq!(
        run(&[
            "gen",
            "rust",
            "fixtures/brief/err/cycle.brief",
            "--out",
            out
        ])
        .0,
        1,
        "errors block generation"
    );
}

#[test]
fn gen_proto() {
    check(
        "gen-proto-summer",
        &["gen", "proto", "fixtures/brief/ok/summer.brief"],
        0,
    );
}

/// Names the generators cannot map: `check` warns (exit 0), `gen proto`
/// and `gen rust` refuse (exit 1), each naming both spans.
#[test]
fn unmappable_names_warn_in_check_and_fail_gen() {
    let f = "fixtures/brief/gen/unmappable.brief";
    check("unmappable-check", &["check", "--color", "never", f], 0);
    check(
        "unmappable-gen-proto",
        &["gen", "proto", "--color", "never", f],
        1,
    );
    let out = tempfile::tempdir().expect("tempdir");
    let dir = out.path().to_str().expect("utf-8 path");
    let (code, transcript) = run(&["gen", "rust", "--color", "never", f, "--out", dir]);
    assert_eq!(code, 1, "{transcript}");
    insta::assert_snapshot!("unmappable-gen-rust", transcript.replace(dir, "$OUT"));
}

/// `fixtures/brief/rust` holds schemas whose names clash with what the
/// generator emits, long names and nested types, and docs that look like
/// code. `brief gen rust` of each (server and client mode) equals the
/// module committed in `crates/brief-example-summer/src/corpus` — which
/// that crate compiles without warnings under clippy and whose doc comments
/// its doctests run — and is rustfmt-clean.
#[test]
fn gen_rust_corpus_is_committed_and_rustfmt_clean() {
    let rustfmt = Command::new("rustfmt").arg("--version").output();
    assert!(
        rustfmt.is_ok_and(|o| o.status.success()),
        "rustfmt is installed with the toolchain"
    );
    let dir = tempfile::tempdir().expect("temp dir");
    let mut n = 0;
    for entry in std::fs::read_dir(root().join("fixtures/brief/rust")).expect("corpus") {
        let path = entry.expect("entry").path();
        let stem = path
            .file_stem()
            .and_then(|s| s.to_str())
            .expect("name")
            .to_string();
        let rel = format!("fixtures/brief/rust/{stem}.brief");
        for (client, module) in [(false, stem.clone()), (true, format!("{stem}_client"))] {
            let out = dir.path().join(&module);
            let out_s = out.to_str().expect("utf-8 path");
            let mut args = vec!["gen", "rust", rel.as_str(), "--out", out_s];
            if client {
                args.push("--client");
            }
            let (code, t) = run(&args);
            assert_eq!(code, 0, "{t}");
            let file = out.join(format!("{stem}.rs"));
            let generated = std::fs::read_to_string(&file).expect("written");
            let fmt = Command::new("rustfmt")
                .args(["--edition", "2024", "--check"])
                .arg(&file)
                .output()
                .expect("rustfmt runs");
            assert!(
                fmt.status.success(),
                "{module}: not rustfmt-clean:\n{}",
                String::from_utf8_lossy(&fmt.stdout)
            );
            let committed = std::fs::read_to_string(root().join(format!(
                "crates/brief-example-summer/src/corpus/{module}.rs"
            )))
            .unwrap_or_default();
            assert!(
                generated == committed,
                "crates/brief-example-summer/src/corpus/{module}.rs is stale or missing: \
                 run `brief gen rust {rel}{} --out <dir>` and copy it there as {module}.rs \
                 (and list it in corpus.rs)",
                if client { " --client" } else { "" }
            );
            n += 1;
        }
    }
    assert!(n >= 10, "expected the corpus, found {n} modules");
}
