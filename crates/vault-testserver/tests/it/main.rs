//! The `vault-testserver` binary: its command line.

use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};

fn bin() -> Command {
    Command::new(env!("CARGO_BIN_EXE_vault-testserver"))
}

/// One case: arguments, expected exit code, a phrase of stdout or stderr.
fn check(args: &[&str], code: i32, phrase: &str) {
    let out = bin().args(args).output().expect("run");
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(out.status.code(), Some(code), "{args:?}: {text}");
    assert!(text.contains(phrase), "{args:?}: {text}");
}

#[test]
fn help_and_bad_arguments_do_not_start_a_server() {
    check(&["--help"], 0, "usage: vault-testserver");
    check(&["-h"], 0, "--port <port>");
    check(&["--bogus"], 2, "unknown argument \"--bogus\"");
    check(&["--port"], 2, "--port needs a value");
    check(&["--port", "99999"], 2, "invalid port");
    check(&["--jwt", ""], 2, "must not be empty");
}

#[test]
fn serves_on_the_given_port_and_prints_the_address() {
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("free port")
        .port();
    let mut child = bin()
        .args(["--port", &port.to_string(), "--token", "s.cli-token"])
        .stdout(Stdio::piped())
        .spawn()
        .expect("spawn");
    let mut line = String::new();
    BufReader::new(child.stdout.take().expect("stdout"))
        .read_line(&mut line)
        .expect("first line");
    let _ = child.kill();
    let _ = child.wait();
    assert_eq!(line.trim(), format!("VAULT_ADDR=http://127.0.0.1:{port}"));
}
