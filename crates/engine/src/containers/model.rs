//! A container as the engine records it: what it was created with, and its state. This is
//! what the metadata store keeps (as JSON) and what inspect and list are made from.

use std::path::{Path, PathBuf};

use api::types::{ContainerConfig, HostConfig};
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Status {
    Created,
    Running,
    Paused,
    Restarting,
    Removing,
    Exited,
    Dead,
}

impl Status {
    pub fn as_str(self) -> &'static str {
        match self {
            Status::Created => "created",
            Status::Running => "running",
            Status::Paused => "paused",
            Status::Restarting => "restarting",
            Status::Removing => "removing",
            Status::Exited => "exited",
            Status::Dead => "dead",
        }
    }

    /// Running or paused: its process exists.
    pub fn is_alive(self) -> bool {
        matches!(self, Status::Running | Status::Paused | Status::Restarting)
    }
}

/// Zero time as Docker writes it for "never".
pub const ZERO_TIME: &str = "0001-01-01T00:00:00Z";

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct State {
    pub status: Status,
    pub pid: i32,
    pub exit_code: i32,
    pub oom_killed: bool,
    pub error: String,
    pub started_at: String,
    pub finished_at: String,
}

impl Default for State {
    fn default() -> Self {
        State {
            status: Status::Created,
            pid: 0,
            exit_code: 0,
            oom_killed: false,
            error: String::new(),
            started_at: ZERO_TIME.into(),
            finished_at: ZERO_TIME.into(),
        }
    }
}

/// A volume or bind mounted into the container, resolved to a host path.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct MountRecord {
    /// `bind`, `volume` or `tmpfs`.
    pub kind: String,
    /// The volume's name, for volumes.
    pub name: Option<String>,
    pub source: PathBuf,
    pub destination: String,
    pub read_write: bool,
    /// The options as given (`ro`, `z`, ...).
    pub mode: String,
    /// A volume made for this container alone (from the image's VOLUME or `-v /path`):
    /// removed with it when asked (`rm -v`).
    pub anonymous: bool,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Container {
    pub id: String,
    /// Without the leading slash.
    pub name: String,
    pub created: String,
    /// The image's id (`sha256:...`).
    pub image: String,
    /// The create body's Config, with the image's defaults merged in (as Docker stores it).
    pub config: ContainerConfig,
    pub host_config: HostConfig,
    pub path: String,
    pub args: Vec<String>,
    pub state: State,
    pub restart_count: i64,
    pub log_path: PathBuf,
    pub hostname_path: PathBuf,
    pub hosts_path: PathBuf,
    pub resolv_conf_path: PathBuf,
    pub mounts: Vec<MountRecord>,
    /// Its attachments to networks, the primary first (its default route), each with its
    /// address; the primary's carries the published ports while it runs.
    #[serde(default)]
    pub endpoints: Vec<net::records::EndpointRecord>,
    /// The network namespace made for it ahead of time (from the daemon's pool), kept from
    /// create to removal; none when the runtime makes one at each start.
    #[serde(default)]
    pub netns: Option<OwnedNetns>,
    /// The container's directory on the data root: writable layer, log.
    pub dir: PathBuf,
    /// Its OCI bundle (config.json, the rootfs mount point) and the /etc files bound into it,
    /// under the exec root: state of its runs, which a reboot takes and a start makes again.
    /// Empty in records made before bundles moved there, whose `dir` holds them.
    #[serde(default)]
    pub bundle: PathBuf,
}

/// A network namespace of the container's own that outlives its runs.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct OwnedNetns {
    /// Where it is bound (`<exec-root>/netns/<name>`).
    pub path: PathBuf,
    /// The host end of the veth that came with it (the default bridge's endpoint, made with
    /// the namespace); none for `--network none`, or once that endpoint is disconnected.
    #[serde(default)]
    pub veth: Option<String>,
}

impl Container {
    pub fn bundle_dir(&self) -> &Path {
        if self.bundle.as_os_str().is_empty() {
            &self.dir
        } else {
            &self.bundle
        }
    }

    pub fn rootfs(&self) -> PathBuf {
        self.bundle_dir().join("rootfs")
    }

    pub fn tty(&self) -> bool {
        self.config.tty
    }

    /// A record with nothing but its id and name, for unit tests.
    #[cfg(test)]
    pub(crate) fn for_tests(id: &str, name: &str) -> Container {
        Container {
            id: id.to_owned(),
            name: name.to_owned(),
            created: String::new(),
            image: String::new(),
            config: Default::default(),
            host_config: Default::default(),
            path: String::new(),
            args: Vec::new(),
            state: Default::default(),
            restart_count: 0,
            log_path: Default::default(),
            hostname_path: Default::default(),
            hosts_path: Default::default(),
            resolv_conf_path: Default::default(),
            mounts: Vec::new(),
            endpoints: Vec::new(),
            netns: None,
            dir: Default::default(),
            bundle: Default::default(),
        }
    }
}
