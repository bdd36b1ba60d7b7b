//! `paas lint`: the service's app.toml in every environment and the Brief
//! schemas of its repository, in one pass, with every problem printed.
//!
//! The repository is the directory holding app.toml. Its layout (what
//! `paas service create` makes): the service's own schema
//! `brief/<service>.brief`, and one client contract per called service
//! `brief/clients/<service>.brief` (only the rpcs and fields it uses).
//! Checks:
//! - app.toml renders, policies included (and the recommendations of
//!   `resources.toml` beside it, when present), for every environment of the
//!   platform config (every cluster's render is the same but for the
//!   cluster, so the first cluster of each stands for the rest);
//! - every `*.brief` under the repository passes `brief check` (warnings
//!   are printed, not failed);
//! - the own schema names the service, and a client contract the service
//!   it is a contract for (its file name);
//! - each `[dependencies.<svc>]` that has no client contract is a warning
//!   (the service may call it without a generated client), and so is a
//!   client contract for a service app.toml does not depend on (no URL
//!   variable, no egress);
//! - with `--schemas DIR` (the servers' schemas, `DIR/<svc>.brief`), each
//!   client contract is checked against its server (`brief compat`).
//!
//! Exit 0 without errors, 1 with errors, 2 usage errors.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

use brief_check::{Source, parse_and_check};
use brief_syntax::{Diagnostic, File};
use manifests::pipeline::{Request, render_source_with};

use crate::cli::{Global, LintArgs};
use crate::render::{fallback_service, load_platform, render_failure};
use crate::{Failure, clock};

/// Directories never searched for schemas.
const SKIP: &[&str] = &[".git", "target", "node_modules", ".paas", "vendor", ".venv"];

/// Every `*.<extension>` file under `dir`, sorted, without following
/// symbolic links, skipping build and tool directories ([`SKIP`]).
pub(crate) fn find_files(dir: &Path, extension: &str) -> Vec<PathBuf> {
    let mut out = Vec::new();
    let start = if dir.as_os_str().is_empty() {
        Path::new(".")
    } else {
        dir
    };
    let mut stack = vec![start.to_path_buf()];
    while let Some(d) = stack.pop() {
        let Ok(entries) = std::fs::read_dir(&d) else {
            continue;
        };
        for entry in entries.flatten() {
            let path = entry.path();
            let Ok(kind) = entry.file_type() else {
                continue;
            };
            let name = entry.file_name();
            if kind.is_dir() {
                if !SKIP.iter().any(|s| name == *s) {
                    stack.push(path);
                }
            } else if kind.is_file() && path.extension().is_some_and(|e| e == extension) {
                // Relative to `dir` as given (no `./` for the current directory).
                out.push(
                    path.strip_prefix(".")
                        .map(Path::to_path_buf)
                        .unwrap_or(path),
                );
            }
        }
    }
    out.sort();
    out
}

/// The service a schema declares.
fn declared(file: &File) -> Option<&str> {
    file.service().map(|s| s.name.value.as_str())
}

/// Brief sources loaded for checking, with their parse results.
pub(crate) struct Schemas {
    pub(crate) sources: Vec<Source>,
    pub(crate) files: Vec<File>,
    pub(crate) diagnostics: Vec<Diagnostic>,
}

impl Schemas {
    /// Loads and checks `paths`; unreadable files are errors in `problems`.
    pub(crate) fn load(paths: &[PathBuf], problems: &mut Vec<String>) -> Schemas {
        let mut s = Schemas {
            sources: Vec::new(),
            files: Vec::new(),
            diagnostics: Vec::new(),
        };
        for path in paths {
            match std::fs::read_to_string(path) {
                Ok(text) => {
                    let id = s.sources.len();
                    let checked = parse_and_check(&text, id);
                    s.diagnostics.extend(checked.diagnostics);
                    s.files.push(checked.file);
                    s.sources.push(Source {
                        name: path.display().to_string(),
                        text,
                    });
                }
                Err(e) => problems.push(format!("error: cannot read {}: {e}", path.display())),
            }
        }
        s
    }

    fn index(&self, path: &Path) -> Option<usize> {
        let name = path.display().to_string();
        self.sources.iter().position(|s| s.name == name)
    }
}

/// `paas lint`.
pub(crate) fn lint(global: &Global, args: &LintArgs, color: bool) -> Result<String, Failure> {
    let platform = load_platform(global.platform.as_deref())?;
    let source = std::fs::read(&global.app).map_err(|e| {
        Failure::usage(format!(
            "error: cannot read {}: {e}\nhelp: run paas lint in the service's repository, or pass --app PATH",
            global.app.display()
        ))
    })?;
    let root = global.app.parent().unwrap_or(Path::new("")).to_path_buf();
    let mut errors: Vec<String> = Vec::new();
    let mut warnings: Vec<String> = Vec::new();
    let mut report = String::new();

    // app.toml in every environment.
    let mut service = fallback_service(global, &global.app).unwrap_or_default();
    let mut dependencies = BTreeSet::new();
    // resources.toml beside app.toml, when there is one, is part of every render.
    let recommendations = match crate::resources_cmd::load_recommendations(&global.app, None) {
        Ok(r) => r,
        Err(f) => {
            errors.push(f.message);
            None
        }
    };
    // The same problems in several environments are printed once, naming them.
    let mut app_problems: BTreeMap<String, Vec<&str>> = BTreeMap::new();
    for (env, config) in &platform.environments {
        let request = Request {
            file_name: global.app.display().to_string(),
            service: fallback_service(global, &global.app),
            environment: env.clone(),
            cluster: config.clusters.first().map(|c| c.name.clone()),
            version: 1,
            image_tag: "lint".to_owned(),
            strategy: None,
            previous_version: None,
            canary_weight: None,
            explain: false,
            today: clock::today(),
        };
        match render_source_with(&source, &platform, &request, recommendations.as_ref()) {
            Ok(rendered) => {
                report.push_str(&format!(
                    "app.toml: {env}: {} objects\n",
                    rendered.objects.len()
                ));
            }
            Err(e) => {
                let failure = render_failure(&global.app, e, color);
                app_problems
                    .entry(failure.message.trim_end().to_owned())
                    .or_default()
                    .push(env);
            }
        }
    }
    for (message, envs) in app_problems {
        errors.push(format!(
            "{message}\n(in environment{} {})",
            if envs.len() == 1 { "" } else { "s" },
            envs.join(", ")
        ));
    }
    let vocabulary = platform.vocabulary(clock::today());
    let file_name = global.app.display().to_string();
    let fallback = fallback_service(global, &global.app);
    let options = app_toml::ParseOptions {
        file_name: &file_name,
        fallback_name: fallback.as_deref(),
        vocabulary: &vocabulary,
    };
    if let Ok(app) = app_toml::parse(&source, &options) {
        service = app.name().to_owned();
        for env in platform.environments.keys() {
            if let Ok(resolved) = app.resolve_app(env) {
                dependencies.extend(resolved.app.dependencies.keys().cloned());
            }
        }
    }

    // Brief schemas of the repository.
    let paths = find_files(&root, "brief");
    let schemas = Schemas::load(&paths, &mut errors);
    let own = root.join("brief").join(format!("{service}.brief"));
    let clients_dir = root.join("brief").join("clients");
    for (i, file) in schemas.files.iter().enumerate() {
        let path = PathBuf::from(&schemas.sources[i].name);
        if path == own {
            match declared(file) {
                Some(name) if name == service => {}
                Some(name) => errors.push(format!(
                    "error: {} declares service \"{name}\", but app.toml's service is `{service}`\nhelp: write `service \"{service}\"`",
                    path.display()
                )),
                None => errors.push(format!(
                    "error: {} declares no service\nhelp: add `service \"{service}\"` at the top",
                    path.display()
                )),
            }
        } else if path.parent() == Some(clients_dir.as_path()) {
            let expected = path.file_stem().and_then(|s| s.to_str()).unwrap_or("");
            match declared(file) {
                Some(name) if name == expected => {}
                Some(name) => errors.push(format!(
                    "error: the client contract {} declares service \"{name}\"; a contract for `{expected}` must declare `service \"{expected}\"`\nhelp: rename the file to brief/clients/{name}.brief, or fix the declaration",
                    path.display()
                )),
                None if file.rpcs().next().is_some() => errors.push(format!(
                    "error: the client contract {} declares no service\nhelp: add `service \"{expected}\"` at the top",
                    path.display()
                )),
                None => {}
            }
        }
    }
    if !paths.is_empty() {
        report.push_str(&format!(
            "brief: {} schema{} checked\n",
            paths.len(),
            if paths.len() == 1 { "" } else { "s" }
        ));
    }
    let mut brief_text = String::new();
    let mut all_diags: Vec<Diagnostic> = schemas.diagnostics.clone();
    for dep in &dependencies {
        let contract = clients_dir.join(format!("{dep}.brief"));
        if schemas.index(&contract).is_none() {
            warnings.push(format!(
                "warning: app.toml depends on `{dep}` but {} does not exist: no typed client is generated for it",
                contract.display()
            ));
        }
    }
    for source in &schemas.sources {
        let path = Path::new(&source.name);
        if path.parent() == Some(clients_dir.as_path())
            && let Some(name) = path.file_stem().and_then(|s| s.to_str())
            && !dependencies.contains(name)
        {
            warnings.push(format!(
                "warning: {} is a client contract for `{name}`, but app.toml has no [dependencies.{name}]: no {}_URL is set and no egress to it is allowed",
                path.display(),
                name.to_uppercase().replace('-', "_")
            ));
        }
    }
    // Client contracts against their servers.
    let mut sources = schemas.sources.clone();
    if let Some(dir) = &args.schemas {
        if !dir.is_dir() {
            return Err(Failure::usage(format!(
                "error: --schemas {}: not a directory",
                dir.display()
            )));
        }
        let contracts: Vec<usize> = (0..schemas.files.len())
            .filter(|i| {
                Path::new(&schemas.sources[*i].name).parent() == Some(clients_dir.as_path())
            })
            .collect();
        for i in contracts {
            let path = PathBuf::from(&schemas.sources[i].name);
            let Some(name) = path.file_stem().and_then(|s| s.to_str()) else {
                continue;
            };
            let server_path = dir.join(format!("{name}.brief"));
            let Ok(text) = std::fs::read_to_string(&server_path) else {
                warnings.push(format!(
                    "warning: no server schema {} to check {} against",
                    server_path.display(),
                    path.display()
                ));
                continue;
            };
            let id = sources.len();
            let server = parse_and_check(&text, id);
            sources.push(Source {
                name: server_path.display().to_string(),
                text,
            });
            if !server.ok() {
                errors.push(format!(
                    "error: the server schema {} has errors: run `brief check` on it",
                    server_path.display()
                ));
                continue;
            }
            let violations = brief_check::compat::compat(&server.file, id, &schemas.files[i], i);
            report.push_str(&format!(
                "brief: {} against {}: {} violation{}\n",
                path.display(),
                server_path.display(),
                violations.len(),
                if violations.len() == 1 { "" } else { "s" }
            ));
            all_diags.extend(violations.into_iter().map(|v| v.diagnostic));
        }
    }
    if !all_diags.is_empty() {
        brief_text = brief_check::render::text(&all_diags, &sources, color);
    }
    let brief_errors = all_diags.iter().filter(|d| d.is_error()).count();
    let mut out_err = String::new();
    for w in &warnings {
        out_err.push_str(w);
        out_err.push('\n');
    }
    if !brief_text.is_empty() {
        out_err.push_str(brief_text.trim_end());
        out_err.push('\n');
    }
    for e in &errors {
        out_err.push_str(e);
        out_err.push('\n');
    }
    let total = errors.len() + brief_errors;
    if total > 0 {
        return Err(Failure::failed(format!(
            "{report}{out_err}error: lint found {total} error{}",
            if total == 1 { "" } else { "s" }
        )));
    }
    if !out_err.is_empty() {
        eprint!("{out_err}");
    }
    report.push_str("lint: ok\n");
    Ok(report)
}
