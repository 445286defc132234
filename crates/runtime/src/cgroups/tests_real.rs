//! Root-only tests on this machine's real cgroup v1 hierarchy (and the hybrid cgroup2 mount
//! for the v2 device program). Each creates its cgroups under this process's own cgroup,
//! with a name of its own, and removes them through a Drop guard even when it fails.
//! Skipped (with a note) when not root or when the host is not cgroup v1.

use std::fs;
use std::io::Write as _;
use std::os::unix::process::ExitStatusExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};

use oci_spec::runtime::LinuxResources;

use super::resources::device_rules;
use super::*;

fn real_v1() -> bool {
    // SAFETY: geteuid has no preconditions.
    let root = unsafe { libc::geteuid() } == 0;
    let v1 = nix::sys::statfs::statfs("/sys/fs/cgroup")
        .map(|s| s.filesystem_type() != nix::sys::statfs::CGROUP2_SUPER_MAGIC)
        .unwrap_or(false);
    if !(root && v1) {
        eprintln!("skipped: needs root on a cgroup v1 host");
    }
    root && v1
}

fn res(json: &str) -> LinuxResources {
    serde_json::from_str(json).unwrap()
}

/// Removes the test's cgroup and its test-named parent in every hierarchy, whatever happened.
struct Guard {
    cg: Cgroup,
    parents: Vec<PathBuf>,
}

impl Guard {
    /// A cgroup at "<own>/pier-test-<pid>-<name>/c" in every hierarchy.
    fn new(name: &str) -> Guard {
        let parent = format!("pier-test-{}-{name}", std::process::id());
        let cg = Cgroup::for_container(Some(&Path::new(&parent).join("c")), "c").unwrap();
        let parents = all_dirs(&cg)
            .iter()
            .map(|d| d.parent().unwrap().to_path_buf())
            .collect();
        Guard { cg, parents }
    }
}

impl Drop for Guard {
    fn drop(&mut self) {
        let _ = self.cg.destroy();
        for p in &self.parents {
            let _ = fs::remove_dir(p);
        }
    }
}

fn all_dirs(cg: &Cgroup) -> Vec<PathBuf> {
    cg.paths()
        .hierarchies
        .iter()
        .map(|h| h.path.clone())
        .chain(cg.paths().unified.iter().map(|u| u.path.clone()))
        .collect()
}

fn dir(cg: &Cgroup, controller: &str) -> PathBuf {
    cg.paths()
        .hierarchies
        .iter()
        .find(|h| h.controllers.iter().any(|c| c == controller))
        .unwrap()
        .path
        .clone()
}

fn read(p: impl AsRef<Path>) -> String {
    fs::read_to_string(p.as_ref())
        .unwrap_or_else(|e| panic!("{}: {e}", p.as_ref().display()))
        .trim()
        .to_string()
}

/// A child process killed when dropped.
struct Kid(Child);

impl Drop for Kid {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

impl Kid {
    fn pid(&self) -> i32 {
        self.0.id() as i32
    }
}

fn sleeper() -> Kid {
    Kid(Command::new("sleep").arg("60").spawn().unwrap())
}

/// A shell that waits for a line on stdin, then tries to open /dev/null (must work) and
/// /dev/kmsg, and exits 0 if kmsg was denied, 20 if it opened, 11 if /dev/null failed.
fn device_prober() -> Kid {
    Kid(Command::new("sh")
        .args([
            "-c",
            "read x; (exec 3</dev/null) || exit 11; (exec 4</dev/kmsg) 2>/dev/null && exit 20; exit 0",
        ])
        .stdin(Stdio::piped())
        .spawn()
        .unwrap())
}

fn release_and_wait(kid: &mut Kid) -> std::process::ExitStatus {
    let mut stdin = kid.0.stdin.take().unwrap();
    stdin.write_all(b"go\n").unwrap();
    drop(stdin);
    kid.0.wait().unwrap()
}

#[test]
fn real_v1_lifecycle_limits_processes_freeze_kill_destroy() {
    if !real_v1() {
        return;
    }
    let g = Guard::new("life");
    let cg = &g.cg;
    assert_eq!(cg.version(), CgroupVersion::V1);
    cg.create(Some(&res(
        r#"{"memory":{"limit":67108864},"pids":{"limit":32},"cpu":{"shares":512,"quota":50000,"period":100000},
            "devices":[{"allow":false,"access":"rwm"}]}"#,
    )))
    .unwrap();
    for d in all_dirs(cg) {
        assert!(d.is_dir(), "{}", d.display());
    }
    let mem = dir(cg, "memory");
    assert_eq!(read(mem.join("memory.limit_in_bytes")), "67108864");
    assert_eq!(read(dir(cg, "pids").join("pids.max")), "32");
    assert_eq!(read(dir(cg, "cpu").join("cpu.shares")), "512");
    assert_eq!(read(dir(cg, "cpu").join("cpu.cfs_quota_us")), "50000");
    let devices = read(dir(cg, "devices").join("devices.list"));
    assert!(!devices.contains("a *:* rwm"), "{devices}");
    assert!(devices.lines().any(|l| l == "c 1:3 rwm"), "{devices}");
    assert!(devices.lines().any(|l| l == "c 136:* rwm"), "{devices}");

    let kid = sleeper();
    cg.add_process(kid.pid()).unwrap();
    assert_eq!(cg.processes().unwrap(), [kid.pid()]);
    let own = read(format!("/proc/{}/cgroup", kid.pid()));
    let mem_rel = mem.strip_prefix("/sys/fs/cgroup/memory").unwrap();
    assert!(
        own.lines()
            .any(|l| l == format!("4:memory:/{}", mem_rel.display())
                || l.ends_with(&format!(":memory:/{}", mem_rel.display()))),
        "{own}"
    );
    assert!(
        own.lines()
            .any(|l| l.starts_with("0::/") && l.ends_with("/c")),
        "{own}"
    );
    assert_eq!(cg.oom_kill_count().unwrap(), 0);

    cg.freeze().unwrap();
    assert!(cg.is_frozen().unwrap());
    assert_eq!(read(dir(cg, "freezer").join("freezer.state")), "FROZEN");
    cg.thaw().unwrap();
    assert!(!cg.is_frozen().unwrap());

    let mut kid = kid;
    cg.kill_all(libc::SIGTERM).unwrap();
    let status = kid.0.wait().unwrap();
    assert_eq!(status.signal(), Some(libc::SIGTERM));
    assert!(!cg.is_frozen().unwrap());

    cg.destroy().unwrap();
    for d in all_dirs(cg) {
        assert!(!d.exists(), "{} left", d.display());
        assert!(d.parent().unwrap().is_dir());
    }
    cg.destroy().unwrap();
}

#[test]
fn real_v1_destroy_kills_what_is_left_even_nested_or_frozen() {
    if !real_v1() {
        return;
    }
    let g = Guard::new("leftover");
    let cg = &g.cg;
    cg.create(None).unwrap();
    let a = sleeper();
    let b = sleeper();
    cg.add_process(a.pid()).unwrap();
    // b in a sub-cgroup of the container (as a container with its own cgroups would do)
    let nested = dir(cg, "pids").join("nested");
    fs::create_dir(&nested).unwrap();
    cg.add_process(b.pid()).unwrap();
    fs::write(nested.join("cgroup.procs"), b.pid().to_string()).unwrap();
    let mut want = vec![a.pid(), b.pid()];
    want.sort();
    assert_eq!(cg.processes().unwrap(), want);
    cg.freeze().unwrap();
    cg.destroy().unwrap();
    for d in all_dirs(cg) {
        assert!(!d.exists(), "{} left", d.display());
    }
    let (mut a, mut b) = (a, b);
    assert_eq!(a.0.wait().unwrap().signal(), Some(libc::SIGKILL));
    assert_eq!(b.0.wait().unwrap().signal(), Some(libc::SIGKILL));
}

#[test]
fn real_v1_oom_kill_is_counted() {
    if !real_v1() {
        return;
    }
    let g = Guard::new("oom");
    let cg = &g.cg;
    // memory+swap too, so that a host with swap cannot swap its way out
    cg.create(Some(&res(
        r#"{"memory":{"limit":16777216,"swap":16777216}}"#,
    )))
    .unwrap();
    let mut fds = [0i32; 2];
    // SAFETY: pipe writes two descriptors into the array we pass.
    assert_eq!(unsafe { libc::pipe(fds.as_mut_ptr()) }, 0);
    // SAFETY: the child only makes raw system calls (read, mmap, _exit) and touches memory
    // it mapped itself, which is safe after fork in a multi-threaded process.
    let pid = unsafe { libc::fork() };
    assert!(pid >= 0);
    if pid == 0 {
        // SAFETY: see above; everything here is async-signal-safe.
        unsafe {
            let mut b = 0u8;
            libc::read(fds[0], (&mut b as *mut u8).cast(), 1);
            let len = 64 << 20;
            let p = libc::mmap(
                std::ptr::null_mut(),
                len,
                libc::PROT_READ | libc::PROT_WRITE,
                libc::MAP_PRIVATE | libc::MAP_ANONYMOUS,
                -1,
                0,
            );
            if p == libc::MAP_FAILED {
                libc::_exit(3);
            }
            let mut off = 0;
            while off < len {
                *(p as *mut u8).add(off) = 1;
                off += 4096;
            }
            libc::_exit(0);
        }
    }
    let added = cg.add_process(pid);
    // SAFETY: plain descriptor and buffer operations on our own pipe.
    unsafe {
        libc::write(fds[1], b"x".as_ptr().cast(), 1);
        libc::close(fds[0]);
        libc::close(fds[1]);
    }
    let mut status = 0;
    // SAFETY: waits for our own child.
    assert_eq!(unsafe { libc::waitpid(pid, &mut status, 0) }, pid);
    added.unwrap();
    assert!(
        libc::WIFSIGNALED(status),
        "child was not killed: {status:#x}"
    );
    assert_eq!(libc::WTERMSIG(status), libc::SIGKILL);
    assert!(cg.oom_kill_count().unwrap() > 0);
}

#[test]
fn real_v1_kernel_refusal_names_path_and_value_and_leaves_nothing() {
    if !real_v1() {
        return;
    }
    let g = Guard::new("refuse");
    let cg = &g.cg;
    let err = cg
        .create(Some(&res(r#"{"cpu":{"cpus":"12zz"}}"#)))
        .unwrap_err();
    assert_eq!(
        err.to_string(),
        format!(
            "writing \"12zz\" to {}: invalid argument",
            dir(cg, "cpuset").join("cpuset.cpus").display()
        )
    );
    for d in all_dirs(cg).iter().chain(&g.parents) {
        assert!(!d.exists(), "{} left", d.display());
    }
    // A limit for a controller this host has not mounted (hugetlb here): an error, and
    // again nothing is left.
    if !Path::new("/sys/fs/cgroup/hugetlb").exists() {
        let err = cg
            .create(Some(&res(
                r#"{"hugepageLimits":[{"pageSize":"2MB","limit":2097152}]}"#,
            )))
            .unwrap_err();
        assert_eq!(
            err.to_string(),
            "hugepage limit was requested, but this host has no /sys/fs/cgroup/hugetlb hierarchy"
        );
        for d in all_dirs(cg).iter().chain(&g.parents) {
            assert!(!d.exists(), "{} left", d.display());
        }
    }
}

#[test]
fn real_v1_blkio_weight_falls_back_to_bfq() {
    if !real_v1() {
        return;
    }
    let g = Guard::new("blkio");
    let cg = &g.cg;
    cg.create(Some(&res(r#"{"blockIO":{"weight":500}}"#)))
        .unwrap();
    let blkio = dir(cg, "blkio");
    if blkio.join("blkio.weight").exists() {
        assert_eq!(read(blkio.join("blkio.weight")), "500");
    } else {
        // kernels without CFQ (this one): only BFQ's file exists in non-root cgroups
        assert_eq!(read(blkio.join("blkio.bfq.weight")), "500");
    }
}

#[test]
fn real_v1_cpuset_levels_inherit_so_processes_can_join() {
    if !real_v1() {
        return;
    }
    let g = Guard::new("cpuset");
    let cg = &g.cg;
    cg.create(Some(&res(r#"{"cpu":{"cpus":"0"}}"#))).unwrap();
    let leaf = dir(cg, "cpuset");
    let parent = leaf.parent().unwrap();
    let host_cpus = read("/sys/fs/cgroup/cpuset/cpuset.cpus");
    assert_eq!(read(parent.join("cpuset.cpus")), host_cpus);
    assert_eq!(
        read(parent.join("cpuset.mems")),
        read("/sys/fs/cgroup/cpuset/cpuset.mems")
    );
    assert_eq!(read(leaf.join("cpuset.cpus")), "0");
    let kid = sleeper();
    cg.add_process(kid.pid()).unwrap();
    let status = read(format!("/proc/{}/status", kid.pid()));
    assert!(
        status
            .lines()
            .any(|l| l.starts_with("Cpus_allowed_list:") && l.ends_with("\t0")),
        "{status}"
    );
}

#[test]
fn real_v1_device_rules_are_enforced() {
    if !real_v1() {
        return;
    }
    let g = Guard::new("devices");
    let cg = &g.cg;
    cg.create(Some(&res(
        r#"{"devices":[{"allow":false,"access":"rwm"}]}"#,
    )))
    .unwrap();
    let mut kid = device_prober();
    cg.add_process(kid.pid()).unwrap();
    assert_eq!(release_and_wait(&mut kid).code(), Some(0));
}

#[test]
fn real_v1_container_view_matches_the_host() {
    if !real_v1() {
        return;
    }
    let cg = Cgroup::for_container(None, "view").unwrap();
    let ContainerCgroupView::V1 { hierarchies } = cg.container_view() else {
        panic!("v1 expected");
    };
    for v in &hierarchies {
        assert!(
            Path::new("/sys/fs/cgroup").join(&v.dir_name).is_dir(),
            "{}",
            v.dir_name
        );
        assert!(v.host_path.ends_with("pier/view"));
        if !v.dir_name.contains(',') {
            assert!(v.symlinks.is_empty());
        }
    }
    assert!(hierarchies.iter().any(|v| v.dir_name == "systemd"));
}

/// The v2 device program, for real: attached to a cgroup in the hybrid cgroup2 mount, where
/// cgroup-bpf works although no controller is enabled.
#[test]
fn real_bpf_device_program_on_the_unified_mount() {
    if !real_v1() {
        return;
    }
    let unified = Path::new("/sys/fs/cgroup/unified");
    let is_cgroup2 = nix::sys::statfs::statfs(unified)
        .map(|s| s.filesystem_type() == nix::sys::statfs::CGROUP2_SUPER_MAGIC)
        .unwrap_or(false);
    if !is_cgroup2 {
        eprintln!("skipped: no cgroup2 mount at {}", unified.display());
        return;
    }
    struct Rmdir(PathBuf);
    impl Drop for Rmdir {
        fn drop(&mut self) {
            let _ = fs::remove_dir(&self.0);
        }
    }
    let dir = Rmdir(unified.join(format!("pier-test-{}-bpf", std::process::id())));
    fs::create_dir(&dir.0).unwrap();
    let deny_all = res(r#"{"devices":[{"allow":false,"access":"rwm"}]}"#);
    devices_bpf::install(
        &dir.0,
        &device_rules(deny_all.devices().as_deref()).unwrap(),
    )
    .unwrap();
    let mut kid = device_prober();
    fs::write(dir.0.join("cgroup.procs"), kid.pid().to_string()).unwrap();
    assert_eq!(
        release_and_wait(&mut kid).code(),
        Some(0),
        "/dev/null allowed, /dev/kmsg denied"
    );

    // Installing again replaces the program: now everything is allowed.
    let allow_all =
        res(r#"{"devices":[{"allow":false,"access":"rwm"},{"allow":true,"access":"rwm"}]}"#);
    devices_bpf::install(
        &dir.0,
        &device_rules(allow_all.devices().as_deref()).unwrap(),
    )
    .unwrap();
    let cgroup_fd = fs::File::open(&dir.0).unwrap();
    assert_eq!(devices_bpf::query(&cgroup_fd, &dir.0).unwrap().len(), 1);
    let mut kid = device_prober();
    fs::write(dir.0.join("cgroup.procs"), kid.pid().to_string()).unwrap();
    assert_eq!(
        release_and_wait(&mut kid).code(),
        Some(20),
        "/dev/kmsg opens"
    );
}
