//! [`save_oci_archive`] and [`save_oci_dir`]: images as an OCI image layout.
//!
//! ```text
//! oci-layout          {"imageLayoutVersion":"1.0.0"}
//! index.json          an OCI index: one entry per tag saved (the stored manifest's
//!                     descriptor, annotated with org.opencontainers.image.ref.name = the tag
//!                     and io.containerd.image.name = the full name), one unannotated entry
//!                     for an image saved without a tag
//! blobs/sha256/<hex>  the stored manifests, configs and layers, as they are
//! ```
//!
//! The tar form has its entries sorted and dated at the epoch. The directory form adds to a
//! layout already there (blobs it has are kept; an entry of its index with a tag saved
//! again is replaced), writing each file under a temporary name and renaming it into place,
//! `index.json` last.

use std::collections::{BTreeMap, BTreeSet};
use std::fs::File;
use std::io::{self, Write};
use std::path::{Path, PathBuf};

use super::ingest::layout_path;
use super::select::select;
use super::tarwrite::TarWriter;
use super::{CONTAINERD_NAME, REF_NAME};
use crate::digest::Digest;
use crate::model::{Descriptor, Index};
use crate::store::{ImageError, ImageStore};

const LAYOUT_FILE: &[u8] = br#"{"imageLayoutVersion":"1.0.0"}"#;

/// What a layout of the images holds.
struct Layout {
    /// Index entries, in the order of the names saved.
    entries: Vec<Descriptor>,
    /// Every blob they need, with its size.
    blobs: BTreeMap<Digest, u64>,
}

fn layout(store: &ImageStore, names: &[String]) -> Result<Layout, ImageError> {
    let content = store.content();
    let mut entries = Vec::new();
    let mut wanted: BTreeSet<Digest> = BTreeSet::new();
    for image in select(store, names)? {
        let manifest = store.manifest(&image.record)?;
        let descriptor = Descriptor::new(
            image.record.manifest_media_type.clone(),
            manifest.digest().clone(),
            manifest.bytes().len() as u64,
        );
        if image.tags.is_empty() {
            entries.push(descriptor.clone());
        }
        for tag in &image.tags {
            let mut entry = descriptor.clone();
            entry
                .annotations
                .insert(CONTAINERD_NAME.to_owned(), tag.to_string());
            if let Some(t) = tag.tag() {
                entry.annotations.insert(REF_NAME.to_owned(), t.to_owned());
            }
            entries.push(entry);
        }
        wanted.insert(manifest.digest().clone());
        wanted.insert(manifest.config().digest.clone());
        wanted.extend(manifest.layers().iter().map(|l| l.digest.clone()));
    }
    let mut blobs = BTreeMap::new();
    for digest in wanted {
        let size = content
            .size(&digest)?
            .ok_or_else(|| ImageError::NotFound(format!("blob {digest}")))?;
        blobs.insert(digest, size);
    }
    Ok(Layout { entries, blobs })
}

/// Writes the images `names` mean (as `docker save` reads names) as a tar of an OCI image
/// layout to `out`.
pub fn save_oci_archive(
    store: &ImageStore,
    names: &[String],
    out: impl Write,
) -> Result<(), ImageError> {
    let layout = layout(store, names)?;
    let index = Index::oci(layout.entries, BTreeMap::new());
    let content = store.content();
    let failed = |e: io::Error| ImageError::io("writing", "the archive", e);
    let mut tar = TarWriter::new(out);
    tar.dir("blobs", 0).map_err(failed)?;
    tar.dir("blobs/sha256", 0).map_err(failed)?;
    for (digest, size) in &layout.blobs {
        let file = content.open_blob(digest)?;
        tar.file(&layout_path(digest), 0, *size, file)
            .map_err(failed)?;
    }
    tar.bytes("index.json", 0, index.bytes()).map_err(failed)?;
    tar.bytes("oci-layout", 0, LAYOUT_FILE).map_err(failed)?;
    tar.finish().map_err(failed)?;
    Ok(())
}

/// Writes the images `names` mean into the OCI image layout at `dir` (made if missing;
/// added to if it is a layout already; refused if it is anything else).
pub fn save_oci_dir(store: &ImageStore, names: &[String], dir: &Path) -> Result<(), ImageError> {
    let layout = layout(store, names)?;
    let io_err = |context: &'static str, path: &Path| {
        let path = path.to_owned();
        move |e: io::Error| ImageError::io(context, path, e)
    };
    let index_path = dir.join("index.json");
    let layout_path_file = dir.join("oci-layout");
    let mut entries: Vec<Descriptor> = Vec::new();
    if dir.exists() {
        let not_empty = std::fs::read_dir(dir)
            .map_err(io_err("listing", dir))?
            .next()
            .is_some();
        if layout_path_file.exists() {
            if index_path.exists() {
                let bytes = std::fs::read(&index_path).map_err(io_err("reading", &index_path))?;
                let existing = Index::parse(bytes).map_err(|e| {
                    ImageError::InvalidArgument(format!("{}: {e}", index_path.display()))
                })?;
                entries = existing.manifests().to_vec();
            }
        } else if not_empty {
            return Err(ImageError::InvalidArgument(format!(
                "{} is neither empty nor an OCI image layout",
                dir.display()
            )));
        }
    }
    let blobs_dir = dir.join("blobs/sha256");
    std::fs::create_dir_all(&blobs_dir).map_err(io_err("creating", &blobs_dir))?;
    let content = store.content();
    for (digest, size) in &layout.blobs {
        let target = blobs_dir.join(digest.hex());
        if std::fs::metadata(&target).is_ok_and(|m| m.len() == *size) {
            continue;
        }
        let mut from = content.open_blob(digest)?;
        write_atomically(&target, |file| io::copy(&mut from, file).map(|_| ()))?;
    }
    if !layout_path_file.exists() {
        write_atomically(&layout_path_file, |f| f.write_all(LAYOUT_FILE))?;
    }
    // A tag saved again replaces its old entry; an untagged entry is not repeated.
    for entry in layout.entries {
        entries.retain(|old| match entry.annotations.get(CONTAINERD_NAME) {
            Some(name) => old.annotations.get(CONTAINERD_NAME) != Some(name),
            None => !(old.digest == entry.digest && old.annotations.is_empty()),
        });
        entries.push(entry);
    }
    let index = Index::oci(entries, BTreeMap::new());
    write_atomically(&index_path, |f| f.write_all(index.bytes()))
}

/// Writes `path` through a temporary file beside it, synced, then renamed into place.
fn write_atomically(
    path: &Path,
    fill: impl FnOnce(&mut File) -> io::Result<()>,
) -> Result<(), ImageError> {
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let temp: PathBuf = path.with_file_name(format!(".{name}.{}.tmp", std::process::id()));
    let result = File::create(&temp)
        .and_then(|mut file| {
            fill(&mut file)?;
            file.sync_all()
        })
        .and_then(|()| std::fs::rename(&temp, path));
    if let Err(e) = result {
        let _ = std::fs::remove_file(&temp);
        return Err(ImageError::io("writing", path, e));
    }
    Ok(())
}
