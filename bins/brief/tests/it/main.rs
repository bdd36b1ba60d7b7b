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
    run_with(args, |_| {})
}

/// [`run`], with `setup` adjusting the command first (its environment).
fn run_with(args: &[&str], setup: impl FnOnce(&mut Command)) -> (i32, String) {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_brief"));
    cmd.args(args).current_dir(root());
    setup(&mut cmd);
    let out = cmd.output().expect("brief runs");
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

/// `brief fmt` with several files goes through all of them: every file with
/// syntax errors is reported (and left alone), an unreadable one is named,
/// the good ones are still formatted, and the exit code is the worst seen.
#[test]
fn fmt_goes_through_every_file() {
    let dir = tempfile::tempdir().expect("temp dir");
    let d = dir.path();
    let bad1 = "message A {\n    a int\n";
    let bad2 = "service \"s\"\nrpc go (In\nmessage In {}\n";
    let good = "message   B {\n  b    int\n}\n";
    let canonical = "message B {\n    b int\n}\n";
    let write = |name: &str, text: &str| {
        let p = d.join(name);
        std::fs::write(&p, text).expect("write");
        p.to_str().expect("utf-8 path").to_string()
    };
    let (a, b, c) = (
        write("a.brief", bad1),
        write("b.brief", good),
        write("c.brief", bad2),
    );
    let missing = d.join("missing.brief").to_str().expect("utf-8").to_string();
    let dir_s = d.to_str().expect("utf-8 path");
    let transcript = |args: &[&str], code: i32| {
        let (got, t) = run(&[&["--color", "never"], args].concat());
        assert_eq!(got, code, "{t}");
        t.replace(dir_s, "$DIR")
    };

    let check = transcript(&["fmt", "--check", &a, &b, &c], 1);
    insta::assert_snapshot!("fmt-check-several-files", check);
    assert_eq!(
        std::fs::read_to_string(&b).expect("read"),
        good,
        "--check writes nothing"
    );

    let fmt = transcript(&["fmt", &a, &b, &c], 1);
    for (file, error) in [
        (
            "$DIR/a.brief",
            "$DIR/a.brief has syntax errors; not formatted",
        ),
        (
            "$DIR/c.brief",
            "$DIR/c.brief has syntax errors; not formatted",
        ),
    ] {
        assert!(
            fmt.contains(&format!("--> {file}:")) && fmt.contains(error),
            "{file} reported:\n{fmt}"
        );
    }
    assert_eq!(
        std::fs::read_to_string(&b).expect("read"),
        canonical,
        "b is formatted"
    );
    assert_eq!(
        std::fs::read_to_string(&a).expect("read"),
        bad1,
        "a is left alone"
    );
    assert_eq!(
        std::fs::read_to_string(&c).expect("read"),
        bad2,
        "c is left alone"
    );

    // An unreadable file is exit 2, and the files after it are still handled.
    write("b.brief", good);
    let t = transcript(&["fmt", &missing, &b], 2);
    assert!(t.contains("error: cannot read $DIR/missing.brief"), "{t}");
    assert_eq!(
        std::fs::read_to_string(&b).expect("read"),
        canonical,
        "b after it is formatted"
    );
}

/// A directory holding only an executable `rustfmt` that prints `message`
/// on stderr and exits 1.
#[cfg(unix)]
fn failing_rustfmt(message: &str) -> tempfile::TempDir {
    use std::os::unix::fs::PermissionsExt;
    let dir = tempfile::tempdir().expect("temp dir");
    let path = dir.path().join("rustfmt");
    std::fs::write(
        &path,
        format!("#!/bin/sh\nwhile read -r _; do :; done\necho '{message}' >&2\nexit 1\n"),
    )
    .expect("write");
    std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o755)).expect("chmod");
    dir
}

/// When rustfmt fails or is missing, `brief gen rust` says so on stderr and
/// still writes the generator's own layout (exit 0); when it works, it is
/// silent.
#[cfg(unix)]
#[test]
fn gen_rust_warns_when_rustfmt_fails() {
    let schema = "fixtures/brief/ok/summer.brief";
    let out = tempfile::tempdir().expect("temp dir");
    let gen_in = |name: &str, setup: &dyn Fn(&mut Command), extra: &[&str]| {
        let dir = out.path().join(name);
        let dir_s = dir.to_str().expect("utf-8 path").to_string();
        let (code, t) = run_with(
            &[&["gen", "rust", schema, "--out", &dir_s], extra].concat(),
            setup,
        );
        assert_eq!(code, 0, "{t}");
        let code = std::fs::read_to_string(dir.join("summer.rs")).expect("written");
        let stderr = t
            .split("--- stderr\n")
            .nth(1)
            .unwrap_or_default()
            .to_string();
        (code, stderr)
    };
    let (plain, stderr) = gen_in("plain", &|_| {}, &["--no-rustfmt"]);
    assert_eq!(stderr, "", "--no-rustfmt warns about nothing");
    let (formatted, stderr) = gen_in("real", &|_| {}, &[]);
    assert_eq!(stderr, "", "a working rustfmt is silent");
    assert_eq!(
        formatted, plain,
        "rustfmt keeps the generator's layout of summer"
    );

    let fake = failing_rustfmt("error: simulated rustfmt failure");
    let (code, stderr) = gen_in(
        "failing",
        &|c| {
            c.env("PATH", fake.path());
        },
        &[],
    );
    assert_eq!(code, plain, "the unformatted code is written");
    assert!(
        stderr.starts_with(
            "warning: rustfmt failed (exit status: 1): error: simulated rustfmt failure; "
        ) && stderr.contains("fixtures/brief/ok/summer.brief is written unformatted"),
        "{stderr}"
    );

    let empty = tempfile::tempdir().expect("temp dir");
    let (code, stderr) = gen_in(
        "missing",
        &|c| {
            c.env("PATH", empty.path());
        },
        &[],
    );
    assert_eq!(code, plain);
    assert!(
        stderr.starts_with("warning: rustfmt is not on PATH; "),
        "{stderr}"
    );
}

/// `brief gen rust` of the summer server and of its client contract equals
/// the modules committed in `crates/brief-example-summer/src`, which that
/// crate compiles with `brief-rt` as its only dependency: what the binary
/// writes builds in a crate of its own. (Building a scratch crate here with
/// `cargo build` would recompile brief-rt's dependencies, about a minute in
/// CI: their features differ from the workspace's unified ones.)
#[test]
fn gen_rust_matches_the_committed_example() {
    let dir = tempfile::tempdir().expect("temp dir");
    let out = dir.path().to_str().expect("utf-8 path");
    for (schema, client, module) in [
        ("fixtures/brief/ok/summer.brief", false, "summer"),
        (
            "fixtures/brief/ok/summer.client.brief",
            true,
            "summer_client",
        ),
    ] {
        let mut args = vec!["gen", "rust", schema, "--out", out];
        if client {
            args.push("--client");
        }
        let (code, t) = run(&args);
        assert_eq!(code, 0, "{t}");
        let generated =
            std::fs::read_to_string(dir.path().join(format!("{module}.rs"))).expect("written");
        let committed = std::fs::read_to_string(
            root().join(format!("crates/brief-example-summer/src/{module}.rs")),
        )
        .expect("committed");
        assert!(
            generated == committed,
            "brief gen rust {schema} differs from crates/brief-example-summer/src/{module}.rs"
        );
    }
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
