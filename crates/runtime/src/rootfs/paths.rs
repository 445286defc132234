//! Masked paths (hidden behind /dev/null or an empty read-only tmpfs) and read-only paths,
//! applied after pivot_root so that they name the container's own /proc and /sys.

use std::path::Path;

use nix::mount::{MsFlags, mount};
use nix::sys::statvfs::{FsFlags, Statvfs, statvfs};

use crate::error::{Error, Result};

fn failure(what: &str, path: &str, e: nix::errno::Errno) -> Error {
    Error::ContainerInit(format!("{what} {path}: {}", std::io::Error::from(e)))
}

pub(crate) fn mask_paths(paths: &[String]) -> Result<()> {
    for path in paths {
        let meta = match std::fs::metadata(path) {
            Ok(meta) => meta,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => continue,
            Err(e) => return Err(Error::path("masking", path, e)),
        };
        let result = if meta.is_dir() {
            mount(
                Some("tmpfs"),
                path.as_str(),
                Some("tmpfs"),
                MsFlags::MS_RDONLY,
                None::<&str>,
            )
        } else {
            mount(
                Some("/dev/null"),
                path.as_str(),
                None::<&str>,
                MsFlags::MS_BIND,
                None::<&str>,
            )
        };
        match result {
            Ok(()) | Err(nix::errno::Errno::ENOENT) => {}
            Err(e) => return Err(failure("masking", path, e)),
        }
    }
    Ok(())
}

pub(crate) fn readonly_paths(paths: &[String]) -> Result<()> {
    for path in paths {
        match mount(
            Some(path.as_str()),
            path.as_str(),
            None::<&str>,
            MsFlags::MS_BIND | MsFlags::MS_REC,
            None::<&str>,
        ) {
            Ok(()) => {}
            Err(nix::errno::Errno::ENOENT) => continue,
            Err(e) => return Err(failure("making read-only", path, e)),
        }
        let keep = statvfs(Path::new(path))
            .map(|s| mount_flags_of(&s))
            .map_err(|e| failure("statvfs", path, e))?;
        mount(
            Some(path.as_str()),
            path.as_str(),
            None::<&str>,
            keep | MsFlags::MS_BIND | MsFlags::MS_REMOUNT | MsFlags::MS_RDONLY | MsFlags::MS_REC,
            None::<&str>,
        )
        .map_err(|e| failure("remounting read-only", path, e))?;
    }
    Ok(())
}

/// The per-mount flags a bind remount must repeat so that it does not clear them.
pub(crate) fn mount_flags_of(stat: &Statvfs) -> MsFlags {
    let flags = stat.flags();
    let mut out = MsFlags::empty();
    for (fs, ms) in [
        (FsFlags::ST_NOSUID, MsFlags::MS_NOSUID),
        (FsFlags::ST_NODEV, MsFlags::MS_NODEV),
        (FsFlags::ST_NOEXEC, MsFlags::MS_NOEXEC),
        (FsFlags::ST_NOATIME, MsFlags::MS_NOATIME),
        (FsFlags::ST_NODIRATIME, MsFlags::MS_NODIRATIME),
        (FsFlags::ST_RELATIME, MsFlags::MS_RELATIME),
        (FsFlags::ST_RDONLY, MsFlags::MS_RDONLY),
    ] {
        if flags.contains(fs) {
            out |= ms;
        }
    }
    out
}
