//! OCI `linux.resources` → the cgroup files to write, for v1 and for v2.
//!
//! The plans are pure: a list of [`Write`]s in the order the kernel needs them, each with
//! the controller it belongs to and what to do when the host lacks its file. Devices are
//! turned into [`DeviceRule`]s, written as files on v1 and compiled to eBPF on v2.

use oci_spec::runtime::{LinuxDeviceCgroup, LinuxDeviceType, LinuxResources, LinuxThrottleDevice};

use std::path::Path;

use super::{CgroupError, fs};

/// One write of a plan.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct Write {
    /// What the user asked for, in words, for messages ("memory limit").
    pub what: &'static str,
    /// The controller that owns the file (v1: which hierarchy; v2: what must be enabled).
    pub controller: String,
    /// (file, value): the first whose file exists is written.
    pub choices: Vec<(String, String)>,
    /// When no choice exists: an error if true, skipped if false.
    pub required: bool,
}

impl Write {
    fn new(what: &'static str, controller: &str, file: &str, value: impl ToString) -> Write {
        Write {
            what,
            controller: controller.to_string(),
            choices: vec![(file.to_string(), value.to_string())],
            required: true,
        }
    }

    /// Falls back to `file` (with its own value) when the earlier choices do not exist.
    fn or(mut self, file: &str, value: impl ToString) -> Write {
        self.choices.push((file.to_string(), value.to_string()));
        self
    }

    fn optional(mut self) -> Write {
        self.required = false;
        self
    }

    fn required_if(mut self, required: bool) -> Write {
        self.required = required;
        self
    }
}

/// Writes the first choice of `w` whose file exists in `dir`; false when none exists.
pub(super) fn write_first_existing(dir: &Path, w: &Write) -> Result<bool, CgroupError> {
    for (file, value) in &w.choices {
        let path = dir.join(file);
        if fs::exists(&path) {
            fs::write(&path, value)?;
            return Ok(true);
        }
    }
    Ok(false)
}

/// Current value of a file of the container's cgroup: (controller, file) → content.
pub(super) type Current<'a> = &'a dyn Fn(&str, &str) -> Option<String>;

fn invalid(resource: &str, reason: impl Into<String>) -> CgroupError {
    CgroupError::InvalidResource {
        resource: resource.to_string(),
        reason: reason.into(),
    }
}

/// v2 `cpu.weight` from v1-style `cpu.shares` (range 2..262144 → 1..10000).
pub(super) fn shares_to_weight(shares: u64) -> u64 {
    let shares = shares.clamp(2, 262_144);
    1 + ((shares - 2) * 9999) / 262_142
}

/// v2 `io.weight` from v1-style blkio weight (range 10..1000 → 1..10000).
pub(super) fn blkio_to_io_weight(weight: u16) -> u64 {
    let weight = u64::from(weight).clamp(10, 1000);
    1 + ((weight - 10) * 9999) / 990
}

/// v2 `cpu.max` from quota and period; None when neither is set.
pub(super) fn cpu_max(quota: Option<i64>, period: Option<u64>) -> Option<String> {
    let quota = quota.filter(|q| *q != 0);
    let period = period.filter(|p| *p != 0);
    if quota.is_none() && period.is_none() {
        return None;
    }
    let quota = match quota {
        Some(q) if q > 0 => q.to_string(),
        _ => "max".to_string(),
    };
    Some(match period {
        Some(p) => format!("{quota} {p}"),
        None => quota,
    })
}

/// v2 `memory.swap.max` (swap alone) from OCI's memory+swap total; None when unset.
pub(super) fn swap_v2(
    limit: Option<i64>,
    swap: Option<i64>,
) -> Result<Option<String>, CgroupError> {
    let limit = limit.unwrap_or(0);
    let swap = swap.unwrap_or(0);
    // Unlimited memory without a swap value means both unlimited, as on v1.
    if limit == -1 && swap == 0 {
        return Ok(Some("max".into()));
    }
    match swap {
        0 => return Ok(None),
        -1 => return Ok(Some("max".into())),
        _ => {}
    }
    if limit == 0 || limit == -1 {
        return Err(invalid(
            "memory swap",
            "a swap limit needs a memory limit on cgroup v2",
        ));
    }
    if limit < 0 {
        return Err(invalid("memory limit", format!("{limit} is negative")));
    }
    if swap < limit {
        return Err(invalid(
            "memory swap",
            format!("memory+swap ({swap}) must not be below the memory limit ({limit})"),
        ));
    }
    Ok(Some((swap - limit).to_string()))
}

/// `pids.max` from OCI's limit: 0 or below means no limit.
pub(super) fn pids_max(limit: i64) -> String {
    if limit <= 0 {
        "max".into()
    } else {
        limit.to_string()
    }
}

fn max_or(value: i64) -> String {
    if value == -1 {
        "max".into()
    } else {
        value.to_string()
    }
}

/// Device type of a rule: all, char or block.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum DevType {
    All,
    Char,
    Block,
}

/// Access bits, as in the kernel's BPF device context.
pub(super) const ACC_MKNOD: u8 = 1;
pub(super) const ACC_READ: u8 = 2;
pub(super) const ACC_WRITE: u8 = 4;
pub(super) const ACC_ALL: u8 = ACC_MKNOD | ACC_READ | ACC_WRITE;

/// One normalized device rule.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) struct DeviceRule {
    pub allow: bool,
    pub typ: DevType,
    /// None: any.
    pub major: Option<u32>,
    pub minor: Option<u32>,
    pub access: u8,
}

impl DeviceRule {
    const fn chr(major: u32, minor: Option<u32>, access: u8) -> DeviceRule {
        DeviceRule {
            allow: true,
            typ: DevType::Char,
            major: Some(major),
            minor,
            access,
        }
    }

    /// The v1 form: "c 1:3 rwm", "a *:* rwm".
    pub(super) fn v1_string(&self) -> String {
        let typ = match self.typ {
            DevType::All => 'a',
            DevType::Char => 'c',
            DevType::Block => 'b',
        };
        let num = |n: Option<u32>| n.map_or_else(|| "*".to_string(), |n| n.to_string());
        let mut access = String::new();
        for (bit, c) in [(ACC_READ, 'r'), (ACC_WRITE, 'w'), (ACC_MKNOD, 'm')] {
            if self.access & bit != 0 {
                access.push(c);
            }
        }
        format!("{typ} {}:{} {access}", num(self.major), num(self.minor))
    }
}

/// What every container may use whatever its rules say (appended after them, as runc does;
/// the OCI spec requires these devices to be usable): mknod of any device, and /dev/null,
/// zero, full, random, urandom, tty, ptmx and the pty slaves.
pub(super) const DEFAULT_DEVICE_RULES: [DeviceRule; 10] = [
    DeviceRule {
        allow: true,
        typ: DevType::Char,
        major: None,
        minor: None,
        access: ACC_MKNOD,
    },
    DeviceRule {
        allow: true,
        typ: DevType::Block,
        major: None,
        minor: None,
        access: ACC_MKNOD,
    },
    DeviceRule::chr(1, Some(3), ACC_ALL),
    DeviceRule::chr(1, Some(5), ACC_ALL),
    DeviceRule::chr(1, Some(7), ACC_ALL),
    DeviceRule::chr(1, Some(8), ACC_ALL),
    DeviceRule::chr(1, Some(9), ACC_ALL),
    DeviceRule::chr(5, Some(0), ACC_ALL),
    DeviceRule::chr(5, Some(2), ACC_ALL),
    DeviceRule::chr(136, None, ACC_ALL),
];

fn parse_access(access: Option<&str>) -> Result<u8, CgroupError> {
    let access = access.unwrap_or("");
    if access.is_empty() {
        return Ok(ACC_ALL);
    }
    let mut bits = 0;
    for c in access.chars() {
        bits |= match c {
            'r' => ACC_READ,
            'w' => ACC_WRITE,
            'm' => ACC_MKNOD,
            _ => {
                return Err(invalid(
                    "device rule",
                    format!("access {access:?} may hold only r, w and m"),
                ));
            }
        };
    }
    Ok(bits)
}

fn device_number(n: Option<i64>, which: &str) -> Result<Option<u32>, CgroupError> {
    match n {
        None => Ok(None),
        Some(n) if n < 0 => Ok(None), // -1 is a wildcard in some specs
        Some(n) => u32::try_from(n)
            .map(Some)
            .map_err(|_| invalid("device rule", format!("{which} number {n} is too large"))),
    }
}

/// The user's rules, in order, followed by [`DEFAULT_DEVICE_RULES`]. Everything else is
/// denied: the cgroup starts from "deny all", as with runc.
pub(super) fn device_rules(
    user: Option<&[LinuxDeviceCgroup]>,
) -> Result<Vec<DeviceRule>, CgroupError> {
    let mut rules = Vec::new();
    for rule in user.unwrap_or(&[]) {
        let typ = match rule.typ().unwrap_or(LinuxDeviceType::A) {
            LinuxDeviceType::A => DevType::All,
            LinuxDeviceType::C | LinuxDeviceType::U => DevType::Char,
            LinuxDeviceType::B => DevType::Block,
            LinuxDeviceType::P => {
                return Err(invalid(
                    "device rule",
                    "type \"p\" (fifo) has no cgroup device rule; use a, b or c",
                ));
            }
        };
        rules.push(DeviceRule {
            allow: rule.allow(),
            typ,
            major: device_number(rule.major(), "major")?,
            minor: device_number(rule.minor(), "minor")?,
            access: parse_access(rule.access().as_deref())?,
        });
    }
    rules.extend(DEFAULT_DEVICE_RULES);
    Ok(rules)
}

/// Whether the user gave device rules (then a host without the devices controller is an error).
fn user_gave_devices(res: &LinuxResources) -> bool {
    res.devices().as_ref().is_some_and(|d| !d.is_empty())
}

fn throttle_lines(devices: &Option<Vec<LinuxThrottleDevice>>) -> Vec<(String, u64)> {
    devices
        .iter()
        .flatten()
        .map(|d| (format!("{}:{}", d.major(), d.minor()), d.rate()))
        .collect()
}

/// "2MB", "1GB": becomes part of a file name, so only letters and digits.
fn page_size(size: &str) -> Result<&str, CgroupError> {
    if !size.is_empty() && size.chars().all(|c| c.is_ascii_alphanumeric()) {
        Ok(size)
    } else {
        Err(invalid(
            "hugepage limit",
            format!("page size {size:?} is not like \"2MB\""),
        ))
    }
}

fn rdma_writes(res: &LinuxResources, out: &mut Vec<Write>) -> Result<(), CgroupError> {
    let Some(rdma) = res.rdma() else {
        return Ok(());
    };
    let mut devices: Vec<_> = rdma.iter().collect();
    devices.sort_by(|a, b| a.0.cmp(b.0));
    for (device, limits) in devices {
        if device.is_empty() || device.contains(char::is_whitespace) {
            return Err(invalid("rdma limit", format!("device name {device:?}")));
        }
        let mut line = device.clone();
        if let Some(h) = limits.hca_handles() {
            line.push_str(&format!(" hca_handle={h}"));
        }
        if let Some(o) = limits.hca_objects() {
            line.push_str(&format!(" hca_object={o}"));
        }
        if line != *device {
            out.push(Write::new("rdma limit", "rdma", "rdma.max", line));
        }
    }
    Ok(())
}

/// The cgroup v1 writes for `res`, in order. `current` reads the container's present
/// values (to order the memory and memory+swap limits so that the kernel accepts both).
pub(super) fn plan_v1(
    res: &LinuxResources,
    current: Current<'_>,
) -> Result<Vec<Write>, CgroupError> {
    if res.unified().as_ref().is_some_and(|u| !u.is_empty()) {
        return Err(invalid(
            "unified resources",
            "they are cgroup v2 files and this host runs cgroup v1",
        ));
    }
    let mut out = Vec::new();

    if let Some(cpu) = res.cpu() {
        if let Some(cpus) = cpu.cpus().as_deref().filter(|s| !s.is_empty()) {
            out.push(Write::new("cpuset cpus", "cpuset", "cpuset.cpus", cpus));
        }
        if let Some(mems) = cpu.mems().as_deref().filter(|s| !s.is_empty()) {
            out.push(Write::new("cpuset mems", "cpuset", "cpuset.mems", mems));
        }
    }

    let devices_required = user_gave_devices(res);
    out.push(
        Write::new("device rules", "devices", "devices.deny", "a").required_if(devices_required),
    );
    for rule in device_rules(res.devices().as_deref())? {
        let file = if rule.allow {
            "devices.allow"
        } else {
            "devices.deny"
        };
        out.push(
            Write::new("device rules", "devices", file, rule.v1_string())
                .required_if(devices_required),
        );
    }

    if let Some(mem) = res.memory() {
        let limit = mem.limit().filter(|l| *l != 0);
        let mut swap = mem.swap().filter(|s| *s != 0);
        if limit == Some(-1) && swap.is_none() {
            swap = Some(-1);
        }
        let limit_w =
            limit.map(|l| Write::new("memory limit", "memory", "memory.limit_in_bytes", l));
        let swap_w = swap.map(|s| {
            // Swap accounting may be off: then there is no memsw file and nothing to limit.
            Write::new(
                "memory+swap limit",
                "memory",
                "memory.memsw.limit_in_bytes",
                s,
            )
            .optional()
        });
        // Raising: memsw first (it must stay >= the limit); lowering: the limit first.
        let swap_first = match (limit, swap) {
            (Some(_), Some(-1)) => true,
            (Some(_), Some(s)) => current("memory", "memory.limit_in_bytes")
                .and_then(|c| c.trim().parse::<u64>().ok())
                .is_some_and(|cur| i128::from(cur) < i128::from(s)),
            _ => false,
        };
        if swap_first {
            out.extend(swap_w);
            out.extend(limit_w);
        } else {
            out.extend(limit_w);
            out.extend(swap_w);
        }
        if let Some(r) = mem.reservation().filter(|r| *r != 0) {
            out.push(Write::new(
                "memory reservation",
                "memory",
                "memory.soft_limit_in_bytes",
                r,
            ));
        }
        if let Some(s) = mem.swappiness() {
            out.push(Write::new(
                "memory swappiness",
                "memory",
                "memory.swappiness",
                s,
            ));
        }
        if mem.disable_oom_killer() == Some(true) {
            out.push(Write::new(
                "disabling the OOM killer",
                "memory",
                "memory.oom_control",
                1,
            ));
        }
    }

    if let Some(cpu) = res.cpu() {
        if let Some(s) = cpu.shares().filter(|s| *s != 0) {
            out.push(Write::new("cpu shares", "cpu", "cpu.shares", s));
        }
        if let Some(p) = cpu.period().filter(|p| *p != 0) {
            out.push(Write::new("cpu period", "cpu", "cpu.cfs_period_us", p));
        }
        if let Some(q) = cpu.quota().filter(|q| *q != 0) {
            out.push(Write::new("cpu quota", "cpu", "cpu.cfs_quota_us", q));
        }
        if let Some(b) = cpu.burst() {
            out.push(Write::new("cpu burst", "cpu", "cpu.cfs_burst_us", b));
        }
        if let Some(p) = cpu.realtime_period().filter(|p| *p != 0) {
            out.push(Write::new("realtime period", "cpu", "cpu.rt_period_us", p));
        }
        if let Some(r) = cpu.realtime_runtime().filter(|r| *r != 0) {
            out.push(Write::new(
                "realtime runtime",
                "cpu",
                "cpu.rt_runtime_us",
                r,
            ));
        }
        if let Some(i) = cpu.idle() {
            out.push(Write::new("cpu idle", "cpu", "cpu.idle", i));
        }
    }

    if let Some(pids) = res.pids() {
        out.push(Write::new(
            "pids limit",
            "pids",
            "pids.max",
            pids_max(pids.limit()),
        ));
    }

    if let Some(bio) = res.block_io() {
        if let Some(w) = bio.weight() {
            out.push(
                Write::new("blkio weight", "blkio", "blkio.weight", w).or("blkio.bfq.weight", w),
            );
        }
        if let Some(w) = bio.leaf_weight() {
            out.push(Write::new(
                "blkio leaf weight",
                "blkio",
                "blkio.leaf_weight",
                w,
            ));
        }
        for dev in bio.weight_device().iter().flatten() {
            let id = format!("{}:{}", dev.major(), dev.minor());
            if let Some(w) = dev.weight() {
                out.push(
                    Write::new(
                        "blkio weight device",
                        "blkio",
                        "blkio.weight_device",
                        format!("{id} {w}"),
                    )
                    .or("blkio.bfq.weight_device", format!("{id} {w}")),
                );
            }
            if let Some(w) = dev.leaf_weight() {
                out.push(Write::new(
                    "blkio leaf weight device",
                    "blkio",
                    "blkio.leaf_weight_device",
                    format!("{id} {w}"),
                ));
            }
        }
        for (list, file, what) in [
            (
                bio.throttle_read_bps_device(),
                "blkio.throttle.read_bps_device",
                "blkio read bps",
            ),
            (
                bio.throttle_write_bps_device(),
                "blkio.throttle.write_bps_device",
                "blkio write bps",
            ),
            (
                bio.throttle_read_iops_device(),
                "blkio.throttle.read_iops_device",
                "blkio read iops",
            ),
            (
                bio.throttle_write_iops_device(),
                "blkio.throttle.write_iops_device",
                "blkio write iops",
            ),
        ] {
            for (id, rate) in throttle_lines(list) {
                out.push(Write::new(what, "blkio", file, format!("{id} {rate}")));
            }
        }
    }

    for limit in res.hugepage_limits().iter().flatten() {
        let size = page_size(limit.page_size())?;
        out.push(Write::new(
            "hugepage limit",
            "hugetlb",
            &format!("hugetlb.{size}.limit_in_bytes"),
            limit.limit(),
        ));
    }

    if let Some(net) = res.network() {
        if let Some(id) = net.class_id() {
            out.push(Write::new(
                "network class id",
                "net_cls",
                "net_cls.classid",
                id,
            ));
        }
        for prio in net.priorities().iter().flatten() {
            if prio.name().is_empty() || prio.name().contains(char::is_whitespace) {
                return Err(invalid(
                    "network priority",
                    format!("interface name {:?}", prio.name()),
                ));
            }
            out.push(Write::new(
                "network priority",
                "net_prio",
                "net_prio.ifpriomap",
                format!("{} {}", prio.name(), prio.priority()),
            ));
        }
    }

    rdma_writes(res, &mut out)?;
    Ok(out)
}

/// The cgroup v2 writes for `res`, in order (all in the container's directory). Device
/// rules are not among them: v2 takes them as an eBPF program.
pub(super) fn plan_v2(res: &LinuxResources) -> Result<Vec<Write>, CgroupError> {
    let mut out = Vec::new();

    if let Some(cpu) = res.cpu() {
        if let Some(cpus) = cpu.cpus().as_deref().filter(|s| !s.is_empty()) {
            out.push(Write::new("cpuset cpus", "cpuset", "cpuset.cpus", cpus));
        }
        if let Some(mems) = cpu.mems().as_deref().filter(|s| !s.is_empty()) {
            out.push(Write::new("cpuset mems", "cpuset", "cpuset.mems", mems));
        }
    }

    if let Some(mem) = res.memory() {
        // memory.swap.max is missing when swap accounting is off: nothing to limit then.
        if let Some(swap) = swap_v2(mem.limit(), mem.swap())? {
            out.push(Write::new("memory swap limit", "memory", "memory.swap.max", swap).optional());
        }
        if let Some(limit) = mem.limit().filter(|l| *l != 0) {
            out.push(Write::new(
                "memory limit",
                "memory",
                "memory.max",
                max_or(limit),
            ));
        }
        if let Some(r) = mem.reservation().filter(|r| *r != 0) {
            out.push(Write::new(
                "memory reservation",
                "memory",
                "memory.low",
                max_or(r),
            ));
        }
        // swappiness and disableOOMKiller have no v2 files; runc ignores them there too.
    }

    if let Some(cpu) = res.cpu() {
        if let Some(s) = cpu.shares().filter(|s| *s != 0) {
            out.push(Write::new(
                "cpu shares",
                "cpu",
                "cpu.weight",
                shares_to_weight(s),
            ));
        }
        if let Some(max) = cpu_max(cpu.quota(), cpu.period()) {
            out.push(Write::new("cpu quota", "cpu", "cpu.max", max));
        }
        if let Some(b) = cpu.burst() {
            out.push(Write::new("cpu burst", "cpu", "cpu.max.burst", b));
        }
        if let Some(i) = cpu.idle() {
            out.push(Write::new("cpu idle", "cpu", "cpu.idle", i));
        }
        if cpu.realtime_period().is_some_and(|p| p != 0)
            || cpu.realtime_runtime().is_some_and(|r| r != 0)
        {
            return Err(invalid(
                "realtime cpu limits",
                "cgroup v2 has no realtime scheduling controller",
            ));
        }
    }

    if let Some(pids) = res.pids() {
        out.push(Write::new(
            "pids limit",
            "pids",
            "pids.max",
            pids_max(pids.limit()),
        ));
    }

    if let Some(bio) = res.block_io() {
        if let Some(w) = bio.weight() {
            out.push(
                Write::new("blkio weight", "io", "io.bfq.weight", w)
                    .or("io.weight", format!("default {}", blkio_to_io_weight(w))),
            );
        }
        if bio.leaf_weight().is_some()
            || bio
                .weight_device()
                .iter()
                .flatten()
                .any(|d| d.leaf_weight().is_some())
        {
            return Err(invalid(
                "blkio leaf weight",
                "cgroup v2 has no leaf weights",
            ));
        }
        for dev in bio.weight_device().iter().flatten() {
            let id = format!("{}:{}", dev.major(), dev.minor());
            if let Some(w) = dev.weight() {
                out.push(
                    Write::new(
                        "blkio weight device",
                        "io",
                        "io.bfq.weight",
                        format!("{id} {w}"),
                    )
                    .or("io.weight", format!("{id} {}", blkio_to_io_weight(w))),
                );
            }
        }
        for (list, key, what) in [
            (bio.throttle_read_bps_device(), "rbps", "blkio read bps"),
            (bio.throttle_write_bps_device(), "wbps", "blkio write bps"),
            (bio.throttle_read_iops_device(), "riops", "blkio read iops"),
            (
                bio.throttle_write_iops_device(),
                "wiops",
                "blkio write iops",
            ),
        ] {
            for (id, rate) in throttle_lines(list) {
                out.push(Write::new(
                    what,
                    "io",
                    "io.max",
                    format!("{id} {key}={rate}"),
                ));
            }
        }
    }

    for limit in res.hugepage_limits().iter().flatten() {
        let size = page_size(limit.page_size())?;
        out.push(Write::new(
            "hugepage limit",
            "hugetlb",
            &format!("hugetlb.{size}.max"),
            max_or(limit.limit()),
        ));
    }

    let network_asked = res.network().as_ref().is_some_and(|net| {
        net.class_id().is_some() || net.priorities().as_ref().is_some_and(|p| !p.is_empty())
    });
    if network_asked {
        return Err(invalid(
            "network class id and priorities",
            "cgroup v2 has no net_cls or net_prio controller",
        ));
    }

    rdma_writes(res, &mut out)?;

    if let Some(unified) = res.unified() {
        let mut keys: Vec<_> = unified.iter().collect();
        keys.sort_by(|a, b| a.0.cmp(b.0));
        for (key, value) in keys {
            let Some((controller, _)) = key.split_once('.') else {
                return Err(invalid(
                    "unified resource",
                    format!("{key:?} is not a cgroup file"),
                ));
            };
            if key.contains('/') || controller.is_empty() {
                return Err(invalid(
                    "unified resource",
                    format!("{key:?} is not a cgroup file"),
                ));
            }
            out.push(Write::new("unified resource", controller, key, value));
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn res(json: &str) -> LinuxResources {
        serde_json::from_str(json).unwrap()
    }

    fn none(_: &str, _: &str) -> Option<String> {
        None
    }

    /// (file, value) of the first choice of each write.
    fn flat(plan: &[Write]) -> Vec<(String, String)> {
        plan.iter().map(|w| w.choices[0].clone()).collect()
    }

    fn has(plan: &[Write], file: &str, value: &str) -> bool {
        flat(plan).contains(&(file.to_string(), value.to_string()))
    }

    #[test]
    fn conversions_match_runc() {
        assert_eq!(shares_to_weight(2), 1);
        assert_eq!(shares_to_weight(1024), 39);
        assert_eq!(shares_to_weight(262_144), 10_000);
        assert_eq!(shares_to_weight(0), 1); // clamped, no underflow
        assert_eq!(shares_to_weight(u64::MAX), 10_000);
        assert_eq!(blkio_to_io_weight(10), 1);
        assert_eq!(blkio_to_io_weight(500), 4950);
        assert_eq!(blkio_to_io_weight(1000), 10_000);
        assert_eq!(
            cpu_max(Some(50_000), Some(100_000)).as_deref(),
            Some("50000 100000")
        );
        assert_eq!(
            cpu_max(Some(-1), Some(100_000)).as_deref(),
            Some("max 100000")
        );
        assert_eq!(cpu_max(None, Some(20_000)).as_deref(), Some("max 20000"));
        assert_eq!(cpu_max(Some(30_000), None).as_deref(), Some("30000"));
        assert_eq!(cpu_max(None, None), None);
        assert_eq!(cpu_max(Some(0), Some(0)), None);
        assert_eq!(pids_max(0), "max");
        assert_eq!(pids_max(-1), "max");
        assert_eq!(pids_max(20), "20");
    }

    #[test]
    fn swap_v2_is_swap_minus_limit() {
        assert_eq!(swap_v2(Some(32), Some(64)).unwrap().as_deref(), Some("32"));
        assert_eq!(swap_v2(Some(32), Some(32)).unwrap().as_deref(), Some("0"));
        assert_eq!(swap_v2(Some(32), Some(-1)).unwrap().as_deref(), Some("max"));
        assert_eq!(swap_v2(Some(-1), None).unwrap().as_deref(), Some("max"));
        assert_eq!(swap_v2(Some(32), None).unwrap(), None);
        assert_eq!(swap_v2(None, None).unwrap(), None);
        assert!(swap_v2(None, Some(64)).is_err());
        assert!(swap_v2(Some(-1), Some(64)).is_err());
        assert!(swap_v2(Some(64), Some(32)).is_err());
    }

    #[test]
    fn v1_memory_order_depends_on_current_limit() {
        let r = res(
            r#"{"memory":{"limit":33554432,"swap":67108864,"reservation":16777216,"swappiness":10,"disableOOMKiller":true}}"#,
        );
        // Fresh cgroup: limit is "unlimited" (huge) → limit first.
        let fresh = |_: &str, f: &str| {
            (f == "memory.limit_in_bytes").then(|| "9223372036854771712\n".to_string())
        };
        let plan = plan_v1(&r, &fresh).unwrap();
        let mem: Vec<_> = flat(&plan)
            .into_iter()
            .filter(|(f, _)| f.starts_with("memory."))
            .collect();
        assert_eq!(
            mem,
            [
                ("memory.limit_in_bytes", "33554432"),
                ("memory.memsw.limit_in_bytes", "67108864"),
                ("memory.soft_limit_in_bytes", "16777216"),
                ("memory.swappiness", "10"),
                ("memory.oom_control", "1"),
            ]
            .map(|(a, b)| (a.to_string(), b.to_string()))
        );
        assert!(
            !plan
                .iter()
                .find(|w| w.choices[0].0 == "memory.memsw.limit_in_bytes")
                .unwrap()
                .required
        );
        // Raising from a lower current limit → memsw first.
        let low = |_: &str, f: &str| (f == "memory.limit_in_bytes").then(|| "1048576".to_string());
        let plan = plan_v1(&r, &low).unwrap();
        let files: Vec<_> = flat(&plan)
            .into_iter()
            .map(|(f, _)| f)
            .filter(|f| f.contains("limit_in") && !f.contains("soft"))
            .collect();
        assert_eq!(
            files,
            ["memory.memsw.limit_in_bytes", "memory.limit_in_bytes"]
        );
        // Unlimited memory means unlimited memsw too.
        let plan = plan_v1(&res(r#"{"memory":{"limit":-1}}"#), &none).unwrap();
        assert!(has(&plan, "memory.memsw.limit_in_bytes", "-1"));
        assert!(has(&plan, "memory.limit_in_bytes", "-1"));
    }

    #[test]
    fn v1_cpu_pids_blkio() {
        let r = res(
            r#"{"cpu":{"shares":512,"quota":50000,"period":100000,"cpus":"0","mems":"0"},
            "pids":{"limit":0},
            "blockIO":{"weight":500,"weightDevice":[{"major":8,"minor":0,"weight":300}],
              "throttleReadBpsDevice":[{"major":8,"minor":0,"rate":1048576}],
              "throttleWriteIOPSDevice":[{"major":8,"minor":16,"rate":100}]}}"#,
        );
        let plan = plan_v1(&r, &none).unwrap();
        let f = flat(&plan);
        // cpuset first, then period before quota
        assert_eq!(f[0], ("cpuset.cpus".into(), "0".into()));
        assert_eq!(f[1], ("cpuset.mems".into(), "0".into()));
        let pos = |file: &str| f.iter().position(|(x, _)| x == file).unwrap();
        assert!(pos("cpu.cfs_period_us") < pos("cpu.cfs_quota_us"));
        assert!(has(&plan, "cpu.shares", "512"));
        assert!(has(&plan, "pids.max", "max"));
        let weight = plan
            .iter()
            .find(|w| w.choices[0].0 == "blkio.weight")
            .unwrap();
        assert_eq!(weight.choices[1], ("blkio.bfq.weight".into(), "500".into()));
        assert!(has(&plan, "blkio.weight_device", "8:0 300"));
        assert!(has(&plan, "blkio.throttle.read_bps_device", "8:0 1048576"));
        assert!(has(&plan, "blkio.throttle.write_iops_device", "8:16 100"));
    }

    #[test]
    fn v1_devices_deny_all_then_rules_then_defaults() {
        let r = res(
            r#"{"devices":[{"allow":false,"access":"rwm"},{"allow":true,"type":"b","major":8,"access":"r"},{"allow":false,"type":"c","major":1,"minor":3,"access":"w"}]}"#,
        );
        let plan = plan_v1(&r, &none).unwrap();
        let devs: Vec<_> = flat(&plan)
            .into_iter()
            .filter(|(f, _)| f.starts_with("devices."))
            .collect();
        let expect_head = [
            ("devices.deny", "a"),
            ("devices.deny", "a *:* rwm"),
            ("devices.allow", "b 8:* r"),
            ("devices.deny", "c 1:3 w"),
            ("devices.allow", "c *:* m"),
            ("devices.allow", "b *:* m"),
            ("devices.allow", "c 1:3 rwm"),
        ];
        for (i, (f, v)) in expect_head.iter().enumerate() {
            assert_eq!(devs[i], (f.to_string(), v.to_string()));
        }
        assert_eq!(devs.len(), 4 + DEFAULT_DEVICE_RULES.len());
        assert_eq!(devs.last().unwrap().1, "c 136:* rwm");
        assert!(
            plan.iter()
                .filter(|w| w.controller == "devices")
                .all(|w| w.required)
        );
        // No user rules: the defaults still apply, but a host without the controller is fine.
        let plan = plan_v1(&LinuxResources::default(), &none).unwrap();
        assert!(
            plan.iter()
                .filter(|w| w.controller == "devices")
                .all(|w| !w.required)
        );
        assert!(has(&plan, "devices.deny", "a"));
    }

    #[test]
    fn device_rule_validation() {
        let bad = [
            r#"{"devices":[{"allow":true,"type":"p"}]}"#,
            r#"{"devices":[{"allow":true,"access":"rx"}]}"#,
            r#"{"devices":[{"allow":true,"major":99999999999}]}"#,
        ];
        for b in bad {
            assert!(
                matches!(
                    plan_v1(&res(b), &none),
                    Err(CgroupError::InvalidResource { .. })
                ),
                "{b}"
            );
        }
        let r = res(r#"{"devices":[{"allow":true,"type":"u","major":-1,"minor":-1}]}"#);
        let rules = device_rules(r.devices().as_deref()).unwrap();
        assert_eq!(rules[0].v1_string(), "c *:* rwm");
    }

    #[test]
    fn v1_refuses_unified_and_validates_names() {
        assert!(plan_v1(&res(r#"{"unified":{"memory.high":"1"}}"#), &none).is_err());
        assert!(
            plan_v1(
                &res(r#"{"hugepageLimits":[{"pageSize":"../x","limit":1}]}"#),
                &none
            )
            .is_err()
        );
        let plan = plan_v1(&res(r#"{"hugepageLimits":[{"pageSize":"2MB","limit":4194304}],"network":{"classID":1048577,"priorities":[{"name":"eth0","priority":5}]}}"#), &none).unwrap();
        assert!(has(&plan, "hugetlb.2MB.limit_in_bytes", "4194304"));
        assert!(has(&plan, "net_cls.classid", "1048577"));
        assert!(has(&plan, "net_prio.ifpriomap", "eth0 5"));
    }

    #[test]
    fn v2_plan() {
        let r = res(
            r#"{"memory":{"limit":33554432,"swap":67108864,"reservation":16777216,"swappiness":10,"disableOOMKiller":true},
            "cpu":{"shares":1024,"quota":-1,"period":50000,"cpus":"0-1"},
            "pids":{"limit":20},
            "blockIO":{"weight":500,"weightDevice":[{"major":8,"minor":0,"weight":10}],"throttleWriteBpsDevice":[{"major":8,"minor":0,"rate":2048}]},
            "hugepageLimits":[{"pageSize":"2MB","limit":-1}],
            "unified":{"memory.high":"50000000"},
            "devices":[{"allow":false,"access":"rwm"}]}"#,
        );
        let plan = plan_v2(&r).unwrap();
        assert!(has(&plan, "memory.swap.max", "33554432"));
        assert!(has(&plan, "memory.max", "33554432"));
        assert!(has(&plan, "memory.low", "16777216"));
        assert!(has(&plan, "cpu.weight", "39"));
        assert!(has(&plan, "cpu.max", "max 50000"));
        assert!(has(&plan, "cpuset.cpus", "0-1"));
        assert!(has(&plan, "pids.max", "20"));
        assert!(has(&plan, "io.max", "8:0 wbps=2048"));
        assert!(has(&plan, "hugetlb.2MB.max", "max"));
        assert!(has(&plan, "memory.high", "50000000"));
        let weight = plan.iter().find(|w| w.what == "blkio weight").unwrap();
        assert_eq!(
            weight.choices,
            vec![
                ("io.bfq.weight".to_string(), "500".to_string()),
                ("io.weight".to_string(), "default 4950".to_string())
            ]
        );
        let wd = plan
            .iter()
            .find(|w| w.what == "blkio weight device")
            .unwrap();
        assert_eq!(
            wd.choices[1],
            ("io.weight".to_string(), "8:0 1".to_string())
        );
        assert!(!flat(&plan).iter().any(|(f, _)| f.starts_with("devices")
            || f.contains("swappiness")
            || f.contains("oom")));
        assert_eq!(
            plan.iter()
                .find(|w| w.choices[0].0 == "memory.high")
                .unwrap()
                .controller,
            "memory"
        );
    }

    #[test]
    fn v2_refuses_what_it_cannot_express() {
        for bad in [
            r#"{"cpu":{"realtimeRuntime":1000}}"#,
            r#"{"blockIO":{"leafWeight":100}}"#,
            r#"{"network":{"classID":1}}"#,
            r#"{"unified":{"../memory.max":"1"}}"#,
            r#"{"unified":{"nodot":"1"}}"#,
            r#"{"memory":{"swap":1000}}"#,
        ] {
            assert!(
                matches!(plan_v2(&res(bad)), Err(CgroupError::InvalidResource { .. })),
                "{bad}"
            );
        }
    }

    #[test]
    fn rdma_lines() {
        let plan = plan_v2(&res(
            r#"{"rdma":{"mlx4_0":{"hcaHandles":2,"hcaObjects":2000},"mlx5_1":{}}}"#,
        ))
        .unwrap();
        assert_eq!(
            flat(&plan),
            vec![(
                "rdma.max".to_string(),
                "mlx4_0 hca_handle=2 hca_object=2000".to_string()
            )]
        );
    }
}
