//! Bridges and veths: containers reach each other, --internal keeps traffic in, teardown and
//! reconciliation leave nothing behind.

use std::net::Ipv4Addr;

use super::support::*;

#[test]
fn containers_on_a_bridge_reach_each_other_and_teardown_leaves_nothing() {
    if !privileged("containers_on_a_bridge_reach_each_other") {
        return;
    }
    let host = Host::new();
    let (c1, c2) = (Netns::new(), Netns::new());
    host.block_on("piertest", move |driver| async move {
        let net = network("bridge", "pier0", "172.30.0.0/24", false);
        driver.create_network(&net).await.unwrap();
        driver.create_network(&net).await.unwrap();
        let routes = driver.host_routes().await.unwrap();
        assert!(routes.contains(&net.subnet), "{routes:?}");
        let (e1, e2) = (
            endpoint(&net, "c1", 2, vec![]),
            endpoint(&net, "c2", 3, vec![]),
        );
        driver.connect(&net, &e1, c1.as_ref(), true).await.unwrap();
        driver.connect(&net, &e2, c2.as_ref(), true).await.unwrap();

        let inside = c1.run(|| {
            run(&["ip", "-o", "addr", "show", "eth0"])
                + &run(&["ip", "route"])
                + &run(&["ip", "-o", "link"])
        });
        assert!(inside.contains("inet 172.30.0.2/24"), "{inside}");
        assert!(
            inside.contains("default via 172.30.0.1 dev eth0"),
            "{inside}"
        );
        assert!(inside.contains("link/ether 02:42:ac:1e:00:02"), "{inside}");
        assert!(inside.contains("lo: <LOOPBACK,UP,LOWER_UP>"), "{inside}");
        let on_host = run(&["ip", "-o", "link", "show", "master", "pier0"]);
        assert!(
            on_host.contains(&e1.host_veth) && on_host.contains(&e2.host_veth),
            "{on_host}"
        );
        assert_eq!(
            run(&["sysctl", "-n", "net.ipv4.conf.pier0.route_localnet"]).trim(),
            "1"
        );
        assert_eq!(run(&["sysctl", "-n", "net.ipv4.ip_forward"]).trim(), "1");

        let server = TcpServer::start(&c1, 80, "hello from c1");
        let reply = c2.run(|| tcp_fetch(addr(Ipv4Addr::new(172, 30, 0, 2), 80)));
        assert_eq!(reply.unwrap(), "hello from c1");
        assert_eq!(
            tcp_fetch(addr(Ipv4Addr::new(172, 30, 0, 2), 80)).unwrap(),
            "hello from c1"
        );
        drop(server);
        // No published ports: no per-container chain.
        assert!(!run(&["nft", "list", "table", "ip", "piertest"]).contains("ctr-"));

        // Connecting again replaces the first attempt's link.
        driver.connect(&net, &e2, c2.as_ref(), true).await.unwrap();

        driver.disconnect(&e1).await.unwrap();
        driver.disconnect(&e2).await.unwrap();
        driver.disconnect(&e2).await.unwrap();
        driver.remove_network(&net).await.unwrap();
        driver.remove_network(&net).await.unwrap();
        let links = run(&["ip", "-o", "link"]);
        assert!(
            !links.contains("pier0") && !links.contains("veth"),
            "{links}"
        );
        assert!(!run(&["ip", "-o", "addr"]).contains("172.30.0.1"));
        let table = run(&["nft", "-a", "list", "table", "ip", "piertest"]);
        assert!(
            !table.contains("comment \"net ") && !table.contains("comment \"ctr "),
            "{table}"
        );
        assert!(!c1.run(|| run(&["ip", "-o", "link"])).contains("eth0"));
    });
}

#[test]
fn internal_network_keeps_traffic_on_its_bridge() {
    if !privileged("internal_network_keeps_traffic_on_its_bridge") {
        return;
    }
    let host = Host::new();
    let (web, outside_client, inside1, inside2) =
        (Netns::new(), Netns::new(), Netns::new(), Netns::new());
    host.block_on("piertest", move |driver| async move {
        let open = network("open", "br-open", "172.30.1.0/24", false);
        let other = network("other", "br-other", "172.30.3.0/24", false);
        let internal = network("secret", "br-secret", "172.30.2.0/24", true);
        for net in [&open, &other, &internal] {
            driver.create_network(net).await.unwrap();
        }
        let endpoints = [
            (endpoint(&open, "web", 2, vec![]), &open, web.clone()),
            (
                endpoint(&other, "client", 2, vec![]),
                &other,
                outside_client.clone(),
            ),
            (
                endpoint(&internal, "in1", 2, vec![]),
                &internal,
                inside1.clone(),
            ),
            (
                endpoint(&internal, "in2", 3, vec![]),
                &internal,
                inside2.clone(),
            ),
        ];
        for (endpoint, net, ns) in &endpoints {
            driver
                .connect(net, endpoint, ns.as_ref(), true)
                .await
                .unwrap();
        }
        let _web = TcpServer::start(&web, 80, "web");
        let _in2 = TcpServer::start(&inside2, 80, "in2");

        // Across bridges between normal networks: isolated as well (see firewall.rs).
        let across = outside_client.run(|| tcp_fetch(addr(Ipv4Addr::new(172, 30, 1, 2), 80)));
        assert!(across.is_err(), "one network reached another: {across:?}");
        // From the internal network: within the bridge yes, out of it no.
        let reply = inside1.run(|| tcp_fetch(addr(Ipv4Addr::new(172, 30, 2, 3), 80)));
        assert_eq!(reply.unwrap(), "in2");
        let escape = inside1.run(|| tcp_fetch(addr(Ipv4Addr::new(172, 30, 1, 2), 80)));
        assert!(
            escape.is_err(),
            "an internal network reached out: {escape:?}"
        );
        let into = outside_client.run(|| tcp_fetch(addr(Ipv4Addr::new(172, 30, 2, 3), 80)));
        assert!(
            into.is_err(),
            "an internal network was reached from outside: {into:?}"
        );
        // Docker still gives internal containers a default route.
        assert!(
            inside1
                .run(|| run(&["ip", "route"]))
                .contains("default via 172.30.2.1")
        );
        let table = run(&["nft", "list", "table", "ip", "piertest"]);
        assert!(
            !table.contains("172.30.2.0/24"),
            "no masquerade for internal: {table}"
        );

        for (endpoint, _, _) in &endpoints {
            driver.disconnect(endpoint).await.unwrap();
        }
        for net in [&open, &other, &internal] {
            driver.remove_network(net).await.unwrap();
        }
        let table = run(&["nft", "-a", "list", "table", "ip", "piertest"]);
        assert!(
            !table.contains("comment \"net ") && !table.contains("comment \"ctr "),
            "{table}"
        );
    });
}

#[test]
fn reconcile_deletes_orphan_veths_and_rebuilds_only_its_table() {
    if !privileged("reconcile_deletes_orphan_veths") {
        return;
    }
    let host = Host::new();
    let (c1, c2) = (Netns::new(), Netns::new());
    host.block_on("piertest", move |driver| async move {
        let net = network("bridge", "pier0", "172.30.4.0/24", false);
        driver.create_network(&net).await.unwrap();
        let requests = net::ports::parse_port_spec("127.0.0.1:18080:80").unwrap();
        let label = net::ports::EndpointLabel {
            name: "c1",
            id: "c1-id",
        };
        let (ports, reservation) = net::ports::publish(&requests, label).unwrap();
        let e1 = endpoint(&net, "c1", 2, ports);
        let e2 = endpoint(&net, "c2", 3, vec![]);
        driver.connect(&net, &e1, c1.as_ref(), true).await.unwrap();
        driver.connect(&net, &e2, c2.as_ref(), true).await.unwrap();
        let _server = TcpServer::start(&c1, 80, "c1");

        // Another daemon's table beside ours.
        let other = net::firewall::NatTable::new(net::firewall::NftBinary::default(), "pierother");
        let other_net = network("theirs", "br-theirs", "172.30.99.0/24", false);
        other.ensure_network(&other_net).unwrap();

        // A crash forgot c2; a stray rule sits in our table.
        run(&[
            "nft", "add", "rule", "ip", "piertest", "ports", "tcp", "dport", "9999", "counter",
            "comment", "stray",
        ]);
        let report = driver
            .reconcile(std::slice::from_ref(&net), std::slice::from_ref(&e1))
            .await;
        assert!(report.errors.is_empty(), "{:?}", report.errors);
        assert_eq!(report.deleted_veths, vec![e2.host_veth.clone()]);
        let table = run(&["nft", "list", "table", "ip", "piertest"]);
        assert!(
            !table.contains("stray") && table.contains("ctr-c1-id"),
            "{table}"
        );
        assert!(run(&["nft", "list", "table", "ip", "pierother"]).contains("172.30.99.0/24"));
        // The rebuilt rules carry traffic.
        assert_eq!(tcp_fetch(addr(Ipv4Addr::LOCALHOST, 18080)).unwrap(), "c1");
        // Reconciling again changes nothing.
        let again = driver
            .reconcile(std::slice::from_ref(&net), std::slice::from_ref(&e1))
            .await;
        assert!(again.errors.is_empty() && again.deleted_veths.is_empty());
        // The reservation is not on the data path: with the daemon (and its sockets) gone,
        // the port still answers.
        drop(reservation);
        assert_eq!(tcp_fetch(addr(Ipv4Addr::LOCALHOST, 18080)).unwrap(), "c1");
    });
}
