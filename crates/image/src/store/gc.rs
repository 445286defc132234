//! Garbage collection: unpacked layers no image or snapshot uses, and blobs no image or
//! kept layer references, are removed — including what a crash left unrecorded.

use std::collections::HashSet;

use super::{ImageStore, Result};
use crate::digest::Digest;

/// What a collection removed.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct GcReport {
    /// Chain ids of the layers removed.
    pub layers: Vec<Digest>,
    pub blobs: Vec<Digest>,
    /// Bytes of blobs removed.
    pub reclaimed: u64,
}

impl ImageStore {
    /// Removes unreferenced layers and blobs. Waits for ingests under way (see
    /// [`ImageStore::lease`]) so that their blobs are never mistaken for garbage.
    pub fn collect_garbage(&self) -> Result<GcReport> {
        let _exclusive = self.ingesting.write().unwrap_or_else(|p| p.into_inner());
        let used_layers = self.meta.used_layers()?;
        let mut report = GcReport::default();
        let mut removed: HashSet<Digest> = HashSet::new();
        for layer in self.meta.all_layers()? {
            if !used_layers.contains(&layer.chain_id) {
                self.layers.remove(&layer.chain_id)?;
                self.meta.delete_layer(&layer.chain_id)?;
                removed.insert(layer.chain_id);
            }
        }
        // Unpacked directories without a record: a crash between unpacking and recording.
        for chain in self.layers.list()? {
            if !used_layers.contains(&chain) && self.meta.layer(&chain)?.is_none() {
                self.layers.remove(&chain)?;
                removed.insert(chain);
            }
        }
        report.layers = removed.into_iter().collect();
        report.layers.sort();
        let kept: HashSet<Digest> = used_layers;
        let used_blobs = self.meta.used_blobs(&kept)?;
        for (blob, size) in self.content.list()? {
            if !used_blobs.contains(&blob) {
                self.content.delete(&blob)?;
                report.reclaimed += size;
                report.blobs.push(blob);
            }
        }
        Ok(report)
    }
}
