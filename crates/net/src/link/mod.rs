//! Links: the bridge of each network and a veth pair per container endpoint.
//!
//! The host end of a pair (`veth` + 7 hex) hangs on the network's bridge; the other end is
//! created directly inside the container's network namespace under its final name (`eth0`),
//! with its MAC address, in the same netlink request — no temporary name, no move. The
//! rest (address, up, default route, lo up) is done from a thread that entered the
//! container's namespace, since netlink sockets speak for the namespace they were made in.

mod netns;
pub mod persist;
mod rtnl;

use std::future::Future;
use std::net::Ipv4Addr;

use ipnet::Ipv4Net;

use crate::error::Result;
use crate::mac::MacAddr;

pub use netns::NetnsRef;
pub use rtnl::Rtnetlink;

/// A link as listed, for reconciliation.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LinkInfo {
    pub index: u32,
    pub name: String,
    /// `bridge`, `veth`, ... (`None` for physical devices and lo).
    pub kind: Option<String>,
    /// The index of the bridge it is attached to.
    pub controller: Option<u32>,
}

/// One container endpoint's link, as [`Links::add_veth`] makes it.
#[derive(Debug, Clone)]
pub struct VethRequest {
    pub bridge: String,
    pub host_name: String,
    pub netns: NetnsRef,
    /// The name inside the container (`eth0`).
    pub ifname: String,
    pub mac: MacAddr,
    /// The container's address with the network's prefix length.
    pub address: Ipv4Net,
    /// The default route's gateway; `None` for a container's additional networks (only one
    /// of them carries the default route).
    pub gateway: Option<Ipv4Addr>,
}

/// The kernel-facing operations on links, addresses and routes. Behind a trait so that the
/// logic driving them is tested without root.
pub trait Links: Send + Sync + 'static {
    /// Creates the bridge if it is missing, puts `address` (gateway/prefix) on it and sets it
    /// up. Idempotent.
    fn ensure_bridge(
        &self,
        name: &str,
        address: Ipv4Net,
    ) -> impl Future<Output = Result<()>> + Send;

    /// Creates and configures a container's veth pair (see the module doc). A link left with
    /// the same host name by an earlier attempt is replaced. On failure nothing is left.
    fn add_veth(&self, request: &VethRequest) -> impl Future<Output = Result<()>> + Send;

    /// Deletes a link by name (a veth's host end takes its peer along; a bridge its
    /// addresses). A missing link is not an error. Slow for veths (~23 ms, the kernel waits
    /// for RCU): keep it off the path a user waits on.
    fn delete_link(&self, name: &str) -> impl Future<Output = Result<()>> + Send;

    fn list_links(&self) -> impl Future<Output = Result<Vec<LinkInfo>>> + Send;

    /// Sets `lo` up inside `netns` (a container without a network still has its loopback,
    /// as in Docker).
    fn loopback_up(&self, netns: NetnsRef) -> impl Future<Output = Result<()>> + Send;

    /// The destinations of the IPv4 routes of the main table (for IPAM's overlap check).
    fn routes(&self) -> impl Future<Output = Result<Vec<Ipv4Net>>> + Send;
}
