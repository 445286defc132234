//! A container's networking as inspect and list show it: `NetworkSettings` (with the
//! default bridge's fields at the top level, as Docker keeps them for old clients) and the
//! `Ports` of `docker ps`.

use std::collections::BTreeMap;

use api::types::{EndpointSettings, NetworkSettings, Port, PortBinding};
use net::records::{EndpointRecord, NetworkRecord};

use crate::containers::Container;

/// Inspect's `NetworkSettings`. Ports and addresses show while the container runs, as in
/// Docker; the networks it is on show always.
pub fn network_settings(c: &Container, networks: &[NetworkRecord]) -> NetworkSettings {
    let running = c.state.status.is_alive();
    let mut settings = NetworkSettings::default();
    for endpoint in &c.endpoints {
        let Some(network) = networks.iter().find(|n| n.id == endpoint.network_id) else {
            continue;
        };
        let endpoint_settings = endpoint_settings(endpoint, network, running);
        if network.name == super::DEFAULT_NETWORK {
            settings.bridge = String::new();
            settings.endpoint_id = endpoint_settings.endpoint_id.clone();
            settings.gateway = endpoint_settings.gateway.clone();
            settings.ip_address = endpoint_settings.ip_address.clone();
            settings.ip_prefix_len = endpoint_settings.ip_prefix_len;
            settings.mac_address = endpoint_settings.mac_address.clone();
        }
        settings
            .networks
            .insert(network.name.clone(), endpoint_settings);
    }
    if running {
        settings.sandbox_key = format!("/proc/{}/ns/net", c.state.pid);
        settings.ports = port_map(c);
    }
    settings
}

fn endpoint_settings(
    endpoint: &EndpointRecord,
    network: &NetworkRecord,
    running: bool,
) -> EndpointSettings {
    let mut settings = EndpointSettings {
        network_id: network.id.clone(),
        aliases: (!endpoint.aliases.is_empty()).then(|| endpoint.aliases.clone()),
        ..Default::default()
    };
    if network.dns {
        let mut names = vec![endpoint.container_name.clone()];
        names.extend(endpoint.aliases.iter().cloned());
        names.push(endpoint.container_id.chars().take(12).collect());
        settings.dns_names = Some(names);
    }
    if running {
        settings.endpoint_id = endpoint.host_veth.clone();
        settings.gateway = network.gateway.to_string();
        settings.ip_address = endpoint.ip.to_string();
        settings.ip_prefix_len = i64::from(network.subnet.prefix_len());
        settings.mac_address = endpoint.mac.to_string();
    }
    settings
}

/// `"80/tcp": [{"HostIp": "0.0.0.0", "HostPort": "8080"}]`, and every exposed port that is
/// not published with `null`.
fn port_map(c: &Container) -> BTreeMap<String, Option<Vec<PortBinding>>> {
    let mut map: BTreeMap<String, Option<Vec<PortBinding>>> = BTreeMap::new();
    for port in c.config.exposed_ports.iter().flatten() {
        let key = if port.contains('/') {
            port.clone()
        } else {
            format!("{port}/tcp")
        };
        map.entry(key).or_insert(None);
    }
    for endpoint in &c.endpoints {
        for p in &endpoint.ports {
            map.entry(format!("{}/{}", p.container_port, p.proto))
                .or_insert(None)
                .get_or_insert_with(Vec::new)
                .push(PortBinding {
                    host_ip: p.host_ip.to_string(),
                    host_port: p.host_port.to_string(),
                });
        }
    }
    map
}

/// `docker ps`'s ports: the published ones while running, and the exposed ones.
pub fn summary_ports(c: &Container) -> Vec<Port> {
    let mut ports = Vec::new();
    let mut published = std::collections::BTreeSet::new();
    if c.state.status.is_alive() {
        for endpoint in &c.endpoints {
            for p in &endpoint.ports {
                published.insert((p.container_port, p.proto.as_str().to_owned()));
                ports.push(Port {
                    ip: p.host_ip.to_string(),
                    private_port: p.container_port,
                    public_port: p.host_port,
                    kind: p.proto.as_str().to_owned(),
                });
            }
        }
    }
    for port in c.config.exposed_ports.iter().flatten() {
        let (number, proto) = port.split_once('/').unwrap_or((port.as_str(), "tcp"));
        if let Ok(number) = number.parse::<u16>()
            && !published.contains(&(number, proto.to_owned()))
        {
            ports.push(Port {
                private_port: number,
                kind: proto.to_owned(),
                ..Default::default()
            });
        }
    }
    ports
}
