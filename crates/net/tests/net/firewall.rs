//! Published ports: from the host's 127.0.0.1, from other namespaces, UDP, host IP binding,
//! random ports, hairpin, a port that is taken, and removal.

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
