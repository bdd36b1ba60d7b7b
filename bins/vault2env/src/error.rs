//! The library's one error type, and how each error maps to an exit code.
//!
//! Messages name paths, keys and variable names only: no variant carries a
//! secret value, a token or a JWT (Vault's own error messages are passed
//! through [`crate::redact::Redactor`] before they get here).

use std::path::PathBuf;

/// Exit code for usage and configuration errors (`EX_USAGE`).
pub const EXIT_USAGE: i32 = 64;
/// Exit code when Vault could not be reached before the deadline (`EX_UNAVAILABLE`).
pub const EXIT_UNAVAILABLE: i32 = 69;
/// Exit code when login or a read was denied (`EX_NOPERM`).
pub const EXIT_DENIED: i32 = 77;
/// Exit code when a required secret is missing (`EX_CONFIG`).
pub const EXIT_MISSING: i32 = 78;
/// Exit code when the command exists but cannot be executed (like a shell).
pub const EXIT_CANNOT_EXECUTE: i32 = 126;
/// Exit code when the command is not found (like a shell).
pub const EXIT_NOT_FOUND: i32 = 127;

/// Everything that can stop vault2env before it executes the service.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// A configuration variable is missing or malformed.
    #[error("configuration: {0}")]
    Config(String),
    /// A file that configuration points to could not be read.
    #[error("cannot read {path}: {source}")]
    ReadFile {
        /// The file.
        path: PathBuf,
        /// Why.
        source: std::io::Error,
    },
    /// Vault did not answer usefully before the total deadline.
    #[error("vault unreachable after {attempts} attempt(s) within the deadline: {last}")]
    Unreachable {
        /// How many requests were tried.
        attempts: u32,
        /// The last failure.
        last: String,
    },
    /// Vault refused the login.
    #[error("login with {method} auth at auth/{mount} denied (HTTP {status}){detail}")]
    LoginDenied {
        /// The auth method.
        method: &'static str,
        /// The auth mount.
        mount: String,
        /// The HTTP status.
        status: u16,
        /// Vault's (redacted) error messages, prefixed with ": ", or empty.
        detail: String,
    },
    /// Vault refused a read or list.
    #[error("permission denied on {op} {path} (HTTP {status}){detail}")]
    Denied {
        /// `read`, `list` or `mount lookup`.
        op: &'static str,
        /// The API path.
        path: String,
        /// The HTTP status.
        status: u16,
        /// Vault's (redacted) error messages, prefixed with ": ", or empty.
        detail: String,
    },
    /// Vault (or whatever listens at `VAULT_ADDR`) answered, but not with
    /// the documented shape: malformed HTTP, an unexpected status, a body
    /// that is not Vault's JSON, a rejected TLS certificate.
    #[error("unexpected response from vault for {path}: {reason}")]
    Protocol {
        /// The API path.
        path: String,
        /// What was wrong.
        reason: String,
    },
    /// A secret key cannot become a variable name.
    #[error("secret key {key:?} at {path} is not a valid variable name, even after normalisation")]
    InvalidName {
        /// The key as stored in Vault.
        key: String,
        /// The secret path.
        path: String,
    },
    /// A secret key names a variable vault2env must remove before exec.
    #[error(
        "secret key {key:?} at {path} becomes {name}, a name vault2env reserves and removes before exec; rename the key in Vault"
    )]
    ReservedName {
        /// The key as stored in Vault.
        key: String,
        /// The secret path.
        path: String,
        /// The variable name it normalises to.
        name: String,
    },
    /// Two secrets would set the same variable.
    #[error("variable {name} is defined twice: by {first} and by {second}")]
    Duplicate {
        /// The variable name.
        name: String,
        /// The first source (`path#key`).
        first: String,
        /// The second source (`path#key`).
        second: String,
    },
    /// A secret value holds a NUL byte, which `execve` cannot pass in an
    /// environment variable (a configuration problem of the secret).
    #[error(
        "secret {path}#{key} holds a NUL byte, which an environment variable cannot carry; remove it from the value (or encode the value, e.g. base64)"
    )]
    NulInValue {
        /// The secret path (relative to the KV mount).
        path: String,
        /// The key.
        key: String,
    },
    /// Nothing at the namespace's path: most likely a wrong path, mount or
    /// KV version rather than a service without secrets.
    #[error(
        "no secrets found at {mount}/{path} (KV version {version}{deleted}): check VAULT2ENV_PATH, VAULT2ENV_KV_MOUNT and VAULT2ENV_KV_VERSION, or set VAULT2ENV_ALLOW_EMPTY=true if the service has no secrets"
    )]
    NoSecrets {
        /// The KV mount.
        mount: String,
        /// The path under it.
        path: String,
        /// The KV version used (1 or 2).
        version: u8,
        /// `", N deleted"` when deleted secrets were skipped, else empty.
        deleted: String,
    },
    /// A `vault:` reference or a required variable could not be satisfied.
    #[error("missing secret: {0}")]
    Missing(String),
}

impl Error {
    /// The exit code of the spec for this error.
    pub fn exit_code(&self) -> i32 {
        match self {
            Error::Config(_)
            | Error::ReadFile { .. }
            | Error::InvalidName { .. }
            | Error::Duplicate { .. }
            | Error::NulInValue { .. }
            | Error::ReservedName { .. } => EXIT_USAGE,
            Error::Unreachable { .. } | Error::Protocol { .. } => EXIT_UNAVAILABLE,
            Error::LoginDenied { .. } | Error::Denied { .. } => EXIT_DENIED,
            Error::Missing(_) | Error::NoSecrets { .. } => EXIT_MISSING,
        }
    }

    /// Whether Vault was merely unreachable (connection refused or reset,
    /// timeouts, no DNS answer, retryable statuses until the deadline): the
    /// only case `VAULT2ENV_OPTIONAL=true` starts the service without
    /// secrets. A server that answered wrongly ([`Error::Protocol`]) also
    /// exits 69 but never counts as unreachable.
    pub fn is_unreachable(&self) -> bool {
        matches!(self, Error::Unreachable { .. })
    }
}
