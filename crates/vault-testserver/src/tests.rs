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

/// One raw request to `srv` (the connection closed after it): the status and the body.
fn request(
    srv: &crate::TestVault,
    method: &str,
    path: &str,
    token: Option<&str>,
    body: &str,
) -> (u16, String) {
    use std::io::{Read, Write};
    let mut conn = std::net::TcpStream::connect(srv.addr()).expect("connect");
    let token = token
        .map(|t| format!("X-Vault-Token: {t}\r\n"))
        .unwrap_or_default();
    let req = format!(
        "{method} /v1/{path} HTTP/1.1\r\nHost: x\r\n{token}Content-Length: {}\r\n\r\n{body}",
        body.len()
    );
    conn.write_all(req.as_bytes()).expect("write");
    conn.shutdown(std::net::Shutdown::Write).expect("shutdown");
    let mut out = String::new();
    conn.read_to_string(&mut out).expect("read");
    let (head, body) = out.split_once("\r\n\r\n").expect("head");
    let status = head
        .split_whitespace()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .expect("status");
    (status, body.to_owned())
}

fn shaped(shape: crate::Shape) -> crate::TestVault {
    crate::TestVault::builder()
        .kv("secret", 2)
        .put("secret", "billing", &[("K", "v")])
        .put("secret", "billing/gone", &[("G", "g")])
        .delete_latest("secret", "billing/gone", false)
        .kubernetes_role("kubernetes", "billing", "jwt", &crate::DEMO_POLICY)
        .shape(shape)
        .start()
}

fn json(text: &str) -> serde_json::Value {
    serde_json::from_str(text).expect("json")
}

/// The keys of a JSON object, sorted.
fn keys(v: &serde_json::Value) -> Vec<&str> {
    let mut k: Vec<&str> = v
        .as_object()
        .expect("object")
        .keys()
        .map(String::as_str)
        .collect();
    k.sort_unstable();
    k
}

#[test]
fn the_minimal_shape_serves_only_the_needed_fields() {
    let srv = shaped(crate::Shape::Minimal);
    let (status, login) = request(
        &srv,
        "POST",
        "auth/kubernetes/login",
        None,
        r#"{"role":"billing","jwt":"jwt"}"#,
    );
    assert_eq!(status, 200);
    let login = json(&login);
    assert_eq!(keys(&login), ["auth"]);
    assert_eq!(keys(&login["auth"]), ["client_token"]);
    let token = login["auth"]["client_token"].as_str().expect("token");
    let (status, mounts) = request(
        &srv,
        "GET",
        "sys/internal/ui/mounts/secret",
        Some(token),
        "",
    );
    assert_eq!(status, 200);
    assert_eq!(
        json(&mounts),
        serde_json::json!({"data": {"options": {"version": "2"}}})
    );
    let (status, read) = request(&srv, "GET", "secret/data/billing", Some(token), "");
    assert_eq!(status, 200);
    assert_eq!(
        json(&read),
        serde_json::json!({"data": {"data": {"K": "v"}}})
    );
    let (status, gone) = request(&srv, "GET", "secret/data/billing/gone", Some(token), "");
    assert_eq!(
        (status, json(&gone)),
        (404, serde_json::json!({"data": {"data": null}}))
    );
    let (status, list) = request(&srv, "LIST", "secret/metadata/billing/", Some(token), "");
    assert_eq!(status, 200);
    assert_eq!(json(&list), serde_json::json!({"data": {"keys": ["gone"]}}));
    // Vault's {"errors":[]} as an empty body.
    let (status, none) = request(&srv, "GET", "secret/data/billing/none", Some(token), "");
    assert_eq!((status, none.as_str()), (404, ""));
}

#[test]
fn the_unusual_shape_serves_odd_types_and_unknown_fields() {
    let srv = shaped(crate::Shape::Unusual);
    let (status, login) = request(
        &srv,
        "POST",
        "auth/kubernetes/login",
        None,
        r#"{"role":"billing","jwt":"jwt"}"#,
    );
    assert_eq!(status, 200);
    let login = json(&login);
    assert!(login["auth"]["policies"].is_string(), "{login}");
    assert!(login["auth"]["lease_duration"].is_string(), "{login}");
    assert!(login["auth"]["x_future_field"].is_object(), "{login}");
    assert!(login["warnings"].is_object(), "{login}");
    let token = login["auth"]["client_token"].as_str().expect("token");
    let (_, mounts) = request(
        &srv,
        "GET",
        "sys/internal/ui/mounts/secret",
        Some(token),
        "",
    );
    let mounts = json(&mounts);
    assert_eq!(mounts["data"]["options"]["version"], serde_json::json!(2));
    assert!(mounts["warnings"].is_string(), "{mounts}");
    let (_, read) = request(&srv, "GET", "secret/data/billing", Some(token), "");
    let read = json(&read);
    assert_eq!(read["data"]["data"], serde_json::json!({"K": "v"}));
    assert!(read["data"]["metadata"].is_string(), "{read}");
    assert!(read["lease_duration"].is_string(), "{read}");
    let (_, list) = request(&srv, "LIST", "secret/metadata/billing/", Some(token), "");
    let list = json(&list);
    assert_eq!(list["data"]["keys"], serde_json::json!(["gone"]));
    assert!(list["data"]["x_future_field"].is_number(), "{list}");
}
