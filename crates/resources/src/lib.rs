//! Resource recommendations: from what containers used to what they should
//! request.
//!
//! Usage series per container come in as values ([`parse_usage`]:
//! Prometheus range-query JSON or CSV, see [`usage`] for how containers and
//! resources are told apart); [`recommend`] turns them into a [`Report`],
//! whose [`Report::to_toml`] is the recommendations file
//! ([`Recommendations`], see [`mod@file`]) that the manifest generator reads in
//! place of size presets.
//!
//! # The formula
//!
//! For each container and resource (CPU in millicores, memory in bytes,
//! network in Mbit/s), with the samples `(tᵢ, vᵢ)`, `i = 1..n`, and the
//! knobs of [`Policy`] (defaults in parentheses):
//!
//! 1. **Enough history?** `n ≥ min_samples` (12) and
//!    `span = max tᵢ − min tᵢ ≥ min_history` (1 h). Otherwise the resource
//!    keeps its size preset.
//! 2. **Percentile:** `q` = the nearest-rank `percentile` (p95) of the `vᵢ`:
//!    the smallest value with at least 95% of the samples at or below it.
//!    A short spike above it does not move the request.
//! 3. **Trend:** the least-squares slope of the values capped at the
//!    percentile, `cᵢ = min(vᵢ, q)`:
//!    `b = Σ(tᵢ − t̄)(cᵢ − c̄) / Σ(tᵢ − t̄)²`, projected over
//!    `h = min(horizon, span)` (7 days): `growth = max(0, b) · h`. Capping
//!    keeps a spike that the percentile ignores from coming back as a
//!    steep trend; a falling trend is not subtracted (the percentile
//!    already describes the present); and the projection never reaches
//!    further ahead than the history reaches back, so one day of data
//!    never predicts a week.
//! 4. **Margin:** `target = (q + growth) · (1 + margin)` (CPU 15%, memory
//!    and network 20%).
//! 5. **Rounding and bounds:** `request = clamp(⌈target / step⌉ · step,
//!    floor, ceiling)` (CPU: step 5m, 10m to 8 cores; memory: step 1Mi,
//!    32Mi to 32Gi; network: step 1, 1 to 10000 Mbit/s).
//! 6. **Limits:** memory limit = `⌈request · memory_limit_factor⌉` (1: the
//!    limit is the request); CPU limit = `⌈request · factor⌉` or none, per
//!    [`CpuLimit`] (2 ×; none when the platform sets no CPU limits); the
//!    network extended resource has limit = request (a Kubernetes rule for
//!    extended resources), a whole number of Mbit/s.
//!
//! Examples (the unit tests): a constant 0.2 cores gives `q = 200m`,
//! `b = 0`, `200m · 1.15 = 230m`. One spike of 5 cores among 99 samples of
//! 0.1 cores gives `q = 100m` and, capped, no trend: 115m. Memory growing
//! linearly from 100Mi to 200Mi over 100 hours (101 hourly samples) gives
//! `q = 195Mi`, a slope of 0.9915Mi/h (1Mi/h before the five values above
//! `q` are capped), `h = min(7d, 100h) = 100h`,
//! `(195 + 99.15) · 1.2 = 352.98 → 353Mi`.
//!
//! **Architecture Invariant:** pure: no I/O, no clock, no environment.
//! Text comes in, values and text come out; whatever the input, requests
//! stay within the policy's floor and ceiling (property-tested).

pub mod file;
mod quantity;
mod recommend;
pub mod usage;

use std::fmt;

pub use file::{ContainerResources, Recommendations, is_container_name};
pub use quantity::{Cpu, Memory, parse_quantity};
pub use recommend::{
    Bound, ContainerReport, CpuLimit, Estimate, Outcome, Policy, Report, ResourcePolicy, describe,
    duration, estimate, recommend, recommend_container,
};
pub use usage::{ContainerUsage, Sample, Usage, parse_csv, parse_prometheus, parse_usage};

/// A resource the recommender sizes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Resource {
    /// CPU: samples in cores, requests in millicores.
    Cpu,
    /// Memory (working set): samples and requests in bytes.
    Memory,
    /// Network, the `paas.io/netutil` extended resource: Mbit/s.
    Network,
}

impl Resource {
    /// Every resource, in the order of reports.
    pub const ALL: [Resource; 3] = [Resource::Cpu, Resource::Memory, Resource::Network];

    /// `cpu`, `memory`, `network`.
    pub fn as_str(self) -> &'static str {
        match self {
            Resource::Cpu => "cpu",
            Resource::Memory => "memory",
            Resource::Network => "network",
        }
    }

    /// The resource a label value or key names: `cpu`, `memory`, and
    /// `network`, `netutil` or `paas.io/netutil`.
    pub fn from_name(name: &str) -> Option<Resource> {
        match name.trim().to_ascii_lowercase().as_str() {
            "cpu" => Some(Resource::Cpu),
            "memory" | "mem" => Some(Resource::Memory),
            "network" | "netutil" | "paas.io/netutil" | "net" => Some(Resource::Network),
            _ => None,
        }
    }

    /// The CSV column of the resource.
    pub fn column(self) -> &'static str {
        match self {
            Resource::Cpu => "cpu_cores",
            Resource::Memory => "memory_bytes",
            Resource::Network => "network_mbps",
        }
    }

    /// The factor from the input unit (cores, bytes, Mbit/s) to the unit
    /// of requests (millicores, bytes, Mbit/s).
    pub fn unit_per_input(self) -> f64 {
        match self {
            Resource::Cpu => 1000.0,
            Resource::Memory | Resource::Network => 1.0,
        }
    }

    /// An amount in the request unit, for people: `212m`, `195.3Mi`,
    /// `1.25Gi`, `40.2Mbit/s`.
    pub fn amount(self, v: f64) -> String {
        fn trim(s: String) -> String {
            match s.strip_suffix(".0") {
                Some(t) => t.to_owned(),
                None => s,
            }
        }
        match self {
            Resource::Cpu => format!("{}m", trim(format!("{v:.0}"))),
            Resource::Memory => {
                const MI: f64 = (1u64 << 20) as f64;
                const GI: f64 = (1u64 << 30) as f64;
                if v.abs() >= GI {
                    format!("{}Gi", trim(format!("{:.2}", v / GI)))
                } else if v.abs() >= MI / 10.0 || v == 0.0 {
                    format!("{}Mi", trim(format!("{:.1}", v / MI)))
                } else {
                    format!("{}Ki", trim(format!("{:.0}", v / 1024.0)))
                }
            }
            Resource::Network => format!("{}Mbit/s", trim(format!("{v:.1}"))),
        }
    }
}

impl fmt::Display for Resource {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Errors of reading usage and recommendations, and of an invalid policy.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Error {
    /// A usage file (Prometheus JSON or CSV) is malformed.
    #[error("{location}: {message}")]
    Usage {
        /// Where: `line 7`, `response 2, series 3, value 14`.
        location: String,
        /// What is wrong.
        message: String,
    },
    /// A recommendations file is malformed or inconsistent.
    #[error("{file}: {message}")]
    File {
        /// The file's name.
        file: String,
        /// What is wrong (with line and column for TOML errors).
        message: String,
    },
    /// A [`Policy`] knob is out of range.
    #[error("invalid recommendation policy: `{field}` {message}")]
    Policy {
        /// The knob (`cpu.floor`).
        field: String,
        /// What is wrong.
        message: String,
    },
}

#[cfg(test)]
mod tests;
