//! From an HTTP request to a [`manifests::pipeline::Request`]: content
//! negotiation, the query, the JSON body form, and every check a value needs
//! before the generator sees it. Each problem becomes a located
//! [`ProblemError`] and all of them are reported at once.

use std::collections::BTreeMap;

use app_toml::{Date, Strategy};
use axum::http::{HeaderMap, StatusCode, header};
use manifests::pipeline::Request;
use serde::Deserialize;
use utoipa::{IntoParams, ToSchema};

use crate::problem::{Problem, ProblemError};

/// What the body is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BodyKind {
    /// `application/toml`: the body is the app.toml text.
    Toml,
    /// `application/json`: a [`RenderBody`].
    Json,
}

/// What the client wants back.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OutputKind {
    /// Multi-document YAML (`application/yaml`, the default).
    Yaml,
    /// `{"objects": [...], "stages": {...}}` (`application/json`).
    Json,
}

fn media_type(value: &str) -> String {
    value
        .split(';')
        .next()
        .unwrap_or_default()
        .trim()
        .to_ascii_lowercase()
}

/// The body kind from `Content-Type`, or a 415 problem.
pub fn body_kind(headers: &HeaderMap) -> Result<BodyKind, Problem> {
    let given = headers
        .get(header::CONTENT_TYPE)
        .map(|v| media_type(v.to_str().unwrap_or("(not text)")));
    match given.as_deref() {
        Some("application/toml") => Ok(BodyKind::Toml),
        Some("application/json") => Ok(BodyKind::Json),
        other => Err(Problem::new(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "unsupported-media-type",
            "unsupported media type",
            match other {
                Some(t) => format!("cannot render a body of type `{t}`"),
                None => "the request has no Content-Type".to_owned(),
            },
        )
        .with_errors(vec![
            ProblemError::at(
                "media-type",
                "header.content-type",
                "expected application/toml or application/json",
            )
            .with_hint("curl: -H 'Content-Type: application/toml' --data-binary @app.toml"),
        ])),
    }
}

/// The output kind from `Accept`, negotiated as RFC 9110 says: each
/// candidate (YAML under any of its media types, JSON) gets the quality of
/// the most specific range that matches it (`type/subtype` over `type/*`
/// over `*/*`), `q=0` excludes it, the highest quality wins, and a tie goes
/// to YAML, the default. When nothing is acceptable the answer is still YAML:
/// the spec's status list has no 406.
pub fn output_kind(headers: &HeaderMap) -> OutputKind {
    let Some(accept) = headers.get(header::ACCEPT).and_then(|v| v.to_str().ok()) else {
        return OutputKind::Yaml;
    };
    let ranges: Vec<(String, f32)> = accept.split(',').filter_map(accept_range).collect();
    let quality = |media: &str| -> f32 {
        let (kind, _) = media.split_once('/').unwrap_or((media, ""));
        let mut best: Option<(u8, f32)> = None;
        for (range, q) in &ranges {
            let specificity = if range == media {
                3
            } else if range.strip_suffix("/*") == Some(kind) {
                2
            } else if range == "*/*" {
                1
            } else {
                continue;
            };
            if best.is_none_or(|(s, _)| specificity > s) {
                best = Some((specificity, *q));
            }
        }
        best.map_or(0.0, |(_, q)| q)
    };
    let yaml = ["application/yaml", "application/x-yaml", "text/yaml"]
        .into_iter()
        .map(quality)
        .fold(0.0, f32::max);
    let json = quality("application/json");
    if json > yaml {
        OutputKind::Json
    } else {
        OutputKind::Yaml
    }
}

/// One range of `Accept`: the media range (lowercase) and its `q` (1 when
/// absent; a range with a `q` that is not a number in 0..=1 is ignored).
fn accept_range(text: &str) -> Option<(String, f32)> {
    let mut parts = text.split(';');
    let range = parts.next()?.trim().to_ascii_lowercase();
    if range.is_empty() {
        return None;
    }
    let mut q = 1.0;
    for param in parts {
        if let Some((name, value)) = param.split_once('=')
            && name.trim().eq_ignore_ascii_case("q")
        {
            q = value
                .trim()
                .parse::<f32>()
                .ok()
                .filter(|q| (0.0..=1.0).contains(q))?;
        }
    }
    Some((range, q))
}

/// Query parameters of `POST /v1/render`. Values are kept as text here and
/// checked in [`Params::check`], so that every bad value is reported at once.
#[derive(Debug, Clone, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct RenderQuery {
    /// Environment (`prod`, `staging`, ...); required here or in the JSON body.
    pub env: Option<String>,
    /// Service name when app.toml has no `name`.
    pub service: Option<String>,
    /// Cluster; default: the environment's first cluster.
    pub cluster: Option<String>,
    /// Release number N of `v<N>` (default 1).
    #[param(value_type = Option<u32>)]
    pub version: Option<String>,
    /// Image tag (the commit hash); required here or in the JSON body.
    pub image_tag: Option<String>,
    /// `simple`, `rolling`, `canary` or `blue-green`; default: app.toml's `[deploy] strategy`.
    pub strategy: Option<String>,
    /// Previous live version (the other side of a canary).
    #[param(value_type = Option<u32>)]
    pub previous_version: Option<String>,
    /// Canary weight (percent) of the new version.
    #[param(value_type = Option<u8>, minimum = 0, maximum = 100)]
    pub canary_weight: Option<String>,
}

const QUERY_KEYS: [&str; 8] = [
    "env",
    "service",
    "cluster",
    "version",
    "image_tag",
    "strategy",
    "previous_version",
    "canary_weight",
];

/// The JSON body form of `POST /v1/render`: the app.toml text plus any of
/// the query parameters, typed.
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RenderBody {
    /// The app.toml text.
    pub app_toml: String,
    /// Environment.
    pub env: Option<String>,
    /// Service name when app.toml has no `name`.
    pub service: Option<String>,
    /// Cluster.
    pub cluster: Option<String>,
    /// Release number.
    pub version: Option<u32>,
    /// Image tag.
    pub image_tag: Option<String>,
    /// Strategy name.
    pub strategy: Option<String>,
    /// Previous live version.
    pub previous_version: Option<u32>,
    /// Canary weight (percent).
    #[schema(minimum = 0, maximum = 100)]
    pub canary_weight: Option<u8>,
}

fn did_you_mean(key: &str) -> Option<String> {
    QUERY_KEYS
        .iter()
        .map(|k| (strsim::osa_distance(key, k), k))
        .filter(|(distance, k)| *distance <= (k.len() / 3).max(1))
        .min_by_key(|(distance, _)| *distance)
        .map(|(_, k)| format!("did you mean `{k}`?"))
}

/// Parses the raw query string. Unknown and repeated keys are returned as
/// errors beside the parameters, so that [`build`] reports them together
/// with bad values.
pub fn parse_query(raw: Option<&str>) -> (RenderQuery, Vec<ProblemError>) {
    let pairs: Vec<(String, String)> = match serde_urlencoded::from_str(raw.unwrap_or_default()) {
        Ok(p) => p,
        Err(e) => {
            let error = ProblemError::at(
                "query",
                "query",
                format!("the query string cannot be decoded: {e}"),
            );
            return (RenderQuery::default(), vec![error]);
        }
    };
    let mut errors = Vec::new();
    let mut seen: BTreeMap<String, String> = BTreeMap::new();
    for (key, value) in pairs {
        if !QUERY_KEYS.contains(&key.as_str()) {
            let mut e = ProblemError::at(
                "query",
                format!("query.{key}"),
                format!("unknown query parameter `{key}`"),
            );
            e.hint = Some(
                did_you_mean(&key)
                    .unwrap_or_else(|| format!("expected one of {}", QUERY_KEYS.join(", "))),
            );
            errors.push(e);
        } else if let std::collections::btree_map::Entry::Vacant(slot) = seen.entry(key.clone()) {
            slot.insert(value);
        } else {
            errors.push(ProblemError::at(
                "query",
                format!("query.{key}"),
                format!("`{key}` is given more than once"),
            ));
        }
    }
    let mut take = |k: &str| seen.remove(k);
    let query = RenderQuery {
        env: take("env"),
        service: take("service"),
        cluster: take("cluster"),
        version: take("version"),
        image_tag: take("image_tag"),
        strategy: take("strategy"),
        previous_version: take("previous_version"),
        canary_weight: take("canary_weight"),
    };
    (query, errors)
}

/// Parses the JSON body form; a syntax or type error is located by line and column.
pub fn parse_json_body(bytes: &[u8]) -> Result<RenderBody, Vec<ProblemError>> {
    serde_json::from_slice::<RenderBody>(bytes).map_err(|e| {
        let mut err = ProblemError::at("json", "body", format!("invalid JSON body: {e}"));
        if e.line() > 0 {
            err.line = Some(e.line());
            err.column = Some(e.column());
        }
        vec![
            err.with_hint(r#"expected {"app_toml": "...", "env": "...", "image_tag": "...", ...}"#),
        ]
    })
}

/// One parameter, from the query and the JSON body; both may give it only
/// when they agree.
fn merge<T: PartialEq + std::fmt::Display>(
    name: &str,
    query: Option<T>,
    body: Option<T>,
    errors: &mut Vec<ProblemError>,
) -> Option<T> {
    match (query, body) {
        (Some(q), Some(b)) if q != b => {
            errors.push(ProblemError::at(
                "query",
                format!("query.{name}"),
                format!("`{name}` is `{q}` in the query but `{b}` in the body"),
            ));
            Some(q)
        }
        (q, b) => q.or(b),
    }
}

fn number<T: std::str::FromStr>(
    name: &str,
    text: Option<String>,
    what: &str,
    errors: &mut Vec<ProblemError>,
) -> Option<T> {
    let text = text?;
    match text.parse::<T>() {
        Ok(n) => Some(n),
        Err(_) => {
            errors.push(
                ProblemError::at(
                    "query",
                    format!("query.{name}"),
                    format!("`{text}` is not {what}"),
                )
                .with_hint(format!("`{name}` takes {what}, e.g. {name}=3")),
            );
            None
        }
    }
}

fn required(name: &str, value: Option<String>, errors: &mut Vec<ProblemError>) -> String {
    match value {
        Some(v) if !v.is_empty() => v,
        _ => {
            errors.push(
                ProblemError::at(
                    "query",
                    format!("query.{name}"),
                    format!("`{name}` is required"),
                )
                .with_hint(format!(
                    "add `?{name}=...` to the URL or `\"{name}\"` to the JSON body"
                )),
            );
            String::new()
        }
    }
}

/// Longest service name (app-toml's rule for `name`).
const SERVICE_NAME_MAX: usize = 40;

/// Why `name` cannot be a service name, if it cannot: the rule app-toml
/// applies to `name` (a DNS-1123 label of at most 40 characters), checked
/// here so that a bad request value is the request's 400, not a 422 that
/// points into an app.toml that does not contain it. (app-toml keeps its own
/// check; should the two ever differ, the value still gets app-toml's 422.)
fn service_name_problem(name: &str) -> Option<String> {
    if name.is_empty() {
        return Some("must not be empty".to_owned());
    }
    let len = name.chars().count();
    if len > SERVICE_NAME_MAX {
        return Some(format!(
            "is {len} characters long, at most {SERVICE_NAME_MAX} are allowed"
        ));
    }
    if let Some(c) = name
        .chars()
        .find(|c| !(c.is_ascii_lowercase() || c.is_ascii_digit() || *c == '-'))
    {
        return Some(format!(
            "contains {c:?}, only lowercase letters, digits and '-' are allowed"
        ));
    }
    if name.starts_with('-') || name.ends_with('-') {
        return Some("must start and end with a lowercase letter or digit".to_owned());
    }
    None
}

/// Builds the generator's request from the query and (for the JSON form)
/// the body; the app.toml text of the JSON form is returned beside it.
/// `errors` are the query's own (from [`parse_query`]); all are reported together.
pub fn build(
    query: RenderQuery,
    body: Option<RenderBody>,
    mut errors: Vec<ProblemError>,
    today: Date,
) -> Result<(Option<String>, Request), Vec<ProblemError>> {
    let version = number::<u32>("version", query.version, "a release number", &mut errors);
    let previous = number::<u32>(
        "previous_version",
        query.previous_version,
        "a release number",
        &mut errors,
    );
    let weight = number::<u8>(
        "canary_weight",
        query.canary_weight,
        "a percentage (0..=100)",
        &mut errors,
    );
    let (app_toml, b_env, b_service, b_cluster, b_version, b_tag, b_strategy, b_prev, b_weight) =
        match body {
            Some(b) => (
                Some(b.app_toml),
                b.env,
                b.service,
                b.cluster,
                b.version,
                b.image_tag,
                b.strategy,
                b.previous_version,
                b.canary_weight,
            ),
            None => (None, None, None, None, None, None, None, None, None),
        };
    let env = merge("env", query.env, b_env, &mut errors);
    let service = merge("service", query.service, b_service, &mut errors);
    let cluster = merge("cluster", query.cluster, b_cluster, &mut errors);
    let version = merge("version", version, b_version, &mut errors);
    let image_tag = merge("image_tag", query.image_tag, b_tag, &mut errors);
    let strategy = merge("strategy", query.strategy, b_strategy, &mut errors);
    let previous_version = merge("previous_version", previous, b_prev, &mut errors);
    let canary_weight = merge("canary_weight", weight, b_weight, &mut errors);

    let environment = required("env", env, &mut errors);
    let image_tag = required("image_tag", image_tag, &mut errors);
    let strategy = strategy.and_then(|s| {
        let parsed = Strategy::from_name(&s);
        if parsed.is_none() {
            let names: Vec<_> = Strategy::ALL.iter().map(|k| k.as_str()).collect();
            errors.push(
                ProblemError::at("query", "query.strategy", format!("unknown strategy `{s}`"))
                    .with_hint(format!("expected one of {}", names.join(", "))),
            );
        }
        parsed
    });
    if let Some(problem) = service.as_deref().and_then(service_name_problem) {
        errors.push(
            ProblemError::at(
                "query",
                "query.service",
                format!("service name `{}` {problem}", service.as_deref().unwrap_or_default()),
            )
            .with_hint(format!(
                "a service name is a DNS-1123 label of at most {SERVICE_NAME_MAX} characters: lowercase letters, digits and '-'"
            )),
        );
    }
    if canary_weight.is_some_and(|w| w > 100) {
        errors.push(ProblemError::at(
            "query",
            "query.canary_weight",
            "a canary weight is a percentage from 0 to 100",
        ));
    }
    if !errors.is_empty() {
        return Err(errors);
    }
    let file_name = match &service {
        Some(s) => format!("{s}/app.toml"),
        None => "app.toml".to_owned(),
    };
    Ok((
        app_toml,
        Request {
            file_name,
            service,
            environment,
            cluster,
            version: version.unwrap_or(1),
            image_tag,
            strategy,
            previous_version,
            canary_weight,
            explain: false,
            today,
        },
    ))
}
