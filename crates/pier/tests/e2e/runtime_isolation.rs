//! Namespaces: new ones are the container's own; listed paths join existing ones.

use crate::support::*;

fn ns_of(pid: i64, kind: &str) -> String {
    std::fs::read_link(format!("/proc/{pid}/ns/{kind}"))
        .unwrap()
        .to_string_lossy()
        .into_owned()
}

#[test]
fn new_namespaces_differ_from_the_hosts() {
    let w = World::new();
    let b = w.bundle(&["sleep", "1000"]);
    let id = w.id("ns");
    ok(&w.run(&["run", "-d", "--bundle", b.path.to_str().unwrap(), &id]));
    let pid = w.wait_status(&id, "running")["pid"].as_i64().unwrap();
    let me = std::process::id() as i64;
    for kind in ["pid", "mnt", "uts", "ipc", "net", "cgroup"] {
        assert_ne!(
            ns_of(pid, kind),
            ns_of(me, kind),
            "{kind} namespace is shared with the host"
        );
    }
    ok(&w.run(&["delete", "-f", &id]));
    w.assert_clean();
}

#[test]
fn listed_namespace_paths_are_joined() {
    let w = World::new();
    let mut first = w.bundle(&["sleep", "1000"]);
    first.edit(|s| s["hostname"] = "sharedhost".into());
    let a = w.id("nsa");
    ok(&w.run(&["run", "-d", "--bundle", first.path.to_str().unwrap(), &a]));
    let pid = w.wait_status(&a, "running")["pid"].as_i64().unwrap();

    let mut second = w.bundle(&["sh", "-c", "hostname; ls /proc | grep -c '^[0-9]'"]);
    second.edit(|s| {
        s.as_object_mut().unwrap().remove("hostname");
        for ns in s["linux"]["namespaces"].as_array_mut().unwrap() {
            let kind = ns["type"].as_str().unwrap().to_owned();
            let file = match kind.as_str() {
                "network" => "net",
                "uts" => "uts",
                "ipc" => "ipc",
                "pid" => "pid",
                _ => continue,
            };
            ns["path"] = format!("/proc/{pid}/ns/{file}").into();
        }
    });
    let out = ok(&w.run_bundle(&second, "nsb"));
    let lines: Vec<&str> = out.lines().collect();
    assert_eq!(lines[0], "sharedhost");
    // sleep (pid 1 there) plus this container's sh: the pid namespace is shared.
    assert!(lines[1].parse::<u32>().unwrap() >= 2, "{out}");
    ok(&w.run(&["delete", "-f", &a]));
    w.assert_clean();
}

#[test]
fn cgroup_namespace_hides_the_host_path() {
    let w = World::new();
    let b = w.bundle(&["cat", "/proc/self/cgroup"]);
    let out = ok(&w.run_bundle(&b, "cgns"));
    for line in out.lines() {
        let path = line.rsplit(':').next().unwrap();
        assert_eq!(path, "/", "{out}");
    }
    w.assert_clean();
}

/// Every line of /proc/PID/cgroup as the host reads it: the hierarchy's controllers and path.
fn host_cgroups(pid: i64) -> Vec<(String, String)> {
    std::fs::read_to_string(format!("/proc/{pid}/cgroup"))
        .unwrap()
        .lines()
        .map(|line| {
            let mut parts = line.splitn(3, ':');
            let _ = parts.next();
            (
                parts.next().unwrap().to_owned(),
                parts.next().unwrap().to_owned(),
            )
        })
        .collect()
}

/// The init and an exec'd process enter the container's cgroup in every hierarchy (v1 by
/// moving their own thread, cgroup2 by cloning into it), as the host sees it.
#[test]
fn init_and_exec_are_in_the_containers_cgroup_everywhere() {
    let w = World::new();
    let b = w.bundle(&["sleep", "1000"]);
    let id = w.id("cgin");
    ok(&w.run(&["run", "-d", "--bundle", b.path.to_str().unwrap(), &id]));
    let init = w.wait_status(&id, "running")["pid"].as_i64().unwrap();
    let exec_pid_file = w.dir.path().join("exec.pid");
    ok(&w.run(&[
        "exec",
        "-d",
        "--pid-file",
        exec_pid_file.to_str().unwrap(),
        &id,
        "sleep",
        "999",
    ]));
    let exec: i64 = std::fs::read_to_string(&exec_pid_file)
        .unwrap()
        .trim()
        .parse()
        .unwrap();
    for pid in [init, exec] {
        let cgroups = host_cgroups(pid);
        assert!(!cgroups.is_empty());
        for (controllers, path) in &cgroups {
            assert!(
                path.ends_with(&format!("/{id}")),
                "process {pid} is not in the container's cgroup of {controllers:?}: {cgroups:?}"
            );
        }
    }
    ok(&w.run(&["delete", "-f", &id]));
    w.assert_clean();
}
