//! Facts about this machine that Docker's checks and defaults depend on: how many CPUs the
//! daemon may use, which CPUs and memory nodes exist, the open-files hard limit, the last
//! capability the kernel knows, and the kernel's version. Read once; tests make their own.

use std::sync::OnceLock;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HostFacts {
    /// CPUs this process may run on (what Go's `runtime.NumCPU` counts).
    pub cpus: u32,
    /// Online CPUs in list form (`0-3`).
    pub online_cpus: String,
    /// Online memory nodes in list form (`0`).
    pub online_mems: String,
    /// Hard limit of RLIMIT_NOFILE here: defaults never go above it.
    pub nofile_hard: u64,
    /// The highest capability number the kernel knows (`/proc/sys/kernel/cap_last_cap`).
    pub last_cap: u32,
    /// `(major, minor)` of the running kernel.
    pub kernel: Option<(u32, u32)>,
}

impl HostFacts {
    /// This machine's facts, read on first use.
    pub fn get() -> &'static HostFacts {
        static FACTS: OnceLock<HostFacts> = OnceLock::new();
        FACTS.get_or_init(HostFacts::probe)
    }

    /// Reads the facts now; anything unreadable falls back to a value that refuses nothing
    /// Docker would accept on a common machine.
    pub fn probe() -> HostFacts {
        let cpus = schedulable_cpus();
        let online_cpus = read_trimmed("/sys/devices/system/cpu/online")
            .unwrap_or_else(|| format!("0-{}", cpus.saturating_sub(1)));
        let online_mems =
            read_trimmed("/sys/devices/system/node/online").unwrap_or_else(|| "0".to_owned());
        let nofile_hard = rustix::process::getrlimit(rustix::process::Resource::Nofile)
            .maximum
            .unwrap_or(u64::MAX);
        let last_cap = read_trimmed("/proc/sys/kernel/cap_last_cap")
            .and_then(|s| s.parse().ok())
            .unwrap_or(super::caps::HIGHEST_KNOWN_CAP);
        let kernel = parse_kernel_release(&rustix::system::uname().release().to_string_lossy());
        HostFacts {
            cpus,
            online_cpus,
            online_mems,
            nofile_hard,
            last_cap,
            kernel,
        }
    }
}

fn read_trimmed(path: &str) -> Option<String> {
    std::fs::read_to_string(path)
        .ok()
        .map(|s| s.trim().to_owned())
        .filter(|s| !s.is_empty())
}

fn schedulable_cpus() -> u32 {
    match nix::sched::sched_getaffinity(nix::unistd::Pid::from_raw(0)) {
        Ok(set) => {
            let count = (0..nix::sched::CpuSet::count())
                .filter(|&cpu| set.is_set(cpu).unwrap_or(false))
                .count();
            u32::try_from(count).unwrap_or(u32::MAX).max(1)
        }
        Err(_) => std::thread::available_parallelism()
            .map(|n| u32::try_from(n.get()).unwrap_or(u32::MAX))
            .unwrap_or(1),
    }
}

/// `6.1.0-18-amd64` -> `(6, 1)`.
pub(crate) fn parse_kernel_release(release: &str) -> Option<(u32, u32)> {
    let mut parts = release.split(|c: char| !c.is_ascii_digit());
    let major = parts.next()?.parse().ok()?;
    let minor = parts.next()?.parse().ok()?;
    Some((major, minor))
}

#[cfg(test)]
pub(crate) fn test_facts() -> HostFacts {
    HostFacts {
        cpus: 2,
        online_cpus: "0-1".into(),
        online_mems: "0".into(),
        nofile_hard: 20000,
        last_cap: 40,
        kernel: Some((6, 1)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kernel_releases() {
        assert_eq!(parse_kernel_release("6.18.44-fc-v595"), Some((6, 18)));
        assert_eq!(parse_kernel_release("5.10.0-28-amd64"), Some((5, 10)));
        assert_eq!(parse_kernel_release("garbage"), None);
    }

    #[test]
    fn probing_finds_this_machine() {
        let facts = HostFacts::probe();
        assert!(facts.cpus >= 1);
        assert!(facts.last_cap >= 36);
        assert!(facts.nofile_hard >= 1024);
    }
}
