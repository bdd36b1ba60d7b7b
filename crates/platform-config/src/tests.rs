use super::*;

#[test]
fn builtin_parses_and_validates() {
    let p = Platform::from_toml(BUILTIN_TOML, "platform.toml").unwrap();
    assert_eq!(p.environments["local"].clusters[0].address, "sim://local-a");
    assert!(p.engines.contains_key("generic"));
    for size in ["xsmall", "small", "medium", "large", "xlarge"] {
        assert!(p.sizes.contains_key(size), "{size}");
    }
}

#[test]
fn version_id_changes_with_content_not_formatting() {
    let a = Platform::builtin();
    let reformatted = Platform::from_toml(&format!("# comment\n{BUILTIN_TOML}\n\n"), "x").unwrap();
    assert_eq!(a.version_id(), reformatted.version_id());
    let changed = Platform::from_toml(
        &BUILTIN_TOML.replace("registry.paas.local\"", "registry.example\""),
        "x",
    )
    .unwrap();
    assert_ne!(a.version_id(), changed.version_id());
    assert!(a.version_id().starts_with("2026.11.0+"));
}

fn err(text: &str) -> String {
    Platform::from_toml(text, "p.toml").unwrap_err().to_string()
}

#[test]
fn unknown_key_is_an_error_with_position() {
    let e = err(&BUILTIN_TOML.replace("cluster_domain = ", "cluster_domian = "));
    assert!(e.contains("p.toml"), "{e}");
    assert!(e.contains("cluster_domian"), "{e}");
    assert!(e.contains("line"), "{e}");
}

#[test]
fn invalid_quantity_is_named() {
    let e = err(&BUILTIN_TOML.replace("memory = \"64Mi\"", "memory = \"64 megs\""));
    assert_eq!(
        e,
        "p.toml: sizes.xsmall.memory: `64 megs` is not a Kubernetes quantity (e.g. `250m`, `1`, `512Mi`)"
    );
}

#[test]
fn duplicate_cluster_is_rejected() {
    let e = err(&BUILTIN_TOML.replace(
        "{ name = \"local-b\", address = \"sim://local-b\" }",
        "{ name = \"local-a\", address = \"sim://local-b\" }",
    ));
    assert!(e.contains("cluster `local-a` is listed twice"), "{e}");
}

#[test]
fn quantities() {
    for ok in ["250m", "1", "1.5", "512Mi", "2Gi", "1e3", "100k"] {
        assert!(is_quantity(ok), "{ok}");
    }
    for bad in ["", "m", "1.5.5", "12 Mi", "abc", "1x"] {
        assert!(!is_quantity(bad), "{bad}");
    }
}

#[test]
fn local_port_is_stable() {
    let p = Platform::builtin();
    let local = &p.environments["local"];
    assert_eq!(local.local_port("summer"), 8081);
    let x = local.local_port("some-service");
    assert!((20000..30000).contains(&x));
    assert_eq!(x, local.local_port("some-service"));
}

#[test]
fn a_changed_clone_gets_its_own_version_id() {
    let a = Platform::builtin();
    let id = a.version_id();
    let mut b = a.clone();
    b.registry = "registry.example".into();
    assert_ne!(b.version_id(), id);
    assert_eq!(a.version_id(), id);
    assert_eq!(a, a.clone());
}

#[test]
fn test_copies_are_refused_in_prod_unless_allowed() {
    let p = Platform::builtin();
    for (env, allowed) in [
        ("prod", false),
        ("staging", true),
        ("dev", true),
        ("local", true),
    ] {
        assert_eq!(
            p.environments[env].test_copies_allowed(env),
            allowed,
            "{env}"
        );
    }
    let mut prod = p.environments["prod"].clone();
    prod.test_copies = Some(true);
    assert!(prod.test_copies_allowed("prod"));
    let mut staging = p.environments["staging"].clone();
    staging.test_copies = Some(false);
    assert!(!staging.test_copies_allowed("staging"));
}
