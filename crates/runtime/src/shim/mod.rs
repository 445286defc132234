//! The shim: the only parent a container has. It clones the container's init, waits for it,
//! records how it ended (atomically, in the state directory), forwards signals, relays or hands
//! over the terminal, and keeps running when whoever started it exits.
//!
//! `launch` is shared by the foreground `runtime run` (which is its own container's parent)
//! and the detached shim that `create` forks off. With managed stdio (`stdio`) the detached
//! shim also owns the container's stdin, stdout and stderr: it writes the json-file log and
//! serves the attach socket (see [`crate::attach`]).

mod control;
mod exit;
mod launch;
mod memory;
mod poller;
mod stdio;
pub(crate) mod supervise;

pub(crate) use control::{Request, call};
pub(crate) use exit::from_wait;
pub(crate) use launch::{LaunchOptions, launch};

use std::io::{BufRead, BufReader, Write};
use std::os::fd::{AsFd, AsRawFd, OwnedFd};
use std::os::unix::net::UnixListener;
use std::path::Path;
use std::time::{Duration, Instant};

use nix::sys::signal::{SigHandler, Signal};
use nix::sys::wait::waitpid;
use nix::unistd::Pid;
use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};
use crate::logfile::LogWriter;
use crate::ops::ManagedIo;
use crate::state::{ATTACH_SOCKET, EXIT_FILE, SHIM_SOCKET, StateDir, StoredState};
use crate::sys::{self, Forked};
use crate::tty;
use launch::Launched;
use stdio::ManagedStdio;

/// How long a created container's shim waits for its start before it gives back the memory
/// that creating it took (see `Supervisor::release_memory_at`).
const RELEASE_MEMORY_AFTER: Duration = Duration::from_millis(200);
/// How long after the start it does (see `Supervisor::serve_control`).
const RELEASE_MEMORY_AFTER_START: Duration = Duration::from_millis(100);

/// What the shim tells `create` once the container exists (or could not be made).
#[derive(Debug, Serialize, Deserialize)]
enum Report {
    Created(Box<StoredState>),
    Failed { message: String, invalid: bool },
}

/// Forks a detached shim that creates the container and then parents it; returns once the
/// container is created (its init waiting for `start`) or failed. The caller must be
/// single-threaded. The shim takes `options` along; the caller's copy is dropped.
pub(crate) fn spawn_detached(state_dir: &StateDir, options: LaunchOptions) -> Result<StoredState> {
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
                    let code = shim_main(state_dir, options, write_end).unwrap_or(1);
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
    decode_report(&line)
}

/// The container a shim's report line says it made, or the error it failed with (an empty or
/// garbled line: the shim died first).
pub(crate) fn decode_report(line: &str) -> Result<StoredState> {
    match serde_json::from_str::<Report>(line) {
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

/// This process becomes the shim of a new container, without forking: a new session, the
/// container, the report on `report`, then supervision until the container ends. Returns the
/// process's exit code; a container that could not be made leaves no state directory.
pub(crate) fn become_shim(state_dir: &StateDir, options: LaunchOptions, report: OwnedFd) -> i32 {
    let _ = nix::unistd::setsid();
    match shim_main(state_dir, options, report) {
        Some(code) => code,
        None => {
            let _ = state_dir.remove();
            1
        }
    }
}

/// Reports an error that came before the shim could begin.
pub(crate) fn report_failure(report: OwnedFd, error: &Error) {
    send_report(
        &mut std::fs::File::from(report),
        &Report::Failed {
            message: error.to_string(),
            invalid: error.kind() == crate::ErrorKind::InvalidArgument,
        },
    );
}

/// The shim process: create, report, then supervise until the container ends. `None`: the
/// container could not be made (and the report says why).
fn shim_main(state_dir: &StateDir, options: LaunchOptions, write_end: OwnedFd) -> Option<i32> {
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
            return None;
        }
    };
    // A client or a container that goes away must be an error to handle, not a signal.
    // SAFETY: SIG_IGN installs no handler code.
    let _ = unsafe { nix::sys::signal::signal(Signal::SIGPIPE, SigHandler::SigIgn) };
    let socket_path = state_dir.file(SHIM_SOCKET);
    let attach_path = state_dir.file(ATTACH_SOCKET);
    let created = create_container(state_dir, &options, &socket_path, &attach_path);
    // The bundle (config.json with its seccomp profile) is not needed again.
    drop(options);
    let (launched, listener, stdio) = match created {
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
            let _ = std::fs::remove_file(&attach_path);
            return None;
        }
    };
    send_report(
        &mut report,
        &Report::Created(Box::new(launched.stored.clone())),
    );
    drop(report);
    detach_stdio();
    let mut supervisor = supervise::Supervisor {
        child: &launched.child,
        signals,
        relay: None,
        control: Some(supervise::Control {
            listener,
            state_dir: state_dir.clone(),
        }),
        stdio,
        release_memory_at: Some(Instant::now() + RELEASE_MEMORY_AFTER),
    };
    let outcome = supervisor.run();
    // Every byte of output reaches the log and the attached clients, and they are closed,
    // before the exit is recorded: whoever waits for the exit has all the output.
    if let Some(stdio) = supervisor.stdio.take() {
        stdio.finish();
    }
    let oom = launched.cgroup.oom_kill_count().unwrap_or(0) > 0;
    let status = from_wait(outcome.status, oom, outcome.start_error);
    let _ = state_dir.write_json(EXIT_FILE, &status);
    let _ = std::fs::remove_file(&socket_path);
    Some(0)
}

/// The container, the control socket, and managed stdio if asked for; nothing of them is
/// left if any step fails.
fn create_container(
    state_dir: &StateDir,
    options: &LaunchOptions,
    socket_path: &Path,
    attach_path: &Path,
) -> Result<(Launched, UnixListener, Option<ManagedStdio>)> {
    let prepared = options
        .io
        .as_ref()
        .map(|io| prepare_managed(io, options.bundle.terminal()))
        .transpose()?;
    let mut launched = launch(state_dir, options)?;
    let undo = |launched: &Launched| {
        launched.child.kill_and_reap();
        let _ = launched.cgroup.destroy();
    };
    let finished = (|| {
        let listener = crate::sockpath::bind(socket_path)
            .map_err(|e| Error::path("binding shim socket", socket_path, e))?;
        let stdio = match (prepared, &options.io) {
            (Some(prepared), Some(io)) => Some(start_managed(
                prepared,
                io,
                launched.pty_master.take(),
                attach_path,
            )?),
            _ => {
                if let Some(master) = &launched.pty_master {
                    let socket = options.console_socket.as_deref().ok_or_else(|| {
                        Error::InvalidArgument(
                            "a container with a terminal needs --console-socket to run detached"
                                .into(),
                        )
                    })?;
                    tty::send_to_console_socket(socket, master.as_fd())?;
                }
                None
            }
        };
        Ok((listener, stdio))
    })();
    // The console socket has the terminal now, or managed stdio does: no other copy stays.
    launched.pty_master = None;
    match finished {
        Ok((listener, stdio)) => Ok((launched, listener, stdio)),
        Err(e) => {
            undo(&launched);
            Err(e)
        }
    }
}

/// Before the clone: the log opened (so that a bad path fails `create`), the caller's stdio
/// let go, and the container's pipes on descriptors 0-2 for the init to inherit (a
/// container with a terminal gets its pty inside instead).
fn prepare_managed(io: &ManagedIo, terminal: bool) -> Result<stdio::Prepared> {
    detach_stdio();
    let log = io
        .log
        .as_ref()
        .map(|c| LogWriter::open(&c.path, c.rotation))
        .transpose()?;
    let pipes = if terminal {
        None
    } else {
        let (theirs, ours) = stdio::make_pipes(io.stdin)?;
        theirs.install()?;
        Some(ours)
    };
    Ok(stdio::Prepared { log, pipes })
}

/// After the clone: the shim's copies of the container's ends are dropped (so that output
/// reaches end-of-file when the container's side closes) and the attach socket opens.
fn start_managed(
    prepared: stdio::Prepared,
    io: &ManagedIo,
    pty_master: Option<OwnedFd>,
    attach_path: &Path,
) -> Result<ManagedStdio> {
    detach_stdio();
    let sources = match (prepared.pipes, pty_master) {
        (_, Some(master)) => stdio::Sources::Terminal(master),
        (Some(pipes), None) => stdio::Sources::Pipes(pipes),
        (None, None) => {
            return Err(Error::ContainerInit(
                "the container's terminal was not handed over".into(),
            ));
        }
    };
    let listener = crate::sockpath::bind(attach_path)
        .map_err(|e| Error::path("binding attach socket", attach_path, e))?;
    ManagedStdio::new(
        sources,
        stdio::StdioOptions {
            log: prepared.log,
            listener,
            socket_path: attach_path.to_owned(),
            stdin: io.stdin,
            stdin_once: io.stdin_once,
        },
    )
    .map_err(|e| Error::io("setting up the container's terminal", e))
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
