//! Request bodies: nothing, JSON, bytes, or a stream (image archives, build contexts),
//! each with the `Content-Type` it is sent with.

use std::io;

use bytes::Bytes;
use futures_util::{Stream, TryStreamExt};
use http_body_util::combinators::UnsyncBoxBody;
use http_body_util::{BodyExt, Empty, Full, StreamBody};
use hyper::body::Frame;
use serde::Serialize;

use super::Error;

/// The body of a request.
pub struct RequestBody {
    pub(crate) inner: UnsyncBoxBody<Bytes, io::Error>,
    pub(crate) content_type: Option<&'static str>,
}

impl RequestBody {
    /// No body.
    pub fn empty() -> Self {
        Self {
            inner: Empty::new().map_err(|never| match never {}).boxed_unsync(),
            content_type: None,
        }
    }

    /// `value` as JSON, sent as `application/json` (which dockerd requires of JSON bodies).
    pub fn json<T: Serialize + ?Sized>(value: &T) -> Result<Self, Error> {
        let bytes = serde_json::to_vec(value).map_err(Error::Encode)?;
        Ok(Self::bytes(bytes, "application/json"))
    }

    /// Bytes already in memory.
    pub fn bytes(bytes: impl Into<Bytes>, content_type: &'static str) -> Self {
        Self {
            inner: Full::new(bytes.into())
                .map_err(|never| match never {})
                .boxed_unsync(),
            content_type: Some(content_type),
        }
    }

    /// A body read as it is sent, chunked (`application/x-tar` for archives).
    pub fn stream<S>(chunks: S, content_type: &'static str) -> Self
    where
        S: Stream<Item = io::Result<Bytes>> + Send + 'static,
    {
        Self {
            inner: StreamBody::new(chunks.map_ok(Frame::data)).boxed_unsync(),
            content_type: Some(content_type),
        }
    }
}

impl Default for RequestBody {
    fn default() -> Self {
        Self::empty()
    }
}

impl std::fmt::Debug for RequestBody {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RequestBody")
            .field("content_type", &self.content_type)
            .finish_non_exhaustive()
    }
}
