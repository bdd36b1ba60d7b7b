//! Snapshots for sync, and performing sync's actions.
//!
//! A snapshot is what one cluster holds: its `Release` records (every one a
//! peer copy with the manifests of every cluster), and per service the
//! versions whose objects exist, the traffic split recorded on the
//! balancing objects, and the lease. A cluster that does not answer gives a
//! snapshot marked unreachable, which sync leaves alone.

use std::collections::{BTreeMap, BTreeSet};

use k8s_openapi::api::core::v1::Namespace;
use kube::api::{Api, DeleteParams};
use release::{Failure, ObjectRef, Reason};
use sync::{LiveService, Plan, Snapshot, SyncAction, Traffic};

use crate::apply;
use crate::connect::ClusterClient;
use crate::error::Result;
use crate::executor::Executor;
use crate::lease;
use crate::readiness;
use crate::records;

/// Reads one snapshot per cluster, in parallel. Live state is read for
/// every service that has a record in any cluster that answered.
pub async fn read_snapshots(executor: &Executor, clusters: &[String]) -> Vec<Snapshot> {
    let reads = clusters.iter().map(|name| async move {
        let Ok(cluster) = executor.cluster(name) else {
            return (name.clone(), None);
        };
        match records::list_records(cluster, None).await {
            // Damaged records are left out: sync sees the copies that read back.
            Ok(list) => (
                name.clone(),
                Some(list.into_iter().filter_map(Result::ok).collect()),
            ),
            // No `Release` CRD: a new or wiped cluster holds no records.
            Err(e) if e.status_code() == Some(404) => (name.clone(), Some(Vec::new())),
            Err(_) => (name.clone(), None),
        }
    });
    let records: Vec<(String, Option<Vec<release::Release>>)> =
        futures_util::future::join_all(reads).await;
    let services: BTreeSet<String> = records
        .iter()
        .filter_map(|(_, r)| r.as_ref())
        .flatten()
        .map(|r| r.spec.service.clone())
        .collect();
    let snapshots = records.into_iter().map(|(name, records)| {
        let services = &services;
        async move {
            let Some(records) = records else {
                return unreachable(&name);
            };
            let Ok(cluster) = executor.cluster(&name) else {
                return unreachable(&name);
            };
            let mut live = BTreeMap::new();
            for service in services {
                match read_live(cluster, service).await {
                    Ok(Some(state)) => {
                        live.insert(service.clone(), state);
                    }
                    Ok(None) => {}
                    Err(_) => return unreachable(&name),
                }
            }
            Snapshot {
                cluster: name,
                reachable: true,
                records,
                live,
            }
        }
    });
    futures_util::future::join_all(snapshots).await
}

fn unreachable(name: &str) -> Snapshot {
    Snapshot {
        cluster: name.to_owned(),
        reachable: false,
        ..Snapshot::default()
    }
}

fn missing_is_empty<T: Default>(result: Result<T>) -> Result<T> {
    match result {
        Err(e) if e.status_code() == Some(404) => Ok(T::default()),
        other => other,
    }
}

/// What runs of one service in one cluster (`None`: nothing at all).
pub async fn read_live(cluster: &ClusterClient, service: &str) -> Result<Option<LiveService>> {
    let versions = missing_is_empty(apply::live_versions(cluster, service).await)?;
    let traffic = missing_is_empty(apply::live_traffic(cluster, service).await)?
        .and_then(|v| serde_json::from_value::<Traffic>(v).ok())
        .map(Traffic::normalised);
    let lease = lease::read_lease(cluster, service)
        .await?
        .map(|(holder, expired)| sync::Lease { holder, expired });
    let state = LiveService {
        versions,
        traffic,
        lease,
    };
    Ok((state != LiveService::default()).then_some(state))
}

/// What performing a sync plan gave.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct SyncReport {
    /// Actions performed.
    pub done: usize,
    /// Failures; a cluster's remaining actions for that service were skipped.
    pub failures: Vec<Failure>,
}

/// Performs a sync plan: per cluster and service in the order given,
/// clusters in parallel. A failed wait stops that cluster's remaining
/// actions for the service (traffic never goes to a version that is not
/// ready).
pub async fn execute_plan(executor: &Executor, plan: &Plan) -> SyncReport {
    let mut per_cluster: BTreeMap<&str, Vec<(&str, &SyncAction)>> = BTreeMap::new();
    for (service, service_plan) in &plan.services {
        for action in service_plan.actions() {
            per_cluster
                .entry(action.cluster())
                .or_default()
                .push((service.as_str(), action));
        }
    }
    let runs = per_cluster.into_iter().map(|(name, actions)| async move {
        let mut report = SyncReport::default();
        let Ok(cluster) = executor.cluster(name) else {
            return report;
        };
        let mut stopped: BTreeSet<&str> = BTreeSet::new();
        for (service, action) in actions {
            if stopped.contains(service) {
                continue;
            }
            match perform(cluster, service, action).await {
                Ok(()) => report.done += 1,
                Err(error) => {
                    let (object, reason, message) = *error;
                    report.failures.push(Failure {
                        cluster: name.to_owned(),
                        object,
                        reason,
                        message,
                    });
                    stopped.insert(service);
                }
            }
        }
        report
    });
    let mut total = SyncReport::default();
    for report in futures_util::future::join_all(runs).await {
        total.done += report.done;
        total.failures.extend(report.failures);
    }
    total
}

type ActionError = Box<(Option<ObjectRef>, Reason, String)>;

fn from_error(object: Option<ObjectRef>, e: &crate::Error) -> ActionError {
    let (reason, message) = apply::classify_error(e);
    Box::new((object, reason, message))
}

async fn perform(
    cluster: &ClusterClient,
    service: &str,
    action: &SyncAction,
) -> Result<(), ActionError> {
    match action {
        SyncAction::WriteRecord { release, .. } => records::save_record(cluster, release)
            .await
            .map_err(|e| from_error(None, &e)),
        SyncAction::DeleteRecord {
            service, version, ..
        } => records::delete_record(cluster, service, *version)
            .await
            .map_err(|e| from_error(None, &e)),
        SyncAction::Apply { objects, .. } => {
            let (_, error) =
                apply::apply_objects(cluster, objects, release::planner::FIELD_MANAGER).await;
            error.map_or(Ok(()), |(object, e)| Err(from_error(Some(object), &e)))
        }
        SyncAction::WaitReady { objects, .. } => {
            for object in objects {
                match readiness::wait_ready(cluster, object, None).await {
                    Ok(Ok(())) => {}
                    Ok(Err(not_ready)) => {
                        return Err(Box::new((
                            Some(object.clone()),
                            not_ready.reason,
                            not_ready.message,
                        )));
                    }
                    Err(e) => return Err(from_error(Some(object.clone()), &e)),
                }
            }
            Ok(())
        }
        SyncAction::SwitchTraffic {
            traffic, objects, ..
        } => apply::switch_traffic(
            cluster,
            service,
            objects,
            traffic.version,
            traffic.stable,
            traffic.weight,
        )
        .await
        .map_err(|e| from_error(None, &e)),
        SyncAction::Delete { version, .. } => apply::delete_version(cluster, service, *version)
            .await
            .map(|_| ())
            .map_err(|e| from_error(None, &e)),
        SyncAction::DeleteService { .. } => {
            let api: Api<Namespace> = Api::all(cluster.client().clone());
            records::delete_ignoring_missing(cluster, api.delete(service, &DeleteParams::default()))
                .await
                .map_err(|e| from_error(None, &e))
        }
    }
}
