//! The destination directory of one layer. Parents are resolved by the kernel inside it as if
//! it were `/` (openat2 RESOLVE_IN_ROOT): a symlink the layer planted — absolute or climbing
//! with `..` — leads to a place inside the destination, never out of it. Missing parents are
//! made one component at a time with mkdirat, which never follows a symlink. Resolved
//! directories are kept open in a small cache, since tar entries come grouped by directory;
//! any removal empties it, so a cached handle never outlives what its path means.

use std::collections::HashMap;
use std::os::fd::{AsFd, BorrowedFd, OwnedFd};
use std::path::Path;
use std::rc::Rc;

use rustix::fs::{AtFlags, Dir, FileType, Mode, OFlags, ResolveFlags};
use rustix::io::Errno;

use super::error::{EntryProblem, LayerError};
use super::sys::retry;

/// How many resolved directories stay open.
const CACHE: usize = 128;

/// Resolution inside the destination; magic links (/proc/self/fd/...) are refused outright.
const IN_ROOT: ResolveFlags = ResolveFlags::IN_ROOT.union(ResolveFlags::NO_MAGICLINKS);

/// Why a directory could not be had.
#[derive(Debug)]
pub(crate) enum Failure {
    Problem(EntryProblem),
    Os { op: &'static str, errno: Errno },
}

impl Failure {
    /// The error for the entry `display`.
    pub(crate) fn at(self, display: &str) -> LayerError {
        match self {
            Failure::Problem(problem) => LayerError::invalid(display, problem),
            Failure::Os { op, errno } => LayerError::entry(display, op, errno),
        }
    }
}

fn lossy(path: &[u8]) -> String {
    String::from_utf8_lossy(path).into_owned()
}

/// A directory of the destination, open (O_PATH), with its group: what files made in it get
/// when it is setgid or its filesystem is mounted grpid.
#[derive(Debug)]
pub(crate) struct Handle {
    fd: OwnedFd,
    /// The directory's group when it was opened.
    pub gid: u32,
}

impl AsFd for Handle {
    fn as_fd(&self) -> BorrowedFd<'_> {
        self.fd.as_fd()
    }
}

impl Handle {
    fn new(fd: OwnedFd) -> Result<Handle, Errno> {
        let st = retry(|| rustix::fs::fstat(&fd))?;
        Ok(Handle { fd, gid: st.st_gid })
    }
}

pub(crate) struct Tree {
    root: Rc<Handle>,
    dirs: HashMap<Vec<u8>, Rc<Handle>>,
}

impl Tree {
    /// Opens `dest`, which must be an empty directory.
    pub(crate) fn open(dest: &Path) -> Result<Tree, LayerError> {
        let fd = retry(|| {
            rustix::fs::open(
                dest,
                OFlags::RDONLY | OFlags::DIRECTORY | OFlags::CLOEXEC,
                Mode::empty(),
            )
        })
        .map_err(|e| LayerError::io("opening the destination", dest, e))?;
        let listing = Dir::read_from(&fd).map_err(|e| LayerError::io("reading", dest, e))?;
        for entry in listing {
            let entry = entry.map_err(|e| LayerError::io("reading", dest, e))?;
            if !matches!(entry.file_name().to_bytes(), b"." | b"..") {
                return Err(LayerError::DestNotEmpty(dest.to_path_buf()));
            }
        }
        let root =
            Handle::new(fd).map_err(|e| LayerError::io("reading the metadata of", dest, e))?;
        Ok(Tree {
            root: Rc::new(root),
            dirs: HashMap::new(),
        })
    }

    fn open_in_root(&self, rel: &[u8]) -> Result<OwnedFd, Errno> {
        let rel = if rel.is_empty() { &b"."[..] } else { rel };
        loop {
            match rustix::fs::openat2(
                &*self.root,
                rel,
                OFlags::PATH | OFlags::DIRECTORY | OFlags::CLOEXEC,
                Mode::empty(),
                IN_ROOT,
            ) {
                // A rename raced with the lookup; the kernel asks to try again.
                Err(Errno::AGAIN | Errno::INTR) => continue,
                other => return other,
            }
        }
    }

    fn remember(&mut self, rel: &[u8], fd: OwnedFd) -> Result<Rc<Handle>, Failure> {
        if self.dirs.len() >= CACHE {
            self.dirs.clear();
        }
        let handle = Rc::new(Handle::new(fd).map_err(|errno| Failure::Os {
            op: "reading the metadata of the parent directory",
            errno,
        })?);
        self.dirs.insert(rel.to_vec(), Rc::clone(&handle));
        Ok(handle)
    }

    /// Forgets every resolved directory: something was removed, or a directory's group
    /// changed.
    pub(crate) fn forget(&mut self) {
        self.dirs.clear();
    }

    /// Reads the root's group again, after it was changed.
    pub(crate) fn refresh_root(&mut self) -> Result<(), Errno> {
        let fd = self
            .root
            .fd
            .try_clone()
            .map_err(|e| Errno::from_io_error(&e).unwrap_or(Errno::MFILE))?;
        self.root = Rc::new(Handle::new(fd)?);
        Ok(())
    }

    fn problem(errno: Errno, rel: &[u8]) -> Failure {
        let parent = lossy(rel);
        match errno {
            Errno::NOTDIR => Failure::Problem(EntryProblem::ParentNotDirectory { parent }),
            Errno::LOOP => Failure::Problem(EntryProblem::SymlinkLoop { parent }),
            Errno::NOENT => Failure::Problem(EntryProblem::DanglingParent { parent }),
            errno => Failure::Os {
                op: "resolving the parent directory",
                errno,
            },
        }
    }

    /// The directory `rel` (a clean relative path), if it exists.
    pub(crate) fn existing_dir(&mut self, rel: &[u8]) -> Result<Option<Rc<Handle>>, Failure> {
        if rel.is_empty() {
            return Ok(Some(Rc::clone(&self.root)));
        }
        if let Some(fd) = self.dirs.get(rel) {
            return Ok(Some(Rc::clone(fd)));
        }
        match self.open_in_root(rel) {
            Ok(fd) => Ok(Some(self.remember(rel, fd)?)),
            Err(Errno::NOENT) => Ok(None),
            Err(e) => Err(Self::problem(e, rel)),
        }
    }

    /// The directory `rel`, made (mode 0755, as Docker makes them) where missing.
    pub(crate) fn dir(&mut self, rel: &[u8]) -> Result<Rc<Handle>, Failure> {
        if let Some(fd) = self.existing_dir(rel)? {
            return Ok(fd);
        }
        let mut current = self.root.fd.try_clone().map_err(|e| Failure::Os {
            op: "resolving the parent directory",
            errno: Errno::from_io_error(&e).unwrap_or(Errno::MFILE),
        })?;
        let mut end = 0;
        for part in rel.split(|&b| b == b'/') {
            end += part.len();
            let prefix = &rel[..end];
            end += 1;
            current = match self.open_in_root(prefix) {
                Ok(fd) => fd,
                Err(Errno::NOENT) => {
                    // `current` is a real directory inside the root; mkdirat makes `part` in
                    // it and follows nothing. EEXIST: a dangling symlink (or a race), which
                    // the lookup below tells apart.
                    match retry(|| rustix::fs::mkdirat(&current, part, Mode::from_raw_mode(0o755)))
                    {
                        Ok(()) => {
                            retry(|| {
                                rustix::fs::chmodat(
                                    &current,
                                    part,
                                    Mode::from_raw_mode(0o755),
                                    AtFlags::empty(),
                                )
                            })
                            .map_err(|errno| Failure::Os {
                                op: "creating a missing parent directory",
                                errno,
                            })?;
                        }
                        Err(Errno::EXIST) => {}
                        Err(errno) => {
                            return Err(Failure::Os {
                                op: "creating a missing parent directory",
                                errno,
                            });
                        }
                    }
                    self.open_in_root(prefix)
                        .map_err(|e| Self::problem(e, prefix))?
                }
                Err(e) => return Err(Self::problem(e, prefix)),
            };
        }
        self.remember(rel, current)
    }
}

/// What `name` in a directory is, without following it; `None` if nothing is there.
pub(crate) fn kind_at(dir: BorrowedFd<'_>, name: &[u8]) -> Result<Option<(FileType, u64)>, Errno> {
    match retry(|| rustix::fs::statat(dir, name, AtFlags::SYMLINK_NOFOLLOW)) {
        Ok(st) => Ok(Some((FileType::from_raw_mode(st.st_mode), st.st_rdev))),
        Err(Errno::NOENT) => Ok(None),
        Err(e) => Err(e),
    }
}

/// Removes `name` from `dir`, a directory with all it holds; follows no symlink.
pub(crate) fn remove(dir: BorrowedFd<'_>, name: &[u8], is_dir: bool) -> Result<(), Errno> {
    if !is_dir {
        return retry(|| rustix::fs::unlinkat(dir, name, AtFlags::empty()));
    }
    let fd = retry(|| {
        rustix::fs::openat(
            dir,
            name,
            OFlags::RDONLY | OFlags::DIRECTORY | OFlags::NOFOLLOW | OFlags::CLOEXEC,
            Mode::empty(),
        )
    })?;
    let mut children = Vec::new();
    for entry in Dir::read_from(&fd)? {
        let entry = entry?;
        let child = entry.file_name().to_bytes();
        if child == b"." || child == b".." {
            continue;
        }
        let child_is_dir = match entry.file_type() {
            FileType::Directory => true,
            FileType::Unknown => {
                kind_at(fd.as_fd(), child)?.is_some_and(|(t, _)| t == FileType::Directory)
            }
            _ => false,
        };
        children.push((child.to_vec(), child_is_dir));
    }
    for (child, child_is_dir) in children {
        remove(fd.as_fd(), &child, child_is_dir)?;
    }
    retry(|| rustix::fs::unlinkat(dir, name, AtFlags::REMOVEDIR))
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::unix::fs::symlink;

    #[test]
    fn only_empty_destinations() {
        let d = tempfile::tempdir().unwrap();
        assert!(Tree::open(d.path()).is_ok());
        std::fs::write(d.path().join("x"), "").unwrap();
        assert!(matches!(
            Tree::open(d.path()),
            Err(LayerError::DestNotEmpty(_))
        ));
        assert!(matches!(
            Tree::open(&d.path().join("missing")),
            Err(LayerError::Io { .. })
        ));
    }

    #[test]
    fn parents_resolve_inside_and_are_made() {
        let d = tempfile::tempdir().unwrap();
        let dest = d.path().join("dest");
        std::fs::create_dir(&dest).unwrap();
        let mut tree = Tree::open(&dest).unwrap();
        symlink("/", dest.join("up")).unwrap();
        symlink("../../../../..", dest.join("dots")).unwrap();
        // Both lead to the destination's root, never to the host's.
        let a = tree.dir(b"up/made/here").unwrap();
        assert!(dest.join("made/here").is_dir());
        let b = tree.dir(b"dots/made/here").unwrap();
        let ino = |h: &Handle| rustix::fs::fstat(h).unwrap().st_ino;
        assert_eq!(ino(&a), ino(&b));
        assert!(tree.existing_dir(b"nowhere").unwrap().is_none());
        // A dangling symlink is not made into a directory elsewhere.
        symlink("/tmp/pier-layer-test-nothing", dest.join("dangling")).unwrap();
        let err = tree.dir(b"dangling/x").unwrap_err();
        assert!(
            matches!(err, Failure::Problem(EntryProblem::DanglingParent { .. })),
            "{err:?}"
        );
        std::fs::write(dest.join("file"), "").unwrap();
        let err = tree.dir(b"file/x").unwrap_err();
        assert!(
            matches!(
                err,
                Failure::Problem(EntryProblem::ParentNotDirectory { .. })
            ),
            "{err:?}"
        );
    }

    #[test]
    fn removal_takes_whole_trees_and_follows_nothing() {
        let d = tempfile::tempdir().unwrap();
        let outside = d.path().join("outside");
        std::fs::create_dir(&outside).unwrap();
        std::fs::write(outside.join("keep"), "").unwrap();
        let t = d.path().join("t");
        std::fs::create_dir_all(t.join("a/b/c")).unwrap();
        std::fs::write(t.join("a/b/f"), "").unwrap();
        symlink(&outside, t.join("a/link")).unwrap();
        let dir = std::fs::File::open(d.path()).unwrap();
        remove(dir.as_fd(), b"t", true).unwrap();
        assert!(!t.exists());
        assert!(outside.join("keep").exists());
    }
}
