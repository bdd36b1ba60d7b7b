//! The proof: the `summer` server and client, generated from the spec's
//! fixtures when this crate is built, run on loopback: the client calls it, through a deadline, a retry and an open
//! breaker; plus events through the in-memory bus, and a check that the
//! committed generated code is up to date.

mod events;
mod proof;
mod stale;

/// The `summer` server and client `build.rs` generated from the spec's
/// fixtures for this build (not the committed example in `src`).
mod generated {
    /// `brief gen rust summer.brief`.
    #[allow(
        dead_code,
        clippy::type_complexity,
        clippy::wrong_self_convention,
        clippy::enum_variant_names
    )]
    pub mod summer {
        include!(concat!(env!("OUT_DIR"), "/summer.rs"));
    }

    /// `brief gen rust --client summer.client.brief`.
    #[allow(
        dead_code,
        clippy::type_complexity,
        clippy::wrong_self_convention,
        clippy::enum_variant_names
    )]
    pub mod summer_client {
        include!(concat!(env!("OUT_DIR"), "/summer_client.rs"));
    }
}
