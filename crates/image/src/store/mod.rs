//! The image store: the content store, the unpacked layers and the metadata together, with
//! the operations users know (list, inspect, tag, remove, import, commit, history, disk
//! usage) and the snapshots that containers' root filesystems are mounted from.
//!
//! Layout under the data root: `content/` (blobs), `layers/` (unpacked layers),
//! `metadata.db`. Anything that makes an image visible does so in one metadata transaction
//! after every blob and layer it needs is complete on disk; what a crash leaves half done is
//! unreferenced, and [`ImageStore::open`] removes it.

mod changes;
mod error;
mod gc;
mod import;
mod inspect;
mod register;
mod remove;
mod snapshots;
#[cfg(test)]
mod tests;
mod unpack;

use std::path::{Path, PathBuf};
use std::sync::{RwLock, RwLockReadGuard};
use std::time::Duration;

pub use changes::apply_changes;
pub use error::{ErrorKind, ImageError};
pub use gc::GcReport;
pub use import::{CommitOptions, ImportOptions};
pub use inspect::{DiskUsage, ImageUsage};
pub use remove::Removed;

use crate::content::ContentStore;
use crate::digest::Digest;
use crate::meta::{ImageRow, Meta};
use crate::model::{ImageConfig, Manifest};
use crate::reference::Reference;
use crate::snapshot::LayerDirs;

pub(crate) type Result<T, E = ImageError> = std::result::Result<T, E>;

/// Blobs that no manifest may exceed (a manifest or config is a few KiB).
pub(crate) const DOCUMENT_LIMIT: u64 = 8 << 20;

/// Ingests older than this at start-up were abandoned.
const STALE_INGEST: Duration = Duration::from_secs(24 * 3600);

/// Images of one data root.
pub struct ImageStore {
    root: PathBuf,
    content: ContentStore,
    layers: LayerDirs,
    meta: Meta,
    /// Held shared by anything that writes blobs or layers before recording them, and
    /// exclusively by garbage collection, which must not see their work as garbage.
    ingesting: RwLock<()>,
}

/// Proof that garbage collection will wait; hold it from the first blob written to the
/// image recorded.
pub struct Lease<'a> {
    _guard: RwLockReadGuard<'a, ()>,
}

/// One image as the store knows it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ImageRecord {
    pub id: Digest,
    pub manifest: Digest,
    pub manifest_media_type: String,
    /// Layers bottom to top.
    pub chain_ids: Vec<Digest>,
    /// Full references (`docker.io/library/busybox:latest`).
    pub tags: Vec<Reference>,
    pub repo_digests: Vec<Reference>,
    /// Bytes of all its layers, unpacked.
    pub size: u64,
    pub stored_at: String,
    pub last_tagged_at: Option<String>,
}

pub(crate) fn now() -> String {
    crate::model::time::Timestamp::now().to_rfc3339_nano()
}

impl ImageStore {
    /// Opens the store under `root`, cleaning what an interrupted run left behind.
    pub fn open(root: &Path) -> Result<ImageStore> {
        std::fs::create_dir_all(root).map_err(|e| ImageError::io("creating", root, e))?;
        let store = ImageStore {
            root: root.to_owned(),
            content: ContentStore::open(&root.join("content"))?,
            layers: LayerDirs::open(&root.join("layers"))?,
            meta: Meta::open(&root.join("metadata.db"))?,
            ingesting: RwLock::new(()),
        };
        store.content.clean_ingests(STALE_INGEST)?;
        store.collect_garbage()?;
        Ok(store)
    }

    pub fn root(&self) -> &Path {
        &self.root
    }

    pub fn content(&self) -> &ContentStore {
        &self.content
    }

    pub fn layer_dirs(&self) -> &LayerDirs {
        &self.layers
    }

    pub fn lease(&self) -> Lease<'_> {
        Lease {
            _guard: self.ingesting.read().unwrap_or_else(|p| p.into_inner()),
        }
    }

    fn record(&self, row: ImageRow) -> Result<ImageRecord> {
        let chain_ids = self.meta.image_layers(&row.id)?;
        let mut size = 0;
        for chain in &chain_ids {
            if let Some(layer) = self.meta.layer(chain)? {
                size += layer.unpacked_size;
            }
        }
        let parse_all = |names: Vec<String>| -> Vec<Reference> {
            names
                .iter()
                .filter_map(|n| Reference::parse(n).ok())
                .collect()
        };
        Ok(ImageRecord {
            tags: parse_all(self.meta.tags_of(&row.id)?),
            repo_digests: parse_all(self.meta.repo_digests_of(&row.id)?),
            id: row.id,
            manifest: row.manifest,
            manifest_media_type: row.manifest_media_type,
            chain_ids,
            size,
            stored_at: row.stored_at,
            last_tagged_at: row.last_tagged_at,
        })
    }

    /// Every image, most recently stored first.
    pub fn list(&self) -> Result<Vec<ImageRecord>> {
        self.meta
            .images()?
            .into_iter()
            .map(|row| self.record(row))
            .collect()
    }

    pub fn get(&self, id: &Digest) -> Result<Option<ImageRecord>> {
        self.meta.image(id)?.map(|row| self.record(row)).transpose()
    }

    /// Finds an image as Docker does: a full id (with or without `sha256:`), a reference
    /// (`busybox`, `busybox:1.36`, `busybox@sha256:...`), or an unambiguous id prefix.
    pub fn resolve(&self, name: &str) -> Result<ImageRecord> {
        self.resolve_how(name).map(|(record, _)| record)
    }

    /// As [`ImageStore::resolve`], and whether `name` was a reference (rather than an id).
    pub(crate) fn resolve_how(&self, name: &str) -> Result<(ImageRecord, Option<Reference>)> {
        // Docker names a missing image as the reference it looked for: `nope:latest`.
        let shown = match Reference::parse(name) {
            Ok(reference) if !name.starts_with("sha256:") => {
                reference.with_default_tag().familiar()
            }
            _ => name.to_owned(),
        };
        let not_found = || ImageError::NotFound(shown.clone());
        let full = name.strip_prefix("sha256:").unwrap_or(name);
        if full.len() == 64
            && let Ok(id) = Digest::from_hex(full)
        {
            return self.get(&id)?.map(|r| (r, None)).ok_or_else(not_found);
        }
        if let Ok(reference) = Reference::parse(name) {
            let reference = reference.with_default_tag();
            let target = match reference.digest() {
                Some(_) => self.meta.repo_digest_target(&reference.to_string())?,
                None => self.meta.tag_target(&reference.to_string())?,
            };
            if let Some(id) = target {
                return self
                    .get(&id)?
                    .map(|r| (r, Some(reference)))
                    .ok_or_else(not_found);
            }
        }
        let hex = name.strip_prefix("sha256:").unwrap_or(name);
        if !hex.is_empty()
            && hex
                .bytes()
                .all(|b| b.is_ascii_hexdigit() && !b.is_ascii_uppercase())
        {
            let found = self.meta.images_with_prefix(hex)?;
            match found.as_slice() {
                [only] => return self.get(only)?.map(|r| (r, None)).ok_or_else(not_found),
                [] => {}
                _ => return Err(ImageError::Ambiguous(name.to_owned())),
            }
        }
        if let Err(e) = Reference::parse(name) {
            return Err(ImageError::InvalidReference(e));
        }
        Err(not_found())
    }

    /// The config of an image (its id is the config's digest).
    pub fn config(&self, id: &Digest) -> Result<ImageConfig> {
        let bytes = self.content.read_blob(id, DOCUMENT_LIMIT)?;
        Ok(ImageConfig::parse(bytes)?)
    }

    /// The manifest an image was stored with.
    pub fn manifest(&self, record: &ImageRecord) -> Result<Manifest> {
        let bytes = self.content.read_blob(&record.manifest, DOCUMENT_LIMIT)?;
        Ok(Manifest::parse(bytes)?)
    }

    /// Points `reference` (tag added if missing) at an image; the reference leaves any other
    /// image it named.
    pub fn tag(&self, image: &Digest, reference: &Reference) -> Result<()> {
        if reference.digest().is_some() {
            return Err(ImageError::InvalidArgument(format!(
                "refusing to create a tag with a digest reference: {}",
                reference.familiar()
            )));
        }
        if self.meta.image(image)?.is_none() {
            return Err(ImageError::NotFound(image.to_string()));
        }
        let reference = reference.clone().with_default_tag();
        self.meta.set_tag(&reference.to_string(), image, &now())?;
        Ok(())
    }

    /// Removes a tag; false if it named nothing. The image stays.
    pub fn untag(&self, reference: &Reference) -> Result<bool> {
        let reference = reference.clone().with_default_tag();
        Ok(self.meta.remove_tag(&reference.to_string())?)
    }
}
