//! A directory written as a layer tar: an overlayfs upper dir (its whiteouts and opaque dirs
//! turned into OCI ones) or any tree (a container's rootfs, for export). The walk goes
//! through directory descriptors, entries sorted by name bytes, so the same tree always gives
//! the same bytes. Files are read with O_NOATIME, so archiving does not change the tree.

use std::collections::HashMap;
use std::ffi::OsStr;
use std::io::{self, BufWriter, Write};
use std::os::fd::{AsFd, BorrowedFd, OwnedFd};
use std::os::unix::ffi::OsStrExt;
use std::path::{Path, PathBuf};

use rustix::fs::{AtFlags, Dir, FileType, Mode, OFlags, StatxAttributes, StatxFlags};
use rustix::io::Errno;

use super::error::{LayerError, TreeProblem};
use super::paths::join;
use super::pax::{Segment, Time};
use super::sys::retry;
use super::tarwriter::{self, Header, TarWriter};
use super::whiteout;
use super::xattr::{self, On, Xattrs};
use crate::Digest;
use crate::digest::HashingWriter;

/// How times are written.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum TimePrecision {
    /// mtime in whole seconds, no atime: as Docker writes layers. Compact (no PAX header for
    /// most files) and stable (reading a file does not change the layer).
    #[default]
    Seconds,
    /// mtime and atime to the nanosecond, in PAX records: a full copy of the tree's times.
    Exact,
}

/// Options of [`diff_upper_with`] and [`write_tree_with`].
#[derive(Debug, Clone, Copy, Default)]
pub struct WriteOptions {
    pub times: TimePrecision,
}

/// What was written.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DiffStats {
    /// sha256 of the tar written: the layer's diff_id.
    pub diff_id: Digest,
    /// Bytes of tar written.
    pub tar_size: u64,
    /// Entries written, whiteouts and opaque markers included.
    pub entries: u64,
    /// `.wh.<name>` entries (from 0/0 character devices or xattr whiteouts).
    pub whiteouts: u64,
    /// `.wh..wh..opq` entries.
    pub opaque_dirs: u64,
    /// Bytes of regular file data: the files' lengths, holes included.
    pub data_bytes: u64,
    /// Sockets met: a tar cannot hold them, so they are left out (as GNU tar does).
    pub sockets_skipped: u64,
}

/// The content of an overlayfs upper dir as an uncompressed OCI layer tar: OCI whiteouts for
/// overlay whiteouts, `.wh..wh..opq` for opaque directories, overlayfs's own xattrs left out.
/// Sorted, so the same tree always gives the same bytes. An upper dir with redirect_dir or
/// metacopy data is refused (its content is not all in the upper dir). Files with at least
/// 1 MiB of holes are written in GNU tar's PAX sparse format 1.0.
///
/// `out` is taken by value: pass `&mut writer` to keep it (to finish a compressor, say).
pub fn diff_upper<W: Write>(upper: &Path, out: W) -> Result<DiffStats, LayerError> {
    diff_upper_with(upper, out, &WriteOptions::default())
}

pub fn diff_upper_with<W: Write>(
    upper: &Path,
    out: W,
    opts: &WriteOptions,
) -> Result<DiffStats, LayerError> {
    Walker::run(upper, out, opts, Walk::Upper)
}

/// A whole directory tree as a tar, same rules, no whiteouts (a 0/0 character device is
/// written as the device it is). Mount points inside are written as empty directories.
pub fn write_tree<W: Write>(root: &Path, out: W) -> Result<DiffStats, LayerError> {
    write_tree_with(root, out, &WriteOptions::default())
}

pub fn write_tree_with<W: Write>(
    root: &Path,
    out: W,
    opts: &WriteOptions,
) -> Result<DiffStats, LayerError> {
    Walker::run(root, out, opts, Walk::Tree)
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Walk {
    Upper,
    Tree,
}

const BUFFER: usize = 1 << 20;

struct Walker<W: Write> {
    root: PathBuf,
    walk: Walk,
    exact: bool,
    tar: TarWriter<BufWriter<HashingWriter<W>>>,
    /// Files with more than one link already written: (device, inode) -> path.
    links: HashMap<(u32, u32, u64), Vec<u8>>,
    buf: Vec<u8>,
    stats: Counts,
}

#[derive(Default)]
struct Counts {
    entries: u64,
    whiteouts: u64,
    opaque_dirs: u64,
    data_bytes: u64,
    sockets_skipped: u64,
}

/// What one file of the tree is.
struct Found {
    file_type: FileType,
    mode: u32,
    uid: u32,
    gid: u32,
    size: u64,
    nlink: u32,
    /// 512-byte blocks allocated.
    blocks: u64,
    dev: (u32, u32),
    ino: u64,
    rdev: (u32, u32),
    mtime: Time,
    atime: Time,
    mount_root: bool,
}

fn time(t: rustix::fs::StatxTimestamp) -> Time {
    Time {
        sec: t.tv_sec,
        nsec: t.tv_nsec,
    }
}

fn open_flags(dir: bool) -> OFlags {
    let kind = if dir {
        OFlags::DIRECTORY
    } else {
        OFlags::empty()
    };
    OFlags::RDONLY | OFlags::NOFOLLOW | OFlags::CLOEXEC | kind
}

/// Opens `name` without following it and without touching its atime where allowed (O_NOATIME
/// needs ownership or CAP_FOWNER; without them, it is read as anyone would).
fn open_noatime(dir: BorrowedFd<'_>, name: &[u8], is_dir: bool) -> Result<OwnedFd, Errno> {
    match retry(|| {
        rustix::fs::openat(
            dir,
            name,
            open_flags(is_dir) | OFlags::NOATIME,
            Mode::empty(),
        )
    }) {
        Err(Errno::PERM) => {
            retry(|| rustix::fs::openat(dir, name, open_flags(is_dir), Mode::empty()))
        }
        other => other,
    }
}

impl<W: Write> Walker<W> {
    fn run(root: &Path, out: W, opts: &WriteOptions, walk: Walk) -> Result<DiffStats, LayerError> {
        // The root itself may be reached through symlinks; nothing below it is.
        let flags = OFlags::RDONLY | OFlags::DIRECTORY | OFlags::CLOEXEC;
        let fd = match retry(|| rustix::fs::open(root, flags | OFlags::NOATIME, Mode::empty())) {
            Err(Errno::PERM) => retry(|| rustix::fs::open(root, flags, Mode::empty())),
            other => other,
        }
        .map_err(|e| LayerError::io("opening", root, e))?;
        let mut walker = Walker {
            root: root.to_path_buf(),
            walk,
            exact: opts.times == TimePrecision::Exact,
            tar: TarWriter::new(BufWriter::with_capacity(BUFFER, HashingWriter::new(out))),
            links: HashMap::new(),
            buf: vec![0u8; BUFFER],
            stats: Counts::default(),
        };
        walker.dir_contents(&fd, b"")?;
        let out = walker
            .tar
            .finish()
            .map_err(|e| LayerError::io("writing the tar of", root, e))?;
        let hashing = out
            .into_inner()
            .map_err(|e| LayerError::io("writing the tar of", root, e.into_error()))?;
        let (diff_id, tar_size, _) = hashing.finish();
        let c = walker.stats;
        Ok(DiffStats {
            diff_id,
            tar_size,
            entries: c.entries,
            whiteouts: c.whiteouts,
            opaque_dirs: c.opaque_dirs,
            data_bytes: c.data_bytes,
            sockets_skipped: c.sockets_skipped,
        })
    }

    fn full_path(&self, rel: &[u8]) -> PathBuf {
        self.root.join(OsStr::from_bytes(rel))
    }

    fn io_error(&self, op: &'static str, rel: &[u8], e: impl Into<io::Error>) -> LayerError {
        LayerError::io(op, self.full_path(rel), e)
    }

    fn write_error(&self, rel: &[u8], e: io::Error) -> LayerError {
        LayerError::io("writing the tar entry for", self.full_path(rel), e)
    }

    /// Every entry of the open directory `dir` (at `rel`), sorted.
    fn dir_contents(&mut self, dir: &OwnedFd, rel: &[u8]) -> Result<(), LayerError> {
        let mut names = Vec::new();
        let listing = Dir::read_from(dir).map_err(|e| self.io_error("reading", rel, e))?;
        for entry in listing {
            let entry = entry.map_err(|e| self.io_error("reading", rel, e))?;
            let name = entry.file_name().to_bytes();
            if name != b"." && name != b".." {
                names.push(name.to_vec());
            }
        }
        names.sort_unstable();
        for name in names {
            self.entry(dir.as_fd(), rel, &name)?;
        }
        Ok(())
    }

    fn stat(&self, dir: BorrowedFd<'_>, name: &[u8], path: &[u8]) -> Result<Found, LayerError> {
        let st = retry(|| {
            rustix::fs::statx(
                dir,
                name,
                AtFlags::SYMLINK_NOFOLLOW,
                StatxFlags::BASIC_STATS,
            )
        })
        .map_err(|e| self.io_error("reading the metadata of", path, e))?;
        Ok(Found {
            file_type: FileType::from_raw_mode(u32::from(st.stx_mode)),
            mode: u32::from(st.stx_mode) & 0o7777,
            uid: st.stx_uid,
            gid: st.stx_gid,
            size: st.stx_size,
            nlink: st.stx_nlink,
            blocks: st.stx_blocks,
            dev: (st.stx_dev_major, st.stx_dev_minor),
            ino: st.stx_ino,
            rdev: (st.stx_rdev_major, st.stx_rdev_minor),
            mtime: time(st.stx_mtime),
            atime: time(st.stx_atime),
            mount_root: st.stx_attributes_mask.contains(StatxAttributes::MOUNT_ROOT)
                && st.stx_attributes.contains(StatxAttributes::MOUNT_ROOT),
        })
    }

    fn header<'a>(
        &self,
        path: &'a [u8],
        kind: u8,
        f: &Found,
        xattrs: &'a [(Vec<u8>, Vec<u8>)],
    ) -> Header<'a> {
        let mut h = Header::new(path, kind);
        h.mode = f.mode;
        h.uid = f.uid;
        h.gid = f.gid;
        h.mtime = f.mtime;
        h.exact_mtime = self.exact;
        // Directories and symlinks have their atimes set by every lookup and listing: noise,
        // which would make the same tree give different bytes.
        let stable_atime = !matches!(f.file_type, FileType::Directory | FileType::Symlink);
        h.atime = (self.exact && stable_atime).then_some(f.atime);
        h.xattrs = xattrs;
        h
    }

    fn put(&mut self, h: &Header<'_>) -> Result<(), LayerError> {
        self.tar
            .header(h)
            .map_err(|e| self.write_error(h.path, e))?;
        self.stats.entries += 1;
        Ok(())
    }

    /// An empty marker entry (`.wh.<name>`, `.wh..wh..opq`): all fields zero, so that the
    /// same deletion always gives the same bytes.
    fn marker(&mut self, dir: &[u8], name: &[u8]) -> Result<(), LayerError> {
        let path = join(dir, name);
        self.put(&Header::new(&path, tarwriter::REGULAR))
    }

    /// The attributes that travel, and what overlayfs said with its own.
    fn xattrs(&self, on: On<'_>, path: &[u8]) -> Result<(Xattrs, Overlay), LayerError> {
        let all = xattr::list(on)
            .map_err(|e| self.io_error("reading the extended attributes of", path, e))?;
        let mut overlay = Overlay::default();
        let mut kept = Vec::with_capacity(all.len());
        for (key, value) in all {
            if xattr::travels(&key) {
                kept.push((key, value));
                continue;
            }
            let key = key.as_slice();
            if key == whiteout::OPAQUE_XATTR.as_bytes()
                || key == whiteout::USER_OPAQUE_XATTR.as_bytes()
            {
                overlay.opaque |= value == b"y";
            } else if key == whiteout::XATTR_WHITEOUT.as_bytes()
                || key == whiteout::USER_XATTR_WHITEOUT.as_bytes()
            {
                overlay.whiteout = true;
            } else if key.ends_with(b".overlay.redirect") {
                overlay.feature = Some("redirect_dir");
            } else if key.ends_with(b".overlay.metacopy") {
                overlay.feature = Some("metacopy");
            }
        }
        if let (Walk::Upper, Some(feature)) = (self.walk, overlay.feature) {
            return Err(LayerError::Tree {
                path: self.full_path(path),
                problem: TreeProblem::OverlayFeature(feature),
            });
        }
        Ok((kept, overlay))
    }

    fn entry(&mut self, dir: BorrowedFd<'_>, rel: &[u8], name: &[u8]) -> Result<(), LayerError> {
        let path = join(rel, name);
        let found = self.stat(dir, name, &path)?;
        let upper = self.walk == Walk::Upper;
        match found.file_type {
            FileType::CharacterDevice
                if upper
                    && whiteout::is_overlay_whiteout(
                        found.file_type,
                        found.rdev.0,
                        found.rdev.1,
                    ) =>
            {
                self.marker(rel, &whiteout::oci_name(name))?;
                self.stats.whiteouts += 1;
            }
            FileType::RegularFile => self.file(dir, rel, name, &path, &found)?,
            FileType::Directory => {
                let fd = open_noatime(dir, name, true)
                    .map_err(|e| self.io_error("opening", &path, e))?;
                let (xattrs, overlay) = self.xattrs(On::Fd(fd.as_fd()), &path)?;
                self.put(&self.header(&path, tarwriter::DIRECTORY, &found, &xattrs))?;
                if upper && overlay.opaque {
                    self.marker(&path, whiteout::OPAQUE)?;
                    self.stats.opaque_dirs += 1;
                }
                if !found.mount_root {
                    self.dir_contents(&fd, &path)?;
                }
            }
            FileType::Symlink => {
                let target = retry(|| rustix::fs::readlinkat(dir, name, Vec::new()))
                    .map_err(|e| self.io_error("reading the symlink", &path, e))?;
                let (xattrs, _) = self.xattrs(On::Child { dir, name }, &path)?;
                let mut h = self.header(&path, tarwriter::SYMLINK, &found, &xattrs);
                h.link = Some(target.as_bytes());
                self.put(&h)?;
            }
            FileType::CharacterDevice | FileType::BlockDevice | FileType::Fifo => {
                if let Some(first) = self.seen(&found, &path) {
                    return self.hard_link(&path, &first);
                }
                let kind = match found.file_type {
                    FileType::CharacterDevice => tarwriter::CHAR,
                    FileType::BlockDevice => tarwriter::BLOCK_DEVICE,
                    _ => tarwriter::FIFO,
                };
                let (xattrs, _) = self.xattrs(On::Child { dir, name }, &path)?;
                let mut h = self.header(&path, kind, &found, &xattrs);
                h.device = found.rdev;
                self.put(&h)?;
            }
            FileType::Socket => self.stats.sockets_skipped += 1,
            FileType::Unknown => {
                return Err(self.io_error(
                    "archiving",
                    &path,
                    io::Error::other("unknown file type"),
                ));
            }
        }
        Ok(())
    }

    /// For a file with several links: the path it was first written at, or None (and it is
    /// now remembered at `path`).
    fn seen(&mut self, found: &Found, path: &[u8]) -> Option<Vec<u8>> {
        if found.nlink < 2 {
            return None;
        }
        let key = (found.dev.0, found.dev.1, found.ino);
        if let Some(first) = self.links.get(&key) {
            return Some(first.clone());
        }
        self.links.insert(key, path.to_vec());
        None
    }

    fn hard_link(&mut self, path: &[u8], first: &[u8]) -> Result<(), LayerError> {
        let mut h = Header::new(path, tarwriter::HARD_LINK);
        h.link = Some(first);
        self.put(&h)
    }

    fn file(
        &mut self,
        dir: BorrowedFd<'_>,
        rel: &[u8],
        name: &[u8],
        path: &[u8],
        found: &Found,
    ) -> Result<(), LayerError> {
        let fd = open_noatime(dir, name, false).map_err(|e| self.io_error("opening", path, e))?;
        let (xattrs, overlay) = self.xattrs(On::Fd(fd.as_fd()), path)?;
        if self.walk == Walk::Upper && overlay.whiteout && found.size == 0 {
            self.marker(rel, &whiteout::oci_name(name))?;
            self.stats.whiteouts += 1;
            return Ok(());
        }
        if let Some(first) = self.seen(found, path) {
            return self.hard_link(path, &first);
        }
        let holes = found.size.saturating_sub(found.blocks.saturating_mul(512));
        let runs = if holes >= SPARSE_MIN_HOLES {
            data_runs(fd.as_fd(), found.size)
                .map_err(|e| self.io_error("finding the data of", path, e))?
        } else {
            None
        };
        let Some(runs) = runs else {
            let mut h = self.header(path, tarwriter::REGULAR, found, &xattrs);
            h.size = found.size;
            self.put(&h)?;
            let all = [Segment {
                offset: 0,
                len: found.size,
            }];
            self.copy_runs(fd.as_fd(), &all, path)?;
            self.tar
                .pad(found.size)
                .map_err(|e| self.write_error(path, e))?;
            self.stats.data_bytes += found.size;
            return Ok(());
        };
        // Mostly holes: written as GNU tar writes sparse files (PAX format 1.0), under a
        // stand-in name that readers without sparse support extract beside the real one.
        let map = tarwriter::sparse_map(&runs);
        let data: u64 = runs.iter().map(|r| r.len).sum();
        let stand_in = join(rel, &[&b"GNUSparseFile.0/"[..], name].concat());
        let mut h = self.header(&stand_in, tarwriter::REGULAR, found, &xattrs);
        h.size = map.len() as u64 + data;
        h.sparse = Some(tarwriter::Sparse {
            name: path,
            real_size: found.size,
        });
        self.put(&h)?;
        self.tar.data(&map).map_err(|e| self.write_error(path, e))?;
        self.copy_runs(fd.as_fd(), &runs, path)?;
        self.tar
            .pad(h.size)
            .map_err(|e| self.write_error(path, e))?;
        self.stats.data_bytes += found.size;
        Ok(())
    }

    /// Writes the bytes of `runs` of the file `fd`, back to back.
    fn copy_runs(
        &mut self,
        fd: BorrowedFd<'_>,
        runs: &[Segment],
        path: &[u8],
    ) -> Result<(), LayerError> {
        for run in runs {
            let (mut offset, end) = (run.offset, run.offset + run.len);
            while offset < end {
                let want = self
                    .buf
                    .len()
                    .min(usize::try_from(end - offset).unwrap_or(usize::MAX));
                let n = match retry(|| rustix::io::pread(fd, &mut self.buf[..want], offset)) {
                    Ok(0) => {
                        return Err(LayerError::Tree {
                            path: self.full_path(path),
                            problem: TreeProblem::ChangedSize,
                        });
                    }
                    Ok(n) => n,
                    Err(e) => return Err(self.io_error("reading", path, e)),
                };
                self.tar
                    .data(&self.buf[..n])
                    .map_err(|e| self.write_error(path, e))?;
                offset += n as u64;
            }
        }
        Ok(())
    }
}

/// Holes a file must have before it is written in the sparse format: a few small holes are
/// not worth a format some readers do not know.
const SPARSE_MIN_HOLES: u64 = 1 << 20;

/// The runs of data of a file of `size` bytes (SEEK_DATA / SEEK_HOLE), or `None` when the
/// filesystem cannot tell or the file turns out to be dense after all.
fn data_runs(fd: BorrowedFd<'_>, size: u64) -> Result<Option<Vec<Segment>>, Errno> {
    use rustix::fs::{SeekFrom, seek};
    let mut runs = Vec::new();
    let mut pos = 0;
    while pos < size {
        let start = match seek(fd, SeekFrom::Data(pos)) {
            Ok(start) => start,
            // No data after `pos`: the rest is a hole.
            Err(Errno::NXIO) => break,
            Err(Errno::INVAL | Errno::NOTSUP) => return Ok(None),
            Err(e) => return Err(e),
        };
        if start >= size {
            break;
        }
        let end = seek(fd, SeekFrom::Hole(start))?.min(size);
        runs.push(Segment {
            offset: start,
            len: end - start,
        });
        pos = end;
        if runs.len() > 1 << 16 {
            return Ok(None);
        }
    }
    let data: u64 = runs.iter().map(|r| r.len).sum();
    if size - data < SPARSE_MIN_HOLES {
        return Ok(None);
    }
    // GNU tar sizes the file by the end of its last run: one of length zero marks the end of
    // a file that ends in a hole, as GNU tar itself writes it.
    if runs.last().is_none_or(|r| r.offset + r.len < size) {
        runs.push(Segment {
            offset: size,
            len: 0,
        });
    }
    Ok(Some(runs))
}

/// What overlayfs's own xattrs said about a file.
#[derive(Default)]
struct Overlay {
    opaque: bool,
    whiteout: bool,
    feature: Option<&'static str>,
}
