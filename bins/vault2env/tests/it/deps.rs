//! vault2env's dependency closure: no async runtime or HTTP stack, even
//! indirectly (the spec: "no async runtime is needed"; a small static binary).

use std::collections::{BTreeMap, BTreeSet};
use std::process::Command;

use serde_json::Value;

/// What vault2env may never depend on, directly or through another crate.
const FORBIDDEN: &[&str] = &[
    "tokio",
    "async-std",
    "smol",
    "async-io",
    "async-executor",
    "polling",
    "mio",
    "futures",
    "futures-util",
    "futures-executor",
    "hyper",
    "reqwest",
    "ureq",
    "tower",
    "openssl",
    "openssl-sys",
];

#[test]
fn no_async_runtime_or_http_stack_even_indirectly() {
    // Filtered to the Linux target vault2env is built for: resolving every
    // platform offline would need crates that are never downloaded here.
    let platform = format!("{}-unknown-linux-gnu", std::env::consts::ARCH);
    let out = Command::new(env!("CARGO"))
        .args(["metadata", "--format-version", "1", "--offline"])
        .args(["--filter-platform", &platform])
        .arg("--manifest-path")
        .arg(concat!(env!("CARGO_MANIFEST_DIR"), "/Cargo.toml"))
        .output()
        .expect("cargo metadata");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let meta: Value = serde_json::from_slice(&out.stdout).expect("metadata json");
    let names: BTreeMap<&str, &str> = meta["packages"]
        .as_array()
        .expect("packages")
        .iter()
        .filter_map(|p| Some((p["id"].as_str()?, p["name"].as_str()?)))
        .collect();
    // Normal (non-dev, non-build) dependency edges.
    let mut edges: BTreeMap<&str, Vec<&str>> = BTreeMap::new();
    for node in meta["resolve"]["nodes"].as_array().expect("nodes") {
        let Some(id) = node["id"].as_str() else {
            continue;
        };
        let deps = node["deps"]
            .as_array()
            .into_iter()
            .flatten()
            .filter(|d| {
                d["dep_kinds"]
                    .as_array()
                    .is_some_and(|k| k.iter().any(|k| k["kind"].is_null()))
            })
            .filter_map(|d| d["pkg"].as_str())
            .collect();
        edges.insert(id, deps);
    }
    let root = names
        .iter()
        .find(|(_, n)| **n == "vault2env")
        .map(|(id, _)| *id)
        .expect("vault2env in cargo metadata");
    let mut seen = BTreeSet::new();
    let mut stack = vec![(root, vec!["vault2env"])];
    while let Some((node, path)) = stack.pop() {
        for dep in edges.get(node).into_iter().flatten() {
            let name = names[dep];
            let mut p = path.clone();
            p.push(name);
            assert!(
                !FORBIDDEN.contains(&name),
                "vault2env depends on {name}: {}",
                p.join(" -> ")
            );
            if seen.insert(*dep) {
                stack.push((dep, p));
            }
        }
    }
    // The walk really went through the closure (rustls comes in directly,
    // ring only through rustls).
    let reached: BTreeSet<&str> = seen.iter().map(|id| names[id]).collect();
    assert!(
        reached.contains("rustls") && reached.contains("ring"),
        "{reached:?}"
    );
    assert!(
        !reached.contains("tempfile"),
        "dev-dependencies are not part of the closure"
    );
}
