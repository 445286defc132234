//! Fixtures for the end-to-end tests: a busybox root filesystem made from Debian's
//! busybox-static, bundles with Docker's default profile, and a runtime state root per test
//! that is checked for leftovers (processes, cgroups, state) when the test ends.

#![allow(dead_code)]

use std::os::unix::fs::{PermissionsExt, symlink};
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use oci_spec::runtime::Spec;

pub const PIER: &str = env!("CARGO_BIN_EXE_pier");

pub fn require_root() {
    assert!(
        nix::unistd::geteuid().is_root(),
        "the end-to-end tests drive namespaces, mounts and cgroups: run them as root"
    );
}

/// A directory with bin/busybox and a relative symlink per applet, /etc/passwd and /etc/group.
pub fn make_busybox_rootfs(rootfs: &Path) {
    let busybox = ["/bin/busybox", "/usr/bin/busybox"]
        .into_iter()
        .find(|p| Path::new(p).exists())
        .expect("busybox-static is not installed (apt-get install busybox-static)");
    for dir in [
        "bin",
        "etc",
        "tmp",
        "proc",
        "sys",
        "dev",
        "root",
        "home/user",
        "var",
        "usr/bin",
        "usr/sbin",
        "sbin",
    ] {
        std::fs::create_dir_all(rootfs.join(dir)).unwrap();
    }
    std::fs::set_permissions(rootfs.join("tmp"), std::fs::Permissions::from_mode(0o1777)).unwrap();
    std::fs::copy(busybox, rootfs.join("bin/busybox")).unwrap();
    let list = Command::new(busybox).arg("--list").output().unwrap();
    for applet in String::from_utf8_lossy(&list.stdout).lines() {
        if applet != "busybox" {
            // Relative, so that the link works inside the container.
            symlink("busybox", rootfs.join("bin").join(applet)).unwrap();
        }
    }
    std::fs::write(
        rootfs.join("etc/passwd"),
        "root:x:0:0:root:/root:/bin/sh\nuser:x:1000:1000:user:/home/user:/bin/sh\nnobody:x:65534:65534:nobody:/nonexistent:/bin/false\n",
    )
    .unwrap();
    std::fs::write(
        rootfs.join("etc/group"),
        "root:x:0:\nwheel:x:10:user\nuser:x:1000:\nnogroup:x:65534:\n",
    )
    .unwrap();
}

static COUNTER: AtomicUsize = AtomicUsize::new(0);

const WORLD_PREFIX: &str = "pier-e2e-";
/// The pid of the test process that made a fixture directory.
pub const OWNER_FILE: &str = "owner.pid";

/// Fixture directories under `base` named `prefix*` whose owning test process (the pid in
/// their `owner.pid`) is gone: a test killed by a timeout or ^C, whose teardown never ran.
/// A directory whose owner still runs, or without an owner file, is not listed.
pub fn abandoned_fixtures(base: &Path, prefix: &str) -> Vec<PathBuf> {
    let Ok(entries) = std::fs::read_dir(base) else {
        return Vec::new();
    };
    entries
        .flatten()
        .filter(|entry| entry.file_name().to_string_lossy().starts_with(prefix))
        .map(|entry| entry.path())
        .filter(|path| {
            std::fs::read_to_string(path.join(OWNER_FILE))
                .ok()
                .and_then(|p| p.trim().parse::<i32>().ok())
                .is_some_and(|owner| {
                    nix::sys::signal::kill(nix::unistd::Pid::from_raw(owner), None).is_err()
                })
        })
        .collect()
}

/// Removes what test processes that were killed (a timeout, ^C) could not: their containers
/// and directories. Worlds whose owning test process still runs are left alone.
fn sweep_abandoned_worlds() {
    for path in abandoned_fixtures(&std::env::temp_dir(), WORLD_PREFIX) {
        let root = path.join("state");
        for container in std::fs::read_dir(&root).into_iter().flatten().flatten() {
            let id = container.file_name().to_string_lossy().into_owned();
            if id.starts_with('.') {
                continue;
            }
            let _ = Command::new(PIER)
                .args(["runtime", "--root"])
                .arg(&root)
                .args(["delete", "--force", &id])
                .stdin(Stdio::null())
                .stdout(Stdio::null())
                .stderr(Stdio::null())
                .status();
        }
        let _ = std::fs::remove_dir_all(&path);
    }
}

/// One test's world: a temporary directory with a state root and bundles, and the containers
/// made in it (deleted when the test ends, pass or fail).
pub struct World {
    pub dir: tempfile::TempDir,
    pub root: PathBuf,
    ids: std::cell::RefCell<Vec<String>>,
}

pub struct Bundle {
    pub path: PathBuf,
    pub spec: Spec,
}

impl World {
    pub fn new() -> World {
        require_root();
        static SWEPT: std::sync::Once = std::sync::Once::new();
        SWEPT.call_once(sweep_abandoned_worlds);
        let dir = tempfile::Builder::new()
            .prefix(WORLD_PREFIX)
            .tempdir()
            .unwrap();
        std::fs::write(dir.path().join(OWNER_FILE), std::process::id().to_string()).unwrap();
        let root = dir.path().join("state");
        World {
            dir,
            root,
            ids: Default::default(),
        }
    }

    /// A fresh container id, remembered for cleanup.
    pub fn id(&self, name: &str) -> String {
        let id = format!(
            "{name}-{}-{}",
            std::process::id(),
            COUNTER.fetch_add(1, Ordering::SeqCst)
        );
        self.ids.borrow_mut().push(id.clone());
        id
    }

    /// A bundle with a busybox rootfs and Docker's default profile running `args`.
    pub fn bundle(&self, args: &[&str]) -> Bundle {
        let n = COUNTER.fetch_add(1, Ordering::SeqCst);
        let path = self.dir.path().join(format!("bundle{n}"));
        make_busybox_rootfs(&path.join("rootfs"));
        let spec = runtime::profile::default_spec(
            "rootfs",
            args.iter().map(|s| s.to_string()).collect(),
            false,
        );
        let bundle = Bundle { path, spec };
        bundle.save();
        bundle
    }

    pub fn pier(&self) -> Command {
        let mut cmd = Command::new(PIER);
        cmd.arg("runtime").arg("--root").arg(&self.root);
        cmd
    }

    /// `pier runtime ARGS`, with stdin closed and output captured. Output goes through files,
    /// not pipes: a container made by `create` or `run -d` keeps the stdio it was given, and a
    /// pipe would only reach end-of-file when the container ends.
    pub fn run(&self, args: &[&str]) -> Output {
        let n = COUNTER.fetch_add(1, Ordering::SeqCst);
        let out_path = self.dir.path().join(format!("out{n}"));
        let err_path = self.dir.path().join(format!("err{n}"));
        let status = self
            .pier()
            .args(args)
            .stdin(Stdio::null())
            .stdout(std::fs::File::create(&out_path).unwrap())
            .stderr(std::fs::File::create(&err_path).unwrap())
            .status()
            .unwrap();
        Output {
            status,
            stdout: std::fs::read(&out_path).unwrap_or_default(),
            stderr: std::fs::read(&err_path).unwrap_or_default(),
        }
    }

    /// Runs a bundle in the foreground and gives back its output.
    pub fn run_bundle(&self, bundle: &Bundle, name: &str) -> Output {
        let id = self.id(name);
        self.run(&["run", "--bundle", bundle.path.to_str().unwrap(), &id])
    }

    /// Starts `pier runtime run` of a bundle in the foreground, its stdout piped to the test.
    pub fn spawn_run(&self, bundle: &Bundle, id: &str) -> std::process::Child {
        self.pier()
            .args(["run", "--bundle", bundle.path.to_str().unwrap(), id])
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .spawn()
            .unwrap()
    }

    pub fn state(&self, id: &str) -> serde_json::Value {
        let out = self.run(&["state", id]);
        assert!(
            out.status.success(),
            "state {id}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        serde_json::from_slice(&out.stdout).unwrap()
    }

    /// Polls until the container reports `status`.
    pub fn wait_status(&self, id: &str, status: &str) -> serde_json::Value {
        let deadline = Instant::now() + Duration::from_secs(20);
        loop {
            let state = self.state(id);
            if state["status"] == status {
                return state;
            }
            assert!(
                Instant::now() < deadline,
                "{id} never became {status}: {state}"
            );
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    /// Asserts that nothing of this world's containers is left: no state, no cgroup, no process.
    pub fn assert_clean(&self) {
        for id in self.ids.borrow().iter() {
            assert!(!self.root.join(id).exists(), "state of {id} left behind");
            let leftovers = cgroup_dirs_named(id);
            assert!(
                leftovers.is_empty(),
                "cgroups of {id} left behind: {leftovers:?}"
            );
            let procs = processes_in_cgroup_named(id);
            assert!(procs.is_empty(), "processes of {id} left behind: {procs:?}");
        }
    }
}

impl Drop for World {
    fn drop(&mut self) {
        for id in self.ids.borrow().iter() {
            if self.root.join(id).exists() {
                let _ = self.run(&["delete", "--force", id]);
            }
        }
    }
}

impl Bundle {
    pub fn save(&self) {
        let json = serde_json::to_string_pretty(&self.spec).unwrap();
        std::fs::write(self.path.join("config.json"), json).unwrap();
    }

    pub fn rootfs(&self) -> PathBuf {
        self.path.join("rootfs")
    }

    /// Edits config.json as JSON.
    pub fn edit(&mut self, f: impl FnOnce(&mut serde_json::Value)) {
        let mut value = serde_json::to_value(&self.spec).unwrap();
        f(&mut value);
        self.spec = serde_json::from_value(value).unwrap();
        self.save();
    }

    /// Writes config.json verbatim (for malformed configs).
    pub fn write_raw(&self, json: &str) {
        std::fs::write(self.path.join("config.json"), json).unwrap();
    }
}

/// This process's own cgroup in each hierarchy it is in, as (where the hierarchy is mounted:
/// /sys/fs/cgroup/<controllers> for v1, /sys/fs/cgroup/unified for hybrid's cgroup2; the own
/// cgroup's directory).
pub fn own_cgroups() -> Vec<(PathBuf, PathBuf)> {
    let own = std::fs::read_to_string("/proc/self/cgroup").unwrap_or_default();
    own.lines()
        .map(|line| {
            let mut parts = line.splitn(3, ':');
            let (_, controllers, path) = (
                parts.next(),
                parts.next().unwrap_or(""),
                parts.next().unwrap_or(""),
            );
            let mount = if controllers.is_empty() {
                PathBuf::from("/sys/fs/cgroup/unified")
            } else {
                PathBuf::from("/sys/fs/cgroup").join(controllers.trim_start_matches("name="))
            };
            let dir = mount.join(path.trim_start_matches('/'));
            (mount, dir)
        })
        .collect()
}

/// [`own_cgroups`]' directories.
pub fn own_cgroup_dirs() -> Vec<PathBuf> {
    own_cgroups().into_iter().map(|(_, dir)| dir).collect()
}

/// cgroup directories named `id` under this process's own cgroups (where pier puts them by
/// default) in every v1 hierarchy or the v2 one.
pub fn cgroup_dirs_named(id: &str) -> Vec<PathBuf> {
    own_cgroup_dirs()
        .into_iter()
        .map(|own| own.join("pier").join(id))
        .filter(|candidate| candidate.exists())
        .collect()
}

/// The parent pid of a process, from /proc/PID/status.
pub fn parent_pid(pid: i64) -> i32 {
    std::fs::read_to_string(format!("/proc/{pid}/status"))
        .unwrap()
        .lines()
        .find_map(|l| l.strip_prefix("PPid:"))
        .unwrap()
        .trim()
        .parse()
        .unwrap()
}

/// Processes whose cgroup path ends in `/<id>`.
pub fn processes_in_cgroup_named(id: &str) -> Vec<i32> {
    let needle = format!("/{id}\n");
    let mut pids = Vec::new();
    for entry in std::fs::read_dir("/proc").unwrap().flatten() {
        let Ok(pid) = entry.file_name().to_string_lossy().parse::<i32>() else {
            continue;
        };
        if let Ok(cg) = std::fs::read_to_string(entry.path().join("cgroup"))
            && cg.contains(&needle)
        {
            pids.push(pid);
        }
    }
    pids
}

pub fn stdout(out: &Output) -> String {
    String::from_utf8_lossy(&out.stdout).into_owned()
}

pub fn stderr(out: &Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

/// Asserts success and gives back stdout.
#[track_caller]
pub fn ok(out: &Output) -> String {
    assert!(
        out.status.success(),
        "command failed with {:?}\nstdout: {}\nstderr: {}",
        out.status,
        stdout(out),
        stderr(out)
    );
    stdout(out)
}
