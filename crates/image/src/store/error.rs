//! Errors of the image store, each with a kind the API edge turns into a status code.

use std::path::PathBuf;

use crate::content::ContentError;
use crate::digest::Digest;
use crate::layer::LayerError;
use crate::meta::MetaError;
use crate::model::ModelError;
use crate::reference::ReferenceError;
use crate::snapshot::SnapshotError;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ErrorKind {
    NotFound,
    Conflict,
    InvalidArgument,
    System,
}

#[derive(Debug, thiserror::Error)]
pub enum ImageError {
    #[error("No such image: {0}")]
    NotFound(String),
    #[error("multiple IDs found with provided prefix: {0}")]
    Ambiguous(String),
    /// Docker's words, e.g. "conflict: unable to delete 1a2b3c4d5e6f (must be forced) - ...".
    #[error("{0}")]
    Conflict(String),
    #[error(transparent)]
    InvalidReference(#[from] ReferenceError),
    #[error("{0}")]
    InvalidArgument(String),
    #[error(transparent)]
    Model(#[from] ModelError),
    #[error(transparent)]
    Content(#[from] ContentError),
    #[error("layer {blob}: {source}")]
    Layer {
        blob: Digest,
        #[source]
        source: LayerError,
    },
    #[error("layer {blob} unpacks to diff_id {actual}, but the image config says {expected}")]
    DiffIdMismatch {
        blob: Digest,
        expected: Digest,
        actual: Digest,
    },
    #[error(transparent)]
    Snapshot(#[from] SnapshotError),
    #[error(transparent)]
    Meta(#[from] MetaError),
    #[error("{context} {path}: {source}")]
    Io {
        context: &'static str,
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
}

impl ImageError {
    pub fn kind(&self) -> ErrorKind {
        match self {
            ImageError::NotFound(_) => ErrorKind::NotFound,
            ImageError::Conflict(_) => ErrorKind::Conflict,
            ImageError::Ambiguous(_)
            | ImageError::InvalidReference(_)
            | ImageError::InvalidArgument(_)
            | ImageError::Model(_)
            | ImageError::DiffIdMismatch { .. } => ErrorKind::InvalidArgument,
            ImageError::Content(
                ContentError::DigestMismatch { .. } | ContentError::SizeMismatch { .. },
            ) => ErrorKind::InvalidArgument,
            ImageError::Layer { source, .. } if source.is_invalid_layer() => {
                ErrorKind::InvalidArgument
            }
            ImageError::Content(ContentError::NotFound(_)) => ErrorKind::NotFound,
            _ => ErrorKind::System,
        }
    }

    pub(crate) fn io(
        context: &'static str,
        path: impl Into<PathBuf>,
        source: std::io::Error,
    ) -> Self {
        ImageError::Io {
            context,
            path: path.into(),
            source,
        }
    }
}
