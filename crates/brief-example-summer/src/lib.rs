//! Generated Brief code, committed as an example and as the subject of the
//! proof test (`tests/it`): the `summer` server schema, a client contract of
//! it, and an events schema. Regenerate with:
//!
//! ```text
//! brief gen rust fixtures/brief/ok/summer.brief --out crates/brief-example-summer/src
//! brief gen rust fixtures/brief/ok/summer.client.brief --client --out crates/brief-example-summer/src
//! brief gen rust fixtures/brief/ok/events.brief --out crates/brief-example-summer/src
//! brief gen rust fixtures/brief/ok/events.audit.brief --client --out crates/brief-example-summer/src
//! brief gen rust fixtures/brief/ok/shop.brief --out crates/brief-example-summer/src
//! brief gen rust fixtures/brief/ok/shop.web.brief --client --out crates/brief-example-summer/src
//! ```
//!
//! `shop` uses every construct of the language, so compiling this crate
//! (without warnings, under clippy) checks the generator on all of them;
//! [`corpus`] does the same for names that clash with generated items, long
//! names and docs that look like code (`fixtures/brief/rust`; the `brief`
//! binary's tests keep it fresh and check it is rustfmt-clean).
//!
//! A test fails when these files are stale.

pub mod corpus;
pub mod events;
pub mod events_audit;
pub mod shop;
pub mod shop_web;
pub mod summer;
pub mod summer_client;
