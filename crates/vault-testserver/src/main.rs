//! `vault-testserver`: serves a fixed demo dataset on 127.0.0.1 until killed,
//! for whole-process benchmarks and manual checks of vault2env.
//!
//! Prints `VAULT_ADDR=<url>` on the first line of stdout. Data: KV v2 at
//! `secret`, namespace `billing` with secrets at its root and in two
//! sub-paths; token `s.bench-token-00000000` and the Kubernetes role
//! `billing` (JWT `bench-jwt`) may read it.

use vault_testserver::TestVault;

fn main() {
    let mut b = TestVault::builder().kv("secret", 2);
    for (path, n) in [
        ("billing", 6),
        ("billing/db", 3),
        ("billing/partners/acme", 3),
    ] {
        let pairs: Vec<(String, String)> = (0..n)
            .map(|i| {
                let tail = path
                    .rsplit('/')
                    .next()
                    .unwrap_or(path)
                    .replace('-', "_")
                    .to_uppercase();
                (format!("{tail}_KEY_{i}"), format!("demo-value-{i}"))
            })
            .collect();
        let refs: Vec<(&str, &str)> = pairs
            .iter()
            .map(|(k, v)| (k.as_str(), v.as_str()))
            .collect();
        b = b.put("secret", path, &refs);
    }
    let policy = ["secret/data/billing", "secret/metadata/billing"];
    let srv = b
        .token("s.bench-token-00000000", &policy)
        .kubernetes_role("kubernetes", "billing", "bench-jwt", &policy)
        .start();
    println!("VAULT_ADDR={}", srv.url());
    loop {
        std::thread::park();
    }
}
