//! Server side of Brief-RPC/1 for axum: generated routers call [`rpc`] once
//! per method. Each request gets a [`Context`] with the deadline from
//! `Connect-Timeout-Ms` (clamped by [`MAX_TIMEOUT`]), the caller from
//! `Brief-Caller` and the propagated headers; the body is decoded (unknown
//! fields ignored, a missing required field is `invalid_argument`); the
//! handler is cancelled at the deadline with `deadline_exceeded`.

use crate::{Code, Context, Error, PROPAGATED_HEADERS};
use axum::body::Bytes;
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::MethodRouter;
use serde::Serialize;
use serde::de::DeserializeOwned;
use std::future::Future;
use std::sync::Arc;
use std::time::{Duration, Instant};

/// The longest a handler may run, whatever the caller asks (and the
/// deadline when the caller sends none).
pub const MAX_TIMEOUT: Duration = Duration::from_secs(60);

/// An axum `POST` route for one rpc: `f(service, context, input)` runs the handler.
pub fn rpc<S, I, O, F, Fut>(svc: Arc<S>, f: F) -> MethodRouter
where
    S: Send + Sync + 'static,
    I: DeserializeOwned + Send + 'static,
    O: Serialize + Send + 'static,
    F: Fn(Arc<S>, Context, I) -> Fut + Clone + Send + Sync + 'static,
    Fut: Future<Output = Result<O, Error>> + Send + 'static,
{
    axum::routing::post(move |headers: HeaderMap, body: Bytes| {
        let (svc, f) = (svc.clone(), f.clone());
        async move {
            match handle(&headers, &body, move |ctx, input| f(svc, ctx, input)).await {
                Ok(resp) => resp,
                Err(e) => e.into_response(),
            }
        }
    })
    .fallback(method_not_allowed)
}

/// Any method but POST on an rpc path: 405 with `Allow: POST` and a
/// Connect error body, so curl users see why.
async fn method_not_allowed(method: axum::http::Method) -> Response {
    let mut resp = Error::new(
        Code::Unimplemented,
        format!("rpcs are called with POST, not {method}"),
    )
    .into_response();
    *resp.status_mut() = StatusCode::METHOD_NOT_ALLOWED;
    resp.headers_mut()
        .insert(header::ALLOW, header::HeaderValue::from_static("POST"));
    resp
}

async fn handle<I, O, Fut>(
    headers: &HeaderMap,
    body: &[u8],
    f: impl FnOnce(Context, I) -> Fut,
) -> Result<Response, Error>
where
    I: DeserializeOwned,
    O: Serialize,
    Fut: Future<Output = Result<O, Error>>,
{
    if let Some(ct) = headers.get(header::CONTENT_TYPE) {
        let ct = ct.to_str().unwrap_or("");
        if !ct.starts_with("application/json") {
            // Connect: a server answers an unsupported Content-Type with 415
            // and names what it accepts (`Accept-Post`). The code says the
            // server does not implement that encoding.
            let mut resp = Error::new(
                Code::Unimplemented,
                format!("unsupported content type `{ct}`, use application/json"),
            )
            .into_response();
            *resp.status_mut() = StatusCode::UNSUPPORTED_MEDIA_TYPE;
            resp.headers_mut().insert(
                header::HeaderName::from_static("accept-post"),
                header::HeaderValue::from_static("application/json"),
            );
            return Ok(resp);
        }
    }
    let ctx = context_from_headers(headers, Instant::now())?;
    let remaining = ctx.remaining().unwrap_or(MAX_TIMEOUT);
    if remaining.is_zero() {
        return Err(Error::deadline_exceeded(
            "the caller's deadline passed before the call started",
        ));
    }
    let input: I = crate::codec::decode_message(if body.is_empty() { b"{}" } else { body })
        .map_err(|e| Error::invalid_argument(format!("invalid request body: {e}")))?;
    let output = tokio::time::timeout(remaining, f(ctx, input))
        .await
        .map_err(|_| {
            Error::deadline_exceeded(format!(
                "handler did not finish within {} ms",
                remaining.as_millis()
            ))
        })??;
    Ok((StatusCode::OK, axum::Json(output)).into_response())
}

/// Builds the request context from Brief-RPC/1 headers at time `now`.
pub fn context_from_headers(headers: &HeaderMap, now: Instant) -> Result<Context, Error> {
    let mut timeout = MAX_TIMEOUT;
    if let Some(v) = headers.get("connect-timeout-ms") {
        let ms = v
            .to_str()
            .ok()
            .filter(|s| !s.is_empty() && s.len() <= 10 && s.bytes().all(|b| b.is_ascii_digit()))
            .and_then(|s| s.parse::<u64>().ok())
            .ok_or_else(|| Error::invalid_argument("Connect-Timeout-Ms must be 1 to 10 digits"))?;
        timeout = timeout.min(Duration::from_millis(ms));
    }
    let mut ctx = Context::background().with_deadline(now + timeout);
    if let Some(caller) = headers.get("brief-caller").and_then(|v| v.to_str().ok()) {
        ctx = ctx.with_caller(caller);
    }
    if let Some(contract) = headers.get("brief-contract").and_then(|v| v.to_str().ok()) {
        ctx = ctx.with_contract(contract);
    }
    for name in PROPAGATED_HEADERS {
        if let Some(v) = headers.get(name).and_then(|v| v.to_str().ok()) {
            ctx = ctx.with_header(name, v);
        }
    }
    Ok(ctx)
}

/// The router fallback: an unknown path is `unimplemented`.
pub async fn unimplemented(uri: axum::http::Uri) -> Response {
    Error::new(Code::Unimplemented, format!("no rpc at {}", uri.path())).into_response()
}

/// `GET /_brief/contract`: the service name, the schema hash and the
/// canonical schema the server was generated from.
pub fn contract(service: &'static str, hash: &'static str, schema: &'static str) -> MethodRouter {
    axum::routing::get(move || async move {
        axum::Json(serde_json::json!({ "service": service, "hash": hash, "schema": schema }))
    })
}

/// `GET /_brief/health`: 200 `{"status":"ok"}` while the process serves.
pub fn health() -> MethodRouter {
    axum::routing::get(|| async { axum::Json(serde_json::json!({ "status": "ok" })) })
}
