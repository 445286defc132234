//! Operations on a container's managed stdio: where to attach, the terminal's size, and
//! closing stdin. None of them forks; all are safe from a multi-threaded process.

use std::path::PathBuf;

use crate::error::{Error, Result};
use crate::ops::Runtime;
use crate::shim::{self, Request};
use crate::state::{self, ATTACH_SOCKET, SHIM_SOCKET, StateDir, Status};

impl Runtime {
    /// The attach socket of a container created with managed stdio (see [`crate::attach`]).
    /// It exists from creation until the container's process ends. An invalid id gives a
    /// path under the root that never exists.
    /// Does not fork; safe from a multi-threaded process.
    pub fn attach_socket(&self, id: &str) -> PathBuf {
        match state::check_id(id) {
            Ok(()) => self.root().join(id).join(ATTACH_SOCKET),
            Err(_) => self.root().join(".invalid-id").join(ATTACH_SOCKET),
        }
    }

    /// Sets the size of a container's terminal (TIOCSWINSZ on the master the shim keeps).
    /// Does not fork; safe from a multi-threaded process.
    pub fn resize(&self, id: &str, rows: u16, cols: u16) -> Result<()> {
        self.ask_shim(id, &Request::Resize { rows, cols })
    }

    /// Closes a container's stdin (end-of-file; ^D on a terminal) once what attached clients
    /// sent is written. Nothing happens if it is already closed.
    /// Does not fork; safe from a multi-threaded process.
    pub fn close_stdin(&self, id: &str) -> Result<()> {
        self.ask_shim(id, &Request::CloseStdin)
    }

    fn ask_shim(&self, id: &str, request: &Request) -> Result<()> {
        let dir = StateDir::open(self.root(), id)?;
        let stored = dir.stored()?;
        if crate::ops::status_of(&dir, &stored) == Status::Stopped {
            return Err(Error::WrongState(format!("container {id} is not running")));
        }
        match shim::call(&dir.file(SHIM_SOCKET), request)?.error {
            None => Ok(()),
            Some(message) => Err(Error::WrongState(message)),
        }
    }
}
