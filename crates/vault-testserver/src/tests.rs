//! Unit tests: Vault's policy path semantics.

use crate::policy_matches;

/// One case: pattern, API path, whether the pattern grants it.
fn check(pattern: &str, path: &str, expect: bool) {
    assert_eq!(policy_matches(pattern, path), expect, "{pattern} vs {path}");
}

#[test]
fn policy_paths_follow_vault() {
    // Exact unless globbed: no prefix semantics.
    check("secret/data/billing", "secret/data/billing", true);
    check("secret/data/billing", "secret/data/billing/db", false);
    check("secret/data/billing", "secret/data/billing-admin/x", false);
    check("secret/metadata/billing/", "secret/metadata/billing/", true);
    check("secret/metadata/billing/", "secret/metadata/billing", false);
    // A trailing * is a prefix glob.
    check("secret/data/billing/*", "secret/data/billing/db", true);
    check("secret/data/billing/*", "secret/data/billing/a/b", true);
    check("secret/data/billing/*", "secret/data/billing", false);
    check("secret/data/billing*", "secret/data/billing-admin/x", true);
    // + is exactly one segment.
    check("secret/data/+/db", "secret/data/billing/db", true);
    check("secret/data/+/db", "secret/data/a/b/db", false);
    check("secret/data/+/db", "secret/data//db", false);
    check("secret/+/billing/*", "secret/metadata/billing/x", true);
    check("secret/+", "secret/data", true);
    check("secret/+", "secret/data/x", false);
}
