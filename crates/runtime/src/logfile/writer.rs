//! Writing a container's output to its json-file log, with rotation.

use std::fs::File;
use std::io::Write;
use std::os::unix::fs::OpenOptionsExt;
use std::path::{Path, PathBuf};
use std::time::SystemTime;

use super::encode::{encode_entry, format_time};
use super::split::LineSplitter;
use super::{Rotation, Stream, rotated_path};
use crate::error::{Error, Result};

/// Encoded entries are gathered up to this size before one write(2).
const BATCH: usize = 64 * 1024;

/// Appends a container's output to its log. Plain writes, no fsync: a log line is not worth
/// a disk flush, and a crash loses at most what the page cache held.
pub struct LogWriter {
    path: PathBuf,
    file: File,
    /// Bytes in the current file.
    size: u64,
    rotation: Rotation,
    splitters: [LineSplitter; 2],
    batch: Vec<u8>,
}

fn open_append(path: &Path) -> std::io::Result<File> {
    std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .mode(0o640)
        .open(path)
}

impl LogWriter {
    /// Opens (or creates) the log at `path`, appending to what is there.
    pub fn open(path: &Path, rotation: Rotation) -> Result<LogWriter> {
        let file = open_append(path).map_err(|e| Error::path("opening log", path, e))?;
        let size = file
            .metadata()
            .map_err(|e| Error::path("reading size of log", path, e))?
            .len();
        Ok(LogWriter {
            path: path.to_owned(),
            file,
            size,
            rotation: Rotation {
                max_files: rotation.max_files.max(1),
                ..rotation
            },
            splitters: Default::default(),
            batch: Vec::new(),
        })
    }

    /// Logs output read from `stream` at `time`: every complete line (or 16 KiB piece) in it;
    /// the rest of an unfinished line waits for the next call.
    pub fn write(&mut self, stream: Stream, data: &[u8], time: SystemTime) -> Result<()> {
        let stamp = format_time(time);
        // The splitter lends out its pieces while entries are appended to the file.
        let mut splitter = std::mem::take(&mut self.splitters[stream.index()]);
        let mut result = Ok(());
        splitter.push(data, |piece| {
            let appended = self.append(piece, stream, &stamp);
            result = std::mem::replace(&mut result, Ok(())).and(appended);
        });
        self.splitters[stream.index()] = splitter;
        let flushed = self.flush();
        result.and(flushed)
    }

    /// The streams ended: logs what is left of unfinished lines, without a newline.
    pub fn finish(&mut self, time: SystemTime) -> Result<()> {
        let stamp = format_time(time);
        let mut result = Ok(());
        for stream in [Stream::Stdout, Stream::Stderr] {
            let mut splitter = std::mem::take(&mut self.splitters[stream.index()]);
            splitter.finish(|piece| {
                let appended = self.append(piece, stream, &stamp);
                result = std::mem::replace(&mut result, Ok(())).and(appended);
            });
        }
        let flushed = self.flush();
        result.and(flushed)
    }

    /// Adds one entry to the batch; rotates first if the entry would take the file past its
    /// maximum size (a file holds at least one entry, however large).
    fn append(&mut self, piece: &[u8], stream: Stream, stamp: &str) -> Result<()> {
        let start = self.batch.len();
        encode_entry(&mut self.batch, piece, stream, stamp);
        let entry_len = (self.batch.len() - start) as u64;
        let mut result = Ok(());
        if let Some(max) = self.rotation.max_size {
            let before = self.size + start as u64;
            if before > 0 && before + entry_len > max {
                // The entries before this one still belong to the file being rotated away.
                let entry = self.batch.split_off(start);
                result = self.flush().and_then(|()| self.rotate());
                self.batch.extend_from_slice(&entry);
            }
        }
        if self.batch.len() >= BATCH {
            let flushed = self.flush();
            result = result.and(flushed);
        }
        result
    }

    fn flush(&mut self) -> Result<()> {
        if self.batch.is_empty() {
            return Ok(());
        }
        let written = self.file.write_all(&self.batch);
        self.size += self.batch.len() as u64;
        self.batch.clear();
        if self.batch.capacity() > BATCH * 2 {
            self.batch = Vec::new();
        }
        written.map_err(|e| {
            // A partial write leaves the file shorter than counted: ask the file.
            if let Ok(meta) = self.file.metadata() {
                self.size = meta.len();
            }
            Error::path("writing log", &self.path, e)
        })
    }

    fn rotate(&mut self) -> Result<()> {
        if self.rotation.max_files <= 1 {
            self.file
                .set_len(0)
                .map_err(|e| Error::path("truncating log", &self.path, e))?;
            self.size = 0;
            return Ok(());
        }
        for n in (1..self.rotation.max_files - 1).rev() {
            match std::fs::rename(rotated_path(&self.path, n), rotated_path(&self.path, n + 1)) {
                Err(e) if e.kind() != std::io::ErrorKind::NotFound => {
                    return Err(Error::path("rotating log", rotated_path(&self.path, n), e));
                }
                _ => {}
            }
        }
        let first = rotated_path(&self.path, 1);
        std::fs::rename(&self.path, &first)
            .map_err(|e| Error::path("rotating log", &self.path, e))?;
        // Until the new file exists, writes keep going to the renamed one.
        self.file =
            open_append(&self.path).map_err(|e| Error::path("opening log", &self.path, e))?;
        self.size = 0;
        Ok(())
    }
}
