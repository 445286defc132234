//! A container's OCI bundle: config.json beside the mounted rootfs, built from its record by
//! the spec module and written atomically (a crash leaves the old file or the new one).

use std::io::Write;
use std::path::PathBuf;

use oci_spec::runtime::Spec;

use crate::Engine;
use crate::containers::model::Container;
use crate::error::{EngineError, Result};
use crate::spec::{self, NetworkMode};

/// When a bundle is built: the create writes one to check the spec early; the start's is the
/// one that runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum BundleFor {
    Create,
    Start,
}

impl Engine {
    /// `container:<name>`: the namespace of that container's init. The container must exist;
    /// at start it must run (at create it may not yet: the start's bundle will say).
    fn shared_netns(&self, other: &str, when: BundleFor) -> Result<Option<PathBuf>> {
        let other = self.containers.get(other)?.snapshot();
        if other.state.status.is_alive() && other.state.pid > 0 {
            return Ok(Some(format!("/proc/{}/ns/net", other.state.pid).into()));
        }
        match when {
            BundleFor::Create => Ok(None),
            BundleFor::Start => Err(EngineError::Conflict(format!(
                "cannot join network of a non running container: {}",
                other.id
            ))),
        }
    }

    /// Builds the container's runtime spec and writes `<bundle>/config.json`.
    pub(crate) fn build_bundle(&self, container: &Container, when: BundleFor) -> Result<Spec> {
        let cgroups_path = match &self.config.cgroup_parent {
            Some(parent) => format!("{}/{}", parent.trim_end_matches('/'), container.id),
            None => format!("pier/{}", container.id),
        };
        let mounts = spec::resolved_mounts(&container.mounts);
        let shared;
        let netns = match (spec::network_mode(&container.host_config), &container.netns) {
            (NetworkMode::New, Some(owned)) => NetworkMode::Owned(&owned.path),
            (NetworkMode::Unresolved(other), _) => {
                shared = self.shared_netns(other, when)?;
                shared
                    .as_deref()
                    .map_or(NetworkMode::New, NetworkMode::Join)
            }
            (mode, _) => mode,
        };
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
            netns,
        };
        let spec = spec::build_spec(&input)?;
        let json = serde_json::to_vec_pretty(&spec)
            .map_err(|e| EngineError::Internal(format!("encoding config.json: {e}")))?;
        let path = container.bundle_dir().join("config.json");
        // A start right after create finds the file it would write: leaving it spares the
        // file system a new inode and a freed one per container.
        if std::fs::read(&path).is_ok_and(|existing| existing == json) {
            return Ok(spec);
        }
        let temp = container.bundle_dir().join(".config.json.tmp");
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
