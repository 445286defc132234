//! Container bodies other than the create request: list items, inspect, create/wait/top/
//! update responses, filesystem changes, `docker cp` stats and prune results.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use super::config::{ContainerConfig, EndpointSettings, HostConfig, PortBinding};
use super::system::nullable;

/// Published ports of a container: `"80/tcp"` to its bindings (`null` for a port exposed
/// but not published). Sorted, as Go writes maps.
pub type PortMap = BTreeMap<String, Option<Vec<PortBinding>>>;

/// An item of `GET /containers/json`.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase", default)]
pub struct ContainerSummary {
    #[serde(rename = "Id")]
    pub id: String,
    /// With their leading slash: `/web`.
    #[serde(deserialize_with = "nullable")]
    pub names: Vec<String>,
    pub image: String,
    #[serde(rename = "ImageID")]
    pub image_id: String,
    pub command: String,
    /// Seconds since the epoch.
    pub created: i64,
    #[serde(deserialize_with = "nullable")]
    pub ports: Vec<Port>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub size_rw: Option<i64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub size_root_fs: Option<i64>,
    #[serde(deserialize_with = "nullable")]
    pub labels: BTreeMap<String, String>,
    /// `created`, `running`, `paused`, `restarting`, `removing`, `exited` or `dead`.
    pub state: String,
    /// `Up 2 minutes`, `Exited (0) 3 seconds ago`...
    pub status: String,
    pub host_config: SummaryHostConfig,
    pub network_settings: Option<SummaryNetworkSettings>,
    #[serde(deserialize_with = "nullable")]
    pub mounts: Vec<MountPoint>,
}

/// The part of a container's host config that the list shows.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase", default)]
pub struct SummaryHostConfig {
    #[serde(skip_serializing_if = "String::is_empty")]
    pub network_mode: String,
}

/// The networks of a listed container.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase", default)]
pub struct SummaryNetworkSettings {
    #[serde(deserialize_with = "nullable")]
    pub networks: BTreeMap<String, EndpointSettings>,
}

/// A port of a listed container: published (`PublicPort` set) or only exposed.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase", default)]
pub struct Port {
    #[serde(rename = "IP", skip_serializing_if = "String::is_empty")]
    pub ip: String,
    pub private_port: u16,
    #[serde(skip_serializing_if = "is_zero_port")]
    pub public_port: u16,
    /// `tcp`, `udp` or `sctp`.
    #[serde(rename = "Type")]
    pub kind: String,
}

fn is_zero_port(port: &u16) -> bool {
    *port == 0
}

/// A mount of a container, as inspect and the list report it.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase", default)]
pub struct MountPoint {
    /// `bind`, `volume`, `tmpfs`...
    #[serde(rename = "Type", skip_serializing_if = "String::is_empty")]
    pub kind: String,
    /// The volume's name.
    #[serde(skip_serializing_if = "String::is_empty")]
    pub name: String,
    pub source: String,
    pub destination: String,
    #[serde(skip_serializing_if = "String::is_empty")]
    pub driver: String,
    pub mode: String,
    #[serde(rename = "RW")]
    pub rw: bool,
    pub propagation: String,
}

/// `GET /containers/{id}/json`.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase", default)]
pub struct ContainerInspectResponse {
    #[serde(rename = "Id")]
    pub id: String,
    /// RFC 3339 with nanoseconds.
    pub created: String,
    pub path: String,
    #[serde(deserialize_with = "nullable")]
    pub args: Vec<String>,
    pub state: ContainerState,
    /// The image's id (`sha256:...`).
    pub image: String,
    pub resolv_conf_path: String,
    pub hostname_path: String,
    pub hosts_path: String,
    pub log_path: String,
    /// With the leading slash: `/web`.
    pub name: String,
    pub restart_count: i64,
    pub driver: String,
    pub platform: String,
    pub mount_label: String,
    pub process_label: String,
    pub app_armor_profile: String,
    /// Ids of the container's execs; `null` when it has none, as Docker sends it.
    #[serde(rename = "ExecIDs")]
    pub exec_ids: Option<Vec<String>>,
    pub host_config: HostConfig,
    pub graph_driver: GraphDriverData,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub size_rw: Option<i64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub size_root_fs: Option<i64>,
    #[serde(deserialize_with = "nullable")]
    pub mounts: Vec<MountPoint>,
    pub config: ContainerConfig,
    pub network_settings: NetworkSettings,
}

/// A container's state, in inspect.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase", default)]
pub struct ContainerState {
    /// `created`, `running`, `paused`, `restarting`, `removing`, `exited` or `dead`.
    pub status: String,
    /// Also true while paused.
    pub running: bool,
    pub paused: bool,
    pub restarting: bool,
    #[serde(rename = "OOMKilled")]
    pub oom_killed: bool,
    pub dead: bool,
    pub pid: i64,
    pub exit_code: i64,
    pub error: String,
    /// RFC 3339 with nanoseconds; `0001-01-01T00:00:00Z` when never started.
    pub started_at: String,
    /// RFC 3339 with nanoseconds; `0001-01-01T00:00:00Z` when never exited.
    pub finished_at: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub health: Option<Health>,
}

/// Health check results of a container that has a health check.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase", default)]
pub struct Health {
    /// `none`, `starting`, `healthy` or `unhealthy`.
    pub status: String,
    pub failing_streak: i64,
    /// The last few results, oldest first.
    #[serde(deserialize_with = "nullable")]
    pub log: Vec<HealthcheckResult>,
}

/// One run of a health check.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase", default)]
pub struct HealthcheckResult {
    /// RFC 3339 with nanoseconds.
    pub start: String,
    pub end: String,
    /// 0 healthy, 1 unhealthy, 2 reserved, other: the probe could not run.
    pub exit_code: i64,
    pub output: String,
}

/// The storage driver's view of a container or image.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase", default)]
pub struct GraphDriverData {
    /// `overlay2`.
    pub name: String,
    /// `LowerDir`, `MergedDir`, `UpperDir`, `WorkDir`.
    #[serde(deserialize_with = "nullable")]
    pub data: BTreeMap<String, String>,
}

/// A container's network settings, in inspect. The fields outside `Networks` describe the
/// default `bridge` network (Docker keeps them for old clients) and are empty otherwise.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase", default)]
pub struct NetworkSettings {
    pub bridge: String,
    #[serde(rename = "SandboxID")]
    pub sandbox_id: String,
    pub hairpin_mode: bool,
    #[serde(rename = "LinkLocalIPv6Address")]
    pub link_local_ipv6_address: String,
    #[serde(rename = "LinkLocalIPv6PrefixLen")]
    pub link_local_ipv6_prefix_len: i64,
    #[serde(deserialize_with = "nullable")]
    pub ports: PortMap,
    pub sandbox_key: String,
    #[serde(rename = "SecondaryIPAddresses")]
    pub secondary_ip_addresses: Option<Vec<Address>>,
    #[serde(rename = "SecondaryIPv6Addresses")]
    pub secondary_ipv6_addresses: Option<Vec<Address>>,
    #[serde(rename = "EndpointID")]
    pub endpoint_id: String,
    pub gateway: String,
    #[serde(rename = "GlobalIPv6Address")]
    pub global_ipv6_address: String,
    #[serde(rename = "GlobalIPv6PrefixLen")]
    pub global_ipv6_prefix_len: i64,
    #[serde(rename = "IPAddress")]
    pub ip_address: String,
    #[serde(rename = "IPPrefixLen")]
    pub ip_prefix_len: i64,
    #[serde(rename = "IPv6Gateway")]
    pub ipv6_gateway: String,
    pub mac_address: String,
    #[serde(deserialize_with = "nullable")]
    pub networks: BTreeMap<String, EndpointSettings>,
}

/// An IP address with its prefix length.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase", default)]
pub struct Address {
    pub addr: String,
    pub prefix_len: i64,
}

/// `POST /containers/create` response.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase", default)]
pub struct ContainerCreateResponse {
    #[serde(rename = "Id")]
    pub id: String,
    #[serde(deserialize_with = "nullable")]
    pub warnings: Vec<String>,
}

/// `POST /containers/{id}/wait` response.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase", default)]
pub struct ContainerWaitResponse {
    pub status_code: i64,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<ContainerWaitExitError>,
}

/// Why waiting for a container failed.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase", default)]
pub struct ContainerWaitExitError {
    #[serde(skip_serializing_if = "String::is_empty")]
    pub message: String,
}

/// `GET /containers/{id}/top`: `ps` columns and one row per process.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase", default)]
pub struct ContainerTopResponse {
    #[serde(deserialize_with = "nullable")]
    pub titles: Vec<String>,
    #[serde(deserialize_with = "nullable")]
    pub processes: Vec<Vec<String>>,
}

/// `POST /containers/{id}/update` response.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase", default)]
pub struct ContainerUpdateResponse {
    #[serde(deserialize_with = "nullable")]
    pub warnings: Vec<String>,
}

/// An item of `GET /containers/{id}/changes`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase", default)]
pub struct FilesystemChange {
    pub path: String,
    /// [`FilesystemChange::MODIFIED`], [`FilesystemChange::ADDED`] or
    /// [`FilesystemChange::DELETED`].
    pub kind: u8,
}

impl FilesystemChange {
    pub const MODIFIED: u8 = 0;
    pub const ADDED: u8 = 1;
    pub const DELETED: u8 = 2;

    /// The letter `docker diff` prints: `C`, `A` or `D` (`?` for a kind it does not know).
    pub fn kind_letter(&self) -> char {
        match self.kind {
            Self::MODIFIED => 'C',
            Self::ADDED => 'A',
            Self::DELETED => 'D',
            _ => '?',
        }
    }
}

/// `POST /containers/prune` response.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase", default)]
pub struct ContainerPruneResponse {
    #[serde(deserialize_with = "nullable")]
    pub containers_deleted: Vec<String>,
    pub space_reclaimed: u64,
}

/// What `HEAD`/`GET /containers/{id}/archive` report of a path, as base64 JSON in the
/// `X-Docker-Container-Path-Stat` header.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct ContainerPathStat {
    pub name: String,
    pub size: i64,
    /// A Go `os.FileMode`: permission bits, with the type in the high bits (directory
    /// `1 << 31`, symlink `1 << 27`...), not a Unix `st_mode`.
    pub mode: u32,
    /// RFC 3339 with nanoseconds.
    pub mtime: String,
    #[serde(rename = "linkTarget")]
    pub link_target: String,
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::{Value, json};

    #[test]
    fn summary_wire_names() {
        let summary = ContainerSummary {
            id: "abc".into(),
            names: vec!["/web".into()],
            image_id: "sha256:1".into(),
            ports: vec![
                Port {
                    ip: "0.0.0.0".into(),
                    private_port: 80,
                    public_port: 8080,
                    kind: "tcp".into(),
                },
                Port {
                    private_port: 443,
                    kind: "tcp".into(),
                    ..Default::default()
                },
            ],
            ..Default::default()
        };
        let json = serde_json::to_value(&summary).unwrap();
        assert_eq!(json["Id"], "abc");
        assert_eq!(json["ImageID"], "sha256:1");
        assert_eq!(
            json["Ports"],
            json!([{"IP": "0.0.0.0", "PrivatePort": 80, "PublicPort": 8080, "Type": "tcp"},
                   {"PrivatePort": 443, "Type": "tcp"}])
        );
        assert_eq!(json["HostConfig"], json!({}));
        assert_eq!(json["NetworkSettings"], Value::Null);
        assert!(json.get("SizeRw").is_none());
        assert_eq!(json["Labels"], json!({}));
    }

    #[test]
    fn summary_from_docker() {
        let summary: ContainerSummary = serde_json::from_value(json!({
            "Id": "abc", "Names": ["/x"], "Image": "busybox", "ImageID": "sha256:1",
            "Command": "sh", "Created": 1700000000, "Ports": [], "Labels": null,
            "State": "running", "Status": "Up 1 second",
            "HostConfig": {"NetworkMode": "default"},
            "NetworkSettings": {"Networks": {}}, "Mounts": null, "SizeRw": 12
        }))
        .unwrap();
        assert_eq!(summary.size_rw, Some(12));
        assert_eq!(summary.host_config.network_mode, "default");
        assert!(summary.mounts.is_empty());
    }

    #[test]
    fn state_and_health() {
        let state = ContainerState {
            status: "running".into(),
            running: true,
            oom_killed: false,
            ..Default::default()
        };
        let json = serde_json::to_value(&state).unwrap();
        assert_eq!(json["OOMKilled"], false);
        assert!(json.get("Health").is_none());
        let with_health = ContainerState {
            health: Some(Health {
                status: "healthy".into(),
                ..Default::default()
            }),
            ..state
        };
        let json = serde_json::to_value(&with_health).unwrap();
        assert_eq!(
            json["Health"],
            json!({"Status": "healthy", "FailingStreak": 0, "Log": []})
        );
    }

    #[test]
    fn network_settings_names() {
        let json = serde_json::to_value(NetworkSettings::default()).unwrap();
        for name in [
            "SandboxID",
            "LinkLocalIPv6Address",
            "SecondaryIPAddresses",
            "EndpointID",
            "GlobalIPv6PrefixLen",
            "IPAddress",
            "IPPrefixLen",
            "IPv6Gateway",
            "MacAddress",
            "Ports",
            "Networks",
        ] {
            assert!(json.get(name).is_some(), "{name} missing");
        }
        let ports: NetworkSettings =
            serde_json::from_value(json!({"Ports": {"80/tcp": null}})).unwrap();
        assert_eq!(ports.ports.get("80/tcp"), Some(&None));
    }

    #[test]
    fn inspect_top_level_names() {
        let json = serde_json::to_value(ContainerInspectResponse::default()).unwrap();
        for name in [
            "Id",
            "Created",
            "Path",
            "Args",
            "State",
            "Image",
            "ResolvConfPath",
            "HostnamePath",
            "HostsPath",
            "LogPath",
            "Name",
            "RestartCount",
            "Driver",
            "Platform",
            "MountLabel",
            "ProcessLabel",
            "AppArmorProfile",
            "ExecIDs",
            "HostConfig",
            "GraphDriver",
            "Mounts",
            "Config",
            "NetworkSettings",
        ] {
            assert!(json.get(name).is_some(), "{name} missing");
        }
        assert_eq!(json["ExecIDs"], Value::Null);
        assert!(json.get("SizeRw").is_none());
    }

    #[test]
    fn wait_and_small_responses() {
        assert_eq!(
            serde_json::to_value(ContainerWaitResponse::default()).unwrap(),
            json!({"StatusCode": 0})
        );
        let wait: ContainerWaitResponse =
            serde_json::from_str(r#"{"StatusCode":137,"Error":{"Message":"x"}}"#).unwrap();
        assert_eq!(wait.error.unwrap().message, "x");
        assert_eq!(
            serde_json::to_value(ContainerCreateResponse {
                id: "a".into(),
                warnings: vec![]
            })
            .unwrap(),
            json!({"Id": "a", "Warnings": []})
        );
        let change = FilesystemChange {
            path: "/tmp".into(),
            kind: FilesystemChange::ADDED,
        };
        assert_eq!(
            serde_json::to_value(&change).unwrap(),
            json!({"Path": "/tmp", "Kind": 1})
        );
        assert_eq!(change.kind_letter(), 'A');
        let mount = MountPoint {
            source: "/a".into(),
            destination: "/b".into(),
            rw: true,
            ..Default::default()
        };
        assert_eq!(
            serde_json::to_value(&mount).unwrap(),
            json!({"Source": "/a", "Destination": "/b", "Mode": "", "RW": true, "Propagation": ""})
        );
    }
}
