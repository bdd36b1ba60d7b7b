//! `paas service create` as CI runs it (flags, no terminal): the repository
//! of every template is valid for the tools that will read it (paas render,
//! brief check and fmt, JSON and YAML parsers), and the refusals (a missing
//! flag, an invalid name, a non-empty directory) exit with their codes and
//! write nothing.

use super::{Run, paas_at};
use std::path::{Path, PathBuf};

const TEMPLATES: [&str; 4] = ["golang", "rust", "python", "node"];

/// Runs paas in `cwd`; stdin and stderr are not terminals (no wizard).
fn paas_in(cwd: &Path, args: &[&str]) -> Run {
    paas_at(cwd, args, &[])
}

/// Creates service `name` from `template` in `<tmp>/<name>` and returns its directory.
fn create(tmp: &Path, name: &str, template: &str) -> (PathBuf, Run) {
    let run = paas_in(
        tmp,
        &[
            "service",
            "create",
            "--name",
            name,
            "--template",
            template,
            "--owner",
            "team-words",
        ],
    );
    assert_eq!(run.code, 0, "{template}: {}", run.stderr);
    (tmp.join(name), run)
}

/// Every file under `dir`, relative, sorted, `/`-separated.
fn files(dir: &Path) -> Vec<String> {
    fn walk(root: &Path, dir: &Path, out: &mut Vec<String>) {
        for entry in std::fs::read_dir(dir).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                walk(root, &path, out);
            } else {
                let rel = path.strip_prefix(root).unwrap();
                out.push(rel.to_str().unwrap().replace('\\', "/"));
            }
        }
    }
    let mut out = Vec::new();
    walk(dir, dir, &mut out);
    out.sort();
    out
}

fn read(dir: &Path, file: &str) -> String {
    std::fs::read_to_string(dir.join(file)).unwrap_or_else(|e| panic!("{file}: {e}"))
}

#[test]
fn every_template_makes_a_repository_that_renders_in_every_environment() {
    let tmp = tempfile::tempdir().unwrap();
    for template in TEMPLATES {
        let name = format!("wc-{template}");
        let (dir, run) = create(tmp.path(), &name, template);
        let app = dir.join("app.toml");
        for env in ["prod", "staging", "local"] {
            let render = paas_in(
                tmp.path(),
                &["render", "-e", env, "--app", app.to_str().unwrap()],
            );
            assert_eq!(render.code, 0, "{template} {env}: {}", render.stderr);
            assert!(
                render
                    .stdout
                    .contains(&format!("image: registry.paas.local/{name}:dev\n")),
                "{template} {env}"
            );
        }
        let prod = paas_in(
            tmp.path(),
            &["render", "-e", "prod", "--app", app.to_str().unwrap()],
        );
        assert!(prod.stdout.contains("  replicas: 3\n"), "{template}");
        // The manifests run the engine's command behind vault2env.
        assert!(prod.stdout.contains("- vault2env\n"), "{template}");

        // `paas lint`, the pipeline's first job, passes.
        let lint = paas_in(&dir, &["lint"]);
        assert_eq!(lint.code, 0, "{template}: {}{}", lint.stdout, lint.stderr);

        // Every file stdout lists exists, and no other.
        let listed: Vec<String> = run
            .stdout
            .lines()
            .skip(1)
            .take_while(|l| !l.is_empty())
            .map(|l| l.trim().to_owned())
            .collect();
        assert_eq!(listed, files(&dir), "{template}");
        assert!(run.stdout.contains("next steps:"), "{}", run.stdout);
        for file in &listed {
            assert!(
                !read(&dir, file).contains("{{"),
                "{template}: {{{{ left in {file}"
            );
        }
        // Nothing else was left beside the repository (the temporary directory is gone).
        let beside: Vec<_> = std::fs::read_dir(tmp.path())
            .unwrap()
            .map(|e| e.unwrap().file_name().into_string().unwrap())
            .filter(|n| n.starts_with('.'))
            .collect();
        assert!(beside.is_empty(), "{beside:?}");
    }
}

#[test]
fn the_brief_schema_checks_clean_and_is_formatted() {
    let tmp = tempfile::tempdir().unwrap();
    for template in TEMPLATES {
        let name = format!("svc-{template}");
        let (dir, _) = create(tmp.path(), &name, template);
        let text = read(&dir, &format!("brief/{name}.brief"));
        let checked = brief_check::parse_and_check(&text, 0);
        assert!(
            checked.diagnostics.is_empty(),
            "{template}: {:?}",
            checked.diagnostics
        );
        let service = checked.file.items.iter().find_map(|i| match &i.kind {
            brief_syntax::ItemKind::Service(s) => Some(s.name.value.clone()),
            _ => None,
        });
        assert_eq!(service.as_deref(), Some(name.as_str()));
        let rpcs: Vec<_> = checked.file.rpcs().map(|r| r.name.name.clone()).collect();
        assert_eq!(rpcs, ["hello"]);
        assert!(
            checked.file.rpcs().all(|r| r.doc.is_some()),
            "documented rpcs"
        );
        // `brief fmt --check` in CI would pass.
        assert_eq!(brief_syntax::fmt::format(&checked.file), text, "{template}");
        // The route the service serves is the schema's.
        let code = read(
            &dir,
            match template {
                "golang" => "main.go",
                "rust" => "src/main.rs",
                "python" => "service/app.py",
                _ => "index.js",
            },
        );
        assert!(code.contains("hello"), "{template}");
        assert!(code.contains(&format!("/{name}/")), "{template}");
        let clients = read(&dir, "brief/clients/README.md");
        assert!(
            clients.contains("brief/clients/<service>.brief"),
            "{clients}"
        );
    }
}

#[test]
fn dashboard_and_alerts_parse_with_the_expected_keys() {
    let tmp = tempfile::tempdir().unwrap();
    let (dir, _) = create(tmp.path(), "wordcounter", "python");
    let dashboard: serde_json::Value =
        serde_json::from_str(&read(&dir, "observability/dashboard.json")).unwrap();
    assert!(dashboard["schemaVersion"].as_u64().unwrap() >= 30);
    assert_eq!(dashboard["uid"], "wordcounter");
    assert_eq!(dashboard["title"], "wordcounter");
    let panels = dashboard["panels"].as_array().unwrap();
    let titles: Vec<&str> = panels
        .iter()
        .map(|p| p["title"].as_str().unwrap())
        .collect();
    for wanted in [
        "Request rate",
        "Error ratio",
        "p99 latency by rpc",
        "Pod restarts",
        "CPU usage against requests",
        "Memory usage against requests",
    ] {
        assert!(
            titles.iter().any(|t| t.starts_with(wanted)),
            "{wanted}: {titles:?}"
        );
    }
    for p in panels {
        for t in p["targets"].as_array().unwrap() {
            let expr = t["expr"].as_str().unwrap();
            assert!(
                expr.contains("namespace=\"wordcounter\""),
                "{}: {expr}",
                p["title"]
            );
        }
    }

    let alerts: serde_yaml::Value =
        serde_yaml::from_str(&read(&dir, "observability/alerts.yaml")).unwrap();
    let groups = alerts["groups"].as_sequence().unwrap();
    assert_eq!(groups.len(), 1);
    assert_eq!(groups[0]["name"].as_str(), Some("wordcounter"));
    let rules = groups[0]["rules"].as_sequence().unwrap();
    let names: Vec<&str> = rules.iter().map(|r| r["alert"].as_str().unwrap()).collect();
    assert_eq!(
        names,
        [
            "ServiceHighErrorRatio",
            "ServiceHighLatencyP99",
            "ServiceCrashLooping",
            "ServiceUnavailable"
        ]
    );
    for r in rules {
        let expr = r["expr"].as_str().unwrap();
        assert!(expr.contains("namespace=\"wordcounter\""), "{expr}");
        assert!(r["for"].as_str().unwrap().ends_with('m'));
        assert_eq!(r["labels"]["service"].as_str(), Some("wordcounter"));
        assert_eq!(r["labels"]["team"].as_str(), Some("team-words"));
        assert!(r["labels"]["severity"].is_string());
        assert!(r["annotations"]["summary"].is_string());
        assert!(r["annotations"]["description"].is_string());
    }
}

#[test]
fn the_dockerfile_runs_the_engine_command_behind_vault2env_as_non_root() {
    let tmp = tempfile::tempdir().unwrap();
    for (template, base, cmd) in [
        (
            "golang",
            "registry.paas.local/base/golang:1.22",
            r#"["/app/service"]"#,
        ),
        (
            "rust",
            "registry.paas.local/base/distroless-cc:12",
            r#"["/app/service"]"#,
        ),
        (
            "python",
            "registry.paas.local/base/python:3.12",
            r#"["python","-m","service"]"#,
        ),
        (
            "node",
            "registry.paas.local/base/node:22",
            r#"["node","/app/index.js"]"#,
        ),
    ] {
        let (dir, _) = create(tmp.path(), &format!("d-{template}"), template);
        let dockerfile = read(&dir, "Dockerfile");
        let instructions: Vec<&str> = dockerfile
            .lines()
            .filter(|l| !l.starts_with('#') && !l.trim().is_empty())
            .collect();
        let froms: Vec<&str> = instructions
            .iter()
            .filter(|l| l.starts_with("FROM "))
            .copied()
            .collect();
        assert!(froms.len() >= 3, "multi-stage: {froms:?}");
        // The final stage is the platform's base image for the engine.
        assert_eq!(*froms.last().unwrap(), format!("FROM {base}"), "{template}");
        let last_from = instructions
            .iter()
            .rposition(|l| l.starts_with("FROM "))
            .unwrap();
        let last_stage = &instructions[last_from..];
        assert!(
            last_stage.contains(&"COPY --from=vault2env /vault2env /usr/local/bin/vault2env"),
            "{template}: {last_stage:?}"
        );
        assert_eq!(
            last_stage
                .iter()
                .filter(|l| l.starts_with("ENTRYPOINT"))
                .collect::<Vec<_>>(),
            [&r#"ENTRYPOINT ["/usr/local/bin/vault2env", "--"]"#],
            "{template}"
        );
        assert!(
            last_stage.contains(&format!("CMD {cmd}").as_str()),
            "{template}: {last_stage:?}"
        );
        assert!(last_stage.contains(&"USER 10001:10001"), "{template}");
        assert!(last_stage.contains(&"EXPOSE 8080") || template != "golang");
    }
}

#[test]
fn the_pipeline_has_every_stage_and_a_manual_prod() {
    let tmp = tempfile::tempdir().unwrap();
    let (dir, _) = create(tmp.path(), "wordcounter", "node");
    let ci: serde_yaml::Value = serde_yaml::from_str(&read(&dir, ".gitlab-ci.yml")).unwrap();
    let stages: Vec<&str> = ci["stages"]
        .as_sequence()
        .unwrap()
        .iter()
        .map(|s| s.as_str().unwrap())
        .collect();
    assert_eq!(
        stages,
        [
            "lint",
            "brief",
            "test",
            "build",
            "deploy-staging",
            "deploy-prod"
        ]
    );
    let script = |job: &str| -> String {
        ci[job]["script"]
            .as_sequence()
            .unwrap_or_else(|| panic!("job {job}"))
            .iter()
            .map(|s| s.as_str().unwrap())
            .collect::<Vec<_>>()
            .join("\n")
    };
    assert!(script("lint").contains("paas lint"));
    let brief = script("brief");
    for command in [
        "brief check brief/*.brief",
        "brief fmt --check brief/*.brief",
        "brief compat --server",
    ] {
        assert!(brief.contains(command), "{command}: {brief}");
    }
    assert!(script("test").contains("npm test"));
    let build = script("build");
    assert!(
        build.contains("docker push \"$IMAGE:$CI_COMMIT_SHORT_SHA\""),
        "{build}"
    );
    assert_eq!(
        ci["variables"]["IMAGE"].as_str(),
        Some("registry.paas.local/wordcounter")
    );
    assert_eq!(
        script("deploy-staging"),
        "paas service deploy -e staging -y --image-tag \"$CI_COMMIT_SHORT_SHA\""
    );
    assert_eq!(
        script("deploy-prod"),
        "paas service deploy -e prod -y --image-tag \"$CI_COMMIT_SHORT_SHA\""
    );
    assert_eq!(
        ci["deploy-prod"]["rules"][0]["when"].as_str(),
        Some("manual")
    );
    assert!(ci["deploy-staging"]["rules"][0]["when"].is_null());
    for (job, stage) in [
        ("lint", "lint"),
        ("brief", "brief"),
        ("test", "test"),
        ("build", "build"),
        ("deploy-staging", "deploy-staging"),
        ("deploy-prod", "deploy-prod"),
    ] {
        assert_eq!(ci[job]["stage"].as_str(), Some(stage), "{job}");
    }
}

#[test]
fn the_file_list_and_app_toml_of_a_go_service() {
    let tmp = tempfile::tempdir().unwrap();
    let (dir, run) = create(tmp.path(), "wordcounter", "golang");
    insta::assert_snapshot!("create_golang_stdout", run.stdout);
    insta::assert_snapshot!("create_golang_app_toml", read(&dir, "app.toml"));
    assert!(run.stderr.is_empty(), "{}", run.stderr);
}

#[test]
fn json_output_lists_the_files() {
    let tmp = tempfile::tempdir().unwrap();
    let run = paas_in(
        tmp.path(),
        &[
            "service",
            "create",
            "--name",
            "wc",
            "--template",
            "rust",
            "--owner",
            "words",
            "--dir",
            "repos/wc",
            "-o",
            "json",
        ],
    );
    assert_eq!(run.code, 0, "{}", run.stderr);
    let v: serde_json::Value = serde_json::from_str(&run.stdout).unwrap();
    assert_eq!(v["service"], "wc");
    assert_eq!(v["dir"], "repos/wc");
    let listed: Vec<&str> = v["files"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f.as_str().unwrap())
        .collect();
    assert_eq!(listed, files(&tmp.path().join("repos/wc")));
    assert!(listed.contains(&"src/main.rs") && listed.contains(&"Cargo.toml"));
}

#[test]
fn a_missing_flag_without_a_terminal_is_a_usage_error() {
    let tmp = tempfile::tempdir().unwrap();
    let run = paas_in(tmp.path(), &["service", "create", "--name", "wordcounter"]);
    assert_eq!(run.code, 2, "{}", run.stderr);
    insta::assert_snapshot!("create_missing_flags", run.stderr);
    let run = paas_in(
        tmp.path(),
        &["service", "create", "--name", "wc", "--template", "node"],
    );
    assert_eq!(run.code, 2);
    assert!(
        run.stderr.starts_with("error: missing --owner "),
        "{}",
        run.stderr
    );
    assert!(run.stdout.is_empty());
    assert!(files(tmp.path()).is_empty(), "nothing written");
    assert_eq!(std::fs::read_dir(tmp.path()).unwrap().count(), 0);
}

#[test]
fn an_existing_non_empty_directory_is_refused_and_left_as_it_was() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("wordcounter");
    std::fs::create_dir(&dir).unwrap();
    std::fs::write(dir.join("app.toml"), "mine\n").unwrap();
    let run = paas_in(
        tmp.path(),
        &[
            "service",
            "create",
            "--name",
            "wordcounter",
            "--template",
            "golang",
            "--owner",
            "team-words",
        ],
    );
    assert_eq!(run.code, 1, "{}", run.stderr);
    insta::assert_snapshot!("create_refuses_non_empty", run.stderr);
    assert_eq!(files(&dir), ["app.toml"]);
    assert_eq!(read(&dir, "app.toml"), "mine\n");
    assert_eq!(
        std::fs::read_dir(tmp.path()).unwrap().count(),
        1,
        "nothing beside it"
    );

    // A file in the way is refused too; an empty directory is filled.
    std::fs::write(tmp.path().join("afile"), "x").unwrap();
    let args = |dir: &'static str| {
        [
            "service",
            "create",
            "--name",
            "wc",
            "--template",
            "node",
            "--owner",
            "t",
            "--dir",
            dir,
        ]
    };
    assert_eq!(paas_in(tmp.path(), &args("afile")).code, 1);
    std::fs::create_dir(tmp.path().join("empty")).unwrap();
    let run = paas_in(tmp.path(), &args("empty"));
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert!(tmp.path().join("empty/app.toml").is_file());
    let beside: Vec<_> = std::fs::read_dir(tmp.path())
        .unwrap()
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .filter(|n| n.starts_with('.'))
        .collect();
    assert!(beside.is_empty(), "{beside:?}");
}

#[test]
fn an_invalid_name_or_owner_exits_2_with_a_hint() {
    let tmp = tempfile::tempdir().unwrap();
    let run = paas_in(
        tmp.path(),
        &[
            "service",
            "create",
            "--name",
            "Word_Counter",
            "--template",
            "golang",
            "--owner",
            "team-words",
        ],
    );
    assert_eq!(run.code, 2, "{}", run.stderr);
    insta::assert_snapshot!("create_invalid_name", run.stderr);
    let long = "a".repeat(41);
    let run = paas_in(
        tmp.path(),
        &[
            "service",
            "create",
            "--name",
            &long,
            "--template",
            "golang",
            "--owner",
            "t",
        ],
    );
    assert_eq!(run.code, 2, "{}", run.stderr);
    assert!(run.stderr.contains("at most 40"), "{}", run.stderr);
    assert!(run.stderr.contains("\nhelp: "), "{}", run.stderr);
    let run = paas_in(
        tmp.path(),
        &[
            "service",
            "create",
            "--name",
            "wc",
            "--template",
            "golang",
            "--owner",
            "",
        ],
    );
    assert_eq!(run.code, 2, "{}", run.stderr);
    assert!(run.stderr.contains("must not be empty"), "{}", run.stderr);
    let run = paas_in(
        tmp.path(),
        &[
            "service",
            "create",
            "--name",
            "wc",
            "--template",
            "cobol",
            "--owner",
            "t",
        ],
    );
    assert_eq!(run.code, 2, "{}", run.stderr);
    assert_eq!(std::fs::read_dir(tmp.path()).unwrap().count(), 0);
}
