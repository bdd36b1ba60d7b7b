//! Provenance of generated values, for `paas render --explain`: for each
//! value that comes from configuration, which layer supplied it.

use std::fmt;

use app_toml::Origin;
use serde::Serialize;

/// Where a generated value came from.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "from", rename_all = "kebab-case")]
pub enum Source {
    /// A platform-wide setting (`platform.toml` key).
    Platform {
        /// Key in platform.toml (`pod.prestop_sleep_seconds`).
        key: String,
    },
    /// The engine's defaults in the platform config.
    Engine {
        /// Engine name.
        engine: String,
        /// Key of the engine (`port`, `liveness`, ...).
        key: String,
    },
    /// A size preset of the platform config.
    SizePreset {
        /// Preset name.
        size: String,
    },
    /// app.toml (base or environment override), or the spec default.
    App {
        /// Key path in app.toml.
        path: String,
        /// Which layer.
        origin: Origin,
    },
    /// The recommendations file (`resources.toml`), in place of a size preset.
    Recommendation {
        /// The file it was read from.
        file: String,
        /// Its container entry (`app`, `process-worker`, ...).
        container: String,
        /// The size preset it replaces.
        size: String,
    },
    /// An `[exceptions.<rule>]` entry switched a hardening rule off.
    Exception {
        /// Rule name.
        rule: String,
    },
    /// The release being rendered (`--version`, `--image-tag`, `--cluster`, strategy).
    Release {
        /// Which release parameter.
        key: String,
    },
}

impl fmt::Display for Source {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Source::Platform { key } => write!(f, "platform default ({key})"),
            Source::Engine { engine, key } => write!(f, "engine `{engine}` ({key})"),
            Source::SizePreset { size } => write!(f, "size preset `{size}`"),
            Source::App { path, origin } => match origin {
                Origin::Default => write!(f, "app.toml default ({path})"),
                Origin::Base { line } => write!(f, "app.toml line {line} ({path})"),
                Origin::Environment { env, line } => {
                    write!(f, "app.toml [envs.{env}] override, line {line} ({path})")
                }
            },
            Source::Recommendation {
                file,
                container,
                size,
            } => write!(
                f,
                "recommendations {file} [containers.{container}] (instead of size preset `{size}`)"
            ),
            Source::Exception { rule } => write!(f, "exception `{rule}`"),
            Source::Release { key } => write!(f, "release context ({key})"),
        }
    }
}

/// One generated value and where it came from.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Explanation {
    /// `Kind/name` of the object.
    pub object: String,
    /// Field path inside the object (`spec.replicas`).
    pub field: String,
    /// The value, as text.
    pub value: String,
    /// Where it came from.
    pub source: Source,
}

impl fmt::Display for Explanation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{} {} = {}  <- {}",
            self.object, self.field, self.value, self.source
        )
    }
}
