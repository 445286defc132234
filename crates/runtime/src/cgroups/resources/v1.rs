//! The cgroup v1 plan.

use oci_spec::runtime::LinuxResources;

use super::*;
use crate::cgroups::CgroupError;

/// The cgroup v1 writes for `res`, in order. `current` reads the container's present
/// values (to order the memory and memory+swap limits so that the kernel accepts both).
pub(in crate::cgroups) fn plan_v1(
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
