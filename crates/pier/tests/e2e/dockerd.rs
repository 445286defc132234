//! A private dockerd (Debian's docker.io, Docker 20.10) for interop tests.
//!
//! Each [`Dockerd`] has a network namespace of its own (entered with `nsenter --net`, never
//! `ip netns exec`, which remounts /sys and hides the cgroup hierarchies), its own data root,
//! exec root, pid file, socket, containerd namespaces and cgroup parent, so that it shares
//! nothing with a host's Docker or with other tests. It never pulls: there is no network in
//! its namespace but loopback. [`Dockerd::stop`] (or dropping it) stops it by PID, waits for
//! its containerd, removes what is left (processes, mounts, the namespace, cgroups,
//! directories) and says what it could not remove. Fixtures of test processes that were
//! killed are swept when the next one starts.

#![allow(dead_code)]

use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use nix::sys::signal::{Signal, kill};
use nix::unistd::Pid;

use crate::support::require_root;

const PREFIX: &str = "pier-dk-";
use crate::support::OWNER_FILE;
const NAME_FILE: &str = "name";
/// Debian's CLI of the same release as the daemon (another `docker` may come first in PATH).
const CLI: [&str; 2] = ["/usr/bin/docker", "docker"];

static COUNTER: AtomicUsize = AtomicUsize::new(0);

pub struct Dockerd {
    dir: PathBuf,
    /// `pier-dk-<pid>-<n>`: the network namespace, containerd's namespace and cgroup parent.
    name: String,
    child: Option<Child>,
    containerd: Option<i32>,
    stopped: bool,
}

fn find_program(candidates: &[&str]) -> Option<PathBuf> {
    for c in candidates {
        if c.contains('/') {
            if Path::new(c).exists() {
                return Some(PathBuf::from(c));
            }
            continue;
        }
        for dir in std::env::var("PATH").unwrap_or_default().split(':') {
            let p = Path::new(dir).join(c);
            if p.exists() {
                return Some(p);
            }
        }
    }
    None
}

fn quiet(cmd: &mut Command) -> std::io::Result<std::process::ExitStatus> {
    cmd.stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
}

impl Dockerd {
    /// Starts a dockerd and waits until it answers.
    pub fn start() -> Dockerd {
        require_root();
        static SWEPT: std::sync::Once = std::sync::Once::new();
        SWEPT.call_once(sweep_abandoned);
        let dockerd = find_program(&["/usr/sbin/dockerd", "/usr/bin/dockerd", "dockerd"])
            .expect("dockerd is not installed (scripts/deps.sh installs Debian's docker.io)");
        let dir = tempfile::Builder::new()
            .prefix(PREFIX)
            .tempdir()
            .unwrap()
            .keep();
        let name = format!(
            "{PREFIX}{}-{}",
            std::process::id(),
            COUNTER.fetch_add(1, Ordering::SeqCst)
        );
        std::fs::write(dir.join(OWNER_FILE), std::process::id().to_string()).unwrap();
        std::fs::write(dir.join(NAME_FILE), &name).unwrap();
        // From here on, dropping it tears down whatever was made.
        let mut d = Dockerd {
            dir,
            name,
            child: None,
            containerd: None,
            stopped: false,
        };
        let netns = Command::new("ip")
            .args(["netns", "add", &d.name])
            .output()
            .unwrap();
        assert!(
            netns.status.success(),
            "ip netns add {}: {}",
            d.name,
            String::from_utf8_lossy(&netns.stderr)
        );
        let lo = quiet(Command::new("ip").args(["-n", &d.name, "link", "set", "lo", "up"]));
        assert!(lo.is_ok_and(|s| s.success()), "lo up in {}", d.name);
        std::fs::write(d.dir.join("daemon.json"), "{}\n").unwrap();
        let log = std::fs::File::create(d.log_path()).unwrap();
        let mut nsenter = Command::new("nsenter");
        // Should this test's thread die without dropping it (a kill), dockerd shuts down;
        // the next fixture sweeps the rest. nsenter execs dockerd, which keeps the setting.
        // SAFETY: prctl is async-signal-safe.
        unsafe {
            std::os::unix::process::CommandExt::pre_exec(&mut nsenter, || {
                nix::sys::prctl::set_pdeathsig(Signal::SIGTERM).map_err(std::io::Error::from)
            });
        }
        let child = nsenter
            .arg(format!("--net=/run/netns/{}", d.name))
            .arg("--")
            .arg(&dockerd)
            .arg("--config-file")
            .arg(d.dir.join("daemon.json"))
            .arg("--data-root")
            .arg(d.dir.join("data"))
            .arg("--exec-root")
            .arg(d.dir.join("exec"))
            .arg("--pidfile")
            .arg(d.dir.join("docker.pid"))
            .arg("-H")
            .arg(d.host())
            .args(["--bridge=none", "--iptables=false", "--ip6tables=false"])
            .args([
                "--ip-forward=false",
                "--ip-masq=false",
                "--userland-proxy=false",
            ])
            .args(["--storage-driver", "overlay2"])
            .args(["--containerd-namespace", &d.name])
            .arg("--containerd-plugins-namespace")
            .arg(format!("{}-plugins", d.name))
            // Relative: beneath the cgroups this test runs in, as pier's own containers are.
            .args(["--cgroup-parent", &d.name])
            .stdin(Stdio::null())
            .stdout(log.try_clone().unwrap())
            .stderr(log)
            .spawn()
            .expect("starting nsenter ... dockerd");
        d.child = Some(child);
        let started = Instant::now();
        loop {
            if let Some(status) = d.child.as_mut().unwrap().try_wait().unwrap() {
                panic!("dockerd exited with {status}:\n{}", d.log());
            }
            let answered = quiet(d.docker().arg("version")).is_ok_and(|s| s.success());
            if answered {
                break;
            }
            assert!(
                started.elapsed() < Duration::from_secs(60),
                "dockerd did not answer within 60 s:\n{}",
                d.log()
            );
            std::thread::sleep(Duration::from_millis(50));
        }
        d.containerd = std::fs::read_to_string(d.dir.join("exec/containerd/containerd.pid"))
            .ok()
            .and_then(|p| p.trim().parse().ok());
        eprintln!(
            "dockerd {} answered in {:?} (containerd {:?})",
            d.name,
            started.elapsed(),
            d.containerd
        );
        d
    }

    pub fn dir(&self) -> &Path {
        &self.dir
    }

    pub fn name(&self) -> &str {
        &self.name
    }

    /// Its processes now (dockerd, containerd, shims, containers), as the teardown finds them.
    pub fn processes(&self) -> Vec<(i32, String)> {
        processes_of(&self.dir, &self.name, netns_inode(&self.name))
    }

    fn host(&self) -> String {
        format!("unix://{}", self.dir.join("docker.sock").display())
    }

    fn log_path(&self) -> PathBuf {
        self.dir.join("dockerd.log")
    }

    /// The daemon's log (the last 8 KiB).
    pub fn log(&self) -> String {
        let log = std::fs::read(self.log_path()).unwrap_or_default();
        let tail = &log[log.len().saturating_sub(8 << 10)..];
        String::from_utf8_lossy(tail).into_owned()
    }

    /// The `docker` CLI, talking to this daemon only.
    pub fn docker(&self) -> Command {
        let cli = find_program(&CLI).expect("the docker CLI is not installed (docker.io)");
        let mut cmd = Command::new(cli);
        cmd.arg("-H").arg(self.host());
        for var in [
            "DOCKER_HOST",
            "DOCKER_CONTEXT",
            "DOCKER_TLS_VERIFY",
            "DOCKER_CERT_PATH",
        ] {
            cmd.env_remove(var);
        }
        // The classic builder: BuildKit would want to fetch its frontend.
        cmd.env("DOCKER_BUILDKIT", "0")
            .env("DOCKER_CONFIG", self.dir.join("cli"))
            .stdin(Stdio::null());
        cmd
    }

    /// `docker ARGS`, output captured.
    pub fn run(&self, args: &[&str]) -> Output {
        self.docker().args(args).output().unwrap()
    }

    /// `docker ARGS`, which must succeed; gives back stdout.
    #[track_caller]
    pub fn ok(&self, args: &[&str]) -> String {
        let out = self.run(args);
        assert!(
            out.status.success(),
            "docker {args:?} failed with {:?}\nstdout: {}\nstderr: {}\ndockerd log:\n{}",
            out.status,
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr),
            self.log()
        );
        String::from_utf8_lossy(&out.stdout).into_owned()
    }

    /// Stops the daemon and removes everything of it. Gives back what its own shutdown left
    /// (processes, mounts: removed by force then) and what even that could not remove; both
    /// are empty when all went well.
    pub fn stop(&mut self) -> Vec<String> {
        if self.stopped {
            return Vec::new();
        }
        self.stopped = true;
        let ns_inode = netns_inode(&self.name);
        if let Some(mut child) = self.child.take() {
            let pid = Pid::from_raw(child.id() as i32);
            let _ = kill(pid, Signal::SIGTERM);
            let deadline = Instant::now() + Duration::from_secs(30);
            loop {
                match child.try_wait() {
                    Ok(Some(_)) | Err(_) => break,
                    Ok(None) if Instant::now() >= deadline => {
                        eprintln!("dockerd {} ignored SIGTERM for 30 s: killed", self.name);
                        let _ = child.kill();
                        let _ = child.wait();
                        break;
                    }
                    Ok(None) => std::thread::sleep(Duration::from_millis(20)),
                }
            }
        }
        let mut left: Vec<String> = self.left_by_shutdown(ns_inode);
        left.extend(teardown(&self.dir, &self.name, ns_inode, self.containerd));
        left
    }

    /// Processes and mounts still there once dockerd and its containerd have exited.
    fn left_by_shutdown(&self, ns_inode: Option<u64>) -> Vec<String> {
        if let Some(pid) = self.containerd
            && !wait_gone(&[pid], Duration::from_secs(15))
        {
            return vec![format!("left by dockerd: its containerd {pid}")];
        }
        let mut left = Vec::new();
        for (pid, cmd) in processes_of(&self.dir, &self.name, ns_inode) {
            left.push(format!("left by dockerd: process {pid}: {cmd}"));
        }
        for m in mounts_under(&self.dir) {
            left.push(format!("left by dockerd: mount {}", m.display()));
        }
        left
    }
}

impl Drop for Dockerd {
    fn drop(&mut self) {
        let left = self.stop();
        if !left.is_empty() {
            eprintln!("dockerd {} left: {left:?}", self.name);
        }
    }
}

/// The inode of a named network namespace.
fn netns_inode(name: &str) -> Option<u64> {
    std::fs::metadata(Path::new("/run/netns").join(name))
        .ok()
        .map(|m| m.ino())
}

fn alive(pid: i32) -> bool {
    // A zombie has done all it will; its parent reaps it.
    match std::fs::read_to_string(format!("/proc/{pid}/stat")) {
        Ok(stat) => stat
            .rsplit_once(") ")
            .is_none_or(|(_, rest)| !rest.starts_with('Z')),
        Err(_) => false,
    }
}

/// Waits until none of `pids` is alive; false on timeout.
fn wait_gone(pids: &[i32], timeout: Duration) -> bool {
    let deadline = Instant::now() + timeout;
    while pids.iter().any(|&p| alive(p)) {
        if Instant::now() >= deadline {
            return false;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    true
}

/// Processes that belong to a fixture: in its network namespace, naming its directory or
/// namespaces on their command line, or in its cgroups.
fn processes_of(dir: &Path, name: &str, ns_inode: Option<u64>) -> Vec<(i32, String)> {
    let own = std::process::id() as i32;
    let dir = dir.to_string_lossy().into_owned();
    let plugins = format!("{name}-plugins");
    let net = ns_inode.map(|i| format!("net:[{i}]"));
    let in_cgroup = format!("/{name}/");
    let mut found = Vec::new();
    for entry in std::fs::read_dir("/proc").unwrap().flatten() {
        let Ok(pid) = entry.file_name().to_string_lossy().parse::<i32>() else {
            continue;
        };
        if pid == own || !alive(pid) {
            continue;
        }
        let cmdline = std::fs::read(entry.path().join("cmdline")).unwrap_or_default();
        let args: Vec<String> = cmdline
            .split(|b| *b == 0)
            .map(|a| String::from_utf8_lossy(a).into_owned())
            .collect();
        let named = args
            .iter()
            .any(|a| a.contains(&dir) || *a == name || *a == plugins);
        let netns = std::fs::read_link(entry.path().join("ns/net"))
            .ok()
            .map(|l| l.to_string_lossy().into_owned());
        let in_ns = net.is_some() && netns == net;
        let cgroup = std::fs::read_to_string(entry.path().join("cgroup")).unwrap_or_default();
        let in_cg = cgroup
            .lines()
            .any(|l| l.contains(&in_cgroup) || l.ends_with(&format!("/{name}")));
        if named || in_ns || in_cg {
            found.push((pid, args.join(" ")));
        }
    }
    found
}

/// Mount points at or under `dir`, deepest first.
pub fn mounts_under(dir: &Path) -> Vec<PathBuf> {
    let info = std::fs::read_to_string("/proc/self/mountinfo").unwrap_or_default();
    let mut found: Vec<PathBuf> = info
        .lines()
        .filter_map(|l| l.split(' ').nth(4))
        .map(|m| PathBuf::from(unescape_mount(m)))
        .filter(|m| m.starts_with(dir))
        .collect();
    found.sort_by_key(|m| std::cmp::Reverse(m.components().count()));
    found.dedup();
    found
}

/// mountinfo escapes space, tab, newline and backslash as octal.
fn unescape_mount(s: &str) -> String {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'\\' && i + 3 < bytes.len() {
            let octal = std::str::from_utf8(&bytes[i + 1..i + 4]).ok();
            if let Some(v) = octal.and_then(|o| u8::from_str_radix(o, 8).ok()) {
                out.push(v);
                i += 4;
                continue;
            }
        }
        out.push(bytes[i]);
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// Cgroup directories named `name`, beneath this process's own cgroups (where a relative
/// `--cgroup-parent` puts them) and at the roots of the hierarchies.
fn cgroups_named(name: &str) -> Vec<PathBuf> {
    let mut found = Vec::new();
    for (mount, own) in crate::support::own_cgroups() {
        for base in [own, mount] {
            let candidate = base.join(name);
            if candidate.is_dir() && !found.contains(&candidate) {
                found.push(candidate);
            }
        }
    }
    // A v2-only machine: one hierarchy at /sys/fs/cgroup.
    let v2 = Path::new("/sys/fs/cgroup").join(name);
    if v2.is_dir() && !found.contains(&v2) {
        found.push(v2);
    }
    found
}

/// Removes a cgroup directory and the (empty) groups beneath it, deepest first.
fn remove_cgroup_tree(dir: &Path) -> std::io::Result<()> {
    for entry in std::fs::read_dir(dir)?.flatten() {
        if entry.file_type().is_ok_and(|t| t.is_dir()) {
            remove_cgroup_tree(&entry.path())?;
        }
    }
    std::fs::remove_dir(dir)
}

/// What is left of a fixture after its teardown.
fn leftovers(dir: &Path, name: &str, ns_inode: Option<u64>) -> Vec<String> {
    let mut left = Vec::new();
    for (pid, cmd) in processes_of(dir, name, ns_inode) {
        left.push(format!("left after teardown: process {pid}: {cmd}"));
    }
    for m in mounts_under(dir) {
        left.push(format!("left after teardown: mount {}", m.display()));
    }
    if Path::new("/run/netns").join(name).exists() {
        left.push(format!("left after teardown: network namespace {name}"));
    }
    for cg in cgroups_named(name) {
        left.push(format!("left after teardown: cgroup {}", cg.display()));
    }
    if dir.exists() {
        left.push(format!("left after teardown: directory {}", dir.display()));
    }
    left
}

/// Best effort, every step tried: containerd waited for (killed if it stays), any other
/// process of the fixture killed by PID, mounts under its directory detached, its network
/// namespace and cgroups removed, its directory deleted. Gives back what is left.
fn teardown(dir: &Path, name: &str, ns_inode: Option<u64>, containerd: Option<i32>) -> Vec<String> {
    if let Some(pid) = containerd
        && !wait_gone(&[pid], Duration::from_secs(15))
    {
        eprintln!("containerd {pid} of {name} outlived dockerd: killed");
        let _ = kill(Pid::from_raw(pid), Signal::SIGKILL);
        wait_gone(&[pid], Duration::from_secs(10));
    }
    let stray = processes_of(dir, name, ns_inode);
    if !stray.is_empty() {
        eprintln!("processes of {name} left after dockerd stopped: killed: {stray:?}");
        for (pid, _) in &stray {
            let _ = kill(Pid::from_raw(*pid), Signal::SIGKILL);
        }
        let pids: Vec<i32> = stray.iter().map(|(p, _)| *p).collect();
        wait_gone(&pids, Duration::from_secs(10));
    }
    for _ in 0..3 {
        let mounts = mounts_under(dir);
        if mounts.is_empty() {
            break;
        }
        for m in mounts {
            let _ = nix::mount::umount2(&m, nix::mount::MntFlags::MNT_DETACH);
        }
    }
    if Path::new("/run/netns").join(name).exists() {
        let _ = quiet(Command::new("ip").args(["netns", "delete", name]));
    }
    for cg in cgroups_named(name) {
        if let Err(e) = remove_cgroup_tree(&cg) {
            eprintln!("removing cgroup {}: {e}", cg.display());
        }
    }
    if let Err(e) = std::fs::remove_dir_all(dir)
        && e.kind() != std::io::ErrorKind::NotFound
    {
        eprintln!("removing {}: {e}", dir.display());
    }
    leftovers(dir, name, ns_inode)
}

/// Tears down the fixtures of test processes that were killed (a timeout, ^C).
fn sweep_abandoned() {
    for path in crate::support::abandoned_fixtures(&std::env::temp_dir(), PREFIX) {
        let Ok(name) = std::fs::read_to_string(path.join(NAME_FILE)) else {
            continue;
        };
        let name = name.trim().to_owned();
        if let Some(pid) = std::fs::read_to_string(path.join("docker.pid"))
            .ok()
            .and_then(|p| p.trim().parse::<i32>().ok())
            .filter(|p| alive(*p))
        {
            let _ = kill(Pid::from_raw(pid), Signal::SIGTERM);
            if !wait_gone(&[pid], Duration::from_secs(20)) {
                let _ = kill(Pid::from_raw(pid), Signal::SIGKILL);
            }
        }
        let left = teardown(&path, &name, netns_inode(&name), None);
        eprintln!("swept the abandoned dockerd {name}; left: {left:?}");
    }
}
