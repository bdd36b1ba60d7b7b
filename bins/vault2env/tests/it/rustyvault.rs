//! RustyVault tests (written next).
