//! Small releases to test with: a service `web` with one init Job, a
//! Deployment and a ConfigMap per version, and a Service plus a route.

use std::collections::BTreeMap;

use app_toml::Strategy;
use release::{
    Manifests, Object, ObjectRef, Options, Release, ReleaseKind, ReleaseSpec, Rollback,
    RollbackMode, Timestamp, Version,
};
use serde_json::json;

/// Cluster names used by the tests, in order.
pub const CLUSTERS: [&str; 3] = ["dc-a", "dc-b", "dc-c"];

fn object(api_version: &str, kind: &str, name: &str) -> Object {
    Object {
        reference: ObjectRef::new(api_version, kind, "web", name),
        body: json!({
            "apiVersion": api_version,
            "kind": kind,
            "metadata": {"name": name, "namespace": "web"},
        }),
    }
}

/// The objects of version `number` of `web` for one cluster.
pub fn manifests(strategy: Strategy, number: u64) -> Manifests {
    let workload = if strategy == Strategy::Rolling {
        "web".to_owned()
    } else {
        format!("web-v{number}")
    };
    Manifests {
        init: vec![object("batch/v1", "Job", &format!("web-migrate-v{number}"))],
        application: vec![
            object("v1", "ConfigMap", &format!("web-v{number}-env")),
            object("apps/v1", "Deployment", &workload),
        ],
        balancing: vec![
            object("v1", "Service", "web"),
            object("networking.istio.io/v1", "VirtualService", "web"),
        ],
    }
}

/// A deploy of `web` version `number` to the first `clusters` clusters,
/// replacing `previous` when given.
pub fn spec(
    strategy: Strategy,
    clusters: usize,
    number: u64,
    previous: Option<u64>,
) -> ReleaseSpec {
    let names: Vec<String> = CLUSTERS[..clusters]
        .iter()
        .map(|c| (*c).to_owned())
        .collect();
    let manifests: BTreeMap<String, Manifests> = names
        .iter()
        .map(|c| (c.clone(), manifests(strategy, number)))
        .collect();
    ReleaseSpec {
        service: "web".to_owned(),
        environment: "prod".to_owned(),
        number: Version(number),
        kind: if strategy == Strategy::Canary {
            ReleaseKind::Canary
        } else {
            ReleaseKind::Deploy
        },
        strategy,
        image: format!("registry.example/web:{number}"),
        app_toml: "name = \"web\"\n".to_owned(),
        platform_version: "2026.11".to_owned(),
        clusters: names,
        manifests,
        releaser: "alice".to_owned(),
        time: Timestamp("2026-11-23T12:00:00Z".to_owned()),
        commit: "0123abc".to_owned(),
        linked_tasks: vec!["PAAS-1".to_owned()],
        previous: previous.map(Version),
        rollback: None,
        options: Options::default(),
        digest: String::new(),
    }
}

/// A traffic-only rollback of `web` to `target` while `current` serves and
/// `target` still runs beside it.
pub fn traffic_only_rollback(
    strategy: Strategy,
    clusters: usize,
    number: u64,
    current: u64,
    target: u64,
) -> ReleaseSpec {
    let mut spec = spec(strategy, clusters, number, Some(current));
    for manifests in spec.manifests.values_mut() {
        *manifests = self::manifests(strategy, target);
    }
    spec.kind = ReleaseKind::Rollback;
    spec.rollback = Some(Rollback {
        target: Version(target),
        mode: RollbackMode::TrafficOnly,
    });
    spec
}

/// A replayed rollback (`--no-regenerate`) of `web` to `target` while
/// `current` serves and `target` no longer runs: `target`'s stored objects,
/// which serve as `target` again.
pub fn replayed_rollback(
    strategy: Strategy,
    clusters: usize,
    number: u64,
    current: u64,
    target: u64,
) -> ReleaseSpec {
    let mut spec = traffic_only_rollback(strategy, clusters, number, current, target);
    spec.rollback = Some(Rollback {
        target: Version(target),
        mode: RollbackMode::Replay,
    });
    spec
}

/// A release that has not started.
pub fn release(spec: ReleaseSpec) -> Release {
    Release::new(spec).expect("fixture specs are valid")
}
