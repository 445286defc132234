//! `-p/--publish` specs, parsed with the rules and error texts of Docker's
//! go-connections `nat.ParsePortSpec`: `[ip:][hostPort:]containerPort[/proto]`, where either
//! port may be a range `a-b`; a host range with a single container port is the range to
//! pick a free host port from.

use crate::error::{NetError, Result};
use crate::records::Proto;

/// Which host port a mapping wants.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum HostPorts {
    /// No host port given (`-p 80`, `-P`): any free one from the ephemeral range.
    Any,
    Exact(u16),
    /// A range to pick one free port from (`-p 8000-8010:80`).
    Range(u16, u16),
}

/// One container port of a spec, and where it is published on the host.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PortRequest {
    /// The host IP as written (IPv4 or IPv6, brackets removed); `None` for all addresses.
    pub host_ip: Option<String>,
    pub host_ports: HostPorts,
    pub container_port: u16,
    pub proto: Proto,
}

/// Parses one `-p` value into one request per container port.
pub fn parse_port_spec(raw: &str) -> Result<Vec<PortRequest>> {
    let invalid = |message: String| NetError::InvalidArgument(message);
    let (ip, host_port, container_part) = split_parts(raw);
    let (proto, container_port) = split_proto_port(&container_part);

    let mut ip = ip;
    if ip.starts_with('[') {
        ip = match ip.strip_prefix('[').and_then(|rest| rest.strip_suffix(']')) {
            Some(inner) if !inner.contains(['[', ']']) => inner.to_string(),
            _ => {
                return Err(invalid(format!(
                    "Invalid ip address {ip}: address {ip}:: missing port in address"
                )));
            }
        };
    }
    if !ip.is_empty() && ip.parse::<std::net::IpAddr>().is_err() {
        return Err(invalid(format!("Invalid ip address: {ip}")));
    }
    if container_port.is_empty() {
        return Err(invalid(format!("No port specified: {raw}<empty>")));
    }
    let (start, end) = parse_port_range(&container_port)
        .map_err(|_| invalid(format!("Invalid containerPort: {container_port}")))?;

    let host_range = if host_port.is_empty() {
        None
    } else {
        Some(
            parse_port_range(&host_port)
                .map_err(|_| invalid(format!("Invalid hostPort: {host_port}")))?,
        )
    };
    if let Some((host_start, host_end)) = host_range
        && end - start != host_end - host_start
        && end != start
    {
        return Err(invalid(format!(
            "Invalid ranges specified for container and host Ports: {container_port} and {host_port}"
        )));
    }
    let proto = match proto.to_ascii_lowercase().as_str() {
        "tcp" => Proto::Tcp,
        "udp" => Proto::Udp,
        "sctp" => Proto::Sctp,
        _ => return Err(invalid(format!("invalid proto: {proto}"))),
    };

    let host_ip = (!ip.is_empty()).then_some(ip);
    Ok((start..=end)
        .enumerate()
        .map(|(offset, container_port)| {
            let host_ports = match host_range {
                None => HostPorts::Any,
                Some((host_start, host_end)) if start == end && host_start != host_end => {
                    HostPorts::Range(host_start, host_end)
                }
                // Equal-length ranges map one to one; the offset fits since both are u16
                // ranges of the same length.
                Some((host_start, _)) => HostPorts::Exact(host_start + offset as u16),
            };
            PortRequest {
                host_ip: host_ip.clone(),
                host_ports,
                container_port,
                proto,
            }
        })
        .collect())
}

/// An image's `EXPOSE` entry or an `ExposedPorts` key (`80`, `80/udp`, `8000-8002/tcp`),
/// for `-P`: every port published on a random host port.
pub fn parse_exposed(raw: &str) -> Result<Vec<PortRequest>> {
    let (proto, port) = split_proto_port(raw);
    if raw.contains(':') || port.is_empty() {
        return Err(NetError::InvalidArgument(format!("invalid port: {raw}")));
    }
    parse_port_spec(&format!("{port}/{proto}"))
}

/// `ip:host:container` with the container part last; everything before the host port is the
/// IP (so IPv6 addresses with colons survive).
fn split_parts(raw: &str) -> (String, String, String) {
    let parts: Vec<&str> = raw.split(':').collect();
    let n = parts.len();
    let container = parts[n - 1].to_string();
    match n {
        1 => (String::new(), String::new(), container),
        2 => (String::new(), parts[0].to_string(), container),
        3 => (parts[0].to_string(), parts[1].to_string(), container),
        _ => (
            parts[..n - 2].join(":"),
            parts[n - 2].to_string(),
            container,
        ),
    }
}

/// `80/udp` -> ("udp", "80"); no or empty proto means tcp; an empty port gives nothing.
fn split_proto_port(raw: &str) -> (String, String) {
    let parts: Vec<&str> = raw.split('/').collect();
    if raw.is_empty() || parts[0].is_empty() {
        return (String::new(), String::new());
    }
    match parts.get(1) {
        None => ("tcp".to_string(), raw.to_string()),
        Some(&"") => ("tcp".to_string(), parts[0].to_string()),
        Some(proto) => (proto.to_string(), parts[0].to_string()),
    }
}

/// `80` or `80-90` (Go's ParseUint with 16 bits: 0..=65535, digits only).
fn parse_port_range(text: &str) -> std::result::Result<(u16, u16), ()> {
    let port = |part: &str| -> std::result::Result<u16, ()> {
        if part.is_empty() || !part.bytes().all(|b| b.is_ascii_digit()) {
            return Err(());
        }
        part.parse::<u16>().map_err(|_| ())
    };
    match text.split_once('-') {
        None => {
            let p = port(text)?;
            Ok((p, p))
        }
        Some((start, rest)) => {
            // Go splits on every '-' and reads the first two parts.
            let end = rest.split('-').next().unwrap_or_default();
            let (start, end) = (port(start)?, port(end)?);
            if end < start {
                return Err(());
            }
            Ok((start, end))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn one(raw: &str) -> PortRequest {
        let mut all = parse_port_spec(raw).unwrap();
        assert_eq!(all.len(), 1, "{raw}");
        all.remove(0)
    }

    fn err(raw: &str) -> String {
        parse_port_spec(raw).unwrap_err().to_string()
    }

    #[test]
    fn forms() {
        assert_eq!(
            one("80"),
            PortRequest {
                host_ip: None,
                host_ports: HostPorts::Any,
                container_port: 80,
                proto: Proto::Tcp
            }
        );
        assert_eq!(one("8080:80").host_ports, HostPorts::Exact(8080));
        let bound = one("127.0.0.1:8080:80/udp");
        assert_eq!(bound.host_ip.as_deref(), Some("127.0.0.1"));
        assert_eq!(bound.proto, Proto::Udp);
        assert_eq!(one("127.0.0.1::80").host_ports, HostPorts::Any);
        assert_eq!(one("[::1]:8080:80").host_ip.as_deref(), Some("::1"));
        assert_eq!(one("::1:8080:80").host_ip.as_deref(), Some("::1"));
        assert_eq!(one("80/").proto, Proto::Tcp);
        assert_eq!(one("80/UDP").proto, Proto::Udp);
        assert_eq!(one("8000-8010:80").host_ports, HostPorts::Range(8000, 8010));
    }

    #[test]
    fn ranges_map_one_to_one() {
        let all = parse_port_spec("8000-8002:80-82").unwrap();
        let pairs: Vec<(HostPorts, u16)> = all
            .iter()
            .map(|r| (r.host_ports, r.container_port))
            .collect();
        assert_eq!(
            pairs,
            [
                (HostPorts::Exact(8000), 80),
                (HostPorts::Exact(8001), 81),
                (HostPorts::Exact(8002), 82)
            ]
        );
        assert_eq!(parse_port_spec("80-82").unwrap().len(), 3);
    }

    #[test]
    fn dockers_errors() {
        assert_eq!(err("foo"), "Invalid containerPort: foo");
        assert_eq!(err("8080:foo"), "Invalid containerPort: foo");
        assert_eq!(err("foo:80"), "Invalid hostPort: foo");
        assert_eq!(err("70000:80"), "Invalid hostPort: 70000");
        assert_eq!(err("80:70000"), "Invalid containerPort: 70000");
        assert_eq!(err("90-80"), "Invalid containerPort: 90-80");
        assert_eq!(err("80/tcpx"), "invalid proto: tcpx");
        assert_eq!(err("1.2.3:80:80"), "Invalid ip address: 1.2.3");
        assert_eq!(err(""), "No port specified: <empty>");
        assert_eq!(err("8080:"), "No port specified: 8080:<empty>");
        assert_eq!(
            err("8000-8001:80-82"),
            "Invalid ranges specified for container and host Ports: 80-82 and 8000-8001"
        );
    }

    #[test]
    fn exposed_ports() {
        let all = parse_exposed("53/udp").unwrap();
        assert_eq!(all[0].proto, Proto::Udp);
        assert_eq!(all[0].host_ports, HostPorts::Any);
        assert!(parse_exposed("1:2").is_err());
    }
}
