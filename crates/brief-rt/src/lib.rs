//! Runtime library of Brief-generated Rust code (`brief gen rust`).
//!
//! It implements Brief-RPC/1, a JSON-only profile of the Connect unary
//! protocol: `POST /<service>/<rpc>` with the input message as JSON, 200 with
//! the output message, or a non-200 status with `{"code","message","details"}`.
//!
//! - [`Error`] and [`Code`]: Connect error codes and their HTTP statuses.
//! - [`Context`]: the caller's deadline and the headers every call passes on
//!   (`traceparent`, `X-Request-Id`, `X-Route`).
//! - [`server`]: axum handlers that decode, enforce the deadline and encode.
//! - [`client`]: per-rpc timeouts bounded by the remaining deadline, retries
//!   for `unavailable` and connection failures with backoff and a budget, and a
//!   circuit breaker per target service and rpc.
//! - [`events`]: an in-memory bus for generated publisher/subscriber traits.
//! - [`Bytes`] (base64 in JSON) and [`Time`] (RFC 3339), the wire types of
//!   `bytes` and `time`.
//!
//! Generated code names everything through this crate (including `serde` and
//! `axum`), so a crate holding generated code needs only `brief-rt`.

pub mod client;
mod codec;
mod context;
mod error;
pub mod events;
pub mod server;

pub use codec::Bytes;
pub use context::{Context, PROPAGATED_HEADERS};
pub use error::{Code, Error};

/// The `time` type: an instant, RFC 3339 in JSON.
pub type Time = jiff::Timestamp;

pub use axum;
pub use serde;
pub use serde_json;
