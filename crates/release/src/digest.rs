//! The fingerprint of a [`ReleaseSpec`]: what its `digest` field holds.
//!
//! Sync recomputes it for every copy of every release it reads (a stored
//! digest is never trusted as is), so it must be cheap: the spec is walked
//! directly into a canonical byte encoding (no JSON formatting) and the bytes
//! are hashed eight at a time. The encoding is defined here, not by serde or
//! by `std::hash::Hash` (whose output for std types may change between Rust
//! versions), so a stored digest stays valid across builds.
//!
//! Encoding: a format tag, then every field of the spec except the digest,
//! in declaration order. A string is its length (u64, little endian) then
//! its bytes; a sequence or map is its length then its items (maps in their
//! iteration order: sorted for `BTreeMap`, the stored order for JSON
//! objects); an `Option` is a tag byte then the value; enums are their
//! names; JSON values are a tag byte then their payload (numbers: a tag
//! byte, then an i64 or u64 as 8 bytes, or else their JSON text). Every item
//! has its length or tag first, so two different
//! specs never encode to the same bytes.
//!
//! Hash: 64 bits, each little-endian 8-byte word `w` of the encoding mixed
//! as `h = rotl(h ^ w, 29) * K`, then the zero-padded tail and the length,
//! finished with murmur3's mixer. It detects copies that differ by accident (a
//! stale or corrupted record), not forgery.

use std::collections::BTreeMap;

use serde_json::Value;

use crate::{Manifests, Object, ReleaseSpec, Rollback, RollbackMode};

/// The prefix of a digest: names the encoding and the hash.
pub const DIGEST_PREFIX: &str = "mix64:";

/// Bumped whenever the encoding changes.
const FORMAT: &[u8] = b"paas.io/release-spec/1";

/// The fingerprint of `spec` without its digest, as `mix64:<16 hex digits>`.
pub(crate) fn fingerprint(spec: &ReleaseSpec) -> String {
    let mut out = Encoder(Vec::with_capacity(4096));
    out.bytes(FORMAT);
    out.spec(spec);
    format!("{DIGEST_PREFIX}{:016x}", hash(&out.0))
}

/// The canonical encoding, written into one buffer and hashed at the end
/// (hashing word by word as it goes costs twice as many instructions: most
/// writes are a tag byte or a length).
struct Encoder(Vec<u8>);

impl Encoder {
    fn write(&mut self, bytes: &[u8]) {
        self.0.extend_from_slice(bytes);
    }

    fn len(&mut self, len: usize) {
        self.write(&(len as u64).to_le_bytes());
    }

    fn bytes(&mut self, bytes: &[u8]) {
        self.len(bytes.len());
        self.write(bytes);
    }

    fn str(&mut self, text: &str) {
        self.bytes(text.as_bytes());
    }

    fn u64(&mut self, value: u64) {
        self.write(&value.to_le_bytes());
    }

    fn tag(&mut self, tag: u8) {
        self.write(&[tag]);
    }

    fn strs(&mut self, items: &[String]) {
        self.len(items.len());
        for item in items {
            self.str(item);
        }
    }

    fn spec(&mut self, spec: &ReleaseSpec) {
        self.str(&spec.service);
        self.str(&spec.environment);
        self.u64(spec.number.0);
        self.str(spec.kind.as_str());
        self.str(spec.strategy.as_str());
        self.str(&spec.image);
        self.str(&spec.app_toml);
        self.str(&spec.platform_version);
        self.strs(&spec.clusters);
        self.manifests(&spec.manifests);
        self.str(&spec.releaser);
        self.str(&spec.time.0);
        self.str(&spec.commit);
        self.strs(&spec.linked_tasks);
        match spec.previous {
            Some(previous) => {
                self.tag(1);
                self.u64(previous.0);
            }
            None => self.tag(0),
        }
        match spec.rollback {
            Some(Rollback { target, mode }) => {
                self.tag(1);
                self.u64(target.0);
                self.str(match mode {
                    RollbackMode::Regenerate => "regenerate",
                    RollbackMode::Replay => "replay",
                    RollbackMode::TrafficOnly => "traffic-only",
                });
            }
            None => self.tag(0),
        }
        let options = &spec.options;
        self.tag(u8::from(options.manual));
        self.bytes(&options.canary_steps);
        self.u64(options.canary_step_seconds);
        self.u64(options.stage_deadline_seconds);
        self.u64(options.drain_seconds);
        self.u64(options.lease_seconds);
        self.u64(u64::from(options.max_retries));
    }

    fn manifests(&mut self, manifests: &BTreeMap<String, Manifests>) {
        self.len(manifests.len());
        for (cluster, m) in manifests {
            self.str(cluster);
            for stage in [&m.init, &m.application, &m.balancing] {
                self.objects(stage);
            }
        }
    }

    fn objects(&mut self, objects: &[Object]) {
        self.len(objects.len());
        for object in objects {
            let r = &object.reference;
            self.str(&r.api_version);
            self.str(&r.kind);
            match &r.namespace {
                Some(namespace) => {
                    self.tag(1);
                    self.str(namespace);
                }
                None => self.tag(0),
            }
            self.str(&r.name);
            self.value(&object.body);
        }
    }

    fn value(&mut self, value: &Value) {
        match value {
            Value::Null => self.tag(0),
            Value::Bool(b) => {
                self.tag(1);
                self.tag(u8::from(*b));
            }
            Value::Number(n) => {
                self.tag(2);
                // Its JSON text; integers (the common case) without a String.
                if let Some(i) = n.as_i64() {
                    self.tag(0);
                    self.u64(i as u64);
                } else if let Some(u) = n.as_u64() {
                    self.tag(1);
                    self.u64(u);
                } else {
                    self.tag(2);
                    self.str(&n.to_string());
                }
            }
            Value::String(s) => {
                self.tag(3);
                self.str(s);
            }
            Value::Array(items) => {
                self.tag(4);
                self.len(items.len());
                for item in items {
                    self.value(item);
                }
            }
            Value::Object(map) => {
                self.tag(5);
                self.len(map.len());
                for (key, item) in map {
                    self.str(key);
                    self.value(item);
                }
            }
        }
    }
}

/// The hash: each little-endian 8-byte word mixed in turn, then the
/// zero-padded tail and the length, then murmur3's finaliser (every input
/// bit affects every output bit).
fn hash(bytes: &[u8]) -> u64 {
    const K: u64 = 0x9e37_79b9_7f4a_7c15;
    let mix = |h: u64, word: [u8; 8]| {
        (h ^ u64::from_le_bytes(word))
            .rotate_left(29)
            .wrapping_mul(K)
    };
    let mut h = 0u64;
    let mut words = bytes.chunks_exact(8);
    for chunk in &mut words {
        let mut word = [0u8; 8];
        word.copy_from_slice(chunk);
        h = mix(h, word);
    }
    let tail = words.remainder();
    let mut last = [0u8; 8];
    last[..tail.len()].copy_from_slice(tail);
    h = mix(h, last);
    h = mix(h, (bytes.len() as u64).to_le_bytes());
    h ^= h >> 33;
    h = h.wrapping_mul(0xff51_afd7_ed55_8ccd);
    h ^= h >> 33;
    h = h.wrapping_mul(0xc4ce_b9fe_1a85_ec53);
    h ^ (h >> 33)
}
