//! Start, stop, kill, restart, pause, unpause and wait.

use std::sync::Arc;
use std::time::Duration;

use crate::Engine;
use crate::error::{EngineError, Result};
use crate::events::Event;
use crate::shim::{self, ShimIo};

use super::model::Status;
use super::{Handle, Progress};

/// Default log rotation: never more than 5 × 20 MB of log per container (Docker's json-file
/// default is unbounded, its most common complaint).
pub const LOG_MAX_SIZE: u64 = 20 * 1000 * 1000;
pub const LOG_MAX_FILES: u32 = 5;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum WaitCondition {
    NotRunning,
    NextExit,
    Removed,
}

impl WaitCondition {
    pub fn parse(text: &str) -> Result<WaitCondition> {
        match text {
            "" | "not-running" => Ok(WaitCondition::NotRunning),
            "next-exit" => Ok(WaitCondition::NextExit),
            "removed" => Ok(WaitCondition::Removed),
            other => Err(EngineError::InvalidArgument(format!(
                "invalid condition: \"{other}\""
            ))),
        }
    }
}

fn not_running(id: &str) -> EngineError {
    EngineError::Conflict(format!("Container {id} is not running"))
}

impl Engine {
    pub async fn start_container(self: &Arc<Self>, reference: &str) -> Result<()> {
        let handle = self.containers.get(reference)?;
        let _op = handle.ops.lock().await;
        let container = handle.snapshot();
        match container.state.status {
            Status::Running | Status::Restarting => {
                return Err(EngineError::NotModified("container already started".into()));
            }
            Status::Paused => {
                return Err(EngineError::Conflict(
                    "cannot start a paused container, try unpause instead".into(),
                ));
            }
            Status::Removing | Status::Dead => {
                return Err(EngineError::Conflict(
                    "container is marked for removal and cannot be started".into(),
                ));
            }
            Status::Created | Status::Exited => {}
        }
        let engine = self.clone();
        let prepared = container.clone();
        let bundled = crate::blocking(move || {
            // What a previous run left in the runtime's state goes first.
            let _ = engine.runtime.delete(&prepared.id, true);
            engine.mount_rootfs(&prepared)?;
            engine.restore_container_etc(&prepared)?;
            engine.build_bundle(&prepared, crate::bundle::BundleFor::Start)?;
            Ok(())
        })
        .await;
        if let Err(e) = bundled {
            // Recorded like any failed start: a `--rm` container goes, a waiting client hears.
            self.record_start_failure(&handle, &e).await;
            return Err(e);
        }
        // Published ports first: a port someone has fails the start before anything is made.
        let mut endpoints = container.endpoints.clone();
        match self.reserve_ports(&container).await {
            Ok(ports) => {
                if let Some(first) = endpoints.first_mut() {
                    first.ports = ports;
                }
            }
            Err(e) => {
                self.record_start_failure(&handle, &e).await;
                return Err(e);
            }
        }
        let io = ShimIo {
            log_path: &container.log_path,
            log_max_size: log_option(&container, "max-size").unwrap_or(LOG_MAX_SIZE),
            log_max_files: log_option(&container, "max-file").map_or(LOG_MAX_FILES, |n| n as u32),
            stdin: container.config.open_stdin,
            stdin_once: container.config.stdin_once,
        };
        let started = match shim::create(
            &self.config,
            &self.ready_shim,
            &container.id,
            container.bundle_dir(),
            &io,
        )
        .await
        {
            Ok(pid) => match self.connect_endpoints(&container, &endpoints, pid).await {
                Err(e) => Err(e),
                Ok(()) => {
                    self.connect_waiting_attachers(&handle).await;
                    let engine = self.clone();
                    let id = container.id.clone();
                    crate::blocking(move || {
                        engine.runtime.start_created(&id).map_err(|e| match e {
                            runtime::Error::ExecFailed { message, .. } => {
                                shim::start_failure(&message)
                            }
                            other => other.into(),
                        })?;
                        Ok(pid)
                    })
                    .await
                }
            },
            Err(e) => Err(e),
        };
        let pid = match started {
            Ok(pid) => pid,
            Err(e) => {
                self.record_start_failure(&handle, &e).await;
                return Err(e);
            }
        };
        {
            let mut record = handle.record();
            record.state.status = Status::Running;
            record.state.pid = pid;
            record.state.exit_code = 0;
            record.state.error.clear();
            record.state.oom_killed = false;
            record.state.started_at = crate::now_rfc3339();
            record.state.finished_at = super::model::ZERO_TIME.into();
            record.endpoints = endpoints;
        }
        self.persist(&handle)?;
        self.publish_volume_mounts(&container);
        self.publish_container(&handle, "start");
        self.watch_exit(handle.clone());
        // For the next start, once this one has its answer (a spawn waits for the exec).
        let engine = self.clone();
        tokio::spawn(async move { engine.ready_shim.refill(&engine.config) });
        Ok(())
    }

    /// A start that failed leaves the container stopped with Docker's exit code for it
    /// (127: command not found, 126: cannot be run) and the error in its state.
    async fn record_start_failure(self: &Arc<Self>, handle: &Arc<Handle>, error: &EngineError) {
        let message = error.to_string();
        let code = if message.contains("executable file not found")
            || message.contains("no such file or directory")
        {
            127
        } else if message.contains("permission denied") {
            126
        } else {
            128
        };
        self.release_run(handle).await;
        {
            let mut record = handle.record();
            record.state.status = if record.state.started_at == super::model::ZERO_TIME {
                Status::Created
            } else {
                Status::Exited
            };
            record.state.exit_code = code;
            record.state.error = message;
            record.state.pid = 0;
        }
        let _ = self.persist(handle);
        self.publish_container(handle, "die");
        if handle.record().host_config.auto_remove {
            // The caller still holds the container's operation lock: remove it once that
            // is released, as Docker does for a `--rm` container that could not start.
            let engine = self.clone();
            let id = handle.id.clone();
            tokio::spawn(async move {
                let _ = engine.remove_container(&id, true, true).await;
            });
        }
    }

    /// `stop`: the container's stop signal, then SIGKILL after `timeout` seconds (the
    /// container's StopTimeout, else 10; negative waits for ever).
    pub async fn stop_container(
        self: &Arc<Self>,
        reference: &str,
        timeout: Option<i64>,
        signal: Option<&str>,
    ) -> Result<()> {
        let handle = self.containers.get(reference)?;
        let _op = handle.ops.lock().await;
        self.stop_locked(&handle, timeout, signal).await
    }

    pub(crate) async fn stop_locked(
        self: &Arc<Self>,
        handle: &Arc<Handle>,
        timeout: Option<i64>,
        signal: Option<&str>,
    ) -> Result<()> {
        let container = handle.snapshot();
        if !container.state.status.is_alive() {
            return Err(EngineError::NotModified("Container already stopped".into()));
        }
        let timeout = timeout.or(container.config.stop_timeout).unwrap_or(10);
        let signal = match signal.filter(|s| !s.is_empty()) {
            Some(s) => parse_signal(s)?,
            None => match Some(container.config.stop_signal.as_str()).filter(|s| !s.is_empty()) {
                Some(s) => parse_signal(s)?,
                None => libc::SIGTERM,
            },
        };
        let mut progress = handle.progress();
        let exits = progress.borrow().exits;
        if signal != libc::SIGKILL {
            let _ = self
                .signal(
                    &container.id,
                    signal,
                    container.state.status == Status::Paused,
                )
                .await;
            let wait = wait_exit(&mut progress, exits);
            if timeout < 0 {
                wait.await;
                return Ok(());
            }
            if tokio::time::timeout(Duration::from_secs(timeout as u64), wait)
                .await
                .is_ok()
            {
                return Ok(());
            }
        }
        self.signal(&container.id, libc::SIGKILL, true).await?;
        wait_exit(&mut progress, exits).await;
        Ok(())
    }

    /// Sends a signal to the container's init; a paused container is thawed afterwards when
    /// asked, so that the signal is acted on.
    async fn signal(self: &Arc<Self>, id: &str, signal: i32, thaw: bool) -> Result<()> {
        let engine = self.clone();
        let id = id.to_owned();
        crate::blocking(move || {
            engine.runtime.kill(&id, signal, false)?;
            if thaw {
                let _ = engine.runtime.resume(&id);
            }
            Ok(())
        })
        .await
    }

    pub async fn kill_container(
        self: &Arc<Self>,
        reference: &str,
        signal: Option<&str>,
    ) -> Result<()> {
        let handle = self.containers.get(reference)?;
        let signal = match signal.filter(|s| !s.is_empty()) {
            Some(s) => parse_signal(s)?,
            None => libc::SIGKILL,
        };
        let container = handle.snapshot();
        if !container.state.status.is_alive() {
            return Err(not_running(&container.id));
        }
        self.signal(&container.id, signal, signal == libc::SIGKILL)
            .await?;
        self.publish_container_with(&handle, "kill", &[("signal", signal.to_string())]);
        Ok(())
    }

    pub async fn restart_container(
        self: &Arc<Self>,
        reference: &str,
        timeout: Option<i64>,
        signal: Option<&str>,
    ) -> Result<()> {
        let handle = self.containers.get(reference)?;
        {
            let _op = handle.ops.lock().await;
            match self.stop_locked(&handle, timeout, signal).await {
                Ok(()) => {}
                Err(e) if e.kind() == crate::error::ErrorKind::NotModified => {}
                Err(e) => return Err(e),
            }
        }
        // The exit is recorded by the watcher; wait until it is, so start sees a stopped one.
        let mut progress = handle.progress();
        while handle.record().state.status.is_alive() {
            if progress.changed().await.is_err() {
                break;
            }
        }
        self.start_container(&handle.id).await?;
        self.publish_container(&handle, "restart");
        Ok(())
    }

    pub async fn pause_container(self: &Arc<Self>, reference: &str) -> Result<()> {
        let handle = self.containers.get(reference)?;
        let _op = handle.ops.lock().await;
        let id = handle.id.clone();
        match handle.record().state.status {
            Status::Running => {}
            Status::Paused => {
                return Err(EngineError::Conflict(format!(
                    "Container {id} is already paused"
                )));
            }
            _ => return Err(not_running(&id)),
        }
        let engine = self.clone();
        let rid = id.clone();
        crate::blocking(move || Ok(engine.runtime.pause(&rid)?)).await?;
        handle.record().state.status = Status::Paused;
        self.persist(&handle)?;
        self.publish_container(&handle, "pause");
        Ok(())
    }

    pub async fn unpause_container(self: &Arc<Self>, reference: &str) -> Result<()> {
        let handle = self.containers.get(reference)?;
        let _op = handle.ops.lock().await;
        let id = handle.id.clone();
        if handle.record().state.status != Status::Paused {
            return Err(EngineError::Conflict(format!(
                "Container {id} is not paused"
            )));
        }
        let engine = self.clone();
        let rid = id.clone();
        crate::blocking(move || Ok(engine.runtime.resume(&rid)?)).await?;
        handle.record().state.status = Status::Running;
        self.persist(&handle)?;
        self.publish_container(&handle, "unpause");
        Ok(())
    }

    /// `wait`: registers the wait now (so that a start right after cannot be missed) and
    /// gives back what resolves to the exit code once the condition holds.
    pub fn wait_container(
        self: &Arc<Self>,
        reference: &str,
        condition: WaitCondition,
    ) -> Result<impl std::future::Future<Output = i32> + Send + 'static> {
        let handle = self.containers.get(reference)?;
        let mut progress = handle.progress();
        let start = *progress.borrow_and_update();
        let (alive, code) = {
            let record = handle.record();
            (record.state.status.is_alive(), record.state.exit_code)
        };
        Ok(async move {
            match condition {
                WaitCondition::NotRunning if !alive => code,
                WaitCondition::NotRunning | WaitCondition::NextExit => {
                    wait_progress(&mut progress, |p| p.exits > start.exits || p.removed)
                        .await
                        .exit_code
                }
                WaitCondition::Removed => {
                    wait_progress(&mut progress, |p| p.removed).await.exit_code
                }
            }
        })
    }

    pub(crate) fn publish_container(&self, handle: &Handle, action: &str) {
        self.publish_container_with(handle, action, &[]);
    }

    pub(crate) fn publish_container_with(
        &self,
        handle: &Handle,
        action: &str,
        extra: &[(&str, String)],
    ) {
        let record = handle.record();
        let mut event = Event::new("container", action, &record.id)
            .attribute("image", record.config.image.clone())
            .attribute("name", record.name.clone());
        if let Some(labels) = &record.config.labels {
            for (k, v) in labels {
                event = event.attribute(k, v.clone());
            }
        }
        for (k, v) in extra {
            event = event.attribute(k, v.clone());
        }
        drop(record);
        self.events.publish(event);
    }
}

async fn wait_exit(progress: &mut tokio::sync::watch::Receiver<Progress>, exits: u64) {
    wait_progress(progress, |p| p.exits > exits || p.removed).await;
}

async fn wait_progress(
    progress: &mut tokio::sync::watch::Receiver<Progress>,
    done: impl Fn(&Progress) -> bool,
) -> Progress {
    loop {
        let now = *progress.borrow_and_update();
        if done(&now) {
            return now;
        }
        if progress.changed().await.is_err() {
            return *progress.borrow();
        }
    }
}

/// `SIGKILL`, `KILL`, `kill`, `9`: Docker's spellings of a signal.
pub fn parse_signal(text: &str) -> Result<i32> {
    let invalid = || EngineError::InvalidArgument(format!("Invalid signal: {text}"));
    if let Ok(n) = text.parse::<i32>() {
        return if (1..=64).contains(&n) {
            Ok(n)
        } else {
            Err(invalid())
        };
    }
    let upper = text.to_ascii_uppercase();
    let name = upper.strip_prefix("SIG").unwrap_or(&upper);
    let full = format!("SIG{name}");
    full.parse::<nix::sys::signal::Signal>()
        .map(|s| s as i32)
        .map_err(|_| invalid())
}

fn log_option(container: &super::Container, key: &str) -> Option<u64> {
    let config = container.host_config.log_config.config.as_ref()?;
    let value = config.get(key)?;
    if key == "max-size" {
        api::units::ram_in_bytes(value).ok().map(|n| n as u64)
    } else {
        value.parse().ok()
    }
}

impl Engine {
    /// Resizes the terminal of a running container.
    pub async fn resize_container(
        self: &Arc<Self>,
        reference: &str,
        rows: u16,
        cols: u16,
    ) -> Result<()> {
        let handle = self.containers.get(reference)?;
        if !handle.record().state.status.is_alive() {
            return Err(not_running(&handle.id));
        }
        let engine = self.clone();
        let id = handle.id.clone();
        crate::blocking(move || Ok(engine.runtime.resize(&id, rows, cols)?)).await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn signals_in_dockers_spellings() {
        assert_eq!(parse_signal("KILL").unwrap(), 9);
        assert_eq!(parse_signal("sigterm").unwrap(), 15);
        assert_eq!(parse_signal("SIGHUP").unwrap(), 1);
        assert_eq!(parse_signal("2").unwrap(), 2);
        assert_eq!(
            parse_signal("FOO").unwrap_err().to_string(),
            "Invalid signal: FOO"
        );
        assert!(parse_signal("0").is_err());
    }

    #[test]
    fn wait_conditions() {
        assert_eq!(WaitCondition::parse("").unwrap(), WaitCondition::NotRunning);
        assert_eq!(
            WaitCondition::parse("removed").unwrap(),
            WaitCondition::Removed
        );
        assert!(WaitCondition::parse("never").is_err());
    }
}
