//! pier's daemon: the containers, images and volumes of one data root, their state kept in
//! memory and written through to the metadata store, their events, and the Docker Engine
//! API served over unix sockets and tcp.
//!
//! It decides what a container is (from Docker's create body and the image's config) and asks
//! the runtime crate to make it; it never makes namespaces, mounts or cgroups itself, and it
//! never forks: anything that must clone runs as `pier runtime` (and its shim), exec'd.

pub(crate) mod bundle;
pub mod config;
pub mod containers;
mod daemon;
mod db;
pub mod error;
pub mod events;
pub mod exec;
mod images;
pub mod logs;
mod network;
pub mod server;
mod shim;
pub mod spec;
mod terminal;
mod volumes;

use std::sync::Arc;

use image::ImageStore;
use runtime::Runtime;

pub use config::DaemonConfig;
pub use daemon::run;
pub use error::{EngineError, ErrorKind, Result};

use containers::Containers;
use db::Db;
use events::Events;

/// One daemon's state and services.
pub struct Engine {
    pub config: DaemonConfig,
    pub images: ImageStore,
    pub runtime: Runtime,
    db: Db,
    pub events: Events,
    pub containers: Containers,
    pub execs: exec::Execs,
    /// When this daemon started (for `info`).
    pub started: std::time::SystemTime,
    /// Held (shared) by every tidy-up that runs after its answer; taken whole at shutdown, so
    /// that a daemon stops only once they are done.
    tidying: Arc<tokio::sync::RwLock<()>>,
    /// Set once by the daemon before it serves; an engine opened without serving has none
    /// (its containers get a network namespace of their own and nothing in it).
    networking: std::sync::OnceLock<network::Networking>,
    /// The next container's shim, started ahead.
    ready_shim: shim::ReadyShim,
}

impl Engine {
    /// Opens the data root (cleaning what a crash left) without serving anything yet.
    pub fn open(config: DaemonConfig) -> Result<Arc<Engine>> {
        for dir in [
            &config.data_root,
            &config.exec_root,
            &config.containers_dir(),
            &config.volumes_dir(),
        ] {
            std::fs::create_dir_all(dir)
                .map_err(|e| EngineError::io("creating", dir.as_path(), e))?;
        }
        let images = ImageStore::open(&config.data_root)?;
        let db = Db::open(&config.data_root.join("metadata.db"))?;
        Ok(Arc::new(Engine {
            runtime: Runtime::new(config.runtime_root()),
            config,
            images,
            db,
            events: Events::default(),
            containers: Containers::default(),
            execs: exec::Execs::default(),
            started: std::time::SystemTime::now(),
            tidying: Arc::default(),
            networking: std::sync::OnceLock::new(),
            ready_shim: shim::ReadyShim::default(),
        }))
    }

    /// Runs `tidy` in the background: work that follows an answer (removing what a container
    /// left) and that shutdown waits for.
    pub(crate) fn spawn_tidy(&self, tidy: impl std::future::Future<Output = ()> + Send + 'static) {
        // Past shutdown's start there is no guard to take; the work still runs as far as it can.
        let guard = self.tidying.clone().try_read_owned().ok();
        tokio::spawn(async move {
            tidy.await;
            drop(guard);
        });
    }

    /// Waits (up to `limit`) for the background tidy-ups to finish.
    pub async fn finish_tidying(&self, limit: std::time::Duration) {
        let _ = tokio::time::timeout(limit, self.tidying.write()).await;
    }
}

/// Runs blocking work (the image store, the runtime's calls, file systems) off the async
/// threads.
pub(crate) async fn blocking<T: Send + 'static>(
    work: impl FnOnce() -> Result<T> + Send + 'static,
) -> Result<T> {
    tokio::task::spawn_blocking(work)
        .await
        .map_err(|e| EngineError::Internal(format!("a background task failed: {e}")))?
}

pub(crate) fn now_rfc3339() -> String {
    image::model::time::Timestamp::now().to_rfc3339_nano()
}
