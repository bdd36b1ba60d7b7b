//! Unit tests of the model: versions, linked tasks, validation and the
//! stored JSON shape.

use std::collections::BTreeMap;

use app_toml::Strategy;
use serde_json::json;

use crate::*;

fn check_tasks(message: &str, expect: &[&str]) {
    assert_eq!(linked_tasks(message), expect, "in {message:?}");
}

#[test]
fn linked_tasks_are_found_deduplicated_in_order() {
    check_tasks("PAAS-123: fix the probe", &["PAAS-123"]);
    check_tasks("fix (PAAS-2, OPS-7) and PAAS-2 again", &["PAAS-2", "OPS-7"]);
    check_tasks("Refs: AB_1-9\n\nCloses WEB2-44.", &["AB_1-9", "WEB2-44"]);
    check_tasks("no keys: paas-1, P-1, PAAS-, -12, PAAS-12b, xPAAS-3", &[]);
    check_tasks("", &[]);
    check_tasks("ünïcode PAAS-5 ✓", &["PAAS-5"]);
}

#[test]
fn versions_read_and_print_as_v_n() {
    assert_eq!("v12".parse::<Version>(), Ok(Version(12)));
    assert_eq!(Version(3).to_string(), "v3");
    for bad in ["12", "v", "v-1", "V2", "v1.0", ""] {
        assert!(bad.parse::<Version>().is_err(), "{bad}");
    }
    assert_eq!(serde_json::to_value(Version(7)).ok(), Some(json!("v7")));
}

fn spec() -> ReleaseSpec {
    ReleaseSpec {
        service: "web".to_owned(),
        environment: "prod".to_owned(),
        number: Version(2),
        kind: ReleaseKind::Deploy,
        strategy: Strategy::BlueGreen,
        image: "web:abc".to_owned(),
        app_toml: "name = \"web\"\n".to_owned(),
        platform_version: "2026.11".to_owned(),
        clusters: vec!["dc-a".to_owned()],
        manifests: BTreeMap::from([(
            "dc-a".to_owned(),
            Manifests {
                init: vec![],
                application: vec![Object {
                    reference: ObjectRef::new("apps/v1", "Deployment", "web", "web-v2"),
                    body: json!({"apiVersion": "apps/v1", "kind": "Deployment"}),
                }],
                balancing: vec![],
            },
        )]),
        releaser: "alice".to_owned(),
        time: Timestamp("2026-11-23T12:00:00Z".to_owned()),
        commit: "abc".to_owned(),
        linked_tasks: linked_tasks("PAAS-9 blue-green"),
        previous: Some(Version(1)),
        rollback: None,
        options: Options::default(),
        digest: String::new(),
    }
}

#[test]
fn invalid_specs_are_refused() {
    let check = |change: fn(&mut ReleaseSpec), expect: &str| {
        let mut s = spec();
        change(&mut s);
        let error = Release::new(s).err().map(|e| e.to_string());
        assert_eq!(error.as_deref(), Some(expect));
    };
    check(|s| s.clusters.clear(), "release web v2 names no cluster");
    check(
        |s| s.clusters.push("dc-b".to_owned()),
        "release v2 has no manifests for cluster dc-b",
    );
    check(
        |s| s.clusters.push("dc-a".to_owned()),
        "cluster dc-a is listed twice",
    );
    check(
        |s| s.previous = Some(Version(2)),
        "release number v2 must be greater than the previous release v2",
    );
    check(
        |s| s.options.canary_steps = vec![50, 20],
        "canary steps [50, 20] must be strictly increasing percentages in 1..=99",
    );
    check(
        |s| {
            s.rollback = Some(Rollback {
                target: Version(1),
                mode: RollbackMode::TrafficOnly,
            })
        },
        "a traffic-only rollback to v1 needs the serving version beside it",
    );
    assert!(Release::new(spec()).is_ok());
}

#[test]
fn a_release_reads_back_from_its_json() {
    let release = Release::new(spec()).expect("valid");
    let json = release.to_json();
    insta::assert_json_snapshot!("release_json", json);
    assert_eq!(Release::from_json(&json), Ok(release));
    let bad = json!({"spec": {"strategy": "big-bang"}});
    assert!(Release::from_json(&bad).is_err());
}

#[test]
fn tombstones_are_committed_and_serve_nothing() {
    let tombstone = Release::tombstone(
        "web",
        "prod",
        Version(9),
        vec!["dc-a".to_owned()],
        "bob",
        Timestamp::default(),
    );
    assert!(tombstone.committed());
    assert!(!tombstone.spec.applies_objects());
    assert_eq!(tombstone.resource_name(), "web-v9");
}

/// The fingerprint covers every field but the digest, and a copy changed
/// after its digest was set no longer matches it.
#[test]
fn the_fingerprint_covers_every_field_and_detects_changes() {
    let mut spec = spec();
    spec.digest = spec.fingerprint();
    assert!(spec.digest.starts_with(DIGEST_PREFIX));
    assert!(spec.digest_matches() && spec.is_complete());
    type Change = Box<dyn Fn(&mut ReleaseSpec)>;
    let changes: Vec<Change> = vec![
        Box::new(|s| s.image.push('x')),
        Box::new(|s| s.number = Version(3)),
        Box::new(|s| s.previous = None),
        Box::new(|s| s.options.canary_steps.push(99)),
        Box::new(|s| s.options.max_retries += 1),
        Box::new(|s| s.linked_tasks.push("PAAS-1".to_owned())),
        Box::new(|s| {
            s.rollback = Some(Rollback {
                target: Version(1),
                mode: RollbackMode::Replay,
            })
        }),
        Box::new(|s| {
            let m = s.manifests.get_mut("dc-a").expect("dc-a");
            m.application[0].body["spec"] = json!({"replicas": 0});
        }),
        Box::new(|s| {
            let m = s.manifests.get_mut("dc-a").expect("dc-a");
            m.application[0].body["kind"] = json!(1);
        }),
        // Moving bytes between adjacent strings changes the encoding too.
        Box::new(|s| {
            s.service = "we".to_owned();
            s.environment = "bprod".to_owned();
        }),
    ];
    for (index, change) in changes.iter().enumerate() {
        let mut changed = spec.clone();
        change(&mut changed);
        assert!(!changed.digest_matches(), "change #{index} not detected");
    }
    let mut partial = spec.clone();
    partial.manifests.clear();
    assert!(!partial.is_complete() && !partial.digest_matches());
}

fn check_read(edit: impl Fn(&mut serde_json::Value), expect: Result<(), &str>) {
    let mut json = Release::new(spec()).expect("valid").to_json();
    edit(&mut json);
    let read = Release::from_json(&json)
        .map(|_| ())
        .map_err(|e| e.to_string());
    assert_eq!(read, expect.map_err(str::to_owned), "{json:#}");
}

/// Audit finding 8: a stored release that does not make sense is an error
/// when read back, not a release that never moves.
#[test]
fn a_stored_release_is_validated_when_read_back() {
    check_read(|_| {}, Ok(()));
    check_read(
        |j| j["status"]["clusters"] = json!({}),
        Err(
            "the stored status does not fit the release: status.clusters {} do not match the release's clusters {\"dc-a\"}",
        ),
    );
    check_read(
        |j| j["spec"]["clusters"] = json!([]),
        Err("release web v2 names no cluster"),
    );
    check_read(
        |j| j["spec"]["options"]["canarySteps"] = json!([90, 10]),
        Err("canary steps [90, 10] must be strictly increasing percentages in 1..=99"),
    );
    check_read(
        |j| j["status"]["phase"] = json!("succeeded"),
        Err(
            "the stored status does not fit the release: phase succeeded does not fit step NotStarted",
        ),
    );
    check_read(
        |j| j["status"]["weight"] = json!(101),
        Err("the stored status does not fit the release: a weight above 100%"),
    );
    check_read(
        |j| {
            j["status"]["lagging"] = json!({"dc-z": {"cluster": "dc-z", "reason": "Unreachable"}});
        },
        Err(
            "the stored status does not fit the release: lagging dc-z is not a cluster of the release",
        ),
    );
    // A peer copy may lack other clusters' manifests; a release to run may not.
    let mut json = Release::new(spec()).expect("valid").to_json();
    json["spec"]["manifests"] = json!({});
    assert_eq!(
        Release::from_json(&json).map_err(|e| e.to_string()),
        Err("release v2 has no manifests for cluster dc-a".to_owned())
    );
    assert!(Release::from_json_copy(&json).is_ok());
}
