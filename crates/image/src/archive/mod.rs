//! Image archives: what `docker save` writes and `docker load` reads, and OCI image layouts.
//!
//! **Load** ([`load`]) reads one tar stream (plain, gzip or zstd) once. It takes three
//! shapes: the docker-archive of Docker 20.10 (`manifest.json`, `<config>.json`,
//! `<v1 id>/layer.tar`; also what podman and skopeo write, with `<digest>.tar` layers), the
//! docker-archive of Docker 25 and later (an OCI layout with a `manifest.json` beside it),
//! and an OCI image layout (`oci-layout`, `index.json`, `blobs/sha256/...`). Every regular
//! file goes straight into the content store as it streams, hashed on the way; files under
//! `blobs/sha256/` must hash to their names. Only `manifest.json`, `index.json`, `oci-layout`
//! and `repositories` stay in memory, each at most 8 MiB. Then each image gets a manifest (a
//! docker-archive has none: one is made, OCI, of the stored layers and config), all their
//! layers are unpacked and checked against the configs' diff_ids, and only when every image
//! of the archive is good are they recorded, with their tags. An image's id is its config's
//! sha256, as Docker's is.
//!
//! Hostile archives are refused with an [`ImageError::InvalidArgument`] that names the
//! entry: paths that are absolute or climb with `..`, symlinks other than the in-archive
//! `layer.tar` links Docker writes for repeated layers, hard links and devices, entries in
//! places the formats do not have, blobs that do not match their names, configs whose
//! diff_ids do not match their layers, and references to files the archive lacks. Nothing
//! is recorded then; the blobs already stored are unreferenced, and the next garbage
//! collection removes them.
//!
//! **Save** writes the same formats: [`save_docker`] the docker-archive of Docker 20.10
//! (readable by `docker load`, `podman load` and `skopeo`), with Docker's legacy v1 layer
//! ids (see `legacy`); [`save_oci_archive`] and [`save_oci_dir`] an OCI image layout, as a
//! tar or a directory, with the stored manifests, configs and layers as they are. Output is
//! deterministic (sorted entries, fixed owners, modes and times), and layers stream from the
//! content store, never whole in memory.
//!
//! | module | what it does |
//! |---|---|
//! | `detect` | the archive's own compression |
//! | `ingest` | the one pass over the tar: paths checked, files into the store |
//! | `load` | [`load`]: the images found, verified, then recorded |
//! | `load_docker` | images of a `manifest.json` |
//! | `load_oci` | images of an OCI layout's `index.json` |
//! | `select` | which images and tags a save means (`docker save`'s rules) |
//! | `legacy` | Docker's v1 layer ids and `json` files, byte for byte as Go writes them |
//! | `save_docker` | [`save_docker`] |
//! | `save_oci` | [`save_oci_archive`], [`save_oci_dir`] |
//! | `tarwrite` | deterministic tar entries |

mod detect;
mod ingest;
mod legacy;
mod load;
mod load_docker;
mod load_oci;
mod save_docker;
mod save_oci;
mod select;
mod tarwrite;

#[cfg(test)]
mod tests;

pub use load::{Loaded, load};
pub use save_docker::save_docker;
pub use save_oci::{save_oci_archive, save_oci_dir};

use crate::store::ImageError;

/// Documents kept in memory while loading, and blobs read whole (manifests, configs).
const DOCUMENT_LIMIT: u64 = 8 << 20;

/// OCI annotation: the reference (or just the tag) an index entry is known by.
const REF_NAME: &str = "org.opencontainers.image.ref.name";
/// containerd's annotation (written by Docker 25 and containerd): the image's full name.
const CONTAINERD_NAME: &str = "io.containerd.image.name";

/// An archive that is not what it should be, with the entry at fault.
fn invalid(entry: &str, why: impl std::fmt::Display) -> ImageError {
    ImageError::InvalidArgument(format!("invalid image archive: {entry}: {why}"))
}
