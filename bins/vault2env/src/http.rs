//! A minimal blocking HTTP/1.1 client: just what Vault's API needs.
//!
//! Why hand-rolled: vault2env sends a handful of small JSON requests to one
//! host. `std::net` plus rustls (ring provider) for TLS keeps the static
//! binary small, needs no async runtime and lets vault2env resolve the host
//! itself (see [`crate::resolve`]). One connection is kept alive and reused;
//! a request that fails on a reused connection before any response byte is
//! retried once on a fresh one.

use std::io::{self, BufRead, BufReader, Read, Write};
use std::net::{IpAddr, SocketAddr, TcpStream};
use std::sync::Arc;
use std::time::{Duration, Instant};

use crate::config::{Address, Scheme};

/// Largest response body accepted (Vault answers are small); a larger one
/// is a protocol error.
pub const MAX_BODY: usize = 32 << 20;
/// Largest header section accepted.
const MAX_HEADERS: usize = 64 << 10;

/// An HTTP response. `Debug` shows the status and the body's length only:
/// the body may hold secrets or a token.
pub struct Response {
    /// Status code.
    pub status: u16,
    /// Body (decoded from chunked transfer encoding if needed).
    pub body: Vec<u8>,
    /// The `Location` header (redirects from a standby).
    pub location: Option<String>,
}

/// A transport failure (no usable HTTP response).
#[derive(Debug)]
pub struct TransportError {
    /// What happened (no secret: built from addresses and I/O errors only).
    pub message: String,
    /// `true` when something answered, but not with usable HTTP (malformed
    /// response, oversized body, TLS certificate rejected): retrying will
    /// not help and Vault is not merely unreachable. `false` for connection
    /// failures and timeouts.
    pub wrong_answer: bool,
}

impl TransportError {
    /// Connection refused or reset, timeout: the server was not reached.
    pub fn unreachable(message: impl Into<String>) -> Self {
        TransportError {
            message: message.into(),
            wrong_answer: false,
        }
    }
    /// Something answered, but not with usable HTTP.
    pub fn wrong(message: impl Into<String>) -> Self {
        TransportError {
            message: message.into(),
            wrong_answer: true,
        }
    }
}

impl std::fmt::Display for TransportError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.message)
    }
}

impl From<io::Error> for TransportError {
    fn from(e: io::Error) -> Self {
        // rustls reports certificate and protocol failures as InvalidData.
        if e.kind() == io::ErrorKind::InvalidData {
            TransportError::wrong(e.to_string())
        } else {
            TransportError::unreachable(e.to_string())
        }
    }
}

/// A TCP socket that enforces an absolute deadline on every read and write:
/// each call first checks the deadline, then bounds the socket by the time
/// left. A server that trickles one byte at a time therefore cannot stretch
/// a request past its deadline (a per-read timeout alone would let it).
struct Timed {
    tcp: TcpStream,
    until: Instant,
}

impl Timed {
    fn left(&self) -> io::Result<Duration> {
        let left = self.until.saturating_duration_since(Instant::now());
        if left.is_zero() {
            return Err(io::Error::new(io::ErrorKind::TimedOut, "deadline reached"));
        }
        Ok(left)
    }
}

impl Read for Timed {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let left = self.left()?;
        self.tcp.set_read_timeout(Some(left))?;
        self.tcp.read(buf)
    }
}

impl Write for Timed {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        let left = self.left()?;
        self.tcp.set_write_timeout(Some(left))?;
        self.tcp.write(buf)
    }
    fn flush(&mut self) -> io::Result<()> {
        self.tcp.flush()
    }
}

/// Plain TCP or TLS over a [`Timed`] socket (TLS reads the socket through
/// the wrapper too, so the handshake and every record obey the deadline).
enum Transport {
    Plain(Timed),
    Tls(Box<rustls::StreamOwned<rustls::ClientConnection, Timed>>),
}

impl Transport {
    fn set_until(&mut self, until: Instant) {
        match self {
            Transport::Plain(t) => t.until = until,
            Transport::Tls(s) => s.sock.until = until,
        }
    }
}

impl Read for Transport {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        match self {
            Transport::Plain(t) => t.read(buf),
            Transport::Tls(s) => s.read(buf),
        }
    }
}

impl Write for Transport {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        match self {
            Transport::Plain(t) => t.write(buf),
            Transport::Tls(s) => s.write(buf),
        }
    }
    fn flush(&mut self) -> io::Result<()> {
        match self {
            Transport::Plain(t) => t.flush(),
            Transport::Tls(s) => s.flush(),
        }
    }
}

/// A client for one Vault address.
pub struct Client {
    addr: Address,
    ips: Vec<IpAddr>,
    tls: Option<Arc<rustls::ClientConfig>>,
    conn: Option<Conn>,
    /// Resolves the host of a redirect target (IP literals need none).
    resolver: Option<crate::resolve::Resolver>,
}

/// An open connection: the buffered (maybe TLS) stream over a [`Timed`] socket.
struct Conn {
    reader: BufReader<Transport>,
}

impl std::fmt::Debug for Client {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Client")
            .field("addr", &self.addr)
            .field("ips", &self.ips)
            .finish_non_exhaustive()
    }
}

impl std::fmt::Debug for Response {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Response")
            .field("status", &self.status)
            .field("body_len", &self.body.len())
            .finish_non_exhaustive()
    }
}

/// One outgoing request. `Debug` hides the token and the body (a JWT or
/// AppRole credentials at login).
pub struct Request<'a> {
    /// `GET`, `POST`, `LIST`, ...
    pub method: &'a str,
    /// Path below the address prefix, starting with `/`.
    pub path: &'a str,
    /// `X-Vault-Token`, if any.
    pub token: Option<&'a str>,
    /// JSON body, if any.
    pub body: Option<&'a [u8]>,
}

impl std::fmt::Debug for Request<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Request")
            .field("method", &self.method)
            .field("path", &self.path)
            .field("token", &self.token.map(|_| "<redacted>"))
            .field("body_len", &self.body.map(<[u8]>::len))
            .finish()
    }
}

impl Client {
    /// A client for `addr` at the already resolved `ips`; `tls` is required for https.
    pub fn new(addr: Address, ips: Vec<IpAddr>, tls: Option<Arc<rustls::ClientConfig>>) -> Self {
        Client {
            addr,
            ips,
            tls,
            conn: None,
            resolver: None,
        }
    }

    /// Uses `resolver` for the host names of redirect targets.
    pub fn with_resolver(mut self, resolver: crate::resolve::Resolver) -> Self {
        self.resolver = Some(resolver);
        self
    }

    /// Follows a redirect (a standby pointing at the active node): from now
    /// on requests go to the `location`'s host, and the returned path is
    /// the one to re-send the request to. Only the same scheme is followed
    /// (never https to http, which would send the token in clear text).
    pub fn follow(&mut self, location: &str, deadline: Instant) -> Result<String, TransportError> {
        let shown = crate::config::redact_userinfo(location);
        let (addr, path) = if location.starts_with('/') {
            let addr = Address {
                prefix: String::new(),
                ..self.addr.clone()
            };
            (addr, location.to_owned())
        } else {
            let Some(i) = location.find("://") else {
                return Err(TransportError::wrong(format!(
                    "redirect to {shown:?} is not an absolute URL or path"
                )));
            };
            let after = &location[i + 3..];
            let end = after.find('/').map_or(location.len(), |j| i + 3 + j);
            let addr = Address::parse(&location[..end]).map_err(|e| {
                TransportError::wrong(format!("redirect to an invalid address: {e}"))
            })?;
            let path = match &location[end..] {
                "" => "/".to_owned(),
                p => p.to_owned(),
            };
            (addr, path)
        };
        if addr.scheme != self.addr.scheme {
            return Err(TransportError::wrong(format!(
                "redirect to {shown:?} refused: it changes the scheme"
            )));
        }
        let ips = if addr.host == self.addr.host {
            self.ips.clone()
        } else if let Ok(ip) = addr.host.parse::<IpAddr>() {
            vec![ip]
        } else {
            let resolver = self.resolver.as_ref().ok_or_else(|| {
                TransportError::wrong(format!("redirect to {shown:?}: no resolver for its host"))
            })?;
            resolver.resolve(&addr.host, deadline).map_err(|e| {
                TransportError::unreachable(format!("redirect to {shown:?}: resolve: {e}"))
            })?
        };
        self.addr = addr;
        self.ips = ips;
        self.conn = None;
        Ok(path)
    }

    /// Sends a request, waiting at most until `deadline` (and `per_try`).
    pub fn send(
        &mut self,
        req: &Request<'_>,
        deadline: Instant,
        per_try: Duration,
    ) -> Result<Response, TransportError> {
        let until = Instant::now()
            .checked_add(per_try)
            .map_or(deadline, |t| t.min(deadline));
        if let Some(mut conn) = self.conn.take() {
            match exchange(&mut conn, &self.addr, req, until) {
                Ok((resp, keep)) => {
                    if keep {
                        self.conn = Some(conn);
                    }
                    return Ok(resp);
                }
                Err(Failure::BeforeResponse(_)) => {} // stale keep-alive connection
                Err(Failure::During(e)) => return Err(e),
            }
        }
        let mut conn = self.connect(until)?;
        match exchange(&mut conn, &self.addr, req, until) {
            Ok((resp, keep)) => {
                if keep {
                    self.conn = Some(conn);
                }
                Ok(resp)
            }
            Err(Failure::BeforeResponse(e) | Failure::During(e)) => Err(e),
        }
    }

    fn connect(&self, until: Instant) -> Result<Conn, TransportError> {
        let mut last = TransportError::unreachable("no address");
        for ip in &self.ips {
            let left = until.saturating_duration_since(Instant::now());
            if left.is_zero() {
                return Err(TransportError::unreachable("timed out"));
            }
            let sa = SocketAddr::new(*ip, self.addr.port);
            match TcpStream::connect_timeout(&sa, left) {
                Ok(tcp) => {
                    let _ = tcp.set_nodelay(true);
                    let tcp = Timed { tcp, until };
                    let stream = match (&self.addr.scheme, &self.tls) {
                        (Scheme::Http, _) => Transport::Plain(tcp),
                        (Scheme::Https, Some(cfg)) => {
                            let name = server_name(&self.addr.host)?;
                            let conn = rustls::ClientConnection::new(cfg.clone(), name)
                                .map_err(|e| TransportError::wrong(format!("tls: {e}")))?;
                            Transport::Tls(Box::new(rustls::StreamOwned::new(conn, tcp)))
                        }
                        (Scheme::Https, None) => {
                            return Err(TransportError::wrong("https without a tls configuration"));
                        }
                    };
                    return Ok(Conn {
                        reader: BufReader::with_capacity(16 << 10, stream),
                    });
                }
                Err(e) => last = TransportError::unreachable(format!("connect {sa}: {e}")),
            }
        }
        Err(last)
    }
}

fn server_name(host: &str) -> Result<rustls::pki_types::ServerName<'static>, TransportError> {
    if let Ok(ip) = host.parse::<IpAddr>() {
        return Ok(rustls::pki_types::ServerName::IpAddress(ip.into()));
    }
    rustls::pki_types::ServerName::try_from(host.to_owned())
        .map_err(|_| TransportError::wrong(format!("invalid tls server name {host:?}")))
}

pub(crate) enum Failure {
    /// Nothing of a response was read: safe to retry on a new connection.
    BeforeResponse(TransportError),
    /// The response broke off.
    During(TransportError),
}

/// Writes one request and reads its response; returns whether the connection may be reused.
fn exchange(
    c: &mut Conn,
    addr: &Address,
    req: &Request<'_>,
    until: Instant,
) -> Result<(Response, bool), Failure> {
    let left = until.saturating_duration_since(Instant::now());
    if left.is_zero() {
        return Err(Failure::BeforeResponse(TransportError::unreachable(
            "timed out",
        )));
    }
    // Every read and write of this exchange checks `until` (see [`Timed`]).
    c.reader.get_mut().set_until(until);
    let conn = &mut c.reader;

    let mut head = format!(
        "{} {}{} HTTP/1.1\r\nHost: {}\r\nUser-Agent: vault2env\r\nAccept: application/json\r\nX-Vault-Request: true\r\n",
        req.method,
        addr.prefix,
        req.path,
        host_header(addr),
    );
    if let Some(token) = req.token {
        head.push_str("X-Vault-Token: ");
        head.push_str(token);
        head.push_str("\r\n");
    }
    let body = req.body.unwrap_or(b"");
    if req.body.is_some() || matches!(req.method, "POST" | "PUT") {
        head.push_str("Content-Type: application/json\r\n");
        head.push_str(&format!("Content-Length: {}\r\n", body.len()));
    }
    head.push_str("\r\n");
    let mut out = head.into_bytes();
    out.extend_from_slice(body);
    let w = conn.get_mut();
    w.write_all(&out)
        .and_then(|_| w.flush())
        .map_err(|e| Failure::BeforeResponse(e.into()))?;
    // The request held the token; drop our copy of the bytes promptly.
    out.fill(0);

    read_response(conn, req.method)
}

/// Reads one response (status line, headers, body) from `r`; returns it and
/// whether the connection may be reused. Never panics, whatever the bytes:
/// sizes are checked against [`MAX_BODY`] before anything is allocated.
pub(crate) fn read_response(
    r: &mut impl BufRead,
    method: &str,
) -> Result<(Response, bool), Failure> {
    let before = |e: io::Error| Failure::BeforeResponse(e.into());
    let during = |e: TransportError| Failure::During(e);
    let mut line = String::new();
    let n = read_line(r, &mut line).map_err(before)?;
    if n == 0 {
        return Err(Failure::BeforeResponse(TransportError::unreachable(
            "connection closed",
        )));
    }
    let status = parse_status(&line)
        .ok_or_else(|| Failure::During(TransportError::wrong("malformed http status line")))?;
    let mut content_length = None;
    let mut chunked = false;
    let mut close = false;
    let mut location = None;
    let mut header_bytes = 0usize;
    loop {
        line.clear();
        let n = read_line(r, &mut line).map_err(|e| during(e.into()))?;
        header_bytes = header_bytes.saturating_add(n);
        if n == 0 || header_bytes > MAX_HEADERS {
            return Err(during(TransportError::wrong("malformed http headers")));
        }
        let l = line.trim_end();
        if l.is_empty() {
            break;
        }
        if let Some((name, value)) = l.split_once(':') {
            let value = value.trim();
            if name.eq_ignore_ascii_case("content-length") {
                content_length = Some(
                    value
                        .parse::<usize>()
                        .map_err(|_| during(TransportError::wrong("malformed content-length")))?,
                );
            } else if name.eq_ignore_ascii_case("transfer-encoding") {
                chunked = value.to_ascii_lowercase().contains("chunked");
            } else if name.eq_ignore_ascii_case("location") {
                location = Some(value.to_owned());
            } else if name.eq_ignore_ascii_case("connection") {
                close = value.eq_ignore_ascii_case("close");
            }
        }
    }
    let no_body = method == "HEAD" || status == 204 || status == 304 || status / 100 == 1;
    let body = if no_body {
        Vec::new()
    } else if chunked {
        read_chunked(r).map_err(during)?
    } else if let Some(len) = content_length {
        if len > MAX_BODY {
            return Err(during(TransportError::wrong("response too large")));
        }
        let mut b = vec![0; len];
        r.read_exact(&mut b).map_err(|e| during(e.into()))?;
        b
    } else {
        close = true;
        let mut b = Vec::new();
        r.take(MAX_BODY as u64 + 1)
            .read_to_end(&mut b)
            .map_err(|e| during(e.into()))?;
        if b.len() > MAX_BODY {
            return Err(during(TransportError::wrong("response too large")));
        }
        b
    };
    Ok((
        Response {
            status,
            body,
            location,
        },
        !close,
    ))
}

fn host_header(addr: &Address) -> String {
    let host = if addr.host.contains(':') {
        format!("[{}]", addr.host)
    } else {
        addr.host.clone()
    };
    let default = if addr.scheme == Scheme::Https {
        443
    } else {
        80
    };
    if addr.port == default {
        host
    } else {
        format!("{host}:{}", addr.port)
    }
}

fn read_line(r: &mut impl BufRead, line: &mut String) -> io::Result<usize> {
    let mut buf = Vec::new();
    let n = r.take(8192).read_until(b'\n', &mut buf)?;
    line.push_str(&String::from_utf8_lossy(&buf));
    Ok(n)
}

fn parse_status(line: &str) -> Option<u16> {
    let mut parts = line.split_whitespace();
    let version = parts.next()?;
    if !version.starts_with("HTTP/1.") {
        return None;
    }
    let code: u16 = parts.next()?.parse().ok()?;
    (100..600).contains(&code).then_some(code)
}

fn read_chunked(r: &mut impl BufRead) -> Result<Vec<u8>, TransportError> {
    let mut body = Vec::new();
    let mut line = String::new();
    loop {
        line.clear();
        read_line(r, &mut line)?;
        let size_str = line.trim().split(';').next().unwrap_or("");
        let size = usize::from_str_radix(size_str, 16)
            .map_err(|_| TransportError::wrong("malformed chunk size"))?;
        if size == 0 {
            // Trailers until an empty line.
            loop {
                line.clear();
                if read_line(r, &mut line)? == 0 || line.trim().is_empty() {
                    return Ok(body);
                }
            }
        }
        // Checked: a chunk size near usize::MAX must not wrap past the cap.
        let start = body.len();
        let end = start
            .checked_add(size)
            .filter(|end| *end <= MAX_BODY)
            .ok_or_else(|| TransportError::wrong("response too large"))?;
        body.resize(end, 0);
        r.read_exact(&mut body[start..end])?;
        line.clear();
        read_line(r, &mut line)?;
    }
}
