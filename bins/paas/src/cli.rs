//! Command-line arguments (clap derive). The option names are a contract.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand, ValueEnum};

/// paas: render, deploy, roll back and sync services described by app.toml.
#[derive(Debug, Parser)]
#[command(name = "paas", version, about)]
pub(crate) struct Cli {
    #[command(flatten)]
    pub(crate) global: Global,
    #[command(subcommand)]
    pub(crate) command: Command,
}

/// Options every command takes.
#[derive(Debug, Args)]
pub(crate) struct Global {
    /// Path of the service's app.toml.
    #[arg(long, global = true, default_value = "app.toml", value_name = "PATH")]
    pub(crate) app: PathBuf,
    /// Platform config (default: the built-in one).
    #[arg(long, global = true, env = "PAAS_PLATFORM", value_name = "PATH")]
    pub(crate) platform: Option<PathBuf>,
    /// Service name when app.toml has no `name` (default: the app.toml's directory name).
    #[arg(long, global = true, value_name = "NAME")]
    pub(crate) service: Option<String>,
    /// Output format of data on stdout.
    #[arg(short = 'o', long = "output", global = true, value_enum)]
    pub(crate) output: Option<Output>,
    /// When to use colors on stderr (`NO_COLOR` is honoured).
    #[arg(long, global = true, value_enum, default_value = "auto")]
    pub(crate) color: ColorChoice,
    /// Answer yes to confirmations.
    #[arg(short = 'y', long, global = true)]
    pub(crate) yes: bool,
    /// More messages on stderr.
    #[arg(short = 'v', long, global = true)]
    pub(crate) verbose: bool,
}

impl Global {
    /// Whether to color stderr: `--color`, then `NO_COLOR`, then whether stderr is a terminal.
    pub(crate) fn color(&self) -> bool {
        use std::io::IsTerminal;
        match self.color {
            ColorChoice::Always => true,
            ColorChoice::Never => false,
            ColorChoice::Auto => {
                std::env::var_os("NO_COLOR").is_none_or(|v| v.is_empty())
                    && std::io::stderr().is_terminal()
            }
        }
    }
}

/// Output formats.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub(crate) enum Output {
    /// Human text (tables).
    Text,
    /// JSON.
    Json,
    /// YAML.
    Yaml,
}

/// `--color`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub(crate) enum ColorChoice {
    /// Color when stderr is a terminal and `NO_COLOR` is unset.
    Auto,
    /// Always color.
    Always,
    /// Never color.
    Never,
}

/// Subcommands.
#[derive(Debug, Subcommand)]
pub(crate) enum Command {
    /// Print the Kubernetes manifests of the service for one environment and cluster.
    Render(RenderArgs),
    /// Print a JSON Schema.
    Schema(SchemaArgs),
    /// Check app.toml in every environment and the repository's Brief schemas.
    Lint(LintArgs),
    /// The dependency graph of the services of a corpus in one environment.
    Deps(DepsArgs),
    /// Generate the code of the service's Brief schema and of its client contracts.
    Codegen(CodegenArgs),
    /// Deploy a service and look at its releases.
    #[command(subcommand)]
    Service(ServiceCommand),
    /// Bring every cluster of ENV in line with the authoritative release of every service.
    Sync(SyncArgs),
    /// Size the service's containers from their usage.
    #[command(subcommand)]
    Resources(ResourcesCommand),
    /// Print the `Release` CustomResourceDefinition (YAML, or JSON with `-o json`).
    Crd,
    /// Print shell completions.
    Completions {
        /// The shell.
        shell: clap_complete::Shell,
    },
}

/// `paas render`.
#[derive(Debug, Args)]
pub(crate) struct RenderArgs {
    /// Environment (`prod`, `staging`, `dev`, `local`, ...).
    #[arg(short = 'e', long = "env", value_name = "ENV")]
    pub(crate) env: String,
    /// Cluster (default: the environment's first cluster).
    #[arg(long, value_name = "C")]
    pub(crate) cluster: Option<String>,
    /// Release version, `vN` (default `v1`).
    #[arg(long, value_name = "vN", default_value = "v1", value_parser = parse_version)]
    pub(crate) version: u32,
    /// Image tag (default: the short commit hash of the repository holding app.toml, else `dev`).
    #[arg(long, value_name = "T")]
    pub(crate) image_tag: Option<String>,
    /// Rollout strategy (default: the app's `[deploy] strategy`).
    #[arg(long, value_name = "S", value_parser = parse_strategy)]
    pub(crate) strategy: Option<app_toml::Strategy>,
    /// Show, for each configured value, where it came from, instead of the manifests.
    #[arg(long)]
    pub(crate) explain: bool,
    /// Recommendations file to use in place of size presets (default: `resources.toml` beside app.toml, when present).
    #[arg(long, value_name = "FILE")]
    pub(crate) recommendations: Option<PathBuf>,
    /// Print a test copy `<svc>-<ID>` (what `deploy --test-copy ID` applies), expiring in 24h, instead of a release.
    #[arg(long, value_name = "ID", conflicts_with_all = ["explain", "strategy"])]
    pub(crate) test_copy: Option<String>,
}

/// `paas resources ...`.
#[derive(Debug, Subcommand)]
pub(crate) enum ResourcesCommand {
    /// Recommend requests and limits per container from usage series; print current vs recommended and write the recommendations file.
    Recommend(RecommendArgs),
}

/// `paas resources recommend`.
#[derive(Debug, Args)]
pub(crate) struct RecommendArgs {
    /// Usage series: Prometheus range-query JSON, or CSV `timestamp,container,cpu_cores,memory_bytes[,network_mbps]`.
    #[arg(long, value_name = "FILE")]
    pub(crate) usage: PathBuf,
    /// The recommendations file to write (default: `resources.toml` beside app.toml).
    #[arg(long, value_name = "FILE")]
    pub(crate) out: Option<PathBuf>,
    /// Environment whose size presets are the current values (default: `prod`, else the first environment).
    #[arg(short = 'e', long = "env", value_name = "ENV")]
    pub(crate) env: Option<String>,
}

/// `paas service ...`.
#[derive(Debug, Subcommand)]
pub(crate) enum ServiceCommand {
    /// Create a ready service repository (a wizard on a terminal; flags for CI).
    Create(CreateArgs),
    /// Render for every cluster of ENV, dry-run, confirm and roll out a new release.
    Deploy(DeployArgs),
    /// Roll back to an earlier release (as a new release): list, show what changes, confirm.
    Rollback(RollbackArgs),
    /// Set the weight of the canary in flight (default: its next canary step).
    Canary(CanaryArgs),
    /// Pass the gate the release in flight waits at, or take its canary to 100% and finish.
    Promote(EnvArgs),
    /// Stop the release in flight before the point of no return: the new version is removed.
    Abort(EnvArgs),
    /// The current release in every cluster of ENV, its phase, stage and health.
    Status(EnvArgs),
    /// What a deploy would change in every cluster, object by object (exit 1 when anything would).
    Diff(DiffArgs),
    /// The releases of the service in ENV, newest first.
    History(EnvArgs),
    /// Remove a test copy (`deploy --test-copy ID`) and its route; exit 0 when removed or absent.
    DeleteCopy(DeleteCopyArgs),
}

/// `paas service create`.
#[derive(Debug, Args)]
pub(crate) struct CreateArgs {
    /// Service name (asked on a terminal when missing).
    #[arg(long, value_name = "N")]
    pub(crate) name: Option<String>,
    /// Language template (asked on a terminal when missing).
    #[arg(long, value_enum, value_name = "T")]
    pub(crate) template: Option<Template>,
    /// Owning team (asked on a terminal when missing).
    #[arg(long, value_name = "TEAM")]
    pub(crate) owner: Option<String>,
    /// Directory to create the repository in (default: `./<name>`); must not exist or be empty.
    #[arg(long, value_name = "DIR")]
    pub(crate) dir: Option<PathBuf>,
}

/// Templates of `paas service create`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub(crate) enum Template {
    /// Go (engine `golang`).
    Golang,
    /// Rust (engine `rust`).
    Rust,
    /// Python (engine `python`).
    Python,
    /// Node.js (engine `node`).
    Node,
}

/// `paas service deploy`.
#[derive(Debug, Args)]
pub(crate) struct DeployArgs {
    /// Environment (`prod`, `staging`, `dev`, `local`, ...).
    #[arg(short = 'e', long = "env", value_name = "ENV")]
    pub(crate) env: String,
    /// Rollout strategy (default: the app's `[deploy] strategy`).
    #[arg(long, value_name = "S", value_parser = parse_strategy)]
    pub(crate) strategy: Option<app_toml::Strategy>,
    /// Image tag (default: the short commit hash of the repository holding app.toml, else `dev`).
    #[arg(long, value_name = "T")]
    pub(crate) image_tag: Option<String>,
    /// Stop after each stage until promoted (asked on the terminal).
    #[arg(long)]
    pub(crate) manual: bool,
    /// Only render and dry-run in every cluster; print what would change.
    #[arg(long)]
    pub(crate) dry_run: bool,
    /// Deploy a test copy `<svc>-<ID>` reached only with the header `X-Route: <ID>` (not a release).
    #[arg(long, value_name = "ID", conflicts_with_all = ["strategy", "manual"])]
    pub(crate) test_copy: Option<String>,
    /// How long the test copy lives (`24h`, `90m`, `2d`; default 24h).
    #[arg(long, value_name = "DURATION", requires = "test_copy")]
    pub(crate) ttl: Option<String>,
}

/// `paas service delete-copy`.
#[derive(Debug, Args)]
pub(crate) struct DeleteCopyArgs {
    /// Environment (`staging`, `dev`, `local`, ...).
    #[arg(short = 'e', long = "env", value_name = "ENV")]
    pub(crate) env: String,
    /// The test copy's ID.
    #[arg(value_name = "ID")]
    pub(crate) id: String,
}

/// `paas service rollback`.
#[derive(Debug, Args)]
pub(crate) struct RollbackArgs {
    /// Environment (`prod`, `staging`, `dev`, `local`, ...).
    #[arg(short = 'e', long = "env", value_name = "ENV")]
    pub(crate) env: String,
    /// The release to go back to (default: the newest earlier release that served something else).
    #[arg(long, value_name = "vN", value_parser = parse_version)]
    pub(crate) to: Option<u32>,
    /// Replay the target's stored manifests instead of regenerating them with today's platform config.
    #[arg(long)]
    pub(crate) no_regenerate: bool,
    /// Only build the rollback and dry-run it in every cluster; nothing changes.
    #[arg(long)]
    pub(crate) dry_run: bool,
}

/// `paas service diff`.
#[derive(Debug, Args)]
pub(crate) struct DiffArgs {
    /// Environment (`prod`, `staging`, `dev`, `local`, ...).
    #[arg(short = 'e', long = "env", value_name = "ENV")]
    pub(crate) env: String,
    /// Rollout strategy (default: the app's `[deploy] strategy`).
    #[arg(long, value_name = "S", value_parser = parse_strategy)]
    pub(crate) strategy: Option<app_toml::Strategy>,
    /// Image tag (default: the short commit hash of the repository holding app.toml, else `dev`).
    #[arg(long, value_name = "T")]
    pub(crate) image_tag: Option<String>,
}

/// `paas sync`.
#[derive(Debug, Args)]
pub(crate) struct SyncArgs {
    /// Environment (`prod`, `staging`, `dev`, `local`, ...).
    #[arg(short = 'e', long = "env", value_name = "ENV")]
    pub(crate) env: String,
    /// Only print what sync would do; nothing changes.
    #[arg(long)]
    pub(crate) dry_run: bool,
}

/// `paas service canary`.
#[derive(Debug, Args)]
pub(crate) struct CanaryArgs {
    /// Environment (`prod`, `staging`, `dev`, `local`, ...).
    #[arg(short = 'e', long = "env", value_name = "ENV")]
    pub(crate) env: String,
    /// Percent of the traffic for the canary, 1..=100 (100 promotes); default: the next canary step.
    #[arg(short = 'p', long = "percent", value_name = "PERCENT", value_parser = clap::value_parser!(u8).range(1..=100))]
    pub(crate) percent: Option<u8>,
}

/// Commands that only take an environment.
#[derive(Debug, Args)]
pub(crate) struct EnvArgs {
    /// Environment (`prod`, `staging`, `dev`, `local`, ...).
    #[arg(short = 'e', long = "env", value_name = "ENV")]
    pub(crate) env: String,
}

/// `paas codegen`.
#[derive(Debug, Args)]
pub(crate) struct CodegenArgs {
    /// Output directory (default: `src/brief` beside app.toml).
    #[arg(long, value_name = "DIR")]
    pub(crate) out: Option<PathBuf>,
    /// Target language.
    #[arg(long, value_enum, default_value = "rust")]
    pub(crate) lang: Lang,
    /// Do not run rustfmt over the generated Rust.
    #[arg(long)]
    pub(crate) no_rustfmt: bool,
}

/// Targets of `paas codegen`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub(crate) enum Lang {
    /// Rust (serde types, server trait and axum router, Brief-RPC/1 clients).
    Rust,
    /// proto3.
    Proto,
}

/// `paas deps`.
#[derive(Debug, Args)]
pub(crate) struct DepsArgs {
    /// Environment (`prod`, `staging`, `dev`, `local`, ...).
    #[arg(short = 'e', long = "env", value_name = "ENV")]
    pub(crate) env: String,
    /// Directory of app.toml files (`<svc>/app.toml` or `<svc>.toml`), searched recursively.
    #[arg(long, value_name = "DIR")]
    pub(crate) corpus: PathBuf,
    /// Only answer who calls this service, directly and through others.
    #[arg(long, value_name = "SVC")]
    pub(crate) who_calls: Option<String>,
    /// Print the graph in Graphviz dot.
    #[arg(long, conflicts_with = "who_calls")]
    pub(crate) dot: bool,
}

/// `paas lint`.
#[derive(Debug, Args)]
pub(crate) struct LintArgs {
    /// Directory of the called services' own schemas (`<service>.brief`): check each client contract against its server.
    #[arg(long, value_name = "DIR")]
    pub(crate) schemas: Option<PathBuf>,
}

/// `paas schema`.
#[derive(Debug, Args)]
pub(crate) struct SchemaArgs {
    /// Which schema.
    #[arg(value_enum)]
    pub(crate) which: SchemaKind,
}

/// Schemas `paas schema` prints.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub(crate) enum SchemaKind {
    /// The app.toml format.
    AppToml,
}

fn parse_version(s: &str) -> Result<u32, String> {
    let digits = s.strip_prefix('v').unwrap_or(s);
    match digits.parse::<u32>() {
        Ok(n) if n >= 1 => Ok(n),
        _ => Err(format!(
            "`{s}` is not a release version; expected `v1`, `v2`, ..."
        )),
    }
}

fn parse_strategy(s: &str) -> Result<app_toml::Strategy, String> {
    app_toml::Strategy::from_name(s).ok_or_else(|| {
        format!("unknown strategy `{s}`; expected one of simple, rolling, canary, blue-green")
    })
}

#[cfg(test)]
mod tests {
    #[test]
    fn command_definition_is_consistent() {
        <super::Cli as clap::CommandFactory>::command().debug_assert();
    }
}
