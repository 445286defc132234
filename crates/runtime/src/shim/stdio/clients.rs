//! The shim's side of the attach socket: accepting clients, their request line, output
//! frames to each (bounded per client), and their input to the container's stdin. See
//! [`crate::attach`] for the protocol.

use std::io::IoSlice;
use std::os::fd::AsRawFd;
use std::os::unix::net::{UnixListener, UnixStream};
use std::path::PathBuf;

use nix::errno::Errno;
use nix::sys::socket::{MsgFlags, sendmsg};

use super::stdin::StdinSink;
use crate::attach::{AttachReply, AttachRequest, STDOUT_FRAME, frame_header};
use crate::shim::poller::{HUP_OR_ERR, IN, OUT, PollSet};

/// Output waiting for one client beyond this disconnects it: it fell behind.
const CLIENT_BACKLOG_LIMIT: usize = 1024 * 1024;
/// A request line longer than this is refused.
const REQUEST_LIMIT: usize = 4096;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum AttachToken {
    Listener,
    Client(u64),
}

/// Bytes on their way to a client, sent from `start`.
#[derive(Default)]
struct Backlog {
    data: Vec<u8>,
    start: usize,
}

impl Backlog {
    fn len(&self) -> usize {
        self.data.len() - self.start
    }

    fn is_empty(&self) -> bool {
        self.len() == 0
    }

    fn push(&mut self, parts: &[&[u8]]) {
        if self.start > 0 && self.start * 2 >= self.data.len() {
            self.data.drain(..self.start);
            self.start = 0;
        }
        for part in parts {
            self.data.extend_from_slice(part);
        }
    }

    fn consume(&mut self, n: usize) {
        self.start += n;
        if self.is_empty() {
            self.start = 0;
            self.data.clear();
            // A burst grew it; an idle client should not keep the memory.
            if self.data.capacity() > 64 * 1024 {
                self.data = Vec::new();
            }
        }
    }

    fn clear(&mut self) {
        self.data = Vec::new();
        self.start = 0;
    }
}

struct Client {
    id: u64,
    stream: UnixStream,
    /// None until its request line arrived.
    request: Option<AttachRequest>,
    line: Vec<u8>,
    backlog: Backlog,
    input_open: bool,
    /// Its input's end has been acted on.
    input_released: bool,
    output_open: bool,
}

/// Sends as much of `parts` as the socket takes now; how much that was.
fn send_now(stream: &UnixStream, parts: &[&[u8]]) -> Result<usize, Errno> {
    let iov: Vec<IoSlice<'_>> = parts.iter().map(|p| IoSlice::new(p)).collect();
    loop {
        match sendmsg::<()>(
            stream.as_raw_fd(),
            &iov,
            &[],
            MsgFlags::MSG_NOSIGNAL | MsgFlags::MSG_DONTWAIT,
            None,
        ) {
            Err(Errno::EINTR) => continue,
            Err(Errno::EAGAIN) => return Ok(0),
            other => return other,
        }
    }
}

impl Client {
    fn wants(&self, frame: u8, terminal: bool) -> bool {
        match self.request {
            Some(r) if self.output_open => {
                if frame == STDOUT_FRAME || terminal {
                    r.stdout
                } else {
                    r.stderr
                }
            }
            _ => false,
        }
    }

    fn uses_stdin(&self) -> bool {
        self.request.is_some_and(|r| r.stdin)
    }

    /// Queues `parts` behind what already waits and sends what the socket takes.
    fn send(&mut self, parts: &[&[u8]]) {
        if !self.output_open {
            return;
        }
        let mut skip = 0;
        if self.backlog.is_empty() {
            match send_now(&self.stream, parts) {
                Ok(n) => skip = n,
                Err(_) => return self.lose_output(),
            }
        }
        // Queue what was not sent, skipping the first `skip` bytes across the parts.
        let mut rest: Vec<&[u8]> = Vec::with_capacity(parts.len());
        for part in parts {
            if skip >= part.len() {
                skip -= part.len();
            } else {
                rest.push(&part[skip..]);
                skip = 0;
            }
        }
        if !rest.is_empty() {
            self.backlog.push(&rest);
        }
        if self.backlog.len() > CLIENT_BACKLOG_LIMIT {
            // It fell behind: disconnect rather than hold the container's output.
            self.lose_output();
            self.input_open = false;
        }
    }

    fn flush(&mut self) {
        while !self.backlog.is_empty() {
            let pending = &self.backlog.data[self.backlog.start..];
            match send_now(&self.stream, &[pending]) {
                Ok(0) => return,
                Ok(n) => self.backlog.consume(n),
                Err(_) => return self.lose_output(),
            }
        }
    }

    fn lose_output(&mut self) {
        self.output_open = false;
        self.backlog.clear();
    }

    fn reply(&mut self, reply: &AttachReply) {
        let mut line = serde_json::to_vec(reply).unwrap_or_else(|_| b"{}".to_vec());
        line.push(b'\n');
        self.send(&[&line]);
    }

    /// Takes bytes read from the client: its request line first, then stdin.
    fn take_input(&mut self, mut data: &[u8], stdin: &mut StdinSink) {
        if self.request.is_none() {
            let Some(q) = data.iter().position(|&b| b == b'\n') else {
                self.line.extend_from_slice(data);
                if self.line.len() > REQUEST_LIMIT {
                    self.refuse("attach request too long");
                }
                return;
            };
            self.line.extend_from_slice(&data[..q]);
            data = &data[q + 1..];
            match serde_json::from_slice::<AttachRequest>(&self.line) {
                Ok(request) => {
                    self.request = Some(request);
                    self.line = Vec::new();
                    self.reply(&AttachReply {
                        ok: true,
                        error: None,
                    });
                }
                Err(e) => return self.refuse(&format!("invalid attach request: {e}")),
            }
        }
        if self.uses_stdin() && !data.is_empty() {
            stdin.push(data);
        }
    }

    fn refuse(&mut self, message: &str) {
        self.reply(&AttachReply {
            ok: false,
            error: Some(message.to_owned()),
        });
        self.output_open = false;
        self.input_open = false;
    }
}

pub(crate) struct AttachServer {
    listener: Option<UnixListener>,
    path: PathBuf,
    clients: Vec<Client>,
    next_id: u64,
    terminal: bool,
    stdin_once: bool,
}

impl AttachServer {
    pub fn new(
        listener: UnixListener,
        path: PathBuf,
        terminal: bool,
        stdin_once: bool,
    ) -> AttachServer {
        let _ = listener.set_nonblocking(true);
        AttachServer {
            listener: Some(listener),
            path,
            clients: Vec::new(),
            next_id: 0,
            terminal,
            stdin_once,
        }
    }

    pub fn register<T: Copy>(
        &self,
        set: &mut PollSet<T>,
        stdin: &StdinSink,
        wrap: impl Fn(AttachToken) -> T,
    ) {
        if let Some(listener) = &self.listener {
            set.add(listener.as_raw_fd(), IN, wrap(AttachToken::Listener));
        }
        for c in &self.clients {
            let mut events = 0;
            if c.input_open && Self::may_read(c, stdin) {
                events |= IN;
            }
            if c.output_open && !c.backlog.is_empty() {
                events |= OUT;
            }
            // With nothing to ask, a client is still watched for hang-up while its output is
            // open; a hung-up one with input waiting for room is left out (poll would spin).
            if events != 0 || c.output_open {
                set.add(
                    c.stream.as_raw_fd(),
                    events,
                    wrap(AttachToken::Client(c.id)),
                );
            }
        }
    }

    /// Whether to read from a client now: input that goes nowhere is read (and dropped) at
    /// once; input for the container waits while its stdin is backed up.
    fn may_read(c: &Client, stdin: &StdinSink) -> bool {
        c.request.is_none() || !c.uses_stdin() || !stdin.is_open() || stdin.has_room()
    }

    pub fn handle(
        &mut self,
        token: AttachToken,
        revents: i16,
        stdin: &mut StdinSink,
        scratch: &mut [u8],
    ) {
        match token {
            AttachToken::Listener => self.accept(),
            AttachToken::Client(id) => {
                let Some(i) = self.clients.iter().position(|c| c.id == id) else {
                    return;
                };
                let c = &mut self.clients[i];
                if revents & OUT != 0 {
                    c.flush();
                }
                if revents & (IN | HUP_OR_ERR) != 0 && c.input_open && Self::may_read(c, stdin) {
                    Self::read_from(c, stdin, scratch);
                }
                if revents & HUP_OR_ERR != 0 {
                    // The peer is gone entirely: nothing more can reach it.
                    c.lose_output();
                }
                self.reap(stdin);
            }
        }
    }

    fn accept(&mut self) {
        let Some(listener) = &self.listener else {
            return;
        };
        while let Ok((stream, _)) = listener.accept() {
            if stream.set_nonblocking(true).is_err() {
                continue;
            }
            self.next_id += 1;
            self.clients.push(Client {
                id: self.next_id,
                stream,
                request: None,
                line: Vec::new(),
                backlog: Backlog::default(),
                input_open: true,
                input_released: false,
                output_open: true,
            });
        }
    }

    fn read_from(c: &mut Client, stdin: &mut StdinSink, scratch: &mut [u8]) {
        // SAFETY: reading into a live buffer from a socket we own.
        let n = unsafe {
            libc::recv(
                c.stream.as_raw_fd(),
                scratch.as_mut_ptr().cast(),
                scratch.len(),
                libc::MSG_DONTWAIT,
            )
        };
        match n {
            0 => c.input_open = false,
            n if n > 0 => c.take_input(&scratch[..n as usize], stdin),
            _ => match Errno::last() {
                Errno::EAGAIN | Errno::EINTR => {}
                _ => {
                    c.input_open = false;
                    c.lose_output();
                }
            },
        }
    }

    /// Drops clients that are done both ways. A client with stdin whose input ends (it
    /// detached, or was disconnected) closes the container's stdin under `--stdin-once`.
    fn reap(&mut self, stdin: &mut StdinSink) {
        let stdin_once = self.stdin_once;
        for c in &mut self.clients {
            if !c.input_open && !c.input_released {
                c.input_released = true;
                if c.uses_stdin() && stdin_once {
                    stdin.close();
                }
            }
        }
        // A client that shut down only its write side keeps getting output.
        self.clients.retain(|c| c.input_open || c.output_open);
    }

    /// Sends output to every client that asked for this stream.
    pub fn broadcast(&mut self, frame: u8, data: &[u8], stdin: &mut StdinSink) {
        if self.clients.is_empty() {
            return;
        }
        let header = frame_header(frame, data.len() as u32);
        let terminal = self.terminal;
        for c in &mut self.clients {
            if c.wants(frame, terminal) {
                c.send(&[&header, data]);
            }
        }
        self.reap(stdin);
    }

    /// The container ended: no new clients, and none still sending its request.
    pub fn stop_accepting(&mut self) {
        if self.listener.take().is_some() {
            let _ = std::fs::remove_file(&self.path);
        }
        self.clients.retain(|c| c.request.is_some());
    }

    /// Closes clients that have everything; true if some still wait for output.
    pub fn close_flushed(&mut self) -> bool {
        self.clients
            .retain(|c| c.output_open && !c.backlog.is_empty());
        !self.clients.is_empty()
    }

    /// Registers only what flushing needs: clients with output waiting.
    pub fn register_flush<T: Copy>(&self, set: &mut PollSet<T>, wrap: impl Fn(AttachToken) -> T) {
        for c in &self.clients {
            if c.output_open && !c.backlog.is_empty() {
                set.add(c.stream.as_raw_fd(), OUT, wrap(AttachToken::Client(c.id)));
            }
        }
    }

    pub fn flush_client(&mut self, token: AttachToken, revents: i16) {
        if let AttachToken::Client(id) = token
            && let Some(c) = self.clients.iter_mut().find(|c| c.id == id)
        {
            if revents & OUT != 0 {
                c.flush();
            }
            if revents & HUP_OR_ERR != 0 {
                c.lose_output();
            }
        }
    }

    pub fn close_all(&mut self) {
        self.clients.clear();
    }
}

impl Drop for AttachServer {
    fn drop(&mut self) {
        self.stop_accepting();
    }
}
