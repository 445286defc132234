//! Namespaces made by the tests, tiny servers inside them, and records.

use std::io::{Read, Write};
use std::net::{Ipv4Addr, SocketAddr, TcpListener, TcpStream, UdpSocket};
use std::os::fd::OwnedFd;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use net::firewall::{NatTable, NftBinary};
use net::link::{NetnsRef, Rtnetlink};
use net::sysctl::ProcSys;
use net::{BridgeDriver, EndpointRecord, MacAddr, NetworkRecord, PublishedPort};
use nix::sched::{CloneFlags, setns, unshare};

pub type Driver = BridgeDriver<Rtnetlink, NftBinary, ProcSys>;

/// Whether the tests can run; says why not when they cannot.
pub fn privileged(test: &str) -> bool {
    if nix::unistd::geteuid().is_root() {
        return true;
    }
    eprintln!("skipping {test}: needs root (network namespaces, bridges, nftables)");
    false
}

/// A network namespace, alive while this (or a thread inside it) is.
#[derive(Clone)]
pub struct Netns {
    fd: Arc<OwnedFd>,
}

impl Netns {
    pub fn new() -> Netns {
        let fd = std::thread::spawn(|| {
            unshare(CloneFlags::CLONE_NEWNET).expect("unshare(CLONE_NEWNET)");
            OwnedFd::from(std::fs::File::open("/proc/thread-self/ns/net").expect("open own netns"))
        })
        .join()
        .expect("netns thread");
        Netns { fd: Arc::new(fd) }
    }

    pub fn as_ref(&self) -> NetnsRef {
        NetnsRef::Fd(self.fd.clone())
    }

    /// Runs `work` on a thread inside the namespace.
    pub fn run<T: Send + 'static>(&self, work: impl FnOnce() -> T + Send + 'static) -> T {
        self.spawn(work).join().expect("work inside a namespace")
    }

    pub fn spawn<T: Send + 'static>(
        &self,
        work: impl FnOnce() -> T + Send + 'static,
    ) -> JoinHandle<T> {
        let fd = self.fd.clone();
        std::thread::spawn(move || {
            setns(&*fd, CloneFlags::CLONE_NEWNET).expect("setns");
            work()
        })
    }
}

/// A test "host": a namespace with lo up, and a runtime whose threads all live in it.
pub struct Host {
    pub ns: Netns,
}

impl Host {
    pub fn new() -> Host {
        let ns = Netns::new();
        ns.run(|| run(&["ip", "link", "set", "lo", "up"]));
        Host { ns }
    }

    /// Runs an async test body inside the host namespace with a driver whose table is
    /// `table`.
    pub fn block_on<T, F>(
        &self,
        table: &'static str,
        body: impl FnOnce(Arc<Driver>) -> F + Send + 'static,
    ) -> T
    where
        F: std::future::Future<Output = T>,
        T: Send + 'static,
    {
        self.ns.run(move || {
            let runtime = tokio::runtime::Builder::new_multi_thread()
                .worker_threads(2)
                .enable_all()
                .build()
                .expect("runtime");
            runtime.block_on(async move {
                let links = Rtnetlink::new().expect("netlink");
                let driver = Arc::new(BridgeDriver::new(
                    links,
                    NatTable::new(NftBinary::default(), table),
                    ProcSys,
                ));
                body(driver).await
            })
        })
    }
}

/// Runs a command in the calling thread's namespace; its stdout.
pub fn run(argv: &[&str]) -> String {
    let output = std::process::Command::new(argv[0])
        .args(&argv[1..])
        .output()
        .unwrap_or_else(|err| panic!("{argv:?}: {err}"));
    assert!(
        output.status.success(),
        "{argv:?}: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8_lossy(&output.stdout).into_owned()
}

pub fn network(name: &str, bridge: &str, subnet: &str, internal: bool) -> NetworkRecord {
    let subnet: ipnet::Ipv4Net = subnet.parse().expect("subnet");
    NetworkRecord {
        name: name.to_string(),
        id: format!("id-{name}"),
        bridge: bridge.to_string(),
        subnet,
        gateway: subnet.hosts().next().expect("gateway"),
        internal,
        dns: name != "bridge",
        labels: Default::default(),
        options: Default::default(),
    }
}

pub fn endpoint(
    network: &NetworkRecord,
    container: &str,
    host: u8,
    ports: Vec<PublishedPort>,
) -> EndpointRecord {
    let [a, b, c, _] = network.subnet.network().octets();
    let ip = Ipv4Addr::new(a, b, c, host);
    EndpointRecord {
        network_id: network.id.clone(),
        container_id: format!("{container}-id"),
        container_name: container.to_string(),
        aliases: vec![],
        ip,
        mac: MacAddr::from_ipv4(ip),
        host_veth: net::records::host_veth_name(container, &network.id),
        ifname: "eth0".to_string(),
        ports,
    }
}

/// A TCP server in a namespace answering every connection with `reply`, until dropped.
pub struct TcpServer {
    stop: Arc<AtomicBool>,
    thread: Option<JoinHandle<()>>,
}

impl TcpServer {
    pub fn start(ns: &Netns, port: u16, reply: &'static str) -> TcpServer {
        let stop = Arc::new(AtomicBool::new(false));
        let (ready, bound) = std::sync::mpsc::channel();
        let flag = stop.clone();
        let thread = ns.spawn(move || {
            let listener = TcpListener::bind(("0.0.0.0", port)).expect("bind in container");
            listener.set_nonblocking(true).expect("nonblocking");
            ready.send(()).expect("ready");
            let deadline = Instant::now() + Duration::from_secs(60);
            while !flag.load(Ordering::Relaxed) && Instant::now() < deadline {
                match listener.accept() {
                    Ok((mut stream, _)) => {
                        let _ = stream.write_all(reply.as_bytes());
                    }
                    Err(_) => std::thread::sleep(Duration::from_millis(5)),
                }
            }
        });
        bound.recv().expect("server bound");
        TcpServer {
            stop,
            thread: Some(thread),
        }
    }
}

impl Drop for TcpServer {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

/// A UDP server answering each datagram with `reply`, until dropped.
pub struct UdpServer {
    stop: Arc<AtomicBool>,
    thread: Option<JoinHandle<()>>,
}

impl UdpServer {
    pub fn start(ns: &Netns, port: u16, reply: &'static str) -> UdpServer {
        let stop = Arc::new(AtomicBool::new(false));
        let (ready, bound) = std::sync::mpsc::channel();
        let flag = stop.clone();
        let thread = ns.spawn(move || {
            let socket = UdpSocket::bind(("0.0.0.0", port)).expect("bind udp in container");
            socket
                .set_read_timeout(Some(Duration::from_millis(50)))
                .expect("timeout");
            ready.send(()).expect("ready");
            let deadline = Instant::now() + Duration::from_secs(60);
            let mut buffer = [0u8; 512];
            while !flag.load(Ordering::Relaxed) && Instant::now() < deadline {
                if let Ok((_, peer)) = socket.recv_from(&mut buffer) {
                    let _ = socket.send_to(reply.as_bytes(), peer);
                }
            }
        });
        bound.recv().expect("server bound");
        UdpServer {
            stop,
            thread: Some(thread),
        }
    }
}

impl Drop for UdpServer {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

/// Connects (from the calling thread's namespace) and reads what the server says.
pub fn tcp_fetch(address: SocketAddr) -> std::io::Result<String> {
    let mut stream = TcpStream::connect_timeout(&address, Duration::from_secs(2))?;
    stream.set_read_timeout(Some(Duration::from_secs(2)))?;
    let mut reply = String::new();
    stream.read_to_string(&mut reply)?;
    Ok(reply)
}

pub fn udp_ask(address: SocketAddr) -> std::io::Result<String> {
    let socket = UdpSocket::bind("0.0.0.0:0")?;
    socket.set_read_timeout(Some(Duration::from_secs(2)))?;
    socket.send_to(b"ping", address)?;
    let mut buffer = [0u8; 512];
    let (length, _) = socket.recv_from(&mut buffer)?;
    Ok(String::from_utf8_lossy(&buffer[..length]).into_owned())
}

pub fn addr(ip: Ipv4Addr, port: u16) -> SocketAddr {
    SocketAddr::from((ip, port))
}
