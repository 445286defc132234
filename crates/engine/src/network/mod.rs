//! Containers' networking, done through the `net` crate: the default `bridge` network, made
//! (or found again) when the daemon starts; a container's address on it, given at create and
//! kept until it is removed; its veth pair and published ports, set up between the shim's
//! report and the start (the container's namespace exists, its process waits) and taken down
//! once the run is over; and, when a daemon starts again, the kernel's links and rules
//! reconciled with the records while the containers kept running.

mod ports;
mod view;

use std::collections::HashMap;
use std::net::Ipv4Addr;
use std::sync::Mutex;

use api::types::HostConfig;
use net::firewall::{NatTable, NftBinary};
use net::link::{Links, NetnsRef, Rtnetlink};
use net::ports::{EndpointLabel, PortReservation};
use net::records::{EndpointRecord, NetworkRecord, PublishedPort, host_veth_name};
use net::sysctl::ProcSys;
use net::{BridgeDriver, ipam};

use crate::Engine;
use crate::containers::Container;
use crate::db::Table;
use crate::error::{EngineError, Result};

pub use view::{network_settings, summary_ports};

/// The name of the default network, as Docker calls it.
pub const DEFAULT_NETWORK: &str = "bridge";

type Driver = BridgeDriver<Rtnetlink, NftBinary, ProcSys>;

/// The daemon's networking once it is set up.
pub(crate) struct Networking {
    driver: Driver,
    default: NetworkRecord,
    /// Addresses given out on the default network, by container id.
    addresses: Mutex<HashMap<String, Ipv4Addr>>,
    /// The bound sockets that keep each running container's published ports its own.
    reservations: Mutex<HashMap<String, PortReservation>>,
}

impl Networking {
    fn addresses(&self) -> std::sync::MutexGuard<'_, HashMap<String, Ipv4Addr>> {
        self.addresses.lock().unwrap_or_else(|p| p.into_inner())
    }

    fn reservations(&self) -> std::sync::MutexGuard<'_, HashMap<String, PortReservation>> {
        self.reservations.lock().unwrap_or_else(|p| p.into_inner())
    }

    pub fn default_network(&self) -> &NetworkRecord {
        &self.default
    }
}

/// Whether a container's network mode puts it on the default bridge.
pub fn on_default_bridge(host: &HostConfig) -> bool {
    matches!(host.network_mode.as_str(), "" | "default" | DEFAULT_NETWORK)
}

impl Engine {
    pub(crate) fn networking(&self) -> Option<&Networking> {
        self.networking.get()
    }

    /// The networks containers may be on, for inspect and list.
    pub(crate) fn known_networks(&self) -> Vec<&NetworkRecord> {
        self.networking()
            .map(|n| vec![n.default_network()])
            .unwrap_or_default()
    }

    /// Makes the default network ready: its record (made on the first start, kept after), its
    /// bridge with the gateway, and its rules. A daemon that cannot do this does not start.
    pub(crate) async fn init_networking(&self) -> Result<()> {
        let links = Rtnetlink::new()?;
        let table = NatTable::new(NftBinary::default(), self.config.nft_table());
        let driver = BridgeDriver::new(links, table, ProcSys);
        let mut default = match self.stored_default_network()? {
            Some(record) => record,
            None => self.new_default_network(&driver).await?,
        };
        if default.bridge != self.config.bridge {
            default.bridge = self.config.bridge.clone();
            self.db
                .put(Table::Networks, &default.id, &default.name, &default)?;
        }
        driver.create_network(&default).await.map_err(|e| {
            EngineError::Internal(format!(
                "Error initializing network controller: bridge {}: {e}",
                default.bridge
            ))
        })?;
        let networking = Networking {
            driver,
            default,
            addresses: Mutex::default(),
            reservations: Mutex::default(),
        };
        // Only this function sets it, once, before anything is served.
        let _ = self.networking.set(networking);
        Ok(())
    }

    fn stored_default_network(&self) -> Result<Option<NetworkRecord>> {
        let records: Vec<NetworkRecord> = self.db.load_all(Table::Networks)?;
        Ok(records.into_iter().find(|n| n.name == DEFAULT_NETWORK))
    }

    async fn new_default_network(&self, driver: &Driver) -> Result<NetworkRecord> {
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
        let record = NetworkRecord {
            name: DEFAULT_NETWORK.to_owned(),
            id: crate::containers::names::new_id()?,
            bridge: self.config.bridge.clone(),
            subnet,
            gateway,
            internal: false,
            dns: false,
            labels: Default::default(),
            options: Default::default(),
        };
        self.db
            .put(Table::Networks, &record.id, &record.name, &record)?;
        Ok(record)
    }

    /// At create: the container's endpoint on the default bridge, with an address of its
    /// own (given back by [`Engine::forget_endpoints`]). None for other network modes, and
    /// when the daemon has no networking (an engine opened without serving).
    pub(crate) fn plan_endpoints(
        &self,
        id: &str,
        name: &str,
        host: &HostConfig,
    ) -> Result<Vec<EndpointRecord>> {
        let Some(networking) = self.networking() else {
            return Ok(Vec::new());
        };
        if !on_default_bridge(host) {
            return Ok(Vec::new());
        }
        let network = &networking.default;
        let ip = {
            let mut addresses = networking.addresses();
            let used: Vec<Ipv4Addr> = addresses.values().copied().collect();
            let label = format!("{} ({})", network.name, &network.id[..12]);
            let ip = ipam::allocate_address(&network.subnet, network.gateway, &used, None, &label)?;
            addresses.insert(id.to_owned(), ip);
            ip
        };
        Ok(vec![EndpointRecord {
            network_id: network.id.clone(),
            container_id: id.to_owned(),
            container_name: name.to_owned(),
            aliases: Vec::new(),
            ip,
            mac: net::mac::MacAddr::from_ipv4(ip),
            host_veth: host_veth_name(id, &network.id),
            ifname: "eth0".to_owned(),
            ports: Vec::new(),
        }])
    }

    /// Gives back the addresses of a container that is removed (or never made).
    pub(crate) fn forget_endpoints(&self, id: &str) {
        if let Some(networking) = self.networking() {
            networking.addresses().remove(id);
        }
    }

    /// Before the shim is asked to create the container: its published ports, reserved on the
    /// host (a port someone has fails the start here, before anything else is made). What a
    /// run before this one left (when its tidy-up has not come yet) goes first.
    pub(crate) async fn reserve_ports(&self, container: &Container) -> Result<Vec<PublishedPort>> {
        let Some(networking) = self.networking() else {
            return Ok(Vec::new());
        };
        if container.endpoints.is_empty() {
            return Ok(Vec::new());
        }
        self.release_ports(container).await;
        let requests = ports::requests(&container.config, &container.host_config)?;
        if requests.is_empty() {
            return Ok(Vec::new());
        }
        let label = EndpointLabel {
            name: &container.name,
            id: &container.id,
        };
        let (published, reservation) = net::ports::publish(&requests, label)?;
        networking
            .reservations()
            .insert(container.id.clone(), reservation);
        Ok(published)
    }

    /// Between the shim's report and the start: the container's veth pair in the namespace
    /// of its waiting init, its address and route, and its port rules. On failure nothing is
    /// left of them (the ports' reservation included).
    /// With `--network none`, only the loopback, up.
    pub(crate) async fn connect_endpoints(
        &self,
        container: &Container,
        endpoints: &[EndpointRecord],
        pid: i32,
    ) -> Result<()> {
        let Some(networking) = self.networking() else {
            return Ok(());
        };
        let container_id = container.id.as_str();
        let netns = NetnsRef::Path(format!("/proc/{pid}/ns/net").into());
        if container.host_config.network_mode == "none" {
            networking.driver.links().loopback_up(netns).await?;
            return Ok(());
        }
        for endpoint in endpoints {
            if endpoint.network_id != networking.default.id {
                continue;
            }
            if let Err(e) = networking
                .driver
                .connect(&networking.default, endpoint, netns.clone(), true)
                .await
            {
                networking.reservations().remove(container_id);
                return Err(e.into());
            }
        }
        Ok(())
    }

    /// As soon as a run is over, before its exit is reported (so that whoever waited for a
    /// stop or a removal finds the ports free): the container's port rules, then the sockets
    /// that reserve its ports. A container without published ports costs nothing here.
    /// Best effort; errors go to the daemon's log.
    pub(crate) async fn release_ports(&self, container: &Container) {
        let Some(networking) = self.networking() else {
            return;
        };
        if !networking.reservations().contains_key(&container.id) {
            return;
        }
        for endpoint in &container.endpoints {
            if let Err(e) = networking.driver.unpublish(endpoint).await {
                eprintln!(
                    "pier daemon: removing the port rules of container {}: {e}",
                    container.id
                );
            }
        }
        // After the rules: the ports are free for others only once nothing leads to us.
        networking.reservations().remove(&container.id);
    }

    /// In the tidy-up after a run: its ports if still held, and its veth (gone already with
    /// its namespace, normally; deleting one makes the kernel wait ~23 ms).
    pub(crate) async fn release_endpoints(&self, container: &Container) {
        let Some(networking) = self.networking() else {
            return;
        };
        self.release_ports(container).await;
        for endpoint in &container.endpoints {
            if let Err(e) = networking
                .driver
                .links()
                .delete_link(&endpoint.host_veth)
                .await
            {
                eprintln!(
                    "pier daemon: deleting the veth of container {}: {e}",
                    container.id
                );
            }
        }
    }

    /// At daemon start, after the containers are loaded: addresses in use, ports of running
    /// containers reserved again, and links and rules made to match the records.
    pub(crate) async fn reconcile_networking(&self) {
        let Some(networking) = self.networking() else {
            return;
        };
        let mut running = Vec::new();
        for handle in self.containers.all() {
            let container = handle.snapshot();
            for endpoint in &container.endpoints {
                networking
                    .addresses()
                    .insert(container.id.clone(), endpoint.ip);
                if container.state.status.is_alive() {
                    let label = EndpointLabel {
                        name: &container.name,
                        id: &container.id,
                    };
                    let (reservation, errors) = net::ports::reserve(&endpoint.ports, label);
                    for e in errors {
                        eprintln!("pier daemon: container {}: {e}", container.id);
                    }
                    networking
                        .reservations()
                        .insert(container.id.clone(), reservation);
                    running.push(endpoint.clone());
                }
            }
        }
        let report = networking
            .driver
            .reconcile(std::slice::from_ref(&networking.default), &running)
            .await;
        for e in report.errors {
            eprintln!("pier daemon: reconciling networks: {e}");
        }
    }
}
