//! The `vault2env` entrypoint: `vault2env [--check] [--init] [--] <command> [args...]`.
//!
//! Reads the real environment, disables core dumps, fetches the secrets,
//! revokes the token and replaces itself with the command (or, with
//! `--init`, supervises it as PID 1). Exit codes before exec follow the
//! spec: 64 usage, 69 unreachable, 77 denied, 78 missing, 126/127 exec.

use std::ffi::OsString;
use std::io::{self, Write};
use std::os::unix::process::CommandExt;
use std::path::Path;
use std::process::{Command, ExitCode};
use std::time::Instant;

use vault2env::config::Config;
use vault2env::error::{EXIT_CANNOT_EXECUTE, EXIT_NOT_FOUND, EXIT_USAGE};
use vault2env::host::Host;
use vault2env::plan;

const USAGE: &str = "usage: vault2env [--check] [--init] [--] <command> [args...]

Logs in to Vault, puts the secrets of the service's namespace into the
environment and executes <command>. Configuration comes from VAULT_ADDR,
VAULT_CACERT, VAULT_TOKEN and VAULT2ENV_* variables (see docs/vault2env.md).

  --check   log in and list the variable names that would be set, then exit
  --init    stay as PID 1: forward signals, reap zombies, exit with the child's code
";

/// The real process environment and file system.
struct StdHost;

impl Host for StdHost {
    #[allow(clippy::disallowed_methods)] // reason: the binary is where the environment is read
    fn var(&self, name: &str) -> Option<String> {
        std::env::var(name).ok()
    }

    fn vars(&self) -> Vec<(OsString, OsString)> {
        std::env::vars_os().collect()
    }

    fn read_file(&self, path: &Path) -> io::Result<Vec<u8>> {
        std::fs::read(path)
    }
}

fn log(msg: &str) {
    let _ = writeln!(io::stderr().lock(), "vault2env: {msg}");
}

/// The hidden flag of the re-executed `--init` supervisor (see [`reexec_supervisor`]).
const SUPERVISE: &str = "--internal-supervise";

struct Args {
    check: bool,
    init: bool,
    supervise: bool,
    command: Vec<OsString>,
}

fn parse_args(mut args: impl Iterator<Item = OsString>) -> Result<Option<Args>, String> {
    let mut out = Args {
        check: false,
        init: false,
        supervise: false,
        command: Vec::new(),
    };
    for arg in args.by_ref() {
        match arg.to_str() {
            Some("--check") => out.check = true,
            Some("--init") => out.init = true,
            Some(SUPERVISE) => out.supervise = true,
            Some("-h" | "--help") => return Ok(None),
            Some("--version") => {
                println!("vault2env {}", env!("CARGO_PKG_VERSION"));
                std::process::exit(0);
            }
            Some("--") => break,
            Some(s) if s.starts_with('-') => return Err(format!("unknown option {s}")),
            _ => {
                out.command.push(arg);
                break;
            }
        }
    }
    out.command.extend(args);
    if out.command.is_empty() && !out.check {
        return Err("no command given".into());
    }
    Ok(Some(out))
}

/// Core dumps of the service would contain its secrets: forbid them for
/// this process and everything it executes (hard limit too, so the service
/// cannot raise it again).
fn disable_core_dumps() {
    let zero = rustix::process::Rlimit {
        current: Some(0),
        maximum: Some(0),
    };
    if let Err(e) = rustix::process::setrlimit(rustix::process::Resource::Core, zero) {
        log(&format!("warning: cannot set RLIMIT_CORE to 0: {e}"));
    }
}

fn exit(code: i32) -> ExitCode {
    ExitCode::from(u8::try_from(code).unwrap_or(1))
}

fn main() -> ExitCode {
    let started = Instant::now();
    let args = match parse_args(std::env::args_os().skip(1)) {
        Ok(Some(a)) => a,
        Ok(None) => {
            print!("{USAGE}");
            return ExitCode::SUCCESS;
        }
        Err(e) => {
            log(&format!("error: {e}\n{USAGE}"));
            return exit(EXIT_USAGE);
        }
    };
    disable_core_dumps();
    if args.supervise {
        return supervise_mode(&args.command);
    }
    let host = StdHost;
    let cfg = match Config::from_host(&host) {
        Ok(c) => c,
        Err(e) => {
            log(&format!("error: {e}"));
            return exit(e.exit_code());
        }
    };

    let outcome = match plan::prepare(&host, &cfg, started) {
        Ok((mut vault, fetched)) => {
            for note in &fetched.notes {
                log(note);
            }
            let token = vault.token().map(|t| t.expose().to_owned());
            let built = plan::build_env(
                host.vars(),
                &fetched,
                token.as_deref(),
                cfg.override_existing,
                &cfg.required,
            );
            drop(fetched);
            if cfg.revoke {
                match vault.revoke_self() {
                    Ok(s) if (200..300).contains(&s) => {}
                    Ok(s) => log(&format!("warning: token revocation answered HTTP {s}")),
                    Err(e) => log(&format!("warning: token revocation failed: {e}")),
                }
            }
            match built {
                Ok(o) => o,
                Err(e) => {
                    log(&format!("error: {}", vault.redactor.scrub(&e.to_string())));
                    return exit(e.exit_code());
                }
            }
        }
        Err(e) if e.is_unreachable() && cfg.optional => {
            log(&format!(
                "warning: {e}; VAULT2ENV_OPTIONAL=true, starting without secrets"
            ));
            match plan::env_without_secrets(host.vars(), &cfg.required) {
                Ok(o) => {
                    for name in o
                        .removed
                        .iter()
                        .filter(|n| !n.starts_with("VAULT2ENV_") && *n != "VAULT_TOKEN")
                    {
                        log(&format!(
                            "unset {name}: its vault: reference could not be resolved"
                        ));
                    }
                    o
                }
                Err(e) => {
                    log(&format!("error: {e}"));
                    return exit(e.exit_code());
                }
            }
        }
        Err(e) => {
            log(&format!("error: {e}"));
            return exit(e.exit_code());
        }
    };

    for note in &outcome.notes {
        log(note);
    }
    if !outcome.kept.is_empty() {
        log(&format!(
            "kept existing value of {} (VAULT2ENV_OVERRIDE=false)",
            outcome.kept.join(", ")
        ));
    }
    if args.check {
        let mut out = io::stdout().lock();
        for (name, _) in &outcome.set {
            let _ = writeln!(out, "{name}");
        }
        log(&format!(
            "check: {} variable(s) would be set from {}/{}",
            outcome.set.len(),
            cfg.kv_mount,
            cfg.path
        ));
        return ExitCode::SUCCESS;
    }
    log(&format!(
        "set {} variable(s) from {}/{} in {} ms",
        outcome.set.len(),
        cfg.kv_mount,
        cfg.path,
        started.elapsed().as_millis()
    ));

    let (program, rest) = match args.command.split_first() {
        Some(p) => p,
        None => return exit(EXIT_USAGE),
    };
    if args.init {
        return reexec_supervisor(&args.command, outcome.env);
    }
    let err = Command::new(program)
        .args(rest)
        .env_clear()
        .envs(outcome.env)
        .exec();
    exec_failure(program, &err)
}

/// `--init`: replaces this process with a fresh copy of vault2env (via
/// `/proc/self/exe`) whose environment is exactly the service's final
/// environment, in the hidden supervise mode. The supervisor stays PID 1,
/// and what `/proc/1/environ` shows is then the service's environment only:
/// no `VAULT_TOKEN`, no `VAULT2ENV_*` (AppRole secret id, token file paths),
/// which the start-up environment of this process still holds. When the
/// re-exec is impossible (no `/proc`), vault2env fails closed rather than
/// supervise with credentials in its own environment.
fn reexec_supervisor(command: &[OsString], env: Vec<(OsString, OsString)>) -> ExitCode {
    let arg0 = std::env::args_os()
        .next()
        .unwrap_or_else(|| OsString::from("vault2env"));
    let err = Command::new("/proc/self/exe")
        .arg0(arg0)
        .arg(SUPERVISE)
        .arg("--")
        .args(command)
        .env_clear()
        .envs(env)
        .exec();
    log(&format!(
        "error: --init cannot re-execute vault2env through /proc/self/exe ({err}); \
         refusing to supervise the service with credentials in vault2env's own environment \
         (mount /proc, or run without --init)"
    ));
    exit(EXIT_CANNOT_EXECUTE)
}

/// The re-executed `--init` supervisor: its environment already is the
/// service's; it becomes a child subreaper (so orphans are re-parented to it
/// and reaped even when it is not PID 1), spawns the service and supervises it.
fn supervise_mode(command: &[OsString]) -> ExitCode {
    let Some((program, rest)) = command.split_first() else {
        return exit(EXIT_USAGE);
    };
    if let Err(e) = rustix::process::set_child_subreaper(Some(rustix::process::getpid())) {
        log(&format!("warning: cannot become a child subreaper: {e}"));
    }
    match vault2env::init::supervise(program, rest, std::env::vars_os().collect()) {
        Ok(code) => exit(code),
        Err(e) => exec_failure(program, &e),
    }
}

fn exec_failure(program: &OsString, err: &io::Error) -> ExitCode {
    log(&format!(
        "cannot execute {}: {err}",
        program.to_string_lossy()
    ));
    if err.kind() == io::ErrorKind::NotFound {
        exit(EXIT_NOT_FOUND)
    } else {
        exit(EXIT_CANNOT_EXECUTE)
    }
}
