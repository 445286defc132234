//! Hijacked connections (attach, exec start): after the response head, the connection is
//! a raw two-way byte stream: stdin goes in, output (multiplexed unless there is a
//! terminal) comes out.

use std::io;
use std::pin::Pin;
use std::task::{Context, Poll, ready};

use bytes::{Buf, Bytes};
use hyper::body::{Body, Incoming};
use hyper::upgrade::Upgraded;
use hyper_util::rt::TokioIo;
use tokio::io::{AsyncRead, AsyncWrite, AsyncWriteExt, ReadBuf};

/// A hijacked connection. Read output from it and write input to it; [`close_write`]
/// (or `AsyncWriteExt::shutdown`) ends the input while output keeps coming.
/// `tokio::io::split` gives separate halves.
///
/// A daemon answers a hijack with `101 Switching Protocols` (every dockerd since API
/// 1.24, and pier). One that answers `200` streams its output as the body of the
/// response and takes no input: writes then fail with `Unsupported`.
///
/// [`close_write`]: Hijacked::close_write
pub struct Hijacked {
    inner: Inner,
    content_type: Option<String>,
}

enum Inner {
    Upgraded(TokioIo<Upgraded>),
    ReadOnly { body: Incoming, pending: Bytes },
}

impl Hijacked {
    pub(crate) fn upgraded(io: Upgraded, content_type: Option<String>) -> Self {
        Self {
            inner: Inner::Upgraded(TokioIo::new(io)),
            content_type,
        }
    }

    pub(crate) fn read_only(body: Incoming, content_type: Option<String>) -> Self {
        Self {
            inner: Inner::ReadOnly {
                body,
                pending: Bytes::new(),
            },
            content_type,
        }
    }

    /// The response's `Content-Type`: `application/vnd.docker.multiplexed-stream` or
    /// `application/vnd.docker.raw-stream` (dockerd before API 1.42 always says raw).
    pub fn content_type(&self) -> Option<&str> {
        self.content_type.as_deref()
    }

    /// Ends the input (a half-close: shutdown of the write side only).
    pub async fn close_write(&mut self) -> io::Result<()> {
        self.shutdown().await
    }
}

impl std::fmt::Debug for Hijacked {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let kind = match self.inner {
            Inner::Upgraded(_) => "upgraded",
            Inner::ReadOnly { .. } => "read-only",
        };
        f.debug_struct("Hijacked")
            .field("kind", &kind)
            .field("content_type", &self.content_type)
            .finish()
    }
}

impl AsyncRead for Hijacked {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        match &mut self.get_mut().inner {
            Inner::Upgraded(io) => Pin::new(io).poll_read(cx, buf),
            Inner::ReadOnly { body, pending } => loop {
                if !pending.is_empty() {
                    let n = pending.len().min(buf.remaining());
                    buf.put_slice(&pending[..n]);
                    pending.advance(n);
                    return Poll::Ready(Ok(()));
                }
                match ready!(Pin::new(&mut *body).poll_frame(cx)) {
                    None => return Poll::Ready(Ok(())),
                    Some(Err(error)) => return Poll::Ready(Err(io::Error::other(error))),
                    Some(Ok(frame)) => {
                        if let Ok(data) = frame.into_data() {
                            *pending = data;
                        }
                    }
                }
            },
        }
    }
}

fn no_input() -> io::Error {
    io::Error::new(
        io::ErrorKind::Unsupported,
        "the daemon did not upgrade the connection: it takes no input",
    )
}

impl AsyncWrite for Hijacked {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        match &mut self.get_mut().inner {
            Inner::Upgraded(io) => Pin::new(io).poll_write(cx, buf),
            Inner::ReadOnly { .. } => Poll::Ready(Err(no_input())),
        }
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        match &mut self.get_mut().inner {
            Inner::Upgraded(io) => Pin::new(io).poll_flush(cx),
            Inner::ReadOnly { .. } => Poll::Ready(Ok(())),
        }
    }

    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        match &mut self.get_mut().inner {
            Inner::Upgraded(io) => Pin::new(io).poll_shutdown(cx),
            Inner::ReadOnly { .. } => Poll::Ready(Ok(())),
        }
    }
}
