//! A container's endpoints through its life: planned (addresses given) at create or connect,
//! made real between the shim's report and the start, released when the run is over,
//! forgotten with the container, and found again when the daemon starts.

use std::collections::{BTreeMap, HashSet};
use std::net::Ipv4Addr;

use api::types::{EndpointSettings, HostConfig, NetworkingConfig};
use net::ipam;
use net::link::{Links, NetnsRef};
use net::mac::MacAddr;
use net::ports::EndpointLabel;
use net::records::{EndpointRecord, NetworkRecord, PublishedPort, host_veth_name};

use crate::Engine;
use crate::containers::Container;
use crate::error::{EngineError, Result};

use super::{DEFAULT_NETWORK, Networking, names_a_network, on_default_bridge, ports};

/// Who the endpoint is for.
pub(crate) struct EndpointOwner<'a> {
    pub id: &'a str,
    pub name: &'a str,
}

impl Networking {
    /// A new endpoint on `network`, with its address taken (given back by
    /// [`Networking::forget_address`]). `index` numbers the interface inside (`eth<index>`).
    pub(crate) fn plan_endpoint(
        &self,
        owner: &EndpointOwner,
        network: &NetworkRecord,
        settings: &EndpointSettings,
        index: usize,
    ) -> Result<EndpointRecord> {
        let user_network = network.id != self.default.id;
        let aliases = settings.aliases.clone().unwrap_or_default();
        let requested_ip = settings
            .ipam_config
            .as_ref()
            .map(|c| c.ipv4_address.as_str())
            .filter(|ip| !ip.is_empty());
        if !user_network && !aliases.is_empty() {
            return Err(EngineError::InvalidArgument(
                "network-scoped alias is supported only for containers in user defined networks"
                    .into(),
            ));
        }
        if !user_network && requested_ip.is_some() {
            return Err(EngineError::InvalidArgument(
                "user specified IP address is supported on user defined networks only".into(),
            ));
        }
        let requested_ip = requested_ip
            .map(|text| {
                text.parse::<Ipv4Addr>().map_err(|_| {
                    EngineError::InvalidArgument(format!("invalid IPv4 address: {text}"))
                })
            })
            .transpose()?;
        let mac = match settings.mac_address.as_str() {
            "" => None,
            text => Some(text.parse::<MacAddr>().map_err(|_| {
                EngineError::InvalidArgument(format!("invalid MAC address: {text}"))
            })?),
        };
        let ip = {
            let mut addresses = self.addresses();
            let on_network = addresses.entry(network.id.clone()).or_default();
            let used: Vec<Ipv4Addr> = on_network.values().copied().collect();
            let label = format!("{} ({})", network.name, &network.id[..12]);
            let ip = ipam::allocate_address(
                &network.subnet,
                network.gateway,
                &used,
                requested_ip,
                &label,
            )?;
            on_network.insert(owner.id.to_owned(), ip);
            ip
        };
        Ok(EndpointRecord {
            network_id: network.id.clone(),
            container_id: owner.id.to_owned(),
            container_name: owner.name.to_owned(),
            aliases,
            ip,
            mac: mac.unwrap_or_else(|| MacAddr::from_ipv4(ip)),
            host_veth: host_veth_name(owner.id, &network.id),
            ifname: format!("eth{index}"),
            ports: Vec::new(),
        })
    }

    pub(crate) fn forget_address(&self, network_id: &str, container_id: &str) {
        if let Some(on_network) = self.addresses().get_mut(network_id) {
            on_network.remove(container_id);
        }
    }

    /// The names a container answers to on a network with DNS: its name, its aliases and
    /// its short id, as Docker's `DNSNames`.
    pub(crate) fn publish_names(&self, endpoint: &EndpointRecord) {
        let mut named = endpoint.clone();
        named
            .aliases
            .push(endpoint.container_id.chars().take(12).collect());
        self.dns.set_endpoint(&named);
    }

    /// The endpoint's veth into the container's namespace (unless `made` with the namespace),
    /// its name in DNS and its ports; on failure nothing of it is left.
    async fn attach(
        &self,
        endpoint: &EndpointRecord,
        netns: NetnsRef,
        default_route: bool,
        made: bool,
    ) -> Result<()> {
        let network = self.network_by_id(&endpoint.network_id).ok_or_else(|| {
            EngineError::NotFound(format!("network {} not found", endpoint.network_id))
        })?;
        if made {
            self.driver.publish(endpoint).await?;
        } else {
            // An internal network leads nowhere: no default route through it, as in Docker.
            let default_route = default_route && !network.internal;
            self.driver
                .connect(&network, endpoint, netns, default_route)
                .await?;
        }
        if network.dns {
            self.publish_names(endpoint);
        }
        Ok(())
    }

    /// Port rules of an endpoint, its names in DNS, and its veth unless `keep_link` (one made
    /// with a namespace the container keeps). Every step tried, errors to the daemon's log.
    async fn detach(&self, endpoint: &EndpointRecord, keep_link: bool) {
        self.dns
            .remove_endpoint(&endpoint.network_id, &endpoint.container_id);
        let done = if keep_link {
            self.driver.unpublish(endpoint).await
        } else {
            self.driver.disconnect(endpoint).await
        };
        if let Err(e) = done {
            eprintln!(
                "pier daemon: disconnecting container {} from network {}: {e}",
                endpoint.container_id, endpoint.network_id
            );
        }
    }

    /// Connects one endpoint of a running container (`network connect`).
    pub(crate) async fn attach_running(&self, endpoint: &EndpointRecord, pid: i32) -> Result<()> {
        let netns = NetnsRef::Path(format!("/proc/{pid}/ns/net").into());
        self.attach(endpoint, netns, false, false).await
    }

    /// Takes an endpoint away from a container (`network disconnect`), veth included.
    pub(crate) async fn detach_for_good(&self, endpoint: &EndpointRecord) {
        self.detach(endpoint, false).await;
    }
}

/// Whether the endpoint's veth came with the namespace the container keeps (and stays with
/// it between runs).
pub(crate) fn made_with_netns(container: &Container, endpoint: &EndpointRecord) -> bool {
    container
        .netns
        .as_ref()
        .and_then(|n| n.veth.as_deref())
        .is_some_and(|veth| veth == endpoint.host_veth)
}

/// The networks a container joins at create, primary first (the one of its network mode,
/// whose gateway is its default route), then the others of `EndpointsConfig` by name; each
/// with what was asked for it.
fn requested_networks(
    host: &HostConfig,
    networking: Option<&NetworkingConfig>,
) -> Vec<(String, EndpointSettings)> {
    let mut requested: BTreeMap<String, EndpointSettings> = networking
        .and_then(|n| n.endpoints_config.clone())
        .unwrap_or_default();
    let mode = host.network_mode.as_str();
    let (primary, settings) = if on_default_bridge(host) {
        let settings = ["", "default", DEFAULT_NETWORK]
            .iter()
            .find_map(|key| requested.remove(*key))
            .unwrap_or_default();
        (DEFAULT_NETWORK.to_owned(), settings)
    } else {
        (mode.to_owned(), requested.remove(mode).unwrap_or_default())
    };
    let mut all = vec![(primary, settings)];
    all.extend(requested);
    all
}

impl Engine {
    /// At create: the container's endpoints on the networks it asked for, with addresses
    /// of their own (given back by [`Engine::forget_endpoints`]). None for `none`, `host`
    /// and `container:` modes, and when the daemon has no networking (an engine opened
    /// without serving).
    pub(crate) fn plan_endpoints(
        &self,
        owner: &EndpointOwner,
        host: &HostConfig,
        networking_config: Option<&NetworkingConfig>,
        config_mac: &str,
    ) -> Result<Vec<EndpointRecord>> {
        let Some(networking) = self.networking() else {
            return Ok(Vec::new());
        };
        let mode = host.network_mode.as_str();
        if !names_a_network(mode) {
            return Ok(Vec::new());
        }
        let mut endpoints: Vec<EndpointRecord> = Vec::new();
        let mut seen = HashSet::new();
        for (reference, mut settings) in requested_networks(host, networking_config) {
            let network = match networking.find(&reference) {
                Ok(n) => n.record,
                Err(e) => {
                    self.forget_endpoints(owner.id);
                    return Err(e);
                }
            };
            if !seen.insert(network.id.clone()) {
                continue;
            }
            // API clients before 1.44 put the MAC address in Config.
            if endpoints.is_empty() && settings.mac_address.is_empty() {
                settings.mac_address = config_mac.to_owned();
            }
            match networking.plan_endpoint(owner, &network, &settings, endpoints.len()) {
                Ok(endpoint) => endpoints.push(endpoint),
                Err(e) => {
                    self.forget_endpoints(owner.id);
                    return Err(e);
                }
            }
        }
        Ok(endpoints)
    }

    /// Gives back the addresses of a container that is removed (or never made).
    pub(crate) fn forget_endpoints(&self, id: &str) {
        if let Some(networking) = self.networking() {
            for on_network in networking.addresses().values_mut() {
                on_network.remove(id);
            }
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

    /// Between the shim's report and the start: the container's veth pairs in the namespace
    /// of its waiting init, their addresses and the default route (through the first), its
    /// names in the networks' DNS and its port rules. On failure nothing is left of them
    /// (the ports' reservation included). With `--network none`, only the loopback, up.
    pub(crate) async fn connect_endpoints(
        &self,
        container: &Container,
        endpoints: &[EndpointRecord],
        pid: i32,
    ) -> Result<()> {
        let Some(networking) = self.networking() else {
            return Ok(());
        };
        let netns = NetnsRef::Path(format!("/proc/{pid}/ns/net").into());
        if container.host_config.network_mode == "none" {
            // A namespace made ahead has its loopback up already.
            if container.netns.is_none() {
                networking.driver.links().loopback_up(netns).await?;
            }
            return Ok(());
        }
        for (index, endpoint) in endpoints.iter().enumerate() {
            let made = made_with_netns(container, endpoint);
            if let Err(e) = networking
                .attach(endpoint, netns.clone(), index == 0, made)
                .await
            {
                for earlier in &endpoints[..index] {
                    networking
                        .detach(earlier, made_with_netns(container, earlier))
                        .await;
                }
                networking.reservations().remove(&container.id);
                return Err(e);
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

    /// In the tidy-up after a run: its ports if still held, its names in DNS, and its veths
    /// (gone already with its namespace, normally; deleting one makes the kernel wait ~23 ms).
    pub(crate) async fn release_endpoints(&self, container: &Container) {
        let Some(networking) = self.networking() else {
            return;
        };
        self.release_ports(container).await;
        for endpoint in &container.endpoints {
            networking
                .detach(endpoint, made_with_netns(container, endpoint))
                .await;
        }
    }

    /// At daemon start, after the containers are loaded: addresses in use, ports of running
    /// containers reserved again, names in DNS, and links and rules made to match the records.
    pub(crate) async fn reconcile_networking(&self) {
        let Some(networking) = self.networking() else {
            return;
        };
        let mut running = Vec::new();
        for handle in self.containers.all() {
            let container = handle.snapshot();
            let alive = container.state.status.is_alive();
            if alive && !container.endpoints.is_empty() {
                let label = EndpointLabel {
                    name: &container.name,
                    id: &container.id,
                };
                let ports: Vec<PublishedPort> = container
                    .endpoints
                    .iter()
                    .flat_map(|e| e.ports.iter().copied())
                    .collect();
                let (reservation, errors) = net::ports::reserve(&ports, label);
                for e in errors {
                    eprintln!("pier daemon: container {}: {e}", container.id);
                }
                networking
                    .reservations()
                    .insert(container.id.clone(), reservation);
            }
            for endpoint in &container.endpoints {
                networking
                    .addresses()
                    .entry(endpoint.network_id.clone())
                    .or_default()
                    .insert(container.id.clone(), endpoint.ip);
                if !alive && made_with_netns(&container, endpoint) {
                    // Its veth lives on with its namespace between runs; no ports meanwhile.
                    running.push(EndpointRecord {
                        ports: Vec::new(),
                        ..endpoint.clone()
                    });
                }
                if alive {
                    if networking
                        .network_by_id(&endpoint.network_id)
                        .is_some_and(|n| n.dns)
                    {
                        networking.publish_names(endpoint);
                    }
                    running.push(endpoint.clone());
                }
            }
        }
        let networks: Vec<NetworkRecord> = networking
            .networks()
            .into_iter()
            .map(|n| n.record)
            .collect();
        let report = networking.driver.reconcile(&networks, &running).await;
        for e in report.errors {
            eprintln!("pier daemon: reconciling networks: {e}");
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    use crate::network::host_in_mode as host;

    fn config(keys: &[&str]) -> NetworkingConfig {
        NetworkingConfig {
            endpoints_config: Some(
                keys.iter()
                    .map(|k| {
                        let settings = EndpointSettings {
                            aliases: Some(vec![format!("alias-of-{k}")]),
                            ..Default::default()
                        };
                        (k.to_string(), settings)
                    })
                    .collect(),
            ),
        }
    }

    #[test]
    fn the_primary_network_comes_first() {
        let plan = requested_networks(&host("default"), None);
        assert_eq!(plan.len(), 1);
        assert_eq!(plan[0].0, "bridge");
        let plan = requested_networks(&host("zeta"), Some(&config(&["alpha", "zeta"])));
        let names: Vec<&str> = plan.iter().map(|(n, _)| n.as_str()).collect();
        assert_eq!(names, ["zeta", "alpha"]);
        assert_eq!(
            plan[0].1.aliases.as_deref(),
            Some(&["alias-of-zeta".to_owned()][..])
        );
    }

    #[test]
    fn default_mode_takes_the_settings_the_cli_sends_as_default() {
        let plan = requested_networks(&host("default"), Some(&config(&["default"])));
        assert_eq!(plan.len(), 1);
        assert_eq!(plan[0].0, "bridge");
        assert!(plan[0].1.aliases.is_some());
    }
}
