//! User-defined networks through pier's CLI and docker's: containers on one network find
//! each other by name and alias through the embedded DNS and cannot reach another network;
//! `--internal` leads nowhere; `network connect` and `disconnect` change a running
//! container's interfaces; `--network container:` shares a stack; networks survive a killed
//! daemon, and nothing is left once they are removed. Every daemon runs in a network
//! namespace of its own, so all of this traffic stays there.

use std::process::Output;
use std::time::Duration;

use crate::daemon::PierDaemon;

const HTTPD: [&str; 6] = ["httpd", "-f", "-p", "80", "-h", "/etc"];

fn stdout(out: &Output) -> String {
    String::from_utf8_lossy(&out.stdout).into_owned()
}

fn stderr(out: &Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

/// `run -d --name NAME [extra...] busybox httpd ...`; the container's id.
fn httpd(d: &PierDaemon, name: &str, extra: &[&str]) -> String {
    let mut args = vec!["run", "-d", "--name", name];
    args.extend(extra);
    args.push("busybox");
    args.extend(HTTPD);
    d.pier_ok(&args).trim().to_owned()
}

/// From a new container on `network`: `GET http://TARGET/hostname` (busybox's wget, given
/// 3 s); the body, or the failure's stderr.
fn fetch_from(d: &PierDaemon, network: &str, target: &str) -> Result<String, String> {
    // Not the script's last command: sh stays pid 1, and timeout's signal reaches wget.
    let script = format!("timeout 3 wget -qO- http://{target}/hostname; exit $?");
    let out = d.pier(&[
        "run",
        "--rm",
        "--network",
        network,
        "busybox",
        "sh",
        "-c",
        &script,
    ]);
    if out.status.success() {
        Ok(stdout(&out).trim().to_owned())
    } else {
        Err(format!("{}{}", stdout(&out), stderr(&out)))
    }
}

/// Waits for the httpd of `target` to answer from `network`; its body.
#[track_caller]
fn fetch_when_up(d: &PierDaemon, network: &str, target: &str) -> String {
    let mut body = String::new();
    d.wait_until(
        &format!("{target} to answer on {network}"),
        Duration::from_secs(15),
        || match fetch_from(d, network, target) {
            Ok(b) => {
                body = b;
                true
            }
            Err(_) => false,
        },
    );
    body
}

fn links(d: &PierDaemon) -> String {
    stdout(&d.in_netns("ip", &["-o", "link", "show"]))
}

fn ruleset(d: &PierDaemon) -> String {
    stdout(&d.in_netns("nft", &["list", "table", "ip", "pier"]))
}

#[test]
fn names_and_aliases_resolve_on_a_network_and_nothing_crosses_networks() {
    let d = PierDaemon::start();
    let app = d.pier_ok(&["network", "create", "app"]).trim().to_owned();
    assert_eq!(app.len(), 64, "{app}");
    d.pier_ok(&["network", "create", "other"]);
    let id = httpd(&d, "web", &["--network", "app", "--network-alias", "www"]);
    let short = &id[..12];

    assert_eq!(fetch_when_up(&d, "app", "web"), short);
    for name in ["www", "web.app", short] {
        assert_eq!(fetch_from(&d, "app", name).as_deref(), Ok(short), "{name}");
    }
    let inspect = d.inspect("web");
    let endpoint = &inspect["NetworkSettings"]["Networks"]["app"];
    let ip = endpoint["IPAddress"].as_str().unwrap().to_owned();
    assert_eq!(endpoint["Aliases"][0], "www", "{endpoint}");
    assert_eq!(endpoint["NetworkID"], app.as_str());
    let resolv = d.pier_ok(&["exec", "web", "cat", "/etc/resolv.conf"]);
    let gateway = endpoint["Gateway"].as_str().unwrap();
    assert!(
        resolv.contains(&format!("nameserver {gateway}")),
        "{resolv}"
    );

    // Neither the name nor the address is reachable from another network or the default
    // bridge, which has no name resolution.
    for network in ["other", "bridge"] {
        let by_name = fetch_from(&d, network, "web");
        assert!(by_name.is_err(), "{network}: {by_name:?}");
    }
    let across = fetch_from(&d, "other", &ip);
    assert!(across.is_err(), "{across:?}");
    assert_eq!(fetch_from(&d, "app", &ip).as_deref(), Ok(short));

    let network: serde_json::Value =
        serde_json::from_str(&d.pier_ok(&["network", "inspect", "app"])).unwrap();
    let network = &network[0];
    assert_eq!(network["Driver"], "bridge");
    assert_eq!(network["Containers"][&id]["Name"], "web", "{network}");
    assert!(
        network["Containers"][&id]["IPv4Address"]
            .as_str()
            .unwrap()
            .starts_with(&format!("{ip}/")),
        "{network}"
    );
    let names = d.pier_ok(&["network", "ls", "--format", "{{.Name}}"]);
    assert_eq!(names, "app\nbridge\nhost\nnone\nother\n");

    let in_use = d.pier(&["network", "rm", "app"]);
    assert!(!in_use.status.success());
    assert!(
        stderr(&in_use).contains("has active endpoints"),
        "{in_use:?}"
    );
    d.pier_ok(&["rm", "-f", "web"]);
    assert_eq!(
        d.pier_ok(&["network", "rm", "app", "other"]),
        "app\nother\n"
    );
    let bridge = format!("br-{}", &app[..12]);
    d.wait_until(
        "the network's bridge and rules to go",
        Duration::from_secs(10),
        || !links(&d).contains(&bridge) && !ruleset(&d).contains(&bridge),
    );
}

#[test]
fn connect_and_disconnect_change_a_running_container() {
    let d = PierDaemon::start();
    d.pier_ok(&["network", "create", "--subnet", "10.231.0.0/24", "app"]);
    let id = httpd(&d, "ca", &[]);
    d.pier_ok(&[
        "network",
        "connect",
        "--alias",
        "api",
        "--ip",
        "10.231.0.9",
        "app",
        "ca",
    ]);
    let inspect = d.inspect("ca");
    assert_eq!(
        inspect["NetworkSettings"]["Networks"]["app"]["IPAddress"],
        "10.231.0.9"
    );
    assert!(inspect["NetworkSettings"]["Networks"]["bridge"].is_object());
    let addresses = d.pier_ok(&["exec", "ca", "ip", "-o", "-4", "addr"]);
    assert!(
        addresses.contains("eth1") && addresses.contains("10.231.0.9/24"),
        "{addresses}"
    );
    assert_eq!(fetch_when_up(&d, "app", "api"), &id[..12]);

    let again = d.pier(&["network", "connect", "app", "ca"]);
    assert!(!again.status.success());
    assert!(
        stderr(&again).contains("endpoint with name ca already exists in network app"),
        "{again:?}"
    );
    d.pier_ok(&["network", "disconnect", "app", "ca"]);
    let addresses = d.pier_ok(&["exec", "ca", "ip", "-o", "-4", "addr"]);
    assert!(!addresses.contains("eth1"), "{addresses}");
    assert!(fetch_from(&d, "app", "api").is_err());
    let not_on = d.pier(&["network", "disconnect", "app", "ca"]);
    assert!(
        stderr(&not_on).contains(&format!("container {id} is not connected to network app")),
        "{not_on:?}"
    );
    // Connected while stopped: the endpoint is made at the next start.
    d.pier_ok(&["stop", "-t", "1", "ca"]);
    d.pier_ok(&["network", "connect", "app", "ca"]);
    d.pier_ok(&["start", "ca"]);
    assert_eq!(fetch_when_up(&d, "app", "ca"), &id[..12]);
    d.pier_ok(&["rm", "-f", "ca"]);
    d.pier_ok(&["network", "rm", "app"]);
}

#[test]
fn an_internal_network_has_no_route_out() {
    let d = PierDaemon::start();
    // An address of the daemon's host (its namespace) outside every network.
    for args in [
        &["link", "add", "pierdummy0", "type", "bridge"][..],
        &["addr", "add", "10.77.0.1/24", "dev", "pierdummy0"],
        &["link", "set", "pierdummy0", "up"],
    ] {
        let out = d.in_netns("ip", args);
        assert!(out.status.success(), "ip {args:?}: {out:?}");
    }
    d.pier_ok(&["network", "create", "--internal", "sealed"]);
    d.pier_ok(&["network", "create", "open"]);
    let ping = |network: &str| {
        d.pier(&[
            "run",
            "--rm",
            "--network",
            network,
            "busybox",
            "ping",
            "-c",
            "1",
            "-W",
            "2",
            "10.77.0.1",
        ])
    };
    assert!(ping("open").status.success(), "{:?}", ping("open"));
    let sealed = ping("sealed");
    assert!(!sealed.status.success(), "{sealed:?}");
    let routes = d.pier_ok(&[
        "run",
        "--rm",
        "--network",
        "sealed",
        "busybox",
        "ip",
        "route",
    ]);
    assert!(!routes.contains("default"), "{routes}");
    // Containers of the internal network still reach each other by name.
    let id = httpd(&d, "inside", &["--network", "sealed"]);
    assert_eq!(fetch_when_up(&d, "sealed", "inside"), &id[..12]);
    d.pier_ok(&["rm", "-f", "inside"]);
    d.pier_ok(&["network", "rm", "sealed", "open"]);
}

#[test]
fn container_mode_shares_the_other_containers_stack() {
    let d = PierDaemon::start();
    let id = httpd(&d, "web", &[]);
    let script = "timeout 3 wget -qO- http://127.0.0.1/hostname; hostname";
    let mut body = String::new();
    d.wait_until(
        "web's httpd on the shared loopback",
        Duration::from_secs(10),
        || {
            let out = d.pier(&[
                "run",
                "--rm",
                "--network",
                "container:web",
                "busybox",
                "sh",
                "-c",
                script,
            ]);
            body = stdout(&out);
            out.status.success()
        },
    );
    assert_eq!(body, format!("{}\n{}\n", &id[..12], &id[..12]));
    let conflict = d.pier(&[
        "run",
        "--rm",
        "--network",
        "container:web",
        "-p",
        "81:80",
        "busybox",
        "true",
    ]);
    assert!(
        stderr(&conflict)
            .contains("conflicting options: port publishing and the container type network mode"),
        "{conflict:?}"
    );
    d.pier_ok(&["stop", "-t", "1", "web"]);
    let stopped = d.pier(&[
        "run",
        "--rm",
        "--network",
        "container:web",
        "busybox",
        "true",
    ]);
    assert!(
        stderr(&stopped).contains("cannot join network of a non running container"),
        "{stopped:?}"
    );
    d.pier_ok(&["rm", "-f", "web"]);
}

#[test]
fn bad_network_input_gets_dockers_errors_and_changes_nothing() {
    let d = PierDaemon::start();
    d.pier_ok(&["network", "create", "--subnet", "10.232.0.0/16", "app"]);
    let cases: [(&[&str], &str); 6] = [
        (
            &["network", "create", "app"],
            "network with name app already exists",
        ),
        (
            &["network", "create", "--subnet", "10.232.1.0/24", "overlap"],
            "Pool overlaps with other one on this address space",
        ),
        (
            &["network", "create", "--subnet", "nonsense", "bad"],
            "invalid",
        ),
        (
            &["network", "rm", "bridge"],
            "bridge is a pre-defined network and cannot be removed",
        ),
        (&["network", "rm", "nosuch"], "network nosuch not found"),
        (
            &["run", "--rm", "--network", "nosuch", "busybox", "true"],
            "network nosuch not found",
        ),
    ];
    for (args, message) in cases {
        let out = d.pier(args);
        assert!(!out.status.success(), "{args:?}");
        assert!(stderr(&out).contains(message), "{args:?}: {}", stderr(&out));
    }
    let names = d.pier_ok(&[
        "network",
        "ls",
        "-q",
        "--filter",
        "type=custom",
        "--format",
        "{{.Name}}",
    ]);
    assert_eq!(names, "app\n");
    assert_eq!(d.pier_ok(&["ps", "-aq"]), "");
    let alias_on_default = d.pier(&["run", "--rm", "--network-alias", "x", "busybox", "true"]);
    assert!(
        stderr(&alias_on_default).contains(
            "network-scoped alias is supported only for containers in user defined networks"
        ),
        "{alias_on_default:?}"
    );
    d.pier_ok(&["network", "rm", "app"]);
}

#[test]
fn user_networks_and_names_survive_a_killed_daemon() {
    let mut d = PierDaemon::start();
    d.pier_ok(&["network", "create", "app"]);
    let id = httpd(&d, "web", &["--network", "app"]);
    assert_eq!(fetch_when_up(&d, "app", "web"), &id[..12]);
    d.kill9();
    d.restart();
    assert_eq!(fetch_when_up(&d, "app", "web"), &id[..12]);
    d.pier_ok(&["rm", "-f", "web"]);
    assert_eq!(
        d.pier_ok(&["network", "prune", "-f"]),
        "Deleted Networks:\napp\n\n"
    );
    assert!(!links(&d).contains("br-"), "{}", links(&d));
}

#[test]
fn the_docker_cli_manages_networks() {
    let d = PierDaemon::start();
    let id = d.docker_ok(&["network", "create", "--label", "team=a", "app"]);
    let id = id.trim();
    let ls = d.docker_ok(&["network", "ls", "--filter", "label=team=a"]);
    assert!(ls.starts_with("NETWORK ID"), "{ls}");
    assert!(
        ls.contains(&id[..12]) && ls.contains("app") && ls.contains("bridge"),
        "{ls}"
    );
    d.docker_ok(&[
        "run",
        "-d",
        "--name",
        "web",
        "--network",
        "app",
        "busybox",
        "sleep",
        "60",
    ]);
    let containers = d.docker_ok(&[
        "network",
        "inspect",
        "-f",
        "{{range .Containers}}{{.Name}}{{end}}",
        "app",
    ]);
    assert_eq!(containers.trim(), "web");
    d.docker_ok(&["network", "disconnect", "app", "web"]);
    d.docker_ok(&["network", "connect", "app", "web"]);
    d.docker_ok(&["rm", "-f", "web"]);
    assert_eq!(d.docker_ok(&["network", "rm", "app"]).trim(), "app");
}

#[test]
fn a_container_on_two_networks_answers_on_both() {
    let d = PierDaemon::start();
    d.pier_ok(&["network", "create", "front"]);
    d.pier_ok(&["network", "create", "back"]);
    let id = httpd(&d, "both", &["--network", "front", "--network", "back"]);
    assert_eq!(fetch_when_up(&d, "front", "both"), &id[..12]);
    assert_eq!(fetch_when_up(&d, "back", "both"), &id[..12]);
    let networks = d.pier_ok(&[
        "inspect",
        "-f",
        "{{range $name, $_ := .NetworkSettings.Networks}}{{$name}} {{end}}",
        "both",
    ]);
    assert_eq!(networks.trim(), "back front");
    let interfaces = d.pier_ok(&["exec", "both", "ip", "-o", "-4", "addr"]);
    assert!(
        interfaces.contains("eth0") && interfaces.contains("eth1"),
        "{interfaces}"
    );
    let filtered = d.pier_ok(&["ps", "-q", "--filter", "network=back"]);
    assert_eq!(filtered.trim(), &id[..12]);
    d.pier_ok(&["rm", "-f", "both"]);
    d.pier_ok(&["network", "rm", "front", "back"]);
}
