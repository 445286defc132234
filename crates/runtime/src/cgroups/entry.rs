//! Putting a freshly cloned child into its container's cgroup without the kernel's global
//! threadgroup lock. Writing a pid to `cgroup.procs` takes that lock for writing, and the
//! first writer after a quiet spell waits out an RCU grace period: 7 to 16 ms on these
//! machines, most of a container's start. Two ways around it, both taken when they apply:
//! - cgroup2: clone3's CLONE_INTO_CGROUP starts the child in its cgroup (no migration);
//! - v1: the child writes "0" (itself, one thread) to each hierarchy's `tasks` file, a move the
//!   kernel makes without the global lock, since a single running thread cannot exit or exec
//!   under it. The child has one thread then, so its thread is its whole process.

use std::os::fd::{AsFd, BorrowedFd, OwnedFd};

use super::{Cgroup, CgroupError};

/// Descriptors opened before the clone, for the child to enter its cgroup by.
#[derive(Debug)]
pub(crate) struct CgroupEntry {
    /// The cgroup2 directory to clone into, if there is one (v2, or hybrid's `unified`).
    clone_into: Option<OwnedFd>,
    /// The v1 hierarchies' `tasks` files, opened for writing.
    tasks: Vec<OwnedFd>,
}

impl CgroupEntry {
    /// Opens what the child needs; the cgroup must exist.
    pub fn open(cgroup: &Cgroup) -> Result<CgroupEntry, CgroupError> {
        let clone_into = cgroup
            .paths
            .unified
            .as_ref()
            .map(|u| {
                rustix::fs::open(
                    &u.path,
                    rustix::fs::OFlags::PATH
                        | rustix::fs::OFlags::DIRECTORY
                        | rustix::fs::OFlags::CLOEXEC,
                    rustix::fs::Mode::empty(),
                )
                .map_err(|e| CgroupError::Read {
                    path: u.path.clone(),
                    source: e.into(),
                })
            })
            .transpose()?;
        let tasks = cgroup
            .paths
            .hierarchies
            .iter()
            .map(|h| {
                let path = h.path.join("tasks");
                std::fs::OpenOptions::new()
                    .write(true)
                    .open(&path)
                    .map(OwnedFd::from)
                    .map_err(|source| CgroupError::Write {
                        path,
                        value: "0".into(),
                        source,
                    })
            })
            .collect::<Result<Vec<_>, _>>()?;
        Ok(CgroupEntry { clone_into, tasks })
    }

    /// The cgroup2 directory for clone3's CLONE_INTO_CGROUP.
    pub fn clone_into(&self) -> Option<BorrowedFd<'_>> {
        self.clone_into.as_ref().map(|fd| fd.as_fd())
    }

    /// In the child, first thing: moves the calling thread into every v1 hierarchy's cgroup.
    /// Allocation-free.
    pub fn enter_v1(&self) -> Result<(), rustix::io::Errno> {
        for fd in &self.tasks {
            rustix::io::write(fd, b"0")?;
        }
        Ok(())
    }
}
