//! Integration tests of helmgen: the router without a socket (`router`),
//! random and mutated bodies (`fuzz`), the binary over a real socket with
//! SIGHUP and SIGTERM (`socket`), and the impact report (`impact`).

#![allow(clippy::unwrap_used)] // tests fail loudly on purpose

mod fuzz;
mod impact;
mod router;
mod socket;

use std::path::{Path, PathBuf};
use std::sync::Arc;

use app_toml::Date;
use axum::Router;
use axum::body::Body;
use axum::http::{HeaderMap, Request, StatusCode};
use helmgen::{AppState, Config};
use http_body_util::BodyExt;
use platform_config::Platform;
use tower::ServiceExt;

/// A fixed "today", so that exception expiry never depends on the clock.
pub const TODAY: Date = Date {
    year: 2026,
    month: 6,
    day: 1,
};

/// The repository root.
pub fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

/// A fixture file's bytes (path relative to the repository root).
pub fn fixture(path: &str) -> Vec<u8> {
    std::fs::read(repo().join(path)).unwrap()
}

/// State with the built-in platform, default limits and the fixed date.
pub fn state_with(config: Config) -> AppState {
    AppState::new(Platform::builtin(), config, Arc::new(|| TODAY))
}

/// The router with default limits.
pub fn app() -> (AppState, Router) {
    let state = state_with(Config::default());
    (state.clone(), helmgen::app(state))
}

/// A response, read to the end.
pub struct Reply {
    /// Status.
    pub status: StatusCode,
    /// Headers.
    pub headers: HeaderMap,
    /// The whole body.
    pub body: Vec<u8>,
}

impl Reply {
    /// A header as text ("" when absent).
    pub fn header(&self, name: &str) -> &str {
        self.headers
            .get(name)
            .map(|v| v.to_str().unwrap())
            .unwrap_or_default()
    }

    /// The body as JSON.
    pub fn json(&self) -> serde_json::Value {
        serde_json::from_slice(&self.body).unwrap()
    }

    /// The body as text.
    pub fn text(&self) -> &str {
        std::str::from_utf8(&self.body).unwrap()
    }
}

/// Sends one request through the router, without a socket.
pub async fn send(app: &Router, request: Request<Body>) -> Reply {
    let response = app.clone().oneshot(request).await.unwrap();
    let status = response.status();
    let headers = response.headers().clone();
    let body = response
        .into_body()
        .collect()
        .await
        .unwrap()
        .to_bytes()
        .to_vec();
    Reply {
        status,
        headers,
        body,
    }
}

/// `POST uri` with a content type and body.
pub fn post(uri: &str, content_type: &str, body: impl Into<Body>) -> Request<Body> {
    let mut b = Request::post(uri);
    if !content_type.is_empty() {
        b = b.header("content-type", content_type);
    }
    b.body(body.into()).unwrap()
}

/// `GET uri`.
pub fn get(uri: &str) -> Request<Body> {
    Request::get(uri).body(Body::empty()).unwrap()
}
