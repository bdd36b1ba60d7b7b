//! Generated code for `fixtures/brief/rust`: schemas whose names clash with
//! what the generator emits (traits, client methods, generic parameters,
//! prelude names, keywords), long names and docs. Compiling this module
//! without warnings (under clippy in CI) is the test; `tests/it/stale.rs`
//! keeps it fresh. Each schema in server mode (`<name>.rs`) and client mode
//! (`<name>_client.rs`).

pub mod docs;
pub mod docs_client;
pub mod events_names;
pub mod events_names_client;
pub mod keywords;
pub mod keywords_client;
pub mod lonely;
pub mod lonely_client;
pub mod long_names;
pub mod long_names_client;
pub mod prelude;
pub mod prelude_client;
pub mod rpc_names;
pub mod rpc_names_client;
