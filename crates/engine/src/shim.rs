//! The work that must fork, done by exec'ing `pier runtime` (the daemon is multi-threaded and
//! never forks itself): creating a container (whose detached shim then parents it, owns its
//! stdio and log, and outlives the daemon) and running exec'd processes.

use std::path::Path;
use std::process::Stdio;

use tokio::process::Command;

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

/// `pier runtime create` of the bundle; returns once the container's init waits for start.
pub async fn create(config: &DaemonConfig, id: &str, bundle: &Path, io: &ShimIo<'_>) -> Result<()> {
    let mut command = Command::new(&config.pier_exe);
    command
        .arg("runtime")
        .arg("--root")
        .arg(config.runtime_root())
        .arg("create")
        .arg("--bundle")
        .arg(bundle)
        .arg("--log-path")
        .arg(io.log_path)
        .arg("--log-max-size")
        .arg(io.log_max_size.to_string())
        .arg("--log-max-files")
        .arg(io.log_max_files.to_string());
    if io.stdin {
        command.arg("--stdin");
    }
    if io.stdin_once {
        command.arg("--stdin-once");
    }
    command.arg(id);
    run_runtime(command).await
}

/// Runs a `pier runtime` command to its end; its error message becomes the error.
async fn run_runtime(mut command: Command) -> Result<()> {
    let output = command
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .kill_on_drop(false)
        .output()
        .await
        .map_err(|e| EngineError::io("running", "pier runtime", e))?;
    if output.status.success() {
        return Ok(());
    }
    let stderr = String::from_utf8_lossy(&output.stderr);
    let message = stderr
        .lines()
        .rev()
        .find_map(|l| l.strip_prefix("pier runtime: "))
        .unwrap_or(stderr.trim())
        .to_owned();
    Err(start_failure(&message))
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
