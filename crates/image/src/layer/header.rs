//! What a tar header, with the PAX records before it, says about an entry: its kind, mode,
//! owner and times, and device numbers. Numeric fields are read as GNU tar and Go read them
//! (octal with spaces or NULs around, empty meaning zero, or GNU's base-256).

use super::error::{EntryProblem, LayerError};
use super::pax::{Records, Time};
use super::xattr::Xattrs;

/// What an entry makes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Kind {
    File,
    Dir,
    Symlink,
    HardLink,
    Char,
    Block,
    Fifo,
}

impl Kind {
    pub(crate) fn of(byte: u8) -> Option<Kind> {
        Some(match byte {
            // '7' is a "contiguous file", a regular file everywhere that matters; 'S' a GNU
            // sparse file, whose holes the tar crate hands out as zeros.
            b'0' | b'\0' | b'7' | b'S' => Kind::File,
            b'1' => Kind::HardLink,
            b'2' => Kind::Symlink,
            b'3' => Kind::Char,
            b'4' => Kind::Block,
            b'5' => Kind::Dir,
            b'6' => Kind::Fifo,
            _ => return None,
        })
    }

    pub(crate) fn noun(self) -> &'static str {
        match self {
            Kind::File => "file",
            Kind::Dir => "directory",
            Kind::Symlink => "symlink",
            Kind::HardLink => "hard link",
            Kind::Char => "character device",
            Kind::Block => "block device",
            Kind::Fifo => "fifo",
        }
    }
}

/// The metadata an entry carries.
pub(crate) struct Meta {
    /// Permission bits with setuid, setgid and sticky.
    pub mode: u32,
    pub uid: u32,
    pub gid: u32,
    pub atime: Time,
    pub mtime: Time,
    pub xattrs: Xattrs,
}

impl Meta {
    /// Reads the entry's metadata. `applier` is the euid and egid of whoever will own the
    /// entry when owners are not kept: setuid and setgid bits meant for another user are
    /// dropped for it.
    pub(crate) fn read(
        header: &tar::Header,
        records: &Records,
        kind: Kind,
        applier: Option<(u32, u32)>,
        display: &str,
    ) -> Result<Meta, LayerError> {
        let raw = header.as_bytes();
        let field = |range: std::ops::Range<usize>, name: &str| {
            numeric(&raw[range]).ok_or_else(|| bad_header(display, name, "not a number"))
        };
        let id = |range, name| {
            field(range, name).and_then(|v| {
                u32::try_from(v).map_err(|_| bad_header(display, name, "out of range"))
            })
        };
        let mut mode = field(100..108, "mode")? as u32 & 0o7777;
        let uid = match records.uid {
            Some(uid) => uid,
            None => id(108..116, "uid")?,
        };
        let gid = match records.gid {
            Some(gid) => gid,
            None => id(116..124, "gid")?,
        };
        let mtime = match records.mtime {
            Some(t) => t,
            None => {
                let secs = field(136..148, "mtime")?;
                Time::from_secs(
                    i64::try_from(secs)
                        .map_err(|_| bad_header(display, "mtime", "out of range"))?,
                )
            }
        };
        // Old GNU headers may carry an atime (zero when not recorded).
        let gnu_atime = header
            .as_gnu()
            .and_then(|_| numeric(&raw[345..357]))
            .filter(|&t| t != 0)
            .and_then(|t| i64::try_from(t).ok())
            .map(Time::from_secs);
        let atime = records.atime.or(gnu_atime).unwrap_or(mtime);
        if let Some((euid, egid)) = applier {
            // The file will belong to whoever applies the layer: a setuid bit meant for
            // another user must not become one for this user.
            if uid != euid {
                mode &= !0o4000;
            }
            if gid != egid && kind != Kind::Dir {
                mode &= !0o2000;
            }
        }
        Ok(Meta {
            mode,
            uid,
            gid,
            atime,
            mtime,
            xattrs: records.xattrs.clone(),
        })
    }
}

/// The major and minor numbers of a device entry.
pub(crate) fn device_numbers(
    header: &tar::Header,
    display: &str,
) -> Result<(u32, u32), LayerError> {
    let raw = header.as_bytes();
    let number = |range: std::ops::Range<usize>, name| {
        numeric(&raw[range])
            .and_then(|n| u32::try_from(n).ok())
            .ok_or_else(|| bad_header(display, name, "not a device number"))
    };
    Ok((number(329..337, "devmajor")?, number(337..345, "devminor")?))
}

pub(crate) fn bad_header(display: &str, field: &str, e: impl std::fmt::Display) -> LayerError {
    LayerError::invalid(
        display,
        EntryProblem::BadHeader {
            field: field.to_owned(),
            reason: e.to_string(),
        },
    )
}

/// A numeric header field: octal text (spaces and NULs around it, empty meaning 0, as GNU
/// tar and Go read it) or GNU's base-256 (high bit set).
pub(crate) fn numeric(field: &[u8]) -> Option<u64> {
    if field.first().is_some_and(|b| b & 0x80 != 0) {
        if field[0] & 0x40 != 0 {
            return None; // negative
        }
        return field[1..]
            .iter()
            .try_fold(u64::from(field[0] & 0x3f), |v, &b| {
                v.checked_mul(256)?.checked_add(u64::from(b))
            });
    }
    let end = field.iter().position(|&b| b == 0).unwrap_or(field.len());
    let text = std::str::from_utf8(&field[..end]).ok()?.trim_matches(' ');
    if text.is_empty() {
        return Some(0);
    }
    u64::from_str_radix(text, 8).ok()
}

#[cfg(test)]
mod tests {
    use super::numeric;

    #[test]
    fn numeric_fields() {
        assert_eq!(numeric(b"0000644\0"), Some(0o644));
        assert_eq!(numeric(b"  755 \0"), Some(0o755));
        assert_eq!(numeric(b"\0\0\0\0\0\0\0\0"), Some(0));
        assert_eq!(numeric(b"        "), Some(0));
        assert_eq!(numeric(&[0x80, 0, 0, 0, 0, 0, 0x10, 0x00]), Some(4096));
        assert_eq!(numeric(&[0xff, 0, 0, 0, 0, 0, 0, 1]), None);
        assert_eq!(numeric(b"12a\0"), None);
        assert_eq!(numeric(b"9\0"), None);
    }
}
