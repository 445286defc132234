//! The contents of a container's `/etc/resolv.conf`, `/etc/hosts` and `/etc/hostname`, as
//! Docker writes them. Pure functions: the engine reads the host's files and writes the
//! results where the container will see them.

use std::net::{IpAddr, Ipv4Addr};

use crate::error::{NetError, Result};

/// Docker's fallback when the host has no usable resolver (only loopback ones).
const DEFAULT_SERVERS: [&str; 2] = ["8.8.8.8", "8.8.4.4"];

/// `--dns`, `--dns-search`, `--dns-option`; empty lists mean "as the host has it".
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct DnsSettings {
    pub servers: Vec<String>,
    pub search: Vec<String>,
    pub options: Vec<String>,
}

/// Every nameserver of a resolv.conf (an IPv6 zone index dropped), loopback ones included:
/// the daemon, in the host's namespace, reaches those too.
pub fn nameservers(resolv_conf: &str) -> Vec<IpAddr> {
    lines_with(resolv_conf, "nameserver")
        .filter_map(|value| value.split('%').next()?.parse::<IpAddr>().ok())
        .collect()
}

/// The nameservers of a resolv.conf that a container can reach: loopback ones (a resolver on
/// the host's 127.0.0.53, say) mean nothing in another network namespace.
pub fn usable_nameservers(resolv_conf: &str) -> Vec<IpAddr> {
    nameservers(resolv_conf)
        .into_iter()
        .filter(|ip| !ip.is_loopback())
        .collect()
}

/// Where the embedded DNS of a user network forwards a container's other names: its
/// `--dns` servers if given, else the host's usable ones.
pub fn upstream_servers(host_resolv_conf: &str, settings: &DnsSettings) -> Vec<IpAddr> {
    if settings.servers.is_empty() {
        usable_nameservers(host_resolv_conf)
    } else {
        settings
            .servers
            .iter()
            .filter_map(|s| s.parse().ok())
            .collect()
    }
}

/// A container's resolv.conf. `embedded` is the address of the network's embedded DNS (its
/// gateway) on user networks: then it is the only nameserver, and the real servers are its
/// upstreams. On the default bridge: the host's file minus loopback resolvers, or one built
/// from the flags, with Docker's fallback servers if nothing usable is left.
pub fn resolv_conf(host: &str, settings: &DnsSettings, embedded: Option<Ipv4Addr>) -> String {
    let search = if settings.search.is_empty() {
        lines_with(host, "search")
            .flat_map(str::split_whitespace)
            .map(String::from)
            .collect()
    } else {
        settings.search.clone()
    };
    let mut options: Vec<String> = if settings.options.is_empty() {
        lines_with(host, "options")
            .flat_map(str::split_whitespace)
            .map(String::from)
            .collect()
    } else {
        settings.options.clone()
    };

    if let Some(gateway) = embedded {
        // Docker's embedded-DNS file: names of the network must not be tried with the
        // search domains first.
        if !options.iter().any(|o| o.starts_with("ndots:")) {
            options.push("ndots:0".to_string());
        }
        return build(&search, &[gateway.to_string()], &options);
    }

    if settings == &DnsSettings::default() {
        return filter_loopback(host);
    }
    let servers: Vec<String> = if settings.servers.is_empty() {
        with_fallback(
            usable_nameservers(host)
                .iter()
                .map(ToString::to_string)
                .collect(),
        )
    } else {
        settings.servers.clone()
    };
    build(&search, &servers, &options)
}

fn with_fallback(servers: Vec<String>) -> Vec<String> {
    if servers.is_empty() {
        DEFAULT_SERVERS.iter().map(|s| s.to_string()).collect()
    } else {
        servers
    }
}

/// The host's file with loopback nameservers removed; Docker's fallback servers appended if
/// none is left.
fn filter_loopback(host: &str) -> String {
    let mut out = String::new();
    for line in host.lines() {
        let mut words = line.split_whitespace();
        let loopback = words.next() == Some("nameserver")
            && words
                .next()
                .and_then(|v| v.split('%').next()?.parse::<IpAddr>().ok())
                .is_some_and(|ip| ip.is_loopback());
        if !loopback {
            out.push_str(line);
            out.push('\n');
        }
    }
    if usable_nameservers(host).is_empty() {
        for server in DEFAULT_SERVERS {
            out.push_str(&format!("nameserver {server}\n"));
        }
    }
    out
}

fn build(search: &[String], servers: &[String], options: &[String]) -> String {
    let mut out = String::new();
    let search = search.join(" ");
    if !search.trim().is_empty() && search.trim() != "." {
        out.push_str(&format!("search {search}\n"));
    }
    for server in servers {
        out.push_str(&format!("nameserver {server}\n"));
    }
    if !options.is_empty() {
        out.push_str(&format!("options {}\n", options.join(" ")));
    }
    out
}

/// The values of lines starting with `key` (comments and other lines skipped).
fn lines_with<'a>(text: &'a str, key: &'a str) -> impl Iterator<Item = &'a str> + 'a {
    text.lines().filter_map(move |line| {
        let line = line.trim_start();
        let rest = line.strip_prefix(key)?;
        rest.starts_with([' ', '\t']).then(|| rest.trim())
    })
}

/// One `--add-host` entry, parsed from `host:ip` (ExtraHosts as the API carries them).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ExtraHost {
    pub name: String,
    pub ip: String,
}

/// `name:ip`, where `ip` may be an IPv6 address (the first colon splits) or `host-gateway`,
/// which stands for `host_gateway` (the default bridge's gateway).
pub fn parse_extra_host(entry: &str, host_gateway: Option<Ipv4Addr>) -> Result<ExtraHost> {
    let invalid = || {
        NetError::InvalidArgument(format!(
            "invalid argument {entry:?} for \"--add-host\" flag: bad format for add-host: {entry:?}"
        ))
    };
    let (name, ip) = entry.split_once(':').ok_or_else(invalid)?;
    if name.is_empty() || ip.is_empty() {
        return Err(invalid());
    }
    let ip = if ip == "host-gateway" {
        host_gateway
            .ok_or_else(|| {
                NetError::InvalidArgument(
                    "unable to derive the IP value for host-gateway".to_string(),
                )
            })?
            .to_string()
    } else {
        let bare = ip.trim_start_matches('[').trim_end_matches(']');
        bare.parse::<IpAddr>().map_err(|_| {
            NetError::InvalidArgument(format!(
                "invalid argument {entry:?} for \"--add-host\" flag: invalid IP address in add-host: {ip:?}"
            ))
        })?;
        bare.to_string()
    };
    Ok(ExtraHost {
        name: name.to_string(),
        ip,
    })
}

/// A container's /etc/hosts: Docker's default lines, the `--add-host` entries, then the
/// container's own address with its hostname (and `hostname.domainname` before it when a
/// domain is set). `own_ip` is `None` without a network (`--network none`).
pub fn hosts(
    hostname: &str,
    domainname: &str,
    own_ip: Option<IpAddr>,
    extra: &[ExtraHost],
) -> String {
    let mut out = String::from(
        "127.0.0.1\tlocalhost\n\
         ::1\tlocalhost ip6-localhost ip6-loopback\n\
         fe00::0\tip6-localnet\n\
         ff00::0\tip6-mcastprefix\n\
         ff02::1\tip6-allnodes\n\
         ff02::2\tip6-allrouters\n",
    );
    for host in extra {
        out.push_str(&format!("{}\t{}\n", host.ip, host.name));
    }
    if let Some(ip) = own_ip {
        if domainname.is_empty() {
            out.push_str(&format!("{ip}\t{hostname}\n"));
        } else {
            out.push_str(&format!("{ip}\t{hostname}.{domainname} {hostname}\n"));
        }
    }
    out
}

/// /etc/hostname: the hostname and a newline.
pub fn hostname_file(hostname: &str) -> String {
    format!("{hostname}\n")
}

#[cfg(test)]
mod tests {
    use super::*;

    const HOST: &str = "# generated\nnameserver 127.0.0.53\nnameserver 10.0.0.2\nsearch corp.example lan\noptions edns0 trust-ad\n";

    #[test]
    fn nameservers_keep_loopback_and_drop_zones() {
        let conf =
            "# x\nnameserver 127.0.0.53\nnameserver fe80::1%eth0\nsearch lan\nnameserver nope\n";
        let all: Vec<String> = nameservers(conf).iter().map(|ip| ip.to_string()).collect();
        assert_eq!(all, ["127.0.0.53", "fe80::1"]);
        let usable: Vec<String> = usable_nameservers(conf)
            .iter()
            .map(|ip| ip.to_string())
            .collect();
        assert_eq!(usable, ["fe80::1"]);
    }

    #[test]
    fn default_bridge_filters_loopback() {
        let file = resolv_conf(HOST, &DnsSettings::default(), None);
        assert_eq!(
            file,
            "# generated\nnameserver 10.0.0.2\nsearch corp.example lan\noptions edns0 trust-ad\n"
        );
        let only_local = "nameserver 127.0.0.53\nnameserver ::1\n";
        assert_eq!(
            resolv_conf(only_local, &DnsSettings::default(), None),
            "nameserver 8.8.8.8\nnameserver 8.8.4.4\n"
        );
    }

    #[test]
    fn flags_replace_parts() {
        let settings = DnsSettings {
            servers: vec!["9.9.9.9".into()],
            ..Default::default()
        };
        assert_eq!(
            resolv_conf(HOST, &settings, None),
            "search corp.example lan\nnameserver 9.9.9.9\noptions edns0 trust-ad\n"
        );
        let settings = DnsSettings {
            search: vec![".".into()],
            options: vec!["ndots:2".into()],
            ..Default::default()
        };
        assert_eq!(
            resolv_conf(HOST, &settings, None),
            "nameserver 10.0.0.2\noptions ndots:2\n"
        );
    }

    #[test]
    fn embedded_dns_points_at_the_gateway() {
        let file = resolv_conf(
            HOST,
            &DnsSettings::default(),
            Some(Ipv4Addr::new(172, 18, 0, 1)),
        );
        assert_eq!(
            file,
            "search corp.example lan\nnameserver 172.18.0.1\noptions edns0 trust-ad ndots:0\n"
        );
        let settings = DnsSettings {
            servers: vec!["9.9.9.9".into()],
            ..Default::default()
        };
        assert_eq!(
            upstream_servers(HOST, &settings),
            vec!["9.9.9.9".parse::<IpAddr>().unwrap()]
        );
        assert_eq!(
            upstream_servers(HOST, &DnsSettings::default()),
            vec!["10.0.0.2".parse::<IpAddr>().unwrap()]
        );
    }

    #[test]
    fn hosts_file() {
        let extra = [
            parse_extra_host("db:10.0.0.9", None).unwrap(),
            parse_extra_host("v6:::1", None).unwrap(),
            parse_extra_host("gw:host-gateway", Some(Ipv4Addr::new(172, 17, 0, 1))).unwrap(),
        ];
        let file = hosts("abc123", "", Some("172.17.0.2".parse().unwrap()), &extra);
        assert!(
            file.starts_with("127.0.0.1\tlocalhost\n::1\tlocalhost ip6-localhost ip6-loopback\n")
        );
        assert!(
            file.ends_with("10.0.0.9\tdb\n::1\tv6\n172.17.0.1\tgw\n172.17.0.2\tabc123\n"),
            "{file}"
        );
        let with_domain = hosts("web", "example.com", Some("10.0.0.3".parse().unwrap()), &[]);
        assert!(with_domain.ends_with("10.0.0.3\tweb.example.com web\n"));
        assert!(!hosts("web", "", None, &[]).contains("web"));
        assert_eq!(hostname_file("web"), "web\n");
    }

    #[test]
    fn bad_extra_hosts() {
        assert!(parse_extra_host("nocolon", None).is_err());
        assert!(parse_extra_host("db:nonsense", None).is_err());
        assert!(parse_extra_host("gw:host-gateway", None).is_err());
    }
}
