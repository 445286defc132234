//! [`Links`] over rtnetlink.

use std::net::{IpAddr, Ipv4Addr};
use std::os::fd::AsRawFd;

use futures_util::TryStreamExt;
use ipnet::Ipv4Net;
use netlink_packet_route::link::{
    InfoData, InfoVeth, LinkAttribute, LinkInfo as NlLinkInfo, LinkMessage,
};
use netlink_packet_route::route::{RouteAddress, RouteAttribute, RouteMessage};
use rtnetlink::{Handle, LinkBridge, LinkBridgePort, LinkUnspec, LinkVeth, RouteMessageBuilder};

use super::netns::with_handle_in;
use super::{LinkInfo, Links, NetnsRef, VethRequest};
use crate::error::{NetError, Result};

const RT_TABLE_MAIN: u32 = 254;

/// A netlink connection in the network namespace of the thread that made it (the daemon's:
/// the host's).
#[derive(Debug, Clone)]
pub struct Rtnetlink {
    handle: Handle,
}

impl Rtnetlink {
    /// Opens the connection; call from inside a tokio runtime, on a thread in the namespace
    /// the links should be made in.
    pub fn new() -> Result<Self> {
        let (connection, handle, _) = rtnetlink::new_connection()
            .map_err(|err| NetError::sys("opening a netlink socket", err))?;
        tokio::spawn(connection);
        Ok(Rtnetlink { handle })
    }
}

/// The errno of a netlink error (positive), if the kernel gave one.
fn errno(err: &rtnetlink::Error) -> Option<i32> {
    match err {
        rtnetlink::Error::NetlinkError(message) => message.code.map(|code| -code.get()),
        _ => None,
    }
}

async fn index_of(handle: &Handle, name: &str) -> Result<Option<u32>> {
    let mut links = handle.link().get().match_name(name.to_string()).execute();
    match links.try_next().await {
        Ok(Some(link)) => Ok(Some(link.header.index)),
        Ok(None) => Ok(None),
        Err(err) if errno(&err) == Some(libc::ENODEV) => Ok(None),
        Err(err) => Err(NetError::netlink(format!("looking up link {name}"), err)),
    }
}

async fn set_up(handle: &Handle, index: u32, name: &str) -> Result<()> {
    handle
        .link()
        .set(LinkUnspec::new_with_index(index).up().build())
        .execute()
        .await
        .map_err(|err| NetError::netlink(format!("setting {name} up"), err))
}

async fn add_address(handle: &Handle, index: u32, address: Ipv4Net, name: &str) -> Result<()> {
    match handle
        .address()
        .add(index, IpAddr::V4(address.addr()), address.prefix_len())
        .execute()
        .await
    {
        Ok(()) => Ok(()),
        Err(err) if errno(&err) == Some(libc::EEXIST) => Ok(()),
        Err(err) => Err(NetError::netlink(
            format!("adding address {address} to {name}"),
            err,
        )),
    }
}

async fn delete_index(handle: &Handle, index: u32, name: &str) -> Result<()> {
    match handle.link().del(index).execute().await {
        Ok(()) => Ok(()),
        Err(err) if errno(&err) == Some(libc::ENODEV) => Ok(()),
        Err(err) => Err(NetError::netlink(format!("deleting link {name}"), err)),
    }
}

/// Inside the container's namespace: lo up, the interface's address, up, default route.
async fn configure_inside(
    handle: Handle,
    ifname: String,
    address: Ipv4Net,
    gateway: Option<Ipv4Addr>,
) -> Result<()> {
    if let Some(lo) = index_of(&handle, "lo").await? {
        set_up(&handle, lo, "lo").await?;
    }
    let index = index_of(&handle, &ifname).await?.ok_or_else(|| {
        NetError::NotFound(format!(
            "{ifname} did not appear in the container's namespace"
        ))
    })?;
    add_address(&handle, index, address, &ifname).await?;
    set_up(&handle, index, &ifname).await?;
    if let Some(gateway) = gateway {
        let route = RouteMessageBuilder::<Ipv4Addr>::new()
            .gateway(gateway)
            .output_interface(index)
            .build();
        handle
            .route()
            .add(route)
            .replace()
            .execute()
            .await
            .map_err(|err| NetError::netlink(format!("default route via {gateway}"), err))?;
    }
    Ok(())
}

fn link_info(message: &LinkMessage) -> Option<LinkInfo> {
    let mut name = None;
    let mut kind = None;
    let mut controller = None;
    for attribute in &message.attributes {
        match attribute {
            LinkAttribute::IfName(value) => name = Some(value.clone()),
            LinkAttribute::Controller(index) => controller = Some(*index),
            LinkAttribute::LinkInfo(infos) => {
                for info in infos {
                    if let NlLinkInfo::Kind(value) = info {
                        kind = Some(value.to_string());
                    }
                }
            }
            _ => {}
        }
    }
    Some(LinkInfo {
        index: message.header.index,
        name: name?,
        kind,
        controller,
    })
}

fn route_destination(message: &RouteMessage) -> Option<Ipv4Net> {
    let mut table = u32::from(message.header.table);
    let mut destination = Ipv4Addr::UNSPECIFIED;
    for attribute in &message.attributes {
        match attribute {
            RouteAttribute::Table(id) => table = *id,
            RouteAttribute::Destination(RouteAddress::Inet(address)) => destination = *address,
            _ => {}
        }
    }
    if table != RT_TABLE_MAIN {
        return None;
    }
    Ipv4Net::new(destination, message.header.destination_prefix_length).ok()
}

impl Links for Rtnetlink {
    async fn ensure_bridge(&self, name: &str, address: Ipv4Net) -> Result<()> {
        let handle = &self.handle;
        let index = match index_of(handle, name).await? {
            Some(index) => index,
            None => {
                match handle
                    .link()
                    .add(LinkBridge::new(name).build())
                    .execute()
                    .await
                {
                    Ok(()) => {}
                    Err(err) if errno(&err) == Some(libc::EEXIST) => {}
                    Err(err) => {
                        return Err(NetError::netlink(format!("creating bridge {name}"), err));
                    }
                }
                index_of(handle, name).await?.ok_or_else(|| {
                    NetError::NotFound(format!("bridge {name} vanished after creation"))
                })?
            }
        };
        add_address(handle, index, address, name).await?;
        set_up(handle, index, name).await
    }

    async fn add_veth(&self, request: &VethRequest) -> Result<()> {
        let handle = &self.handle;
        let bridge = index_of(handle, &request.bridge)
            .await?
            .ok_or_else(|| NetError::NotFound(format!("bridge {} not found", request.bridge)))?;
        if let Some(stale) = index_of(handle, &request.host_name).await? {
            delete_index(handle, stale, &request.host_name).await?;
        }
        let netns = request.netns.open()?;
        let peer = LinkUnspec::new_with_name(&request.ifname)
            .address(request.mac.octets().to_vec())
            .setns_by_fd(netns.as_raw_fd())
            .build();
        let message = LinkVeth::new(&request.host_name, &request.ifname)
            .set_info_data(InfoData::Veth(InfoVeth::Peer(peer)))
            .controller(bridge)
            .up()
            .build();
        handle.link().add(message).execute().await.map_err(|err| {
            if errno(&err) == Some(libc::EEXIST) {
                NetError::Conflict(format!(
                    "the container already has an interface named {} (or a link named {} exists)",
                    request.ifname, request.host_name
                ))
            } else {
                NetError::netlink(format!("creating veth pair {}", request.host_name), err)
            }
        })?;
        // Hairpin mode on the bridge port: with br_netfilter loaded, a container's packet to
        // its own published port (DNATed back to itself) is bridged back out of the port it
        // came in on, which a bridge refuses without it (Docker sets it for the same reason).
        let hairpin = async {
            let index = index_of(handle, &request.host_name).await?.ok_or_else(|| {
                NetError::NotFound(format!("{} vanished after creation", request.host_name))
            })?;
            handle
                .link()
                .set_port(LinkBridgePort::new(index).hairpin(true).build())
                .execute()
                .await
                .map_err(|err| {
                    NetError::netlink(format!("hairpin mode on {}", request.host_name), err)
                })
        };
        let inside = match hairpin.await {
            Err(err) => Err(err),
            Ok(()) => {
                with_handle_in(netns, {
                    let ifname = request.ifname.clone();
                    let (address, gateway) = (request.address, request.gateway);
                    move |handle| configure_inside(handle, ifname, address, gateway)
                })
                .await
            }
        };
        if let Err(err) = inside {
            // Leave nothing: the host end takes the peer with it.
            if let Ok(Some(index)) = index_of(handle, &request.host_name).await {
                let _ = delete_index(handle, index, &request.host_name).await;
            }
            return Err(err);
        }
        Ok(())
    }

    async fn loopback_up(&self, netns: NetnsRef) -> Result<()> {
        with_handle_in(netns.open()?, |handle| async move {
            if let Some(lo) = index_of(&handle, "lo").await? {
                set_up(&handle, lo, "lo").await?;
            }
            Ok(())
        })
        .await
    }

    async fn delete_link(&self, name: &str) -> Result<()> {
        match index_of(&self.handle, name).await? {
            Some(index) => delete_index(&self.handle, index, name).await,
            None => Ok(()),
        }
    }

    async fn list_links(&self) -> Result<Vec<LinkInfo>> {
        let mut stream = self.handle.link().get().execute();
        let mut links = Vec::new();
        while let Some(message) = stream
            .try_next()
            .await
            .map_err(|err| NetError::netlink("listing links", err))?
        {
            links.extend(link_info(&message));
        }
        Ok(links)
    }

    async fn routes(&self) -> Result<Vec<Ipv4Net>> {
        let query = RouteMessageBuilder::<Ipv4Addr>::new().build();
        let mut stream = self.handle.route().get(query).execute();
        let mut routes = Vec::new();
        while let Some(message) = stream
            .try_next()
            .await
            .map_err(|err| NetError::netlink("listing routes", err))?
        {
            routes.extend(route_destination(&message));
        }
        Ok(routes)
    }
}
