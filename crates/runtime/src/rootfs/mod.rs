//! The container's filesystem view: its root, the listed mounts, /dev, then pivot_root and
//! the masked and read-only paths. Runs inside the container's new mount namespace.

mod devices;
mod mounts;
mod options;
mod paths;

use std::path::{Path, PathBuf};

use nix::mount::{MntFlags, MsFlags, mount, umount2};
use nix::unistd::{chdir, chroot, pivot_root};
use oci_spec::runtime::{LinuxDevice, Mount};

use crate::cgroups::ContainerCgroupView;
use crate::error::{Error, Result};
use crate::safepath::RootDir;

pub(crate) use devices::DeviceNode;
pub(crate) use options::rootfs_propagation;
pub(crate) use paths::{mask_paths, readonly_paths};

/// Everything the container's filesystem is made from, computed before the clone.
pub(crate) struct RootfsPlan {
    pub rootfs: PathBuf,
    pub bundle: PathBuf,
    pub mounts: Vec<Mount>,
    pub devices: Vec<DeviceNode>,
    /// Whether /dev is the container's own (not a bind of the host's), so nodes are made in it.
    pub make_dev: bool,
    pub cgroup_view: ContainerCgroupView,
    pub cgroup_ns: bool,
    pub readonly: bool,
    pub propagation: Option<MsFlags>,
    pub no_pivot: bool,
    pub cwd: PathBuf,
}

impl RootfsPlan {
    pub fn device_plan(listed: &[LinuxDevice]) -> Result<Vec<DeviceNode>> {
        devices::plan(listed)
    }

    /// /dev is the host's when a bind mount lands on it; then nothing is created there.
    pub fn owns_dev(mounts: &[Mount]) -> bool {
        !mounts.iter().any(|m| {
            m.destination() == Path::new("/dev")
                && (m.typ().as_deref() == Some("bind")
                    || m.options()
                        .iter()
                        .flatten()
                        .any(|o| o == "bind" || o == "rbind"))
        })
    }
}

fn sys_err(what: &str, e: nix::errno::Errno) -> Error {
    Error::ContainerInit(format!("{what}: {}", std::io::Error::from(e)))
}

/// Mounts and device nodes, made under the rootfs while the host is still visible.
pub(crate) fn prepare(plan: &RootfsPlan) -> Result<()> {
    // Nothing done in here may reach the host's mount tree.
    let root_propagation = match plan.propagation {
        Some(flags) if flags.contains(MsFlags::MS_SHARED) => MsFlags::MS_SLAVE | MsFlags::MS_REC,
        Some(flags) => flags,
        None => MsFlags::MS_SLAVE | MsFlags::MS_REC,
    };
    mount(
        None::<&str>,
        "/",
        None::<&str>,
        root_propagation,
        None::<&str>,
    )
    .map_err(|e| sys_err("making / a slave mount", e))?;
    // pivot_root needs the new root to be a mount point.
    mount(
        Some(&plan.rootfs),
        &plan.rootfs,
        None::<&str>,
        MsFlags::MS_BIND | MsFlags::MS_REC,
        None::<&str>,
    )
    .map_err(|e| {
        sys_err(
            &format!("bind-mounting rootfs {}", plan.rootfs.display()),
            e,
        )
    })?;

    let root = RootDir::open(&plan.rootfs)?;
    let ctx = mounts::MountContext {
        root: &root,
        bundle: &plan.bundle,
        cgroup_view: &plan.cgroup_view,
        cgroup_ns: plan.cgroup_ns,
    };
    for m in &plan.mounts {
        mounts::mount_one(&ctx, m)?;
    }
    if plan.make_dev {
        devices::create(&root, &plan.devices)?;
        devices::create_symlinks(&root)?;
    }
    // runc creates a missing working directory, and images rely on it. A cwd that cannot be
    // made here (say, through /proc) is left for chdir to judge after pivot_root.
    if let Ok(cwd) = root.resolve_lexically(&plan.cwd) {
        let _ = root.mkdir_all(&cwd);
    }
    Ok(())
}

/// Makes the rootfs `/` and lets go of the host's tree.
pub(crate) fn pivot(plan: &RootfsPlan) -> Result<()> {
    chdir(&plan.rootfs).map_err(|e| sys_err("entering rootfs", e))?;
    if plan.no_pivot {
        mount(Some("."), "/", None::<&str>, MsFlags::MS_MOVE, None::<&str>)
            .map_err(|e| sys_err("moving rootfs to /", e))?;
        chroot(".").map_err(|e| sys_err("chroot", e))?;
    } else {
        // With both arguments ".", the old root ends up stacked on the new one, and is then
        // detached without needing a directory for it inside the image.
        pivot_root(".", ".").map_err(|e| sys_err("pivot_root", e))?;
        mount(
            None::<&str>,
            ".",
            None::<&str>,
            MsFlags::MS_SLAVE | MsFlags::MS_REC,
            None::<&str>,
        )
        .map_err(|e| sys_err("making the old root a slave", e))?;
        umount2(".", MntFlags::MNT_DETACH).map_err(|e| sys_err("detaching the old root", e))?;
    }
    chdir("/").map_err(|e| sys_err("entering /", e))?;
    Ok(())
}

/// After pivot_root: the root's propagation and read-only flag.
pub(crate) fn finish_root(plan: &RootfsPlan) -> Result<()> {
    if let Some(flags) = plan.propagation {
        mount(None::<&str>, "/", None::<&str>, flags, None::<&str>)
            .map_err(|e| sys_err("setting rootfs propagation", e))?;
    }
    if plan.readonly {
        let current = nix::sys::statvfs::statvfs("/").map_err(|e| sys_err("statvfs /", e))?;
        let keep = paths::mount_flags_of(&current);
        mount(
            None::<&str>,
            "/",
            None::<&str>,
            keep | MsFlags::MS_BIND | MsFlags::MS_REMOUNT | MsFlags::MS_RDONLY,
            None::<&str>,
        )
        .map_err(|e| sys_err("making rootfs read-only", e))?;
    }
    Ok(())
}
