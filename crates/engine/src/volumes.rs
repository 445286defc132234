//! Named volumes of the `local` driver and what a container mounts.
//!
//! A volume is a directory `<data-root>/volumes/<name>/_data` and a record in the metadata
//! store's `volumes` table (keyed by name); the record is written after the directory exists
//! and removed before it goes, so a directory without a record is debris of a crash, and
//! creating that name again starts it afresh.
//!
//! Containers' mounts are resolved at create time ([`Engine::resolve_mounts`]): `-v` strings,
//! `--mount` objects (both parsed by the spec module, in Docker's words), `--volumes-from`,
//! and the image's `VOLUME`s that nothing else covers. Volumes that do not exist yet are made then;
//! anonymous ones carry Docker's `com.docker.volume.anonymous` label, which is what
//! `volume prune` looks for by default.
//!
//! | module | what it does |
//! |---|---|
//! | `resolve` | `spec::parse_bind`/`parse_mount` results turned into [`MountRecord`]s: sources made, volumes created |
//! | `copyup` | an image's files copied into new, empty volumes mounted over them |
//! | `service` | create, inspect, list, remove, prune, with their events |
//! | `usage` | disk use of a directory tree |

mod copyup;
mod resolve;
mod service;
pub(crate) mod usage;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::containers::model::MountRecord;
use crate::error::EngineError;

pub use service::VolumeListOptions;

/// The label Docker (23 and later) puts on volumes made without a name.
pub const ANONYMOUS_LABEL: &str = "com.docker.volume.anonymous";

/// The only volume driver pier has.
pub const LOCAL_DRIVER: &str = "local";

/// A volume as the metadata store keeps it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct VolumeRecord {
    pub name: String,
    /// RFC 3339, seconds (as Docker shows it).
    pub created_at: String,
    #[serde(default)]
    pub labels: BTreeMap<String, String>,
    #[serde(default)]
    pub options: BTreeMap<String, String>,
}

impl VolumeRecord {
    pub fn is_anonymous(&self) -> bool {
        self.labels.contains_key(ANONYMOUS_LABEL)
    }
}

/// Where a volume's files live: `<volumes dir>/<name>/_data`.
pub fn volume_data_dir(volumes_dir: &Path, name: &str) -> PathBuf {
    volumes_dir.join(name).join("_data")
}

/// Docker's rule for local volume names: `[a-zA-Z0-9][a-zA-Z0-9_.-]+`, with its messages
/// (the caller adds the `create <name>: ` prefix).
pub fn validate_volume_name(name: &str) -> std::result::Result<(), String> {
    if name.len() == 1 {
        return Err(
            "volume name is too short, names should be at least two alphanumeric characters"
                .to_owned(),
        );
    }
    let mut chars = name.chars();
    let valid = chars.next().is_some_and(|c| c.is_ascii_alphanumeric())
        && chars.all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '.' | '-'));
    if !valid {
        return Err(format!(
            "{name:?} includes invalid characters for a local volume name, only \"[a-zA-Z0-9][a-zA-Z0-9_.-]\" are allowed. If you intended to pass a host directory, use absolute path"
        ));
    }
    Ok(())
}

/// Docker's `<op> <name>: <reason>` form of volume errors.
fn volume_error(op: &str, name: &str, reason: impl std::fmt::Display) -> String {
    format!("{op} {name}: {reason}")
}

pub(crate) fn no_such_volume(name: &str) -> EngineError {
    EngineError::NotFound(volume_error("get", name, "no such volume"))
}

/// The container's mounts that are volumes, by name.
pub(crate) fn volume_names(mounts: &[MountRecord]) -> impl Iterator<Item = &str> {
    mounts
        .iter()
        .filter(|m| m.kind == "volume")
        .filter_map(|m| m.name.as_deref())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_follow_the_local_drivers_rule() {
        assert!(validate_volume_name("data").is_ok());
        assert!(validate_volume_name("a.b_c-1").is_ok());
        assert_eq!(
            validate_volume_name("a").unwrap_err(),
            "volume name is too short, names should be at least two alphanumeric characters"
        );
        assert_eq!(
            validate_volume_name("foo/bar").unwrap_err(),
            "\"foo/bar\" includes invalid characters for a local volume name, only \"[a-zA-Z0-9][a-zA-Z0-9_.-]\" are allowed. If you intended to pass a host directory, use absolute path"
        );
        assert!(validate_volume_name("-x").is_err());
        assert!(validate_volume_name("").is_err());
    }

    #[test]
    fn anonymous_volumes_are_told_by_their_label() {
        let mut record = VolumeRecord {
            name: "v".into(),
            created_at: String::new(),
            labels: BTreeMap::new(),
            options: BTreeMap::new(),
        };
        assert!(!record.is_anonymous());
        record.labels.insert(ANONYMOUS_LABEL.into(), String::new());
        assert!(record.is_anonymous());
    }
}
