//! The whole path from app.toml text to rendered objects, shared by
//! `paas render`, `helmgen serve` and `helmgen impact` so that they can never
//! disagree: parse and validate, resolve for the environment, pick the
//! cluster, render.

use app_toml::{Date, ParseOptions, Strategy};
use platform_config::Platform;
use resources::Recommendations;

use crate::{Error, ReleaseContext, Rendered, TestCopy, render_test_copy, render_with};

/// What to render, besides the app.toml text and the platform config.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Request {
    /// File name for diagnostics (`services/x/app.toml`).
    pub file_name: String,
    /// Service name when app.toml has no `name` (from `--service`, or the directory name).
    pub service: Option<String>,
    /// Environment.
    pub environment: String,
    /// Cluster; `None` means the environment's first cluster.
    pub cluster: Option<String>,
    /// Release number N of `v<N>`.
    pub version: u32,
    /// Image tag.
    pub image_tag: String,
    /// Strategy; `None` means the app's `[deploy] strategy`.
    pub strategy: Option<Strategy>,
    /// Previous live version (the other side of a canary).
    pub previous_version: Option<u32>,
    /// Canary weight of the new version.
    pub canary_weight: Option<u8>,
    /// Collect explanations.
    pub explain: bool,
    /// Today, for exception expiry.
    pub today: Date,
}

/// Why a render failed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Failure {
    /// The app.toml is invalid (every problem is inside), or the environment is unknown.
    #[error(transparent)]
    App(#[from] app_toml::Error),
    /// The generator refused (policy or release context).
    #[error(transparent)]
    Render(#[from] Error),
}

/// Parses, validates, resolves and renders one app.toml.
pub fn render_source(
    source: &[u8],
    platform: &Platform,
    request: &Request,
) -> Result<Rendered, Failure> {
    render_source_with(source, platform, request, None)
}

/// [`render_source`] with the service's resource recommendations (the
/// recommendations file beside app.toml), which replace size presets: see
/// [`crate::render_with`].
pub fn render_source_with(
    source: &[u8],
    platform: &Platform,
    request: &Request,
    recommendations: Option<&Recommendations>,
) -> Result<Rendered, Failure> {
    let (resolved, ctx) = prepare(source, platform, request)?;
    Ok(render_with(&resolved, platform, &ctx, recommendations)?)
}

/// Parses, validates, resolves and renders a test copy of the service
/// (see [`crate::render_test_copy`]); the request's version, strategy and
/// canary weight are not used.
pub fn render_test_copy_source(
    source: &[u8],
    platform: &Platform,
    request: &Request,
    test_copy: &TestCopy,
    recommendations: Option<&Recommendations>,
) -> Result<Rendered, Failure> {
    let (resolved, ctx) = prepare(source, platform, request)?;
    Ok(render_test_copy(
        &resolved,
        platform,
        &ctx,
        test_copy,
        recommendations,
    )?)
}

fn prepare(
    source: &[u8],
    platform: &Platform,
    request: &Request,
) -> Result<(app_toml::Resolved, ReleaseContext), Failure> {
    let vocabulary = platform.vocabulary(request.today);
    let options = ParseOptions {
        file_name: &request.file_name,
        fallback_name: request.service.as_deref(),
        vocabulary: &vocabulary,
    };
    let file = app_toml::parse(source, &options)?;
    // Provenance is only read by explanations.
    let resolved = if request.explain {
        file.resolve(&request.environment)?
    } else {
        file.resolve_app(&request.environment)?
    };
    let cluster = match &request.cluster {
        Some(c) => c.clone(),
        None => platform
            .environment(&request.environment)
            .and_then(|e| e.clusters.first())
            .map(|c| c.name.clone())
            .unwrap_or_default(),
    };
    let ctx = ReleaseContext {
        environment: request.environment.clone(),
        cluster,
        version: request.version,
        image_tag: request.image_tag.clone(),
        strategy: request.strategy.unwrap_or(resolved.app.deploy.strategy),
        previous_version: request.previous_version,
        canary_weight: request.canary_weight,
        explain: request.explain,
    };
    Ok((resolved, ctx))
}
