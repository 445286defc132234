//! Thin wrappers around the few syscalls that `nix` and `rustix` do not cover.

use std::fs::File;
use std::io::Read;
use std::os::fd::{AsRawFd, BorrowedFd, FromRawFd, OwnedFd, RawFd};

use nix::errno::Errno;

/// clone3's flag to start the child in the cgroup2 directory `CloneArgs::cgroup` (Linux 5.7).
const CLONE_INTO_CGROUP: u64 = 0x2_0000_0000;

/// `struct clone_args` of clone3(2), as laid out by the kernel.
#[repr(C)]
#[derive(Default)]
struct CloneArgs {
    flags: u64,
    pidfd: u64,
    child_tid: u64,
    parent_tid: u64,
    exit_signal: u64,
    stack: u64,
    stack_size: u64,
    tls: u64,
    set_tid: u64,
    set_tid_size: u64,
    cgroup: u64,
}

/// Which side of a [`fork_with_flags`] the caller is on.
pub(crate) enum Forked {
    Parent { pid: i32, pidfd: OwnedFd },
    Child,
}

/// Creates a child process like fork(2), in the new namespaces that `flags` names, and returns a
/// pidfd for it in the parent. The caller must be single-threaded: the child is a copy of it.
pub(crate) fn fork_with_flags(namespace_flags: u64) -> Result<Forked, Errno> {
    fork_into_cgroup(namespace_flags, None)
}

/// [`fork_with_flags`], the child starting in the cgroup2 directory `cgroup` if given
/// (CLONE_INTO_CGROUP).
pub(crate) fn fork_into_cgroup(
    namespace_flags: u64,
    cgroup: Option<BorrowedFd<'_>>,
) -> Result<Forked, Errno> {
    let mut pidfd: libc::c_int = -1;
    let into_cgroup = match cgroup {
        Some(fd) => (CLONE_INTO_CGROUP, fd.as_raw_fd() as u64),
        None => (0, 0),
    };
    let args = CloneArgs {
        flags: namespace_flags | libc::CLONE_PIDFD as u64 | into_cgroup.0,
        pidfd: &mut pidfd as *mut libc::c_int as u64,
        exit_signal: libc::SIGCHLD as u64,
        cgroup: into_cgroup.1,
        ..Default::default()
    };
    // SAFETY: clone3 without CLONE_VM and without a stack behaves like fork(2): the child runs on
    // a copy of this address space. The caller guarantees this process has a single thread, so
    // no lock is held by a thread that would not exist in the child.
    let ret = unsafe {
        libc::syscall(
            libc::SYS_clone3,
            &args as *const CloneArgs,
            std::mem::size_of::<CloneArgs>(),
        )
    };
    match ret {
        -1 => Err(Errno::last()),
        0 => Ok(Forked::Child),
        pid => Ok(Forked::Parent {
            pid: pid as i32,
            // SAFETY: the kernel filled in a fresh pidfd because we passed CLONE_PIDFD.
            pidfd: unsafe { OwnedFd::from_raw_fd(pidfd) },
        }),
    }
}

/// pidfd_open(2): a file descriptor that refers to one process, immune to pid reuse.
pub(crate) fn pidfd_open(pid: i32) -> Result<OwnedFd, Errno> {
    // SAFETY: plain syscall with integer arguments; the returned fd is new and ours.
    let ret = unsafe { libc::syscall(libc::SYS_pidfd_open, pid, 0) };
    if ret < 0 {
        return Err(Errno::last());
    }
    // SAFETY: a non-negative return of pidfd_open is a new file descriptor.
    Ok(unsafe { OwnedFd::from_raw_fd(ret as RawFd) })
}

/// pidfd_send_signal(2).
pub(crate) fn pidfd_send_signal(pidfd: BorrowedFd<'_>, signal: i32) -> Result<(), Errno> {
    // SAFETY: plain syscall; a null siginfo means "as kill(2) would send it".
    let ret = unsafe {
        libc::syscall(
            libc::SYS_pidfd_send_signal,
            pidfd.as_raw_fd(),
            signal,
            std::ptr::null::<libc::siginfo_t>(),
            0,
        )
    };
    if ret < 0 { Err(Errno::last()) } else { Ok(()) }
}

/// Marks every descriptor from `first` upwards close-on-exec (close_range(2) with
/// CLOSE_RANGE_CLOEXEC), so that nothing of the host leaks through execve.
pub(crate) fn cloexec_from(first: u32) -> Result<(), Errno> {
    const CLOSE_RANGE_CLOEXEC: libc::c_uint = 1 << 2;
    // SAFETY: plain syscall with integer arguments; it only changes descriptor flags.
    let ret = unsafe { libc::syscall(libc::SYS_close_range, first, u32::MAX, CLOSE_RANGE_CLOEXEC) };
    if ret < 0 { Err(Errno::last()) } else { Ok(()) }
}

/// setns(2) on a namespace file or a pidfd.
pub(crate) fn setns(fd: BorrowedFd<'_>, nstype: libc::c_int) -> Result<(), Errno> {
    // SAFETY: plain syscall on a descriptor we borrow for its duration.
    let ret = unsafe { libc::setns(fd.as_raw_fd(), nstype) };
    if ret < 0 { Err(Errno::last()) } else { Ok(()) }
}

/// The start time of a process in clock ticks since boot (field 22 of /proc/PID/stat): with the
/// pid it names one process for good, since pids are reused but never at the same start time.
pub(crate) fn process_start_time(pid: i32) -> Option<u64> {
    let mut stat = String::new();
    File::open(format!("/proc/{pid}/stat"))
        .ok()?
        .read_to_string(&mut stat)
        .ok()?;
    parse_start_time(&stat)
}

fn parse_start_time(stat: &str) -> Option<u64> {
    // The command name (field 2) may hold spaces and parentheses: fields resume after the last ')'.
    let rest = &stat[stat.rfind(')')? + 1..];
    // After ')' come field 3 (state) onwards; start time is field 22.
    rest.split_whitespace().nth(22 - 3)?.parse().ok()
}

/// Whether the process state in /proc/PID/stat is a zombie (exited, not yet reaped).
pub(crate) fn is_zombie(pid: i32) -> bool {
    std::fs::read_to_string(format!("/proc/{pid}/stat"))
        .ok()
        .and_then(|stat| {
            let rest = stat[stat.rfind(')')? + 1..].to_owned();
            rest.split_whitespace().next().map(|s| s == "Z")
        })
        .unwrap_or(false)
}

/// Writes `bytes` to `path` so that readers see either the old file or the whole new one.
/// The runtime's files describe processes, which a power loss ends anyway; they are not
/// flushed to disk (they normally live on a tmpfs under /run).
pub(crate) fn write_atomic(path: &std::path::Path, bytes: &[u8]) -> std::io::Result<()> {
    use std::io::Write;
    let dir = path.parent().unwrap_or(std::path::Path::new("."));
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let tmp = dir.join(format!(".{name}.tmp{}", std::process::id()));
    let mut file = File::create(&tmp)?;
    file.write_all(bytes)?;
    drop(file);
    std::fs::rename(&tmp, path).inspect_err(|_| {
        let _ = std::fs::remove_file(&tmp);
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn start_time_survives_odd_command_names() {
        let stat =
            "1234 (a b) c)) S 1 1234 1234 0 -1 4194560 100 0 0 0 1 2 0 0 20 0 1 0 98765 1000 10";
        assert_eq!(parse_start_time(stat), Some(98765));
    }

    #[test]
    fn start_time_of_self_is_known() {
        assert!(process_start_time(std::process::id() as i32).is_some());
    }
}
