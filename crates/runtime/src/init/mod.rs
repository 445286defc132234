//! The child side of container creation: what the freshly cloned process does to become the
//! container, step by step, before it execs the user's program. It runs single-threaded in a
//! copy of its parent and reports failures over the sync socket before exiting.

pub(crate) mod process;

use std::convert::Infallible;
use std::os::fd::AsFd;

use nix::sched::CloneFlags;
use nix::sys::signal::{SigHandler, SigSet, SigmaskHow, Signal, signal, sigprocmask};

use crate::cgroups::CgroupEntry;
use crate::error::{Error, Result};
use crate::namespaces::Namespaces;
use crate::rootfs::{self, RootfsPlan};
use crate::sync::{ParentMessage, SyncSocket};
use crate::tty;
pub(crate) use process::{ProcessPlan, errno_text};

/// Everything a new container's init needs, prepared by the parent before the clone.
pub(crate) struct InitPlan {
    pub namespaces: Namespaces,
    pub hostname: Option<String>,
    pub domainname: Option<String>,
    pub rootfs: RootfsPlan,
    pub sysctl: Vec<(String, String)>,
    pub masked_paths: Vec<String>,
    pub readonly_paths: Vec<String>,
    pub process: ProcessPlan,
}

/// The child side of `exec`: joins a running container's namespaces, then runs a process.
pub(crate) struct ExecPlan {
    /// pidfd of the container's init, whose namespaces are joined.
    pub target: std::os::fd::OwnedFd,
    pub namespace_flags: libc::c_int,
    /// Whether the container has a pid namespace of its own to enter.
    pub joins_pid: bool,
    pub process: ProcessPlan,
}

/// Entry of the cloned child for a new container. Never returns.
pub(crate) fn container_main(plan: &InitPlan, cgroup: &CgroupEntry, sync: &SyncSocket) -> ! {
    let outcome = become_container(plan, cgroup, sync);
    exit_with(outcome, sync)
}

/// Entry of the cloned child for `exec`. Never returns.
pub(crate) fn exec_main(plan: &ExecPlan, cgroup: &CgroupEntry, sync: &SyncSocket) -> ! {
    let outcome = join_container(plan, cgroup, sync);
    exit_with(outcome, sync)
}

fn exit_with(outcome: std::result::Result<Infallible, (Error, i32)>, sync: &SyncSocket) -> ! {
    let code = match outcome {
        Ok(never) => match never {},
        Err((err, code)) => {
            let _ = sync.send_error(&err.to_string(), code);
            code
        }
    };
    // SAFETY: _exit ends this process without running the parent's atexit handlers or
    // destructors, which belong to the copy of memory we were cloned from.
    unsafe { libc::_exit(code) }
}

fn setup_err(e: Error) -> (Error, i32) {
    (e, 1)
}

fn sys_step(what: &str, e: nix::errno::Errno) -> Error {
    Error::ContainerInit(format!("{what}: {}", errno_text(e)))
}

/// The first thing a cloned child does: die with its parent while it is still being set up,
/// hide from ptrace and /proc of the container, and forget the parent's signal handling.
fn detach_from_parent_state() -> Result<()> {
    nix::sys::prctl::set_pdeathsig(Signal::SIGKILL)
        .map_err(|e| sys_step("setting parent-death signal", e))?;
    nix::sys::prctl::set_dumpable(false)
        .map_err(|e| sys_step("making the init non-dumpable", e))?;
    for sig in Signal::iterator() {
        if !matches!(sig, Signal::SIGKILL | Signal::SIGSTOP) {
            // SAFETY: restoring default dispositions installs no handler code.
            let _ = unsafe { signal(sig, SigHandler::SigDfl) };
        }
    }
    sigprocmask(SigmaskHow::SIG_SETMASK, Some(&SigSet::empty()), None)
        .map_err(|e| sys_step("clearing the signal mask", e))?;
    Ok(())
}

/// Into the container's v1 hierarchies, before anything is set up (see [`CgroupEntry`]).
fn enter_cgroup(cgroup: &CgroupEntry) -> Result<()> {
    cgroup.enter_v1().map_err(|e| {
        sys_step(
            "joining the container's cgroup",
            nix::errno::Errno::from_raw(e.raw_os_error()),
        )
    })
}

fn wait_for(sync: &SyncSocket, expected: ParentMessage) -> Result<()> {
    match sync.recv_from_parent() {
        Ok(msg) if msg == expected => Ok(()),
        Ok(other) => Err(Error::ContainerInit(format!(
            "unexpected {other:?} from parent"
        ))),
        Err(e) => Err(sys_step("waiting for the parent", e)),
    }
}

fn become_container(
    plan: &InitPlan,
    cgroup: &CgroupEntry,
    sync: &SyncSocket,
) -> std::result::Result<Infallible, (Error, i32)> {
    detach_from_parent_state().map_err(setup_err)?;
    enter_cgroup(cgroup).map_err(setup_err)?;
    wait_for(sync, ParentMessage::Go).map_err(setup_err)?;
    setup_container(plan, sync).map_err(setup_err)?;
    sync.send_ready()
        .map_err(|e| setup_err(sys_step("reporting ready", e)))?;
    wait_for(sync, ParentMessage::Start).map_err(setup_err)?;
    process::finalize_and_exec(&plan.process)
}

fn setup_container(plan: &InitPlan, sync: &SyncSocket) -> Result<()> {
    plan.namespaces.join_in_child()?;
    if plan.namespaces.new_cgroup_ns {
        // Now that the parent has put us in our cgroup, a new cgroup namespace is rooted there.
        nix::sched::unshare(CloneFlags::CLONE_NEWCGROUP)
            .map_err(|e| sys_step("creating cgroup namespace", e))?;
    }
    nix::unistd::setsid().map_err(|e| sys_step("creating a session", e))?;
    if let Some(hostname) = &plan.hostname {
        nix::unistd::sethostname(hostname).map_err(|e| sys_step("setting hostname", e))?;
    }
    if let Some(domainname) = &plan.domainname {
        set_domainname(domainname)?;
    }
    if let Some(adj) = plan.process.oom_score_adj {
        std::fs::write("/proc/self/oom_score_adj", adj.to_string())
            .map_err(|e| Error::path("setting oom_score_adj in", "/proc/self/oom_score_adj", e))?;
    }
    // Device nodes and mount points get exactly the modes asked for.
    nix::sys::stat::umask(nix::sys::stat::Mode::empty());
    rootfs::prepare(&plan.rootfs)?;
    rootfs::pivot(&plan.rootfs)?;
    if plan.process.terminal {
        attach_terminal(plan.process.console_size, sync)?;
    }
    for (key, value) in &plan.sysctl {
        let path = format!("/proc/sys/{}", key.replace('.', "/"));
        std::fs::write(&path, value).map_err(|e| Error::path("setting sysctl", path, e))?;
    }
    rootfs::readonly_paths(&plan.readonly_paths)?;
    rootfs::mask_paths(&plan.masked_paths)?;
    rootfs::finish_root(&plan.rootfs)?;
    Ok(())
}

fn set_domainname(name: &str) -> Result<()> {
    // SAFETY: the pointer and length describe a live byte slice for the duration of the call.
    let ret = unsafe { libc::setdomainname(name.as_ptr().cast(), name.len()) };
    if ret < 0 {
        return Err(sys_step("setting domainname", nix::errno::Errno::last()));
    }
    Ok(())
}

/// Makes a pty inside the container, hands its master to the parent and takes the slave as
/// controlling terminal and stdio.
fn attach_terminal(size: Option<(u16, u16)>, sync: &SyncSocket) -> Result<()> {
    let pty = tty::open_in_container(size)?;
    tty::bind_console(&pty.slave_path)?;
    sync.send_pty(pty.master.as_fd())
        .map_err(|e| sys_step("handing over the terminal", e))?;
    drop(pty.master);
    tty::become_controlling(&pty.slave)?;
    Ok(())
}

fn join_container(
    plan: &ExecPlan,
    cgroup: &CgroupEntry,
    sync: &SyncSocket,
) -> std::result::Result<Infallible, (Error, i32)> {
    detach_from_parent_state().map_err(setup_err)?;
    enter_cgroup(cgroup).map_err(setup_err)?;
    wait_for(sync, ParentMessage::Go).map_err(setup_err)?;
    crate::sys::setns(plan.target.as_fd(), plan.namespace_flags)
        .map_err(|e| setup_err(sys_step("joining the container's namespaces", e)))?;
    nix::unistd::setsid().map_err(|e| setup_err(sys_step("creating a session", e)))?;
    if let Some(adj) = plan.process.oom_score_adj {
        std::fs::write("/proc/self/oom_score_adj", adj.to_string()).map_err(|e| {
            setup_err(Error::path(
                "setting oom_score_adj in",
                "/proc/self/oom_score_adj",
                e,
            ))
        })?;
    }
    if plan.process.terminal {
        attach_terminal(plan.process.console_size, sync).map_err(setup_err)?;
    }
    sync.send_ready()
        .map_err(|e| setup_err(sys_step("reporting ready", e)))?;
    wait_for(sync, ParentMessage::Start).map_err(setup_err)?;
    process::finalize_and_exec(&plan.process)
}
