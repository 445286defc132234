//! What users ask about stored images: `image inspect`, `image history`, and the image part
//! of `system df`.

use std::collections::{BTreeMap, HashMap};

use super::{ImageStore, Result};
use crate::digest::Digest;
use crate::model::{
    GraphDriver, HistoryImage, HistoryResponseItem, ImageFacts, ImageInspect, image_history,
};

/// One image in `system df`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ImageUsage {
    pub id: Digest,
    /// All its layers.
    pub size: u64,
    /// Bytes of layers other images use too.
    pub shared_size: u64,
    /// Containers whose snapshots were made from it.
    pub containers: usize,
}

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct DiskUsage {
    pub images: Vec<ImageUsage>,
    /// Every unpacked layer, counted once.
    pub layers_size: u64,
}

impl ImageStore {
    /// Docker's `image inspect` object, for API version `api_version`.
    pub fn inspect(&self, name: &str, api_version: (u32, u32)) -> Result<ImageInspect> {
        let record = self.resolve(name)?;
        let config = self.config(&record.id)?;
        let mut data = BTreeMap::new();
        let diffs: Vec<String> = record
            .chain_ids
            .iter()
            .rev()
            .map(|c| self.layers.diff(c).display().to_string())
            .collect();
        if let Some((top, lower)) = diffs.split_first() {
            if let Some(top_chain) = record.chain_ids.last() {
                let base = self.layers.root().join(top_chain.hex());
                data.insert(
                    "MergedDir".to_owned(),
                    base.join("merged").display().to_string(),
                );
                data.insert(
                    "WorkDir".to_owned(),
                    base.join("work").display().to_string(),
                );
            }
            data.insert("UpperDir".to_owned(), top.clone());
            if !lower.is_empty() {
                data.insert("LowerDir".to_owned(), lower.join(":"));
            }
        }
        let facts = ImageFacts {
            repo_tags: record.tags.iter().map(|r| r.familiar()).collect(),
            repo_digests: record.repo_digests.iter().map(|r| r.familiar()).collect(),
            parent: None,
            size: record.size as i64,
            graph_driver: GraphDriver {
                data,
                name: "overlay2".to_owned(),
            },
            last_tag_time: record.last_tagged_at.clone(),
        };
        Ok(ImageInspect::new(&config, facts, api_version))
    }

    /// `image history`, newest step first.
    pub fn history(&self, name: &str) -> Result<Vec<HistoryResponseItem>> {
        let record = self.resolve(name)?;
        let config = self.config(&record.id)?;
        let mut sizes = Vec::with_capacity(record.chain_ids.len());
        for chain in &record.chain_ids {
            sizes.push(
                self.meta
                    .layer(chain)?
                    .map(|l| l.unpacked_size as i64)
                    .unwrap_or(0),
            );
        }
        let me = HistoryImage {
            id: record.id.clone(),
            tags: record.tags.iter().map(|r| r.familiar()).collect(),
        };
        Ok(image_history(&config, &sizes, &[me])?)
    }

    /// Sizes for `system df`.
    pub fn disk_usage(&self) -> Result<DiskUsage> {
        let records = self.list()?;
        let mut users: HashMap<Digest, usize> = HashMap::new();
        for r in &records {
            for c in &r.chain_ids {
                *users.entry(c.clone()).or_default() += 1;
            }
        }
        let mut layer_size: HashMap<Digest, u64> = HashMap::new();
        for layer in self.meta.all_layers()? {
            layer_size.insert(layer.chain_id, layer.unpacked_size);
        }
        let mut usage = DiskUsage {
            layers_size: layer_size.values().sum(),
            ..Default::default()
        };
        for r in records {
            let shared_size = r
                .chain_ids
                .iter()
                .filter(|c| users.get(*c).copied().unwrap_or(0) > 1)
                .map(|c| layer_size.get(c).copied().unwrap_or(0))
                .sum();
            usage.images.push(ImageUsage {
                containers: self.containers_using(&r.id)?.len(),
                id: r.id,
                size: r.size,
                shared_size,
            });
        }
        Ok(usage)
    }
}
