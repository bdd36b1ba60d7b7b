//! Unit tests of the pure pieces: chunking, the CRD, readiness classification.

use std::collections::BTreeMap;

use release::{Manifests, Object, ObjectRef};
use serde_json::json;

use crate::records::{CHUNK_BYTES, decode_manifests, encode_manifests};

fn manifests_of(size: usize) -> BTreeMap<String, Manifests> {
    // Incompressible filler (a small xorshift), so the gzip output is large.
    let mut x: u64 = 0x9E37_79B9_7F4A_7C15;
    let filler: String = (0..size)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            char::from(b'a' + u8::try_from(x % 26).unwrap_or(0))
        })
        .collect();
    let object = Object {
        reference: ObjectRef::new("v1", "ConfigMap", "svc", "svc-v1"),
        body: json!({"apiVersion": "v1", "kind": "ConfigMap", "data": {"blob": filler}}),
    };
    let mut map = BTreeMap::new();
    map.insert(
        "a".to_owned(),
        Manifests {
            init: vec![object],
            ..Manifests::default()
        },
    );
    map
}

#[test]
fn small_manifests_are_one_chunk_and_round_trip() {
    let manifests = manifests_of(1000);
    let chunks = encode_manifests(&manifests);
    assert_eq!(chunks.parts.len(), 1);
    assert_eq!(
        decode_manifests(&chunks.parts, &chunks.digest),
        Some(manifests)
    );
}

#[test]
fn large_manifests_are_chunked_in_order() {
    let manifests = manifests_of(2_000_000);
    let chunks = encode_manifests(&manifests);
    assert!(chunks.parts.len() >= 2, "{} parts", chunks.parts.len());
    assert!(chunks.parts.iter().all(|p| p.len() <= CHUNK_BYTES));
    assert_eq!(
        decode_manifests(&chunks.parts, &chunks.digest),
        Some(manifests)
    );
    let mut swapped = chunks.parts.clone();
    swapped.swap(0, 1);
    assert_eq!(decode_manifests(&swapped, &chunks.digest), None);
    assert_eq!(decode_manifests(&chunks.parts[..1], &chunks.digest), None);
}

#[test]
fn crd_is_namespaced_with_status_and_printer_columns() {
    let crd = serde_json::to_value(crate::crd::crd()).unwrap_or_default();
    assert_eq!(crd["metadata"]["name"], "releases.paas.io");
    assert_eq!(crd["spec"]["scope"], "Namespaced");
    let version = &crd["spec"]["versions"][0];
    assert_eq!(version["subresources"]["status"], json!({}));
    let columns: Vec<&str> = version["additionalPrinterColumns"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|c| c["name"].as_str())
        .collect();
    assert_eq!(
        columns,
        ["Version", "Strategy", "Kind", "Phase", "Stage", "Age"]
    );
    assert!(crate::crd::crd_yaml().contains("kind: CustomResourceDefinition"));
}
