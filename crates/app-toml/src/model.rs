//! The resolved, fully typed and defaulted view of one service in one
//! environment: what [`crate::AppFile::resolve`] returns and what the
//! manifest generator consumes.
//!
//! Every field here has its default already applied, so consumers never deal
//! with `Option` for something the spec gives a default to. Maps are
//! `BTreeMap` so that iteration order (and therefore rendered output) is
//! deterministic.

use std::collections::BTreeMap;
use std::fmt;

use serde::Serialize;

/// One service in one environment, after `[envs.<env>]` overrides and
/// `unset` were applied and every default was filled in.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct App {
    /// Service name; also the Kubernetes namespace (DNS-1123 label, at most 40 characters).
    pub name: String,
    /// The environment this value was resolved for (`prod`, `staging`, ...).
    pub environment: String,
    /// One line for humans and the dashboard.
    pub description: String,
    /// Service class.
    pub kind: Kind,
    /// Owning team ("" when not set).
    pub owner: String,
    /// Criticality; prod policy uses it.
    pub criticality: Criticality,
    /// Replicas when there is no autoscaling (0..=1000).
    pub replicas: u32,
    /// Runtime of the main container.
    pub engine: Engine,
    /// Named container ports. Empty means "the engine's default `http` port",
    /// which only the platform config knows.
    pub ports: BTreeMap<String, u16>,
    /// HTTP probe paths; `None` means the engine default.
    pub health: Health,
    /// Horizontal autoscaling; when present, `replicas` is not set on the Deployment.
    pub autoscale: Option<Autoscale>,
    /// Plain configuration variables, already rendered to their string form.
    pub env: BTreeMap<String, String>,
    /// Secrets handling.
    pub secrets: Secrets,
    /// Services this one calls, by service name.
    pub dependencies: BTreeMap<String, Dependency>,
    /// Databases this service uses, by logical name.
    pub databases: BTreeMap<String, Database>,
    /// Externally exposed routes, by name.
    pub routes: BTreeMap<String, Route>,
    /// Extra long-running processes (workers, consumers), by name.
    pub processes: BTreeMap<String, Process>,
    /// Scheduled jobs (CronJobs), by name.
    pub jobs: BTreeMap<String, CronJob>,
    /// Jobs run in the init stage before the new version starts (migrations), by name.
    pub init: BTreeMap<String, InitJob>,
    /// Rollout defaults.
    pub deploy: Deploy,
    /// Hardening rules this service opted out of, with reason and expiry.
    pub exceptions: BTreeMap<HardeningRule, Exception>,
}

impl App {
    /// The exception for `rule`, if the service opted out of it.
    pub fn exception(&self, rule: HardeningRule) -> Option<&Exception> {
        self.exceptions.get(&rule)
    }
}

/// Service class (`kind`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Default)]
#[serde(rename_all = "kebab-case")]
pub enum Kind {
    /// A product service (the default).
    #[default]
    Business,
    /// A platform or infrastructure service.
    Infra,
}

/// Criticality of a service (`criticality`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Default)]
#[serde(rename_all = "kebab-case")]
pub enum Criticality {
    /// May run with a single replica even in prod.
    Low,
    /// The default.
    #[default]
    Normal,
    /// Business critical.
    High,
}

/// `[engine]`: the runtime of the main container.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Engine {
    /// Engine name, one of the platform config's engines (`golang`, `python`, ...).
    pub name: String,
    /// Runtime version; `None` means the engine's default version.
    pub version: Option<String>,
    /// Resource preset name, one of the platform config's sizes (default `small`).
    pub size: String,
    /// Explicit image (only for the `generic` engine).
    pub image: Option<String>,
}

/// `[health]`: probe paths and startup allowance.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Health {
    /// Liveness probe path; `None` means the engine default.
    pub liveness: Option<String>,
    /// Readiness probe path; `None` means the engine default.
    pub readiness: Option<String>,
    /// Startup probe path; `None` means the engine default.
    pub startup: Option<String>,
    /// Time allowed to start, in seconds (default 60).
    pub startup_seconds: u32,
}

/// `[autoscale]`: a HorizontalPodAutoscaler on CPU.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct Autoscale {
    /// Minimum replicas (at least 1).
    pub min: u32,
    /// Maximum replicas (at least `min`).
    pub max: u32,
    /// Target average CPU utilisation, in percent of the request (1..=100).
    pub cpu_percent: u32,
}

/// `[secrets]`: how the service gets its secrets.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Secrets {
    /// Wrap the entrypoint with vault2env (default `true`).
    pub vault: bool,
    /// Secret names the service expects (documented and checked at start).
    pub keys: Vec<String>,
}

/// `[dependencies.<service>]`: a service this one calls.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Dependency {
    /// Name of the dependency's port to call (default `http`).
    pub port: String,
    /// Client timeout for calls to it, in milliseconds.
    pub timeout_ms: Option<u32>,
}

/// `[databases.<name>]`: a database the service uses.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Database {
    /// Database engine.
    pub engine: DatabaseEngine,
}

/// Database engines the platform provides.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum DatabaseEngine {
    /// PostgreSQL.
    Postgres,
    /// Redis.
    Redis,
    /// Kafka.
    Kafka,
}

impl DatabaseEngine {
    /// The name as written in app.toml.
    pub fn as_str(self) -> &'static str {
        match self {
            DatabaseEngine::Postgres => "postgres",
            DatabaseEngine::Redis => "redis",
            DatabaseEngine::Kafka => "kafka",
        }
    }
}

/// `[routes.<name>]`: an externally exposed host.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Route {
    /// External host name.
    pub host: String,
    /// Path prefix (default `/`).
    pub path: String,
}

/// `[processes.<name>]`: an extra long-running process.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Process {
    /// Command line (argv).
    pub command: Vec<String>,
    /// Replicas (default 1).
    pub replicas: u32,
    /// Resource preset (default: the engine's size).
    pub size: String,
}

/// `[jobs.<name>]`: a scheduled job.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct CronJob {
    /// A valid 5-field cron expression.
    pub schedule: String,
    /// Command line (argv).
    pub command: Vec<String>,
    /// `activeDeadlineSeconds` of each run.
    pub deadline_seconds: Option<u32>,
}

/// `[init.<name>]`: a Job run in the init stage.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct InitJob {
    /// Command line (argv).
    pub command: Vec<String>,
}

/// `[deploy]`: rollout defaults.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Deploy {
    /// Default rollout strategy (default `simple`).
    pub strategy: Strategy,
    /// Canary weights in percent, each 1..=99, strictly increasing (default `[5, 25, 50]`).
    pub canary_steps: Vec<u8>,
}

/// Rollout strategies.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Default)]
#[serde(rename_all = "kebab-case")]
pub enum Strategy {
    /// New version beside the old one, switch, delete the old.
    #[default]
    Simple,
    /// One Deployment updated in place.
    Rolling,
    /// New beside old, traffic stepped through the canary weights.
    Canary,
    /// `simple` with a manual gate before the switch.
    BlueGreen,
}

impl Strategy {
    /// The name as written in app.toml and on the command line.
    pub fn as_str(self) -> &'static str {
        match self {
            Strategy::Simple => "simple",
            Strategy::Rolling => "rolling",
            Strategy::Canary => "canary",
            Strategy::BlueGreen => "blue-green",
        }
    }

    /// Parses a strategy name as written in app.toml and on the command line.
    pub fn from_name(name: &str) -> Option<Strategy> {
        Strategy::ALL.into_iter().find(|s| s.as_str() == name)
    }

    /// Every strategy, in documentation order.
    pub const ALL: [Strategy; 4] = [
        Strategy::Simple,
        Strategy::Rolling,
        Strategy::Canary,
        Strategy::BlueGreen,
    ];
}

impl fmt::Display for Strategy {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A hardening rule of the generator that one service may opt out of with
/// `[exceptions.<rule>]`. Each switches off exactly one thing.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum HardeningRule {
    /// `readOnlyRootFilesystem: true` on every container.
    ReadOnlyRootFilesystem,
    /// `runAsNonRoot: true` and a non-root user.
    RunAsNonRoot,
    /// `capabilities.drop: [ALL]`.
    DropAllCapabilities,
    /// A CPU limit on every container.
    CpuLimit,
    /// The default-deny NetworkPolicy (egress becomes open when excepted).
    DefaultDenyEgress,
    /// The prod policy of at least 2 replicas unless `criticality = "low"`.
    MinProdReplicas,
}

impl HardeningRule {
    /// Every rule, in documentation order.
    pub const ALL: [HardeningRule; 6] = [
        HardeningRule::ReadOnlyRootFilesystem,
        HardeningRule::RunAsNonRoot,
        HardeningRule::DropAllCapabilities,
        HardeningRule::CpuLimit,
        HardeningRule::DefaultDenyEgress,
        HardeningRule::MinProdReplicas,
    ];

    /// The rule's name as written under `[exceptions.<rule>]`.
    pub fn as_str(self) -> &'static str {
        match self {
            HardeningRule::ReadOnlyRootFilesystem => "read-only-root-filesystem",
            HardeningRule::RunAsNonRoot => "run-as-non-root",
            HardeningRule::DropAllCapabilities => "drop-all-capabilities",
            HardeningRule::CpuLimit => "cpu-limit",
            HardeningRule::DefaultDenyEgress => "default-deny-egress",
            HardeningRule::MinProdReplicas => "min-prod-replicas",
        }
    }

    /// Parses a rule name as written in app.toml.
    pub fn from_name(name: &str) -> Option<HardeningRule> {
        HardeningRule::ALL.into_iter().find(|r| r.as_str() == name)
    }
}

impl fmt::Display for HardeningRule {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// `[exceptions.<rule>]`: a documented, expiring opt-out of one hardening rule.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Exception {
    /// Why the service needs it (non-empty).
    pub reason: String,
    /// Last day the exception is valid.
    pub expires: Date,
}

/// A calendar date (`expires`), compared without any clock: "today" is
/// always passed in by the caller.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Date {
    /// Year, e.g. 2027.
    pub year: u16,
    /// Month, 1..=12.
    pub month: u8,
    /// Day of month, 1..=31 (validated against the month).
    pub day: u8,
}

impl Date {
    /// Parses `YYYY-MM-DD` (a real calendar date), as `expires` is written.
    pub fn parse(text: &str) -> Option<Date> {
        crate::check::parse_date(text)
    }
}

impl fmt::Display for Date {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:04}-{:02}-{:02}", self.year, self.month, self.day)
    }
}

impl Serialize for Date {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

/// Where a resolved value came from, for `paas render --explain`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "from", rename_all = "kebab-case")]
pub enum Origin {
    /// The spec's default (nothing in the file).
    Default,
    /// The base part of app.toml, at this 1-based line.
    Base {
        /// 1-based line in app.toml.
        line: usize,
    },
    /// An `[envs.<env>]` override, at this 1-based line.
    Environment {
        /// The environment name.
        env: String,
        /// 1-based line in app.toml.
        line: usize,
    },
}
