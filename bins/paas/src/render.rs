//! `paas render` and `paas schema`.

use std::path::{Path, PathBuf};

use manifests::pipeline::{Failure as RenderFailure, Request, render_source_with};
use platform_config::Platform;

use crate::cli::{Global, Output, RenderArgs, SchemaArgs, SchemaKind};
use crate::{Failure, clock, gitinfo, resources_cmd};

/// Loads the platform config: `--platform`/`PAAS_PLATFORM`, else the built-in one.
pub(crate) fn load_platform(path: Option<&Path>) -> Result<Platform, Failure> {
    match path {
        None => Ok(Platform::builtin()),
        Some(p) => {
            let text = std::fs::read_to_string(p).map_err(|e| {
                Failure::usage(format!(
                    "error: cannot read the platform config {}: {e}",
                    p.display()
                ))
            })?;
            Platform::from_toml(&text, &p.display().to_string())
                .map_err(|e| Failure::usage(format!("error: {e}")))
        }
    }
}

/// The service name when app.toml has none: `--service`, else the directory name.
pub(crate) fn fallback_service(global: &Global, app: &Path) -> Option<String> {
    if let Some(s) = &global.service {
        return Some(s.clone());
    }
    let dir = absolute_dir(app);
    dir.file_name().and_then(|n| n.to_str()).map(str::to_owned)
}

pub(crate) fn absolute_dir(app: &Path) -> PathBuf {
    let dir = app
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    std::fs::canonicalize(dir).unwrap_or_else(|_| dir.to_owned())
}

pub(crate) fn render(global: &Global, args: &RenderArgs, color: bool) -> Result<String, Failure> {
    let platform = load_platform(global.platform.as_deref())?;
    if platform.environment(&args.env).is_none() {
        let known: Vec<_> = platform.environments.keys().map(String::as_str).collect();
        return Err(Failure::usage(format!(
            "error: unknown environment `{}` (expected one of {})",
            args.env,
            known.join(", ")
        )));
    }
    let source = std::fs::read(&global.app).map_err(|e| {
        Failure::usage(format!(
            "error: cannot read {}: {e}\nhelp: pass the service's app.toml with --app PATH",
            global.app.display()
        ))
    })?;
    let image_tag = gitinfo::image_tag(args.image_tag.as_deref(), &global.app);
    let request = Request {
        file_name: global.app.display().to_string(),
        service: fallback_service(global, &global.app),
        environment: args.env.clone(),
        cluster: args.cluster.clone(),
        version: args.version,
        image_tag,
        strategy: args.strategy,
        previous_version: None,
        canary_weight: None,
        explain: args.explain,
        today: clock::today(),
    };
    let recommendations =
        resources_cmd::load_recommendations(&global.app, args.recommendations.as_deref())?;
    let rendered = match &args.test_copy {
        Some(id) => {
            let now = crate::service::now_seconds();
            let test_copy = manifests::TestCopy {
                id: id.clone(),
                expires_at: clock::rfc3339(
                    u64::try_from(now.saturating_add(manifests::copy::DEFAULT_TTL_SECONDS))
                        .unwrap_or(0),
                ),
            };
            manifests::pipeline::render_test_copy_source(
                &source,
                &platform,
                &request,
                &test_copy,
                recommendations.as_ref(),
            )
        }
        None => render_source_with(&source, &platform, &request, recommendations.as_ref()),
    }
    .map_err(|e| render_failure(&global.app, e, color))?;
    let output = global.output.unwrap_or(Output::Yaml);
    if args.explain {
        return match output {
            Output::Json => serde_json::to_string_pretty(&rendered.explanations)
                .map(|s| s + "\n")
                .map_err(|e| Failure::failed(format!("error: {e}"))),
            Output::Text | Output::Yaml => {
                let mut out = String::new();
                let mut last = "";
                for e in &rendered.explanations {
                    if e.object != last {
                        out.push_str(&e.object);
                        out.push('\n');
                        last = &e.object;
                    }
                    out.push_str(&format!(
                        "  {} = {}\n      from {}\n",
                        e.field, e.value, e.source
                    ));
                }
                Ok(out)
            }
        };
    }
    match output {
        Output::Yaml | Output::Text => rendered
            .to_yaml()
            .map_err(|e| Failure::failed(format!("error: {e}"))),
        Output::Json => rendered
            .to_json_value()
            .and_then(|v| {
                serde_json::to_string_pretty(&v)
                    .map_err(|e| manifests::Error::Serialize(e.to_string()))
            })
            .map(|s| s + "\n")
            .map_err(|e| Failure::failed(format!("error: {e}"))),
    }
}

/// Maps a failed render to the message and exit code of the binary.
pub(crate) fn render_failure(app: &Path, e: RenderFailure, color: bool) -> Failure {
    match e {
        RenderFailure::App(app_toml::Error::Invalid(d)) => {
            let n = d.items.len();
            Failure::failed(format!(
                "{}\nerror: {} has {n} problem{}",
                d.render(color).trim_end(),
                d.file,
                if n == 1 { "" } else { "s" }
            ))
        }
        RenderFailure::App(e @ app_toml::Error::UnknownEnvironment { .. }) => {
            Failure::usage(format!("error: {e}"))
        }
        RenderFailure::Render(manifests::Error::Context { message, .. }) => {
            Failure::usage(format!("error: {message}"))
        }
        RenderFailure::Render(e) => {
            Failure::failed(format!("error: {} cannot be deployed:\n{e}", app.display()))
        }
    }
}

pub(crate) fn schema(args: &SchemaArgs) -> Result<String, Failure> {
    match args.which {
        SchemaKind::AppToml => serde_json::to_string_pretty(&app_toml::json_schema())
            .map(|s| s + "\n")
            .map_err(|e| Failure::failed(format!("error: {e}"))),
    }
}
