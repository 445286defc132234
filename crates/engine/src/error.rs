//! The engine's errors. Each has a kind; the API edge maps kinds to HTTP status codes in one
//! place ([`ErrorKind::status`]), and callers branch on kinds, never on messages. Messages are
//! Docker's words, since clients show them as they are.

use std::path::PathBuf;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ErrorKind {
    NotFound,
    Conflict,
    /// What is refused as it stands (removing a network in use or a predefined one): 403.
    Forbidden,
    InvalidArgument,
    /// The request asked for what already is (start a running container): 304.
    NotModified,
    Unavailable,
    Internal,
}

impl ErrorKind {
    pub fn status(self) -> u16 {
        match self {
            ErrorKind::NotFound => 404,
            ErrorKind::Conflict => 409,
            ErrorKind::Forbidden => 403,
            ErrorKind::InvalidArgument => 400,
            ErrorKind::NotModified => 304,
            ErrorKind::Unavailable => 503,
            ErrorKind::Internal => 500,
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum EngineError {
    #[error("No such container: {0}")]
    NoSuchContainer(String),
    #[error("No such exec instance: {0}")]
    NoSuchExec(String),
    #[error("{0}")]
    NotFound(String),
    #[error("{0}")]
    Conflict(String),
    #[error("{0}")]
    Forbidden(String),
    #[error("{0}")]
    InvalidArgument(String),
    #[error("{0}")]
    NotModified(String),
    /// What this daemon cannot do (yet): pulls without a registry client.
    #[error("{0}")]
    Unavailable(String),
    #[error(transparent)]
    Image(#[from] image::ImageError),
    #[error("{0}")]
    Runtime(String, ErrorKind),
    #[error(transparent)]
    Spec(#[from] crate::spec::SpecError),
    #[error("{context} {path}: {source}")]
    Io {
        context: &'static str,
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("metadata store: {0}")]
    Metadata(#[from] rusqlite::Error),
    #[error("{0}")]
    Internal(String),
}

pub type Result<T, E = EngineError> = std::result::Result<T, E>;

impl EngineError {
    pub fn io(context: &'static str, path: impl Into<PathBuf>, source: std::io::Error) -> Self {
        EngineError::Io {
            context,
            path: path.into(),
            source,
        }
    }

    pub fn kind(&self) -> ErrorKind {
        match self {
            EngineError::NoSuchContainer(_)
            | EngineError::NoSuchExec(_)
            | EngineError::NotFound(_) => ErrorKind::NotFound,
            EngineError::Conflict(_) => ErrorKind::Conflict,
            EngineError::Forbidden(_) => ErrorKind::Forbidden,
            EngineError::InvalidArgument(_) => ErrorKind::InvalidArgument,
            EngineError::NotModified(_) => ErrorKind::NotModified,
            EngineError::Unavailable(_) => ErrorKind::Unavailable,
            EngineError::Image(e) => match e.kind() {
                image::ErrorKind::NotFound => ErrorKind::NotFound,
                image::ErrorKind::Conflict => ErrorKind::Conflict,
                image::ErrorKind::InvalidArgument => ErrorKind::InvalidArgument,
                image::ErrorKind::System => ErrorKind::Internal,
            },
            EngineError::Runtime(_, kind) => *kind,
            EngineError::Spec(e) => e.error_kind(),
            EngineError::Io { .. } | EngineError::Metadata(_) | EngineError::Internal(_) => {
                ErrorKind::Internal
            }
        }
    }
}

impl From<runtime::Error> for EngineError {
    fn from(e: runtime::Error) -> Self {
        let kind = match e.kind() {
            runtime::ErrorKind::NotFound => ErrorKind::NotFound,
            runtime::ErrorKind::InvalidArgument => ErrorKind::InvalidArgument,
            runtime::ErrorKind::Conflict => ErrorKind::Conflict,
            runtime::ErrorKind::System => ErrorKind::Internal,
        };
        EngineError::Runtime(e.to_string(), kind)
    }
}

impl From<net::NetError> for EngineError {
    fn from(e: net::NetError) -> Self {
        let kind = match e.kind() {
            net::ErrorKind::NotFound => ErrorKind::NotFound,
            net::ErrorKind::Conflict => ErrorKind::Conflict,
            net::ErrorKind::InvalidArgument => ErrorKind::InvalidArgument,
            net::ErrorKind::Unavailable => ErrorKind::Unavailable,
            net::ErrorKind::Internal => ErrorKind::Internal,
        };
        EngineError::Runtime(e.to_string(), kind)
    }
}
