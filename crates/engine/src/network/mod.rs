//! Containers' networking, done through the `net` crate: the networks (the default `bridge`,
//! made or found again when the daemon starts, and those of `network create`), each a
//! bridge with its rules and, on user networks, an embedded DNS listener; a container's
//! addresses, given at create (or connect) and kept until it is removed or disconnected; its
//! veth pairs and published ports, set up between the shim's report and the start (the
//! container's namespace exists, its process waits) and taken down once the run is over;
//! and, when a daemon starts again, the kernel's links and rules reconciled with the records
//! while the containers kept running.

mod endpoints;
mod files;
mod manage;
mod pool;
mod ports;
mod view;

use std::collections::HashMap;
use std::net::Ipv4Addr;
use std::sync::{Mutex, MutexGuard, PoisonError, RwLock};

use api::types::HostConfig;
use net::dns::{DnsConfig, DnsServer};
use net::firewall::{NatTable, NftBinary};
use net::link::Rtnetlink;
use net::ports::PortReservation;
use net::records::NetworkRecord;
use net::sysctl::ProcSys;
use net::{BridgeDriver, ipam};
use serde::{Deserialize, Serialize};

use crate::Engine;
use crate::db::Table;
use crate::error::{EngineError, Result};

pub(crate) use endpoints::EndpointOwner;
pub use manage::NetworkListOptions;
pub(crate) use pool::{TakenNetns, release as release_netns};
pub use view::{network_settings, summary_ports};

/// The name of the default network, as Docker calls it.
pub const DEFAULT_NETWORK: &str = "bridge";

/// The networks every daemon has and nobody removes: Docker lists `host` and `none` beside
/// `bridge`, as networks of the drivers `host` and `null`.
const PSEUDO_NETWORKS: [(&str, &str); 2] = [("host", "host"), ("none", "null")];

type Driver = BridgeDriver<Rtnetlink, NftBinary, ProcSys>;

/// A network as the metadata store keeps it: the `net` crate's record and what only the
/// engine shows.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct StoredNetwork {
    #[serde(flatten)]
    pub record: NetworkRecord,
    /// RFC 3339; empty in records made before it was kept.
    #[serde(default)]
    pub created: String,
}

/// The daemon's networking once it is set up.
pub(crate) struct Networking {
    driver: Driver,
    dns: DnsServer,
    /// Also first in `networks`; never removed, its record never changes once running.
    default: NetworkRecord,
    networks: RwLock<Vec<StoredNetwork>>,
    /// Addresses given out, by network id, then container id.
    addresses: Mutex<HashMap<String, HashMap<String, Ipv4Addr>>>,
    /// The bound sockets that keep each running container's published ports its own.
    reservations: Mutex<HashMap<String, PortReservation>>,
    /// Network namespaces made ahead of need.
    pool: pool::NetnsPool,
}

fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(PoisonError::into_inner)
}

impl Networking {
    fn addresses(&self) -> MutexGuard<'_, HashMap<String, HashMap<String, Ipv4Addr>>> {
        lock(&self.addresses)
    }

    fn reservations(&self) -> MutexGuard<'_, HashMap<String, PortReservation>> {
        lock(&self.reservations)
    }

    /// Every network, the default first.
    pub fn networks(&self) -> Vec<StoredNetwork> {
        self.networks
            .read()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
    }

    pub fn network_by_id(&self, id: &str) -> Option<NetworkRecord> {
        self.networks
            .read()
            .unwrap_or_else(PoisonError::into_inner)
            .iter()
            .find(|n| n.record.id == id)
            .map(|n| n.record.clone())
    }

    pub fn default_network(&self) -> &NetworkRecord {
        &self.default
    }

    /// A network by id, name or unique id prefix, as Docker looks them up.
    pub fn find(&self, reference: &str) -> Result<StoredNetwork> {
        let networks = self.networks.read().unwrap_or_else(PoisonError::into_inner);
        find_network(&networks, reference, |n| (&n.record.id, &n.record.name)).cloned()
    }

    fn subnets(&self) -> Vec<ipnet::Ipv4Net> {
        self.networks
            .read()
            .unwrap_or_else(PoisonError::into_inner)
            .iter()
            .map(|n| n.record.subnet)
            .collect()
    }
}

/// A network by id, name or unique id prefix, in that order, as Docker looks them up, with
/// Docker's errors; `keys` gives an item's id and name.
pub(crate) fn find_network<'a, T>(
    items: &'a [T],
    reference: &str,
    keys: impl Fn(&T) -> (&str, &str),
) -> Result<&'a T> {
    if let Some(found) = items
        .iter()
        .find(|n| keys(n).0 == reference)
        .or_else(|| items.iter().find(|n| keys(n).1 == reference))
    {
        return Ok(found);
    }
    let matches: Vec<&T> = items
        .iter()
        .filter(|n| !reference.is_empty() && keys(n).0.starts_with(reference))
        .collect();
    match matches.as_slice() {
        [one] => Ok(one),
        [] => Err(EngineError::NotFound(format!(
            "network {reference} not found"
        ))),
        _ => Err(EngineError::InvalidArgument(format!(
            "network {reference} is ambiguous ({} matches found based on ID prefix)",
            matches.len()
        ))),
    }
}

/// Whether a container's network mode puts it on the default bridge.
pub fn on_default_bridge(host: &HostConfig) -> bool {
    matches!(host.network_mode.as_str(), "" | "default" | DEFAULT_NETWORK)
}

/// Whether a network mode names a network (the default bridge or a user network) rather
/// than `none`, `host` or another container's stack.
pub fn names_a_network(mode: &str) -> bool {
    !(matches!(mode, "none" | "host") || mode.starts_with("container:"))
}

/// The stable id of a pseudo network: derived from the default network's, so that it is the
/// same on every start of this daemon and differs between daemons.
fn pseudo_network_id(default_id: &str, name: &str) -> String {
    use sha2::{Digest, Sha256};
    let digest = Sha256::digest(format!("{default_id}/{name}").as_bytes());
    digest.iter().map(|b| format!("{b:02x}")).collect()
}

impl Engine {
    pub(crate) fn networking(&self) -> Option<&Networking> {
        self.networking.get()
    }

    /// The networks containers may be on, for inspect and list.
    pub(crate) fn known_networks(&self) -> Vec<NetworkRecord> {
        self.networking()
            .map(|n| n.networks().into_iter().map(|s| s.record).collect())
            .unwrap_or_default()
    }

    /// Makes every network ready: the default one's record (made on the first start, kept
    /// after), each bridge with its gateway and rules, and the DNS listeners of user
    /// networks. A daemon that cannot do this for the default network does not start;
    /// another network that fails is logged and left for its containers' starts to report.
    pub(crate) async fn init_networking(&self) -> Result<()> {
        let links = Rtnetlink::new()?;
        let table = NatTable::new(NftBinary::default(), self.config.nft_table());
        let driver = BridgeDriver::new(links, table, ProcSys);
        let stored: Vec<StoredNetwork> = self.db.load_all(Table::Networks)?;
        let mut default = match stored
            .iter()
            .find(|n| n.record.name == DEFAULT_NETWORK)
            .cloned()
        {
            Some(record) => record,
            None => self.new_default_network(&driver).await?,
        };
        if default.record.bridge != self.config.bridge {
            default.record.bridge = self.config.bridge.clone();
            self.store_network(&default)?;
        }
        driver.create_network(&default.record).await.map_err(|e| {
            EngineError::Internal(format!(
                "Error initializing network controller: bridge {}: {e}",
                default.record.bridge
            ))
        })?;
        let mut networks = vec![default.clone()];
        networks.extend(
            stored
                .into_iter()
                .filter(|n| n.record.name != DEFAULT_NETWORK),
        );
        let host_resolv = std::fs::read_to_string("/etc/resolv.conf").unwrap_or_default();
        let dns = DnsServer::new(DnsConfig {
            // The host's resolvers, loopback ones included: the daemon runs in the host's namespace.
            upstreams: net::dns::upstreams_from(&net::etc::nameservers(&host_resolv)),
            ..DnsConfig::default()
        });
        let networking = Networking {
            driver,
            dns,
            default: default.record.clone(),
            networks: RwLock::new(networks),
            addresses: Mutex::default(),
            reservations: Mutex::default(),
            pool: pool::NetnsPool::default(),
        };
        for network in networking.networks().iter().skip(1) {
            if let Err(e) = networking.bring_up(&network.record).await {
                eprintln!(
                    "pier daemon: network {} ({}): {e}",
                    network.record.name, network.record.bridge
                );
            }
        }
        // Only this function sets it, once, before anything is served.
        let _ = self.networking.set(networking);
        Ok(())
    }

    fn store_network(&self, network: &StoredNetwork) -> Result<()> {
        self.db.put(
            Table::Networks,
            &network.record.id,
            &network.record.name,
            network,
        )
    }

    async fn new_default_network(&self, driver: &Driver) -> Result<StoredNetwork> {
        let (subnet, gateway) = match &self.config.bip {
            Some(bip) => {
                let address: ipnet::Ipv4Net = bip.parse().map_err(|_| {
                    EngineError::InvalidArgument(format!("invalid --bip {bip}: not an IPv4 CIDR"))
                })?;
                (address.trunc(), address.addr())
            }
            None => {
                let routes = driver.host_routes().await?;
                let subnet = ipam::choose_subnet(&ipam::default_pools(), &routes, &[])?;
                (subnet, ipam::gateway_for(&subnet, None)?)
            }
        };
        let network = StoredNetwork {
            record: NetworkRecord {
                name: DEFAULT_NETWORK.to_owned(),
                id: crate::containers::names::new_id()?,
                bridge: self.config.bridge.clone(),
                subnet,
                gateway,
                internal: false,
                dns: false,
                labels: Default::default(),
                options: Default::default(),
            },
            created: crate::now_rfc3339(),
        };
        self.store_network(&network)?;
        Ok(network)
    }
}

impl Networking {
    /// A network's bridge, rules and (on user networks) DNS listener.
    async fn bring_up(&self, network: &NetworkRecord) -> Result<()> {
        self.driver.create_network(network).await?;
        if network.dns {
            self.dns.add_network(network)?;
        }
        Ok(())
    }
}

/// A host config with only its network mode set, for the network modules' tests.
#[cfg(test)]
pub(crate) fn host_in_mode(mode: &str) -> HostConfig {
    HostConfig {
        network_mode: mode.into(),
        ..Default::default()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn modes_that_name_networks() {
        for mode in ["", "default", "bridge", "app", "5e3c"] {
            assert!(names_a_network(mode), "{mode}");
        }
        for mode in ["none", "host", "container:web"] {
            assert!(!names_a_network(mode), "{mode}");
        }
    }

    #[test]
    fn pseudo_ids_are_stable_and_distinct() {
        let host = pseudo_network_id("d1", "host");
        assert_eq!(host.len(), 64);
        assert_eq!(host, pseudo_network_id("d1", "host"));
        assert_ne!(host, pseudo_network_id("d1", "none"));
        assert_ne!(host, pseudo_network_id("d2", "host"));
    }

    #[test]
    fn stored_network_reads_records_without_created() {
        let text = r#"{"name":"bridge","id":"abc","bridge":"pier0","subnet":"172.17.0.0/16","gateway":"172.17.0.1"}"#;
        let stored: StoredNetwork = serde_json::from_str(text).unwrap();
        assert_eq!(stored.record.name, "bridge");
        assert!(stored.created.is_empty());
        let again = serde_json::to_string(&stored).unwrap();
        assert!(again.contains("\"created\""), "{again}");
    }
}
