//! `paas resources recommend`, and the recommendations file that `paas
//! render` and `paas service deploy|diff` read beside app.toml.

use std::path::{Path, PathBuf};

use super::{Run, paas_at, root};

fn fixture(file: &str) -> PathBuf {
    root().join("fixtures/resources/checkout").join(file)
}

/// A directory `checkout` holding the fixture's app.toml and usage files
/// (and no recommendations file yet).
fn service_dir() -> (tempfile::TempDir, PathBuf) {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("checkout");
    std::fs::create_dir(&dir).unwrap();
    for f in ["app.toml", "usage.csv", "usage.json"] {
        std::fs::copy(fixture(f), dir.join(f)).unwrap();
    }
    (tmp, dir)
}

fn snapshot(name: &str, args: &[&str], run: &Run) {
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
}

#[test]
fn recommend_prints_current_against_recommended_and_writes_the_file() {
    let (_tmp, dir) = service_dir();
    let args = ["resources", "recommend", "--usage", "usage.csv"];
    let run = paas_at(&dir, &args, &[]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    snapshot("recommend_checkout", &args, &run);
    // The committed fixture is what the command writes from its usage.
    let written = std::fs::read_to_string(dir.join("resources.toml")).unwrap();
    assert_eq!(
        written,
        std::fs::read_to_string(fixture("resources.toml")).unwrap(),
        "fixtures/resources/checkout/resources.toml is stale: run `paas resources recommend --usage usage.csv` there"
    );
    // No temporary file is left beside it.
    let mut names: Vec<_> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .collect();
    names.sort();
    assert_eq!(
        names,
        ["app.toml", "resources.toml", "usage.csv", "usage.json"]
    );
}

#[test]
fn recommend_from_prometheus_json_writes_the_same_file() {
    let (_tmp, dir) = service_dir();
    let run = paas_at(
        &dir,
        &[
            "resources",
            "recommend",
            "--usage",
            "usage.json",
            "--out",
            "from-json.toml",
            "-o",
            "json",
        ],
        &[],
    );
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert_eq!(
        std::fs::read_to_string(dir.join("from-json.toml")).unwrap(),
        std::fs::read_to_string(fixture("resources.toml")).unwrap()
    );
    assert!(!dir.join("resources.toml").exists());
    let v: serde_json::Value = serde_json::from_str(&run.stdout).unwrap();
    assert_eq!(v["service"], "checkout");
    assert_eq!(v["environment"], "prod");
    assert_eq!(v["file"], "from-json.toml");
    assert_eq!(v["ignored"], serde_json::json!(["mesh-proxy"]));
    let app = &v["containers"][0];
    assert_eq!(app["name"], "app");
    assert_eq!(app["size"], "small");
    assert_eq!(app["current"]["cpu"], "100m");
    assert_eq!(app["recommended"]["cpu"], "315m");
    assert_eq!(app["recommended"]["netutil"], 49);
    assert_eq!(app["basis"]["memory"]["samples"], 144);
    assert_eq!(app["basis"]["memory"]["unit"], "bytes");
    let mailer = &v["containers"][1];
    assert_eq!(mailer["name"], "process-mailer");
    assert_eq!(mailer["recommended"]["cpu"], serde_json::Value::Null);
    assert_eq!(mailer["basis"]["cpu"]["insufficient"], true);
}

#[test]
fn recommend_refuses_usage_of_nothing_it_knows() {
    let (_tmp, dir) = service_dir();
    std::fs::write(
        dir.join("other.csv"),
        "timestamp,container,cpu_cores\n1,mesh-proxy,0.1\n",
    )
    .unwrap();
    let args = ["resources", "recommend", "--usage", "other.csv"];
    let run = paas_at(&dir, &args, &[]);
    assert_eq!(run.code, 1);
    snapshot("recommend_no_usage", &args, &run);
    assert!(!dir.join("resources.toml").exists());

    std::fs::write(dir.join("bad.csv"), "timestamp,container,cpu\n1,app\n").unwrap();
    let args = ["resources", "recommend", "--usage", "bad.csv"];
    let run = paas_at(&dir, &args, &[]);
    assert_eq!(run.code, 1);
    assert_eq!(
        run.stderr,
        "error: bad.csv: line 2: 2 fields, but the header has 3\n"
    );
    let run = paas_at(
        &dir,
        &["resources", "recommend", "--usage", "nope.csv"],
        &[],
    );
    assert_eq!(run.code, 2);
    assert!(
        run.stderr
            .starts_with("error: cannot read the usage nope.csv: "),
        "{}",
        run.stderr
    );
    let run = paas_at(
        &dir,
        &[
            "resources",
            "recommend",
            "--usage",
            "usage.csv",
            "-e",
            "moon",
        ],
        &[],
    );
    assert_eq!(run.code, 2);
    assert!(run.stderr.contains("unknown environment `moon`"));
}

#[test]
fn render_explains_the_recommendations_beside_app_toml() {
    let args = [
        "render",
        "-e",
        "prod",
        "--app",
        "fixtures/resources/checkout/app.toml",
        "--image-tag",
        "t1",
        "--explain",
    ];
    let run = paas_at(&root(), &args, &[]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    // The resources lines of each object (the rest is what it is without
    // recommendations).
    let lines: Vec<&str> = run.stdout.lines().collect();
    let mut resources = String::new();
    let mut object = "";
    for (i, line) in lines.iter().enumerate() {
        if !line.starts_with(' ') {
            object = line;
        } else if line.contains(".resources.") {
            resources.push_str(&format!("{object} {}\n{}\n", line.trim(), lines[i + 1]));
        }
    }
    snapshot(
        "render_explain_recommendations",
        &args,
        &Run {
            code: run.code,
            stdout: resources,
            stderr: run.stderr,
        },
    );
}

fn render(dir: &Path, args: &[&str]) -> Run {
    let mut all = vec!["render", "-e", "prod", "--image-tag", "t1"];
    all.extend_from_slice(args);
    paas_at(dir, &all, &[])
}

#[test]
fn render_takes_a_recommendations_file_by_flag() {
    let (_tmp, dir) = service_dir();
    // Without a file: the presets.
    let plain = render(&dir, &[]);
    assert_eq!(plain.code, 0, "{}", plain.stderr);
    assert!(!plain.stdout.contains("315m"));
    // --recommendations FILE.
    std::fs::copy(fixture("resources.toml"), dir.join("sizes.toml")).unwrap();
    let flagged = render(&dir, &["--recommendations", "sizes.toml"]);
    assert_eq!(flagged.code, 0, "{}", flagged.stderr);
    assert!(flagged.stdout.contains("            cpu: \"315m\"\n"));
    // Beside app.toml: the same manifests.
    std::fs::copy(fixture("resources.toml"), dir.join("resources.toml")).unwrap();
    let beside = render(&dir, &[]);
    assert_eq!(beside.stdout, flagged.stdout);
    // The flag wins over the file beside.
    std::fs::write(dir.join("small.toml"), "[containers.app]\ncpu = \"20m\"\n").unwrap();
    let small = render(&dir, &["--recommendations", "small.toml"]);
    assert!(small.stdout.contains("            cpu: \"20m\"\n"));
    assert!(!small.stdout.contains("315m"));

    let missing = render(&dir, &["--recommendations", "nope.toml"]);
    assert_eq!(missing.code, 2);
    assert!(
        missing
            .stderr
            .starts_with("error: cannot read the recommendations nope.toml: "),
        "{}",
        missing.stderr
    );
    std::fs::write(
        dir.join("bad.toml"),
        "[containers.app]\ncpu = \"500m\"\ncpu_limit = \"100m\"\n",
    )
    .unwrap();
    let bad = render(&dir, &["--recommendations", "bad.toml"]);
    assert_eq!(bad.code, 1);
    assert_eq!(
        bad.stderr,
        "error: bad.toml: `containers.app.cpu_limit` (100m) is below `cpu` (500m)\n"
    );
    std::fs::write(
        dir.join("other.toml"),
        "service = \"billing\"\n[containers.app]\ncpu = \"1\"\n",
    )
    .unwrap();
    let other = render(&dir, &["--recommendations", "other.toml"]);
    assert_eq!(other.code, 2);
    assert_eq!(
        other.stderr,
        "error: other.toml holds the recommendations of `billing`, not of `checkout`\n"
    );
}

#[test]
fn deploy_and_diff_use_the_recommendations_beside_app_toml() {
    let (_tmp, dir) = service_dir();
    std::fs::copy(fixture("resources.toml"), dir.join("resources.toml")).unwrap();
    let env = [("PAAS_SIM_TIMING", "fast"), ("USER", "tester")];
    let run = paas_at(
        &dir,
        &[
            "service",
            "deploy",
            "-e",
            "local",
            "-y",
            "--image-tag",
            "abc123",
        ],
        &env,
    );
    assert_eq!(run.code, 0, "{}", run.stderr);
    for cluster in ["local-a", "local-b"] {
        let state = std::fs::read_to_string(dir.join(format!(".paas/sim/{cluster}.json"))).unwrap();
        assert!(state.contains("\"315m\""), "{cluster}: no recommended cpu");
        assert!(
            state.contains("\"292Mi\""),
            "{cluster}: no recommended memory"
        );
    }
    // Nothing to change; then a new recommendation is a change.
    let diff = paas_at(
        &dir,
        &["service", "diff", "-e", "local", "--image-tag", "abc123"],
        &env,
    );
    assert_eq!(diff.code, 0, "{}\n{}", diff.stdout, diff.stderr);
    let text = std::fs::read_to_string(dir.join("resources.toml"))
        .unwrap()
        .replace("cpu = \"315m\"", "cpu = \"400m\"")
        .replace("cpu_limit = \"630m\"", "cpu_limit = \"800m\"");
    std::fs::write(dir.join("resources.toml"), text).unwrap();
    let diff = paas_at(
        &dir,
        &["service", "diff", "-e", "local", "--image-tag", "abc123"],
        &env,
    );
    assert_eq!(diff.code, 1, "{}\n{}", diff.stdout, diff.stderr);
    assert!(diff.stdout.contains("400m"), "{}", diff.stdout);
}
