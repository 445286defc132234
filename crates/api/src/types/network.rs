//! `/networks/...` bodies: a network as inspect and list show it, the create, connect and
//! disconnect requests, and the answers of create and prune.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use super::config::EndpointSettings;
use super::system::{is_false, nullable};

/// A network, in `GET /networks` and `GET /networks/{id}`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase", default)]
pub struct Network {
    pub name: String,
    pub id: String,
    /// RFC 3339 with nanoseconds.
    pub created: String,
    /// `local`.
    pub scope: String,
    /// `bridge`, `host` or `null`.
    pub driver: String,
    #[serde(rename = "EnableIPv6")]
    pub enable_ipv6: bool,
    #[serde(rename = "IPAM")]
    pub ipam: Ipam,
    pub internal: bool,
    pub attachable: bool,
    pub ingress: bool,
    pub config_from: ConfigReference,
    pub config_only: bool,
    /// The network's endpoints by container id (in inspect; empty in list, as Docker's).
    #[serde(deserialize_with = "nullable")]
    pub containers: BTreeMap<String, NetworkContainer>,
    #[serde(deserialize_with = "nullable")]
    pub options: BTreeMap<String, String>,
    #[serde(deserialize_with = "nullable")]
    pub labels: BTreeMap<String, String>,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase", default)]
pub struct ConfigReference {
    pub network: String,
}

/// A network's address plan.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase", default)]
pub struct Ipam {
    /// `default`.
    #[serde(deserialize_with = "nullable")]
    pub driver: String,
    #[serde(deserialize_with = "nullable")]
    pub config: Vec<IpamConfig>,
    #[serde(deserialize_with = "nullable")]
    pub options: BTreeMap<String, String>,
}

impl Default for Ipam {
    fn default() -> Self {
        Ipam {
            driver: "default".to_owned(),
            config: Vec::new(),
            options: BTreeMap::new(),
        }
    }
}

/// One subnet of a network.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase", default)]
pub struct IpamConfig {
    #[serde(
        skip_serializing_if = "String::is_empty",
        deserialize_with = "nullable"
    )]
    pub subnet: String,
    #[serde(
        rename = "IPRange",
        skip_serializing_if = "String::is_empty",
        deserialize_with = "nullable"
    )]
    pub ip_range: String,
    #[serde(
        skip_serializing_if = "String::is_empty",
        deserialize_with = "nullable"
    )]
    pub gateway: String,
    #[serde(
        skip_serializing_if = "BTreeMap::is_empty",
        deserialize_with = "nullable"
    )]
    pub auxiliary_addresses: BTreeMap<String, String>,
}

/// A container's endpoint, as its network's inspect shows it.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase", default)]
pub struct NetworkContainer {
    pub name: String,
    #[serde(rename = "EndpointID")]
    pub endpoint_id: String,
    pub mac_address: String,
    /// `172.18.0.2/16`.
    #[serde(rename = "IPv4Address")]
    pub ipv4_address: String,
    #[serde(rename = "IPv6Address")]
    pub ipv6_address: String,
}

/// `POST /networks/create`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase", default)]
pub struct NetworkCreateRequest {
    #[serde(deserialize_with = "nullable")]
    pub name: String,
    /// Deprecated: always on (names are unique).
    #[serde(skip_serializing_if = "is_false", deserialize_with = "nullable")]
    pub check_duplicate: bool,
    #[serde(
        skip_serializing_if = "String::is_empty",
        deserialize_with = "nullable"
    )]
    pub driver: String,
    #[serde(
        skip_serializing_if = "String::is_empty",
        deserialize_with = "nullable"
    )]
    pub scope: String,
    #[serde(deserialize_with = "nullable")]
    pub internal: bool,
    #[serde(deserialize_with = "nullable")]
    pub attachable: bool,
    #[serde(deserialize_with = "nullable")]
    pub ingress: bool,
    #[serde(skip_serializing_if = "is_false", deserialize_with = "nullable")]
    pub config_only: bool,
    #[serde(rename = "IPAM", skip_serializing_if = "Option::is_none")]
    pub ipam: Option<Ipam>,
    #[serde(rename = "EnableIPv6", skip_serializing_if = "Option::is_none")]
    pub enable_ipv6: Option<bool>,
    #[serde(deserialize_with = "nullable")]
    pub options: BTreeMap<String, String>,
    #[serde(deserialize_with = "nullable")]
    pub labels: BTreeMap<String, String>,
}

/// The answer to `POST /networks/create`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase", default)]
pub struct NetworkCreateResponse {
    pub id: String,
    pub warning: String,
}

/// `POST /networks/{id}/connect`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase", default)]
pub struct NetworkConnectRequest {
    #[serde(deserialize_with = "nullable")]
    pub container: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub endpoint_config: Option<EndpointSettings>,
}

/// `POST /networks/{id}/disconnect`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase", default)]
pub struct NetworkDisconnectRequest {
    #[serde(deserialize_with = "nullable")]
    pub container: String,
    #[serde(deserialize_with = "nullable")]
    pub force: bool,
}

/// The answer to `POST /networks/prune`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase", default)]
pub struct NetworkPruneResponse {
    #[serde(deserialize_with = "nullable")]
    pub networks_deleted: Vec<String>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn docker_20_10_network_inspect_parses() {
        let text = r#"{"Name":"app","Id":"5e3c","Created":"2026-11-29T06:00:00.1Z","Scope":"local",
            "Driver":"bridge","EnableIPv6":false,"IPAM":{"Driver":"default","Options":{},
            "Config":[{"Subnet":"172.18.0.0/16","Gateway":"172.18.0.1"}]},"Internal":false,
            "Attachable":false,"Ingress":false,"ConfigFrom":{"Network":""},"ConfigOnly":false,
            "Containers":{"abc":{"Name":"web","EndpointID":"e1","MacAddress":"02:42:ac:12:00:02",
            "IPv4Address":"172.18.0.2/16","IPv6Address":""}},"Options":{},"Labels":null}"#;
        let network: Network = serde_json::from_str(text).unwrap();
        assert_eq!(network.ipam.config[0].subnet, "172.18.0.0/16");
        assert_eq!(network.containers["abc"].ipv4_address, "172.18.0.2/16");
        assert!(network.labels.is_empty());
    }

    #[test]
    fn create_request_from_the_cli() {
        let text = r#"{"Name":"app","CheckDuplicate":true,"Driver":"bridge","Internal":true,
            "IPAM":{"Driver":"default","Config":[{"Subnet":"10.5.0.0/24","Gateway":"10.5.0.254"}],
            "Options":null},"Options":null,"Labels":{"a":"b"}}"#;
        let request: NetworkCreateRequest = serde_json::from_str(text).unwrap();
        assert!(request.internal);
        let ipam = request.ipam.unwrap();
        assert_eq!(ipam.config[0].gateway, "10.5.0.254");
        assert!(ipam.options.is_empty());
        assert_eq!(request.labels["a"], "b");
    }

    #[test]
    fn docker_py_nulls_read_as_defaults() {
        let text = r#"{"Name":"pynet","Driver":"bridge","Options":null,"IPAM":{"Driver":"default",
            "Config":[{"Subnet":"10.233.0.0/24","IPRange":null,"Gateway":null,
            "AuxiliaryAddresses":null}],"Options":null},"CheckDuplicate":null,"Internal":null,
            "Labels":{"k":"v"},"EnableIPv6":null,"Attachable":null,"Ingress":null,"Scope":null}"#;
        let request: NetworkCreateRequest = serde_json::from_str(text).unwrap();
        assert!(!request.internal);
        assert_eq!(request.enable_ipv6, None);
        let config = &request.ipam.unwrap().config[0];
        assert_eq!(config.subnet, "10.233.0.0/24");
        assert!(config.gateway.is_empty());
    }
}
