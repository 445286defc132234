//! pier's networking: bridges, veth, IPAM, nftables NAT and port publishing, embedded DNS.
//!
//! Owns: the Linux bridge of each network (`pier0` for the default `bridge` network,
//! `br-<id12>` for user networks) and its gateway address; a veth pair per container
//! endpoint; subnet and address allocation (as pure functions over records the engine
//! keeps); one nftables table of the daemon's own (outbound masquerade, `--internal`
//! isolation, published ports as DNAT); host port reservation; the embedded DNS server of
//! user networks; the contents of a container's /etc/hosts, /etc/hostname and
//! /etc/resolv.conf.
//!
//! Never does: container lifecycle, persistence (every record is the engine's), or anything
//! to rules, links or tables that are not pier's. Kernel-facing work sits behind small
//! traits ([`link::Links`], [`firewall::Firewall`], [`sysctl::Sysctls`]) so that the logic
//! above them is tested without root.
//!
//! Written by hand, and why:
//! - Upstream forwarding in the DNS server (`dns::forward`): a byte relay of the query and
//!   answer. hickory-resolver would answer from its own lookups and cache; a relay must pass
//!   the upstream's answer through as it is.
//! - Port reservation (`ports::host`): bound, non-listening sockets through nix, since
//!   std's `TcpListener` sets SO_REUSEADDR and listens, which weakens the reservation.
//! - `/etc/resolv.conf` and `/etc/hosts` contents (`etc`): Docker's exact output, a dozen
//!   lines each; the resolv-conf crate re-renders files in its own layout.
//! - Docker's `-p` grammar (`ports::spec`): go-connections' rules and error texts, which no
//!   crate reproduces.

pub mod dns;
pub mod driver;
pub mod error;
pub mod etc;
pub mod firewall;
pub mod ipam;
pub mod link;
pub mod mac;
pub mod ports;
pub mod records;
pub mod sysctl;

pub use driver::{BridgeDriver, ReconcileReport};
pub use error::{ErrorKind, NetError, Result};
pub use mac::MacAddr;
pub use records::{EndpointRecord, NetworkRecord, Proto, PublishedPort};

/// The default network's name and bridge, as Docker names them (`docker0` there).
pub const DEFAULT_NETWORK: &str = "bridge";
pub const DEFAULT_BRIDGE: &str = "pier0";
/// The default name of pier's nftables table.
pub const DEFAULT_TABLE: &str = "pier";
