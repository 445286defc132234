//! Tests: Docker's defaults, the seccomp profile's resolution, and the profile enforced.

use oci_spec::runtime::{
    Capability, LinuxSeccomp, LinuxSeccompAction as Act, LinuxSeccompOperator as Op, Spec,
};

use super::syscalls::{self, Host};
use super::*;

/// Capability numbers from <linux/capability.h>, for the default set's bitmask.
fn cap_bit(cap: Capability) -> u32 {
    match cap {
        Capability::Chown => 0,
        Capability::DacOverride => 1,
        Capability::Fowner => 3,
        Capability::Fsetid => 4,
        Capability::Kill => 5,
        Capability::Setgid => 6,
        Capability::Setuid => 7,
        Capability::Setpcap => 8,
        Capability::NetBindService => 10,
        Capability::NetRaw => 13,
        Capability::SysChroot => 18,
        Capability::Mknod => 27,
        Capability::AuditWrite => 29,
        Capability::Setfcap => 31,
        other => panic!("{other} is not a Docker default"),
    }
}

fn with_sys_admin() -> Vec<Capability> {
    let mut caps = default_capabilities();
    caps.push(Capability::SysAdmin);
    caps
}

/// The rules that name `syscall`.
fn rules_for<'a>(
    seccomp: &'a LinuxSeccomp,
    syscall: &str,
) -> Vec<&'a oci_spec::runtime::LinuxSyscall> {
    seccomp
        .syscalls()
        .as_deref()
        .unwrap_or_default()
        .iter()
        .filter(|rule| rule.names().iter().any(|n| n == syscall))
        .collect()
}

/// Allowed whatever its arguments.
fn allowed_outright(seccomp: &LinuxSeccomp, syscall: &str) -> bool {
    rules_for(seccomp, syscall)
        .iter()
        .any(|rule| rule.action() == Act::ScmpActAllow && rule.args().is_none())
}

/// Falls to the default ERRNO, or has an ERRNO rule of its own.
fn denied(seccomp: &LinuxSeccomp, syscall: &str) -> bool {
    let rules = rules_for(seccomp, syscall);
    seccomp.default_action() == Act::ScmpActErrno
        && (rules.is_empty() || rules.iter().all(|rule| rule.action() == Act::ScmpActErrno))
}

#[test]
fn default_capabilities_are_dockers_fourteen() {
    let caps = default_capabilities();
    assert_eq!(caps.len(), 14);
    let mask = caps
        .iter()
        .fold(0u64, |mask, cap| mask | 1 << cap_bit(*cap));
    assert_eq!(mask, 0x0000_0000_a804_25fb);
}

#[test]
fn default_seccomp_denies_dangerous_syscalls() {
    let seccomp = default_seccomp(&default_capabilities());
    assert_eq!(seccomp.default_action(), Act::ScmpActErrno);
    assert_eq!(seccomp.default_errno_ret(), Some(libc::EPERM as u32));
    for syscall in [
        "keyctl",
        "add_key",
        "request_key",
        "kexec_load",
        "init_module",
        "finit_module",
        "mount",
        "umount2",
        "reboot",
        "swapon",
        "bpf",
        "perf_event_open",
        "userfaultfd",
        "unshare",
        "setns",
        "ptrace_nonexistent",
    ] {
        assert!(denied(&seccomp, syscall), "{syscall} should be denied");
    }
    for syscall in [
        "read",
        "write",
        "execve",
        "getpid",
        "chroot",
        "ptrace",
        "socketpair",
    ] {
        assert!(
            allowed_outright(&seccomp, syscall),
            "{syscall} should be allowed"
        );
    }
}

#[test]
fn clone_is_allowed_only_without_namespace_flags_and_clone3_gets_enosys() {
    let seccomp = default_seccomp(&default_capabilities());
    let clone = rules_for(&seccomp, "clone");
    assert_eq!(clone.len(), 1, "{clone:?}");
    assert_eq!(clone[0].action(), Act::ScmpActAllow);
    let args = clone[0].args().as_deref().unwrap_or_default();
    assert_eq!(args.len(), 1);
    let index = if cfg!(target_arch = "s390x") { 1 } else { 0 };
    assert_eq!(args[0].index(), index);
    assert_eq!(args[0].op(), Op::ScmpCmpMaskedEq);
    assert_eq!(args[0].value(), 0x7e02_0000);
    assert_eq!(args[0].value_two().unwrap_or(0), 0);

    let clone3 = rules_for(&seccomp, "clone3");
    assert_eq!(clone3.len(), 1);
    assert_eq!(clone3[0].action(), Act::ScmpActErrno);
    assert_eq!(clone3[0].errno_ret(), Some(libc::ENOSYS as u32));
}

#[test]
fn sys_admin_allows_mount_unshare_clone_and_clone3() {
    let seccomp = default_seccomp(&with_sys_admin());
    for syscall in [
        "mount", "umount2", "unshare", "setns", "clone", "clone3", "bpf",
    ] {
        assert!(
            allowed_outright(&seccomp, syscall),
            "{syscall} should be allowed"
        );
    }
    assert!(
        rules_for(&seccomp, "clone")
            .iter()
            .all(|rule| rule.args().is_none())
    );
    assert!(
        rules_for(&seccomp, "clone3")
            .iter()
            .all(|rule| rule.action() == Act::ScmpActAllow)
    );
    for syscall in ["keyctl", "reboot", "kexec_load", "init_module"] {
        assert!(
            denied(&seccomp, syscall),
            "{syscall} should still be denied"
        );
    }
}

#[test]
fn capability_specific_entries_follow_the_bounding_set() {
    let caps = [
        Capability::SysPtrace,
        Capability::SysModule,
        Capability::SysTime,
    ];
    let seccomp = default_seccomp(&caps);
    for syscall in ["kcmp", "init_module", "clock_settime"] {
        assert!(
            allowed_outright(&seccomp, syscall),
            "{syscall} should be allowed"
        );
    }
    // No CAP_SYS_CHROOT in that set.
    assert!(denied(&seccomp, "chroot"));
}

#[test]
fn architecture_and_kernel_conditions() {
    let caps = default_capabilities();
    let host = |arch, kernel| Host {
        caps: &caps,
        arch,
        kernel,
    };

    let amd64 = syscalls::resolve(&host("amd64", Some((6, 1))));
    assert!(allowed_outright(&amd64, "arch_prctl"));
    assert!(allowed_outright(&amd64, "modify_ldt"));
    assert!(!allowed_outright(&amd64, "s390_runtime_instr"));
    let arches = amd64.architectures().clone().unwrap_or_default();
    assert_eq!(
        arches,
        vec![
            oci_spec::runtime::Arch::ScmpArchX86_64,
            oci_spec::runtime::Arch::ScmpArchX86,
            oci_spec::runtime::Arch::ScmpArchX32
        ]
    );

    let s390x = syscalls::resolve(&host("s390x", Some((6, 1))));
    assert!(!allowed_outright(&s390x, "arch_prctl"));
    assert!(allowed_outright(&s390x, "s390_runtime_instr"));
    let clone = rules_for(&s390x, "clone");
    assert_eq!(clone.len(), 1);
    assert_eq!(clone[0].args().as_deref().unwrap_or_default()[0].index(), 1);

    let ppc = syscalls::resolve(&host("ppc64le", Some((6, 1))));
    assert!(ppc.architectures().is_none());

    // ptrace is allowed without CAP_SYS_PTRACE only from kernel 4.8 on.
    let old = syscalls::resolve(&host("amd64", Some((4, 4))));
    assert!(!allowed_outright(&old, "ptrace"));
    let unknown = syscalls::resolve(&host("amd64", None));
    assert!(!allowed_outright(&unknown, "ptrace"));
}

#[test]
fn kernel_release_parsing() {
    assert_eq!(syscalls::parse_kernel("6.18.44-fc-v595"), Some((6, 18)));
    assert_eq!(syscalls::parse_kernel("4.8"), Some((4, 8)));
    assert_eq!(syscalls::parse_kernel("5.10.0-28-amd64"), Some((5, 10)));
    assert_eq!(syscalls::parse_kernel("garbage"), None);
    assert!(syscalls::host_kernel().is_some());
}

#[test]
fn default_seccomp_round_trips_through_json() {
    let seccomp = default_seccomp(&default_capabilities());
    let json = serde_json::to_string(&seccomp).unwrap();
    assert!(
        json.contains("\"defaultAction\":\"SCMP_ACT_ERRNO\""),
        "{json}"
    );
    assert!(json.contains("\"SCMP_CMP_MASKED_EQ\""), "{json}");
    let back: LinuxSeccomp = serde_json::from_str(&json).unwrap();
    assert_eq!(back, seccomp);
}

#[test]
fn default_profile_compiles_and_is_enforced() {
    let seccomp = default_seccomp(&default_capabilities());
    let program = match crate::seccomp::compile(&seccomp) {
        Ok(program) => program,
        Err(err) => panic!("compile failed: {err}"),
    };
    assert!(program.len() > 100, "{program:?}");
    let end = run_confined(&program, || {
        // SAFETY: raw syscalls with integer arguments.
        unsafe {
            if libc::syscall(libc::SYS_getpid) <= 0 {
                return 1;
            }
            if libc::syscall(libc::SYS_unshare, libc::CLONE_NEWNS) != -1
                || nix::errno::Errno::last_raw() != libc::EPERM
            {
                return 2;
            }
            if libc::syscall(libc::SYS_keyctl, 0, 0, 0, 0, 0) != -1
                || nix::errno::Errno::last_raw() != libc::EPERM
            {
                return 3;
            }
            // clone with a namespace flag: refused; clone3: ENOSYS so libc falls back.
            if libc::syscall(
                libc::SYS_clone,
                libc::CLONE_NEWNET | libc::SIGCHLD,
                0,
                0,
                0,
                0,
            ) != -1
                || nix::errno::Errno::last_raw() != libc::EPERM
            {
                return 4;
            }
            if libc::syscall(libc::SYS_clone3, 0, 0) != -1
                || nix::errno::Errno::last_raw() != libc::ENOSYS
            {
                return 5;
            }
            // A syscall number above everything the profile names: ENOSYS, not EPERM.
            if libc::syscall(1000) != -1 || nix::errno::Errno::last_raw() != libc::ENOSYS {
                return 6;
            }
        }
        0
    });
    assert_eq!(end, 0, "check {end} failed in the confined child");
}

#[test]
fn profile_with_every_capability_compiles() {
    // Entries overlap then (ptrace, bpf, perf_event_open, syslog appear twice).
    let all: Vec<Capability> = serde_json::from_str(
        r#"["CAP_SYS_ADMIN", "CAP_SYS_PTRACE", "CAP_BPF", "CAP_PERFMON", "CAP_SYSLOG",
            "CAP_SYS_BOOT", "CAP_SYS_MODULE", "CAP_SYS_PACCT", "CAP_SYS_RAWIO", "CAP_SYS_TIME",
            "CAP_SYS_TTY_CONFIG", "CAP_SYS_NICE", "CAP_DAC_READ_SEARCH", "CAP_SYS_CHROOT"]"#,
    )
    .unwrap();
    let seccomp = default_seccomp(&all);
    assert!(allowed_outright(&seccomp, "reboot"));
    assert!(allowed_outright(&seccomp, "open_by_handle_at"));
    let program = crate::seccomp::compile(&seccomp).unwrap();
    assert!(program.len() > 100);
}

#[test]
fn sys_admin_profile_allows_unshare() {
    let seccomp = default_seccomp(&with_sys_admin());
    let program = crate::seccomp::compile(&seccomp).unwrap();
    let end = run_confined(&program, || {
        // SAFETY: a raw syscall with an integer argument; the child's UTS namespace dies with it.
        let rc = unsafe { libc::syscall(libc::SYS_unshare, libc::CLONE_NEWUTS) };
        if rc == 0 { 0 } else { 1 }
    });
    assert_eq!(end, 0);
}

/// Forks a child that installs `program` and exits with `check()` (255 if killed).
fn run_confined(program: &crate::seccomp::SeccompProgram, check: impl FnOnce() -> i32) -> i32 {
    // SAFETY: the child only makes raw syscalls and leaves with _exit (no allocation).
    let pid = unsafe { libc::fork() };
    assert!(pid >= 0, "fork failed");
    if pid == 0 {
        // SAFETY: async-signal-safe calls only, see above.
        unsafe {
            if libc::prctl(libc::PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0 || program.install().is_err()
            {
                libc::_exit(100);
            }
            libc::_exit(check());
        }
    }
    let mut status = 0;
    // SAFETY: waits for the child forked above.
    assert_eq!(unsafe { libc::waitpid(pid, &mut status, 0) }, pid);
    if libc::WIFEXITED(status) {
        libc::WEXITSTATUS(status)
    } else {
        255
    }
}

#[test]
fn masked_and_readonly_paths_are_dockers() {
    assert!(DEFAULT_MASKED_PATHS.contains(&"/proc/kcore"));
    assert!(DEFAULT_MASKED_PATHS.contains(&"/sys/devices/virtual/powercap"));
    assert!(DEFAULT_MASKED_PATHS.contains(&"/proc/interrupts"));
    assert_eq!(DEFAULT_READONLY_PATHS.len(), 5);
    let masked = default_masked_paths();
    assert!(masked.len() >= DEFAULT_MASKED_PATHS.len());
    assert!(
        masked[DEFAULT_MASKED_PATHS.len()..]
            .iter()
            .all(|p| p.ends_with("/thermal_throttle"))
    );
    assert!(is_cpu_dir("cpu0") && is_cpu_dir("cpu17"));
    assert!(!is_cpu_dir("cpufreq") && !is_cpu_dir("cpu") && !is_cpu_dir("cpuidle"));
}

#[test]
fn default_mounts_and_device_rules() {
    let mounts = default_mounts();
    let destinations: Vec<_> = mounts
        .iter()
        .map(|m| m.destination().to_string_lossy().into_owned())
        .collect();
    assert_eq!(
        destinations,
        [
            "/proc",
            "/dev",
            "/dev/pts",
            "/sys",
            "/sys/fs/cgroup",
            "/dev/mqueue",
            "/dev/shm"
        ]
    );
    let shm = &mounts[6];
    assert_eq!(shm.typ().as_deref(), Some("tmpfs"));
    assert!(
        shm.options()
            .as_deref()
            .unwrap_or_default()
            .iter()
            .any(|o| o == "size=65536k")
    );

    let rules = default_device_rules();
    assert!(!rules[0].allow());
    assert_eq!(rules[0].typ(), None);
    assert_eq!(rules[0].access().as_deref(), Some("rwm"));
    let allows = |major: i64, minor: Option<i64>| {
        rules
            .iter()
            .any(|r| r.allow() && r.major() == Some(major) && r.minor() == minor)
    };
    for (major, minor) in [
        (1, Some(3)),
        (1, Some(5)),
        (1, Some(7)),
        (1, Some(8)),
        (1, Some(9)),
        (5, Some(0)),
        (5, Some(1)),
        (5, Some(2)),
        (136, None),
    ] {
        assert!(allows(major, minor), "{major}:{minor:?}");
    }
    assert_eq!(default_devices().len(), 6);
}

#[test]
fn default_spec_is_a_docker_like_config_json() {
    let spec = default_spec(
        "rootfs",
        vec!["sh".into(), "-c".into(), "true".into()],
        false,
    );
    let json = serde_json::to_value(&spec).unwrap();
    let keys: Vec<_> = json.as_object().unwrap().keys().cloned().collect();
    assert_eq!(keys.len(), 6, "{keys:?}");
    for key in [
        "ociVersion",
        "root",
        "process",
        "hostname",
        "mounts",
        "linux",
    ] {
        assert!(keys.iter().any(|k| k == key), "missing {key} in {keys:?}");
    }
    assert_eq!(
        json["root"],
        serde_json::json!({"path": "rootfs", "readonly": false})
    );
    let process = &json["process"];
    assert_eq!(process["terminal"], false);
    assert_eq!(process["user"], serde_json::json!({"uid": 0, "gid": 0}));
    assert_eq!(process["args"], serde_json::json!(["sh", "-c", "true"]));
    assert_eq!(process["env"], serde_json::json!([DEFAULT_PATH_ENV]));
    assert_eq!(process["cwd"], "/");
    assert_eq!(process["noNewPrivileges"], false);
    assert!(process.get("rlimits").is_none());
    let caps = process["capabilities"].as_object().unwrap();
    let mut sets: Vec<_> = caps.keys().cloned().collect();
    sets.sort();
    assert_eq!(sets, ["bounding", "effective", "permitted"]);
    assert_eq!(caps["bounding"].as_array().unwrap().len(), 14);

    let linux = &json["linux"];
    let namespaces: Vec<_> = linux["namespaces"]
        .as_array()
        .unwrap()
        .iter()
        .map(|n| n["type"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(
        namespaces,
        ["mount", "network", "uts", "pid", "ipc", "cgroup"]
    );
    assert_eq!(linux["seccomp"]["defaultAction"], "SCMP_ACT_ERRNO");
    assert_eq!(
        linux["resources"]["devices"][0],
        serde_json::json!({"allow": false, "access": "rwm"})
    );

    let text = serde_json::to_string_pretty(&spec).unwrap();
    let back: Spec = serde_json::from_str(&text).unwrap();
    assert_eq!(back, spec);

    let tty = default_spec("/var/lib/pier/x/rootfs", vec!["sh".into()], true);
    let env = tty.process().as_ref().unwrap().env().clone().unwrap();
    assert!(env.iter().any(|e| e == "TERM=xterm"));
}
