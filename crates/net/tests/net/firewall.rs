//! Published ports: from the host's 127.0.0.1, from other namespaces, UDP, host IP binding,
//! random ports, hairpin, a port that is taken, and removal. Isolation between networks.

use std::net::Ipv4Addr;

use net::ports::{EndpointLabel, parse_port_spec, publish};
use net::{ErrorKind, PublishedPort};

use super::support::*;

fn resolve(
    specs: &[&str],
    label: EndpointLabel<'_>,
) -> (Vec<PublishedPort>, net::ports::PortReservation) {
    let requests: Vec<_> = specs
        .iter()
        .flat_map(|s| parse_port_spec(s).unwrap())
        .collect();
    publish(&requests, label).unwrap()
}

#[test]
fn published_ports_answer_from_everywhere_and_go_with_their_container() {
    if !privileged("published_ports_answer_from_everywhere") {
        return;
    }
    let host = Host::new();
    let (web, neighbour) = (Netns::new(), Netns::new());
    host.block_on("piertest", move |driver| async move {
        let net = network("bridge", "pier0", "172.30.10.0/24", false);
        let gateway = net.gateway;
        driver.create_network(&net).await.unwrap();
        let label = EndpointLabel { name: "web", id: "web-id" };
        let (ports, reservation) = resolve(&["8080:80", "127.0.0.1:5353:53/udp", "80", "9000-9001:90-91"], label);
        let random = ports[2].host_port;
        assert!(random >= 1024 && random != 8080, "{ports:?}");
        let web_endpoint = endpoint(&net, "web", 2, ports);
        let neighbour_endpoint = endpoint(&net, "neighbour", 3, vec![]);
        driver.connect(&net, &web_endpoint, web.as_ref(), true).await.unwrap();
        driver.connect(&net, &neighbour_endpoint, neighbour.as_ref(), true).await.unwrap();
        let _tcp = TcpServer::start(&web, 80, "web");
        let _tcp91 = TcpServer::start(&web, 91, "web:91");
        let _udp = UdpServer::start(&web, 53, "dns");

        // From the host itself, on loopback and on the gateway address.
        assert_eq!(tcp_fetch(addr(Ipv4Addr::LOCALHOST, 8080)).unwrap(), "web");
        assert_eq!(tcp_fetch(addr(gateway, 8080)).unwrap(), "web");
        assert_eq!(tcp_fetch(addr(Ipv4Addr::LOCALHOST, random)).unwrap(), "web");
        assert_eq!(tcp_fetch(addr(Ipv4Addr::LOCALHOST, 9001)).unwrap(), "web:91");
        assert_eq!(udp_ask(addr(Ipv4Addr::LOCALHOST, 5353)).unwrap(), "dns");
        // From another namespace (prerouting).
        let reply = neighbour.run(move || tcp_fetch(addr(gateway, 8080)));
        assert_eq!(reply.unwrap(), "web");
        // Bound to 127.0.0.1 only: not on the gateway address.
        assert!(neighbour.run(move || udp_ask(addr(gateway, 5353))).is_err());
        // Hairpin: the container reaches its own published port through the host.
        let reply = web.run(move || tcp_fetch(addr(gateway, 8080)));
        assert_eq!(reply.unwrap(), "web");

        // A port some process holds is refused in Docker's words; nothing changes.
        let holder = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let taken = holder.local_addr().unwrap().port();
        let before = run(&["nft", "list", "table", "ip", "piertest"]);
        let spec = format!("127.0.0.1:{taken}:80");
        let err = publish(&parse_port_spec(&spec).unwrap(), label).unwrap_err();
        assert_eq!(err.kind(), ErrorKind::Conflict);
        assert_eq!(
            err.to_string(),
            format!("driver failed programming external connectivity on endpoint web (web-id): Bind for 127.0.0.1:{taken} failed: port is already allocated")
        );
        // And one pier holds for a container too.
        assert!(publish(&parse_port_spec("8080:80").unwrap(), label).is_err());
        assert_eq!(run(&["nft", "list", "table", "ip", "piertest"]), before);

        // Removal: the rules go, the rest of the table stays.
        driver.disconnect(&web_endpoint).await.unwrap();
        drop(reservation);
        assert!(tcp_fetch(addr(Ipv4Addr::LOCALHOST, 8080)).is_err());
        let table = run(&["nft", "list", "table", "ip", "piertest"]);
        assert!(!table.contains("ctr-") && !table.contains("dnat to"), "{table}");
        assert!(table.contains("masquerade"), "{table}");
        driver.disconnect(&neighbour_endpoint).await.unwrap();
        driver.remove_network(&net).await.unwrap();
    });
}

/// The forward rules carrying `comment` and the elements of the `bridges` set, from
/// `nft -j list table ip <table>`.
fn isolation_state(table: &str) -> (Vec<String>, Vec<serde_json::Value>) {
    let listing: serde_json::Value =
        serde_json::from_str(&run(&["nft", "-j", "list", "table", "ip", table])).unwrap();
    let objects = listing["nftables"].as_array().unwrap();
    let mut bridges: Vec<String> = objects
        .iter()
        .filter(|o| o["set"]["name"] == "bridges")
        .flat_map(|o| o["set"]["elem"].as_array().cloned().unwrap_or_default())
        .map(|e| e.as_str().unwrap().to_string())
        .collect();
    bridges.sort();
    let forward = objects
        .iter()
        .filter(|o| o["rule"]["chain"] == "forward")
        .map(|o| o["rule"].clone())
        .collect();
    (bridges, forward)
}

fn drops_to_bridges(rules: &[serde_json::Value], bridge: &str) -> usize {
    let comment = format!("net {bridge}");
    rules
        .iter()
        .filter(|r| r["comment"] == comment.as_str())
        .filter(|r| {
            let expr = r["expr"].to_string();
            expr.contains(r#""right":"@bridges""#) && expr.contains(r#"{"drop":null}"#)
        })
        .count()
}

#[test]
fn networks_are_isolated_from_each_other_but_not_from_the_rest() {
    if !privileged("networks_are_isolated_from_each_other") {
        return;
    }
    let host = Host::new();
    let (a1, a2, b1, world) = (Netns::new(), Netns::new(), Netns::new(), Netns::new());
    host.block_on("pierisolation", move |driver| async move {
        let (a, b) = (
            network("isoa", "br-isoa", "172.30.20.0/24", false),
            network("isob", "br-isob", "172.30.21.0/24", false),
        );
        // Creating twice must leave one rule and one element per network.
        for net in [&a, &b, &a, &b] {
            driver.create_network(net).await.unwrap();
        }
        // The host's "other interface": a bridge pier does not own, to a namespace that
        // stands for the world beyond the host.
        run(&["ip", "link", "add", "up0", "type", "bridge"]);
        run(&["ip", "addr", "add", "10.99.0.1/24", "dev", "up0"]);
        run(&["ip", "link", "set", "up0", "up"]);
        let outside = network("outside", "up0", "10.99.0.0/24", false);
        let world_endpoint = endpoint(&outside, "world", 2, vec![]);
        driver
            .connect(&outside, &world_endpoint, world.as_ref(), true)
            .await
            .unwrap();

        let label = EndpointLabel {
            name: "a1",
            id: "a1-id",
        };
        let (ports, reservation) = resolve(&["8081:80"], label);
        let endpoints = [
            (endpoint(&a, "a1", 2, ports), &a, a1.clone()),
            (endpoint(&a, "a2", 3, vec![]), &a, a2.clone()),
            (endpoint(&b, "b1", 2, vec![]), &b, b1.clone()),
        ];
        for (endpoint, net, ns) in &endpoints {
            driver
                .connect(net, endpoint, ns.as_ref(), true)
                .await
                .unwrap();
        }
        let _a1 = TcpServer::start(&a1, 80, "a1");
        let _b1 = TcpServer::start(&b1, 80, "b1");
        let _world = TcpServer::start(&world, 80, "world");
        let (a1_ip, b1_ip) = (Ipv4Addr::new(172, 30, 20, 2), Ipv4Addr::new(172, 30, 21, 2));

        // Within a bridge: yes.
        assert_eq!(a2.run(move || tcp_fetch(addr(a1_ip, 80))).unwrap(), "a1");
        // From one network to another, either way: no.
        let across = b1.run(move || tcp_fetch(addr(a1_ip, 80)));
        assert!(across.is_err(), "b1 reached a1: {across:?}");
        let across = a2.run(move || tcp_fetch(addr(b1_ip, 80)));
        assert!(across.is_err(), "a2 reached b1: {across:?}");
        // A published port on a host address: yes, from the other network too.
        let published = b1.run(move || tcp_fetch(addr(Ipv4Addr::new(172, 30, 21, 1), 8081)));
        assert_eq!(published.unwrap(), "a1");
        // Out through the host's other interfaces (masqueraded), and back in via a port.
        let out = b1.run(|| tcp_fetch(addr(Ipv4Addr::new(10, 99, 0, 2), 80)));
        assert_eq!(out.unwrap(), "world");
        let inbound = world.run(|| tcp_fetch(addr(Ipv4Addr::new(10, 99, 0, 1), 8081)));
        assert_eq!(inbound.unwrap(), "a1");

        // Another daemon's table: its own set, untouched by ours and not touching ours.
        let other =
            net::firewall::NatTable::new(net::firewall::NftBinary::default(), "pierisolation2");
        other
            .ensure_network(&network("theirs", "br-theirs", "172.30.22.0/24", false))
            .unwrap();

        let (bridges, forward) = isolation_state("pierisolation");
        assert_eq!(bridges, ["br-isoa", "br-isob"]);
        assert_eq!(drops_to_bridges(&forward, "br-isoa"), 1, "{forward:?}");
        assert_eq!(drops_to_bridges(&forward, "br-isob"), 1, "{forward:?}");
        assert_eq!(forward.len(), 2, "{forward:?}");

        // Removing a network takes its element and rule, and nothing else.
        driver.disconnect(&endpoints[2].0).await.unwrap();
        driver.remove_network(&b).await.unwrap();
        driver.remove_network(&b).await.unwrap();
        let (bridges, forward) = isolation_state("pierisolation");
        assert_eq!(bridges, ["br-isoa"]);
        assert_eq!(drops_to_bridges(&forward, "br-isoa"), 1, "{forward:?}");
        assert_eq!(forward.len(), 1, "{forward:?}");
        let (theirs, their_forward) = isolation_state("pierisolation2");
        assert_eq!(theirs, ["br-theirs"]);
        assert_eq!(drops_to_bridges(&their_forward, "br-theirs"), 1);
        // The network that is left still works.
        assert_eq!(a2.run(move || tcp_fetch(addr(a1_ip, 80))).unwrap(), "a1");

        for (endpoint, _, _) in &endpoints[..2] {
            driver.disconnect(endpoint).await.unwrap();
        }
        drop(reservation);
        driver.disconnect(&world_endpoint).await.unwrap();
        driver.remove_network(&a).await.unwrap();
        run(&["ip", "link", "del", "up0"]);
        driver.table().delete().unwrap();
        other.delete().unwrap();
        let tables = run(&["nft", "list", "tables"]);
        assert!(!tables.contains("pierisolation"), "{tables}");
    });
}
