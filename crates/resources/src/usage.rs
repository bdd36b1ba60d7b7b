//! Usage series per container, read from a Prometheus range query or CSV.
//!
//! # Which container a series belongs to
//!
//! Containers are named as the recommendations file names them: `app` for
//! the service's main workload, `process-<name>`, `job-<name>` and
//! `init-<name>` for its `[processes.*]`, `[jobs.*]` and `[init.*]`
//! (the pods' `app.kubernetes.io/component` label, with `web` read as
//! `app`). Kubernetes calls the service's container `app` in every one of
//! these pods, so to tell them apart the data must carry the component:
//!
//! - Prometheus: the `component` label, or kube-state-metrics'
//!   `label_app_kubernetes_io_component` (after a join with
//!   `kube_pod_labels`), else the `container` label. Series of cAdvisor's
//!   pod cgroup (`container=""`) and pause container (`POD`) are skipped; a
//!   series with none of these labels is an error (the query was not
//!   grouped by container).
//! - CSV: the `container` column.
//!
//! # Which resource a series measures
//!
//! - Prometheus: the `resource` label (`cpu`, `memory`, `network`, also
//!   spelt `netutil` or `paas.io/netutil`); without it, the metric name
//!   (`__name__` containing `network` or `netutil`, else `memory`, else
//!   `cpu`); without either, the key of the response in a keyed file (see
//!   [`parse_prometheus`]). Counters (`*_total`) are refused: query their
//!   `rate()`.
//! - CSV: the column (`cpu_cores`, `memory_bytes`, `network_mbps`).
//!
//! Units: CPU in cores, memory in bytes, network in Mbit/s (for cAdvisor,
//! `rate(container_network_transmit_bytes_total[5m]) * 8 / 1e6`).
//!
//! Several series of one container and resource (one per pod or replica)
//! are pooled: every sample counts as one observation of what one container
//! uses. Samples that are not numbers (Prometheus' `NaN`, `+Inf`) are
//! skipped; negative ones are errors.

use std::collections::BTreeMap;

use serde_json::Value;

use crate::{Error, Resource};

/// One observation: a time and a value in the resource's input unit
/// (cores, bytes, Mbit/s).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Sample {
    /// Unix time in seconds.
    pub t: f64,
    /// The value (cores, bytes or Mbit/s).
    pub value: f64,
}

/// The samples of one container, per resource.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ContainerUsage {
    /// CPU, in cores.
    pub cpu: Vec<Sample>,
    /// Memory (working set), in bytes.
    pub memory: Vec<Sample>,
    /// Network (the `paas.io/netutil` extended resource), in Mbit/s.
    pub network: Vec<Sample>,
}

impl ContainerUsage {
    /// The samples of one resource.
    pub fn series(&self, resource: Resource) -> &[Sample] {
        match resource {
            Resource::Cpu => &self.cpu,
            Resource::Memory => &self.memory,
            Resource::Network => &self.network,
        }
    }

    fn series_mut(&mut self, resource: Resource) -> &mut Vec<Sample> {
        match resource {
            Resource::Cpu => &mut self.cpu,
            Resource::Memory => &mut self.memory,
            Resource::Network => &mut self.network,
        }
    }
}

/// Usage of every container found in a file.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Usage {
    /// Samples per container name (`app`, `process-worker`, ...).
    pub containers: BTreeMap<String, ContainerUsage>,
    /// Series (Prometheus) or rows (CSV) skipped because their `service` or
    /// `namespace` names another service.
    pub other_services: usize,
}

impl Usage {
    fn push(&mut self, container: &str, resource: Resource, sample: Sample) {
        self.containers
            .entry(container.to_owned())
            .or_default()
            .series_mut(resource)
            .push(sample);
    }
}

/// The container name a label or column value stands for: `web` (the
/// main workload's component) is `app`; `""` and `POD` (cAdvisor's pod
/// cgroup and pause container) stand for none.
pub fn container_name(raw: &str) -> Option<&str> {
    match raw.trim() {
        "" | "POD" => None,
        "web" => Some("app"),
        other => Some(other),
    }
}

/// Reads a usage file: Prometheus JSON when it starts with `{` or `[`, CSV
/// otherwise. With `service`, series and rows labelled with another
/// service (or namespace) are skipped.
pub fn parse_usage(text: &str, service: Option<&str>) -> Result<Usage, Error> {
    let text = text.trim_start_matches('\u{feff}');
    if text.trim_start().starts_with(['{', '[']) {
        parse_prometheus(text, service)
    } else {
        parse_csv(text, service)
    }
}

fn usage_error(location: impl Into<String>, message: impl Into<String>) -> Error {
    Error::Usage {
        location: location.into(),
        message: message.into(),
    }
}

/// Reads Prometheus range-query responses (`/api/v1/query_range`):
///
/// - one response: `{"status":"success","data":{"resultType":"matrix","result":[...]}}`;
/// - an array of responses (one query per resource, `jq -s`);
/// - an object keyed by resource, `{"cpu": <response>, "memory": <response>,
///   "network": <response>}`: the key names the resource of series that
///   carry neither a `resource` label nor a metric name (what `sum by
///   (container) (rate(...))` returns).
pub fn parse_prometheus(text: &str, service: Option<&str>) -> Result<Usage, Error> {
    let doc: Value = serde_json::from_str(text)
        .map_err(|e| usage_error("prometheus json", format!("not valid JSON: {e}")))?;
    let mut responses: Vec<(String, Option<Resource>, &Value)> = Vec::new();
    match &doc {
        Value::Array(items) => {
            for (i, item) in items.iter().enumerate() {
                responses.push((format!("response {}", i + 1), None, item));
            }
        }
        Value::Object(map) if map.contains_key("data") || map.contains_key("status") => {
            responses.push(("response".to_owned(), None, &doc));
        }
        Value::Object(map) => {
            for (key, item) in map {
                let resource = Resource::from_name(key).ok_or_else(|| {
                    usage_error(
                        format!("key `{key}`"),
                        "expected a Prometheus response, or responses keyed by `cpu`, `memory` or `network`",
                    )
                })?;
                responses.push((format!("response `{key}`"), Some(resource), item));
            }
        }
        _ => {
            return Err(usage_error(
                "prometheus json",
                "expected a range-query response (an object with `data`)",
            ));
        }
    }
    let mut usage = Usage::default();
    for (location, resource, response) in responses {
        read_response(&mut usage, &location, resource, response, service)?;
    }
    Ok(usage)
}

fn read_response(
    usage: &mut Usage,
    location: &str,
    keyed: Option<Resource>,
    response: &Value,
    service: Option<&str>,
) -> Result<(), Error> {
    if let Some(status) = response.get("status").and_then(Value::as_str)
        && status != "success"
    {
        let why = response
            .get("error")
            .and_then(Value::as_str)
            .unwrap_or("no error message");
        return Err(usage_error(
            location,
            format!("the query failed (status `{status}`): {why}"),
        ));
    }
    let data = response
        .get("data")
        .ok_or_else(|| usage_error(location, "no `data` in the response"))?;
    match data.get("resultType").and_then(Value::as_str) {
        Some("matrix") => {}
        Some(other) => {
            return Err(usage_error(
                location,
                format!(
                    "result type `{other}`: usage needs a range query (`query_range`, result type `matrix`)"
                ),
            ));
        }
        None => {
            return Err(usage_error(
                location,
                "no `data.resultType` in the response",
            ));
        }
    }
    let results = data
        .get("result")
        .and_then(Value::as_array)
        .ok_or_else(|| usage_error(location, "no `data.result` array in the response"))?;
    for (i, series) in results.iter().enumerate() {
        let at = format!("{location}, series {}", i + 1);
        let empty = serde_json::Map::new();
        let metric = series
            .get("metric")
            .and_then(Value::as_object)
            .unwrap_or(&empty);
        let label = |name: &str| metric.get(name).and_then(Value::as_str);
        if let Some(want) = service
            && let Some(got) = label("service").or_else(|| label("namespace"))
            && got != want
        {
            usage.other_services += 1;
            continue;
        }
        let raw_container = label("component")
            .or_else(|| label("label_app_kubernetes_io_component"))
            .or_else(|| label("container"))
            .ok_or_else(|| {
                usage_error(
                    &at,
                    "no `container` (or `component`) label: group the query by container, e.g. `sum by (container) (...)`",
                )
            })?;
        let Some(container) = container_name(raw_container) else {
            continue;
        };
        let resource = series_resource(label("resource"), label("__name__"), keyed)
            .map_err(|m| usage_error(&at, m))?;
        let values = series
            .get("values")
            .and_then(Value::as_array)
            .ok_or_else(|| usage_error(&at, "no `values` array (a range query has `values`)"))?;
        for (j, point) in values.iter().enumerate() {
            let bad = || {
                usage_error(
                    format!("{at}, value {}", j + 1),
                    "expected `[<unix time>, \"<value>\"]`",
                )
            };
            let pair = point.as_array().filter(|p| p.len() == 2).ok_or_else(bad)?;
            let t = number(&pair[0]).ok_or_else(bad)?;
            let value = number(&pair[1]).ok_or_else(bad)?;
            if !t.is_finite() || !value.is_finite() {
                continue;
            }
            if value < 0.0 {
                return Err(usage_error(
                    format!("{at}, value {}", j + 1),
                    format!("negative usage `{value}`"),
                ));
            }
            usage.push(container, resource, Sample { t, value });
        }
    }
    Ok(())
}

/// A JSON number, or a string holding one (Prometheus writes values as
/// strings, `"NaN"` and `"+Inf"` included).
fn number(v: &Value) -> Option<f64> {
    match v {
        Value::Number(n) => n.as_f64(),
        Value::String(s) => s.trim().parse().ok(),
        _ => None,
    }
}

fn series_resource(
    label: Option<&str>,
    name: Option<&str>,
    keyed: Option<Resource>,
) -> Result<Resource, String> {
    if let Some(l) = label {
        return Resource::from_name(l).ok_or_else(|| {
            format!("resource `{l}` is not one of cpu, memory, network (or netutil)")
        });
    }
    if let Some(n) = name {
        if n.ends_with("_total") {
            return Err(format!(
                "`{n}` is a counter: query its rate, e.g. `rate({n}[5m])`"
            ));
        }
        let lower = n.to_ascii_lowercase();
        if lower.contains("network") || lower.contains("netutil") {
            return Ok(Resource::Network);
        }
        if lower.contains("memory") {
            return Ok(Resource::Memory);
        }
        if lower.contains("cpu") {
            return Ok(Resource::Cpu);
        }
        if keyed.is_none() {
            return Err(format!(
                "cannot tell which resource `{n}` measures: add a `resource` label (cpu, memory, network)"
            ));
        }
    }
    keyed.ok_or_else(|| {
        "cannot tell which resource the series measures: add a `resource` label (cpu, memory, network), keep the metric name, or key the response by resource".to_owned()
    })
}

/// The columns a usage CSV may have.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Column {
    Timestamp,
    Container,
    Value(Resource),
    Service,
    Ignored,
}

fn column(name: &str) -> Option<Column> {
    Some(match name {
        "timestamp" | "time" => Column::Timestamp,
        "container" => Column::Container,
        "cpu_cores" | "cpu" => Column::Value(Resource::Cpu),
        "memory_bytes" | "memory" => Column::Value(Resource::Memory),
        "network_mbps" | "netutil_mbps" | "netutil" | "network" => Column::Value(Resource::Network),
        "service" | "namespace" => Column::Service,
        "pod" => Column::Ignored,
        _ => return None,
    })
}

/// Reads CSV with a header row: `timestamp,container,cpu_cores,memory_bytes`
/// and optionally `network_mbps` (the `paas.io/netutil` resource, Mbit/s),
/// `service` or `namespace` (rows of other services are skipped with
/// `service`) and `pod` (ignored), in any order. Timestamps are Unix
/// seconds or RFC 3339 (`2026-11-01T00:00:00Z`); an empty cell is no
/// sample. Blank lines and lines starting with `#` are skipped.
pub fn parse_csv(text: &str, service: Option<&str>) -> Result<Usage, Error> {
    let mut lines = text
        .trim_start_matches('\u{feff}')
        .lines()
        .enumerate()
        .map(|(i, l)| (i + 1, l.trim()))
        .filter(|(_, l)| !l.is_empty() && !l.starts_with('#'));
    let (header_line, header) = lines
        .next()
        .ok_or_else(|| usage_error("csv", "empty: expected a header row"))?;
    let mut columns = Vec::new();
    for name in split(header) {
        let name = name.to_ascii_lowercase();
        let c = column(&name).ok_or_else(|| {
            usage_error(
                format!("line {header_line}"),
                format!(
                    "unknown column `{name}` (expected timestamp, container, cpu_cores, memory_bytes, network_mbps, service, namespace, pod)"
                ),
            )
        })?;
        if c != Column::Ignored && columns.contains(&c) {
            return Err(usage_error(
                format!("line {header_line}"),
                format!("column `{name}` appears twice"),
            ));
        }
        columns.push(c);
    }
    for (needed, what) in [
        (Column::Timestamp, "timestamp"),
        (Column::Container, "container"),
    ] {
        if !columns.contains(&needed) {
            return Err(usage_error(
                format!("line {header_line}"),
                format!("no `{what}` column"),
            ));
        }
    }
    if !columns.iter().any(|c| matches!(c, Column::Value(_))) {
        return Err(usage_error(
            format!("line {header_line}"),
            "no usage column (cpu_cores, memory_bytes or network_mbps)",
        ));
    }
    let mut usage = Usage::default();
    for (n, line) in lines {
        let at = format!("line {n}");
        let fields: Vec<&str> = split(line).collect();
        if fields.len() != columns.len() {
            return Err(usage_error(
                at,
                format!(
                    "{} fields, but the header has {}",
                    fields.len(),
                    columns.len()
                ),
            ));
        }
        let mut t = None;
        let mut container = None;
        let mut other_service = false;
        let mut values = Vec::new();
        for (c, field) in columns.iter().zip(&fields) {
            match c {
                Column::Timestamp => {
                    t = Some(timestamp(field).ok_or_else(|| {
                        usage_error(
                            &at,
                            format!("timestamp `{field}` is neither Unix seconds nor RFC 3339"),
                        )
                    })?);
                }
                Column::Container => container = container_name(field),
                Column::Service => {
                    if let Some(want) = service
                        && !field.is_empty()
                        && *field != want
                    {
                        other_service = true;
                    }
                }
                Column::Value(resource) => {
                    if field.is_empty() {
                        continue;
                    }
                    let v: f64 = field.parse().map_err(|_| {
                        usage_error(
                            &at,
                            format!("{} `{field}` is not a number", resource.column()),
                        )
                    })?;
                    if v < 0.0 {
                        return Err(usage_error(
                            &at,
                            format!("negative {} `{field}`", resource.column()),
                        ));
                    }
                    if v.is_finite() {
                        values.push((*resource, v));
                    }
                }
                Column::Ignored => {}
            }
        }
        if other_service {
            usage.other_services += 1;
            continue;
        }
        let (Some(t), Some(container)) = (t, container) else {
            continue;
        };
        for (resource, value) in values {
            usage.push(container, resource, Sample { t, value });
        }
    }
    Ok(usage)
}

/// The fields of a CSV line: comma-separated, trimmed, surrounding double
/// quotes removed (no field of this format holds a comma).
fn split(line: &str) -> impl Iterator<Item = &str> {
    line.split(',').map(|f| {
        let f = f.trim();
        f.strip_prefix('"')
            .and_then(|f| f.strip_suffix('"'))
            .unwrap_or(f)
    })
}

/// Unix seconds (`1730419200`, `1730419200.5`) or RFC 3339.
fn timestamp(field: &str) -> Option<f64> {
    if let Ok(t) = field.parse::<f64>() {
        return t.is_finite().then_some(t);
    }
    let ts: jiff::Timestamp = field.parse().ok()?;
    Some(ts.as_millisecond() as f64 / 1000.0)
}
