//! pier's images.
//!
//! Owns images as content-addressed data and containers' root filesystems made from them:
//! the content store (blobs by digest, written atomically and verified), image manifests,
//! indexes and configs (OCI and Docker schema2), layers (applying a layer tar into a
//! directory with overlayfs whiteouts, and the reverse diff), overlay snapshots for
//! containers, and the archive formats of `docker save` and OCI layouts.
//!
//! It never runs containers, never speaks HTTP, and never touches the network.

pub mod archive;
pub mod content;
pub mod digest;
pub mod layer;
mod meta;
pub mod model;
pub mod reference;
pub mod snapshot;
pub mod store;
#[cfg(test)]
mod test_support;

pub use digest::Digest;
pub use store::{ErrorKind, ImageError, ImageRecord, ImageStore};
