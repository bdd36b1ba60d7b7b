//! Configuration from environment variables (the contract of the spec).
//!
//! [`Config::from_host`] reads every variable once, validates it and reads
//! the files it points to (service-account JWT and namespace, AppRole secret
//! files). Secret material is kept in [`Sensitive`], whose `Debug` prints
//! nothing.

use std::path::{Path, PathBuf};
use std::time::Duration;

use crate::error::Error;
use crate::host::Host;

/// Default service-account token of a Kubernetes pod.
pub const DEFAULT_TOKEN_FILE: &str = "/var/run/secrets/kubernetes.io/serviceaccount/token";
/// Default namespace file of a Kubernetes pod.
pub const DEFAULT_NAMESPACE_FILE: &str = "/var/run/secrets/kubernetes.io/serviceaccount/namespace";

/// A string that must never be printed (token, JWT, secret id, secret value).
#[derive(Clone, PartialEq, Eq)]
pub struct Sensitive(String);

impl Sensitive {
    /// Wraps a sensitive string.
    pub fn new(s: impl Into<String>) -> Self {
        Self(s.into())
    }
    /// The secret itself; callers must not print it.
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl std::fmt::Debug for Sensitive {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("<sensitive>")
    }
}

/// URL scheme of `VAULT_ADDR`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Scheme {
    /// Plain HTTP (loopback, tests, sidecars).
    Http,
    /// HTTPS with rustls.
    Https,
}

/// A parsed `VAULT_ADDR`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Address {
    /// `http` or `https`.
    pub scheme: Scheme,
    /// Host name or IP literal (IPv6 without brackets).
    pub host: String,
    /// TCP port (80/443 when not given).
    pub port: u16,
    /// Path prefix without a trailing slash (usually empty).
    pub prefix: String,
}

impl Address {
    /// Parses `http[s]://host[:port][/prefix]`.
    pub fn parse(s: &str) -> Result<Address, Error> {
        let shown = redact_userinfo(s);
        let bad = |why: &str| Error::Config(format!("VAULT_ADDR {shown:?} {why}"));
        let (scheme, rest) = if let Some(r) = s.strip_prefix("https://") {
            (Scheme::Https, r)
        } else if let Some(r) = s.strip_prefix("http://") {
            (Scheme::Http, r)
        } else {
            return Err(bad("must start with http:// or https://"));
        };
        let (authority, prefix) = match rest.find('/') {
            Some(i) => (&rest[..i], rest[i..].trim_end_matches('/')),
            None => (rest, ""),
        };
        if rest.contains('@') {
            return Err(bad("must not contain credentials (user:password@)"));
        }
        let default_port = if scheme == Scheme::Https { 443 } else { 80 };
        let (host, port) = if let Some(v6) = authority.strip_prefix('[') {
            let end = v6.find(']').ok_or_else(|| bad("has an unclosed ["))?;
            let host = &v6[..end];
            let port = match &v6[end + 1..] {
                "" => default_port,
                p => p
                    .strip_prefix(':')
                    .and_then(|p| p.parse().ok())
                    .ok_or_else(|| bad("has an invalid port"))?,
            };
            (host.to_owned(), port)
        } else {
            match authority.rsplit_once(':') {
                Some((h, p)) => (
                    h.to_owned(),
                    p.parse().map_err(|_| bad("has an invalid port"))?,
                ),
                None => (authority.to_owned(), default_port),
            }
        };
        if host.is_empty() {
            return Err(bad("has no host"));
        }
        if authority.starts_with('[') {
            if host.parse::<std::net::Ipv6Addr>().is_err() {
                return Err(bad("has an invalid IPv6 address in brackets"));
            }
        } else if host.parse::<std::net::Ipv4Addr>().is_err() {
            check_hostname(&host).map_err(|why| bad(&why))?;
        }
        Ok(Address {
            scheme,
            host,
            port,
            prefix: prefix.to_owned(),
        })
    }
}

/// `VAULT_ADDR` as it may be printed: everything between `://` and the last
/// `@` (user and password, even malformed ones with `/` in them) is replaced.
pub fn redact_userinfo(addr: &str) -> String {
    match (addr.find("://"), addr.rfind('@')) {
        (Some(start), Some(at)) if at > start => {
            format!("{}<redacted>{}", &addr[..start + 3], &addr[at..])
        }
        (None, Some(at)) => format!("<redacted>{}", &addr[at..]),
        _ => addr.to_owned(),
    }
}

/// Checks a DNS host name: labels of 1 to 63 ASCII letters, digits, `-` or
/// `_` (no leading or trailing `-`), 253 bytes at most, one optional
/// trailing dot. A name that breaks these rules can never resolve, so it is
/// a configuration error rather than something to retry until the deadline.
fn check_hostname(host: &str) -> Result<(), String> {
    if !host.is_ascii() {
        return Err(
            "has a host name that is not ASCII: write internationalised names in punycode (xn--...)"
                .into(),
        );
    }
    let name = host.strip_suffix('.').unwrap_or(host);
    if name.len() > 253 {
        return Err("has a host name longer than 253 bytes".into());
    }
    for label in name.split('.') {
        if label.is_empty() {
            return Err("has a host name with an empty label".into());
        }
        if label.len() > 63 {
            return Err("has a host name label longer than 63 bytes".into());
        }
        if !label
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
        {
            return Err(
                "has a host name with characters other than letters, digits, - and _".into(),
            );
        }
        if label.starts_with('-') || label.ends_with('-') {
            return Err("has a host name label that starts or ends with -".into());
        }
    }
    Ok(())
}

/// How to log in.
#[derive(Debug, Clone)]
pub enum Auth {
    /// `POST auth/<mount>/login` with the service-account JWT.
    Kubernetes {
        /// Auth mount path.
        mount: String,
        /// Vault role.
        role: String,
        /// The JWT.
        jwt: Sensitive,
    },
    /// `POST auth/<mount>/login` with a role id and an optional secret id.
    AppRole {
        /// Auth mount path.
        mount: String,
        /// Role id.
        role_id: Sensitive,
        /// Secret id (absent for roles with `bind_secret_id=false`).
        secret_id: Option<Sensitive>,
    },
    /// A token given directly.
    Token {
        /// The token.
        token: Sensitive,
    },
}

impl Auth {
    /// Name of the method, for messages.
    pub fn method(&self) -> &'static str {
        match self {
            Auth::Kubernetes { .. } => "kubernetes",
            Auth::AppRole { .. } => "approle",
            Auth::Token { .. } => "token",
        }
    }
}

/// KV secrets engine version.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum KvVersion {
    /// KV version 1.
    V1,
    /// KV version 2 (`data/` and `metadata/` paths).
    V2,
    /// Ask `sys/internal/ui/mounts/<mount>`.
    Auto,
}

/// The whole configuration.
#[derive(Debug, Clone)]
pub struct Config {
    /// Vault's address.
    pub addr: Address,
    /// CA bundle for TLS (system roots when `None`).
    pub cacert: Option<PathBuf>,
    /// Login method.
    pub auth: Auth,
    /// The service's namespace.
    pub namespace: String,
    /// KV mount.
    pub kv_mount: String,
    /// KV version.
    pub kv_version: KvVersion,
    /// Secret path under the mount, `{namespace}` expanded.
    pub path: String,
    /// Total deadline for login and reads.
    pub timeout: Duration,
    /// Whether secrets replace variables already set.
    pub override_existing: bool,
    /// Names that must be set before exec.
    pub required: Vec<String>,
    /// Start without secrets when Vault is unreachable.
    pub optional: bool,
    /// Accept a namespace path with no secrets (otherwise exit 78).
    pub allow_empty: bool,
    /// Revoke the token before exec.
    pub revoke: bool,
}

fn bool_var(host: &dyn Host, name: &str, default: bool) -> Result<bool, Error> {
    match host.var(name).as_deref().map(str::trim) {
        None | Some("") => Ok(default),
        Some("true" | "1" | "yes" | "TRUE" | "True") => Ok(true),
        Some("false" | "0" | "no" | "FALSE" | "False") => Ok(false),
        Some(other) => Err(Error::Config(format!(
            "{name} must be true or false, not {other:?}"
        ))),
    }
}

fn non_empty(host: &dyn Host, name: &str) -> Option<String> {
    host.var(name)
        .map(|v| v.trim().to_owned())
        .filter(|v| !v.is_empty())
}

fn read_trimmed(host: &dyn Host, path: &Path) -> Result<String, Error> {
    let bytes = host.read_file(path).map_err(|source| Error::ReadFile {
        path: path.to_owned(),
        source,
    })?;
    let s = String::from_utf8(bytes)
        .map_err(|_| Error::Config(format!("{} is not UTF-8", path.display())))?;
    Ok(s.trim().to_owned())
}

/// A secret given either directly (`NAME`) or as a file (`NAME_FILE`).
fn secret_var(host: &dyn Host, name: &str) -> Result<Option<Sensitive>, Error> {
    if let Some(v) = non_empty(host, name) {
        return Ok(Some(Sensitive::new(v)));
    }
    match non_empty(host, &format!("{name}_FILE")) {
        Some(path) => {
            let v = read_trimmed(host, Path::new(&path))?;
            if v.is_empty() {
                return Err(Error::Config(format!("{name}_FILE {path} is empty")));
            }
            Ok(Some(Sensitive::new(v)))
        }
        None => Ok(None),
    }
}

/// The longest `VAULT2ENV_TIMEOUT` accepted: a start-up deadline beyond a
/// day is a configuration mistake, and a bound keeps every deadline
/// computation far from `Instant`'s limits.
pub const MAX_TIMEOUT: Duration = Duration::from_secs(24 * 3600);

/// Parses `60s`, `1500ms`, `2m`, `1h` or a bare number of seconds.
pub fn parse_duration(s: &str) -> Option<Duration> {
    let s = s.trim();
    let split = s.find(|c: char| !c.is_ascii_digit()).unwrap_or(s.len());
    let (num, unit) = s.split_at(split);
    let n: u64 = num.parse().ok()?;
    let d = match unit.trim() {
        "" | "s" => Duration::from_secs(n),
        "ms" => Duration::from_millis(n),
        "m" => Duration::from_secs(n.checked_mul(60)?),
        "h" => Duration::from_secs(n.checked_mul(3600)?),
        _ => return None,
    };
    Some(d)
}

/// Whether a path segment list is acceptable as a Vault path (no `..`, no empty segments).
fn valid_path(p: &str) -> bool {
    !p.is_empty()
        && p.split('/')
            .all(|seg| !seg.is_empty() && seg != "." && seg != "..")
        && !p.contains(['?', '#', ' ', '%'])
}

impl Config {
    /// Reads and validates the configuration.
    pub fn from_host(host: &dyn Host) -> Result<Config, Error> {
        let addr = non_empty(host, "VAULT_ADDR")
            .ok_or_else(|| Error::Config("VAULT_ADDR is not set".into()))?;
        let addr = Address::parse(&addr)?;
        let cacert = non_empty(host, "VAULT_CACERT").map(PathBuf::from);

        let namespace = match non_empty(host, "VAULT2ENV_NAMESPACE") {
            Some(ns) => ns,
            None => read_trimmed(host, Path::new(DEFAULT_NAMESPACE_FILE)).map_err(|_| {
                Error::Config(format!(
                    "VAULT2ENV_NAMESPACE is not set and {DEFAULT_NAMESPACE_FILE} cannot be read"
                ))
            })?,
        };
        if !valid_path(&namespace) || namespace.contains('/') {
            return Err(Error::Config(format!(
                "namespace {namespace:?} is not a valid path segment"
            )));
        }

        let method = non_empty(host, "VAULT2ENV_AUTH").unwrap_or_else(|| "kubernetes".into());
        let auth_mount =
            non_empty(host, "VAULT2ENV_AUTH_MOUNT").map(|m| m.trim_matches('/').to_owned());
        if let Some(m) = &auth_mount
            && !valid_path(m)
        {
            return Err(Error::Config(format!(
                "VAULT2ENV_AUTH_MOUNT {m:?} is not a valid path"
            )));
        }
        let mount = |default: &str| auth_mount.clone().unwrap_or_else(|| default.to_owned());
        let auth = match method.as_str() {
            "kubernetes" => {
                let file = non_empty(host, "VAULT2ENV_TOKEN_FILE")
                    .unwrap_or_else(|| DEFAULT_TOKEN_FILE.to_owned());
                let jwt = read_trimmed(host, Path::new(&file))?;
                if jwt.is_empty() {
                    return Err(Error::Config(format!("token file {file} is empty")));
                }
                Auth::Kubernetes {
                    mount: mount("kubernetes"),
                    role: non_empty(host, "VAULT2ENV_ROLE").unwrap_or_else(|| namespace.clone()),
                    jwt: Sensitive::new(jwt),
                }
            }
            "approle" => Auth::AppRole {
                mount: mount("approle"),
                role_id: secret_var(host, "VAULT2ENV_ROLE_ID")?.ok_or_else(|| {
                    Error::Config(
                        "approle auth needs VAULT2ENV_ROLE_ID or VAULT2ENV_ROLE_ID_FILE".into(),
                    )
                })?,
                secret_id: secret_var(host, "VAULT2ENV_SECRET_ID")?,
            },
            "token" => {
                let token = match non_empty(host, "VAULT_TOKEN") {
                    Some(t) => Sensitive::new(t),
                    None => match non_empty(host, "VAULT2ENV_TOKEN_FILE") {
                        Some(file) => Sensitive::new(read_trimmed(host, Path::new(&file))?),
                        None => {
                            return Err(Error::Config(
                                "token auth needs VAULT_TOKEN or VAULT2ENV_TOKEN_FILE".into(),
                            ));
                        }
                    },
                };
                if token.expose().is_empty() {
                    return Err(Error::Config("the token is empty".into()));
                }
                Auth::Token { token }
            }
            other => {
                return Err(Error::Config(format!(
                    "VAULT2ENV_AUTH must be kubernetes, approle or token, not {other:?}"
                )));
            }
        };

        let kv_mount = non_empty(host, "VAULT2ENV_KV_MOUNT")
            .map(|m| m.trim_matches('/').to_owned())
            .unwrap_or_else(|| "secret".into());
        if !valid_path(&kv_mount) {
            return Err(Error::Config(format!(
                "VAULT2ENV_KV_MOUNT {kv_mount:?} is not a valid path"
            )));
        }
        let kv_version = match non_empty(host, "VAULT2ENV_KV_VERSION").as_deref() {
            None | Some("auto") => KvVersion::Auto,
            Some("1") => KvVersion::V1,
            Some("2") => KvVersion::V2,
            Some(other) => {
                return Err(Error::Config(format!(
                    "VAULT2ENV_KV_VERSION must be 1, 2 or auto, not {other:?}"
                )));
            }
        };
        let path = non_empty(host, "VAULT2ENV_PATH")
            .unwrap_or_else(|| "{namespace}".into())
            .replace("{namespace}", &namespace)
            .trim_matches('/')
            .to_owned();
        if !valid_path(&path) {
            return Err(Error::Config(format!(
                "VAULT2ENV_PATH {path:?} is not a valid path"
            )));
        }
        let timeout = match non_empty(host, "VAULT2ENV_TIMEOUT") {
            None => Duration::from_secs(60),
            Some(t) => {
                let d = parse_duration(&t).filter(|d| !d.is_zero()).ok_or_else(|| {
                    Error::Config(format!(
                        "VAULT2ENV_TIMEOUT {t:?} is not a duration like 60s, 500ms or 2m"
                    ))
                })?;
                if d > MAX_TIMEOUT {
                    return Err(Error::Config(format!(
                        "VAULT2ENV_TIMEOUT {t:?} is longer than the maximum of 24h"
                    )));
                }
                d
            }
        };
        let required = non_empty(host, "VAULT2ENV_REQUIRED")
            .map(|r| {
                r.split(',')
                    .map(|n| n.trim().to_owned())
                    .filter(|n| !n.is_empty())
                    .collect()
            })
            .unwrap_or_default();
        Ok(Config {
            addr,
            cacert,
            auth,
            namespace,
            kv_mount,
            kv_version,
            path,
            timeout,
            override_existing: bool_var(host, "VAULT2ENV_OVERRIDE", false)?,
            required,
            optional: bool_var(host, "VAULT2ENV_OPTIONAL", false)?,
            allow_empty: bool_var(host, "VAULT2ENV_ALLOW_EMPTY", false)?,
            revoke: bool_var(host, "VAULT2ENV_REVOKE", true)?,
        })
    }
}
