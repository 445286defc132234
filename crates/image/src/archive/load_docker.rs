//! The images of a docker-archive's `manifest.json`:
//!
//! ```json
//! [{"Config":"<hex>.json","RepoTags":["busybox:latest"],"Layers":["<v1 id>/layer.tar"]}]
//! ```
//!
//! The paths name files of the archive (Docker 25 and later name `blobs/sha256/<hex>` of the
//! OCI layout beside it). Such an archive has no manifest; one is made, OCI, of the stored
//! config and layers (each with the media type its compression implies), unless the OCI
//! layout of a Docker 25 archive has the image's own manifest, which is then kept as it is.

use std::collections::BTreeMap;

use serde::Deserialize;

use super::ingest::{Ingested, Stored};
use super::load::{Candidate, blob_compression, parse_tag};
use super::{DOCUMENT_LIMIT, invalid, load_oci};
use crate::content::ContentError;
use crate::model::{Descriptor, ImageConfig, Manifest, media_types};
use crate::store::{ImageError, ImageStore};

const MANIFEST: &str = "manifest.json";

#[derive(Debug, Deserialize)]
struct Item {
    #[serde(rename = "Config")]
    config: String,
    #[serde(rename = "RepoTags", default)]
    repo_tags: Option<Vec<String>>,
    #[serde(rename = "Layers", default)]
    layers: Option<Vec<String>>,
}

/// The images `manifest.json` lists, in its order.
pub(super) fn candidates(
    store: &ImageStore,
    found: &Ingested,
) -> Result<Vec<Candidate>, ImageError> {
    let bytes = found.doc(MANIFEST).unwrap_or_default();
    let mut de = serde_json::Deserializer::from_slice(bytes);
    let items: Vec<Item> = serde_path_to_error::deserialize(&mut de)
        .map_err(|e| invalid(MANIFEST, format!("not a docker-archive manifest: {e}")))?;
    // A Docker 25 archive carries the images' own manifests in its OCI layout.
    let own = if found.doc("index.json").is_some() {
        load_oci::all_manifests(store, found)
    } else {
        Vec::new()
    };
    items
        .iter()
        .enumerate()
        .map(|(i, item)| candidate(store, found, i, item, &own))
        .collect()
}

fn file<'a>(found: &'a Ingested, field: &str, path: &str) -> Result<&'a Stored, ImageError> {
    found
        .file(path)
        .map_err(|why| invalid(MANIFEST, format!("{field}: {why}")))
}

fn candidate(
    store: &ImageStore,
    found: &Ingested,
    i: usize,
    item: &Item,
    own: &[Manifest],
) -> Result<Candidate, ImageError> {
    let origin = format!("{MANIFEST}[{i}]");
    let content = store.content();
    let config_blob = file(found, &format!("[{i}].Config"), &item.config)?;
    let config_bytes = content
        .read_blob(&config_blob.digest, DOCUMENT_LIMIT)
        .map_err(|e| match e {
            ContentError::TooLarge { .. } => invalid(&item.config, e),
            e => e.into(),
        })?;
    let config = ImageConfig::parse(config_bytes).map_err(|e| invalid(&item.config, e))?;
    let paths = item.layers.as_deref().unwrap_or_default();
    if config.diff_ids().len() != paths.len() {
        return Err(invalid(
            &item.config,
            format!(
                "the config lists {} layers (rootfs.diff_ids) but {origin} gives {}",
                config.diff_ids().len(),
                paths.len()
            ),
        ));
    }
    let mut layers = Vec::with_capacity(paths.len());
    for (j, path) in paths.iter().enumerate() {
        let stored = file(found, &format!("[{i}].Layers[{j}]"), path)?;
        let compression = blob_compression(content, &stored.digest)?;
        layers.push(Descriptor::new(
            compression.oci_layer_media_type(),
            stored.digest.clone(),
            stored.size,
        ));
    }
    let tags = item
        .repo_tags
        .iter()
        .flatten()
        .enumerate()
        .map(|(k, tag)| parse_tag(MANIFEST, &format!("[{i}].RepoTags[{k}]"), tag))
        .collect::<Result<Vec<_>, _>>()?;
    let same = |m: &&Manifest| {
        m.config().digest == *config.id()
            && m.layers().len() == layers.len()
            && m.layers()
                .iter()
                .zip(&layers)
                .all(|(a, b)| a.digest == b.digest)
    };
    let manifest = match own.iter().find(same) {
        Some(m) => m.clone(),
        None => {
            let made = Manifest::oci(
                config.descriptor(media_types::OCI_CONFIG),
                layers,
                BTreeMap::new(),
            );
            content.write_bytes(made.bytes(), Some(made.digest()))?;
            made
        }
    };
    Ok(Candidate {
        manifest,
        config,
        tags,
        origin,
        layer_entries: paths.to_vec(),
    })
}
