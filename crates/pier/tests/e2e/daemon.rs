//! A private `pier daemon` for end-to-end tests of the engine, driven through pier's CLI, the
//! real docker CLI (28 and Debian's 20.10) and docker-py.
//!
//! Each [`PierDaemon`] has a directory of its own under /var/tmp (overlay upper directories
//! need a real file system, which /tmp may not be), a network namespace of its own (entered
//! with `nsenter --net`, never `ip netns exec`, which remounts /sys), its own data and exec
//! roots and socket, and an image `busybox:latest` imported from Debian's busybox-static.
//! Dropping it removes every container through the API, stops the daemon by PID, then
//! removes by force whatever is left (processes found from the exec root, mounts, cgroups,
//! the namespace, the directory) and fails the test if pier itself left anything. Fixtures of
//! test processes that were killed are swept when the next one starts.

#![allow(dead_code)]

use std::io::{Read, Write};
use std::os::fd::{AsFd, OwnedFd};
use std::os::unix::fs::MetadataExt;
use std::os::unix::net::UnixStream;
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Output, Stdio};
use std::sync::OnceLock;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use nix::sys::signal::{Signal, kill};
use nix::unistd::Pid;

use crate::dockerd::mounts_under;
use crate::support::{PIER, cgroup_dirs_named, make_busybox_rootfs, require_root};

/// Short: unix socket paths (at most 107 bytes) are made under the exec root, e.g.
/// `<dir>/run/execs/<64 hex>.d/console.sock`; `/var/tmp/pe-XXXX/run` leaves them 106.
const PREFIX: &str = "pe-";
const NETNS_PREFIX: &str = "pier-e2e-";
use crate::support::OWNER_FILE;
const NETNS_FILE: &str = "netns";
const PID_FILE: &str = "daemon.pid";
/// Where fixtures live: not /tmp, which may be a tmpfs (no overlay upper dirs there).
const BASE: &str = "/var/tmp";
/// The docker CLI 28 (API 1.50, negotiates down) and Debian's 20.10 client.
pub const DOCKER: &str = "/usr/local/bin/docker";
pub const DOCKER20: &str = "/usr/bin/docker";

static COUNTER: AtomicUsize = AtomicUsize::new(0);

pub struct PierDaemon {
    dir: PathBuf,
    netns: String,
    child: Option<Child>,
}

/// A tar of the busybox root filesystem, made once per test process.
pub fn busybox_tar() -> &'static [u8] {
    static TAR: OnceLock<Vec<u8>> = OnceLock::new();
    TAR.get_or_init(|| {
        let scratch = tempfile::Builder::new()
            .prefix("pier-busybox-")
            .tempdir_in(BASE)
            .unwrap();
        let rootfs = scratch.path().join("rootfs");
        make_busybox_rootfs(&rootfs);
        let mut tar = Vec::new();
        image::layer::write_tree(&rootfs, &mut tar).unwrap();
        tar
    })
}

impl PierDaemon {
    /// Starts a daemon in a namespace of its own, waits until it answers and imports
    /// `busybox:latest` into it.
    pub fn start() -> PierDaemon {
        Self::start_named(PREFIX)
    }

    /// As [`PierDaemon::start`], in a directory whose name starts with `prefix` (which must
    /// start with `pe-`, for the sweeper): a long one makes long socket paths.
    pub fn start_named(prefix: &str) -> PierDaemon {
        assert!(prefix.starts_with(PREFIX));
        require_root();
        static SWEPT: std::sync::Once = std::sync::Once::new();
        SWEPT.call_once(sweep_abandoned);
        let dir = tempfile::Builder::new()
            .prefix(prefix)
            .rand_bytes(4)
            .tempdir_in(BASE)
            .unwrap()
            .keep();
        let netns = format!(
            "{NETNS_PREFIX}{}-{}",
            std::process::id(),
            COUNTER.fetch_add(1, Ordering::SeqCst)
        );
        std::fs::write(dir.join(OWNER_FILE), std::process::id().to_string()).unwrap();
        std::fs::write(dir.join(NETNS_FILE), &netns).unwrap();
        std::fs::create_dir_all(dir.join("home/.docker")).unwrap();
        // From here on, dropping it tears down whatever was made.
        let mut d = PierDaemon {
            dir,
            netns,
            child: None,
        };
        let add = Command::new("ip")
            .args(["netns", "add", &d.netns])
            .output()
            .unwrap();
        assert!(
            add.status.success(),
            "ip netns add {}: {}",
            d.netns,
            String::from_utf8_lossy(&add.stderr)
        );
        let lo = quiet(Command::new("ip").args(["-n", &d.netns, "link", "set", "lo", "up"]));
        assert!(lo.is_ok_and(|s| s.success()), "lo up in {}", d.netns);
        d.spawn_daemon();
        let mut import = d.pier_cmd();
        import
            .args(["import", "-", "busybox:latest"])
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        let mut child = import.spawn().unwrap();
        let mut stdin = child.stdin.take().unwrap();
        let writer = std::thread::spawn(move || stdin.write_all(busybox_tar()));
        let out = child.wait_with_output().unwrap();
        let _ = writer.join();
        d.assert_ok("import - busybox:latest", &out);
        d
    }

    pub fn dir(&self) -> &Path {
        &self.dir
    }

    pub fn data_root(&self) -> PathBuf {
        self.dir.join("data")
    }

    pub fn exec_root(&self) -> PathBuf {
        self.dir.join("run")
    }

    pub fn socket(&self) -> PathBuf {
        self.dir.join("pier.sock")
    }

    /// `unix:///var/tmp/pier-engine-.../pier.sock`
    pub fn host(&self) -> String {
        format!("unix://{}", self.socket().display())
    }

    /// A scratch directory for the test (removed with the fixture).
    pub fn scratch(&self, name: &str) -> PathBuf {
        let path = self.dir.join("scratch").join(name);
        std::fs::create_dir_all(&path).unwrap();
        path
    }

    /// The daemon's PID while it runs.
    pub fn pid(&self) -> Option<i32> {
        self.child.as_ref().map(|c| c.id() as i32)
    }

    fn log_path(&self) -> PathBuf {
        self.dir.join("daemon.log")
    }

    /// The daemon's log (the last 8 KiB).
    pub fn log(&self) -> String {
        let log = std::fs::read(self.log_path()).unwrap_or_default();
        let tail = &log[log.len().saturating_sub(8 << 10)..];
        String::from_utf8_lossy(tail).into_owned()
    }

    #[track_caller]
    fn spawn_daemon(&mut self) {
        if let Err(e) = self.try_spawn_daemon() {
            panic!("{e}");
        }
    }

    /// Starts the daemon and waits until it answers; never panics (it also runs in `drop`).
    fn try_spawn_daemon(&mut self) -> Result<(), String> {
        if self.child.is_some() {
            return Err("the daemon already runs".into());
        }
        let log = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(self.log_path())
            .and_then(|log| Ok((log.try_clone()?, log)))
            .map_err(|e| format!("opening the daemon's log: {e}"))?;
        let mut nsenter = Command::new("nsenter");
        // Should the test's thread die without dropping the fixture, the daemon stops (its
        // containers stay, as they would in production); the next fixture sweeps them.
        // SAFETY: prctl is async-signal-safe; nsenter execs pier, which keeps the setting.
        unsafe {
            nsenter.pre_exec(|| {
                nix::sys::prctl::set_pdeathsig(Signal::SIGTERM).map_err(std::io::Error::from)
            });
        }
        let child = nsenter
            .arg(format!("--net=/run/netns/{}", self.netns))
            .arg("--")
            .arg(PIER)
            .arg("daemon")
            .arg("--data-root")
            .arg(self.data_root())
            .arg("--exec-root")
            .arg(self.exec_root())
            .arg("-H")
            .arg(self.host())
            .env_remove("PIER_HOST")
            .stdin(Stdio::null())
            .stdout(log.0)
            .stderr(log.1)
            .spawn()
            .map_err(|e| format!("starting nsenter ... pier daemon: {e}"))?;
        let _ = std::fs::write(self.dir.join(PID_FILE), child.id().to_string());
        self.child = Some(child);
        let started = Instant::now();
        loop {
            let Some(child) = self.child.as_mut() else {
                return Err("the daemon went away".into());
            };
            match child.try_wait() {
                Ok(None) => {}
                Ok(Some(status)) => {
                    self.child = None;
                    return Err(format!("pier daemon exited with {status}:\n{}", self.log()));
                }
                Err(e) => return Err(format!("waiting for pier daemon: {e}")),
            }
            if self.ping() {
                return Ok(());
            }
            if started.elapsed() > Duration::from_secs(20) {
                return Err(format!(
                    "pier daemon did not answer /_ping within 20 s:\n{}",
                    self.log()
                ));
            }
            std::thread::sleep(Duration::from_millis(10));
        }
    }

    /// Whether `/_ping` answers `OK`.
    pub fn ping(&self) -> bool {
        try_request(&self.socket(), "GET", "/_ping", None)
            .is_ok_and(|r| r.status == 200 && r.body == b"OK")
    }

    /// SIGTERM to the daemon, by PID; waits until it exits (killed after 30 s).
    pub fn stop(&mut self) {
        let Some(mut child) = self.child.take() else {
            return;
        };
        let _ = kill(Pid::from_raw(child.id() as i32), Signal::SIGTERM);
        let deadline = Instant::now() + Duration::from_secs(30);
        loop {
            match child.try_wait() {
                Ok(Some(_)) | Err(_) => break,
                Ok(None) if Instant::now() >= deadline => {
                    eprintln!("pier daemon ignored SIGTERM for 30 s: killed");
                    let _ = child.kill();
                    let _ = child.wait();
                    break;
                }
                Ok(None) => std::thread::sleep(Duration::from_millis(10)),
            }
        }
    }

    /// SIGKILL to the daemon, by PID; waits until it is gone.
    pub fn kill9(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = kill(Pid::from_raw(child.id() as i32), Signal::SIGKILL);
            let _ = child.wait();
        }
    }

    /// Starts the daemon again on the same roots and socket (stopping it first if it runs).
    pub fn restart(&mut self) {
        self.stop();
        self.spawn_daemon();
    }

    /// `pier -H unix://<socket>`, talking to this daemon only, with stdin closed.
    pub fn pier_cmd(&self) -> Command {
        let mut cmd = Command::new(PIER);
        cmd.arg("-H").arg(self.host());
        self.client_env(&mut cmd);
        cmd
    }

    /// The daemon's network namespace, for `nsenter --net=`.
    pub fn netns_path(&self) -> String {
        format!("/run/netns/{}", self.netns)
    }

    /// `PROGRAM ARGS` in the daemon's network namespace (entered with `nsenter --net`, which
    /// keeps the cgroup mounts in view), output captured.
    pub fn in_netns(&self, program: &str, args: &[&str]) -> Output {
        let mut cmd = Command::new("nsenter");
        cmd.arg(format!("--net=/run/netns/{}", self.netns))
            .arg("--")
            .arg(program)
            .args(args)
            .stdin(Stdio::null());
        run_captured(&mut cmd, &format!("{program} {args:?} in the netns"), self)
    }

    /// `pier ARGS`, output captured; fails the test if it takes longer than [`COMMAND_TIMEOUT`].
    pub fn pier(&self, args: &[&str]) -> Output {
        run_captured(self.pier_cmd().args(args), &format!("pier {args:?}"), self)
    }

    /// `pier ARGS`, which must succeed; gives back stdout.
    #[track_caller]
    pub fn pier_ok(&self, args: &[&str]) -> String {
        let out = self.pier(args);
        self.assert_ok(&format!("pier {args:?}"), &out);
        String::from_utf8_lossy(&out.stdout).into_owned()
    }

    /// The docker CLI 28, talking to this daemon through `DOCKER_HOST`.
    pub fn docker_cmd(&self) -> Command {
        let mut cmd = Command::new(DOCKER);
        self.client_env(&mut cmd);
        cmd.env("DOCKER_HOST", self.host());
        cmd
    }

    /// Debian's docker CLI 20.10, talking to this daemon through `DOCKER_HOST`.
    pub fn docker20_cmd(&self) -> Command {
        let mut cmd = Command::new(DOCKER20);
        self.client_env(&mut cmd);
        cmd.env("DOCKER_HOST", self.host());
        cmd
    }

    pub fn docker(&self, args: &[&str]) -> Output {
        run_captured(
            self.docker_cmd().args(args),
            &format!("docker {args:?}"),
            self,
        )
    }

    pub fn docker20(&self, args: &[&str]) -> Output {
        run_captured(
            self.docker20_cmd().args(args),
            &format!("docker20 {args:?}"),
            self,
        )
    }

    /// `docker ARGS` (28), which must succeed; gives back stdout.
    #[track_caller]
    pub fn docker_ok(&self, args: &[&str]) -> String {
        let out = self.docker(args);
        self.assert_ok(&format!("docker {args:?}"), &out);
        String::from_utf8_lossy(&out.stdout).into_owned()
    }

    /// `docker ARGS` (20.10), which must succeed; gives back stdout.
    #[track_caller]
    pub fn docker20_ok(&self, args: &[&str]) -> String {
        let out = self.docker20(args);
        self.assert_ok(&format!("docker20 {args:?}"), &out);
        String::from_utf8_lossy(&out.stdout).into_owned()
    }

    /// `python3 fixtures/<script> ARGS`, with `DOCKER_HOST` naming this daemon.
    pub fn python(&self, script: &str, args: &[&str]) -> Output {
        let path = Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("tests/e2e/fixtures")
            .join(script);
        let mut cmd = Command::new("python3");
        self.client_env(&mut cmd);
        cmd.env("DOCKER_HOST", self.host())
            .env("PYTHONDONTWRITEBYTECODE", "1")
            .env("PYTHONUNBUFFERED", "1")
            .arg(path)
            .args(args);
        run_captured(&mut cmd, &format!("python3 {script} {args:?}"), self)
    }

    /// No user configuration, no other daemon: every client sees this one only.
    fn client_env(&self, cmd: &mut Command) {
        for var in [
            "PIER_HOST",
            "DOCKER_HOST",
            "DOCKER_CONTEXT",
            "DOCKER_TLS_VERIFY",
            "DOCKER_CERT_PATH",
            "DOCKER_API_VERSION",
        ] {
            cmd.env_remove(var);
        }
        let home = self.dir.join("home");
        cmd.env("HOME", &home)
            .env("DOCKER_CONFIG", home.join(".docker"))
            .env("DOCKER_CLI_HINTS", "false")
            .stdin(Stdio::null());
    }

    #[track_caller]
    pub fn assert_ok(&self, what: &str, out: &Output) {
        assert!(
            out.status.success(),
            "{what} failed with {:?}\nstdout: {}\nstderr: {}\ndaemon log:\n{}",
            out.status,
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr),
            self.log()
        );
    }

    /// One HTTP/1.1 request over the daemon's socket.
    #[track_caller]
    pub fn request(&self, method: &str, path: &str, body: Option<&[u8]>) -> HttpResponse {
        try_request(&self.socket(), method, path, body)
            .unwrap_or_else(|e| panic!("{method} {path}: {e}\ndaemon log:\n{}", self.log()))
    }

    /// Polls `check` every 20 ms until it holds; panics with `what` after `timeout`.
    #[track_caller]
    pub fn wait_until(&self, what: &str, timeout: Duration, mut check: impl FnMut() -> bool) {
        let deadline = Instant::now() + timeout;
        while !check() {
            assert!(
                Instant::now() < deadline,
                "{what}: not within {timeout:?}\ndaemon log:\n{}",
                self.log()
            );
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    /// `docker inspect` of a container as JSON, through the API.
    #[track_caller]
    pub fn inspect(&self, container: &str) -> serde_json::Value {
        let r = self.request("GET", &format!("/containers/{container}/json"), None);
        assert_eq!(r.status, 200, "inspect {container}: {}", r.text());
        r.json()
    }

    /// Container ids known on disk: the data root's containers, the bundles and the runtime's
    /// states.
    pub fn container_ids_on_disk(&self) -> Vec<String> {
        container_ids_in(&self.dir)
    }

    /// Stops everything and reports what pier left behind (empty when all went well).
    /// Also gives back the daemon's log, read before the directory goes.
    fn teardown(&mut self) -> (Vec<String>, String) {
        if self.child.is_none() && self.socket().exists() {
            // Containers are removed through the API, as a user would: start the daemon
            // again if the test left it stopped.
            if let Err(e) = self.try_spawn_daemon() {
                eprintln!("pier daemon could not be restarted for cleanup: {e}");
            }
        }
        let mut ids = self.container_ids_on_disk();
        let mut left = Vec::new();
        if self.child.is_some() {
            match try_request(&self.socket(), "GET", "/containers/json?all=1", None) {
                Ok(list) if list.status == 200 => {
                    for c in list.json().as_array().cloned().unwrap_or_default() {
                        let Some(id) = c["Id"].as_str() else { continue };
                        if !ids.iter().any(|i| i == id) {
                            ids.push(id.to_owned());
                        }
                        let path = format!("/containers/{id}?force=1&v=1");
                        match try_request(&self.socket(), "DELETE", &path, None) {
                            Ok(r) if r.status == 204 || r.status == 404 => {}
                            Ok(r) => left.push(format!("rm -f {id}: {} {}", r.status, r.text())),
                            Err(e) => left.push(format!("rm -f {id}: {e}")),
                        }
                    }
                }
                Ok(list) => left.push(format!("listing containers: {}", list.status)),
                Err(e) => left.push(format!("listing containers: {e}")),
            }
        }
        self.stop();
        let ns_inode = netns_inode(&self.netns);
        for (pid, cmd) in processes_of(&self.dir, &ids, ns_inode) {
            left.push(format!("left by pier: process {pid}: {cmd}"));
        }
        for m in mounts_under(&self.dir) {
            left.push(format!("left by pier: mount {}", m.display()));
        }
        for id in &ids {
            for cg in cgroup_dirs_named(id) {
                left.push(format!("left by pier: cgroup {}", cg.display()));
            }
        }
        let log = self.log();
        left.extend(force_teardown(&self.dir, &self.netns, &ids, ns_inode));
        (left, log)
    }
}

impl Drop for PierDaemon {
    fn drop(&mut self) {
        let (left, log) = self.teardown();
        if left.is_empty() {
            return;
        }
        if std::thread::panicking() {
            eprintln!("pier daemon {} left: {left:#?}", self.netns);
        } else {
            panic!(
                "pier daemon {} left: {left:#?}\ndaemon log:\n{log}",
                self.netns
            );
        }
    }
}

/// How long one client command may take before the test fails (a hang is a bug too).
pub const COMMAND_TIMEOUT: Duration = Duration::from_secs(30);

#[track_caller]
fn run_captured(cmd: &mut Command, what: &str, d: &PierDaemon) -> Output {
    let child = cmd
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap_or_else(|e| panic!("{what}: {e}"));
    match wait_output_or_timeout(child, COMMAND_TIMEOUT) {
        Ok(out) => out,
        Err(out) => panic!(
            "{what} still ran after {COMMAND_TIMEOUT:?}: killed\nstdout: {}\nstderr: {}\ndaemon log:\n{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr),
            d.log()
        ),
    }
}

/// Waits for a child whose stdout and stderr are piped, collecting them (on threads, so that a
/// full pipe never stalls it); kills it and panics after `timeout`.
#[track_caller]
pub fn wait_output(child: Child, timeout: Duration) -> Output {
    wait_output_or_timeout(child, timeout).unwrap_or_else(|out| {
        panic!(
            "still running after {timeout:?}\nstdout: {}\nstderr: {}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        )
    })
}

/// As [`wait_output`]; on timeout the child is killed and what it wrote is the error.
pub fn wait_output_or_timeout(mut child: Child, timeout: Duration) -> Result<Output, Output> {
    fn collect(pipe: Option<impl Read + Send + 'static>) -> std::thread::JoinHandle<Vec<u8>> {
        std::thread::spawn(move || {
            let mut buf = Vec::new();
            if let Some(mut pipe) = pipe {
                let _ = pipe.read_to_end(&mut buf);
            }
            buf
        })
    }
    let stdout = collect(child.stdout.take());
    let stderr = collect(child.stderr.take());
    let deadline = Instant::now() + timeout;
    let (status, finished) = loop {
        if let Some(status) = child.try_wait().unwrap() {
            break (status, true);
        }
        if Instant::now() >= deadline {
            let _ = child.kill();
            break (child.wait().unwrap(), false);
        }
        std::thread::sleep(Duration::from_millis(10));
    };
    let out = Output {
        status,
        stdout: stdout.join().unwrap_or_default(),
        stderr: stderr.join().unwrap_or_default(),
    };
    if finished { Ok(out) } else { Err(out) }
}

/// A status, headers (names in lower case) and a body (de-chunked).
#[derive(Debug)]
pub struct HttpResponse {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
}

impl HttpResponse {
    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }

    #[track_caller]
    pub fn json(&self) -> serde_json::Value {
        serde_json::from_slice(&self.body)
            .unwrap_or_else(|e| panic!("not JSON ({e}): {}", self.text()))
    }

    /// The `message` of Docker's error body.
    pub fn message(&self) -> String {
        serde_json::from_slice::<serde_json::Value>(&self.body)
            .ok()
            .and_then(|v| v["message"].as_str().map(str::to_owned))
            .unwrap_or_else(|| self.text())
    }

    pub fn header(&self, name: &str) -> Option<&str> {
        let name = name.to_ascii_lowercase();
        self.headers
            .iter()
            .find(|(n, _)| *n == name)
            .map(|(_, v)| v.as_str())
    }
}

/// A minimal HTTP/1.1 client: one request per connection (`Connection: close`), the whole
/// response read, chunked bodies decoded.
pub fn try_request(
    socket: &Path,
    method: &str,
    path: &str,
    body: Option<&[u8]>,
) -> std::io::Result<HttpResponse> {
    let mut stream = UnixStream::connect(socket)?;
    stream.set_read_timeout(Some(Duration::from_secs(60)))?;
    let mut head = format!("{method} {path} HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n");
    if let Some(body) = body {
        head.push_str("Content-Type: application/json\r\n");
        head.push_str(&format!("Content-Length: {}\r\n", body.len()));
    } else if method == "POST" || method == "PUT" {
        head.push_str("Content-Length: 0\r\n");
    }
    head.push_str("\r\n");
    stream.write_all(head.as_bytes())?;
    if let Some(body) = body {
        stream.write_all(body)?;
    }
    let mut raw = Vec::new();
    stream.read_to_end(&mut raw)?;
    parse_response(&raw).ok_or_else(|| {
        std::io::Error::other(format!("bad response: {:?}", String::from_utf8_lossy(&raw)))
    })
}

fn parse_response(raw: &[u8]) -> Option<HttpResponse> {
    let end = raw.windows(4).position(|w| w == b"\r\n\r\n")?;
    let head = std::str::from_utf8(&raw[..end]).ok()?;
    let mut lines = head.split("\r\n");
    let status: u16 = lines.next()?.split(' ').nth(1)?.parse().ok()?;
    let headers: Vec<(String, String)> = lines
        .filter_map(|l| l.split_once(':'))
        .map(|(n, v)| (n.trim().to_ascii_lowercase(), v.trim().to_owned()))
        .collect();
    let rest = &raw[end + 4..];
    let chunked = headers
        .iter()
        .any(|(n, v)| n == "transfer-encoding" && v.eq_ignore_ascii_case("chunked"));
    let body = if chunked {
        dechunk(rest)?
    } else {
        let length = headers
            .iter()
            .find(|(n, _)| n == "content-length")
            .and_then(|(_, v)| v.parse::<usize>().ok());
        match length {
            Some(n) => rest.get(..n)?.to_vec(),
            None => rest.to_vec(),
        }
    };
    Some(HttpResponse {
        status,
        headers,
        body,
    })
}

fn dechunk(mut rest: &[u8]) -> Option<Vec<u8>> {
    let mut body = Vec::new();
    loop {
        let line_end = rest.windows(2).position(|w| w == b"\r\n")?;
        let size_text = std::str::from_utf8(&rest[..line_end]).ok()?;
        let size = usize::from_str_radix(size_text.split(';').next()?.trim(), 16).ok()?;
        rest = &rest[line_end + 2..];
        if size == 0 {
            return Some(body);
        }
        body.extend_from_slice(rest.get(..size)?);
        rest = rest.get(size + 2..)?;
    }
}

/// A command run with a pseudo-terminal as its controlling terminal and stdio, as in an
/// interactive shell.
pub struct PtySession {
    master: OwnedFd,
    child: Child,
    /// Everything read from the terminal so far.
    pub seen: String,
}

impl PtySession {
    pub fn spawn(mut cmd: Command) -> PtySession {
        let size = nix::pty::Winsize {
            ws_row: 24,
            ws_col: 80,
            ws_xpixel: 0,
            ws_ypixel: 0,
        };
        let pty = nix::pty::openpty(Some(&size), None).unwrap();
        cmd.stdin(pty.slave.try_clone().unwrap())
            .stdout(pty.slave.try_clone().unwrap())
            .stderr(pty.slave);
        // SAFETY: setsid and ioctl(TIOCSCTTY) are async-signal-safe and touch no memory of
        // the parent's; stdin (fd 0) is the pty's slave by now.
        unsafe {
            cmd.pre_exec(|| {
                nix::unistd::setsid().map_err(std::io::Error::from)?;
                if libc::ioctl(0, libc::TIOCSCTTY, 0) == -1 {
                    return Err(std::io::Error::last_os_error());
                }
                Ok(())
            });
        }
        let child = cmd.spawn().unwrap();
        // `cmd` (holding the slave's copies) is dropped here: the master then sees EIO once
        // the child and its descendants have closed the terminal.
        PtySession {
            master: pty.master,
            child,
            seen: String::new(),
        }
    }

    pub fn write(&self, bytes: &[u8]) {
        let mut written = 0;
        while written < bytes.len() {
            written += nix::unistd::write(&self.master, &bytes[written..]).unwrap();
        }
    }

    /// Reads what is there within `wait`; false once the terminal is closed.
    fn pump(&mut self, wait: Duration) -> bool {
        let mut fds = [nix::poll::PollFd::new(
            self.master.as_fd(),
            nix::poll::PollFlags::POLLIN,
        )];
        let millis = u16::try_from(wait.as_millis()).unwrap_or(u16::MAX);
        match nix::poll::poll(&mut fds, nix::poll::PollTimeout::from(millis)) {
            Ok(0) => return true,
            Ok(_) => {}
            Err(nix::errno::Errno::EINTR) => return true,
            Err(_) => return false,
        }
        let mut buf = [0u8; 4096];
        match nix::unistd::read(&self.master, &mut buf) {
            Ok(0) | Err(_) => false,
            Ok(n) => {
                self.seen.push_str(&String::from_utf8_lossy(&buf[..n]));
                true
            }
        }
    }

    /// Reads until `needle` has been seen (true), the terminal closed or `timeout` passed.
    pub fn read_until(&mut self, needle: &str, timeout: Duration) -> bool {
        let deadline = Instant::now() + timeout;
        while !self.seen.contains(needle) && Instant::now() < deadline {
            if !self.pump(Duration::from_millis(50)) {
                break;
            }
        }
        self.seen.contains(needle)
    }

    /// Waits for the command to end, reading the terminal meanwhile; kills it after
    /// `timeout` and panics.
    #[track_caller]
    pub fn wait(&mut self, timeout: Duration) -> ExitStatus {
        let deadline = Instant::now() + timeout;
        loop {
            if let Some(status) = self.child.try_wait().unwrap() {
                while self.pump(Duration::from_millis(10)) {}
                return status;
            }
            if Instant::now() >= deadline {
                let _ = self.child.kill();
                let _ = self.child.wait();
                panic!("still running after {timeout:?}; terminal: {:?}", self.seen);
            }
            if !self.pump(Duration::from_millis(20)) {
                std::thread::sleep(Duration::from_millis(10));
            }
        }
    }
}

impl Drop for PtySession {
    fn drop(&mut self) {
        if let Ok(None) = self.child.try_wait() {
            let _ = self.child.kill();
            let _ = self.child.wait();
        }
    }
}

fn quiet(cmd: &mut Command) -> std::io::Result<ExitStatus> {
    cmd.stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
}

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

/// The start time of a process (clock ticks since boot), field 22 of /proc/PID/stat.
fn start_time(pid: i32) -> Option<u64> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    let (_, rest) = stat.rsplit_once(") ")?;
    rest.split(' ').nth(19)?.parse().ok()
}

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

/// Container ids under a fixture's directory: its data root's containers and the runtime's
/// state directories in its exec root.
fn container_ids_in(dir: &Path) -> Vec<String> {
    let mut ids = Vec::new();
    for parent in [
        dir.join("data/containers"),
        dir.join("run/containers"),
        dir.join("run/runtime"),
    ] {
        for entry in std::fs::read_dir(parent).into_iter().flatten().flatten() {
            let name = entry.file_name().to_string_lossy().into_owned();
            let is_id = name.len() == 64 && name.bytes().all(|b| b.is_ascii_hexdigit());
            if is_id && !ids.contains(&name) {
                ids.push(name);
            }
        }
    }
    ids
}

/// Processes of a fixture: naming its directory on their command line, with their working
/// directory or root under it, in its network namespace, or in a cgroup of its containers.
fn processes_of(dir: &Path, ids: &[String], ns_inode: Option<u64>) -> Vec<(i32, String)> {
    let own = std::process::id() as i32;
    let dir_text = dir.to_string_lossy().into_owned();
    let net = ns_inode.map(|i| format!("net:[{i}]"));
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
        let named = args.iter().any(|a| a.contains(&dir_text));
        let under = |link: &str| {
            std::fs::read_link(entry.path().join(link)).is_ok_and(|p| p.starts_with(dir))
        };
        let netns = std::fs::read_link(entry.path().join("ns/net"))
            .ok()
            .map(|l| l.to_string_lossy().into_owned());
        let in_ns = net.is_some() && netns == net;
        let cgroup = std::fs::read_to_string(entry.path().join("cgroup")).unwrap_or_default();
        let in_cg = ids
            .iter()
            .any(|id| cgroup.lines().any(|l| l.ends_with(&format!("/{id}"))));
        if named || under("cwd") || under("root") || in_ns || in_cg {
            found.push((pid, args.join(" ")));
        }
    }
    found
}

fn remove_cgroup_tree(dir: &Path) -> std::io::Result<()> {
    for entry in std::fs::read_dir(dir)?.flatten() {
        if entry.file_type().is_ok_and(|t| t.is_dir()) {
            remove_cgroup_tree(&entry.path())?;
        }
    }
    std::fs::remove_dir(dir)
}

/// Best effort, every step tried: containers' inits and shims killed by the PIDs their
/// runtime states record (start times checked), any other process of the fixture killed,
/// mounts under the directory detached, cgroups of its containers, its network namespace and
/// its directory removed. Gives back what even this could not remove.
fn force_teardown(dir: &Path, netns: &str, ids: &[String], ns_inode: Option<u64>) -> Vec<String> {
    let mut killed = Vec::new();
    for id in ids {
        let state = dir.join("run/runtime").join(id).join("state.json");
        let Some(state) = std::fs::read(&state)
            .ok()
            .and_then(|s| serde_json::from_slice::<serde_json::Value>(&s).ok())
        else {
            continue;
        };
        for (pid, started) in [("pid", "pid_start_time"), ("shim_pid", "shim_start_time")] {
            let pid = state[pid].as_i64().and_then(|p| i32::try_from(p).ok());
            let started = state[started].as_u64();
            if let (Some(pid), Some(started)) = (pid, started)
                && pid > 0
                && start_time(pid) == Some(started)
            {
                let _ = kill(Pid::from_raw(pid), Signal::SIGKILL);
                killed.push(pid);
            }
        }
    }
    wait_gone(&killed, Duration::from_secs(10));
    let stray = processes_of(dir, ids, ns_inode);
    if !stray.is_empty() {
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
    for id in ids {
        for cg in cgroup_dirs_named(id) {
            if let Err(e) = remove_cgroup_tree(&cg) {
                eprintln!("removing cgroup {}: {e}", cg.display());
            }
        }
    }
    if Path::new("/run/netns").join(netns).exists() {
        let _ = quiet(Command::new("ip").args(["netns", "delete", netns]));
    }
    if let Err(e) = std::fs::remove_dir_all(dir)
        && e.kind() != std::io::ErrorKind::NotFound
    {
        eprintln!("removing {}: {e}", dir.display());
    }
    let mut left = Vec::new();
    // A namespace deleted above gives its inode number back to the kernel, which hands it to
    // the next namespace made (another test's daemon's, or a ready one of its): past that,
    // the number no longer names this fixture's.
    let ns_inode = ns_inode.filter(|_| Path::new("/run/netns").join(netns).exists());
    for (pid, cmd) in processes_of(dir, ids, ns_inode) {
        left.push(format!("left after teardown: process {pid}: {cmd}"));
    }
    for m in mounts_under(dir) {
        left.push(format!("left after teardown: mount {}", m.display()));
    }
    for id in ids {
        for cg in cgroup_dirs_named(id) {
            left.push(format!("left after teardown: cgroup {}", cg.display()));
        }
    }
    if Path::new("/run/netns").join(netns).exists() {
        left.push(format!("left after teardown: network namespace {netns}"));
    }
    if dir.exists() {
        left.push(format!("left after teardown: directory {}", dir.display()));
    }
    left
}

/// Tears down the fixtures of test processes that were killed (a timeout, ^C).
fn sweep_abandoned() {
    for path in crate::support::abandoned_fixtures(Path::new(BASE), PREFIX) {
        let Ok(netns) = std::fs::read_to_string(path.join(NETNS_FILE)) else {
            continue;
        };
        let netns = netns.trim().to_owned();
        let daemon = std::fs::read_to_string(path.join(PID_FILE))
            .ok()
            .and_then(|p| p.trim().parse::<i32>().ok());
        // Only a process that still names the fixture is its daemon (PIDs are reused).
        let ns_inode = netns_inode(&netns);
        let ids = container_ids_in(&path);
        if let Some(pid) = daemon.filter(|p| {
            processes_of(&path, &ids, ns_inode)
                .iter()
                .any(|(q, _)| q == p)
        }) {
            let _ = kill(Pid::from_raw(pid), Signal::SIGTERM);
            if !wait_gone(&[pid], Duration::from_secs(20)) {
                let _ = kill(Pid::from_raw(pid), Signal::SIGKILL);
            }
        }
        let left = force_teardown(&path, &netns, &ids, ns_inode);
        eprintln!("swept the abandoned pier daemon {netns}; left: {left:?}");
    }
}
