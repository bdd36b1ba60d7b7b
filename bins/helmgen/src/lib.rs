//! helmgen: the manifest generator as one stateless HTTP service, and the
//! blast-radius report of a platform config change.
//!
//! Every deploy asks `helmgen serve` for fresh manifests, so a platform change
//! reaches every service at its next deploy; `helmgen impact` shows what that
//! change will do to every service before it ships
//! (`../shared/spec/helmgen.md`).
//!
//! The service is [`app`], a function from [`AppState`] to an axum `Router`:
//! tests call it without a socket, the binary serves it. helmgen adds no
//! rendering logic: every render goes through
//! [`manifests::pipeline::render_source`], the same path as `paas render`.
//!
//! **Architecture Invariant:** the library reads no files, signals or clock:
//! the platform config and "today" come in through [`AppState`]; the binary
//! (`main.rs`) owns sockets, signals, files and the clock.

pub mod impact;
pub mod metrics;
pub mod problem;
pub mod request;
pub mod routes;

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, RwLock};
use std::time::{Duration, Instant};

use app_toml::Date;
use axum::Router;
use axum::body::Bytes;
use axum::extract::{MatchedPath, Request, State};
use axum::http::HeaderValue;
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use platform_config::Platform;
use tokio::sync::Semaphore;
use tower_http::catch_panic::CatchPanicLayer;

use crate::metrics::Metrics;
use crate::problem::Problem;

/// Limits of the server.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Config {
    /// Largest accepted request body, in bytes (checked before parsing).
    pub max_body: usize,
    /// Time limit of one request, receiving the body included.
    pub timeout: Duration,
    /// Render requests handled at once; more wait (up to half the timeout), then get 503.
    /// A slot is held until the blocking render itself ends, even when its
    /// request already timed out, so at most this many renders ever run.
    pub concurrency: usize,
    /// Largest rendered answer, in bytes (YAML or JSON); over it, 422 `output-too-large`.
    pub max_output_bytes: usize,
    /// Most objects one render may produce; over it, 422 `output-too-large`.
    pub max_objects: usize,
}

impl Default for Config {
    fn default() -> Config {
        Config {
            max_body: 256 * 1024,
            timeout: Duration::from_secs(10),
            // The binary's default is twice the CPU cores (the library reads
            // no system facts); this one suits tests and benchmarks.
            concurrency: 8,
            max_output_bytes: 8 * 1024 * 1024,
            max_objects: 2_000,
        }
    }
}

/// Why a platform config cannot be made active (the old one stays).
#[derive(Debug, thiserror::Error)]
pub enum ReloadError {
    /// The text does not parse or validate.
    #[error(transparent)]
    Config(#[from] platform_config::Error),
    /// The version id cannot be sent as `X-Platform-Version`.
    #[error("the platform version id {0:?} is not a valid HTTP header value")]
    BadVersion(String),
}

/// The `X-Platform-Version` value of a platform config, or why it has none
/// (its `version` holds characters a header cannot carry).
pub fn version_header(platform: &Platform) -> Result<HeaderValue, ReloadError> {
    let id = platform.version_id();
    HeaderValue::from_str(&id).map_err(|_| ReloadError::BadVersion(id))
}

/// The clock that says what day it is (for exception expiry).
pub type Clock = Arc<dyn Fn() -> Date + Send + Sync>;

/// A platform config ready to serve, with what every response needs precomputed.
#[derive(Debug)]
pub struct Loaded {
    /// The config.
    pub platform: Platform,
    /// Its version id (`X-Platform-Version`).
    pub version_id: String,
    /// The same as a header value, built once (`None` only for a config
    /// given to [`AppState::new`] whose version is no valid header value:
    /// the binary refuses such a config at start, and reloads refuse it).
    pub version_header: Option<HeaderValue>,
    /// The body of `GET /v1/platform`.
    pub json: Bytes,
}

impl Loaded {
    fn new(platform: Platform) -> Loaded {
        let version_id = platform.version_id();
        let info = serde_json::json!({
            "version_id": version_id,
            "platform": platform,
        });
        let json = Bytes::from(serde_json::to_vec(&info).unwrap_or_default());
        let version_header = HeaderValue::from_str(&version_id).ok();
        Loaded {
            platform,
            version_id,
            version_header,
            json,
        }
    }
}

struct Inner {
    platform: RwLock<Arc<Loaded>>,
    config: Config,
    metrics: Metrics,
    draining: AtomicBool,
    permits: Arc<Semaphore>,
    clock: Clock,
    schema: Bytes,
    next_request: AtomicU64,
    boot: u64,
}

/// Shared state of the service: the active platform config, limits,
/// metrics and the draining flag. Cheap to clone.
#[derive(Clone)]
pub struct AppState {
    inner: Arc<Inner>,
}

impl std::fmt::Debug for AppState {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AppState")
            .field("platform_version", &self.platform().version_id)
            .field("config", &self.inner.config)
            .field("draining", &self.is_draining())
            .finish_non_exhaustive()
    }
}

impl AppState {
    /// State serving `platform` with the given limits and clock.
    pub fn new(platform: Platform, config: Config, clock: Clock) -> AppState {
        let schema = Bytes::from(serde_json::to_vec(&app_toml::json_schema()).unwrap_or_default());
        let boot = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_secs())
            .unwrap_or_default();
        AppState {
            inner: Arc::new(Inner {
                platform: RwLock::new(Arc::new(Loaded::new(platform))),
                config,
                metrics: Metrics::default(),
                draining: AtomicBool::new(false),
                permits: Arc::new(Semaphore::new(config.concurrency.max(1))),
                clock,
                schema,
                next_request: AtomicU64::new(1),
                boot,
            }),
        }
    }

    /// The active platform config.
    pub fn platform(&self) -> Arc<Loaded> {
        let guard = self
            .inner
            .platform
            .read()
            .unwrap_or_else(|e| e.into_inner());
        Arc::clone(&guard)
    }

    /// Replaces the active platform config (requests in flight finish with
    /// the one they started with). Returns the new version id; a config whose
    /// version id is no valid header value is refused and the old one stays.
    pub fn set_platform(&self, platform: Platform) -> Result<String, ReloadError> {
        version_header(&platform)?;
        let loaded = Arc::new(Loaded::new(platform));
        let id = loaded.version_id.clone();
        *self
            .inner
            .platform
            .write()
            .unwrap_or_else(|e| e.into_inner()) = loaded;
        Ok(id)
    }

    /// Parses `text` as a platform config and makes it active; on error the
    /// old config stays and the error is returned.
    pub fn reload(&self, text: &str, file: &str) -> Result<String, ReloadError> {
        let platform = Platform::from_toml(text, file)?;
        self.set_platform(platform)
    }

    /// Starts draining: `/readyz` and new renders answer 503.
    pub fn start_draining(&self) {
        self.inner.draining.store(true, Ordering::SeqCst);
    }

    /// Whether the server is draining.
    pub fn is_draining(&self) -> bool {
        self.inner.draining.load(Ordering::SeqCst)
    }

    /// The limits.
    pub fn config(&self) -> Config {
        self.inner.config
    }

    /// The metrics.
    pub fn metrics(&self) -> &Metrics {
        &self.inner.metrics
    }

    fn permits(&self) -> Arc<Semaphore> {
        Arc::clone(&self.inner.permits)
    }

    fn today(&self) -> Date {
        (self.inner.clock)()
    }

    fn schema_bytes(&self) -> Bytes {
        self.inner.schema.clone()
    }

    fn request_id(&self) -> String {
        let n = self.inner.next_request.fetch_add(1, Ordering::Relaxed);
        format!("{:x}-{n}", self.inner.boot)
    }
}

/// The routes of the contract; everything else is a problem document.
const ROUTES: [&str; 7] = [
    "/v1/render",
    "/v1/schema/app-toml",
    "/v1/platform",
    "/healthz",
    "/readyz",
    "/metrics",
    "/openapi.json",
];

/// The whole service as a router: every route of the contract, problem
/// documents for 404/405, request ids, logs, metrics, the per-request
/// timeout, and a last-line panic catcher.
pub fn app(state: AppState) -> Router {
    Router::new()
        .route(ROUTES[0], post(routes::render))
        .route(ROUTES[1], get(routes::schema))
        .route(ROUTES[2], get(routes::platform))
        .route(ROUTES[3], get(routes::healthz))
        .route(ROUTES[4], get(routes::readyz))
        .route(ROUTES[5], get(routes::metrics))
        .route(ROUTES[6], get(routes::openapi))
        .fallback(routes::not_found)
        .method_not_allowed_fallback(routes::method_not_allowed)
        .layer(CatchPanicLayer::custom(
            |_panic: Box<dyn std::any::Any + Send>| {
                Problem::internal("a handler panicked; this is a bug in helmgen").into_response()
            },
        ))
        .layer(middleware::from_fn_with_state(state.clone(), observe))
        .with_state(state)
}

/// Request id, timeout, metrics and one structured log line per request.
/// Logs name the method, route, status and time; never the body.
async fn observe(State(state): State<AppState>, request: Request, next: Next) -> Response {
    let start = Instant::now();
    let route: &'static str = request
        .extensions()
        .get::<MatchedPath>()
        .and_then(|m| ROUTES.iter().find(|r| **r == m.as_str()))
        .copied()
        .unwrap_or("unmatched");
    let id = request
        .headers()
        .get("x-request-id")
        .and_then(|v| v.to_str().ok())
        .filter(|v| {
            !v.is_empty()
                && v.len() <= 64
                && v.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-')
        })
        .map(str::to_owned)
        .unwrap_or_else(|| state.request_id());
    let method = request.method().clone();
    let path = request.uri().path().to_owned();
    let limit = state.config().timeout;
    // Every response carries the platform version it was answered under
    // (problems, timeouts and the panic catcher included); a render sets its
    // own (the config it started with) and that one is kept.
    let version = state.platform().version_header.clone();
    // Renders own their deadline (see `routes::render`); every other route
    // is bounded here.
    let mut response = if route == ROUTES[0] {
        next.run(request).await
    } else {
        match tokio::time::timeout(limit, next.run(request)).await {
            Ok(r) => r,
            Err(_) => Problem::timeout(limit).into_response(),
        }
    };
    let status = response.status().as_u16();
    let elapsed = start.elapsed();
    state.metrics().observe(route, status, elapsed);
    if let Ok(v) = HeaderValue::from_str(&id) {
        response.headers_mut().insert("x-request-id", v);
    }
    if let Some(v) = version
        && !response
            .headers()
            .contains_key(routes::PLATFORM_VERSION_HEADER)
    {
        response
            .headers_mut()
            .insert(routes::PLATFORM_VERSION_HEADER, v);
    }
    tracing::info!(
        request_id = %id,
        method = %method,
        path = %path,
        route,
        status,
        micros = elapsed.as_micros() as u64,
        "request"
    );
    response
}

/// Today's date in UTC from the system clock, for the binary's [`Clock`].
pub fn system_today() -> Date {
    let today = jiff::Timestamp::now()
        .to_zoned(jiff::tz::TimeZone::UTC)
        .date();
    Date {
        year: u16::try_from(today.year()).unwrap_or(1970),
        month: u8::try_from(today.month()).unwrap_or(1),
        day: u8::try_from(today.day()).unwrap_or(1),
    }
}

#[cfg(test)]
mod tests;
