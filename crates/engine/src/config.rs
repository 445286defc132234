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
    /// The Linux bridge of the default `bridge` network (`-b/--bridge`, `pier0`). Its name
    /// also names the daemon's nftables table, so two daemons with different bridges leave
    /// each other's rules alone.
    pub bridge: String,
    /// The default network's gateway address and prefix (`--bip`, e.g. `172.17.0.1/16`);
    /// by default the first free subnet of Docker's pools.
    pub bip: Option<String>,
    /// The `pier` executable that runs `pier runtime create` (the daemon's own, normally).
    pub pier_exe: PathBuf,
}

pub const DEFAULT_DATA_ROOT: &str = "/var/lib/pier";
pub const DEFAULT_EXEC_ROOT: &str = "/run/pier";
pub const DEFAULT_HOST: &str = "unix:///run/pier/pier.sock";
pub const DEFAULT_BRIDGE: &str = "pier0";

impl DaemonConfig {
    pub fn runtime_root(&self) -> PathBuf {
        self.exec_root.join("runtime")
    }

    pub fn containers_dir(&self) -> PathBuf {
        self.data_root.join("containers")
    }

    /// Containers' OCI bundles and /etc files (see `Container::bundle`).
    pub fn bundles_dir(&self) -> PathBuf {
        self.exec_root.join("containers")
    }

    pub fn volumes_dir(&self) -> PathBuf {
        self.data_root.join("volumes")
    }

    /// The daemon's nftables table: `pier` beside the default bridge, `pier_<bridge>` beside
    /// any other.
    pub fn nft_table(&self) -> String {
        if self.bridge == DEFAULT_BRIDGE {
            "pier".to_owned()
        } else {
            format!("pier_{}", self.bridge.replace(['-', '.'], "_"))
        }
    }
}
