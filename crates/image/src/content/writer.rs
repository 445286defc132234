//! Writing one blob: into `ingest/<sha256 of key>/data`, hashed on the way, then fsynced,
//! verified and renamed into `blobs/`. A later writer with the same key resumes the partial
//! data (re-hashing what is there) instead of starting over.

use std::fs::{File, OpenOptions};
use std::io::{Read, Seek, SeekFrom, Write};
use std::os::fd::AsRawFd;
use std::path::{Path, PathBuf};
use std::time::SystemTime;

use sha2::{Digest as _, Sha256};

use super::{ContentError, ContentStore, Result};
use crate::digest::Digest;

/// What a blob must turn out to be.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Expected {
    pub digest: Digest,
    pub size: Option<u64>,
}

/// A blob being written. Dropped without [`BlobWriter::commit`], its partial data stays in
/// the ingest directory for a later writer with the same key.
pub struct BlobWriter {
    file: File,
    hasher: Sha256,
    written: u64,
    dir: PathBuf,
    blobs: PathBuf,
    // Held for the writer's life: two writers never share an ingest.
    _lock: File,
}

fn ingest_dir(store: &ContentStore, key: &str) -> PathBuf {
    store
        .ingest_root()
        .join(hex::encode(Sha256::digest(key.as_bytes())))
}

fn lock(path: &Path) -> Result<File> {
    let file = OpenOptions::new()
        .create(true)
        .truncate(false)
        .write(true)
        .open(path)
        .map_err(|e| ContentError::io("opening", path, e))?;
    // SAFETY: flock on a descriptor we own; released when the file closes.
    if unsafe { libc::flock(file.as_raw_fd(), libc::LOCK_EX) } < 0 {
        return Err(ContentError::io(
            "locking",
            path,
            std::io::Error::last_os_error(),
        ));
    }
    Ok(file)
}

impl BlobWriter {
    pub(super) fn open(store: &ContentStore, key: &str) -> Result<BlobWriter> {
        let dir = ingest_dir(store, key);
        std::fs::create_dir_all(&dir).map_err(|e| ContentError::io("creating", &dir, e))?;
        let lock = lock(&dir.join("lock"))?;
        let _ = std::fs::write(dir.join("key"), key);
        let path = dir.join("data");
        let mut file = OpenOptions::new()
            .create(true)
            .truncate(false)
            .read(true)
            .write(true)
            .open(&path)
            .map_err(|e| ContentError::io("opening", &path, e))?;
        // Resume: what an earlier writer left is hashed again, and writing continues after it.
        let mut hasher = Sha256::new();
        let mut buf = vec![0u8; 1 << 20];
        let mut written = 0u64;
        loop {
            let n = file
                .read(&mut buf)
                .map_err(|e| ContentError::io("reading", &path, e))?;
            if n == 0 {
                break;
            }
            hasher.update(&buf[..n]);
            written += n as u64;
        }
        file.seek(SeekFrom::End(0))
            .map_err(|e| ContentError::io("seeking", &path, e))?;
        Ok(BlobWriter {
            file,
            hasher,
            written,
            dir,
            blobs: store.root().join("blobs/sha256"),
            _lock: lock,
        })
    }

    /// How many bytes are already there (from an interrupted writer, or written since).
    pub fn offset(&self) -> u64 {
        self.written
    }

    /// Throws away what was written, to start over.
    pub fn truncate(&mut self) -> Result<()> {
        let path = self.dir.join("data");
        self.file
            .set_len(0)
            .map_err(|e| ContentError::io("truncating", &path, e))?;
        self.file
            .seek(SeekFrom::Start(0))
            .map_err(|e| ContentError::io("seeking", &path, e))?;
        self.hasher = Sha256::new();
        self.written = 0;
        Ok(())
    }

    /// Makes the blob durable and visible, if it is what `expected` says; a blob that is not
    /// is removed and never visible.
    pub fn commit(mut self, expected: Option<&Expected>) -> Result<(Digest, u64)> {
        let data = self.dir.join("data");
        self.file
            .flush()
            .map_err(|e| ContentError::io("writing", &data, e))?;
        let digest = Digest::from_hasher(self.hasher.clone());
        if let Some(expected) = expected {
            let failure = if let Some(size) = expected.size.filter(|s| *s != self.written) {
                Some(ContentError::SizeMismatch {
                    digest: expected.digest.clone(),
                    expected: size,
                    actual: self.written,
                })
            } else if expected.digest != digest {
                Some(ContentError::DigestMismatch {
                    expected: expected.digest.clone(),
                    actual: digest.clone(),
                })
            } else {
                None
            };
            if let Some(failure) = failure {
                let _ = std::fs::remove_dir_all(&self.dir);
                return Err(failure);
            }
        }
        self.file
            .sync_all()
            .map_err(|e| ContentError::io("syncing", &data, e))?;
        let target = self.blobs.join(digest.hex());
        if target.exists() {
            // Another writer got there first; content is identical by its digest.
            let _ = std::fs::remove_dir_all(&self.dir);
            return Ok((digest, self.written));
        }
        std::fs::rename(&data, &target).map_err(|e| ContentError::io("committing", &target, e))?;
        sync_dir(&self.blobs)?;
        let _ = std::fs::remove_dir_all(&self.dir);
        Ok((digest, self.written))
    }
}

impl Write for BlobWriter {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        let n = self.file.write(buf)?;
        self.hasher.update(&buf[..n]);
        self.written += n as u64;
        Ok(n)
    }

    fn flush(&mut self) -> std::io::Result<()> {
        self.file.flush()
    }
}

pub(crate) fn sync_dir(dir: &Path) -> Result<()> {
    File::open(dir)
        .and_then(|d| d.sync_all())
        .map_err(|e| ContentError::io("syncing", dir, e))
}

/// The key an ingest was opened with.
pub(super) fn key_of(dir: &Path) -> Option<String> {
    std::fs::read_to_string(dir.join("key")).ok()
}

/// When an ingest was last written to.
pub(super) fn last_touched(dir: &Path) -> Option<SystemTime> {
    std::fs::metadata(dir.join("data"))
        .or_else(|_| std::fs::metadata(dir))
        .and_then(|m| m.modified())
        .ok()
}

/// Removes an ingest unless a writer holds it.
pub(super) fn try_remove_ingest(dir: &Path) -> bool {
    let Ok(file) = OpenOptions::new().write(true).open(dir.join("lock")) else {
        return std::fs::remove_dir_all(dir).is_ok();
    };
    // SAFETY: flock on a descriptor we own.
    if unsafe { libc::flock(file.as_raw_fd(), libc::LOCK_EX | libc::LOCK_NB) } < 0 {
        return false;
    }
    std::fs::remove_dir_all(dir).is_ok()
}
