//! The default bridge network through pier's CLI: published ports answer on the daemon's
//! 127.0.0.1 and on the bridge's gateway, from the host and from another container, keep
//! answering while the daemon is killed and after it starts again, and leave no rule or veth
//! once their container is gone. Every daemon runs in a network namespace of its own, so
//! all of this traffic stays there.

use std::process::Output;
use std::time::Duration;

use crate::daemon::PierDaemon;

// busybox 1.35's wget crashes with `-T`: the in-container fetches go without it.

/// busybox's httpd serving the container's /etc (its `hostname` file says who answered).
const HTTPD: [&str; 6] = ["httpd", "-f", "-p", "80", "-h", "/etc"];

fn stdout(out: &Output) -> String {
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// `GET url` from the daemon's network namespace with curl; the body, or None.
fn fetch(d: &PierDaemon, url: &str) -> Option<String> {
    let out = d.in_netns("curl", &["-fsS", "-m", "3", url]);
    out.status.success().then(|| stdout(&out))
}

/// Waits until `url` answers (httpd takes a moment to listen) and gives the body.
#[track_caller]
fn fetch_when_up(d: &PierDaemon, url: &str) -> String {
    let mut body = None;
    d.wait_until(&format!("{url} to answer"), Duration::from_secs(10), || {
        body = fetch(d, url);
        body.is_some()
    });
    body.unwrap_or_default()
}

/// The chains and rules of the daemon's nftables table, as `nft` lists them.
fn ruleset(d: &PierDaemon) -> String {
    stdout(&d.in_netns("nft", &["list", "table", "ip", "pier"]))
}

/// The names of the veth links in the daemon's namespace.
fn veths(d: &PierDaemon) -> Vec<String> {
    let out = d.in_netns("ip", &["-o", "link", "show", "type", "veth"]);
    stdout(&out)
        .lines()
        .filter_map(|l| l.split(':').nth(1))
        .map(|name| name.trim().split('@').next().unwrap_or("").to_owned())
        .collect()
}

/// The host end of a running container's veth (its endpoint id, in pier).
fn veth_of(d: &PierDaemon, container: &str) -> String {
    let inspect = d.inspect(container);
    let veth = inspect["NetworkSettings"]["EndpointID"]
        .as_str()
        .unwrap_or("");
    assert!(veth.starts_with("veth"), "{container}: {inspect}");
    veth.to_owned()
}

#[test]
fn published_port_answers_and_is_gone_with_its_container() {
    let d = PierDaemon::start();
    let mut args = vec!["run", "-d", "--name", "web", "-p", "18080:80", "busybox"];
    args.extend(HTTPD);
    let id = d.pier_ok(&args).trim().to_owned();

    let hostname = fetch_when_up(&d, "http://127.0.0.1:18080/hostname");
    assert_eq!(hostname.trim(), &id[..12]);

    let inspect = d.inspect("web");
    let settings = &inspect["NetworkSettings"];
    let ip = settings["IPAddress"].as_str().unwrap().to_owned();
    let gateway = settings["Gateway"].as_str().unwrap().to_owned();
    assert!(ip.starts_with("172.17."), "{settings}");
    assert_eq!(settings["Networks"]["bridge"]["IPAddress"], ip.as_str());
    assert_eq!(
        settings["Ports"]["80/tcp"][0]["HostPort"], "18080",
        "{settings}"
    );
    assert_eq!(settings["MacAddress"].as_str().unwrap().len(), 17);

    // The container's own address, the gateway's published port, and another container
    // reaching the first one both ways.
    assert_eq!(
        fetch(&d, &format!("http://{ip}:80/hostname")).as_deref(),
        Some(hostname.as_str())
    );
    assert_eq!(
        fetch(&d, &format!("http://{gateway}:18080/hostname")).as_deref(),
        Some(hostname.as_str())
    );
    let from_peer = d.pier_ok(&[
        "run",
        "--rm",
        "busybox",
        "wget",
        "-q",
        "-O",
        "-",
        &format!("http://{gateway}:18080/hostname"),
    ]);
    assert_eq!(from_peer, hostname);
    // Hairpin: the container reaches its own published port.
    let hairpin = d.pier_ok(&[
        "exec",
        "web",
        "wget",
        "-q",
        "-O",
        "-",
        &format!("http://{gateway}:18080/hostname"),
    ]);
    assert_eq!(hairpin, hostname);

    assert_eq!(d.pier_ok(&["port", "web"]), "80/tcp -> 0.0.0.0:18080\n");
    assert_eq!(d.pier_ok(&["port", "web", "80"]), "0.0.0.0:18080\n");
    let ps = d.pier_ok(&["ps", "--format", "{{.Ports}}"]);
    assert_eq!(ps.trim(), "0.0.0.0:18080->80/tcp");
    let missing = d.pier(&["port", "web", "81"]);
    assert!(!missing.status.success());
    assert!(
        String::from_utf8_lossy(&missing.stderr)
            .contains("No public port '81/tcp' published for web"),
        "{missing:?}"
    );

    assert!(ruleset(&d).contains(&format!("ctr-{id}")));
    let veth = veth_of(&d, "web");
    assert!(veths(&d).contains(&veth), "{veth}: {:?}", veths(&d));
    d.pier_ok(&["rm", "-f", "web"]);
    d.wait_until(
        "the container's rules and veth to go",
        Duration::from_secs(10),
        || !ruleset(&d).contains(&id) && !veths(&d).contains(&veth),
    );
    assert_eq!(fetch(&d, "http://127.0.0.1:18080/hostname"), None);
}

#[test]
fn a_taken_port_fails_the_start_and_leaves_nothing() {
    let d = PierDaemon::start();
    let mut args = vec!["run", "-d", "--name", "first", "-p", "18081:80", "busybox"];
    args.extend(HTTPD);
    d.pier_ok(&args);
    let rules_before = ruleset(&d);
    let first_veth = veth_of(&d, "first");

    let mut args = vec!["run", "-d", "--name", "second", "-p", "18081:80", "busybox"];
    args.extend(HTTPD);
    let out = d.pier(&args);
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("driver failed programming external connectivity on endpoint second")
            && err.contains("Bind for 0.0.0.0:18081 failed: port is already allocated"),
        "{err}"
    );
    assert_eq!(d.inspect("second")["State"]["Running"], false);
    assert_eq!(ruleset(&d), rules_before);
    assert!(veths(&d).contains(&first_veth));
    // The first keeps its port; the second starts once the port is free again.
    fetch_when_up(&d, "http://127.0.0.1:18081/hostname");
    d.pier_ok(&["rm", "-f", "first"]);
    d.pier_ok(&["start", "second"]);
    let second = d.inspect("second")["Id"].as_str().unwrap()[..12].to_owned();
    let body = fetch_when_up(&d, "http://127.0.0.1:18081/hostname");
    assert_eq!(body.trim(), second);

    let bad = d.pier(&["run", "-d", "-p", "99999:80", "busybox", "true"]);
    assert!(!bad.status.success());
    assert!(
        String::from_utf8_lossy(&bad.stderr).contains("invalid hostPort: 99999"),
        "{bad:?}"
    );
}

#[test]
fn ports_outlive_a_killed_daemon_and_restarts() {
    let mut d = PierDaemon::start();
    let mut args = vec!["run", "-d", "--name", "web", "-p", "18082:80", "busybox"];
    args.extend(HTTPD);
    let id = d.pier_ok(&args).trim().to_owned();
    let body = fetch_when_up(&d, "http://127.0.0.1:18082/hostname");

    d.kill9();
    assert_eq!(
        fetch(&d, "http://127.0.0.1:18082/hostname").as_deref(),
        Some(body.as_str()),
        "the published port stopped answering with the daemon"
    );
    d.restart();
    assert_eq!(
        fetch(&d, "http://127.0.0.1:18082/hostname").as_deref(),
        Some(body.as_str())
    );
    // The daemon that came back holds the port again: nobody else gets it.
    let mut args = vec!["run", "-d", "-p", "18082:80", "busybox"];
    args.extend(HTTPD);
    assert!(!d.pier(&args).status.success());

    d.pier_ok(&["restart", "-t", "1", "web"]);
    let body = fetch_when_up(&d, "http://127.0.0.1:18082/hostname");
    assert_eq!(body.trim(), &id[..12]);
    assert_eq!(ruleset(&d).matches(&format!("chain ctr-{id}")).count(), 1);

    let veth = veth_of(&d, "web");
    d.pier_ok(&["rm", "-f", "web"]);
    d.wait_until("the rules and veths to go", Duration::from_secs(10), || {
        !ruleset(&d).contains("chain ctr-") && !veths(&d).contains(&veth)
    });
}

#[test]
fn network_none_has_only_its_loopback_up() {
    let d = PierDaemon::start();
    let links = d.pier_ok(&["run", "--rm", "--network", "none", "busybox", "ip", "link"]);
    let names: Vec<&str> = links
        .lines()
        .filter(|l| l.starts_with(|c: char| c.is_ascii_digit()))
        .filter_map(|l| l.split(':').nth(1))
        .map(str::trim)
        .collect();
    assert_eq!(names, ["lo"], "{links}");
    assert!(links.contains("LOOPBACK,UP"), "{links}");
    let served = d.pier_ok(&[
        "run",
        "--rm",
        "--network",
        "none",
        "busybox",
        "sh",
        "-c",
        "httpd -p 127.0.0.1:80 -h /etc && wget -q -O - http://127.0.0.1/hostname",
    ]);
    assert_eq!(served.trim().len(), 12, "{served}");
}

/// A UDP echo server in Python, from the host's /usr bound into the container (busybox has
/// no UDP server).
const UDP_ECHO: &str = "import socket\n\
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)\n\
s.bind(('0.0.0.0', 53))\n\
while True:\n    data, peer = s.recvfrom(512)\n    s.sendto(b'echo:' + data, peer)\n";

const UDP_CLIENT: &str = "import socket, sys\n\
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)\n\
s.settimeout(1)\n\
s.sendto(b'hi', (sys.argv[1], int(sys.argv[2])))\n\
print(s.recv(512).decode())\n";

#[test]
fn a_published_udp_port_answers() {
    let d = PierDaemon::start();
    d.pier_ok(&[
        "run",
        "-d",
        "--name",
        "udp",
        "-p",
        "15353:53/udp",
        "-v",
        "/usr:/usr:ro",
        "-v",
        "/lib64:/lib64:ro",
        "-v",
        "/lib:/lib:ro",
        "busybox",
        "/usr/bin/python3",
        "-c",
        UDP_ECHO,
    ]);
    let mut answer = String::new();
    d.wait_until("the UDP echo to answer", Duration::from_secs(10), || {
        let out = d.in_netns(
            "/usr/bin/python3",
            &["-c", UDP_CLIENT, "127.0.0.1", "15353"],
        );
        answer = stdout(&out);
        out.status.success()
    });
    assert_eq!(answer, "echo:hi\n");
    assert_eq!(d.pier_ok(&["port", "udp"]), "53/udp -> 0.0.0.0:15353\n");
    d.pier_ok(&["rm", "-f", "udp"]);
    let gone = d.in_netns(
        "/usr/bin/python3",
        &["-c", UDP_CLIENT, "127.0.0.1", "15353"],
    );
    assert!(!gone.status.success(), "{gone:?}");
}

/// A second daemon in the first one's namespace, with a bridge (and so a table) of its own;
/// stopped by PID when dropped, its containers removed first.
struct SecondDaemon {
    child: std::process::Child,
    socket: std::path::PathBuf,
}

impl SecondDaemon {
    fn start(d: &PierDaemon) -> SecondDaemon {
        let dir = d.scratch("second");
        let socket = dir.join("s.sock");
        let child = std::process::Command::new("nsenter")
            .arg(format!("--net={}", d.netns_path()))
            .arg("--")
            .arg(crate::support::PIER)
            .args(["daemon", "--bridge", "pier1", "--bip", "172.30.0.1/16"])
            .arg("--data-root")
            .arg(dir.join("root"))
            .arg("--exec-root")
            .arg(dir.join("run"))
            .arg("-H")
            .arg(format!("unix://{}", socket.display()))
            .stdin(std::process::Stdio::null())
            .stdout(std::process::Stdio::null())
            .stderr(std::fs::File::create(dir.join("log")).unwrap())
            .spawn()
            .unwrap();
        let second = SecondDaemon { child, socket };
        d.wait_until(
            "the second daemon to answer",
            Duration::from_secs(20),
            || second.pier(&["version"]).status.success(),
        );
        let mut import = second.command(&["import", "-", "busybox:latest"]);
        import.stdin(std::process::Stdio::piped());
        let mut child = import.spawn().unwrap();
        std::io::Write::write_all(
            &mut child.stdin.take().unwrap(),
            crate::daemon::busybox_tar(),
        )
        .unwrap();
        assert!(child.wait().unwrap().success());
        second
    }

    fn command(&self, args: &[&str]) -> std::process::Command {
        let mut cmd = std::process::Command::new(crate::support::PIER);
        cmd.arg("-H")
            .arg(format!("unix://{}", self.socket.display()))
            .args(args)
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped());
        cmd
    }

    fn pier(&self, args: &[&str]) -> Output {
        self.command(args).output().unwrap()
    }
}

impl Drop for SecondDaemon {
    fn drop(&mut self) {
        let _ = self.pier(&["rm", "-f", "web2"]);
        let pid = nix::unistd::Pid::from_raw(self.child.id() as i32);
        let _ = nix::sys::signal::kill(pid, nix::sys::signal::Signal::SIGTERM);
        let _ = self.child.wait();
    }
}

#[test]
fn two_daemons_keep_to_their_own_bridges_and_tables() {
    let d = PierDaemon::start();
    let second = SecondDaemon::start(&d);
    let mut args = vec!["run", "-d", "--name", "web1", "-p", "18091:80", "busybox"];
    args.extend(HTTPD);
    let first_id = d.pier_ok(&args).trim().to_owned();
    let mut args = vec!["run", "-d", "--name", "web2", "-p", "18092:80", "busybox"];
    args.extend(HTTPD);
    let out = second.pier(&args);
    assert!(out.status.success(), "{out:?}");
    let second_id = stdout(&out).trim().to_owned();

    assert_eq!(
        fetch_when_up(&d, "http://127.0.0.1:18091/hostname").trim(),
        &first_id[..12]
    );
    assert_eq!(
        fetch_when_up(&d, "http://127.0.0.1:18092/hostname").trim(),
        &second_id[..12]
    );
    let first_table = ruleset(&d);
    let second_table = stdout(&d.in_netns("nft", &["list", "table", "ip", "pier_pier1"]));
    assert!(
        first_table.contains("18091") && !first_table.contains("18092"),
        "{first_table}"
    );
    assert!(
        second_table.contains("18092") && !second_table.contains("18091"),
        "{second_table}"
    );
    let second_ip = second.pier(&["inspect", "-f", "{{.NetworkSettings.IPAddress}}", "web2"]);
    assert!(stdout(&second_ip).starts_with("172.30."), "{second_ip:?}");

    // The first daemon starting again reconciles its own bridge and table only.
    let mut d = d;
    d.kill9();
    d.restart();
    assert_eq!(
        fetch_when_up(&d, "http://127.0.0.1:18092/hostname").trim(),
        &second_id[..12]
    );
    assert_eq!(
        fetch_when_up(&d, "http://127.0.0.1:18091/hostname").trim(),
        &first_id[..12]
    );
    let out = second.pier(&["rm", "-f", "web2"]);
    assert!(out.status.success(), "{out:?}");
    d.pier_ok(&["rm", "-f", "web1"]);
    drop(second);
}

/// The network namespace a container's init is in.
fn netns_of(d: &PierDaemon, container: &str) -> String {
    let pid = d.inspect(container)["State"]["Pid"].as_i64().unwrap();
    std::fs::read_link(format!("/proc/{pid}/ns/net"))
        .unwrap()
        .display()
        .to_string()
}

#[test]
fn a_container_keeps_its_namespace_across_runs_and_it_goes_with_it() {
    let d = PierDaemon::start();
    let pool = d.exec_root().join("netns");
    d.wait_until("namespaces made ahead", Duration::from_secs(10), || {
        std::fs::read_dir(&pool).is_ok_and(|entries| entries.count() >= 8)
    });
    let mut args = vec!["run", "-d", "--name", "web", "-p", "18093:80", "busybox"];
    args.extend(HTTPD);
    let id = d.pier_ok(&args).trim().to_owned();
    let first = netns_of(&d, "web");
    let veth = veth_of(&d, "web");
    d.pier_ok(&["restart", "-t", "1", "web"]);
    assert_eq!(netns_of(&d, "web"), first);
    assert_eq!(veth_of(&d, "web"), veth);
    assert_eq!(
        fetch_when_up(&d, "http://127.0.0.1:18093/hostname").trim(),
        &id[..12]
    );
    // Stopped, it keeps its veth; a daemon that starts again keeps it too.
    d.pier_ok(&["stop", "-t", "1", "web"]);
    let mut d = d;
    d.restart();
    assert!(veths(&d).contains(&veth), "{veth}: {:?}", veths(&d));
    d.pier_ok(&["start", "web"]);
    assert_eq!(
        fetch_when_up(&d, "http://127.0.0.1:18093/hostname").trim(),
        &id[..12]
    );
    let none = d.pier_ok(&[
        "run",
        "--rm",
        "--network",
        "none",
        "busybox",
        "ip",
        "-o",
        "link",
    ]);
    assert_eq!(none.lines().count(), 1, "{none}");
    assert!(none.contains("lo:") && none.contains("UP"), "{none}");
    d.pier_ok(&["rm", "-f", "web"]);
    d.wait_until("its veth to go", Duration::from_secs(10), || {
        !veths(&d).contains(&veth)
    });
}
