//! The init layer of an image: the mount points every container of it needs (`/proc`, `/dev`,
//! `/sys`, and `/etc/hosts`, `/etc/hostname`, `/etc/resolv.conf` for the files the engine
//! binds there) that the image itself lacks, made once per layer stack and shared, read-only,
//! by all its containers, between their writable layer and the image's layers (Docker's
//! `-init` layer, which Docker makes per container).
//!
//! Without it the runtime makes those mount points in each container's writable layer: seven
//! inodes made and freed on the data root per container, which is what slows a quick series
//! of `run`s on a file system without a journal (ext4 then skips recently freed inodes one by
//! one when it allocates), and what a commit of the writable layer would have to leave out.
//!
//! `<layers root>/<chain id of the top layer>/init` sits beside that layer's `diff`, so it goes
//! when the layer goes.

use std::ffi::OsStr;
use std::fs::Metadata;
use std::os::unix::fs::{DirBuilderExt, MetadataExt, PermissionsExt};
use std::path::{Path, PathBuf};

use super::{LayerDirs, OverlayMount, SnapshotError, io};
use crate::digest::Digest;
use crate::layer::whiteout;

/// Directories the runtime mounts file systems on.
const MOUNT_DIRS: [&str; 3] = ["proc", "dev", "sys"];
/// Files in /etc the engine binds its own over.
const ETC_FILES: [&str; 3] = ["hosts", "hostname", "resolv.conf"];

/// What the layers, stacked, show at a path.
#[derive(Debug)]
enum Merged {
    Missing,
    Dir(Metadata),
    /// A file, a symlink or a device: left as it is.
    Other,
}

impl LayerDirs {
    /// Puts the init layer of `chain_ids` (bottom to top) under the other lowers of `overlay`,
    /// making it first if this stack has none yet. An empty stack has no init layer.
    pub fn add_init_layer(
        &self,
        overlay: &mut OverlayMount,
        chain_ids: &[Digest],
    ) -> Result<(), SnapshotError> {
        let Some(top) = chain_ids.last() else {
            return Ok(());
        };
        let relative = Path::new(top.hex()).join("init");
        let init = self.root.join(&relative);
        if !init.is_dir() {
            self.make_init_layer(&init, chain_ids)?;
        }
        overlay.lowers.insert(0, init);
        overlay.short_lowers.insert(0, relative);
        Ok(())
    }

    /// Builds the init layer in a staging directory and renames it into place. Not synced:
    /// it holds only empty files and directories derived from the layers, and one that a
    /// power cut left incomplete only means mount points made in the writable layer again.
    fn make_init_layer(&self, init: &Path, chain_ids: &[Digest]) -> Result<(), SnapshotError> {
        let layers: Vec<PathBuf> = chain_ids.iter().rev().map(|c| self.diff(c)).collect();
        let staging = self.staging()?;
        let built = staging.dir.join("init");
        fill_init_layer(&built, &layers)?;
        match std::fs::rename(&built, init) {
            Ok(()) => Ok(()),
            // Another container of the same image made it meanwhile: the same content.
            Err(_) if init.is_dir() => Ok(()),
            Err(e) => Err(io("making the init layer", init)(e)),
        }
    }
}

/// Makes in `init` what the stacked `layers` (top first) lack of the mount points.
fn fill_init_layer(init: &Path, layers: &[PathBuf]) -> Result<(), SnapshotError> {
    make_dir(init, 0o755, None)?;
    for name in MOUNT_DIRS {
        if let Merged::Missing = merged(layers, Path::new(name))? {
            make_dir(&init.join(name), 0o755, None)?;
        }
    }
    let etc_dir = init.join("etc");
    let etc = merged(layers, Path::new("etc"))?;
    let like = match &etc {
        Merged::Missing => None,
        Merged::Dir(meta) => Some(meta),
        Merged::Other => return Ok(()),
    };
    for name in ETC_FILES {
        let present = match &etc {
            Merged::Missing => false,
            _ => !matches!(
                merged(layers, &Path::new("etc").join(name))?,
                Merged::Missing
            ),
        };
        if present {
            continue;
        }
        if !etc_dir.is_dir() {
            // The image's /etc as it is (mode, owner): this one covers it in the merged view.
            make_dir(&etc_dir, like.map_or(0o755, |m| m.mode() & 0o7777), like)?;
        }
        let file = etc_dir.join(name);
        std::fs::File::create(&file).map_err(io("creating", &file))?;
        std::fs::set_permissions(&file, std::fs::Permissions::from_mode(0o644))
            .map_err(io("setting the mode of", &file))?;
    }
    Ok(())
}

fn make_dir(path: &Path, mode: u32, owner: Option<&Metadata>) -> Result<(), SnapshotError> {
    std::fs::DirBuilder::new()
        .mode(mode)
        .create(path)
        .map_err(io("creating", path))?;
    if let Some(meta) = owner {
        std::os::unix::fs::chown(path, Some(meta.uid()), Some(meta.gid()))
            .map_err(io("setting the owner of", path))?;
    }
    // The umask took its share at creation.
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(mode))
        .map_err(io("setting the mode of", path))
}

/// What overlayfs would show at `relative` (plain components, no symlink followed) for
/// `layers`, top first: the first layer that has the name decides, a whiteout hides the name,
/// and a directory merges with the directories below it unless it is opaque or a non-directory
/// lies between.
fn merged(layers: &[PathBuf], relative: &Path) -> Result<Merged, SnapshotError> {
    let components: Vec<&OsStr> = relative.iter().collect();
    let mut searched: Vec<&Path> = layers.iter().map(PathBuf::as_path).collect();
    for depth in 1..=components.len() {
        let prefix: PathBuf = components[..depth].iter().collect();
        let mut found: Option<Metadata> = None;
        let mut merging = Vec::new();
        for layer in &searched {
            let path = layer.join(&prefix);
            let meta = match std::fs::symlink_metadata(&path) {
                Ok(meta) => meta,
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => continue,
                Err(e) => return Err(io("looking at", &path)(e)),
            };
            if is_whiteout(&meta) {
                break;
            }
            let is_dir = meta.is_dir();
            if found.is_none() {
                found = Some(meta);
            }
            if !is_dir {
                break;
            }
            merging.push(*layer);
            if is_opaque(&path) {
                break;
            }
        }
        let Some(meta) = found else {
            return Ok(Merged::Missing);
        };
        if !meta.is_dir() {
            // At the end, a file; before it, a symlink or file the path goes through.
            return Ok(Merged::Other);
        }
        if depth == components.len() {
            return Ok(Merged::Dir(meta));
        }
        searched = merging;
    }
    Ok(Merged::Missing)
}

fn is_whiteout(meta: &Metadata) -> bool {
    use std::os::unix::fs::FileTypeExt;
    meta.file_type().is_char_device() && meta.rdev() == 0
}

fn is_opaque(dir: &Path) -> bool {
    let mut value = [0u8; 1];
    matches!(
        rustix::fs::lgetxattr(dir, whiteout::OPAQUE_XATTR, &mut value),
        Ok(1) if value[0] == b'y'
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn layer(root: &Path, name: &str) -> PathBuf {
        let dir = root.join(name);
        std::fs::create_dir(&dir).unwrap();
        dir
    }

    #[test]
    fn the_top_most_layer_with_the_name_decides() {
        let tmp = tempfile::tempdir().unwrap();
        let (top, bottom) = (layer(tmp.path(), "top"), layer(tmp.path(), "bottom"));
        std::fs::create_dir_all(bottom.join("etc")).unwrap();
        std::fs::write(bottom.join("etc/hosts"), "").unwrap();
        std::fs::create_dir(top.join("etc")).unwrap();
        let layers = vec![top.clone(), bottom.clone()];
        // A directory of the upper layer merges with the one below it.
        assert!(matches!(
            merged(&layers, Path::new("etc/hosts")).unwrap(),
            Merged::Other
        ));
        assert!(matches!(
            merged(&layers, Path::new("etc")).unwrap(),
            Merged::Dir(_)
        ));
        assert!(matches!(
            merged(&layers, Path::new("proc")).unwrap(),
            Merged::Missing
        ));
        // A symlink over a directory hides it.
        std::os::unix::fs::symlink("elsewhere", top.join("proc")).unwrap();
        std::fs::create_dir(bottom.join("proc")).unwrap();
        assert!(matches!(
            merged(&layers, Path::new("proc")).unwrap(),
            Merged::Other
        ));
    }

    /// Whiteouts (0/0 devices) and opaque directories need root; CI runs the tests as root.
    #[test]
    fn whiteouts_and_opaque_directories_hide_what_is_below() {
        if !nix::unistd::geteuid().is_root() {
            eprintln!("skipped: needs root for whiteouts and trusted.* xattrs");
            return;
        }
        let tmp = tempfile::tempdir().unwrap();
        let (top, bottom) = (layer(tmp.path(), "top"), layer(tmp.path(), "bottom"));
        std::fs::create_dir_all(bottom.join("etc")).unwrap();
        std::fs::write(bottom.join("etc/hosts"), "").unwrap();
        std::fs::write(bottom.join("etc/hostname"), "").unwrap();
        std::fs::create_dir(bottom.join("sys")).unwrap();
        std::fs::create_dir(top.join("etc")).unwrap();
        let top_etc = std::fs::File::open(top.join("etc")).unwrap();
        whiteout::make(&top_etc, b"hosts").unwrap();
        whiteout::make(std::fs::File::open(&top).unwrap(), b"sys").unwrap();
        let layers = vec![top.clone(), bottom.clone()];
        assert!(matches!(
            merged(&layers, Path::new("etc/hosts")).unwrap(),
            Merged::Missing
        ));
        assert!(matches!(
            merged(&layers, Path::new("etc/hostname")).unwrap(),
            Merged::Other
        ));
        assert!(matches!(
            merged(&layers, Path::new("sys")).unwrap(),
            Merged::Missing
        ));
        whiteout::mark_opaque(&top_etc).unwrap();
        assert!(matches!(
            merged(&layers, Path::new("etc/hostname")).unwrap(),
            Merged::Missing
        ));
    }

    #[test]
    fn the_init_layer_holds_what_the_image_lacks_with_its_etc_as_it_is() {
        let tmp = tempfile::tempdir().unwrap();
        let image = layer(tmp.path(), "image");
        std::fs::create_dir(image.join("dev")).unwrap();
        std::fs::create_dir(image.join("etc")).unwrap();
        std::fs::set_permissions(image.join("etc"), std::fs::Permissions::from_mode(0o750))
            .unwrap();
        std::fs::write(image.join("etc/hostname"), "image's").unwrap();
        let init = tmp.path().join("init");
        fill_init_layer(&init, &[image]).unwrap();
        let mut made: Vec<String> = walkdir(&init);
        made.sort();
        assert_eq!(made, ["etc", "etc/hosts", "etc/resolv.conf", "proc", "sys"]);
        let etc = std::fs::metadata(init.join("etc")).unwrap();
        assert_eq!(etc.mode() & 0o7777, 0o750);
        assert_eq!(
            std::fs::metadata(init.join("etc/hosts")).unwrap().mode() & 0o777,
            0o644
        );
    }

    #[test]
    fn an_etc_that_is_no_directory_is_left_alone() {
        let tmp = tempfile::tempdir().unwrap();
        let image = layer(tmp.path(), "image");
        std::os::unix::fs::symlink("usr/etc", image.join("etc")).unwrap();
        for name in MOUNT_DIRS {
            std::fs::create_dir(image.join(name)).unwrap();
        }
        let init = tmp.path().join("init");
        fill_init_layer(&init, &[image]).unwrap();
        assert!(walkdir(&init).is_empty());
    }

    fn walkdir(root: &Path) -> Vec<String> {
        let mut out = Vec::new();
        let mut stack = vec![root.to_owned()];
        while let Some(dir) = stack.pop() {
            for entry in std::fs::read_dir(&dir).unwrap().flatten() {
                let path = entry.path();
                out.push(path.strip_prefix(root).unwrap().display().to_string());
                if entry.file_type().unwrap().is_dir() {
                    stack.push(path);
                }
            }
        }
        out
    }
}
