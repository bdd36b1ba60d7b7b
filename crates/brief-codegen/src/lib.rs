//! Brief code generators. Both are pure functions of a checked syntax tree
//! (run `brief_check` first: generating from a file with errors gives
//! unspecified, though never panicking, output).
//!
//! - [`rust()`]: serde types, a server trait and an axum router, a
//!   Brief-RPC/1 client (all through the `brief-rt` crate), and event topics
//!   with publisher/subscriber traits.
//! - [`proto()`]: the equivalent proto3 file, accepted by `protoc`.
//!
//! Output carries a header naming the source and the schema's content hash
//! ([`schema_hash`]: SHA-256 of the canonical formatting, so reformatting a
//! schema does not change it).
//!
//! **Architecture Invariant:** no I/O; the `brief` binary writes files and
//! runs rustfmt.

mod names;
mod proto;
mod rust;

pub use proto::proto;
pub use rust::{RustOptions, rust};

use sha2::{Digest, Sha256};

/// Code generation failures: things a valid Brief schema can say that a
/// target cannot.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum Error {
    /// Two Brief names map to the same target identifier.
    #[error("`{first}` and `{second}` both become `{ident}` in {target}")]
    NameCollision {
        /// First Brief name.
        first: String,
        /// Second Brief name.
        second: String,
        /// The shared identifier.
        ident: String,
        /// `Rust` or `proto`.
        target: &'static str,
    },
}

/// `sha256:<hex>` of the canonical formatting of `file`.
pub fn schema_hash(file: &brief_syntax::File) -> String {
    hash_of_canonical(&brief_syntax::fmt::format(file))
}

/// [`schema_hash`] of an already formatted (canonical) schema text.
pub(crate) fn hash_of_canonical(canonical: &str) -> String {
    let digest = Sha256::digest(canonical.as_bytes());
    let mut hex = String::with_capacity(64);
    for b in digest {
        hex.push_str(&format!("{b:02x}"));
    }
    format!("sha256:{hex}")
}

#[cfg(test)]
mod tests;
