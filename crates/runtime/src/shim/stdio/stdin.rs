//! The container's stdin as the shim holds it: the write end of a pipe, or the terminal's
//! master; fed by attached clients, never blocking the shim.

use std::os::fd::{AsRawFd, OwnedFd, RawFd};

use nix::errno::Errno;

/// Input waiting for the container beyond this is not read from clients until it drains.
const PENDING_LIMIT: usize = 64 * 1024;
/// What a terminal's line discipline takes as end of input (VEOF, ^D).
const TERMINAL_EOF: u8 = 0x04;

enum Target {
    /// Closed, or never open (a container without `--stdin`).
    None,
    Pipe(OwnedFd),
    /// A duplicate of the terminal's master: closing stdin types ^D and drops it.
    Terminal(OwnedFd),
}

pub(crate) struct StdinSink {
    target: Target,
    pending: Vec<u8>,
    /// Close once what is pending is written.
    closing: bool,
}

impl StdinSink {
    pub fn closed() -> StdinSink {
        StdinSink {
            target: Target::None,
            pending: Vec::new(),
            closing: false,
        }
    }

    pub fn pipe(fd: OwnedFd) -> StdinSink {
        StdinSink {
            target: Target::Pipe(fd),
            ..StdinSink::closed()
        }
    }

    pub fn terminal(master: OwnedFd) -> StdinSink {
        StdinSink {
            target: Target::Terminal(master),
            ..StdinSink::closed()
        }
    }

    /// Whether input is still taken at all (it is dropped otherwise).
    pub fn is_open(&self) -> bool {
        !matches!(self.target, Target::None) && !self.closing
    }

    /// Whether a client's input should be read now: open and not backed up.
    pub fn has_room(&self) -> bool {
        self.is_open() && self.pending.len() < PENDING_LIMIT
    }

    fn fd(&self) -> Option<RawFd> {
        match &self.target {
            Target::None => None,
            Target::Pipe(fd) | Target::Terminal(fd) => Some(fd.as_raw_fd()),
        }
    }

    /// The descriptor to wait on for writability, while input waits.
    pub fn wants_writable(&self) -> Option<RawFd> {
        if self.pending.is_empty() {
            None
        } else {
            self.fd()
        }
    }

    /// Queues `data` for the container and writes what it takes now.
    pub fn push(&mut self, data: &[u8]) {
        if !self.is_open() {
            return;
        }
        self.pending.extend_from_slice(data);
        self.flush();
    }

    /// Writes pending input without blocking; finishes a requested close once it is all out.
    pub fn flush(&mut self) {
        let Some(fd) = self.fd() else {
            self.pending.clear();
            return;
        };
        let mut written = 0;
        while written < self.pending.len() {
            // SAFETY: writing from a live buffer to a descriptor we own.
            let n = unsafe {
                libc::write(
                    fd,
                    self.pending[written..].as_ptr().cast(),
                    self.pending.len() - written,
                )
            };
            if n >= 0 {
                written += n as usize;
                continue;
            }
            match Errno::last() {
                Errno::EINTR => continue,
                Errno::EAGAIN => break,
                // The container closed its stdin (EPIPE) or the terminal is gone.
                _ => {
                    self.target = Target::None;
                    self.pending = Vec::new();
                    return;
                }
            }
        }
        self.pending.drain(..written);
        if self.pending.is_empty() {
            if self.pending.capacity() > PENDING_LIMIT {
                self.pending = Vec::new();
            }
            if self.closing {
                self.finish_close();
            }
        }
    }

    /// Closes the container's stdin once pending input is written: end-of-file on a pipe,
    /// ^D on a terminal.
    pub fn close(&mut self) {
        if matches!(self.target, Target::None) {
            return;
        }
        self.closing = true;
        if self.pending.is_empty() {
            self.finish_close();
        }
    }

    fn finish_close(&mut self) {
        if let Target::Terminal(master) = &self.target {
            let _ = nix::unistd::write(master, &[TERMINAL_EOF]);
        }
        self.target = Target::None;
        self.closing = false;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn nonblocking_pipe() -> (OwnedFd, OwnedFd) {
        let (r, w) = nix::unistd::pipe2(nix::fcntl::OFlag::O_CLOEXEC).unwrap();
        nix::fcntl::fcntl(
            &w,
            nix::fcntl::FcntlArg::F_SETFL(nix::fcntl::OFlag::O_NONBLOCK),
        )
        .unwrap();
        (r, w)
    }

    #[test]
    fn input_backs_up_without_blocking_and_close_waits_for_it() {
        let (r, w) = nonblocking_pipe();
        let mut sink = StdinSink::pipe(w);
        let big = vec![b'x'; 200 * 1024];
        sink.push(&big);
        // The pipe took what it could; the rest waits and no more is read from clients.
        assert!(sink.wants_writable().is_some());
        assert!(!sink.has_room());
        sink.close();
        assert!(!sink.is_open());
        let mut got = 0;
        let mut buf = vec![0u8; 65536];
        loop {
            let n = nix::unistd::read(&r, &mut buf).unwrap();
            if n == 0 {
                break;
            }
            got += n;
            sink.flush();
        }
        assert_eq!(got, big.len());
    }

    #[test]
    fn a_closed_reader_closes_the_sink() {
        let (r, w) = nonblocking_pipe();
        let mut sink = StdinSink::pipe(w);
        drop(r);
        sink.push(b"anyone?");
        assert!(!sink.is_open());
        assert!(sink.wants_writable().is_none());
    }
}
