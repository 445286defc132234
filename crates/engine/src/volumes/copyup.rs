//! Docker's copy-up: a volume that is empty when a container is made, mounted over a
//! directory that holds files in the image, gets a copy of those files (owners, modes, times,
//! symlinks, hard links and device nodes kept) and the directory's own owner and mode.
//!
//! The image's directory is found inside the container's mounted root filesystem with every
//! symlink resolved against that root, never the host's: an image cannot point the copy at
//! `/etc/shadow` of the host.

use std::collections::HashMap;
use std::ffi::OsString;
use std::os::unix::ffi::OsStrExt;
use std::os::unix::fs::{MetadataExt, PermissionsExt};
use std::path::{Component, Path, PathBuf};

use crate::error::{EngineError, Result};

/// Symlinks followed at most while resolving one path (Linux's own limit).
const MAX_SYMLINKS: u32 = 40;

/// `target` (absolute, inside the container) as a host path under `root`, with every symlink
/// on the way resolved inside `root`. The result may not exist.
pub fn resolve_in_root(root: &Path, target: &str) -> Result<PathBuf> {
    let mut pending: Vec<OsString> = components(Path::new(target));
    pending.reverse();
    let mut resolved: Vec<OsString> = Vec::new();
    let mut followed = 0;
    while let Some(part) = pending.pop() {
        if part == ".." {
            resolved.pop();
            continue;
        }
        let candidate = join(root, &resolved).join(&part);
        match std::fs::symlink_metadata(&candidate) {
            Ok(meta) if meta.file_type().is_symlink() => {
                followed += 1;
                if followed > MAX_SYMLINKS {
                    return Err(EngineError::InvalidArgument(format!(
                        "too many levels of symbolic links resolving {target} in the image"
                    )));
                }
                let link = std::fs::read_link(&candidate)
                    .map_err(|e| EngineError::io("reading the link", &candidate, e))?;
                if link.is_absolute() {
                    resolved.clear();
                }
                let mut more = components(&link);
                more.reverse();
                pending.extend(more);
            }
            _ => resolved.push(part),
        }
    }
    Ok(join(root, &resolved))
}

fn components(path: &Path) -> Vec<OsString> {
    path.components()
        .filter_map(|c| match c {
            Component::Normal(name) => Some(name.to_owned()),
            Component::ParentDir => Some(OsString::from("..")),
            Component::RootDir | Component::CurDir | Component::Prefix(_) => None,
        })
        .collect()
}

fn join(root: &Path, parts: &[OsString]) -> PathBuf {
    let mut path = root.to_path_buf();
    for part in parts {
        path.push(part);
    }
    path
}

fn is_empty_dir(dir: &Path) -> Result<bool> {
    let mut entries = std::fs::read_dir(dir).map_err(|e| EngineError::io("reading", dir, e))?;
    Ok(entries.next().is_none())
}

/// Copies the image's `source` directory into the volume directory `volume` if the volume is
/// empty and the source is a directory; a missing source is nothing to copy. Whether it copied.
pub fn copy_up(source: &Path, volume: &Path) -> Result<bool> {
    let meta = match std::fs::metadata(source) {
        Ok(m) if m.is_dir() => m,
        _ => return Ok(false),
    };
    if !is_empty_dir(volume)? {
        return Ok(false);
    }
    let mut links = HashMap::new();
    copy_children(source, volume, &mut links)?;
    apply_metadata(volume, &meta)?;
    Ok(true)
}

/// Copies what `from` holds into the existing directory `to`; `links` remembers the first
/// copy of every multiply-linked file so that its other names become hard links again.
fn copy_children(from: &Path, to: &Path, links: &mut HashMap<(u64, u64), PathBuf>) -> Result<()> {
    let entries = std::fs::read_dir(from).map_err(|e| EngineError::io("reading", from, e))?;
    for entry in entries {
        let entry = entry.map_err(|e| EngineError::io("reading", from, e))?;
        let src = entry.path();
        let dst = to.join(entry.file_name());
        let meta =
            std::fs::symlink_metadata(&src).map_err(|e| EngineError::io("reading", &src, e))?;
        let kind = meta.file_type();
        if !kind.is_dir() && meta.nlink() > 1 {
            if let Some(first) = links.get(&(meta.dev(), meta.ino())) {
                std::fs::hard_link(first, &dst).map_err(|e| EngineError::io("linking", &dst, e))?;
                continue;
            }
            links.insert((meta.dev(), meta.ino()), dst.clone());
        }
        if kind.is_dir() {
            std::fs::create_dir(&dst).map_err(|e| EngineError::io("creating", &dst, e))?;
            copy_children(&src, &dst, links)?;
        } else if kind.is_symlink() {
            let target = std::fs::read_link(&src)
                .map_err(|e| EngineError::io("reading the link", &src, e))?;
            std::os::unix::fs::symlink(&target, &dst)
                .map_err(|e| EngineError::io("creating", &dst, e))?;
        } else if kind.is_file() {
            std::fs::copy(&src, &dst).map_err(|e| EngineError::io("copying to", &dst, e))?;
        } else if is_node(&meta) {
            make_node(&dst, &meta)?;
        } else {
            // Sockets are bound by a process; a copy of one means nothing.
            continue;
        }
        apply_metadata(&dst, &meta)?;
    }
    Ok(())
}

fn is_node(meta: &std::fs::Metadata) -> bool {
    use std::os::unix::fs::FileTypeExt;
    let kind = meta.file_type();
    kind.is_fifo() || kind.is_char_device() || kind.is_block_device()
}

fn make_node(dst: &Path, meta: &std::fs::Metadata) -> Result<()> {
    let c_path = std::ffi::CString::new(dst.as_os_str().as_bytes()).map_err(|_| {
        EngineError::InvalidArgument(format!("a path with a NUL byte: {}", dst.display()))
    })?;
    // SAFETY: mknod reads a NUL-terminated path that lives across the call; mode and device
    // are plain integers taken from the source's own stat.
    let rc = unsafe {
        libc::mknod(
            c_path.as_ptr(),
            meta.mode() as libc::mode_t,
            meta.rdev() as libc::dev_t,
        )
    };
    if rc != 0 {
        return Err(EngineError::io(
            "creating",
            dst,
            std::io::Error::last_os_error(),
        ));
    }
    Ok(())
}

/// Owner, then mode (a chown clears set-id bits), then times; symlinks get their owner and
/// times only.
fn apply_metadata(path: &Path, meta: &std::fs::Metadata) -> Result<()> {
    std::os::unix::fs::lchown(path, Some(meta.uid()), Some(meta.gid()))
        .map_err(|e| EngineError::io("changing the owner of", path, e))?;
    if !meta.file_type().is_symlink() {
        std::fs::set_permissions(path, std::fs::Permissions::from_mode(meta.mode() & 0o7777))
            .map_err(|e| EngineError::io("changing the mode of", path, e))?;
    }
    let times = rustix::fs::Timestamps {
        last_access: rustix::fs::Timespec {
            tv_sec: meta.atime(),
            tv_nsec: meta.atime_nsec() as _,
        },
        last_modification: rustix::fs::Timespec {
            tv_sec: meta.mtime(),
            tv_nsec: meta.mtime_nsec() as _,
        },
    };
    rustix::fs::utimensat(
        rustix::fs::CWD,
        path,
        &times,
        rustix::fs::AtFlags::SYMLINK_NOFOLLOW,
    )
    .map_err(|e| EngineError::io("setting the times of", path, e.into()))?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn symlinks_resolve_inside_the_root() {
        let root = tempfile::tempdir().unwrap();
        let r = root.path();
        std::fs::create_dir_all(r.join("real/data")).unwrap();
        std::os::unix::fs::symlink("/real", r.join("abs")).unwrap();
        std::os::unix::fs::symlink("../../../real", r.join("real/up")).unwrap();
        std::os::unix::fs::symlink("/etc", r.join("escape")).unwrap();
        assert_eq!(
            resolve_in_root(r, "/abs/data").unwrap(),
            r.join("real/data")
        );
        assert_eq!(
            resolve_in_root(r, "/real/up/data").unwrap(),
            r.join("real/data")
        );
        assert_eq!(
            resolve_in_root(r, "/escape/passwd").unwrap(),
            r.join("etc/passwd")
        );
        assert_eq!(
            resolve_in_root(r, "/../../missing/x").unwrap(),
            r.join("missing/x")
        );
        std::os::unix::fs::symlink("/loop", r.join("loop")).unwrap();
        assert!(resolve_in_root(r, "/loop").is_err());
    }

    #[test]
    fn copies_files_links_and_modes_into_an_empty_volume_only() {
        let src = tempfile::tempdir().unwrap();
        let s = src.path();
        std::fs::create_dir(s.join("dir")).unwrap();
        std::fs::write(s.join("dir/file"), "hello").unwrap();
        std::fs::set_permissions(s.join("dir/file"), std::fs::Permissions::from_mode(0o640))
            .unwrap();
        std::fs::hard_link(s.join("dir/file"), s.join("again")).unwrap();
        std::os::unix::fs::symlink("dir/file", s.join("link")).unwrap();
        std::fs::set_permissions(s, std::fs::Permissions::from_mode(0o1777)).unwrap();

        let volume = tempfile::tempdir().unwrap();
        let v = volume.path();
        assert!(copy_up(s, v).unwrap());
        assert_eq!(
            std::fs::read_to_string(v.join("dir/file")).unwrap(),
            "hello"
        );
        let file = std::fs::metadata(v.join("dir/file")).unwrap();
        assert_eq!(file.mode() & 0o7777, 0o640);
        assert_eq!(
            file.ino(),
            std::fs::metadata(v.join("again")).unwrap().ino()
        );
        assert_eq!(
            std::fs::read_link(v.join("link")).unwrap(),
            Path::new("dir/file")
        );
        assert_eq!(std::fs::metadata(v).unwrap().mode() & 0o7777, 0o1777);
        assert_eq!(
            std::fs::metadata(v.join("dir/file")).unwrap().mtime(),
            std::fs::metadata(s.join("dir/file")).unwrap().mtime()
        );

        // Not empty any more: a second copy does nothing.
        std::fs::write(s.join("new"), "x").unwrap();
        assert!(!copy_up(s, v).unwrap());
        assert!(!v.join("new").exists());
        assert!(!copy_up(&s.join("missing"), v).unwrap());
    }
}
