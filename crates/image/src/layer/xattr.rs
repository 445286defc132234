//! Extended attributes, on an open file or on a name inside an open directory (through
//! `/proc/self/fd/<dir>/<name>` with the `l*` calls, which never follow that last name: an
//! O_PATH descriptor cannot carry xattr calls, and opening a device node to get a real one
//! would open the device).
//!
//! Which attributes travel in layers: all but overlayfs's own (`trusted.overlay.*`,
//! `user.overlay.*`, which would let a layer forge whiteouts, opaque dirs or redirects) and
//! `security.selinux` (a label of the machine that wrote the layer, not of the image).

use std::os::fd::BorrowedFd;

use rustix::fs::XattrFlags;
use rustix::io::Errno;

use super::sys::{proc_path, retry};

/// Attributes as (name, value) pairs.
pub(crate) type Xattrs = Vec<(Vec<u8>, Vec<u8>)>;

/// Where an attribute is.
#[derive(Clone, Copy)]
pub(crate) enum On<'a> {
    /// An open file or directory (not O_PATH).
    Fd(BorrowedFd<'a>),
    /// `name` in the directory `dir` (O_PATH is fine), the name itself never followed.
    Child { dir: BorrowedFd<'a>, name: &'a [u8] },
}

/// overlayfs's own attributes: never read from a layer, never written into one.
pub(crate) fn is_overlay(key: &[u8]) -> bool {
    key.starts_with(b"trusted.overlay.") || key.starts_with(b"user.overlay.")
}

/// Whether an attribute found on disk goes into a layer.
pub(crate) fn travels(key: &[u8]) -> bool {
    !is_overlay(key) && key != b"security.selinux"
}

pub(crate) fn set(on: On<'_>, key: &[u8], value: &[u8]) -> Result<(), Errno> {
    match on {
        On::Fd(fd) => retry(|| rustix::fs::fsetxattr(fd, key, value, XattrFlags::empty())),
        On::Child { dir, name } => {
            let path = proc_path(dir, name);
            retry(|| rustix::fs::lsetxattr(&path, key, value, XattrFlags::empty()))
        }
    }
}

/// Reads into a buffer that starts small and grows when the kernel says it is too small.
fn read_grown(mut call: impl FnMut(&mut [u8]) -> Result<usize, Errno>) -> Result<Vec<u8>, Errno> {
    let mut buf = vec![0u8; 1024];
    loop {
        match retry(|| call(&mut buf)) {
            Ok(n) => {
                buf.truncate(n);
                return Ok(buf);
            }
            // Values are at most 64 KiB, lists at most XATTR_LIST_MAX (64 KiB).
            Err(Errno::RANGE) if buf.len() < (1 << 17) => buf.resize(buf.len() * 8, 0),
            Err(e) => return Err(e),
        }
    }
}

/// Every attribute, sorted by name. A filesystem without xattrs has none.
pub(crate) fn list(on: On<'_>) -> Result<Xattrs, Errno> {
    let path = match on {
        On::Child { dir, name } => Some(proc_path(dir, name)),
        On::Fd(_) => None,
    };
    let names = read_grown(|buf| match (&on, &path) {
        (On::Fd(fd), _) => rustix::fs::flistxattr(fd, buf),
        (On::Child { .. }, Some(path)) => rustix::fs::llistxattr(path, buf),
        (On::Child { .. }, None) => Err(Errno::INVAL),
    });
    let names = match names {
        Ok(names) => names,
        Err(Errno::NOTSUP) => return Ok(Vec::new()),
        Err(e) => return Err(e),
    };
    let mut out = Vec::new();
    for key in names.split(|&b| b == 0).filter(|k| !k.is_empty()) {
        let value = read_grown(|buf| match (&on, &path) {
            (On::Fd(fd), _) => rustix::fs::fgetxattr(fd, key, buf),
            (On::Child { .. }, Some(path)) => rustix::fs::lgetxattr(path, key, buf),
            (On::Child { .. }, None) => Err(Errno::INVAL),
        });
        match value {
            Ok(value) => out.push((key.to_vec(), value)),
            // Removed since it was listed.
            Err(Errno::NODATA) => {}
            Err(e) => return Err(e),
        }
    }
    out.sort();
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::fd::AsFd;

    #[test]
    fn which_attributes_travel() {
        assert!(travels(b"security.capability"));
        assert!(travels(b"user.mime_type"));
        assert!(travels(b"trusted.foo"));
        assert!(!travels(b"trusted.overlay.opaque"));
        assert!(!travels(b"user.overlay.redirect"));
        assert!(!travels(b"security.selinux"));
        assert!(is_overlay(b"trusted.overlay.origin"));
    }

    #[test]
    fn set_and_list_on_fds_and_children() {
        let dir = tempfile::tempdir().unwrap();
        let file = std::fs::File::create(dir.path().join("f")).unwrap();
        let big = vec![7u8; 3000];
        set(On::Fd(file.as_fd()), b"user.b", &big).unwrap();
        set(On::Fd(file.as_fd()), b"user.a", b"1").unwrap();
        let d = std::fs::File::open(dir.path()).unwrap();
        let on = On::Child {
            dir: d.as_fd(),
            name: b"f",
        };
        set(on, b"user.c", b"").unwrap();
        let want = vec![
            (b"user.a".to_vec(), b"1".to_vec()),
            (b"user.b".to_vec(), big),
            (b"user.c".to_vec(), Vec::new()),
        ];
        assert_eq!(list(on).unwrap(), want);
        assert_eq!(list(On::Fd(file.as_fd())).unwrap(), want);
    }
}
