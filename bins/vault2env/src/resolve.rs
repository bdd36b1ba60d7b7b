//! Name resolution without libc's NSS.
//!
//! A statically linked glibc binary cannot load NSS modules, so
//! `getaddrinfo` is unreliable there. vault2env resolves Vault's host itself:
//! IP literals directly, then `/etc/hosts`, then a DNS A/AAAA query over UDP
//! to the nameservers of `/etc/resolv.conf`, honouring `search` and `ndots`
//! as Kubernetes pods rely on them (`vault.vault` → `vault.vault.svc.cluster.local`).
//! Truncated answers (TC bit) are not retried over TCP: an A/AAAA answer for
//! one service name fits in 512 bytes.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr, UdpSocket};
use std::path::Path;
use std::time::{Duration, Instant};

use crate::host::Host;

/// Why a name could not be resolved.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ResolveError {
    /// Every nameserver said the name does not exist, or gave no address.
    NotFound,
    /// No nameserver answered usefully (timeouts, SERVFAIL, socket errors).
    Failed(String),
}

impl std::fmt::Display for ResolveError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            ResolveError::NotFound => f.write_str("name not found"),
            ResolveError::Failed(why) => write!(f, "dns failed: {why}"),
        }
    }
}

/// Resolver settings: the hosts file, nameservers, search list.
#[derive(Debug, Clone, Default)]
pub struct Resolver {
    /// `(address, lower-case names)` entries of `/etc/hosts`.
    pub hosts: Vec<(IpAddr, Vec<String>)>,
    /// Nameservers (port 53 from resolv.conf; tests may use any port).
    pub nameservers: Vec<SocketAddr>,
    /// Search domains.
    pub search: Vec<String>,
    /// Names with fewer dots than this try the search list first.
    pub ndots: usize,
    /// Per-query timeout.
    pub timeout: Duration,
    /// Rounds over the nameservers.
    pub attempts: u32,
}

/// Parses `/etc/hosts` content.
pub fn parse_hosts(text: &str) -> Vec<(IpAddr, Vec<String>)> {
    text.lines()
        .filter_map(|line| {
            let line = line.split('#').next().unwrap_or("");
            let mut fields = line.split_whitespace();
            let ip: IpAddr = fields.next()?.parse().ok()?;
            let names: Vec<String> = fields.map(|n| n.to_ascii_lowercase()).collect();
            (!names.is_empty()).then_some((ip, names))
        })
        .collect()
}

impl Resolver {
    /// Reads `/etc/hosts` and `/etc/resolv.conf` through the host.
    pub fn from_host(host: &dyn Host) -> Resolver {
        let read = |p: &str| {
            host.read_file(Path::new(p))
                .map(|b| String::from_utf8_lossy(&b).into_owned())
                .unwrap_or_default()
        };
        let mut r = Resolver::from_resolv_conf(&read("/etc/resolv.conf"));
        r.hosts = parse_hosts(&read("/etc/hosts"));
        r
    }

    /// Parses `/etc/resolv.conf` content (no hosts entries).
    pub fn from_resolv_conf(text: &str) -> Resolver {
        let mut r = Resolver {
            ndots: 1,
            timeout: Duration::from_secs(5),
            attempts: 2,
            ..Resolver::default()
        };
        for line in text.lines() {
            let line = line.split(['#', ';']).next().unwrap_or("");
            let mut fields = line.split_whitespace();
            match fields.next() {
                Some("nameserver") => {
                    // Zone ids (fe80::1%eth0) are not supported; skip them.
                    if let Some(ip) = fields.next().and_then(|s| s.parse::<IpAddr>().ok())
                        && r.nameservers.len() < 3
                    {
                        r.nameservers.push(SocketAddr::new(ip, 53));
                    }
                }
                Some("search" | "domain") => {
                    r.search = fields
                        .map(|d| d.trim_end_matches('.').to_ascii_lowercase())
                        .collect();
                }
                Some("options") => {
                    for opt in fields {
                        let (k, v) = opt.split_once(':').unwrap_or((opt, ""));
                        let n = v.parse::<u64>().ok();
                        match (k, n) {
                            ("ndots", Some(n)) => r.ndots = n.min(15) as usize,
                            ("timeout", Some(n)) => {
                                r.timeout = Duration::from_secs(n.clamp(1, 30));
                            }
                            ("attempts", Some(n)) => r.attempts = n.clamp(1, 5) as u32,
                            _ => {}
                        }
                    }
                }
                _ => {}
            }
        }
        if r.nameservers.is_empty() {
            // glibc's default when resolv.conf names none.
            r.nameservers
                .push(SocketAddr::new(IpAddr::V4(Ipv4Addr::LOCALHOST), 53));
        }
        r
    }

    /// The names to query, in order (search list applied like glibc).
    pub fn candidates(&self, name: &str) -> Vec<String> {
        let name = name.to_ascii_lowercase();
        if let Some(abs) = name.strip_suffix('.') {
            return vec![abs.to_owned()];
        }
        let searched = self.search.iter().map(|d| format!("{name}.{d}"));
        if name.matches('.').count() >= self.ndots {
            std::iter::once(name.clone()).chain(searched).collect()
        } else {
            searched.chain(std::iter::once(name.clone())).collect()
        }
    }

    /// Resolves a host to addresses, IPv4 first, giving up at `deadline`.
    pub fn resolve(&self, name: &str, deadline: Instant) -> Result<Vec<IpAddr>, ResolveError> {
        if let Ok(ip) = name.parse::<IpAddr>() {
            return Ok(vec![ip]);
        }
        let lower = name.trim_end_matches('.').to_ascii_lowercase();
        let from_hosts: Vec<IpAddr> = self
            .hosts
            .iter()
            .filter(|(_, names)| names.contains(&lower))
            .map(|(ip, _)| *ip)
            .collect();
        if !from_hosts.is_empty() {
            return Ok(sorted(from_hosts));
        }
        if lower == "localhost" || lower.ends_with(".localhost") {
            // RFC 6761: localhost is always loopback, even without a hosts entry.
            return Ok(vec![
                IpAddr::V4(Ipv4Addr::LOCALHOST),
                IpAddr::V6(Ipv6Addr::LOCALHOST),
            ]);
        }
        let mut last_failure = None;
        for candidate in self.candidates(name) {
            match self.query_all(&candidate, deadline) {
                Ok(ips) if !ips.is_empty() => return Ok(sorted(ips)),
                Ok(_) | Err(ResolveError::NotFound) => {}
                Err(e) => last_failure = Some(e),
            }
        }
        Err(last_failure.unwrap_or(ResolveError::NotFound))
    }

    /// A and AAAA for one fully qualified name.
    fn query_all(&self, name: &str, deadline: Instant) -> Result<Vec<IpAddr>, ResolveError> {
        let mut ips = Vec::new();
        let mut not_found = false;
        for qtype in [TYPE_A, TYPE_AAAA] {
            match self.query(name, qtype, deadline) {
                Ok(mut found) => ips.append(&mut found),
                Err(ResolveError::NotFound) => not_found = true,
                Err(e) if ips.is_empty() => return Err(e),
                Err(_) => {}
            }
            if not_found {
                break; // NXDOMAIN holds for every type
            }
        }
        if ips.is_empty() && not_found {
            return Err(ResolveError::NotFound);
        }
        Ok(ips)
    }

    /// One question to the nameservers in turn until one answers.
    fn query(
        &self,
        name: &str,
        qtype: u16,
        deadline: Instant,
    ) -> Result<Vec<IpAddr>, ResolveError> {
        let id = query_id();
        let packet = encode_query(id, name, qtype)
            .ok_or_else(|| ResolveError::Failed(format!("invalid name {name:?}")))?;
        let mut last = ResolveError::Failed("no nameserver answered".into());
        for _ in 0..self.attempts.max(1) {
            for ns in &self.nameservers {
                let left = deadline.saturating_duration_since(Instant::now());
                if left.is_zero() {
                    return Err(ResolveError::Failed("deadline reached".into()));
                }
                match ask(*ns, &packet, id, self.timeout.min(left)) {
                    Ok(Answer::Addresses(ips)) => return Ok(ips),
                    Ok(Answer::NxDomain) => return Err(ResolveError::NotFound),
                    Err(why) => last = ResolveError::Failed(format!("{ns}: {why}")),
                }
            }
        }
        Err(last)
    }
}

fn sorted(mut ips: Vec<IpAddr>) -> Vec<IpAddr> {
    ips.sort_by_key(|ip| ip.is_ipv6());
    ips.dedup();
    ips
}

const TYPE_A: u16 = 1;
const TYPE_AAAA: u16 = 28;

/// A query id that differs between runs and calls (not security-grade;
/// answers are also matched on the question and come over a connected socket).
fn query_id() -> u16 {
    use std::sync::atomic::{AtomicU16, Ordering};
    static COUNTER: AtomicU16 = AtomicU16::new(0);
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.subsec_nanos())
        .unwrap_or(0);
    (nanos as u16)
        ^ ((std::process::id() as u16).rotate_left(7))
        ^ COUNTER.fetch_add(0x9e37, Ordering::Relaxed)
}

/// A DNS query packet with recursion desired, or `None` for an invalid name.
pub fn encode_query(id: u16, name: &str, qtype: u16) -> Option<Vec<u8>> {
    let mut p = Vec::with_capacity(512);
    p.extend_from_slice(&id.to_be_bytes());
    p.extend_from_slice(&[0x01, 0x00, 0, 1, 0, 0, 0, 0, 0, 0]);
    for label in name.trim_end_matches('.').split('.') {
        if label.is_empty() || label.len() > 63 {
            return None;
        }
        p.push(label.len() as u8);
        p.extend_from_slice(label.as_bytes());
    }
    p.push(0);
    p.extend_from_slice(&qtype.to_be_bytes());
    p.extend_from_slice(&1u16.to_be_bytes());
    (p.len() <= 512).then_some(p)
}

/// What a nameserver said.
#[derive(Debug, PartialEq, Eq)]
pub enum Answer {
    /// Addresses (possibly none: the name exists without this type).
    Addresses(Vec<IpAddr>),
    /// NXDOMAIN.
    NxDomain,
}

fn ask(ns: SocketAddr, packet: &[u8], id: u16, timeout: Duration) -> Result<Answer, String> {
    let bind: SocketAddr = if ns.is_ipv4() {
        (Ipv4Addr::UNSPECIFIED, 0).into()
    } else {
        (Ipv6Addr::UNSPECIFIED, 0).into()
    };
    let sock = UdpSocket::bind(bind).map_err(|e| e.to_string())?;
    sock.connect(ns).map_err(|e| e.to_string())?;
    sock.set_read_timeout(Some(timeout.max(Duration::from_millis(1))))
        .map_err(|e| e.to_string())?;
    sock.send(packet).map_err(|e| e.to_string())?;
    let mut buf = [0u8; 1500];
    let started = Instant::now();
    loop {
        let n = sock.recv(&mut buf).map_err(|e| e.to_string())?;
        match parse_response(&buf[..n], id, &packet[12..]) {
            Some(answer) => return answer,
            // A stray or spoofed datagram: keep waiting for the real one.
            None if started.elapsed() < timeout => continue,
            None => return Err("no matching answer".into()),
        }
    }
}

/// Parses a response to the query with `id` and `question` (the query's
/// question section). `None` when the packet is not an answer to it.
pub fn parse_response(buf: &[u8], id: u16, question: &[u8]) -> Option<Result<Answer, String>> {
    if buf.len() < 12 || u16::from_be_bytes([buf[0], buf[1]]) != id || buf[2] & 0x80 == 0 {
        return None;
    }
    if buf.get(12..12 + question.len())? != question {
        return None;
    }
    if buf[2] & 0x02 != 0 {
        return Some(Err("truncated answer".into()));
    }
    match buf[3] & 0x0f {
        0 => {}
        3 => return Some(Ok(Answer::NxDomain)),
        rcode => return Some(Err(format!("rcode {rcode}"))),
    }
    let ancount = u16::from_be_bytes([buf[6], buf[7]]);
    let mut pos = 12 + question.len();
    let mut ips = Vec::new();
    for _ in 0..ancount {
        pos = skip_name(buf, pos)?;
        let header = buf.get(pos..pos + 10)?;
        let rtype = u16::from_be_bytes([header[0], header[1]]);
        let class = u16::from_be_bytes([header[2], header[3]]);
        let len = u16::from_be_bytes([header[8], header[9]]) as usize;
        let data = buf.get(pos + 10..pos + 10 + len)?;
        pos += 10 + len;
        match (rtype, class, len) {
            (TYPE_A, 1, 4) => ips.push(IpAddr::from([data[0], data[1], data[2], data[3]])),
            (TYPE_AAAA, 1, 16) => {
                let mut a = [0u8; 16];
                a.copy_from_slice(data);
                ips.push(IpAddr::from(a));
            }
            _ => {} // CNAME and others: the addresses of the chain follow
        }
    }
    Some(Ok(Answer::Addresses(ips)))
}

/// Position after a (possibly compressed) name.
fn skip_name(buf: &[u8], mut pos: usize) -> Option<usize> {
    loop {
        let len = *buf.get(pos)?;
        match len {
            0 => return Some(pos + 1),
            l if l & 0xc0 == 0xc0 => return Some(pos + 2),
            l => pos += 1 + l as usize,
        }
    }
}
