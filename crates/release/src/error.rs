//! The one error type of this crate: a release that cannot be planned.

/// Why a [`crate::ReleaseSpec`] was refused by [`crate::Release::new`] or a
/// stored value could not be read back.
///
/// The planner itself never fails: every event is either applied or ignored
/// (stale) and every refused command becomes an [`crate::Action::Rejected`].
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Error {
    /// The release names no cluster.
    #[error("release {service} {number} names no cluster")]
    NoClusters {
        /// Service name.
        service: String,
        /// Release number.
        number: crate::Version,
    },
    /// A cluster of the release has no rendered manifests.
    #[error("release {number} has no manifests for cluster {cluster}")]
    MissingManifests {
        /// Release number.
        number: crate::Version,
        /// The cluster without manifests.
        cluster: String,
    },
    /// A cluster name appears twice.
    #[error("cluster {cluster} is listed twice")]
    DuplicateCluster {
        /// The repeated cluster name.
        cluster: String,
    },
    /// The release number is not above the previous one.
    #[error("release number {number} must be greater than the previous release {previous}")]
    NumberNotIncreasing {
        /// This release's number.
        number: crate::Version,
        /// The release that serves now.
        previous: crate::Version,
    },
    /// Canary weights must be in 1..=99 and strictly increasing.
    #[error("canary steps {steps:?} must be strictly increasing percentages in 1..=99")]
    BadCanarySteps {
        /// The refused steps.
        steps: Vec<u8>,
    },
    /// A traffic-only rollback needs a version that serves now and a target below it.
    #[error("a traffic-only rollback to {target} needs the serving version beside it")]
    TrafficOnlyWithoutPrevious {
        /// The rollback target.
        target: crate::Version,
    },
    /// A rollback must go to an older release, under a number above the current one.
    #[error(
        "cannot roll back from {current} to {target} as {number}: the target must be older and the number newer"
    )]
    BadRollback {
        /// The release rolled back to.
        target: crate::Version,
        /// The release serving now.
        current: crate::Version,
        /// The new release's number.
        number: crate::Version,
    },
    /// The release would serve the version that serves now (a replay of the
    /// target a previous replay already serves): nothing to roll back, and
    /// its cleanup would delete what serves.
    #[error("the release would serve {version}, which already serves: nothing to roll back")]
    AlreadyServing {
        /// The version serving now.
        version: crate::Version,
    },
    /// A regenerating rollback was asked for without the regenerated manifests.
    #[error("rollback to {target} needs the regenerated manifests (or --no-regenerate)")]
    NotRegenerated {
        /// The release rolled back to.
        target: crate::Version,
    },
    /// An object carries the release label of another version than the one
    /// the release serves (regenerated manifests not rendered for the new
    /// number, or a replay's objects rewritten).
    #[error("cluster {cluster}: {object} is labelled {label} but the release serves {expected}")]
    WrongVersionLabel {
        /// The cluster whose manifests hold the object.
        cluster: String,
        /// The object.
        object: String,
        /// Its `paas.io/release` label.
        label: String,
        /// The version the release serves.
        expected: String,
    },
    /// A version string is not `v<N>`.
    #[error("version {text:?} is not of the form v<N>")]
    BadVersion {
        /// The text that was read.
        text: String,
    },
    /// A strategy name is not one of app.toml's strategies.
    #[error("unknown strategy {name:?} (expected simple, rolling, canary or blue-green)")]
    UnknownStrategy {
        /// The name that was read.
        name: String,
    },
    /// A stored status does not fit its spec (see
    /// [`crate::Release::check_status`]).
    #[error("the stored status does not fit the release: {reason}")]
    InconsistentStatus {
        /// What does not fit.
        reason: String,
    },
    /// A release or state could not be read back from JSON.
    #[error("cannot read a stored release: {message}")]
    Decode {
        /// The decoder's message.
        message: String,
    },
}
