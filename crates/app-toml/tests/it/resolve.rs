//! Resolution: merge rules, `unset`, defaults and origins, on the seed's
//! fixtures and on small inline files.

use app_toml::{Criticality, Error, HardeningRule, Kind, Origin, Resolved, Strategy};

use crate::{parse, parse_with, vocabulary};

const USERINFO: &str = include_str!("../../../../fixtures/app-toml/ok/userinfo.toml");
const WORDCOUNTER: &str = include_str!("../../../../fixtures/app-toml/ok/wordcounter.toml");

fn resolve(source: &str, env: &str) -> Resolved {
    match parse(source) {
        Ok(file) => file.resolve(env).unwrap(),
        Err(e) => panic!("{e}"),
    }
}

fn base(line: usize) -> Origin {
    Origin::Base { line }
}

fn env(env: &str, line: usize) -> Origin {
    Origin::Environment {
        env: env.to_owned(),
        line,
    }
}

#[test]
fn userinfo_in_every_environment() {
    let file = parse_with(USERINFO.as_bytes(), Some("userinfo")).unwrap();
    assert_eq!(file.name(), "userinfo");
    for e in ["prod", "staging", "dev", "local"] {
        let r = file.resolve(e).unwrap();
        let app = &r.app;
        assert_eq!(app.name, "userinfo");
        assert_eq!(app.environment, e);
        assert_eq!(app.description, "process user info");
        assert_eq!(app.kind, Kind::Business);
        assert_eq!(app.engine.name, "golang");
        assert_eq!(app.engine.version.as_deref(), Some("1.14"));
        assert_eq!(app.engine.size, "small");
        assert_eq!(r.origin("engine.version"), base(7));
        // The name came from the fallback, which is not a line of the file.
        assert_eq!(r.origin("name"), Origin::Default);
        if e == "prod" {
            assert_eq!(app.replicas, 70);
            assert_eq!(r.origin("replicas"), env("prod", 11));
        } else {
            assert_eq!(app.replicas, 1);
            assert_eq!(r.origin("replicas"), base(3));
        }
    }
}

#[test]
fn wordcounter_in_every_environment() {
    let file = parse_with(WORDCOUNTER.as_bytes(), None).unwrap();
    assert_eq!(file.name(), "wordcounter");

    let prod = file.resolve("prod").unwrap();
    let autoscale = prod.app.autoscale.unwrap();
    assert_eq!(
        (autoscale.min, autoscale.max, autoscale.cpu_percent),
        (10, 70, 65)
    );
    assert_eq!(prod.origin("autoscale.min"), env("prod", 53));
    // `[envs.prod.env]` merges into `[env]` key by key.
    assert_eq!(prod.app.env["LOG_LEVEL"], "warn");
    assert_eq!(prod.origin("env.LOG_LEVEL"), env("prod", 58));
    assert_eq!(prod.app.env["MAX_WORDS"], "10000");
    assert_eq!(prod.app.env["STRICT"], "false");
    assert_eq!(prod.origin("env.MAX_WORDS"), base(19));
    assert_eq!(prod.app.replicas, 2);
    assert_eq!(prod.app.routes["public"].host, "wordcounter.example.com");
    assert_eq!(prod.app.routes["public"].path, "/");
    assert_eq!(prod.origin("name"), base(1));

    let staging = file.resolve("staging").unwrap();
    assert_eq!(staging.app.replicas, 1);
    assert_eq!(staging.origin("replicas"), env("staging", 49));
    // `unset = ["routes.public"]` removes the route and its origins.
    assert!(staging.app.routes.is_empty());
    assert!(!staging.origins.keys().any(|k| k.starts_with("routes")));
    assert_eq!(staging.app.autoscale, None);
    assert_eq!(staging.app.env["LOG_LEVEL"], "info");

    for e in ["dev", "local"] {
        let r = file.resolve(e).unwrap();
        assert_eq!(r.app.replicas, 2);
        assert_eq!(r.origin("replicas"), base(6));
        assert_eq!(r.app.routes.len(), 1);
        assert!(r.origins.values().all(|o| matches!(o, Origin::Base { .. })));
    }

    let deps = &prod.app.dependencies;
    assert_eq!(deps["summer"].port, "http");
    assert_eq!(deps["summer"].timeout_ms, Some(200));
    assert_eq!(deps["users"].timeout_ms, None);
    assert_eq!(prod.origin("dependencies.users"), base(28));
    assert_eq!(prod.app.jobs["reindex"].deadline_seconds, Some(3600));
    assert_eq!(
        prod.app.init["migrate"].command,
        ["./wordcounter", "migrate", "up"]
    );
    assert_eq!(prod.app.deploy.strategy, Strategy::Canary);
    assert_eq!(prod.app.secrets.keys, ["DICTIONARY_TOKEN"]);
    assert!(prod.app.secrets.vault);
}

#[test]
fn unknown_environment_is_an_error() {
    let file = parse(USERINFO).unwrap();
    assert_eq!(
        file.resolve("production"),
        Err(Error::UnknownEnvironment {
            name: "production".to_owned(),
            known: vocabulary().environments,
        })
    );
    assert_eq!(
        file.resolve("production").unwrap_err().to_string(),
        "unknown environment `production` (expected one of prod, staging, dev, local)"
    );
}

#[test]
fn defaults() {
    let r = resolve(
        "[engine]\nname = \"node\"\n\n[processes.worker]\ncommand = [\"node\", \"w.js\"]\n\n[dependencies.users]\n\n[routes.www]\nhost = \"www.example.com\"\n",
        "prod",
    );
    let app = &r.app;
    assert_eq!(app.name, "svc");
    assert_eq!(app.description, "");
    assert_eq!(app.owner, "");
    assert_eq!(app.kind, Kind::Business);
    assert_eq!(app.criticality, Criticality::Normal);
    assert_eq!(app.replicas, 1);
    assert_eq!(app.engine.size, "small");
    assert_eq!(app.engine.version, None);
    assert_eq!(app.engine.image, None);
    assert!(app.ports.is_empty());
    assert_eq!(app.health.liveness, None);
    assert_eq!(app.health.startup_seconds, 60);
    assert_eq!(app.autoscale, None);
    assert!(app.env.is_empty());
    assert!(app.secrets.vault);
    assert!(app.secrets.keys.is_empty());
    assert_eq!(app.dependencies["users"].port, "http");
    assert_eq!(app.routes["www"].path, "/");
    assert_eq!(app.processes["worker"].replicas, 1);
    assert_eq!(app.processes["worker"].size, "small");
    assert_eq!(app.deploy.strategy, Strategy::Simple);
    assert_eq!(app.deploy.canary_steps, [5, 25, 50]);
    assert!(app.exceptions.is_empty());
    assert_eq!(r.origin("replicas"), Origin::Default);
    assert_eq!(r.origin("engine.name"), base(2));
}

#[test]
fn process_size_defaults_to_the_engine_size_of_the_environment() {
    let src = r#"
[engine]
name = "golang"
size = "medium"

[processes.worker]
command = ["./w"]

[envs.prod.engine]
size = "xlarge"
"#;
    assert_eq!(resolve(src, "dev").app.processes["worker"].size, "medium");
    assert_eq!(resolve(src, "prod").app.processes["worker"].size, "xlarge");
}

#[test]
fn tables_merge_key_by_key_and_arrays_replace() {
    let src = r#"
[engine]
name = "golang"

[ports]
http = 8080
metrics = 9100

[secrets]
keys = ["A", "B"]

[deploy]
strategy = "canary"
canary_steps = [10, 20]

[envs.prod.ports]
admin = 8081

[envs.prod.secrets]
keys = ["C"]

[envs.prod.deploy]
canary_steps = [1, 2, 3]
"#;
    let prod = resolve(src, "prod");
    assert_eq!(prod.app.ports.len(), 3);
    assert_eq!(prod.app.secrets.keys, ["C"]);
    assert_eq!(prod.app.deploy.canary_steps, [1, 2, 3]);
    assert_eq!(prod.app.deploy.strategy, Strategy::Canary);
    assert_eq!(prod.origin("ports.admin"), env("prod", 17));
    assert_eq!(prod.origin("ports.http"), base(6));
    assert_eq!(prod.origin("secrets.keys"), env("prod", 20));
    let dev = resolve(src, "dev");
    assert_eq!(dev.app.ports.len(), 2);
    assert_eq!(dev.app.secrets.keys, ["A", "B"]);
}

#[test]
fn unset_then_set_replaces_a_table() {
    let src = r#"
[engine]
name = "golang"

[env]
A = "1"
B = "2"

[exceptions.cpu-limit]
reason = "bursty"
expires = 2027-01-01

[envs.prod]
unset = ["env", "exceptions.cpu-limit"]

[envs.prod.env]
C = 3

[envs.dev]
unset = ["env.A"]
"#;
    let prod = resolve(src, "prod");
    assert_eq!(prod.app.env.keys().collect::<Vec<_>>(), ["C"]);
    assert!(prod.app.exception(HardeningRule::CpuLimit).is_none());
    let dev = resolve(src, "dev");
    assert_eq!(dev.app.env.keys().collect::<Vec<_>>(), ["B"]);
    let staging = resolve(src, "staging");
    assert_eq!(staging.app.env.len(), 2);
    let exception = staging.app.exception(HardeningRule::CpuLimit).unwrap();
    assert_eq!(exception.reason, "bursty");
    assert_eq!(exception.expires.to_string(), "2027-01-01");
}

#[test]
fn env_values_render_to_strings() {
    let r = resolve(
        "[engine]\nname = \"golang\"\n\n[env]\nA = \"x\"\nB = -42\nC = true\nD = 0x1F\nE = 1_000\n",
        "dev",
    );
    let values: Vec<&str> = r.app.env.values().map(String::as_str).collect();
    assert_eq!(values, ["x", "-42", "true", "31", "1000"]);
}

#[test]
fn overrides_may_fix_what_the_base_lacks() {
    // The base has no image for `generic`, but every environment provides
    // one, so every resolution is valid.
    let src = r#"
[engine]
name = "generic"

[secrets]
vault = false

[envs.prod.engine]
image = "registry.example.com/a:1"
[envs.staging.engine]
image = "registry.example.com/a:1"
[envs.dev.engine]
image = "registry.example.com/a:2"
[envs.local.engine]
image = "registry.example.com/a:2"
"#;
    assert_eq!(
        resolve(src, "dev").app.engine.image.as_deref(),
        Some("registry.example.com/a:2")
    );
    assert_eq!(resolve(src, "dev").origin("engine.image"), env("dev", 13));
}

/// `resolve_app` is `resolve` without the provenance map: the same app in
/// every environment, no origins.
#[test]
fn resolve_app_is_resolve_without_origins() {
    for source in [USERINFO, WORDCOUNTER] {
        let file = parse(source).unwrap();
        for e in ["prod", "staging", "dev", "local"] {
            let full = file.resolve(e).unwrap();
            let plain = file.resolve_app(e).unwrap();
            assert_eq!(plain.app, full.app, "{e}");
            assert!(plain.origins.is_empty());
            assert!(!full.origins.is_empty());
        }
    }
}
