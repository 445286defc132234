//! Response bodies read as they arrive: raw chunks, JSON messages (events, progress), and
//! container output (stdout/stderr, demultiplexed unless the container has a terminal).

use std::marker::PhantomData;
use std::pin::Pin;
use std::task::{Context, Poll, ready};

use bytes::{Buf, Bytes, BytesMut};
use futures_util::Stream;
use hyper::body::{Body, Incoming};
use serde::de::DeserializeOwned;

use super::Error;
use crate::stdcopy::{Decoder, StreamType};

/// A response body as a stream of chunks (trailers are skipped).
#[derive(Debug)]
pub struct ByteStream {
    body: Incoming,
    done: bool,
}

impl ByteStream {
    pub fn new(body: Incoming) -> Self {
        Self { body, done: false }
    }

    /// The next chunk; `None` at the end of the body.
    pub async fn next_chunk(&mut self) -> Result<Option<Bytes>, Error> {
        std::future::poll_fn(|cx| Pin::new(&mut *self).poll_next(cx))
            .await
            .transpose()
    }
}

impl Stream for ByteStream {
    type Item = Result<Bytes, Error>;

    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        loop {
            if self.done {
                return Poll::Ready(None);
            }
            match ready!(Pin::new(&mut self.body).poll_frame(cx)) {
                None => {
                    self.done = true;
                    return Poll::Ready(None);
                }
                Some(Err(source)) => {
                    self.done = true;
                    return Poll::Ready(Some(Err(Error::Transport {
                        context: "reading the response",
                        source,
                    })));
                }
                Some(Ok(frame)) => {
                    if let Ok(data) = frame.into_data()
                        && !data.is_empty()
                    {
                        return Poll::Ready(Some(Ok(data)));
                    }
                }
            }
        }
    }
}

/// Splits a byte stream into JSON values. dockerd ends each with `\n` (or `\r\n`), but
/// values are found by parsing, so any whitespace between them, or none, is fine.
#[derive(Debug, Default)]
pub struct JsonDecoder {
    buffer: BytesMut,
}

impl JsonDecoder {
    pub fn new() -> Self {
        Self::default()
    }

    pub fn push(&mut self, chunk: &[u8]) {
        self.buffer.extend_from_slice(chunk);
    }

    /// The next whole value; `Ok(None)` until more bytes arrive.
    pub fn next_value<T: DeserializeOwned>(&mut self) -> Result<Option<T>, serde_json::Error> {
        let mut values = serde_json::Deserializer::from_slice(&self.buffer).into_iter::<T>();
        match values.next() {
            None => {
                // Only whitespace is left.
                self.buffer.clear();
                Ok(None)
            }
            Some(Ok(value)) => {
                let used = values.byte_offset();
                self.buffer.advance(used);
                Ok(Some(value))
            }
            Some(Err(error)) if error.is_eof() => Ok(None),
            Some(Err(error)) => Err(error),
        }
    }

    /// Call at the end of the stream: an error if it stopped inside a value.
    pub fn finish(&self) -> Result<(), serde_json::Error> {
        if self.buffer.iter().all(u8::is_ascii_whitespace) {
            return Ok(());
        }
        serde_json::from_slice::<serde::de::IgnoredAny>(&self.buffer).map(|_| ())
    }
}

/// A response body of JSON messages, one `T` at a time (`GET /events` gives
/// [`EventMessage`](crate::types::EventMessage)s, pulls and loads
/// [`JsonMessage`](crate::types::JsonMessage)s).
pub struct JsonStream<T> {
    bytes: ByteStream,
    decoder: JsonDecoder,
    path: String,
    failed: bool,
    _values: PhantomData<fn() -> T>,
}

impl<T: DeserializeOwned> JsonStream<T> {
    pub fn new(body: Incoming, path: impl Into<String>) -> Self {
        Self {
            bytes: ByteStream::new(body),
            decoder: JsonDecoder::new(),
            path: path.into(),
            failed: false,
            _values: PhantomData,
        }
    }

    /// The next message; `None` at the end of the stream.
    pub async fn next_message(&mut self) -> Result<Option<T>, Error> {
        std::future::poll_fn(|cx| Pin::new(&mut *self).poll_next(cx))
            .await
            .transpose()
    }

    fn decode_error(&mut self, source: serde_json::Error) -> Error {
        self.failed = true;
        Error::Decode {
            path: self.path.clone(),
            source,
        }
    }
}

impl<T: DeserializeOwned> Stream for JsonStream<T> {
    type Item = Result<T, Error>;

    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        loop {
            if self.failed {
                return Poll::Ready(None);
            }
            match self.decoder.next_value() {
                Ok(Some(value)) => return Poll::Ready(Some(Ok(value))),
                Ok(None) => {}
                Err(source) => return Poll::Ready(Some(Err(self.decode_error(source)))),
            }
            match ready!(Pin::new(&mut self.bytes).poll_next(cx)) {
                Some(Ok(chunk)) => self.decoder.push(&chunk),
                Some(Err(error)) => {
                    self.failed = true;
                    return Poll::Ready(Some(Err(error)));
                }
                None => {
                    self.failed = true;
                    return match self.decoder.finish() {
                        Ok(()) => Poll::Ready(None),
                        Err(source) => Poll::Ready(Some(Err(self.decode_error(source)))),
                    };
                }
            }
        }
    }
}

/// Container output (logs, attach, exec): `(stream, bytes)` pieces. Output of a container
/// with a terminal is one raw stream, given as stdout; other output is demultiplexed.
/// An error the daemon puts in the stream ends it as [`Error::InStream`].
pub struct OutputStream {
    bytes: ByteStream,
    decoder: Option<Decoder>,
    done: bool,
}

impl OutputStream {
    /// `multiplexed` is false for containers (or execs) with a terminal.
    pub fn new(body: Incoming, multiplexed: bool) -> Self {
        Self {
            bytes: ByteStream::new(body),
            decoder: multiplexed.then(Decoder::new),
            done: false,
        }
    }

    /// The next piece of output; `None` at the end.
    pub async fn next_output(&mut self) -> Result<Option<(StreamType, Bytes)>, Error> {
        std::future::poll_fn(|cx| Pin::new(&mut *self).poll_next(cx))
            .await
            .transpose()
    }
}

impl Stream for OutputStream {
    type Item = Result<(StreamType, Bytes), Error>;

    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        let this = &mut *self;
        loop {
            if this.done {
                return Poll::Ready(None);
            }
            if let Some(decoder) = &mut this.decoder {
                match decoder.next_frame() {
                    Ok(Some((StreamType::SystemError, message))) => {
                        this.done = true;
                        let message = String::from_utf8_lossy(&message).into_owned();
                        return Poll::Ready(Some(Err(Error::InStream(message))));
                    }
                    Ok(Some(frame)) => return Poll::Ready(Some(Ok(frame))),
                    Ok(None) => {}
                    Err(error) => {
                        this.done = true;
                        return Poll::Ready(Some(Err(error.into())));
                    }
                }
            }
            match ready!(Pin::new(&mut this.bytes).poll_next(cx)) {
                Some(Ok(chunk)) => match &mut this.decoder {
                    Some(decoder) => decoder.push(&chunk),
                    None => return Poll::Ready(Some(Ok((StreamType::Stdout, chunk)))),
                },
                Some(Err(error)) => {
                    this.done = true;
                    return Poll::Ready(Some(Err(error)));
                }
                None => {
                    this.done = true;
                    if let Some(decoder) = &this.decoder
                        && let Err(error) = decoder.finish()
                    {
                        return Poll::Ready(Some(Err(error.into())));
                    }
                    return Poll::Ready(None);
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::types::JsonMessage;

    #[test]
    fn json_values_split_anywhere() {
        let wire = concat!(
            "{\"status\":\"Pulling fs layer\",\"id\":\"a\"}\r\n",
            "{\"status\":\"Downloading\",\"progressDetail\":{\"current\":1,\"total\":2},\"id\":\"a\"}\n",
            "{\"stream\":\"{not json}\\n\"}{\"status\":\"Done\"}\n"
        )
        .as_bytes();
        for split in 1..wire.len() {
            let mut decoder = JsonDecoder::new();
            let mut got: Vec<JsonMessage> = Vec::new();
            for chunk in wire.chunks(split) {
                decoder.push(chunk);
                while let Some(message) = decoder.next_value().unwrap() {
                    got.push(message);
                }
            }
            decoder.finish().unwrap();
            let statuses: Vec<&str> = got.iter().map(|m| m.status.as_str()).collect();
            assert_eq!(
                statuses,
                ["Pulling fs layer", "Downloading", "", "Done"],
                "chunks of {split}"
            );
            assert_eq!(got[2].stream, "{not json}\n");
        }
    }

    #[test]
    fn json_garbage_and_truncation_are_errors() {
        let mut decoder = JsonDecoder::new();
        decoder.push(b"{\"status\":1} nope");
        assert!(decoder.next_value::<serde_json::Value>().unwrap().is_some());
        assert!(decoder.next_value::<serde_json::Value>().is_err());

        let mut decoder = JsonDecoder::new();
        decoder.push(b"{\"status\":\"x\"");
        assert!(decoder.next_value::<serde_json::Value>().unwrap().is_none());
        assert!(decoder.finish().is_err());
    }
}
