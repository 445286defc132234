//! Host ports: resolving requests to concrete ports and reserving them.
//!
//! pier reserves every port it publishes the way Docker's port mapper does: by holding a
//! socket bound to the host address and port (TCP sockets are bound but never listen, so
//! they accept nothing; without SO_REUSEADDR nobody else can bind the port). Binding is also
//! the check: a port that some process already has is refused with Docker's "port is
//! already allocated". The socket is not on the data path — DNAT rules in the kernel carry
//! the traffic before any socket lookup — so published ports keep working while the daemon
//! is down; a daemon that starts again re-reserves the ports of its running containers.
//! Random ports (`-p 80`, `-P`) are bound to port 0, which makes the kernel pick a free port
//! from `net.ipv4.ip_local_port_range`, as Docker's allocator picks from that range.

use std::net::{Ipv4Addr, SocketAddrV4};
use std::os::fd::{AsRawFd, OwnedFd};

use nix::sys::socket::{self, AddressFamily, SockFlag, SockType, SockaddrIn};

use crate::error::{NetError, Result};
use crate::ports::spec::{HostPorts, PortRequest};
use crate::records::{Proto, PublishedPort};

/// Bound sockets that keep published ports from being taken by anyone else. Dropping it
/// releases the ports (after the container's rules are gone).
#[derive(Debug, Default)]
pub struct PortReservation {
    sockets: Vec<OwnedFd>,
}

impl PortReservation {
    pub fn len(&self) -> usize {
        self.sockets.len()
    }

    pub fn is_empty(&self) -> bool {
        self.sockets.is_empty()
    }

    /// Takes over another reservation's sockets.
    pub fn extend(&mut self, other: PortReservation) {
        self.sockets.extend(other.sockets);
    }
}

/// Who the ports are for, in Docker's error: `endpoint NAME (ID)`.
#[derive(Debug, Clone, Copy)]
pub struct EndpointLabel<'a> {
    pub name: &'a str,
    pub id: &'a str,
}

/// Resolves `-p` requests to concrete host ports and reserves them. Either every port is
/// reserved or none is (what was bound is released on error).
pub fn publish(
    requests: &[PortRequest],
    endpoint: EndpointLabel<'_>,
) -> Result<(Vec<PublishedPort>, PortReservation)> {
    let mut published = Vec::with_capacity(requests.len());
    let mut reservation = PortReservation::default();
    for request in requests {
        let host_ip = host_ipv4(request)?;
        if request.proto == Proto::Sctp {
            return Err(NetError::InvalidArgument(
                "publishing sctp ports is not supported".to_string(),
            ));
        }
        let (port, socket) = match request.host_ports {
            HostPorts::Exact(port) => (port, bind(request.proto, host_ip, port, endpoint)?),
            HostPorts::Any => {
                let socket = bind(request.proto, host_ip, 0, endpoint)?;
                (bound_port(&socket)?, socket)
            }
            HostPorts::Range(start, end) => {
                bind_first_free(request.proto, host_ip, start, end, endpoint)?
            }
        };
        reservation.sockets.push(socket);
        published.push(PublishedPort {
            host_ip,
            host_port: port,
            container_port: request.container_port,
            proto: request.proto,
        });
    }
    Ok((published, reservation))
}

/// Reserves ports that were published before (a daemon starting again). Every port is
/// tried; those that someone else took meanwhile come back as errors beside the
/// reservation of the others (their rules still work; only the guard is missing).
pub fn reserve(
    published: &[PublishedPort],
    endpoint: EndpointLabel<'_>,
) -> (PortReservation, Vec<NetError>) {
    let mut reservation = PortReservation::default();
    let mut errors = Vec::new();
    for port in published {
        match bind(port.proto, port.host_ip, port.host_port, endpoint) {
            Ok(socket) => reservation.sockets.push(socket),
            Err(err) => errors.push(err),
        }
    }
    (reservation, errors)
}

fn host_ipv4(request: &PortRequest) -> Result<Ipv4Addr> {
    match request.host_ip.as_deref() {
        None | Some("") => Ok(Ipv4Addr::UNSPECIFIED),
        Some(text) => text.parse::<Ipv4Addr>().map_err(|_| {
            NetError::InvalidArgument(format!(
                "publishing on {text}: only IPv4 host addresses are supported"
            ))
        }),
    }
}

fn bind_first_free(
    proto: Proto,
    ip: Ipv4Addr,
    start: u16,
    end: u16,
    endpoint: EndpointLabel<'_>,
) -> Result<(u16, OwnedFd)> {
    for port in start..=end {
        match bind(proto, ip, port, endpoint) {
            Ok(socket) => return Ok((port, socket)),
            Err(NetError::Conflict(_)) => continue,
            Err(other) => return Err(other),
        }
    }
    Err(NetError::Conflict(format!(
        "driver failed programming external connectivity on endpoint {} ({}): Bind for {ip}:{start}-{end} failed: port is already allocated",
        endpoint.name, endpoint.id
    )))
}

/// Binds (never listens) a close-on-exec socket without SO_REUSEADDR.
fn bind(proto: Proto, ip: Ipv4Addr, port: u16, endpoint: EndpointLabel<'_>) -> Result<OwnedFd> {
    let kind = match proto {
        Proto::Udp => SockType::Datagram,
        Proto::Tcp | Proto::Sctp => SockType::Stream,
    };
    let socket = socket::socket(AddressFamily::Inet, kind, SockFlag::SOCK_CLOEXEC, None)
        .map_err(|errno| NetError::sys(format!("socket for {proto} port {port}"), errno.into()))?;
    let address = SockaddrIn::from(SocketAddrV4::new(ip, port));
    match socket::bind(socket.as_raw_fd(), &address) {
        Ok(()) => Ok(socket),
        Err(nix::errno::Errno::EADDRINUSE) => Err(NetError::Conflict(format!(
            "driver failed programming external connectivity on endpoint {} ({}): Bind for {ip}:{port} failed: port is already allocated",
            endpoint.name, endpoint.id
        ))),
        Err(errno) => Err(NetError::InvalidArgument(format!(
            "driver failed programming external connectivity on endpoint {} ({}): Error starting userland proxy: listen {proto}4 {ip}:{port}: bind: {}",
            endpoint.name,
            endpoint.id,
            errno.desc().to_lowercase()
        ))),
    }
}

fn bound_port(socket: &OwnedFd) -> Result<u16> {
    let address: SockaddrIn = socket::getsockname(socket.as_raw_fd())
        .map_err(|errno| NetError::sys("getsockname of a reserved port", errno.into()))?;
    Ok(address.port())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ports::spec::parse_port_spec;

    const WEB: EndpointLabel<'static> = EndpointLabel {
        name: "web",
        id: "abc",
    };

    fn requests(specs: &[&str]) -> Vec<PortRequest> {
        specs
            .iter()
            .flat_map(|s| parse_port_spec(s).unwrap())
            .collect()
    }

    #[test]
    fn random_ports_come_from_the_kernel_and_are_held() {
        let (published, reservation) =
            publish(&requests(&["127.0.0.1::80", "127.0.0.1::53/udp"]), WEB).unwrap();
        assert_eq!(reservation.len(), 2);
        assert!(published.iter().all(|p| p.host_port != 0));
        let tcp = published[0];
        // Held: a second publish of the same port is refused in Docker's words.
        let again = format!("127.0.0.1:{}:81", tcp.host_port);
        let err = publish(&requests(&[&again]), WEB).unwrap_err();
        assert_eq!(
            err.to_string(),
            format!(
                "driver failed programming external connectivity on endpoint web (abc): Bind for 127.0.0.1:{}:81 failed: port is already allocated",
                tcp.host_port
            )
            .replace(":81 failed", " failed")
        );
        // Released with the reservation.
        drop(reservation);
        let (_, held) = publish(&requests(&[&again]), WEB).unwrap();
        assert_eq!(held.len(), 1);
    }

    #[test]
    fn a_port_a_process_listens_on_is_refused() {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let port = listener.local_addr().unwrap().port();
        let err = publish(&requests(&[&format!("{port}:80")]), WEB).unwrap_err();
        assert!(
            err.to_string().contains(&format!(
                "Bind for 0.0.0.0:{port} failed: port is already allocated"
            )),
            "{err}"
        );
        // UDP on the same number is another port.
        assert!(publish(&requests(&[&format!("127.0.0.1:{port}:80/udp")]), WEB).is_ok());
    }

    #[test]
    fn ranges_pick_a_free_port_and_all_or_nothing() {
        let taken = std::net::UdpSocket::bind("127.0.0.1:0").unwrap();
        let port = taken.local_addr().unwrap().port();
        if port == u16::MAX {
            return;
        }
        let spec = format!("127.0.0.1:{port}-{}:53/udp", port + 1);
        match publish(&requests(&[&spec]), WEB) {
            Ok((published, _)) => assert_eq!(published[0].host_port, port + 1),
            // port+1 may be in use on a busy machine; then the range is exhausted.
            Err(err) => assert!(
                err.to_string().contains("port is already allocated"),
                "{err}"
            ),
        }
        // Second request fails: the first one's socket is released too.
        let spec = format!("127.0.0.1:{port}:53/udp");
        let err = publish(&requests(&["127.0.0.1::80", &spec]), WEB).unwrap_err();
        assert_eq!(err.kind(), crate::ErrorKind::Conflict);
    }

    #[test]
    fn refusals() {
        assert!(publish(&requests(&["[::1]:8080:80"]), WEB).is_err());
        assert!(publish(&requests(&["8080:80/sctp"]), WEB).is_err());
        let err = publish(&requests(&["192.0.2.77:8080:80"]), WEB).unwrap_err();
        assert!(
            err.to_string().contains("cannot assign requested address"),
            "{err}"
        );
    }
}
