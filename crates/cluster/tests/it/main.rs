//! Integration tests of the cluster adapter against `sim-cluster` servers on
//! loopback, driven only through `kube::Client`.

mod connect;
mod copies;
mod deploy;
mod records;
mod support;
mod sync;
