//! `vault-testserver`: serves a fixed demo dataset on 127.0.0.1 until killed,
//! for whole-process benchmarks and manual checks of vault2env.
//!
//! Prints `VAULT_ADDR=<url>` on the first line of stdout. Data: KV v2 at
//! `secret`, namespace `billing` with secrets at its root and in two
//! sub-paths; a token and the Kubernetes role `billing` (with a JWT) may
//! read it. See `--help`.

use std::io::Write;
use std::process::ExitCode;

use vault_testserver::{DEMO_POLICY, TestVault};

const USAGE: &str = "usage: vault-testserver [--port <port>] [--jwt <jwt>] [--token <token>]

Serves a Vault-API test server with a demo dataset on 127.0.0.1 until killed
and prints VAULT_ADDR=<url> on the first line of stdout.

  --port <port>    port to listen on (default: a free one)
  --jwt <jwt>      JWT of the Kubernetes role `billing` (default: bench-jwt)
  --token <token>  a token that may read the dataset (default: s.bench-token-00000000)
  -h, --help       print this help
";

/// The parsed command line.
struct Options {
    port: u16,
    jwt: String,
    token: String,
}

fn parse(args: impl IntoIterator<Item = String>) -> Result<Option<Options>, String> {
    let mut o = Options {
        port: 0,
        jwt: "bench-jwt".into(),
        token: "s.bench-token-00000000".into(),
    };
    let mut args = args.into_iter();
    while let Some(arg) = args.next() {
        let mut value = |name: &str| args.next().ok_or(format!("{name} needs a value"));
        match arg.as_str() {
            "-h" | "--help" => return Ok(None),
            "--port" => {
                let v = value("--port")?;
                o.port = v.parse().map_err(|_| format!("invalid port {v:?}"))?;
            }
            "--jwt" => o.jwt = value("--jwt")?,
            "--token" => o.token = value("--token")?,
            other => return Err(format!("unknown argument {other:?}")),
        }
    }
    if o.jwt.is_empty() || o.token.is_empty() {
        return Err("--jwt and --token must not be empty".into());
    }
    Ok(Some(o))
}

fn main() -> ExitCode {
    let opts = match parse(std::env::args().skip(1)) {
        Ok(Some(o)) => o,
        Ok(None) => {
            print!("{USAGE}");
            return ExitCode::SUCCESS;
        }
        Err(e) => {
            eprint!("vault-testserver: {e}\n{USAGE}");
            return ExitCode::from(2);
        }
    };
    let srv = match TestVault::builder()
        .demo(&opts.jwt)
        .token(&opts.token, &DEMO_POLICY)
        .port(opts.port)
        .try_start()
    {
        Ok(s) => s,
        Err(e) => {
            eprintln!(
                "vault-testserver: cannot listen on 127.0.0.1:{}: {e}",
                opts.port
            );
            return ExitCode::from(1);
        }
    };
    let mut out = std::io::stdout().lock();
    let _ = writeln!(out, "VAULT_ADDR={}", srv.url());
    let _ = out.flush();
    drop(out);
    loop {
        std::thread::park();
    }
}
