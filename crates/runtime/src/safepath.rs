//! Paths inside the container's root, resolved by the kernel as if the rootfs were `/`
//! (openat2 with RESOLVE_IN_ROOT), so that symlinks an image plants can never point a mount or
//! a device node at the host. Parts that do not exist yet are made one component at a time
//! without following any symlink. The resulting handles are mounted on through their
//! /proc/self/fd magic links.

use std::collections::VecDeque;
use std::ffi::OsString;
use std::os::fd::{AsRawFd, OwnedFd};
use std::path::{Component, Path, PathBuf};

use rustix::fs::{Mode, OFlags, ResolveFlags, openat2};
use rustix::io::Errno;

use crate::error::{Error, Result};

pub(crate) struct RootDir {
    root: OwnedFd,
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

/// What a node made by [`RootDir::create_node`] is.
pub(crate) enum Node<'a> {
    CharDevice { mode: u32, dev: u64 },
    BlockDevice { mode: u32, dev: u64 },
    Symlink(&'a Path),
}

fn failure(what: &str, path: &Path, err: impl std::fmt::Display) -> Error {
    Error::ContainerInit(format!("{what} {}: {err}", path.display()))
}

fn errno_failure(what: &str, path: &Path, e: Errno) -> Error {
    failure(what, path, std::io::Error::from(e))
}

/// Resolution inside the root: symlinks are followed as the container would follow them.
const IN_ROOT: ResolveFlags = ResolveFlags::IN_ROOT.union(ResolveFlags::NO_MAGICLINKS);
/// One step below a directory, following nothing.
const ONE_STEP: ResolveFlags = ResolveFlags::BENEATH
    .union(ResolveFlags::NO_SYMLINKS)
    .union(ResolveFlags::NO_MAGICLINKS);

fn relative(path: &Path) -> &Path {
    path.strip_prefix("/").unwrap_or(path)
}

impl RootDir {
    pub fn open(path: &Path) -> Result<RootDir> {
        let root = rustix::fs::open(
            path,
            OFlags::PATH | OFlags::DIRECTORY | OFlags::CLOEXEC,
            Mode::empty(),
        )
        .map_err(|e| errno_failure("opening rootfs", path, e))?;
        Ok(RootDir { root })
    }

    fn open_in_root(&self, path: &Path, flags: OFlags) -> std::result::Result<OwnedFd, Errno> {
        let rel = relative(path);
        let rel = if rel.as_os_str().is_empty() {
            Path::new(".")
        } else {
            rel
        };
        loop {
            match openat2(
                &self.root,
                rel,
                flags | OFlags::CLOEXEC,
                Mode::empty(),
                IN_ROOT,
            ) {
                // The kernel asks for a retry when a rename raced with the lookup.
                Err(Errno::AGAIN) => continue,
                other => return other,
            }
        }
    }

    /// readlink of `path` inside the root; `None` if it is not a symlink or does not exist.
    fn readlink(&self, path: &Path) -> Option<PathBuf> {
        let name = path.file_name()?;
        let parent = self
            .open_in_root(path.parent()?, OFlags::PATH | OFlags::DIRECTORY)
            .ok()?;
        rustix::fs::readlinkat(&parent, name, Vec::new())
            .ok()
            .map(|target| {
                PathBuf::from(<OsString as std::os::unix::ffi::OsStringExt>::from_vec(
                    target.into_bytes(),
                ))
            })
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
            match self.readlink(&candidate) {
                Some(target) => {
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
                None => current.push(name),
            }
        }
        Ok(Path::new("/").join(current.iter().collect::<PathBuf>()))
    }

    /// Makes `dest` (and its parents) a directory inside the root and returns a handle on it.
    pub fn mkdir_all(&self, dest: &Path) -> Result<InRoot> {
        match self.open_in_root(dest, OFlags::PATH | OFlags::DIRECTORY) {
            Ok(fd) => return Ok(InRoot { fd }),
            Err(Errno::NOENT) => {}
            Err(e) => return Err(errno_failure("resolving mount point", dest, e)),
        }
        // Walk down from the root, making what is missing; a symlink met on the way (one that
        // was not there when the path was resolved) is refused rather than followed.
        let mut dir = self
            .root
            .try_clone()
            .map_err(|e| failure("resolving mount point", dest, e))?;
        for component in relative(dest).components() {
            let Component::Normal(name) = component else {
                return Err(failure(
                    "creating mount point",
                    dest,
                    "unexpected path component",
                ));
            };
            let next = |dir: &OwnedFd| {
                openat2(
                    dir,
                    name,
                    OFlags::PATH | OFlags::DIRECTORY | OFlags::CLOEXEC,
                    Mode::empty(),
                    ONE_STEP,
                )
            };
            dir = match next(&dir) {
                Ok(fd) => fd,
                Err(Errno::NOENT) => {
                    match rustix::fs::mkdirat(&dir, name, Mode::from_raw_mode(0o755)) {
                        Ok(()) | Err(Errno::EXIST) => {}
                        Err(e) => return Err(errno_failure("creating mount point", dest, e)),
                    }
                    next(&dir).map_err(|e| errno_failure("creating mount point", dest, e))?
                }
                Err(e) => return Err(errno_failure("creating mount point", dest, e)),
            };
        }
        Ok(InRoot { fd: dir })
    }

    /// Makes `dest` a file inside the root (its parents directories) and returns a handle on it.
    pub fn create_file(&self, dest: &Path) -> Result<InRoot> {
        match self.open_in_root(dest, OFlags::PATH) {
            Ok(fd) => return Ok(InRoot { fd }),
            Err(Errno::NOENT) => {}
            Err(e) => return Err(errno_failure("resolving mount point", dest, e)),
        }
        let (parent, name) = split(dest)?;
        let dir = self.mkdir_all(parent)?;
        let fd = openat2(
            &dir.fd,
            name,
            OFlags::CREATE | OFlags::RDONLY | OFlags::CLOEXEC | OFlags::NOFOLLOW,
            Mode::from_raw_mode(0o755),
            ONE_STEP,
        )
        .map_err(|e| errno_failure("creating mount point", dest, e))?;
        Ok(InRoot { fd })
    }

    /// A handle on an existing path inside the root.
    pub fn resolve(&self, dest: &Path) -> Result<Option<InRoot>> {
        match self.open_in_root(dest, OFlags::PATH) {
            Ok(fd) => Ok(Some(InRoot { fd })),
            Err(Errno::NOENT) => Ok(None),
            Err(e) => Err(errno_failure("resolving", dest, e)),
        }
    }

    /// Makes a node (device, symlink) inside the root; an existing one is left alone.
    pub fn create_node(&self, dest: &Path, node: Node<'_>) -> Result<()> {
        let (parent, name) = split(dest)?;
        let dir = self.mkdir_all(parent)?;
        let made = match node {
            Node::CharDevice { mode, dev } => rustix::fs::mknodat(
                &dir.fd,
                name,
                rustix::fs::FileType::CharacterDevice,
                Mode::from_raw_mode(mode),
                dev,
            ),
            Node::BlockDevice { mode, dev } => rustix::fs::mknodat(
                &dir.fd,
                name,
                rustix::fs::FileType::BlockDevice,
                Mode::from_raw_mode(mode),
                dev,
            ),
            Node::Symlink(target) => rustix::fs::symlinkat(target, &dir.fd, name),
        };
        match made {
            Ok(()) | Err(Errno::EXIST) => Ok(()),
            Err(e) => Err(errno_failure("creating", dest, e)),
        }
    }
}

fn split(path: &Path) -> Result<(&Path, &std::ffi::OsStr)> {
    match (path.parent(), path.file_name()) {
        (Some(parent), Some(name)) => Ok((parent, name)),
        _ => Err(failure("creating", path, "not a path below the root")),
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
        assert!(
            root.mkdir_all(Path::new("/link/sub")).is_err(),
            "a dangling symlink is never followed"
        );
        assert_eq!(resolved, Path::new("/not/there/yet/sub"));
        root.mkdir_all(&resolved).unwrap();
        assert!(dir.path().join("not/there/yet/sub").is_dir());
        let again = root.mkdir_all(Path::new("/link/sub")).unwrap();
        assert_eq!(
            std::fs::read_link(again.proc_path()).unwrap(),
            dir.path().join("not/there/yet/sub")
        );
    }

    #[test]
    fn file_mount_points_are_made_once() {
        let dir = tempfile::tempdir().unwrap();
        let root = RootDir::open(dir.path()).unwrap();
        root.create_file(Path::new("/etc/hosts")).unwrap();
        root.create_file(Path::new("/etc/hosts")).unwrap();
        assert!(dir.path().join("etc/hosts").is_file());
        root.create_node(Path::new("/dev/ptmx"), Node::Symlink(Path::new("pts/ptmx")))
            .unwrap();
        root.create_node(Path::new("/dev/ptmx"), Node::Symlink(Path::new("pts/ptmx")))
            .unwrap();
        assert_eq!(
            std::fs::read_link(dir.path().join("dev/ptmx")).unwrap(),
            Path::new("pts/ptmx")
        );
    }
}
