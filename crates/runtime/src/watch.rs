//! What a supervisor in another process (the daemon) needs to notice a container's end
//! without polling: a pidfd on the container's shim, which exits right after it has recorded
//! the exit status.

use std::os::fd::OwnedFd;

use crate::error::Result;
use crate::ops::Runtime;
use crate::state::StateDir;
use crate::sys;

impl Runtime {
    /// A pidfd on the shim of container `id` (readable once the shim has exited), or `None`
    /// when that shim is already gone. Does not fork; safe from a multi-threaded process.
    pub fn shim_pidfd(&self, id: &str) -> Result<Option<OwnedFd>> {
        let stored = StateDir::open(self.root(), id)?.stored()?;
        let Ok(fd) = sys::pidfd_open(stored.shim_pid) else {
            return Ok(None);
        };
        // The pidfd pins whichever process had the pid; the start time proves it is the shim.
        if sys::process_start_time(stored.shim_pid) != Some(stored.shim_start_time) {
            return Ok(None);
        }
        Ok(Some(fd))
    }
}
