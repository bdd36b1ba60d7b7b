//! `paas service deploy|status|history` on the embedded `sim://` clusters
//! of the built-in `local` environment, in a temporary directory holding
//! the seed's app.toml (the state lands in `.paas/sim/` there).

use std::path::Path;
use std::process::Command;

use super::{Run, cluster_status, paas_sim as paas_in, root, userinfo_dir as service_dir};

/// Runs paas in `dir`, checks the exit code and snapshots stdout and the
/// deterministic part of stderr (from the first line starting with
/// `stderr_from`; progress lines of the
/// two clusters interleave in any order, so they are not snapshotted).
fn check(dir: &Path, name: &str, args: &[&str], expected_code: i32, stderr_from: &str) -> Run {
    let run = paas_in(dir, args);
    assert_eq!(
        run.code, expected_code,
        "{name}: stdout:\n{}\nstderr:\n{}",
        run.stdout, run.stderr
    );
    // From the first line that starts with `stderr_from`.
    let tail = if run.stderr.starts_with(stderr_from) {
        &run.stderr[..]
    } else {
        run.stderr
            .find(&format!("\n{stderr_from}"))
            .map_or("", |i| &run.stderr[i + 1..])
    };
    insta::with_settings!({filters => vec![
        (r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ", "[TIME]"),
        (r"in \d+\.\d s", "in [DURATION]"),
    ]}, {
        insta::assert_snapshot!(
            name,
            format!(
                "$ paas {}\nexit: {}\n--- stdout\n{}--- stderr (from {stderr_from:?})\n{tail}",
                args.join(" "),
                run.code,
                run.stdout,
            )
        );
    });
    run
}

fn deploy(dir: &Path, name: &str, tag: &str, code: i32) -> Run {
    check(dir, name, &deploy_args(tag), code, "error:")
}

#[test]
fn deploy_history_status_and_a_failed_pull_on_the_local_sim_clusters() {
    let (_tmp, dir) = service_dir();
    let run = deploy(&dir, "deploy_v1", "abc123", 0);
    assert!(
        run.stderr.contains("local-a      init         applying"),
        "{}",
        run.stderr
    );
    assert!(
        run.stderr
            .contains("local-b      balancing    traffic 100% to v1"),
        "{}",
        run.stderr
    );
    for name in ["local-a", "local-b"] {
        let path = dir.join(format!(".paas/sim/{name}.json"));
        assert!(path.is_file(), "{} saved", path.display());
    }
    deploy(&dir, "deploy_v2", "abc124", 0);
    let history = check(
        &dir,
        "history_v2_v1",
        &["service", "history", "-e", "local"],
        0,
        "error:",
    );
    let v2 = history.stdout.find("\nv2 ").unwrap();
    let v1 = history.stdout.find("\nv1 ").unwrap();
    assert!(v2 < v1, "newest first:\n{}", history.stdout);
    check(
        &dir,
        "status_v2",
        &["service", "status", "-e", "local"],
        0,
        "error:",
    );

    let run = deploy(
        &dir,
        "deploy_v3_fails_in_local_b",
        "fail-pull-in-local-b",
        1,
    );
    assert!(
        run.stderr.contains(
            "local-b      FAILED       Deployment userinfo/userinfo-v3: ImagePullBackOff"
        ),
        "{}",
        run.stderr
    );
    check(
        &dir,
        "status_after_failure",
        &["service", "status", "-e", "local"],
        0,
        "error:",
    );

    let before: Vec<Vec<u8>> = ["local-a", "local-b"]
        .iter()
        .map(|n| std::fs::read(dir.join(format!(".paas/sim/{n}.json"))).unwrap())
        .collect();
    check(
        &dir,
        "dry_run_v4",
        &[
            "service",
            "deploy",
            "-e",
            "local",
            "--dry-run",
            "--image-tag",
            "abc125",
        ],
        0,
        "error:",
    );
    let history = paas_in(&dir, &["service", "history", "-e", "local", "-o", "json"]);
    assert_eq!(history.code, 0, "{}", history.stderr);
    let list: serde_json::Value = serde_json::from_str(&history.stdout).unwrap();
    let versions: Vec<&str> = list
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["version"].as_str().unwrap())
        .collect();
    assert_eq!(versions, ["v3", "v2", "v1"], "the dry run made no release");
    let after: Vec<Vec<u8>> = ["local-a", "local-b"]
        .iter()
        .map(|n| std::fs::read(dir.join(format!(".paas/sim/{n}.json"))).unwrap())
        .collect();
    assert!(before == after, "the dry run changed the clusters' state");
}

#[test]
fn an_unknown_environment_is_a_usage_error_and_starts_nothing() {
    let (_tmp, dir) = service_dir();
    check(
        &dir,
        "unknown_env",
        &["service", "status", "-e", "nope"],
        2,
        "error:",
    );
    assert!(!dir.join(".paas").exists());
}

fn git(dir: &Path, args: &[&str]) {
    let status = Command::new("git")
        .args(["-c", "user.name=t", "-c", "user.email=t@example.com"])
        .args(args)
        .current_dir(dir)
        .output()
        .unwrap();
    assert!(status.status.success(), "git {args:?}: {status:?}");
}

#[test]
fn the_release_takes_its_commit_and_linked_tasks_from_the_repository() {
    let (_tmp, dir) = service_dir();
    git(&dir, &["init", "-q"]);
    git(&dir, &["add", "app.toml"]);
    git(
        &dir,
        &[
            "commit",
            "-q",
            "-m",
            "PAAS-42: userinfo serves v2 (see OPS-7)",
        ],
    );
    let run = paas_in(&dir, &["service", "deploy", "-e", "local", "-y"]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    let history = paas_in(&dir, &["service", "history", "-e", "local", "-o", "json"]);
    assert_eq!(history.code, 0, "{}", history.stderr);
    let list: serde_json::Value = serde_json::from_str(&history.stdout).unwrap();
    let release = &list[0];
    assert_eq!(
        release["linked_tasks"],
        serde_json::json!(["PAAS-42", "OPS-7"])
    );
    assert_eq!(release["releaser"], "tester");
    let commit = release["commit"].as_str().unwrap();
    assert_eq!(commit.len(), 7, "{release}");
    assert_eq!(
        release["image"], commit,
        "the default image tag is the commit"
    );
    let table = paas_in(&dir, &["service", "history", "-e", "local"]);
    assert!(table.stdout.contains("PAAS-42,OPS-7"), "{}", table.stdout);
}

#[test]
fn a_cluster_that_refuses_connections_exits_3_and_keeps_its_state() {
    let (_tmp, dir) = service_dir();
    let first = paas_in(&dir, &deploy_args("abc123"));
    assert_eq!(first.code, 0, "{}", first.stderr);
    // A fault kept with the state: local-b's port refuses connections.
    let path = dir.join(".paas/sim/local-b.json");
    let mut state: serde_json::Value =
        serde_json::from_slice(&std::fs::read(&path).unwrap()).unwrap();
    state["faults"]["reachability"] = serde_json::json!("refusing");
    std::fs::write(&path, serde_json::to_vec(&state).unwrap()).unwrap();
    let run = paas_in(&dir, &deploy_args("abc124"));
    assert_eq!(run.code, 3, "{}", run.stderr);
    assert!(run.stderr.contains("local-b"), "{}", run.stderr);
    let status = paas_in(&dir, &["service", "status", "-e", "local"]);
    assert_eq!(status.code, 3, "{}", status.stderr);
    let kept: serde_json::Value = serde_json::from_slice(&std::fs::read(&path).unwrap()).unwrap();
    assert_eq!(
        kept["faults"]["reachability"], "refusing",
        "saved back as it was"
    );
}

#[test]
fn ctrl_c_during_a_deploy_aborts_it_and_the_old_version_keeps_serving() {
    use std::io::{BufRead, BufReader};
    use std::process::Stdio;
    let (_tmp, dir) = service_dir();
    let first = paas_in(&dir, &deploy_args("abc123"));
    assert_eq!(first.code, 0, "{}", first.stderr);
    // `slow` pods take 5 s with the default timing: the interrupt lands
    // while the application stage waits, well before the point of no return.
    let mut child = Command::new(env!("CARGO_BIN_EXE_paas"))
        .args([
            "service",
            "deploy",
            "-e",
            "local",
            "-y",
            "--image-tag",
            "slow",
        ])
        .current_dir(&dir)
        .env_remove("PAAS_PLATFORM")
        .env_remove("PAAS_SIM_TIMING")
        .env("USER", "tester")
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut stderr = BufReader::new(child.stderr.take().unwrap());
    let mut seen = String::new();
    let mut line = String::new();
    while stderr.read_line(&mut line).unwrap() > 0 {
        seen.push_str(&line);
        if line.contains("application  applying") {
            break;
        }
        line.clear();
    }
    // The shell's builtin `kill`: no procps needed.
    let kill = Command::new("sh")
        .args(["-c", &format!("kill -INT {}", child.id())])
        .status()
        .unwrap();
    assert!(kill.success());
    let mut rest = String::new();
    std::io::Read::read_to_string(&mut stderr, &mut rest).unwrap();
    seen.push_str(&rest);
    let status = child.wait().unwrap();
    assert_eq!(status.code(), Some(1), "{seen}");
    assert!(seen.contains("interrupted: aborting v2"), "{seen}");
    assert!(seen.contains("aborted in"), "{seen}");
    let history = paas_in(&dir, &["service", "history", "-e", "local", "-o", "json"]);
    let list: serde_json::Value = serde_json::from_str(&history.stdout).unwrap();
    assert_eq!(list[0]["version"], "v2");
    assert_eq!(list[0]["status"], "aborted");
    let status = paas_in(&dir, &["service", "status", "-e", "local", "-o", "json"]);
    assert_eq!(status.code, 0, "{}", status.stdout);
    let status: serde_json::Value = serde_json::from_str(&status.stdout).unwrap();
    for c in status["clusters"].as_array().unwrap() {
        assert_eq!(c["serving"], "v1", "{c}");
        assert_eq!(c["health"], "healthy", "{c}");
    }
}

#[test]
fn an_invalid_app_toml_exits_1_before_any_cluster_starts() {
    let (_tmp, dir) = service_dir();
    std::fs::copy(
        root().join("fixtures/app-toml/err/seed-typos.toml"),
        dir.join("app.toml"),
    )
    .unwrap();
    let run = paas_in(&dir, &["service", "deploy", "-e", "local", "-y"]);
    assert_eq!(run.code, 1, "{}", run.stderr);
    assert!(run.stderr.contains("app.toml has"), "{}", run.stderr);
    assert!(!dir.join(".paas").exists(), "no cluster was started");
}

/// `service deploy -e local -y --image-tag TAG`.
fn deploy_args(tag: &str) -> [&str; 7] {
    ["service", "deploy", "-e", "local", "-y", "--image-tag", tag]
}

fn paas_ok(dir: &Path, args: &[&str]) -> Run {
    let run = paas_in(dir, args);
    assert_eq!(
        run.code,
        0,
        "paas {}:\nstdout:\n{}\nstderr:\n{}",
        args.join(" "),
        run.stdout,
        run.stderr
    );
    run
}

/// The newest release of `history -o json`: (version, kind, status).
fn latest(dir: &Path) -> (String, String, String) {
    let run = paas_ok(dir, &["service", "history", "-e", "local", "-o", "json"]);
    let list: serde_json::Value = serde_json::from_str(&run.stdout).unwrap();
    let r = &list[0];
    (
        r["version"].as_str().unwrap().to_owned(),
        r["kind"].as_str().unwrap().to_owned(),
        r["status"].as_str().unwrap().to_owned(),
    )
}

#[test]
fn a_canary_parks_at_its_weight_and_is_steered_by_canary_and_promote() {
    let (_tmp, dir) = service_dir();
    paas_ok(&dir, &deploy_args("abc123"));
    let run = check(
        &dir,
        "canary_v2_parks_at_5",
        &[
            "service",
            "deploy",
            "-e",
            "local",
            "-y",
            "--strategy",
            "canary",
            "--image-tag",
            "abc124",
        ],
        0,
        "error:",
    );
    assert!(
        run.stderr
            .contains("local-b      balancing    traffic 5% to v2"),
        "{}",
        run.stderr
    );
    assert_eq!(
        latest(&dir),
        ("v2".into(), "canary".into(), "running".into())
    );
    for (serving, health) in cluster_status(&dir) {
        assert_eq!(serving, "v1");
        assert_eq!(health, "v2 running at canary hold, v2 at 5%");
    }
    // No second release while the canary is in flight.
    let refused = paas_in(&dir, &deploy_args("abc125"));
    assert_eq!(refused.code, 1, "{}", refused.stderr);
    assert!(
        refused
            .stderr
            .contains("v2 is still in flight in local (canary hold, v2 at 5%)"),
        "{}",
        refused.stderr
    );
    check(
        &dir,
        "canary_v2_to_30",
        &["service", "canary", "-e", "local", "-p", "30"],
        0,
        "error:",
    );
    // Without -p: the next canary step above 30% (the default steps are 5, 25, 50).
    let next = paas_ok(&dir, &["service", "canary", "-e", "local"]);
    assert!(next.stdout.contains("v2 at 50%"), "{}", next.stdout);
    let next = paas_in(&dir, &["service", "canary", "-e", "local"]);
    assert_eq!(next.code, 1, "{}", next.stderr);
    assert!(
        next.stderr.contains("past its last canary step (50%)"),
        "{}",
        next.stderr
    );
    let done = paas_ok(&dir, &["service", "promote", "-e", "local"]);
    assert!(
        done.stdout.contains("v2 to local: succeeded"),
        "{}",
        done.stdout
    );
    assert!(
        done.stderr.contains("traffic 100% to v2"),
        "{}",
        done.stderr
    );
    assert_eq!(
        latest(&dir),
        ("v2".into(), "canary".into(), "succeeded".into())
    );
    for (serving, health) in cluster_status(&dir) {
        assert_eq!((serving.as_str(), health.as_str()), ("v2", "healthy"));
    }
    let nothing = paas_in(&dir, &["service", "promote", "-e", "local"]);
    assert_eq!(nothing.code, 1);
    assert!(
        nothing
            .stderr
            .contains("no release in flight in local: its latest release v2 is succeeded"),
        "{}",
        nothing.stderr
    );
}

#[test]
fn an_aborted_canary_leaves_the_old_version_serving() {
    let (_tmp, dir) = service_dir();
    paas_ok(&dir, &deploy_args("abc123"));
    paas_ok(
        &dir,
        &[
            "service",
            "deploy",
            "-e",
            "local",
            "-y",
            "--strategy",
            "canary",
            "--image-tag",
            "abc124",
        ],
    );
    let run = paas_ok(&dir, &["service", "abort", "-e", "local"]);
    assert!(
        run.stdout.contains("v2 to local: aborted"),
        "{}",
        run.stdout
    );
    assert!(
        run.stdout.contains("v2 removed; v1 still serves"),
        "{}",
        run.stdout
    );
    assert_eq!(
        latest(&dir),
        ("v2".into(), "canary".into(), "aborted".into())
    );
    for (serving, health) in cluster_status(&dir) {
        assert_eq!((serving.as_str(), health.as_str()), ("v1", "healthy"));
    }
    // A weight for a release that is not in flight is refused.
    let refused = paas_in(&dir, &["service", "canary", "-e", "local", "-p", "10"]);
    assert_eq!(refused.code, 1, "{}", refused.stderr);
}

#[test]
fn a_blue_green_gate_without_a_terminal_parks_until_promoted() {
    let (_tmp, dir) = service_dir();
    paas_ok(&dir, &deploy_args("abc123"));
    let run = paas_in(
        &dir,
        &[
            "service",
            "deploy",
            "-e",
            "local",
            "--strategy",
            "blue-green",
            "--image-tag",
            "abc124",
        ],
    );
    assert_eq!(run.code, 1, "{}", run.stderr);
    assert!(
        run.stderr
            .contains("not complete: userinfo v2 to local: parked in "),
        "{}",
        run.stderr
    );
    assert!(
        run.stderr.contains("waits at gate after application"),
        "{}",
        run.stderr
    );
    assert!(
        run.stderr.contains("next: `paas service promote -e local`"),
        "{}",
        run.stderr
    );
    // Nothing switched: v1 serves, v2 runs beside it.
    assert_eq!(
        latest(&dir),
        ("v2".into(), "deploy".into(), "running".into())
    );
    let done = paas_ok(&dir, &["service", "promote", "-e", "local"]);
    assert!(
        done.stdout.contains("v2 to local: succeeded"),
        "{}",
        done.stdout
    );
    for (serving, health) in cluster_status(&dir) {
        assert_eq!((serving.as_str(), health.as_str()), ("v2", "healthy"));
    }
}

#[test]
fn rollback_regenerates_the_previous_release_as_a_new_one() {
    let (_tmp, dir) = service_dir();
    paas_ok(&dir, &deploy_args("abc123"));
    // v2 changes app.toml too: the rollback shows the difference.
    let app = dir.join("app.toml");
    let text = std::fs::read_to_string(&app).unwrap();
    std::fs::write(&app, text.replace("replicas = 1", "replicas = 2")).unwrap();
    paas_ok(&dir, &deploy_args("abc124"));
    let bad = paas_in(
        &dir,
        &["service", "rollback", "-e", "local", "-y", "--to", "v9"],
    );
    assert_eq!(bad.code, 2, "{}", bad.stderr);
    assert!(
        bad.stderr.contains("cannot roll back to v9: userinfo has no release v9 in local\nhelp: releases to roll back to: v1"),
        "{}",
        bad.stderr
    );
    let run = paas_ok(&dir, &["service", "rollback", "-e", "local", "-y"]);
    // What was listed and shown, up to the first progress line (the two
    // clusters' lines interleave in any order).
    let shown = run.stderr.split("\nlocal-a ").next().unwrap_or_default();
    insta::with_settings!({filters => vec![
        (r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ", "[TIME]"),
        (r"in \d+\.\d s", "in [DURATION]"),
    ]}, {
        insta::assert_snapshot!("rollback_v3_to_v1", format!("{shown}\n--- stdout\n{}", run.stdout));
    });
    assert!(
        run.stderr.contains("image: abc124 -> abc123"),
        "{}",
        run.stderr
    );
    assert!(
        run.stderr.contains("-replicas = 2\n+replicas = 1"),
        "{}",
        run.stderr
    );
    assert_eq!(
        latest(&dir),
        ("v3".into(), "rollback".into(), "succeeded".into())
    );
    for (serving, health) in cluster_status(&dir) {
        assert_eq!((serving.as_str(), health.as_str()), ("v3", "healthy"));
    }
    // Replaying v2's stored manifests serves v2's own objects again.
    let run = paas_ok(
        &dir,
        &[
            "service",
            "rollback",
            "-e",
            "local",
            "-y",
            "--to",
            "v2",
            "--no-regenerate",
        ],
    );
    assert!(
        run.stderr.contains("stored manifests replayed"),
        "{}",
        run.stderr
    );
    assert_eq!(
        latest(&dir),
        ("v4".into(), "rollback".into(), "succeeded".into())
    );
    for (serving, health) in cluster_status(&dir) {
        assert_eq!((serving.as_str(), health.as_str()), ("v2", "healthy"));
    }
}

#[test]
fn diff_shows_what_a_deploy_would_change_object_by_object() {
    let (_tmp, dir) = service_dir();
    let none = paas_in(
        &dir,
        &["service", "diff", "-e", "local", "--image-tag", "abc123"],
    );
    assert_eq!(
        none.code, 1,
        "nothing deployed: everything is new\n{}",
        none.stderr
    );
    assert!(
        none.stdout.contains("local-a (nothing deployed): "),
        "{}",
        none.stdout
    );
    paas_ok(&dir, &deploy_args("abc123"));
    let same = paas_ok(
        &dir,
        &["service", "diff", "-e", "local", "--image-tag", "abc123"],
    );
    assert_eq!(
        same.stdout,
        "local-a (against v1): 0 new, 0 changed, 0 removed\nlocal-b (against v1): 0 new, 0 changed, 0 removed\n"
    );
    let app = dir.join("app.toml");
    let text = std::fs::read_to_string(&app).unwrap();
    std::fs::write(&app, text.replace("replicas = 1", "replicas = 3")).unwrap();
    check(
        &dir,
        "diff_replicas",
        &["service", "diff", "-e", "local", "--image-tag", "abc123"],
        1,
        "",
    );
}

#[test]
fn sync_rebuilds_a_wiped_sim_cluster_from_its_peer() {
    let (_tmp, dir) = service_dir();
    paas_ok(&dir, &deploy_args("abc123"));
    paas_ok(&dir, &deploy_args("abc124"));
    let idle = paas_ok(&dir, &["sync", "-e", "local"]);
    assert_eq!(
        idle.stdout,
        "userinfo v2: in sync\n0 of 0 actions done; in sync\n"
    );
    // local-b loses everything: its state file is gone, it starts empty.
    std::fs::remove_file(dir.join(".paas/sim/local-b.json")).unwrap();
    let status = paas_in(&dir, &["service", "status", "-e", "local"]);
    assert_eq!(status.code, 1, "{}", status.stdout);
    let before = std::fs::read(dir.join(".paas/sim/local-a.json")).unwrap();
    let dry = paas_ok(&dir, &["sync", "-e", "local", "--dry-run"]);
    assert!(
        dry.stdout
            .starts_with("dry run: nothing changed\nuserinfo v2: repair\n"),
        "{}",
        dry.stdout
    );
    assert!(dry.stdout.contains("local-b"), "{}", dry.stdout);
    assert!(
        !dry.stdout.contains("local-a:"),
        "only local-b is repaired\n{}",
        dry.stdout
    );
    assert_eq!(
        before,
        std::fs::read(dir.join(".paas/sim/local-a.json")).unwrap()
    );
    let run = paas_ok(&dir, &["sync", "-e", "local"]);
    assert!(
        run.stdout.ends_with("actions done; in sync\n"),
        "{}",
        run.stdout
    );
    for (serving, health) in cluster_status(&dir) {
        assert_eq!((serving.as_str(), health.as_str()), ("v2", "healthy"));
    }
    // The history came back with it.
    let history = paas_ok(&dir, &["service", "history", "-e", "local", "-o", "json"]);
    let list: serde_json::Value = serde_json::from_str(&history.stdout).unwrap();
    assert_eq!(list.as_array().unwrap().len(), 2);
    let idle = paas_ok(&dir, &["sync", "-e", "local"]);
    assert!(
        idle.stdout.ends_with("0 of 0 actions done; in sync\n"),
        "{}",
        idle.stdout
    );
}
