//! System-wide bodies: `/version`, `/info`, `/system/df`, `/events`, the progress messages
//! of pulls, loads and imports, errors, ids, registry credentials and volumes.

use std::collections::BTreeMap;

use serde::{Deserialize, Deserializer, Serialize};

use super::container::ContainerSummary;
use super::image::ImageSummary;

/// Reads `null` as the type's default. Go encodes nil slices and maps as `null`, so a
/// daemon written in Go sends `"Mounts": null` where pier sends `[]`; both must parse.
pub(crate) fn nullable<'de, D, T>(deserializer: D) -> Result<T, D::Error>
where
    D: Deserializer<'de>,
    T: Default + Deserialize<'de>,
{
    Ok(Option::<T>::deserialize(deserializer)?.unwrap_or_default())
}

pub(crate) fn is_false(value: &bool) -> bool {
    !*value
}

pub(crate) fn is_zero(value: &i64) -> bool {
    *value == 0
}

/// `GET /version`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase", default)]
pub struct SystemVersion {
    pub platform: PlatformName,
    #[serde(skip_serializing_if = "Vec::is_empty", deserialize_with = "nullable")]
    pub components: Vec<ComponentVersion>,
    pub version: String,
    pub api_version: String,
    #[serde(rename = "MinAPIVersion", skip_serializing_if = "String::is_empty")]
    pub min_api_version: String,
    pub git_commit: String,
    pub go_version: String,
    pub os: String,
    pub arch: String,
    #[serde(skip_serializing_if = "String::is_empty")]
    pub kernel_version: String,
    #[serde(skip_serializing_if = "is_false")]
    pub experimental: bool,
    #[serde(skip_serializing_if = "String::is_empty")]
    pub build_time: String,
}

/// `Platform` of `/version`: the product's name.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase", default)]
pub struct PlatformName {
    pub name: String,
}

/// One component of `/version` (`Engine`, `runc`, ...).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase", default)]
pub struct ComponentVersion {
    pub name: String,
    pub version: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub details: Option<BTreeMap<String, String>>,
}

/// `GET /info`: what `docker info` prints.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase", default)]
pub struct SystemInfo {
    #[serde(rename = "ID")]
    pub id: String,
    pub containers: i64,
    pub containers_running: i64,
    pub containers_paused: i64,
    pub containers_stopped: i64,
    pub images: i64,
    pub driver: String,
    /// Pairs of `[name, value]`.
    #[serde(deserialize_with = "nullable")]
    pub driver_status: Vec<[String; 2]>,
    pub plugins: PluginsInfo,
    pub memory_limit: bool,
    pub swap_limit: bool,
    #[serde(rename = "KernelMemoryTCP", skip_serializing_if = "is_false")]
    pub kernel_memory_tcp: bool,
    pub cpu_cfs_period: bool,
    pub cpu_cfs_quota: bool,
    #[serde(rename = "CPUShares")]
    pub cpu_shares: bool,
    #[serde(rename = "CPUSet")]
    pub cpu_set: bool,
    pub pids_limit: bool,
    pub oom_kill_disable: bool,
    #[serde(rename = "IPv4Forwarding")]
    pub ipv4_forwarding: bool,
    pub bridge_nf_iptables: bool,
    pub bridge_nf_ip6tables: bool,
    pub debug: bool,
    #[serde(rename = "NFd")]
    pub nfd: i64,
    #[serde(rename = "NGoroutines")]
    pub ngoroutines: i64,
    /// RFC 3339 with nanoseconds.
    pub system_time: String,
    pub logging_driver: String,
    pub cgroup_driver: String,
    /// `"1"` or `"2"`.
    #[serde(skip_serializing_if = "String::is_empty")]
    pub cgroup_version: String,
    #[serde(rename = "NEventsListener")]
    pub nevents_listener: i64,
    pub kernel_version: String,
    pub operating_system: String,
    #[serde(rename = "OSVersion")]
    pub os_version: String,
    #[serde(rename = "OSType")]
    pub os_type: String,
    pub architecture: String,
    pub index_server_address: String,
    pub registry_config: Option<RegistryServiceConfig>,
    #[serde(rename = "NCPU")]
    pub ncpu: i64,
    pub mem_total: i64,
    /// Swarm's generic resources; pier has none (`null`).
    pub generic_resources: Option<Vec<serde_json::Value>>,
    pub docker_root_dir: String,
    pub http_proxy: String,
    pub https_proxy: String,
    pub no_proxy: String,
    pub name: String,
    #[serde(deserialize_with = "nullable")]
    pub labels: Vec<String>,
    pub experimental_build: bool,
    pub server_version: String,
    #[serde(deserialize_with = "nullable")]
    pub runtimes: BTreeMap<String, Runtime>,
    pub default_runtime: String,
    pub swarm: SwarmInfo,
    pub live_restore_enabled: bool,
    pub isolation: String,
    pub init_binary: String,
    pub containerd_commit: Commit,
    pub runc_commit: Commit,
    pub init_commit: Commit,
    /// `name=seccomp,profile=builtin` and the like.
    #[serde(deserialize_with = "nullable")]
    pub security_options: Vec<String>,
    #[serde(skip_serializing_if = "String::is_empty")]
    pub product_license: String,
    #[serde(skip_serializing_if = "Vec::is_empty", deserialize_with = "nullable")]
    pub default_address_pools: Vec<NetworkAddressPool>,
    #[serde(rename = "CDISpecDirs", deserialize_with = "nullable")]
    pub cdi_spec_dirs: Vec<String>,
    #[serde(deserialize_with = "nullable")]
    pub warnings: Vec<String>,
}

/// Plugins by kind, as `/info` lists them.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase", default)]
pub struct PluginsInfo {
    #[serde(deserialize_with = "nullable")]
    pub volume: Vec<String>,
    #[serde(deserialize_with = "nullable")]
    pub network: Vec<String>,
    #[serde(deserialize_with = "nullable")]
    pub authorization: Vec<String>,
    #[serde(deserialize_with = "nullable")]
    pub log: Vec<String>,
}

/// The daemon's registry settings (`Insecure Registries`, `Registry Mirrors` of `docker info`).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase", default)]
pub struct RegistryServiceConfig {
    #[serde(
        rename = "AllowNondistributableArtifactsCIDRs",
        skip_serializing_if = "Vec::is_empty",
        deserialize_with = "nullable"
    )]
    pub allow_nondistributable_artifacts_cidrs: Vec<String>,
    #[serde(skip_serializing_if = "Vec::is_empty", deserialize_with = "nullable")]
    pub allow_nondistributable_artifacts_hostnames: Vec<String>,
    #[serde(rename = "InsecureRegistryCIDRs", deserialize_with = "nullable")]
    pub insecure_registry_cidrs: Vec<String>,
    #[serde(deserialize_with = "nullable")]
    pub index_configs: BTreeMap<String, IndexInfo>,
    #[serde(deserialize_with = "nullable")]
    pub mirrors: Vec<String>,
}

/// One registry of `RegistryServiceConfig.IndexConfigs`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase", default)]
pub struct IndexInfo {
    pub name: String,
    #[serde(deserialize_with = "nullable")]
    pub mirrors: Vec<String>,
    pub secure: bool,
    pub official: bool,
}

/// An OCI runtime the daemon knows (`Runtimes` of `/info`).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct Runtime {
    pub path: String,
    #[serde(
        rename = "runtimeArgs",
        skip_serializing_if = "Vec::is_empty",
        deserialize_with = "nullable"
    )]
    pub runtime_args: Vec<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub status: Option<BTreeMap<String, String>>,
}

/// The commit a helper binary was built from.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase", default)]
pub struct Commit {
    #[serde(rename = "ID")]
    pub id: String,
    pub expected: String,
}

/// A pool of `--default-address-pool`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase", default)]
pub struct NetworkAddressPool {
    pub base: String,
    pub size: i64,
}

/// Swarm's part of `/info`. pier runs no swarm: its default says `inactive`, which is what
/// `docker info` prints as `Swarm: inactive`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase", default)]
pub struct SwarmInfo {
    #[serde(rename = "NodeID")]
    pub node_id: String,
    pub node_addr: String,
    pub local_node_state: String,
    pub control_available: bool,
    pub error: String,
    pub remote_managers: Option<Vec<PeerNode>>,
    #[serde(skip_serializing_if = "is_zero")]
    pub nodes: i64,
    #[serde(skip_serializing_if = "is_zero")]
    pub managers: i64,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub cluster: Option<serde_json::Value>,
}

impl Default for SwarmInfo {
    fn default() -> Self {
        Self {
            node_id: String::new(),
            node_addr: String::new(),
            local_node_state: "inactive".to_owned(),
            control_available: false,
            error: String::new(),
            remote_managers: None,
            nodes: 0,
            managers: 0,
            cluster: None,
        }
    }
}

/// A manager of a swarm.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase", default)]
pub struct PeerNode {
    #[serde(rename = "NodeID")]
    pub node_id: String,
    pub addr: String,
}

/// `GET /system/df`.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase", default)]
pub struct SystemDataUsage {
    pub layers_size: i64,
    #[serde(deserialize_with = "nullable")]
    pub images: Vec<ImageSummary>,
    #[serde(deserialize_with = "nullable")]
    pub containers: Vec<ContainerSummary>,
    #[serde(deserialize_with = "nullable")]
    pub volumes: Vec<Volume>,
    #[serde(deserialize_with = "nullable")]
    pub build_cache: Vec<BuildCache>,
}

/// A build cache record of `/system/df`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase", default)]
pub struct BuildCache {
    #[serde(rename = "ID")]
    pub id: String,
    #[serde(skip_serializing_if = "Vec::is_empty", deserialize_with = "nullable")]
    pub parents: Vec<String>,
    #[serde(rename = "Type")]
    pub kind: String,
    pub description: String,
    pub in_use: bool,
    pub shared: bool,
    pub size: i64,
    /// RFC 3339 with nanoseconds.
    pub created_at: String,
    pub last_used_at: Option<String>,
    pub usage_count: i64,
}

/// One event of `GET /events`. Container events also carry the legacy `status`, `id` and
/// `from` fields (the action, the container's id and its image), which old clients read.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct EventMessage {
    #[serde(skip_serializing_if = "String::is_empty")]
    pub status: String,
    #[serde(skip_serializing_if = "String::is_empty")]
    pub id: String,
    #[serde(skip_serializing_if = "String::is_empty")]
    pub from: String,
    /// `container`, `image`, `network`, `volume`, `daemon`...
    #[serde(rename = "Type")]
    pub kind: String,
    /// `create`, `start`, `die`, `exec_start: sh`...
    #[serde(rename = "Action")]
    pub action: String,
    #[serde(rename = "Actor")]
    pub actor: EventActor,
    /// `local` (or `swarm`).
    #[serde(skip_serializing_if = "String::is_empty")]
    pub scope: String,
    /// Seconds since the epoch.
    #[serde(skip_serializing_if = "is_zero")]
    pub time: i64,
    /// Nanoseconds since the epoch.
    #[serde(rename = "timeNano", skip_serializing_if = "is_zero")]
    pub time_nano: i64,
}

/// What an event is about: its id and attributes (a container's labels, `name`, `image`,
/// `exitCode`...).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase", default)]
pub struct EventActor {
    #[serde(rename = "ID")]
    pub id: String,
    #[serde(deserialize_with = "nullable")]
    pub attributes: BTreeMap<String, String>,
}

/// One line of the JSON streams of pulls, pushes, loads, imports and builds (Docker's
/// `jsonmessage`): a status (`Pulling fs layer`) for an `id`, progress, build output
/// (`stream`), out-of-band data (`aux`), or an error, which ends the stream.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct JsonMessage {
    #[serde(skip_serializing_if = "String::is_empty")]
    pub stream: String,
    #[serde(skip_serializing_if = "String::is_empty")]
    pub status: String,
    #[serde(rename = "progressDetail", skip_serializing_if = "Option::is_none")]
    pub progress_detail: Option<ProgressDetail>,
    /// A pre-rendered progress bar (deprecated by Docker, still sent).
    #[serde(skip_serializing_if = "String::is_empty")]
    pub progress: String,
    #[serde(skip_serializing_if = "String::is_empty")]
    pub id: String,
    #[serde(skip_serializing_if = "String::is_empty")]
    pub from: String,
    #[serde(skip_serializing_if = "is_zero")]
    pub time: i64,
    #[serde(rename = "timeNano", skip_serializing_if = "is_zero")]
    pub time_nano: i64,
    #[serde(rename = "errorDetail", skip_serializing_if = "Option::is_none")]
    pub error_detail: Option<ErrorDetail>,
    /// The error's message again (deprecated by Docker, still sent).
    #[serde(skip_serializing_if = "String::is_empty")]
    pub error: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub aux: Option<serde_json::Value>,
}

impl JsonMessage {
    /// The error this message reports, if it is one: `errorDetail.message`, else `error`.
    pub fn error_message(&self) -> Option<&str> {
        self.error_detail
            .as_ref()
            .map(|detail| detail.message.as_str())
            .filter(|message| !message.is_empty())
            .or_else(|| (!self.error.is_empty()).then_some(self.error.as_str()))
    }

    /// A message that reports an error (both fields set, as dockerd writes them).
    pub fn from_error(message: impl Into<String>) -> Self {
        let message = message.into();
        Self {
            error_detail: Some(ErrorDetail {
                code: 0,
                message: message.clone(),
            }),
            error: message,
            ..Self::default()
        }
    }
}

/// Bytes done of a total, in a progress message.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct ProgressDetail {
    #[serde(skip_serializing_if = "is_zero")]
    pub current: i64,
    #[serde(skip_serializing_if = "is_zero")]
    pub total: i64,
    /// Seconds since the epoch at which the operation started.
    #[serde(skip_serializing_if = "is_zero")]
    pub start: i64,
    #[serde(rename = "hidecounts", skip_serializing_if = "is_false")]
    pub hide_counts: bool,
    #[serde(skip_serializing_if = "String::is_empty")]
    pub units: String,
}

/// The error of a progress message.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct ErrorDetail {
    #[serde(skip_serializing_if = "is_zero")]
    pub code: i64,
    #[serde(skip_serializing_if = "String::is_empty")]
    pub message: String,
}

/// The body of every error response: `{"message": "..."}`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct ErrorResponse {
    pub message: String,
}

/// A response that carries only the id of what was made (exec create, commit...).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct IdResponse {
    #[serde(rename = "Id")]
    pub id: String,
}

/// Registry credentials: the body of `POST /auth`, and (base64url-encoded JSON) the
/// `X-Registry-Auth` header of pulls and pushes.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct AuthConfig {
    #[serde(skip_serializing_if = "String::is_empty")]
    pub username: String,
    #[serde(skip_serializing_if = "String::is_empty")]
    pub password: String,
    /// base64 of `username:password`.
    #[serde(skip_serializing_if = "String::is_empty")]
    pub auth: String,
    #[serde(skip_serializing_if = "String::is_empty")]
    pub email: String,
    #[serde(rename = "serveraddress", skip_serializing_if = "String::is_empty")]
    pub server_address: String,
    #[serde(rename = "identitytoken", skip_serializing_if = "String::is_empty")]
    pub identity_token: String,
    #[serde(rename = "registrytoken", skip_serializing_if = "String::is_empty")]
    pub registry_token: String,
}

/// `POST /auth` response.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase", default)]
pub struct AuthResponse {
    /// `Login Succeeded`.
    pub status: String,
    #[serde(skip_serializing_if = "String::is_empty")]
    pub identity_token: String,
}

/// A volume (`GET /volumes/{name}`, items of `GET /volumes`).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase", default)]
pub struct Volume {
    pub name: String,
    pub driver: String,
    pub mountpoint: String,
    /// RFC 3339.
    #[serde(skip_serializing_if = "String::is_empty")]
    pub created_at: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub status: Option<BTreeMap<String, serde_json::Value>>,
    #[serde(deserialize_with = "nullable")]
    pub labels: BTreeMap<String, String>,
    /// `local`.
    pub scope: String,
    #[serde(deserialize_with = "nullable")]
    pub options: BTreeMap<String, String>,
    /// Only in `/system/df`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub usage_data: Option<VolumeUsageData>,
}

/// Disk use of a volume; `-1` where unknown.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase", default)]
pub struct VolumeUsageData {
    pub size: i64,
    pub ref_count: i64,
}

impl Default for VolumeUsageData {
    fn default() -> Self {
        Self {
            size: -1,
            ref_count: -1,
        }
    }
}

/// `GET /volumes`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase", default)]
pub struct VolumeListResponse {
    #[serde(deserialize_with = "nullable")]
    pub volumes: Vec<Volume>,
    #[serde(deserialize_with = "nullable")]
    pub warnings: Vec<String>,
}

/// `POST /volumes/create` body.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase", default)]
pub struct VolumeCreateOptions {
    #[serde(skip_serializing_if = "String::is_empty")]
    pub name: String,
    #[serde(skip_serializing_if = "String::is_empty")]
    pub driver: String,
    #[serde(
        skip_serializing_if = "BTreeMap::is_empty",
        deserialize_with = "nullable"
    )]
    pub driver_opts: BTreeMap<String, String>,
    #[serde(
        skip_serializing_if = "BTreeMap::is_empty",
        deserialize_with = "nullable"
    )]
    pub labels: BTreeMap<String, String>,
}

/// `POST /volumes/prune`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase", default)]
pub struct VolumePruneResponse {
    #[serde(deserialize_with = "nullable")]
    pub volumes_deleted: Vec<String>,
    pub space_reclaimed: u64,
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::{Value, json};

    #[test]
    fn version_omits_what_docker_omits() {
        let version = SystemVersion {
            version: "0.1.0".into(),
            api_version: "1.45".into(),
            ..Default::default()
        };
        let json = serde_json::to_value(&version).unwrap();
        assert_eq!(json["Platform"], json!({"Name": ""}));
        assert_eq!(json["ApiVersion"], "1.45");
        for omitted in [
            "Components",
            "MinAPIVersion",
            "KernelVersion",
            "Experimental",
        ] {
            assert!(json.get(omitted).is_none(), "{omitted} sent");
        }
    }

    #[test]
    fn info_field_names() {
        let json = serde_json::to_value(SystemInfo::default()).unwrap();
        for name in [
            "ID",
            "ContainersRunning",
            "DriverStatus",
            "CpuCfsPeriod",
            "CPUShares",
            "CPUSet",
            "IPv4Forwarding",
            "BridgeNfIp6tables",
            "NFd",
            "NGoroutines",
            "NEventsListener",
            "OSType",
            "OSVersion",
            "NCPU",
            "MemTotal",
            "DockerRootDir",
            "HttpProxy",
            "RegistryConfig",
            "GenericResources",
            "CDISpecDirs",
            "SecurityOptions",
            "Warnings",
        ] {
            assert!(json.get(name).is_some(), "{name} missing");
        }
        assert_eq!(json["Swarm"]["LocalNodeState"], "inactive");
        assert_eq!(json["Swarm"]["RemoteManagers"], Value::Null);
    }

    #[test]
    fn info_from_go_nulls() {
        let info: SystemInfo = serde_json::from_value(json!({
            "ID": "x", "DriverStatus": [["Backing Filesystem", "extfs"]], "Labels": null,
            "Warnings": null, "Plugins": {"Volume": ["local"], "Log": null},
            "Runtimes": {"runc": {"path": "runc"}}, "Unknown": 1
        }))
        .unwrap();
        assert_eq!(info.driver_status[0][1], "extfs");
        assert!(info.labels.is_empty());
        assert_eq!(info.plugins.volume, ["local"]);
        assert_eq!(info.runtimes["runc"].path, "runc");
    }

    #[test]
    fn event_wire_form() {
        let event = EventMessage {
            status: "start".into(),
            id: "abc".into(),
            from: "busybox".into(),
            kind: "container".into(),
            action: "start".into(),
            actor: EventActor {
                id: "abc".into(),
                attributes: [("name".to_owned(), "web".to_owned())].into(),
            },
            scope: "local".into(),
            time: 1,
            time_nano: 1_000_000_001,
        };
        let json = serde_json::to_value(&event).unwrap();
        assert_eq!(
            json,
            json!({"status": "start", "id": "abc", "from": "busybox", "Type": "container",
                   "Action": "start", "Actor": {"ID": "abc", "Attributes": {"name": "web"}},
                   "scope": "local", "time": 1, "timeNano": 1_000_000_001_i64})
        );
        let back: EventMessage = serde_json::from_value(json).unwrap();
        assert_eq!(back, event);
    }

    #[test]
    fn json_message_errors() {
        let message: JsonMessage = serde_json::from_str(
            r#"{"errorDetail":{"message":"manifest unknown"},"error":"manifest unknown"}"#,
        )
        .unwrap();
        assert_eq!(message.error_message(), Some("manifest unknown"));
        let status: JsonMessage = serde_json::from_str(
            r#"{"status":"Downloading","progressDetail":{"current":5,"total":10},"id":"abc"}"#,
        )
        .unwrap();
        assert_eq!(status.error_message(), None);
        assert_eq!(status.progress_detail.as_ref().unwrap().total, 10);
        assert_eq!(
            serde_json::to_string(&JsonMessage::from_error("boom")).unwrap(),
            r#"{"errorDetail":{"message":"boom"},"error":"boom"}"#
        );
        assert_eq!(
            serde_json::to_string(&JsonMessage {
                stream: "Step 1/2\n".into(),
                ..Default::default()
            })
            .unwrap(),
            r#"{"stream":"Step 1/2\n"}"#
        );
    }

    #[test]
    fn auth_config_names() {
        let auth = AuthConfig {
            username: "u".into(),
            password: "p".into(),
            server_address: "localhost:5000".into(),
            ..Default::default()
        };
        assert_eq!(
            serde_json::to_value(&auth).unwrap(),
            json!({"username": "u", "password": "p", "serveraddress": "localhost:5000"})
        );
    }

    #[test]
    fn volumes() {
        let list: VolumeListResponse = serde_json::from_value(json!({
            "Volumes": [{"Name": "v", "Driver": "local", "Mountpoint": "/x/_data",
                         "CreatedAt": "2024-01-01T00:00:00Z", "Labels": null, "Scope": "local",
                         "Options": null}],
            "Warnings": null
        }))
        .unwrap();
        assert_eq!(list.volumes[0].name, "v");
        let json = serde_json::to_value(&list.volumes[0]).unwrap();
        assert_eq!(json["Labels"], json!({}));
        assert!(json.get("UsageData").is_none());
        assert!(json.get("Status").is_none());
        assert_eq!(
            serde_json::to_value(VolumeCreateOptions {
                name: "v".into(),
                ..Default::default()
            })
            .unwrap(),
            json!({"Name": "v"})
        );
    }
}
