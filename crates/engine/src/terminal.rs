//! The receiving end of the console-socket protocol (runc's, which pier's runtime speaks): the
//! runtime sends the master of a new terminal as SCM_RIGHTS over a unix socket.

use std::io::IoSliceMut;
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd};
use std::os::unix::net::UnixStream;

use nix::sys::socket::{ControlMessageOwned, MsgFlags, recvmsg};

use crate::error::{EngineError, Result};

pub fn receive_fd(stream: &UnixStream) -> Result<OwnedFd> {
    let mut name = [0u8; 4096];
    let mut iov = [IoSliceMut::new(&mut name)];
    let mut space = nix::cmsg_space!([std::os::fd::RawFd; 1]);
    let message = recvmsg::<()>(
        stream.as_raw_fd(),
        &mut iov,
        Some(&mut space),
        MsgFlags::MSG_CMSG_CLOEXEC,
    )
    .map_err(|e| EngineError::Internal(format!("receiving the terminal: {e}")))?;
    let cmsgs = message
        .cmsgs()
        .map_err(|e| EngineError::Internal(format!("receiving the terminal: {e}")))?;
    for cmsg in cmsgs {
        if let ControlMessageOwned::ScmRights(fds) = cmsg
            && let Some(&fd) = fds.first()
        {
            // SAFETY: the kernel just installed this descriptor in our table for us alone.
            return Ok(unsafe { OwnedFd::from_raw_fd(fd) });
        }
    }
    Err(EngineError::Internal("the runtime sent no terminal".into()))
}
