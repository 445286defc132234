//! The work that must fork, done by exec'ing `pier runtime` (the daemon is multi-threaded and
//! never forks itself): creating a container (whose detached shim then parents it, owns its
//! stdio and log, and outlives the daemon) and running exec'd processes.

use std::path::Path;
use std::process::Stdio;
use std::sync::Mutex;

use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
use tokio::process::{Child, Command};

use crate::config::DaemonConfig;
use crate::error::{EngineError, ErrorKind, Result};

/// How the shim handles a container's stdio.
#[derive(Debug, Clone)]
pub struct ShimIo<'a> {
    pub log_path: &'a Path,
    pub log_max_size: u64,
    pub log_max_files: u32,
    /// Keep the container's stdin open for attachers (`-i`).
    pub stdin: bool,
    /// Close it when the first attacher with stdin detaches.
    pub stdin_once: bool,
}

/// A `pier runtime --await-args` started ahead of need: the next container's shim, waiting
/// for its arguments, so that exec'ing pier is off the start's path. One at most; it ends by
/// itself after a while without a start, and when the daemon goes (its stdin closes).
#[derive(Default)]
pub struct ReadyShim(Mutex<Option<Child>>);

impl ReadyShim {
    fn slot(&self) -> std::sync::MutexGuard<'_, Option<Child>> {
        self.0.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// The ready process, if it is still waiting.
    fn take(&self) -> Option<Child> {
        let mut child = self.slot().take()?;
        still_running(&mut child).then_some(child)
    }

    /// Starts one unless one is ready. Best effort: without it a start execs its own.
    pub fn refill(&self, config: &DaemonConfig) {
        let mut slot = self.slot();
        if !slot.as_mut().is_some_and(still_running) {
            *slot = spawn_awaiting(config).ok();
        }
    }

    /// Ends the ready process (when the daemon stops).
    pub async fn discard(&self) {
        let taken = self.slot().take();
        if let Some(mut child) = taken {
            let _ = child.kill().await;
        }
    }
}

/// Whether a process started ahead is still waiting (it ends by itself after a while).
fn still_running(child: &mut Child) -> bool {
    matches!(child.try_wait(), Ok(None))
}

fn spawn_awaiting(config: &DaemonConfig) -> std::io::Result<Child> {
    Command::new(&config.pier_exe)
        .arg("runtime")
        .arg("--await-args")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .kill_on_drop(false)
        .spawn()
}

/// `pier runtime create --as-shim` of the bundle, by the ready process or one started now:
/// it becomes the container's shim. Returns once the shim reports the container created (its
/// init waiting for start) or failed; the shim goes on running, and tokio reaps it when it
/// ends. Gives back the pid of the container's init.
pub async fn create(
    config: &DaemonConfig,
    ready: &ReadyShim,
    id: &str,
    bundle: &Path,
    io: &ShimIo<'_>,
) -> Result<i32> {
    let mut args: Vec<String> = vec![
        "--root".into(),
        utf8(&config.runtime_root())?,
        "create".into(),
        "--as-shim".into(),
        "--bundle".into(),
        utf8(bundle)?,
        "--log-path".into(),
        utf8(io.log_path)?,
        "--log-max-size".into(),
        io.log_max_size.to_string(),
        "--log-max-files".into(),
        io.log_max_files.to_string(),
    ];
    if io.stdin {
        args.push("--stdin".into());
    }
    if io.stdin_once {
        args.push("--stdin-once".into());
    }
    args.push(id.to_owned());
    let mut line = serde_json::to_string(&args)
        .map_err(|e| EngineError::Internal(format!("encoding the shim's arguments: {e}")))?;
    line.push('\n');
    let spawn_failed = |e| EngineError::io("running", "pier runtime", e);
    let mut child = match ready.take() {
        Some(child) => child,
        None => spawn_awaiting(config).map_err(spawn_failed)?,
    };
    if !send_args(&mut child, &line).await {
        // The ready one went between the look and the write: a new one, once.
        child = spawn_awaiting(config).map_err(spawn_failed)?;
        if !send_args(&mut child, &line).await {
            return Err(start_failure("pier runtime did not take its arguments"));
        }
    }
    let mut line = String::new();
    if let Some(stdout) = child.stdout.take() {
        BufReader::new(stdout)
            .read_line(&mut line)
            .await
            .map_err(|e| EngineError::io("reading the report of", "pier runtime", e))?;
    }
    if line.trim().is_empty() {
        // No report: the process failed before it could become a shim (its stderr says why).
        let output = child
            .wait_with_output()
            .await
            .map_err(|e| EngineError::io("running", "pier runtime", e))?;
        return Err(start_failure(&runtime_message(&output.stderr)));
    }
    runtime::decode_shim_report(&line).map_err(|e| start_failure(&e.to_string()))
}

/// A path as the arguments line (JSON) carries it.
fn utf8(path: &Path) -> Result<String> {
    path.to_str().map(str::to_owned).ok_or_else(|| {
        EngineError::InvalidArgument(format!("{} is not valid UTF-8", path.display()))
    })
}

/// Writes the arguments line and closes stdin; false if the process is gone.
async fn send_args(child: &mut Child, line: &str) -> bool {
    let Some(mut stdin) = child.stdin.take() else {
        return false;
    };
    stdin.write_all(line.as_bytes()).await.is_ok()
}

/// The last error line of `pier runtime`, without its prefix.
fn runtime_message(stderr: &[u8]) -> String {
    let stderr = String::from_utf8_lossy(stderr);
    stderr
        .lines()
        .rev()
        .find_map(|l| l.strip_prefix("pier runtime: "))
        .unwrap_or(stderr.trim())
        .to_owned()
}

/// Docker's wording for a container that could not start, with the status code Docker gives:
/// 400 when the command cannot be run (clients turn that into exit codes 126/127).
pub fn start_failure(message: &str) -> EngineError {
    let full = format!(
        "failed to create task for container: OCI runtime create failed: unable to start container process: {message}: unknown"
    );
    let user_error = [
        "executable file not found",
        "no such file or directory",
        "permission denied",
        "is a directory",
        "not a directory",
    ]
    .iter()
    .any(|m| message.contains(m));
    let kind = if user_error {
        ErrorKind::InvalidArgument
    } else {
        ErrorKind::Internal
    };
    EngineError::Runtime(full, kind)
}
