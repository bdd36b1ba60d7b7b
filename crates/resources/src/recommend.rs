//! From usage samples to requests and limits: the formula of the crate
//! docs, with every knob in [`Policy`].

use std::collections::BTreeMap;

use crate::file::{ContainerResources, Recommendations};
use crate::quantity::{Cpu, Memory, ceil_u64};
use crate::usage::{ContainerUsage, Sample, Usage};
use crate::{Error, Resource};

const DAY: f64 = 86_400.0;
const HOUR: f64 = 3_600.0;
const MI: u64 = 1 << 20;
const GI: u64 = 1 << 30;

/// The knobs of one resource. Amounts are in the resource's unit:
/// millicores (CPU), bytes (memory), Mbit/s (network).
#[derive(Debug, Clone, PartialEq)]
pub struct ResourcePolicy {
    /// Percentile of the samples the request starts from, in (0, 100].
    pub percentile: f64,
    /// Safety margin added on top, as a fraction (`0.15` is 15%); at least 0.
    pub margin: f64,
    /// The smallest request ever recommended.
    pub floor: u64,
    /// The largest request ever recommended (at least `floor`).
    pub ceiling: u64,
    /// Requests are rounded up to a multiple of this (at least 1).
    pub step: u64,
}

/// Whether recommended containers get a CPU limit.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum CpuLimit {
    /// No CPU limit is written (the platform's `cpu_limit = "none"`).
    None,
    /// CPU limit = request × factor (at least 1), rounded up to the CPU step.
    Factor(f64),
}

/// Every knob of the recommender. [`Policy::default`] documents the defaults.
#[derive(Debug, Clone, PartialEq)]
pub struct Policy {
    /// CPU, in millicores. Default: p95, 15% margin, floor 10m, ceiling 8
    /// cores, step 5m.
    pub cpu: ResourcePolicy,
    /// Memory, in bytes. Default: p95, 20% margin, floor 32Mi, ceiling
    /// 32Gi, step 1Mi.
    pub memory: ResourcePolicy,
    /// Network (`paas.io/netutil`), in Mbit/s. Default: p95, 20% margin,
    /// floor 1, ceiling 10000, step 1.
    pub network: ResourcePolicy,
    /// How far ahead the trend is projected, in seconds (never further than
    /// the history reaches back). Default: 7 days, the usual time between
    /// two runs of the recommender.
    pub horizon_seconds: f64,
    /// Fewer samples than this is not enough history: the container keeps
    /// its size preset for that resource. Default: 12.
    pub min_samples: usize,
    /// A history shorter than this (last sample time minus first) is not
    /// enough either. Default: 1 hour.
    pub min_history_seconds: f64,
    /// Memory limit = request × this (at least 1). Default: 1, the
    /// platform's rule that the memory limit equals the request (a pod is
    /// never killed for using what it asked for, and never overcommits a
    /// node).
    pub memory_limit_factor: f64,
    /// The CPU limit. Default: 2 × the request.
    pub cpu_limit: CpuLimit,
}

impl Default for Policy {
    fn default() -> Policy {
        Policy {
            cpu: ResourcePolicy {
                percentile: 95.0,
                margin: 0.15,
                floor: 10,
                ceiling: 8_000,
                step: 5,
            },
            memory: ResourcePolicy {
                percentile: 95.0,
                margin: 0.20,
                floor: 32 * MI,
                ceiling: 32 * GI,
                step: MI,
            },
            network: ResourcePolicy {
                percentile: 95.0,
                margin: 0.20,
                floor: 1,
                ceiling: 10_000,
                step: 1,
            },
            horizon_seconds: 7.0 * DAY,
            min_samples: 12,
            min_history_seconds: HOUR,
            memory_limit_factor: 1.0,
            cpu_limit: CpuLimit::Factor(2.0),
        }
    }
}

impl Policy {
    /// The knobs of one resource.
    pub fn resource(&self, resource: Resource) -> &ResourcePolicy {
        match resource {
            Resource::Cpu => &self.cpu,
            Resource::Memory => &self.memory,
            Resource::Network => &self.network,
        }
    }

    /// Checks every knob; [`recommend`] refuses a policy that fails this.
    pub fn validate(&self) -> Result<(), Error> {
        let invalid = |field: String, message: &str| {
            Err(Error::Policy {
                field,
                message: message.to_owned(),
            })
        };
        for r in Resource::ALL {
            let p = self.resource(r);
            let name = r.as_str();
            if !(p.percentile > 0.0 && p.percentile <= 100.0) {
                return invalid(format!("{name}.percentile"), "must be in (0, 100]");
            }
            if !(p.margin >= 0.0 && p.margin.is_finite()) {
                return invalid(format!("{name}.margin"), "must be a finite fraction >= 0");
            }
            if p.floor > p.ceiling {
                return invalid(format!("{name}.floor"), "must not exceed the ceiling");
            }
            if p.step == 0 {
                return invalid(format!("{name}.step"), "must be at least 1");
            }
        }
        if !(self.horizon_seconds >= 0.0 && self.horizon_seconds.is_finite()) {
            return invalid("horizon_seconds".into(), "must be finite and >= 0");
        }
        if !(self.min_history_seconds >= 0.0 && self.min_history_seconds.is_finite()) {
            return invalid("min_history_seconds".into(), "must be finite and >= 0");
        }
        if self.min_samples < 2 {
            return invalid(
                "min_samples".into(),
                "must be at least 2 (a trend needs two points)",
            );
        }
        if !(self.memory_limit_factor >= 1.0 && self.memory_limit_factor.is_finite()) {
            return invalid(
                "memory_limit_factor".into(),
                "must be finite and >= 1 (a limit below the request is invalid)",
            );
        }
        if let CpuLimit::Factor(f) = self.cpu_limit
            && !(f >= 1.0 && f.is_finite())
        {
            return invalid(
                "cpu_limit".into(),
                "the factor must be finite and >= 1 (a limit below the request is invalid)",
            );
        }
        Ok(())
    }
}

/// Which bound, if any, decided a request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Bound {
    /// The estimate was below the floor.
    Floor,
    /// The estimate was above the ceiling.
    Ceiling,
}

/// How one request was computed, in the resource's unit (millicores,
/// bytes, Mbit/s; the slope per second).
#[derive(Debug, Clone, PartialEq)]
pub struct Estimate {
    /// Samples used.
    pub samples: usize,
    /// Seconds from the first sample to the last.
    pub span_seconds: f64,
    /// The policy's percentile of the values (p95 by default).
    pub percentile: f64,
    /// Least-squares slope over time of the values capped at the
    /// percentile, per second.
    pub slope_per_second: f64,
    /// What the trend adds: `max(0, slope) × min(horizon, span)`.
    pub growth: f64,
    /// `(percentile + growth) × (1 + margin)`, before rounding and bounds.
    pub target: f64,
    /// The request: the target rounded up to the step, within floor and ceiling.
    pub request: u64,
    /// Set when the floor or the ceiling decided the request.
    pub bounded: Option<Bound>,
}

/// The result for one resource of one container.
#[derive(Debug, Clone, PartialEq)]
pub enum Outcome {
    /// Enough history: a recommended request.
    Recommended(Estimate),
    /// Not enough history: the size preset stays.
    Insufficient {
        /// Usable samples found.
        samples: usize,
        /// Seconds from the first usable sample to the last (0 without samples).
        span_seconds: f64,
    },
}

impl Outcome {
    /// The estimate, when there is one.
    pub fn estimate(&self) -> Option<&Estimate> {
        match self {
            Outcome::Recommended(e) => Some(e),
            Outcome::Insufficient { .. } => None,
        }
    }
}

/// Nearest-rank percentile of sorted values: the smallest value with at
/// least `p`% of the values at or below it. `sorted` is not empty.
fn percentile(sorted: &[f64], p: f64) -> f64 {
    let n = sorted.len();
    let rank = ceil_u64(p / 100.0 * n as f64).clamp(1, n as u64);
    sorted[(rank - 1) as usize]
}

/// Least-squares slope of `value` over `t` (0 when every `t` is the same).
fn slope(samples: &[(f64, f64)]) -> f64 {
    let n = samples.len() as f64;
    let t_mean = samples.iter().map(|s| s.0).sum::<f64>() / n;
    let v_mean = samples.iter().map(|s| s.1).sum::<f64>() / n;
    let (mut num, mut den) = (0.0, 0.0);
    for (t, v) in samples {
        let dt = t - t_mean;
        num += dt * (v - v_mean);
        den += dt * dt;
    }
    let b = num / den;
    if den > 0.0 && b.is_finite() { b } else { 0.0 }
}

/// Rounds a non-negative amount up to a multiple of `step`, within
/// `floor..=ceiling`; says which bound decided. Never panics, whatever the
/// input (NaN counts as 0).
fn bound(target: f64, p: &ResourcePolicy) -> (u64, Option<Bound>) {
    let step = p.step.max(1);
    let ceiling = p.ceiling.max(p.floor);
    let units = ceil_u64(target / step as f64);
    let rounded = units.saturating_mul(step);
    if rounded > ceiling {
        (ceiling, Some(Bound::Ceiling))
    } else if rounded < p.floor {
        (p.floor, Some(Bound::Floor))
    } else {
        (rounded, None)
    }
}

/// The request of one resource from its samples (in the input unit:
/// cores, bytes, Mbit/s). Samples with a non-finite time or value are
/// ignored and negative values count as 0, so any input gives an answer
/// within the policy's floor and ceiling.
pub fn estimate(samples: &[Sample], resource: Resource, policy: &Policy) -> Outcome {
    let scale = resource.unit_per_input();
    let points: Vec<(f64, f64)> = samples
        .iter()
        .filter(|s| s.t.is_finite() && s.value.is_finite())
        .map(|s| (s.t, (s.value * scale).max(0.0)))
        .filter(|(_, v)| v.is_finite())
        .collect();
    let n = points.len();
    let (first, last) = points
        .iter()
        .fold((f64::INFINITY, f64::NEG_INFINITY), |(lo, hi), (t, _)| {
            (lo.min(*t), hi.max(*t))
        });
    let span = if n == 0 { 0.0 } else { last - first };
    let span = if span.is_finite() { span } else { f64::MAX };
    if n < policy.min_samples.max(2) || span < policy.min_history_seconds || span <= 0.0 {
        return Outcome::Insufficient {
            samples: n,
            span_seconds: span,
        };
    }
    let p = policy.resource(resource);
    let mut values: Vec<f64> = points.iter().map(|(_, v)| *v).collect();
    values.sort_by(f64::total_cmp);
    let q = percentile(&values, p.percentile);
    // The trend is fitted to the values capped at the percentile: a spike
    // the percentile ignores must not come back as a steep slope (one
    // spike at the end of a week would otherwise double a request).
    let capped: Vec<(f64, f64)> = points.iter().map(|(t, v)| (*t, v.min(q))).collect();
    let b = slope(&capped);
    let horizon = policy.horizon_seconds.min(span).max(0.0);
    let growth = (b.max(0.0) * horizon).max(0.0);
    let target = (q + growth) * (1.0 + p.margin.max(0.0));
    let (request, bounded) = bound(target, p);
    Outcome::Recommended(Estimate {
        samples: n,
        span_seconds: span,
        percentile: q,
        slope_per_second: b,
        growth,
        target,
        request,
        bounded,
    })
}

/// A limit of `factor` × the request, rounded up to `step`, never below the
/// request.
fn limit(request: u64, factor: f64, step: u64) -> u64 {
    let step = step.max(1);
    let scaled = ceil_u64(request as f64 * factor.max(1.0) / step as f64).saturating_mul(step);
    scaled.max(request)
}

/// The outcome for each resource of one container.
#[derive(Debug, Clone, PartialEq)]
pub struct ContainerReport {
    /// CPU (millicores).
    pub cpu: Outcome,
    /// Memory (bytes).
    pub memory: Outcome,
    /// Network, `paas.io/netutil` (Mbit/s); `None` when the usage has no
    /// network series for the container.
    pub network: Option<Outcome>,
}

impl ContainerReport {
    /// The outcome of one resource (`None` for network without series).
    pub fn outcome(&self, resource: Resource) -> Option<&Outcome> {
        match resource {
            Resource::Cpu => Some(&self.cpu),
            Resource::Memory => Some(&self.memory),
            Resource::Network => self.network.as_ref(),
        }
    }

    /// The entry of the recommendations file: a request (and its limit)
    /// for each resource with enough history; nothing for the others, which
    /// keep their size preset.
    pub fn resources(&self, policy: &Policy) -> ContainerResources {
        let cpu = self.cpu.estimate().map(|e| e.request);
        let memory = self.memory.estimate().map(|e| e.request);
        ContainerResources {
            cpu: cpu.map(Cpu),
            cpu_limit: match policy.cpu_limit {
                CpuLimit::None => None,
                CpuLimit::Factor(f) => cpu.map(|c| Cpu(limit(c, f, policy.cpu.step))),
            },
            memory: memory.map(Memory),
            memory_limit: memory
                .map(|m| Memory(limit(m, policy.memory_limit_factor, policy.memory.step))),
            netutil: self
                .network
                .as_ref()
                .and_then(Outcome::estimate)
                .map(|e| u32::try_from(e.request).unwrap_or(u32::MAX)),
        }
    }
}

/// The outcome of one container's usage.
pub fn recommend_container(usage: &ContainerUsage, policy: &Policy) -> ContainerReport {
    ContainerReport {
        cpu: estimate(&usage.cpu, Resource::Cpu, policy),
        memory: estimate(&usage.memory, Resource::Memory, policy),
        network: (!usage.network.is_empty())
            .then(|| estimate(&usage.network, Resource::Network, policy)),
    }
}

/// Recommendations for every container of a usage file.
#[derive(Debug, Clone, PartialEq)]
pub struct Report {
    /// The policy the report was computed with.
    pub policy: Policy,
    /// The outcome per container.
    pub containers: BTreeMap<String, ContainerReport>,
}

/// Computes the [`Report`] of every container in `usage`; fails only on
/// an invalid policy.
pub fn recommend(usage: &Usage, policy: &Policy) -> Result<Report, Error> {
    policy.validate()?;
    Ok(Report {
        policy: policy.clone(),
        containers: usage
            .containers
            .iter()
            .map(|(name, u)| (name.clone(), recommend_container(u, policy)))
            .collect(),
    })
}

impl Report {
    /// The recommendations file of this report for `service`: one entry
    /// per container with at least one recommended resource.
    pub fn recommendations(&self, service: &str, file: &str) -> Recommendations {
        Recommendations {
            file: file.to_owned(),
            service: Some(service.to_owned()),
            containers: self
                .containers
                .iter()
                .map(|(name, c)| (name.clone(), c.resources(&self.policy)))
                .filter(|(_, r)| !r.is_empty())
                .collect(),
        }
    }

    /// The recommendations file as TOML, with a comment per container
    /// saying what each value was computed from.
    pub fn to_toml(&self, service: &str) -> String {
        let recs = self.recommendations(service, "");
        let mut notes = BTreeMap::new();
        for (name, c) in &self.containers {
            let mut lines = Vec::new();
            for r in Resource::ALL {
                if let Some(o) = c.outcome(r) {
                    lines.push(format!(
                        "{}: {}",
                        r.as_str(),
                        describe(r, o, self.policy.resource(r))
                    ));
                }
            }
            notes.insert(name.clone(), lines);
        }
        recs.write_toml(&notes)
    }
}

/// One line on how an outcome came about, in the resource's own terms:
/// `72 samples over 3d: p95 212m, trend +1m/day, +15%`.
pub fn describe(resource: Resource, outcome: &Outcome, policy: &ResourcePolicy) -> String {
    match outcome {
        Outcome::Insufficient {
            samples,
            span_seconds,
        } => {
            if *samples == 0 {
                "no usage: keeps the size preset".to_owned()
            } else {
                format!(
                    "not enough history ({samples} samples over {}): keeps the size preset",
                    duration(*span_seconds)
                )
            }
        }
        Outcome::Recommended(e) => {
            let per_day = e.slope_per_second * DAY;
            let magnitude = resource.amount(per_day.abs());
            let digits: String = magnitude
                .chars()
                .take_while(|c| c.is_ascii_digit() || *c == '.')
                .collect();
            let trend = if digits.parse::<f64>().is_ok_and(|v| v == 0.0) {
                "flat".to_owned()
            } else if per_day > 0.0 {
                format!("+{magnitude}/day")
            } else {
                format!("-{magnitude}/day (not subtracted)")
            };
            let bound = match e.bounded {
                Some(Bound::Floor) => ", raised to the floor",
                Some(Bound::Ceiling) => ", capped at the ceiling",
                None => "",
            };
            format!(
                "{} samples over {}: p{} {}, trend {trend}, +{}%{bound}",
                e.samples,
                duration(e.span_seconds),
                trim_float(policy.percentile),
                resource.amount(e.percentile),
                trim_float(policy.margin * 100.0),
            )
        }
    }
}

fn trim_float(v: f64) -> String {
    let s = format!("{v:.1}");
    s.strip_suffix(".0").map(str::to_owned).unwrap_or(s)
}

/// `3d`, `5h`, `40m`, `12s`: the largest unit, rounded down, with one more
/// unit when it adds information (`2d 6h`).
pub fn duration(seconds: f64) -> String {
    let s = if seconds.is_finite() && seconds > 0.0 {
        seconds as u64
    } else {
        0
    };
    let (d, h, m) = (s / 86_400, s % 86_400 / 3_600, s % 3_600 / 60);
    match (d, h, m) {
        (0, 0, 0) => format!("{s}s"),
        (0, 0, m) => format!("{m}m"),
        (0, h, 0) => format!("{h}h"),
        (0, h, m) => format!("{h}h {m}m"),
        (d, 0, _) => format!("{d}d"),
        (d, h, _) => format!("{d}d {h}h"),
    }
}
