//! The state directory of one container: what `create` recorded, and what the shim writes when
//! the container ends. Every file is replaced atomically; the directory is the container's
//! existence (made by create, removed by delete).

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::cgroups::CgroupPaths;
use crate::error::{Error, Result};
use crate::sys;

/// The OCI lifecycle status of a container.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Status {
    Creating,
    Created,
    Running,
    Paused,
    Stopped,
}

impl std::fmt::Display for Status {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Status::Creating => "creating",
            Status::Created => "created",
            Status::Running => "running",
            Status::Paused => "paused",
            Status::Stopped => "stopped",
        })
    }
}

/// What `pier runtime state` prints: the OCI state, with runc's extra fields.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ContainerState {
    pub oci_version: String,
    pub id: String,
    pub pid: i32,
    pub status: Status,
    pub bundle: PathBuf,
    pub rootfs: PathBuf,
    pub created: String,
    pub owner: String,
    #[serde(default, skip_serializing_if = "HashMap::is_empty")]
    pub annotations: HashMap<String, String>,
    /// How the container ended, once it has (pier's addition to the OCI state).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub exit: Option<ExitStatus>,
}

/// How a container's init process ended.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ExitStatus {
    /// The exit code, or 128 + the signal that killed it.
    pub code: i32,
    /// The signal that killed it, if one did.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub signal: Option<i32>,
    /// Whether the kernel's OOM killer acted in the container's cgroup.
    pub oom_killed: bool,
    /// RFC 3339 time of the exit.
    pub finished_at: String,
    /// Set when the process never ran: the reason, e.g. an executable that was not found.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
}

/// What create records, for every later command to find the container again.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub(crate) struct StoredState {
    pub id: String,
    pub bundle: PathBuf,
    pub rootfs: PathBuf,
    pub pid: i32,
    /// Start time of `pid` (clock ticks since boot), so that a reused pid is never mistaken for it.
    pub pid_start_time: u64,
    pub shim_pid: i32,
    pub shim_start_time: u64,
    pub created: String,
    #[serde(default)]
    pub annotations: HashMap<String, String>,
    pub cgroup: CgroupPaths,
}

pub(crate) const STATE_FILE: &str = "state.json";
pub(crate) const CONFIG_FILE: &str = "config.json";
pub(crate) const EXIT_FILE: &str = "exit.json";
pub(crate) const STARTED_FILE: &str = "started";
pub(crate) const SHIM_SOCKET: &str = "shim.sock";
/// The shim's attach socket, for containers with managed stdio (see [`crate::attach`]).
pub const ATTACH_SOCKET: &str = "attach.sock";
/// Held (flock) by the container's parent for as long as it lives: a directory without
/// state.json whose lock nobody holds is what a creation that died halfway left behind.
pub(crate) const LOCK_FILE: &str = "lock";

/// The lock on a state directory; dropping it releases it.
#[derive(Debug)]
pub(crate) struct StateLock {
    _file: std::fs::File,
}

/// `<root>/<id>`.
#[derive(Debug, Clone)]
pub(crate) struct StateDir {
    pub id: String,
    pub path: PathBuf,
}

impl StateDir {
    /// Makes the directory and locks it; an existing one means the id is taken, unless it is
    /// the unlocked remains of a creation that died before it recorded anything.
    pub fn create(root: &Path, id: &str) -> Result<(StateDir, StateLock)> {
        check_id(id)?;
        if !root.exists() {
            std::fs::create_dir_all(root)
                .map_err(|e| Error::path("creating state root", root, e))?;
            // Only root reads container state and the filters that will be installed.
            use std::os::unix::fs::PermissionsExt;
            std::fs::set_permissions(root, std::fs::Permissions::from_mode(0o700))
                .map_err(|e| Error::path("securing state root", root, e))?;
        }
        let dir = StateDir {
            id: id.to_owned(),
            path: root.join(id),
        };
        match std::fs::create_dir(&dir.path) {
            Ok(()) => {}
            Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {
                if !dir.remove_if_stale()? {
                    return Err(Error::IdInUse(id.to_owned()));
                }
                std::fs::create_dir(&dir.path).map_err(|e| match e.kind() {
                    std::io::ErrorKind::AlreadyExists => Error::IdInUse(id.to_owned()),
                    _ => Error::path("creating state directory", &dir.path, e),
                })?;
            }
            Err(e) => return Err(Error::path("creating state directory", &dir.path, e)),
        }
        let lock = dir
            .try_lock()?
            .ok_or_else(|| Error::IdInUse(id.to_owned()))?;
        Ok((dir, lock))
    }

    /// Takes the directory's lock if nobody holds it.
    fn try_lock(&self) -> Result<Option<StateLock>> {
        let path = self.file(LOCK_FILE);
        let file = std::fs::OpenOptions::new()
            .create(true)
            .truncate(false)
            .write(true)
            .open(&path)
            .map_err(|e| Error::path("opening", &path, e))?;
        use std::os::fd::AsRawFd;
        // A plain flock, released only when the last descriptor of this open file closes: the
        // shim inherits it across fork and keeps the lock after `create` exits.
        // SAFETY: flock on a descriptor we own.
        if unsafe { libc::flock(file.as_raw_fd(), libc::LOCK_EX | libc::LOCK_NB) } < 0 {
            let err = std::io::Error::last_os_error();
            if err.raw_os_error() == Some(libc::EWOULDBLOCK) {
                return Ok(None);
            }
            return Err(Error::path("locking", &path, err));
        }
        Ok(Some(StateLock { _file: file }))
    }

    /// Removes the directory if a creation left it without state and nobody holds its lock.
    pub fn remove_if_stale(&self) -> Result<bool> {
        if self.file(STATE_FILE).exists() || !self.path.is_dir() {
            return Ok(false);
        }
        match self.try_lock()? {
            Some(_lock) => {
                self.remove()?;
                Ok(true)
            }
            None => Ok(false),
        }
    }

    pub fn open(root: &Path, id: &str) -> Result<StateDir> {
        check_id(id)?;
        let path = root.join(id);
        if !path.join(STATE_FILE).exists() {
            return Err(Error::NotFound(id.to_owned()));
        }
        Ok(StateDir {
            id: id.to_owned(),
            path,
        })
    }

    pub fn file(&self, name: &str) -> PathBuf {
        self.path.join(name)
    }

    /// Where compiled seccomp filters are kept, shared by the containers of this root.
    pub fn seccomp_cache(&self) -> PathBuf {
        seccomp_cache(self.path.parent().unwrap_or(Path::new("/")))
    }

    pub fn write_json<T: Serialize>(&self, name: &str, value: &T) -> Result<()> {
        let bytes = serde_json::to_vec(value)
            .map_err(|e| Error::io(format!("encoding {name}"), e.into()))?;
        let path = self.file(name);
        sys::write_atomic(&path, &bytes).map_err(|e| Error::path("writing", path, e))
    }

    pub fn read_json<T: for<'de> Deserialize<'de>>(&self, name: &str) -> Result<Option<T>> {
        let path = self.file(name);
        match std::fs::read(&path) {
            Ok(bytes) => serde_json::from_slice(&bytes)
                .map(Some)
                .map_err(|e| Error::path("reading", path, e.into())),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
            Err(e) => Err(Error::path("reading", path, e)),
        }
    }

    pub fn stored(&self) -> Result<StoredState> {
        self.read_json(STATE_FILE)?
            .ok_or_else(|| Error::NotFound(self.id.clone()))
    }

    pub fn exit_status(&self) -> Result<Option<ExitStatus>> {
        self.read_json(EXIT_FILE)
    }

    pub fn remove(&self) -> Result<()> {
        match std::fs::remove_dir_all(&self.path) {
            Ok(()) => Ok(()),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(()),
            Err(e) => Err(Error::path("removing state directory", &self.path, e)),
        }
    }
}

impl StoredState {
    /// Whether the recorded init process is still alive (and not a zombie awaiting its shim).
    pub fn init_alive(&self) -> bool {
        self.pid > 0
            && sys::process_start_time(self.pid) == Some(self.pid_start_time)
            && !sys::is_zombie(self.pid)
    }
}

/// The seccomp cache of a state root; ids cannot start with '.', so it never names a container.
pub(crate) fn seccomp_cache(root: &Path) -> PathBuf {
    root.join(".seccomp-cache")
}

/// Container ids as runc accepts them.
pub(crate) fn check_id(id: &str) -> Result<()> {
    let ok = !id.is_empty()
        && !id.starts_with('.')
        && id.len() <= 1024
        && id
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'_' | b'+' | b'-' | b'.'));
    if ok {
        Ok(())
    } else {
        Err(Error::InvalidId(id.to_owned()))
    }
}

/// Now, as RFC 3339 with nanoseconds (the form Docker and runc print).
pub(crate) fn now_rfc3339() -> String {
    humantime::format_rfc3339_nanos(std::time::SystemTime::now()).to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_follow_runc_rules() {
        check_id("web-1_a.b+c").unwrap();
        for bad in ["", ".", "..", ".hidden", "a/b", "a b", "../x"] {
            assert!(check_id(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn second_create_of_an_id_conflicts() {
        let root = tempfile::tempdir().unwrap();
        let (_dir, _lock) = StateDir::create(root.path(), "x").unwrap();
        let err = StateDir::create(root.path(), "x").unwrap_err();
        assert_eq!(err.to_string(), "container with id exists: x");
    }

    #[test]
    fn remains_of_a_dead_creation_are_taken_over() {
        let root = tempfile::tempdir().unwrap();
        let (dir, lock) = StateDir::create(root.path(), "x").unwrap();
        std::fs::write(dir.file("junk"), b"half made").unwrap();
        drop(lock);
        let (again, _lock) = StateDir::create(root.path(), "x").unwrap();
        assert!(!again.file("junk").exists());
        // Recorded state is never stale, locked or not.
        again
            .write_json(STATE_FILE, &serde_json::json!({}))
            .unwrap();
        assert!(!again.remove_if_stale().unwrap());
    }

    #[test]
    fn status_serializes_lowercase() {
        assert_eq!(
            serde_json::to_string(&Status::Running).unwrap(),
            "\"running\""
        );
    }
}
