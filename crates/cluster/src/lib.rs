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
//! - [`lease`]: the per-service Lease.
//!
//! See `docs/clusters.md`, section "Adapter".

pub mod connect;
pub mod crd;
mod error;
pub mod lease;
pub mod records;

pub use connect::{ClusterClient, Settings, connect_environment};
pub use error::{Error, Result};

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
