//! The binary against a real Vault-compatible server: RustyVault (`rvault`).
//!
//! The test starts `rvault server` on a free loopback port with a temporary
//! HCL config, initialises and unseals it over the API, writes KV v1
//! secrets, creates a child token and an AppRole, then runs vault2env with
//! token and AppRole auth. When `rvault` is not on the PATH the test fails
//! under CI (`CI` set) and otherwise prints a skip message.
//!
//! RustyVault 0.2.1 differs from Vault in ways this relies on or documents:
//! `secret/` is a pre-mounted KV v1; `sys/internal/ui/mounts` answers 404
//! (so `auto` falls back to v1, like Vault's CLI does); errors are
//! `{"error":"..."}`; `LIST` works only as a method; `auth/token/revoke-self`
//! is missing (500), so revocation is reported as a warning.

use std::net::{IpAddr, Ipv4Addr};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::{Value, json};
use vault2env::config::Address;
use vault2env::http::{Client, Request};

use crate::{run, scratch};

fn find_rvault() -> Option<PathBuf> {
    #[allow(clippy::disallowed_methods)] // reason: locating an external tool for the test
    let path = std::env::var("PATH").unwrap_or_default();
    std::env::split_paths(&path)
        .map(|d| d.join("rvault"))
        .find(|p| p.is_file())
}

/// A running `rvault server`, killed on drop.
struct RustyVault {
    child: Child,
    url: String,
    client: Client,
    root: String,
    _dir: tempfile::TempDir,
}

impl Drop for RustyVault {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl RustyVault {
    fn start(bin: &Path) -> RustyVault {
        let dir = scratch();
        let port = crate::free_port();
        let config = dir.path().join("config.hcl");
        std::fs::write(
            &config,
            format!(
                "storage \"file\" {{\n  path = \"{data}\"\n}}\nlistener \"tcp\" {{\n  address = \"127.0.0.1:{port}\"\n  tls_disable = true\n}}\napi_addr = \"http://127.0.0.1:{port}\"\nlog_level = \"warn\"\nwork_dir = \"{work}\"\n",
                data = dir.path().join("data").display(),
                work = dir.path().display(),
            ),
        )
        .expect("write config");
        let log = std::fs::File::create(dir.path().join("rvault.log")).expect("log");
        let child = Command::new(bin)
            .args(["server", "--config"])
            .arg(&config)
            .stdin(Stdio::null())
            .stdout(log.try_clone().expect("log"))
            .stderr(log)
            .spawn()
            .expect("start rvault");
        let url = format!("http://127.0.0.1:{port}");
        let client = Client::new(
            Address::parse(&url).expect("addr"),
            vec![IpAddr::V4(Ipv4Addr::LOCALHOST)],
            None,
        );
        let mut rv = RustyVault {
            child,
            url,
            client,
            root: String::new(),
            _dir: dir,
        };
        let started = Instant::now();
        loop {
            if let Ok((200, _)) = rv.try_call("GET", "sys/init", None, false) {
                break;
            }
            assert!(
                started.elapsed() < Duration::from_secs(30),
                "rvault did not start"
            );
            std::thread::sleep(Duration::from_millis(100));
        }
        let init = rv.call(
            "PUT",
            "sys/init",
            Some(json!({"secret_shares": 1, "secret_threshold": 1})),
            false,
        );
        rv.root = init["root_token"].as_str().expect("root token").to_owned();
        let key = init["keys"][0].as_str().expect("unseal key").to_owned();
        let unsealed = rv.call("PUT", "sys/unseal", Some(json!({ "key": key })), false);
        assert_eq!(unsealed["sealed"], json!(false));
        rv
    }

    fn try_call(
        &mut self,
        method: &str,
        path: &str,
        body: Option<Value>,
        auth: bool,
    ) -> Result<(u16, Value), String> {
        let body = body.map(|b| b.to_string().into_bytes());
        let path = format!("/v1/{path}");
        let req = Request {
            method,
            path: &path,
            token: auth.then_some(self.root.as_str()),
            body: body.as_deref(),
        };
        let resp = self
            .client
            .send(
                &req,
                Instant::now() + Duration::from_secs(10),
                Duration::from_secs(10),
            )
            .map_err(|e| e.message)?;
        Ok((
            resp.status,
            serde_json::from_slice(&resp.body).unwrap_or(Value::Null),
        ))
    }

    /// A setup call that must succeed.
    fn call(&mut self, method: &str, path: &str, body: Option<Value>, auth: bool) -> Value {
        let (status, v) = self
            .try_call(method, path, body, auth)
            .expect("rvault answers");
        assert!(
            (200..300).contains(&status),
            "{method} {path}: HTTP {status} {v}"
        );
        v
    }
}

const DB_PASSWORD: &str = "rv-db-password-4411";
const API_KEY: &str = "rv-api-key-9922";
const SHARED_URL: &str = "postgres://rv-shared-url-7733";

#[test]
fn token_and_approle_auth_with_kv1_against_rustyvault() {
    let Some(bin) = find_rvault() else {
        #[allow(clippy::disallowed_methods)] // reason: CI decides whether a skip is a failure
        let ci = std::env::var("CI").is_ok();
        assert!(
            !ci,
            "rvault is not on the PATH; CI must run .ci/setup.d/40-rustyvault.sh"
        );
        eprintln!(
            "SKIPPED: rvault (RustyVault) is not on the PATH; install with `cargo install rusty_vault --locked`"
        );
        return;
    };
    let mut rv = RustyVault::start(&bin);
    // `secret/` is a pre-mounted KV v1 on RustyVault.
    rv.call(
        "POST",
        "secret/billing",
        Some(json!({ "DB_PASSWORD": DB_PASSWORD })),
        true,
    );
    rv.call(
        "POST",
        "secret/billing/partners/acme",
        Some(json!({ "api-key": API_KEY })),
        true,
    );
    rv.call(
        "POST",
        "secret/shared/db",
        Some(json!({ "url": SHARED_URL })),
        true,
    );
    let token = rv.call(
        "POST",
        "auth/token/create",
        Some(json!({ "policies": ["default"] })),
        true,
    )["auth"]["client_token"]
        .as_str()
        .expect("child token")
        .to_owned();
    rv.call(
        "POST",
        "sys/auth/approle",
        Some(json!({ "type": "approle" })),
        true,
    );
    rv.call(
        "POST",
        "auth/approle/role/billing",
        Some(json!({ "token_policies": "default" })),
        true,
    );
    let role_id =
        rv.call("GET", "auth/approle/role/billing/role-id", None, true)["data"]["role_id"]
            .as_str()
            .expect("role id")
            .to_owned();
    let secret_id =
        rv.call("POST", "auth/approle/role/billing/secret-id", None, true)["data"]["secret_id"]
            .as_str()
            .expect("secret id")
            .to_owned();
    let root = rv.root.clone();
    let secrets = [
        DB_PASSWORD,
        API_KEY,
        SHARED_URL,
        token.as_str(),
        role_id.as_str(),
        secret_id.as_str(),
        root.as_str(),
    ];

    // Token auth, KV v1 detected through the missing mounts endpoint, sub-paths via LIST.
    let base = [
        ("VAULT_ADDR", rv.url.as_str()),
        ("VAULT2ENV_NAMESPACE", "billing"),
        ("VAULT2ENV_TIMEOUT", "10s"),
    ];
    let mut env: Vec<(&str, &str)> = base.to_vec();
    env.extend([
        ("VAULT2ENV_AUTH", "token"),
        ("VAULT_TOKEN", token.as_str()),
        ("DATABASE_URL", "vault:shared/db#url"),
        ("VAULT2ENV_REQUIRED", "DB_PASSWORD,API_KEY"),
    ]);
    let r = run(&env, &[], &secrets);
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert_eq!(r.child("DB_PASSWORD"), Some(DB_PASSWORD));
    assert_eq!(r.child("API_KEY"), Some(API_KEY));
    assert_eq!(r.child("DATABASE_URL"), Some(SHARED_URL));
    assert_eq!(r.child("VAULT_TOKEN"), None);
    assert_eq!(r.child_core_limit.as_deref(), Some("0"));
    assert!(
        r.stderr.contains("revocation"),
        "RustyVault has no revoke-self: {}",
        r.stderr
    );

    let r = run(&env, &["--check"], &secrets);
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert_eq!(r.stdout, "API_KEY\nDATABASE_URL\nDB_PASSWORD\n");

    // AppRole auth (the secret id given through a file).
    let dir = scratch();
    let sid_file = dir.path().join("secret-id");
    std::fs::write(&sid_file, &secret_id).expect("write");
    let sid_file = sid_file.display().to_string();
    let mut env: Vec<(&str, &str)> = base.to_vec();
    env.extend([
        ("VAULT2ENV_AUTH", "approle"),
        ("VAULT2ENV_ROLE_ID", role_id.as_str()),
        ("VAULT2ENV_SECRET_ID_FILE", sid_file.as_str()),
        ("VAULT2ENV_KV_VERSION", "1"),
    ]);
    let r = run(&env, &[], &secrets);
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert_eq!(r.child("API_KEY"), Some(API_KEY));

    // Denials: a wrong secret id (400) and an unknown token (403) are 77.
    let mut bad = base.to_vec();
    bad.extend([
        ("VAULT2ENV_AUTH", "approle"),
        ("VAULT2ENV_ROLE_ID", role_id.as_str()),
        ("VAULT2ENV_SECRET_ID", "wrong-secret-id"),
    ]);
    let r = run(&bad, &[], &secrets);
    assert_eq!(r.code, 77, "{}", r.stderr);
    let mut bad = base.to_vec();
    bad.extend([
        ("VAULT2ENV_AUTH", "token"),
        ("VAULT_TOKEN", "not-a-token-at-all"),
    ]);
    let r = run(&bad, &[], &secrets);
    assert_eq!(r.code, 77, "{}", r.stderr);
    assert!(!r.stderr.contains("not-a-token-at-all"));
}
