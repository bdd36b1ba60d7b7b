//! `paas deps` over a corpus of app.toml files.

use std::path::Path;

use super::{Run, paas_at, root};

fn write(dir: &Path, name: &str, text: &str) {
    std::fs::create_dir_all(dir.join(name)).unwrap();
    std::fs::write(dir.join(name).join("app.toml"), text).unwrap();
}

fn service(calls: &str) -> String {
    format!(
        "description = \"a service\"\nkind = \"business\"\n\n[engine]\nname = \"golang\"\n\n[ports]\nhttp = 8080\ngrpc = 9090\n{calls}"
    )
}

fn deps(args: &[&str]) -> Run {
    let args: Vec<&str> = std::iter::once("deps")
        .chain(args.iter().copied())
        .collect();
    paas_at(&root(), &args, &[])
}

#[test]
fn a_complete_graph_answers_who_calls_directly_and_through_others() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    write(
        dir,
        "front",
        &service("\n[dependencies.orders]\ntimeout_ms = 300\n"),
    );
    write(
        dir,
        "orders",
        &service("\n[dependencies.stock]\nport = \"grpc\"\n"),
    );
    write(dir, "stock", &service(""));
    let corpus = dir.to_str().unwrap();
    let run = deps(&["-e", "prod", "--corpus", corpus]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert_eq!(
        run.stdout,
        "front -> orders (http, 300 ms)\norders -> stock (grpc)\nstock -> -\n"
    );
    let who = deps(&["-e", "prod", "--corpus", corpus, "--who-calls", "stock"]);
    assert_eq!(who.code, 0, "{}", who.stderr);
    assert_eq!(
        who.stdout,
        "stock is called by: orders\nthrough them also: front\n"
    );
    let dot = deps(&["-e", "prod", "--corpus", corpus, "--dot"]);
    insta::assert_snapshot!("deps_dot", dot.stdout);
    let json = deps(&["-e", "prod", "--corpus", corpus, "-o", "json"]);
    let v: serde_json::Value = serde_json::from_str(&json.stdout).unwrap();
    assert_eq!(
        v["services"]["stock"]["called_by"],
        serde_json::json!(["orders"])
    );
}

#[test]
fn missing_services_and_ports_are_errors_and_the_graph_is_still_printed() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    write(
        dir,
        "front",
        &service("\n[dependencies.orders]\nport = \"admin\"\n\n[dependencies.ghost]\n"),
    );
    write(dir, "orders", &service(""));
    let run = deps(&["-e", "prod", "--corpus", dir.to_str().unwrap()]);
    assert_eq!(run.code, 1);
    assert!(
        run.stdout
            .starts_with("front -> ghost (http), orders (admin)\n"),
        "{}",
        run.stdout
    );
    assert!(
        run.stderr
            .contains("error: front depends on `ghost`, which is no service of the corpus"),
        "{}",
        run.stderr
    );
    assert!(
        run.stderr.contains("error: front calls `orders` on port `admin`, which orders does not declare (ports: grpc, http)"),
        "{}",
        run.stderr
    );
    // The repository's own fixtures name services outside the corpus.
    let fixtures = deps(&[
        "-e",
        "prod",
        "--corpus",
        root().join("fixtures/app-toml/ok").to_str().unwrap(),
    ]);
    assert_eq!(fixtures.code, 1);
    assert!(
        fixtures
            .stdout
            .contains("wordcounter -> summer (http, 200 ms), users (http)"),
        "{}",
        fixtures.stdout
    );
}
