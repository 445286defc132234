//! The shim: the only parent a container has. It clones the container's init, waits for it,
//! records how it ended (atomically, in the state directory), forwards signals, relays or hands
//! over the terminal, and keeps running when whoever started it exits.
//!
//! `launch` is shared by the foreground `runtime run` (which is its own container's parent)
//! and the detached shim that `create` forks off.

mod control;
mod exit;
mod launch;
pub(crate) mod supervise;

pub(crate) use control::{Request, call};
pub(crate) use exit::from_wait;
pub(crate) use launch::{LaunchOptions, launch};

use std::io::{BufRead, BufReader, Write};
use std::os::fd::{AsFd, AsRawFd, OwnedFd};
use std::os::unix::net::UnixListener;

use nix::sys::wait::waitpid;
use nix::unistd::Pid;
use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};
use crate::state::{EXIT_FILE, SHIM_SOCKET, StateDir, StoredState};
use crate::sys::{self, Forked};
use crate::tty;

/// What the shim tells `create` once the container exists (or could not be made).
#[derive(Debug, Serialize, Deserialize)]
enum Report {
    Created(Box<StoredState>),
    Failed { message: String, invalid: bool },
}

/// Forks a detached shim that creates the container and then parents it; returns once the
/// container is created (its init waiting for `start`) or failed. The caller must be
/// single-threaded.
pub(crate) fn spawn_detached(state_dir: &StateDir, options: &LaunchOptions) -> Result<StoredState> {
    let (read_end, write_end) = nix::unistd::pipe2(nix::fcntl::OFlag::O_CLOEXEC)
        .map_err(|e| Error::io("creating shim report pipe", e.into()))?;
    match sys::fork_with_flags(0).map_err(|e| Error::io("forking shim", e.into()))? {
        Forked::Child => {
            drop(read_end);
            // The intermediate process: a new session, then the shim as its child, then gone,
            // so that the shim is nobody's child but init's (or a subreaper's).
            let _ = nix::unistd::setsid();
            match sys::fork_with_flags(0) {
                Ok(Forked::Child) => {
                    let code = shim_main(state_dir, options, write_end);
                    // SAFETY: leaving without running destructors of the parent's copied state.
                    unsafe { libc::_exit(code) }
                }
                // SAFETY: as above; the intermediate process has nothing to clean up.
                _ => unsafe { libc::_exit(0) },
            }
        }
        Forked::Parent { pid, pidfd: _ } => {
            drop(write_end);
            let _ = waitpid(Pid::from_raw(pid), None);
            read_report(read_end)
        }
    }
}

fn read_report(read_end: OwnedFd) -> Result<StoredState> {
    let mut line = String::new();
    BufReader::new(std::fs::File::from(read_end))
        .read_line(&mut line)
        .map_err(|e| Error::io("reading shim report", e))?;
    match serde_json::from_str::<Report>(&line) {
        Ok(Report::Created(stored)) => Ok(*stored),
        Ok(Report::Failed {
            message,
            invalid: true,
        }) => Err(Error::InvalidArgument(message)),
        Ok(Report::Failed { message, .. }) => Err(Error::ContainerInit(message)),
        Err(_) => Err(Error::ContainerInit(
            "the shim exited before the container was created".into(),
        )),
    }
}

fn send_report(write_end: &mut std::fs::File, report: &Report) {
    if let Ok(mut line) = serde_json::to_string(report) {
        line.push('\n');
        let _ = write_end.write_all(line.as_bytes());
    }
}

/// The shim process: create, report, then supervise until the container ends.
fn shim_main(state_dir: &StateDir, options: &LaunchOptions, write_end: OwnedFd) -> i32 {
    let mut report = std::fs::File::from(write_end);
    let signals = match supervise::catch_signals() {
        Ok(s) => s,
        Err(e) => {
            send_report(
                &mut report,
                &Report::Failed {
                    message: format!("shim signal setup: {e}"),
                    invalid: false,
                },
            );
            return 1;
        }
    };
    let socket_path = state_dir.file(SHIM_SOCKET);
    let launched = launch(state_dir, options).and_then(|launched| {
        let listener = UnixListener::bind(&socket_path)
            .map_err(|e| Error::path("binding shim socket", &socket_path, e))?;
        if let Some(master) = &launched.pty_master {
            let socket = options.console_socket.as_deref().ok_or_else(|| {
                Error::InvalidArgument(
                    "a container with a terminal needs --console-socket to run detached".into(),
                )
            })?;
            tty::send_to_console_socket(socket, master.as_fd())?;
        }
        Ok((launched, listener))
    });
    let (mut launched, listener) = match launched {
        Ok(ok) => ok,
        Err(e) => {
            let invalid = e.kind() == crate::ErrorKind::InvalidArgument;
            send_report(
                &mut report,
                &Report::Failed {
                    message: e.to_string(),
                    invalid,
                },
            );
            let _ = std::fs::remove_file(&socket_path);
            return 1;
        }
    };
    // The console socket has the terminal now; the shim keeps no copy.
    launched.pty_master = None;
    send_report(
        &mut report,
        &Report::Created(Box::new(launched.stored.clone())),
    );
    drop(report);
    detach_stdio();
    let outcome = supervise::Supervisor {
        child: &launched.child,
        signals,
        relay: None,
        control: Some(supervise::Control {
            listener,
            state_dir: state_dir.clone(),
        }),
    }
    .run();
    let oom = launched.cgroup.oom_kill_count().unwrap_or(0) > 0;
    let status = from_wait(outcome.status, oom, outcome.start_error);
    let _ = state_dir.write_json(EXIT_FILE, &status);
    let _ = std::fs::remove_file(&socket_path);
    0
}

/// The caller's stdio went to the container; the shim itself keeps none of it open, so that a
/// pipe to `create` reaches end-of-file when the container closes its end.
fn detach_stdio() {
    if let Ok(null) = std::fs::OpenOptions::new()
        .read(true)
        .write(true)
        .open("/dev/null")
    {
        for fd in 0..3 {
            // SAFETY: dup2 onto the standard descriptors, which this process owns.
            unsafe { libc::dup2(null.as_raw_fd(), fd) };
        }
    }
}
