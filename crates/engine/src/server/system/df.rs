//! `GET /system/df`: layers, images (with shared sizes and container counts), containers
//! (with the size of their writable layers), volumes (with size and reference count), and
//! an empty build cache.

use std::collections::HashMap;
use std::sync::Arc;

use api::types::SystemDataUsage;

use crate::Engine;
use crate::containers::ListOptions;
use crate::error::Result;
use crate::images::ImageListOptions;
use crate::volumes::usage::tree_size;

/// Which parts to compute (`type=` parameters); all when none is named.
#[derive(Debug, Clone, Copy)]
pub struct Parts {
    pub images: bool,
    pub containers: bool,
    pub volumes: bool,
}

impl Parts {
    pub fn from_types(types: &[String]) -> Parts {
        if types.is_empty() {
            return Parts {
                images: true,
                containers: true,
                volumes: true,
            };
        }
        let has = |t: &str| types.iter().any(|x| x == t);
        Parts {
            images: has("image"),
            containers: has("container"),
            volumes: has("volume"),
        }
    }
}

pub async fn data_usage(engine: &Arc<Engine>, parts: Parts) -> Result<SystemDataUsage> {
    let mut usage = SystemDataUsage::default();
    // Containers' root filesystem sizes need their images' sizes.
    let images = if parts.images || parts.containers {
        engine
            .list_images(ImageListOptions {
                shared_size: true,
                ..Default::default()
            })
            .await?
    } else {
        Vec::new()
    };
    if parts.images {
        let store = engine.clone();
        usage.layers_size =
            crate::blocking(move || Ok(store.images.disk_usage()?.layers_size)).await? as i64;
    }
    if parts.containers {
        let sizes: HashMap<String, i64> = images.iter().map(|i| (i.id.clone(), i.size)).collect();
        let mut containers = engine.list_containers(&ListOptions {
            all: true,
            ..Default::default()
        })?;
        let dir = engine.config.containers_dir();
        containers = crate::blocking(move || {
            for c in &mut containers {
                let size_rw = tree_size(&dir.join(&c.id).join("upper")) as i64;
                c.size_rw = Some(size_rw);
                c.size_root_fs = Some(size_rw + sizes.get(&c.image_id).copied().unwrap_or(0));
            }
            Ok(containers)
        })
        .await?;
        usage.containers = containers;
    }
    if parts.volumes {
        let store = engine.clone();
        usage.volumes = crate::blocking(move || store.volumes_usage()).await?;
    }
    if parts.images {
        usage.images = images;
    }
    Ok(usage)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn types_choose_the_parts() {
        let all = Parts::from_types(&[]);
        assert!(all.images && all.containers && all.volumes);
        let some = Parts::from_types(&["volume".to_owned(), "build-cache".to_owned()]);
        assert!(!some.images && !some.containers && some.volumes);
    }
}
