//! The unpacking itself: one tar entry after another into the destination. Each entry's
//! parent is resolved inside it (`tree`); the entry is made with `*at` calls relative to that
//! parent, never following a symlink at its name; an entry that meets one of another type
//! replaces it, as tar does. Metadata goes on in the order the kernel needs: data, owner,
//! mode (chown clears setuid), xattrs (chown clears `security.capability`), times;
//! directories get their mode and times last, after their contents.

use std::collections::HashMap;
use std::io::Read;
use std::os::fd::{AsFd, BorrowedFd, OwnedFd};
use std::rc::Rc;

use rustix::fs::{AtFlags, FileType, Gid, Mode, OFlags, Uid, major, makedev, minor};
use rustix::io::Errno;

use super::apply::ApplyOptions;
use super::error::{EntryProblem, LayerError};
use super::guard::Guard;
use super::header::{self, Kind, Meta};
use super::paths::{self, EntryPath};
use super::pax::{self, PaxSparse, Records, Time};
use super::sparse::{self, CopyError, Sink};
use super::sys::{retry, timestamps};
use super::tree::{self, Handle, Tree};
use super::whiteout::{self, Name};
use super::xattr::{self, On};

#[derive(Debug, Default)]
pub(crate) struct Counts {
    pub unpacked_size: u64,
    pub entries: u64,
    pub xattrs_skipped: u64,
}

pub(crate) fn unpack<R: Read>(
    reader: R,
    tree: &mut Tree,
    opts: &ApplyOptions,
) -> Result<Counts, LayerError> {
    let mut archive = tar::Archive::new(Guard::new(reader));
    let mut unpacker = Unpacker {
        tree,
        opts,
        euid: rustix::process::geteuid().as_raw(),
        egid: rustix::process::getegid().as_raw(),
        umask: super::sys::umask(),
        dirs: HashMap::new(),
        buf: vec![0u8; 1 << 20],
        counts: Counts::default(),
    };
    let entries = archive.entries().map_err(|source| LayerError::Archive {
        after: None,
        source,
    })?;
    let mut last: Option<String> = None;
    for entry in entries {
        let mut entry = entry.map_err(|source| LayerError::Archive {
            after: last.take(),
            source,
        })?;
        last = Some(unpacker.entry(&mut entry)?);
    }
    unpacker.finish_dirs()?;
    Ok(unpacker.counts)
}

/// A directory's mode and times, set after everything in it is made.
struct DirMeta {
    mode: u32,
    atime: Time,
    mtime: Time,
}

/// What creation found at the entry's name.
enum Made<T> {
    New(T),
    /// The name held an overlay whiteout of this layer, now replaced.
    OverWhiteout(T),
    /// A directory entry met a directory: kept, with what is in it.
    KeptDir,
}

impl<T> Made<T> {
    fn into_inner(self) -> Option<T> {
        match self {
            Made::New(t) | Made::OverWhiteout(t) => Some(t),
            Made::KeptDir => None,
        }
    }
}

/// What metadata goes on.
#[derive(Clone, Copy)]
enum Target<'a> {
    /// A regular file, open; `mode_set` if it was made with its final mode.
    File { fd: BorrowedFd<'a>, mode_set: bool },
    /// A symlink, device or fifo: `name` in `dir`.
    Child {
        dir: BorrowedFd<'a>,
        name: &'a [u8],
        symlink: bool,
    },
    /// A directory: owner and xattrs now, mode and times at the end.
    Dir { dir: BorrowedFd<'a>, name: &'a [u8] },
}

struct Unpacker<'a> {
    tree: &'a mut Tree,
    opts: &'a ApplyOptions,
    euid: u32,
    egid: u32,
    /// The process's umask, if known: files whose mode it leaves alone are made with their
    /// final mode, which saves a chmod per file.
    umask: Option<u32>,
    /// Directories of this layer whose mode and times are still to be set.
    dirs: HashMap<Vec<u8>, DirMeta>,
    buf: Vec<u8>,
    counts: Counts,
}

impl Unpacker<'_> {
    /// Applies one entry; gives back its path as the archive spells it.
    fn entry<R: Read>(&mut self, entry: &mut tar::Entry<'_, R>) -> Result<String, LayerError> {
        let type_byte = entry.header().entry_type().as_byte();
        let mut raw = entry.path_bytes().into_owned();
        let display = String::from_utf8_lossy(&raw).into_owned();
        // A global PAX header: nothing in it that pier keeps.
        if type_byte == b'g' {
            return Ok(display);
        }
        let records = match entry.pax_extensions() {
            Ok(Some(records)) => pax::parse(records),
            Ok(None) => Ok(Records::default()),
            Err(e) => Err(EntryProblem::BadPax {
                key: String::new(),
                reason: e.to_string(),
            }),
        }
        .map_err(|p| LayerError::invalid(&display, p))?;
        let display = match &records.sparse_name {
            Some(name) => {
                raw = name.clone();
                String::from_utf8_lossy(&raw).into_owned()
            }
            None => display,
        };
        let invalid = |problem| LayerError::invalid(&display, problem);
        let path = EntryPath::normalize(&raw).map_err(invalid)?;
        for part in path.ancestors() {
            match whiteout::classify(part).map_err(invalid)? {
                Name::Plain => {}
                // Inside AUFS's bookkeeping directories: skipped with them.
                Name::AufsMeta => return Ok(display),
                Name::Opaque | Name::Remove(_) => {
                    return Err(invalid(EntryProblem::BadWhiteout {
                        reason: "a whiteout cannot have entries beneath it",
                    }));
                }
            }
        }
        match whiteout::classify(path.name()).map_err(invalid)? {
            Name::Plain => {}
            Name::AufsMeta => return Ok(display),
            Name::Opaque => {
                self.opaque(&path, &display)?;
                return Ok(display);
            }
            Name::Remove(target) => {
                self.whiteout(&path, target, &display)?;
                return Ok(display);
            }
        }
        let kind = Kind::of(type_byte)
            .ok_or_else(|| invalid(EntryProblem::UnsupportedType(char::from(type_byte))))?;
        let applier = (!self.opts.preserve_owner).then_some((self.euid, self.egid));
        let meta = Meta::read(entry.header(), &records, kind, applier, &display)?;
        if let Some((key, _)) = meta.xattrs.iter().find(|(k, _)| xattr::is_overlay(k)) {
            return Err(invalid(EntryProblem::OverlayXattr(
                String::from_utf8_lossy(key).into_owned(),
            )));
        }
        let device = match kind {
            Kind::Char | Kind::Block => {
                let (major, minor) = header::device_numbers(entry.header(), &display)?;
                if kind == Kind::Char && major == 0 && minor == 0 {
                    return Err(invalid(EntryProblem::WhiteoutDevice));
                }
                if !self.opts.allow_devices {
                    return Err(invalid(EntryProblem::DeviceNotAllowed));
                }
                makedev(major, minor)
            }
            _ => 0,
        };
        if path.is_root() {
            if kind != Kind::Dir {
                return Err(invalid(EntryProblem::ReplacesRoot { kind: kind.noun() }));
            }
            self.root_dir(&meta, &display)?;
            return Ok(display);
        }
        self.counts.entries += 1;
        match kind {
            Kind::File => self.file(entry, &path, &meta, records.sparse, &display)?,
            Kind::Dir => self.dir(&path, meta, &display)?,
            Kind::Symlink => {
                let target = entry.link_name_bytes().map(|t| t.into_owned());
                self.symlink(&path, target, &meta, &display)?;
            }
            Kind::HardLink => {
                let target = entry.link_name_bytes().map(|t| t.into_owned());
                self.hard_link(&path, target, &display)?;
            }
            Kind::Char | Kind::Block | Kind::Fifo => {
                self.node(&path, kind, device, &meta, &display)?;
            }
        }
        Ok(display)
    }

    fn parent(&mut self, path: &EntryPath, display: &str) -> Result<Rc<Handle>, LayerError> {
        self.tree.dir(path.parent()).map_err(|f| f.at(display))
    }

    /// Whether something new in `parent` needs a chown: not when it was made with the
    /// owner it should have (our euid, and our egid, which is also what a directory of our
    /// egid hands down, setgid or grpid-mounted or not).
    fn needs_chown(&self, meta: &Meta, parent: &Handle) -> bool {
        self.opts.preserve_owner
            && !(meta.uid == self.euid && meta.gid == self.egid && parent.gid == self.egid)
    }

    /// Makes the entry's name with `make`; what already holds the name is replaced (removed
    /// first), except a directory where a directory is to be made.
    fn create<T>(
        &mut self,
        parent: &Handle,
        path: &EntryPath,
        kind: Kind,
        display: &str,
        op: &'static str,
        mut make: impl FnMut(BorrowedFd<'_>, &[u8]) -> Result<T, Errno>,
    ) -> Result<Made<T>, LayerError> {
        let name = path.name();
        match retry(|| make(parent.as_fd(), name)) {
            Ok(t) => return Ok(Made::New(t)),
            Err(Errno::EXIST) => {}
            Err(e) => return Err(LayerError::entry(display, op, e)),
        }
        let existing = tree::kind_at(parent.as_fd(), name)
            .map_err(|e| LayerError::entry(display, "looking at what the entry replaces", e))?;
        let mut over_whiteout = false;
        if let Some((file_type, rdev)) = existing {
            if kind == Kind::Dir && file_type == FileType::Directory {
                return Ok(Made::KeptDir);
            }
            over_whiteout = whiteout::is_overlay_whiteout(file_type, major(rdev), minor(rdev));
            let is_dir = file_type == FileType::Directory;
            tree::remove(parent.as_fd(), name, is_dir)
                .map_err(|e| LayerError::entry(display, "removing what the entry replaces", e))?;
            self.tree.forget();
            if is_dir {
                self.dirs
                    .retain(|dir, _| !paths::is_within(dir, path.as_bytes()));
            }
        }
        let t =
            retry(|| make(parent.as_fd(), name)).map_err(|e| LayerError::entry(display, op, e))?;
        Ok(if over_whiteout {
            Made::OverWhiteout(t)
        } else {
            Made::New(t)
        })
    }

    fn file<R: Read>(
        &mut self,
        entry: &mut tar::Entry<'_, R>,
        path: &EntryPath,
        meta: &Meta,
        pax_sparse: Option<PaxSparse>,
        display: &str,
    ) -> Result<(), LayerError> {
        let parent = self.parent(path, display)?;
        // Made with its final mode when the umask leaves it alone and no special bit needs
        // setting after chown; otherwise private until then.
        let mode_set = self
            .umask
            .is_some_and(|umask| meta.mode & 0o7000 == 0 && meta.mode & umask == 0);
        let create_mode = Mode::from_raw_mode(if mode_set { meta.mode } else { 0o600 });
        let made = self.create(
            &parent,
            path,
            Kind::File,
            display,
            "creating the file",
            |dir, name| {
                rustix::fs::openat(
                    dir,
                    name,
                    OFlags::CREATE
                        | OFlags::EXCL
                        | OFlags::WRONLY
                        | OFlags::NOFOLLOW
                        | OFlags::CLOEXEC,
                    create_mode,
                )
            },
        )?;
        let Some(fd) = made.into_inner() else {
            // `create` keeps only a directory where a directory is made.
            return Err(LayerError::entry(
                display,
                "creating the file",
                Errno::ISDIR,
            ));
        };
        let copy_error = |e: CopyError| match e {
            CopyError::Read(e) if e.kind() == std::io::ErrorKind::UnexpectedEof => {
                LayerError::invalid(display, EntryProblem::Truncated)
            }
            CopyError::Read(e) => LayerError::entry(display, "reading the file's data", e),
            CopyError::Write(e) => LayerError::entry(display, "writing the file's data", e),
            CopyError::Map(m) => LayerError::invalid(display, EntryProblem::BadSparseMap(m)),
        };
        let mut sink = Sink::new(fd.as_fd());
        // For GNU sparse entries the tar crate gives the file's length and the holes as zeros.
        let stored = entry.size();
        let data: &mut dyn Read = entry;
        let size = match pax_sparse {
            None => {
                sparse::copy(data, &mut sink, stored, &mut self.buf).map_err(copy_error)?;
                stored
            }
            Some(PaxSparse { real_size, map }) => {
                let (map, map_len) = match map {
                    Some(map) => (map, 0),
                    None => sparse::read_map_v1(data, stored).map_err(copy_error)?,
                };
                sparse::check_map(&map, real_size, stored - map_len)
                    .map_err(|m| LayerError::invalid(display, EntryProblem::BadSparseMap(m)))?;
                sparse::copy_runs(data, &mut sink, &map, &mut self.buf).map_err(copy_error)?;
                real_size
            }
        };
        sink.finish(size)
            .map_err(|e| LayerError::entry(display, "setting the file's length", e))?;
        self.counts.unpacked_size += size;
        let chown = self.needs_chown(meta, &parent);
        self.metadata(
            Target::File {
                fd: fd.as_fd(),
                mode_set,
            },
            chown,
            meta,
            display,
        )
    }

    fn dir(&mut self, path: &EntryPath, meta: Meta, display: &str) -> Result<(), LayerError> {
        let parent = self.parent(path, display)?;
        let made = self.create(
            &parent,
            path,
            Kind::Dir,
            display,
            "creating the directory",
            |dir, name| rustix::fs::mkdirat(dir, name, Mode::from_raw_mode(0o700)),
        )?;
        let name = path.name();
        if let Made::OverWhiteout(()) = made {
            // `.wh.x` and `x/` in one layer: x of the layers below is gone, this one replaces
            // it. For overlayfs that is an opaque directory.
            self.mark_opaque_child(&parent, name, display)?;
        }
        let kept = matches!(made, Made::KeptDir);
        let chown = self.opts.preserve_owner && (kept || self.needs_chown(&meta, &parent));
        self.metadata(
            Target::Dir {
                dir: parent.as_fd(),
                name,
            },
            chown,
            &meta,
            display,
        )?;
        if kept && chown {
            // Resolved handles of it (and below) may know its old group.
            self.tree.forget();
        }
        self.dirs.insert(
            path.as_bytes().to_vec(),
            DirMeta {
                mode: meta.mode,
                atime: meta.atime,
                mtime: meta.mtime,
            },
        );
        Ok(())
    }

    fn root_dir(&mut self, meta: &Meta, display: &str) -> Result<(), LayerError> {
        let root = self.tree.dir(b"").map_err(|f| f.at(display))?;
        let chown = self.opts.preserve_owner;
        self.metadata(
            Target::Dir {
                dir: root.as_fd(),
                name: b".",
            },
            chown,
            meta,
            display,
        )?;
        drop(root);
        self.tree
            .refresh_root()
            .map_err(|e| LayerError::entry(display, "reading the root's metadata", e))?;
        self.dirs.insert(
            Vec::new(),
            DirMeta {
                mode: meta.mode,
                atime: meta.atime,
                mtime: meta.mtime,
            },
        );
        Ok(())
    }

    fn symlink(
        &mut self,
        path: &EntryPath,
        target: Option<Vec<u8>>,
        meta: &Meta,
        display: &str,
    ) -> Result<(), LayerError> {
        let target = target.filter(|t| !t.is_empty());
        let target =
            target.ok_or_else(|| LayerError::invalid(display, EntryProblem::EmptySymlink))?;
        if target.contains(&0) {
            return Err(LayerError::invalid(display, EntryProblem::NulInPath));
        }
        let parent = self.parent(path, display)?;
        self.create(
            &parent,
            path,
            Kind::Symlink,
            display,
            "creating the symlink",
            |dir, name| rustix::fs::symlinkat(&target[..], dir, name),
        )?;
        let chown = self.needs_chown(meta, &parent);
        let target = Target::Child {
            dir: parent.as_fd(),
            name: path.name(),
            symlink: true,
        };
        self.metadata(target, chown, meta, display)
    }

    fn hard_link(
        &mut self,
        path: &EntryPath,
        target: Option<Vec<u8>>,
        display: &str,
    ) -> Result<(), LayerError> {
        let raw = target.unwrap_or_default();
        let shown = String::from_utf8_lossy(&raw).into_owned();
        let invalid = |problem| LayerError::invalid(display, problem);
        let target = match EntryPath::normalize(&raw) {
            Ok(t) => t,
            Err(EntryProblem::PathEscapes) => {
                return Err(invalid(EntryProblem::LinkTargetEscapes { target: shown }));
            }
            Err(problem) => return Err(invalid(problem)),
        };
        if target.is_root() {
            return Err(invalid(EntryProblem::LinkTargetDirectory { target: shown }));
        }
        if target == *path {
            // A link to itself: already there.
            return Ok(());
        }
        let missing = || {
            invalid(EntryProblem::LinkTargetMissing {
                target: shown.clone(),
            })
        };
        let target_dir = match self.tree.existing_dir(target.parent()) {
            Ok(Some(dir)) => dir,
            Ok(None) | Err(_) => return Err(missing()),
        };
        match tree::kind_at(target_dir.as_fd(), target.name()) {
            Ok(None) => return Err(missing()),
            Ok(Some((FileType::Directory, _))) => {
                return Err(invalid(EntryProblem::LinkTargetDirectory { target: shown }));
            }
            Ok(Some((file_type, rdev)))
                if whiteout::is_overlay_whiteout(file_type, major(rdev), minor(rdev)) =>
            {
                return Err(invalid(EntryProblem::LinkTargetWhiteout { target: shown }));
            }
            Ok(Some(_)) => {}
            Err(e) => {
                return Err(LayerError::entry(
                    display,
                    "looking at the link's target",
                    e,
                ));
            }
        }
        let parent = self.parent(path, display)?;
        let made = self.create(
            &parent,
            path,
            Kind::HardLink,
            display,
            "creating the hard link",
            |dir, name| {
                rustix::fs::linkat(
                    target_dir.as_fd(),
                    target.name(),
                    dir,
                    name,
                    AtFlags::empty(),
                )
            },
        );
        match made {
            Err(LayerError::Entry { source, .. })
                if source.raw_os_error() == Some(libc::ENOENT) =>
            {
                Err(missing())
            }
            other => other.map(drop),
        }
    }

    fn node(
        &mut self,
        path: &EntryPath,
        kind: Kind,
        device: u64,
        meta: &Meta,
        display: &str,
    ) -> Result<(), LayerError> {
        let file_type = match kind {
            Kind::Char => FileType::CharacterDevice,
            Kind::Block => FileType::BlockDevice,
            _ => FileType::Fifo,
        };
        let parent = self.parent(path, display)?;
        self.create(
            &parent,
            path,
            kind,
            display,
            "creating the node",
            |dir, name| {
                rustix::fs::mknodat(dir, name, file_type, Mode::from_raw_mode(0o600), device)
            },
        )?;
        let chown = self.needs_chown(meta, &parent);
        let target = Target::Child {
            dir: parent.as_fd(),
            name: path.name(),
            symlink: false,
        };
        self.metadata(target, chown, meta, display)
    }

    /// `.wh.<target>`: an overlay whiteout named `target` beside the entry.
    fn whiteout(
        &mut self,
        path: &EntryPath,
        target: &[u8],
        display: &str,
    ) -> Result<(), LayerError> {
        let parent = self.parent(path, display)?;
        match retry(|| whiteout::make(parent.as_fd(), target)) {
            Ok(()) => {}
            Err(Errno::EXIST) => {
                // Whiteouts delete from the layers below only: what this layer has at that
                // name stays. A directory of this layer there replaces the one below: opaque.
                let existing = tree::kind_at(parent.as_fd(), target)
                    .map_err(|e| LayerError::entry(display, "looking at the whited-out name", e))?;
                if let Some((FileType::Directory, _)) = existing {
                    self.mark_opaque_child(&parent, target, display)?;
                }
            }
            Err(e) => return Err(LayerError::entry(display, "making the overlay whiteout", e)),
        }
        self.counts.entries += 1;
        Ok(())
    }

    /// `.wh..wh..opq`: the directory it is in is opaque.
    fn opaque(&mut self, path: &EntryPath, display: &str) -> Result<(), LayerError> {
        let dir = self.tree.dir(path.parent()).map_err(|f| f.at(display))?;
        let dir = open_dir(&dir, b".")
            .map_err(|e| LayerError::entry(display, "opening the directory", e))?;
        retry(|| whiteout::mark_opaque(&dir))
            .map_err(|e| LayerError::entry(display, "marking the directory opaque", e))?;
        self.counts.entries += 1;
        Ok(())
    }

    fn mark_opaque_child(
        &mut self,
        parent: &Handle,
        name: &[u8],
        display: &str,
    ) -> Result<(), LayerError> {
        let dir = open_dir(parent, name)
            .map_err(|e| LayerError::entry(display, "opening the directory", e))?;
        retry(|| whiteout::mark_opaque(&dir))
            .map_err(|e| LayerError::entry(display, "marking the directory opaque", e))
    }

    /// Owner, then mode (chown clears setuid), then xattrs (chown clears
    /// `security.capability`), then times (last: the others touch only ctime).
    fn metadata(
        &mut self,
        target: Target<'_>,
        chown: bool,
        meta: &Meta,
        display: &str,
    ) -> Result<(), LayerError> {
        let at = |dir, name| On::Child { dir, name };
        let on = match target {
            Target::File { fd, .. } => On::Fd(fd),
            Target::Child { dir, name, .. } | Target::Dir { dir, name } => at(dir, name),
        };
        if chown {
            let (uid, gid) = (Some(Uid::from_raw(meta.uid)), Some(Gid::from_raw(meta.gid)));
            match on {
                On::Fd(fd) => retry(|| rustix::fs::fchown(fd, uid, gid)),
                On::Child { dir, name } => {
                    retry(|| rustix::fs::chownat(dir, name, uid, gid, AtFlags::SYMLINK_NOFOLLOW))
                }
            }
            .map_err(|e| LayerError::entry(display, "changing the owner", e))?;
        }
        let mode = Mode::from_raw_mode(meta.mode);
        match target {
            Target::File {
                fd,
                mode_set: false,
            } => retry(|| rustix::fs::fchmod(fd, mode)),
            Target::File { mode_set: true, .. } => Ok(()),
            // Just made and not a symlink, so that fchmodat follows nothing. Symlinks have
            // no mode of their own; directories get theirs at the end.
            Target::Child {
                dir,
                name,
                symlink: false,
            } => retry(|| rustix::fs::chmodat(dir, name, mode, AtFlags::empty())),
            Target::Child { symlink: true, .. } | Target::Dir { .. } => Ok(()),
        }
        .map_err(|e| LayerError::entry(display, "changing the mode", e))?;
        self.xattrs(on, meta, display)?;
        let times = timestamps(meta.atime, meta.mtime);
        match target {
            Target::File { fd, .. } => retry(|| rustix::fs::futimens(fd, &times)),
            Target::Child { dir, name, .. } => {
                retry(|| rustix::fs::utimensat(dir, name, &times, AtFlags::SYMLINK_NOFOLLOW))
            }
            Target::Dir { .. } => Ok(()),
        }
        .map_err(|e| LayerError::entry(display, "setting the times", e))
    }

    fn xattrs(&mut self, on: On<'_>, meta: &Meta, display: &str) -> Result<(), LayerError> {
        for (key, value) in &meta.xattrs {
            match xattr::set(on, key, value) {
                Ok(()) => {}
                Err(Errno::NOTSUP | Errno::PERM) => self.counts.xattrs_skipped += 1,
                Err(e) => {
                    return Err(LayerError::entry(
                        display,
                        "setting an extended attribute",
                        e,
                    ));
                }
            }
        }
        Ok(())
    }

    /// Mode and times of every directory of the layer, now that their contents are made.
    fn finish_dirs(&mut self) -> Result<(), LayerError> {
        let dirs = std::mem::take(&mut self.dirs);
        for (rel, meta) in dirs {
            let display = String::from_utf8_lossy(&rel).into_owned();
            let path = EntryPath::normalize(&rel).map_err(|p| LayerError::invalid(&display, p))?;
            let (dir, name): (Rc<Handle>, &[u8]) = if path.is_root() {
                (self.tree.dir(b"").map_err(|f| f.at(&display))?, b".")
            } else {
                match self.tree.existing_dir(path.parent()) {
                    Ok(Some(dir)) => (dir, path.name()),
                    // Gone since (replaced by a later entry): nothing to set.
                    Ok(None) | Err(_) => continue,
                }
            };
            match tree::kind_at(dir.as_fd(), name) {
                Ok(Some((FileType::Directory, _))) => {}
                Ok(_) => continue,
                Err(e) => return Err(LayerError::entry(&display, "looking at the directory", e)),
            }
            retry(|| {
                rustix::fs::chmodat(
                    &*dir,
                    name,
                    Mode::from_raw_mode(meta.mode),
                    AtFlags::empty(),
                )
            })
            .map_err(|e| LayerError::entry(&display, "changing the mode", e))?;
            let times = timestamps(meta.atime, meta.mtime);
            retry(|| rustix::fs::utimensat(&*dir, name, &times, AtFlags::SYMLINK_NOFOLLOW))
                .map_err(|e| LayerError::entry(&display, "setting the times", e))?;
        }
        Ok(())
    }
}

/// Opens `name` in `dir` as a directory that xattr calls work on, following nothing.
fn open_dir(dir: &impl AsFd, name: &[u8]) -> Result<OwnedFd, Errno> {
    retry(|| {
        rustix::fs::openat(
            dir,
            name,
            OFlags::RDONLY | OFlags::DIRECTORY | OFlags::NOFOLLOW | OFlags::CLOEXEC,
            Mode::empty(),
        )
    })
}
