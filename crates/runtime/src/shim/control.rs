//! The shim's control socket: one JSON request per connection, one JSON reply.

use std::io::{BufRead, BufReader, Write};
use std::os::unix::net::UnixStream;
use std::path::Path;
use std::time::Duration;

use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};

#[derive(Debug, Serialize, Deserialize, PartialEq, Eq)]
#[serde(tag = "op", rename_all = "lowercase")]
pub(crate) enum Request {
    /// Run the user's process of a created container.
    Start,
    /// Set the size of the container's terminal (managed stdio only).
    Resize { rows: u16, cols: u16 },
    /// Close the container's stdin, once what attached clients sent is written.
    CloseStdin,
}

#[derive(Debug, Default, Serialize, Deserialize, PartialEq, Eq)]
pub(crate) struct Reply {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
}

/// Sends one request to a shim and waits for its reply.
pub(crate) fn call(socket: &Path, request: &Request) -> Result<Reply> {
    let stream = crate::sockpath::connect(socket)
        .map_err(|e| Error::path("connecting to shim", socket, e))?;
    let mut line =
        serde_json::to_string(request).map_err(|e| Error::io("encoding shim request", e.into()))?;
    line.push('\n');
    (&stream)
        .write_all(line.as_bytes())
        .map_err(|e| Error::path("writing to shim", socket, e))?;
    let mut reply = String::new();
    BufReader::new(&stream)
        .read_line(&mut reply)
        .map_err(|e| Error::path("reading from shim", socket, e))?;
    if reply.is_empty() {
        return Err(Error::ContainerInit(
            "the shim closed the connection without replying".into(),
        ));
    }
    serde_json::from_str(&reply)
        .map_err(|e| Error::path("decoding reply of shim", socket, e.into()))
}

/// Reads one request from a connection accepted by the shim.
pub(crate) fn read_request(stream: &UnixStream) -> std::io::Result<Request> {
    stream.set_read_timeout(Some(Duration::from_secs(5)))?;
    let mut line = String::new();
    BufReader::new(stream).read_line(&mut line)?;
    serde_json::from_str(&line).map_err(|e| std::io::Error::new(std::io::ErrorKind::InvalidData, e))
}

pub(crate) fn write_reply(mut stream: &UnixStream, reply: &Reply) -> std::io::Result<()> {
    let mut line = serde_json::to_string(reply).map_err(std::io::Error::other)?;
    line.push('\n');
    stream.write_all(line.as_bytes())
}
