//! Vault's HTTP API: login, KV version 1 and 2, mount lookup, revoke-self.
//!
//! Every request is retried with exponential backoff and jitter while the
//! failure is transient (connection errors, timeouts, HTTP 429, 500, 502,
//! 503, 504) and the total deadline allows (`next_retry`: when the next
//! backoff would cross the deadline, one last attempt is made just before
//! it instead of giving up a backoff early); 307/308 from a standby are
//! followed (same scheme, at most 3 hops). Responses are parsed leniently as `serde_json::Value`:
//! unknown fields are ignored and only the fields vault2env needs are
//! required. Error bodies are read as Vault's `{"errors":[...]}` and, for
//! RustyVault, `{"error":"..."}`.

use std::time::{Duration, Instant};

use serde_json::{Map, Value, json};

use crate::config::{Auth, KvVersion, Sensitive};
use crate::error::Error;
use crate::http::{Client, Request, Response};
use crate::redact::Redactor;

/// Longest wait for one request (connect, send, answer).
const PER_TRY: Duration = Duration::from_secs(10);
/// First backoff; doubled after each failure.
const BACKOFF_START: Duration = Duration::from_millis(100);
/// Largest backoff.
const BACKOFF_MAX: Duration = Duration::from_secs(5);
/// When the next backoff would cross the deadline, the last attempt starts
/// this long before the deadline (at once when less is left), so that it can
/// still get an answer: a round trip to a Vault in the cluster takes a few
/// milliseconds, and a kept-alive connection needs no new handshake.
pub(crate) const LAST_TRY: Duration = Duration::from_millis(100);
/// Deepest sub-path recursion (guards against a malicious or looping LIST).
const MAX_DEPTH: usize = 16;

/// A secret as read: its key/value pairs, values already stringified.
pub type SecretData = Vec<(String, Sensitive)>;

/// What a read found.
#[derive(Debug)]
pub enum ReadResult {
    /// The secret's data.
    Found(SecretData),
    /// Nothing at this path.
    NotFound,
    /// KV v2: the latest version is deleted or destroyed.
    Deleted,
}

/// A logged-in (or about to log in) Vault session.
#[derive(Debug)]
pub struct Vault {
    http: Client,
    deadline: Instant,
    token: Option<Sensitive>,
    /// Every sensitive string seen; used to scrub anything printed.
    pub redactor: Redactor,
    attempts: u32,
    /// How many HTTP requests were answered (for the benchmark's round-trip count).
    pub requests: u32,
}

fn json_body(resp: &Response) -> Value {
    serde_json::from_slice(&resp.body).unwrap_or(Value::Null)
}

/// Percent-encodes one path segment (keys listed by Vault may hold anything).
pub fn encode_segment(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.' | b'~') {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// Percent-encodes a `/`-separated path segment by segment.
pub fn encode_path(p: &str) -> String {
    p.split('/')
        .map(encode_segment)
        .collect::<Vec<_>>()
        .join("/")
}

fn stringify(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        Value::Null => String::new(),
        Value::Bool(b) => b.to_string(),
        Value::Number(n) => n.to_string(),
        other => other.to_string(),
    }
}

/// Statuses retried with backoff until the deadline: rate limiting and the
/// server errors of a sealed, starting or overloaded Vault (or its proxy).
/// Every other unexpected status is an answer, not a temporary failure.
pub const RETRIED: [u16; 5] = [429, 500, 502, 503, 504];

/// Most redirects (307/308 from a standby to the active node) followed per request.
const MAX_REDIRECTS: u32 = 3;

fn is_transient(status: u16) -> bool {
    RETRIED.contains(&status)
}

/// A denial: 401 or 403 (Vault's ACL), mapped to exit 77.
fn is_denial(status: u16) -> bool {
    matches!(status, 401 | 403)
}

impl Vault {
    /// A session over `http` that gives up at `deadline`.
    pub fn new(http: Client, deadline: Instant) -> Self {
        Vault {
            http,
            deadline,
            token: None,
            redactor: Redactor::default(),
            attempts: 0,
            requests: 0,
        }
    }

    /// Vault's error messages, scrubbed, as `": a; b"` (or empty).
    fn detail(&self, resp: &Response) -> String {
        let v = json_body(resp);
        let mut msgs: Vec<String> = match v.get("errors") {
            Some(Value::Array(a)) => a.iter().map(stringify).collect(),
            _ => Vec::new(),
        };
        if let Some(Value::String(e)) = v.get("error") {
            msgs.push(e.clone());
        }
        let joined = msgs
            .iter()
            .map(|m| m.split_whitespace().collect::<Vec<_>>().join(" "))
            .filter(|m| !m.is_empty())
            .collect::<Vec<_>>()
            .join("; ");
        if joined.is_empty() {
            return String::new();
        }
        match self.redactor.foreign(&joined) {
            Some(text) => format!(": {text}"),
            None => " (Vault's message withheld: a secret value too short to redact is known)"
                .to_owned(),
        }
    }

    /// A status that is neither success, denial nor retryable: Vault
    /// answered wrongly (exit 69, but not "unreachable").
    fn unexpected(&self, path: &str, status: u16, resp: &Response) -> Error {
        Error::Protocol {
            path: path.to_owned(),
            reason: format!("unexpected HTTP {status}{}", self.detail(resp)),
        }
    }

    /// Sends with retries and follows redirects; returns the first
    /// non-transient response.
    fn call(
        &mut self,
        method: &str,
        path: &str,
        body: Option<&[u8]>,
        auth: bool,
    ) -> Result<Response, Error> {
        let mut backoff = BACKOFF_START;
        let mut tries = 0u32;
        let mut hops = 0u32;
        let mut redirected: Option<String> = None;
        let mut last_made = false;
        loop {
            let path = redirected.as_deref().unwrap_or(path);
            tries += 1;
            self.attempts += 1;
            let token = if auth {
                self.token.as_ref().map(Sensitive::expose)
            } else {
                None
            };
            let req = Request {
                method,
                path,
                token,
                body,
            };
            let last = match self.http.send(&req, self.deadline, PER_TRY) {
                Ok(resp) if matches!(resp.status, 307 | 308) => {
                    self.requests += 1;
                    let Some(location) = resp.location.as_deref() else {
                        return Err(Error::Protocol {
                            path: path.to_owned(),
                            reason: format!("HTTP {} without a Location header", resp.status),
                        });
                    };
                    hops += 1;
                    if hops > MAX_REDIRECTS {
                        return Err(Error::Protocol {
                            path: path.to_owned(),
                            reason: format!("more than {MAX_REDIRECTS} redirects"),
                        });
                    }
                    match self.http.follow(location, self.deadline) {
                        Ok(next) => {
                            redirected = Some(next);
                            continue;
                        }
                        Err(e) if e.wrong_answer => {
                            return Err(Error::Protocol {
                                path: path.to_owned(),
                                reason: self.redactor.scrub(&e.message),
                            });
                        }
                        Err(e) => format!("{method} {path}: {}", self.redactor.scrub(&e.message)),
                    }
                }
                Ok(resp) if !is_transient(resp.status) => {
                    self.requests += 1;
                    return Ok(resp);
                }
                Ok(resp) => {
                    self.requests += 1;
                    format!(
                        "{method} {path}: HTTP {}{}",
                        resp.status,
                        self.detail(&resp)
                    )
                }
                // Something answered, but not with HTTP (or with a TLS
                // certificate we reject): Vault answered wrongly, which
                // retrying will not fix and which is not "unreachable".
                Err(e) if e.wrong_answer => {
                    return Err(Error::Protocol {
                        path: path.to_owned(),
                        reason: self.redactor.scrub(&e.message),
                    });
                }
                Err(e) => format!("{method} {path}: {}", self.redactor.scrub(&e.message)),
            };
            match next_retry(Instant::now(), jitter(backoff), self.deadline, last_made) {
                Retry::GiveUp => {
                    return Err(Error::Unreachable {
                        attempts: tries,
                        last,
                    });
                }
                Retry::After(wait) => std::thread::sleep(wait),
                Retry::Last(wait) => {
                    std::thread::sleep(wait);
                    last_made = true;
                }
            }
            backoff = (backoff * 2).min(BACKOFF_MAX);
        }
    }

    /// Logs in (or adopts the given token) and remembers the token.
    pub fn login(&mut self, auth: &Auth) -> Result<(), Error> {
        let (mount, body) = match auth {
            Auth::Token { token } => {
                self.redactor.add(token.expose());
                self.token = Some(token.clone());
                return Ok(());
            }
            Auth::Kubernetes { mount, role, jwt } => {
                self.redactor.add(jwt.expose());
                (mount, json!({ "role": role, "jwt": jwt.expose() }))
            }
            Auth::AppRole {
                mount,
                role_id,
                secret_id,
            } => {
                self.redactor.add(role_id.expose());
                let mut b = json!({ "role_id": role_id.expose() });
                if let Some(s) = secret_id {
                    self.redactor.add(s.expose());
                    b["secret_id"] = json!(s.expose());
                }
                (mount, b)
            }
        };
        let path = format!("/v1/auth/{}/login", encode_path(mount));
        let mut bytes = serde_json::to_vec(&body).unwrap_or_default();
        let result = self.call("POST", &path, Some(&bytes), false);
        bytes.fill(0);
        let resp = result?;
        match resp.status {
            200..=299 => {}
            // Vault answers 400 for a wrong AppRole secret id, an unknown
            // role or a missing auth mount; 401/403 for a rejected JWT.
            400 | 401 | 403 => {
                return Err(Error::LoginDenied {
                    method: auth.method(),
                    mount: mount.clone(),
                    status: resp.status,
                    detail: self.detail(&resp),
                });
            }
            status => return Err(self.unexpected(&path, status, &resp)),
        }
        let token = json_body(&resp)
            .get("auth")
            .and_then(|a| a.get("client_token"))
            .and_then(Value::as_str)
            .filter(|t| !t.is_empty())
            .map(Sensitive::new)
            .ok_or_else(|| Error::Protocol {
                path: path.clone(),
                reason: "login response has no auth.client_token".into(),
            })?;
        self.redactor.add(token.expose());
        self.token = Some(token);
        Ok(())
    }

    /// The token in use, if logged in.
    pub fn token(&self) -> Option<&Sensitive> {
        self.token.as_ref()
    }

    /// The KV version of `mount`, asking `sys/internal/ui/mounts/<mount>`.
    /// Like Vault's CLI, a server without that endpoint (404/405) is taken as KV v1.
    pub fn kv_version(&mut self, mount: &str) -> Result<KvVersion, Error> {
        let path = format!("/v1/sys/internal/ui/mounts/{}", encode_path(mount));
        let resp = self.call("GET", &path, None, true)?;
        match resp.status {
            200..=299 => {
                let v = json_body(&resp);
                let data = v.get("data").unwrap_or(&Value::Null);
                let version = data
                    .get("options")
                    .and_then(|o| o.get("version"))
                    .map(stringify)
                    .unwrap_or_default();
                Ok(if version == "2" {
                    KvVersion::V2
                } else {
                    KvVersion::V1
                })
            }
            404 | 405 => Ok(KvVersion::V1),
            status if is_denial(status) => Err(Error::Denied {
                op: "mount lookup",
                path,
                status,
                detail: self.detail(&resp),
            }),
            status => Err(self.unexpected(&path, status, &resp)),
        }
    }

    fn data_path(mount: &str, version: KvVersion, path: &str) -> String {
        match version {
            KvVersion::V2 => format!("/v1/{}/data/{}", encode_path(mount), encode_path(path)),
            _ => format!("/v1/{}/{}", encode_path(mount), encode_path(path)),
        }
    }

    /// Reads one secret.
    pub fn read(
        &mut self,
        mount: &str,
        version: KvVersion,
        path: &str,
    ) -> Result<ReadResult, Error> {
        let api = Self::data_path(mount, version, path);
        let resp = self.call("GET", &api, None, true)?;
        let v = json_body(&resp);
        match resp.status {
            200..=299 => {}
            404 => {
                // KV v2 answers 404 with metadata when the latest version is deleted.
                let meta = v.get("data").and_then(|d| d.get("metadata"));
                let deleted = meta.is_some_and(|m| {
                    m.get("deletion_time")
                        .and_then(Value::as_str)
                        .is_some_and(|t| !t.is_empty())
                        || m.get("destroyed").and_then(Value::as_bool) == Some(true)
                });
                return Ok(if deleted {
                    ReadResult::Deleted
                } else {
                    ReadResult::NotFound
                });
            }
            status if is_denial(status) => {
                return Err(Error::Denied {
                    op: "read",
                    path: api,
                    status,
                    detail: self.detail(&resp),
                });
            }
            status => return Err(self.unexpected(&api, status, &resp)),
        }
        let data = match version {
            KvVersion::V2 => v.get("data").and_then(|d| d.get("data")),
            _ => v.get("data"),
        };
        let map: &Map<String, Value> = match data {
            Some(Value::Object(m)) => m,
            // v2 with "data": null on 200 happens for deleted versions on some servers.
            Some(Value::Null) if version == KvVersion::V2 => return Ok(ReadResult::Deleted),
            Some(Value::Null) | None => return Ok(ReadResult::NotFound),
            Some(_) => {
                return Err(Error::Protocol {
                    path: api,
                    reason: "secret data is not an object".into(),
                });
            }
        };
        let mut out = Vec::with_capacity(map.len());
        for (k, val) in map {
            let s = stringify(val);
            self.redactor.add(&s);
            out.push((k.clone(), Sensitive::new(s)));
        }
        Ok(ReadResult::Found(out))
    }

    /// Lists the keys directly under `path` (sub-paths end with `/`); empty when none.
    pub fn list(
        &mut self,
        mount: &str,
        version: KvVersion,
        path: &str,
    ) -> Result<Vec<String>, Error> {
        let api = match version {
            KvVersion::V2 => format!("/v1/{}/metadata/{}/", encode_path(mount), encode_path(path)),
            _ => format!("/v1/{}/{}/", encode_path(mount), encode_path(path)),
        };
        // The LIST method works on Vault and RustyVault; `?list=true` only on Vault.
        let resp = self.call("LIST", &api, None, true)?;
        match resp.status {
            200..=299 => {}
            404 => return Ok(Vec::new()),
            status if is_denial(status) => {
                return Err(Error::Denied {
                    op: "list",
                    path: api,
                    status,
                    detail: self.detail(&resp),
                });
            }
            status => return Err(self.unexpected(&api, status, &resp)),
        }
        let v = json_body(&resp);
        let keys = v.get("data").and_then(|d| d.get("keys"));
        match keys {
            Some(Value::Array(a)) => Ok(a
                .iter()
                .filter_map(Value::as_str)
                .map(str::to_owned)
                .collect()),
            None | Some(Value::Null) => Ok(Vec::new()),
            Some(_) => Err(Error::Protocol {
                path: api,
                reason: "data.keys is not a list".into(),
            }),
        }
    }

    /// Every secret at `root` and below it, as `(path, data)`, depth-first in
    /// the order Vault lists them. Deleted latest versions are reported in
    /// `deleted` and skipped.
    pub fn walk(
        &mut self,
        mount: &str,
        version: KvVersion,
        root: &str,
        deleted: &mut Vec<String>,
    ) -> Result<Vec<(String, SecretData)>, Error> {
        let mut out = Vec::new();
        match self.read(mount, version, root)? {
            ReadResult::Found(d) => out.push((root.to_owned(), d)),
            ReadResult::Deleted => deleted.push(root.to_owned()),
            ReadResult::NotFound => {}
        }
        self.walk_dir(mount, version, root, 0, deleted, &mut out)?;
        Ok(out)
    }

    fn walk_dir(
        &mut self,
        mount: &str,
        version: KvVersion,
        dir: &str,
        depth: usize,
        deleted: &mut Vec<String>,
        out: &mut Vec<(String, SecretData)>,
    ) -> Result<(), Error> {
        if depth >= MAX_DEPTH {
            return Err(Error::Protocol {
                path: dir.to_owned(),
                reason: format!("sub-paths nested deeper than {MAX_DEPTH}"),
            });
        }
        for key in self.list(mount, version, dir)? {
            if key.is_empty() || key == "/" || key.contains("..") {
                continue;
            }
            let child = format!("{dir}/{}", key.trim_end_matches('/'));
            if key.ends_with('/') {
                self.walk_dir(mount, version, &child, depth + 1, deleted, out)?;
            } else {
                match self.read(mount, version, &child)? {
                    ReadResult::Found(d) => out.push((child, d)),
                    ReadResult::Deleted => deleted.push(child),
                    // Listed but gone (deleted between LIST and GET): skip.
                    ReadResult::NotFound => {}
                }
            }
        }
        Ok(())
    }

    /// Revokes the token (best effort: one try, short timeout). Returns the
    /// HTTP status, or a transport error text.
    pub fn revoke_self(&mut self) -> Result<u16, String> {
        let Some(token) = self.token.clone() else {
            return Err("not logged in".into());
        };
        let req = Request {
            method: "POST",
            path: "/v1/auth/token/revoke-self",
            token: Some(token.expose()),
            body: None,
        };
        let budget = Duration::from_secs(2);
        let Some(deadline) = Instant::now().checked_add(budget) else {
            return Err("the clock cannot represent the revocation deadline".into());
        };
        match self.http.send(&req, deadline, budget) {
            Ok(resp) => {
                self.requests += 1;
                Ok(resp.status)
            }
            Err(e) => Err(self.redactor.scrub(&e.message)),
        }
    }
}

/// What to do after a failed attempt (see [`next_retry`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Retry {
    /// Sleep this long, then try again.
    After(Duration),
    /// Sleep this long, then make the last attempt.
    Last(Duration),
    /// Give up: the deadline has passed, or the last attempt was made.
    GiveUp,
}

/// The retry policy after an attempt failed at `now`, `wait` being the next
/// (jittered) backoff. The backoff is slept when at least [`LAST_TRY`] is
/// left after it. Otherwise the sleep is cut short to end [`LAST_TRY`]
/// before `deadline` (no sleep when less is left) and one last attempt
/// follows, bounded by the deadline like every attempt; after it
/// (`last_made`), or once the deadline has passed, vault2env gives up. So it
/// gives up at the deadline, or at most [`LAST_TRY`] before it when that
/// last attempt fails fast, never a whole backoff early; and it never
/// sleeps longer than the backoff.
pub(crate) fn next_retry(
    now: Instant,
    wait: Duration,
    deadline: Instant,
    last_made: bool,
) -> Retry {
    let left = deadline.saturating_duration_since(now);
    if last_made || left.is_zero() {
        return Retry::GiveUp;
    }
    match wait.checked_add(LAST_TRY) {
        Some(needed) if needed <= left => Retry::After(wait),
        _ => Retry::Last(left.saturating_sub(LAST_TRY)),
    }
}

/// Up to ±25 % jitter, from the clock's low bits (no RNG dependency needed:
/// the aim is only to spread restarts of many pods).
fn jitter(d: Duration) -> Duration {
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|t| t.subsec_nanos())
        .unwrap_or(0);
    let frac = (nanos % 1000) as f64 / 1000.0; // 0..1
    d.mul_f64(0.75 + frac * 0.5)
}
