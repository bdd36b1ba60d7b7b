//! Unit tests on hand-built apps; the fixture snapshots are in `tests/it`.

use std::collections::BTreeMap;

use app_toml::*;
use platform_config::Platform;

use crate::{Error, Object, ReleaseContext, Stage, render};

fn app(env: &str) -> Resolved {
    Resolved {
        app: App {
            name: "demo".into(),
            environment: env.into(),
            description: "a demo".into(),
            kind: Kind::Business,
            owner: "team-a".into(),
            criticality: Criticality::Normal,
            replicas: 2,
            engine: Engine {
                name: "golang".into(),
                version: None,
                size: "small".into(),
                image: None,
            },
            ports: BTreeMap::new(),
            health: Health {
                liveness: None,
                readiness: None,
                startup: None,
                startup_seconds: 60,
            },
            autoscale: None,
            env: BTreeMap::from([("LOG_LEVEL".into(), "info".into())]),
            secrets: Secrets {
                vault: true,
                keys: vec!["TOKEN".into()],
            },
            dependencies: BTreeMap::from([(
                "summer".into(),
                Dependency {
                    port: "http".into(),
                    timeout_ms: Some(200),
                },
            )]),
            databases: BTreeMap::new(),
            routes: BTreeMap::new(),
            processes: BTreeMap::new(),
            jobs: BTreeMap::new(),
            init: BTreeMap::new(),
            deploy: Deploy {
                strategy: Strategy::Simple,
                canary_steps: vec![5, 25, 50],
            },
            exceptions: BTreeMap::new(),
        },
        origins: BTreeMap::new(),
    }
}

fn ctx(a: &Resolved, cluster: &str) -> ReleaseContext {
    ReleaseContext::new(a, cluster, "abc1234")
}

#[test]
fn stages_and_names() {
    let a = app("prod");
    let r = render(&a, &Platform::builtin(), &ctx(&a, "prod-a")).unwrap();
    let keys: Vec<_> = Stage::ALL
        .iter()
        .map(|s| (s.as_str(), r.stage(*s).map(Object::key).collect::<Vec<_>>()))
        .collect();
    assert_eq!(
        keys,
        vec![
            (
                "init",
                vec![
                    "Namespace/demo".to_owned(),
                    "ServiceAccount/demo".into(),
                    "ConfigMap/demo-v1-env".into(),
                    "NetworkPolicy/demo-default-deny".into(),
                    "NetworkPolicy/demo-allow".into(),
                ]
            ),
            (
                "application",
                vec![
                    "Deployment/demo-v1".to_owned(),
                    "Service/demo-v1".into(),
                    "PodDisruptionBudget/demo-v1".into(),
                ]
            ),
            ("balancing", vec!["Service/demo".to_owned()]),
        ]
    );
}

#[test]
fn rendering_is_deterministic() {
    let a = app("prod");
    let p = Platform::builtin();
    let one = render(&a, &p, &ctx(&a, "prod-a"))
        .unwrap()
        .to_yaml()
        .unwrap();
    let two = render(&a, &p, &ctx(&a, "prod-a"))
        .unwrap()
        .to_yaml()
        .unwrap();
    assert_eq!(one, two);
}

#[test]
fn dependency_urls_per_environment() {
    let p = Platform::builtin();
    let prod = app("prod");
    let y = render(&prod, &p, &ctx(&prod, "prod-b"))
        .unwrap()
        .to_yaml()
        .unwrap();
    assert!(
        y.contains("value: http://summer.summer.svc.cluster.local\n"),
        "{y}"
    );
    assert!(y.contains("name: SUMMER_TIMEOUT_MS"), "{y}");
    let local = app("local");
    let y = render(&local, &p, &ctx(&local, "local-a"))
        .unwrap()
        .to_yaml()
        .unwrap();
    assert!(y.contains("value: http://localhost:8081\n"), "{y}");
}

#[test]
fn vault_wraps_the_command() {
    let p = Platform::builtin();
    let a = app("staging");
    let y = render(&a, &p, &ctx(&a, "staging-a"))
        .unwrap()
        .to_yaml()
        .unwrap();
    assert!(
        y.contains("- vault2env\n        - \"--\"\n        - /app/service\n"),
        "{y}"
    );
    let mut b = app("staging");
    b.app.secrets.vault = false;
    let y = render(&b, &p, &ctx(&b, "staging-a"))
        .unwrap()
        .to_yaml()
        .unwrap();
    assert!(!y.contains("vault2env"), "{y}");
    assert!(!y.contains("VAULT_ADDR"), "{y}");
}

#[test]
fn prod_replicas_policy_and_its_exception() {
    let p = Platform::builtin();
    let mut a = app("prod");
    a.app.replicas = 1;
    let err = render(&a, &p, &ctx(&a, "prod-a")).unwrap_err();
    assert!(matches!(err, Error::Policy(_)));
    assert!(
        err.to_string().contains("`prod` needs at least 2 replicas"),
        "{err}"
    );
    a.app.criticality = Criticality::Low;
    render(&a, &p, &ctx(&a, "prod-a")).unwrap();
    a.app.criticality = Criticality::Normal;
    a.app.exceptions.insert(
        HardeningRule::MinProdReplicas,
        Exception {
            reason: "batch only".into(),
            expires: Date {
                year: 2027,
                month: 1,
                day: 1,
            },
        },
    );
    let y = render(&a, &p, &ctx(&a, "prod-a"))
        .unwrap()
        .to_yaml()
        .unwrap();
    assert!(
        y.contains("paas.io/exception.min-prod-replicas: batch only (expires 2027-01-01)"),
        "{y}"
    );
}

#[test]
fn each_exception_relaxes_exactly_one_rule() {
    let p = Platform::builtin();
    let base = app("staging");
    let plain = render(&base, &p, &ctx(&base, "staging-a"))
        .unwrap()
        .to_yaml()
        .unwrap();
    for (rule, gone, extra) in [
        (
            HardeningRule::ReadOnlyRootFilesystem,
            "readOnlyRootFilesystem: true",
            "readOnlyRootFilesystem: false",
        ),
        (HardeningRule::CpuLimit, "cpu: \"500m\"", ""),
        (HardeningRule::DropAllCapabilities, "- ALL", "- NET_RAW"),
        (
            HardeningRule::RunAsNonRoot,
            "runAsNonRoot: true",
            "enforce: baseline",
        ),
    ] {
        let mut a = app("staging");
        a.app.exceptions.insert(
            rule,
            Exception {
                reason: "why".into(),
                expires: Date {
                    year: 2027,
                    month: 1,
                    day: 1,
                },
            },
        );
        let y = render(&a, &p, &ctx(&a, "staging-a"))
            .unwrap()
            .to_yaml()
            .unwrap();
        assert!(plain.contains(gone), "{rule}: baseline lacks {gone}");
        assert!(!y.contains(gone), "{rule}: still has {gone}");
        assert!(y.contains(extra), "{rule}: lacks {extra}");
        assert!(y.contains(&format!("paas.io/exception.{rule}")), "{rule}");
    }
}

#[test]
fn bad_context_is_an_error() {
    let p = Platform::builtin();
    let a = app("prod");
    let mut c = ctx(&a, "prod-z");
    assert_eq!(
        render(&a, &p, &c).unwrap_err().to_string(),
        "unknown cluster `prod-z` in environment `prod` (expected one of prod-a, prod-b, prod-c)"
    );
    c.cluster = "prod-a".into();
    c.image_tag = "latest".into();
    assert!(
        render(&a, &p, &c)
            .unwrap_err()
            .to_string()
            .contains("the `latest` tag is not allowed")
    );
    c.image_tag = "a/b".into();
    assert!(
        render(&a, &p, &c)
            .unwrap_err()
            .to_string()
            .contains("is not a usable image tag")
    );
}

#[test]
fn rolling_uses_one_deployment_and_canary_weights_with_gateway() {
    let mut p = Platform::builtin();
    let mut a = app("prod");
    a.app.deploy.strategy = Strategy::Rolling;
    let r = render(&a, &p, &ctx(&a, "prod-a")).unwrap();
    let keys: Vec<_> = r.stage(Stage::Application).map(Object::key).collect();
    assert_eq!(keys, vec!["Deployment/demo", "PodDisruptionBudget/demo"]);

    p.balancing = platform_config::Balancing::GatewayApi;
    let mut c = ctx(&a, "prod-a");
    c.strategy = Strategy::Canary;
    c.version = 4;
    c.previous_version = Some(3);
    c.canary_weight = Some(25);
    let y = render(&a, &p, &c).unwrap().to_yaml().unwrap();
    assert!(y.contains("  - backendRefs:\n    - name: demo-v3\n      port: 80\n      weight: 75\n    - name: demo-v4\n      port: 80\n      weight: 25\n"), "{y}");
}

#[test]
fn explain_names_sources() {
    let p = Platform::builtin();
    let mut a = app("prod");
    a.origins.insert(
        "replicas".into(),
        Origin::Environment {
            env: "prod".into(),
            line: 12,
        },
    );
    let mut c = ctx(&a, "prod-a");
    c.explain = true;
    let r = render(&a, &p, &c).unwrap();
    let lines: Vec<String> = r.explanations.iter().map(ToString::to_string).collect();
    assert!(lines.contains(&"Deployment/demo-v1 spec.replicas = 2  <- app.toml [envs.prod] override, line 12 (replicas)".to_owned()), "{lines:#?}");
    assert!(
        lines
            .iter()
            .any(|l| l.contains("requests.cpu = 100m  <- size preset `small`")),
        "{lines:#?}"
    );
    assert!(
        lines
            .iter()
            .any(|l| l.contains("ports[http] = 8080  <- engine `golang` (port)")),
        "{lines:#?}"
    );
}

/// The `resources` of the `app` container of the first object named `name`.
fn container_resources(
    r: &crate::Rendered,
    name: &str,
) -> k8s_openapi::api::core::v1::ResourceRequirements {
    let spec = r
        .objects
        .iter()
        .find_map(|o| match &o.object {
            Object::Deployment(d) if o.object.name() == name => {
                d.spec.as_ref().and_then(|s| s.template.spec.clone())
            }
            Object::Job(j) if o.object.name() == name => {
                j.spec.as_ref().and_then(|s| s.template.spec.clone())
            }
            _ => None,
        })
        .unwrap_or_else(|| panic!("no workload {name}"));
    spec.containers
        .iter()
        .find(|c| c.name == "app")
        .and_then(|c| c.resources.clone())
        .unwrap()
}

/// `requests` and `limits` as `key=value` lists.
fn quantities(r: &k8s_openapi::api::core::v1::ResourceRequirements) -> (String, String) {
    let show =
        |m: &Option<BTreeMap<String, k8s_openapi::apimachinery::pkg::api::resource::Quantity>>| {
            m.iter()
                .flatten()
                .map(|(k, v)| format!("{k}={}", v.0))
                .collect::<Vec<_>>()
                .join(" ")
        };
    (show(&r.requests), show(&r.limits))
}

fn recommendations(text: &str) -> resources::Recommendations {
    resources::Recommendations::from_toml(text, "resources.toml").unwrap()
}

#[test]
fn recommendations_replace_the_size_preset_per_container() {
    let p = Platform::builtin();
    let mut a = app("prod");
    a.app.processes.insert(
        "worker".into(),
        Process {
            command: vec!["work".into()],
            replicas: 1,
            size: "medium".into(),
        },
    );
    a.app.init.insert(
        "migrate".into(),
        InitJob {
            command: vec!["migrate".into()],
        },
    );
    let recs = recommendations(
        r#"
service = "demo"
[containers.app]
cpu = "230m"
cpu_limit = "460m"
memory = "353Mi"
netutil = 36
[containers.process-worker]
cpu = "2"
[containers.process-gone]
cpu = "1"
"#,
    );
    let mut c = ctx(&a, "prod-a");
    c.explain = true;
    let r = crate::render_with(&a, &p, &c, Some(&recs)).unwrap();
    // Every value of the entry; the memory limit is the request.
    assert_eq!(
        quantities(&container_resources(&r, "demo-v1")),
        (
            "cpu=230m memory=353Mi paas.io/netutil=36".to_owned(),
            "cpu=460m memory=353Mi paas.io/netutil=36".to_owned()
        )
    );
    // Only the CPU request: the rest from the preset (medium), and the
    // preset's CPU limit (1) below the request is raised to it.
    assert_eq!(
        quantities(&container_resources(&r, "demo-v1-worker")),
        (
            "cpu=2 memory=512Mi paas.io/netutil=100".to_owned(),
            "cpu=2 memory=512Mi paas.io/netutil=100".to_owned()
        )
    );
    // No entry: the preset (small), as without recommendations.
    let plain = render(&a, &p, &ctx(&a, "prod-a")).unwrap();
    assert_eq!(
        container_resources(&r, "demo-v1-init-migrate"),
        container_resources(&plain, "demo-v1-init-migrate")
    );
    let lines: Vec<String> = r
        .explanations
        .iter()
        .filter(|e| e.field.contains(".resources."))
        .map(ToString::to_string)
        .collect();
    let from = "recommendations resources.toml [containers.app] (instead of size preset `small`)";
    for line in [
        format!("Deployment/demo-v1 containers[app].resources.requests.cpu = 230m  <- {from}"),
        format!("Deployment/demo-v1 containers[app].resources.limits.cpu = 460m  <- {from}"),
        format!("Deployment/demo-v1 containers[app].resources.requests.memory = 353Mi  <- {from}"),
        format!("Deployment/demo-v1 containers[app].resources.limits.memory = 353Mi  <- {from}"),
        format!("Deployment/demo-v1 containers[app].resources.requests[paas.io/netutil] = 36  <- {from}"),
        format!("Deployment/demo-v1 containers[app].resources.limits[paas.io/netutil] = 36  <- {from}"),
        "Deployment/demo-v1-worker containers[app].resources.requests.cpu = 2  <- recommendations resources.toml [containers.process-worker] (instead of size preset `medium`)".to_owned(),
        "Deployment/demo-v1-worker containers[app].resources.requests.memory = 512Mi  <- size preset `medium`".to_owned(),
        "Job/demo-v1-init-migrate containers[app].resources.requests.cpu = 100m  <- size preset `small`".to_owned(),
    ] {
        assert!(lines.contains(&line), "{line}\nnot in {lines:#?}");
    }
    // Without recommendations nothing says so.
    let mut c = ctx(&a, "prod-a");
    c.explain = true;
    let r = render(&a, &p, &c).unwrap();
    assert!(
        r.explanations
            .iter()
            .all(|e| !matches!(e.source, crate::Source::Recommendation { .. }))
    );
}

#[test]
fn the_platform_still_decides_cpu_limits_and_extended_resources() {
    let mut p = Platform::builtin();
    p.policy.cpu_limit = platform_config::CpuLimitPolicy::None;
    p.policy.network_resource = None;
    let a = app("prod");
    let recs =
        recommendations("[containers.app]\ncpu = \"230m\"\ncpu_limit = \"460m\"\nnetutil = 36\n");
    let r = crate::render_with(&a, &p, &ctx(&a, "prod-a"), Some(&recs)).unwrap();
    assert_eq!(
        quantities(&container_resources(&r, "demo-v1")),
        (
            "cpu=230m memory=256Mi".to_owned(),
            "memory=256Mi".to_owned()
        )
    );
    // The `cpu-limit` exception removes the recommended limit too.
    let mut a = app("prod");
    a.app.exceptions.insert(
        HardeningRule::CpuLimit,
        Exception {
            reason: "latency-critical".into(),
            expires: Date {
                year: 2099,
                month: 1,
                day: 1,
            },
        },
    );
    let r = crate::render_with(&a, &Platform::builtin(), &ctx(&a, "prod-a"), Some(&recs)).unwrap();
    assert_eq!(
        quantities(&container_resources(&r, "demo-v1")).1,
        "memory=256Mi paas.io/netutil=36"
    );
}

#[test]
fn recommendations_of_another_service_are_refused() {
    let a = app("prod");
    let recs = recommendations("service = \"billing\"\n[containers.app]\ncpu = \"1\"\n");
    let err =
        crate::render_with(&a, &Platform::builtin(), &ctx(&a, "prod-a"), Some(&recs)).unwrap_err();
    assert_eq!(
        err,
        Error::Context {
            field: "recommendations",
            message: "resources.toml holds the recommendations of `billing`, not of `demo`".into(),
        }
    );
}

#[test]
fn sized_containers_name_every_preset_sized_container() {
    let mut a = app("prod");
    a.app.processes.insert(
        "worker".into(),
        Process {
            command: vec!["work".into()],
            replicas: 1,
            size: "large".into(),
        },
    );
    a.app.init.insert(
        "migrate".into(),
        InitJob {
            command: vec!["migrate".into()],
        },
    );
    let names: Vec<_> = crate::sized_containers(&a.app)
        .into_iter()
        .map(|c| format!("{} {} {}", c.name, c.table, c.size))
        .collect();
    assert_eq!(
        names,
        [
            "app engine small",
            "process-worker processes.worker large",
            "init-migrate init.migrate small"
        ]
    );
    for c in crate::sized_containers(&a.app) {
        assert!(resources::is_container_name(&c.name), "{}", c.name);
    }
    assert_eq!(crate::container_key("web"), "app");
    assert_eq!(crate::container_key("process-worker"), "process-worker");
}

/// The reference the streaming YAML writer is tested against: the same
/// output, written from a `serde_json::Value` tree.
mod reference {
    use std::fmt::Write as _;

    use serde_json::Value;

    /// Writes one YAML document (without the `---` line) for `value`, from a
    /// `serde_json::Value` tree (the reference the streaming writer is tested against).
    pub(super) fn write_document(out: &mut String, value: &Value) {
        match value {
            Value::Object(map) if !map.is_empty() => write_map(out, map, 0),
            Value::Array(items) if !items.is_empty() => write_seq(out, items, 0),
            scalar => {
                write_inline(out, scalar);
                out.push('\n');
            }
        }
    }

    fn indent(out: &mut String, n: usize) {
        for _ in 0..n {
            out.push(' ');
        }
    }

    /// Whether a value is written on the key's own line.
    fn is_inline(v: &Value) -> bool {
        match v {
            Value::Object(m) => m.is_empty(),
            Value::Array(a) => a.is_empty(),
            _ => true,
        }
    }

    fn write_map(out: &mut String, map: &serde_json::Map<String, Value>, level: usize) {
        let mut first = true;
        write_map_after_first(out, map, level, &mut first, false);
    }

    /// Writes map entries at `level`; when `dash_line` is set the first entry
    /// continues a `- ` already written (a map inside a sequence).
    fn write_map_after_first(
        out: &mut String,
        map: &serde_json::Map<String, Value>,
        level: usize,
        first: &mut bool,
        dash_line: bool,
    ) {
        for (key, value) in map {
            if !(*first && dash_line) {
                indent(out, level);
            }
            *first = false;
            crate::output::write_string(out, key);
            out.push(':');
            match value {
                v if is_inline(v) => {
                    out.push(' ');
                    write_inline(out, v);
                    out.push('\n');
                }
                Value::Object(m) => {
                    out.push('\n');
                    write_map(out, m, level + 2);
                }
                Value::Array(items) => {
                    out.push('\n');
                    // Sequences under a key are not indented (the kubectl style).
                    write_seq(out, items, level);
                }
                _ => {}
            }
        }
    }

    fn write_seq(out: &mut String, items: &[Value], level: usize) {
        for item in items {
            indent(out, level);
            out.push('-');
            match item {
                v if is_inline(v) => {
                    out.push(' ');
                    write_inline(out, v);
                    out.push('\n');
                }
                Value::Object(m) => {
                    out.push(' ');
                    let mut first = true;
                    write_map_after_first(out, m, level + 2, &mut first, true);
                }
                Value::Array(inner) => {
                    out.push('\n');
                    write_seq(out, inner, level + 2);
                }
                _ => {}
            }
        }
    }

    fn write_inline(out: &mut String, v: &Value) {
        match v {
            Value::Null => out.push_str("null"),
            Value::Bool(b) => out.push_str(if *b { "true" } else { "false" }),
            Value::Number(n) => {
                let _ = write!(out, "{n}");
            }
            Value::String(s) => crate::output::write_string(out, s),
            Value::Object(_) => out.push_str("{}"),
            Value::Array(_) => out.push_str("[]"),
        }
    }
}

mod yaml {
    use proptest::prelude::*;
    use serde_json::{Value, json};

    use super::reference;

    /// The tree writer and the streaming writer give the same text, which
    /// a YAML reader reads back as the same value.
    fn roundtrip(v: &Value) {
        let mut out = String::new();
        reference::write_document(&mut out, v);
        let mut streamed = String::new();
        crate::output::write_yaml(&mut streamed, v).unwrap();
        assert_eq!(streamed, out);
        let back: Value = serde_yaml::from_str(&out).unwrap_or_else(|e| panic!("{e}\n{out}"));
        assert_eq!(&back, v, "\n{out}");
    }

    #[test]
    fn tricky_strings_survive() {
        for s in [
            "",
            " ",
            "true",
            "True",
            "no",
            "NO",
            "y",
            "null",
            "~",
            "0123",
            "1e3",
            "12:30",
            "2027-01-01",
            "-",
            "- x",
            "a: b",
            "a #b",
            "#x",
            "*x",
            "&x",
            "!x",
            "%x",
            "@x",
            "`x",
            "'x'",
            "\"x\"",
            "x:",
            "{x}",
            "[x]",
            "25%",
            ".5",
            "+1",
            "0x1f",
            "line\nbreak",
            "tab\there",
            "unicode é",
            "\u{0}",
            "ends ",
            "vault:a/b#c",
            "/healthz",
        ] {
            roundtrip(&json!({ "k": s, s: [s, { s: s }] }));
        }
    }

    #[test]
    fn structures_survive() {
        roundtrip(
            &json!({"a": [], "b": {}, "c": [[1, 2], [], [{"x": null}]], "d": [{"e": [{"f": {}}]}], "n": -1.5}),
        );
    }

    fn arb_value() -> impl Strategy<Value = Value> {
        let leaf = prop_oneof![
            Just(Value::Null),
            any::<bool>().prop_map(Value::Bool),
            any::<i64>().prop_map(|n| json!(n)),
            "\\PC{0,12}".prop_map(Value::String),
            "[a-z0-9 :#.\\-]{0,8}".prop_map(Value::String),
        ];
        leaf.prop_recursive(4, 32, 5, |inner| {
            prop_oneof![
                prop::collection::vec(inner.clone(), 0..5).prop_map(Value::Array),
                prop::collection::btree_map("\\PC{0,6}", inner, 0..5)
                    .prop_map(|m| Value::Object(m.into_iter().collect())),
            ]
        })
    }

    /// The plain-scalar rule as first written (range checks, one pass):
    /// the table-driven version must agree with it on every string.
    fn plain_safe_reference(s: &str) -> bool {
        const RESERVED: &[&str] = &[
            "y", "n", "yes", "no", "on", "off", "true", "false", "null", "~",
        ];
        let bytes = s.as_bytes();
        let Some(&first) = bytes.first() else {
            return false;
        };
        if !(first.is_ascii_alphabetic() || first == b'/' || first == b'_') {
            return false;
        }
        let mut prev = 0u8;
        for &c in bytes {
            match c {
                b'a'..=b'z' | b'A'..=b'Z' | b'0'..=b'9' => {}
                b'-' | b'_' | b'.' | b'/' | b':' | b'=' | b'@' | b'+' | b'(' | b')' | b',' => {}
                b' ' if prev != b':' => {}
                _ => return false,
            }
            prev = c;
        }
        if prev == b' ' || prev == b':' {
            return false;
        }
        bytes.len() > 5 || !RESERVED.iter().any(|r| r.eq_ignore_ascii_case(s))
    }

    proptest! {
        #[test]
        fn any_value_roundtrips(v in arb_value()) {
            roundtrip(&v);
        }

        #[test]
        fn plain_rule_matches_the_reference(
            s in prop_oneof!["\\PC{0,12}", "[a-zA-Z0-9 :#._/=@+(),\\-]{0,10}", "(?i)(y|n|yes|no|on|off|true|false|null|~)"]
        ) {
            prop_assert_eq!(crate::output::is_plain_safe(&s), plain_safe_reference(&s), "{:?}", s);
        }
    }
}

#[test]
fn sidecars_are_added_hardened_to_every_pod() {
    let mut p = Platform::builtin();
    p.sidecars.insert(
        "mesh-proxy".into(),
        platform_config::SidecarConfig {
            image: "registry.paas.local/mesh/proxy:1.2.3".into(),
            args: vec!["--config=/etc/mesh.yaml".into()],
            health_port: 15021,
            health_path: "/healthz/ready".into(),
            size: "xsmall".into(),
        },
    );
    let a = app("staging");
    let r = render(&a, &p, &ctx(&a, "staging-a")).unwrap();
    let deployment = r
        .stage(Stage::Application)
        .find_map(|o| match o {
            Object::Deployment(d) => Some(d),
            _ => None,
        })
        .unwrap();
    let pod = deployment
        .spec
        .as_ref()
        .unwrap()
        .template
        .spec
        .as_ref()
        .unwrap();
    let names: Vec<_> = pod.containers.iter().map(|c| c.name.as_str()).collect();
    assert_eq!(names, ["app", "mesh-proxy"]);
    let proxy = &pod.containers[1];
    let sc = proxy.security_context.as_ref().unwrap();
    assert_eq!(sc.read_only_root_filesystem, Some(true));
    assert_eq!(sc.allow_privilege_escalation, Some(false));
    assert_eq!(
        sc.capabilities.as_ref().unwrap().drop.as_deref(),
        Some(&["ALL".to_owned()][..])
    );
    let limits = proxy.resources.as_ref().unwrap().limits.as_ref().unwrap();
    assert_eq!(limits["memory"].0, "64Mi");
    assert!(proxy.readiness_probe.is_some() && proxy.liveness_probe.is_some());
}

/// No selector of the service's own objects (stable Service in either
/// balancing mode and during a canary, versioned Services, PDBs) selects a
/// test copy's pods, and the copy's selectors select only them.
#[test]
fn no_selector_of_the_service_selects_a_copy() {
    use crate::{TestCopy, render_test_copy};
    let a = app("staging");
    let copy = TestCopy {
        id: "pr-7".into(),
        expires_at: "2026-11-24T00:00:00Z".into(),
    };
    let selects = |selector: &BTreeMap<String, String>, labels: &BTreeMap<String, String>| {
        selector.iter().all(|(k, v)| labels.get(k) == Some(v))
    };
    let selectors = |o: &Object| -> Vec<BTreeMap<String, String>> {
        match o {
            Object::Service(s) => s
                .spec
                .as_ref()
                .and_then(|s| s.selector.clone())
                .into_iter()
                .collect(),
            Object::PodDisruptionBudget(p) => p
                .spec
                .as_ref()
                .and_then(|s| s.selector.as_ref())
                .and_then(|s| s.match_labels.clone())
                .into_iter()
                .collect(),
            _ => Vec::new(),
        }
    };
    for balancing in [
        platform_config::Balancing::Selector,
        platform_config::Balancing::GatewayApi,
    ] {
        let mut p = Platform::builtin();
        p.balancing = balancing;
        let copy_render = render_test_copy(&a, &p, &ctx(&a, "staging-a"), &copy, None).unwrap();
        let pod_labels: Vec<BTreeMap<String, String>> = copy_render
            .objects
            .iter()
            .filter_map(|o| match &o.object {
                Object::Deployment(d) => {
                    d.spec.as_ref()?.template.metadata.as_ref()?.labels.clone()
                }
                _ => None,
            })
            .collect();
        assert_eq!(pod_labels.len(), 1);
        let copy_pods = &pod_labels[0];
        assert!(!copy_pods.contains_key("paas.io/release"));
        for canary in [None, Some(25)] {
            let mut c = ctx(&a, "staging-a");
            c.version = 4;
            c.previous_version = Some(3);
            c.canary_weight = canary;
            c.strategy = Strategy::Canary;
            let release = render(&a, &p, &c).unwrap();
            for o in &release.objects {
                for s in selectors(&o.object) {
                    assert!(
                        !selects(&s, copy_pods),
                        "{} selects the copy ({balancing:?}, {canary:?})",
                        o.object.key()
                    );
                }
            }
        }
        for o in &copy_render.objects {
            for s in selectors(&o.object) {
                assert!(selects(&s, copy_pods), "{}", o.object.key());
            }
        }
    }
}
