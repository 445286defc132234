//! Reading a json-file log: rotated files oldest first, then the current one, optionally
//! from the last n entries, and following the file as the shim writes and rotates it.

use std::collections::VecDeque;
use std::fs::File;
use std::io::{Read, Seek, SeekFrom};
use std::os::unix::fs::{FileExt, MetadataExt};
use std::path::{Path, PathBuf};

use serde::Deserialize;

use super::encode::parse_time;
use super::{LogEntry, Stream, rotated_path};
use crate::error::{Error, Result};

const READ_CHUNK: usize = 64 * 1024;

/// Reads the entries of a log in the order they were written.
///
/// [`next_entry`](LogReader::next_entry) gives `Ok(None)` at the current end of the log and
/// can be called again later to get what was written since (follow mode): it notices when
/// the current file was rotated away (its inode changed) or truncated, and carries on in the
/// new file without losing entries. It blocks only on local file reads, so async callers can
/// run it on a blocking thread or between timer ticks.
pub struct LogReader {
    path: PathBuf,
    /// Open files not yet read to the end, oldest first; the last is the newest known.
    segments: VecDeque<Segment>,
}

struct Segment {
    file: File,
    inode: (u64, u64),
    /// Where the next read starts.
    offset: u64,
    /// Read but not yet consumed: the start of an unfinished line.
    pending: Vec<u8>,
    /// Renamed away from the log's path: nothing more will be appended.
    rotated: bool,
}

#[derive(Deserialize)]
struct RawEntry {
    #[serde(default)]
    log: String,
    #[serde(default)]
    stream: String,
    #[serde(default)]
    time: String,
}

fn identity(meta: &std::fs::Metadata) -> (u64, u64) {
    (meta.dev(), meta.ino())
}

fn stat_identity(path: &Path) -> std::io::Result<Option<(u64, u64)>> {
    match std::fs::metadata(path) {
        Ok(meta) => Ok(Some(identity(&meta))),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
        Err(e) => Err(e),
    }
}

impl Segment {
    fn open(path: &Path, rotated: bool) -> std::io::Result<Option<Segment>> {
        let file = match File::open(path) {
            Ok(f) => f,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
            Err(e) => return Err(e),
        };
        let inode = identity(&file.metadata()?);
        Ok(Some(Segment {
            file,
            inode,
            offset: 0,
            pending: Vec::new(),
            rotated,
        }))
    }

    /// The next complete line, reading more as needed; `None` at the end of what is there.
    fn next_line(&mut self) -> std::io::Result<Option<Vec<u8>>> {
        loop {
            if let Some(q) = self.pending.iter().position(|&b| b == b'\n') {
                let rest = self.pending.split_off(q + 1);
                let mut line = std::mem::replace(&mut self.pending, rest);
                line.pop();
                return Ok(Some(line));
            }
            let before = self.pending.len();
            self.pending.resize(before + READ_CHUNK, 0);
            let n = loop {
                match self.file.read(&mut self.pending[before..]) {
                    Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
                    other => break other,
                }
            };
            let n = match n {
                Ok(n) => n,
                Err(e) => {
                    self.pending.truncate(before);
                    return Err(e);
                }
            };
            self.pending.truncate(before + n);
            self.offset += n as u64;
            if n == 0 {
                return Ok(None);
            }
        }
    }

    fn seek_to(&mut self, offset: u64) -> std::io::Result<()> {
        self.file.seek(SeekFrom::Start(offset))?;
        self.offset = offset;
        self.pending.clear();
        Ok(())
    }

    /// Scans backwards from the end of the last complete line for the start of the last
    /// `count` lines: that offset, and how many lines there were (fewer if the file is short).
    fn start_of_last_lines(&self, count: usize) -> std::io::Result<(u64, usize)> {
        let size = self.file.metadata()?.len();
        let mut block = vec![0u8; 8192];
        let mut pos = size;
        // Newlines seen; the first one ends the last complete line.
        let mut newlines = 0usize;
        while pos > 0 {
            let len = block.len().min(pos as usize);
            pos -= len as u64;
            self.file.read_exact_at(&mut block[..len], pos)?;
            for i in (0..len).rev() {
                if block[i] != b'\n' {
                    continue;
                }
                newlines += 1;
                if newlines == count + 1 {
                    return Ok((pos + i as u64 + 1, count));
                }
            }
        }
        Ok((0, newlines))
    }
}

impl LogReader {
    /// Opens the log at `path` with its rotated files (`path.1`, `path.2`, ...).
    pub fn open(path: &Path) -> Result<LogReader> {
        let err = |e| Error::path("opening log", path, e);
        // The current file first: a rotation that happens meanwhile then shows up as a
        // rotated file we already hold, which is skipped by its inode.
        let current = Segment::open(path, false)
            .map_err(err)?
            .ok_or_else(|| err(std::io::ErrorKind::NotFound.into()))?;
        let mut segments = VecDeque::new();
        let mut seen = vec![current.inode];
        let mut n = 1;
        while let Some(segment) = Segment::open(&rotated_path(path, n), true)
            .map_err(|e| Error::path("opening log", rotated_path(path, n), e))?
        {
            if !seen.contains(&segment.inode) {
                seen.push(segment.inode);
                segments.push_front(segment);
            }
            n += 1;
        }
        segments.push_back(current);
        Ok(LogReader {
            path: path.to_owned(),
            segments,
        })
    }

    /// Skips to the last `n` complete entries of the log (across rotated files). Call it
    /// before reading.
    pub fn tail(&mut self, n: usize) -> Result<()> {
        let mut wanted = n;
        let mut keep_from = 0;
        let mut start = 0;
        for (i, segment) in self.segments.iter().enumerate().rev() {
            let (offset, found) = segment
                .start_of_last_lines(wanted)
                .map_err(|e| Error::path("reading log", &self.path, e))?;
            keep_from = i;
            start = offset;
            if found == wanted {
                break;
            }
            wanted -= found;
        }
        self.segments.drain(..keep_from);
        if let Some(first) = self.segments.front_mut() {
            first
                .seek_to(start)
                .map_err(|e| Error::path("reading log", &self.path, e))?;
        }
        Ok(())
    }

    /// The next entry, or `None` at the current end of the log. Lines that are not log
    /// entries (a line cut short by a crash) are skipped.
    pub fn next_entry(&mut self) -> Result<Option<LogEntry>> {
        loop {
            let Some(segment) = self.segments.front_mut() else {
                return Ok(None);
            };
            let line = segment
                .next_line()
                .map_err(|e| Error::path("reading log", &self.path, e))?;
            if let Some(line) = line {
                if let Some(entry) = parse_entry(&line) {
                    return Ok(Some(entry));
                }
                continue;
            }
            if self.segments.len() > 1 {
                self.segments.pop_front();
                continue;
            }
            let more = self
                .follow_rotation()
                .map_err(|e| Error::path("reading log", &self.path, e))?;
            if !more {
                return Ok(None);
            }
        }
    }

    /// At the end of the newest file: finds out whether it was truncated or rotated away and
    /// lines wait elsewhere. True if there may be more to read now.
    fn follow_rotation(&mut self) -> std::io::Result<bool> {
        let Some(segment) = self.segments.back_mut() else {
            return Ok(false);
        };
        if segment.rotated {
            // Read to its end after the rotation was seen: what follows is in the next file.
            let Some(next) = self.successor()? else {
                return Ok(false);
            };
            self.segments.pop_back();
            self.segments.push_back(next);
            return Ok(true);
        }
        let now = stat_identity(&self.path)?;
        if now == Some(segment.inode) {
            // Truncated in place (max-files 1): start over at its beginning.
            if segment.file.metadata()?.len() < segment.offset {
                segment.seek_to(0)?;
                return Ok(true);
            }
            return Ok(false);
        }
        // Renamed away. Writes to it happened before the rename we just saw, so read it once
        // more to its end, then move on.
        segment.rotated = true;
        Ok(true)
    }

    /// The file written after the one we finished: the next newer rotated file, or the
    /// current one. If ours was already deleted, the oldest file there is.
    fn successor(&self) -> std::io::Result<Option<Segment>> {
        let Some(ours) = self.segments.back().map(|s| s.inode) else {
            return Ok(None);
        };
        let mut rotated = Vec::new();
        let mut n = 1;
        while let Some(id) = stat_identity(&rotated_path(&self.path, n))? {
            rotated.push(id);
            n += 1;
        }
        let next = match rotated.iter().position(|&id| id == ours) {
            Some(0) => None,
            Some(k) => Some(k as u32),
            None => match rotated.len() {
                0 => None,
                len => Some(len as u32),
            },
        };
        match next {
            Some(k) => Segment::open(&rotated_path(&self.path, k), true),
            // The current file may be missing for a moment while the writer rotates.
            None => Segment::open(&self.path, false),
        }
    }
}

fn parse_entry(line: &[u8]) -> Option<LogEntry> {
    let raw: RawEntry = serde_json::from_slice(line).ok()?;
    let stream = Stream::from_name(&raw.stream)?;
    let (secs, nanos) = parse_time(&raw.time)?;
    Some(LogEntry {
        stream,
        secs,
        nanos,
        time: raw.time,
        bytes: raw.log.into_bytes(),
    })
}
