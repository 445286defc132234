//! The client's errors. A daemon's refusal displays as just its message, so that the CLI
//! prints `Error response from daemon: <message>` as docker does.

use std::io;

use hyper::StatusCode;

use crate::stdcopy::StdcopyError;

#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The daemon answered with a status other than 2xx; `message` is the `message` of
    /// its JSON body (or the body's text).
    #[error("{message}")]
    Daemon { status: StatusCode, message: String },

    /// Nothing could be reached at the address. Docker's text.
    #[error("Cannot connect to the Docker daemon at {host}. Is the docker daemon running?")]
    Connect {
        host: String,
        #[source]
        source: io::Error,
    },

    #[error("invalid daemon host {host:?}: {reason}")]
    InvalidHost { host: String, reason: &'static str },

    /// The connection failed after it was made (the daemon went away mid-request, or
    /// answered something that is not HTTP).
    #[error("error during connect: {context}: {source}")]
    Transport {
        context: &'static str,
        #[source]
        source: hyper::Error,
    },

    #[error("invalid request to {path}: {source}")]
    Request {
        path: String,
        #[source]
        source: hyper::http::Error,
    },

    #[error("cannot encode the request body: {0}")]
    Encode(#[source] serde_json::Error),

    #[error("cannot decode the daemon's answer to {path}: {source}")]
    Decode {
        path: String,
        #[source]
        source: serde_json::Error,
    },

    /// The daemon accepted a hijack request but did not hand the connection over.
    #[error("cannot hijack the connection for {path}: {source}")]
    Upgrade {
        path: String,
        #[source]
        source: hyper::Error,
    },

    /// An output stream that breaks Docker's framing.
    #[error(transparent)]
    Framing(#[from] StdcopyError),

    /// An error the daemon reported inside an output stream. Docker's text.
    #[error("error from daemon in stream: {0}")]
    InStream(String),
}

impl Error {
    /// The HTTP status of a daemon's refusal.
    pub fn status(&self) -> Option<StatusCode> {
        match self {
            Self::Daemon { status, .. } => Some(*status),
            _ => None,
        }
    }

    /// True when no daemon answers at the address (no socket, or nobody listening): the
    /// case in which the CLI may start one.
    pub fn is_daemon_absent(&self) -> bool {
        match self {
            Self::Connect { source, .. } => matches!(
                source.kind(),
                io::ErrorKind::NotFound | io::ErrorKind::ConnectionRefused
            ),
            _ => false,
        }
    }

    /// True for a connection that could not be made at all, whatever the reason
    /// (including permissions).
    pub fn is_connect(&self) -> bool {
        matches!(self, Self::Connect { .. })
    }

    /// A 404 of the daemon (`No such container: ...`).
    pub fn is_not_found(&self) -> bool {
        self.status() == Some(StatusCode::NOT_FOUND)
    }
}

/// The message of an error response: Docker's `{"message": ...}`, else the body's text,
/// else what the docker client says when a route is unknown.
pub(crate) fn daemon_message(status: StatusCode, path: &str, body: &[u8]) -> String {
    if let Ok(error) = serde_json::from_slice::<crate::types::ErrorResponse>(body)
        && !error.message.is_empty()
    {
        return error.message;
    }
    let text = String::from_utf8_lossy(body);
    let text = text.trim();
    if !text.is_empty() {
        return text.to_owned();
    }
    format!(
        "request returned {} for API route and version {path}, check if the server supports the requested API version",
        status.canonical_reason().unwrap_or(status.as_str())
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn daemon_errors_display_their_message() {
        let err = Error::Daemon {
            status: StatusCode::NOT_FOUND,
            message: "No such container: x".into(),
        };
        assert_eq!(err.to_string(), "No such container: x");
        assert!(err.is_not_found());
    }

    #[test]
    fn messages_from_bodies() {
        let status = StatusCode::CONFLICT;
        assert_eq!(
            daemon_message(status, "/x", br#"{"message":"in use"}"#),
            "in use"
        );
        assert_eq!(
            daemon_message(status, "/x", b"page not found\n"),
            "page not found"
        );
        assert_eq!(
            daemon_message(StatusCode::NOT_FOUND, "/v1.45/nope", b""),
            "request returned Not Found for API route and version /v1.45/nope, check if the server supports the requested API version"
        );
    }

    #[test]
    fn absent_daemon_is_told_apart() {
        let absent = Error::Connect {
            host: "unix:///x".into(),
            source: io::Error::from(io::ErrorKind::NotFound),
        };
        assert!(absent.is_daemon_absent());
        assert_eq!(
            absent.to_string(),
            "Cannot connect to the Docker daemon at unix:///x. Is the docker daemon running?"
        );
        let denied = Error::Connect {
            host: "unix:///x".into(),
            source: io::Error::from(io::ErrorKind::PermissionDenied),
        };
        assert!(!denied.is_daemon_absent());
        assert!(denied.is_connect());
    }
}
