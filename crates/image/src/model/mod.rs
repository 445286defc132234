//! Image metadata documents: manifests, indexes and configs in their OCI and Docker
//! schema2 forms, the descriptors that link them, and the JSON shapes of Docker's
//! `image inspect` and `image history`.
//!
//! Documents read from elsewhere keep their exact bytes: a manifest's digest and an image's
//! id are the sha256 of those bytes, so nothing here re-serializes a document it parsed.
//! Documents made here (for import, commit, build, push) are serialized once,
//! deterministically, and then handled like any other.
//!
//! Parsing is strict where a mistake would be silent later (digests, sizes, schema
//! version, timestamps) and names the offending field: `invalid image manifest:
//! layers[1].digest: invalid digest ...`.

mod chain_id;
mod config;
mod descriptor;
mod inspect;
mod manifest;
pub mod media_types;
mod platform;
mod serde_helpers;
pub mod time;

pub use chain_id::chain_ids;
pub use config::{HealthConfig, History, ImageConfig, ImageConfigBuilder, RootFs, RunConfig};
pub use descriptor::{Descriptor, Platform};
pub use inspect::{
    GraphDriver, HistoryImage, HistoryResponseItem, ImageFacts, ImageInspect, InspectConfig,
    InspectMetadata, InspectRootFs, image_history,
};
pub use manifest::{Index, Manifest, ManifestOrIndex};
pub use media_types::Compression;
pub use platform::{host_platform, normalize_platform, select_platform};

/// A document that is not what it claims to be, or of a kind pier does not handle.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ModelError {
    /// Malformed JSON, a missing or mistyped field, or a value out of its domain. `field`
    /// is the path to the field (`layers[0].digest`), empty for the document as a whole.
    #[error("invalid {document}: {}{reason}", field_prefix(field))]
    Invalid {
        document: &'static str,
        field: String,
        reason: String,
    },
    /// A well-formed document of a kind pier does not handle (schema 1, unknown media type).
    #[error("unsupported {document}: {reason}")]
    Unsupported {
        document: &'static str,
        reason: String,
    },
}

fn field_prefix(field: &str) -> String {
    if field.is_empty() {
        String::new()
    } else {
        format!("{field}: ")
    }
}

impl ModelError {
    pub(crate) fn invalid(
        document: &'static str,
        field: impl Into<String>,
        reason: impl Into<String>,
    ) -> ModelError {
        ModelError::Invalid {
            document,
            field: field.into(),
            reason: reason.into(),
        }
    }

    pub(crate) fn unsupported(document: &'static str, reason: impl Into<String>) -> ModelError {
        ModelError::Unsupported {
            document,
            reason: reason.into(),
        }
    }
}

/// Deserializes `bytes` as one JSON value of type `T`, naming the failing field.
pub(crate) fn from_json<'de, T: serde::Deserialize<'de>>(
    document: &'static str,
    bytes: &'de [u8],
) -> Result<T, ModelError> {
    let mut de = serde_json::Deserializer::from_slice(bytes);
    let value = serde_path_to_error::deserialize(&mut de).map_err(|e| {
        let path = e.path().to_string();
        let field = if path == "." { String::new() } else { path };
        ModelError::invalid(document, field, e.into_inner().to_string())
    })?;
    de.end()
        .map_err(|e| ModelError::invalid(document, "", e.to_string()))?;
    Ok(value)
}
