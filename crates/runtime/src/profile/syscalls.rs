//! Docker's default seccomp profile, as pier's own data, and its resolution for a container.
//!
//! The syscall lists are Docker's (moby/profiles, seccomp/default.json): an allow-list with
//! `ERRNO(EPERM)` for everything else, plus entries that apply only with some capabilities,
//! on some architectures, or from some kernel version. [`resolve`] evaluates those
//! conditions as moby does when it writes config.json, so the result is a plain OCI profile.

use oci_spec::runtime::{
    Arch, Capability, LinuxSeccomp, LinuxSeccompAction, LinuxSeccompArgBuilder,
    LinuxSeccompOperator as Op, LinuxSyscall,
};

/// `socket(2)` domains around the two Docker refuses: AF_ALG (38) and AF_VSOCK (40).
const AF_ALG: u64 = libc::AF_ALG as u64;
const AF_NFC: u64 = libc::AF_NFC as u64;
const AF_VSOCK: u64 = libc::AF_VSOCK as u64;

/// `personality(2)` values Docker allows.
const PER_LINUX: u64 = 0x0000;
const UNAME26: u64 = 0x0008;
const PER_LINUX32: u64 = 0x0002_0000;
const PER_LINUX32_UNAME26: u64 = PER_LINUX32 | UNAME26;
const PER_QUERY: u64 = 0xffff_ffff;

/// The `clone(2)` flags that create namespaces; without CAP_SYS_ADMIN none may be set.
const CLONE_NAMESPACES: u64 = (libc::CLONE_NEWNS
    | libc::CLONE_NEWCGROUP
    | libc::CLONE_NEWUTS
    | libc::CLONE_NEWIPC
    | libc::CLONE_NEWUSER
    | libc::CLONE_NEWPID
    | libc::CLONE_NEWNET) as u64;

/// Allowed to every container.
const BASE: &[&str] = &[
    "accept",
    "accept4",
    "access",
    "adjtimex",
    "alarm",
    "bind",
    "brk",
    "cachestat",
    "capget",
    "capset",
    "chdir",
    "chmod",
    "chown",
    "chown32",
    "clock_adjtime",
    "clock_adjtime64",
    "clock_getres",
    "clock_getres_time64",
    "clock_gettime",
    "clock_gettime64",
    "clock_nanosleep",
    "clock_nanosleep_time64",
    "close",
    "close_range",
    "connect",
    "copy_file_range",
    "creat",
    "dup",
    "dup2",
    "dup3",
    "epoll_create",
    "epoll_create1",
    "epoll_ctl",
    "epoll_ctl_old",
    "epoll_pwait",
    "epoll_pwait2",
    "epoll_wait",
    "epoll_wait_old",
    "eventfd",
    "eventfd2",
    "execve",
    "execveat",
    "exit",
    "exit_group",
    "faccessat",
    "faccessat2",
    "fadvise64",
    "fadvise64_64",
    "fallocate",
    "fanotify_mark",
    "fchdir",
    "fchmod",
    "fchmodat",
    "fchmodat2",
    "fchown",
    "fchown32",
    "fchownat",
    "fcntl",
    "fcntl64",
    "fdatasync",
    "fgetxattr",
    "flistxattr",
    "flock",
    "fork",
    "fremovexattr",
    "fsetxattr",
    "fstat",
    "fstat64",
    "fstatat64",
    "fstatfs",
    "fstatfs64",
    "fsync",
    "ftruncate",
    "ftruncate64",
    "futex",
    "futex_requeue",
    "futex_time64",
    "futex_wait",
    "futex_waitv",
    "futex_wake",
    "futimesat",
    "getcpu",
    "getcwd",
    "getdents",
    "getdents64",
    "getegid",
    "getegid32",
    "geteuid",
    "geteuid32",
    "getgid",
    "getgid32",
    "getgroups",
    "getgroups32",
    "getitimer",
    "getpeername",
    "getpgid",
    "getpgrp",
    "getpid",
    "getppid",
    "getpriority",
    "getrandom",
    "getresgid",
    "getresgid32",
    "getresuid",
    "getresuid32",
    "getrlimit",
    "get_robust_list",
    "getrusage",
    "getsid",
    "getsockname",
    "getsockopt",
    "get_thread_area",
    "gettid",
    "gettimeofday",
    "getuid",
    "getuid32",
    "getxattr",
    "getxattrat",
    "inotify_add_watch",
    "inotify_init",
    "inotify_init1",
    "inotify_rm_watch",
    "io_cancel",
    "ioctl",
    "io_destroy",
    "io_getevents",
    "io_pgetevents",
    "io_pgetevents_time64",
    "ioprio_get",
    "ioprio_set",
    "io_setup",
    "io_submit",
    "ipc",
    "kill",
    "landlock_add_rule",
    "landlock_create_ruleset",
    "landlock_restrict_self",
    "lchown",
    "lchown32",
    "lgetxattr",
    "link",
    "linkat",
    "listen",
    "listmount",
    "listxattr",
    "listxattrat",
    "llistxattr",
    "_llseek",
    "lremovexattr",
    "lseek",
    "lsetxattr",
    "lstat",
    "lstat64",
    "madvise",
    "map_shadow_stack",
    "membarrier",
    "memfd_create",
    "memfd_secret",
    "mincore",
    "mkdir",
    "mkdirat",
    "mknod",
    "mknodat",
    "mlock",
    "mlock2",
    "mlockall",
    "mmap",
    "mmap2",
    "mprotect",
    "mq_getsetattr",
    "mq_notify",
    "mq_open",
    "mq_timedreceive",
    "mq_timedreceive_time64",
    "mq_timedsend",
    "mq_timedsend_time64",
    "mq_unlink",
    "mremap",
    "mseal",
    "msgctl",
    "msgget",
    "msgrcv",
    "msgsnd",
    "msync",
    "munlock",
    "munlockall",
    "munmap",
    "name_to_handle_at",
    "nanosleep",
    "newfstatat",
    "_newselect",
    "open",
    "openat",
    "openat2",
    "pause",
    "pidfd_open",
    "pidfd_send_signal",
    "pipe",
    "pipe2",
    "pkey_alloc",
    "pkey_free",
    "pkey_mprotect",
    "poll",
    "ppoll",
    "ppoll_time64",
    "prctl",
    "pread64",
    "preadv",
    "preadv2",
    "prlimit64",
    "process_mrelease",
    "pselect6",
    "pselect6_time64",
    "pwrite64",
    "pwritev",
    "pwritev2",
    "read",
    "readahead",
    "readlink",
    "readlinkat",
    "readv",
    "recv",
    "recvfrom",
    "recvmmsg",
    "recvmmsg_time64",
    "recvmsg",
    "remap_file_pages",
    "removexattr",
    "removexattrat",
    "rename",
    "renameat",
    "renameat2",
    "restart_syscall",
    "riscv_hwprobe",
    "rmdir",
    "rseq",
    "rt_sigaction",
    "rt_sigpending",
    "rt_sigprocmask",
    "rt_sigqueueinfo",
    "rt_sigreturn",
    "rt_sigsuspend",
    "rt_sigtimedwait",
    "rt_sigtimedwait_time64",
    "rt_tgsigqueueinfo",
    "sched_getaffinity",
    "sched_getattr",
    "sched_getparam",
    "sched_get_priority_max",
    "sched_get_priority_min",
    "sched_getscheduler",
    "sched_rr_get_interval",
    "sched_rr_get_interval_time64",
    "sched_setaffinity",
    "sched_setattr",
    "sched_setparam",
    "sched_setscheduler",
    "sched_yield",
    "seccomp",
    "select",
    "semctl",
    "semget",
    "semop",
    "semtimedop",
    "semtimedop_time64",
    "send",
    "sendfile",
    "sendfile64",
    "sendmmsg",
    "sendmsg",
    "sendto",
    "setfsgid",
    "setfsgid32",
    "setfsuid",
    "setfsuid32",
    "setgid",
    "setgid32",
    "setgroups",
    "setgroups32",
    "setitimer",
    "setpgid",
    "setpriority",
    "setregid",
    "setregid32",
    "setresgid",
    "setresgid32",
    "setresuid",
    "setresuid32",
    "setreuid",
    "setreuid32",
    "setrlimit",
    "set_robust_list",
    "setsid",
    "setsockopt",
    "set_thread_area",
    "set_tid_address",
    "setuid",
    "setuid32",
    "setxattr",
    "setxattrat",
    "shmat",
    "shmctl",
    "shmdt",
    "shmget",
    "shutdown",
    "sigaltstack",
    "signalfd",
    "signalfd4",
    "sigprocmask",
    "sigreturn",
    "socketcall",
    "socketpair",
    "splice",
    "stat",
    "stat64",
    "statfs",
    "statfs64",
    "statmount",
    "statx",
    "symlink",
    "symlinkat",
    "sync",
    "sync_file_range",
    "syncfs",
    "sysinfo",
    "tee",
    "tgkill",
    "time",
    "timer_create",
    "timer_delete",
    "timer_getoverrun",
    "timer_gettime",
    "timer_gettime64",
    "timer_settime",
    "timer_settime64",
    "timerfd_create",
    "timerfd_gettime",
    "timerfd_gettime64",
    "timerfd_settime",
    "timerfd_settime64",
    "times",
    "tkill",
    "truncate",
    "truncate64",
    "ugetrlimit",
    "umask",
    "uname",
    "unlink",
    "unlinkat",
    "uretprobe",
    "utime",
    "utimensat",
    "utimensat_time64",
    "utimes",
    "vfork",
    "vmsplice",
    "wait4",
    "waitid",
    "waitpid",
    "write",
    "writev",
];

/// Docker's profile, in its order.
const RULES: &[Rule] = &[
    allow(BASE),
    allow(&["process_vm_readv", "process_vm_writev", "ptrace"]).if_kernel(4, 8),
    allow(&["socket"]).arg(0, Op::ScmpCmpLt, AF_ALG),
    allow(&["socket"]).arg(0, Op::ScmpCmpEq, AF_NFC),
    allow(&["socket"]).arg(0, Op::ScmpCmpGt, AF_VSOCK),
    allow(&["personality"]).arg(0, Op::ScmpCmpEq, PER_LINUX),
    allow(&["personality"]).arg(0, Op::ScmpCmpEq, UNAME26),
    allow(&["personality"]).arg(0, Op::ScmpCmpEq, PER_LINUX32),
    allow(&["personality"]).arg(0, Op::ScmpCmpEq, PER_LINUX32_UNAME26),
    allow(&["personality"]).arg(0, Op::ScmpCmpEq, PER_QUERY),
    allow(&["sync_file_range2", "swapcontext"]).if_arches(&["ppc64le"]),
    allow(&[
        "arm_fadvise64_64",
        "arm_sync_file_range",
        "sync_file_range2",
        "breakpoint",
        "cacheflush",
        "set_tls",
    ])
    .if_arches(&["arm", "arm64"]),
    allow(&["arch_prctl"]).if_arches(&["amd64", "x32"]),
    allow(&["modify_ldt"]).if_arches(&["amd64", "x32", "x86"]),
    allow(&[
        "s390_pci_mmio_read",
        "s390_pci_mmio_write",
        "s390_runtime_instr",
    ])
    .if_arches(&["s390", "s390x"]),
    allow(&["riscv_flush_icache"]).if_arches(&["riscv64"]),
    allow(&["open_by_handle_at"]).if_caps(&[Capability::DacReadSearch]),
    allow(&[
        "bpf",
        "clone",
        "clone3",
        "fanotify_init",
        "fsconfig",
        "fsmount",
        "fsopen",
        "fspick",
        "lookup_dcookie",
        "lsm_get_self_attr",
        "lsm_list_modules",
        "lsm_set_self_attr",
        "mount",
        "mount_setattr",
        "move_mount",
        "open_tree",
        "perf_event_open",
        "quotactl",
        "quotactl_fd",
        "setdomainname",
        "sethostname",
        "setns",
        "syslog",
        "umount",
        "umount2",
        "unshare",
    ])
    .if_caps(&[Capability::SysAdmin]),
    allow(&["clone"])
        .arg(0, Op::ScmpCmpMaskedEq, CLONE_NAMESPACES)
        .unless_caps(&[Capability::SysAdmin])
        .unless_arches(&["s390", "s390x"]),
    allow(&["clone"])
        .arg(1, Op::ScmpCmpMaskedEq, CLONE_NAMESPACES)
        .if_arches(&["s390", "s390x"])
        .unless_caps(&[Capability::SysAdmin]),
    errno(&["clone3"], libc::ENOSYS as u32).unless_caps(&[Capability::SysAdmin]),
    allow(&["reboot"]).if_caps(&[Capability::SysBoot]),
    allow(&["chroot"]).if_caps(&[Capability::SysChroot]),
    allow(&["delete_module", "init_module", "finit_module"]).if_caps(&[Capability::SysModule]),
    allow(&["acct"]).if_caps(&[Capability::SysPacct]),
    allow(&[
        "kcmp",
        "pidfd_getfd",
        "process_madvise",
        "process_vm_readv",
        "process_vm_writev",
        "ptrace",
    ])
    .if_caps(&[Capability::SysPtrace]),
    allow(&["iopl", "ioperm"]).if_caps(&[Capability::SysRawio]),
    allow(&["settimeofday", "stime", "clock_settime", "clock_settime64"])
        .if_caps(&[Capability::SysTime]),
    allow(&["vhangup"]).if_caps(&[Capability::SysTtyConfig]),
    allow(&[
        "get_mempolicy",
        "mbind",
        "set_mempolicy",
        "set_mempolicy_home_node",
    ])
    .if_caps(&[Capability::SysNice]),
    allow(&["syslog"]).if_caps(&[Capability::Syslog]),
    allow(&["bpf"]).if_caps(&[Capability::Bpf]),
    allow(&["perf_event_open"]).if_caps(&[Capability::Perfmon]),
];

/// What an entry does to its syscalls.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Action {
    Allow,
    Errno(u32),
}

/// One condition on a syscall argument.
#[derive(Debug, Clone, Copy)]
struct Arg {
    index: usize,
    op: Op,
    value: u64,
}

/// Conditions on the container and host: every listed capability held, the host
/// architecture among those listed, the kernel at least this version. Empty means "any".
#[derive(Debug, Clone, Copy)]
struct When {
    caps: &'static [Capability],
    arches: &'static [&'static str],
    min_kernel: Option<(u32, u32)>,
}

const ANY: When = When {
    caps: &[],
    arches: &[],
    min_kernel: None,
};

/// One entry of the profile.
#[derive(Debug, Clone, Copy)]
struct Rule {
    names: &'static [&'static str],
    action: Action,
    /// Docker's entries test at most one argument.
    arg: Option<Arg>,
    includes: When,
    excludes: When,
}

const fn allow(names: &'static [&'static str]) -> Rule {
    Rule {
        names,
        action: Action::Allow,
        arg: None,
        includes: ANY,
        excludes: ANY,
    }
}

const fn errno(names: &'static [&'static str], errno: u32) -> Rule {
    Rule {
        action: Action::Errno(errno),
        ..allow(names)
    }
}

impl Rule {
    const fn arg(mut self, index: usize, op: Op, value: u64) -> Self {
        self.arg = Some(Arg { index, op, value });
        self
    }

    const fn if_caps(mut self, caps: &'static [Capability]) -> Self {
        self.includes.caps = caps;
        self
    }

    const fn if_arches(mut self, arches: &'static [&'static str]) -> Self {
        self.includes.arches = arches;
        self
    }

    const fn if_kernel(mut self, major: u32, minor: u32) -> Self {
        self.includes.min_kernel = Some((major, minor));
        self
    }

    const fn unless_caps(mut self, caps: &'static [Capability]) -> Self {
        self.excludes.caps = caps;
        self
    }

    const fn unless_arches(mut self, arches: &'static [&'static str]) -> Self {
        self.excludes.arches = arches;
        self
    }
}

/// What the conditions are evaluated against.
#[derive(Debug, Clone, Copy)]
pub(super) struct Host<'a> {
    /// The bounding capabilities of the container.
    pub caps: &'a [Capability],
    /// The host architecture, with moby's names (amd64, arm64, x86, s390x...).
    pub arch: &'static str,
    /// The running kernel's (major, minor), None if unknown.
    pub kernel: Option<(u32, u32)>,
}

impl Host<'_> {
    /// An entry applies unless an exclusion holds, and only if every inclusion holds
    /// (moby's rule: any excluded capability held drops it; a missing included one too).
    fn applies(&self, rule: &Rule) -> bool {
        !self.excluded_by(&rule.excludes) && self.included_by(&rule.includes)
    }

    fn excluded_by(&self, when: &When) -> bool {
        when.arches.contains(&self.arch)
            || when.caps.iter().any(|cap| self.caps.contains(cap))
            || when.min_kernel.is_some_and(|min| self.kernel_at_least(min))
    }

    fn included_by(&self, when: &When) -> bool {
        (when.arches.is_empty() || when.arches.contains(&self.arch))
            && when.caps.iter().all(|cap| self.caps.contains(cap))
            && when.min_kernel.is_none_or(|min| self.kernel_at_least(min))
    }

    /// An unknown kernel counts as too old: the entries gated on a version only allow more.
    fn kernel_at_least(&self, min: (u32, u32)) -> bool {
        self.kernel.is_some_and(|kernel| kernel >= min)
    }
}

/// Docker's profile resolved for `host`: a plain OCI profile, as moby writes in config.json.
pub(super) fn resolve(host: &Host<'_>) -> LinuxSeccomp {
    let mut seccomp = LinuxSeccomp::default();
    seccomp.set_default_action(LinuxSeccompAction::ScmpActErrno);
    seccomp.set_default_errno_ret(Some(libc::EPERM as u32));
    let arches = arch_map(host.arch);
    if !arches.is_empty() {
        seccomp.set_architectures(Some(arches.to_vec()));
    }
    let syscalls = RULES
        .iter()
        .filter(|rule| host.applies(rule))
        .filter_map(to_oci)
        .collect();
    seccomp.set_syscalls(Some(syscalls));
    seccomp
}

/// The OCI form of an entry. None only if oci-spec's builder refused the argument condition
/// (it cannot: every field has a default); the entry is then left out, which for Docker's
/// conditional entries (all ALLOW) only denies more.
fn to_oci(rule: &Rule) -> Option<LinuxSyscall> {
    let mut syscall = LinuxSyscall::default();
    syscall.set_names(rule.names.iter().map(|name| (*name).to_owned()).collect());
    match rule.action {
        Action::Allow => {
            syscall.set_action(LinuxSeccompAction::ScmpActAllow);
        }
        Action::Errno(errno) => {
            syscall.set_action(LinuxSeccompAction::ScmpActErrno);
            syscall.set_errno_ret(Some(errno));
        }
    }
    if let Some(arg) = rule.arg {
        let oci = LinuxSeccompArgBuilder::default()
            .index(arg.index)
            .op(arg.op)
            .value(arg.value)
            .build()
            .ok()?;
        syscall.set_args(Some(vec![oci]));
    }
    Some(syscall)
}

/// The architectures a filter covers on a host (Docker's archMap): the native one and the
/// ABIs its kernel also runs. Hosts that Docker's map does not list get the native one only.
fn arch_map(arch: &str) -> &'static [Arch] {
    match arch {
        "amd64" => &[Arch::ScmpArchX86_64, Arch::ScmpArchX86, Arch::ScmpArchX32],
        "arm64" => &[Arch::ScmpArchAarch64, Arch::ScmpArchArm],
        "mips64" => &[
            Arch::ScmpArchMips64,
            Arch::ScmpArchMips,
            Arch::ScmpArchMips64n32,
        ],
        "mips64n32" => &[
            Arch::ScmpArchMips64n32,
            Arch::ScmpArchMips,
            Arch::ScmpArchMips64,
        ],
        "mipsel64" => &[
            Arch::ScmpArchMipsel64,
            Arch::ScmpArchMipsel,
            Arch::ScmpArchMipsel64n32,
        ],
        "mipsel64n32" => &[
            Arch::ScmpArchMipsel64n32,
            Arch::ScmpArchMipsel,
            Arch::ScmpArchMipsel64,
        ],
        "s390x" => &[Arch::ScmpArchS390x, Arch::ScmpArchS390],
        "riscv64" => &[Arch::ScmpArchRiscv64],
        "loong64" => &[Arch::ScmpArchLoongarch64],
        _ => &[],
    }
}

/// The host architecture under moby's names.
pub(super) const fn host_arch() -> &'static str {
    if cfg!(target_arch = "x86_64") {
        "amd64"
    } else if cfg!(target_arch = "x86") {
        "x86"
    } else if cfg!(target_arch = "aarch64") {
        "arm64"
    } else if cfg!(target_arch = "arm") {
        "arm"
    } else if cfg!(all(target_arch = "powerpc64", target_endian = "little")) {
        "ppc64le"
    } else if cfg!(target_arch = "powerpc64") {
        "ppc64"
    } else if cfg!(target_arch = "s390x") {
        "s390x"
    } else if cfg!(target_arch = "riscv64") {
        "riscv64"
    } else if cfg!(target_arch = "loongarch64") {
        "loong64"
    } else if cfg!(all(target_arch = "mips64", target_endian = "little")) {
        "mipsel64"
    } else if cfg!(target_arch = "mips64") {
        "mips64"
    } else {
        "unknown"
    }
}

/// The running kernel's (major, minor), from uname(2).
pub(super) fn host_kernel() -> Option<(u32, u32)> {
    let uname = rustix::system::uname();
    parse_kernel(uname.release().to_str().ok()?)
}

/// "6.18.44-fc-v595" -> (6, 18).
pub(super) fn parse_kernel(release: &str) -> Option<(u32, u32)> {
    let mut parts = release.split(|c: char| !c.is_ascii_digit());
    let major = parts.next()?.parse().ok()?;
    let minor = parts.next()?.parse().ok()?;
    Some((major, minor))
}
