//! vault2env: start-to-exec overhead beyond the Vault round trips.
//!
//! Against the in-process test server (KV v2, Kubernetes auth, 12 keys in
//! three paths: 8 HTTP round trips per start):
//! - `round_trips`: the same 8 requests with vault2env's bare HTTP client
//!   on one keep-alive connection (the floor set by the server);
//! - `prepare`: the library's whole path (config, resolve, login, mount
//!   lookup, LIST, reads, env building, revoke) — `prepare - round_trips`
//!   is the in-process overhead (target: under 2 ms);
//! - `spawn_true` and `process_exec_true` (when `VAULT2ENV_BIN` names a
//!   vault2env binary, as `benches/vault2env.sh` does): the whole process
//!   `vault2env -- /bin/true` against `/bin/true` alone; then the median of
//!   300 interleaved `vault2env - true - round_trips` triples, the
//!   start-to-exec overhead beyond the round trips (target: under 2 ms).

use std::net::{IpAddr, Ipv4Addr};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use criterion::{Criterion, criterion_group, criterion_main};
use vault_testserver::TestVault;
use vault2env::config::{Address, Config};
use vault2env::host::MapHost;
use vault2env::http::{Client, Request};
use vault2env::plan;

const JWT: &str = "bench-jwt-header.payload.signature";

fn server() -> TestVault {
    TestVault::builder().demo(JWT).start()
}

fn host(url: &str, jwt_file: &str) -> MapHost {
    MapHost::new()
        .with_var("VAULT_ADDR", url)
        .with_var("VAULT2ENV_NAMESPACE", "billing")
        .with_var("VAULT2ENV_TOKEN_FILE", jwt_file)
        .with_var("PATH", "/usr/bin:/bin")
        .with_file(jwt_file, JWT)
}

/// One full library run: everything vault2env does before execve.
fn prepare_once(host: &MapHost) -> usize {
    let cfg = Config::from_host(host).expect("config");
    let (mut vault, fetched) = plan::prepare(host, &cfg, Instant::now()).expect("prepare");
    let token = vault.token().map(|t| t.expose().to_owned());
    let out = plan::build_env(
        vault2env::host::Host::vars(host),
        &fetched,
        token.as_deref(),
        false,
        &[],
    )
    .expect("env");
    let _ = vault.revoke_self();
    out.set.len()
}

/// The bare requests vault2env makes, replayed on one keep-alive connection.
fn round_trips_once(url: &str) -> usize {
    let mut c = Client::new(
        Address::parse(url).expect("addr"),
        vec![IpAddr::V4(Ipv4Addr::LOCALHOST)],
        None,
    );
    let deadline = Instant::now() + Duration::from_secs(10);
    let per = Duration::from_secs(10);
    let login = format!(r#"{{"role":"billing","jwt":"{JWT}"}}"#);
    let resp = c
        .send(
            &Request {
                method: "POST",
                path: "/v1/auth/kubernetes/login",
                token: None,
                body: Some(login.as_bytes()),
            },
            deadline,
            per,
        )
        .expect("login");
    let v: serde_json::Value = serde_json::from_slice(&resp.body).expect("json");
    let token = v["auth"]["client_token"]
        .as_str()
        .expect("token")
        .to_owned();
    let steps = [
        ("GET", "/v1/sys/internal/ui/mounts/secret"),
        ("GET", "/v1/secret/data/billing"),
        ("LIST", "/v1/secret/metadata/billing/"),
        ("GET", "/v1/secret/data/billing/db"),
        ("LIST", "/v1/secret/metadata/billing/partners/"),
        ("GET", "/v1/secret/data/billing/partners/acme"),
        ("POST", "/v1/auth/token/revoke-self"),
    ];
    let mut bytes = 0;
    for (method, path) in steps {
        let r = c
            .send(
                &Request {
                    method,
                    path,
                    token: Some(&token),
                    body: None,
                },
                deadline,
                per,
            )
            .expect("request");
        bytes += r.body.len();
    }
    bytes
}

fn vault2env_bin() -> Option<PathBuf> {
    #[allow(clippy::disallowed_methods)]
    // reason: the benchmark takes the binary to measure from its caller
    let p = std::env::var("VAULT2ENV_BIN").ok().map(PathBuf::from);
    p.filter(|p| p.is_file())
}

fn bench(c: &mut Criterion) {
    let srv = server();
    let url = srv.url();
    let dir = std::env::temp_dir().join(format!("vault2env-bench-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("dir");
    let jwt_file = dir.join("token");
    std::fs::write(&jwt_file, JWT).expect("jwt");
    let jwt_path = jwt_file.display().to_string();
    let host = host(&url, &jwt_path);
    assert_eq!(prepare_once(&host), 12, "all keys found");

    let mut g = c.benchmark_group("vault2env");
    g.bench_function("round_trips", |b| b.iter(|| round_trips_once(&url)));
    g.bench_function("prepare", |b| b.iter(|| prepare_once(&host)));
    if let Some(bin) = vault2env_bin() {
        g.bench_function("spawn_true", |b| b.iter(spawn_true));
        g.bench_function("process_exec_true", |b| {
            b.iter(|| exec_true(&bin, &url, &jwt_path));
        });
    } else {
        eprintln!(
            "vault2env: set VAULT2ENV_BIN to a vault2env binary to measure the whole process (benches/vault2env.sh does)"
        );
    }
    g.finish();

    // On a shared, loaded machine the two medians drift apart with the load;
    // interleaved pairs see the same load, so the median of the differences
    // is the steadier estimate of the overhead beyond the round trips.
    let mut diffs: Vec<f64> = (0..300)
        .map(|_| {
            let t = Instant::now();
            round_trips_once(&url);
            let bare = t.elapsed();
            let t = Instant::now();
            prepare_once(&host);
            t.elapsed().as_secs_f64() - bare.as_secs_f64()
        })
        .collect();
    diffs.sort_by(f64::total_cmp);
    println!(
        "vault2env/overhead (prepare - round_trips, median of 300 interleaved pairs): {:.3} ms",
        diffs[diffs.len() / 2] * 1e3
    );
    // The same for the whole process: interleaved triples of `/bin/true`,
    // `vault2env -- /bin/true` and the bare round trips; the median of
    // `vault2env - true - round trips` is the start-to-exec overhead.
    if let Some(bin) = vault2env_bin() {
        let mut diffs: Vec<f64> = (0..300)
            .map(|_| {
                let t = Instant::now();
                spawn_true();
                let alone = t.elapsed().as_secs_f64();
                let t = Instant::now();
                exec_true(&bin, &url, &jwt_path);
                let whole = t.elapsed().as_secs_f64();
                let t = Instant::now();
                round_trips_once(&url);
                whole - alone - t.elapsed().as_secs_f64()
            })
            .collect();
        diffs.sort_by(f64::total_cmp);
        println!(
            "vault2env/process_overhead (vault2env -- /bin/true - /bin/true - round_trips, median of 300 interleaved triples): {:.3} ms",
            diffs[diffs.len() / 2] * 1e3
        );
    }
    let _ = std::fs::remove_dir_all(&dir);
}

/// `/bin/true` alone.
fn spawn_true() {
    let st = Command::new("/bin/true").status().expect("true");
    assert!(st.success());
}

/// The whole process: `vault2env -- /bin/true` against the server at `url`.
fn exec_true(bin: &Path, url: &str, jwt_path: &str) {
    let st = Command::new(bin)
        .env_clear()
        .env("PATH", "/usr/bin:/bin")
        .env("VAULT_ADDR", url)
        .env("VAULT2ENV_NAMESPACE", "billing")
        .env("VAULT2ENV_TOKEN_FILE", jwt_path)
        .args(["--", "/bin/true"])
        .stderr(Stdio::null())
        .status()
        .expect("vault2env");
    assert!(st.success());
}

criterion_group!(benches, bench);
criterion_main!(benches);
