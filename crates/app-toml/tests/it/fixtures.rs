//! The fixture files: every `fixtures/app-toml/err/*.toml` with a snapshot
//! of its diagnostics (one-line and rustc-style forms), every
//! `fixtures/app-toml/ok/*.toml` with a snapshot of its resolution in every
//! environment (typed value and origins).

use app_toml::Error;

use crate::{parse_with, vocabulary};

#[test]
fn err_fixtures() {
    insta::glob!("../../../../fixtures/app-toml/err", "*.toml", |path| {
        let bytes = std::fs::read(path).unwrap();
        let name = path.file_name().unwrap().to_string_lossy();
        let file = format!("fixtures/app-toml/err/{name}");
        let vocabulary = vocabulary();
        let options = app_toml::ParseOptions {
            file_name: &file,
            fallback_name: Some("svc"),
            vocabulary: &vocabulary,
        };
        match app_toml::parse(&bytes, &options) {
            Err(Error::Invalid(d)) => {
                let text = format!("{d}\n\n{}\n", d.render(false));
                insta::assert_snapshot!("err", text);
            }
            Err(e) => panic!("{file}: unexpected error {e}"),
            Ok(_) => panic!("{file} is accepted but is an error fixture"),
        }
    });
}

#[test]
fn ok_fixtures_resolve_in_every_environment() {
    insta::glob!("../../../../fixtures/app-toml/ok", "*.toml", |path| {
        let bytes = std::fs::read(path).unwrap();
        let stem = path.file_stem().unwrap().to_string_lossy().into_owned();
        let file = match parse_with(&bytes, Some(&stem)) {
            Ok(file) => file,
            Err(Error::Invalid(d)) => panic!("{}\n{}", path.display(), d.render(false)),
            Err(e) => panic!("{}: {e}", path.display()),
        };
        let mut all = serde_json::Map::new();
        for env in vocabulary().environments {
            let resolved = file.resolve(&env).unwrap();
            assert_eq!(resolved.app.environment, env);
            all.insert(
                env,
                serde_json::json!({ "app": resolved.app, "origins": resolved.origins }),
            );
        }
        insta::assert_yaml_snapshot!("resolved", all);
    });
}
