//! Unit tests of the label and field selector parsers.

use super::*;

fn labels(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
    pairs
        .iter()
        .map(|(k, v)| ((*k).to_string(), (*v).to_string()))
        .collect()
}

/// Parses `selector` and checks it against each label set: `expect[i]` is
/// whether `sets[i]` matches.
fn check(selector: &str, sets: &[&[(&str, &str)]], expect: &[bool]) {
    let parsed = LabelSelector::parse(selector).unwrap_or_else(|e| panic!("{selector:?}: {e}"));
    let got: Vec<bool> = sets.iter().map(|s| parsed.matches(&labels(s))).collect();
    assert_eq!(got, expect, "selector {selector:?} parsed as {parsed:?}");
}

const SETS: &[&[(&str, &str)]] = &[&[("app", "web"), ("tier", "front")], &[("app", "db")], &[]];

#[test]
fn equality_and_inequality() {
    check("app=web", SETS, &[true, false, false]);
    check("app==web", SETS, &[true, false, false]);
    check("app!=web", SETS, &[false, true, true]);
    check("app = web , tier=front", SETS, &[true, false, false]);
}

#[test]
fn set_based() {
    check("app in (web, db)", SETS, &[true, true, false]);
    check("app notin (web)", SETS, &[false, true, true]);
    check("tier", SETS, &[true, false, false]);
    check("!tier", SETS, &[false, true, true]);
    check("app,!tier", SETS, &[false, true, false]);
}

#[test]
fn empty_selector_matches_everything() {
    check("", SETS, &[true, true, true]);
}

#[test]
fn prefixed_keys() {
    let sets: &[&[(&str, &str)]] = &[&[("app.kubernetes.io/name", "x")], &[]];
    check("app.kubernetes.io/name=x", sets, &[true, false]);
}

#[test]
fn malformed_selectors_are_errors_not_panics() {
    for bad in [
        "app in web",
        "app in (web",
        "=x",
        "app=web,",
        "a!b",
        "app >< 3",
        "!",
        "app=(x)",
        "in (x)",
        "a b",
    ] {
        assert!(
            LabelSelector::parse(bad).is_err(),
            "{bad:?} should not parse"
        );
    }
}

#[test]
fn field_selectors() {
    let obj = serde_json::json!({"metadata": {"name": "a", "namespace": "ns"}, "status": {"phase": "Running"}});
    let sel =
        FieldSelector::parse("metadata.name=a,metadata.namespace!=other", "ConfigMap").unwrap();
    assert!(sel.matches(&obj));
    assert!(
        !FieldSelector::parse("metadata.name=b", "Pod")
            .unwrap()
            .matches(&obj)
    );
    assert!(
        FieldSelector::parse("status.phase=Running", "Pod")
            .unwrap()
            .matches(&obj)
    );
    assert!(FieldSelector::parse("status.phase=Running", "ConfigMap").is_err());
    assert!(FieldSelector::parse("metadata.name", "Pod").is_err());
}

proptest::proptest! {
    #[test]
    fn parsers_never_panic(text in "\\PC{0,40}", selector_like in "[a-z!=(), ]{0,30}") {
        let _ = LabelSelector::parse(&text);
        let _ = LabelSelector::parse(&selector_like);
        let _ = FieldSelector::parse(&text, "Pod");
        let _ = FieldSelector::parse(&selector_like, "Event");
    }

    #[test]
    fn equality_selectors_match_their_own_labels(key in "[a-z][a-z0-9]{0,8}", value in "[a-z0-9]{0,8}") {
        let selector = LabelSelector::parse(&format!("{key}={value}")).unwrap();
        let matching = labels(&[(key.as_str(), value.as_str())]);
        proptest::prop_assert!(selector.matches(&matching));
        proptest::prop_assert!(!selector.matches(&labels(&[])));
        let negated = LabelSelector::parse(&format!("{key}!={value}")).unwrap();
        proptest::prop_assert!(!negated.matches(&matching));
    }
}
