//! Errors of the runtime, with a kind that callers branch on.

use std::path::PathBuf;

use crate::cgroups::CgroupError;
use crate::seccomp::SeccompError;

/// What sort of failure an [`Error`] is; the API edge maps these to status codes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ErrorKind {
    /// The container (or a file the bundle names) does not exist.
    NotFound,
    /// The request conflicts with the container's current state or an existing id.
    Conflict,
    /// The bundle or the request is malformed.
    InvalidArgument,
    /// The kernel or the host refused or failed.
    System,
}

#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("container \"{0}\" does not exist")]
    NotFound(String),

    #[error("container with id exists: {0}")]
    IdInUse(String),

    #[error(
        "invalid container id {0:?}: only [a-zA-Z0-9_+.-] are allowed, and it may not start with '.'"
    )]
    InvalidId(String),

    #[error("{0}")]
    WrongState(String),

    #[error("invalid config.json: {0}")]
    InvalidSpec(String),

    #[error("{0}")]
    InvalidArgument(String),

    #[error("{context}: {source}")]
    Io {
        context: String,
        #[source]
        source: std::io::Error,
    },

    #[error("{context} {path}: {source}")]
    Path {
        context: &'static str,
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },

    #[error(transparent)]
    Cgroup(#[from] CgroupError),

    #[error(transparent)]
    Seccomp(#[from] SeccompError),

    /// A failure inside the container's setup, reported by the init process.
    #[error("{0}")]
    ContainerInit(String),

    /// The user's program could not be executed; `code` is what the process exited with
    /// (127 not found, 126 not executable), as Docker reports it.
    #[error("{message}")]
    ExecFailed { message: String, code: i32 },
}

pub type Result<T, E = Error> = std::result::Result<T, E>;

impl Error {
    pub fn kind(&self) -> ErrorKind {
        match self {
            Error::NotFound(_) => ErrorKind::NotFound,
            Error::IdInUse(_) | Error::WrongState(_) => ErrorKind::Conflict,
            Error::InvalidId(_) | Error::InvalidSpec(_) | Error::InvalidArgument(_) => {
                ErrorKind::InvalidArgument
            }
            Error::Seccomp(e) if e.is_invalid_input() => ErrorKind::InvalidArgument,
            Error::Io { .. }
            | Error::Path { .. }
            | Error::Cgroup(_)
            | Error::Seccomp(_)
            | Error::ContainerInit(_)
            | Error::ExecFailed { .. } => ErrorKind::System,
        }
    }

    pub(crate) fn io(context: impl Into<String>, source: std::io::Error) -> Self {
        Error::Io {
            context: context.into(),
            source,
        }
    }

    pub(crate) fn path(
        context: &'static str,
        path: impl Into<PathBuf>,
        source: std::io::Error,
    ) -> Self {
        Error::Path {
            context,
            path: path.into(),
            source,
        }
    }
}
