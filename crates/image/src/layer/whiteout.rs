//! Whiteouts in both spellings. In an OCI layer, `.wh.<name>` deletes `<name>` of the layers
//! below and `.wh..wh..opq` in a directory hides everything the layers below have in it.
//! On disk, as overlayfs reads its layers, a whiteout is a 0/0 character device named
//! `<name>` and an opaque directory carries `trusted.overlay.opaque=y`.

use std::os::fd::AsFd;

use rustix::fs::{FileType, Mode, XattrFlags, makedev, mknodat};
use rustix::io::Errno;

use super::error::EntryProblem;

pub(crate) const PREFIX: &[u8] = b".wh.";
/// The opaque marker's name in a layer.
pub(crate) const OPAQUE: &[u8] = b".wh..wh..opq";
/// AUFS bookkeeping (`.wh..wh.plnk`, `.wh..wh.aufs`, ...): meaningless elsewhere, skipped as
/// Docker skips it.
const META_PREFIX: &[u8] = b".wh..wh.";

/// The xattrs overlayfs marks an opaque directory with (user.* when mounted with userxattr).
pub(crate) const OPAQUE_XATTR: &str = "trusted.overlay.opaque";
pub(crate) const USER_OPAQUE_XATTR: &str = "user.overlay.opaque";
/// Since Linux 6.7 a lower layer may also whiteout with an empty regular file carrying this.
pub(crate) const XATTR_WHITEOUT: &str = "trusted.overlay.whiteout";
pub(crate) const USER_XATTR_WHITEOUT: &str = "user.overlay.whiteout";

/// What a file name in a layer means.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Name<'a> {
    /// An ordinary name.
    Plain,
    /// `.wh..wh..opq`: the directory it is in is opaque.
    Opaque,
    /// `.wh.<name>`: `<name>` of the lower layers is deleted.
    Remove(&'a [u8]),
    /// AUFS metadata, ignored.
    AufsMeta,
}

/// Classifies one path component.
pub(crate) fn classify(name: &[u8]) -> Result<Name<'_>, EntryProblem> {
    if name == OPAQUE {
        return Ok(Name::Opaque);
    }
    if name.starts_with(META_PREFIX) {
        return Ok(Name::AufsMeta);
    }
    let Some(target) = name.strip_prefix(PREFIX) else {
        return Ok(Name::Plain);
    };
    let reason = match target {
        b"" => "it names nothing",
        b"." => "it names \".\"",
        b".." => "it names \"..\"",
        t if t.contains(&b'/') => "its name contains a \"/\"",
        t if t.contains(&0) => "its name contains a NUL byte",
        t => return Ok(Name::Remove(t)),
    };
    Err(EntryProblem::BadWhiteout { reason })
}

/// The OCI name of a whiteout for `name`.
pub(crate) fn oci_name(name: &[u8]) -> Vec<u8> {
    [PREFIX, name].concat()
}

/// True for what overlayfs takes as a whiteout: a character device numbered 0/0.
pub(crate) fn is_overlay_whiteout(file_type: FileType, rdev_major: u32, rdev_minor: u32) -> bool {
    file_type == FileType::CharacterDevice && rdev_major == 0 && rdev_minor == 0
}

/// Makes the overlay whiteout `name` in `dir`.
pub(crate) fn make<Fd: AsFd>(dir: Fd, name: &[u8]) -> Result<(), Errno> {
    mknodat(
        dir,
        name,
        FileType::CharacterDevice,
        Mode::empty(),
        makedev(0, 0),
    )
}

/// Marks the directory open as `dir` (not O_PATH) opaque.
pub(crate) fn mark_opaque<Fd: AsFd>(dir: Fd) -> Result<(), Errno> {
    rustix::fs::fsetxattr(dir, OPAQUE_XATTR, b"y", XattrFlags::empty())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_classified() {
        assert_eq!(classify(b"passwd"), Ok(Name::Plain));
        assert_eq!(classify(b".whatever"), Ok(Name::Plain));
        assert_eq!(classify(b".wh.passwd"), Ok(Name::Remove(b"passwd")));
        assert_eq!(classify(b".wh..bashrc"), Ok(Name::Remove(b".bashrc")));
        assert_eq!(classify(b".wh..wh..opq"), Ok(Name::Opaque));
        assert_eq!(classify(b".wh..wh.plnk"), Ok(Name::AufsMeta));
        assert_eq!(oci_name(b"passwd"), b".wh.passwd");
    }

    #[test]
    fn whiteouts_naming_dots_or_slashes_are_refused() {
        for bad in [&b".wh."[..], b".wh..", b".wh...", b".wh.a/b", b".wh.a\0"] {
            assert!(
                matches!(classify(bad), Err(EntryProblem::BadWhiteout { .. })),
                "{}",
                String::from_utf8_lossy(bad)
            );
        }
    }

    #[test]
    fn only_0_0_char_devices_are_whiteouts() {
        assert!(is_overlay_whiteout(FileType::CharacterDevice, 0, 0));
        assert!(!is_overlay_whiteout(FileType::CharacterDevice, 1, 3));
        assert!(!is_overlay_whiteout(FileType::BlockDevice, 0, 0));
    }
}
