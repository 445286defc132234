//! `-p/--publish` and `--expose` (Docker's `nat.ParsePortSpecs`): which container ports are
//! exposed and how they are bound on the host. pier passes them to the daemon as they are;
//! networking decides what they do.

use std::collections::{BTreeMap, BTreeSet};
use std::net::IpAddr;

use api::types::PortBinding;

/// Exposed ports (`80/tcp`) and their host bindings.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct Ports {
    pub exposed: BTreeSet<String>,
    pub bindings: BTreeMap<String, Vec<PortBinding>>,
}

fn parse_port(text: &str) -> Option<u16> {
    if text.is_empty() || !text.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    text.parse().ok()
}

/// `80` or `8000-8010`.
fn parse_range(text: &str) -> Option<(u16, u16)> {
    match text.split_once('-') {
        None => parse_port(text).map(|p| (p, p)),
        Some((start, end)) => {
            let (start, end) = (parse_port(start)?, parse_port(end)?);
            (end >= start).then_some((start, end))
        }
    }
}

/// `80/udp` → ("udp", "80"); no protocol is tcp.
fn split_proto(text: &str) -> (String, &str) {
    match text.split_once('/') {
        None => ("tcp".to_owned(), text),
        Some((port, "")) => ("tcp".to_owned(), port),
        Some((port, proto)) => (proto.to_lowercase(), port),
    }
}

/// `[ip:][hostPort:]containerPort[/proto]`: the address may hold colons (IPv6).
fn split_parts(spec: &str) -> (String, &str, &str) {
    let parts: Vec<&str> = spec.split(':').collect();
    let n = parts.len();
    match n {
        1 => (String::new(), "", parts[0]),
        2 => (String::new(), parts[0], parts[1]),
        3 => (parts[0].to_owned(), parts[1], parts[2]),
        _ => (parts[..n - 2].join(":"), parts[n - 2], parts[n - 1]),
    }
}

impl Ports {
    /// Adds one `-p` value.
    pub fn publish(&mut self, spec: &str) -> Result<(), String> {
        let (mut ip, host_port, container) = split_parts(spec);
        let (proto, container) = split_proto(container);
        if let Some(inner) = ip.strip_prefix('[').and_then(|rest| rest.strip_suffix(']')) {
            ip = inner.to_owned();
        }
        if !ip.is_empty() && ip.parse::<IpAddr>().is_err() {
            return Err(format!("invalid IP address: {ip}"));
        }
        if container.is_empty() {
            return Err(format!("no port specified: {spec}<empty>"));
        }
        let (start, end) =
            parse_range(container).ok_or_else(|| format!("invalid containerPort: {container}"))?;
        let (host_start, host_end) = if host_port.is_empty() {
            (0, 0)
        } else {
            parse_range(host_port).ok_or_else(|| format!("invalid hostPort: {host_port}"))?
        };
        if !host_port.is_empty() && end - start != host_end - host_start && end != start {
            return Err(format!(
                "invalid ranges specified for container and host Ports: {container} and {host_port}"
            ));
        }
        if !matches!(proto.as_str(), "tcp" | "udp" | "sctp") {
            return Err(format!("invalid proto: {proto}"));
        }
        for offset in 0..=(end - start) {
            let port = format!("{}/{proto}", start + offset);
            let host = if host_port.is_empty() {
                String::new()
            } else if start == end && host_start != host_end {
                // One container port, a range of host ports to pick from.
                format!("{host_start}-{host_end}")
            } else {
                (host_start + offset).to_string()
            };
            self.exposed.insert(port.clone());
            self.bindings.entry(port).or_default().push(PortBinding {
                host_ip: ip.clone(),
                host_port: host,
            });
        }
        Ok(())
    }

    /// Adds one `--expose` value.
    pub fn expose(&mut self, spec: &str) -> Result<(), String> {
        let (proto, ports) = split_proto(spec);
        let (start, end) = parse_range(ports).ok_or_else(|| {
            let bad = ports.split('-').find(|p| parse_port(p).is_none()).unwrap_or(ports);
            format!(
                "invalid range format for --expose: {spec}, error: strconv.ParseUint: parsing {}: invalid syntax",
                crate::cli::text::go_quote(bad)
            )
        })?;
        for port in start..=end {
            self.exposed.insert(format!("{port}/{proto}"));
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn binding(ip: &str, port: &str) -> PortBinding {
        PortBinding {
            host_ip: ip.into(),
            host_port: port.into(),
        }
    }

    #[test]
    fn publishes_as_docker() {
        let mut ports = Ports::default();
        ports.publish("8080:80").unwrap();
        ports.publish("127.0.0.1::53/udp").unwrap();
        ports.publish("[::1]:9000:9000").unwrap();
        ports.publish("443").unwrap();
        assert_eq!(ports.bindings["80/tcp"], vec![binding("", "8080")]);
        assert_eq!(ports.bindings["53/udp"], vec![binding("127.0.0.1", "")]);
        assert_eq!(ports.bindings["9000/tcp"], vec![binding("::1", "9000")]);
        assert_eq!(ports.bindings["443/tcp"], vec![binding("", "")]);
        assert_eq!(ports.exposed.len(), 4);
    }

    #[test]
    fn ranges() {
        let mut ports = Ports::default();
        ports.publish("8000-8001:80-81").unwrap();
        assert_eq!(ports.bindings["81/tcp"], vec![binding("", "8001")]);
        ports.publish("9000-9010:90").unwrap();
        assert_eq!(ports.bindings["90/tcp"], vec![binding("", "9000-9010")]);
        assert_eq!(
            ports.publish("1-3:80-81").unwrap_err(),
            "invalid ranges specified for container and host Ports: 80-81 and 1-3"
        );
    }

    #[test]
    fn dockers_errors() {
        let mut ports = Ports::default();
        assert_eq!(
            ports.publish("abc").unwrap_err(),
            "invalid containerPort: abc"
        );
        assert_eq!(
            ports.publish("99999:80").unwrap_err(),
            "invalid hostPort: 99999"
        );
        assert_eq!(
            ports.publish("80:80:80:80").unwrap_err(),
            "invalid IP address: 80:80"
        );
        assert_eq!(ports.publish("80/foo").unwrap_err(), "invalid proto: foo");
        assert_eq!(
            ports.expose("abc").unwrap_err(),
            "invalid range format for --expose: abc, error: strconv.ParseUint: parsing \"abc\": invalid syntax"
        );
        ports.expose("7000-7001/udp").unwrap();
        assert!(ports.exposed.contains("7001/udp"));
    }
}
