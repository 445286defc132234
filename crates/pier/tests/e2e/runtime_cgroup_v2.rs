//! pier's runtime on a pure cgroup v2 kernel. The host may run cgroup v1; this test boots
//! Debian's kernel (`linux-image-amd64`) under QEMU with `cgroup_no_v1=all`, from an
//! initramfs made here: busybox, the pier binary under test with its shared libraries,
//! bundles written with Docker's default profile, and `fixtures/cgroup_v2_init.sh` as /init,
//! which runs the checks and prints one `PIER-V2 <check> ok|FAIL` line each on the serial
//! console.

use std::os::unix::fs::{MetadataExt, PermissionsExt};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::json;

use crate::support::*;

const INIT: &str = include_str!("fixtures/cgroup_v2_init.sh");

/// Every check /init reports, in order; each must say "ok".
const CHECKS: &[&str] = &[
    "pure_v2",
    "root_controllers",
    "memory_limit",
    "cgroup_namespace",
    "cgroup_mount",
    "oom_exit_code",
    "oom_killed",
    "normal_exit_not_oom",
    "pids_limit",
    "cpu_limits",
    "io_weight",
    "device_rules",
    "device_allow_all",
    "pause",
    "resume",
    "exec_cgroup",
    "delete_paused",
    "kill_all",
    "busy_cgroup_no_limits",
    "busy_cgroup_limit_refused",
    "busy_cgroup_untouched",
    "busy_cgroup_absolute_path",
    "no_cgroups_left",
    "no_containers_left",
    "no_processes_left",
];

const MIB: i64 = 1024 * 1024;

/// What the devices checks run: /dev/mem and /dev/kmsg made with mknod (allowed by the
/// default rules), then opened; the default devices used.
const DEVICES_PROBE: &str = "mknod /tmp/mem c 1 1 && head -c1 /tmp/mem; \
    mknod /tmp/kmsg c 1 11 && echo pier-v2 > /tmp/kmsg && echo kmsg ok; \
    head -c1 /dev/zero > /dev/null && echo x > /dev/null && echo null ok; \
    rm -f /tmp/mem /tmp/kmsg";

/// (name, command, linux) of every bundle /init runs; each gets Docker's default profile,
/// with `linux.resources` as given and `linux.cgroupsPath` if given.
fn bundles() -> Vec<(&'static str, Vec<&'static str>, serde_json::Value)> {
    let sh = |script: &'static str| vec!["sh", "-c", script];
    let limits = |resources: serde_json::Value| json!({ "resources": resources });
    vec![
        (
            "memory",
            sh(
                "cd /sys/fs/cgroup && echo $(cat memory.max memory.low memory.swap.max); \
                cat /proc/self/cgroup; grep ' /sys/fs/cgroup ' /proc/self/mountinfo",
            ),
            limits(
                json!({"memory": {"limit": 64 * MIB, "reservation": 32 * MIB, "swap": 96 * MIB}}),
            ),
        ),
        (
            "oom",
            sh("tail /dev/zero"),
            limits(json!({"memory": {"limit": 16 * MIB, "swap": 16 * MIB}})),
        ),
        (
            "true",
            vec!["true"],
            limits(json!({"memory": {"limit": 64 * MIB}})),
        ),
        (
            // The bomb runs in a child shell, which gives up at the first failed fork; then
            // only builtins, as nothing else can fork at the limit.
            "pids",
            sh("sh -c 'for i in $(seq 40); do sleep 30 & done'; \
                read n < /sys/fs/cgroup/pids.current; read m < /sys/fs/cgroup/pids.max; \
                echo $n $m"),
            limits(json!({"pids": {"limit": 10}})),
        ),
        (
            "cpu",
            sh("cd /sys/fs/cgroup && echo $(cat cpu.max cpu.weight cpuset.cpus cpuset.mems)"),
            limits(json!({"cpu": {
                "quota": 50000, "period": 100000, "shares": 512, "cpus": "0", "mems": "0"
            }})),
        ),
        (
            "io",
            vec!["cat", "/sys/fs/cgroup/io.weight"],
            limits(json!({"blockIO": {"weight": 500}})),
        ),
        ("devices", sh(DEVICES_PROBE), json!({})),
        (
            "devices-allowed",
            sh(DEVICES_PROBE),
            limits(json!({"devices": [{"allow": true, "access": "rwm"}]})),
        ),
        ("plain", vec!["cat", "/proc/self/cgroup"], json!({})),
        (
            "absolute",
            vec!["cat", "/sys/fs/cgroup/memory.max"],
            json!({
                "cgroupsPath": "/machine/absolute",
                "resources": {"memory": {"limit": 64 * MIB}}
            }),
        ),
        ("sleeper", vec!["sleep", "1000"], json!({})),
        ("family", sh("sleep 1000 & sleep 1000 & wait"), json!({})),
    ]
}

/// The newest /boot/vmlinuz-* by version.
fn newest_kernel() -> PathBuf {
    fn version_key(name: &str) -> Vec<u64> {
        name.split(|c: char| !c.is_ascii_digit())
            .filter_map(|n| n.parse().ok())
            .collect()
    }
    let mut kernels: Vec<PathBuf> = std::fs::read_dir("/boot")
        .expect("reading /boot")
        .flatten()
        .map(|e| e.path())
        .filter(|p| {
            p.file_name()
                .is_some_and(|n| n.to_string_lossy().starts_with("vmlinuz-"))
        })
        .collect();
    kernels.sort_by_key(|p| version_key(&p.file_name().unwrap().to_string_lossy()));
    kernels
        .pop()
        .expect("no /boot/vmlinuz-*: apt-get install linux-image-amd64")
}

/// Whether KVM can run a stock kernel: /dev/kvm opens and is backed by hardware
/// virtualization. (Nested setups such as kvm_pvm offer /dev/kvm but boot only guests built
/// for them: a Debian kernel hangs there.)
fn kvm_usable() -> bool {
    let hardware = ["kvm_intel", "kvm_amd"]
        .iter()
        .any(|m| Path::new("/sys/module").join(m).exists());
    hardware
        && std::fs::OpenOptions::new()
            .read(true)
            .write(true)
            .open("/dev/kvm")
            .is_ok()
}

/// Copies `pier` and the shared libraries `ldd` lists for it into `tree`, each at its path.
fn add_pier(tree: &Path) {
    std::fs::copy(PIER, tree.join("bin/pier")).unwrap();
    let ldd = Command::new("ldd").arg(PIER).output().expect("running ldd");
    assert!(ldd.status.success(), "ldd {PIER}: {ldd:?}");
    for line in String::from_utf8_lossy(&ldd.stdout).lines() {
        // "libc.so.6 => /lib/x86_64-linux-gnu/libc.so.6 (0x...)" or "/lib64/ld-linux... (0x...)"
        let path = line
            .split_once("=>")
            .map_or(line, |(_, p)| p)
            .split_whitespace()
            .next()
            .unwrap_or("");
        if !path.starts_with('/') {
            continue; // linux-vdso.so.1
        }
        let dest = tree.join(path.trim_start_matches('/'));
        std::fs::create_dir_all(dest.parent().unwrap()).unwrap();
        std::fs::copy(path, &dest).unwrap_or_else(|e| panic!("copying {path}: {e}"));
    }
}

/// The bundles of [`bundles`] under `tree/bundles`, all with the root /rootfs.
fn add_bundles(tree: &Path) {
    make_busybox_rootfs(&tree.join("rootfs"));
    for (name, args, linux) in bundles() {
        let args = args.iter().map(|a| a.to_string()).collect();
        let spec = runtime::profile::default_spec("/rootfs", args, false);
        let mut config = serde_json::to_value(&spec).unwrap();
        if let Some(resources) = linux["resources"].as_object() {
            for (key, value) in resources {
                config["linux"]["resources"][key] = value.clone();
            }
        }
        if let Some(path) = linux.get("cgroupsPath") {
            config["linux"]["cgroupsPath"] = path.clone();
        }
        let dir = tree.join("bundles").join(name);
        std::fs::create_dir_all(&dir).unwrap();
        std::fs::write(
            dir.join("config.json"),
            serde_json::to_vec_pretty(&config).unwrap(),
        )
        .unwrap();
    }
}

/// A "newc" cpio archive (the initramfs format) being written, everything owned by root.
#[derive(Default)]
struct Cpio {
    data: Vec<u8>,
    inodes: u32,
}

impl Cpio {
    fn entry(&mut self, name: &str, mode: u32, nlink: u32, content: &[u8], rdev: (u32, u32)) {
        self.inodes += 1;
        let size = u32::try_from(content.len()).expect("a file of the initramfs is too large");
        // ino mode uid gid nlink mtime filesize devmajor devminor rdevmajor rdevminor
        // namesize check
        let fields = [
            self.inodes,
            mode,
            0,
            0,
            nlink,
            0,
            size,
            0,
            0,
            rdev.0,
            rdev.1,
            name.len() as u32 + 1,
            0,
        ];
        self.data.extend_from_slice(b"070701");
        for field in fields {
            self.data
                .extend_from_slice(format!("{field:08x}").as_bytes());
        }
        self.data.extend_from_slice(name.as_bytes());
        self.data.push(0);
        self.pad();
        self.data.extend_from_slice(content);
        self.pad();
    }

    fn pad(&mut self) {
        while !self.data.len().is_multiple_of(4) {
            self.data.push(0);
        }
    }

    /// Everything beneath `dir`, named relative to `tree`, parents before children.
    fn add_tree(&mut self, tree: &Path, dir: &Path) {
        let mut entries: Vec<PathBuf> = std::fs::read_dir(dir)
            .unwrap()
            .map(|e| e.unwrap().path())
            .collect();
        entries.sort();
        for path in entries {
            let name = path
                .strip_prefix(tree)
                .unwrap()
                .to_str()
                .unwrap()
                .to_owned();
            let meta = std::fs::symlink_metadata(&path).unwrap();
            let kind = meta.file_type();
            if kind.is_dir() {
                self.entry(&name, meta.mode(), 2, &[], (0, 0));
                self.add_tree(tree, &path);
            } else if kind.is_symlink() {
                let target = std::fs::read_link(&path).unwrap();
                let target = target.to_str().unwrap().as_bytes();
                self.entry(&name, meta.mode(), 1, target, (0, 0));
            } else {
                assert!(kind.is_file(), "{name} is neither file, directory nor link");
                let data = std::fs::read(&path).unwrap();
                self.entry(&name, meta.mode(), 1, &data, (0, 0));
            }
        }
    }

    /// `tree` plus /dev/console (the kernel opens it for /init) and the trailer.
    fn write(tree: &Path, out: &Path) {
        let mut cpio = Cpio::default();
        cpio.add_tree(tree, tree);
        cpio.entry("dev/console", libc::S_IFCHR | 0o600, 1, &[], (5, 1));
        cpio.entry("TRAILER!!!", 0, 1, &[], (0, 0));
        std::fs::write(out, &cpio.data).unwrap();
    }
}

/// Kills the VM (by its pid) if the test ends while it runs.
struct Vm(std::process::Child);

impl Drop for Vm {
    fn drop(&mut self) {
        if self.0.try_wait().ok().flatten().is_none() {
            let _ = self.0.kill();
            let _ = self.0.wait();
        }
    }
}

#[test]
fn runtime_on_a_pure_cgroup_v2_kernel_in_a_vm() {
    require_root();
    let kernel = newest_kernel();
    let started = Instant::now();
    let dir = tempfile::Builder::new()
        .prefix("pier-cgroup-v2-")
        .tempdir()
        .unwrap();

    let tree = dir.path().join("initramfs");
    make_busybox_rootfs(&tree);
    add_pier(&tree);
    add_bundles(&tree);
    std::fs::write(tree.join("init"), INIT).unwrap();
    std::fs::set_permissions(tree.join("init"), std::fs::Permissions::from_mode(0o755)).unwrap();
    let initramfs = dir.path().join("initramfs.cpio");
    Cpio::write(&tree, &initramfs);

    let kvm = kvm_usable();
    // TCG emulates the CPU, several times slower than KVM. (nextest's limit for this test,
    // in .config/nextest.toml, is above both.)
    let timeout = Duration::from_secs(if kvm { 120 } else { 540 });
    let console = dir.path().join("console.log");
    let qemu_log = dir.path().join("qemu.log");
    let qemu_out = std::fs::File::create(&qemu_log).unwrap();
    let mut cmd = Command::new("qemu-system-x86_64");
    if kvm {
        cmd.arg("-enable-kvm");
    } else {
        cmd.args(["-accel", "tcg"]);
    }
    cmd.args(["-m", "1024", "-smp", "2", "-nodefaults", "-no-reboot"])
        .args(["-display", "none", "-monitor", "none", "-nic", "none"])
        .arg("-serial")
        .arg(format!("file:{}", console.display()))
        .arg("-kernel")
        .arg(&kernel)
        .arg("-initrd")
        .arg(&initramfs)
        .args([
            "-append",
            "console=ttyS0 panic=-1 cgroup_no_v1=all quiet loglevel=3",
        ])
        .stdin(Stdio::null())
        .stdout(qemu_out.try_clone().unwrap())
        .stderr(qemu_out);
    let mut vm = Vm(cmd
        .spawn()
        .expect("running qemu-system-x86_64 (apt-get install qemu-system-x86)"));
    let deadline = Instant::now() + timeout;
    let status = loop {
        if let Some(status) = vm.0.try_wait().unwrap() {
            break Some(status);
        }
        if Instant::now() > deadline {
            break None;
        }
        std::thread::sleep(Duration::from_millis(100));
    };
    drop(vm);

    let log =
        String::from_utf8_lossy(&std::fs::read(&console).unwrap_or_default()).replace('\r', "");
    let qemu = std::fs::read_to_string(&qemu_log).unwrap_or_default();
    let accel = if kvm { "KVM" } else { "TCG" };
    let report = format!(
        "{} under {accel}, qemu {status:?} after {:?}\n--- qemu\n{qemu}--- console\n{log}",
        kernel.display(),
        started.elapsed()
    );
    assert!(
        status.is_some(),
        "the VM did not power off within {timeout:?}\n{report}"
    );
    let results: Vec<(&str, &str)> = log
        .lines()
        .filter_map(|l| l.split_once("PIER-V2 ").map(|(_, r)| r))
        .map(|r| r.split_once(' ').unwrap_or((r, "")))
        .collect();
    let failed: Vec<String> = results
        .iter()
        .filter(|(_, result)| *result != "ok")
        .filter(|(check, _)| *check != "done")
        .map(|(check, result)| format!("{check} {result}"))
        .collect();
    assert!(failed.is_empty(), "checks failed: {failed:#?}\n{report}");
    let missing: Vec<&&str> = CHECKS
        .iter()
        .filter(|c| !results.iter().any(|(check, _)| check == *c))
        .collect();
    assert!(
        missing.is_empty(),
        "checks not reported: {missing:?}\n{report}"
    );
    assert!(
        results.iter().any(|(check, _)| *check == "done"),
        "/init did not finish\n{report}"
    );
    eprintln!(
        "{} checks ok under {accel} in {:?}",
        CHECKS.len(),
        started.elapsed()
    );
}
