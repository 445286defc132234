//! The content store: blobs (layers, manifests, configs) by digest under
//! `<root>/blobs/sha256/<hex>`. A blob is written under `<root>/ingest/`, fsynced, verified
//! against the digest and size it should have, and only then renamed into place: a blob that
//! is visible is whole and correct. Partial writes stay in `ingest/` under the key their
//! writer gave, so that an interrupted download resumes where it stopped.
//!
//! The store knows digests and bytes, nothing of images; what is referenced (and so what a
//! garbage collection may delete) is the metadata's business.

mod writer;

use std::fs::File;
use std::io::Read;
use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime};

use crate::digest::Digest;

pub use writer::{BlobWriter, Expected};

#[derive(Debug, thiserror::Error)]
pub enum ContentError {
    #[error("blob {0} not found")]
    NotFound(Digest),
    #[error("digest mismatch: expected {expected}, got {actual}")]
    DigestMismatch { expected: Digest, actual: Digest },
    #[error("size mismatch for {digest}: expected {expected} bytes, got {actual}")]
    SizeMismatch {
        digest: Digest,
        expected: u64,
        actual: u64,
    },
    #[error("blob {digest} is larger than the {limit} bytes allowed here")]
    TooLarge { digest: Digest, limit: u64 },
    #[error("{context} {path}: {source}")]
    Io {
        context: &'static str,
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
}

impl ContentError {
    pub(crate) fn io(
        context: &'static str,
        path: impl Into<PathBuf>,
        source: std::io::Error,
    ) -> Self {
        ContentError::Io {
            context,
            path: path.into(),
            source,
        }
    }
}

type Result<T, E = ContentError> = std::result::Result<T, E>;

/// Blobs by digest, in one directory.
#[derive(Debug, Clone)]
pub struct ContentStore {
    root: PathBuf,
}

impl ContentStore {
    /// Opens (creating if needed) the store at `root`.
    pub fn open(root: &Path) -> Result<ContentStore> {
        for dir in [root.join("blobs/sha256"), root.join("ingest")] {
            std::fs::create_dir_all(&dir).map_err(|e| ContentError::io("creating", &dir, e))?;
        }
        Ok(ContentStore {
            root: root.to_owned(),
        })
    }

    pub fn root(&self) -> &Path {
        &self.root
    }

    pub fn blob_path(&self, digest: &Digest) -> PathBuf {
        self.root.join("blobs/sha256").join(digest.hex())
    }

    pub(crate) fn ingest_root(&self) -> PathBuf {
        self.root.join("ingest")
    }

    /// The size of a blob, if the store has it.
    pub fn size(&self, digest: &Digest) -> Result<Option<u64>> {
        let path = self.blob_path(digest);
        match std::fs::metadata(&path) {
            Ok(meta) => Ok(Some(meta.len())),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
            Err(e) => Err(ContentError::io("checking", path, e)),
        }
    }

    pub fn contains(&self, digest: &Digest) -> bool {
        self.blob_path(digest).exists()
    }

    pub fn open_blob(&self, digest: &Digest) -> Result<File> {
        let path = self.blob_path(digest);
        File::open(&path).map_err(|e| match e.kind() {
            std::io::ErrorKind::NotFound => ContentError::NotFound(digest.clone()),
            _ => ContentError::io("opening", path, e),
        })
    }

    /// A small blob (a manifest, a config) read whole, refusing more than `limit` bytes.
    pub fn read_blob(&self, digest: &Digest, limit: u64) -> Result<Vec<u8>> {
        let file = self.open_blob(digest)?;
        let mut bytes = Vec::new();
        file.take(limit + 1)
            .read_to_end(&mut bytes)
            .map_err(|e| ContentError::io("reading", self.blob_path(digest), e))?;
        if bytes.len() as u64 > limit {
            return Err(ContentError::TooLarge {
                digest: digest.clone(),
                limit,
            });
        }
        Ok(bytes)
    }

    /// Stores `bytes` (verified against `expected` if given) and gives back their digest.
    pub fn write_bytes(&self, bytes: &[u8], expected: Option<&Digest>) -> Result<Digest> {
        let digest = Digest::of(bytes);
        if let Some(expected) = expected
            && *expected != digest
        {
            return Err(ContentError::DigestMismatch {
                expected: expected.clone(),
                actual: digest,
            });
        }
        if self.contains(&digest) {
            return Ok(digest);
        }
        // Not keyed by the digest: bytes in memory are never worth resuming.
        let mut writer = self.writer(&format!("bytes-{digest}"))?;
        std::io::Write::write_all(&mut writer, bytes)
            .map_err(|e| ContentError::io("writing", self.ingest_root(), e))?;
        writer.commit(Some(&Expected {
            digest: digest.clone(),
            size: Some(bytes.len() as u64),
        }))?;
        Ok(digest)
    }

    /// A writer for a new blob. `key` names the ingest: writing again under the same key
    /// resumes where an interrupted writer stopped (see [`BlobWriter::offset`]).
    pub fn writer(&self, key: &str) -> Result<BlobWriter> {
        BlobWriter::open(self, key)
    }

    pub fn delete(&self, digest: &Digest) -> Result<()> {
        let path = self.blob_path(digest);
        match std::fs::remove_file(&path) {
            Ok(()) => Ok(()),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(()),
            Err(e) => Err(ContentError::io("removing", path, e)),
        }
    }

    /// Every blob with its size.
    pub fn list(&self) -> Result<Vec<(Digest, u64)>> {
        let dir = self.root.join("blobs/sha256");
        let entries = std::fs::read_dir(&dir).map_err(|e| ContentError::io("listing", &dir, e))?;
        let mut blobs = Vec::new();
        for entry in entries {
            let entry = entry.map_err(|e| ContentError::io("listing", &dir, e))?;
            // Anything that is not a digest (nothing should be) is not a blob.
            let Some(digest) = entry
                .file_name()
                .to_str()
                .and_then(|n| Digest::from_hex(n).ok())
            else {
                continue;
            };
            let size = entry
                .metadata()
                .map_err(|e| ContentError::io("checking", entry.path(), e))?
                .len();
            blobs.push((digest, size));
        }
        blobs.sort();
        Ok(blobs)
    }

    /// Removes ingests nobody has touched for `older_than`, and at once those that cannot be
    /// resumed (keyed by anything but the digest they will have); gives back how many.
    pub fn clean_ingests(&self, older_than: Duration) -> Result<usize> {
        let dir = self.ingest_root();
        let entries = std::fs::read_dir(&dir).map_err(|e| ContentError::io("listing", &dir, e))?;
        let now = SystemTime::now();
        let mut removed = 0;
        for entry in entries.flatten() {
            let path = entry.path();
            let resumable = writer::key_of(&path).is_some_and(|k| k.parse::<Digest>().is_ok());
            let stale = !resumable
                || writer::last_touched(&path)
                    .and_then(|t| now.duration_since(t).ok())
                    .is_none_or(|age| age >= older_than);
            if stale && writer::try_remove_ingest(&path) {
                removed += 1;
            }
        }
        Ok(removed)
    }

    /// Checks that a blob's bytes still hash to its name.
    pub fn verify(&self, digest: &Digest) -> Result<()> {
        let file = self.open_blob(digest)?;
        let mut reader =
            crate::digest::HashingReader::new(std::io::BufReader::with_capacity(1 << 20, file));
        std::io::copy(&mut reader, &mut std::io::sink())
            .map_err(|e| ContentError::io("reading", self.blob_path(digest), e))?;
        let (actual, _) = reader.finish();
        if actual != *digest {
            return Err(ContentError::DigestMismatch {
                expected: digest.clone(),
                actual,
            });
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests;
