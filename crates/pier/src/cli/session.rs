//! A hijacked attach or exec stream tied to the local stdio: output to stdout/stderr
//! (demultiplexed unless there is a terminal), stdin to the container (typed detach keys
//! end the session), and signals to the container (`--sig-proxy`).

use std::io::Write;

use api::client::{Client, Hijacked, Query, escape_path};
use api::stdcopy::{Decoder, StreamType};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::sync::mpsc;

use super::detach::{DetachMatcher, Input};
use super::error::CliError;

/// How a session is wired.
#[derive(Debug, Clone)]
pub struct SessionOptions {
    /// The container (or exec) has a terminal: its output is one raw stream.
    pub tty: bool,
    /// Local stdin goes to the container.
    pub stdin: bool,
    /// Typing these ends the session, leaving the container running.
    pub detach_keys: Vec<u8>,
}

/// How a session ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SessionEnd {
    /// The container's output ended.
    Finished,
    /// The user typed the detach keys.
    Detached,
}

/// Relays until the output ends or the user detaches.
pub async fn run_session(conn: Hijacked, options: SessionOptions) -> Result<SessionEnd, CliError> {
    let (mut reader, mut writer) = tokio::io::split(conn);
    let input = async {
        if !options.stdin {
            return std::future::pending::<SessionEnd>().await;
        }
        let mut typed = read_stdin();
        let mut matcher = DetachMatcher::new(options.detach_keys.clone());
        while let Some(chunk) = typed.recv().await {
            match matcher.feed(&chunk) {
                Input::Detach => return SessionEnd::Detached,
                Input::Send(bytes) if bytes.is_empty() => {}
                Input::Send(bytes) => {
                    if writer.write_all(&bytes).await.is_err() {
                        // The container no longer reads; its output may still come.
                        return std::future::pending().await;
                    }
                }
            }
        }
        // End of input: close our half so the container sees it, and keep reading.
        let _ = writer.shutdown().await;
        std::future::pending().await
    };
    let output = async {
        let mut buffer = vec![0u8; 32 * 1024];
        let mut decoder = (!options.tty).then(Decoder::new);
        loop {
            let n = reader.read(&mut buffer).await.map_err(|e| {
                CliError::other(format!("error reading the container's output: {e}"))
            })?;
            if n == 0 {
                if let Some(decoder) = &decoder {
                    decoder.finish().map_err(api::client::Error::from)?;
                }
                return Ok(SessionEnd::Finished);
            }
            match &mut decoder {
                None => write_out(StreamType::Stdout, &buffer[..n])?,
                Some(decoder) => {
                    decoder.push(&buffer[..n]);
                    while let Some((stream, payload)) =
                        decoder.next_frame().map_err(api::client::Error::from)?
                    {
                        if stream == StreamType::SystemError {
                            let message = String::from_utf8_lossy(&payload).into_owned();
                            return Err(api::client::Error::InStream(message).into());
                        }
                        write_out(stream, &payload)?;
                    }
                }
            }
        }
    };
    tokio::select! {
        end = input => Ok(end),
        end = output => end,
    }
}

/// Writes container output to the local stdout or stderr, flushed at once (interactive
/// programs print prompts without newlines).
pub fn write_out(stream: StreamType, bytes: &[u8]) -> Result<(), CliError> {
    let result = match stream {
        StreamType::Stderr => {
            let mut err = std::io::stderr().lock();
            err.write_all(bytes).and_then(|()| err.flush())
        }
        _ => {
            let mut out = std::io::stdout().lock();
            out.write_all(bytes).and_then(|()| out.flush())
        }
    };
    result.map_err(|e| CliError::other(format!("error writing output: {e}")))
}

/// Local stdin, read on a thread of its own (a read of a terminal cannot be cancelled; the
/// thread ends with the process), one message per read so that typed keys stay apart.
fn read_stdin() -> mpsc::Receiver<Vec<u8>> {
    let (sender, receiver) = mpsc::channel(16);
    std::thread::spawn(move || {
        let stdin = std::io::stdin();
        let mut buffer = vec![0u8; 32 * 1024];
        loop {
            match rustix::io::read(&stdin, &mut buffer[..]) {
                Ok(0) => return,
                Ok(n) => {
                    if sender.blocking_send(buffer[..n].to_vec()).is_err() {
                        return;
                    }
                }
                Err(rustix::io::Errno::INTR) => continue,
                Err(_) => return,
            }
        }
    });
    receiver
}

/// The signals `docker run` forwards to the container when it has no terminal.
const PROXIED_SIGNALS: [(i32, &str); 6] = [
    (libc::SIGINT, "INT"),
    (libc::SIGTERM, "TERM"),
    (libc::SIGHUP, "HUP"),
    (libc::SIGQUIT, "QUIT"),
    (libc::SIGUSR1, "USR1"),
    (libc::SIGUSR2, "USR2"),
];

/// Forwards the signals pier receives to the container (`POST /containers/{id}/kill`),
/// until the task is aborted.
pub fn proxy_signals(client: Client, container: String) -> tokio::task::JoinHandle<()> {
    tokio::spawn(async move {
        use tokio::signal::unix::{SignalKind, signal};
        let (sender, mut receiver) = mpsc::channel::<&'static str>(8);
        for (number, name) in PROXIED_SIGNALS {
            let Ok(mut signals) = signal(SignalKind::from_raw(number)) else {
                continue;
            };
            let sender = sender.clone();
            tokio::spawn(async move {
                while signals.recv().await.is_some() {
                    if sender.send(name).await.is_err() {
                        return;
                    }
                }
            });
        }
        drop(sender);
        while let Some(name) = receiver.recv().await {
            let path = Query::new()
                .arg("signal", name)
                .build(&format!("/containers/{}/kill", escape_path(&container)));
            let _ = client.post(&path).await;
        }
    })
}

/// Resizes a container's or an exec's terminal; the first size is retried a few times,
/// since the process may not have its terminal yet right after start (as Docker does).
pub async fn resize(client: &Client, path_prefix: &str, height: u16, width: u16, first: bool) {
    let path = Query::new()
        .arg("h", height.to_string())
        .arg("w", width.to_string())
        .build(&format!("{path_prefix}/resize"));
    let attempts = if first { 10 } else { 1 };
    for attempt in 1..=attempts {
        if client.post(&path).await.is_ok() {
            return;
        }
        tokio::time::sleep(std::time::Duration::from_millis(10 * attempt)).await;
    }
}
