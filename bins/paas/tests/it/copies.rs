//! Test copies (`paas service deploy --test-copy ID`, `paas service
//! delete-copy`) on the `sim://` clusters of the built-in `local`
//! environment: the copy's objects and route exist in both clusters, the
//! releases do not see it (status, history, a new version's cleanup), it is
//! removed on request and when it expired.

use std::path::Path;

use serde_json::Value;

use super::{Run, cluster_status as status, paas_sim, userinfo_dir as service_dir};

const CLUSTERS: [&str; 2] = ["local-a", "local-b"];

fn run(dir: &Path, args: &[&str], code: i32) -> Run {
    let run = paas_sim(dir, args);
    assert_eq!(
        run.code,
        code,
        "paas {}: stdout:\n{}\nstderr:\n{}",
        args.join(" "),
        run.stdout,
        run.stderr
    );
    run
}

fn state(dir: &Path, cluster: &str) -> Value {
    let path = dir.join(format!(".paas/sim/{cluster}.json"));
    serde_json::from_slice(&std::fs::read(path).unwrap()).unwrap()
}

/// The object `name` of the resource path (`apps/v1/deployments`) in the
/// service's namespace, if the cluster holds it.
fn object(dir: &Path, cluster: &str, resource: &str, name: &str) -> Option<Value> {
    state(dir, cluster)["objects"][resource]["userinfo"]
        .get(name)
        .cloned()
}

fn deployments(dir: &Path, cluster: &str) -> Vec<String> {
    let mut names: Vec<String> = state(dir, cluster)["objects"]["apps/v1/deployments"]["userinfo"]
        .as_object()
        .map(|m| m.keys().cloned().collect())
        .unwrap_or_default();
    names.sort();
    names
}

/// The versions of `history -o json`, newest first.
fn history(dir: &Path) -> Vec<String> {
    let run = run(dir, &["service", "history", "-e", "local", "-o", "json"], 0);
    let list: Value = serde_json::from_str(&run.stdout).unwrap();
    list.as_array()
        .unwrap()
        .iter()
        .map(|r| r["version"].as_str().unwrap().to_owned())
        .collect()
}

fn healthy(version: &str) -> Vec<(String, String)> {
    vec![(version.to_owned(), "healthy".to_owned()); 2]
}

fn deploy_copy(dir: &Path, id: &str, extra: &[&str]) -> Run {
    let mut args = vec![
        "service",
        "deploy",
        "-e",
        "local",
        "-y",
        "--image-tag",
        "c0ffee",
        "--test-copy",
        id,
    ];
    args.extend_from_slice(extra);
    run(dir, &args, 0)
}

#[test]
fn a_test_copy_beside_the_releases_on_the_local_sim_clusters() {
    let (_tmp, dir) = service_dir();
    // A copy needs the service's namespace.
    let first = run(
        &dir,
        &[
            "service",
            "deploy",
            "-e",
            "local",
            "-y",
            "--test-copy",
            "pr-1",
        ],
        1,
    );
    assert!(
        first.stderr.contains("deploy the service first"),
        "{}",
        first.stderr
    );

    run(
        &dir,
        &[
            "service",
            "deploy",
            "-e",
            "local",
            "-y",
            "--image-tag",
            "abc1",
        ],
        0,
    );
    let out = deploy_copy(&dir, "pr-1", &[]);
    assert!(
        out.stdout
            .contains("test copy userinfo-pr-1 (image c0ffee) is ready in local-a, local-b"),
        "{}",
        out.stdout
    );
    assert!(out.stdout.contains("`X-Route: pr-1`"), "{}", out.stdout);
    for cluster in CLUSTERS {
        let deployment = object(&dir, cluster, "apps/v1/deployments", "userinfo-pr-1")
            .unwrap_or_else(|| panic!("no copy Deployment in {cluster}"));
        let labels = &deployment["metadata"]["labels"];
        assert_eq!(labels["paas.io/test-copy"], "pr-1");
        assert!(labels.get("paas.io/release").is_none(), "{labels}");
        assert!(
            deployment["metadata"]["annotations"]["paas.io/expires-at"]
                .as_str()
                .is_some_and(|t| t.ends_with('Z'))
        );
        assert_eq!(
            deployment["spec"]["template"]["spec"]["containers"][0]["image"],
            "registry.paas.local/userinfo:c0ffee"
        );
        let route = object(
            &dir,
            cluster,
            "gateway.networking.k8s.io/v1/httproutes",
            "userinfo-pr-1",
        )
        .unwrap_or_else(|| panic!("no copy HTTPRoute in {cluster}"));
        let rule = &route["spec"]["rules"][0];
        assert_eq!(
            rule["matches"][0]["headers"][0],
            serde_json::json!({"type": "Exact", "name": "X-Route", "value": "pr-1"})
        );
        assert_eq!(
            rule["matches"][1]["headers"][0]["type"],
            "RegularExpression"
        );
        assert_eq!(
            rule["matches"][1]["headers"][0]["value"],
            "^(.*,)? *userinfo=pr-1 *(,.*)?$"
        );
        assert_eq!(rule["backendRefs"][0]["name"], "userinfo-pr-1");
        assert_eq!(route["spec"]["parentRefs"][0]["name"], "userinfo");
        assert!(object(&dir, cluster, "/v1/services", "userinfo-pr-1").is_some());
        assert!(object(&dir, cluster, "/v1/configmaps", "userinfo-pr-1-env").is_some());
    }
    // The releases do not see it: still v1, healthy; no new record; sync
    // has nothing to do and keeps it.
    assert_eq!(status(&dir), healthy("v1"));
    assert_eq!(history(&dir), ["v1"]);
    let sync = run(&dir, &["sync", "-e", "local"], 0);
    assert!(sync.stdout.contains("in sync"), "{}", sync.stdout);
    assert!(object(&dir, "local-a", "apps/v1/deployments", "userinfo-pr-1").is_some());

    // v2 deploys normally; its cleanup of v1 leaves the copy alone.
    run(
        &dir,
        &[
            "service",
            "deploy",
            "-e",
            "local",
            "-y",
            "--image-tag",
            "abc2",
        ],
        0,
    );
    assert_eq!(status(&dir), healthy("v2"));
    assert_eq!(history(&dir), ["v2", "v1"]);
    for cluster in CLUSTERS {
        assert_eq!(
            deployments(&dir, cluster),
            ["userinfo-pr-1", "userinfo-v2"],
            "{cluster}"
        );
        assert!(
            object(
                &dir,
                cluster,
                "gateway.networking.k8s.io/v1/httproutes",
                "userinfo-pr-1"
            )
            .is_some()
        );
    }

    // delete-copy removes it, and is idempotent.
    let removed = run(&dir, &["service", "delete-copy", "-e", "local", "pr-1"], 0);
    assert!(
        removed.stdout.contains(
            "removed test copy userinfo-pr-1 (4 objects in local-a, 4 objects in local-b)"
        ),
        "{}",
        removed.stdout
    );
    for cluster in CLUSTERS {
        assert_eq!(deployments(&dir, cluster), ["userinfo-v2"], "{cluster}");
        assert!(
            object(
                &dir,
                cluster,
                "gateway.networking.k8s.io/v1/httproutes",
                "userinfo-pr-1"
            )
            .is_none()
        );
        assert!(object(&dir, cluster, "/v1/services", "userinfo-pr-1").is_none());
        assert!(object(&dir, cluster, "/v1/configmaps", "userinfo-pr-1-env").is_none());
    }
    let again = run(&dir, &["service", "delete-copy", "-e", "local", "pr-1"], 0);
    assert!(
        again.stdout.contains("no test copy userinfo-pr-1 in local"),
        "{}",
        again.stdout
    );
    assert_eq!(status(&dir), healthy("v2"));

    // An expired copy goes at the next `paas sync`.
    deploy_copy(&dir, "old", &["--ttl", "2h"]);
    deploy_copy(&dir, "fresh", &[]);
    for cluster in CLUSTERS {
        let path = dir.join(format!(".paas/sim/{cluster}.json"));
        let mut s = state(&dir, cluster);
        s["objects"]["apps/v1/deployments"]["userinfo"]["userinfo-old"]["metadata"]["annotations"]
            ["paas.io/expires-at"] = Value::from("2020-01-01T00:00:00Z");
        std::fs::write(&path, serde_json::to_vec(&s).unwrap()).unwrap();
    }
    let dry = run(&dir, &["sync", "-e", "local", "--dry-run"], 0);
    assert!(
        dry.stdout
            .contains("would remove the expired test copy userinfo-old in local-a"),
        "{}",
        dry.stdout
    );
    assert!(object(&dir, "local-a", "apps/v1/deployments", "userinfo-old").is_some());
    let sync = run(&dir, &["sync", "-e", "local"], 0);
    for cluster in CLUSTERS {
        assert!(
            sync.stdout.contains(&format!(
                "removed the expired test copy userinfo-old in {cluster}"
            )),
            "{}",
            sync.stdout
        );
        assert_eq!(
            deployments(&dir, cluster),
            ["userinfo-fresh", "userinfo-v2"],
            "{cluster}"
        );
        assert!(
            object(
                &dir,
                cluster,
                "gateway.networking.k8s.io/v1/httproutes",
                "userinfo-old"
            )
            .is_none()
        );
    }
    assert_eq!(status(&dir), healthy("v2"));
    assert_eq!(history(&dir), ["v2", "v1"]);
}

#[test]
fn test_copies_are_refused_in_prod_and_with_a_bad_id_or_ttl() {
    let (_tmp, dir) = service_dir();
    let prod = run(
        &dir,
        &[
            "service",
            "deploy",
            "-e",
            "prod",
            "-y",
            "--test-copy",
            "pr-1",
        ],
        2,
    );
    assert!(
        prod.stderr
            .contains("error: test copies are not allowed in environment `prod`"),
        "{}",
        prod.stderr
    );
    for (id, message) in [
        ("PR_1", "is not a DNS label"),
        ("v7", "looks like a release version"),
    ] {
        let bad = run(
            &dir,
            &["service", "deploy", "-e", "local", "-y", "--test-copy", id],
            2,
        );
        assert!(bad.stderr.contains(message), "{id}: {}", bad.stderr);
        let bad = run(&dir, &["service", "delete-copy", "-e", "local", id], 2);
        assert!(bad.stderr.contains(message), "{id}: {}", bad.stderr);
    }
    let ttl = run(
        &dir,
        &[
            "service",
            "deploy",
            "-e",
            "local",
            "-y",
            "--test-copy",
            "pr-1",
            "--ttl",
            "soon",
        ],
        2,
    );
    assert!(ttl.stderr.contains("invalid TTL `soon`"), "{}", ttl.stderr);
    // Not a release: no strategy or manual gates.
    run(
        &dir,
        &[
            "service",
            "deploy",
            "-e",
            "local",
            "--test-copy",
            "pr-1",
            "--strategy",
            "canary",
        ],
        2,
    );
}
