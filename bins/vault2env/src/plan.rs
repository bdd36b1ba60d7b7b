//! From configuration to the service's final environment.
//!
//! [`prepare`] does the network part (resolve, log in, read); [`build_env`]
//! is pure: it takes the original environment and what was read, and
//! returns the environment to exec with, plus the names it set. Neither
//! prints anything; messages are returned as values for the binary to log.

use std::collections::BTreeMap;
use std::ffi::OsString;
use std::time::Instant;

use crate::config::{Config, KvVersion, Scheme, Sensitive};
use crate::error::Error;
use crate::host::Host;
use crate::http::Client;
use crate::names::{looks_like_reference, normalise, parse_reference};
use crate::resolve::Resolver;
use crate::vault::{ReadResult, Retry, SecretData, Vault, next_retry};

/// One variable to set from a secret.
#[derive(Debug, Clone)]
pub struct Var {
    /// Variable name.
    pub name: String,
    /// Where it came from, `path#key` (relative to the KV mount).
    pub source: String,
    /// The value.
    pub value: Sensitive,
}

/// Everything read from Vault, ready for [`build_env`].
#[derive(Debug, Default)]
pub struct Fetched {
    /// Secrets under the namespace path, by variable name.
    pub secrets: Vec<Var>,
    /// Resolved `vault:` references, by the variable that held them.
    pub references: Vec<Var>,
    /// Notes for the log (names and paths only).
    pub notes: Vec<String>,
}

/// Turns the secrets of several paths into variables, rejecting invalid and
/// duplicate names.
pub fn secrets_to_vars(found: &[(String, SecretData)]) -> Result<Vec<Var>, Error> {
    let mut by_name: BTreeMap<String, String> = BTreeMap::new();
    let mut out = Vec::new();
    for (path, data) in found {
        for (key, value) in data {
            let name = normalise(key).ok_or_else(|| Error::InvalidName {
                key: key.clone(),
                path: path.clone(),
            })?;
            if is_private(&name) {
                return Err(Error::ReservedName {
                    key: key.clone(),
                    path: path.clone(),
                    name,
                });
            }
            if value.expose().contains('\0') {
                return Err(Error::NulInValue {
                    path: path.clone(),
                    key: key.clone(),
                });
            }
            let source = format!("{path}#{key}");
            if let Some(first) = by_name.insert(name.clone(), source.clone()) {
                return Err(Error::Duplicate {
                    name,
                    first,
                    second: source,
                });
            }
            out.push(Var {
                name,
                source,
                value: value.clone(),
            });
        }
    }
    Ok(out)
}

/// Resolves the host, logs in, reads the namespace's secrets and every
/// `vault:` reference of the environment.
/// When reading fails after the login, the token is revoked (with
/// `cfg.revoke`): a failed start never leaves a live token behind.
pub fn prepare(host: &dyn Host, cfg: &Config, started: Instant) -> Result<(Vault, Fetched), Error> {
    let mut vault = connect(host, cfg, started)?;
    match fetch(&mut vault, host, cfg) {
        Ok(fetched) => Ok((vault, fetched)),
        Err(e) => {
            if cfg.revoke {
                let _ = vault.revoke_self();
            }
            Err(e)
        }
    }
}

/// Resolves the host and logs in: the first half of [`prepare`].
fn connect(host: &dyn Host, cfg: &Config, started: Instant) -> Result<Vault, Error> {
    let deadline = started.checked_add(cfg.timeout).ok_or_else(|| {
        Error::Config("VAULT2ENV_TIMEOUT is too long for this system's clock".into())
    })?;
    let tls = match cfg.addr.scheme {
        Scheme::Https => Some(crate::tls::client_config(host, cfg.cacert.as_deref())?),
        Scheme::Http => None,
    };
    let resolver = Resolver::from_host(host);
    let ips = resolve_with_retry(&resolver, &cfg.addr.host, deadline)?;
    let client = Client::new(cfg.addr.clone(), ips, tls).with_resolver(resolver);
    let mut vault = Vault::new(client, deadline);
    vault.login(&cfg.auth)?;
    Ok(vault)
}

/// Name resolution is retried like requests (the same policy,
/// [`crate::vault::next_retry`], without jitter): DNS may lag behind a pod start.
fn resolve_with_retry(
    r: &Resolver,
    name: &str,
    deadline: Instant,
) -> Result<Vec<std::net::IpAddr>, Error> {
    let mut attempts = 0;
    let mut wait = std::time::Duration::from_millis(100);
    let mut last_made = false;
    loop {
        attempts += 1;
        let failure = match r.resolve(name, deadline) {
            Ok(ips) if !ips.is_empty() => return Ok(ips),
            Ok(_) => "no address".to_owned(),
            Err(e) => e.to_string(),
        };
        match next_retry(Instant::now(), wait, deadline, last_made) {
            Retry::GiveUp => {
                return Err(Error::Unreachable {
                    attempts,
                    last: format!("resolve {name}: {failure}"),
                });
            }
            Retry::After(d) => std::thread::sleep(d),
            Retry::Last(d) => {
                std::thread::sleep(d);
                last_made = true;
            }
        }
        wait = (wait * 2).min(std::time::Duration::from_secs(5));
    }
}

/// The reading part of [`prepare`], for an already logged-in session.
pub fn fetch(vault: &mut Vault, host: &dyn Host, cfg: &Config) -> Result<Fetched, Error> {
    let mut fetched = Fetched::default();
    let version = match cfg.kv_version {
        KvVersion::Auto => vault.kv_version(&cfg.kv_mount)?,
        v => v,
    };
    let mut deleted = Vec::new();
    let found = vault.walk(&cfg.kv_mount, version, &cfg.path, &mut deleted)?;
    if found.iter().all(|(_, data)| data.is_empty()) && !cfg.allow_empty {
        return Err(Error::NoSecrets {
            mount: cfg.kv_mount.clone(),
            path: cfg.path.clone(),
            version: if version == KvVersion::V2 { 2 } else { 1 },
            deleted: if deleted.is_empty() {
                String::new()
            } else {
                format!(", {} deleted", deleted.len())
            },
        });
    }
    for d in deleted {
        fetched.notes.push(format!(
            "skipping {}/{d}: its latest version is deleted or destroyed",
            cfg.kv_mount
        ));
    }
    fetched.secrets = secrets_to_vars(&found)?;

    // vault:<path>#<key> references, one read per distinct path.
    let mut cache: BTreeMap<String, ReadResult> = BTreeMap::new();
    for (name, value) in host.vars() {
        let (Some(name), Some(value)) = (name.to_str(), value.to_str()) else {
            continue;
        };
        let Some(parsed) = parse_reference(value) else {
            if looks_like_reference(value) {
                fetched.notes.push(format!(
                    "warning: {name} starts with vault: but is not of the form vault:<path>#<key>; passed on unchanged"
                ));
            }
            continue;
        };
        let r = parsed.map_err(|why| Error::Config(format!("variable {name}: {why}")))?;
        if !cache.contains_key(&r.path) {
            let res = vault.read(&cfg.kv_mount, version, &r.path)?;
            cache.insert(r.path.clone(), res);
        }
        let source = format!("{}#{}", r.path, r.key);
        let value = match cache.get(&r.path) {
            Some(ReadResult::Found(data)) => data
                .iter()
                .find(|(k, _)| *k == r.key)
                .map(|(_, v)| v.clone()),
            _ => None,
        };
        let value = value.ok_or_else(|| {
            Error::Missing(format!(
                "variable {name} refers to {}/{source}, which does not exist",
                cfg.kv_mount
            ))
        })?;
        if value.expose().contains('\0') {
            return Err(Error::NulInValue {
                path: r.path.clone(),
                key: r.key.clone(),
            });
        }
        fetched.references.push(Var {
            name: name.to_owned(),
            source,
            value,
        });
    }
    Ok(fetched)
}

/// The environment to exec with, and what happened to each name. `Debug`
/// lists the environment's names only, never its values.
#[derive(Default)]
pub struct Outcome {
    /// The final environment.
    pub env: Vec<(OsString, OsString)>,
    /// Names set from Vault, with their source (`path#key`), sorted by name.
    pub set: Vec<(String, String)>,
    /// Names whose existing value was kept (override policy).
    pub kept: Vec<String>,
    /// Variables removed for hygiene.
    pub removed: Vec<String>,
    /// What else happened, for the log (names and sources only).
    pub notes: Vec<String>,
}

impl std::fmt::Debug for Outcome {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let names: Vec<_> = self.env.iter().map(|(n, _)| n).collect();
        f.debug_struct("Outcome")
            .field("env_names", &names)
            .field("set", &self.set)
            .field("kept", &self.kept)
            .field("removed", &self.removed)
            .field("notes", &self.notes)
            .finish()
    }
}

/// Whether a variable must not reach the service.
fn is_private(name: &str) -> bool {
    name == "VAULT_TOKEN" || name.starts_with("VAULT2ENV_")
}

/// Builds the service's environment from the original one:
/// removes `VAULT_TOKEN`, `VAULT2ENV_*` and any variable holding the token,
/// replaces resolved `vault:` references, adds the namespace's secrets
/// (replacing existing variables only when `override_existing`), and checks
/// that every `required` name is set.
pub fn build_env(
    original: Vec<(OsString, OsString)>,
    fetched: &Fetched,
    token: Option<&str>,
    override_existing: bool,
    required: &[String],
) -> Result<Outcome, Error> {
    let mut out = Outcome::default();
    let refs: BTreeMap<&str, &Var> = fetched
        .references
        .iter()
        .map(|v| (v.name.as_str(), v))
        .collect();
    let mut env: Vec<(OsString, OsString)> =
        Vec::with_capacity(original.len() + fetched.secrets.len());
    for (name, value) in original {
        let n = name.to_string_lossy();
        if is_private(&n) || token.is_some_and(|t| value.as_encoded_bytes() == t.as_bytes()) {
            out.removed.push(n.into_owned());
            continue;
        }
        if let Some(var) = refs.get(n.as_ref()) {
            out.set.push((var.name.clone(), var.source.clone()));
            env.push((name, OsString::from(var.value.expose())));
            continue;
        }
        env.push((name, value));
    }
    for var in &fetched.secrets {
        if is_private(&var.name) {
            // secrets_to_vars rejects these; a hand-built Fetched is only logged.
            out.notes.push(format!(
                "ignored {} from {}: the name is reserved",
                var.name, var.source
            ));
            continue;
        }
        // An explicit reference is the operator's choice for this name: it
        // wins over a namespace secret whatever VAULT2ENV_OVERRIDE says.
        if let Some(r) = refs.get(var.name.as_str()) {
            out.notes.push(format!(
                "{}: its vault:{} reference wins over the namespace secret {}",
                var.name, r.source, var.source
            ));
            continue;
        }
        match env
            .iter()
            .position(|(n, _)| n.as_os_str() == var.name.as_str())
        {
            Some(i) if override_existing => {
                env[i].1 = OsString::from(var.value.expose());
                out.set.push((var.name.clone(), var.source.clone()));
            }
            Some(_) => out.kept.push(var.name.clone()),
            None => {
                env.push((
                    OsString::from(&var.name),
                    OsString::from(var.value.expose()),
                ));
                out.set.push((var.name.clone(), var.source.clone()));
            }
        }
    }
    let missing: Vec<&str> = required
        .iter()
        .filter(|r| {
            !env.iter()
                .any(|(n, v)| n.as_os_str() == r.as_str() && !v.is_empty())
        })
        .map(String::as_str)
        .collect();
    if !missing.is_empty() {
        return Err(Error::Missing(format!(
            "required variable(s) not set: {}",
            missing.join(", ")
        )));
    }
    out.set.sort();
    out.env = env;
    Ok(out)
}

/// The environment when Vault is unreachable and `VAULT2ENV_OPTIONAL=true`:
/// hygiene only, and variables holding unresolved `vault:` references are
/// removed (their names are returned) rather than passed on as literal text.
pub fn env_without_secrets(
    original: Vec<(OsString, OsString)>,
    required: &[String],
) -> Result<Outcome, Error> {
    let mut out = Outcome::default();
    for (name, value) in original {
        let n = name.to_string_lossy().into_owned();
        if is_private(&n) || value.to_str().is_some_and(|v| parse_reference(v).is_some()) {
            out.removed.push(n);
            continue;
        }
        out.env.push((name, value));
    }
    let missing: Vec<&str> = required
        .iter()
        .filter(|r| {
            !out.env
                .iter()
                .any(|(n, v)| n.as_os_str() == r.as_str() && !v.is_empty())
        })
        .map(String::as_str)
        .collect();
    if !missing.is_empty() {
        return Err(Error::Missing(format!(
            "required variable(s) not set: {}",
            missing.join(", ")
        )));
    }
    Ok(out)
}
