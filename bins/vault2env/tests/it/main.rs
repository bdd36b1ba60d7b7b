//! Integration tests: the real `vault2env` binary against the in-repo test
//! server (Kubernetes auth, KV v2, LIST, denials, TLS, faults) and against
//! RustyVault (token and AppRole auth, KV v1). Every run goes through
//! [`run`], which asserts that no secret value, token or JWT appears in
//! anything vault2env printed.

mod deps;
mod library;
mod rustyvault;
mod testserver;

use std::collections::BTreeMap;
use std::ffi::OsStr;
use std::path::PathBuf;
use std::process::{Command, Stdio};

/// What one run of vault2env produced.
#[derive(Debug)]
pub struct Run {
    /// Exit code (128 + signal when killed).
    pub code: i32,
    /// vault2env's stdout (the child writes only to files).
    pub stdout: String,
    /// vault2env's stderr.
    pub stderr: String,
    /// The child's environment, when it ran.
    pub child_env: Option<BTreeMap<String, String>>,
    /// The child's `ulimit -c`, when it ran.
    pub child_core_limit: Option<String>,
    _dir: tempfile::TempDir,
}

impl Run {
    /// A variable of the child's environment.
    pub fn child(&self, name: &str) -> Option<&str> {
        self.child_env
            .as_ref()
            .and_then(|e| e.get(name))
            .map(String::as_str)
    }
}

/// The vault2env binary with exactly `env` (plus a PATH), nothing inherited.
pub fn vault2env<K: AsRef<OsStr>, V: AsRef<OsStr>>(env: &[(K, V)]) -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_vault2env"));
    cmd.env_clear().env("PATH", "/usr/bin:/bin");
    for (k, v) in env {
        cmd.env(k, v);
    }
    cmd
}

/// A local TCP port nothing listens on (for a server started next).
pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("free port")
        .port()
}

/// A fake server at the returned `http://` URL that answers every request
/// with the raw bytes `answer` and closes the connection (for servers that
/// answer wrongly: proxies, other protocols, broken HTTP).
pub fn fake_server(answer: &[u8]) -> String {
    use std::io::{Read, Write};
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    let url = format!("http://{}", listener.local_addr().expect("addr"));
    let answer = answer.to_vec();
    std::thread::spawn(move || {
        for conn in listener.incoming() {
            let Ok(mut conn) = conn else { continue };
            // Read the request head (the bodies sent are small), then answer.
            let _ = conn.set_read_timeout(Some(std::time::Duration::from_millis(200)));
            let mut buf = [0u8; 8192];
            let _ = conn.read(&mut buf);
            let _ = conn.write_all(&answer);
        }
    });
    url
}

/// A scratch directory with files for a run (JWT, CA bundle, ...).
pub fn scratch() -> tempfile::TempDir {
    tempfile::tempdir().expect("tempdir")
}

/// Runs vault2env with exactly `env` (plus PATH) and `args`. When `args`
/// has no command, the child is a shell that dumps its environment and core
/// limit to files. Asserts that none of `secrets` appears in the output.
pub fn run<K: AsRef<OsStr>, V: AsRef<OsStr>>(
    env: &[(K, V)],
    args: &[&str],
    secrets: &[&str],
) -> Run {
    let dir = scratch();
    let out: PathBuf = dir.path().join("child-env");
    let core: PathBuf = dir.path().join("child-core");
    let mut cmd = vault2env(env);
    let script = format!(
        "env -0 > '{}'; ulimit -c > '{}'",
        out.display(),
        core.display()
    );
    let mut argv: Vec<String> = args.iter().map(|s| (*s).to_owned()).collect();
    if !argv.iter().any(|a| a == "--") && !argv.iter().any(|a| a == "--check") {
        argv.extend(["--".into(), "/bin/sh".into(), "-c".into(), script]);
    }
    let output = cmd
        .args(&argv)
        .stdin(Stdio::null())
        .output()
        .expect("spawn vault2env");
    let child_env = std::fs::read(&out).ok().map(|bytes| {
        bytes
            .split(|b| *b == 0)
            .filter(|e| !e.is_empty())
            .filter_map(|e| {
                let s = String::from_utf8_lossy(e);
                s.split_once('=').map(|(k, v)| (k.to_owned(), v.to_owned()))
            })
            .collect()
    });
    let child_core_limit = std::fs::read_to_string(&core)
        .ok()
        .map(|s| s.trim().to_owned());
    let run = Run {
        code: output.status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&output.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&output.stderr).into_owned(),
        child_env,
        child_core_limit,
        _dir: dir,
    };
    assert_no_leak(&run.stdout, &run.stderr, secrets);
    run
}

/// Fails when any secret, or any token a test server of this process has
/// issued or was given, appears in vault2env's output.
pub fn assert_no_leak(stdout: &str, stderr: &str, secrets: &[&str]) {
    let tokens = vault_testserver::issued_tokens();
    for s in secrets
        .iter()
        .copied()
        .chain(tokens.iter().map(String::as_str))
    {
        assert!(!s.is_empty());
        assert!(
            !stdout.contains(s) && !stderr.contains(s),
            "secret {s:?} leaked into vault2env's output:\nstdout: {stdout}\nstderr: {stderr}"
        );
    }
}
