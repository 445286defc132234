//! [`save_docker`]: the docker-archive that Docker 20.10's `docker save` writes, which
//! `docker load`, `podman load` and skopeo's `docker-archive:` read.
//!
//! ```text
//! <v1 id>/            VERSION ("1.0"), json (see `legacy`), layer.tar (the uncompressed layer)
//! <config hex>.json   the config's exact bytes
//! manifest.json       [{"Config":..., "RepoTags":[...] or null, "Layers":["<v1 id>/layer.tar",...]}]
//! repositories        {"busybox":{"latest":"<top v1 id>"}}, when anything is tagged
//! ```
//!
//! A layer that two images share with the same layers below it has the same v1 directory
//! and is written once; the same layer under different v1 ids is written once too, the
//! later `layer.tar` being a symlink to the first, as Docker does it. Entries are sorted by
//! path; layer directories and configs carry the config's `created` time as Docker's do,
//! `manifest.json` and `repositories` the epoch.

use std::collections::{BTreeMap, HashMap};
use std::io::{self, Read, Write};

use serde::Serialize;

use super::DOCUMENT_LIMIT;
use super::legacy::v1_layers;
use super::select::select;
use super::tarwrite::TarWriter;
use crate::digest::{Digest, HashingReader};
use crate::layer::Compression;
use crate::model::ImageConfig;
use crate::store::{ImageError, ImageStore};

#[derive(Serialize)]
struct Item {
    #[serde(rename = "Config")]
    config: String,
    #[serde(rename = "RepoTags")]
    repo_tags: Option<Vec<String>>,
    #[serde(rename = "Layers")]
    layers: Vec<String>,
}

/// What goes at one path of the archive.
enum Planned {
    Dir,
    Bytes(Vec<u8>),
    Layer { blob: Digest, diff_id: Digest },
    Link(String),
}

/// Writes the images `names` mean (see `select`) as a docker-archive to `out`.
pub fn save_docker(
    store: &ImageStore,
    names: &[String],
    out: impl Write,
) -> Result<(), ImageError> {
    let selected = select(store, names)?;
    let content = store.content();
    let mut plan: BTreeMap<String, (Planned, u64)> = BTreeMap::new();
    let mut written: HashMap<Digest, String> = HashMap::new();
    let mut items = Vec::new();
    let mut repositories: BTreeMap<String, BTreeMap<String, String>> = BTreeMap::new();
    for image in &selected {
        let bytes = content.read_blob(&image.record.id, DOCUMENT_LIMIT)?;
        let config = ImageConfig::parse(bytes.clone())?;
        let manifest = store.manifest(&image.record)?;
        let diff_ids = config.diff_ids();
        if diff_ids.is_empty() {
            return Err(ImageError::InvalidArgument(format!(
                "empty export - not implemented: image {} has no layers",
                image.record.id.short()
            )));
        }
        if diff_ids.len() != manifest.layers().len() {
            return Err(ImageError::InvalidArgument(format!(
                "image {}: its config lists {} layers but its manifest has {}",
                image.record.id.short(),
                diff_ids.len(),
                manifest.layers().len()
            )));
        }
        let mtime = config
            .created_time()
            .map(|t| t.unix_seconds())
            .filter(|s| *s > 0)
            .unwrap_or(0) as u64;
        let v1 = v1_layers(&bytes, &config.chain_ids());
        let mut layer_paths = Vec::with_capacity(v1.len());
        for ((layer, blob), diff_id) in v1.iter().zip(manifest.layers()).zip(diff_ids) {
            let dir = layer.id.hex().to_owned();
            let tar_path = format!("{dir}/layer.tar");
            layer_paths.push(tar_path.clone());
            if plan.contains_key(&tar_path) {
                continue;
            }
            plan.insert(dir.clone(), (Planned::Dir, mtime));
            plan.insert(
                format!("{dir}/VERSION"),
                (Planned::Bytes(b"1.0".to_vec()), mtime),
            );
            plan.insert(
                format!("{dir}/json"),
                (Planned::Bytes(layer.json.clone()), mtime),
            );
            let what = match written.get(diff_id) {
                Some(first) => Planned::Link(format!("../{first}/layer.tar")),
                None => {
                    written.insert(diff_id.clone(), dir);
                    Planned::Layer {
                        blob: blob.digest.clone(),
                        diff_id: diff_id.clone(),
                    }
                }
            };
            plan.insert(tar_path, (what, mtime));
        }
        let config_path = format!("{}.json", image.record.id.hex());
        plan.insert(config_path.clone(), (Planned::Bytes(bytes), mtime));
        let top = v1.last().map(|l| l.id.hex().to_owned()).unwrap_or_default();
        let mut repo_tags = Vec::new();
        for tag in &image.tags {
            repo_tags.push(tag.familiar());
            if let Some(t) = tag.tag() {
                repositories
                    .entry(tag.familiar_name())
                    .or_default()
                    .insert(t.to_owned(), top.clone());
            }
        }
        items.push(Item {
            config: config_path,
            repo_tags: (!repo_tags.is_empty()).then_some(repo_tags),
            layers: layer_paths,
        });
    }
    plan.insert(
        "manifest.json".to_owned(),
        (Planned::Bytes(go_encode(&items)), 0),
    );
    if !repositories.is_empty() {
        plan.insert(
            "repositories".to_owned(),
            (Planned::Bytes(go_encode(&repositories)), 0),
        );
    }
    write(store, plan, out)
}

/// JSON as Go's `json.Encoder.Encode` writes it: compact, with a newline.
fn go_encode<T: Serialize>(value: &T) -> Vec<u8> {
    // Strings, lists and string maps only: serialization cannot fail.
    let mut bytes = serde_json::to_vec(value).unwrap_or_default();
    bytes.push(b'\n');
    bytes
}

fn write(
    store: &ImageStore,
    plan: BTreeMap<String, (Planned, u64)>,
    out: impl Write,
) -> Result<(), ImageError> {
    let failed = |e: io::Error| ImageError::io("writing", "the archive", e);
    let mut tar = TarWriter::new(out);
    for (path, (what, mtime)) in plan {
        match what {
            Planned::Dir => tar.dir(&path, mtime).map_err(failed)?,
            Planned::Bytes(bytes) => tar.bytes(&path, mtime, &bytes).map_err(failed)?,
            Planned::Link(target) => tar.symlink(&path, &target, mtime).map_err(failed)?,
            Planned::Layer { blob, diff_id } => {
                let (size, reader) = uncompressed(store, &blob, &diff_id)?;
                tar.file(&path, mtime, size, reader).map_err(failed)?;
            }
        }
    }
    tar.finish().map_err(failed)?;
    Ok(())
}

/// A stored layer blob as an uncompressed tar, and its length. A compressed blob is read
/// twice: once to learn (and check) what it decompresses to, once to write it.
fn uncompressed(
    store: &ImageStore,
    blob: &Digest,
    diff_id: &Digest,
) -> Result<(u64, Box<dyn Read + Send>), ImageError> {
    let content = store.content();
    let (compression, reader) = store.uncompressed_blob(blob)?;
    if compression == Compression::None {
        let size = content
            .size(blob)?
            .ok_or_else(|| ImageError::NotFound(blob.to_string()))?;
        return Ok((size, reader));
    }
    let mut hashing = HashingReader::new(reader);
    io::copy(&mut hashing, &mut io::sink())
        .map_err(|e| ImageError::io("reading", content.blob_path(blob), e))?;
    let (actual, size) = hashing.finish();
    if actual != *diff_id {
        return Err(ImageError::DiffIdMismatch {
            blob: blob.clone(),
            expected: diff_id.clone(),
            actual,
        });
    }
    Ok((size, store.uncompressed_blob(blob)?.1))
}
