//! The HTTP side: routing, Vault's semantics, the builder.

use std::collections::{BTreeMap, BTreeSet};
use std::io::{BufRead, BufReader, Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::thread;
use std::time::{Duration, Instant};

use serde_json::{Map, Value, json};

/// One secret version of a KV v2 secret.
#[derive(Debug, Clone)]
struct Version {
    data: Map<String, Value>,
    deleted: bool,
    destroyed: bool,
}

#[derive(Debug, Clone, Default)]
struct Mount {
    version: u8,
    /// path → versions (v1 keeps one).
    secrets: BTreeMap<String, Vec<Version>>,
}

#[derive(Debug, Clone)]
struct Login {
    mount: String,
    /// kubernetes: (role, jwt); approle: (role_id, secret_id).
    who: String,
    proof: String,
    policy: Vec<String>,
}

/// A request as the server saw it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Logged {
    /// HTTP method (`LIST` stays `LIST`; `GET ?list=true` is logged as `LIST`).
    pub method: String,
    /// Path after `/v1/`, decoded, without the query.
    pub path: String,
    /// The status answered.
    pub status: u16,
    /// When it arrived, since the server started.
    pub at: Duration,
}

#[derive(Debug, Default)]
struct State {
    mounts: BTreeMap<String, Mount>,
    /// Auth mount path → its method (logins are routed by it).
    auth_mounts: BTreeMap<String, AuthType>,
    k8s: Vec<Login>,
    approle: Vec<Login>,
    /// token → policy (Vault policy paths after `/v1/`).
    tokens: BTreeMap<String, Vec<String>>,
    revoked: BTreeSet<String>,
    issued: u64,
    fail_next: u32,
    fail_status: u16,
    /// Answer this status to every request for this long after the first one.
    fail_for: Option<(Duration, u16)>,
    /// When the first request arrived.
    first_request: Option<Instant>,
    log: Vec<Logged>,
}

/// Every token any test server in this process issued at login or was
/// given, so tests can check that none of them appears in an output.
static TOKENS: Mutex<Vec<String>> = Mutex::new(Vec::new());

fn remember_token(token: &str) {
    if let Ok(mut t) = TOKENS.lock() {
        t.push(token.to_owned());
    }
}

/// Every token issued (at login) or given (with [`TestVaultBuilder::token`])
/// by any test server of this process so far.
pub fn issued_tokens() -> Vec<String> {
    TOKENS.lock().map(|t| t.clone()).unwrap_or_default()
}

/// What the demo dataset's role and token may use (Vault policy paths).
pub const DEMO_POLICY: [&str; 4] = [
    "secret/data/billing",
    "secret/data/billing/*",
    "secret/metadata/billing/",
    "secret/metadata/billing/*",
];

/// Whether a Vault policy path matches an API path (after `/v1/`), with
/// Vault's rules: an exact match, unless the pattern ends in `*` (a prefix
/// glob, only at the end), and `+` stands for exactly one path segment.
pub fn policy_matches(pattern: &str, path: &str) -> bool {
    let (pat, glob) = match pattern.strip_suffix('*') {
        Some(p) => (p, true),
        None => (pattern, false),
    };
    let pat: Vec<&str> = pat.split('/').collect();
    let path: Vec<&str> = path.split('/').collect();
    if path.len() < pat.len() || (!glob && path.len() != pat.len()) {
        return false;
    }
    pat.iter().zip(&path).enumerate().all(|(i, (p, seg))| {
        let last = i + 1 == pat.len();
        if *p == "+" {
            !seg.is_empty() || last && glob
        } else if last && glob {
            seg.starts_with(p)
        } else {
            p == seg
        }
    })
}

/// The auth method behind an auth mount.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum AuthType {
    Kubernetes,
    AppRole,
}

/// Configures a [`TestVault`].
#[derive(Debug, Default)]
pub struct TestVaultBuilder {
    state: State,
    tls: bool,
    chunked: bool,
    echo_errors: bool,
    no_ui_mounts: bool,
    trickle: Option<(String, Duration)>,
    redirect: Option<Redirect>,
    shape: Shape,
    port: u16,
}

/// Which fields a successful response carries besides the ones a client
/// needs (`auth.client_token`, `data`, `data.data`, `data.keys`,
/// `data.options.version`).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum Shape {
    /// Vault's documented responses, plus a field from the future.
    #[default]
    Full,
    /// Only the needed fields: no `request_id`, `lease_duration`,
    /// `warnings`, `wrap_info`; `auth` with `client_token` only (no
    /// `policies`, `metadata`, `accessor`); KV v2 reads without `metadata`;
    /// mount lookups without `type` or `config` (and without `options` on
    /// KV v1); `{"errors":[]}` answers sent with an empty body.
    Minimal,
    /// Every optional field of an unexpected type (`warnings` a string,
    /// `lease_duration` a string, `metadata` a string, `policies` a string,
    /// the version a number) and unknown fields at every level.
    Unusual,
}

/// Where a standby sends clients.
#[derive(Debug, Clone)]
enum Redirect {
    /// To another server's base URL.
    To(String),
    /// To itself (a redirect loop).
    Itself,
}

impl TestVaultBuilder {
    /// Adds a KV mount of version 1 or 2.
    pub fn kv(mut self, mount: &str, version: u8) -> Self {
        self.state.mounts.insert(
            mount.to_owned(),
            Mount {
                version,
                ..Mount::default()
            },
        );
        self
    }

    /// Writes a secret (a new version on KV v2).
    pub fn put<K: AsRef<str>, V: AsRef<str>>(self, mount: &str, path: &str, kv: &[(K, V)]) -> Self {
        let data = kv
            .iter()
            .map(|(k, v)| (k.as_ref().to_owned(), Value::String(v.as_ref().to_owned())))
            .collect();
        self.put_json(mount, path, data)
    }

    /// The demo dataset of the `vault-testserver` binary and the benchmarks:
    /// KV v2 at `secret`, namespace `billing` with 6 keys at its root and 3
    /// in each of `billing/db` and `billing/partners/acme`, readable by the
    /// Kubernetes role `billing` that logs in with `jwt`.
    pub fn demo(self, jwt: &str) -> Self {
        let mut b = self.kv("secret", 2);
        for (path, n) in [
            ("billing", 6),
            ("billing/db", 3),
            ("billing/partners/acme", 3),
        ] {
            let tail = path.rsplit('/').next().unwrap_or(path).to_uppercase();
            let pairs: Vec<(String, String)> = (0..n)
                .map(|i| (format!("{tail}_KEY_{i}"), format!("demo-value-{i}")))
                .collect();
            b = b.put("secret", path, &pairs);
        }
        b.kubernetes_role("kubernetes", "billing", jwt, &DEMO_POLICY)
    }

    /// Writes a secret with arbitrary JSON values.
    pub fn put_json(mut self, mount: &str, path: &str, data: Map<String, Value>) -> Self {
        let m = self.state.mounts.get_mut(mount).expect("mount exists");
        let versions = m.secrets.entry(path.to_owned()).or_default();
        let v = Version {
            data,
            deleted: false,
            destroyed: false,
        };
        if m.version == 1 {
            versions.clear();
        }
        versions.push(v);
        self
    }

    /// KV v2: soft-deletes (or destroys) the latest version.
    pub fn delete_latest(mut self, mount: &str, path: &str, destroy: bool) -> Self {
        let m = self.state.mounts.get_mut(mount).expect("mount exists");
        let last = m
            .secrets
            .get_mut(path)
            .and_then(|v| v.last_mut())
            .expect("secret exists");
        last.deleted = true;
        last.destroyed = destroy;
        self
    }

    /// KV v2: destroys the latest version without deleting it first
    /// (`PUT <mount>/destroy/<path>`): Vault then answers 404 with
    /// `destroyed: true` and an empty `deletion_time`.
    pub fn destroy_latest(mut self, mount: &str, path: &str) -> Self {
        let m = self.state.mounts.get_mut(mount).expect("mount exists");
        let last = m
            .secrets
            .get_mut(path)
            .and_then(|v| v.last_mut())
            .expect("secret exists");
        last.destroyed = true;
        last.data = Map::new();
        self
    }

    /// A Kubernetes auth role at `mount` (which becomes a Kubernetes auth
    /// mount): logging in with `jwt` yields a token whose policy is the
    /// Vault policy paths `policy` (after `/v1/`; see [`policy_matches`]).
    pub fn kubernetes_role(mut self, mount: &str, role: &str, jwt: &str, policy: &[&str]) -> Self {
        self.state
            .auth_mounts
            .insert(mount.to_owned(), AuthType::Kubernetes);
        self.state.k8s.push(Login {
            mount: mount.into(),
            who: role.into(),
            proof: jwt.into(),
            policy: policy.iter().map(|s| (*s).to_owned()).collect(),
        });
        self
    }

    /// An AppRole at `mount` (which becomes an AppRole auth mount).
    pub fn approle(mut self, mount: &str, role_id: &str, secret_id: &str, policy: &[&str]) -> Self {
        self.state
            .auth_mounts
            .insert(mount.to_owned(), AuthType::AppRole);
        self.state.approle.push(Login {
            mount: mount.into(),
            who: role_id.into(),
            proof: secret_id.into(),
            policy: policy.iter().map(|s| (*s).to_owned()).collect(),
        });
        self
    }

    /// A token with the given Vault policy paths (see [`policy_matches`]).
    pub fn token(mut self, token: &str, policy: &[&str]) -> Self {
        remember_token(token);
        self.state.tokens.insert(
            token.into(),
            policy.iter().map(|s| (*s).to_owned()).collect(),
        );
        self
    }

    /// Answers the next `n` requests with `status` (e.g. 503 while sealed).
    pub fn fail_first(mut self, n: u32, status: u16) -> Self {
        self.state.fail_next = n;
        self.state.fail_status = status;
        self
    }

    /// Answers every request with `status` for `d` after the first request
    /// arrived (e.g. 503 while Vault is sealed), then serves normally: a
    /// Vault that comes back at a known moment of the client's retries.
    pub fn fail_for(mut self, d: Duration, status: u16) -> Self {
        self.state.fail_for = Some((d, status));
        self
    }

    /// Which optional and unknown fields the answers carry (see [`Shape`]).
    pub fn shape(mut self, shape: Shape) -> Self {
        self.shape = shape;
        self
    }

    /// Serves HTTPS with a freshly generated certificate for `localhost` and `127.0.0.1`.
    pub fn tls(mut self) -> Self {
        self.tls = true;
        self
    }

    /// Sends bodies with `Transfer-Encoding: chunked`.
    pub fn chunked(mut self) -> Self {
        self.chunked = true;
        self
    }

    /// A misbehaving server: error messages echo the request body (to test redaction).
    pub fn echo_errors(mut self) -> Self {
        self.echo_errors = true;
        self
    }

    /// A slow server: the response to `path` (after `/v1/`) is written one
    /// byte at a time with `pause` between bytes.
    pub fn trickle(mut self, path: &str, pause: Duration) -> Self {
        self.trickle = Some((path.to_owned(), pause));
        self
    }

    /// A standby: every request is answered `307 Temporary Redirect` with
    /// `Location: <url>/v1/<path>` (Vault's behaviour towards the active node).
    pub fn redirect_to(mut self, url: &str) -> Self {
        self.redirect = Some(Redirect::To(url.trim_end_matches('/').to_owned()));
        self
    }

    /// A misconfigured standby that redirects to itself forever.
    pub fn redirect_loop(mut self) -> Self {
        self.redirect = Some(Redirect::Itself);
        self
    }

    /// Answers 404 on `sys/internal/ui/mounts` like an older server.
    pub fn without_ui_mounts(mut self) -> Self {
        self.no_ui_mounts = true;
        self
    }

    /// Listens on this port of 127.0.0.1 (0, the default, picks a free one).
    pub fn port(mut self, port: u16) -> Self {
        self.port = port;
        self
    }

    /// Starts listening on 127.0.0.1 (on a free port unless [`Self::port`] was set).
    pub fn start(self) -> TestVault {
        self.try_start().expect("bind 127.0.0.1")
    }

    /// Like [`Self::start`], but a port that cannot be bound is an error.
    pub fn try_start(self) -> std::io::Result<TestVault> {
        let listener = TcpListener::bind(("127.0.0.1", self.port))?;
        let addr = listener.local_addr()?;
        let (tls, ca_pem) = if self.tls {
            let (cfg, ca) = tls_config();
            (Some(cfg), Some(ca))
        } else {
            (None, None)
        };
        let shared = Arc::new(Shared {
            started: Instant::now(),
            state: Mutex::new(self.state),
            chunked: self.chunked,
            echo_errors: self.echo_errors,
            no_ui_mounts: self.no_ui_mounts,
            trickle: self.trickle,
            shape: self.shape,
            redirect: match self.redirect {
                Some(Redirect::Itself) => Some(format!(
                    "{}://{addr}",
                    if self.tls { "https" } else { "http" }
                )),
                Some(Redirect::To(url)) => Some(url),
                None => None,
            },
        });
        let stop = Arc::new(AtomicBool::new(false));
        let (s2, stop2) = (shared.clone(), stop.clone());
        thread::spawn(move || {
            for conn in listener.incoming() {
                if stop2.load(Ordering::Relaxed) {
                    break;
                }
                let Ok(tcp) = conn else { continue };
                let s = s2.clone();
                let tls = tls.clone();
                thread::spawn(move || {
                    let _ = tcp.set_read_timeout(Some(Duration::from_secs(30)));
                    match tls {
                        Some(cfg) => {
                            let Ok(conn) = rustls::ServerConnection::new(cfg) else {
                                return;
                            };
                            serve(&s, rustls::StreamOwned::new(conn, tcp));
                        }
                        None => serve(&s, tcp),
                    }
                });
            }
        });
        Ok(TestVault {
            addr,
            shared,
            stop,
            ca_pem,
        })
    }
}

#[derive(Debug)]
struct Shared {
    started: Instant,
    state: Mutex<State>,
    chunked: bool,
    echo_errors: bool,
    no_ui_mounts: bool,
    trickle: Option<(String, Duration)>,
    shape: Shape,
    /// Base URL every request is redirected to (a standby).
    redirect: Option<String>,
}

/// A running test server.
#[derive(Debug)]
pub struct TestVault {
    addr: SocketAddr,
    shared: Arc<Shared>,
    stop: Arc<AtomicBool>,
    ca_pem: Option<String>,
}

impl TestVault {
    /// A builder with no mounts, roles or tokens.
    pub fn builder() -> TestVaultBuilder {
        TestVaultBuilder::default()
    }

    /// The socket address.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// `http://127.0.0.1:<port>` (or `https://`).
    pub fn url(&self) -> String {
        let scheme = if self.ca_pem.is_some() {
            "https"
        } else {
            "http"
        };
        format!("{scheme}://{}", self.addr)
    }

    /// The CA certificate (PEM) when serving TLS.
    pub fn ca_pem(&self) -> Option<&str> {
        self.ca_pem.as_deref()
    }

    /// Every request so far.
    pub fn requests(&self) -> Vec<Logged> {
        self.shared.state.lock().expect("lock").log.clone()
    }

    /// How many issued or given tokens were revoked.
    pub fn revoked(&self) -> usize {
        self.shared.state.lock().expect("lock").revoked.len()
    }

    /// Whether this token was revoked.
    pub fn is_revoked(&self, token: &str) -> bool {
        self.shared
            .state
            .lock()
            .expect("lock")
            .revoked
            .contains(token)
    }
}

impl Drop for TestVault {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
        // Wake the accept loop so it sees the flag.
        let _ = TcpStream::connect(self.addr);
    }
}

fn tls_config() -> (Arc<rustls::ServerConfig>, String) {
    let mut ca_params = rcgen::CertificateParams::new(Vec::<String>::new()).expect("ca params");
    ca_params.is_ca = rcgen::IsCa::Ca(rcgen::BasicConstraints::Unconstrained);
    ca_params
        .distinguished_name
        .push(rcgen::DnType::CommonName, "vault-testserver CA");
    let ca_key = rcgen::KeyPair::generate().expect("ca key");
    let ca = ca_params.self_signed(&ca_key).expect("ca cert");
    let params =
        rcgen::CertificateParams::new(vec!["localhost".to_owned(), "127.0.0.1".to_owned()])
            .expect("params");
    let key = rcgen::KeyPair::generate().expect("key");
    let cert = params.signed_by(&key, &ca, &ca_key).expect("cert");
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let cfg = rustls::ServerConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .expect("versions")
        .with_no_client_auth()
        .with_single_cert(
            vec![cert.der().clone()],
            rustls::pki_types::PrivateKeyDer::Pkcs8(key.serialize_der().into()),
        )
        .expect("server config");
    (Arc::new(cfg), ca.pem())
}

fn percent_decode(s: &str) -> String {
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        if b[i] == b'%'
            && i + 2 < b.len() + 1
            && let Some(h) = s
                .get(i + 1..i + 3)
                .and_then(|h| u8::from_str_radix(h, 16).ok())
        {
            out.push(h);
            i += 3;
            continue;
        }
        out.push(b[i]);
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

fn serve(shared: &Shared, stream: impl Read + Write) {
    let mut r = BufReader::new(stream);
    loop {
        let mut line = String::new();
        if r.read_line(&mut line).unwrap_or(0) == 0 {
            return;
        }
        let mut parts = line.split_whitespace();
        let (Some(method), Some(target)) = (parts.next(), parts.next()) else {
            return;
        };
        let (method, target) = (method.to_owned(), target.to_owned());
        let mut headers = BTreeMap::new();
        loop {
            let mut h = String::new();
            if r.read_line(&mut h).unwrap_or(0) == 0 {
                return;
            }
            let h = h.trim_end();
            if h.is_empty() {
                break;
            }
            if let Some((k, v)) = h.split_once(':') {
                headers.insert(k.trim().to_ascii_lowercase(), v.trim().to_owned());
            }
        }
        let len: usize = headers
            .get("content-length")
            .and_then(|v| v.parse().ok())
            .unwrap_or(0);
        let mut body = vec![0; len];
        if r.read_exact(&mut body).is_err() {
            return;
        }
        let (path, query) = target.split_once('?').unwrap_or((&target, ""));
        let list =
            method == "LIST" || (method == "GET" && query.split('&').any(|q| q == "list=true"));
        let method = if list { "LIST".to_owned() } else { method };
        let path = percent_decode(path.strip_prefix("/v1/").unwrap_or(path));
        let token = headers.get("x-vault-token").cloned().or_else(|| {
            headers
                .get("authorization")
                .and_then(|a| a.strip_prefix("Bearer "))
                .map(str::to_owned)
        });
        let now = Instant::now();
        let at = now.duration_since(shared.started);
        if let Some(base) = &shared.redirect {
            shared.state.lock().expect("lock").log.push(Logged {
                method: method.clone(),
                path: path.clone(),
                status: 307,
                at,
            });
            let out = format!(
                "HTTP/1.1 307 Temporary Redirect\r\nLocation: {base}{target}\r\nContent-Length: 0\r\n\r\n"
            );
            let w = r.get_mut();
            if w.write_all(out.as_bytes()).and_then(|_| w.flush()).is_err() {
                return;
            }
            continue;
        }
        let (status, resp) = {
            let mut st = shared.state.lock().expect("lock");
            let first = *st.first_request.get_or_insert(now);
            let sealed = st
                .fail_for
                .filter(|(d, _)| now.duration_since(first) < *d)
                .map(|(_, status)| status);
            let (status, resp) = if st.fail_next > 0 {
                st.fail_next -= 1;
                (st.fail_status, json!({"errors": ["Vault is sealed"]}))
            } else if let Some(status) = sealed {
                (status, json!({"errors": ["Vault is sealed"]}))
            } else {
                route(&mut st, shared, &method, &path, token.as_deref(), &body)
            };
            st.log.push(Logged {
                method: method.clone(),
                path: path.clone(),
                status,
                at,
            });
            (status, resp)
        };
        let text = if status == 204
            || (shared.shape == Shape::Minimal && resp == json!({ "errors": [] }))
        {
            String::new()
        } else {
            resp.to_string()
        };
        let mut out = format!(
            "HTTP/1.1 {status} X\r\nContent-Type: application/json\r\nCache-Control: no-store\r\n"
        );
        if status == 204 {
            out.push_str("\r\n");
        } else if shared.chunked {
            out.push_str("Transfer-Encoding: chunked\r\n\r\n");
            // Two chunks, to exercise reassembly.
            let mid = text.len() / 2;
            let mid = (mid..=text.len())
                .find(|i| text.is_char_boundary(*i))
                .unwrap_or(text.len());
            for part in [&text[..mid], &text[mid..]] {
                if !part.is_empty() {
                    out.push_str(&format!("{:x}\r\n{part}\r\n", part.len()));
                }
            }
            out.push_str("0\r\n\r\n");
        } else {
            out.push_str(&format!("Content-Length: {}\r\n\r\n{text}", text.len()));
        }
        let w = r.get_mut();
        if let Some((slow, pause)) = &shared.trickle
            && *slow == path
        {
            for b in out.as_bytes() {
                if w.write_all(&[*b]).and_then(|_| w.flush()).is_err() {
                    return;
                }
                thread::sleep(*pause);
            }
            continue;
        }
        if w.write_all(out.as_bytes()).and_then(|_| w.flush()).is_err() {
            return;
        }
    }
}

/// Vault's answer (404) to a KV v1-style path on a KV v2 mount.
const V2_INVALID_PATH: &str = "Invalid path for a versioned K/V secrets engine. See the API docs for the appropriate API endpoints to use. If using the Vault CLI, use 'vault kv get' for this operation.";

fn errors(msgs: &[&str]) -> Value {
    json!({ "errors": msgs })
}

fn denied() -> (u16, Value) {
    (
        403,
        errors(&["1 error occurred:\n\t* permission denied\n\n"]),
    )
}

/// Vault's response envelope around `data`, with the fields of `shape`.
fn envelope(shape: Shape, data: Value) -> Value {
    match shape {
        Shape::Full => json!({
            "request_id": "00000000-0000-0000-0000-000000000000",
            "lease_id": "", "renewable": false, "lease_duration": 0,
            "data": data, "wrap_info": null, "warnings": null, "auth": null,
            "mount_type": "kv", "x_future_field": {"nested": [1, 2, 3]}
        }),
        Shape::Minimal => json!({ "data": data }),
        Shape::Unusual => json!({
            "request_id": 7, "lease_id": null, "renewable": "no", "lease_duration": "0s",
            "data": data, "wrap_info": "none", "warnings": "one warning, as a string",
            "auth": [], "mount_type": {"kv": true}, "x_future_field": {"nested": [1, 2, 3]},
            "x_future_list": [{"a": null}], "errors": []
        }),
    }
}

fn route(
    st: &mut State,
    shared: &Shared,
    method: &str,
    path: &str,
    token: Option<&str>,
    body: &[u8],
) -> (u16, Value) {
    let body_json: Value = serde_json::from_slice(body).unwrap_or(Value::Null);
    // Logins need no token.
    if method == "POST"
        && let Some(mount) = path
            .strip_prefix("auth/")
            .and_then(|p| p.strip_suffix("/login"))
        && mount != "token"
    {
        return login(st, shared, mount, &body_json, body);
    }
    let Some(token) = token else {
        return (403, errors(&["permission denied"]));
    };
    if st.revoked.contains(token) {
        return (403, errors(&["permission denied"]));
    }
    let Some(policy) = st.tokens.get(token).cloned() else {
        return (403, errors(&["permission denied"]));
    };
    match (method, path) {
        ("POST" | "PUT", "auth/token/revoke-self") => {
            st.revoked.insert(token.to_owned());
            return (204, Value::Null);
        }
        ("GET", "auth/token/lookup-self") => {
            return (
                200,
                envelope(
                    shared.shape,
                    json!({ "policies": ["default"], "ttl": 3600, "renewable": true }),
                ),
            );
        }
        _ => {}
    }
    if let Some(mount) = path.strip_prefix("sys/internal/ui/mounts/") {
        if shared.no_ui_mounts {
            return (404, errors(&[]));
        }
        let mount = mount.trim_end_matches('/');
        // Vault's preflight check: the token needs some capability on a
        // path under the mount.
        let under = format!("{mount}/");
        let allowed = policy
            .iter()
            .any(|p| p.starts_with(&under) || policy_matches(p, &under));
        return match st.mounts.get(mount).filter(|_| allowed) {
            Some(m) => {
                let v2 = m.version == 2;
                let data = match shared.shape {
                    Shape::Full => json!({
                        "type": "kv", "path": format!("{mount}/"),
                        "options": if v2 { json!({"version": "2"}) } else { Value::Null },
                        "description": "", "accessor": "kv_1234", "local": false, "seal_wrap": false,
                        "config": {"default_lease_ttl": 0, "max_lease_ttl": 0}
                    }),
                    Shape::Minimal if v2 => json!({ "options": {"version": "2"} }),
                    Shape::Minimal => json!({}),
                    Shape::Unusual => json!({
                        "type": ["kv"], "path": 1, "description": null, "config": "none",
                        "options": if v2 {
                            json!({"version": 2, "x_future_option": {"a": 1}})
                        } else {
                            json!({"x_future_option": "1"})
                        },
                        "x_future_field": [true]
                    }),
                };
                (200, envelope(shared.shape, data))
            }
            None => (
                403,
                errors(&[
                    "preflight capability check returned 403, please ensure client's policies grant access to the path",
                ]),
            ),
        };
    }
    if !policy.iter().any(|p| policy_matches(p, path)) {
        return denied();
    }
    let Some((mount_name, rest)) = st.mounts.keys().find_map(|m| {
        path.strip_prefix(m.as_str())
            .and_then(|r| r.strip_prefix('/'))
            .map(|r| (m.clone(), r.to_owned()))
    }) else {
        return (404, errors(&[]));
    };
    let mount = &st.mounts[&mount_name];
    match (mount.version, method) {
        (1, "GET") => match mount.secrets.get(&rest).and_then(|v| v.last()) {
            Some(v) => (200, envelope(shared.shape, Value::Object(v.data.clone()))),
            None => (404, errors(&[])),
        },
        (1, "LIST") => list(shared.shape, mount, &rest),
        (2, "GET") => {
            if let Some(p) = rest.strip_prefix("data/") {
                match mount.secrets.get(p) {
                    Some(versions) => {
                        let n = versions.len();
                        let v = &versions[n - 1];
                        let gone = v.deleted || v.destroyed;
                        let meta = json!({
                            "created_time": "2018-03-22T02:24:06.945319214Z",
                            "custom_metadata": {"owner": "billing"},
                            "deletion_time": if v.deleted { "2018-03-22T02:30:00.000000000Z" } else { "" },
                            "destroyed": v.destroyed,
                            "version": n
                        });
                        let data = if gone {
                            Value::Null
                        } else {
                            Value::Object(v.data.clone())
                        };
                        let inner = match shared.shape {
                            Shape::Full => json!({ "data": data, "metadata": meta }),
                            Shape::Minimal => json!({ "data": data }),
                            Shape::Unusual => json!({
                                "data": data, "metadata": "version 1, as a string",
                                "x_future_field": {"metadata": meta}
                            }),
                        };
                        (if gone { 404 } else { 200 }, envelope(shared.shape, inner))
                    }
                    None => (404, errors(&[])),
                }
            } else if let Some(p) = rest.strip_prefix("metadata/") {
                match mount.secrets.get(p) {
                    Some(versions) => (
                        200,
                        envelope(
                            shared.shape,
                            json!({
                                "current_version": versions.len(), "max_versions": 0, "oldest_version": 1,
                                "versions": {}, "custom_metadata": null
                            }),
                        ),
                    ),
                    None => (404, errors(&[])),
                }
            } else {
                (404, errors(&[V2_INVALID_PATH]))
            }
        }
        (2, "LIST") => match rest.strip_prefix("metadata/") {
            Some(p) => list(shared.shape, mount, p),
            None => (404, errors(&[V2_INVALID_PATH])),
        },
        _ => (405, errors(&["unsupported operation"])),
    }
}

fn list(shape: Shape, mount: &Mount, dir: &str) -> (u16, Value) {
    let dir = dir.trim_end_matches('/');
    let prefix = if dir.is_empty() {
        String::new()
    } else {
        format!("{dir}/")
    };
    let mut keys = BTreeSet::new();
    for path in mount.secrets.keys() {
        if let Some(rest) = path.strip_prefix(&prefix) {
            match rest.split_once('/') {
                Some((sub, _)) => keys.insert(format!("{sub}/")),
                None => keys.insert(rest.to_owned()),
            };
        }
    }
    if keys.is_empty() {
        return (404, errors(&[]));
    }
    let data = match shape {
        Shape::Unusual => json!({ "keys": keys, "key_info": "none", "x_future_field": 1 }),
        _ => json!({ "keys": keys }),
    };
    (200, envelope(shape, data))
}

fn login(st: &mut State, shared: &Shared, mount: &str, body: &Value, raw: &[u8]) -> (u16, Value) {
    let field = |k: &str| body.get(k).and_then(Value::as_str).unwrap_or("").to_owned();
    let echo = |msg: &str| {
        if shared.echo_errors {
            format!("{msg}: {}", String::from_utf8_lossy(raw))
        } else {
            msg.to_owned()
        }
    };
    // Routed by the mount's auth method, like Vault, not by the body's shape.
    let Some(kind) = st.auth_mounts.get(mount).copied() else {
        return (
            400,
            errors(&[&echo(&format!(
                "no handler for route \"auth/{mount}/login\""
            ))]),
        );
    };
    let login = match kind {
        AuthType::Kubernetes => {
            let (role, jwt) = (field("role"), field("jwt"));
            if role.is_empty() {
                return (400, errors(&[&echo("missing role")]));
            }
            if jwt.is_empty() {
                return (400, errors(&[&echo("missing jwt")]));
            }
            let Some(login) = st.k8s.iter().find(|l| l.mount == mount && l.who == role) else {
                return (
                    400,
                    errors(&[&echo(&format!("invalid role name \"{role}\""))]),
                );
            };
            // A JWT the TokenReview rejects: 403.
            if login.proof != jwt {
                return (403, errors(&[&echo("permission denied")]));
            }
            login
        }
        AuthType::AppRole => {
            let (role_id, secret_id) = (field("role_id"), field("secret_id"));
            if role_id.is_empty() {
                return (400, errors(&[&echo("missing role_id")]));
            }
            // Vault answers 400 for an unknown role id and a wrong secret id alike.
            match st
                .approle
                .iter()
                .find(|l| l.mount == mount && l.who == role_id)
            {
                Some(login) if login.proof == secret_id => login,
                _ => return (400, errors(&[&echo("invalid role or secret ID")])),
            }
        }
    };
    let who = login.who.clone();
    st.issued += 1;
    let token = format!("hvs.test{:04}{}", st.issued, "x".repeat(20));
    let policy = login.policy.clone();
    remember_token(&token);
    st.tokens.insert(token.clone(), policy);
    let body = match shared.shape {
        Shape::Full => json!({
            "request_id": "1", "lease_id": "", "renewable": false, "lease_duration": 0, "data": null,
            "auth": {
                "client_token": token, "accessor": "acc", "policies": ["default"],
                "token_policies": ["default"], "metadata": {"role": who},
                "lease_duration": 3600, "renewable": true, "entity_id": "e", "token_type": "service", "orphan": true
            }
        }),
        Shape::Minimal => json!({ "auth": { "client_token": token } }),
        Shape::Unusual => json!({
            "request_id": 1, "lease_id": [], "renewable": "yes", "lease_duration": "1h", "data": [],
            "warnings": {"first": "as an object"}, "wrap_info": "none",
            "auth": {
                "client_token": token, "accessor": 5, "policies": "default",
                "token_policies": null, "metadata": format!("role={who}"),
                "lease_duration": "3600", "renewable": 1, "x_future_field": {"who": who}
            },
            "x_future_field": [1, 2]
        }),
    };
    (200, body)
}
