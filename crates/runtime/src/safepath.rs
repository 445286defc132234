//! Paths inside the container's root, resolved by the kernel as if the rootfs were `/`
//! (openat2 RESOLVE_IN_ROOT through `pathrs`), so that symlinks an image plants can never
//! point a mount or a device node at the host. The resulting handles are mounted on through
//! their /proc/self/fd magic links.

use std::collections::VecDeque;
use std::ffi::OsString;
use std::fs::Permissions;
use std::os::fd::{AsRawFd, OwnedFd};
use std::os::unix::fs::PermissionsExt;
use std::path::{Component, Path, PathBuf};

use pathrs::Root;
use pathrs::flags::OpenFlags;

use crate::error::{Error, Result};

pub(crate) struct RootDir {
    root: Root,
}

/// An open handle on a path inside the root, usable as a mount target.
pub(crate) struct InRoot {
    fd: OwnedFd,
}

impl InRoot {
    /// The magic link that names exactly this inode, whatever happens to the path later.
    pub fn proc_path(&self) -> PathBuf {
        PathBuf::from(format!("/proc/self/fd/{}", self.fd.as_raw_fd()))
    }
}

fn failure(what: &str, path: &Path, err: impl std::fmt::Display) -> Error {
    Error::ContainerInit(format!("{what} {}: {err}", path.display()))
}

impl RootDir {
    pub fn open(path: &Path) -> Result<RootDir> {
        let root = Root::open(path).map_err(|e| failure("opening rootfs", path, e))?;
        Ok(RootDir { root })
    }

    /// Follows every symlink of `dest` as the container will see it (absolute targets from the
    /// container's root) and gives back the path without symlinks, so that parts which do not
    /// exist yet — a dangling symlink included — are made inside the root. A relative symlink
    /// whose target climbs above the root is refused: it can only mean an escape attempt.
    pub fn resolve_lexically(&self, dest: &Path) -> Result<PathBuf> {
        const MAX_SYMLINKS: usize = 40;
        let mut queue: VecDeque<OsString> = components(dest);
        let mut current: Vec<OsString> = Vec::new();
        let mut followed = 0;
        let mut last_link: Option<(PathBuf, PathBuf)> = None;
        while let Some(name) = queue.pop_front() {
            if name == ".." {
                if current.pop().is_none() {
                    return Err(match &last_link {
                        Some((link, target)) => Error::InvalidSpec(format!(
                            "mount destination {}: symlink {} -> {} points outside the container's root",
                            dest.display(),
                            link.display(),
                            target.display()
                        )),
                        None => Error::InvalidSpec(format!(
                            "mount destination {} escapes the container's root through \"..\"",
                            dest.display()
                        )),
                    });
                }
                continue;
            }
            let candidate = Path::new("/")
                .join(current.iter().collect::<PathBuf>())
                .join(&name);
            match self.root.readlink(&candidate) {
                Ok(target) => {
                    followed += 1;
                    if followed > MAX_SYMLINKS {
                        return Err(failure(
                            "resolving mount destination",
                            dest,
                            "too many levels of symbolic links",
                        ));
                    }
                    if target.is_absolute() {
                        current.clear();
                    }
                    let mut rest = components(&target);
                    rest.extend(queue.drain(..));
                    queue = rest;
                    last_link = Some((candidate, target));
                }
                // Not a symlink, or not there yet (to be created): a plain component.
                Err(_) => current.push(name),
            }
        }
        Ok(Path::new("/").join(current.iter().collect::<PathBuf>()))
    }

    /// Makes `dest` (and its parents) a directory inside the root and returns a handle on it.
    pub fn mkdir_all(&self, dest: &Path) -> Result<InRoot> {
        let handle = self
            .root
            .mkdir_all(dest, &Permissions::from_mode(0o755))
            .map_err(|e| failure("creating mount point", dest, e))?;
        Ok(InRoot { fd: handle.into() })
    }

    /// Makes `dest` a file inside the root (its parents directories) and returns a handle on it.
    pub fn create_file(&self, dest: &Path) -> Result<InRoot> {
        if let Some(parent) = dest.parent() {
            self.mkdir_all(parent)?;
        }
        match self.root.resolve(dest) {
            Ok(handle) => return Ok(InRoot { fd: handle.into() }),
            Err(e) if e.kind() != pathrs::error::ErrorKind::OsError(Some(libc::ENOENT)) => {
                return Err(failure("resolving mount point", dest, e));
            }
            Err(_) => {}
        }
        let file = self
            .root
            .create_file(
                dest,
                OpenFlags::O_CREAT | OpenFlags::O_RDONLY | OpenFlags::O_CLOEXEC,
                &Permissions::from_mode(0o755),
            )
            .map_err(|e| failure("creating mount point", dest, e))?;
        Ok(InRoot { fd: file.into() })
    }

    /// A handle on an existing path inside the root.
    pub fn resolve(&self, dest: &Path) -> Result<Option<InRoot>> {
        match self.root.resolve(dest) {
            Ok(handle) => Ok(Some(InRoot { fd: handle.into() })),
            Err(e) if e.kind() == pathrs::error::ErrorKind::OsError(Some(libc::ENOENT)) => Ok(None),
            Err(e) => Err(failure("resolving", dest, e)),
        }
    }

    /// Makes a node (device, symlink...) inside the root; an existing one is left alone.
    pub fn create_node(&self, dest: &Path, inode: &pathrs::InodeType) -> Result<()> {
        if let Some(parent) = dest.parent() {
            self.mkdir_all(parent)?;
        }
        match self.root.create(dest, inode) {
            Ok(()) => Ok(()),
            Err(e) if e.kind() == pathrs::error::ErrorKind::OsError(Some(libc::EEXIST)) => Ok(()),
            Err(e) => Err(failure("creating", dest, e)),
        }
    }
}

fn components(path: &Path) -> VecDeque<OsString> {
    path.components()
        .filter_map(|c| match c {
            Component::Normal(n) => Some(n.to_owned()),
            Component::ParentDir => Some("..".into()),
            _ => None,
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::unix::fs::symlink;

    #[test]
    fn absolute_symlinks_stay_inside() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::create_dir(dir.path().join("etc")).unwrap();
        symlink("/etc", dir.path().join("data")).unwrap();
        let root = RootDir::open(dir.path()).unwrap();
        let resolved = root.resolve_lexically(Path::new("/data/x")).unwrap();
        assert_eq!(resolved, Path::new("/etc/x"));
        let handle = root.mkdir_all(&resolved).unwrap();
        let seen = std::fs::read_link(handle.proc_path()).unwrap();
        assert_eq!(seen, dir.path().join("etc/x"));
    }

    #[test]
    fn relative_symlink_climbing_out_is_named() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::create_dir(dir.path().join("a")).unwrap();
        symlink("../../../../tmp", dir.path().join("a/evil")).unwrap();
        let root = RootDir::open(dir.path()).unwrap();
        let err = root
            .resolve_lexically(Path::new("/a/evil/x"))
            .unwrap_err()
            .to_string();
        assert!(err.contains("/a/evil"), "{err}");
        assert!(err.contains("outside the container's root"), "{err}");
    }

    #[test]
    fn dangling_absolute_symlinks_are_made_inside() {
        let dir = tempfile::tempdir().unwrap();
        symlink("/not/there/yet", dir.path().join("link")).unwrap();
        let root = RootDir::open(dir.path()).unwrap();
        let resolved = root.resolve_lexically(Path::new("/link/sub")).unwrap();
        assert_eq!(resolved, Path::new("/not/there/yet/sub"));
        root.mkdir_all(&resolved).unwrap();
        assert!(dir.path().join("not/there/yet/sub").is_dir());
    }

    #[test]
    fn file_mount_points_are_made_once() {
        let dir = tempfile::tempdir().unwrap();
        let root = RootDir::open(dir.path()).unwrap();
        root.create_file(Path::new("/etc/hosts")).unwrap();
        root.create_file(Path::new("/etc/hosts")).unwrap();
        assert!(dir.path().join("etc/hosts").is_file());
    }
}
