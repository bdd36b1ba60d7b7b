//! Prometheus metrics, hand-rolled: three families are all helmgen needs, and
//! a small mutex-guarded map costs less per request than a registry.
//!
//! - `helmgen_requests_total{route,status}`: requests by matched route
//!   (`unmatched` for 404s, so random paths cannot grow the label set);
//! - `helmgen_request_duration_seconds{route}`: latency histogram;
//! - `helmgen_render_errors_total{kind}`: failed renders by problem class.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::sync::Mutex;
use std::time::Duration;

/// Upper bounds (seconds) of the latency buckets: a render takes tens of
/// microseconds, a slow client up to the request timeout.
const BUCKETS: [f64; 14] = [
    0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1.0, 2.5, 10.0,
];

#[derive(Debug, Default)]
struct Histogram {
    /// Count per bucket (not cumulative; summed on export).
    counts: [u64; BUCKETS.len()],
    count: u64,
    sum: f64,
}

#[derive(Debug, Default)]
struct Inner {
    requests: BTreeMap<(&'static str, u16), u64>,
    latency: BTreeMap<&'static str, Histogram>,
    render_errors: BTreeMap<String, u64>,
}

/// The metrics of one server.
#[derive(Debug, Default)]
pub struct Metrics {
    inner: Mutex<Inner>,
}

impl Metrics {
    /// Records one finished request.
    pub fn observe(&self, route: &'static str, status: u16, elapsed: Duration) {
        let secs = elapsed.as_secs_f64();
        let mut inner = self.lock();
        *inner.requests.entry((route, status)).or_default() += 1;
        let h = inner.latency.entry(route).or_default();
        if let Some(i) = BUCKETS.iter().position(|b| secs <= *b) {
            h.counts[i] += 1;
        }
        h.count += 1;
        h.sum += secs;
    }

    /// Records one failed render of a problem class.
    pub fn render_error(&self, kind: &str) {
        let mut inner = self.lock();
        match inner.render_errors.get_mut(kind) {
            Some(n) => *n += 1,
            None => {
                inner.render_errors.insert(kind.to_owned(), 1);
            }
        }
    }

    /// Requests recorded for a route and status (for tests and the bench).
    pub fn requests(&self, route: &str, status: u16) -> u64 {
        self.lock()
            .requests
            .iter()
            .filter(|((r, s), _)| *r == route && *s == status)
            .map(|(_, n)| *n)
            .sum()
    }

    /// The Prometheus text exposition (format 0.0.4).
    pub fn render(&self) -> String {
        let inner = self.lock();
        let mut out = String::with_capacity(4096);
        out.push_str("# HELP helmgen_requests_total HTTP requests by matched route and status.\n");
        out.push_str("# TYPE helmgen_requests_total counter\n");
        for ((route, status), n) in &inner.requests {
            let _ = writeln!(
                out,
                "helmgen_requests_total{{route=\"{route}\",status=\"{status}\"}} {n}"
            );
        }
        out.push_str(
            "# HELP helmgen_request_duration_seconds Time from request to response head.\n",
        );
        out.push_str("# TYPE helmgen_request_duration_seconds histogram\n");
        for (route, h) in &inner.latency {
            let mut cumulative = 0;
            for (bound, n) in BUCKETS.iter().zip(h.counts) {
                cumulative += n;
                let _ = writeln!(
                    out,
                    "helmgen_request_duration_seconds_bucket{{route=\"{route}\",le=\"{bound}\"}} {cumulative}"
                );
            }
            let _ = writeln!(
                out,
                "helmgen_request_duration_seconds_bucket{{route=\"{route}\",le=\"+Inf\"}} {}",
                h.count
            );
            let _ = writeln!(
                out,
                "helmgen_request_duration_seconds_sum{{route=\"{route}\"}} {}",
                h.sum
            );
            let _ = writeln!(
                out,
                "helmgen_request_duration_seconds_count{{route=\"{route}\"}} {}",
                h.count
            );
        }
        out.push_str("# HELP helmgen_render_errors_total Failed renders by problem kind.\n");
        out.push_str("# TYPE helmgen_render_errors_total counter\n");
        for (kind, n) in &inner.render_errors {
            let _ = writeln!(out, "helmgen_render_errors_total{{kind=\"{kind}\"}} {n}");
        }
        out
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Inner> {
        // A panic while holding the lock leaves counters that are still
        // valid numbers: keep serving them.
        self.inner.lock().unwrap_or_else(|e| e.into_inner())
    }
}
