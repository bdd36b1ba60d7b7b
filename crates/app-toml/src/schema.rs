//! The JSON Schema of the app.toml *file format*, for editors (Taplo / Even
//! Better TOML via a `#:schema` line) and for `paas schema app-toml`.
//!
//! The schema is derived with `schemars` from the types below, which
//! describe the file as written (every key optional except `[engine] name`,
//! an all-optional override layer under `[envs.<env>]` with `unset`), not the
//! resolved [`crate::App`]. The validator in `check.rs`/`merge.rs` is the
//! authority; the schema says the same things where JSON Schema can (types,
//! ranges, enumerations, name patterns, unknown keys) and leaves the rest
//! (vocabulary from the platform config, duplicate ports, cron syntax,
//! expiry, cross-field rules) to `paas check`.
//!
//! The types exist only to be described: they are never constructed, hence
//! the `dead_code` allowance.
#![allow(dead_code)]

use std::collections::BTreeMap;

use schemars::JsonSchema;
use schemars::generate::SchemaSettings;

/// Which JSON Schema dialect to produce.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum SchemaDraft {
    /// JSON Schema draft 2020-12 (the default).
    #[default]
    Draft2020_12,
    /// JSON Schema draft-07, for older tools.
    Draft07,
}

pub(crate) fn json_schema(draft: SchemaDraft) -> serde_json::Value {
    let settings = match draft {
        SchemaDraft::Draft2020_12 => SchemaSettings::draft2020_12(),
        SchemaDraft::Draft07 => SchemaSettings::draft07(),
    };
    let mut schema = settings
        .into_generator()
        .into_root_schema_for::<AppToml>()
        .to_value();
    // Draft-07 ignores keywords beside `$ref`, so there the reference is
    // wrapped in `allOf` to keep its description and default.
    strip_null(&mut schema, draft == SchemaDraft::Draft07);
    schema
}

/// Removes the `null` that `Option` fields allow: TOML has no null, an
/// absent key is how a file asks for the default, and editors complete
/// better without the `anyOf` wrapper.
fn strip_null(value: &mut serde_json::Value, wrap_refs: bool) {
    use serde_json::Value;
    match value {
        Value::Object(map) => {
            if let Some(Value::Array(types)) = map.get_mut("type") {
                types.retain(|t| t != "null");
                if let [only] = types.as_slice() {
                    let only = only.clone();
                    map.insert("type".to_owned(), only);
                }
            }
            let wrapped = match map.get("anyOf") {
                Some(Value::Array(options)) if options.len() == 2 => {
                    let is_null = |v: &Value| v.get("type") == Some(&Value::from("null"));
                    match (is_null(&options[0]), is_null(&options[1])) {
                        (false, true) => Some(options[0].clone()),
                        (true, false) => Some(options[1].clone()),
                        _ => None,
                    }
                }
                _ => None,
            };
            if let Some(Value::Object(inner)) = wrapped {
                map.remove("anyOf");
                if wrap_refs && inner.contains_key("$ref") {
                    map.insert("allOf".to_owned(), Value::Array(vec![Value::Object(inner)]));
                } else {
                    for (k, v) in inner {
                        map.entry(k).or_insert(v);
                    }
                }
            }
            map.values_mut().for_each(|v| strip_null(v, wrap_refs));
        }
        Value::Array(items) => items.iter_mut().for_each(|v| strip_null(v, wrap_refs)),
        _ => {}
    }
}

const DNS_LABEL: &str = "^[a-z0-9]([-a-z0-9]*[a-z0-9])?$";
const POSIX_NAME: &str = "^[A-Za-z_][A-Za-z0-9_]*$";
const PORT_NAME: &str = "^[a-z0-9]([-a-z0-9]*[a-z0-9])?$";
const DATE: &str = "^[0-9]{4}-[0-9]{2}-[0-9]{2}$";
const UNSET_EXAMPLE: [&str; 2] = ["env.LOG_LEVEL", "routes.public"];
const SECRETS_EXAMPLE: [&str; 1] = ["DATABASE_PASSWORD"];
const COMMAND_EXAMPLE: [&str; 2] = ["./app", "worker"];

/// `app.toml`: what is specific to one service, for every environment at
/// once. Everything else (images, sidecars, probes defaults, security
/// settings) comes from the platform. Reference: docs/app-toml.md.
#[derive(JsonSchema)]
#[schemars(title = "app.toml", deny_unknown_fields)]
#[schemars(example = example())]
struct AppToml {
    /// Format version; only 1 exists.
    #[schemars(range(min = 1, max = 1), extend("default" = 1))]
    schema_version: Option<u32>,
    /// Service name, also its Kubernetes namespace: a DNS-1123 label of at
    /// most 40 characters. Default: `--service`, else the directory name.
    #[schemars(length(min = 1, max = 40), pattern(DNS_LABEL), example = &"userinfo")]
    name: Option<String>,
    /// One line for humans and the dashboard.
    #[schemars(extend("default" = ""), example = &"process user info")]
    description: Option<String>,
    /// Service class.
    #[schemars(extend("default" = "business"))]
    kind: Option<Kind>,
    /// Owning team.
    #[schemars(extend("default" = ""), example = &"team-search")]
    owner: Option<String>,
    /// Criticality; the prod policy uses it (`low` may run one replica in prod).
    #[schemars(extend("default" = "normal"))]
    criticality: Option<Criticality>,
    /// Replicas when there is no `[autoscale]`.
    #[schemars(range(min = 0, max = 1000), extend("default" = 1), example = 2)]
    replicas: Option<u32>,
    /// The runtime of the main container (required).
    engine: Engine,
    /// Named container ports (name -> port); `http` is the main one.
    /// Default: `{ http = <engine default> }`.
    #[schemars(extend("propertyNames" = { "pattern": PORT_NAME, "maxLength": 15 }))]
    ports: Option<BTreeMap<String, Port>>,
    /// HTTP probe paths and startup allowance.
    health: Option<Health>,
    /// Horizontal autoscaling on CPU; when present, `replicas` is not set on the Deployment.
    autoscale: Option<Autoscale>,
    /// Plain configuration variables (POSIX names), rendered to strings.
    #[schemars(extend("propertyNames" = { "pattern": POSIX_NAME }))]
    env: Option<BTreeMap<String, EnvValue>>,
    /// How the service gets its secrets.
    secrets: Option<Secrets>,
    /// Services this one calls, by service name: each generates address variables.
    #[schemars(extend("propertyNames" = { "pattern": DNS_LABEL, "maxLength": 63 }))]
    dependencies: Option<BTreeMap<String, Dependency>>,
    /// Databases this service uses, by logical name: each generates
    /// connection variables; credentials come from Vault.
    #[schemars(extend("propertyNames" = { "pattern": DNS_LABEL, "maxLength": 63 }))]
    databases: Option<BTreeMap<String, Database>>,
    /// External hosts that reach this service, by route name.
    #[schemars(extend("propertyNames" = { "pattern": DNS_LABEL, "maxLength": 63 }))]
    routes: Option<BTreeMap<String, Route>>,
    /// Extra long-running processes (workers, consumers), by name.
    #[schemars(extend("propertyNames" = { "pattern": DNS_LABEL, "maxLength": 63 }))]
    processes: Option<BTreeMap<String, Process>>,
    /// Scheduled jobs (CronJobs), by name.
    #[schemars(extend("propertyNames" = { "pattern": DNS_LABEL, "maxLength": 63 }))]
    jobs: Option<BTreeMap<String, Job>>,
    /// Jobs run in the init stage before the new version starts (migrations), by name.
    #[schemars(extend("propertyNames" = { "pattern": DNS_LABEL, "maxLength": 63 }))]
    init: Option<BTreeMap<String, Init>>,
    /// Rollout defaults.
    deploy: Option<Deploy>,
    /// Opt-outs of hardening rules, each with a reason and an expiry date.
    exceptions: Option<Exceptions>,
    /// Per-environment overrides, by environment name (built in: `prod`,
    /// `staging`, `dev`, `local`; the platform config may define others).
    /// Tables merge key by key into the top level; scalars and arrays replace.
    #[schemars(extend("propertyNames" = { "pattern": DNS_LABEL }))]
    envs: Option<BTreeMap<String, Override>>,
}

fn example() -> serde_json::Value {
    serde_json::json!({
        "description": "process user info",
        "kind": "business",
        "replicas": 1,
        "engine": { "name": "golang", "version": "1.14", "size": "small" },
        "envs": { "prod": { "replicas": 70 } }
    })
}

/// `[envs.<env>]`: any key of the top level except `name`,
/// `schema_version` and `envs`, every key optional, plus `unset`.
#[derive(JsonSchema)]
#[schemars(deny_unknown_fields)]
struct Override {
    /// Key paths of the top level to remove before this environment's keys
    /// merge in, e.g. `["env.LOG_LEVEL", "routes.public"]`. Unsetting a
    /// table and setting it again here replaces it instead of merging.
    #[schemars(example = UNSET_EXAMPLE)]
    unset: Option<Vec<String>>,
    /// One line for humans and the dashboard.
    description: Option<String>,
    /// Service class.
    kind: Option<Kind>,
    /// Owning team.
    owner: Option<String>,
    /// Criticality; the prod policy uses it.
    criticality: Option<Criticality>,
    /// Replicas when there is no `[autoscale]`.
    #[schemars(range(min = 0, max = 1000), example = 70)]
    replicas: Option<u32>,
    /// Runtime overrides (all keys optional).
    engine: Option<EngineOverride>,
    /// Ports to add or renumber.
    #[schemars(extend("propertyNames" = { "pattern": PORT_NAME, "maxLength": 15 }))]
    ports: Option<BTreeMap<String, Port>>,
    /// Probe overrides.
    health: Option<Health>,
    /// Autoscaling overrides (keys merge into the top-level `[autoscale]`).
    autoscale: Option<AutoscaleOverride>,
    /// Variables to add or change.
    #[schemars(extend("propertyNames" = { "pattern": POSIX_NAME }))]
    env: Option<BTreeMap<String, EnvValue>>,
    /// Secrets overrides.
    secrets: Option<Secrets>,
    /// Dependencies to add or change.
    #[schemars(extend("propertyNames" = { "pattern": DNS_LABEL, "maxLength": 63 }))]
    dependencies: Option<BTreeMap<String, Dependency>>,
    /// Databases to add or change.
    #[schemars(extend("propertyNames" = { "pattern": DNS_LABEL, "maxLength": 63 }))]
    databases: Option<BTreeMap<String, DatabaseOverride>>,
    /// Routes to add or change.
    #[schemars(extend("propertyNames" = { "pattern": DNS_LABEL, "maxLength": 63 }))]
    routes: Option<BTreeMap<String, RouteOverride>>,
    /// Processes to add or change.
    #[schemars(extend("propertyNames" = { "pattern": DNS_LABEL, "maxLength": 63 }))]
    processes: Option<BTreeMap<String, ProcessOverride>>,
    /// Jobs to add or change.
    #[schemars(extend("propertyNames" = { "pattern": DNS_LABEL, "maxLength": 63 }))]
    jobs: Option<BTreeMap<String, JobOverride>>,
    /// Init jobs to add or change.
    #[schemars(extend("propertyNames" = { "pattern": DNS_LABEL, "maxLength": 63 }))]
    init: Option<BTreeMap<String, Init>>,
    /// Rollout overrides.
    deploy: Option<Deploy>,
    /// Exceptions to add or change.
    exceptions: Option<ExceptionsOverride>,
}

/// Service class.
#[derive(JsonSchema)]
#[serde(rename_all = "kebab-case")]
enum Kind {
    /// A product service (the default).
    Business,
    /// A platform or infrastructure service.
    Infra,
}

/// Criticality of a service.
#[derive(JsonSchema)]
#[serde(rename_all = "kebab-case")]
enum Criticality {
    /// May run with a single replica even in prod.
    Low,
    /// The default.
    Normal,
    /// Business critical.
    High,
}

/// Resource preset name (the platform config may define others).
#[derive(JsonSchema)]
#[serde(rename_all = "kebab-case")]
enum Size {
    /// The smallest preset.
    Xsmall,
    /// The default preset.
    Small,
    /// Medium.
    Medium,
    /// Large.
    Large,
    /// The largest preset.
    Xlarge,
}

/// `[engine]`: the runtime of the main container.
#[derive(JsonSchema)]
#[schemars(deny_unknown_fields)]
struct Engine {
    /// Runtime; known names come from the platform config (built in:
    /// golang, python, node, rust, java, php, generic).
    #[schemars(example = &"golang", example = &"python", example = &"generic")]
    name: String,
    /// Runtime version; picks the base image. Default: the engine's default version.
    #[schemars(example = &"1.22")]
    version: Option<String>,
    /// Resource preset, replaced by recommendations when present.
    #[schemars(extend("default" = "small"))]
    size: Option<Size>,
    /// Explicit image; only for (and required by) the `generic` engine.
    #[schemars(example = &"registry.example.com/team/app:1.0")]
    image: Option<String>,
}

/// `[envs.<env>.engine]`: runtime overrides.
#[derive(JsonSchema)]
#[schemars(deny_unknown_fields)]
struct EngineOverride {
    /// Runtime; known names come from the platform config.
    #[schemars(example = &"golang")]
    name: Option<String>,
    /// Runtime version.
    version: Option<String>,
    /// Resource preset.
    size: Option<Size>,
    /// Explicit image (only for the `generic` engine).
    image: Option<String>,
}

/// A port number.
#[derive(JsonSchema)]
#[schemars(transparent)]
struct Port(#[schemars(range(min = 1, max = 65535), example = 8080)] u16);

/// `[health]`: HTTP probe paths (default: the engine's) and startup allowance.
#[derive(JsonSchema)]
#[schemars(deny_unknown_fields)]
struct Health {
    /// Liveness probe path.
    #[schemars(pattern("^/"), example = &"/healthz")]
    liveness: Option<String>,
    /// Readiness probe path.
    #[schemars(pattern("^/"), example = &"/readyz")]
    readiness: Option<String>,
    /// Startup probe path.
    #[schemars(pattern("^/"), example = &"/healthz")]
    startup: Option<String>,
    /// Seconds allowed to start.
    #[schemars(range(min = 1, max = 3600), extend("default" = 60))]
    startup_seconds: Option<u32>,
}

/// `[autoscale]`: a HorizontalPodAutoscaler on CPU.
#[derive(JsonSchema)]
#[schemars(deny_unknown_fields)]
struct Autoscale {
    /// Minimum replicas.
    #[schemars(range(min = 1, max = 1000), example = 2)]
    min: u32,
    /// Maximum replicas (at least `min`).
    #[schemars(range(min = 1, max = 1000), example = 10)]
    max: u32,
    /// Target average CPU utilisation in percent of the request.
    #[schemars(range(min = 1, max = 100), example = 70)]
    cpu_percent: u32,
}

/// `[envs.<env>.autoscale]`: keys merge into `[autoscale]`.
#[derive(JsonSchema)]
#[schemars(deny_unknown_fields)]
struct AutoscaleOverride {
    /// Minimum replicas.
    #[schemars(range(min = 1, max = 1000))]
    min: Option<u32>,
    /// Maximum replicas (at least `min`).
    #[schemars(range(min = 1, max = 1000))]
    max: Option<u32>,
    /// Target average CPU utilisation in percent of the request.
    #[schemars(range(min = 1, max = 100))]
    cpu_percent: Option<u32>,
}

/// A variable's value: a string, an integer or a boolean (floats must be quoted).
#[derive(JsonSchema)]
#[serde(untagged)]
enum EnvValue {
    /// A string.
    String(String),
    /// An integer, rendered in decimal.
    Integer(i64),
    /// A boolean, rendered as `true` / `false`.
    Boolean(bool),
}

/// `[secrets]`: how the service gets its secrets.
#[derive(JsonSchema)]
#[schemars(deny_unknown_fields)]
struct Secrets {
    /// Wrap the entrypoint with vault2env.
    #[schemars(extend("default" = true))]
    vault: Option<bool>,
    /// Secret names the service expects (documented and checked at start).
    #[schemars(extend("default" = []), example = SECRETS_EXAMPLE)]
    keys: Option<Vec<SecretName>>,
}

/// A POSIX variable name.
#[derive(JsonSchema)]
#[schemars(transparent)]
struct SecretName(#[schemars(pattern(POSIX_NAME))] String);

/// `[dependencies.<service>]`: a service this one calls (may be empty).
#[derive(JsonSchema)]
#[schemars(deny_unknown_fields)]
struct Dependency {
    /// Name of the dependency's port to call.
    #[schemars(pattern(PORT_NAME), length(max = 15), extend("default" = "http"))]
    port: Option<String>,
    /// Client timeout for calls to it, in milliseconds.
    #[schemars(range(min = 1, max = 3_600_000), example = 200)]
    timeout_ms: Option<u32>,
}

/// Database engines the platform provides.
#[derive(JsonSchema)]
#[serde(rename_all = "kebab-case")]
enum DatabaseEngine {
    /// PostgreSQL.
    Postgres,
    /// Redis.
    Redis,
    /// Kafka.
    Kafka,
}

/// `[databases.<name>]`: a database the service uses.
#[derive(JsonSchema)]
#[schemars(deny_unknown_fields)]
struct Database {
    /// Database engine.
    engine: DatabaseEngine,
}

/// `[envs.<env>.databases.<name>]`.
#[derive(JsonSchema)]
#[schemars(deny_unknown_fields)]
struct DatabaseOverride {
    /// Database engine.
    engine: Option<DatabaseEngine>,
}

/// `[routes.<name>]`: an external host.
#[derive(JsonSchema)]
#[schemars(deny_unknown_fields)]
struct Route {
    /// External host name (lowercase DNS name, may start with `*.`).
    #[schemars(example = &"wordcounter.example.com")]
    host: String,
    /// Path prefix.
    #[schemars(pattern("^/"), extend("default" = "/"))]
    path: Option<String>,
}

/// `[envs.<env>.routes.<name>]`.
#[derive(JsonSchema)]
#[schemars(deny_unknown_fields)]
struct RouteOverride {
    /// External host name.
    host: Option<String>,
    /// Path prefix.
    #[schemars(pattern("^/"))]
    path: Option<String>,
}

/// A command line (argv), not empty.
#[derive(JsonSchema)]
#[schemars(transparent)]
struct Command(#[schemars(length(min = 1), example = COMMAND_EXAMPLE)] Vec<String>);

/// `[processes.<name>]`: an extra long-running process.
#[derive(JsonSchema)]
#[schemars(deny_unknown_fields)]
struct Process {
    /// Command line.
    command: Command,
    /// Replicas.
    #[schemars(range(min = 0, max = 1000), extend("default" = 1))]
    replicas: Option<u32>,
    /// Resource preset. Default: the engine's size.
    size: Option<Size>,
}

/// `[envs.<env>.processes.<name>]`.
#[derive(JsonSchema)]
#[schemars(deny_unknown_fields)]
struct ProcessOverride {
    /// Command line.
    command: Option<Command>,
    /// Replicas.
    #[schemars(range(min = 0, max = 1000))]
    replicas: Option<u32>,
    /// Resource preset.
    size: Option<Size>,
}

/// `[jobs.<name>]`: a scheduled job.
#[derive(JsonSchema)]
#[schemars(deny_unknown_fields)]
struct Job {
    /// Five-field cron expression (minute hour day-of-month month
    /// day-of-week) or a macro (`@hourly`, `@daily`, `@weekly`, `@monthly`,
    /// `@yearly`, `@annually`, `@midnight`).
    #[schemars(example = &"30 3 * * *", example = &"@daily")]
    schedule: String,
    /// Command line.
    command: Command,
    /// Deadline of each run, in seconds.
    #[schemars(range(min = 1, max = 604_800), example = 3600)]
    deadline_seconds: Option<u32>,
}

/// `[envs.<env>.jobs.<name>]`.
#[derive(JsonSchema)]
#[schemars(deny_unknown_fields)]
struct JobOverride {
    /// Cron expression or macro.
    schedule: Option<String>,
    /// Command line.
    command: Option<Command>,
    /// Deadline of each run, in seconds.
    #[schemars(range(min = 1, max = 604_800))]
    deadline_seconds: Option<u32>,
}

/// `[init.<name>]`: a Job run before the new version starts.
#[derive(JsonSchema)]
#[schemars(deny_unknown_fields)]
struct Init {
    /// Command line.
    command: Command,
}

/// Rollout strategies.
#[derive(JsonSchema)]
#[serde(rename_all = "kebab-case")]
enum Strategy {
    /// New version beside the old one, switch, delete the old.
    Simple,
    /// One Deployment updated in place.
    Rolling,
    /// New beside old, traffic stepped through the canary weights.
    Canary,
    /// `simple` with a manual gate before the switch.
    BlueGreen,
}

/// `[deploy]`: rollout defaults.
#[derive(JsonSchema)]
#[schemars(deny_unknown_fields)]
struct Deploy {
    /// Default rollout strategy.
    #[schemars(extend("default" = "simple"))]
    strategy: Option<Strategy>,
    /// Canary weights in percent, strictly increasing.
    #[schemars(length(min = 1), extend("default" = [5, 25, 50]))]
    canary_steps: Option<Vec<CanaryStep>>,
}

/// A canary weight in percent.
#[derive(JsonSchema)]
#[schemars(transparent)]
struct CanaryStep(#[schemars(range(min = 1, max = 99))] u8);

/// `[exceptions.<rule>]`, one table per hardening rule.
#[derive(JsonSchema)]
#[schemars(deny_unknown_fields)]
struct Exceptions {
    /// Allow writes to the root filesystem.
    #[serde(rename = "read-only-root-filesystem")]
    read_only_root_filesystem: Option<Exception>,
    /// Allow running as root.
    #[serde(rename = "run-as-non-root")]
    run_as_non_root: Option<Exception>,
    /// Keep the default Linux capabilities.
    #[serde(rename = "drop-all-capabilities")]
    drop_all_capabilities: Option<Exception>,
    /// Set no CPU limit.
    #[serde(rename = "cpu-limit")]
    cpu_limit: Option<Exception>,
    /// Open egress (no default-deny NetworkPolicy for egress).
    #[serde(rename = "default-deny-egress")]
    default_deny_egress: Option<Exception>,
    /// Allow fewer than the prod minimum of replicas.
    #[serde(rename = "min-prod-replicas")]
    min_prod_replicas: Option<Exception>,
}

/// `[envs.<env>.exceptions.<rule>]`.
#[derive(JsonSchema)]
#[schemars(deny_unknown_fields)]
struct ExceptionsOverride {
    /// Allow writes to the root filesystem.
    #[serde(rename = "read-only-root-filesystem")]
    read_only_root_filesystem: Option<ExceptionOverride>,
    /// Allow running as root.
    #[serde(rename = "run-as-non-root")]
    run_as_non_root: Option<ExceptionOverride>,
    /// Keep the default Linux capabilities.
    #[serde(rename = "drop-all-capabilities")]
    drop_all_capabilities: Option<ExceptionOverride>,
    /// Set no CPU limit.
    #[serde(rename = "cpu-limit")]
    cpu_limit: Option<ExceptionOverride>,
    /// Open egress.
    #[serde(rename = "default-deny-egress")]
    default_deny_egress: Option<ExceptionOverride>,
    /// Allow fewer than the prod minimum of replicas.
    #[serde(rename = "min-prod-replicas")]
    min_prod_replicas: Option<ExceptionOverride>,
}

/// An opt-out of one hardening rule; expired exceptions are errors.
#[derive(JsonSchema)]
#[schemars(deny_unknown_fields)]
struct Exception {
    /// Why the service needs it.
    #[schemars(length(min = 1), example = &"the vendor image starts as root; ticket PG-5521")]
    reason: String,
    /// Last day the exception is valid: a TOML local date or a "YYYY-MM-DD" string.
    expires: Expiry,
}

/// `[envs.<env>.exceptions.<rule>]`.
#[derive(JsonSchema)]
#[schemars(deny_unknown_fields)]
struct ExceptionOverride {
    /// Why the service needs it.
    #[schemars(length(min = 1))]
    reason: Option<String>,
    /// Last day the exception is valid.
    expires: Option<Expiry>,
}

/// A date, `2027-03-31` (TOML local date) or `"2027-03-31"`.
#[derive(JsonSchema)]
#[schemars(transparent)]
struct Expiry(
    #[schemars(pattern(DATE), extend("format" = "date"), example = &"2027-03-31")] String,
);
