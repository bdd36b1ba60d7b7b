//! Test copies: a service's application objects rendered under the name
//! `<svc>-<ID>`, reached only by requests that carry `X-Route: <ID>` (or an
//! `X-Route` list holding `<svc>=<ID>`), and removed after their expiry.
//!
//! A copy is not a release: its objects carry [`COPY_LABEL`] instead of the
//! release label (`paas.io/release`), so the cluster adapter never counts
//! one as a live version, never deletes one with a version, and the stable
//! Service never selects its pods (their component is [`COPY_COMPONENT`]).
//! Its route rule lives in an HTTPRoute of its own attached to the same
//! parent as the service's route, so the balancer, which owns the rules of
//! the service's route, never rewrites it.
//!
//! No clock here: the expiry is computed by the caller and checked against
//! a `now` passed in.

use std::str::FromStr;

/// Label on every object of a test copy: its ID.
pub const COPY_LABEL: &str = "paas.io/test-copy";

/// Annotation on every object of a test copy: when it expires (RFC 3339).
pub const EXPIRES_ANNOTATION: &str = "paas.io/expires-at";

/// `app.kubernetes.io/component` of a copy's workload and Service (not
/// `web`, which the stable Service selects).
pub const COPY_COMPONENT: &str = "test-copy";

/// The request header that selects copies.
pub const HEADER: &str = "X-Route";

/// Time to live of a copy when none is given: 24 hours.
pub const DEFAULT_TTL_SECONDS: i64 = 24 * 3600;

/// A test copy to render.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TestCopy {
    /// Its ID (a DNS label; see [`validate_id`]).
    pub id: String,
    /// When it expires, RFC 3339 (`2026-12-09T01:00:00Z`).
    pub expires_at: String,
}

/// The name of a copy's objects: `<svc>-<ID>`.
pub fn object_name(service: &str, id: &str) -> String {
    format!("{service}-{id}")
}

/// Checks a copy ID: a DNS label (lowercase letters, digits and `-`, not
/// starting or ending with `-`) that does not look like a version (`v3`,
/// `v3-x`: those names are a release's) and whose object name
/// `<svc>-<ID>` fits 63 characters. `taken` are the suffixes the service's
/// own objects use (its `[routes.*]` and `[processes.*]` names), which a
/// copy must not shadow.
pub fn validate_id(service: &str, id: &str, taken: &[&str]) -> Result<(), String> {
    let label = !id.is_empty()
        && id.len() <= 63
        && id
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
        && !id.starts_with('-')
        && !id.ends_with('-');
    if !label {
        return Err(format!(
            "test copy ID `{id}` is not a DNS label: use lowercase letters, digits and `-`, starting and ending with a letter or digit (for example `pr-142`)"
        ));
    }
    let head = id.split('-').next().unwrap_or_default();
    if head.len() > 1 && head.starts_with('v') && head[1..].bytes().all(|b| b.is_ascii_digit()) {
        return Err(format!(
            "test copy ID `{id}` looks like a release version: `{}` would name objects of release {head}",
            object_name(service, id)
        ));
    }
    if let Some(t) = taken.iter().find(|t| **t == id) {
        return Err(format!(
            "test copy ID `{id}` is taken: `{}` already names an object of the service (`{t}`)",
            object_name(service, id)
        ));
    }
    let name = object_name(service, id);
    // The ConfigMap adds `-env`.
    if name.len() + 4 > 63 {
        return Err(format!(
            "test copy ID `{id}` is too long: `{name}-env` has {} characters, over 63",
            name.len() + 4
        ));
    }
    Ok(())
}

/// Parses a time to live: a whole number of `d`, `h`, `m` or `s`, or a
/// sum of them (`24h`, `90m`, `1d12h`), at least one second; in seconds.
pub fn parse_ttl(text: &str) -> Result<i64, String> {
    let bad = || format!("invalid TTL `{text}`: expected a duration such as `24h`, `90m` or `2d`");
    let mut total: i64 = 0;
    let mut digits = String::new();
    for c in text.trim().chars() {
        if c.is_ascii_digit() {
            digits.push(c);
            continue;
        }
        let unit = match c {
            'd' => 86_400,
            'h' => 3_600,
            'm' => 60,
            's' => 1,
            _ => return Err(bad()),
        };
        let n: i64 = digits.parse().map_err(|_| bad())?;
        total = n
            .checked_mul(unit)
            .and_then(|v| total.checked_add(v))
            .ok_or_else(bad)?;
        digits.clear();
    }
    if !digits.is_empty() || total <= 0 {
        return Err(bad());
    }
    Ok(total)
}

/// Whether a copy whose expiry annotation is `expires_at` has expired at
/// `now` (seconds since the Unix epoch). A missing or unreadable expiry
/// counts as expired: a copy is disposable, and one that never expired
/// would live forever.
pub fn is_expired(expires_at: Option<&str>, now: i64) -> bool {
    match expires_at.and_then(|t| jiff::Timestamp::from_str(t.trim()).ok()) {
        Some(t) => t.as_second() <= now,
        None => true,
    }
}

/// The regular expression that matches an `X-Route` list (`a=x, svc=ID`)
/// holding `svc=ID` as one of its comma-separated elements. Both names are
/// DNS labels, so nothing in them needs escaping; the expression is
/// anchored so that it means the same under full-match (Envoy, RE2) and
/// search semantics.
pub fn list_pattern(service: &str, id: &str) -> String {
    format!("^(.*,)? *{service}={id} *(,.*)?$")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids() {
        assert!(validate_id("userinfo", "pr-142", &[]).is_ok());
        assert!(validate_id("userinfo", "alice", &[]).is_ok());
        assert!(validate_id("userinfo", "v", &[]).is_ok());
        assert!(validate_id("userinfo", "vx1", &[]).is_ok());
        for bad in ["", "-a", "a-", "A", "a_b", "a.b", "a b"] {
            let e = validate_id("userinfo", bad, &[]).unwrap_err();
            assert!(e.contains("not a DNS label"), "{bad}: {e}");
        }
        for version in ["v1", "v12", "v3-canary"] {
            let e = validate_id("userinfo", version, &[]).unwrap_err();
            assert!(e.contains("looks like a release version"), "{e}");
        }
        let e = validate_id("userinfo", "public", &["public"]).unwrap_err();
        assert!(e.contains("is taken"), "{e}");
        let e = validate_id("userinfo", &"a".repeat(60), &[]).unwrap_err();
        assert!(e.contains("too long"), "{e}");
    }

    #[test]
    fn ttls() {
        assert_eq!(parse_ttl("24h"), Ok(86_400));
        assert_eq!(parse_ttl("90m"), Ok(5_400));
        assert_eq!(parse_ttl("1d12h"), Ok(129_600));
        assert_eq!(parse_ttl("30s"), Ok(30));
        for bad in ["", "h", "24", "0h", "1w", "-1h", "1.5h"] {
            assert!(parse_ttl(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn expiry() {
        // 2026-12-08T01:00:00Z
        let at = 1_796_691_600;
        let t = Some("2026-12-08T01:00:00Z");
        assert!(!is_expired(t, at - 1));
        assert!(is_expired(t, at));
        assert!(is_expired(None, at));
        assert!(is_expired(Some("tomorrow"), at));
    }

    #[test]
    fn list_pattern_is_anchored_on_elements() {
        assert_eq!(
            list_pattern("userinfo", "pr-1"),
            "^(.*,)? *userinfo=pr-1 *(,.*)?$"
        );
    }
}
