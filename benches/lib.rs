//! What the `[[bench]]` targets of this package share: the allocator the
//! shipped binaries use and the fixed "today" of every render.
//!
//! A bench that uses anything from here (every one that renders) links this
//! library and with it the allocator; `--features system-alloc` measures
//! with the system allocator instead.

use app_toml::Date;

#[cfg(not(feature = "system-alloc"))]
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// The date renders in the benches are made on (exception expiry).
pub const TODAY: Date = Date {
    year: 2026,
    month: 11,
    day: 23,
};
