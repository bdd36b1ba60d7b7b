//! The impact report over the repository's fixtures: `fixtures/app-toml/ok/`
//! rendered with `fixtures/platform/base.toml` and `head.toml`.

use std::process::Command;

use helmgen::impact::{self, Format};
use platform_config::Platform;

use crate::{TODAY, repo};

fn platform(name: &str) -> Platform {
    let path = repo().join("fixtures/platform").join(name);
    Platform::from_toml(&std::fs::read_to_string(&path).unwrap(), name).unwrap()
}

/// The base fixture config with `edit` applied to its text.
fn edited(edit: impl Fn(String) -> String) -> Platform {
    let text = std::fs::read_to_string(repo().join("fixtures/platform/base.toml")).unwrap();
    let text = edit(text);
    Platform::from_toml(&text, "edited.toml").unwrap()
}

fn corpus_report(corpus: &str, base: &Platform, head: &Platform) -> impact::Report {
    let corpus = impact::load_corpus(&repo().join(corpus)).unwrap();
    impact::analyse(&corpus, base, head, TODAY)
}

/// A new environment where the head fails is a new failure, even though the
/// base could not render it at all.
#[test]
fn a_failure_in_a_new_environment_is_a_new_failure() {
    let head = edited(|t| {
        t + "\n[environments.qa]\nclusters = [{ name = \"qa-a\", address = \"context:qa-a\" }]\n\
             dependencies = \"cluster-dns\"\nmin_replicas = 500\n"
    });
    let r = corpus_report("fixtures/app-toml/ok", &platform("base.toml"), &head);
    assert!(r.summary.new_failures >= 4, "{:?}", r.summary);
    let text = r.render(Format::Text);
    assert!(
        text.contains("RENDER FAILURE with the head config"),
        "{text}"
    );
    assert!(r.render(Format::Markdown).contains("**render failure**"));
}

/// Failing under both configs with the same kind of error is no change, but
/// is listed; an environment removed wholesale is reported as such, not as
/// every one of its objects removed (and no NetworkPolicy "regression").
#[test]
fn failing_with_both_is_listed_not_counted() {
    let base = platform("base.toml");
    let r = corpus_report("fixtures/app-toml/err", &base, &platform("head.toml"));
    for svc in &r.services {
        for env in &svc.environments {
            assert!(
                !(env.fails_with_both()
                    && matches!((&env.base, &env.head),
                        (impact::Outcome::Failed { kind: a, .. }, impact::Outcome::Failed { kind: b, .. }) if a == b)),
                "{} {}: {env:?}",
                svc.service,
                env.environment
            );
        }
    }
    assert!(!r.failing.is_empty());
    assert_eq!(r.failing.len(), r.summary.failing_with_both);
    let text = r.render(Format::Text);
    assert!(text.contains("failing with both configs"), "{text}");
    assert!(
        r.render(Format::Markdown)
            .contains("### Failing with both configs")
    );
}

#[test]
fn an_environment_removed_is_not_its_objects_removed() {
    let head = edited(|t| {
        t.replace(
            "[environments.dev]\nclusters = [{ name = \"dev-a\", address = \"context:dev-a\" }]\ndependencies = \"cluster-dns\"\n",
            "",
        )
    });
    let r = corpus_report("fixtures/app-toml/ok", &platform("base.toml"), &head);
    assert!(r.is_changed());
    assert_eq!(r.summary.security_regressions, 0, "{:?}", r.summary);
    assert_eq!(r.summary.objects_removed, 0, "{:?}", r.summary);
    let dev = r.services[0]
        .environments
        .iter()
        .find(|e| e.environment == "dev")
        .unwrap();
    assert_eq!(dev.head, impact::Outcome::Absent);
    assert!(r.render(Format::Text).contains("head: no such environment"));
}

/// Letting one more namespace in widens every service's NetworkPolicy.
#[test]
fn a_wider_network_policy_is_a_regression() {
    let head = edited(|t| {
        t.replace(
            "ingress_namespaces = [\"ingress-nginx\", \"paas-mesh\"]",
            "ingress_namespaces = [\"ingress-nginx\", \"paas-mesh\", \"default\"]",
        )
    });
    let r = corpus_report("fixtures/app-toml/ok", &platform("base.toml"), &head);
    let flagged: Vec<_> = r
        .services
        .iter()
        .flat_map(|s| &s.environments)
        .flat_map(|e| &e.security)
        .filter(|f| f.path == "spec.ingress" && f.object.starts_with("NetworkPolicy/"))
        .collect();
    assert!(!flagged.is_empty(), "{:?}", r.summary);
    assert!(flagged[0].message.contains("default"), "{flagged:?}");
}

fn report(base: &str, head: &str) -> impact::Report {
    let corpus = impact::load_corpus(&repo().join("fixtures/app-toml/ok")).unwrap();
    impact::analyse(&corpus, &platform(base), &platform(head), TODAY)
}

#[test]
fn same_config_changes_nothing() {
    let r = report("base.toml", "base.toml");
    assert!(!r.is_changed());
    assert_eq!(r.summary.services_changed, 0);
    assert!(r.summary.renders > 0);
}

#[test]
fn head_report_text() {
    let r = report("base.toml", "head.toml");
    assert!(r.is_changed());
    // The head removes a size preset, drops CPU limits and adds a label:
    // every class of finding must show up.
    assert!(r.summary.new_failures > 0);
    assert!(r.summary.security_regressions > 0);
    assert!(r.summary.immutable_changes > 0);
    insta::assert_snapshot!("impact-text", r.render(Format::Text));
}

#[test]
fn head_report_markdown() {
    let r = report("base.toml", "head.toml");
    insta::assert_snapshot!("impact-markdown", r.render(Format::Markdown));
}

#[test]
fn head_report_json_is_the_report() {
    let r = report("base.toml", "head.toml");
    let json: serde_json::Value = serde_json::from_str(&r.render(Format::Json)).unwrap();
    assert_eq!(json, serde_json::to_value(&r).unwrap());
    insta::assert_json_snapshot!("impact-summary", json["summary"]);
}

fn run(base: &str, head: &str, corpus: &str) -> (i32, String) {
    let root = repo();
    let out = Command::new(env!("CARGO_BIN_EXE_helmgen"))
        .args([
            "impact",
            "--today",
            "2026-06-01",
            "--format",
            "json",
            "--corpus",
        ])
        .arg(root.join(corpus))
        .arg("--base")
        .arg(root.join("fixtures/platform").join(base))
        .arg("--head")
        .arg(root.join("fixtures/platform").join(head))
        .output()
        .unwrap();
    (
        out.status.code().unwrap(),
        String::from_utf8_lossy(&out.stdout).into_owned(),
    )
}

/// A symbolic link to a directory (here a loop) is not followed, and is
/// reported; a link to a file is read.
#[test]
fn symlinked_directories_are_skipped() {
    let dir = tempfile::tempdir().unwrap();
    let wordcounter = repo().join("fixtures/app-toml/ok/wordcounter.toml");
    std::fs::copy(&wordcounter, dir.path().join("a.toml")).unwrap();
    std::fs::create_dir(dir.path().join("loop")).unwrap();
    std::os::unix::fs::symlink(dir.path().join("loop"), dir.path().join("loop/self")).unwrap();
    std::os::unix::fs::symlink(&wordcounter, dir.path().join("loop/b.toml")).unwrap();
    let corpus = impact::walk_corpus(dir.path()).unwrap();
    let paths: Vec<_> = corpus.files.iter().map(|f| f.path.as_str()).collect();
    assert_eq!(paths, ["a.toml", "loop/b.toml"]);
    assert_eq!(corpus.skipped, [dir.path().join("loop/self")]);
}

/// A report that cannot be written is exit 2 with a message, not a panic.
#[test]
fn a_failed_write_is_exit_2() {
    let root = repo();
    let out = Command::new(env!("CARGO_BIN_EXE_helmgen"))
        .args(["impact", "--today", "2026-06-01", "--corpus"])
        .arg(root.join("fixtures/app-toml/ok"))
        .arg("--base")
        .arg(root.join("fixtures/platform/base.toml"))
        .arg("--head")
        .arg(root.join("fixtures/platform/head.toml"))
        .stdout(std::fs::File::create("/dev/full").unwrap())
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert!(stderr.contains("cannot write the report"), "{stderr}");
}

#[test]
fn exit_codes() {
    assert_eq!(run("base.toml", "base.toml", "fixtures/app-toml/ok").0, 0);
    assert_eq!(run("base.toml", "head.toml", "fixtures/app-toml/ok").0, 1);
    assert_eq!(
        run("base.toml", "missing.toml", "fixtures/app-toml/ok").0,
        2
    );
    assert_eq!(run("base.toml", "head.toml", "no/such/dir").0, 2);
}

/// Hand-made objects for the finding rules the fixtures do not reach.
mod rules {
    use serde_json::json;

    #[test]
    fn deployment_selector_and_service_type_are_immutable() {
        let base = json!({"spec": {"selector": {"matchLabels": {"a": "1"}}, "replicas": 2}});
        let head = json!({"spec": {"selector": {"matchLabels": {"a": "2"}}, "replicas": 2}});
        let f = helmgen::impact::findings("Deployment/x", &base, &head);
        assert_eq!(f.0.len(), 1, "{f:?}");
        assert_eq!(f.0[0].path, "spec.selector");

        let base = json!({"spec": {"type": "ClusterIP", "clusterIP": "10.0.0.1"}});
        let head = json!({"spec": {"type": "ExternalName", "externalName": "x.example"}});
        let f = helmgen::impact::findings("Service/x", &base, &head);
        let paths: Vec<_> = f.0.iter().map(|x| x.path.as_str()).collect();
        assert_eq!(paths, ["spec.clusterIP", "spec.type"]);
    }

    #[test]
    fn hardening_removed_is_a_regression() {
        let pod = |ro: bool, drop: &str, np: Option<bool>| {
            json!({"spec": {"template": {"spec": {
                "automountServiceAccountToken": false,
                "securityContext": {"runAsNonRoot": np, "seccompProfile": {"type": "RuntimeDefault"}},
                "containers": [{"name": "app", "securityContext": {
                    "readOnlyRootFilesystem": ro, "allowPrivilegeEscalation": false,
                    "capabilities": {"drop": [drop]}}}]
            }}}})
        };
        let same = helmgen::impact::findings(
            "Deployment/x",
            &pod(true, "ALL", Some(true)),
            &pod(true, "ALL", Some(true)),
        );
        assert!(same.1.is_empty());
        let worse = helmgen::impact::findings(
            "Deployment/x",
            &pod(true, "ALL", Some(true)),
            &pod(false, "NET_RAW", None),
        );
        let paths: Vec<_> = worse.1.iter().map(|x| x.path.as_str()).collect();
        assert_eq!(
            paths,
            [
                "spec.template.spec.securityContext.runAsNonRoot",
                "spec.template.spec.containers[app].securityContext.readOnlyRootFilesystem",
                "spec.template.spec.containers[app].securityContext.runAsNonRoot",
                "spec.template.spec.containers[app].securityContext.capabilities.drop",
            ]
        );
        // Hardening added is not a regression.
        let better = helmgen::impact::findings(
            "Deployment/x",
            &pod(false, "NET_RAW", None),
            &pod(true, "ALL", Some(true)),
        );
        assert!(better.1.is_empty());
    }

    #[test]
    fn network_policy_widening() {
        let np = |peers: serde_json::Value, ports: serde_json::Value| json!({"spec": {"policyTypes": ["Ingress"], "ingress": [{"from": peers, "ports": ports}]}});
        let a = json!({"namespaceSelector": {"matchLabels": {"n": "a"}}});
        let b = json!({"namespaceSelector": {"matchLabels": {"n": "b"}}});
        let p80 = json!({"port": 80});
        let p81 = json!({"port": 81});
        let cases = [
            // (base, head, regression)
            (
                np(json!([a]), json!([p80])),
                np(json!([a]), json!([p80])),
                false,
            ),
            (
                np(json!([a]), json!([p80])),
                np(json!([a, b]), json!([p80])),
                true,
            ),
            (
                np(json!([a]), json!([p80])),
                np(json!([a]), json!([p80, p81])),
                true,
            ),
            (
                np(json!([a]), json!([p80])),
                np(json!([]), json!([p80])),
                true,
            ),
            (
                np(json!([a, b]), json!([p80])),
                np(json!([a]), json!([p80])),
                false,
            ),
            (
                json!({"spec": {"policyTypes": ["Ingress"]}}),
                np(json!([a]), json!([p80])),
                true,
            ),
        ];
        for (i, (base, head, regression)) in cases.iter().enumerate() {
            let f = helmgen::impact::findings("NetworkPolicy/x", base, head);
            assert_eq!(!f.1.is_empty(), *regression, "case {i}: {f:?}");
        }
    }

    #[test]
    fn a_renamed_container_is_compared_by_position() {
        let pod = |name: &str, ro: bool| {
            json!({"spec": {"template": {"spec": {"containers": [
                {"name": name, "securityContext": {"readOnlyRootFilesystem": ro}}
            ]}}}})
        };
        let f = helmgen::impact::findings("Deployment/x", &pod("app", true), &pod("main", false));
        let paths: Vec<_> = f.1.iter().map(|x| x.path.as_str()).collect();
        assert_eq!(
            paths,
            ["spec.template.spec.containers[app->main].securityContext.readOnlyRootFilesystem"]
        );
    }
}
