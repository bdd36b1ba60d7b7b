//! Snapshot tests: every fixture in `fixtures/app-toml/ok/` rendered in every
//! environment of the built-in platform config, plus variants (strategies,
//! gateway balancing, canary weights) on one fixture.

#![allow(clippy::unwrap_used)] // tests fail loudly on purpose

use std::path::Path;

use app_toml::{Date, Strategy};
use manifests::pipeline::{Request, render_source};
use platform_config::Platform;

const TODAY: Date = Date {
    year: 2026,
    month: 11,
    day: 23,
};
const ENVS: [&str; 4] = ["prod", "staging", "dev", "local"];

fn fixtures() -> std::path::PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../fixtures/app-toml/ok")
}

fn request(file: &str, env: &str) -> Request {
    Request {
        file_name: file.to_owned(),
        service: Some("fallback-name".into()),
        environment: env.to_owned(),
        cluster: None,
        version: 3,
        image_tag: "0123abc".into(),
        strategy: None,
        previous_version: Some(2),
        canary_weight: None,
        explain: false,
        today: TODAY,
    }
}

fn render(path: &Path, platform: &Platform, request: &Request) -> String {
    let source = std::fs::read(path).unwrap();
    match render_source(&source, platform, request) {
        Ok(r) => r.to_yaml().unwrap(),
        Err(e) => format!("error: {e}\n"),
    }
}

#[test]
fn every_fixture_in_every_environment() {
    let platform = Platform::builtin();
    let mut paths: Vec<_> = std::fs::read_dir(fixtures())
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|x| x == "toml"))
        .collect();
    paths.sort();
    assert!(paths.len() >= 2, "no fixtures found");
    for path in paths {
        let name = path.file_stem().unwrap().to_str().unwrap().to_owned();
        for env in ENVS {
            let yaml = render(&path, &platform, &request(&name, env));
            assert!(!yaml.starts_with("error:"), "{name} in {env}: {yaml}");
            insta::assert_snapshot!(format!("{name}@{env}"), yaml);
        }
    }
}

#[test]
fn yaml_reads_back_as_the_objects() {
    use serde::Deserialize;
    let platform = Platform::builtin();
    for entry in std::fs::read_dir(fixtures()).unwrap() {
        let path = entry.unwrap().path();
        let source = std::fs::read(&path).unwrap();
        for env in ENVS {
            let rendered = render_source(&source, &platform, &request("x", env)).unwrap();
            let yaml = rendered.to_yaml().unwrap();
            let docs: Vec<serde_json::Value> = serde_yaml::Deserializer::from_str(&yaml)
                .map(|d| serde_json::Value::deserialize(d).unwrap())
                .collect();
            let json = rendered.to_json_value().unwrap();
            assert_eq!(
                &serde_json::Value::Array(docs),
                &json["objects"],
                "{}",
                path.display()
            );
        }
    }
}

#[test]
fn strategies_and_balancing_variants() {
    let platform = Platform::builtin();
    let path = fixtures().join("wordcounter.toml");
    let mut cases = Vec::new();
    for strategy in Strategy::ALL {
        let mut r = request("wordcounter", "staging");
        r.strategy = Some(strategy);
        cases.push((format!("selector-{strategy}"), r));
    }
    let mut canary = request("wordcounter", "staging");
    canary.strategy = Some(Strategy::Canary);
    canary.canary_weight = Some(25);
    cases.push(("selector-canary-25".into(), canary.clone()));
    for (name, r) in cases {
        insta::assert_snapshot!(name, balancing_only(&render(&path, &platform, &r)));
    }
    // A changed platform is a new value (its version id is computed once per value).
    let mut gateway = platform.clone();
    gateway.balancing = platform_config::Balancing::GatewayApi;
    insta::assert_snapshot!(
        "gateway-canary-25",
        balancing_only(&render(&path, &gateway, &canary))
    );
}

/// The documents of the balancing stage and the application stage's object
/// names: what strategies change.
fn balancing_only(yaml: &str) -> String {
    let mut out = String::new();
    for doc in yaml.split("---\n").filter(|d| !d.is_empty()) {
        let kind = doc
            .lines()
            .find_map(|l| l.strip_prefix("kind: "))
            .unwrap_or("?");
        let name = doc
            .lines()
            .find_map(|l| l.strip_prefix("  name: "))
            .unwrap_or("?");
        if matches!(kind, "Service" | "HTTPRoute" | "Ingress") {
            out.push_str("---\n");
            out.push_str(doc);
        } else {
            out.push_str(&format!("# {kind}/{name}\n"));
        }
    }
    out
}

#[test]
fn errors_are_reported_not_rendered() {
    let platform = Platform::builtin();
    let cases = [
        (
            "replicas = 1\n[engine]\nname = \"golang\"\n",
            "prod",
            "policy: envs.prod.replicas: `prod` needs at least 2 replicas, this service has 1",
        ),
        (
            "replicas = 2\n[engine]\nname = \"generic\"\nimage = \"docker.io/x/y\"\n",
            "prod",
            "policy: secrets.vault: engine `generic` runs the image's own entrypoint",
        ),
        (
            "replicas = 2\n[engine]\nname = \"golang\"\n",
            "moon",
            "unknown environment `moon`",
        ),
    ];
    for (source, env, expected) in cases {
        let err = render_source(source.as_bytes(), &platform, &request("x", env))
            .unwrap_err()
            .to_string();
        assert!(err.contains(expected), "{err}");
    }
}

#[test]
fn explain_covers_app_environment_engine_and_size() {
    let platform = Platform::builtin();
    let source = std::fs::read(fixtures().join("wordcounter.toml")).unwrap();
    let mut r = request("wordcounter", "prod");
    r.explain = true;
    let rendered = render_source(&source, &platform, &r).unwrap();
    let text: Vec<String> = rendered
        .explanations
        .iter()
        .map(ToString::to_string)
        .collect();
    insta::assert_snapshot!(text.join("\n"));
}

/// `fixtures/resources/<svc>/`: an app.toml with the recommendations file
/// beside it (written by `paas resources recommend` from the usage there).
fn recommendation_fixtures() -> Vec<std::path::PathBuf> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../fixtures/resources");
    let mut dirs: Vec<_> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.join("app.toml").is_file())
        .collect();
    dirs.sort();
    assert!(!dirs.is_empty(), "no recommendation fixtures");
    dirs
}

#[test]
fn recommendation_fixtures_in_every_environment() {
    use manifests::pipeline::render_source_with;
    let platform = Platform::builtin();
    for dir in recommendation_fixtures() {
        let name = dir.file_name().unwrap().to_str().unwrap().to_owned();
        let source = std::fs::read(dir.join("app.toml")).unwrap();
        let text = std::fs::read_to_string(dir.join("resources.toml")).unwrap();
        let recs = resources::Recommendations::from_toml(&text, "resources.toml").unwrap();
        for env in ENVS {
            let request = request(&name, env);
            let with = render_source_with(&source, &platform, &request, Some(&recs))
                .unwrap()
                .to_yaml()
                .unwrap();
            let without = render_source(&source, &platform, &request)
                .unwrap()
                .to_yaml()
                .unwrap();
            // Recommendations change resources and nothing else.
            let (a, b): (Vec<_>, Vec<_>) = (with.lines().collect(), without.lines().collect());
            assert_eq!(a.len(), b.len(), "{name} in {env}");
            for (x, y) in a.iter().zip(&b) {
                if x != y {
                    let key = x.trim_start().split(':').next().unwrap();
                    assert!(
                        matches!(key, "cpu" | "memory" | "paas.io/netutil"),
                        "{name} in {env}: {x} / {y}"
                    );
                }
            }
            assert_ne!(with, without, "{name} in {env}: no recommendation applied");
            insta::assert_snapshot!(format!("resources-{name}@{env}"), with);
        }
    }
}

#[test]
fn explain_says_which_values_are_recommendations() {
    use manifests::pipeline::render_source_with;
    let platform = Platform::builtin();
    for dir in recommendation_fixtures() {
        let name = dir.file_name().unwrap().to_str().unwrap().to_owned();
        let source = std::fs::read(dir.join("app.toml")).unwrap();
        let text = std::fs::read_to_string(dir.join("resources.toml")).unwrap();
        let recs = resources::Recommendations::from_toml(&text, "resources.toml").unwrap();
        let mut r = request(&name, "prod");
        r.explain = true;
        let rendered = render_source_with(&source, &platform, &r, Some(&recs)).unwrap();
        let text: Vec<String> = rendered
            .explanations
            .iter()
            .filter(|e| e.field.contains(".resources."))
            .map(ToString::to_string)
            .collect();
        insta::assert_snapshot!(format!("resources-{name}-explain"), text.join("\n"));
    }
}

/// A test copy of the seed service (and of the fixture with processes,
/// cron jobs and init jobs, which a copy leaves out) in staging: its
/// ConfigMap, Deployment and Service `<svc>-<ID>` and its HTTPRoute.
#[test]
fn test_copies() {
    use manifests::TestCopy;
    use manifests::pipeline::render_test_copy_source;
    let platform = Platform::builtin();
    let copy = TestCopy {
        id: "pr-142".into(),
        expires_at: "2026-11-24T12:00:00Z".into(),
    };
    for name in ["userinfo", "kitchen-sink"] {
        let source = std::fs::read(fixtures().join(format!("{name}.toml"))).unwrap();
        let rendered =
            render_test_copy_source(&source, &platform, &request(name, "staging"), &copy, None)
                .unwrap();
        for o in &rendered.objects {
            let labels = o.object.metadata().labels.clone().unwrap_or_default();
            assert!(
                !labels.contains_key("paas.io/release"),
                "{}",
                o.object.key()
            );
            assert_eq!(labels["paas.io/test-copy"], "pr-142");
            assert_eq!(labels["app.kubernetes.io/component"], "test-copy");
        }
        insta::assert_snapshot!(
            format!("test-copy-{name}@staging"),
            rendered.to_yaml().unwrap()
        );
    }
    // A bad ID is a context error naming the problem.
    let source = std::fs::read(fixtures().join("userinfo.toml")).unwrap();
    for (id, expect) in [
        ("v3", "looks like a release version"),
        ("PR_1", "not a DNS label"),
    ] {
        let bad = TestCopy {
            id: id.into(),
            expires_at: copy.expires_at.clone(),
        };
        let e = render_test_copy_source(
            &source,
            &platform,
            &request("userinfo", "staging"),
            &bad,
            None,
        )
        .unwrap_err();
        assert!(e.to_string().contains(expect), "{id}: {e}");
    }
}
