//! `pier runtime --await-args`: a runtime process started ahead of need, which reads the rest
//! of its command line from stdin when it is needed. The engine keeps one such process ready
//! so that exec'ing pier (loading it and its libraries, ~1 ms) is off a container's start.
//! The line is a JSON array of the arguments that would follow `runtime`; stdin is then
//! /dev/null, as for a process started with those arguments.

use std::io::BufRead;
use std::os::fd::AsFd;
use std::time::Duration;

/// The flag, right after `runtime`.
pub const AWAIT_ARGS: &str = "--await-args";

/// How long a process waits for its arguments before it ends: one left ready after the last
/// start costs no memory for long.
const WAIT_LIMIT: Duration = Duration::from_secs(20);

/// What came on stdin.
pub enum Awaited {
    /// The arguments that follow `runtime`.
    Args(Vec<String>),
    /// Nothing (stdin ended or the wait ran out): nobody needs this process.
    Nothing,
    /// A line that is not a JSON array of strings.
    Malformed(String),
}

pub fn await_args() -> Awaited {
    let stdin = std::io::stdin();
    let mut ready = [rustix::event::PollFd::new(
        &stdin,
        rustix::event::PollFlags::IN,
    )];
    let timeout = rustix::event::Timespec {
        tv_sec: WAIT_LIMIT.as_secs() as i64,
        tv_nsec: 0,
    };
    match rustix::event::poll(&mut ready, Some(&timeout)) {
        Ok(n) if n > 0 => {}
        _ => return Awaited::Nothing,
    }
    let mut line = String::new();
    match stdin.lock().read_line(&mut line) {
        Ok(0) | Err(_) => return Awaited::Nothing,
        Ok(_) => {}
    }
    if let Ok(null) = std::fs::File::open("/dev/null") {
        let _ = nix::unistd::dup2_stdin(null.as_fd());
    }
    match serde_json::from_str::<Vec<String>>(&line) {
        Ok(args) => Awaited::Args(args),
        Err(e) => Awaited::Malformed(format!("the awaited arguments: {e}")),
    }
}
