//! The handlers of the HTTP contract (`../shared/spec/helmgen.md`) and the
//! mapping of every generator failure to a problem document with its status.

use std::sync::Arc;

use axum::body::{Body, Bytes};
use axum::extract::{OriginalUri, RawQuery, State};
use axum::http::{HeaderMap, Method, StatusCode, header};
use axum::response::{IntoResponse, Response};
use manifests::pipeline::Failure;
use serde::Serialize;
use utoipa::{OpenApi, ToSchema};

use crate::AppState;
use crate::problem::{Problem, ProblemError};
use crate::request::{self, BodyKind, OutputKind, RenderBody, RenderQuery};

/// Name of the response header that names the platform config version.
pub const PLATFORM_VERSION_HEADER: &str = "x-platform-version";

/// `POST /v1/render`: app.toml in, manifests out.
#[utoipa::path(
    post,
    path = "/v1/render",
    params(RenderQuery),
    request_body(
        description = "the app.toml text, or the JSON form with the text in `app_toml`",
        content(
            (String = "application/toml"),
            (RenderBody = "application/json"),
        )
    ),
    responses(
        (status = 200, description = "multi-document YAML (default), or the JSON form when `Accept: application/json`",
            headers(("x-platform-version" = String, description = "version id of the platform config that rendered it")),
            content((String = "application/yaml"), (RenderedJson = "application/json"))),
        (status = 400, description = "bad TOML, JSON, UTF-8 or parameter values", body = Problem, content_type = "application/problem+json"),
        (status = 408, description = "the client did not send its body within the timeout", body = Problem, content_type = "application/problem+json"),
        (status = 413, description = "body over the limit", body = Problem, content_type = "application/problem+json"),
        (status = 415, description = "Content-Type is neither application/toml nor application/json", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "valid TOML that fails validation or platform policy, or an answer over the output limits", body = Problem, content_type = "application/problem+json"),
        (status = 503, description = "shutting down, overloaded, or the answer not ready within the timeout", body = Problem, content_type = "application/problem+json"),
    )
)]
pub async fn render(
    State(state): State<AppState>,
    headers: HeaderMap,
    RawQuery(query): RawQuery,
    body: Body,
) -> Response {
    let loaded = state.platform();
    let mut response = match render_inner(
        &state,
        &headers,
        query.as_deref(),
        body,
        Arc::clone(&loaded),
    )
    .await
    {
        Ok(r) => r,
        Err(problem) => {
            state.metrics().render_error(problem.slug());
            problem.into_response()
        }
    };
    if let Some(v) = &loaded.version_header {
        response
            .headers_mut()
            .insert(PLATFORM_VERSION_HEADER, v.clone());
    }
    response
}

async fn render_inner(
    state: &AppState,
    headers: &HeaderMap,
    query: Option<&str>,
    body: Body,
    loaded: Arc<crate::Loaded>,
) -> Result<Response, Problem> {
    let config = state.config();
    // The whole answer is due within the timeout; the handler owns this
    // deadline (the middleware does not time renders) so that it can tell a
    // slow client (408) from a slow render (503).
    let deadline = tokio::time::Instant::now() + config.timeout;
    if state.is_draining() {
        return Err(Problem::draining());
    }
    // Bounded concurrency: a request holds a slot from here (so at most
    // `concurrency` bodies are buffered) until its render ends; the slot
    // moves into the blocking render, so a render that outlives its
    // request's timeout still counts until it finishes.
    let wait = config.timeout / 2;
    let permit = match tokio::time::timeout(wait, state.permits().acquire_owned()).await {
        Ok(Ok(p)) => p,
        _ => return Err(Problem::overloaded()),
    };
    let kind = request::body_kind(headers)?;
    let output = request::output_kind(headers);
    let (query, query_errors) = request::parse_query(query);
    let bytes =
        match tokio::time::timeout_at(deadline, read_body(headers, body, config.max_body)).await {
            Ok(read) => read?,
            Err(_) => return Err(Problem::slow_body(config.timeout)),
        };
    let json = match kind {
        BodyKind::Toml => None,
        BodyKind::Json => Some(request::parse_json_body(&bytes).map_err(bad_request)?),
    };
    let (text, req) =
        request::build(query, json, query_errors, state.today()).map_err(bad_request)?;
    let source = match text {
        Some(t) => Bytes::from(t),
        None => bytes,
    };
    // Rendering is CPU-bound and cannot be interrupted: it runs on the
    // blocking pool so that the async workers keep answering (health checks,
    // other requests) and the deadline below really bounds the answer.
    let task = tokio::task::spawn_blocking(move || {
        let _permit = permit;
        render_blocking(&source, &loaded.platform, &req, output, config)
    });
    match tokio::time::timeout_at(deadline, task).await {
        Ok(Ok(result)) => {
            let (content_type, body) = result?;
            Ok(([(header::CONTENT_TYPE, content_type)], body).into_response())
        }
        // The generator must never panic; if it ever does, answer with a
        // problem document instead of dropping the connection.
        Ok(Err(_)) => Err(Problem::internal(
            "the generator panicked; this is a bug in helmgen",
        )),
        Err(_) => Err(Problem::timeout(config.timeout)),
    }
}

/// Renders and serialises one request, enforcing the output limits.
fn render_blocking(
    source: &[u8],
    platform: &platform_config::Platform,
    req: &manifests::pipeline::Request,
    output: OutputKind,
    config: crate::Config,
) -> Result<(&'static str, Vec<u8>), Problem> {
    let rendered =
        manifests::pipeline::render_source(source, platform, req).map_err(failure_problem)?;
    let objects = rendered.objects.len();
    if objects > config.max_objects {
        return Err(Problem::output_too_large(
            "--max-objects",
            config.max_objects,
            format!("the render has {objects} objects"),
        ));
    }
    // The serialisers build the whole text at once; the size is checked
    // right after, before anything is sent.
    let (content_type, body) = match output {
        OutputKind::Yaml => (
            "application/yaml",
            rendered
                .to_yaml()
                .map_err(|e| Problem::internal(e.to_string()))?
                .into_bytes(),
        ),
        OutputKind::Json => {
            let value = rendered
                .to_json_value()
                .map_err(|e| Problem::internal(e.to_string()))?;
            (
                "application/json",
                serde_json::to_vec(&value).map_err(|e| Problem::internal(e.to_string()))?,
            )
        }
    };
    if body.len() > config.max_output_bytes {
        return Err(Problem::output_too_large(
            "--max-output-bytes",
            config.max_output_bytes,
            format!("the answer has {} bytes", body.len()),
        ));
    }
    Ok((content_type, body))
}

fn bad_request(errors: Vec<ProblemError>) -> Problem {
    let detail = match errors.as_slice() {
        [one] => one.message.clone(),
        many => format!("{} problems with the request", many.len()),
    };
    Problem::new(
        StatusCode::BAD_REQUEST,
        "invalid-request",
        "invalid request",
        detail,
    )
    .with_errors(errors)
}

fn too_large(limit: usize) -> Problem {
    Problem::new(
        StatusCode::PAYLOAD_TOO_LARGE,
        "too-large",
        "body too large",
        format!("the body is over the limit of {limit} bytes"),
    )
}

/// Reads the body, refusing it before parsing when it is over the limit:
/// first by `Content-Length`, then while streaming (chunked bodies).
async fn read_body(headers: &HeaderMap, body: Body, limit: usize) -> Result<Bytes, Problem> {
    let declared = headers
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok());
    if declared.is_some_and(|n| n > limit as u64) {
        return Err(too_large(limit));
    }
    let limited = http_body_util::Limited::new(body, limit);
    match http_body_util::BodyExt::collect(limited).await {
        Ok(collected) => Ok(collected.to_bytes()),
        Err(e) if e.is::<http_body_util::LengthLimitError>() => Err(too_large(limit)),
        Err(e) => Err(bad_request(vec![ProblemError::at(
            "body",
            "body",
            format!("cannot read the body: {e}"),
        )])),
    }
}

/// The problem for a failed render, with the status of the contract: 400 when
/// the text is not TOML or a request value is wrong, 422 when valid TOML fails
/// validation or policy.
pub fn failure_problem(failure: Failure) -> Problem {
    match failure {
        Failure::App(app_toml::Error::Invalid(diagnostics)) => {
            let not_toml = diagnostics.items.iter().any(|d| {
                matches!(
                    d.kind,
                    app_toml::DiagnosticKind::Syntax | app_toml::DiagnosticKind::NotUtf8
                )
            });
            let errors: Vec<ProblemError> = diagnostics
                .items
                .iter()
                .map(|d| ProblemError {
                    kind: d.kind.as_str().to_owned(),
                    path: d.path.clone(),
                    line: Some(d.line),
                    column: Some(d.column),
                    message: d.message.clone(),
                    hint: d.hint.clone(),
                })
                .collect();
            let n = errors.len();
            let plural = if n == 1 { "problem" } else { "problems" };
            if not_toml {
                Problem::new(
                    StatusCode::BAD_REQUEST,
                    "invalid-toml",
                    "not a TOML document",
                    format!("app.toml is not valid UTF-8 TOML ({n} {plural})"),
                )
                .with_errors(errors)
            } else {
                Problem::new(
                    StatusCode::UNPROCESSABLE_ENTITY,
                    "invalid-app-toml",
                    "invalid app.toml",
                    format!("app.toml has {n} {plural}"),
                )
                .with_errors(errors)
            }
        }
        Failure::App(app_toml::Error::UnknownEnvironment { name, known }) => bad_request(vec![
            ProblemError::at(
                "query",
                "query.env",
                format!("unknown environment `{name}`"),
            )
            .with_hint(format!("expected one of {}", known.join(", "))),
        ]),
        Failure::Render(manifests::Error::Context { field, message }) => {
            // The release context is made only of request values: the field
            // at fault is a query parameter (`env` for the environment).
            let param = match field {
                "environment" => "env",
                other => other,
            };
            bad_request(vec![ProblemError::at(
                "query",
                format!("query.{param}"),
                message,
            )])
        }
        Failure::Render(manifests::Error::Policy(violations)) => {
            // The image tag is a request value, not part of app.toml: a bad
            // tag alone is the client's request, not the service's file.
            let request_only = violations.iter().all(|v| v.path == "image_tag");
            let errors: Vec<ProblemError> = violations
                .into_iter()
                .map(|v| ProblemError {
                    kind: if request_only { "query" } else { "policy" }.to_owned(),
                    path: if v.path == "image_tag" {
                        "query.image_tag".to_owned()
                    } else {
                        v.path
                    },
                    line: None,
                    column: None,
                    message: v.message,
                    hint: v.hint,
                })
                .collect();
            if request_only {
                bad_request(errors)
            } else {
                let n = errors.len();
                Problem::new(
                    StatusCode::UNPROCESSABLE_ENTITY,
                    "policy-violation",
                    "platform policy violation",
                    format!(
                        "the manifests break {n} platform {}",
                        if n == 1 { "policy" } else { "policies" }
                    ),
                )
                .with_errors(errors)
            }
        }
        Failure::Render(manifests::Error::Serialize(message)) => Problem::internal(message),
    }
}

/// `GET /v1/schema/app-toml`: the JSON Schema of app.toml.
#[utoipa::path(get, path = "/v1/schema/app-toml",
    responses((status = 200, description = "JSON Schema (draft 2020-12) of app.toml", content_type = "application/schema+json", body = Object)))]
pub async fn schema(State(state): State<AppState>) -> Response {
    (
        [(header::CONTENT_TYPE, "application/schema+json")],
        state.schema_bytes(),
    )
        .into_response()
}

/// `GET /v1/platform`: the active platform config and its version id.
#[derive(Debug, Serialize, ToSchema)]
pub struct PlatformInfo {
    /// Version id (hash) of the active config; the `X-Platform-Version` of renders.
    pub version_id: String,
    /// The config, as JSON.
    #[schema(value_type = Object)]
    pub platform: serde_json::Value,
}

/// `GET /v1/platform`.
#[utoipa::path(get, path = "/v1/platform",
    responses((status = 200, description = "the active platform config", body = PlatformInfo)))]
pub async fn platform(State(state): State<AppState>) -> Response {
    let loaded = state.platform();
    let mut response = (
        [(header::CONTENT_TYPE, "application/json")],
        loaded.json.clone(),
    )
        .into_response();
    if let Some(v) = &loaded.version_header {
        response
            .headers_mut()
            .insert(PLATFORM_VERSION_HEADER, v.clone());
    }
    response
}

/// The JSON form of a render (`Accept: application/json`).
#[derive(Debug, Serialize, ToSchema)]
pub struct RenderedJson {
    /// Version id of the platform config that rendered it.
    pub platform_version: String,
    /// The Kubernetes objects, in apply order.
    #[schema(value_type = Vec<Object>)]
    pub objects: Vec<serde_json::Value>,
    /// The objects (`Kind/name`) of each apply stage, by stage name.
    pub stages: std::collections::BTreeMap<String, Vec<String>>,
}

/// Body of `/healthz` and `/readyz`.
#[derive(Debug, Serialize, ToSchema)]
pub struct Health {
    /// `ok`.
    pub status: &'static str,
    /// Version id of the active platform config.
    pub platform_version: String,
}

/// `GET /healthz`: the process serves requests (stays 200 while draining).
#[utoipa::path(get, path = "/healthz", responses((status = 200, description = "the process serves requests", body = Health)))]
pub async fn healthz(State(state): State<AppState>) -> Response {
    axum::Json(Health {
        status: "ok",
        platform_version: state.platform().version_id.clone(),
    })
    .into_response()
}

/// `GET /readyz`: 200 while accepting renders, 503 once draining.
#[utoipa::path(get, path = "/readyz", responses(
    (status = 200, description = "accepting renders", body = Health),
    (status = 503, description = "draining for shutdown", body = Problem, content_type = "application/problem+json")))]
pub async fn readyz(State(state): State<AppState>) -> Response {
    if state.is_draining() {
        return Problem::draining().into_response();
    }
    healthz(State(state)).await
}

/// `GET /metrics`: Prometheus text.
#[utoipa::path(get, path = "/metrics", responses(
    (status = 200, description = "Prometheus text exposition 0.0.4", content_type = "text/plain", body = String)))]
pub async fn metrics(State(state): State<AppState>) -> Response {
    (
        [(
            header::CONTENT_TYPE,
            "text/plain; version=0.0.4; charset=utf-8",
        )],
        state.metrics().render(),
    )
        .into_response()
}

/// `GET /openapi.json`: this description.
#[utoipa::path(get, path = "/openapi.json", responses(
    (status = 200, description = "OpenAPI 3 description of the service", body = Object)))]
pub async fn openapi() -> Response {
    // Generated once: the description is a constant of the build.
    static DOC: std::sync::OnceLock<Bytes> = std::sync::OnceLock::new();
    let body = DOC
        .get_or_init(|| Bytes::from(serde_json::to_vec(&openapi_document()).unwrap_or_default()));
    ([(header::CONTENT_TYPE, "application/json")], body.clone()).into_response()
}

/// Fallback of unknown routes.
pub async fn not_found(OriginalUri(uri): OriginalUri) -> Problem {
    Problem::not_found(uri.path())
}

/// Fallback of known routes with another method.
pub async fn method_not_allowed(method: Method, OriginalUri(uri): OriginalUri) -> Problem {
    Problem::method_not_allowed(method.as_str(), uri.path())
}

/// The OpenAPI document, generated from the handlers above.
#[derive(OpenApi)]
#[openapi(
    info(
        title = "helmgen",
        description = "The paas manifest generator as a service: app.toml in, Kubernetes manifests out"
    ),
    paths(render, schema, platform, healthz, readyz, metrics, openapi),
    components(schemas(Problem, ProblemError, RenderBody, RenderedJson, PlatformInfo, Health))
)]
pub struct ApiDoc;

/// The served OpenAPI document: [`ApiDoc`] plus what every route shares and
/// the derive cannot say per handler: the 405 of a known route with another
/// method (with `Allow`), `X-Platform-Version` on every response,
/// `Retry-After` on every 503, and the 404 of every unknown route (a
/// component: OpenAPI has no place for paths that do not exist).
pub fn openapi_document() -> serde_json::Value {
    use serde_json::{Value, json};
    let mut doc = serde_json::to_value(ApiDoc::openapi()).unwrap_or(Value::Null);
    let problem =
        json!({"application/problem+json": {"schema": {"$ref": "#/components/schemas/Problem"}}});
    let header =
        |description: &str| json!({"description": description, "schema": {"type": "string"}});
    let version = header("version id of the platform config that answered");
    if let Some(paths) = doc.get_mut("paths").and_then(Value::as_object_mut) {
        for item in paths.values_mut() {
            let Some(item) = item.as_object_mut() else {
                continue;
            };
            let methods: Vec<String> = item.keys().map(|m| m.to_uppercase()).collect();
            for op in item.values_mut() {
                let Some(responses) = op.get_mut("responses").and_then(Value::as_object_mut) else {
                    continue;
                };
                responses.insert(
                    "405".into(),
                    json!({
                        "description": "the route exists with other methods",
                        "headers": {"Allow": header(&format!("the methods of this route ({})", methods.join(", ")))},
                        "content": problem,
                    }),
                );
                for (status, response) in responses.iter_mut() {
                    let headers = &mut response["headers"];
                    if !headers.is_object() {
                        *headers = json!({});
                    }
                    headers["x-platform-version"] = version.clone();
                    if status == "503" {
                        headers["Retry-After"] = header("seconds to wait before retrying");
                    }
                }
            }
        }
    }
    if let Some(components) = doc.get_mut("components").and_then(Value::as_object_mut) {
        components.insert(
            "responses".into(),
            json!({"NotFound": {
                "description": "404 of every route not listed under paths",
                "headers": {"x-platform-version": version},
                "content": problem,
            }}),
        );
    }
    doc
}
