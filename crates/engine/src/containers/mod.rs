//! Containers: the registry of every container of this daemon (in memory, written through to
//! the metadata store), lookup by id, name or id prefix, and the lifecycle operations, one
//! module each.

mod attach;
mod create;
mod exit;
mod lifecycle;
pub mod model;
pub mod names;
mod remove;
mod rename;
pub(crate) mod rootfs;
mod sweep;
mod view;

use std::collections::HashMap;
use std::sync::{Arc, Mutex, MutexGuard, RwLock};

use tokio::sync::watch;

pub use attach::{AttachOptions, ShimStream};
pub use create::CreateRequest;
pub use lifecycle::WaitCondition;
pub use model::{Container, Status};
pub use view::ListOptions;

use crate::Engine;
use crate::db::Table;
use crate::error::{EngineError, Result};

/// What waiters watch: a counter of exits and whether the container is gone.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Progress {
    pub exits: u64,
    pub exit_code: i32,
    pub removed: bool,
}

/// One container: its record, a lock that serialises lifecycle operations on it, and the
/// channel that wakes its waiters.
pub struct Handle {
    pub id: String,
    record: Mutex<Container>,
    pub(crate) ops: tokio::sync::Mutex<()>,
    progress: watch::Sender<Progress>,
    /// Attachers waiting for the next start (`docker run` attaches before it starts).
    attach_waiters: Mutex<Vec<attach::Waiter>>,
}

impl Handle {
    fn new(container: Container) -> Arc<Handle> {
        Arc::new(Handle {
            id: container.id.clone(),
            record: Mutex::new(container),
            ops: tokio::sync::Mutex::new(()),
            progress: watch::channel(Progress::default()).0,
            attach_waiters: Mutex::new(Vec::new()),
        })
    }

    pub fn record(&self) -> MutexGuard<'_, Container> {
        self.record.lock().unwrap_or_else(|p| p.into_inner())
    }

    pub fn snapshot(&self) -> Container {
        self.record().clone()
    }

    pub fn progress(&self) -> watch::Receiver<Progress> {
        self.progress.subscribe()
    }
}

#[derive(Default)]
struct Registry {
    by_id: HashMap<String, Arc<Handle>>,
    /// Name (without slash) -> id.
    names: HashMap<String, String>,
}

#[derive(Default)]
pub struct Containers {
    registry: RwLock<Registry>,
}

impl Containers {
    fn read(&self) -> std::sync::RwLockReadGuard<'_, Registry> {
        self.registry.read().unwrap_or_else(|p| p.into_inner())
    }

    fn write(&self) -> std::sync::RwLockWriteGuard<'_, Registry> {
        self.registry.write().unwrap_or_else(|p| p.into_inner())
    }

    /// By full id, by name (with or without its slash), or by a unique prefix of its id.
    pub fn get(&self, reference: &str) -> Result<Arc<Handle>> {
        let registry = self.read();
        if let Some(h) = registry.by_id.get(reference) {
            return Ok(h.clone());
        }
        let name = reference.strip_prefix('/').unwrap_or(reference);
        if let Some(h) = registry
            .names
            .get(name)
            .and_then(|id| registry.by_id.get(id))
        {
            return Ok(h.clone());
        }
        if !reference.is_empty() && reference.bytes().all(|b| b.is_ascii_hexdigit()) {
            let mut found = registry
                .by_id
                .iter()
                .filter(|(id, _)| id.starts_with(reference));
            if let Some((_, h)) = found.next() {
                if found.next().is_some() {
                    return Err(EngineError::InvalidArgument(format!(
                        "multiple IDs found with provided prefix: {reference}"
                    )));
                }
                return Ok(h.clone());
            }
        }
        Err(EngineError::NoSuchContainer(reference.to_owned()))
    }

    pub fn all(&self) -> Vec<Arc<Handle>> {
        self.read().by_id.values().cloned().collect()
    }

    pub fn name_taken(&self, name: &str) -> Option<String> {
        self.read().names.get(name).cloned()
    }

    /// Adds a container whose name is free; the caller checked, and this re-checks under the
    /// lock so that two creates with one name cannot both win.
    fn insert(&self, container: Container) -> Result<Arc<Handle>> {
        let mut registry = self.write();
        if let Some(other) = registry.names.get(&container.name) {
            return Err(name_in_use(&container.name, other));
        }
        registry
            .names
            .insert(container.name.clone(), container.id.clone());
        let handle = Handle::new(container);
        registry.by_id.insert(handle.id.clone(), handle.clone());
        Ok(handle)
    }

    fn forget(&self, id: &str) {
        let mut registry = self.write();
        if let Some(h) = registry.by_id.remove(id) {
            let name = h.record().name.clone();
            registry.names.remove(&name);
        }
    }

    /// Names every container currently has, for reserving a new one.
    fn reserve_check(&self, name: &str) -> Result<()> {
        match self.name_taken(name) {
            Some(other) => Err(name_in_use(name, &other)),
            None => Ok(()),
        }
    }
}

pub fn name_in_use(name: &str, id: &str) -> EngineError {
    EngineError::Conflict(format!(
        "Conflict. The container name \"/{name}\" is already in use by container \"{id}\". You have to remove (or rename) that container to be able to reuse that name."
    ))
}

impl Engine {
    /// Writes the container's record through to the metadata store.
    pub(crate) fn persist(&self, handle: &Handle) -> Result<()> {
        let record = handle.snapshot();
        self.db
            .put(Table::Containers, &record.id, &record.name, &record)
    }

    /// Loads every recorded container (at start-up, before serving).
    pub(crate) fn load_containers(&self) -> Result<Vec<Arc<Handle>>> {
        let mut handles = Vec::new();
        for container in self.db.load_all::<Container>(Table::Containers)? {
            handles.push(self.containers.insert(container)?);
        }
        Ok(handles)
    }
}
