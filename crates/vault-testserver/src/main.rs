//! `vault-testserver`: serves a fixed demo dataset on 127.0.0.1 until killed,
//! for whole-process benchmarks and manual checks of vault2env.
//!
//! Prints `VAULT_ADDR=<url>` on the first line of stdout. Data: KV v2 at
//! `secret`, namespace `billing` with secrets at its root and in two
//! sub-paths; token `s.bench-token-00000000` and the Kubernetes role
//! `billing` (JWT `bench-jwt`) may read it.

use vault_testserver::{DEMO_POLICY, TestVault};

fn main() {
    let srv = TestVault::builder()
        .demo("bench-jwt")
        .token("s.bench-token-00000000", &DEMO_POLICY)
        .start();
    println!("VAULT_ADDR={}", srv.url());
    loop {
        std::thread::park();
    }
}
