//! pier's daemon: the containers, images and volumes of one data root, their state kept in
//! memory and written through to the metadata store, their events, and the Docker Engine
//! API served over unix sockets and tcp.
//!
//! It decides what a container is (from Docker's create body and the image's config) and asks
//! the runtime crate to make it; it never makes namespaces, mounts or cgroups itself, and it
//! never forks: anything that must clone runs as `pier runtime` (and its shim), exec'd.

mod bundle;
pub mod config;
pub mod containers;
mod daemon;
mod db;
pub mod error;
pub mod events;
pub mod exec;
mod images;
pub mod logs;
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
        }))
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
