//! A container's published ports as the `net` crate takes them: `HostConfig.PortBindings`
//! (what `-p` became in the client) and, with `PublishAllPorts` (`-P`), every exposed port
//! that has no binding, on a port the kernel picks.

use api::types::{ContainerConfig, HostConfig};
use net::ports::{PortRequest, parse_exposed, parse_port_spec};

use crate::error::Result;

pub(super) fn requests(config: &ContainerConfig, host: &HostConfig) -> Result<Vec<PortRequest>> {
    let mut requests = Vec::new();
    let bindings = host.port_bindings.clone().unwrap_or_default();
    for (port, list) in &bindings {
        if list.is_empty() {
            requests.extend(parse_port_spec(port)?);
        }
        for binding in list {
            let ip = if binding.host_ip.contains(':') {
                format!("[{}]", binding.host_ip)
            } else {
                binding.host_ip.clone()
            };
            let spec = match (ip.is_empty(), binding.host_port.is_empty()) {
                (true, true) => port.clone(),
                (true, false) => format!("{}:{port}", binding.host_port),
                (false, _) => format!("{ip}:{}:{port}", binding.host_port),
            };
            requests.extend(parse_port_spec(&spec)?);
        }
    }
    if host.publish_all_ports {
        for port in config.exposed_ports.iter().flatten() {
            if !bindings.contains_key(port) {
                requests.extend(parse_exposed(port)?);
            }
        }
    }
    Ok(requests)
}

#[cfg(test)]
mod tests {
    use std::collections::{BTreeMap, BTreeSet};

    use api::types::PortBinding;
    use net::ports::HostPorts;
    use net::records::Proto;

    use super::*;

    fn binding(ip: &str, port: &str) -> PortBinding {
        PortBinding {
            host_ip: ip.into(),
            host_port: port.into(),
        }
    }

    #[test]
    fn bindings_and_publish_all() {
        let host = HostConfig {
            port_bindings: Some(BTreeMap::from([
                ("80/tcp".to_owned(), vec![binding("", "8080")]),
                ("53/udp".to_owned(), vec![binding("127.0.0.1", "")]),
                ("9000/tcp".to_owned(), vec![]),
            ])),
            publish_all_ports: true,
            ..Default::default()
        };
        let config = ContainerConfig {
            exposed_ports: Some(BTreeSet::from(["80/tcp".to_owned(), "443/tcp".to_owned()])),
            ..Default::default()
        };
        let mut got = requests(&config, &host).unwrap();
        got.sort_by_key(|r| r.container_port);
        let summary: Vec<_> = got
            .iter()
            .map(|r| (r.host_ip.clone(), r.host_ports, r.container_port, r.proto))
            .collect();
        assert_eq!(
            summary,
            vec![
                (Some("127.0.0.1".to_owned()), HostPorts::Any, 53, Proto::Udp),
                (None, HostPorts::Exact(8080), 80, Proto::Tcp),
                (None, HostPorts::Any, 443, Proto::Tcp),
                (None, HostPorts::Any, 9000, Proto::Tcp),
            ]
        );
    }

    #[test]
    fn bad_bindings_in_dockers_words() {
        let host = HostConfig {
            port_bindings: Some(BTreeMap::from([(
                "80/tcp".to_owned(),
                vec![binding("", "99999")],
            )])),
            ..Default::default()
        };
        let err = requests(&ContainerConfig::default(), &host).unwrap_err();
        assert_eq!(err.to_string(), "Invalid hostPort: 99999");
    }
}
