//! cgroup v2: one directory, controllers handed down through cgroup.subtree_control, devices
//! as an eBPF program.

use std::io;
use std::path::{Path, PathBuf};
use std::thread;
use std::time::{Duration, Instant};

use oci_spec::runtime::LinuxResources;

use super::resources::{self, Write, write_first_existing};
use super::{CgroupError, UnifiedPath, devices_bpf, fs};

/// Controllers pier hands down to containers whenever the host offers them.
const WANTED: [&str; 5] = ["cpu", "memory", "pids", "io", "cpuset"];

/// The kernel refused to enable `controller` at `path`.
#[derive(Debug)]
struct Refusal {
    controller: String,
    path: PathBuf,
    value: String,
    errno: Option<i32>,
    message: String,
}

impl Refusal {
    fn to_error(&self) -> CgroupError {
        let source = match self.errno {
            Some(code) => io::Error::from_raw_os_error(code),
            None => io::Error::other(self.message.clone()),
        };
        CgroupError::SubtreeControl {
            path: self.path.clone(),
            value: self.value.clone(),
            source,
        }
    }
}

fn words(content: Option<String>) -> Vec<String> {
    content
        .unwrap_or_default()
        .split_whitespace()
        .map(str::to_string)
        .collect()
}

/// Whether `dir` is a domain cgroup other than the root with processes of its own, which
/// cgroup v2 forbids to hand controllers down ("no internal processes").
fn holds_processes(dir: &Path) -> Result<bool, CgroupError> {
    // The root has no cgroup.type and is exempt; threaded cgroups follow other rules.
    let domain = fs::read_opt(&dir.join("cgroup.type"))?.is_some_and(|t| t.trim() == "domain");
    Ok(domain && fs::read_opt(&dir.join("cgroup.procs"))?.is_some_and(|p| !p.trim().is_empty()))
}

/// Enables `wanted` controllers (those the host offers) in cgroup.subtree_control of every
/// level from `u.base` down to the container's parent. Refusals are returned, not raised:
/// they matter only if a limit needs the controller.
fn enable_controllers(u: &UnifiedPath, wanted: &[String]) -> Result<Vec<Refusal>, CgroupError> {
    let mut levels = Vec::new();
    if let Ok(rel) = u.path.strip_prefix(&u.base) {
        let mut dir = u.base.clone();
        levels.push(dir.clone());
        for component in rel.components() {
            dir.push(component);
            levels.push(dir.clone());
        }
        levels.pop(); // the container's own cgroup holds processes: nothing to hand down
    } else if let Some(parent) = u.path.parent() {
        levels.push(parent.to_path_buf());
    }
    let mut refusals = Vec::new();
    for level in levels {
        let available = words(fs::read_opt(&level.join("cgroup.controllers"))?);
        let enabled = words(fs::read_opt(&level.join("cgroup.subtree_control"))?);
        let missing: Vec<String> = wanted
            .iter()
            .filter(|c| available.contains(c) && !enabled.contains(c))
            .cloned()
            .collect();
        if missing.is_empty() {
            continue;
        }
        let path = level.join("cgroup.subtree_control");
        if holds_processes(&level)? {
            // The kernel refuses the domain controllers here (EBUSY) but takes the threaded
            // ones (cpu, cpuset, pids), which would leave every child an invalid domain that no
            // process can join: hand nothing down, and say why if a limit needs it.
            refusals.extend(missing.into_iter().map(|controller| Refusal {
                value: format!("+{controller}"),
                controller,
                path: path.clone(),
                errno: Some(libc::EBUSY),
                message: String::new(),
            }));
            continue;
        }
        let all = missing
            .iter()
            .map(|c| format!("+{c}"))
            .collect::<Vec<_>>()
            .join(" ");
        if fs::write(&path, &all).is_ok() {
            continue;
        }
        // All at once was refused: one by one, so that one refused controller (cpu, say,
        // with realtime tasks about) does not cost the others.
        for controller in missing {
            let value = format!("+{controller}");
            if let Err(e) = fs::write(&path, &value) {
                let (errno, message) = match &e {
                    CgroupError::Write { source, .. } => {
                        (source.raw_os_error(), source.to_string())
                    }
                    other => (None, other.to_string()),
                };
                refusals.push(Refusal {
                    controller,
                    path: path.clone(),
                    value,
                    errno,
                    message,
                });
            }
        }
    }
    Ok(refusals)
}

/// Why `w` could not be written: the controller was refused, is not handed down, or the
/// kernel has no such file.
fn missing(u: &UnifiedPath, w: &Write, refusals: &[Refusal]) -> CgroupError {
    if let Some(r) = refusals.iter().find(|r| r.controller == w.controller) {
        return r.to_error();
    }
    let available = words(
        fs::read_opt(&u.path.join("cgroup.controllers"))
            .ok()
            .flatten(),
    );
    if w.controller != "cgroup" && !available.contains(&w.controller) {
        return CgroupError::ControllerUnavailable {
            resource: w.what.to_string(),
            controller: w.controller.clone(),
            path: u.path.clone(),
        };
    }
    CgroupError::Unsupported {
        resource: w.what.to_string(),
        path: u.path.join(w.choices.first().map_or("", |c| c.0.as_str())),
    }
}

pub(super) fn create(u: &UnifiedPath, res: &LinuxResources) -> Result<(), CgroupError> {
    let plan = resources::plan_v2(res)?;
    let rules = resources::device_rules(res.devices().as_deref())?;
    let devices_required = res.devices().as_ref().is_some_and(|d| !d.is_empty());
    let mut created = Vec::new();
    let result = (|| {
        fs::create_levels(&u.mountpoint, &u.path, &mut created)?;
        let mut wanted: Vec<String> = WANTED.iter().map(|c| c.to_string()).collect();
        for w in &plan {
            if w.controller != "cgroup" && !wanted.contains(&w.controller) {
                wanted.push(w.controller.clone());
            }
        }
        let refusals = enable_controllers(u, &wanted)?;
        for w in &plan {
            if !write_first_existing(&u.path, w)? && w.required {
                return Err(missing(u, w, &refusals));
            }
        }
        match devices_bpf::install(&u.path, &rules) {
            Err(e) if devices_required => Err(e),
            _ => Ok(()),
        }
    })();
    if result.is_err() {
        fs::remove_created(&created);
    }
    result
}

pub(super) fn oom_kill_count(u: &UnifiedPath) -> Result<u64, CgroupError> {
    let events = u.path.join("memory.events");
    if !fs::exists(&events) && fs::exists(&u.path) {
        return Err(CgroupError::ControllerUnavailable {
            resource: "counting OOM kills".into(),
            controller: "memory".into(),
            path: u.path.clone(),
        });
    }
    Ok(fs::read_keyed(&events, "oom_kill")?.unwrap_or(0))
}

fn freeze_file(u: &UnifiedPath) -> Result<PathBuf, CgroupError> {
    let file = u.path.join("cgroup.freeze");
    if fs::exists(&u.path) && !fs::exists(&file) {
        // Kernels before 5.2.
        return Err(CgroupError::Unsupported {
            resource: "freezing".into(),
            path: file,
        });
    }
    Ok(file)
}

pub(super) fn is_frozen(u: &UnifiedPath) -> Result<bool, CgroupError> {
    Ok(fs::read(&freeze_file(u)?)?.trim() == "1")
}

/// Writes cgroup.freeze and waits until cgroup.events says "frozen" accordingly.
pub(super) fn set_frozen(
    u: &UnifiedPath,
    frozen: bool,
    timeout: Duration,
) -> Result<(), CgroupError> {
    let file = freeze_file(u)?;
    fs::write(&file, if frozen { "1" } else { "0" })?;
    let events = u.path.join("cgroup.events");
    let want = u64::from(frozen);
    let start = Instant::now();
    let mut delay = Duration::from_micros(100);
    loop {
        let now = fs::read_keyed(&events, "frozen")?;
        if now.is_none_or(|n| n == want) {
            return Ok(());
        }
        if start.elapsed() > timeout {
            if frozen {
                let _ = fs::write(&file, "0");
            }
            return Err(CgroupError::FreezeTimeout {
                path: events,
                state: format!("frozen {}", now.unwrap_or(0)),
                waited_ms: start.elapsed().as_millis() as u64,
            });
        }
        thread::sleep(delay);
        delay = (delay * 2).min(Duration::from_millis(10));
    }
}
