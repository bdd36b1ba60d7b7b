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

mod readiness {
    use release::Reason;
    use serde_json::{Value, json};

    use crate::readiness::{Readiness, deployment_readiness, job_readiness, pod_failure};

    fn deployment(observed: i64, updated: i64, replicas: i64, available: i64, ok: bool) -> Value {
        json!({
            "metadata": {"generation": 2},
            "spec": {"replicas": 2},
            "status": {
                "observedGeneration": observed, "updatedReplicas": updated,
                "replicas": replicas, "availableReplicas": available,
                "conditions": [{"type": "Available", "status": if ok { "True" } else { "False" }}]
            }
        })
    }

    fn check(object: &Value, generation: i64, expect: &Readiness) {
        assert_eq!(
            &deployment_readiness(object, generation),
            expect,
            "{object}"
        );
    }

    #[test]
    fn deployment_ready_only_at_our_generation_with_every_replica_updated_and_available() {
        check(&deployment(2, 2, 2, 2, true), 2, &Readiness::Ready);
        check(&deployment(1, 2, 2, 2, true), 2, &Readiness::Pending);
        check(&deployment(2, 1, 2, 2, true), 2, &Readiness::Pending);
        check(&deployment(2, 2, 3, 2, true), 2, &Readiness::Pending);
        check(&deployment(2, 2, 2, 1, true), 2, &Readiness::Pending);
        check(&deployment(2, 2, 2, 2, false), 2, &Readiness::Pending);
        check(&json!({"spec": {"replicas": 1}}), 1, &Readiness::Pending);
        check(&json!(null), 1, &Readiness::Pending);
    }

    #[test]
    fn deployment_failures() {
        let mut stuck = deployment(2, 1, 2, 0, false);
        stuck["status"]["conditions"] = json!([{"type": "Progressing", "status": "False",
            "reason": "ProgressDeadlineExceeded", "message": "ReplicaSet \"x\" has timed out progressing."}]);
        check(
            &stuck,
            2,
            &Readiness::Failed {
                reason: Reason::ProgressDeadlineExceeded,
                message: "ReplicaSet \"x\" has timed out progressing.".to_owned(),
            },
        );
        let mut quota = deployment(2, 0, 0, 0, false);
        quota["status"]["conditions"] = json!([{"type": "ReplicaFailure", "status": "True",
            "reason": "FailedCreate", "message": "exceeded quota"}]);
        check(
            &quota,
            2,
            &Readiness::Failed {
                reason: Reason::Other("FailedCreate".to_owned()),
                message: "exceeded quota".to_owned(),
            },
        );
    }

    #[test]
    fn jobs_complete_or_fail() {
        let job = |kind: &str| json!({"status": {"conditions": [{"type": kind, "status": "True", "reason": "BackoffLimitExceeded", "message": "m"}]}});
        assert_eq!(job_readiness(&job("Complete")), Readiness::Ready);
        assert_eq!(
            job_readiness(&job("Failed")),
            Readiness::Failed {
                reason: Reason::Other("BackoffLimitExceeded".to_owned()),
                message: "m".to_owned(),
            }
        );
        assert_eq!(job_readiness(&json!({"status": {}})), Readiness::Pending);
    }

    #[test]
    fn pod_classifier_fails_fast_on_what_waiting_will_not_heal() {
        let waiting = |reason: &str| {
            json!({"status": {"containerStatuses": [{"name": "app",
            "state": {"waiting": {"reason": reason, "message": "msg"}}}]}})
        };
        let expect = [
            ("ImagePullBackOff", Some(Reason::ImagePullBackOff)),
            ("ErrImagePull", Some(Reason::ImagePullBackOff)),
            ("CrashLoopBackOff", Some(Reason::CrashLoopBackOff)),
            (
                "CreateContainerConfigError",
                Some(Reason::Other("CreateContainerConfigError".to_owned())),
            ),
            ("ContainerCreating", None),
        ];
        for (reason, want) in expect {
            assert_eq!(pod_failure(&waiting(reason)).map(|f| f.0), want, "{reason}");
        }
        let unschedulable = json!({"status": {"conditions": [{"type": "PodScheduled", "status": "False",
            "reason": "Unschedulable", "message": "0/1 nodes are available"}]}});
        assert_eq!(
            pod_failure(&unschedulable),
            Some((
                Reason::Unschedulable,
                "0/1 nodes are available".to_owned(),
                true
            ))
        );
        assert_eq!(pod_failure(&json!({"status": {"phase": "Running"}})), None);
    }
}

mod apply {
    use release::Version;
    use serde_json::json;

    use crate::apply::{is_versioned_name, set_route_weights};

    #[test]
    fn versioned_names_belong_to_their_version_only() {
        let cases = [
            ("web-v5", true),
            ("web-v5-migrate", true),
            ("web-v50", false),
            ("web", false),
            ("web-v4", false),
            ("other-v5", false),
        ];
        for (name, expect) in cases {
            assert_eq!(is_versioned_name("web", Version(5), name), expect, "{name}");
        }
    }

    #[test]
    fn route_weights_split_between_stable_and_new() {
        let route = || json!({"spec": {"rules": [{"backendRefs": [{"name": "web-v6", "port": 8080, "weight": 100}]}]}});
        let mut canary = route();
        set_route_weights(&mut canary, "web", Version(6), Some(Version(5)), 25);
        assert_eq!(
            canary["spec"]["rules"][0]["backendRefs"],
            json!([{"name": "web-v5", "port": 8080, "weight": 75}, {"name": "web-v6", "port": 8080, "weight": 25}])
        );
        let mut full = route();
        set_route_weights(&mut full, "web", Version(6), Some(Version(5)), 100);
        assert_eq!(
            full["spec"]["rules"][0]["backendRefs"],
            json!([{"name": "web-v6", "port": 8080, "weight": 100}])
        );
        let mut no_rules = json!({"spec": {}});
        set_route_weights(&mut no_rules, "web", Version(6), None, 100);
        assert_eq!(no_rules, json!({"spec": {}}));
    }
}
