//! The work that must fork, done by exec'ing `pier runtime` (the daemon is multi-threaded and
//! never forks itself): creating a container (whose detached shim then parents it, owns its
//! stdio and log, and outlives the daemon) and running exec'd processes.

use std::path::Path;
use std::process::Stdio;

use tokio::io::{AsyncBufReadExt, BufReader};
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

/// `pier runtime create --as-shim` of the bundle: the process it starts becomes the
/// container's shim. Returns once the shim reports the container created (its init waiting
/// for start) or failed; the shim goes on running, and tokio reaps it when it ends. Gives
/// back the pid of the container's init.
pub async fn create(
    config: &DaemonConfig,
    id: &str,
    bundle: &Path,
    io: &ShimIo<'_>,
) -> Result<i32> {
    let mut command = Command::new(&config.pier_exe);
    command
        .arg("runtime")
        .arg("--root")
        .arg(config.runtime_root())
        .arg("create")
        .arg("--as-shim")
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
    let mut child = command
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .kill_on_drop(false)
        .spawn()
        .map_err(|e| EngineError::io("running", "pier runtime", e))?;
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
