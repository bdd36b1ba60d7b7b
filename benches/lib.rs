//! Benchmarks are the `[[bench]]` targets of this package; this library is empty on purpose.
