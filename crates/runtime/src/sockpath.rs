//! Unix sockets at paths of any length.
//!
//! `sun_path` holds 108 bytes, but state directories under a long `--root` (tests, nested
//! exec roots) easily pass that. A longer path is reached through its directory instead: the
//! directory is opened, and the socket is named `/proc/self/fd/<dirfd>/<name>`, which the
//! kernel resolves to the same place.

use std::fs::File;
use std::io;
use std::os::fd::AsRawFd;
use std::os::unix::fs::OpenOptionsExt;
use std::os::unix::net::{UnixListener, UnixStream};
use std::path::{Path, PathBuf};

/// The longest path `sun_path` takes, leaving room for its NUL.
const SUN_PATH_MAX: usize = 107;

/// Binds a listening socket at `path`.
pub fn bind(path: &Path) -> io::Result<UnixListener> {
    with_short_path(path, |p| UnixListener::bind(p))
}

/// Connects to the socket at `path`.
pub fn connect(path: &Path) -> io::Result<UnixStream> {
    with_short_path(path, |p| UnixStream::connect(p))
}

fn with_short_path<T>(path: &Path, op: impl FnOnce(&Path) -> io::Result<T>) -> io::Result<T> {
    if path.as_os_str().len() <= SUN_PATH_MAX {
        return op(path);
    }
    let (Some(dir), Some(name)) = (path.parent(), path.file_name()) else {
        return op(path);
    };
    let dir = File::options()
        .read(true)
        .custom_flags(libc::O_PATH | libc::O_DIRECTORY | libc::O_CLOEXEC)
        .open(dir)?;
    let short: PathBuf = Path::new("/proc/self/fd")
        .join(dir.as_raw_fd().to_string())
        .join(name);
    // `dir` stays open until the call returns: the short name is only valid while it is.
    op(&short)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::{Read, Write};

    #[test]
    fn long_paths_bind_and_connect() {
        let root = tempfile::tempdir().unwrap();
        let deep = root.path().join("d".repeat(60)).join("e".repeat(60));
        std::fs::create_dir_all(&deep).unwrap();
        let path = deep.join("attach.sock");
        assert!(path.as_os_str().len() > SUN_PATH_MAX);
        let listener = bind(&path).unwrap();
        assert!(path.exists(), "the socket is made at the long path itself");
        let mut client = connect(&path).unwrap();
        let (mut server, _) = listener.accept().unwrap();
        client.write_all(b"hi").unwrap();
        let mut got = [0u8; 2];
        server.read_exact(&mut got).unwrap();
        assert_eq!(&got, b"hi");
    }

    #[test]
    fn short_paths_are_used_as_they_are() {
        let root = tempfile::tempdir().unwrap();
        let path = root.path().join("s.sock");
        let listener = bind(&path).unwrap();
        let _client = connect(&path).unwrap();
        drop(listener);
    }
}
