//! Docker's multiplexed stream framing, used for logs, attach and exec output of containers
//! without a terminal: each frame is an 8-byte header (the stream: 0 stdin, 1 stdout,
//! 2 stderr, 3 an error of the daemon's; three zero bytes; the payload's length as a
//! big-endian u32) followed by the payload.

use bytes::{Buf, Bytes, BytesMut};

/// Length of a frame header.
pub const HEADER_LEN: usize = 8;

/// Which stream a frame belongs to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[repr(u8)]
pub enum StreamType {
    Stdin = 0,
    Stdout = 1,
    Stderr = 2,
    /// An error the daemon met while streaming; its payload is the message
    /// (dockerd's `Systemerr`).
    SystemError = 3,
}

impl StreamType {
    fn from_byte(byte: u8) -> Option<Self> {
        match byte {
            0 => Some(Self::Stdin),
            1 => Some(Self::Stdout),
            2 => Some(Self::Stderr),
            3 => Some(Self::SystemError),
            _ => None,
        }
    }
}

/// A stream that does not follow the framing.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum StdcopyError {
    /// The text is the Docker client's.
    #[error("Unrecognized input header: {0}")]
    UnknownStream(u8),
    /// The stream ended inside a frame.
    #[error("multiplexed stream ended inside a frame ({0} bytes left over)")]
    Truncated(usize),
}

/// The header of a frame of `len` payload bytes.
pub fn header(stream: StreamType, len: u32) -> [u8; HEADER_LEN] {
    let [a, b, c, d] = len.to_be_bytes();
    [stream as u8, 0, 0, 0, a, b, c, d]
}

/// Appends `payload` to `out` as frames of `stream` (more than one only for payloads over
/// 4 GiB). An empty payload writes nothing: a zero-length frame carries no data.
pub fn encode_into(stream: StreamType, payload: &[u8], out: &mut Vec<u8>) {
    for part in payload.chunks(u32::MAX as usize) {
        // chunks() never yields more than u32::MAX bytes.
        let len = u32::try_from(part.len()).unwrap_or(u32::MAX);
        out.extend_from_slice(&header(stream, len));
        out.extend_from_slice(part);
    }
}

/// `payload` framed for `stream`.
pub fn encode(stream: StreamType, payload: &[u8]) -> Bytes {
    let mut out = Vec::with_capacity(HEADER_LEN + payload.len());
    encode_into(stream, payload, &mut out);
    Bytes::from(out)
}

/// An incremental decoder: feed it bytes as they arrive, in chunks of any size, and take
/// whole frames out.
#[derive(Debug, Default)]
pub struct Decoder {
    buffer: BytesMut,
}

impl Decoder {
    pub fn new() -> Self {
        Self::default()
    }

    /// Adds received bytes.
    pub fn push(&mut self, chunk: &[u8]) {
        self.buffer.extend_from_slice(chunk);
    }

    /// The next whole frame, or `None` until more bytes arrive. Zero-length frames are
    /// skipped. After an error the decoder is stuck on the bad header: stop reading.
    pub fn next_frame(&mut self) -> Result<Option<(StreamType, Bytes)>, StdcopyError> {
        loop {
            if self.buffer.len() < HEADER_LEN {
                return Ok(None);
            }
            let stream = StreamType::from_byte(self.buffer[0])
                .ok_or(StdcopyError::UnknownStream(self.buffer[0]))?;
            let len_bytes = [
                self.buffer[4],
                self.buffer[5],
                self.buffer[6],
                self.buffer[7],
            ];
            let len = u32::from_be_bytes(len_bytes) as usize;
            if self.buffer.len() < HEADER_LEN + len {
                // Reserve for the rest of the frame, bounded so that a lying header cannot
                // make us allocate gigabytes ahead of the data.
                let missing = HEADER_LEN + len - self.buffer.len();
                self.buffer.reserve(missing.min(1 << 20));
                return Ok(None);
            }
            self.buffer.advance(HEADER_LEN);
            let payload = self.buffer.split_to(len).freeze();
            if !payload.is_empty() {
                return Ok(Some((stream, payload)));
            }
        }
    }

    /// Call at the end of the stream: an error if it stopped inside a frame.
    pub fn finish(&self) -> Result<(), StdcopyError> {
        if self.buffer.is_empty() {
            Ok(())
        } else {
            Err(StdcopyError::Truncated(self.buffer.len()))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn drain(decoder: &mut Decoder) -> Vec<(StreamType, Vec<u8>)> {
        let mut frames = Vec::new();
        while let Some((stream, payload)) = decoder.next_frame().unwrap() {
            frames.push((stream, payload.to_vec()));
        }
        frames
    }

    #[test]
    fn header_layout() {
        assert_eq!(
            header(StreamType::Stderr, 0x0102_0304),
            [2, 0, 0, 0, 1, 2, 3, 4]
        );
        let framed = encode(StreamType::Stdout, b"hi");
        assert_eq!(&framed[..], b"\x01\x00\x00\x00\x00\x00\x00\x02hi");
        assert!(encode(StreamType::Stdout, b"").is_empty());
    }

    #[test]
    fn decodes_frames_split_at_every_byte() {
        let mut wire = Vec::new();
        encode_into(StreamType::Stdout, b"hello\n", &mut wire);
        encode_into(StreamType::Stderr, b"oops", &mut wire);
        wire.extend_from_slice(&header(StreamType::Stdout, 0));
        encode_into(StreamType::Stdout, b"bye", &mut wire);
        let want = vec![
            (StreamType::Stdout, b"hello\n".to_vec()),
            (StreamType::Stderr, b"oops".to_vec()),
            (StreamType::Stdout, b"bye".to_vec()),
        ];
        for split in 1..wire.len() {
            let mut decoder = Decoder::new();
            let mut got = Vec::new();
            for chunk in wire.chunks(split) {
                decoder.push(chunk);
                got.extend(drain(&mut decoder));
            }
            assert_eq!(got, want, "chunks of {split}");
            decoder.finish().unwrap();
        }
    }

    #[test]
    fn split_header_waits_for_the_rest() {
        let wire = encode(StreamType::Stderr, b"abc");
        let mut decoder = Decoder::new();
        decoder.push(&wire[..3]);
        assert_eq!(decoder.next_frame().unwrap(), None);
        decoder.push(&wire[3..9]);
        assert_eq!(decoder.next_frame().unwrap(), None);
        assert_eq!(decoder.finish(), Err(StdcopyError::Truncated(9)));
        decoder.push(&wire[9..]);
        assert_eq!(
            decoder.next_frame().unwrap(),
            Some((StreamType::Stderr, Bytes::from_static(b"abc")))
        );
        assert_eq!(decoder.finish(), Ok(()));
    }

    #[test]
    fn unknown_stream_is_an_error() {
        let mut decoder = Decoder::new();
        decoder.push(b"\x07\x00\x00\x00\x00\x00\x00\x01x");
        let err = decoder.next_frame().unwrap_err();
        assert_eq!(err.to_string(), "Unrecognized input header: 7");
    }

    #[test]
    fn system_error_frames_are_kept_apart() {
        let mut decoder = Decoder::new();
        decoder.push(&encode(StreamType::SystemError, b"boom"));
        assert_eq!(
            drain(&mut decoder),
            vec![(StreamType::SystemError, b"boom".to_vec())]
        );
    }

    #[test]
    fn a_lying_length_does_not_allocate_it() {
        let mut decoder = Decoder::new();
        decoder.push(&header(StreamType::Stdout, u32::MAX));
        assert_eq!(decoder.next_frame().unwrap(), None);
        assert!(decoder.buffer.capacity() < 4 << 20);
    }
}
