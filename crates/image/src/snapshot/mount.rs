//! Mounting an overlay: through the new mount API with one `lowerdir+` per layer (Linux 6.8+),
//! which no option-length limit constrains; otherwise with mount(2) and a single option
//! string, shortened when needed to relative short links (the page-size limit on mount data
//! is what caps images at ~125 layers with absolute paths).

use std::ffi::CString;
use std::os::unix::ffi::OsStrExt;
use std::path::{Path, PathBuf};

use rustix::mount::{FsMountFlags, FsOpenFlags, MountAttrFlags, MoveMountFlags, UnmountFlags};

use super::SnapshotError;

/// How a container's (or an image's) root filesystem is mounted.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OverlayMount {
    /// Layer directories, the top-most first.
    pub lowers: Vec<PathBuf>,
    /// The container's writable layer and overlayfs's work dir; none for a read-only view.
    pub upper: Option<(PathBuf, PathBuf)>,
    /// The same lowers as short links relative to `link_base`, for the mount(2) fallback.
    pub short_lowers: Vec<PathBuf>,
    pub link_base: PathBuf,
}

/// An upper dir must hold whole files and real directories, never pointers into the lower
/// layers, so that it can be turned into a layer (commit, build).
const SELF_CONTAINED_UPPER: [(&str, &str); 2] = [("redirect_dir", "off"), ("metacopy", "off")];

/// mount(2) data must fit in one page, including the terminating NUL.
const MOUNT_DATA_MAX: usize = 4095;

impl OverlayMount {
    /// Mounts the overlay on `target` (an existing directory).
    pub fn mount(&self, target: &Path) -> Result<(), SnapshotError> {
        if self.lowers.is_empty() {
            return Err(SnapshotError::Mount {
                target: target.to_owned(),
                reason: "an overlay needs at least one lower layer".into(),
            });
        }
        if self.upper.is_none() && self.lowers.len() == 1 {
            // overlayfs refuses a single lower without an upper: a read-only bind does the same.
            return bind_readonly(&self.lowers[0], target);
        }
        match self.mount_with_fsconfig(target) {
            Ok(()) => Ok(()),
            // Kernels without the new API or without lowerdir+ (before 6.8).
            Err(rustix::io::Errno::NOSYS | rustix::io::Errno::INVAL) => {
                self.mount_with_options(target)
            }
            Err(e) => Err(SnapshotError::Mount {
                target: target.to_owned(),
                reason: std::io::Error::from(e).to_string(),
            }),
        }
    }

    fn mount_with_fsconfig(&self, target: &Path) -> rustix::io::Result<()> {
        let fs = rustix::mount::fsopen("overlay", FsOpenFlags::FSOPEN_CLOEXEC)?;
        for lower in &self.lowers {
            rustix::mount::fsconfig_set_string(&fs, "lowerdir+", lower.as_path())?;
        }
        if let Some((upper, work)) = &self.upper {
            rustix::mount::fsconfig_set_string(&fs, "upperdir", upper.as_path())?;
            rustix::mount::fsconfig_set_string(&fs, "workdir", work.as_path())?;
            for (key, value) in SELF_CONTAINED_UPPER {
                rustix::mount::fsconfig_set_string(&fs, key, value)?;
            }
        }
        rustix::mount::fsconfig_create(&fs)?;
        let attrs = if self.upper.is_some() {
            MountAttrFlags::empty()
        } else {
            MountAttrFlags::MOUNT_ATTR_RDONLY
        };
        let mnt = rustix::mount::fsmount(&fs, FsMountFlags::FSMOUNT_CLOEXEC, attrs)?;
        rustix::mount::move_mount(
            &mnt,
            "",
            rustix::fs::CWD,
            target,
            MoveMountFlags::MOVE_MOUNT_F_EMPTY_PATH,
        )
    }

    fn options(&self, lowers: &[PathBuf]) -> String {
        let joined: Vec<String> = lowers.iter().map(|p| p.display().to_string()).collect();
        let mut data = format!("lowerdir={}", joined.join(":"));
        if let Some((upper, work)) = &self.upper {
            data.push_str(&format!(
                ",upperdir={},workdir={}",
                upper.display(),
                work.display()
            ));
        }
        data
    }

    fn mount_with_options(&self, target: &Path) -> Result<(), SnapshotError> {
        let failure = |reason: String| SnapshotError::Mount {
            target: target.to_owned(),
            reason,
        };
        let flags = if self.upper.is_some() {
            nix::mount::MsFlags::empty()
        } else {
            nix::mount::MsFlags::MS_RDONLY
        };
        let absolute = self.options(&self.lowers);
        if absolute.len() <= MOUNT_DATA_MAX {
            return nix::mount::mount(
                Some("overlay"),
                target,
                Some("overlay"),
                flags,
                Some(absolute.as_str()),
            )
            .map_err(|e| failure(e.desc().to_owned()));
        }
        let short = self.options(&self.short_lowers);
        if short.len() > MOUNT_DATA_MAX {
            return Err(failure(format!(
                "{} layers do not fit in one mount's options on this kernel (before Linux 6.8)",
                self.lowers.len()
            )));
        }
        mount_from(&self.link_base, target, &short, flags).map_err(|e| failure(e.desc().to_owned()))
    }
}

/// mount(2) with paths relative to `base`: done by a child that changes its own working
/// directory, since the caller's is shared by all its threads.
fn mount_from(
    base: &Path,
    target: &Path,
    data: &str,
    flags: nix::mount::MsFlags,
) -> Result<(), nix::errno::Errno> {
    let to_c = |p: &[u8]| CString::new(p).map_err(|_| nix::errno::Errno::EINVAL);
    let base = to_c(base.as_os_str().as_bytes())?;
    let target = std::path::absolute(target).map_err(|_| nix::errno::Errno::EINVAL)?;
    let target = to_c(target.as_os_str().as_bytes())?;
    let data = to_c(data.as_bytes())?;
    let overlay = to_c(b"overlay")?;
    // SAFETY: the child only makes async-signal-safe system calls on memory prepared before
    // the fork, then _exits; the parent waits for it.
    let pid = unsafe { libc::fork() };
    match pid {
        -1 => Err(nix::errno::Errno::last()),
        0 => {
            // SAFETY: see above; all pointers are to NUL-terminated strings alive in this copy.
            let rc = unsafe {
                if libc::chdir(base.as_ptr()) != 0 {
                    libc::_exit(*libc::__errno_location())
                }
                libc::mount(
                    overlay.as_ptr(),
                    target.as_ptr(),
                    overlay.as_ptr(),
                    flags.bits(),
                    data.as_ptr().cast(),
                )
            };
            // SAFETY: leaving the child without running the parent's destructors.
            unsafe {
                libc::_exit(if rc == 0 {
                    0
                } else {
                    *libc::__errno_location()
                })
            }
        }
        pid => match nix::sys::wait::waitpid(nix::unistd::Pid::from_raw(pid), None)? {
            nix::sys::wait::WaitStatus::Exited(_, 0) => Ok(()),
            nix::sys::wait::WaitStatus::Exited(_, errno) => Err(nix::errno::Errno::from_raw(errno)),
            _ => Err(nix::errno::Errno::EIO),
        },
    }
}

fn bind_readonly(source: &Path, target: &Path) -> Result<(), SnapshotError> {
    use nix::mount::{MsFlags, mount};
    let failure = |e: nix::errno::Errno| SnapshotError::Mount {
        target: target.to_owned(),
        reason: e.desc().to_owned(),
    };
    mount(
        Some(source),
        target,
        None::<&str>,
        MsFlags::MS_BIND,
        None::<&str>,
    )
    .map_err(failure)?;
    mount(
        None::<&str>,
        target,
        None::<&str>,
        MsFlags::MS_BIND | MsFlags::MS_REMOUNT | MsFlags::MS_RDONLY,
        None::<&str>,
    )
    .map_err(failure)
}

/// Unmounts `target`; not mounted is fine.
pub fn unmount(target: &Path) -> Result<(), SnapshotError> {
    match rustix::mount::unmount(target, UnmountFlags::DETACH) {
        Ok(()) | Err(rustix::io::Errno::INVAL) | Err(rustix::io::Errno::NOENT) => Ok(()),
        Err(e) => Err(SnapshotError::Mount {
            target: target.to_owned(),
            reason: format!("unmounting: {}", std::io::Error::from(e)),
        }),
    }
}

/// Whether the new mount API with `lowerdir+` is what this kernel uses (for tests and info).
pub fn has_lowerdir_plus() -> bool {
    let Ok(fs) = rustix::mount::fsopen("overlay", FsOpenFlags::FSOPEN_CLOEXEC) else {
        return false;
    };
    rustix::mount::fsconfig_set_string(&fs, "lowerdir+", "/").is_ok()
}

#[cfg(test)]
pub(super) fn force_option_string(m: &OverlayMount, target: &Path) -> Result<(), SnapshotError> {
    m.mount_with_options(target)
}
