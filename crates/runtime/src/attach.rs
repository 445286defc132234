//! The attach protocol: how a client (the engine) joins a container's stdio through its shim.
//!
//! A container created with managed stdio has a unix socket, [`ATTACH_SOCKET`] in its state
//! directory (`Runtime::attach_socket`). It accepts connections from creation until the
//! container's process ends, so a client can attach before `start` and miss nothing.
//!
//! 1. The client sends one line of JSON, an [`AttachRequest`]:
//!    `{"stdin":true,"stdout":true,"stderr":false}\n`.
//! 2. The shim answers one line, an [`AttachReply`]: `{"ok":true}\n`, or
//!    `{"error":"..."}\n` and closes.
//! 3. The shim then sends the container's output from that moment on (no history: that is
//!    the log) as Docker's multiplexed frames: an 8-byte header (stream byte 1 = stdout,
//!    2 = stderr, three zero bytes, payload length as u32 big-endian) and the payload; only
//!    the streams asked for. With a terminal all output is stream 1 (Docker's API then sends
//!    it raw: the engine strips the headers).
//! 4. If the client asked for stdin and the container keeps stdin open (`--stdin`), the bytes
//!    it sends after its request line go to the container's stdin, raw. When it shuts down
//!    its write side, its stdin ends; if the container was created with `--stdin-once`, the
//!    container's stdin is closed then (with a terminal: end-of-file, ^D, is typed).
//!    Otherwise bytes it sends are read and dropped.
//! 5. A client that does not read falls behind: once 1 MiB of output waits for it, the shim
//!    disconnects it rather than hold up the container or the log.
//! 6. When the container's process ends, the shim reads the rest of its output, sends it,
//!    and closes every attach connection, all before it records the exit: a client that
//!    saw end-of-file has every byte the container wrote.

use serde::{Deserialize, Serialize};

pub use crate::state::ATTACH_SOCKET;

/// The client's first line: which streams it wants.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct AttachRequest {
    #[serde(default)]
    pub stdin: bool,
    #[serde(default)]
    pub stdout: bool,
    #[serde(default)]
    pub stderr: bool,
}

/// The shim's answer to an [`AttachRequest`].
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct AttachReply {
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub ok: bool,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
}

/// Stream byte of a frame carrying stdout (and all output of a terminal).
pub const STDOUT_FRAME: u8 = 1;
/// Stream byte of a frame carrying stderr.
pub const STDERR_FRAME: u8 = 2;
/// Length of a frame header.
pub const FRAME_HEADER_LEN: usize = 8;

/// The header of a frame of `len` bytes on `stream` (1 stdout, 2 stderr).
pub fn frame_header(stream: u8, len: u32) -> [u8; FRAME_HEADER_LEN] {
    let l = len.to_be_bytes();
    [stream, 0, 0, 0, l[0], l[1], l[2], l[3]]
}

/// The stream byte and payload length of a frame header.
pub fn parse_frame_header(header: &[u8; FRAME_HEADER_LEN]) -> (u8, u32) {
    (
        header[0],
        u32::from_be_bytes([header[4], header[5], header[6], header[7]]),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn frame_headers_are_dockers() {
        assert_eq!(frame_header(2, 0x0102), [2, 0, 0, 0, 0, 0, 1, 2]);
        assert_eq!(parse_frame_header(&frame_header(1, 70000)), (1, 70000));
    }

    #[test]
    fn messages_are_one_json_object() {
        let req: AttachRequest = serde_json::from_str(r#"{"stdout":true}"#).unwrap();
        assert_eq!(
            req,
            AttachRequest {
                stdin: false,
                stdout: true,
                stderr: false
            }
        );
        let ok = AttachReply {
            ok: true,
            error: None,
        };
        assert_eq!(serde_json::to_string(&ok).unwrap(), r#"{"ok":true}"#);
        let err = AttachReply {
            ok: false,
            error: Some("bad".into()),
        };
        assert_eq!(serde_json::to_string(&err).unwrap(), r#"{"error":"bad"}"#);
    }
}
