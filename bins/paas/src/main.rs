//! The `paas` command: one command for the whole life of a service
//! (`../shared/spec/cli.md`). Data goes to stdout, messages to stderr.
//!
//! Exit codes: 0 success, 1 the operation failed (validation errors, policy,
//! a failed rollout, a diff with changes), 2 usage or configuration errors,
//! 3 cluster unreachable.

mod cli;
mod clock;
mod codegen;
mod create;
mod deps;
mod gitinfo;
mod lint;
mod render;
mod resources_cmd;
mod service;
mod session;
mod sync_env;

use std::io::Write;
use std::process::ExitCode;

use clap::Parser;

/// mimalloc: rendering allocates many small objects, where it is about twice
/// as fast as glibc malloc (`benches/render.rs` measures with it too).
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// A failure of a command: what to print (already formatted) and the exit code.
#[derive(Debug)]
pub(crate) struct Failure {
    /// Exit code (see the module docs).
    pub(crate) code: u8,
    /// The message for stderr.
    pub(crate) message: String,
}

impl Failure {
    /// Exit 1: the operation failed.
    pub(crate) fn failed(message: impl Into<String>) -> Failure {
        Failure {
            code: 1,
            message: message.into(),
        }
    }

    /// Exit 2: usage or configuration error.
    pub(crate) fn usage(message: impl Into<String>) -> Failure {
        Failure {
            code: 2,
            message: message.into(),
        }
    }
}

/// `paas crd`: the `Release` CRD that the cluster adapter installs.
fn crd(output: Option<cli::Output>) -> String {
    match output {
        Some(cli::Output::Json) => {
            // A typed k8s-openapi value always serialises.
            let mut text = serde_json::to_string_pretty(&cluster::crd::crd()).unwrap_or_default();
            text.push('\n');
            text
        }
        _ => cluster::crd::crd_yaml(),
    }
}

fn main() -> ExitCode {
    let args = cli::Cli::parse();
    let color = args.global.color();
    let result = match &args.command {
        cli::Command::Render(r) => render::render(&args.global, r, color),
        cli::Command::Schema(s) => render::schema(s),
        cli::Command::Lint(l) => lint::lint(&args.global, l, color),
        cli::Command::Deps(d) => deps::deps(&args.global, d),
        cli::Command::Codegen(c) => codegen::codegen(&args.global, c, color),
        cli::Command::Service(cli::ServiceCommand::Create(c)) => create::create(&args.global, c),
        cli::Command::Service(cli::ServiceCommand::Deploy(d)) => {
            service::deploy(&args.global, d, color)
        }
        cli::Command::Service(cli::ServiceCommand::Rollback(r)) => {
            service::rollback(&args.global, r, color)
        }
        cli::Command::Service(cli::ServiceCommand::Canary(c)) => {
            service::canary(&args.global, c, color)
        }
        cli::Command::Service(cli::ServiceCommand::Promote(e)) => {
            service::promote(&args.global, e, color)
        }
        cli::Command::Service(cli::ServiceCommand::Abort(e)) => {
            service::abort(&args.global, e, color)
        }
        cli::Command::Service(cli::ServiceCommand::Status(e)) => {
            service::status(&args.global, e, color)
        }
        cli::Command::Service(cli::ServiceCommand::History(e)) => {
            service::history(&args.global, e, color)
        }
        cli::Command::Service(cli::ServiceCommand::DeleteCopy(d)) => {
            service::delete_copy(&args.global, d, color)
        }
        cli::Command::Service(cli::ServiceCommand::Diff(d)) => {
            service::diff(&args.global, d, color)
        }
        cli::Command::Sync(s) => sync_env::sync(&args.global, s),
        cli::Command::Resources(cli::ResourcesCommand::Recommend(r)) => {
            resources_cmd::recommend(&args.global, r, color)
        }
        cli::Command::Crd => Ok(crd(args.global.output)),
        cli::Command::Completions { shell } => {
            let mut cmd = <cli::Cli as clap::CommandFactory>::command();
            clap_complete::generate(*shell, &mut cmd, "paas", &mut std::io::stdout());
            Ok(String::new())
        }
    };
    match result {
        Ok(out) => {
            let mut stdout = std::io::stdout().lock();
            // A closed pipe (`paas render | head`) is not an error worth a panic.
            let _ = stdout.write_all(out.as_bytes());
            let _ = stdout.flush();
            ExitCode::SUCCESS
        }
        Err(f) => {
            let mut stderr = std::io::stderr().lock();
            let _ = writeln!(stderr, "{}", f.message.trim_end());
            ExitCode::from(f.code)
        }
    }
}
