//! Making the container's stdio before the clone: pipes whose far ends the shim keeps, put
//! on the shim's own descriptors 0-2 for the cloned init to inherit.

use std::os::fd::{AsRawFd, OwnedFd};

use nix::fcntl::{FcntlArg, OFlag, fcntl};

use crate::error::{Error, Result};

/// The container's ends, to become its descriptors 0, 1 and 2.
pub(crate) struct ContainerEnds {
    fds: [OwnedFd; 3],
}

/// The shim's ends: where it writes the container's stdin and reads its output.
pub(crate) struct ShimEnds {
    pub stdin: Option<OwnedFd>,
    pub stdout: OwnedFd,
    pub stderr: OwnedFd,
}

fn pipe() -> Result<(OwnedFd, OwnedFd)> {
    nix::unistd::pipe2(OFlag::O_CLOEXEC).map_err(|e| Error::io("creating stdio pipe", e.into()))
}

fn nonblocking(fd: &OwnedFd) -> Result<()> {
    fcntl(fd, FcntlArg::F_SETFL(OFlag::O_NONBLOCK))
        .map(drop)
        .map_err(|e| Error::io("making stdio pipe non-blocking", e.into()))
}

fn dev_null() -> Result<OwnedFd> {
    std::fs::OpenOptions::new()
        .read(true)
        .write(true)
        .open("/dev/null")
        .map(OwnedFd::from)
        .map_err(|e| Error::path("opening", "/dev/null", e))
}

/// Pipes for stdout and stderr, and for stdin if it is kept open (else /dev/null). Only the
/// container's ends block; the shim never waits on its own.
pub(crate) fn make_pipes(keep_stdin: bool) -> Result<(ContainerEnds, ShimEnds)> {
    let (stdin_theirs, stdin_ours) = if keep_stdin {
        let (r, w) = pipe()?;
        nonblocking(&w)?;
        (r, Some(w))
    } else {
        (dev_null()?, None)
    };
    let (stdout_ours, stdout_theirs) = pipe()?;
    nonblocking(&stdout_ours)?;
    let (stderr_ours, stderr_theirs) = pipe()?;
    nonblocking(&stderr_ours)?;
    Ok((
        ContainerEnds {
            fds: [stdin_theirs, stdout_theirs, stderr_theirs],
        },
        ShimEnds {
            stdin: stdin_ours,
            stdout: stdout_ours,
            stderr: stderr_ours,
        },
    ))
}

impl ContainerEnds {
    /// Puts the container's ends on this process's 0, 1 and 2, where the clone inherits
    /// them. The caller's stdio must already be replaced (descriptors 0-2 open), so that no
    /// pipe was given one of those numbers.
    pub fn install(&self) -> Result<()> {
        if self.fds.iter().any(|fd| fd.as_raw_fd() <= 2) {
            return Err(Error::InvalidArgument(
                "the shim's descriptors 0-2 must be open before the container's stdio is made"
                    .into(),
            ));
        }
        for (target, fd) in self.fds.iter().enumerate() {
            // SAFETY: dup2 onto the standard descriptors, which this process owns; the copy
            // does not carry close-on-exec, so the container's program keeps it.
            if unsafe { libc::dup2(fd.as_raw_fd(), target as i32) } < 0 {
                return Err(Error::io(
                    "setting up the container's stdio",
                    std::io::Error::last_os_error(),
                ));
            }
        }
        Ok(())
    }
}
