//! Noticing that a container ended, recording how, and cleaning up after it; and, at daemon
//! start, finding what happened to every container while no daemon was watching.
//!
//! The shim records the exit status and then exits; the daemon holds a pidfd on the shim
//! and is woken when it goes, so nothing polls.

use std::sync::Arc;

use tokio::io::unix::AsyncFd;

use crate::Engine;
use crate::error::Result;

use super::model::{Status, ZERO_TIME};
use super::{Handle, Progress};

impl Engine {
    /// Watches the container's shim and records the exit when it goes.
    pub(crate) fn watch_exit(self: &Arc<Self>, handle: Arc<Handle>) {
        let engine = self.clone();
        tokio::spawn(async move {
            // No pidfd: the shim is already gone.
            if let Ok(Some(fd)) = engine.runtime.shim_pidfd(&handle.id) {
                // SAFETY: the AsyncFd owns the pidfd, which stays open and unchanged until it
                // is dropped.
                match unsafe { AsyncFd::register(fd) } {
                    Ok(fd) => {
                        let _ = fd.readable().await;
                    }
                    Err(_) => poll_until_stopped(&engine, &handle.id).await,
                }
            }
            engine.record_exit(&handle).await;
        });
    }

    /// Records the exit of a container whose shim is gone, and removes it if it asked to be
    /// (`--rm`). What the run leaves (runtime state, cgroups, the rootfs mount) goes after
    /// the exit is known, off the path of whoever waits for it.
    pub(crate) async fn record_exit(self: &Arc<Self>, handle: &Arc<Handle>) {
        let engine = self.clone();
        let id = handle.id.clone();
        let status = crate::blocking(move || Ok(engine.runtime.exit_status(&id).ok().flatten()))
            .await
            .ok()
            .flatten();
        let (code, auto_remove) = {
            let mut record = handle.record();
            let state = &mut record.state;
            state.status = Status::Exited;
            state.pid = 0;
            match &status {
                Some(s) => {
                    state.exit_code = s.code;
                    state.oom_killed = s.oom_killed;
                    state.finished_at = s.finished_at.clone();
                    if let Some(error) = &s.error {
                        state.error = error.clone();
                    }
                }
                None => {
                    // Nobody recorded it: the shim itself was killed.
                    state.exit_code = 255;
                    state.finished_at = crate::now_rfc3339();
                }
            }
            if state.finished_at.is_empty() {
                state.finished_at = ZERO_TIME.into();
            }
            (state.exit_code, record.host_config.auto_remove)
        };
        self.release_ports(&handle.snapshot()).await;
        let _ = self.persist(handle);
        self.publish_container_with(handle, "die", &[("exitCode", code.to_string())]);
        let mut exits = 0;
        handle.progress.send_modify(|p: &mut Progress| {
            p.exits += 1;
            p.exit_code = code;
            exits = p.exits;
        });
        if auto_remove {
            let _ = self.remove_container(&handle.id, true, true).await;
        } else {
            self.tidy_after_exit(handle.clone(), exits);
        }
    }

    /// Deletes the runtime's record of a run that ended and unmounts the rootfs, unless the
    /// container was started again, or removed, before this got its turn.
    fn tidy_after_exit(self: &Arc<Self>, handle: Arc<Handle>, exits: u64) {
        let engine = self.clone();
        self.spawn_tidy(async move {
            let _op = handle.ops.lock().await;
            let progress = *handle.progress.borrow();
            if progress.removed
                || progress.exits != exits
                || handle.record().state.status.is_alive()
            {
                return;
            }
            engine.release_run(&handle).await;
        });
    }

    /// What a run held once it is over: its network (port rules and their reservation, the
    /// veth), the runtime's record (and with it the cgroups) and the rootfs mount. Best effort.
    pub(crate) async fn release_run(self: &Arc<Self>, handle: &Handle) {
        let container = handle.snapshot();
        self.release_endpoints(&container).await;
        let engine = self.clone();
        let id = handle.id.clone();
        let bundle = container.bundle_dir().to_owned();
        let _ = crate::blocking(move || {
            let _ = engine.runtime.delete(&id, true);
            engine.unmount_rootfs(&bundle)
        })
        .await;
    }

    /// At start-up: every container that was running is either still running (watch it
    /// again) or ended while the daemon was away (record how).
    pub(crate) async fn restore_containers(self: &Arc<Self>) -> Result<()> {
        let handles = self.load_containers()?;
        let known = handles.iter().map(|h| h.id.clone()).collect();
        let engine = self.clone();
        crate::blocking(move || {
            engine.sweep_orphans(&known);
            Ok(())
        })
        .await?;
        for handle in handles {
            self.forget_lost_netns(&handle)?;
            let status = handle.record().state.status;
            match status {
                Status::Running | Status::Paused | Status::Restarting => {
                    let alive = self
                        .runtime
                        .state(&handle.id)
                        .map(|s| s.status != runtime::Status::Stopped)
                        .unwrap_or(false);
                    if alive {
                        self.watch_exit(handle);
                    } else {
                        self.record_exit(&handle).await;
                    }
                }
                Status::Removing => {
                    let _ = self.remove_container(&handle.id, true, false).await;
                }
                Status::Created | Status::Exited | Status::Dead => {}
            }
        }
        Ok(())
    }
}

/// Without epoll on the pidfd (never expected), the state is polled.
async fn poll_until_stopped(engine: &Engine, id: &str) {
    loop {
        match engine.runtime.state(id) {
            Ok(s) if s.status != runtime::Status::Stopped => {}
            _ => return,
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
}
