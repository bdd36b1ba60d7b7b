//! No input gives a 5xx: random bytes, mutated fixtures, random query
//! strings and content types, through the router.

use axum::http::StatusCode;
use proptest::prelude::*;

use crate::{app, fixture, post, send};

/// Every app.toml fixture, read once for all the cases.
static CORPUS: std::sync::LazyLock<Vec<Vec<u8>>> = std::sync::LazyLock::new(|| {
    let mut files = Vec::new();
    for dir in ["fixtures/app-toml/ok", "fixtures/app-toml/err"] {
        let mut names: Vec<_> = std::fs::read_dir(crate::repo().join(dir))
            .unwrap()
            .map(|e| e.unwrap().path())
            .filter(|p| p.extension().is_some_and(|e| e == "toml"))
            .collect();
        names.sort();
        for n in names {
            files.push(fixture(&format!(
                "{dir}/{}",
                n.file_name().unwrap().to_string_lossy()
            )));
        }
    }
    files
});

/// One edit of a fixture: overwrite, insert, delete or duplicate a slice.
#[derive(Debug, Clone)]
enum Edit {
    Overwrite(usize, Vec<u8>),
    Insert(usize, Vec<u8>),
    Delete(usize, usize),
    Duplicate(usize, usize),
}

fn apply(mut bytes: Vec<u8>, edits: &[Edit]) -> Vec<u8> {
    for e in edits {
        let n = bytes.len().max(1);
        match e {
            Edit::Overwrite(at, with) => {
                for (i, b) in with.iter().enumerate() {
                    if let Some(slot) = bytes.get_mut((at % n) + i) {
                        *slot = *b;
                    }
                }
            }
            Edit::Insert(at, with) => {
                let at = (at % n).min(bytes.len());
                bytes.splice(at..at, with.iter().copied());
            }
            Edit::Delete(at, len) => {
                let at = (at % n).min(bytes.len());
                let end = (at + len).min(bytes.len());
                bytes.drain(at..end);
            }
            Edit::Duplicate(at, len) => {
                let at = (at % n).min(bytes.len());
                let end = (at + len).min(bytes.len());
                let copy = bytes[at..end].to_vec();
                bytes.splice(at..at, copy);
            }
        }
    }
    bytes
}

fn edit() -> impl Strategy<Value = Edit> {
    // Bytes that matter to TOML, plus anything.
    let token = prop_oneof![
        Just(b"[".to_vec()),
        Just(b"]".to_vec()),
        Just(b"=".to_vec()),
        Just(b"\"".to_vec()),
        Just(b"\n".to_vec()),
        Just(b"[envs.prod]\n".to_vec()),
        Just(b"replicas = 0\n".to_vec()),
        Just(b"size = \"huge\"\n".to_vec()),
        Just(b"unset = [\"routes\"]\n".to_vec()),
        prop::collection::vec(any::<u8>(), 1..8),
    ];
    prop_oneof![
        (any::<usize>(), token.clone()).prop_map(|(a, t)| Edit::Overwrite(a, t)),
        (any::<usize>(), token).prop_map(|(a, t)| Edit::Insert(a, t)),
        (any::<usize>(), 0usize..64).prop_map(|(a, l)| Edit::Delete(a, l)),
        (any::<usize>(), 0usize..64).prop_map(|(a, l)| Edit::Duplicate(a, l)),
    ]
}

fn query() -> impl Strategy<Value = String> {
    let env = prop_oneof![
        Just("prod"),
        Just("staging"),
        Just("dev"),
        Just("local"),
        Just("qa"),
        Just("")
    ];
    let extra = prop_oneof![
        Just(""),
        Just("&strategy=canary&canary_weight=25&previous_version=1&version=2"),
        Just("&strategy=rolling"),
        Just("&version=0"),
        Just("&canary_weight=250"),
        Just("&cluster=prod-b"),
        Just("&service=x"),
        Just("&version=%FF"),
        Just("&image_tag=latest"),
        Just("&%zz=1"),
    ];
    (env, extra).prop_map(|(e, x)| format!("/v1/render?env={e}&image_tag=abc123{x}"))
}

/// A random query string: known and random keys, known and random values,
/// percent-escapes (valid or not), repeated keys, stray separators.
fn random_query() -> impl Strategy<Value = String> {
    let key = prop_oneof![
        Just("env".to_owned()),
        Just("image_tag".to_owned()),
        Just("service".to_owned()),
        Just("cluster".to_owned()),
        Just("version".to_owned()),
        Just("strategy".to_owned()),
        Just("previous_version".to_owned()),
        Just("canary_weight".to_owned()),
        "[a-z_%0-9A-F]{0,12}",
    ];
    let value = prop_oneof![
        Just("prod".to_owned()),
        Just("dev".to_owned()),
        Just("abc123".to_owned()),
        Just("canary".to_owned()),
        "[0-9]{1,12}",
        "-?[0-9]{1,3}",
        "[ -~]{0,16}".prop_map(|v| v.replace(['&', '#'], "")),
        "(%[0-9A-Fa-f]{2}|%[g-z]{1,2}|[a-z]){0,8}",
    ];
    let pair = prop_oneof![
        4 => (key.clone(), value).prop_map(|(k, v)| format!("{k}={v}")),
        1 => key,
        1 => Just(String::new()),
    ];
    prop::collection::vec(pair, 0..8)
        .prop_map(|pairs| format!("/v1/render?{}", uri_escape(&pairs.join("&"))))
}

/// Percent-escapes what a URI query cannot hold (the `%` of random, maybe
/// invalid, escapes is kept: the server must cope with those).
fn uri_escape(query: &str) -> String {
    let mut out = String::new();
    for b in query.bytes() {
        if b.is_ascii_alphanumeric() || b"-._~!$'()*+,;=:@/?%&".contains(&b) {
            out.push(char::from(b));
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// A random `Content-Type` or `Accept` value: known media types with random
/// parameters, or random text.
fn random_media_type() -> impl Strategy<Value = String> {
    let known = prop_oneof![
        Just("application/toml"),
        Just("application/json"),
        Just("application/yaml"),
        Just("text/plain"),
        Just("*/*"),
        Just("application/*"),
    ];
    prop_oneof![
        (known.clone(), "(;[ a-zA-Z]{0,8}=[ -~&&[^,]]{0,8}){0,3}")
            .prop_map(|(t, p)| format!("{t}{p}")),
        prop::collection::vec((known, 0u8..=10), 1..4).prop_map(|ranges| {
            ranges
                .iter()
                .map(|(t, q)| format!("{t};q={}", f32::from(*q) / 10.0))
                .collect::<Vec<_>>()
                .join(", ")
        }),
        "[ -~]{0,40}",
    ]
}

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap()
}

fn assert_no_5xx(status: StatusCode, body: &[u8]) -> Result<(), TestCaseError> {
    prop_assert!(
        status.as_u16() < 500,
        "status {status}: {}",
        String::from_utf8_lossy(body)
    );
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 1000, failure_persistence: None, ..ProptestConfig::default() })]

    #[test]
    fn mutated_fixtures_never_5xx(pick in any::<prop::sample::Index>(), edits in prop::collection::vec(edit(), 1..6), uri in query()) {
        let body = apply(CORPUS[pick.index(CORPUS.len())].clone(), &edits);
        let (_, router) = app();
        let reply = runtime().block_on(send(&router, post(&uri, "application/toml", body)));
        assert_no_5xx(reply.status, &reply.body)?;
        prop_assert_eq!(reply.headers.get("content-type").is_some(), true);
    }

    #[test]
    fn random_bodies_never_5xx(body in prop::collection::vec(any::<u8>(), 0..2048), uri in query(), json in any::<bool>()) {
        let (_, router) = app();
        let ct = if json { "application/json" } else { "application/toml" };
        let reply = runtime().block_on(send(&router, post(&uri, ct, body)));
        assert_no_5xx(reply.status, &reply.body)?;
    }

    #[test]
    fn random_json_documents_never_5xx(text in "[{}\\[\\]\":,a-z_0-9 \\n]{0,200}", uri in query()) {
        let (_, router) = app();
        let body = format!("{{\"app_toml\": \"name = 'x'\", {text}");
        let reply = runtime().block_on(send(&router, post(&uri, "application/json", body)));
        assert_no_5xx(reply.status, &reply.body)?;
    }

    #[test]
    fn random_queries_and_media_types_never_5xx(
        pick in any::<prop::sample::Index>(),
        uri in random_query(),
        content_type in random_media_type(),
        accept in random_media_type(),
    ) {
        let body = CORPUS[pick.index(CORPUS.len())].clone();
        let (_, router) = app();
        let mut request = post(&uri, "", body);
        for (name, value) in [("content-type", &content_type), ("accept", &accept)] {
            if let Ok(v) = axum::http::HeaderValue::from_str(value) {
                request.headers_mut().insert(name, v);
            }
        }
        let reply = runtime().block_on(send(&router, request));
        assert_no_5xx(reply.status, &reply.body)?;
        // Only the statuses of the contract.
        prop_assert!(
            [200, 400, 413, 415, 422].contains(&reply.status.as_u16()),
            "status {}: {}", reply.status, String::from_utf8_lossy(&reply.body)
        );
    }
}
