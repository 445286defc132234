//! cgroup v1 (and the hybrid layout): one directory per hierarchy.

use std::path::{Path, PathBuf};
use std::thread;
use std::time::{Duration, Instant};

use oci_spec::runtime::LinuxResources;

use super::detect::CGROUP_ROOT;
use super::resources::{self, Write, write_first_existing};
use super::{CgroupError, CgroupPaths, fs};

/// The container's directory in the hierarchy that has `controller`.
fn dir_of<'a>(paths: &'a CgroupPaths, controller: &str) -> Option<&'a Path> {
    paths
        .hierarchies
        .iter()
        .find(|h| h.controllers.iter().any(|c| c == controller))
        .map(|h| h.path.as_path())
}

fn missing(w: &Write, dir: Option<&Path>) -> CgroupError {
    let path = match dir {
        Some(dir) => dir.join(w.choices.first().map_or("", |c| c.0.as_str())),
        None => PathBuf::from(format!("{CGROUP_ROOT}/{} hierarchy", w.controller)),
    };
    CgroupError::Unsupported {
        resource: w.what.to_string(),
        path,
    }
}

pub(super) fn create(paths: &CgroupPaths, res: &LinuxResources) -> Result<(), CgroupError> {
    // Refuse what no kernel accepts before creating anything.
    resources::plan_v1(res, &|_, _| None)?;
    let mut created = Vec::new();
    let result = create_and_apply(paths, res, &mut created);
    if result.is_err() {
        fs::remove_created(&created);
    }
    result
}

fn create_and_apply(
    paths: &CgroupPaths,
    res: &LinuxResources,
    created: &mut Vec<PathBuf>,
) -> Result<(), CgroupError> {
    for h in &paths.hierarchies {
        fs::create_levels(&h.mountpoint, &h.path, created)?;
        if h.controllers.iter().any(|c| c == "cpuset") {
            fill_cpuset(&h.mountpoint, &h.path)?;
        }
    }
    if let Some(u) = &paths.unified {
        fs::create_levels(&u.mountpoint, &u.path, created)?;
    }
    let current = |controller: &str, file: &str| {
        dir_of(paths, controller).and_then(|d| fs::read_opt(&d.join(file)).ok().flatten())
    };
    for w in resources::plan_v1(res, &current)? {
        let dir = dir_of(paths, &w.controller);
        let written = match dir {
            Some(dir) => write_first_existing(dir, &w)?,
            None => false,
        };
        if !written && w.required {
            return Err(missing(&w, dir));
        }
    }
    Ok(())
}

/// A new v1 cpuset cgroup starts with no cpus and no mems, and a process cannot join it
/// (ENOSPC): give every empty level below the mount point its parent's values.
fn fill_cpuset(mountpoint: &Path, path: &Path) -> Result<(), CgroupError> {
    let Ok(rel) = path.strip_prefix(mountpoint) else {
        return Ok(());
    };
    let mut parent = mountpoint.to_path_buf();
    for component in rel.components() {
        let dir = parent.join(component);
        for file in ["cpuset.cpus", "cpuset.mems"] {
            let Some(own) = fs::read_opt(&dir.join(file))? else {
                continue;
            };
            if !own.trim().is_empty() {
                continue;
            }
            let inherited = fs::read(&parent.join(file))?;
            let inherited = inherited.trim();
            if !inherited.is_empty() {
                fs::write(&dir.join(file), inherited)?;
            }
        }
        parent = dir;
    }
    Ok(())
}

pub(super) fn oom_kill_count(paths: &CgroupPaths) -> Result<u64, CgroupError> {
    let dir = dir_of(paths, "memory").ok_or_else(|| CgroupError::Unsupported {
        resource: "counting OOM kills".into(),
        path: PathBuf::from(format!("{CGROUP_ROOT}/memory hierarchy")),
    })?;
    // Kernels before 4.13 have no "oom_kill" line: nothing counted.
    Ok(fs::read_keyed(&dir.join("memory.oom_control"), "oom_kill")?.unwrap_or(0))
}

fn freezer_state(paths: &CgroupPaths) -> Result<PathBuf, CgroupError> {
    let dir = dir_of(paths, "freezer").ok_or_else(|| CgroupError::Unsupported {
        resource: "freezing".into(),
        path: PathBuf::from(format!("{CGROUP_ROOT}/freezer hierarchy")),
    })?;
    Ok(dir.join("freezer.state"))
}

pub(super) fn is_frozen(paths: &CgroupPaths) -> Result<bool, CgroupError> {
    Ok(fs::read(&freezer_state(paths)?)?.trim() == "FROZEN")
}

/// Writes FROZEN or THAWED and waits until the state reads back so. Freezing can stall
/// (a task in uninterruptible sleep); it is asked again now and then, and given up after
/// `timeout`, thawing again so that nothing is left half-frozen.
pub(super) fn set_frozen(
    paths: &CgroupPaths,
    frozen: bool,
    timeout: Duration,
) -> Result<(), CgroupError> {
    let state = freezer_state(paths)?;
    let want = if frozen { "FROZEN" } else { "THAWED" };
    let start = Instant::now();
    let mut delay = Duration::from_micros(100);
    for round in 0u32.. {
        if round % 50 == 0 {
            fs::write(&state, want)?;
        }
        let now = fs::read(&state)?;
        let now = now.trim();
        if now == want {
            return Ok(());
        }
        if start.elapsed() > timeout {
            if frozen {
                let _ = fs::write(&state, "THAWED");
            }
            return Err(CgroupError::FreezeTimeout {
                path: state,
                state: now.to_string(),
                waited_ms: start.elapsed().as_millis() as u64,
            });
        }
        thread::sleep(delay);
        delay = (delay * 2).min(Duration::from_millis(10));
    }
    Ok(())
}
