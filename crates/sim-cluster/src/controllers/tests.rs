//! Unit tests of the image-tag fault conventions and the pod-template hash.

use super::*;

fn check(image: &str, cluster: &str, expect: Effect) {
    assert_eq!(image_effect(image, cluster), expect, "{image} in {cluster}");
}

#[test]
fn fault_conventions_by_tag() {
    check("registry.local/web:1.2", "a", Effect::Healthy);
    check("registry.local/web:fail-pull", "a", Effect::FailPull);
    check("registry.local/web:fail-pull-2", "a", Effect::FailPull);
    check("web:crashloop", "a", Effect::CrashLoop);
    check("localhost:5000/web:slow-start", "a", Effect::Slow);
    check("localhost:5000/web", "a", Effect::Healthy);
    check("web@sha256:abc", "a", Effect::Healthy);
}

#[test]
fn in_cluster_suffix_limits_the_effect() {
    check("web:fail-pull-in-local-b", "local-b", Effect::FailPull);
    check("web:fail-pull-in-local-b", "local-a", Effect::Healthy);
    check("web:crashloop-in-b", "local-b", Effect::Healthy);
    check("web:slow-in-local-b", "local-b", Effect::Slow);
}

#[test]
fn template_hash_is_stable_and_distinct() {
    let a = serde_json::json!({"spec": {"containers": [{"name": "a", "image": "x:1"}]}});
    let b = serde_json::json!({"spec": {"containers": [{"name": "a", "image": "x:2"}]}});
    assert_eq!(template_hash(&a), template_hash(&a.clone()));
    assert_ne!(template_hash(&a), template_hash(&b));
    assert!(
        template_hash(&a)
            .chars()
            .all(|c| "bcdfghjklmnpqrstvwxz2456789".contains(c))
    );
}
