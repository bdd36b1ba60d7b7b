//! The `paas` binary as a user runs it: exit codes, stdout/stderr split and
//! the exact messages (snapshotted).

#![allow(clippy::unwrap_used)] // tests fail loudly on purpose

use std::path::{Path, PathBuf};
use std::process::Command;

mod codegen;
mod copies;
mod create;
mod deps;
mod lint;
mod resources;
mod service;

pub(crate) fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

pub(crate) struct Run {
    pub(crate) code: i32,
    pub(crate) stdout: String,
    pub(crate) stderr: String,
}

fn paas(args: &[&str]) -> Run {
    paas_at(&root(), args, &[])
}

/// Runs paas in `dir` with the built-in platform config, no colors, and
/// the extra variables `env`.
pub(crate) fn paas_at(dir: &Path, args: &[&str], env: &[(&str, &str)]) -> Run {
    let out = Command::new(env!("CARGO_BIN_EXE_paas"))
        .args(args)
        .current_dir(dir)
        .env_remove("PAAS_PLATFORM")
        .env("NO_COLOR", "1")
        .envs(env.iter().copied())
        .output()
        .unwrap();
    Run {
        code: out.status.code().unwrap_or(-1),
        stdout: String::from_utf8(out.stdout).unwrap(),
        stderr: String::from_utf8(out.stderr).unwrap(),
    }
}

/// Runs paas and snapshots exit code, stdout and stderr together.
fn check(name: &str, args: &[&str], expected_code: i32) -> Run {
    let run = paas(args);
    assert_eq!(
        run.code, expected_code,
        "{name}: stdout:\n{}\nstderr:\n{}",
        run.stdout, run.stderr
    );
    insta::assert_snapshot!(
        name,
        format!(
            "$ paas {}\nexit: {}\n--- stdout\n{}--- stderr\n{}",
            args.join(" "),
            run.code,
            run.stdout,
            run.stderr
        )
    );
    run
}

#[test]
fn render_the_seed_service() {
    let run = paas(&[
        "render",
        "-e",
        "prod",
        "--app",
        "fixtures/app-toml/ok/userinfo.toml",
        "--service",
        "userinfo",
        "--image-tag",
        "0123abc",
    ]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert!(run.stderr.is_empty(), "{}", run.stderr);
    assert!(
        run.stdout
            .starts_with("---\napiVersion: v1\nkind: Namespace\n")
    );
    assert!(run.stdout.contains("  replicas: 70\n"));
    assert!(
        run.stdout
            .contains("image: registry.paas.local/userinfo:0123abc\n")
    );
}

#[test]
fn default_tag_is_the_commit_or_dev() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("my-service");
    std::fs::create_dir(&dir).unwrap();
    let app = dir.join("app.toml");
    std::fs::write(&app, "replicas = 2\n[engine]\nname = \"golang\"\n").unwrap();
    // Outside a repository: tag `dev`; the service name is the directory's.
    let run = paas(&["render", "-e", "staging", "--app", app.to_str().unwrap()]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert!(
        run.stdout
            .contains("image: registry.paas.local/my-service:dev\n"),
        "{}",
        run.stdout
    );
    // Inside a repository: the short commit hash.
    std::fs::create_dir_all(tmp.path().join(".git/refs/heads")).unwrap();
    std::fs::write(tmp.path().join(".git/HEAD"), "ref: refs/heads/main\n").unwrap();
    std::fs::write(
        tmp.path().join(".git/refs/heads/main"),
        "89abcdef0123456789abcdef0123456789abcdef\n",
    )
    .unwrap();
    let run = paas(&[
        "render",
        "-e",
        "staging",
        "--app",
        app.to_str().unwrap(),
        "--service",
        "svc",
    ]);
    assert!(
        run.stdout
            .contains("image: registry.paas.local/svc:89abcde\n"),
        "{}",
        run.stdout
    );
}

#[test]
fn invalid_app_toml_exits_1_with_every_error() {
    check(
        "invalid-app",
        &[
            "render",
            "-e",
            "prod",
            "--app",
            "fixtures/app-toml/err/seed-typos.toml",
            "--service",
            "x",
            "--image-tag",
            "t1",
        ],
        1,
    );
}

#[test]
fn policy_violation_exits_1() {
    let dir = tempfile::tempdir().unwrap();
    let app = dir.path().join("app.toml");
    std::fs::write(&app, "name = \"tiny\"\n[engine]\nname = \"golang\"\n").unwrap();
    let run = paas(&[
        "render",
        "-e",
        "prod",
        "--app",
        app.to_str().unwrap(),
        "--image-tag",
        "latest",
    ]);
    assert_eq!(run.code, 1);
    assert!(run.stdout.is_empty());
    let stderr = run.stderr.replace(app.to_str().unwrap(), "APP");
    insta::assert_snapshot!("policy", stderr);
}

#[test]
fn usage_errors_exit_2() {
    check(
        "unknown-env",
        &[
            "render",
            "-e",
            "moon",
            "--app",
            "fixtures/app-toml/ok/userinfo.toml",
        ],
        2,
    );
    check(
        "missing-app",
        &["render", "-e", "prod", "--app", "does/not/exist.toml"],
        2,
    );
    check(
        "bad-version",
        &["render", "-e", "prod", "--version", "x3"],
        2,
    );
    check(
        "unknown-cluster",
        &[
            "render",
            "-e",
            "prod",
            "--cluster",
            "prod-z",
            "--app",
            "fixtures/app-toml/ok/userinfo.toml",
            "--image-tag",
            "t1",
        ],
        2,
    );
    let dir = tempfile::tempdir().unwrap();
    let platform = dir.path().join("platform.toml");
    std::fs::write(&platform, "version = 3\n").unwrap();
    let run = paas(&[
        "render",
        "-e",
        "prod",
        "--platform",
        platform.to_str().unwrap(),
    ]);
    assert_eq!(run.code, 2, "{}", run.stderr);
    assert!(run.stderr.contains("platform.toml"), "{}", run.stderr);
}

#[test]
fn explain_and_json() {
    let run = check(
        "explain",
        &[
            "render",
            "-e",
            "prod",
            "--app",
            "fixtures/app-toml/ok/wordcounter.toml",
            "--image-tag",
            "t1",
            "--explain",
        ],
        0,
    );
    assert!(run.stdout.contains("from app.toml [envs.prod] override"));
    let run = paas(&[
        "render",
        "-e",
        "local",
        "--app",
        "fixtures/app-toml/ok/wordcounter.toml",
        "--image-tag",
        "t1",
        "-o",
        "json",
    ]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    let v: serde_json::Value = serde_json::from_str(&run.stdout).unwrap();
    assert_eq!(v["stages"]["init"][0], "Namespace/wordcounter");
    assert_eq!(v["objects"][0]["kind"], "Namespace");
}

#[test]
fn schema_is_printed() {
    let run = paas(&["schema", "app-toml"]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    let v: serde_json::Value = serde_json::from_str(&run.stdout).unwrap();
    assert!(v["$schema"].as_str().unwrap().contains("json-schema.org"));
    let committed =
        std::fs::read_to_string(root().join("docs/schema/app-toml.schema.json")).unwrap();
    assert_eq!(
        run.stdout.trim_end(),
        committed.trim_end(),
        "docs/schema/app-toml.schema.json is stale"
    );
}

#[test]
fn completions() {
    let run = paas(&["completions", "bash"]);
    assert_eq!(run.code, 0);
    assert!(run.stdout.contains("paas"));
}

#[test]
fn crd_is_printed_as_yaml_and_json() {
    // The YAML is reviewed as a snapshot; the JSON must be the same object.
    let yaml = check("crd", &["crd"], 0);
    let json = paas(&["crd", "-o", "json"]);
    assert_eq!(json.code, 0, "{}", json.stderr);
    let from_json: serde_json::Value = serde_json::from_str(&json.stdout).unwrap();
    let from_yaml: serde_json::Value = serde_yaml::from_str(&yaml.stdout).unwrap();
    assert_eq!(from_json, from_yaml);
    assert_eq!(from_json["kind"], "CustomResourceDefinition");
    assert_eq!(from_json["metadata"]["name"], "releases.paas.io");
    let version = &from_json["spec"]["versions"][0];
    assert_eq!(version["name"], "v1");
    assert!(version["subresources"]["status"].is_object());
}

/// A service directory named `userinfo` (the fallback service name) with
/// the seed's app.toml.
pub(crate) fn userinfo_dir() -> (tempfile::TempDir, PathBuf) {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("userinfo");
    std::fs::create_dir(&dir).unwrap();
    std::fs::copy(
        root().join("fixtures/app-toml/ok/userinfo.toml"),
        dir.join("app.toml"),
    )
    .unwrap();
    (tmp, dir)
}

/// Runs paas in `dir` on the fast sim:// clusters, as user `tester`.
pub(crate) fn paas_sim(dir: &Path, args: &[&str]) -> Run {
    paas_at(
        dir,
        args,
        &[("PAAS_SIM_TIMING", "fast"), ("USER", "tester")],
    )
}

/// `status -o json`, per cluster: (serving, health).
pub(crate) fn cluster_status(dir: &Path) -> Vec<(String, String)> {
    let run = paas_sim(dir, &["service", "status", "-e", "local", "-o", "json"]);
    let status: serde_json::Value = serde_json::from_str(&run.stdout).unwrap();
    status["clusters"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| {
            (
                c["serving"].as_str().unwrap_or("-").to_owned(),
                c["health"].as_str().unwrap_or("").to_owned(),
            )
        })
        .collect()
}
