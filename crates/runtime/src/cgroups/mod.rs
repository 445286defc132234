//! Control groups for containers, on cgroup v1 (including the hybrid layout) and v2.
//!
//! Owns: detecting the host's cgroup layout (once, cached), placing a container's cgroup
//! (by default `<own cgroup>/pier/<id>` in every hierarchy, where "own" is the cgroup of this
//! process; `linux.cgroupsPath` relative to it or absolute from the hierarchy root, as
//! runc), creating it, applying OCI `linux.resources` (devices as v1 rules or a v2 eBPF
//! program), moving processes in, signalling, freezing, OOM counts, tearing it down, and
//! describing what a container sees at /sys/fs/cgroup.
//!
//! Does not own: mounting anything in the container (the caller mounts what
//! [`Cgroup::container_view`] describes), the cgroup namespace, or what limits a container
//! gets (that is the OCI spec the caller passes in).

mod detect;
mod devices_bpf;
mod entry;
mod error;
mod fs;
mod resources;
#[cfg(test)]
mod tests_fake;
#[cfg(test)]
mod tests_real;
mod v1;
pub(crate) use entry::CgroupEntry;
mod v2;

use std::path::{Path, PathBuf};
use std::sync::OnceLock;
use std::thread;
use std::time::Duration;

pub use error::CgroupError;

/// Which cgroup version the host runs (v1 includes the hybrid layout).
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub enum CgroupVersion {
    V1,
    V2,
}

/// Where one container's cgroup lives in every hierarchy; serialized into the container's
/// state.json so that later commands (delete, kill --all, exec, stats) find it again.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct CgroupPaths {
    pub version: CgroupVersion,
    /// v1: one entry per mounted v1 hierarchy (named ones such as name=systemd included).
    /// Empty on v2.
    #[serde(default)]
    pub hierarchies: Vec<V1Hierarchy>,
    /// v2: the container's cgroup. v1: its cgroup in the hybrid `unified` cgroup2 mount
    /// (no controllers; processes are tracked there too, as runc does), if there is one.
    #[serde(default)]
    pub unified: Option<UnifiedPath>,
}

/// The container's cgroup in one v1 hierarchy.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct V1Hierarchy {
    /// Where the hierarchy is mounted ("/sys/fs/cgroup/cpu,cpuacct").
    pub mountpoint: PathBuf,
    /// Its controllers as /proc/self/cgroup names them ("cpu", "cpuacct", "name=systemd").
    pub controllers: Vec<String>,
    /// Full host path of the container's cgroup in it.
    pub path: PathBuf,
}

/// The container's cgroup in a cgroup2 hierarchy.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct UnifiedPath {
    /// Where the cgroup2 hierarchy is mounted.
    pub mountpoint: PathBuf,
    /// Full host path of the container's cgroup.
    pub path: PathBuf,
    /// The existing cgroup from which pier enables controllers (cgroup.subtree_control) down
    /// to the container's parent: its own cgroup, or the root for an absolute cgroups path.
    pub base: PathBuf,
}

/// What a container should see at /sys/fs/cgroup (an OCI mount of type "cgroup").
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ContainerCgroupView {
    /// One directory per v1 hierarchy, each a bind of the container's cgroup in it.
    V1 { hierarchies: Vec<V1View> },
    /// The container's cgroup2 directory, mounted at /sys/fs/cgroup.
    V2 { host_path: PathBuf },
}

/// One v1 hierarchy as the container sees it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct V1View {
    /// The directory name under /sys/fs/cgroup, as on the host ("cpu,cpuacct", "systemd").
    pub dir_name: String,
    /// Host path of the container's cgroup in this hierarchy.
    pub host_path: PathBuf,
    /// Symlinks to make beside it, pointing at `dir_name`, for joined controllers
    /// ("cpu" and "cpuacct" for "cpu,cpuacct").
    pub symlinks: Vec<String>,
}

/// One container's cgroup.
#[derive(Debug, Clone)]
pub struct Cgroup {
    paths: CgroupPaths,
}

static LAYOUT: OnceLock<detect::Layout> = OnceLock::new();

/// The host's layout, detected on first use.
fn host_layout() -> Result<&'static detect::Layout, CgroupError> {
    if let Some(layout) = LAYOUT.get() {
        return Ok(layout);
    }
    let layout = detect::detect_host()?;
    Ok(LAYOUT.get_or_init(|| layout))
}

/// How long freezing may take before giving up.
const FREEZE_TIMEOUT: Duration = Duration::from_secs(5);
/// How many rounds of kill-and-rmdir destroy tries while the kernel says EBUSY.
const DESTROY_ROUNDS: u32 = 5;

impl Cgroup {
    /// Host layout detected (cached) and the container's location computed; nothing is
    /// created. `cgroups_path` None → `<own cgroup>/pier/<id>` (own = this process's cgroup,
    /// per controller on v1); relative → beneath the own cgroup; absolute → from the
    /// hierarchy root (as runc does). ".." never climbs above the start.
    pub fn for_container(cgroups_path: Option<&Path>, id: &str) -> Result<Cgroup, CgroupError> {
        let layout = host_layout()?;
        Ok(Cgroup {
            paths: layout.container_paths(cgroups_path, id)?,
        })
    }

    /// A cgroup found again from saved paths.
    pub fn from_paths(paths: CgroupPaths) -> Cgroup {
        Cgroup { paths }
    }

    pub fn paths(&self) -> &CgroupPaths {
        &self.paths
    }

    pub fn version(&self) -> CgroupVersion {
        self.paths.version
    }

    /// Creates every missing level and applies the limits (None: no limits, but device
    /// access is still the default allow-list, as with runc). On failure removes what it
    /// created, so nothing is left half-made.
    pub fn create(
        &self,
        resources: Option<&oci_spec::runtime::LinuxResources>,
    ) -> Result<(), CgroupError> {
        let default = oci_spec::runtime::LinuxResources::default();
        let resources = resources.unwrap_or(&default);
        match self.paths.version {
            CgroupVersion::V1 => v1::create(&self.paths, resources),
            CgroupVersion::V2 => v2::create(self.v2_path()?, resources),
        }
    }

    /// Moves a process in (cgroup.procs in every hierarchy).
    pub fn add_process(&self, pid: i32) -> Result<(), CgroupError> {
        if pid <= 0 {
            // 0 would move the caller itself.
            return Err(CgroupError::InvalidResource {
                resource: "process id".into(),
                reason: format!("{pid} names no single process"),
            });
        }
        let value = pid.to_string();
        for dir in self.dirs() {
            fs::write(&dir.join("cgroup.procs"), &value)?;
        }
        Ok(())
    }

    /// Moves a process into the container's cgroup2 directory only (v2, or hybrid's
    /// `unified`), for a child that entered its v1 hierarchies by itself.
    pub(crate) fn add_process_unified(&self, pid: i32) -> Result<(), CgroupError> {
        match &self.paths.unified {
            Some(unified) => fs::write(&unified.path.join("cgroup.procs"), &pid.to_string()),
            None => Ok(()),
        }
    }

    /// The processes in the cgroup and in any cgroup beneath it, sorted.
    pub fn processes(&self) -> Result<Vec<i32>, CgroupError> {
        let mut pids = Vec::new();
        for dir in self.dirs() {
            fs::procs_recursive(dir, &mut pids)?;
        }
        pids.sort_unstable();
        pids.dedup();
        Ok(pids)
    }

    /// Sends `signal` to every process in the cgroup. The cgroup is frozen meanwhile when it
    /// can be, so that no process forks past the signal; on v2, SIGKILL uses cgroup.kill.
    /// A process that is already gone is not an error. After SIGKILL the cgroup is left
    /// thawed (a frozen v1 task cannot die); otherwise as it was.
    pub fn kill_all(&self, signal: i32) -> Result<(), CgroupError> {
        if signal == libc::SIGKILL && self.paths.version == CgroupVersion::V2 {
            let dir = self.v2_path()?.path.clone();
            let kill = dir.join("cgroup.kill");
            if fs::exists(&kill) {
                return fs::write(&kill, "1");
            }
        }
        let was_frozen = self.is_frozen().unwrap_or(false);
        let froze = !was_frozen && self.freeze().is_ok();
        let result = self.signal_each(signal);
        let thaw = if froze || (was_frozen && signal == libc::SIGKILL) {
            self.thaw()
        } else {
            Ok(())
        };
        result.and(thaw)
    }

    fn signal_each(&self, signal: i32) -> Result<(), CgroupError> {
        let mut errors = Vec::new();
        // (pid 0 or below would signal a whole process group, ours included)
        for pid in self.processes()?.into_iter().filter(|p| *p > 0) {
            // SAFETY: kill(2) takes plain integers and touches no memory of ours.
            let r = unsafe { libc::kill(pid, signal) };
            if r != 0 {
                let source = std::io::Error::last_os_error();
                if source.raw_os_error() != Some(libc::ESRCH) {
                    errors.push(CgroupError::Signal {
                        pid,
                        signal,
                        source,
                    });
                }
            }
        }
        CgroupError::from_list(errors)
    }

    /// Removes the container's cgroup (the leaf and anything beneath it; parents such as
    /// "pier" stay), SIGKILLing what is left and retrying briefly while the kernel says
    /// EBUSY. Missing is fine (idempotent). Every hierarchy is tried; all failures reported.
    pub fn destroy(&self) -> Result<(), CgroupError> {
        // The common case, a cgroup whose processes are gone: one rmdir per hierarchy.
        if self.dirs().into_iter().all(fs::try_rmdir) {
            return Ok(());
        }
        let dirs: Vec<PathBuf> = self.dirs().into_iter().map(Path::to_path_buf).collect();
        let mut delay = Duration::from_millis(10);
        let mut errors = Vec::new();
        for round in 0..DESTROY_ROUNDS {
            if !dirs.iter().any(|d| fs::exists(d)) {
                return Ok(());
            }
            if self.processes().map(|p| !p.is_empty()).unwrap_or(true) {
                let _ = self.kill_all(libc::SIGKILL);
            }
            errors.clear();
            for dir in &dirs {
                if let Err(e) = fs::remove_tree(dir) {
                    errors.push(e);
                }
            }
            if errors.is_empty() {
                return Ok(());
            }
            let busy = errors.iter().all(|e| {
                matches!(e, CgroupError::Remove { source, .. } if source.raw_os_error() == Some(libc::EBUSY))
            });
            if !busy || round + 1 == DESTROY_ROUNDS {
                break;
            }
            thread::sleep(delay);
            delay *= 2;
        }
        CgroupError::from_list(errors)
    }

    /// How many times the kernel OOM-killed in this cgroup (v1 memory.oom_control
    /// "oom_kill", v2 memory.events "oom_kill").
    pub fn oom_kill_count(&self) -> Result<u64, CgroupError> {
        match self.paths.version {
            CgroupVersion::V1 => v1::oom_kill_count(&self.paths),
            CgroupVersion::V2 => v2::oom_kill_count(self.v2_path()?),
        }
    }

    /// Freezes every process (v1 freezer.state FROZEN, v2 cgroup.freeze), waiting until
    /// the kernel says they are.
    pub fn freeze(&self) -> Result<(), CgroupError> {
        match self.paths.version {
            CgroupVersion::V1 => v1::set_frozen(&self.paths, true, FREEZE_TIMEOUT),
            CgroupVersion::V2 => v2::set_frozen(self.v2_path()?, true, FREEZE_TIMEOUT),
        }
    }

    pub fn thaw(&self) -> Result<(), CgroupError> {
        match self.paths.version {
            CgroupVersion::V1 => v1::set_frozen(&self.paths, false, FREEZE_TIMEOUT),
            CgroupVersion::V2 => v2::set_frozen(self.v2_path()?, false, FREEZE_TIMEOUT),
        }
    }

    pub fn is_frozen(&self) -> Result<bool, CgroupError> {
        match self.paths.version {
            CgroupVersion::V1 => v1::is_frozen(&self.paths),
            CgroupVersion::V2 => v2::is_frozen(self.v2_path()?),
        }
    }

    /// What the container should see at /sys/fs/cgroup: on v1 one entry per hierarchy with
    /// the directory name as on the host, the host path of the container's cgroup in it,
    /// and symlinks for joined controllers; on v2 the host path of the container's cgroup.
    pub fn container_view(&self) -> ContainerCgroupView {
        match self.paths.version {
            CgroupVersion::V1 => ContainerCgroupView::V1 {
                hierarchies: self
                    .paths
                    .hierarchies
                    .iter()
                    .map(|h| {
                        let dir_name = h
                            .mountpoint
                            .file_name()
                            .map(|n| n.to_string_lossy().into_owned())
                            .unwrap_or_else(|| h.controllers.join(","));
                        let symlinks = h
                            .controllers
                            .iter()
                            .filter(|c| !c.starts_with("name=") && **c != dir_name)
                            .cloned()
                            .collect();
                        V1View {
                            dir_name,
                            host_path: h.path.clone(),
                            symlinks,
                        }
                    })
                    .collect(),
            },
            CgroupVersion::V2 => ContainerCgroupView::V2 {
                host_path: self
                    .paths
                    .unified
                    .as_ref()
                    .map(|u| u.path.clone())
                    .unwrap_or_default(),
            },
        }
    }

    /// Every directory of the container's cgroup: each v1 hierarchy and the unified one.
    fn dirs(&self) -> Vec<&Path> {
        self.paths
            .hierarchies
            .iter()
            .map(|h| h.path.as_path())
            .chain(self.paths.unified.as_ref().map(|u| u.path.as_path()))
            .collect()
    }

    fn v2_path(&self) -> Result<&UnifiedPath, CgroupError> {
        self.paths
            .unified
            .as_ref()
            .ok_or_else(|| CgroupError::InvalidPath {
                path: PathBuf::new(),
                reason: "cgroup v2 paths without the container's cgroup".into(),
            })
    }
}
