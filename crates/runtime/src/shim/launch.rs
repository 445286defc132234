//! Making a container from a checked bundle: cgroup, seccomp program, the init plan, the clone,
//! and the state record — undone entirely if any step fails.

use std::os::fd::OwnedFd;
use std::path::{Path, PathBuf};

use crate::cgroups::Cgroup;
use crate::error::{Error, Result};
use crate::init::{InitPlan, ProcessPlan};
use crate::namespaces::Namespaces;
use crate::rootfs::{RootfsPlan, rootfs_propagation};
use crate::seccomp;
use crate::spawn::{self, Child};
use crate::spec::Bundle;
use crate::state::{CONFIG_FILE, STATE_FILE, StateDir, StoredState, now_rfc3339};
use crate::sys;

pub(crate) struct LaunchOptions {
    pub bundle: Bundle,
    pub console_socket: Option<PathBuf>,
    pub no_pivot: bool,
    pub preserve_fds: u32,
    /// The shim owns the container's stdio (detached shims only).
    pub io: Option<crate::ops::ManagedIo>,
}

pub(crate) struct Launched {
    pub child: Child,
    pub cgroup: Cgroup,
    pub pty_master: Option<OwnedFd>,
    pub stored: StoredState,
}

pub(crate) fn launch(state_dir: &StateDir, options: &LaunchOptions) -> Result<Launched> {
    let spec = &options.bundle.spec;
    let linux = spec
        .linux()
        .as_ref()
        .ok_or_else(|| Error::InvalidSpec("linux is missing".into()))?;
    let cgroup = Cgroup::for_container(linux.cgroups_path().as_deref(), &state_dir.id)?;
    cgroup.create(linux.resources().as_ref())?;
    match launch_in_cgroup(state_dir, options, &cgroup) {
        Ok((child, pty_master, stored)) => Ok(Launched {
            child,
            cgroup,
            pty_master,
            stored,
        }),
        Err(e) => {
            let _ = cgroup.destroy();
            Err(e)
        }
    }
}

fn launch_in_cgroup(
    state_dir: &StateDir,
    options: &LaunchOptions,
    cgroup: &Cgroup,
) -> Result<(Child, Option<OwnedFd>, StoredState)> {
    let bundle = &options.bundle;
    let plan = init_plan(options, cgroup, &state_dir.seccomp_cache())?;
    let child = spawn::spawn_init(&plan, cgroup)?;
    let pty_master = child.wait_ready()?;
    let stored = StoredState {
        id: state_dir.id.clone(),
        bundle: bundle.path.clone(),
        rootfs: bundle.rootfs.clone(),
        pid: child.pid,
        pid_start_time: sys::process_start_time(child.pid).unwrap_or(0),
        shim_pid: std::process::id() as i32,
        shim_start_time: sys::process_start_time(std::process::id() as i32).unwrap_or(0),
        created: now_rfc3339(),
        annotations: bundle.spec.annotations().clone().unwrap_or_default(),
        cgroup: cgroup.paths().clone(),
    };
    let recorded = state_dir
        .write_json(CONFIG_FILE, &bundle.spec)
        .and_then(|()| state_dir.write_json(STATE_FILE, &stored));
    if let Err(e) = recorded {
        child.kill_and_reap();
        return Err(e);
    }
    Ok((child, pty_master, stored))
}

fn init_plan(options: &LaunchOptions, cgroup: &Cgroup, seccomp_cache: &Path) -> Result<InitPlan> {
    let bundle = &options.bundle;
    let spec = &bundle.spec;
    let linux = spec
        .linux()
        .as_ref()
        .ok_or_else(|| Error::InvalidSpec("linux is missing".into()))?;
    let process = spec
        .process()
        .as_ref()
        .ok_or_else(|| Error::InvalidSpec("process is missing".into()))?;
    let namespaces = Namespaces::from_spec(linux.namespaces().as_deref().unwrap_or_default())?;
    let seccomp = linux
        .seccomp()
        .as_ref()
        .map(|s| seccomp::compile_cached(s, seccomp_cache))
        .transpose()?;
    let mounts = spec.mounts().clone().unwrap_or_default();
    let propagation = linux
        .rootfs_propagation()
        .as_deref()
        .filter(|p| !p.is_empty())
        .map(rootfs_propagation)
        .transpose()?;
    let rootfs = RootfsPlan {
        rootfs: bundle.rootfs.clone(),
        bundle: bundle.path.clone(),
        devices: RootfsPlan::device_plan(linux.devices().as_deref().unwrap_or_default())?,
        make_dev: RootfsPlan::owns_dev(&mounts),
        mounts,
        cgroup_view: cgroup.container_view(),
        cgroup_ns: namespaces.new_cgroup_ns,
        readonly: spec
            .root()
            .as_ref()
            .and_then(|r| r.readonly())
            .unwrap_or(false),
        propagation,
        no_pivot: options.no_pivot,
        cwd: process.cwd().clone(),
    };
    let mut sysctl: Vec<(String, String)> = linux
        .sysctl()
        .iter()
        .flatten()
        .map(|(k, v)| (k.clone(), v.clone()))
        .collect();
    sysctl.sort();
    Ok(InitPlan {
        hostname: spec.hostname().clone().filter(|h| !h.is_empty()),
        domainname: spec.domainname().clone().filter(|d| !d.is_empty()),
        namespaces,
        rootfs,
        sysctl,
        masked_paths: linux.masked_paths().clone().unwrap_or_default(),
        readonly_paths: linux.readonly_paths().clone().unwrap_or_default(),
        process: ProcessPlan::from_spec(process, seccomp, options.preserve_fds)?,
    })
}
