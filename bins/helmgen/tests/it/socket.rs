//! The binary over a real socket: a render, SIGHUP reloads (a bad config is
//! rejected and the old one stays), then SIGTERM: new requests get 503
//! while a request in flight still completes, and the process exits 0; the
//! graceful shutdown itself (no drain delay: the listener closes while a
//! request is in flight, which completes); a second SIGTERM; the header-read
//! timeout and the bound on open connections.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use rustix::process::{Pid, Signal, kill_process};

use crate::fixture;

struct Server {
    child: Child,
    addr: String,
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Server {
    fn signal(&self, sig: Signal) {
        kill_process(Pid::from_child(&self.child), sig).unwrap();
    }

    fn connect(&self) -> TcpStream {
        let s = TcpStream::connect(&self.addr).unwrap();
        s.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
        s
    }

    /// One request on a fresh connection; returns status and body.
    fn call(&self, method: &str, path: &str, content_type: &str, body: &[u8]) -> (u16, String) {
        let mut s = self.connect();
        write!(
            s,
            "{method} {path} HTTP/1.1\r\nHost: x\r\nConnection: close\r\nContent-Type: {content_type}\r\nContent-Length: {}\r\n\r\n",
            body.len()
        )
        .unwrap();
        s.write_all(body).unwrap();
        read_response(s)
    }

    fn platform_version(&self) -> String {
        let (status, body) = self.call("GET", "/v1/platform", "text/plain", b"");
        assert_eq!(status, 200, "{body}");
        let doc: serde_json::Value = serde_json::from_str(&body).unwrap();
        doc["version_id"].as_str().unwrap().to_owned()
    }
}

fn read_response(mut s: TcpStream) -> (u16, String) {
    let mut raw = Vec::new();
    s.read_to_end(&mut raw).unwrap();
    let text = String::from_utf8_lossy(&raw).into_owned();
    let status = text
        .split(' ')
        .nth(1)
        .and_then(|c| c.parse().ok())
        .unwrap_or_else(|| panic!("no status line in {text:?}"));
    let body = text
        .split_once("\r\n\r\n")
        .map(|(_, b)| b.to_owned())
        .unwrap_or_default();
    (status, body)
}

fn start(platform: &std::path::Path) -> Server {
    start_with(platform, &["--drain-delay-ms", "1500"])
}

fn start_with(platform: &std::path::Path, args: &[&str]) -> Server {
    let mut child = Command::new(env!("CARGO_BIN_EXE_helmgen"))
        .args(["serve", "--listen", "127.0.0.1:0"])
        .args(args)
        .arg("--platform")
        .arg(platform)
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let mut line = String::new();
    BufReader::new(child.stdout.take().unwrap())
        .read_line(&mut line)
        .unwrap();
    let addr = line
        .trim()
        .strip_prefix("helmgen listening on http://")
        .unwrap_or_else(|| panic!("unexpected first line {line:?}"))
        .to_owned();
    Server { child, addr }
}

#[test]
fn serve_reload_and_drain_over_a_socket() {
    let dir = tempfile::tempdir().unwrap();
    let platform = dir.path().join("platform.toml");
    std::fs::write(&platform, platform_config::BUILTIN_TOML).unwrap();
    let mut server = start(&platform);
    let app = fixture("fixtures/app-toml/ok/wordcounter.toml");
    let render = "/v1/render?env=prod&image_tag=abc123";

    let (status, body) = server.call("POST", render, "application/toml", &app);
    assert_eq!(status, 200, "{body}");
    assert!(
        body.starts_with("---\napiVersion: v1\nkind: Namespace"),
        "{body}"
    );

    // SIGHUP with a broken file: rejected, the old config stays.
    let first = server.platform_version();
    std::fs::write(&platform, "version = \"2027.1.0\"\n[nonsense").unwrap();
    server.signal(Signal::HUP);
    std::thread::sleep(Duration::from_millis(300));
    assert_eq!(server.platform_version(), first);
    let (status, _) = server.call("GET", "/healthz", "text/plain", b"");
    assert_eq!(status, 200, "still serving after a bad reload");

    // SIGHUP with a good file: the new config is served.
    let next =
        platform_config::BUILTIN_TOML.replace("version = \"2026.11.0\"", "version = \"2027.1.0\"");
    std::fs::write(&platform, next).unwrap();
    server.signal(Signal::HUP);
    let deadline = Instant::now() + Duration::from_secs(5);
    while server.platform_version() == first {
        assert!(Instant::now() < deadline, "the reload never happened");
        std::thread::sleep(Duration::from_millis(50));
    }
    assert!(server.platform_version().starts_with("2027.1.0+"));

    // A request in flight: headers and half the body are sent...
    let mut inflight = server.connect();
    write!(
        inflight,
        "POST {render} HTTP/1.1\r\nHost: x\r\nConnection: close\r\nContent-Type: application/toml\r\nContent-Length: {}\r\n\r\n",
        app.len()
    )
    .unwrap();
    let half = app.len() / 2;
    inflight.write_all(&app[..half]).unwrap();
    inflight.flush().unwrap();
    std::thread::sleep(Duration::from_millis(300));

    // ...then SIGTERM: new renders and readiness answer 503...
    server.signal(Signal::TERM);
    std::thread::sleep(Duration::from_millis(300));
    let (status, body) = server.call("POST", render, "application/toml", &app);
    assert_eq!(status, 503, "{body}");
    assert!(body.contains("urn:paas:problem:shutting-down"), "{body}");
    let (status, _) = server.call("GET", "/readyz", "text/plain", b"");
    assert_eq!(status, 503);

    // ...while the request in flight completes normally.
    inflight.write_all(&app[half..]).unwrap();
    let (status, body) = read_response(inflight);
    assert_eq!(status, 200, "{body}");
    assert!(body.contains("kind: Deployment"));

    let deadline = Instant::now() + Duration::from_secs(15);
    let code = loop {
        if let Some(code) = server.child.try_wait().unwrap() {
            break code;
        }
        assert!(
            Instant::now() < deadline,
            "helmgen did not exit after SIGTERM"
        );
        std::thread::sleep(Duration::from_millis(50));
    };
    assert!(code.success(), "exit status {code:?}");
    assert!(
        TcpStream::connect(&server.addr).is_err(),
        "the listener is closed after the drain"
    );
}

fn builtin_platform() -> (tempfile::TempDir, std::path::PathBuf) {
    let dir = tempfile::tempdir().unwrap();
    let platform = dir.path().join("platform.toml");
    std::fs::write(&platform, platform_config::BUILTIN_TOML).unwrap();
    (dir, platform)
}

fn wait_exit(server: &mut Server, within: Duration) -> std::process::ExitStatus {
    let deadline = Instant::now() + within;
    loop {
        if let Some(code) = server.child.try_wait().unwrap() {
            return code;
        }
        assert!(Instant::now() < deadline, "helmgen did not exit");
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// No drain delay: SIGTERM closes the listener at once (new connections are
/// refused) while the request in flight still completes, then exit 0.
#[test]
fn graceful_shutdown_finishes_the_request_in_flight() {
    let (_dir, platform) = builtin_platform();
    let mut server = start_with(&platform, &["--drain-delay-ms", "0"]);
    let app = fixture("fixtures/app-toml/ok/wordcounter.toml");
    let mut inflight = server.connect();
    write!(
        inflight,
        "POST /v1/render?env=prod&image_tag=abc123 HTTP/1.1\r\nHost: x\r\nConnection: close\r\nContent-Type: application/toml\r\nContent-Length: {}\r\n\r\n",
        app.len()
    )
    .unwrap();
    let half = app.len() / 2;
    inflight.write_all(&app[..half]).unwrap();
    inflight.flush().unwrap();
    std::thread::sleep(Duration::from_millis(300));

    server.signal(Signal::TERM);
    let deadline = Instant::now() + Duration::from_secs(5);
    while TcpStream::connect(&server.addr).is_ok() {
        assert!(Instant::now() < deadline, "the listener never closed");
        std::thread::sleep(Duration::from_millis(20));
    }
    assert!(
        server.child.try_wait().unwrap().is_none(),
        "exited with a request in flight"
    );

    inflight.write_all(&app[half..]).unwrap();
    let (status, body) = read_response(inflight);
    assert_eq!(status, 200, "{body}");
    assert!(body.contains("kind: Deployment"));
    let code = wait_exit(&mut server, Duration::from_secs(10));
    assert!(code.success(), "exit status {code:?}");
}

/// A second SIGTERM during the drain delay exits at once (status 1).
#[test]
fn a_second_sigterm_exits_at_once() {
    let (_dir, platform) = builtin_platform();
    let mut server = start_with(&platform, &["--drain-delay-ms", "60000"]);
    server.signal(Signal::TERM);
    std::thread::sleep(Duration::from_millis(200));
    assert!(server.child.try_wait().unwrap().is_none(), "still draining");
    server.signal(Signal::TERM);
    let code = wait_exit(&mut server, Duration::from_secs(10));
    assert_eq!(code.code(), Some(1), "{code:?}");
}

/// A client that sends part of its headers and stops is disconnected after
/// the header timeout instead of holding its connection forever.
#[test]
fn partial_headers_are_cut_off() {
    let (_dir, platform) = builtin_platform();
    let server = start_with(&platform, &["--header-timeout-ms", "300"]);
    let mut slow = server.connect();
    slow.write_all(b"GET /healthz HTTP/1.1\r\nHost: x\r\nX-Slow: ")
        .unwrap();
    slow.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
    let mut raw = Vec::new();
    // EOF (or a reset) from the server; a read timeout means it is still open.
    if let Err(e) = slow.read_to_end(&mut raw) {
        assert!(
            !matches!(
                e.kind(),
                std::io::ErrorKind::WouldBlock | std::io::ErrorKind::TimedOut
            ),
            "the connection stayed open: {e}"
        );
    }
    let (status, _) = server.call("GET", "/healthz", "text/plain", b"");
    assert_eq!(status, 200);
}

/// With `--max-connections 1`, a second connection is not served while the
/// first is open, and is served once it closes.
#[test]
fn open_connections_are_bounded() {
    let (_dir, platform) = builtin_platform();
    let server = start_with(&platform, &["--max-connections", "1"]);
    let first = server.connect();
    std::thread::sleep(Duration::from_millis(200));
    let mut second = server.connect();
    second
        .write_all(b"GET /healthz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
        .unwrap();
    second
        .set_read_timeout(Some(Duration::from_millis(500)))
        .unwrap();
    let mut byte = [0u8; 1];
    let waiting = second.read(&mut byte);
    assert!(
        matches!(&waiting, Err(e) if matches!(e.kind(), std::io::ErrorKind::WouldBlock | std::io::ErrorKind::TimedOut)),
        "served beyond the bound: {waiting:?}"
    );
    drop(first);
    second
        .set_read_timeout(Some(Duration::from_secs(10)))
        .unwrap();
    let (status, _) = read_response(second);
    assert_eq!(status, 200);
}
