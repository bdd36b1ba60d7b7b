//! Problem documents (RFC 9457, `application/problem+json`): the one shape
//! of every error response, so a client needs a single error decoder.
//!
//! Each problem has a stable `type` (a URN naming the problem class), the
//! HTTP status, a one-line `detail` and `errors`: every individual problem
//! found, located by key path and, for app.toml diagnostics, line and column.

use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::Serialize;
use utoipa::ToSchema;

/// Media type of problem documents.
pub const PROBLEM_JSON: &str = "application/problem+json";

/// One problem document.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
pub struct Problem {
    /// URN of the problem class (`urn:paas:problem:invalid-app-toml`).
    #[serde(rename = "type")]
    pub type_: String,
    /// Short summary of the problem class.
    pub title: String,
    /// The HTTP status code.
    pub status: u16,
    /// What went wrong with this request, in one line.
    pub detail: String,
    /// Every individual problem (may be empty).
    pub errors: Vec<ProblemError>,
}

/// One located problem inside a [`Problem`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
pub struct ProblemError {
    /// Kind of problem (`syntax`, `unknown-key`, `policy`, `query`, ...).
    pub kind: String,
    /// Key path in app.toml (`envs.prod.replicas`), `query.<name>` for a
    /// query parameter, `body.<name>` for a JSON body field, or `Kind/name`
    /// of a generated object for a policy violation.
    pub path: String,
    /// 1-based line in the app.toml (or JSON body), when known.
    pub line: Option<usize>,
    /// 1-based column, when known.
    pub column: Option<usize>,
    /// What is wrong.
    pub message: String,
    /// How to fix it, when obvious.
    pub hint: Option<String>,
}

impl ProblemError {
    /// An error without a position.
    pub fn at(kind: &str, path: impl Into<String>, message: impl Into<String>) -> ProblemError {
        ProblemError {
            kind: kind.to_owned(),
            path: path.into(),
            line: None,
            column: None,
            message: message.into(),
            hint: None,
        }
    }

    /// The same error with a hint.
    pub fn with_hint(mut self, hint: impl Into<String>) -> ProblemError {
        self.hint = Some(hint.into());
        self
    }
}

impl Problem {
    /// A problem of class `slug` with a status, title and detail.
    pub fn new(status: StatusCode, slug: &str, title: &str, detail: impl Into<String>) -> Problem {
        Problem {
            type_: format!("urn:paas:problem:{slug}"),
            title: title.to_owned(),
            status: status.as_u16(),
            detail: detail.into(),
            errors: Vec::new(),
        }
    }

    /// The same problem with its located errors.
    pub fn with_errors(mut self, errors: Vec<ProblemError>) -> Problem {
        self.errors = errors;
        self
    }

    /// The class slug (the last part of `type`), used as the metrics label.
    pub fn slug(&self) -> &str {
        self.type_.rsplit(':').next().unwrap_or_default()
    }

    /// 404 for a route that does not exist.
    pub fn not_found(path: &str) -> Problem {
        Problem::new(
            StatusCode::NOT_FOUND,
            "not-found",
            "no such route",
            format!("there is no route `{path}`; see /openapi.json"),
        )
    }

    /// 405 for a route that exists with other methods.
    pub fn method_not_allowed(method: &str, path: &str) -> Problem {
        Problem::new(
            StatusCode::METHOD_NOT_ALLOWED,
            "method-not-allowed",
            "method not allowed",
            format!("`{path}` does not accept {method}; see /openapi.json"),
        )
    }

    /// 503 while the server drains for shutdown.
    pub fn draining() -> Problem {
        Problem::new(
            StatusCode::SERVICE_UNAVAILABLE,
            "shutting-down",
            "shutting down",
            "the server is draining for shutdown; retry on another instance",
        )
    }

    /// 503 when every render slot stayed busy for the whole request timeout.
    pub fn overloaded() -> Problem {
        Problem::new(
            StatusCode::SERVICE_UNAVAILABLE,
            "overloaded",
            "overloaded",
            "every render slot stayed busy; retry later",
        )
    }

    /// 503 when the answer was not ready within the per-request timeout
    /// (mostly: a render that runs too long). The spec's status list has no
    /// 408 for server-side slowness; 503 with `Retry-After` tells the client
    /// it may retry.
    pub fn timeout(limit: std::time::Duration) -> Problem {
        Problem::new(
            StatusCode::SERVICE_UNAVAILABLE,
            "timeout",
            "answer not ready in time",
            format!(
                "the answer was not ready within the timeout of {} ms; retry later",
                limit.as_millis()
            ),
        )
    }

    /// 408 when the client did not finish sending its body within the
    /// per-request timeout (a deviation from the spec's status list: the
    /// client, not the server, is slow).
    pub fn slow_body(limit: std::time::Duration) -> Problem {
        Problem::new(
            StatusCode::REQUEST_TIMEOUT,
            "body-timeout",
            "request body too slow",
            format!(
                "the request body did not arrive within the timeout of {} ms",
                limit.as_millis()
            ),
        )
    }

    /// 422 when the rendered answer is over one of the output limits
    /// (`what` names the limit, e.g. `--max-output-bytes`).
    pub fn output_too_large(what: &str, limit: usize, detail: impl std::fmt::Display) -> Problem {
        Problem::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            "output-too-large",
            "rendered output too large",
            format!("{detail}, over the limit {what} = {limit}"),
        )
    }

    /// 500 for a bug: a panic caught on the way out. Never expected for any input.
    pub fn internal(detail: impl Into<String>) -> Problem {
        Problem::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            "internal",
            "internal error",
            detail,
        )
    }

    /// The response status.
    pub fn status_code(&self) -> StatusCode {
        StatusCode::from_u16(self.status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR)
    }
}

impl IntoResponse for Problem {
    fn into_response(self) -> Response {
        let status = self.status_code();
        // Serialising plain strings and numbers cannot fail; fall back to a
        // fixed document rather than panic if it ever did.
        let body = serde_json::to_vec(&self).unwrap_or_else(|_| {
            br#"{"type":"urn:paas:problem:internal","title":"internal error","status":500,"detail":"cannot serialise the problem","errors":[]}"#.to_vec()
        });
        let mut response = (status, body).into_response();
        response
            .headers_mut()
            .insert(header::CONTENT_TYPE, HeaderValue::from_static(PROBLEM_JSON));
        if status == StatusCode::SERVICE_UNAVAILABLE {
            response
                .headers_mut()
                .insert(header::RETRY_AFTER, HeaderValue::from_static("1"));
        }
        response
    }
}
