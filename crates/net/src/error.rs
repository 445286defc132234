//! The crate's errors. Each has a kind that the engine maps to an HTTP status in one place;
//! callers branch on kinds, never on messages. Messages are Docker's words where Docker has
//! words for the case, since clients print them as they are.

use std::path::PathBuf;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ErrorKind {
    NotFound,
    /// Something is taken: a port, an address, an overlapping subnet.
    Conflict,
    InvalidArgument,
    /// Nothing left to hand out (addresses, subnets) or a tool is missing.
    Unavailable,
    /// The kernel or `nft` refused what should have worked.
    Internal,
}

#[derive(Debug, thiserror::Error)]
pub enum NetError {
    #[error("{0}")]
    InvalidArgument(String),
    #[error("{0}")]
    Conflict(String),
    #[error("{0}")]
    NotFound(String),
    #[error("{0}")]
    Unavailable(String),
    #[error("{context}: {source}")]
    Netlink {
        context: String,
        #[source]
        source: rtnetlink::Error,
    },
    #[error("nftables: {0}")]
    Firewall(String),
    #[error("{context} {path}: {source}")]
    Io {
        context: &'static str,
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("{context}: {source}")]
    Sys {
        context: String,
        #[source]
        source: std::io::Error,
    },
    /// Best-effort teardown: every step was tried, these failed.
    #[error("{}", join_errors(.0))]
    Several(Vec<NetError>),
}

fn join_errors(errors: &[NetError]) -> String {
    errors
        .iter()
        .map(ToString::to_string)
        .collect::<Vec<_>>()
        .join("; ")
}

pub type Result<T, E = NetError> = std::result::Result<T, E>;

impl NetError {
    pub fn io(context: &'static str, path: impl Into<PathBuf>, source: std::io::Error) -> Self {
        NetError::Io {
            context,
            path: path.into(),
            source,
        }
    }

    pub fn sys(context: impl Into<String>, source: std::io::Error) -> Self {
        NetError::Sys {
            context: context.into(),
            source,
        }
    }

    pub fn netlink(context: impl Into<String>, source: rtnetlink::Error) -> Self {
        NetError::Netlink {
            context: context.into(),
            source,
        }
    }

    pub fn kind(&self) -> ErrorKind {
        match self {
            NetError::InvalidArgument(_) => ErrorKind::InvalidArgument,
            NetError::Conflict(_) => ErrorKind::Conflict,
            NetError::NotFound(_) => ErrorKind::NotFound,
            NetError::Unavailable(_) => ErrorKind::Unavailable,
            NetError::Several(errors) => errors
                .first()
                .map(NetError::kind)
                .unwrap_or(ErrorKind::Internal),
            NetError::Netlink { .. }
            | NetError::Firewall(_)
            | NetError::Io { .. }
            | NetError::Sys { .. } => ErrorKind::Internal,
        }
    }

    /// Folds the failures of a best-effort sequence into one result.
    pub fn collect(mut errors: Vec<NetError>) -> Result<()> {
        match errors.len() {
            0 => Ok(()),
            1 => Err(errors.remove(0)),
            _ => Err(NetError::Several(errors)),
        }
    }
}
