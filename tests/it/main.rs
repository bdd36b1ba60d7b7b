//! Workspace-wide tests: the boundaries that keep pure crates pure.

#![allow(clippy::unwrap_used)] // tests fail loudly on purpose

use std::collections::{BTreeMap, BTreeSet};
use std::process::Command;

/// Crates that must stay pure: no async runtime, no HTTP, no Kubernetes client.
const PURE: &[&str] = &[
    "app-toml",
    "platform-config",
    "manifests",
    "resources",
    "release",
    "sync",
    "brief-syntax",
    "brief-check",
    "brief-codegen",
];

/// What a pure crate may never depend on, even indirectly.
const FORBIDDEN: &[&str] = &[
    "tokio",
    "axum",
    "hyper",
    "kube",
    "kube-client",
    "reqwest",
    "ureq",
    "tower",
    "mio",
];

/// Pure crates that decide on names and records only: they must not even
/// know the Kubernetes object types (the adapter maps them).
const NO_KUBERNETES_TYPES: &[&str] = &["release", "sync"];

/// Whether `dep` is forbidden (even indirectly) for the pure crate `name`.
fn forbidden(name: &str, dep: &str) -> bool {
    FORBIDDEN.contains(&dep) || (NO_KUBERNETES_TYPES.contains(&name) && dep == "k8s-openapi")
}

/// The host's target triple, from `rustc -vV`.
fn host_triple() -> String {
    let rustc = std::env::var_os("RUSTC").unwrap_or_else(|| "rustc".into());
    let out = Command::new(rustc).arg("-vV").output().unwrap();
    let text = String::from_utf8(out.stdout).unwrap();
    text.lines()
        .find_map(|line| line.strip_prefix("host: "))
        .expect("rustc -vV names the host")
        .to_owned()
}

#[test]
fn pure_crates_do_not_depend_on_io_crates() {
    // Resolved for the host only: resolving every platform offline would
    // need crates (wasm-only ones, say) that a build never downloads.
    let out = Command::new(env!("CARGO"))
        .args(["metadata", "--format-version", "1", "--offline"])
        .args(["--filter-platform", &host_triple()])
        .current_dir(concat!(env!("CARGO_MANIFEST_DIR"), "/.."))
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let meta: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let names: BTreeMap<&str, &str> = meta["packages"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| (p["id"].as_str().unwrap(), p["name"].as_str().unwrap()))
        .collect();
    // Normal (non-dev, non-build) dependency edges of every package.
    let mut edges: BTreeMap<&str, Vec<&str>> = BTreeMap::new();
    for node in meta["resolve"]["nodes"].as_array().unwrap() {
        let id = node["id"].as_str().unwrap();
        let deps = node["deps"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|d| {
                d["dep_kinds"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .any(|k| k["kind"].is_null())
            })
            .map(|d| d["pkg"].as_str().unwrap())
            .collect();
        edges.insert(id, deps);
    }
    let mut checked = 0;
    for (id, name) in &names {
        if !PURE.contains(name) {
            continue;
        }
        checked += 1;
        let mut seen = BTreeSet::new();
        let mut stack = vec![(*id, vec![*name])];
        while let Some((node, path)) = stack.pop() {
            for dep in edges.get(node).into_iter().flatten() {
                let dep_name = names[dep];
                let mut p = path.clone();
                p.push(dep_name);
                assert!(
                    !forbidden(name, dep_name),
                    "pure crate `{name}` depends on `{dep_name}`: {}",
                    p.join(" -> ")
                );
                if seen.insert(*dep) {
                    stack.push((dep, p));
                }
            }
        }
    }
    assert!(
        checked >= 3,
        "the pure crates were not found in cargo metadata"
    );
}
