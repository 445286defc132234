//! Managed stdio: the shim owns the container's stdin, stdout and stderr (pipes, or the
//! terminal's master) and relays output to the json-file log and to attached clients, and
//! clients' input to stdin, without ever blocking on any of them.

mod clients;
mod setup;
mod stdin;

pub(crate) use clients::AttachToken;
pub(crate) use setup::{ShimEnds, make_pipes};

use std::os::fd::{AsRawFd, OwnedFd};
use std::os::unix::net::UnixListener;
use std::path::PathBuf;
use std::time::{Duration, Instant, SystemTime};

use nix::errno::Errno;

use super::memory::LazyBuffer;
use super::poller::{HUP_OR_ERR, IN, OUT, PollSet};
use crate::attach::{STDERR_FRAME, STDOUT_FRAME};
use crate::logfile::{LogWriter, Stream};
use clients::AttachServer;
use stdin::StdinSink;

/// One read of output at most; the buffer is the shim's largest.
const READ_BUFFER: usize = 64 * 1024;
/// After the container's process ended, how long its output may take to reach end-of-file
/// (children of a container without its own pid namespace may hold the pipes open).
const DRAIN_TIMEOUT: Duration = Duration::from_secs(2);
/// How long attached clients get to take the last of the output before they are cut off.
const FLUSH_TIMEOUT: Duration = Duration::from_secs(5);

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum IoToken {
    Output(usize),
    StdinWritable,
    Attach(AttachToken),
}

struct Output {
    fd: OwnedFd,
    stream: Stream,
    open: bool,
}

/// What the shim owns of a container with managed stdio.
pub(crate) struct ManagedStdio {
    outputs: Vec<Output>,
    terminal: bool,
    stdin: StdinSink,
    log: Option<LogWriter>,
    attach: AttachServer,
    buf: LazyBuffer,
}

/// What is made before the container is cloned.
pub(crate) struct Prepared {
    pub log: Option<LogWriter>,
    /// The shim's ends of the pipes; none for a container with a terminal.
    pub pipes: Option<ShimEnds>,
}

/// How the container's stdio was made.
pub(crate) enum Sources {
    Pipes(ShimEnds),
    Terminal(OwnedFd),
}

pub(crate) struct StdioOptions {
    pub log: Option<LogWriter>,
    pub listener: UnixListener,
    pub socket_path: PathBuf,
    pub stdin: bool,
    pub stdin_once: bool,
}

impl ManagedStdio {
    pub fn new(sources: Sources, options: StdioOptions) -> std::io::Result<ManagedStdio> {
        let (outputs, stdin, terminal) = match sources {
            Sources::Pipes(ends) => (
                vec![
                    Output {
                        fd: ends.stdout,
                        stream: Stream::Stdout,
                        open: true,
                    },
                    Output {
                        fd: ends.stderr,
                        stream: Stream::Stderr,
                        open: true,
                    },
                ],
                ends.stdin.map(StdinSink::pipe),
                false,
            ),
            Sources::Terminal(master) => {
                nix::fcntl::fcntl(
                    &master,
                    nix::fcntl::FcntlArg::F_SETFL(nix::fcntl::OFlag::O_NONBLOCK),
                )?;
                let stdin = if options.stdin {
                    Some(StdinSink::terminal(master.try_clone()?))
                } else {
                    None
                };
                (
                    vec![Output {
                        fd: master,
                        stream: Stream::Stdout,
                        open: true,
                    }],
                    stdin,
                    true,
                )
            }
        };
        Ok(ManagedStdio {
            outputs,
            terminal,
            stdin: stdin.unwrap_or_else(StdinSink::closed),
            log: options.log,
            attach: AttachServer::new(
                options.listener,
                options.socket_path,
                terminal,
                options.stdin_once,
            ),
            buf: LazyBuffer::new(READ_BUFFER)?,
        })
    }

    pub fn register<T: Copy>(&self, set: &mut PollSet<T>, wrap: impl Fn(IoToken) -> T) {
        for (i, output) in self.outputs.iter().enumerate() {
            if output.open {
                set.add(output.fd.as_raw_fd(), IN, wrap(IoToken::Output(i)));
            }
        }
        if let Some(fd) = self.stdin.wants_writable() {
            set.add(fd, OUT, wrap(IoToken::StdinWritable));
        }
        self.attach
            .register(set, &self.stdin, |t| wrap(IoToken::Attach(t)));
    }

    pub fn handle(&mut self, token: IoToken, revents: i16) {
        match token {
            IoToken::Output(i) => {
                if revents & (IN | HUP_OR_ERR) != 0 {
                    self.read_output(i);
                }
            }
            IoToken::StdinWritable => self.stdin.flush(),
            IoToken::Attach(t) => self
                .attach
                .handle(t, revents, &mut self.stdin, &mut self.buf),
        }
    }

    /// One read from an output: to the log and to the clients that want it.
    fn read_output(&mut self, i: usize) {
        let output = &mut self.outputs[i];
        let n = loop {
            match nix::unistd::read(&output.fd, &mut self.buf) {
                Err(Errno::EINTR) => continue,
                other => break other,
            }
        };
        let n = match n {
            Ok(0) => {
                output.open = false;
                return;
            }
            Ok(n) => n,
            Err(Errno::EAGAIN) => return,
            // EIO from a terminal whose every slave descriptor is closed.
            Err(_) => {
                output.open = false;
                return;
            }
        };
        let data = &self.buf[..n];
        if let Some(log) = &mut self.log {
            // A log that cannot be written (disk full) must not stop the container's output.
            let _ = log.write(output.stream, data, SystemTime::now());
        }
        let frame = match output.stream {
            Stream::Stdout => STDOUT_FRAME,
            Stream::Stderr => STDERR_FRAME,
        };
        self.attach.broadcast(frame, data, &mut self.stdin);
    }

    /// Sets the terminal's size; an error if the container has none.
    pub fn resize(&self, rows: u16, cols: u16) -> Result<(), String> {
        match self.outputs.first() {
            Some(output) if self.terminal => {
                crate::tty::resize(output.fd.as_raw_fd(), rows, cols).map_err(|e| e.to_string())
            }
            _ => Err("the container has no terminal".into()),
        }
    }

    pub fn close_stdin(&mut self) {
        self.stdin.close();
    }

    /// The container's process ended: reads its output to the end (or for a short while),
    /// logs it, lets attached clients take it, and closes them.
    pub fn finish(mut self) {
        self.attach.stop_accepting();
        let mut set = PollSet::new();
        let mut ready = Vec::new();
        let deadline = Instant::now() + DRAIN_TIMEOUT;
        while self.outputs.iter().any(|o| o.open) && Instant::now() < deadline {
            set.clear();
            for (i, output) in self.outputs.iter().enumerate() {
                if output.open {
                    set.add(output.fd.as_raw_fd(), IN, IoToken::Output(i));
                }
            }
            self.attach.register_flush(&mut set, IoToken::Attach);
            if set.wait(Some(deadline)).is_err() {
                break;
            }
            set.ready_into(&mut ready);
            for &(token, revents) in &ready {
                match token {
                    IoToken::Attach(t) => self.attach.flush_client(t, revents),
                    other => self.handle(other, revents),
                }
            }
        }
        if let Some(log) = &mut self.log {
            let _ = log.finish(SystemTime::now());
        }
        let deadline = Instant::now() + FLUSH_TIMEOUT;
        while self.attach.close_flushed() && Instant::now() < deadline {
            set.clear();
            self.attach.register_flush(&mut set, IoToken::Attach);
            if set.wait(Some(deadline)).is_err() {
                break;
            }
            set.ready_into(&mut ready);
            for &(token, revents) in &ready {
                if let IoToken::Attach(t) = token {
                    self.attach.flush_client(t, revents);
                }
            }
        }
        self.attach.close_all();
    }
}
