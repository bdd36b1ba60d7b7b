//! Unit tests of the differ helpers.
