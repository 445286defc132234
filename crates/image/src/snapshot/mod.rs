//! Unpacked layers and the overlay mounts made of them.
//!
//! Each layer lives unpacked, once, in `<root>/<chain id hex>/diff`, whatever number of
//! images share it; `<root>/l/<short>` links to it so that a mount's options stay short.
//! A layer is unpacked into `<root>/.tmp-*/` and renamed into place only when complete, so
//! that a crash never leaves half a layer under a real name: start-up removes `.tmp-*`.
//! A container's root filesystem is an overlay of its image's layers (lower) and its own
//! upper and work directories; this module describes and makes that mount, while which
//! layers exist and who uses them is the metadata's business.

mod init;
mod mount;
#[cfg(test)]
mod tests;

use std::path::{Path, PathBuf};

pub use mount::{OverlayMount, has_lowerdir_plus, unmount};

use crate::digest::Digest;

#[derive(Debug, thiserror::Error)]
pub enum SnapshotError {
    #[error("mounting overlay on {target}: {reason}")]
    Mount { target: PathBuf, reason: String },
    #[error("layer {0} is not unpacked")]
    MissingLayer(Digest),
    #[error("{context} {path}: {source}")]
    Io {
        context: &'static str,
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
}

fn io(
    context: &'static str,
    path: impl Into<PathBuf>,
) -> impl FnOnce(std::io::Error) -> SnapshotError {
    let path = path.into();
    move |source| SnapshotError::Io {
        context,
        path,
        source,
    }
}

/// Length of a short link name: enough to tell a host's layers apart, short enough for
/// some 270 layers in one page of mount options.
const SHORT_LEN: usize = 16;
const STAGING_PREFIX: &str = ".tmp-";

/// The unpacked layers of a data root.
#[derive(Debug, Clone)]
pub struct LayerDirs {
    root: PathBuf,
}

/// A layer being unpacked; commit it with [`LayerDirs::commit`], or drop it to throw it away.
#[derive(Debug)]
pub struct Staging {
    dir: PathBuf,
    committed: bool,
}

impl Staging {
    /// Where the layer's files go.
    pub fn diff(&self) -> PathBuf {
        self.dir.join("diff")
    }
}

impl Drop for Staging {
    fn drop(&mut self) {
        if !self.committed {
            let _ = std::fs::remove_dir_all(&self.dir);
        }
    }
}

impl LayerDirs {
    /// Opens the layer directory, removing layers that a crash left half unpacked.
    pub fn open(root: &Path) -> Result<LayerDirs, SnapshotError> {
        let links = root.join("l");
        std::fs::create_dir_all(&links).map_err(io("creating", &links))?;
        let dirs = LayerDirs {
            root: root.to_owned(),
        };
        for entry in std::fs::read_dir(root)
            .map_err(io("listing", root))?
            .flatten()
        {
            if entry
                .file_name()
                .to_string_lossy()
                .starts_with(STAGING_PREFIX)
            {
                let _ = std::fs::remove_dir_all(entry.path());
            }
        }
        Ok(dirs)
    }

    pub fn root(&self) -> &Path {
        &self.root
    }

    pub fn diff(&self, chain_id: &Digest) -> PathBuf {
        self.root.join(chain_id.hex()).join("diff")
    }

    pub fn exists(&self, chain_id: &Digest) -> bool {
        self.diff(chain_id).is_dir()
    }

    /// The link to a layer, relative to the root.
    pub fn short_link(&self, chain_id: &Digest) -> PathBuf {
        Path::new("l").join(&chain_id.hex()[..SHORT_LEN])
    }

    /// A fresh directory to unpack a layer into.
    pub fn staging(&self) -> Result<Staging, SnapshotError> {
        let mut n = std::process::id() as u64;
        loop {
            let nanos = std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map(|d| d.subsec_nanos())
                .unwrap_or(0);
            let dir = self.root.join(format!("{STAGING_PREFIX}{n:x}-{nanos:x}"));
            match std::fs::create_dir(&dir) {
                Ok(()) => {
                    std::fs::create_dir(dir.join("diff"))
                        .map_err(io("creating", dir.join("diff")))?;
                    return Ok(Staging {
                        dir,
                        committed: false,
                    });
                }
                Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => n += 1,
                Err(e) => return Err(io("creating", &dir)(e)),
            }
        }
    }

    /// Makes an unpacked layer durable and gives it its name. If the layer already exists
    /// (unpacked meanwhile by someone else), the staging copy is dropped: it is identical.
    pub fn commit(&self, mut staging: Staging, chain_id: &Digest) -> Result<(), SnapshotError> {
        let target = self.root.join(chain_id.hex());
        if target.exists() {
            return Ok(());
        }
        sync_filesystem(&staging.dir)?;
        std::fs::rename(&staging.dir, &target).map_err(io("committing layer", &target))?;
        staging.committed = true;
        let link = self.root.join(self.short_link(chain_id));
        let _ = std::fs::remove_file(&link);
        std::os::unix::fs::symlink(Path::new("..").join(chain_id.hex()).join("diff"), &link)
            .map_err(io("linking", &link))?;
        sync_dir(&self.root)?;
        Ok(())
    }

    pub fn remove(&self, chain_id: &Digest) -> Result<(), SnapshotError> {
        let _ = std::fs::remove_file(self.root.join(self.short_link(chain_id)));
        let dir = self.root.join(chain_id.hex());
        match std::fs::remove_dir_all(&dir) {
            Ok(()) => Ok(()),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(()),
            Err(e) => Err(io("removing layer", &dir)(e)),
        }
    }

    /// Every unpacked layer, by chain id.
    pub fn list(&self) -> Result<Vec<Digest>, SnapshotError> {
        let mut out = Vec::new();
        for entry in std::fs::read_dir(&self.root)
            .map_err(io("listing", &self.root))?
            .flatten()
        {
            if let Some(d) = entry
                .file_name()
                .to_str()
                .and_then(|n| Digest::from_hex(n).ok())
            {
                out.push(d);
            }
        }
        out.sort();
        Ok(out)
    }

    /// The overlay of an image's layers (`chain_ids` bottom to top, as in the image config),
    /// read-only, or with the writable `upper` (and its `work` dir) of a container.
    pub fn overlay(
        &self,
        chain_ids: &[Digest],
        upper: Option<(PathBuf, PathBuf)>,
    ) -> Result<OverlayMount, SnapshotError> {
        if let Some(missing) = chain_ids.iter().find(|c| !self.exists(c)) {
            return Err(SnapshotError::MissingLayer((*missing).clone()));
        }
        Ok(OverlayMount {
            lowers: chain_ids.iter().rev().map(|c| self.diff(c)).collect(),
            short_lowers: chain_ids.iter().rev().map(|c| self.short_link(c)).collect(),
            link_base: self.root.clone(),
            upper,
        })
    }

    /// The writable layer of a container in `dir` (its upper and work directories, made
    /// here), over the image's init layer and its layers.
    pub fn container_overlay(
        &self,
        chain_ids: &[Digest],
        dir: &Path,
    ) -> Result<OverlayMount, SnapshotError> {
        let upper = dir.join("upper");
        let work = dir.join("work");
        for d in [&upper, &work] {
            std::fs::create_dir_all(d).map_err(io("creating", d))?;
        }
        let mut overlay = self.overlay(chain_ids, Some((upper, work)))?;
        self.add_init_layer(&mut overlay, chain_ids)?;
        Ok(overlay)
    }
}

/// syncfs(2) of the filesystem holding `path`: one flush for a whole unpacked layer instead of
/// one fsync per file.
fn sync_filesystem(path: &Path) -> Result<(), SnapshotError> {
    let dir = std::fs::File::open(path).map_err(io("opening", path))?;
    rustix::fs::syncfs(&dir).map_err(|e| io("syncing", path)(e.into()))
}

fn sync_dir(path: &Path) -> Result<(), SnapshotError> {
    std::fs::File::open(path)
        .and_then(|d| d.sync_all())
        .map_err(io("syncing", path))
}
