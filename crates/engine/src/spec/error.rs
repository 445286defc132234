//! What can go wrong turning a create body into a runtime spec. Messages are Docker's words
//! (clients show them as they are); [`SpecError::kind`] is what the API edge maps to a status.

use std::path::PathBuf;

use crate::error::ErrorKind;

#[derive(Debug, thiserror::Error)]
pub enum SpecError {
    /// The request asks for something invalid: 400.
    #[error("{0}")]
    InvalidArgument(String),
    /// Something the request names does not exist.
    #[error("{0}")]
    NotFound(String),
    /// Reading the host or the rootfs failed.
    #[error("{context} {}: {source}", path.display())]
    Io {
        context: &'static str,
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    /// The engine handed over something it should have resolved first.
    #[error("{0}")]
    Internal(String),
}

impl SpecError {
    pub fn kind(&self) -> ErrorKind {
        match self {
            SpecError::InvalidArgument(_) => ErrorKind::InvalidArgument,
            SpecError::NotFound(_) => ErrorKind::NotFound,
            SpecError::Io { .. } | SpecError::Internal(_) => ErrorKind::Internal,
        }
    }

    /// The same as [`SpecError::kind`], under the name the engine's error mapping uses.
    pub fn error_kind(&self) -> ErrorKind {
        self.kind()
    }

    pub(crate) fn invalid(message: impl Into<String>) -> SpecError {
        SpecError::InvalidArgument(message.into())
    }

    pub(crate) fn io(
        context: &'static str,
        path: impl Into<PathBuf>,
        source: std::io::Error,
    ) -> SpecError {
        SpecError::Io {
            context,
            path: path.into(),
            source,
        }
    }
}

pub type Result<T, E = SpecError> = std::result::Result<T, E>;
