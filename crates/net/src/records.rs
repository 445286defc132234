//! What the engine persists (in its metadata db) about networks and endpoints. The crate keeps
//! no state of its own on disk: every operation takes these records, so a daemon that starts
//! again can rebuild bridges, rules and DNS from them alone.

use std::collections::BTreeMap;
use std::fmt;
use std::net::Ipv4Addr;

use ipnet::Ipv4Net;
use serde::{Deserialize, Serialize};

use crate::mac::MacAddr;

/// One bridge network (`bridge`, or one made by `network create`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct NetworkRecord {
    pub name: String,
    pub id: String,
    /// The Linux bridge: `pier0` for the default network, `br-<id12>` for user networks.
    pub bridge: String,
    pub subnet: Ipv4Net,
    pub gateway: Ipv4Addr,
    /// `--internal`: no traffic leaves the bridge (no masquerade, forwarding dropped).
    #[serde(default)]
    pub internal: bool,
    /// Names resolve through the embedded DNS. True for user networks; Docker's default
    /// `bridge` network has no name resolution.
    #[serde(default)]
    pub dns: bool,
    #[serde(default)]
    pub labels: BTreeMap<String, String>,
    #[serde(default)]
    pub options: BTreeMap<String, String>,
}

impl NetworkRecord {
    /// The gateway with the subnet's prefix, as it sits on the bridge.
    pub fn gateway_with_prefix(&self) -> Ipv4Net {
        Ipv4Net::new(self.gateway, self.subnet.prefix_len()).unwrap_or(self.subnet)
    }
}

/// A container's attachment to one network.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct EndpointRecord {
    pub network_id: String,
    pub container_id: String,
    /// The container's name without Docker's leading slash; resolvable on user networks.
    pub container_name: String,
    /// `--network-alias` values (and whatever else the engine wants resolvable).
    #[serde(default)]
    pub aliases: Vec<String>,
    pub ip: Ipv4Addr,
    pub mac: MacAddr,
    /// The host end of the veth pair, attached to the network's bridge.
    pub host_veth: String,
    /// The interface name inside the container (`eth0`, `eth1`, ...).
    #[serde(default = "default_ifname")]
    pub ifname: String,
    /// Published ports, resolved to concrete host ports. Empty for a container that
    /// publishes nothing: such a container costs no firewall change.
    #[serde(default)]
    pub ports: Vec<PublishedPort>,
}

fn default_ifname() -> String {
    "eth0".to_string()
}

impl EndpointRecord {
    /// What names the per-endpoint firewall chain and the comment on its jump rule.
    /// Container ids are unique, and ports are published once per container.
    pub fn firewall_key(&self) -> &str {
        &self.container_id
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Proto {
    Tcp,
    Udp,
    Sctp,
}

impl Proto {
    pub fn as_str(self) -> &'static str {
        match self {
            Proto::Tcp => "tcp",
            Proto::Udp => "udp",
            Proto::Sctp => "sctp",
        }
    }
}

impl fmt::Display for Proto {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// One published port, resolved: traffic to `host_ip:host_port` (any local address when
/// `host_ip` is 0.0.0.0) goes to the container's `container_port`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub struct PublishedPort {
    pub host_ip: Ipv4Addr,
    pub host_port: u16,
    pub container_port: u16,
    pub proto: Proto,
}

/// Docker's bridge name for a user network: `br-` and the id's first 12 characters.
pub fn bridge_name_for(network_id: &str) -> String {
    let short: String = network_id.chars().take(12).collect();
    format!("br-{short}")
}

/// The host end's name for a container on a network: `veth` and 7 hex characters, a hash of
/// both ids, so that setting the same endpoint up twice finds the first attempt's link.
pub fn host_veth_name(container_id: &str, network_id: &str) -> String {
    // FNV-1a: small, stable across releases (std's hasher is not).
    let mut hash: u64 = 0xcbf2_9ce4_8422_2325;
    for byte in container_id
        .bytes()
        .chain(std::iter::once(0))
        .chain(network_id.bytes())
    {
        hash ^= u64::from(byte);
        hash = hash.wrapping_mul(0x0100_0000_01b3);
    }
    format!("veth{:07x}", hash & 0x0fff_ffff)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names() {
        assert_eq!(bridge_name_for("0123456789abcdef0123"), "br-0123456789ab");
        let veth = host_veth_name("c1", "n1");
        assert_eq!(veth.len(), 11, "{veth}: IFNAMSIZ leaves 15");
        assert!(veth.starts_with("veth"));
        assert_eq!(veth, host_veth_name("c1", "n1"));
        assert_ne!(veth, host_veth_name("c1", "n2"));
        assert_ne!(host_veth_name("c1n", "1"), host_veth_name("c1", "n1"));
    }

    #[test]
    fn endpoint_round_trips_through_json() {
        let endpoint = EndpointRecord {
            network_id: "n".into(),
            container_id: "c".into(),
            container_name: "web".into(),
            aliases: vec!["www".into()],
            ip: Ipv4Addr::new(172, 17, 0, 2),
            mac: MacAddr::from_ipv4(Ipv4Addr::new(172, 17, 0, 2)),
            host_veth: "veth1234567".into(),
            ifname: "eth0".into(),
            ports: vec![PublishedPort {
                host_ip: Ipv4Addr::UNSPECIFIED,
                host_port: 8080,
                container_port: 80,
                proto: Proto::Tcp,
            }],
        };
        let json = serde_json::to_string(&endpoint).unwrap();
        assert!(json.contains("\"proto\":\"tcp\""), "{json}");
        assert_eq!(
            serde_json::from_str::<EndpointRecord>(&json).unwrap(),
            endpoint
        );
    }
}
