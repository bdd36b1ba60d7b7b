//! Rollback releases: a rollback is a NEW release (a higher number) that
//! brings back an older release's state.
//!
//! - By default its objects are **regenerated** from the target's app.toml
//!   and image with today's platform config, so platform components are not
//!   rolled back (the caller renders them: this crate knows no generator).
//! - `--no-regenerate` **replays** the target's stored manifests as they
//!   were, labels included: the rollback release serves the target's
//!   version (`v5` objects under release `v7`), so the planner applies,
//!   switches to and, on abort, deletes `v5`, and sync sees `v5` live,
//!   exactly as for a traffic-only rollback. Regenerated objects are
//!   rendered for the new number (`v7`); [`rollback`] checks the labels.
//! - When the target still runs beside the current version in every cluster
//!   (during a drain, or the stable side of a canary), the rollback is
//!   **traffic-only**: nothing is applied, traffic moves back after checking
//!   the target is ready everywhere.

use std::collections::BTreeMap;

use app_toml::Strategy;

use crate::{
    Error, Manifests, ReleaseKind, ReleaseSpec, Rollback, RollbackMode, Timestamp, Version,
};

/// What `paas service rollback` knows when it builds the rollback release.
#[derive(Debug, Clone)]
pub struct RollbackRequest<'a> {
    /// The release rolled back to (its stored record).
    pub target: &'a ReleaseSpec,
    /// The release serving now.
    pub current: &'a ReleaseSpec,
    /// The new release's number (above every existing one).
    pub number: Version,
    /// `--no-regenerate`: replay the stored manifests.
    pub no_regenerate: bool,
    /// The target's objects still run beside the current ones in every cluster.
    pub target_running: bool,
    /// The target's app.toml and image rendered with today's platform
    /// config, per cluster (needed unless replaying or traffic-only).
    pub regenerated: Option<BTreeMap<String, Manifests>>,
    /// Today's platform config version (used when regenerating).
    pub platform_version: String,
    /// Who rolls back.
    pub releaser: String,
    /// When.
    pub time: Timestamp,
}

/// Which kind of rollback a request makes.
pub fn rollback_mode(no_regenerate: bool, target_running: bool) -> RollbackMode {
    if target_running {
        RollbackMode::TrafficOnly
    } else if no_regenerate {
        RollbackMode::Replay
    } else {
        RollbackMode::Regenerate
    }
}

/// Builds the spec of a rollback release (check it with [`crate::Release::new`]).
///
/// The new release carries the target's image, app.toml, commit and linked
/// tasks (that code runs again), replaces the version serving now, and is
/// rolled out with `simple` (or `rolling` for a service deployed in place:
/// one Deployment cannot run two versions side by side).
pub fn rollback(request: RollbackRequest<'_>) -> Result<ReleaseSpec, Error> {
    let RollbackRequest {
        target,
        current,
        number,
        no_regenerate,
        target_running,
        regenerated,
        platform_version,
        releaser,
        time,
    } = request;
    if target.number >= current.number || number <= current.number {
        return Err(Error::BadRollback {
            target: target.number,
            current: current.number,
            number,
        });
    }
    let rolling = current.strategy == Strategy::Rolling;
    let mode = rollback_mode(no_regenerate, target_running && !rolling);
    let (manifests, platform_version) = match mode {
        RollbackMode::Regenerate => (
            regenerated.ok_or(Error::NotRegenerated {
                target: target.number,
            })?,
            platform_version,
        ),
        RollbackMode::Replay | RollbackMode::TrafficOnly => {
            (target.manifests.clone(), target.platform_version.clone())
        }
    };
    let spec = ReleaseSpec {
        service: current.service.clone(),
        environment: current.environment.clone(),
        number,
        kind: ReleaseKind::Rollback,
        strategy: if rolling {
            Strategy::Rolling
        } else {
            Strategy::Simple
        },
        image: target.image.clone(),
        app_toml: target.app_toml.clone(),
        platform_version,
        clusters: current.clusters.clone(),
        manifests,
        releaser,
        time,
        commit: target.commit.clone(),
        linked_tasks: target.linked_tasks.clone(),
        previous: Some(current.serving()),
        rollback: Some(Rollback {
            target: target.number,
            mode,
        }),
        options: current.options.clone(),
        digest: String::new(),
    };
    // Regenerated objects must be rendered for the new number, replayed
    // ones keep the target's: either way, the labels of what is applied.
    spec.check_version_labels()?;
    Ok(spec)
}

#[cfg(test)]
mod tests;
