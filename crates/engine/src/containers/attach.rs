//! Attaching to a container's stdio. The container's shim owns its stdio and serves attach
//! connections on a socket in its state directory (see the runtime's shim for the protocol:
//! one JSON line of what is wanted, one line of reply, then Docker's multiplexed frames out
//! and raw stdin in). A container that has not started yet has no shim: its attachers wait
//! here, and start connects them to the new shim before the process runs, so that no output
//! is missed.

use std::sync::Arc;
use std::time::Duration;

use serde::Serialize;
use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
use tokio::net::UnixStream;
use tokio::sync::oneshot;

use crate::Engine;
use crate::error::{EngineError, Result};

use super::Handle;

#[derive(Debug, Clone, Copy, Serialize)]
pub struct AttachOptions {
    pub stdin: bool,
    pub stdout: bool,
    pub stderr: bool,
}

/// A connection to the shim, handshake done: frames come out of it, stdin goes in.
pub type ShimStream = BufReader<UnixStream>;

/// One waiting attacher: told to connect when the shim exists, and acknowledging once it
/// has (or given up).
pub(crate) struct Waiter {
    connect: oneshot::Sender<oneshot::Sender<()>>,
}

/// How long start waits for its attachers to connect to the new shim.
const ATTACH_GRACE: Duration = Duration::from_secs(5);

impl Engine {
    /// Registers an attacher now and gives back what connects it: at once if the container
    /// runs, else at its next start.
    pub fn attach_container(
        self: &Arc<Self>,
        reference: &str,
        options: AttachOptions,
    ) -> Result<(
        bool,
        impl std::future::Future<Output = Result<ShimStream>> + Send + 'static,
    )> {
        let handle = self.containers.get(reference)?;
        let (tty, alive, id) = {
            let record = handle.record();
            (
                record.tty(),
                record.state.status.is_alive(),
                record.id.clone(),
            )
        };
        let waiting = if alive {
            None
        } else {
            let (connect, connect_now) = oneshot::channel();
            handle
                .attach_waiters
                .lock()
                .unwrap_or_else(|p| p.into_inner())
                .push(Waiter { connect });
            Some(connect_now)
        };
        let socket = self.runtime.attach_socket(&id);
        Ok((tty, async move {
            match waiting {
                None => connect(&socket, options).await,
                Some(connect_now) => {
                    let ack = connect_now.await.map_err(|_| {
                        EngineError::Conflict(format!("container {id} was removed"))
                    })?;
                    let stream = connect(&socket, options).await;
                    let _ = ack.send(());
                    stream
                }
            }
        }))
    }

    /// Called by start between creating the shim and starting the process.
    pub(crate) async fn connect_waiting_attachers(&self, handle: &Handle) {
        let waiters: Vec<Waiter> = std::mem::take(
            &mut *handle
                .attach_waiters
                .lock()
                .unwrap_or_else(|p| p.into_inner()),
        );
        let mut acks = Vec::new();
        for waiter in waiters {
            let (ack, acked) = oneshot::channel();
            if waiter.connect.send(ack).is_ok() {
                acks.push(acked);
            }
        }
        for acked in acks {
            let _ = tokio::time::timeout(ATTACH_GRACE, acked).await;
        }
    }
}

async fn connect(socket: &std::path::Path, options: AttachOptions) -> Result<ShimStream> {
    let stream = runtime::sockpath::connect(socket)
        .and_then(|s| {
            s.set_nonblocking(true)?;
            UnixStream::from_std(s)
        })
        .map_err(|e| EngineError::io("connecting to", socket, e))?;
    let mut stream = BufReader::new(stream);
    let mut line =
        serde_json::to_vec(&options).map_err(|e| EngineError::Internal(e.to_string()))?;
    line.push(b'\n');
    stream
        .get_mut()
        .write_all(&line)
        .await
        .map_err(|e| EngineError::io("writing to", socket, e))?;
    let mut reply = String::new();
    stream
        .read_line(&mut reply)
        .await
        .map_err(|e| EngineError::io("reading from", socket, e))?;
    let reply: serde_json::Value = serde_json::from_str(&reply)
        .map_err(|_| EngineError::Internal("the shim refused the attach".into()))?;
    if let Some(error) = reply.get("error").and_then(|e| e.as_str()) {
        return Err(EngineError::Conflict(error.to_owned()));
    }
    Ok(stream)
}
