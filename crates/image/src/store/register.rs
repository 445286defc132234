//! Recording an image whose blobs are in the content store: its layers unpacked (see
//! `unpack`), then one metadata transaction that makes the image and its tags visible.

use super::{DOCUMENT_LIMIT, ImageError, ImageStore, Lease, Result, now};
use crate::digest::Digest;
use crate::meta::ImageRow;
use crate::model::{ImageConfig, Manifest, chain_ids};
use crate::reference::Reference;

impl ImageStore {
    /// Records the image of a manifest already in the content store (with its config and
    /// layer blobs), unpacking its layers, and points `tags` at it. Gives back the image id.
    pub fn register_manifest(
        &self,
        manifest: &Digest,
        tags: &[Reference],
        repo_digests: &[Reference],
    ) -> Result<Digest> {
        let lease = self.lease();
        self.register_leased(&lease, manifest, tags, repo_digests)
    }

    /// [`ImageStore::register_manifest`] for a caller that holds a lease already (leases do
    /// not nest: a waiting garbage collection would block the second one).
    pub fn register_leased(
        &self,
        lease: &Lease<'_>,
        manifest: &Digest,
        tags: &[Reference],
        repo_digests: &[Reference],
    ) -> Result<Digest> {
        let manifest = Manifest::parse(self.content.read_blob(manifest, DOCUMENT_LIMIT)?)?;
        let config = ImageConfig::parse(
            self.content
                .read_blob(&manifest.config().digest, DOCUMENT_LIMIT)?,
        )?;
        let diff_ids = config.diff_ids();
        if diff_ids.len() != manifest.layers().len() {
            return Err(ImageError::InvalidArgument(format!(
                "image config lists {} layers but its manifest {} has {}",
                diff_ids.len(),
                manifest.digest(),
                manifest.layers().len()
            )));
        }
        let chains = chain_ids(diff_ids);
        self.unpack_layers_of(lease, &[(&manifest, &config)])?;
        let row = ImageRow {
            id: config.id().clone(),
            manifest: manifest.digest().clone(),
            manifest_media_type: manifest.media_type().to_owned(),
            stored_at: now(),
            last_tagged_at: None,
        };
        let tags: Vec<String> = tags
            .iter()
            .map(|t| t.clone().with_default_tag().to_string())
            .collect();
        let digests: Vec<String> = repo_digests.iter().map(Reference::to_string).collect();
        self.meta.put_image(&row, &chains, &tags, &digests)?;
        Ok(row.id)
    }
}
