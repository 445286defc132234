//! [`load`]: an archive's images found (docker-archive or OCI layout), every layer of every
//! image unpacked and checked, and only then the images recorded with their tags.

use std::io::Read;

use super::{detect, ingest, invalid, load_docker, load_oci};
use crate::content::ContentStore;
use crate::digest::Digest;
use crate::layer::{Compression as Magic, detect_compression};
use crate::model::{Compression, ImageConfig, Manifest};
use crate::reference::Reference;
use crate::store::{ImageError, ImageStore};

/// One image an archive held.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Loaded {
    /// Its id (the sha256 of its config), as Docker's.
    pub id: Digest,
    /// The tags the archive gave it (full references), none if it gave none.
    pub tags: Vec<Reference>,
}

/// An image found in an archive, its manifest and config in the content store.
pub(super) struct Candidate {
    pub manifest: Manifest,
    pub config: ImageConfig,
    pub tags: Vec<Reference>,
    /// Where the archive describes it, for errors (`manifest.json[0]`).
    pub origin: String,
    /// The archive entry of each layer, bottom first.
    pub layer_entries: Vec<String>,
}

/// Loads the images of a docker-archive or an OCI layout tar (plain, gzip or zstd), as
/// `docker load` does, and gives them back in the order the archive lists them. Either every
/// image is recorded, or (the archive being bad) none is: the error names the entry at fault.
pub fn load(store: &ImageStore, archive: impl Read) -> Result<Vec<Loaded>, ImageError> {
    let lease = store.lease();
    let (_, tar) = detect::decompressed(archive)?;
    let found = ingest::ingest(store.content(), tar)?;
    let candidates = if found.doc("manifest.json").is_some() {
        load_docker::candidates(store, &found)?
    } else if found.doc("index.json").is_some() {
        load_oci::candidates(store, &found)?
    } else if found.doc("repositories").is_some() {
        return Err(invalid(
            "repositories",
            "an archive of Docker before 1.10 (without manifest.json) is not supported",
        ));
    } else {
        return Err(invalid(
            "archive",
            "neither manifest.json (docker-archive) nor index.json (OCI layout) found",
        ));
    };
    let pairs: Vec<(&Manifest, &ImageConfig)> = candidates
        .iter()
        .map(|c| (&c.manifest, &c.config))
        .collect();
    store
        .unpack_layers_of(&lease, &pairs)
        .map_err(|e| name_layer(e, &candidates))?;
    let mut loaded: Vec<Loaded> = Vec::new();
    for candidate in &candidates {
        let id = candidate.config.id().clone();
        if store.get(&id)?.is_some() {
            // Already here (perhaps pulled, with its registry manifest): only tagged, as
            // Docker does; its manifest stays.
            for tag in &candidate.tags {
                store.tag(&id, tag)?;
            }
        } else {
            store.register_leased(&lease, candidate.manifest.digest(), &candidate.tags, &[])?;
        }
        let tags = candidate.tags.iter().map(|t| t.clone().with_default_tag());
        match loaded.iter_mut().find(|l| l.id == id) {
            Some(image) => {
                for tag in tags {
                    if !image.tags.contains(&tag) {
                        image.tags.push(tag);
                    }
                }
            }
            None => loaded.push(Loaded {
                id,
                tags: tags.collect(),
            }),
        }
    }
    Ok(loaded)
}

/// A bad layer's error, with the archive entry it came from.
fn name_layer(e: ImageError, candidates: &[Candidate]) -> ImageError {
    let blob = match &e {
        ImageError::DiffIdMismatch { blob, .. } => blob,
        ImageError::Layer { blob, source } if source.is_invalid_layer() => blob,
        _ => return e,
    };
    for candidate in candidates {
        for (layer, entry) in candidate
            .manifest
            .layers()
            .iter()
            .zip(&candidate.layer_entries)
        {
            if layer.digest == *blob {
                return invalid(
                    entry,
                    format!(
                        "layer of {} (config {}): {e}",
                        candidate.origin,
                        candidate.config.id()
                    ),
                );
            }
        }
    }
    e
}

/// The compression of a stored layer, told from its first bytes.
pub(super) fn blob_compression(
    content: &ContentStore,
    digest: &Digest,
) -> Result<Compression, ImageError> {
    let file = content.open_blob(digest)?;
    let magic = detect_compression(&mut std::io::BufReader::with_capacity(64, file))
        .map_err(|e| ImageError::io("reading", content.blob_path(digest), e))?;
    Ok(match magic {
        Magic::None => Compression::Plain,
        Magic::Gzip => Compression::Gzip,
        Magic::Zstd => Compression::Zstd,
    })
}

/// Tags as an archive's document gives them (`busybox:latest`, or a full name); a digest
/// is no tag.
pub(super) fn parse_tag(entry: &str, what: &str, tag: &str) -> Result<Reference, ImageError> {
    let reference =
        Reference::parse(tag).map_err(|e| invalid(entry, format!("{what} {tag:?}: {e}")))?;
    if reference.digest().is_some() {
        return Err(invalid(
            entry,
            format!("{what} {tag:?}: a tag cannot have a digest"),
        ));
    }
    Ok(reference.with_default_tag())
}
