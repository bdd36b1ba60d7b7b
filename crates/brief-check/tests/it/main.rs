//! Fixture snapshots: every `fixtures/brief/ok` file checks without errors
//! and every client contract there is compatible with its server; every
//! `fixtures/brief/err` file's diagnostics are snapshotted as text and JSON.

use brief_check::compat::compat;
use brief_check::{Source, parse_and_check, render};
use std::path::Path;

fn source(path: &Path) -> Source {
    let name = format!(
        "fixtures/brief/{}",
        path.components()
            .rev()
            .take(2)
            .collect::<Vec<_>>()
            .into_iter()
            .rev()
            .map(|c| c.as_os_str().to_string_lossy().into_owned())
            .collect::<Vec<_>>()
            .join("/")
    );
    Source {
        name,
        text: std::fs::read_to_string(path).expect("fixture is readable"),
    }
}

/// Checks one fixture: the rendered diagnostics (text and JSON) are snapshotted.
fn check(path: &Path, expect_ok: bool) {
    let src = source(path);
    let checked = parse_and_check(&src.text, 0);
    // ok: no errors; err: at least one diagnostic (`unused.brief` has only warnings).
    let as_expected = if expect_ok {
        checked.ok()
    } else {
        !checked.diagnostics.is_empty()
    };
    assert!(as_expected, "{}: {:#?}", src.name, checked.diagnostics);
    let sources = [src];
    let text = render::text(&checked.diagnostics, &sources, false);
    insta::assert_snapshot!(
        "diagnostics",
        format!("{text}{}\n", render::summary(&checked.diagnostics))
    );
    if !expect_ok {
        insta::assert_json_snapshot!("json", render::json(&checked.diagnostics, &sources));
    }
}

#[test]
fn ok_fixtures() {
    insta::glob!("../../../../fixtures/brief/ok", "*.brief", |path| check(
        path, true
    ));
}

#[test]
fn err_fixtures() {
    insta::glob!("../../../../fixtures/brief/err", "*.brief", |path| check(
        path, false
    ));
}

#[test]
fn ok_clients_are_compatible_with_their_servers() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../fixtures/brief/ok");
    let mut pairs = 0;
    for entry in std::fs::read_dir(&dir).expect("fixture dir") {
        let path = entry.expect("entry").path();
        let name = path
            .file_name()
            .and_then(|n| n.to_str())
            .unwrap_or("")
            .to_string();
        // `summer.client.brief` is a client of `summer.brief`.
        let Some((server, _)) = name
            .split_once('.')
            .filter(|(_, rest)| rest.matches('.').count() == 1)
        else {
            continue;
        };
        let server = source(&dir.join(format!("{server}.brief")));
        let client = source(&path);
        let (s, c) = (
            parse_and_check(&server.text, 0),
            parse_and_check(&client.text, 1),
        );
        let v: Vec<_> = compat(&s.file, 0, &c.file, 1)
            .into_iter()
            .map(|v| v.diagnostic)
            .collect();
        assert!(
            v.is_empty(),
            "{name}:\n{}",
            render::text(&v, &[server, client], false)
        );
        pairs += 1;
    }
    assert!(pairs >= 2, "expected client fixtures, found {pairs}");
}
