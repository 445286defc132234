//! The embedded DNS server of user-defined networks.
//!
//! One listener (UDP and TCP, port 53) per user network, on the network's gateway address:
//! that is the nameserver in its containers' resolv.conf. This is podman's (aardvark-dns's)
//! way; Docker instead answers on 127.0.0.11 inside each container, which needs a socket
//! and NAT rules in every container's namespace — a cost per container, and state inside
//! namespaces the daemon must re-find after a restart. A gateway listener is one socket per
//! network in the daemon's own namespace. Which listener a query arrives on says which
//! network asks, so a container only resolves names on networks it shares.
//!
//! Answers: A records for container names and aliases of the network (`name` and
//! `name.<network>`), PTR for their addresses; other types for those names get an empty
//! answer. Other names go to the upstream resolvers (the host's, minus loopback ones);
//! single-label names that no container has get NXDOMAIN without leaving the host. The
//! default `bridge` network has no embedded DNS, as in Docker.

mod forward;
mod names;

use std::collections::HashMap;
use std::net::{IpAddr, Ipv4Addr, SocketAddr, TcpListener, UdpSocket};
use std::sync::{Arc, Mutex, PoisonError, RwLock};
use std::time::Duration;

use hickory_proto::op::{Message, Metadata, ResponseCode};
use hickory_proto::rr::rdata::{A, PTR};
use hickory_proto::rr::{Name, RData, Record, RecordType};
use hickory_server::net::runtime::Time;
use hickory_server::net::xfer::Protocol;
use hickory_server::server::{Request, RequestHandler, ResponseHandler, ResponseInfo, Server};
use hickory_server::zone_handler::MessageResponseBuilder;

use crate::error::{NetError, Result};
use crate::records::{EndpointRecord, NetworkRecord};

pub use names::{Lookup, NetworkNames};

/// Time-to-live of answers about containers: short, since containers come and go.
const TTL: u32 = 600;
const TCP_IDLE: Duration = Duration::from_secs(5);

#[derive(Debug, Clone)]
pub struct DnsConfig {
    /// 53; tests may pick another.
    pub port: u16,
    /// Where other names are forwarded.
    pub upstreams: Vec<SocketAddr>,
    /// How long one upstream may take.
    pub upstream_timeout: Duration,
}

impl Default for DnsConfig {
    fn default() -> Self {
        DnsConfig {
            port: 53,
            upstreams: Vec::new(),
            upstream_timeout: Duration::from_secs(2),
        }
    }
}

/// Upstream servers from resolver addresses (port 53).
pub fn upstreams_from(addresses: &[IpAddr]) -> Vec<SocketAddr> {
    addresses
        .iter()
        .map(|ip| SocketAddr::new(*ip, 53))
        .collect()
}

struct Shared {
    networks: RwLock<HashMap<String, NetworkNames>>,
    upstreams: RwLock<Vec<SocketAddr>>,
    upstream_timeout: Duration,
}

/// The running server, and the handle through which the engine updates its records as
/// containers connect and disconnect. Dropping it stops every listener.
pub struct DnsServer {
    shared: Arc<Shared>,
    port: u16,
    listeners: Mutex<HashMap<String, Server<NetworkHandler>>>,
}

impl DnsServer {
    pub fn new(config: DnsConfig) -> Self {
        DnsServer {
            shared: Arc::new(Shared {
                networks: RwLock::new(HashMap::new()),
                upstreams: RwLock::new(config.upstreams),
                upstream_timeout: config.upstream_timeout,
            }),
            port: config.port,
            listeners: Mutex::new(HashMap::new()),
        }
    }

    pub fn set_upstreams(&self, upstreams: Vec<SocketAddr>) {
        *self
            .shared
            .upstreams
            .write()
            .unwrap_or_else(PoisonError::into_inner) = upstreams;
    }

    /// Starts answering on the network's gateway (idempotent). The sockets are bound on the
    /// calling thread, in its network namespace; call from inside a tokio runtime, after the
    /// bridge carries the gateway address.
    pub fn add_network(&self, network: &NetworkRecord) -> Result<()> {
        let mut listeners = self
            .listeners
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        self.shared
            .networks
            .write()
            .unwrap_or_else(PoisonError::into_inner)
            .entry(network.id.clone())
            .or_insert_with(|| NetworkNames::new(&network.name));
        if listeners.contains_key(&network.id) {
            return Ok(());
        }
        let address = SocketAddr::new(IpAddr::V4(network.gateway), self.port);
        let bind_error = |err| NetError::sys(format!("DNS listener on {address}"), err);
        let udp = UdpSocket::bind(address).map_err(bind_error)?;
        let tcp = TcpListener::bind(address).map_err(bind_error)?;
        for result in [udp.set_nonblocking(true), tcp.set_nonblocking(true)] {
            result.map_err(bind_error)?;
        }
        let udp = tokio::net::UdpSocket::from_std(udp).map_err(bind_error)?;
        let tcp = tokio::net::TcpListener::from_std(tcp).map_err(bind_error)?;
        let mut server = Server::new(NetworkHandler {
            network_id: network.id.clone(),
            shared: self.shared.clone(),
        });
        server.register_socket(udp);
        server.register_listener(tcp, TCP_IDLE, 4096);
        listeners.insert(network.id.clone(), server);
        Ok(())
    }

    /// Stops answering for the network and forgets its names.
    pub fn remove_network(&self, network_id: &str) {
        let server = self
            .listeners
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .remove(network_id);
        if let Some(server) = server {
            server.shutdown_token().cancel();
        }
        self.shared
            .networks
            .write()
            .unwrap_or_else(PoisonError::into_inner)
            .remove(network_id);
    }

    /// Makes the endpoint's container name and aliases resolve on its network.
    pub fn set_endpoint(&self, endpoint: &EndpointRecord) {
        let mut names = vec![endpoint.container_name.clone()];
        names.extend(endpoint.aliases.iter().cloned());
        let mut networks = self
            .shared
            .networks
            .write()
            .unwrap_or_else(PoisonError::into_inner);
        if let Some(network) = networks.get_mut(&endpoint.network_id) {
            network.set(&endpoint.container_id, names, endpoint.ip);
        }
    }

    pub fn remove_endpoint(&self, network_id: &str, container_id: &str) {
        let mut networks = self
            .shared
            .networks
            .write()
            .unwrap_or_else(PoisonError::into_inner);
        if let Some(network) = networks.get_mut(network_id) {
            network.remove(container_id);
        }
    }

    /// What a name is on a network right now (for tests and `inspect`-like tools).
    pub fn lookup(&self, network_id: &str, name: &str) -> Lookup {
        self.shared
            .networks
            .read()
            .unwrap_or_else(PoisonError::into_inner)
            .get(network_id)
            .map(|names| names.lookup(name))
            .unwrap_or(Lookup::NotHere)
    }
}

/// Answers the queries arriving on one network's listener.
struct NetworkHandler {
    network_id: String,
    shared: Arc<Shared>,
}

/// What to do with a query.
enum Decision {
    Answer(Vec<Record>),
    Refuse(ResponseCode),
    Forward,
}

impl NetworkHandler {
    fn decide(&self, name: &Name, query_type: RecordType) -> Decision {
        let networks = self
            .shared
            .networks
            .read()
            .unwrap_or_else(PoisonError::into_inner);
        let Some(names) = networks.get(&self.network_id) else {
            return Decision::Refuse(ResponseCode::Refused);
        };
        let text = name.to_string();
        if query_type == RecordType::PTR
            && let Ok(IpAddr::V4(ip)) = name.parse_arpa_name().map(|net| net.addr())
        {
            return match names
                .name_of(ip)
                .and_then(|n| Name::from_ascii(format!("{n}.")).ok())
            {
                Some(target) => Decision::Answer(vec![Record::from_rdata(
                    name.clone(),
                    TTL,
                    RData::PTR(PTR(target)),
                )]),
                None => Decision::Forward,
            };
        }
        match names.lookup(&text) {
            Lookup::Found(addresses) if query_type == RecordType::A => Decision::Answer(
                addresses
                    .into_iter()
                    .map(|ip| Record::from_rdata(name.clone(), TTL, RData::A(A(ip))))
                    .collect(),
            ),
            // A container's name exists, with no record of this type: an empty answer,
            // never the upstream's idea of the name.
            Lookup::Found(_) => Decision::Answer(Vec::new()),
            Lookup::NotHere if text.trim_end_matches('.').contains('.') => Decision::Forward,
            Lookup::NotHere => Decision::Refuse(ResponseCode::NXDomain),
        }
    }
}

#[async_trait::async_trait]
impl RequestHandler for NetworkHandler {
    async fn handle_request<R: ResponseHandler, T: Time>(
        &self,
        request: &Request,
        mut response_handle: R,
    ) -> ResponseInfo {
        let failed = || {
            let mut metadata = Metadata::response_from_request(&request.metadata);
            metadata.response_code = ResponseCode::ServFail;
            ResponseInfo::from(hickory_proto::op::Header {
                metadata,
                counts: Default::default(),
            })
        };
        let decision = match request.request_info() {
            Ok(info) => self.decide(
                &Name::from(info.query.name().clone()),
                info.query.query_type(),
            ),
            Err(_) => Decision::Refuse(ResponseCode::FormErr),
        };
        let builder = MessageResponseBuilder::from_message_request(request);
        let sent = match decision {
            Decision::Answer(records) => {
                let mut metadata = Metadata::response_from_request(&request.metadata);
                metadata.authoritative = true;
                metadata.recursion_available = true;
                response_handle
                    .send_response(builder.build(metadata, records.iter(), [], [], []))
                    .await
            }
            Decision::Refuse(code) => {
                let mut metadata = Metadata::response_from_request(&request.metadata);
                metadata.response_code = code;
                metadata.recursion_available = true;
                response_handle
                    .send_response(builder.build_no_records(metadata))
                    .await
            }
            Decision::Forward => {
                let upstreams = self
                    .shared
                    .upstreams
                    .read()
                    .unwrap_or_else(PoisonError::into_inner)
                    .clone();
                let over_tcp = request.protocol() == Protocol::Tcp;
                let answer = forward::forward(
                    request.as_slice(),
                    &upstreams,
                    over_tcp,
                    self.shared.upstream_timeout,
                )
                .await;
                match answer.and_then(|bytes| Message::from_vec(&bytes).ok()) {
                    Some(message) => {
                        let mut builder = builder;
                        if let Some(edns) = &message.edns {
                            builder.edns(edns);
                        }
                        response_handle
                            .send_response(builder.build(
                                message.metadata,
                                message.answers.iter(),
                                message.authorities.iter(),
                                [],
                                message.additionals.iter(),
                            ))
                            .await
                    }
                    None => {
                        let mut metadata = Metadata::response_from_request(&request.metadata);
                        metadata.response_code = if upstreams.is_empty() {
                            ResponseCode::NXDomain
                        } else {
                            ResponseCode::ServFail
                        };
                        metadata.recursion_available = true;
                        response_handle
                            .send_response(builder.build_no_records(metadata))
                            .await
                    }
                }
            }
        };
        sent.unwrap_or_else(|_| failed())
    }
}

/// A name for tests and the engine: the resolv.conf nameserver of a network.
pub fn nameserver_of(network: &NetworkRecord) -> Option<Ipv4Addr> {
    network.dns.then_some(network.gateway)
}
