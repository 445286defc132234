//! OCI `linux.resources` → the cgroup files to write, for v1 and for v2.
//!
//! The plans are pure: a list of [`Write`]s in the order the kernel needs them, each with
//! the controller it belongs to and what to do when the host lacks its file. Devices are
//! turned into [`DeviceRule`]s, written as files on v1 and compiled to eBPF on v2.

use oci_spec::runtime::{LinuxResources, LinuxThrottleDevice};

use std::path::Path;

use super::{CgroupError, fs};

mod devices;
#[cfg(test)]
mod tests;
mod v1;
mod v2;

pub(super) use devices::{ACC_ALL, DevType, DeviceRule, device_rules};
#[cfg(test)]
pub(super) use devices::{ACC_MKNOD, ACC_READ, ACC_WRITE, DEFAULT_DEVICE_RULES};
pub(super) use v1::plan_v1;
pub(super) use v2::plan_v2;

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
