//! How a daemon is set up: its roots, where it listens, and which `pier` binary it execs for
//! the work that must fork (the runtime and its shims).

use std::path::PathBuf;

#[derive(Debug, Clone)]
pub struct DaemonConfig {
    /// Images, containers' writable layers and logs, volumes, metadata (`/var/lib/pier`).
    pub data_root: PathBuf,
    /// Runtime state: shims' sockets, pid files, exit statuses (`/run/pier`).
    pub exec_root: PathBuf,
    /// `unix:///run/pier/pier.sock`, `tcp://127.0.0.1:2375`.
    pub hosts: Vec<String>,
    /// Where containers' cgroups go; by default a `pier` group beneath the daemon's own.
    pub cgroup_parent: Option<String>,
    /// The `pier` executable that runs `pier runtime create` (the daemon's own, normally).
    pub pier_exe: PathBuf,
}

pub const DEFAULT_DATA_ROOT: &str = "/var/lib/pier";
pub const DEFAULT_EXEC_ROOT: &str = "/run/pier";
pub const DEFAULT_HOST: &str = "unix:///run/pier/pier.sock";

impl DaemonConfig {
    pub fn runtime_root(&self) -> PathBuf {
        self.exec_root.join("runtime")
    }

    pub fn containers_dir(&self) -> PathBuf {
        self.data_root.join("containers")
    }

    pub fn volumes_dir(&self) -> PathBuf {
        self.data_root.join("volumes")
    }
}
