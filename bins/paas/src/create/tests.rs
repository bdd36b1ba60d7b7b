use std::collections::BTreeMap;
use std::path::Path;

use platform_config::Platform;

use super::templates::{COMMON, TemplateError, language, substitute};
use super::{Answers, check_name, check_owner, generate, wizard};
use crate::cli::{CreateArgs, Template};

const ALL: [Template; 4] = [
    Template::Golang,
    Template::Rust,
    Template::Python,
    Template::Node,
];

fn answers(template: Template) -> Answers {
    Answers {
        name: "wordcounter".to_owned(),
        template,
        owner: "team-words".to_owned(),
    }
}

#[test]
fn substitution_is_explicit() {
    let values = BTreeMap::from([("name", "wc".to_owned()), ("x", "{{name}}".to_owned())]);
    assert_eq!(substitute("a {{name}} b", &values).unwrap(), "a wc b");
    // A value is not scanned again.
    assert_eq!(substitute("{{x}}", &values).unwrap(), "{{name}}");
    assert_eq!(
        substitute("single { braces }", &values).unwrap(),
        "single { braces }"
    );
    assert_eq!(
        substitute("{{nmae}}", &values),
        Err(TemplateError("unknown placeholder `nmae`".to_owned()))
    );
    assert!(substitute("{{name", &values).is_err());
}

#[test]
fn every_template_fills_without_a_placeholder_left() {
    let platform = Platform::builtin();
    for template in ALL {
        let files = generate(&answers(template), &platform).unwrap();
        for f in &files {
            assert!(!f.contents.contains("{{"), "{template:?} {}", f.path);
            assert!(!f.contents.contains("}}"), "{template:?} {}", f.path);
        }
        let paths: Vec<_> = files.iter().map(|f| f.path.as_str()).collect();
        assert_eq!(
            paths.len(),
            COMMON.len() + language(template).files.len(),
            "no two templates write the same path: {paths:?}"
        );
        for needed in [
            "app.toml",
            "brief/wordcounter.brief",
            "Dockerfile",
            ".gitlab-ci.yml",
        ] {
            assert!(paths.contains(&needed), "{template:?}: {paths:?}");
        }
    }
}

#[test]
fn the_service_uses_the_engine_port_and_probe_paths_of_the_platform() {
    let mut platform = Platform::builtin();
    let engine = platform.engines.get_mut("python").unwrap();
    engine.port = 9123;
    engine.readiness = "/ready-now".to_owned();
    let files = generate(&answers(Template::Python), &platform).unwrap();
    let app = files.iter().find(|f| f.path == "service/app.py").unwrap();
    assert!(
        app.contents.contains("DEFAULT_PORT = 9123\n"),
        "{}",
        app.contents
    );
    assert!(app.contents.contains("READINESS = \"/ready-now\"\n"));
    let dockerfile = files.iter().find(|f| f.path == "Dockerfile").unwrap();
    assert!(dockerfile.contents.contains("EXPOSE 9123\n"));
    assert!(
        dockerfile
            .contents
            .contains("\nFROM registry.paas.local/base/python:3.12\n")
    );
}

#[test]
fn names_follow_app_toml() {
    let platform = Platform::builtin();
    assert!(check_name("wordcounter", &platform).is_ok());
    assert!(check_name("a1-b2", &platform).is_ok());
    let e = check_name("Word_Counter", &platform).unwrap_err();
    assert_eq!(e.hint, "did you mean `word-counter`?");
    assert!(check_name(&"a".repeat(41), &platform).is_err());
    assert!(check_name("", &platform).is_err());
    assert!(check_name("x\"\n[engine]", &platform).is_err());
}

#[test]
fn owners_are_plain_team_names() {
    assert!(check_owner("payments").is_ok());
    assert!(check_owner("Team Search / ranking").is_ok());
    assert!(check_owner("").is_err());
    assert!(check_owner("  ").is_err());
    assert!(check_owner("a\"b").is_err());
    assert!(check_owner("{{name}}").is_err());
    assert!(check_owner(&"t".repeat(64)).is_err());
}

fn no_flags() -> CreateArgs {
    CreateArgs {
        name: None,
        template: None,
        owner: None,
        dir: Some(Path::new("/nonexistent/for/the/wizard").to_owned()),
    }
}

#[test]
fn the_wizard_asks_again_until_an_answer_is_valid() {
    let platform = Platform::builtin();
    let mut input = "Bad_Name\nwordcounter\n7\n\nteam-words\n".as_bytes();
    let mut out = Vec::new();
    let got = wizard::ask(&mut input, &mut out, &no_flags(), &platform).unwrap();
    assert_eq!(got, answers(Template::Golang));
    let out = String::from_utf8(out).unwrap();
    assert!(out.contains("help: did you mean `bad-name`?"), "{out}");
    assert!(out.contains("  1) golang  Go 1.22\n"), "{out}");
    assert!(out.contains("`7` is not one of the choices"), "{out}");
}

#[test]
fn the_wizard_takes_a_template_by_number_or_name_and_asks_only_what_is_missing() {
    let platform = Platform::builtin();
    let mut args = no_flags();
    args.name = Some("wordcounter".to_owned());
    let mut input = "3\nteam-words\n".as_bytes();
    let got = wizard::ask(&mut input, &mut Vec::new(), &args, &platform).unwrap();
    assert_eq!(got.template, Template::Python);
    let mut input = "node\nteam-words\n".as_bytes();
    let got = wizard::ask(&mut input, &mut Vec::new(), &args, &platform).unwrap();
    assert_eq!(got.template, Template::Node);
    // End of input is an answer too: nothing is created.
    let mut input = "".as_bytes();
    let e = wizard::ask(&mut input, &mut Vec::new(), &args, &platform).unwrap_err();
    assert!(e.message.contains("no answer"), "{}", e.message);
}

#[test]
fn the_summary_and_confirmation() {
    let platform = Platform::builtin();
    let a = answers(Template::Rust);
    let dir = Path::new("services/wordcounter");
    let mut out = Vec::new();
    wizard::confirm(&mut "\n".as_bytes(), &mut out, &a, dir, &platform).unwrap();
    let out = String::from_utf8(out).unwrap();
    insta::assert_snapshot!(out.trim(), @r"
    A new service repository:
      name       wordcounter
      template   Rust (engine rust 1.95, port 8080)
      owner      team-words
      directory  services/wordcounter
    Create it? [Y/n]
    ");
    let e = wizard::confirm(
        &mut "maybe\nn\n".as_bytes(),
        &mut Vec::new(),
        &a,
        dir,
        &platform,
    )
    .unwrap_err();
    assert_eq!(e.code, 1);
}
