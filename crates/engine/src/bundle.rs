//! A container's OCI bundle: config.json beside the mounted rootfs, built from its record by
//! the spec module and written atomically (a crash leaves the old file or the new one).

use std::io::Write;

use oci_spec::runtime::Spec;

use crate::Engine;
use crate::containers::model::Container;
use crate::error::{EngineError, Result};
use crate::spec;

impl Engine {
    /// Builds the container's runtime spec and writes `<dir>/config.json`.
    pub(crate) fn build_bundle(&self, container: &Container) -> Result<Spec> {
        let cgroups_path = match &self.config.cgroup_parent {
            Some(parent) => format!("{}/{}", parent.trim_end_matches('/'), container.id),
            None => format!("pier/{}", container.id),
        };
        let mounts = spec::resolved_mounts(&container.mounts);
        let input = spec::SpecInput {
            id: &container.id,
            config: &container.config,
            host: &container.host_config,
            rootfs: &container.rootfs(),
            hostname: &container.config.hostname,
            etc_files: Some(spec::EtcFiles {
                hostname: &container.hostname_path,
                hosts: &container.hosts_path,
                resolv_conf: &container.resolv_conf_path,
            }),
            mounts: &mounts,
            cgroups_path,
            netns: spec::network_mode(&container.host_config),
        };
        let spec = spec::build_spec(&input)?;
        let json = serde_json::to_vec_pretty(&spec)
            .map_err(|e| EngineError::Internal(format!("encoding config.json: {e}")))?;
        let path = container.dir.join("config.json");
        // A start right after create finds the file it would write: leaving it spares the
        // file system a new inode and a freed one per container.
        if std::fs::read(&path).is_ok_and(|existing| existing == json) {
            return Ok(spec);
        }
        let temp = container.dir.join(".config.json.tmp");
        let mut file =
            std::fs::File::create(&temp).map_err(|e| EngineError::io("creating", &temp, e))?;
        // Renamed whole, so never seen half-written; not synced, because every start writes
        // it again: a copy lost to a power cut is never read.
        file.write_all(&json)
            .map_err(|e| EngineError::io("writing", &temp, e))?;
        std::fs::rename(&temp, &path).map_err(|e| EngineError::io("renaming", &path, e))?;
        Ok(spec)
    }
}
