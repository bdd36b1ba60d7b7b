//! `paas service canary`, `promote` and `abort`: commands for the release in
//! flight, taken up from its stored record.
//!
//! The release is found in the clusters (the newest record, not finished).
//! A live lease means a `paas` process is running it right now: the command
//! is refused and says so (answer that process instead). Otherwise the
//! command takes the lease back for the release in every cluster, resumes
//! the release from its stored status ([`release::Event::Resume`]), sends
//! its own event, and runs the release on until it finishes or waits for a
//! person again (a canary holding its new weight, the next gate), where it
//! is parked once more.

use std::io::IsTerminal;
use std::sync::Arc;
use std::time::Instant;

use cluster::lease::{self, LeaseOutcome};
use cluster::{ClusterClient, Executor};
use release::{Event, Release, Step};

use super::{
    Holds, Intent, all_records, environment, finish, in_flight, run_release, service_name,
    unreachable_failure,
};
use crate::cli::{CanaryArgs, EnvArgs, Global};
use crate::{Failure, session};

/// What a control command asks of the release in flight.
#[derive(Debug, Clone, Copy)]
enum Command {
    Promote,
    Abort,
    /// `canary -p N`, or the next of the canary steps without `-p`.
    Weight(Option<u8>),
}

/// `paas service promote`: passes the current gate, or takes a canary to
/// 100% and finishes the release; a release whose deployer died mid-step
/// (not at a gate or canary hold) is resumed where it stopped.
pub(crate) fn promote(global: &Global, args: &EnvArgs, color: bool) -> Result<String, Failure> {
    command(global, &args.env, color, Command::Promote)
}

/// `paas service abort`: stops the release in flight before the point of
/// no return (traffic back, new objects removed; the old version serves).
pub(crate) fn abort(global: &Global, args: &EnvArgs, color: bool) -> Result<String, Failure> {
    command(global, &args.env, color, Command::Abort)
}

/// `paas service canary -p N`: sets the canary's weight in every cluster.
pub(crate) fn canary(global: &Global, args: &CanaryArgs, color: bool) -> Result<String, Failure> {
    command(global, &args.env, color, Command::Weight(args.percent))
}

/// The planner event of a command for `release`, or why there is none.
fn event_of(command: Command, release: &Release) -> Result<Event, Failure> {
    match command {
        Command::Promote => Ok(Event::Promote),
        Command::Abort => Ok(Event::Abort),
        Command::Weight(Some(weight)) => Ok(Event::SetWeight { weight }),
        Command::Weight(None) => {
            let now = release.status.weight;
            release
                .spec
                .options
                .canary_steps
                .iter()
                .copied()
                .find(|w| *w > now)
                .map(|weight| Event::SetWeight { weight })
                .ok_or_else(|| {
                    Failure::failed(format!(
                        "error: {} {} is past its last canary step ({now}%)\nhelp: set a weight with -p PERCENT, or `paas service promote -e {}`",
                        release.spec.service, release.spec.number, release.spec.environment
                    ))
                })
        }
    }
}

fn command(
    global: &Global,
    env_name: &str,
    color: bool,
    command: Command,
) -> Result<String, Failure> {
    let started = Instant::now();
    let (platform, env) = environment(global, env_name)?;
    let service = service_name(global, &platform, color)?;
    let holds = Holds {
        interactive: std::io::stdin().is_terminal() && std::io::stderr().is_terminal(),
        yes: global.yes,
    };
    let output = global.output;
    session::with_clusters(&env, true, |clients, interrupt| async move {
        let merged = all_records(&clients, &service).await?;
        let Some(release) = in_flight(&merged).cloned() else {
            let latest = merged.values().next_back().map_or_else(
                || "it has no releases".to_owned(),
                |r| format!("its latest release {} is {}", r.spec.number, r.status.phase),
            );
            return Err(Failure::failed(format!(
                "error: {service} has no release in flight in {env_name}: {latest}"
            )));
        };
        if release.status.step == Step::NotStarted {
            return Err(Failure::failed(format!(
                "error: {} {} never started\nhelp: run `paas sync -e {env_name}` to settle it",
                service, release.spec.number
            )));
        }
        // A release that does not wait for a person was left by a deployer
        // that died mid-step: `promote` takes it up where it stopped.
        let event = if matches!(command, Command::Promote) && !cluster::waits_for_person(&release) {
            eprintln!(
                "{} {} stopped at {} without its deployer: resuming it from its stored state",
                service,
                release.spec.number,
                super::step_name(release.status.step)
            );
            None
        } else {
            Some(event_of(command, &release)?)
        };
        take_lease(&clients, &release).await?;
        let executor = Arc::new(Executor::new(clients));
        let (done, rejected) =
            run_release(executor, release, Event::Resume, event, holds, interrupt).await?;
        if let Some(reason) = rejected {
            return Err(Failure::failed(format!(
                "error: {} {}: {reason}",
                done.spec.service, done.spec.number
            )));
        }
        let intent = match command {
            Command::Abort => Intent::Abort,
            _ => Intent::Command,
        };
        finish(&done, started.elapsed(), output, intent)
    })
}

/// Takes the release's lease in every cluster: refused when any cluster's
/// lease is live (a `paas` process runs this release, or another one runs).
/// On a refusal the leases already taken are given back.
async fn take_lease(clients: &[ClusterClient], release: &Release) -> Result<(), Failure> {
    let service = &release.spec.service;
    let holder = release.resource_name();
    for c in clients {
        match lease::read_lease(c, service).await {
            Ok(Some((current, false))) => {
                let who = if current == holder {
                    format!(
                        "a paas process is running {holder} right now (its lease in {} is live)",
                        c.name()
                    )
                } else {
                    format!("{current} holds the lease of {service} in {}", c.name())
                };
                return Err(Failure::failed(format!(
                    "error: {who}\nhelp: answer that process, or wait until it ends or its lease expires ({} s)",
                    release.spec.options.lease_seconds
                )));
            }
            Ok(_) => {}
            Err(e) => return Err(unreachable_failure(c.name(), &e)),
        }
    }
    let ttl = release.spec.options.lease_seconds;
    let mut taken: Vec<&ClusterClient> = Vec::new();
    let mut refusal = None;
    for c in clients {
        match lease::acquire(c, service, &holder, ttl).await {
            Ok(LeaseOutcome::Acquired) => taken.push(c),
            Ok(LeaseOutcome::Denied { holder: other }) => {
                refusal = Some(Failure::failed(format!(
                    "error: {other} took the lease of {service} in {} meanwhile",
                    c.name()
                )));
                break;
            }
            Err(e) => {
                refusal = Some(unreachable_failure(c.name(), &e));
                break;
            }
        }
    }
    let Some(refusal) = refusal else {
        return Ok(());
    };
    for c in taken {
        let _ = lease::give_back(c, service, &holder).await;
    }
    Err(refusal)
}
