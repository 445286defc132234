//! Applying a layer: the public entry point. It opens the destination, starts the
//! decompressing and hashing threads, unpacks on the caller's thread (`unpack`) and tells
//! which failure explains what when both sides fail.

use std::io::Read;
use std::path::Path;

use super::compression::Compression;
use super::error::{EntryProblem, LayerError};
use super::pipeline;
use super::tree::Tree;
use super::unpack::unpack;
use crate::Digest;

/// How much a layer may do on this machine.
#[derive(Debug, Clone, Copy, Default)]
pub struct ApplyOptions {
    /// Make block and character device entries (never 0/0 character devices: those are
    /// overlay whiteouts). Without it, a layer with a device node is refused.
    pub allow_devices: bool,
    /// lchown every entry to the tar's numeric uid/gid. Without it, entries belong to the
    /// caller, and setuid/setgid bits are dropped where the tar's owner was someone else.
    pub preserve_owner: bool,
}

/// What applying a layer found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Applied {
    /// sha256 of the uncompressed tar stream, every byte to its end: the layer's OCI diff_id.
    pub diff_id: Digest,
    /// Bytes of the uncompressed tar stream.
    pub tar_size: u64,
    /// Bytes of regular file data: the sum of the files' lengths, holes included.
    pub unpacked_size: u64,
    pub compression: Compression,
    /// Entries made (whiteouts and opaque markers included).
    pub entries: u64,
    /// Extended attributes the destination's filesystem refused (EOPNOTSUPP, or EPERM for
    /// `user.*` on symlinks and devices) and that were left out, as Docker leaves them out.
    pub xattrs_skipped: u64,
}

/// Unpacks one layer (compression detected) into `dest`, an existing empty directory.
///
/// Nothing is fsynced: make the result durable with `syncfs` and a rename of the whole
/// directory. On error, `dest` holds part of the layer and should be removed.
pub fn apply_layer<R: Read + Send + 'static>(
    reader: R,
    dest: &Path,
    opts: &ApplyOptions,
) -> Result<Applied, LayerError> {
    let mut tree = Tree::open(dest)?;
    let (compression, chunks, producer) =
        pipeline::start(reader).map_err(|source| LayerError::Stream {
            compression: Compression::None,
            source,
        })?;
    let unpacked = unpack(chunks, &mut tree, opts);
    let stream = producer.finish(unpacked.is_ok());
    let stream_error = |source| LayerError::Stream {
        compression,
        source,
    };
    match (unpacked, stream) {
        (Ok(counts), Ok(Some((diff_id, tar_size)))) => Ok(Applied {
            diff_id,
            tar_size,
            unpacked_size: counts.unpacked_size,
            compression,
            entries: counts.entries,
            xattrs_skipped: counts.xattrs_skipped,
        }),
        (Ok(_), Ok(None)) => Err(stream_error(std::io::Error::other(
            "the decompression thread stopped early",
        ))),
        // The parser was content, but the stream failed after the tar (a bad gzip trailer,
        // garbage after it): the blob is damaged.
        (Ok(_), Err(source)) => Err(stream_error(source)),
        // A stream that failed explains the parser's complaints (a truncated or garbled
        // archive); any other refusal is the layer's own.
        (Err(e), Err(source)) if follows_from_stream(&e) => Err(stream_error(source)),
        (Err(e), _) => Err(e),
    }
}

/// Whether the parser's error is what a broken stream looks like from its side.
fn follows_from_stream(e: &LayerError) -> bool {
    match e {
        LayerError::Archive { .. } => true,
        LayerError::Invalid { problem, .. } => matches!(
            problem,
            EntryProblem::Truncated | EntryProblem::BadSparseMap(_)
        ),
        LayerError::Entry { source, .. } => source.kind() == std::io::ErrorKind::UnexpectedEof,
        _ => false,
    }
}
