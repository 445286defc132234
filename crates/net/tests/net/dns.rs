//! The embedded DNS: names of the same network answered, others' not, the rest forwarded to
//! a fake upstream on the test host's 127.0.0.1.

use std::io::{Read, Write};
use std::net::{IpAddr, Ipv4Addr, SocketAddr, TcpStream, UdpSocket};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use hickory_proto::op::{Message, MessageType, OpCode, Query, ResponseCode};
use hickory_proto::rr::rdata::A;
use hickory_proto::rr::{Name, RData, Record, RecordType};
use net::dns::{DnsConfig, DnsServer};

use super::support::*;

fn query(name: &str, kind: RecordType) -> Vec<u8> {
    let mut message = Message::new(0x1234, MessageType::Query, OpCode::Query);
    message.metadata.recursion_desired = true;
    message.add_query(Query::query(Name::from_ascii(name).unwrap(), kind));
    message.to_vec().unwrap()
}

/// (response code, answers as text)
fn outcome(bytes: &[u8]) -> (ResponseCode, Vec<String>) {
    let message = Message::from_vec(bytes).unwrap();
    assert_eq!(message.metadata.id, 0x1234);
    let answers = message.answers.iter().map(|r| r.data.to_string()).collect();
    (message.metadata.response_code, answers)
}

fn ask_udp(server: Ipv4Addr, name: &str, kind: RecordType) -> (ResponseCode, Vec<String>) {
    let socket = UdpSocket::bind("0.0.0.0:0").unwrap();
    socket
        .set_read_timeout(Some(Duration::from_secs(3)))
        .unwrap();
    socket.send_to(&query(name, kind), (server, 53)).unwrap();
    let mut buffer = [0u8; 1500];
    let (length, _) = socket.recv_from(&mut buffer).unwrap();
    outcome(&buffer[..length])
}

fn ask_tcp(server: Ipv4Addr, name: &str) -> (ResponseCode, Vec<String>) {
    let mut stream =
        TcpStream::connect_timeout(&SocketAddr::from((server, 53)), Duration::from_secs(3))
            .unwrap();
    stream
        .set_read_timeout(Some(Duration::from_secs(3)))
        .unwrap();
    let body = query(name, RecordType::A);
    stream
        .write_all(&(body.len() as u16).to_be_bytes())
        .unwrap();
    stream.write_all(&body).unwrap();
    let mut length = [0u8; 2];
    stream.read_exact(&mut length).unwrap();
    let mut answer = vec![0u8; usize::from(u16::from_be_bytes(length))];
    stream.read_exact(&mut answer).unwrap();
    outcome(&answer)
}

/// A fake upstream resolver on 127.0.0.1 of the test host: `example.test.` is 192.0.2.10,
/// everything else NXDOMAIN. Returns how many queries it saw, through the flag's owner.
fn fake_upstream(
    socket: UdpSocket,
    stop: Arc<AtomicBool>,
    seen: Arc<std::sync::atomic::AtomicUsize>,
) {
    socket
        .set_read_timeout(Some(Duration::from_millis(50)))
        .unwrap();
    let deadline = Instant::now() + Duration::from_secs(60);
    let mut buffer = [0u8; 1500];
    while !stop.load(Ordering::Relaxed) && Instant::now() < deadline {
        let Ok((length, peer)) = socket.recv_from(&mut buffer) else {
            continue;
        };
        seen.fetch_add(1, Ordering::Relaxed);
        let Ok(request) = Message::from_vec(&buffer[..length]) else {
            continue;
        };
        let mut response = Message::new(request.metadata.id, MessageType::Response, OpCode::Query);
        response.metadata.recursion_available = true;
        for question in &request.queries {
            response.add_query(question.clone());
            if question.name().to_ascii() == "example.test." {
                let record = Record::from_rdata(
                    question.name().clone(),
                    60,
                    RData::A(A(Ipv4Addr::new(192, 0, 2, 10))),
                );
                response.answers.push(record);
            } else {
                response.metadata.response_code = ResponseCode::NXDomain;
            }
        }
        let _ = socket.send_to(&response.to_vec().unwrap(), peer);
    }
}

#[test]
fn names_resolve_on_their_network_only_and_the_rest_is_forwarded() {
    if !privileged("names_resolve_on_their_network_only") {
        return;
    }
    let host = Host::new();
    let (web, db) = (Netns::new(), Netns::new());
    host.block_on("piertest", move |driver| async move {
        let front = network("front", "br-front", "172.30.20.0/24", false);
        let back = network("back", "br-back", "172.30.21.0/24", false);
        for net in [&front, &back] {
            driver.create_network(net).await.unwrap();
        }
        let mut web_endpoint = endpoint(&front, "web", 2, vec![]);
        web_endpoint.aliases = vec!["www".to_string()];
        let db_endpoint = endpoint(&back, "db", 2, vec![]);
        driver
            .connect(&front, &web_endpoint, web.as_ref(), true)
            .await
            .unwrap();
        driver
            .connect(&back, &db_endpoint, db.as_ref(), true)
            .await
            .unwrap();

        let upstream_socket = UdpSocket::bind("127.0.0.1:0").unwrap();
        let upstream = upstream_socket.local_addr().unwrap();
        let stop = Arc::new(AtomicBool::new(false));
        let seen = Arc::new(std::sync::atomic::AtomicUsize::new(0));
        let fake = std::thread::spawn({
            let (stop, seen) = (stop.clone(), seen.clone());
            move || fake_upstream(upstream_socket, stop, seen)
        });

        let dns = DnsServer::new(DnsConfig {
            upstreams: vec![upstream],
            upstream_timeout: Duration::from_secs(1),
            ..DnsConfig::default()
        });
        for net in [&front, &back] {
            dns.add_network(net).unwrap();
            dns.add_network(net).unwrap();
        }
        dns.set_endpoint(&web_endpoint);
        dns.set_endpoint(&db_endpoint);
        let (front_gw, back_gw) = (front.gateway, back.gateway);

        let answers = web.run(move || {
            vec![
                ask_udp(front_gw, "web.", RecordType::A),
                ask_udp(front_gw, "WWW.front.", RecordType::A),
                ask_udp(front_gw, "db.", RecordType::A),
                ask_udp(front_gw, "web.", RecordType::AAAA),
                ask_udp(front_gw, "2.20.30.172.in-addr.arpa.", RecordType::PTR),
                ask_udp(front_gw, "example.test.", RecordType::A),
                ask_udp(front_gw, "missing.test.", RecordType::A),
                ask_tcp(front_gw, "web."),
            ]
        });
        let web_ip = "172.30.20.2".to_string();
        assert_eq!(answers[0], (ResponseCode::NoError, vec![web_ip.clone()]));
        assert_eq!(answers[1], (ResponseCode::NoError, vec![web_ip.clone()]));
        assert_eq!(
            answers[2].0,
            ResponseCode::NXDomain,
            "db is on another network"
        );
        assert_eq!(answers[3], (ResponseCode::NoError, vec![]));
        assert_eq!(
            answers[4],
            (ResponseCode::NoError, vec!["web.".to_string()])
        );
        assert_eq!(
            answers[5],
            (ResponseCode::NoError, vec!["192.0.2.10".to_string()])
        );
        assert_eq!(answers[6].0, ResponseCode::NXDomain);
        assert_eq!(answers[7], (ResponseCode::NoError, vec![web_ip.clone()]));
        assert_eq!(
            seen.load(Ordering::Relaxed),
            2,
            "only dotted unknown names are forwarded"
        );

        let from_back = db.run(move || {
            (
                ask_udp(back_gw, "db.", RecordType::A),
                ask_udp(back_gw, "web.", RecordType::A),
            )
        });
        assert_eq!(
            from_back.0,
            (ResponseCode::NoError, vec!["172.30.21.2".to_string()])
        );
        assert_eq!(from_back.1.0, ResponseCode::NXDomain);

        // Disconnected: gone at once.
        dns.remove_endpoint(&front.id, &web_endpoint.container_id);
        let after = web.run(move || ask_udp(front_gw, "web.", RecordType::A));
        assert_eq!(after.0, ResponseCode::NXDomain);

        // A removed network stops answering and frees its port.
        dns.remove_network(&back.id);
        tokio::time::sleep(Duration::from_millis(100)).await;
        let rebound = std::net::UdpSocket::bind(SocketAddr::new(IpAddr::V4(back_gw), 53));
        assert!(rebound.is_ok(), "listener still bound: {rebound:?}");
        drop(rebound);

        stop.store(true, Ordering::Relaxed);
        fake.join().unwrap();
        drop(dns);
        driver.disconnect(&web_endpoint).await.unwrap();
        driver.disconnect(&db_endpoint).await.unwrap();
        for net in [&front, &back] {
            driver.remove_network(net).await.unwrap();
        }
    });
}
