//! The bridge driver: what the engine calls to make networks and endpoints real, in the
//! right order, over the kernel-facing traits. Setup is idempotent; teardown tries every step
//! and reports every failure.

use std::collections::HashSet;
use std::sync::Arc;

use ipnet::Ipv4Net;

use crate::error::{NetError, Result};
use crate::firewall::{Firewall, NatTable};
use crate::link::{Links, NetnsRef, VethRequest};
use crate::records::{EndpointRecord, NetworkRecord};
use crate::sysctl::{self, Sysctls};

pub struct BridgeDriver<L, F, S> {
    links: L,
    table: Arc<NatTable<F>>,
    sysctls: S,
}

/// What [`BridgeDriver::reconcile`] did.
#[derive(Debug, Default)]
pub struct ReconcileReport {
    /// Host ends of veths on pier's bridges that no endpoint owned, deleted.
    pub deleted_veths: Vec<String>,
    /// Steps that failed (the others were still done).
    pub errors: Vec<NetError>,
}

impl<L: Links, F: Firewall, S: Sysctls> BridgeDriver<L, F, S> {
    pub fn new(links: L, table: NatTable<F>, sysctls: S) -> Self {
        BridgeDriver {
            links,
            table: Arc::new(table),
            sysctls,
        }
    }

    pub fn links(&self) -> &L {
        &self.links
    }

    pub fn table(&self) -> &NatTable<F> {
        &self.table
    }

    /// The destinations routed on the host, for [`crate::ipam::choose_subnet`].
    pub async fn host_routes(&self) -> Result<Vec<Ipv4Net>> {
        self.links.routes().await
    }

    /// The bridge with its gateway, up; `route_localnet` on it (published ports on
    /// 127.0.0.1); IPv4 forwarding for networks that reach out; the network's firewall rules.
    pub async fn create_network(&self, network: &NetworkRecord) -> Result<()> {
        self.links
            .ensure_bridge(&network.bridge, network.gateway_with_prefix())
            .await?;
        self.sysctls
            .set(&sysctl::route_localnet(&network.bridge), "1")?;
        if !network.internal {
            self.sysctls.set(sysctl::IP_FORWARD, "1")?;
        }
        let table = self.table.clone();
        let network = network.clone();
        blocking(move || table.ensure_network(&network)).await
    }

    /// Removes the network's rules and its bridge (every step tried). The engine refuses to
    /// remove a network that still has endpoints; a bridge deleted with ports detaches them.
    pub async fn remove_network(&self, network: &NetworkRecord) -> Result<()> {
        let mut errors = Vec::new();
        let table = self.table.clone();
        let record = network.clone();
        if let Err(err) = blocking(move || table.remove_network(&record)).await {
            errors.push(err);
        }
        if let Err(err) = self.links.delete_link(&network.bridge).await {
            errors.push(err);
        }
        NetError::collect(errors)
    }

    /// Attaches a container: its veth pair (inside: `endpoint.ifname`, MAC, address, default
    /// route when `default_route`), then its published ports. On failure nothing is left.
    pub async fn connect(
        &self,
        network: &NetworkRecord,
        endpoint: &EndpointRecord,
        netns: NetnsRef,
        default_route: bool,
    ) -> Result<()> {
        let address = Ipv4Net::new(endpoint.ip, network.subnet.prefix_len()).map_err(|_| {
            NetError::InvalidArgument(format!(
                "invalid address {} for {}",
                endpoint.ip, network.subnet
            ))
        })?;
        let request = VethRequest {
            bridge: network.bridge.clone(),
            host_name: endpoint.host_veth.clone(),
            netns,
            ifname: endpoint.ifname.clone(),
            mac: endpoint.mac,
            address,
            gateway: default_route.then_some(network.gateway),
        };
        self.links.add_veth(&request).await?;
        if let Err(err) = self.publish(endpoint).await {
            let _ = self.links.delete_link(&endpoint.host_veth).await;
            return Err(err);
        }
        Ok(())
    }

    /// The endpoint's port rules (no `nft` run without ports).
    pub async fn publish(&self, endpoint: &EndpointRecord) -> Result<()> {
        if endpoint.ports.is_empty() {
            return Ok(());
        }
        let table = self.table.clone();
        let endpoint = endpoint.clone();
        blocking(move || table.add_ports(&endpoint)).await
    }

    /// Removes the endpoint's port rules (none to remove without ports: no `nft` run).
    pub async fn unpublish(&self, endpoint: &EndpointRecord) -> Result<()> {
        if endpoint.ports.is_empty() {
            return Ok(());
        }
        let table = self.table.clone();
        let key = endpoint.firewall_key().to_string();
        blocking(move || table.remove_ports(&key)).await
    }

    /// Detaches a container: port rules, then the veth (every step tried). The veth's
    /// deletion waits on the kernel (~23 ms): call this after the container's exit has been
    /// reported, never on the path a user waits for. A veth whose container namespace died
    /// is already gone; that is fine.
    pub async fn disconnect(&self, endpoint: &EndpointRecord) -> Result<()> {
        let mut errors = Vec::new();
        if let Err(err) = self.unpublish(endpoint).await {
            errors.push(err);
        }
        if let Err(err) = self.links.delete_link(&endpoint.host_veth).await {
            errors.push(err);
        }
        NetError::collect(errors)
    }

    /// At daemon start: bridges made again where missing, the firewall table rebuilt from the
    /// records in one transaction, and veths on pier's bridges that no endpoint owns deleted.
    /// Bridges that no record names are left alone: they may be another daemon's.
    pub async fn reconcile(
        &self,
        networks: &[NetworkRecord],
        endpoints: &[EndpointRecord],
    ) -> ReconcileReport {
        let mut report = ReconcileReport::default();
        for network in networks {
            let made = async {
                self.links
                    .ensure_bridge(&network.bridge, network.gateway_with_prefix())
                    .await?;
                self.sysctls
                    .set(&sysctl::route_localnet(&network.bridge), "1")?;
                if !network.internal {
                    self.sysctls.set(sysctl::IP_FORWARD, "1")?;
                }
                Ok::<(), NetError>(())
            };
            if let Err(err) = made.await {
                report.errors.push(err);
            }
        }
        let table = self.table.clone();
        let (all_networks, all_endpoints) = (networks.to_vec(), endpoints.to_vec());
        if let Err(err) = blocking(move || table.rebuild(&all_networks, &all_endpoints)).await {
            report.errors.push(err);
        }
        match self.links.list_links().await {
            Err(err) => report.errors.push(err),
            Ok(links) => {
                let bridges: HashSet<&str> = networks.iter().map(|n| n.bridge.as_str()).collect();
                let bridge_indexes: HashSet<u32> = links
                    .iter()
                    .filter(|l| bridges.contains(l.name.as_str()))
                    .map(|l| l.index)
                    .collect();
                let owned: HashSet<&str> = endpoints.iter().map(|e| e.host_veth.as_str()).collect();
                for link in &links {
                    let on_ours = link.controller.is_some_and(|c| bridge_indexes.contains(&c));
                    let is_veth = link.kind.as_deref() == Some("veth");
                    if on_ours && is_veth && !owned.contains(link.name.as_str()) {
                        match self.links.delete_link(&link.name).await {
                            Ok(()) => report.deleted_veths.push(link.name.clone()),
                            Err(err) => report.errors.push(err),
                        }
                    }
                }
            }
        }
        report
    }
}

/// Runs blocking firewall work (an `nft` child) off the async threads.
async fn blocking<T: Send + 'static>(
    work: impl FnOnce() -> Result<T> + Send + 'static,
) -> Result<T> {
    tokio::task::spawn_blocking(work)
        .await
        .map_err(|err| NetError::Firewall(format!("firewall task failed: {err}")))?
}
