//! vault2env: log in to Vault, put the namespace's secrets into the
//! environment, and replace itself with the service.
//!
//! The library holds everything but the process boundary: configuration
//! ([`config`]) read through [`host::Host`], name resolution without NSS
//! ([`resolve`]), a small blocking HTTP/1.1 client with rustls ([`http`],
//! [`tls`]), Vault's API with retries ([`vault`]), and the pure step from
//! what was read to the final environment ([`plan`]). The binary adds
//! logging, exit codes, `RLIMIT_CORE`, revocation and `execve`.
//!
//! **Architecture Invariant:** no async runtime, no value of a secret in any
//! error or message; every message names paths, keys or variable names only.

pub mod config;
pub mod error;
pub mod host;
pub mod http;
pub mod init;
pub mod names;
pub mod plan;
pub mod redact;
pub mod resolve;
pub mod tls;
pub mod vault;

pub use error::Error;

#[cfg(test)]
mod tests;
