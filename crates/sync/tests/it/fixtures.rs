//! Releases, snapshots and an executor of sync's actions for the tests.

use std::collections::BTreeMap;

use app_toml::Strategy;
use release::{
    Manifests, Object, ObjectRef, Options as ReleaseOptions, Phase, Release, ReleaseKind,
    ReleaseSpec, Stage, Step, Timestamp, Version,
};
use serde_json::json;
use sync::{Lease, LiveService, Snapshot, SyncAction, Traffic};

/// The clusters of the environment.
pub const CLUSTERS: [&str; 3] = ["dc-a", "dc-b", "dc-c"];

fn object(service: &str, api_version: &str, kind: &str, name: &str) -> Object {
    Object {
        reference: ObjectRef::new(api_version, kind, service, name),
        body: json!({"apiVersion": api_version, "kind": kind, "metadata": {"name": name, "namespace": service}}),
    }
}

/// The objects of `service` version `number` in one cluster.
pub fn manifests(service: &str, number: u64, cluster: &str) -> Manifests {
    let mut deployment = object(
        service,
        "apps/v1",
        "Deployment",
        &format!("{service}-v{number}"),
    );
    deployment.body["metadata"]["annotations"] = json!({"paas.io/cluster": cluster});
    Manifests {
        init: vec![],
        application: vec![deployment],
        balancing: vec![object(service, "v1", "Service", service)],
    }
}

/// A release record of `service` v`number` that replaced `previous`, with
/// the manifests of every cluster (complete peer copies).
pub fn record(service: &str, number: u64, previous: Option<u64>) -> Release {
    let clusters: Vec<String> = CLUSTERS.iter().map(|c| (*c).to_owned()).collect();
    let spec = ReleaseSpec {
        service: service.to_owned(),
        environment: "prod".to_owned(),
        number: Version(number),
        kind: ReleaseKind::Deploy,
        strategy: Strategy::Simple,
        image: format!("registry.example/{service}:{number}"),
        app_toml: format!("name = \"{service}\"\n"),
        platform_version: "2026.11".to_owned(),
        manifests: clusters
            .iter()
            .map(|c| (c.clone(), manifests(service, number, c)))
            .collect(),
        clusters,
        releaser: "alice".to_owned(),
        time: Timestamp(format!("2026-11-{:02}T12:00:00Z", number.min(28))),
        commit: format!("c0ffee{number}"),
        linked_tasks: vec![],
        previous: previous.map(Version),
        rollback: None,
        options: ReleaseOptions::default(),
        digest: String::new(),
    };
    let mut release = Release::new(spec).expect("valid fixture");
    finish(&mut release, Phase::Succeeded);
    release
}

/// Marks a record finished with `phase`.
pub fn finish(release: &mut Release, phase: Phase) {
    let status = &mut release.status;
    status.phase = phase;
    status.step = Step::Done;
    status.revision = 100;
    match phase {
        Phase::Succeeded | Phase::Incomplete => {
            status.point_of_no_return = true;
            status.reached = Some(Stage::Cleanup);
            status.weight = 100;
            status.stage = Some(Stage::Cleanup);
        }
        _ => {
            status.reached = Some(Stage::Application);
            status.stage = Some(Stage::Application);
        }
    }
}

/// A succeeded deploy.
pub fn done(service: &str, number: u64, previous: Option<u64>) -> Release {
    record(service, number, previous)
}

/// A canary holding `weight` percent.
pub fn canary(service: &str, number: u64, previous: u64, weight: u8) -> Release {
    let mut release = record(service, number, Some(previous));
    release.spec.strategy = Strategy::Canary;
    release.spec.kind = ReleaseKind::Canary;
    // The spec changed: its digest is the fingerprint of what it now holds.
    release.spec.digest = release.spec.fingerprint();
    let status = &mut release.status;
    status.phase = Phase::Running;
    status.step = Step::CanaryHold;
    status.point_of_no_return = false;
    status.reached = Some(Stage::Balancing);
    status.stage = Some(Stage::Balancing);
    status.weight = weight;
    status.revision = 4 + u64::from(weight);
    release
}

/// A release still rolling out its application stage (not committed).
pub fn rolling_out(service: &str, number: u64, previous: u64) -> Release {
    let mut release = record(service, number, Some(previous));
    let status = &mut release.status;
    status.phase = Phase::Running;
    status.step = Step::Rollout {
        stage: Stage::Application,
    };
    status.point_of_no_return = false;
    status.reached = Some(Stage::Application);
    status.stage = Some(Stage::Application);
    status.weight = 0;
    status.revision = 3;
    release
}

/// The tombstone of `service` at `number`.
pub fn tombstone(service: &str, number: u64) -> Release {
    Release::tombstone(
        service,
        "prod",
        Version(number),
        CLUSTERS.iter().map(|c| (*c).to_owned()).collect(),
        "bob",
        Timestamp("2026-11-22T09:00:00Z".to_owned()),
    )
}

/// A service running `versions` with `traffic`.
pub fn live(versions: &[u64], traffic: Option<Traffic>) -> LiveService {
    LiveService {
        versions: versions.iter().copied().map(Version).collect(),
        traffic,
        lease: None,
    }
}

/// All traffic to `version`.
pub fn all(version: u64) -> Option<Traffic> {
    Some(Traffic::all(Version(version)))
}

/// `weight`% to `version`, the rest to `stable`.
pub fn split(version: u64, weight: u8, stable: u64) -> Option<Traffic> {
    Some(Traffic {
        version: Version(version),
        weight,
        stable: Some(Version(stable)),
    })
}

/// A lease.
pub fn lease(holder: &str, expired: bool) -> Option<Lease> {
    Some(Lease {
        holder: holder.to_owned(),
        expired,
    })
}

/// A reachable cluster's snapshot.
pub fn snapshot(cluster: &str, records: Vec<Release>, live: Vec<(&str, LiveService)>) -> Snapshot {
    Snapshot {
        cluster: cluster.to_owned(),
        reachable: true,
        records,
        live: live
            .into_iter()
            .map(|(service, l)| (service.to_owned(), l))
            .collect::<BTreeMap<_, _>>(),
    }
}

/// Performs a plan's actions on the snapshots, as the adapter would on the
/// clusters (every object becomes ready at once).
pub fn perform_plan(snapshots: &mut [Snapshot], plan: &sync::Plan) {
    for (service, service_plan) in &plan.services {
        for action in service_plan.actions() {
            let Some(snapshot) = snapshots.iter_mut().find(|s| s.cluster == action.cluster())
            else {
                continue;
            };
            match action {
                SyncAction::Delete { version, .. } => {
                    if let Some(live) = snapshot.live.get_mut(service) {
                        live.versions.remove(version);
                    }
                }
                SyncAction::DeleteService { .. } => {
                    snapshot.live.remove(service);
                }
                SyncAction::Apply { version, .. } => {
                    snapshot
                        .live
                        .entry(service.clone())
                        .or_default()
                        .versions
                        .insert(*version);
                }
                SyncAction::SwitchTraffic { traffic, .. } => {
                    snapshot.live.entry(service.clone()).or_default().traffic = Some(*traffic);
                }
                SyncAction::WriteRecord { release, .. } => {
                    let key = (&release.spec.service, release.spec.number);
                    snapshot
                        .records
                        .retain(|r| (&r.spec.service, r.spec.number) != key);
                    snapshot.records.push((**release).clone());
                }
                SyncAction::DeleteRecord { version, .. } => {
                    snapshot
                        .records
                        .retain(|r| (&r.spec.service, r.spec.number) != (service, *version));
                }
                SyncAction::WaitReady { .. } => {}
            }
        }
    }
}
