//! The loop a container's parent runs until the container ends: it forwards signals, relays a
//! terminal between the caller and the container (foreground), answers the control socket
//! (detached shim), relays managed stdio, and reaps the init.

use std::io::{Read, Write};
use std::os::fd::{AsFd, AsRawFd, OwnedFd};
use std::os::unix::net::UnixListener;
use std::time::Instant;

use nix::errno::Errno;
use nix::sys::signal::{SigSet, SigmaskHow, Signal, sigprocmask};
use nix::sys::signalfd::{SfdFlags, SignalFd};
use nix::sys::wait::{WaitPidFlag, WaitStatus, waitpid};
use nix::unistd::Pid;

use super::control::{self, Reply, Request};
use super::poller::{self, PollSet};
use super::stdio::{IoToken, ManagedStdio};
use crate::spawn::Child;
use crate::state::{STARTED_FILE, StateDir};
use crate::sys;
use crate::tty;

/// Signals that the parent catches and passes on to the container. Synchronous faults,
/// SIGKILL and SIGSTOP (uncatchable) and SIGCHLD (seen through the pidfd) are left alone.
pub(crate) fn forwarded_signals() -> SigSet {
    let mut set = SigSet::empty();
    for sig in Signal::iterator() {
        if !matches!(
            sig,
            Signal::SIGKILL
                | Signal::SIGSTOP
                | Signal::SIGSEGV
                | Signal::SIGBUS
                | Signal::SIGILL
                | Signal::SIGFPE
                | Signal::SIGTRAP
                | Signal::SIGABRT
                | Signal::SIGSYS
                | Signal::SIGCHLD
                | Signal::SIGPIPE
        ) {
            set.add(sig);
        }
    }
    set
}

/// Blocks the forwarded signals (before cloning, so none is lost) and opens a signalfd on them.
pub(crate) fn catch_signals() -> Result<SignalFd, Errno> {
    let set = forwarded_signals();
    sigprocmask(SigmaskHow::SIG_BLOCK, Some(&set), None)?;
    SignalFd::with_flags(&set, SfdFlags::SFD_CLOEXEC | SfdFlags::SFD_NONBLOCK)
}

/// A terminal relayed between this process's stdio and the container's pty.
pub(crate) struct Relay {
    pub master: OwnedFd,
    stdin_open: bool,
    master_open: bool,
    to_master: Vec<u8>,
    saved: Option<nix::sys::termios::Termios>,
}

impl Relay {
    pub fn new(master: OwnedFd) -> Relay {
        let stdin = std::io::stdin();
        let saved = tty::make_raw(stdin.as_fd());
        if let Some((rows, cols)) = tty::size_of(stdin.as_raw_fd()) {
            let _ = tty::resize(master.as_raw_fd(), rows, cols);
        }
        let _ = nix::fcntl::fcntl(
            &master,
            nix::fcntl::FcntlArg::F_SETFL(nix::fcntl::OFlag::O_NONBLOCK),
        );
        Relay {
            master,
            stdin_open: true,
            master_open: true,
            to_master: Vec::new(),
            saved,
        }
    }

    fn pump_stdin(&mut self) {
        let mut buf = [0u8; 8192];
        match std::io::stdin().lock().read(&mut buf) {
            Ok(0) | Err(_) => self.stdin_open = false,
            Ok(n) => self.to_master.extend_from_slice(&buf[..n]),
        }
        self.flush_to_master();
    }

    fn flush_to_master(&mut self) {
        while !self.to_master.is_empty() {
            match nix::unistd::write(&self.master, &self.to_master) {
                Ok(n) => {
                    self.to_master.drain(..n);
                }
                Err(Errno::EINTR) => continue,
                Err(Errno::EAGAIN) => return,
                Err(_) => {
                    self.to_master.clear();
                    return;
                }
            }
        }
    }

    /// Copies what the container wrote; false once the pty is closed on the container's side.
    fn pump_master(&mut self) -> bool {
        let mut buf = [0u8; 16384];
        loop {
            match nix::unistd::read(&self.master, &mut buf) {
                Ok(0) => {
                    self.master_open = false;
                    return false;
                }
                Ok(n) => {
                    let mut out = std::io::stdout().lock();
                    if out.write_all(&buf[..n]).and_then(|()| out.flush()).is_err() {
                        self.master_open = false;
                        return false;
                    }
                }
                Err(Errno::EINTR) => continue,
                Err(Errno::EAGAIN) => return true,
                Err(_) => {
                    // EIO: every slave descriptor is closed.
                    self.master_open = false;
                    return false;
                }
            }
        }
    }

    fn resize_from_stdin(&self) {
        if let Some((rows, cols)) = tty::size_of(std::io::stdin().as_raw_fd()) {
            let _ = tty::resize(self.master.as_raw_fd(), rows, cols);
        }
    }
}

impl Drop for Relay {
    fn drop(&mut self) {
        if let Some(saved) = &self.saved {
            tty::restore(std::io::stdin().as_fd(), saved);
        }
    }
}

/// The control socket of a detached shim, and what a start request needs.
pub(crate) struct Control {
    pub listener: UnixListener,
    pub state_dir: StateDir,
}

pub(crate) struct Supervisor<'a> {
    pub child: &'a Child,
    pub signals: SignalFd,
    pub relay: Option<Relay>,
    pub control: Option<Control>,
    /// The container's stdio, when the shim owns it.
    pub stdio: Option<ManagedStdio>,
    /// When the shim gives back the memory that making the container took: a while after
    /// the create if no start comes, a while after the start otherwise; never while the
    /// engine waits on the create's report or the start's answer.
    pub release_memory_at: Option<Instant>,
}

/// How the container ended, and why it never ran if it did not.
pub(crate) struct Outcome {
    pub status: WaitStatus,
    pub start_error: Option<String>,
}

/// What a descriptor in the supervisor's poll set is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Token {
    Child,
    Signals,
    RelayStdin,
    RelayMaster,
    Control,
    Io(IoToken),
}

impl Supervisor<'_> {
    /// Gives back the memory that making the container took once `release_memory_at` has
    /// come, even if the container keeps the loop busy.
    fn release_memory_when_due(&mut self) {
        if self
            .release_memory_at
            .is_some_and(|at| Instant::now() >= at)
        {
            self.release_memory_at = None;
            super::memory::release_unused_memory();
        }
    }

    /// Runs until the container's init ends. Managed stdio is left in `self.stdio` for the
    /// caller to drain after.
    pub fn run(&mut self) -> Outcome {
        let mut start_error = None;
        let mut set = PollSet::new();
        let mut ready = Vec::new();
        loop {
            self.register(&mut set);
            if set.wait(self.release_memory_at).is_err() {
                continue;
            }
            set.ready_into(&mut ready);
            self.release_memory_when_due();
            if ready.is_empty() {
                continue;
            }
            let mut child_ready = false;
            for &(token, revents) in &ready {
                let input = revents & (poller::IN | poller::HUP_OR_ERR) != 0;
                match token {
                    Token::Child => child_ready = true,
                    Token::Signals => self.forward_signals(),
                    Token::RelayStdin if input => {
                        if let Some(relay) = self.relay.as_mut() {
                            relay.pump_stdin();
                        }
                    }
                    Token::RelayMaster => {
                        if let Some(relay) = self.relay.as_mut() {
                            if revents & poller::OUT != 0 {
                                relay.flush_to_master();
                            }
                            if input {
                                relay.pump_master();
                            }
                        }
                    }
                    Token::Control => {
                        if let Some(err) = self.serve_control() {
                            start_error = Some(err);
                        }
                    }
                    Token::Io(t) => {
                        if let Some(stdio) = self.stdio.as_mut() {
                            stdio.handle(t, revents);
                        }
                    }
                    Token::RelayStdin => {}
                }
            }
            if !child_ready {
                continue;
            }
            match waitpid(
                Pid::from_raw(self.child.pid),
                Some(WaitPidFlag::WNOHANG | WaitPidFlag::__WALL),
            ) {
                Ok(WaitStatus::StillAlive) | Err(Errno::EINTR) => continue,
                Ok(status) => {
                    if let Some(relay) = self.relay.as_mut() {
                        while relay.master_open && relay.pump_master_drain() {}
                    }
                    return Outcome {
                        status,
                        start_error,
                    };
                }
                Err(_) => {
                    return Outcome {
                        status: WaitStatus::Exited(Pid::from_raw(self.child.pid), 255),
                        start_error,
                    };
                }
            }
        }
    }

    fn register(&self, set: &mut PollSet<Token>) {
        set.clear();
        set.add(self.child.pidfd.as_raw_fd(), poller::IN, Token::Child);
        set.add(self.signals.as_raw_fd(), poller::IN, Token::Signals);
        if let Some(relay) = &self.relay {
            if relay.stdin_open {
                set.add(std::io::stdin().as_raw_fd(), poller::IN, Token::RelayStdin);
            }
            if relay.master_open {
                let mut events = poller::IN;
                if !relay.to_master.is_empty() {
                    events |= poller::OUT;
                }
                set.add(relay.master.as_raw_fd(), events, Token::RelayMaster);
            }
        }
        if let Some(control) = &self.control {
            set.add(control.listener.as_raw_fd(), poller::IN, Token::Control);
        }
        if let Some(stdio) = &self.stdio {
            stdio.register(set, Token::Io);
        }
    }

    fn forward_signals(&mut self) {
        while let Ok(Some(info)) = self.signals.read_signal() {
            let signo = info.ssi_signo as i32;
            match Signal::try_from(signo) {
                Ok(Signal::SIGWINCH) => {
                    if let Some(relay) = &self.relay {
                        relay.resize_from_stdin();
                    }
                }
                Ok(Signal::SIGURG | Signal::SIGTTIN | Signal::SIGTTOU) => {}
                _ => {
                    let _ = sys::pidfd_send_signal(self.child.pidfd.as_fd(), signo);
                }
            }
        }
    }

    /// Serves one control connection; returns the start error if a start failed.
    fn serve_control(&mut self) -> Option<String> {
        let control = self.control.as_ref()?;
        let (stream, _) = control.listener.accept().ok()?;
        let mut start_error = None;
        let mut started = false;
        let reply = match control::read_request(&stream) {
            Ok(Request::Start) => {
                let _ = std::fs::write(control.state_dir.file(STARTED_FILE), b"");
                match self.child.start() {
                    Ok(()) => {
                        started = true;
                        Reply::default()
                    }
                    Err((message, _code)) => {
                        start_error = Some(message.clone());
                        Reply {
                            error: Some(message),
                        }
                    }
                }
            }
            Ok(Request::Resize { rows, cols }) => match &self.stdio {
                Some(stdio) => Reply {
                    error: stdio.resize(rows, cols).err(),
                },
                None => Reply {
                    error: Some(NOT_MANAGED.into()),
                },
            },
            Ok(Request::CloseStdin) => match self.stdio.as_mut() {
                Some(stdio) => {
                    stdio.close_stdin();
                    Reply::default()
                }
                None => Reply {
                    error: Some(NOT_MANAGED.into()),
                },
            },
            Err(e) => Reply {
                error: Some(format!("bad request: {e}")),
            },
        };
        let _ = control::write_reply(&stream, &reply);
        if started {
            // Making and starting the container ran code the supervising loop never runs
            // again. Not at once: the container's first moments (all of a `run --rm` of a
            // short command) and the engine's next steps need the CPU more; a container that
            // ends by then spares it altogether.
            self.release_memory_at = Some(Instant::now() + super::RELEASE_MEMORY_AFTER_START);
        }
        start_error
    }
}

/// Why resize and close-stdin fail on a container whose stdio the shim does not hold.
const NOT_MANAGED: &str = "the container's stdio is not managed by its shim (created without --log-path, --stdin or --managed-io)";

impl Relay {
    /// One non-blocking read after the container ended; false when nothing is left.
    fn pump_master_drain(&mut self) -> bool {
        let mut buf = [0u8; 16384];
        match nix::unistd::read(&self.master, &mut buf) {
            Ok(n) if n > 0 => {
                let mut out = std::io::stdout().lock();
                out.write_all(&buf[..n]).and_then(|()| out.flush()).is_ok()
            }
            _ => {
                self.master_open = false;
                false
            }
        }
    }
}
