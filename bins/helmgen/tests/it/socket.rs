//! The binary over a real socket: a render, SIGHUP reloads (a bad config is
//! rejected and the old one stays), then SIGTERM: new requests get 503
//! while a request in flight still completes, and the process exits 0.

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
    let mut child = Command::new(env!("CARGO_BIN_EXE_helmgen"))
        .args([
            "serve",
            "--listen",
            "127.0.0.1:0",
            "--drain-delay-ms",
            "1500",
            "--platform",
        ])
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
