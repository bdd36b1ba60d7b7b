//! The cluster adapter: runs the release planner's actions against
//! Kubernetes clusters through `kube::Client`, stores releases in the
//! clusters themselves, and reads the snapshots sync needs.
//!
//! - [`connect`]: one client per cluster (kubeconfig context, in-cluster,
//!   or a URL such as an in-process `sim://` cluster's), every request
//!   bounded by a timeout, kube's retry storm off, requests counted;
//! - [`crd`]: the `Release` custom resource definition;
//! - [`records`]: the release records and their chunked manifests
//!   ConfigMaps, peer copies included;
//! - [`lease`]: the per-service Lease;
//! - [`apply`]: server-side apply, the dry run, traffic switching, deleting
//!   a version by its label;
//! - [`copies`]: test copies of a service, applied, listed and deleted by
//!   their label;
//! - [`readiness`]: readiness by watching, tied to the applied generation;
//! - [`executor`]: one planner action in one cluster -> events;
//! - [`driver`]: a release run to its end across clusters in parallel;
//! - [`snapshot`]: snapshots for sync and performing its actions.
//!
//! See `docs/clusters.md`, section "Adapter".

pub mod apply;
pub mod connect;
pub mod copies;
pub mod crd;
pub mod driver;
mod error;
pub mod executor;
pub mod lease;
pub mod readiness;
pub mod records;
pub mod snapshot;

pub use connect::{ClusterClient, Settings, connect_environment};
pub use driver::{Driver, DriverOptions, Progress, waits_for_person};
pub use error::{Error, Result};
pub use executor::Executor;

/// The namespace of the release records, their manifests and the leases.
pub const RECORDS_NAMESPACE: &str = "paas-system";

#[cfg(test)]
mod tests;

/// Makes a cluster ready to hold releases: the `Release` CRD (installed if
/// missing, waited for until Established) and the records namespace.
pub async fn prepare(cluster: &ClusterClient) -> Result<()> {
    crd::install_crd(cluster).await?;
    records::ensure_namespace(cluster).await
}
