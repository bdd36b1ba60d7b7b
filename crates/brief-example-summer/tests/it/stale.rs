//! The committed generated modules equal what the generator produces now,
//! from the spec's fixtures in `../shared/fixtures/brief` when present (the
//! repository's copies in `fixtures/brief/ok` otherwise, and for the rest).

use brief_codegen::{RustOptions, rust};
use std::path::Path;

/// Regenerates `fixture` and compares it with the committed `module`.
fn check(fixture: &str, client: bool, module: &str) {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    // The spec's copies (`summer*`, `events`) when they are beside the
    // repository, else the repository's.
    let shared = root.join("../../../shared/fixtures/brief").join(fixture);
    let src_path = if shared.is_file() {
        shared
    } else {
        root.join("../../fixtures/brief/ok").join(fixture)
    };
    let text = std::fs::read_to_string(&src_path).expect("fixture is readable");
    let checked = brief_check::parse_and_check(&text, 0);
    assert!(checked.ok(), "{fixture}: {:?}", checked.diagnostics);
    let code = rust(
        &checked.file,
        &RustOptions {
            client,
            source_name: fixture.into(),
        },
    )
    .expect("generates");
    let committed =
        std::fs::read_to_string(root.join("src").join(module)).expect("module is readable");
    let flag = if client { " --client" } else { "" };
    assert!(
        code == committed,
        "src/{module} is stale: run `brief gen rust fixtures/brief/ok/{fixture}{flag} --out crates/brief-example-summer/src`"
    );
}

#[test]
fn summer_server_is_fresh() {
    check("summer.brief", false, "summer.rs");
}

#[test]
fn summer_client_is_fresh() {
    check("summer.client.brief", true, "summer_client.rs");
}

#[test]
fn events_are_fresh() {
    check("events.brief", false, "events.rs");
}

#[test]
fn shop_is_fresh() {
    check("shop.brief", false, "shop.rs");
}

#[test]
fn shop_web_client_is_fresh() {
    check("shop.web.brief", true, "shop_web.rs");
}

#[test]
fn events_consumer_is_fresh() {
    check("events.audit.brief", true, "events_audit.rs");
}

/// The generator (which does not depend on brief-rt) names the variable
/// the runtime reads: `from_env`'s doc in generated code shows it.
#[test]
fn url_variable_matches_the_runtime() {
    for service in ["summer", "order-api", "a.b_c", "x9"] {
        let src = format!("service \"{service}\"\nrpc get (M) M\nmessage M {{}}\n");
        let checked = brief_check::parse_and_check(&src, 0);
        assert!(checked.ok(), "{service}: {:?}", checked.diagnostics);
        let code = rust(&checked.file, &RustOptions::default()).expect("generates");
        let var = brief_rt::client::url_variable(service);
        assert!(
            code.contains(&format!("base URL from `{var}`")),
            "{service}: generated code does not name {var}"
        );
    }
}
