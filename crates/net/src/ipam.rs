//! IP address management, as pure logic over state the caller supplies (the engine owns the
//! records): which subnet a new network gets, its gateway, and which address a container
//! gets on it. Docker's default pools and Docker's error texts.

use std::collections::HashSet;
use std::net::Ipv4Addr;
use std::str::FromStr;

use ipnet::Ipv4Net;

use crate::error::{NetError, Result};

/// A pool that subnets are carved from: `base` cut into slices of prefix length `size`
/// (dockerd's `--default-address-pool base=...,size=...`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AddressPool {
    pub base: Ipv4Net,
    pub size: u8,
}

impl AddressPool {
    /// The pool's subnets in order.
    pub fn subnets(&self) -> impl Iterator<Item = Ipv4Net> + '_ {
        self.base.trunc().subnets(self.size).into_iter().flatten()
    }
}

impl FromStr for AddressPool {
    type Err = NetError;

    /// `base=10.10.0.0/16,size=24`, as dockerd's `--default-address-pool` takes it.
    fn from_str(text: &str) -> Result<Self> {
        let invalid = |why: &str| {
            NetError::InvalidArgument(format!("invalid default address pool {text:?}: {why}"))
        };
        let mut base = None;
        let mut size = None;
        for field in text.split(',') {
            match field.split_once('=') {
                Some(("base", value)) => {
                    base = Some(
                        value
                            .parse::<Ipv4Net>()
                            .map_err(|_| invalid("base is not an IPv4 CIDR"))?,
                    )
                }
                Some(("size", value)) => {
                    size = Some(
                        value
                            .parse::<u8>()
                            .map_err(|_| invalid("size is not a number"))?,
                    )
                }
                _ => return Err(invalid("expected base=CIDR,size=N")),
            }
        }
        let base = base.ok_or_else(|| invalid("missing base"))?;
        let size = size.ok_or_else(|| invalid("missing size"))?;
        if size < base.prefix_len() || size > 30 {
            return Err(invalid(
                "size must be between the base's prefix length and 30",
            ));
        }
        Ok(AddressPool { base, size })
    }
}

/// Docker's built-in pools: 172.17.0.0/16 (the default bridge's), 172.18.0.0/16 ...
/// 172.31.0.0/16, then 192.168.0.0/16 in /20 slices.
pub fn default_pools() -> Vec<AddressPool> {
    vec![
        AddressPool {
            base: Ipv4Net::new_assert(Ipv4Addr::new(172, 17, 0, 0), 16),
            size: 16,
        },
        AddressPool {
            base: Ipv4Net::new_assert(Ipv4Addr::new(172, 18, 0, 0), 15),
            size: 16,
        },
        AddressPool {
            base: Ipv4Net::new_assert(Ipv4Addr::new(172, 20, 0, 0), 14),
            size: 16,
        },
        AddressPool {
            base: Ipv4Net::new_assert(Ipv4Addr::new(172, 24, 0, 0), 14),
            size: 16,
        },
        AddressPool {
            base: Ipv4Net::new_assert(Ipv4Addr::new(172, 28, 0, 0), 14),
            size: 16,
        },
        AddressPool {
            base: Ipv4Net::new_assert(Ipv4Addr::new(192, 168, 0, 0), 16),
            size: 20,
        },
    ]
}

pub fn overlaps(a: &Ipv4Net, b: &Ipv4Net) -> bool {
    a.contains(&b.network()) || b.contains(&a.network())
}

/// The first subnet of the pools that overlaps neither a route of the host nor another
/// network. Default routes (0.0.0.0/0) overlap everything and are not counted, as in Docker.
pub fn choose_subnet(
    pools: &[AddressPool],
    host_routes: &[Ipv4Net],
    taken: &[Ipv4Net],
) -> Result<Ipv4Net> {
    let routes: Vec<&Ipv4Net> = host_routes.iter().filter(|r| r.prefix_len() > 0).collect();
    pools
        .iter()
        .flat_map(AddressPool::subnets)
        .find(|candidate| {
            !routes.iter().any(|route| overlaps(candidate, route))
                && !taken.iter().any(|other| overlaps(candidate, other))
        })
        .ok_or_else(|| {
            NetError::Unavailable(
                "could not find an available, non-overlapping IPv4 address pool among the defaults to assign to the network"
                    .to_string(),
            )
        })
}

/// `--subnet`: an IPv4 CIDR, normalised to its network address.
pub fn parse_subnet(text: &str) -> Result<Ipv4Net> {
    let subnet = text.parse::<Ipv4Net>().map_err(|_| {
        NetError::InvalidArgument(format!(
            "invalid subnet {text} : invalid CIDR address: {text}"
        ))
    })?;
    if subnet.prefix_len() > 30 {
        return Err(NetError::InvalidArgument(format!(
            "invalid subnet {text} : it leaves no address for containers"
        )));
    }
    Ok(subnet.trunc())
}

/// A subnet the user asked for must not overlap another network of pier's (routes of the
/// host are not checked for requested subnets, as in Docker).
pub fn check_subnet_free(subnet: &Ipv4Net, taken: &[Ipv4Net]) -> Result<()> {
    if taken.iter().any(|other| overlaps(subnet, other)) {
        return Err(NetError::Conflict(
            "Pool overlaps with other one on this address space".to_string(),
        ));
    }
    Ok(())
}

/// The gateway: `--gateway` if given (inside the subnet, not its network or broadcast
/// address), else the subnet's first host address.
pub fn gateway_for(subnet: &Ipv4Net, requested: Option<&str>) -> Result<Ipv4Addr> {
    let Some(text) = requested else {
        return first_host(subnet);
    };
    let gateway: Ipv4Addr = text
        .parse()
        .map_err(|_| NetError::InvalidArgument(format!("invalid gateway address {text}")))?;
    if !subnet.contains(&gateway) || gateway == subnet.network() || gateway == subnet.broadcast() {
        return Err(NetError::InvalidArgument(format!(
            "no matching subnet for gateway {text}"
        )));
    }
    Ok(gateway)
}

fn first_host(subnet: &Ipv4Net) -> Result<Ipv4Addr> {
    subnet
        .hosts()
        .next()
        .ok_or_else(|| NetError::InvalidArgument(format!("invalid subnet {subnet}")))
}

/// An address for a container on a network. `used` holds the addresses its other endpoints
/// have. With `requested` (`--ip`), that address or an error; otherwise the lowest free one.
/// `network_label` is "NAME (ID)" for Docker's exhaustion message.
pub fn allocate_address(
    subnet: &Ipv4Net,
    gateway: Ipv4Addr,
    used: &[Ipv4Addr],
    requested: Option<Ipv4Addr>,
    network_label: &str,
) -> Result<Ipv4Addr> {
    if let Some(ip) = requested {
        if !subnet.contains(&ip) || ip == subnet.network() || ip == subnet.broadcast() {
            return Err(NetError::InvalidArgument(format!(
                "no configured subnet or ip-range contain the IP address {ip}"
            )));
        }
        if ip == gateway || used.contains(&ip) {
            return Err(NetError::Conflict("Address already in use".to_string()));
        }
        return Ok(ip);
    }
    let used: HashSet<Ipv4Addr> = used.iter().copied().collect();
    subnet
        .hosts()
        .find(|ip| *ip != gateway && !used.contains(ip))
        .ok_or_else(|| {
            NetError::Unavailable(format!(
                "no available IPv4 addresses on this network's address pools: {network_label}"
            ))
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn net(text: &str) -> Ipv4Net {
        text.parse().unwrap()
    }

    #[test]
    fn default_pools_in_dockers_order() {
        let subnets: Vec<Ipv4Net> = default_pools()
            .iter()
            .flat_map(|p| p.subnets().collect::<Vec<_>>())
            .collect();
        assert_eq!(subnets[0], net("172.17.0.0/16"));
        assert_eq!(subnets[1], net("172.18.0.0/16"));
        assert_eq!(subnets[14], net("172.31.0.0/16"));
        assert_eq!(subnets[15], net("192.168.0.0/20"));
        assert_eq!(subnets[16], net("192.168.16.0/20"));
        assert_eq!(subnets.last(), Some(&net("192.168.240.0/20")));
        assert_eq!(subnets.len(), 15 + 16);
    }

    #[test]
    fn skips_routed_and_taken_subnets() {
        let pools = default_pools();
        let routes = [net("0.0.0.0/0"), net("172.17.5.0/24")];
        let taken = [net("172.18.0.0/16")];
        assert_eq!(
            choose_subnet(&pools, &routes, &taken).unwrap(),
            net("172.19.0.0/16")
        );
        // A wide host route covering many candidates.
        let routes = [net("172.16.0.0/12")];
        assert_eq!(
            choose_subnet(&pools, &routes, &[]).unwrap(),
            net("192.168.0.0/20")
        );
    }

    #[test]
    fn exhausted_pools() {
        let pools = [AddressPool {
            base: net("10.0.0.0/24"),
            size: 25,
        }];
        let taken = [net("10.0.0.0/25"), net("10.0.0.128/25")];
        let err = choose_subnet(&pools, &[], &taken).unwrap_err();
        assert!(
            err.to_string().starts_with("could not find an available"),
            "{err}"
        );
    }

    #[test]
    fn pool_flag() {
        let pool: AddressPool = "base=10.10.0.0/16,size=24".parse().unwrap();
        assert_eq!(pool.subnets().nth(1), Some(net("10.10.1.0/24")));
        assert!("base=10.10.0.0/16".parse::<AddressPool>().is_err());
        assert!("base=10.10.0.0/16,size=8".parse::<AddressPool>().is_err());
    }

    #[test]
    fn requested_subnets() {
        assert_eq!(parse_subnet("10.1.2.3/16").unwrap(), net("10.1.0.0/16"));
        assert_eq!(
            parse_subnet("300.1.1.1/16").unwrap_err().to_string(),
            "invalid subnet 300.1.1.1/16 : invalid CIDR address: 300.1.1.1/16"
        );
        let err = check_subnet_free(&net("10.1.0.0/24"), &[net("10.1.0.0/16")]).unwrap_err();
        assert_eq!(
            err.to_string(),
            "Pool overlaps with other one on this address space"
        );
        assert!(check_subnet_free(&net("10.2.0.0/24"), &[net("10.1.0.0/16")]).is_ok());
    }

    #[test]
    fn gateways() {
        let subnet = net("10.1.0.0/16");
        assert_eq!(
            gateway_for(&subnet, None).unwrap(),
            Ipv4Addr::new(10, 1, 0, 1)
        );
        assert_eq!(
            gateway_for(&subnet, Some("10.1.2.254")).unwrap(),
            Ipv4Addr::new(10, 1, 2, 254)
        );
        assert_eq!(
            gateway_for(&subnet, Some("10.2.0.1"))
                .unwrap_err()
                .to_string(),
            "no matching subnet for gateway 10.2.0.1"
        );
        assert!(gateway_for(&subnet, Some("nonsense")).is_err());
    }

    #[test]
    fn addresses() {
        let subnet = net("10.1.0.0/29");
        let gateway = Ipv4Addr::new(10, 1, 0, 1);
        let ip = |d| Ipv4Addr::new(10, 1, 0, d);
        assert_eq!(
            allocate_address(&subnet, gateway, &[], None, "n (1)").unwrap(),
            ip(2)
        );
        assert_eq!(
            allocate_address(&subnet, gateway, &[ip(2), ip(4)], None, "n (1)").unwrap(),
            ip(3)
        );
        assert_eq!(
            allocate_address(&subnet, gateway, &[], Some(ip(5)), "n").unwrap(),
            ip(5)
        );
        let taken = allocate_address(&subnet, gateway, &[ip(5)], Some(ip(5)), "n").unwrap_err();
        assert_eq!(taken.to_string(), "Address already in use");
        assert!(allocate_address(&subnet, gateway, &[], Some(gateway), "n").is_err());
        let outside = allocate_address(&subnet, gateway, &[], Some(ip(9)), "n").unwrap_err();
        assert_eq!(
            outside.to_string(),
            "no configured subnet or ip-range contain the IP address 10.1.0.9"
        );
        let full: Vec<Ipv4Addr> = (2..=6).map(ip).collect();
        let err = allocate_address(&subnet, gateway, &full, None, "n (1)").unwrap_err();
        assert_eq!(
            err.to_string(),
            "no available IPv4 addresses on this network's address pools: n (1)"
        );
    }
}
