//! Drives the test cluster only through `kube::Client` over loopback HTTP,
//! as the adapter will.

// Helpers outside `#[test]` functions unwrap too; a panic is a test failure.
#![allow(clippy::unwrap_used)]

mod apply;
mod cluster;
mod controllers;
mod crd;
mod fuzz;
mod rest;
mod runtime;
mod support;
