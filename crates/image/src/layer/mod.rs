//! Layers: the OCI image spec's filesystem changesets, in both directions.
//!
//! Owns turning a layer tar (plain, gzip or zstd) into a directory that overlayfs can stack
//! as a lower dir — OCI whiteouts (`.wh.<name>`, `.wh..wh..opq`) become overlay whiteouts
//! (0/0 character devices, `trusted.overlay.opaque=y`) — and the reverse: an overlay upper
//! dir, or any directory tree, written as a deterministic tar.
//!
//! Applying is safe against hostile layers: every path is resolved by the kernel inside the
//! destination as if it were `/` (openat2 with RESOLVE_IN_ROOT), the last component is made
//! with `*at` calls that never follow a symlink, and whatever could escape the destination or
//! fake an overlay whiteout is refused with an error naming the entry. Decompression and
//! hashing run on threads of their own, the filesystem writes on the caller's.
//!
//! Durability is the caller's: nothing here fsyncs. Apply into a temporary directory, then
//! `syncfs` it and rename it into place.
//!
//! | module | what it does |
//! |---|---|
//! | `error` | `LayerError`, and why an entry was refused (`EntryProblem`) |
//! | `compression` | magic-byte detection and the decoders |
//! | `pipeline` | the decompress and hash threads, and the reader that feeds the tar parser |
//! | `guard` | caps PAX headers and GNU long names before the tar parser reads them whole |
//! | `paths` | entry paths made relative and lexically clean; escapes refused |
//! | `whiteout` | OCI whiteout names and overlay whiteouts |
//! | `pax` | the PAX records pier reads: ids, times, xattrs, GNU sparse maps |
//! | `xattr` | extended attributes on fds and on names inside a directory |
//! | `tree` | the destination: in-root parent resolution, what is at a name, removal |
//! | `sparse` | file data written with zero runs as holes |
//! | `apply` | `apply_layer`: threads started, errors of both sides told apart |
//! | `header` | what a tar header says: kind, mode, owner, times, device numbers |
//! | `unpack` | one tar entry after another into the destination |
//! | `tarwriter` | ustar headers with PAX records, deterministic |
//! | `diff` | an upper dir or a whole tree walked, sorted, into a tar |
//! | `sys` | small syscall helpers (EINTR retries, pwrite, umask, zero blocks) |

mod apply;
mod compression;
mod diff;
mod error;
mod guard;
mod header;
mod paths;
mod pax;
mod pipeline;
mod sparse;
mod sys;
mod tarwriter;
mod tree;
mod unpack;
pub(crate) mod whiteout;
mod xattr;

#[cfg(test)]
mod tests;

pub use apply::{Applied, ApplyOptions, apply_layer};
pub use compression::{Compression, detect_compression};
pub use diff::{
    DiffStats, TimePrecision, WriteOptions, diff_upper, diff_upper_with, write_tree,
    write_tree_with,
};
pub use error::{EntryProblem, LayerError, TreeProblem};
