//! Containers' writable layers: a snapshot records which layers a container's root
//! filesystem stacks (so they stay while it exists) and describes its overlay mount.

use std::path::Path;

use super::{ImageError, ImageStore, Result};
use crate::meta::SnapshotRow;
use crate::snapshot::OverlayMount;

impl ImageStore {
    /// Makes the writable layer of `container` in `dir` (upper and work directories) over
    /// the layers of `image`, and gives back the overlay to mount.
    pub fn create_snapshot(
        &self,
        container: &str,
        image: &crate::Digest,
        dir: &Path,
    ) -> Result<OverlayMount> {
        let record = self
            .get(image)?
            .ok_or_else(|| ImageError::NotFound(image.to_string()))?;
        if self.meta.snapshot(container)?.is_some() {
            return Err(ImageError::Conflict(format!(
                "a snapshot for container {container} already exists"
            )));
        }
        let mount = self.layers.container_overlay(&record.chain_ids, dir)?;
        self.meta.put_snapshot(&SnapshotRow {
            container: container.to_owned(),
            image: record.id,
            chain_ids: record.chain_ids,
        })?;
        Ok(mount)
    }

    /// The overlay of an existing snapshot (to mount it again, e.g. after a restart).
    pub fn snapshot_mount(&self, container: &str, dir: &Path) -> Result<OverlayMount> {
        let row = self
            .meta
            .snapshot(container)?
            .ok_or_else(|| ImageError::NotFound(format!("snapshot of container {container}")))?;
        Ok(self.layers.container_overlay(&row.chain_ids, dir)?)
    }

    /// Forgets a container's snapshot and removes its upper and work directories (its
    /// rootfs must be unmounted). Missing is fine.
    pub fn remove_snapshot(&self, container: &str, dir: &Path) -> Result<()> {
        for sub in ["upper", "work"] {
            let path = dir.join(sub);
            match std::fs::remove_dir_all(&path) {
                Ok(()) => {}
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
                Err(e) => return Err(ImageError::io("removing", path, e)),
            }
        }
        self.meta.delete_snapshot(container)?;
        Ok(())
    }

    /// Containers whose snapshots were made from `image`.
    pub fn containers_using(&self, image: &crate::Digest) -> Result<Vec<String>> {
        Ok(self.meta.snapshots_of_image(image)?)
    }
}

impl ImageStore {
    /// Writes a container's whole filesystem as a tar (`docker export`): its overlay mounted
    /// read-only on a temporary directory inside `dir` for the time it takes, so that this
    /// works whether or not the container's own rootfs is mounted.
    pub fn export_snapshot(
        &self,
        container: &str,
        dir: &Path,
        out: impl std::io::Write,
    ) -> Result<crate::layer::DiffStats> {
        let row = self
            .meta
            .snapshot(container)?
            .ok_or_else(|| ImageError::NotFound(format!("snapshot of container {container}")))?;
        // The upper as the top lower layer: a read-only view that leaves the work dir alone.
        let mut layers = self.layers.overlay(&row.chain_ids, None)?;
        self.layers.add_init_layer(&mut layers, &row.chain_ids)?;
        layers.lowers.insert(0, dir.join("upper"));
        layers.short_lowers.insert(0, dir.join("upper"));
        let target = dir.join(format!("export-{}", std::process::id()));
        std::fs::create_dir_all(&target).map_err(|e| ImageError::io("creating", &target, e))?;
        let written = layers
            .mount(&target)
            .map_err(ImageError::from)
            .and_then(|()| {
                let result =
                    crate::layer::write_tree(&target, out).map_err(|source| ImageError::Layer {
                        blob: row.image.clone(),
                        source,
                    });
                crate::snapshot::unmount(&target)?;
                result
            });
        let _ = std::fs::remove_dir(&target);
        written
    }
}
