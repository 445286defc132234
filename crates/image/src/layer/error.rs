//! Errors of applying and writing layers. Each names what it is about: the tar entry (as
//! written in the archive) when applying, the file when writing.

use std::io;
use std::path::PathBuf;

use super::Compression;

/// Why a layer entry was refused. The layer itself is wrong or hostile: retrying cannot help.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum EntryProblem {
    #[error("path escapes the layer")]
    PathEscapes,
    #[error("path contains a NUL byte")]
    NulInPath,
    #[error("a {kind} cannot replace the layer's root directory")]
    ReplacesRoot { kind: &'static str },
    #[error("hard link target {target:?} escapes the layer")]
    LinkTargetEscapes { target: String },
    #[error("hard link target {target:?} does not exist in the layer")]
    LinkTargetMissing { target: String },
    #[error("hard link target {target:?} is a directory")]
    LinkTargetDirectory { target: String },
    #[error("hard link target {target:?} is a whiteout")]
    LinkTargetWhiteout { target: String },
    #[error("invalid whiteout: {reason}")]
    BadWhiteout { reason: &'static str },
    #[error(
        "a 0/0 character device would act as an overlay whiteout; layers delete with .wh. files"
    )]
    WhiteoutDevice,
    #[error("device nodes are not allowed in this layer")]
    DeviceNotAllowed,
    #[error("unsupported tar entry type {0:?}")]
    UnsupportedType(char),
    #[error("extended attribute {0:?} is reserved for overlayfs")]
    OverlayXattr(String),
    #[error("invalid PAX record {key:?}: {reason}")]
    BadPax { key: String, reason: String },
    #[error("invalid header field {field}: {reason}")]
    BadHeader { field: String, reason: String },
    #[error("the archive ends inside the entry's data")]
    Truncated,
    #[error("invalid sparse map: {0}")]
    BadSparseMap(String),
    #[error("symlink with an empty target")]
    EmptySymlink,
    #[error("parent {parent:?} is not a directory")]
    ParentNotDirectory { parent: String },
    #[error("parent {parent:?} is a symlink to a directory that does not exist")]
    DanglingParent { parent: String },
    #[error("too many levels of symbolic links in the parent {parent:?}")]
    SymlinkLoop { parent: String },
}

/// Why a tree could not be written as a layer.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TreeProblem {
    #[error(
        "has overlayfs {0} data (a redirect_dir or metacopy mount); mount overlays for pier \
         with redirect_dir=off,metacopy=off"
    )]
    OverlayFeature(&'static str),
    #[error("changed size while being archived")]
    ChangedSize,
    #[error("name contains a NUL byte")]
    BadName,
}

/// An error of [`apply_layer`](super::apply_layer), [`diff_upper`](super::diff_upper) or
/// [`write_tree`](super::write_tree).
#[derive(Debug, thiserror::Error)]
pub enum LayerError {
    /// The layer is invalid or unsafe; the entry is named as the archive spells it.
    #[error("layer entry {path:?}: {problem}")]
    Invalid { path: String, problem: EntryProblem },
    /// A filesystem operation for one entry failed.
    #[error("layer entry {path:?}: {op}: {source}")]
    Entry {
        path: String,
        op: &'static str,
        #[source]
        source: io::Error,
    },
    /// The archive could not be parsed (not a tar, bad checksum, truncated).
    #[error("malformed layer archive{}: {source}", after_entry(.after))]
    Archive {
        after: Option<String>,
        #[source]
        source: io::Error,
    },
    /// The stream could not be read or decompressed.
    #[error("reading the {compression} layer stream: {source}")]
    Stream {
        compression: Compression,
        #[source]
        source: io::Error,
    },
    /// Opening or checking the destination, reading a tree, or writing the output.
    #[error("{op} {}: {source}", .path.display())]
    Io {
        op: &'static str,
        path: PathBuf,
        #[source]
        source: io::Error,
    },
    #[error("destination {} is not an empty directory", .0.display())]
    DestNotEmpty(PathBuf),
    /// A file of the tree cannot be written as a layer.
    #[error("{}: {problem}", .path.display())]
    Tree { path: PathBuf, problem: TreeProblem },
}

fn after_entry(after: &Option<String>) -> String {
    match after {
        Some(path) => format!(" after entry {path:?}"),
        None => String::new(),
    }
}

impl LayerError {
    /// True when the layer's content is at fault (invalid, hostile or corrupt), false when
    /// the machine is (I/O, permissions, space).
    pub fn is_invalid_layer(&self) -> bool {
        match self {
            LayerError::Invalid { .. } | LayerError::Archive { .. } => true,
            LayerError::Entry { source, .. } => source.kind() == io::ErrorKind::UnexpectedEof,
            LayerError::Stream { source, .. } => matches!(
                source.kind(),
                io::ErrorKind::InvalidData
                    | io::ErrorKind::InvalidInput
                    | io::ErrorKind::UnexpectedEof
            ),
            _ => false,
        }
    }

    pub(crate) fn invalid(path: &str, problem: EntryProblem) -> LayerError {
        LayerError::Invalid {
            path: path.to_owned(),
            problem,
        }
    }

    pub(crate) fn entry(path: &str, op: &'static str, source: impl Into<io::Error>) -> LayerError {
        LayerError::Entry {
            path: path.to_owned(),
            op,
            source: source.into(),
        }
    }

    pub(crate) fn io(
        op: &'static str,
        path: impl Into<PathBuf>,
        source: impl Into<io::Error>,
    ) -> LayerError {
        LayerError::Io {
            op,
            path: path.into(),
            source: source.into(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn messages_name_the_entry() {
        let e = LayerError::invalid("../../etc/passwd", EntryProblem::PathEscapes);
        assert_eq!(
            e.to_string(),
            "layer entry \"../../etc/passwd\": path escapes the layer"
        );
        assert!(e.is_invalid_layer());
        let e = LayerError::Archive {
            after: Some("etc/hosts".into()),
            source: io::Error::other("archive header checksum mismatch"),
        };
        assert_eq!(
            e.to_string(),
            "malformed layer archive after entry \"etc/hosts\": archive header checksum mismatch"
        );
        let e = LayerError::entry(
            "a",
            "writing data",
            io::Error::from_raw_os_error(libc::ENOSPC),
        );
        assert!(
            e.to_string()
                .starts_with("layer entry \"a\": writing data: No space left")
        );
        assert!(!e.is_invalid_layer());
    }
}
