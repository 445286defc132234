//! The body of `POST /containers/create`: the container's portable configuration
//! ([`ContainerConfig`]), what depends on the host ([`HostConfig`], with [`Resources`] flattened
//! in), and its networks ([`NetworkingConfig`]).
//!
//! The shapes follow Docker's Go types rather than only the swagger, because `docker inspect`
//! shows Config and HostConfig as the daemon stored them: a Go slice or map that was never set
//! is written as `null` (so it is an `Option` here), a Go string, number or bool is always
//! written (a plain type here), and fields Docker tags `omitempty` are left out when empty.
//! On the way in, every field also accepts `null` (Go leaves the zero value), `Cmd`,
//! `Entrypoint`, `Shell`, `CapAdd` and `CapDrop` accept a string as well as a list, and
//! unknown fields are ignored.

use std::collections::{BTreeMap, BTreeSet};

use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// Docker's `container.Config`: what the container runs and how it is attached.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct ContainerConfig {
    #[serde(rename = "Hostname", deserialize_with = "null_default")]
    pub hostname: String,
    #[serde(rename = "Domainname", deserialize_with = "null_default")]
    pub domainname: String,
    /// `user`, `uid`, `user:group`, `uid:gid`...
    #[serde(rename = "User", deserialize_with = "null_default")]
    pub user: String,
    #[serde(rename = "AttachStdin", deserialize_with = "null_default")]
    pub attach_stdin: bool,
    #[serde(rename = "AttachStdout", deserialize_with = "null_default")]
    pub attach_stdout: bool,
    #[serde(rename = "AttachStderr", deserialize_with = "null_default")]
    pub attach_stderr: bool,
    /// `"80/tcp"`, `"53/udp"`...; a map of port to `{}` on the wire.
    #[serde(
        rename = "ExposedPorts",
        with = "empty_object_map",
        skip_serializing_if = "is_none_or_empty_set"
    )]
    pub exposed_ports: Option<BTreeSet<String>>,
    #[serde(rename = "Tty", deserialize_with = "null_default")]
    pub tty: bool,
    #[serde(rename = "OpenStdin", deserialize_with = "null_default")]
    pub open_stdin: bool,
    #[serde(rename = "StdinOnce", deserialize_with = "null_default")]
    pub stdin_once: bool,
    /// `NAME=value`; a bare `NAME` removes the variable.
    #[serde(rename = "Env")]
    pub env: Option<Vec<String>>,
    #[serde(rename = "Cmd", deserialize_with = "string_or_list")]
    pub cmd: Option<Vec<String>>,
    #[serde(rename = "Healthcheck", skip_serializing_if = "Option::is_none")]
    pub healthcheck: Option<HealthConfig>,
    #[serde(
        rename = "ArgsEscaped",
        deserialize_with = "null_default",
        skip_serializing_if = "is_false"
    )]
    pub args_escaped: bool,
    /// The image as the user named it.
    #[serde(rename = "Image", deserialize_with = "null_default")]
    pub image: String,
    /// Mount points of anonymous volumes; a map of path to `{}` on the wire.
    #[serde(rename = "Volumes", with = "empty_object_map")]
    pub volumes: Option<BTreeSet<String>>,
    #[serde(rename = "WorkingDir", deserialize_with = "null_default")]
    pub working_dir: String,
    /// `[""]` resets the image's entrypoint.
    #[serde(rename = "Entrypoint", deserialize_with = "string_or_list")]
    pub entrypoint: Option<Vec<String>>,
    #[serde(
        rename = "NetworkDisabled",
        deserialize_with = "null_default",
        skip_serializing_if = "is_false"
    )]
    pub network_disabled: bool,
    /// Deprecated since v1.44 for `EndpointSettings.MacAddress`.
    #[serde(
        rename = "MacAddress",
        deserialize_with = "null_default",
        skip_serializing_if = "String::is_empty"
    )]
    pub mac_address: String,
    #[serde(rename = "OnBuild")]
    pub on_build: Option<Vec<String>>,
    #[serde(rename = "Labels")]
    pub labels: Option<BTreeMap<String, String>>,
    /// `SIGTERM`, `TERM`, `15`...
    #[serde(
        rename = "StopSignal",
        deserialize_with = "null_default",
        skip_serializing_if = "String::is_empty"
    )]
    pub stop_signal: String,
    /// Seconds.
    #[serde(rename = "StopTimeout", skip_serializing_if = "Option::is_none")]
    pub stop_timeout: Option<i64>,
    #[serde(
        rename = "Shell",
        deserialize_with = "string_or_list",
        skip_serializing_if = "is_none_or_empty"
    )]
    pub shell: Option<Vec<String>>,
}

/// `HEALTHCHECK`: durations in nanoseconds, zero meaning "inherit".
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct HealthConfig {
    /// `[]` inherit, `["NONE"]`, `["CMD", args...]` or `["CMD-SHELL", command]`.
    #[serde(
        rename = "Test",
        deserialize_with = "null_default",
        skip_serializing_if = "Vec::is_empty"
    )]
    pub test: Vec<String>,
    #[serde(
        rename = "Interval",
        deserialize_with = "null_default",
        skip_serializing_if = "is_zero"
    )]
    pub interval: i64,
    #[serde(
        rename = "Timeout",
        deserialize_with = "null_default",
        skip_serializing_if = "is_zero"
    )]
    pub timeout: i64,
    #[serde(
        rename = "StartPeriod",
        deserialize_with = "null_default",
        skip_serializing_if = "is_zero"
    )]
    pub start_period: i64,
    #[serde(
        rename = "StartInterval",
        deserialize_with = "null_default",
        skip_serializing_if = "is_zero"
    )]
    pub start_interval: i64,
    #[serde(
        rename = "Retries",
        deserialize_with = "null_default",
        skip_serializing_if = "is_zero"
    )]
    pub retries: i64,
}

/// Docker's `container.HostConfig`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct HostConfig {
    /// `src:dst[:options]` (host path or volume name).
    #[serde(rename = "Binds")]
    pub binds: Option<Vec<String>>,
    #[serde(rename = "ContainerIDFile", deserialize_with = "null_default")]
    pub container_id_file: String,
    #[serde(rename = "LogConfig", deserialize_with = "null_default")]
    pub log_config: LogConfig,
    /// `default`, `bridge`, `host`, `none`, `container:<id>` or a network's name.
    #[serde(rename = "NetworkMode", deserialize_with = "null_default")]
    pub network_mode: String,
    /// `"80/tcp"` to the host addresses it is published on.
    #[serde(rename = "PortBindings", deserialize_with = "map_of_nullable")]
    pub port_bindings: Option<BTreeMap<String, Vec<PortBinding>>>,
    #[serde(rename = "RestartPolicy", deserialize_with = "null_default")]
    pub restart_policy: RestartPolicy,
    #[serde(rename = "AutoRemove", deserialize_with = "null_default")]
    pub auto_remove: bool,
    #[serde(rename = "VolumeDriver", deserialize_with = "null_default")]
    pub volume_driver: String,
    #[serde(rename = "VolumesFrom")]
    pub volumes_from: Option<Vec<String>>,
    /// `[height, width]`.
    #[serde(rename = "ConsoleSize", deserialize_with = "null_default")]
    pub console_size: [u64; 2],
    #[serde(rename = "Annotations", skip_serializing_if = "is_none_or_empty_map")]
    pub annotations: Option<BTreeMap<String, String>>,
    #[serde(rename = "CapAdd", deserialize_with = "string_or_list")]
    pub cap_add: Option<Vec<String>>,
    #[serde(rename = "CapDrop", deserialize_with = "string_or_list")]
    pub cap_drop: Option<Vec<String>>,
    /// `private`, `host`, or empty for the daemon's default.
    #[serde(rename = "CgroupnsMode", deserialize_with = "null_default")]
    pub cgroupns_mode: String,
    #[serde(rename = "Dns")]
    pub dns: Option<Vec<String>>,
    #[serde(rename = "DnsOptions")]
    pub dns_options: Option<Vec<String>>,
    #[serde(rename = "DnsSearch")]
    pub dns_search: Option<Vec<String>>,
    /// `host:ip` (or `host=ip`).
    #[serde(rename = "ExtraHosts")]
    pub extra_hosts: Option<Vec<String>>,
    #[serde(rename = "GroupAdd")]
    pub group_add: Option<Vec<String>>,
    /// `none`, `private`, `shareable`, `container:<id>`, `host`, or empty for the default.
    #[serde(rename = "IpcMode", deserialize_with = "null_default")]
    pub ipc_mode: String,
    #[serde(rename = "Cgroup", deserialize_with = "null_default")]
    pub cgroup: String,
    #[serde(rename = "Links")]
    pub links: Option<Vec<String>>,
    #[serde(rename = "OomScoreAdj", deserialize_with = "null_default")]
    pub oom_score_adj: i64,
    /// `host`, `container:<id>`, or empty.
    #[serde(rename = "PidMode", deserialize_with = "null_default")]
    pub pid_mode: String,
    #[serde(rename = "Privileged", deserialize_with = "null_default")]
    pub privileged: bool,
    #[serde(rename = "PublishAllPorts", deserialize_with = "null_default")]
    pub publish_all_ports: bool,
    #[serde(rename = "ReadonlyRootfs", deserialize_with = "null_default")]
    pub readonly_rootfs: bool,
    #[serde(rename = "SecurityOpt")]
    pub security_opt: Option<Vec<String>>,
    #[serde(rename = "StorageOpt", skip_serializing_if = "is_none_or_empty_map")]
    pub storage_opt: Option<BTreeMap<String, String>>,
    /// Mount point to tmpfs options (`"size=64m,mode=1777"`).
    #[serde(rename = "Tmpfs", skip_serializing_if = "is_none_or_empty_map")]
    pub tmpfs: Option<BTreeMap<String, String>>,
    #[serde(rename = "UTSMode", deserialize_with = "null_default")]
    pub uts_mode: String,
    #[serde(rename = "UsernsMode", deserialize_with = "null_default")]
    pub userns_mode: String,
    /// Bytes; 0 for the daemon's default.
    #[serde(rename = "ShmSize", deserialize_with = "null_default")]
    pub shm_size: i64,
    #[serde(rename = "Sysctls", skip_serializing_if = "is_none_or_empty_map")]
    pub sysctls: Option<BTreeMap<String, String>>,
    #[serde(
        rename = "Runtime",
        deserialize_with = "null_default",
        skip_serializing_if = "String::is_empty"
    )]
    pub runtime: String,
    /// Windows only; empty on Linux.
    #[serde(rename = "Isolation", deserialize_with = "null_default")]
    pub isolation: String,
    #[serde(flatten)]
    pub resources: Resources,
    #[serde(rename = "Mounts", skip_serializing_if = "is_none_or_empty")]
    pub mounts: Option<Vec<Mount>>,
    /// Replaces the default masked paths when set (`[]` masks nothing).
    #[serde(rename = "MaskedPaths")]
    pub masked_paths: Option<Vec<String>>,
    /// Replaces the default read-only paths when set.
    #[serde(rename = "ReadonlyPaths")]
    pub readonly_paths: Option<Vec<String>>,
    /// Run an init as PID 1; `None` for the daemon's default.
    #[serde(rename = "Init", skip_serializing_if = "Option::is_none")]
    pub init: Option<bool>,
}

/// Docker's `container.Resources`: cgroup limits and rlimits, part of [`HostConfig`] on the
/// wire and the body of `POST /containers/{id}/update`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct Resources {
    /// Relative CPU weight (cgroup v1 shares).
    #[serde(rename = "CpuShares", deserialize_with = "null_default")]
    pub cpu_shares: i64,
    /// Bytes.
    #[serde(rename = "Memory", deserialize_with = "null_default")]
    pub memory: i64,
    /// CPUs in units of 10⁻⁹.
    #[serde(rename = "NanoCpus", deserialize_with = "null_default")]
    pub nano_cpus: i64,
    #[serde(rename = "CgroupParent", deserialize_with = "null_default")]
    pub cgroup_parent: String,
    /// 10 to 1000; 0 for none.
    #[serde(rename = "BlkioWeight", deserialize_with = "null_default")]
    pub blkio_weight: u16,
    #[serde(rename = "BlkioWeightDevice")]
    pub blkio_weight_device: Option<Vec<WeightDevice>>,
    #[serde(rename = "BlkioDeviceReadBps")]
    pub blkio_device_read_bps: Option<Vec<ThrottleDevice>>,
    #[serde(rename = "BlkioDeviceWriteBps")]
    pub blkio_device_write_bps: Option<Vec<ThrottleDevice>>,
    #[serde(rename = "BlkioDeviceReadIOps")]
    pub blkio_device_read_iops: Option<Vec<ThrottleDevice>>,
    #[serde(rename = "BlkioDeviceWriteIOps")]
    pub blkio_device_write_iops: Option<Vec<ThrottleDevice>>,
    /// Microseconds.
    #[serde(rename = "CpuPeriod", deserialize_with = "null_default")]
    pub cpu_period: i64,
    /// Microseconds per period.
    #[serde(rename = "CpuQuota", deserialize_with = "null_default")]
    pub cpu_quota: i64,
    #[serde(rename = "CpuRealtimePeriod", deserialize_with = "null_default")]
    pub cpu_realtime_period: i64,
    #[serde(rename = "CpuRealtimeRuntime", deserialize_with = "null_default")]
    pub cpu_realtime_runtime: i64,
    /// `0-3`, `0,1`.
    #[serde(rename = "CpusetCpus", deserialize_with = "null_default")]
    pub cpuset_cpus: String,
    #[serde(rename = "CpusetMems", deserialize_with = "null_default")]
    pub cpuset_mems: String,
    #[serde(rename = "Devices")]
    pub devices: Option<Vec<DeviceMapping>>,
    /// `c 13:* rwm`.
    #[serde(rename = "DeviceCgroupRules")]
    pub device_cgroup_rules: Option<Vec<String>>,
    #[serde(rename = "DeviceRequests")]
    pub device_requests: Option<Vec<DeviceRequest>>,
    /// Deprecated (kernel 5.4 dropped kmem limits).
    #[serde(
        rename = "KernelMemory",
        deserialize_with = "null_default",
        skip_serializing_if = "is_zero"
    )]
    pub kernel_memory: i64,
    #[serde(
        rename = "KernelMemoryTCP",
        deserialize_with = "null_default",
        skip_serializing_if = "is_zero"
    )]
    pub kernel_memory_tcp: i64,
    #[serde(rename = "MemoryReservation", deserialize_with = "null_default")]
    pub memory_reservation: i64,
    /// Memory plus swap, bytes; -1 for unlimited swap.
    #[serde(rename = "MemorySwap", deserialize_with = "null_default")]
    pub memory_swap: i64,
    /// 0 to 100.
    #[serde(rename = "MemorySwappiness")]
    pub memory_swappiness: Option<i64>,
    #[serde(rename = "OomKillDisable")]
    pub oom_kill_disable: Option<bool>,
    /// 0 or -1 for unlimited; `None` leaves it as it is.
    #[serde(rename = "PidsLimit")]
    pub pids_limit: Option<i64>,
    #[serde(rename = "Ulimits")]
    pub ulimits: Option<Vec<Ulimit>>,
    /// Windows only.
    #[serde(rename = "CpuCount", deserialize_with = "null_default")]
    pub cpu_count: i64,
    /// Windows only.
    #[serde(rename = "CpuPercent", deserialize_with = "null_default")]
    pub cpu_percent: i64,
    /// Windows only.
    #[serde(rename = "IOMaximumIOps", deserialize_with = "null_default")]
    pub io_maximum_iops: u64,
    /// Windows only.
    #[serde(rename = "IOMaximumBandwidth", deserialize_with = "null_default")]
    pub io_maximum_bandwidth: u64,
}

/// The container's log driver and its options.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct LogConfig {
    /// `json-file`, `none`, ...; empty for the daemon's default.
    #[serde(rename = "Type", deserialize_with = "null_default")]
    pub kind: String,
    #[serde(rename = "Config")]
    pub config: Option<BTreeMap<String, String>>,
}

/// A host address a container port is published on.
#[derive(Debug, Clone, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(default)]
pub struct PortBinding {
    /// Empty for every address.
    #[serde(rename = "HostIp", deserialize_with = "null_default")]
    pub host_ip: String,
    /// A port or a range (`8000-8010`); empty for one chosen by the daemon.
    #[serde(rename = "HostPort", deserialize_with = "null_default")]
    pub host_port: String,
}

/// When the daemon starts the container again after it exits.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct RestartPolicy {
    /// `""`, `no`, `always`, `unless-stopped`, `on-failure`.
    #[serde(rename = "Name", deserialize_with = "null_default")]
    pub name: String,
    #[serde(rename = "MaximumRetryCount", deserialize_with = "null_default")]
    pub maximum_retry_count: i64,
}

/// A host device made available in the container.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct DeviceMapping {
    #[serde(rename = "PathOnHost", deserialize_with = "null_default")]
    pub path_on_host: String,
    #[serde(rename = "PathInContainer", deserialize_with = "null_default")]
    pub path_in_container: String,
    /// Some of `r`, `w` and `m`.
    #[serde(rename = "CgroupPermissions", deserialize_with = "null_default")]
    pub cgroup_permissions: String,
}

/// A request for devices from a device driver (GPUs).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct DeviceRequest {
    #[serde(rename = "Driver", deserialize_with = "null_default")]
    pub driver: String,
    #[serde(rename = "Count", deserialize_with = "null_default")]
    pub count: i64,
    #[serde(rename = "DeviceIDs")]
    pub device_ids: Option<Vec<String>>,
    /// An OR list of AND lists.
    #[serde(rename = "Capabilities")]
    pub capabilities: Option<Vec<Vec<String>>>,
    #[serde(rename = "Options")]
    pub options: Option<BTreeMap<String, String>>,
}

/// A block device's relative I/O weight.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct WeightDevice {
    #[serde(rename = "Path", deserialize_with = "null_default")]
    pub path: String,
    #[serde(rename = "Weight", deserialize_with = "null_default")]
    pub weight: u16,
}

/// A block device's rate limit (bytes or operations per second).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct ThrottleDevice {
    #[serde(rename = "Path", deserialize_with = "null_default")]
    pub path: String,
    #[serde(rename = "Rate", deserialize_with = "null_default")]
    pub rate: u64,
}

/// A resource limit (`nofile`, `nproc`...); -1 means unlimited.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct Ulimit {
    #[serde(rename = "Name", deserialize_with = "null_default")]
    pub name: String,
    #[serde(rename = "Hard", deserialize_with = "null_default")]
    pub hard: i64,
    #[serde(rename = "Soft", deserialize_with = "null_default")]
    pub soft: i64,
}

/// An entry of `HostConfig.Mounts` (`docker run --mount`).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct Mount {
    #[serde(
        rename = "Type",
        deserialize_with = "null_default",
        skip_serializing_if = "MountType::is_unset"
    )]
    pub kind: MountType,
    /// Host path (bind) or volume name (volume); empty for tmpfs and anonymous volumes.
    #[serde(
        rename = "Source",
        deserialize_with = "null_default",
        skip_serializing_if = "String::is_empty"
    )]
    pub source: String,
    #[serde(
        rename = "Target",
        deserialize_with = "null_default",
        skip_serializing_if = "String::is_empty"
    )]
    pub target: String,
    #[serde(
        rename = "ReadOnly",
        deserialize_with = "null_default",
        skip_serializing_if = "is_false"
    )]
    pub read_only: bool,
    /// `default`, `consistent`, `cached`, `delegated` (ignored on Linux).
    #[serde(
        rename = "Consistency",
        deserialize_with = "null_default",
        skip_serializing_if = "String::is_empty"
    )]
    pub consistency: String,
    #[serde(rename = "BindOptions", skip_serializing_if = "Option::is_none")]
    pub bind_options: Option<BindOptions>,
    #[serde(rename = "VolumeOptions", skip_serializing_if = "Option::is_none")]
    pub volume_options: Option<VolumeOptions>,
    #[serde(rename = "TmpfsOptions", skip_serializing_if = "Option::is_none")]
    pub tmpfs_options: Option<TmpfsOptions>,
    /// Swarm cluster volumes; kept as sent.
    #[serde(rename = "ClusterOptions", skip_serializing_if = "Option::is_none")]
    pub cluster_options: Option<serde_json::Map<String, serde_json::Value>>,
}

/// The kind of a [`Mount`]. A kind Docker does not know is kept as sent, so that validation
/// can name it in Docker's words rather than failing to parse the whole body.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum MountType {
    Bind,
    Volume,
    Tmpfs,
    Npipe,
    Cluster,
    Other(String),
}

impl MountType {
    pub fn as_str(&self) -> &str {
        match self {
            MountType::Bind => "bind",
            MountType::Volume => "volume",
            MountType::Tmpfs => "tmpfs",
            MountType::Npipe => "npipe",
            MountType::Cluster => "cluster",
            MountType::Other(s) => s,
        }
    }

    fn is_unset(&self) -> bool {
        self.as_str().is_empty()
    }
}

impl Default for MountType {
    fn default() -> Self {
        MountType::Other(String::new())
    }
}

impl From<&str> for MountType {
    fn from(s: &str) -> Self {
        match s {
            "bind" => MountType::Bind,
            "volume" => MountType::Volume,
            "tmpfs" => MountType::Tmpfs,
            "npipe" => MountType::Npipe,
            "cluster" => MountType::Cluster,
            other => MountType::Other(other.to_owned()),
        }
    }
}

impl std::fmt::Display for MountType {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

impl Serialize for MountType {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(self.as_str())
    }
}

impl<'de> Deserialize<'de> for MountType {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let s = String::deserialize(deserializer)?;
        Ok(MountType::from(s.as_str()))
    }
}

/// Options of a `bind` mount.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct BindOptions {
    /// `[r]private`, `[r]shared`, `[r]slave`.
    #[serde(
        rename = "Propagation",
        deserialize_with = "null_default",
        skip_serializing_if = "String::is_empty"
    )]
    pub propagation: String,
    #[serde(
        rename = "NonRecursive",
        deserialize_with = "null_default",
        skip_serializing_if = "is_false"
    )]
    pub non_recursive: bool,
    #[serde(
        rename = "CreateMountpoint",
        deserialize_with = "null_default",
        skip_serializing_if = "is_false"
    )]
    pub create_mountpoint: bool,
    #[serde(
        rename = "ReadOnlyNonRecursive",
        deserialize_with = "null_default",
        skip_serializing_if = "is_false"
    )]
    pub read_only_non_recursive: bool,
    #[serde(
        rename = "ReadOnlyForceRecursive",
        deserialize_with = "null_default",
        skip_serializing_if = "is_false"
    )]
    pub read_only_force_recursive: bool,
}

/// Options of a `volume` mount.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct VolumeOptions {
    /// Do not copy the image's content at the mount point into a new volume.
    #[serde(
        rename = "NoCopy",
        deserialize_with = "null_default",
        skip_serializing_if = "is_false"
    )]
    pub no_copy: bool,
    #[serde(rename = "Labels", skip_serializing_if = "is_none_or_empty_map")]
    pub labels: Option<BTreeMap<String, String>>,
    /// A relative path inside the volume to mount instead of its root.
    #[serde(
        rename = "Subpath",
        deserialize_with = "null_default",
        skip_serializing_if = "String::is_empty"
    )]
    pub subpath: String,
    #[serde(rename = "DriverConfig", skip_serializing_if = "Option::is_none")]
    pub driver_config: Option<VolumeDriverConfig>,
}

/// The volume driver a `volume` mount creates its volume with.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct VolumeDriverConfig {
    #[serde(
        rename = "Name",
        deserialize_with = "null_default",
        skip_serializing_if = "String::is_empty"
    )]
    pub name: String,
    #[serde(rename = "Options", skip_serializing_if = "is_none_or_empty_map")]
    pub options: Option<BTreeMap<String, String>>,
}

/// Options of a `tmpfs` mount.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct TmpfsOptions {
    #[serde(
        rename = "SizeBytes",
        deserialize_with = "null_default",
        skip_serializing_if = "is_zero"
    )]
    pub size_bytes: i64,
    /// Permission bits as a decimal number (`1023` for 01777).
    #[serde(
        rename = "Mode",
        deserialize_with = "null_default",
        skip_serializing_if = "is_zero_u32"
    )]
    pub mode: u32,
}

/// The networks a container joins at creation: network name to endpoint settings.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct NetworkingConfig {
    #[serde(rename = "EndpointsConfig", deserialize_with = "map_of_nullable")]
    pub endpoints_config: Option<BTreeMap<String, EndpointSettings>>,
}

/// A container's endpoint on one network: what was asked (IPAM config, aliases, links) and,
/// in inspect, what it got.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct EndpointSettings {
    #[serde(rename = "IPAMConfig")]
    pub ipam_config: Option<EndpointIpamConfig>,
    #[serde(rename = "Links")]
    pub links: Option<Vec<String>>,
    #[serde(rename = "Aliases")]
    pub aliases: Option<Vec<String>>,
    #[serde(rename = "MacAddress", deserialize_with = "null_default")]
    pub mac_address: String,
    #[serde(rename = "NetworkID", deserialize_with = "null_default")]
    pub network_id: String,
    #[serde(rename = "EndpointID", deserialize_with = "null_default")]
    pub endpoint_id: String,
    #[serde(rename = "Gateway", deserialize_with = "null_default")]
    pub gateway: String,
    #[serde(rename = "IPAddress", deserialize_with = "null_default")]
    pub ip_address: String,
    #[serde(rename = "IPPrefixLen", deserialize_with = "null_default")]
    pub ip_prefix_len: i64,
    #[serde(rename = "IPv6Gateway", deserialize_with = "null_default")]
    pub ipv6_gateway: String,
    #[serde(rename = "GlobalIPv6Address", deserialize_with = "null_default")]
    pub global_ipv6_address: String,
    #[serde(rename = "GlobalIPv6PrefixLen", deserialize_with = "null_default")]
    pub global_ipv6_prefix_len: i64,
    #[serde(rename = "DriverOpts")]
    pub driver_opts: Option<BTreeMap<String, String>>,
    #[serde(rename = "DNSNames")]
    pub dns_names: Option<Vec<String>>,
}

/// Addresses asked for an endpoint.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct EndpointIpamConfig {
    #[serde(
        rename = "IPv4Address",
        deserialize_with = "null_default",
        skip_serializing_if = "String::is_empty"
    )]
    pub ipv4_address: String,
    #[serde(
        rename = "IPv6Address",
        deserialize_with = "null_default",
        skip_serializing_if = "String::is_empty"
    )]
    pub ipv6_address: String,
    #[serde(rename = "LinkLocalIPs", skip_serializing_if = "is_none_or_empty")]
    pub link_local_ips: Option<Vec<String>>,
}

/// `POST /containers/create`: the [`ContainerConfig`] fields at the top level, with the host
/// and network configuration beside them.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct ContainerCreateBody {
    #[serde(flatten)]
    pub config: ContainerConfig,
    #[serde(rename = "HostConfig", skip_serializing_if = "Option::is_none")]
    pub host_config: Option<HostConfig>,
    #[serde(rename = "NetworkingConfig", skip_serializing_if = "Option::is_none")]
    pub networking_config: Option<NetworkingConfig>,
}

/// `null` reads as the type's zero value, as Go's decoder leaves it.
fn null_default<'de, D, T>(deserializer: D) -> Result<T, D::Error>
where
    D: Deserializer<'de>,
    T: Default + Deserialize<'de>,
{
    Ok(Option::<T>::deserialize(deserializer)?.unwrap_or_default())
}

/// Docker's `StrSlice`: a list, a single string (one element), or `null`.
fn string_or_list<'de, D>(deserializer: D) -> Result<Option<Vec<String>>, D::Error>
where
    D: Deserializer<'de>,
{
    #[derive(Deserialize)]
    #[serde(untagged)]
    enum OneOrMany {
        One(String),
        Many(Vec<String>),
    }
    Ok(
        match Option::<OneOrMany>::deserialize(deserializer).map_err(|_| {
            serde::de::Error::custom("invalid type: expected a string or a list of strings")
        })? {
            None => None,
            Some(OneOrMany::One(s)) => Some(vec![s]),
            Some(OneOrMany::Many(v)) => Some(v),
        },
    )
}

/// A map whose values may be `null` (a Go map of pointers or slices): `null` values read as
/// the value type's default.
fn map_of_nullable<'de, D, V>(deserializer: D) -> Result<Option<BTreeMap<String, V>>, D::Error>
where
    D: Deserializer<'de>,
    V: Default + Deserialize<'de>,
{
    let map = Option::<BTreeMap<String, Option<V>>>::deserialize(deserializer)?;
    Ok(map.map(|m| {
        m.into_iter()
            .map(|(k, v)| (k, v.unwrap_or_default()))
            .collect()
    }))
}

/// Go's `map[string]struct{}`: keys to `{}` on the wire, a set here.
mod empty_object_map {
    use std::collections::{BTreeMap, BTreeSet};

    use serde::de::IgnoredAny;
    use serde::ser::SerializeMap;
    use serde::{Deserialize, Deserializer, Serializer};

    pub fn serialize<S: Serializer>(
        set: &Option<BTreeSet<String>>,
        serializer: S,
    ) -> Result<S::Ok, S::Error> {
        let Some(set) = set else {
            return serializer.serialize_none();
        };
        let mut map = serializer.serialize_map(Some(set.len()))?;
        for key in set {
            map.serialize_entry(key, &BTreeMap::<String, String>::new())?;
        }
        map.end()
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(
        deserializer: D,
    ) -> Result<Option<BTreeSet<String>>, D::Error> {
        let map = Option::<BTreeMap<String, IgnoredAny>>::deserialize(deserializer)?;
        Ok(map.map(|m| m.into_keys().collect()))
    }
}

fn is_false(value: &bool) -> bool {
    !*value
}

fn is_zero(value: &i64) -> bool {
    *value == 0
}

fn is_zero_u32(value: &u32) -> bool {
    *value == 0
}

fn is_none_or_empty<T>(value: &Option<Vec<T>>) -> bool {
    value.as_ref().is_none_or(Vec::is_empty)
}

fn is_none_or_empty_map(value: &Option<BTreeMap<String, String>>) -> bool {
    value.as_ref().is_none_or(BTreeMap::is_empty)
}

fn is_none_or_empty_set(value: &Option<BTreeSet<String>>) -> bool {
    value.as_ref().is_none_or(BTreeSet::is_empty)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::{Value, json};

    /// `docker run -d --name web -p 8080:80 -e FOO=bar -v /srv:/data:ro --memory 64m
    /// --cap-add NET_ADMIN --tmpfs /run:size=64m nginx` as the docker 28 CLI sends it.
    const DOCKER_CLI_28: &str = r#"{"Hostname":"","Domainname":"","User":"","AttachStdin":false,"AttachStdout":false,"AttachStderr":false,"ExposedPorts":{"80/tcp":{}},"Tty":false,"OpenStdin":false,"StdinOnce":false,"Env":["FOO=bar"],"Cmd":null,"Image":"nginx","Volumes":{},"WorkingDir":"","Entrypoint":null,"OnBuild":null,"Labels":{},"HostConfig":{"Binds":["/srv:/data:ro"],"ContainerIDFile":"","LogConfig":{"Type":"","Config":{}},"NetworkMode":"bridge","PortBindings":{"80/tcp":[{"HostIp":"","HostPort":"8080"}]},"RestartPolicy":{"Name":"no","MaximumRetryCount":0},"AutoRemove":false,"VolumeDriver":"","VolumesFrom":null,"ConsoleSize":[50,200],"CapAdd":["NET_ADMIN"],"CapDrop":null,"CgroupnsMode":"","Dns":[],"DnsOptions":[],"DnsSearch":[],"ExtraHosts":null,"GroupAdd":null,"IpcMode":"","Cgroup":"","Links":null,"OomScoreAdj":0,"PidMode":"","Privileged":false,"PublishAllPorts":false,"ReadonlyRootfs":false,"SecurityOpt":null,"Tmpfs":{"/run":"size=64m"},"UTSMode":"","UsernsMode":"","ShmSize":0,"Isolation":"","CpuShares":0,"Memory":67108864,"NanoCpus":0,"CgroupParent":"","BlkioWeight":0,"BlkioWeightDevice":[],"BlkioDeviceReadBps":[],"BlkioDeviceWriteBps":[],"BlkioDeviceReadIOps":[],"BlkioDeviceWriteIOps":[],"CpuPeriod":0,"CpuQuota":0,"CpuRealtimePeriod":0,"CpuRealtimeRuntime":0,"CpusetCpus":"","CpusetMems":"","Devices":[],"DeviceCgroupRules":null,"DeviceRequests":null,"MemoryReservation":0,"MemorySwap":0,"MemorySwappiness":null,"OomKillDisable":null,"PidsLimit":null,"Ulimits":[],"CpuCount":0,"CpuPercent":0,"IOMaximumIOps":0,"IOMaximumBandwidth":0,"MaskedPaths":null,"ReadonlyPaths":null},"NetworkingConfig":{"EndpointsConfig":{"bridge":{"IPAMConfig":null,"Links":null,"Aliases":null,"MacAddress":"","DriverOpts":null,"GwPriority":0,"NetworkID":"","EndpointID":"","Gateway":"","IPAddress":"","IPPrefixLen":0,"IPv6Gateway":"","GlobalIPv6Address":"","GlobalIPv6PrefixLen":0,"DNSNames":null}}}}"#;

    /// `client.containers.create("busybox", "sleep 60", environment={"A": "1"},
    /// ports={"80/tcp": 8080}, volumes={"/srv": {"bind": "/data", "mode": "rw"}},
    /// mounts=[Mount("/cache", None, type="tmpfs")], ulimits=[Ulimit(name="nofile", soft=1024,
    /// hard=2048)], healthcheck={...}, labels={"app": "x"}, stop_signal="SIGINT")` from docker-py
    /// 7 (top-level `null`s are stripped by the client, nested ones are not).
    const DOCKER_PY: &str = r#"{"Tty": false, "OpenStdin": false, "StdinOnce": false, "AttachStdin": false, "AttachStdout": false, "AttachStderr": false, "Env": ["A=1"], "Cmd": ["sleep", "60"], "Image": "busybox", "Volumes": {"/data": {}}, "NetworkDisabled": false, "Healthcheck": {"Test": ["CMD-SHELL", "true"], "Interval": 1000000000, "Timeout": null, "Retries": 3, "StartPeriod": null}, "StopSignal": "SIGINT", "Labels": {"app": "x"}, "ExposedPorts": {"80/tcp": {}}, "HostConfig": {"NetworkMode": "default", "Binds": ["/srv:/data:rw"], "PortBindings": {"80/tcp": [{"HostIp": "", "HostPort": "8080"}]}, "Mounts": [{"Target": "/cache", "Source": null, "Type": "tmpfs", "ReadOnly": false}], "Ulimits": [{"Name": "nofile", "Soft": 1024, "Hard": 2048}]}}"#;

    #[test]
    fn docker_cli_body() {
        let body: ContainerCreateBody = serde_json::from_str(DOCKER_CLI_28).unwrap();
        assert_eq!(body.config.image, "nginx");
        assert_eq!(body.config.env, Some(vec!["FOO=bar".to_owned()]));
        assert_eq!(body.config.cmd, None);
        assert_eq!(
            body.config.exposed_ports,
            Some(BTreeSet::from(["80/tcp".to_owned()]))
        );
        let host = body.host_config.unwrap();
        assert_eq!(host.binds, Some(vec!["/srv:/data:ro".to_owned()]));
        assert_eq!(host.resources.memory, 64 << 20);
        assert_eq!(host.console_size, [50, 200]);
        assert_eq!(host.cap_add, Some(vec!["NET_ADMIN".to_owned()]));
        assert_eq!(host.restart_policy.name, "no");
        assert_eq!(host.resources.pids_limit, None);
        assert_eq!(host.tmpfs.unwrap()["/run"], "size=64m");
        let ports = host.port_bindings.unwrap();
        assert_eq!(ports["80/tcp"][0].host_port, "8080");
        let networks = body.networking_config.unwrap().endpoints_config.unwrap();
        assert_eq!(networks["bridge"], EndpointSettings::default());
    }

    #[test]
    fn docker_py_body() {
        let body: ContainerCreateBody = serde_json::from_str(DOCKER_PY).unwrap();
        assert_eq!(
            body.config.cmd,
            Some(vec!["sleep".to_owned(), "60".to_owned()])
        );
        assert_eq!(body.config.stop_signal, "SIGINT");
        let health = body.config.healthcheck.unwrap();
        assert_eq!(health.interval, 1_000_000_000);
        assert_eq!(health.timeout, 0);
        assert_eq!(health.retries, 3);
        let host = body.host_config.unwrap();
        assert_eq!(host.network_mode, "default");
        let mount = &host.mounts.unwrap()[0];
        assert_eq!(mount.kind, MountType::Tmpfs);
        assert_eq!(mount.source, "");
        let ulimit = &host.resources.ulimits.unwrap()[0];
        assert_eq!(
            (ulimit.name.as_str(), ulimit.soft, ulimit.hard),
            ("nofile", 1024, 2048)
        );
        assert!(body.networking_config.is_none());
    }

    #[test]
    fn bodies_round_trip() {
        for text in [DOCKER_CLI_28, DOCKER_PY] {
            let body: ContainerCreateBody = serde_json::from_str(text).unwrap();
            let again: ContainerCreateBody =
                serde_json::from_value(serde_json::to_value(&body).unwrap()).unwrap();
            assert_eq!(body, again);
        }
    }

    #[test]
    fn strings_stand_for_one_element_lists() {
        let config: ContainerConfig = serde_json::from_value(json!({
            "Cmd": "date", "Entrypoint": "", "Shell": null
        }))
        .unwrap();
        assert_eq!(config.cmd, Some(vec!["date".to_owned()]));
        assert_eq!(config.entrypoint, Some(vec![String::new()]));
        assert_eq!(config.shell, None);
        let host: HostConfig = serde_json::from_value(json!({"CapDrop": "MKNOD"})).unwrap();
        assert_eq!(host.cap_drop, Some(vec!["MKNOD".to_owned()]));
        assert!(serde_json::from_value::<ContainerConfig>(json!({"Cmd": 5})).is_err());
    }

    #[test]
    fn nulls_read_as_zero_values() {
        let body: ContainerCreateBody = serde_json::from_value(json!({
            "Hostname": null, "Tty": null, "Image": "busybox", "StopTimeout": null,
            "HostConfig": {"LogConfig": null, "RestartPolicy": null, "ConsoleSize": null,
                           "Memory": null, "PortBindings": {"22/tcp": null}, "Privileged": null},
            "NetworkingConfig": {"EndpointsConfig": {"net": null}}
        }))
        .unwrap();
        assert_eq!(body.config.hostname, "");
        assert!(!body.config.tty);
        let host = body.host_config.unwrap();
        assert_eq!(host.port_bindings.unwrap()["22/tcp"], Vec::new());
        assert_eq!(host.console_size, [0, 0]);
    }

    #[test]
    fn unknown_fields_and_mount_types_are_kept_apart() {
        let host: HostConfig = serde_json::from_value(json!({
            "Mounts": [{"Type": "weird", "Target": "/x"}],
            "SomethingNew": {"a": 1}
        }))
        .unwrap();
        let mounts = host.mounts.unwrap();
        assert_eq!(mounts[0].kind, MountType::Other("weird".into()));
        assert_eq!(
            serde_json::to_value(&mounts[0]).unwrap(),
            json!({"Type": "weird", "Target": "/x"})
        );
    }

    /// What `docker inspect` shows for a container made with `docker run busybox sh` (after
    /// the daemon filled its defaults in): nil slices and maps as `null`, omitempty fields gone.
    #[test]
    fn serializes_as_docker_inspect_shows() {
        let config = ContainerConfig {
            hostname: "4fa6e0f0c678".into(),
            attach_stdout: true,
            attach_stderr: true,
            env: Some(vec![
                "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin".into(),
            ]),
            cmd: Some(vec!["sh".into()]),
            image: "busybox".into(),
            labels: Some(BTreeMap::new()),
            ..Default::default()
        };
        let expected_config = json!({
            "Hostname": "4fa6e0f0c678", "Domainname": "", "User": "",
            "AttachStdin": false, "AttachStdout": true, "AttachStderr": true,
            "Tty": false, "OpenStdin": false, "StdinOnce": false,
            "Env": ["PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"],
            "Cmd": ["sh"], "Image": "busybox", "Volumes": null, "WorkingDir": "",
            "Entrypoint": null, "OnBuild": null, "Labels": {}
        });
        assert_eq!(serde_json::to_value(&config).unwrap(), expected_config);
        let keys: Vec<String> = serde_json::to_value(&config)
            .unwrap()
            .as_object()
            .unwrap()
            .keys()
            .cloned()
            .collect();
        assert_eq!(keys.len(), 17);

        let host = HostConfig {
            log_config: LogConfig {
                kind: "json-file".into(),
                config: Some(BTreeMap::new()),
            },
            network_mode: "bridge".into(),
            port_bindings: Some(BTreeMap::new()),
            restart_policy: RestartPolicy {
                name: "no".into(),
                maximum_retry_count: 0,
            },
            ipc_mode: "private".into(),
            cgroupns_mode: "host".into(),
            shm_size: 67108864,
            runtime: "runc".into(),
            ..Default::default()
        };
        let json = serde_json::to_value(&host).unwrap();
        assert_eq!(json["Binds"], Value::Null);
        assert_eq!(
            json["LogConfig"],
            json!({"Type": "json-file", "Config": {}})
        );
        assert_eq!(
            json["RestartPolicy"],
            json!({"Name": "no", "MaximumRetryCount": 0})
        );
        assert_eq!(json["ConsoleSize"], json!([0, 0]));
        assert_eq!(json["PidsLimit"], Value::Null);
        assert_eq!(json["MemorySwappiness"], Value::Null);
        assert_eq!(json["NanoCpus"], json!(0));
        assert_eq!(json["MaskedPaths"], Value::Null);
        for omitted in [
            "Annotations",
            "StorageOpt",
            "Tmpfs",
            "Sysctls",
            "Mounts",
            "Init",
            "KernelMemory",
        ] {
            assert!(json.get(omitted).is_none(), "{omitted} should be left out");
        }
        let text = serde_json::to_string(&host).unwrap();
        let order = [
            "\"Binds\"",
            "\"LogConfig\"",
            "\"Isolation\"",
            "\"CpuShares\"",
            "\"IOMaximumBandwidth\"",
            "\"MaskedPaths\"",
        ];
        let positions: Vec<usize> = order.iter().map(|k| text.find(k).unwrap()).collect();
        assert!(positions.windows(2).all(|w| w[0] < w[1]), "{text}");
    }

    #[test]
    fn endpoint_settings_as_inspect_shows() {
        let json = serde_json::to_value(EndpointSettings {
            ip_address: "172.17.0.2".into(),
            ip_prefix_len: 16,
            ..Default::default()
        })
        .unwrap();
        assert_eq!(
            json,
            json!({"IPAMConfig": null, "Links": null, "Aliases": null, "MacAddress": "",
                   "NetworkID": "", "EndpointID": "", "Gateway": "", "IPAddress": "172.17.0.2",
                   "IPPrefixLen": 16, "IPv6Gateway": "", "GlobalIPv6Address": "",
                   "GlobalIPv6PrefixLen": 0, "DriverOpts": null, "DNSNames": null})
        );
    }
}
