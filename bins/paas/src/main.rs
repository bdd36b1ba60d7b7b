//! The `paas` command (being written: see issue 2).

fn main() {}
