//! Tests of the whole module: layers applied, written and applied again, checked on disk and
//! through real overlay mounts. They need root (chown, mknod, trusted.* xattrs, mounts), as
//! CI runs them.

mod apply;
mod bench;
mod gnu;
mod overlay;
mod roundtrip;
mod safety;

use std::collections::BTreeMap;
use std::fs::File;
use std::io::{Read, Write};
use std::os::fd::AsFd;
use std::os::unix::ffi::OsStrExt;
use std::os::unix::fs::{FileTypeExt, MetadataExt, OpenOptionsExt};
use std::path::{Path, PathBuf};
use std::process::Command;

use super::pax::Time;
use super::tarwriter::{self, Header, TarWriter};
use super::xattr::{self, On};
use super::{Applied, ApplyOptions, LayerError, apply_layer};
use crate::Digest;

pub(super) const ALL: ApplyOptions = ApplyOptions {
    allow_devices: true,
    preserve_owner: true,
};

/// A tar made entry by entry, hostile ones included (nothing is checked on the way).
pub(super) struct TarBuilder {
    w: TarWriter<Vec<u8>>,
    mtime: i64,
}

impl TarBuilder {
    pub(super) fn new() -> TarBuilder {
        TarBuilder {
            w: TarWriter::new(Vec::new()),
            mtime: 1_600_000_000,
        }
    }

    fn base<'a>(&self, path: &'a str, kind: u8, mode: u32) -> Header<'a> {
        let mut h = Header::new(path.as_bytes(), kind);
        h.mode = mode;
        h.mtime = Time::from_secs(self.mtime);
        h
    }

    pub(super) fn raw(&mut self, h: &Header<'_>, data: &[u8]) -> &mut Self {
        self.w.header(h).unwrap();
        self.w.data(data).unwrap();
        self.w.pad(data.len() as u64).unwrap();
        self
    }

    pub(super) fn dir(&mut self, path: &str, mode: u32) -> &mut Self {
        let h = self.base(path, tarwriter::DIRECTORY, mode);
        self.raw(&h, b"")
    }

    pub(super) fn file(&mut self, path: &str, data: &[u8]) -> &mut Self {
        let mut h = self.base(path, tarwriter::REGULAR, 0o644);
        h.size = data.len() as u64;
        self.raw(&h, data)
    }

    pub(super) fn symlink(&mut self, path: &str, target: &str) -> &mut Self {
        let mut h = self.base(path, tarwriter::SYMLINK, 0o777);
        h.link = Some(target.as_bytes());
        self.raw(&h, b"")
    }

    pub(super) fn hard_link(&mut self, path: &str, target: &str) -> &mut Self {
        let mut h = self.base(path, tarwriter::HARD_LINK, 0o644);
        h.link = Some(target.as_bytes());
        self.raw(&h, b"")
    }

    pub(super) fn device(&mut self, path: &str, kind: u8, major: u32, minor: u32) -> &mut Self {
        let mut h = self.base(path, kind, 0o620);
        h.device = (major, minor);
        self.raw(&h, b"")
    }

    pub(super) fn finish(&mut self) -> Vec<u8> {
        std::mem::replace(&mut self.w, TarWriter::new(Vec::new()))
            .finish()
            .unwrap()
    }
}

/// A scratch directory with an empty `dest` and, beside it, an `outside` that a layer must
/// never reach.
pub(super) struct Scratch {
    pub dir: tempfile::TempDir,
}

impl Scratch {
    pub(super) fn new() -> Scratch {
        let dir = tempfile::tempdir().unwrap();
        std::fs::create_dir(dir.path().join("dest")).unwrap();
        std::fs::create_dir(dir.path().join("outside")).unwrap();
        Scratch { dir }
    }

    pub(super) fn dest(&self) -> PathBuf {
        self.dir.path().join("dest")
    }

    pub(super) fn path(&self, name: &str) -> PathBuf {
        self.dir.path().join(name)
    }

    /// A new empty directory here.
    pub(super) fn empty(&self, name: &str) -> PathBuf {
        let p = self.path(name);
        std::fs::create_dir(&p).unwrap();
        p
    }

    pub(super) fn apply(&self, tar: Vec<u8>, opts: &ApplyOptions) -> Result<Applied, LayerError> {
        apply_layer(std::io::Cursor::new(tar), &self.dest(), opts)
    }

    /// Nothing was made outside `dest`.
    pub(super) fn assert_outside_untouched(&self) {
        let outside: Vec<_> = std::fs::read_dir(self.path("outside")).unwrap().collect();
        assert!(outside.is_empty(), "written outside dest: {outside:?}");
        let top: Vec<String> = std::fs::read_dir(self.dir.path())
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        assert!(
            top.iter()
                .all(|n| n == "dest" || n == "outside" || n.starts_with("keep")),
            "{top:?}"
        );
    }
}

/// One file of a tree, as the tests compare them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct Node {
    pub kind: char,
    pub mode: u32,
    pub uid: u32,
    pub gid: u32,
    pub size: u64,
    pub mtime: (i64, i64),
    pub atime: Option<(i64, i64)>,
    pub content: Option<Digest>,
    pub link: Option<PathBuf>,
    pub rdev: Option<(u32, u32)>,
    pub xattrs: Vec<(String, Vec<u8>)>,
    /// The first path (in sorted order) of the same inode, for files with several links.
    pub same_as: Option<String>,
}

/// What to compare.
#[derive(Clone, Copy)]
pub(super) struct Compare {
    pub atime: bool,
    /// mtimes of directories.
    pub dir_mtime: bool,
    /// Nanoseconds of mtimes (formats without them round to seconds).
    pub nsec: bool,
}

pub(super) const EXACT: Compare = Compare {
    atime: true,
    dir_mtime: true,
    nsec: true,
};

fn read_noatime(path: &Path) -> Vec<u8> {
    let mut f = std::fs::OpenOptions::new()
        .read(true)
        .custom_flags(libc::O_NOATIME | libc::O_NOFOLLOW)
        .open(path)
        .unwrap();
    let mut data = Vec::new();
    f.read_to_end(&mut data).unwrap();
    data
}

/// Every file under `root` (not `root` itself), by relative path.
pub(super) fn snapshot(root: &Path, cmp: Compare) -> BTreeMap<String, Node> {
    let mut out = BTreeMap::new();
    let mut inodes: BTreeMap<(u64, u64), String> = BTreeMap::new();
    walk(root, root, cmp, &mut out, &mut inodes);
    out
}

fn walk(
    root: &Path,
    dir: &Path,
    cmp: Compare,
    out: &mut BTreeMap<String, Node>,
    inodes: &mut BTreeMap<(u64, u64), String>,
) {
    let mut names: Vec<_> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name())
        .collect();
    names.sort_by(|a, b| a.as_bytes().cmp(b.as_bytes()));
    let dir_file = File::open(dir).unwrap();
    for name in names {
        let path = dir.join(&name);
        let rel = path
            .strip_prefix(root)
            .unwrap()
            .to_string_lossy()
            .into_owned();
        let m = std::fs::symlink_metadata(&path).unwrap();
        let ft = m.file_type();
        let kind = if ft.is_dir() {
            'd'
        } else if ft.is_symlink() {
            'l'
        } else if ft.is_file() {
            'f'
        } else if ft.is_char_device() {
            'c'
        } else if ft.is_block_device() {
            'b'
        } else if ft.is_fifo() {
            'p'
        } else {
            's'
        };
        let mut xattrs: Vec<(String, Vec<u8>)> = xattr::list(On::Child {
            dir: dir_file.as_fd(),
            name: name.as_bytes(),
        })
        .unwrap()
        .into_iter()
        .map(|(k, v)| (String::from_utf8(k).unwrap(), v))
        .filter(|(k, _)| !k.starts_with("trusted.overlay.") && k != "security.selinux")
        .collect();
        xattrs.sort();
        let same_as = (kind != 'd' && m.nlink() > 1).then(|| {
            inodes
                .entry((m.dev(), m.ino()))
                .or_insert_with(|| rel.clone())
                .clone()
        });
        // An overlay whiteout's own metadata is invisible; only that it is there counts.
        let whiteout = kind == 'c' && m.rdev() == 0;
        let node = Node {
            kind,
            mode: m.mode() & 0o7777,
            uid: m.uid(),
            gid: m.gid(),
            size: if kind == 'd' { 0 } else { m.size() },
            mtime: match ((kind == 'd' && !cmp.dir_mtime) || whiteout, cmp.nsec) {
                (true, _) => (0, 0),
                (false, true) => (m.mtime(), m.mtime_nsec()),
                (false, false) => (m.mtime(), 0),
            },
            // Reading a symlink sets its atime, and nothing reads one without reading it.
            atime: (cmp.atime && kind != 'd' && kind != 'l' && !whiteout)
                .then(|| (m.atime(), m.atime_nsec())),
            content: (kind == 'f').then(|| Digest::of(&read_noatime(&path))),
            link: (kind == 'l').then(|| std::fs::read_link(&path).unwrap()),
            rdev: matches!(kind, 'c' | 'b').then(|| (libc::major(m.rdev()), libc::minor(m.rdev()))),
            xattrs,
            same_as,
        };
        out.insert(rel, node);
        if kind == 'd' {
            walk(root, &path, cmp, out, inodes);
        }
    }
}

/// Asserts two snapshots are equal, showing the first difference.
pub(super) fn assert_same(a: &BTreeMap<String, Node>, b: &BTreeMap<String, Node>) {
    let keys_a: Vec<_> = a.keys().collect();
    let keys_b: Vec<_> = b.keys().collect();
    assert_eq!(keys_a, keys_b, "different files");
    for (path, node) in a {
        assert_eq!(Some(node), b.get(path), "{path} differs");
    }
}

pub(super) fn run(cmd: &mut Command) -> String {
    let out = cmd.output().unwrap();
    assert!(
        out.status.success(),
        "{cmd:?}: {}\n{}",
        out.status,
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

pub(super) fn sh(script: &str) -> String {
    run(Command::new("sh").arg("-ec").arg(script))
}

pub(super) fn gzip(data: &[u8]) -> Vec<u8> {
    let mut e = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    e.write_all(data).unwrap();
    e.finish().unwrap()
}

/// Runs `f` on a thread in a private mount namespace of its own, so that nothing it mounts
/// is seen elsewhere and everything is gone when it ends (the namespace dies with it).
pub(super) fn in_mount_namespace<T: Send>(f: impl FnOnce() -> T + Send) -> T {
    std::thread::scope(|s| {
        s.spawn(|| {
            nix::sched::unshare(nix::sched::CloneFlags::CLONE_NEWNS).unwrap();
            nix::mount::mount(
                None::<&str>,
                "/",
                None::<&str>,
                nix::mount::MsFlags::MS_REC | nix::mount::MsFlags::MS_PRIVATE,
                None::<&str>,
            )
            .unwrap();
            f()
        })
        .join()
        .unwrap()
    })
}

/// An overlay mount, unmounted when dropped.
pub(super) struct Overlay {
    pub merged: PathBuf,
}

impl Overlay {
    /// `lowers` top first; with `upper_work`, a writable overlay.
    pub(super) fn mount(
        lowers: &[&Path],
        upper_work: Option<(&Path, &Path)>,
        merged: &Path,
    ) -> Overlay {
        let lower = lowers
            .iter()
            .map(|p| p.to_str().unwrap())
            .collect::<Vec<_>>()
            .join(":");
        let mut options = format!("lowerdir={lower}");
        if let Some((upper, work)) = upper_work {
            options += &format!(
                ",upperdir={},workdir={},redirect_dir=off,metacopy=off,index=off",
                upper.display(),
                work.display()
            );
        }
        nix::mount::mount(
            Some("overlay"),
            merged,
            Some("overlay"),
            nix::mount::MsFlags::empty(),
            Some(options.as_str()),
        )
        .unwrap_or_else(|e| panic!("mount -t overlay -o {options}: {e}"));
        Overlay {
            merged: merged.to_path_buf(),
        }
    }
}

impl Drop for Overlay {
    fn drop(&mut self) {
        let _ = nix::mount::umount2(&self.merged, nix::mount::MntFlags::MNT_DETACH);
    }
}
