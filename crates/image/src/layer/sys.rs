//! Small system-call helpers shared by applying and writing.

use std::os::fd::{AsFd, AsRawFd, BorrowedFd};

use rustix::fs::Timespec;
use rustix::fs::Timestamps;
use rustix::io::Errno;

use super::pax::Time;

/// Runs `f` again while it is interrupted by a signal.
pub(crate) fn retry<T>(mut f: impl FnMut() -> Result<T, Errno>) -> Result<T, Errno> {
    loop {
        match f() {
            Err(Errno::INTR) => continue,
            other => return other,
        }
    }
}

/// Writes all of `buf` at `offset`.
pub(crate) fn pwrite_all<Fd: AsFd>(fd: Fd, mut buf: &[u8], mut offset: u64) -> Result<(), Errno> {
    let fd = fd.as_fd();
    while !buf.is_empty() {
        let n = retry(|| rustix::io::pwrite(fd, buf, offset))?;
        if n == 0 {
            return Err(Errno::IO);
        }
        buf = &buf[n..];
        offset += n as u64;
    }
    Ok(())
}

/// `/proc/self/fd/<dir>/<name>`: `name` inside the directory that `dir` pins, for the calls
/// that have no `*at` form (the xattr ones). The last component is never followed by the
/// `l*` calls this is used with.
pub(crate) fn proc_path(dir: BorrowedFd<'_>, name: &[u8]) -> Vec<u8> {
    let mut path = format!("/proc/self/fd/{}/", dir.as_raw_fd()).into_bytes();
    path.extend_from_slice(name);
    path
}

/// The process's umask, read without changing it (`Umask:` of /proc/self/status, Linux 4.7).
pub(crate) fn umask() -> Option<u32> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find_map(|l| l.strip_prefix("Umask:"))?;
    u32::from_str_radix(line.trim(), 8).ok()
}

/// True if every byte is zero.
pub(crate) fn is_zero(block: &[u8]) -> bool {
    // Data blocks almost always show a non-zero byte right away; a branch-free OR over the
    // rest then compiles to wide vector operations.
    let (head, rest) = block.split_at(block.len().min(16));
    head.iter().all(|&b| b == 0) && rest.iter().fold(0u8, |acc, &b| acc | b) == 0
}

pub(crate) fn timespec(t: Time) -> Timespec {
    Timespec {
        tv_sec: t.sec,
        tv_nsec: i64::from(t.nsec),
    }
}

pub(crate) fn timestamps(atime: Time, mtime: Time) -> Timestamps {
    Timestamps {
        last_access: timespec(atime),
        last_modification: timespec(mtime),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn umask_is_read() {
        let mask = umask().unwrap();
        assert_eq!(mask & !0o777, 0);
    }

    #[test]
    fn zero_blocks() {
        assert!(is_zero(&[]));
        assert!(is_zero(&[0; 4096]));
        let mut b = [0u8; 4096];
        b[4095] = 1;
        assert!(!is_zero(&b));
        b[4095] = 0;
        b[3] = 9;
        assert!(!is_zero(&b));
        assert!(!is_zero(&[0, 0, 1]));
    }
}
