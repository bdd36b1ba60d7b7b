//! `--init`: stay as PID 1, forward signals, reap zombies, exit with the child's code.
//!
//! The child runs in its own process group and signals are forwarded to
//! that group, so a terminal's Ctrl-C (which reaches vault2env too) is not
//! delivered twice to the service, and the service's own children get the
//! SIGTERM of a pod shutdown. Every exited process is reaped with
//! `waitpid(-1, WNOHANG)`, since orphans are re-parented to PID 1 (or, when
//! vault2env is not PID 1, to it as a child subreaper, which the binary
//! sets up before calling [`supervise`]). The binary runs this in a
//! re-executed copy of itself whose environment is the service's only.

use std::ffi::OsString;
use std::io;
use std::os::unix::process::CommandExt;
use std::process::Command;

use rustix::process::{Pid, Signal, WaitOptions};
use signal_hook::consts::signal::{
    SIGALRM, SIGCHLD, SIGCONT, SIGHUP, SIGINT, SIGQUIT, SIGTERM, SIGTSTP, SIGTTIN, SIGTTOU,
    SIGUSR1, SIGUSR2, SIGWINCH,
};
use signal_hook::iterator::Signals;

/// Signals passed on to the child's process group.
const FORWARDED: &[i32] = &[
    SIGHUP, SIGINT, SIGQUIT, SIGTERM, SIGUSR1, SIGUSR2, SIGWINCH, SIGCONT, SIGALRM, SIGTSTP,
    SIGTTIN, SIGTTOU,
];

/// The exit code for a wait status: the code itself, or 128 + signal like a shell.
fn code_of(status: rustix::process::WaitStatus) -> Option<i32> {
    if let Some(code) = status.exit_status() {
        return Some(code);
    }
    status.terminating_signal().map(|sig| 128 + sig)
}

/// Spawns `program` with exactly `env` and supervises it until it exits.
/// Returns the code to exit with; `Err` when the child could not be started.
pub fn supervise(
    program: &OsString,
    args: &[OsString],
    env: Vec<(OsString, OsString)>,
) -> io::Result<i32> {
    // Register before spawning so an early SIGCHLD is not lost.
    let mut signals = Signals::new(FORWARDED.iter().copied().chain([SIGCHLD]))?;
    let child = Command::new(program)
        .args(args)
        .env_clear()
        .envs(env)
        .process_group(0)
        .spawn()?;
    let pid = Pid::from_child(&child);
    loop {
        for sig in signals.wait() {
            if sig == SIGCHLD {
                if let Some(code) = reap(pid) {
                    return Ok(code);
                }
            } else if let Some(s) = Signal::from_named_raw(sig) {
                // ESRCH: the group is already gone; the SIGCHLD will follow.
                let _ = rustix::process::kill_process_group(pid, s);
            }
        }
        // A SIGCHLD coalesced with others, or signals delivered before
        // registration finished: check again without blocking.
        if let Some(code) = reap(pid) {
            return Ok(code);
        }
    }
}

/// Reaps every exited process; returns the main child's code once it has exited.
fn reap(main: Pid) -> Option<i32> {
    let mut main_code = None;
    loop {
        // `wait` is waitpid(-1): any child, whatever its process group.
        match rustix::process::wait(WaitOptions::NOHANG) {
            Ok(Some((pid, status))) => {
                if pid == main {
                    main_code = code_of(status);
                }
            }
            Ok(None) | Err(_) => return main_code,
        }
    }
}
