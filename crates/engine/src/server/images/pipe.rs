//! Bridges between HTTP bodies and the blocking readers and writers of the image store:
//! a request body read as a `std::io::Read` on a blocking thread, and a response body fed by
//! a `std::io::Write` on one. Both go through small bounded channels, so an archive streams
//! through at the pace of its slower side and is never held whole.

use std::io::{self, Read, Write};

use axum::body::{Body, Bytes};
use axum::http::{StatusCode, header};
use axum::response::Response;
use futures_util::StreamExt;
use tokio::sync::mpsc;

use crate::error::EngineError;
use crate::server::error::{ApiError, ApiResult};

/// Chunks in flight between the two sides.
const DEPTH: usize = 8;
/// Bytes a writer gathers before sending them on.
const CHUNK: usize = 64 * 1024;

/// A request body as a blocking reader. Dropping it stops the copying of the body.
pub struct BodyReader {
    chunks: mpsc::Receiver<io::Result<Bytes>>,
    current: Bytes,
}

/// Starts copying `body` into a reader for a blocking thread (call from the async side).
pub fn body_reader(body: Body) -> BodyReader {
    let (sender, chunks) = mpsc::channel(DEPTH);
    tokio::spawn(async move {
        let mut stream = body.into_data_stream();
        while let Some(chunk) = stream.next().await {
            let chunk = chunk.map_err(io::Error::other);
            let failed = chunk.is_err();
            if sender.send(chunk).await.is_err() || failed {
                break;
            }
        }
    });
    BodyReader {
        chunks,
        current: Bytes::new(),
    }
}

impl Read for BodyReader {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        while self.current.is_empty() {
            match self.chunks.blocking_recv() {
                Some(chunk) => self.current = chunk?,
                None => return Ok(0),
            }
        }
        let n = buf.len().min(self.current.len());
        buf[..n].copy_from_slice(&self.current.split_to(n));
        Ok(n)
    }
}

/// A blocking writer whose bytes become a response body.
pub struct ChannelWriter {
    sender: mpsc::Sender<Result<Bytes, EngineError>>,
    buffer: Vec<u8>,
}

impl ChannelWriter {
    fn send(&mut self) -> io::Result<()> {
        if self.buffer.is_empty() {
            return Ok(());
        }
        let chunk = Bytes::from(std::mem::replace(
            &mut self.buffer,
            Vec::with_capacity(CHUNK),
        ));
        self.sender
            .blocking_send(Ok(chunk))
            .map_err(|_| io::Error::new(io::ErrorKind::BrokenPipe, "the client went away"))
    }
}

impl Write for ChannelWriter {
    fn write(&mut self, data: &[u8]) -> io::Result<usize> {
        self.buffer.extend_from_slice(data);
        if self.buffer.len() >= CHUNK {
            self.send()?;
        }
        Ok(data.len())
    }

    fn flush(&mut self) -> io::Result<()> {
        self.send()
    }
}

/// Runs `work` on a blocking thread, writing the response body. An error before the first
/// chunk goes out is an error response; one after it cuts the body off (the client sees a
/// truncated stream, as with Docker).
pub async fn streamed_response<F>(content_type: &'static str, work: F) -> ApiResult<Response>
where
    F: FnOnce(&mut ChannelWriter) -> crate::Result<()> + Send + 'static,
{
    let (sender, mut chunks) = mpsc::channel(DEPTH);
    let errors = sender.clone();
    tokio::task::spawn_blocking(move || {
        let mut writer = ChannelWriter {
            sender,
            buffer: Vec::with_capacity(CHUNK),
        };
        let result = work(&mut writer).and_then(|()| {
            writer
                .send()
                .map_err(|e| EngineError::Internal(format!("writing the response: {e}")))
        });
        if let Err(e) = result {
            let _ = errors.blocking_send(Err(e));
        }
    });
    let first = match chunks.recv().await {
        Some(Ok(chunk)) => chunk,
        Some(Err(e)) => return Err(e.into()),
        None => Bytes::new(),
    };
    let rest = futures_util::stream::unfold(chunks, |mut chunks| async move {
        let item = chunks.recv().await?;
        Some((item.map_err(|e| io::Error::other(e.to_string())), chunks))
    });
    let body = futures_util::stream::once(async move { Ok::<_, io::Error>(first) }).chain(rest);
    Response::builder()
        .status(StatusCode::OK)
        .header(header::CONTENT_TYPE, content_type)
        .body(Body::from_stream(body))
        .map_err(|e| ApiError::new(StatusCode::INTERNAL_SERVER_ERROR, e.to_string()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn bodies_stream_both_ways() {
        let data: Vec<u8> = (0..300_000u32).map(|i| (i % 251) as u8).collect();
        let expected = data.clone();
        let reader = body_reader(Body::from(data));
        let copied = tokio::task::spawn_blocking(move || {
            let mut reader = reader;
            let mut out = Vec::new();
            reader.read_to_end(&mut out).unwrap();
            out
        })
        .await
        .unwrap();
        assert_eq!(copied, expected);

        let response = streamed_response("application/x-tar", move |w| {
            w.write_all(&copied)
                .map_err(|e| EngineError::Internal(e.to_string()))
        })
        .await
        .unwrap();
        let body = axum::body::to_bytes(response.into_body(), usize::MAX)
            .await
            .unwrap();
        assert_eq!(body.as_ref(), expected.as_slice());
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn an_error_before_any_output_is_an_error_response() {
        let result = streamed_response("application/x-tar", |_| {
            Err(EngineError::NotFound("No such image: x".into()))
        })
        .await;
        let error = result.unwrap_err();
        assert_eq!(error.status, StatusCode::NOT_FOUND);
        assert_eq!(error.message, "No such image: x");
    }
}
