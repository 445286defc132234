//! `/networks/...` as the engine does them: create, inspect, list (with Docker's filters),
//! remove, prune, and connecting and disconnecting containers.

use std::collections::BTreeMap;
use std::sync::{Arc, PoisonError};

use api::filters::Filters;
use api::types::{
    EndpointSettings, Ipam, IpamConfig, Network, NetworkContainer, NetworkCreateRequest,
    NetworkCreateResponse, NetworkPruneResponse,
};
use net::ipam;
use net::records::{EndpointRecord, NetworkRecord, bridge_name_for};

use crate::Engine;
use crate::containers::{Container, Handle};
use crate::error::{EngineError, Result};
use crate::events::{Event, now_nanos};
use crate::images::timestamp::parse_timestamp;

use super::endpoints::EndpointOwner;
use super::{
    Networking, PSEUDO_NETWORKS, StoredNetwork, find_network, names_a_network, pseudo_network_id,
};

const LIST_FILTERS: &[&str] = &["dangling", "driver", "id", "label", "name", "scope", "type"];
const PRUNE_FILTERS: &[&str] = &["until", "label", "label!"];
/// Docker's option naming a user network's Linux bridge.
const BRIDGE_NAME_OPTION: &str = "com.docker.network.bridge.name";
/// Linux's IFNAMSIZ less the terminating zero.
const MAX_IFNAME: usize = 15;

pub struct NetworkListOptions {
    pub filters: Filters,
}

fn invalid(message: impl Into<String>) -> EngineError {
    EngineError::InvalidArgument(message.into())
}

impl Engine {
    fn networks_ready(&self) -> Result<&Networking> {
        self.networking().ok_or_else(|| {
            EngineError::Unavailable("this daemon was started without networking".into())
        })
    }

    /// `network create`: a bridge network with its own subnet (asked for, or the first free
    /// one of Docker's pools), up and with its rules and DNS before the answer.
    pub async fn create_network(
        &self,
        request: NetworkCreateRequest,
    ) -> Result<NetworkCreateResponse> {
        let networking = self.networks_ready()?;
        let name = request.name.clone();
        if name.is_empty() {
            return Err(invalid("network name cannot be empty"));
        }
        let taken = networking.find(&name).is_ok_and(|n| n.record.name == name)
            || PSEUDO_NETWORKS.iter().any(|(pseudo, _)| *pseudo == name);
        if taken {
            return Err(EngineError::Conflict(format!(
                "network with name {name} already exists"
            )));
        }
        match request.driver.as_str() {
            "" | "bridge" => {}
            other => {
                return Err(EngineError::NotFound(format!(
                    "plugin \"{other}\" not found"
                )));
            }
        }
        if request.enable_ipv6 == Some(true) {
            return Err(invalid(
                "pier has no IPv6 networking yet: IPv6 cannot be enabled on a network",
            ));
        }
        if request.config_only || request.ingress {
            return Err(invalid(
                "config-only, config-from and ingress networks belong to swarm mode, which pier does not have",
            ));
        }
        let (subnet, gateway) = self.plan_subnet(networking, request.ipam.as_ref()).await?;
        let id = crate::containers::names::new_id()?;
        let bridge = match request.options.get(BRIDGE_NAME_OPTION) {
            Some(bridge) => {
                if bridge.is_empty() || bridge.len() > MAX_IFNAME || bridge.contains(['/', ' ']) {
                    return Err(invalid(format!("invalid bridge name {bridge:?}")));
                }
                if networking
                    .networks()
                    .iter()
                    .any(|n| n.record.bridge == *bridge)
                {
                    return Err(EngineError::Conflict(format!(
                        "bridge name {bridge} is already used by another network"
                    )));
                }
                bridge.clone()
            }
            None => bridge_name_for(&id),
        };
        let network = StoredNetwork {
            record: NetworkRecord {
                name: name.clone(),
                id: id.clone(),
                bridge,
                subnet,
                gateway,
                internal: request.internal,
                dns: true,
                labels: request.labels.clone(),
                options: request.options.clone(),
            },
            created: crate::now_rfc3339(),
        };
        if let Err(e) = networking.bring_up(&network.record).await {
            networking.take_down(&network.record).await;
            return Err(e);
        }
        if let Err(e) = self.store_network(&network) {
            networking.take_down(&network.record).await;
            return Err(e);
        }
        networking
            .networks
            .write()
            .unwrap_or_else(PoisonError::into_inner)
            .push(network);
        self.events.publish(
            Event::new("network", "create", &id)
                .attribute("name", name)
                .attribute("type", "bridge"),
        );
        Ok(NetworkCreateResponse {
            id,
            warning: String::new(),
        })
    }

    async fn plan_subnet(
        &self,
        networking: &Networking,
        ipam_request: Option<&Ipam>,
    ) -> Result<(ipnet::Ipv4Net, std::net::Ipv4Addr)> {
        let taken = networking.subnets();
        let configs = ipam_request
            .map(|i| i.config.as_slice())
            .unwrap_or_default();
        if let Some(driver) = ipam_request.map(|i| i.driver.as_str())
            && !matches!(driver, "" | "default")
        {
            return Err(EngineError::NotFound(format!(
                "plugin \"{driver}\" not found"
            )));
        }
        match configs {
            [] => {
                let routes = networking.driver.host_routes().await?;
                let subnet = ipam::choose_subnet(&ipam::default_pools(), &routes, &taken)?;
                Ok((subnet, ipam::gateway_for(&subnet, None)?))
            }
            [config] => {
                if !config.ip_range.is_empty() {
                    return Err(invalid("pier does not support --ip-range yet"));
                }
                if !config.auxiliary_addresses.is_empty() {
                    return Err(invalid("pier does not support --aux-address yet"));
                }
                if config.subnet.is_empty() {
                    return Err(invalid(
                        "every ip-range or gateway must have a corresponding subnet",
                    ));
                }
                let subnet = ipam::parse_subnet(&config.subnet)?;
                ipam::check_subnet_free(&subnet, &taken)?;
                let gateway = ipam::gateway_for(
                    &subnet,
                    Some(config.gateway.as_str()).filter(|g| !g.is_empty()),
                )?;
                Ok((subnet, gateway))
            }
            _ => Err(invalid(
                "pier networks have one IPv4 subnet each: several were given",
            )),
        }
    }

    /// Containers whose run holds an endpoint on the network (Docker's "active endpoints").
    fn network_users(&self, network_id: &str) -> Vec<Container> {
        self.containers
            .all()
            .into_iter()
            .map(|h| h.snapshot())
            .filter(|c| {
                c.state.status.is_alive() && c.endpoints.iter().any(|e| e.network_id == network_id)
            })
            .collect()
    }

    fn network_view(
        &self,
        networking: &Networking,
        stored: &StoredNetwork,
        with_containers: bool,
    ) -> Network {
        let record = &stored.record;
        let mut options = record.options.clone();
        if record.id == networking.default.id {
            for (key, value) in [
                ("com.docker.network.bridge.default_bridge", "true"),
                ("com.docker.network.bridge.enable_icc", "true"),
                ("com.docker.network.bridge.enable_ip_masquerade", "true"),
                ("com.docker.network.bridge.host_binding_ipv4", "0.0.0.0"),
                (BRIDGE_NAME_OPTION, record.bridge.as_str()),
                ("com.docker.network.driver.mtu", "1500"),
            ] {
                options.insert(key.to_owned(), value.to_owned());
            }
        }
        let containers = if with_containers {
            self.network_users(&record.id)
                .iter()
                .filter_map(|c| {
                    let endpoint = c.endpoints.iter().find(|e| e.network_id == record.id)?;
                    Some((c.id.clone(), network_container(c, endpoint, record)))
                })
                .collect()
        } else {
            BTreeMap::new()
        };
        Network {
            name: record.name.clone(),
            id: record.id.clone(),
            created: stored.created.clone(),
            scope: "local".into(),
            driver: "bridge".into(),
            ipam: Ipam {
                config: vec![IpamConfig {
                    subnet: record.subnet.to_string(),
                    gateway: record.gateway.to_string(),
                    ..IpamConfig::default()
                }],
                ..Ipam::default()
            },
            internal: record.internal,
            containers,
            options,
            labels: record.labels.clone(),
            ..Network::default()
        }
    }

    fn pseudo_views(&self, networking: &Networking) -> Vec<Network> {
        let created = networking
            .networks()
            .first()
            .map(|n| n.created.clone())
            .unwrap_or_default();
        PSEUDO_NETWORKS
            .iter()
            .map(|(name, driver)| Network {
                name: (*name).to_owned(),
                id: pseudo_network_id(&networking.default.id, name),
                created: created.clone(),
                scope: "local".into(),
                driver: (*driver).to_owned(),
                ipam: Ipam::default(),
                ..Network::default()
            })
            .collect()
    }

    fn all_network_views(&self, networking: &Networking, with_containers: bool) -> Vec<Network> {
        let mut views: Vec<Network> = networking
            .networks()
            .iter()
            .map(|n| self.network_view(networking, n, with_containers))
            .collect();
        views.extend(self.pseudo_views(networking));
        views
    }

    pub async fn inspect_network(&self, reference: &str) -> Result<Network> {
        let networking = self.networks_ready()?;
        let views = self.all_network_views(networking, true);
        find_network(&views, reference, |n| (&n.id, &n.name)).cloned()
    }

    pub async fn list_networks(&self, options: NetworkListOptions) -> Result<Vec<Network>> {
        let filters = options.filters;
        filters
            .validate(LIST_FILTERS)
            .map_err(|e| invalid(e.to_string()))?;
        let networking = self.networks_ready()?;
        let dangling = if filters.contains("dangling") {
            Some(
                filters
                    .get_bool("dangling", false)
                    .map_err(|e| invalid(e.to_string()))?,
            )
        } else {
            None
        };
        for kind in filters.get("type") {
            if !matches!(kind.as_str(), "custom" | "builtin") {
                return Err(invalid(format!("invalid filter: 'type'='{kind}'")));
            }
        }
        let default_id = networking.default.id.clone();
        let mut listed = Vec::new();
        for network in self.all_network_views(networking, false) {
            let builtin = network.id == default_id
                || PSEUDO_NETWORKS
                    .iter()
                    .any(|(name, _)| *name == network.name);
            let kind = if builtin { "builtin" } else { "custom" };
            let unused = builtin || self.network_users(&network.id).is_empty();
            let keep = filters.exact_match("driver", &network.driver)
                && filters.prefix_match("id", &network.id)
                && (filters.get("name").is_empty()
                    || filters
                        .get("name")
                        .iter()
                        .any(|n| network.name.contains(n.as_str())))
                && filters.exact_match("scope", &network.scope)
                && filters.exact_match("type", kind)
                && filters.match_labels("label", &network.labels)
                && dangling.is_none_or(|wanted| wanted == (unused && !builtin));
            if keep {
                listed.push(network);
            }
        }
        Ok(listed)
    }

    pub async fn remove_network(&self, reference: &str) -> Result<()> {
        let networking = self.networks_ready()?;
        let network = match networking.find(reference) {
            Ok(n) => n,
            Err(e) => {
                let pseudo = self
                    .pseudo_views(networking)
                    .into_iter()
                    .find(|n| n.name == reference || n.id.starts_with(reference));
                return Err(match pseudo {
                    Some(n) => predefined(&n.name),
                    None => e,
                });
            }
        };
        if network.record.id == networking.default.id {
            return Err(predefined(&network.record.name));
        }
        let users = self.network_users(&network.record.id);
        if !users.is_empty() {
            return Err(EngineError::Forbidden(format!(
                "error while removing network: network {} id {} has active endpoints",
                network.record.name, network.record.id
            )));
        }
        self.db
            .delete(crate::db::Table::Networks, &network.record.id)?;
        networking
            .networks
            .write()
            .unwrap_or_else(PoisonError::into_inner)
            .retain(|n| n.record.id != network.record.id);
        networking.addresses().remove(&network.record.id);
        networking.take_down(&network.record).await;
        self.events.publish(
            Event::new("network", "destroy", &network.record.id)
                .attribute("name", network.record.name.clone())
                .attribute("type", "bridge"),
        );
        Ok(())
    }

    pub async fn prune_networks(&self, filters: Filters) -> Result<NetworkPruneResponse> {
        filters
            .validate(PRUNE_FILTERS)
            .map_err(|e| invalid(e.to_string()))?;
        let mut until = None;
        for value in filters.get("until") {
            until =
                Some(parse_timestamp(value, now_nanos()).map_err(EngineError::InvalidArgument)?);
        }
        let networking = self.networks_ready()?;
        let mut response = NetworkPruneResponse::default();
        for network in networking.networks() {
            let record = &network.record;
            if record.id == networking.default.id
                || !self.network_users(&record.id).is_empty()
                || !filters.match_labels("label", &record.labels)
                || filters.get("label!").iter().any(|l| {
                    Filters::new()
                        .with("label", l)
                        .match_labels("label", &record.labels)
                })
            {
                continue;
            }
            if let Some(until) = until {
                let created = image::model::time::Timestamp::parse(&network.created)
                    .map(|t| t.unix_seconds() * 1_000_000_000 + i64::from(t.subsec_nanos()));
                if created.is_none_or(|c| c >= until) {
                    continue;
                }
            }
            match self.remove_network(&record.id).await {
                Ok(()) => response.networks_deleted.push(record.name.clone()),
                Err(e) if e.kind() == crate::ErrorKind::Forbidden => {}
                Err(e) => return Err(e),
            }
        }
        self.events.publish(Event::new("network", "prune", ""));
        Ok(response)
    }

    /// `network connect`: an endpoint on the network, made at once when the container runs
    /// (as `eth<n>`, without a default route) and kept in its record for its next starts.
    pub async fn connect_network(
        self: &Arc<Self>,
        reference: &str,
        container: &str,
        settings: EndpointSettings,
    ) -> Result<()> {
        let (networking, network, handle) = self.network_change(reference, container)?;
        let _op = handle.ops.lock().await;
        let current = handle.snapshot();
        refuse_shared_stack(&current)?;
        if current.endpoints.iter().any(|e| e.network_id == network.id) {
            return Err(EngineError::Forbidden(format!(
                "endpoint with name {} already exists in network {}",
                current.name, network.name
            )));
        }
        let index = (0..)
            .find(|i| {
                !current
                    .endpoints
                    .iter()
                    .any(|e| e.ifname == format!("eth{i}"))
            })
            .unwrap_or(current.endpoints.len());
        let owner = EndpointOwner {
            id: &current.id,
            name: &current.name,
        };
        let endpoint = networking.plan_endpoint(&owner, &network, &settings, index)?;
        if current.state.status.is_alive()
            && let Err(e) = networking
                .attach_running(&endpoint, current.state.pid)
                .await
        {
            networking.forget_address(&network.id, &current.id);
            return Err(e);
        }
        handle.record().endpoints.push(endpoint);
        self.persist(&handle)?;
        self.publish_network_change("connect", &network, &current.id);
        Ok(())
    }

    /// `network disconnect`: the container's endpoint removed (its veth with it when it runs).
    pub async fn disconnect_network(
        self: &Arc<Self>,
        reference: &str,
        container: &str,
        _force: bool,
    ) -> Result<()> {
        let (networking, network, handle) = self.network_change(reference, container)?;
        let _op = handle.ops.lock().await;
        let current = handle.snapshot();
        refuse_shared_stack(&current)?;
        let Some(endpoint) = current
            .endpoints
            .iter()
            .find(|e| e.network_id == network.id)
            .cloned()
        else {
            return Err(EngineError::Forbidden(format!(
                "container {} is not connected to network {}",
                current.id, network.name
            )));
        };
        let made = super::endpoints::made_with_netns(&current, &endpoint);
        // A veth made with the container's namespace is there between runs too.
        if current.state.status.is_alive() || made {
            networking.detach_for_good(&endpoint).await;
        }
        {
            let mut record = handle.record();
            record.endpoints.retain(|e| e.network_id != network.id);
            if made && let Some(netns) = record.netns.as_mut() {
                netns.veth = None;
            }
        }
        networking.forget_address(&network.id, &current.id);
        self.persist(&handle)?;
        self.publish_network_change("disconnect", &network, &current.id);
        Ok(())
    }

    /// What a connect or disconnect works on: the network and the container's handle.
    fn network_change(
        &self,
        reference: &str,
        container: &str,
    ) -> Result<(&Networking, NetworkRecord, Arc<Handle>)> {
        let networking = self.networks_ready()?;
        let network = self.connectable(networking, reference)?;
        Ok((networking, network, self.containers.get(container)?))
    }

    /// A network containers may join or leave: pier's bridges; `host` and `none` are
    /// modes of a container's own, not networks to connect to.
    fn connectable(&self, networking: &Networking, reference: &str) -> Result<NetworkRecord> {
        match networking.find(reference) {
            Ok(n) => Ok(n.record),
            Err(e) => match PSEUDO_NETWORKS.iter().find(|(name, _)| *name == reference) {
                Some(("host", _)) => Err(EngineError::Forbidden(
                    "container cannot be disconnected from host network or connected to host network"
                        .into(),
                )),
                Some(_) => Err(EngineError::Forbidden(
                    "container cannot be connected to multiple networks with one of the networks in private (none) mode"
                        .into(),
                )),
                None => Err(e),
            },
        }
    }

    fn publish_network_change(&self, action: &str, network: &NetworkRecord, container: &str) {
        self.events.publish(
            Event::new("network", action, &network.id)
                .attribute("container", container)
                .attribute("name", network.name.clone())
                .attribute("type", "bridge"),
        );
    }
}

fn predefined(name: &str) -> EngineError {
    EngineError::Forbidden(format!(
        "{name} is a pre-defined network and cannot be removed"
    ))
}

/// Containers on `host`, `none` or another's stack have no endpoints of their own to change.
fn refuse_shared_stack(container: &Container) -> Result<()> {
    let mode = container.host_config.network_mode.as_str();
    if names_a_network(mode) {
        return Ok(());
    }
    Err(EngineError::Forbidden(match mode {
        "host" => "container cannot be disconnected from host network or connected to host network".into(),
        "none" => "container cannot be connected to multiple networks with one of the networks in private (none) mode".into(),
        _ => "conflicting options: container sharing network namespace with another container or host cannot be connected to any other network".into(),
    }))
}

fn network_container(
    c: &Container,
    endpoint: &EndpointRecord,
    network: &NetworkRecord,
) -> NetworkContainer {
    NetworkContainer {
        name: c.name.clone(),
        endpoint_id: endpoint.host_veth.clone(),
        mac_address: endpoint.mac.to_string(),
        ipv4_address: format!("{}/{}", endpoint.ip, network.subnet.prefix_len()),
        ipv6_address: String::new(),
    }
}

impl Networking {
    /// Rules, DNS listener and bridge of a network that goes (every step tried).
    pub(crate) async fn take_down(&self, network: &NetworkRecord) {
        self.dns.remove_network(&network.id);
        if let Err(e) = self.driver.remove_network(network).await {
            eprintln!(
                "pier daemon: removing network {} ({}): {e}",
                network.name, network.bridge
            );
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shared_stacks_refuse_connect() {
        let mut c = Container::for_tests("c1", "web");
        for (mode, fragment) in [
            ("host", "host network"),
            ("none", "private (none) mode"),
            ("container:db", "sharing network namespace"),
        ] {
            c.host_config.network_mode = mode.into();
            let e = refuse_shared_stack(&c).unwrap_err();
            assert_eq!(e.kind(), crate::ErrorKind::Forbidden);
            assert!(e.to_string().contains(fragment), "{mode}: {e}");
        }
        c.host_config.network_mode = "app".into();
        assert!(refuse_shared_stack(&c).is_ok());
    }

    #[test]
    fn predefined_networks_name_themselves() {
        assert_eq!(
            predefined("bridge").to_string(),
            "bridge is a pre-defined network and cannot be removed"
        );
    }
}
