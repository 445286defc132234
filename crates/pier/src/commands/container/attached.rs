//! Running a container with the local stdio attached (`run` without `-d`, `start -a`,
//! `attach`): Docker's order of calls, so that no output is lost and the exit status is
//! never missed: attach, then wait (its answer's head arrives at once, its body when the
//! container exits or is removed), then start, then relay until the output ends.

use api::client::{ByteStream, Client, Query, RequestBody, escape_path};
use api::types::ContainerWaitResponse;
use hyper::{HeaderMap, Method};
use tokio::task::JoinHandle;

use crate::cli::CliError;
use crate::cli::detach::parse_detach_keys;
use crate::cli::session::{self, SessionEnd, SessionOptions};
use crate::cli::terminal::{self, RawMode};

/// What to attach to, and how.
#[derive(Debug, Clone)]
pub struct Attach {
    pub id: String,
    pub tty: bool,
    pub stdin: bool,
    pub stdout: bool,
    pub stderr: bool,
    pub detach_keys: String,
    /// Forward pier's signals to the container (only without a terminal).
    pub sig_proxy: bool,
}

impl Attach {
    fn container_path(&self) -> String {
        format!("/containers/{}", escape_path(&self.id))
    }

    /// The hijacked attach stream.
    pub async fn connect(&self, client: &Client) -> Result<api::client::Hijacked, CliError> {
        let path = Query::new()
            .flag("stream", true)
            .flag("stdin", self.stdin)
            .flag("stdout", self.stdout)
            .flag("stderr", self.stderr)
            .arg("detachKeys", &self.detach_keys)
            .build(&format!("{}/attach", self.container_path()));
        Ok(client
            .hijack(Method::POST, &path, RequestBody::empty())
            .await?)
    }
}

/// The exit status of a container, once it is known.
pub type StatusWait = JoinHandle<Result<i64, CliError>>;

/// Sends `POST /containers/{id}/wait` and returns once the daemon has accepted it; the
/// status comes through the handle.
pub async fn wait_for_exit(
    client: &Client,
    id: &str,
    removed: bool,
) -> Result<StatusWait, CliError> {
    let condition = if removed { "removed" } else { "next-exit" };
    let path = Query::new()
        .arg("condition", condition)
        .build(&format!("/containers/{}/wait", escape_path(id)));
    let response = client
        .request(Method::POST, &path, RequestBody::empty(), HeaderMap::new())
        .await?;
    Ok(tokio::spawn(async move {
        let mut body = ByteStream::new(response.into_body());
        let mut bytes = Vec::new();
        while let Some(chunk) = body.next_chunk().await? {
            bytes.extend_from_slice(&chunk);
        }
        let answer: ContainerWaitResponse = serde_json::from_slice(&bytes)
            .map_err(|e| CliError::other(format!("error waiting for the container: {e}")))?;
        if let Some(error) = answer.error.filter(|e| !e.message.is_empty()) {
            return Err(CliError::other(error.message));
        }
        Ok(answer.status_code)
    }))
}

/// How an attached run ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    /// The container exited with this status.
    Exited(i64),
    /// The user detached; the container runs on.
    Detached,
}

/// The status `pier` exits with for a container's: Docker's CLI passes it to `os.Exit`,
/// which keeps the low byte.
pub fn exit_status(code: i64) -> u8 {
    (code & 0xff) as u8
}

/// Attaches, waits, starts (when `start` is set: `attach` leaves a running container as it
/// is), relays, and returns how it ended. `start` failures come back as they are, after
/// the attach was closed.
pub async fn run_attached(
    client: &Client,
    attach: &Attach,
    start: bool,
    auto_remove: bool,
) -> Result<Outcome, CliError> {
    let keys = parse_detach_keys(&attach.detach_keys).map_err(CliError::Other)?;
    let conn = attach.connect(client).await?;
    let status = wait_for_exit(client, &attach.id, auto_remove).await?;
    if start {
        let path = format!("{}/start", attach.container_path());
        if let Err(error) = client.post(&path).await {
            drop(conn);
            if auto_remove {
                let _ = status.await;
            } else {
                status.abort();
            }
            return Err(error.into());
        }
    }
    let raw =
        if attach.tty && attach.stdin && terminal::stdin_is_terminal() {
            Some(RawMode::enable().map_err(|e| {
                CliError::other(format!("failed to set the terminal to raw mode: {e}"))
            })?)
        } else {
            None
        };
    let resizer = (attach.tty && terminal::stdout_is_terminal()).then(|| {
        let client = client.clone();
        let prefix = attach.container_path();
        terminal::watch_size(move |height, width, first| {
            let client = client.clone();
            let prefix = prefix.clone();
            async move { session::resize(&client, &prefix, height, width, first).await }
        })
    });
    let proxy = (!attach.tty && attach.sig_proxy)
        .then(|| session::proxy_signals(client.clone(), attach.id.clone()));
    let options = SessionOptions {
        tty: attach.tty,
        stdin: attach.stdin,
        detach_keys: keys,
    };
    let ended = session::run_session(conn, options).await;
    drop(raw);
    if let Some(task) = resizer {
        task.abort();
    }
    let end = match ended {
        Ok(end) => end,
        Err(error) => {
            if let Some(task) = proxy {
                task.abort();
            }
            return Err(error);
        }
    };
    if end == SessionEnd::Detached {
        if let Some(task) = proxy {
            task.abort();
        }
        status.abort();
        return Ok(Outcome::Detached);
    }
    let code = status
        .await
        .map_err(|e| CliError::other(format!("error waiting for the container: {e}")))?;
    if let Some(task) = proxy {
        task.abort();
    }
    Ok(Outcome::Exited(code?))
}
