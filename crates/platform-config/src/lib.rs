//! The platform config: everything about a service's manifests that is not
//! specific to the service.
//!
//! The platform team owns one `platform.toml` (registry, engines, size
//! presets, environments and their clusters, sidecars, labels, the balancing
//! mode, policies, checkov skips with reasons). A built-in default is
//! compiled in ([`Platform::builtin`]); `paas --platform PATH` and the
//! `PAAS_PLATFORM` variable replace it. A change to this file changes every
//! service's manifests at its next render: that is the point.
//!
//! **Architecture Invariant:** this crate is pure: it parses text it is
//! given and never reads files or the environment itself.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

/// The built-in platform config, as TOML text.
pub const BUILTIN_TOML: &str = include_str!("../platform.toml");

/// Errors of loading a platform config.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Error {
    /// The text is not valid TOML or does not match the format; the message
    /// names the line, column and key.
    #[error("{file}: {message}")]
    Syntax {
        /// File name for the message.
        file: String,
        /// What toml reported, with position and key.
        message: String,
    },
    /// The file parses but is inconsistent.
    #[error("{file}: {path}: {message}")]
    Invalid {
        /// File name for the message.
        file: String,
        /// Key path of the problem.
        path: String,
        /// What is wrong.
        message: String,
    },
}

/// How traffic is switched to the live version.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Balancing {
    /// The stable Service selects the live version's pods.
    Selector,
    /// An HTTPRoute (Gateway API) with weighted backends per version.
    GatewayApi,
}

/// The CPU limit policy.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum CpuLimitPolicy {
    /// Every container gets its size preset's `cpu_limit`.
    FromSize,
    /// No CPU limit (requests only).
    None,
}

/// How dependency addresses are formed in an environment.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum DependencyAddressing {
    /// `http://<dep>.<dep>.svc.<cluster_domain>[:port]`: the dependency's stable Service.
    ClusterDns,
    /// `http://localhost:<port>` with ports from `local_ports`.
    Localhost,
}

/// The whole platform config.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Platform {
    /// Human version of this config (e.g. `2026.11.0`).
    pub version: String,
    /// Kubernetes minor version the manifests target (`1.33`).
    pub kubernetes_version: String,
    /// Image registry: images are `<registry>/<service>:<tag>`.
    pub registry: String,
    /// Cluster DNS domain (`cluster.local`).
    pub cluster_domain: String,
    /// How traffic reaches the live version.
    pub balancing: Balancing,
    /// Vault settings for vault2env.
    pub vault: VaultConfig,
    /// Labels added to every object.
    #[serde(default)]
    pub labels: BTreeMap<String, String>,
    /// Annotations added to every object.
    #[serde(default)]
    pub annotations: BTreeMap<String, String>,
    /// Pod-level settings.
    pub pod: PodConfig,
    /// Policies.
    pub policy: PolicyConfig,
    /// Network policy settings.
    pub network: NetworkConfig,
    /// External routes (Ingress) settings.
    pub routes: RoutesConfig,
    /// Gateway API settings (used when `balancing = "gateway-api"`).
    pub gateway: GatewayConfig,
    /// Platform-wide Service port numbers of named ports (`http` is always 80).
    #[serde(default)]
    pub service_ports: BTreeMap<String, u16>,
    /// Runtimes by name.
    pub engines: BTreeMap<String, EngineConfig>,
    /// Resource presets by name.
    pub sizes: BTreeMap<String, SizeConfig>,
    /// Database engines (`postgres`, `redis`, `kafka`) and how to reach them.
    #[serde(default)]
    pub databases: BTreeMap<String, DatabaseConfig>,
    /// Environments by name, in the order of the file.
    pub environments: BTreeMap<String, EnvironmentConfig>,
    /// Containers added to every pod (e.g. a mesh proxy).
    #[serde(default)]
    pub sidecars: BTreeMap<String, SidecarConfig>,
    /// checkov checks the platform deliberately does not satisfy, with reasons.
    #[serde(default)]
    pub checkov_skips: Vec<CheckovSkip>,
    /// [`Platform::version_id`], computed on first use.
    #[serde(skip)]
    id_cache: IdCache,
}

/// A cache of the version id that never takes part in comparisons and is
/// not carried over by `clone` (a clone may be changed before its first use).
#[derive(Debug, Default)]
struct IdCache(std::sync::OnceLock<String>);

impl Clone for IdCache {
    fn clone(&self) -> Self {
        IdCache::default()
    }
}

impl PartialEq for IdCache {
    fn eq(&self, _other: &Self) -> bool {
        true
    }
}

impl Eq for IdCache {}

/// `[vault]`: how vault2env reaches Vault.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct VaultConfig {
    /// `VAULT_ADDR` given to vault2env.
    pub address: String,
    /// KV mount (`secret`).
    pub kv_mount: String,
    /// Kubernetes auth mount (`kubernetes`).
    pub auth_mount: String,
    /// Where the projected `vault`-audience token is mounted.
    pub token_path: String,
    /// Lifetime of the projected token.
    pub token_expiration_seconds: i64,
    /// Namespace Vault runs in; egress to it is allowed.
    pub namespace: String,
}

/// `[pod]`: settings of every pod.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PodConfig {
    /// preStop sleep, so endpoints are removed before SIGTERM.
    pub prestop_sleep_seconds: i64,
    /// Time the service has after SIGTERM.
    pub shutdown_seconds: i64,
    /// Size limit of the `/tmp` emptyDir.
    pub tmp_size: String,
    /// UID of every container (> 10000).
    pub run_as_user: i64,
    /// GID of every container.
    pub run_as_group: i64,
    /// Probe period.
    pub probe_period_seconds: i32,
    /// Zone topology key for spreading.
    pub zone_topology_key: String,
    /// Host topology key for spreading.
    pub host_topology_key: String,
    /// `maxSurge` of RollingUpdate.
    pub max_surge: String,
}

/// `[policy]`: platform policies.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PolicyConfig {
    /// CPU limit policy.
    pub cpu_limit: CpuLimitPolicy,
    /// Extended network resource name; absent means no extended resource.
    pub network_resource: Option<String>,
}

/// `[network]`: NetworkPolicy settings.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NetworkConfig {
    /// Namespaces allowed to reach every service (ingress controller, mesh).
    pub ingress_namespaces: Vec<String>,
    /// Namespace allowed to scrape metrics.
    pub monitoring_namespace: String,
    /// Namespace of cluster DNS.
    pub dns_namespace: String,
}

/// `[routes]`: Ingress settings.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RoutesConfig {
    /// `ingressClassName`.
    pub ingress_class: String,
    /// cert-manager cluster issuer; absent means no TLS.
    pub cluster_issuer: Option<String>,
}

/// `[gateway]`: the parent Gateway of HTTPRoutes.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct GatewayConfig {
    /// Gateway name.
    pub name: String,
    /// Gateway namespace.
    pub namespace: String,
}

/// `[engines.<name>]`: a runtime.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EngineConfig {
    /// Version used when app.toml gives none.
    pub default_version: String,
    /// Default `http` port.
    pub port: u16,
    /// Entrypoint command; empty means the image's own.
    pub command: Vec<String>,
    /// Default liveness path.
    pub liveness: String,
    /// Default readiness path.
    pub readiness: String,
    /// Default startup path.
    pub startup: String,
    /// Path Prometheus scrapes.
    pub metrics_path: String,
    /// Base image per version (informational; recorded as an annotation).
    #[serde(default)]
    pub base_images: BTreeMap<String, String>,
}

/// `[sizes.<name>]`: a resource preset.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SizeConfig {
    /// CPU request (Kubernetes quantity).
    pub cpu: String,
    /// Memory request = limit (Kubernetes quantity).
    pub memory: String,
    /// CPU limit when the policy is `from-size`.
    pub cpu_limit: String,
    /// Network extended resource, Mbit/s.
    pub network_mbps: u32,
}

/// `[databases.<engine>]`: where a database engine lives.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DatabaseConfig {
    /// Host template: `{service}`, `{database}`, `{env}`, `{cluster_domain}` are replaced.
    pub host: String,
    /// Port.
    pub port: u16,
    /// Namespace the database runs in (egress is allowed to it).
    pub namespace: String,
}

/// `[environments.<name>]`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EnvironmentConfig {
    /// Clusters, in order; the first is the default of `paas render`.
    pub clusters: Vec<ClusterConfig>,
    /// How dependency addresses are formed.
    pub dependencies: DependencyAddressing,
    /// Minimum replicas (unless `criticality = "low"`).
    pub min_replicas: Option<u32>,
    /// Localhost ports of dependencies (for `dependencies = "localhost"`).
    #[serde(default)]
    pub local_ports: BTreeMap<String, u16>,
    /// Whether `paas service deploy --test-copy` may deploy test copies
    /// here; unset means yes, except in an environment named `prod` (see
    /// [`EnvironmentConfig::test_copies_allowed`]).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub test_copies: Option<bool>,
}

/// One cluster of an environment.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ClusterConfig {
    /// Cluster name (`prod-a`).
    pub name: String,
    /// `context:<kubeconfig context>`, `in-cluster`, or `sim://<name>`.
    pub address: String,
}

/// `[sidecars.<name>]`: a container added to every pod.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SidecarConfig {
    /// Full image reference.
    pub image: String,
    /// Arguments.
    #[serde(default)]
    pub args: Vec<String>,
    /// Port of its health endpoint.
    pub health_port: u16,
    /// Path of its health endpoint.
    pub health_path: String,
    /// Size preset name for its resources.
    pub size: String,
}

/// A checkov check skipped platform-wide, with its reason.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CheckovSkip {
    /// Check id (`CKV_K8S_43`).
    pub id: String,
    /// Why the platform does not satisfy it.
    pub reason: String,
}

impl Platform {
    /// The built-in default platform config.
    pub fn builtin() -> Platform {
        // The built-in text is tested to parse and validate (see tests.rs).
        #[allow(clippy::expect_used)]
        Platform::from_toml(BUILTIN_TOML, "<built-in platform.toml>")
            .expect("the built-in platform.toml is valid")
    }

    /// Parses and validates a platform config. `file` names it in errors.
    pub fn from_toml(text: &str, file: &str) -> Result<Platform, Error> {
        let platform: Platform = toml::from_str(text).map_err(|e| Error::Syntax {
            file: file.to_owned(),
            message: e.to_string().trim_end().to_owned(),
        })?;
        platform.validate(file)?;
        Ok(platform)
    }

    fn validate(&self, file: &str) -> Result<(), Error> {
        let invalid = |path: String, message: String| Error::Invalid {
            file: file.to_owned(),
            path,
            message,
        };
        if self.environments.is_empty() {
            return Err(invalid(
                "environments".into(),
                "at least one environment is required".into(),
            ));
        }
        for (name, env) in &self.environments {
            if env.clusters.is_empty() {
                return Err(invalid(
                    format!("environments.{name}.clusters"),
                    "an environment needs at least one cluster".into(),
                ));
            }
            let mut seen = std::collections::BTreeSet::new();
            for c in &env.clusters {
                if !is_dns_label(&c.name, 63) {
                    return Err(invalid(
                        format!("environments.{name}.clusters"),
                        format!("cluster name `{}` is not a DNS-1123 label", c.name),
                    ));
                }
                if !seen.insert(&c.name) {
                    return Err(invalid(
                        format!("environments.{name}.clusters"),
                        format!("cluster `{}` is listed twice", c.name),
                    ));
                }
            }
        }
        for (name, size) in &self.sizes {
            for (key, q) in [
                ("cpu", &size.cpu),
                ("memory", &size.memory),
                ("cpu_limit", &size.cpu_limit),
            ] {
                if !is_quantity(q) {
                    return Err(invalid(
                        format!("sizes.{name}.{key}"),
                        format!("`{q}` is not a Kubernetes quantity (e.g. `250m`, `1`, `512Mi`)"),
                    ));
                }
            }
        }
        if !is_quantity(&self.pod.tmp_size) {
            return Err(invalid(
                "pod.tmp_size".into(),
                format!("`{}` is not a Kubernetes quantity", self.pod.tmp_size),
            ));
        }
        if self.pod.run_as_user <= 10000 {
            return Err(invalid(
                "pod.run_as_user".into(),
                "must be above 10000 so it never maps to a host user".into(),
            ));
        }
        for (name, sidecar) in &self.sidecars {
            if !self.sizes.contains_key(&sidecar.size) {
                return Err(invalid(
                    format!("sidecars.{name}.size"),
                    format!("unknown size `{}`", sidecar.size),
                ));
            }
        }
        for engine in ["postgres", "redis", "kafka"] {
            if !self.databases.contains_key(engine) {
                return Err(invalid(
                    format!("databases.{engine}"),
                    "every database engine of app.toml needs an entry".into(),
                ));
            }
        }
        if self.engines.is_empty() {
            return Err(invalid(
                "engines".into(),
                "at least one engine is required".into(),
            ));
        }
        if self.service_ports.contains_key("http") {
            return Err(invalid(
                "service_ports.http".into(),
                "`http` is always port 80 and cannot be set".into(),
            ));
        }
        Ok(())
    }

    /// The identity of this config: its `version` plus a hash of its content,
    /// so two different files never share a version string. Computed once per
    /// value: change a platform through a `clone` (which starts afresh), not
    /// in place after this was called.
    pub fn version_id(&self) -> String {
        self.id_cache
            .0
            .get_or_init(|| {
                // Hash the canonical JSON form, so formatting and comments do not count.
                let canonical = serde_json::to_string(self).unwrap_or_default();
                format!("{}+{:016x}", self.version, fnv1a64(canonical.as_bytes()))
            })
            .clone()
    }

    /// The app.toml vocabulary this platform allows, with `today` for exception expiry.
    pub fn vocabulary(&self, today: app_toml::Date) -> app_toml::Vocabulary {
        app_toml::Vocabulary {
            engines: self.engines.keys().cloned().collect(),
            sizes: self.sizes.keys().cloned().collect(),
            environments: self.environments.keys().cloned().collect(),
            today,
        }
    }

    /// The environment config, or an error naming the known ones.
    pub fn environment(&self, name: &str) -> Option<&EnvironmentConfig> {
        self.environments.get(name)
    }

    /// Platform-wide Service port number of a named port (`http` is 80).
    pub fn service_port(&self, name: &str) -> Option<u16> {
        if name == "http" {
            Some(80)
        } else {
            self.service_ports.get(name).copied()
        }
    }
}

impl EnvironmentConfig {
    /// Whether test copies may be deployed in this environment, named
    /// `name`: `test_copies` when set, else everywhere but `prod`.
    pub fn test_copies_allowed(&self, name: &str) -> bool {
        self.test_copies.unwrap_or(name != "prod")
    }

    /// The localhost port of a dependency in this environment: the
    /// configured one, else `20000 + fnv1a(name) % 10000` so every service
    /// agrees on it without coordination.
    pub fn local_port(&self, service: &str) -> u16 {
        self.local_ports
            .get(service)
            .copied()
            .unwrap_or_else(|| 20000 + (fnv1a64(service.as_bytes()) % 10000) as u16)
    }
}

/// FNV-1a, 64 bit: a stable, dependency-free content hash (not for security).
pub fn fnv1a64(bytes: &[u8]) -> u64 {
    let mut hash: u64 = 0xcbf2_9ce4_8422_2325;
    for b in bytes {
        hash ^= u64::from(*b);
        hash = hash.wrapping_mul(0x0000_0100_0000_01b3);
    }
    hash
}

/// Whether `s` is a DNS-1123 label of at most `max` characters.
pub fn is_dns_label(s: &str, max: usize) -> bool {
    !s.is_empty()
        && s.len() <= max
        && s.bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
        && !s.starts_with('-')
        && !s.ends_with('-')
}

/// Whether `s` is a Kubernetes resource quantity (`250m`, `1.5`, `512Mi`, `1e3`).
pub fn is_quantity(s: &str) -> bool {
    let num_end = s
        .find(|c: char| !(c.is_ascii_digit() || c == '.' || c == '+' || c == '-'))
        .unwrap_or(s.len());
    let (num, suffix) = s.split_at(num_end);
    let num_ok =
        !num.is_empty() && num.chars().any(|c| c.is_ascii_digit()) && num.parse::<f64>().is_ok();
    let suffix_ok = matches!(
        suffix,
        "" | "m" | "k" | "M" | "G" | "T" | "P" | "E" | "Ki" | "Mi" | "Gi" | "Ti" | "Pi" | "Ei"
    ) || (suffix.starts_with(['e', 'E']) && suffix[1..].parse::<i32>().is_ok());
    num_ok && suffix_ok
}

#[cfg(test)]
mod tests;
