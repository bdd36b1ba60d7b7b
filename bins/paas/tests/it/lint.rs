//! `paas lint` over a service repository laid out as `paas service create`
//! makes it: app.toml, `brief/<service>.brief`, `brief/clients/<dep>.brief`.

use super::{Run, paas_at, root};
use std::path::{Path, PathBuf};

/// The own schema of wordcounter.
pub(crate) const OWN: &str = "service \"wordcounter\"\n\nrpc count (CountIn) CountOut `Counts the words of a text`\n\nmessage CountIn {\n    text string `The text`\n}\n\nmessage CountOut {\n    words int `How many words`\n}\n";

/// A repository for wordcounter (which depends on summer and users), with
/// its own schema and a client contract for summer; `schemas` holds the
/// servers' schemas.
pub(crate) fn repo() -> (tempfile::TempDir, PathBuf, PathBuf) {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("wordcounter");
    std::fs::create_dir_all(dir.join("brief/clients")).unwrap();
    std::fs::copy(
        root().join("fixtures/app-toml/ok/wordcounter.toml"),
        dir.join("app.toml"),
    )
    .unwrap();
    std::fs::write(dir.join("brief/wordcounter.brief"), OWN).unwrap();
    std::fs::copy(
        root().join("fixtures/brief/ok/summer.client.brief"),
        dir.join("brief/clients/summer.brief"),
    )
    .unwrap();
    let schemas = tmp.path().join("schemas");
    std::fs::create_dir(&schemas).unwrap();
    std::fs::copy(
        root().join("fixtures/brief/ok/summer.brief"),
        schemas.join("summer.brief"),
    )
    .unwrap();
    (tmp, dir, schemas)
}

fn lint(dir: &Path, extra: &[&str]) -> Run {
    let args: Vec<&str> = std::iter::once("lint")
        .chain(extra.iter().copied())
        .collect();
    paas_at(dir, &args, &[])
}

#[test]
fn a_clean_repository_passes_with_a_warning_for_a_dependency_without_contract() {
    let (_tmp, dir, schemas) = repo();
    let run = lint(&dir, &["--schemas", schemas.to_str().unwrap()]);
    assert_eq!(run.code, 0, "{}\n{}", run.stdout, run.stderr);
    for env in ["dev", "local", "prod", "staging"] {
        assert!(
            run.stdout.contains(&format!("app.toml: {env}: ")),
            "{}",
            run.stdout
        );
    }
    assert!(
        run.stdout.contains("brief: 2 schemas checked"),
        "{}",
        run.stdout
    );
    assert!(run.stdout.contains("against"), "{}", run.stdout);
    assert!(run.stdout.ends_with("lint: ok\n"), "{}", run.stdout);
    assert!(
        run.stderr.contains(
            "warning: app.toml depends on `users` but brief/clients/users.brief does not exist"
        ),
        "{}",
        run.stderr
    );
}

#[test]
fn every_problem_of_the_repository_is_reported_at_once() {
    let (_tmp, dir, schemas) = repo();
    // The own schema names another service; a contract drifted from its
    // server; a schema with a syntax error; app.toml with an unknown key.
    std::fs::write(
        dir.join("brief/wordcounter.brief"),
        OWN.replace("\"wordcounter\"", "\"counter\""),
    )
    .unwrap();
    std::fs::copy(
        root().join("fixtures/brief/compat/shop.mobile.brief"),
        dir.join("brief/clients/shop.brief"),
    )
    .unwrap();
    std::fs::copy(
        root().join("fixtures/brief/ok/shop.brief"),
        schemas.join("shop.brief"),
    )
    .unwrap();
    std::fs::create_dir(dir.join("brief/events")).unwrap();
    std::fs::copy(
        root().join("fixtures/brief/err/syntax.brief"),
        dir.join("brief/events/bad.brief"),
    )
    .unwrap();
    let app = dir.join("app.toml");
    let text = std::fs::read_to_string(&app).unwrap();
    std::fs::write(
        &app,
        text.replace("replicas = 2", "replicas = 2\nreplcas = 3"),
    )
    .unwrap();
    let run = lint(&dir, &["--schemas", schemas.to_str().unwrap()]);
    assert_eq!(run.code, 1, "{}\n{}", run.stdout, run.stderr);
    let err = &run.stderr;
    assert!(err.contains("replcas"), "{err}");
    assert!(
        err.contains("(in environments dev, local, prod, staging)"),
        "{err}"
    );
    assert!(
        err.contains("brief/wordcounter.brief declares service \"counter\", but app.toml's service is `wordcounter`"),
        "{err}"
    );
    assert!(err.contains("brief/events/bad.brief:"), "{err}");
    assert!(
        err.contains("brief/clients/shop.brief:"),
        "a compat violation names the contract\n{err}"
    );
    assert!(err.contains("schemas/shop.brief:"), "and the server\n{err}");
    assert!(err.contains("error: lint found"), "{err}");
}

#[test]
fn resources_toml_beside_app_toml_is_part_of_every_render() {
    let (_tmp, dir, _) = repo();
    std::fs::write(
        dir.join("resources.toml"),
        "service = \"wordcounter\"\n\n[containers.app]\ncpu = \"315m\"\nmemory = \"292Mi\"\n",
    )
    .unwrap();
    let run = lint(&dir, &[]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    std::fs::write(
        dir.join("resources.toml"),
        "service = \"checkout\"\n\n[containers.app]\ncpu = \"315m\"\n",
    )
    .unwrap();
    let run = lint(&dir, &[]);
    assert_eq!(run.code, 1, "{}", run.stderr);
    assert!(run.stderr.contains("checkout"), "{}", run.stderr);
    std::fs::write(dir.join("resources.toml"), "service = \n").unwrap();
    let run = lint(&dir, &[]);
    assert_eq!(run.code, 1, "{}", run.stderr);
    assert!(run.stderr.contains("resources.toml"), "{}", run.stderr);
}
