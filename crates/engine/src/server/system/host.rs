//! Facts about the host that `version` and `info` report, read from the kernel and /etc.
//! Each is best effort: a fact that cannot be read is reported empty, never an error.

use std::io::Read;
use std::path::Path;

use crate::error::{EngineError, Result};

/// The kernel's `uname`: release (`6.1.0-18-amd64`), machine (`x86_64`), node name.
pub struct Uname {
    pub release: String,
    pub machine: String,
    pub nodename: String,
}

pub fn uname() -> Uname {
    let u = rustix::system::uname();
    Uname {
        release: u.release().to_string_lossy().into_owned(),
        machine: u.machine().to_string_lossy().into_owned(),
        nodename: u.nodename().to_string_lossy().into_owned(),
    }
}

/// Go's name for this architecture (what `docker version` shows as `OS/Arch`).
pub fn go_arch() -> &'static str {
    match std::env::consts::ARCH {
        "x86_64" => "amd64",
        "x86" => "386",
        "aarch64" => "arm64",
        "arm" => "arm",
        "powerpc64" => "ppc64le",
        "s390x" => "s390x",
        "riscv64" => "riscv64",
        other => other,
    }
}

/// `PRETTY_NAME` and `VERSION_ID` of os-release (`Debian GNU/Linux 12 (bookworm)`, `12`).
pub fn os_release() -> (String, String) {
    let text = std::fs::read_to_string("/etc/os-release")
        .or_else(|_| std::fs::read_to_string("/usr/lib/os-release"))
        .unwrap_or_default();
    parse_os_release(&text)
}

fn parse_os_release(text: &str) -> (String, String) {
    let mut pretty = String::new();
    let mut version = String::new();
    for line in text.lines() {
        let Some((key, value)) = line.split_once('=') else {
            continue;
        };
        let value = value.trim().trim_matches('"').trim_matches('\'').to_owned();
        match key.trim() {
            "PRETTY_NAME" => pretty = value,
            "VERSION_ID" => version = value,
            _ => {}
        }
    }
    if pretty.is_empty() {
        pretty = "Linux".to_owned();
    }
    (pretty, version)
}

/// Bytes of memory (`MemTotal` of /proc/meminfo).
pub fn mem_total() -> i64 {
    let text = std::fs::read_to_string("/proc/meminfo").unwrap_or_default();
    parse_mem_total(&text)
}

fn parse_mem_total(text: &str) -> i64 {
    text.lines()
        .find_map(|line| line.strip_prefix("MemTotal:"))
        .and_then(|rest| rest.split_whitespace().next())
        .and_then(|kib| kib.parse::<i64>().ok())
        .map_or(0, |kib| kib * 1024)
}

/// CPUs this process may run on (what Go's `runtime.NumCPU` counts).
pub fn ncpu() -> i64 {
    if let Ok(set) = nix::sched::sched_getaffinity(nix::unistd::Pid::from_raw(0)) {
        let count = (0..nix::sched::CpuSet::count())
            .filter(|&cpu| set.is_set(cpu).unwrap_or(false))
            .count();
        if count > 0 {
            return count as i64;
        }
    }
    std::thread::available_parallelism().map_or(1, |n| n.get() as i64)
}

/// Whether /sys/fs/cgroup is the unified (v2) hierarchy.
pub fn cgroup_v2() -> bool {
    const CGROUP2_SUPER_MAGIC: i64 = 0x6367_7270;
    rustix::fs::statfs("/sys/fs/cgroup").is_ok_and(|s| fs_type(&s) == CGROUP2_SUPER_MAGIC)
}

/// `f_type`, whose C type differs between architectures.
#[allow(clippy::unnecessary_cast)]
fn fs_type(stat: &rustix::fs::StatFs) -> i64 {
    stat.f_type as i64
}

/// The file system the data root is on, as Docker names it in `Backing Filesystem`.
pub fn backing_filesystem(path: &Path) -> String {
    let Ok(stat) = rustix::fs::statfs(path) else {
        return "<unknown>".to_owned();
    };
    match fs_type(&stat) {
        0xEF53 => "extfs",
        0x5846_5342 => "xfs",
        0x9123_683E => "btrfs",
        0x0102_1994 => "tmpfs",
        0x794C_7630 => "overlayfs",
        0x2FC1_2FC1 => "zfs",
        0x6969 => "nfs",
        0xF2F5_2010 => "f2fs",
        _ => "<unknown>",
    }
    .to_owned()
}

/// A `/proc/sys` switch that reads `1`.
pub fn sysctl_on(path: &str) -> bool {
    std::fs::read_to_string(path).is_ok_and(|v| v.trim() == "1")
}

/// Whether cgroup v1's memory controller limits swap (`memory.memsw.*`).
pub fn swap_limit(v2: bool) -> bool {
    v2 || Path::new("/sys/fs/cgroup/memory/memory.memsw.limit_in_bytes").exists()
}

/// Open file descriptors and threads of this process (`NFd`, `NGoroutines`).
pub fn fds_and_threads() -> (i64, i64) {
    let fds = std::fs::read_dir("/proc/self/fd").map_or(0, |d| d.count() as i64);
    let threads = std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find_map(|l| l.strip_prefix("Threads:"))
                .and_then(|n| n.trim().parse().ok())
        })
        .unwrap_or(0);
    (fds, threads)
}

/// The daemon's stable id (`ID` of `info`): a UUID kept in `<data-root>/engine-id`, made on
/// first use (written aside and renamed, so that a crash never leaves half of one).
pub fn engine_id(data_root: &Path) -> Result<String> {
    let path = data_root.join("engine-id");
    if let Ok(id) = std::fs::read_to_string(&path)
        && !id.trim().is_empty()
    {
        return Ok(id.trim().to_owned());
    }
    let mut bytes = [0u8; 16];
    std::fs::File::open("/dev/urandom")
        .and_then(|mut f| f.read_exact(&mut bytes))
        .map_err(|e| EngineError::io("reading", "/dev/urandom", e))?;
    let id = uuid_v4(bytes);
    let temp = data_root.join(format!(".engine-id.{}", std::process::id()));
    std::fs::write(&temp, &id).map_err(|e| EngineError::io("writing", &temp, e))?;
    // Two daemons racing on one root: whoever renames last wins, and both read it back.
    std::fs::rename(&temp, &path).map_err(|e| EngineError::io("renaming", &path, e))?;
    Ok(std::fs::read_to_string(&path)
        .map(|s| s.trim().to_owned())
        .unwrap_or(id))
}

fn uuid_v4(mut bytes: [u8; 16]) -> String {
    bytes[6] = (bytes[6] & 0x0f) | 0x40;
    bytes[8] = (bytes[8] & 0x3f) | 0x80;
    let hex: String = bytes.iter().map(|b| format!("{b:02x}")).collect();
    format!(
        "{}-{}-{}-{}-{}",
        &hex[0..8],
        &hex[8..12],
        &hex[12..16],
        &hex[16..20],
        &hex[20..32]
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn os_release_and_meminfo() {
        let (pretty, version) = parse_os_release(
            "NAME=\"Debian GNU/Linux\"\nVERSION_ID=\"12\"\nPRETTY_NAME=\"Debian GNU/Linux 12 (bookworm)\"\n",
        );
        assert_eq!(pretty, "Debian GNU/Linux 12 (bookworm)");
        assert_eq!(version, "12");
        assert_eq!(parse_os_release("").0, "Linux");
        assert_eq!(
            parse_mem_total("MemTotal:       16318480 kB\nMemFree: 1 kB\n"),
            16_318_480 * 1024
        );
        assert_eq!(parse_mem_total("garbage"), 0);
    }

    #[test]
    fn the_engine_id_is_a_uuid_that_stays() {
        let dir = tempfile::tempdir().unwrap();
        let id = engine_id(dir.path()).unwrap();
        assert_eq!(id.len(), 36);
        assert_eq!(&id[14..15], "4");
        assert_eq!(engine_id(dir.path()).unwrap(), id);
    }

    #[test]
    fn host_facts_are_plausible() {
        assert!(ncpu() >= 1);
        assert!(mem_total() > 0);
        assert!(!uname().release.is_empty());
        assert_eq!(go_arch() == "amd64", cfg!(target_arch = "x86_64"));
    }
}
