//! The parent side of creating a container or an exec'd process: clone, put the child in its
//! cgroup, then walk it through the sync protocol.

use std::os::fd::{AsFd, OwnedFd};

use nix::errno::Errno;
use nix::sys::signal::Signal;
use nix::sys::wait::{WaitStatus, waitpid};
use nix::unistd::Pid;

use crate::cgroups::{Cgroup, CgroupEntry};
use crate::error::{Error, Result};
use crate::init::{self, ExecPlan, InitPlan};
use crate::sync::{self, ChildMessage, ParentMessage, SyncSocket};
use crate::sys::{self, Forked};

/// A cloned child that is being set up, or has been started.
pub(crate) struct Child {
    pub pid: i32,
    pub pidfd: OwnedFd,
    sync: SyncSocket,
}

fn sys_err(what: &str, e: Errno) -> Error {
    Error::io(what.to_owned(), std::io::Error::from(e))
}

/// Clones the init of a new container in its new namespaces, in its cgroup, and lets it
/// begin. The caller must be single-threaded.
pub(crate) fn spawn_init(plan: &InitPlan, cgroup: &Cgroup) -> Result<Child> {
    let entry = CgroupEntry::open(cgroup)?;
    let (parent_end, child_end) = sync::pair().map_err(|e| sys_err("creating sync socket", e))?;
    plan.namespaces.join_pid_for_children()?;
    let (forked, cloned_into) = clone_in_cgroup(plan.namespaces.clone_flags as u64, &entry)?;
    match forked {
        Forked::Child => {
            drop(parent_end);
            init::container_main(plan, &entry, &child_end)
        }
        Forked::Parent { pid, pidfd } => {
            drop(child_end);
            let child = Child {
                pid,
                pidfd,
                sync: parent_end,
            };
            child.enter_cgroup_and_go(cgroup, cloned_into)?;
            Ok(child)
        }
    }
}

/// Clones a process that joins a running container (the parent first enters its pid namespace).
pub(crate) fn spawn_exec(plan: &ExecPlan, cgroup: &Cgroup) -> Result<Child> {
    let entry = CgroupEntry::open(cgroup)?;
    let (parent_end, child_end) = sync::pair().map_err(|e| sys_err("creating sync socket", e))?;
    if plan.joins_pid {
        sys::setns(plan.target.as_fd(), libc::CLONE_NEWPID)
            .map_err(|e| sys_err("joining the container's pid namespace", e))?;
    }
    let (forked, cloned_into) = clone_in_cgroup(0, &entry)?;
    match forked {
        Forked::Child => {
            drop(parent_end);
            init::exec_main(plan, &entry, &child_end)
        }
        Forked::Parent { pid, pidfd } => {
            drop(child_end);
            let child = Child {
                pid,
                pidfd,
                sync: parent_end,
            };
            child.enter_cgroup_and_go(cgroup, cloned_into)?;
            Ok(child)
        }
    }
}

/// Clones straight into the cgroup2 directory when there is one; a kernel that refuses
/// CLONE_INTO_CGROUP (older than 5.7, or a cgroup it will not start a process in) gets a plain
/// clone, and the parent moves the child. Says whether the child started in its cgroup2.
fn clone_in_cgroup(flags: u64, entry: &CgroupEntry) -> Result<(Forked, bool)> {
    if let Some(dir) = entry.clone_into()
        && let Ok(forked) = sys::fork_into_cgroup(flags, Some(dir))
    {
        return Ok((forked, true));
    }
    let forked = sys::fork_with_flags(flags).map_err(|e| sys_err("clone", e))?;
    Ok((forked, false))
}

impl Child {
    /// The child moves itself into its v1 hierarchies; the parent moves it into its cgroup2
    /// only if the clone could not start it there.
    fn enter_cgroup_and_go(&self, cgroup: &Cgroup, cloned_into: bool) -> Result<()> {
        let moved = if cloned_into {
            Ok(())
        } else {
            cgroup.add_process_unified(self.pid)
        };
        let result = moved.map_err(Error::from).and_then(|()| {
            self.sync
                .send_to_child(ParentMessage::Go)
                .map_err(|e| sys_err("starting container setup", e))
        });
        if let Err(e) = result {
            self.kill_and_reap();
            return Err(e);
        }
        Ok(())
    }

    /// Waits for the child to finish its setup. Gives back the terminal's master if the child
    /// made one. On failure the child is gone (killed and reaped) when this returns.
    pub fn wait_ready(&self) -> Result<Option<OwnedFd>> {
        let mut pty = None;
        loop {
            let msg = self
                .sync
                .recv_from_child()
                .map_err(|e| sys_err("waiting for container setup", e));
            match msg {
                Ok(ChildMessage::Ready) => return Ok(pty),
                Ok(ChildMessage::PtyMaster(fd)) => pty = Some(fd),
                Ok(ChildMessage::Error { message, .. }) => {
                    self.kill_and_reap();
                    return Err(Error::ContainerInit(message));
                }
                Ok(ChildMessage::Closed) => {
                    let status = self.kill_and_reap();
                    return Err(Error::ContainerInit(format!(
                        "container init died during setup ({status})"
                    )));
                }
                Err(e) => {
                    self.kill_and_reap();
                    return Err(e);
                }
            }
        }
    }

    /// Tells the child to exec the user's program. `Ok` once it did; the error and the exit
    /// code it will have when it did not (the child exits by itself then).
    pub fn start(&self) -> std::result::Result<(), (String, i32)> {
        if let Err(e) = self.sync.send_to_child(ParentMessage::Start) {
            return Err((
                format!("starting container process: {}", init::errno_text(e)),
                1,
            ));
        }
        match self.sync.recv_from_child() {
            Ok(ChildMessage::Closed) => Ok(()),
            Ok(ChildMessage::Error { message, exit_code }) => Err((message, exit_code)),
            Ok(other) => Err((format!("unexpected {other:?} from container init"), 1)),
            Err(e) => Err((
                format!("starting container process: {}", init::errno_text(e)),
                1,
            )),
        }
    }

    /// SIGKILL and wait: for a child that will not become a container after all.
    pub fn kill_and_reap(&self) -> String {
        let _ = sys::pidfd_send_signal(self.pidfd.as_fd(), Signal::SIGKILL as i32);
        match waitpid(Pid::from_raw(self.pid), None) {
            Ok(WaitStatus::Exited(_, code)) => format!("exit status {code}"),
            Ok(WaitStatus::Signaled(_, sig, _)) => format!("killed by {sig}"),
            Ok(other) => format!("{other:?}"),
            Err(e) => format!("wait failed: {e}"),
        }
    }
}
