//! A Vault-compatible test server that follows Vault's documented HTTP API.
//!
//! It covers what RustyVault does not: Kubernetes auth
//! (`POST /v1/auth/<mount>/login` with `role` and `jwt`), KV version 2
//! (`data/`, `metadata/`, soft-deleted and destroyed latest versions that
//! answer 404 with metadata), `sys/internal/ui/mounts/<mount>`, `LIST` (the
//! method and `?list=true`), ACL denials with Vault's policy path rules
//! (exact, trailing `*` glob, `+` segment; 403 `{"errors":["permission
//! denied"]}`), logins routed by the auth mount's method (400 for a wrong
//! AppRole secret id), standby redirects, `auth/token/revoke-self`, plus
//! fault injection (transient 503s, for a number of requests or for a time,
//! chunked responses, error messages that echo the request, answers with
//! only the needed fields or with unusual and unknown ones: [`Shape`]) and
//! TLS with a generated CA. Every request is logged with its arrival time so tests can
//! assert on what the client did and when. Blocking, one thread per connection: no async runtime.

mod dns;
mod server;

pub use dns::DnsServer;
pub use server::{
    DEMO_POLICY, Logged, Shape, TestVault, TestVaultBuilder, issued_tokens, policy_matches,
};

#[cfg(test)]
mod tests;
