//! Sync differ over many services × 5 clusters (spec: linear in services;
//! report time per service).
//!
//! `sync_5_clusters`: every cluster holds the last two releases of every
//! service, each record with the manifests of all five clusters (the peer
//! copies). One service in ten is stale in the last cluster (it missed the
//! newest release and still runs the previous one), so sync has real
//! repairs to plan; the rest are in sync and cost the verification of every
//! copy (one fingerprint per release, a structural comparison per copy).
//!
//! `sync_5_clusters_rebuild`: the same environment, but the last cluster
//! lost everything (an empty etcd) and one service in ten runs a canary at
//! 25%: sync rebuilds every service there from the peers' copies (records,
//! objects, traffic, the canary's two versions), the slow path.
//!
//! Throughput is in services, so criterion prints the time per service
//! directly, and equal per-service times across sizes show linearity.

use std::collections::BTreeMap;
use std::hint::black_box;

use app_toml::Strategy;
use criterion::{BenchmarkId, Criterion, Throughput, criterion_group, criterion_main};
use release::{
    Manifests, Object, ObjectRef, Options, Phase, Release, ReleaseKind, ReleaseSpec, Stage, Step,
    Timestamp, Version,
};
use serde_json::json;
use sync::{LiveService, Snapshot, Traffic};

const CLUSTERS: [&str; 5] = ["dc-a", "dc-b", "dc-c", "dc-d", "dc-e"];

fn record(service: &str, number: u64) -> Release {
    let object = |kind: &str, name: String| Object {
        reference: ObjectRef::new("apps/v1", kind, service, &name),
        body: json!({"kind": kind, "metadata": {"name": name, "namespace": service}}),
    };
    let manifests = Manifests {
        init: vec![],
        application: vec![object("Deployment", format!("{service}-v{number}"))],
        balancing: vec![object("Service", service.to_owned())],
    };
    let clusters: Vec<String> = CLUSTERS.iter().map(|c| (*c).to_owned()).collect();
    let spec = ReleaseSpec {
        service: service.to_owned(),
        environment: "prod".to_owned(),
        number: Version(number),
        kind: ReleaseKind::Deploy,
        strategy: Strategy::Simple,
        image: format!("registry.example/{service}:{number}"),
        app_toml: String::new(),
        platform_version: "2026.11".to_owned(),
        manifests: clusters
            .iter()
            .map(|c| (c.clone(), manifests.clone()))
            .collect::<BTreeMap<_, _>>(),
        clusters,
        releaser: "ci".to_owned(),
        time: Timestamp("2026-11-23T12:00:00Z".to_owned()),
        commit: "abc".to_owned(),
        linked_tasks: vec![],
        previous: (number > 1).then(|| Version(number - 1)),
        rollback: None,
        options: Options::default(),
        digest: String::new(),
    };
    let mut release = match Release::new(spec) {
        Ok(release) => release,
        Err(e) => panic!("bench fixture is invalid: {e}"),
    };
    release.status.phase = Phase::Succeeded;
    release.status.step = Step::Done;
    release.status.point_of_no_return = true;
    release.status.reached = Some(Stage::Cleanup);
    release.status.revision = 10;
    release
}

/// A canary of `service` `number` at `weight`% over `number - 1`.
fn canary(service: &str, number: u64, weight: u8) -> Release {
    let mut release = record(service, number);
    release.spec.strategy = Strategy::Canary;
    release.spec.kind = ReleaseKind::Canary;
    release.spec.digest = release.spec.fingerprint();
    release.status.phase = Phase::Running;
    release.status.step = Step::CanaryHold;
    release.status.point_of_no_return = false;
    release.status.reached = Some(Stage::Balancing);
    release.status.weight = weight;
    release
}

/// The last cluster wiped; one service in ten a canary at 25%.
fn wiped_environment(services: usize) -> Vec<Snapshot> {
    let mut snapshots: Vec<Snapshot> = CLUSTERS
        .iter()
        .map(|c| Snapshot {
            cluster: (*c).to_owned(),
            reachable: true,
            ..Snapshot::default()
        })
        .collect();
    for index in 0..services {
        let service = format!("svc-{index:05}");
        let canary_running = index % 10 == 0;
        let newest = if canary_running {
            canary(&service, 2, 25)
        } else {
            record(&service, 2)
        };
        let records = [record(&service, 1), newest];
        let live = if canary_running {
            LiveService {
                versions: [Version(1), Version(2)].into_iter().collect(),
                traffic: Some(Traffic {
                    version: Version(2),
                    weight: 25,
                    stable: Some(Version(1)),
                }),
                lease: None,
            }
        } else {
            LiveService {
                versions: [Version(2)].into_iter().collect(),
                traffic: Some(Traffic::all(Version(2))),
                lease: None,
            }
        };
        for snapshot in snapshots.iter_mut().take(CLUSTERS.len() - 1) {
            snapshot.records.extend(records.iter().cloned());
            snapshot.live.insert(service.clone(), live.clone());
        }
    }
    snapshots
}

fn environment(services: usize) -> Vec<Snapshot> {
    let mut snapshots: Vec<Snapshot> = CLUSTERS
        .iter()
        .map(|c| Snapshot {
            cluster: (*c).to_owned(),
            reachable: true,
            ..Snapshot::default()
        })
        .collect();
    for index in 0..services {
        let service = format!("svc-{index:05}");
        let records = [record(&service, 1), record(&service, 2)];
        for (cluster, snapshot) in snapshots.iter_mut().enumerate() {
            let stale = cluster == CLUSTERS.len() - 1 && index % 10 == 0;
            let serving = if stale { 1 } else { 2 };
            snapshot
                .records
                .extend(records[..serving as usize].iter().cloned());
            snapshot.live.insert(
                service.clone(),
                LiveService {
                    versions: [Version(serving)].into_iter().collect(),
                    traffic: Some(Traffic::all(Version(serving))),
                    lease: None,
                },
            );
        }
    }
    snapshots
}

fn bench_sync(c: &mut Criterion) {
    let mut group = c.benchmark_group("sync_5_clusters");
    group.sample_size(10);
    let options = sync::Options::default();
    for services in [1_000usize, 2_500, 5_000, 10_000] {
        let snapshots = environment(services);
        group.throughput(Throughput::Elements(services as u64));
        group.bench_with_input(
            BenchmarkId::from_parameter(services),
            &snapshots,
            |b, snapshots| b.iter(|| black_box(sync::plan(black_box(snapshots), &options))),
        );
    }
    group.finish();

    let mut group = c.benchmark_group("sync_5_clusters_rebuild");
    group.sample_size(10);
    for services in [1_000usize, 5_000, 10_000] {
        let snapshots = wiped_environment(services);
        group.throughput(Throughput::Elements(services as u64));
        group.bench_with_input(
            BenchmarkId::from_parameter(services),
            &snapshots,
            |b, snapshots| {
                b.iter(|| {
                    let plan = sync::plan(black_box(snapshots), &options);
                    debug_assert!(!plan.is_idle());
                    black_box(plan)
                })
            },
        );
    }
    group.finish();
}

criterion_group!(benches, bench_sync);
criterion_main!(benches);
