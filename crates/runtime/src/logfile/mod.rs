//! Container logs in Docker's json-file format: the shim writes them, the engine reads them.
//!
//! One JSON object per line, as Docker's json-file driver writes it:
//!
//! ```text
//! {"log":"hello\n","stream":"stdout","time":"2026-11-28T05:00:00.123456789Z"}
//! ```
//!
//! Output is split at newlines; a line longer than 16 KiB is written in 16 KiB pieces of which
//! only the last ends in `"\n"`, and what is left without a newline when the stream ends is
//! written as it is. Strings are escaped as Docker escapes them (`<`, `>`, `&` and control
//! characters as `\u00XX`, invalid UTF-8 as `\ufffd`); times are UTC with nine fractional
//! digits.
//!
//! Rotation follows the json-file driver: before an entry that would take the current file
//! past `max_size`, the file is renamed to `<path>.1` (an older `.1` to `.2`, and so on, keeping
//! `max_files - 1` rotated files) and a new one is started; with `max_files` 1 the file is
//! truncated in place instead.
//!
//! [`LogReader`] reads the rotated files oldest first, then the current one; it can start at
//! the last n entries ([`LogReader::tail`]) and follow the file as it grows and rotates.

mod encode;
mod reader;
mod split;
mod writer;

pub use reader::LogReader;
pub use writer::LogWriter;

use std::path::PathBuf;

/// Lines longer than this are logged in pieces of this size.
pub const MAX_PIECE: usize = 16 * 1024;

/// Which of the container's output streams an entry came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Stream {
    Stdout,
    Stderr,
}

impl Stream {
    /// The name in the log's `stream` field.
    pub fn as_str(self) -> &'static str {
        match self {
            Stream::Stdout => "stdout",
            Stream::Stderr => "stderr",
        }
    }

    fn from_name(name: &str) -> Option<Stream> {
        match name {
            "stdout" => Some(Stream::Stdout),
            "stderr" => Some(Stream::Stderr),
            _ => None,
        }
    }

    fn index(self) -> usize {
        match self {
            Stream::Stdout => 0,
            Stream::Stderr => 1,
        }
    }
}

/// One line (or piece of a line) of a container's output.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LogEntry {
    pub stream: Stream,
    /// When the shim read it, as written in the file (RFC 3339, UTC, nanoseconds).
    pub time: String,
    /// `time` as seconds since the Unix epoch...
    pub secs: i64,
    /// ...and nanoseconds within that second, for `--since`/`--until` filtering.
    pub nanos: u32,
    /// The output itself; ends in `\n` unless it is a piece of a longer line or the stream's
    /// last bytes.
    pub bytes: Vec<u8>,
}

/// When to rotate a log file.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Rotation {
    /// Rotate before the file would grow past this many bytes; `None` never rotates.
    pub max_size: Option<u64>,
    /// How many files to keep, the current one included (at least 1).
    pub max_files: u32,
}

impl Default for Rotation {
    fn default() -> Self {
        Rotation {
            max_size: None,
            max_files: 1,
        }
    }
}

/// Where a container's log goes and how it rotates.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LogConfig {
    pub path: PathBuf,
    pub rotation: Rotation,
}

/// `<path>.<n>`, the n-th most recent rotated file.
fn rotated_path(path: &std::path::Path, n: u32) -> PathBuf {
    let mut name = path.as_os_str().to_owned();
    name.push(format!(".{n}"));
    PathBuf::from(name)
}

#[cfg(test)]
mod tests;
