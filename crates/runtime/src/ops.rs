//! The runtime's operations, as the OCI runtime command line has them: create, start, run,
//! state, list, kill, delete, pause, resume, exec.

use std::os::fd::{AsFd, OwnedFd};
use std::path::{Path, PathBuf};
use std::time::Duration;

use nix::poll::{PollFd, PollFlags, PollTimeout, poll};
use nix::sys::signal::Signal;
use oci_spec::runtime::{LinuxNamespaceType, Process, Spec};

use crate::cgroups::Cgroup;
use crate::error::{Error, Result};
use crate::init::{ExecPlan, ProcessPlan};
use crate::logfile::LogConfig;
use crate::namespaces::clone_flag;
use crate::shim::supervise::{Relay, Supervisor, catch_signals};
use crate::shim::{self, LaunchOptions, Request};
use crate::spec::{self, load_bundle};
use crate::state::{
    self, CONFIG_FILE, ContainerState, EXIT_FILE, ExitStatus, SHIM_SOCKET, STARTED_FILE, StateDir,
    Status, StoredState,
};
use crate::{seccomp, selfexe, spawn, sys, tty};

/// The OCI spec version pier's runtime implements, as `state` reports it.
pub const OCI_VERSION: &str = "1.2.0";

/// A state root holding containers by id.
#[derive(Debug, Clone)]
pub struct Runtime {
    root: PathBuf,
}

#[derive(Debug, Clone, Default)]
pub struct CreateOptions {
    /// Where to send the terminal's master (runc's --console-socket).
    pub console_socket: Option<PathBuf>,
    /// Where to write the init's pid.
    pub pid_file: Option<PathBuf>,
    /// Use MS_MOVE + chroot instead of pivot_root (for a rootfs on ramfs).
    pub no_pivot: bool,
    /// Descriptors past stdio that the process keeps.
    pub preserve_fds: u32,
    /// The shim owns the container's stdio instead of passing on the caller's (create and
    /// detached runs only).
    pub io: Option<ManagedIo>,
}

/// Stdio that the shim owns: pipes for stdout and stderr (or the terminal's master, when
/// config.json asks for `process.terminal`; no console socket then), stdin a pipe if kept
/// open (else /dev/null). Output goes to the json-file log and to clients of the attach
/// socket ([`crate::attach`]); clients' input goes to stdin.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ManagedIo {
    /// Where output is logged; `None` logs nothing (attach still works).
    pub log: Option<LogConfig>,
    /// Keep the container's stdin open for attached clients.
    pub stdin: bool,
    /// Close stdin when the first client attached to it detaches.
    pub stdin_once: bool,
}

#[derive(Debug, Clone, Default)]
pub struct ExecOptions {
    pub console_socket: Option<PathBuf>,
    pub pid_file: Option<PathBuf>,
    /// Return once the process runs, instead of waiting for it.
    pub detach: bool,
    pub preserve_fds: u32,
}

/// How a foreground run or exec ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RunOutcome {
    Exited(ExitStatus),
    Detached { pid: i32 },
}

pub(crate) fn status_of(dir: &StateDir, stored: &StoredState) -> Status {
    if dir.file(EXIT_FILE).exists() {
        return Status::Stopped;
    }
    if !stored.init_alive() {
        // The shim records the exit a moment after the init dies; until then the container has
        // not finished stopping. Without a shim nothing will record it.
        return if sys::process_start_time(stored.shim_pid) == Some(stored.shim_start_time)
            && !sys::is_zombie(stored.shim_pid)
        {
            Status::Running
        } else {
            Status::Stopped
        };
    }
    if Cgroup::from_paths(stored.cgroup.clone())
        .is_frozen()
        .unwrap_or(false)
    {
        Status::Paused
    } else if dir.file(STARTED_FILE).exists() {
        Status::Running
    } else {
        Status::Created
    }
}

fn public_state(dir: &StateDir, stored: &StoredState) -> ContainerState {
    let status = status_of(dir, stored);
    ContainerState {
        oci_version: OCI_VERSION.to_owned(),
        id: stored.id.clone(),
        pid: if status == Status::Stopped {
            0
        } else {
            stored.pid
        },
        status,
        bundle: stored.bundle.clone(),
        rootfs: stored.rootfs.clone(),
        created: stored.created.clone(),
        owner: String::new(),
        annotations: stored.annotations.clone(),
        exit: if status == Status::Stopped {
            dir.exit_status().ok().flatten()
        } else {
            None
        },
    }
}

/// What a shim's report line (see [`Runtime::create_as_shim`]) says: the container was
/// created (the pid of its init), or the error that `create` would have returned.
pub fn decode_shim_report(line: &str) -> Result<i32> {
    shim::decode_report(line).map(|stored| stored.pid)
}

/// Has the shim exec the container's process; its error and exit code if that failed.
fn ask_shim_to_start(dir: &StateDir) -> Result<()> {
    let reply = shim::call(&dir.file(SHIM_SOCKET), &Request::Start)?;
    match reply.error {
        None => Ok(()),
        Some(message) => {
            let code = dir
                .exit_status()
                .ok()
                .flatten()
                .map(|s| s.code)
                .unwrap_or(1);
            Err(Error::ExecFailed { message, code })
        }
    }
}

/// A pidfd on the container's init, verified to be the same process that create recorded.
fn init_pidfd(stored: &StoredState) -> Result<OwnedFd> {
    let stopped = || Error::WrongState(format!("container {} is not running", stored.id));
    let fd = sys::pidfd_open(stored.pid).map_err(|_| stopped())?;
    // The pidfd pins whichever process had the pid when it was opened; checking the start time
    // afterwards proves that it is ours.
    if !stored.init_alive() {
        return Err(stopped());
    }
    Ok(fd)
}

/// Waits until a process that is not our child is gone, by its pidfd.
fn wait_gone(pid: i32, start_time: u64, timeout: Duration) -> bool {
    let Ok(fd) = sys::pidfd_open(pid) else {
        return true;
    };
    if sys::process_start_time(pid) != Some(start_time) {
        return true;
    }
    let mut fds = [PollFd::new(fd.as_fd(), PollFlags::POLLIN)];
    let ms = u16::try_from(timeout.as_millis()).unwrap_or(u16::MAX);
    matches!(poll(&mut fds, PollTimeout::from(ms)), Ok(n) if n > 0)
}

fn write_pid_file(path: Option<&Path>, pid: i32) -> Result<()> {
    if let Some(path) = path {
        sys::write_atomic(path, pid.to_string().as_bytes())
            .map_err(|e| Error::path("writing pid file", path, e))?;
    }
    Ok(())
}

impl Runtime {
    pub fn new(root: impl Into<PathBuf>) -> Runtime {
        Runtime { root: root.into() }
    }

    pub fn root(&self) -> &Path {
        &self.root
    }

    /// Creates a container whose init waits for `start`, parented by a detached shim.
    /// The container gets this process's stdio (or a terminal through `console_socket`), or
    /// with `options.io` stdio that the shim owns. Forks: the caller must be single-threaded
    /// (a multi-threaded daemon execs `pier runtime create` instead).
    pub fn create(
        &self,
        id: &str,
        bundle: &Path,
        options: &CreateOptions,
    ) -> Result<ContainerState> {
        // The shim inherits the lock across fork and holds it for the container's life.
        let (dir, _lock, launch) = self.prepare_create(id, bundle, options)?;
        let stored = match shim::spawn_detached(&dir, launch) {
            Ok(stored) => stored,
            Err(e) => {
                let _ = dir.remove();
                return Err(e);
            }
        };
        write_pid_file(options.pid_file.as_deref(), stored.pid)?;
        Ok(public_state(&dir, &stored))
    }

    /// `create` with this process as the shim, instead of a forked one: it starts a new
    /// session, writes one line to `report` once the container is created or could not be
    /// (read it with [`decode_shim_report`]), closes it, and parents the container until it
    /// ends. Returns the process's exit code. Saves the engine two forks and waiting for an
    /// exit on every start; the process must be single-threaded, and whoever spawned it reaps
    /// it. `options.pid_file` is not written: the report has the pid.
    pub fn create_as_shim(
        &self,
        id: &str,
        bundle: &Path,
        options: &CreateOptions,
        report: OwnedFd,
    ) -> i32 {
        match self.prepare_create(id, bundle, options) {
            Ok((dir, _lock, launch)) => shim::become_shim(&dir, launch, report),
            Err(e) => {
                shim::report_failure(report, &e);
                1
            }
        }
    }

    /// Checks a create request and makes the container's state directory, locked.
    fn prepare_create(
        &self,
        id: &str,
        bundle: &Path,
        options: &CreateOptions,
    ) -> Result<(StateDir, state::StateLock, LaunchOptions)> {
        let bundle = load_bundle(bundle)?;
        if options.io.is_some() && options.console_socket.is_some() {
            return Err(Error::InvalidArgument(
                "--console-socket cannot be used with managed stdio: the shim keeps the terminal"
                    .into(),
            ));
        }
        if bundle.terminal() && options.console_socket.is_none() && options.io.is_none() {
            return Err(Error::InvalidArgument(
                "cannot allocate a terminal for a detached container without --console-socket"
                    .into(),
            ));
        }
        let (dir, lock) = StateDir::create(&self.root, id)?;
        let launch = LaunchOptions {
            bundle,
            console_socket: options.console_socket.clone(),
            no_pivot: options.no_pivot,
            preserve_fds: options.preserve_fds,
            io: options.io.clone(),
        };
        Ok((dir, lock, launch))
    }

    /// Runs the user's process of a created container, through its shim's control socket.
    /// Does not fork; safe from a multi-threaded process.
    pub fn start(&self, id: &str) -> Result<()> {
        let dir = StateDir::open(&self.root, id)?;
        let stored = dir.stored()?;
        match status_of(&dir, &stored) {
            Status::Created => {}
            Status::Stopped => {
                return Err(Error::WrongState(
                    "cannot start a container that has stopped".into(),
                ));
            }
            _ => {
                return Err(Error::WrongState(
                    "cannot start an already running container".into(),
                ));
            }
        }
        ask_shim_to_start(&dir)
    }

    /// `start` for whoever has just created the container and keeps others off it (the
    /// engine, under its own lock): its state is known, so nothing is read before the shim is
    /// asked.
    pub fn start_created(&self, id: &str) -> Result<()> {
        ask_shim_to_start(&StateDir::open(&self.root, id)?)
    }

    /// Creates and starts a container in the foreground: this process is its parent, relays
    /// its terminal and signals, and returns how it ended after removing it.
    /// The caller must be single-threaded.
    pub fn run(&self, id: &str, bundle: &Path, options: &CreateOptions) -> Result<RunOutcome> {
        if options.io.is_some() {
            return Err(Error::InvalidArgument(
                "managed stdio (--log-path, --stdin, --managed-io) needs a detached container: use create, or run --detach".into(),
            ));
        }
        let bundle = load_bundle(bundle)?;
        let signals = catch_signals().map_err(|e| Error::io("blocking signals", e.into()))?;
        let (dir, _lock) = StateDir::create(&self.root, id)?;
        let launch = LaunchOptions {
            bundle,
            console_socket: options.console_socket.clone(),
            no_pivot: options.no_pivot,
            preserve_fds: options.preserve_fds,
            io: None,
        };
        let launched = match shim::launch(&dir, &launch) {
            Ok(l) => l,
            Err(e) => {
                let _ = dir.remove();
                return Err(e);
            }
        };
        let cleanup = |dir: &StateDir| {
            let _ = launched.cgroup.destroy();
            let _ = dir.remove();
        };
        if let Err(e) = write_pid_file(options.pid_file.as_deref(), launched.child.pid) {
            launched.child.kill_and_reap();
            cleanup(&dir);
            return Err(e);
        }
        let relay = match (
            launched.pty_master.as_ref(),
            options.console_socket.as_deref(),
        ) {
            (Some(master), Some(socket)) => {
                if let Err(e) = tty::send_to_console_socket(socket, master.as_fd()) {
                    launched.child.kill_and_reap();
                    cleanup(&dir);
                    return Err(e);
                }
                None
            }
            (Some(master), None) => match master.try_clone() {
                Ok(m) => Some(Relay::new(m)),
                Err(e) => {
                    launched.child.kill_and_reap();
                    cleanup(&dir);
                    return Err(Error::io("duplicating terminal", e));
                }
            },
            (None, _) => None,
        };
        let _ = std::fs::write(dir.file(STARTED_FILE), b"");
        if let Err((message, code)) = launched.child.start() {
            drop(relay);
            launched.child.kill_and_reap();
            cleanup(&dir);
            return Err(Error::ExecFailed { message, code });
        }
        let outcome = Supervisor {
            child: &launched.child,
            signals,
            relay,
            control: None,
            stdio: None,
            release_memory_at: None,
        }
        .run();
        let oom = launched.cgroup.oom_kill_count().unwrap_or(0) > 0;
        let status = shim::from_wait(outcome.status, oom, outcome.start_error);
        cleanup(&dir);
        Ok(RunOutcome::Exited(status))
    }

    /// `run --detach`: create, then start.
    pub fn run_detached(
        &self,
        id: &str,
        bundle: &Path,
        options: &CreateOptions,
    ) -> Result<RunOutcome> {
        let state = self.create(id, bundle, options)?;
        if let Err(e) = self.start(id) {
            let _ = self.delete(id, true);
            return Err(e);
        }
        Ok(RunOutcome::Detached { pid: state.pid })
    }

    /// The OCI state. Does not fork; safe from a multi-threaded process.
    pub fn state(&self, id: &str) -> Result<ContainerState> {
        let dir = StateDir::open(&self.root, id)?;
        Ok(public_state(&dir, &dir.stored()?))
    }

    /// How the container ended, once it has.
    /// Does not fork; safe from a multi-threaded process.
    pub fn exit_status(&self, id: &str) -> Result<Option<ExitStatus>> {
        StateDir::open(&self.root, id)?.exit_status()
    }

    /// Every container of this root. Does not fork; safe from a multi-threaded process.
    pub fn list(&self) -> Result<Vec<ContainerState>> {
        let entries = match std::fs::read_dir(&self.root) {
            Ok(entries) => entries,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
            Err(e) => return Err(Error::path("listing", &self.root, e)),
        };
        let mut states = Vec::new();
        for entry in entries.flatten() {
            let name = entry.file_name().to_string_lossy().into_owned();
            // Containers still being created, or being deleted, have no complete state: skip them.
            if let Ok(dir) = StateDir::open(&self.root, &name)
                && let Ok(stored) = dir.stored()
            {
                states.push(public_state(&dir, &stored));
            }
        }
        states.sort_by(|a, b| a.id.cmp(&b.id));
        Ok(states)
    }

    /// Sends a signal to the container's init, or with `all` to every process in its cgroup.
    /// Does not fork; safe from a multi-threaded process.
    pub fn kill(&self, id: &str, signal: i32, all: bool) -> Result<()> {
        let dir = StateDir::open(&self.root, id)?;
        let stored = dir.stored()?;
        if status_of(&dir, &stored) == Status::Stopped {
            return Err(Error::WrongState("container not running".into()));
        }
        if all {
            return Ok(Cgroup::from_paths(stored.cgroup.clone()).kill_all(signal)?);
        }
        let fd = init_pidfd(&stored)?;
        sys::pidfd_send_signal(fd.as_fd(), signal)
            .map_err(|e| Error::io(format!("sending signal {signal} to {id}"), e.into()))
    }

    /// Removes a stopped (or, with `force`, any) container: its processes, cgroup and state.
    /// Does not fork; safe from a multi-threaded process.
    pub fn delete(&self, id: &str, force: bool) -> Result<()> {
        let dir = match StateDir::open(&self.root, id) {
            Ok(dir) => dir,
            Err(Error::NotFound(_)) => return self.delete_incomplete(id),
            Err(e) => return Err(e),
        };
        let stored = dir.stored()?;
        let cgroup = Cgroup::from_paths(stored.cgroup.clone());
        let status = status_of(&dir, &stored);
        match status {
            Status::Stopped => {}
            Status::Created => self.kill_everything(&stored, &cgroup),
            _ if force => self.kill_everything(&stored, &cgroup),
            _ => {
                return Err(Error::WrongState(format!(
                    "cannot delete container {id} that is not stopped: {status}"
                )));
            }
        }
        if !wait_gone(stored.pid, stored.pid_start_time, Duration::from_secs(10)) {
            return Err(Error::WrongState(format!(
                "container {id} did not die after SIGKILL"
            )));
        }
        // The shim records the exit and leaves right after its container.
        wait_gone(
            stored.shim_pid,
            stored.shim_start_time,
            Duration::from_secs(10),
        );
        cgroup.destroy()?;
        dir.remove()
    }

    /// A directory without state: removed if the creation that made it is dead, refused while
    /// a creation is under way, not found otherwise.
    fn delete_incomplete(&self, id: &str) -> Result<()> {
        let dir = StateDir {
            id: id.to_owned(),
            path: self.root.join(id),
        };
        if !dir.path.is_dir() {
            return Err(Error::NotFound(id.to_owned()));
        }
        if dir.remove_if_stale()? {
            // Its cgroup, if it got one, is where a container without cgroupsPath has it.
            if let Ok(cgroup) = Cgroup::for_container(None, id) {
                let _ = cgroup.destroy();
            }
            return Ok(());
        }
        Err(Error::WrongState(format!(
            "container {id} is being created"
        )))
    }

    fn kill_everything(&self, stored: &StoredState, cgroup: &Cgroup) {
        if let Ok(fd) = init_pidfd(stored) {
            let _ = sys::pidfd_send_signal(fd.as_fd(), Signal::SIGKILL as i32);
        }
        let _ = cgroup.kill_all(Signal::SIGKILL as i32);
        // Frozen processes cannot die until thawed.
        let _ = cgroup.thaw();
    }

    /// Freezes the container's cgroup. Does not fork; safe from a multi-threaded process.
    pub fn pause(&self, id: &str) -> Result<()> {
        let dir = StateDir::open(&self.root, id)?;
        let stored = dir.stored()?;
        match status_of(&dir, &stored) {
            Status::Running | Status::Created => Ok(Cgroup::from_paths(stored.cgroup).freeze()?),
            Status::Paused => Err(Error::WrongState(format!(
                "container {id} is already paused"
            ))),
            status => Err(Error::WrongState(format!(
                "container {id} is not running: {status}"
            ))),
        }
    }

    /// Thaws the container's cgroup. Does not fork; safe from a multi-threaded process.
    pub fn resume(&self, id: &str) -> Result<()> {
        let dir = StateDir::open(&self.root, id)?;
        let stored = dir.stored()?;
        match status_of(&dir, &stored) {
            Status::Paused => Ok(Cgroup::from_paths(stored.cgroup).thaw()?),
            _ => Err(Error::WrongState(format!("container {id} is not paused"))),
        }
    }

    /// The process that config.json describes, the base of an exec without `--process`.
    /// Does not fork; safe from a multi-threaded process.
    pub fn container_spec(&self, id: &str) -> Result<Spec> {
        let dir = StateDir::open(&self.root, id)?;
        let bytes = std::fs::read(dir.file(CONFIG_FILE))
            .map_err(|e| Error::path("reading", dir.file(CONFIG_FILE), e))?;
        spec::parse_spec(&bytes)
    }

    /// Runs another process in a running container. Re-executes this program from a sealed
    /// copy first (see `selfexe`), so call it early, with the command line that led here.
    /// The caller must be single-threaded.
    pub fn exec(&self, id: &str, process: &Process, options: &ExecOptions) -> Result<RunOutcome> {
        let dir = StateDir::open(&self.root, id)?;
        let stored = dir.stored()?;
        match status_of(&dir, &stored) {
            Status::Running | Status::Created => {}
            Status::Paused => {
                return Err(Error::WrongState(
                    "cannot exec in a paused container".into(),
                ));
            }
            _ => {
                return Err(Error::WrongState(
                    "cannot exec in a stopped container".into(),
                ));
            }
        }
        let terminal = process.terminal().unwrap_or(false);
        if terminal && options.detach && options.console_socket.is_none() {
            return Err(Error::InvalidArgument(
                "cannot allocate a terminal for a detached process without --console-socket".into(),
            ));
        }
        if process.args().as_ref().is_none_or(|a| a.is_empty()) {
            return Err(Error::InvalidArgument(
                "exec needs the program to run".into(),
            ));
        }
        selfexe::reexec_sealed()?;
        let container = self.container_spec(id)?;
        let linux = container.linux().clone().unwrap_or_default();
        let namespace_flags = linux
            .namespaces()
            .iter()
            .flatten()
            .filter(|ns| {
                !matches!(
                    ns.typ(),
                    LinuxNamespaceType::Pid | LinuxNamespaceType::User | LinuxNamespaceType::Time
                )
            })
            .fold(0, |flags, ns| flags | clone_flag(ns.typ()));
        let joins_pid = linux
            .namespaces()
            .iter()
            .flatten()
            .any(|ns| ns.typ() == LinuxNamespaceType::Pid);
        let cache = state::seccomp_cache(&self.root);
        let seccomp = linux
            .seccomp()
            .as_ref()
            .map(|s| seccomp::compile_cached(s, &cache))
            .transpose()?;
        let signals = catch_signals().map_err(|e| Error::io("blocking signals", e.into()))?;
        let target = init_pidfd(&stored)?;
        let plan = ExecPlan {
            target,
            namespace_flags,
            joins_pid,
            process: ProcessPlan::from_spec(process, seccomp, options.preserve_fds)?,
        };
        let cgroup = Cgroup::from_paths(stored.cgroup.clone());
        let child = spawn::spawn_exec(&plan, &cgroup)?;
        let master = child.wait_ready()?;
        let relay = match (master, options.console_socket.as_deref()) {
            (Some(master), Some(socket)) => {
                if let Err(e) = tty::send_to_console_socket(socket, master.as_fd()) {
                    child.kill_and_reap();
                    return Err(e);
                }
                None
            }
            (Some(master), None) => Some(Relay::new(master)),
            (None, _) => None,
        };
        if let Err((message, code)) = child.start() {
            drop(relay);
            child.kill_and_reap();
            return Err(Error::ExecFailed { message, code });
        }
        write_pid_file(options.pid_file.as_deref(), child.pid)?;
        if options.detach {
            return Ok(RunOutcome::Detached { pid: child.pid });
        }
        let outcome = Supervisor {
            child: &child,
            signals,
            relay,
            control: None,
            stdio: None,
            release_memory_at: None,
        }
        .run();
        Ok(RunOutcome::Exited(shim::from_wait(
            outcome.status,
            false,
            outcome.start_error,
        )))
    }
}
