//! The mounts that config.json lists, made inside the container's root before pivot_root.

use std::path::{Path, PathBuf};

use nix::mount::{MsFlags, mount};
use oci_spec::runtime::Mount;

use super::options::{self, MountOptions};
use crate::cgroups::ContainerCgroupView;
use crate::error::{Error, Result};
use crate::safepath::{InRoot, Node, RootDir};

pub(crate) struct MountContext<'a> {
    pub root: &'a RootDir,
    pub bundle: &'a Path,
    pub cgroup_view: &'a ContainerCgroupView,
    pub cgroup_ns: bool,
}

fn mount_error(dest: &Path, what: &str, e: nix::errno::Errno) -> Error {
    Error::ContainerInit(format!(
        "mounting {what} on {}: {}",
        dest.display(),
        std::io::Error::from(e)
    ))
}

pub(crate) fn mount_one(ctx: &MountContext<'_>, m: &Mount) -> Result<()> {
    let opts = options::parse(m.options().as_deref().unwrap_or_default(), m.destination())?;
    let resolved = ctx.root.resolve_lexically(m.destination())?;
    let dest = resolved.as_path();
    let typ = m
        .typ()
        .as_deref()
        .unwrap_or(if opts.is_bind() { "bind" } else { "" });
    match typ {
        _ if opts.is_bind() || typ == "bind" => bind(ctx, m, dest, &opts),
        "cgroup" | "cgroup2" => cgroup(ctx, dest, &opts),
        "" => Err(Error::InvalidSpec(format!(
            "mount {}: type is missing",
            dest.display()
        ))),
        _ => {
            let target = ctx.root.mkdir_all(dest)?;
            let source = m
                .source()
                .as_deref()
                .map(Path::to_path_buf)
                .unwrap_or_else(|| PathBuf::from(typ));
            mount(
                Some(&source),
                &target.proc_path(),
                Some(typ),
                opts.flags,
                (!opts.data.is_empty()).then_some(opts.data.as_str()),
            )
            .map_err(|e| mount_error(dest, typ, e))?;
            propagate(ctx.root, dest, &opts)
        }
    }
}

fn bind(ctx: &MountContext<'_>, m: &Mount, dest: &Path, opts: &MountOptions) -> Result<()> {
    let Some(source) = m.source() else {
        return Err(Error::InvalidSpec(format!(
            "bind mount {}: source is missing",
            dest.display()
        )));
    };
    let source = if source.is_absolute() {
        source.clone()
    } else {
        ctx.bundle.join(source)
    };
    let meta = std::fs::metadata(&source).map_err(|e| {
        Error::InvalidSpec(format!(
            "bind mount source {} for {}: {e}",
            source.display(),
            dest.display()
        ))
    })?;
    let target = if meta.is_dir() {
        ctx.root.mkdir_all(dest)?
    } else {
        ctx.root.create_file(dest)?
    };
    let flags = opts.flags & (MsFlags::MS_BIND | MsFlags::MS_REC);
    mount(
        Some(&source),
        &target.proc_path(),
        None::<&str>,
        flags,
        None::<&str>,
    )
    .map_err(|e| mount_error(dest, &source.display().to_string(), e))?;
    if let Some(remount) = opts.bind_remount_flags() {
        let mounted = resolve_mounted(ctx.root, dest)?;
        mount(
            None::<&str>,
            &mounted.proc_path(),
            None::<&str>,
            remount,
            None::<&str>,
        )
        .map_err(|e| mount_error(dest, "remount of bind", e))?;
    }
    propagate(ctx.root, dest, opts)
}

/// The handle above is the mount point underneath a new mount; the mount itself is found by
/// resolving the path again.
fn resolve_mounted(root: &RootDir, dest: &Path) -> Result<InRoot> {
    root.resolve(dest)?
        .ok_or_else(|| Error::ContainerInit(format!("{} vanished after mounting", dest.display())))
}

fn propagate(root: &RootDir, dest: &Path, opts: &MountOptions) -> Result<()> {
    if opts.propagation.is_empty() {
        return Ok(());
    }
    let mounted = resolve_mounted(root, dest)?;
    for flags in &opts.propagation {
        mount(
            None::<&str>,
            &mounted.proc_path(),
            None::<&str>,
            *flags,
            None::<&str>,
        )
        .map_err(|e| mount_error(dest, "propagation change", e))?;
    }
    Ok(())
}

/// /sys/fs/cgroup: on cgroup v1 a tmpfs holding one directory per hierarchy, each showing only
/// the container's own cgroup; on v2 the container's cgroup itself.
fn cgroup(ctx: &MountContext<'_>, dest: &Path, opts: &MountOptions) -> Result<()> {
    let flags = opts.flags & !(MsFlags::MS_BIND | MsFlags::MS_REC | MsFlags::MS_REMOUNT);
    match ctx.cgroup_view {
        ContainerCgroupView::V2 { host_path } => {
            let target = ctx.root.mkdir_all(dest)?;
            if ctx.cgroup_ns {
                mount(
                    Some("cgroup2"),
                    &target.proc_path(),
                    Some("cgroup2"),
                    flags,
                    None::<&str>,
                )
                .map_err(|e| mount_error(dest, "cgroup2", e))?;
            } else {
                mount(
                    Some(host_path.as_path()),
                    &target.proc_path(),
                    None::<&str>,
                    MsFlags::MS_BIND | MsFlags::MS_REC,
                    None::<&str>,
                )
                .map_err(|e| mount_error(dest, "cgroup2", e))?;
                let mounted = resolve_mounted(ctx.root, dest)?;
                mount(
                    None::<&str>,
                    &mounted.proc_path(),
                    None::<&str>,
                    flags | MsFlags::MS_BIND | MsFlags::MS_REMOUNT,
                    None::<&str>,
                )
                .map_err(|e| mount_error(dest, "remount of cgroup2", e))?;
            }
        }
        ContainerCgroupView::V1 { hierarchies } => {
            let target = ctx.root.mkdir_all(dest)?;
            // As with runc, the tmpfs stays writable; the hierarchies in it are read-only.
            let tmpfs_flags = flags - MsFlags::MS_RDONLY;
            mount(
                Some("tmpfs"),
                &target.proc_path(),
                Some("tmpfs"),
                tmpfs_flags,
                Some("mode=755"),
            )
            .map_err(|e| mount_error(dest, "tmpfs for cgroups", e))?;
            for h in hierarchies {
                let sub = dest.join(&h.dir_name);
                let sub_target = ctx.root.mkdir_all(&sub)?;
                if ctx.cgroup_ns {
                    let data = v1_mount_data(&h.dir_name);
                    mount(
                        Some("cgroup"),
                        &sub_target.proc_path(),
                        Some("cgroup"),
                        flags,
                        Some(data.as_str()),
                    )
                    .map_err(|e| mount_error(&sub, "cgroup", e))?;
                } else {
                    mount(
                        Some(h.host_path.as_path()),
                        &sub_target.proc_path(),
                        None::<&str>,
                        MsFlags::MS_BIND | MsFlags::MS_REC,
                        None::<&str>,
                    )
                    .map_err(|e| mount_error(&sub, "cgroup", e))?;
                    let mounted = resolve_mounted(ctx.root, &sub)?;
                    mount(
                        None::<&str>,
                        &mounted.proc_path(),
                        None::<&str>,
                        flags | MsFlags::MS_BIND | MsFlags::MS_REMOUNT,
                        None::<&str>,
                    )
                    .map_err(|e| mount_error(&sub, "remount of cgroup", e))?;
                }
                for link in &h.symlinks {
                    ctx.root
                        .create_node(&dest.join(link), Node::Symlink(Path::new(&h.dir_name)))?;
                }
            }
        }
    }
    propagate(ctx.root, dest, opts)
}

/// The mount(2) data that selects a v1 hierarchy by its directory name: its controllers, or
/// `none,name=X` for a named hierarchy such as systemd's.
fn v1_mount_data(dir_name: &str) -> String {
    const CONTROLLERS: &[&str] = &[
        "blkio",
        "cpu",
        "cpuacct",
        "cpuset",
        "devices",
        "freezer",
        "hugetlb",
        "memory",
        "misc",
        "net_cls",
        "net_prio",
        "perf_event",
        "pids",
        "rdma",
    ];
    if dir_name.split(',').all(|c| CONTROLLERS.contains(&c)) {
        dir_name.to_owned()
    } else {
        format!("none,name={dir_name}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn v1_hierarchies_are_selected_by_name() {
        assert_eq!(v1_mount_data("cpu,cpuacct"), "cpu,cpuacct");
        assert_eq!(v1_mount_data("memory"), "memory");
        assert_eq!(v1_mount_data("systemd"), "none,name=systemd");
    }
}
