//! Unit tests of rollback releases.

use std::collections::BTreeMap;

use app_toml::Strategy;
use serde_json::json;

use crate::*;

fn spec(number: u64, platform: &str) -> ReleaseSpec {
    let manifests = Manifests {
        init: vec![],
        application: vec![Object {
            reference: ObjectRef::new("apps/v1", "Deployment", "web", &format!("web-v{number}")),
            body: json!({
                "platform": platform,
                "metadata": {"labels": {RELEASE_LABEL: format!("v{number}")}},
            }),
        }],
        balancing: vec![],
    };
    ReleaseSpec {
        service: "web".to_owned(),
        environment: "prod".to_owned(),
        number: Version(number),
        kind: ReleaseKind::Deploy,
        strategy: Strategy::Canary,
        image: format!("web:{number}"),
        app_toml: format!("# v{number}\n"),
        platform_version: platform.to_owned(),
        clusters: vec!["a".to_owned()],
        manifests: BTreeMap::from([("a".to_owned(), manifests)]),
        releaser: "alice".to_owned(),
        time: Timestamp::default(),
        commit: format!("c{number}"),
        linked_tasks: vec![format!("PAAS-{number}")],
        previous: None,
        rollback: None,
        options: Options::default(),
        digest: String::new(),
    }
}

fn request<'a>(target: &'a ReleaseSpec, current: &'a ReleaseSpec) -> RollbackRequest<'a> {
    RollbackRequest {
        target,
        current,
        number: Version(7),
        no_regenerate: false,
        target_running: false,
        regenerated: None,
        platform_version: "2026.12".to_owned(),
        releaser: "bob".to_owned(),
        time: Timestamp("2026-12-01T00:00:00Z".to_owned()),
    }
}

#[test]
fn regenerate_is_the_default_and_keeps_todays_platform() {
    let (target, current) = (spec(5, "2026.10"), spec(6, "2026.11"));
    // The target's app.toml and image rendered for the new number.
    let regenerated = spec(7, "2026.12").manifests;
    let built = rollback(RollbackRequest {
        regenerated: Some(regenerated.clone()),
        ..request(&target, &current)
    })
    .expect("builds");
    assert_eq!(
        built.rollback.map(|r| r.mode),
        Some(RollbackMode::Regenerate)
    );
    assert_eq!(built.manifests, regenerated);
    assert_eq!(built.platform_version, "2026.12");
    assert_eq!(
        (built.image.as_str(), built.commit.as_str()),
        ("web:5", "c5")
    );
    assert_eq!(built.previous, Some(Version(6)));
    assert_eq!(built.kind, ReleaseKind::Rollback);
    assert_eq!(built.strategy, Strategy::Simple);
    assert!(Release::new(built).is_ok());
    let missing = rollback(request(&target, &current)).err();
    assert_eq!(
        missing.map(|e| e.to_string()).as_deref(),
        Some("rollback to v5 needs the regenerated manifests (or --no-regenerate)")
    );
}

#[test]
fn no_regenerate_replays_the_stored_manifests() {
    let (target, current) = (spec(5, "2026.10"), spec(6, "2026.11"));
    let built = rollback(RollbackRequest {
        no_regenerate: true,
        ..request(&target, &current)
    })
    .expect("builds");
    assert_eq!(built.rollback.map(|r| r.mode), Some(RollbackMode::Replay));
    assert_eq!(built.manifests, target.manifests);
    assert_eq!(built.platform_version, "2026.10");
    // The objects keep their v5 labels: the release serves v5.
    assert_eq!(built.serving(), Version(5));
    assert!(built.applies_objects());
    assert!(Release::new(built).is_ok());
}

/// Audit finding 4: regenerated manifests must be rendered for the new
/// number; objects still labelled with the target's are refused.
#[test]
fn regenerated_objects_must_carry_the_new_number() {
    let (target, current) = (spec(5, "2026.10"), spec(6, "2026.11"));
    let refused = rollback(RollbackRequest {
        regenerated: Some(spec(5, "2026.12").manifests),
        ..request(&target, &current)
    });
    assert_eq!(
        refused.map_err(|e| e.to_string()),
        Err("cluster a: Deployment web/web-v5 is labelled v5 but the release serves v7".to_owned())
    );
    // A deploy whose objects carry another release's label is refused too.
    let mut wrong = spec(6, "2026.11");
    wrong.manifests = spec(4, "2026.11").manifests;
    assert!(matches!(
        Release::new(wrong),
        Err(Error::WrongVersionLabel { .. })
    ));
}

#[test]
fn a_target_still_running_is_a_traffic_switch() {
    let (target, current) = (spec(5, "2026.10"), spec(6, "2026.11"));
    let built = rollback(RollbackRequest {
        target_running: true,
        ..request(&target, &current)
    })
    .expect("builds");
    assert_eq!(
        built.rollback.map(|r| r.mode),
        Some(RollbackMode::TrafficOnly)
    );
    assert_eq!(built.serving(), Version(5));
    assert!(!built.applies_objects());
    assert!(Release::new(built).is_ok());
}

#[test]
fn a_rollback_goes_to_an_older_release_under_a_newer_number() {
    let (target, current) = (spec(6, "x"), spec(5, "x"));
    assert!(rollback(request(&target, &current)).is_err());
    let (target, current) = (spec(4, "x"), spec(6, "x"));
    let same_number = RollbackRequest {
        number: Version(6),
        no_regenerate: true,
        ..request(&target, &current)
    };
    assert!(rollback(same_number).is_err());
}

/// A replay of the version a previous replay already serves is refused:
/// its cleanup would delete the serving version.
#[test]
fn replaying_the_version_that_serves_is_refused() {
    let (target, current) = (spec(5, "2026.10"), spec(6, "2026.11"));
    let replay = rollback(RollbackRequest {
        no_regenerate: true,
        ..request(&target, &current)
    })
    .expect("builds");
    assert_eq!(replay.serving(), Version(5));
    let again = rollback(RollbackRequest {
        number: Version(8),
        no_regenerate: true,
        ..request(&target, &replay)
    })
    .expect("builds");
    assert_eq!(again.previous, Some(Version(5)));
    assert_eq!(
        Release::new(again).map(|_| ()).map_err(|e| e.to_string()),
        Err("the release would serve v5, which already serves: nothing to roll back".to_owned())
    );
}
