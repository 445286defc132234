//! Volumes as the API sees them: create, inspect, list (with Docker's filters), remove and
//! prune, each with its event. Changes are serialised by one lock, so that a name is created
//! once and a volume found unused stays unused until it is gone.

use std::collections::{BTreeMap, HashMap};
use std::sync::{Arc, Mutex, MutexGuard};

use api::filters::Filters;
use api::types::{
    Volume, VolumeCreateOptions, VolumeListResponse, VolumePruneResponse, VolumeUsageData,
};
use image::model::time::Timestamp;

use super::{
    ANONYMOUS_LABEL, LOCAL_DRIVER, VolumeRecord, no_such_volume, validate_volume_name,
    volume_data_dir, volume_error, volume_names,
};
use crate::Engine;
use crate::db::Table;
use crate::error::{EngineError, Result};
use crate::events::Event;

/// Serialises volume creation and removal (volumes have no in-memory registry: their
/// records are read from the metadata store).
static CHANGES: Mutex<()> = Mutex::new(());

fn changes() -> MutexGuard<'static, ()> {
    CHANGES.lock().unwrap_or_else(|p| p.into_inner())
}

/// Options of the local driver that Docker knows; pier knows them too but cannot mount them yet.
const LOCAL_OPTIONS: &[&str] = &["type", "device", "o", "size"];

const LIST_FILTERS: &[&str] = &["dangling", "driver", "label", "name"];
const PRUNE_FILTERS: &[&str] = &["label", "label!", "all"];

#[derive(Debug, Default)]
pub struct VolumeListOptions {
    pub filters: Filters,
}

/// Seconds precision, UTC: how Docker shows a volume's `CreatedAt`.
fn now_seconds() -> String {
    Timestamp::from_unix(Timestamp::now().unix_seconds(), 0).to_rfc3339_nano()
}

impl Engine {
    pub(crate) fn volume_record(&self, name: &str) -> Result<Option<VolumeRecord>> {
        self.db.get(Table::Volumes, name)
    }

    /// The volume `name`, made if it does not exist (with `labels`); whether it was made.
    pub(crate) fn ensure_volume(
        &self,
        name: &str,
        labels: &BTreeMap<String, String>,
        options: &BTreeMap<String, String>,
    ) -> Result<(VolumeRecord, bool)> {
        validate_volume_name(name)
            .map_err(|e| EngineError::InvalidArgument(volume_error("create", name, e)))?;
        for key in options.keys() {
            if !LOCAL_OPTIONS.contains(&key.as_str()) {
                return Err(EngineError::InvalidArgument(volume_error(
                    "create",
                    name,
                    format!("invalid option: {key:?}"),
                )));
            }
        }
        if !options.is_empty() {
            return Err(EngineError::InvalidArgument(volume_error(
                "create",
                name,
                "mounting devices or file systems (options type, device, o, size) is not supported by pier's local driver yet",
            )));
        }
        let _lock = changes();
        if let Some(existing) = self.volume_record(name)? {
            return Ok((existing, false));
        }
        let dir = self.config.volumes_dir().join(name);
        // A directory without a record is what a crash left: it is no volume.
        if dir.exists() {
            std::fs::remove_dir_all(&dir).map_err(|e| EngineError::io("removing", &dir, e))?;
        }
        let data = volume_data_dir(&self.config.volumes_dir(), name);
        std::fs::create_dir_all(&data).map_err(|e| EngineError::io("creating", &data, e))?;
        let record = VolumeRecord {
            name: name.to_owned(),
            created_at: now_seconds(),
            labels: labels.clone(),
            options: options.clone(),
        };
        if let Err(e) = self.db.put(Table::Volumes, name, name, &record) {
            let _ = std::fs::remove_dir_all(&dir);
            return Err(e);
        }
        self.events
            .publish(Event::new("volume", "create", name).attribute("driver", LOCAL_DRIVER));
        Ok((record, true))
    }

    /// An anonymous volume: a random 64-hex name and Docker's anonymous label.
    pub(crate) fn create_anonymous_volume(&self) -> Result<VolumeRecord> {
        let name = crate::containers::names::new_id()?;
        let labels = BTreeMap::from([(ANONYMOUS_LABEL.to_owned(), String::new())]);
        Ok(self.ensure_volume(&name, &labels, &BTreeMap::new())?.0)
    }

    /// Ids of the containers that mount the volume.
    pub(crate) fn volume_users(&self, name: &str) -> Vec<String> {
        let mut users: Vec<String> = self
            .containers
            .all()
            .iter()
            .filter(|h| volume_names(&h.record().mounts).any(|n| n == name))
            .map(|h| h.id.clone())
            .collect();
        users.sort();
        users
    }

    /// How many containers mount each volume.
    fn volume_ref_counts(&self) -> HashMap<String, i64> {
        let mut counts = HashMap::new();
        for handle in self.containers.all() {
            for name in volume_names(&handle.record().mounts) {
                *counts.entry(name.to_owned()).or_default() += 1;
            }
        }
        counts
    }

    /// Removes a volume no container uses; `force` makes a missing one no error.
    pub(crate) fn remove_volume_blocking(&self, name: &str, force: bool) -> Result<()> {
        let _lock = changes();
        if self.volume_record(name)?.is_none() {
            if force {
                return Ok(());
            }
            return Err(no_such_volume(name));
        }
        let users = self.volume_users(name);
        if !users.is_empty() {
            return Err(EngineError::Conflict(volume_error(
                "remove",
                name,
                format!("volume is in use - [{}]", users.join(" ")),
            )));
        }
        self.destroy_volume(name)
    }

    /// Removes a volume unless a container other than `except` mounts it; whether it went.
    pub(crate) fn remove_volume_unless_used(&self, name: &str, except: &str) -> Result<bool> {
        let _lock = changes();
        if self.volume_record(name)?.is_none() {
            return Ok(false);
        }
        if self.volume_users(name).iter().any(|id| id != except) {
            return Ok(false);
        }
        self.destroy_volume(name)?;
        Ok(true)
    }

    /// Forgets the record, then removes the directory (a crash in between leaves a directory
    /// without a record, which the next create of that name clears).
    fn destroy_volume(&self, name: &str) -> Result<()> {
        self.db.delete(Table::Volumes, name)?;
        let dir = self.config.volumes_dir().join(name);
        match std::fs::remove_dir_all(&dir) {
            Ok(()) => {}
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
            Err(e) => return Err(EngineError::io("removing", &dir, e)),
        }
        self.events
            .publish(Event::new("volume", "destroy", name).attribute("driver", LOCAL_DRIVER));
        Ok(())
    }

    fn volume_view(&self, record: &VolumeRecord) -> Volume {
        Volume {
            name: record.name.clone(),
            driver: LOCAL_DRIVER.to_owned(),
            mountpoint: volume_data_dir(&self.config.volumes_dir(), &record.name)
                .display()
                .to_string(),
            created_at: record.created_at.clone(),
            status: None,
            labels: record.labels.clone().into_iter().collect(),
            scope: "local".to_owned(),
            options: record.options.clone().into_iter().collect(),
            usage_data: None,
        }
    }

    fn all_volume_records(&self) -> Result<Vec<VolumeRecord>> {
        let mut records: Vec<VolumeRecord> = self.db.load_all(Table::Volumes)?;
        records.sort_by(|a, b| a.name.cmp(&b.name));
        Ok(records)
    }

    /// Every volume with its size and reference count (`system df`). Blocking: walks the
    /// volumes' files.
    pub(crate) fn volumes_usage(&self) -> Result<Vec<Volume>> {
        let counts = self.volume_ref_counts();
        let volumes_dir = self.config.volumes_dir();
        Ok(self
            .all_volume_records()?
            .iter()
            .map(|record| {
                let mut view = self.volume_view(record);
                view.usage_data = Some(VolumeUsageData {
                    size: super::usage::tree_size(&volume_data_dir(&volumes_dir, &record.name))
                        as i64,
                    ref_count: counts.get(&record.name).copied().unwrap_or(0),
                });
                view
            })
            .collect())
    }

    pub async fn create_volume(self: &Arc<Self>, options: VolumeCreateOptions) -> Result<Volume> {
        let engine = self.clone();
        crate::blocking(move || {
            if !options.driver.is_empty() && options.driver != LOCAL_DRIVER {
                let driver = &options.driver;
                return Err(EngineError::NotFound(format!(
                    "error looking up volume plugin {driver}: plugin {driver:?} not found"
                )));
            }
            let mut labels: BTreeMap<String, String> = options.labels.into_iter().collect();
            let driver_options: BTreeMap<String, String> =
                options.driver_opts.into_iter().collect();
            let record = if options.name.is_empty() {
                labels.insert(ANONYMOUS_LABEL.to_owned(), String::new());
                let name = crate::containers::names::new_id()?;
                engine.ensure_volume(&name, &labels, &driver_options)?.0
            } else {
                engine
                    .ensure_volume(&options.name, &labels, &driver_options)?
                    .0
            };
            Ok(engine.volume_view(&record))
        })
        .await
    }

    pub async fn inspect_volume(self: &Arc<Self>, name: &str) -> Result<Volume> {
        let engine = self.clone();
        let name = name.to_owned();
        crate::blocking(move || {
            let record = engine
                .volume_record(&name)?
                .ok_or_else(|| no_such_volume(&name))?;
            Ok(engine.volume_view(&record))
        })
        .await
    }

    pub async fn list_volumes(
        self: &Arc<Self>,
        options: VolumeListOptions,
    ) -> Result<VolumeListResponse> {
        let filters = options.filters;
        filters
            .validate(LIST_FILTERS)
            .map_err(|e| EngineError::InvalidArgument(e.to_string()))?;
        let dangling = if filters.contains("dangling") {
            Some(
                filters
                    .get_bool("dangling", false)
                    .map_err(|e| EngineError::InvalidArgument(e.to_string()))?,
            )
        } else {
            None
        };
        let engine = self.clone();
        crate::blocking(move || {
            let counts = engine.volume_ref_counts();
            let volumes = engine
                .all_volume_records()?
                .into_iter()
                .filter(|record| {
                    let in_use = counts.contains_key(&record.name);
                    dangling.is_none_or(|d| d != in_use)
                        && filters.exact_match("driver", LOCAL_DRIVER)
                        && (filters.get("name").is_empty()
                            || filters
                                .get("name")
                                .iter()
                                .any(|n| record.name.contains(n.as_str())))
                        && filters.match_labels("label", &record.labels)
                })
                .map(|record| engine.volume_view(&record))
                .collect();
            Ok(VolumeListResponse {
                volumes,
                warnings: Vec::new(),
            })
        })
        .await
    }

    pub async fn remove_volume(self: &Arc<Self>, name: &str, force: bool) -> Result<()> {
        let engine = self.clone();
        let name = name.to_owned();
        crate::blocking(move || engine.remove_volume_blocking(&name, force)).await
    }

    /// Removes unused volumes: anonymous ones only, unless `all=true` is among the filters or
    /// `anonymous_only` is false (clients of API < 1.42, whose prune took every volume).
    pub async fn prune_volumes(
        self: &Arc<Self>,
        filters: Filters,
        anonymous_only: bool,
    ) -> Result<VolumePruneResponse> {
        filters
            .validate(PRUNE_FILTERS)
            .map_err(|e| EngineError::InvalidArgument(e.to_string()))?;
        let all = filters
            .get_bool("all", false)
            .map_err(|e| EngineError::InvalidArgument(e.to_string()))?;
        let anonymous_only = anonymous_only && !all;
        let engine = self.clone();
        crate::blocking(move || {
            let _lock = changes();
            let counts = engine.volume_ref_counts();
            let mut response = VolumePruneResponse::default();
            for record in engine.all_volume_records()? {
                let excluded = filters
                    .get("label!")
                    .iter()
                    .any(|l| match_label(l, &record.labels));
                if counts.contains_key(&record.name)
                    || (anonymous_only && !record.is_anonymous())
                    || !filters.match_labels("label", &record.labels)
                    || excluded
                {
                    continue;
                }
                let size = super::usage::tree_size(&volume_data_dir(
                    &engine.config.volumes_dir(),
                    &record.name,
                ));
                engine.destroy_volume(&record.name)?;
                response.space_reclaimed += size;
                response.volumes_deleted.push(record.name);
            }
            engine.events.publish(
                Event::new("volume", "prune", "")
                    .attribute("reclaimed", response.space_reclaimed.to_string()),
            );
            Ok(response)
        })
        .await
    }
}

/// `k` or `k=v` against a set of labels.
fn match_label(wanted: &str, labels: &BTreeMap<String, String>) -> bool {
    match wanted.split_once('=') {
        Some((k, v)) => labels.get(k).is_some_and(|have| have == v),
        None => labels.contains_key(wanted),
    }
}
