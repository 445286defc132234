//! `DELETE /containers/{id}`: a stopped container (or, forced, a running one, killed first)
//! and everything it has on disk; its anonymous volumes too when asked.

use std::sync::Arc;

use crate::Engine;
use crate::db::Table;
use crate::error::{EngineError, Result};

use super::model::Status;

impl Engine {
    pub async fn remove_container(
        self: &Arc<Self>,
        reference: &str,
        force: bool,
        volumes: bool,
    ) -> Result<()> {
        let handle = self.containers.get(reference)?;
        let mut progress = handle.progress();
        let _op = handle.ops.lock().await;
        if handle.progress.borrow().removed {
            return Err(EngineError::NoSuchContainer(reference.to_owned()));
        }
        let status = handle.record().state.status;
        let id = handle.id.clone();
        if status.is_alive() {
            if !force {
                let name = handle.record().name.clone();
                return Err(EngineError::Conflict(if status == Status::Paused {
                    "cannot remove a paused container: unpause and then stop the container before attempting removal or force remove".to_owned()
                } else {
                    format!(
                        "cannot remove container \"/{name}\": container is running: stop the container before removing or force remove"
                    )
                }));
            }
            let exits = progress.borrow_and_update().exits;
            let engine = self.clone();
            let rid = id.clone();
            crate::blocking(move || {
                let _ = engine.runtime.kill(&rid, libc::SIGKILL, true);
                let _ = engine.runtime.resume(&rid);
                Ok(())
            })
            .await?;
            while progress.borrow_and_update().exits == exits {
                if progress.changed().await.is_err() {
                    break;
                }
            }
        }
        handle.record().state.status = Status::Removing;
        self.persist(&handle)?;
        let engine = self.clone();
        let container = handle.snapshot();
        crate::blocking(move || {
            if volumes {
                engine.remove_anonymous_volumes(&container);
            }
            engine.db.delete(Table::Containers, &container.id)
        })
        .await?;
        self.containers.forget(&id);
        self.execs.forget_container(&id);
        self.publish_container(&handle, "destroy");
        handle.progress.send_modify(|p| p.removed = true);
        self.forget_endpoints(&id);
        // What the container leaves behind (its network, runtime state and cgroups, the
        // rootfs mount, the writable layer, ~3 ms) goes after the answer, not on the path the
        // client waits on (at normal priority: a `rmi` right after waits for the snapshot to
        // go); `sweep_orphans` at start-up takes whatever a crash interrupts.
        let engine = self.clone();
        let container = handle.snapshot();
        self.spawn_tidy(async move {
            engine.release_endpoints(&container).await;
            let netns = container.netns.clone();
            let bundle = container.bundle_dir().to_owned();
            let dir = container.dir;
            let _ = crate::blocking(move || {
                let _ = engine.runtime.delete(&id, true);
                if let Some(netns) = &netns {
                    crate::network::release_netns(netns);
                }
                if let Err(e) = engine.remove_container_dirs(&id, &dir, &bundle) {
                    // Nobody is waiting for an answer any more: the daemon's log has it, and
                    // the next start-up's sweep tries again.
                    eprintln!("pier daemon: removing what container {id} left: {e}");
                }
                Ok(())
            })
            .await;
        });
        Ok(())
    }
}
