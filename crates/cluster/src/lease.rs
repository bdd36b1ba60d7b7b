//! The per-service Lease (`coordination.k8s.io/v1`): one release per
//! service and environment at a time.
//!
//! The Lease `<svc>` lives in the records namespace of every cluster; its
//! holder is the release (`<svc>-v<N>`), which renews it while it runs and
//! gives it back at the end. A lease whose `renewTime + leaseDurationSeconds`
//! has passed is expired and may be taken by another release. Takes and
//! renewals are replaces with the read `resourceVersion`, so two deployers
//! racing for the same lease cannot both win (the loser gets 409 and is
//! told the lease is held).

use k8s_openapi::api::coordination::v1::Lease;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::MicroTime;
use kube::api::{Api, PostParams};
use serde_json::json;

use crate::connect::ClusterClient;
use crate::error::Result;

/// What taking a lease gave.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum LeaseOutcome {
    /// This holder has it now.
    Acquired,
    /// Another holder has it and it has not expired.
    Denied {
        /// The holder.
        holder: String,
    },
}

fn leases(cluster: &ClusterClient) -> Api<Lease> {
    Api::namespaced(cluster.client().clone(), &cluster.settings().namespace)
}

/// Whether a lease is expired at `now`, or held by nobody.
pub fn is_free(lease: &Lease, now: jiff::Timestamp) -> bool {
    let Some(spec) = &lease.spec else { return true };
    if spec.holder_identity.as_deref().is_none_or(str::is_empty) {
        return true;
    }
    let seconds = i64::from(spec.lease_duration_seconds.unwrap_or(0));
    let renewed = spec
        .renew_time
        .as_ref()
        .or(spec.acquire_time.as_ref())
        .map(|t| t.0);
    match renewed {
        Some(at) => at
            .checked_add(jiff::SignedDuration::from_secs(seconds))
            .is_ok_and(|end| end < now),
        None => true,
    }
}

/// The holder of the service's lease and whether it expired, if any.
pub async fn read_lease(cluster: &ClusterClient, service: &str) -> Result<Option<(String, bool)>> {
    let lease = cluster.call(leases(cluster).get_opt(service)).await?;
    let now = jiff::Timestamp::now();
    Ok(lease.and_then(|l| {
        let holder = l.spec.as_ref()?.holder_identity.clone()?;
        (!holder.is_empty()).then(|| (holder, is_free(&l, now)))
    }))
}

/// Takes (or renews) the lease of `service` for `holder`.
pub async fn acquire(
    cluster: &ClusterClient,
    service: &str,
    holder: &str,
    ttl_seconds: u64,
) -> Result<LeaseOutcome> {
    let api = leases(cluster);
    let now = jiff::Timestamp::now();
    let ttl = i32::try_from(ttl_seconds).unwrap_or(i32::MAX);
    match cluster.call(api.get_opt(service)).await? {
        None => {
            let lease = new_lease(service, holder, ttl, now);
            match cluster
                .call(api.create(&PostParams::default(), &lease))
                .await
            {
                Ok(_) => Ok(LeaseOutcome::Acquired),
                Err(e) if e.status_code() == Some(409) => {
                    Ok(denied_by_race(cluster, service).await)
                }
                Err(e) => Err(e),
            }
        }
        Some(mut lease) => {
            let current = lease
                .spec
                .as_ref()
                .and_then(|s| s.holder_identity.clone())
                .unwrap_or_default();
            if current != holder && !is_free(&lease, now) {
                return Ok(LeaseOutcome::Denied { holder: current });
            }
            let spec = lease.spec.get_or_insert_default();
            if current != holder {
                spec.acquire_time = Some(MicroTime(now));
                spec.lease_transitions = Some(spec.lease_transitions.unwrap_or(0) + 1);
            }
            spec.holder_identity = Some(holder.to_owned());
            spec.lease_duration_seconds = Some(ttl);
            spec.renew_time = Some(MicroTime(now));
            match cluster
                .call(api.replace(service, &PostParams::default(), &lease))
                .await
            {
                Ok(_) => Ok(LeaseOutcome::Acquired),
                Err(e) if e.status_code() == Some(409) => {
                    Ok(denied_by_race(cluster, service).await)
                }
                Err(e) => Err(e),
            }
        }
    }
}

/// Renews the lease only if `holder` still holds it (a lease given back is
/// not taken again by a late renewal).
pub async fn renew(
    cluster: &ClusterClient,
    service: &str,
    holder: &str,
    ttl_seconds: u64,
) -> Result<bool> {
    match read_lease(cluster, service).await? {
        Some((current, _)) if current == holder => {
            Ok(acquire(cluster, service, holder, ttl_seconds).await? == LeaseOutcome::Acquired)
        }
        _ => Ok(false),
    }
}

/// Gives the lease back if `holder` holds it.
pub async fn give_back(cluster: &ClusterClient, service: &str, holder: &str) -> Result<()> {
    let api = leases(cluster);
    let Some(mut lease) = cluster.call(api.get_opt(service)).await? else {
        return Ok(());
    };
    let spec = lease.spec.get_or_insert_default();
    if spec.holder_identity.as_deref() != Some(holder) {
        return Ok(());
    }
    spec.holder_identity = None;
    spec.renew_time = None;
    match cluster
        .call(api.replace(service, &PostParams::default(), &lease))
        .await
    {
        // Someone else took it meanwhile: it is not ours to give back.
        Err(e) if e.status_code() == Some(409) => Ok(()),
        other => other.map(|_| ()),
    }
}

async fn denied_by_race(cluster: &ClusterClient, service: &str) -> LeaseOutcome {
    let holder = read_lease(cluster, service)
        .await
        .ok()
        .flatten()
        .map(|(h, _)| h)
        .unwrap_or_default();
    LeaseOutcome::Denied { holder }
}

fn new_lease(service: &str, holder: &str, ttl: i32, now: jiff::Timestamp) -> Lease {
    let mut lease: Lease = serde_json::from_value(json!({
        "apiVersion": "coordination.k8s.io/v1", "kind": "Lease",
        "metadata": {"name": service, "labels": {"app.kubernetes.io/managed-by": "paas"}},
        "spec": {}
    }))
    .unwrap_or_default();
    let spec = lease.spec.get_or_insert_default();
    spec.holder_identity = Some(holder.to_owned());
    spec.lease_duration_seconds = Some(ttl);
    spec.acquire_time = Some(MicroTime(now));
    spec.renew_time = Some(MicroTime(now));
    spec.lease_transitions = Some(0);
    lease
}
