//! Docker's default isolation profile, as data: what a container gets unless told otherwise.
//!
//! Owns the defaults that make an image behave under pier as under Docker: the 14
//! capabilities, the seccomp profile (resolved for the container's capabilities, the host
//! architecture and kernel, as moby does), masked and read-only paths, the standard mounts,
//! the device cgroup rules, and a complete config.json built from them. It only produces
//! OCI data; applying it is the rest of the runtime's job, and choosing it the engine's.

mod syscalls;
#[cfg(test)]
mod tests;

use std::collections::HashSet;
use std::path::PathBuf;

use oci_spec::runtime::{
    Capability, Linux, LinuxCapabilities, LinuxDevice, LinuxDeviceCgroup, LinuxDeviceType,
    LinuxNamespace, LinuxNamespaceType, LinuxResources, LinuxSeccomp, Mount, Process, Root, Spec,
    User,
};

/// The `PATH` Docker gives a container whose image sets none.
pub const DEFAULT_PATH_ENV: &str =
    "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";

/// Paths hidden from the container (moby's list, including /proc/interrupts since moby
/// PR 49560); [`default_masked_paths`] adds the host's per-CPU `thermal_throttle` dirs.
pub const DEFAULT_MASKED_PATHS: &[&str] = &[
    "/proc/asound",
    "/proc/acpi",
    "/proc/interrupts",
    "/proc/kcore",
    "/proc/keys",
    "/proc/latency_stats",
    "/proc/timer_list",
    "/proc/timer_stats",
    "/proc/sched_debug",
    "/proc/scsi",
    "/sys/firmware",
    "/sys/devices/virtual/powercap",
];

/// Paths left visible but read-only (moby's list).
pub const DEFAULT_READONLY_PATHS: &[&str] = &[
    "/proc/bus",
    "/proc/fs",
    "/proc/irq",
    "/proc/sys",
    "/proc/sysrq-trigger",
];

/// The hostname [`default_spec`] sets; the engine replaces it (Docker uses the short id).
pub const DEFAULT_HOSTNAME: &str = "pier";

/// Docker's default 14 capabilities, in Docker's order (effective set 0x00000000a80425fb).
pub fn default_capabilities() -> Vec<Capability> {
    vec![
        Capability::Chown,
        Capability::DacOverride,
        Capability::Fsetid,
        Capability::Fowner,
        Capability::Mknod,
        Capability::NetRaw,
        Capability::Setgid,
        Capability::Setuid,
        Capability::Setfcap,
        Capability::Setpcap,
        Capability::NetBindService,
        Capability::SysChroot,
        Capability::Kill,
        Capability::AuditWrite,
    ]
}

/// Docker's default seccomp profile for the host arch, resolved for a container whose
/// bounding set is `caps` (the profile's includes/excludes on capabilities, architectures
/// and minimum kernel evaluated, as moby does when it builds config.json).
pub fn default_seccomp(caps: &[Capability]) -> LinuxSeccomp {
    syscalls::resolve(&syscalls::Host {
        caps,
        arch: syscalls::host_arch(),
        kernel: syscalls::host_kernel(),
    })
}

/// [`DEFAULT_MASKED_PATHS`] plus `/sys/devices/system/cpu/cpuN/thermal_throttle` for each
/// CPU of this host that has one (moby masks them too; they depend on the host).
pub fn default_masked_paths() -> Vec<String> {
    let mut paths: Vec<String> = DEFAULT_MASKED_PATHS
        .iter()
        .map(|p| (*p).to_owned())
        .collect();
    paths.extend(thermal_throttle_paths());
    paths
}

fn thermal_throttle_paths() -> Vec<String> {
    let Ok(entries) = std::fs::read_dir("/sys/devices/system/cpu") else {
        return Vec::new();
    };
    let mut paths: Vec<String> = entries
        .filter_map(Result::ok)
        .filter(|entry| is_cpu_dir(&entry.file_name().to_string_lossy()))
        .map(|entry| entry.path().join("thermal_throttle"))
        .filter(|path| path.is_dir())
        .map(|path| path.to_string_lossy().into_owned())
        .collect();
    paths.sort();
    paths
}

/// `cpu0`, `cpu12`... but not `cpufreq` or `cpuidle`.
fn is_cpu_dir(name: &str) -> bool {
    name.strip_prefix("cpu")
        .is_some_and(|n| !n.is_empty() && n.bytes().all(|b| b.is_ascii_digit()))
}

/// Docker's standard mounts.
pub fn default_mounts() -> Vec<Mount> {
    const NOSUID_NOEXEC_NODEV: &[&str] = &["nosuid", "noexec", "nodev"];
    vec![
        mount("/proc", "proc", "proc", NOSUID_NOEXEC_NODEV),
        mount(
            "/dev",
            "tmpfs",
            "tmpfs",
            &["nosuid", "strictatime", "mode=755", "size=65536k"],
        ),
        mount(
            "/dev/pts",
            "devpts",
            "devpts",
            &[
                "nosuid",
                "noexec",
                "newinstance",
                "ptmxmode=0666",
                "mode=0620",
                "gid=5",
            ],
        ),
        mount(
            "/sys",
            "sysfs",
            "sysfs",
            &["nosuid", "noexec", "nodev", "ro"],
        ),
        mount(
            "/sys/fs/cgroup",
            "cgroup",
            "cgroup",
            &["ro", "nosuid", "noexec", "nodev"],
        ),
        mount("/dev/mqueue", "mqueue", "mqueue", NOSUID_NOEXEC_NODEV),
        mount(
            "/dev/shm",
            "tmpfs",
            "shm",
            &["nosuid", "noexec", "nodev", "mode=1777", "size=65536k"],
        ),
    ]
}

fn mount(destination: &str, typ: &str, source: &str, options: &[&str]) -> Mount {
    let mut mount = Mount::default();
    mount.set_destination(PathBuf::from(destination));
    mount.set_typ(Some(typ.to_owned()));
    mount.set_source(Some(PathBuf::from(source)));
    mount.set_options(Some(options.iter().map(|o| (*o).to_owned()).collect()));
    mount
}

/// The device cgroup rules a Docker container ends up with: deny everything, then allow
/// mknod of any device, and use of the standard ones (what moby writes plus what runc adds:
/// null, zero, full, random, urandom, tty, console, ptmx, the pty slaves and /dev/net/tun).
pub fn default_device_rules() -> Vec<LinuxDeviceCgroup> {
    let rwm = "rwm";
    vec![
        device_rule(false, None, None, None, rwm),
        device_rule(true, Some(LinuxDeviceType::C), None, None, "m"),
        device_rule(true, Some(LinuxDeviceType::B), None, None, "m"),
        char_rule(1, Some(3), rwm),    // /dev/null
        char_rule(1, Some(5), rwm),    // /dev/zero
        char_rule(1, Some(7), rwm),    // /dev/full
        char_rule(1, Some(8), rwm),    // /dev/random
        char_rule(1, Some(9), rwm),    // /dev/urandom
        char_rule(5, Some(0), rwm),    // /dev/tty
        char_rule(5, Some(1), rwm),    // /dev/console
        char_rule(5, Some(2), rwm),    // /dev/ptmx
        char_rule(136, None, rwm),     // /dev/pts/*
        char_rule(10, Some(200), rwm), // /dev/net/tun
    ]
}

fn char_rule(major: i64, minor: Option<i64>, access: &str) -> LinuxDeviceCgroup {
    device_rule(true, Some(LinuxDeviceType::C), Some(major), minor, access)
}

fn device_rule(
    allow: bool,
    typ: Option<LinuxDeviceType>,
    major: Option<i64>,
    minor: Option<i64>,
    access: &str,
) -> LinuxDeviceCgroup {
    let mut rule = LinuxDeviceCgroup::default();
    rule.set_allow(allow);
    rule.set_typ(typ);
    rule.set_major(major);
    rule.set_minor(minor);
    rule.set_access(Some(access.to_owned()));
    rule
}

/// The device nodes every container's /dev holds (the OCI runtime spec's default devices,
/// mode 0666, owned by root). They are not listed in config.json: the runtime supplies them.
pub fn default_devices() -> Vec<LinuxDevice> {
    [
        ("null", 1, 3),
        ("zero", 1, 5),
        ("full", 1, 7),
        ("random", 1, 8),
        ("urandom", 1, 9),
        ("tty", 5, 0),
    ]
    .into_iter()
    .map(|(name, major, minor)| {
        let mut device = LinuxDevice::default();
        device.set_path(PathBuf::from(format!("/dev/{name}")));
        device.set_typ(LinuxDeviceType::C);
        device.set_major(major);
        device.set_minor(minor);
        device.set_file_mode(Some(0o666));
        device.set_uid(Some(0));
        device.set_gid(Some(0));
        device
    })
    .collect()
}

/// A complete config.json like the one Docker gives a container (and like `runc spec`, but
/// with Docker's defaults). With `terminal`, `TERM=xterm` is added to the environment, as
/// Docker does for `-t`.
pub fn default_spec(rootfs: &str, args: Vec<String>, terminal: bool) -> Spec {
    let mut spec = Spec::default();
    spec.set_version(oci_spec::runtime::VERSION.to_owned());
    spec.set_root(Some(root(rootfs)));
    spec.set_process(Some(process(args, terminal)));
    spec.set_hostname(Some(DEFAULT_HOSTNAME.to_owned()));
    spec.set_domainname(None);
    spec.set_mounts(Some(default_mounts()));
    spec.set_hooks(None);
    spec.set_annotations(None);
    spec.set_linux(Some(linux()));
    spec
}

fn root(rootfs: &str) -> Root {
    let mut root = Root::default();
    root.set_path(PathBuf::from(rootfs));
    root.set_readonly(Some(false));
    root
}

fn process(args: Vec<String>, terminal: bool) -> Process {
    let mut env = vec![DEFAULT_PATH_ENV.to_owned()];
    if terminal {
        env.push("TERM=xterm".to_owned());
    }
    let mut process = Process::default();
    process.set_terminal(Some(terminal));
    process.set_console_size(None);
    process.set_user(User::default());
    process.set_args(Some(args));
    process.set_command_line(None);
    process.set_env(Some(env));
    process.set_cwd(PathBuf::from("/"));
    process.set_capabilities(Some(capabilities(&default_capabilities())));
    process.set_rlimits(None);
    process.set_no_new_privileges(Some(false));
    process.set_apparmor_profile(None);
    process.set_oom_score_adj(None);
    process.set_selinux_label(None);
    process.set_io_priority(None);
    process.set_scheduler(None);
    process.set_exec_cpu_affinity(None);
    process
}

/// Docker's capability sets: bounding, effective and permitted; no inheritable, no ambient.
fn capabilities(caps: &[Capability]) -> LinuxCapabilities {
    let set: HashSet<Capability> = caps.iter().copied().collect();
    let mut capabilities = LinuxCapabilities::default();
    capabilities.set_bounding(Some(set.clone()));
    capabilities.set_effective(Some(set.clone()));
    capabilities.set_permitted(Some(set));
    capabilities.set_inheritable(None);
    capabilities.set_ambient(None);
    capabilities
}

fn linux() -> Linux {
    let mut resources = LinuxResources::default();
    resources.set_devices(Some(default_device_rules()));
    let mut linux = Linux::default();
    linux.set_net_devices(None);
    linux.set_uid_mappings(None);
    linux.set_gid_mappings(None);
    linux.set_sysctl(None);
    linux.set_resources(Some(resources));
    linux.set_cgroups_path(None);
    linux.set_namespaces(Some(namespaces()));
    linux.set_devices(None);
    linux.set_seccomp(Some(default_seccomp(&default_capabilities())));
    linux.set_rootfs_propagation(None);
    linux.set_masked_paths(Some(default_masked_paths()));
    linux.set_readonly_paths(Some(
        DEFAULT_READONLY_PATHS
            .iter()
            .map(|p| (*p).to_owned())
            .collect(),
    ));
    linux.set_mount_label(None);
    linux.set_intel_rdt(None);
    linux.set_memory_policy(None);
    linux.set_personality(None);
    linux.set_time_offsets(None);
    linux
}

/// Docker's namespaces: everything but user (and time).
fn namespaces() -> Vec<LinuxNamespace> {
    [
        LinuxNamespaceType::Mount,
        LinuxNamespaceType::Network,
        LinuxNamespaceType::Uts,
        LinuxNamespaceType::Pid,
        LinuxNamespaceType::Ipc,
        LinuxNamespaceType::Cgroup,
    ]
    .into_iter()
    .map(|typ| {
        let mut namespace = LinuxNamespace::default();
        namespace.set_typ(typ);
        namespace.set_path(None);
        namespace
    })
    .collect()
}
